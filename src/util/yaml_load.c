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

/*
 * The message of a failed load (what yu_load_file() says), @len the bytes
 * read; sets info->problem, line and column as the caller reports them.
 */
static int load_failed(yu_load_info *info, const char *path, int errcode, size_t len,
		       char *too_large, size_t too_large_size)
{
	int rc;

	switch (info->status) {
	case YU_ENOMEM: return mreg_seterr_nomem();
	case YU_ETOO_LARGE:
		snprintf(too_large, too_large_size,
			 "%zu bytes is too large for this file (at most %u)", len, YU_MAX_BYTES);
		info->problem = too_large;
		info->context = NULL;
		info->line = info->column = 0;
		return mreg_seterr(errcode, "%s: %s", path, too_large);
	case YU_ENOT_TEXT:
		info->line = info->column = 0;
		return mreg_seterr(errcode, "%s: %s", path, info->problem);
	case YU_ESYNTAX:
		if (info->context)
			return mreg_seterr(errcode, "%s:%u:%u: %s %s", path, info->line,
					   info->column, info->problem, info->context);
		return mreg_seterr(errcode, "%s:%u:%u: %s", path, info->line, info->column,
				   info->problem);
	default:
		info->problem = limit_words(info->status);
		rc = mreg_seterr(errcode, "%s:%u:%u: %s", path, info->line, info->column,
				 info->problem);
		return rc;
	}
}

/* A file larger than YU_MAX_BYTES by its size, refused before it is read. */
static int too_large_file(FILE *f, const char *path, int errcode, char *problem,
			  size_t problem_size)
{
	struct stat st;

	if (fstat(fileno(f), &st) < 0 || (uint64_t)st.st_size <= YU_MAX_BYTES)
		return 0;
	/* Every error says what is wrong, the diagnostic's text included. */
	if (problem)
		snprintf(problem, problem_size, "%lld bytes is too large for this file (at most %u)",
			 (long long)st.st_size, YU_MAX_BYTES);
	return mreg_seterr(errcode, "%s: %lld bytes is too large for this file (at most %u)", path,
			   (long long)st.st_size, YU_MAX_BYTES);
}

