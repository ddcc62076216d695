#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_priv.h"
#include "mreg/diag.h"
#include "strutil.h"

struct mreg_diag_list {
	mreg_diag *items;
	size_t count;
	size_t cap;
};

int mreg_diag_list_new(mreg_diag_list **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : mreg_seterr_nomem();
}

static void diag_dispose(mreg_diag *d)
{
	free((char *)d->file);
	free((char *)d->code);
	free((char *)d->message);
}

void mreg_diag_list_free(mreg_diag_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		diag_dispose(&list->items[i]);
	free(list->items);
	free(list);
}

int mreg_diag_add(mreg_diag_list *list, mreg_diag_severity severity, const char *file,
		  unsigned int line, unsigned int column, const char *code, const char *fmt, ...)
{
	mreg_diag d = {.severity = severity, .line = line, .column = column};
	va_list ap;
	char *msg = NULL;

	if (!list)
		return 0;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	d.file = str_dup(file ? file : "");
	d.code = str_dup(code ? code : "");
	d.message = msg;
	if (!d.file || !d.code || !d.message)
		goto nomem;
	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		mreg_diag *items = realloc(list->items, cap * sizeof(*items));
		if (!items)
			goto nomem;
		list->items = items;
		list->cap = cap;
	}
	list->items[list->count++] = d;
	return 0;
nomem:
	diag_dispose(&d);
	return mreg_seterr_nomem();
}

size_t mreg_diag_count(const mreg_diag_list *list)
{
	return list ? list->count : 0;
}

size_t mreg_diag_count_severity(const mreg_diag_list *list, mreg_diag_severity severity)
{
	size_t n = 0;

	for (size_t i = 0; list && i < list->count; i++)
		n += list->items[i].severity == severity;
	return n;
}

const mreg_diag *mreg_diag_get(const mreg_diag_list *list, size_t i)
{
	return list && i < list->count ? &list->items[i] : NULL;
}

int mreg_diag_rebase(mreg_diag_list *list, size_t from, const char *old_prefix,
		     const char *new_prefix)
{
	size_t n = strlen(old_prefix);

	for (size_t i = from; list && i < list->count; i++) {
		const char *f = list->items[i].file;
		if (strncmp(f, old_prefix, n) || (f[n] && f[n] != '/'))
			continue;
		char *renamed = str_printf("%s%s", new_prefix, f + n);
		if (!renamed)
			return mreg_seterr_nomem();
		free((char *)list->items[i].file);
		list->items[i].file = renamed;
	}
	return 0;
}

void mreg_diag_sort(mreg_diag_list *list)
{
	/* Insertion sort: stable, and lists are short. */
	for (size_t i = 1; list && i < list->count; i++) {
		mreg_diag d = list->items[i];
		size_t j = i;
		while (j > 0) {
			const mreg_diag *p = &list->items[j - 1];
			int c = strcmp(p->file, d.file);
			if (c < 0 || (c == 0 && (p->line < d.line ||
						 (p->line == d.line && p->column <= d.column))))
				break;
			list->items[j] = *p;
			j--;
		}
		list->items[j] = d;
	}
}

const char *mreg_diag_severity_name(mreg_diag_severity severity)
{
	switch (severity) {
	case MREG_DIAG_ERROR: return "error";
	case MREG_DIAG_WARNING: return "warning";
	case MREG_DIAG_NOTE: return "note";
	}
	return "error";
}

/* @s as a terminal may show it (see str_escape_controls). */
static void put_visible(strbuf *sb, const char *s)
{
	size_t size;
	char *clean;

	if (!str_needs_escape(s)) {
		strbuf_puts(sb, s);
		return;
	}
	size = strlen(s) * 6 + 1; /* the longest escape, \u00HH, stands for 2 bytes */
	if (!(clean = malloc(size))) {
		strbuf_puts(sb, "(unprintable)");
		return;
	}
	str_escape_controls(clean, size, s);
	strbuf_puts(sb, clean);
	free(clean);
}

char *mreg_diag_format(const mreg_diag *d)
{
	strbuf sb = STRBUF_INIT;

	/* File names and messages come from untrusted models and bundles. */
	put_visible(&sb, d->file);
	if (d->line) {
		strbuf_printf(&sb, ":%u", d->line);
		if (d->column)
			strbuf_printf(&sb, ":%u", d->column);
	}
	strbuf_printf(&sb, ": %s: ", mreg_diag_severity_name(d->severity));
	put_visible(&sb, d->message);
	if (d->code[0])
		strbuf_printf(&sb, " [%s]", d->code);
	return strbuf_detach(&sb);
}
