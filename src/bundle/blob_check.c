/* The store's small blobs hashed on a second thread while a package copies them (blob_check.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob_check.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"

#define CHUNK (256u << 10)
/* Blobs copied but not checked yet: each an open descriptor. */
#define QUEUE 64
/*
 * The check, once it has emptied the queue, sleeps until this many blobs wait
 * (or no more come): one wake-up per batch, not one futex call per blob.
 */
#define BATCH 16

typedef struct {
	const mreg_file *f;
	int fd;
} pending;

struct blob_check {
	uint64_t below;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more, room; /* the queue got an item / lost one */
	pending queue[QUEUE];
	size_t head, count;
	bool closing;       /* no more blobs come */
	bool asleep;        /* the check waits for BATCH blobs */
	atomic_bool cancel; /* stop at once */
	atomic_int rc;      /* the first failure */
	char message[1024]; /* its message (errors are per thread), set before rc */
};

bool blob_check_takes(const blob_check *c, const mreg_file *f)
{
	return c && f->size < c->below;
}

/* @f's blob gave @total bytes of digest @raw: 0, or MREG_ECORRUPT naming the file. */
static int verdict(const mreg_file *f, const uint8_t raw[SHA256_LEN], uint64_t total)
{
	char got[MREG_DIGEST_STRLEN];

	digest_format(got, raw);
	if (total != f->size || strcmp(got, f->digest))
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: blob %s does not match its digest (read %s, %llu bytes; store "
				   "corrupt? run mreg fsck)",
				   f->path, f->digest, got, (unsigned long long)total);
	return 0;
}

/*
 * The blob's first f->size bytes, the bytes the copy put in the archive, read
 * from its start and their digest compared; 0 or MREG_E* with the message set.
 */
static int check_one(const mreg_file *f, int fd, uint8_t *buf, hash_ctx *h)
{
	uint8_t raw[SHA256_LEN];
	uint64_t total = 0;

	while (total < f->size) {
		size_t want = f->size - total < CHUNK ? (size_t)(f->size - total) : CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		/* Opened O_NONBLOCK (store_blob_open_nonblocking()). */
		if (n < 0 && errno == EAGAIN && fs_fd_set_blocking(fd) == 0)
			continue;
		if (n < 0) {
			hash_final(h, raw); /* resets h */
			return mreg_seterr_errno("%s: blob %s: read", f->path, f->digest);
		}
		if (n == 0)
			break;
		hash_update(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	hash_final(h, raw); /* also resets h for the next blob */
	return verdict(f, raw, total);
}

/* The next queued blob; false when the queue is empty and closed. */
static bool take(blob_check *c, pending *p)
{
	pthread_mutex_lock(&c->lock);
	if (c->count == 0) {
		c->asleep = true;
		while (c->count < BATCH && !c->closing)
			pthread_cond_wait(&c->more, &c->lock);
		c->asleep = false;
	}
	if (c->count == 0) {
		pthread_mutex_unlock(&c->lock);
		return false;
	}
	*p = c->queue[c->head];
	c->head = (c->head + 1) % QUEUE;
	if (c->count-- == QUEUE)
		pthread_cond_signal(&c->room);
	pthread_mutex_unlock(&c->lock);
	return true;
}

static void fail(blob_check *c, int rc)
{
	pthread_mutex_lock(&c->lock);
	snprintf(c->message, sizeof(c->message), "%s", mreg_error_last());
	atomic_store(&c->rc, rc);
	pthread_cond_signal(&c->room); /* a waiting producer sees the failure */
	pthread_mutex_unlock(&c->lock);
}

static void *check_main(void *arg)
{
	blob_check *c = arg;
	uint8_t *buf = malloc(CHUNK);
	hash_ctx *h = hash_new();
	pending p;
	int rc = buf && h ? 0 : mreg_seterr_nomem();

	if (rc)
		fail(c, rc);
	/* Every queued descriptor is taken and closed, even after a failure. */
	while (take(c, &p)) {
		if (!rc && !atomic_load(&c->cancel) && !(rc = mreg_check_interrupt()))
			rc = check_one(p.f, p.fd, buf, h);
		close(p.fd);
		if (rc && !atomic_load(&c->rc))
			fail(c, rc);
	}
	hash_free(h);
	free(buf);
	return NULL;
}

int blob_check_start(blob_check **out, uint64_t below)
{
	blob_check *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return mreg_seterr_nomem();
	c->below = below;
	atomic_init(&c->cancel, false);
	atomic_init(&c->rc, 0);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->more, NULL);
	pthread_cond_init(&c->room, NULL);
	if (pthread_create(&c->thread, NULL, check_main, c)) {
		pthread_cond_destroy(&c->room);
		pthread_cond_destroy(&c->more);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return mreg_seterr(MREG_EIO, "cannot start the thread that checks blobs");
	}
	*out = c;
	return 0;
}

/* The failure found so far, its message set on the calling thread (under c->lock). */
static int failure(blob_check *c)
{
	int rc = atomic_load(&c->rc);

	if (rc)
		mreg_seterr(rc, "%s", c->message);
	return rc;
}

int blob_check_add(blob_check *c, const mreg_file *f, int fd, const uint8_t *whole)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	/* The check is behind: rather than wait, hash what the copy read. */
	if (whole && c->count == QUEUE && !atomic_load(&c->rc)) {
		uint8_t raw[SHA256_LEN];
		pthread_mutex_unlock(&c->lock);
		close(fd);
		hash_buffer(raw, whole, (size_t)f->size);
		return verdict(f, raw, f->size);
	}
	while (c->count == QUEUE && !atomic_load(&c->rc))
		pthread_cond_wait(&c->room, &c->lock);
	if ((rc = failure(c))) {
		pthread_mutex_unlock(&c->lock);
		close(fd);
		return rc;
	}
	c->queue[(c->head + c->count) % QUEUE] = (pending){f, fd};
	if (++c->count >= BATCH && c->asleep)
		pthread_cond_signal(&c->more);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int blob_check_finish(blob_check *c, bool cancel)
{
	int rc;

	if (!c)
		return 0;
	if (cancel)
		atomic_store(&c->cancel, true);
	pthread_mutex_lock(&c->lock);
	c->closing = true;
	pthread_cond_signal(&c->more);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	rc = cancel ? 0 : failure(c);
	pthread_cond_destroy(&c->room);
	pthread_cond_destroy(&c->more);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return rc;
}
