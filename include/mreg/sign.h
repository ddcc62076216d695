/**
 * @file mreg/sign.h
 * @brief Ed25519 signatures in minisign's formats.
 *
 * Keys and signatures are the files of minisign (https://jedisct1.github.io/minisign/):
 * a key made by `minisign -G` works with mreg and the other way round, and a
 * signature written by mreg_sign_file() is accepted by `minisign -V`.
 *
 * - Public key: a comment line, then base64 of "Ed" + 8-byte key id + 32-byte key.
 * - Secret key: a comment line, then base64 of "Ed", the KDF ("Sc" for scrypt,
 *   two zero bytes when unencrypted), "B2" (BLAKE2b checksum), the scrypt salt and
 *   limits, and the key id, secret key and checksum, XORed with the scrypt
 *   output of the passphrase when encrypted.
 * - Signature: "untrusted comment: ...", base64 of the algorithm ("ED": Ed25519
 *   over the BLAKE2b-512 hash of the data, what minisign 0.10+ writes; "Ed":
 *   over the data itself, legacy), the key id and the signature; then
 *   "trusted comment: ..." and a global signature over signature + trusted
 *   comment. mreg writes "ED" and reads both.
 *
 * Secret keys live in memory allocated with sodium_malloc() (guard pages, never
 * swapped when the system allows) and are wiped when freed.
 */
#ifndef MREG_SIGN_H
#define MREG_SIGN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A secret key, decrypted, in locked memory. */
typedef struct mreg_secret_key mreg_secret_key;

/** A public key. */
typedef struct mreg_public_key mreg_public_key;

/** Length of a key id in hex, as minisign prints it ("48F0731A6AF172EA"), + NUL. */
#define MREG_KEY_ID_STRLEN 17

/**
 * Generate a key pair and write it to @p secret_path (mode 0600) and
 * @p public_path. With a @p passphrase the secret key is encrypted with
 * scrypt as `minisign -G` does (the same limits); NULL writes it unencrypted
 * (`minisign -G -W`). Existing files are replaced only with @p force.
 * @p key_id (may be NULL) receives the new key's id.
 * Returns MREG_EEXISTS (a file exists), MREG_EINVALID (empty passphrase),
 * MREG_EIO.
 */
MREG_API int mreg_keygen(const char *secret_path, const char *public_path, const char *passphrase,
			 int force, char key_id[MREG_KEY_ID_STRLEN]);

/**
 * Whether the secret key in @p path is encrypted (*encrypted = 1) and so
 * needs a passphrase. Returns MREG_ENOTFOUND, MREG_EINVALID (not a minisign
 * secret key), MREG_EUNSUPPORTED (unknown algorithm).
 */
MREG_API int mreg_secret_key_encrypted(int *encrypted, const char *path);

/**
 * Read a secret key, decrypting it with @p passphrase when it is encrypted
 * (ignored otherwise). Free with mreg_secret_key_free().
 * Returns MREG_ENOTFOUND, MREG_EINVALID (not a secret key; wrong passphrase;
 * encrypted and @p passphrase is NULL), MREG_EUNSUPPORTED, MREG_ENOMEM.
 */
MREG_API int mreg_secret_key_load(mreg_secret_key **out, const char *path, const char *passphrase);

/** Wipe and free a secret key. Accepts NULL. */
MREG_API void mreg_secret_key_free(mreg_secret_key *key);

/** The key id in hex, borrowed until the key is freed. */
MREG_API const char *mreg_secret_key_id(const mreg_secret_key *key);

/**
 * Read a public key file (minisign.pub format).
 * Returns MREG_ENOTFOUND, MREG_EINVALID, MREG_EUNSUPPORTED, MREG_ENOMEM.
 */
MREG_API int mreg_public_key_load(mreg_public_key **out, const char *path);

/** Parse a public key given as its base64 line (`minisign -P`). Returns MREG_EINVALID. */
MREG_API int mreg_public_key_parse(mreg_public_key **out, const char *base64);

/** Free a public key. Accepts NULL. */
MREG_API void mreg_public_key_free(mreg_public_key *key);

/** The key id in hex, borrowed until the key is freed. */
MREG_API const char *mreg_public_key_id(const mreg_public_key *key);

/**
 * Sign @p file as `minisign -S` does (prehashed "ED"), reading it once, and
 * write the signature to @p sig_file (replacing it). @p trusted_comment is
 * signed too; NULL gives "file:<base name>\thashed".
 * Returns MREG_ENOTFOUND, MREG_EINVALID (a comment with a line break), MREG_EIO.
 */
MREG_API int mreg_sign_file(const mreg_secret_key *key, const char *file, const char *sig_file,
			    const char *trusted_comment);

/**
 * Check @p sig_file against @p file and @p key as `minisign -V` does (both
 * "ED" and legacy "Ed" signatures). *trusted_comment (may be NULL) receives
 * the signed comment, malloc'd. Returns MREG_ENOTFOUND, MREG_EINVALID (a
 * malformed signature file), MREG_ECORRUPT (the signature does not verify,
 * or was made by another key: the message says which).
 */
MREG_API int mreg_verify_file(const mreg_public_key *key, const char *file, const char *sig_file,
			      char **trusted_comment);

#ifdef __cplusplus
}
#endif
#endif
