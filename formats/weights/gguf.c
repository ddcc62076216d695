/*
 * GGUF: ggml's docs/gguf.md, with the rules of ggml's own reader
 * (ggml/src/gguf.cpp, gguf_init_from_reader) where it is stricter than the
 * text: version 2 or 3 (1 is no longer read; a byte-swapped version is a
 * big-endian file), no empty or duplicate key, no array of arrays,
 * general.alignment a uint32 power of two, tensor names under 64 bytes and
 * unique, at most 4 dimensions, a known ggml type whose block divides the
 * first dimension, and the tensors laid out one after the other from the
 * aligned start of the data, each at the offset the previous one's padded
 * size gives. general.architecture must be a string (gguf.md: required).
 *
 * The file is read front to back through the source's window; values are
 * skipped without being kept (a tokenizer's 150,000 strings are lengths
 * checked against the file and passed over), and only keys (for duplicates)
 * and tensor names are held, bounded by the limits below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "weights/weights.h"

#define E MREG_DIAG_ERROR
#define W MREG_DIAG_WARNING

#define GGUF_MAX_KEY 65535u       /* gguf.md: keys are at most 2^16 - 1 bytes */
#define GGUF_MAX_NAME 64u         /* GGML_MAX_NAME, with the NUL */
#define GGUF_MAX_DIMS 4u          /* GGML_MAX_DIMS */
#define GGUF_DEFAULT_ALIGNMENT 32u
#define GGUF_MAX_KEY_BYTES (16u << 20) /* keys kept for the duplicate check */
/* Tensors whose infos are kept (about 100 bytes each): the largest real models
 * have some thousands per file; the count is refused above this rather than
 * let a hostile header size the allocation. */
#define GGUF_MAX_TENSORS 1000000u

