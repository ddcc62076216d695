/* Bundle internals: the one reader every command uses, and small shared helpers. */
#ifndef MREG_BUNDLE_PRIV_H
#define MREG_BUNDLE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "artifact.h"
#include "layer.h"
#include "mreg/bundle.h"
#include "oci.h"
#include "sign_priv.h"
#include "util/stream.h"

/* The signature of the manifest inside a bundle, at the layout's root. */
#define BUNDLE_MANIFEST_SIG "manifest.minisig"
#define BUNDLE_SIDECAR_SUFFIX ".minisig"

/* What a bundle holds, once read and checked. */
typedef struct {
	mreg_record *record;          /* files from the layers, sorted by path */
	artifact_meta meta;           /* mreg's record or not (foreign: name, type to settle) */
	model_tree tree;              /* the folders the layers list (the files are the record's) */
	oci_manifest manifest;
	char manifest_digest[MREG_DIGEST_STRLEN];
	char *manifest_data;          /* the manifest's bytes (signed) */
	size_t manifest_len;
	char *signature;              /* manifest.minisig, or NULL */
	size_t signature_len;
	char *ref_name;               /* index.json's ref name, or NULL */
	struct {
		char *data;           /* an OMS bundle (Sigstore JSON) attached as a referrer */
		size_t len;
	} *oms;
	size_t oms_count;
	mreg_compression compression;
	uint64_t file_size;           /* bytes of the bundle file */
	bool prehashed;               /* file_prehash holds BLAKE2b-512 of the file */
	uint8_t file_prehash[SIGN_PREHASH_LEN];
} bundle_contents;

typedef struct {
	/* Where blobs go, as <stage>/<hex>, each complete and checked; NULL: only check. */
	const char *stage;
	/* The bundle in a foreign record's source (default: the name given). */
	const char *ref;
	/* Also hash the file's raw bytes for a signature beside it. */
	bool prehash_file;
	mreg_progress_fn progress;
	void *progress_ctx;
	/*
	 * Called once when the manifest and config are known and checked, before
	 * any layer's data when the bundle is in mreg's order: a caller can refuse
	 * early (return a negative code with the message set).
	 */
	int (*on_metadata)(void *ctx, const bundle_contents *c);
	void *ctx;
} bundle_read_opts;

/*
 * Read a bundle from @fd (@name in messages) in one pass, checking everything
 * (see mreg/bundle.h). On failure nothing is left in @opts->stage but what was
 * there before. Fills @out; dispose with bundle_contents_dispose().
 */
int bundle_read_fd(bundle_contents *out, int fd, const char *name, const bundle_read_opts *opts);
int bundle_read_file(bundle_contents *out, const char *file, const bundle_read_opts *opts);
void bundle_contents_dispose(bundle_contents *c);

/* The trusted comment signed with the manifest. */
char *bundle_manifest_comment(const char *name, const char *version, const char *digest);

#endif
