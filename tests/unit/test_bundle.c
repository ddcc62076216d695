/*
 * Bundles: reproducible bytes, round trips through import and unpack, and
 * hostile archives, each built here with libarchive, refused with the entry
 * named while the store and the target folder stay exactly as they were.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <sodium.h>

#include "bundle/bundle_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "store/record_priv.h"
#include "mreg.h"
#include "util/strutil.h"
#include "tap.h"


/* ---- a tar in memory: entries to edit and write back ---- */

typedef struct {
	char *name;
	char type;  /* 'f' file, 'd' folder, 'l' symlink, 'h' hard link, 'c' device, 'p' fifo */
	char *data;
	size_t len;
	char *link;
} tentry;

typedef struct {
	tentry *e;
	size_t n;
} tlist;

static void tl_add(tlist *l, const char *name, char type, const void *data, size_t len,
		   const char *link)
{
	l->e = realloc(l->e, (l->n + 1) * sizeof(*l->e));
	l->e[l->n] = (tentry){strdup(name), type, malloc(len + 1), len, link ? strdup(link) : NULL};
	if (len)
		memcpy(l->e[l->n].data, data, len);
	l->n++;
}

static void tl_free(tlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].name);
		free(l->e[i].data);
		free(l->e[i].link);
	}
	free(l->e);
	memset(l, 0, sizeof(*l));
}

static tentry *tl_find(tlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].name, name))
			return &l->e[i];
	return NULL;
}

static void tl_remove(tlist *l, const char *name)
{
	tentry *e = tl_find(l, name);
	size_t i = (size_t)(e - l->e);

	free(e->name);
	free(e->data);
	free(e->link);
	memmove(&l->e[i], &l->e[i + 1], (l->n - i - 1) * sizeof(*e));
	l->n--;
}

static void tl_load(tlist *l, const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	memset(l, 0, sizeof(*l));
	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	archive_read_open_filename(a, path, 65536);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		size_t len = (size_t)archive_entry_size(e);
		char *buf = malloc(len + 1);
		archive_read_data(a, buf, len);
		tl_add(l, archive_entry_pathname(e), archive_entry_filetype(e) == AE_IFDIR ? 'd' : 'f',
		       buf, len, NULL);
		free(buf);
	}
	archive_read_free(a);
}

static void tl_write(const tlist *l, const char *path, mreg_compression c)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_pax_restricted(a);
	if (c == MREG_COMPRESS_GZIP)
		archive_write_add_filter_gzip(a);
	if (c == MREG_COMPRESS_ZSTD)
		archive_write_add_filter_zstd(a);
	archive_write_open_filename(a, path);
	for (size_t i = 0; i < l->n; i++) {
		const tentry *t = &l->e[i];
		archive_entry_clear(e);
		archive_entry_set_pathname(e, t->name);
		archive_entry_set_perm(e, t->type == 'd' ? 0755 : 0644);
		switch (t->type) {
		case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, t->link);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, t->link);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_rdev(e, 0x0103);
			break;
		case 'p': archive_entry_set_filetype(e, AE_IFIFO); break;
		default:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)t->len);
		}
		archive_write_header(a, e);
		if (t->type == 'f' && t->len)
			archive_write_data(a, t->data, t->len);
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
}

static void blob_name(char *out, const char *digest)
{
	sprintf(out, "blobs/sha256/%s", digest + 7);
}

static void digest_of(char *out, const void *data, size_t len)
{
	uint8_t raw[SHA256_LEN];
	hash_buffer(raw, data, len);
	digest_format(out, raw);
}

static char *dumps(json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
}

/* The manifest's entry name and parsed JSON. */
static json_t *manifest_of(tlist *l, char *entry)
{
	tentry *idx = tl_find(l, "index.json");
	json_t *index = json_loadb(idx->data, idx->len, 0, NULL);
	const char *d = json_string_value(
		json_object_get(json_array_get(json_object_get(index, "manifests"), 0), "digest"));
	tentry *m;
	json_t *v;

	blob_name(entry, d);
	json_decref(index);
	m = tl_find(l, entry);
	v = json_loadb(m->data, m->len, 0, NULL);
	return v;
}

/* Store @m as the manifest and point index.json at it. */
static void set_manifest(tlist *l, json_t *m)
{
	char old[100], name[100], digest[MREG_DIGEST_STRLEN];
	char *text = dumps(m);
	tentry *idx = tl_find(l, "index.json"), *e;
	json_t *index = json_loadb(idx->data, idx->len, 0, NULL);
	json_t *desc = json_array_get(json_object_get(index, "manifests"), 0);

	json_decref(manifest_of(l, old));
	digest_of(digest, text, strlen(text));
	blob_name(name, digest);
	e = tl_find(l, old);
	free(e->name);
	free(e->data);
	e->name = strdup(name);
	e->data = text;
	e->len = strlen(text);
	json_object_set_new(desc, "digest", json_string(digest));
	json_object_set_new(desc, "size", json_integer((json_int_t)e->len));
	free(idx->data);
	idx->data = dumps(index);
	idx->len = strlen(idx->data);
	json_decref(index);
}

