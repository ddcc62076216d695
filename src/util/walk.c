#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_priv.h"
#include "path.h"
#include "strutil.h"
#include "walk.h"

typedef struct {
	walk_result *res;
	mreg_diag_list *diags;
	size_t cap, dir_cap, link_cap;
	char *root_real;      /* realpath of the model folder */
	size_t root_real_len;
	int rc;               /* MREG_ENOMEM once an allocation failed */
	walk_vouch_fn vouch;  /* may spare the readability check; NULL: none */
	void *vouch_ctx;
} walker;

/* Directories on the current path, to stop symlink loops. */
typedef struct ancestor {
	dev_t dev;
	ino_t ino;
	const struct ancestor *up;
	unsigned int depth; /* folders between the model folder and this one */
} ancestor;

/*
 * Deeper than this is refused rather than walked: the walk recurses once per
 * level, and no model nests folders this far (a hostile one nests 2,000 to
 * exhaust the stack).
 */
#define WALK_MAX_DEPTH 256

static void diag(walker *w, mreg_diag_severity sev, const char *file, const char *code,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void diag(walker *w, mreg_diag_severity sev, const char *file, const char *code,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (mreg_diag_add(w->diags, sev, file, 0, 0, code, "%s", msg) < 0)
		w->rc = MREG_ENOMEM;
}

static void add_file(walker *w, const char *rel, const char *abs, const struct stat *st)
{
	walk_result *res = w->res;

	if (res->count == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		walk_file *f = realloc(res->files, cap * sizeof(*f));
		if (!f) {
			w->rc = MREG_ENOMEM;
			return;
		}
		res->files = f;
		w->cap = cap;
	}
	walk_file *f = &res->files[res->count];
	f->rel = strdup(rel);
	f->abs = strdup(abs);
	if (!f->rel || !f->abs) {
		free(f->rel);
		free(f->abs);
		w->rc = MREG_ENOMEM;
		return;
	}
	f->size = (uint64_t)st->st_size;
	f->mode = st->st_mode & 0777;
	f->st = *st;
	res->total_size += f->size;
	res->count++;
}

static bool grow(walker *w, void **items, size_t count, size_t *cap, size_t size)
{
	if (count < *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 16;
	void *p = realloc(*items, n * size);
	if (!p) {
		w->rc = MREG_ENOMEM;
		return false;
	}
	*items = p;
	*cap = n;
	return true;
}

static void add_empty_dir(walker *w, const char *rel, const struct stat *st)
{
	walk_result *res = w->res;

	if (!grow(w, (void **)&res->dirs, res->dir_count, &w->dir_cap, sizeof(*res->dirs)))
		return;
	walk_empty_dir *d = &res->dirs[res->dir_count];
	if (!(d->rel = strdup(rel))) {
		w->rc = MREG_ENOMEM;
		return;
	}
	d->mode = st->st_mode & 0777;
	res->dir_count++;
}

static void add_link(walker *w, const char *rel, const char *target)
{
	walk_result *res = w->res;

	if (!grow(w, (void **)&res->links, res->link_count, &w->link_cap, sizeof(*res->links)))
		return;
	walk_link *l = &res->links[res->link_count];
	l->rel = strdup(rel);
	l->target = strdup(target);
	if (!l->rel || !l->target) {
		free(l->rel);
		free(l->target);
		w->rc = MREG_ENOMEM;
		return;
	}
	res->link_count++;
}

/* Is @real (a resolved path) the model folder or inside it? */
static bool real_inside(const char *root_real, size_t root_len, const char *real)
{
	return strncmp(real, root_real, root_len) == 0 &&
	       (real[root_len] == '/' || real[root_len] == '\0');
}

/* Does the part of @real below the model folder pass through a skipped folder? */
static bool in_skipped(const char *below)
{
	return !path_is_valid(below + strspn(below, "/"), PATH_REJECT_DOTGIT | PATH_REJECT_DOTMREG);
}

bool walk_link_inside(const char *path, const char *target)
{
	size_t depth = 0;
	const char *p;

	if (!target[0] || target[0] == '/' || strlen(target) >= PATH_MAX ||
	    !utf8_printable(target))
		return false;
	/* The link's own folder: one level per '/' in its path. */
	for (p = path; *p; p++)
		if (*p == '/')
			depth++;
	for (p = target; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2)) {
			if (depth == 0)
				return false;
			depth--;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

int walk_link_check(const char *root, const char *rel)
{
	char root_real[PATH_MAX], real[PATH_MAX];
	char *abs = path_join(root, rel);
	int rc = 0;

	if (!abs)
		return mreg_seterr_nomem();
	if (!realpath(root, root_real))
		rc = mreg_seterr_errno("%s", root);
	else if (!realpath(abs, real))
		rc = mreg_seterr(MREG_EINVALID, "symbolic link '%s' %s: refused", rel,
				 errno == ELOOP ? "is a loop"
				 : errno == ENOENT || errno == ENOTDIR ? "points to nothing in the model"
								     : strerror(errno));
	else if (!real_inside(root_real, strcmp(root_real, "/") ? strlen(root_real) : 0, real))
		rc = mreg_seterr(MREG_EINVALID,
				 "symbolic link '%s' leads outside the model (to %s): refused", rel,
				 real);
	free(abs);
	return rc;
}

/* Can we really read it? (access() says yes to root for any mode.) */
static bool readable(const char *abs, bool dir)
{
	int fd = open(abs, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (dir ? O_DIRECTORY : 0));

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * The same question for the entry @name of the open folder @dfd, without
 * opening the file: the kernel's permission check for the effective ids
 * (mode bits, ACLs, the security module), as open() would make it, and for
 * root the same yes open() gives. One call instead of open and close, and
 * no path walked from the root (a folder of 5,000 files pays it 5,000 times).
 */
static bool readable_at(int dfd, const char *name)
{
	return faccessat(dfd, name, R_OK, AT_EACCESS) == 0;
}

static void walk_dir(walker *w, const char *abs, const char *rel, const struct stat *st,
		     const ancestor *up);

/* Is the folder @st one of those on the current path? (Following it would loop.) */
static bool is_ancestor(const ancestor *up, const struct stat *st)
{
	for (const ancestor *a = up; a; a = a->up)
		if (a->dev == st->st_dev && a->ino == st->st_ino)
			return true;
	return false;
}

/* @abs is the entry @name of the open folder @dfd (-1: use @abs alone). */
static void visit(walker *w, int dfd, const char *name, const char *abs, const char *rel,
		  const ancestor *up)
{
	struct stat lst, st;
	const char *shown = abs;

	if (!utf8_printable(rel)) {
		diag(w, MREG_DIAG_ERROR, shown, "custom-bad-name",
		     "file name is not valid UTF-8 or holds control characters");
		return;
	}
	if ((dfd >= 0 ? fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW) : lstat(abs, &lst)) < 0) {
		diag(w, MREG_DIAG_ERROR, shown, "custom-unreadable", "cannot stat: %s",
		     strerror(errno));
		return;
	}
	st = lst;
	if (S_ISLNK(lst.st_mode)) {
		char real[PATH_MAX];
		if (!realpath(abs, real)) {
			if (errno == ENOENT)
				diag(w, MREG_DIAG_ERROR, shown, "custom-symlink-dangling",
				     "symlink points to a missing file");
			else if (errno == ELOOP)
				diag(w, MREG_DIAG_ERROR, shown, "custom-symlink-loop",
				     "symlink loop");
			else
				diag(w, MREG_DIAG_ERROR, shown, "custom-unreadable",
				     "cannot resolve symlink: %s", strerror(errno));
			return;
		}
		if (!real_inside(w->root_real, w->root_real_len, real)) {
			diag(w, MREG_DIAG_ERROR, shown, "custom-symlink-escape",
			     "symlink points outside the model folder, to %s", real);
			return;
		}
		if (stat(abs, &st) < 0) {
			diag(w, MREG_DIAG_ERROR, shown, "custom-unreadable", "cannot stat: %s",
			     strerror(errno));
			return;
		}
		if (S_ISDIR(st.st_mode) && is_ancestor(up, &st)) {
			diag(w, MREG_DIAG_ERROR, shown, "custom-symlink-loop",
			     "symlink to a folder that contains it");
			return;
		}
		char target[PATH_MAX];
		ssize_t n = readlink(abs, target, sizeof(target) - 1);
		if (n < 0) {
			diag(w, MREG_DIAG_ERROR, shown, "custom-unreadable", "cannot read symlink: %s",
			     strerror(errno));
			return;
		}
		target[n] = '\0';
		/* Kept as a link when it reads the same wherever the model is written
		 * out; otherwise (absolute, or through a folder that is not stored) the
		 * model holds a copy of what it points to, as it always did. */
		if (walk_link_inside(rel, target) && !in_skipped(real + w->root_real_len)) {
			add_link(w, rel, target);
			return;
		}
		diag(w, MREG_DIAG_NOTE, shown, "custom-symlink-copied",
		     "symlink to %s is stored as a copy of what it points to (only relative links "
		     "that stay inside the model are kept as links)",
		     target);
	}
	if (S_ISDIR(st.st_mode)) {
		if (is_ancestor(up, &st)) {
			diag(w, MREG_DIAG_ERROR, shown, "custom-symlink-loop",
			     "symlink to a folder that contains it");
			return;
		}
		ancestor me = {st.st_dev, st.st_ino, up, up ? up->depth + 1 : 0};
		if (me.depth > WALK_MAX_DEPTH) {
			diag(w, MREG_DIAG_ERROR, shown, "custom-too-deep",
			     "folders nested more than %d deep; not walked further",
			     WALK_MAX_DEPTH);
			return;
		}
		walk_dir(w, abs, rel, &st, &me);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		const char *what = S_ISFIFO(st.st_mode)   ? "a FIFO"
				   : S_ISSOCK(st.st_mode) ? "a socket"
				   : S_ISCHR(st.st_mode)  ? "a character device"
				   : S_ISBLK(st.st_mode)  ? "a block device"
							  : "not a regular file";
		diag(w, MREG_DIAG_ERROR, shown, "custom-special-file",
		     "%s cannot be part of a model", what);
		return;
	}
	if (!(w->vouch && w->vouch(w->vouch_ctx, &st)) &&
	    !(dfd >= 0 ? readable_at(dfd, name) : readable(abs, false))) {
		diag(w, MREG_DIAG_ERROR, shown, "custom-unreadable", "cannot read: %s",
		     strerror(errno));
		return;
	}
	add_file(w, rel, abs, &st);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(walker *w, const char *abs, const char *rel, const struct stat *st,
		     const ancestor *up)
{
	DIR *d = opendir(abs);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	size_t kept = w->res->count + w->res->dir_count + w->res->link_count;

	if (!d) {
		diag(w, MREG_DIAG_ERROR, abs, "custom-unreadable", "cannot read folder: %s",
		     strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				w->rc = MREG_ENOMEM;
				goto done;
			}
			names = nn;
		}
		if (!(names[n] = strdup(e->d_name))) {
			w->rc = MREG_ENOMEM;
			goto done;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && w->rc == 0; i++) {
		char *cabs = path_join(abs, names[i]);
		char *crel = rel[0] ? str_printf("%s/%s", rel, names[i]) : strdup(names[i]);
		bool skip = false;

		if (!cabs || !crel) {
			w->rc = MREG_ENOMEM;
		} else {
			/* The same rule as bundles and records (util/path.c): no
			 * .git or .mreg, in any letter case, folder or file (a
			 * submodule's .git is a file), is ever part of a model. */
			skip = !path_is_valid(names[i], PATH_REJECT_DOTGIT | PATH_REJECT_DOTMREG);
			if (skip)
				diag(w, MREG_DIAG_NOTE, cabs, "custom-skipped",
				     "%s is git's or mreg's, not part of a model; skipped", names[i]);
			else
				visit(w, dirfd(d), names[i], cabs, crel, up);
		}
		free(cabs);
		free(crel);
	}
	/* A folder below the top that keeps nothing is kept itself, empty. */
	if (w->rc == 0 && rel[0] && kept == w->res->count + w->res->dir_count + w->res->link_count)
		add_empty_dir(w, rel, st);
done:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const walk_file *)a)->rel, ((const walk_file *)b)->rel);
}

static int cmp_dirs(const void *a, const void *b)
{
	return strcmp(((const walk_empty_dir *)a)->rel, ((const walk_empty_dir *)b)->rel);
}

static int cmp_links(const void *a, const void *b)
{
	return strcmp(((const walk_link *)a)->rel, ((const walk_link *)b)->rel);
}

int walk_model(walk_result *out, const char *path, mreg_diag_list *diags)
{
	return walk_model_vouched(out, path, diags, NULL, NULL);
}

int walk_model_vouched(walk_result *out, const char *path, mreg_diag_list *diags,
		       walk_vouch_fn vouch, void *ctx)
{
	walker w = {.res = out, .diags = diags, .vouch = vouch, .vouch_ctx = ctx};
	struct stat st;
	char real[PATH_MAX];

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return mreg_seterr(MREG_ENOTFOUND, "%s: no such file or folder", path);
		return mreg_seterr_errno("%s", path);
	}
	if (!realpath(path, real))
		return mreg_seterr_errno("%s", path);
	out->root = strdup(path);
	if (!out->root)
		return mreg_seterr_nomem();

	if (S_ISREG(st.st_mode)) {
		const char *base = strrchr(real, '/');
		out->is_file = true;
		/* A single file: the "folder" is its own path, so nothing may escape. */
		w.root_real = real;
		w.root_real_len = strlen(real);
		if (!utf8_printable(base + 1))
			diag(&w, MREG_DIAG_ERROR, path, "custom-bad-name",
			     "file name is not valid UTF-8 or holds control characters");
		else if (!readable(path, false))
			diag(&w, MREG_DIAG_ERROR, path, "custom-unreadable", "cannot read: %s",
			     strerror(errno));
		else
			add_file(&w, base + 1, path, &st);
	} else if (S_ISDIR(st.st_mode)) {
		ancestor top = {st.st_dev, st.st_ino, NULL, 0};
		w.root_real = real;
		w.root_real_len = strcmp(real, "/") ? strlen(real) : 0;
		walk_dir(&w, path, "", &st, &top);
		if (out->count)
			qsort(out->files, out->count, sizeof(*out->files), cmp_files);
		if (out->dir_count)
			qsort(out->dirs, out->dir_count, sizeof(*out->dirs), cmp_dirs);
		if (out->link_count)
			qsort(out->links, out->link_count, sizeof(*out->links), cmp_links);
		if (w.rc == 0 && out->count == 0)
			diag(&w, MREG_DIAG_ERROR, path, "custom-empty",
			     "the model folder holds no files");
	} else {
		diag(&w, MREG_DIAG_ERROR, path, "custom-special-file",
		     "a model must be a regular file or a folder");
	}
	if (w.rc)
		return mreg_seterr_nomem();
	return 0;
}

void walk_result_dispose(walk_result *res)
{
	for (size_t i = 0; i < res->count; i++) {
		free(res->files[i].rel);
		free(res->files[i].abs);
	}
	free(res->files);
	for (size_t i = 0; i < res->dir_count; i++)
		free(res->dirs[i].rel);
	free(res->dirs);
	for (size_t i = 0; i < res->link_count; i++) {
		free(res->links[i].rel);
		free(res->links[i].target);
	}
	free(res->links);
	free(res->root);
	memset(res, 0, sizeof(*res));
}
