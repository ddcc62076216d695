/*
 * safetensors: the checks of the reference reader, huggingface/safetensors
 * (safetensors/src/tensor.rs: SafeTensors::read_metadata, then
 * Metadata::validate), one diagnostic code per check. The file is
 *   8 bytes   N, the header's length, little-endian (at most 100,000,000)
 *   N bytes   a UTF-8 JSON object: "__metadata__" (string to string) and, per
 *             tensor, {"dtype", "shape", "data_offsets": [begin, end]}
 *   the rest  the tensors' bytes; offsets count from here
 * Only the header is read. The tensors, sorted by offsets, must cover the
 * data exactly: the first begins at 0, each begins where the previous ends,
 * each is as long as its shape times its dtype's size, the last ends at the
 * end of the file. Where the reference stops at its first error, this
 * reader goes on and reports every tensor that breaks a rule.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/error_priv.h"
#include "weights/weights.h"

#define E MREG_DIAG_ERROR

/* tensor.rs's Dtype and size_in_bits(), with ModelPack's precision names. */
static const struct {
	const char *name;
	unsigned bits;
	const char *precision;
} st_dtypes[] = {
	{"BOOL", 8, "bool"},
	{"F4", 4, "float4_e2m1"},
	{"F6_E2M3", 6, "float6_e2m3"},
	{"F6_E3M2", 6, "float6_e3m2"},
	{"U8", 8, "uint8"},
	{"I8", 8, "int8"},
	{"F8_E5M2", 8, "float8_e5m2"},
	{"F8_E4M3", 8, "float8_e4m3"},
	{"F8_E8M0", 8, "float8_e8m0"},
	{"I16", 16, "int16"},
	{"U16", 16, "uint16"},
	{"F16", 16, "float16"},
	{"BF16", 16, "bfloat16"},
	{"I32", 32, "int32"},
	{"U32", 32, "uint32"},
	{"F32", 32, "float32"},
	{"C64", 64, "complex64"},
	{"F64", 64, "float64"},
	{"I64", 64, "int64"},
	{"U64", 64, "uint64"},
};

typedef struct {
	const char *name;
	int dtype;          /* index in st_dtypes */
	uint64_t begin, end;
	uint64_t elements;
	bool overflow;      /* shape x dtype size does not fit 64 bits */
} st_tensor;

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF), as Rust's str::from_utf8. */
static bool utf8_ok(const unsigned char *s, size_t n, size_t *bad)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], len, min;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, min = 0x10000, cp = c & 0x07;
		else
			goto fail;
		if (n - i < len)
			goto fail;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto fail;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto fail;
		i += len;
	}
	return true;
fail:
	*bad = i;
	return false;
}

