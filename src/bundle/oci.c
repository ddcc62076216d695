/*
 * OCI image layout + CNCF ModelPack documents. References:
 * - OCI image-spec: image-layout.md (oci-layout, index.json, blobs/<alg>/<hex>),
 *   manifest.md, descriptor.md, annotations.md (org.opencontainers.image.*).
 * - ModelPack model-spec: docs/spec.md (artifactType, layer media types),
 *   docs/config.md and specs-go/v1/config.go (descriptor, config, modelfs with
 *   "diffIds" as the Go type spells it), specs-go/v1/annotations.go
 *   (org.cncf.model.filepath, org.cncf.model.file.metadata+json).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/error_priv.h"
#include "util/hash.h"
#include "util/json_text.h"
#include "oci.h"
#include "store/record_priv.h"
#include "util/strutil.h"
#include "util/walk.h"

#define MT_PREFIX "application/vnd.cncf.model."
static const char *const raw_types[] = {
	MT_PREFIX "weight.v1.raw",
	MT_PREFIX "weight.config.v1.raw",
	MT_PREFIX "doc.v1.raw",
	MT_PREFIX "code.v1.raw",
	MT_PREFIX "dataset.v1.raw",
};
enum { MT_WEIGHT, MT_WEIGHT_CONFIG, MT_DOC, MT_CODE };

/* ---- media types by file name (after modctl's lists, trimmed) ---- */

static const char *const weight_ext[] = {"safetensors", "bin", "pt", "pth", "mar", "pte", "pt2",
	"ptl", "tflite", "h5", "hdf", "hdf5", "pb", "gguf", "ggml", "ckpt", "checkpoint", "onnx",
	"pkl", "pickle", "joblib", "keras", "npy", "npz", "mlmodel", "engine", "plan", "trt",
	"model", "msgpack", "caffemodel", "graphdef", "savedmodel", "weights", "tensor", "index",
	"ot", "nb", "dlc", "llamafile"};
static const char *const config_ext[] = {"json", "jsonl", "json5", "yaml", "yml", "toml", "ini",
	"cfg", "conf", "config", "xml", "pbtxt", "prototxt", "properties"};
static const char *const doc_ext[] = {"md", "rst", "txt", "pdf", "html", "htm", "png", "jpg",
	"jpeg", "gif", "svg", "webp", "log"};
static const char *const code_ext[] = {"py", "ipynb", "sh", "bash", "c", "h", "cc", "cpp", "hpp",
	"cu", "cuh", "java", "js", "ts", "go", "rs", "r", "jl", "lua", "rb", "scala", "kt", "sql",
	"so", "dll", "dylib", "whl", "patch"};

const char *oci_media_type(const char *path, bool *guessed)
{
	const char *base = strrchr(path, '/');
	char name[256], *ext;
	size_t i;

	*guessed = false;
	base = base ? base + 1 : path;
	for (i = 0; base[i] && i < sizeof(name) - 1; i++)
		name[i] = (char)tolower((unsigned char)base[i]);
	name[i] = '\0';
	/* Names first: they beat extensions (requirements.txt is code, not docs). */
	if (!strcmp(name, "mlmodel") || !strcmp(name, "tokenizer.model") ||
	    !strcmp(name, "vocab.txt") || !strcmp(name, "merges.txt"))
		return raw_types[MT_WEIGHT_CONFIG];
	if (str_starts_with(name, "requirements") || str_starts_with(name, "dockerfile") ||
	    str_starts_with(name, "makefile") || !strcmp(name, "pyproject.toml") ||
	    !strcmp(name, "setup.cfg") || !strcmp(name, "cmakelists.txt"))
		return raw_types[MT_CODE];
	if (str_starts_with(name, "readme") || str_starts_with(name, "license") ||
	    str_starts_with(name, "licence") || str_starts_with(name, "notice") ||
	    str_starts_with(name, "copying") || str_starts_with(name, "authors"))
		return raw_types[MT_DOC];
	ext = strrchr(name, '.');
	if (ext) {
		ext++;
		if (STR_IN_ARRAY(ext, weight_ext) || str_starts_with(ext, "data-"))
			return raw_types[MT_WEIGHT];
		if (STR_IN_ARRAY(ext, config_ext))
			return raw_types[MT_WEIGHT_CONFIG];
		if (STR_IN_ARRAY(ext, doc_ext))
			return raw_types[MT_DOC];
		if (STR_IN_ARRAY(ext, code_ext))
			return raw_types[MT_CODE];
	}
	*guessed = true;
	return raw_types[MT_WEIGHT];
}

bool oci_layer_type(const char *mt, oci_layer_form *form)
{
	static const char *const kinds[] = {"weight.config", "weight", "doc", "code", "dataset"};
	static const struct {
		const char *suffix;
		oci_layer_form form;
	} forms[] = {{"raw", LAYER_RAW}, {"tar", LAYER_TAR}, {"tar+gzip", LAYER_TAR_GZIP},
		     {"tar+zstd", LAYER_TAR_ZSTD}};
	const char *rest;
	size_t i;

	if (!mt || !str_starts_with(mt, MT_PREFIX))
		return false;
	mt += strlen(MT_PREFIX);
	for (i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
		size_t n = strlen(kinds[i]);
		if (!strncmp(mt, kinds[i], n) && !strncmp(mt + n, ".v1.", 4))
			break;
	}
	if (i == sizeof(kinds) / sizeof(*kinds))
		return false;
	rest = mt + strlen(kinds[i]) + 4;
	for (i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
		if (!strcmp(rest, forms[i].suffix)) {
			*form = forms[i].form;
			return true;
		}
	}
	return false;
}

/* ---- config.format from the weight files ---- */

static const struct {
	const char *ext;   /* lowercase extension, or a whole base name when it has no '.' first */
	const char *format;
} model_formats[] = {
	{".onnx", "onnx"},
	{".safetensors", "safetensors"},
	{".gguf", "gguf"},
	{".pt", "pt"},
	{".pth", "pt"},
	{".pt2", "pt"},
	{".plan", "tensorrt"},
	{".engine", "tensorrt"},
	{".trt", "tensorrt"},
	{"saved_model.pb", "savedmodel"},
	{"saved_model.pbtxt", "savedmodel"},
	{"model.graphdef", "graphdef"},
	{".tflite", "tflite"},
	{".h5", "keras"},
	{".keras", "keras"},
	{".pkl", "pickle"},
	{".pickle", "pickle"},
	{".mlmodel", "coreml"},
};