enum {
	T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STRING, T_ARRAY, T_U64, T_I64, T_F64,
	T_COUNT
};
static const unsigned value_size[T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
static const char *const value_name[T_COUNT] = {"uint8",  "int8",   "uint16", "int16", "uint32",
						"int32",  "float32", "bool",   "string", "array",
						"uint64", "int64",  "float64"};

/* ggml's type traits (ggml.c type_traits: blck_size, type_size), names as
 * ggml_type_name gives them; NULL names are numbers ggml retired. */
static const struct {
	const char *name;
	unsigned block;
	unsigned size;
	const char *precision;
} ggml_types[] = {
	[0] = {"F32", 1, 4, "float32"},       [1] = {"F16", 1, 2, "float16"},
	[2] = {"Q4_0", 32, 18, "q4_0"},       [3] = {"Q4_1", 32, 20, "q4_1"},
	[6] = {"Q5_0", 32, 22, "q5_0"},       [7] = {"Q5_1", 32, 24, "q5_1"},
	[8] = {"Q8_0", 32, 34, "q8_0"},       [9] = {"Q8_1", 32, 36, "q8_1"},
	[10] = {"Q2_K", 256, 84, "q2_k"},     [11] = {"Q3_K", 256, 110, "q3_k"},
	[12] = {"Q4_K", 256, 144, "q4_k"},    [13] = {"Q5_K", 256, 176, "q5_k"},
	[14] = {"Q6_K", 256, 210, "q6_k"},    [15] = {"Q8_K", 256, 292, "q8_k"},
	[16] = {"IQ2_XXS", 256, 66, "iq2_xxs"}, [17] = {"IQ2_XS", 256, 74, "iq2_xs"},
	[18] = {"IQ3_XXS", 256, 98, "iq3_xxs"}, [19] = {"IQ1_S", 256, 50, "iq1_s"},
	[20] = {"IQ4_NL", 32, 18, "iq4_nl"},  [21] = {"IQ3_S", 256, 110, "iq3_s"},
	[22] = {"IQ2_S", 256, 82, "iq2_s"},   [23] = {"IQ4_XS", 256, 136, "iq4_xs"},
	[24] = {"I8", 1, 1, "int8"},          [25] = {"I16", 1, 2, "int16"},
	[26] = {"I32", 1, 4, "int32"},        [27] = {"I64", 1, 8, "int64"},
	[28] = {"F64", 1, 8, "float64"},      [29] = {"IQ1_M", 256, 56, "iq1_m"},
	[30] = {"BF16", 1, 2, "bfloat16"},    [34] = {"TQ1_0", 256, 54, "tq1_0"},
	[35] = {"TQ2_0", 256, 66, "tq2_0"},   [39] = {"MXFP4", 32, 17, "mxfp4"},
};
#define GGML_TYPE_COUNT (sizeof(ggml_types) / sizeof(*ggml_types))

typedef struct {
	wsrc *src;
	wdiag *d;
	uint64_t pos;
	bool failed;   /* a read failed: the rest cannot be parsed */
} gcur;

static bool get(gcur *c, void *buf, size_t n, const char *what)
{
	int got;

	if (c->failed)
		return false;
	if ((got = wsrc_get(c->src, c->pos, buf, n))) {
		wdiag_read(c->d, c->src, "gguf-truncated", got, c->pos, what);
		c->failed = true;
		return false;
	}
	c->pos += n;
	return true;
}

static bool get_u32(gcur *c, uint32_t *v, const char *what)
{
	unsigned char b[4];

	if (!get(c, b, 4, what))
		return false;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return true;
}

static bool get_u64(gcur *c, uint64_t *v, const char *what)
{
	unsigned char b[8];

	if (!get(c, b, 8, what))
		return false;
	*v = 0;
	for (int i = 7; i >= 0; i--)
		*v = *v << 8 | b[i];
	return true;
}

/* Skip @n bytes, which must lie inside the file. */
static bool skip(gcur *c, uint64_t n, const char *what)
{
	if (c->failed)
		return false;
	if (n > c->src->size - c->pos) {
		wdiag_add(c->d, E, "gguf-truncated",
			  "%s (%llu bytes at byte %llu) runs past the end of the file (%llu bytes): "
			  "truncated?",
			  what, (unsigned long long)n, (unsigned long long)c->pos,
			  (unsigned long long)c->src->size);
		c->failed = true;
		return false;
	}
	c->pos += n;
	return true;
}

/*
 * A string: its length, checked against the file, then its bytes: into @out
 * (malloc'd, NUL-terminated) when @out is not NULL and the length is at most
 * @keep, else skipped.
 */
static bool get_string(gcur *c, const char *what, char **out, uint64_t keep, uint64_t *len)
{
	uint64_t n;

	if (out)
		*out = NULL;
	if (!get_u64(c, &n, what))
		return false;
	*len = n;
	if (n > c->src->size - c->pos) {
		wdiag_add(c->d, E, "gguf-string",
			  "%s is %llu bytes long, past the end of the file (byte %llu of %llu)", what,
			  (unsigned long long)n, (unsigned long long)c->pos,
			  (unsigned long long)c->src->size);
		c->failed = true;
		return false;
	}
	if (!out || n > keep)
		return skip(c, n, what);
	if (!(*out = malloc((size_t)n + 1))) {
		c->d->rc = mreg_seterr_nomem();
		c->failed = true;
		return false;
	}
	if (!get(c, *out, (size_t)n, what)) {
		free(*out);
		*out = NULL;
		return false;
	}
	(*out)[n] = '\0';
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first duplicate in a sorted copy of @v, or NULL. */
static const char *find_duplicate(char **v, size_t n)
{
	if (n < 2)
		return NULL; /* and v may be NULL, which qsort must not get */
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i - 1], v[i]))
			return v[i];
	return NULL;
}

static bool key_chars_ok(const char *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x20 || (unsigned char)k[i] >= 0x7f)
			return false;
	return true;
}

