/* Records: naming rules, references, YAML round trip, damaged files. */
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "store/record_priv.h"
#include "tap.h"

static void test_names(void)
{
	tap_is_int(mreg_name_check("churn"), 0, "plain name accepted");
	tap_is_int(mreg_name_check("A1_b-c"), 0, "letters, digits, _ and - accepted");
	tap_is_int(mreg_name_check("my model"), MREG_EINVALID, "a space is refused");
	tap_ok(strstr(mreg_error_last(), "character 3") != NULL, "message names the character: %s",
	       mreg_error_last());
	tap_is_int(mreg_name_check("-x"), MREG_EINVALID, "leading '-' is refused");
	tap_is_int(mreg_name_check(""), MREG_EINVALID, "empty name is refused");
	char long_name[300];
	memset(long_name, 'a', 256);
	long_name[256] = '\0';
	tap_is_int(mreg_name_check(long_name), MREG_EINVALID, "256 characters is too long");
	long_name[255] = '\0';
	tap_is_int(mreg_name_check(long_name), 0, "255 characters is fine");
}

static void test_versions(void)
{
	tap_is_int(mreg_version_check("1"), 0, "integer version");
	tap_is_int(mreg_version_check("2025.11"), 0, "dotted version");
	tap_is_int(mreg_version_check("_rc-1"), 0, "leading underscore");
	tap_is_int(mreg_version_check(".1"), MREG_EINVALID, "leading dot refused");
	tap_is_int(mreg_version_check("1/2"), MREG_EINVALID, "slash refused");
	tap_is_int(mreg_version_check("v 1"), MREG_EINVALID, "space refused");
	tap_is_int(mreg_version_check("-1"), MREG_EINVALID, "leading '-' refused");
	tap_is_str(mreg_error_last(), "version '-1' must start with a letter, digit or '_'",
		   "the message for a leading '-'");
	tap_is_int(mreg_version_check("1.-_"), 0, "'.', '-' and '_' after the first character");
	tap_is_int(mreg_version_check("caf\xc3\xa9"), MREG_EINVALID, "a non-ASCII letter refused");
	tap_is_str(mreg_error_last(),
		   "version 'caf\xc3\xa9': character 4 ('?') is not allowed (letters, digits, '_', "
		   "'.' and '-' only)",
		   "the message names the byte's position");
	tap_is_int(mreg_version_check(""), MREG_EINVALID, "empty refused");
	tap_is_int(mreg_version_check(NULL), MREG_EINVALID, "NULL refused");
	char v[200];
	memset(v, '7', 129);
	v[129] = '\0';
	tap_is_int(mreg_version_check(v), MREG_EINVALID, "129 characters refused");
	tap_ok(strstr(mreg_error_last(), "is longer than 128 characters") != NULL,
	       "the message says the bound: %s", mreg_error_last());
	v[128] = '\0';
	tap_is_int(mreg_version_check(v), 0, "128 characters accepted");
}

static void test_refs(void)
{
	mreg_ref r;

	tap_is_int(mreg_ref_parse(&r, "churn:3"), 0, "NAME:VERSION parses");
	tap_is_str(r.name, "churn", "name part");
	tap_is_str(r.version, "3", "version part");
	mreg_ref_dispose(&r);
	tap_is_int(mreg_ref_parse(&r, "churn@latest"), 0, "NAME@latest parses");
	tap_ok(r.latest && !r.version, "latest flag set, no version");
	mreg_ref_dispose(&r);
	tap_is_int(mreg_ref_parse(&r, "churn@best"), MREG_EINVALID, "unknown label refused");
	tap_is_int(mreg_ref_parse(&r, "churn:"), MREG_EINVALID, "empty version refused");
}

static mreg_record *sample(void)
{
	mreg_record *r = calloc(1, sizeof(*r));
	r->name = strdup("churn");
	r->version = strdup("2025.11");
	r->type = strdup("custom_model");
	r->description = strdup("line one\nline: two");
	r->created_at = strdup("2026-11-26T06:00:00.000001Z");
	r->source.path = strdup("/data/model");
	r->source.kind = strdup("directory");
	r->source.git_dirty = -1;
	kv_set(&r->tags, &r->tag_count, "team", "ml");
	kv_set(&r->tags, &r->tag_count, "flag", "true");
	kv_set(&r->properties, &r->property_count, "n", "007");
	r->file_count = 2;
	r->files = calloc(2, sizeof(*r->files));
	r->files[0].path = strdup("a b.txt");
	r->files[0].size = 5;
	r->files[0].mode = 0755;
	strcpy(r->files[0].digest,
	       "sha256:0000000000000000000000000000000000000000000000000000000000000001");
	r->files[1].path = strdup("sub/w.bin");
	r->files[1].size = 1ULL << 40;
	r->files[1].mode = 0644;
	strcpy(r->files[1].digest,
	       "sha256:00000000000000000000000000000000000000000000000000000000000000ff");
	r->format_json = strdup("{\"flavors\":{\"python_function\":{\"loader_module\":\"x\"}},"
				"\"n\":1.5}");
	record_compute_digest(r);
	return r;
}

