#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{OPT_JSON, "json", NULL, "print the store's path as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

static int run(int argc, char **argv)
{
	mreg_store *store = NULL;
	char *dir = NULL, *arg;
	const char *env = getenv("MREG_DIR");
	bool json = false;
	int c, rc, status = EXIT_OK;

	while ((c = cli_next_option(&cmd_init, argc, argv, &arg)) != -1)
		if (c == OPT_JSON)
			json = true;
	if (argc - optind > 1)
		return cli_usage_error(&cmd_init, "too many arguments");
	if (optind < argc) {
		if (asprintf(&dir, "%s/.mreg", argv[optind]) < 0)
			dir = NULL;
	}
	else if (cli_store_dir)
		dir = strdup(cli_store_dir);
	else if (env && env[0])
		dir = strdup(env);
	else if ((rc = mreg_store_default_dir(&dir, NULL)))
		return cli_fail(rc);
	if (!dir)
		return cli_fail(MREG_ENOMEM);
	rc = mreg_store_init(&store, dir);
	free(dir);
	if (rc)
		return cli_fail(rc);
	if (json)
		status = cli_print_json(json_pack("{s:s}", "store", mreg_store_path(store)));
	else
		printf("Initialized empty mreg store in %s\n", mreg_store_path(store));
	mreg_store_free(store);
	return status;
}

const cli_command cmd_init = {
	.name = "init",
	.usage = "[DIR] [--json]",
	.summary = "Create a store: DIR/.mreg, or .mreg at the git work-tree root (else ./.mreg).",
	.details = "--store DIR or $MREG_DIR name the store folder itself. The store holds\n"
		   "config.yaml and models/ (records, meant to be committed), blobs/ and tmp/\n"
		   "(kept out of git by the .gitignore init writes). See mreg-store(5).",
	.options = options,
	.run = run,
};
