/* The record on disk: `.mreg/models/<name>/<version>.yaml` (see mreg-store(5)). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "util/hash.h"
#include "util/path.h"
#include "record_priv.h"
#include "util/strutil.h"
#include "util/yamlutil.h"

/* ---- writing ---- */

static void emit_json(yu_writer *w, json_t *v)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		yu_map_start(w);
		json_object_foreach(v, k, x) {
			yu_str(w, k);
			emit_json(w, x);
		}
		yu_map_end(w);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		yu_seq_start(w);
		json_array_foreach(v, i, x) emit_json(w, x);
		yu_seq_end(w);
		break;
	}
	case JSON_STRING: yu_str(w, json_string_value(v)); break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		yu_raw(w, num);
		break;
	case JSON_REAL: {
		/* The shortest text that reads back as the same double: 3.1, not
		 * 3.1000000000000001. */
		double d = json_real_value(v);
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(num, sizeof(num), "%.*g", prec, d);
			if (strtod(num, NULL) == d)
				break;
		}
		if (!strpbrk(num, ".eEn")) /* keep it a float when read back */
			strcat(num, ".0");
		yu_raw(w, num);
		break;
	}
	case JSON_TRUE: yu_raw(w, "true"); break;
	case JSON_FALSE: yu_raw(w, "false"); break;
	case JSON_NULL: yu_raw(w, "null"); break;
	}
}

static void emit_kvs(yu_writer *w, const char *key, const mreg_kv *kv, size_t n)
{
	yu_str(w, key);
	yu_map_start(w);
	for (size_t i = 0; i < n; i++)
		yu_kv(w, kv[i].key, kv[i].value);
	yu_map_end(w);
}

/*
 * The files list written without libyaml's emitter, which is most of a big
 * record's cost: only where the bytes are the emitter's own, which
 * tests/unit/test_record.c checks against it on hostile strings. A string
 * qualifies when libyaml writes it plain and as is: printable ASCII from a
 * set that holds no YAML indicator where it would count (no space, quote,
 * '#', ',', '[', '{', '&', '*', '!', '|', '>', '%', '@', '`', '?'), not
 * starting with '-' or '.', ':' only before a letter or digit, and plain
 * would not read back as anything but a string (yu_needs_quotes).
 */
static bool fast_plain(const char *s)
{
	if (!*s || *s == '-' || *s == '.')
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		char next = p[1];
		bool next_alnum = (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
				  (next >= '0' && next <= '9');
		if (!alnum && c != '_' && c != '/' && c != '.' && c != '-' && c != '+' &&
		    !(c == ':' && next_alnum))
			return false;
	}
	return !yu_needs_quotes(s);
}

bool record_yaml_files_fast(const mreg_record *r)
{
	if (!r->file_count)
		return false; /* "files: []" */
	for (size_t i = 0; i < r->file_count; i++)
		if (r->files[i].mode > 07777 || !fast_plain(r->files[i].path) ||
		    !fast_plain(r->files[i].digest))
			return false;
	return true;
}

