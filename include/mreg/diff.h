/**
 * @file diff.h
 * What differs between two model trees: versions of the store, or folders
 * (hashed on the spot, nothing written), and between two versions'
 * metadata. `mreg diff` is built on it; so is "what would a new version
 * change" (a version against a working folder).
 */
#ifndef MREG_DIFF_H
#define MREG_DIFF_H

#include <stddef.h>

#include "mreg/common.h"
#include "mreg/diag.h"
#include "mreg/record.h"
#include "mreg/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The record a folder (or a single file) would give if it were created now:
 * its files hashed (read once, nothing written), empty folders and links as
 * `mreg create` keeps them, and the content digest. Name, version and type
 * are NULL. Problems of the walk go to @p diags (custom-* codes, as create
 * reports them); when one is an error the result is MREG_EINVALID.
 * @return 0, MREG_ENOTFOUND, MREG_EINVALID, MREG_EIO, MREG_ENOMEM.
 */
MREG_API int mreg_tree_scan(mreg_record **out, const char *path, mreg_diag_list *diags);

/**
 * mreg_tree_scan() with the stat cache of @p store (see mreg-store(5), STAT
 * CACHE; read only, @p store may be NULL): a file the cache knows unchanged
 * is not read. Same results and errors.
 */
MREG_API int mreg_tree_scan_cached(mreg_record **out, mreg_store *store, const char *path,
				   mreg_diag_list *diags);

/** How an entry differs. */
typedef enum {
	MREG_DIFF_ADDED,    /**< Only in the second tree. */
	MREG_DIFF_REMOVED,  /**< Only in the first tree. */
	MREG_DIFF_MODIFIED, /**< In both, different (content, mode, kind or target). */
} mreg_diff_change;

/** One path that differs. */
typedef struct {
	mreg_diff_change change;
	char *path;
	/** What the path is in each tree: "file", "folder" (empty folder), "link", or NULL when absent. */
	const char *old_kind, *new_kind;
	/** The file or empty folder or link on each side (NULL when absent or not that kind). */
	const mreg_file *old_file, *new_file;
	const mreg_dir *old_dir, *new_dir;
	const mreg_link *old_link, *new_link;
} mreg_diff_entry;

/** One metadata field that differs (name and version are not compared). */
typedef struct {
	char *field;      /**< "type", "description", "stage", "tag.KEY", "property.KEY". */
	char *old_value;  /**< NULL when unset. */
	char *new_value;  /**< NULL when unset. */
} mreg_diff_field;

/** The differences between two records. */
typedef struct {
	mreg_diff_entry *entries; /**< Sorted by path (bytewise). */
	size_t entry_count;
	mreg_diff_field *fields;  /**< In the order listed above, keys sorted. */
	size_t field_count;
	size_t added, removed, modified; /**< Entries by change. */
} mreg_diff;

/**
 * Compare @p a with @p b. The entries point into @p a and @p b, which must
 * outlive the result. Metadata is compared only when @p with_metadata (both
 * sides are versions). The trees are the same when entry_count is 0.
 * @return 0 or MREG_ENOMEM.
 */
MREG_API int mreg_diff_records(mreg_diff *out, const mreg_record *a, const mreg_record *b,
			       int with_metadata);

/** Free what mreg_diff_records() allocated. */
MREG_API void mreg_diff_dispose(mreg_diff *d);

#ifdef __cplusplus
}
#endif

#endif
