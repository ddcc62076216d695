/*
 * mreg push: HEAD each blob, POST + streamed PUT the missing ones (chunked
 * PATCH uploads when a front end refuses one large PUT), PUT the manifest last.
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
#include "store/kept_signatures.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "store/record_priv.h"
#include "remote_priv.h"
#include "store/store_priv.h"
#include "util/strutil.h"

typedef struct {
	const char *digest;
	uint64_t size;
	const char *what; /* the file's path, or "the model config" */
	int fd;           /* store blob, or -1 for data */
	const char *data;
	size_t len;
	bool missing;     /* the registry lacks it: to send */
} push_blob;

static void on_sent(void *ctx, uint64_t sent)
{
	remote_progress_report(ctx, sent);
}

/* HEAD: does the registry have @digest in this repository? */
static int blob_exists(remote_session *s, const char *repo, const char *digest, bool *exists)
{
	char *path = str_printf("/v2/%s/blobs/%s", repo, digest);
	remote_request rq = REMOTE_REQUEST_INIT;
	remote_response rs = {0};
	int rc;

	if (!path)
		return mreg_seterr_nomem();
	rq.method = "HEAD";
	rq.url = path;
	rc = remote_send_retrying(s, &rq, &rs);
	if (rc == 0) {
		/* A redirect (to object storage) means the blob is there. */
		if (rs.status == 200 || (rs.status >= 301 && rs.status <= 308))
			*exists = true;
		else if (rs.status == 404)
			*exists = false;
		else
			rc = remote_status_error(s, &rq, &rs,
						 rs.status == 403 ? MREG_EAUTH : MREG_ENETWORK,
						 NULL);
	}
	remote_response_dispose(&rs);
	free(path);
	return rc;
}

/* The upload URL a POST answered with, with ?digest= (or &digest=) added. */
static char *upload_url(remote_session *s, const char *location, const char *digest)
{
	char *base = remote_url(s, location), *url;

	if (!base)
		return NULL;
	url = str_printf("%s%sdigest=%s", base, strchr(base, '?') ? "&" : "?", digest);
	free(base);
	return url;
}

static bool mentions(const remote_response *rs, const char *code)
{
	return rs->body && strstr(rs->body, code);
}

#define CHUNK_START (8u << 20) /* first chunk of a chunked upload */
#define CHUNK_FLOOR (256u << 10) /* a front end that refuses less is refused */

typedef struct {
	remote_progress *p;
	uint64_t offset; /* of the chunk being sent */
} chunk_progress;

static void on_chunk_sent(void *ctx, uint64_t sent)
{
	chunk_progress *c = ctx;
	remote_progress_report(c->p, c->offset + sent);
}

/*
 * The chunked form, for registries (or the proxies in front of them) that
 * refuse a whole blob in one request (413): PATCH one chunk after another to
 * the upload's Location, each naming its byte range, then PUT with the digest
 * and no body. A chunk refused with 413 is sent again at half the size. On
 * return, @rs holds the last answer and *last the request it answered.
 */
static int upload_chunks(remote_session *s, const push_blob *b, remote_progress *p, char **location,
			 remote_response *rs, remote_request *patch, remote_request *put,
			 const remote_request **last)
{
	uint64_t chunk = rs->chunk_min > CHUNK_START ? rs->chunk_min : CHUNK_START;
	uint64_t floor = rs->chunk_min > CHUNK_FLOOR ? rs->chunk_min : CHUNK_FLOOR;
	uint64_t offset = 0;
	chunk_progress cp = {p, 0};
	char range[64];
	int rc = 0;

	*patch = (remote_request)REMOTE_REQUEST_INIT;
	patch->method = "PATCH";
	patch->content_type = "application/octet-stream";
	patch->content_range = range;
	patch->sent = on_chunk_sent;
	patch->sent_ctx = &cp;
	while (offset < b->size) {
		uint64_t n = b->size - offset < chunk ? b->size - offset : chunk;
		snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)offset,
			 (unsigned long long)(offset + n - 1));
		remote_response_dispose(rs);
		patch->url = *location;
		if (b->fd >= 0) {
			patch->body_fd = b->fd;
			patch->body_offset = offset;
			patch->body_size = n;
		} else {
			patch->body = b->data + offset;
			patch->body_len = (size_t)n;
		}
		cp.offset = offset;
		*last = patch;
		if ((rc = remote_send(s, patch, rs)))
			return rc;
		if (rs->status == 413 && chunk / 2 >= floor) {
			chunk /= 2;
			continue;
		}
		if (rs->status != 202)
			return 0; /* the caller reports it */
		if (rs->location) {
			char *next = strdup(rs->location);
			if (!next)
				return mreg_seterr_nomem();
			free(*location);
			*location = next;
		}
		offset += n;
	}
	remote_response_dispose(rs);
	if (!(put->url = upload_url(s, *location, b->digest)))
		return mreg_seterr_nomem();
	put->body = NULL;
	put->body_len = 0;
	put->body_fd = -1;
	put->sent = NULL;
	*last = put;
	return remote_send(s, put, rs);
}

