#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_priv.h"
#include "fsutil.h"
#include "strutil.h"

int fs_mkdir_p(const char *path, mode_t mode)
{
	char *copy = strdup(path);
	int rc = 0;

	if (!copy)
		return mreg_seterr_nomem();
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST) {
			rc = mreg_seterr_errno("%s: cannot create directory", copy);
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	if (rc == 0) {
		struct stat st;
		if (stat(path, &st) < 0)
			rc = mreg_seterr_errno("%s", path);
		else if (!S_ISDIR(st.st_mode))
			rc = mreg_seterr(MREG_EIO, "%s: not a directory", path);
	}
	free(copy);
	return rc;
}

int fs_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return mreg_seterr_errno("%s: open", path);
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = mreg_seterr_errno("%s: fsync", path);
	close(fd);
	return rc;
}

char *fs_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int fs_tmpfile(char **path_out, int *fd_out, const char *dir, const char *prefix)
{
	char *path = str_printf("%s/%sXXXXXX", dir, prefix);
	int fd;

	if (!path)
		return mreg_seterr_nomem();
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		int rc = mreg_seterr_errno("%s: cannot create a temporary file", dir);
		free(path);
		return rc;
	}
	*path_out = path;
	*fd_out = fd;
	return 0;
}

int fs_tmpdir(char **path_out, const char *prefix, const char *where)
{
	char *path = str_printf("%sXXXXXX", prefix);

	*path_out = NULL;
	if (!path)
		return mreg_seterr_nomem();
	if (!mkdtemp(path)) {
		int rc = mreg_seterr_errno("%s: cannot create a staging folder", where);
		free(path);
		return rc;
	}
	*path_out = path;
	return 0;
}

int fs_rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST)
		return mreg_seterr(MREG_EEXISTS, "%s: already exists", to);
	if (errno != EINVAL && errno != ENOSYS)
		return mreg_seterr_errno("%s: rename", to);
	/* File systems without RENAME_NOREPLACE: link() refuses to replace too. */
	if (link(from, to) < 0) {
		if (errno == EEXIST)
			return mreg_seterr(MREG_EEXISTS, "%s: already exists", to);
		return mreg_seterr_errno("%s: link", to);
	}
	unlink(from);
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, const char *tmpdir,
		    bool noreplace)
{
	return fs_write_atomic_mode(path, data, len, tmpdir, noreplace, 0644);
}

int fs_write_atomic_mode(const char *path, const void *data, size_t len, const char *tmpdir,
			 bool noreplace, mode_t mode)
{
	char *dir;
	int rc = fs_write_visible(path, data, len, tmpdir, noreplace, mode);

	if (rc)
		return rc;
	dir = fs_dirname(path);
	rc = dir ? fs_fsync_dir(dir) : mreg_seterr_nomem();
	free(dir);
	return rc;
}

int fs_write_staged(char **tmp_out, const void *data, size_t len, const char *tmpdir,
		    mode_t mode)
{
	char *tmp = NULL;
	const char *p = data;
	int fd = -1, rc;

	*tmp_out = NULL;
	rc = fs_tmpfile(&tmp, &fd, tmpdir, "write-");
	if (rc)
		return rc;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mreg_seterr_errno("%s: write", tmp);
			goto done;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		rc = mreg_seterr_errno("%s: fsync", tmp);
		goto done;
	}
	*tmp_out = tmp;
	tmp = NULL;
done:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return rc;
}

int fs_write_visible(const char *path, const void *data, size_t len, const char *tmpdir,
		     bool noreplace, mode_t mode)
{
	char *tmp = NULL;
	int rc;

	if ((rc = fs_write_staged(&tmp, data, len, tmpdir, mode)))
		return rc;
	if (noreplace) {
		rc = fs_rename_noreplace(tmp, path);
	} else if (rename(tmp, path) < 0) {
		rc = mreg_seterr_errno("%s: rename", path);
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int remove_at(int at, const char *name)
{
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : mreg_seterr_errno("%s", name);
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d;
		struct dirent *e;
		int rc = 0;

		if (fd < 0)
			return mreg_seterr_errno("%s", name);
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			return mreg_seterr_errno("%s", name);
		}
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if ((rc = remove_at(dirfd(d), e->d_name)))
				break;
		}
		closedir(d);
		if (rc)
			return rc;
		if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return mreg_seterr_errno("%s: rmdir", name);
		return 0;
	}
	if (unlinkat(at, name, 0) < 0 && errno != ENOENT)
		return mreg_seterr_errno("%s: unlink", name);
	return 0;
}

