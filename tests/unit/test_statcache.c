/*
 * The stat cache's file (src/store/statcache.c): what the reader accepts and
 * refuses, the racily-clean rule at read time, and what the writer gives back.
 * The seeds in tests/fuzz/corpus/statcache are the same cases as files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mreg.h"
#include "store/statcache.h"
#include "tap.h"


/* parse seed @name; returns its status, *count the entries held. */
static int parse_seed(const char *name, int64_t mtime, size_t *count)
{
	char path[512], *buf;
	FILE *f;
	long len;
	statcache *c = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/statcache/%s",
		 getenv("MREG_SOURCE_DIR") ? getenv("MREG_SOURCE_DIR") : ".", name);
	if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)len + 1)) ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len) {
		tap_ok(false, "read seed %s", name);
		exit(1);
	}
	fclose(f);
	if (statcache_new(&c))
		exit(1);
	rc = statcache_parse(c, buf, (size_t)len, mtime);
	*count = statcache_count(c);
	statcache_free(c);
	free(buf);
	return rc;
}

static void test_seeds(void)
{
	size_t n;

	tap_is_int(parse_seed("valid-21-files", INT64_MAX, &n), 0, "a valid cache is read");
	tap_is_int((int)n, 21, "with its 21 entries");
	tap_is_int(parse_seed("empty-cache", INT64_MAX, &n), 0, "an empty cache is valid");
	tap_is_int((int)n, 0, "and holds nothing");
	tap_is_int(parse_seed("duplicate-inode", INT64_MAX, &n), 0, "one inode twice: read");
	tap_is_int((int)n, 2, "the later entry stands for it");
	tap_is_int(parse_seed("racy", INT64_MAX, &n), 0, "racy entries: the file is read");
	tap_is_int((int)n, 1, "entries not older than the stamp do not count");
	tap_is_int(parse_seed("valid-21-files", 1796539554974636011, &n), 0,
		   "a cache file written when its entries were");
	tap_is_int((int)n, 0, "counts none of them (older than the file's own mtime only)");
	tap_is_int(parse_seed("negative-times", INT64_MAX, &n), 0, "times before 1970 are read");
	tap_is_int((int)n, 2, "both older than a stamp of -1 ns");
	tap_is_int(parse_seed("bad-checksum", INT64_MAX, &n), MREG_ECORRUPT, "a wrong sum: ignored");
	tap_is_int((int)n, 0, "whole");
	tap_is_int(parse_seed("overflow", INT64_MAX, &n), MREG_ECORRUPT, "a count past the cap: ignored");
	tap_is_int(parse_seed("huge-size", INT64_MAX, &n), MREG_ECORRUPT, "a size past 2^63: ignored");
	tap_is_int(parse_seed("text-version-1", INT64_MAX, &n), MREG_ECORRUPT,
		   "a cache in the text format of version 1 is ignored");
}

static void test_round_trip(void)
{
	statcache *c = NULL, *again = NULL;
	char *buf = NULL;
	size_t len = 0;
	uint8_t raw[SHA256_LEN], got[SHA256_LEN];
	struct stat st = {.st_mode = S_IFREG | 0644, .st_dev = 7, .st_size = 42};

	/* statcache_put keeps entries only in a writable cache: make one. */
	if (statcache_open(&c, tap_tmpdir(), tap_tmpdir(), true))
		exit(1);
	for (int i = 0; i < 100; i++) {
		st.st_ino = (ino_t)(1000 + i);
		st.st_mtim.tv_sec = st.st_ctim.tv_sec = 1000 + i;
		memset(raw, i, sizeof(raw));
		statcache_put(c, &st, raw);
	}
	tap_is_int(statcache_format(c, INT64_MAX, &buf, &len), 0, "written");
	tap_is_int((int)len, 32 + 100 * 72 + 32, "32 bytes of head, 72 per entry, 32 of sum");
	statcache_new(&again);
	tap_is_int(statcache_parse(again, buf, len, INT64_MAX), 0, "read back");
	tap_is_int((int)statcache_count(again), 100, "every entry");
	st.st_ino = 1042;
	st.st_mtim.tv_sec = st.st_ctim.tv_sec = 1042;
	tap_ok(statcache_lookup(again, &st, got) && got[0] == 42 && got[31] == 42,
	       "an entry is found with its digest");
	st.st_ctim.tv_nsec = 1;
	tap_ok(!statcache_lookup(again, &st, got), "a changed ctime misses");
	buf[100] ^= 1;
	tap_is_int(statcache_parse(again, buf, len, INT64_MAX), MREG_ECORRUPT, "one bit flipped: ignored");
	tap_is_int((int)statcache_count(again), 0, "whole");
	free(buf);
	statcache_free(again);
	statcache_free(c);
}

int main(void)
{
	test_seeds();
	test_round_trip();
	return tap_done();
}
