/*
 * Putting a blob's bytes into a new file, verified in the same pass: the
 * kernel copies (copy_file_range, page cache to page cache, no copy through
 * this process; read/write where it cannot) while the caller's thread hashes
 * what landed in the target, a step behind the copy. What is checked is the
 * target itself, so a file that does not match its digest is reported and
 * never taken for good, whatever happened to the blob meanwhile.
 */
#ifndef MREG_CHECKOUT_COPY_H
#define MREG_CHECKOUT_COPY_H

#include <stdbool.h>
#include <stdint.h>

/* Called from the hashing thread with the bytes of this file verified so far. */
typedef void (*checkout_progress_fn)(void *ctx, uint64_t done);

typedef struct {
	const char *in_name;  /* the blob (its digest), for messages */
	const char *out_name; /* the target as the user knows it, for messages */
	const char *digest;   /* "sha256:<hex>" the target must have */
	uint64_t size;        /* and its size */
	const char *hint;     /* appended to the mismatch message, e.g. "; run mreg fsck" */
	checkout_progress_fn progress; /* may be NULL */
	void *progress_ctx;
	bool used_cfr;        /* out: copy_file_range copied at least a byte */
} checkout_copy_job;

/*
 * Copy @in (a blob open for reading) to @out (a new, empty file open for
 * reading and writing) and hash @out as it fills. Files of 8 MiB and more are
 * copied on a second thread while this one hashes; smaller ones are copied
 * whole, then hashed. Returns 0 when @out holds exactly job->size bytes of
 * job->digest; MREG_ECORRUPT ("OUT: blob DIGEST does not match its digest
 * (read ..., N bytes HINT)") when not, or when the blob is shorter; MREG_EIO for a failed copy;
 * MREG_ENOMEM; MREG_EINTERRUPTED. The caller removes @out on failure.
 */
int checkout_copy_verified(int in, int out, checkout_copy_job *job);

#endif
