/*
 * A program that uses libmreg: validate a model folder or file the way
 * `mreg validate` does, and print each diagnostic as a compiler would.
 *
 *   cc validate.c $(pkg-config --cflags --libs mreg) -o validate
 *   ./validate examples/churn-model
 *
 * Exit status: 0 valid, 1 invalid, 2 could not run. CI builds it against the
 * installed mreg.pc and against build/meson-uninstalled/mreg-uninstalled.pc.
 */
#include <stdio.h>
#include <stdlib.h>

#include <mreg.h>

int main(int argc, char **argv)
{
	mreg_diag_list *diags = NULL;
	const mreg_format *used = NULL;
	int status = 2;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH\n", argv[0]);
		return 2;
	}
	if (mreg_diag_list_new(&diags) < 0 ||
	    mreg_format_validate(NULL, argv[1], diags, &used) < 0) {
		fprintf(stderr, "validate: %s\n", mreg_error_last());
		goto done;
	}
	for (size_t i = 0; i < mreg_diag_count(diags); i++) {
		char *line = mreg_diag_format(mreg_diag_get(diags, i));
		if (line)
			fprintf(stderr, "%s\n", line);
		free(line);
	}
	status = mreg_diag_count_severity(diags, MREG_DIAG_ERROR) ? 1 : 0;
	printf("%s: %s, %s (libmreg %s)\n", argv[1], used->name, status ? "invalid" : "valid",
	       mreg_version_string());
done:
	mreg_diag_list_free(diags);
	return status;
}
