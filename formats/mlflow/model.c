/*
 * mlflow_model: a folder with an MLmodel YAML file at its root (MLflow's
 * model format). The rules follow what MLflow does when it loads a model
 * (mlflow/models/model.py, mlflow/pyfunc/__init__.py): errors where MLflow
 * would fail or the folder contradicts itself, warnings where MLflow goes on
 * but a careful user wants to know. docs/mlflow_model.md lists every code.
 *
 * Validation reads MLmodel and the environment files only; the files that
 * MLmodel names are looked up with stat(), never opened, so a folder with
 * gigabytes of weights validates in milliseconds.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "formats.h"
#include "mlflow/mlflow_model.h"
#include "util/strutil.h"
#include "util/walk.h"
#include "weights/weights.h"

#define E MREG_DIAG_ERROR
#define W MREG_DIAG_WARNING

/* Top-level keys MLflow writes (model.py, 0.x to 3.x). Others are kept by
 * MLflow without a word, so they only get a warning. */
static const char *known_keys[] = {"artifact_path", "auth_policy", "databricks_runtime",
	"env_vars", "flavors", "is_signature_from_type_hint", "metadata", "mlflow_version",
	"model_id", "model_size_bytes", "model_uuid", "prompts", "resources", "run_id",
	"saved_input_example_info", "signature", "type_hint_from_example", "utc_time_created"};

/* The flavors MLflow ships (mlflow/<name>/__init__.py FLAVOR_NAME, and R's
 * crate); their load_model reads the flavor's settings as a mapping. */
static const char *mlflow_flavors[] = {"python_function", "sklearn", "pytorch", "tensorflow",
	"keras", "xgboost", "lightgbm", "catboost", "onnx", "transformers",
	"sentence_transformers", "spark", "mleap", "h2o", "statsmodels", "prophet", "pmdarima",
	"diviner", "paddle", "fastai", "spacy", "gluon", "langchain", "llama_index", "openai",
	"johnsnowlabs", "dspy", "promptflow", "crate", "r_function", "pyfunc", "mxnet",
	"shap", "ag2", "smolagents", "pydantic_ai", "autogen", "setfit", "crewai"};

/* Flavor keys that name a file or folder of the model, in any flavor: paths relative to the
 * model root, as pyfunc's add_to_model (mlflow/pyfunc/__init__.py) and the flavors'
 * save_model write them. */
static const char *path_keys[] = {"data", "model_data", "pickled_model", "model_path",
	"python_model", "code", "saved_model_dir", "model_binary", "peft_adaptor", "input_schema",
	"training_schema"};

/* saved_input_example_info.type values MLflow can read back (models/utils.py). */
static const char *example_types[] = {"dataframe", "ndarray", "json_object",
	"sparse_matrix_csc", "sparse_matrix_csr"};

/* The formats MLflow writes, compiled once. */
enum { RE_MODULE, RE_TIME, RE_RUN_ID, RE_MODEL_UUID, RE_MODEL_ID, RE_COUNT };
static const char *patterns[RE_COUNT] = {
	[RE_MODULE] = "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$",
	[RE_TIME] = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?$",
	[RE_RUN_ID] = "^[a-zA-Z0-9][a-zA-Z0-9_-]{0,255}$", /* validation.py */
	[RE_MODEL_UUID] = "^(m-)?[0-9a-f]{32}$",
	[RE_MODEL_ID] = "^m-[0-9a-f]{32}$",
};
static regex_t compiled[RE_COUNT];
static bool compiled_ok[RE_COUNT];

static void compile_patterns(void)
{
	for (int i = 0; i < RE_COUNT; i++)
		compiled_ok[i] = !regcomp(&compiled[i], patterns[i], REG_EXTENDED | REG_NOSUB);
}

static bool matches(int which, const char *s)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, compile_patterns);
	return !compiled_ok[which] || regexec(&compiled[which], s, 0, NULL, 0) == 0;
}

/* A value that is a version must stay a string: YAML reads 3.10 as 3.1. */
static void check_version_text(mlf_ctx *c, const yaml_node_t *n, const char *what)
{
	mlf_type t = mlf_type_of(n);

	if (t == MLF_INT || t == MLF_FLOAT)
		mlf_diag(c, W, &c->mlmodel, n, "mlflow-yaml-number",
			 "%s is written as the YAML number %s, which YAML reads as %s; quote it "
			 "('%s') to keep the version text", what, mlf_text(n), mlf_type_name(t),
			 mlf_text(n));
}

