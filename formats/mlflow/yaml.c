/*
 * mlflow_model: loading YAML the way MLflow does (PyYAML's safe_load, YAML
 * 1.1), with every node's position kept for diagnostics, and the path rules
 * shared by MLmodel and the environment files.
 *
 * libyaml's loader builds a graph, not a tree: an alias is a second edge to
 * the anchored node, and "&a [*a]" is a cycle. mlf_yaml_load() therefore
 * checks the graph once (cycles, depth, alias expansion) so that every later
 * recursive walk is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "mlflow/mlflow_model.h"
#include "util/path.h"
#include "util/strutil.h"

/* ---- diagnostics ---- */

/* One line of readable text: user strings can hold anything. */
static void tidy_message(char *msg)
{
	size_t len = strlen(msg), max = 480;

	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (len > max) {
		/* "..." and the NUL end at max + 1 <= len + 1: inside the buffer. */
		size_t cut = max - 3;
		while (cut > 0 && ((unsigned char)msg[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(msg + cut, "...", 4);
	}
}

static void diag_v(mlf_ctx *c, mreg_diag_severity sev, const char *file, unsigned int line,
		   unsigned int column, const char *code, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

static void diag_v(mlf_ctx *c, mreg_diag_severity sev, const char *file, unsigned int line,
		   unsigned int column, const char *code, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (!c->diags)
		return;
	if (vasprintf(&msg, fmt, ap) < 0) {
		c->rc = mreg_seterr_nomem();
		return;
	}
	tidy_message(msg);
	if (mreg_diag_add(c->diags, sev, file, line, column, code, "%s", msg) < 0)
		c->rc = MREG_ENOMEM;
	free(msg);
}

void mlf_diag(mlf_ctx *c, mreg_diag_severity sev, const mlf_yaml *y, const yaml_node_t *at,
	      const char *code, const char *fmt, ...)
{
	va_list ap;
	unsigned int line = at ? (unsigned int)at->start_mark.line + 1 : 0;
	unsigned int column = at ? (unsigned int)at->start_mark.column + 1 : 0;

	va_start(ap, fmt);
	diag_v(c, sev, y->display, line, column, code, fmt, ap);
	va_end(ap);
}

void mlf_diag_at(mlf_ctx *c, mreg_diag_severity sev, const char *file, unsigned int line,
		 unsigned int column, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(c, sev, file, line, column, code, fmt, ap);
	va_end(ap);
}

/* ---- loading ---- */

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

static void report_parse_error(mlf_ctx *c, const mlf_yaml *y, const yaml_parser_t *p,
			       const char *data, size_t len, const char *code,
			       mreg_diag_severity sev)
{
	const char *problem = p->problem ? p->problem : "cannot parse";
	unsigned int line, column;

	if (p->error == YAML_MEMORY_ERROR) {
		c->rc = mreg_seterr_nomem();
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		offset_position(data, len, p->problem_offset, &line, &column);
		if (p->problem_value >= 0)
			mlf_diag_at(c, sev, y->display, line, column, code,
				    "not YAML text: %s (byte 0x%02x)", problem, p->problem_value & 0xff);
		else
			mlf_diag_at(c, sev, y->display, line, column, code, "not YAML text: %s",
				    problem);
		return;
	}
	line = (unsigned int)p->problem_mark.line + 1;
	column = (unsigned int)p->problem_mark.column + 1;
	if (p->context)
		mlf_diag_at(c, sev, y->display, line, column, code,
			    "YAML syntax error: %s (%s that starts at line %zu, column %zu)", problem,
			    p->context, p->context_mark.line + 1, p->context_mark.column + 1);
	else
		mlf_diag_at(c, sev, y->display, line, column, code, "YAML syntax error: %s", problem);
}

/* Tags PyYAML's SafeLoader constructs; anything else (python/tuple, !custom) it refuses. */
static bool tag_ok(const char *tag)
{
	static const char *safe[] = {"str", "int", "float", "bool", "null", "timestamp", "map",
		"seq", "binary", "omap", "pairs", "set", "merge", "value"};
	const char *prefix = "tag:yaml.org,2002:";

	if (!tag)
		return true;
	if (!str_starts_with(tag, prefix))
		return false;
	for (size_t i = 0; i < sizeof(safe) / sizeof(*safe); i++)
		if (!strcmp(tag + strlen(prefix), safe[i]))
			return true;
	return false;
}

typedef struct {
	mlf_ctx *c;
	mlf_yaml *y;
	const char *code;
	mreg_diag_severity sev;
	unsigned char *state;  /* per node: 0 unseen, 1 being visited, 2 done */
	size_t *size;          /* expanded size (measure) */
	int *height;           /* expanded height (measure) */
	size_t shared;         /* nodes reached twice: aliases */
	bool broken;           /* the graph must not be walked */
} graph_check;

static size_t node_index(const mlf_yaml *y, const yaml_node_t *n)
{
	return (size_t)(n - y->doc.nodes.start);
}

typedef struct {
	const char *key;
	size_t len;
	const yaml_node_t *node;
	size_t pos;
} key_ref;

static int cmp_keys(const void *a, const void *b)
{
	const key_ref *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int d = memcmp(x->key, y->key, n);

	if (d)
		return d;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* PyYAML keeps the last of repeated keys without a word; say it. */
static void check_duplicate_keys(graph_check *g, yaml_node_t *map)
{
	size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start), k = 0;
	key_ref *keys;

	if (n < 2)
		return;
	keys = calloc(n, sizeof(*keys));
	if (!keys) {
		g->c->rc = mreg_seterr_nomem();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *kn = yaml_document_get_node(&g->y->doc,
							 map->data.mapping.pairs.start[i].key);
		if (!kn || kn->type != YAML_SCALAR_NODE)
			continue;
		keys[k].key = (const char *)kn->data.scalar.value;
		keys[k].len = kn->data.scalar.length;
		keys[k].node = kn;
		keys[k].pos = i;
		k++;
	}
	qsort(keys, k, sizeof(*keys), cmp_keys);
	for (size_t i = 1; i < k; i++)
		if (keys[i].len == keys[i - 1].len && !memcmp(keys[i].key, keys[i - 1].key, keys[i].len)) {
			g->y->shadowed[node_index(g->y, keys[i - 1].node)] = 1;
			mlf_diag(g->c, MREG_DIAG_WARNING, g->y, keys[i].node, "mlflow-duplicate-key",
				 "key '%s' repeats the one on line %zu; MLflow keeps only the last value",
				 keys[i].key, keys[i - 1].node->start_mark.line + 1);
		}
	free(keys);
}

static void visit(graph_check *g, yaml_node_t *n, int depth)
{
	size_t i;

	if (!n || g->broken)
		return;
	i = node_index(g->y, n);
	if (g->state[i] == 1) {
		mlf_diag(g->c, g->sev, g->y, n, g->code,
			 "recursive alias: this node contains itself");
		g->broken = true;
		return;
	}
	if (g->state[i] == 2) {
		g->shared++;
		return;
	}
	if (depth > MLF_MAX_DEPTH) {
		mlf_diag(g->c, g->sev, g->y, n, g->code, "nested deeper than %d levels",
			 MLF_MAX_DEPTH);
		g->broken = true;
		return;
	}
	if (!tag_ok((const char *)n->tag))
		mlf_diag(g->c, g->sev, g->y, n, g->code,
			 "could not determine a constructor for the tag '%s' (a safe YAML loader "
			 "refuses it)", (const char *)n->tag);
	g->state[i] = 1;
	if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top && !g->broken; p++) {
			yaml_node_t *k = yaml_document_get_node(&g->y->doc, p->key);
			if (k && k->type != YAML_SCALAR_NODE)
				mlf_diag(g->c, g->sev, g->y, k, g->code,
					 "found unhashable key: a key must be a scalar, not %s",
					 mlf_type_name(mlf_type_of(k)));
			visit(g, k, depth + 1);
			visit(g, yaml_document_get_node(&g->y->doc, p->value), depth + 1);
		}
		if (!g->broken)
			check_duplicate_keys(g, n);
	} else if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top && !g->broken; it++)
			visit(g, yaml_document_get_node(&g->y->doc, *it), depth + 1);
	}
	g->state[i] = 2;
}

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Size and height with aliases expanded; the graph is acyclic by now. */
static void measure(graph_check *g, yaml_node_t *n, int depth)
{
	size_t i, size = 1;
	int height = 0;

	if (!n || g->broken)
		return;
	i = node_index(g->y, n);
	if (g->state[i] != 3) {
		if (depth > MLF_MAX_DEPTH)
			goto too_deep;
		if (n->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top && !g->broken; p++) {
				yaml_node_t *k = yaml_document_get_node(&g->y->doc, p->key);
				yaml_node_t *v = yaml_document_get_node(&g->y->doc, p->value);
				measure(g, k, depth + 1);
				measure(g, v, depth + 1);
				if (g->broken)
					return;
				if (k) {
					size = sat_add(size, g->size[node_index(g->y, k)]);
					if (g->height[node_index(g->y, k)] + 1 > height)
						height = g->height[node_index(g->y, k)] + 1;
				}
				if (v) {
					size = sat_add(size, g->size[node_index(g->y, v)]);
					if (g->height[node_index(g->y, v)] + 1 > height)
						height = g->height[node_index(g->y, v)] + 1;
				}
			}
		} else if (n->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = n->data.sequence.items.start;
			     it < n->data.sequence.items.top && !g->broken; it++) {
				yaml_node_t *v = yaml_document_get_node(&g->y->doc, *it);
				measure(g, v, depth + 1);
				if (g->broken)
					return;
				if (v) {
					size = sat_add(size, g->size[node_index(g->y, v)]);
					if (g->height[node_index(g->y, v)] + 1 > height)
						height = g->height[node_index(g->y, v)] + 1;
				}
			}
		}
		g->size[i] = size;
		g->height[i] = height;
		g->state[i] = 3;
	}
	if (depth + g->height[i] > MLF_MAX_DEPTH)
		goto too_deep;
	return;
