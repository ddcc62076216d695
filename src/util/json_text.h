/*
 * Canonical JSON text written straight into a strbuf, byte for byte what
 * jansson's json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) gives for the same
 * value: no spaces, strings escaped as jansson escapes them (\" \\ \b \f \n
 * \r \t, other C0 controls as \uXXXX in upper-case hex, '/' and non-ASCII
 * as they are), integers in decimal.
 *
 * Why not jansson itself: an OCI manifest of a many-file version holds one
 * descriptor per file (a 5,000-file version is 3 MB of JSON). Building that
 * as a jansson tree and dumping it with sorted keys cost more than copying
 * the files into the bundle (perf: 28% of `mreg package`). These helpers
 * write the same text in one pass. Keys are not sorted for the caller: the
 * caller writes them in sorted order (strcmp), and tests/unit/test_json_text.c
 * checks every document mreg writes this way against jansson's own dump.
 * Small parts that are not hot (a record's annotations) still go through
 * jansson, with json_text_value().
 *
 * A string that is not valid UTF-8 (jansson's rules: no overlong forms, no
 * surrogates, nothing above U+10FFFF) fails the buffer (sb->failed), as
 * json_string() refuses it.
 */
#ifndef MREG_JSON_TEXT_H
#define MREG_JSON_TEXT_H

#include <stdint.h>

#include <jansson.h>

#include "util/strutil.h"

/* @s as a JSON string: quoted and escaped. */
void json_text_string(strbuf *sb, const char *s);

/* "@key": (the key escaped as a string, then a colon). */
void json_text_key(strbuf *sb, const char *key);

/* An unsigned integer. */
void json_text_uint(strbuf *sb, uint64_t v);

/* @v dumped by jansson (compact, keys sorted); a NULL @v fails the buffer. */
void json_text_value(strbuf *sb, const json_t *v);

/* A literal piece of JSON (punctuation, constant keys): a string literal only. */
#define json_text_lit(sb, lit) strbuf_add((sb), "" lit, sizeof(lit) - 1)

#endif
