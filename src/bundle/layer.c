/*
 * Tar layers of ModelPack artifacts (docs/spec.md of the model-spec: a tar,
 * tar+gzip or tar+zstd archive per layer) and the tree all layers give.
 * modctl's codec untars a layer into the model folder by the entries' own
 * names (pkg/codec/tar.go ignores the filepath annotation), and so do we.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/path.h"
#include "util/strutil.h"
#include "util/walk.h"
#include "util/dl_archive.h"

#define READ_BLOCK (1u << 20)

/* ---- the tree ---- */

static int grow(void **items, size_t *cap, size_t count, size_t size)
{
	void *p;
	size_t n;

	if (count < *cap)
		return 0;
	if (count >= TREE_ENTRIES_MAX)
		return mreg_seterr(MREG_EINVALID, "more than %u files and folders in one model",
				   TREE_ENTRIES_MAX);
	n = *cap ? *cap * 2 : 64;
	if (!(p = realloc(*items, n * size)))
		return mreg_seterr_nomem();
	*items = p;
	*cap = n;
	return 0;
}

int tree_add_file(model_tree *t, const char *path, uint64_t size, unsigned int mode,
		  const char *digest)
{
	mreg_file *f;
	int rc;

	if (t->file_count + t->dir_count >= TREE_ENTRIES_MAX)
		return mreg_seterr(MREG_EINVALID, "more than %u files and folders in one model",
				   TREE_ENTRIES_MAX);
	if ((rc = grow((void **)&t->files, &t->file_cap, t->file_count, sizeof(*t->files))))
		return rc;
	f = &t->files[t->file_count];
	memset(f, 0, sizeof(*f));
	if (!(f->path = strdup(path)))
		return mreg_seterr_nomem();
	f->size = size;
	f->mode = mode & 0777;
	snprintf(f->digest, sizeof(f->digest), "%s", digest);
	t->file_count++;
	return 0;
}

int tree_add_dir(model_tree *t, const char *path, unsigned int mode)
{
	int rc;

	if (t->file_count + t->dir_count >= TREE_ENTRIES_MAX)
		return mreg_seterr(MREG_EINVALID, "more than %u files and folders in one model",
				   TREE_ENTRIES_MAX);
	if ((rc = grow((void **)&t->dirs, &t->dir_cap, t->dir_count, sizeof(*t->dirs))))
		return rc;
	if (!(t->dirs[t->dir_count].path = strdup(path)))
		return mreg_seterr_nomem();
	t->dirs[t->dir_count].mode = mode & 0777;
	t->dir_count++;
	return 0;
}

int tree_add_link(model_tree *t, const char *path, const char *target)
{
	mreg_link *l;
	int rc;

	if (t->file_count + t->dir_count + t->link_count >= TREE_ENTRIES_MAX)
		return mreg_seterr(MREG_EINVALID, "more than %u files and folders in one model",
				   TREE_ENTRIES_MAX);
	if ((rc = grow((void **)&t->links, &t->link_cap, t->link_count, sizeof(*t->links))))
		return rc;
	l = &t->links[t->link_count];
	l->path = strdup(path);
	l->target = strdup(target);
	if (!l->path || !l->target) {
		free(l->path);
		free(l->target);
		return mreg_seterr_nomem();
	}
	t->link_count++;
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const mreg_file *)a)->path, ((const mreg_file *)b)->path);
}

static int cmp_dir(const void *a, const void *b)
{
	return strcmp(((const tree_dir *)a)->path, ((const tree_dir *)b)->path);
}

static int cmp_link(const void *a, const void *b)
{
	return strcmp(((const mreg_link *)a)->path, ((const mreg_link *)b)->path);
}

static bool is_file(const model_tree *t, const char *path)
{
	mreg_file key = {.path = (char *)path};

	/* bsearch of a NULL array is undefined even with 0 elements (fuzz_layer). */
	return t->file_count &&
	       bsearch(&key, t->files, t->file_count, sizeof(key), cmp_file) != NULL;
}

