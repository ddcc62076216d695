/* libyaml helpers: loading a document with positioned errors, and emitting. */
#ifndef MREG_YAMLUTIL_H
#define MREG_YAMLUTIL_H

#include <stdbool.h>
#include <stdio.h>

#include <yaml.h>

#include "strutil.h"

/* Bounds on what mreg's own YAML files (records, config, model.yml) may hold. */
#define YU_MAX_BYTES (256u << 20)
#define YU_MAX_DEPTH 64

/*
 * Load the single document of @path into @doc. The file is first scanned
 * for its shape: larger than YU_MAX_BYTES, nested deeper than YU_MAX_DEPTH,
 * or (unless @aliases) using an alias, it is refused like a syntax error
 * (aliases could expand exponentially where nodes are walked). On a syntax error returns
 * @errcode with the message "PATH:LINE:COL: PROBLEM"; when @line/@col are
 * not NULL they receive the 1-based position. An empty file gives a document
 * without a root node (yaml_document_get_root_node() returns NULL).
 * MREG_ENOTFOUND / MREG_EIO when the file cannot be read.
 */
int yu_load_file(yaml_document_t *doc, const char *path, int errcode, bool aliases,
		 unsigned int *line, unsigned int *col, char *problem, size_t problem_size);

/* The value node of @key in mapping @map, or NULL. */
yaml_node_t *yu_map_get(yaml_document_t *doc, yaml_node_t *map, const char *key);

/* The text of a scalar node, or NULL for a non-scalar. */
const char *yu_scalar(const yaml_node_t *node);

/* True when a scalar was written without quotes (so it may be a number, bool, null). */
bool yu_plain(const yaml_node_t *node);

/* "mapping", "sequence" or "scalar". */
const char *yu_kind(const yaml_node_t *node);

/* True when plain @s would be read back as something other than a string
 * (YAML 1.1 numbers, booleans, null, or text that needs quoting). */
bool yu_needs_quotes(const char *s);

/* An emitter writing into a strbuf. */
typedef struct {
	yaml_emitter_t emitter;
	strbuf out;
	bool failed;
} yu_writer;

void yu_writer_init(yu_writer *w);
/* Finish the document; returns the text (caller frees) or NULL on failure. */
char *yu_writer_finish(yu_writer *w, size_t *len);
void yu_writer_dispose(yu_writer *w);

void yu_map_start(yu_writer *w);
void yu_map_end(yu_writer *w);
void yu_seq_start(yu_writer *w);
void yu_seq_end(yu_writer *w);
/* A string, quoted when plain would change its meaning. */
void yu_str(yu_writer *w, const char *s);
/* A plain scalar written as is (numbers, true/false, null). */
void yu_raw(yu_writer *w, const char *s);
/* key: "value" */
void yu_kv(yu_writer *w, const char *key, const char *value);

#endif
