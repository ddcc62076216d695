#include <string.h>

#include "bundle_cli.h"
#include "commands.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{'s', "secret-key", "FILE", "where to write the secret key (default: mreg.key)"},
	{'p', "public-key", "FILE", "where to write the public key (default: mreg.pub)"},
	{'W', "unencrypted", NULL, "do not encrypt the secret key with a passphrase"},
	{'f', "force", NULL, "replace existing key files"},
	{OPT_JSON, "json", NULL, "print the key id and files as JSON"},
	CLI_QUIET_OPTION,
	CLI_HELP_OPTION,
	{0},
};

static int run(int argc, char **argv)
{
	const char *secret = "mreg.key", *public = "mreg.pub";
	char pass[1024], id[MREG_KEY_ID_STRLEN];
	bool unencrypted = false, force = false, json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_keygen, argc, argv, &arg)) != -1) {
		switch (c) {
		case 's': secret = arg; break;
		case 'p': public = arg; break;
		case 'W': unencrypted = true; break;
		case 'f': force = true; break;
		case OPT_JSON: json = true; break;
		}
	}
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
	rc = mreg_keygen(secret, public, unencrypted ? NULL : pass, force, id);
	explicit_bzero(pass, sizeof(pass));
	if (rc)
		return cli_fail(rc);
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
	.usage = "[-s SECRET_KEY] [-p PUBLIC_KEY] [-W] [-f]",
	.summary = "Make an Ed25519 key pair for signing bundles (minisign's formats).",
	.details = "The files are minisign's: keys from 'minisign -G' work with mreg, and\n"
		   "signatures mreg writes are checked by 'minisign -V'. The secret key is\n"
		   "encrypted with a passphrase (scrypt, as minisign does), read from the\n"
		   "terminal without echo, or from $MREG_KEY_PASSWORD when it is set; -W writes\n"
		   "it unencrypted. The secret key file is created with mode 0600.",
	.options = options,
	.run = run,
};
