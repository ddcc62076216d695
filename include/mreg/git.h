/**
 * @file mreg/git.h
 * @brief Model history from git: which commit added each version's record.
 *
 * Records (`.mreg/models/<name>/<version>.yaml`) are meant to be committed;
 * their git history is the model's history. Provenance of new versions
 * (commit, branch, dirty state, path, remote) is recorded by
 * mreg_model_create() and lives in mreg_source.
 */
#ifndef MREG_GIT_H
#define MREG_GIT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One event in a model's git history. Strings are owned by the entry array. */
typedef struct {
	char *version;  /**< The version whose record the commit added or removed. */
	char *commit;   /**< Full commit id (hex). */
	char *author;   /**< "Name <email>". */
	int64_t time;   /**< Commit time, seconds since the epoch (UTC). */
	char *summary;  /**< First line of the commit message. */
	int deleted;    /**< 1 when the commit removed the record (mreg delete). */
} mreg_log_entry;

/**
 * The commits, newest first, that added (or removed) a record of model
 * @p name, walking the history of `models/<name>/` from HEAD. A merge counts
 * only for records none of its parents had. Returns MREG_EINVALID when the
 * store is not in a git work tree (message says so), MREG_EIO on git errors.
 * Free with mreg_log_free(). A repository without commits gives an empty list.
 */
MREG_API int mreg_model_log(mreg_log_entry **out, size_t *count, mreg_store *store,
			    const char *name);

/** Free the entries returned by mreg_model_log(). Accepts NULL. */
MREG_API void mreg_log_free(mreg_log_entry *entries, size_t count);

#ifdef __cplusplus
}
#endif
#endif
