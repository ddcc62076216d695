/* A set of SHA-256 digests, 32 bytes each (see digest_set.h). */
#include <stdlib.h>
#include <string.h>

#include "digest_set.h"
#include "util/error_priv.h"

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool parse_hex(uint8_t out[SHA256_LEN], const char *hex)
{
	for (size_t i = 0; i < SHA256_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[2 * SHA256_LEN] == '\0';
}

static int cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, SHA256_LEN);
}

void digest_set_seal(digest_set *set)
{
	size_t k = 0;

	if (set->count == set->sorted)
		return;
	qsort(set->items, set->count, SHA256_LEN, cmp_digest);
	for (size_t i = 0; i < set->count; i++)
		if (k == 0 || memcmp(set->items[k - 1], set->items[i], SHA256_LEN))
			memmove(set->items[k++], set->items[i], SHA256_LEN);
	set->count = set->sorted = k;
}

int digest_set_add(digest_set *set, const char *hex)
{
	uint8_t d[SHA256_LEN];

	if (!parse_hex(d, hex))
		return mreg_seterr(MREG_EINVALID, "'%.70s' is not a sha256 digest", hex);
	if (set->count == set->cap) {
		/* Versions share most blobs: fold duplicates before growing. */
		digest_set_seal(set);
		if (set->count * 4 > set->cap * 3 || set->cap == 0) {
			size_t cap = set->cap ? set->cap * 2 : 1024;
			void *items = realloc(set->items, cap * SHA256_LEN);
			if (!items)
				return mreg_seterr_nomem();
			set->items = items;
			set->cap = cap;
		}
	}
	memcpy(set->items[set->count++], d, SHA256_LEN);
	return 0;
}

bool digest_set_has(const digest_set *set, const char *hex)
{
	uint8_t d[SHA256_LEN];

	/* Empty (no record): bsearch must not be handed the NULL array. */
	if (set->sorted == 0 || !parse_hex(d, hex))
		return false;
	return bsearch(d, set->items, set->sorted, SHA256_LEN, cmp_digest) != NULL;
}

size_t digest_set_count(const digest_set *set)
{
	return set->sorted;
}

void digest_set_dispose(digest_set *set)
{
	free(set->items);
	memset(set, 0, sizeof(*set));
}
