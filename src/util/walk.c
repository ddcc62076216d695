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
	size_t cap;
	char *root_real;      /* realpath of the model folder */
	size_t root_real_len;
	int rc;               /* MREG_ENOMEM once an allocation failed */
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
	res->total_size += f->size;
	res->count++;
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

static void walk_dir(walker *w, const char *abs, const char *rel, const ancestor *up);

static void visit(walker *w, const char *abs, const char *rel, const ancestor *up)
{
	struct stat lst, st;
	const char *shown = abs;

	if (!utf8_printable(rel)) {
		diag(w, MREG_DIAG_ERROR, shown, "custom-bad-name",
		     "file name is not valid UTF-8 or holds control characters");
		return;
	}
	if (lstat(abs, &lst) < 0) {
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
		if (strncmp(real, w->root_real, w->root_real_len) != 0 ||
		    (real[w->root_real_len] != '/' && real[w->root_real_len] != '\0')) {
			diag(w, MREG_DIAG_ERROR, shown, "custom-symlink-escape",
			     "symlink points outside the model folder, to %s", real);
			return;
		}
		if (stat(abs, &st) < 0) {
			diag(w, MREG_DIAG_ERROR, shown, "custom-unreadable", "cannot stat: %s",
			     strerror(errno));
			return;
		}
	}
	if (S_ISDIR(st.st_mode)) {
		for (const ancestor *a = up; a; a = a->up) {
			if (a->dev == st.st_dev && a->ino == st.st_ino) {
				diag(w, MREG_DIAG_ERROR, shown, "custom-symlink-loop",
				     "symlink to a folder that contains it");
				return;
			}
		}
		ancestor me = {st.st_dev, st.st_ino, up, up ? up->depth + 1 : 0};
		if (me.depth > WALK_MAX_DEPTH) {
			diag(w, MREG_DIAG_ERROR, shown, "custom-too-deep",
			     "folders nested more than %d deep; not walked further",
			     WALK_MAX_DEPTH);
			return;
		}
		walk_dir(w, abs, rel, &me);
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
	if (!readable(abs, false)) {
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

static void walk_dir(walker *w, const char *abs, const char *rel, const ancestor *up)
{
	DIR *d = opendir(abs);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

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
				visit(w, cabs, crel, up);
		}
		free(cabs);
		free(crel);
	}
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

int walk_model(walk_result *out, const char *path, mreg_diag_list *diags)
{
	walker w = {.res = out, .diags = diags};
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
		walk_dir(&w, path, "", &top);
		if (out->count)
			qsort(out->files, out->count, sizeof(*out->files), cmp_files);
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
	free(res->root);
	memset(res, 0, sizeof(*res));
}
