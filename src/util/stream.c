#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_priv.h"
#include "fsutil.h"
#include "stream.h"

/*
 * 256 KiB chunks: small enough that the chunk just read is still in the CPU
 * cache when it is hashed and written (1 MiB chunks made write() copy from
 * memory and cost twice as much CPU), large enough to keep syscalls few.
 */
#define CHUNK (256u << 10)
#define NBUF 16              /* at most 16 chunks (4 MiB) in flight */
#define ALIGN 4096           /* page-aligned buffers */
#define PIPELINE_MIN STREAM_PIPELINE_MIN
#define PROGRESS_EVERY (16u << 20)
/* Writeback starts for every this many bytes written: per 256 KiB chunk it
 * cost a fifth of the time of a 1 GiB create (bench/ingest), per 8 MiB nothing. */
#define WRITEBACK_EVERY (8u << 20)
/* A durable copy asks the disk to flush after every this many bytes. */
#define FLUSH_EVERY (64u << 20)

typedef struct {
	uint8_t *buf[NBUF];
	size_t len[NBUF];
	hash_ctx *hash;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t posted;  /* chunks handed to the hasher */
	uint64_t hashed;  /* chunks the hasher is done with */
	bool eof;
} pipeline;

static void *hasher_main(void *arg)
{
	pipeline *p = arg;

	for (;;) {
		uint64_t next;

		pthread_mutex_lock(&p->mu);
		while (p->hashed == p->posted && !p->eof)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->hashed == p->posted && p->eof) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		next = p->hashed;
		pthread_mutex_unlock(&p->mu);

		hash_update(p->hash, p->buf[next % NBUF], p->len[next % NBUF]);

		pthread_mutex_lock(&p->mu);
		p->hashed++;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
}

static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int write_full(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void report(stream_progress *progress, uint64_t done, uint64_t *last)
{
	if (progress && progress->fn && done - *last >= PROGRESS_EVERY) {
		progress->fn(progress->ctx, progress->base + done, progress->total);
		*last = done;
	}
}


/*
 * The background flush of a durable copy. A disk with a volatile write cache
 * (every virtual disk, most SSDs) acknowledges writes at once and pays for them
 * at the fsync that follows; fdatasync on a second thread while the copy goes
 * on overlaps that cost with the reading and hashing, so the caller's final
 * fsync finds little left to do. An error is kept and reported by the copy:
 * the kernel reports a writeback error once per open file, so the caller's own
 * fsync would not see it again.
 */
typedef struct {
	int fd;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t written; /* bytes written so far */
	uint64_t flushed; /* bytes the last flush started with */
	int err;          /* errno of a failed flush, else 0 */
	bool stop;
} flusher;

static void *flusher_main(void *arg)
{
	flusher *f = arg;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->stop && f->written - f->flushed < FLUSH_EVERY)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop)
			break;
		f->flushed = f->written;
		pthread_mutex_unlock(&f->mu);
		int rc = fdatasync(f->fd);
		int err = rc < 0 ? errno : 0;
		pthread_mutex_lock(&f->mu);
		if (err && !f->err)
			f->err = err;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static bool flusher_start(flusher *f, int fd)
{
	*f = (flusher){.fd = fd, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	return pthread_create(&f->thread, NULL, flusher_main, f) == 0;
}

static void flusher_note(flusher *f, uint64_t written)
{
	pthread_mutex_lock(&f->mu);
	f->written = written;
	if (written - f->flushed >= FLUSH_EVERY)
		pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Waits for a flush in progress; returns the errno of a failed one, else 0. */
static int flusher_stop(flusher *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	return f->err;
}

static int copy_simple(stream_reader rd, void *rctx, stream_writer wr, void *wctx, hash_ctx *h,
		       uint64_t *size, stream_progress *progress)
{
	uint8_t *buf = NULL;
	uint64_t total = 0, last = 0;
	int rc = 0;

	if (posix_memalign((void **)&buf, ALIGN, CHUNK) != 0)
		return mreg_seterr_nomem();
	for (;;) {
		ssize_t n;
		if ((rc = mreg_check_interrupt()))
			goto done;
		n = rd(rctx, buf, CHUNK);
		if (n < 0) {
			rc = (int)n;
			goto done;
		}
		if (n == 0)
			break;
		hash_update(h, buf, (size_t)n);
		if (wr && (rc = wr(wctx, buf, (size_t)n)))
			goto done;
		total += (uint64_t)n;
		report(progress, total, &last);
	}
	*size = total;
done:
	free(buf);
	return rc;
}

static int copy_pipelined(stream_reader rd, void *rctx, stream_writer wr, void *wctx,
			  hash_ctx *h, uint64_t *size, stream_progress *progress, flusher *flush)
{
	pipeline p = {.hash = h, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	pthread_t thread;
	bool started = false;
	uint64_t total = 0, last = 0;
	int rc = 0;

	for (int i = 0; i < NBUF; i++) {
		if (posix_memalign((void **)&p.buf[i], ALIGN, CHUNK) != 0) {
			p.buf[i] = NULL;
			rc = mreg_seterr_nomem();
			goto done;
		}
	}
	if (pthread_create(&thread, NULL, hasher_main, &p) != 0) {
		rc = mreg_seterr(MREG_EIO, "cannot start the hashing thread");
		goto done;
	}
	started = true;

	for (uint64_t i = 0;; i++) {
		uint8_t *buf = p.buf[i % NBUF];
		ssize_t n;

		if ((rc = mreg_check_interrupt()))
			break;
		/* Wait until the hasher has released the buffer we reuse. */
		pthread_mutex_lock(&p.mu);
		while (i - p.hashed >= NBUF)
			pthread_cond_wait(&p.cv, &p.mu);
		pthread_mutex_unlock(&p.mu);

		n = rd(rctx, buf, CHUNK);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0)
			break;

		pthread_mutex_lock(&p.mu);
		p.len[i % NBUF] = (size_t)n;
		p.posted++;
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.mu);

		if (wr && (rc = wr(wctx, buf, (size_t)n)))
			break;
		total += (uint64_t)n;
		if (flush)
			flusher_note(flush, total);
		report(progress, total, &last);
	}
	*size = total;

done:
	if (started) {
		pthread_mutex_lock(&p.mu);
		p.eof = true;
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.mu);
		pthread_join(thread, NULL);
	}
	for (int i = 0; i < NBUF; i++)
		free(p.buf[i]); /* the unused ones are NULL */
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	return rc;
}

