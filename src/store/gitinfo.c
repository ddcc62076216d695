#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "gitinfo.h"
#include "mreg/git.h"
#include "util/strutil.h"
#include "util/dl_git2.h"
#include "util/url.h"

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void git_init(void)
{
	sym_git_libgit2_init();
}

/* The libgit2 message, for folding into ours. */
static const char *git_msg(void)
{
	const git_error *e = sym_git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

/*
 * Could libgit2 find a repository from @dir? Its search (flags 0) resolves
 * the path, then tries, in each folder from there up, FOLDER/.git (a folder
 * or a gitlink file) and FOLDER itself as a bare repository, which needs a
 * FOLDER/HEAD. So when no folder from @dir's real path up to the root holds
 * a ".git" or a "HEAD" of any kind, there is no repository to find, and
 * libgit2 need not even start: sym_git_libgit2_init() costs more than the rest
 * of a re-create (its TLS backend parses every system CA certificate). Any
 * doubt (a path that does not resolve, a name that is there) says yes. This
 * goes on past file-system boundaries, where libgit2 stops: a wider search
 * can only say yes more often.
 */
static bool might_be_in_git(const char *dir)
{
	char real[PATH_MAX + 8];
	size_t n;

	if (!realpath(dir, real))
		return true;
	n = strlen(real);
	for (;;) {
		struct stat st;
		size_t base = n > 1 ? n : 0; /* "/" is written as "" + "/.git" */
		memcpy(real + base, "/.git", 6);
		if (lstat(real, &st) == 0 || errno != ENOENT)
			return true;
		memcpy(real + base, "/HEAD", 6);
		if (lstat(real, &st) == 0 || errno != ENOENT)
			return true;
		if (base == 0)
			return false;
		while (n > 1 && real[n - 1] != '/')
			n--;
		if (n > 1)
			n--; /* the slash before the last name, unless it is the root's */
		real[n] = '\0';
	}
}

/* Open the repository containing @path (a file or folder); 1 if none. */
static int open_repo(git_repository **repo, const char *path)
{
	struct stat st;
	char *dir = NULL;
	int rc;

	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		dir = fs_dirname(path);
	if (!might_be_in_git(dir ? dir : path)) {
		free(dir);
		return 1;
	}
	if ((rc = dl_git2_need("reading the git repository around a model or the store (mreg "
			       "create, init, log, --commit)"))) {
		free(dir);
		errno = ELIBACC;
		return rc;
	}
	pthread_once(&git_once, git_init);
	rc = sym_git_repository_open_ext(repo, dir ? dir : path, 0, NULL);
	free(dir);
	if (rc == GIT_ENOTFOUND)
		return 1;
	if (rc < 0)
		return mreg_seterr(MREG_EIO, "%s: cannot open the git repository: %s", path,
				   git_msg());
	return 0;
}

char *gitinfo_worktree_root(const char *path)
{
	git_repository *repo = NULL;
	char *root = NULL;

	errno = 0;
	if (open_repo(&repo, path) != 0)
		return NULL; /* errno ELIBACC: libgit2 could not be loaded */
	if (!sym_git_repository_is_bare(repo) && sym_git_repository_workdir(repo)) {
		root = strdup(sym_git_repository_workdir(repo));
		size_t n = root ? strlen(root) : 0;
		if (n > 1 && root[n - 1] == '/')
			root[n - 1] = '\0';
	}
	sym_git_repository_free(repo);
	return root;
}

/* The path of @path relative to @root (both resolved), or NULL when outside. */
static char *relative_to(const char *root, const char *path)
{
	char rroot[PATH_MAX], rpath[PATH_MAX];
	size_t n;

	if (!realpath(root, rroot) || !realpath(path, rpath))
		return NULL;
	n = strlen(rroot);
	if (strncmp(rpath, rroot, n) || (rpath[n] != '/' && rpath[n] != '\0'))
		return NULL;
	return strdup(rpath[n] ? rpath + n + 1 : ".");
}

static char *remote_url(git_repository *repo)
{
	git_remote *remote = NULL;
	git_strarray names = {0};
	char *url = NULL;
	int err = 0;

	if (sym_git_remote_lookup(&remote, repo, "origin") < 0) {
		if (sym_git_remote_list(&names, repo) == 0 && names.count > 0)
			sym_git_remote_lookup(&remote, repo, names.strings[0]);
		sym_git_strarray_dispose(&names);
	}
	if (remote && sym_git_remote_url(remote) && !(url = url_redact(sym_git_remote_url(remote))))
		err = errno;
	sym_git_remote_free(remote);
	errno = err; /* ELIBACC: libcurl, which parses the URL, could not be loaded */
	return url;
}

/* Do the model's files differ from HEAD (modified, new, deleted)? */
static int is_dirty(git_repository *repo, const char *rel, int *dirty)
{
	git_status_options opts;
	git_status_list *list = NULL;
	char *spec[1] = {(char *)rel};
	int rc;

	sym_git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	/* A pathspec names a file or, as a prefix, everything under a folder. */
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	opts.pathspec.strings = spec;
	opts.pathspec.count = strcmp(rel, ".") ? 1 : 0;
	rc = sym_git_status_list_new(&list, repo, &opts);
	if (rc < 0)
		return mreg_seterr(MREG_EIO, "git status: %s", git_msg());
	*dirty = sym_git_status_list_entrycount(list) > 0;
	sym_git_status_list_free(list);
	return 0;
}

static bool in_tree(git_tree *tree, const char *path);

/* Is @rel tracked in the commit (a file or folder of its tree)? */
static bool in_head(git_object *commit, const char *rel)
{
	git_tree *tree = NULL;
	bool found;

	if (sym_git_commit_tree(&tree, (git_commit *)commit) < 0)
		return false;
	found = in_tree(tree, rel);
	sym_git_tree_free(tree);
	return found;
}

int gitinfo_provenance(mreg_source *src, const char *path, mreg_diag_list *diags)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	git_object *commit = NULL;
	char *rel = NULL, hex[GIT_OID_HEXSZ + 1];
	int rc, ignored = 0;

	rc = open_repo(&repo, path);
	if (rc == 1)
		return 0; /* outside git: nothing to record */
	if (rc)
		return rc;
	if (sym_git_repository_is_bare(repo)) {
		mreg_diag_add(diags, MREG_DIAG_NOTE, path, 0, 0, "git-bare",
			      "inside a bare git repository (no work tree): no provenance recorded");
		goto done;
	}
	rel = relative_to(sym_git_repository_workdir(repo), path);
	if (!rel)
		goto done; /* inside .git itself, or a path we cannot resolve */
	rc = sym_git_repository_head(&head, repo);
	if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
		mreg_diag_add(diags, MREG_DIAG_NOTE, path, 0, 0, "git-no-commit",
			      "the git repository has no commit yet: no provenance recorded");
		rc = 0;
		goto done;
	}
	if (rc < 0 || sym_git_reference_peel(&commit, head, GIT_OBJECT_COMMIT) < 0) {
		rc = mreg_seterr(MREG_EIO, "%s: cannot read git HEAD: %s", path, git_msg());
		goto done;
	}
	sym_git_oid_tostr(hex, sizeof(hex), sym_git_object_id(commit));
	src->git_commit = strdup(hex);
	src->git_branch =
		sym_git_reference_is_branch(head) ? str_dup(sym_git_reference_shorthand(head)) : NULL;
	src->git_path = strdup(rel);
	src->git_remote = remote_url(repo);
	if (!src->git_remote && errno == ELIBACC) {
		rc = MREG_EIO; /* the message says which library, and why */
		goto done;
	}
	src->git_dirty = -1;
	if (strcmp(rel, ".") && sym_git_ignore_path_is_ignored(&ignored, repo, rel) == 0 && ignored &&
	    !in_head(commit, rel)) {
		mreg_diag_add(diags, MREG_DIAG_NOTE, path, 0, 0, "git-ignored",
			      "the model is ignored by git (.gitignore): its files are not in commit "
			      "%.12s, so whether they changed is unknown", hex);
	} else if ((rc = is_dirty(repo, rel, &src->git_dirty))) {
		goto done;
	}
	if (!src->git_commit || !src->git_path)
		rc = mreg_seterr_nomem();
	if (!sym_git_reference_is_branch(head))
		mreg_diag_add(diags, MREG_DIAG_NOTE, path, 0, 0, "git-detached",
			      "git HEAD is detached at %.12s: no branch recorded", hex);
