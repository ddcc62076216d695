/* The built-in format plugins. */
#ifndef MREG_FORMATS_H
#define MREG_FORMATS_H

#include "mreg/format.h"
#include "util/walk.h"

extern const mreg_format mreg_format_custom_model;
extern const mreg_format mreg_format_mlflow_model;
extern const mreg_format mreg_format_triton_model;

/*
 * custom_model's validate and describe over a walk of the model made already
 * (mreg_model_create walks a model once and hands the walk over, so no file is
 * listed, stat'ed or checked three times). The walk's own diagnostics are the
 * caller's to report; custom_model_check_walk adds what the plugin checks
 * beyond them (weight file headers). Same errors as validate and describe.
 */
int custom_model_check_walk(const walk_result *walk, mreg_diag_list *diags);
int custom_model_describe_walk(const walk_result *walk, char **json_out);

/* The table, in the order plugins are asked to probe; NULL-terminated. */
extern const mreg_format *const mreg_builtin_formats[];

#endif
