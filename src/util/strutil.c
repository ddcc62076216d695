#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"

char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;

	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		out = NULL;
	va_end(ap);
	return out;
}

char *str_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (la > 0 && a[la - 1] == '/')
		return str_printf("%s%s", a, b);
	return str_printf("%s/%s", a, b);
}

bool str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s && i < n && list[i]; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

static bool strbuf_grow(strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (sb->failed)
		return false;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(sb->data, cap);
	if (!p) {
		sb->failed = true;
		return false;
	}
	sb->data = p;
	sb->cap = cap;
	return true;
}

void strbuf_add(strbuf *sb, const char *data, size_t len)
{
	if (!strbuf_grow(sb, len))
		return;
	memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void strbuf_puts(strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_printf(strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !strbuf_grow(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *strbuf_detach(strbuf *sb)
{
	char *out;

	if (sb->failed) {
		strbuf_dispose(sb);
		return NULL;
	}
	if (!sb->data && !strbuf_grow(sb, 0))
		return NULL;
	out = sb->data;
	sb->data = NULL;
	sb->len = sb->cap = 0;
	return out;
}

void strbuf_dispose(strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
	sb->failed = false;
}

bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

bool utf8_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return utf8_valid(s);
}

/* Length of the valid UTF-8 sequence at @p (1-4), or 0 when it is not one. */
static size_t utf8_seq_len(const unsigned char *p)
{
	size_t n;

	if (*p < 0x80)
		return 1;
	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if ((*p & 0xf0) == 0xe0)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* What @p (one character) must become, or NULL when it is fine as it is. */
static const char *escape_of(const unsigned char *p, size_t *len, char buf[8])
{
	*len = utf8_seq_len(p);
	if (*len == 0) {
		*len = 1;
		snprintf(buf, 8, "\\x%02x", *p);
		return buf;
	}
	if (*len == 1 && (*p < 0x20 || *p == 0x7f)) {
		if (*p == '\n')
			return "\\n";
		if (*p == '\r')
			return "\\r";
		if (*p == '\t')
			return "\\t";
		snprintf(buf, 8, "\\x%02x", *p);
		return buf;
	}
	if (*len == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
		snprintf(buf, 8, "\\u%04x", p[1]);
		return buf;
	}
	return NULL;
}

bool str_needs_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char buf[8];
	size_t len;

	for (; *p; p += len)
		if (escape_of(p, &len, buf))
			return true;
	return false;
}

void str_escape_controls(char *dst, size_t size, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t used = 0, len;
	char buf[8];

	if (!size)
		return;
	for (; *p; p += len) {
		const char *esc = escape_of(p, &len, buf);
		const char *from = esc ? esc : (const char *)p;
		size_t n = esc ? strlen(esc) : len;
		if (used + n >= size)
			break; /* cut whole characters only */
		memcpy(dst + used, from, n);
		used += n;
	}
	dst[used] = '\0';
}

bool array_room(void *items, size_t *cap, size_t count, size_t size, size_t first)
{
	void *array, *grown;
	size_t want;

	if (count < *cap)
		return true;
	want = *cap ? *cap * 2 : first;
	memcpy(&array, items, sizeof(array));
	if (want < *cap || want > SIZE_MAX / size || !(grown = realloc(array, want * size)))
		return false;
	memcpy(items, &grown, sizeof(grown));
	*cap = want;
	return true;
}