static const char *file_format(const char *path)
{
	const char *base = strrchr(path, '/');
	char name[256];
	size_t i, n;

	base = base ? base + 1 : path;
	for (i = 0; base[i] && i < sizeof(name) - 1; i++)
		name[i] = (char)tolower((unsigned char)base[i]);
	name[i] = '\0';
	n = i;
	for (i = 0; i < sizeof(model_formats) / sizeof(*model_formats); i++) {
		const char *e = model_formats[i].ext;
		size_t k = strlen(e);
		if (e[0] == '.' ? n > k && !strcmp(name + n - k, e) : !strcmp(name, e))
			return model_formats[i].format;
	}
	return NULL;
}

/* The record's "weights" metadata (formats/weights: what the weight files'
 * headers say), a new reference, or NULL. */
static json_t *record_weights(const mreg_record *r)
{
	json_t *meta = r->format_json ? json_loads(r->format_json, 0, NULL) : NULL;
	json_t *w = json_object_get(meta, "weights");

	if (json_is_object(w))
		json_incref(w);
	else
		w = NULL;
	json_decref(meta);
	return w;
}

/*
 * ModelPack's paramSize: a count with at most one decimal and a scale letter
 * (config.md: "6.7B", "100m"); NULL below 50 parameters, which no scale
 * letter can say.
 */
static char *param_size(char *buf, size_t size, uint64_t n)
{
	static const struct {
		char letter;
		uint64_t scale;
	} scales[] = {
		{'Q', 1000000000000000ull}, {'T', 1000000000000ull}, {'B', 1000000000ull},
		{'M', 1000000ull},          {'K', 1000ull},
	};
	size_t i = 0;
	uint64_t tenths, step;

	while (i + 1 < sizeof(scales) / sizeof(*scales) && n < scales[i].scale)
		i++;
	step = scales[i].scale / 10;
	tenths = n / step + (n % step >= step / 2);
	if (tenths >= 10000 && i > 0) { /* 999,960 is 1M, not 1000.0K */
		step = scales[--i].scale / 10;
		tenths = n / step + (n % step >= step / 2);
	}
	if (!tenths)
		return NULL;
	if (tenths % 10)
		snprintf(buf, size, "%llu.%llu%c", (unsigned long long)(tenths / 10),
			 (unsigned long long)(tenths % 10), scales[i].letter);
	else
		snprintf(buf, size, "%llu%c", (unsigned long long)(tenths / 10), scales[i].letter);
	return buf;
}

const char *oci_model_format(const mreg_record *r)
{
	const char *found = NULL;
	json_t *w = record_weights(r);
	const char *checked = json_string_value(json_object_get(w, "format"));

	/* The format the weight files' headers proved, when they agree on one. */
	for (size_t i = 0; checked && i < sizeof(model_formats) / sizeof(*model_formats); i++)
		if (!strcmp(model_formats[i].format, checked))
			found = model_formats[i].format;
	json_decref(w);
	if (found)
		return found;
	for (size_t i = 0; i < r->file_count; i++) {
		const char *f = file_format(r->files[i].path);
		if (!f)
			continue;
		if (found && strcmp(found, f))
			return NULL; /* two formats (an ONNX model beside a TensorRT plan) */
		found = f;
	}
	return found;
}

/* ---- writing ---- */

void oci_blob_dispose(oci_blob *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Serialise canonically (compact, sorted keys) and digest. Steals @v. */
static int finish(oci_blob *out, json_t *v, const char *what)
{
	uint8_t raw[SHA256_LEN];

	memset(out, 0, sizeof(*out));
	if (!v)
		return mreg_seterr_nomem();
	out->data = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(v);
	if (!out->data)
		return mreg_seterr(MREG_ENOMEM, "cannot serialise the %s", what);
	out->len = strlen(out->data);
	hash_buffer(raw, out->data, out->len);
	digest_format(out->digest, raw);
	return 0;
}

static json_t *kv_object(const mreg_kv *kv, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++)
		json_object_set_new(o, kv[i].key, json_string(kv[i].value));
	return o;
}

static void set_str(json_t *o, const char *key, const char *value)
{
	if (value)
		json_object_set_new(o, key, json_string(value));
}

static json_t *desc_json(const char *media_type, const char *digest, uint64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
			 (json_int_t)size);
}

static json_t *record_part(const mreg_record *r)
{
	json_t *o = json_object(), *src = json_object();

	if (!o || !src) {
		json_decref(o);
		json_decref(src);
		return NULL;
	}
	json_object_set_new(o, "bundle_format", json_integer(BUNDLE_FORMAT));
	set_str(o, "name", r->name);
	set_str(o, "version", r->version);
	set_str(o, "type", r->type);
	set_str(o, "description", r->description);
	set_str(o, "stage", r->stage);
	json_object_set_new(o, "tags", kv_object(r->tags, r->tag_count));
	json_object_set_new(o, "properties", kv_object(r->properties, r->property_count));
	set_str(o, "created_at", r->created_at);
	set_str(src, "kind", r->source.kind);
	set_str(src, "path", r->source.path);
	if (r->source.git_commit) {
		json_t *git = json_object();
		set_str(git, "commit", r->source.git_commit);
		set_str(git, "branch", r->source.git_branch);
		if (r->source.git_dirty >= 0)
			json_object_set_new(git, "dirty", json_boolean(r->source.git_dirty));
		set_str(git, "path", r->source.git_path);
		set_str(git, "remote", r->source.git_remote);
		json_object_set_new(src, "git", git);
	}
	if (r->source.fetched_at) {
		json_t *fetched = json_object();
		set_str(fetched, "at", r->source.fetched_at);
		set_str(fetched, "etag", r->source.etag);
		set_str(fetched, "last_modified", r->source.last_modified);
		json_object_set_new(src, "fetched", fetched);
	}
	json_object_set_new(o, "source", src);
	set_str(o, "digest", r->digest);
	/* Empty folders and links: the record's own lists (absent when none). */
	if (record_tree_to_json(o, r)) {
		json_decref(o);
		return NULL;
	}
	if (r->format_json) {
		json_t *meta = json_loads(r->format_json, 0, NULL);
		if (json_is_object(meta))
			json_object_set_new(o, "metadata", meta);
		else
			json_decref(meta);
	}
	return o;
}

