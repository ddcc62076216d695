/*
 * The JSON documents of a bundle: an OCI image layout (oci-layout, index.json)
 * holding one OCI image manifest that follows the CNCF ModelPack model spec
 * (artifactType application/vnd.cncf.model.manifest.v1+json, a model config
 * valid against ModelPack's schema, one raw layer per file annotated with its
 * path and file metadata, and mreg's record as a manifest annotation).
 *
 * Writing is canonical (compact JSON, sorted keys), so the same record always
 * gives the same bytes. Reading takes any ModelPack manifest (raw and tar
 * layers of the five kinds, other tools' annotations) and is strict where it
 * matters: paths, digests, sizes and media types are checked, and anything
 * unsafe is refused with a message naming it.
 */
#ifndef MREG_OCI_H
#define MREG_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mreg/limits.h"
#include "mreg/oms.h"
#include "mreg/record.h"
#include "util/path.h"

#define OCI_LAYOUT_TEXT "{\"imageLayoutVersion\":\"1.0.0\"}"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MODEL_ARTIFACT_TYPE "application/vnd.cncf.model.manifest.v1+json"
#define MODEL_MT_CONFIG "application/vnd.cncf.model.config.v1+json"
/* An OMS signature (a Sigstore bundle) as an OCI artifact: artifactType and layer media type. */
#define OCI_SIG_ARTIFACT_TYPE MREG_OMS_MEDIA_TYPE
/* image-spec's empty descriptor: "{}", for artifacts without a config. */
#define OCI_MT_EMPTY "application/vnd.oci.empty.v1+json"
#define OCI_EMPTY_DATA "{}"
#define OCI_EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
/* OMS signatures read for one model; entries read from one referrers list. */
#define OCI_REFERRERS_MAX 16u
#define OCI_REFERRERS_LIST_MAX 1024u
/* The tree layer (layer_tree_build()): folders and links are the layout of the weights. */
#define LAYER_TREE_MEDIA_TYPE "application/vnd.cncf.model.weight.config.v1.tar"

/* Annotation keys: OCI's and ModelPack's. */
#define OCI_REF_NAME "org.opencontainers.image.ref.name"
#define MODEL_FILEPATH "org.cncf.model.filepath"
#define MODEL_FILE_METADATA "org.cncf.model.file.metadata+json"
#define MODEL_MT_UNTESTED "org.cncf.model.file.mediatype.untested"
#define OCI_TITLE "org.opencontainers.image.title"
#define OCI_VERSION "org.opencontainers.image.version"
/* mreg's record of the version (JSON), on the manifest: the config has no room for it. */
#define MREG_RECORD_ANNOTATION "org.mreg.record+json"
/* On the tree layer (layer.h), saying what it holds: for people reading the manifest. */
#define MREG_TREE_LAYER_ANNOTATION "org.mreg.layer"

/*
 * The version of mreg's record this code writes and reads: 1 kept it in the
 * config under "mreg" (still read), 2 in the manifest annotation.
 */
#define BUNDLE_FORMAT 2

/*
 * Limits on what is held in memory while reading (another tool's artifact
 * may be larger than what mreg writes: MREG_MANIFEST_MAX, mreg/limits.h).
 */
#define OCI_JSON_MAX (16u << 20)
_Static_assert(MREG_MANIFEST_MAX <= OCI_JSON_MAX, "mreg reads back what it writes");

/*
 * The ModelPack layer media type for a model file, chosen by its name: weights,
 * weight configuration, documentation or code ("...v1.raw": the file itself,
 * not a tar). *guessed is set when nothing matched and "weight" is a default.
 */
const char *oci_media_type(const char *path, bool *guessed);

/* How a layer holds its files: the file itself, or a tar of them (compressed or not). */
typedef enum { LAYER_RAW, LAYER_TAR, LAYER_TAR_GZIP, LAYER_TAR_ZSTD } oci_layer_form;

/*
 * Is @mt a ModelPack layer media type
 * (application/vnd.cncf.model.<weight|weight.config|doc|code|dataset>.v1.<raw|tar|tar+gzip|tar+zstd>)?
 */
bool oci_layer_type(const char *mt, oci_layer_form *form);

/*
 * ModelPack's config.format for a version, from its weight files (onnx,
 * safetensors, gguf, pt, savedmodel, tensorrt, ...): NULL when none says
 * it, or when they disagree.
 */
const char *oci_model_format(const mreg_record *record);

/* A serialised JSON document and its descriptor fields. */
typedef struct {
	char *data;
	size_t len;
	char digest[MREG_DIGEST_STRLEN];
} oci_blob;

void oci_blob_dispose(oci_blob *b);

/*
 * The model config blob: ModelPack's descriptor, config and modelfs,
 * nothing else. @tree: the version's tree layer (layer_tree_build(); its
 * data NULL, or @tree NULL, when there is none), whose diffId follows the
 * files'.
 */
int oci_config_build(oci_blob *out, const mreg_record *record, const oci_blob *tree);
/*
 * The manifest naming @config, one raw layer per file of @record and then
 * the tree layer when there is one, with the record annotated.
 */
int oci_manifest_build(oci_blob *out, const mreg_record *record, const oci_blob *config,
		       const oci_blob *tree);
