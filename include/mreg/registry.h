/**
 * @file mreg/registry.h
 * @brief Model versions in a store: create, list, show, update, archive,
 *        delete, download; and Azure ML `model.yml` files.
 */
#ifndef MREG_REGISTRY_H
#define MREG_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "format.h"
#include "record.h"
#include "source.h"
#include "store.h"

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of mreg_model_create(). Initialise with MREG_CREATE_OPTIONS_INIT. */
typedef struct {
	unsigned int version;       /**< MREG_CREATE_OPTIONS_VERSION. */
	const char *name;           /**< Required. */
	const char *path;           /**< Required: the model file or directory. */
	const char *type;           /**< NULL: "custom_model". */
	const char *model_version;  /**< NULL: next integer version. */
	const char *description;
	const char *stage;
	const mreg_kv *tags;
	size_t tag_count;
	const mreg_kv *properties;
	size_t property_count;
	int no_validate;            /**< Skip the format plugin's checks. */
	/**
	 * Commit the new record to git (the store must be in a git work tree):
	 * 1 yes, 0 no, -1 as the store's config says (git.commit). Only the
	 * record is committed; nothing else the user staged is touched.
	 */
	int commit;
	mreg_progress_fn progress;
	void *progress_ctx;
	/**
	 * Version 2: the model at @p path (a URL) as mreg_source_fetch() fetched
	 * it; its files are checked and land from there. NULL for a local path.
	 */
	const mreg_fetched *fetched;
} mreg_create_options;

#define MREG_CREATE_OPTIONS_VERSION 2
#define MREG_CREATE_OPTIONS_INIT {.version = MREG_CREATE_OPTIONS_VERSION, .commit = -1}

/**
 * Register a new model version: validate the model with its type's plugin
 * (diagnostics go to @p diags, which may be NULL), stream every file into
 * the store once (hashing as it copies), then write the record under the
 * store lock. Concurrent creators of one name get distinct versions.
 * Inside a git work tree the record holds the provenance (commit, branch,
 * dirty state, path, remote without credentials); notes about odd git states
 * go to @p diags. With opts->commit the record is committed; if that fails
 * the record is removed again, so the store is unchanged. A remote model
 * (@p opts->path a URL) is fetched first with mreg_source_fetch() and given
 * as opts->fetched; its record's source names the URL without credentials.
 *
 * Returns MREG_EINVALID (bad name, version, path or an invalid model: see
 * @p diags), MREG_EEXISTS (the version exists), MREG_ENOTFOUND (no such
 * path), MREG_EIO. On failure the store holds no new record.
 */
MREG_API int mreg_model_create(mreg_record **out, mreg_store *store, const mreg_create_options *opts,
		      mreg_diag_list *diags);

/**
 * Read one version. @p ref is "NAME" or "NAME@latest" (the most recently
 * created version that is not archived) or "NAME:VERSION".
 * Returns MREG_ENOTFOUND, MREG_EINVALID (bad reference), MREG_ECORRUPT
 * (the record file is damaged; the message names it).
 */
MREG_API int mreg_model_get(mreg_record **out, mreg_store *store, const char *ref);

/**
 * The newest other version of @p record's model with the same content digest
 * (the same files), in *@p version (free() it), or NULL when there is none.
 * Each record is read only as far as its digest (its first lines), so this
 * costs little whatever the versions hold; a record that cannot be read is
 * passed over. Returns 0 or MREG_ENOMEM.
 */
MREG_API int mreg_model_same_content(char **version, mreg_store *store, const mreg_record *record);

/** Which versions mreg_model_list() returns. */
typedef enum {
	MREG_LIST_ACTIVE = 0,   /**< Not archived (the default of `mreg list`). */
	MREG_LIST_ARCHIVED = 1, /**< Archived only. */
	MREG_LIST_ALL = 2,
} mreg_list_filter;