static void put_str(strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

/* What the emitter writes for the files list (record_yaml_files_fast), after
 * "files:"; no printf: this loop is most of writing a big record. */
static void files_fast(strbuf *sb, const mreg_record *r)
{
	for (size_t i = 0; i < r->file_count; i++) {
		const mreg_file *f = &r->files[i];
		char mode[5], num[24], *d = num + sizeof(num);
		uint64_t v = f->size;

		do
			*--d = (char)('0' + v % 10);
		while ((v /= 10));
		for (int k = 0; k < 4; k++) /* "%04o": modes are at most 07777 here */
			mode[k] = (char)('0' + ((f->mode >> (3 * (3 - k))) & 7));
		mode[4] = '\0';
		put_str(sb, "\n- path: ");
		put_str(sb, f->path);
		put_str(sb, "\n  size: ");
		strbuf_add(sb, d, (size_t)(num + sizeof(num) - d));
		put_str(sb, "\n  mode: ");
		if (yu_needs_quotes(mode)) {
			put_str(sb, "\"");
			put_str(sb, mode);
			put_str(sb, "\"");
		} else {
			put_str(sb, mode);
		}
		put_str(sb, "\n  digest: ");
		put_str(sb, f->digest);
	}
}

#define FILES_TOKEN "mreg-files-list-written-apart"

static int record_yaml(char **out, size_t *len, const mreg_record *r, bool fast);

int record_to_yaml(char **out, size_t *len, const mreg_record *r)
{
	static const char needle[] = "\nfiles: " FILES_TOKEN "\n";
	strbuf sb = STRBUF_INIT;
	char *text = NULL, *at;
	size_t n = 0;
	int rc;

	if (!record_yaml_files_fast(r))
		return record_yaml(out, len, r, false);
	if ((rc = record_yaml(&text, &n, r, true)))
		return rc;
	/* The token once, where the files go; anywhere else: the emitter's way. */
	at = strstr(text, needle);
	if (!at || strstr(text, FILES_TOKEN) != at + 8 || strstr(at + 8 + 1, FILES_TOKEN)) {
		free(text);
		return record_yaml(out, len, r, false);
	}
	/* Room for the whole text at once: ~150 bytes a file. */
	sb.cap = n + r->file_count * 160;
	if ((sb.data = malloc(sb.cap))) {
		sb.data[0] = '\0';
		strbuf_add(&sb, text, (size_t)(at - text) + 7); /* up to "\nfiles:" */
		files_fast(&sb, r);
		strbuf_add(&sb, at + sizeof(needle) - 2, n - (size_t)(at - text) - (sizeof(needle) - 2));
	} else {
		sb.failed = true;
	}
	free(text);
	*len = sb.len;
	if (!(*out = strbuf_detach(&sb)))
		return mreg_seterr_nomem();
	return 0;
}

int record_to_yaml_emitter(char **out, size_t *len, const mreg_record *r)
{
	return record_yaml(out, len, r, false);
}

/* @fast: the files list is FILES_TOKEN, for record_to_yaml to write. */
static int record_yaml(char **out, size_t *len, const mreg_record *r, bool fast)
{
	yu_writer w;
	char num[32], mode[8];
	json_t *extra = NULL;
	int rc = 0;

	if (r->format_json) {
		extra = json_loads(r->format_json, 0, NULL);
		if (!json_is_object(extra)) {
			json_decref(extra);
			return mreg_seterr(MREG_EINVALID, "%s:%s: format metadata is not a JSON object",
					   r->name, r->version);
		}
	}
	yu_writer_init(&w);
	yu_map_start(&w);
	yu_str(&w, "format");
	snprintf(num, sizeof(num), "%d", MREG_RECORD_FORMAT);
	yu_raw(&w, num);
	yu_kv(&w, "name", r->name);
	yu_kv(&w, "version", r->version);
	yu_kv(&w, "type", r->type);
	if (r->description)
		yu_kv(&w, "description", r->description);
	if (r->stage)
		yu_kv(&w, "stage", r->stage);
	emit_kvs(&w, "tags", r->tags, r->tag_count);
	emit_kvs(&w, "properties", r->properties, r->property_count);
	yu_kv(&w, "created_at", r->created_at);
	yu_str(&w, "archived");
	yu_raw(&w, r->archived ? "true" : "false");

	yu_str(&w, "source");
	yu_map_start(&w);
	if (r->source.kind)
		yu_kv(&w, "kind", r->source.kind);
	if (r->source.path)
		yu_kv(&w, "path", r->source.path);
	if (r->source.git_commit) {
		yu_str(&w, "git");
		yu_map_start(&w);
		yu_kv(&w, "commit", r->source.git_commit);
		if (r->source.git_branch)
			yu_kv(&w, "branch", r->source.git_branch);
		if (r->source.git_dirty >= 0) {
			yu_str(&w, "dirty");
			yu_raw(&w, r->source.git_dirty ? "true" : "false");
		}
		if (r->source.git_path)
			yu_kv(&w, "path", r->source.git_path);
		if (r->source.git_remote)
			yu_kv(&w, "remote", r->source.git_remote);
		yu_map_end(&w);
	}
	if (r->source.fetched_at) {
		yu_str(&w, "fetched");
		yu_map_start(&w);
		yu_kv(&w, "at", r->source.fetched_at);
		if (r->source.etag)
			yu_kv(&w, "etag", r->source.etag);
		if (r->source.last_modified)
			yu_kv(&w, "last_modified", r->source.last_modified);
		yu_map_end(&w);
	}
	yu_map_end(&w);

	yu_kv(&w, "digest", r->digest);
	yu_str(&w, "size");
	snprintf(num, sizeof(num), "%" PRIu64, r->total_size);
	yu_raw(&w, num);
	yu_str(&w, "files");
	if (fast)
		yu_raw(&w, FILES_TOKEN);
	else
		yu_seq_start(&w);
	for (size_t i = 0; !fast && i < r->file_count; i++) {
		const mreg_file *f = &r->files[i];
		yu_map_start(&w);
		yu_kv(&w, "path", f->path);
		yu_str(&w, "size");
		snprintf(num, sizeof(num), "%" PRIu64, f->size);
		yu_raw(&w, num);
		snprintf(mode, sizeof(mode), "%04o", f->mode);
		yu_kv(&w, "mode", mode);
		yu_kv(&w, "digest", f->digest);
		yu_map_end(&w);
	}
	if (!fast)
		yu_seq_end(&w);
	if (r->dir_count) {
		yu_str(&w, "dirs");
		yu_seq_start(&w);
		for (size_t i = 0; i < r->dir_count; i++) {
			yu_map_start(&w);
			yu_kv(&w, "path", r->dirs[i].path);
			snprintf(mode, sizeof(mode), "%04o", r->dirs[i].mode);
			yu_kv(&w, "mode", mode);
			yu_map_end(&w);
		}
		yu_seq_end(&w);
	}
	if (r->link_count) {
		yu_str(&w, "links");
		yu_seq_start(&w);
		for (size_t i = 0; i < r->link_count; i++) {
			yu_map_start(&w);
			yu_kv(&w, "path", r->links[i].path);
			yu_kv(&w, "target", r->links[i].target);
			yu_map_end(&w);
		}
		yu_seq_end(&w);
	}
	if (extra) {
		const char *k;
		json_t *x;
		json_object_foreach(extra, k, x) {
			if (record_core_key(k))
				continue;
			yu_str(&w, k);
			emit_json(&w, x);
		}
	}
	yu_map_end(&w);
	*out = yu_writer_finish(&w, len);
	if (!*out)
		rc = mreg_seterr(MREG_EIO, "%s:%s: cannot write the record as YAML", r->name,
				 r->version);
	yu_writer_dispose(&w);
	json_decref(extra);
	return rc;
}

/* ---- reading ---- */

typedef struct {
	yaml_document_t *doc;
	const char *path;
} reader;

static int bad(const reader *rd, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(const reader *rd, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		return mreg_seterr(MREG_ECORRUPT, "%s:%zu:%zu: %s", rd->path,
				   n->start_mark.line + 1, n->start_mark.column + 1, msg);
	return mreg_seterr(MREG_ECORRUPT, "%s: %s", rd->path, msg);
}

static int get_str(const reader *rd, yaml_node_t *map, const char *key, bool required,
		   char **out)
{
	yaml_node_t *n = yu_map_get(rd->doc, map, key);
	const char *s;

	if (!n) {
		if (required)
			return bad(rd, map, "field '%s' is missing", key);
		return 0;
	}
	s = yu_scalar(n);
	if (!s)
		return bad(rd, n, "field '%s' must be a string", key);
	if (yu_plain(n) && (!strcmp(s, "null") || !strcmp(s, "~") || !s[0]) && !required)
		return 0;
	*out = strdup(s);
	return *out ? 0 : mreg_seterr_nomem();
}

static int get_u64(const reader *rd, yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *s = yu_scalar(n);
	char *end;

	if (!s || !s[0] || s[0] == '-')
		return bad(rd, n ? n : NULL, "field '%s' must be a non-negative integer", key);
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end)
		return bad(rd, n, "field '%s' must be a non-negative integer", key);
	return 0;
}

static int get_bool(const reader *rd, yaml_node_t *n, const char *key, int *out)
{
	const char *s = yu_scalar(n);

	if (s && !strcmp(s, "true"))
		*out = 1;
	else if (s && !strcmp(s, "false"))
		*out = 0;
	else
		return bad(rd, n, "field '%s' must be true or false", key);
	return 0;
}

static int get_kvs(const reader *rd, yaml_node_t *map, const char *key, mreg_kv **items,
		   size_t *count)
{
	yaml_node_t *n = yu_map_get(rd->doc, map, key);

	if (!n || (yu_plain(n) && (!strcmp(yu_scalar(n), "") || !strcmp(yu_scalar(n), "null"))))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return bad(rd, n, "field '%s' must be a mapping", key);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = yu_scalar(yaml_document_get_node(rd->doc, p->key));
		yaml_node_t *vn = yaml_document_get_node(rd->doc, p->value);
		const char *v = yu_scalar(vn);
		int rc;
		if (!k || !v)
			return bad(rd, vn, "field '%s' must map strings to strings", key);
		if ((rc = kv_set(items, count, k, v)))
			return rc;
	}
	return 0;
}

