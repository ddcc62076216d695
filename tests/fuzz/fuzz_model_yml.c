/*
 * Fuzz target for an Azure ML model.yml (`mreg create -f`, `mreg validate`):
 * the input is the file, read with and without values from the command line.
 * Invariants: no crash, no hang, no leak; a refusal leaves at least one
 * error, and every diagnostic has a code and a non-empty message (a file
 * that is refused says why).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mreg/error.h"
#include "mreg/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_one(const char *path, const mreg_model_yml_options *o)
{
	mreg_model_yml *y = NULL;
	mreg_diag_list *diags = NULL;
	int rc;

	if (mreg_diag_list_new(&diags))
		return;
	rc = o ? mreg_model_yml_read_with(&y, path, o, diags) : mreg_model_yml_read(&y, path, diags);
	if (rc == 0)
		mreg_model_yml_free(y);
	else if (rc == MREG_EINVALID && mreg_diag_count_severity(diags, MREG_DIAG_ERROR) == 0)
		abort(); /* refused without saying why */
	for (size_t i = 0; i < mreg_diag_count(diags); i++) {
		const mreg_diag *d = mreg_diag_get(diags, i);
		if (!d->code || !*d->code || !d->message || !*d->message)
			abort();
	}
	mreg_diag_list_free(diags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfd_create("model.yml", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		mreg_model_yml_options o = MREG_MODEL_YML_OPTIONS_INIT;
		o.name = "fuzz";
		o.model_version = "1";
		read_one(path, NULL);
		read_one(path, &o);
	}
	close(fd);
	return 0;
}
