/* libyaml helpers: reading nodes, and the emitter mreg writes its YAML with. */
#include <stdlib.h>
#include <string.h>

#include "yamlutil.h"

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
