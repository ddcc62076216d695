/* minisign signatures inside the library: over memory, over a prehash, over a stream. */
#ifndef MREG_SIGN_PRIV_H
#define MREG_SIGN_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "mreg/sign.h"

/*
 * minisign's byte layouts (SeckeyStruct, PubkeyStruct, SigStruct in its
 * src/minisign.h): what the base64 line of each file decodes to. Every member
 * is a byte array, so there is no padding (the asserts below check it), and
 * multi-byte integers are stored little-endian.
 */
#define MINISIGN_KEYNUM_BYTES 8

/* The part of a secret key that a passphrase encrypts. */
typedef struct {
	uint8_t keynum[MINISIGN_KEYNUM_BYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t chk[crypto_generichash_BYTES]; /* BLAKE2b-256 of sig_alg, keynum, sk */
} minisign_keynum_sk;

/* A secret key file's blob. */
typedef struct {
	uint8_t sig_alg[2];  /* "Ed" */
	uint8_t kdf_alg[2];  /* "Sc" (scrypt) or "\0\0" (unencrypted) */
	uint8_t chk_alg[2];  /* "B2" */
	uint8_t kdf_salt[crypto_pwhash_scryptsalsa208sha256_SALTBYTES];
	uint8_t kdf_opslimit_le[8];
	uint8_t kdf_memlimit_le[8];
	minisign_keynum_sk keynum_sk;
} minisign_seckey;

typedef struct {
	uint8_t keynum[MINISIGN_KEYNUM_BYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
} minisign_keynum_pk;

/* A public key file's blob. */
typedef struct {
	uint8_t sig_alg[2];  /* "Ed" */
	minisign_keynum_pk keynum_pk;
} minisign_pubkey;

/* A signature file's first blob (the line after the untrusted comment). */
typedef struct {
	uint8_t sig_alg[2];  /* "ED" (prehashed) or "Ed" (legacy) */
	uint8_t keynum[MINISIGN_KEYNUM_BYTES];
	uint8_t sig[crypto_sign_BYTES];
} minisign_sig;

/* The byte counts of minisign's format, which files written by either must keep. */
_Static_assert(sizeof(minisign_keynum_sk) == 104, "minisign: keynum + sk + chk is 104 bytes");
_Static_assert(sizeof(minisign_seckey) == 158, "minisign: a secret key blob is 158 bytes");
_Static_assert(sizeof(minisign_pubkey) == 42, "minisign: a public key blob is 42 bytes");
_Static_assert(sizeof(minisign_sig) == 74, "minisign: a signature blob is 74 bytes");

/* minisign's prehash: BLAKE2b-512 of the whole message. */
#define SIGN_PREHASH_LEN 64

/* An incremental prehash (opaque; crypto_generichash_state needs 64-byte alignment). */
typedef struct sign_prehash sign_prehash;

sign_prehash *sign_prehash_new(void);
void sign_prehash_update(sign_prehash *h, const void *data, size_t len);
void sign_prehash_final(sign_prehash *h, uint8_t out[SIGN_PREHASH_LEN]);
void sign_prehash_free(sign_prehash *h);

/*
 * A minisign signature file's text for a message whose prehash is @prehash
 * ("ED"), with @trusted_comment (no line breaks). *out is malloc'd.
 */
int sign_minisig_create(char **out, const mreg_secret_key *key,
			const uint8_t prehash[SIGN_PREHASH_LEN], const char *trusted_comment);

/* A parsed signature file. */
typedef struct {
	minisign_sig blob;
	char *trusted;      /* malloc'd */
	uint8_t global[crypto_sign_BYTES]; /* over blob.sig and the trusted comment */
	char key_id[MREG_KEY_ID_STRLEN];
} sign_minisig;

/* Parse @len bytes of signature text; @where names it in messages. MREG_EINVALID. */
int sign_minisig_parse(sign_minisig *out, const char *text, size_t len, const char *where);
void sign_minisig_dispose(sign_minisig *sig);

/* True for the prehashed algorithm "ED". */
int sign_minisig_prehashed(const sign_minisig *sig);

/*
 * Check a parsed signature with @key. The message is given as @prehash for
 * "ED" signatures or as @msg/@msg_len for legacy "Ed" ones (when only one is
 * known, pass NULL for the other: a mismatch is MREG_EUNSUPPORTED).
 * MREG_ECORRUPT naming @where when it does not verify or the key differs.
 */
int sign_minisig_verify(const mreg_public_key *key, const sign_minisig *sig,
			const uint8_t *prehash, const uint8_t *msg, size_t msg_len, const char *where);

/* mreg_keygen() with the scrypt limits given (the tests use cheap ones). */
int sign_keygen_limits(const char *secret_path, const char *public_path, const char *passphrase,
		       int force, char id_out[MREG_KEY_ID_STRLEN], uint64_t ops, uint64_t mem);

#endif
