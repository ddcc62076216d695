/*
 * mreg_records_query: the filters, orders and limit of `mreg list`, on the
 * records mreg_model_list() read (they are small: the file lists are the
 * bulk, and they are already in memory).
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mreg/registry.h"
#include "record_priv.h"
#include "util/error_priv.h"

typedef int (*record_cmp)(const mreg_record *a, const mreg_record *b);

static const char *tag_value(const mreg_record *r, const char *key)
{
	for (size_t i = 0; i < r->tag_count; i++)
		if (!strcmp(r->tags[i].key, key))
			return r->tags[i].value;
	return NULL;
}

static bool matches(const mreg_record *r, const mreg_list_query *q)
{
	if (q->name_glob && fnmatch(q->name_glob, r->name, 0) != 0)
		return false;
	if (q->type && strcmp(q->type, r->type))
		return false;
	if (q->stage && (q->stage[0] ? !r->stage || strcasecmp(q->stage, r->stage) : r->stage != NULL))
		return false;
	for (size_t i = 0; i < q->tag_count; i++) {
		const char *v = tag_value(r, q->tags[i].key);
		if (!v || (q->tags[i].value[0] && strcmp(v, q->tags[i].value)))
			return false;
	}
	return true;
}

/* mreg_model_list()'s own order: name, then creation time (then version). */
static int by_name(const mreg_record *a, const mreg_record *b)
{
	int c = strcmp(a->name, b->name);
	return c ? c : record_cmp_created(a, b);
}

/* RFC 3339 UTC times of one form compare as strings. */
static int by_created(const mreg_record *a, const mreg_record *b)
{
	int c = strcmp(a->created_at, b->created_at);
	return c ? c : by_name(a, b);
}

static int by_size(const mreg_record *a, const mreg_record *b)
{
	return a->total_size != b->total_size ? (a->total_size < b->total_size ? -1 : 1)
					      : by_name(a, b);
}

static int by_files(const mreg_record *a, const mreg_record *b)
{
	return a->file_count != b->file_count ? (a->file_count < b->file_count ? -1 : 1)
					      : by_name(a, b);
}

/* Versions as mreg orders them: numbers as numbers, before other strings. */
static int by_version(const mreg_record *a, const mreg_record *b)
{
	int c = strcmp(a->name, b->name);
	return c ? c : record_version_cmp(a->version, b->version);
}

typedef struct {
	record_cmp cmp;
	int dir; /* 1 ascending, -1 descending */
} sort_order;

static int cmp_records(const void *a, const void *b, void *ctx)
{
	const sort_order *o = ctx;

	return o->dir * o->cmp(*(mreg_record *const *)a, *(mreg_record *const *)b);
}

int mreg_records_query(mreg_record **recs, size_t *count, const mreg_list_query *q)
{
	static const struct {
		const char *key;
		record_cmp cmp;
	} orders[] = {{"name", by_name},
		      {"created", by_created},
		      {"size", by_size},
		      {"files", by_files},
		      {"version", by_version}};
	const char *key = q && q->sort ? q->sort : "name";
	record_cmp cmp = NULL;
	int dir = 1;
	size_t n = 0;

	if (!q || q->version != MREG_LIST_QUERY_VERSION)
		return mreg_seterr(MREG_EINVALID, "list query: unknown version");
	if (key[0] == '-') {
		dir = -1;
		key++;
	}
	for (size_t i = 0; i < sizeof(orders) / sizeof(*orders); i++)
		if (!strcmp(orders[i].key, key))
			cmp = orders[i].cmp;
	if (!cmp)
		return mreg_seterr(MREG_EINVALID,
				   "unknown sort key '%s' (name, created, size, files or version; "
				   "-KEY reverses)",
				   q->sort);
	for (size_t i = 0; i < *count; i++) {
		if (matches(recs[i], q))
			recs[n++] = recs[i];
		else
			mreg_record_free(recs[i]);
	}
	if (n > 1)
		qsort_r(recs, n, sizeof(*recs), cmp_records, &(sort_order){cmp, dir});
	if (q->limit && n > q->limit) {
		for (size_t i = q->limit; i < n; i++)
			mreg_record_free(recs[i]);
		n = q->limit;
	}
	*count = n;
	return 0;
}