/* Replace the config blob with @config, fixing the manifest and index. */
static void set_config(tlist *l, json_t *config)
{
	char mname[100], old[100], name[100], digest[MREG_DIGEST_STRLEN];
	json_t *m = manifest_of(l, mname), *cd = json_object_get(m, "config");
	char *text = dumps(config);
	tentry *e;

	blob_name(old, json_string_value(json_object_get(cd, "digest")));
	digest_of(digest, text, strlen(text));
	blob_name(name, digest);
	e = tl_find(l, old);
	free(e->name);
	free(e->data);
	e->name = strdup(name);
	e->data = text;
	e->len = strlen(text);
	json_object_set_new(cd, "digest", json_string(digest));
	json_object_set_new(cd, "size", json_integer((json_int_t)e->len));
	set_manifest(l, m);
	json_decref(m);
}

static json_t *config_of(tlist *l)
{
	char mname[100], cname[100];
	json_t *m = manifest_of(l, mname);
	tentry *e;

	blob_name(cname, json_string_value(json_object_get(json_object_get(m, "config"), "digest")));
	json_decref(m);
	e = tl_find(l, cname);
	return json_loadb(e->data, e->len, 0, NULL);
}

/* mreg's record, the manifest's org.mreg.record+json annotation. */
static json_t *record_of(tlist *l)
{
	char mname[100];
	json_t *m = manifest_of(l, mname), *r;

	r = json_loads(json_string_value(json_object_get(json_object_get(m, "annotations"),
							 "org.mreg.record+json")),
		       0, NULL);
	json_decref(m);
	return r;
}

static void set_record(tlist *l, json_t *record)
{
	char mname[100], *text = dumps(record);
	json_t *m = manifest_of(l, mname);

	json_object_set_new(json_object_get(m, "annotations"), "org.mreg.record+json",
			    json_string(text));
	free(text);
	set_manifest(l, m);
	json_decref(m);
}

/* The entry name of the layer for @path. */
static void layer_entry(tlist *l, const char *path, char *out)
{
	char mname[100];
	json_t *m = manifest_of(l, mname), *layer;
	size_t i;

	json_array_foreach(json_object_get(m, "layers"), i, layer) {
		json_t *ann = json_object_get(layer, "annotations");
		if (!strcmp(json_string_value(json_object_get(ann, "org.cncf.model.filepath")), path))
			blob_name(out, json_string_value(json_object_get(layer, "digest")));
	}
	json_decref(m);
}

/* ---- fixtures ---- */

static mreg_store *store_a;
static mreg_record *rec_a;

static void make_model(void)
{
	mreg_create_options o = MREG_CREATE_OPTIONS_INIT;
	mreg_kv tag = {"team", "vision"};
	FILE *f;

	mkdir("model", 0755);
	mkdir("model/sub", 0755);
	tap_write("model/README.md", "A tiny model.\n");
	tap_write("model/config.json", "{\"layers\": 3}\n");
	tap_write("model/sub/copy.md", "A tiny model.\n");
	f = fopen("model/sub/weights.bin", "wb");
	for (int i = 0; i < 300000; i++)
		fputc((int)(((unsigned)i * 7919u) & 0xff), f);
	fclose(f);
	chmod("model/sub/weights.bin", 0755);
	chmod("model/config.json", 0600);
	mreg_store_init(&store_a, "a/.mreg");
	o.name = "demo";
	o.path = "model";
	o.description = "demo model";
	o.tags = &tag;
	o.tag_count = 1;
	if (mreg_model_create(&rec_a, store_a, &o, NULL)) {
		printf("Bail out! create: %s\n", mreg_error_last());
		exit(1);
	}
}

static bool same_file(const char *a, const char *b)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
	return system(cmd) == 0;
}

/* Every path under @dir with type, mode, size and content hash. */
static char *snapshot(const char *dir)
{
	char cmd[600], buf[4096];
	strbuf sb = STRBUF_INIT;
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' 2>/dev/null && find . ! -name ingest.lock ! -name lock -printf '%%y %%m "
		 "%%s %%p\\n' | sort && find . -type f ! -name ingest.lock ! -name lock -print0 | "
		 "sort -z | xargs -0 -r sha256sum",
		 dir);
	p = popen(cmd, "r");
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		strbuf_add(&sb, buf, n);
	pclose(p);
	strbuf_puts(&sb, "");
	return strbuf_detach(&sb);
}

static bool no_staging_left(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	bool clean = true;

	while (d && (e = readdir(d)))
		if (strstr(e->d_name, "mreg-unpack"))
			clean = false;
	if (d)
		closedir(d);
	return clean;
}

static mreg_bundle_read_options read_opts(void)
{
	mreg_bundle_read_options o = MREG_BUNDLE_READ_OPTIONS_INIT;
	return o;
}

/* ---- tests ---- */

