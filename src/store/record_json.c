/* The record as JSON: `--json` output, and the tree's folders and links in bundle configs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "record_priv.h"
#include "util/strutil.h"

static json_t *kv_object(const mreg_kv *kv, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++)
		if (json_object_set_new(o, kv[i].key, json_string(kv[i].value))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *dirs_array(const mreg_record *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->dir_count; i++) {
		char mode[8];
		snprintf(mode, sizeof(mode), "%04o", r->dirs[i].mode);
		if (json_array_append_new(a, json_pack("{s:s, s:s}", "path", r->dirs[i].path, "mode",
						       mode))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *links_array(const mreg_record *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->link_count; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:s}", "path", r->links[i].path,
						       "target", r->links[i].target))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *record_to_json_value(const mreg_record *r)
{
	json_t *o = json_object(), *files = json_array(), *src = json_object();
	json_t *extra = NULL;

	if (!o || !files || !src)
		goto fail;
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "version", json_string(r->version));
	json_object_set_new(o, "type", json_string(r->type));
	json_object_set_new(o, "description", str_or_null(r->description));
	json_object_set_new(o, "stage", str_or_null(r->stage));
	json_object_set_new(o, "tags", kv_object(r->tags, r->tag_count));
	json_object_set_new(o, "properties", kv_object(r->properties, r->property_count));
	json_object_set_new(o, "created_at", str_or_null(r->created_at));
	json_object_set_new(o, "archived", json_boolean(r->archived));
	json_object_set_new(src, "kind", str_or_null(r->source.kind));
	json_object_set_new(src, "path", str_or_null(r->source.path));
	if (r->source.git_commit) {
		json_t *git = json_object();
		json_object_set_new(git, "commit", json_string(r->source.git_commit));
		json_object_set_new(git, "branch", str_or_null(r->source.git_branch));
		json_object_set_new(git, "dirty", r->source.git_dirty < 0
						  ? json_null()
						  : json_boolean(r->source.git_dirty));
		json_object_set_new(git, "path", str_or_null(r->source.git_path));
		json_object_set_new(git, "remote", str_or_null(r->source.git_remote));
		json_object_set_new(src, "git", git);
	}
	if (r->source.fetched_at) {
		json_t *fetched = json_object();
		json_object_set_new(fetched, "at", json_string(r->source.fetched_at));
		json_object_set_new(fetched, "etag", str_or_null(r->source.etag));
		json_object_set_new(fetched, "last_modified", str_or_null(r->source.last_modified));
		json_object_set_new(src, "fetched", fetched);
	}
	json_object_set_new(o, "source", src);
	src = NULL;
	json_object_set_new(o, "digest", json_string(r->digest));
	json_object_set_new(o, "size", json_integer((json_int_t)r->total_size));
	for (size_t i = 0; i < r->file_count; i++) {
		const mreg_file *f = &r->files[i];
		char mode[8];
		snprintf(mode, sizeof(mode), "%04o", f->mode);
		json_array_append_new(files, json_pack("{s:s, s:I, s:s, s:s}", "path", f->path,
						       "size", (json_int_t)f->size, "mode", mode,
						       "digest", f->digest));
	}
	json_object_set_new(o, "files", files);
	files = NULL;
	json_object_set_new(o, "dirs", dirs_array(r));
	json_object_set_new(o, "links", links_array(r));
	if (r->format_json && (extra = json_loads(r->format_json, 0, NULL))) {
		const char *k;
		json_t *v;
		json_object_foreach(extra, k, v) {
			if (!record_core_key(k))
				json_object_set(o, k, v);
		}
		json_decref(extra);
	}
	return o;
fail:
	json_decref(o);
	json_decref(files);
	json_decref(src);
	return NULL;
}

int mreg_record_to_json(char **out, const mreg_record *record)
{
	json_t *v = record_to_json_value(record);

	*out = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(v);
	return *out ? 0 : mreg_seterr_nomem();
}

int record_tree_to_json(json_t *o, const mreg_record *r)
{
	if (r->dir_count && json_object_set_new(o, "dirs", dirs_array(r)))
		return mreg_seterr_nomem();
	if (r->link_count && json_object_set_new(o, "links", links_array(r)))
		return mreg_seterr_nomem();
	return 0;
}

/* Element @i of list @key: an object of the two strings @a and @b; MREG_EINVALID otherwise. */
static int pair_at(json_t *list, size_t i, const char *key, const char *a, const char *b,
		   const char **va, const char **vb, const char *where)
{
	json_t *e = json_array_get(list, i);
	json_t *x = json_object_get(e, a), *y = json_object_get(e, b);

	if (!json_is_object(e) || !json_is_string(x) || !json_is_string(y) ||
	    json_object_size(e) != 2)
		return mreg_seterr(MREG_EINVALID,
				   "%s: %s[%zu] must be an object of two strings, \"%s\" and \"%s\"",
				   where, key, i, a, b);
	*va = json_string_value(x);
	*vb = json_string_value(y);
	if (!utf8_printable(*va) || !utf8_printable(*vb))
		return mreg_seterr(MREG_EINVALID,
				   "%s: %s[%zu] holds control characters or bad UTF-8", where, key, i);
	return 0;
}

