/* Store maintenance: fsck (check everything) and gc (drop what nothing uses). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "mreg/registry.h"
#include "record_priv.h"
#include "store_priv.h"
#include "util/strutil.h"

/* The digests (hex part) that records reference, sorted for bsearch. */
typedef struct {
	char **hex;
	size_t count;
} digest_set;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int digest_set_build(digest_set *set, mreg_record **recs, size_t n)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		total += recs[i]->file_count;
	set->hex = calloc(total ? total : 1, sizeof(*set->hex));
	if (!set->hex)
		return mreg_seterr_nomem();
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < recs[i]->file_count; j++)
			set->hex[k++] = recs[i]->files[j].digest + 7; /* borrowed */
	qsort(set->hex, k, sizeof(*set->hex), cmp_str);
	set->count = k;
	return 0;
}

static bool digest_set_has(const digest_set *set, const char *hex)
{
	return bsearch(&hex, set->hex, set->count, sizeof(*set->hex), cmp_str) != NULL;
}

typedef struct {
	mreg_diag_list *diags;
	size_t problems;
} fsck_ctx;

static void on_damaged(void *ctx, const char *path, int code, const char *message)
{
	fsck_ctx *f = ctx;
	unsigned int line = 0, col = 0;
	size_t len = strlen(path);
	int used = 0;

	(void)code;
	/* Record errors read "PATH[:LINE:COL]: reason": move the place into the
	 * diagnostic's own fields so the path is printed once. */
	if (!strncmp(message, path, len) && message[len] == ':') {
		message += len + 1;
		if (sscanf(message, "%u:%u: %n", &line, &col, &used) == 2 && used > 0)
			message += used;
		else
			line = col = 0;
		while (*message == ' ')
			message++;
	}
	mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, line, col, "fsck-record", "%s", message);
	f->problems++;
}

static int check_records(fsck_ctx *f, mreg_store *s, mreg_record **recs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mreg_record *r = recs[i];
		char *path = store_record_path(s, r->name, r->version);
		char *stored = str_dup(r->digest);
		int rc;

		if (!path || !stored) {
			free(path);
			free(stored);
			return mreg_seterr_nomem();
		}
		if ((rc = record_compute_digest(r))) {
			free(path);
			free(stored);
			return rc;
		}
		if (strcmp(stored, r->digest)) {
			mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-record-digest",
				      "content digest %s does not match its files (%s)", stored,
				      r->digest);
			f->problems++;
		}
		size_t absent = 0, first_absent = 0;
		for (size_t j = 0; j < r->file_count; j++) {
			char *blob = path_join(s->blobs, r->files[j].digest + 7);
			struct stat st;
			if (!blob)
				continue;
			if (stat(blob, &st) < 0) {
				if (absent++ == 0)
					first_absent = j;
			} else if ((uint64_t)st.st_size != r->files[j].size) {
				mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-blob-size",
					      "%s:%s file '%s': blob %s has %llu bytes, the record "
					      "says %llu",
					      r->name, r->version, r->files[j].path, r->files[j].digest,
					      (unsigned long long)st.st_size,
					      (unsigned long long)r->files[j].size);
				f->problems++;
			}
			free(blob);
		}
		/* Records can arrive without their blobs (git clone): say which
		 * versions are incomplete here rather than calling the store corrupt. */
		if (absent) {
			mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-blobs-absent",
				      "%s:%s: %zu of %zu file%s not present in this store, e.g. '%s' "
				      "(%s); import a bundle of this version, or re-create it",
				      r->name, r->version, absent, r->file_count,
				      r->file_count == 1 ? " is" : "s are", r->files[first_absent].path,
				      r->files[first_absent].digest);
			f->problems++;
		}
		free(path);
		free(stored);
	}
	return 0;
}

static int check_blobs(fsck_ctx *f, mreg_fsck_result *res, mreg_store *s, const digest_set *refs)
{
	DIR *d = opendir(s->blobs);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return mreg_seterr_errno("%s", s->blobs);
	while ((e = readdir(d)) && rc == 0) {
		char *path;
		char want[MREG_DIGEST_STRLEN], got[MREG_DIGEST_STRLEN];
		uint8_t raw[SHA256_LEN];
		uint64_t size = 0;
		struct stat st;
		int fd;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!(path = path_join(s->blobs, e->d_name)))
			return mreg_seterr_nomem();
		if (!digest_hex_valid(e->d_name)) {
			mreg_diag_add(f->diags, MREG_DIAG_WARNING, path, 0, 0, "fsck-stray",
				      "not a blob (its name is not a sha256 digest)");
			free(path);
			continue;
		}
		/* Never follow a link or read a FIFO or device: a blob is a file. */
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			if (fd >= 0 || errno == ELOOP)
				mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0,
					      "fsck-blob-not-file",
					      "not a regular file (a link, FIFO or device where a blob "
					      "should be): remove it, then fetch the blob again");
			else
				mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0,
					      "fsck-blob-unreadable", "cannot read blob: %s",
					      strerror(errno));
			if (fd >= 0)
				close(fd);
			f->problems++;
			free(path);
			continue;
		}
		if (stream_copy(fd, path, -1, NULL, raw, &size, NULL) == 0) {
			snprintf(want, sizeof(want), "sha256:%.64s", e->d_name);
			digest_format(got, raw);
			res->blobs++;
			res->bytes += size;
			if (strcmp(want, got)) {
				mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-blob-digest",
					      "blob %s: digest mismatch, its content hashes to %s "
					      "(store corrupt)",
					      want, got);
				f->problems++;
			}
		} else {
			mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-blob-unreadable",
				      "%s", mreg_error_last());
			f->problems++;
		}
		close(fd);
		if (!digest_set_has(refs, e->d_name))
			res->unreferenced++;
		free(path);
	}
	closedir(d);
	return rc;
}