static void test_reproducible(void)
{
	mreg_package_options o = MREG_PACKAGE_OPTIONS_INIT;
	mreg_bundle_info info, info2;
	struct archive *a;
	struct archive_entry *e;
	int n = 0, fixed = 1;
	const char *first[5] = {NULL};
	char names[5][100];

	tap_is_int(mreg_bundle_package(&info, store_a, rec_a, "one.tar", &o), 0, "package");
	tap_is_int(mreg_bundle_package(&info2, store_a, rec_a, "two.tar", &o), 0, "package again");
	tap_ok(same_file("one.tar", "two.tar"), "the same version gives byte-identical bundles");
	tap_is_str(info.manifest_digest, info2.manifest_digest, "same manifest digest");
	tap_is_int(info.file_count, 4, "four files");
	tap_is_int(mreg_bundle_package(NULL, store_a, rec_a, "one.tar", &o), MREG_EEXISTS,
		   "an existing bundle is not overwritten");
	o.force = 1;
	tap_is_int(mreg_bundle_package(NULL, store_a, rec_a, "one.tar", &o), 0, "unless forced");
	o.force = 0;

	a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_open_filename(a, "one.tar", 65536);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		mode_t perm = archive_entry_perm(e);
		bool dir = archive_entry_filetype(e) == AE_IFDIR;
		if (n < 5) {
			snprintf(names[n], sizeof(names[n]), "%s", archive_entry_pathname(e));
			first[n] = names[n];
		}
		n++;
		fixed &= archive_entry_mtime(e) == 0 && archive_entry_uid(e) == 0 &&
			 archive_entry_gid(e) == 0 && !archive_entry_atime_is_set(e) &&
			 (!archive_entry_uname(e) || !archive_entry_uname(e)[0]) &&
			 (!archive_entry_gname(e) || !archive_entry_gname(e)[0]) &&
			 perm == (dir ? 0755 : 0644);
	}
	archive_read_free(a);
	tap_ok(fixed, "every entry: mtime 0, uid/gid 0, no names, mode 0644/0755");
	tap_is_int(n, 4 + 2 + 3, "oci-layout, index.json, 2 folders, manifest, config, 3 blobs");
	tap_is_str(first[0], "oci-layout", "oci-layout first");
	tap_is_str(first[1], "index.json", "then index.json");
	tap_is_str(first[2], "blobs/", "then the folders");

	for (int c = MREG_COMPRESS_GZIP; c <= MREG_COMPRESS_ZSTD; c++) {
		const char *ext = c == MREG_COMPRESS_GZIP ? "gz" : "zst";
		char f1[32], f2[32];
		snprintf(f1, sizeof(f1), "one.tar.%s", ext);
		snprintf(f2, sizeof(f2), "two.tar.%s", ext);
		tap_is_int(mreg_bundle_package(&info, store_a, rec_a, f1, &o), 0, "package .%s", ext);
		tap_is_int(info.compression, c, "compression chosen by name (.%s)", ext);
		sleep(1); /* a gzip time stamp would differ now */
		mreg_bundle_package(NULL, store_a, rec_a, f2, &o);
		tap_ok(same_file(f1, f2), "%s bundles are byte-identical", ext);
	}
	{
		FILE *f = fopen("one.tar.gz", "rb");
		uint8_t h[10] = {0};
		if (f) {
			if (fread(h, 1, 10, f) != 10)
				memset(h, 0xff, 10);
			fclose(f);
		}
		tap_ok(h[0] == 0x1f && h[1] == 0x8b && !h[4] && !h[5] && !h[6] && !h[7] &&
			       !(h[3] & 0x08),
		       "gzip header: no time stamp, no file name");
	}
	o.compression = MREG_COMPRESS_NONE;
	tap_is_int(mreg_bundle_package(&info, store_a, rec_a, "plain.tar.zst", &o), 0,
		   "--compress none overrides the name");
	tap_is_int(info.compression, MREG_COMPRESS_NONE, "written uncompressed");
	tap_ok(same_file("plain.tar.zst", "two.tar"), "identical to the .tar");
}

