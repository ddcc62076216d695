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
	"ot", "nb", "dlc", "llamafile", NULL};
static const char *const config_ext[] = {"json", "jsonl", "json5", "yaml", "yml", "toml", "ini",
	"cfg", "conf", "config", "xml", "pbtxt", "prototxt", "properties", NULL};
static const char *const doc_ext[] = {"md", "rst", "txt", "pdf", "html", "htm", "png", "jpg",
	"jpeg", "gif", "svg", "webp", "log", NULL};
static const char *const code_ext[] = {"py", "ipynb", "sh", "bash", "c", "h", "cc", "cpp", "hpp",
	"cu", "cuh", "java", "js", "ts", "go", "rs", "r", "jl", "lua", "rb", "scala", "kt", "sql",
	"so", "dll", "dylib", "whl", "patch", NULL};

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

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
		if (in_list(ext, weight_ext) || str_starts_with(ext, "data-"))
			return raw_types[MT_WEIGHT];
		if (in_list(ext, config_ext))
			return raw_types[MT_WEIGHT_CONFIG];
		if (in_list(ext, doc_ext))
			return raw_types[MT_DOC];
		if (in_list(ext, code_ext))
			return raw_types[MT_CODE];
	}
	*guessed = true;
	return raw_types[MT_WEIGHT];
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

static json_t *mreg_part(const mreg_record *r)
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

int oci_config_build(oci_blob *out, const mreg_record *r)
{
	json_t *root = json_object(), *desc = json_object(), *ids = json_array();

	if (!root || !desc || !ids) {
		json_decref(root);
		json_decref(desc);
		json_decref(ids);
		return mreg_seterr_nomem();
	}
	/* ModelPack's own fields, filled where the record has the answer. */
	set_str(desc, "name", r->name);
	set_str(desc, "version", r->version);
	set_str(desc, "description", r->description);
	set_str(desc, "createdAt", r->created_at);
	set_str(desc, "revision", r->source.git_commit);
	set_str(desc, "sourceURL", r->source.git_remote);
	for (size_t i = 0; i < r->file_count; i++)
		json_array_append_new(ids, json_string(r->files[i].digest));
	json_object_set_new(root, "descriptor", desc);
	json_object_set_new(root, "config", json_object());
	json_object_set_new(root, "modelfs", json_pack("{s:s, s:o}", "type", "layers", "diffIds", ids));
	json_object_set_new(root, "mreg", mreg_part(r));
	return finish(out, root, "model config");
}

int oci_manifest_build(oci_blob *out, const mreg_record *r, const oci_blob *config)
{
	json_t *root = json_object(), *layers = json_array(), *ann = json_object();

	if (!root || !layers || !ann) {
		json_decref(root);
		json_decref(layers);
		json_decref(ann);
		return mreg_seterr_nomem();
	}
	for (size_t i = 0; i < r->file_count; i++) {
		const mreg_file *f = &r->files[i];
		const char *base = strrchr(f->path, '/');
		bool guessed;
		const char *mt = oci_media_type(f->path, &guessed);
		json_t *d = desc_json(mt, f->digest, f->size), *la = json_object(), *meta;
		char *meta_text;

		/* ModelPack's FileMetadata, with the fixed values of the bundle's tar. */
		meta = json_pack("{s:s, s:i, s:i, s:i, s:I, s:s, s:i}", "name", base ? base + 1 : f->path,
				 "mode", (int)f->mode, "uid", 0, "gid", 0, "size", (json_int_t)f->size,
				 "mtime", "1970-01-01T00:00:00Z", "typeflag", '0');
		meta_text = meta ? json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(meta);
		if (!d || !la || !meta_text) {
			free(meta_text);
			json_decref(d);
			json_decref(la);
			json_decref(root);
			json_decref(layers);
			json_decref(ann);
			return mreg_seterr_nomem();
		}
		set_str(la, MODEL_FILEPATH, f->path);
		json_object_set_new(la, MODEL_FILE_METADATA, json_string(meta_text));
		free(meta_text);
		if (guessed)
			set_str(la, MODEL_MT_UNTESTED, "true");
		/* ORAS names pulled files after the title. */
		set_str(la, "org.opencontainers.image.title", f->path);
		json_object_set_new(d, "annotations", la);
		json_array_append_new(layers, d);
	}
	set_str(ann, "org.opencontainers.image.created", r->created_at);
	set_str(ann, "org.opencontainers.image.title", r->name);
	set_str(ann, "org.opencontainers.image.version", r->version);
	set_str(ann, "org.opencontainers.image.description", r->description);
	json_object_set_new(root, "schemaVersion", json_integer(2));
	json_object_set_new(root, "mediaType", json_string(OCI_MT_MANIFEST));
	json_object_set_new(root, "artifactType", json_string(MODEL_ARTIFACT_TYPE));
	json_object_set_new(root, "config", desc_json(MODEL_MT_CONFIG, config->digest, config->len));
	json_object_set_new(root, "layers", layers);
	json_object_set_new(root, "annotations", ann);
	return finish(out, root, "manifest");
}

