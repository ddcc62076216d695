/* Records: naming rules, references, YAML round trip, damaged files. */
#include <stdio.h>
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
	tap_is_int(mreg_ref_parse(&r, "churn@best"), 0, "NAME@ALIAS parses");
	tap_ok(r.alias && !strcmp(r.alias, "best") && !r.version && !r.latest, "the alias, no version");
	mreg_ref_dispose(&r);
	tap_is_int(mreg_ref_parse(&r, "churn@be st"), MREG_EINVALID, "an alias with a space refused");
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

/*
 * Strings that plain YAML would read as something else, or cannot hold. The
 * record text is compared byte for byte: it is what the writer wrote before
 * the writer and MLflow's reader shared one resolver (util/yaml_resolve.c),
 * except the last four, which it used to write plain although PyYAML reads
 * them as floats (base 60, signed infinities).
 */
static const char *const tricky[] = {
	"yes", "No", "~", "1e3", "0x1F", "1_000", ".inf", "2025-01-01", "null", ":", "- a", "#x",
	"y", "N", "on", "OFF", "True", "Null", "", "0o17", "08", "1:20", "190:20:30", "3.1", ".",
	"1.5e+3", "-.inf", ".NaN", "2025-01-01 10:00:00", "a: b", "x #y", " lead", "trail ",
	"'q'", "\"dq\"", "=", "<<", "@at", "`tick", "!bang", "&amp", "*star", "%pct", "|", ">",
	"?", "[x]", "{x}", ",", "-", "tab\there", "two\nlines", "\xc3\xbc" "nicode",
	"2025-01-01\t10:00:00", /* a timestamp to PyYAML; libyaml quotes any tab anyway */
	/* written plain before the writer followed the reader's resolver */
	"1:20.5", "190:20:30.15", "-.Inf", "+.INF",
};