char *oci_record_json(const mreg_record *r)
{
	json_t *o = record_part(r);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(o);
	return text;
}

/* Take the text of @sb as @out and digest it (@sb is left empty). */
static int finish_text(oci_blob *out, strbuf *sb, const char *what)
{
	uint8_t raw[SHA256_LEN];

	memset(out, 0, sizeof(*out));
	if (sb->failed || !sb->data) {
		strbuf_dispose(sb);
		return mreg_seterr(MREG_ENOMEM, "cannot serialise the %s", what);
	}
	out->len = sb->len;
	out->data = strbuf_detach(sb);
	hash_buffer(raw, out->data, out->len);
	digest_format(out->digest, raw);
	return 0;
}

/*
 * The config and the manifest are written as text (util/json_text.h): keys
 * in sorted order by hand, so the text is what jansson's sorted compact dump
 * gives (tests/unit/test_json_text.c checks both documents against it), and
 * the small objects through jansson.
 */
int oci_config_build(oci_blob *out, const mreg_record *r, const oci_blob *tree)
{
	json_t *desc = json_object(), *conf = json_object();
	strbuf sb = STRBUF_INIT;

	if (!desc || !conf) {
		json_decref(desc);
		json_decref(conf);
		return mreg_seterr_nomem();
	}
	/*
	 * ModelPack's own fields, filled where the record has the answer, and
	 * nothing else: its schema (schema/config-schema.json) forbids other
	 * properties at every level. The record goes on the manifest.
	 */
	set_str(desc, "name", r->name);
	set_str(desc, "version", r->version);
	set_str(desc, "description", r->description);
	set_str(desc, "createdAt", r->created_at);
	set_str(desc, "revision", r->source.git_commit);
	set_str(desc, "sourceURL", r->source.git_remote);
	set_str(conf, "format", oci_model_format(r));
	/* paramSize and precision from the weight files' headers (formats/weights). */
	json_t *w = record_weights(r);
	json_t *params = json_object_get(w, "parameters");
	char size[32];
	if (json_is_integer(params) && json_integer_value(params) > 0)
		set_str(conf, "paramSize",
			param_size(size, sizeof(size), (uint64_t)json_integer_value(params)));
	if (json_is_string(json_object_get(w, "precision")))
		set_str(conf, "precision", json_string_value(json_object_get(w, "precision")));
	json_decref(w);
	json_text_lit(&sb, "{\"config\":");
	json_text_value(&sb, conf);
	json_text_lit(&sb, ",\"descriptor\":");
	json_text_value(&sb, desc);
	/* One diffId per layer, in the manifest's order (a tar layer's is its own digest: uncompressed). */
	json_text_lit(&sb, ",\"modelfs\":{\"diffIds\":[");
	for (size_t i = 0; i < r->file_count; i++) {
		if (i)
			json_text_lit(&sb, ",");
		json_text_string(&sb, r->files[i].digest);
	}
	if (tree && tree->data) {
		if (r->file_count)
			json_text_lit(&sb, ",");
		json_text_string(&sb, tree->digest);
	}
	json_text_lit(&sb, "],\"type\":\"layers\"}}");
	json_decref(desc);
	json_decref(conf);
	return finish_text(out, &sb, "model config");
}

/*
 * ModelPack's FileMetadata of @f, with the fixed values of the bundle's tar:
 * its keys in sorted order.
 */
static void file_metadata_json(strbuf *sb, const mreg_file *f, const char *name)
{
	json_text_lit(sb, "{\"gid\":0,\"mode\":");
	json_text_uint(sb, f->mode);
	json_text_lit(sb, ",\"mtime\":\"1970-01-01T00:00:00Z\",\"name\":");
	json_text_string(sb, name);
	json_text_lit(sb, ",\"size\":");
	json_text_uint(sb, f->size);
	json_text_lit(sb, ",\"typeflag\":48,\"uid\":0}");
}

/* A descriptor's digest, mediaType and size, after its annotations (sorted keys). */
static void desc_tail(strbuf *sb, const char *digest, const char *media_type, uint64_t size)
{
	json_text_lit(sb, ",\"digest\":");
	json_text_string(sb, digest);
	json_text_lit(sb, ",\"mediaType\":");
	json_text_string(sb, media_type);
	json_text_lit(sb, ",\"size\":");
	json_text_uint(sb, size);
	json_text_lit(sb, "}");
}

/*
 * One file's layer descriptor, its annotations with it (ORAS names pulled
 * files after the title). The annotation keys in sorted order:
 * MODEL_MT_UNTESTED, MODEL_FILE_METADATA, MODEL_FILEPATH, OCI_TITLE.
 */
static void file_layer(strbuf *sb, strbuf *meta, const mreg_file *f)
{
	const char *base = strrchr(f->path, '/');
	bool guessed;
	const char *mt = oci_media_type(f->path, &guessed);

	meta->len = 0;
	file_metadata_json(meta, f, base ? base + 1 : f->path);
	if (meta->failed) {
		sb->failed = true;
		return;
	}
	json_text_lit(sb, "{\"annotations\":{");
	if (guessed)
		json_text_lit(sb, "\"" MODEL_MT_UNTESTED "\":\"true\",");
	json_text_lit(sb, "\"" MODEL_FILE_METADATA "\":");
	json_text_string(sb, meta->data);
	json_text_lit(sb, ",\"" MODEL_FILEPATH "\":");
	json_text_string(sb, f->path);
	json_text_lit(sb, ",\"" OCI_TITLE "\":");
	json_text_string(sb, f->path);
	json_text_lit(sb, "}");
	desc_tail(sb, f->digest, mt, f->size);
}

