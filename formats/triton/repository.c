/*
 * triton_model: the repository. Which folders are models (every subfolder,
 * as Triton core's ModelRepositoryManager::Poll takes them), every check of
 * one model in Triton's order (check_model: InitializeModelInfo in
 * model_repository_manager.cc reads the config and checks the directory
 * name, model_lifecycle.cc picks the versions, Model::Init and the backend do
 * the rest), then the ensembles once every model is loaded. Validating one
 * model folder, its siblings stand in for the repository.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/strutil.h"
#include "triton/triton_priv.h"

/* ---- one model ---- */

static void tmodel_free(tmodel *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->dir);
	free(m->config_file);
	pbtxt_free(m->tree);
	tm_free_strv(m->subdirs, m->nsubdirs);
	free(m->cfg_name);
	free(m->platform);
	free(m->backend);
	free(m->model_file);
	for (size_t i = 0; i < m->nversions; i++)
		free(m->versions[i].dir);
	free(m->versions);
	free(m->loaded);
	free(m->first_error);
	free(m);
}

static tmodel *model_new(trepo *r, const char *name, const char *dir)
{
	tmodel *m = calloc(1, sizeof(*m));

	if (!m || !(m->name = str_dup(name)) || !(m->dir = str_dup(dir)) ||
	    !(m->config_file = path_join(dir, CONFIG_NAME))) {
		tmodel_free(m);
		r->nomem = true;
		return NULL;
	}
	m->exists = tm_is_dir(dir);
	return m;
}

/* Everything Triton checks for one model, in its order. */
static void check_model(trepo *r, tmodel *m)
{
	m->checked = true;
	if (!m->exists) {
		m->errors++;
		return;
	}
	if (tm_list_subdirs(m->dir, &m->subdirs, &m->nsubdirs, 0)) {
		r->nomem = true;
		return;
	}
	tm_read_config(r, m);
	if (!m->config_ok)
		return;
	tm_autofill(r, m);
	if (r->nomem)
		return;
	if (m->autofill_failed && !r->layout) {
		/* Without its folders, a config that names no backend is completed
		 * from the model file Triton will find: nothing to say yet. */
		m->platform_unknown = true;
		tm_cfg_diag(
		    r, m, MREG_DIAG_NOTE, pos_field(m, m->tree, "name"), "triton-autofill",
		    "model '%s' names no platform or backend: Triton takes them from the model "
		    "file in its version folder; rules that depend on the platform were skipped",
		    m->cfg_name);
	} else if (m->autofill_failed) {
		cfg_error(r, m, pos_field(m, m->tree, "name"), "triton-platform",
		          "Invalid model name: Could not determine backend for model '%s' with no "
		          "backend in model configuration. Expected model name of the form "
		          "'model.<backend_name>'.",
		          m->name);
		return;
	}
	if (!m->has_config)
		tm_path_diag(
		    r, m, MREG_DIAG_NOTE, m->dir, "triton-autofill",
		    "no config.pbtxt: Triton auto-completes the configuration of model '%s' "
		    "(backend '%s'%s%s) from its %s; with --disable-auto-complete-config "
		    "it would refuse the model",
		    m->name, m->backend, *m->platform ? ", platform " : "", m->platform,
		    m->backend_from_name ? "name" : "model file");
	tm_check_model_config(r, m);
	tm_check_io(r, m);
	/* A config checked alone does not know the folder it will be put in. */
	if (r->layout && strcmp(m->cfg_name, m->name))
		cfg_error(
		    r, m, pos_field(m, m->tree, "name"), "triton-name",
		    "unexpected directory name '%s' for model '%s', directory name must equal "
		    "model name",
		    m->name, m->cfg_name);
	if (r->layout) {
		tm_scan_versions(r, m);
		tm_select_versions(r, m);
	}
	tm_check_instance_groups(r, m);
	tm_check_runtime(r, m);
	tm_check_labels(r, m);
	tm_check_warmup(r, m);
	tm_check_states(r, m);
	tm_check_batch_strategy(r, m);
	if (r->layout)
		tm_check_model_files(r, m);
}

static tmodel *repo_add(trepo *r, tmodel *m)
{
	tmodel **n = realloc(r->models, (r->count + 1) * sizeof(*n));

	if (!n) {
		tmodel_free(m);
		r->nomem = true;
		return NULL;
	}
	r->models = n;
	n[r->count++] = m;
	return m;
}

/* The model called @name: one of the repository's, or (validating a single
 * model) its sibling folder, loaded and checked silently. NULL if none. */
