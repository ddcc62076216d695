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
#include "util/pool.h"
#include "mreg/registry.h"
#include "digest_set.h"
#include "kept_signatures.h"
#include "record_iter.h"
#include "record_priv.h"
#include "store_priv.h"
#include "util/strutil.h"

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

/*
 * One record's files as they stream by (record_stream_file()): the blob of
 * each looked up, its line of the content digest hashed, its layer in a
 * manifest counted. What is found is kept until the record has been read
 * whole: a record that turns out damaged is reported as such instead.
 */
typedef struct {
	char *path;
	char digest[MREG_DIGEST_STRLEN];
	uint64_t blob_size, size;
} size_mismatch;

typedef struct {
	hash_ctx *content;
	size_t files, absent;
	uint64_t layers;
	char *first_absent;
	char first_absent_digest[MREG_DIGEST_STRLEN];
	size_mismatch *mismatches;
	size_t nmismatch, mismatch_cap;
} record_files;

static void record_files_reset(record_files *rf)
{
	hash_free(rf->content);
	free(rf->first_absent);
	for (size_t i = 0; i < rf->nmismatch; i++)
		free(rf->mismatches[i].path);
	free(rf->mismatches);
	memset(rf, 0, sizeof(*rf));
}

static int note_mismatch(record_files *rf, const mreg_file *f, uint64_t blob_size)
{
	size_mismatch *m;

	if (!array_room(&rf->mismatches, &rf->mismatch_cap, rf->nmismatch, sizeof(*rf->mismatches),
			8))
		return mreg_seterr_nomem();
	m = &rf->mismatches[rf->nmismatch];
	if (!(m->path = strdup(f->path)))
		return mreg_seterr_nomem();
	memcpy(m->digest, f->digest, sizeof(m->digest));
	m->blob_size = blob_size;
	m->size = f->size;
	rf->nmismatch++;
	return 0;
}

/* One file of the record being read (NULL: a record begins). */
static int check_file(record_files *rf, const char *blobs, const mreg_file *f)
{
	char *blob;
	struct stat st;
	int rc = 0;

	if (!f) {
		record_files_reset(rf);
		return (rf->content = hash_new()) ? 0 : mreg_seterr_nomem();
	}
	rf->files++;
	rf->layers += record_layer_len(f->path);
	if ((rc = record_digest_add_file(rf->content, f)))
		return rc;
	if (!(blob = path_join(blobs, f->digest + 7)))
		return mreg_seterr_nomem();
	if (stat(blob, &st) < 0) {
		if (rf->absent++ == 0) {
			memcpy(rf->first_absent_digest, f->digest, MREG_DIGEST_STRLEN);
			if (!(rf->first_absent = strdup(f->path)))
				rc = mreg_seterr_nomem();
		}
	} else if ((uint64_t)st.st_size != f->size) {
		rc = note_mismatch(rf, f, (uint64_t)st.st_size);
	}
	free(blob);
	return rc;
}

/*
 * One record's checks, once it has been read whole: its content digest, its
 * blobs present with their sizes, and whether it keeps mreg's limits.
 */