static void test_roundtrip(void)
{
	mreg_bundle_read_options ro = read_opts();
	mreg_bundle_info info;
	mreg_store *b = NULL;
	mreg_record *got = NULL, *again = NULL;
	mreg_package_options po = MREG_PACKAGE_OPTIONS_INIT;
	mreg_model_yml *yml = NULL;
	mreg_diag_list *diags = NULL;
	struct stat st;

	tap_is_int(mreg_bundle_verify(&info, &got, "one.tar.zst", &ro), 0, "verify");
	tap_is_str(got ? got->digest : NULL, rec_a->digest, "verify reads the content digest");
	mreg_record_free(got);
	got = NULL;
	mreg_store_init(&b, "b/.mreg");
	tap_is_int(mreg_bundle_import(&info, &got, b, "one.tar.gz", &ro), 0, "import into a fresh store");
	tap_is_int(info.unchanged, 0, "new version");
	tap_ok(got && !strcmp(got->name, "demo") && !strcmp(got->version, "1") &&
		       !strcmp(got->created_at, rec_a->created_at) &&
		       !strcmp(got->description, "demo model") &&
		       !strcmp(mreg_record_tag(got, "team"), "vision") &&
		       !strcmp(got->source.path, rec_a->source.path),
	       "name, version, creation time, description, tags and provenance kept");
	tap_is_int(mreg_model_download(b, got, "dl", NULL, NULL), 0, "download from the new store");
	tap_ok(same_file("model/sub/weights.bin", "dl/sub/weights.bin") &&
		       same_file("model/README.md", "dl/README.md") &&
		       same_file("model/sub/copy.md", "dl/sub/copy.md"),
	       "identical files");
	tap_ok(stat("dl/sub/weights.bin", &st) == 0 && (st.st_mode & 0777) == 0755 &&
		       stat("dl/config.json", &st) == 0 && (st.st_mode & 0777) == 0600,
	       "modes kept");
	tap_is_int(mreg_bundle_package(NULL, b, got, "from-b.tar", &po), 0, "package from the new store");
	tap_ok(same_file("from-b.tar", "two.tar"), "byte-identical to the bundle made in the first store");
	tap_is_int(mreg_bundle_import(&info, &again, b, "one.tar", &ro), 0, "import again");
	tap_is_int(info.unchanged, 1, "already there: nothing to do");
	mreg_record_free(again);
	again = NULL;
	ro.model_version = "2";
	ro.name = "renamed";
	tap_is_int(mreg_bundle_import(&info, &again, b, "one.tar", &ro), 0, "import under another name");
	tap_ok(again && !strcmp(again->name, "renamed") && !strcmp(again->version, "2"),
	       "renamed:2 created");
	mreg_record_free(again);
	ro = read_opts();

	tap_is_int(mreg_bundle_unpack(&info, NULL, "one.tar.zst", "un", &ro), 0, "unpack");
	tap_ok(same_file("model/sub/weights.bin", "un/model/sub/weights.bin") &&
		       stat("un/model/sub/weights.bin", &st) == 0 && (st.st_mode & 0777) == 0755,
	       "unpacked file content and mode");
	mreg_diag_list_new(&diags);
	tap_is_int(mreg_model_yml_read(&yml, "un/model.yml", diags), 0, "model.yml reads as Azure ML YAML");
	tap_ok(yml && !strcmp(yml->name, "demo") && !strcmp(yml->version, "1") &&
		       !strcmp(yml->type, "custom_model") && strstr(yml->path, "un/model") &&
		       !strcmp(yml->description, "demo model") && yml->tag_count == 1,
	       "name, version, type, path, description, tags");
	mreg_model_yml_free(yml);
	mreg_diag_list_free(diags);
	tap_is_int(mreg_bundle_unpack(&info, NULL, "one.tar.zst", "un", &ro), MREG_EEXISTS,
		   "unpack refuses a folder that is not empty");
	mkdir("empty", 0755);
	tap_is_int(mreg_bundle_unpack(&info, NULL, "one.tar", "empty", &ro), 0,
		   "unpack into an empty folder");
	tap_ok(no_staging_left("."), "no staging folder left");
	mreg_record_free(got);
	mreg_store_free(b);
}

static void test_conflict(void)
{
	mreg_create_options o = MREG_CREATE_OPTIONS_INIT;
	mreg_bundle_read_options ro = read_opts();
	mreg_store *c = NULL;
	char *before, *after;

	mreg_store_init(&c, "c/.mreg");
	mkdir("other", 0755);
	tap_write("other/x.txt", "different\n");
	o.name = "demo";
	o.path = "other";
	o.model_version = "1";
	mreg_model_create(NULL, c, &o, NULL);
	before = snapshot("c/.mreg");
	tap_is_int(mreg_bundle_import(NULL, NULL, c, "one.tar", &ro), MREG_EEXISTS,
		   "other content under an existing name:version is refused");
	tap_ok(strstr(mreg_error_last(), "demo version 1 already exists with other content") != NULL,
	       "message: %s", mreg_error_last());
	after = snapshot("c/.mreg");
	tap_is_str(after, before, "the store is unchanged");
	free(before);
	free(after);
	mreg_store_free(c);
}

/* ---- hostile archives ---- */

typedef void (*mutate_fn)(tlist *l);

static void m_dotdot(tlist *l) { tl_add(l, "../evil.txt", 'f', "x", 1, NULL); }
static void m_dotdot_inner(tlist *l) { tl_add(l, "blobs/../../evil.txt", 'f', "x", 1, NULL); }
static void m_absolute(tlist *l) { tl_add(l, "/tmp/mreg-evil.txt", 'f', "x", 1, NULL); }
static void m_symlink(tlist *l) { tl_add(l, "blobs/sha256/link", 'l', NULL, 0, "/etc/passwd"); }
static void m_hardlink(tlist *l) { tl_add(l, "hard", 'h', NULL, 0, "/etc/passwd"); }
static void m_device(tlist *l) { tl_add(l, "blobs/dev", 'c', NULL, 0, NULL); }
static void m_fifo(tlist *l) { tl_add(l, "fifo", 'p', NULL, 0, NULL); }
static void m_extra(tlist *l) { tl_add(l, "run.sh", 'f', "rm -rf /", 8, NULL); }
static void m_dir_as_file(tlist *l) { tl_add(l, "oci-layout/x", 'd', NULL, 0, NULL); }

static void m_duplicate_index(tlist *l)
{
	tentry *i = tl_find(l, "index.json");
	char *copy = strndup(i->data, i->len);
	tl_add(l, "index.json", 'f', copy, strlen(copy), NULL);
	free(copy);
}

