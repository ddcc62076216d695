/*
 * Fuzz target for the stat cache's reader (.mreg/cache/stat): the file lives
 * in the store and anyone who can write there can put anything in it, so any
 * input must give either a cache or "ignored", never a crash, a hang or a
 * leak. Invariant: a cache that parses, written out and read again, holds
 * the same number of entries.
 */
#include <stdint.h>
#include <stdlib.h>

#include "store/statcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	statcache *c = NULL, *again = NULL;
	char *text = NULL;
	size_t len = 0;

	if (statcache_new(&c))
		return 0;
	if (statcache_parse(c, (const char *)data, size, INT64_MAX) == 0) {
		if (statcache_format(c, INT64_MAX, &text, &len) || statcache_new(&again))
			abort();
		if (statcache_parse(again, text, len, INT64_MAX) ||
		    statcache_count(again) != statcache_count(c))
			abort();
	} else if (statcache_count(c) != 0) {
		abort(); /* a damaged cache holds nothing */
	}
	free(text);
	statcache_free(again);
	statcache_free(c);
	return 0;
}
