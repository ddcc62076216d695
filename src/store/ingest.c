/*
 * The store's one ingest path: every version that enters the store, whether
 * from a model folder (create), a bundle (import) or a registry (pull), goes
 * through here. Blobs arrive first, each written to tmp/, fsynced and renamed
 * into blobs/ (or into a staging folder until the whole version is checked);
 * the record is written last, under the store lock. The caller holds the
 * shared ingest lock from the first blob to the record, so gc never takes a
 * blob whose record is not written yet.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/pool.h"
#include "ingest.h"
#include "kept_signatures.h"
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

/* FICLONE's answers that mean "not on this filesystem" (as download.c reads them). */
static bool reflink_unsupported(int err)
{
	/* ENOTTY: a filesystem whose ioctl does not know FICLONE at all. */
	return err == EOPNOTSUPP || err == EXDEV || err == EINVAL || err == ENOTTY;
}

/*
 * Reflink @in (the source) into @fd (a new file in tmp/) and hash what the
 * clone holds: the clone is taken atomically, so its digest is the digest of
 * the blob even when the source is being written meanwhile. 1 when cloned
 * (@raw, @size set), 0 when the filesystem cannot (nothing written), or an
 * error.
 */
static int clone_and_hash(int in, int fd, const char *tmp, uint8_t raw[SHA256_LEN],
			  uint64_t *size, stream_progress *progress)
{
	const size_t chunk = 1u << 20;
	hash_ctx *h = NULL;
	uint8_t *buf = NULL;
	uint64_t off = 0;
	int rc = 1;

	if (ioctl(fd, FICLONE, in) < 0)
		return reflink_unsupported(errno) ? 0 : mreg_seterr_errno("%s: reflink", tmp);
	if (!(h = hash_new()) || !(buf = malloc(chunk))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, chunk, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mreg_seterr_errno("%s: read", tmp);
			goto done;
		}
		if (n == 0)
			break;
		hash_update(h, buf, (size_t)n);
		off += (uint64_t)n;
		if (progress && progress->fn)
			progress->fn(progress->ctx, progress->base + off, progress->total);
	}
	hash_final(h, raw);
	*size = off;
done:
	hash_free(h);
	free(buf);
	return rc;
}

