/*
 * faultshim: an LD_PRELOAD library that makes the Nth file-system call of a
 * process fail, for the fault-injection tests (tests/cli/faults.bats).
 *
 * Environment:
 *   MREG_FAULT_CALLS  which calls count: a comma list of families (open,
 *                     write, fsync, rename, mkdir, unlink, link, copy,
 *                     dlopen) or "all" (the default: every family but dlopen)
 *   MREG_FAULT_N      fail the Nth counted call (1-based); unset or 0: none
 *                     fails, the shim only counts
 *   MREG_FAULT_ERRNO  EIO (default), ENOSPC, EACCES or EXDEV (a copy_file_range
 *                     the kernel cannot do: the caller falls back)
 *   MREG_FAULT_MATCH  count only calls on a path containing this text (for
 *                     calls on a descriptor, the path /proc/self/fd names)
 *   MREG_FAULT_REPORT a file the shim writes at exit: "<count> <injected>
 *                     <call> <path>", so a driver knows when N went past the
 *                     last call
 *
 * Under AddressSanitizer, preload the ASan runtime first
 * (LD_PRELOAD=libasan.so:faultshim.so): its interceptors then call the shim.
 *
 * Calls on descriptors 0-2 never count. Each family covers its variants:
 * open (open, open64, openat, openat64, creat, fopen, fopen64, mkostemp,
 * mkstemp, mkdtemp), write (write, pwrite, pwrite64), fsync (fsync,
 * fdatasync, sync_file_range), rename (rename, renameat, renameat2), mkdir
 * (mkdir, mkdirat), unlink (unlink, unlinkat, rmdir), link (link, linkat,
 * symlink, symlinkat), copy (copy_file_range), dlopen (only when named: the
 * library made to fail is looked for in a folder that does not exist, so
 * dlerror() says what it says of a library that is not installed; matched
 * on the name given to dlopen). glibc's own internal calls
 * (fopen's open) do not pass through the shim, hence its wrappers of the
 * library functions that make files.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { F_OPEN = 1, F_WRITE = 2, F_FSYNC = 4, F_RENAME = 8, F_MKDIR = 16, F_UNLINK = 32,
       F_LINK = 64, F_COPY = 128, F_DLOPEN = 256 };

static const struct {
	const char *name;
	int bit;
} families[] = {
	{"open", F_OPEN},     {"write", F_WRITE},   {"fsync", F_FSYNC}, {"rename", F_RENAME},
	{"mkdir", F_MKDIR},   {"unlink", F_UNLINK}, {"link", F_LINK},   {"copy", F_COPY},
	{"dlopen", F_DLOPEN},
};

static int mask = ~F_DLOPEN;
static long target;
static int fail_errno = EIO;
static const char *match;
static const char *report;
static atomic_long counter;
static atomic_int injected;
static char injected_what[64];
static char injected_path[512];

__attribute__((constructor)) static void shim_init(void)
{
	const char *calls = getenv("MREG_FAULT_CALLS");
	const char *n = getenv("MREG_FAULT_N");
	const char *e = getenv("MREG_FAULT_ERRNO");

	if (calls && strcmp(calls, "all")) {
		mask = 0;
		for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
			const char *p = strstr(calls, families[i].name);
			size_t len = strlen(families[i].name);
			if (p && (p == calls || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
				mask |= families[i].bit;
		}
	}
	target = n ? atol(n) : 0;
	if (e && !strcmp(e, "ENOSPC"))
		fail_errno = ENOSPC;
	else if (e && !strcmp(e, "EACCES"))
		fail_errno = EACCES;
	else if (e && !strcmp(e, "EXDEV"))
		fail_errno = EXDEV;
	match = getenv("MREG_FAULT_MATCH");
	if (match && !match[0])
		match = NULL;
	report = getenv("MREG_FAULT_REPORT");
}

__attribute__((destructor)) static void shim_report(void)
{
	FILE *(*real_fopen)(const char *, const char *) = dlsym(RTLD_NEXT, "fopen");

	if (!report || !real_fopen)
		return;
	FILE *f = real_fopen(report, "w");
	if (!f)
		return;
	fprintf(f, "%ld %d %s %s\n", atomic_load(&counter), atomic_load(&injected),
		injected_what[0] ? injected_what : "-", injected_path[0] ? injected_path : "-");
	fclose(f);
}

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* The path of @path relative to @dirfd, for matching (AT_FDCWD: as given). */
static void at_path(char *buf, size_t len, int dirfd, const char *path)
{
	char link[64];
	ssize_t n;

	if (!path) {
		buf[0] = '\0';
		return;
	}
	if (path[0] == '/' || dirfd == AT_FDCWD) {
		if (path[0] == '/') {
			snprintf(buf, len, "%s", path);
		} else {
			char cwd[512];
			if (!getcwd(cwd, sizeof(cwd)))
				cwd[0] = '\0';
			snprintf(buf, len, "%s/%s", cwd, path);
		}
		return;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	snprintf(buf + n, len - (size_t)n, "/%s", path);
}

static void fd_path(char *buf, size_t len, int fd)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
}

