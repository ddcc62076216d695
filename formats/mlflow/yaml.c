/*
 * mlflow_model: loading YAML the way MLflow does (PyYAML's safe_load, YAML
 * 1.1), with every node's position kept for diagnostics, and the path rules
 * shared by MLmodel and the environment files.
 *
 * mreg's bounded loader (util/yamlutil.h: yu_load) refuses what must not be
 * walked (depth, recursive aliases, alias expansion), and its resolver reads
 * plain scalars by PyYAML's rules; this file adds what a safe loader refuses
 * beyond that (tags, unhashable keys, several documents) and MLflow's words.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "util/yamlutil.h"

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

/* A walk of the loaded graph for what a safe loader refuses beyond yu_load()'s limits. */
typedef struct {
	mlf_ctx *c;
	mlf_yaml *y;
	const char *code;
	mreg_diag_severity sev;
	unsigned char *state;  /* per node: 0 unseen, 1 being visited, 2 done */
	bool stop;             /* a recursive alias (yu_load() reported it) */
} graph_walk;

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
static void check_duplicate_keys(graph_walk *g, yaml_node_t *map)
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

/*
 * Each node once, keys before values, as yu_load()'s check went: the walk ends
 * at the recursive alias it reported. Deeper nesting than MLF_MAX_DEPTH never
 * gets here, so the recursion is bounded.
 */
static void visit(graph_walk *g, yaml_node_t *n)
{
	const char *want;
	size_t i;

	if (!n || g->stop)
		return;
	i = node_index(g->y, n);
	if (g->state[i] == 1) {
		g->stop = true;
		return;
	}
	if (g->state[i] == 2)
		return;
	if (!tag_ok((const char *)n->tag))
		mlf_diag(g->c, g->sev, g->y, n, g->code,
			 "could not determine a constructor for the tag '%s' (a safe YAML loader "
			 "refuses it)", (const char *)n->tag);
	else if ((want = mlf_scalar_unbuildable(n)))
		mlf_diag(g->c, g->sev, g->y, n, g->code,
			 "'%s' is not %s: a safe YAML loader cannot build it and refuses the file",
			 (const char *)n->data.scalar.value, want);
	g->state[i] = 1;
	if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top && !g->stop; p++) {
			yaml_node_t *k = yaml_document_get_node(&g->y->doc, p->key);
			if (k && k->type != YAML_SCALAR_NODE)
				mlf_diag(g->c, g->sev, g->y, k, g->code,
					 "found unhashable key: a key must be a scalar, not %s",
					 mlf_type_name(mlf_type_of(k)));
			visit(g, k);
			visit(g, yaml_document_get_node(&g->y->doc, p->value));
		}
		if (!g->stop)
			check_duplicate_keys(g, n);
	} else if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top && !g->stop; it++)
			visit(g, yaml_document_get_node(&g->y->doc, *it));
	}
	g->state[i] = 2;
}

static void check_graph(mlf_ctx *c, mlf_yaml *y, const char *code, mreg_diag_severity sev)
{
	size_t count = (size_t)(y->doc.nodes.top - y->doc.nodes.start);
	graph_walk g = {.c = c, .y = y, .code = code, .sev = sev};

	g.state = calloc(count ? count : 1, 1);
	y->shadowed = calloc(count ? count : 1, 1);
	if (!g.state || !y->shadowed) {
		c->rc = mreg_seterr_nomem();
		y->root = NULL;
	} else {
		visit(&g, yaml_document_get_root_node(&y->doc));
	}
	free(g.state);
}

/* Report what yu_load() refused, in the words PyYAML and MLflow users know. */
static void report_load_error(mlf_ctx *c, const mlf_yaml *y, const yu_load_info *info,
			      const char *code, mreg_diag_severity sev)
{
	switch (info->status) {
	case YU_OK:
		break;
	case YU_ENOMEM:
		c->rc = mreg_seterr_nomem();
		break;
	case YU_ETOO_LARGE:
		mlf_diag_at(c, sev, y->display, 0, 0, code,
			    "larger than %zu MiB; real ones are a few KB", MLF_MAX_FILE_SIZE >> 20);
		break;
	case YU_ENOT_TEXT:
		if (info->byte >= 0)
			mlf_diag_at(c, sev, y->display, info->line, info->column, code,
				    "not YAML text: %s (byte 0x%02x)", info->problem, info->byte);
		else
			mlf_diag_at(c, sev, y->display, info->line, info->column, code,
				    "not YAML text: %s", info->problem);
		break;
	case YU_ESYNTAX:
		if (info->context)
			mlf_diag_at(c, sev, y->display, info->line, info->column, code,
				    "YAML syntax error: %s (%s that starts at line %u, column %u)",
				    info->problem, info->context, info->context_line,
				    info->context_column);
		else
			mlf_diag_at(c, sev, y->display, info->line, info->column, code,
				    "YAML syntax error: %s", info->problem);
		break;
	case YU_ETOO_DEEP:
		mlf_diag_at(c, sev, y->display, info->line, info->column, code,
			    "nested deeper than %d levels", MLF_MAX_DEPTH);
		break;
	case YU_EALIAS: /* not asked for: PyYAML reads aliases */
		mlf_diag_at(c, sev, y->display, info->line, info->column, code,
			    "aliases are not allowed here");
		break;
	case YU_ERECURSIVE:
		mlf_diag_at(c, sev, y->display, info->line, info->column, code,
			    "recursive alias: this node contains itself");
		break;
	case YU_ETOO_DEEP_EXPANDED:
		mlf_diag_at(c, sev, y->display, info->line, info->column, code,
			    "nested deeper than %d levels once its aliases are expanded",
			    MLF_MAX_DEPTH);
		break;
	case YU_ETOO_MANY_NODES:
		mlf_diag_at(c, sev, y->display, info->line, info->column, code,
			    "aliases expand this document to more than %d nodes", MLF_MAX_EXPANDED);
		break;
	}
}

