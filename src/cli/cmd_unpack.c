#include <string.h>

#include "bundle_cli.h"
#include "commands.h"

enum { OPT_PUBKEY = 256, OPT_JSON };

static const cli_option options[] = {
	{'o', "output", "DIR", "folder to create (or an empty one) for model/ and model.yml"},
	{'n', "name", "NAME", "name to write in model.yml instead of the bundle's"},
	{'v', "version", "VERSION", "version to write in model.yml instead of the bundle's"},
	{OPT_PUBKEY, "pubkey", "PUBLIC_KEY",
	 "refuse the bundle unless this key signed it (minisign, or PEM: its OMS signature)"},
	{OPT_JSON, "json", NULL, "print what was written as JSON"},
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
	const char *pubkey = NULL, *out = NULL, *file;
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_unpack, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'o': out = arg; break;
		case 'n': o.name = arg; break;
		case 'v': o.model_version = arg; break;
		case OPT_PUBKEY: pubkey = arg; break;
		case OPT_JSON: json = true; break;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_unpack, "give one bundle file");
	if (!out)
		return cli_usage_error(&cmd_unpack, "give the folder to write: -o DIR");
	file = argv[optind];
	if ((status = cli_check_rename(&cmd_unpack, o.name, o.model_version)))
		return status;
	if ((status = cli_bundle_pubkey(&o, &key, &pubkey)))
		return status;
	cli_progress_init(&progress, "unpacking");
	o.progress = cli_progress_cb;
	o.progress_ctx = &progress;
	rc = mreg_bundle_unpack(&info, &rec, file, out, &o);
	cli_progress_done(&progress);
	if (rc) {
		status = cli_fail_artifact(rc);
		goto done;
	}
	if (json) {
		json_t *doc = cli_bundle_json(file, &info, rec);
		if (doc) {
			json_object_set_new(doc, "output", json_string(out));
			json_object_set_new(doc, "model_yml", json_pack("s+", out, "/model.yml"));
		}
		status = cli_print_json(doc);
	} else {
		char size[32];
		cli_human_size(size, sizeof(size), rec->total_size);
		printf("unpacked %s:%s into %s/model (%zu file%s, %s, every digest verified)\n",
		       rec->name, rec->version, out, rec->file_count, rec->file_count == 1 ? "" : "s",
		       size);
		if (key)
			printf("signature by key %s verified\n", mreg_public_key_id(key));
		if (info.oms_verified)
			printf("OMS signature verified with %s (every file matches)\n", pubkey);
		printf("register it in Azure ML with: az ml model create -f %s/model.yml\n", out);
		status = EXIT_OK;
	}
done:
	mreg_public_key_free(key);
	mreg_record_free(rec);
	return status;
}

const cli_command cmd_unpack = {
	.name = "unpack",
	.usage = "FILE -o DIR [-n NAME] [-v VERSION] [--pubkey PUBLIC_KEY]",
	.summary = "Write a bundle's model into DIR/model with an Azure ML DIR/model.yml.",
	.details = "No store is needed. DIR must not exist or be empty. The bundle is checked as\n"
		   "by 'mreg import' while it is unpacked into a staging folder beside DIR;\n"
		   "nothing appears in DIR unless every check passed. Files get their recorded\n"
		   "modes. DIR/model.yml (name, version, type, path: model, description, tags,\n"
		   "properties, stage) is ready for 'az ml model create -f DIR/model.yml'.",
	.options = options,
	.run = run,
};