static int check_record(fsck_ctx *f, mreg_store *s, mreg_record *r, record_files *rf)
{
	char *path = store_record_path(s, r->name, r->version);
	char *stored = str_dup(r->digest);
	uint8_t raw[SHA256_LEN];
	int rc = 0;

	if (!path || !stored) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	/* Files alone were hashed as they came; with empty folders or links the
	 * record was read with its files (record_stream_file()). */
	if (r->dir_count || r->link_count) {
		if ((rc = record_compute_digest(r)))
			goto done;
	} else {
		free(r->digest);
		hash_final(rf->content, raw);
		if (!(r->digest = malloc(MREG_DIGEST_STRLEN))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		digest_format(r->digest, raw);
	}
	if (strcmp(stored, r->digest)) {
		mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-record-digest",
			      "content digest %s does not match its files (%s)", stored,
			      r->digest);
		f->problems++;
	}
	for (size_t j = 0; j < rf->nmismatch; j++) {
		const size_mismatch *m = &rf->mismatches[j];
		mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-blob-size",
			      "%s:%s file '%s': blob %s has %llu bytes, the record says %llu",
			      r->name, r->version, m->path, m->digest,
			      (unsigned long long)m->blob_size, (unsigned long long)m->size);
		f->problems++;
	}
	/* Records can arrive without their blobs (git clone): say which
	 * versions are incomplete here rather than calling the store corrupt. */
	if (rf->absent) {
		mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-blobs-absent",
			      "%s:%s: %zu of %zu file%s not present in this store, e.g. '%s' "
			      "(%s); import a bundle of this version, or re-create it",
			      r->name, r->version, rf->absent, rf->files,
			      rf->files == 1 ? " is" : "s are", rf->first_absent,
			      rf->first_absent_digest);
		f->problems++;
	}
	/* A record that came through git may hold more than create, import or
	 * pull let in: it reads, and gc keeps its blobs, but it cannot be
	 * packaged or pushed. */
	if (record_check_limits_counted(r, rf->files, rf->layers, NULL) == MREG_EINVALID)
		mreg_diag_add(f->diags, MREG_DIAG_WARNING, path, 0, 0, "fsck-record-limits",
			      "%s:%s is over mreg's limits for a version (%s): it reads and gc "
			      "keeps its blobs, but package and push refuse it",
			      r->name, r->version, mreg_error_last());
done:
	free(stored);
	free(path);
	return rc;
}

/*
 * fsck reads the blob folder in batches; a pool hashes a batch's blobs (two
 * per CPU, so both cores hash), then the findings are reported in the
 * folder's order, as one thread would.
 */
enum { FSCK_BATCH = 1024 };

typedef enum {
	BLOB_OK,
	BLOB_STRAY,       /* not a digest's name: not opened */
	BLOB_NOT_FILE,    /* a link, FIFO or device */
	BLOB_UNOPENABLE,  /* open failed: err */
	BLOB_UNREADABLE,  /* reading failed: message */
	BLOB_MISMATCH,    /* its content hashes to got */
} blob_state;

typedef struct {
	char name[256];
	blob_state state;
	int err;
	char *message;
	char got[MREG_DIGEST_STRLEN];
	uint64_t size;
} fsck_item;

typedef struct {
	fsck_item *items;
	size_t count;
	const char *blobs;
} fsck_batch;

