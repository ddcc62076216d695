/**
 * @file mreg/bundle.h
 * @brief Portable bundles: one reproducible, verifiable, signable file per model version.
 *
 * A bundle is a tar archive (optionally gzip- or zstd-compressed) of an OCI
 * image layout holding one CNCF ModelPack model:
 *
 *     oci-layout                  {"imageLayoutVersion":"1.0.0"}
 *     index.json                  the model manifest, ref name = the version (and, with
 *                                 an OMS signature, its signature manifest: a referrer)
 *     manifest.minisig            (signed bundles) minisign signature of the manifest
 *     blobs/sha256/<manifest>     artifactType application/vnd.cncf.model.manifest.v1+json,
 *                                 the record in the annotation org.mreg.record+json
 *     blobs/sha256/<config>       application/vnd.cncf.model.config.v1+json: ModelPack's
 *                                 descriptor, config and modelfs only (valid against its schema)
 *     blobs/sha256/<sig>...       (oms_key) the OMS signature manifest (subject = the
 *                                 model manifest), the empty config {}, the Sigstore bundle
 *     blobs/sha256/<file>...      one raw layer per file (weight, weight config, doc or code
 *                                 media type by name), annotated with org.cncf.model.filepath
 *                                 and org.cncf.model.file.metadata+json (mode, size)
 *
 * Entries come in that order, with fixed metadata (mtime 0, uid/gid 0, no user
 * or group names, modes 0644 and 0755), so the same version always gives the
 * same bytes. Readers check every entry before anything lands: only the names
 * above, regular files and the two folders, each once; every blob's digest and
 * size against its name and the manifest; every path inside the model folder.
 * They also read ModelPack artifacts other tools wrote (raw, tar, tar+gzip and
 * tar+zstd layers of every kind, no mreg record: the version is named by the
 * descriptor or the options, typed by the format plugins), under the same
 * rules inside tar layers. See mreg-bundle(5).
 */
#ifndef MREG_BUNDLE_H
#define MREG_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "oms.h"
#include "record.h"
#include "sign.h"
#include "store.h"

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How a bundle file is compressed. */
typedef enum {
	MREG_COMPRESS_AUTO = 0, /**< Writing: by the file name (.zst/.tzst, .gz/.tgz, else none). */
	MREG_COMPRESS_NONE = 1,
	MREG_COMPRESS_GZIP = 2,
	MREG_COMPRESS_ZSTD = 3,
} mreg_compression;

/** "none", "gzip" or "zstd". */
MREG_API const char *mreg_compression_name(mreg_compression c);

/**
 * Parse "none", "gzip"/"gz" or "zstd"/"zst" into @p out.
 * Returns MREG_EINVALID for anything else.
 */
MREG_API int mreg_compression_parse(mreg_compression *out, const char *name);

/** What packaging wrote or reading found. Plain data: nothing to free. */
typedef struct {
	char manifest_digest[MREG_DIGEST_STRLEN]; /**< The manifest's digest: the bundle's identity. */
	uint64_t bundle_size;                     /**< Bytes of the bundle file. */
	mreg_compression compression;
	size_t file_count;                        /**< Files of the model. */
	uint64_t total_size;                      /**< Their bytes. */
	int manifest_signed;                      /**< 1: the bundle holds manifest.minisig. */
	char key_id[MREG_KEY_ID_STRLEN];          /**< Who signed the manifest ("" when unsigned). */
	int sidecar;                              /**< 1: FILE.minisig exists (or was written). */
	char sidecar_key_id[MREG_KEY_ID_STRLEN];  /**< Who signed FILE.minisig, when read. */
	int signature_verified;                   /**< 1: the signatures checked with the given key. */
	int unchanged;                            /**< import: the version and all its blobs were in the store already. */
	size_t blobs_added;                       /**< import: blobs added for a version whose record was there (e.g. from git). */
	size_t oms_signatures;                    /**< OMS signatures attached (referrers in the layout). */
	int oms_verified;                         /**< 1: one of them verified with a given PEM key. */
	size_t oms_kept;                          /**< import: OMS signatures newly kept with the version (mreg/kept_signatures.h). */
	size_t oms_dropped;                       /**< import: attached ones not kept (not an OMS bundle of the version's files, over the limit). */
	char oms_dropped_why[512];                /**< import: why the first dropped one was. */
} mreg_bundle_info;

/** Options of mreg_bundle_package(). Initialise with MREG_PACKAGE_OPTIONS_INIT. */
typedef struct {
	unsigned int version;           /**< MREG_PACKAGE_OPTIONS_VERSION. */
	mreg_compression compression;   /**< AUTO: by the file name. */
	const mreg_secret_key *sign_key; /**< Sign the manifest and the file; NULL: unsigned. */
	int force;                      /**< Replace FILE (and FILE.minisig) if they exist. */
	mreg_progress_fn progress;
	void *progress_ctx;
	/**
	 * (version 2) Attach an OMS v1.0 signature made with this key: a referrer
	 * of the model manifest in the layout (see mreg-bundle(5)). NULL: none.
	 */
	const mreg_oms_key *oms_key;
	/**
	 * (version 2) Instead of @c oms_key: attach the OMS signature already in
	 * this file (`mreg sign`'s model.sig), byte for byte. It must list exactly
	 * the record's files; its signature is checked by whoever holds the key.
	 */
	const char *oms_signature;
} mreg_package_options;