static void m_duplicate_blob(tlist *l)
{
	char name[100];
	tentry *b;
	char *copy;

	layer_entry(l, "sub/weights.bin", name);
	b = tl_find(l, name);
	copy = malloc(b->len);
	memcpy(copy, b->data, b->len);
	tl_add(l, name, 'f', copy, b->len, NULL);
	free(copy);
}

static void m_digest_mismatch(tlist *l)
{
	char name[100];
	layer_entry(l, "sub/weights.bin", name);
	tl_find(l, name)->data[100] ^= 1;
}

static void m_size_mismatch(tlist *l)
{
	char name[100];
	tentry *b;
	layer_entry(l, "README.md", name);
	b = tl_find(l, name);
	b->len -= 2; /* a shorter blob under the right name */
}

/* A layer's size changed in the manifest, and the record's content digest to match. */
static void m_manifest_size(tlist *l)
{
	char mname[100];
	json_t *m = manifest_of(l, mname), *layer, *rj;
	mreg_record *r = NULL;
	size_t i;

	record_copy(&r, rec_a);
	json_array_foreach(json_object_get(m, "layers"), i, layer) {
		json_t *ann = json_object_get(layer, "annotations");
		const char *p = json_string_value(json_object_get(ann, "org.cncf.model.filepath"));
		if (strcmp(p, "sub/weights.bin"))
			continue;
		json_object_set_new(layer, "size", json_integer(300001));
	}
	for (i = 0; i < r->file_count; i++)
		if (!strcmp(r->files[i].path, "sub/weights.bin"))
			r->files[i].size = 300001;
	record_compute_digest(r);
	set_manifest(l, m);
	json_decref(m);
	rj = record_of(l);
	json_object_set_new(rj, "digest", json_string(r->digest));
	set_record(l, rj);
	json_decref(rj);
	mreg_record_free(r);
}

static void set_layer_path(tlist *l, const char *path)
{
	char mname[100];
	json_t *m = manifest_of(l, mname);
	json_t *ann = json_object_get(json_array_get(json_object_get(m, "layers"), 0), "annotations");
	json_object_set_new(ann, "org.cncf.model.filepath", json_string(path));
	set_manifest(l, m);
	json_decref(m);
}

static void m_path_escape(tlist *l) { set_layer_path(l, "../../escaped.txt"); }
static void m_path_absolute(tlist *l) { set_layer_path(l, "/etc/cron.d/x"); }
static void m_path_clash(tlist *l) { set_layer_path(l, "sub"); }

static void m_missing_blob(tlist *l)
{
	char name[100];
	layer_entry(l, "sub/weights.bin", name);
	tl_remove(l, name);
}

static void m_unreferenced(tlist *l) { tl_add(l, "blobs/sha256/" "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", 'f', "hello", 5, NULL); }

static void m_no_index(tlist *l) { tl_remove(l, "index.json"); }

static void m_record_digest(tlist *l)
{
	json_t *r = record_of(l);
	json_object_set_new(r, "digest",
			    json_string("sha256:0000000000000000000000000000000000000000000000000000000000000000"));
	set_record(l, r);
	json_decref(r);
}

static void m_bad_name(tlist *l)
{
	json_t *r = record_of(l);
	json_object_set_new(r, "name", json_string("../evil"));
	set_record(l, r);
	json_decref(r);
}

/* A record from a newer mreg: refused, not guessed at. */
static void m_newer_format(tlist *l)
{
	json_t *r = record_of(l);
	json_object_set_new(r, "bundle_format", json_integer(99));
	set_record(l, r);
	json_decref(r);
}

typedef struct {
	const char *what;
	mutate_fn fn;
	const char *needle; /* the message must contain it (the entry or path named) */
} hostile;

static const hostile cases[] = {
	{"'..' entry", m_dotdot, "'../evil.txt': '..' in the path"},
	{"'..' inside a path", m_dotdot_inner, "blobs/../../evil.txt"},
	{"absolute entry", m_absolute, "'/tmp/mreg-evil.txt': absolute path"},
	{"symbolic link", m_symlink, "'blobs/sha256/link': symbolic link"},
	{"hard link", m_hardlink, "'hard': hard link"},
	{"device file", m_device, "'blobs/dev': device file"},
	{"fifo", m_fifo, "'fifo': special file"},
	{"unexpected file", m_extra, "'run.sh': unexpected entry"},
	{"folder under a file name", m_dir_as_file, "oci-layout/x"},
	{"duplicate index.json", m_duplicate_index, "'index.json': appears twice"},
	{"duplicate blob", m_duplicate_blob, "appears twice"},
	{"blob digest mismatch", m_digest_mismatch, "content does not match its digest"},
	{"blob shorter than the manifest says", m_size_mismatch, "bytes in the archive, the manifest says"},
	{"manifest size larger than the blob", m_manifest_size, "300000 bytes in the archive, the manifest says 300001"},
	{"manifest path with '..'", m_path_escape, "'../../escaped.txt' escapes"},
	{"absolute manifest path", m_path_absolute, "'/etc/cron.d/x' escapes"},
	{"a file where a folder is needed", m_path_clash, "'sub' is a file and also the folder"},
	{"missing blob", m_missing_blob, "sub/weights.bin: blob"},
	{"blob not in the manifest", m_unreferenced, "not part of the model"},
	{"no index.json", m_no_index, "no index.json"},
	{"record's digest differs from the files", m_record_digest, "content digest"},
	{"record with a bad name", m_bad_name, "../evil"},
	{"record from a newer mreg", m_newer_format, "bundle format 99 was written by a newer mreg"},
};

