#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "mreg/registry.h"
#include "util/error_priv.h"
#include "util/grammar.h"
#include "util/hash.h"
#include "record_priv.h"
#include "util/path.h"
#include "util/strutil.h"
#include "util/walk.h"

static const char *const core_keys[] = {"name", "version", "type", "description", "stage",
	"tags", "properties", "created_at", "archived", "source", "digest", "size", "files", "format",
	"dirs", "links"};

bool record_core_key(const char *key)
{
	return STR_IN_ARRAY(key, core_keys);
}

void mreg_kv_array_free(mreg_kv *items, size_t count)
{
	kv_free(items, count);
}

void kv_free(mreg_kv *items, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(items[i].key);
		free(items[i].value);
	}
	free(items);
}

int kv_set(mreg_kv **items, size_t *count, const char *key, const char *value)
{
	size_t i = 0;
	char *v = strdup(value ? value : "");
	mreg_kv *n;

	if (!v)
		return mreg_seterr_nomem();
	while (i < *count && strcmp((*items)[i].key, key) < 0)
		i++;
	if (i < *count && !strcmp((*items)[i].key, key)) {
		free((*items)[i].value);
		(*items)[i].value = v;
		return 0;
	}
	n = realloc(*items, (*count + 1) * sizeof(*n));
	if (!n) {
		free(v);
		return mreg_seterr_nomem();
	}
	*items = n;
	memmove(&n[i + 1], &n[i], (*count - i) * sizeof(*n));
	n[i].value = v;
	if (!(n[i].key = strdup(key))) {
		memmove(&n[i], &n[i + 1], (*count - i) * sizeof(*n));
		free(v);
		return mreg_seterr_nomem();
	}
	(*count)++;
	return 0;
}

int kv_remove(mreg_kv **items, size_t *count, const char *key)
{
	for (size_t i = 0; i < *count; i++) {
		if (strcmp((*items)[i].key, key))
			continue;
		free((*items)[i].key);
		free((*items)[i].value);
		memmove(&(*items)[i], &(*items)[i + 1], (*count - i - 1) * sizeof(**items));
		(*count)--;
		return 0;
	}
	return MREG_ENOTFOUND;
}

int kv_copy(mreg_kv **out, size_t *out_count, const mreg_kv *items, size_t count)
{
	*out = NULL;
	*out_count = 0;
	for (size_t i = 0; i < count; i++) {
		int rc = kv_set(out, out_count, items[i].key, items[i].value);
		if (rc) {
			kv_free(*out, *out_count);
			*out = NULL;
			*out_count = 0;
			return rc;
		}
	}
	return 0;
}

int kv_check(const char *what, const char *key, const char *value)
{
	if (!key || !key[0])
		return mreg_seterr(MREG_EINVALID, "%s: empty key", what);
	if (!utf8_printable(key))
		return mreg_seterr(MREG_EINVALID,
				   "%s '%s': key is not valid UTF-8 or holds control characters",
				   what, key);
	if (value && !utf8_printable(value))
		return mreg_seterr(MREG_EINVALID,
				   "%s '%s': value is not valid UTF-8 or holds control characters",
				   what, key);
	return 0;
}

static void source_dispose(mreg_source *s)
{
	free(s->path);
	free(s->kind);
	free(s->git_commit);
	free(s->git_branch);
	free(s->git_path);
	free(s->git_remote);
	free(s->fetched_at);
	free(s->etag);
	free(s->last_modified);
}

void mreg_record_free(mreg_record *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->version);
	free(r->type);
	free(r->description);
	free(r->stage);
	kv_free(r->tags, r->tag_count);
	kv_free(r->properties, r->property_count);
	free(r->created_at);
	source_dispose(&r->source);
	free(r->digest);
	free(r->format_json);
	record_free_tree(r);
	free(r);
}

