/*
 * Character classes and the small grammars built from them, in ASCII only:
 * <ctype.h> answers by the locale, and a name that is valid in one locale
 * must be valid in all of them.
 */
#ifndef MREG_GRAMMAR_H
#define MREG_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>

static inline bool ascii_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool ascii_isupper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static inline bool ascii_islower(int c)
{
	return c >= 'a' && c <= 'z';
}

static inline bool ascii_isalnum(int c)
{
	return ascii_isdigit(c) || ascii_isupper(c) || ascii_islower(c);
}

/*
 * Versions and OCI tags share one grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 * (the distribution spec's tag; mreg_version_check() for versions).
 */
#define GRAMMAR_TAG_MAX 128

/* How many leading characters of @s the tag grammar allows (the length bound aside). */
size_t grammar_tag_span(const char *s);

/* True when @s is a tag: 1 to GRAMMAR_TAG_MAX characters, each allowed where it stands. */
bool grammar_tag_valid(const char *s);

#endif