int oci_manifest_build(oci_blob *out, const mreg_record *r, const oci_blob *config,
		       const oci_blob *tree)
{
	json_t *ann = json_object();
	strbuf sb = STRBUF_INIT, meta = STRBUF_INIT;
	char *record = NULL;

	if (!ann || !(record = oci_record_json(r))) {
		json_decref(ann);
		return mreg_seterr_nomem();
	}
	set_str(ann, "org.opencontainers.image.created", r->created_at);
	set_str(ann, OCI_TITLE, r->name);
	set_str(ann, OCI_VERSION, r->version);
	set_str(ann, "org.opencontainers.image.description", r->description);
	/* The record in one JSON string, as KitOps keeps its Kitfile: signed with the manifest. */
	json_object_set_new(ann, MREG_RECORD_ANNOTATION, json_string(record));
	free(record);
	json_text_lit(&sb, "{\"annotations\":");
	json_text_value(&sb, ann);
	json_decref(ann);
	json_text_lit(&sb, ",\"artifactType\":\"" MODEL_ARTIFACT_TYPE "\",\"config\":{");
	json_text_lit(&sb, "\"digest\":");
	json_text_string(&sb, config->digest);
	json_text_lit(&sb, ",\"mediaType\":\"" MODEL_MT_CONFIG "\",\"size\":");
	json_text_uint(&sb, config->len);
	json_text_lit(&sb, "},\"layers\":[");
	for (size_t i = 0; i < r->file_count && !sb.failed; i++) {
		if (i)
			json_text_lit(&sb, ",");
		file_layer(&sb, &meta, &r->files[i]);
	}
	strbuf_dispose(&meta);
	/* The empty folders and links, last: a tar layer every ModelPack reader untars (layer.h). */
	if (tree && tree->data) {
		if (r->file_count)
			json_text_lit(&sb, ",");
		json_text_lit(&sb, "{\"annotations\":{\"" MREG_TREE_LAYER_ANNOTATION
				   "\":\"empty folders and links\"}");
		desc_tail(&sb, tree->digest, LAYER_TREE_MEDIA_TYPE, tree->len);
	}
	json_text_lit(&sb, "],\"mediaType\":\"" OCI_MT_MANIFEST "\",\"schemaVersion\":2}");
	return finish_text(out, &sb, "manifest");
}

int oci_index_build(oci_blob *out, const mreg_record *r, const oci_blob *manifest,
		    const oci_blob *const *referrers, size_t count)
{
	json_t *d = desc_json(OCI_MT_MANIFEST, manifest->digest, manifest->len), *list;

	if (!d)
		return mreg_seterr_nomem();
	json_object_set_new(d, "artifactType", json_string(MODEL_ARTIFACT_TYPE));
	json_object_set_new(d, "annotations", json_pack("{s:s}", OCI_REF_NAME, r->version));
	list = json_pack("[o]", d);
	/* The signature is listed too (untagged), as a referrer of the model: OCI tools find it. */
	for (size_t i = 0; list && i < count; i++) {
		json_t *s = desc_json(OCI_MT_MANIFEST, referrers[i]->digest, referrers[i]->len);
		if (s)
			json_object_set_new(s, "artifactType", json_string(OCI_SIG_ARTIFACT_TYPE));
		json_array_append_new(list, s);
	}
	return finish(out,
		      json_pack("{s:i, s:s, s:o*}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX,
				"manifests", list),
		      "index");
}

int oci_sig_manifest_build(oci_blob *out, const oci_blob *subject, const oci_blob *sig)
{
	json_t *layer = desc_json(OCI_SIG_ARTIFACT_TYPE, sig->digest, sig->len);
	json_t *subj = desc_json(OCI_MT_MANIFEST, subject->digest, subject->len);

	if (!layer || !subj) {
		json_decref(layer);
		json_decref(subj);
		return mreg_seterr_nomem();
	}
	json_object_set_new(subj, "artifactType", json_string(MODEL_ARTIFACT_TYPE));
	return finish(out,
		      json_pack("{s:i, s:s, s:s, s:o, s:[o], s:o}", "schemaVersion", 2, "mediaType",
				OCI_MT_MANIFEST, "artifactType", OCI_SIG_ARTIFACT_TYPE, "config",
				desc_json(OCI_MT_EMPTY, OCI_EMPTY_DIGEST, 2), "layers", layer,
				"subject", subj),
		      "signature manifest");
}

int oci_check_size(const mreg_record *r, const oci_blob *config, const oci_blob *manifest)
{
	const oci_blob *big = manifest->len > MREG_MANIFEST_MAX ? manifest : config;

	if (big->len <= MREG_MANIFEST_MAX)
		return 0;
	return mreg_seterr(MREG_EINVALID,
			   "%s:%s: its %s would be %zu bytes, more than the %u (4 MiB) registries "
			   "accept (%zu files; description %zu bytes, %zu tags, %zu properties): "
			   "shorten them with mreg update, or register the model again in fewer "
			   "files",
			   r->name, r->version, big == manifest ? "manifest" : "config", big->len,
			   MREG_MANIFEST_MAX, r->file_count,
			   r->description ? strlen(r->description) : (size_t)0, r->tag_count,
			   r->property_count);
}

/* ---- reading ---- */

static json_t *load(const char *text, size_t len, const char *what)
{
	json_error_t err;
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);

	if (!v)
		mreg_seterr(MREG_EINVALID, "%s: not valid JSON (line %d: %s)", what, err.line,
			    err.text);
	else if (!json_is_object(v)) {
		json_decref(v);
		v = NULL;
		mreg_seterr(MREG_EINVALID, "%s: a JSON object was expected", what);
	}
	return v;
}

static const char *get_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int oci_layout_check(const char *text, size_t len)
{
	json_t *v = load(text, len, "oci-layout");
	const char *ver;
	int rc = 0;

	if (!v)
		return MREG_EINVALID;
	ver = get_str(v, "imageLayoutVersion");
	if (!ver)
		rc = mreg_seterr(MREG_EINVALID, "oci-layout: no imageLayoutVersion");
	else if (strcmp(ver, "1.0.0"))
		rc = mreg_seterr(MREG_EUNSUPPORTED, "oci-layout: image layout version %s (1.0.0 is read)",
				 ver);
	json_decref(v);
	return rc;
}

static int parse_desc(oci_desc *out, json_t *d, const char *what)
{
	const char *digest = get_str(d, "digest");
	json_t *size = json_object_get(d, "size");

	if (!json_is_object(d))
		return mreg_seterr(MREG_EINVALID, "%s: a descriptor object was expected", what);
	if (!digest_valid(digest))
		return mreg_seterr(MREG_EINVALID, "%s: digest '%.80s' is not sha256:<64 hex>", what,
				   digest ? digest : "(missing)");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return mreg_seterr(MREG_EINVALID, "%s: size is missing or negative", what);
	memcpy(out->digest, digest, MREG_DIGEST_STRLEN);
	out->size = (uint64_t)json_integer_value(size);
	return 0;
}

