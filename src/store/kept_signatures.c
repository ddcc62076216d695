/*
 * The OMS signatures kept with a version: signatures/NAME/VERSION/sha256-HEX.json
 * (kept_signatures.h, mreg-store(5)). A signature is untrusted input: read
 * bounded, kept only when it is an OMS bundle of exactly the version's files,
 * and checked again each time it is read (an orphan of a crash may sit under
 * a version number later given to other content).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kept_signatures.h"
#include "mreg/oms.h"
#include "store_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/path.h"
#include "util/strutil.h"

#define SIG_DIR "signatures"
#define SIG_PREFIX "sha256-"
#define SIG_SUFFIX ".json"

/* The SHA-256 of @data as 64 hex digits. */
static void sha256_hex(char hex[SHA256_HEXLEN + 1], const void *data, size_t len)
{
	uint8_t raw[SHA256_LEN];
	char digest[MREG_DIGEST_STRLEN];

	hash_buffer(raw, data, len);
	digest_format(digest, raw);
	memcpy(hex, digest + 7, SHA256_HEXLEN + 1);
}

static char *sigs_root(const mreg_store *s)
{
	return path_join(s->dir, SIG_DIR);
}

static char *version_dir(const mreg_store *s, const char *name, const char *version)
{
	return str_printf("%s/" SIG_DIR "/%s/%s", s->dir, name, version);
}

/* "sha256-HEX.json" -> HEX into @hex; false for any other name. */
static bool sig_name_hex(const char *name, char hex[SHA256_HEXLEN + 1])
{
	size_t len = strlen(name);

	if (len != strlen(SIG_PREFIX) + SHA256_HEXLEN + strlen(SIG_SUFFIX) ||
	    strncmp(name, SIG_PREFIX, strlen(SIG_PREFIX)) ||
	    strcmp(name + len - strlen(SIG_SUFFIX), SIG_SUFFIX))
		return false;
	memcpy(hex, name + strlen(SIG_PREFIX), SHA256_HEXLEN);
	hex[SHA256_HEXLEN] = '\0';
	return digest_hex_valid(hex);
}

/* Whether @data is an OMS bundle of exactly @r's files; *why says why not. */
static int sig_check(const char *data, size_t len, const mreg_record *r, const char *name,
		     mreg_oms_bundle **out)
{
	mreg_oms_bundle *b = NULL;
	mreg_oms_verify_options vo = {0};
	size_t checked = 0;
	int rc;

	if ((rc = mreg_oms_bundle_parse(&b, data, len, name)))
		return rc;
	if ((rc = mreg_oms_verify_record(&checked, b, r, &vo))) {
		rc = mreg_error_prefix(rc, "%s: not a signature of %s:%s", name, r->name, r->version);
		mreg_oms_bundle_free(b);
		return rc;
	}
	if (out)
		*out = b;
	else
		mreg_oms_bundle_free(b);
	return 0;
}

/* mkdir @path, fsync its parent when made; *made says whether it was. */
static int make_dir(const char *path, bool *made)
{
	char *parent;
	int rc;

	*made = false;
	if (mkdir(path, 0755) < 0)
		return errno == EEXIST ? 0 : mreg_seterr_errno("%s", path);
	*made = true;
	if (!(parent = fs_dirname(path)))
		return mreg_seterr_nomem();
	rc = fs_fsync_dir(parent);
	free(parent);
	return rc;
}

