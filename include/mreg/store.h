/**
 * @file mreg/store.h
 * @brief The content-addressed local store (`.mreg/`).
 *
 * Layout (see mreg-store(5)):
 *
 *     config.yaml                  format version and settings
 *     models/<name>/<version>.yaml one record per model version
 *     blobs/sha256/<hex>           file contents, read-only, named by SHA-256
 *     tmp/                         in-flight writes
 *     lock                         the writers' lock (flock)
 *
 * Every write goes to tmp/, is fsynced and renamed into place; a record is
 * written only after all its blobs exist.
 */
#ifndef MREG_STORE_H
#define MREG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open store. */
typedef struct mreg_store mreg_store;

/** The store format this library writes and reads. */
#define MREG_STORE_FORMAT 1

/**
 * Find the store directory the way git finds .git: $MREG_DIR when set,
 * else the nearest ".mreg" directory in @p start (the current directory
 * when NULL) or one of its parents. Sets *out to a malloc'd path.
 * Returns MREG_ENOTFOUND when there is none.
 */
MREG_API int mreg_store_discover(char **out, const char *start);

/**
 * Where `mreg init` puts a store when given no folder: "<root>/.mreg" at the
 * root of the git work tree containing @p start (the current directory when
 * NULL), else "<start>/.mreg". Sets *out to a malloc'd path.
 */
MREG_API int mreg_store_default_dir(char **out, const char *start);

/**
 * Create a store at @p dir (the ".mreg" directory itself) and open it.
 * Returns MREG_EEXISTS when @p dir already holds a store, MREG_EIO.
 */
MREG_API int mreg_store_init(mreg_store **out, const char *dir);

/**
 * Open the store at @p dir, or the discovered one when @p dir is NULL.
 * Returns MREG_ENOTFOUND (no store), MREG_EUNSUPPORTED (newer format),
 * MREG_ECORRUPT (unreadable config.yaml).
 */
MREG_API int mreg_store_open(mreg_store **out, const char *dir);

/** Close a store. Accepts NULL. */
MREG_API void mreg_store_free(mreg_store *store);

/**
 * A warning about the last change made through @p store, or NULL: the change
 * (a version registered, changed or deleted) was made and the call succeeded,
 * but the disk refused to confirm it is durable (the fsync of its folder
 * failed), so a crash could still undo it. The message names the folder and
 * the error. The first such warning is kept. Borrowed; lives until
 * mreg_store_free().
 */
MREG_API const char *mreg_store_warning(const mreg_store *store);

/**
 * config.yaml's verify.oms_keys: the PEM public keys (absolute paths; relative
 * ones in the file are relative to the store folder) every pull checks a
 * version's OMS signature against; *count = 0 when there are none. Borrowed;
 * lives until mreg_store_free().
 */
MREG_API const char *const *mreg_store_oms_keys(const mreg_store *store, size_t *count);

/** The store's directory (absolute), borrowed for the store's lifetime. */
MREG_API const char *mreg_store_path(const mreg_store *store);

/**
 * The path of the blob with @p digest ("sha256:<hex>"), malloc'd into
 * *out; the blob need not exist. Returns MREG_EINVALID for a bad digest.
 */
MREG_API int mreg_store_blob_path(char **out, const mreg_store *store, const char *digest);

/** Counts reported by mreg_store_fsck(). */
typedef struct {
	size_t records;        /**< Records read. */
	size_t blobs;          /**< Blobs re-hashed. */
	uint64_t bytes;        /**< Bytes re-hashed. */
	size_t unreferenced;   /**< Blobs no record uses (gc removes them). */
	size_t problems;       /**< Errors found (also in the diagnostics). */
} mreg_fsck_result;

/**
 * Check the whole store: re-hash every blob, parse every record, check that
 * every file a record names has its blob with the right size, and that each
 * record's content digest matches its files. Every problem is appended to
 * @p diags (code "fsck-..."), so one run reports all of them.
 * Returns 0 when the check ran (see result->problems), MREG_EIO/MREG_ENOMEM
 * when it could not.
 */
MREG_API int mreg_store_fsck(mreg_fsck_result *result, mreg_store *store, mreg_diag_list *diags);

/** Called by mreg_store_gc() for each blob removed (or that would be, in a dry run). */
typedef void (*mreg_gc_fn)(void *ctx, const char *digest, uint64_t size);

/** Counts reported by mreg_store_gc(). */
typedef struct {
	size_t blobs_removed;
	uint64_t bytes_removed;
	size_t blobs_kept;
	size_t tmp_removed;    /**< Leftovers of interrupted writes. */
	size_t signatures_removed; /**< Folders of kept signatures whose version is gone. */
} mreg_gc_result;

/**
 * Remove the blobs no record references, the kept signatures of versions
 * that no longer exist (signatures/NAME/VERSION/) and the leftovers in tmp/. Waits
 * for every `create` in progress to finish first, so their blobs are never
 * taken. Refuses (MREG_ECORRUPT) when a record cannot be read, since its
 * blobs cannot be told apart. With @p dry_run nothing is removed.
 */
MREG_API int mreg_store_gc(mreg_gc_result *result, mreg_store *store, int dry_run, mreg_gc_fn fn,
		  void *ctx);

#ifdef __cplusplus
}
#endif
#endif