/* ---- flavors ---- */

/* python_function.env is read only when MLflow builds the model's environment
 * (mlflow/utils/environment.py, `mlflow models serve` without --env-manager
 * local): Model.load and pyfunc.load_model never look at it, so what is wrong
 * with it is a warning. */
static void check_env(mlf_ctx *c, const yaml_node_t *env)
{
	const mlf_yaml *y = &c->mlmodel;
	mlf_type t = mlf_type_of(env);

	if (t == MLF_NONE || t == MLF_NULL)
		return;
	if (t == MLF_STR) {
		mlf_diag(c, W, y, env, "mlflow-legacy",
			 "python_function.env names one conda file (MLflow < 2.0); MLflow 2 writes "
			 "env: {conda: conda.yaml, virtualenv: python_env.yaml}");
		mlf_check_path(c, y, env, "python_function.env", W);
		c->env_conda = (yaml_node_t *)env;
		return;
	}
	if (t != MLF_MAP) {
		mlf_diag(c, W, y, env, "mlflow-env",
			 "python_function.env must be a file name or a mapping {conda: FILE, "
			 "virtualenv: FILE}, not %s", mlf_type_name(t));
		return;
	}
	bool any = false;
	for (yaml_node_pair_t *p = env->data.mapping.pairs.start; p < env->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node((yaml_document_t *)&y->doc, p->value);
		const char *key = mlf_text(k);
		char what[64];
		if (!key)
			continue;
		if (strcmp(key, "conda") && strcmp(key, "virtualenv")) {
			mlf_diag(c, W, y, k, "mlflow-unknown-key",
				 "unknown key '%s' in python_function.env (MLflow reads conda and "
				 "virtualenv)", key);
			continue;
		}
		if (mlf_shadowed(y, k) || mlf_is_null(v))
			continue;
		any = true;
		snprintf(what, sizeof(what), "python_function.env.%s", key);
		if (!mlf_str(v)) {
			mlf_diag(c, W, y, v, "mlflow-env", "%s must be a file name, not %s", what,
				 mlf_type_name(mlf_type_of(v)));
			continue;
		}
		mlf_check_path(c, y, v, what, W);
		if (!strcmp(key, "conda"))
			c->env_conda = v;
		else
			c->env_virtualenv = v;
	}
	if (!any)
		mlf_diag(c, W, y, env, "mlflow-env",
			 "python_function.env names no environment file (expected conda and/or "
			 "virtualenv)");
}

static void check_artifacts(mlf_ctx *c, const char *flavor, const yaml_node_t *arts)
{
	const mlf_yaml *y = &c->mlmodel;
	char what[512];

	if (mlf_is_null(arts))
		return;
	if (mlf_type_of(arts) != MLF_MAP) {
		mlf_diag(c, E, y, arts, "mlflow-flavor",
			 "%s.artifacts must be a mapping of artifact names to {path: ...}, not %s",
			 flavor, mlf_type_name(mlf_type_of(arts)));
		return;
	}
	for (yaml_node_pair_t *p = arts->data.mapping.pairs.start; p < arts->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node((yaml_document_t *)&y->doc, p->value);
		const char *name = mlf_text(k);
		if (!name)
			continue;
		if (mlf_type_of(v) != MLF_MAP) {
			mlf_diag(c, E, y, v ? v : k, "mlflow-flavor",
				 "%s.artifacts.%s must be a mapping with a 'path', not %s", flavor, name,
				 mlf_type_name(mlf_type_of(v)));
			continue;
		}
		yaml_node_t *path = mlf_get(y, v, "path");
		snprintf(what, sizeof(what), "%s.artifacts.%s.path", flavor, name);
		if (mlf_is_null(path))
			mlf_diag(c, E, y, k, "mlflow-flavor", "%s.artifacts.%s has no 'path'", flavor,
				 name);
		else
			mlf_check_path(c, y, path, what, E);
	}
}

