/* archive and restore: one file, they differ by one flag. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{OPT_JSON, "json", NULL, "print the versions changed as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

static int run_state(const cli_command *cmd, int archived, int argc, char **argv)
{
	mreg_store *store = NULL;
	mreg_ref ref;
	size_t changed = 0;
	char *arg;
	bool json = false;
	int c, rc, status;

	while ((c = cli_next_option(cmd, argc, argv, &arg)) != -1)
		if (c == OPT_JSON)
			json = true;
	if (argc - optind != 1)
		return cli_usage_error(cmd, "give one model: NAME (every version) or NAME:VERSION");
	cli_parse_ref(cmd, &ref, argv[optind]);
	if (ref.latest) {
		mreg_ref_dispose(&ref);
		return cli_usage_error(cmd, "name the version (NAME:VERSION), or NAME for all of them");
	}
	if ((status = cli_open_store(&store))) {
		mreg_ref_dispose(&ref);
		return status;
	}
	if (ref.alias) {
		/* NAME@ALIAS is the version it names. */
		mreg_record *r = NULL;
		if ((rc = mreg_model_get(&r, store, argv[optind])) == 0 &&
		    !(ref.version = strdup(r->version)))
			rc = MREG_ENOMEM;
		mreg_record_free(r);
		if (rc) {
			status = cli_fail(rc);
			mreg_ref_dispose(&ref);
			mreg_store_free(store);
			return status;
		}
	}
	rc = mreg_model_set_archived(&changed, store, ref.name, ref.version, archived);
	if (rc) {
		status = cli_fail(rc);
	} else if (json) {
		/* "version": the one named, or null for every version of NAME. */
		status = cli_print_json(json_pack("{s:s, s:s?, s:b, s:I}", "name", ref.name,
						  "version", ref.version, "archived", archived,
						  "changed", (json_int_t)changed));
	} else if (ref.version) {
		printf("%s %s:%s%s\n", archived ? "archived" : "restored", ref.name, ref.version,
		       changed ? "" : archived ? " (it was archived already)" : " (it was not archived)");
	} else {
		printf("%s %zu version%s of %s\n", archived ? "archived" : "restored", changed,
		       changed == 1 ? "" : "s", ref.name);
	}
	mreg_ref_dispose(&ref);
	mreg_store_free(store);
	return status;
}

static int run_archive(int argc, char **argv)
{
	return run_state(&cmd_archive, 1, argc, argv);
}

static int run_restore(int argc, char **argv)
{
	return run_state(&cmd_restore, 0, argc, argv);
}

const cli_command cmd_archive = {
	.name = "archive",
	.usage = "NAME[:VERSION] [--json]",
	.summary = "Hide a version (or every version of NAME) from list and @latest.",
	.details = "Archived versions keep their files and can still be shown and downloaded\n"
		   "by NAME:VERSION; 'mreg list --archived' or '--all' lists them.",
	.options = options,
	.run = run_archive,
};

const cli_command cmd_restore = {
	.name = "restore",
	.usage = "NAME[:VERSION] [--json]",
	.summary = "Undo archive for a version (or every version of NAME).",
	.details = NULL,
	.options = options,
	.man_page = "archive", /* mreg-archive(1) describes both */
	.run = run_restore,
};
