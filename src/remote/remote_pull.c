/*
 * mreg pull: GET the manifest and check its digest, GET the config, fetch
 * each raw layer the store lacks and every tar layer (remote_blob.c),
 * expanding tar layers into one blob per file (bundle/layer.c), and land the
 * version through the store's ingest path once every blob is verified. The
 * record is mreg's own (a manifest annotation) or, for another tool's
 * artifact, made from ModelPack's descriptor with the type found from the
 * files (bundle/artifact.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "store/ingest.h"
#include "mreg/registry.h"
#include "store/record_priv.h"
#include "remote_priv.h"
#include "store/store_priv.h"
#include "util/strutil.h"

static char *media_type(const char *content_type)
{
	return content_type ? strndup(content_type, strcspn(content_type, "; ")) : NULL;
}

static int get_manifest(remote_session *s, const remote_ref *ref, const char *shown,
			remote_response *rs, char digest[MREG_DIGEST_STRLEN])
{
	char *path = str_printf("/v2/%s/manifests/%s", ref->repository,
				ref->digest ? ref->digest : ref->tag);
	remote_request rq = REMOTE_REQUEST_INIT;
	uint8_t raw[SHA256_LEN];
	char *mt = NULL;
	int rc;

	if (!path)
		return mreg_seterr_nomem();
	rq.method = "GET";
	rq.url = path;
	rq.accept = MANIFEST_ACCEPT;
	rq.max_body = OCI_JSON_MAX;
	rc = remote_send_retrying(s, &rq, rs);
	if (rc)
		goto done;
	if (rs->status == 404) {
		rc = remote_status_error(s, &rq, rs, MREG_ENOTFOUND,
					 ref->digest ? "no such digest" : "no such tag");
		goto done;
	}
	if (rs->status != 200) {
		rc = remote_status_error(s, &rq, rs,
					 rs->status == 403   ? MREG_EAUTH
					 : rs->status >= 500 ? MREG_ENETWORK
							     : MREG_EIO,
					 NULL);
		goto done;
	}
	hash_buffer(raw, rs->body ? rs->body : "", rs->body_len);
	digest_format(digest, raw);
	if (ref->digest && strcmp(digest, ref->digest)) {
		rc = mreg_seterr(MREG_ECORRUPT,
				 "%s: the registry sent a manifest whose digest is %s, not the %s "
				 "asked for",
				 shown, digest, ref->digest);
		goto done;
	}
	if (rs->digest && strcmp(digest, rs->digest)) {
		rc = mreg_seterr(MREG_ECORRUPT,
				 "%s: the manifest's digest is %s, but the registry says %s", shown,
				 digest, rs->digest);
		goto done;
	}
	mt = media_type(rs->content_type);
	if (mt && (!strcmp(mt, OCI_MT_INDEX) || !strcmp(mt, DOCKER_MT_LIST)))
		rc = mreg_seterr(MREG_EINVALID,
				 "%s: an image index (a list of manifests, e.g. one per platform), "
				 "not a model: pull one manifest by its digest",
				 shown);
	else if (mt && !strcmp(mt, DOCKER_MT_MANIFEST))
		rc = mreg_seterr(MREG_EINVALID, "%s: a container image, not a model (%s)", shown,
				 mt);
done:
	free(mt);
	free(path);
	return rc;
}

/* The config blob: small, held in memory, checked against its descriptor. */
static int fetch_config(remote_session *s, const char *repo, const oci_desc *desc,
			remote_response *rs)
{
	char *path = str_printf("/v2/%s/blobs/%s", repo, desc->digest);
	remote_request rq = REMOTE_REQUEST_INIT;
	uint8_t raw[SHA256_LEN];
	char got[MREG_DIGEST_STRLEN];
	int rc;

	if (!path)
		return mreg_seterr_nomem();
	if (desc->size > OCI_JSON_MAX) {
		free(path);
		return mreg_seterr(MREG_EINVALID, "%s: the model config is %llu bytes (at most %u)",
				   remote_session_host(s), (unsigned long long)desc->size,
				   OCI_JSON_MAX);
	}
	rq.method = "GET";
	rq.url = path;
	rq.max_body = (size_t)desc->size;
	rc = remote_send_retrying(s, &rq, rs);
	if (rc == 0 && rs->status != 200)
		rc = remote_status_error(s, &rq, rs,
					 rs->status == 404 ? MREG_ENOTFOUND : MREG_ENETWORK,
					 rs->status == 404 ? "the registry lacks the model config"
							   : NULL);
	if (rc == 0) {
		hash_buffer(raw, rs->body ? rs->body : "", rs->body_len);
		digest_format(got, raw);
		if (rs->body_len != desc->size || strcmp(got, desc->digest))
			rc = mreg_seterr(MREG_ECORRUPT,
					 "%s: the model config does not match its digest (%s, %zu "
					 "bytes; the manifest gives %s)",
					 remote_session_host(s), got, rs->body_len, desc->digest);
	}
	free(path);
	return rc;
}