/*
 * Upload one blob. A POST opens an upload session; one PUT streams the whole
 * blob from the store and closes it with the digest, which the registry
 * checks (a monolithic upload). When that PUT is refused as too large (413),
 * this blob and the next ones go in chunks (see upload_chunks). A failed
 * attempt worth retrying opens a new session.
 */
static int upload_blob(remote_session *s, const char *repo, const push_blob *b, remote_progress *p,
		       bool *chunked)
{
	char *post_path = str_printf("/v2/%s/blobs/uploads/", repo), *location = NULL;
	remote_request post = REMOTE_REQUEST_INIT, put = REMOTE_REQUEST_INIT;
	remote_request patch = REMOTE_REQUEST_INIT;
	remote_response rs = {0};
	const remote_request *last = &post;
	int rc;

	if (!post_path)
		return mreg_seterr_nomem();
	post.method = "POST";
	post.url = post_path;
	put.method = "PUT";
	put.content_type = "application/octet-stream";
	for (unsigned int attempt = 0;;) {
		last = &post;
		rc = remote_send(s, &post, &rs);
		if (rc == 0 && rs.status == 202 && !rs.location)
			rc = mreg_seterr(MREG_EIO, "%s: POST %s: 202 without a Location",
					 remote_session_host(s), post_path);
		if (rc == 0 && rs.status == 202) {
			free(location);
			free((char *)put.url);
			put.url = NULL;
			if (!(location = strdup(rs.location))) {
				rc = mreg_seterr_nomem();
				break;
			}
			if (*chunked) {
				rc = upload_chunks(s, b, p, &location, &rs, &patch, &put, &last);
			} else {
				remote_response_dispose(&rs);
				if (!(put.url = upload_url(s, location, b->digest))) {
					rc = mreg_seterr_nomem();
					break;
				}
				if (b->fd >= 0) {
					put.body_fd = b->fd;
					put.body_size = b->size;
				} else {
					put.body = b->data;
					put.body_len = b->len;
				}
				put.sent = on_sent;
				put.sent_ctx = p;
				last = &put;
				rc = remote_send(s, &put, &rs);
				if (rc == 0 && rs.status == 413) {
					/* Too large for one request: chunks, in a new
					 * session (not an attempt that failed). */
					*chunked = true;
					remote_response_dispose(&rs);
					continue;
				}
			}
			if (rc == 0 && rs.status == 201)
				break;
		}
		if (!remote_retryable(rc, &rs) || attempt >= remote_session_retries(s))
			break;
		remote_response_dispose(&rs);
		remote_backoff(++attempt);
	}
	if (rc == 0 && last == &put && rs.status == 201) {
		if (rs.digest && strcmp(rs.digest, b->digest))
			rc = mreg_seterr(MREG_EIO, "%s: the registry stored %s as %s",
					 remote_session_host(s), b->digest, rs.digest);
	} else if (rc == 0 && last == &put &&
		   (mentions(&rs, "DIGEST_INVALID") || mentions(&rs, "SIZE_INVALID"))) {
		rc = mreg_seterr(MREG_ECORRUPT,
				 "%s: %s (blob %s) does not match its digest: the registry refused "
				 "it (the store is damaged: run mreg fsck)",
				 remote_session_host(s), b->what, b->digest);
	} else if (rc == 0) {
		rc = remote_status_error(s, last, &rs,
					 rs.status == 403   ? MREG_EAUTH
					 : rs.status >= 500 ? MREG_ENETWORK
							    : MREG_EIO,
					 "the registry refused the upload");
	}
	remote_response_dispose(&rs);
	free((char *)put.url);
	free(location);
	free(post_path);
	return rc;
}

