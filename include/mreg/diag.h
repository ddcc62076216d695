/**
 * @file mreg/diag.h
 * @brief Compiler-style diagnostics produced by format plugins.
 *
 * A diagnostic has a severity, a file, a line and column (0 when the problem
 * has no place in a file), a stable code such as "custom-symlink-escape" and a
 * message. Validation collects every problem; it never stops at the first.
 */
#ifndef MREG_DIAG_H
#define MREG_DIAG_H

#include <stddef.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How bad a diagnostic is. Only errors make a model invalid. */
typedef enum {
	MREG_DIAG_NOTE = 0,
	MREG_DIAG_WARNING = 1,
	MREG_DIAG_ERROR = 2,
} mreg_diag_severity;

/** One diagnostic. All strings are owned by the list that holds it. */
typedef struct {
	mreg_diag_severity severity;
	const char *file;    /**< Path as the user gave it (joined with the model path). */
	unsigned int line;   /**< 1-based; 0 when unknown. */
	unsigned int column; /**< 1-based; 0 when unknown. */
	const char *code;    /**< Stable identifier, e.g. "mlflow-flavor". */
	const char *message; /**< One line, no trailing period. */
} mreg_diag;

/** An ordered list of diagnostics. */
typedef struct mreg_diag_list mreg_diag_list;

/** Allocate an empty list. Returns MREG_ENOMEM on failure. */
MREG_API int mreg_diag_list_new(mreg_diag_list **out);

/** Free a list and every diagnostic in it. Accepts NULL. */
MREG_API void mreg_diag_list_free(mreg_diag_list *list);

/**
 * Append a diagnostic; the strings are copied and the message is formatted
 * printf-style. line/column may be 0. Returns MREG_ENOMEM on failure.
 */
MREG_API int mreg_diag_add(mreg_diag_list *list, mreg_diag_severity severity, const char *file,
		  unsigned int line, unsigned int column, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/** Number of diagnostics in the list. */
MREG_API size_t mreg_diag_count(const mreg_diag_list *list);

/** Number of diagnostics of the given severity. */
MREG_API size_t mreg_diag_count_severity(const mreg_diag_list *list, mreg_diag_severity severity);

/** The i-th diagnostic (0-based), borrowed until the list is freed; NULL if out of range. */
MREG_API const mreg_diag *mreg_diag_get(const mreg_diag_list *list, size_t i);

/**
 * Sort the list by file, then line, then column, keeping the order of
 * diagnostics at the same place (stable). Plugins that check a file in
 * several passes call it so the report reads top to bottom.
 */
MREG_API void mreg_diag_sort(mreg_diag_list *list);

/**
 * Rename the files of diagnostics @p from and later: a file that is
 * @p old_prefix, or starts with @p old_prefix and '/', gets @p new_prefix
 * instead of @p old_prefix (a model checked where it was fetched to is then
 * reported under its URL). Returns MREG_ENOMEM on failure (then some may be
 * renamed, none lost).
 */
MREG_API int mreg_diag_rebase(mreg_diag_list *list, size_t from, const char *old_prefix,
			      const char *new_prefix);

/** "error", "warning" or "note". */
MREG_API const char *mreg_diag_severity_name(mreg_diag_severity severity);

/**
 * Format one diagnostic the way compilers do:
 * "path/MLmodel:12:3: error: message [code]" (":line:col" omitted when 0).
 * The file name and message come from untrusted models: control characters
 * and invalid UTF-8 in them are shown escaped (\x1b, \n, \u009b), so a
 * diagnostic is one line and nothing in it acts on a terminal. (Library
 * error messages, mreg_error_last(), are escaped the same way.)
 * Returns a malloc'd string the caller frees, or NULL when out of memory.
 */
MREG_API char *mreg_diag_format(const mreg_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
