#include <string.h>

#include "grammar.h"

size_t grammar_tag_span(const char *s)
{
	size_t i = 0;

	for (; s[i]; i++) {
		char c = s[i];
		if (!(ascii_isalnum(c) || c == '_' || (i > 0 && (c == '.' || c == '-'))))
			break;
	}
	return i;
}

bool grammar_tag_valid(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= GRAMMAR_TAG_MAX && grammar_tag_span(s) == len;
}
