/* archive and restore: one file, they differ by one flag. */
#include "commands.h"

static const cli_option options[] = {
	CLI_COMMON_OPTIONS,
	{0},
};

static int run_state(const cli_command *cmd, int archived, int argc, char **argv)
{
	mreg_store *store = NULL;
	mreg_ref ref;
	size_t changed = 0;
	char *arg;
	int rc, status;

	while (cli_next_option(cmd, argc, argv, &arg) != -1)
		;
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
	rc = mreg_model_set_archived(&changed, store, ref.name, ref.version, archived);
	if (rc) {
		status = cli_fail(rc);
	} else if (ref.version) {
		printf("%s %s:%s%s\n", archived ? "archived" : "restored", ref.name, ref.version,
		       changed ? "" : archived ? " (it was archived already)" : " (it was not archived)");
	} else {
		printf("%s %zu version%s of %s\n", archived ? "archived" : "restored", changed,
		       changed == 1 ? "" : "s", ref.name);
	}
	mreg_ref_dispose(&ref);
	cli_close_store(store);
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
	.usage = "NAME[:VERSION]",
	.summary = "Hide a version (or every version of NAME) from list and @latest.",
	.details = "Archived versions keep their files and can still be shown and downloaded\n"
		   "by NAME:VERSION; 'mreg list --archived' or '--all' lists them.",
	.options = options,
	.run = run_archive,
};

const cli_command cmd_restore = {
	.name = "restore",
	.usage = "NAME[:VERSION]",
	.summary = "Undo archive for a version (or every version of NAME).",
	.details = NULL,
	.options = options,
	.man_page = "archive", /* mreg-archive(1) describes both */
	.run = run_restore,
};