/* No ancestor folder of @path may be a file. */
static int check_parents(const model_tree *t, const char *path, const char *what)
{
	char buf[4097];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return 0; /* OCI_PATH_RULES bound paths to 4096 */
	memcpy(buf, path, len + 1);
	for (char *slash = strchr(buf, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (is_file(t, buf))
			return mreg_seterr(MREG_EINVALID, "%s: '%s' is a file and also the folder of '%s'",
					   what, buf, path);
		*slash = '/';
	}
	return 0;
}

int tree_finish(model_tree *t, const char *what)
{
	size_t i, n;
	int rc;

	/* qsort of a NULL array is undefined even with 0 elements. */
	if (t->file_count)
		qsort(t->files, t->file_count, sizeof(*t->files), cmp_file);
	if (t->dir_count)
		qsort(t->dirs, t->dir_count, sizeof(*t->dirs), cmp_dir);
	if (t->link_count)
		qsort(t->links, t->link_count, sizeof(*t->links), cmp_link);
	for (i = 0; i < t->file_count; i++) {
		if (i > 0 && !strcmp(t->files[i].path, t->files[i - 1].path))
			return mreg_seterr(MREG_EINVALID, "%s: path '%s' appears twice", what,
					   t->files[i].path);
		if ((rc = check_parents(t, t->files[i].path, what)))
			return rc;
	}
	/* Folders: each once (two layers may both list "sub/"), never a file. */
	for (i = 0, n = 0; i < t->dir_count; i++) {
		if (n > 0 && !strcmp(t->dirs[i].path, t->dirs[n - 1].path)) {
			free(t->dirs[i].path);
			continue;
		}
		t->dirs[n++] = t->dirs[i];
	}
	t->dir_count = n;
	for (i = 0; i < t->dir_count; i++) {
		if (is_file(t, t->dirs[i].path))
			return mreg_seterr(MREG_EINVALID, "%s: '%s' is a file and also a folder", what,
					   t->dirs[i].path);
		if ((rc = check_parents(t, t->dirs[i].path, what)))
			return rc;
	}
	return 0;
}

/* The path of item @i of a sorted list whose items start with their path (files, dirs, links). */
static const char *item_path(const void *base, size_t size, size_t i)
{
	return *(char *const *)((const char *)base + i * size);
}

/* Does a path of the sorted list lie under the folder @dir? */
static bool list_has_under(const void *base, size_t n, size_t size, const char *dir)
{
	size_t len = strlen(dir), lo = 0, hi = n;

	/* The first path not before "dir/": everything under dir sorts from there. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = item_path(base, size, mid);
		int c = strncmp(p, dir, len);
		if (c < 0 || (c == 0 && (unsigned char)p[len] < '/'))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n)
		return false;
	const char *p = item_path(base, size, lo);
	return !strncmp(p, dir, len) && p[len] == '/';
}

static bool holds_something(const model_tree *t, const char *dir)
{
	return list_has_under(t->files, t->file_count, sizeof(*t->files), dir) ||
	       list_has_under(t->dirs, t->dir_count, sizeof(*t->dirs), dir) ||
	       list_has_under(t->links, t->link_count, sizeof(*t->links), dir);
}

int tree_move_to_record(model_tree *t, mreg_record *r)
{
	bool *empty = calloc(t->dir_count + 1, sizeof(*empty));
	size_t n = 0;

	if (!empty)
		return mreg_seterr_nomem();
	/* Decided on the whole tree first: moving a path out would hide it. */
	for (size_t i = 0; i < t->dir_count; i++)
		if ((empty[i] = !holds_something(t, t->dirs[i].path)))
			n++;
	if (n) {
		mreg_dir *dirs = calloc(n, sizeof(*dirs));
		if (!dirs) {
			free(empty);
			return mreg_seterr_nomem();
		}
		for (size_t i = 0, k = 0; i < t->dir_count; i++) {
			if (!empty[i])
				continue;
			dirs[k].path = t->dirs[i].path;
			dirs[k++].mode = t->dirs[i].mode;
			t->dirs[i].path = NULL;
		}
		r->dirs = dirs;
		r->dir_count = n;
		/* What stays in the tree: the folders that hold something. */
		for (size_t i = 0, k = 0; i < t->dir_count; i++)
			if (!empty[i])
				t->dirs[k++] = t->dirs[i];
		t->dir_count -= n;
	}
	free(empty);
	r->files = t->files;
	r->file_count = t->file_count;
	r->links = t->links;
	r->link_count = t->link_count;
	t->files = NULL;
	t->links = NULL;
	t->file_count = t->file_cap = t->link_count = t->link_cap = 0;
	return 0;
}

void tree_dispose(model_tree *t)
{
	for (size_t i = 0; i < t->file_count; i++)
		free(t->files[i].path);
	for (size_t i = 0; i < t->dir_count; i++)
		free(t->dirs[i].path);
	for (size_t i = 0; i < t->link_count; i++) {
		free(t->links[i].path);
		free(t->links[i].target);
	}
	free(t->files);
	free(t->dirs);
	free(t->links);
	memset(t, 0, sizeof(*t));
}

/* ---- expanding a tar layer ---- */

typedef struct {
	const layer_source *src;
	model_tree *t;
	struct archive *a;
	uint8_t *buf;
	hash_ctx *hash;
	uint64_t bytes;       /* of the layer, read so far */
	int src_rc;           /* the source failed (message set) */
	const char *entry;    /* for messages */
	size_t first_file;    /* this layer's files start here in t->files */
} expander;

static int bad_entry(expander *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad_entry(expander *x, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mreg_seterr(code, "%s: entry '%.300s': %s", x->src->what, x->entry, msg);
}

/* The next piece of the layer's bytes, hashed and counted. */
static ssize_t pull_bytes(expander *x)
{
	ssize_t n = x->src->read(x->src->read_ctx, x->buf, READ_BLOCK);

	if (n < 0)
		return x->src_rc = (int)n;
	if (x->bytes + (uint64_t)n > x->src->desc->size)
		return x->src_rc = mreg_seterr(MREG_ECORRUPT,
					       "%s: longer than the %llu bytes the manifest gives",
					       x->src->what,
					       (unsigned long long)x->src->desc->size);
	if (x->hash)
		hash_update(x->hash, x->buf, (size_t)n);
	x->bytes += (uint64_t)n;
	return n;
}

static la_ssize_t read_cb(struct archive *a, void *ctx, const void **out)
{
	expander *x = ctx;
	ssize_t n = pull_bytes(x);

	if (n < 0) {
		sym_archive_set_error(a, EIO, "%s", mreg_error_last());
		return -1;
	}
	*out = x->buf;
	return n;
}

static int archive_fail(expander *x, const char *what)
{
	const char *why = sym_archive_error_string(x->a);

	if (x->src_rc)
		return x->src_rc;
	if (x->entry)
		return bad_entry(x, MREG_ECORRUPT, "%s: %s", what, why ? why : "archive error");
	return mreg_seterr(MREG_EINVALID, "%s: %s: %s", x->src->what, what,
			   why ? why : "archive error");
}

typedef enum {
	NAME_OK,
	NAME_ROOT,
	NAME_ABSOLUTE,
	NAME_DOTDOT,
	NAME_LONG,
	NAME_DOTGIT,
	NAME_MALFORMED,
} name_kind;

/* @raw as a path inside the model: "./" prefixes and a trailing '/' dropped. */
static name_kind normalise(const char *raw, char out[4097])
{
	size_t len;

	if (raw[0] == '/')
		return NAME_ABSOLUTE;
	for (const char *p = raw; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2))
			return NAME_DOTDOT;
		p += n;
		if (*p == '/')
			p++;
	}
	while (raw[0] == '.' && raw[1] == '/') {
		raw += 2;
		while (*raw == '/')
			raw++;
	}
	len = strlen(raw);
	if (len >= 4097)
		return NAME_LONG;
	memcpy(out, raw, len + 1);
	while (len > 0 && out[len - 1] == '/')
		out[--len] = '\0';
	if (len == 0 || !strcmp(out, "."))
		return NAME_ROOT; /* the archive's own "./" */
	if (path_problems(out, PATH_REJECT_DOTGIT | PATH_REJECT_DOTMREG))
		return NAME_DOTGIT;
	return path_is_valid(out, OCI_PATH_RULES) ? NAME_OK : NAME_MALFORMED;
}

