/*
 * The stat cache: see statcache.h. The file, binary so that it is read with
 * one read() and no parsing; every number little-endian:
 *
 *   "mreg\0sc\2"  8 bytes: the format's name and version (2)
 *   count         u64: entries that follow (at most 65,536)
 *   stamp         i64 ns: entries count when older than this
 *   0             u64
 *   entries       count x 72 bytes: dev u64, ino u64, size u64,
 *                 mtime i64 ns, ctime i64 ns, SHA-256 (32 bytes)
 *   sum           32 bytes: SHA-256 of every byte before it
 *
 * The reader is strict and bounded: a file of any other length, name,
 * version or sum (among them the text files of version 1) is ignored whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statcache.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/strutil.h"

static const char MAGIC[8] = {'m', 'r', 'e', 'g', '\0', 's', 'c', '\2'};
#define HEAD_LEN 32
#define ENTRY_LEN (5 * 8 + SHA256_LEN)
#define FILE_LEN(n) (HEAD_LEN + (size_t)(n) * ENTRY_LEN + SHA256_LEN)
#define FILE_MAX FILE_LEN(STATCACHE_MAX_ENTRIES)

enum { FROM_FILE = 1, FRESH = 2 };

typedef struct {
	uint64_t dev, ino, size;
	int64_t mtime, ctime;
	uint8_t raw[SHA256_LEN];
	uint8_t flags;
} entry;

struct statcache {
	entry *e;
	size_t n, cap;
	uint32_t *slot; /* open addressing on (dev, ino): index + 1, 0 empty */
	size_t nslots;
	int64_t stamp;  /* entries from the file count when older than this */
	char *path;     /* cache/stat, NULL for a cache on its own */
	char *dir;      /* cache/ */
	char *tmp;      /* the new file, begun at open (writable only) */
	int tmp_fd;
	int64_t new_stamp;
	uid_t euid;     /* geteuid() once: statcache_vouches asks per file */
	bool dirty;
	pthread_mutex_t mu; /* lookups and puts come from ingest's workers */
};

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static size_t slot_of(const statcache *c, uint64_t dev, uint64_t ino)
{
	uint64_t h = (dev * 0x9e3779b97f4a7c15u) ^ (ino * 0xc2b2ae3d27d4eb4fu);

	h ^= h >> 31;
	return (size_t)(h & (c->nslots - 1));
}

static entry *find(const statcache *c, uint64_t dev, uint64_t ino, size_t *where)
{
	size_t i = slot_of(c, dev, ino);

	while (c->slot[i]) {
		entry *e = &c->e[c->slot[i] - 1];
		if (e->dev == dev && e->ino == ino) {
			*where = i;
			return e;
		}
		i = (i + 1) & (c->nslots - 1);
	}
	*where = i;
	return NULL;
}

int statcache_new(statcache **out)
{
	statcache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return mreg_seterr_nomem();
	c->nslots = 2 * (size_t)STATCACHE_MAX_ENTRIES;
	c->slot = calloc(c->nslots, sizeof(*c->slot));
	if (!c->slot) {
		free(c);
		return mreg_seterr_nomem();
	}
	c->tmp_fd = -1;
	c->euid = geteuid();
	pthread_mutex_init(&c->mu, NULL);
	*out = c;
	return 0;
}

static void clear(statcache *c)
{
	/* calloc'd: an empty table is zero already */
	if (c->n)
		memset(c->slot, 0, c->nslots * sizeof(*c->slot));
	c->n = 0;
}

/* Add or replace; false when full or out of memory (the entry is dropped). */
static bool add(statcache *c, const entry *x)
{
	size_t where;
	entry *e = find(c, x->dev, x->ino, &where);

	if (e) {
		*e = *x;
		return true;
	}
	if (c->n == STATCACHE_MAX_ENTRIES)
		return false;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		entry *grown = realloc(c->e, cap * sizeof(*grown));
		if (!grown)
			return false;
		c->e = grown;
		c->cap = cap;
	}
	c->e[c->n] = *x;
	c->slot[where] = (uint32_t)++c->n;
	return true;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static int corrupt(statcache *c)
{
	clear(c);
	return mreg_seterr(MREG_ECORRUPT, "stat cache: not a valid cache file (ignored)");
}

