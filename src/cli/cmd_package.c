#include <string.h>

#include "bundle_cli.h"
#include "commands.h"

enum { OPT_COMPRESS = 256, OPT_SIGN, OPT_SIGN_OMS, OPT_OMS_SIGNATURE, OPT_JSON, OPT_FORCE };

static const cli_option options[] = {
	{'o', "output", "FILE", "the bundle to write (.tar, .tar.gz or .tar.zst)"},
	{OPT_COMPRESS, "compress", "KIND", "none, gzip or zstd (default: by the file name)"},
	{OPT_SIGN, "sign", "SECRET_KEY", "sign with this minisign secret key (see keygen)"},
	{OPT_SIGN_OMS, "sign-oms", "KEY.pem",
	 "attach an OMS v1.0 signature made with this ECDSA key (keygen --oms) as a referrer"},
	{OPT_OMS_SIGNATURE, "oms-signature", "FILE",
	 "attach the OMS v1.0 signature in FILE (mreg sign's model.sig) as a referrer, as it is"},
	{OPT_FORCE, "force", NULL, "replace FILE (and FILE.minisig) if they exist"},
	{OPT_JSON, "json", NULL, "print what was written as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

/* -f was --force here; -f is --file (a model.yml) in the one grammar. */
static const cli_old_spelling old_spellings[] = {
	{'f', NULL, OPT_FORCE},
	{0},
};

static int run(int argc, char **argv)
{
	mreg_package_options o = MREG_PACKAGE_OPTIONS_INIT;
	mreg_bundle_info info;
	mreg_store *store = NULL;
	mreg_record *rec = NULL;
	mreg_secret_key *key = NULL;
	mreg_oms_key *oms_key = NULL;
	mreg_ref ref;
	cli_progress progress;
	const char *out = NULL, *sign = NULL, *sign_oms = NULL, *oms_signature = NULL;
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_package, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'o': out = arg; break;
		case OPT_FORCE: o.force = 1; break;
		case OPT_SIGN: sign = arg; break;
		case OPT_SIGN_OMS: sign_oms = arg; break;
		case OPT_OMS_SIGNATURE: oms_signature = arg; break;
		case OPT_JSON: json = true; break;
		case OPT_COMPRESS:
			if (mreg_compression_parse(&o.compression, arg))
				return cli_usage_error(&cmd_package, "%s", mreg_error_last());
			break;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_package, "give one model: NAME, NAME:VERSION or NAME@latest");
	if (!out)
		return cli_usage_error(&cmd_package, "give the bundle to write: -o FILE");
	if (sign_oms && oms_signature)
		return cli_usage_error(&cmd_package, "--sign-oms signs anew, --oms-signature attaches "
						     "a signature made before: give one of them");
	cli_parse_ref(&cmd_package, &ref, argv[optind]);
	mreg_ref_dispose(&ref);
	if ((status = cli_open_store(&store)))
		return status;
	if ((rc = mreg_model_get(&rec, store, argv[optind]))) {
		status = cli_fail(rc);
		goto done;
	}
	if (sign && (status = cli_load_secret_key(&key, sign)))
		goto done;
	o.sign_key = key;
	if (sign_oms && (status = cli_load_oms_key(&oms_key, sign_oms, NULL)))
		goto done;
	o.oms_key = oms_key;
	o.oms_signature = oms_signature;
	/* What a killed package of the same file left beside it. */
	if ((rc = mreg_package_litter_remove(out, cli_litter_note, "package"))) {
		status = cli_fail(rc);
		goto done;
	}
	cli_progress_init(&progress, "packaging");
	o.progress = cli_progress_cb;
	o.progress_ctx = &progress;
	rc = mreg_bundle_package(&info, store, rec, out, &o);
	cli_progress_done(&progress);
	if (rc) {
		status = cli_fail(rc);
		goto done;
	}
	if (json) {
		json_t *doc = cli_bundle_json(out, &info, rec);
		if (doc && key)
			json_object_set_new(doc, "sidecar_file",
					    json_pack("s++", out, ".minisig", ""));
		if (doc && oms_key)
			json_object_set_new(doc, "oms_key_hint",
					    json_string(mreg_oms_key_hint(oms_key)));
		status = cli_print_json(doc);
	} else {
		char size[32], bsize[32];
		cli_human_size(size, sizeof(size), rec->total_size);
		cli_human_size(bsize, sizeof(bsize), info.bundle_size);
		printf("packaged %s:%s into %s (%zu file%s, %s; bundle %s, %s)\n", rec->name,
		       rec->version, out, rec->file_count, rec->file_count == 1 ? "" : "s", size,
		       bsize, mreg_compression_name(info.compression));
		printf("manifest %s\n", info.manifest_digest);
		if (key)
			printf("signed by key %s: the manifest inside, the file in %s.minisig\n",
			       info.key_id, out);
		if (oms_key)
			printf("OMS v1.0 signature attached (a referrer of the manifest; key hint "
			       "%.16s…)\n", mreg_oms_key_hint(oms_key));
		if (oms_signature)
			printf("OMS v1.0 signature %s attached as it is (a referrer of the "
			       "manifest)\n", oms_signature);
		status = EXIT_OK;
	}
done:
	mreg_secret_key_free(key);
	mreg_oms_key_free(oms_key);
	mreg_record_free(rec);
	mreg_store_free(store);
	return status;
}

const cli_command cmd_package = {
	.name = "package",
	.usage = "NAME[:VERSION|@latest] -o FILE [--compress KIND] [--sign SECRET_KEY] "
		 "[--sign-oms KEY.pem] [--force]",
	.summary = "Write a version into one portable, reproducible bundle file.",
	.details = "The bundle is a tar of an OCI image layout holding a CNCF ModelPack model:\n"
		   "the record in the config, one layer per file (see mreg-bundle(5)). The\n"
		   "same version always gives the same bytes. Every blob is re-hashed as it is\n"
		   "written. With --sign, the manifest's signature goes inside the bundle and a\n"
		   "signature of the whole file goes to FILE.minisig, which 'minisign -Vm FILE\n"
		   "-p KEY.pub' accepts; an encrypted key's passphrase is read from the terminal\n"
		   "or from $MREG_KEY_PASSWORD.\n\n"
		   "With --sign-oms, an OpenSSF Model Signing (OMS v1.0) signature of the\n"
		   "version (its files' digests, nothing re-hashed) goes into the layout as a\n"
		   "referrer of the model manifest (artifactType\n"
		   "application/vnd.dev.sigstore.bundle.v0.3+json, listed in index.json), which\n"
		   "'verify FILE --pubkey KEY.pub.pem', 'import --pubkey' and, once pushed,\n"
		   "'pull --verify-key' check. ECDSA signatures are randomised: the model\n"
		   "manifest stays the same, the signature's blobs and index.json differ at\n"
		   "each run.\n\n"
		   "The OMS signatures the store keeps with the version (those import and\n"
		   "pull brought, see mreg-store(5)) are attached the same way, byte for byte,\n"
		   "sorted by digest; --sign-oms and --oms-signature add to them (the same\n"
		   "bytes once).",
	.options = options,
	.old_spellings = old_spellings,
	.run = run,
};