int yu_load_file(yaml_document_t *doc, const char *path, int errcode, bool aliases,
		 unsigned int *line, unsigned int *col, char *problem, size_t problem_size)
{
	const yu_limits limits = {
		.max_bytes = YU_MAX_BYTES, .max_depth = YU_MAX_DEPTH, .aliases = aliases};
	yu_load_info info;
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
	if ((rc = too_large_file(f, path, errcode, problem, problem_size))) {
		fclose(f);
		if (line)
			*line = 0;
		if (col)
			*col = 0;
		return rc;
	}
	rc = read_all(&data, &len, f, YU_MAX_BYTES, path);
	fclose(f);
	if (rc)
		return rc;
	if (yu_load(doc, data, len, &limits, &info) == YU_OK) {
		free(data);
		return 0;
	}
	rc = load_failed(&info, path, errcode, len, too_large, sizeof(too_large));
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

/* ---- streaming (yu_stream_file) ---- */

/* libyaml's input: the file, read no further than YU_MAX_BYTES + 1. */
typedef struct {
	FILE *f;
	size_t read;
	bool too_large, failed;
} stream_input;

static int stream_read(void *data, unsigned char *buf, size_t size, size_t *got)
{
	stream_input *in = data;
	size_t room = YU_MAX_BYTES + 1 - in->read;

	*got = fread(buf, 1, size < room ? size : room, in->f);
	in->read += *got;
	if (ferror(in->f))
		in->failed = true;
	else if (in->read > YU_MAX_BYTES)
		in->too_large = true;
	return !in->failed && !in->too_large;
}

/* A collection being built: its node, and a mapping's key waiting for its value. */
typedef struct {
	yaml_document_t *doc;
	int node, key;
	bool divert; /* the diverted sequence: its items go to the callback */
} stream_frame;

typedef struct {
	yaml_char_t *name;
	yaml_mark_t mark;
} stream_anchor;

typedef struct {
	yaml_document_t *doc, item;
	bool in_item;
	const char *divert;
	bool diverted; /* the diverted key's value has been seen */
	yu_item_fn fn;
	void *ctx;
	int fn_rc;
	stream_frame *stack;
	size_t depth, cap;
	stream_anchor *anchors; /* as libyaml's loader keeps them: a name twice is refused */
	size_t anchor_count, anchor_cap;
	yaml_mark_t dup_first, dup_second; /* the first duplicate anchor, reported at the end */
	bool dup;
	yu_load_info *info;
} stream_composer;

static bool note_anchor(stream_composer *c, yaml_char_t *anchor, yaml_mark_t mark)
{
	if (!anchor)
		return true;
	for (size_t i = 0; i < c->anchor_count; i++) {
		if (!strcmp((char *)c->anchors[i].name, (char *)anchor)) {
			if (!c->dup) {
				c->dup = true;
				c->dup_first = c->anchors[i].mark;
				c->dup_second = mark;
			}
			return true;
		}
	}
	if (!array_room(&c->anchors, &c->anchor_cap, c->anchor_count, sizeof(*c->anchors), 8))
		return false;
	if (!(c->anchors[c->anchor_count].name = (yaml_char_t *)strdup((char *)anchor)))
		return false;
	c->anchors[c->anchor_count++].mark = mark;
	return true;
}

/* The tag libyaml's loader gives: none (the default) for no tag or "!". */
static yaml_char_t *node_tag(yaml_char_t *tag)
{
	return tag && strcmp((char *)tag, "!") ? tag : NULL;
}

/* The document a new node goes to, starting an item of the diverted sequence. */
static yaml_document_t *target(stream_composer *c)
{
	if (c->depth && c->stack[c->depth - 1].divert) {
		if (!yaml_document_initialize(&c->item, NULL, NULL, NULL, 1, 1))
			return NULL;
		c->in_item = true;
		return &c->item;
	}
	return c->depth ? c->stack[c->depth - 1].doc : c->doc;
}

/* Node @id of @doc is complete: attach it to its parent, or hand over a whole item. */
static bool finish_node(stream_composer *c, yaml_document_t *doc, int id)
{
	stream_frame *parent = c->depth ? &c->stack[c->depth - 1] : NULL;

	if (!parent)
		return true;
	if (parent->divert) {
		if (c->fn_rc == 0)
			c->fn_rc = c->fn(c->ctx, &c->item);
		yaml_document_delete(&c->item);
		c->in_item = false;
		return true;
	}
	if (doc->nodes.start[parent->node - 1].type == YAML_SEQUENCE_NODE)
		return yaml_document_append_sequence_item(doc, parent->node, id);
	if (!parent->key) {
		parent->key = id;
		return true;
	}
	int key = parent->key;
	parent->key = 0;
	return yaml_document_append_mapping_pair(doc, parent->node, key, id);
}

/* Whether a collection starting now is the value of the root mapping's @divert key. */
static bool diverts(const stream_composer *c)
{
	const stream_frame *root = c->depth == 1 ? &c->stack[0] : NULL;
	const yaml_node_t *key;

	if (!c->divert || c->diverted || !root || root->doc != c->doc || !root->key ||
	    c->doc->nodes.start[root->node - 1].type != YAML_MAPPING_NODE)
		return false;
	key = &c->doc->nodes.start[root->key - 1];
	return key->type == YAML_SCALAR_NODE && !strcmp((char *)key->data.scalar.value, c->divert);
}

/* One event of the first document into the documents; false when out of memory. */
static bool compose(stream_composer *c, yaml_event_t *ev)
{
	yaml_document_t *doc;
	yaml_node_t *n;
	int id;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (!note_anchor(c, ev->data.scalar.anchor, ev->start_mark) || !(doc = target(c)))
			return false;
		id = yaml_document_add_scalar(doc, node_tag(ev->data.scalar.tag),
					      ev->data.scalar.value, (int)ev->data.scalar.length,
					      ev->data.scalar.style);
		if (!id)
			return false;
		n = &doc->nodes.start[id - 1];
		n->start_mark = ev->start_mark;
		n->end_mark = ev->end_mark;
		return finish_node(c, doc, id);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
		bool divert = seq && diverts(c);
		if (!note_anchor(c, seq ? ev->data.sequence_start.anchor
					: ev->data.mapping_start.anchor, ev->start_mark) ||
		    !(doc = target(c)))
			return false;
		id = seq ? yaml_document_add_sequence(doc, node_tag(ev->data.sequence_start.tag),
						      ev->data.sequence_start.style)
			 : yaml_document_add_mapping(doc, node_tag(ev->data.mapping_start.tag),
						     ev->data.mapping_start.style);
		if (!id)
			return false;
		doc->nodes.start[id - 1].start_mark = ev->start_mark;
		if (!array_room(&c->stack, &c->cap, c->depth, sizeof(*c->stack), 16))
			return false;
		if (divert)
			c->diverted = true;
		c->stack[c->depth++] = (stream_frame){doc, id, 0, divert};
		return true;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		stream_frame f = c->stack[--c->depth];
		f.doc->nodes.start[f.node - 1].end_mark = ev->end_mark;
		return finish_node(c, f.doc, f.node);
	}
	default:
		return true;
	}
}