tmodel *tm_repo_find(trepo *r, const char *name)
{
	tmodel *m;
	char *dir;

	for (size_t i = 0; i < r->count; i++)
		if (!strcmp(r->models[i]->name, name))
			return r->models[i]->exists ? r->models[i] : NULL;
	if (!r->single || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return NULL;
	if (!(dir = path_join(r->root, name))) {
		r->nomem = true;
		return NULL;
	}
	m = model_new(r, name, dir);
	free(dir);
	if (!m || !repo_add(r, m))
		return NULL;
	m->silent = true;
	if (m->exists)
		check_model(r, m);
	return m->exists ? m : NULL;
}

/* ---- the repository ---- */

static void repo_dispose(trepo *r)
{
	for (size_t i = 0; i < r->count; i++)
		tmodel_free(r->models[i]);
	free(r->models);
}

static int gpus_from_env(void)
{
	const char *s = getenv(TRITON_GPUS_ENV);
	char *end;
	long n;

	if (!s || !*s)
		return -1;
	n = strtol(s, &end, 10);
	return *end || n < 0 || n > 4096 ? -1 : (int)n;
}

/* A folder holding config.pbtxt, or a numeric folder (holding, when
 * @strict, a model file Triton recognizes) is a model; otherwise a
 * repository. */
bool tm_looks_like_model(const char *dir, bool strict)
{
	static const char *const files[] = {"model.onnx", "model.plan",       "model.pt",
	                                    "model.pt2",  "model.savedmodel", "model.graphdef",
	                                    "model.xml",  "model.py"};
	char **subs = NULL;
	size_t n = 0;
	bool yes = tm_child_exists(dir, CONFIG_NAME, -1);

	if (yes || tm_list_subdirs(dir, &subs, &n, 1000))
		return yes;
	for (size_t i = 0; i < n && !yes; i++) {
		if (!isdigit((unsigned char)subs[i][0]))
			continue;
		if (!strict && strspn(subs[i], "0123456789") == strlen(subs[i])) {
			yes = true;
			break;
		}
		char *v = path_join(dir, subs[i]);
		for (size_t k = 0; v && k < sizeof(files) / sizeof(files[0]) && !yes; k++)
			yes = tm_child_exists(v, files[k], -1);
		free(v);
	}
	tm_free_strv(subs, n);
	return yes;
}

/* The last component of @path made absolute ("." names the current folder). */
static char *base_name(const char *path)
{
	char *abs = fs_absolute(path), *name = NULL;
	size_t n;

	if (!abs)
		return NULL;
	n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	name = str_dup(strrchr(abs, '/') ? strrchr(abs, '/') + 1 : abs);
	free(abs);
	return name;
}

int tm_run(const char *path, mreg_diag_list *diags, bool layout, bool force_single,
           json_t **describe)
{
	trepo r = {.diags = diags, .layout = layout, .gpus = gpus_from_env()};
	char *root = NULL, *name = NULL;
	int rc = 0;

	if (!tm_is_dir(path)) {
		mreg_diag_add(diags, MREG_DIAG_ERROR, path, 0, 0, "triton-layout",
		              "a Triton model is a folder (a model repository, or one model folder "
		              "holding config.pbtxt and numeric version folders)");
		return 0;
	}
	r.single = force_single || tm_looks_like_model(path, false);
	if (r.single) {
		/* The model's name is its folder's; the repository is the parent. */
		if (!(name = base_name(path)) || !(root = str_printf("%s/..", path)))
			goto nomem;
		r.root = root;
		tmodel *m = model_new(&r, name, path);
		if (!m || !repo_add(&r, m))
			goto nomem;
		check_model(&r, m);
		if (!r.nomem && !m->errors && m->config_ok &&
		    ts_has(m->tree, "ensemble_scheduling"))
			tm_check_ensemble_models(&r, m);
	} else {
		char **subs = NULL;
		size_t n = 0;
		r.root = path;
		if (tm_list_subdirs(path, &subs, &n, 0))
			goto nomem;
		if (!n)
			mreg_diag_add(
			    diags, MREG_DIAG_ERROR, path, 0, 0, "triton-layout",
			    "no model found: a Triton model repository holds one folder per "
			    "model, each with config.pbtxt and numeric version folders");
		for (size_t i = 0; i < n && !r.nomem; i++) {
			char *dir = path_join(path, subs[i]);
			/* mreg never stores these (walk.c), so the registered
			 * repository will not hold them; Triton would take any
			 * other folder, hidden or not, for a model. */
			if (dir && (!strcmp(subs[i], ".git") || !strcmp(subs[i], ".mreg"))) {
				if (mreg_diag_add(diags, MREG_DIAG_NOTE, dir, 0, 0, "triton-layout",
				                  "skipped: mreg does not store '%s' (Triton would "
				                  "take it for a model)",
				                  subs[i]))
					r.nomem = true;
				free(dir);
				continue;
			}
			tmodel *m = dir ? model_new(&r, subs[i], dir) : NULL;
			free(dir);
			if (!m || !repo_add(&r, m))
				r.nomem = true;
		}
		tm_free_strv(subs, n);
		for (size_t i = 0; i < r.count && !r.nomem; i++)
			check_model(&r, r.models[i]);
		for (size_t i = 0; i < r.count && !r.nomem; i++) {
			tmodel *m = r.models[i];
			if (!m->errors && m->config_ok && ts_has(m->tree, "ensemble_scheduling"))
				tm_check_ensemble_models(&r, m);
		}
	}
	if (r.nomem)
		goto nomem;
	if (describe) {
		json_t *models = json_array();
		*describe = json_pack("{s:{s:o}}", "triton", "models", models);
		if (!*describe)
			goto nomem;
		for (size_t i = 0; i < r.count; i++) {
			if (r.models[i]->silent)
				continue;
			json_t *d = tm_describe_model(r.models[i]);
			if (!d || json_array_append_new(models, d)) {
				json_decref(*describe);
				*describe = NULL;
				goto nomem;
			}
		}
	}
	goto done;
nomem:
	rc = mreg_seterr_nomem();
done:
	repo_dispose(&r);
	free(root);
	free(name);
	return rc;
}