done:
	free(rel);
	sym_git_object_free(commit);
	sym_git_reference_free(head);
	sym_git_repository_free(repo);
	return rc;
}

int gitinfo_check_committable(const char *store_dir)
{
	char *root = gitinfo_worktree_root(store_dir);

	if (!root && errno == ELIBACC)
		return MREG_EIO; /* the message names the library */
	if (!root)
		return mreg_seterr(MREG_EINVALID,
				   "%s is not inside a git work tree: --commit needs one (git init, "
				   "then mreg init at its root)",
				   store_dir);
	free(root);
	return 0;
}

static int strv_push(char ***v, size_t *n, char *s)
{
	char **grown = realloc(*v, (*n + 1) * sizeof(**v));

	if (!grown)
		return mreg_seterr_nomem();
	*v = grown;
	grown[(*n)++] = s;
	return 0;
}

/* Add the file @path (in @repo's work tree) to the in-memory index @mem. */
static int index_add_file(git_index *mem, git_repository *repo, const char *path, char **rel_out)
{
	git_index_entry entry;
	git_oid blob;
	char *rel = relative_to(sym_git_repository_workdir(repo), path);

	*rel_out = rel;
	if (!rel)
		return mreg_seterr(MREG_EINVALID, "%s is outside the git work tree", path);
	if (sym_git_blob_create_from_disk(&blob, repo, path) < 0)
		return mreg_seterr(MREG_EIO, "git commit of %s: %s", path, git_msg());
	memset(&entry, 0, sizeof(entry));
	entry.mode = GIT_FILEMODE_BLOB;
	entry.id = blob;
	entry.path = rel;
	if (sym_git_index_add(mem, &entry) < 0)
		return mreg_seterr(MREG_EIO, "git commit of %s: %s", path, git_msg());
	return 0;
}

