/*
 * A tiny TAP producer for the unit tests: meson runs each test executable
 * with protocol 'tap'. Each test works in a fresh temporary directory
 * (tap_tmpdir()), removed at exit unless MREG_KEEP_TMP is set.
 */
#ifndef MREG_TAP_H
#define MREG_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_count, tap_failed;
static char tap_dir[256];

static void tap_cleanup(void)
{
	if (tap_dir[0] && !getenv("MREG_KEEP_TMP")) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tap_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not remove %s\n", tap_dir);
	}
}

/* A fresh directory for this test program, made the current directory. */
static inline const char *tap_tmpdir(void)
{
	if (!tap_dir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tap_dir, sizeof(tap_dir), "%s/mreg-unit-XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(tap_dir)) {
			printf("Bail out! cannot create a temporary directory\n");
			exit(1);
		}
		atexit(tap_cleanup);
		if (chdir(tap_dir) != 0) {
			printf("Bail out! cannot enter %s\n", tap_dir);
			exit(1);
		}
	}
	return tap_dir;
}

static inline bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

#define tap_is_int(got, want, ...)                                                          \
	do {                                                                                \
		long long g_ = (long long)(got), w_ = (long long)(want);                    \
		if (!tap_ok(g_ == w_, __VA_ARGS__))                                         \
			printf("#   got %lld, want %lld\n", g_, w_);                            \
	} while (0)

#define tap_is_str(got, want, ...)                                                          \
	do {                                                                                \
		const char *g_ = (got), *w_ = (want);                                       \
		if (!tap_ok(g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_, __VA_ARGS__))        \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",               \
			       w_ ? w_ : "(null)");                                            \
	} while (0)

/* Write a small file (test fixtures). */
static inline void tap_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
