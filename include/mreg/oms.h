/**
 * @file mreg/oms.h
 * @brief OpenSSF Model Signing (OMS v1.0) signatures: sign and verify models.
 *
 * An OMS signature is a detached Sigstore bundle (JSON, media type
 * `application/vnd.dev.sigstore.bundle.v0.3+json`, `model.sig` by convention)
 * holding a DSSE envelope whose payload is an in-toto Statement v1 with the
 * predicate type `https://model_signing/signature/v1.0`. The predicate lists
 * every regular file of the model (the "files" method: path relative to the
 * model root with '/', SHA-256 of the contents, sorted byte-wise), and the
 * statement's subject digest is SHA-256 over the raw per-file digests in that
 * order. The signature is ECDSA (P-256 with SHA-256, P-384 with SHA-384, P-521
 * with SHA-512, DER-encoded) over the DSSE pre-authentication encoding
 * `DSSEv1 <len> <payloadType> <len> <payload>`. This is what the reference
 * implementation (sigstore/model-transparency's `model_signing`) writes and
 * reads for its "key" and "certificate" methods.
 *
 * Signing a stored version takes the per-file digests from its record (no
 * file is read again); signing a folder hashes each file once, streaming.
 * Symbolic links are refused (the bundle records `allow_symlinks: false`);
 * `.git`, `.gitattributes`, `.github`, `.gitignore` and the signature file
 * itself are left out, as the reference implementation does.
 *
 * Keys are PEM files read by OpenSSL: a private key in PKCS#8 or SEC1 form,
 * encrypted or not, on one of the curves P-256, P-384, P-521; a public key in
 * SubjectPublicKeyInfo form. The bundle's `verificationMaterial.publicKey.hint`
 * is the SHA-256 (hex) of the public key's PEM text, as the reference
 * implementation writes it.
 */
#ifndef MREG_OMS_H
#define MREG_OMS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "record.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The media type of an OMS bundle (a Sigstore bundle v0.3). */
#define MREG_OMS_MEDIA_TYPE "application/vnd.dev.sigstore.bundle.v0.3+json"
/** The signature file name the reference tool and mreg use by default. */
#define MREG_OMS_DEFAULT_FILE "model.sig"
/** 64 hex digits + NUL: a key hint, a root digest. */
#define MREG_OMS_HEX_STRLEN 65
/** The largest signature file read (a manifest of some hundred thousand files). */
#define MREG_OMS_BUNDLE_MAX (64u << 20)

/** How a bundle says its signature is to be checked (verificationMaterial). */
typedef enum {
	MREG_OMS_METHOD_KEY = 1,         /**< publicKey: a long-lived key pair. */
	MREG_OMS_METHOD_CERTIFICATE = 2, /**< x509CertificateChain: leaf + CA chain. */
	MREG_OMS_METHOD_SIGSTORE = 3,    /**< certificate + tlogEntries: keyless (Fulcio, Rekor). */
} mreg_oms_method;

/** A signing key (ECDSA private key, with its certificate chain for the certificate method). */
typedef struct mreg_oms_key mreg_oms_key;

/** A parsed OMS bundle, every schema check passed. */
typedef struct mreg_oms_bundle mreg_oms_bundle;

/**
 * Make an ECDSA P-256 key pair: the private key as PKCS#8 PEM in
 * @p secret_path (mode 0600; encrypted with AES-256-CBC and the
 * @p passphrase, or unencrypted when it is NULL) and the public key as PEM in
 * @p public_path. Existing files are replaced only with @p force. @p hint
 * (may be NULL) receives the public key's hint.
 * Returns MREG_EEXISTS, MREG_EINVALID (an empty passphrase), MREG_EIO.
 */
MREG_API int mreg_oms_keygen(const char *secret_path, const char *public_path,
			     const char *passphrase, int force, char hint[MREG_OMS_HEX_STRLEN]);

/**
 * Whether the PEM private key in @p path is encrypted (*encrypted = 1).
 * Returns MREG_ENOTFOUND, MREG_EINVALID (not a PEM private key: a minisign
 * key is named as such).
 */
MREG_API int mreg_oms_key_encrypted(int *encrypted, const char *path);

/**
 * Read a PEM private key (decrypted with @p passphrase when it is encrypted).
 * With @p cert_chain (a PEM file: the leaf certificate first, then the CA
 * chain) the key signs by the certificate method, and the leaf must hold the
 * key's public half. Returns MREG_ENOTFOUND, MREG_EINVALID (not a key, a wrong
 * passphrase, a chain that does not match), MREG_EUNSUPPORTED (a key that is
 * not ECDSA on P-256, P-384 or P-521).
 */
MREG_API int mreg_oms_key_load(mreg_oms_key **out, const char *path, const char *passphrase,
			       const char *cert_chain);

/** Free a key. Accepts NULL. */
MREG_API void mreg_oms_key_free(mreg_oms_key *key);

/** The hint of the key's public half (SHA-256 hex of its PEM), borrowed. */
MREG_API const char *mreg_oms_key_hint(const mreg_oms_key *key);

/** The key's curve: "P-256", "P-384" or "P-521", static. */
MREG_API const char *mreg_oms_key_curve(const mreg_oms_key *key);

/** Options of the signing functions. Zero them for the defaults. */
typedef struct {
	/** More paths to leave out (relative to the model root, as --ignore-paths). */
	const char *const *ignore_paths;
	size_t ignore_count;
	/** Name of the model in the statement's subject; NULL: the model path's base name. */
	const char *subject_name;
	mreg_progress_fn progress; /**< Bytes hashed (folders only); may be NULL. */
	void *progress_ctx;
} mreg_oms_sign_options;

