/* File-system helpers for crash-safe writes. */
#ifndef MREG_FSUTIL_H
#define MREG_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* mkdir -p with @mode for the directories it creates. Errors set the message. */
int fs_mkdir_p(const char *path, mode_t mode);

/* fsync a directory so the renames inside it survive a crash. */
int fs_fsync_dir(const char *path);

/* The directory part of @path (malloc'd), "." when there is none. */
char *fs_dirname(const char *path);

/*
 * Write all @len bytes of @buf at @offset of @fd (pwrite, again after EINTR
 * or a short write). MREG_EIO with "@what: write: <reason>" on failure.
 */
int fs_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset, const char *what);

/* Create a unique file "<dir>/<prefix>XXXXXX", open for writing. */
int fs_tmpfile(char **path_out, int *fd_out, const char *dir, const char *prefix);

/*
 * Create a unique staging folder "<prefix>XXXXXX" (mode 0700); @where names
 * the place in the error message ("DIR: cannot create a staging folder").
 */
int fs_tmpdir(char **path_out, const char *prefix, const char *where);

/*
 * Write @data to @path crash-safely: a temporary file in @tmpdir, fsync,
 * rename onto @path, fsync of @path's directory. With @noreplace an existing
 * @path is left alone and MREG_EEXISTS returned.
 */
int fs_write_atomic(const char *path, const void *data, size_t len, const char *tmpdir,
		    bool noreplace);

/*
 * fs_write_atomic_mode() but for the last step, the fsync of @path's
 * directory: on success @path holds @data for every reader, and the caller,
 * who may still undo it, makes it durable with fs_fsync_dir(). On failure
 * @path is as it was.
 */
int fs_write_visible(const char *path, const void *data, size_t len, const char *tmpdir,
		     bool noreplace, mode_t mode);

/*
 * The first step of fs_write_visible(): @data in a new file of @tmpdir
 * ("write-XXXXXX") with @mode, fsync'ed and closed. *tmp_out (malloc'd)
 * names it: the caller renames it into place or unlinks it.
 */
int fs_write_staged(char **tmp_out, const void *data, size_t len, const char *tmpdir,
		    mode_t mode);

/* The same with the file's permission bits (fs_write_atomic() uses 0644). */
int fs_write_atomic_mode(const char *path, const void *data, size_t len, const char *tmpdir,
			 bool noreplace, mode_t mode);

/* Move @from to @to, failing with MREG_EEXISTS when @to exists. */
int fs_rename_noreplace(const char *from, const char *to);

/* rm -rf; missing is fine. */
int fs_remove_tree(const char *path);

/* True when @path exists (lstat). */
bool fs_exists(const char *path);

/* How many entries the folder @path holds, . and .. aside (0 when it cannot be read). */
size_t fs_count_entries(const char *path);

/* Clear O_NONBLOCK on @fd (F_GETFL, F_SETFL). 0, or -1 with errno set. */
int fs_fd_set_blocking(int fd);

/* Where fs_read_small() puts what it reads (malloc and free when NULL). */
typedef struct {
	void *(*alloc)(size_t size);
	void (*free)(void *p);
} fs_allocator;

/*
 * Read the regular file @path whole into a NUL-terminated buffer from @mem
 * (the caller frees it the same way), refusing a file of more than @max
 * bytes or one that grows while read. A FIFO is refused, not waited on.
 * Returns 0; MREG_EINVALID for a file that is not regular, too large or
 * growing ("PATH: not a regular file", "PATH: larger than MAX bytes", "PATH:
 * grew while being read"); or what the system said ("PATH: strerror", "PATH: read: strerror"): MREG_ENOTFOUND,
 * MREG_EIO, MREG_ENOMEM. For callers that word their own message, errno
 * then says why: EISDIR a folder, EINVAL another file that is not regular,
 * EFBIG too large or growing, ENOMEM, else what open, fstat or read set.
 */
int fs_read_small(char **out, size_t *len, const char *path, size_t max,
		  const fs_allocator *mem);

/* Absolute, normalised form of @path without resolving symlinks (malloc'd). */
char *fs_absolute(const char *path);

/*
 * Seal a blob written to @tmp (still open as @fd): make it read-only and
 * durable, then give it its name @dest. Messages name @tmp for the fsync and
 * @dest for the rename. The caller still owns @fd and, on failure, @tmp.
 */
int fs_seal_blob(int fd, const char *tmp, const char *dest);

/*
 * fs_seal_blob() without the fsync: read-only, writeback started, renamed to
 * @dest. Only for a staging folder whose files are all fsynced before any
 * leaves it (ingest_stage_sync()).
 */
/*
 * Start writing back @fd's dirty pages from @off, @len bytes (0: to the end),
 * without waiting: the disk works while the caller goes on, and a later
 * fsync finds little left. A hint: where the system lacks it, nothing.
 */
void fs_start_writeback(int fd, uint64_t off, uint64_t len);

int fs_seal_blob_unsynced(int fd, const char *tmp, const char *dest);

#endif
