/*
 * The model tree a ModelPack artifact describes, and its tar layers.
 *
 * A raw layer is one file, placed by its org.cncf.model.filepath annotation;
 * a tar layer (plain, gzip or zstd) holds files and folders placed by their
 * entry names, with the modes of their tar headers (modctl's and KitOps'
 * layers name entries relative to the model folder). Expanding a tar layer
 * streams it through libarchive once: every file entry is hashed while it is
 * written into a staging folder as <stage>/<hex>, one blob per file as the
 * store keeps them, and every hostile-archive rule of a bundle holds inside
 * it. The tree collects what all layers give and is checked as a whole
 * (every path once, no file where a folder is needed) before anything lands.
 */
#ifndef MREG_LAYER_H
#define MREG_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci.h"
#include "util/stream.h"

/* Entries of one model (files and folders of all layers together). */
#define TREE_ENTRIES_MAX (1u << 20)

/* A folder of the model (listed by a tar layer; empty ones matter). */
typedef struct {
	char *path;
	unsigned int mode;
} tree_dir;

typedef struct {
	mreg_file *files; /* sorted by path after tree_finish() */
	size_t file_count, file_cap;
	tree_dir *dirs;   /* sorted, each once, after tree_finish() */
	size_t dir_count, dir_cap;
	mreg_link *links; /* symbolic links that stay inside, sorted after tree_finish() */
	size_t link_count, link_cap;
} model_tree;

/*
 * Add a file, a folder or a symbolic link (path already checked with
 * OCI_PATH_RULES; a link's target with walk_link_inside()). MREG_ENOMEM,
 * MREG_EINVALID (too many).
 */
int tree_add_file(model_tree *t, const char *path, uint64_t size, unsigned int mode,
		  const char *digest);
int tree_add_dir(model_tree *t, const char *path, unsigned int mode);
int tree_add_link(model_tree *t, const char *path, const char *target);

/*
 * Sort and check the whole tree: a path given twice to files, or a file that
 * is also a folder ("a" and "a/b", or a folder entry "a"), is MREG_EINVALID
 * with @what (the artifact's name) in the message. Folders listed twice are
 * kept once. (Links are checked with the rest when they become a record's:
 * record_check_tree().)
 */
int tree_finish(model_tree *t, const char *what);

/*
 * Move the tree into @r (after tree_finish()): its files, its links, and
 * the folders that hold nothing (with their modes) as the record's empty
 * folders. The folders that hold something are implied by what is under
 * them: they are not recorded and stay in @t.
 */
int tree_move_to_record(model_tree *t, mreg_record *r);

void tree_dispose(model_tree *t);

/* Where a layer's bytes come from and where its files go. */
typedef struct {
	const char *what;       /* the layer in messages: "bundle.tar: layer sha256:..." */
	oci_layer_form form;    /* LAYER_TAR, LAYER_TAR_GZIP or LAYER_TAR_ZSTD */
	const oci_desc *desc;   /* the layer's size and digest */
	bool check_digest;      /* hash the layer's bytes and compare (not verified yet) */
	stream_reader read;     /* the layer's bytes, to their end */
	void *read_ctx;
	const char *stage;      /* file blobs go to <stage>/<hex>, fsynced; NULL: only hash */
} layer_source;

/*
 * Expand one tar layer into @t (and @src->stage). Refused (MREG_EINVALID,
 * the entry named): names that are absolute or hold "..", malformed names,
 * symbolic links whose target leaves the model (by its text: where a chain
 * of links leads is checked on the whole tree, record_check_tree()), hard
 * links other than to an earlier file of the same layer, devices, FIFOs and sockets, a file entry larger than an
 * uncompressed layer, a stream in another form than the media type says.
 * MREG_ECORRUPT: truncated data, a layer whose bytes do not match its
 * digest or size. Files already staged are left for the caller to remove
 * with the staging folder.
 */
int layer_expand(model_tree *t, const layer_source *src);

/* A reader over a file descriptor or a buffer, for layer_source. */
typedef struct {
	const uint8_t *data;
	size_t len, off;
} layer_mem;
ssize_t layer_mem_read(void *ctx, uint8_t *buf, size_t cap);

/* Expand a layer held in a file (already verified) or in memory. */
int layer_expand_file(model_tree *t, const char *path, const char *what, oci_layer_form form,
		      const oci_desc *desc, const char *stage);
int layer_expand_memory(model_tree *t, const void *data, size_t len, const char *what,
			oci_layer_form form, const oci_desc *desc, const char *stage);

/*
 * The tree layer of a version that has empty folders or symbolic links: an
 * uncompressed tar (media type LAYER_TREE_MEDIA_TYPE) of one entry per empty
 * folder (with its recorded mode) and per link, and nothing else, written
 * the same way every time (no times, owners or per-run headers). ModelPack
 * has no layer kind for folders or links; a tar layer is what every
 * ModelPack reader (modctl, KitOps, mreg) already untars into the model
 * folder, so they recreate them too (mreg's record annotation says the same
 * for mreg). out->data is NULL when the version has neither. MREG_ENOMEM.
 */
int layer_tree_build(oci_blob *out, const mreg_record *r);

#endif
