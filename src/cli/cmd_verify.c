#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "bundle_cli.h"
#include "commands.h"

enum { OPT_PUBKEY = 256, OPT_JSON, OPT_SIGNATURE, OPT_CHAIN, OPT_UNSIGNED, OPT_SCHEMA };

static const cli_option options[] = {
	{OPT_PUBKEY, "pubkey", "PUBLIC_KEY",
	 "the signer's public key: minisign's, or PEM for the OMS signature in the bundle or --signature"},
	{OPT_SIGNATURE, "signature", "SIG",
	 "check the OMS signature SIG (model.sig) against MODEL instead"},
	{OPT_CHAIN, "cert-chain", "CA.pem",
	 "with --signature: the certificates trusted for the certificate method"},
	{OPT_UNSIGNED, "ignore-unsigned-files", NULL,
	 "with --signature: accept files the signature does not list"},
	{OPT_SCHEMA, "schema-only", NULL,
	 "with --signature: check SIG against the OMS v1.0 schemas only (no key, no model)"},
	{OPT_JSON, "json", NULL, "print the result as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

static const char *method_name(mreg_oms_method m)
{
	return m == MREG_OMS_METHOD_KEY ? "key" : m == MREG_OMS_METHOD_CERTIFICATE ? "certificate"
										  : "sigstore";
}

static int oms_report(bool json, const char *sig, const char *model, int rc, size_t files,
		      const mreg_oms_bundle *b, const char *how)
{
	if (json) {
		json_t *doc = json_pack("{s:b, s:s, s:s?}", "ok", rc == 0, "signature", sig, "model", model);
		if (doc && b)
			json_object_set_new(doc, "method", json_string(method_name(mreg_oms_bundle_method(b))));
		if (doc && rc)
			json_object_set_new(doc, "error", json_string(mreg_error_last()));
		if (doc && !rc && model)
			json_object_set_new(doc, "files", json_integer((json_int_t)files));
		cli_print_json(doc);
		return rc ? cli_fail_artifact(rc) : EXIT_OK;
	}
	if (rc)
		return cli_fail_artifact(rc);
	if (!model)
		printf("%s: OMS v1.0 bundle, well-formed (%s method, %zu resource%s); the signature "
		       "and the files were not checked\n", sig, method_name(mreg_oms_bundle_method(b)),
		       mreg_oms_bundle_resource_count(b), mreg_oms_bundle_resource_count(b) == 1 ? "" : "s");
	else
		printf("%s: OK: %s matches the OMS signature (%s method), %zu file%s verified%s\n", sig,
		       model, method_name(mreg_oms_bundle_method(b)), files, files == 1 ? "" : "s", how);
	return EXIT_OK;
}

/* --signature: an OMS bundle against a folder, a file, a stored version or an mreg bundle. */
static int run_oms(const char *sig, const char *pubkey, const char *chain, bool unsigned_ok,
		   bool schema_only, bool json, const char *model)
{
	mreg_oms_verify_options vo = {.ignore_unsigned = unsigned_ok, .sig_path = sig};
	mreg_oms_bundle *b = NULL;
	mreg_store *store = NULL;
	mreg_record *rec = NULL;
	cli_progress progress;
	const char *how = "";
	size_t files = 0;
	int rc, status;

	if ((rc = mreg_oms_bundle_load(&b, sig)))
		return oms_report(json, sig, NULL, rc, 0, NULL, NULL);
	if (schema_only) {
		status = oms_report(json, sig, NULL, 0, 0, b, NULL);
		mreg_oms_bundle_free(b);
		return status;
	}
	if ((rc = mreg_oms_bundle_check(b, pubkey, chain))) {
		status = oms_report(json, sig, model, rc, 0, b, NULL);
		if (rc == MREG_EINVALID)
			status = EXIT_ERROR; /* the key or chain given does not fit: a usage problem */
		mreg_oms_bundle_free(b);
		return status;
	}
	if (cli_operand_is_path(model)) {
		struct stat st;
		const char *base = strrchr(model, '/');
		bool single = stat(model, &st) == 0 && S_ISREG(st.st_mode) &&
			      mreg_oms_bundle_resource_count(b) == 1 &&
			      !strcmp(mreg_oms_bundle_resource_name(b, 0), base ? base + 1 : model);
		/* A file the signature names is a one-file model; any other file is a bundle. */
		if (single) {
			rc = mreg_oms_verify_path(&files, b, model, &vo);
		} else if (stat(model, &st) == 0 && S_ISREG(st.st_mode)) {
			mreg_bundle_read_options o = MREG_BUNDLE_READ_OPTIONS_INIT;
			mreg_bundle_info info;
			cli_progress_init(&progress, "verifying");
			o.progress = cli_progress_cb;
			o.progress_ctx = &progress;
			rc = mreg_bundle_verify(&info, &rec, model, &o);
			cli_progress_done(&progress);
			if (!rc)
				rc = mreg_oms_verify_record(&files, b, rec, &vo);
			how = " (the bundle's every digest checked too)";
		} else {
			cli_progress_init(&progress, "hashing");
			vo.progress = cli_progress_cb;
			vo.progress_ctx = &progress;
			rc = mreg_oms_verify_path(&files, b, model, &vo);
			cli_progress_done(&progress);
		}
	} else {
		mreg_ref ref;
		cli_parse_ref(&cmd_verify, &ref, model);
		mreg_ref_dispose(&ref);
		if ((status = cli_open_store(&store))) {
			mreg_oms_bundle_free(b);
			return status;
		}
		if (!(rc = mreg_model_get(&rec, store, model)))
			rc = mreg_oms_verify_record(&files, b, rec, &vo);
		else if (rc == MREG_ENOTFOUND)
			rc = MREG_EINVALID; /* not a negative answer about the signature */
		how = " (digests from the store's record; 'mreg fsck' checks the blobs)";
	}
	status = oms_report(json, sig, model, rc, files, b, how);
	if (rc == MREG_EINVALID && !rec && store)
		status = EXIT_ERROR;
	mreg_record_free(rec);
	mreg_store_free(store);
	mreg_oms_bundle_free(b);
	return status;
}

/* NAME:VERSION with --pubkey and no --signature: the OMS signatures the store keeps with it. */
static int run_kept(const char *pubkey, bool json, const char *model)
{
	mreg_store *store = NULL;
	mreg_record *rec = NULL;
	mreg_kept_signature *list = NULL;
	size_t n = 0, files = 0;
	const mreg_kept_signature *ok = NULL;
	char why[1024] = "";
	mreg_ref ref;
	int rc, status;

	cli_parse_ref(&cmd_verify, &ref, model);
	mreg_ref_dispose(&ref);
	/* A key that cannot be read is a usage problem, not a failed check. */
	if (access(pubkey, R_OK) != 0) {
		cli_error("%s: %s", pubkey, strerror(errno));
		return EXIT_ERROR;
	}
	if ((status = cli_open_store(&store)))
		return status;
	if ((rc = mreg_model_get(&rec, store, model)) ||
	    (rc = mreg_kept_signatures_list(&list, &n, store, rec))) {
		status = cli_fail(rc);
		goto done;
	}
	for (size_t i = 0; i < n && !ok; i++) {
		mreg_oms_bundle *b = NULL;
		mreg_oms_verify_options vo = {0};
		size_t used = strlen(why);
		if (list[i].problem) {
			snprintf(why + used, sizeof(why) - used, "%s%s", used ? "; " : "", list[i].problem);
			continue;
		}
		if (!(rc = mreg_oms_bundle_load(&b, list[i].path)) &&
		    !(rc = mreg_oms_bundle_check(b, pubkey, NULL)))
			rc = mreg_oms_verify_record(&files, b, rec, &vo);
		if (rc == MREG_EINVALID && b && mreg_oms_bundle_method(b) == MREG_OMS_METHOD_KEY) {
			/* The key file itself cannot be read: a usage problem, said as is. */
			mreg_oms_bundle_free(b);
			status = cli_fail(rc);
			goto done;
		}
		mreg_oms_bundle_free(b);
		if (rc == 0)
			ok = &list[i];
		else
			snprintf(why + used, sizeof(why) - used, "%s%s: %s", used ? "; " : "",
				 list[i].digest, mreg_error_last());
	}
	char msg[1400];
	if (n == 0)
		snprintf(msg, sizeof(msg),
			 "%s:%s: no OMS signature is kept with it (verify --signature FILE checks "
			 "one by hand)",
			 rec->name, rec->version);
	else
		snprintf(msg, sizeof(msg), "%s:%s: none of its %zu kept OMS signature%s verifies "
			 "with %s: %s",
			 rec->name, rec->version, n, n == 1 ? "" : "s", pubkey, why);
	if (json) {
		json_t *doc = json_pack("{s:b, s:s, s:i}", "ok", ok != NULL, "model", model, "kept",
					(int)n);
		if (doc && ok) {
			json_object_set_new(doc, "signature", json_string(ok->digest));
			json_object_set_new(doc, "files", json_integer((json_int_t)files));
		}
		if (doc && !ok)
			json_object_set_new(doc, "error", json_string(msg));
		status = cli_print_json(doc);
	}
	if (!ok) {
		cli_error("%s", msg);
		status = EXIT_NO;
	} else if (!json) {
		printf("%s:%s: OK: kept OMS signature %s verifies with %s, %zu file%s verified "
		       "(digests from the store's record; 'mreg fsck' checks the blobs)\n",
		       rec->name, rec->version, ok->digest, pubkey, files, files == 1 ? "" : "s");
		status = EXIT_OK;
	}
done:
	mreg_kept_signatures_free(list, n);
	mreg_record_free(rec);
	mreg_store_free(store);
	return status;
}

static int run(int argc, char **argv)
{
	mreg_bundle_read_options o = MREG_BUNDLE_READ_OPTIONS_INIT;
	mreg_bundle_info info;
	mreg_record *rec = NULL;
	mreg_public_key *key = NULL;
	cli_progress progress;
	const char *pubkey = NULL, *file, *sig = NULL, *chain = NULL;
	bool json = false, unsigned_ok = false, schema_only = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_verify, argc, argv, &arg)) != -1) {
		switch (c) {
		case OPT_PUBKEY: pubkey = arg; break;
		case OPT_JSON: json = true; break;
		case OPT_SIGNATURE: sig = arg; break;
		case OPT_CHAIN: chain = arg; break;
		case OPT_UNSIGNED: unsigned_ok = true; break;
		case OPT_SCHEMA: schema_only = true; break;
		}
	}
	if (!sig && (chain || unsigned_ok || schema_only))
		return cli_usage_error(&cmd_verify, "--cert-chain, --ignore-unsigned-files and "
				       "--schema-only go with --signature SIG (an OMS signature)");
	if (sig && schema_only) {
		if (argc - optind != 0)
			return cli_usage_error(&cmd_verify, "--schema-only checks SIG alone: no MODEL");
		return run_oms(sig, NULL, NULL, false, true, json, NULL);
	}
	if (sig) {
		if (argc - optind != 1)
			return cli_usage_error(&cmd_verify, "give one model: a folder, a file, a "
					       "bundle or NAME:VERSION");
		if (!pubkey == !chain)
			return cli_usage_error(&cmd_verify, "give the signer: --pubkey KEY.pem (key "
					       "method) or --cert-chain CA.pem (certificate method)");
		return run_oms(sig, pubkey, chain, unsigned_ok, false, json, argv[optind]);
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_verify, "give one bundle file, or NAME:VERSION with --pubkey");
	file = argv[optind];
	/* Not a file here: a stored version with --pubkey. Without one, a
	 * NAME:VERSION is a usage error, anything else a bundle that is not
	 * there (exit status 1, as for any bundle that cannot be read). */
	if (!cli_operand_is_path(file) && (pubkey || strchr(file, ':'))) {
		if (!pubkey)
			return cli_usage_error(&cmd_verify, "'%s' is not a file: a stored version "
					       "(NAME:VERSION) is checked against its kept OMS "
					       "signatures with --pubkey KEY.pem", file);
		return run_kept(pubkey, json, file);
	}
	/* A PEM (or DER) key checks the OMS signature attached to the bundle. */
	if ((status = cli_bundle_pubkey(&o, &key, &pubkey)))
		return status;
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
		cli_print_signatures(file, &info, key != NULL, o.oms_key_count > 0);
		status = EXIT_OK;
	}
	mreg_public_key_free(key);
	mreg_record_free(rec);
	return status;
}