static void check_pyfunc(mlf_ctx *c, const yaml_node_t *key, const yaml_node_t *conf)
{
	const mlf_yaml *y = &c->mlmodel;
	yaml_node_t *lm = mlf_get(y, conf, "loader_module");
	const char *s;

	/* pyfunc.load_model imports conf["loader_module"]: a KeyError without it. */
	if (!lm) {
		mlf_diag(c, E, y, key, "mlflow-flavor",
			 "flavor 'python_function' has no 'loader_module'");
	} else if (!(s = mlf_str(lm)) || !s[0] ||
		   !matches(RE_MODULE, s)) {
		mlf_diag(c, E, y, lm, "mlflow-flavor",
			 "python_function.loader_module must be a Python module name such as "
			 "'mlflow.sklearn', not %s%s%s", s ? "'" : "",
			 s ? s : mlf_type_name(mlf_type_of(lm)), s ? "'" : "");
	}
	check_env(c, mlf_get(y, conf, "env"));
	/* pyfunc.load_model: _warn_potentially_incompatible_py_version_if_necessary
	 * calls get_major_minor_py_version(python_version), which does
	 * python_version.split("."): anything but a string (or null) raises. */
	c->python_version = mlf_get(y, conf, "python_version");
	if (c->python_version && !mlf_is_null(c->python_version) &&
	    mlf_type_of(c->python_version) != MLF_STR) {
		mlf_type pt = mlf_type_of(c->python_version);
		if (pt == MLF_INT || pt == MLF_FLOAT)
			mlf_diag(c, E, y, c->python_version, "mlflow-flavor",
				 "python_function.python_version is the YAML number %s: "
				 "mlflow.pyfunc.load_model calls .split('.') on it and fails; quote it "
				 "('%s')", mlf_text(c->python_version), mlf_text(c->python_version));
		else
			mlf_diag(c, E, y, c->python_version, "mlflow-flavor",
				 "python_function.python_version must be a version string, not %s "
				 "(mlflow.pyfunc.load_model calls .split('.') on it)",
				 mlf_type_name(pt));
		c->python_version = NULL;
	}
}

static void check_flavor(mlf_ctx *c, const char *name, const yaml_node_t *key,
			 const yaml_node_t *conf)
{
	const mlf_yaml *y = &c->mlmodel;
	char what[512];

	for (yaml_node_pair_t *p = conf->data.mapping.pairs.start; p < conf->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node((yaml_document_t *)&y->doc, p->value);
		const char *kn = mlf_text(k);
		size_t kl;
		if (!kn || mlf_shadowed(y, k))
			continue; /* a repeated key: only the last counts */
		kl = strlen(kn);
		snprintf(what, sizeof(what), "%s.%s", name, kn);
		if (STR_IN_ARRAY(kn, path_keys) ||
		    (!strcmp(kn, "model") && (!strcmp(name, "crate") || !strcmp(name, "r_function"))))
			mlf_check_path(c, y, v, what, E);
		else if (!strcmp(kn, "artifacts"))
			check_artifacts(c, name, v);
		else if ((!strcmp(kn, "version") || (kl > 8 && !strcmp(kn + kl - 8, "_version"))) &&
			 strcmp(what, "python_function.python_version"))
			/* (python_function.python_version: check_pyfunc) */
			check_version_text(c, v, what);
		else if ((!strcmp(kn, "model_code_path") || !strcmp(kn, "config")) && mlf_str(v) &&
			 mlf_str(v)[0] == '/')
			/* MLflow 2.12 on Databricks writes these; the code is copied in. */
			mlf_diag(c, W, y, v, "mlflow-absolute-path",
				 "%s '%s' is an absolute path outside the model folder", what,
				 mlf_str(v));
	}
	if (!strcmp(name, "python_function"))
		check_pyfunc(c, key, conf);
}

