/*
 * The weight files of a model: which files are checked (by name), the byte
 * source the readers share, the tally they fill, and the two entry points
 * the plugins call (weights_check_walk from validate, weights_describe_add
 * from describe).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "util/error_priv.h"
#include "util/strutil.h"
#include "weights/weights.h"

/* ---- the byte source ---- */

#define WSRC_WINDOW (64u * 1024u)

void wsrc_init_fd(wsrc *s, int fd, uint64_t size)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->size = size;
}

void wsrc_init_mem(wsrc *s, const void *data, size_t size)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->mem = data;
	s->size = size;
}

void wsrc_dispose(wsrc *s)
{
	free(s->win);
	s->win = NULL;
	s->win_len = 0;
}

/* pread exactly @n bytes or fail (a file that shrinks under us is an I/O error). */
static int read_full(wsrc *s, uint64_t off, unsigned char *buf, size_t n)
{
	while (n) {
		ssize_t got = pread(s->fd, buf, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			s->err = got < 0 ? errno : EIO;
			return WSRC_EIO;
		}
		s->bytes_read += (uint64_t)got;
		buf += got;
		off += (uint64_t)got;
		n -= (size_t)got;
	}
	return WSRC_OK;
}

int wsrc_get(wsrc *s, uint64_t off, void *buf, size_t n)
{
	unsigned char *out = buf;

	if (off > s->size || n > s->size - off)
		return WSRC_EOF;
	if (s->mem) {
		memcpy(out, s->mem + off, n);
		return WSRC_OK;
	}
	/* Large reads go straight to the caller's buffer. */
	if (n >= WSRC_WINDOW)
		return read_full(s, off, out, n);
	while (n) {
		if (off < s->win_off || off >= s->win_off + s->win_len) {
			uint64_t len = s->size - off < WSRC_WINDOW ? s->size - off : WSRC_WINDOW;
			if (!s->win && !(s->win = malloc(WSRC_WINDOW))) {
				s->err = ENOMEM;
				return WSRC_EIO;
			}
			s->win_len = 0;
			if (read_full(s, off, s->win, (size_t)len))
				return WSRC_EIO;
			s->win_off = off;
			s->win_len = (size_t)len;
		}
		size_t at = (size_t)(off - s->win_off), k = s->win_len - at;
		if (k > n)
			k = n;
		memcpy(out, s->win + at, k);
		out += k;
		off += k;
		n -= k;
	}
	return WSRC_OK;
}

/* ---- the tally ---- */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void winfo_add(winfo *info, const char *name, const char *precision, uint64_t params)
{
	size_t i;

	info->tensors = sat_add(info->tensors, 1);
	info->parameters = sat_add(info->parameters, params);
	for (i = 0; i < info->ndtypes; i++)
		if (!strcmp(info->dtypes[i].name, name))
			break;
	if (i == info->ndtypes) {
		if (i == WEIGHTS_MAX_DTYPES)
			return;
		info->dtypes[i] = (wdtype){.name = name, .precision = precision};
		info->ndtypes++;
	}
	info->dtypes[i].tensors = sat_add(info->dtypes[i].tensors, 1);
	info->dtypes[i].parameters = sat_add(info->dtypes[i].parameters, params);
}

/* ---- diagnostics ---- */