int record_tree_from_json(mreg_record *r, json_t *o, const char *where)
{
	json_t *dirs = json_object_get(o, "dirs"), *links = json_object_get(o, "links");
	char why[512];
	int rc;

	if ((dirs && !json_is_array(dirs)) || (links && !json_is_array(links)))
		return mreg_seterr(MREG_EINVALID, "%s: %s must be a list", where,
				   dirs && !json_is_array(dirs) ? "dirs" : "links");
	if (json_array_size(dirs)) {
		if (!(r->dirs = calloc(json_array_size(dirs), sizeof(*r->dirs))))
			return mreg_seterr_nomem();
		for (size_t i = 0; i < json_array_size(dirs); i++) {
			const char *path, *mode;
			char *end;
			unsigned long v;
			if ((rc = pair_at(dirs, i, "dirs", "path", "mode", &path, &mode, where)))
				return rc;
			v = strtoul(mode, &end, 8);
			if (!mode[0] || mode[0] == '-' || mode[0] == '+' || *end || v > 0777)
				return mreg_seterr(MREG_EINVALID,
						   "%s: dirs[%zu]: mode '%s' is not an octal permission",
						   where, i, mode);
			if (i > 0 && strcmp(r->dirs[i - 1].path, path) >= 0)
				return mreg_seterr(MREG_EINVALID,
						   "%s: dirs are not sorted by path, or '%s' is listed "
						   "twice", where, path);
			if (!(r->dirs[i].path = strdup(path)))
				return mreg_seterr_nomem();
			r->dirs[i].mode = (unsigned int)v;
			r->dir_count = i + 1;
		}
	}
	if (json_array_size(links)) {
		if (!(r->links = calloc(json_array_size(links), sizeof(*r->links))))
			return mreg_seterr_nomem();
		for (size_t i = 0; i < json_array_size(links); i++) {
			const char *path, *target;
			if ((rc = pair_at(links, i, "links", "path", "target", &path, &target, where)))
				return rc;
			if (i > 0 && strcmp(r->links[i - 1].path, path) >= 0)
				return mreg_seterr(MREG_EINVALID,
						   "%s: links are not sorted by path, or '%s' is listed "
						   "twice", where, path);
			r->links[i].path = strdup(path);
			r->links[i].target = strdup(target);
			r->link_count = i + 1;
			if (!r->links[i].path || !r->links[i].target)
				return mreg_seterr_nomem();
		}
	}
	rc = record_check_tree(r, false, why, sizeof(why));
	if (rc == MREG_EINVALID)
		return mreg_seterr(MREG_EINVALID, "%s: %s", where, why);
	return rc;
}
