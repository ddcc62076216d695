#include <string.h>

#include "bundle_cli.h"
#include "commands.h"

enum { OPT_PUBKEY = 256, OPT_JSON };

static const cli_option options[] = {
	{'n', "name", "NAME", "import under this name instead of the bundle's"},
	{'v', "version", "VERSION", "import as this version instead of the bundle's"},
	{OPT_PUBKEY, "pubkey", "PUBLIC_KEY",
	 "refuse the bundle unless this key signed it (minisign, or PEM: its OMS signature)"},
	{OPT_JSON, "json", NULL, "print what was imported as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

static int run(int argc, char **argv)
{
	mreg_bundle_read_options o = MREG_BUNDLE_READ_OPTIONS_INIT;
	mreg_bundle_info info;
	mreg_store *store = NULL;
	mreg_record *rec = NULL;
	mreg_public_key *key = NULL;
	cli_progress progress;
	const char *pubkey = NULL, *file;
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_import, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'n': o.name = arg; break;
		case 'v': o.model_version = arg; break;
		case OPT_PUBKEY: pubkey = arg; break;
		case OPT_JSON: json = true; break;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_import, "give one bundle file");
	file = argv[optind];
	if ((status = cli_check_rename(&cmd_import, o.name, o.model_version)))
		return status;
	if ((status = cli_bundle_pubkey(&o, &key, &pubkey)))
		return status;
	if ((status = cli_open_store(&store)))
		goto done;
	cli_progress_init(&progress, "importing");
	o.progress = cli_progress_cb;
	o.progress_ctx = &progress;
	rc = mreg_bundle_import(&info, &rec, store, file, &o);
	cli_progress_done(&progress);
	if (rc) {
		status = cli_fail_artifact(rc);
		goto done;
	}
	if (json) {
		json_t *doc = cli_bundle_json(file, &info, rec);
		if (doc) {
			json_object_set_new(doc, "imported", json_boolean(!info.unchanged));
			json_object_set_new(doc, "oms_kept", json_integer((json_int_t)info.oms_kept));
			json_object_set_new(doc, "oms_dropped",
					    json_integer((json_int_t)info.oms_dropped));
		}
		cli_warn_dropped_signatures(rec, info.oms_dropped, info.oms_dropped_why);
		status = cli_print_json(doc);
	} else {
		char size[32];
		cli_human_size(size, sizeof(size), rec->total_size);
		if (!info.unchanged && info.blobs_added)
			printf("%s:%s was in the store without its files: added %zu blob%s from %s "
			       "(every digest verified)\n",
			       rec->name, rec->version, info.blobs_added,
			       info.blobs_added == 1 ? "" : "s", file);
		else if (info.unchanged)
			printf("%s:%s is already in the store with the same content (%s)%s\n",
			       rec->name, rec->version, rec->digest,
			       info.oms_kept ? "" : ": nothing to do");
		else
			printf("imported %s:%s from %s (%zu file%s, %s, every digest verified)\n",
			       rec->name, rec->version, file, rec->file_count,
			       rec->file_count == 1 ? "" : "s", size);
		if (key)
			printf("signature by key %s verified\n", mreg_public_key_id(key));
		if (info.oms_verified)
			printf("OMS signature verified with %s (every file matches)\n", pubkey);
		cli_report_kept_signatures(rec, info.oms_kept, info.oms_dropped,
					   info.oms_dropped_why);
		status = EXIT_OK;
	}
done:
	mreg_public_key_free(key);
	mreg_record_free(rec);
	cli_close_store(store);
	return status;
}

const cli_command cmd_import = {
	.name = "import",
	.usage = "FILE [-n NAME] [-v VERSION] [--pubkey PUBLIC_KEY]",
	.summary = "Add the version a bundle holds to the store, checking every byte first.",
	.details = "Every blob's digest and size is checked against the manifest while it is\n"
		   "copied into the store's tmp/; nothing becomes visible before the whole\n"
		   "bundle passed. Hostile entries (paths leaving the folder, links, devices,\n"
		   "duplicates, size lies) are refused with the entry named. Importing a version\n"
		   "the store has with the same content does nothing; other content under an\n"
		   "existing NAME:VERSION is refused (use -v). With --pubkey the bundle must be\n"
		   "signed by that key (its manifest.minisig, or FILE.minisig beside it).\n\n"
		   "OMS signatures attached to the bundle are kept with the version\n"
		   "(signatures/ in the store, see mreg-store(5)) when they are OMS bundles of\n"
		   "exactly its files, whether or not a key was given; 'mreg package' and\n"
		   "'mreg push' attach them again. Others are dropped with a warning.",
	.options = options,
	.run = run,
};
