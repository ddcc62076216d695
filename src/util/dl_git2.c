/* libgit2's functions that mreg calls, resolved on first use. */
#include <pthread.h>

#include "config.h"
#include "dl_git2.h"
#include "dl_library.h"

__typeof__(git_blob_create_from_disk) *sym_git_blob_create_from_disk;
__typeof__(git_commit_author) *sym_git_commit_author;
__typeof__(git_commit_create) *sym_git_commit_create;
__typeof__(git_commit_free) *sym_git_commit_free;
__typeof__(git_commit_id) *sym_git_commit_id;
__typeof__(git_commit_lookup) *sym_git_commit_lookup;
__typeof__(git_commit_parent) *sym_git_commit_parent;
__typeof__(git_commit_parentcount) *sym_git_commit_parentcount;
__typeof__(git_commit_summary) *sym_git_commit_summary;
__typeof__(git_commit_time) *sym_git_commit_time;
__typeof__(git_commit_tree) *sym_git_commit_tree;
__typeof__(git_diff_free) *sym_git_diff_free;
__typeof__(git_diff_get_delta) *sym_git_diff_get_delta;
__typeof__(git_diff_num_deltas) *sym_git_diff_num_deltas;
__typeof__(git_diff_options_init) *sym_git_diff_options_init;
__typeof__(git_diff_tree_to_tree) *sym_git_diff_tree_to_tree;
__typeof__(git_error_last) *sym_git_error_last;
__typeof__(git_ignore_path_is_ignored) *sym_git_ignore_path_is_ignored;
__typeof__(git_index_add) *sym_git_index_add;
__typeof__(git_index_add_bypath) *sym_git_index_add_bypath;
__typeof__(git_index_free) *sym_git_index_free;
__typeof__(git_index_new) *sym_git_index_new;
__typeof__(git_index_read) *sym_git_index_read;
__typeof__(git_index_read_tree) *sym_git_index_read_tree;
__typeof__(git_index_write) *sym_git_index_write;
__typeof__(git_index_write_tree_to) *sym_git_index_write_tree_to;
__typeof__(git_libgit2_init) *sym_git_libgit2_init;
__typeof__(git_object_free) *sym_git_object_free;
__typeof__(git_object_id) *sym_git_object_id;
__typeof__(git_oid_tostr) *sym_git_oid_tostr;
__typeof__(git_reference_free) *sym_git_reference_free;
__typeof__(git_reference_is_branch) *sym_git_reference_is_branch;
__typeof__(git_reference_peel) *sym_git_reference_peel;
__typeof__(git_reference_shorthand) *sym_git_reference_shorthand;
__typeof__(git_remote_free) *sym_git_remote_free;
__typeof__(git_remote_list) *sym_git_remote_list;
__typeof__(git_remote_lookup) *sym_git_remote_lookup;
__typeof__(git_remote_url) *sym_git_remote_url;
__typeof__(git_repository_free) *sym_git_repository_free;
__typeof__(git_repository_head) *sym_git_repository_head;
__typeof__(git_repository_index) *sym_git_repository_index;
__typeof__(git_repository_is_bare) *sym_git_repository_is_bare;
__typeof__(git_repository_open_ext) *sym_git_repository_open_ext;
__typeof__(git_repository_workdir) *sym_git_repository_workdir;
__typeof__(git_revwalk_free) *sym_git_revwalk_free;
__typeof__(git_revwalk_new) *sym_git_revwalk_new;
__typeof__(git_revwalk_next) *sym_git_revwalk_next;
__typeof__(git_revwalk_push_head) *sym_git_revwalk_push_head;
__typeof__(git_revwalk_sorting) *sym_git_revwalk_sorting;
__typeof__(git_signature_default) *sym_git_signature_default;
__typeof__(git_signature_free) *sym_git_signature_free;
__typeof__(git_status_list_entrycount) *sym_git_status_list_entrycount;
__typeof__(git_status_list_free) *sym_git_status_list_free;
__typeof__(git_status_list_new) *sym_git_status_list_new;
__typeof__(git_status_options_init) *sym_git_status_options_init;
__typeof__(git_strarray_dispose) *sym_git_strarray_dispose;
__typeof__(git_tree_entry_bypath) *sym_git_tree_entry_bypath;
__typeof__(git_tree_entry_free) *sym_git_tree_entry_free;
__typeof__(git_tree_free) *sym_git_tree_free;
__typeof__(git_tree_lookup) *sym_git_tree_lookup;

