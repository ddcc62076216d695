/* The record as JSON: `--json` output and, later, bundle configs. */
#include <stdlib.h>

#include "util/error_priv.h"
#include "record_priv.h"

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