/* mreg's record as the JSON of MREG_RECORD_ANNOTATION (malloc'd), NULL when out of memory. */
char *oci_record_json(const mreg_record *record);
/*
 * A built config and manifest are within MREG_MANIFEST_MAX, what registries
 * accept: MREG_EINVALID naming the version otherwise (a version registered
 * before the limits of mreg/limits.h were checked), before anything is
 * written or sent.
 */
int oci_check_size(const mreg_record *record, const oci_blob *config, const oci_blob *manifest);
/*
 * index.json: the model manifest, tagged with the version, and the @count
 * OMS signature manifests @referrers (no tag: referrers), in that order.
 */
int oci_index_build(oci_blob *out, const mreg_record *record, const oci_blob *manifest,
		    const oci_blob *const *referrers, size_t count);

/* A descriptor as read. */
typedef struct {
	char digest[MREG_DIGEST_STRLEN];
	uint64_t size;
} oci_desc;

/* Check oci-layout. MREG_EINVALID / MREG_EUNSUPPORTED with a message. */
int oci_layout_check(const char *text, size_t len);

/*
 * index.json: one model manifest (artifactType the model's, or none), and
 * OMS signature manifests (artifactType OCI_SIG_ARTIFACT_TYPE), at most
 * OCI_REFERRERS_MAX. Two model manifests, or another artifact type, are
 * refused: a bundle holds one version, and mreg does not guess which.
 */
typedef struct {
	oci_desc model;
	char *ref_name;        /* the model's org.opencontainers.image.ref.name, or NULL */
	oci_desc *referrers;   /* the signature manifests, each once */
	size_t referrer_count;
} oci_index;

int oci_index_parse(oci_index *out, const char *text, size_t len);
void oci_index_dispose(oci_index *ix);

/*
 * An OMS signature as an OCI referrer of the model manifest @subject: an
 * image manifest with artifactType OCI_SIG_ARTIFACT_TYPE, the empty config
 * ({}), one layer (the Sigstore bundle @sig) and subject = @subject.
 */
int oci_sig_manifest_build(oci_blob *out, const oci_blob *subject, const oci_blob *sig);

typedef struct {
	oci_desc subject; /* the model manifest it signs */
	oci_desc config;  /* always the empty descriptor */
	oci_desc layer;   /* the OMS bundle, at most MREG_OMS_BUNDLE_MAX bytes */
} oci_sig_manifest;

/* A signature manifest as above, strictly: anything else is refused (@what in messages). */
int oci_sig_manifest_parse(oci_sig_manifest *out, const char *text, size_t len, const char *what);

/*
 * A referrers list (the distribution API's answer, or the fallback tag's
 * image index): the OMS signature manifests it names (malloc'd into *out),
 * other artifact types skipped, image manifests listed without an artifact
 * type kept as untyped (the caller reads them to know). At most OCI_REFERRERS_LIST_MAX entries are
 * read and OCI_REFERRERS_MAX signatures kept; more is refused.
 */
typedef struct {
	oci_desc desc;
	bool typed; /* listed with our artifactType; false: listed without one, to be read */
} oci_referrer;

int oci_referrers_parse(oci_referrer **out, size_t *count, const char *text, size_t len,
			const char *what);

/* Whether the JSON document @text says artifactType @type (anything else: false). */
bool oci_artifact_type_is(const char *text, size_t len, const char *type);

/*
 * The fallback tag's new content: @existing (an image index, or NULL for
 * none) with the signature manifest @sig added unless it is listed already
 * (then the same bytes), other entries kept as they are.
 */
int oci_referrers_merge(oci_blob *out, const char *existing, size_t len, const oci_blob *sig);

/* One layer of a model manifest. */
typedef struct {
	oci_desc desc;
	oci_layer_form form;
	char *path;        /* raw: where the file goes (never NULL); tar: the filepath annotation, or NULL */
	unsigned int mode; /* raw: from the file metadata annotation (0644 without one) */
} oci_layer;

typedef struct {
	oci_desc config;
	oci_layer *layers;  /* in manifest order */
	size_t count;
	char *record_json;  /* MREG_RECORD_ANNOTATION, or NULL */
	char *title;        /* org.opencontainers.image.title, or NULL */
	char *version;      /* org.opencontainers.image.version, or NULL */
} oci_manifest;

/*
 * A model manifest: media types (ModelPack's layer types, raw or tar),
 * descriptors, raw layers' paths (safe; a raw layer without
 * org.cncf.model.filepath is placed by org.opencontainers.image.title).
 * Whether paths clash is decided on the whole tree (layer.h).
 */
int oci_manifest_parse(oci_manifest *out, const char *text, size_t len);
void oci_manifest_dispose(oci_manifest *m);

/* What a model config says (strings are NULL when absent). */
typedef struct {
	char *name, *version, *description, *revision, *source_url; /* descriptor.* */
	char *legacy; /* bundle format 1: the "mreg" object, as JSON text */
} oci_config;

/* The config: a JSON object whose descriptor fields mreg reads are strings. */
int oci_config_parse(oci_config *out, const char *text, size_t len);
void oci_config_dispose(oci_config *c);

/*
 * mreg's record from its JSON (the annotation, or a format 1 "mreg"
 * object): every field but the files, checked; *digest receives the
 * content digest it promises.
 */
int oci_record_parse(mreg_record **out, char **digest, const char *json, const char *where);

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