/* Entries of the folder @dir/@name (0 when it cannot be read). */
static size_t count_entries(const char *dir, const char *name)
{
	char *path = path_join(dir, name);
	DIR *d = path ? opendir(path) : NULL;
	struct dirent *e;
	size_t n = 0;

	free(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static size_t count_tmp(const mreg_store *s)
{
	DIR *d = opendir(s->tmp);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "ingest.lock"))
			continue;
		/* pull keeps verified blobs of a cut transfer in tmp/partial/ to
		 * resume; the folder itself is no leftover, only what it holds. */
		if (!strcmp(e->d_name, STORE_PARTIAL_DIR)) {
			n += count_entries(s->tmp, STORE_PARTIAL_DIR);
			continue;
		}
		n++;
	}
	closedir(d);
	return n;
}

int mreg_store_fsck(mreg_fsck_result *res, mreg_store *s, mreg_diag_list *diags)
{
	fsck_ctx f = {diags, 0};
	mreg_record **recs = NULL;
	digest_set refs = {0};
	size_t n = 0, leftovers;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = mreg_model_list(&recs, &n, s, NULL, MREG_LIST_ALL, on_damaged, &f);
	if (rc && rc != MREG_ECORRUPT)
		return rc;
	res->records = n;
	if ((rc = check_records(&f, s, recs, n)) || (rc = digest_set_build(&refs, recs, n)))
		goto done;
	if ((rc = check_blobs(&f, res, s, &refs)) || (rc = store_check_aliases(s, diags, &f.problems)))
		goto done;
	leftovers = count_tmp(s);
	if (leftovers)
		mreg_diag_add(diags, MREG_DIAG_NOTE, s->tmp, 0, 0, "fsck-tmp",
			      "%zu leftover file%s of interrupted writes (mreg gc removes them)",
			      leftovers, leftovers == 1 ? "" : "s");
	if (res->unreferenced)
		mreg_diag_add(diags, MREG_DIAG_NOTE, s->blobs, 0, 0, "fsck-unreferenced",
			      "%zu blob%s no record uses (mreg gc removes them)", res->unreferenced,
			      res->unreferenced == 1 ? "" : "s");
	res->problems = f.problems;
done:
	free(refs.hex);
	mreg_record_array_free(recs, n);
	return rc;
}

static void on_damaged_gc(void *ctx, const char *path, int code, const char *message)
{
	(void)path;
	(void)code;
	(void)message;
	(*(size_t *)ctx)++;
}

int mreg_store_gc(mreg_gc_result *res, mreg_store *s, int dry_run, mreg_gc_fn fn, void *ctx)
{
	mreg_record **recs = NULL;
	digest_set refs = {0};
	size_t n = 0, damaged = 0;
	DIR *d = NULL;
	struct dirent *e;
	int rc;

	memset(res, 0, sizeof(*res));
	/* Exclusive ingest lock: waits for every create in progress to finish. */
	if ((rc = store_ingest_lock(s, true)))
		return rc;
	if ((rc = store_lock(s))) {
		store_ingest_unlock(s);
		return rc;
	}
	rc = mreg_model_list(&recs, &n, s, NULL, MREG_LIST_ALL, on_damaged_gc, &damaged);
	if (rc == MREG_ECORRUPT || damaged) {
		rc = mreg_seterr(MREG_ECORRUPT,
				 "%zu record%s cannot be read, so gc cannot tell which blobs are in "
				 "use; nothing removed (run mreg fsck)",
				 damaged, damaged == 1 ? "" : "s");
		goto done;
	}
	if (rc || (rc = digest_set_build(&refs, recs, n)))
		goto done;
	if (!(d = opendir(s->blobs))) {
		rc = mreg_seterr_errno("%s", s->blobs);
		goto done;
	}
	while ((e = readdir(d))) {
		char digest[MREG_DIGEST_STRLEN];
		struct stat st;
		if (!digest_hex_valid(e->d_name))
			continue;
		if (digest_set_has(&refs, e->d_name)) {
			res->blobs_kept++;
			continue;
		}
		if (fstatat(dirfd(d), e->d_name, &st, 0) < 0)
			continue;
		snprintf(digest, sizeof(digest), "sha256:%.64s", e->d_name);
		if (!dry_run && unlinkat(dirfd(d), e->d_name, 0) < 0) {
			rc = mreg_seterr_errno("blob %s: cannot remove", digest);
			goto done;
		}
		res->blobs_removed++;
		res->bytes_removed += (uint64_t)st.st_size;
		if (fn)
			fn(ctx, digest, (uint64_t)st.st_size);
	}
	closedir(d);
	/* No create runs (we hold the ingest lock), so all of tmp/ is leftovers. */
	if (!(d = opendir(s->tmp))) {
		rc = mreg_seterr_errno("%s", s->tmp);
		goto done;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, "ingest.lock"))
			continue;
		if (!dry_run) {
			char *p = path_join(s->tmp, e->d_name);
			if (p)
				fs_remove_tree(p);
			free(p);
		}
		res->tmp_removed++;
	}
done:
	if (d)
		closedir(d);
	store_unlock(s);
	store_ingest_unlock(s);
	free(refs.hex);
	mreg_record_array_free(recs, n);
	return rc;
}
