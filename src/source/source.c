/*
 * Models from remote locations (mreg/source.h): what a URL names is fetched
 * into a staging folder, tmp/source-XXXXXX/ in the store (or under $TMPDIR
 * for `mreg validate` outside one):
 *
 *     <stage>/<hex>          each file's content, complete, hashed, fsynced, 0444
 *     <stage>/.tree/...      the model as the URL names it: hard links to the
 *                            blobs above (nothing is copied twice), for the
 *                            format plugins and the walk of mreg_model_create
 *
 * mreg_model_create() then moves the blobs the store lacks into blobs/ and
 * writes the record; mreg_fetched_free() removes the rest. The store's shared
 * ingest lock is held from the first byte, so gc never takes the stage.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mreg/source.h"
#include "source_azure.h"
#include "source_https.h"
#include "source_tree.h"
#include "source_url.h"
#include "store/ingest.h"
#include "store/record_priv.h"
#include "store/store_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/dl_curl.h"
#include "util/url.h"

int mreg_source_is_remote(const char *path)
{
	return path && url_is_remote_source(path);
}

const char *mreg_fetched_path(const mreg_fetched *f)
{
	return f->path;
}

const char *mreg_fetched_url(const mreg_fetched *f)
{
	return f->source.path;
}

void mreg_fetched_free(mreg_fetched *f)
{
	if (!f)
		return;
	if (f->store)
		store_ingest_unlock(f->store);
	if (f->stage) {
		fs_remove_tree(f->stage);
		free(f->stage);
	}
	free(f->path);
	for (size_t i = 0; i < f->file_count; i++)
		free(f->files[i].path);
	free(f->files);
	free(f->source.kind);
	free(f->source.path);
	free(f->source.fetched_at);
	free(f->source.etag);
	free(f->source.last_modified);
	free(f);
}

/* One file over https:// (or http:// with plain_http). */
static int fetch_https(mreg_fetched *f, const char *url, const mreg_source_options *o)
{
	remote_session *s = NULL;
	source_get g = {.url = url, .shown = f->source.path, .progress = o->progress,
			.progress_ctx = o->progress_ctx};
	source_got got = {0};
	char *name = NULL, *tree = NULL;
	int rc;

	if (o->file_name) {
		if ((rc = source_name_check(o->file_name, "--file-name")))
			return rc;
	} else if ((rc = source_url_file_name(&name, url)) && rc != MREG_ENOTFOUND) {
		return mreg_error_prefix(rc, "%s", f->source.path);
	}
	if ((rc = source_session_open(&s, url, o->ca_file, o->plain_http, o->retries)) ||
	    (rc = source_get_file(s, &g, f->stage, &got)))
		goto done;
	/* --file-name, else Content-Disposition (as curl -OJ), else the URL's. */
	if (!o->file_name && got.disposition) {
		char *given = NULL;
		rc = source_disposition_file_name(&given, got.disposition);
		if (rc == 0) {
			free(name);
			name = given;
		} else if (rc != MREG_ENOTFOUND) {
			rc = mreg_error_prefix(rc, "%s", f->source.path);
			goto done;
		}
		rc = 0;
	}
	if (!o->file_name && !name) {
		rc = mreg_seterr(MREG_EINVALID,
				 "%s: the URL names no file and the server sent no "
				 "Content-Disposition file name: give --file-name",
				 f->source.path);
		goto done;
	}
	if ((rc = source_add_file(f, o->file_name ? o->file_name : name, &got)))
		goto done;
	if (!(tree = str_printf("%s/%s/%s", f->stage, SOURCE_TREE_DIR, f->files[0].path)) ||
	    !(f->source.kind = strdup("file")) ||
	    (got.etag && !(f->source.etag = strdup(got.etag))) ||
	    (got.last_modified && !(f->source.last_modified = strdup(got.last_modified)))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	f->path = tree;
	tree = NULL;
done:
	free(tree);
	free(name);
	source_got_dispose(&got);
	remote_session_close(s);
	return rc;
}

/* The URL an azureml://datastores/NAME/paths/PATH stands for, from config.yaml. */
static int resolve_datastore(char **out, mreg_store *store, const char *uri)
{
	source_datastore_ref ref;
	char *base = NULL;
	int rc;

	*out = NULL;
	if ((rc = source_datastore_parse(&ref, uri)))
		return rc;
	if (!store) {
		rc = mreg_seterr(MREG_EINVALID,
				 "%s: an azureml datastore URI is resolved through the datastores: "
				 "mapping of a store's config.yaml, and no store was found",
				 uri);
		goto done;
	}
	if ((rc = store_config_datastore(&base, store, ref.name)))
		goto done;
	if (url_is_remote_source(base) && strncasecmp(base, "azureml:", 8) == 0) {
		rc = mreg_seterr(MREG_EINVALID,
				 "datastores.%s in config.yaml: an azureml URI, not a storage URL "
				 "(wasbs:// or https://)",
				 ref.name);
		goto done;
	}
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (!(*out = str_printf("%.*s%s%s", (int)n, base, ref.path[0] ? "/" : "", ref.path)))
		rc = mreg_seterr_nomem();
done:
	free(base);
	source_datastore_ref_dispose(&ref);
	return rc;
}

static int make_stage(mreg_fetched *f, mreg_store *store)
{
	char *tree;
	int rc;

	if (store) {
		if ((rc = store_ingest_lock(store, false)) ||
		    (rc = ingest_stage_create(store, "source", &f->stage)))
			return rc;
	} else {
		const char *tmp = getenv("TMPDIR");
		char *prefix = str_printf("%s/mreg-source-", tmp && tmp[0] ? tmp : "/tmp");
		if (!prefix)
			return mreg_seterr_nomem();
		rc = fs_tmpdir(&f->stage, prefix, tmp && tmp[0] ? tmp : "/tmp");
		free(prefix);
		if (rc)
			return rc;
	}
	if (!(tree = path_join(f->stage, SOURCE_TREE_DIR)))
		return mreg_seterr_nomem();
	rc = fs_mkdir_p(tree, 0755);
	free(tree);
	return rc;
}

int mreg_source_fetch(mreg_fetched **out, mreg_store *store, const char *url,
		      const mreg_source_options *o)
{
	static const mreg_source_options defaults = MREG_SOURCE_OPTIONS_INIT;
	mreg_source_options v2 = MREG_SOURCE_OPTIONS_INIT;
	mreg_fetched *f = NULL;
	char *resolved = NULL;
	source_kind kind;
	int rc;

	*out = NULL;
	if (!o)
		o = &defaults;
	if (o->version < 1 || o->version > MREG_SOURCE_OPTIONS_VERSION)
		return mreg_seterr(MREG_EINVALID, "source options: unknown version");
	if (o->version < 2) {
		/* Older callers' options end before progress. */
		memcpy(&v2, o, offsetof(mreg_source_options, progress));
		v2.version = MREG_SOURCE_OPTIONS_VERSION;
		o = &v2;
	}
	if (o->retries > 20)
		return mreg_seterr(MREG_EINVALID, "source options: at most 20 retries");
	if ((rc = dl_curl_need("fetching a model from a URL (mreg create URL)")))
		return rc;
	if ((rc = source_classify(&kind, url, o->plain_http)))
		return rc;
	if (kind == SOURCE_AZUREML_DATASTORE) {
		if ((rc = resolve_datastore(&resolved, store, url)))
			return rc;
		url = resolved;
		if ((rc = source_classify(&kind, url, o->plain_http)) ||
		    (kind == SOURCE_AZUREML_DATASTORE &&
		     (rc = mreg_seterr(MREG_EINVALID, "%s: a datastore that names another", url))))
			goto done;
	}
	if (!(f = calloc(1, sizeof(*f)))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	f->store = store;
	f->source.git_dirty = -1;
	if (!(f->source.path = url_redact(url))) {
		rc = errno == ENOMEM ? mreg_seterr_nomem()
				     : mreg_seterr(MREG_EINVALID, "model path: a URL that cannot be "
								  "parsed");
		goto done;
	}
	if ((rc = make_stage(f, store)))
		goto done;
	rc = kind == SOURCE_AZURE_BLOB ? source_azure_fetch(f, url, o) : fetch_https(f, url, o);
	if (rc)
		goto done;
	if (f->file_count > 1)
		qsort(f->files, f->file_count, sizeof(*f->files), ingest_file_cmp);
	if (!(f->source.fetched_at = record_now())) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	*out = f;
	f = NULL;
done:
	mreg_fetched_free(f);
	free(resolved);
	return rc;
}
