/*
 * triton_model: the plugin (formats.h). probe scores a folder by the layout
 * Triton's documentation describes (server: docs/user_guide/model_repository.md,
 * config.pbtxt and numeric version folders); validate runs the checks, then
 * the walk `mreg create` makes; describe gives each model's name, platform,
 * backend, loaded versions and tensors as JSON. mreg's own interface: no
 * Triton function is mirrored here.
 */
#include <jansson.h>
#include <stdlib.h>

#include "util/error_priv.h"
#include "formats.h"
#include "util/strutil.h"
#include "triton/triton_priv.h"
#include "util/walk.h"
#include "weights/weights.h"

/* ---- describe ---- */

/* A JSON string for text that may not be UTF-8 (config strings are bytes). */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	/* jansson refuses what is not strict UTF-8 (surrogates included). */
	if (j || !(copy = str_dup(s)))
		return j;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *describe_tensors(const tmodel *m, const char *field)
{
	json_t *arr = json_array();
	const pbtxt_value *io, *d;
	ts_iter it, dit;

	ts_iter_init(&it, m->tree, field);
	while (arr && (io = ts_iter_next(&it))) {
		json_t *dims = json_array();
		ts_iter_init(&dit, io->msg, "dims");
		while (dims && (d = ts_iter_next(&dit)))
			json_array_append_new(dims, json_integer(d->v.i));
		json_t *t = json_pack(
		    "{s:o, s:s, s:o}", "name", jstr(ts_str(io->msg, "name")), "data_type",
		    ts_enum_name(&ts_data_type, ts_int(io->msg, "data_type")), "dims", dims);
		if (!t || json_array_append_new(arr, t)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *tm_describe_model(const tmodel *m)
{
	json_t *versions = json_array();
	json_t *d;

	for (size_t i = 0; versions && i < m->nversions; i++)
		if (tm_is_loaded(m, m->versions[i].number))
			json_array_append_new(versions, json_integer(m->versions[i].number));
	d = json_pack("{s:o, s:o, s:o, s:b, s:I, s:o, s:o, s:o}", "name",
	              jstr(m->cfg_name ? m->cfg_name : m->name), "platform",
	              jstr(m->platform ? m->platform : ""), "backend",
	              jstr(m->backend ? m->backend : ""), "config", m->has_config, "max_batch_size",
	              (json_int_t)ts_int(m->tree, "max_batch_size"), "versions", versions, "inputs",
	              describe_tensors(m, "input"), "outputs", describe_tensors(m, "output"));
	return d;
}

/* ---- the plugin ---- */

static int triton_probe(const char *path)
{
	char **subs = NULL;
	size_t n = 0;
	int score = 0;

	if (!tm_is_dir(path))
		return 0;
	if (tm_child_exists(path, CONFIG_NAME, 0))
		return 90;
	if (tm_looks_like_model(path, true))
		return 60;
	if (tm_list_subdirs(path, &subs, &n, 1000))
		return 0;
	for (size_t i = 0; i < n && score < 80; i++) {
		char *dir = path_join(path, subs[i]);
		if (dir && tm_child_exists(dir, CONFIG_NAME, 0))
			score = 80;
		else if (dir && tm_looks_like_model(dir, true))
			score = 50;
		free(dir);
	}
	tm_free_strv(subs, n);
	return score;
}

static int triton_validate(const char *path, mreg_diag_list *diags)
{
	walk_result walk;
	int rc = tm_run(path, diags, true, false, NULL);

	if (rc)
		return rc;
	/* What `mreg create` would refuse to store (escaping symlinks, FIFOs...),
	 * so that a repository that validates can be registered. */
	rc = walk_model(&walk, path, diags);
	if (rc == 0)
		rc = weights_check_walk(&walk, diags);
	walk_result_dispose(&walk);
	return rc == MREG_ENOTFOUND ? 0 : rc;
}

int triton_validate_config_only(const char *dir, mreg_diag_list *diags)
{
	return tm_run(dir, diags, false, true, NULL);
}

static int triton_describe(const char *path, char **json_out)
{
	mreg_diag_list *diags = NULL;
	json_t *doc = NULL;
	int rc;

	*json_out = NULL;
	if ((rc = mreg_diag_list_new(&diags)))
		return rc;
	rc = tm_run(path, diags, true, false, &doc);
	mreg_diag_list_free(diags);
	if (rc)
		return rc;
	*json_out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!*json_out)
		return mreg_seterr_nomem();
	return weights_describe_add(path, json_out);
}

const mreg_format mreg_format_triton_model = {
    .version = MREG_FORMAT_VERSION,
    .name = "triton_model",
    .summary = "Triton model repository or model folder: config.pbtxt checked against Triton's "
               "schema and load-time rules, version folders, ensembles",
    .probe = triton_probe,
    .validate = triton_validate,
    .describe = triton_describe,
};
