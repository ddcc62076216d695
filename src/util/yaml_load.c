/*
 * The bounded YAML loader (see yamlutil.h): an event pass that refuses what
 * must never be built, libyaml's loader, then a check of the graph when
 * aliases make one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error_priv.h"
#include "yamlutil.h"

static void at_mark(yu_load_info *info, yu_status status, yaml_mark_t mark)
{
	info->status = status;
	info->line = (unsigned int)mark.line + 1;
	info->column = (unsigned int)mark.column + 1;
}

/* Line and column (1-based) of byte @offset, for reader errors that carry no mark. */
static void offset_position(const char *data, size_t len, size_t offset, unsigned int *line,
			    unsigned int *column)
{
	unsigned int l = 1, col = 1;

	for (size_t i = 0; i < offset && i < len; i++) {
		if (data[i] == '\n') {
			l++;
			col = 1;
		} else if (((unsigned char)data[i] & 0xc0) != 0x80) {
			col++;
		}
	}
	*line = l;
	*column = col;
}

static yu_status parser_failed(const yaml_parser_t *p, const char *data, size_t len,
			       yu_load_info *info)
{
	if (p->error == YAML_MEMORY_ERROR)
		return info->status = YU_ENOMEM;
	info->problem = p->problem ? p->problem : "cannot parse";
	if (p->error == YAML_READER_ERROR) {
		info->status = YU_ENOT_TEXT;
		offset_position(data, len, p->problem_offset, &info->line, &info->column);
		info->byte = p->problem_value >= 0 ? p->problem_value & 0xff : -1;
		return info->status;
	}
	at_mark(info, YU_ESYNTAX, p->problem_mark);
	if (p->context) {
		info->context = p->context;
		info->context_line = (unsigned int)p->context_mark.line + 1;
		info->context_column = (unsigned int)p->context_mark.column + 1;
	}
	return info->status;
}

/*
 * One flag per node of the first document, in the order libyaml's loader
 * makes them (one per scalar, sequence start and mapping start event): true
 * for a scalar written without a tag.
 */
typedef struct {
	bool *untagged;
	size_t count, cap;
	bool failed;
} node_flags;

static void note_node(node_flags *f, bool untagged)
{
	if (f->failed)
		return;
	if (f->count == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		bool *grown = realloc(f->untagged, cap * sizeof(*grown));
		if (!grown) {
			f->failed = true;
			return;
		}
		f->untagged = grown;
		f->cap = cap;
	}
	f->untagged[f->count++] = untagged;
}

/*
 * The first pass: depth, aliases, documents; *aliased when the first document
 * uses an alias; @flags (when not NULL) the first document's untagged scalars.
 */
static yu_status scan_events(const char *data, size_t len, const yu_limits *limits,
			     yu_load_info *info, bool *aliased, node_flags *flags)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, documents = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		return info->status = YU_ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done && info->status == YU_OK) {
		if (!yaml_parser_parse(&p, &ev)) {
			/* Otherwise the load reports errors in the first document, and only those. */
			if (limits->whole_stream || p.error == YAML_MEMORY_ERROR)
				parser_failed(&p, data, len, info);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++documents == 2) {
				info->second_line = (unsigned int)ev.start_mark.line + 1;
				info->second_column = (unsigned int)ev.start_mark.column + 1;
			}
			break;
		case YAML_SCALAR_EVENT:
			if (flags && documents == 1)
				note_node(flags, !ev.data.scalar.tag);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (flags && documents == 1)
				note_node(flags, false);
			if (++depth > limits->max_depth)
				at_mark(info, YU_ETOO_DEEP, ev.start_mark);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			if (!limits->aliases)
				at_mark(info, YU_EALIAS, ev.start_mark);
			else if (documents == 1)
				*aliased = true;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return info->status;
}

typedef struct {
	yaml_document_t *doc;
	const yu_limits *limits;
	yu_load_info *info;
	unsigned char *state; /* per node: 0 unseen, 1 being visited, 2 visited, 3 measured */
	size_t *size;         /* nodes with aliases expanded */
	int *height;          /* levels below, aliases expanded */
	size_t shared;        /* nodes reached twice: aliases */
} graph;

static size_t node_index(const graph *g, const yaml_node_t *n)
{
	return (size_t)(n - g->doc->nodes.start);
}

static yaml_node_t *node(const graph *g, int id)
{
	return yaml_document_get_node(g->doc, id);
}

