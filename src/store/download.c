/*
 * Writing a version's files out of the store. All or nothing: every file is
 * put in a staging folder first (a reflink of its blob, trusted by the blob's
 * digest name; else a copy re-hashed in the same pass; or, when asked, a hard
 * link), with the empty folders and links, and moved into place only when
 * every copy matched its digest and every link was seen to stay inside the
 * folder. --sync makes files and folders durable before success; without it
 * nothing is forced (the target is a working copy).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/pool.h"
#include "mreg/registry.h"
#include "checkout_copy.h"
#include "litter.h"
#include "store_priv.h"
#include "util/strutil.h"

static bool reflink_unsupported(int err)
{
	/* ENOTTY: a filesystem whose ioctl does not know FICLONE at all. */
	return err == EOPNOTSUPP || err == EXDEV || err == EINVAL || err == ENOTTY;
}

/* How write_one() put a file in place. */
typedef enum { PUT_REFLINK, PUT_COPY, PUT_HARDLINK } put_kind;

typedef struct {
	mreg_download_opts *opts; /* read only while the workers run */
	const char *target; /* DIR as given, for messages */
	bool reflink_ok; /* false after the first refusal: do not ask again (atomic) */
} write_ctx;

static int hardlink_one(const mreg_store *s, const mreg_file *f, int in, const char *dest,
			const char *stage, const char *target)
{
	struct stat bst, sst, dst;
	char *blob = NULL;
	int rc;

	if (fstat(in, &bst) < 0 || stat(stage, &sst) < 0)
		return mreg_seterr_errno("%s", dest);
	if (bst.st_dev != sst.st_dev)
		return mreg_seterr(MREG_EUNSUPPORTED,
				   "--link hardlink: the store (%s) and the target (%s) are on different "
				   "filesystems, and a hard link cannot cross them (leave --link out to "
				   "copy)",
				   s->dir, target);
	if (bst.st_mode & 0222)
		return mreg_seterr(MREG_EUNSUPPORTED,
				   "--link hardlink: blob %s is writable (mode %o), and only read-only "
				   "blobs are hard-linked (run mreg fsck)",
				   f->digest, (unsigned)(bst.st_mode & 07777));
	if ((rc = mreg_store_blob_path(&blob, s, f->digest)))
		return rc;
	/* link() does not follow a symbolic link; the inode check makes sure the
	 * name still leads to the blob that was opened and checked. */
	if (link(blob, dest) < 0)
		rc = mreg_seterr_errno("%s: cannot hard-link %s", dest, blob);
	else if (lstat(dest, &dst) < 0 || dst.st_ino != bst.st_ino || dst.st_dev != bst.st_dev)
		rc = mreg_seterr(MREG_ECORRUPT, "%s: blob %s changed while it was linked", f->path,
				 f->digest);
	free(blob);
	return rc;
}

static int write_one(const mreg_store *s, const mreg_file *f, const char *stage,
		     checkout_progress_fn progress, void *pctx, write_ctx *w, put_kind *kind)
{
	mreg_download_opts *o = w->opts;
	char *dest = path_join(stage, f->path), *parent = NULL;
	int in = -1, out = -1, rc;

	if (!dest)
		return mreg_seterr_nomem();
	parent = fs_dirname(dest);
	if (!parent) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = fs_mkdir_p(parent, 0755)))
		goto done;
	if ((rc = store_blob_open(s, f->digest, f->size, &in))) {
		rc = mreg_error_prefix(MREG_ECORRUPT, "%s", f->path);
		goto done;
	}
	if (o->link == MREG_LINK_HARDLINK) {
		if ((rc = hardlink_one(s, f, in, dest, stage, w->target)))
			goto done;
		*kind = PUT_HARDLINK;
		goto done;
	}
	/* Read and write: the copy path hashes what lands in the file. */
	out = open(dest, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = mreg_seterr_errno("%s", dest);
		goto done;
	}
	if (__atomic_load_n(&w->reflink_ok, __ATOMIC_RELAXED) && o->link != MREG_LINK_COPY &&
	    f->size > 0) {
		struct stat st;
		if (ioctl(out, FICLONE, in) == 0) {
			/* The blob was opened as a regular file of its recorded size;
			 * the clone must have that size too. */
			if (fstat(out, &st) < 0 || (uint64_t)st.st_size != f->size) {
				rc = mreg_seterr(MREG_ECORRUPT, "%s: the reflink of blob %s is not %llu bytes",
						 f->path, f->digest, (unsigned long long)f->size);
				goto done;
			}
			*kind = PUT_REFLINK;
			goto finish;
		}
		if (!reflink_unsupported(errno)) {
			rc = mreg_seterr_errno("%s: reflink of blob %s", dest, f->digest);
			goto done;
		}
		if (o->link == MREG_LINK_REFLINK) {
			rc = mreg_seterr(MREG_EUNSUPPORTED,
					 "--link reflink: cannot reflink %s from the store (%s) into %s: %s "
					 "(the filesystem cannot share extents, or the two are on different "
					 "filesystems; leave --link out to copy instead)",
					 f->path, s->dir, w->target, strerror(errno));
			goto done;
		}
		__atomic_store_n(&w->reflink_ok, false, __ATOMIC_RELAXED);
	}
	if (o->link == MREG_LINK_REFLINK && f->size > 0) {
		rc = mreg_seterr(MREG_EUNSUPPORTED, "--link reflink: the filesystem of %s cannot reflink",
				 w->target);
		goto done;
	}
	{
		checkout_copy_job job = {.in_name = f->digest, .out_name = f->path,
					 .digest = f->digest, .size = f->size,
					 .hint = "; store corrupt? run mreg fsck",
					 .progress = progress, .progress_ctx = pctx};
		posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
		if ((rc = checkout_copy_verified(in, out, &job)))
			goto done;
	}
	*kind = PUT_COPY;