/** What a signing function did. */
typedef struct {
	size_t file_count;                       /**< Resources signed. */
	uint64_t hashed_bytes;                   /**< Bytes read to hash them (0 for a record). */
	char root_digest[MREG_OMS_HEX_STRLEN];   /**< The statement's subject digest. */
} mreg_oms_sign_result;

/**
 * Sign the stored version @p record with @p key into @p sig_path (written
 * atomically, replacing it), using the record's SHA-256 digests: nothing is
 * read but the record. Returns MREG_EINVALID (a version with symbolic links,
 * or with no file left after the ignored paths), MREG_EIO, MREG_ENOMEM.
 */
MREG_API int mreg_oms_sign_record(mreg_oms_sign_result *result, const mreg_oms_key *key,
				  const mreg_record *record, const char *sig_path,
				  const mreg_oms_sign_options *opts);

/**
 * Sign the folder or single file @p model_path: every regular file is hashed
 * once. @p sig_path is left out when it lies inside the folder (and named in
 * the bundle's ignore_paths). Returns MREG_ENOTFOUND, MREG_EINVALID (a
 * symbolic link, a special file, a name that is not UTF-8, no file),
 * MREG_EIO, MREG_ENOMEM, MREG_EINTERRUPTED.
 */
MREG_API int mreg_oms_sign_path(mreg_oms_sign_result *result, const mreg_oms_key *key,
				const char *model_path, const char *sig_path,
				const mreg_oms_sign_options *opts);

/**
 * Read and check the OMS bundle in @p path (at most MREG_OMS_BUNDLE_MAX
 * bytes) against the OMS v1.0 schemas: bundle, DSSE envelope, the decoded
 * in-toto statement and the predicate. Returns MREG_ENOTFOUND, MREG_EINVALID
 * with a message naming the file and the field, MREG_ENOMEM.
 */
MREG_API int mreg_oms_bundle_load(mreg_oms_bundle **out, const char *path);

/** mreg_oms_bundle_load() on bytes in memory; @p name is used in messages. */
MREG_API int mreg_oms_bundle_parse(mreg_oms_bundle **out, const void *data, size_t len,
				   const char *name);

/** Free a bundle. Accepts NULL. */
MREG_API void mreg_oms_bundle_free(mreg_oms_bundle *bundle);

/** The bundle's signing method. */
MREG_API mreg_oms_method mreg_oms_bundle_method(const mreg_oms_bundle *bundle);

/** The key method's publicKey.hint (SHA-256 hex of the signer's public key PEM), or NULL; borrowed. */
MREG_API const char *mreg_oms_bundle_hint(const mreg_oms_bundle *bundle);

/** The number of resources (files) the bundle lists. */
MREG_API size_t mreg_oms_bundle_resource_count(const mreg_oms_bundle *bundle);

/** The name of resource @p i (< mreg_oms_bundle_resource_count()), borrowed. */
MREG_API const char *mreg_oms_bundle_resource_name(const mreg_oms_bundle *bundle, size_t i);

/** The bundle's serialization method ("files" or "shards"), borrowed. */
MREG_API const char *mreg_oms_bundle_serialization(const mreg_oms_bundle *bundle);

/**
 * Check the bundle's signature: with @p pubkey_pem (a PEM public key) for the
 * key method, with @p trust_pem (PEM certificates trusted as anchors) for the
 * certificate method, whose leaf must chain to them and be within its
 * validity period. Then the statement's rules OMS adds to the schemas: the
 * "files" method with SHA-256, no symbolic links, resources sorted and
 * canonical, the subject digest over them. Returns MREG_ECORRUPT (the
 * signature does not verify; another key's hint; a broken rule: the message
 * says which), MREG_EUNSUPPORTED (the sigstore method, shards, another hash),
 * MREG_EINVALID (a key or chain file that cannot be read, or that does not fit
 * the bundle's method), MREG_ENOTFOUND.
 */
MREG_API int mreg_oms_bundle_check(const mreg_oms_bundle *bundle, const char *pubkey_pem,
				   const char *trust_pem);

/** Options of the verification functions. Zero them for the defaults. */
typedef struct {
	/** Files the signature does not list are accepted (--ignore-unsigned-files). */
	int ignore_unsigned;
	/** The signature file, left out of a folder that holds it; may be NULL. */
	const char *sig_path;
	mreg_progress_fn progress;
	void *progress_ctx;
} mreg_oms_verify_options;

/**
 * Match the folder or single file @p model_path against the bundle's
 * resources, hashing each file once (call mreg_oms_bundle_check() first).
 * *checked receives the number of files verified. Returns MREG_ECORRUPT (a
 * file differs, is missing, or is not signed: the message names it),
 * MREG_EINVALID (a symbolic link or special file), MREG_ENOTFOUND, MREG_EIO.
 */
MREG_API int mreg_oms_verify_path(size_t *checked, const mreg_oms_bundle *bundle,
				  const char *model_path, const mreg_oms_verify_options *opts);

/**
 * Match a version's record (its files' digests, as the store or a bundle
 * gives them) against the bundle's resources. As mreg_oms_verify_path().
 */
MREG_API int mreg_oms_verify_record(size_t *checked, const mreg_oms_bundle *bundle,
				    const mreg_record *record, const mreg_oms_verify_options *opts);

#ifdef __cplusplus
}
#endif
#endif