static void check_flavors(mlf_ctx *c, const yaml_node_t *root)
{
	const mlf_yaml *y = &c->mlmodel;
	yaml_node_t *key = mlf_get_key(y, root, "flavors"), *fl = mlf_get(y, root, "flavors");
	bool pyfunc = false;
	mlf_type t;

	if (!key) {
		mlf_diag(c, E, y, root, "mlflow-flavors",
			 "no 'flavors': MLflow finds no flavor to load this model with");
		return;
	}
	t = mlf_type_of(fl);
	if (t != MLF_MAP) {
		mlf_diag(c, E, y, t == MLF_NULL ? key : fl, "mlflow-flavors",
			 "'flavors' must be a mapping of flavor names to their settings, not %s",
			 mlf_type_name(t));
		return;
	}
	if (fl->data.mapping.pairs.top == fl->data.mapping.pairs.start) {
		mlf_diag(c, E, y, fl, "mlflow-flavors",
			 "'flavors' is empty: MLflow finds no flavor to load this model with");
		return;
	}
	for (yaml_node_pair_t *p = fl->data.mapping.pairs.start; p < fl->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node((yaml_document_t *)&y->doc, p->value);
		const char *name = mlf_text(k);
		if (!name || mlf_shadowed(y, k))
			continue;
		t = mlf_type_of(v);
		if (t != MLF_MAP) {
			/* A flavor's settings are read only by that flavor's own
			 * load_model (_get_flavor_configuration, then conf[...]):
			 * MLflow's flavors fail on anything but a mapping; one MLflow
			 * does not ship is never read by it. */
			bool known = STR_IN_ARRAY(name, mlflow_flavors);
			mlf_diag(c, known ? E : W, y, t == MLF_NULL ? k : v, "mlflow-flavor",
				 "flavor '%s' %s be a mapping of its settings, not %s%s", name,
				 known ? "must" : "should", mlf_type_name(t),
				 known ? "" : " (not a flavor MLflow ships: MLflow does not read it)");
			continue;
		}
		if (!strcmp(name, "python_function"))
			pyfunc = true;
		check_flavor(c, name, k, v);
	}
	if (!pyfunc)
		mlf_diag(c, W, y, key, "mlflow-no-pyfunc",
			 "no 'python_function' flavor: mlflow.pyfunc, 'mlflow models serve' and "
			 "Azure ML endpoints cannot load this model");
}

/* ---- other top-level fields ---- */

/* saved_input_example_info is read only by Model.load_input_example and the
 * serving-input helpers (mlflow/models/utils.py _read_example): a model loads
 * whatever it holds, so what is wrong with it is a warning. */
static void check_input_example(mlf_ctx *c, const yaml_node_t *key, const yaml_node_t *info)
{
	const mlf_yaml *y = &c->mlmodel;
	yaml_node_t *ap, *type;
	const char *ts;

	if (mlf_is_null(info))
		return;
	if (mlf_type_of(info) != MLF_MAP) {
		mlf_diag(c, W, y, info, "mlflow-input-example",
			 "saved_input_example_info must be a mapping, not %s",
			 mlf_type_name(mlf_type_of(info)));
		return;
	}
	ap = mlf_get(y, info, "artifact_path");
	if (mlf_is_null(ap))
		mlf_diag(c, W, y, key, "mlflow-input-example",
			 "saved_input_example_info has no 'artifact_path': MLflow cannot find the "
			 "example");
	else
		mlf_check_path(c, y, ap, "saved_input_example_info.artifact_path", W);
	mlf_check_path(c, y, mlf_get(y, info, "serving_input_path"),
		       "saved_input_example_info.serving_input_path", W);
	type = mlf_get(y, info, "type");
	ts = mlf_str(type);
	if (!type)
		mlf_diag(c, W, y, key, "mlflow-input-example",
			 "saved_input_example_info has no 'type': MLflow cannot read the example");
	else if (!STR_IN_ARRAY(ts, example_types))
		mlf_diag(c, W, y, type, "mlflow-input-example",
			 "saved_input_example_info.type %s%s%s is not one MLflow reads (dataframe, "
			 "ndarray, json_object, sparse_matrix_csc, sparse_matrix_csr)",
			 ts ? "'" : "", ts ? ts : mlf_type_name(mlf_type_of(type)), ts ? "'" : "");
}

/* A Python truth value: env_vars' setter only checks a value that is true. */
static bool py_truthy(const yaml_node_t *n)
{
	const char *t = mlf_text(n);

	switch (mlf_type_of(n)) {
	case MLF_NONE:
	case MLF_NULL:
		return false;
	case MLF_BOOL:
		return mlf_yaml_true(t);
	case MLF_INT:
	case MLF_FLOAT:
		return strtod(t, NULL) != 0.0 || strpbrk(t, "123456789nNiI");
	case MLF_STR:
		return n->data.scalar.length != 0;
	case MLF_MAP:
		return n->data.mapping.pairs.top != n->data.mapping.pairs.start;
	case MLF_SEQ:
		return n->data.sequence.items.top != n->data.sequence.items.start;
	default:
		return true;
	}
}