void record_free_tree(mreg_record *r)
{
	for (size_t i = 0; i < r->file_count; i++)
		free(r->files[i].path);
	for (size_t i = 0; i < r->dir_count; i++)
		free(r->dirs[i].path);
	for (size_t i = 0; i < r->link_count; i++) {
		free(r->links[i].path);
		free(r->links[i].target);
	}
	free(r->files);
	free(r->dirs);
	free(r->links);
	r->files = NULL;
	r->dirs = NULL;
	r->links = NULL;
	r->file_count = r->dir_count = r->link_count = 0;
}

void mreg_record_array_free(mreg_record **records, size_t count)
{
	if (!records)
		return;
	for (size_t i = 0; i < count; i++)
		mreg_record_free(records[i]);
	free(records);
}

const char *mreg_record_tag(const mreg_record *r, const char *key)
{
	for (size_t i = 0; i < r->tag_count; i++)
		if (!strcmp(r->tags[i].key, key))
			return r->tags[i].value;
	return NULL;
}

#define DUP(field)                                               \
	do {                                                     \
		if (src->field && !(r->field = strdup(src->field))) \
			goto nomem;                              \
	} while (0)

int record_copy(mreg_record **out, const mreg_record *src)
{
	mreg_record *r = calloc(1, sizeof(*r));

	if (!r)
		return mreg_seterr_nomem();
	DUP(name);
	DUP(version);
	DUP(type);
	DUP(description);
	DUP(stage);
	DUP(created_at);
	DUP(digest);
	DUP(format_json);
	DUP(source.path);
	DUP(source.kind);
	DUP(source.git_commit);
	DUP(source.git_branch);
	DUP(source.git_path);
	DUP(source.git_remote);
	DUP(source.fetched_at);
	DUP(source.etag);
	DUP(source.last_modified);
	r->source.git_dirty = src->source.git_dirty;
	r->archived = src->archived;
	r->total_size = src->total_size;
	if (kv_copy(&r->tags, &r->tag_count, src->tags, src->tag_count) ||
	    kv_copy(&r->properties, &r->property_count, src->properties, src->property_count))
		goto nomem;
	if (src->file_count) {
		r->files = calloc(src->file_count, sizeof(*r->files));
		if (!r->files)
			goto nomem;
		for (size_t i = 0; i < src->file_count; i++) {
			r->files[i] = src->files[i];
			r->files[i].path = NULL;
			r->file_count = i + 1;
			if (!(r->files[i].path = strdup(src->files[i].path)))
				goto nomem;
		}
	}
	if (src->dir_count) {
		if (!(r->dirs = calloc(src->dir_count, sizeof(*r->dirs))))
			goto nomem;
		for (size_t i = 0; i < src->dir_count; i++) {
			r->dir_count = i + 1;
			r->dirs[i].mode = src->dirs[i].mode;
			if (!(r->dirs[i].path = strdup(src->dirs[i].path)))
				goto nomem;
		}
	}
	if (src->link_count) {
		if (!(r->links = calloc(src->link_count, sizeof(*r->links))))
			goto nomem;
		for (size_t i = 0; i < src->link_count; i++) {
			r->link_count = i + 1;
			r->links[i].path = strdup(src->links[i].path);
			r->links[i].target = strdup(src->links[i].target);
			if (!r->links[i].path || !r->links[i].target)
				goto nomem;
		}
	}
	*out = r;
	return 0;
nomem:
	mreg_record_free(r);
	return mreg_seterr_nomem();
}

int record_digest_add_file(hash_ctx *h, const mreg_file *f)
{
	char *line = str_printf("%04o %llu %s %s\n", f->mode, (unsigned long long)f->size,
				f->digest + 7, f->path);

	if (!line)
		return mreg_seterr_nomem();
	hash_update(h, line, strlen(line));
	free(line);
	return 0;
}