static const char tricky_yaml[] =
	"format: 2\n"
	"name: tricky\n"
	"version: \"1\"\n"
	"type: custom_model\n"
	"tags:\n"
	"  t00: \"yes\"\n"
	"  t01: \"No\"\n"
	"  t02: \"~\"\n"
	"  t03: \"1e3\"\n"
	"  t04: \"0x1F\"\n"
	"  t05: \"1_000\"\n"
	"  t06: \".inf\"\n"
	"  t07: \"2025-01-01\"\n"
	"  t08: \"null\"\n"
	"  t09: ':'\n"
	"  t10: '- a'\n"
	"  t11: '#x'\n"
	"  t12: \"y\"\n"
	"  t13: \"N\"\n"
	"  t14: \"on\"\n"
	"  t15: \"OFF\"\n"
	"  t16: \"True\"\n"
	"  t17: \"Null\"\n"
	"  t18: \"\"\n"
	"  t19: \"0o17\"\n"
	"  t20: \"08\"\n"
	"  t21: \"1:20\"\n"
	"  t22: \"190:20:30\"\n"
	"  t23: \"3.1\"\n"
	"  t24: \".\"\n"
	"  t25: \"1.5e+3\"\n"
	"  t26: \"-.inf\"\n"
	"  t27: \".NaN\"\n"
	"  t28: \"2025-01-01 10:00:00\"\n"
	"  t29: 'a: b'\n"
	"  t30: 'x #y'\n"
	"  t31: ' lead'\n"
	"  t32: 'trail '\n"
	"  t33: '''q'''\n"
	"  t34: '\"dq\"'\n"
	"  t35: =\n"
	"  t36: <<\n"
	"  t37: '@at'\n"
	"  t38: '`tick'\n"
	"  t39: '!bang'\n"
	"  t40: '&amp'\n"
	"  t41: '*star'\n"
	"  t42: '%pct'\n"
	"  t43: '|'\n"
	"  t44: '>'\n"
	"  t45: '?'\n"
	"  t46: '[x]'\n"
	"  t47: '{x}'\n"
	"  t48: ','\n"
	"  t49: '-'\n"
	"  t50: \"tab\\there\"\n"
	"  t51: 'two\n"
	"\n"
	"    lines'\n"
	"  t52: \xc3\xbcnicode\n"
	"  t53: \"2025-01-01\\t10:00:00\"\n"
	"  t54: \"1:20.5\"\n"
	"  t55: \"190:20:30.15\"\n"
	"  t56: \"-.Inf\"\n"
	"  t57: \"+.INF\"\n"
	"properties:\n"
	"  \"\": t18\n"
	"  ' lead': t31\n"
	"  '!bang': t39\n"
	"  '\"dq\"': t34\n"
	"  '#x': t11\n"
	"  '%pct': t42\n"
	"  '&amp': t40\n"
	"  '''q''': t33\n"
	"  '*star': t41\n"
	"  \"+.INF\": t57\n"
	"  ',': t48\n"
	"  '-': t49\n"
	"  '- a': t10\n"
	"  \"-.Inf\": t56\n"
	"  \"-.inf\": t26\n"
	"  \".\": t24\n"
	"  \".NaN\": t27\n"
	"  \".inf\": t06\n"
	"  \"08\": t20\n"
	"  \"0o17\": t19\n"
	"  \"0x1F\": t04\n"
	"  \"1.5e+3\": t25\n"
	"  \"190:20:30\": t22\n"
	"  \"190:20:30.15\": t55\n"
	"  \"1:20\": t21\n"
	"  \"1:20.5\": t54\n"
	"  \"1_000\": t05\n"
	"  \"1e3\": t03\n"
	"  \"2025-01-01\": t07\n"
	"  \"2025-01-01\\t10:00:00\": t53\n"
	"  \"2025-01-01 10:00:00\": t28\n"
	"  \"3.1\": t23\n"
	"  ':': t09\n"
	"  <<: t36\n"
	"  =: t35\n"
	"  '>': t44\n"
	"  '?': t45\n"
	"  '@at': t37\n"
	"  \"N\": t13\n"
	"  \"No\": t01\n"
	"  \"Null\": t17\n"
	"  \"OFF\": t15\n"
	"  \"True\": t16\n"
	"  '[x]': t46\n"
	"  '`tick': t38\n"
	"  'a: b': t29\n"
	"  \"null\": t08\n"
	"  \"on\": t14\n"
	"  \"tab\\there\": t50\n"
	"  'trail ': t32\n"
	"  ? 'two\n"
	"\n"
	"    lines'\n"
	"  : t51\n"
	"  'x #y': t30\n"
	"  \"y\": t12\n"
	"  \"yes\": t00\n"
	"  '{x}': t47\n"
	"  '|': t43\n"
	"  \"~\": t02\n"
	"  \xc3\xbcnicode: t52\n"
	"created_at: \"2026-01-01T00:00:00Z\"\n"
	"archived: false\n"
	"source: {}\n"
	"digest: sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
	"size: 0\n"
	"files: []\n";

static void test_tricky_strings(void)
{
	mreg_record *r = calloc(1, sizeof(*r)), *back = NULL;
	size_t n = sizeof(tricky) / sizeof(*tricky), same = 0;
	char *yaml = NULL, key[16];
	size_t len = 0;

	r->name = strdup("tricky");
	r->version = strdup("1");
	r->type = strdup("custom_model");
	r->created_at = strdup("2026-01-01T00:00:00Z");
	r->source.git_dirty = -1;
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "t%02zu", i);
		kv_set(&r->tags, &r->tag_count, key, tricky[i]);
		kv_set(&r->properties, &r->property_count, tricky[i], key);
	}
	record_compute_digest(r);
	tap_is_int(record_to_yaml(&yaml, &len, r), 0, "a record of tricky strings serialises");
	tap_is_str(yaml, tricky_yaml, "tricky strings are quoted as before, byte for byte");
	tap_write("tricky.yaml", yaml ? yaml : "");
	tap_is_int(record_read_file(&back, "tricky.yaml"), 0, "the record parses back");
	for (size_t i = 0; back && i < n; i++) {
		snprintf(key, sizeof(key), "t%02zu", i);
		const char *v = mreg_record_tag(back, key);
		bool ok = v && !strcmp(v, tricky[i]);
		for (size_t j = 0; ok && j < back->property_count; j++)
			if (!strcmp(back->properties[j].key, tricky[i]))
				ok = !strcmp(back->properties[j].value, key);
		if (ok)
			same++;
		else
			printf("# '%s' came back as '%s'\n", tricky[i], v ? v : "(none)");
	}
	tap_is_int(same, n, "every tricky string comes back as the same string, as value and key");
	mreg_record_free(back);
	mreg_record_free(r);
	free(yaml);
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

