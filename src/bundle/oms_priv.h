/* OMS v1.0 pieces shared by the signer (oms_sign.c) and the reader (oms.c). */
#ifndef MREG_OMS_PRIV_H
#define MREG_OMS_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "mreg/oms.h"
#include "util/hash.h"

#define OMS_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define OMS_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define OMS_PREDICATE_TYPE "https://model_signing/signature/v1.0"
#define OMS_MEDIA_PREFIX "application/vnd.dev.sigstore.bundle"

/* One file of the manifest: its canonical name and SHA-256 in hex. */
typedef struct {
	char *name;
	char hex[SHA256_HEXLEN + 1];
} oms_resource;

typedef struct {
	oms_resource *items;
	size_t count, cap;
} oms_manifest;

struct mreg_oms_bundle {
	char *file;                 /* for messages */
	mreg_oms_method method;
	char *hint;                 /* publicKey.hint, or NULL */
	unsigned char **certs;      /* DER: x509CertificateChain, or the sigstore certificate */
	size_t *cert_lens;
	size_t cert_count;
	char *payload_type;
	unsigned char *payload;     /* decoded, NUL-terminated */
	size_t payload_len;
	unsigned char **sigs;       /* DER signatures */
	size_t *sig_lens;
	size_t sig_count;
	char *subject_name;
	char *subject_sha256;       /* subject[0].digest.sha256, or NULL */
	char *ser_method;
	char *hash_type;
	bool allow_symlinks;
	char **ignore_paths;
	size_t ignore_count;
	oms_manifest resources;     /* in the bundle's order */
	bool resources_ok_algorithm; /* every resource says the serialization's hash */
};

/* The paths the reference implementation always leaves out. */
extern const char *const oms_default_ignores[];
extern const size_t oms_default_ignore_count;

/* Whether @rel (a canonical relative path) is @ignore or lies under it. */
bool oms_ignored(const char *rel, const char *const *ignores, size_t count);

int oms_manifest_add(oms_manifest *m, const char *name, const char *hex);
void oms_manifest_sort(oms_manifest *m);
void oms_manifest_dispose(oms_manifest *m);
/* The subject digest: SHA-256 over the raw digests in order, as hex. */
void oms_root_digest(char out[SHA256_HEXLEN + 1], const oms_manifest *m);

/*
 * Enumerate the regular files under @model_path as OMS does (symlinks and
 * special files refused; @ignores left out) and hash each. For a single file
 * the name is its base name.
 */
int oms_hash_path(oms_manifest *out, const char *model_path, const char *const *ignores,
		  size_t ignore_count, mreg_progress_fn fn, void *ctx, uint64_t *bytes);

/*
 * The path of @sig_path relative to the folder @model_path when it lies
 * inside it (malloc'd into *rel), else *rel = NULL. Returns 0 or MREG_ENOMEM.
 */
int oms_sig_inside(char **rel, const char *model_path, const char *sig_path);

/* The DSSE pre-authentication encoding of @payload (malloc'd). */
unsigned char *oms_pae(size_t *len, const char *type, const unsigned char *payload,
		       size_t payload_len);

/* The digest ECDSA uses with @pkey's curve (SHA-256/384/512), or NULL when unsupported. */
const EVP_MD *oms_curve_md(const EVP_PKEY *pkey, const char **curve);

/*
 * mreg_oms_sign_record() into memory: *text (malloc'd, *len bytes ending in a
 * newline) is the OMS bundle, for a bundle's or a registry's referrer.
 */
int oms_sign_record_text(char **text, size_t *len, const mreg_oms_key *key,
			 const mreg_record *record);

/* SHA-256 hex of the public key's PEM (SubjectPublicKeyInfo): the hint. */
int oms_key_hint(char out[SHA256_HEXLEN + 1], EVP_PKEY *pkey);

#endif