too_deep:
	mlf_diag(g->c, g->sev, g->y, n, g->code,
		 "nested deeper than %d levels once its aliases are expanded", MLF_MAX_DEPTH);
	g->broken = true;
}

static void check_graph(mlf_ctx *c, mlf_yaml *y, const char *code, mreg_diag_severity sev)
{
	size_t count = (size_t)(y->doc.nodes.top - y->doc.nodes.start);
	graph_check g = {.c = c, .y = y, .code = code, .sev = sev};

	g.state = calloc(count ? count : 1, 1);
	y->shadowed = calloc(count ? count : 1, 1);
	if (!g.state || !y->shadowed) {
		free(g.state);
		c->rc = mreg_seterr_nomem();
		y->root = NULL;
		return;
	}
	visit(&g, y->root, 0);
	if (!g.broken && g.shared) {
		g.size = calloc(count, sizeof(*g.size));
		g.height = calloc(count, sizeof(*g.height));
		if (!g.size || !g.height) {
			c->rc = mreg_seterr_nomem();
			g.broken = true;
		} else {
			measure(&g, y->root, 0);
			if (!g.broken && g.size[node_index(y, y->root)] > MLF_MAX_EXPANDED) {
				mlf_diag(c, sev, y, y->root, code,
					 "aliases expand this document to more than %d nodes",
					 MLF_MAX_EXPANDED);
				g.broken = true;
			}
		}
	}
	if (g.broken)
		y->root = NULL;
	free(g.state);
	free(g.size);
	free(g.height);
}