/* sample() with an empty folder and a link: a Triton ensemble's version folder. */
static mreg_record *sample_tree(void)
{
	mreg_record *r = sample();
	r->dir_count = 1;
	r->dirs = calloc(1, sizeof(*r->dirs));
	r->dirs[0].path = strdup("ensemble/1");
	r->dirs[0].mode = 0750;
	r->link_count = 1;
	r->links = calloc(1, sizeof(*r->links));
	r->links[0].path = strdup("sub/latest");
	r->links[0].target = strdup("w.bin");
	record_compute_digest(r);
	return r;
}

static void test_digest_rule(void)
{
	mreg_record *a = sample(), *b = sample_tree(), *c = sample_tree(), *d;

	/* The files-only digest from the rule as it was before folders and links
	 * (sha256 of "0755 5 <hex> a b.txt\n0644 1099511627776 <hex> sub/w.bin\n"). */
	tap_is_str(a->digest, "sha256:7902ded306d58e3d0c1f92f0865ffb7c50dc3ccd8d0c04dc627688b7c79d83a7",
		   "a tree of files alone keeps the digest it always had");
	tap_ok(strcmp(a->digest, b->digest) != 0, "an empty folder and a link change the digest");
	tap_is_str(b->digest, c->digest, "the same tree gives the same digest");
	c->dirs[0].mode = 0755;
	record_compute_digest(c);
	tap_ok(strcmp(b->digest, c->digest) != 0, "an empty folder's mode is in the digest");
	record_copy(&d, b);
	free(d->links[0].target);
	d->links[0].target = strdup("./w.bin");
	record_compute_digest(d);
	tap_ok(strcmp(b->digest, d->digest) != 0, "a link's text is in the digest");
	free(d->links[0].target);
	d->links[0].target = strdup("w.bin");
	record_compute_digest(d);
	tap_is_str(d->digest, b->digest, "record_copy keeps folders and links");
	/* Only the folder: one more line, "0750 dir ensemble/1", in path order. */
	mreg_record_free(d);
	d = sample();
	d->dir_count = 1;
	d->dirs = calloc(1, sizeof(*d->dirs));
	d->dirs[0].path = strdup("ensemble/1");
	d->dirs[0].mode = 0750;
	record_compute_digest(d);
	/* sha256 of the file lines with "0750 dir ensemble/1\n" between them. */
	tap_is_str(d->digest, "sha256:2061a382f0f11f21b369ad38321b18a7de9318f0bd84efac336e6c36ade2eba6", "the digest follows the rule of mreg-store(5)");
	mreg_record_free(a);
	mreg_record_free(b);
	mreg_record_free(c);
	mreg_record_free(d);
}

static void test_tree_yaml(void)
{
	mreg_record *r = sample_tree(), *back = NULL;
	char *yaml = NULL;
	size_t len = 0;

	tap_is_int(record_to_yaml(&yaml, &len, r), 0, "a record with folders and links serialises");
	tap_ok(yaml && !strncmp(yaml, "format: 2\n", 10), "it starts with its format");
	tap_ok(yaml && strstr(yaml, "dirs:\n- path: ensemble/1\n  mode: \"0750\"\n"),
	       "dirs: path and mode");
	tap_ok(yaml && strstr(yaml, "links:\n- path: sub/latest\n  target: w.bin\n"),
	       "links: path and target");
	tap_write("tree.yaml", yaml ? yaml : "");
	tap_is_int(record_read_file(&back, "tree.yaml"), 0, "it parses back");
	if (back) {
		tap_is_int(back->dir_count, 1, "one empty folder");
		tap_is_int(back->dir_count ? back->dirs[0].mode : 0, 0750, "its mode");
		tap_is_int(back->link_count, 1, "one link");
		tap_is_str(back->link_count ? back->links[0].target : NULL, "w.bin", "its target");
		tap_ok(back->format_json && !strstr(back->format_json, "dirs") &&
		       !strstr(back->format_json, "links"), "dirs and links are no plugin metadata");
		record_compute_digest(back);
		tap_is_str(back->digest, r->digest, "the digest recomputes the same");
	}
	mreg_record_free(back);
	free(yaml);
	mreg_record_free(r);
}

