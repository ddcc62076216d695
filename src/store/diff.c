/*
 * mreg_tree_scan: a folder hashed into the record it would give, nothing
 * written. mreg_diff_records: what differs between two records, path by
 * path (files, empty folders, links in one merge of three sorted lists) and
 * field by field.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mreg/diff.h"
#include "record_priv.h"
#include "statcache.h"
#include "store_priv.h"
#include "util/error_priv.h"
#include "util/hash.h"
#include "util/stream.h"
#include "util/strutil.h"
#include "util/walk.h"

/* Hash one file of the walk, refusing anything that stopped being the regular file it was. */
static int hash_file(const walk_file *wf, mreg_file *out, statcache *cache)
{
	stream_fd in = {.fd = open(wf->abs, O_RDONLY | O_NONBLOCK | O_CLOEXEC), .name = wf->abs};
	uint8_t raw[SHA256_LEN];
	uint64_t size = 0;
	struct stat st;
	int rc;

	if (in.fd < 0)
		return mreg_seterr_errno("%s", wf->abs);
	if (fstat(in.fd, &st) < 0)
		rc = mreg_seterr_errno("%s", wf->abs);
	else if (!S_ISREG(st.st_mode))
		rc = mreg_seterr(MREG_EINVALID, "%s: not a regular file", wf->abs);
	else
		rc = 0;
	if (rc) {
		close(in.fd);
		return rc;
	}
	if (statcache_lookup(cache, &st, raw)) {
		size = (uint64_t)st.st_size;
		close(in.fd);
		goto named;
	}
	fcntl(in.fd, F_SETFL, fcntl(in.fd, F_GETFL) & ~O_NONBLOCK);
	posix_fadvise(in.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = stream_pump(stream_fd_reader, &in, NULL, NULL, (uint64_t)st.st_size, raw, &size, NULL);
	close(in.fd);
	if (rc)
		return rc;
	if (size != (uint64_t)st.st_size)
		return mreg_seterr(MREG_EINVALID, "%s: the file changed while it was being read",
				   wf->abs);
named:
	digest_format(out->digest, raw);
	out->size = size;
	out->mode = wf->mode;
	return (out->path = strdup(wf->rel)) ? 0 : mreg_seterr_nomem();
}

int mreg_tree_scan(mreg_record **out, const char *path, mreg_diag_list *diags)
{
	return mreg_tree_scan_cached(out, NULL, path, diags);
}

int mreg_tree_scan_cached(mreg_record **out, mreg_store *store, const char *path,
			  mreg_diag_list *diags)
{
	walk_result walk = {0};
	mreg_record *r = NULL;
	statcache *cache = NULL;
	int rc;

	*out = NULL;
	if (store && (rc = statcache_open(&cache, store->dir, store->tmp, false)))
		return rc;
	if ((rc = walk_model(&walk, path, diags)))
		return rc == MREG_ENOTFOUND ? mreg_seterr(rc, "%s: no such file or folder", path) : rc;
	if (mreg_diag_count_severity(diags, MREG_DIAG_ERROR)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: cannot read the model (see the errors above)",
				 path);
		goto done;
	}
	if (!(r = calloc(1, sizeof(*r))) ||
	    !(r->files = calloc(walk.count ? walk.count : 1, sizeof(*r->files))) ||
	    (walk.dir_count && !(r->dirs = calloc(walk.dir_count, sizeof(*r->dirs)))) ||
	    (walk.link_count && !(r->links = calloc(walk.link_count, sizeof(*r->links))))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	r->source.git_dirty = -1;
	for (size_t i = 0; i < walk.count && !rc; i++) {
		if ((rc = mreg_check_interrupt()))
			break;
		if ((rc = hash_file(&walk.files[i], &r->files[i], cache)) == 0)
			r->file_count = i + 1;
	}
	for (size_t i = 0; i < walk.dir_count && !rc; i++) {
		r->dirs[i].mode = walk.dirs[i].mode;
		if (!(r->dirs[i].path = strdup(walk.dirs[i].rel)))
			rc = mreg_seterr_nomem();
		r->dir_count = i + 1;
	}
	for (size_t i = 0; i < walk.link_count && !rc; i++) {
		r->links[i].path = strdup(walk.links[i].rel);
		r->links[i].target = strdup(walk.links[i].target);
		r->link_count = i + 1;
		if (!r->links[i].path || !r->links[i].target)
			rc = mreg_seterr_nomem();
	}
	if (!rc)
		rc = record_compute_digest(r);
done:
	statcache_free(cache);
	walk_result_dispose(&walk);
	if (rc)
		mreg_record_free(r);
	else
		*out = r;
	return rc;
}

/* ---- differences ---- */

/* One side's entry at a path: at most one of the three is set. */
typedef struct {
	const mreg_file *file;
	const mreg_dir *dir;
	const mreg_link *link;
} side;

static const char *side_path(const side *s)
{
	return s->file ? s->file->path : s->dir ? s->dir->path : s->link ? s->link->path : NULL;
}

static const char *side_kind(const side *s)
{
	return s->file ? "file" : s->dir ? "folder" : s->link ? "link" : NULL;
}

/* The next entry of a record in path order, from three sorted lists. */
typedef struct {
	const mreg_record *r;
	size_t f, d, l;
} cursor;

static int pcmp(const char *a, const char *b)
{
	return !a ? (b ? 1 : 0) : !b ? -1 : strcmp(a, b);
}

static side peek(const cursor *c)
{
	const char *fp = c->f < c->r->file_count ? c->r->files[c->f].path : NULL;
	const char *dp = c->d < c->r->dir_count ? c->r->dirs[c->d].path : NULL;
	const char *lp = c->l < c->r->link_count ? c->r->links[c->l].path : NULL;
	side s = {0};

	if (fp && pcmp(fp, dp) <= 0 && pcmp(fp, lp) <= 0)
		s.file = &c->r->files[c->f];
	else if (dp && pcmp(dp, lp) <= 0)
		s.dir = &c->r->dirs[c->d];
	else if (lp)
		s.link = &c->r->links[c->l];
	return s;
}

static void advance(cursor *c, const side *s)
{
	if (s->file)
		c->f++;
	else if (s->dir)
		c->d++;
	else if (s->link)
		c->l++;
}

static bool same_side(const side *a, const side *b)
{
	if (a->file && b->file)
		return !strcmp(a->file->digest, b->file->digest) && a->file->mode == b->file->mode;
	if (a->dir && b->dir)
		return a->dir->mode == b->dir->mode;
	if (a->link && b->link)
		return !strcmp(a->link->target, b->link->target);
	return false;
}

static int add_entry(mreg_diff *d, size_t *cap, mreg_diff_change change, const side *a,
		     const side *b)
{
	mreg_diff_entry *e;

	if (d->entry_count == *cap) {
		size_t n = *cap ? *cap * 2 : 16;
		mreg_diff_entry *p = realloc(d->entries, n * sizeof(*p));
		if (!p)
			return mreg_seterr_nomem();
		d->entries = p;
		*cap = n;
	}
	e = &d->entries[d->entry_count];
	memset(e, 0, sizeof(*e));
	if (!(e->path = strdup(side_path(a->file || a->dir || a->link ? a : b))))
		return mreg_seterr_nomem();
	e->change = change;
	e->old_kind = side_kind(a);
	e->new_kind = side_kind(b);
	e->old_file = a->file;
	e->new_file = b->file;
	e->old_dir = a->dir;
	e->new_dir = b->dir;
	e->old_link = a->link;
	e->new_link = b->link;
	d->entry_count++;
	if (change == MREG_DIFF_ADDED)
		d->added++;
	else if (change == MREG_DIFF_REMOVED)
		d->removed++;
	else
		d->modified++;
	return 0;
}

static int add_field(mreg_diff *d, const char *field, const char *a, const char *b)
{
	mreg_diff_field *p;

	if (!pcmp(a, b))
		return 0;
	if (!(p = realloc(d->fields, (d->field_count + 1) * sizeof(*p))))
		return mreg_seterr_nomem();
	d->fields = p;
	p = &d->fields[d->field_count];
	p->field = strdup(field);
	p->old_value = a ? strdup(a) : NULL;
	p->new_value = b ? strdup(b) : NULL;
	d->field_count++;
	if (!p->field || (a && !p->old_value) || (b && !p->new_value))
		return mreg_seterr_nomem();
	return 0;
}

/* Two sorted key/value lists, merged: each key that differs once. */
static int diff_kv(mreg_diff *d, const char *prefix, const mreg_kv *a, size_t na, const mreg_kv *b,
		   size_t nb)
{
	size_t i = 0, k = 0;
	int rc = 0;

	while (rc == 0 && (i < na || k < nb)) {
		int c = i == na ? 1 : k == nb ? -1 : strcmp(a[i].key, b[k].key);
		const char *key = c <= 0 ? a[i].key : b[k].key;
		char *field = str_printf("%s.%s", prefix, key);
		if (!field)
			return mreg_seterr_nomem();
		rc = add_field(d, field, c <= 0 ? a[i].value : NULL, c >= 0 ? b[k].value : NULL);
		free(field);
		if (c <= 0)
			i++;
		if (c >= 0)
			k++;
	}
	return rc;
}

int mreg_diff_records(mreg_diff *out, const mreg_record *a, const mreg_record *b,
		      int with_metadata)
{
	cursor ca = {a, 0, 0, 0}, cb = {b, 0, 0, 0};
	size_t cap = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (;;) {
		side sa = peek(&ca), sb = peek(&cb);
		const char *pa = side_path(&sa), *pb = side_path(&sb);
		int c;

		if (!pa && !pb)
			break;
		c = pcmp(pa, pb);
		if (c < 0) {
			rc = add_entry(out, &cap, MREG_DIFF_REMOVED, &sa, &(side){0});
			advance(&ca, &sa);
		} else if (c > 0) {
			rc = add_entry(out, &cap, MREG_DIFF_ADDED, &(side){0}, &sb);
			advance(&cb, &sb);
		} else {
			if (!same_side(&sa, &sb))
				rc = add_entry(out, &cap, MREG_DIFF_MODIFIED, &sa, &sb);
			advance(&ca, &sa);
			advance(&cb, &sb);
		}
		if (rc)
			break;
	}
	if (rc == 0 && with_metadata) {
		if (!(rc = add_field(out, "type", a->type, b->type)) &&
		    !(rc = add_field(out, "description", a->description, b->description)) &&
		    !(rc = add_field(out, "stage", a->stage, b->stage)) &&
		    !(rc = diff_kv(out, "tag", a->tags, a->tag_count, b->tags, b->tag_count)))
			rc = diff_kv(out, "property", a->properties, a->property_count,
				     b->properties, b->property_count);
	}
	if (rc)
		mreg_diff_dispose(out);
	return rc;
}

void mreg_diff_dispose(mreg_diff *d)
{
	for (size_t i = 0; i < d->entry_count; i++)
		free(d->entries[i].path);
	for (size_t i = 0; i < d->field_count; i++) {
		free(d->fields[i].field);
		free(d->fields[i].old_value);
		free(d->fields[i].new_value);
	}
	free(d->entries);
	free(d->fields);
	memset(d, 0, sizeof(*d));
}
