/*
 * Fuzz target for mreg's own YAML readers: the input is read as a record
 * (.mreg/models/NAME/VERSION.yaml) and as an Azure ML model.yml. Records come
 * through git from other people, so a hostile one must give an error, never
 * a crash, a hang or a leak. Invariants: a record that parses serialises; the
 * streaming reader (record_stream_file(), what fsck and gc use) agrees with
 * the whole-record reader: the same result, the same error message, and the
 * same files in the same order.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mreg/error.h"
#include "mreg/registry.h"
#include "store/record_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
	const mreg_record *whole; /* NULL when the whole-record reader refused it */
	size_t seen;
} streamed;

static int compare_file(void *ctx, const mreg_file *f)
{
	streamed *st = ctx;
	const mreg_file *w;

	if (!f || !st->whole)
		return 0;
	if (st->seen >= st->whole->file_count)
		abort(); /* more files than the whole record has */
	w = &st->whole->files[st->seen++];
	if (strcmp(w->path, f->path) || w->size != f->size || w->mode != f->mode ||
	    strcmp(w->digest, f->digest))
		abort();
	return 0;
}

/* The streaming reader must say what the whole-record reader said. */
static void check_stream(const char *path, int whole_rc, const char *whole_msg,
			 const mreg_record *whole)
{
	streamed st = {whole_rc == 0 ? whole : NULL, 0};
	mreg_record *r = NULL;
	int rc = record_stream_file(&r, path, compare_file, &st);

	if (rc != whole_rc || (rc && strcmp(mreg_error_last(), whole_msg)))
		abort();
	if (rc == 0 && (st.seen != whole->file_count || r->total_size != whole->total_size ||
			r->dir_count != whole->dir_count || r->link_count != whole->link_count))
		abort();
	mreg_record_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	mreg_record *r = NULL;
	mreg_model_yml *y = NULL;
	mreg_diag_list *diags = NULL;
	int fd = memfd_create("mreg-fuzz", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int rc = record_read_file(&r, path);
	char *msg = strdup(rc ? mreg_error_last() : "");

	if (msg && rc != MREG_ENOMEM)
		check_stream(path, rc, msg, r);
	free(msg);
	if (rc == 0) {
		char *yaml = NULL, *json = NULL;
		size_t len = 0;
		if (record_to_yaml(&yaml, &len, r) != 0 && r->format_json == NULL)
			abort(); /* a record we read must be writable again */
		if (mreg_record_to_json(&json, r) != 0)
			abort();
		free(yaml);
		free(json);
		mreg_record_free(r);
	}
	if (mreg_diag_list_new(&diags) == 0) {
		if (mreg_model_yml_read(&y, path, diags) == 0)
			mreg_model_yml_free(y);
		mreg_diag_list_free(diags);
	}
	close(fd);
	return 0;
}
