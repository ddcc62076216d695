/*
 * Inside src/bundle/: the store's blobs that a package has copied into its
 * archive, hashed on a second thread while the copy goes on with the next.
 *
 * A package re-hashes every blob it ships, so a damaged store never makes a
 * bundle every reader would refuse (bundle_write.c). A large blob is hashed
 * on a second thread by stream_pump() itself; a small one (most files of a
 * many-file model) would be hashed on the copying thread, in series with the
 * copy. blob_check takes those: once the copying thread has put a blob into
 * the archive it hands over the descriptor it copied from (blob_check_add()),
 * and the check reads that same open file again from its start (from the
 * page cache: the copy has just read it) and compares its digest, so the
 * package costs about what the copy costs on two cores, and each blob is
 * opened once.
 *
 * What is hashed is the file the copy read, by the same open file
 * description, not whatever the blob's path names a moment later: a blob
 * renamed or replaced in between changes nothing. The bytes are the copy's
 * bytes unless someone writes into that very file between the copy and the
 * check; the store never does (a blob is written once, under tmp/, and
 * renamed in), and fsck is there for what others do.
 */
#ifndef MREG_BUNDLE_BLOB_CHECK_H
#define MREG_BUNDLE_BLOB_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "mreg/record.h"

typedef struct blob_check blob_check;

/*
 * Start the checking thread, for blobs smaller than @below bytes. 0 or
 * MREG_ENOMEM / MREG_EIO (no thread).
 */
int blob_check_start(blob_check **out, uint64_t below);

/* True when the check takes @f's blob (the caller copies it without hashing). */
bool blob_check_takes(const blob_check *c, const mreg_file *f);

/*
 * Queue @f's blob for checking: @fd is the blob (open for reading, a regular
 * file, any offset: the check reads from 0), and the check owns it from now
 * on, whatever the result (it closes it). @f must outlive
 * blob_check_finish(). @whole: NULL, or the blob's f->size bytes as the copy
 * read them. When the queue is full (a few dozen descriptors), a blob with
 * @whole is hashed from it here, on the calling thread, and its verdict
 * returned, so neither core waits for the other; without @whole the call
 * waits for room. 0, or the first failure found so far (as
 * blob_check_finish() gives it, or this blob's own): the caller stops copying.
 */
int blob_check_add(blob_check *c, const mreg_file *f, int fd, const uint8_t *whole);

/*
 * Wait for the check of every queued blob to end (@cancel: stop at once, the
 * caller has failed anyway) and free @c. 0, or the first failure
 * (MREG_ECORRUPT for a blob that does not match its digest or size, naming
 * the file; MREG_EIO for a read error), its message set on the calling
 * thread. NULL @c: 0.
 */
int blob_check_finish(blob_check *c, bool cancel);

#endif
