/*
 * A set of SHA-256 digests, 32 bytes each (digest_set.c): the blobs the
 * records reference, as gc and fsck collect them one record at a time. Its
 * memory is 32 bytes per distinct digest (plus the duplicates of the last
 * few records, folded away as it grows), whatever the records' sizes.
 */
#ifndef MREG_DIGEST_SET_H
#define MREG_DIGEST_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/hash.h"

typedef struct {
	uint8_t (*items)[SHA256_LEN];
	size_t count;  /* items in use */
	size_t sorted; /* items[0..sorted) are sorted and distinct */
	size_t cap;
} digest_set;

#define DIGEST_SET_INIT {NULL, 0, 0, 0}

/* Add the digest whose 64 lowercase hex digits are @hex. MREG_ENOMEM, MREG_EINVALID (not hex). */
int digest_set_add(digest_set *set, const char *hex);

/* Sort and fold duplicates: needed before digest_set_has(). */
void digest_set_seal(digest_set *set);

/* Whether @hex (64 lowercase hex digits) is in the sealed set. */
bool digest_set_has(const digest_set *set, const char *hex);

/* Distinct digests in the sealed set. */
size_t digest_set_count(const digest_set *set);

void digest_set_dispose(digest_set *set);

#endif