static json_t *node_to_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
	if (!n || depth > 64)
		return NULL;
	if (n->type == YAML_MAPPING_NODE) {
		json_t *o = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     o && p < n->data.mapping.pairs.top; p++) {
			const char *k = yu_scalar(yaml_document_get_node(doc, p->key));
			json_t *v = node_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1);
			if (!k || !v || json_object_set_new(o, k, v)) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		json_t *a = json_array();
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     a && i < n->data.sequence.items.top; i++) {
			json_t *v = node_to_json(doc, yaml_document_get_node(doc, *i), depth + 1);
			if (!v || json_array_append_new(a, v)) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	if (n->type == YAML_SCALAR_NODE) {
		const char *s = yu_scalar(n);
		if (yu_plain(n)) {
			char *end;
			if (!strcmp(s, "true"))
				return json_true();
			if (!strcmp(s, "false"))
				return json_false();
			if (!strcmp(s, "null") || !strcmp(s, "~") || !s[0])
				return json_null();
			errno = 0;
			long long ll = strtoll(s, &end, 10);
			if (!*end && !errno)
				return json_integer(ll);
			double d = strtod(s, &end);
			if (!*end && yu_needs_quotes(s))
				return json_real(d);
		}
		return json_string(s);
	}
	return NULL;
}

static int get_mode(const reader *rd, yaml_node_t *map, unsigned int *out)
{
	char *mode = NULL, *end;
	unsigned long v;
	int rc = get_str(rd, map, "mode", true, &mode);

	if (rc)
		return rc;
	v = strtoul(mode, &end, 8);
	bool ok = mode[0] && mode[0] != '-' && mode[0] != '+' && !*end && v <= 0777;
	free(mode);
	if (!ok)
		return bad(rd, yu_map_get(rd->doc, map, "mode"),
			   "field '%s' must be an octal permission like \"0644\"", "mode");
	*out = (unsigned int)v;
	return 0;
}

