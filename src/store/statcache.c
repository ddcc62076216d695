/*
 * The stat cache: see statcache.h. The file, text so that a person can read
 * it, every line ending in '\n':
 *
 *   mreg stat cache 1
 *   stamp <ns>                          entries count when older than this
 *   <dev> <ino> <size> <mtime ns> <ctime ns> <64 hex>     (at most 65,536)
 *   end <64 hex>                        SHA-256 of every byte before "end"
 *
 * Numbers are decimal without leading zeros (times may be negative). The
 * reader is strict and bounded: anything else, a wrong checksum or too many
 * entries and the whole file is ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statcache.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/strutil.h"

#define HEADER "mreg stat cache 1\n"
/* A line is at most 5 numbers of 20 characters, 64 hex digits and 6 separators. */
#define LINE_MAX_LEN (5 * 20 + 64 + 6)
#define FILE_MAX (64u + (size_t)STATCACHE_MAX_ENTRIES * LINE_MAX_LEN + 80u)

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

/* A decimal number without leading zeros ending at @end; *p moves past it. */
static bool parse_u64(const char **p, const char *end, char stop, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s == end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] != stop))
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (s == end || *s != stop)
		return false;
	*p = s + 1;
	*out = v;
	return true;
}

static bool parse_i64(const char **p, const char *end, char stop, int64_t *out)
{
	bool neg = *p < end && **p == '-';
	uint64_t v;

	if (neg)
		(*p)++;
	if (!parse_u64(p, end, stop, &v) || v > (uint64_t)INT64_MAX || (neg && v == 0))
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static bool parse_hex(const char **p, const char *end, uint8_t raw[SHA256_LEN])
{
	const char *s = *p;

	if (end - s < 2 * SHA256_LEN + 1 || s[2 * SHA256_LEN] != '\n')
		return false;
	for (int i = 0; i < SHA256_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		raw[i] = (uint8_t)(hi << 4 | lo);
	}
	*p = s + 2 * SHA256_LEN + 1;
	return true;
}

static int corrupt(statcache *c)
{
	clear(c);
	return mreg_seterr(MREG_ECORRUPT, "stat cache: not a valid cache file (ignored)");
}

int statcache_parse(statcache *c, const char *buf, size_t len, int64_t file_mtime_ns)
{
	const char *p = buf, *end = buf + len, *body_end;
	uint8_t want[SHA256_LEN], got[SHA256_LEN];
	int64_t stamp;

	clear(c);
	if (len > FILE_MAX || len < sizeof(HEADER) - 1 || memcmp(p, HEADER, sizeof(HEADER) - 1))
		return corrupt(c);
	p += sizeof(HEADER) - 1;
	if (end - p < 6 || memcmp(p, "stamp ", 6))
		return corrupt(c);
	p += 6;
	if (!parse_i64(&p, end, '\n', &stamp))
		return corrupt(c);
	/* The racily-clean rule: older than both the stamp and the file itself. */
	if (file_mtime_ns < stamp)
		stamp = file_mtime_ns;
	for (;;) {
		entry x = {.flags = FROM_FILE};
		if (end - p >= 4 && !memcmp(p, "end ", 4))
			break;
		if (!parse_u64(&p, end, ' ', &x.dev) || !parse_u64(&p, end, ' ', &x.ino) ||
		    !parse_u64(&p, end, ' ', &x.size) || !parse_i64(&p, end, ' ', &x.mtime) ||
		    !parse_i64(&p, end, ' ', &x.ctime) || !parse_hex(&p, end, x.raw))
			return corrupt(c);
		if (x.size > (uint64_t)INT64_MAX)
			return corrupt(c);
		if (x.mtime < stamp && x.ctime < stamp && !add(c, &x))
			return corrupt(c); /* more entries than a cache holds */
	}
	body_end = p;
	p += 4;
	if (!parse_hex(&p, end, want) || p != end)
		return corrupt(c);
	hash_buffer(got, buf, (size_t)(body_end - buf));
	if (memcmp(want, got, SHA256_LEN))
		return corrupt(c);
	c->stamp = stamp;
	return 0;
}

size_t statcache_count(const statcache *c)
{
	return c->n;
}

static void hex(char *out, const uint8_t raw[SHA256_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 15];
	}
	out[2 * SHA256_LEN] = '\0';
}

int statcache_format(const statcache *c, int64_t stamp_ns, char **out, size_t *len)
{
	size_t cap = 64 + (c->n + 1) * (LINE_MAX_LEN + 1) + 80, n = 0;
	char *buf = malloc(cap), h[2 * SHA256_LEN + 1];
	uint8_t sum[SHA256_LEN];

	*out = NULL;
	*len = 0;
	if (!buf)
		return mreg_seterr_nomem();
	n += (size_t)snprintf(buf + n, cap - n, HEADER "stamp %" PRId64 "\n", stamp_ns);
	/* What this run read first, then what it carried over. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->n; i++) {
			const entry *e = &c->e[i];
			if (!!(e->flags & FRESH) != (pass == 0) || e->mtime >= stamp_ns ||
			    e->ctime >= stamp_ns)
				continue;
			hex(h, e->raw);
			n += (size_t)snprintf(buf + n, cap - n,
					      "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64
					      " %" PRId64 " %s\n",
					      e->dev, e->ino, e->size, e->mtime, e->ctime, h);
		}
	}
	hash_buffer(sum, buf, n);
	hex(h, sum);
	n += (size_t)snprintf(buf + n, cap - n, "end %s\n", h);
	*out = buf;
	*len = n;
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
