/*
 * The store's one ingest path: every version that enters the store, whether
 * from a model folder (create), a bundle (import) or a registry (pull), goes
 * through here. Blobs arrive first, each written to tmp/, fsynced and renamed
 * into blobs/ (or into a staging folder until the whole version is checked);
 * the record is written last, under the store lock. The caller holds the
 * shared ingest lock from the first blob to the record, so gc never takes a
 * blob whose record is not written yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "ingest.h"
#include "statcache.h"
#include "record_priv.h"
#include "store_priv.h"
#include "util/strutil.h"

/* ---- blobs straight from a model folder (create) ---- */

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ino == b->st_ino;
}

/* A file this small is read whole into one buffer: hashed, then written only
 * when its blob is missing. Larger ones are hashed while they are copied. */
#define SMALL_FILE (1u << 20)

static int write_all(int fd, const uint8_t *buf, size_t len, const char *name)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mreg_seterr_errno("%s: write", name);
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read all of a small file (@expect bytes by its fstat) into *buf. */
static int read_small(int in, const char *name, uint64_t expect, uint8_t **buf, uint64_t *size)
{
	size_t cap = (size_t)expect + 1, got = 0;

	*size = 0;
	if (!(*buf = malloc(cap)))
		return mreg_seterr_nomem();
	for (;;) {
		ssize_t n = read(in, *buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mreg_seterr_errno("%s: read", name);
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap)
			break; /* grew: the size check below refuses it */
	}
	*size = got;
	return 0;
}

