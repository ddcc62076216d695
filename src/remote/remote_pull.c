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
#include "bundle/oms_attach.h"
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

/*
 * A small blob or manifest (@kind "blobs" or "manifests") held in memory and
 * checked against its descriptor: the model config, a signature manifest, an
 * OMS bundle. @what names it in messages.
 */
static int fetch_small(remote_session *s, const char *repo, const char *kind,
		       const oci_desc *desc, size_t max, const char *what, remote_response *rs)
{
	char *path = str_printf("/v2/%s/%s/%s", repo, kind, desc->digest);
	remote_request rq = REMOTE_REQUEST_INIT;
	uint8_t raw[SHA256_LEN];
	char got[MREG_DIGEST_STRLEN], lacks[192];
	int rc;

	if (!path)
		return mreg_seterr_nomem();
	if (desc->size > max) {
		free(path);
		return mreg_seterr(MREG_EINVALID, "%s: %s is %llu bytes (at most %zu)",
				   remote_session_host(s), what, (unsigned long long)desc->size, max);
	}
	snprintf(lacks, sizeof(lacks), "the registry lacks %s", what);
	rq.method = "GET";
	rq.url = path;
	rq.accept = strcmp(kind, "manifests") ? NULL : OCI_MT_MANIFEST;
	rq.max_body = (size_t)desc->size;
	rc = remote_send_retrying(s, &rq, rs);
	if (rc == 0 && rs->status != 200)
		rc = remote_status_error(s, &rq, rs,
					 rs->status == 404 ? MREG_ENOTFOUND : MREG_ENETWORK,
					 rs->status == 404 ? lacks : NULL);
	if (rc == 0) {
		hash_buffer(raw, rs->body ? rs->body : "", rs->body_len);
		digest_format(got, raw);
		if (rs->body_len != desc->size || strcmp(got, desc->digest))
			rc = mreg_seterr(MREG_ECORRUPT,
					 "%s: %s does not match its digest (%s, %zu bytes; %s expected)",
					 remote_session_host(s), what, got, rs->body_len, desc->digest);
	}
	free(path);
	return rc;
}

static int fetch_config(remote_session *s, const char *repo, const oci_desc *desc,
			remote_response *rs)
{
	return fetch_small(s, repo, "blobs", desc, OCI_JSON_MAX, "the model config", rs);
}

/* The OMS signatures attached to a manifest, as fetched (each checked against its digest). */
typedef struct {
	char *data[OCI_REFERRERS_MAX];
	size_t lens[OCI_REFERRERS_MAX];
	size_t count;
} pulled_sigs;

static void pulled_sigs_dispose(pulled_sigs *p)
{
	for (size_t i = 0; i < p->count; i++)
		free(p->data[i]);
	memset(p, 0, sizeof(*p));
}

/*
 * The signature manifests that name @subject: the referrers API first, the
 * fallback tag sha256-<hex> when the registry has no such API (404) or lists
 * none there (a copy made by a tool that only knows tags).
 */
static int list_referrers(remote_session *s, const char *repo, const char *subject,
			  oci_referrer **list, size_t *count, mreg_remote_info *info)
{
	char tag[8 + SHA256_HEXLEN], what[160];
	remote_response rs = {0};
	bool found = false;
	int rc;

	*list = NULL;
	*count = 0;
	if ((rc = remote_get_index(s, repo, "referrers", subject, &rs, &found)) == 0 && found) {
		snprintf(what, sizeof(what), "%s: the referrers of %.19s...", remote_session_host(s),
			 subject);
		info->referrers_api = 1;
		rc = oci_referrers_parse(list, count, rs.body ? rs.body : "", rs.body_len, what);
	}
	remote_response_dispose(&rs);
	if (rc || *count)
		return rc;
	free(*list);
	*list = NULL;
	snprintf(tag, sizeof(tag), "sha256-%s", subject + 7);
	if ((rc = remote_get_index(s, repo, "manifests", tag, &rs, &found)) == 0 && found) {
		snprintf(what, sizeof(what), "%s: the referrers tag %.19s...", remote_session_host(s),
			 tag);
		rc = oci_referrers_parse(list, count, rs.body ? rs.body : "", rs.body_len, what);
	}
	remote_response_dispose(&rs);
	return rc;
}

