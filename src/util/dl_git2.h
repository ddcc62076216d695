/*
 * libgit2, loaded when first needed (see dl_library.h): call dl_git2_need()
 * before any sym_* pointer; each is typed from <git2.h>. git_libgit2_init()
 * is still the caller's to make (gitinfo.c does, once).
 */
#ifndef MREG_DL_GIT2_H
#define MREG_DL_GIT2_H

#include <git2.h>

extern __typeof__(git_blob_create_from_disk) *sym_git_blob_create_from_disk;
extern __typeof__(git_commit_author) *sym_git_commit_author;
extern __typeof__(git_commit_create) *sym_git_commit_create;
extern __typeof__(git_commit_free) *sym_git_commit_free;
extern __typeof__(git_commit_id) *sym_git_commit_id;
extern __typeof__(git_commit_lookup) *sym_git_commit_lookup;
extern __typeof__(git_commit_parent) *sym_git_commit_parent;
extern __typeof__(git_commit_parentcount) *sym_git_commit_parentcount;
extern __typeof__(git_commit_summary) *sym_git_commit_summary;
extern __typeof__(git_commit_time) *sym_git_commit_time;
extern __typeof__(git_commit_tree) *sym_git_commit_tree;
extern __typeof__(git_diff_free) *sym_git_diff_free;
extern __typeof__(git_diff_get_delta) *sym_git_diff_get_delta;
extern __typeof__(git_diff_num_deltas) *sym_git_diff_num_deltas;
extern __typeof__(git_diff_options_init) *sym_git_diff_options_init;
extern __typeof__(git_diff_tree_to_tree) *sym_git_diff_tree_to_tree;
extern __typeof__(git_error_last) *sym_git_error_last;
extern __typeof__(git_ignore_path_is_ignored) *sym_git_ignore_path_is_ignored;
extern __typeof__(git_index_add) *sym_git_index_add;
extern __typeof__(git_index_add_bypath) *sym_git_index_add_bypath;
extern __typeof__(git_index_free) *sym_git_index_free;
extern __typeof__(git_index_new) *sym_git_index_new;
extern __typeof__(git_index_read) *sym_git_index_read;
extern __typeof__(git_index_read_tree) *sym_git_index_read_tree;
extern __typeof__(git_index_write) *sym_git_index_write;
extern __typeof__(git_index_write_tree_to) *sym_git_index_write_tree_to;
extern __typeof__(git_libgit2_init) *sym_git_libgit2_init;
extern __typeof__(git_object_free) *sym_git_object_free;
extern __typeof__(git_object_id) *sym_git_object_id;
extern __typeof__(git_oid_tostr) *sym_git_oid_tostr;
extern __typeof__(git_reference_free) *sym_git_reference_free;
extern __typeof__(git_reference_is_branch) *sym_git_reference_is_branch;
extern __typeof__(git_reference_peel) *sym_git_reference_peel;
extern __typeof__(git_reference_shorthand) *sym_git_reference_shorthand;
extern __typeof__(git_remote_free) *sym_git_remote_free;
extern __typeof__(git_remote_list) *sym_git_remote_list;
extern __typeof__(git_remote_lookup) *sym_git_remote_lookup;
extern __typeof__(git_remote_url) *sym_git_remote_url;
extern __typeof__(git_repository_free) *sym_git_repository_free;
extern __typeof__(git_repository_head) *sym_git_repository_head;
extern __typeof__(git_repository_index) *sym_git_repository_index;
extern __typeof__(git_repository_is_bare) *sym_git_repository_is_bare;
extern __typeof__(git_repository_open_ext) *sym_git_repository_open_ext;
extern __typeof__(git_repository_workdir) *sym_git_repository_workdir;
extern __typeof__(git_revwalk_free) *sym_git_revwalk_free;
extern __typeof__(git_revwalk_new) *sym_git_revwalk_new;
extern __typeof__(git_revwalk_next) *sym_git_revwalk_next;
extern __typeof__(git_revwalk_push_head) *sym_git_revwalk_push_head;
extern __typeof__(git_revwalk_sorting) *sym_git_revwalk_sorting;
extern __typeof__(git_signature_default) *sym_git_signature_default;
extern __typeof__(git_signature_free) *sym_git_signature_free;
extern __typeof__(git_status_list_entrycount) *sym_git_status_list_entrycount;
extern __typeof__(git_status_list_free) *sym_git_status_list_free;
extern __typeof__(git_status_list_new) *sym_git_status_list_new;
extern __typeof__(git_status_options_init) *sym_git_status_options_init;
extern __typeof__(git_strarray_dispose) *sym_git_strarray_dispose;
extern __typeof__(git_tree_entry_bypath) *sym_git_tree_entry_bypath;
extern __typeof__(git_tree_entry_free) *sym_git_tree_entry_free;
extern __typeof__(git_tree_free) *sym_git_tree_free;
extern __typeof__(git_tree_lookup) *sym_git_tree_lookup;

/*
 * Load libgit2 once (thread-safe). 0, or MREG_EIO with a message that names
 * @purpose ("reading the git repository (mreg create, init, log)"), the
 * library and its soname, and why it could not be loaded.
 */
int dl_git2_need(const char *purpose);

#endif