static void note_drop(kept_sigs_incoming *in, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_drop(kept_sigs_incoming *in, const char *fmt, ...)
{
	va_list ap;

	if (in->dropped++ == 0) {
		va_start(ap, fmt);
		vsnprintf(in->why, sizeof(in->why), fmt, ap);
		va_end(ap);
	}
}

int kept_sigs_keep(mreg_store *s, const mreg_record *r, kept_sigs_incoming *in)
{
	char *root = NULL, *mdir = NULL, *vdir = NULL;
	char digests[MREG_KEPT_SIGNATURES_MAX][SHA256_HEXLEN + 1];
	const char *accepted[MREG_KEPT_SIGNATURES_MAX];
	size_t acc_lens[MREG_KEPT_SIGNATURES_MAX], n = 0, room;
	bool made;
	int rc = 0;

	in->kept = in->dropped = 0;
	in->why[0] = '\0';
	for (size_t i = 0; i < in->count; i++) {
		char name[64], hex[SHA256_HEXLEN + 1];
		bool twin = false;

		if (in->label && in->count == 1)
			snprintf(name, sizeof(name), "%s", in->label);
		else
			snprintf(name, sizeof(name), "OMS signature %zu", i + 1);
		if (in->lens[i] > MREG_OMS_BUNDLE_MAX) {
			note_drop(in, "%s: larger than %u bytes", name, MREG_OMS_BUNDLE_MAX);
			continue;
		}
		if (sig_check(in->data[i], in->lens[i], r, name, NULL)) {
			note_drop(in, "%s", mreg_error_last());
			mreg_error_clear();
			continue;
		}
		sha256_hex(hex, in->data[i], in->lens[i]);
		for (size_t k = 0; k < n; k++)
			twin = twin || !strcmp(digests[k], hex);
		if (twin)
			continue; /* the same bytes once */
		if (n == MREG_KEPT_SIGNATURES_MAX) {
			note_drop(in, "%s: more than %d signatures", name, MREG_KEPT_SIGNATURES_MAX);
			continue;
		}
		memcpy(digests[n], hex, sizeof(hex));
		accepted[n] = in->data[i];
		acc_lens[n++] = in->lens[i];
	}
	if (n == 0)
		return 0;
	root = sigs_root(s);
	mdir = str_printf("%s/%s", root ? root : "", r->name);
	vdir = version_dir(s, r->name, r->version);
	if (!root || !mdir || !vdir) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	made = false;
	if ((rc = make_dir(root, &in->made_root)) || (rc = make_dir(mdir, &in->made_model_dir)) ||
	    (rc = make_dir(vdir, &made))) {
		/* The folders this call made go again (make_dir fails after its
		 * mkdir when the fsync of the parent fails): the store as it was. */
		if (made)
			rmdir(vdir);
		if (in->made_model_dir)
			rmdir(mdir);
		if (in->made_root)
			rmdir(root);
		in->made_model_dir = in->made_root = false;
		goto done;
	}
	if (made)
		in->made_dir = vdir, vdir = NULL;
	room = MREG_KEPT_SIGNATURES_MAX;
	{
		const char *dir = in->made_dir ? in->made_dir : vdir;
		size_t have = fs_count_entries(dir);
		room = have >= room ? 0 : room - have;
		for (size_t i = 0; i < n && rc == 0; i++) {
			char *path = str_printf("%s/" SIG_PREFIX "%s" SIG_SUFFIX, dir, digests[i]);
			if (!path) {
				rc = mreg_seterr_nomem();
				break;
			}
			if (fs_exists(path)) {
				free(path); /* kept already */
				continue;
			}
			if (room == 0) {
				note_drop(in,
					  "OMS signature sha256:%.12s...: %s:%s keeps %d already, the "
					  "most a version keeps",
					  digests[i], r->name, r->version, MREG_KEPT_SIGNATURES_MAX);
				free(path);
				continue;
			}
			/* Visible now, durable with the one fsync of the folder below. */
			rc = fs_write_visible(path, accepted[i], acc_lens[i], s->tmp, true, 0444);
			if (rc == MREG_EEXISTS) {
				mreg_error_clear();
				rc = 0;
				free(path);
				continue;
			}
			if (rc) {
				free(path);
				break;
			}
			in->written[in->kept++] = path;
			room--;
		}
		/* A file whose rename the disk did not confirm is undone with the rest:
		 * the caller fails, so nothing of it may stay. */
		if (rc == 0 && in->kept)
			rc = fs_fsync_dir(dir);
	}
	if (rc)
		kept_sigs_undo(in);
done:
	free(root);
	free(mdir);
	free(vdir);
	return rc;
}

void kept_sigs_undo(kept_sigs_incoming *in)
{
	char *dir = NULL;

	for (size_t i = 0; i < in->kept; i++) {
		if (!dir)
			dir = fs_dirname(in->written[i]);
		unlink(in->written[i]);
		free(in->written[i]);
		in->written[i] = NULL;
	}
	in->kept = 0;
	if (in->made_dir) {
		/* Only the folders this call made: the store as it was. */
		char *mdir = fs_dirname(in->made_dir), *root = mdir ? fs_dirname(mdir) : NULL;
		char *top = root ? fs_dirname(root) : NULL;
		const char *sync = mdir;
		rmdir(in->made_dir);
		if (in->made_model_dir && mdir && rmdir(mdir) == 0) {
			sync = root;
			if (in->made_root && root && rmdir(root) == 0)
				sync = top;
		}
		if (sync)
			fs_fsync_dir(sync);
		free(mdir);
		free(root);
		free(top);
		free(in->made_dir);
		in->made_dir = NULL;
	} else if (dir) {
		fs_fsync_dir(dir);
	}
	free(dir);
}

void kept_sigs_incoming_dispose(kept_sigs_incoming *in)
{
	for (size_t i = 0; i < in->kept; i++)
		free(in->written[i]);
	in->kept = 0;
	free(in->made_dir);
	in->made_dir = NULL;
}

int kept_sigs_add(mreg_kept_signature_added *out, mreg_store *s, const mreg_record *r,
		  const void *data, size_t len, kept_sigs_commit_fn commit, void *ctx)
{
	const char *datas[1] = {data};
	size_t lens[1] = {len};
	kept_sigs_incoming in = {.data = datas, .lens = lens, .count = 1, .label = "the signature"};
	mreg_record *now = NULL;
	char hex[SHA256_HEXLEN + 1], *vdir = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_lock(s)))
		return rc;
	/* The version as it is now, under the lock: deleted meanwhile, or
	 * created again with other files, the signature is checked against that. */
	if ((rc = store_read_version(&now, s, r->name, r->version)) ||
	    (rc = kept_sigs_keep(s, now, &in)))
		goto done;
	if (in.dropped) {
		kept_sigs_undo(&in);
		rc = mreg_seterr(MREG_EINVALID, "cannot keep the signature with %s:%s: %s", now->name,
				 now->version, in.why);
		goto done;
	}
	if (commit && (rc = commit(ctx))) {
		kept_sigs_undo(&in);
		goto done;
	}
	sha256_hex(hex, data, len);
	snprintf(out->digest, sizeof(out->digest), "sha256:%s", hex);
	out->added = in.kept == 1;
	if (!(vdir = version_dir(s, now->name, now->version))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	out->count = fs_count_entries(vdir);
done:
	store_unlock(s);
	kept_sigs_incoming_dispose(&in);
	mreg_record_free(now);
	free(vdir);
	return rc;
}

