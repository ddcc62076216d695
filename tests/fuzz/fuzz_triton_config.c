/*
 * Fuzz target for the triton_model plugin as a whole: the input is the
 * config.pbtxt of model "m" in a small repository that also holds a plain
 * model "a" (so ensembles, step mappings and cycles get exercised), and
 * the repository is validated and described. Nothing may crash or leak,
 * whatever the config says.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats.h"
#include "mreg/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[256];

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if ((f = fopen(path, "wb"))) {
		fputs(text, f);
		fclose(f);
	}
}

static void dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdir(path, 0755);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/mreg-fuzz-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		abort();
	dir("a");
	dir("a/1");
	dir("m");
	dir("m/1");
	dir("m/warmup");
	put("a/1/model.onnx", "");
	put("m/1/model.onnx", "");
	put("a/config.pbtxt",
	    "name: \"a\" platform: \"onnxruntime_onnx\" max_batch_size: 8\n"
	    "input [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 16 ] } ]\n"
	    "output [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 16 ] } ]\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512];
	mreg_diag_list *diags = NULL;
	char *json = NULL;
	FILE *f;

	if (!root[0])
		setup();
	snprintf(path, sizeof(path), "%s/m/config.pbtxt", root);
	if (!(f = fopen(path, "wb")))
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (mreg_diag_list_new(&diags))
		return 0;
	mreg_format_triton_model.validate(root, diags);
	for (size_t i = 0; i < mreg_diag_count(diags); i++)
		free(mreg_diag_format(mreg_diag_get(diags, i)));
	mreg_diag_list_free(diags);
	if (mreg_format_triton_model.describe(root, &json) == 0)
		free(json);
	return 0;
}