static void fsck_check_item(const char *blobs, fsck_item *it)
{
	char *path = path_join(blobs, it->name);
	char want[MREG_DIGEST_STRLEN];
	uint8_t raw[SHA256_LEN];
	struct stat st;
	int fd;

	if (!path) {
		it->state = BLOB_UNREADABLE;
		it->message = NULL; /* out of memory: said by the caller */
		return;
	}
	/* Never follow a link or read a FIFO or device: a blob is a file. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		it->err = errno;
		it->state = fd >= 0 || errno == ELOOP ? BLOB_NOT_FILE : BLOB_UNOPENABLE;
	} else if (stream_copy(fd, path, -1, NULL, raw, &it->size, NULL) == 0) {
		snprintf(want, sizeof(want), "sha256:%.64s", it->name);
		digest_format(it->got, raw);
		it->state = strcmp(want, it->got) ? BLOB_MISMATCH : BLOB_OK;
	} else {
		it->state = BLOB_UNREADABLE;
		it->message = strdup(mreg_error_last());
	}
	if (fd >= 0)
		close(fd);
	free(path);
}

static void fsck_each(void *ctx, size_t i)
{
	fsck_batch *b = ctx;

	if (b->items[i].state != BLOB_STRAY)
		fsck_check_item(b->blobs, &b->items[i]);
}

/* Check one batch on the pool, then report it in order. */
static int fsck_run_batch(fsck_batch *b, fsck_ctx *f, mreg_fsck_result *res,
			  const digest_set *refs)
{
	int rc = 0;

	pool_each(fsck_each, b, b->count);
	for (size_t i = 0; i < b->count; i++) {
		fsck_item *it = &b->items[i];
		char *path = path_join(b->blobs, it->name);
		if (!path) {
			rc = mreg_seterr_nomem();
		} else if (it->state == BLOB_STRAY) {
			mreg_diag_add(f->diags, MREG_DIAG_WARNING, path, 0, 0, "fsck-stray",
				      "not a blob (its name is not a sha256 digest)");
		} else if (it->state == BLOB_NOT_FILE) {
			mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-blob-not-file",
				      "not a regular file (a link, FIFO or device where a blob "
				      "should be): remove it, then fetch the blob again");
			f->problems++;
		} else if (it->state == BLOB_UNOPENABLE) {
			mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-blob-unreadable",
				      "cannot read blob: %s", strerror(it->err));
			f->problems++;
		} else if (it->state == BLOB_UNREADABLE) {
			if (!it->message)
				rc = mreg_seterr_nomem();
			else
				mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0,
					      "fsck-blob-unreadable", "%s", it->message);
			f->problems++;
		} else {
			res->blobs++;
			res->bytes += it->size;
			if (it->state == BLOB_MISMATCH) {
				mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-blob-digest",
					      "blob sha256:%.64s: digest mismatch, its content hashes "
					      "to %s (store corrupt)",
					      it->name, it->got);
				f->problems++;
			}
		}
		/* A blob that was read (whatever it held) and that nothing names. */
		if ((it->state == BLOB_OK || it->state == BLOB_MISMATCH ||
		     it->state == BLOB_UNREADABLE) && !digest_set_has(refs, it->name))
			res->unreferenced++;
		free(it->message);
		it->message = NULL;
		free(path);
	}
	b->count = 0;
	return rc;
}

static int check_blobs(fsck_ctx *f, mreg_fsck_result *res, mreg_store *s, const digest_set *refs)
{
	fsck_batch b = {.blobs = s->blobs};
	DIR *d = opendir(s->blobs);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return mreg_seterr_errno("%s", s->blobs);
	if (!(b.items = calloc(FSCK_BATCH, sizeof(*b.items)))) {
		closedir(d);
		return mreg_seterr_nomem();
	}
	while (rc == 0 && (e = readdir(d))) {
		fsck_item *it = &b.items[b.count];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		memset(it, 0, sizeof(*it));
		snprintf(it->name, sizeof(it->name), "%s", e->d_name);
		it->state = digest_hex_valid(e->d_name) ? BLOB_OK : BLOB_STRAY;
		if (++b.count == FSCK_BATCH)
			rc = fsck_run_batch(&b, f, res, refs);
	}
	if (rc == 0 && b.count)
		rc = fsck_run_batch(&b, f, res, refs);
	free(b.items);
	closedir(d);
	return rc;
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
			char *partial = path_join(s->tmp, STORE_PARTIAL_DIR);
			n += partial ? fs_count_entries(partial) : 0;
			free(partial);
			continue;
		}
		n++;
	}
	closedir(d);
	return n;
}

/* fsck's walk over the records: checks go to their own list, reported after the damaged ones. */
typedef struct {
	fsck_ctx damaged; /* records that cannot be read (the caller's list) */
	fsck_ctx checks;  /* the readable records' checks */
	mreg_store *s;
	digest_set refs;
	size_t records;
	record_files files; /* the record being read */
} fsck_walk;

/* A file of the record being read: checked, and its blob noted as in use. */
static int fsck_file(void *ctx, const mreg_file *file)
{
	fsck_walk *w = ctx;
	int rc = check_file(&w->files, w->s->blobs, file);

	/* A damaged record's digests stay in the set: a blob it names is not
	 * called unreferenced, gc would not remove it either. */
	return rc ? rc : file ? digest_set_add(&w->refs, file->digest + 7) : 0;
}

