/**
 * @file mreg/record.h
 * @brief The record of one model version, and the naming rules.
 *
 * A record is what `.mreg/models/<name>/<version>.yaml` holds: the Azure ML
 * model fields (name, version, type, description, tags, properties, stage,
 * flavors...), where the files came from, the sorted list of files with
 * their size, mode and SHA-256 digest, the empty folders (with their mode)
 * and the symbolic links that stay inside the model. Records are plain data:
 * the library allocates them, the caller frees them with mreg_record_free().
 */
#ifndef MREG_RECORD_H
#define MREG_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Length of "sha256:" + 64 hex digits + NUL. */
#define MREG_DIGEST_STRLEN 72

/**
 * The record format this library writes (the record's `format` field). A
 * record without the field is format 1: written before empty folders and
 * symbolic links were recorded, it has none.
 */
#define MREG_RECORD_FORMAT 2

/** A key/value pair (tags, properties). Both strings are owned by the record. */
typedef struct {
	char *key;
	char *value;
} mreg_kv;

/** One file of a model version. */
typedef struct {
	char *path;                        /**< Relative, '/'-separated, no "." or "..". */
	uint64_t size;                     /**< Bytes. */
	unsigned int mode;                 /**< Permission bits (mode & 0777). */
	char digest[MREG_DIGEST_STRLEN];   /**< "sha256:<64 lowercase hex>". */
} mreg_file;

/** An empty folder of a model version (a folder that holds anything is implied by its files). */
typedef struct {
	char *path;                        /**< Relative, '/'-separated, no "." or "..". */
	unsigned int mode;                 /**< Permission bits (mode & 0777). */
} mreg_dir;

/**
 * A symbolic link of a model version. Only relative links that stay inside
 * the model are kept as links; the target is the link's text, as readlink(2)
 * gives it.
 */
typedef struct {
	char *path;                        /**< Relative, '/'-separated, no "." or "..". */
	char *target;                      /**< Relative to the link's folder; never leaves the model. */
} mreg_link;

/** Where a version's files came from, and (inside git) the commit they match. */
typedef struct {
	char *path;        /**< Absolute path given at creation. */
	char *kind;        /**< "file" or "directory". */
	char *git_commit;  /**< NULL outside git. */
	char *git_branch;  /**< NULL when detached or outside git. */
	int git_dirty;     /**< 1 if the files differ from git_commit; -1 unknown. */
	char *git_path;    /**< Path relative to the work-tree root, or NULL. */
	char *git_remote;  /**< Remote URL without credentials, or NULL. */
	/* A model fetched from a URL (path is then that URL without credentials): */
	char *fetched_at;  /**< RFC 3339 UTC time of the fetch; NULL when local. */
	char *etag;        /**< The server's ETag of a single file, or NULL. */
	char *last_modified; /**< The server's Last-Modified of a single file, or NULL. */
} mreg_source;

/** One model version. */
typedef struct {
	char *name;            /**< Azure name rule, see mreg_name_check(). */
	char *version;         /**< See mreg_version_check(). */
	char *type;            /**< "custom_model", "mlflow_model", "triton_model". */
	char *description;     /**< May be NULL. */
	char *stage;           /**< May be NULL. */
	mreg_kv *tags;         /**< Sorted by key. */
	size_t tag_count;
	mreg_kv *properties;   /**< Sorted by key; immutable after creation. */
	size_t property_count;
	char *created_at;      /**< RFC 3339 UTC with microseconds. */
	int archived;          /**< 1 when hidden from `list` by default. */
	mreg_source source;
	char *digest;          /**< Content digest of the tree (files, empty folders, links). */
	uint64_t total_size;   /**< Sum of the file sizes. */
	mreg_file *files;      /**< Sorted by path (bytewise). */
	size_t file_count;
	/**
	 * Metadata from the format plugin's describe() (e.g. MLflow flavors),
	 * a JSON object in text form whose keys are record fields; NULL if none.
	 */
	char *format_json;
	mreg_dir *dirs;        /**< Empty folders, sorted by path (bytewise). */
	size_t dir_count;
	mreg_link *links;      /**< Symbolic links, sorted by path (bytewise). */
	size_t link_count;
} mreg_record;

/** Free a record and everything it owns. Accepts NULL. */
MREG_API void mreg_record_free(mreg_record *record);

/** Free an array of records returned by the list functions. Accepts NULL. */
MREG_API void mreg_record_array_free(mreg_record **records, size_t count);

/**
 * The record as one JSON object (stable snake_case keys, the same fields as
 * the YAML record). Sets *out to a malloc'd string. Returns MREG_ENOMEM.
 */
MREG_API int mreg_record_to_json(char **out, const mreg_record *record);

/** Look up a tag; returns the borrowed value or NULL. */
MREG_API const char *mreg_record_tag(const mreg_record *record, const char *key);

/**
 * Check a model name against Azure's rule ^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$.
 * Returns 0 or MREG_EINVALID with a message saying why.
 */
MREG_API int mreg_name_check(const char *name);

/**
 * Check a version string: ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ (also a valid
 * OCI tag). Returns 0 or MREG_EINVALID with a message saying why.
 */
MREG_API int mreg_version_check(const char *version);

/**
 * A reference to a model version as written on the command line:
 * "NAME" (no version), "NAME:VERSION", "NAME@latest" or "NAME@ALIAS".
 */
typedef struct {
	char *name;
	char *version; /**< NULL for "NAME", "NAME@latest" and "NAME@ALIAS". */
	int latest;    /**< 1 for "NAME@latest". */
	char *alias;   /**< "NAME@ALIAS": the alias (never "latest"), else NULL. */
} mreg_ref;

/**
 * Check an alias: the rules of a version (letters, digits, '_', '.', '-',
 * at most 128 characters, not starting with '.' or '-'), and not "latest",
 * which is built in. Returns 0 or MREG_EINVALID with a message.
 */
MREG_API int mreg_alias_check(const char *alias);

/**
 * Parse a reference, checking the name and version rules. The caller
 * disposes of @p out with mreg_ref_dispose(). Returns MREG_EINVALID.
 */
MREG_API int mreg_ref_parse(mreg_ref *out, const char *text);

/** Free the strings of a reference. Accepts a zeroed struct. */
MREG_API void mreg_ref_dispose(mreg_ref *ref);

#ifdef __cplusplus
}
#endif
#endif