int yu_stream_file(yaml_document_t *doc, FILE *f, const char *path, int errcode,
		   const char *divert, yu_item_fn fn, void *ctx)
{
	stream_input in = {.f = f};
	stream_composer c = {.doc = doc, .divert = divert, .fn = fn, .ctx = ctx};
	yu_load_info info = {.byte = -1};
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, documents = 0, rc;
	bool composing = false, first_done = false, done = false;
	char too_large[96];

	memset(doc, 0, sizeof(*doc));
	c.info = &info;
	if ((rc = too_large_file(f, path, errcode, NULL, 0)))
		return rc;
	if (!yaml_parser_initialize(&p))
		return mreg_seterr_nomem();
	yaml_parser_set_input(&p, stream_read, &in);
	/* The events of yu_load()'s first pass, the first document composed as they come. */
	while (!done && info.status == YU_OK && c.fn_rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			/* Only the first document counts, as with yu_load_file(); there
			 * a duplicate anchor, the composer's error, comes before a
			 * syntax error further on. */
			if (in.too_large)
				info.status = YU_ETOO_LARGE;
			else if (p.error == YAML_MEMORY_ERROR ||
				 (!in.failed && !first_done && !c.dup))
				parser_failed(&p, "", 0, &info);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++documents == 1) {
				composing = yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1);
				if (!composing)
					info.status = YU_ENOMEM;
			}
			break;
		case YAML_DOCUMENT_END_EVENT:
			composing = false;
			first_done = true;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > YU_MAX_DEPTH)
				at_mark(&info, YU_ETOO_DEEP, ev.start_mark);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: depth--; break;
		case YAML_ALIAS_EVENT: at_mark(&info, YU_EALIAS, ev.start_mark); break;
		case YAML_STREAM_END_EVENT: done = true; break;
		default: break;
		}
		if (composing && info.status == YU_OK && !compose(&c, &ev))
			info.status = YU_ENOMEM;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (c.in_item)
		yaml_document_delete(&c.item);
	for (size_t i = 0; i < c.anchor_count; i++)
		free(c.anchors[i].name);
	free(c.anchors);
	free(c.stack);
	if (info.status == YU_OK && !in.failed && c.fn_rc == 0 && c.dup) {
		/* libyaml's loader: the composer's error, after the first pass found none. */
		info.status = YU_ESYNTAX;
		info.problem = "second occurrence";
		info.line = (unsigned int)c.dup_second.line + 1;
		info.column = (unsigned int)c.dup_second.column + 1;
		info.context = "found duplicate anchor; first occurrence";
	}
	if (in.failed)
		rc = mreg_seterr_errno("%s: read", path);
	else if (c.fn_rc)
		rc = c.fn_rc;
	else if (info.status != YU_OK)
		rc = load_failed(&info, path, errcode, in.read, too_large, sizeof(too_large));
	else
		return 0;
	yaml_document_delete(doc);
	memset(doc, 0, sizeof(*doc));
	return rc;
}