/*
 * A first pass over libyaml's events, before the document is built: it stops
 * at the depth limit (libyaml's scanner is quadratic in the flow nesting
 * depth, 30 s for "[[[[..." 100000 levels deep) and finds extra documents as
 * PyYAML's get_single_node does. Returns false when the text is unusable.
 */
static bool scan_events(mlf_ctx *c, const mlf_yaml *y, const char *data, size_t len,
			const char *code, mreg_diag_severity sev)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, documents = 0;
	bool ok = true, done = false;

	if (!yaml_parser_initialize(&p)) {
		c->rc = mreg_seterr_nomem();
		return false;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			report_parse_error(c, y, &p, data, len, code, sev);
			ok = false;
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++documents == 2)
				mlf_diag_at(c, sev, y->display, (unsigned int)ev.start_mark.line + 1,
					    (unsigned int)ev.start_mark.column + 1, code,
					    "expected a single document in the stream, but found "
					    "another document");
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > MLF_MAX_DEPTH) {
				mlf_diag_at(c, sev, y->display, (unsigned int)ev.start_mark.line + 1,
					    (unsigned int)ev.start_mark.column + 1, code,
					    "nested deeper than %d levels", MLF_MAX_DEPTH);
				ok = false;
				done = true;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
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
	return ok;
}