/* Every way a bundle is refused must leave the store and the target folder as they were. */
static void expect_refused(const char *file, const char *what, const char *needle)
{
	mreg_bundle_read_options ro = read_opts();
	char *before = snapshot("a/.mreg"), *after;
	int rv, ri, ru;
	char msg[1024] = "";

	rv = mreg_bundle_verify(NULL, NULL, file, &ro);
	snprintf(msg, sizeof(msg), "%s", mreg_error_last());
	ri = mreg_bundle_import(NULL, NULL, store_a, file, &ro);
	ru = mreg_bundle_unpack(NULL, NULL, file, "target", &ro);
	after = snapshot("a/.mreg");
	printf("# %s\n", msg);
	tap_ok(rv < 0 && ri < 0 && ru < 0, "%s: refused by verify, import and unpack", what);
	if (!tap_ok(!needle || strstr(msg, needle), "%s: message names it", what))
		printf("#   message: %s\n#   wanted: %s\n", msg, needle);
	if (!tap_ok(!strcmp(before, after), "%s: store unchanged", what))
		printf("# before:\n%s# after:\n%s", before, after);
	tap_ok(!fs_exists("target") && no_staging_left("."), "%s: no target folder, no staging left",
	       what);
	free(before);
	free(after);
}

static void test_hostile(void)
{
	tlist base;

	tl_load(&base, "one.tar");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		tlist l;
		tl_load(&l, "one.tar");
		cases[i].fn(&l);
		tl_write(&l, "hostile.tar", MREG_COMPRESS_NONE);
		expect_refused("hostile.tar", cases[i].what, cases[i].needle);
		tl_free(&l);
	}
	tl_free(&base);
}

