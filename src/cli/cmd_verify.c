#include <string.h>

#include "bundle_cli.h"
#include "commands.h"

enum { OPT_PUBKEY = 256, OPT_JSON };

static const cli_option options[] = {
	{OPT_PUBKEY, "pubkey", "PUBLIC_KEY", "also check the signatures with this key"},
	{OPT_JSON, "json", NULL, "print the result as JSON"},
	CLI_QUIET_OPTION,
	CLI_HELP_OPTION,
	{0},
};

static int run(int argc, char **argv)
{
	mreg_bundle_read_options o = MREG_BUNDLE_READ_OPTIONS_INIT;
	mreg_bundle_info info;
	mreg_record *rec = NULL;
	mreg_public_key *key = NULL;
	cli_progress progress;
	const char *pubkey = NULL, *file;
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_verify, argc, argv, &arg)) != -1) {
		switch (c) {
		case OPT_PUBKEY: pubkey = arg; break;
		case OPT_JSON: json = true; break;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_verify, "give one bundle file");
	file = argv[optind];
	if (pubkey && (status = cli_load_public_key(&key, pubkey)))
		return status;
	o.pubkey = key;
	cli_progress_init(&progress, "verifying");
	o.progress = cli_progress_cb;
	o.progress_ctx = &progress;
	rc = mreg_bundle_verify(&info, &rec, file, &o);
	cli_progress_done(&progress);
	if (json) {
		json_t *doc = rc ? json_object() : cli_bundle_json(file, &info, rec);
		if (doc) {
			json_object_set_new(doc, "ok", json_boolean(rc == 0));
			if (rc) {
				json_object_set_new(doc, "file", json_string(file));
				json_object_set_new(doc, "error", json_string(mreg_error_last()));
			}
		}
		status = cli_print_json(doc);
		if (rc)
			status = cli_fail_artifact(rc);
	} else if (rc) {
		status = cli_fail_artifact(rc);
	} else {
		char size[32];
		cli_human_size(size, sizeof(size), rec->total_size);
		/* Another tool's artifact may lack a name or version; its type is found on import. */
		printf("%s: OK: %s:%s (%s), %zu file%s, %s, every digest verified\n", file,
		       rec->name ? rec->name : "?", rec->version ? rec->version : "?",
		       rec->type ? rec->type : "ModelPack artifact", rec->file_count,
		       rec->file_count == 1 ? "" : "s", size);
		printf("manifest %s\n", info.manifest_digest);
		cli_print_signatures(file, &info, key != NULL);
		status = EXIT_OK;
	}
	mreg_public_key_free(key);
	mreg_record_free(rec);
	return status;
}

const cli_command cmd_verify = {
	.name = "verify",
	.usage = "FILE [--pubkey PUBLIC_KEY] [--json]",
	.summary = "Check a bundle's structure, every digest and its signatures; import nothing.",
	.details = "The same checks as 'mreg import', without a store. With --pubkey the bundle\n"
		   "must be signed by that key: the manifest's signature inside it and\n"
		   "FILE.minisig beside it are checked, whichever are present (at least one).\n"
		   "Exit status 1 when any check fails.",
	.options = options,
	.run = run,
};