/* One line of the content digest per empty folder or link (see mreg-store(5), CONTENT DIGEST). */
static char *digest_line(const mreg_record *r, char kind, size_t i)
{
	if (kind == 'd')
		return str_printf("%04o dir %s\n", r->dirs[i].mode, r->dirs[i].path);
	/* A link's "content" is its text, hashed as git hashes a symlink's blob. */
	uint8_t raw[SHA256_LEN];
	char hex[MREG_DIGEST_STRLEN];
	hash_ctx *h = hash_new();
	if (!h)
		return NULL;
	hash_update(h, r->links[i].target, strlen(r->links[i].target));
	hash_final(h, raw);
	hash_free(h);
	digest_format(hex, raw);
	return str_printf("link %s %s\n", hex + 7, r->links[i].path);
}

int record_compute_digest(mreg_record *r)
{
	hash_ctx *h = hash_new();
	uint8_t raw[SHA256_LEN];
	char hex[MREG_DIGEST_STRLEN];
	size_t fi = 0, di = 0, li = 0;

	if (!h)
		return mreg_seterr_nomem();
	/* One line per entry (file, empty folder, link), in path order: the same
	 * tree always gives the same digest, and a tree of files alone gives the
	 * digest it had before folders and links were recorded. */
	r->total_size = 0;
	for (size_t i = 0; i < r->file_count; i++)
		r->total_size += r->files[i].size;
	while (fi < r->file_count || di < r->dir_count || li < r->link_count) {
		const char *fp = fi < r->file_count ? r->files[fi].path : NULL;
		const char *dp = di < r->dir_count ? r->dirs[di].path : NULL;
		const char *lp = li < r->link_count ? r->links[li].path : NULL;
		char kind = 'f';
		const char *best = fp;
		char *line;

		if (dp && (!best || strcmp(dp, best) < 0))
			best = dp, kind = 'd';
		if (lp && (!best || strcmp(lp, best) < 0))
			best = lp, kind = 'l';
		if (kind == 'f') {
			if (record_digest_add_file(h, &r->files[fi++])) {
				hash_free(h);
				return MREG_ENOMEM;
			}
			continue;
		}
		line = digest_line(r, kind, kind == 'd' ? di++ : li++);
		if (!line) {
			hash_free(h);
			return mreg_seterr_nomem();
		}
		hash_update(h, line, strlen(line));
		free(line);
	}
	hash_final(h, raw);
	hash_free(h);
	digest_format(hex, raw);
	free(r->digest);
	r->digest = strdup(hex);
	return r->digest ? 0 : mreg_seterr_nomem();
}

bool record_path_valid(const char *path)
{
	/* One rule for every path a record lists (util/path.c). */
	return path_is_valid(path, PATH_REJECT_EMPTY | PATH_REJECT_ABSOLUTE |
					   PATH_REJECT_EMPTY_COMPONENT | PATH_REJECT_DOT_COMPONENT |
					   PATH_REJECT_TRAVERSAL | PATH_REJECT_CONTROL |
					   PATH_REJECT_NON_UTF8);
}

typedef struct {
	const char *path;
	char kind; /* 'f' file, 'd' empty folder, 'l' link */
} tree_entry;

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const tree_entry *)a)->path, ((const tree_entry *)b)->path);
}

static const char *kind_name(char kind)
{
	return kind == 'f' ? "file" : kind == 'd' ? "empty folder" : "symbolic link";
}

/* Hops through links before a chain counts as a loop (Linux's own limit). */
#define LINK_HOPS_MAX 40

