/* Diagnostics: formatting like a compiler, counting, sorting. */
#include <stdlib.h>
#include <string.h>

#include "mreg/diag.h"
#include "tap.h"

int main(void)
{
	mreg_diag_list *d = NULL;
	char *s;

	tap_is_int(mreg_diag_list_new(&d), 0, "new list");
	mreg_diag_add(d, MREG_DIAG_WARNING, "m/MLmodel", 9, 1, "mlflow-x", "late %d", 9);
	mreg_diag_add(d, MREG_DIAG_ERROR, "m/MLmodel", 2, 5, "mlflow-y", "early");
	mreg_diag_add(d, MREG_DIAG_NOTE, "m/MLmodel", 2, 5, "mlflow-z", "same place, later");
	mreg_diag_add(d, MREG_DIAG_ERROR, "a/file", 0, 0, "", "no place, no code");
	tap_is_int(mreg_diag_count(d), 4, "four diagnostics");
	tap_is_int(mreg_diag_count_severity(d, MREG_DIAG_ERROR), 2, "two errors");
	s = mreg_diag_format(mreg_diag_get(d, 0));
	tap_is_str(s, "m/MLmodel:9:1: warning: late 9 [mlflow-x]", "compiler-style line");
	free(s);
	s = mreg_diag_format(mreg_diag_get(d, 3));
	tap_is_str(s, "a/file: error: no place, no code", "no line, no code: omitted");
	free(s);
	mreg_diag_sort(d);
	tap_is_str(mreg_diag_get(d, 0)->file, "a/file", "sorted by file first");
	tap_is_str(mreg_diag_get(d, 1)->code, "mlflow-y", "then by line");
	tap_is_str(mreg_diag_get(d, 2)->code, "mlflow-z", "stable at the same place");
	tap_is_str(mreg_diag_get(d, 3)->code, "mlflow-x", "latest line last");
	tap_ok(mreg_diag_get(d, 4) == NULL, "out of range is NULL");
	mreg_diag_list_free(d);
	return tap_done();
}