int oci_index_build(oci_blob *out, const mreg_record *r, const oci_blob *manifest)
{
	json_t *d = desc_json(OCI_MT_MANIFEST, manifest->digest, manifest->len);

	if (!d)
		return mreg_seterr_nomem();
	json_object_set_new(d, "artifactType", json_string(MODEL_ARTIFACT_TYPE));
	json_object_set_new(d, "annotations", json_pack("{s:s}", OCI_REF_NAME, r->version));
	return finish(out,
		      json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX,
				"manifests", d),
		      "index");
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

int oci_index_parse(oci_desc *manifest, char **ref_name, const char *text, size_t len)
{
	json_t *v = load(text, len, "index.json"), *list, *d;
	const char *mt, *ref;
	int rc = 0;

	if (ref_name)
		*ref_name = NULL;
	if (!v)
		return MREG_EINVALID;
	list = json_object_get(v, "manifests");
	if (!json_is_integer(json_object_get(v, "schemaVersion")) ||
	    json_integer_value(json_object_get(v, "schemaVersion")) != 2) {
		rc = mreg_seterr(MREG_EINVALID, "index.json: schemaVersion 2 expected");
		goto done;
	}
	if (!json_is_array(list) || json_array_size(list) != 1) {
		rc = mreg_seterr(MREG_EINVALID,
				 "index.json: an mreg bundle names exactly one manifest (found %zu)",
				 json_is_array(list) ? json_array_size(list) : 0);
		goto done;
	}
	d = json_array_get(list, 0);
	mt = get_str(d, "mediaType");
	if (!mt || strcmp(mt, OCI_MT_MANIFEST)) {
		rc = mreg_seterr(MREG_EINVALID, "index.json: the manifest's media type is %.100s, not %s",
				 mt ? mt : "missing", OCI_MT_MANIFEST);
		goto done;
	}
	if ((rc = parse_desc(manifest, d, "index.json: manifest")))
		goto done;
	if (manifest->size > OCI_JSON_MAX) {
		rc = mreg_seterr(MREG_EINVALID, "index.json: the manifest is too large (%llu bytes)",
				 (unsigned long long)manifest->size);
		goto done;
	}
	ref = get_str(json_object_get(d, "annotations"), OCI_REF_NAME);
	if (ref && ref_name && !(*ref_name = strdup(ref)))
		rc = mreg_seterr_nomem();
done:
	json_decref(v);
	return rc;
}

bool oci_path_safe(const char *path)
{
	const char *p = path;
	size_t len = strlen(path);

	if (len == 0 || len > 4096 || path[0] == '/' || path[len - 1] == '/' || strchr(path, '\\') ||
	    !utf8_printable(path))
		return false;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n > 255 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

void oci_manifest_dispose(oci_manifest *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->layers[i].path);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

static int cmp_layer_path(const void *a, const void *b)
{
	return strcmp(((const oci_layer *)a)->path, ((const oci_layer *)b)->path);
}

static bool is_raw_type(const char *mt)
{
	for (size_t i = 0; i < sizeof(raw_types) / sizeof(*raw_types); i++)
		if (!strcmp(mt, raw_types[i]))
			return true;
	return false;
}

/* The permission bits from ModelPack's file metadata annotation (0644 without one). */
static int layer_mode(unsigned int *mode, json_t *ann, const char *path)
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
		rc = mreg_seterr(MREG_EINVALID, "manifest: layer %s: file metadata without a mode",
				 path);
	else
		*mode = (unsigned int)json_integer_value(m) & 0777;
	json_decref(meta);
	return rc;
}