/* A list of mappings under @key: its node and length (0 when absent and optional). */
static int get_list(const reader *rd, yaml_node_t *root, const char *key, bool required,
		    yaml_node_t **seq, size_t *n)
{
	*seq = yu_map_get(rd->doc, root, key);
	*n = 0;
	if (!*seq) {
		if (required)
			return bad(rd, root, "field '%s' is missing", key);
		return 0;
	}
	if ((*seq)->type != YAML_SEQUENCE_NODE)
		return bad(rd, *seq, "field '%s' must be a list", key);
	*n = (size_t)((*seq)->data.sequence.items.top - (*seq)->data.sequence.items.start);
	return 0;
}

static yaml_node_t *list_item(const reader *rd, yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(rd->doc, seq->data.sequence.items.start[i]);
}

/*
 * One entry of 'files' (@fn, a node of @rd's document) into @f, checked as
 * every reader of records checks it; @prev: the entry before it (NULL for the
 * first), which must sort before it. @f->path is the caller's to free, even
 * on failure.
 */
static int parse_file_entry(const reader *rd, yaml_node_t *fn, mreg_file *f, const char *prev)
{
	char *digest = NULL;
	int rc;

	if (!fn || fn->type != YAML_MAPPING_NODE)
		return bad(rd, fn, "each entry of '%s' must be a mapping", "files");
	if ((rc = get_str(rd, fn, "path", true, &f->path)) ||
	    (rc = get_u64(rd, yu_map_get(rd->doc, fn, "size"), "size", &f->size)) ||
	    (rc = get_mode(rd, fn, &f->mode)) || (rc = get_str(rd, fn, "digest", true, &digest)))
		return rc;
	if (!digest_valid(digest)) {
		free(digest);
		return bad(rd, yu_map_get(rd->doc, fn, "digest"),
			   "field '%s' must be sha256: and 64 lowercase hex digits", "digest");
	}
	memcpy(f->digest, digest, MREG_DIGEST_STRLEN);
	free(digest);
	if (!record_path_valid(f->path))
		return bad(rd, yu_map_get(rd->doc, fn, "path"),
			   "file path '%s' is not a plain relative path", f->path);
	/* Records come through git: one must not plant a hook or a store
	 * file where download writes (mreg never stores these folders). */
	if (!path_is_valid(f->path, PATH_REJECT_DOTGIT | PATH_REJECT_DOTMREG))
		return bad(rd, yu_map_get(rd->doc, fn, "path"),
			   "file path '%s' is inside a .git or .mreg folder, which a model "
			   "never holds", f->path);
	if (prev && strcmp(prev, f->path) >= 0)
		return bad(rd, fn, "files are not sorted by path, or '%s' is listed twice", f->path);
	return 0;
}