/* Damage at the byte level: truncation, empty files, a size field beyond the end. */
static void test_damaged(void)
{
	struct stat st;
	FILE *f;
	char *buf;
	size_t len;

	stat("one.tar", &st);
	len = (size_t)st.st_size;
	buf = malloc(len);
	f = fopen("one.tar", "rb");
	if (fread(buf, 1, len, f) != len)
		len = 0;
	fclose(f);

	f = fopen("trunc.tar", "wb");
	fwrite(buf, 1, len - 3000, f);
	fclose(f);
	expect_refused("trunc.tar", "truncated in a blob", "runcated");

	f = fopen("trunc2.tar", "wb");
	fwrite(buf, 1, 700, f);
	fclose(f);
	expect_refused("trunc2.tar", "truncated in the metadata", NULL);

	tap_write("empty.tar", "");
	expect_refused("empty.tar", "zero-length file", "empty file");
	tap_write("junk.tar", "this is not a tar archive at all, just text\n");
	expect_refused("junk.tar", "not a tar", NULL);

	/* The weights blob's header claims more bytes than the file holds. */
	for (size_t off = 0; off + 512 <= len; off += 512) {
		if (strncmp(buf + off, "blobs/sha256/", 13) || buf[off + 156] != '0')
			continue;
		if (strtoull(buf + off + 124, NULL, 8) != 300000)
			continue;
		unsigned sum = 0;
		snprintf(buf + off + 124, 12, "%011llo", 077777777777ULL);
		memset(buf + off + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += (unsigned char)buf[off + i];
		snprintf(buf + off + 148, 8, "%06o", sum);
		break;
	}
	f = fopen("huge.tar", "wb");
	fwrite(buf, 1, len, f);
	fclose(f);
	expect_refused("huge.tar", "size field larger than the archive", "bytes but the bundle is only");
	free(buf);
}

/* Bundles repacked by other tools put entries in another order: still read. */
static void test_other_order(void)
{
	mreg_bundle_read_options ro = read_opts();
	mreg_store *d = NULL;
	tlist l, r = {0};

	tl_load(&l, "one.tar");
	for (size_t i = l.n; i-- > 0;)
		tl_add(&r, l.e[i].name, l.e[i].type, l.e[i].data, l.e[i].len, NULL);
	tl_write(&r, "reversed.tar", MREG_COMPRESS_NONE);
	tl_write(&r, "reversed.tar.zst", MREG_COMPRESS_ZSTD);
	tap_is_int(mreg_bundle_verify(NULL, NULL, "reversed.tar", &ro), 0,
		   "blobs before the manifest (uncompressed) verify");
	tap_is_int(mreg_bundle_verify(NULL, NULL, "reversed.tar.zst", &ro), 0,
		   "small blobs before the manifest (compressed) verify");
	mreg_store_init(&d, "d/.mreg");
	tap_is_int(mreg_bundle_import(NULL, NULL, d, "reversed.tar", &ro), 0, "and import");
	tap_is_int(mreg_bundle_unpack(NULL, NULL, "reversed.tar.zst", "rev", &ro), 0, "and unpack");
	tap_ok(same_file("model/sub/weights.bin", "rev/model/sub/weights.bin"), "same content");
	mreg_store_free(d);
	tl_free(&l);
	tl_free(&r);
}

static void test_signed(void)
{
	mreg_package_options po = MREG_PACKAGE_OPTIONS_INIT;
	mreg_bundle_read_options ro = read_opts();
	mreg_bundle_info info;
	mreg_secret_key *sk = NULL;
	mreg_public_key *pk = NULL, *other = NULL;
	char *before, *after;
	tlist l, o;

	sign_keygen_limits("k.key", "k.pub", NULL, 0, NULL, 0, 0);
	sign_keygen_limits("o.key", "o.pub", NULL, 0, NULL, 0, 0);
	mreg_secret_key_load(&sk, "k.key", NULL);
	mreg_public_key_load(&pk, "k.pub");
	mreg_public_key_load(&other, "o.pub");
	po.sign_key = sk;
	tap_is_int(mreg_bundle_package(&info, store_a, rec_a, "signed.tar", &po), 0, "package --sign");
	tap_ok(fs_exists("signed.tar.minisig"), "FILE.minisig written");
	tap_is_int(mreg_bundle_package(NULL, store_a, rec_a, "signed2.tar", &po), 0, "again");
	tap_ok(same_file("signed.tar", "signed2.tar"), "signed bundles are reproducible too");
	ro.pubkey = pk;
	tap_is_int(mreg_bundle_verify(&info, NULL, "signed.tar", &ro), 0, "verify with the key");
	tap_ok(info.manifest_signed && info.sidecar && info.signature_verified,
	       "both signatures found and verified");
	ro.pubkey = other;
	tap_is_int(mreg_bundle_verify(NULL, NULL, "signed.tar", &ro), MREG_ECORRUPT,
		   "another key is refused");
	ro.pubkey = pk;
	tap_is_int(mreg_bundle_verify(NULL, NULL, "one.tar", &ro), MREG_ECORRUPT,
		   "an unsigned bundle is refused with a key");
	tap_ok(strstr(mreg_error_last(), "not signed") != NULL, "message: %s", mreg_error_last());

	/* A manifest signature from another key, carried into a good bundle. */
	po.sign_key = NULL;
	mreg_secret_key_free(sk);
	mreg_secret_key_load(&sk, "o.key", NULL);
	po.sign_key = sk;
	mreg_bundle_package(NULL, store_a, rec_a, "other.tar", &po);
	tl_load(&l, "signed.tar");
	tl_load(&o, "other.tar");
	{
		tentry *mine = tl_find(&l, "manifest.minisig"), *theirs = tl_find(&o, "manifest.minisig");
		free(mine->data);
		mine->data = malloc(theirs->len);
		memcpy(mine->data, theirs->data, theirs->len);
		mine->len = theirs->len;
	}
	tl_write(&l, "swapped.tar", MREG_COMPRESS_NONE);
	before = snapshot("a/.mreg");
	tap_is_int(mreg_bundle_import(NULL, NULL, store_a, "swapped.tar", &ro), MREG_ECORRUPT,
		   "import --pubkey refuses a manifest signed by another key");
	after = snapshot("a/.mreg");
	tap_is_str(after, before, "store unchanged");
	free(before);
	free(after);
	/* The manifest changed under its signature. */
	{
		char mname[100];
		json_t *m = manifest_of(&l, mname);
		json_object_set_new(json_object_get(m, "annotations"), "org.opencontainers.image.title",
				    json_string("tampered"));
		set_manifest(&l, m);
		json_decref(m);
	}
	tl_write(&l, "tampered.tar", MREG_COMPRESS_NONE);
	ro.pubkey = other;
	tap_is_int(mreg_bundle_verify(NULL, NULL, "tampered.tar", &ro), MREG_ECORRUPT,
		   "a manifest changed after signing is refused");
	tap_ok(strstr(mreg_error_last(), "verification failed") != NULL, "message: %s",
	       mreg_error_last());
	/* The bundle changed beside a valid FILE.minisig. */
	rename("signed.tar.minisig", "tampered.tar.minisig");
	ro.pubkey = pk;
	tap_is_int(mreg_bundle_verify(NULL, NULL, "tampered.tar", &ro), MREG_ECORRUPT,
		   "FILE.minisig of other bytes is refused");
	tl_free(&l);
	tl_free(&o);
	mreg_secret_key_free(sk);
	mreg_public_key_free(pk);
	mreg_public_key_free(other);
}

static uint64_t progress_done, progress_total;

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	progress_done = done;
	progress_total = total;
}

static void test_progress(void)
{
	mreg_bundle_read_options ro = read_opts();
	mreg_package_options po = MREG_PACKAGE_OPTIONS_INIT;

	po.progress = on_progress;
	mreg_bundle_package(NULL, store_a, rec_a, "prog.tar", &po);
	tap_ok(progress_total > 0 && progress_done == progress_total,
	       "package reports progress to the end");
	progress_done = progress_total = 0;
	ro.progress = on_progress;
	mreg_bundle_verify(NULL, NULL, "prog.tar", &ro);
	tap_ok(progress_total > 0 && progress_done == progress_total,
	       "reading reports progress to the end");
}