/* A record as mreg wrote it before format 2: no format field, no dirs. */
#define OLD_RECORD                                                                               \
	"name: churn\nversion: \"1\"\ntype: custom_model\ntags: {}\nproperties: {}\n"           \
	"created_at: \"2026-11-26T06:51:27.648490Z\"\narchived: false\n"                         \
	"source:\n  kind: directory\n  path: /work/main/examples/churn-model\n"                   \
	"digest: sha256:5dbd8607f31c03b1c125c18b2bc65efcbe4a5f87be785a964ca98bddb6e8b8af\n"         \
	"size: 1739\nfiles:\n"                                                                       \
	"- path: README.md\n  size: 828\n  mode: \"0644\"\n  digest: "                          \
	"sha256:c6d42923496adbf7435cc5c2be635df801f86b48e1192caeac7aa76726983fa4\n"                 \
	"- path: config.json\n  size: 273\n  mode: \"0644\"\n  digest: "                        \
	"sha256:bcc10bf1b69a5a16308310982fef599ec7266f9d90c43be88a94c029754094d1\n"                 \
	"- path: model.pkl\n  size: 135\n  mode: \"0644\"\n  digest: "                          \
	"sha256:00dc7cf7c8ce963ea5675d78ed2a8e4626683742991f7ce854b4224bf4408b83\n"                 \
	"- path: preprocessing.py\n  size: 503\n  mode: \"0644\"\n  digest: "                   \
	"sha256:29b25f1ecf110d603081d9c5c9445b523c474da5573c05008c07e4db9181385b\n"

static void test_formats(void)
{
	mreg_record *r = NULL;
	char *yaml = NULL, *digest = NULL;
	size_t len;

	tap_write("old.yaml", OLD_RECORD);
	tap_is_int(record_read_file(&r, "old.yaml"), 0, "a format 1 record (no format field) reads");
	if (r) {
		tap_ok(r->dir_count == 0 && r->link_count == 0, "no dirs, no links");
		digest = strdup(r->digest);
		record_compute_digest(r);
		tap_is_str(r->digest, digest, "its content digest (the README's churn:1) still checks");
		tap_is_int(record_to_yaml(&yaml, &len, r), 0, "rewriting it (update, archive) works");
		tap_ok(yaml && !strncmp(yaml, "format: 2\nname: churn\n", 22), "as format 2");
		tap_ok(yaml && !strstr(yaml, "dirs:") && !strstr(yaml, "links:"),
		       "without empty lists");
	}
	mreg_record_free(r);
	r = NULL;
	free(yaml);
	free(digest);

	tap_write("f1.yaml", "format: 1\n" OLD_RECORD);
	tap_is_int(record_read_file(&r, "f1.yaml"), 0, "format: 1 reads");
	mreg_record_free(r);
	r = NULL;
	tap_write("f3.yaml", "format: 3\n" OLD_RECORD);
	tap_is_int(record_read_file(&r, "f3.yaml"), MREG_EUNSUPPORTED, "format 3 is refused");
	tap_ok(strstr(mreg_error_last(), "f3.yaml:1:9: record format 3 was written by a newer mreg"),
	       "saying why: %s", mreg_error_last());
	tap_write("f0.yaml", "format: zero\n" OLD_RECORD);
	tap_is_int(record_read_file(&r, "f0.yaml"), MREG_ECORRUPT, "a format that is no number");
	tap_write("f1dirs.yaml", "format: 1\n" OLD_RECORD "dirs:\n- path: x\n  mode: \"0755\"\n");
	tap_is_int(record_read_file(&r, "f1dirs.yaml"), MREG_ECORRUPT, "dirs in format 1 refused");
	tap_ok(strstr(mreg_error_last(), "field 'dirs' needs record format 2"), "message: %s",
	       mreg_error_last());
	tap_write("nof.yaml", OLD_RECORD "links:\n- path: x\n  target: README.md\n");
	tap_is_int(record_read_file(&r, "nof.yaml"), MREG_ECORRUPT,
		   "links without a format field (format 1) refused");
}

