/*
 * util/json_text: the text it writes is what jansson's compact, key-sorted
 * dump writes for the same value, for strings (hostile and random) and for
 * the two documents written with it, a version's OCI config and manifest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bundle/artifact.h"
#include "util/json_text.h"
#include "tap.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

/* True when json_text_string(@s) is jansson's dump of json_string(@s), or both refuse @s. */
static bool same_as_jansson(const char *s)
{
	strbuf sb = STRBUF_INIT;
	json_t *v = json_string(s);
	char *want = v ? json_dumps(v, DUMP_FLAGS) : NULL;
	bool ok;

	json_text_string(&sb, s);
	if (!v)
		ok = sb.failed;
	else
		ok = !sb.failed && want && !strcmp(sb.data, want);
	if (!ok) {
		printf("#   differs for the string (hex):");
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			printf(" %02x", *p);
		printf("\n#   jansson %s\n", want ? "writes it" : "refuses it");
	}
	json_decref(v);
	free(want);
	strbuf_dispose(&sb);
	return ok;
}

static void test_strings(void)
{
	static const char *const cases[] = {
		"",
		"plain/file.bin",
		"quote \" backslash \\ slash /",
		"\b\f\n\r\t",
		"\x01\x02\x1f\x7f",
		"\x1b[31mred",
		"modèle/poids €.bin 𝄞",
		"\xc2\x80\xc2\x9f\xdf\xbf",             /* C1 controls and U+07FF: as they are */
		"\xef\xbb\xbf\xef\xbf\xbf",             /* BOM and U+FFFF */
		"\xf4\x8f\xbf\xbf",                     /* U+10FFFF */
		"\xf4\x90\x80\x80",                     /* above U+10FFFF */
		"\xed\xa0\x80",                         /* a surrogate */
		"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", /* overlong */
		"\xff", "\x80", "cut \xe2\x82", "\xc2",
		"\xe2\x82\xac\xe2\x82",
	};
	bool all = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		all &= same_as_jansson(cases[i]);
	tap_ok(all, "hostile strings are written as jansson writes them, or refused as it refuses them");

	/* Random strings, weighted towards the bytes where escaping and UTF-8 checks decide. */
	static const unsigned char edge[] = {0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x20, '"',
		'\\', '/', 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4,
		0xf5, 0xff, 0xa0, 0x9f, 0x90, 0x8f};
	static const char *const valid[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e",
		"\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xc2\x85"};
	unsigned int seed = 12345;
	size_t refused = 0, n = 50000;
	all = true;
	for (size_t i = 0; i < n && all; i++) {
		char s[8 * 4 + 1];
		size_t len = 0, chars = (seed = seed * 1103515245u + 12345u) >> 16 & 7;
		for (size_t j = 0; j < chars; j++) {
			seed = seed * 1103515245u + 12345u;
			unsigned int r = seed >> 16;
			if (r % 8 == 0) {
				s[len++] = (char)edge[(r >> 3) % sizeof(edge)];
			} else if (r % 8 == 1) {
				const char *v = valid[(r >> 3) % (sizeof(valid) / sizeof(*valid))];
				memcpy(s + len, v, strlen(v));
				len += strlen(v);
			} else {
				s[len++] = (char)(0x20 + (r >> 3) % 0x5f);
			}
		}
		s[len] = '\0';
		all &= same_as_jansson(s);
		json_t *v = json_string(s);
		refused += !v;
		json_decref(v);
	}
	tap_ok(all, "%zu random strings (%zu of them not UTF-8) agree with jansson", n, refused);
	tap_ok(refused > n / 10 && refused < n - n / 10, "the random strings mix valid and invalid UTF-8");
}

static void test_numbers(void)
{
	static const uint64_t cases[] = {0, 1, 420, 4294967295u, 4294967296u, INT64_MAX};
	bool all = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		strbuf sb = STRBUF_INIT;
		json_t *v = json_integer((json_int_t)cases[i]);
		char *want = json_dumps(v, DUMP_FLAGS);
		json_text_uint(&sb, cases[i]);
		all &= !strcmp(sb.data, want);
		free(want);
		json_decref(v);
		strbuf_dispose(&sb);
	}
	tap_ok(all, "integers are written as jansson writes them");
}

/* @text is a fixed point of jansson's sorted compact dump: parsed and dumped again, it is the same. */
static void is_canonical(const oci_blob *b, const char *what)
{
	json_error_t err;
	json_t *v = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &err);
	char *again = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	tap_ok(v != NULL, "%s: valid JSON without duplicate keys%s%s", what, v ? "" : ": ",
	       v ? "" : err.text);
	tap_ok(again && strlen(again) == b->len && !memcmp(again, b->data, b->len),
	       "%s: byte for byte what jansson's sorted compact dump gives", what);
	json_decref(v);
	free(again);
}

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static void test_documents(void)
{
	mreg_file files[] = {
		{"README.md", 12, 0644, D("1")},
		{"model.safetensors", 1u << 30, 0644, D("2")},
		{"odd \"name\" \\ é/tab\there.unknownext", 5, 0755, D("3")},
		{"sub/config.pbtxt", 77, 0600, D("4")},
		{"zz/no-extension", 0, 0644, D("5")},
	};
	mreg_dir dirs[] = {{"empty", 0755}};
	mreg_link links[] = {{"link", "README.md"}};
	mreg_kv tags[] = {{"k", "v \"quoted\"\n"}, {"z", "/"}};
	mreg_record r = {
		.name = "model",
		.version = "1.0",
		.type = "custom_model",
		.description = "line one\nline \"two\" \\ é \x01",
		.tags = tags,
		.tag_count = 2,
		.created_at = "2026-12-06T18:00:00.000000Z",
		.source = {.path = "/data/model", .kind = "directory", .git_commit = "abc",
			   .git_remote = "https://example.com/r.git", .git_dirty = 1},
		.digest = D("9"),
		.files = files,
		.file_count = sizeof(files) / sizeof(*files),
		.format_json = "{\"flavors\":{\"python_function\":{\"loader\":\"x\"}}}",
		.dirs = dirs,
		.dir_count = 1,
		.links = links,
		.link_count = 1,
	};
	artifact_blobs ab;

	tap_ok(artifact_build(&ab, &r) == 0, "a version with files, an empty folder and a link");
	tap_ok(ab.tree.data != NULL, "it has a tree layer");
	is_canonical(&ab.config, "config");
	is_canonical(&ab.manifest, "manifest");
	artifact_blobs_dispose(&ab);

	r.file_count = 0;
	tap_ok(artifact_build(&ab, &r) == 0, "a version with no file, only an empty folder and a link");
	is_canonical(&ab.config, "config without files");
	is_canonical(&ab.manifest, "manifest without files");
	artifact_blobs_dispose(&ab);

	r.file_count = sizeof(files) / sizeof(*files);
	r.dir_count = r.link_count = 0;
	r.description = NULL;
	r.format_json = NULL;
	r.source.git_commit = r.source.git_remote = NULL;
	tap_ok(artifact_build(&ab, &r) == 0, "a version with files only");
	tap_ok(ab.tree.data == NULL, "it has no tree layer");
	is_canonical(&ab.config, "config without tree");
	is_canonical(&ab.manifest, "manifest without tree");
	artifact_blobs_dispose(&ab);

	files[2].path = "bad \xed\xa0\x80 surrogate";
	tap_ok(artifact_build(&ab, &r) != 0, "a path jansson would refuse (a surrogate) fails the build");
}

int main(void)
{
	test_strings();
	test_numbers();
	test_documents();
	return tap_done();
}
