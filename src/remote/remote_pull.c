/*
 * mreg pull: GET the manifest and check its digest, GET the config (the
 * record), fetch each layer the store lacks (remote_blob.c), and land the
 * version through the store's ingest path once every blob is verified.
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
		oci_blob config = {0}, manifest = {0};
		bool all = true;
		if (oci_config_build(&config, recs[i]) == 0 &&
		    oci_manifest_build(&manifest, recs[i], &config) == 0 &&
		    strcmp(manifest.digest, digest) == 0) {
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
		oci_blob_dispose(&config);
		oci_blob_dispose(&manifest);
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

static int pull_layers(remote_session *s, mreg_store *store, const remote_ref *ref,
		       const mreg_record *r, const char *stage, const mreg_remote_options *o,
		       mreg_remote_info *info)
{
	bool *first = record_first_of_digest(r), *need = calloc(r->file_count + 1, sizeof(bool));
	remote_progress p = {.fn = o->progress, .ctx = o->progress_ctx};
	int rc = 0;

	if (!first || !need) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	for (size_t i = 0; i < r->file_count; i++) {
		char *blob = path_join(store->blobs, r->files[i].digest + 7);
		if (!blob) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		need[i] = first[i] && !fs_exists(blob);
		if (need[i])
			p.total += r->files[i].size;
		free(blob);
	}
	for (size_t i = 0; i < r->file_count && rc == 0; i++) {
		const mreg_file *f = &r->files[i];
		oci_desc desc;
		if (!need[i])
			continue;
		snprintf(desc.digest, sizeof(desc.digest), "%s", f->digest);
		desc.size = f->size;
		rc = remote_fetch_blob(s, store, ref->repository, &desc, f->path, stage, &p, info);
		p.base += f->size;
	}
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
	mreg_record *r = NULL;
	char *stage = NULL;
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
		rc = mreg_error_prefix(rc, "%s: manifest", reference);
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
	if ((rc = oci_config_parse(&r, crs.body, crs.body_len, &m))) {
		rc = mreg_error_prefix(rc, "%s: model config", reference);
		goto done;
	}
	if ((rc = record_rename(r, o->name, o->model_version)))
		goto done;

	/* Shared ingest lock: gc waits, so it never takes what we stage. */
	if ((rc = store_ingest_lock(store, false)))
		goto done;
	ingesting = true;
	{
		mreg_record *existing = NULL;
		rc = ingest_existing(store, r->name, r->version, r->digest, "pull", &existing);
		mreg_record_free(existing);
		if (rc)
			goto done;
	}
	if ((rc = ingest_stage_create(store, "pull", &stage)))
		goto done;
	if ((rc = pull_layers(s, store, &ref, r, stage, o, info))) {
		rc = remote_keep_verified(store, stage, rc);
		goto done;
	}
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
	oci_manifest_dispose(&m);
	remote_response_dispose(&mrs);
	remote_response_dispose(&crs);
	remote_session_close(s);
	remote_ref_dispose(&ref);
	return rc;
}
