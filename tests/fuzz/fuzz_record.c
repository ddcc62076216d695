/*
 * Fuzz target for mreg's own YAML readers: the input is read as a record
 * (.mreg/models/NAME/VERSION.yaml) and as an Azure ML model.yml. Records come
 * through git from other people, so a hostile one must give an error, never
 * a crash, a hang or a leak. Invariant: a record that parses serialises.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mreg/registry.h"
#include "store/record_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	if (record_read_file(&r, path) == 0) {
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