/** Called by mreg_model_list() for a record it could not read. */
typedef void (*mreg_list_error_fn)(void *ctx, const char *path, int code, const char *message);

/**
 * Records of one model (@p name) or of every model (NULL), sorted by name
 * then creation time. A damaged record is reported through @p on_error
 * (when not NULL) and skipped; the function then returns MREG_ECORRUPT
 * after filling the list. Free with mreg_record_array_free().
 */
MREG_API int mreg_model_list(mreg_record ***out, size_t *count, mreg_store *store, const char *name,
		    mreg_list_filter filter, mreg_list_error_fn on_error, void *ctx);

/** What mreg_records_query() keeps, and in what order. Initialise with MREG_LIST_QUERY_INIT. */
typedef struct {
	unsigned int version;      /**< MREG_LIST_QUERY_VERSION. */
	const char *name_glob;     /**< fnmatch(3) pattern on the model name; NULL: any. */
	const mreg_kv *tags;       /**< Every one must match: KEY=VALUE, or KEY with value "" (has it). */
	size_t tag_count;
	const char *stage;         /**< Exact stage (case-insensitive); "" means none; NULL: any. */
	const char *type;          /**< Exact type; NULL: any. */
	/** "name" (the default: name, then creation time), "created", "size", "files" or
	 *  "version"; a leading '-' reverses (so "-created" is newest first). */
	const char *sort;
	size_t limit;              /**< At most this many, after sorting; 0: all. */
} mreg_list_query;

#define MREG_LIST_QUERY_VERSION 1
#define MREG_LIST_QUERY_INIT {MREG_LIST_QUERY_VERSION, NULL, NULL, 0, NULL, NULL, NULL, 0}

/**
 * Keep the records of @p records (as mreg_model_list() gives them) that
 * match @p q, in @p q's order, at most q->limit; the others are freed and
 * *count shrinks (with *count 0, @p records may be NULL: @p q is only
 * checked). @return 0, or MREG_EINVALID (an unknown sort key or options
 * version: nothing changed).
 */
MREG_API int mreg_records_query(mreg_record **records, size_t *count, const mreg_list_query *q);

/**
 * Point the alias @p alias of model @p name at @p version (an existing
 * version, archived or not), moving it from the version it named before
 * (*previous receives that version, malloc'd, or NULL; @p previous may be
 * NULL). NAME@ALIAS then works wherever a reference does. One file per alias
 * under models/NAME/ (see mreg-store(5)), written crash-safely under the
 * store lock. @return 0, MREG_EINVALID (names), MREG_ENOTFOUND (no such
 * version), MREG_EIO.
 */
MREG_API int mreg_alias_set(mreg_store *store, const char *name, const char *version,
			    const char *alias, char **previous);

/** Remove an alias (*was receives the version it named). @return 0, MREG_ENOTFOUND, MREG_EIO. */
MREG_API int mreg_alias_delete(mreg_store *store, const char *name, const char *alias, char **was);

/**
 * The aliases of model @p name as key (alias) / value (version) pairs,
 * sorted by alias; free with mreg_kv_array_free(). @return 0,
 * MREG_ENOTFOUND (no such model), MREG_ECORRUPT (an alias file that is not
 * one), MREG_ENOMEM.
 */
MREG_API int mreg_alias_list(mreg_kv **out, size_t *count, mreg_store *store, const char *name);

/** Free an array of key/value pairs returned by the library. */
MREG_API void mreg_kv_array_free(mreg_kv *items, size_t count);

/** Changes applied by mreg_model_update(). Initialise with MREG_UPDATE_OPTIONS_INIT. */
typedef struct {
	unsigned int version;       /**< MREG_UPDATE_OPTIONS_VERSION. */
	const char *description;    /**< NULL: unchanged; "" clears it. */
	const char *stage;          /**< NULL: unchanged; "" clears it. */
	const mreg_kv *set_tags;    /**< Added or replaced. */
	size_t set_tag_count;
	const char *const *remove_tags;
	size_t remove_tag_count;
	/* Version 2: */
	/** With a non-empty @c stage: every other version of the model in that
	 *  stage (compared without case) leaves it (its stage is cleared). */
	int exclusive_stage;
	/** Called for each version that left the stage, after its record is written. */
	void (*on_left_stage)(void *ctx, const mreg_record *record);
	void *ctx;
} mreg_update_options;