/*
 * The files of a record as they stream by (yu_stream_file() hands over one
 * entry at a time): each checked, then kept in the record or handed to the
 * caller's function. The first bad entry is noted and reported where the
 * files are checked among the record's fields, so the errors come in the
 * same order whichever way the record is read.
 */
typedef struct {
	const char *path;
	mreg_record *r;
	bool keep;          /* r->files gets every entry */
	record_file_fn fn;  /* else each goes to fn */
	void *ctx;
	size_t count, cap;
	uint64_t total;
	char *prev;         /* the last entry's path */
	int err;            /* the first bad entry's error and message */
	char *msg;
	/* Files listed before the last one that are a prefix of its path and may
	 * be a folder of a later one (their lengths): 'a' before 'a.txt', 'a/b'. */
	size_t *prefixes, nprefix, prefix_cap;
	char *under;        /* the first file under another file (record_check_tree()'s words) */
} files_stream;

/* Note the first file that lies under another file: @path, sorted after every earlier one. */
static int note_under(files_stream *fs, const char *path)
{
	size_t len = strlen(path);

	if (fs->under)
		return 0;
	/* Drop the earlier files no later path can lie under (sorted: none
	 * starts with them any more). Those left are prefixes of @path. */
	while (fs->nprefix) {
		size_t plen = fs->prefixes[fs->nprefix - 1];
		if (plen < len && !strncmp(fs->prev, path, plen) && (unsigned char)path[plen] <= '/')
			break;
		fs->nprefix--;
	}
	for (size_t i = fs->nprefix; i-- > 0;) {
		size_t plen = fs->prefixes[i];
		if (path[plen] == '/') {
			fs->under = str_printf("'%s' lies under the file '%.*s'", path, (int)plen, path);
			return fs->under ? 0 : mreg_seterr_nomem();
		}
	}
	if (!array_room(&fs->prefixes, &fs->prefix_cap, fs->nprefix, sizeof(*fs->prefixes), 16))
		return mreg_seterr_nomem();
	fs->prefixes[fs->nprefix++] = len;
	return 0;
}

static int stream_entry(void *ctx, yaml_document_t *item)
{
	files_stream *fs = ctx;
	reader rd = {item, fs->path};
	mreg_file f = {0};
	int rc;

	if (fs->err)
		return 0; /* the rest is still read: a syntax error further on comes first */
	if ((rc = parse_file_entry(&rd, yaml_document_get_root_node(item), &f, fs->prev))) {
		free(f.path);
		if (rc == MREG_ENOMEM)
			return rc;
		fs->err = rc;
		fs->msg = strdup(mreg_error_last());
		return fs->msg ? 0 : mreg_seterr_nomem();
	}
	fs->total += f.size;
	fs->count++;
	if (!fs->keep && (rc = note_under(fs, f.path))) {
		free(f.path);
		return rc;
	}
	if (fs->keep) {
		mreg_record *r = fs->r;
		if (!array_room(&r->files, &fs->cap, r->file_count, sizeof(*r->files), 4)) {
			free(f.path);
			return mreg_seterr_nomem();
		}
		r->files[r->file_count++] = f;
		fs->prev = f.path;
		return 0;
	}
	rc = fs->fn(fs->ctx, &f);
	free(fs->prev);
	fs->prev = f.path;
	return rc;
}

static void files_stream_dispose(files_stream *fs)
{
	if (!fs->keep)
		free(fs->prev);
	free(fs->msg);
	free(fs->prefixes);
	free(fs->under);
}

/* 'files' where the record's fields are checked: a list, each entry sound. */
static int parse_files(const reader *rd, yaml_node_t *root, mreg_record *r, files_stream *fs)
{
	yaml_node_t *seq = yu_map_get(rd->doc, root, "files");

	if (!seq)
		return bad(rd, root, "field '%s' is missing", "files");
	if (seq->type != YAML_SEQUENCE_NODE)
		return bad(rd, seq, "field '%s' must be a list", "files");
	if (fs->err)
		return mreg_seterr(fs->err, "%s", fs->msg);
	if (!r->files && !(r->files = calloc(1, sizeof(*r->files))))
		return mreg_seterr_nomem();
	/* No room left over: a listing keeps every record it reads. */
	if (fs->cap > r->file_count && r->file_count) {
		mreg_file *fit = realloc(r->files, r->file_count * sizeof(*fit));
		if (fit)
			r->files = fit;
	}
	r->total_size = fs->total;
	return 0;
}

