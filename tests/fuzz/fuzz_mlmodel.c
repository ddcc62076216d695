/*
 * Fuzz target for the MLmodel parser and checks of the mlflow_model plugin:
 * the text is validated as the MLmodel of a folder that does not exist (so
 * every file it names is missing), then described. Invariants: no crash,
 * no leak, and describe() gives a JSON object or nothing.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "mlflow/mlflow_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mreg_diag_list *diags = NULL;
	char *text = NULL;
	json_t *j;

	if (mreg_diag_list_new(&diags))
		return 0;
	mlflow_check_text("/nonexistent/mreg-fuzz-model", (const char *)data, size, diags);
	for (size_t i = 0; i < mreg_diag_count(diags); i++)
		free(mreg_diag_format(mreg_diag_get(diags, i)));
	mreg_diag_list_free(diags);
	if (mlflow_describe_text((const char *)data, size, &text) == 0 && text) {
		j = json_loads(text, 0, NULL);
		if (!json_is_object(j))
			abort(); /* describe must hand the record a JSON object */
		json_decref(j);
	}
	free(text);
	return 0;
}