int gitinfo_commit_record(const char *store_dir, const char *record_path, const char *message,
			  const char *const *if_new, size_t if_new_count, char *commit_out)
{
	git_repository *repo = NULL;
	git_index *mem = NULL, *real = NULL;
	git_signature *sig = NULL;
	git_reference *head = NULL;
	git_commit *parent = NULL;
	git_tree *head_tree = NULL, *tree = NULL;
	git_oid tree_id, commit_id;
	char *rel = NULL, **staged = NULL;
	size_t nstaged = 0;
	int rc;

	if ((rc = open_repo(&repo, store_dir)) == 1)
		return gitinfo_check_committable(store_dir);
	if (rc)
		return rc;
	if (sym_git_signature_default(&sig, repo) < 0) {
		rc = mreg_seterr(MREG_EINVALID,
				 "git commit: no identity (set git config user.name and user.email): %s",
				 git_msg());
		goto done;
	}
	/* The new tree is HEAD's tree plus the record, built in an index of
	 * our own: whatever the user staged stays staged and uncommitted. */
	if (sym_git_index_new(&mem) < 0)
		goto git_fail;
	rc = sym_git_repository_head(&head, repo);
	if (rc == 0) {
		if (sym_git_reference_peel((git_object **)&parent, head, GIT_OBJECT_COMMIT) < 0 ||
		    sym_git_commit_tree(&head_tree, parent) < 0 || sym_git_index_read_tree(mem, head_tree) < 0)
			goto git_fail;
	} else if (rc != GIT_EUNBORNBRANCH && rc != GIT_ENOTFOUND) {
		goto git_fail;
	}
	rc = 0;
	if ((rc = index_add_file(mem, repo, record_path, &rel)))
		goto done;
	/* The store's own files go in with the first record that is committed,
	 * so that a clone is a store; later commits leave them alone (a user's
	 * uncommitted change to config.yaml is theirs to commit). */
	for (size_t i = 0; i < if_new_count; i++) {
		char *new_rel = relative_to(sym_git_repository_workdir(repo), if_new[i]);
		bool add = new_rel && fs_exists(if_new[i]) && !in_tree(head_tree, new_rel);
		if (add) {
			char *added = NULL;
			rc = index_add_file(mem, repo, if_new[i], &added);
			if (rc == 0 && (rc = strv_push(&staged, &nstaged, added)))
				free(added);
		}
		free(new_rel);
		if (rc)
			goto done;
	}
	if (sym_git_index_write_tree_to(&tree_id, mem, repo) < 0 ||
	    sym_git_tree_lookup(&tree, repo, &tree_id) < 0)
		goto git_fail;
	/* Updating "HEAD" moves the current branch (or a detached HEAD); libgit2
	 * refuses if HEAD moved since we read it. */
	if (sym_git_commit_create(&commit_id, repo, "HEAD", sig, sig, NULL, message, tree,
			      parent ? 1 : 0, (const git_commit **)&parent) < 0)
		goto git_fail;
	sym_git_oid_tostr(commit_out, GIT_OID_HEXSZ + 1, &commit_id);

	/* Stage the record in the real index too (same content as the commit), so
	 * git status shows it clean; no other entry is touched. */
	if (sym_git_repository_index(&real, repo) < 0 || sym_git_index_read(real, 0) < 0 ||
	    sym_git_index_add_bypath(real, rel) < 0)
		goto git_fail;
	for (size_t i = 0; i < nstaged; i++)
		if (sym_git_index_add_bypath(real, staged[i]) < 0)
			goto git_fail;
	if (sym_git_index_write(real) < 0)
		goto git_fail;
	goto done;
git_fail:
	rc = mreg_seterr(MREG_EIO, "git commit of %s: %s", record_path, git_msg());
done:
	free(rel);
	for (size_t i = 0; i < nstaged; i++)
		free(staged[i]);
	free(staged);
	sym_git_index_free(mem);
	sym_git_index_free(real);
	sym_git_signature_free(sig);
	sym_git_reference_free(head);
	sym_git_commit_free(parent);
	sym_git_tree_free(head_tree);
	sym_git_tree_free(tree);
	sym_git_repository_free(repo);
	return rc;
}