/* A version of the store whose artifact has @digest, with every blob present. */
static int find_local(mreg_record **out, mreg_store *store, const char *digest)
{
	mreg_record **recs = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if ((rc = mreg_model_list(&recs, &n, store, NULL, MREG_LIST_ALL, NULL, NULL)))
		return rc == MREG_ENOTFOUND ? (mreg_error_clear(), 0) : rc;
	for (size_t i = 0; i < n && !*out; i++) {
		artifact_blobs ab = {0};
		bool all = true;
		if (artifact_build(&ab, recs[i]) == 0 && strcmp(ab.manifest.digest, digest) == 0) {
			for (size_t j = 0; j < recs[i]->file_count && all; j++) {
				char *blob = path_join(store->blobs, recs[i]->files[j].digest + 7);
				all = blob && fs_exists(blob);
				free(blob);
			}
			if (all) {
				*out = recs[i];
				recs[i] = NULL;
			}
		}
		artifact_blobs_dispose(&ab);
	}
	for (size_t i = 0; i < n; i++)
		mreg_record_free(recs[i]);
	free(recs);
	mreg_error_clear();
	return 0;
}

static bool renamed(const mreg_record *r, const mreg_remote_options *o)
{
	return (o->name && strcmp(o->name, r->name)) ||
	       (o->model_version && strcmp(o->model_version, r->version));
}

/* The repository's last component: a foreign artifact's name when nothing else gives one. */
static const char *repo_base(const char *repository)
{
	const char *slash = strrchr(repository, '/');

	return slash ? slash + 1 : repository;
}

typedef struct {
	const char *digest;
	size_t index;
} layer_ref;

