/*
 * A verified copy of one blob into a new file (checkout_copy.h). Two threads
 * for a large file: the copier moves 8 MiB at a time with copy_file_range
 * (one syscall per chunk, the bytes never enter this process), the caller
 * reads back what the copier finished, from the page cache, and hashes it.
 * On two cores the copy costs about what the hash alone costs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkout_copy.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "mreg/record.h"

#define COPY_CHUNK (8u << 20)     /* bytes per copy_file_range call */
#define HASH_CHUNK (256u << 10)   /* bytes per read of the target to hash */
#define FALLBACK_BUF (1u << 20)   /* the read/write loop's buffer */
#define TWO_THREADS_MIN (8u << 20) /* below this, one thread is faster */
#define PROGRESS_EVERY (16u << 20)

typedef struct {
	int in, out;
	const checkout_copy_job *job;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t copied; /* bytes of out complete */
	bool finished;   /* the copier returned */
	bool stop;       /* the hasher gave up: stop copying */
	bool used_cfr;
	int rc;
	char msg[1024];
} copier;

static bool cfr_unsupported(int err)
{
	return err == EXDEV || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL;
}

/* Publish progress; false when the hasher asked to stop. */
static bool copier_note(copier *c, uint64_t copied)
{
	bool go;

	pthread_mutex_lock(&c->mu);
	c->copied = copied;
	go = !c->stop;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return go;
}

static int copy_rw(copier *c, uint64_t off)
{
	const checkout_copy_job *j = c->job;
	uint8_t *buf = malloc(FALLBACK_BUF);
	int rc = 0;

	if (!buf)
		return mreg_seterr_nomem();
	while (off < j->size) {
		size_t want = j->size - off < FALLBACK_BUF ? (size_t)(j->size - off) : FALLBACK_BUF;
		ssize_t n = pread(c->in, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mreg_seterr_errno("%s: read of blob %s", j->out_name, j->in_name);
			break;
		}
		if (n == 0) {
			rc = mreg_seterr(MREG_ECORRUPT,
					 "%s: blob %s is shorter than its recorded %llu bytes",
					 j->out_name, j->digest, (unsigned long long)j->size);
			break;
		}
		if ((rc = fs_pwrite_all(c->out, buf, (size_t)n, off, j->out_name)))
			break;
		off += (uint64_t)n;
		if (!copier_note(c, off))
			break;
	}
	free(buf);
	return rc;
}

static int copy_all(copier *c)
{
	const checkout_copy_job *j = c->job;
	uint64_t off = 0;

	while (off < j->size) {
		loff_t from = (loff_t)off, to = (loff_t)off;
		size_t want = j->size - off < COPY_CHUNK ? (size_t)(j->size - off) : COPY_CHUNK;
		ssize_t n = copy_file_range(c->in, &from, c->out, &to, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		/* Refused before a byte moved (another filesystem, an old
		 * kernel): the read/write loop does it all. */
		if (n < 0 && cfr_unsupported(errno) && off == 0)
			return copy_rw(c, 0);
		if (n < 0)
			return mreg_seterr_errno("%s: copy_file_range from blob %s", j->out_name,
						 j->in_name);
		if (n == 0)
			return mreg_seterr(MREG_ECORRUPT,
					   "%s: blob %s is shorter than its recorded %llu bytes",
					   j->out_name, j->digest, (unsigned long long)j->size);
		c->used_cfr = true;
		off += (uint64_t)n;
		if (!copier_note(c, off))
			return 0;
	}
	return 0;
}

static void copier_finish(copier *c, int rc)
{
	pthread_mutex_lock(&c->mu);
	c->rc = rc;
	if (rc)
		snprintf(c->msg, sizeof(c->msg), "%s", mreg_error_last());
	c->finished = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void *copier_main(void *arg)
{
	copier *c = arg;

	copier_finish(c, copy_all(c));
	return NULL;
}

/* Wait until the copier has finished more than @off bytes (or returned). */
static uint64_t wait_copied(copier *c, uint64_t off, bool *finished)
{
	uint64_t have;

	pthread_mutex_lock(&c->mu);
	while (c->copied <= off && !c->finished)
		pthread_cond_wait(&c->cv, &c->mu);
	have = c->copied;
	*finished = c->finished;
	pthread_mutex_unlock(&c->mu);
	return have;
}

/* Hash @out from @off up to @upto into @h. */
static int hash_range(int out, const checkout_copy_job *j, hash_ctx *h, uint8_t *buf,
		      uint64_t *off, uint64_t upto, uint64_t *shown)
{
	while (*off < upto) {
		size_t want = upto - *off < HASH_CHUNK ? (size_t)(upto - *off) : HASH_CHUNK;
		ssize_t n = pread(out, buf, want, (off_t)*off);
		int rc;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mreg_seterr_errno("%s: read back", j->out_name);
		if (n == 0)
			return mreg_seterr(MREG_EIO, "%s: shorter than what was copied into it",
					   j->out_name);
		hash_update(h, buf, (size_t)n);
		*off += (uint64_t)n;
		if ((rc = mreg_check_interrupt()))
			return rc;
		if (j->progress && *off - *shown >= PROGRESS_EVERY) {
			j->progress(j->progress_ctx, *off);
			*shown = *off;
		}
	}
	return 0;
}

int checkout_copy_verified(int in, int out, checkout_copy_job *j)
{
	copier c = {.in = in, .out = out, .job = j, .mu = PTHREAD_MUTEX_INITIALIZER,
		    .cv = PTHREAD_COND_INITIALIZER};
	hash_ctx *h = hash_new();
	uint8_t *buf = malloc(HASH_CHUNK), raw[SHA256_LEN];
	char got[MREG_DIGEST_STRLEN];
	uint64_t off = 0, shown = 0;
	pthread_t thread;
	bool threaded = false;
	int rc = 0;

	if (!h || !buf) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (j->size >= TWO_THREADS_MIN && pthread_create(&thread, NULL, copier_main, &c) == 0)
		threaded = true;
	else
		copier_finish(&c, copy_all(&c));
	for (;;) {
		bool finished;
		uint64_t have = wait_copied(&c, off, &finished);
		if ((rc = hash_range(out, j, h, buf, &off, have, &shown)))
			break;
		if (finished && off >= c.copied)
			break;
	}
	if (threaded) {
		pthread_mutex_lock(&c.mu);
		c.stop = true;
		pthread_mutex_unlock(&c.mu);
		pthread_join(thread, NULL);
	}
	if (rc == 0 && c.rc) {
		rc = c.rc;
		mreg_seterr(rc, "%s", c.msg);
	}
	if (rc)
		goto done;
	hash_final(h, raw);
	digest_format(got, raw);
	if (off != j->size || strcmp(got, j->digest)) {
		rc = mreg_seterr(MREG_ECORRUPT,
				 "%s: blob %s does not match its digest (read %s, %llu bytes%s)",
				 j->out_name, j->digest, got, (unsigned long long)off,
				 j->hint ? j->hint : "");
		goto done;
	}
	j->used_cfr = c.used_cfr;
done:
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.cv);
	hash_free(h);
	free(buf);
	return rc;
}
