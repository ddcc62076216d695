#include <string.h>

#include "path.h"
#include "strutil.h"

/* @n bytes at @p are @name, ASCII letters in any case (no locale). */
static bool component_is(const char *p, size_t n, const char *name)
{
	if (n != strlen(name))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != name[i])
			return false;
	}
	return true;
}

unsigned path_problems(const char *rel, unsigned flags)
{
	size_t len = strlen(rel);
	unsigned bad = 0;
	int depth = 0;

	if (len == 0)
		bad |= PATH_REJECT_EMPTY;
	if (rel[0] == '/')
		bad |= PATH_REJECT_ABSOLUTE;
	if ((len >= 3 && rel[1] == ':' && (rel[2] == '\\' || rel[2] == '/')) ||
	    str_starts_with(rel, "\\\\"))
		bad |= PATH_REJECT_DRIVE;
	if (strchr(rel, '\\'))
		bad |= PATH_REJECT_BACKSLASH;
	if (len > PATH_MAX_BYTES)
		bad |= PATH_REJECT_LONG;
	for (const unsigned char *c = (const unsigned char *)rel; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			bad |= PATH_REJECT_CONTROL;
	if ((flags & PATH_REJECT_NON_UTF8) && !utf8_valid(rel))
		bad |= PATH_REJECT_NON_UTF8;
	for (const char *p = rel;; p++) {
		size_t n = strcspn(p, "/");
		if (n == 0) {
			bad |= PATH_REJECT_EMPTY_COMPONENT;
		} else if (n == 1 && p[0] == '.') {
			bad |= PATH_REJECT_DOT_COMPONENT;
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			bad |= PATH_REJECT_TRAVERSAL;
			if (--depth < 0)
				bad |= PATH_REJECT_ESCAPE;
		} else {
			depth++;
		}
		if (n > PATH_COMPONENT_MAX_BYTES)
			bad |= PATH_REJECT_LONG_COMPONENT;
		if (component_is(p, n, ".git"))
			bad |= PATH_REJECT_DOTGIT;
		if (component_is(p, n, ".mreg"))
			bad |= PATH_REJECT_DOTMREG;
		p += n;
		if (!*p)
			break;
	}
	return bad & flags;
}

bool path_is_valid(const char *rel, unsigned flags)
{
	return path_problems(rel, flags) == 0;
}
