/*
 * Fuzz target for the protobuf text-format parser and Triton's schema
 * checker: whatever the bytes, parsing and checking must end cleanly
 * (no crash, no leak, no undefined behaviour), and a tree that checks
 * without errors must read back through the accessors.
 */
#include <stddef.h>
#include <stdint.h>

#include "mreg/error.h"
#include "triton/pbtxt.h"
#include "triton/triton_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(void *ctx, unsigned int line, unsigned int column, const char *msg)
{
	(void)line;
	(void)column;
	(void)msg;
	(*(size_t *)ctx)++;
}

/* Touch every value the way the validation rules read a config. */
static void walk(const pbtxt_msg *m, int depth)
{
	if (!m || depth > PBTXT_MAX_DEPTH)
		return;
	for (size_t i = 0; i < m->count; i++) {
		const pbtxt_field *f = &m->fields[i];
		for (size_t j = 0; j < f->count; j++)
			if (f->values[j].kind == PBTXT_MESSAGE)
				walk(f->values[j].msg, depth + 1);
		(void)ts_last(m, f->name);
		(void)ts_count(m, f->name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pbtxt_msg *m = NULL;
	pbtxt_error err;
	size_t errors = 0;
	/* Both ways in: with Triton's schema (as the plugin parses) and without. */
	int rc = size % 2 ? pbtxt_parse(&m, (const char *)data, size, &err)
	                  : pbtxt_parse_schema(&m, (const char *)data, size, &ts_pbtxt_schema, &err);

	if (rc == MREG_ENOMEM)
		return 0;
	ts_check(m, count, &errors);
	if (rc == 0 && errors == 0) {
		walk(m, 0);
		(void)ts_int(m, "max_batch_size");
		(void)ts_str(m, "name");
	}
	pbtxt_free(m);
	return 0;
}
