/*
 * Protobuf text format parser. The tokenizer mirrors protobuf's
 * io::Tokenizer (src/google/protobuf/io/tokenizer.cc) as configured by
 * TextFormat::Parser by default: shell-style comments, 'f' allowed after a
 * float, a number must not run into an identifier, strings must not cross
 * lines. The first error stops the parse, as it stops TextFormat.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mreg/error.h"
#include "triton/pbtxt.h"

typedef enum { TK_END, TK_IDENT, TK_INT, TK_FLOAT, TK_STRING, TK_SYMBOL } tk_type;

typedef struct {
	tk_type type;
	const char *start;
	size_t len;
	unsigned int line, column;
} token;

typedef struct {
	const char *p, *end;
	unsigned int line, column;
	token cur, prev;
	const pbtxt_schema *schema;
	pbtxt_error *err;
	bool failed;
	bool nomem;
	bool lexing; /* inside next_token */
} parser;

static bool is_letter(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_octal(int c)
{
	return c >= '0' && c <= '7';
}

static int hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

static void fail_at(parser *ps, unsigned int line, unsigned int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_at(parser *ps, unsigned int line, unsigned int column, const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = true;
	ps->err->line = line;
	ps->err->column = column;
	ps->err->tline = ps->cur.line;
	ps->err->tcolumn = ps->cur.column;
	ps->err->lexical = ps->lexing;
	va_start(ap, fmt);
	vsnprintf(ps->err->message, sizeof(ps->err->message), fmt, ap);
	va_end(ap);
}

static int peekc(const parser *ps)
{
	return ps->p < ps->end ? (unsigned char)*ps->p : -1;
}

static void advance(parser *ps)
{
	if (ps->p >= ps->end)
		return;
	if (*ps->p == '\n') {
		ps->line++;
		ps->column = 1;
	} else if (*ps->p == '\t') {
		/* protobuf's tokenizer: a tab runs to the next multiple of 8
		 * (counted from 0). */
		ps->column += 8 - (ps->column - 1) % 8;
	} else {
		ps->column++;
	}
	ps->p++;
}

/* Skip whitespace and '#' comments; report characters protobuf refuses. */
static void skip_space(parser *ps)
{
	for (;;) {
		int c = peekc(ps);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
			advance(ps);
		} else if (c == '#') {
			/* A NUL ends a comment too (protobuf reads it as the end of
			 * its buffer), and is then refused as a control character. */
			while (ps->p < ps->end && *ps->p != '\n' && *ps->p != '\0')
				advance(ps);
		} else {
			return;
		}
	}
}

static void lex_number(parser *ps, bool started_with_zero, bool started_with_dot)
{
	bool is_float = false;
	int c;

	if (started_with_zero && (peekc(ps) == 'x' || peekc(ps) == 'X')) {
		advance(ps);
		if (!is_hex(peekc(ps))) {
			fail_at(ps, ps->line, ps->column, "\"0x\" must be followed by hex digits.");
			return;
		}
		while (is_hex(peekc(ps)))
			advance(ps);
	} else if (started_with_zero && is_digit(peekc(ps))) {
		while (is_octal(peekc(ps)))
			advance(ps);
		if (is_digit(peekc(ps))) {
			fail_at(ps, ps->line, ps->column,
			        "Numbers starting with leading zero must be in octal.");
			return;
		}
	} else {
		if (started_with_dot) {
			is_float = true;
			while (is_digit(peekc(ps)))
				advance(ps);
		} else {
			while (is_digit(peekc(ps)))
				advance(ps);
			if (peekc(ps) == '.') {
				is_float = true;
				advance(ps);
				while (is_digit(peekc(ps)))
					advance(ps);
			}
		}
		if (peekc(ps) == 'e' || peekc(ps) == 'E') {
			is_float = true;
			advance(ps);
			if (peekc(ps) == '-' || peekc(ps) == '+')
				advance(ps);
			if (!is_digit(peekc(ps))) {
				fail_at(ps, ps->line, ps->column,
				        "\"e\" must be followed by exponent.");
				return;
			}
			while (is_digit(peekc(ps)))
				advance(ps);
		}
		if (peekc(ps) == 'f' || peekc(ps) == 'F') {
			is_float = true;
			advance(ps);
		}
	}
	c = peekc(ps);
	if (c >= 0 && is_letter(c)) {
		fail_at(ps, ps->line, ps->column, "Need space between number and identifier.");
		return;
	}
	if (c == '.') {
		fail_at(ps, ps->line, ps->column,
		        is_float ? "Already saw decimal point or exponent; can't have another one."
		                 : "Hex and octal numbers must be integers.");
		return;
	}
	ps->cur.type = is_float ? TK_FLOAT : TK_INT;
}

/* Check a string literal's syntax; decoding happens later (decode_string). */
static void lex_string(parser *ps, int delim)
{
	for (;;) {
		int c = peekc(ps);
		if (c < 0) {
			fail_at(ps, ps->line, ps->column, "Unexpected end of string.");
			return;
		}
		if (c == 0) {
			fail_at(ps, ps->line, ps->column, "Unexpected end of string.");
			return;
		}
		if (c == '\n') {
			fail_at(ps, ps->line, ps->column,
			        "String literals cannot cross line boundaries.");
			return;
		}
		if (c == delim) {
			advance(ps);
			ps->cur.type = TK_STRING;
			return;
		}
		if (c != '\\') {
			advance(ps);
			continue;
		}
		advance(ps);
		c = peekc(ps);
		if (c > 0 && strchr("abfnrtv\\?'\"", c)) {
			advance(ps);
		} else if (is_octal(c)) {
			advance(ps);
		} else if (c == 'x') {
			advance(ps);
			if (!is_hex(peekc(ps))) {
				fail_at(ps, ps->line, ps->column,
				        "Expected hex digits for escape sequence.");
				return;
			}
		} else if (c == 'u') {
			advance(ps);
			for (int i = 0; i < 4; i++) {
				if (!is_hex(peekc(ps))) {
					fail_at(
					    ps, ps->line, ps->column,
					    "Expected four hex digits for \\u escape sequence.");
					return;
				}
				advance(ps);
			}
		} else if (c == 'U') {
			/* As protobuf's tokenizer checks it: "00", then 0 or 1, then
			 * five hex digits, so up to 0x1fffff (beyond 0x10ffff the
			 * escape is kept as written when decoded). */
			advance(ps);
			for (int i = 0; i < 8; i++) {
				int h = peekc(ps);
				bool fits = i < 2 ? h == '0' : i == 2 ? (h == '0' || h == '1') : is_hex(h);
				if (!fits) {
					fail_at(ps, ps->line, ps->column,
					        "Expected eight hex digits up to 10ffff for \\U "
					        "escape sequence");
					return;
				}
				advance(ps);
			}
		} else {
			fail_at(ps, ps->line, ps->column,
			        "Invalid escape sequence in string literal.");
			return;
		}
	}
}

/* Read the next token into ps->cur. */
static void lex_token(parser *ps)
{
	int c;

	if (ps->failed) {
		ps->cur.type = TK_END;
		return;
	}
	skip_space(ps);
	ps->prev = ps->cur;
	ps->cur.start = ps->p;
	ps->cur.line = ps->line;
	ps->cur.column = ps->column;
	ps->cur.len = 0;
	c = peekc(ps);
	if (c < 0) {
		ps->cur.type = TK_END;
		return;
	}
	if (c < ' ') {
		fail_at(ps, ps->line, ps->column,
		        "Invalid control characters encountered in text.");
		ps->cur.type = TK_END;
		return;
	}
	if (c >= 0x80) {
		fail_at(ps, ps->line, ps->column, "Interpreting non ascii codepoint %d.", c);
		ps->cur.type = TK_END;
		return;
	}
	if (is_letter(c)) {
		while (peekc(ps) >= 0 && (is_letter(peekc(ps)) || is_digit(peekc(ps))))
			advance(ps);
		ps->cur.type = TK_IDENT;
	} else if (is_digit(c)) {
		advance(ps);
		lex_number(ps, c == '0', false);
	} else if (c == '.') {
		advance(ps);
		if (is_digit(peekc(ps))) {
			/* "blah.123" */
			if (ps->prev.type == TK_IDENT && ps->prev.line == ps->cur.line &&
			    ps->prev.start + ps->prev.len == ps->cur.start) {
				fail_at(ps, ps->cur.line, ps->cur.column,
				        "Need space between identifier and decimal point.");
				ps->cur.type = TK_END;
				return;
			}
			lex_number(ps, false, true);
		} else
			ps->cur.type = TK_SYMBOL;
	} else if (c == '"' || c == '\'') {
		advance(ps);
		lex_string(ps, c);
	} else {
		advance(ps);
		ps->cur.type = TK_SYMBOL;
	}
	if (ps->failed) {
		ps->cur.type = TK_END;
		return;
	}
	ps->cur.len = (size_t)(ps->p - ps->cur.start);
}

static void next_token(parser *ps)
{
	ps->lexing = true;
	lex_token(ps);
	ps->lexing = false;
}

static bool looking_at(const parser *ps, char sym)
{
	return ps->cur.type == TK_SYMBOL && ps->cur.len == 1 && ps->cur.start[0] == sym;
}

static bool try_consume(parser *ps, char sym)
{
	if (!looking_at(ps, sym))
		return false;
	next_token(ps);
	return true;
}

/* The current token's text for an error message (bounded). */
static const char *tok_text(const parser *ps, char *buf, size_t size)
{
	size_t n = ps->cur.len;

	if (ps->cur.type == TK_END)
		return "";
	if (n > 160)
		n = 160;
	snprintf(buf, size, "%.*s%s", (int)n, ps->cur.start, n < ps->cur.len ? "..." : "");
	return buf;
}

/* protobuf's Consume(): the token found is quoted as written, "" at the end. */
static void fail_expected(parser *ps, const char *what)
{
	char buf[192];

	fail_at(ps, ps->cur.line, ps->cur.column, "Expected \"%s\", found \"%s\".", what,
	        tok_text(ps, buf, sizeof(buf)));
}

/* protobuf's "Expected <kind>, got: <token>" ("" at the end). */
static void fail_got(parser *ps, const char *what)
{
	char buf[192];

	fail_at(ps, ps->cur.line, ps->cur.column, "Expected %s, got: %s", what,
	        tok_text(ps, buf, sizeof(buf)));
}

static char *dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static size_t put_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static unsigned long read_hex(const char **pp, const char *end, int max)
{
	unsigned long v = 0;

	for (int i = 0; i < max && *pp < end && is_hex((unsigned char)**pp); i++, (*pp)++)
		v = v * 16 + (unsigned long)hex_value((unsigned char)**pp);
	return v;
}

/*
 * Append the decoded bytes of one literal (quotes included, syntax already
 * checked) to out, which has room for its length: decoding never grows.
 */
static size_t decode_string(char *out, const char *lit, size_t n)
{
	const char *p = lit + 1, *end = lit + n - 1;
	size_t o = 0;

	while (p < end) {
		if (*p != '\\') {
			out[o++] = *p++;
			continue;
		}
		p++;
		if (is_octal((unsigned char)*p)) {
			unsigned int v = 0;
			for (int i = 0; i < 3 && p < end && is_octal((unsigned char)*p); i++, p++)
				v = v * 8 + (unsigned int)(*p - '0');
			out[o++] = (char)(v & 0xff);
		} else if (*p == 'x') {
			p++;
			out[o++] = (char)read_hex(&p, end, 2);
		} else if (*p == 'u' || *p == 'U') {
			int digits = *p == 'u' ? 4 : 8;
			unsigned long cp;
			p++;
			cp = read_hex(&p, end, digits);
			if (cp > 0x10ffff) {
				/* protobuf's tokenizer keeps an escape beyond Unicode
				 * (up to 0x1fffff) as written, in its own spelling. */
				char esc[24];
				snprintf(esc, sizeof(esc), "\\U%08lx", cp & 0x1ffffful);
				memcpy(out + o, esc, 10);
				o += 10;
				continue;
			}
			/* A high surrogate followed by \u and a low one is one code point. */
			if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u') {
				const char *q = p + 2;
				unsigned long lo = read_hex(&q, end, 4);
				if (q == p + 6 && lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p = q;
				}
			}
			o += put_utf8(out + o, cp);
		} else {
			switch (*p) {
			case 'a':
				out[o++] = '\a';
				break;
			case 'b':
				out[o++] = '\b';
				break;
			case 'f':
				out[o++] = '\f';
				break;
			case 'n':
				out[o++] = '\n';
				break;
			case 'r':
				out[o++] = '\r';
				break;
			case 't':
				out[o++] = '\t';
				break;
			case 'v':
				out[o++] = '\v';
				break;
			default:
				out[o++] = *p;
				break;
			}
			p++;
		}
	}
	return o;
}