const cli_command cmd_verify = {
	.name = "verify",
	.usage = "FILE [--pubkey PUBLIC_KEY] [--json]  |  NAME:VERSION --pubkey KEY.pem [--json]  |  --signature SIG (--pubkey KEY.pem | "
		 "--cert-chain CA.pem) [--ignore-unsigned-files] [--json] MODEL  |  --signature SIG "
		 "--schema-only",
	.summary = "Check a bundle, or an OMS signature of a model; import nothing.",
	.details = "Without --signature: the same checks as 'mreg import', without a store.\n"
		   "With --pubkey (a minisign key) the bundle must be signed by that key: the\n"
		   "manifest's signature inside it and FILE.minisig beside it are checked,\n"
		   "whichever are present (at least one). With a PEM (or DER) public key the\n"
		   "OMS signature attached to the bundle ('package --sign-oms') must verify\n"
		   "with it and match the bundle's files.\n\n"
		   "With --signature SIG: SIG is an OpenSSF Model Signing (OMS v1.0) signature\n"
		   "('mreg sign', 'model_signing sign'), checked against the schemas, then its\n"
		   "ECDSA signature with --pubkey (a PEM public key) or its certificate chain\n"
		   "with --cert-chain, then every file of MODEL: a folder or file, an mreg\n"
		   "bundle (all its digests checked too) or a stored version (NAME:VERSION).\n"
		   "A file missing, changed or not signed fails. Keyless ('sigstore' method)\n"
		   "signatures are refused: they need the network.\n\n"
		   "NAME:VERSION with --pubkey KEY.pem and no --signature: the OMS signatures\n"
		   "the store keeps with the version (those import and pull brought, see\n"
		   "mreg-store(5)) are checked; it passes when one verifies with the key and\n"
		   "matches every file of the record, and says which.\n"
		   "Exit status 1 when any check fails.",
	.options = options,
	.run = run,
};
