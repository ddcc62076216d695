#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "error_priv.h"
#include "yamlutil.h"

/* Refuse what the document loader should never see; 0 when the shape is fine. */
static int scan_shape(FILE *f, const char *path, int errcode, bool aliases, unsigned int *line,
		      unsigned int *col, char *problem, size_t problem_size)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct stat st;
	const char *what = NULL;
	int depth = 0, rc = 0;

	if (fstat(fileno(f), &st) == 0 && (uint64_t)st.st_size > YU_MAX_BYTES)
		return mreg_seterr(errcode, "%s: %lld bytes is too large for this file (at most %u)",
				   path, (long long)st.st_size, YU_MAX_BYTES);
	if (!yaml_parser_initialize(&parser))
		return mreg_seterr_nomem();
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev))
			break; /* syntax errors are reported by the real load */
		yaml_event_type_t type = ev.type;
		if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
			if (++depth > YU_MAX_DEPTH)
				what = "nesting is too deep";
		} else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
			depth--;
		} else if (type == YAML_ALIAS_EVENT && !aliases) {
			what = "aliases (*name) are not allowed in this file";
		}
		if (what) {
			unsigned int l = (unsigned int)ev.start_mark.line + 1;
			unsigned int c = (unsigned int)ev.start_mark.column + 1;
			rc = mreg_seterr(errcode, "%s:%u:%u: %s", path, l, c, what);
			if (line)
				*line = l;
			if (col)
				*col = c;
			if (problem)
				snprintf(problem, problem_size, "%s", what);
		}
		yaml_event_delete(&ev);
		if (what || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&parser);
	rewind(f);
	return rc;
}

int yu_load_file(yaml_document_t *doc, const char *path, int errcode, bool aliases,
		 unsigned int *line, unsigned int *col, char *problem, size_t problem_size)
{
	yaml_parser_t parser;
	FILE *f;
	int rc = 0;

	f = fopen(path, "rb");
	if (!f)
		return mreg_seterr_errno("%s", path);
	if ((rc = scan_shape(f, path, errcode, aliases, line, col, problem, problem_size))) {
		memset(doc, 0, sizeof(*doc));
		fclose(f);
		return rc;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return mreg_seterr_nomem();
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, doc)) {
		unsigned int l = (unsigned int)parser.problem_mark.line + 1;
		unsigned int c = (unsigned int)parser.problem_mark.column + 1;
		const char *what = parser.problem ? parser.problem : "cannot parse";

		if (parser.error == YAML_MEMORY_ERROR) {
			rc = mreg_seterr_nomem();
		} else if (parser.error == YAML_READER_ERROR) {
			rc = mreg_seterr(errcode, "%s: %s", path, what);
			l = c = 0;
		} else if (parser.context) {
			rc = mreg_seterr(errcode, "%s:%u:%u: %s %s", path, l, c, what, parser.context);
		} else {
			rc = mreg_seterr(errcode, "%s:%u:%u: %s", path, l, c, what);
		}
		if (line)
			*line = l;
		if (col)
			*col = c;
		if (problem)
			snprintf(problem, problem_size, "%s%s%s", what,
				 parser.context ? " " : "", parser.context ? parser.context : "");
		memset(doc, 0, sizeof(*doc));
	} else if (ferror(f)) {
		yaml_document_delete(doc);
		memset(doc, 0, sizeof(*doc));
		rc = mreg_seterr_errno("%s: read", path);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

yaml_node_t *yu_map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = yu_scalar(yaml_document_get_node(doc, p->key));
		if (k && !strcmp(k, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

const char *yu_scalar(const yaml_node_t *node)
{
	if (!node || node->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)node->data.scalar.value;
}

bool yu_plain(const yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE &&
	       node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

const char *yu_kind(const yaml_node_t *node)
{
	if (!node)
		return "nothing";
	switch (node->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_SCALAR_NODE: return "a scalar";
	default: return "nothing";
	}
}

/* Compiled once (pthread_once): the pattern of plain scalars that are not strings. */
static regex_t number;
static bool number_ok;
static void compile_number(void);

bool yu_needs_quotes(const char *s)
{
	static const char *special[] = {"", "~", "null", "Null", "NULL", "true", "True", "TRUE",
		"false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON",
		"off", "Off", "OFF", "y", "Y", "n", "N", ".inf", ".Inf", ".INF", "-.inf", "+.inf",
		".nan", ".NaN", ".NAN"};
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	for (size_t i = 0; i < sizeof(special) / sizeof(*special); i++)
		if (!strcmp(s, special[i]))
			return true;
	pthread_once(&once, compile_number);
	return number_ok && regexec(&number, s, 0, NULL, 0) == 0;
}

static void compile_number(void)
{
	/* ints (with _ and 0x/0o/0b), floats, sexagesimal, timestamps: YAML 1.1 and 1.2 */
	number_ok = regcomp(&number,
			    "^[-+]?(0[xob][0-9a-fA-F_]+|[0-9][0-9_]*(:[0-5]?[0-9])*|"
			    "[0-9_]*\\.[0-9_]*([eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+|"
			    "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?)$",
			    REG_EXTENDED | REG_NOSUB) == 0;
}

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	yu_writer *w = data;

	strbuf_add(&w->out, (const char *)buffer, size);
	return !w->out.failed;
}

static void emit(yu_writer *w, yaml_event_t *ev, int ok)
{
	if (!ok || w->failed) {
		if (ok)
			yaml_event_delete(ev);
		w->failed = true;
		return;
	}
	if (!yaml_emitter_emit(&w->emitter, ev))
		w->failed = true;
}

void yu_writer_init(yu_writer *w)
{
	yaml_event_t ev;

	memset(w, 0, sizeof(*w));
	if (!yaml_emitter_initialize(&w->emitter)) {
		w->failed = true;
		return;
	}
	yaml_emitter_set_output(&w->emitter, write_handler, w);
	yaml_emitter_set_unicode(&w->emitter, 1);
	yaml_emitter_set_width(&w->emitter, 100);
	yaml_emitter_set_indent(&w->emitter, 2);
	emit(w, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(w, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
}

char *yu_writer_finish(yu_writer *w, size_t *len)
{
	yaml_event_t ev;
	char *out;

	emit(w, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(w, &ev, yaml_stream_end_event_initialize(&ev));
	if (!w->failed && !yaml_emitter_flush(&w->emitter))
		w->failed = true;
	if (w->failed)
		return NULL;
	if (len)
		*len = w->out.len;
	out = strbuf_detach(&w->out);
	return out;
}

void yu_writer_dispose(yu_writer *w)
{
	yaml_emitter_delete(&w->emitter);
	strbuf_dispose(&w->out);
}

void yu_map_start(yu_writer *w)
{
	yaml_event_t ev;
	emit(w, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

void yu_map_end(yu_writer *w)
{
	yaml_event_t ev;
	emit(w, &ev, yaml_mapping_end_event_initialize(&ev));
}

void yu_seq_start(yu_writer *w)
{
	yaml_event_t ev;
	emit(w, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
}

void yu_seq_end(yu_writer *w)
{
	yaml_event_t ev;
	emit(w, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void scalar(yu_writer *w, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	emit(w, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
						  1, 1, style));
}

void yu_str(yu_writer *w, const char *s)
{
	scalar(w, s, yu_needs_quotes(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
}

void yu_raw(yu_writer *w, const char *s)
{
	scalar(w, s, YAML_PLAIN_SCALAR_STYLE);
}

void yu_kv(yu_writer *w, const char *key, const char *value)
{
	yu_str(w, key);
	yu_str(w, value);
}