void oci_index_dispose(oci_index *ix)
{
	free(ix->ref_name);
	free(ix->referrers);
	memset(ix, 0, sizeof(*ix));
}

/* The descriptor of a manifest in a list: media type checked, size bounded. */
static int manifest_desc(oci_desc *out, json_t *d, const char *what)
{
	const char *mt = get_str(d, "mediaType");
	int rc;

	if (!json_is_object(d))
		return mreg_seterr(MREG_EINVALID, "%s: a descriptor object was expected", what);
	if (!mt || strcmp(mt, OCI_MT_MANIFEST))
		return mreg_seterr(MREG_EINVALID, "%s: media type %.100s, not %s", what,
				   mt ? mt : "missing", OCI_MT_MANIFEST);
	if ((rc = parse_desc(out, d, what)))
		return rc;
	if (out->size > OCI_JSON_MAX)
		return mreg_seterr(MREG_EINVALID, "%s: the manifest is too large (%llu bytes)", what,
				   (unsigned long long)out->size);
	return 0;
}

static bool desc_listed(const oci_desc *list, size_t n, const char *digest)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i].digest, digest))
			return true;
	return false;
}

int oci_index_parse(oci_index *out, const char *text, size_t len)
{
	json_t *v = load(text, len, "index.json"), *list, *d;
	const char *ref, *at;
	bool have_model = false;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!v)
		return MREG_EINVALID;
	list = json_object_get(v, "manifests");
	if (!json_is_integer(json_object_get(v, "schemaVersion")) ||
	    json_integer_value(json_object_get(v, "schemaVersion")) != 2) {
		rc = mreg_seterr(MREG_EINVALID, "index.json: schemaVersion 2 expected");
		goto done;
	}
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > OCI_REFERRERS_MAX + 1) {
		rc = mreg_seterr(MREG_EINVALID,
				 "index.json: an mreg bundle names one model manifest and at most %u "
				 "signatures (found %zu manifests)",
				 OCI_REFERRERS_MAX, json_is_array(list) ? json_array_size(list) : 0);
		goto done;
	}
	if (!(out->referrers = calloc(json_array_size(list), sizeof(*out->referrers)))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	json_array_foreach(list, i, d) {
		char what[64];
		oci_desc desc;

		snprintf(what, sizeof(what), "index.json: manifest %zu", i + 1);
		if ((rc = manifest_desc(&desc, d, what)))
			goto done;
		at = get_str(d, "artifactType");
		if (at && !strcmp(at, OCI_SIG_ARTIFACT_TYPE)) {
			if (!desc_listed(out->referrers, out->referrer_count, desc.digest))
				out->referrers[out->referrer_count++] = desc;
			continue;
		}
		/* Other tools' layouts may leave artifactType out of index.json: not a signature. */
		if (at && strcmp(at, MODEL_ARTIFACT_TYPE)) {
			rc = mreg_seterr(MREG_EINVALID,
					 "%s: artifact type %.100s is neither a model (%s) nor an OMS "
					 "signature (%s)",
					 what, at, MODEL_ARTIFACT_TYPE, OCI_SIG_ARTIFACT_TYPE);
			goto done;
		}
		if (have_model) {
			rc = mreg_seterr(MREG_EINVALID,
					 "index.json: two model manifests (%s and %s): a bundle holds "
					 "one version",
					 out->model.digest, desc.digest);
			goto done;
		}
		have_model = true;
		out->model = desc;
		ref = get_str(json_object_get(d, "annotations"), OCI_REF_NAME);
		if (ref && !(out->ref_name = strdup(ref))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
	}
	if (!have_model)
		rc = mreg_seterr(MREG_EINVALID, "index.json: no model manifest (only signatures)");
	else if (desc_listed(out->referrers, out->referrer_count, out->model.digest))
		rc = mreg_seterr(MREG_EINVALID,
				 "index.json: %s is listed both as the model and as a signature",
				 out->model.digest);
done:
	json_decref(v);
	if (rc)
		oci_index_dispose(out);
	return rc;
}

bool oci_artifact_type_is(const char *text, size_t len, const char *type)
{
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	const char *s = json_is_object(v) ? get_str(v, "artifactType") : NULL;
	bool same = s && !strcmp(s, type);

	json_decref(v);
	return same;
}

int oci_sig_manifest_parse(oci_sig_manifest *out, const char *text, size_t len, const char *what)
{
	char where[320];
	json_t *v, *d, *layers;
	const char *s;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	snprintf(where, sizeof(where), "%s: signature manifest", what);
	if (!(v = load(text, len, where)))
		return MREG_EINVALID;
	s = get_str(v, "mediaType");
	if (json_integer_value(json_object_get(v, "schemaVersion")) != 2 || !s ||
	    strcmp(s, OCI_MT_MANIFEST)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: not an OCI image manifest (schemaVersion 2, %s)",
				 where, OCI_MT_MANIFEST);
		goto done;
	}
	s = get_str(v, "artifactType");
	if (!s || strcmp(s, OCI_SIG_ARTIFACT_TYPE)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: artifact type %.100s, not %s", where,
				 s ? s : "missing", OCI_SIG_ARTIFACT_TYPE);
		goto done;
	}
	d = json_object_get(v, "config");
	s = get_str(d, "mediaType");
	if (!s || strcmp(s, OCI_MT_EMPTY)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: config media type %.100s, not %s", where,
				 s ? s : "missing", OCI_MT_EMPTY);
		goto done;
	}
	if ((rc = parse_desc(&out->config, d, where)))
		goto done;
	if (strcmp(out->config.digest, OCI_EMPTY_DIGEST) || out->config.size != 2) {
		rc = mreg_seterr(MREG_EINVALID, "%s: the config is not the empty descriptor ({})",
				 where);
		goto done;
	}
	layers = json_object_get(v, "layers");
	if (!json_is_array(layers) || json_array_size(layers) != 1) {
		rc = mreg_seterr(MREG_EINVALID, "%s: one layer (the OMS bundle) expected, found %zu",
				 where, json_is_array(layers) ? json_array_size(layers) : 0);
		goto done;
	}
	d = json_array_get(layers, 0);
	s = get_str(d, "mediaType");
	if (!s || strcmp(s, OCI_SIG_ARTIFACT_TYPE)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: layer media type %.100s, not %s", where,
				 s ? s : "missing", OCI_SIG_ARTIFACT_TYPE);
		goto done;
	}
	if ((rc = parse_desc(&out->layer, d, where)))
		goto done;
	if (out->layer.size > MREG_OMS_BUNDLE_MAX || out->layer.size == 0) {
		rc = mreg_seterr(MREG_EINVALID, "%s: the OMS bundle is %llu bytes (1 to %u)", where,
				 (unsigned long long)out->layer.size, MREG_OMS_BUNDLE_MAX);
		goto done;
	}
	d = json_object_get(v, "subject");
	if (!d) {
		rc = mreg_seterr(MREG_EINVALID, "%s: no subject (it signs no model)", where);
		goto done;
	}
	s = get_str(d, "mediaType");
	if (!s || strcmp(s, OCI_MT_MANIFEST)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: subject media type %.100s, not %s", where,
				 s ? s : "missing", OCI_MT_MANIFEST);
		goto done;
	}
	rc = parse_desc(&out->subject, d, where);