/* What lies at @path in the sorted entries: a kind, 'D' a folder files imply, 0 nothing. */
static char entry_at(const tree_entry *all, size_t n, const char *path, size_t len)
{
	tree_entry key = {path, 0}, *hit = bsearch(&key, all, n, sizeof(*all), cmp_entry);
	size_t lo = 0, hi = n;

	if (hit)
		return hit->kind;
	/* The first entry not before "path/": anything under the folder sorts from there. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(all[mid].path, path, len);
		if (c < 0 || (c == 0 && (unsigned char)all[mid].path[len] < '/'))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !strncmp(all[lo].path, path, len) && all[lo].path[len] == '/' ? 'D' : 0;
}

/*
 * Follow the link @l through the tree the record describes, as the kernel
 * would once it is written out: into folders, through other links (at most
 * LINK_HOPS_MAX), never above the model. Text alone is not enough: "up ->
 * .." and "out -> up/.." are each inside by their text, yet out leads
 * above the model. Returns 0 or MREG_EINVALID (@why says where it goes
 * wrong), MREG_ENOMEM.
 */
static int link_resolves(const tree_entry *all, size_t n, const mreg_record *r,
			 const mreg_link *l, char *why, size_t why_len)
{
	size_t cap = strlen(l->path) + strlen(l->target) + 2, hops = 0, at_len;
	char *at = malloc(cap), *rest = NULL, *slash;
	int rc = 0;

	if (!at)
		return mreg_seterr_nomem();
	/* @at: where we are (the link's folder); @rest: what is left to walk. */
	snprintf(at, cap, "%s", l->path);
	slash = strrchr(at, '/');
	at_len = slash ? (size_t)(slash - at) : 0;
	at[at_len] = '\0';
	if (!(rest = strdup(l->target))) {
		free(at);
		return mreg_seterr_nomem();
	}
	while (rc == 0 && *rest) {
		size_t clen = strcspn(rest, "/");
		char *next = rest + clen + (rest[clen] == '/');
		char kind;

		if (clen == 0 || (clen == 1 && rest[0] == '.')) {
			memmove(rest, next, strlen(next) + 1);
			continue;
		}
		if (clen == 2 && !strncmp(rest, "..", 2)) {
			if (at_len == 0) {
				snprintf(why, why_len,
					 "symbolic link '%s' -> '%s' leads above the model (through "
					 "the links on its way)",
					 l->path, l->target);
				rc = MREG_EINVALID;
				break;
			}
			slash = memrchr(at, '/', at_len);
			at_len = slash ? (size_t)(slash - at) : 0;
			at[at_len] = '\0';
			memmove(rest, next, strlen(next) + 1);
			continue;
		}
		/* Step into the component. */
		if (at_len + 1 + clen + 1 > cap) {
			char *p = realloc(at, cap = at_len + clen + 2);
			if (!p) {
				rc = mreg_seterr_nomem();
				break;
			}
			at = p;
		}
		if (at_len)
			at[at_len++] = '/';
		memcpy(at + at_len, rest, clen);
		at_len += clen;
		at[at_len] = '\0';
		kind = entry_at(all, n, at, at_len);
		if (kind == 'l') {
			const mreg_link *to = NULL;
			for (size_t i = 0; i < r->link_count && !to; i++)
				if (!strcmp(r->links[i].path, at))
					to = &r->links[i];
			if (!to || ++hops > LINK_HOPS_MAX) {
				snprintf(why, why_len, "symbolic link '%s' -> '%s' is a loop", l->path,
					 l->target);
				rc = MREG_EINVALID;
				break;
			}
			/* Back to the link's folder, then its target before the rest. */
			slash = memrchr(at, '/', at_len);
			at_len = slash ? (size_t)(slash - at) : 0;
			at[at_len] = '\0';
			char *more = str_printf("%s/%s", to->target, next);
			if (!more) {
				rc = mreg_seterr_nomem();
				break;
			}
			free(rest);
			rest = more;
			continue;
		}
		if (kind == 0 || (kind == 'f' && *next)) {
			snprintf(why, why_len,
				 "symbolic link '%s' -> '%s' leads to nothing in the model ('%s' %s)",
				 l->path, l->target, at, kind ? "is a file, not a folder" : "is not there");
			rc = MREG_EINVALID;
			break;
		}
		memmove(rest, next, strlen(next) + 1);
	}
	/* A link to a folder that holds it makes an endless tree for anything
	 * that walks the folder; create refuses it the same way (walk.c). */
	if (rc == 0 && (at_len == 0 || (!strncmp(l->path, at, at_len) && l->path[at_len] == '/'))) {
		snprintf(why, why_len, "symbolic link '%s' -> '%s' points to a folder that contains it "
			 "(a loop for anything that walks the model)",
			 l->path, l->target);
		rc = MREG_EINVALID;
	}
	free(at);
	free(rest);
	return rc;
}

int record_check_tree(const mreg_record *r, bool resolve_links, char *why, size_t why_len)
{
	size_t n = r->file_count + r->dir_count + r->link_count, k = 0;
	tree_entry *all = calloc(n + 1, sizeof(*all));
	int rc = 0;

	if (!all)
		return mreg_seterr_nomem();
	for (size_t i = 0; i < r->file_count; i++)
		all[k++] = (tree_entry){r->files[i].path, 'f'};
	for (size_t i = 0; i < r->dir_count; i++)
		all[k++] = (tree_entry){r->dirs[i].path, 'd'};
	for (size_t i = 0; i < r->link_count; i++)
		all[k++] = (tree_entry){r->links[i].path, 'l'};
	for (size_t i = 0; i < n && !rc; i++) {
		if (!record_path_valid(all[i].path)) {
			snprintf(why, why_len, "%s path '%s' is not a plain relative path",
				 kind_name(all[i].kind), all[i].path);
			rc = MREG_EINVALID;
		} else if (!path_is_valid(all[i].path, PATH_REJECT_DOTGIT | PATH_REJECT_DOTMREG)) {
			/* Records come through git: none may plant a hook or a
			 * store file where download writes. */
			snprintf(why, why_len,
				 "%s path '%s' is inside a .git or .mreg folder, which a model never "
				 "holds",
				 kind_name(all[i].kind), all[i].path);
			rc = MREG_EINVALID;
		}
	}
	for (size_t i = 0; i < r->link_count && !rc; i++) {
		if (!walk_link_inside(r->links[i].path, r->links[i].target)) {
			snprintf(why, why_len,
				 "symbolic link '%s' -> '%s' does not stay inside the model (a "
				 "link's target is relative and never climbs above the model)",
				 r->links[i].path, r->links[i].target);
			rc = MREG_EINVALID;
		}
	}
	if (!rc && n)
		qsort(all, n, sizeof(*all), cmp_entry);
	for (size_t i = 1; i < n && !rc; i++) {
		if (!strcmp(all[i - 1].path, all[i].path)) {
			snprintf(why, why_len, "'%s' is listed twice (as %s %s and as %s %s)",
				 all[i].path, all[i - 1].kind == 'd' ? "an" : "a",
				 kind_name(all[i - 1].kind), all[i].kind == 'd' ? "an" : "a",
				 kind_name(all[i].kind));
			rc = MREG_EINVALID;
		}
	}
	/* Nothing lies under a file, a link or an empty folder: a link in a path
	 * would make writing the tree out follow it. */
	for (size_t i = 0; i < n && !rc; i++) {
		char *copy = strdup(all[i].path), *slash;
		if (!copy) {
			free(all);
			return mreg_seterr_nomem();
		}
		while (!rc && (slash = strrchr(copy, '/'))) {
			*slash = '\0';
			tree_entry key = {copy, 0}, *hit = bsearch(&key, all, n, sizeof(*all), cmp_entry);
			if (hit) {
				snprintf(why, why_len, "'%s' lies under the %s '%s'", all[i].path,
					 kind_name(hit->kind), hit->path);
				rc = MREG_EINVALID;
			}
		}
		free(copy);
	}
	/* Every link leads to something of the model, as written out it will. */
	for (size_t i = 0; i < r->link_count && resolve_links && !rc; i++)
		rc = link_resolves(all, n, r, &r->links[i], why, why_len);
	free(all);
	return rc;
}

char *record_now(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return str_printf("%s.%06ldZ", buf, ts.tv_nsec / 1000);
}

int record_version_cmp(const char *a, const char *b)
{
	size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
	bool na = la && !a[la], nb = lb && !b[lb];

	if (na && nb) {
		while (*a == '0' && a[1])
			a++, la--;
		while (*b == '0' && b[1])
			b++, lb--;
		if (la != lb)
			return la < lb ? -1 : 1;
	} else if (na != nb) {
		return na ? -1 : 1;
	}
	return strcmp(a, b);
}

int record_cmp_created(const mreg_record *a, const mreg_record *b)
{
	int c = strcmp(a->created_at ? a->created_at : "", b->created_at ? b->created_at : "");

	return c ? c : record_version_cmp(a->version, b->version);
}

int mreg_name_check(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0)
		return mreg_seterr(MREG_EINVALID, "model name is empty");
	if (len > 255)
		return mreg_seterr(MREG_EINVALID,
				   "model name '%.40s...' is %zu characters long (at most 255)", name,
				   len);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (ascii_isalnum(c) || (i > 0 && (c == '_' || c == '-')))
			continue;
		if (i == 0)
			return mreg_seterr(MREG_EINVALID,
					   "model name '%s' must start with a letter or digit", name);
		return mreg_seterr(MREG_EINVALID,
				   "model name '%s': character %zu ('%c') is not allowed (letters, "
				   "digits, '_' and '-' only)",
				   name, i + 1, c >= 0x20 && c < 0x7f ? c : '?');
	}
	return 0;
}

