/*
 * The version a ModelPack artifact holds, whoever wrote it. An artifact mreg
 * wrote carries mreg's record (the MREG_RECORD_ANNOTATION of the manifest,
 * or the config's "mreg" object in bundle format 1): name, version, type,
 * tags, provenance, and the content digest its files must give. Any other
 * artifact is named by ModelPack's descriptor (or -n/-v), and its type is
 * found from the files, as `mreg validate` finds it. Used by import, unpack
 * and verify (bundle_read.c, bundle.c) and by pull.
 */
#ifndef MREG_ARTIFACT_H
#define MREG_ARTIFACT_H

#include <stdbool.h>

#include "layer.h"
#include "oci.h"

/*
 * The blobs of the artifact mreg writes for a version besides its files: the
 * model config, the manifest, and the tree layer (its data NULL when the
 * version has no empty folder and no link). The same record always gives
 * the same bytes: package, push and pull's "is it here already" all build
 * them here.
 */
typedef struct {
	oci_blob config, manifest, tree;
} artifact_blobs;

int artifact_build(artifact_blobs *out, const mreg_record *r);
void artifact_blobs_dispose(artifact_blobs *b);

typedef struct {
	char *digest;    /* the content digest mreg's record promises; NULL when foreign */
	bool foreign;    /* not written by mreg */
	char *bad_name;  /* a name the artifact gives that is not a valid one (for the message) */
	char *bad_version;
} artifact_meta;

/*
 * What @m and its config (@config, @len bytes) say: *record receives every
 * field but the files (foreign: name and version when the artifact gives
 * valid ones, else NULL; type NULL until artifact_detect_type(); source
 * kind "modelpack"). @ref names the artifact
 * in the foreign record's source (the bundle file or the registry
 * reference); @tag (index.json's ref name, the pulled tag; may be NULL) is
 * the last resort for a foreign version.
 */
int artifact_meta_read(artifact_meta *out, mreg_record **record, const oci_manifest *m,
		       const char *config, size_t len, const char *ref, const char *tag);
void artifact_meta_dispose(artifact_meta *a);

/*
 * The files of @t (finished with tree_finish()) become @r's, with its
 * links and the folders that hold nothing; the whole tree is checked
 * (record_check_tree(): MREG_EINVALID, @what in the message), and its
 * content digest computed. For mreg's artifacts the record's own empty
 * folders and links stand (its tree layer must give exactly those; a
 * bundle written before tree layers has none), and the digest must be the
 * one the record promises (MREG_ECORRUPT otherwise).
 */
int artifact_set_tree(const artifact_meta *a, mreg_record *r, model_tree *t, const char *what);

/*
 * Name and version the version lands under: @name/@version when given,
 * else the artifact's, else (foreign) @default_name. A foreign artifact
 * without a usable one is MREG_EINVALID telling which option to give.
 * Clears "archived", sets a creation time when there is none.
 */
int artifact_name(const artifact_meta *a, mreg_record *r, const char *name, const char *version,
		  const char *default_name);

/*
 * The type of a foreign version from its files laid out at @tree: the
 * plugin that recognises them best (custom_model when none does, or when
 * its validation finds errors), and its describe() metadata.
 */
int artifact_detect_type(mreg_record *r, const char *tree);

/*
 * artifact_detect_type() of a foreign version whose blobs are staged, not
 * yet laid out: its files (each found as <dir>/<hex> in the first of
 * @blob_dirs that has it, hard-linked, or copied when linking is refused),
 * empty folders and links are laid out under <@stage>/.tree for the
 * plugins to look at, then removed again. Import and pull both use it.
 */
int artifact_detect_staged(mreg_record *r, const char *const *blob_dirs, size_t dir_count,
			   const char *stage);

#endif
