/*
 * Every record of a store, one at a time (record_iter.c): gc, fsck and
 * NAME@latest hold one parsed record at once, never the whole list, so
 * their memory does not grow with the records' sizes.
 */
#ifndef MREG_RECORD_ITER_H
#define MREG_RECORD_ITER_H

#include <stdbool.h>
#include <stddef.h>

#include "mreg/record.h"
#include "record_priv.h"
#include "store_priv.h"

/*
 * One record, the walk's: @fn may change it, or keep it by setting *@record
 * to NULL; otherwise it is freed when @fn returns. A non-zero return stops
 * the walk and is returned.
 */
typedef int (*record_each_fn)(void *ctx, mreg_record **record);

/* A record that cannot be read: its path and why (the error message). */
typedef void (*record_damaged_fn)(void *ctx, const char *path, int code, const char *message);

/*
 * Call @fn for each readable record of the store (of model @name only when
 * not NULL), in mreg_model_list()'s order when @sorted: models by name, each
 * model's versions by creation time, then version (a peek at each record's
 * created_at orders them before any is read whole). @on_damaged (may be NULL)
 * hears of each record that cannot be read, after its model's readable ones,
 * in file-name order as mreg_model_list() reports them. With @files (may be
 * NULL), records are read with record_stream_file(): each record's files go
 * to @files one at a time as it is read (a call with NULL first), and @fn
 * gets the record without them (unless it has empty folders or links), so
 * that a record's size does not make the walk's memory grow; what @files
 * was given of a record that turns out damaged does not count (@on_damaged
 * hears of it instead of @fn). Returns 0 when every
 * record was read, MREG_ECORRUPT (message set) when one could not be,
 * MREG_ENOTFOUND for an unknown @name, MREG_ENOMEM, MREG_EIO, or what @fn
 * returned.
 */
int store_each_record(mreg_store *store, const char *name, bool sorted, record_each_fn fn,
		      record_file_fn files, record_damaged_fn on_damaged, void *ctx);

/*
 * One version of a model and, when asked for, what a peek at its record
 * (record_peek_file) said of it: created_at, archived, digest.
 */
typedef struct {
	char *version;
	record_peek peek;
	int peek_rc; /* record_peek_file()'s result: 0, or why the peek failed */
} version_peek;

/*
 * Every version of model @model (its records' file names, sorted), each
 * record peeked at when @peek. No folder is no version. What a failed peek
 * means is the caller's to say; only MREG_ENOMEM (message set) stops the
 * listing. 0, MREG_EIO (message set) or MREG_ENOMEM.
 */
int store_peek_versions(version_peek **out, size_t *count, mreg_store *store,
			const char *model, bool peek);
void store_free_version_peeks(version_peek *v, size_t n);

/* The directory's entries ending in @suffix, the suffix cut off, sorted (strcmp). */
int store_list_dir(char ***out, size_t *count, const char *dir, const char *suffix);
void store_free_names(char **names, size_t n);

#endif