static int fsck_one(void *ctx, mreg_record **r)
{
	fsck_walk *w = ctx;

	w->records++;
	return check_record(&w->checks, w->s, *r, &w->files);
}

static void fsck_damaged(void *ctx, const char *path, int code, const char *message)
{
	on_damaged(&((fsck_walk *)ctx)->damaged, path, code, message);
}

int mreg_store_fsck(mreg_fsck_result *res, mreg_store *s, mreg_diag_list *diags)
{
	fsck_walk w = {{diags, 0}, {NULL, 0}, s, DIGEST_SET_INIT, 0, {0}};
	fsck_ctx f = {diags, 0};
	size_t leftovers;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = mreg_diag_list_new(&w.checks.diags)))
		return rc;
	/* One record in memory at a time, in listing order, its files streamed. */
	rc = store_each_record(s, NULL, true, fsck_one, fsck_file, fsck_damaged, &w);
	if (rc && rc != MREG_ECORRUPT)
		goto done;
	rc = 0;
	res->records = w.records;
	for (size_t i = 0; i < mreg_diag_count(w.checks.diags); i++) {
		const mreg_diag *d = mreg_diag_get(w.checks.diags, i);
		if ((rc = mreg_diag_add(diags, d->severity, d->file, d->line, d->column, d->code,
					"%s", d->message)))
			goto done;
	}
	f.problems = w.damaged.problems + w.checks.problems;
	digest_set_seal(&w.refs);
	if ((rc = check_blobs(&f, res, s, &w.refs)) || (rc = store_check_aliases(s, diags, &f.problems)) ||
	    (rc = kept_sigs_fsck(s, diags, &f.problems)))
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
	mreg_diag_list_free(w.checks.diags);
	digest_set_dispose(&w.refs);
	record_files_reset(&w.files);
	return rc;
}

/*
 * gc's removal pool. The directory is read by the calling thread, the
 * unreferenced names gathered in batches; for each batch, workers (two per
 * CPU, at most eight, the calling thread among them) take names in turn,
 * fstatat() each (for the size gc reports, and to skip a name gone
 * meanwhile, as before) and unlink it. Then the batch is reported in
 * directory order. unlink needs the inode anyway, so the fstatat just
 * before it costs little, and it only runs on the blobs being removed.
 */
enum { GC_BATCH = 4096 };

typedef struct {
	char name[2 * SHA256_LEN + 1];
	uint64_t size;
	int err; /* 0 removed (or would be), -1 gone before it was reached, else errno of unlink */
} gc_item;

typedef struct {
	gc_item *items;
	size_t count;
	int dirfd;
	bool dry_run;
} gc_batch;

static void gc_each(void *ctx, size_t i)
{
	gc_batch *b = ctx;
	gc_item *it = &b->items[i];
	struct stat st;

	if (fstatat(b->dirfd, it->name, &st, 0) < 0) {
		it->err = -1;
		return;
	}
	it->size = (uint64_t)st.st_size;
	it->err = !b->dry_run && unlinkat(b->dirfd, it->name, 0) < 0 ? errno : 0;
}

/* Remove one batch, then report it in order; 0 or the first unlink failure. */
static int gc_run_batch(gc_batch *b, mreg_gc_result *res, mreg_gc_fn fn, void *ctx)
{
	int rc = 0;

	pool_each(gc_each, b, b->count);
	for (size_t i = 0; i < b->count; i++) {
		const gc_item *it = &b->items[i];
		char digest[MREG_DIGEST_STRLEN];
		if (it->err < 0)
			continue;
		snprintf(digest, sizeof(digest), "sha256:%.64s", it->name);
		if (it->err > 0) {
			if (!rc) {
				errno = it->err;
				rc = mreg_seterr_errno("blob %s: cannot remove", digest);
			}
			continue;
		}
		res->blobs_removed++;
		res->bytes_removed += it->size;
		if (fn)
			fn(ctx, digest, it->size);
	}
	b->count = 0;
	return rc;
}