int fs_remove_tree(const char *path)
{
	return remove_at(AT_FDCWD, path);
}

bool fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

size_t fs_count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

int fs_fd_set_blocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

char *fs_absolute(const char *path)
{
	strbuf sb = STRBUF_INIT;
	char cwd[PATH_MAX];
	char *src, *save = NULL, *tok;
	char **parts;
	size_t n = 0;

	if (path[0] == '/') {
		src = strdup(path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		src = path_join(cwd, path);
	}
	if (!src)
		return NULL;
	parts = calloc(strlen(src) / 2 + 2, sizeof(*parts));
	if (!parts) {
		free(src);
		return NULL;
	}
	for (tok = strtok_r(src, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			if (n > 0)
				n--;
			continue;
		}
		parts[n++] = tok;
	}
	if (n == 0)
		strbuf_puts(&sb, "/");
	for (size_t i = 0; i < n; i++) {
		strbuf_puts(&sb, "/");
		strbuf_puts(&sb, parts[i]);
	}
	free(parts);
	free(src);
	return strbuf_detach(&sb);
}

int fs_read_small(char **out, size_t *len, const char *path, size_t max,
		  const fs_allocator *mem)
{
	void (*release)(void *) = mem ? mem->free : free;
	struct stat st;
	char *buf = NULL;
	size_t size, got = 0;
	int fd, rc = 0, err = 0;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return mreg_seterr_errno("%s", path);
	if (fstat(fd, &st) < 0) {
		rc = mreg_seterr_errno("%s", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		rc = mreg_seterr(MREG_EINVALID, "%s: not a regular file", path);
		goto done;
	}
	if ((uint64_t)st.st_size > max) {
		err = EFBIG;
		rc = mreg_seterr(MREG_EINVALID, "%s: larger than %zu bytes", path, max);
		goto done;
	}
	size = (size_t)st.st_size;
	buf = mem ? mem->alloc(size + 1) : malloc(size + 1);
	if (!buf) {
		err = ENOMEM;
		rc = mreg_seterr_nomem();
		goto done;
	}
	/* One byte more than fstat promised: a file still growing is refused, not chased. */
	for (;;) {
		ssize_t n = read(fd, buf + got, size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mreg_seterr_errno("%s: read", path);
			goto done;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > size) {
			err = EFBIG;
			rc = mreg_seterr(MREG_EINVALID, "%s: grew while being read", path);
			goto done;
		}
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
done:
	if (!err)
		err = errno;
	if (buf)
		release(buf);
	close(fd);
	if (rc)
		errno = err;
	return rc;
}

void fs_start_writeback(int fd, uint64_t off, uint64_t len)
{
#ifdef SYNC_FILE_RANGE_WRITE
	sync_file_range(fd, (off64_t)off, (off64_t)len, SYNC_FILE_RANGE_WRITE);
#else
	(void)fd; (void)off; (void)len;
#endif
}

int fs_seal_blob_unsynced(int fd, const char *tmp, const char *dest)
{
	if (fchmod(fd, 0444) < 0)
		return mreg_seterr_errno("%s", tmp);
	fs_start_writeback(fd, 0, 0);
	if (rename(tmp, dest) < 0)
		return mreg_seterr_errno("%s: rename", dest);
	return 0;
}

int fs_seal_blob(int fd, const char *tmp, const char *dest)
{
	if (fchmod(fd, 0444) < 0 || fsync(fd) < 0)
		return mreg_seterr_errno("%s: fsync", tmp);
	if (rename(tmp, dest) < 0)
		return mreg_seterr_errno("%s: rename", dest);
	return 0;
}

int fs_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset, const char *what)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mreg_seterr_errno("%s: write", what);
		done += (size_t)n;
	}
	return 0;
}
