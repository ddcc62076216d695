/*
 * Leftovers of killed downloads and packages (see litter.h). A leftover is
 * told from the work of a command still running by a lock: each maker holds
 * an flock(2) on its folder or file from the moment it exists, and the sweep
 * removes only what it can lock itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "litter.h"
#include "mreg/registry.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/strutil.h"

/*
 * Lock what was just made; 1 when a sweep took it in between (it holds the
 * lock while it removes, or has removed it): then the caller makes another.
 */
static int lock_new(int fd, const char *path)
{
	struct stat st;

	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 1 : mreg_seterr_errno("%s: lock", path);
	if (fstat(fd, &st) < 0)
		return mreg_seterr_errno("%s", path);
	return st.st_nlink == 0;
}

int litter_make_dir(char **path, int *lock_fd, const char *prefix, const char *where)
{
	for (;;) {
		int rc = fs_tmpdir(path, prefix, where), fd;

		if (rc)
			return rc;
		fd = open(*path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		rc = fd < 0 ? mreg_seterr_errno("%s", *path) : lock_new(fd, *path);
		if (rc == 0) {
			*lock_fd = fd;
			return 0;
		}
		if (fd >= 0)
			close(fd);
		if (rc < 0) {
			rmdir(*path);
			free(*path);
			*path = NULL;
			return rc;
		}
		free(*path);
		*path = NULL;
	}
}

/* ".<base>.mreg-package-" in the folder of @file, and that folder. */
static int package_prefix(char **dir, char **prefix, const char *file)
{
	const char *slash = strrchr(file, '/');

	*dir = fs_dirname(file);
	*prefix = str_printf(".%s%s", slash ? slash + 1 : file, LITTER_PACKAGE);
	if (!*dir || !*prefix) {
		free(*dir);
		free(*prefix);
		return mreg_seterr_nomem();
	}
	return 0;
}

int litter_make_file(char **path, int *fd, const char *file)
{
	char *dir, *prefix;
	int rc;

	if ((rc = package_prefix(&dir, &prefix, file)))
		return rc;
	for (;;) {
		if ((rc = fs_tmpfile(path, fd, dir, prefix)))
			break;
		if ((rc = lock_new(*fd, *path)) == 0)
			break;
		close(*fd);
		*fd = -1;
		if (rc < 0)
			unlink(*path);
		free(*path);
		*path = NULL;
		if (rc < 0)
			break;
	}
	free(dir);
	free(prefix);
	return rc;
}

/*
 * Remove from @dir every entry named <prefix>XXXXXX (six characters more)
 * that is ours, of the kind expected, and not locked by a running command.
 */
static int sweep(const char *dir, const char *prefix, bool folders, mreg_litter_fn fn, void *ctx)
{
	size_t plen = strlen(prefix);
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : mreg_seterr_errno("%s", dir);
	while ((e = readdir(d)) && rc == 0) {
		struct stat st;
		char *path;
		int fd;

		if (strlen(e->d_name) != plen + 6 || strncmp(e->d_name, prefix, plen))
			continue;
		/* Never a link (O_NOFOLLOW), never someone else's, never a FIFO that blocks. */
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
		    (folders ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) ||
		    flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			continue;
		}
		if (!(path = path_join(dir, e->d_name))) {
			rc = mreg_seterr_nomem();
		} else {
			rc = folders ? fs_remove_tree(path)
				     : unlink(path) < 0 ? mreg_seterr_errno("%s: unlink", path) : 0;
			if (rc == 0 && fn)
				fn(ctx, path);
		}
		free(path);
		close(fd);
	}
	closedir(d);
	return rc;
}

int mreg_download_litter_remove(const char *dir, mreg_litter_fn fn, void *ctx)
{
	char *abs = fs_absolute(dir), *parent = NULL, *prefix = NULL;
	const char *base;
	int rc;

	if (!abs)
		return mreg_seterr_nomem();
	base = strrchr(abs, '/') + 1;
	parent = fs_dirname(abs);
	prefix = str_printf("%s%s", base, LITTER_DOWNLOAD);
	if (!parent || !prefix)
		rc = mreg_seterr_nomem();
	else if (!(rc = sweep(parent, prefix, true, fn, ctx)))
		rc = sweep(abs, LITTER_DOWNLOAD, true, fn, ctx);
	free(abs);
	free(parent);
	free(prefix);
	return rc;
}

int mreg_package_litter_remove(const char *file, mreg_litter_fn fn, void *ctx)
{
	char *dir, *prefix;
	int rc;

	if ((rc = package_prefix(&dir, &prefix, file)))
		return rc;
	rc = sweep(dir, prefix, false, fn, ctx);
	free(dir);
	free(prefix);
	return rc;
}