int statcache_parse(statcache *c, const char *buf, size_t len, int64_t file_mtime_ns)
{
	const unsigned char *p = (const unsigned char *)buf;
	uint8_t got[SHA256_LEN];
	uint64_t count;
	int64_t stamp;

	clear(c);
	if (len < FILE_LEN(0) || len > FILE_MAX || memcmp(p, MAGIC, sizeof(MAGIC)))
		return corrupt(c);
	count = get64(p + 8);
	if (count > STATCACHE_MAX_ENTRIES || len != FILE_LEN(count) || get64(p + 24) != 0)
		return corrupt(c);
	hash_buffer(got, buf, len - SHA256_LEN);
	if (memcmp(got, p + len - SHA256_LEN, SHA256_LEN))
		return corrupt(c);
	/* Room for every entry at once (the ones this run adds grow it later). */
	if (count > c->cap) {
		entry *grown = realloc(c->e, (size_t)count * sizeof(*grown));
		if (!grown)
			return corrupt(c);
		c->e = grown;
		c->cap = (size_t)count;
	}
	stamp = (int64_t)get64(p + 16);
	/* The racily-clean rule: older than both the stamp and the file itself. */
	if (file_mtime_ns < stamp)
		stamp = file_mtime_ns;
	for (const unsigned char *e = p + HEAD_LEN; e < p + len - SHA256_LEN; e += ENTRY_LEN) {
		entry x = {.dev = get64(e),
			   .ino = get64(e + 8),
			   .size = get64(e + 16),
			   .mtime = (int64_t)get64(e + 24),
			   .ctime = (int64_t)get64(e + 32),
			   .flags = FROM_FILE};
		memcpy(x.raw, e + 40, SHA256_LEN);
		if (x.size > (uint64_t)INT64_MAX)
			return corrupt(c);
		/* Two entries of one inode: the later one stands, as when written. */
		if (x.mtime < stamp && x.ctime < stamp && !add(c, &x))
			return corrupt(c);
	}
	c->stamp = stamp;
	return 0;
}

size_t statcache_count(const statcache *c)
{
	return c->n;
}

int statcache_format(const statcache *c, int64_t stamp_ns, char **out, size_t *len)
{
	unsigned char *buf = malloc(FILE_LEN(c->n)), *e;
	size_t count = 0;

	*out = NULL;
	*len = 0;
	if (!buf)
		return mreg_seterr_nomem();
	e = buf + HEAD_LEN;
	/* What this run read first, then what it carried over. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->n; i++) {
			const entry *x = &c->e[i];
			if (!!(x->flags & FRESH) != (pass == 0) || x->mtime >= stamp_ns ||
			    x->ctime >= stamp_ns)
				continue;
			put64(e, x->dev);
			put64(e + 8, x->ino);
			put64(e + 16, x->size);
			put64(e + 24, (uint64_t)x->mtime);
			put64(e + 32, (uint64_t)x->ctime);
			memcpy(e + 40, x->raw, SHA256_LEN);
			e += ENTRY_LEN;
			count++;
		}
	}
	memcpy(buf, MAGIC, sizeof(MAGIC));
	put64(buf + 8, count);
	put64(buf + 16, (uint64_t)stamp_ns);
	put64(buf + 24, 0);
	hash_buffer(e, buf, FILE_LEN(count) - SHA256_LEN);
	*out = (char *)buf;
	*len = FILE_LEN(count);
	return 0;
}

static int read_file(statcache *c)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd = open(c->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= FILE_MAX &&
	    (buf = malloc((size_t)st.st_size + 1))) {
		ssize_t got;
		while ((got = read(fd, buf + len, (size_t)st.st_size + 1 - len)) > 0 ||
		       (got < 0 && errno == EINTR))
			if (got > 0)
				len += (size_t)got;
		/* A file that grew while read is someone else's write: ignore it. */
		if (got == 0 && len == (size_t)st.st_size)
			statcache_parse(c, buf, len, ts_ns(&st.st_mtim));
		mreg_error_clear();
	}
	free(buf);
	close(fd);
	return 0;
}

int statcache_open(statcache **out, const char *store_dir, const char *tmp_dir, bool writable)
{
	statcache *c = NULL;
	int rc;

	*out = NULL;
	if ((rc = statcache_new(&c)))
		return rc;
	c->dir = path_join(store_dir, STATCACHE_DIR);
	c->path = c->dir ? path_join(c->dir, STATCACHE_FILE) : NULL;
	if (!c->path) {
		statcache_free(c);
		return mreg_seterr_nomem();
	}
	read_file(c);
	if (writable)
		statcache_begin_write(c, tmp_dir);
	*out = c;
	return 0;
}

