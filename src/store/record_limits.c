/*
 * The limits of include/mreg/limits.h, checked where a version comes in
 * (create, update, import, pull) so that whatever is registered also fits a
 * bundle and a registry.
 *
 * The manifest a version becomes (src/bundle/oci.c: one layer per file, the
 * record as one JSON string annotation) is bounded from above here without
 * building it: the store sits below the bundle code. tests/unit/test_bundle.c
 * checks the bound against oci_manifest_build() and oci_config_build() for
 * records made to be as large as possible per byte (quotes and control
 * characters, which JSON escapes, at every level).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mreg/limits.h"
#include "util/error_priv.h"
#include "record_priv.h"
#include "util/strutil.h"

/* Every manifest's fixed part: its keys, media types, the config descriptor. */
#define MANIFEST_FIXED 1024u
/*
 * One layer apart from its path: 426 bytes measured for a one-byte file;
 * a size of 19 digits (twice) adds 36, the longest media type
 * (weight.config) 7, the comma between layers 1.
 */
#define LAYER_FIXED 480u
/* The config's fixed part (keys, media types, format); a file's diffId. */
#define CONFIG_FIXED 1024u
#define DIFF_ID 76u
/* The record annotation's keys, bundle_format, punctuation. */
#define RECORD_FIXED 512u
/*
 * What create does not know yet when it checks (before any file is stored):
 * the version (GRAMMAR_TAG_MAX bytes at most), the creation time, the digest,
 * each with its key.
 */
#define VERSION_ROOM 160u
#define CREATED_ROOM 64u
#define DIGEST_ROOM 96u

/*
 * Bytes of @s as a JSON string's contents (as jansson writes it), written
 * @depth times over (2: a JSON string inside a JSON string). Quotes and
 * backslashes double at each level, \b \f \n \r \t become two characters
 * and then three, other control characters \u00XX and then \\u00XX.
 */
static uint64_t esc_len(const char *s, int depth)
{
	uint64_t n = 0;

	if (!s)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			n += depth == 1 ? 2 : 4;
		else if (*p == '\b' || *p == '\f' || *p == '\n' || *p == '\r' || *p == '\t')
			n += depth == 1 ? 2 : 3;
		else if (*p < 0x20)
			n += depth == 1 ? 6 : 7;
		else
			n++;
	}
	return n;
}

/*
 * A key and its string value in a JSON object, "key":"value", (depth 1) or
 * the same inside a JSON string, \"key\":\"value\", (depth 2).
 */
static uint64_t field(const char *key, const char *value, int depth)
{
	return value ? esc_len(key, depth) + esc_len(value, depth) + (depth == 1 ? 6 : 10) : 0;
}

static uint64_t kv_len(const mreg_kv *items, size_t count, int depth)
{
	uint64_t n = 4;

	for (size_t i = 0; i < count; i++)
		n += field(items[i].key, items[i].value, depth);
	return n;
}

/* The compact JSON of the metadata, as the record annotation holds it; NULL when none. */
static char *metadata_text(const mreg_record *r)
{
	json_t *meta;
	char *text;

	if (!r->format_json)
		return NULL;
	meta = json_loads(r->format_json, 0, NULL);
	text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
	json_decref(meta);
	return text;
}

/* The metadata's size as compact JSON (written @depth times over, see esc_len). */
static uint64_t metadata_len(const mreg_record *r, int depth)
{
	char *text = metadata_text(r);
	/* Unparsable metadata is left out of bundles: count its text anyway. */
	uint64_t n = text ? (depth == 1 ? strlen(text) : esc_len(text, 1))
			  : esc_len(r->format_json, depth);

	free(text);
	return n;
}

/*
 * The record annotation: mreg's record as JSON (oci_record_json()), as the
 * manifest holds it, inside a JSON string (@depth 2).
 */
