/*
 * custom_model: any file or folder. Valid when every file can be read and
 * the tree holds no special files and no symlink that escapes it (walk.c
 * holds the rules, so that validation and ingest agree), and its weight
 * files (safetensors, GGUF, ONNX) have sound headers (weights/weights.h),
 * which describe() records.
 */
#include <sys/stat.h>

#include "formats.h"
#include "util/walk.h"
#include "weights/weights.h"

/* Anything that exists could be a custom model, but any other type that
 * recognises the path knows better. */
static int custom_probe(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? 1 : 0;
}

int custom_model_check_walk(const walk_result *walk, mreg_diag_list *diags)
{
	return weights_check_walk(walk, diags);
}

int custom_model_describe_walk(const walk_result *walk, char **json_out)
{
	*json_out = NULL;
	return weights_describe_walk(walk, json_out);
}

static int custom_validate(const char *path, mreg_diag_list *diags)
{
	walk_result res;
	int rc = walk_model(&res, path, diags);

	if (rc == 0)
		rc = custom_model_check_walk(&res, diags);
	walk_result_dispose(&res);
	return rc;
}

static int custom_describe(const char *path, char **json_out)
{
	*json_out = NULL;
	return weights_describe_add(path, json_out);
}

const mreg_format mreg_format_custom_model = {
	.version = MREG_FORMAT_VERSION,
	.name = "custom_model",
	.summary = "any file or folder: readable, no special files, no symlink escaping it; "
		   "safetensors, GGUF and ONNX headers checked",
	.probe = custom_probe,
	.validate = custom_validate,
	.describe = custom_describe,
};
