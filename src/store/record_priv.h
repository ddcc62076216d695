/* Record internals: building, serialising and parsing records. */
#ifndef MREG_RECORD_PRIV_H
#define MREG_RECORD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mreg/record.h"
#include "util/hash.h"

/* Record fields a plugin's describe() may not override. */
bool record_core_key(const char *key);

/* Set (add or replace) @key in a sorted key/value array. MREG_ENOMEM. */
int kv_set(mreg_kv **items, size_t *count, const char *key, const char *value);
/* Remove @key; MREG_ENOTFOUND when absent. */
int kv_remove(mreg_kv **items, size_t *count, const char *key);
/* Deep copy. */
int kv_copy(mreg_kv **out, size_t *out_count, const mreg_kv *items, size_t count);
void kv_free(mreg_kv *items, size_t count);
/* Check a tag or property key: non-empty, printable UTF-8. */
int kv_check(const char *what, const char *key, const char *value);

/*
 * The limits of mreg/limits.h. @where prefixes messages ("bundle.tar"; NULL
 * or "": none). limits_check_text: a field's length; limits_check_kv: the
 * count and the key and value lengths of tags or properties (@what: "tag"
 * or "property"; @items NULL: the count alone). MREG_EINVALID naming the
 * field and the limit.
 */
int limits_check_text(const char *where, const char *field, const char *value, size_t max);
int limits_check_kv(const char *where, const char *what, const mreg_kv *items, size_t count);

/*
 * Every limit of mreg/limits.h on a whole version: its fields, its entries,
 * and an upper bound of the manifest and config a bundle or a registry gets
 * for it (MREG_MANIFEST_MAX). The file paths are @paths[0..@count) when
 * given (create checks them before any file is stored), else record->files.
 */
int record_check_limits(const mreg_record *record, const char *const *paths, size_t count,
			const char *where);

/*
 * record_check_limits() for a record whose files were not kept: @count files
 * whose layers in the manifest take @layers bytes (the sum of
 * record_layer_len() of their paths).
 */
int record_check_limits_counted(const mreg_record *record, size_t count, uint64_t layers,
				const char *where);

/* The bytes the manifest's layer of the file at @path takes at most. */
uint64_t record_layer_len(const char *path);

/* Upper bounds of the bundle manifest and config of @record (see record_limits.c). */
uint64_t record_manifest_bound(const mreg_record *record, const char *const *paths, size_t count);
uint64_t record_config_bound(const mreg_record *record, size_t file_count);

/*
 * Compute record->digest from its files, empty folders and links, and
 * total_size from its files.
 */
int record_compute_digest(mreg_record *record);

/*
 * Add @file's line of the content digest (mreg-store(5), CONTENT DIGEST) to
 * @h: a record of files alone hashes these lines in the record's order.
 * MREG_ENOMEM.
 */
int record_digest_add_file(hash_ctx *h, const mreg_file *file);

/* A plain relative path inside a model: no empty, "." or ".." component, printable UTF-8. */
bool record_path_valid(const char *path);

/*
 * The tree a record describes can be written out safely: every path plain,
 * each path once across files, empty folders and links, nothing under a file,
 * a link or an empty folder, every link's target inside the model by its
 * text (walk_link_inside()), and with @resolve_links (the record's files are
 * all there) every link followed through the tree, other links included, to
 * something of the model: never above it, never dangling, never a loop.
 * Lists are not required sorted here. Returns 0 or MREG_EINVALID with the
 * reason in @why (no error message set), MREG_ENOMEM.
 */
int record_check_tree(const mreg_record *record, bool resolve_links, char *why, size_t why_len);

/*
 * Bundle configs and registry artifacts: add "dirs" and "links" to @o when
 * the record has any (a record without them gives the same config as before
 * they existed). MREG_ENOMEM.
 */
int record_tree_to_json(json_t *o, const mreg_record *record);

