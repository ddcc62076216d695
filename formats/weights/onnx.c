/*
 * ONNX: a model file is one protobuf message, ModelProto (onnx/onnx.proto).
 * It is read here by a hand-written walker over the protobuf wire format
 * (varints and length-delimited fields, every length checked against its
 * enclosing message and the file), not by libprotobuf-c with onnx.proto
 * compiled at build time. Why: protobuf-c unpacks a whole message from one
 * buffer, so a 2 GB model whose initializers hold the weights inline would be
 * read into memory whole; the walker reads field headers and the few strings
 * it needs and steps over everything else (raw_data included) by offset, so it
 * reads kilobytes of a multi-gigabyte file. It is also smaller (this file
 * against a generated onnx.pb-c.c of several thousand lines plus a new
 * dependency) and its one job, bounds, is visible in one place.
 *
 * What is checked, after onnx/checker.cc (check_model, check_tensor) and
 * onnx/external_data_helper.py / checker.cc's resolve_external_data_location:
 *   - the wire format itself: known wire types, varints of at most 10 bytes,
 *     lengths inside the enclosing message, nesting at most 64 deep;
 *   - ir_version set and positive; opset_import present from IR version 3;
 *     a graph;
 *   - every tensor of every graph (initializers, sparse initializers, node
 *     attributes, subgraphs): a known data_type, dims not negative, raw_data
 *     as long as dims x the type's size;
 *   - external data (data_location EXTERNAL): a "location" that is relative,
 *     has no "..", and names a regular file the model holds (next to the
 *     .onnx file), long enough for offset + length.
 * Parameters are the elements of every graph's initializers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "util/path.h"
#include "util/strutil.h"
#include "weights/weights.h"

#define E MREG_DIAG_ERROR

#define ONNX_MAX_DEPTH 64
#define ONNX_MAX_LOCATION 4096

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

/* TensorProto.DataType: name, bits per element (0: variable), ModelPack's precision. */
static const struct {
	const char *name;
	unsigned bits;
	const char *precision;
} onnx_types[] = {
	[1] = {"FLOAT", 32, "float32"},
	[2] = {"UINT8", 8, "uint8"},
	[3] = {"INT8", 8, "int8"},
	[4] = {"UINT16", 16, "uint16"},
	[5] = {"INT16", 16, "int16"},
	[6] = {"INT32", 32, "int32"},
	[7] = {"INT64", 64, "int64"},
	[8] = {"STRING", 0, "string"},
	[9] = {"BOOL", 8, "bool"},
	[10] = {"FLOAT16", 16, "float16"},
	[11] = {"DOUBLE", 64, "float64"},
	[12] = {"UINT32", 32, "uint32"},
	[13] = {"UINT64", 64, "uint64"},
	[14] = {"COMPLEX64", 64, "complex64"},
	[15] = {"COMPLEX128", 128, "complex128"},
	[16] = {"BFLOAT16", 16, "bfloat16"},
	[17] = {"FLOAT8E4M3FN", 8, "float8_e4m3"},
	[18] = {"FLOAT8E4M3FNUZ", 8, "float8_e4m3fnuz"},
	[19] = {"FLOAT8E5M2", 8, "float8_e5m2"},
	[20] = {"FLOAT8E5M2FNUZ", 8, "float8_e5m2fnuz"},
	[21] = {"UINT4", 4, "uint4"},
	[22] = {"INT4", 4, "int4"},
	[23] = {"FLOAT4E2M1", 4, "float4_e2m1"},
	[24] = {"FLOAT8E8M0", 8, "float8_e8m0"},
	[25] = {"UINT2", 2, "uint2"},
	[26] = {"INT2", 2, "int2"},
};
#define ONNX_TYPE_COUNT (sizeof(onnx_types) / sizeof(*onnx_types))

typedef struct {
	wsrc *src;
	wdiag *d;
	winfo *info;
	const char *rel;          /* the .onnx file in the model */
	weights_lookup_fn lookup;
	void *lookup_ctx;
	bool failed;              /* the wire format broke: stop */
	uint64_t tensors;         /* initializers seen, for messages */
} oreader;

typedef struct {
	uint32_t num;
	unsigned wt;
	uint64_t v;        /* a varint's value */
	uint64_t off, len; /* a length-delimited field's bytes */
	uint64_t at;       /* where the field begins */
} ofield;

