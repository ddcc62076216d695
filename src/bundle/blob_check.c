/* The store's small blobs hashed on a second thread while a package copies them (blob_check.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob_check.h"
#include "util/error_priv.h"
#include "util/hash.h"
#include "store/store_priv.h"

#define CHUNK (256u << 10)

struct blob_check {
	const mreg_store *store;
	const mreg_record *r;
	const bool *first;
	uint64_t below;
	pthread_t thread;
	atomic_bool cancel;
	int rc;             /* the first failure */
	char message[1024]; /* its message (errors are per thread) */
};

bool blob_check_takes(const blob_check *c, const mreg_file *f)
{
	return c && f->size < c->below;
}

/* One blob read whole and its digest compared; 0 or MREG_E* with the message set. */
static int check_one(blob_check *c, const mreg_file *f, uint8_t *buf, hash_ctx *h)
{
	uint8_t raw[SHA256_LEN];
	char got[MREG_DIGEST_STRLEN];
	uint64_t total = 0;
	int fd, rc;

	if ((rc = store_blob_open(c->store, f->digest, f->size, &fd)))
		return mreg_error_prefix(MREG_ECORRUPT, "%s", f->path);
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mreg_seterr_errno("%s: blob %s: read", f->path, f->digest);
			break;
		}
		if (n == 0)
			break;
		hash_update(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	if (rc)
		return rc;
	hash_final(h, raw); /* also resets h for the next blob */
	digest_format(got, raw);
	if (total != f->size || strcmp(got, f->digest))
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: blob %s does not match its digest (read %s, %llu bytes; store "
				   "corrupt? run mreg fsck)",
				   f->path, f->digest, got, (unsigned long long)total);
	return 0;
}

static void *check_main(void *arg)
{
	blob_check *c = arg;
	uint8_t *buf = malloc(CHUNK);
	hash_ctx *h = hash_new();
	int rc = buf && h ? 0 : mreg_seterr_nomem();

	for (size_t i = 0; rc == 0 && i < c->r->file_count; i++) {
		const mreg_file *f = &c->r->files[i];
		if (atomic_load(&c->cancel))
			break;
		if (!c->first[i] || !blob_check_takes(c, f))
			continue;
		if (!(rc = mreg_check_interrupt()))
			rc = check_one(c, f, buf, h);
	}
	if (rc) {
		c->rc = rc;
		snprintf(c->message, sizeof(c->message), "%s", mreg_error_last());
	}
	hash_free(h);
	free(buf);
	return NULL;
}

int blob_check_start(blob_check **out, const mreg_store *store, const mreg_record *r,
		     const bool *first, uint64_t below)
{
	blob_check *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return mreg_seterr_nomem();
	c->store = store;
	c->r = r;
	c->first = first;
	c->below = below;
	atomic_init(&c->cancel, false);
	if (pthread_create(&c->thread, NULL, check_main, c)) {
		free(c);
		return mreg_seterr(MREG_EIO, "cannot start the thread that checks blobs");
	}
	*out = c;
	return 0;
}

int blob_check_finish(blob_check *c, bool cancel)
{
	int rc;

	if (!c)
		return 0;
	if (cancel)
		atomic_store(&c->cancel, true);
	pthread_join(c->thread, NULL);
	rc = c->rc;
	if (rc && !cancel)
		mreg_seterr(rc, "%s", c->message);
	free(c);
	return cancel ? 0 : rc;
}
