/*
 * triton_priv.h: what the files of the triton_model plugin share. Not for the
 * tests, which use triton_model.h.
 *
 * The plugin checks a Triton Inference Server model repository (or one model
 * folder of it) as Triton checks it when it loads the models, without a GPU
 * or Triton. Its files follow Triton core's own seams:
 *
 *   load.c          read config.pbtxt, auto-complete it, find the versions
 *                   (model_config_utils.cc AutoCompleteBackendFields,
 *                   model_lifecycle.cc VersionsToLoad)
 *   config_rules.c  the rules of one model's config (model_config_utils.cc
 *                   ValidateModelConfig, ValidateModelIOConfig,
 *                   ValidateInstanceGroup) and those applied when it loads
 *   ensemble.c      ensembles (model_config_utils.cc
 *                   ValidateEnsembleSchedulingConfig; across models,
 *                   ensemble_scheduler/ensemble_utils.cc and the repository
 *                   manager's dependency graph)
 *   repository.c    the repository and the order of the checks
 *                   (model_repository_manager/model_repository_manager.cc)
 *   plugin.c        probe, validate, describe: mreg's format interface
 *   common.c        diagnostics and folder helpers
 *
 * The order is Triton's when it loads a repository: read and parse
 * config.pbtxt (protobuf text format, pbtxt.c + triton_schema.c),
 * auto-complete the backend fields from the folder (AutoCompleteBackendFields),
 * ValidateModelConfig, ValidateModelIOConfig, the directory name, the version
 * folders (VersionsToLoad), instance groups, load-time rules, then the
 * ensembles across the repository. Messages carry Triton's own text, so a
 * search for Triton's error finds the same words. Where Triton stops at the
 * first problem of a model, we report every independent one.
 *
 * What cannot be known offline is assumed and said: the GPUs of the server
 * (TRITON_GPUS_ENV), the backends installed, the contents of model files.
 *
 * Functions one file calls in another are prefixed tm_ (triton_schema.h's
 * are ts_).
 */
#ifndef MREG_TRITON_PRIV_H
#define MREG_TRITON_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mreg/diag.h"
#include "triton/pbtxt.h"
#include "triton/triton_model.h"
#include "triton/triton_schema.h"

#define CONFIG_NAME "config.pbtxt"
/* The ensemble platform and what Triton's constants.h calls the rest. */
#define ENSEMBLE "ensemble"

typedef struct {
	unsigned int line, column;
} tpos;

typedef struct {
	int64_t number;
	char *dir;
} tversion;

typedef struct tmodel {
	char *name;        /* folder name = model name in the repository */
	char *dir;         /* the folder, as the user wrote the path */
	char *config_file; /* dir/config.pbtxt */
	bool exists;       /* the folder exists */
	bool has_config;
	bool config_ok;  /* config read, parsed and schema-checked (or absent) */
	pbtxt_msg *tree; /* the checked config; NULL without config.pbtxt */
	char **subdirs;  /* sorted bytewise, as std::set<std::string> */
	size_t nsubdirs;
	/* After auto-completion. */
	char *cfg_name, *platform, *backend, *model_file;
	bool autofill_failed;
	bool platform_unknown;  /* config-only: the backend depends on the model file */
	bool backend_from_name; /* "<anything>.<backend>" */
	tversion *versions;     /* numeric version folders, ascending */
	size_t nversions;
	int64_t *loaded; /* versions the policy selects */
	size_t nloaded;
	size_t errors;
	char *first_error; /* Triton reports it through an ensemble that uses the model */
	bool silent;       /* loaded only to check an ensemble: count, do not report */
	bool checked;
	int visit; /* cycle search state */
} tmodel;

typedef struct {
	const char *root; /* the repository folder */
	bool single;      /* validating one model; others are loaded on demand */
	bool layout;      /* check version folders and model files */
	mreg_diag_list *diags;
	tmodel **models;
	size_t count;
	int gpus; /* GPUs of the target server; -1 when unknown */
	bool nomem;
	bool gpu_note; /* the GPU assumption was explained once */
} trepo;

/* ---- where a diagnostic points ---- */

static inline tpos pos_value(const pbtxt_value *v)
{
	return v ? (tpos){v->line, v->column} : (tpos){0, 0};
}

/* Where a field is written (its last occurrence), else where its message
 * starts; nothing for the root message. */
