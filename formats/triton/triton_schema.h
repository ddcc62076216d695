/*
 * Triton's model configuration schema (inference.ModelConfig in
 * triton-inference-server/common protobuf/model_config.proto) as a C table,
 * a checker that applies it to a pbtxt tree the way protobuf's TextFormat
 * parser would, and accessors for reading a checked tree with proto3
 * semantics (an unset scalar reads as its zero value, the last of repeated
 * singular settings wins).
 */
#ifndef MREG_TRITON_SCHEMA_H
#define MREG_TRITON_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "triton/pbtxt.h"

typedef enum {
	TS_DOUBLE,
	TS_FLOAT,
	TS_INT32,
	TS_INT64,
	TS_UINT32,
	TS_UINT64,
	TS_BOOL,
	TS_STRING,
	TS_ENUM,
	TS_MESSAGE,
} ts_type;

typedef struct {
	const char *name;
	int number;
} ts_enum_value;

typedef struct {
	const char *full_name;
	const ts_enum_value *values;
	size_t count;
} ts_enum;

typedef struct ts_message ts_message;

typedef struct {
	const char *name;
	int number;
	ts_type type;
	bool repeated;
	const char *oneof;         /* the oneof this field belongs to, or NULL */
	const ts_message *message; /* TS_MESSAGE (a map's entry type for maps) */
	const ts_enum *enumt;      /* TS_ENUM */
} ts_field;

struct ts_message {
	const char *full_name; /* "inference.ModelConfig" */
	const ts_field *fields;
	size_t count;
	bool map_entry; /* the synthetic key/value message of a map field */
};

/* The root message of config.pbtxt. */
extern const ts_message ts_model_config;

/* ModelConfig for pbtxt_parse_schema: parse config.pbtxt with it, so that
 * the syntax errors are protobuf's own for the fields Triton's schema has. */
extern const pbtxt_schema ts_pbtxt_schema;

/* Enums the validation rules name. */
extern const ts_enum ts_data_type;
extern const ts_enum ts_instance_group_kind;
extern const ts_enum ts_batch_input_kind;
extern const ts_enum ts_batch_output_kind;
extern const ts_enum ts_control_kind;

/* Every message type reachable from ModelConfig, for tests; NULL-terminated. */
extern const ts_message *const ts_all_messages[];

const ts_field *ts_field_find(const ts_message *m, const char *name);

/* The name of an enum value, or "" for a number the enum does not define
 * (protobuf's Name() of an unknown value). */
const char *ts_enum_name(const ts_enum *e, int64_t number);

/* Called once per schema error, in document order. */
typedef void (*ts_report_fn)(void *ctx, unsigned int line, unsigned int column, const char *msg);

/*
 * Check @root against ModelConfig: unknown fields, a colon missing before a
 * scalar, list syntax on a singular field, a singular field set twice, two
 * members of one oneof, value types, enum names, integer ranges. Stores
 * the converted scalars in the tree (pbtxt_value.valid and .v) and the
 * schema entries in pbtxt_field.decl / pbtxt_msg.decl. Returns the number
 * of errors reported through @report.
 */
size_t ts_check(pbtxt_msg *root, ts_report_fn report, void *ctx);

/*
 * Reading a checked tree. @m may be NULL (an absent message): then every
 * field reads as unset. Field names must exist in the schema.
 */
bool ts_has(const pbtxt_msg *m, const char *field);
const pbtxt_field *ts_last_field(const pbtxt_msg *m, const char *field);
const pbtxt_value *ts_last(const pbtxt_msg *m, const char *field);
const pbtxt_msg *ts_msg(const pbtxt_msg *m, const char *field);
const char *ts_str(const pbtxt_msg *m, const char *field);
int64_t ts_int(const pbtxt_msg *m, const char *field);
uint64_t ts_uint(const pbtxt_msg *m, const char *field);
double ts_double(const pbtxt_msg *m, const char *field);
bool ts_bool(const pbtxt_msg *m, const char *field);
/* Number of values of a repeated field (all occurrences, lists expanded). */
size_t ts_count(const pbtxt_msg *m, const char *field);

/* Walk the values of a (repeated) field in order. */
typedef struct {
	const pbtxt_msg *m;
	const char *name;
	size_t fi, vi;
} ts_iter;

void ts_iter_init(ts_iter *it, const pbtxt_msg *m, const char *field);
const pbtxt_value *ts_iter_next(ts_iter *it);

/* Map fields: the entries' key and value (NULL when absent). */
const pbtxt_value *ts_map_key(const pbtxt_value *entry);
const pbtxt_value *ts_map_value(const pbtxt_value *entry);

#endif
