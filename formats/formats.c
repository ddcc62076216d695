/*
 * Every built-in format plugin, in one table (a new plugin is one line here),
 * and the public lookup, detection and validation over that table.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "formats.h"
#include "util/error_priv.h"

const mreg_format *const mreg_builtin_formats[] = {
	&mreg_format_custom_model,
	&mreg_format_mlflow_model,
	&mreg_format_triton_model,
	NULL,
};

size_t mreg_format_count(void)
{
	size_t n = 0;

	while (mreg_builtin_formats[n])
		n++;
	return n;
}

const mreg_format *mreg_format_at(size_t i)
{
	return i < mreg_format_count() ? mreg_builtin_formats[i] : NULL;
}

const mreg_format *mreg_format_find(const char *name)
{
	for (size_t i = 0; mreg_builtin_formats[i]; i++)
		if (!strcmp(mreg_builtin_formats[i]->name, name))
			return mreg_builtin_formats[i];
	return NULL;
}

int mreg_format_detect(const mreg_format **out, const char *path)
{
	const mreg_format *best = NULL;
	int best_score = 0;
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return mreg_seterr(MREG_ENOTFOUND, "%s: no such file or folder", path);
		return mreg_seterr_errno("%s", path);
	}
	for (size_t i = 0; mreg_builtin_formats[i]; i++) {
		int score = mreg_builtin_formats[i]->probe(path);
		if (score > best_score) {
			best_score = score;
			best = mreg_builtin_formats[i];
		}
	}
	*out = best ? best : &mreg_format_custom_model;
	return 0;
}

int mreg_format_validate(const mreg_format *format, const char *path, mreg_diag_list *diags,
			 const mreg_format **used)
{
	int rc;

	if (!format && (rc = mreg_format_detect(&format, path)))
		return rc;
	if (used)
		*used = format;
	struct stat st;
	if (stat(path, &st) < 0)
		return mreg_seterr(MREG_ENOTFOUND, "%s: no such file or folder", path);
	return format->validate(path, diags);
}