done:
	json_decref(v);
	return rc;
}

int oci_referrers_parse(oci_referrer **out, size_t *count, const char *text, size_t len,
			const char *what)
{
	json_t *v = load(text, len, what), *list, *d;
	const char *s;
	size_t i;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (!v)
		return MREG_EINVALID;
	s = get_str(v, "mediaType");
	list = json_object_get(v, "manifests");
	if (json_integer_value(json_object_get(v, "schemaVersion")) != 2 || !s ||
	    strcmp(s, OCI_MT_INDEX) || !json_is_array(list)) {
		rc = mreg_seterr(MREG_EINVALID,
				 "%s: not an OCI image index (schemaVersion 2, %s, manifests)", what,
				 OCI_MT_INDEX);
		goto done;
	}
	if (json_array_size(list) > OCI_REFERRERS_LIST_MAX) {
		rc = mreg_seterr(MREG_EINVALID, "%s: %zu referrers (at most %u are read)", what,
				 json_array_size(list), OCI_REFERRERS_LIST_MAX);
		goto done;
	}
	if (!(*out = calloc(json_array_size(list) + 1, sizeof(**out)))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	json_array_foreach(list, i, d) {
		char where[320];
		oci_desc desc;

		bool listed = false;

		s = get_str(d, "artifactType");
		/* Other referrers (SBOMs, cosign signatures) are none of ours: skipped. An
		 * image manifest listed without its artifactType (skopeo 1.9 drops it when it
		 * copies an index) may be ours: the caller reads it to know. */
		if (!json_is_object(d) || (s && strcmp(s, OCI_SIG_ARTIFACT_TYPE)) ||
		    (!s && strcmp(get_str(d, "mediaType") ? get_str(d, "mediaType") : "",
				  OCI_MT_MANIFEST)))
			continue;
		snprintf(where, sizeof(where), "%s: manifest %zu", what, i + 1);
		if ((rc = manifest_desc(&desc, d, where)))
			goto done;
		for (size_t k = 0; k < *count; k++)
			listed = listed || !strcmp((*out)[k].desc.digest, desc.digest);
		if (listed)
			continue;
		if (*count >= OCI_REFERRERS_MAX) {
			rc = mreg_seterr(MREG_EINVALID, "%s: more than %u OMS signatures", what,
					 OCI_REFERRERS_MAX);
			goto done;
		}
		(*out)[*count].desc = desc;
		(*out)[(*count)++].typed = s != NULL;
	}
done:
	json_decref(v);
	if (rc) {
		free(*out);
		*out = NULL;
		*count = 0;
	}
	return rc;
}

int oci_referrers_merge(oci_blob *out, const char *existing, size_t len, const oci_blob *sig)
{
	json_t *v = NULL, *list, *d;
	const char *s;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (existing) {
		if (!(v = load(existing, len, "the referrers tag")))
			return MREG_EINVALID;
		s = get_str(v, "mediaType");
		list = json_object_get(v, "manifests");
		if (json_integer_value(json_object_get(v, "schemaVersion")) != 2 || !s ||
		    strcmp(s, OCI_MT_INDEX) || !json_is_array(list)) {
			json_decref(v);
			return mreg_seterr(MREG_EINVALID,
					   "the referrers tag does not hold an OCI image index: not "
					   "replaced");
		}
		if (json_array_size(list) >= OCI_REFERRERS_LIST_MAX) {
			json_decref(v);
			return mreg_seterr(MREG_EINVALID, "the referrers tag lists %zu manifests "
					   "already (at most %u)", json_array_size(list),
					   OCI_REFERRERS_LIST_MAX);
		}
		json_array_foreach(list, i, d)
			if (!strcmp(get_str(d, "digest") ? get_str(d, "digest") : "", sig->digest))
				break;
		if (i < json_array_size(list)) {
			/* Listed already: the same bytes again. */
			json_decref(v);
			if (!(out->data = malloc(len + 1)))
				return mreg_seterr_nomem();
			memcpy(out->data, existing, len);
			out->data[len] = '\0';
			out->len = len;
			{
				uint8_t raw[SHA256_LEN];
				hash_buffer(raw, out->data, out->len);
				digest_format(out->digest, raw);
			}
			return 0;
		}
	} else {
		v = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX,
			      "manifests");
		if (!v)
			return mreg_seterr_nomem();
		list = json_object_get(v, "manifests");
	}
	d = desc_json(OCI_MT_MANIFEST, sig->digest, sig->len);
	if (d)
		json_object_set_new(d, "artifactType", json_string(OCI_SIG_ARTIFACT_TYPE));
	if (!d || json_array_append_new(list, d)) {
		json_decref(v);
		return mreg_seterr_nomem();
	}
	return finish(out, v, "referrers tag");
}

void oci_manifest_dispose(oci_manifest *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->layers[i].path);
	free(m->layers);
	free(m->record_json);
	free(m->title);
	free(m->version);
	memset(m, 0, sizeof(*m));
}

/* The permission bits from ModelPack's file metadata annotation (0644 without one). */
static int layer_mode(unsigned int *mode, json_t *ann, const char *what)
{
	const char *text = get_str(ann, MODEL_FILE_METADATA);
	json_t *meta, *m;
	int rc = 0;

	*mode = 0644;
	if (!text)
		return 0;
	meta = json_loads(text, 0, NULL);
	m = json_object_get(meta, "mode");
	if (!json_is_object(meta) || !json_is_integer(m) || json_integer_value(m) < 0)
		rc = mreg_seterr(MREG_EINVALID, "%s: file metadata without a mode", what);
	else
		*mode = (unsigned int)json_integer_value(m) & 0777;
	json_decref(meta);
	return rc;
}