/* dirs: (format 2) the empty folders, sorted, each with its mode. */
static int parse_dirs(const reader *rd, yaml_node_t *root, mreg_record *r)
{
	yaml_node_t *seq;
	size_t n;
	int rc;

	if ((rc = get_list(rd, root, "dirs", false, &seq, &n)) || n == 0)
		return rc;
	if (!(r->dirs = calloc(n, sizeof(*r->dirs))))
		return mreg_seterr_nomem();
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *dn = list_item(rd, seq, i);
		mreg_dir *d = &r->dirs[i];

		r->dir_count = i + 1;
		if (!dn || dn->type != YAML_MAPPING_NODE)
			return bad(rd, dn, "each entry of '%s' must be a mapping", "dirs");
		if ((rc = get_str(rd, dn, "path", true, &d->path)) || (rc = get_mode(rd, dn, &d->mode)))
			return rc;
		if (i > 0 && strcmp(r->dirs[i - 1].path, d->path) >= 0)
			return bad(rd, dn, "dirs are not sorted by path, or '%s' is listed twice",
				   d->path);
	}
	return 0;
}

/* links: (format 2) the symbolic links, sorted, each with its target. */
static int parse_links(const reader *rd, yaml_node_t *root, mreg_record *r)
{
	yaml_node_t *seq;
	size_t n;
	int rc;

	if ((rc = get_list(rd, root, "links", false, &seq, &n)) || n == 0)
		return rc;
	if (!(r->links = calloc(n, sizeof(*r->links))))
		return mreg_seterr_nomem();
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *ln = list_item(rd, seq, i);
		mreg_link *l = &r->links[i];

		r->link_count = i + 1;
		if (!ln || ln->type != YAML_MAPPING_NODE)
			return bad(rd, ln, "each entry of '%s' must be a mapping", "links");
		if ((rc = get_str(rd, ln, "path", true, &l->path)) ||
		    (rc = get_str(rd, ln, "target", true, &l->target)))
			return rc;
		if (i > 0 && strcmp(r->links[i - 1].path, l->path) >= 0)
			return bad(rd, ln, "links are not sorted by path, or '%s' is listed twice",
				   l->path);
	}
	return 0;
}

/*
 * format: absent in records written before format 2 (they hold neither dirs
 * nor links); a record newer than this mreg is refused, not half read.
 */
static int parse_format(const reader *rd, yaml_node_t *root, uint64_t *format)
{
	yaml_node_t *n = yu_map_get(rd->doc, root, "format");
	int rc;

	*format = 1;
	if (n && (rc = get_u64(rd, n, "format", format)))
		return rc;
	if (*format == 0)
		return bad(rd, n, "field '%s' must be a record format (1 or more)", "format");
	if (*format > MREG_RECORD_FORMAT)
		return mreg_seterr(MREG_EUNSUPPORTED,
				   "%s:%zu:%zu: record format %llu was written by a newer mreg (this "
				   "one reads formats 1 to %d): upgrade mreg",
				   rd->path, n->start_mark.line + 1, n->start_mark.column + 1,
				   (unsigned long long)*format, MREG_RECORD_FORMAT);
	if (*format < 2) {
		static const char *const later[] = {"dirs", "links"};
		for (size_t i = 0; i < 2; i++)
			if ((n = yu_map_get(rd->doc, root, later[i])))
				return bad(rd, n, "field '%s' needs record format 2 (this record "
					   "is format %llu)", later[i], (unsigned long long)*format);
	}
	return 0;
}

