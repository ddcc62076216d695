/* Canonical JSON text, as jansson's compact sorted dump writes it (json_text.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/json_text.h"

/*
 * Length of the UTF-8 sequence at @p when jansson accepts it (2-4), else 0:
 * lead bytes C2-F4, continuation bytes 80-BF, no overlong three- or four-byte
 * form, no surrogate (U+D800-U+DFFF), nothing above U+10FFFF.
 */
static size_t utf8_len(const unsigned char *p)
{
	size_t n;
	uint32_t cp;

	if (*p >= 0xc2 && *p <= 0xdf) {
		n = 2;
		cp = *p & 0x1fu;
	} else if (*p >= 0xe0 && *p <= 0xef) {
		n = 3;
		cp = *p & 0x0fu;
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 4;
		cp = *p & 0x07u;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void json_text_string(strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;

	json_text_lit(sb, "\"");
	while (*p) {
		const char *esc;
		char buf[8];
		size_t n;

		if (*p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0x80) {
			if (!(n = utf8_len(p))) {
				sb->failed = true;
				return;
			}
			p += n;
			continue;
		}
		strbuf_add(sb, (const char *)run, (size_t)(p - run));
		switch (*p) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			snprintf(buf, sizeof(buf), "\\u%04X", (unsigned int)*p);
			esc = buf;
		}
		strbuf_puts(sb, esc);
		run = ++p;
	}
	strbuf_add(sb, (const char *)run, (size_t)(p - run));
	json_text_lit(sb, "\"");
}

void json_text_key(strbuf *sb, const char *key)
{
	json_text_string(sb, key);
	json_text_lit(sb, ":");
}

void json_text_uint(strbuf *sb, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);

	strbuf_add(sb, buf, (size_t)n);
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	strbuf *sb = data;

	strbuf_add(sb, buffer, size);
	return sb->failed ? -1 : 0;
}

void json_text_value(strbuf *sb, const json_t *v)
{
	if (!v || json_dump_callback(v, dump_cb, sb,
				     JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY))
		sb->failed = true;
}