int statcache_begin_write(statcache *c, const char *tmp_dir)
{
	struct stat st;

	if (c->tmp_fd >= 0)
		return 0;
	/* Begun now, before any file is read: its mtime, on the clock that
	 * stamps the files, is older than any change made after this. */
	if (fs_tmpfile(&c->tmp, &c->tmp_fd, tmp_dir, "statcache-") == 0 &&
	    fstat(c->tmp_fd, &st) == 0) {
		c->new_stamp = ts_ns(&st.st_mtim);
	} else if (c->tmp) {
		close(c->tmp_fd);
		unlink(c->tmp);
		free(c->tmp);
		c->tmp = NULL;
		c->tmp_fd = -1;
	}
	mreg_error_clear();
	return 0;
}

static bool key_matches(const entry *e, const struct stat *st)
{
	return e->size == (uint64_t)st->st_size && e->mtime == ts_ns(&st->st_mtim) &&
	       e->ctime == ts_ns(&st->st_ctim);
}

bool statcache_lookup(statcache *c, const struct stat *st, uint8_t raw[SHA256_LEN])
{
	size_t where;
	const entry *e;
	bool hit;

	if (!c || !S_ISREG(st->st_mode))
		return false;
	pthread_mutex_lock(&c->mu);
	e = find(c, (uint64_t)st->st_dev, (uint64_t)st->st_ino, &where);
	hit = e && (e->flags & FROM_FILE) && key_matches(e, st);
	if (hit)
		memcpy(raw, e->raw, SHA256_LEN);
	pthread_mutex_unlock(&c->mu);
	return hit;
}

bool statcache_vouches(void *ctx, const struct stat *st)
{
	uint8_t raw[SHA256_LEN];

	const statcache *c = ctx;

	return c && st->st_uid == c->euid && (st->st_mode & S_IRUSR) &&
	       statcache_lookup(ctx, st, raw);
}

void statcache_put(statcache *c, const struct stat *st, const uint8_t raw[SHA256_LEN])
{
	entry x = {.dev = (uint64_t)st->st_dev,
		   .ino = (uint64_t)st->st_ino,
		   .size = (uint64_t)st->st_size,
		   .mtime = ts_ns(&st->st_mtim),
		   .ctime = ts_ns(&st->st_ctim),
		   .flags = FRESH};
	size_t where;
	entry *e;

	if (!c || c->tmp_fd < 0 || !S_ISREG(st->st_mode))
		return;
	memcpy(x.raw, raw, SHA256_LEN);
	pthread_mutex_lock(&c->mu);
	e = find(c, x.dev, x.ino, &where);
	/* A hit confirmed again: mark it used, keep it for lookups. */
	if (e && key_matches(e, st) && !memcmp(e->raw, raw, SHA256_LEN)) {
		e->flags |= FRESH;
		c->dirty |= x.mtime < c->new_stamp && x.ctime < c->new_stamp;
	} else if (add(c, &x)) {
		c->dirty = true;
	}
	pthread_mutex_unlock(&c->mu);
}

static int write_gitignore(const statcache *c)
{
	char *path = path_join(c->dir, ".gitignore");
	static const char text[] = "# written by mreg: the stat cache never goes into git\n*\n";
	int rc = 0, fd;

	if (!path)
		return mreg_seterr_nomem();
	if (!fs_exists(path)) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1))
				rc = mreg_seterr_errno("%s: write", path);
			close(fd);
		} else if (errno != EEXIST) {
			rc = mreg_seterr_errno("%s", path);
		}
	}
	free(path);
	return rc;
}

int statcache_save(statcache *c)
{
	char *buf = NULL;
	size_t len = 0, off = 0;
	int rc;

	if (!c || c->tmp_fd < 0 || !c->dirty)
		return 0;
	if ((rc = fs_mkdir_p(c->dir, 0755)) || (rc = write_gitignore(c)) ||
	    (rc = statcache_format(c, c->new_stamp, &buf, &len)))
		return rc;
	while (off < len) {
		ssize_t n = write(c->tmp_fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mreg_seterr_errno("%s: write", c->tmp);
			goto done;
		}
		off += (size_t)n;
	}
	/* No fsync: a cache lost or damaged by a crash is ignored (checksum). */
	if (fchmod(c->tmp_fd, 0644) < 0) {
		rc = mreg_seterr_errno("%s", c->tmp);
		goto done;
	}
	if (rename(c->tmp, c->path) < 0) {
		rc = mreg_seterr_errno("%s: rename", c->path);
		goto done;
	}
	free(c->tmp);
	c->tmp = NULL;
	c->dirty = false;
done:
	free(buf);
	return rc;
}

void statcache_free(statcache *c)
{
	if (!c)
		return;
	if (c->tmp_fd >= 0)
		close(c->tmp_fd);
	if (c->tmp) {
		unlink(c->tmp);
		free(c->tmp);
	}
	free(c->e);
	free(c->slot);
	free(c->path);
	free(c->dir);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