/* A string annotation of the manifest, copied when present and printable. */
static int manifest_annotation(char **out, json_t *ann, const char *key, bool printable)
{
	json_t *v = json_object_get(ann, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return mreg_seterr(MREG_EINVALID, "manifest: annotation %s is not a string", key);
	if (printable && !utf8_printable(json_string_value(v)))
		return 0; /* another tool's title or version: not ours to refuse, not usable */
	*out = strdup(json_string_value(v));
	return *out ? 0 : mreg_seterr_nomem();
}

static int parse_layer(oci_layer *l, json_t *d, const char *what)
{
	json_t *ann = json_object_get(d, "annotations");
	const char *mt = get_str(d, "mediaType"), *path;
	int rc;

	if (!oci_layer_type(mt, &l->form))
		return mreg_seterr(MREG_EINVALID,
				   "%s: media type %.100s is not a ModelPack layer (%s<weight, "
				   "weight.config, doc, code or dataset>.v1.<raw, tar, tar+gzip or tar+zstd>)",
				   what, mt ? mt : "missing", MT_PREFIX);
	if ((rc = parse_desc(&l->desc, d, what)))
		return rc;
	if (ann && !json_is_object(ann))
		return mreg_seterr(MREG_EINVALID, "%s: annotations must be an object", what);
	path = get_str(ann, MODEL_FILEPATH);
	if (!path && l->form == LAYER_RAW)
		path = get_str(ann, OCI_TITLE); /* ORAS names a file by its title */
	if (!path) {
		if (l->form == LAYER_RAW)
			return mreg_seterr(MREG_EINVALID, "%s: a raw layer without a %s annotation",
					   what, MODEL_FILEPATH);
		return 0; /* a tar layer's entries carry their names */
	}
	if (path_problems(path, PATH_REJECT_DOTGIT | PATH_REJECT_DOTMREG))
		return mreg_seterr(MREG_EINVALID,
				   "%s: path '%.200s' is inside a .git or .mreg folder, where a file "
				   "could run as a git hook or pass for a store's own",
				   what, path);
	if (!path_is_valid(path, OCI_PATH_RULES))
		return mreg_seterr(MREG_EINVALID,
				   "%s: path '%.200s' escapes the model folder or is malformed", what,
				   path);
	if (!(l->path = strdup(path)))
		return mreg_seterr_nomem();
	/* A tar layer's modes are its entries' own. */
	return l->form == LAYER_RAW ? layer_mode(&l->mode, ann, what) : 0;
}

int oci_manifest_parse(oci_manifest *out, const char *text, size_t len)
{
	json_t *v = load(text, len, "manifest"), *layers, *d, *ann;
	const char *s;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!v)
		return MREG_EINVALID;
	if (json_integer_value(json_object_get(v, "schemaVersion")) != 2) {
		rc = mreg_seterr(MREG_EINVALID, "manifest: schemaVersion 2 expected");
		goto done;
	}
	s = get_str(v, "mediaType");
	if (!s || strcmp(s, OCI_MT_MANIFEST)) {
		rc = mreg_seterr(MREG_EINVALID, "manifest: media type %.100s, not %s",
				 s ? s : "missing", OCI_MT_MANIFEST);
		goto done;
	}
	s = get_str(v, "artifactType");
	if (!s || strcmp(s, MODEL_ARTIFACT_TYPE)) {
		rc = mreg_seterr(MREG_EINVALID,
				 "manifest: artifact type %.100s: not a ModelPack model (%s)",
				 s ? s : "missing", MODEL_ARTIFACT_TYPE);
		goto done;
	}
	d = json_object_get(v, "config");
	s = get_str(d, "mediaType");
	if (!s || strcmp(s, MODEL_MT_CONFIG)) {
		rc = mreg_seterr(MREG_EINVALID, "manifest: config media type %.100s, not %s",
				 s ? s : "missing", MODEL_MT_CONFIG);
		goto done;
	}
	if ((rc = parse_desc(&out->config, d, "manifest: config")))
		goto done;
	if (out->config.size > OCI_JSON_MAX) {
		rc = mreg_seterr(MREG_EINVALID, "manifest: the config is too large (%llu bytes)",
				 (unsigned long long)out->config.size);
		goto done;
	}
	ann = json_object_get(v, "annotations");
	if (ann && !json_is_object(ann)) {
		rc = mreg_seterr(MREG_EINVALID, "manifest: annotations must be an object");
		goto done;
	}
	if ((rc = manifest_annotation(&out->record_json, ann, MREG_RECORD_ANNOTATION, false)) ||
	    (rc = manifest_annotation(&out->title, ann, OCI_TITLE, true)) ||
	    (rc = manifest_annotation(&out->version, ann, OCI_VERSION, true)))
		goto done;
	layers = json_object_get(v, "layers");
	if (!json_is_array(layers)) {
		rc = mreg_seterr(MREG_EINVALID, "manifest: no layers array");
		goto done;
	}
	out->layers = calloc(json_array_size(layers) + 1, sizeof(*out->layers));
	if (!out->layers) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	json_array_foreach(layers, i, d) {
		char what[64];

		snprintf(what, sizeof(what), "manifest: layer %zu", i + 1);
		out->count = i + 1;
		if ((rc = parse_layer(&out->layers[i], d, what)))
			goto done;
	}
done:
	json_decref(v);
	if (rc)
		oci_manifest_dispose(out);
	return rc;
}

/* ---- the config ---- */

static int bad(const char *where, const char *field, const char *why)
{
	return mreg_seterr(MREG_EINVALID, "%s: %s %s", where, field, why);
}

static int opt_str(char **out, json_t *o, const char *key, bool printable, const char *where)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(where, key, "must be a string");
	if (printable ? !utf8_printable(json_string_value(v)) : !utf8_valid(json_string_value(v)))
		return bad(where, key, "holds control characters or bad UTF-8");
	*out = strdup(json_string_value(v));
	return *out ? 0 : mreg_seterr_nomem();
}

void oci_config_dispose(oci_config *c)
{
	free(c->name);
	free(c->version);
	free(c->description);
	free(c->revision);
	free(c->source_url);
	free(c->legacy);
	memset(c, 0, sizeof(*c));
}

