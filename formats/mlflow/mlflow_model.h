/*
 * mlflow_model: the parts of the plugin shared by its files (model.c:
 * MLmodel and flavors; yaml.c: YAML read with positions, path rules;
 * signature.c: the signature's JSON schemas; env.c: conda.yaml,
 * python_env.yaml, requirements.txt) and by the fuzz target
 * (tests/fuzz/fuzz_mlmodel.c).
 *
 * The rules: docs/mlflow_model.md. MLflow's own behaviour, which they
 * follow: mlflow/models/model.py (Model.load), mlflow/models/signature.py,
 * mlflow/types/schema.py, mlflow/pyfunc/__init__.py and
 * mlflow/utils/environment.py. Only MLmodel and the environment files are
 * read; every other file is only looked up by name (stat).
 */
#ifndef MREG_MLFLOW_MODEL_H
#define MREG_MLFLOW_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <yaml.h>

#include "mreg/diag.h"

/* Larger files are refused rather than parsed: real ones are a few KB. */
#define MLF_MAX_FILE_SIZE ((size_t)16 << 20)
/* Deeper nesting (after expanding aliases) is refused; MLflow writes 6 levels. */
#define MLF_MAX_DEPTH 100
/* More nodes after expanding aliases is refused ("billion laughs"). */
#define MLF_MAX_EXPANDED 200000

/* A YAML value's type the way PyYAML's safe_load (YAML 1.1) reads it. */
typedef enum {
	MLF_NONE,      /* no node */
	MLF_STR,
	MLF_NULL,
	MLF_BOOL,
	MLF_INT,
	MLF_FLOAT,
	MLF_TIMESTAMP,
	MLF_MAP,
	MLF_SEQ,
} mlf_type;

/* One YAML file, loaded and checked (see mlf_yaml_load). */
typedef struct {
	char *display;        /* the path shown in diagnostics */
	yaml_document_t doc;
	bool loaded;          /* doc must be deleted */
	yaml_node_t *root;    /* NULL for an empty file or when unusable */
	unsigned char *shadowed; /* per node: a key that a later equal key overrides */
} mlf_yaml;

/* One validation run. */
typedef struct {
	const char *dir;         /* the model folder as the user gave it */
	mreg_diag_list *diags;
	int rc;                  /* MREG_ENOMEM once an allocation failed */
	mlf_yaml mlmodel;

	/* Facts gathered from MLmodel for the environment checks. */
	yaml_node_t *python_version; /* python_function.python_version */
	yaml_node_t *env_conda;      /* the env file names, as nodes (NULL: none) */
	yaml_node_t *env_virtualenv;
} mlf_ctx;

/* Append a diagnostic placed at @at (a node of @y, or NULL for no position). */
void mlf_diag(mlf_ctx *c, mreg_diag_severity sev, const mlf_yaml *y, const yaml_node_t *at,
	      const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Same with an explicit file and position (line/column 0: none). */
void mlf_diag_at(mlf_ctx *c, mreg_diag_severity sev, const char *file, unsigned int line,
		 unsigned int column, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/*
 * Parse @len bytes as the YAML file @display into @y, then check what a safe
 * loader would refuse or a walker must not meet: syntax errors (libyaml's
 * problem and position), several documents, unknown tags, unhashable keys,
 * recursive aliases, nesting deeper than MLF_MAX_DEPTH, alias expansion past
 * MLF_MAX_EXPANDED. Problems are reported with @code and severity @sev.
 * Afterwards y->root is the root node, or NULL when the file is empty or
 * must not be walked. Returns false when the file is unusable.
 */
bool mlf_yaml_load(mlf_ctx *c, mlf_yaml *y, const char *display, const char *data, size_t len,
		   const char *code, mreg_diag_severity sev);

void mlf_yaml_dispose(mlf_yaml *y);

/* The type of @n as PyYAML resolves it (plain scalars by YAML 1.1 rules). */
mlf_type mlf_type_of(const yaml_node_t *n);

/*
 * What @n should be (e.g. "an integer") when PyYAML's safe constructor
 * cannot build it from its text (!!int x, !!bool maybe, 2023-13-01: safe_load
 * raises), else NULL (formats/mlflow/scalar.c).
 */
const char *mlf_scalar_unbuildable(const yaml_node_t *n);

/* "a string", "a mapping", "the YAML number 3.1", ... for messages. */
const char *mlf_type_name(mlf_type t);

/* The value of @key in mapping @map (the last one, as PyYAML keeps it), or NULL. */
yaml_node_t *mlf_get(const mlf_yaml *y, const yaml_node_t *map, const char *key);

/* The key node of @key in mapping @map (the last one), or NULL. */
yaml_node_t *mlf_get_key(const mlf_yaml *y, const yaml_node_t *map, const char *key);

/* True when key node @k is repeated later in its mapping (PyYAML keeps the last). */
bool mlf_shadowed(const mlf_yaml *y, const yaml_node_t *k);

/* The scalar text of @n, or NULL when it is not a scalar. */
const char *mlf_text(const yaml_node_t *n);

/* The text of @n when it is a string (not null, number, ...), else NULL. */
const char *mlf_str(const yaml_node_t *n);

/* True when @n is absent or null. */
bool mlf_is_null(const yaml_node_t *n);
/* A YAML 1.1 true (yes, true, on in their three spellings). */
bool mlf_yaml_true(const char *s);

/* The value of @n as JSON (PyYAML's types), or NULL when out of memory. */
json_t *mlf_to_json(const mlf_yaml *y, const yaml_node_t *n, int depth);

/*
 * A path that MLmodel or an environment file names, relative to the model
 * folder: must be a non-empty relative string that stays inside the folder
 * (mlflow-path) and must exist (mlflow-file-missing; severity @missing_sev).
 * @what names the field in messages, e.g. "python_function.data".
 */
void mlf_check_path(mlf_ctx *c, const mlf_yaml *y, const yaml_node_t *n, const char *what,
		    mreg_diag_severity missing_sev);

/* NULL when @s (@len bytes) is a clean relative path inside the folder, else why not. */
const char *mlf_path_problem(const char *s, size_t len);

/* True when @rel (relative to the model folder) exists. */
bool mlf_exists(const mlf_ctx *c, const char *rel);

/* signature.c: check the signature mapping @sig of MLmodel. */
void mlf_check_signature(mlf_ctx *c, const yaml_node_t *sig);

/* signature.c: the signature as JSON for the record, or NULL. */
json_t *mlf_signature_json(const mlf_yaml *y, const yaml_node_t *sig);

/* env.c: check the environment files (after MLmodel was checked). */
void mlf_check_env(mlf_ctx *c);

/*
 * The MLmodel checks on a text already in memory, as if it were
 * "@dir/MLmodel" (files it names are looked up in @dir, which need not
 * exist). Used by validate and by the fuzz target. Returns 0 or MREG_ENOMEM.
 */
int mlflow_check_text(const char *dir, const char *data, size_t len, mreg_diag_list *diags);

/*
 * The metadata describe() records, from an MLmodel text: a JSON object text
 * with "flavors", "signature" and "mlflow_version" (those present), or NULL
 * in *json_out when the text holds none. Returns 0 or MREG_ENOMEM.
 */
int mlflow_describe_text(const char *data, size_t len, char **json_out);

#endif