int ingest_blob_put(mreg_store *s, const walk_file *file, mreg_file *out, statcache *cache,
		    char **unsynced, bool *reflink, stream_progress *progress)
{
	char *tmp = NULL, *dest = NULL;
	int in = -1, fd = -1, rc;
	uint8_t raw[SHA256_LEN], *small = NULL;
	uint64_t size = 0;
	struct stat before, after;
	bool cached;

	/* Unchanged since an earlier run, by what the walk saw of it, and its
	 * blob is here: nothing to open or read. (As good a snapshot as an
	 * fstat now: the cache's stamp, taken before any file is read, keeps
	 * racily-clean entries out; see statcache.h.) */
	if ((cached = statcache_lookup(cache, &file->st, raw))) {
		digest_format(out->digest, raw);
		if (!(dest = path_join(s->blobs, out->digest + 7)))
			return mreg_seterr_nomem();
		if (fs_exists(dest)) {
			out->size = size = file->size;
			out->mode = file->mode;
			goto named;
		}
		free(dest);
		dest = NULL;
	}
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
	out->size = size = (uint64_t)before.st_size;
	out->mode = file->mode;
	/* Its state now may still be one the cache knows. */
	if (!cached && (cached = statcache_lookup(cache, &before, raw))) {
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
	fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
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
		/* Source and store on one filesystem that shares extents (XFS,
		 * btrfs): clone, then hash the clone. The first refusal stops the
		 * others (ext4, tmpfs, two filesystems). */
		rc = reflink && __atomic_load_n(reflink, __ATOMIC_RELAXED)
			     ? clone_and_hash(in, fd, tmp, raw, &size, progress)
			     : 0;
		if (rc < 0)
			goto done;
		if (rc == 0 && reflink)
			__atomic_store_n(reflink, false, __ATOMIC_RELAXED);
		/* Buffered writes, flushed on a second thread as the copy goes (see
		 * stream.h). O_DIRECT was tried and measured slower: one write in
		 * flight at a time, and the fsync still had to flush the disk's cache. */
		if (rc == 0 &&
		    (rc = stream_copy_durable(in, file->abs, fd, tmp, raw, &size, progress)))
			goto done;
		rc = 0;
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
		if (unsynced) {
			/* Sealed later, in one pass over the whole version (ingest_files):
			 * start its writeback now so that pass finds little to wait for. */
			if (fchmod(fd, 0444) < 0) {
				rc = mreg_seterr_errno("%s", tmp);
				goto done;
			}
			fs_start_writeback(fd, 0, 0);
			*unsynced = tmp;
		} else if ((rc = fs_seal_blob(fd, tmp, dest))) {
			goto done;
		} else {
			free(tmp);
		}
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

/*
 * ingest_files' pool: workers take the files in walk order, each hashing and
 * writing one file at a time; new blobs stay in tmp/, unsynced, until every
 * file is done; then the same workers fsync them (concurrent fsyncs share the
 * file system's journal commits), and only then are they renamed into blobs/.
 * So a blob is in blobs/ only once it is complete and durable, as when each
 * was fsynced on its own.
 */
#define LARGE_MAX 2 /* large files copied at once: each has 4 MiB of buffers */

typedef struct {
	mreg_store *s;
	const walk_result *walk;
	mreg_record *r;
	statcache *cache;
	char **unsynced;     /* by file index: a new blob's tmp/ file, or NULL */
	bool reflink;        /* FICLONE from the source: until the first refusal */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next;         /* next file to take (phase 1) or to fsync (phase 2) */
	size_t large;        /* large files being copied */
	pool_fail fail;
	int phase;
	stream_progress *progress;
	uint64_t done;       /* bytes of the files finished */
	uint64_t shown;      /* the last figure given to the progress callback */
} pool;

/* The callback sees one figure that only grows, whichever worker reports. */
static void pool_report(pool *p, uint64_t now)
{
	if (!p->progress->fn)
		return;
	if (now > p->shown) {
		p->shown = now;
		p->progress->fn(p->progress->ctx, now, p->progress->total);
	}
}

static void file_progress(void *ctx, uint64_t done, uint64_t total)
{
	pool *p = ctx;

	(void)total;
	pthread_mutex_lock(&p->mu);
	pool_report(p, p->done + done);
	pthread_mutex_unlock(&p->mu);
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return mreg_seterr_errno("%s", path);
	if (fsync(fd) < 0)
		rc = mreg_seterr_errno("%s: fsync", path);
	close(fd);
	return rc;
}

static void *pool_main(void *arg)
{
	pool *p = arg;

	for (;;) {
		stream_progress fp = {.fn = file_progress, .ctx = p, .total = p->progress->total};
		bool large;
		size_t i;
		int rc;

		pthread_mutex_lock(&p->mu);
		if (p->next >= p->walk->count || p->fail.at != SIZE_MAX) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		i = p->next;
		large = p->phase == 1 && p->walk->files[i].size > SMALL_FILE;
		while (large && p->large >= LARGE_MAX)
			pthread_cond_wait(&p->cv, &p->mu);
		/* Waiting may have let another worker take it. */
		if (i != p->next) {
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		p->next++;
		p->large += large;
		pthread_mutex_unlock(&p->mu);

		if (p->phase == 1 && p->r->files[i].path)
			continue; /* known unchanged, taken by cached_files() */
		if (p->phase == 2) {
			rc = p->unsynced[i] ? fsync_path(p->unsynced[i]) : 0;
			if (rc)
				pool_fail_note(&p->fail, &p->mu, i, rc);
			continue;
		}
		rc = mreg_check_interrupt();
		if (rc == 0)
			rc = ingest_blob_put(p->s, &p->walk->files[i], &p->r->files[i], p->cache,
					     &p->unsynced[i], &p->reflink,
					     p->progress->fn ? &fp : NULL);
		pthread_mutex_lock(&p->mu);
		if (large) {
			p->large--;
			pthread_cond_broadcast(&p->cv);
		}
		if (rc == 0) {
			p->done += p->r->files[i].size;
			if (p->progress->fn)
				pool_report(p, p->done);
		}
		pthread_mutex_unlock(&p->mu);
		if (rc)
			pool_fail_note(&p->fail, &p->mu, i, rc);
	}
}

/*
 * Run the pool's workers over phase @phase, which has @todo items to do among
 * the walk's files (the number of workers); 0 or the first failure (walk order).
 */
static int phase_run(pool *p, int phase, size_t todo)
{
	p->phase = phase;
	p->next = 0;
	pool_run(pool_threads(todo, POOL_THREADS_MAX), pool_main, p);
	return pool_fail_result(&p->fail);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The first 8 bytes of the digest whose hex is @hex (a hash: digests are random). */
static bool hex_key(const char *hex, uint64_t *key)
{
	uint64_t k = 0;

	for (int i = 0; i < 16; i++) {
		int v = hexval(hex[i]);
		if (v < 0)
			return false;
		k = k << 4 | (uint64_t)v;
	}
	*key = k;
	return true;
}

/*
 * Mark in @present the hits (files whose digest[0] is set) whose blob is in
 * the blobs folder @blobs, from one listing of it: for many hits in a folder
 * not much larger, a few getdents() calls cost less than one fstatat() per
 * file. The hits are found by an open-addressing table on their digests.
 * Returns 0, or an error (then the caller asks per file).
 */
static int list_blobs(int blobs, const mreg_record *r, size_t count, size_t hits, bool *present)
{
	size_t nslots = 16, mask;
	size_t *slot; /* file index + 1, 0 empty */
	int fd, rc = 0;
	DIR *d;
	struct dirent *de;

	while (nslots < 2 * hits)
		nslots *= 2;
	mask = nslots - 1;
	if (!(slot = calloc(nslots, sizeof(*slot))))
		return mreg_seterr_nomem();
	for (size_t i = 0; i < count; i++) {
		uint64_t k;
		if (!r->files[i].digest[0] || !hex_key(r->files[i].digest + 7, &k))
			continue;
		for (k &= mask; slot[k]; k = (k + 1) & mask)
			;
		slot[k] = i + 1;
	}
	fd = dup(blobs);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		free(slot);
		return mreg_seterr_errno("blobs: open");
	}
	errno = 0;
	while ((de = readdir(d))) {
		uint64_t k;
		if (strlen(de->d_name) != 2 * SHA256_LEN || !hex_key(de->d_name, &k))
			continue;
		/* every file of this digest (equal files share a blob) */
		for (k &= mask; slot[k]; k = (k + 1) & mask)
			if (!memcmp(r->files[slot[k] - 1].digest + 7, de->d_name, 2 * SHA256_LEN))
				present[slot[k] - 1] = true;
		errno = 0;
	}
	if (errno)
		rc = mreg_seterr_errno("blobs: readdir");
	closedir(d);
	free(slot);
	return rc;
}

/*
 * Blob-folder bytes per hit up to which one listing beats an fstatat() per
 * hit: ext4 spends about 100 bytes of directory per blob name, and listing a
 * name costs about a tenth of looking one up, so a folder of up to ~8 blobs
 * per hit is listed. Other file systems count a folder's size otherwise; the
 * choice changes only the speed.
 */
#define LIST_BYTES_PER_HIT 800

/*
 * The files the stat cache knows unchanged (by what the walk saw) and whose
 * blob is in the store, filled in here on the calling thread: each costs a
 * hash lookup, and either one fstatat() of a name in blobs/sha256/ or, when
 * most of the folder's blobs are hits, a share of one listing of it; no
 * thread and no lock. The blob is still looked for: the cache outlives blobs
 * (gc removes those no record names, and a person may delete one by hand),
 * and a record must never name a missing blob. Returns the files left for
 * the pool.
 */
static size_t cached_files(pool *p)
{
	const walk_result *walk = p->walk;
	size_t left = walk->count, hits = 0;
	uint64_t done = 0;
	bool *present = NULL;
	struct stat dir;
	int blobs = open(p->s->blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (blobs < 0)
		return left; /* the pool's own checks will say what is wrong */
	for (size_t i = 0; i < walk->count; i++) {
		uint8_t raw[SHA256_LEN];

		if (statcache_lookup(p->cache, &walk->files[i].st, raw)) {
			digest_format(p->r->files[i].digest, raw);
			hits++;
		}
	}
	if (hits && fstat(blobs, &dir) == 0 && (uint64_t)dir.st_size / LIST_BYTES_PER_HIT <= hits &&
	    (present = calloc(walk->count, sizeof(*present))) &&
	    list_blobs(blobs, p->r, walk->count, hits, present)) {
		free(present);
		present = NULL;
	}
	mreg_error_clear();
	for (size_t i = 0; i < walk->count; i++) {
		const walk_file *f = &walk->files[i];
		mreg_file *out = &p->r->files[i];
		struct stat st;

		if (!out->digest[0])
			continue;
		if (!(present ? present[i]
			      : fstatat(blobs, out->digest + 7, &st, AT_SYMLINK_NOFOLLOW) == 0) ||
		    !(out->path = strdup(f->rel))) {
			out->digest[0] = '\0';
			continue; /* the pool reads it (and reports a lack of memory) */
		}
		out->size = f->size;
		out->mode = f->mode;
		done += f->size;
		left--;
	}
	close(blobs);
	free(present);
	if (done) {
		p->done += done;
		if (p->progress->fn)
			pool_report(p, p->done);
	}
	return left;
}

static int by_digest(const void *a, const void *b, void *ctx)
{
	const mreg_record *r = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(r->files[i].digest, r->files[j].digest);

	return c ? c : (i > j) - (i < j);
}

/* Equal new files of one version: keep the first copy, drop the others unsynced. */
static int drop_twins(pool *p)
{
	size_t *idx = malloc((p->walk->count ? p->walk->count : 1) * sizeof(*idx)), n = 0;

	if (!idx)
		return mreg_seterr_nomem();
	for (size_t i = 0; i < p->walk->count; i++)
		if (p->unsynced[i])
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), by_digest, p->r);
	for (size_t k = 1; k < n; k++) {
		if (strcmp(p->r->files[idx[k]].digest, p->r->files[idx[k - 1]].digest))
			continue;
		unlink(p->unsynced[idx[k]]);
		free(p->unsynced[idx[k]]);
		p->unsynced[idx[k]] = NULL;
	}
	free(idx);
	return 0;
}

int ingest_files(mreg_store *s, const walk_result *walk, mreg_record *r, statcache *cache,
		 stream_progress *progress)
{
	pool p = {.s = s, .walk = walk, .r = r, .progress = progress, .fail = POOL_FAIL_INIT,
		  .reflink = true,
		  .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	uint64_t base = progress->base;
	size_t todo;
	int rc;

	p.done = progress->base;
	if (cache)
		rc = statcache_begin_write(p.cache = cache, s->tmp);
	else
		rc = statcache_open(&p.cache, s->dir, s->tmp, true);
	if (rc)
		return rc;
	if (!(p.unsynced = calloc(walk->count ? walk->count : 1, sizeof(*p.unsynced)))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((todo = cached_files(&p)) && (rc = phase_run(&p, 1, todo)))
		goto done;
	r->file_count = walk->count;
	progress->base = base + walk->total_size;
	/* Every new blob durable, then visible under its name. */
	todo = 0;
	for (size_t i = 0; i < walk->count; i++)
		todo += p.unsynced[i] != NULL;
	if (todo && ((rc = drop_twins(&p)) || (rc = phase_run(&p, 2, todo))))
		goto done;
	for (size_t i = 0; i < walk->count; i++) {
		char *dest;
		if (!p.unsynced[i])
			continue;
		if (!(dest = path_join(s->blobs, r->files[i].digest + 7))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		/* A twin in this version, or another create, may have put it there. */
		if (fs_exists(dest))
			rc = unlink(p.unsynced[i]) < 0 ? mreg_seterr_errno("%s", p.unsynced[i]) : 0;
		else if (rename(p.unsynced[i], dest) < 0)
			rc = mreg_seterr_errno("%s: rename", dest);
		free(dest);
		if (rc)
			goto done;
		free(p.unsynced[i]);
		p.unsynced[i] = NULL;
	}
	/* Blob renames must be durable before any record names them. */
	if ((rc = fs_fsync_dir(s->blobs)))
		goto done;
	/* A cache: failing to write it costs the next run time, nothing else. */
	if (statcache_save(p.cache))
		mreg_error_clear();
done:
	if (rc) {
		/* The files filled so far belong to r, which the caller frees. */
		size_t filled = 0;
		for (size_t i = 0; i < walk->count; i++)
			if (r->files[i].path)
				filled = i + 1;
		r->file_count = filled;
	}
	for (size_t i = 0; p.unsynced && i < walk->count; i++) {
		if (p.unsynced[i]) {
			unlink(p.unsynced[i]);
			free(p.unsynced[i]);
		}
	}
	free(p.unsynced);
	if (!cache)
		statcache_free(p.cache);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
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

typedef struct {
	char **paths;
	size_t count;
	pool_fail fail;
	pthread_mutex_t mu;
} stage_sync;

/* fsync one staged file; none once one has failed. */
static void stage_sync_each(void *arg, size_t i)
{
	stage_sync *w = arg;
	bool failed;
	int rc;

	pthread_mutex_lock(&w->mu);
	failed = w->fail.at != SIZE_MAX;
	pthread_mutex_unlock(&w->mu);
	if (!failed && (rc = fsync_path(w->paths[i])))
		pool_fail_note(&w->fail, &w->mu, i, rc);
}

int ingest_stage_sync(const char *stage)
{
	stage_sync w = {.fail = POOL_FAIL_INIT, .mu = PTHREAD_MUTEX_INITIALIZER};
	size_t cap = 0;
	DIR *d = opendir(stage);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return mreg_seterr_errno("%s", stage);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (e->d_type != DT_REG && e->d_type != DT_UNKNOWN))
			continue;
		if (w.count == cap) {
			char **grown = realloc(w.paths, (cap = cap ? 2 * cap : 64) * sizeof(*grown));
			if (!grown) {
				rc = mreg_seterr_nomem();
				goto done;
			}
			w.paths = grown;
		}
		if (!(w.paths[w.count] = path_join(stage, e->d_name))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		w.count++;
	}
	pool_each(stage_sync_each, &w, w.count);
	rc = pool_fail_result(&w.fail);
done:
	closedir(d);
	for (size_t i = 0; i < w.count; i++)
		free(w.paths[i]);
	free(w.paths);
	pthread_mutex_destroy(&w.mu);
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
			const char *verb, kept_sigs_incoming *sigs, int *unchanged,
			size_t *blobs_added)
{
	mreg_record *r = *record, *existing = NULL;
	size_t landed = 0;
	bool locked = false;
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
	if (existing && !(sigs && sigs->count)) {
		*unchanged = landed == 0;
		*blobs_added = landed;
		goto done;
	}
	if ((rc = store_lock(store)))
		goto done;
	locked = true;
	/* The signatures that came with it before the record: a crash between
	 * leaves a folder no record owns, which gc removes (mreg-store(5)). */
	if (sigs && sigs->count && (rc = kept_sigs_keep(store, r, sigs)))
		goto done;
	if (existing) {
		*unchanged = landed == 0; /* the signatures kept are reported apart */
		*blobs_added = landed;
		goto done;
	}
	rc = store_record_write(store, r, true);
	if (rc == MREG_EEXISTS) {
		/* Someone landed it meanwhile: fine if it is the same content. */
		rc = ingest_existing(store, r->name, r->version, r->digest, verb, &existing);
		*unchanged = 1;
	}
	if (rc && sigs)
		kept_sigs_undo(sigs);
done:
	if (locked)
		store_unlock(store);
	if (rc == 0 && existing) {
		mreg_record_free(*record);
		*record = existing;
	} else {
		mreg_record_free(existing);
	}
	return rc;
}

int ingest_file_cmp(const void *a, const void *b)
{
	return strcmp(((const mreg_file *)a)->path, ((const mreg_file *)b)->path);
}

int ingest_fetched_files(mreg_store *store, const mreg_fetched *fetched, const walk_result *walk,
			 mreg_record *r)
{
	size_t landed;

	for (size_t i = 0; i < walk->count; i++) {
		mreg_file key = {.path = walk->files[i].rel};
		const mreg_file *f = fetched->file_count
					     ? bsearch(&key, fetched->files, fetched->file_count,
						       sizeof(key), ingest_file_cmp)
					     : NULL;
		if (!f || f->size != walk->files[i].size)
			return mreg_seterr(MREG_EIO, "%s: not the file that was fetched",
					   walk->files[i].abs);
		r->files[i] = *f;
		r->files[i].path = strdup(f->path);
		r->file_count = i + 1;
		if (!r->files[i].path)
			return mreg_seterr_nomem();
	}
	return land_blobs(store, r, fetched->stage, &landed);
}
