/* Small string helpers: formatted allocation, growable buffers, paths. */
#ifndef MREG_STRUTIL_H
#define MREG_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* malloc'd printf; NULL when out of memory. */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* strdup that accepts NULL (returning NULL). */
char *str_dup(const char *s);

/* "a" + "/" + "b" (no doubled slash); NULL when out of memory. */
char *path_join(const char *a, const char *b);

/* True when @s starts with @prefix. */
bool str_starts_with(const char *s, const char *prefix);

/*
 * True when @s equals one of the first @n strings of @list; a NULL entry ends
 * the list early, and a NULL @s is in no list.
 */
bool str_in_list(const char *s, const char *const *list, size_t n);

/* str_in_list() over a whole array. */
#define STR_IN_ARRAY(s, array) str_in_list((s), (array), sizeof(array) / sizeof(*(array)))

/* True when @s is valid UTF-8 (control characters allowed). */
bool utf8_valid(const char *s);

/* True when @s is valid UTF-8 without control characters (C0 or DEL). */
bool utf8_printable(const char *s);

/*
 * Copy @src into @dst (@size bytes, always NUL-terminated, cut if need be)
 * with everything a terminal could act on made visible: \n, \r, \t, other
 * C0 controls, DEL and bytes that are not UTF-8 as \xHH, and C1 controls
 * (U+0080-U+009F) as \u00HH. For human output of untrusted text (file names
 * from a model folder, fields of a bundle): JSON output escapes by itself.
 */
void str_escape_controls(char *dst, size_t size, const char *src);

/* True when str_escape_controls() would change @s. */
bool str_needs_escape(const char *s);

/* A growable NUL-terminated buffer. */
typedef struct {
	char *data;
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed; data is then unusable */
} strbuf;

#define STRBUF_INIT {NULL, 0, 0, false}

void strbuf_add(strbuf *sb, const char *data, size_t len);
void strbuf_puts(strbuf *sb, const char *s);
void strbuf_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take the string (caller frees); NULL if an allocation failed. */
char *strbuf_detach(strbuf *sb);
void strbuf_dispose(strbuf *sb);

/*
 * A growable array: make room for one more item in *@items (a pointer to the
 * array's pointer; @count items of @size bytes in use, room for *@cap), the
 * room doubled from @first. False when out of memory (the array unchanged).
 */
bool array_room(void *items, size_t *cap, size_t count, size_t size, size_t first);

#endif