/* Version 1 (without the stage fields) is still accepted. */
#define MREG_UPDATE_OPTIONS_VERSION 2
#define MREG_UPDATE_OPTIONS_INIT {.version = MREG_UPDATE_OPTIONS_VERSION}

/**
 * Change the mutable fields of NAME:VERSION. Tags are set first, then
 * removed. Removing a tag that is not there (after the sets) is an error
 * (MREG_ENOTFOUND) so typos do not pass silently; nothing is changed then.
 * Returns MREG_ENOTFOUND, MREG_EINVALID, MREG_ECORRUPT, MREG_EIO.
 */
MREG_API int mreg_model_update(mreg_record **out, mreg_store *store, const char *name,
		      const char *version, const mreg_update_options *opts);

/**
 * Archive (@p archived = 1) or restore (0) one version, or every version of
 * @p name when @p version is NULL. *changed counts the versions whose state
 * changed. Returns MREG_ENOTFOUND, MREG_ECORRUPT, MREG_EIO.
 */
MREG_API int mreg_model_set_archived(size_t *changed, mreg_store *store, const char *name,
			    const char *version, int archived);

/**
 * Delete the record of NAME:VERSION. Its blobs stay until `gc`. A tombstone
 * (models/NAME/VERSION.deleted) keeps the number from being handed out again
 * by automatic versioning. Returns MREG_ENOTFOUND, MREG_EIO.
 */
MREG_API int mreg_model_delete(mreg_store *store, const char *name, const char *version);

/**
 * Write the files of @p record into @p dir with their modes: each one a
 * reflink of its blob where the filesystem can (trusted by its digest name),
 * else copied and re-hashed as it is written (mreg_model_download_opts() with
 * the defaults). All or nothing: files are staged in a
 * temporary directory and moved into place only when every digest matched.
 * @p dir may exist (no file in it is overwritten) or not (it is created).
 * Returns MREG_ECORRUPT (a blob is missing or does not match; the message
 * names the file and the digest), MREG_EEXISTS (a file to write exists),
 * MREG_EIO.
 */
MREG_API int mreg_model_download(mreg_store *store, const mreg_record *record, const char *dir,
			mreg_progress_fn progress, void *progress_ctx);

/** How mreg_model_download_opts() puts each file in place. */
typedef enum {
	/** A reflink (FICLONE) where the filesystem can, else a verified copy. */
	MREG_LINK_AUTO = 0,
	/** Reflink only: MREG_EUNSUPPORTED when the filesystem cannot. */
	MREG_LINK_REFLINK,
	/** A copy (copy_file_range, else read/write), verified in the same pass. */
	MREG_LINK_COPY,
	/** A hard link to the read-only blob: the file IS the blob. */
	MREG_LINK_HARDLINK,
} mreg_link_mode;

/** Options of mreg_model_download_opts(); the counts are filled in. */
typedef struct {
	mreg_link_mode link;
	/** fsync each file written and the folders before returning success. */
	bool sync;
	/** Out: how many files were reflinked, copied, hard-linked. */
	size_t reflinked, copied, hardlinked;
} mreg_download_opts;

/**
 * mreg_model_download() with a choice of method and durability. A reflinked
 * or hard-linked file is not read again: the blob's name is its digest
 * (mreg fsck checks the rest); a copied one is hashed in the same pass that
 * copies it and never put in place when it does not match. With
 * MREG_LINK_REFLINK, a filesystem that cannot reflink is an error
 * (MREG_EUNSUPPORTED, nothing written); with MREG_LINK_HARDLINK, so is a
 * store on another filesystem than @p dir, or a blob that is not read-only
 * (hard-linked files keep the blob's read-only mode). Without
 * @c sync nothing is forced to the disk. @p opts may be NULL (defaults).
 */
