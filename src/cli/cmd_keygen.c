#include <string.h>

#include "bundle_cli.h"
#include "commands.h"

enum { OPT_JSON = 256, OPT_OMS, OPT_PUBKEY, OPT_FORCE };

static const cli_option options[] = {
	{OPT_OMS, "oms", NULL,
	 "make an ECDSA P-256 pair in PEM for OMS signatures (default files: mreg-oms.key, .pub)"},
	{'s', "secret-key", "FILE", "where to write the secret key (default: mreg.key)"},
	{OPT_PUBKEY, "pubkey", "FILE", "where to write the public key (default: mreg.pub)"},
	{'W', "unencrypted", NULL, "do not encrypt the secret key with a passphrase"},
	{OPT_FORCE, "force", NULL, "replace existing key files"},
	{OPT_JSON, "json", NULL, "print the key id and files as JSON"},
	CLI_QUIET_OPTION,
	CLI_HELP_OPTION,
	{0},
};

/* Before the one grammar: -p/--public-key (-p is --path, --pubkey names a public key
 * everywhere) and -f (--file in create). */
static const cli_old_spelling old_spellings[] = {
	{'p', "public-key", OPT_PUBKEY},
	{'f', NULL, OPT_FORCE},
	{0},
};

static int run(int argc, char **argv)
{
	const char *secret = NULL, *public = NULL;
	char pass[1024], id[MREG_OMS_HEX_STRLEN];
	bool unencrypted = false, force = false, json = false, oms = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_keygen, argc, argv, &arg)) != -1) {
		switch (c) {
		case 's': secret = arg; break;
		case OPT_PUBKEY: public = arg; break;
		case 'W': unencrypted = true; break;
		case OPT_FORCE: force = true; break;
		case OPT_JSON: json = true; break;
		case OPT_OMS: oms = true; break;
		}
	}
	if (!secret)
		secret = oms ? "mreg-oms.key" : "mreg.key";
	if (!public)
		public = oms ? "mreg-oms.pub" : "mreg.pub";
	if (argc - optind != 0)
		return cli_usage_error(&cmd_keygen, "no operands expected");
	if (!strcmp(secret, public))
		return cli_usage_error(&cmd_keygen, "the secret and public key files must differ");
	if (!unencrypted &&
	    (status = cli_passphrase(pass, sizeof(pass), "Passphrase for the new key: ", true)))
		return status;
	if (!unencrypted && !pass[0]) {
		cli_error("empty passphrase (use -W for a key without one)");
		return EXIT_ERROR;
	}
	if (oms)
		rc = mreg_oms_keygen(secret, public, unencrypted ? NULL : pass, force, id);
	else
		rc = mreg_keygen(secret, public, unencrypted ? NULL : pass, force, id);
	explicit_bzero(pass, sizeof(pass));
	if (rc)
		return cli_fail(rc);
	if (oms && json)
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:b}", "key_hint", id, "format",
						"OMS (ECDSA P-256, PEM)", "secret_key", secret,
						"public_key", public, "encrypted", !unencrypted));
	if (oms) {
		printf("wrote the P-256 private key %s (PKCS#8 PEM, %s) and the public key %s\n",
		       secret, unencrypted ? "unencrypted" : "encrypted", public);
		printf("key hint %s; sign with  mreg sign MODEL --key %s\n"
		       "check with  mreg verify --signature model.sig --pubkey %s MODEL\n",
		       id, secret, public);
		return EXIT_OK;
	}
	if (json)
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:b}", "key_id", id, "secret_key",
						secret, "public_key", public, "encrypted",
						!unencrypted));
	printf("wrote the secret key %s (%s) and the public key %s\n", secret,
	       unencrypted ? "unencrypted" : "encrypted", public);
	printf("key id %s; bundles signed with it are checked by\n"
	       "  mreg verify FILE --pubkey %s   or   minisign -Vm FILE -p %s\n",
	       id, public, public);
	return EXIT_OK;
}

const cli_command cmd_keygen = {
	.name = "keygen",
	.usage = "[--oms] [-s SECRET_KEY] [--pubkey PUBLIC_KEY] [-W] [--force]",
	.summary = "Make a key pair: Ed25519 for bundles (minisign), or P-256 for OMS.",
	.details = "The files are minisign's: keys from 'minisign -G' work with mreg, and\n"
		   "signatures mreg writes are checked by 'minisign -V'. The secret key is\n"
		   "encrypted with a passphrase (scrypt, as minisign does), read from the\n"
		   "terminal without echo, or from $MREG_KEY_PASSWORD when it is set; -W writes\n"
		   "it unencrypted. The secret key file is created with mode 0600.\n\n"
		   "With --oms the pair is ECDSA P-256 in PEM (PKCS#8, encrypted with\n"
		   "AES-256-CBC; SubjectPublicKeyInfo), for 'mreg sign' and OpenSSF Model\n"
		   "Signing ('model_signing sign key' takes the same files).",
	.options = options,
	.old_spellings = old_spellings,
	.run = run,
};