static void malformed(oreader *o, uint64_t at, const char *what)
{
	if (!o->failed)
		wdiag_add(o->d, E, "onnx-malformed", "not a valid ONNX protobuf at byte %llu: %s",
			  (unsigned long long)at, what);
	o->failed = true;
}

/* Something runs past @end: the file's end (truncated) or its message's (malformed). */
static void overrun(oreader *o, uint64_t at, uint64_t end, const char *what)
{
	if (o->failed)
		return;
	if (end == o->src->size)
		wdiag_add(o->d, E, "onnx-truncated",
			  "%s at byte %llu runs past the end of the file (%llu bytes): truncated?", what,
			  (unsigned long long)at, (unsigned long long)o->src->size);
	else
		malformed(o, at, "a field runs past the end of the message that holds it");
	o->failed = true;
}

static bool varint(oreader *o, uint64_t *pos, uint64_t end, uint64_t *v)
{
	uint64_t start = *pos;
	unsigned char b;
	int got;

	*v = 0;
	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (*pos >= end) {
			overrun(o, start, end, "a number");
			return false;
		}
		if ((got = wsrc_get(o->src, *pos, &b, 1))) {
			wdiag_read(o->d, o->src, "onnx-truncated", got, *pos, "a number");
			o->failed = true;
			return false;
		}
		(*pos)++;
		if (shift == 63 && b > 1) {
			malformed(o, start, "a number longer than 64 bits");
			return false;
		}
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	malformed(o, start, "a number longer than 10 bytes");
	return false;
}

/* The next field of the message ending at @end: 1, 0 at its end, -1 when broken. */
static int next_field(oreader *o, uint64_t *pos, uint64_t end, ofield *f)
{
	uint64_t key, at = *pos;

	if (o->failed)
		return -1;
	if (*pos >= end)
		return 0;
	if (!varint(o, pos, end, &key))
		return -1;
	f->num = (uint32_t)(key >> 3);
	f->wt = key & 7;
	f->at = at;
	if (key >> 3 == 0 || key >> 3 > 0x1fffffff) {
		malformed(o, at, "a field number out of protobuf's range");
		return -1;
	}
	switch (f->wt) {
	case WT_VARINT:
		return varint(o, pos, end, &f->v) ? 1 : -1;
	case WT_I64:
	case WT_I32: {
		uint64_t n = f->wt == WT_I64 ? 8 : 4;
		if (n > end - *pos) {
			overrun(o, *pos, end, "a fixed-size number");
			return -1;
		}
		*pos += n;
		return 1;
	}
	case WT_LEN:
		if (!varint(o, pos, end, &f->len))
			return -1;
		if (f->len > end - *pos) {
			overrun(o, at, end, "a field's bytes");
			return -1;
		}
		f->off = *pos;
		*pos += f->len;
		return 1;
	case WT_SGROUP:
	case WT_EGROUP:
		malformed(o, at, "a protobuf group, which onnx.proto does not use");
		return -1;
	default:
		malformed(o, at, "an unknown protobuf wire type");
		return -1;
	}
}

static bool want(oreader *o, const ofield *f, unsigned wt, const char *what)
{
	char msg[128];

	if (f->wt == wt)
		return true;
	snprintf(msg, sizeof(msg), "%s has the wrong wire type", what);
	malformed(o, f->at, msg);
	return false;
}

/* A string field into @buf (cut to @cap - 1 bytes; *cut says so). */
static bool read_str(oreader *o, const ofield *f, char *buf, size_t cap, bool *cut)
{
	size_t n = f->len < cap - 1 ? (size_t)f->len : cap - 1;
	int got;

	if (cut)
		*cut = f->len >= cap;
	if ((got = wsrc_get(o->src, f->off, buf, n))) {
		wdiag_read(o->d, o->src, "onnx-truncated", got, f->off, "a string");
		o->failed = true;
		return false;
	}
	buf[n] = '\0';
	return true;
}

static bool parse_decimal(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || __builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, (uint64_t)(*s - '0'), &x))
			return false;
	}
	*v = x;
	return true;
}

/* The external file's path in the model: the .onnx file's folder, then @loc
 * without "." and empty components. NULL when out of memory. */
