/* What the bundle and key commands share: passphrases, keys, reports. */
#ifndef MREG_BUNDLE_CLI_H
#define MREG_BUNDLE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

/* The environment variable a passphrase may come from (automation, CI). */
#define CLI_PASSPHRASE_ENV "MREG_KEY_PASSWORD"

/*
 * A passphrase from $MREG_KEY_PASSWORD, else from the terminal without echo
 * (asked twice with @confirm). Prints the error and returns EXIT_ERROR when
 * there is neither, or the two entries differ.
 */
int cli_passphrase(char *buf, size_t size, const char *prompt, bool confirm);

/* Load a secret key, asking for its passphrase when it is encrypted. Prints errors. */
int cli_load_secret_key(mreg_secret_key **out, const char *path);

/* Load a public key; prints errors (a missing or bad key is a usage problem: exit 2). */
int cli_load_public_key(mreg_public_key **out, const char *path);

/*
 * Whether the public key file @path is an OMS (ECDSA) key: PEM, or DER (a
 * SEQUENCE), not minisign's text. A file that cannot be read is not.
 */
bool cli_key_is_oms(const char *path);

/*
 * --pubkey of verify, import and unpack into @o: a minisign key is loaded
 * into *key (and o->pubkey), a PEM or DER key becomes the OMS key @o checks
 * (@path must outlive @o). Returns EXIT_OK, or the exit status after the
 * error is printed.
 */
int cli_bundle_pubkey(mreg_bundle_read_options *o, mreg_public_key **key, const char *const *path);

/* True when a MODEL operand is a path (it exists, or holds a '/'), not NAME:VERSION. */
bool cli_operand_is_path(const char *text);
/* Load an OMS signing key (PEM), asking for its passphrase when it is encrypted. Prints errors. */
int cli_load_oms_key(mreg_oms_key **out, const char *path, const char *chain);
/*
 * cli_fail() for the commands that read an artifact (import, unpack, verify,
 * pull): an artifact refused for what it holds, a format or signature
 * algorithm mreg does not read included, is a negative answer (exit 1).
 */
int cli_fail_artifact(int rc);

/* A bundle report as JSON (name, version, digests, sizes, signatures). */
json_t *cli_bundle_json(const char *file, const mreg_bundle_info *info, const mreg_record *r);

/* One line about the signatures, for human output ("signature: ..."). */
void cli_print_signatures(const char *file, const mreg_bundle_info *info, bool key_given,
			  bool oms_key_given);

#endif
