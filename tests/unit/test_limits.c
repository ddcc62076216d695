/*
 * The limits of mreg/limits.h: the store's bound of a version's manifest and
 * config (record_limits.c, which cannot call the bundle code above it) is
 * never below what oci_manifest_build() and oci_config_build() really write,
 * for records made to be as large as possible per byte: quotes, backslashes
 * and control characters (which JSON escapes, twice inside the record
 * annotation), the longest media type, the largest sizes. And a version that
 * passes record_check_limits() has a manifest registries take.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/layer.h"
#include "bundle/oci.h"
#include "mreg.h"
#include "store/record_priv.h"
#include "util/error_priv.h"
#include "tap.h"

/* @len bytes cycling through @chars. */
static char *fill(const char *chars, size_t len)
{
	char *s = malloc(len + 1);
	size_t n = strlen(chars);

	for (size_t i = 0; i < len; i++)
		s[i] = chars[i % n];
	s[len] = '\0';
	return s;
}

static void add_file(mreg_record *r, const char *path, uint64_t size)
{
	mreg_file *f;

	/* Room doubles at each power of two (ASan copies on every realloc). */
	if ((r->file_count & (r->file_count - 1)) == 0)
		r->files = realloc(r->files, (r->file_count ? 2 * r->file_count : 1) * sizeof(*r->files));
	f = &r->files[r->file_count++];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	f->size = size;
	f->mode = 0777;
	snprintf(f->digest, sizeof(f->digest), "sha256:%064d", (int)r->file_count);
}

static mreg_record *base_record(void)
{
	mreg_record *r = calloc(1, sizeof(*r));

	r->name = strdup("churn");
	r->version = strdup("v1.0-rc_2");
	r->type = strdup("custom_model");
	r->created_at = strdup("2026-12-06T03:21:27.303748Z");
	r->digest = strdup("sha256:beaa516b30c8dedd062f799b444cf4557d6d0b5fb539c1a6d1a3bdd44b157f26");
	r->source.git_dirty = -1;
	return r;
}

/* Build the config and manifest of @r and compare with the bounds. */
static void bound_holds(const mreg_record *r, const char *what)
{
	oci_blob config = {0}, manifest = {0}, tree = {0};
	uint64_t mb = record_manifest_bound(r, NULL, 0), cb = record_config_bound(r, r->file_count);

	if (!tap_ok(layer_tree_build(&tree, r) == 0 && oci_config_build(&config, r, &tree) == 0 &&
			    oci_manifest_build(&manifest, r, &config, &tree) == 0,
		    "%s: config and manifest build", what))
		return;
	tap_ok(manifest.len <= mb, "%s: manifest %zu bytes <= bound %llu", what, manifest.len,
	       (unsigned long long)mb);
	tap_ok(config.len <= cb, "%s: config %zu bytes <= bound %llu", what, config.len,
	       (unsigned long long)cb);
	/* Not so loose that it refuses what would fit by far. */
	tap_ok(mb <= 2 * manifest.len + 4096, "%s: the bound is within twice the manifest", what);
	oci_blob_dispose(&config);
	oci_blob_dispose(&manifest);
	oci_blob_dispose(&tree);
}

static void test_bounds(void)
{
	mreg_record *r = base_record();
	char key[32];

	add_file(r, "a", 1);
	bound_holds(r, "one small file");

	/* Every escaped character, at both levels, in every string. */
	static const char nasty[] = "\"\\\x01\n\t\x1f/'\xc3\xa9x";
	free(r->description);
	r->description = fill(nasty, MREG_DESCRIPTION_MAX);
	r->stage = fill(nasty, MREG_STAGE_MAX);
	for (int i = 0; i < 50; i++) {
		char *v = fill(nasty, 4000);
		snprintf(key, sizeof(key), "k\"%d\\", i);
		kv_set(&r->tags, &r->tag_count, key, v);
		kv_set(&r->properties, &r->property_count, key, v);
		free(v);
	}
	r->format_json = strdup("{\"flavors\":{\"python_function\":{\"loader\":\"a\\\"b\\\\c\\u0001\"}},"
				"\"signature\":[1,2,3]}");
	r->source.kind = strdup("directory");
	r->source.path = fill("/\"\\x", 4000);
	r->source.git_commit = fill("0123456789abcdef", 40);
	r->source.git_branch = fill("b\"", 200);
	r->source.git_path = fill("p\\", 200);
	r->source.git_remote = fill("https://h/\"", 300);
	bound_holds(r, "escapes everywhere");

	/* Long paths full of quotes, the longest media type (config.json is
	 * weight.config), the largest sizes, folders and links. */
	for (int i = 0; i < 300; i++) {
		char *p = fill("\"q/", 3000);
		snprintf(p + 2990, 10, "%d.json", i);
		add_file(r, p, INT64_MAX);
		free(p);
	}
	add_file(r, "config.json", INT64_MAX);
	add_file(r, "weights.unknownext", INT64_MAX);
	r->dirs = calloc(2, sizeof(*r->dirs));
	r->dirs[0].path = fill("d\"", 1000);
	r->dirs[0].mode = 0755;
	r->dirs[1].path = fill("e\"", 1000);
	r->dir_count = 2;
	r->links = calloc(1, sizeof(*r->links));
	r->links[0].path = fill("l\"", 1000);
	r->links[0].target = fill("t\"", 1000);
	r->link_count = 1;
	bound_holds(r, "long quoted paths, folders, links");
	mreg_record_free(r);

	/* Many short files: the common case that decides how many files fit. */
	r = base_record();
	for (int i = 0; i < 5000; i++) {
		char p[32];
		snprintf(p, sizeof(p), "shard-%05d.bin", i);
		add_file(r, p, 123456789);
	}
	bound_holds(r, "5000 files");
	mreg_record_free(r);
}