MREG_API int mreg_model_download_opts(mreg_store *store, const mreg_record *record,
				      const char *dir, mreg_download_opts *opts,
				      mreg_progress_fn progress, void *progress_ctx);

/** Called with the path of each leftover that was removed. */
typedef void (*mreg_litter_fn)(void *ctx, const char *path);

/**
 * Remove what killed downloads into @p dir left: the staging folders
 * DIR.mreg-download-XXXXXX beside @p dir and DIR/.mreg-download-XXXXXX inside
 * it (mreg_model_download() removes its own on failure, but a kill -9 gives it
 * no chance). A download still running holds a lock on its folder, which is
 * left alone; so are links and what belongs to another user. @p fn (may be
 * NULL) hears of each folder removed. Returns MREG_EIO (a folder that cannot be
 * read or removed).
 */
MREG_API int mreg_download_litter_remove(const char *dir, mreg_litter_fn fn, void *ctx);

/**
 * Remove what killed packagings into @p file left: the temporary files
 * .FILE.mreg-package-XXXXXX beside @p file that no running package holds
 * (see mreg_download_litter_remove()). Returns MREG_EIO.
 */
MREG_API int mreg_package_litter_remove(const char *file, mreg_litter_fn fn, void *ctx);

/** An Azure ML model YAML file (`az ml model create -f model.yml`). */
typedef struct {
	char *name;
	char *version;
	char *type;
	char *path;         /**< Resolved against the YAML file's directory. */
	char *description;
	char *stage;
	mreg_kv *tags;
	size_t tag_count;
	mreg_kv *properties;
	size_t property_count;
} mreg_model_yml;

/**
 * Values given elsewhere (on the command line) that win over the file's: a
 * field set here is taken as it is, and the file's value for it is neither
 * used nor checked (so `version: <VERSION>` with -v 3 is fine). Initialise
 * with MREG_MODEL_YML_OPTIONS_INIT.
 */
typedef struct {
	unsigned int version;       /**< MREG_MODEL_YML_OPTIONS_VERSION. */
	const char *name;           /**< NULL: the file's. */
	const char *model_version;  /**< NULL: the file's. */
	const char *type;           /**< NULL: the file's. */
	const char *path;           /**< NULL: the file's (resolved against its folder). */
	const char *description;    /**< NULL: the file's. */
	const char *stage;          /**< NULL: the file's. */
} mreg_model_yml_options;

#define MREG_MODEL_YML_OPTIONS_VERSION 1
#define MREG_MODEL_YML_OPTIONS_INIT {MREG_MODEL_YML_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL}

/**
 * Read an Azure ML model YAML file. Every problem (YAML syntax, unknown or
 * mistyped field, a placeholder such as `<VERSION>` or `{{MODEL_VERSION}}`
 * left in a value, named with the flag that sets it) is appended to @p diags
 * with its line and column. Fields set in @p o (may be NULL) win over the
 * file's and are not checked in it. Returns MREG_EINVALID when @p diags holds
 * errors, MREG_ENOTFOUND, MREG_EIO. Free with mreg_model_yml_free().
 */
MREG_API int mreg_model_yml_read_with(mreg_model_yml **out, const char *file,
				      const mreg_model_yml_options *o, mreg_diag_list *diags);

/** mreg_model_yml_read_with() with no values from elsewhere. */
MREG_API int mreg_model_yml_read(mreg_model_yml **out, const char *file, mreg_diag_list *diags);

/** Free a model YAML. Accepts NULL. */
MREG_API void mreg_model_yml_free(mreg_model_yml *yml);

#ifdef __cplusplus
}
#endif
#endif
