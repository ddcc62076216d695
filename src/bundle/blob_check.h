/*
 * Inside src/bundle/: the store's blobs that a package copies into its
 * archive, read again and hashed on a second thread while the copy goes on.
 *
 * A package re-hashes every blob it ships, so a damaged store never makes a
 * bundle every reader would refuse (bundle_write.c). A large blob is hashed
 * on a second thread by stream_pump() itself; a small one (most files of a
 * many-file model) would be hashed on the copying thread, in series with the
 * copy. blob_check takes those: it reads each one again (from the page
 * cache: the copy reads the same bytes) and checks its digest beside the
 * copy, so the package costs about what the copy costs on two cores.
 */
#ifndef MREG_BUNDLE_BLOB_CHECK_H
#define MREG_BUNDLE_BLOB_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "mreg/record.h"
#include "mreg/store.h"

typedef struct blob_check blob_check;

/*
 * Start checking, on a thread of its own, the blobs of @r's files that
 * @first marks (each content once) and that are smaller than @below bytes.
 * @store, @r and @first must outlive blob_check_finish(). 0 or MREG_ENOMEM /
 * MREG_EIO (no thread).
 */
int blob_check_start(blob_check **out, const mreg_store *store, const mreg_record *r,
		     const bool *first, uint64_t below);

/* True when blob_check_start() took the file (the caller copies it without hashing). */
bool blob_check_takes(const blob_check *c, const mreg_file *f);

/*
 * Wait for the check to end (@cancel: stop at the next file, the caller has
 * failed anyway) and free @c. 0, or the first failure (MREG_ECORRUPT for a
 * blob that is missing or does not match its digest, naming the file), its
 * message set on the calling thread. NULL @c: 0.
 */
int blob_check_finish(blob_check *c, bool cancel);

#endif