static int cmp_layer_ref(const void *a, const void *b)
{
	const layer_ref *x = a, *y = b;
	int c = strcmp(x->digest, y->digest);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* first[i]: layer i is the first with its digest (a blob is fetched once). */
static bool *first_of_digest(const oci_manifest *m)
{
	layer_ref *refs = calloc(m->count + 1, sizeof(*refs));
	bool *first = calloc(m->count + 1, sizeof(*first));

	if (!refs || !first) {
		free(refs);
		free(first);
		return NULL;
	}
	for (size_t i = 0; i < m->count; i++)
		refs[i] = (layer_ref){m->layers[i].desc.digest, i};
	qsort(refs, m->count, sizeof(*refs), cmp_layer_ref);
	for (size_t i = 0; i < m->count; i++)
		first[refs[i].index] = i == 0 || strcmp(refs[i].digest, refs[i - 1].digest);
	free(refs);
	return first;
}

/*
 * Every layer into @tree: raw layers are a file's blob, fetched into @stage
 * unless the store has it; tar layers are fetched into @layers and expanded
 * into one blob per file in @stage.
 */
static int pull_layers(remote_session *s, mreg_store *store, const remote_ref *ref,
		       const oci_manifest *m, const char *stage, const char *layers,
		       model_tree *tree, const mreg_remote_options *o, mreg_remote_info *info)
{
	bool *first = first_of_digest(m), *need = calloc(m->count + 1, sizeof(bool));
	remote_progress p = {.fn = o->progress, .ctx = o->progress_ctx};
	int rc = 0;

	if (!first || !need) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	for (size_t i = 0; i < m->count; i++) {
		const oci_layer *l = &m->layers[i];
		char *blob = path_join(store->blobs, l->desc.digest + 7);
		if (!blob) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		need[i] = first[i] && (l->form != LAYER_RAW || !fs_exists(blob));
		if (need[i])
			p.total += l->desc.size;
		free(blob);
	}
	for (size_t i = 0; i < m->count && rc == 0; i++) {
		const oci_layer *l = &m->layers[i];
		char what[300], *file = NULL;

		if (l->form == LAYER_RAW) {
			if (need[i])
				rc = remote_fetch_blob(s, store, ref->repository, &l->desc, l->path, stage,
						       &p, info);
			if (rc == 0)
				rc = tree_add_file(tree, l->path, l->desc.size, l->mode, l->desc.digest);
		} else if (need[i]) {
			snprintf(what, sizeof(what), "%s: layer %zu (%s)", remote_session_host(s),
				 i + 1, l->path ? l->path : l->desc.digest);
			rc = remote_fetch_blob(s, store, ref->repository, &l->desc, what, layers, &p,
					       info);
			if (rc == 0 && !(file = path_join(layers, l->desc.digest + 7)))
				rc = mreg_seterr_nomem();
			if (rc == 0)
				rc = layer_expand_file(tree, file, what, l->form, &l->desc, stage);
			free(file);
		}
		if (need[i])
			p.base += l->desc.size;
	}
	if (rc == 0)
		rc = fs_fsync_dir(stage);
	if (rc == 0)
		remote_progress_report(&p, 0);
done:
	free(first);
	free(need);
	return rc;
}

int mreg_pull(mreg_remote_info *info, mreg_record **out, mreg_store *store,
	      const char *reference, const mreg_remote_options *o)
{
	mreg_remote_info own;
	remote_ref ref = {0};
	remote_session *s = NULL;
	remote_response mrs = {0}, crs = {0};
	oci_manifest m = {0};
	artifact_meta meta = {0};
	model_tree tree = {0};
	mreg_record *r = NULL;
	char *stage = NULL, *layers = NULL;
	bool ingesting = false;
	size_t added = 0;
	int rc;

	if (!info)
		info = &own;
	memset(info, 0, sizeof(*info));
	if (out)
		*out = NULL;
	if ((rc = remote_check_options(o)) || (rc = remote_ref_parse(&ref, reference)))
		goto done;
	if (!ref.tag && !ref.digest) {
		rc = mreg_seterr(MREG_EINVALID,
				 "'%s': name a tag (REPOSITORY:TAG) or a digest "
				 "(REPOSITORY@sha256:...)",
				 reference);
		goto done;
	}
	if (ref.tag && !ref.digest)
		snprintf(info->tag, sizeof(info->tag), "%s", ref.tag);
	snprintf(info->reference, sizeof(info->reference), "%s", reference);

	/* By digest: the store may have it already, and then nothing moves. */
	if (ref.digest) {
		if ((rc = find_local(&r, store, ref.digest)))
			goto done;
		if (r && !renamed(r, o)) {
			snprintf(info->manifest_digest, sizeof(info->manifest_digest), "%s",
				 ref.digest);
			info->unchanged = 1;
			goto success;
		}
		mreg_record_free(r);
		r = NULL;
	}

	if ((rc = remote_open_session(&s, &ref, "pull", o)))
		goto done;
	if ((rc = get_manifest(s, &ref, reference, &mrs, info->manifest_digest)))
		goto done;
	if ((rc = oci_manifest_parse(&m, mrs.body ? mrs.body : "", mrs.body_len))) {
		rc = mreg_error_prefix(rc == MREG_EUNSUPPORTED ? MREG_EINVALID : rc, "%s", reference);
		goto done;
	}
	info->blobs = m.count + 1;
	if (!ref.digest) {
		if ((rc = find_local(&r, store, info->manifest_digest)))
			goto done;
		if (r && !renamed(r, o)) {
			info->unchanged = 1;
			goto success;
		}
		mreg_record_free(r);
		r = NULL;
	}
	if ((rc = fetch_config(s, ref.repository, &m.config, &crs)))
		goto done;
	/* A model refused for what it holds is a negative answer (exit 1), as for a bundle. */
	if ((rc = artifact_meta_read(&meta, &r, &m, crs.body ? crs.body : "", crs.body_len, reference,
				     ref.tag))) {
		rc = mreg_error_prefix(rc == MREG_EUNSUPPORTED ? MREG_EINVALID : rc, "%s", reference);
		goto done;
	}
	if ((rc = artifact_name(&meta, r, o->name, o->model_version, repo_base(ref.repository)))) {
		rc = mreg_error_prefix(rc, "%s", reference);
		goto done;
	}
	/* The record's own fields against mreg/limits.h before any layer is
	 * fetched (the files are checked with the rest when the version lands). */
	if ((rc = record_check_limits(r, NULL, 0, reference)))
		goto done;

	/* Shared ingest lock: gc waits, so it never takes what we stage. */
	if ((rc = store_ingest_lock(store, false)))
		goto done;
	ingesting = true;
	/* mreg's record promises the content digest: a clash is refused before any download. */
	if (meta.digest) {
		mreg_record *existing = NULL;
		rc = ingest_existing(store, r->name, r->version, meta.digest, "pull", &existing);
		mreg_record_free(existing);
		if (rc)
			goto done;
	}
	if ((rc = ingest_stage_create(store, "pull", &stage)))
		goto done;
	if (!(layers = path_join(stage, ".layers"))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (mkdir(layers, 0700) < 0) {
		rc = mreg_seterr_errno("%s", layers);
		goto done;
	}
	if ((rc = pull_layers(s, store, &ref, &m, stage, layers, &tree, o, info))) {
		remote_keep_verified(store, layers, rc);
		rc = remote_keep_verified(store, stage, rc);
		goto done;
	}
	if ((rc = tree_finish(&tree, reference)) ||
	    (rc = artifact_set_tree(&meta, r, &tree, reference)) ||
	    (meta.foreign &&
	     (rc = artifact_detect_staged(r, (const char *const[]){stage, store->blobs}, 2,
					  stage))))
		goto done;
	rc = ingest_land_version(store, &r, stage, "pull", &info->unchanged, &added);
	if (rc)
		goto done;
success:
	if (out) {
		*out = r;
		r = NULL;
	}
done:
	if (stage) {
		fs_remove_tree(stage);
		free(stage);
	}
	if (ingesting)
		store_ingest_unlock(store);
	mreg_record_free(r);
	artifact_meta_dispose(&meta);
	tree_dispose(&tree);
	free(layers);
	oci_manifest_dispose(&m);
	remote_response_dispose(&mrs);
	remote_response_dispose(&crs);
	remote_session_close(s);
	remote_ref_dispose(&ref);
	return rc;
}