/*
 * PyYAML's pure-Python scanner (what yaml.safe_load runs, and so MLflow)
 * skips only spaces between tokens and ends a plain scalar at a tab: any tab
 * outside a quoted scalar, a block scalar's content or a comment is "found
 * character '\t' that cannot start any token", where libyaml takes a tab
 * as white space. Finds the first such tab in text libyaml accepted (its
 * tokens give the scalars' spans); false when there is none (or on ENOMEM).
 */
typedef struct {
	size_t start, end; /* byte range */
	bool block;        /* literal or folded: the content after the first line */
} scalar_span;

static bool first_refused_tab(const char *data, size_t len, unsigned int *line,
			      unsigned int *column)
{
	yaml_parser_t parser;
	yaml_token_t tok;
	scalar_span *spans = NULL;
	size_t n = 0, cap = 0, k = 0;
	bool found = false, in_comment = false, ok = true;
	unsigned int l = 1, col = 1;

	if (!memchr(data, '\t', len) || !yaml_parser_initialize(&parser))
		return false;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	for (;;) {
		if (!yaml_parser_scan(&parser, &tok)) {
			ok = false;
			break;
		}
		yaml_token_type_t type = tok.type;
		if (type == YAML_SCALAR_TOKEN && tok.data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
			if (n == cap) {
				scalar_span *ns = realloc(spans, (cap = cap * 2 + 16) * sizeof(*ns));
				if (!ns) {
					yaml_token_delete(&tok);
					ok = false;
					break;
				}
				spans = ns;
			}
			spans[n].start = tok.start_mark.index;
			spans[n].end = tok.end_mark.index;
			spans[n].block = tok.data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
					 tok.data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
			n++;
		}
		yaml_token_delete(&tok);
		if (type == YAML_STREAM_END_TOKEN)
			break;
	}
	yaml_parser_delete(&parser);
	for (size_t i = 0; ok && i < len && !found; i++) {
		unsigned char ch = (unsigned char)data[i];
		while (k < n && spans[k].end <= i)
			k++;
		bool in_span = k < n && spans[k].start <= i;
		if (ch == '\n') {
			l++;
			col = 1;
			in_comment = false;
			continue;
		}
		if (!in_span && !in_comment && ch == '#' &&
		    (i == 0 || data[i - 1] == ' ' || data[i - 1] == '\t' || data[i - 1] == '\n' ||
		     data[i - 1] == '\r'))
			in_comment = true;
		if (ch == '\t' && !in_comment) {
			/* In a block scalar only the header line is scanned as tokens. */
			bool header = in_span && spans[k].block &&
				      !memchr(data + spans[k].start, '\n', i - spans[k].start);
			if (!in_span || header) {
				*line = l;
				*column = col;
				found = true;
			}
		}
		if ((ch & 0xc0) != 0x80)
			col++;
	}
	free(spans);
	return found;
}

