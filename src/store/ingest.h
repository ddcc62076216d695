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
#include "util/stream.h"
#include "util/walk.h"

/*
 * Stream one model file into the store: hash while copying into tmp/, then
 * rename to blobs/sha256/<hex> unless that blob exists already (dedup).
 * Fills @out (path, size, mode, digest). The blob directory still needs
 * fs_fsync_dir() before a record may name the blob (ingest_files does it).
 */
int ingest_blob_put(mreg_store *store, const walk_file *file, mreg_file *out,
		    stream_progress *progress);

/*
 * Every file of @walk into the store (ingest_blob_put), filling r->files in
 * walk order (r->files has room for walk->count), then make the blob renames
 * durable. @progress->base advances file by file.
 */
int ingest_files(mreg_store *store, const walk_result *walk, mreg_record *r,
		 stream_progress *progress);

/* A new staging folder tmp/<what>-XXXXXX for blobs on their way in (malloc'd path). */
int ingest_stage_create(const mreg_store *store, const char *what, char **out);

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
 * blobs/, then write the record under the store lock. A record already there
 * with the same content stays (*record is replaced by it; *unchanged when no
 * blob was missing, *blobs_added otherwise). The caller holds the ingest lock.
 */
int ingest_land_version(mreg_store *store, mreg_record **record, const char *stage,
			const char *verb, int *unchanged, size_t *blobs_added);

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