static void test_roundtrip(void)
{
	mreg_record *r = sample(), *back = NULL;
	char *yaml = NULL;
	size_t len = 0;

	tap_is_int(record_to_yaml(&yaml, &len, r), 0, "record serialises");
	tap_ok(yaml && strstr(yaml, "version: \"2025.11\"") != NULL,
	       "a version that looks like a number is quoted");
	tap_ok(yaml && strstr(yaml, "flag: \"true\"") != NULL, "a tag value 'true' stays a string");
	tap_write("r.yaml", yaml ? yaml : "");
	tap_is_int(record_read_file(&back, "r.yaml"), 0, "record parses back");
	if (back) {
		tap_is_str(back->version, "2025.11", "version survives");
		tap_is_str(back->description, "line one\nline: two", "multi-line description survives");
		tap_is_str(mreg_record_tag(back, "flag"), "true", "tag survives");
		tap_is_int(back->files[1].size, 1ULL << 40, "large size survives");
		tap_is_int(back->files[0].mode, 0755, "mode survives");
		tap_is_str(back->digest, r->digest, "content digest survives");
		tap_ok(back->format_json && strstr(back->format_json, "loader_module"),
		       "format metadata survives: %s", back->format_json);
	}
	mreg_record_free(back);
	free(yaml);
	mreg_record_free(r);
}

static void test_damaged(void)
{
	mreg_record *r = NULL;

	tap_write("bad.yaml", "name: churn\nversion: [1\n");
	tap_is_int(record_read_file(&r, "bad.yaml"), MREG_ECORRUPT, "invalid YAML is corrupt");
	tap_ok(strstr(mreg_error_last(), "bad.yaml:") != NULL, "message names the file and line: %s",
	       mreg_error_last());
	tap_write("nofiles.yaml", "name: churn\nversion: '1'\ntype: custom_model\n"
				  "created_at: x\ndigest: sha256:00\n");
	tap_is_int(record_read_file(&r, "nofiles.yaml"), MREG_ECORRUPT, "missing field is corrupt");
	tap_write("list.yaml", "- a\n- b\n");
	tap_is_int(record_read_file(&r, "list.yaml"), MREG_ECORRUPT, "a list is not a record");
	tap_write("empty.yaml", "");
	tap_is_int(record_read_file(&r, "empty.yaml"), MREG_ECORRUPT, "an empty file is not a record");
	tap_is_int(record_read_file(&r, "missing.yaml"), MREG_ENOTFOUND, "a missing file is not found");
	FILE *f = fopen("deep.yaml", "w");
	fputs("name: ", f);
	for (int i = 0; i < 100000; i++)
		fputc('[', f);
	fclose(f);
	tap_is_int(record_read_file(&r, "deep.yaml"), MREG_ECORRUPT, "100000 levels of nesting refused");
	tap_ok(strstr(mreg_error_last(), "deep.yaml:1:") && strstr(mreg_error_last(), "too deep"),
	       "message names the place: %s", mreg_error_last());
	tap_write("alias.yaml", "a: &x [1, 2]\nb: [*x, *x]\n");
	tap_is_int(record_read_file(&r, "alias.yaml"), MREG_ECORRUPT, "aliases refused in records");
	tap_ok(strstr(mreg_error_last(), "alias.yaml:2:") != NULL, "message names the alias: %s",
	       mreg_error_last());
}

/* A record whose second file is @path, written and read back. */
static int read_with_path(const char *path)
{
	mreg_record *r = sample(), *back = NULL;
	char *yaml = NULL;
	size_t len = 0;
	int rc;

	free(r->files[1].path);
	r->files[1].path = strdup(path);
	rc = record_to_yaml(&yaml, &len, r);
	if (rc == 0) {
		tap_write("p.yaml", yaml);
		rc = record_read_file(&back, "p.yaml");
	}
	mreg_record_free(back);
	mreg_record_free(r);
	free(yaml);
	return rc;
}

static void test_file_paths(void)
{
	static const char *const bad[] = {"sub/..", "sub/../w.bin", "sub//w.bin", "sub/./w.bin",
		"sub/.", "sub/", "/sub/w.bin", ".", "./sub", "..", "../sub"};

	tap_is_int(read_with_path("sub/w.bin"), 0, "a plain relative path is fine");
	tap_is_int(read_with_path("sub/..w/.x"), 0, "names with dots are fine");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		tap_is_int(read_with_path(bad[i]), MREG_ECORRUPT, "file path '%s' refused", bad[i]);
		tap_ok(strstr(mreg_error_last(), "is not a plain relative path") != NULL,
		       "the message says why: %s", mreg_error_last());
	}
}

static void test_digest_stable(void)
{
	mreg_record *a = sample(), *b = sample();

	tap_is_str(a->digest, b->digest, "same files give the same content digest");
	b->files[0].mode = 0644;
	record_compute_digest(b);
	tap_ok(strcmp(a->digest, b->digest) != 0, "a mode change changes the content digest");
	mreg_record_free(a);
	mreg_record_free(b);
}

int main(void)
{
	tap_tmpdir();
	test_names();
	test_versions();
	test_refs();
	test_roundtrip();
	test_damaged();
	test_file_paths();
	test_digest_stable();
	return tap_done();
}