/* gguf.md: lower_snake_case words separated by dots. */
static bool key_conventional(const char *k)
{
	bool word = false;

	for (; *k; k++) {
		if (*k == '.') {
			if (!word)
				return false;
			word = false;
		} else if ((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_') {
			word = true;
		} else {
			return false;
		}
	}
	return word;
}

typedef struct {
	char *name;
	uint32_t type;
	uint64_t ne[GGUF_MAX_DIMS];
	uint64_t offset;
	uint64_t elements, bytes;
} gtensor;

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The metadata: keys and values. Returns false when parsing cannot go on. */
static bool read_kv(gcur *c, uint64_t n_kv, uint32_t *alignment, char *arch, size_t arch_size)
{
	char **keys = NULL;
	size_t nkeys = 0, cap = 0, key_bytes = 0;
	bool have_arch = false, ok = true;
	const char *dup;

	/* Each pair takes at least 8 (key length) + 4 (type) + 1 bytes. */
	if (n_kv > c->src->size / 13) {
		wdiag_add(c->d, E, "gguf-count",
			  "the header says %llu metadata keys, more than a file of %llu bytes can hold",
			  (unsigned long long)n_kv, (unsigned long long)c->src->size);
		return false;
	}
	for (uint64_t i = 0; ok && i < n_kv; i++) {
		char *key = NULL, what[96];
		uint64_t klen, count = 1;
		uint32_t type, elem;
		if (!get_string(c, "a metadata key", &key, GGUF_MAX_KEY, &klen)) {
			ok = false;
			break;
		}
		if (!key) {
			wdiag_add(c->d, E, "gguf-key",
				  "metadata key %llu is %llu bytes long; keys are at most %u bytes",
				  (unsigned long long)i, (unsigned long long)klen, GGUF_MAX_KEY);
		} else if (!klen || strlen(key) != klen || !key_chars_ok(key, (size_t)klen)) {
			wdiag_add(c->d, E, "gguf-key",
				  "metadata key %llu ('%.100s') is %s; keys are printable ASCII",
				  (unsigned long long)i, key, klen ? "not printable ASCII" : "empty");
		} else if (!key_conventional(key)) {
			wdiag_add(c->d, W, "gguf-key",
				  "metadata key '%.100s' is not lower_snake_case words separated by dots "
				  "(gguf.md's convention)",
				  key);
		}
		snprintf(what, sizeof(what), "the value of '%.60s'", key ? key : "?");
		if (!get_u32(c, &type, what)) {
			free(key);
			ok = false;
			break;
		}
		elem = type;
		if (type == T_ARRAY) {
			if (!get_u32(c, &elem, what) || !get_u64(c, &count, what)) {
				free(key);
				ok = false;
				break;
			}
		}
		if (elem >= T_COUNT || elem == T_ARRAY) {
			wdiag_add(c->d, E, "gguf-value-type",
				  elem == T_ARRAY ? "metadata key '%.100s' holds an array of arrays, which "
						    "ggml's reader refuses"
						  : "metadata key '%.100s' has value type %u, which GGUF "
						    "does not define",
				  key ? key : "?", elem);
			free(key);
			ok = false;
			break;
		}
		if (key && !strcmp(key, "general.alignment")) {
			unsigned char b[4];
			if (type != T_U32) {
				wdiag_add(c->d, E, "gguf-alignment",
					  "general.alignment is of type %s%s; it must be a uint32",
					  type == T_ARRAY ? "array of " : "", value_name[elem]);
			} else if (get(c, b, 4, what)) {
				uint32_t a = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
					     (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
				if (!a || (a & (a - 1)))
					wdiag_add(c->d, E, "gguf-alignment",
						  "general.alignment is %u, not a power of two", a);
				else
					*alignment = a;
				count = 0;
			}
		} else if (key && !strcmp(key, "general.architecture")) {
			if (type != T_STRING) {
				wdiag_add(c->d, E, "gguf-architecture",
					  "general.architecture is of type %s%s; it must be a string",
					  type == T_ARRAY ? "array of " : "", value_name[elem]);
			} else {
				char *s = NULL;
				uint64_t slen;
				if (get_string(c, what, &s, arch_size - 1, &slen)) {
					have_arch = true;
					if (s)
						memcpy(arch, s, (size_t)slen + 1);
				}
				free(s);
				count = 0;
			}
		}
		/* The value (or the rest of it), checked against the file and skipped. */
		if (elem == T_STRING) {
			for (uint64_t k = 0; k < count && !c->failed; k++) {
				uint64_t slen;
				get_string(c, what, NULL, 0, &slen);
			}
		} else if (count > UINT64_MAX / value_size[elem]) {
			wdiag_add(c->d, E, "gguf-count",
				  "'%.100s' says %llu elements, more than a file can hold",
				  key ? key : "?", (unsigned long long)count);
			c->failed = true;
		} else {
			skip(c, count * value_size[elem], what);
		}
		if (c->failed) {
			free(key);
			ok = false;
			break;
		}
		if (key && key_bytes + klen <= GGUF_MAX_KEY_BYTES) {
			/* Grown as keys arrive: the count in the header is not trusted. */
			if (nkeys == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				char **grown = realloc(keys, ncap * sizeof(*keys));
				if (!grown) {
					free(key);
					c->d->rc = mreg_seterr_nomem();
					ok = false;
					break;
				}
				keys = grown;
				cap = ncap;
			}
			keys[nkeys++] = key;
			key_bytes += (size_t)klen;
		} else {
			free(key);
		}
	}
	if (ok && (dup = find_duplicate(keys, nkeys)))
		wdiag_add(c->d, E, "gguf-key", "metadata key '%.100s' appears more than once", dup);
	if (ok && !have_arch && !c->d->errors)
		wdiag_add(c->d, E, "gguf-architecture",
			  "general.architecture is missing; gguf.md requires it");
	free_strv(keys, nkeys);
	return ok;
}

int weights_check_gguf(wsrc *src, wdiag *d, winfo *info)
{
	gcur c = {.src = src, .d = d};
	unsigned char magic[4];
	uint32_t version, alignment = GGUF_DEFAULT_ALIGNMENT;
	uint64_t n_tensors, n_kv, data_start, expect = 0;
	gtensor *ts = NULL;
	char **names = NULL;
	char arch[64] = "";
	size_t nt = 0, nnames = 0;
	const char *dup;

	if (!get(&c, magic, 4, "the magic number"))
		goto done;
	if (memcmp(magic, "GGUF", 4)) {
		wdiag_add(d, E, "gguf-magic", "the file does not begin with 'GGUF': not a GGUF file");
		goto done;
	}
	if (!get_u32(&c, &version, "the version"))
		goto done;
	if ((version & 0xffff) == 0 && version) {
		wdiag_add(d, E, "gguf-version",
			  "the version reads as %u: a big-endian GGUF file, which is not supported",
			  version);
		goto done;
	}
	if (version != 2 && version != 3) {
		wdiag_add(d, E, "gguf-version",
			  "GGUF version %u is not supported (2 and 3 are; ggml no longer reads 1)",
			  version);
		goto done;
	}
	if (!get_u64(&c, &n_tensors, "the tensor count") || !get_u64(&c, &n_kv, "the key count"))
		goto done;
	if (!read_kv(&c, n_kv, &alignment, arch, sizeof(arch)))
		goto done;

	/* Each tensor info takes at least 8 (name length) + 4 + 4 + 8 bytes. */
	if (n_tensors > (src->size - c.pos) / 24) {
		wdiag_add(d, E, "gguf-count",
			  "the header says %llu tensors, more than the rest of the file (%llu bytes) "
			  "can describe",
			  (unsigned long long)n_tensors, (unsigned long long)(src->size - c.pos));
		goto done;
	}
	if (n_tensors > GGUF_MAX_TENSORS) {
		wdiag_add(d, E, "gguf-count",
			  "the header says %llu tensors; mreg checks files of at most %u",
			  (unsigned long long)n_tensors, GGUF_MAX_TENSORS);
		goto done;
	}
	if (n_tensors && (!(ts = calloc((size_t)n_tensors, sizeof(*ts))) ||
			  !(names = calloc((size_t)n_tensors, sizeof(*names))))) {
		d->rc = mreg_seterr_nomem();
		goto done;
	}
	for (uint64_t i = 0; i < n_tensors; i++) {
		gtensor *t = &ts[nt];
		uint64_t nlen;
		uint32_t n_dims;
		bool bad = false;
		if (!get_string(&c, "a tensor name", &t->name, GGUF_MAX_NAME - 1, &nlen))
			goto done;
		nt++;
		if (!t->name) {
			wdiag_add(d, E, "gguf-tensor-name",
				  "tensor %llu has a name of %llu bytes; ggml's limit is %u",
				  (unsigned long long)i, (unsigned long long)nlen, GGUF_MAX_NAME - 1);
			bad = true;
		}
		if (!get_u32(&c, &n_dims, "a tensor's dimension count"))
			goto done;
		if (n_dims > GGUF_MAX_DIMS) {
			wdiag_add(d, E, "gguf-tensor-dims",
				  "tensor '%s' has %u dimensions; ggml's limit is %u",
				  t->name ? t->name : "?", n_dims, GGUF_MAX_DIMS);
			goto done; /* the rest of the layout cannot be known */
		}
		t->elements = 1;
		for (uint32_t k = 0; k < GGUF_MAX_DIMS; k++) {
			t->ne[k] = 1;
			if (k < n_dims && !get_u64(&c, &t->ne[k], "a tensor's dimensions"))
				goto done;
			if (t->ne[k] > INT64_MAX) {
				wdiag_add(d, E, "gguf-tensor-dims",
					  "tensor '%s' dimension %u is %llu, over ggml's int64 limit",
					  t->name ? t->name : "?", k, (unsigned long long)t->ne[k]);
				bad = true;
			} else if (!bad && __builtin_mul_overflow(t->elements, t->ne[k], &t->elements)) {
				wdiag_add(d, E, "gguf-tensor-dims",
					  "tensor '%s' has more elements than 64 bits can count",
					  t->name ? t->name : "?");
				bad = true;
			}
		}
		if (!get_u32(&c, &t->type, "a tensor's type") ||
		    !get_u64(&c, &t->offset, "a tensor's offset"))
			goto done;
		if (t->type >= GGML_TYPE_COUNT || !ggml_types[t->type].name) {
			wdiag_add(d, E, "gguf-tensor-type", "tensor '%s' has ggml type %u, which ggml does "
				  "not define", t->name ? t->name : "?", t->type);
			bad = true;
		} else if (!bad && t->ne[0] % ggml_types[t->type].block) {
			wdiag_add(d, E, "gguf-tensor-shape",
				  "tensor '%s' of type %s has %llu elements per row, not a multiple of "
				  "its block size %u",
				  t->name ? t->name : "?", ggml_types[t->type].name,
				  (unsigned long long)t->ne[0], ggml_types[t->type].block);
			bad = true;
		} else if (!bad && __builtin_mul_overflow(t->elements / ggml_types[t->type].block,
							  (uint64_t)ggml_types[t->type].size,
							  &t->bytes)) {
			wdiag_add(d, E, "gguf-tensor-dims", "tensor '%s' is larger than 64 bits can count",
				  t->name ? t->name : "?");
			bad = true;
		}
		if (bad)
			t->type = UINT32_MAX;
		if (t->name)
			names[nnames++] = t->name;
	}
	if ((dup = find_duplicate(names, nnames)))
		wdiag_add(d, E, "gguf-tensor-name", "tensor name '%s' appears more than once", dup);

	/* The data begins at the next multiple of the alignment (gguf.md). */
	data_start = c.pos % alignment ? c.pos + (alignment - c.pos % alignment) : c.pos;
	for (size_t i = 0; i < nt; i++) {
		gtensor *t = &ts[i];
		uint64_t end;
		if (t->type == UINT32_MAX)
			continue;
		if (t->offset % alignment) {
			wdiag_add(d, E, "gguf-tensor-offset",
				  "tensor '%s' is at offset %llu, not a multiple of the alignment %u",
				  t->name, (unsigned long long)t->offset, alignment);
		} else if (t->offset != expect) {
			wdiag_add(d, E, "gguf-tensor-offset",
				  "tensor '%s' is at offset %llu, but the tensors before it end at %llu "
				  "(ggml expects each tensor right after the previous one, padded to %u)",
				  t->name, (unsigned long long)t->offset, (unsigned long long)expect,
				  alignment);
		}
		if (__builtin_add_overflow(t->offset, t->bytes, &end) ||
		    __builtin_add_overflow(end, data_start, &end) || end > src->size) {
			wdiag_add(d, E, "gguf-tensor-data",
				  "tensor '%s' (%llu bytes at offset %llu of the data, which begins at "
				  "byte %llu) runs past the end of the file (%llu bytes): truncated?",
				  t->name, (unsigned long long)t->bytes, (unsigned long long)t->offset,
				  (unsigned long long)data_start, (unsigned long long)src->size);
			break; /* every later tensor is past the end too */
		}
		uint64_t padded = t->bytes % alignment ? t->bytes + (alignment - t->bytes % alignment)
						       : t->bytes;
		expect = t->offset + padded;
	}
	if (d->errors)
		goto done;
	info->format = "gguf";
	snprintf(info->architecture, sizeof(info->architecture), "%s", arch);
	for (size_t i = 0; i < nt; i++)
		winfo_add(info, ggml_types[ts[i].type].name, ggml_types[ts[i].type].precision,
			  ts[i].elements);
done:
	for (size_t i = 0; i < nt; i++)
		free(ts[i].name);
	free(ts);
	free(names);
	return d->rc;
}