static int entry_path(expander *x, const char *raw, char out[4097], bool *root)
{
	name_kind k = normalise(raw, out);

	*root = k == NAME_ROOT;
	switch (k) {
	case NAME_ABSOLUTE:
		return bad_entry(x, MREG_EINVALID, "absolute path (it would land outside)");
	case NAME_DOTDOT:
		return bad_entry(x, MREG_EINVALID, "'..' in the path (it would land outside)");
	case NAME_LONG: return bad_entry(x, MREG_EINVALID, "name too long");
	case NAME_DOTGIT:
		return bad_entry(x, MREG_EINVALID,
				 "inside a .git or .mreg folder, where a file could run as a git "
				 "hook or pass for a store's own");
	case NAME_MALFORMED:
		return bad_entry(x, MREG_EINVALID,
				 "malformed path (empty or '.' parts, control characters or invalid "
				 "UTF-8)");
	default: return 0;
	}
}

static ssize_t entry_read(void *ctx, uint8_t *buf, size_t cap)
{
	expander *x = ctx;
	la_ssize_t n = sym_archive_read_data(x->a, buf, cap);

	return n < 0 ? archive_fail(x, "cannot read") : n;
}

/* Stream the current entry into <stage>/<hex> (or only hash it). */
static int take_file(expander *x, const char *path, struct archive_entry *e)
{
	const char *stage = x->src->stage;
	stream_fd out = {.fd = -1};
	char *tmp = NULL, *dest = NULL, digest[MREG_DIGEST_STRLEN];
	uint8_t raw[SHA256_LEN];
	uint64_t size, got = 0;
	int rc;

	if (!sym_archive_entry_size_is_set(e) || sym_archive_entry_size(e) < 0)
		return bad_entry(x, MREG_EINVALID, "no size");
	size = (uint64_t)sym_archive_entry_size(e);
	/* An uncompressed layer cannot hold more than it is long. */
	if (x->src->form == LAYER_TAR && size > x->src->desc->size)
		return bad_entry(x, MREG_ECORRUPT, "claims %llu bytes but the layer is only %llu "
				 "bytes long",
				 (unsigned long long)size, (unsigned long long)x->src->desc->size);
	if (stage) {
		if ((rc = fs_tmpfile(&tmp, &out.fd, stage, ".entry-")))
			return rc;
		out.name = tmp;
	}
	rc = stream_pump(entry_read, x, stage ? stream_fd_writer : NULL, &out, size, raw, &got,
			 NULL);
	if (rc)
		goto done;
	if (got != size) {
		rc = bad_entry(x, MREG_ECORRUPT, "truncated (%llu of %llu bytes)",
			       (unsigned long long)got, (unsigned long long)size);
		goto done;
	}
	digest_format(digest, raw);
	if (stage) {
		if (!(dest = path_join(stage, digest + 7))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		/* Unsynced: every caller with a store (import, pull) fsyncs the
		 * whole stage in one pass before a blob lands (ingest_stage_sync). */
		if (!fs_exists(dest)) {
			if ((rc = fs_seal_blob_unsynced(out.fd, tmp, dest)))
				goto done;
			free(tmp);
			tmp = NULL;
		}
	}
	rc = tree_add_file(x->t, path, size, sym_archive_entry_perm(e), digest);
done:
	if (out.fd >= 0)
		close(out.fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(dest);
	return rc;
}

/* A hard link: a second path for a file this layer gave earlier. */
static int take_hardlink(expander *x, const char *path, struct archive_entry *e)
{
	char target[4097];
	const char *raw = sym_archive_entry_hardlink(e);

	if (sym_archive_entry_size_is_set(e) && sym_archive_entry_size(e) > 0)
		return bad_entry(x, MREG_EINVALID, "hard link with data of its own");
	if (normalise(raw, target) != NAME_OK)
		return bad_entry(x, MREG_EINVALID, "hard link to '%.200s' (it points outside the model)",
				 raw);
	for (size_t i = x->t->file_count; i-- > x->first_file;) {
		const mreg_file *f = &x->t->files[i];
		if (!strcmp(f->path, target)) {
			char digest[MREG_DIGEST_STRLEN];
			memcpy(digest, f->digest, sizeof(digest));
			return tree_add_file(x->t, path, f->size, sym_archive_entry_perm(e), digest);
		}
	}
	return bad_entry(x, MREG_EINVALID, "hard link to '%.200s', which is not an earlier file of "
			 "this layer",
			 raw);
}

static int take_entry(expander *x, struct archive_entry *e)
{
	mode_t type = sym_archive_entry_filetype(e);
	char path[4097];
	bool root;
	int rc;

	if ((rc = entry_path(x, x->entry, path, &root)))
		return rc;
	if (sym_archive_entry_hardlink(e)) {
		if (root)
			return bad_entry(x, MREG_EINVALID, "hard link where the model folder is");
		return take_hardlink(x, path, e);
	}
	switch (type) {
	case AE_IFDIR:
		return root ? 0 : tree_add_dir(x->t, path, sym_archive_entry_perm(e));
	case AE_IFREG:
		if (root)
			return bad_entry(x, MREG_EINVALID, "a file where the model folder is");
		return take_file(x, path, e);
	case AE_IFLNK: {
		const char *to = sym_archive_entry_symlink(e) ? sym_archive_entry_symlink(e) : "?";
		if (root || !walk_link_inside(path, to))
			return bad_entry(x, MREG_EINVALID,
					 "symbolic link to '%.200s' (it points outside the model)", to);
		return tree_add_link(x->t, path, to);
	}
	case AE_IFCHR:
	case AE_IFBLK:
		return bad_entry(x, MREG_EINVALID, "device file (layers hold regular files, folders "
				 "and links inside the model only)");
	default:
		return bad_entry(x, MREG_EINVALID, "special file (layers hold regular files, folders "
				 "and links inside the model only)");
	}
}

static const char *form_name(oci_layer_form form)
{
	switch (form) {
	case LAYER_TAR_GZIP: return "tar+gzip";
	case LAYER_TAR_ZSTD: return "tar+zstd";
	case LAYER_TAR: return "tar";
	default: return "raw";
	}
}

int layer_expand(model_tree *t, const layer_source *src)
{
	expander x = {.src = src, .t = t, .first_file = t->file_count};
	struct archive_entry *e;
	int rc = 0, r, want;
	ssize_t n;

	if ((rc = dl_archive_need("reading a layer (mreg import, unpack, verify, pull)")))
		return rc;
	x.buf = malloc(READ_BLOCK);
	x.a = sym_archive_read_new();
	if (!x.buf || !x.a || (src->check_digest && !(x.hash = hash_new()))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	/* Only the compression the media type names, and only libarchive's own code. */
	sym_archive_read_support_format_tar(x.a);
	want = ARCHIVE_FILTER_NONE;
	if (src->form == LAYER_TAR_GZIP) {
		sym_archive_read_support_filter_gzip(x.a);
		want = ARCHIVE_FILTER_GZIP;
	} else if (src->form == LAYER_TAR_ZSTD) {
		sym_archive_read_support_filter_zstd(x.a);
		want = ARCHIVE_FILTER_ZSTD;
	}
	if (sym_archive_read_open(x.a, &x, NULL, read_cb, NULL) != ARCHIVE_OK) {
		rc = archive_fail(&x, "not a tar archive");
		goto done;
	}
	if (sym_archive_filter_code(x.a, 0) != want) {
		const char *is = sym_archive_filter_code(x.a, 0) == ARCHIVE_FILTER_NONE
					 ? "not compressed"
					 : sym_archive_filter_name(x.a, 0);
		rc = mreg_seterr(MREG_EINVALID, "%s: the media type says %s, but the data is %s",
				 src->what, form_name(src->form), is ? is : "?");
		goto done;
	}
	for (;;) {
		x.entry = NULL;
		r = sym_archive_read_next_header(x.a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			rc = r == ARCHIVE_WARN && !x.src_rc
				     ? mreg_seterr(MREG_EINVALID, "%s: %s", src->what,
						   sym_archive_error_string(x.a))
				     : archive_fail(&x, "not a tar archive, or a damaged one");
			goto done;
		}
		x.entry = sym_archive_entry_pathname(e);
		if (!x.entry) {
			x.entry = "?";
			rc = bad_entry(&x, MREG_EINVALID, "the name cannot be read");
			goto done;
		}
		if ((rc = take_entry(&x, e)))
			goto done;
	}
	/* What follows the tar's end (padding, the rest of a compressed frame) is the layer's too. */
	x.entry = NULL;
	while ((n = pull_bytes(&x)) > 0)
		;
	if (n < 0) {
		rc = (int)n;
		goto done;
	}
	if (x.bytes != src->desc->size) {
		rc = mreg_seterr(MREG_ECORRUPT, "%s: %llu bytes, the manifest says %llu", src->what,
				 (unsigned long long)x.bytes, (unsigned long long)src->desc->size);
		goto done;
	}
	if (x.hash) {
		uint8_t raw[SHA256_LEN];
		char got[MREG_DIGEST_STRLEN];
		hash_final(x.hash, raw);
		digest_format(got, raw);
		if (strcmp(got, src->desc->digest))
			rc = mreg_seterr(MREG_ECORRUPT,
					 "%s: content does not match its digest (it hashes to %s)",
					 src->what, got);
	}
done:
	if (x.a)
		sym_archive_read_free(x.a);
	hash_free(x.hash);
	free(x.buf);
	return rc;
}

ssize_t layer_mem_read(void *ctx, uint8_t *buf, size_t cap)
{
	layer_mem *m = ctx;
	size_t n = m->len - m->off < cap ? m->len - m->off : cap;

	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

int layer_expand_file(model_tree *t, const char *path, const char *what, oci_layer_form form,
		      const oci_desc *desc, const char *stage)
{
	stream_fd in = {.fd = open(path, O_RDONLY | O_CLOEXEC), .name = path};
	layer_source src = {what, form, desc, false, stream_fd_reader, &in, stage};
	int rc;

	if (in.fd < 0)
		return mreg_seterr_errno("%s", path);
	posix_fadvise(in.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = layer_expand(t, &src);
	close(in.fd);
	return rc;
}

int layer_expand_memory(model_tree *t, const void *data, size_t len, const char *what,
			oci_layer_form form, const oci_desc *desc, const char *stage)
{
	layer_mem m = {data, len, 0};
	layer_source src = {what, form, desc, false, layer_mem_read, &m, stage};

	return layer_expand(t, &src);
}

/* ---- writing the tree layer ---- */

typedef struct {
	char *data;
	size_t len, cap;
} grow_buf;

static la_ssize_t buf_write(struct archive *a, void *ctx, const void *data, size_t len)
{
	grow_buf *b = ctx;

	if (len > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;
		while (cap - b->len < len)
			cap *= 2;
		if (!(p = realloc(b->data, cap))) {
			sym_archive_set_error(a, ENOMEM, "out of memory");
			return -1;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return (la_ssize_t)len;
}

static int tree_entry_put(struct archive *a, struct archive_entry *e, const char *path,
			  const mreg_dir *dir, const mreg_link *link)
{
	sym_archive_entry_clear(e);
	sym_archive_entry_set_pathname(e, path);
	sym_archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFLNK);
	sym_archive_entry_set_perm(e, dir ? dir->mode : 0777);
	if (link)
		sym_archive_entry_set_symlink(e, link->target);
	sym_archive_entry_set_size(e, 0);
	sym_archive_entry_set_mtime(e, 0, 0);
	sym_archive_entry_set_uid(e, 0);
	sym_archive_entry_set_gid(e, 0);
	return sym_archive_write_header(a, e) == ARCHIVE_OK ? 0 : -1;
}

int layer_tree_build(oci_blob *out, const mreg_record *r)
{
	grow_buf b = {0};
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	uint8_t raw[SHA256_LEN];
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!r->dir_count && !r->link_count)
		return 0;
	if ((rc = dl_archive_need("writing the layer of a model's folders and links (mreg package, "
				  "push)")))
		return rc;
	a = sym_archive_write_new();
	e = sym_archive_entry_new();
	if (!a || !e) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	/* As the bundle itself: plain ustar headers, no padding of the last block. */
	if (sym_archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    sym_archive_write_set_bytes_per_block(a, 512) != ARCHIVE_OK ||
	    sym_archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    sym_archive_write_open(a, &b, NULL, buf_write, NULL) != ARCHIVE_OK)
		goto fail;
	/* Folders first, then links (a record puts nothing under either). */
	for (size_t i = 0; i < r->dir_count; i++)
		if (tree_entry_put(a, e, r->dirs[i].path, &r->dirs[i], NULL))
			goto fail;
	for (size_t i = 0; i < r->link_count; i++)
		if (tree_entry_put(a, e, r->links[i].path, NULL, &r->links[i]))
			goto fail;
	if (sym_archive_write_close(a) != ARCHIVE_OK)
		goto fail;
	hash_buffer(raw, b.data, b.len);
	digest_format(out->digest, raw);
	out->data = b.data;
	out->len = b.len;
	b.data = NULL;
	goto done;
fail:
	rc = sym_archive_errno(a) == ENOMEM
		     ? mreg_seterr_nomem()
		     : mreg_seterr(MREG_EIO, "the tree layer: %s",
				   sym_archive_error_string(a) ? sym_archive_error_string(a)
							       : "libarchive error");
done:
	if (a)
		sym_archive_write_free(a);
	sym_archive_entry_free(e);
	free(b.data);
	return rc;
}