/*
 * Top-level fields. Model.from_dict passes them to Model(**fields), whose
 * __init__ (mlflow/models/model.py) only stores most of them: a wrong type
 * there loads, and is a warning. What fails: the env_vars setter (TypeError
 * for a true value that is not a list of strings) and the resources setter
 * (a string is read as the path of a YAML file, _ResourceBuilder.from_yaml_file,
 * relative to the current folder).
 */
static void check_field_types(mlf_ctx *c, const yaml_node_t *root)
{
	static const char *mappings[] = {"metadata", "resources", "auth_policy"};
	static const char *strings[] = {"artifact_path", "run_id", "model_uuid", "model_id",
		"mlflow_version", "databricks_runtime", "utc_time_created"};
	const mlf_yaml *y = &c->mlmodel;
	yaml_node_t *n;
	mlf_type t;

	for (size_t i = 0; i < sizeof(mappings) / sizeof(*mappings); i++) {
		n = mlf_get(y, root, mappings[i]);
		t = mlf_type_of(n);
		if (t == MLF_STR && !strcmp(mappings[i], "resources"))
			mlf_diag(c, E, y, n, "mlflow-field-type",
				 "'resources' is a string, which MLflow reads as the path of a YAML "
				 "file of resources relative to the current folder "
				 "(_ResourceBuilder.from_yaml_file); MLflow writes a mapping");
		else if (t != MLF_NONE && t != MLF_NULL && t != MLF_MAP)
			mlf_diag(c, W, y, n, "mlflow-field-type",
				 "'%s' should be a mapping, not %s (MLflow stores it as it is)",
				 mappings[i], mlf_type_name(t));
	}
	for (size_t i = 0; i < sizeof(strings) / sizeof(*strings); i++) {
		n = mlf_get(y, root, strings[i]);
		t = mlf_type_of(n);
		if (t == MLF_MAP || t == MLF_SEQ)
			mlf_diag(c, W, y, n, "mlflow-field-type",
				 "'%s' should be a string, not %s (MLflow stores it as it is)",
				 strings[i], mlf_type_name(t));
	}
	/* model.py, the env_vars setter: TypeError("env_vars must be a list of strings") */
	n = mlf_get(y, root, "env_vars");
	t = mlf_type_of(n);
	if (t == MLF_SEQ) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			yaml_node_t *v = yaml_document_get_node((yaml_document_t *)&y->doc, *it);
			if (!mlf_str(v)) {
				mlf_diag(c, E, y, v, "mlflow-field-type",
					 "env_vars must be a list of variable names (strings); this "
					 "item is %s", mlf_type_name(mlf_type_of(v)));
				break;
			}
		}
	} else if (py_truthy(n)) {
		mlf_diag(c, E, y, n, "mlflow-field-type",
			 "env_vars must be a list of variable names (strings), not %s", mlf_type_name(t));
	} else if (t != MLF_NONE && t != MLF_NULL) {
		mlf_diag(c, W, y, n, "mlflow-field-type",
			 "env_vars should be a list of variable names, not %s (MLflow lets an empty "
			 "value through)", mlf_type_name(t));
	}
	n = mlf_get(y, root, "prompts");
	t = mlf_type_of(n);
	if (t != MLF_NONE && t != MLF_NULL && t != MLF_SEQ)
		mlf_diag(c, W, y, n, "mlflow-field-type",
			 "'prompts' should be a list of prompt URIs, not %s (MLflow stores it as it is)",
			 mlf_type_name(t));
	n = mlf_get(y, root, "model_size_bytes");
	t = mlf_type_of(n);
	if (t != MLF_NONE && t != MLF_NULL &&
	    (t != MLF_INT || mlf_text(n)[0] == '-'))
		mlf_diag(c, W, y, n, "mlflow-field-type",
			 "model_size_bytes should be a non-negative integer, not %s%s%s (MLflow "
			 "stores it as it is)",
			 t == MLF_INT || t == MLF_STR ? "'" : "",
			 t == MLF_INT || t == MLF_STR ? mlf_text(n) : mlf_type_name(t),
			 t == MLF_INT || t == MLF_STR ? "'" : "");
}