bool mlf_yaml_load(mlf_ctx *c, mlf_yaml *y, const char *display, const char *data, size_t len,
		   const char *code, mreg_diag_severity sev)
{
	yaml_parser_t p;

	memset(y, 0, sizeof(*y));
	y->display = strdup(display);
	if (!y->display) {
		c->rc = mreg_seterr_nomem();
		return false;
	}
	if (!scan_events(c, y, data, len, code, sev))
		return false;
	if (!yaml_parser_initialize(&p)) {
		c->rc = mreg_seterr_nomem();
		return false;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &y->doc)) {
		report_parse_error(c, y, &p, data, len, code, sev);
		yaml_parser_delete(&p);
		return false;
	}
	yaml_parser_delete(&p);
	y->loaded = true;
	y->root = yaml_document_get_root_node(&y->doc);
	if (y->root)
		check_graph(c, y, code, sev);
	return y->root != NULL || yaml_document_get_root_node(&y->doc) == NULL;
}

void mlf_yaml_dispose(mlf_yaml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	free(y->display);
	free(y->shadowed);
	memset(y, 0, sizeof(*y));
}

/* ---- types (PyYAML's implicit resolvers, YAML 1.1) ---- */

static regex_t re_bool, re_int, re_float, re_null, re_timestamp;
static bool re_ok;

static void compile_resolvers(void)
{
	re_ok = !regcomp(&re_bool,
			 "^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|"
			 "OFF)$", REG_EXTENDED | REG_NOSUB) &&
		!regcomp(&re_int,
			 "^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|"
			 "[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$", REG_EXTENDED | REG_NOSUB) &&
		!regcomp(&re_float,
			 "^([-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+][0-9]+)?|\\.[0-9_]+([eE][-+][0-9]+)?|"
			 "[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(inf|Inf|INF)|"
			 "\\.(nan|NaN|NAN))$", REG_EXTENDED | REG_NOSUB) &&
		!regcomp(&re_null, "^(~|null|Null|NULL|)$", REG_EXTENDED | REG_NOSUB) &&
		!regcomp(&re_timestamp,
			 "^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)"
			 "[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)$",
			 REG_EXTENDED | REG_NOSUB);
}

static mlf_type resolve_plain(const char *s, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	/* Nothing that long is a YAML number, boolean, null or timestamp. */
	if (len > 100 || strlen(s) != len)
		return MLF_STR;
	pthread_once(&once, compile_resolvers);
	if (!re_ok)
		return MLF_STR;
	if (!regexec(&re_null, s, 0, NULL, 0))
		return MLF_NULL;
	if (!regexec(&re_bool, s, 0, NULL, 0))
		return MLF_BOOL;
	if (!regexec(&re_int, s, 0, NULL, 0))
		return MLF_INT;
	if (!regexec(&re_float, s, 0, NULL, 0))
		return MLF_FLOAT;
	if (!regexec(&re_timestamp, s, 0, NULL, 0))
		return MLF_TIMESTAMP;
	return MLF_STR;
}