/* Depth first, keys before values, as the walks after it go. */
static void find_cycle(graph *g, yaml_node_t *n)
{
	size_t i;

	if (!n || g->info->status != YU_OK)
		return;
	i = node_index(g, n);
	if (g->state[i] == 1) {
		at_mark(g->info, YU_ERECURSIVE, n->start_mark);
		return;
	}
	if (g->state[i] == 2) {
		g->shared++;
		return;
	}
	g->state[i] = 1;
	if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top && g->info->status == YU_OK; p++) {
			find_cycle(g, node(g, p->key));
			find_cycle(g, node(g, p->value));
		}
	} else if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top && g->info->status == YU_OK; it++)
			find_cycle(g, node(g, *it));
	}
	g->state[i] = 2;
}

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Fold child @c into the size and height of its parent. */
static void add_child(graph *g, yaml_node_t *c, size_t *size, int *height)
{
	if (!c)
		return;
	*size = sat_add(*size, g->size[node_index(g, c)]);
	if (g->height[node_index(g, c)] + 1 > *height)
		*height = g->height[node_index(g, c)] + 1;
}

/* Size and height with aliases expanded, each node measured once; the graph is acyclic. */
static void measure(graph *g, yaml_node_t *n, int depth)
{
	size_t i, size = 1;
	int height = 0;

	if (!n || g->info->status != YU_OK)
		return;
	i = node_index(g, n);
	if (g->state[i] != 3) {
		if (depth > g->limits->max_depth)
			goto too_deep;
		if (n->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top; p++) {
				yaml_node_t *k = node(g, p->key), *v = node(g, p->value);
				measure(g, k, depth + 1);
				measure(g, v, depth + 1);
				if (g->info->status != YU_OK)
					return;
				add_child(g, k, &size, &height);
				add_child(g, v, &size, &height);
			}
		} else if (n->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = n->data.sequence.items.start;
			     it < n->data.sequence.items.top; it++) {
				yaml_node_t *v = node(g, *it);
				measure(g, v, depth + 1);
				if (g->info->status != YU_OK)
					return;
				add_child(g, v, &size, &height);
			}
		}
		g->size[i] = size;
		g->height[i] = height;
		g->state[i] = 3;
	}
	if (depth + g->height[i] > g->limits->max_depth)
		goto too_deep;
	return;
too_deep:
	at_mark(g->info, YU_ETOO_DEEP_EXPANDED, n->start_mark);
}

static yu_status check_graph(yaml_document_t *doc, const yu_limits *limits, yu_load_info *info)
{
	size_t count = (size_t)(doc->nodes.top - doc->nodes.start);
	yaml_node_t *root = yaml_document_get_root_node(doc);
	graph g = {.doc = doc, .limits = limits, .info = info};

	g.state = calloc(count ? count : 1, 1);
	if (!g.state)
		return info->status = YU_ENOMEM;
	find_cycle(&g, root);
	if (info->status == YU_OK && g.shared) {
		g.size = calloc(count, sizeof(*g.size));
		g.height = calloc(count, sizeof(*g.height));
		if (!g.size || !g.height)
			info->status = YU_ENOMEM;
		else
			measure(&g, root, 0);
		if (info->status == YU_OK && g.size[node_index(&g, root)] > limits->max_nodes)
			at_mark(info, YU_ETOO_MANY_NODES, root->start_mark);
	}
	free(g.state);
	free(g.size);
	free(g.height);
	return info->status;
}

/*
 * Drop the str tag libyaml gave the scalars @flags says were written without
 * one. The nodes are in event order; if the counts differ, nothing is touched.
 */
static void clear_default_tags(yaml_document_t *doc, const node_flags *flags)
{
	size_t count = (size_t)(doc->nodes.top - doc->nodes.start);

	if (count != flags->count)
		return;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *n = doc->nodes.start + i;
		if (flags->untagged[i] && n->type == YAML_SCALAR_NODE) {
			free(n->tag); /* libyaml's yaml_free is free() */
			n->tag = NULL;
		}
	}
}

yu_status yu_load(yaml_document_t *doc, const char *data, size_t len, const yu_limits *limits,
		  yu_load_info *info)
{
	yaml_parser_t p;
	bool aliased = false;
	node_flags flags = {0};

	memset(doc, 0, sizeof(*doc));
	memset(info, 0, sizeof(*info));
	info->byte = -1;
	if (len > limits->max_bytes)
		return info->status = YU_ETOO_LARGE;
	if (scan_events(data, len, limits, info, &aliased,
			limits->untagged_null ? &flags : NULL)) {
		free(flags.untagged);
		return info->status;
	}
	if (flags.failed) {
		free(flags.untagged);
		return info->status = YU_ENOMEM;
	}
	if (!yaml_parser_initialize(&p)) {
		free(flags.untagged);
		return info->status = YU_ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, doc)) {
		memset(doc, 0, sizeof(*doc));
		parser_failed(&p, data, len, info);
	} else if (limits->untagged_null) {
		clear_default_tags(doc, &flags);
	}
	free(flags.untagged);
	yaml_parser_delete(&p);
	if (info->status == YU_OK && aliased && limits->max_nodes &&
	    yaml_document_get_root_node(doc))
		check_graph(doc, limits, info);
	return info->status;
}