/* ---- history ---- */

typedef struct {
	mreg_log_entry *items;
	size_t count, cap;
} log_list;

static int log_add(log_list *l, const char *file, const git_commit *c, int deleted)
{
	const git_signature *a = sym_git_commit_author(c);
	char hex[GIT_OID_HEXSZ + 1];
	const char *base = strrchr(file, '/');
	size_t blen;

	base = base ? base + 1 : file;
	blen = strlen(base);
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		mreg_log_entry *n = realloc(l->items, cap * sizeof(*n));
		if (!n)
			return mreg_seterr_nomem();
		l->items = n;
		l->cap = cap;
	}
	mreg_log_entry *e = &l->items[l->count];
	memset(e, 0, sizeof(*e));
	sym_git_oid_tostr(hex, sizeof(hex), sym_git_commit_id(c));
	e->version = strndup(base, blen - strlen(".yaml"));
	e->commit = strdup(hex);
	e->author = str_printf("%s <%s>", a->name, a->email);
	e->time = (int64_t)sym_git_commit_time(c);
	const char *summary = sym_git_commit_summary((git_commit *)c);
	e->summary = str_dup(summary ? summary : "");
	e->deleted = deleted;
	l->count++;
	if (!e->version || !e->commit || !e->author || !e->summary)
		return mreg_seterr_nomem();
	return 0;
}

static bool in_tree(git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;

	if (!tree || sym_git_tree_entry_bypath(&e, tree, path) < 0)
		return false;
	sym_git_tree_entry_free(e);
	return true;
}