int oci_manifest_parse(oci_manifest *out, const char *text, size_t len)
{
	json_t *v = load(text, len, "manifest"), *layers, *d;
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
		rc = mreg_seterr(MREG_EUNSUPPORTED,
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
		oci_layer *l = &out->layers[i];
		json_t *ann = json_object_get(d, "annotations");
		const char *path = get_str(ann, MODEL_FILEPATH);
		char what[64];

		snprintf(what, sizeof(what), "manifest: layer %zu", i + 1);
		s = get_str(d, "mediaType");
		if (!s || !is_raw_type(s)) {
			rc = mreg_seterr(s && str_starts_with(s, MT_PREFIX) ? MREG_EUNSUPPORTED
									    : MREG_EINVALID,
					 "%s: media type %.100s is not a raw ModelPack file layer", what,
					 s ? s : "missing");
			goto done;
		}
		if ((rc = parse_desc(&l->desc, d, what)))
			goto done;
		if (!path) {
			rc = mreg_seterr(MREG_EINVALID, "%s: no %s annotation", what, MODEL_FILEPATH);
			goto done;
		}
		if (!oci_path_safe(path)) {
			rc = mreg_seterr(MREG_EINVALID,
					 "%s: path '%.200s' escapes the model folder or is malformed",
					 what, path);
			goto done;
		}
		if (!(l->path = strdup(path))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		out->count = i + 1;
		if ((rc = layer_mode(&l->mode, ann, path)))
			goto done;
	}
	/* Every path once, and no file where another needs a folder ("a" and "a/b"). */
	qsort(out->layers, out->count, sizeof(*out->layers), cmp_layer_path);
	for (i = 0; i < out->count; i++) {
		const char *p = out->layers[i].path;
		if (i > 0 && !strcmp(p, out->layers[i - 1].path)) {
			rc = mreg_seterr(MREG_EINVALID, "manifest: path '%s' appears twice", p);
			goto done;
		}
		for (const char *slash = strchr(p, '/'); slash; slash = strchr(slash + 1, '/')) {
			oci_layer key = {.path = strndup(p, (size_t)(slash - p))};
			bool clash;
			if (!key.path) {
				rc = mreg_seterr_nomem();
				goto done;
			}
			clash = bsearch(&key, out->layers, out->count, sizeof(key), cmp_layer_path);
			if (clash)
				rc = mreg_seterr(MREG_EINVALID,
						 "manifest: '%s' is a file and also the folder of '%s'",
						 key.path, p);
			free(key.path);
			if (rc)
				goto done;
		}
	}
done:
	json_decref(v);
	if (rc)
		oci_manifest_dispose(out);
	return rc;
}

/* ---- the record from the config ---- */

static int bad(const char *field, const char *why)
{
	return mreg_seterr(MREG_EINVALID, "config: mreg.%s %s", field, why);
}

static int opt_str(char **out, json_t *o, const char *key, bool printable)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(key, "must be a string");
	if (printable ? !utf8_printable(json_string_value(v)) : !utf8_valid(json_string_value(v)))
		return bad(key, "holds control characters or bad UTF-8");
	*out = strdup(json_string_value(v));
	return *out ? 0 : mreg_seterr_nomem();
}

static int kv_from(mreg_kv **items, size_t *count, json_t *o, const char *key)
{
	json_t *obj = json_object_get(o, key), *v;
	const char *k;
	int rc;

	*items = NULL;
	*count = 0;
	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return bad(key, "must be an object of strings");
	json_object_foreach(obj, k, v) {
		if (!json_is_string(v))
			return bad(key, "must be an object of strings");
		if ((rc = kv_check(key, k, json_string_value(v))) ||
		    (rc = kv_set(items, count, k, json_string_value(v))))
			return rc;
	}
	return 0;
}