/*
 * Read "dirs" and "links" from @o (a bundle's record) into @record and
 * check them by their text (record_check_tree() without following links:
 * the files come later, from the layers, and the whole tree is checked
 * then). MREG_EINVALID names the field, prefixed by @where.
 */
int record_tree_from_json(mreg_record *record, json_t *o, const char *where);

/* Free @record's files, empty folders and links and leave it with none. */
void record_free_tree(mreg_record *record);

/* Versions in mreg's order: numeric ones as numbers, before non-numeric ones. */
int record_version_cmp(const char *a, const char *b);

/* The current time as RFC 3339 UTC with microseconds (malloc'd). */
char *record_now(void);

/*
 * The provenance of a fetched model (kind, the URL as path, the fetch's time
 * and validators) into @dst, replacing what it held. 0 or MREG_ENOMEM.
 */
int record_source_fetched(mreg_source *dst, const mreg_source *fetched);

/* A deep copy of @src. */
int record_copy(mreg_record **out, const mreg_record *src);

/* Serialise to YAML (the on-disk record). */
int record_to_yaml(char **out, size_t *len, const mreg_record *record);
/* The same bytes, every field through libyaml's emitter: the reference
 * record_to_yaml's own writing of the files list is tested against. */
int record_to_yaml_emitter(char **out, size_t *len, const mreg_record *record);
/* Whether record_to_yaml writes @record's files list itself (every path and
 * digest one the emitter writes plain and as is). */
bool record_yaml_files_fast(const mreg_record *record);

/*
 * Parse a record file. Errors (MREG_ECORRUPT) name the file, the line and
 * column, and the field. MREG_ENOTFOUND when the file does not exist.
 */
int record_read_file(mreg_record **out, const char *path);

/*
 * What record_stream_file() hands over: each file of the record in the
 * record's order (@file and its path live until the call returns), after a
 * call with NULL before anything is read (a new record begins).
 */
typedef int (*record_file_fn)(void *ctx, const mreg_file *file);

/*
 * Read the record at @path as record_read_file() does, with the same checks
 * and the same errors, but without building its list of files: each file is
 * handed to @fn as it is read (yu_stream_file()), so the memory does not grow
 * with the number of files. Files are handed over before the record is
 * wholly checked: they count only when this returns 0. *@out then has no
 * files (file_count 0; total_size is their sum), unless it has empty folders
 * or links: those are checked against every file path (record_check_tree()),
 * so the files are then read a second time, into the record. A non-zero
 * return of @fn stops the reading and is returned.
 */
int record_stream_file(mreg_record **out, const char *path, record_file_fn fn, void *ctx);

/* The record as a jansson object (new reference) or NULL when out of memory. */
json_t *record_to_json_value(const mreg_record *record);

/* Give @r the name and version asked for (NULL: keep), unarchived, with a creation time. */
int record_rename(mreg_record *r, const char *name, const char *version);

/* first[i]: files[i] is the first file (in record order) with its digest; NULL when out of memory. */
bool *record_first_of_digest(const mreg_record *r);

/*
 * What orders a record among its model's versions, read without parsing the
 * whole record (record_peek_file): created_at, and whether it is archived.
 * Only a hint: the whole record, read with record_read_file(), decides (a
 * record the peek reads may still be damaged further on).
 */
typedef struct {
	char created_at[64];
	int archived;
	char digest[MREG_DIGEST_STRLEN]; /* the content digest; "" when not a digest's length */
} record_peek;

/*
 * Peek at @path's top-level created_at, archived (absent: 0) and digest,
 * reading the file only as far as all three are found (mreg writes them
 * before the files). MREG_ENOTFOUND, MREG_EIO, MREG_ENOMEM,
 * MREG_ECORRUPT (no created_at, not a YAML mapping); no error message is set.
 */
int record_peek_file(record_peek *out, const char *path);

/* Order of versions in listings: creation time, then version. */
int record_cmp_created(const mreg_record *a, const mreg_record *b);

#endif