/* Whether this call fails: it counts when its family is chosen and it matches. */
static int should_fail(int family, const char *what, const char *path)
{
	int saved = errno;
	long n;

	if (!(mask & family))
		return 0;
	if (match && (!path || !strstr(path, match)))
		return 0;
	n = atomic_fetch_add(&counter, 1) + 1;
	errno = saved;
	if (target <= 0 || n != target)
		return 0;
	atomic_store(&injected, 1);
	snprintf(injected_what, sizeof(injected_what), "%s", what);
	snprintf(injected_path, sizeof(injected_path), "%s", path ? path : "-");
	return 1;
}

static int check_path(int family, const char *what, int dirfd, const char *path)
{
	char buf[1024];

	if (!(mask & family))
		return 0;
	at_path(buf, sizeof(buf), dirfd, path);
	return should_fail(family, what, buf);
}

static int check_fd(int family, const char *what, int fd)
{
	char buf[1024];

	if (!(mask & family) || fd <= 2)
		return 0;
	if (match)
		fd_path(buf, sizeof(buf), fd);
	else
		buf[0] = '\0';
	return should_fail(family, what, match ? buf : NULL);
}

#define FAIL_IF(cond, ret)                \
	do {                              \
		if (cond) {               \
			errno = fail_errno; \
			return ret;       \
		}                         \
	} while (0)

