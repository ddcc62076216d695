/*
 * The stat cache (mreg-store(5), "STAT CACHE"); lookups and puts may come
 * from several threads at once. What it is: per store, a file's (device,
 * inode, size, mtime, ctime) to its SHA-256, so that registering a folder
 * again reads no file whose metadata is unchanged. Modelled on git's index
 * and DVC's state database, with git's "racily clean" rule: an entry counts
 * only when the file's mtime and ctime are older than the moment the cache
 * began to be written (the stamp), since a file changed within the same
 * timestamp tick as it was hashed would otherwise keep its old key.
 *
 * It is a cache: the file .mreg/cache/stat may be deleted at any time (only
 * speed changes), a damaged one is ignored as a whole and rewritten, and
 * .mreg/cache/.gitignore keeps it out of git. Writes are tmp/ + rename, not
 * fsynced: a crash leaves the old cache, the new one, or one whose checksum
 * fails and is ignored. A hit is used only when its blob exists.
 */
#ifndef MREG_STATCACHE_H
#define MREG_STATCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "util/hash.h"

#define STATCACHE_DIR "cache"
#define STATCACHE_FILE "stat"
/* Entries kept at most (the ones used by the last run first): ~80 bytes each
 * in memory, 72 in the file. */
#define STATCACHE_MAX_ENTRIES 65536u

typedef struct statcache statcache;

/*
 * Load the cache of the store at @store_dir (its tmp/ folder is @tmp_dir).
 * A missing, unreadable or damaged cache gives an empty one, never an error.
 * With @writable, the cache's new file is begun in @tmp_dir now, and its
 * modification time is the stamp of the entries this run adds
 * (statcache_save). Returns 0 or MREG_ENOMEM; when the temporary file cannot
 * be made, the cache works read-only and 0 is returned.
 */
int statcache_open(statcache **out, const char *store_dir, const char *tmp_dir, bool writable);

/*
 * Make a cache opened read-only writable from now on (as statcache_open with
 * @writable does at open): its new file is begun in @tmp_dir, and its mtime
 * is the stamp. For a caller that reads the cache before it may write in the
 * store (create reads it before its walk, and begins writing under the
 * ingest lock). Returns 0 (read-only still, when the file cannot be made) or
 * MREG_ENOMEM; a cache writable already is left as it is.
 */
int statcache_begin_write(statcache *c, const char *tmp_dir);

/*
 * Whether the cache vouches that this process can read the regular file in
 * the state @st, so that the walk need not ask the kernel (walk_vouch_fn;
 * @ctx is the cache, NULL vouches for nothing). It does when the file is
 * this process's own with its owner's read bit set (for the owner the kernel
 * decides by those bits alone, ACLs aside: ACL_USER_OBJ is those bits) and
 * the cache holds it unchanged since it was read: a chmod, chown, setfacl
 * or change of security label changes ctime, so a file whose five values are
 * the cache's has the permissions it had when it was read. The cache does
 * not vouch for a file someone else owns (it may have been read by another
 * user sharing the store).
 */
bool statcache_vouches(void *ctx, const struct stat *st);

/*
 * The digest the cache holds for a file with these @st, when there is one
 * from an earlier run that the racily-clean rule lets through.
 */
bool statcache_lookup(statcache *c, const struct stat *st, uint8_t raw[SHA256_LEN]);

/* Remember @raw as the digest of the file with @st (read just now). */
void statcache_put(statcache *c, const struct stat *st, const uint8_t raw[SHA256_LEN]);

/*
 * Write the cache back (tmp/ + rename onto cache/stat, cache/.gitignore
 * written when missing) when this run added entries. Best effort: an error
 * is returned (message set) for the caller to ignore, as a cache may.
 */
int statcache_save(statcache *c);

void statcache_free(statcache *c);

/*
 * The reader on its own (fuzz_statcache): parse @len bytes of a cache file
 * whose entries count when older than @file_mtime_ns. Returns 0 and fills @c,
 * or MREG_ECORRUPT (@c then holds nothing). statcache_new gives an empty,
 * read-only cache; statcache_count the entries held; statcache_format the
 * file's bytes for entries older than @stamp_ns (malloc'd).
 */
int statcache_new(statcache **out);
int statcache_parse(statcache *c, const char *buf, size_t len, int64_t file_mtime_ns);
size_t statcache_count(const statcache *c);
int statcache_format(const statcache *c, int64_t stamp_ns, char **out, size_t *len);

#endif