/* The most files the door takes: that version fits a registry, one more is refused. */
static void test_largest_accepted(void)
{
	mreg_record *r = base_record();
	oci_blob config = {0}, manifest = {0};
	const char **paths;
	size_t lo = 1, hi = 9000; /* lo passes, hi is refused */
	char p[64];

	r->description = fill("d\"", MREG_DESCRIPTION_MAX);
	for (size_t i = 0; i < hi; i++) {
		snprintf(p, sizeof(p), "model/layers/%06zu/weights.safetensors", i);
		add_file(r, p, INT64_MAX);
	}
	paths = calloc(hi, sizeof(*paths));
	for (size_t i = 0; i < hi; i++)
		paths[i] = r->files[i].path;
	tap_is_int(record_check_limits(r, paths, lo, "largest"), 0, "one file passes");
	tap_is_int(record_check_limits(r, paths, hi, "largest"), MREG_EINVALID,
		   "%zu files are refused", hi);
	tap_ok(strstr(mreg_error_last(), "largest: the version would need a manifest of up to") &&
		       strstr(mreg_error_last(), "more than the 4194304 (4 MiB) registries accept"),
	       "naming the manifest and the limit: %s", mreg_error_last());
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		*(record_check_limits(r, paths, mid, "largest") ? &hi : &lo) = mid;
	}
	free(paths);
	while (r->file_count > lo)
		free(r->files[--r->file_count].path);
	tap_is_int(record_check_limits(r, NULL, 0, "largest"), 0, "the most the door takes: %zu files",
		   r->file_count);
	tap_ok(r->file_count > 6000, "more than 6000 such files fit (%zu)", r->file_count);
	tap_ok(oci_config_build(&config, r, NULL) == 0 &&
		       oci_manifest_build(&manifest, r, &config, NULL) == 0,
	       "it builds");
	tap_ok(manifest.len <= MREG_MANIFEST_MAX && config.len <= MREG_MANIFEST_MAX,
	       "its manifest (%zu bytes) and config (%zu) are within 4 MiB", manifest.len,
	       config.len);
	tap_is_int(oci_check_size(r, &config, &manifest), 0, "package and push take it");
	oci_blob_dispose(&config);
	oci_blob_dispose(&manifest);
	mreg_record_free(r);
}

static void test_fields(void)
{
	mreg_record *r = base_record();
	char *big;

	add_file(r, "a", 1);
	r->description = fill("x", MREG_DESCRIPTION_MAX + 1);
	tap_is_int(record_check_limits(r, NULL, 0, "b.tar"), MREG_EINVALID, "a long description");
	tap_is_str(mreg_error_last(),
		   "b.tar: description is 65537 bytes; a version's description is at most 65536 "
		   "bytes",
		   "the message names where, the field, the size and the limit");
	free(r->description);
	r->description = NULL;
	big = fill("v", MREG_KV_VALUE_MAX + 1);
	kv_set(&r->properties, &r->property_count, "auc", big);
	free(big);
	tap_is_int(record_check_limits(r, NULL, 0, NULL), MREG_EINVALID, "a long property value");
	tap_is_str(mreg_error_last(),
		   "property 'auc': the value is 16385 bytes; a property's value is at most 16384 "
		   "bytes",
		   "named without a prefix when there is no where");
	kv_free(r->properties, r->property_count);
	r->properties = NULL;
	r->property_count = 0;
	big = malloc(MREG_METADATA_MAX + 16);
	memcpy(big, "{\"m\":\"", 6);
	memset(big + 6, 'm', MREG_METADATA_MAX);
	strcpy(big + 6 + MREG_METADATA_MAX, "\"}");
	r->format_json = big;
	tap_is_int(record_check_limits(r, NULL, 0, NULL), MREG_EINVALID, "metadata over 1 MiB");
	tap_ok(strstr(mreg_error_last(), "the custom_model metadata is 1048584 bytes as JSON") != NULL,
	       "named with the type: %s", mreg_error_last());
	mreg_record_free(r);
}

int main(void)
{
	test_bounds();
	test_largest_accepted();
	test_fields();
	return tap_done();
}
