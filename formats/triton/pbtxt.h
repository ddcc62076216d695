/*
 * Protocol Buffers text format (the syntax of Triton's config.pbtxt), parsed
 * without a schema into a generic tree: messages hold fields in the order
 * written, fields hold one value or the elements of a `[ ... ]` list.
 *
 * The syntax follows protobuf's C++ TextFormat::Parser (the parser Triton
 * uses) with its default options: `#` comments, `name: value`,
 * `name { ... }`, `name < ... >`, `name: { ... }`, `name: [a, b]`, optional
 * `,` or `;` after a field, adjacent string literals joined, C escapes,
 * decimal/hex/octal integers, floats with an optional `f` suffix. Token
 * errors use protobuf's wording ("Need space between number and identifier.").
 *
 * What needs a schema is left to the caller and recorded instead: whether a
 * field had a colon (required before scalars), whether it used list syntax,
 * the kind of each value. pbtxt_value_int() and friends convert a scalar the
 * way protobuf does for a field of a given type, with protobuf's error text.
 */
#ifndef MREG_PBTXT_H
#define MREG_PBTXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protobuf's default recursion limit for nested messages. */
#define PBTXT_MAX_DEPTH 100

typedef enum {
	PBTXT_IDENT,   /* identifier: enum name, true/false, inf, nan */
	PBTXT_INT,     /* integer literal: decimal, 0x hex or 0 octal */
	PBTXT_FLOAT,   /* float literal: 1.5, .5, 2., 1e3, 1f */
	PBTXT_STRING,  /* one or more adjacent string literals, decoded */
	PBTXT_MESSAGE, /* { ... } or < ... > */
} pbtxt_kind;

typedef struct pbtxt_msg pbtxt_msg;

typedef struct {
	pbtxt_kind kind;
	unsigned int line, column; /* where the value starts (its '-' if any) */
	unsigned int tline, tcolumn; /* its number or name (after the '-', if any) */
	unsigned int eline, ecolumn; /* the token after the value */
	bool negative;             /* a '-' was written before the token */
	char *raw;                 /* the first token as written (with quotes) */
	char *text;                /* identifier/number text; decoded string bytes */
	size_t len;                /* length of text (a string may hold NUL bytes) */
	pbtxt_msg *msg;            /* PBTXT_MESSAGE */
	/* Filled by a schema checker: the converted scalar. */
	bool valid;
	union {
		int64_t i;
		uint64_t u;
		double d;
		bool b;
	} v;
} pbtxt_value;

typedef struct {
	char *name;
	unsigned int line, column;   /* of the name */
	unsigned int nline, ncolumn; /* of the token after the name */
	unsigned int vline, vcolumn; /* of the token after the name and ':' */
	bool colon;                  /* written with ':' */
	bool list;                   /* written as [ ... ] */
	pbtxt_value *values;         /* one value, or the list elements */
	size_t count;
	const void *decl; /* set by a schema checker */
} pbtxt_field;

struct pbtxt_msg {
	pbtxt_field *fields;
	size_t count;
	size_t cap;
	unsigned int line, column; /* of the opening brace; 1:1 for the root */
	const void *decl;          /* set by a schema checker */
};

/*
 * Field types as protobuf's parser tells them apart: what a field's value
 * must look like. A schema lets the parser follow protobuf's TextFormat
 * for the fields it knows (a colon required before a scalar, a message
 * value required after a message field's name, the value's token kind) and
 * word its errors as protobuf does ("Expected integer, got: }").
 */
typedef enum {
	PBTXT_F_MESSAGE,
	PBTXT_F_INT,    /* int32, int64: an optional '-' and an integer */
	PBTXT_F_UINT,   /* uint32, uint64: an integer */
	PBTXT_F_DOUBLE, /* float, double: '-'?, integer, float or inf/nan */
	PBTXT_F_BOOL,   /* an integer or an identifier */
	PBTXT_F_STRING, /* one or more string literals */
	PBTXT_F_ENUM,   /* an identifier, or '-'? and an integer */
} pbtxt_ftype;

typedef struct {
	const void *root; /* the root message's type */
	/* The full name of a message type, for errors ("inference.ModelConfig"). */
	const char *(*type_name)(const void *type);
	/* Field @name of message type @type: false when the type has none. */
	bool (*field)(const void *type, const char *name, pbtxt_ftype *ft, bool *repeated,
	              const void **child);
} pbtxt_schema;

/* A syntax error: 1-based position and protobuf's message. Columns count
 * bytes, and a tab advances to the next multiple of 8, as protobuf's
 * tokenizer counts them. */
typedef struct {
	unsigned int line, column;
	char message[256];
	/* The token the error was found in (where it starts), and whether the
	 * tokenizer found it while reading that token: protobuf's parser then
	 * reports it before anything it says about the token, such as an
	 * unknown field name just before it (see ts_check). */
	unsigned int tline, tcolumn;
	bool lexical;
} pbtxt_error;

/*
 * Parse @len bytes of @text. On success returns 0 and sets *out to the
 * root message. On a syntax error returns MREG_EINVALID, fills @err and
 * still sets *out to the part parsed before the error (never NULL), so a
 * caller can check what was read. MREG_ENOMEM when out of memory (*out NULL).
 */
int pbtxt_parse(pbtxt_msg **out, const char *text, size_t len, pbtxt_error *err);

/* The same with a schema (may be NULL): fields the schema knows are parsed
 * as protobuf parses them; unknown ones as pbtxt_parse does, for a schema
 * checker to report. */
int pbtxt_parse_schema(pbtxt_msg **out, const char *text, size_t len, const pbtxt_schema *schema,
                       pbtxt_error *err);

/* Free a tree. Accepts NULL. */
void pbtxt_free(pbtxt_msg *msg);

/*
 * Convert @v as protobuf converts a value for a field of a signed integer
 * type with range [@min, @max] (int32 or int64). On failure writes
 * protobuf's message ("Integer out of range (99999999999)",
 * "Expected integer, got: 1.5") into @err and returns false.
 */
bool pbtxt_value_int(const pbtxt_value *v, int64_t min, int64_t max, int64_t *out, char *err,
                     size_t errlen);

/* The same for unsigned types (uint32, uint64): '-' is refused. */
bool pbtxt_value_uint(const pbtxt_value *v, uint64_t max, uint64_t *out, char *err, size_t errlen);

/* Float and double fields: integers, floats, inf/infinity/nan (any case). */
bool pbtxt_value_double(const pbtxt_value *v, double *out, char *err, size_t errlen);

/* Bool fields: true/True/t, false/False/f, 0 and 1. @field names the field
 * in the error, as protobuf does. */
bool pbtxt_value_bool(const pbtxt_value *v, const char *field, bool *out, char *err, size_t errlen);

/* The token a value starts with as protobuf would quote it in an error:
 * "-" for a negative value, else the raw token ("{" for a message). */
const char *pbtxt_value_token(const pbtxt_value *v);

#endif