static char *external_rel(const char *onnx_rel, const char *loc)
{
	const char *slash = strrchr(onnx_rel, '/');
	strbuf sb = STRBUF_INIT;

	if (slash)
		strbuf_add(&sb, onnx_rel, (size_t)(slash - onnx_rel));
	for (const char *p = loc; *p;) {
		size_t n = strcspn(p, "/");
		if (n && !(n == 1 && p[0] == '.')) {
			if (sb.len)
				strbuf_puts(&sb, "/");
			strbuf_add(&sb, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return strbuf_detach(&sb);
}

typedef struct {
	char name[160];
	bool has_type, has_raw, external, has_loc, has_off, has_len, bad_dims, overflow;
	uint32_t type;
	uint64_t raw_len, elements;
	char loc[ONNX_MAX_LOCATION];
	bool loc_cut, loc_nul;
	char off[32], len[32];
	bool off_cut, len_cut;
} otensor;

static void parse_entry(oreader *o, const ofield *f, otensor *t)
{
	uint64_t pos = f->off, end = f->off + f->len;
	char key[32] = "";
	bool key_cut = true;
	ofield v = {0};
	ofield g;
	int r;

	while ((r = next_field(o, &pos, end, &g)) > 0) {
		if (g.num == 1 && want(o, &g, WT_LEN, "an external_data key"))
			read_str(o, &g, key, sizeof(key), &key_cut);
		else if (g.num == 2 && want(o, &g, WT_LEN, "an external_data value"))
			v = g;
	}
	if (r < 0 || key_cut || !v.wt)
		return;
	if (!strcmp(key, "location")) {
		t->has_loc = read_str(o, &v, t->loc, sizeof(t->loc), &t->loc_cut);
		t->loc_nul = t->has_loc && !t->loc_cut && strlen(t->loc) != v.len;
	} else if (!strcmp(key, "offset")) {
		t->has_off = read_str(o, &v, t->off, sizeof(t->off), &t->off_cut);
	} else if (!strcmp(key, "length")) {
		t->has_len = read_str(o, &v, t->len, sizeof(t->len), &t->len_cut);
	}
}

static void check_external(oreader *o, otensor *t, uint64_t need)
{
	uint64_t off = 0, len = 0, size = 0, end;
	const char *why = NULL;
	char *rel = NULL;
	unsigned bad;

	if (!t->has_loc || !t->loc[0]) {
		wdiag_add(o->d, E, "onnx-external-location",
			  "tensor '%s' keeps its data outside the file but names no location",
			  t->name);
		return;
	}
	if (t->loc_cut) {
		wdiag_add(o->d, E, "onnx-external-location",
			  "tensor '%s': its external data location is longer than %u bytes", t->name,
			  ONNX_MAX_LOCATION - 1);
		return;
	}
	bad = path_problems(t->loc, PATH_REJECT_ABSOLUTE | PATH_REJECT_TRAVERSAL |
					    PATH_REJECT_CONTROL | PATH_REJECT_NON_UTF8);
	if (bad || t->loc_nul) {
		wdiag_add(o->d, E, "onnx-external-location",
			  "tensor '%s': external data location '%s' %s", t->name, t->loc,
			  bad & PATH_REJECT_ABSOLUTE    ? "is absolute; ONNX wants a path relative "
							  "to the model file"
			  : bad & PATH_REJECT_TRAVERSAL ? "contains '..'; ONNX refuses a location "
							  "outside the model's folder"
							: "is not a printable UTF-8 path");
		return;
	}
	if ((t->has_off && (t->off_cut || !parse_decimal(t->off, &off))) ||
	    (t->has_len && (t->len_cut || !parse_decimal(t->len, &len)))) {
		wdiag_add(o->d, E, "onnx-external-location",
			  "tensor '%s': external data offset or length is not a decimal number",
			  t->name);
		return;
	}
	if (!(rel = external_rel(o->rel, t->loc))) {
		o->d->rc = mreg_seterr_nomem();
		return;
	}
	if (o->lookup(o->lookup_ctx, rel, &size, &why)) {
		wdiag_add(o->d, E, "onnx-external-missing",
			  "tensor '%s' keeps its data in '%s': %s", t->name, t->loc, why);
	} else if (t->has_len && need != UINT64_MAX && len != need) {
		wdiag_add(o->d, E, "onnx-tensor-size",
			  "tensor '%s': its dims and type make %llu bytes, but its external data "
			  "length is %llu",
			  t->name, (unsigned long long)need, (unsigned long long)len);
	} else {
		if (!t->has_len)
			len = need == UINT64_MAX ? 0 : need;
		if (__builtin_add_overflow(off, len, &end) || end > size)
			wdiag_add(o->d, E, "onnx-external-size",
				  "tensor '%s' needs bytes %llu to %llu of '%s', which has %llu: "
				  "truncated?",
				  t->name, (unsigned long long)off, (unsigned long long)off + len,
				  t->loc, (unsigned long long)size);
	}
	free(rel);
}

/* A TensorProto; @initializer counts it as the model's parameters. */
static void parse_tensor(oreader *o, const ofield *f, bool initializer)
{
	uint64_t pos = f->off, end = f->off + f->len, need = UINT64_MAX;
	otensor *t = calloc(1, sizeof(*t));
	ofield g;
	int r;

	if (!t) {
		o->d->rc = mreg_seterr_nomem();
		o->failed = true;
		return;
	}
	t->elements = 1;
	while ((r = next_field(o, &pos, end, &g)) > 0) {
		switch (g.num) {
		case 1: /* dims: repeated int64, packed or not */
			if (g.wt == WT_VARINT) {
				if ((int64_t)g.v < 0)
					t->bad_dims = true;
				else if (__builtin_mul_overflow(t->elements, g.v, &t->elements))
					t->overflow = true;
			} else if (want(o, &g, WT_LEN, "dims")) {
				uint64_t p = g.off, v;
				while (p < g.off + g.len && varint(o, &p, g.off + g.len, &v)) {
					if ((int64_t)v < 0)
						t->bad_dims = true;
					else if (__builtin_mul_overflow(t->elements, v, &t->elements))
						t->overflow = true;
				}
			}
			break;
		case 2:
			if (want(o, &g, WT_VARINT, "data_type")) {
				t->has_type = true;
				t->type = g.v > UINT32_MAX ? UINT32_MAX : (uint32_t)g.v;
			}
			break;
		case 8:
			if (want(o, &g, WT_LEN, "a tensor name"))
				read_str(o, &g, t->name, sizeof(t->name), NULL);
			break;
		case 9:
			if (want(o, &g, WT_LEN, "raw_data")) {
				t->has_raw = true;
				t->raw_len = g.len;
			}
			break;
		case 13:
			if (want(o, &g, WT_LEN, "external_data"))
				parse_entry(o, &g, t);
			break;
		case 14:
			if (want(o, &g, WT_VARINT, "data_location"))
				t->external = g.v == 1;
			break;
		}
	}
	if (r < 0 || o->failed)
		goto done;
	if (!t->name[0])
		snprintf(t->name, sizeof(t->name), "#%llu", (unsigned long long)o->tensors);
	if (!t->has_type || !t->type || t->type >= ONNX_TYPE_COUNT || !onnx_types[t->type].name) {
		if (!t->has_type || !t->type)
			wdiag_add(o->d, E, "onnx-tensor-type",
				  "tensor '%s' has no data_type (0, UNDEFINED)", t->name);
		else
			wdiag_add(o->d, E, "onnx-tensor-type",
				  "tensor '%s' has data_type %u, which ONNX does not define", t->name,
				  t->type);
		goto done;
	}
	if (t->bad_dims || t->overflow) {
		wdiag_add(o->d, E, "onnx-tensor-dims", "tensor '%s' has %s", t->name,
			  t->bad_dims ? "a negative dimension" : "more elements than 64 bits count");
		goto done;
	}
	if (onnx_types[t->type].bits) {
		uint64_t bits;
		if (!__builtin_mul_overflow(t->elements, (uint64_t)onnx_types[t->type].bits, &bits))
			need = bits / 8 + (bits % 8 != 0);
	}
	if (t->external)
		check_external(o, t, need);
	else if (t->has_raw && need != UINT64_MAX && t->raw_len != need)
		wdiag_add(o->d, E, "onnx-tensor-size",
			  "tensor '%s': its dims and type %s make %llu bytes, but raw_data holds %llu",
			  t->name, onnx_types[t->type].name, (unsigned long long)need,
			  (unsigned long long)t->raw_len);
	if (initializer)
		winfo_add(o->info, onnx_types[t->type].name, onnx_types[t->type].precision,
			  t->elements);
done:
	o->tensors++;
	free(t);
}

static void parse_graph(oreader *o, const ofield *f, unsigned depth);

/* SparseTensorProto: values (the parameters) and indices. */
static void parse_sparse(oreader *o, const ofield *f, bool initializer)
{
	uint64_t pos = f->off, end = f->off + f->len;
	ofield g;

	while (next_field(o, &pos, end, &g) > 0)
		if ((g.num == 1 || g.num == 2) && want(o, &g, WT_LEN, "a sparse tensor part"))
			parse_tensor(o, &g, initializer && g.num == 1);
}

/* AttributeProto: t (5), g (6), tensors (10), graphs (11), sparse_tensor(s) (22, 23). */
static void parse_attribute(oreader *o, const ofield *f, unsigned depth)
{
	uint64_t pos = f->off, end = f->off + f->len;
	ofield g;

	while (next_field(o, &pos, end, &g) > 0) {
		if ((g.num == 5 || g.num == 10) && want(o, &g, WT_LEN, "an attribute's tensor"))
			parse_tensor(o, &g, false);
		else if ((g.num == 6 || g.num == 11) && want(o, &g, WT_LEN, "an attribute's graph"))
			parse_graph(o, &g, depth + 1);
		else if ((g.num == 22 || g.num == 23) &&
			 want(o, &g, WT_LEN, "an attribute's sparse tensor"))
			parse_sparse(o, &g, false);
	}
}

static void parse_node(oreader *o, const ofield *f, unsigned depth)
{
	uint64_t pos = f->off, end = f->off + f->len;
	ofield g;

	while (next_field(o, &pos, end, &g) > 0)
		if (g.num == 5 && want(o, &g, WT_LEN, "a node attribute"))
			parse_attribute(o, &g, depth);
}

/* GraphProto: node (1), initializer (5), sparse_initializer (15). */
static void parse_graph(oreader *o, const ofield *f, unsigned depth)
{
	uint64_t pos = f->off, end = f->off + f->len;
	ofield g;

	if (depth > ONNX_MAX_DEPTH) {
		malformed(o, f->off, "graphs nested more than 64 deep");
		return;
	}
	while (next_field(o, &pos, end, &g) > 0) {
		if (g.num == 1 && want(o, &g, WT_LEN, "a node"))
			parse_node(o, &g, depth);
		else if (g.num == 5 && want(o, &g, WT_LEN, "an initializer"))
			parse_tensor(o, &g, true);
		else if (g.num == 15 && want(o, &g, WT_LEN, "a sparse initializer"))
			parse_sparse(o, &g, true);
	}
}

int weights_check_onnx(wsrc *src, wdiag *d, winfo *info, const char *rel, weights_lookup_fn lookup,
		       void *lookup_ctx)
{
	oreader o = {.src = src, .d = d, .info = info, .rel = rel, .lookup = lookup,
		     .lookup_ctx = lookup_ctx};
	uint64_t pos = 0, ir = 0, opsets = 0;
	bool have_ir = false, have_graph = false;
	ofield f;
	int r;

	while ((r = next_field(&o, &pos, src->size, &f)) > 0) {
		if (f.num == 1 && want(&o, &f, WT_VARINT, "ir_version")) {
			have_ir = true;
			ir = f.v;
		} else if (f.num == 8 && want(&o, &f, WT_LEN, "opset_import")) {
			opsets++;
		} else if (f.num == 7 && want(&o, &f, WT_LEN, "graph")) {
			have_graph = true;
			parse_graph(&o, &f, 1);
		}
	}
	if (o.failed || d->rc)
		goto done;
	if (!have_ir || (int64_t)ir <= 0)
		wdiag_add(d, E, "onnx-ir-version", "the model has no ir_version (ModelProto field 1)%s",
			  src->size ? "" : ": the file is empty");
	else if (ir >= 3 && !opsets)
		wdiag_add(d, E, "onnx-opset",
			  "the model (IR version %llu) imports no operator set (opset_import)",
			  (unsigned long long)ir);
	if (!have_graph)
		wdiag_add(d, E, "onnx-graph", "the model has no graph (ModelProto field 7)");
	if (!d->errors)
		info->format = "onnx";
done:
	if (d->errors) {
		info->tensors = info->parameters = 0;
		info->ndtypes = 0;
	}
	return d->rc;
}
