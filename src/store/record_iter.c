/* Every record of a store, one at a time, in listing order (see record_iter.h). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record_iter.h"
#include "record_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/strutil.h"

static int cmp_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_list_dir(char ***out, size_t *count, const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, slen = suffix ? strlen(suffix) : 0;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (!d)
		return errno == ENOENT ? 0 : mreg_seterr_errno("%s", dir);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		if (suffix && (len <= slen || strcmp(e->d_name + len - slen, suffix)))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*nn));
			if (!nn) {
				rc = mreg_seterr_nomem();
				break;
			}
			names = nn;
		}
		if (!(names[n] = strndup(e->d_name, len - slen))) {
			rc = mreg_seterr_nomem();
			break;
		}
		n++;
	}
	closedir(d);
	if (rc) {
		store_free_names(names, n);
		return rc;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_strings);
	*out = names;
	*count = n;
	return 0;
}

void store_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int store_peek_versions(version_peek **out, size_t *count, mreg_store *s, const char *model,
			bool peek)
{
	char *dir = store_model_dir(s, model);
	char **versions = NULL;
	size_t n = 0;
	version_peek *v = NULL;
	int rc;

	*out = NULL;
	*count = 0;
	if (!dir)
		return mreg_seterr_nomem();
	rc = store_list_dir(&versions, &n, dir, ".yaml");
	free(dir);
	if (rc || n == 0)
		return rc;
	if (!(v = calloc(n, sizeof(*v)))) {
		store_free_names(versions, n);
		return mreg_seterr_nomem();
	}
	for (size_t i = 0; i < n; i++) {
		v[i].version = versions[i]; /* the array takes the names */
		if (!peek || rc)
			continue;
		char *path = store_record_path(s, model, versions[i]);
		if (!path || (v[i].peek_rc = record_peek_file(&v[i].peek, path)) == MREG_ENOMEM)
			rc = mreg_seterr_nomem();
		free(path);
	}
	free(versions);
	if (rc) {
		store_free_version_peeks(v, n);
		return rc;
	}
	*out = v;
	*count = n;
	return 0;
}

void store_free_version_peeks(version_peek *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].version);
	free(v);
}

/* One version of a model in the walk: its peek, and why it cannot be read. */
typedef struct {
	const version_peek *v;
	char *error; /* set when the record cannot be read */
	int code;
} version_slot;

static int by_created(const void *a, const void *b)
{
	const version_peek *x = (*(version_slot *const *)a)->v;
	const version_peek *y = (*(version_slot *const *)b)->v;
	int c = strcmp(x->peek.created_at, y->peek.created_at);

	return c ? c : record_version_cmp(x->version, y->version);
}

/* Read one version: whole, or with its files handed to @files. */
static int read_version(mreg_record **out, mreg_store *s, const char *model, const char *version,
			record_file_fn files, void *ctx)
{
	char *path;
	int rc;

	if (!files)
		return store_read_version(out, s, model, version);
	if (!(path = store_record_path(s, model, version)))
		return mreg_seterr_nomem();
	rc = record_stream_file(out, path, files, ctx);
	free(path);
	return rc;
}

static int each_version(mreg_store *s, const char *model, bool sorted, record_each_fn fn,
			record_file_fn files, record_damaged_fn on_damaged, void *ctx,
			bool *damaged)
{
	version_peek *versions = NULL;
	size_t n = 0;
	version_slot *slots = NULL;
	version_slot **order = NULL;
	int rc;

	rc = store_peek_versions(&versions, &n, s, model, sorted);
	if (rc || n == 0)
		goto done;
	slots = calloc(n, sizeof(*slots));
	order = calloc(n, sizeof(*order));
	if (!slots || !order) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		slots[i].v = &versions[i];
		order[i] = &slots[i];
	}
	/* The order mreg_model_list() gives once the records are read: by
	 * created_at then version. A record whose peek failed cannot be read
	 * whole either; where it sorts does not matter. */
	if (sorted && n > 1)
		qsort(order, n, sizeof(*order), by_created);
	for (size_t i = 0; i < n && rc == 0; i++) {
		mreg_record *r = NULL;
		int err = read_version(&r, s, model, order[i]->v->version, files, ctx);
		if (err == MREG_ENOMEM) {
			rc = err;
		} else if (err) {
			*damaged = true;
			order[i]->code = err;
			if (on_damaged && !(order[i]->error = strdup(mreg_error_last())))
				rc = mreg_seterr_nomem();
		} else {
			rc = fn(ctx, &r);
		}
		mreg_record_free(r);
	}
	/* Damaged records are reported in file-name order, as a listing does. */
	for (size_t i = 0; i < n && rc == 0 && on_damaged; i++) {
		if (!slots[i].error)
			continue;
		char *path = store_record_path(s, model, slots[i].v->version);
		if (!path) {
			rc = mreg_seterr_nomem();
			break;
		}
		on_damaged(ctx, path, slots[i].code, slots[i].error);
		free(path);
	}
done:
	for (size_t i = 0; slots && i < n; i++)
		free(slots[i].error);
	free(slots);
	free(order);
	store_free_version_peeks(versions, n);
	return rc;
}

int store_each_record(mreg_store *s, const char *name, bool sorted, record_each_fn fn,
		      record_file_fn files, record_damaged_fn on_damaged, void *ctx)
{
	char **models = NULL;
	size_t nmodels = 0;
	bool damaged = false;
	int rc = 0;

	if (name) {
		char *dir = store_model_dir(s, name);
		bool exists = dir && fs_exists(dir);
		free(dir);
		if (!exists)
			return mreg_seterr(MREG_ENOTFOUND, "no model named %s", name);
		rc = each_version(s, name, sorted, fn, files, on_damaged, ctx, &damaged);
	} else if ((rc = store_list_dir(&models, &nmodels, s->models, NULL)) == 0) {
		for (size_t m = 0; m < nmodels && rc == 0; m++)
			rc = each_version(s, models[m], sorted, fn, files, on_damaged, ctx, &damaged);
		store_free_names(models, nmodels);
	}
	if (rc == 0 && damaged)
		rc = mreg_seterr(MREG_ECORRUPT, "some records could not be read (run mreg fsck)");
	return rc;
}