/* Records this commit added or removed with respect to all its parents. */
static int log_commit(log_list *l, git_repository *repo, git_commit *c, const char *prefix)
{
	git_tree *tree = NULL, *first = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	char *spec[1] = {(char *)prefix};
	unsigned int nparents = sym_git_commit_parentcount(c);
	int rc = 0;

	sym_git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.pathspec.strings = spec;
	opts.pathspec.count = 1;
	if (sym_git_commit_tree(&tree, c) < 0)
		goto git_fail;
	if (nparents > 0) {
		git_commit *p = NULL;
		if (sym_git_commit_parent(&p, c, 0) < 0 || sym_git_commit_tree(&first, p) < 0) {
			sym_git_commit_free(p);
			goto git_fail;
		}
		sym_git_commit_free(p);
	}
	if (sym_git_diff_tree_to_tree(&diff, repo, first, tree, &opts) < 0)
		goto git_fail;
	for (size_t i = 0; i < sym_git_diff_num_deltas(diff) && rc == 0; i++) {
		const git_diff_delta *d = sym_git_diff_get_delta(diff, i);
		const char *file = d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path;
		size_t n = strlen(file);
		bool seen_elsewhere = false;

		if (d->status != GIT_DELTA_ADDED && d->status != GIT_DELTA_DELETED)
			continue;
		if (n < 5 || strcmp(file + n - 5, ".yaml"))
			continue;
		/* A merge adds a record only if no parent had it. */
		for (unsigned int k = 1; k < nparents && !seen_elsewhere; k++) {
			git_commit *p = NULL;
			git_tree *pt = NULL;
			if (sym_git_commit_parent(&p, c, k) == 0 && sym_git_commit_tree(&pt, p) == 0)
				seen_elsewhere = in_tree(pt, file) == (d->status == GIT_DELTA_ADDED);
			sym_git_tree_free(pt);
			sym_git_commit_free(p);
		}
		if (!seen_elsewhere)
			rc = log_add(l, file, c, d->status == GIT_DELTA_DELETED);
	}
	goto done;
git_fail:
	rc = mreg_seterr(MREG_EIO, "git history: %s", git_msg());
done:
	sym_git_diff_free(diff);
	sym_git_tree_free(tree);
	sym_git_tree_free(first);
	return rc;
}

static int no_history(const char *store_dir)
{
	return mreg_seterr(MREG_EINVALID, "%s is not inside a git work tree: no history to show",
			   store_dir);
}

int gitinfo_history(mreg_log_entry **out, size_t *count, const char *store_dir, const char *name)
{
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	log_list l = {0};
	char *models = NULL, *rel = NULL, *prefix = NULL;
	git_oid oid;
	int rc;

	*out = NULL;
	*count = 0;
	/* Outside git libgit2 is not even loaded: nothing of it to free. */
	if ((rc = open_repo(&repo, store_dir)) == 1)
		return no_history(store_dir);
	if (rc)
		return rc;
	if (sym_git_repository_is_bare(repo)) {
		rc = no_history(store_dir);
		goto done;
	}
	models = path_join(store_dir, "models");
	rel = models ? relative_to(sym_git_repository_workdir(repo), models) : NULL;
	prefix = rel ? str_printf("%s/%s/", rel, name) : NULL;
	if (!prefix) {
		rc = mreg_seterr(MREG_EINVALID, "%s is outside the git work tree", models);
		goto done;
	}
	if (sym_git_revwalk_new(&walk, repo) < 0)
		goto git_fail;
	sym_git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	rc = sym_git_revwalk_push_head(walk);
	if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
		rc = 0; /* no commit yet: no history */
		goto done;
	}
	if (rc < 0)
		goto git_fail;
	while (rc == 0 && sym_git_revwalk_next(&oid, walk) == 0) {
		git_commit *c = NULL;
		if (sym_git_commit_lookup(&c, repo, &oid) < 0)
			goto git_fail;
		rc = log_commit(&l, repo, c, prefix);
		sym_git_commit_free(c);
	}
	goto done;
git_fail:
	rc = mreg_seterr(MREG_EIO, "git history of %s: %s", name, git_msg());
done:
	if (rc) {
		mreg_log_free(l.items, l.count);
	} else {
		*out = l.items;
		*count = l.count;
	}
	free(models);
	free(rel);
	free(prefix);
	sym_git_revwalk_free(walk);
	sym_git_repository_free(repo);
	return rc;
}