static inline tpos pos_field(const tmodel *m, const pbtxt_msg *msg, const char *field)
{
	const pbtxt_field *f = ts_last_field(msg, field);

	if (f)
		return (tpos){f->line, f->column};
	if (msg && msg != m->tree)
		return (tpos){msg->line, msg->column};
	return (tpos){0, 0};
}

static inline tpos pos_msg(const tmodel *m, const pbtxt_msg *msg)
{
	if (msg && msg != m->tree)
		return (tpos){msg->line, msg->column};
	return (tpos){0, 0};
}

/* ---- common.c ---- */

/* A problem in config.pbtxt (or, without one, in the model folder). An error
 * counts toward @m's errors; nothing is reported for a silent model. */
void tm_cfg_diag(trepo *r, tmodel *m, mreg_diag_severity sev, tpos p, const char *code,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define cfg_error(r, m, p, code, ...) tm_cfg_diag(r, m, MREG_DIAG_ERROR, p, code, __VA_ARGS__)

/* A problem with a file or folder of the model. */
void tm_path_diag(trepo *r, tmodel *m, mreg_diag_severity sev, const char *path, const char *code,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

bool tm_is_dir(const char *path);
/* @name in @dir exists: as a folder (@want_dir 1), as anything else (0), or
 * at all (-1). */
bool tm_child_exists(const char *dir, const char *name, int want_dir);
/* qsort comparator for an array of strings, bytewise. */
int tm_cmp_str(const void *a, const void *b);
void tm_free_strv(char **v, size_t n);
/* The subfolders of @dir, sorted bytewise (at most @limit of them unless 0).
 * Returns 0 (none when the folder cannot be read), MREG_ENOMEM. */
int tm_list_subdirs(const char *dir, char ***out, size_t *count, size_t limit);
/* A tensor called @name is in @cfg's repeated @field (input, output). */
bool tm_name_in(const pbtxt_msg *cfg, const char *field, const char *name);

/* ---- load.c ---- */

/* Read, parse and schema-check config.pbtxt: sets has_config, config_ok, tree. */
void tm_read_config(trepo *r, tmodel *m);
/* AutoCompleteBackendFields: sets cfg_name, platform, backend, model_file. */
void tm_autofill(trepo *r, tmodel *m);
/* VersionsToLoad: the numeric version folders, then what the policy selects. */
void tm_scan_versions(trepo *r, tmodel *m);
void tm_select_versions(trepo *r, tmodel *m);
/* Version @v of @m is one the version policy selects. */
bool tm_is_loaded(const tmodel *m, int64_t v);

/* ---- config_rules.c, in the order check_model applies them ---- */

/* ValidateModelConfig (with ValidateEnsembleSchedulingConfig, ensemble.c). */
void tm_check_model_config(trepo *r, tmodel *m);
/* ValidateModelIOConfig. */
void tm_check_io(trepo *r, tmodel *m);
/* NormalizeInstanceGroup + ValidateInstanceGroup. */
void tm_check_instance_groups(trepo *r, tmodel *m);
/* Rules applied when Triton loads the model. */
void tm_check_runtime(trepo *r, tmodel *m);
void tm_check_labels(trepo *r, tmodel *m);
void tm_check_warmup(trepo *r, tmodel *m);
void tm_check_states(trepo *r, tmodel *m);
void tm_check_batch_strategy(trepo *r, tmodel *m);
void tm_check_model_files(trepo *r, tmodel *m);

/* ---- ensemble.c ---- */

/* ValidateEnsembleSchedulingConfig: the ensemble's own config. */
void tm_check_ensemble_scheduling(trepo *r, tmodel *m);
/* The ensemble @e against its step models (which are looked up with
 * tm_repo_find); after @e passed its own rules. */
void tm_check_ensemble_models(trepo *r, tmodel *e);

/* ---- repository.c ---- */

/* The model called @name: one of the repository's, or (validating a single
 * model) its sibling folder, loaded and checked silently. NULL if none. */
tmodel *tm_repo_find(trepo *r, const char *name);
/* @dir holds config.pbtxt or a numeric folder (with, when @strict, a model
 * file Triton recognizes): a model rather than a repository. */
bool tm_looks_like_model(const char *dir, bool strict);
/* Check @path (a repository or one model folder). @layout: check version
 * folders and model files; @force_single: @path is one model. With
 * @describe, also the models as JSON. Returns 0, MREG_ENOMEM. */
int tm_run(const char *path, mreg_diag_list *diags, bool layout, bool force_single,
           json_t **describe);

/* ---- plugin.c ---- */

/* One model as the describe JSON shows it. */
json_t *tm_describe_model(const tmodel *m);

#endif