/* A damaged store never ships: content and size are checked as blobs go out. */
static void test_damaged_store(void)
{
	mreg_create_options co = MREG_CREATE_OPTIONS_INIT;
	mreg_package_options po = MREG_PACKAGE_OPTIONS_INIT;
	mreg_secret_key *sk = NULL;
	mreg_store *e = NULL;
	mreg_record *r = NULL;
	char *blob = NULL;
	FILE *f;

	mreg_store_init(&e, "e/.mreg");
	mkdir("dmg", 0755);
	tap_write("dmg/w.bin", "0123456789abcdef");
	co.name = "dmg";
	co.path = "dmg";
	mreg_model_create(&r, e, &co, NULL);
	mreg_store_blob_path(&blob, e, r->files[0].digest);
	chmod(blob, 0644);
	f = fopen(blob, "r+");
	fputc('X', f);
	fclose(f);
	tap_is_int(mreg_bundle_package(NULL, e, r, "dmg.tar", &po), MREG_ECORRUPT,
		   "package refuses a damaged blob");
	tap_ok(strstr(mreg_error_last(), "w.bin: blob sha256:") &&
		       strstr(mreg_error_last(), "does not match its digest"),
	       "message names the file and blob: %s", mreg_error_last());
	tap_ok(!fs_exists("dmg.tar"), "no bundle written");
	mreg_secret_key_load(&sk, "k.key", NULL);
	po.sign_key = sk;
	tap_is_int(mreg_bundle_package(NULL, e, r, "dmg3.tar", &po), MREG_ECORRUPT,
		   "nor when signing");
	tap_ok(!fs_exists("dmg3.tar") && !fs_exists("dmg3.tar.minisig"), "nothing written");
	po.sign_key = NULL;
	if (truncate(blob, 4) != 0)
		printf("# truncate failed\n");
	tap_is_int(mreg_bundle_package(NULL, e, r, "dmg4.tar", &po), MREG_ECORRUPT,
		   "a blob of the wrong size is refused before its header is written");
	tap_ok(strstr(mreg_error_last(), "has 4 bytes where its record says 16") != NULL, "message: %s",
	       mreg_error_last());
	mreg_secret_key_free(sk);
	mreg_record_free(r);
	mreg_store_free(e);
	free(blob);
}

/*
 * The config holds ModelPack's fields only (its schema forbids others); the
 * record rides on the manifest. A bundle of format 1 (the record in the
 * config under "mreg", written by mreg before) still reads.
 */
static void test_layout(void)
{
	mreg_bundle_read_options ro = read_opts();
	mreg_record *got = NULL;
	tlist l;
	json_t *c, *r, *legacy;
	size_t n;

	tl_load(&l, "one.tar");
	c = config_of(&l);
	n = json_object_size(c);
	tap_ok(n == 3 && json_object_get(c, "descriptor") && json_object_get(c, "config") &&
		       json_object_get(c, "modelfs"),
	       "the config has descriptor, config and modelfs, nothing else");
	tap_is_str(json_string_value(json_object_get(json_object_get(c, "descriptor"), "name")),
		   "demo", "descriptor.name");
	tap_is_str(json_string_value(json_object_get(json_object_get(c, "descriptor"), "version")),
		   "1", "descriptor.version");
	tap_is_str(json_string_value(json_object_get(json_object_get(c, "descriptor"), "createdAt")),
		   rec_a->created_at, "descriptor.createdAt");
	tap_is_int((int)json_array_size(json_object_get(json_object_get(c, "modelfs"), "diffIds")),
		   4, "modelfs.diffIds: one per layer");
	r = record_of(&l);
	tap_is_int((int)json_integer_value(json_object_get(r, "bundle_format")), 2,
		   "the record in the manifest annotation, bundle format 2");
	tap_is_str(json_string_value(json_object_get(r, "digest")), rec_a->digest,
		   "with the content digest");

	/* The same bundle as mreg wrote it before: the record in the config. */
	legacy = json_deep_copy(r);
	json_object_set_new(legacy, "bundle_format", json_integer(1));
	json_object_set_new(c, "mreg", legacy);
	set_config(&l, c);
	{
		char mname[100];
		json_t *m = manifest_of(&l, mname);
		json_object_del(json_object_get(m, "annotations"), "org.mreg.record+json");
		set_manifest(&l, m);
		json_decref(m);
	}
	tl_write(&l, "format1.tar", MREG_COMPRESS_NONE);
	tap_is_int(mreg_bundle_verify(NULL, &got, "format1.tar", &ro), 0,
		   "a format 1 bundle verifies: %s", mreg_error_last());
	tap_ok(got && !strcmp(got->digest, rec_a->digest) && !strcmp(got->type, "custom_model") &&
		       mreg_record_tag(got, "team") && !strcmp(mreg_record_tag(got, "team"), "vision"),
	       "with its record: type, tags, content digest");
	mreg_record_free(got);
	json_decref(c);
	json_decref(r);
	tl_free(&l);
}

int main(void)
{
	tap_tmpdir();
	make_model();
	test_reproducible();
	test_layout();
	test_roundtrip();
	test_conflict();
	test_hostile();
	test_damaged();
	test_other_order();
	test_signed();
	test_damaged_store();
	test_progress();
	mreg_record_free(rec_a);
	mreg_store_free(store_a);
	return tap_done();
}
