/*
 * mreg push / mreg pull: the bundle's OCI artifact over the distribution API.
 *
 * Push: HEAD each blob, POST + streamed PUT the missing ones, PUT the manifest
 * last. Pull: GET the manifest, check its digest, GET the config (the record),
 * stream each missing layer into tmp/partial/<hex>.part while hashing it, and
 * land the version as `mreg import` does once every blob has been verified.
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

#include "bundle_priv.h"
#include "error_priv.h"
#include "fsutil.h"
#include "hash.h"
#include "mreg/remote.h"
#include "oci.h"
#include "remote_http.h"
#include "remote_ref.h"
#include "store_priv.h"
#include "strutil.h"

#define MANIFEST_ACCEPT                                                                   \
	OCI_MT_MANIFEST ", " OCI_MT_INDEX                                                  \
	", application/vnd.docker.distribution.manifest.v2+json"                          \
	", application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define PARTIAL_DIR "partial"
#define REHASH_CHUNK (256u << 10)

typedef struct {
	mreg_progress_fn fn;
	void *ctx;
	uint64_t base;  /* bytes of the blobs done before this one */
	uint64_t total; /* of all blobs to move */
} progress;

static void progress_report(progress *p, uint64_t done)
{
	if (p->fn)
		p->fn(p->ctx, p->base + done, p->total);
}

static int check_options(const mreg_remote_options *o)
{
	int rc;

	if (!o || o->version != MREG_REMOTE_OPTIONS_VERSION)
		return mreg_seterr(MREG_EINVALID, "remote options: unknown version");
	if (o->retries > 20)
		return mreg_seterr(MREG_EINVALID, "retries: at most 20");
	if ((o->name && (rc = mreg_name_check(o->name))) ||
	    (o->model_version && (rc = mreg_version_check(o->model_version))))
		return rc;
	return 0;
}

static int open_session(remote_session **s, const remote_ref *ref, const char *actions,
			const mreg_remote_options *o)
{
	remote_conn_options co = {
		.plain_http = o->plain_http != 0,
		.ca_file = o->ca_file,
		.retries = o->retries,
		.stall_seconds = o->stall_seconds,
	};
	return remote_session_open(s, ref->host, ref->repository, actions, &co);
}

char *mreg_remote_repository_for(const char *model_name)
{
	return remote_name_to_repository(model_name);
}

/* ---- push ---- */

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
	progress_report(ctx, sent);
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
	progress *p;
	uint64_t offset; /* of the chunk being sent */
} chunk_progress;

static void on_chunk_sent(void *ctx, uint64_t sent)
{
	chunk_progress *c = ctx;
	progress_report(c->p, c->offset + sent);
}

/*
 * The chunked form, for registries (or the proxies in front of them) that
 * refuse a whole blob in one request (413): PATCH one chunk after another to
 * the upload's Location, each naming its byte range, then PUT with the digest
 * and no body. A chunk refused with 413 is sent again at half the size. On
 * return, @rs holds the last answer and *last the request it answered.
 */
