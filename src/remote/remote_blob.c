/*
 * The resumable blob download of a pull: each layer streams into
 * tmp/partial/<hex>.part while it is hashed (in 1 MiB writes), resumes with a
 * Range request after a cut, and moves into the pull's staging folder only
 * once its digest and size are right.
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

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "remote_priv.h"
#include "store/store_priv.h"
#include "util/strutil.h"

#define REHASH_CHUNK (256u << 10)

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
	remote_progress *p;
	uint64_t fetched;  /* bytes received in this pull */
} blob_sink;

static int write_at(blob_sink *b, const uint8_t *data, size_t len)
{
	int rc = fs_pwrite_all(b->fd, data, len, b->written, b->what);

	b->written += rc ? 0 : len;
	return rc;
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
	remote_progress_report(b->p, b->have);
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
	char *dir = path_join(store->tmp, STORE_PARTIAL_DIR), *name = NULL;
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

int remote_fetch_blob(remote_session *s, const mreg_store *store, const char *repo,
		      const oci_desc *desc, const char *what, const char *stage, remote_progress *p,
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
	/* No fsync here: the pull fsyncs its whole stage in one pass before any
	 * blob lands (ingest_stage_sync); the disk starts on it now. */
	fs_start_writeback(b.fd, 0, 0);
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
int remote_keep_verified(const mreg_store *store, const char *stage, int rc)
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
		to = str_printf("%s/%s/%s.part", store->tmp, STORE_PARTIAL_DIR, e->d_name);
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