static int gc_blobs(mreg_gc_result *res, mreg_store *s, const digest_set *refs, int dry_run,
		    mreg_gc_fn fn, void *ctx)
{
	gc_batch b = {.dry_run = dry_run};
	DIR *d = opendir(s->blobs);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return mreg_seterr_errno("%s", s->blobs);
	b.dirfd = dirfd(d);
	if (!(b.items = malloc(GC_BATCH * sizeof(*b.items)))) {
		closedir(d);
		return mreg_seterr_nomem();
	}
	while (rc == 0 && (e = readdir(d))) {
		if (!digest_hex_valid(e->d_name))
			continue;
		if (digest_set_has(refs, e->d_name)) {
			res->blobs_kept++;
			continue;
		}
		memcpy(b.items[b.count].name, e->d_name, sizeof(b.items[b.count].name));
		b.items[b.count].err = 0;
		b.items[b.count].size = 0;
		if (++b.count == GC_BATCH)
			rc = gc_run_batch(&b, res, fn, ctx);
	}
	if (rc == 0 && b.count)
		rc = gc_run_batch(&b, res, fn, ctx);
	free(b.items);
	closedir(d);
	return rc;
}

typedef struct {
	digest_set refs;
	size_t damaged;
} gc_walk;

static void on_damaged_gc(void *ctx, const char *path, int code, const char *message)
{
	(void)path;
	(void)code;
	(void)message;
	((gc_walk *)ctx)->damaged++;
}

/* Each file of each record as it is read: its blob is in use. */
static int gc_add_ref(void *ctx, const mreg_file *file)
{
	return file ? digest_set_add(&((gc_walk *)ctx)->refs, file->digest + 7) : 0;
}

/* The files were counted as they came (gc_add_ref). */
static int gc_record(void *ctx, mreg_record **r)
{
	(void)ctx;
	(void)r;
	return 0;
}

int mreg_store_gc(mreg_gc_result *res, mreg_store *s, int dry_run, mreg_gc_fn fn, void *ctx)
{
	gc_walk w = {DIGEST_SET_INIT, 0};
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
	/* One record in memory at a time, its files streamed; only the digests
	 * are kept. A record that cannot be read stops gc below. */
	rc = store_each_record(s, NULL, false, gc_record, gc_add_ref, on_damaged_gc, &w);
	if (rc == MREG_ECORRUPT || w.damaged) {
		rc = mreg_seterr(MREG_ECORRUPT,
				 "%zu record%s cannot be read, so gc cannot tell which blobs are in "
				 "use; nothing removed (run mreg fsck)",
				 w.damaged, w.damaged == 1 ? "" : "s");
		goto done;
	}
	if (rc)
		goto done;
	digest_set_seal(&w.refs);
	if ((rc = gc_blobs(res, s, &w.refs, dry_run, fn, ctx)) ||
	    (rc = kept_sigs_gc(s, dry_run, &res->signatures_removed)))
		goto done;
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
			rc = p ? fs_remove_tree(p) : mreg_seterr_nomem();
			/* Say what was done before the failure: the blobs are gone. */
			if (rc)
				mreg_error_prefix(rc, "%s: a leftover of an interrupted write cannot be "
						      "removed (%zu blob%s and %zu leftover%s removed before)",
						  p ? p : e->d_name, res->blobs_removed,
						  res->blobs_removed == 1 ? "" : "s", res->tmp_removed,
						  res->tmp_removed == 1 ? "" : "s");
			free(p);
			if (rc)
				goto done;
		}
		res->tmp_removed++;
	}
done:
	if (d)
		closedir(d);
	store_unlock(s);
	store_ingest_unlock(s);
	digest_set_dispose(&w.refs);
	return rc;
}