/* Grow an array whose length is a count: realloc at each power of two. */
static bool grow(void **items, size_t count, size_t size)
{
	if (count && (count & (count - 1)))
		return true;
	void *n = realloc(*items, (count ? count * 2 : 1) * size);
	if (!n)
		return false;
	*items = n;
	return true;
}

static void value_dispose(pbtxt_value *v)
{
	free(v->raw);
	free(v->text);
	pbtxt_free(v->msg);
}

void pbtxt_free(pbtxt_msg *msg)
{
	if (!msg)
		return;
	for (size_t i = 0; i < msg->count; i++) {
		pbtxt_field *f = &msg->fields[i];
		for (size_t j = 0; j < f->count; j++)
			value_dispose(&f->values[j]);
		free(f->values);
		free(f->name);
	}
	free(msg->fields);
	free(msg);
}

/* What the schema says of the field being parsed (known false: nothing). */
typedef struct {
	bool known;
	pbtxt_ftype ft;
	bool repeated;
	const void *child;
} finfo;

static void parse_fields(parser *ps, pbtxt_msg *msg, int depth, const void *type);

static bool nomem(parser *ps)
{
	ps->nomem = true;
	fail_at(ps, ps->cur.line, ps->cur.column, "out of memory");
	return false;
}

/* A '{ ... }' or '< ... >' at the current token. */
static bool parse_message(parser *ps, pbtxt_value *v, int depth, const void *type)
{
	char close = looking_at(ps, '<') ? '>' : '}';

	v->kind = PBTXT_MESSAGE;
	v->line = v->tline = ps->cur.line;
	v->column = v->tcolumn = ps->cur.column;
	v->raw = dup_range(ps->cur.start, 1);
	v->msg = calloc(1, sizeof(*v->msg));
	if (!v->raw || !v->msg)
		return nomem(ps);
	v->msg->line = v->line;
	v->msg->column = v->column;
	if (depth + 1 > PBTXT_MAX_DEPTH) {
		fail_at(ps, ps->cur.line, ps->cur.column,
		        "Message is too deep, the parser exceeded the configured recursion limit "
		        "of %d.",
		        PBTXT_MAX_DEPTH);
		return false;
	}
	next_token(ps);
	parse_fields(ps, v->msg, depth + 1, type);
	if (ps->failed)
		return false;
	if (!try_consume(ps, close)) {
		fail_expected(ps, close == '}' ? "}" : ">");
		return false;
	}
	v->eline = ps->cur.line;
	v->ecolumn = ps->cur.column;
	return true;
}