static bool get_u64(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* One tensor entry: its fields, or a diagnostic. */
static bool read_entry(wdiag *d, const char *name, json_t *v, st_tensor *t)
{
	json_t *dtype = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape"),
	       *offs = json_object_get(v, "data_offsets");
	const char *dn;
	size_t i;

	if (!json_is_object(v)) {
		wdiag_add(d, E, "safetensors-tensor",
			  "tensor '%.200s' is not an object with dtype, shape and data_offsets", name);
		return false;
	}
	if (!json_is_string(dtype) || !json_is_array(shape) || !json_is_array(offs)) {
		wdiag_add(d, E, "safetensors-tensor", "tensor '%.200s' has no %s", name,
			  !json_is_string(dtype) ? "dtype string"
			  : !json_is_array(shape) ? "shape array"
						  : "data_offsets array");
		return false;
	}
	dn = json_string_value(dtype);
	for (i = 0; i < sizeof(st_dtypes) / sizeof(*st_dtypes); i++)
		if (!strcmp(dn, st_dtypes[i].name))
			break;
	if (i == sizeof(st_dtypes) / sizeof(*st_dtypes)) {
		wdiag_add(d, E, "safetensors-dtype",
			  "tensor '%.200s' has dtype '%.40s', which safetensors does not know", name, dn);
		return false;
	}
	t->name = name;
	t->dtype = (int)i;
	if (json_array_size(offs) != 2 || !get_u64(json_array_get(offs, 0), &t->begin) ||
	    !get_u64(json_array_get(offs, 1), &t->end)) {
		wdiag_add(d, E, "safetensors-tensor",
			  "tensor '%.200s': data_offsets must be two non-negative integers [begin, end]",
			  name);
		return false;
	}
	t->elements = 1;
	t->overflow = false;
	for (i = 0; i < json_array_size(shape); i++) {
		uint64_t dim;
		if (!get_u64(json_array_get(shape, i), &dim)) {
			wdiag_add(d, E, "safetensors-tensor",
				  "tensor '%.200s': shape must be a list of non-negative integers", name);
			return false;
		}
		if (__builtin_mul_overflow(t->elements, dim, &t->elements))
			t->overflow = true;
	}
	return true;
}

static int cmp_offsets(const void *a, const void *b)
{
	const st_tensor *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Metadata::validate: contiguous from 0, each range as long as shape x dtype. */
static void check_layout(wdiag *d, st_tensor *ts, size_t n, uint64_t data_size, winfo *info)
{
	uint64_t at = 0;
	const char *prev = NULL;
	size_t before = d->errors;

	qsort(ts, n, sizeof(*ts), cmp_offsets);
	for (size_t i = 0; i < n; i++) {
		st_tensor *t = &ts[i];
		uint64_t bits, bytes = 0;
		if (t->end < t->begin) {
			wdiag_add(d, E, "safetensors-offsets",
				  "tensor '%.200s' ends (byte %llu) before it begins (byte %llu)",
				  t->name, (unsigned long long)t->end, (unsigned long long)t->begin);
		} else if (t->begin < at) {
			wdiag_add(d, E, "safetensors-offsets",
				  "tensor '%.200s' (bytes %llu to %llu) overlaps tensor '%.200s', which "
				  "ends at byte %llu",
				  t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
				  prev, (unsigned long long)at);
		} else if (t->begin > at) {
			if (prev)
				wdiag_add(d, E, "safetensors-offsets",
					  "tensor '%.200s' begins at byte %llu, but tensor '%.200s' ends at "
					  "byte %llu: %llu bytes between them belong to no tensor",
					  t->name, (unsigned long long)t->begin, prev,
					  (unsigned long long)at, (unsigned long long)(t->begin - at));
			else
				wdiag_add(d, E, "safetensors-offsets",
					  "the first tensor, '%.200s', begins at byte %llu of the data, "
					  "not at 0",
					  t->name, (unsigned long long)t->begin);
		}
		if (t->end >= t->begin) {
			at = t->end;
			prev = t->name;
		}
		if (t->overflow ||
		    __builtin_mul_overflow(t->elements, (uint64_t)st_dtypes[t->dtype].bits, &bits)) {
			wdiag_add(d, E, "safetensors-overflow",
				  "tensor '%.200s': its shape times the size of %s overflows 64 bits",
				  t->name, st_dtypes[t->dtype].name);
			continue;
		}
		bytes = bits / 8;
		if (bits % 8)
			wdiag_add(d, E, "safetensors-tensor-size",
				  "tensor '%.200s': %llu elements of %s (%u bits each) do not fill "
				  "whole bytes",
				  t->name, (unsigned long long)t->elements, st_dtypes[t->dtype].name,
				  st_dtypes[t->dtype].bits);
		else if (t->end >= t->begin && t->end - t->begin != bytes)
			wdiag_add(d, E, "safetensors-tensor-size",
				  "tensor '%.200s': its shape and dtype %s make %llu bytes, but its "
				  "data_offsets span %llu",
				  t->name, st_dtypes[t->dtype].name, (unsigned long long)bytes,
				  (unsigned long long)(t->end - t->begin));
	}
	if (d->errors != before)
		return;
	if (at != data_size) {
		if (at > data_size)
			wdiag_add(d, E, "safetensors-data-size",
				  "the tensors need %llu bytes of data, but the file holds %llu after "
				  "its header: truncated?",
				  (unsigned long long)at, (unsigned long long)data_size);
		else
			wdiag_add(d, E, "safetensors-data-size",
				  "the tensors end at byte %llu of the data, but the file goes on for "
				  "%llu more bytes that belong to no tensor",
				  (unsigned long long)at, (unsigned long long)(data_size - at));
		return;
	}
	info->format = "safetensors";
	for (size_t i = 0; i < n; i++)
		winfo_add(info, st_dtypes[ts[i].dtype].name, st_dtypes[ts[i].dtype].precision,
			  ts[i].elements);
}

int weights_check_safetensors(wsrc *src, wdiag *d, winfo *info)
{
	unsigned char len8[8];
	unsigned char *header = NULL;
	st_tensor *ts = NULL;
	json_t *root = NULL, *v;
	json_error_t jerr;
	const char *key;
	uint64_t n = 0;
	size_t count = 0, bad;
	int got;
	bool entries_ok = true;

	if (src->size < 8) {
		wdiag_add(d, E, "safetensors-truncated",
			  "the file is %llu bytes; a safetensors file begins with an 8-byte header "
			  "length",
			  (unsigned long long)src->size);
		goto done;
	}
	if ((got = wsrc_get(src, 0, len8, 8))) {
		wdiag_read(d, src, "safetensors-truncated", got, 0, "the header length");
		goto done;
	}
	for (int i = 7; i >= 0; i--)
		n = n << 8 | len8[i];
	if (n > WEIGHTS_SAFETENSORS_MAX_HEADER) {
		wdiag_add(d, E, "safetensors-header-too-large",
			  "the header length is %llu bytes, over safetensors' limit of %u",
			  (unsigned long long)n, WEIGHTS_SAFETENSORS_MAX_HEADER);
		goto done;
	}
	if (n > src->size - 8) {
		wdiag_add(d, E, "safetensors-header-length",
			  "the header length (%llu bytes) runs past the end of the file (%llu bytes "
			  "after the length): truncated, or not a safetensors file",
			  (unsigned long long)n, (unsigned long long)(src->size - 8));
		goto done;
	}
	if (!(header = malloc((size_t)n + 1))) {
		d->rc = mreg_seterr_nomem();
		goto done;
	}
	if ((got = wsrc_get(src, 8, header, (size_t)n))) {
		wdiag_read(d, src, "safetensors-truncated", got, 8, "the header");
		goto done;
	}
	header[n] = '\0';
	if (!utf8_ok(header, (size_t)n, &bad)) {
		wdiag_add(d, E, "safetensors-header-utf8",
			  "the header is not UTF-8 (byte %zu of the header)", bad);
		goto done;
	}
	if (n == 0 || header[0] != '{') {
		wdiag_add(d, E, "safetensors-header-start",
			  "the header does not begin with '{': not a safetensors file?");
		goto done;
	}
	root = json_loadb((const char *)header, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		bool dup = strstr(jerr.text, "duplicate") != NULL;
		wdiag_add(d, E, dup ? "safetensors-duplicate-key" : "safetensors-header-json",
			  "the header is not %s: %s (line %d, column %d)",
			  dup ? "a JSON object with unique keys" : "valid JSON", jerr.text, jerr.line,
			  jerr.column);
		goto done;
	}
	if (!json_is_object(root)) {
		wdiag_add(d, E, "safetensors-header-json", "the header is not a JSON object");
		goto done;
	}
	if (!(ts = calloc(json_object_size(root) + 1, sizeof(*ts)))) {
		d->rc = mreg_seterr_nomem();
		goto done;
	}
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "__metadata__")) {
			const char *mk;
			json_t *mv;
			bool ok = json_is_object(v) || json_is_null(v);
			json_object_foreach(v, mk, mv) ok = ok && json_is_string(mv);
			if (!ok)
				wdiag_add(d, E, "safetensors-metadata",
					  "__metadata__ must map strings to strings");
			continue;
		}
		if (read_entry(d, key, v, &ts[count]))
			count++;
		else
			entries_ok = false;
	}
	if (entries_ok)
		check_layout(d, ts, count, src->size - 8 - n, info);
done:
	free(ts);
	json_decref(root);
	free(header);
	return d->rc;
}
