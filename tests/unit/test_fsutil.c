/* Reading a small file whole, bounded (fs_read_small in src/util/fsutil.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "tap.h"

static int allocs, frees;
static void *last_alloc;
static bool alloc_fails;

static void *count_alloc(size_t n)
{
	allocs++;
	return last_alloc = alloc_fails ? NULL : malloc(n);
}

static void count_free(void *p)
{
	frees++;
	free(p);
}

static const fs_allocator counting = {count_alloc, count_free};

static void test_reads(void)
{
	char *buf = (char *)"untouched";
	size_t len = 99;

	tap_write("five", "hello");
	tap_is_int(fs_read_small(&buf, &len, "five", 5, NULL), 0, "a file of exactly max bytes");
	tap_is_str(buf, "hello", "its text, NUL-terminated");
	tap_is_int(len, 5, "its length");
	free(buf);
	tap_write("empty", "");
	tap_is_int(fs_read_small(&buf, &len, "empty", 5, NULL), 0, "an empty file");
	tap_ok(buf && buf[0] == '\0' && len == 0, "reads as \"\"");
	free(buf);
	FILE *f = fopen("nul", "wb");
	fwrite("a\0b", 1, 3, f);
	fclose(f);
	tap_is_int(fs_read_small(&buf, &len, "nul", 16, NULL), 0, "a file with a NUL byte");
	tap_ok(len == 3 && !memcmp(buf, "a\0b", 4), "all three bytes and the terminator");
	free(buf);
}

static void test_refusals(void)
{
	char *buf = (char *)"untouched";
	size_t len = 99;

	tap_write("six", "hello!");
	tap_is_int(fs_read_small(&buf, &len, "six", 5, NULL), MREG_EINVALID, "max + 1 bytes refused");
	tap_is_int(errno, EFBIG, "errno says too large");
	tap_is_str(mreg_error_last(), "six: larger than 5 bytes", "the message");
	tap_ok(buf == NULL && len == 0, "nothing handed out on failure");

	tap_is_int(fs_read_small(&buf, &len, "missing", 5, NULL), MREG_ENOTFOUND, "a missing file");
	tap_is_int(errno, ENOENT, "errno ENOENT");
	tap_is_str(mreg_error_last(), "missing: No such file or directory", "the message");

	tap_is_int(fs_read_small(&buf, &len, "six/x", 5, NULL), MREG_ENOTFOUND,
		   "a path through a file");
	tap_is_int(errno, ENOTDIR, "errno ENOTDIR");

	mkdir("dir", 0755);
	tap_is_int(fs_read_small(&buf, &len, "dir", 5, NULL), MREG_EINVALID, "a folder refused");
	tap_is_int(errno, EISDIR, "errno EISDIR");
	tap_is_str(mreg_error_last(), "dir: not a regular file", "the message");

	/* Opening a FIFO for reading waits for a writer, unless O_NONBLOCK. */
	if (mkfifo("fifo", 0644) == 0) {
		alarm(10);
		tap_is_int(fs_read_small(&buf, &len, "fifo", 5, NULL), MREG_EINVALID,
			   "a FIFO is refused at once");
		alarm(0);
		tap_is_int(errno, EINVAL, "errno EINVAL for a file that is not regular");
	} else {
		tap_ok(false, "mkfifo: %s", strerror(errno));
	}

	/* /proc files say size 0, then hold text: a file growing while read. */
	if (access("/proc/self/status", R_OK) == 0) {
		tap_is_int(fs_read_small(&buf, &len, "/proc/self/status", 1 << 20, NULL),
			   MREG_EINVALID, "a file that grows while read is refused");
		tap_is_int(errno, EFBIG, "errno EFBIG");
		tap_ok(strstr(mreg_error_last(), "grew while being read") != NULL, "the message: %s",
		       mreg_error_last());
	}

	if (geteuid() != 0) {
		tap_write("secret", "x");
		chmod("secret", 0);
		tap_is_int(fs_read_small(&buf, &len, "secret", 5, NULL), MREG_EIO,
			   "an unreadable file");
		tap_is_int(errno, EACCES, "errno EACCES");
		tap_is_str(mreg_error_last(), "secret: Permission denied", "the message");
	} else {
		printf("# running as root: the permission check is skipped\n");
	}
}

static void test_allocator(void)
{
	char *buf = NULL;
	size_t len = 0;

	tap_write("key", "secret key");
	tap_is_int(fs_read_small(&buf, &len, "key", 64, &counting), 0, "reads with an allocator");
	tap_ok(allocs == 1 && frees == 0 && buf == last_alloc, "the buffer is the allocator's");
	tap_is_str(buf, "secret key", "the text");
	count_free(buf);

	allocs = frees = 0;
	tap_is_int(fs_read_small(&buf, &len, "key", 4, &counting), MREG_EINVALID, "too large");
	tap_ok(allocs == 0 && frees == 0, "nothing allocated for a refused file");

	alloc_fails = true;
	tap_is_int(fs_read_small(&buf, &len, "key", 64, &counting), MREG_ENOMEM,
		   "the allocator failing");
	tap_is_int(errno, ENOMEM, "errno ENOMEM");
	alloc_fails = false;

	if (access("/proc/self/status", R_OK) == 0) {
		allocs = frees = 0;
		fs_read_small(&buf, &len, "/proc/self/status", 1 << 20, &counting);
		tap_ok(allocs == 1 && frees == 1, "a buffer given up on goes back to its allocator");
	}
}

int main(void)
{
	tap_tmpdir();
	test_reads();
	test_refusals();
	test_allocator();
	return tap_done();
}