int mreg_kept_signatures_add(mreg_kept_signature_added *out, mreg_store *s, const mreg_record *r,
			     const void *data, size_t len)
{
	return kept_sigs_add(out, s, r, data, len, NULL, NULL);
}

int kept_sigs_remove(mreg_store *s, const char *name, const char *version)
{
	char *vdir = version_dir(s, name, version), *mdir = NULL;
	int rc;

	if (!vdir)
		return mreg_seterr_nomem();
	if (!fs_exists(vdir)) {
		free(vdir);
		return 0;
	}
	rc = fs_remove_tree(vdir);
	if (rc == 0 && (mdir = fs_dirname(vdir))) {
		if (rmdir(mdir) == 0) {
			char *root = fs_dirname(mdir);
			rc = root ? fs_fsync_dir(root) : mreg_seterr_nomem();
			free(root);
		} else {
			rc = fs_fsync_dir(mdir);
		}
	}
	free(mdir);
	free(vdir);
	return rc;
}

static int cmp_kept(const void *a, const void *b)
{
	return strcmp(((const mreg_kept_signature *)a)->digest,
		      ((const mreg_kept_signature *)b)->digest);
}

/* One entry of the folder: read bounded, its name and content checked. */
static int list_one(mreg_kept_signature *k, const char *dir, const char *entry,
		    const mreg_record *r)
{
	char hex[SHA256_HEXLEN + 1], *data = NULL;
	size_t len = 0;
	mreg_oms_bundle *b = NULL;
	int rc;

	if (!(k->path = path_join(dir, entry)))
		return mreg_seterr_nomem();
	if (!sig_name_hex(entry, hex)) {
		k->problem = str_printf("%s: not a kept signature (a name sha256-HEX.json)", k->path);
		return k->problem ? 0 : mreg_seterr_nomem();
	}
	snprintf(k->digest, sizeof(k->digest), "sha256:%s", hex);
	rc = fs_read_small(&data, &len, k->path, MREG_OMS_BUNDLE_MAX, NULL);
	if (rc == MREG_ENOMEM)
		return rc;
	if (rc == 0) {
		char got[SHA256_HEXLEN + 1];
		sha256_hex(got, data, len);
		if (strcmp(got, hex))
			rc = mreg_seterr(MREG_ECORRUPT,
					 "%s: its bytes have the digest sha256:%s, not the one its "
					 "name says (damaged)",
					 k->path, got);
	}
	if (rc == 0)
		rc = sig_check(data, len, r, k->path, &b);
	free(data);
	if (rc == MREG_ENOMEM)
		return rc;
	if (rc) {
		k->problem = str_dup(mreg_error_last());
		mreg_error_clear();
		return k->problem ? 0 : mreg_seterr_nomem();
	}
	k->method = mreg_oms_bundle_method(b);
	if (mreg_oms_bundle_hint(b) && !(k->hint = str_dup(mreg_oms_bundle_hint(b))))
		rc = mreg_seterr_nomem();
	mreg_oms_bundle_free(b);
	return rc;
}