void wdiag_add(wdiag *d, mreg_diag_severity sev, const char *code, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (sev == MREG_DIAG_ERROR)
		d->errors++;
	if (d->count >= WEIGHTS_MAX_DIAGS) {
		d->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->count++;
	if (mreg_diag_add(d->diags, sev, d->file, 0, 0, code, "%s", msg) < 0)
		d->rc = MREG_ENOMEM;
}

void wdiag_read(wdiag *d, const wsrc *s, const char *code, int got, uint64_t off,
		const char *what)
{
	if (got == WSRC_EIO)
		wdiag_add(d, MREG_DIAG_ERROR, "weights-unreadable", "cannot read %s at byte %llu: %s",
			  what, (unsigned long long)off, strerror(s->err));
	else
		wdiag_add(d, MREG_DIAG_ERROR, code,
			  "the file ends inside %s (at byte %llu of %llu): truncated?", what,
			  (unsigned long long)off, (unsigned long long)s->size);
}

void wdiag_finish(wdiag *d)
{
	if (!d->dropped)
		return;
	if (mreg_diag_add(d->diags, MREG_DIAG_NOTE, d->file, 0, 0, "weights-more",
			  "%zu more problem%s in this file not shown", d->dropped,
			  d->dropped == 1 ? "" : "s") < 0)
		d->rc = MREG_ENOMEM;
}

/* ---- which files ---- */

static const struct {
	const char *ext;
	const char *format;
} weight_exts[] = {
	{".safetensors", "safetensors"},
	{".gguf", "gguf"},
	{".onnx", "onnx"},
};

const char *weights_format_of(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(weight_exts) / sizeof(*weight_exts); i++) {
		size_t k = strlen(weight_exts[i].ext);
		if (n > k && path[n - k - 1] != '/' && !strcasecmp(path + n - k, weight_exts[i].ext))
			return weight_exts[i].format;
	}
	return NULL;
}

static int no_lookup(void *ctx, const char *rel, uint64_t *size, const char **why)
{
	(void)ctx;
	(void)rel;
	(void)size;
	*why = "no such file in the model";
	return -1;
}

int weights_check_source(const char *format, wsrc *src, const char *rel, mreg_diag_list *diags,
			 winfo *info)
{
	wdiag d = {.diags = diags, .file = rel};
	int rc;

	memset(info, 0, sizeof(*info));
	if (!strcmp(format, "safetensors"))
		rc = weights_check_safetensors(src, &d, info);
	else if (!strcmp(format, "gguf"))
		rc = weights_check_gguf(src, &d, info);
	else
		rc = weights_check_onnx(src, &d, info, rel, no_lookup, NULL);
	wdiag_finish(&d);
	return rc ? rc : d.rc;
}

/* ---- a walked model ---- */

typedef struct {
	const walk_result *walk;
} lookup_ctx;

static int cmp_file(const void *key, const void *elem)
{
	return strcmp(key, ((const walk_file *)elem)->rel);
}

static int cmp_link(const void *key, const void *elem)
{
	return strcmp(key, ((const walk_link *)elem)->rel);
}

/* External data must be a file the model holds: one mreg stores with it. */
static int walk_lookup(void *ctx, const char *rel, uint64_t *size, const char **why)
{
	const walk_result *w = ((lookup_ctx *)ctx)->walk;
	const walk_file *f;
	const walk_link *l;
	struct stat st;

	if (w->is_file) {
		*why = "the model is this one file, so no other file is stored with it";
		return -1;
	}
	/* (bsearch must not get the NULL of an empty list) */
	f = w->count ? bsearch(rel, w->files, w->count, sizeof(*w->files), cmp_file) : NULL;
	if (f) {
		*size = f->size;
		return 0;
	}
	/* A link the walk keeps points inside the model; ONNX follows it. */
	l = w->link_count ? bsearch(rel, w->links, w->link_count, sizeof(*w->links), cmp_link)
			  : NULL;
	if (l) {
		char *abs = path_join(w->root, rel);
		int ok = abs && stat(abs, &st) == 0 && S_ISREG(st.st_mode);
		free(abs);
		if (ok) {
			*size = (uint64_t)st.st_size;
			return 0;
		}
		*why = "a symbolic link in the model that does not lead to a regular file";
		return -1;
	}
	*why = "no such file in the model";
	return -1;
}