static void check_field_formats(mlf_ctx *c, const yaml_node_t *root)
{
	const mlf_yaml *y = &c->mlmodel;
	yaml_node_t *n;
	const char *s;
	mlf_type t;

	n = mlf_get(y, root, "utc_time_created");
	t = mlf_type_of(n);
	if (t == MLF_STR &&
	    !matches(RE_TIME, mlf_text(n)))
		mlf_diag(c, W, y, n, "mlflow-field-format",
			 "utc_time_created '%s' is not 'YYYY-MM-DD HH:MM:SS[.ffffff]' as MLflow "
			 "writes it", mlf_text(n));
	else if (t == MLF_TIMESTAMP || t == MLF_INT || t == MLF_FLOAT)
		mlf_diag(c, W, y, n, "mlflow-field-format",
			 "utc_time_created is written as %s (%s); MLflow writes a quoted "
			 "'YYYY-MM-DD HH:MM:SS.ffffff' string", mlf_type_name(t), mlf_text(n));
	n = mlf_get(y, root, "run_id");
	s = mlf_text(n);
	if (s && !mlf_is_null(n) && !matches(RE_RUN_ID, s))
		mlf_diag(c, W, y, n, "mlflow-field-format",
			 "run_id '%s' is not an MLflow run id (letters, digits, '_' and '-')", s);
	n = mlf_get(y, root, "model_uuid");
	s = mlf_text(n);
	if (s && !mlf_is_null(n) && !matches(RE_MODEL_UUID, s))
		mlf_diag(c, W, y, n, "mlflow-field-format",
			 "model_uuid '%s' is neither 32 hex digits nor 'm-' and 32 hex digits", s);
	n = mlf_get(y, root, "model_id");
	s = mlf_text(n);
	if (s && !mlf_is_null(n) && !matches(RE_MODEL_ID, s))
		mlf_diag(c, W, y, n, "mlflow-field-format",
			 "model_id '%s' is not 'm-' and 32 hex digits", s);
	check_version_text(c, mlf_get(y, root, "mlflow_version"), "mlflow_version");
	check_version_text(c, mlf_get(y, root, "databricks_runtime"), "databricks_runtime");
}

static void check_keys(mlf_ctx *c, const yaml_node_t *root)
{
	const mlf_yaml *y = &c->mlmodel;
	static const char *recommended[] = {"utc_time_created", "mlflow_version", "model_uuid"};
	/* Which MLflow versions write each (docs/mlflow_model.md): older files lack them. */
	static const char *since[] = {
		"MLflow writes it since 0.5 (older files may have "
		"'time_created' instead)",
		"MLflow 1.x and later write it; files saved by older MLflow or by other tools (the "
		"Java API) may lack it",
		"MLflow 1.x and later write it; files saved by older MLflow or by other tools may "
		"lack it"};

	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&y->doc, p->key);
		const char *key = mlf_text(k);
		mlf_type kt = mlf_type_of(k);
		/* Model.from_dict ends in cls(**model_dict). */
		if (kt != MLF_STR && kt != MLF_MAP && kt != MLF_SEQ) {
			mlf_diag(c, E, y, k, "mlflow-document",
				 "top-level key %s is %s, not a string: MLflow passes the fields to "
				 "Model(**fields), which raises TypeError (keywords must be strings)",
				 key ? key : "", mlf_type_name(kt));
			continue;
		}
		if (key && !strcmp(key, "self")) {
			mlf_diag(c, E, y, k, "mlflow-document",
				 "top-level key 'self': MLflow passes the fields to Model(**fields), "
				 "which raises TypeError (got multiple values for argument 'self')");
			continue;
		}
		if (!key || STR_IN_ARRAY(key, known_keys))
			continue;
		if (!strcmp(key, "time_created"))
			mlf_diag(c, W, y, k, "mlflow-legacy",
				 "'time_created' is the name used by MLflow 0.x; MLflow now writes "
				 "'utc_time_created'");
		else if (!strcmp(key, "input_example"))
			mlf_diag(c, W, y, k, "mlflow-legacy",
				 "'input_example' is the old name of 'saved_input_example_info'; MLflow "
				 "does not read it");
		else if (!strcmp(key, "python_function"))
			mlf_diag(c, W, y, k, "mlflow-legacy",
				 "'python_function' at the top level is the MLflow 0.x layout; MLflow "
				 "reads flavors only under 'flavors'");
		else
			mlf_diag(c, W, y, k, "mlflow-unknown-key",
				 "unknown top-level key '%s' (MLflow keeps it but does not use it)", key);
	}
	for (size_t i = 0; i < sizeof(recommended) / sizeof(*recommended); i++) {
		if (mlf_get_key(y, root, recommended[i]))
			continue;
		if (!strcmp(recommended[i], "utc_time_created") && mlf_get_key(y, root, "time_created"))
			continue;
		mlf_diag(c, W, y, root, "mlflow-missing-field", "no '%s': %s", recommended[i],
			 since[i]);
	}
}