int oci_config_parse(oci_config *out, const char *text, size_t len)
{
	json_t *v = load(text, len, "config"), *d, *legacy;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!v)
		return MREG_EINVALID;
	d = json_object_get(v, "descriptor");
	if (d && !json_is_object(d)) {
		rc = mreg_seterr(MREG_EINVALID, "config: descriptor must be an object");
		goto done;
	}
	if ((rc = opt_str(&out->name, d, "name", true, "config: descriptor")) ||
	    (rc = opt_str(&out->version, d, "version", true, "config: descriptor")) ||
	    (rc = opt_str(&out->description, d, "description", false, "config: descriptor")) ||
	    (rc = opt_str(&out->revision, d, "revision", true, "config: descriptor")) ||
	    (rc = opt_str(&out->source_url, d, "sourceURL", true, "config: descriptor")))
		goto done;
	legacy = json_object_get(v, "mreg");
	if (legacy && !(out->legacy = json_dumps(legacy, JSON_COMPACT | JSON_ENCODE_ANY)))
		rc = mreg_seterr_nomem();
done:
	json_decref(v);
	if (rc)
		oci_config_dispose(out);
	return rc;
}

/* ---- mreg's record ---- */

static int kv_from(mreg_kv **items, size_t *count, json_t *o, const char *key, const char *where)
{
	json_t *obj = json_object_get(o, key), *v;
	const char *k;
	int rc;

	*items = NULL;
	*count = 0;
	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return bad(where, key, "must be an object of strings");
	json_object_foreach(obj, k, v) {
		if (!json_is_string(v))
			return bad(where, key, "must be an object of strings");
		if ((rc = kv_check(key, k, json_string_value(v))) ||
		    (rc = kv_set(items, count, k, json_string_value(v))))
			return rc;
	}
	return 0;
}

static int parse_source(mreg_source *s, json_t *src, const char *where)
{
	json_t *git = json_object_get(src, "git"), *dirty, *fetched;
	int rc;

	s->git_dirty = -1;
	if (!src)
		return 0;
	if (!json_is_object(src))
		return bad(where, "source", "must be an object");
	if ((rc = opt_str(&s->kind, src, "kind", true, where)) ||
	    (rc = opt_str(&s->path, src, "path", true, where)))
		return rc;
	fetched = json_object_get(src, "fetched");
	if (fetched && !json_is_object(fetched))
		return bad(where, "source.fetched", "must be an object");
	if (fetched && ((rc = opt_str(&s->fetched_at, fetched, "at", true, where)) ||
			(rc = opt_str(&s->etag, fetched, "etag", true, where)) ||
			(rc = opt_str(&s->last_modified, fetched, "last_modified", true, where))))
		return rc;
	if (!git)
		return 0;
	if (!json_is_object(git))
		return bad(where, "source.git", "must be an object");
	if ((rc = opt_str(&s->git_commit, git, "commit", true, where)) ||
	    (rc = opt_str(&s->git_branch, git, "branch", true, where)) ||
	    (rc = opt_str(&s->git_path, git, "path", true, where)) ||
	    (rc = opt_str(&s->git_remote, git, "remote", true, where)))
		return rc;
	dirty = json_object_get(git, "dirty");
	if (json_is_boolean(dirty))
		s->git_dirty = json_is_true(dirty);
	return 0;
}

int oci_record_parse(mreg_record **out, char **digest, const char *json, const char *where)
{
	json_error_t err;
	json_t *mr = json_loads(json, JSON_REJECT_DUPLICATES, &err), *meta, *fmt;
	mreg_record *r = NULL;
	int rc;

	*out = NULL;
	*digest = NULL;
	if (!json_is_object(mr)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: a JSON object was expected%s%s", where,
				 mr ? "" : ": ", mr ? "" : err.text);
		goto done;
	}
	fmt = json_object_get(mr, "bundle_format");
	if (!json_is_integer(fmt) || json_integer_value(fmt) < 1) {
		rc = bad(where, "bundle_format", "is missing");
		goto done;
	}
	if (json_integer_value(fmt) > BUNDLE_FORMAT) {
		rc = mreg_seterr(MREG_EUNSUPPORTED,
				 "bundle format %lld was written by a newer mreg (this one reads %d)",
				 (long long)json_integer_value(fmt), BUNDLE_FORMAT);
		goto done;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = opt_str(&r->name, mr, "name", true, where)) ||
	    (rc = opt_str(&r->version, mr, "version", true, where)) ||
	    (rc = opt_str(&r->type, mr, "type", true, where)) ||
	    (rc = opt_str(&r->description, mr, "description", false, where)) ||
	    (rc = opt_str(&r->stage, mr, "stage", true, where)) ||
	    (rc = opt_str(&r->created_at, mr, "created_at", true, where)) ||
	    (rc = opt_str(digest, mr, "digest", true, where)) ||
	    (rc = kv_from(&r->tags, &r->tag_count, mr, "tags", where)) ||
	    (rc = kv_from(&r->properties, &r->property_count, mr, "properties", where)) ||
	    (rc = parse_source(&r->source, json_object_get(mr, "source"), where)))
		goto done;
	if (!r->name || !r->version || !r->type || !*digest) {
		rc = bad(where,
			 !r->name ? "name" : !r->version ? "version" : !r->type ? "type" : "digest",
			 "is missing");
		goto done;
	}
	if (!digest_valid(*digest)) {
		rc = bad(where, "digest", "is not sha256:<64 hex>");
		goto done;
	}
	if ((rc = mreg_name_check(r->name)) || (rc = mreg_version_check(r->version))) {
		rc = mreg_error_prefix(MREG_EINVALID, "%s", where);
		goto done;
	}
	meta = json_object_get(mr, "metadata");
	if (meta && !json_is_null(meta)) {
		if (!json_is_object(meta)) {
			rc = bad(where, "metadata", "must be an object");
			goto done;
		}
		if (!(r->format_json = json_dumps(meta, JSON_COMPACT))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
	}
	/* Empty folders and links travel in the record (absent when none); the
	 * content digest, checked once the files are known, covers them. */
	if ((rc = record_tree_from_json(r, mr, where)))
		goto done;
	*out = r;
	r = NULL;
done:
	if (rc) {
		free(*digest);
		*digest = NULL;
	}
	mreg_record_free(r);
	json_decref(mr);
	return rc;
}