static int parse_source(const reader *rd, yaml_node_t *root, mreg_record *r)
{
	yaml_node_t *src = yu_map_get(rd->doc, root, "source"), *git, *dirty, *fetched;
	int rc;

	r->source.git_dirty = -1;
	if (!src)
		return 0;
	if (src->type != YAML_MAPPING_NODE)
		return bad(rd, src, "field '%s' must be a mapping", "source");
	if ((rc = get_str(rd, src, "kind", false, &r->source.kind)) ||
	    (rc = get_str(rd, src, "path", false, &r->source.path)))
		return rc;
	fetched = yu_map_get(rd->doc, src, "fetched");
	if (fetched && fetched->type != YAML_MAPPING_NODE)
		return bad(rd, fetched, "field '%s' must be a mapping", "source.fetched");
	if (fetched && ((rc = get_str(rd, fetched, "at", true, &r->source.fetched_at)) ||
			(rc = get_str(rd, fetched, "etag", false, &r->source.etag)) ||
			(rc = get_str(rd, fetched, "last_modified", false, &r->source.last_modified))))
		return rc;
	git = yu_map_get(rd->doc, src, "git");
	if (!git)
		return 0;
	if (git->type != YAML_MAPPING_NODE)
		return bad(rd, git, "field '%s' must be a mapping", "source.git");
	if ((rc = get_str(rd, git, "commit", true, &r->source.git_commit)) ||
	    (rc = get_str(rd, git, "branch", false, &r->source.git_branch)) ||
	    (rc = get_str(rd, git, "path", false, &r->source.git_path)) ||
	    (rc = get_str(rd, git, "remote", false, &r->source.git_remote)))
		return rc;
	dirty = yu_map_get(rd->doc, git, "dirty");
	if (dirty && (rc = get_bool(rd, dirty, "source.git.dirty", &r->source.git_dirty)))
		return rc;
	return 0;
}

/*
 * The record's files read again, kept this time: the empty folders and links
 * are checked against them (record_check_tree()).
 */
static int reread_files(FILE *f, const char *path, mreg_record *r)
{
	files_stream fs = {.path = path, .r = r, .keep = true};
	yaml_document_t doc;
	int rc;

	rewind(f);
	rc = yu_stream_file(&doc, f, path, MREG_ECORRUPT, "files", stream_entry, &fs);
	if (rc == 0) {
		yaml_document_delete(&doc);
		if (fs.err)
			rc = mreg_seterr(fs.err, "%s", fs.msg);
	}
	files_stream_dispose(&fs);
	return rc;
}

/* The tree the record describes: record_check_tree(), the streamed files' part already done. */
static int check_tree(const reader *rd, FILE *f, mreg_record *r, const files_stream *fs)
{
	char why[512];
	int rc;

	if (!fs->keep && r->dir_count == 0 && r->link_count == 0) {
		/* Files alone: each path was checked, their order makes each one
		 * once; what is left is a file under another file. */
		return fs->under ? bad(rd, NULL, "%s", fs->under) : 0;
	}
	if (!fs->keep && (rc = reread_files(f, rd->path, r)))
		return rc;
	if ((rc = record_check_tree(r, true, why, sizeof(why))) == MREG_EINVALID)
		rc = bad(rd, NULL, "%s", why);
	return rc;
}

/* record_read_file(), or with @fn record_stream_file(). */
static int read_record(mreg_record **out, const char *path, record_file_fn fn, void *ctx)
{
	yaml_document_t doc;
	reader rd = {&doc, path};
	files_stream fs = {.path = path, .keep = !fn, .fn = fn, .ctx = ctx};
	yaml_node_t *root, *n;
	mreg_record *r = NULL;
	json_t *extra = NULL;
	uint64_t size, format;
	FILE *f;
	int rc;

	*out = NULL;
	if (fn && (rc = fn(ctx, NULL)))
		return rc;
	if (!(f = fopen(path, "rb")))
		return mreg_seterr_errno("%s", path);
	if (!(r = calloc(1, sizeof(*r)))) {
		fclose(f);
		return mreg_seterr_nomem();
	}
	fs.r = r;
	rc = yu_stream_file(&doc, f, path, MREG_ECORRUPT, "files", stream_entry, &fs);
	if (rc) {
		files_stream_dispose(&fs);
		mreg_record_free(r);
		fclose(f);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		rc = bad(&rd, root, "a record must be a YAML mapping, not %s", yu_kind(root));
		goto done;
	}
	if ((rc = parse_format(&rd, root, &format)) ||
	    (rc = get_str(&rd, root, "name", true, &r->name)) ||
	    (rc = get_str(&rd, root, "version", true, &r->version)) ||
	    (rc = get_str(&rd, root, "type", true, &r->type)) ||
	    (rc = get_str(&rd, root, "description", false, &r->description)) ||
	    (rc = get_str(&rd, root, "stage", false, &r->stage)) ||
	    (rc = get_str(&rd, root, "created_at", true, &r->created_at)) ||
	    (rc = get_str(&rd, root, "digest", true, &r->digest)) ||
	    (rc = get_kvs(&rd, root, "tags", &r->tags, &r->tag_count)) ||
	    (rc = get_kvs(&rd, root, "properties", &r->properties, &r->property_count)) ||
	    (rc = parse_source(&rd, root, r)) || (rc = parse_files(&rd, root, r, &fs)) ||
	    (rc = parse_dirs(&rd, root, r)) || (rc = parse_links(&rd, root, r)) ||
	    (rc = check_tree(&rd, f, r, &fs)))
		goto done;
	if (mreg_name_check(r->name) || mreg_version_check(r->version)) {
		rc = mreg_error_prefix(MREG_ECORRUPT, "%s", path);
		goto done;
	}
	if ((n = yu_map_get(&doc, root, "archived")) &&
	    (rc = get_bool(&rd, n, "archived", &r->archived)))
		goto done;
	if (!digest_valid(r->digest)) {
		rc = bad(&rd, yu_map_get(&doc, root, "digest"),
			 "field '%s' must be sha256: and 64 lowercase hex digits", "digest");
		goto done;
	}
	if ((n = yu_map_get(&doc, root, "size")) && (rc = get_u64(&rd, n, "size", &size)))
		goto done;

	/* Fields this version does not know (format metadata) are kept as they are. */
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		const char *k = yu_scalar(yaml_document_get_node(&doc, p->key));
		json_t *v;
		if (!k || record_core_key(k))
			continue;
		if (!extra && !(extra = json_object())) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		v = node_to_json(&doc, yaml_document_get_node(&doc, p->value), 0);
		if (!v) {
			rc = bad(&rd, yaml_document_get_node(&doc, p->value),
				 "field '%s' is nested too deeply", k);
			goto done;
		}
		json_object_set_new(extra, k, v);
	}
	if (extra && !(r->format_json = json_dumps(extra, JSON_COMPACT | JSON_SORT_KEYS))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
done:
	json_decref(extra);
	yaml_document_delete(&doc);
	files_stream_dispose(&fs);
	fclose(f);
	if (rc)
		mreg_record_free(r);
	else
		*out = r;
	return rc;
}