#define MREG_PACKAGE_OPTIONS_VERSION 2
#define MREG_PACKAGE_OPTIONS_INIT {.version = MREG_PACKAGE_OPTIONS_VERSION}

/**
 * Write the bundle of @p record (a version of @p store) to @p file, reading
 * and re-hashing every blob once; a blob that does not match its digest or
 * size stops it. The file appears complete or not at all (written beside it,
 * then renamed; not fsynced, like tar's output). With a signing key the manifest's
 * signature goes inside the bundle and a signature of the whole file,
 * which `minisign -Vm FILE -p KEY.pub` accepts, to FILE.minisig.
 * @p info (may be NULL) receives what was written.
 * Returns MREG_EEXISTS (FILE exists and not @c force), MREG_ECORRUPT (a blob
 * is missing or damaged in the store), MREG_EINVALID, MREG_EIO.
 */
MREG_API int mreg_bundle_package(mreg_bundle_info *info, mreg_store *store,
				 const mreg_record *record, const char *file,
				 const mreg_package_options *opts);

/** Options of the bundle readers. Initialise with MREG_BUNDLE_READ_OPTIONS_INIT. */
typedef struct {
	unsigned int version;            /**< MREG_BUNDLE_READ_OPTIONS_VERSION. */
	const char *name;                /**< import/unpack: use this name instead of the bundle's. */
	const char *model_version;       /**< import/unpack: use this version instead. */
	const mreg_public_key *pubkey;   /**< Require a signature by this key; NULL: do not check. */
	mreg_progress_fn progress;
	void *progress_ctx;
	/**
	 * (version 2) PEM public keys (paths): require an attached OMS signature
	 * that verifies with one of them and matches the bundle's files.
	 */
	const char *const *oms_keys;
	size_t oms_key_count;
} mreg_bundle_read_options;

#define MREG_BUNDLE_READ_OPTIONS_VERSION 2
#define MREG_BUNDLE_READ_OPTIONS_INIT {.version = MREG_BUNDLE_READ_OPTIONS_VERSION}

/**
 * Check a bundle without importing it: its structure, every blob's digest and
 * size, and with a public key its signatures: the manifest's (inside) and
 * FILE.minisig (beside it) when present; at least one must exist, and every
 * one present must verify. *record (may be NULL) receives the version the
 * bundle holds.
 * For an artifact another tool wrote, the record's name and version are NULL
 * when the artifact gives none (or invalid ones), and its type is NULL (found
 * from the files on import and unpack).
 * Returns MREG_EINVALID (not a bundle, or a hostile entry: the message names
 * it), MREG_ECORRUPT (a digest, size or signature does not match),
 * MREG_EUNSUPPORTED (a bundle format or signature algorithm this mreg does
 * not read), MREG_ENOTFOUND, MREG_EIO.
 */
MREG_API int mreg_bundle_verify(mreg_bundle_info *info, mreg_record **record, const char *file,
				const mreg_bundle_read_options *opts);

/**
 * Add the version a bundle holds to @p store. Every blob is checked while it
 * is copied into the store's tmp/ and nothing becomes visible before the
 * whole bundle passed (as mreg_bundle_verify()); then the blobs move into
 * place and the record is written. Importing a version the store has with
 * the same content leaves its record alone and adds only the blobs the store
 * lacks (a record that came through git): info->blobs_added counts them, and
 * info->unchanged = 1 when there were none.
 * An artifact another tool wrote needs a name and a version (from its
 * descriptor, or @c name and @c model_version; MREG_EINVALID otherwise); its
 * type is that of the format plugin that recognises its files and finds them
 * valid, else custom_model.
 * Returns the codes of mreg_bundle_verify(), and MREG_EEXISTS when the store
 * has that name:version with other content.
 */
MREG_API int mreg_bundle_import(mreg_bundle_info *info, mreg_record **record, mreg_store *store,
				const char *file, const mreg_bundle_read_options *opts);

/**
 * Write the model a bundle holds into @p dir, which must not exist or be
 * empty: @p dir/model/ (the files, with their modes) and @p dir/model.yml
 * (Azure ML model YAML, `az ml model create -f dir/model.yml`). All or
 * nothing: everything is staged beside @p dir and moved into place when
 * the bundle passed every check. No store is needed. Folders that an
 * artifact's tar layers list are made, empty ones too.
 * Returns the codes of mreg_bundle_verify(), MREG_EEXISTS (@p dir is not empty).
 */
MREG_API int mreg_bundle_unpack(mreg_bundle_info *info, mreg_record **record, const char *file,
				const char *dir, const mreg_bundle_read_options *opts);

#ifdef __cplusplus
}
#endif
#endif
