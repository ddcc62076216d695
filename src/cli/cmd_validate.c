#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "remote_cli.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{'t', "type", "TYPE", "check as this type (default: detected; types listed below)"},
	{OPT_JSON, "json", NULL, "print the result as JSON"},
	CLI_SOURCE_OPTIONS,
	CLI_COMMON_OPTIONS,
	{0},
};

static int run(int argc, char **argv)
{
	const mreg_format *format = NULL, *used = NULL;
	mreg_source_options so = MREG_SOURCE_OPTIONS_INIT;
	mreg_fetched *fetched = NULL;
	mreg_store *store = NULL;
	mreg_diag_list *diags = NULL;
	const char *path, *checked;
	char *folder = NULL;
	bool json = false;
	size_t errors, warnings;
	char *arg;
	int c, rc;

	while ((c = cli_next_option(&cmd_validate, argc, argv, &arg)) != -1) {
		if (cli_source_option(&cmd_validate, c, arg, &so))
			continue;
		if (c == OPT_JSON)
			json = true;
		if (c == 't' && !(format = mreg_format_find(arg)))
			return cli_unknown_type(&cmd_validate, arg);
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_validate, "give one model file or folder");
	path = argv[optind];
	/* The file that makes a folder a model stands for its folder: check that. */
	if (!mreg_source_is_remote(path) && (!format || strcmp(format->name, "custom_model"))) {
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		struct stat st;
		if ((!strcmp(base, "MLmodel") || !strcmp(base, "config.pbtxt")) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			folder = base == path ? strdup(".") : strndup(path, (size_t)(base - path - 1));
			if (!folder)
				return cli_fail(MREG_ENOMEM);
			if (!folder[0]) {
				free(folder);
				folder = strdup("/");
			}
			if (!cli_quiet)
				fprintf(stderr,
					"mreg: %s is the %s file of a model: checking its folder %s "
					"(give the folder, or -t custom_model for the file alone)\n",
					path, base, folder);
			path = folder;
		}
	}
	if (mreg_diag_list_new(&diags))
		return cli_fail(MREG_ENOMEM);
	/* A URL is fetched first (into the store's tmp/ when there is a store,
	 * whose config.yaml maps azureml datastores; else into $TMPDIR). */
	checked = path;
	if (mreg_source_is_remote(path)) {
		if (mreg_store_open(&store, cli_store_dir))
			mreg_error_clear();
		if ((rc = cli_source_fetch(&fetched, store, path, &so))) {
			mreg_diag_list_free(diags);
			mreg_store_free(store);
			return rc;
		}
		checked = mreg_fetched_path(fetched);
	}
	rc = mreg_format_validate(format, checked, diags, &used);
	/* Diagnostics name the fetched files under the URL (without secrets). */
	if (rc == 0 && fetched)
		rc = mreg_diag_rebase(diags, 0, checked, mreg_fetched_url(fetched));
	if (rc) {
		mreg_diag_list_free(diags);
		mreg_fetched_free(fetched);
		mreg_store_free(store);
		free(folder);
		return cli_fail(rc);
	}
	errors = mreg_diag_count_severity(diags, MREG_DIAG_ERROR);
	warnings = mreg_diag_count_severity(diags, MREG_DIAG_WARNING);
	if (fetched)
		path = mreg_fetched_url(fetched); /* no credentials, no query */
	if (json) {
		json_t *doc = json_pack("{s:o, s:s, s:b, s:I, s:I, s:o}", "path", cli_json_text(path), "type",
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
	mreg_fetched_free(fetched);
	mreg_store_free(store);
	free(folder);
	return errors ? EXIT_NO : EXIT_OK;
}

static const char details[] =
	"Each problem is printed like a compiler diagnostic:\n"
	"  FILE[:LINE:COL]: error|warning|note: MESSAGE [CODE]\n"
	"Exit status 1 when there is at least one error. Without -t, every type's plugin\n"
	"looks at PATH and the most confident one checks it. An MLmodel or config.pbtxt\n"
	"file stands for its folder, which is checked instead (with a note on stderr).\n"
	"PATH may be a URL, as for 'mreg create' (https://, wasbs://, azureml://datastores/):\n"
	"it is fetched to a temporary folder first, which is removed afterwards.";

const cli_command cmd_validate = {
	.name = "validate",
	.usage = "PATH|URL [-t TYPE] [--json]",
	.summary = "Check a model file or folder with its type's plugin; report every problem.",
	.details = details,
	.options = options,
	.lists_types = true,
	.run = run,
};