static int upload_chunks(remote_session *s, const push_blob *b, progress *p, char **location,
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
static int upload_blob(remote_session *s, const char *repo, const push_blob *b, progress *p,
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
			const oci_blob *manifest)
{
	char *path = str_printf("/v2/%s/manifests/%s", repo, tag);
	remote_request rq = REMOTE_REQUEST_INIT;
	remote_response rs = {0};
	int rc;

	if (!path)
		return mreg_seterr_nomem();
	rq.method = "PUT";
	rq.url = path;
	rq.content_type = OCI_MT_MANIFEST;
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
	remote_response_dispose(&rs);
	free(path);
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
	oci_blob config = {0}, manifest = {0};
	push_blob *blobs = NULL;
	bool *first = NULL;
	size_t n = 0;
	char *full = NULL;
	const char *tag;
	progress p = {0};
	int rc;

	if (!info)
		info = &own;
	memset(info, 0, sizeof(*info));
	if ((rc = check_options(o)) || (rc = push_reference(&full, reference, r->name)) ||
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
	if ((rc = oci_config_build(&config, r)) || (rc = oci_manifest_build(&manifest, r, &config)))
		goto done;
	snprintf(info->manifest_digest, sizeof(info->manifest_digest), "%s", manifest.digest);

	/* Every blob is opened first: a version whose files are not all in the
	 * store (it came through git) fails before anything is sent. */
	blobs = calloc(r->file_count + 1, sizeof(*blobs));
	first = bundle_first_of_digest(r);
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
		if ((rc = store_blob_open(store, f->digest, &blobs[n].fd))) {
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
	blobs[n++] = (push_blob){config.digest, config.len, "the model config", -1, config.data,
				 config.len, false};
	info->blobs = n;

	if ((rc = open_session(&s, &ref, "pull,push", o)))
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
		rc = put_manifest(s, ref.repository, tag, &manifest);
	if (rc == 0)
		progress_report(&p, 0);
done:
	for (size_t i = 0; i < n; i++)
		if (blobs[i].fd >= 0)
			close(blobs[i].fd);
	free(blobs);
	free(first);
	remote_session_close(s);
	oci_blob_dispose(&config);
	oci_blob_dispose(&manifest);
	remote_ref_dispose(&ref);
	free(full);
	return rc;
}

/* ---- pull ---- */

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

#define SINK_BUFFER (1u << 20) /* network pieces are small: write in 1 MiB pieces */

typedef struct {
	int fd;
	uint8_t *buf;      /* SINK_BUFFER bytes not yet written */
	size_t buffered;
	uint64_t written;  /* bytes in the file */
	uint64_t have;     /* written + buffered, all hashed */
	uint64_t expected;
	hash_ctx *hash;
	remote_response *rs;
	bool checked;      /* the first piece of this response was looked at */
	const char *what;
	const char *host;
	progress *p;
	uint64_t fetched;  /* bytes received in this pull */
} blob_sink;

static int write_at(blob_sink *b, const uint8_t *data, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(b->fd, data + done, len - done, (off_t)(b->written + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mreg_seterr_errno("%s: write", b->what);
		done += (size_t)n;
	}
	b->written += len;
	return 0;
}

/* Write what is buffered: after each response, so a cut-off try keeps it all. */
static int sink_flush(blob_sink *b)
{
	int rc = write_at(b, b->buf, b->buffered);

	b->buffered = 0;
	return rc;
}

static int restart_blob(blob_sink *b)
{
	if (ftruncate(b->fd, 0) < 0)
		return mreg_seterr_errno("%s: truncate", b->what);
	b->have = b->written = 0;
	b->buffered = 0;
	uint8_t discard[SHA256_LEN];
	hash_final(b->hash, discard); /* resets the context */
	return 0;
}

static int sink_write(void *ctx, const uint8_t *buf, size_t len)
{
	blob_sink *b = ctx;
	int rc;

	if (!b->checked) {
		b->checked = true;
		if (b->rs->status == 200 && b->have > 0 && (rc = restart_blob(b)))
			return rc; /* the registry sent it all again: start over */
		if (b->rs->status == 206) {
			char want[64];
			snprintf(want, sizeof(want), "bytes %llu-", (unsigned long long)b->have);
			if (!b->rs->content_range || !str_starts_with(b->rs->content_range, want))
				return mreg_seterr(MREG_EIO,
						   "%s: %s: the registry resumed at the wrong place "
						   "(%s, wanted %s...)",
						   b->host, b->what,
						   b->rs->content_range ? b->rs->content_range : "none",
						   want);
		}
	}
	if (b->have + len > b->expected)
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: %s: the registry sent more than the %llu bytes the manifest "
				   "gives",
				   b->host, b->what, (unsigned long long)b->expected);
	if (b->buffered + len > SINK_BUFFER && (rc = sink_flush(b)))
		return rc;
	if (len >= SINK_BUFFER) {
		if ((rc = write_at(b, buf, len)))
			return rc;
	} else {
		memcpy(b->buf + b->buffered, buf, len);
		b->buffered += len;
	}
	hash_update(b->hash, buf, len);
	b->have += len;
	b->fetched += len;
	progress_report(b->p, b->have);
	return 0;
}

/* Hash what an earlier, cut-off try left in the file, to go on from its end. */
static int rehash_partial(blob_sink *b)
{
	uint8_t *buf;
	struct stat st;
	uint64_t off = 0;

	if (fstat(b->fd, &st) < 0)
		return mreg_seterr_errno("%s", b->what);
	if ((uint64_t)st.st_size > b->expected)
		return restart_blob(b);
	if (st.st_size == 0)
		return 0;
	if (!(buf = malloc(REHASH_CHUNK)))
		return mreg_seterr_nomem();
	while (off < (uint64_t)st.st_size) {
		ssize_t n = pread(b->fd, buf, REHASH_CHUNK, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? mreg_seterr_errno("%s: read", b->what) : restart_blob(b);
		}
		hash_update(b->hash, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	b->have = b->written = off;
	return 0;
}

/*
 * Open tmp/partial/<hex>.part, locked: what a cut-off earlier try left is
 * continued. The lock is taken on the file the path names now: a pull that
 * held it may have finished and renamed it away meanwhile, so the path is
 * checked again after the lock. When another pull holds it, a private file
 * is used (*shared false: not kept for resuming).
 */
static int open_partial(const mreg_store *store, const char *hex, char **path, int *fd,
			bool *shared)
{
	char *dir = path_join(store->tmp, PARTIAL_DIR), *name = NULL;
	int rc = 0;

	*path = NULL;
	*fd = -1;
	*shared = false;
	if (!dir || !(name = str_printf("%s/%s.part", dir, hex))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = fs_mkdir_p(dir, 0755)))
		goto done;
	for (int tries = 0; tries < 8; tries++) {
		struct stat held, now;
		int f = open(name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (f < 0) {
			rc = mreg_seterr_errno("%s", name);
			goto done;
		}
		if (flock(f, LOCK_EX | LOCK_NB) < 0) {
			close(f);
			break; /* busy: a private file below */
		}
		if (fstat(f, &held) == 0 && stat(name, &now) == 0 && held.st_dev == now.st_dev &&
		    held.st_ino == now.st_ino) {
			*fd = f;
			*path = name;
			name = NULL;
			*shared = true;
			goto done;
		}
		close(f); /* renamed away under us: open the path again */
	}
	rc = fs_tmpfile(path, fd, dir, "blob-");
done:
	free(name);
	free(dir);
	return rc;
}

static int note_kept(int rc, uint64_t have, uint64_t expected)
{
	char *msg = strdup(mreg_error_last());

	mreg_seterr(rc, "%s (%llu of %llu bytes kept: the next pull goes on from there)",
		    msg ? msg : "", (unsigned long long)have, (unsigned long long)expected);
	free(msg);
	return rc;
}

/*
 * GET the rest of the blob into b (from b->have on), trying again with a new
 * Range after a cut, a short answer or a 5xx, the session's retries times.
 */
static int download_rest(remote_session *s, remote_request *rq, remote_response *rs, blob_sink *b)
{
	char range[48];
	int rc = 0;

	for (unsigned int attempt = 0; b->have < b->expected; attempt++) {
		bool again;
		snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)b->have);
		rq->range = b->have > 0 ? range : NULL;
		b->checked = false;
		remote_response_dispose(rs);
		rc = remote_send(s, rq, rs);
		int frc = sink_flush(b);
		if (frc && (rc == 0 || rc == MREG_ENETWORK))
			rc = frc;
		if (rc == 0 && (rs->status == 200 || rs->status == 206)) {
			if (b->have == b->expected)
				return 0;
			again = true; /* an answer shorter than the blob: ask for the rest */
		} else if (rc == 0 && rs->status == 416 && b->have > 0) {
			/* The registry cannot go on from here: start over. */
			if ((rc = restart_blob(b)))
				return rc;
			again = true;
		} else {
			again = remote_retryable(rc, rs);
		}
		if (!again || attempt >= remote_session_retries(s))
			break;
		remote_backoff(attempt + 1);
	}
	if (b->have == b->expected && rc == 0)
		return 0;
	if (rc)
		return rc;
	if (rs->status == 200 || rs->status == 206)
		return mreg_seterr(MREG_ENETWORK, "%s: %s: the registry sent %llu of %llu bytes",
				   b->host, b->what, (unsigned long long)b->have,
				   (unsigned long long)b->expected);
	return remote_status_error(s, rq, rs,
				   rs->status == 404   ? MREG_ENOTFOUND
				   : rs->status == 403 ? MREG_EAUTH
						       : MREG_ENETWORK,
				   rs->status == 404 ? "the registry lacks a blob its manifest names"
						     : NULL);
}

static int fetch_blob(remote_session *s, const mreg_store *store, const char *repo,
		      const oci_desc *desc, const char *what, const char *stage, progress *p,
		      mreg_remote_info *info)
{
	const char *hex = desc->digest + 7;
	char *part = NULL, *url = str_printf("/v2/%s/blobs/%s", repo, desc->digest), *dest = NULL;
	remote_request rq = REMOTE_REQUEST_INIT;
	remote_response rs = {0};
	blob_sink b = {.fd = -1, .expected = desc->size, .what = what,
		       .host = remote_session_host(s), .rs = &rs, .p = p};
	char got[MREG_DIGEST_STRLEN];
	uint8_t raw[SHA256_LEN];
	bool shared = false, resumed;
	int rc;

	if (!url || !(b.hash = hash_new()) || !(b.buf = malloc(SINK_BUFFER))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = open_partial(store, hex, &part, &b.fd, &shared)) || (rc = rehash_partial(&b)))
		goto done;
	resumed = b.have > 0;
	rq.method = "GET";
	rq.url = url;
	rq.sink = sink_write;
	rq.sink_ctx = &b;
	for (;;) {
		rc = download_rest(s, &rq, &rs, &b);
		if (rc == 0) {
			hash_final(b.hash, raw);
			digest_format(got, raw);
			if (strcmp(got, desc->digest) == 0)
				break;
			rc = mreg_seterr(MREG_ECORRUPT,
					 "%s: %s: the registry sent data that does not match its "
					 "digest (%s; the manifest gives %s, %llu bytes)",
					 remote_session_host(s), what, got, desc->digest,
					 (unsigned long long)desc->size);
		}
		if (rc == MREG_ECORRUPT) {
			/* Damaged data is not kept for resuming. When the damage may be
			 * in what an earlier try left, fetch the whole blob once more. */
			int trc = restart_blob(&b);
			if (trc)
				rc = trc;
			else if (resumed) {
				resumed = false;
				continue;
			}
		} else if (rc == MREG_ENETWORK && shared && b.have > 0) {
			rc = note_kept(rc, b.have, b.expected);
		}
		goto done;
	}
	info->blobs_resumed += resumed;
	if (fsync(b.fd) < 0) {
		rc = mreg_seterr_errno("%s: fsync", part);
		goto done;
	}
	if (!(dest = path_join(stage, hex))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (rename(part, dest) < 0 || fchmod(b.fd, 0444) < 0) {
		rc = mreg_seterr_errno("%s: rename", dest);
		goto done;
	}
	if (b.fetched > 0)
		info->blobs_moved++;
	info->bytes_moved += b.fetched;
done:
	/* A private file (another pull held the shared one) is not kept, nor is
	 * damaged data. */
	if (rc && part && (!shared || rc == MREG_ECORRUPT))
		unlink(part);
	if (b.fd >= 0)
		close(b.fd);
	hash_free(b.hash);
	free(b.buf);
	remote_response_dispose(&rs);
	free(part);
	free(dest);
	free(url);
	return rc;
}

/*
 * After a failed pull: put the blobs it verified back among the partial ones,
 * complete, so the next pull checks them instead of fetching them again.
 */
static int keep_verified(const mreg_store *store, const char *stage, int rc)
{
	DIR *d = opendir(stage);
	struct dirent *e;
	char *msg;

	if (!d)
		return rc;
	msg = strdup(mreg_error_last()); /* the pull's error, not ours */
	while ((e = readdir(d))) {
		char *from, *to;
		if (!digest_hex_valid(e->d_name))
			continue;
		from = path_join(stage, e->d_name);
		to = str_printf("%s/%s/%s.part", store->tmp, PARTIAL_DIR, e->d_name);
		if (from && to && chmod(from, 0600) == 0)
			fs_rename_noreplace(from, to);
		free(from);
		free(to);
	}
	closedir(d);
	if (msg)
		mreg_seterr(rc, "%s", msg);
	free(msg);
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
	bool *first = bundle_first_of_digest(r), *need = calloc(r->file_count + 1, sizeof(bool));
	progress p = {.fn = o->progress, .ctx = o->progress_ctx};
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
		rc = fetch_blob(s, store, ref->repository, &desc, f->path, stage, &p, info);
		p.base += f->size;
	}
	if (rc == 0)
		progress_report(&p, 0);
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
	if ((rc = check_options(o)) || (rc = remote_ref_parse(&ref, reference)))
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

	if ((rc = open_session(&s, &ref, "pull", o)))
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
	if ((rc = bundle_rename_record(r, o->name, o->model_version)))
		goto done;

	/* Shared ingest lock: gc waits, so it never takes what we stage. */
	if ((rc = store_ingest_lock(store, false)))
		goto done;
	ingesting = true;
	{
		mreg_record *existing = NULL;
		rc = bundle_existing(store, r->name, r->version, r->digest, "pull", &existing);
		mreg_record_free(existing);
		if (rc)
			goto done;
	}
	if ((rc = bundle_stage_create(store, "pull", &stage)))
		goto done;
	if ((rc = pull_layers(s, store, &ref, r, stage, o, info))) {
		rc = keep_verified(store, stage, rc);
		goto done;
	}
	rc = bundle_land_version(store, &r, stage, "pull", &info->unchanged, &added);
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
