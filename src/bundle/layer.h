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
} model_tree;

/* Add a file or a folder (path already checked with OCI_PATH_RULES). MREG_ENOMEM, MREG_EINVALID (too many). */
int tree_add_file(model_tree *t, const char *path, uint64_t size, unsigned int mode,
		  const char *digest);
int tree_add_dir(model_tree *t, const char *path, unsigned int mode);

/*
 * Sort and check the whole tree: a path given twice to files, or a file that
 * is also a folder ("a" and "a/b", or a folder entry "a"), is MREG_EINVALID
 * with @what (the artifact's name) in the message. Folders listed twice are
 * kept once.
 */
int tree_finish(model_tree *t, const char *what);

/* Take the files out of the tree (the caller owns them). */
void tree_take_files(model_tree *t, mreg_file **files, size_t *count);

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
 * symbolic links, hard links other than to an earlier file of the same
 * layer, devices, FIFOs and sockets, a file entry larger than an
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

#endif
