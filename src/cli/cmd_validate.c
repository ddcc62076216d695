#include <string.h>

#include "commands.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{'t', "type", "TYPE", "check as this type (default: detected; types listed below)"},
	{OPT_JSON, "json", NULL, "print the result as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

static int run(int argc, char **argv)
{
	const mreg_format *format = NULL, *used = NULL;
	mreg_diag_list *diags = NULL;
	const char *path;
	bool json = false;
	size_t errors, warnings;
	char *arg;
	int c, rc;

	while ((c = cli_next_option(&cmd_validate, argc, argv, &arg)) != -1) {
		if (c == OPT_JSON)
			json = true;
		if (c == 't' && !(format = mreg_format_find(arg)))
			return cli_usage_error(&cmd_validate, "unknown model type '%s'", arg);
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_validate, "give one model file or folder");
	path = argv[optind];
	if (mreg_diag_list_new(&diags))
		return cli_fail(MREG_ENOMEM);
	rc = mreg_format_validate(format, path, diags, &used);
	if (rc) {
		mreg_diag_list_free(diags);
		return cli_fail(rc);
	}
	errors = mreg_diag_count_severity(diags, MREG_DIAG_ERROR);
	warnings = mreg_diag_count_severity(diags, MREG_DIAG_WARNING);
	if (json) {
		json_t *doc = json_pack("{s:s, s:s, s:b, s:I, s:I, s:o}", "path", path, "type",
					used->name, "valid", errors == 0, "errors",
					(json_int_t)errors, "warnings", (json_int_t)warnings,
					"diagnostics", cli_diags_json(diags));
		cli_print_json(doc);
	} else {
		cli_print_diags(diags, stdout);
		printf("%s: %s %s (%zu error%s, %zu warning%s)\n", path,
		       errors ? "invalid" : "valid", used->name, errors, errors == 1 ? "" : "s",
		       warnings, warnings == 1 ? "" : "s");
	}
	mreg_diag_list_free(diags);
	return errors ? EXIT_NO : EXIT_OK;
}

static const char details[] =
	"Each problem is printed like a compiler diagnostic:\n"
	"  FILE[:LINE:COL]: error|warning|note: MESSAGE [CODE]\n"
	"Exit status 1 when there is at least one error. Without -t, every type's plugin\n"
	"looks at PATH and the most confident one checks it.";

const cli_command cmd_validate = {
	.name = "validate",
	.usage = "PATH [-t TYPE] [--json]",
	.summary = "Check a model file or folder with its type's plugin; report every problem.",
	.details = details,
	.options = options,
	.lists_types = true,
	.run = run,
};