static void check_mlmodel(mlf_ctx *c, const char *display, const char *data, size_t len)
{
	mlf_yaml *y = &c->mlmodel;
	yaml_node_t *root;

	if (!mlf_yaml_load(c, y, display, data, len, "mlflow-yaml", E))
		return;
	root = y->root;
	if (!root) {
		mlf_diag_at(c, E, y->display, 0, 0, "mlflow-document",
			    "MLmodel is empty: MLflow reads it as nothing and cannot load the model");
		return;
	}
	if (mlf_type_of(root) != MLF_MAP) {
		mlf_diag(c, E, y, root, "mlflow-document",
			 "MLmodel must be a YAML mapping of fields, not %s",
			 mlf_type_name(mlf_type_of(root)));
		return;
	}
	check_keys(c, root);
	check_flavors(c, root);
	mlf_check_signature(c, mlf_get(y, root, "signature"));
	check_input_example(c, mlf_get_key(y, root, "saved_input_example_info"),
			    mlf_get(y, root, "saved_input_example_info"));
	check_field_types(c, root);
	check_field_formats(c, root);
}

/* ---- entry points ---- */

int mlflow_check_text(const char *dir, const char *data, size_t len, mreg_diag_list *diags)
{
	mlf_ctx c = {.dir = dir, .diags = diags};
	char *display = path_join(dir, "MLmodel");

	if (!display)
		return mreg_seterr_nomem();
	check_mlmodel(&c, display, data, len);
	free(display);
	if (c.mlmodel.root && mlf_type_of(c.mlmodel.root) == MLF_MAP && !c.rc)
		mlf_check_env(&c);
	mlf_yaml_dispose(&c.mlmodel);
	return c.rc;
}

int mlflow_describe_text(const char *data, size_t len, char **json_out)
{
	mlf_ctx c = {.dir = ".", .diags = NULL};
	mlf_yaml *y = &c.mlmodel;
	json_t *out = NULL;
	yaml_node_t *v;
	int rc = 0;

	*json_out = NULL;
	if (!mlf_yaml_load(&c, y, "MLmodel", data, len, "mlflow-yaml", E) || !y->root ||
	    mlf_type_of(y->root) != MLF_MAP)
		goto done;
	if (!(out = json_object()))
		goto nomem;
	v = mlf_get(y, y->root, "flavors");
	if (mlf_type_of(v) == MLF_MAP) {
		json_t *j = mlf_to_json(y, v, 1);
		if (!j || json_object_set_new(out, "flavors", j))
			goto nomem;
	}
	v = mlf_get(y, y->root, "signature");
	if (mlf_type_of(v) == MLF_MAP) {
		json_t *j = mlf_signature_json(y, v);
		if (j && json_object_set_new(out, "signature", j))
			goto nomem;
	}
	v = mlf_get(y, y->root, "mlflow_version");
	if (mlf_text(v) && !mlf_is_null(v) &&
	    json_object_set_new(out, "mlflow_version", json_string(mlf_text(v))))
		goto nomem;
	if (json_object_size(out) && !(*json_out = json_dumps(out, JSON_COMPACT)))
		goto nomem;
	goto done;
nomem:
	rc = mreg_seterr_nomem();
done:
	json_decref(out);
	mlf_yaml_dispose(y);
	return rc ? rc : c.rc;
}

/* An MLmodel file at the root is as sure a sign as there is. */
static int mlflow_probe(const char *path)
{
	struct stat st;
	char *p;
	int score = 0;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	p = path_join(path, "MLmodel");
	if (p && lstat(p, &st) == 0)
		score = 90;
	free(p);
	return score;
}