finish:
	if (fchmod(out, f->mode) < 0) {
		rc = mreg_seterr_errno("%s: chmod", dest);
		goto done;
	}
	if (o->sync && fsync(out) < 0) {
		rc = mreg_seterr_errno("%s: fsync", dest);
		goto done;
	}
	if (close(out) < 0) {
		out = -1;
		rc = mreg_seterr_errno("%s: write", dest);
		goto done;
	}
	out = -1;
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(dest);
	free(parent);
	return rc;
}

int store_tree_write_extras(const mreg_record *r, const char *root)
{
	int rc = 0;

	for (size_t i = 0; i < r->dir_count && rc == 0; i++) {
		char *path = path_join(root, r->dirs[i].path), *parent = NULL;
		if (!path || !(parent = fs_dirname(path)))
			rc = mreg_seterr_nomem();
		else if (!(rc = fs_mkdir_p(parent, 0755)) && mkdir(path, 0700) < 0)
			rc = mreg_seterr_errno("%s: cannot create the empty folder", path);
		free(path);
		free(parent);
	}
	/* Links last: no file or folder is ever written through one. */
	for (size_t i = 0; i < r->link_count && rc == 0; i++) {
		char *path = path_join(root, r->links[i].path), *parent = NULL;
		if (!path || !(parent = fs_dirname(path)))
			rc = mreg_seterr_nomem();
		else if (!(rc = fs_mkdir_p(parent, 0755)) && symlink(r->links[i].target, path) < 0)
			rc = mreg_seterr_errno("%s: cannot create the symbolic link", path);
		free(path);
		free(parent);
	}
	for (size_t i = 0; i < r->link_count && rc == 0; i++)
		rc = walk_link_check(root, r->links[i].path);
	return rc;
}

int store_tree_dir_modes(const mreg_record *r, const char *root)
{
	for (size_t i = 0; i < r->dir_count; i++) {
		char *path = path_join(root, r->dirs[i].path);
		int rc = 0;
		if (!path)
			return mreg_seterr_nomem();
		if (chmod(path, r->dirs[i].mode) < 0)
			rc = mreg_seterr_errno("%s: chmod", path);
		free(path);
		if (rc)
			return rc;
	}
	return 0;
}

/* Refuse before writing anything when a file or link to write is in the way. */
/*
 * A folder on the way to @rel inside @dir that is a symbolic link would take
 * the write outside the target: refuse it, whatever it points at.
 */
static int check_no_link_on_way(const char *dir, const char *rel)
{
	char *path = path_join(dir, rel);
	struct stat st;
	int rc = 0;

	if (!path)
		return mreg_seterr_nomem();
	for (char *slash = strchr(path + strlen(dir) + 1, '/'); slash && !rc;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			rc = mreg_seterr(MREG_EEXISTS,
					 "%s: is a symbolic link, and download never writes through "
					 "one (it could lead outside the target)",
					 path);
		*slash = '/';
	}
	free(path);
	return rc;
}

