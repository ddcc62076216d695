#include <signal.h>
#include <string.h>

#include <stdlib.h>

#include "commands.h"
#include "remote_cli.h"

enum { OPT_VERIFY_KEY = 256 };
#define VERIFY_KEYS_MAX 16

static const cli_option options[] = {
	{'n', "name", "NAME", "register under this name instead of the pushed one"},
	{'v', "version", "VERSION", "register as this version instead of the pushed one"},
	{OPT_VERIFY_KEY, "verify-key", "KEY.pem",
	 "land the version only if its OMS signature verifies with this PEM public key "
	 "(repeatable)"},
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
	cli_progress progress;
	const char *keys[VERIFY_KEYS_MAX];
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_pull, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'n': o.name = arg; break;
		case 'v': o.model_version = arg; break;
		case OPT_VERIFY_KEY:
			if (o.oms_key_count == VERIFY_KEYS_MAX)
				return cli_usage_error(&cmd_pull, "at most %d --verify-key",
						       VERIFY_KEYS_MAX);
			keys[o.oms_key_count++] = arg;
			break;
		default: cli_remote_option(&cmd_pull, c, arg, &o, &json);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_pull, "give one registry reference: "
						  "HOST[:PORT]/REPOSITORY:TAG or "
						  "HOST[:PORT]/REPOSITORY@sha256:DIGEST");
	if ((status = cli_check_rename(&cmd_pull, o.name, o.model_version)))
		return status;
	o.oms_keys = keys;
	/* A registry that closes the connection while we send must give an
	 * error, not kill us: libcurl is told not to touch signals. */
	signal(SIGPIPE, SIG_IGN);
	if ((status = cli_open_store(&store)))
		return status;
	cli_progress_init(&progress, "pulling");
	o.progress = cli_progress_cb;
	o.progress_ctx = &progress;
	rc = mreg_pull(&info, &rec, store, argv[optind], &o);
	cli_progress_done(&progress);
	if (rc) {
		status = cli_fail(rc);
		goto done;
	}
	if (json) {
		json_t *doc = cli_remote_json(&info, rec);
		if (doc) {
			json_object_set_new(doc, "oms_kept", json_integer((json_int_t)info.oms_kept));
			json_object_set_new(doc, "oms_dropped",
					    json_integer((json_int_t)info.oms_dropped));
		}
		cli_warn_dropped_signatures(rec, info.oms_dropped, info.oms_dropped_why);
		status = cli_print_json(doc);
	} else {
		char size[32];
		cli_human_size(size, sizeof(size), info.bytes_moved);
		if (info.unchanged)
			printf("%s:%s is already in the store with the same content (manifest %s)%s\n",
			       rec->name, rec->version, info.manifest_digest,
			       info.oms_kept ? "" : ": nothing to do");
		else
			printf("pulled %s:%s from %s (%zu file%s; %zu blob%s fetched, %s%s; every "
			       "digest verified)\n",
			       rec->name, rec->version, argv[optind], rec->file_count,
			       rec->file_count == 1 ? "" : "s", info.blobs_moved,
			       info.blobs_moved == 1 ? "" : "s", size,
			       info.blobs_resumed ? ", resumed" : "");
		if (info.oms_verified)
			printf("OMS signature verified (%zu found, %s), every file matches\n",
			       info.oms_signatures,
			       info.referrers_api ? "referrers API" : "fallback tag");
		cli_report_kept_signatures(rec, info.oms_kept, info.oms_dropped,
					   info.oms_dropped_why);
		status = EXIT_OK;
	}
done:
	mreg_record_free(rec);
	cli_close_store(store);
	return status;
}

const cli_command cmd_pull = {
	.name = "pull",
	.usage = "HOST[:PORT]/REPOSITORY{:TAG|@sha256:DIGEST} [-n NAME] [-v VERSION] "
		 "[--verify-key KEY.pem]... [--plain-http]",
	.summary = "Fetch a version from an OCI registry and register it, verifying every byte.",
	.details = "Every blob's digest is checked while it streams into the store's tmp/;\n"
		   "nothing becomes visible until all have been verified. A blob cut off is\n"
		   "continued where it stopped (HTTP Range) by the next attempt or the next\n"
		   "pull. Blobs the store has are not fetched; a pull by digest of a version\n"
		   "the store holds transfers nothing. The artifact must be an mreg model (as\n"
		   "pushed by mreg push, or a bundle copied with skopeo or oras).\n\n"
		   "With --verify-key (or the store's config.yaml verify.oms_keys), the OMS\n"
		   "signatures attached to the manifest are fetched (the referrers API, else\n"
		   "the fallback tag sha256-HEX) and the version lands only when one of them\n"
		   "verifies with one of the keys and matches every file; otherwise nothing\n"
		   "changes in the store (exit 1).\n\n"
		   "With or without a key, the OMS signatures attached to the manifest are\n"
		   "kept with the version (signatures/ in the store, see mreg-store(5)) when\n"
		   "they are OMS bundles of exactly its files; 'mreg push' and 'mreg package'\n"
		   "attach them again. Others are dropped with a warning.\n\n"
		   CLI_REMOTE_DETAILS,
	.options = options,
	.run = run,
};