/* The whole of @f, up to @max + 1 bytes (more than @max: it grew since fstat). */
static int read_all(char **out, size_t *len, FILE *f, size_t max, const char *path)
{
	size_t cap = 4096, got = 0;
	char *buf = NULL, *bigger;

	for (;;) {
		bigger = realloc(buf, cap);
		if (!bigger) {
			free(buf);
			return mreg_seterr_nomem();
		}
		buf = bigger;
		got += fread(buf + got, 1, cap - got, f);
		if (got < cap || cap > max)
			break;
		cap = cap > max / 2 ? max + 1 : cap * 2;
	}
	if (ferror(f)) {
		free(buf);
		return mreg_seterr_errno("%s: read", path);
	}
	*out = buf;
	*len = got;
	return 0;
}

/* What yu_load_file() says when a limit is passed. */
static const char *limit_words(yu_status status)
{
	switch (status) {
	case YU_EALIAS: return "aliases (*name) are not allowed in this file";
	case YU_ERECURSIVE: return "recursive alias: this node contains itself";
	case YU_ETOO_MANY_NODES: return "aliases expand this document too far";
	default: return "nesting is too deep";
	}
}

int yu_load_file(yaml_document_t *doc, const char *path, int errcode, bool aliases,
		 unsigned int *line, unsigned int *col, char *problem, size_t problem_size)
{
	const yu_limits limits = {
		.max_bytes = YU_MAX_BYTES, .max_depth = YU_MAX_DEPTH, .aliases = aliases};
	yu_load_info info;
	struct stat st;
	char too_large[96];
	char *data = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	memset(doc, 0, sizeof(*doc));
	if (problem && problem_size)
		problem[0] = '\0';
	f = fopen(path, "rb");
	if (!f)
		return mreg_seterr_errno("%s", path);
	if (fstat(fileno(f), &st) == 0 && (uint64_t)st.st_size > YU_MAX_BYTES) {
		fclose(f);
		/* Every error says what is wrong, the diagnostic's text included. */
		if (line)
			*line = 0;
		if (col)
			*col = 0;
		if (problem)
			snprintf(problem, problem_size, "%lld bytes is too large for this file (at most %u)",
				 (long long)st.st_size, YU_MAX_BYTES);
		return mreg_seterr(errcode, "%s: %lld bytes is too large for this file (at most %u)",
				   path, (long long)st.st_size, YU_MAX_BYTES);
	}
	rc = read_all(&data, &len, f, YU_MAX_BYTES, path);
	fclose(f);
	if (rc)
		return rc;
	switch (yu_load(doc, data, len, &limits, &info)) {
	case YU_OK:
		free(data);
		return 0;
	case YU_ENOMEM:
		rc = mreg_seterr_nomem();
		break;
	case YU_ETOO_LARGE:
		snprintf(too_large, sizeof(too_large), "%zu bytes is too large for this file (at most %u)",
			 len, YU_MAX_BYTES);
		info.problem = too_large;
		info.context = NULL;
		info.line = info.column = 0;
		rc = mreg_seterr(errcode, "%s: %s", path, too_large);
		break;
	case YU_ENOT_TEXT:
		rc = mreg_seterr(errcode, "%s: %s", path, info.problem);
		info.line = info.column = 0;
		break;
	case YU_ESYNTAX:
		if (info.context)
			rc = mreg_seterr(errcode, "%s:%u:%u: %s %s", path, info.line, info.column,
					 info.problem, info.context);
		else
			rc = mreg_seterr(errcode, "%s:%u:%u: %s", path, info.line, info.column,
					 info.problem);
		break;
	default:
		info.problem = limit_words(info.status);
		rc = mreg_seterr(errcode, "%s:%u:%u: %s", path, info.line, info.column,
				 info.problem);
		break;
	}
	if (line)
		*line = info.line;
	if (col)
		*col = info.column;
	if (problem && info.problem)
		snprintf(problem, problem_size, "%s%s%s", info.problem, info.context ? " " : "",
			 info.context ? info.context : "");
	yaml_document_delete(doc);
	memset(doc, 0, sizeof(*doc));
	free(data);
	return rc;
}
