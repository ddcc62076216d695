/*
 * custom_model: any file or folder. Valid when every file can be read and
 * the tree holds no special files and no symlink that escapes it (walk.c
 * holds the rules, so that validation and ingest agree).
 */
#include <sys/stat.h>

#include "formats.h"
#include "util/walk.h"

/* Anything that exists could be a custom model, but any other type that
 * recognises the path knows better. */
static int custom_probe(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? 1 : 0;
}

static int custom_validate(const char *path, mreg_diag_list *diags)
{
	walk_result res;
	int rc = walk_model(&res, path, diags);

	walk_result_dispose(&res);
	return rc;
}

const mreg_format mreg_format_custom_model = {
	.version = MREG_FORMAT_VERSION,
	.name = "custom_model",
	.summary = "any file or folder: readable, no special files, no symlink escaping it",
	.probe = custom_probe,
	.validate = custom_validate,
	.describe = NULL,
};
