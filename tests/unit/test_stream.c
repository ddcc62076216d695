/* Streaming copy + hash: both code paths give OpenSSL's digest and an exact copy. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/hash.h"
#include "mreg/record.h"
#include "util/stream.h"
#include "tap.h"

static uint64_t progress_last;
static int progress_calls;

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	(void)total;
	progress_last = done;
	progress_calls++;
}

/* Deterministic pseudo-random content. */
static void make_file(const char *path, size_t size)
{
	FILE *f = fopen(path, "wb");
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		fputc((int)(x & 0xff), f);
	}
	fclose(f);
}

static void check(const char *name, size_t size, bool durable)
{
	char cmd[256], expect[80] = "", got[MREG_DIGEST_STRLEN];
	uint8_t raw[SHA256_LEN];
	uint64_t n = 0;
	FILE *p;
	int in, out, rc;
	stream_progress prog = {on_progress, NULL, 0, size};

	make_file(name, size);
	snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -r %s", name);
	p = popen(cmd, "r");
	if (p && fgets(expect, sizeof(expect), p))
		expect[64] = '\0';
	if (p)
		pclose(p);
	in = open(name, O_RDONLY);
	out = open("copy", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	progress_calls = 0;
	rc = (durable ? stream_copy_durable : stream_copy)(in, name, out, "copy", raw, &n, &prog);
	close(in);
	close(out);
	tap_is_int(rc, 0, "%s: copy succeeds", name);
	tap_is_int(n, size, "%s: size reported", name);
	digest_format(got, raw);
	tap_is_str(got + 7, expect, "%s: digest equals openssl dgst", name);
	snprintf(cmd, sizeof(cmd), "cmp -s %s copy", name);
	tap_ok(system(cmd) == 0, "%s: the copy is identical", name);
	tap_is_int(progress_last, size, "%s: progress ends at the total", name);
	unlink("copy");
}

static void test_hash_only(void)
{
	uint8_t raw[SHA256_LEN];
	char got[MREG_DIGEST_STRLEN];
	uint64_t n = 0;
	int in = open("empty", O_RDONLY | O_CREAT, 0644);

	tap_is_int(stream_copy(in, "empty", -1, NULL, raw, &n, NULL), 0, "hash-only of an empty file");
	digest_format(got, raw);
	tap_is_str(got, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		   "digest of nothing is SHA-256's empty digest");
	close(in);
}

static void test_write_error(void)
{
	uint8_t raw[SHA256_LEN];
	uint64_t n = 0;
	int in = open("small", O_RDONLY), out = open("/dev/full", O_WRONLY);

	if (out < 0) {
		tap_ok(1, "# SKIP /dev/full not available");
		close(in);
		return;
	}
	tap_is_int(stream_copy(in, "small", out, "/dev/full", raw, &n, NULL), MREG_EIO,
		   "a full disk is an I/O error");
	tap_ok(strstr(mreg_error_last(), "/dev/full") != NULL, "the message names the file: %s",
	       mreg_error_last());
	close(in);
	close(out);
}

int main(void)
{
	tap_tmpdir();
	check("small", 1000, false);
	check("chunky", (1u << 20) * 3 + 17, false);    /* one-thread path, several chunks */
	check("large", (1u << 20) * 20 + 12345, false); /* hashing-thread path */
	/* As blobs are written: flushed to the disk on a third thread every 64 MiB. */
	check("durable", (1u << 20) * 130 + 4097, true);
	test_hash_only();
	test_write_error();
	return tap_done();
}
