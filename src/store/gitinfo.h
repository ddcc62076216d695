/*
 * Git integration (libgit2 on paths; nothing here knows the store): where a
 * store belongs, the provenance of a model path, committing one record without
 * touching anything else the user staged, and the history of a model's records.
 */
#ifndef MREG_GITINFO_H
#define MREG_GITINFO_H

#include <stdbool.h>

#include <stddef.h>

#include "mreg/diag.h"
#include "mreg/git.h"
#include "mreg/record.h"

/*
 * The work-tree root containing @path (malloc'd), or NULL outside git / in a
 * bare repository; NULL with errno ELIBACC (the message set) when libgit2,
 * loaded the first time a path might be in git, could not be loaded.
 */
char *gitinfo_worktree_root(const char *path);

/*
 * Fill src->git_* for the model at @path when it lies in a git work tree.
 * Outside git nothing is set and 0 is returned. Odd states (no commit yet,
 * ignored path, bare repository) add a note to @diags instead of failing.
 */
int gitinfo_provenance(mreg_source *src, const char *path, mreg_diag_list *diags);

/* Fail early (MREG_EINVALID, message set) when @store_dir is not in a git work tree. */
int gitinfo_check_committable(const char *store_dir);

/*
 * Commit the file @record_path (inside the work tree of @store_dir's
 * repository) with @message on top of HEAD, together with each file of
 * @if_new that exists but is not in HEAD's tree yet (the store's config.yaml
 * and .gitignore on first use), touching no other path of the index or the
 * work tree. Sets *commit_out (41 bytes) to the new commit id.
 */
int gitinfo_commit_record(const char *store_dir, const char *record_path, const char *message,
			  const char *const *if_new, size_t if_new_count, char *commit_out);

/*
 * The commits that added or removed a record of model @name under
 * @store_dir/models/<name>/, newest first (mreg_model_log() of the store at
 * @store_dir). MREG_EINVALID when @store_dir is not in a git work tree. Free
 * the entries with mreg_log_free().
 */
int gitinfo_history(mreg_log_entry **out, size_t *count, const char *store_dir, const char *name);


#endif
