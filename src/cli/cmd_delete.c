#include "commands.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{OPT_JSON, "json", NULL, "print what was deleted as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

static int run(int argc, char **argv)
{
	mreg_store *store = NULL;
	mreg_ref ref;
	char *arg;
	bool json = false;
	int c, rc, status = EXIT_OK;

	while ((c = cli_next_option(&cmd_delete, argc, argv, &arg)) != -1)
		if (c == OPT_JSON)
			json = true;
	if (argc - optind != 1)
		return cli_usage_error(&cmd_delete, "give one model version: NAME:VERSION");
	cli_parse_ref(&cmd_delete, &ref, argv[optind]);
	if (!ref.version) {
		mreg_ref_dispose(&ref);
		return cli_usage_error(&cmd_delete, "'%s': name the version to delete (NAME:VERSION)",
				       argv[optind]);
	}
	if ((status = cli_open_store(&store))) {
		mreg_ref_dispose(&ref);
		return status;
	}
	rc = mreg_model_delete(store, ref.name, ref.version);
	if (rc)
		status = cli_fail(rc);
	else if (json)
		status = cli_print_json(
			json_pack("{s:s, s:s, s:b}", "name", ref.name, "version", ref.version, "deleted", 1));
	else
		printf("deleted %s:%s (its blobs stay until 'mreg gc')\n", ref.name, ref.version);
	mreg_ref_dispose(&ref);
	mreg_store_free(store);
	return status;
}

const cli_command cmd_delete = {
	.name = "delete",
	.usage = "NAME:VERSION [--json]",
	.summary = "Delete one version's record (local stores only; Azure ML has no delete).",
	.details = "Only the record goes; 'mreg gc' then frees the blobs no other version uses.",
	.options = options,
	.run = run,
};
