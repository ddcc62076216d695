/*
 * The JSON documents of a bundle: an OCI image layout (oci-layout, index.json)
 * holding one OCI image manifest that follows the CNCF ModelPack model spec
 * (artifactType application/vnd.cncf.model.manifest.v1+json, a model config,
 * one raw layer per file annotated with its path and file metadata).
 *
 * Writing is canonical (compact JSON, sorted keys), so the same record always
 * gives the same bytes. Reading is strict: anything mreg would not write in a
 * place that matters (paths, digests, sizes, media types) is refused with a
 * message naming it.
 */
#ifndef MREG_OCI_H
#define MREG_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mreg/record.h"
#include "util/path.h"

#define OCI_LAYOUT_TEXT "{\"imageLayoutVersion\":\"1.0.0\"}"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MODEL_ARTIFACT_TYPE "application/vnd.cncf.model.manifest.v1+json"
#define MODEL_MT_CONFIG "application/vnd.cncf.model.config.v1+json"

/* Annotation keys: OCI's and ModelPack's. */
#define OCI_REF_NAME "org.opencontainers.image.ref.name"
#define MODEL_FILEPATH "org.cncf.model.filepath"
#define MODEL_FILE_METADATA "org.cncf.model.file.metadata+json"
#define MODEL_MT_UNTESTED "org.cncf.model.file.mediatype.untested"

/* The version of the "mreg" object in the config this code writes and reads. */
#define BUNDLE_FORMAT 1

/* Limits on what is held in memory while reading. */
#define OCI_JSON_MAX (16u << 20)

/*
 * The ModelPack layer media type for a model file, chosen by its name: weights,
 * weight configuration, documentation or code ("...v1.raw": the file itself,
 * not a tar). *guessed is set when nothing matched and "weight" is a default.
 */
const char *oci_media_type(const char *path, bool *guessed);

/* A serialised JSON document and its descriptor fields. */
typedef struct {
	char *data;
	size_t len;
	char digest[MREG_DIGEST_STRLEN];
} oci_blob;

void oci_blob_dispose(oci_blob *b);

/* The model config blob: ModelPack's descriptor/config/modelfs plus the record under "mreg". */
int oci_config_build(oci_blob *out, const mreg_record *record);
/* The manifest naming @config and one layer per file of @record. */
int oci_manifest_build(oci_blob *out, const mreg_record *record, const oci_blob *config);
/* index.json: the one manifest, tagged with the version. */
int oci_index_build(oci_blob *out, const mreg_record *record, const oci_blob *manifest);

/* A descriptor as read. */
typedef struct {
	char digest[MREG_DIGEST_STRLEN];
	uint64_t size;
} oci_desc;

/* Check oci-layout. MREG_EINVALID / MREG_EUNSUPPORTED with a message. */
int oci_layout_check(const char *text, size_t len);

/* index.json: exactly one image manifest. *ref_name may be NULL (malloc'd otherwise). */
int oci_index_parse(oci_desc *manifest, char **ref_name, const char *text, size_t len);

/* One layer of a model manifest. */
typedef struct {
	oci_desc desc;
	char *path;
	unsigned int mode;
} oci_layer;

typedef struct {
	oci_desc config;
	oci_layer *layers; /* in manifest order */
	size_t count;
} oci_manifest;

/* A model manifest: media types, descriptors, paths (safe, unique, no file under a file). */
int oci_manifest_parse(oci_manifest *out, const char *text, size_t len);
void oci_manifest_dispose(oci_manifest *m);

/*
 * The record a bundle describes: fields from the config's "mreg" object,
 * files from the manifest's layers (sorted by path); the content digest is
 * recomputed and must match the config's.
 */
int oci_config_parse(mreg_record **out, const char *text, size_t len, const oci_manifest *m);

/*
 * The paths a bundle may hold (path_is_valid()): relative, inside the model,
 * in the plain form a record lists them in, short and printable enough for
 * any file system the bundle is unpacked on, and never inside a .git or
 * .mreg folder (a hook or a store file planted where a model is downloaded
 * at a work-tree root would run or be trusted).
 */
#define OCI_PATH_RULES                                                                        \
	(PATH_REJECT_EMPTY | PATH_REJECT_ABSOLUTE | PATH_REJECT_BACKSLASH |                    \
	 PATH_REJECT_EMPTY_COMPONENT | PATH_REJECT_DOT_COMPONENT | PATH_REJECT_TRAVERSAL |     \
	 PATH_REJECT_CONTROL | PATH_REJECT_NON_UTF8 | PATH_REJECT_LONG |                       \
	 PATH_REJECT_LONG_COMPONENT | PATH_REJECT_DOTGIT | PATH_REJECT_DOTMREG)

#endif