int record_read_file(mreg_record **out, const char *path)
{
	return read_record(out, path, NULL, NULL);
}

int record_stream_file(mreg_record **out, const char *path, record_file_fn fn, void *ctx)
{
	return read_record(out, path, fn, ctx);
}

/* ---- peeking ---- */

/*
 * The events of the record's top-level mapping, until the three keys are
 * seen: mreg writes created_at, archived and digest before the files, so a
 * record it wrote is read only as far as its first lines.
 */
int record_peek_file(record_peek *out, const char *path)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	FILE *f = fopen(path, "rb");
	int depth = 0, rc = 0;
	bool key_next = true, want_created = false, want_archived = false, want_digest = false;
	bool have_created = false, have_archived = false, have_digest = false, done = false;

	memset(out, 0, sizeof(*out));
	if (!f)
		return errno == ENOENT ? MREG_ENOTFOUND : MREG_EIO;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return MREG_ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	while (rc == 0 && !(have_created && have_archived && have_digest)) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = MREG_ECORRUPT;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT: break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == 0 && ev.type != YAML_MAPPING_START_EVENT)
				rc = MREG_ECORRUPT;
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (--depth == 1) {
				/* A whole key or value of the root mapping has passed. */
				key_next = !key_next;
				want_created = want_archived = want_digest = false;
			}
			if (depth == 0)
				done = true;
			break;
		case YAML_SCALAR_EVENT:
			if (depth == 0) {
				rc = MREG_ECORRUPT;
			} else if (depth == 1) {
				const char *v = (const char *)ev.data.scalar.value;
				if (key_next) {
					want_created = !have_created && !strcmp(v, "created_at");
					want_archived = !have_archived && !strcmp(v, "archived");
					want_digest = !have_digest && !strcmp(v, "digest");
				} else if (want_created) {
					if (strlen(v) >= sizeof(out->created_at))
						rc = MREG_ECORRUPT;
					else
						strcpy(out->created_at, v);
					have_created = true;
				} else if (want_archived) {
					out->archived = !strcmp(v, "true");
					have_archived = true;
				} else if (want_digest) {
					if (strlen(v) + 1 == sizeof(out->digest))
						strcpy(out->digest, v);
					have_digest = true;
				}
				if (!key_next)
					want_created = want_archived = want_digest = false;
				key_next = !key_next;
			}
			break;
		default: /* an alias (records have none), the end of the document */
			if (ev.type == YAML_ALIAS_EVENT)
				rc = MREG_ECORRUPT;
			done = true;
			break;
		}
		yaml_event_delete(&ev);
		if (done)
			break;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	if (rc == 0 && !have_created)
		rc = MREG_ECORRUPT;
	return rc;
}