int mreg_version_check(const char *version)
{
	size_t len = version ? strlen(version) : 0, i;
	char c;

	if (len == 0)
		return mreg_seterr(MREG_EINVALID, "version is empty");
	if (len > GRAMMAR_TAG_MAX)
		return mreg_seterr(MREG_EINVALID, "version '%.40s...' is longer than %d characters",
				   version, GRAMMAR_TAG_MAX);
	i = grammar_tag_span(version);
	if (i == len)
		return 0;
	if (i == 0)
		return mreg_seterr(MREG_EINVALID, "version '%s' must start with a letter, digit or '_'",
				   version);
	c = version[i];
	return mreg_seterr(MREG_EINVALID,
			   "version '%s': character %zu ('%c') is not allowed (letters, digits, "
			   "'_', '.' and '-' only)",
			   version, i + 1, c >= 0x20 && c < 0x7f ? c : '?');
}

int mreg_ref_parse(mreg_ref *out, const char *text)
{
	const char *colon = strchr(text, ':');
	const char *at = strstr(text, "@");
	int rc;

	memset(out, 0, sizeof(*out));
	if (at && (!colon || at < colon)) {
		out->name = strndup(text, (size_t)(at - text));
		if (!strcmp(at, "@latest")) {
			out->latest = 1;
		} else if ((rc = mreg_alias_check(at + 1))) {
			mreg_ref_dispose(out);
			return rc;
		} else if (!(out->alias = strdup(at + 1))) {
			mreg_ref_dispose(out);
			return mreg_seterr_nomem();
		}
	} else if (colon && strchr(colon + 1, ':')) {
		/* Azure ML writes azureml:NAME:VERSION; mreg's form is NAME:VERSION. */
		if (!strncmp(text, "azureml:", 8) && !strchr(text + 8, '/'))
			return mreg_seterr(MREG_EINVALID,
					   "'%s' is an Azure ML asset reference; mreg names a version "
					   "NAME:VERSION (%s)",
					   text, text + 8);
		return mreg_seterr(MREG_EINVALID,
				   "'%s': a reference is NAME, NAME:VERSION or NAME@latest (one ':')",
				   text);
	} else if (colon) {
		out->name = strndup(text, (size_t)(colon - text));
		out->version = strdup(colon + 1);
		if (!out->version) {
			mreg_ref_dispose(out);
			return mreg_seterr_nomem();
		}
	} else {
		out->name = strdup(text);
	}
	if (!out->name) {
		mreg_ref_dispose(out);
		return mreg_seterr_nomem();
	}
	if ((rc = mreg_name_check(out->name)) ||
	    (out->version && (rc = mreg_version_check(out->version)))) {
		mreg_ref_dispose(out);
		return rc;
	}
	return 0;
}