/* Open @abs (following a link the walk kept) and check it as @format. */
static int check_file(const walk_result *walk, const char *abs, const char *rel, const char *format,
		      mreg_diag_list *diags, winfo *info, size_t *errors)
{
	lookup_ctx lc = {.walk = walk};
	wdiag d = {.diags = diags, .file = abs};
	struct stat st;
	wsrc src;
	int fd, rc = 0;

	memset(info, 0, sizeof(*info));
	fd = open(abs, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		/* The walk reports what is not a readable regular file. */
		if (fd >= 0)
			close(fd);
		*errors = 1;
		return 0;
	}
	wsrc_init_fd(&src, fd, (uint64_t)st.st_size);
	if (st.st_size == 0) {
		/* A placeholder (Triton's and MLflow's example repositories ship empty
		 * model files their scripts fill): said, not refused. */
		wdiag_add(&d, MREG_DIAG_WARNING, "weights-empty",
			  "the file is empty: a placeholder, not %s weights", format);
		info->format = NULL;
		*errors = 1; /* nothing to describe */
		close(fd);
		return d.rc;
	}
	if (!strcmp(format, "safetensors"))
		rc = weights_check_safetensors(&src, &d, info);
	else if (!strcmp(format, "gguf"))
		rc = weights_check_gguf(&src, &d, info);
	else
		rc = weights_check_onnx(&src, &d, info, rel, walk_lookup, &lc);
	wdiag_finish(&d);
	wsrc_dispose(&src);
	close(fd);
	*errors = d.errors;
	return rc ? rc : d.rc;
}

/* Each weight file of the walk, files and kept links alike, in path order. */
typedef int (*each_fn)(void *ctx, const char *abs, const char *rel, const char *format);

static int each_weight_file(const walk_result *walk, each_fn fn, void *ctx)
{
	size_t i = 0, j = 0;
	int rc = 0;

	while (rc == 0 && (i < walk->count || j < walk->link_count)) {
		const char *rel, *abs = NULL;
		char *owned = NULL;
		if (j == walk->link_count ||
		    (i < walk->count && strcmp(walk->files[i].rel, walk->links[j].rel) < 0)) {
			rel = walk->files[i].rel;
			abs = walk->files[i++].abs;
		} else {
			rel = walk->links[j++].rel;
		}
		const char *format = weights_format_of(walk->is_file ? walk->root : rel);
		if (!format)
			continue;
		if (!abs && !(abs = owned = path_join(walk->root, rel)))
			return mreg_seterr_nomem();
		rc = fn(ctx, abs, rel, format);
		free(owned);
	}
	return rc;
}

typedef struct {
	const walk_result *walk;
	mreg_diag_list *diags;
} check_ctx;

static int check_one(void *ctx, const char *abs, const char *rel, const char *format)
{
	check_ctx *c = ctx;
	winfo info;
	size_t errors;

	return check_file(c->walk, abs, rel, format, c->diags, &info, &errors);
}

int weights_check_walk(const walk_result *walk, mreg_diag_list *diags)
{
	check_ctx c = {.walk = walk, .diags = diags};

	return each_weight_file(walk, check_one, &c);
}

/* ---- describe ---- */

typedef struct {
	const walk_result *walk;
	mreg_diag_list *scratch;
	json_t *files;
	winfo total;
	const char *format;   /* the one format of every file, or NULL */
	bool mixed;
} describe_ctx;