bool mlf_yaml_load(mlf_ctx *c, mlf_yaml *y, const char *display, const char *data, size_t len,
		   const char *code, mreg_diag_severity sev)
{
	/* PyYAML's get_single_node reads the whole stream; the limits are mreg's. */
	static const yu_limits limits = {
		.max_bytes = MLF_MAX_FILE_SIZE,
		.max_depth = MLF_MAX_DEPTH,
		.max_nodes = MLF_MAX_EXPANDED,
		.aliases = true,
		.whole_stream = true,
		.untagged_null = true,
	};
	yu_load_info info;
	yu_status status;

	memset(y, 0, sizeof(*y));
	y->display = strdup(display);
	if (!y->display) {
		c->rc = mreg_seterr_nomem();
		return false;
	}
	status = yu_load(&y->doc, data, len, &limits, &info);
	y->loaded = true;
	if (info.second_line)
		mlf_diag_at(c, sev, y->display, info.second_line, info.second_column, code,
			    "expected a single document in the stream, but found another document");
	y->root = yaml_document_get_root_node(&y->doc);
	if (y->root)
		check_graph(c, y, code, sev);
	report_load_error(c, y, &info, code, sev);
	unsigned int tl, tc;
	if (status == YU_OK && first_refused_tab(data, len, &tl, &tc)) {
		mlf_diag_at(c, sev, y->display, tl, tc, code,
			    "YAML syntax error: found character '\\t' that cannot start any token "
			    "(MLflow reads YAML with PyYAML, which takes a tab only inside quotes, "
			    "comments and block scalars)");
		status = YU_ESYNTAX;
	}
	if (status != YU_OK)
		y->root = NULL;
	return status == YU_OK && (y->root || !yaml_document_get_root_node(&y->doc));
}

void mlf_yaml_dispose(mlf_yaml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	free(y->display);
	free(y->shadowed);
	memset(y, 0, sizeof(*y));
}

/* ---- types (PyYAML's implicit resolvers, YAML 1.1: util/yaml_resolve.c) ---- */

mlf_type mlf_type_of(const yaml_node_t *n)
{
	static const struct {
		const char *tag;
		mlf_type type;
	} tags[] = {
		{"tag:yaml.org,2002:int", MLF_INT}, {"tag:yaml.org,2002:float", MLF_FLOAT},
		{"tag:yaml.org,2002:bool", MLF_BOOL}, {"tag:yaml.org,2002:null", MLF_NULL},
		{"tag:yaml.org,2002:timestamp", MLF_TIMESTAMP},
		{"tag:yaml.org,2002:str", MLF_STR},
	};

	if (!n)
		return MLF_NONE;
	if (n->type == YAML_MAPPING_NODE)
		return MLF_MAP;
	if (n->type == YAML_SEQUENCE_NODE)
		return MLF_SEQ;
	if (n->type != YAML_SCALAR_NODE)
		return MLF_NONE;
	/* An explicit tag decides (the loader leaves scalars written without one untagged). */
	for (size_t i = 0; n->tag && i < sizeof(tags) / sizeof(*tags); i++)
		if (!strcmp((const char *)n->tag, tags[i].tag))
			return tags[i].type;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return MLF_STR;
	switch (yu_resolve((const char *)n->data.scalar.value, n->data.scalar.length, YU_PYYAML)) {
	case YU_NULL: return MLF_NULL;
	case YU_BOOL: return MLF_BOOL;
	case YU_INT: return MLF_INT;
	case YU_FLOAT: return MLF_FLOAT;
	case YU_TIMESTAMP: return MLF_TIMESTAMP;
	case YU_STR: break;
	}
	return MLF_STR;
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

/* The last pair of @map whose key is the scalar @key (as PyYAML keeps the last), or NULL. */
static yaml_node_pair_t *find_pair(const mlf_yaml *y, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *found = NULL;
	size_t len = strlen(key);

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&y->doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == len &&
		    !memcmp(k->data.scalar.value, key, len))
			found = p;
	}
	return found;
}

yaml_node_t *mlf_get_key(const mlf_yaml *y, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p = find_pair(y, map, key);

	return p ? yaml_document_get_node((yaml_document_t *)&y->doc, p->key) : NULL;
}

yaml_node_t *mlf_get(const mlf_yaml *y, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p = find_pair(y, map, key);

	return p ? yaml_document_get_node((yaml_document_t *)&y->doc, p->value) : NULL;
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

bool mlf_yaml_true(const char *s)
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
		/* Outside json_int_t a base-60 integer stays text (a cast would be UB). */
		if (!is_float && !(v >= -9.2e18 && v <= 9.2e18))
			return json_string(text);
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
	case MLF_BOOL: return json_boolean(mlf_yaml_true(mlf_text(n)));
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
		    mreg_diag_severity sev)
{
	const char *s, *why;

	if (mlf_is_null(n))
		return;
	s = mlf_str(n);
	if (!s) {
		mlf_diag(c, sev, y, n, "mlflow-path",
			 "%s must be a path (a string), not %s", what, mlf_type_name(mlf_type_of(n)));
		return;
	}
	why = mlf_path_problem(s, n->data.scalar.length);
	if (why) {
		mlf_diag(c, sev, y, n, "mlflow-path", "%s '%s' %s", what, s, why);
		return;
	}
	if (!mlf_exists(c, s))
		mlf_diag(c, sev, y, n, "mlflow-file-missing",
			 "%s names '%s', which is not in the model folder", what, s);
}