static uint64_t record_json_len(const mreg_record *r, int depth)
{
	const mreg_source *s = &r->source;
	uint64_t n = RECORD_FIXED * (uint64_t)depth;

	n += field("name", r->name, depth) + field("version", r->version, depth) +
	     field("type", r->type, depth) + field("description", r->description, depth) +
	     field("stage", r->stage, depth) + field("created_at", r->created_at, depth) +
	     field("digest", r->digest, depth);
	n += (r->version ? 0 : VERSION_ROOM) + (r->created_at ? 0 : CREATED_ROOM) +
	     (r->digest ? 0 : DIGEST_ROOM);
	n += 32 + kv_len(r->tags, r->tag_count, depth) +
	     kv_len(r->properties, r->property_count, depth);
	n += 32 + field("kind", s->kind, depth) + field("path", s->path, depth);
	n += 48 + field("commit", s->git_commit, depth) + field("branch", s->git_branch, depth) +
	     field("path", s->git_path, depth) + field("remote", s->git_remote, depth);
	n += 48 + field("at", s->fetched_at, depth) + field("etag", s->etag, depth) +
	     field("last_modified", s->last_modified, depth);
	for (size_t i = 0; i < r->dir_count; i++)
		n += field("path", r->dirs[i].path, depth) + 32;
	for (size_t i = 0; i < r->link_count; i++)
		n += field("path", r->links[i].path, depth) +
		     field("target", r->links[i].target, depth) + 8;
	n += 32 + metadata_len(r, depth);
	return n;
}

/* One layer of the manifest: its path twice, its base name in the file metadata. */
uint64_t record_layer_len(const char *path)
{
	const char *base = strrchr(path, '/');

	return LAYER_FIXED + 2 * esc_len(path, 1) + esc_len(base ? base + 1 : path, 2);
}

static const char *path_at(const mreg_record *r, const char *const *paths, size_t i)
{
	return paths ? paths[i] : r->files[i].path;
}

/* The manifest apart from its files' layers. */
static uint64_t manifest_rest(const mreg_record *r)
{
	uint64_t n = MANIFEST_FIXED;

	/* The tree layer (empty folders and links): a descriptor with a short annotation. */
	if (r->dir_count || r->link_count)
		n += LAYER_FIXED;
	/* image.created, .title, .version and .description, then the record as a string. */
	n += esc_len(r->created_at, 1) + esc_len(r->name, 1) + esc_len(r->version, 1) +
	     esc_len(r->description, 1) + (r->version ? 0 : VERSION_ROOM) +
	     (r->created_at ? 0 : CREATED_ROOM);
	return n + record_json_len(r, 2);
}

/* The layers of the files: @paths[0..@count), or the record's files. */
static uint64_t layers_len(const mreg_record *r, const char *const *paths, size_t count)
{
	uint64_t n = 0;

	if (!paths)
		count = r->file_count;
	for (size_t i = 0; i < count; i++)
		n += record_layer_len(path_at(r, paths, i));
	return n;
}

uint64_t record_manifest_bound(const mreg_record *r, const char *const *paths, size_t count)
{
	return manifest_rest(r) + layers_len(r, paths, count);
}

uint64_t record_config_bound(const mreg_record *r, size_t file_count)
{
	return CONFIG_FIXED + VERSION_ROOM + CREATED_ROOM + esc_len(r->name, 1) +
	       esc_len(r->version, 1) +
	       esc_len(r->description, 1) + esc_len(r->created_at, 1) +
	       esc_len(r->source.git_commit, 1) + esc_len(r->source.git_remote, 1) +
	       ((uint64_t)file_count + 1) * DIFF_ID; /* + 1: the tree layer's */
}

static const char *sep(const char *where)
{
	return where && *where ? ": " : "";
}

int limits_check_text(const char *where, const char *field_name, const char *value, size_t max)
{
	size_t len = value ? strlen(value) : 0;

	if (len <= max)
		return 0;
	return mreg_seterr(MREG_EINVALID, "%s%s%s is %zu bytes; a version's %s is at most %zu bytes",
			   where ? where : "", sep(where), field_name, len, field_name, max);
}