int mreg_kept_signatures_list(mreg_kept_signature **out, size_t *count, mreg_store *s,
			      const mreg_record *r)
{
	char *dir = version_dir(s, r->name, r->version);
	mreg_kept_signature *list = NULL;
	size_t n = 0;
	DIR *d = NULL;
	struct dirent *e;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (!dir)
		return mreg_seterr_nomem();
	if (!(d = opendir(dir))) {
		rc = errno == ENOENT ? 0 : mreg_seterr_errno("%s", dir);
		goto done;
	}
	if (!(list = calloc(MREG_KEPT_SIGNATURES_MAX, sizeof(*list)))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == MREG_KEPT_SIGNATURES_MAX) {
			rc = mreg_seterr(MREG_ECORRUPT, "%s: more than %d entries (damaged)", dir,
					 MREG_KEPT_SIGNATURES_MAX);
			break;
		}
		rc = list_one(&list[n++], dir, e->d_name, r);
	}
	if (rc)
		goto done;
	qsort(list, n, sizeof(*list), cmp_kept);
	*out = list;
	*count = n;
	list = NULL;
done:
	if (d)
		closedir(d);
	mreg_kept_signatures_free(list, n);
	free(dir);
	return rc;
}

void mreg_kept_signatures_free(mreg_kept_signature *list, size_t count)
{
	if (!list)
		return;
	for (size_t i = 0; i < count; i++) {
		free(list[i].path);
		free(list[i].hint);
		free(list[i].problem);
	}
	free(list);
}

int kept_sigs_read(mreg_store *s, const mreg_record *r, char ***data, size_t **lens,
		   size_t *count)
{
	mreg_kept_signature *list = NULL;
	size_t n = 0;
	int rc;

	*data = NULL;
	*lens = NULL;
	*count = 0;
	if ((rc = mreg_kept_signatures_list(&list, &n, s, r)) || n == 0)
		return rc;
	*data = calloc(n, sizeof(**data));
	*lens = calloc(n, sizeof(**lens));
	if (!*data || !*lens)
		rc = mreg_seterr_nomem();
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (list[i].problem)
			continue;
		/* Read again: the file was checked by the list, and is read-only and
		 * named by its digest; checked once more against that name here. */
		char *bytes = NULL;
		size_t len = 0;
		char hex[SHA256_HEXLEN + 1];
		if ((rc = fs_read_small(&bytes, &len, list[i].path, MREG_OMS_BUNDLE_MAX, NULL)))
			break;
		sha256_hex(hex, bytes, len);
		if (strcmp(hex, list[i].digest + 7)) {
			free(bytes);
			continue; /* changed since it was listed: left out, as a damaged one */
		}
		(*data)[*count] = bytes;
		(*lens)[(*count)++] = len;
	}
	mreg_kept_signatures_free(list, n);
	if (rc) {
		kept_sigs_bytes_free(*data, *lens, *count);
		*data = NULL;
		*lens = NULL;
		*count = 0;
	}
	return rc;
}

void kept_sigs_bytes_free(char **data, size_t *lens, size_t count)
{
	if (data)
		for (size_t i = 0; i < count; i++)
			free(data[i]);
	free(data);
	free(lens);
}

/* Call @fn for every signatures/NAME/VERSION folder. */
typedef int (*version_fn)(void *ctx, mreg_store *s, const char *name, const char *version,
			  const char *path);