mlf_type mlf_type_of(const yaml_node_t *n)
{
	static const struct {
		const char *tag;
		mlf_type type;
	} tags[] = {
		{"tag:yaml.org,2002:int", MLF_INT}, {"tag:yaml.org,2002:float", MLF_FLOAT},
		{"tag:yaml.org,2002:bool", MLF_BOOL}, {"tag:yaml.org,2002:null", MLF_NULL},
		{"tag:yaml.org,2002:timestamp", MLF_TIMESTAMP},
	};

	if (!n)
		return MLF_NONE;
	if (n->type == YAML_MAPPING_NODE)
		return MLF_MAP;
	if (n->type == YAML_SEQUENCE_NODE)
		return MLF_SEQ;
	if (n->type != YAML_SCALAR_NODE)
		return MLF_NONE;
	/* An explicit tag decides; libyaml gives untagged scalars the str tag. */
	for (size_t i = 0; n->tag && i < sizeof(tags) / sizeof(*tags); i++)
		if (!strcmp((const char *)n->tag, tags[i].tag))
			return tags[i].type;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return MLF_STR;
	return resolve_plain((const char *)n->data.scalar.value, n->data.scalar.length);
}

const char *mlf_type_name(mlf_type t)
{
	switch (t) {
	case MLF_NONE: return "nothing";
	case MLF_STR: return "a string";
	case MLF_NULL: return "null";
	case MLF_BOOL: return "a boolean";
	case MLF_INT: return "an integer";
	case MLF_FLOAT: return "a floating-point number";
	case MLF_TIMESTAMP: return "a timestamp";
	case MLF_MAP: return "a mapping";
	case MLF_SEQ: return "a list";
	}
	return "nothing";
}

/* ---- access ---- */

yaml_node_t *mlf_get_key(const mlf_yaml *y, const yaml_node_t *map, const char *key)
{
	yaml_node_t *found = NULL;
	size_t len = strlen(key);

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&y->doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == len &&
		    !memcmp(k->data.scalar.value, key, len))
			found = k;
	}
	return found;
}

yaml_node_t *mlf_get(const mlf_yaml *y, const yaml_node_t *map, const char *key)
{
	yaml_node_t *found = NULL;
	size_t len = strlen(key);

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&y->doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == len &&
		    !memcmp(k->data.scalar.value, key, len))
			found = yaml_document_get_node((yaml_document_t *)&y->doc, p->value);
	}
	return found;
}

bool mlf_shadowed(const mlf_yaml *y, const yaml_node_t *k)
{
	return y->shadowed && k && y->shadowed[node_index(y, k)];
}

const char *mlf_text(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

const char *mlf_str(const yaml_node_t *n)
{
	return mlf_type_of(n) == MLF_STR ? (const char *)n->data.scalar.value : NULL;
}

bool mlf_is_null(const yaml_node_t *n)
{
	return !n || mlf_type_of(n) == MLF_NULL;
}

/* ---- JSON ---- */

static bool yaml_true(const char *s)
{
	return !strcmp(s, "yes") || !strcmp(s, "Yes") || !strcmp(s, "YES") || !strcmp(s, "true") ||
	       !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "on") || !strcmp(s, "On") ||
	       !strcmp(s, "ON");
}

/* YAML 1.1 numbers: underscores, 0b/0x/0 prefixes, base-60 "1:30". */
static json_t *number_json(const char *text, bool is_float)
{
	char buf[128], *end;
	size_t n = 0;
	bool neg = false;
	const char *s = text;

	for (; *s && n + 1 < sizeof(buf); s++)
		if (*s != '_')
			buf[n++] = *s;
	buf[n] = '\0';
	s = buf;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strchr(s, ':')) {
		double v = 0;
		for (char *part = strtok_r((char *)s, ":", &end); part; part = strtok_r(NULL, ":", &end))
			v = v * 60 + strtod(part, NULL);
		v = neg ? -v : v;
		return is_float ? json_real(v) : json_integer((json_int_t)v);
	}
	if (is_float) {
		if (strstr(s, "inf") || strstr(s, "Inf") || strstr(s, "INF") || strstr(s, "nan") ||
		    strstr(s, "NaN") || strstr(s, "NAN"))
			return json_string(text); /* JSON has no infinity or NaN */
		double v = strtod(s, NULL);
		return json_real(neg ? -v : v);
	}
	errno = 0;
	long long v;
	if (s[0] == '0' && s[1] == 'b')
		v = strtoll(s + 2, &end, 2);
	else if (s[0] == '0' && s[1] == 'x')
		v = strtoll(s + 2, &end, 16);
	else if (s[0] == '0' && s[1])
		v = strtoll(s + 1, &end, 8);
	else
		v = strtoll(s, &end, 10);
	if (errno)
		return json_string(text); /* beyond 64 bits: keep the digits */
	return json_integer(neg ? -v : v);
}