/* Every OMS signature attached to @subject, its manifest and bundle fetched and checked. */
static int fetch_signatures(remote_session *s, const char *repo, const char *subject,
			    pulled_sigs *out, mreg_remote_info *info)
{
	oci_referrer *list = NULL;
	size_t count = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = list_referrers(s, repo, subject, &list, &count, info)))
		return rc;
	for (size_t i = 0; i < count && rc == 0; i++) {
		remote_response ms = {0}, bs = {0};
		oci_sig_manifest sm;
		char what[160];
		snprintf(what, sizeof(what), "signature manifest %.19s...", list[i].desc.digest);
		rc = fetch_small(s, repo, "manifests", &list[i].desc, OCI_JSON_MAX, what, &ms);
		/* Listed without an artifact type: another kind of referrer is skipped. */
		if (rc == 0 && !list[i].typed &&
		    !oci_artifact_type_is(ms.body ? ms.body : "", ms.body_len, OCI_SIG_ARTIFACT_TYPE)) {
			remote_response_dispose(&ms);
			continue;
		}
		if (rc == 0)
			rc = oci_sig_manifest_parse(&sm, ms.body ? ms.body : "", ms.body_len, what);
		if (rc == 0 && strcmp(sm.subject.digest, subject))
			rc = mreg_seterr(MREG_EINVALID, "%s: %s: its subject is %s, not %s",
					 remote_session_host(s), what, sm.subject.digest, subject);
		if (rc == 0) {
			snprintf(what, sizeof(what), "the OMS bundle %.19s...", sm.layer.digest);
			rc = fetch_small(s, repo, "blobs", &sm.layer, MREG_OMS_BUNDLE_MAX, what, &bs);
		}
		if (rc == 0) {
			out->data[out->count] = bs.body ? bs.body : strdup("");
			out->lens[out->count] = bs.body_len;
			bs.body = NULL;
			if (!out->data[out->count])
				rc = mreg_seterr_nomem();
			else
				out->count++;
		}
		remote_response_dispose(&ms);
		remote_response_dispose(&bs);
	}
	info->oms_signatures = out->count;
	free(list);
	if (rc)
		pulled_sigs_dispose(out);
	return rc;
}

/* The keys a pull checks with: the caller's and the store's (config.yaml verify.oms_keys). */
static int pull_keys(const char ***out, size_t *count, const mreg_store *store,
		     const mreg_remote_options *o)
{
	size_t n_store = 0, n_opt = o->version >= 2 ? o->oms_key_count : 0;
	const char *const *from_store = mreg_store_oms_keys(store, &n_store);
	const char **keys = calloc(n_store + n_opt + 1, sizeof(*keys));

	*out = NULL;
	*count = 0;
	if (!keys)
		return mreg_seterr_nomem();
	for (size_t i = 0; i < n_opt; i++)
		keys[(*count)++] = o->oms_keys[i];
	for (size_t i = 0; i < n_store; i++)
		keys[(*count)++] = from_store[i];
	/* A key that cannot be read is said before anything moves. */
	for (size_t i = 0; i < *count; i++)
		if (access(keys[i], R_OK) < 0) {
			int rc = mreg_seterr(MREG_EIO, "verification key %s%s: %s", keys[i],
					     i >= n_opt ? " (config.yaml verify.oms_keys)" : "",
					     strerror(errno));
			free(keys);
			*count = 0;
			return rc;
		}
	*out = keys;
	return 0;
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
	/* Blobs and expanded files were staged unsynced: all durable, in one
	 * pass of several fsyncs at once, before any lands in the store. */
	if (rc == 0)
		rc = ingest_stage_sync(stage);
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
	size_t added = 0, key_count = 0;
	const char **keys = NULL;
	pulled_sigs sigs = {0};
	kept_sigs_incoming kept = {0};
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
	if ((rc = pull_keys(&keys, &key_count, store, o)))
		goto done;

	/* By digest: the store may have it already, and then nothing moves (unless a
	 * signature is to be checked: that is the registry's, not the store's). */
	if (ref.digest && !key_count) {
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
	/* A signature that does not verify stops the pull before any layer moves; the
	 * files are matched against it once they are known (below). */
	if (key_count &&
	    ((rc = fetch_signatures(s, ref.repository, info->manifest_digest, &sigs, info)) ||
	     (rc = oms_attached_verify((const char *const *)sigs.data, sigs.lens, sigs.count, NULL,
				       keys, key_count, reference))))
		goto done;
	if (!ref.digest && !key_count) {
		if ((rc = find_local(&r, store, info->manifest_digest)))
			goto done;
		if (r && !renamed(r, o)) {
			info->unchanged = 1;
			goto success;
		}
		mreg_record_free(r);
		r = NULL;
	}
	/* Without a key the signatures are only kept, not required: one the registry
	 * cannot give whole is reported as dropped, and the pull goes on. */
	if (!key_count && fetch_signatures(s, ref.repository, info->manifest_digest, &sigs, info)) {
		info->oms_dropped = 1;
		snprintf(info->oms_dropped_why, sizeof(info->oms_dropped_why), "%s",
			 mreg_error_last());
		mreg_error_clear();
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
	if (key_count) {
		if ((rc = oms_attached_verify((const char *const *)sigs.data, sigs.lens, sigs.count,
					      r, keys, key_count, reference)))
			goto done;
		info->oms_verified = 1;
	}
	kept.data = (const char *const *)sigs.data;
	kept.lens = sigs.lens;
	kept.count = sigs.count < MREG_KEPT_SIGNATURES_MAX ? sigs.count : MREG_KEPT_SIGNATURES_MAX;
	rc = ingest_land_version(store, &r, stage, "pull", &kept, &info->unchanged, &added);
	if (rc)
		goto done;
	info->oms_kept = kept.kept;
	if (kept.dropped) {
		if (!info->oms_dropped)
			snprintf(info->oms_dropped_why, sizeof(info->oms_dropped_why), "%s", kept.why);
		info->oms_dropped += kept.dropped;
	}
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
	pulled_sigs_dispose(&sigs);
	kept_sigs_incoming_dispose(&kept);
	free(keys);
	return rc;
}
