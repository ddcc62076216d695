/*
 * triton_model: helpers the plugin's files share. A diagnostic points into
 * config.pbtxt (or at a file or folder of the model) and counts toward the
 * model's errors, so that an ensemble can report a failed step the way
 * Triton does; folders are listed the way Triton core's filesystem layer
 * lists them (filesystem/api.cc: IsDirectory, GetDirectorySubdirs).
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/error_priv.h"
#include "util/strutil.h"
#include "triton/triton_priv.h"

static void vreport(trepo *r, tmodel *m, mreg_diag_severity sev, const char *file, tpos p,
                    const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));
static void vreport(trepo *r, tmodel *m, mreg_diag_severity sev, const char *file, tpos p,
                    const char *code, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0) {
		r->nomem = true;
		return;
	}
	/* One line per diagnostic, whatever the names in the config hold. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (sev == MREG_DIAG_ERROR && m) {
		m->errors++;
		if (!m->first_error && !(m->first_error = str_dup(msg)))
			r->nomem = true;
	}
	if (m && m->silent) {
		free(msg);
		return;
	}
	if (mreg_diag_add(r->diags, sev, file, p.line, p.column, code, "%s", msg))
		r->nomem = true;
	free(msg);
}

/* A problem in config.pbtxt (or, without one, in the model folder). */
void tm_cfg_diag(trepo *r, tmodel *m, mreg_diag_severity sev, tpos p, const char *code,
                 const char *fmt, ...)
{
	va_list ap;

	if (!m->has_config)
		p = (tpos){0, 0};
	va_start(ap, fmt);
	vreport(r, m, sev, m->has_config ? m->config_file : m->dir, p, code, fmt, ap);
	va_end(ap);
}

/* A problem with a file or folder of the model. */
void tm_path_diag(trepo *r, tmodel *m, mreg_diag_severity sev, const char *path, const char *code,
                  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(r, m, sev, path, (tpos){0, 0}, code, fmt, ap);
	va_end(ap);
}

bool tm_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool tm_child_exists(const char *dir, const char *name, int want_dir)
{
	char *p = path_join(dir, name);
	bool ok = false;

	if (p) {
		if (want_dir < 0)
			ok = exists(p);
		else
			ok = want_dir ? tm_is_dir(p) : (exists(p) && !tm_is_dir(p));
	}
	free(p);
	return ok;
}

int tm_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void tm_free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The subfolders of @dir (following symlinks, as Triton's IsDirectory
 * does), sorted bytewise. A folder that cannot be read has none. */
int tm_list_subdirs(const char *dir, char ***out, size_t *count, size_t limit)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*count = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) && (!limit || n < limit)) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* The folder listing says what most entries are: only links and
		 * entries of unknown type cost a stat (probing a folder of 5,000
		 * files must not stat each). */
		if (e->d_type != DT_DIR && e->d_type != DT_LNK && e->d_type != DT_UNKNOWN)
			continue;
		if (e->d_type != DT_DIR) {
			char *p = path_join(dir, e->d_name);
			if (!p)
				goto nomem;
			bool sub = tm_is_dir(p);
			free(p);
			if (!sub)
				continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		if (!(v[n] = str_dup(e->d_name)))
			goto nomem;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), tm_cmp_str);
	*out = v;
	*count = n;
	return 0;
nomem:
	closedir(d);
	tm_free_strv(v, n);
	return MREG_ENOMEM;
}

bool tm_name_in(const pbtxt_msg *cfg, const char *field, const char *name)
{
	ts_iter it;
	const pbtxt_value *v;

	ts_iter_init(&it, cfg, field);
	while ((v = ts_iter_next(&it)))
		if (!strcmp(ts_str(v->msg, "name"), name))
			return true;
	return false;
}