/* A double may be written inf, infinity or nan, in any case; protobuf names
 * any other identifier lowercased. */
static bool double_ident_ok(parser *ps)
{
	char low[192];
	size_t n = ps->cur.len < sizeof(low) - 1 ? ps->cur.len : sizeof(low) - 1;

	for (size_t i = 0; i < n; i++) {
		char c = ps->cur.start[i];
		low[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	low[n] = '\0';
	if (!strcmp(low, "inf") || !strcmp(low, "infinity") || !strcmp(low, "nan"))
		return true;
	fail_at(ps, ps->cur.line, ps->cur.column, "Expected double, got: %s", low);
	return false;
}

/* protobuf's ConsumeFieldValue, as far as it looks at the kind of token:
 * true when the current token can start (or, after a '-', continue) a value
 * of type @ft; else fails with protobuf's message. */
static bool kind_ok(parser *ps, pbtxt_ftype ft, bool after_minus)
{
	tk_type t = ps->cur.type;
	const char *word;
	bool ok;

	switch (ft) {
	case PBTXT_F_INT:
	case PBTXT_F_UINT:
		ok = t == TK_INT;
		word = "integer";
		break;
	case PBTXT_F_ENUM:
		ok = t == TK_INT || (t == TK_IDENT && !after_minus);
		word = after_minus ? "integer" : "integer or identifier";
		break;
	case PBTXT_F_DOUBLE:
		if (t == TK_IDENT)
			return double_ident_ok(ps);
		ok = t == TK_INT || t == TK_FLOAT;
		word = "double";
		break;
	case PBTXT_F_STRING:
		ok = t == TK_STRING;
		word = "string";
		break;
	case PBTXT_F_BOOL:
		ok = t == TK_INT || t == TK_IDENT;
		word = "identifier";
		break;
	default:
		return true;
	}
	if (!ok)
		fail_got(ps, word);
	return ok;
}

static bool parse_scalar(parser *ps, pbtxt_value *v, const finfo *fi)
{
	char buf[192];

	v->line = ps->cur.line;
	v->column = ps->cur.column;
	if (looking_at(ps, '-')) {
		/* Only signed numbers (and enums, read as one) take a '-'. */
		if (fi->known && fi->ft != PBTXT_F_INT && fi->ft != PBTXT_F_DOUBLE &&
		    fi->ft != PBTXT_F_ENUM)
			return kind_ok(ps, fi->ft, false);
		v->negative = true;
		next_token(ps);
		if (ps->failed)
			return false;
		if (fi->known) {
			if (!kind_ok(ps, fi->ft, true))
				return false;
		} else if (ps->cur.type != TK_IDENT && ps->cur.type != TK_INT &&
		           ps->cur.type != TK_FLOAT) {
			fail_at(ps, ps->cur.line, ps->cur.column, "Expected number, got: %s",
			        tok_text(ps, buf, sizeof(buf)));
			return false;
		}
	} else if (fi->known && !kind_ok(ps, fi->ft, false)) {
		return false;
	}
	v->tline = ps->cur.line;
	v->tcolumn = ps->cur.column;
	switch (ps->cur.type) {
	case TK_IDENT:
	case TK_INT:
	case TK_FLOAT:
		v->kind = ps->cur.type == TK_IDENT ? PBTXT_IDENT
		          : ps->cur.type == TK_INT ? PBTXT_INT
		                                   : PBTXT_FLOAT;
		v->raw = dup_range(ps->cur.start, ps->cur.len);
		v->text = dup_range(ps->cur.start, ps->cur.len);
		if (!v->raw || !v->text)
			return nomem(ps);
		v->len = ps->cur.len;
		next_token(ps);
		v->eline = ps->cur.line;
		v->ecolumn = ps->cur.column;
		return !ps->failed;
	case TK_STRING: {
		/* Adjacent literals are one value; their decoded size never exceeds
		 * the source span they cover. */
		size_t cap = 0, n = 0;
		char *out;
		v->kind = PBTXT_STRING;
		v->raw = dup_range(ps->cur.start, ps->cur.len);
		if (!v->raw)
			return nomem(ps);
		parser save = *ps;
		while (ps->cur.type == TK_STRING) {
			cap += ps->cur.len;
			next_token(ps);
		}
		if (ps->failed)
			return false;
		*ps = save;
		out = malloc(cap + 1);
		if (!out)
			return nomem(ps);
		while (ps->cur.type == TK_STRING) {
			n += decode_string(out + n, ps->cur.start, ps->cur.len);
			next_token(ps);
		}
		out[n] = '\0';
		v->text = out;
		v->len = n;
		v->eline = ps->cur.line;
		v->ecolumn = ps->cur.column;
		return !ps->failed;
	}
	default:
		fail_got(ps, "value");
		return false;
	}
}

static bool parse_element(parser *ps, pbtxt_field *f, int depth, const finfo *fi)
{
	pbtxt_value *v;

	if (!grow((void **)&f->values, f->count, sizeof(*f->values)))
		return nomem(ps);
	v = &f->values[f->count++];
	memset(v, 0, sizeof(*v));
	if (fi->known && fi->ft == PBTXT_F_MESSAGE && !looking_at(ps, '{') && !looking_at(ps, '<')) {
		fail_expected(ps, "{");
	} else if ((!fi->known || fi->ft == PBTXT_F_MESSAGE) &&
	           (looking_at(ps, '{') || looking_at(ps, '<'))) {
		return parse_message(ps, v, depth, fi->known ? fi->child : NULL);
	} else if (parse_scalar(ps, v, fi)) {
		return true;
	}
	/* A value cut short is not kept: the partial tree holds only whole
	 * values (a message cut short keeps what it read). */
	value_dispose(v);
	f->count--;
	return false;
}

/* protobuf's extension syntax, "[full.type.name]" where a field name goes:
 * ModelConfig has no extensions, so this always ends in an error. */
static void parse_extension(parser *ps, const void *type)
{
	char name[160];
	size_t n = 0;

	next_token(ps);
	for (;;) {
		if (ps->failed)
			return;
		if (ps->cur.type != TK_IDENT) {
			fail_got(ps, "identifier");
			return;
		}
		n += (size_t)snprintf(name + n, sizeof(name) - n, "%s%.*s", n ? "." : "",
		                      (int)ps->cur.len, ps->cur.start);
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		next_token(ps);
		if (!try_consume(ps, '.'))
			break;
	}
	if (ps->failed)
		return;
	if (!try_consume(ps, ']')) {
		fail_expected(ps, "]");
		return;
	}
	fail_at(ps, ps->cur.line, ps->cur.column,
	        "Extension \"%s\" is not defined or is not an extension of \"%s\".", name,
	        ps->schema->type_name(type));
}

static void parse_field(parser *ps, pbtxt_msg *msg, int depth, const void *type)
{
	pbtxt_field *f;
	finfo fi = {0};

	if (ps->schema && type && looking_at(ps, '[')) {
		parse_extension(ps, type);
		return;
	}
	if (ps->cur.type != TK_IDENT) {
		fail_got(ps, "identifier");
		return;
	}
	if (!grow((void **)&msg->fields, msg->count, sizeof(*msg->fields))) {
		nomem(ps);
		return;
	}
	f = &msg->fields[msg->count++];
	memset(f, 0, sizeof(*f));
	f->line = ps->cur.line;
	f->column = ps->cur.column;
	f->name = dup_range(ps->cur.start, ps->cur.len);
	if (!f->name) {
		nomem(ps);
		return;
	}
	next_token(ps);
	f->nline = ps->cur.line;
	f->ncolumn = ps->cur.column;
	if (ps->failed)
		return;
	if (ps->schema && type)
		fi.known = ps->schema->field(type, f->name, &fi.ft, &fi.repeated, &fi.child);
	if (fi.known && fi.ft != PBTXT_F_MESSAGE && !looking_at(ps, ':')) {
		/* protobuf requires the colon before a scalar. */
		fail_expected(ps, ":");
		return;
	}
	f->colon = try_consume(ps, ':');
	f->vline = ps->cur.line;
	f->vcolumn = ps->cur.column;
	if (ps->failed)
		return;
	if (looking_at(ps, '[') && (!fi.known || fi.repeated)) {
		f->list = true;
		next_token(ps);
		if (try_consume(ps, ']'))
			goto separator;
		for (;;) {
			if (!parse_element(ps, f, depth, &fi))
				return;
			if (try_consume(ps, ']'))
				break;
			if (!try_consume(ps, ',')) {
				fail_expected(ps, ",");
				return;
			}
		}
	} else if (fi.known) {
		if (!parse_element(ps, f, depth, &fi))
			return;
	} else if (looking_at(ps, '{') || looking_at(ps, '<')) {
		if (!parse_element(ps, f, depth, &fi))
			return;
	} else {
		if (!f->colon && !(ps->cur.type == TK_IDENT || ps->cur.type == TK_INT ||
		                   ps->cur.type == TK_FLOAT || ps->cur.type == TK_STRING ||
		                   looking_at(ps, '-'))) {
			/* Whatever the field's type, protobuf stops here. */
			fail_expected(ps, ":");
			return;
		}
		if (!parse_element(ps, f, depth, &fi))
			return;
	}
separator:
	if (!try_consume(ps, ';'))
		try_consume(ps, ',');
}

static void parse_fields(parser *ps, pbtxt_msg *msg, int depth, const void *type)
{
	while (!ps->failed && ps->cur.type != TK_END && !looking_at(ps, '}') &&
	       !looking_at(ps, '>'))
		parse_field(ps, msg, depth, type);
	if (ps->failed)
		return;
	/* Inside a message protobuf reads fields up to a '}' or '>': at the
	 * end of the text it is looking for another field's name. */
	if (depth > 0 && ps->cur.type == TK_END)
		fail_got(ps, "identifier");
}

int pbtxt_parse_schema(pbtxt_msg **out, const char *text, size_t len, const pbtxt_schema *schema,
                       pbtxt_error *err)
{
	parser ps = {.p = text, .end = text + len, .line = 1, .column = 1, .schema = schema};
	pbtxt_error local;
	pbtxt_msg *root = calloc(1, sizeof(*root));
	const void *type = schema ? schema->root : NULL;

	*out = NULL;
	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	ps.err = err;
	if (!root)
		return MREG_ENOMEM;
	root->line = root->column = 1;
	next_token(&ps);
	for (;;) {
		parse_fields(&ps, root, 0, type);
		if (ps.failed || ps.cur.type == TK_END)
			break;
		/* A '}' or '>' at the top level closes nothing. */
		fail_got(&ps, "identifier");
	}
	if (ps.nomem) {
		pbtxt_free(root);
		return MREG_ENOMEM;
	}
	*out = root;
	return ps.failed ? MREG_EINVALID : 0;
}

int pbtxt_parse(pbtxt_msg **out, const char *text, size_t len, pbtxt_error *err)
{
	return pbtxt_parse_schema(out, text, len, NULL, err);
}

const char *pbtxt_value_token(const pbtxt_value *v)
{
	if (v->negative)
		return "-";
	return v->raw ? v->raw : "";
}

/* Protobuf's Tokenizer::ParseInteger: base from the prefix, fail above max. */
static bool parse_uint(const char *text, uint64_t max, uint64_t *out)
{
	const char *p = text;
	unsigned base = 10;
	uint64_t v = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0') {
		base = 8;
	}
	for (; *p; p++) {
		unsigned d = (unsigned)(is_digit((unsigned char)*p) ? *p - '0'
		                                                    : hex_value((unsigned char)*p));
		if (d >= base || d > max || v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

bool pbtxt_value_int(const pbtxt_value *v, int64_t min, int64_t max, int64_t *out, char *err,
                     size_t errlen)
{
	uint64_t u, limit;

	if (v->kind != PBTXT_INT) {
		snprintf(err, errlen, "Expected integer, got: %s", v->raw ? v->raw : "");
		return false;
	}
	limit = v->negative ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
	if (!parse_uint(v->text, limit, &u)) {
		snprintf(err, errlen, "Integer out of range (%s)", v->text);
		return false;
	}
	if (v->negative)
		*out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	else
		*out = (int64_t)u;
	return true;
}

bool pbtxt_value_uint(const pbtxt_value *v, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	if (v->negative || v->kind != PBTXT_INT) {
		snprintf(err, errlen, "Expected integer, got: %s", pbtxt_value_token(v));
		return false;
	}
	if (!parse_uint(v->text, max, out)) {
		snprintf(err, errlen, "Integer out of range (%s)", v->text);
		return false;
	}
	return true;
}

bool pbtxt_value_double(const pbtxt_value *v, double *out, char *err, size_t errlen)
{
	double d;

	switch (v->kind) {
	case PBTXT_INT: {
		uint64_t u;
		/* Protobuf reads an integer for a double as a decimal uint64. */
		if (v->text[0] == '0' && v->text[1] != '\0') {
			snprintf(err, errlen, "Expect a decimal number, got: %s", v->text);
			return false;
		}
		/* Beyond uint64 protobuf reads it as a float instead. */
		d = parse_uint(v->text, UINT64_MAX, &u) ? (double)u : strtod(v->text, NULL);
		break;
	}
	case PBTXT_FLOAT: {
		char buf[512];
		size_t n = v->len < sizeof(buf) - 1 ? v->len : sizeof(buf) - 1;
		memcpy(buf, v->text, n);
		buf[n] = '\0';
		if (n && (buf[n - 1] == 'f' || buf[n - 1] == 'F'))
			buf[n - 1] = '\0';
		errno = 0;
		d = strtod(buf, NULL);
		break;
	}
	case PBTXT_IDENT:
		if (!strcasecmp(v->text, "inf") || !strcasecmp(v->text, "infinity")) {
			d = INFINITY;
		} else if (!strcasecmp(v->text, "nan")) {
			d = NAN;
		} else {
			snprintf(err, errlen, "Expected double, got: %s", v->text);
			return false;
		}
		break;
	default:
		snprintf(err, errlen, "Expected double, got: %s", pbtxt_value_token(v));
		return false;
	}
	*out = v->negative ? -d : d;
	return true;
}

bool pbtxt_value_bool(const pbtxt_value *v, const char *field, bool *out, char *err, size_t errlen)
{
	if (v->kind == PBTXT_INT && !v->negative) {
		uint64_t u;
		if (!pbtxt_value_uint(v, 1, &u, err, errlen))
			return false;
		*out = u == 1;
		return true;
	}
	if (v->kind != PBTXT_IDENT || v->negative) {
		snprintf(err, errlen, "Expected identifier, got: %s", pbtxt_value_token(v));
		return false;
	}
	if (!strcmp(v->text, "true") || !strcmp(v->text, "True") || !strcmp(v->text, "t")) {
		*out = true;
	} else if (!strcmp(v->text, "false") || !strcmp(v->text, "False") ||
	           !strcmp(v->text, "f")) {
		*out = false;
	} else {
		snprintf(err, errlen, "Invalid value for boolean field \"%s\". Value: \"%s\".",
		         field, v->text);
		return false;
	}
	return true;
}