/* ---- open ---- */

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (!real)
		real = next("open");
	FAIL_IF(check_path(F_OPEN, "open", AT_FDCWD, path), -1);
	return real(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (!real)
		real = next("open64");
	FAIL_IF(check_path(F_OPEN, "open", AT_FDCWD, path), -1);
	return real(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (!real)
		real = next("openat");
	FAIL_IF(check_path(F_OPEN, "openat", dirfd, path), -1);
	return real(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (!real)
		real = next("openat64");
	FAIL_IF(check_path(F_OPEN, "openat", dirfd, path), -1);
	return real(dirfd, path, flags, mode);
}

int creat(const char *path, mode_t mode)
{
	static int (*real)(const char *, mode_t);
	if (!real)
		real = next("creat");
	FAIL_IF(check_path(F_OPEN, "creat", AT_FDCWD, path), -1);
	return real(path, mode);
}

FILE *fopen(const char *path, const char *how)
{
	static FILE *(*real)(const char *, const char *);
	if (!real)
		real = next("fopen");
	FAIL_IF(check_path(F_OPEN, "fopen", AT_FDCWD, path), NULL);
	return real(path, how);
}

FILE *fopen64(const char *path, const char *how)
{
	static FILE *(*real)(const char *, const char *);
	if (!real)
		real = next("fopen64");
	FAIL_IF(check_path(F_OPEN, "fopen", AT_FDCWD, path), NULL);
	return real(path, how);
}

int mkostemp(char *tmpl, int flags)
{
	static int (*real)(char *, int);
	if (!real)
		real = next("mkostemp");
	FAIL_IF(check_path(F_OPEN, "mkostemp", AT_FDCWD, tmpl), -1);
	return real(tmpl, flags);
}

int mkostemp64(char *tmpl, int flags)
{
	static int (*real)(char *, int);
	if (!real)
		real = next("mkostemp64");
	FAIL_IF(check_path(F_OPEN, "mkostemp", AT_FDCWD, tmpl), -1);
	return real(tmpl, flags);
}

int mkstemp(char *tmpl)
{
	static int (*real)(char *);
	if (!real)
		real = next("mkstemp");
	FAIL_IF(check_path(F_OPEN, "mkstemp", AT_FDCWD, tmpl), -1);
	return real(tmpl);
}

int mkstemp64(char *tmpl)
{
	static int (*real)(char *);
	if (!real)
		real = next("mkstemp64");
	FAIL_IF(check_path(F_OPEN, "mkstemp", AT_FDCWD, tmpl), -1);
	return real(tmpl);
}

char *mkdtemp(char *tmpl)
{
	static char *(*real)(char *);
	if (!real)
		real = next("mkdtemp");
	FAIL_IF(check_path(F_OPEN, "mkdtemp", AT_FDCWD, tmpl), NULL);
	return real(tmpl);
}

/* ---- write ---- */

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	if (!real)
		real = next("write");
	FAIL_IF(check_fd(F_WRITE, "write", fd), -1);
	return real(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	if (!real)
		real = next("pwrite");
	FAIL_IF(check_fd(F_WRITE, "pwrite", fd), -1);
	return real(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	if (!real)
		real = next("pwrite64");
	FAIL_IF(check_fd(F_WRITE, "pwrite", fd), -1);
	return real(fd, buf, len, off);
}

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len,
			unsigned int flags)
{
	static ssize_t (*real)(int, off_t *, int, off_t *, size_t, unsigned int);
	if (!real)
		real = next("copy_file_range");
	FAIL_IF(check_fd(F_COPY, "copy_file_range", out), -1);
	return real(in, in_off, out, out_off, len, flags);
}

/* ---- fsync ---- */

int fsync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = next("fsync");
	FAIL_IF(check_fd(F_FSYNC, "fsync", fd), -1);
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = next("fdatasync");
	FAIL_IF(check_fd(F_FSYNC, "fdatasync", fd), -1);
	return real(fd);
}

int sync_file_range(int fd, off_t off, off_t len, unsigned int flags)
{
	static int (*real)(int, off_t, off_t, unsigned int);
	if (!real)
		real = next("sync_file_range");
	FAIL_IF(check_fd(F_FSYNC, "sync_file_range", fd), -1);
	return real(fd, off, len, flags);
}

/* ---- rename ---- */

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	if (!real)
		real = next("rename");
	FAIL_IF(check_path(F_RENAME, "rename", AT_FDCWD, to), -1);
	return real(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	static int (*real)(int, const char *, int, const char *);
	if (!real)
		real = next("renameat");
	FAIL_IF(check_path(F_RENAME, "renameat", tofd, to), -1);
	return real(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned int);
	if (!real)
		real = next("renameat2");
	FAIL_IF(check_path(F_RENAME, "renameat2", tofd, to), -1);
	return real(fromfd, from, tofd, to, flags);
}

/* ---- mkdir, unlink, link ---- */

int mkdir(const char *path, mode_t mode)
{
	static int (*real)(const char *, mode_t);
	if (!real)
		real = next("mkdir");
	FAIL_IF(check_path(F_MKDIR, "mkdir", AT_FDCWD, path), -1);
	return real(path, mode);
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
	static int (*real)(int, const char *, mode_t);
	if (!real)
		real = next("mkdirat");
	FAIL_IF(check_path(F_MKDIR, "mkdirat", dirfd, path), -1);
	return real(dirfd, path, mode);
}

int unlink(const char *path)
{
	static int (*real)(const char *);
	if (!real)
		real = next("unlink");
	FAIL_IF(check_path(F_UNLINK, "unlink", AT_FDCWD, path), -1);
	return real(path);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	static int (*real)(int, const char *, int);
	if (!real)
		real = next("unlinkat");
	FAIL_IF(check_path(F_UNLINK, "unlinkat", dirfd, path), -1);
	return real(dirfd, path, flags);
}

int rmdir(const char *path)
{
	static int (*real)(const char *);
	if (!real)
		real = next("rmdir");
	FAIL_IF(check_path(F_UNLINK, "rmdir", AT_FDCWD, path), -1);
	return real(path);
}

int link(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	if (!real)
		real = next("link");
	FAIL_IF(check_path(F_LINK, "link", AT_FDCWD, to), -1);
	return real(from, to);
}

int linkat(int fromfd, const char *from, int tofd, const char *to, int flags)
{
	static int (*real)(int, const char *, int, const char *, int);
	if (!real)
		real = next("linkat");
	FAIL_IF(check_path(F_LINK, "linkat", tofd, to), -1);
	return real(fromfd, from, tofd, to, flags);
}

int symlink(const char *target_path, const char *path)
{
	static int (*real)(const char *, const char *);
	if (!real)
		real = next("symlink");
	FAIL_IF(check_path(F_LINK, "symlink", AT_FDCWD, path), -1);
	return real(target_path, path);
}

int symlinkat(const char *target_path, int dirfd, const char *path)
{
	static int (*real)(const char *, int, const char *);
	if (!real)
		real = next("symlinkat");
	FAIL_IF(check_path(F_LINK, "symlinkat", dirfd, path), -1);
	return real(target_path, dirfd, path);
}

void *dlopen(const char *file, int flags)
{
	static void *(*real)(const char *, int);
	char gone[600];

	if (!real)
		real = next("dlopen");
	if (file && should_fail(F_DLOPEN, "dlopen", file)) {
		const char *base = strrchr(file, '/');
		snprintf(gone, sizeof(gone), "/nonexistent-faultshim/%s", base ? base + 1 : file);
		return real(gone, flags);
	}
	return real(file, flags);
}
