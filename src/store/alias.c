/*
 * Aliases, as MLflow now names versions instead of stages: models/NAME/
 * ALIAS.alias holds "VERSION\n". One small file per alias, so an alias
 * points at one version at a time (moving it is one atomic rename), two
 * branches that set different aliases merge in git without a conflict,
 * and two that move the same alias differently conflict, as they should.
 * The files come through git like records: each is read bounded and
 * checked (a version by the naming rules) before it is trusted.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mreg/registry.h"
#include "record_priv.h"
#include "store_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/path.h"
#include "util/strutil.h"

#define ALIAS_SUFFIX ".alias"
/* "VERSION\n": a version is at most 128 characters. */
#define ALIAS_FILE_MAX 256

static char *alias_path(const mreg_store *s, const char *name, const char *alias)
{
	return str_printf("%s/%s/%s" ALIAS_SUFFIX, s->models, name, alias);
}

int store_alias_read(mreg_store *s, const char *name, const char *alias, char **version)
{
	char *path = alias_path(s, name, alias), *text = NULL;
	size_t len = 0;
	int rc;

	*version = NULL;
	if (!path)
		return mreg_seterr_nomem();
	rc = fs_read_small(&text, &len, path, ALIAS_FILE_MAX, NULL);
	if (rc == MREG_ENOTFOUND) {
		char *dir = store_model_dir(s, name);
		rc = dir && fs_exists(dir)
			     ? mreg_seterr(MREG_ENOTFOUND,
					   "model %s has no alias %s (mreg alias %s lists its aliases)",
					   name, alias, name)
			     : mreg_seterr(MREG_ENOTFOUND, "no model named %s", name);
		free(dir);
	} else if (rc == 0) {
		if (len > 0 && text[len - 1] == '\n')
			text[--len] = '\0';
		if (strlen(text) != len || mreg_version_check(text))
			rc = mreg_seterr(MREG_ECORRUPT,
					 "%s: not an alias file (one line: the version it names)",
					 path);
		else
			*version = text, text = NULL;
	}
	free(text);
	free(path);
	return rc;
}

int mreg_alias_set(mreg_store *s, const char *name, const char *version, const char *alias,
		   char **previous)
{
	mreg_record *r = NULL;
	char *path = NULL, *text = NULL, *old = NULL;
	int rc;

	if (previous)
		*previous = NULL;
	if ((rc = mreg_name_check(name)) || (rc = mreg_version_check(version)) ||
	    (rc = mreg_alias_check(alias)))
		return rc;
	if ((rc = store_lock(s)))
		return rc;
	/* The version must be there (an archived one may carry an alias). */
	if ((rc = store_read_version(&r, s, name, version)))
		goto done;
	/* None yet, or a damaged file (it is replaced): nothing to move from. */
	rc = store_alias_read(s, name, alias, &old);
	if (rc == MREG_ENOTFOUND || rc == MREG_ECORRUPT) {
		mreg_error_clear();
		rc = 0;
	} else if (rc) {
		goto done;
	}
	path = alias_path(s, name, alias);
	text = str_printf("%s\n", version);
	if (!path || !text) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (!old || strcmp(old, version))
		rc = fs_write_atomic(path, text, strlen(text), s->tmp, false);
	if (rc == 0 && previous) {
		*previous = old;
		old = NULL;
	}
done:
	store_unlock(s);
	mreg_record_free(r);
	free(path);
	free(text);
	free(old);
	return rc;
}