int mreg_alias_check(const char *alias)
{
	size_t len = alias ? strlen(alias) : 0, i;
	char c;

	if (len == 0)
		return mreg_seterr(MREG_EINVALID, "alias is empty");
	if (!strcmp(alias, "latest"))
		return mreg_seterr(MREG_EINVALID,
				   "'latest' is built in (the newest active version), not an alias");
	if (len > GRAMMAR_TAG_MAX)
		return mreg_seterr(MREG_EINVALID, "alias '%.40s...' is longer than %d characters",
				   alias, GRAMMAR_TAG_MAX);
	i = grammar_tag_span(alias);
	if (i == len)
		return 0;
	if (i == 0)
		return mreg_seterr(MREG_EINVALID, "alias '%s' must start with a letter, digit or '_'",
				   alias);
	c = alias[i];
	return mreg_seterr(MREG_EINVALID,
			   "alias '%s': character %zu ('%c') is not allowed (letters, digits, '_', "
			   "'.' and '-' only)",
			   alias, i + 1, c >= 0x20 && c < 0x7f ? c : '?');
}

void mreg_ref_dispose(mreg_ref *ref)
{
	free(ref->name);
	free(ref->version);
	free(ref->alias);
	memset(ref, 0, sizeof(*ref));
}

int record_rename(mreg_record *r, const char *name, const char *version)
{
	if (name) {
		free(r->name);
		if (!(r->name = strdup(name)))
			return mreg_seterr_nomem();
	}
	if (version) {
		free(r->version);
		if (!(r->version = strdup(version)))
			return mreg_seterr_nomem();
	}
	r->archived = 0;
	if (!r->created_at && !(r->created_at = record_now()))
		return mreg_seterr_nomem();
	return 0;
}

