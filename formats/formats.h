/* The built-in format plugins. */
#ifndef MREG_FORMATS_H
#define MREG_FORMATS_H

#include "mreg/format.h"

extern const mreg_format mreg_format_custom_model;
extern const mreg_format mreg_format_mlflow_model;
extern const mreg_format mreg_format_triton_model;

/* The table, in the order plugins are asked to probe; NULL-terminated. */
extern const mreg_format *const mreg_builtin_formats[];

#endif