static int parse_source(mreg_source *s, json_t *src)
{
	json_t *git = json_object_get(src, "git"), *dirty;
	int rc;

	s->git_dirty = -1;
	if (!src)
		return 0;
	if (!json_is_object(src))
		return bad("source", "must be an object");
	if ((rc = opt_str(&s->kind, src, "kind", true)) || (rc = opt_str(&s->path, src, "path", true)))
		return rc;
	if (!git)
		return 0;
	if (!json_is_object(git))
		return bad("source.git", "must be an object");
	if ((rc = opt_str(&s->git_commit, git, "commit", true)) ||
	    (rc = opt_str(&s->git_branch, git, "branch", true)) ||
	    (rc = opt_str(&s->git_path, git, "path", true)) ||
	    (rc = opt_str(&s->git_remote, git, "remote", true)))
		return rc;
	dirty = json_object_get(git, "dirty");
	if (json_is_boolean(dirty))
		s->git_dirty = json_is_true(dirty);
	return 0;
}

int oci_config_parse(mreg_record **out, const char *text, size_t len, const oci_manifest *m)
{
	json_t *v = load(text, len, "config"), *mr, *meta, *fmt;
	mreg_record *r = NULL;
	char *digest = NULL;
	int rc;

	*out = NULL;
	if (!v)
		return MREG_EINVALID;
	mr = json_object_get(v, "mreg");
	if (!json_is_object(mr)) {
		rc = mreg_seterr(MREG_EUNSUPPORTED,
				 "config: no \"mreg\" object: a ModelPack model not packaged by mreg");
		goto done;
	}
	fmt = json_object_get(mr, "bundle_format");
	if (!json_is_integer(fmt) || json_integer_value(fmt) < 1) {
		rc = bad("bundle_format", "is missing");
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
	if ((rc = opt_str(&r->name, mr, "name", true)) ||
	    (rc = opt_str(&r->version, mr, "version", true)) ||
	    (rc = opt_str(&r->type, mr, "type", true)) ||
	    (rc = opt_str(&r->description, mr, "description", false)) ||
	    (rc = opt_str(&r->stage, mr, "stage", true)) ||
	    (rc = opt_str(&r->created_at, mr, "created_at", true)) ||
	    (rc = opt_str(&digest, mr, "digest", true)) ||
	    (rc = kv_from(&r->tags, &r->tag_count, mr, "tags")) ||
	    (rc = kv_from(&r->properties, &r->property_count, mr, "properties")) ||
	    (rc = parse_source(&r->source, json_object_get(mr, "source"))))
		goto done;
	if (!r->name || !r->version || !r->type || !digest) {
		rc = bad(!r->name ? "name" : !r->version ? "version" : !r->type ? "type" : "digest",
			 "is missing");
		goto done;
	}
	if ((rc = mreg_name_check(r->name)) || (rc = mreg_version_check(r->version))) {
		rc = mreg_error_prefix(MREG_EINVALID, "config");
		goto done;
	}
	meta = json_object_get(mr, "metadata");
	if (meta && !json_is_null(meta)) {
		if (!json_is_object(meta)) {
			rc = bad("metadata", "must be an object");
			goto done;
		}
		if (!(r->format_json = json_dumps(meta, JSON_COMPACT))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
	}
	r->files = calloc(m->count + 1, sizeof(*r->files));
	if (!r->files) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	for (size_t i = 0; i < m->count; i++) {
		mreg_file *f = &r->files[i];
		if (!(f->path = strdup(m->layers[i].path))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		r->file_count = i + 1;
		f->size = m->layers[i].desc.size;
		f->mode = m->layers[i].mode;
		memcpy(f->digest, m->layers[i].desc.digest, MREG_DIGEST_STRLEN);
	}
	if ((rc = record_tree_from_json(r, mr, "config: mreg")) || (rc = record_compute_digest(r)))
		goto done;
	if (strcmp(r->digest, digest)) {
		rc = mreg_seterr(MREG_ECORRUPT,
				 "config: content digest %s, but the manifest's files give %s", digest,
				 r->digest);
		goto done;
	}
	*out = r;
	r = NULL;
done:
	free(digest);
	mreg_record_free(r);
	json_decref(v);
	return rc;
}