/* A format 2 record with OLD_RECORD's files and @extra appended. */
static int read_with(const char *extra)
{
	mreg_record *r = NULL;
	char text[8192];
	int rc;

	snprintf(text, sizeof(text), "format: 2\n%s%s", OLD_RECORD, extra);
	tap_write("x.yaml", text);
	rc = record_read_file(&r, "x.yaml");
	mreg_record_free(r);
	return rc;
}

static void test_hostile_trees(void)
{
	static const struct {
		const char *extra, *why, *name;
	} bad[] = {
		{"links:\n- path: up\n  target: ../../etc/passwd\n", "does not stay inside the model",
		 "a link climbing out"},
		{"links:\n- path: abs\n  target: /etc/passwd\n", "does not stay inside", "an absolute link"},
		{"links:\n- path: sub/x\n  target: ../../y\n", "does not stay inside",
		 "a link one level too high"},
		{"links:\n- path: README.md/x\n  target: ..\n", "lies under the file 'README.md'",
		 "a link under a file"},
		{"links:\n- path: l\n  target: model.pkl\n- path: l/evil\n  target: ..\n",
		 "lies under the symbolic link 'l'", "an entry under a link"},
		{"links:\n- path: model.pkl\n  target: README.md\n", "listed twice",
		 "a link over a file"},
		{"dirs:\n- path: config.json\n  mode: \"0755\"\n", "listed twice",
		 "a folder over a file"},
		{"dirs:\n- path: e\n  mode: \"0755\"\nlinks:\n- path: e/l\n  target: ..\n",
		 "lies under the empty folder 'e'", "something in an empty folder"},
		{"dirs:\n- path: ../x\n  mode: \"0755\"\n", "not a plain relative path",
		 "a folder with '..'"},
		{"dirs:\n- path: x/\n  mode: \"0755\"\n", "not a plain relative path",
		 "a folder ending in '/'"},
		{"dirs:\n- path: b\n  mode: \"0755\"\n- path: a\n  mode: \"0755\"\n", "not sorted",
		 "dirs out of order"},
		{"dirs:\n- path: a\n  mode: \"1777\"\n", "octal permission", "a sticky folder"},
		{"links:\n- path: a\n", "field 'target' is missing", "a link without a target"},
		{"dirs: x\n", "must be a list", "dirs that is no list"},
		{"dirs:\n- path: d\n  mode: \"0755\"\nlinks:\n- path: d2/out\n  target: up/..\n"
		 "- path: d2/up\n  target: ..\n",
		 "leads above the model", "links each inside by their text, above the model together"},
		{"links:\n- path: l\n  target: missing.bin\n", "leads to nothing in the model "
		 "('missing.bin' is not there)", "a dangling link"},
		{"links:\n- path: l\n  target: README.md/x\n", "'README.md' is a file, not a folder",
		 "a link through a file"},
		{"links:\n- path: a\n  target: b\n- path: b\n  target: a\n", "is a loop",
		 "two links pointing at each other"},
		{"links:\n- path: sub/home\n  target: ..\n", "points to a folder that contains it",
		 "a link to the model folder from inside it"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		tap_is_int(read_with(bad[i].extra), MREG_ECORRUPT, "refused: %s", bad[i].name);
		tap_ok(strstr(mreg_error_last(), bad[i].why) != NULL, "  because: %s",
		       mreg_error_last());
	}
	tap_is_int(read_with("links:\n- path: sub/up\n  target: ../model.pkl\n"), 0,
		   "a link with '..' that stays inside reads");
	tap_is_int(read_with("dirs:\n- path: e/f\n  mode: \"0700\"\nlinks:\n- path: x/deep\n"
			     "  target: ../e/./f\n- path: x/top\n  target: ../y/l\n- path: y/l\n"
			     "  target: ../model.pkl\n- path: y/up\n  target: ../e\n"),
		   0, "links to an empty folder, through another link, and out of a folder read");
}

static void test_tree_json(void)
{
	mreg_record *r = sample_tree(), *back = calloc(1, sizeof(*back));
	json_t *o = json_object(), *none = json_object();
	mreg_record *plain = sample();

	tap_is_int(record_tree_to_json(o, r), 0, "folders and links as bundle JSON");
	tap_is_int(record_tree_to_json(none, plain), 0, "a record without any");
	tap_is_int(json_object_size(none), 0, "adds nothing: the bundle config is as before");
	back->file_count = r->file_count;
	back->files = r->files; /* borrowed for the check */
	tap_is_int(record_tree_from_json(back, o, "config: mreg"), 0, "and read back");
	tap_ok(back->dir_count == 1 && back->link_count == 1 && back->dirs[0].mode == 0750 &&
	       !strcmp(back->links[0].target, "w.bin"), "the same folders and links");
	back->files = NULL;
	back->file_count = 0;
	mreg_record_free(back);

	json_t *evil = json_pack("{s:[{s:s, s:s}]}", "links", "path", "x", "target", "../../etc");
	back = calloc(1, sizeof(*back));
	tap_is_int(record_tree_from_json(back, evil, "config: mreg"), MREG_EINVALID,
		   "a link out in a bundle config is refused");
	tap_ok(strstr(mreg_error_last(), "config: mreg: symbolic link 'x'") != NULL, "message: %s",
	       mreg_error_last());
	mreg_record_free(back);
	json_decref(evil);
	evil = json_pack("{s:[{s:s, s:s, s:s}]}", "dirs", "path", "x", "mode", "0755", "more", "1");
	back = calloc(1, sizeof(*back));
	tap_is_int(record_tree_from_json(back, evil, "config: mreg"), MREG_EINVALID,
		   "an entry with unknown fields is refused");
	mreg_record_free(back);
	json_decref(evil);
	json_decref(o);
	json_decref(none);
	mreg_record_free(r);
	mreg_record_free(plain);
}

/*
 * record_to_yaml writes the files list itself when every path and digest
 * qualifies; the bytes must be libyaml's emitter's, for every input (records
 * live in git, and two mreg versions must write the same record). Each
 * hostile string goes in as a path and as a digest, with each mode kind.
 */
static const char *const hostile[] = {
	"d00/f00000.bin", ".gitattributes", "a:b", "a:", "a: b", "a :b", "x+y", "1.0", "0644",
	"yes", "no", "No", "null", "Null", "~", "true", "off", "y", "n", "-a", "--", "---", "...",
	"a#b", "a #b", "#a", "\xc3\xa9/\xc3\xbc.bin", "tab\tx", "ctl\x01x", "del\x7f", "a\nb",
	"a\r", " lead", "trail ", "a  b", "sha256:abc", "a::b", "a:1", "a/:b", ":a", "1e3", "1E3",
	"0x1F", "0o17", "+1", "-1", ".5", "5.", "a,b", "a[0]", "{a}", "_", "/abs/path", "a//b",
	"A:B:C", "12:30", "1_000", "0b101", "1:20", "190:20:30.15", "2001-12-14",
	"2001-12-14t21:59:43.10-05:00", "=", "<<", "a<<b", "!tag", "&anchor", "*alias", "|", ">",
	"%x", "@x", "`x", "?x", "a?", "'q'", "\"dq\"", "a'b", "\xef\xbb\xbf" "bom", "\xe2\x80\xa8",
	"\xc2\x85nel", "\xff\xfe", ".inf", "-.inf", ".NaN", "nan", "0", "00", "007", "0.", "+",
	"-", ".", "..", "a-", "a.", "a/", "/", "x/-y", "x/.y", "x/:y", "x/#y", "mreg-files-list-written-apart",
	"files: mreg-files-list-written-apart",
};

static void files_pair(const char *s, unsigned mode, bool as_digest, size_t *checked, size_t *fast)
{
	mreg_record *r = calloc(1, sizeof(*r));
	char *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;
	int ra, rb;
	static const char *const ok_digest =
		"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

	r->name = strdup("m");
	r->version = strdup("1");
	r->type = strdup("custom_model");
	r->created_at = strdup("2026-01-01T00:00:00Z");
	r->description = strdup(*checked % 7 ? "plain" : s); /* the token outside the list too */
	r->source.git_dirty = -1;
	r->file_count = 3;
	r->files = calloc(3, sizeof(*r->files));
	for (size_t i = 0; i < 3; i++) {
		r->files[i].path = strdup(i == 1 && !as_digest ? s : i ? "z/last.bin" : "a/first.bin");
		r->files[i].size = (uint64_t)i * 4096 + (i == 2 ? UINT64_MAX - 9000 : 0);
		r->files[i].mode = i == 1 ? mode : 0644;
		snprintf(r->files[i].digest, sizeof(r->files[i].digest), "%s",
			 i == 1 && as_digest ? s : ok_digest);
	}
	record_compute_digest(r);
	*fast += record_yaml_files_fast(r);
	(*checked)++;
	ra = record_to_yaml(&a, &la, r);
	rb = record_to_yaml_emitter(&b, &lb, r);
	/* Both refuse (a string YAML cannot hold) or both write the same bytes. */
	if (ra != rb || (ra == 0 && (la != lb || memcmp(a, b, la)))) {
		tap_ok(false, "files list written apart differs from the emitter's for \"%s\" (mode %o, %s)",
		       s, mode, as_digest ? "digest" : "path");
		fprintf(stderr, "# fast:\n%s\n# emitter:\n%s\n", a ? a : "(null)", b ? b : "(null)");
	}
	free(a);
	free(b);
	mreg_record_free(r);
}

static void test_files_written_apart(void)
{
	static const unsigned modes[] = {0644, 0755, 0, 07777, 0100644, 01777};
	static const char alphabet[] = "aZ09_./-+:#' \"\t\n,[]{}&*!|>%@`?=~<\x01\xc3\xa9";
	size_t checked = 0, fast = 0, failed_before = (size_t)tap_failed;
	unsigned seed = 12345;
	char s[2100];

	for (size_t i = 0; i < sizeof(hostile) / sizeof(*hostile); i++)
		for (size_t m = 0; m < sizeof(modes) / sizeof(*modes); m++)
			for (int d = 0; d < 2; d++)
				files_pair(hostile[i], modes[m], d, &checked, &fast);
	/* random strings over the characters that matter, short and very long */
	for (int i = 0; i < 20000; i++) {
		size_t len;
		seed = seed * 1103515245u + 12345u;
		len = 1 + (seed >> 8) % (i % 50 < 2 ? 2000 : 40); /* very long ones of both kinds */
		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			/* half the strings of characters the fast path may take */
			s[k] = i % 2 ? "abcXYZ019_./-+:"[(seed >> 20) % 15]
				     : alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
		}
		s[len] = '\0';
		files_pair(s, modes[i % 6], i % 3 == 0 && len < 72, &checked, &fast);
	}
	tap_ok((size_t)tap_failed == failed_before,
	       "%zu records: the files list written apart is the emitter's, byte for byte", checked);
	tap_ok(fast > checked / 5 && fast < checked, "the fast path was taken for %zu of them, not all",
	       fast);
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
	test_tricky_strings();
	test_digest_stable();
	test_digest_rule();
	test_tree_yaml();
	test_formats();
	test_hostile_trees();
	test_tree_json();
	test_files_written_apart();
	return tap_done();
}
