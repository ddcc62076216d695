/* Every built-in format plugin, in one table. A new plugin is one line here. */
#include <stddef.h>

#include "formats.h"

const mreg_format *const mreg_builtin_formats[] = {
	&mreg_format_custom_model,
	&mreg_format_mlflow_model,
	&mreg_format_triton_model,
	NULL,
};