int mreg_alias_delete(mreg_store *s, const char *name, const char *alias, char **was)
{
	char *path = NULL, *dir = NULL, *old = NULL;
	int rc;

	if (was)
		*was = NULL;
	if ((rc = mreg_name_check(name)) || (rc = mreg_alias_check(alias)))
		return rc;
	if ((rc = store_lock(s)))
		return rc;
	rc = store_alias_read(s, name, alias, &old);
	if (rc == MREG_ECORRUPT) {
		mreg_error_clear(); /* removing a damaged alias is how it is repaired */
		rc = 0;
	} else if (rc) {
		goto done;
	}
	path = alias_path(s, name, alias);
	dir = store_model_dir(s, name);
	if (!path || !dir) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (unlink(path) < 0) {
		rc = mreg_seterr_errno("%s", path);
		goto done;
	}
	rc = fs_fsync_dir(dir);
	if (rc == 0 && was) {
		*was = old;
		old = NULL;
	}
done:
	store_unlock(s);
	free(path);
	free(dir);
	free(old);
	return rc;
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const mreg_kv *)a)->key, ((const mreg_kv *)b)->key);
}

int mreg_alias_list(mreg_kv **out, size_t *count, mreg_store *s, const char *name)
{
	char *dir = NULL;
	DIR *d = NULL;
	struct dirent *e;
	mreg_kv *items = NULL;
	size_t n = 0, cap = 0, slen = strlen(ALIAS_SUFFIX);
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = mreg_name_check(name)))
		return rc;
	if (!(dir = store_model_dir(s, name)))
		return mreg_seterr_nomem();
	if (!(d = opendir(dir))) {
		rc = errno == ENOENT ? mreg_seterr(MREG_ENOTFOUND, "no model named %s", name)
				     : mreg_seterr_errno("%s", dir);
		free(dir);
		return rc;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char *alias;
		if (e->d_name[0] == '.' || len <= slen || strcmp(e->d_name + len - slen, ALIAS_SUFFIX))
			continue;
		if (!(alias = strndup(e->d_name, len - slen))) {
			rc = mreg_seterr_nomem();
			break;
		}
		if (mreg_alias_check(alias)) {
			mreg_error_clear(); /* not a name mreg would write: not an alias */
			free(alias);
			continue;
		}
		if (n == cap) {
			mreg_kv *p = realloc(items, (cap = cap ? cap * 2 : 8) * sizeof(*p));
			if (!p) {
				free(alias);
				rc = mreg_seterr_nomem();
				break;
			}
			items = p;
		}
		items[n].key = alias;
		if ((rc = store_alias_read(s, name, alias, &items[n].value))) {
			free(alias);
			break;
		}
		n++;
	}
	closedir(d);
	free(dir);
	if (rc) {
		kv_free(items, n);
		return rc;
	}
	if (n)
		qsort(items, n, sizeof(*items), cmp_kv);
	*out = items;
	*count = n;
	return 0;
}

int store_check_aliases(mreg_store *s, mreg_diag_list *diags, size_t *problems)
{
	DIR *d = opendir(s->models);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : mreg_seterr_errno("%s", s->models);
	while (rc == 0 && (e = readdir(d))) {
		mreg_kv *items = NULL;
		size_t n = 0;
		if (e->d_name[0] == '.' || mreg_name_check(e->d_name)) {
			mreg_error_clear();
			continue;
		}
		rc = mreg_alias_list(&items, &n, s, e->d_name);
		if (rc == MREG_ECORRUPT || rc == MREG_ENOTFOUND) {
			/* The message names the file; the other aliases of the model are not read. */
			mreg_diag_add(diags, MREG_DIAG_ERROR, s->models, 0, 0, "fsck-alias", "%s",
				      mreg_error_last());
			mreg_error_clear();
			(*problems)++;
			rc = 0;
			continue;
		}
		for (size_t i = 0; i < n && rc == 0; i++) {
			char *record = store_record_path(s, e->d_name, items[i].value);
			char *path = alias_path(s, e->d_name, items[i].key);
			if (!record || !path)
				rc = mreg_seterr_nomem();
			else if (!fs_exists(record))
				mreg_diag_add(diags, MREG_DIAG_WARNING, path, 0, 0, "fsck-alias-dangling",
					      "%s@%s names version %s, which is not there (mreg alias "
					      "moves or -d removes it)",
					      e->d_name, items[i].key, items[i].value);
			free(record);
			free(path);
		}
		mreg_kv_array_free(items, n);
	}
	closedir(d);
	return rc;
}
