/*
 * Azure ML model YAML (`az ml model create -f model.yml`): the fields of
 * Azure's model schema that describe a local model. `path` is relative to
 * the YAML file, as in Azure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mreg/limits.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/url.h"
#include "mreg/registry.h"
#include "record_priv.h"
#include "util/yamlutil.h"

/* Azure fields mreg reads, and server-side ones it accepts and ignores. */
static const char *known[] = {"$schema", "name", "version", "type", "path", "description",
	"tags", "properties", "stage"};
static const char *ignored[] = {"id", "creation_context", "flavors", "job_name", "latest_version",
	"utc_time_created", "datastore", "intellectual_property"};

static bool in(const char *key, const char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, list[i]))
			return true;
	return false;
}

typedef struct {
	yaml_document_t *doc;
	const char *file;
	mreg_diag_list *diags;
} yml_reader;

static void err(yml_reader *rd, const yaml_node_t *n, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void err(yml_reader *rd, const yaml_node_t *n, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mreg_diag_add(rd->diags, MREG_DIAG_ERROR, rd->file, n ? (unsigned)n->start_mark.line + 1 : 0,
		      n ? (unsigned)n->start_mark.column + 1 : 0, code, "%s", msg);
}

static char *scalar_field(yml_reader *rd, yaml_node_t *root, const char *key)
{
	yaml_node_t *n = yu_map_get(rd->doc, root, key);
	const char *s;

	if (!n)
		return NULL;
	s = yu_scalar(n);
	if (!s) {
		err(rd, n, "yml-type", "field '%s' must be a string, not %s", key, yu_kind(n));
		return NULL;
	}
	return strdup(s);
}

static void kv_field(yml_reader *rd, yaml_node_t *root, const char *key, const char *what,
		     mreg_kv **items, size_t *count)
{
	yaml_node_t *n = yu_map_get(rd->doc, root, key);

	if (!n || (yu_plain(n) && !yu_scalar(n)[0]))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		err(rd, n, "yml-type", "field '%s' must be a mapping, not %s", key, yu_kind(n));
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(rd->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(rd->doc, p->value);
		const char *k = yu_scalar(kn), *v = yu_scalar(vn);
		if (!k || !v) {
			err(rd, !k ? kn : vn, "yml-type", "field '%s': keys and values must be strings", key);
			continue;
		}
		if (kv_check(key, k, v)) {
			err(rd, kn, "yml-value", "%s", mreg_error_last());
			continue;
		}
		if (limits_check_kv(NULL, what, &(mreg_kv){(char *)k, (char *)v}, 1)) {
			err(rd, kn, "yml-limit", "%s", mreg_error_last());
			continue;
		}
		kv_set(items, count, k, v);
	}
	if (limits_check_kv(NULL, what, NULL, *count))
		err(rd, n, "yml-limit", "field '%s': %s", key, mreg_error_last());
}

/* A field of the file longer than mreg/limits.h allows. */
static void text_limit(yml_reader *rd, yaml_node_t *root, const char *key, const char *value,
		       size_t max)
{
	if (value && limits_check_text(NULL, key, value, max))
		err(rd, yu_map_get(rd->doc, root, key), "yml-limit", "%s", mreg_error_last());
}

/*
 * A value the user was meant to fill in: `<VERSION>`, `{{MODEL_VERSION}}`,
 * `${VERSION}` or `$VERSION`, as azureml-examples and CI templates write them.
 */
static bool is_placeholder(const char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		return true;
	if (n >= 4 && !strncmp(s, "{{", 2) && !strcmp(s + n - 2, "}}"))
		return true;
	if (n >= 2 && s[0] == '$') {
		const char *v = s[1] == '{' ? s + 2 : s + 1;
		size_t k = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
		return k > 0 && (s[1] == '{' ? !strcmp(v + k, "}") : v[k] == '\0');
	}
	return false;
}

/*
 * The file's value of @key, unless the caller gave one (@given): then the
 * file's is neither read nor checked. A placeholder left in the file is an
 * error naming the flag that sets the field.
 */
static char *field(yml_reader *rd, yaml_node_t *root, const char *key, const char *given,
		   const char *flag)
{
	char *v;

	if (given)
		return strdup(given);
	v = scalar_field(rd, root, key);
	if (v && flag && is_placeholder(v)) {
		err(rd, yu_map_get(rd->doc, root, key), "yml-placeholder",
		    "%s '%s' is a placeholder: give the %s with %s, or write it in the file", key, v,
		    key, flag);
		free(v);
		return NULL;
	}
	return v;
}

int mreg_model_yml_read(mreg_model_yml **out, const char *file, mreg_diag_list *diags)
{
	return mreg_model_yml_read_with(out, file, NULL, diags);
}

int mreg_model_yml_read_with(mreg_model_yml **out, const char *file,
			     const mreg_model_yml_options *o, mreg_diag_list *diags)
{
	static const mreg_model_yml_options none = MREG_MODEL_YML_OPTIONS_INIT;
	yaml_document_t doc;
	yml_reader rd = {&doc, file, diags};
	yaml_node_t *root, *n;
	mreg_model_yml *y = NULL;
	size_t errors_before = mreg_diag_count_severity(diags, MREG_DIAG_ERROR);
	unsigned int line = 0, col = 0;
	char problem[256];
	char *path = NULL, *dir = NULL;
	int rc;

	*out = NULL;
	if (!o)
		o = &none;
	if (o->version != MREG_MODEL_YML_OPTIONS_VERSION)
		return mreg_seterr(MREG_EINVALID, "model.yml options: unknown version");
	rc = yu_load_file(&doc, file, MREG_EINVALID, true, &line, &col, problem, sizeof(problem));
	if (rc == MREG_EINVALID) {
		/* Never an empty message: the library's error says it otherwise. */
		mreg_diag_add(diags, MREG_DIAG_ERROR, file, line, col, "yml-syntax", "%s",
			      problem[0] ? problem : mreg_error_last());
		return mreg_seterr(MREG_EINVALID, "%s: 1 error", file);
	}
	if (rc)
		return rc;
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		err(&rd, root, "yml-type", "a model YAML file must be a mapping, not %s",
		    yu_kind(root));
		goto out;
	}
	y = calloc(1, sizeof(*y));
	if (!y) {
		rc = mreg_seterr_nomem();
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(&doc, p->key);
		const char *k = yu_scalar(kn);
		if (!k || in(k, known, sizeof(known) / sizeof(*known)))
			continue;
		if (in(k, ignored, sizeof(ignored) / sizeof(*ignored)))
			mreg_diag_add(diags, MREG_DIAG_NOTE, file, (unsigned)kn->start_mark.line + 1,
				      (unsigned)kn->start_mark.column + 1, "yml-ignored",
				      "field '%s' is set by the registry or read from the model "
				      "itself; ignored", k);
		else
			err(&rd, kn, "yml-unknown", "unknown field '%s' (known: name, version, type, "
				"path, description, tags, properties, stage)", k);
	}
	y->name = field(&rd, root, "name", o->name, "-n");
	y->version = field(&rd, root, "version", o->model_version, "-v");
	y->type = field(&rd, root, "type", o->type, "-t");
	y->description = field(&rd, root, "description", o->description, NULL);
	y->stage = field(&rd, root, "stage", o->stage, "--stage");
	path = o->path ? NULL : field(&rd, root, "path", NULL, "-p");
	kv_field(&rd, root, "tags", "tag", &y->tags, &y->tag_count);
	kv_field(&rd, root, "properties", "property", &y->properties, &y->property_count);
	if (!o->description)
		text_limit(&rd, root, "description", y->description, MREG_DESCRIPTION_MAX);
	if (!o->stage)
		text_limit(&rd, root, "stage", y->stage, MREG_STAGE_MAX);

	/* Values from the command line are checked by the caller, not here. */
	if (!o->name && y->name && mreg_name_check(y->name))
		err(&rd, yu_map_get(&doc, root, "name"), "yml-value", "%s", mreg_error_last());
	if (!o->model_version && y->version && mreg_version_check(y->version))
		err(&rd, yu_map_get(&doc, root, "version"), "yml-value", "%s", mreg_error_last());
	if (!o->type && y->type && !mreg_format_find(y->type))
		err(&rd, yu_map_get(&doc, root, "type"), "yml-value",
		    "unknown model type '%s'", y->type);
	if (o->path) {
		if (!(y->path = strdup(o->path)))
			rc = mreg_seterr_nomem();
	} else if (path) {
		/* Azure resolves `path` against the YAML file's folder; a URL
		 * (https://, wasbs://, azureml:) stays as it is. */
		if (path[0] == '/' || url_is_remote_source(path) || !(dir = fs_dirname(file))) {
			y->path = path;
			path = NULL;
		} else {
			char *joined = str_printf("%s/%s", dir, path);
			y->path = joined ? fs_absolute(joined) : NULL;
			free(joined);
		}
	}
	(void)n;
out:
	free(path);
	free(dir);
	yaml_document_delete(&doc);
	mreg_diag_sort(diags);
	if (rc == 0 && mreg_diag_count_severity(diags, MREG_DIAG_ERROR) > errors_before) {
		size_t e = mreg_diag_count_severity(diags, MREG_DIAG_ERROR) - errors_before;
		rc = mreg_seterr(MREG_EINVALID, "%s: %zu error%s", file, e, e == 1 ? "" : "s");
	}
	if (rc)
		mreg_model_yml_free(y);
	else
		*out = y;
	return rc;
}

void mreg_model_yml_free(mreg_model_yml *y)
{
	if (!y)
		return;
	free(y->name);
	free(y->version);
	free(y->type);
	free(y->path);
	free(y->description);
	free(y->stage);
	kv_free(y->tags, y->tag_count);
	kv_free(y->properties, y->property_count);
	free(y);
}