static int put_manifest(remote_session *s, const char *repo, const char *tag,
			const char *media_type, const oci_blob *manifest, bool *subject_taken)
{
	char *path = str_printf("/v2/%s/manifests/%s", repo, tag);
	remote_request rq = REMOTE_REQUEST_INIT;
	remote_response rs = {0};
	int rc;

	if (!path)
		return mreg_seterr_nomem();
	rq.method = "PUT";
	rq.url = path;
	rq.content_type = media_type;
	rq.body = manifest->data;
	rq.body_len = manifest->len;
	rc = remote_send_retrying(s, &rq, &rs);
	if (rc == 0 && rs.status != 201)
		rc = remote_status_error(s, &rq, &rs,
					 rs.status == 403   ? MREG_EAUTH
					 : rs.status >= 500 ? MREG_ENETWORK
							    : MREG_EINVALID,
					 "the registry refused the manifest");
	if (rc == 0 && rs.digest && strcmp(rs.digest, manifest->digest))
		rc = mreg_seterr(MREG_EIO, "%s: the registry stored the manifest as %s, not %s",
				 remote_session_host(s), rs.digest, manifest->digest);
	if (subject_taken)
		*subject_taken = rs.oci_subject != NULL;
	remote_response_dispose(&rs);
	free(path);
	return rc;
}

/*
 * Attach the OMS signature @att (made before anything was sent) to the
 * pushed manifest: its blobs, then the signature manifest by digest with the
 * model as its subject. A registry with the referrers API says so (OCI-Subject); for any
 * other, the fallback tag's index gets the signature added to what it lists.
 */
static int push_signature(remote_session *s, const char *repo, const oms_attachment *att,
			  const oci_blob *model, mreg_remote_info *info)
{
	oci_blob tag_index = {0};
	remote_response rs = {0};
	bool chunked = false, taken = false, found = false;
	remote_progress p = {0};
	char tag[8 + SHA256_HEXLEN];
	int rc = 0;
	push_blob blobs[] = {
		{OCI_EMPTY_DIGEST, 2, "the empty config", -1, OCI_EMPTY_DATA, 2, false},
		{att->bundle.digest, att->bundle.len, "the OMS signature", -1, att->bundle.data,
		 att->bundle.len, false},
	};

	for (size_t i = 0; i < 2 && rc == 0; i++) {
		bool exists = false;
		if ((rc = blob_exists(s, repo, blobs[i].digest, &exists)) == 0 && !exists)
			rc = upload_blob(s, repo, &blobs[i], &p, &chunked);
	}
	if (rc || (rc = put_manifest(s, repo, att->manifest.digest, OCI_MT_MANIFEST, &att->manifest,
				     &taken)))
		goto done;
	info->oms_signatures++;
	info->referrers_api = taken;
	if (taken)
		goto done;
	snprintf(tag, sizeof(tag), "sha256-%s", model->digest + 7);
	if ((rc = remote_get_index(s, repo, "manifests", tag, &rs, &found)))
		goto done;
	if ((rc = oci_referrers_merge(&tag_index, found ? (rs.body ? rs.body : "") : NULL,
				      found ? rs.body_len : 0, &att->manifest))) {
		rc = mreg_error_prefix(rc, "%s: %s:%s", remote_session_host(s), repo, tag);
		goto done;
	}
	rc = put_manifest(s, repo, tag, OCI_MT_INDEX, &tag_index, NULL);
done:
	remote_response_dispose(&rs);
	oci_blob_dispose(&tag_index);
	return rc;
}

/* "HOST/REPO" and "HOST" alone or "HOST/NS/" get the model's repository name appended. */
static int push_reference(char **out, const char *reference, const char *name)
{
	size_t len = strlen(reference);
	bool bare = !strchr(reference, '/');

	*out = NULL;
	if (bare || (len > 0 && reference[len - 1] == '/')) {
		char *repo = remote_name_to_repository(name);
		if (!repo)
			return MREG_EINVALID;
		*out = str_printf("%s%s%s", reference, bare ? "/" : "", repo);
		free(repo);
	} else {
		*out = strdup(reference);
	}
	return *out ? 0 : mreg_seterr_nomem();
}

