/* libyaml helpers: bounded loading with positioned errors, resolving plain scalars, access, emitting. */
#ifndef MREG_YAMLUTIL_H
#define MREG_YAMLUTIL_H

#include <stdbool.h>
#include <stdio.h>

#include <yaml.h>

#include "strutil.h"

/*
 * Loading: one bounded loader for every YAML text mreg reads (yaml_load.c).
 * A first pass over libyaml's events refuses what must never be built
 * (nesting too deep, aliases where none belong; libyaml's scanner is also
 * quadratic in the flow nesting depth), then libyaml builds the document,
 * then, when aliases are allowed and used, the graph is checked once so that
 * later recursive walks are bounded: libyaml's loader builds a graph, not a
 * tree; an alias is a second edge to the anchored node, "&a [*a]" a cycle.
 */
typedef struct {
	size_t max_bytes;  /* a longer text is refused (YU_ETOO_LARGE) */
	int max_depth;     /* deeper nesting is refused (YU_ETOO_DEEP, YU_ETOO_DEEP_EXPANDED) */
	size_t max_nodes;  /* with aliases: more nodes once they are expanded is refused, and
			    * so are recursive aliases; 0: the graph is not checked */
	bool aliases;      /* false: any alias is refused (YU_EALIAS) */
	bool whole_stream; /* every document is parsed (a syntax error anywhere fails) and a
			    * second one is noted in yu_load_info; false: only the first
			    * document counts, as with yaml_parser_load() */
	bool untagged_null; /* a scalar written without a tag gets a NULL tag, so that an
			     * explicit !!str (or !) is told apart from a plain scalar whose
			     * type is still to be resolved; libyaml gives both the str tag */
} yu_limits;

typedef enum {
	YU_OK,
	YU_ENOMEM,
	YU_ETOO_LARGE,          /* more than max_bytes */
	YU_ENOT_TEXT,           /* libyaml's reader: not UTF-8/16, or a control character */
	YU_ESYNTAX,             /* libyaml's scanner, parser or composer */
	YU_ETOO_DEEP,           /* nested deeper than max_depth */
	YU_EALIAS,              /* an alias, and aliases are not allowed */
	YU_ERECURSIVE,          /* an alias inside the node it names */
	YU_ETOO_DEEP_EXPANDED,  /* nested deeper than max_depth once aliases are expanded */
	YU_ETOO_MANY_NODES,     /* more than max_nodes once aliases are expanded */
} yu_status;

/* What yu_load() found; positions are 1-based, 0 when there is none. */
typedef struct {
	yu_status status;
	unsigned int line, column;  /* where the problem is */
	const char *problem;        /* YU_ESYNTAX, YU_ENOT_TEXT: libyaml's words (static) */
	const char *context;        /* YU_ESYNTAX: what libyaml was reading, or NULL */
	unsigned int context_line, context_column;
	int byte;                   /* YU_ENOT_TEXT: the offending byte, or -1 */
	unsigned int second_line, second_column; /* whole_stream: where a second document starts */
} yu_load_info;

/*
 * Parse @len bytes of @data into @doc within @limits; returns info->status.
 * An empty text gives a document without a root node. Afterwards @doc must be
 * released with yaml_document_delete() whatever the status: it is empty
 * unless the text parsed, and after YU_ERECURSIVE, YU_ETOO_DEEP_EXPANDED or
 * YU_ETOO_MANY_NODES it holds the graph, which must then not be walked
 * recursively without checking for cycles.
 */
yu_status yu_load(yaml_document_t *doc, const char *data, size_t len, const yu_limits *limits,
		  yu_load_info *info);

/* Bounds on what mreg's own YAML files (records, config, model.yml) may hold. */
#define YU_MAX_BYTES (256u << 20)
#define YU_MAX_DEPTH 64

/*
 * Load the single document of @path into @doc with yu_load(): at most
 * YU_MAX_BYTES, YU_MAX_DEPTH levels and (unless @aliases) no alias (aliases
 * could expand exponentially where nodes are walked); what goes past them is
 * refused like a syntax error. On a syntax error returns @errcode with the
 * message "PATH:LINE:COL: PROBLEM"; when @line/@col are not NULL they receive
 * the 1-based position. An empty file gives a document without a root node
 * (yaml_document_get_root_node() returns NULL). MREG_ENOTFOUND / MREG_EIO
 * when the file cannot be read. On failure @doc needs no deleting.
 */
int yu_load_file(yaml_document_t *doc, const char *path, int errcode, bool aliases,
		 unsigned int *line, unsigned int *col, char *problem, size_t problem_size);

/*
 * Stream the single document of @f (@path names it in messages) as
 * yu_load_file(@aliases false) loads it, with the same limits and the same
 * errors, through libyaml's event parser: the text is never held whole.
 * The items of the list that is the value of the root mapping's key
 * @divert (its first occurrence) are not put in @doc: each is composed
 * alone, as the root of a document of its own, handed to @fn, then
 * dropped; @doc holds an empty list there, at the list's position. So the
 * memory is that of @doc and of one item, whatever the list's length. A
 * non-zero return of @fn stops the load and is returned. Items are handed
 * over as they are read: a syntax error further on still fails the load,
 * so what @fn was given counts only once this returns 0. On failure @doc
 * needs no deleting.
 */
typedef int (*yu_item_fn)(void *ctx, yaml_document_t *item);
int yu_stream_file(yaml_document_t *doc, FILE *f, const char *path, int errcode,
		   const char *divert, yu_item_fn fn, void *ctx);

/*
 * Resolving: what a plain (unquoted) scalar stands for (yaml_resolve.c). The
 * one table of YAML's implicit types, read two ways.
 */
typedef enum {
	YU_STR,
	YU_NULL,
	YU_BOOL,
	YU_INT,
	YU_FLOAT,
	YU_TIMESTAMP,
} yu_type;

typedef enum {
	/* PyYAML's SafeLoader (YAML 1.1), as MLflow reads MLmodel. A text longer
	 * than 100 bytes or holding a NUL is taken for a string. */
	YU_PYYAML,
	/* What some reader may take for something else than a string: PyYAML's
	 * types, and also YAML 1.1's y/n booleans (which PyYAML leaves out), YAML
	 * 1.2's floats without a dot (1e3), 0o17, and looser numbers and dates.
	 * A string written plain must resolve to YU_STR here. */
	YU_CAUTIOUS,
} yu_schema;

/* The type of the plain scalar @s (@len bytes) under @schema. */
yu_type yu_resolve(const char *s, size_t len, yu_schema schema);

/* The value node of @key in mapping @map, or NULL. */
yaml_node_t *yu_map_get(yaml_document_t *doc, yaml_node_t *map, const char *key);

/* The text of a scalar node, or NULL for a non-scalar. */
const char *yu_scalar(const yaml_node_t *node);

/* True when a scalar was written without quotes (so it may be a number, bool, null). */
bool yu_plain(const yaml_node_t *node);

/* "mapping", "sequence" or "scalar". */
const char *yu_kind(const yaml_node_t *node);

/* True when plain @s could be read back as something other than a string:
 * yu_resolve(@s, YU_CAUTIOUS) is not YU_STR. (Text that plain style cannot
 * hold at all, like ": x", libyaml's emitter quotes by itself.) */
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