int ingest_blob_put(mreg_store *s, const walk_file *file, mreg_file *out, statcache *cache,
		    stream_progress *progress)
{
	char *tmp = NULL, *dest = NULL;
	int in = -1, fd = -1, rc;
	uint8_t raw[SHA256_LEN], *small = NULL;
	uint64_t size = 0;
	struct stat before, after;
	bool cached;

	/* O_NONBLOCK: a file swapped for a FIFO since the walk must not hang us. */
	in = open(file->abs, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return mreg_seterr_errno("%s", file->abs);
	if (fstat(in, &before) < 0) {
		rc = mreg_seterr_errno("%s", file->abs);
		goto done;
	}
	if (!S_ISREG(before.st_mode)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: not a regular file", file->abs);
		goto done;
	}
	fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
	out->size = size = (uint64_t)before.st_size;
	out->mode = file->mode;
	/* Unchanged since an earlier run and its blob is here: nothing to read. */
	if ((cached = statcache_lookup(cache, &before, raw))) {
		digest_format(out->digest, raw);
		if (!(dest = path_join(s->blobs, out->digest + 7))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		if (fs_exists(dest))
			goto named;
		free(dest);
		dest = NULL;
	}
	if (size <= SMALL_FILE) {
		/* Hash first: a blob the store has costs one read and no write. */
		if ((rc = read_small(in, file->abs, size, &small, &size)))
			goto done;
		hash_buffer(raw, small, (size_t)size);
		if (progress && progress->fn)
			progress->fn(progress->ctx, progress->base + size, progress->total);
	} else {
		if ((rc = fs_tmpfile(&tmp, &fd, s->tmp, "blob-")))
			goto done;
		/* Buffered writes, flushed on a second thread as the copy goes (see
		 * stream.h). O_DIRECT was tried and measured slower: one write in
		 * flight at a time, and the fsync still had to flush the disk's cache. */
		if ((rc = stream_copy_durable(in, file->abs, fd, tmp, raw, &size, progress)))
			goto done;
	}
	if (fstat(in, &after) < 0 || !same_file_state(&before, &after) ||
	    size != (uint64_t)before.st_size) {
		rc = mreg_seterr(MREG_EINVALID, "%s: the file changed while it was being read",
				 file->abs);
		goto done;
	}
	digest_format(out->digest, raw);
	out->size = size;
	dest = path_join(s->blobs, out->digest + 7);
	if (!dest) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	/* Stored already: the copy in tmp/ (large files) is dropped unsynced below. */
	if (!fs_exists(dest)) {
		if (small && ((rc = fs_tmpfile(&tmp, &fd, s->tmp, "blob-")) ||
			      (rc = write_all(fd, small, (size_t)size, tmp))))
			goto done;
		if ((rc = fs_seal_blob(fd, tmp, dest)))
			goto done;
		free(tmp);
		tmp = NULL;
	}
	statcache_put(cache, &before, raw);
named:
	if (cached && progress && progress->fn)
		progress->fn(progress->ctx, progress->base + size, progress->total);
	out->path = strdup(file->rel);
	if (!out->path)
		rc = mreg_seterr_nomem();
done:
	if (in >= 0)
		close(in);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(small);
	free(dest);
	return rc;
}

int ingest_files(mreg_store *s, const walk_result *walk, mreg_record *r, stream_progress *progress)
{
	statcache *cache = NULL;
	int rc;

	if ((rc = statcache_open(&cache, s->dir, s->tmp, true)))
		return rc;
	for (size_t i = 0; i < walk->count; i++) {
		if ((rc = ingest_blob_put(s, &walk->files[i], &r->files[i], cache, progress)))
			goto done;
		r->file_count = i + 1;
		progress->base += r->files[i].size;
	}
	/* Blob renames must be durable before any record names them. */
	if ((rc = fs_fsync_dir(s->blobs)))
		goto done;
	/* A cache: failing to write it costs the next run time, nothing else. */
	if (statcache_save(cache))
		mreg_error_clear();
done:
	statcache_free(cache);
	return rc;
}

/* ---- staged versions (import, pull) ---- */

int ingest_stage_create(const mreg_store *store, const char *what, char **out)
{
	char *prefix = str_printf("%s/%s-", store->tmp, what);
	int rc;

	*out = NULL;
	if (!prefix)
		return mreg_seterr_nomem();
	rc = fs_tmpdir(out, prefix, store->tmp);
	free(prefix);
	return rc;
}

int ingest_existing(mreg_store *store, const char *name, const char *version, const char *digest,
		    const char *verb, mreg_record **existing)
{
	char *path = store_record_path(store, name, version);
	int rc;

	*existing = NULL;
	if (!path)
		return mreg_seterr_nomem();
	rc = record_read_file(existing, path);
	free(path);
	if (rc == MREG_ENOTFOUND) {
		mreg_error_clear();
		return 0;
	}
	if (rc)
		return rc;
	if (strcmp((*existing)->digest, digest)) {
		rc = mreg_seterr(MREG_EEXISTS,
				 "model %s version %s already exists with other content (%s, the "
				 "%s holds %s): %s it under another version with -v",
				 name, version, (*existing)->digest,
				 strcmp(verb, "import") ? "registry" : "bundle", digest, verb);
		mreg_record_free(*existing);
		*existing = NULL;
	}
	return rc;
}

/*
 * Move the staged blobs into blobs/ (those the store has already stay as they
 * are); *landed counts the blobs that were missing.
 */
static int land_blobs(mreg_store *store, const mreg_record *r, const char *stage, size_t *landed)
{
	*landed = 0;
	for (size_t i = 0; i < r->file_count; i++) {
		const char *hex = r->files[i].digest + 7;
		char *from = path_join(stage, hex), *to = path_join(store->blobs, hex);
		int rc = 0;

		if (!from || !to)
			rc = mreg_seterr_nomem();
		else if (fs_exists(from) && !fs_exists(to)) {
			if (rename(from, to) < 0)
				rc = mreg_seterr_errno("%s: rename", to);
			else
				(*landed)++;
		}
		free(from);
		free(to);
		if (rc)
			return rc;
	}
	return fs_fsync_dir(store->blobs);
}

static int check_limits(const mreg_record *r)
{
	char *where = str_printf("%s:%s", r->name, r->version);
	int rc = where ? record_check_limits(r, NULL, 0, where) : mreg_seterr_nomem();

	free(where);
	return rc;
}

int ingest_land_version(mreg_store *store, mreg_record **record, const char *stage,
			const char *verb, int *unchanged, size_t *blobs_added)
{
	mreg_record *r = *record, *existing = NULL;
	size_t landed = 0;
	int rc;

	*unchanged = 0;
	*blobs_added = 0;
	/* What a bundle or a registry brought fits the limits of mreg/limits.h
	 * too: it may have been written by an older mreg, or by another tool. */
	if ((rc = check_limits(r)))
		return rc;
	if ((rc = ingest_existing(store, r->name, r->version, r->digest, verb, &existing)))
		return rc;
	/* The record may be here without its blobs (it came through git): the
	 * blobs land either way, the record stays as it is. */
	if ((rc = land_blobs(store, r, stage, &landed)))
		goto done;
	if (existing) {
		*unchanged = landed == 0;
		*blobs_added = landed;
		goto done;
	}
	if ((rc = store_lock(store)))
		goto done;
	rc = store_record_write(store, r, true);
	if (rc == MREG_EEXISTS) {
		/* Someone landed it meanwhile: fine if it is the same content. */
		rc = ingest_existing(store, r->name, r->version, r->digest, verb, &existing);
		*unchanged = 1;
	}
	store_unlock(store);
done:
	if (rc == 0 && existing) {
		mreg_record_free(*record);
		*record = existing;
	} else {
		mreg_record_free(existing);
	}
	return rc;
}
