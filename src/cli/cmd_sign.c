#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bundle_cli.h"
#include "commands.h"

enum { OPT_KEY = 256, OPT_CHAIN, OPT_IGNORE, OPT_NO_KEEP, OPT_JSON };

static const cli_option options[] = {
	{OPT_KEY, "key", "KEY.pem", "the ECDSA private key (PEM; P-256, P-384 or P-521)"},
	{'o', "output", "FILE",
	 "where to write the signature (a folder's default: model.sig; a stored version's: none, "
	 "the signature is kept)"},
	{OPT_NO_KEEP, "no-keep", NULL,
	 "a stored version: only write the file (-o, default model.sig), keep nothing in the store"},
	{OPT_CHAIN, "cert-chain", "CHAIN.pem",
	 "sign by the certificate method: the leaf certificate (holding the key), then its CAs"},
	{OPT_IGNORE, "ignore-path", "PATH", "also leave PATH out (relative to the model; repeatable)"},
	{OPT_JSON, "json", NULL, "print the result as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

/* A path that exists is a folder or file to sign; anything else names a stored version. */
bool cli_operand_is_path(const char *text)
{
	struct stat st;
	return strchr(text, '/') || lstat(text, &st) == 0;
}

int cli_load_oms_key(mreg_oms_key **out, const char *path, const char *chain)
{
	char pass[1024];
	int encrypted = 0, rc, status;

	if ((rc = mreg_oms_key_encrypted(&encrypted, path))) {
		cli_fail(rc);
		return EXIT_ERROR;
	}
	if (encrypted && (status = cli_passphrase(pass, sizeof(pass), "Passphrase of the key: ", false)))
		return status;
	rc = mreg_oms_key_load(out, path, encrypted ? pass : NULL, chain);
	explicit_bzero(pass, sizeof(pass));
	if (rc) {
		cli_fail(rc);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* The lines that say how to check what was signed. */
static void print_checks(const char *file, const char *target, bool chain, bool kept)
{
	const char *lead = "checked by ";

	if (kept && !chain) {
		printf("%s mreg verify --pubkey KEY.pub %s\n", lead, target);
		lead = "       and ";
	}
	if (file)
		printf("%s mreg verify --signature %s %s %s %s\n", lead, file,
		       chain ? "--cert-chain" : "--pubkey", chain ? "CA.pem" : "KEY.pub", target);
}

static int run(int argc, char **argv)
{
	mreg_oms_sign_options o = {0};
	mreg_oms_sign_result res = {0};
	mreg_kept_signature_added kept = {0};
	mreg_oms_key *key = NULL;
	mreg_store *store = NULL;
	mreg_record *rec = NULL;
	cli_progress progress;
	const char *keyfile = NULL, *chain = NULL, *out = NULL, *target;
	const char **ignores = NULL;
	bool json = false, is_path, keep = true;
	struct timespec t0, t1;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_sign, argc, argv, &arg)) != -1) {
		switch (c) {
		case OPT_KEY: keyfile = arg; break;
		case 'o': out = arg; break;
		case OPT_CHAIN: chain = arg; break;
		case OPT_NO_KEEP: keep = false; break;
		case OPT_JSON: json = true; break;
		case OPT_IGNORE: {
			const char **p = realloc(ignores, (o.ignore_count + 1) * sizeof(*p));
			if (!p) {
				cli_error("out of memory");
				free(ignores);
				return EXIT_ERROR;
			}
			ignores = p;
			ignores[o.ignore_count++] = arg;
			break;
		}
		}
	}
	o.ignore_paths = ignores;
	if (argc - optind != 1) {
		free(ignores);
		return cli_usage_error(&cmd_sign, "give one model: a folder, a file, or NAME:VERSION");
	}
	if (!keyfile) {
		free(ignores);
		return cli_usage_error(&cmd_sign, "give the signing key: --key KEY.pem");
	}
	target = argv[optind];
	is_path = cli_operand_is_path(target);
	if (is_path)
		keep = false; /* a folder has no store to keep it in */
	if (!out && !keep)
		out = MREG_OMS_DEFAULT_FILE;
	if (!is_path) {
		mreg_ref ref;
		cli_parse_ref(&cmd_sign, &ref, target);
		mreg_ref_dispose(&ref);
	}
	if ((status = cli_load_oms_key(&key, keyfile, chain)))
		goto done;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (is_path) {
		cli_progress_init(&progress, "hashing");
		o.progress = cli_progress_cb;
		o.progress_ctx = &progress;
		rc = mreg_oms_sign_path(&res, key, target, out, &o);
		cli_progress_done(&progress);
	} else {
		if ((status = cli_open_store(&store)))
			goto done;
		if ((rc = mreg_model_get(&rec, store, target))) {
			status = cli_fail(rc);
			goto done;
		}
		if (keep)
			rc = mreg_kept_signatures_sign(&res, &kept, store, key, rec, out, &o);
		else
			rc = mreg_oms_sign_record(&res, key, rec, out, &o);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		status = cli_fail(rc);
		/* Signed, but the store cannot keep it (the limit): say what is left to do. */
		if (keep && rc == MREG_EINVALID && res.file_count && !cli_quiet) {
			if (out)
				fprintf(stderr, "mreg: note: %s was not written either; ", out);
			else
				fprintf(stderr, "mreg: note: ");
			fprintf(stderr, "--no-keep writes the signature to a file without keeping it\n");
		}
		goto done;
	}
	{
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		char what[512];
		if (rec)
			snprintf(what, sizeof(what), "%s:%s", rec->name, rec->version);
		else
			snprintf(what, sizeof(what), "%s", target);
		if (json) {
			json_t *k = keep ? json_pack("{s:s, s:b, s:I}", "digest", kept.digest, "added",
						     kept.added, "count", (json_int_t)kept.count)
					 : json_null();
			status = cli_print_json(json_pack(
				"{s:s?, s:o, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:f}", "signature",
				out, "kept", k, "model", what, "method", chain ? "certificate" : "key",
				"curve", mreg_oms_key_curve(key), "key_hint", mreg_oms_key_hint(key),
				"format", "OMS v1.0", "files", (json_int_t)res.file_count, "root_digest",
				res.root_digest, "hashed_bytes", (json_int_t)res.hashed_bytes,
				"milliseconds", ms));
		} else {
			char detail[256];
			snprintf(detail, sizeof(detail), "%zu file%s, %s method, %s key %.16s...",
				 res.file_count, res.file_count == 1 ? "" : "s",
				 chain ? "certificate" : "key", mreg_oms_key_curve(key),
				 mreg_oms_key_hint(key));
			if (out)
				printf("wrote %s: OMS v1.0 signature of %s (%s)\n", out, what, detail);
			else
				printf("signed %s: OMS v1.0 signature (%s)\n", what, detail);
			if (keep)
				printf("%s with %s as %.19s... (it keeps %zu OMS signature%s; package and "
				       "push attach %s)\n",
				       kept.added ? "kept" : "kept already", what, kept.digest,
				       kept.count, kept.count == 1 ? "" : "s",
				       kept.count == 1 ? "it" : "them");
			if (rec)
				printf("digests taken from the store's record, nothing re-hashed (%.1f ms)\n", ms);
			print_checks(out, target, chain != NULL, keep);
			status = EXIT_OK;
		}
	}
done:
	free(ignores);
	mreg_oms_key_free(key);
	mreg_record_free(rec);
	cli_close_store(store);
	return status;
}

const cli_command cmd_sign = {
	.name = "sign",
	.usage = "MODEL --key KEY.pem [-o FILE] [--no-keep] [--cert-chain CHAIN.pem] [--ignore-path PATH]... "
		 "[--json]",
	.summary = "Sign a version or a folder in OpenSSF Model Signing (OMS v1.0) format.",
	.details = "MODEL is a folder or file (a path that exists, or one with a '/') or a stored\n"
		   "version (NAME:VERSION, NAME@latest). The signature is a Sigstore bundle\n"
		   "that 'model_signing verify key' and 'mreg verify --signature' check: every\n"
		   "file's SHA-256, sorted by path, in an in-toto statement signed with ECDSA\n"
		   "in a DSSE envelope. A stored version is signed from its record's digests\n"
		   "(no file is read) and the signature is kept with it in the store, as\n"
		   "import and pull keep theirs: mreg package and mreg push attach it, mreg\n"
		   "verify --pubkey KEY NAME:VERSION checks it, mreg show lists it (at most 16\n"
		   "per version; each signing makes new bytes, so signing again keeps one\n"
		   "more). -o FILE also writes it to FILE; --no-keep only writes the file\n"
		   "(model.sig by default). A folder is hashed once; its signature goes to\n"
		   "FILE (model.sig by default).\n"
		   "Symbolic links are refused; .git, .gitattributes, .github, .gitignore and\n"
		   "the signature file are left out. An encrypted key's passphrase comes from\n"
		   "$MREG_KEY_PASSWORD, else the terminal. 'mreg keygen --oms' makes a key.",
	.options = options,
	.run = run,
};