static int pump(stream_reader rd, void *rctx, stream_writer wr, void *wctx, uint64_t size_hint,
		uint8_t digest[SHA256_LEN], uint64_t *size, stream_progress *progress,
		const stream_fd *durable)
{
	hash_ctx *h = hash_new();
	int rc;

	*size = 0;
	if (!h)
		return mreg_seterr_nomem();
	if (size_hint >= PIPELINE_MIN) {
		flusher flush;
		bool flushing = durable && size_hint >= 2 * FLUSH_EVERY &&
				flusher_start(&flush, durable->fd);
		rc = copy_pipelined(rd, rctx, wr, wctx, h, size, progress,
				    flushing ? &flush : NULL);
		if (flushing) {
			int err = flusher_stop(&flush);
			if (err && rc == 0) {
				errno = err;
				rc = mreg_seterr_errno("%s: fsync", durable->name);
			}
		}
	} else
		rc = copy_simple(rd, rctx, wr, wctx, h, size, progress);
	if (rc == 0) {
		hash_final(h, digest);
		if (progress && progress->fn)
			progress->fn(progress->ctx, progress->base + *size, progress->total);
	}
	hash_free(h);
	return rc;
}

int stream_pump(stream_reader rd, void *rctx, stream_writer wr, void *wctx, uint64_t size_hint,
		uint8_t digest[SHA256_LEN], uint64_t *size, stream_progress *progress)
{
	return pump(rd, rctx, wr, wctx, size_hint, digest, size, progress, NULL);
}

ssize_t stream_fd_reader(void *ctx, uint8_t *buf, size_t cap)
{
	stream_fd *in = ctx;
	ssize_t n = read_full(in->fd, buf, cap);

	if (n < 0)
		return mreg_seterr_errno("%s: read", in->name);
	in->off += (uint64_t)n;
	return n;
}

int stream_fd_writer(void *ctx, const uint8_t *buf, size_t len)
{
	stream_fd *out = ctx;

	if (write_full(out->fd, buf, len) < 0)
		return mreg_seterr_errno("%s: write", out->name);
	out->off += len;
	out->pending += len;
	if (out->pending >= WRITEBACK_EVERY) {
		/* the kernel sends large requests early, not a flood at the final fsync */
		fs_start_writeback(out->fd, out->off - out->pending, out->pending);
		out->pending = 0;
	}
	return 0;
}

static int copy_fd(int in_fd, const char *in_name, int out_fd, const char *out_name,
		   uint8_t digest[SHA256_LEN], uint64_t *size, stream_progress *progress, bool durable)
{
	stream_fd in = {.fd = in_fd, .name = in_name};
	stream_fd out = {.fd = out_fd, .name = out_name};
	struct stat st;
	uint64_t hint = 0;

	posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode))
		hint = (uint64_t)st.st_size;

	return pump(stream_fd_reader, &in, out_fd >= 0 ? stream_fd_writer : NULL, &out, hint, digest,
		    size, progress, durable && out_fd >= 0 ? &out : NULL);
}

int stream_copy(int in_fd, const char *in_name, int out_fd, const char *out_name,
		uint8_t digest[SHA256_LEN], uint64_t *size, stream_progress *progress)
{
	return copy_fd(in_fd, in_name, out_fd, out_name, digest, size, progress, false);
}

int stream_copy_durable(int in_fd, const char *in_name, int out_fd, const char *out_name,
			uint8_t digest[SHA256_LEN], uint64_t *size, stream_progress *progress)
{
	return copy_fd(in_fd, in_name, out_fd, out_name, digest, size, progress, true);
}
