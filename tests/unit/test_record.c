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
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		tap_is_int(read_with(bad[i].extra), MREG_ECORRUPT, "refused: %s", bad[i].name);
		tap_ok(strstr(mreg_error_last(), bad[i].why) != NULL, "  because: %s",
		       mreg_error_last());
	}
	tap_is_int(read_with("links:\n- path: sub/up\n  target: ../model.pkl\n"), 0,
		   "a link with '..' that stays inside reads");
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

int main(void)
{
	tap_tmpdir();
	test_names();
	test_versions();
	test_refs();
	test_roundtrip();
	test_damaged();
	test_digest_stable();
	test_digest_rule();
	test_tree_yaml();
	test_formats();
	test_hostile_trees();
	test_tree_json();
	return tap_done();
}
