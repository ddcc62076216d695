/*
 * The one place that decides whether a relative path is acceptable, after
 * libgit2's git_fs_path_is_valid(path, GIT_FS_PATH_REJECT_*): each caller
 * names the rules it needs as flags, and path_problems() says which of them
 * a path breaks, so a caller can word its own message.
 */
#ifndef MREG_PATH_H
#define MREG_PATH_H

#include <stdbool.h>

#include "mreg/limits.h"

#define PATH_MAX_BYTES MREG_PATH_MAX                     /* PATH_REJECT_LONG */
#define PATH_COMPONENT_MAX_BYTES MREG_PATH_COMPONENT_MAX /* PATH_REJECT_LONG_COMPONENT */

/* A path is split on '/' into components: "a//b/" is "a", "", "b", "". */
enum {
	PATH_REJECT_EMPTY = 1u << 0,           /* "" */
	PATH_REJECT_ABSOLUTE = 1u << 1,        /* a leading '/' */
	PATH_REJECT_DRIVE = 1u << 2,           /* Windows absolute: "X:\", "X:/" (any byte X), "\\" */
	PATH_REJECT_BACKSLASH = 1u << 3,       /* a '\' anywhere */
	PATH_REJECT_EMPTY_COMPONENT = 1u << 4, /* "", "a//b", a leading or trailing '/' */
	PATH_REJECT_DOT_COMPONENT = 1u << 5,   /* a component "." */
	PATH_REJECT_TRAVERSAL = 1u << 6,       /* a component "..", wherever it leads */
	PATH_REJECT_ESCAPE = 1u << 7,          /* a ".." climbing above the start: "..", "a/../.." */
	PATH_REJECT_CONTROL = 1u << 8,         /* a C0 control character or DEL */
	PATH_REJECT_NON_UTF8 = 1u << 9,        /* bytes that are not UTF-8 */
	PATH_REJECT_LONG = 1u << 10,           /* more than PATH_MAX_BYTES bytes */
	PATH_REJECT_LONG_COMPONENT = 1u << 11, /* a component over PATH_COMPONENT_MAX_BYTES bytes */
	PATH_REJECT_DOTGIT = 1u << 12,         /* a component ".git" in any letter case */
	PATH_REJECT_DOTMREG = 1u << 13,        /* a component ".mreg" in any letter case */
};

/*
 * The subset of @flags that @rel breaks (0: acceptable). PATH_REJECT_ESCAPE
 * counts the components after a leading '/' as relative too: combine it with
 * PATH_REJECT_ABSOLUTE to refuse "/x".
 */
unsigned path_problems(const char *rel, unsigned flags);

/* True when @rel breaks none of @flags. */
bool path_is_valid(const char *rel, unsigned flags);

#endif
