/*
 * The store's one ingest path (create, import and pull): blobs first, each
 * complete and durable, then the record under the store lock. See ingest.c.
 */
#ifndef MREG_INGEST_H
#define MREG_INGEST_H

#include <stddef.h>

#include "mreg/record.h"
#include "mreg/source.h"
#include "mreg/store.h"
#include "kept_signatures.h"
#include "util/stream.h"
#include "util/walk.h"

typedef struct statcache statcache;

/*
 * One model file into the store, read at most once: a file @cache knows
 * (unchanged since it was hashed) whose blob exists is not read at all; a
 * small one is hashed first and written only when its blob is missing; a
 * large one is hashed while copied into tmp/, and the copy is dropped
 * without its fsync when the blob exists; when *@reflink (may be NULL) is
 * true, a large file is first reflinked (FICLONE) into tmp/ from the source
 * and the clone is hashed, no byte copied; the first refusal of the
 * filesystem sets *@reflink to false (shared by the pool's workers) and the
 * file is copied. A new blob is fsynced and renamed
 * to blobs/sha256/<hex>; or, with @unsynced, left in tmp/ read-only and
 * unsynced, its path in *@unsynced for the caller to fsync and rename. Fills
 * @out (path, size, mode, digest) and tells @cache (may be NULL) the digest.
 * The blob directory still needs fs_fsync_dir() before a record may name the
 * blob (ingest_files does it). Safe to call from several threads at once.
 */
int ingest_blob_put(mreg_store *store, const walk_file *file, mreg_file *out, statcache *cache,
		    char **unsynced, bool *reflink, stream_progress *progress);

/*
 * Every file of @walk into the store (ingest_blob_put), filling r->files in
 * walk order (r->files has room for walk->count): a pool of workers (2 per
 * CPU, at most 8; at most 2 large files copied at once) hashes and writes
 * files at once, leaving new blobs unsynced in tmp/; then they are fsynced
 * (by the same workers), renamed into blobs/ and the directory fsynced;
 * then the store's stat cache is saved. @cache is that cache when the caller
 * opened it already (it stays the caller's; it is made writable here, under
 * the ingest lock), NULL to open it here. The first failure in walk order is
 * the one reported. @progress->base advances by the whole size.
 */
int ingest_files(mreg_store *store, const walk_result *walk, mreg_record *r, statcache *cache,
		 stream_progress *progress);

/* A new staging folder tmp/<what>-XXXXXX for blobs on their way in (malloc'd path). */
int ingest_stage_create(const mreg_store *store, const char *what, char **out);

/*
 * fsync every file of the staging folder @stage, several at once (concurrent
 * fsyncs share the file system's journal commits): for a source that stages
 * its blobs unsynced (fs_seal_blob_unsynced), before ingest_land_version.
 * Returns 0, MREG_EIO (message set), MREG_ENOMEM.
 */
int ingest_stage_sync(const char *stage);

/*
 * The store's record of name:version, when there is one: the same content is
 * fine (*existing set), other content is MREG_EEXISTS with a message telling
 * the user to @verb ("import", "pull") it under another version.
 */
int ingest_existing(mreg_store *store, const char *name, const char *version, const char *digest,
		    const char *verb, mreg_record **existing);

/*
 * Make a version whose blobs are all staged in @stage (as <stage>/<hex>, each
 * complete, checked and fsynced) visible: move the blobs the store lacks into
 * blobs/, then, under the store lock, keep the OMS signatures @sigs (may be
 * NULL; kept_sigs_keep(): those that are not this version's are dropped and
 * counted there) and write the record. A record already there with the same
 * content stays (*record is replaced by it; *unchanged when no blob was
 * missing, *blobs_added otherwise; new signatures are counted in @sigs). The caller holds
 * the ingest lock.
 */
int ingest_land_version(mreg_store *store, mreg_record **record, const char *stage,
			const char *verb, kept_sigs_incoming *sigs, int *unchanged,
			size_t *blobs_added);

/*
 * A model fetched from a URL (src/source/ fills it; mreg_model_create lands
 * it): each file's blob complete, checked and fsynced in @stage as <hex>, and
 * the model's tree as hard links to them under @path, for the format
 * plugins and the walk.
 */
struct mreg_fetched {
	mreg_store *store;   /* the store whose tmp/ holds @stage, or NULL */
	char *stage;
	char *path;          /* the file, or the folder, the URL names */
	mreg_file *files;    /* path relative to @path (a single file: its name), sorted by
			      * ingest_file_cmp */
	size_t file_count;
	size_t file_cap;
	mreg_source source;  /* kind, path (the URL without secrets), fetched_at, etag... */
};

/* qsort/bsearch order of mreg_file by path (bytewise). */
int ingest_file_cmp(const void *a, const void *b);

/*
 * The files of a version whose model was fetched (@fetched, walked into
 * @walk): r->files in walk order from what the fetch hashed, and the staged
 * blobs the store lacks moved into blobs/ (durably). The caller holds the
 * ingest lock.
 */
int ingest_fetched_files(mreg_store *store, const mreg_fetched *fetched, const walk_result *walk,
			 mreg_record *r);

#endif