static int check_free(const mreg_record *r, const char *dir)
{
	size_t n = r->file_count + r->dir_count + r->link_count;

	for (size_t i = 0; i < n; i++) {
		const char *rel = i < r->file_count ? r->files[i].path
				  : i < r->file_count + r->dir_count
				      ? r->dirs[i - r->file_count].path
				      : r->links[i - r->file_count - r->dir_count].path;
		char *path;
		struct stat st;
		int rc = check_no_link_on_way(dir, rel);
		if (rc)
			return rc;
		if (!(path = path_join(dir, rel)))
			return mreg_seterr_nomem();
		/* An empty folder that is there already is simply kept. */
		if (lstat(path, &st) == 0 &&
		    !(i >= r->file_count && i < r->file_count + r->dir_count && S_ISDIR(st.st_mode)))
			rc = mreg_seterr(MREG_EEXISTS, "%s: already exists (download never overwrites)",
					 path);
		free(path);
		if (rc)
			return rc;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * --sync: after the files (each fsynced as it was written), every folder the
 * download wrote an entry into, up to and including @root, and the folder that
 * holds @root, so the names survive a crash too.
 */
static int sync_folders(const mreg_record *r, const char *root, bool with_parent)
{
	size_t n = r->file_count + r->dir_count + r->link_count + (with_parent ? 1 : 0);
	size_t count = 0, cap = 16, entries = r->file_count + r->dir_count + r->link_count;
	char **dirs = malloc(cap * sizeof(*dirs));
	int rc = 0;

	if (!dirs)
		return mreg_seterr_nomem();
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *rel = i == entries ? "" : i < r->file_count ? r->files[i].path
					 : i < r->file_count + r->dir_count
					     ? r->dirs[i - r->file_count].path
					     : r->links[i - r->file_count - r->dir_count].path;
		/* the entry itself when it is a folder, and every folder above it */
		char *p = i == entries ? fs_dirname(root) : path_join(root, rel);
		bool is_dir = i == entries || (i >= r->file_count && i < r->file_count + r->dir_count);
		if (p && !is_dir) {
			char *up = fs_dirname(p);
			free(p);
			p = up;
		}
		while (p && rc == 0) {
			if (count == cap) {
				char **more = realloc(dirs, (cap *= 2) * sizeof(*dirs));
				if (!more) {
					free(p);
					rc = mreg_seterr_nomem();
					break;
				}
				dirs = more;
			}
			dirs[count++] = p;
			if (i == entries || strlen(p) <= strlen(root))
				break;
			p = fs_dirname(p);
		}
		if (!p && rc == 0)
			rc = mreg_seterr_nomem();
	}
	qsort(dirs, count, sizeof(*dirs), cmp_str);
	for (size_t i = 0; i < count && rc == 0; i++)
		if (i == 0 || strcmp(dirs[i], dirs[i - 1]))
			rc = fs_fsync_dir(dirs[i]);
	for (size_t i = 0; i < count; i++)
		free(dirs[i]);
	free(dirs);
	return rc;
}

/* What move_tree() put in place, to be taken back if a later step fails. */
typedef struct {
	size_t files, links;
	bool *dir_made; /* the empty folders it created (not those already there) */
} moved_set;

static void unmove(const mreg_record *r, const char *dir, const moved_set *m)
{
	for (size_t i = 0; i < m->files + m->links; i++) {
		char *to = path_join(dir, i < m->files ? r->files[i].path
						       : r->links[i - m->files].path);
		if (to)
			unlink(to);
		free(to);
	}
	for (size_t i = 0; m->dir_made && i < r->dir_count; i++) {
		char *to = m->dir_made[i] ? path_join(dir, r->dirs[i].path) : NULL;
		if (to)
			rmdir(to);
		free(to);
	}
}

/* Move one staged entry into an existing folder. */
static int move_one(const char *stage, const char *dir, const char *rel)
{
	char *from = path_join(stage, rel), *to = path_join(dir, rel);
	char *parent = to ? fs_dirname(to) : NULL;
	int rc;

	if (!from || !to || !parent)
		rc = mreg_seterr_nomem();
	else if (!(rc = fs_mkdir_p(parent, 0755)))
		rc = fs_rename_noreplace(from, to);
	free(from);
	free(to);
	free(parent);
	return rc;
}

/*
 * Move the staged files and links into an existing folder and make the empty
 * folders there; undo it all if one step fails. Links are checked again where
 * they land, among what the folder held already.
 */
static int move_tree(const mreg_record *r, const char *stage, const char *dir, bool sync)
{
	moved_set m = {0, 0, calloc(r->dir_count + 1, sizeof(bool))};
	int rc = 0;

	if (!m.dir_made)
		return mreg_seterr_nomem();
	for (; m.files < r->file_count && rc == 0; m.files++)
		if ((rc = move_one(stage, dir, r->files[m.files].path)))
			break;
	for (size_t i = 0; i < r->dir_count && rc == 0; i++) {
		char *to = path_join(dir, r->dirs[i].path), *parent = to ? fs_dirname(to) : NULL;
		if (!to || !parent)
			rc = mreg_seterr_nomem();
		else if (!(rc = fs_mkdir_p(parent, 0755))) {
			if (mkdir(to, 0700) == 0)
				m.dir_made[i] = true;
			else if (errno != EEXIST)
				rc = mreg_seterr_errno("%s: cannot create the empty folder", to);
		}
		free(to);
		free(parent);
	}
	for (; m.links < r->link_count && rc == 0; m.links++)
		if ((rc = move_one(stage, dir, r->links[m.links].path)))
			break;
	for (size_t i = 0; i < r->link_count && rc == 0; i++)
		rc = walk_link_check(dir, r->links[i].path);
	for (size_t i = 0; i < r->dir_count && rc == 0; i++) {
		char *to = m.dir_made[i] ? path_join(dir, r->dirs[i].path) : NULL;
		if (m.dir_made[i] && (!to || chmod(to, r->dirs[i].mode) < 0))
			rc = to ? mreg_seterr_errno("%s: chmod", to) : mreg_seterr_nomem();
		free(to);
	}
	/* --sync: confirmed durable, or taken back */
	if (rc == 0 && sync)
		rc = sync_folders(r, dir, true);
	if (rc)
		unmove(r, dir, &m);
	free(m.dir_made);
	return rc;
}

/*
 * The files are written by a small pool (cores x 2, at most 8): a small file
 * costs a few syscalls and waits on the filesystem, so several go at once; a
 * large one is copied on a second thread of its own while its worker hashes
 * it (checkout_copy_verified), at most two such at a time. The error kept is
 * that of the lowest file index, as a serial loop would report it.
 */
#define LARGE_MIN (8u << 20)
#define LARGE_MAX 2

typedef struct {
	const mreg_store *s;
	const mreg_record *r;
	const char *stage;
	write_ctx *w;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next, large;
	pool_fail fail;
	mreg_progress_fn fn;
	void *fn_ctx;
	uint64_t done, shown; /* bytes of finished files; the last figure shown */
} put_pool;

typedef struct {
	put_pool *p;
	uint64_t now; /* this file's bytes verified so far */
} put_file;

/* Under p->mu: the callback sees one figure that only grows. */
static void pool_show(put_pool *p, uint64_t now)
{
	if (p->fn && now > p->shown) {
		p->shown = now;
		p->fn(p->fn_ctx, now, p->r->total_size);
	}
}

static void file_progress(void *ctx, uint64_t done)
{
	put_file *pf = ctx;

	pthread_mutex_lock(&pf->p->mu);
	pf->now = done;
	pool_show(pf->p, pf->p->done + done);
	pthread_mutex_unlock(&pf->p->mu);
}

/* Take the next file and put it in place; false when there is none left (or a failure). */
static bool put_next(put_pool *p)
{
	put_file pf = {p, 0};
	put_kind kind = PUT_COPY;
	bool large;
	size_t i;
	int rc;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->next >= p->r->file_count || p->fail.at != SIZE_MAX) {
			pthread_mutex_unlock(&p->mu);
			return false;
		}
		i = p->next;
		large = p->r->files[i].size >= LARGE_MIN;
		if (!large || p->large < LARGE_MAX)
			break;
		pthread_cond_wait(&p->cv, &p->mu); /* then look again: another may have taken it */
	}
	p->next++;
	p->large += large;
	pthread_mutex_unlock(&p->mu);

	rc = mreg_check_interrupt();
	if (rc == 0)
		rc = write_one(p->s, &p->r->files[i], p->stage, p->fn ? file_progress : NULL, &pf,
			       p->w, &kind);
	pthread_mutex_lock(&p->mu);
	if (large) {
		p->large--;
		pthread_cond_broadcast(&p->cv);
	}
	if (rc == 0) {
		mreg_download_opts *o = p->w->opts;
		o->reflinked += kind == PUT_REFLINK;
		o->copied += kind == PUT_COPY;
		o->hardlinked += kind == PUT_HARDLINK;
		p->done += p->r->files[i].size;
		pool_show(p, p->done);
	}
	pthread_mutex_unlock(&p->mu);
	if (rc)
		pool_fail_note(&p->fail, &p->mu, i, rc);
	return rc == 0;
}

