#include <signal.h>
#include <string.h>

#include "commands.h"
#include "remote_cli.h"

static const cli_option options[] = {
	CLI_REMOTE_OPTIONS,
	CLI_COMMON_OPTIONS,
	{0},
};

static int run(int argc, char **argv)
{
	mreg_remote_options o = MREG_REMOTE_OPTIONS_INIT;
	mreg_remote_info info;
	mreg_store *store = NULL;
	mreg_record *rec = NULL;
	mreg_ref ref;
	cli_progress progress;
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_push, argc, argv, &arg)) != -1)
		cli_remote_option(&cmd_push, c, arg, &o, &json);
	if (argc - optind != 2)
		return cli_usage_error(&cmd_push, "give a model and a registry reference: "
						  "NAME[:VERSION] HOST[:PORT]/REPOSITORY[:TAG]");
	cli_parse_ref(&cmd_push, &ref, argv[optind]);
	mreg_ref_dispose(&ref);
	/* A registry that closes the connection while we send must give an
	 * error, not kill us: libcurl is told not to touch signals. */
	signal(SIGPIPE, SIG_IGN);
	if ((status = cli_open_store(&store)))
		return status;
	if ((rc = mreg_model_get(&rec, store, argv[optind]))) {
		status = cli_fail(rc);
		goto done;
	}
	cli_progress_init(&progress, "pushing");
	o.progress = cli_progress_cb;
	o.progress_ctx = &progress;
	rc = mreg_push(&info, store, rec, argv[optind + 1], &o);
	cli_progress_done(&progress);
	if (rc) {
		status = cli_fail(rc);
		goto done;
	}
	if (json) {
		status = cli_print_json(cli_remote_json(&info, rec));
	} else {
		char size[32];
		cli_human_size(size, sizeof(size), info.bytes_moved);
		printf("pushed %s:%s to %s (%zu blob%s sent, %s", rec->name, rec->version,
		       info.reference, info.blobs_moved, info.blobs_moved == 1 ? "" : "s",
		       size);
		if (info.blobs > info.blobs_moved)
			printf("; %zu already there", info.blobs - info.blobs_moved);
		printf(")\n");
		printf("manifest %s\n", info.manifest_digest);
		status = EXIT_OK;
	}
done:
	mreg_record_free(rec);
	mreg_store_free(store);
	return status;
}

const cli_command cmd_push = {
	.name = "push",
	.usage = "NAME[:VERSION|@latest] HOST[:PORT][/REPOSITORY][:TAG] [--plain-http] [--ca-file FILE]",
	.summary = "Upload a version to an OCI registry, as the artifact `mreg package` writes.",
	.details = "The manifest is the one `mreg package` puts in a bundle (same digest).\n"
		   "Blobs the registry has already are not sent again; the others stream from\n"
		   "the store; the manifest goes last, under TAG (default: the version), so the\n"
		   "tag never names an incomplete artifact. REPOSITORY follows the OCI\n"
		   "distribution spec: lowercase letters, digits and single separators (. _ __\n"
		   "-) between them, \"/\" between path components. Without REPOSITORY (HOST\n"
		   "alone, or HOST/NAMESPACE/), the model's name is used, lowercased.\n\n"
		   CLI_REMOTE_DETAILS,
	.options = options,
	.run = run,
};