static const dl_symbol symbols[] = {
	DL_SYMBOL(git_blob_create_from_disk),
	DL_SYMBOL(git_commit_author),
	DL_SYMBOL(git_commit_create),
	DL_SYMBOL(git_commit_free),
	DL_SYMBOL(git_commit_id),
	DL_SYMBOL(git_commit_lookup),
	DL_SYMBOL(git_commit_parent),
	DL_SYMBOL(git_commit_parentcount),
	DL_SYMBOL(git_commit_summary),
	DL_SYMBOL(git_commit_time),
	DL_SYMBOL(git_commit_tree),
	DL_SYMBOL(git_diff_free),
	DL_SYMBOL(git_diff_get_delta),
	DL_SYMBOL(git_diff_num_deltas),
	DL_SYMBOL(git_diff_options_init),
	DL_SYMBOL(git_diff_tree_to_tree),
	DL_SYMBOL(git_error_last),
	DL_SYMBOL(git_ignore_path_is_ignored),
	DL_SYMBOL(git_index_add),
	DL_SYMBOL(git_index_add_bypath),
	DL_SYMBOL(git_index_free),
	DL_SYMBOL(git_index_new),
	DL_SYMBOL(git_index_read),
	DL_SYMBOL(git_index_read_tree),
	DL_SYMBOL(git_index_write),
	DL_SYMBOL(git_index_write_tree_to),
	DL_SYMBOL(git_libgit2_init),
	DL_SYMBOL(git_object_free),
	DL_SYMBOL(git_object_id),
	DL_SYMBOL(git_oid_tostr),
	DL_SYMBOL(git_reference_free),
	DL_SYMBOL(git_reference_is_branch),
	DL_SYMBOL(git_reference_peel),
	DL_SYMBOL(git_reference_shorthand),
	DL_SYMBOL(git_remote_free),
	DL_SYMBOL(git_remote_list),
	DL_SYMBOL(git_remote_lookup),
	DL_SYMBOL(git_remote_url),
	DL_SYMBOL(git_repository_free),
	DL_SYMBOL(git_repository_head),
	DL_SYMBOL(git_repository_index),
	DL_SYMBOL(git_repository_is_bare),
	DL_SYMBOL(git_repository_open_ext),
	DL_SYMBOL(git_repository_workdir),
	DL_SYMBOL(git_revwalk_free),
	DL_SYMBOL(git_revwalk_new),
	DL_SYMBOL(git_revwalk_next),
	DL_SYMBOL(git_revwalk_push_head),
	DL_SYMBOL(git_revwalk_sorting),
	DL_SYMBOL(git_signature_default),
	DL_SYMBOL(git_signature_free),
	DL_SYMBOL(git_status_list_entrycount),
	DL_SYMBOL(git_status_list_free),
	DL_SYMBOL(git_status_list_new),
	DL_SYMBOL(git_status_options_init),
	DL_SYMBOL(git_strarray_dispose),
	DL_SYMBOL(git_tree_entry_bypath),
	DL_SYMBOL(git_tree_entry_free),
	DL_SYMBOL(git_tree_free),
	DL_SYMBOL(git_tree_lookup),
};

static dl_library lib = {.label = "libgit2", .soname = MREG_LIBGIT2_SONAME};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	dl_library_open(&lib, symbols, sizeof(symbols) / sizeof(symbols[0]));
}

int dl_git2_need(const char *purpose)
{
	pthread_once(&once, load);
	return dl_library_check(&lib, purpose);
}