static int each_version_dir(mreg_store *s, version_fn fn, void *ctx, bool tidy)
{
	char *root = sigs_root(s);
	DIR *d = NULL;
	struct dirent *e;
	int rc = 0;

	if (!root)
		return mreg_seterr_nomem();
	if (!(d = opendir(root))) {
		rc = errno == ENOENT ? 0 : mreg_seterr_errno("%s", root);
		free(root);
		return rc;
	}
	while (rc == 0 && (e = readdir(d))) {
		char *mdir;
		DIR *md;
		struct dirent *v;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!(mdir = path_join(root, e->d_name))) {
			rc = mreg_seterr_nomem();
			break;
		}
		if (mreg_name_check(e->d_name)) {
			mreg_error_clear();
			rc = fn(ctx, s, NULL, NULL, mdir);
			free(mdir);
			continue;
		}
		if (!(md = opendir(mdir))) {
			rc = fn(ctx, s, NULL, NULL, mdir);
			free(mdir);
			continue;
		}
		while (rc == 0 && (v = readdir(md))) {
			char *vdir;
			if (!strcmp(v->d_name, ".") || !strcmp(v->d_name, ".."))
				continue;
			if (!(vdir = path_join(mdir, v->d_name))) {
				rc = mreg_seterr_nomem();
				break;
			}
			if (mreg_version_check(v->d_name)) {
				mreg_error_clear();
				rc = fn(ctx, s, NULL, NULL, vdir);
			} else {
				rc = fn(ctx, s, e->d_name, v->d_name, vdir);
			}
			free(vdir);
		}
		closedir(md);
		/* An emptied model folder goes (gc made it so, or a crash left it). */
		if (rc == 0 && tidy && rmdir(mdir) == 0)
			fs_fsync_dir(root);
		free(mdir);
	}
	closedir(d);
	free(root);
	return rc;
}

typedef struct {
	int dry_run;
	size_t removed;
} gc_ctx;

static bool has_record(mreg_store *s, const char *name, const char *version)
{
	char *path = store_record_path(s, name, version);
	bool there = path && fs_exists(path);

	free(path);
	return there;
}

static int gc_one(void *ctx, mreg_store *s, const char *name, const char *version,
		  const char *path)
{
	gc_ctx *g = ctx;
	char *parent;
	int rc;

	if (!name || has_record(s, name, version))
		return 0; /* not ours to guess about (fsck names it), or in use */
	g->removed++;
	if (g->dry_run)
		return 0;
	if ((rc = fs_remove_tree(path)))
		return mreg_error_prefix(rc, "%s: the signatures of a version that no longer "
					     "exists cannot be removed", path);
	if (!(parent = fs_dirname(path)))
		return mreg_seterr_nomem();
	rc = fs_fsync_dir(parent);
	free(parent);
	return rc;
}

int kept_sigs_gc(mreg_store *s, int dry_run, size_t *removed)
{
	gc_ctx g = {dry_run, 0};
	int rc = each_version_dir(s, gc_one, &g, !dry_run);

	*removed = g.removed;
	return rc;
}

typedef struct {
	mreg_diag_list *diags;
	size_t problems;
	size_t orphans;
} fsck_ctx;

static int fsck_one(void *ctx, mreg_store *s, const char *name, const char *version,
		    const char *path)
{
	fsck_ctx *f = ctx;
	mreg_record *r = NULL;
	mreg_kept_signature *list = NULL;
	size_t n = 0;
	int rc;

	if (!name) {
		f->problems++;
		return mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-signature",
				     "not a folder of kept signatures (signatures/NAME/VERSION/)");
	}
	if (!has_record(s, name, version)) {
		f->orphans++;
		return mreg_diag_add(f->diags, MREG_DIAG_NOTE, path, 0, 0, "fsck-signature-orphan",
				     "signatures of %s:%s, which does not exist (mreg gc removes "
				     "them)",
				     name, version);
	}
	rc = store_read_version(&r, s, name, version);
	if (rc) {
		/* The record itself is reported by the record checks. */
		mreg_error_clear();
		return rc == MREG_ENOMEM ? rc : 0;
	}
	rc = mreg_kept_signatures_list(&list, &n, s, r);
	if (rc == MREG_ECORRUPT) {
		f->problems++;
		rc = mreg_diag_add(f->diags, MREG_DIAG_ERROR, path, 0, 0, "fsck-signature", "%s",
				   mreg_error_last());
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!list[i].problem)
			continue;
		f->problems++;
		const char *msg = list[i].problem;
		size_t plen = strlen(list[i].path);
		if (!strncmp(msg, list[i].path, plen) && msg[plen] == ':')
			msg += plen + 1 + (msg[plen + 1] == ' ');
		rc = mreg_diag_add(f->diags, MREG_DIAG_ERROR, list[i].path, 0, 0, "fsck-signature",
				   "kept signature of %s:%s damaged: %s", name, version, msg);
	}
	mreg_kept_signatures_free(list, n);
	mreg_record_free(r);
	return rc;
}

int kept_sigs_fsck(mreg_store *s, mreg_diag_list *diags, size_t *problems)
{
	fsck_ctx f = {diags, 0, 0};
	char *root = sigs_root(s);
	int rc;

	if (!root)
		return mreg_seterr_nomem();
	rc = each_version_dir(s, fsck_one, &f, false); /* fsck only reads */
	*problems += f.problems;
	free(root);
	return rc;
}
