/*
 * Streaming a file once: every byte is read, hashed and (optionally) written
 * in the same pass, with a fixed amount of memory whatever the file size.
 * Large files are hashed on a second thread while the calling thread reads
 * and writes, so the copy costs about as much as the hash alone.
 */
#ifndef MREG_STREAM_H
#define MREG_STREAM_H

#include <stdint.h>
#include <sys/types.h>

#include "hash.h"
#include "mreg/common.h"

/* Progress over several files: @base bytes done before this file, of @total. */
typedef struct {
	mreg_progress_fn fn;
	void *ctx;
	uint64_t base;
	uint64_t total;
} stream_progress;

/*
 * Read @in_fd to its end, hashing into @digest and writing to @out_fd
 * (skip writing when @out_fd < 0). *size receives the bytes read.
 * @in_name and @out_name are used in error messages only.
 * Returns 0, MREG_EIO (read/write failed, message set), MREG_ENOMEM.
 */
int stream_copy(int in_fd, const char *in_name, int out_fd, const char *out_name,
		uint8_t digest[SHA256_LEN], uint64_t *size, stream_progress *progress);

/*
 * stream_copy for a file that the caller will fsync: large files are flushed to
 * the disk on a second thread as the copy goes on (every 64 MiB), so the final
 * fsync overlaps the copy instead of following it. A failed flush is an error
 * of the copy (MREG_EIO, message set).
 */
int stream_copy_durable(int in_fd, const char *in_name, int out_fd, const char *out_name,
			uint8_t digest[SHA256_LEN], uint64_t *size, stream_progress *progress);

/*
 * The general form: a source and an optional sink. A reader fills @buf with up
 * to @cap bytes and returns how many (0 at the end), or a negative MREG_E* code
 * with the message set. A writer takes @len bytes and returns 0 or a negative
 * code. @size_hint (the expected size, 0 when unknown) decides whether hashing
 * runs on a second thread. Readers and writers run on the calling thread.
 */
typedef ssize_t (*stream_reader)(void *ctx, uint8_t *buf, size_t cap);

/* From this size hint on, stream_pump() hashes on a second thread; below, one thread is faster. */
#define STREAM_PIPELINE_MIN (8u << 20)
typedef int (*stream_writer)(void *ctx, const uint8_t *buf, size_t len);

int stream_pump(stream_reader rd, void *rctx, stream_writer wr, void *wctx, uint64_t size_hint,
		uint8_t digest[SHA256_LEN], uint64_t *size, stream_progress *progress);

/* Reading and writing a file descriptor (@ctx is a stream_fd; @name for messages). */
typedef struct {
	int fd;
	const char *name;
	uint64_t off;
	uint64_t pending; /* written, writeback not started yet */
} stream_fd;

ssize_t stream_fd_reader(void *ctx, uint8_t *buf, size_t cap);
int stream_fd_writer(void *ctx, const uint8_t *buf, size_t len);

#endif