static json_t *dtypes_json(const winfo *info)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < info->ndtypes; i++)
		if (json_object_set_new(o, info->dtypes[i].name,
					json_integer((json_int_t)(info->dtypes[i].parameters > INT64_MAX
								  ? INT64_MAX
								  : info->dtypes[i].parameters)))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static json_int_t jcount(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

static void tally_merge(winfo *total, const wdtype *t)
{
	size_t i;

	for (i = 0; i < total->ndtypes; i++)
		if (!strcmp(total->dtypes[i].name, t->precision))
			break;
	if (i == total->ndtypes) {
		if (i == WEIGHTS_MAX_DTYPES)
			return;
		total->dtypes[i] = (wdtype){.name = t->precision, .precision = t->precision};
		total->ndtypes++;
	}
	total->dtypes[i].tensors = sat_add(total->dtypes[i].tensors, t->tensors);
	total->dtypes[i].parameters = sat_add(total->dtypes[i].parameters, t->parameters);
}

static int describe_one(void *ctx, const char *abs, const char *rel, const char *format)
{
	describe_ctx *c = ctx;
	winfo info;
	size_t errors;
	json_t *f;
	int rc = check_file(c->walk, abs, rel, format, c->scratch, &info, &errors);

	if (rc || errors)
		return rc;
	f = json_pack("{s:s, s:s, s:I, s:I, s:o}", "path", rel, "format",
		      info.format, "tensors", jcount(info.tensors), "parameters",
		      jcount(info.parameters), "dtypes", dtypes_json(&info));
	if (f && info.architecture[0])
		json_object_set_new(f, "architecture", json_string(info.architecture));
	if (!f || json_array_append_new(c->files, f))
		return mreg_seterr_nomem();
	if (c->format && strcmp(c->format, info.format))
		c->mixed = true;
	c->format = info.format;
	/* The total counts by precision: safetensors' "BF16" and ONNX's "BFLOAT16" are one. */
	for (size_t i = 0; i < info.ndtypes; i++)
		tally_merge(&c->total, &info.dtypes[i]);
	c->total.tensors = sat_add(c->total.tensors, info.tensors);
	c->total.parameters = sat_add(c->total.parameters, info.parameters);
	return 0;
}

static int cmp_dtype_desc(const void *a, const void *b)
{
	const wdtype *x = a, *y = b;

	if (x->parameters != y->parameters)
		return x->parameters > y->parameters ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* ModelPack's precision: every precision, most parameters first, comma-separated. */
static char *precision_text(winfo *total)
{
	strbuf sb = STRBUF_INIT;

	if (!total->ndtypes)
		return NULL;
	qsort(total->dtypes, total->ndtypes, sizeof(*total->dtypes), cmp_dtype_desc);
	for (size_t i = 0; i < total->ndtypes; i++) {
		if (i)
			strbuf_puts(&sb, ",");
		strbuf_puts(&sb, total->dtypes[i].name);
	}
	return strbuf_detach(&sb);
}

int weights_describe_add(const char *path, char **json)
{
	mreg_diag_list *scratch = NULL;
	walk_result walk = {0};
	int rc;

	if ((rc = mreg_diag_list_new(&scratch)))
		return rc;
	rc = walk_model(&walk, path, scratch);
	if (rc == MREG_ENOTFOUND)
		rc = 0;
	else if (rc == 0)
		rc = weights_describe_walk(&walk, json);
	walk_result_dispose(&walk);
	mreg_diag_list_free(scratch);
	return rc;
}

int weights_describe_walk(const walk_result *walk, char **json)
{
	describe_ctx c = {0};
	json_t *doc = NULL, *w = NULL;
	char *precision = NULL, *text;
	int rc;

	if ((rc = mreg_diag_list_new(&c.scratch)))
		return rc;
	c.walk = walk;
	if (!(c.files = json_array())) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = each_weight_file(walk, describe_one, &c)))
		goto done;
	if (!json_array_size(c.files))
		goto done;
	precision = precision_text(&c.total);
	w = json_pack("{s:I, s:I, s:o}", "tensors", jcount(c.total.tensors), "parameters",
		      jcount(c.total.parameters), "files", c.files);
	c.files = NULL;
	if (w && !c.mixed)
		json_object_set_new(w, "format", json_string(c.format));
	if (w && precision)
		json_object_set_new(w, "precision", json_string(precision));
	doc = *json ? json_loads(*json, 0, NULL) : json_object();
	if (!w || !json_is_object(doc) || json_object_set(doc, "weights", w)) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (!(text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	free(*json);
	*json = text;
done:
	free(precision);
	json_decref(w);
	json_decref(doc);
	json_decref(c.files);
	mreg_diag_list_free(c.scratch);
	return rc;
}
