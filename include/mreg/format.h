/**
 * @file mreg/format.h
 * @brief Format plugins: one per model type (custom_model, mlflow_model, triton_model).
 *
 * A plugin recognises a model path (probe), checks it (validate) and extracts
 * metadata worth recording (describe). Plugins read the model's files; they
 * never touch the store. The built-in plugins are listed in one static table
 * (formats/formats.c); auto-detection asks every plugin to probe and picks the
 * highest confidence, as libarchive bids on archive formats.
 */
#ifndef MREG_FORMAT_H
#define MREG_FORMAT_H

#include <stddef.h>

#include "diag.h"

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The interface version plugins are written against. */
#define MREG_FORMAT_VERSION 1

/** A format plugin. Instances are static and immutable. */
typedef struct mreg_format {
	/** MREG_FORMAT_VERSION. */
	unsigned int version;
	/** The Azure ML model type this plugin handles, e.g. "mlflow_model". */
	const char *name;
	/** One line for `mreg validate --help` and the man page. */
	const char *summary;
	/**
	 * How sure the plugin is that @p path (a file or directory) is of its
	 * type: 0 (not at all) to 100 (certain). Must be cheap: look at names
	 * and small files only.
	 */
	int (*probe)(const char *path);
	/**
	 * Check @p path and append every problem found to @p diags. Returns 0
	 * when validation ran (whatever it found), a negative MREG_E* code
	 * only when it could not run at all (out of memory).
	 */
	int (*validate)(const char *path, mreg_diag_list *diags);
	/**
	 * Optional (may be NULL). Metadata to keep in the record, as a JSON
	 * object in text form whose top-level keys become record fields (for
	 * example "flavors"). Sets *json_out to a malloc'd string, or NULL
	 * when there is nothing to record. Called only on a valid model.
	 */
	int (*describe)(const char *path, char **json_out);
} mreg_format;

/** Number of built-in formats. */
MREG_API size_t mreg_format_count(void);

/** The i-th built-in format (0-based) or NULL. */
MREG_API const mreg_format *mreg_format_at(size_t i);

/** The built-in format called @p name, or NULL. */
MREG_API const mreg_format *mreg_format_find(const char *name);

/**
 * Pick the format of @p path by asking every plugin to probe it.
 * Returns MREG_ENOTFOUND when the path does not exist (message set).
 */
MREG_API int mreg_format_detect(const mreg_format **out, const char *path);

/**
 * Validate @p path as @p format (or the detected format when NULL),
 * appending diagnostics to @p diags. On return *used (if not NULL) is the
 * format that ran. Returns 0 when validation ran, MREG_ENOTFOUND when the
 * path does not exist, MREG_ENOMEM.
 */
MREG_API int mreg_format_validate(const mreg_format *format, const char *path, mreg_diag_list *diags,
			 const mreg_format **used);

#ifdef __cplusplus
}
#endif
#endif