json_t *mlf_to_json(const mlf_yaml *y, const yaml_node_t *n, int depth)
{
	yaml_document_t *doc = (yaml_document_t *)&y->doc;

	if (!n)
		return json_null();
	/* The record keeps 64 levels; nothing real comes close. */
	if (depth > 48)
		return json_string("(nested too deeply)");
	switch (mlf_type_of(n)) {
	case MLF_MAP: {
		json_t *o = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     o && p < n->data.mapping.pairs.top; p++) {
			const char *k = mlf_text(yaml_document_get_node(doc, p->key));
			json_t *v;
			if (!k)
				continue;
			v = mlf_to_json(y, yaml_document_get_node(doc, p->value), depth + 1);
			if (!v || json_object_set_new(o, k, v)) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	case MLF_SEQ: {
		json_t *a = json_array();
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     a && it < n->data.sequence.items.top; it++) {
			json_t *v = mlf_to_json(y, yaml_document_get_node(doc, *it), depth + 1);
			if (!v || json_array_append_new(a, v)) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	case MLF_NULL: return json_null();
	case MLF_BOOL: return json_boolean(yaml_true(mlf_text(n)));
	case MLF_INT: return number_json(mlf_text(n), false);
	case MLF_FLOAT: return number_json(mlf_text(n), true);
	default: {
		json_t *s = json_stringn(mlf_text(n), n->data.scalar.length);
		return s ? s : json_null();
	}
	}
}

/* ---- paths ---- */

bool mlf_exists(const mlf_ctx *c, const char *rel)
{
	struct stat st;
	char *p = path_join(c->dir, rel);
	bool ok = p && stat(p, &st) == 0;

	free(p);
	return ok;
}

const char *mlf_path_problem(const char *s, size_t len)
{
	unsigned bad;

	if (!len)
		return "is empty";
	if (strlen(s) != len)
		return "holds a NUL character";
	bad = path_problems(s, PATH_REJECT_ABSOLUTE | PATH_REJECT_DRIVE | PATH_REJECT_BACKSLASH |
				       PATH_REJECT_ESCAPE);
	if (bad & (PATH_REJECT_ABSOLUTE | PATH_REJECT_DRIVE))
		return "is absolute: paths in MLmodel are relative to the model folder";
	if (bad & PATH_REJECT_BACKSLASH)
		return "holds a backslash: MLflow paths use '/'";
	if (bad & PATH_REJECT_ESCAPE)
		return "leads out of the model folder";
	return NULL;
}

void mlf_check_path(mlf_ctx *c, const mlf_yaml *y, const yaml_node_t *n, const char *what,
		    mreg_diag_severity missing_sev)
{
	const char *s, *why;

	if (mlf_is_null(n))
		return;
	s = mlf_str(n);
	if (!s) {
		mlf_diag(c, MREG_DIAG_ERROR, y, n, "mlflow-path",
			 "%s must be a path (a string), not %s", what, mlf_type_name(mlf_type_of(n)));
		return;
	}
	why = mlf_path_problem(s, n->data.scalar.length);
	if (why) {
		mlf_diag(c, MREG_DIAG_ERROR, y, n, "mlflow-path", "%s '%s' %s", what, s, why);
		return;
	}
	if (!mlf_exists(c, s))
		mlf_diag(c, missing_sev, y, n, "mlflow-file-missing",
			 "%s names '%s', which is not in the model folder", what, s);
}