static void *put_main(void *arg)
{
	while (put_next(arg))
		;
	return NULL;
}

static int write_files(const mreg_store *s, const mreg_record *r, const char *stage,
		       write_ctx *w, mreg_progress_fn fn, void *ctx)
{
	put_pool p = {.s = s, .r = r, .stage = stage, .w = w, .mu = PTHREAD_MUTEX_INITIALIZER,
		      .cv = PTHREAD_COND_INITIALIZER, .fail = POOL_FAIL_INIT, .fn = fn,
		      .fn_ctx = ctx};

	/* Up to the first file with content, alone: whether the filesystem
	 * reflinks is learnt once, and FICLONE is not asked again after a refusal. */
	while (p.next < r->file_count && p.fail.at == SIZE_MAX) {
		bool empty = r->files[p.next].size == 0;
		if (!put_next(&p) || !empty)
			break;
	}
	pool_run(pool_threads(r->file_count, POOL_THREADS_MAX), put_main, &p);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	return pool_fail_result(&p.fail);
}

int mreg_model_download(mreg_store *s, const mreg_record *r, const char *dir,
			mreg_progress_fn fn, void *ctx)
{
	return mreg_model_download_opts(s, r, dir, NULL, fn, ctx);
}

int mreg_model_download_opts(mreg_store *s, const mreg_record *r, const char *dir,
			     mreg_download_opts *opts, mreg_progress_fn fn, void *ctx)
{
	mreg_download_opts defaults = {0};
	write_ctx w = {opts ? opts : &defaults, dir, true};
	char *abs = fs_absolute(dir), *parent = NULL, *prefix = NULL, *stage = NULL;
	struct stat st;
	bool exists;
	int rc = 0, lock_fd = -1;

	if (!abs)
		return mreg_seterr_nomem();
	if (lstat(abs, &st) == 0 && S_ISLNK(st.st_mode)) {
		rc = mreg_seterr(MREG_EEXISTS,
				 "%s: is a symbolic link, and download never writes through one (give "
				 "the folder it points at)",
				 dir);
		goto done;
	}
	exists = stat(abs, &st) == 0;
	if (exists && !S_ISDIR(st.st_mode)) {
		rc = mreg_seterr(MREG_EEXISTS, "%s: exists and is not a folder", dir);
		goto done;
	}
	if (exists) {
		if ((rc = check_free(r, abs)))
			goto done;
		prefix = str_printf("%s/" LITTER_DOWNLOAD, abs);
	} else {
		parent = fs_dirname(abs);
		if (!parent) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		if ((rc = fs_mkdir_p(parent, 0755)))
			goto done;
		prefix = str_printf("%s" LITTER_DOWNLOAD, abs);
	}
	/* Locked while we work: mreg_download_litter_remove() leaves it alone. */
	rc = prefix ? litter_make_dir(&stage, &lock_fd, prefix, dir) : mreg_seterr_nomem();
	if (rc)
		goto done;
	if ((rc = write_files(s, r, stage, &w, fn, ctx)))
		goto done;
	if ((rc = store_tree_write_extras(r, stage)))
		goto done;
	if (exists) {
		rc = move_tree(r, stage, abs, w.opts->sync);
	} else if (!(rc = store_tree_dir_modes(r, stage))) {
		mode_t mask = umask(0);
		umask(mask);
		chmod(stage, 0777 & ~mask);
		/* --sync: the folders are the same after the rename; only the
		 * folder that holds DIR is left, and a failure there takes the
		 * rename back. */
		if (w.opts->sync && (rc = sync_folders(r, stage, false)))
			goto done;
		rc = fs_rename_noreplace(stage, abs);
		if (rc == 0 && w.opts->sync && (rc = fs_fsync_dir(parent))) {
			if (rename(abs, stage) < 0) {
				/* cannot take it back: it stays, and the error says so */
				rc = mreg_error_prefix(rc, "%s: written, but not confirmed durable", dir);
				free(stage);
				stage = NULL;
			}
		} else if (rc == 0) {
			free(stage);
			stage = NULL;
		}
	}
done:
	if (stage) {
		fs_remove_tree(stage);
		free(stage);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	free(abs);
	free(parent);
	free(prefix);
	return rc;
}