/* MLflow looks for "MLmodel" exactly; point at a near miss. */
static char *near_miss(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *found = NULL;

	if (!d)
		return NULL;
	while ((e = readdir(d)))
		if (!strcasecmp(e->d_name, "MLmodel") || !strcasecmp(e->d_name, "MLmodel.yaml") ||
		    !strcasecmp(e->d_name, "MLmodel.yml")) {
			found = strdup(e->d_name);
			break;
		}
	closedir(d);
	return found;
}

static void missing_mlmodel(mlf_ctx *c, const char *path, const char *mlmodel, int err)
{
	char *other;

	switch (err) {
	case ENOENT:
	case ENOTDIR:
		other = near_miss(path);
		mlf_diag_at(c, E, path, 0, 0, "mlflow-mlmodel",
			    "Could not find an \"MLmodel\" configuration file at \"%s\"%s%s%s", path,
			    other ? " (found '" : "", other ? other : "",
			    other ? "': the name must be exactly MLmodel)" : "");
		free(other);
		break;
	case EISDIR:
		mlf_diag_at(c, E, mlmodel, 0, 0, "mlflow-mlmodel",
			    "MLmodel is a folder; it must be a YAML file");
		break;
	case EINVAL:
		mlf_diag_at(c, E, mlmodel, 0, 0, "mlflow-mlmodel",
			    "MLmodel is not a regular file; it must be a YAML file");
		break;
	case EFBIG:
		mlf_diag_at(c, E, mlmodel, 0, 0, "mlflow-mlmodel",
			    "MLmodel is larger than %zu MiB; real ones are a few KB",
			    MLF_MAX_FILE_SIZE >> 20);
		break;
	default:
		mlf_diag_at(c, E, mlmodel, 0, 0, "mlflow-mlmodel", "cannot read MLmodel: %s",
			    strerror(err));
	}
}

static int mlflow_validate(const char *path, mreg_diag_list *diags)
{
	mlf_ctx c = {.dir = path, .diags = diags};
	walk_result walk = {0};
	char *mlmodel = NULL, *data = NULL;
	size_t len, before = mreg_diag_count(diags);
	struct stat st;
	int rc;

	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		mlf_diag_at(&c, E, path, 0, 0, "mlflow-mlmodel",
			    "an MLflow model is a folder with an MLmodel file, not a single file");
		return c.rc;
	}
	mlmodel = path_join(path, "MLmodel");
	if (!mlmodel)
		return mreg_seterr_nomem();
	if (fs_read_small(&data, &len, mlmodel, MLF_MAX_FILE_SIZE, NULL) < 0)
		missing_mlmodel(&c, path, mlmodel, errno);
	else if ((rc = mlflow_check_text(path, data, len, diags)))
		goto done;
	/* What `mreg create` would refuse to store (escaping symlinks, devices...). */
	rc = walk_model(&walk, path, diags);
	if (rc == 0)
		rc = weights_check_walk(&walk, diags);
	walk_result_dispose(&walk);
	if (rc == MREG_ENOTFOUND)
		rc = 0;
	/* The checks run in passes (document, flavors, signature, environment):
	 * the report reads top to bottom, file by file. */
	if (rc == 0 && before == 0)
		mreg_diag_sort(diags);
done:
	free(data);
	free(mlmodel);
	return rc ? rc : c.rc;
}

static int mlflow_describe(const char *path, char **json_out)
{
	char *mlmodel = path_join(path, "MLmodel"), *data = NULL;
	size_t len;
	int rc = 0;

	*json_out = NULL;
	if (!mlmodel)
		return mreg_seterr_nomem();
	if (fs_read_small(&data, &len, mlmodel, MLF_MAX_FILE_SIZE, NULL) == 0)
		rc = mlflow_describe_text(data, len, json_out);
	if (rc == 0)
		rc = weights_describe_add(path, json_out);
	free(data);
	free(mlmodel);
	return rc;
}

const mreg_format mreg_format_mlflow_model = {
	.version = MREG_FORMAT_VERSION,
	.name = "mlflow_model",
	.summary = "an MLflow model folder: MLmodel, its flavors, signature, files and environment",
	.probe = mlflow_probe,
	.validate = mlflow_validate,
	.describe = mlflow_describe,
};