int mreg_push(mreg_remote_info *info, mreg_store *store, const mreg_record *r,
	      const char *reference, const mreg_remote_options *o)
{
	mreg_remote_info own;
	remote_ref ref = {0};
	remote_session *s = NULL;
	artifact_blobs ab = {0};
	oms_attachments att = {0};
	char **kept = NULL;
	size_t *kept_lens = NULL, kept_count = 0;
	push_blob *blobs = NULL;
	bool *first = NULL;
	size_t n = 0;
	char *full = NULL;
	const char *tag;
	remote_progress p = {0};
	int rc;

	if (!info)
		info = &own;
	memset(info, 0, sizeof(*info));
	if ((rc = remote_check_options(o)) || (rc = push_reference(&full, reference, r->name)) ||
	    (rc = remote_ref_parse(&ref, full)))
		goto done;
	if (ref.digest) {
		rc = mreg_seterr(MREG_EINVALID,
				 "'%s': push takes a tag, not a digest (the digest is the "
				 "manifest's, computed from the version)",
				 reference);
		goto done;
	}
	tag = ref.tag ? ref.tag : r->version;
	if (!remote_tag_valid(tag)) {
		rc = mreg_seterr(MREG_EINVALID,
				 "version '%s' cannot be a registry tag (1 to 128 of A-Z a-z 0-9 _ . "
				 "-, not starting with . or -): give one, as %s:TAG",
				 r->version, full);
		goto done;
	}
	snprintf(info->tag, sizeof(info->tag), "%s", tag);
	snprintf(info->reference, sizeof(info->reference), "%s/%s:%s", ref.host, ref.repository,
		 tag);
	if ((rc = artifact_build(&ab, r)) || (rc = oci_check_size(r, &ab.config, &ab.manifest)))
		goto done;
	snprintf(info->manifest_digest, sizeof(info->manifest_digest), "%s", ab.manifest.digest);
	/* Signed before anything is sent: a key that cannot sign stops the push here.
	 * The signatures the store keeps for the version go along. */
	if ((rc = kept_sigs_read(store, r, &kept, &kept_lens, &kept_count)) ||
	    (rc = oms_attachments_build(&att, &ab.manifest, r,
					o->version >= 2 ? o->oms_key : NULL,
					o->version >= 2 ? o->oms_signature : NULL,
					(const char *const *)kept, kept_lens, kept_count)))
		goto done;

	/* Every blob is opened first: a version whose files are not all in the
	 * store (it came through git) fails before anything is sent. */
	blobs = calloc(r->file_count + 2, sizeof(*blobs));
	first = record_first_of_digest(r);
	if (!blobs || !first) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	for (size_t i = 0; i < r->file_count; i++) {
		const mreg_file *f = &r->files[i];
		struct stat st;
		if (!first[i])
			continue;
		blobs[n] = (push_blob){f->digest, f->size, f->path, -1, NULL, 0, false};
		if ((rc = store_blob_open(store, f->digest, f->size, &blobs[n].fd))) {
			rc = mreg_error_prefix(MREG_ECORRUPT, "%s", f->path);
			goto done;
		}
		n++;
		if (fstat(blobs[n - 1].fd, &st) < 0 || (uint64_t)st.st_size != f->size) {
			rc = mreg_seterr(MREG_ECORRUPT,
					 "%s: blob %s has the wrong size in the store (run mreg fsck)",
					 f->path, f->digest);
			goto done;
		}
	}
	if (ab.tree.data)
		blobs[n++] = (push_blob){ab.tree.digest, ab.tree.len, "the tree layer", -1,
					 ab.tree.data, ab.tree.len, false};
	blobs[n++] = (push_blob){ab.config.digest, ab.config.len, "the model config", -1,
				 ab.config.data, ab.config.len, false};
	info->blobs = n;

	if ((rc = remote_open_session(&s, &ref, "pull,push", o)))
		goto done;
	for (size_t i = 0; i < n && rc == 0; i++) {
		bool exists = false;
		if ((rc = blob_exists(s, ref.repository, blobs[i].digest, &exists)) == 0 && !exists) {
			blobs[i].missing = true;
			p.total += blobs[i].size;
		}
	}
	p.fn = o->progress;
	p.ctx = o->progress_ctx;
	bool chunked = false;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!blobs[i].missing)
			continue;
		if ((rc = upload_blob(s, ref.repository, &blobs[i], &p, &chunked)) == 0) {
			p.base += blobs[i].size;
			info->blobs_moved++;
			info->bytes_moved += blobs[i].size;
		}
	}
	if (rc == 0)
		rc = put_manifest(s, ref.repository, tag, OCI_MT_MANIFEST, &ab.manifest, NULL);
	if (rc == 0)
		remote_progress_report(&p, 0);
	for (size_t i = 0; i < att.count && rc == 0; i++)
		rc = push_signature(s, ref.repository, &att.items[i], &ab.manifest, info);
done:
	for (size_t i = 0; i < n; i++)
		if (blobs[i].fd >= 0)
			close(blobs[i].fd);
	free(blobs);
	free(first);
	remote_session_close(s);
	artifact_blobs_dispose(&ab);
	oms_attachments_dispose(&att);
	kept_sigs_bytes_free(kept, kept_lens, kept_count);
	remote_ref_dispose(&ref);
	free(full);
	return rc;
}