typedef struct {
	const char *digest;
	size_t index;
} digest_ref;

static int cmp_digest_ref(const void *a, const void *b)
{
	const digest_ref *x = a, *y = b;
	int c = strcmp(x->digest, y->digest);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* first[i]: file i is the first in path order with its content (one blob per digest). */
bool *record_first_of_digest(const mreg_record *r)
{
	digest_ref *refs = calloc(r->file_count + 1, sizeof(*refs));
	bool *first = calloc(r->file_count + 1, sizeof(*first));

	if (!refs || !first) {
		free(refs);
		free(first);
		return NULL;
	}
	for (size_t i = 0; i < r->file_count; i++)
		refs[i] = (digest_ref){r->files[i].digest, i};
	qsort(refs, r->file_count, sizeof(*refs), cmp_digest_ref);
	for (size_t i = 0; i < r->file_count; i++)
		if (i == 0 || strcmp(refs[i].digest, refs[i - 1].digest))
			first[refs[i].index] = true;
	free(refs);
	return first;
}

int record_source_fetched(mreg_source *dst, const mreg_source *fetched)
{
	source_dispose(dst);
	memset(dst, 0, sizeof(*dst));
	dst->git_dirty = -1;
	dst->kind = str_dup(fetched->kind);
	dst->path = str_dup(fetched->path);
	dst->fetched_at = str_dup(fetched->fetched_at);
	dst->etag = str_dup(fetched->etag);
	dst->last_modified = str_dup(fetched->last_modified);
	if ((fetched->kind && !dst->kind) || (fetched->path && !dst->path) ||
	    (fetched->fetched_at && !dst->fetched_at) || (fetched->etag && !dst->etag) ||
	    (fetched->last_modified && !dst->last_modified))
		return mreg_seterr_nomem();
	return 0;
}
