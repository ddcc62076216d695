#include <signal.h>
#include <string.h>

#include "bundle_cli.h"
#include "commands.h"
#include "remote_cli.h"

enum { OPT_SIGN_OMS = 256, OPT_OMS_SIGNATURE };

static const cli_option options[] = {
	{OPT_SIGN_OMS, "sign-oms", "KEY.pem",
	 "attach an OMS v1.0 signature made with this ECDSA key (keygen --oms) as a referrer"},
	{OPT_OMS_SIGNATURE, "oms-signature", "FILE",
	 "attach the OMS v1.0 signature in FILE (mreg sign's model.sig) as a referrer, as it is"},
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
	mreg_oms_key *oms_key = NULL;
	mreg_ref ref;
	cli_progress progress;
	const char *sign_oms = NULL, *oms_signature = NULL;
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_push, argc, argv, &arg)) != -1) {
		if (c == OPT_SIGN_OMS)
			sign_oms = arg;
		else if (c == OPT_OMS_SIGNATURE)
			oms_signature = arg;
		else
			cli_remote_option(&cmd_push, c, arg, &o, &json);
	}
	if (argc - optind != 2)
		return cli_usage_error(&cmd_push, "give a model and a registry reference: "
						  "NAME[:VERSION] HOST[:PORT]/REPOSITORY[:TAG]");
	if (sign_oms && oms_signature)
		return cli_usage_error(&cmd_push, "--sign-oms signs anew, --oms-signature attaches a "
						  "signature made before: give one of them");
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
	if (sign_oms && (status = cli_load_oms_key(&oms_key, sign_oms, NULL)))
		goto done;
	o.oms_key = oms_key;
	o.oms_signature = oms_signature;
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
		if (info.oms_signatures)
			printf("OMS v1.0 signature attached as a referrer (%s)\n",
			       info.referrers_api ? "the registry's referrers API"
						  : "fallback tag sha256-HEX of the manifest");
		status = EXIT_OK;
	}
done:
	mreg_oms_key_free(oms_key);
	mreg_record_free(rec);
	mreg_store_free(store);
	return status;
}

const cli_command cmd_push = {
	.name = "push",
	.usage = "NAME[:VERSION|@latest] HOST[:PORT][/REPOSITORY][:TAG] [--sign-oms KEY.pem] "
		 "[--plain-http] [--ca-file FILE]",
	.summary = "Upload a version to an OCI registry, as the artifact `mreg package` writes.",
	.details = "The manifest is the one `mreg package` puts in a bundle (same digest).\n"
		   "Blobs the registry has already are not sent again; the others stream from\n"
		   "the store; the manifest goes last, under TAG (default: the version), so the\n"
		   "tag never names an incomplete artifact. REPOSITORY follows the OCI\n"
		   "distribution spec: lowercase letters, digits and single separators (. _ __\n"
		   "-) between them, \"/\" between path components. Without REPOSITORY (HOST\n"
		   "alone, or HOST/NAMESPACE/), the model's name is used, lowercased.\n\n"
		   "With --sign-oms, an OMS v1.0 signature of the version (from its record,\n"
		   "nothing re-hashed) is pushed after the manifest as a referrer: a manifest\n"
		   "whose subject is the model's. A registry without the OCI referrers API\n"
		   "gets the fallback tag sha256-HEX (HEX of the model's manifest digest): an\n"
		   "image index listing the referrers, merged with what it listed before.\n"
		   "The OMS signatures the store keeps with the version (those import and\n"
		   "pull brought, see mreg-store(5)) are pushed the same way, byte for byte;\n"
		   "--sign-oms and --oms-signature add to them (the same bytes once).\n\n"
		   CLI_REMOTE_DETAILS,
	.options = options,
	.run = run,
};