int limits_check_kv(const char *where, const char *what, const mreg_kv *items, size_t count)
{
	const char *plural = strcmp(what, "property") ? "tags" : "properties";

	if (count > MREG_KV_COUNT_MAX)
		return mreg_seterr(MREG_EINVALID, "%s%s%zu %s; a version has at most %u %s",
				   where ? where : "", sep(where), count, plural, MREG_KV_COUNT_MAX,
				   plural);
	for (size_t i = 0; items && i < count; i++) {
		size_t k = strlen(items[i].key), v = items[i].value ? strlen(items[i].value) : 0;
		if (k > MREG_KV_KEY_MAX)
			return mreg_seterr(MREG_EINVALID,
					   "%s%s%s '%.40s...': the key is %zu bytes; a %s's key is at "
					   "most %u bytes",
					   where ? where : "", sep(where), what, items[i].key, k, what,
					   MREG_KV_KEY_MAX);
		if (v > MREG_KV_VALUE_MAX)
			return mreg_seterr(MREG_EINVALID,
					   "%s%s%s '%s': the value is %zu bytes; a %s's value is at "
					   "most %u bytes",
					   where ? where : "", sep(where), what, items[i].key, v, what,
					   MREG_KV_VALUE_MAX);
	}
	return 0;
}

int record_check_limits(const mreg_record *r, const char *const *paths, size_t count,
			const char *where)
{
	return record_check_limits_counted(r, paths ? count : r->file_count,
					   layers_len(r, paths, count), where);
}

int record_check_limits_counted(const mreg_record *r, size_t count, uint64_t files,
				const char *where)
{
	const char *w = where ? where : "";
	uint64_t manifest, meta;
	size_t entries;
	int rc;

	if ((rc = limits_check_text(where, "description", r->description, MREG_DESCRIPTION_MAX)) ||
	    (rc = limits_check_text(where, "stage", r->stage, MREG_STAGE_MAX)) ||
	    (rc = limits_check_kv(where, "tag", r->tags, r->tag_count)) ||
	    (rc = limits_check_kv(where, "property", r->properties, r->property_count)))
		return rc;
	if ((meta = metadata_len(r, 1)) > MREG_METADATA_MAX)
		return mreg_seterr(MREG_EINVALID,
				   "%s%sthe %s metadata is %llu bytes as JSON; a version's metadata "
				   "is at most %u bytes",
				   w, sep(where), r->type ? r->type : "model type's",
				   (unsigned long long)meta, MREG_METADATA_MAX);
	entries = count + r->dir_count + r->link_count;
	if (entries > MREG_ENTRIES_MAX)
		return mreg_seterr(MREG_EINVALID,
				   "%s%s%zu files, empty folders and links; a version holds at most "
				   "%u",
				   w, sep(where), entries, MREG_ENTRIES_MAX);
	manifest = manifest_rest(r) + files;
	if (manifest > MREG_MANIFEST_MAX)
		return mreg_seterr(MREG_EINVALID,
				   "%s%sthe version would need a manifest of up to %llu bytes, more "
				   "than the %u (4 MiB) registries accept: its record (description, "
				   "tags, properties, metadata) takes up to %llu bytes of it, its %zu "
				   "file%s %llu (one layer each, named by its path); shorten the "
				   "record, or pack small files into an archive",
				   w, sep(where), (unsigned long long)manifest, MREG_MANIFEST_MAX,
				   (unsigned long long)(manifest - files), count, count == 1 ? "" : "s",
				   (unsigned long long)files);
	if (record_config_bound(r, count) > MREG_MANIFEST_MAX)
		return mreg_seterr(MREG_EINVALID,
				   "%s%sthe version's config would be up to %llu bytes, more than the "
				   "%u (4 MiB) registries accept",
				   w, sep(where), (unsigned long long)record_config_bound(r, count),
				   MREG_MANIFEST_MAX);
	return 0;
}
