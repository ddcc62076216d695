/*
 * triton_model: check a Triton model repository (or one model folder of it)
 * as Triton checks it when it loads the models, without a GPU or Triton.
 *
 * The order follows Triton (../shared/reference/triton_rules.md §0): read
 * and parse config.pbtxt (protobuf text format, pbtxt.c + triton_schema.c),
 * auto-complete the backend fields from the folder (AutoCompleteBackendFields),
 * ValidateModelConfig, ValidateModelIOConfig, the directory name, the
 * version folders (VersionsToLoad), instance groups, load-time rules, then
 * the ensembles across the repository. Messages carry Triton's own text,
 * so a search for Triton's error finds the same words. Where Triton stops
 * at the first problem of a model, we report every independent one.
 *
 * What cannot be known offline is assumed and said: the GPUs of the server
 * (TRITON_GPUS_ENV), the backends installed, the contents of model files.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error_priv.h"
#include "formats.h"
#include "fsutil.h"
#include "triton/pbtxt.h"
#include "strutil.h"
#include "triton/triton_model.h"
#include "walk.h"
#include "triton/triton_schema.h"

#define CONFIG_NAME "config.pbtxt"
/* Far beyond any real config; bounds memory on hostile input. */
#define CONFIG_MAX ((size_t)16 << 20)
/* The ensemble platform and what Triton's constants.h calls the rest. */
#define ENSEMBLE "ensemble"

typedef struct {
	unsigned int line, column;
} tpos;

typedef struct {
	int64_t number;
	char *dir;
} tversion;

typedef struct tmodel {
	char *name;        /* folder name = model name in the repository */
	char *dir;         /* the folder, as the user wrote the path */
	char *config_file; /* dir/config.pbtxt */
	bool exists;       /* the folder exists */
	bool has_config;
	bool config_ok;  /* config read, parsed and schema-checked (or absent) */
	pbtxt_msg *tree; /* the checked config; NULL without config.pbtxt */
	char **subdirs;  /* sorted bytewise, as std::set<std::string> */
	size_t nsubdirs;
	/* After auto-completion. */
	char *cfg_name, *platform, *backend, *model_file;
	bool autofill_failed;
	bool platform_unknown;  /* config-only: the backend depends on the model file */
	bool backend_from_name; /* "<anything>.<backend>" */
	tversion *versions;     /* numeric version folders, ascending */
	size_t nversions;
	int64_t *loaded; /* versions the policy selects */
	size_t nloaded;
	size_t errors;
	char *first_error; /* Triton reports it through an ensemble that uses the model */
	bool silent;       /* loaded only to check an ensemble: count, do not report */
	bool checked;
	int visit; /* cycle search state */
} tmodel;

typedef struct {
	const char *root; /* the repository folder */
	bool single;      /* validating one model; others are loaded on demand */
	bool layout;      /* check version folders and model files */
	mreg_diag_list *diags;
	tmodel **models;
	size_t count;
	int gpus; /* GPUs of the target server; -1 when unknown */
	bool nomem;
	bool gpu_note; /* the GPU assumption was explained once */
} trepo;

/* ---- small helpers ---- */

static char *xstrdup(trepo *r, const char *s)
{
	char *d = str_dup(s ? s : "");

	if (!d)
		r->nomem = true;
	return d;
}

static tpos pos_value(const pbtxt_value *v)
{
	return v ? (tpos){v->line, v->column} : (tpos){0, 0};
}

/* Where a field is written (its last occurrence), else where its message
 * starts; nothing for the root message. */
static tpos pos_field(const tmodel *m, const pbtxt_msg *msg, const char *field)
{
	const pbtxt_field *f = ts_last_field(msg, field);

	if (f)
		return (tpos){f->line, f->column};
	if (msg && msg != m->tree)
		return (tpos){msg->line, msg->column};
	return (tpos){0, 0};
}

static tpos pos_msg(const tmodel *m, const pbtxt_msg *msg)
{
	if (msg && msg != m->tree)
		return (tpos){msg->line, msg->column};
	return (tpos){0, 0};
}

static void vreport(trepo *r, tmodel *m, mreg_diag_severity sev, const char *file, tpos p,
                    const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));
static void vreport(trepo *r, tmodel *m, mreg_diag_severity sev, const char *file, tpos p,
                    const char *code, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0) {
		r->nomem = true;
		return;
	}
	/* One line per diagnostic, whatever the names in the config hold. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (sev == MREG_DIAG_ERROR && m) {
		m->errors++;
		if (!m->first_error && !(m->first_error = str_dup(msg)))
			r->nomem = true;
	}
	if (m && m->silent) {
		free(msg);
		return;
	}
	if (mreg_diag_add(r->diags, sev, file, p.line, p.column, code, "%s", msg))
		r->nomem = true;
	free(msg);
}

/* A problem in config.pbtxt (or, without one, in the model folder). */
static void cfg_diag(trepo *r, tmodel *m, mreg_diag_severity sev, tpos p, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void cfg_diag(trepo *r, tmodel *m, mreg_diag_severity sev, tpos p, const char *code,
                     const char *fmt, ...)
{
	va_list ap;

	if (!m->has_config)
		p = (tpos){0, 0};
	va_start(ap, fmt);
	vreport(r, m, sev, m->has_config ? m->config_file : m->dir, p, code, fmt, ap);
	va_end(ap);
}

#define cfg_error(r, m, p, code, ...) cfg_diag(r, m, MREG_DIAG_ERROR, p, code, __VA_ARGS__)

/* A problem with a file or folder of the model. */
static void path_diag(trepo *r, tmodel *m, mreg_diag_severity sev, const char *path,
                      const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void path_diag(trepo *r, tmodel *m, mreg_diag_severity sev, const char *path,
                      const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(r, m, sev, path, (tpos){0, 0}, code, fmt, ap);
	va_end(ap);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool child_exists(const char *dir, const char *name, int want_dir)
{
	char *p = path_join(dir, name);
	bool ok = false;

	if (p) {
		if (want_dir < 0)
			ok = exists(p);
		else
			ok = want_dir ? is_dir(p) : (exists(p) && !is_dir(p));
	}
	free(p);
	return ok;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The subfolders of @dir (following symlinks, as Triton's IsDirectory
 * does), sorted bytewise. A folder that cannot be read has none. */
static int list_subdirs(const char *dir, char ***out, size_t *count, size_t limit)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*count = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) && (!limit || n < limit)) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = path_join(dir, e->d_name);
		if (!p)
			goto nomem;
		bool sub = is_dir(p);
		free(p);
		if (!sub)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		if (!(v[n] = str_dup(e->d_name)))
			goto nomem;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	*count = n;
	return 0;
nomem:
	closedir(d);
	free_strv(v, n);
	return MREG_ENOMEM;
}

/* ---- loading a model ---- */

static void tmodel_free(tmodel *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->dir);
	free(m->config_file);
	pbtxt_free(m->tree);
	free_strv(m->subdirs, m->nsubdirs);
	free(m->cfg_name);
	free(m->platform);
	free(m->backend);
	free(m->model_file);
	for (size_t i = 0; i < m->nversions; i++)
		free(m->versions[i].dir);
	free(m->versions);
	free(m->loaded);
	free(m->first_error);
	free(m);
}

typedef struct {
	trepo *r;
	tmodel *m;
} schema_ctx;

static void schema_report(void *ctx, unsigned int line, unsigned int column, const char *msg)
{
	schema_ctx *c = ctx;

	cfg_error(c->r, c->m, ((tpos){line, column}), "triton-schema",
	          "failed to read text proto: %s", msg);
}

/* Read, parse and schema-check config.pbtxt. */
static void read_config(trepo *r, tmodel *m)
{
	struct stat st;
	FILE *f = NULL;
	char *text = NULL;
	pbtxt_error err;
	int rc;

	m->config_ok = true;
	if (lstat(m->config_file, &st) != 0)
		return;
	m->has_config = true;
	m->config_ok = false;
	if (stat(m->config_file, &st) != 0 || !S_ISREG(st.st_mode)) {
		cfg_error(r, m, ((tpos){0, 0}), "triton-config",
		          "failed to open text file for read %s: not a regular file",
		          m->config_file);
		return;
	}
	if ((size_t)st.st_size > CONFIG_MAX) {
		cfg_error(r, m, ((tpos){0, 0}), "triton-config",
		          "failed to read text proto from %s: larger than %zu MiB", m->config_file,
		          CONFIG_MAX >> 20);
		return;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		r->nomem = true;
		return;
	}
	if (!(f = fopen(m->config_file, "rb")) ||
	    fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		cfg_error(r, m, ((tpos){0, 0}), "triton-config",
		          "failed to open text file for read %s: %s", m->config_file,
		          strerror(errno ? errno : EIO));
		goto done;
	}
	rc = pbtxt_parse(&m->tree, text, (size_t)st.st_size, &err);
	if (rc == MREG_ENOMEM) {
		r->nomem = true;
		goto done;
	}
	/* Check what parsed even when a syntax error follows: those problems
	 * are real too, and come first in the file. */
	schema_ctx sc = {r, m};
	size_t bad = ts_check(m->tree, schema_report, &sc);
	if (rc) {
		cfg_error(r, m, ((tpos){err.line, err.column}), "triton-syntax",
		          "failed to read text proto: %s", err.message);
		bad++;
	}
	m->config_ok = bad == 0;
done:
	if (f)
		fclose(f);
	free(text);
}

/* AutoCompleteBackendFields: fill name, platform, backend and the default
 * model file name from what the first version folder holds (only the
 * lexicographically first subfolder is looked at, as Triton does). */
static void autofill(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree;
	const char *name = ts_str(cfg, "name");
	char *platform = xstrdup(r, ts_str(cfg, "platform"));
	char *backend = xstrdup(r, ts_str(cfg, "backend"));
	char *file = xstrdup(r, ts_str(cfg, "default_model_filename"));
	char *vpath = m->nsubdirs ? path_join(m->dir, m->subdirs[0]) : NULL;
	bool has_version = vpath != NULL;

#define SET(var, val)                                                                              \
	do {                                                                                       \
		free(var);                                                                         \
		var = xstrdup(r, val);                                                             \
	} while (0)
#define EMPTY(s) (!(s) || !*(s))
#define IS(s, lit) ((s) && !strcmp((s), lit))

	m->cfg_name = xstrdup(r, *name ? name : m->name);
	if (!platform || !backend || !file)
		goto done;

	/* TensorFlow: the platform is required, guessed from the file. */
	if (EMPTY(platform) && (EMPTY(backend) || IS(backend, "tensorflow"))) {
		if (IS(file, "model.savedmodel")) {
			SET(platform, "tensorflow_savedmodel");
		} else if (IS(file, "model.graphdef")) {
			SET(platform, "tensorflow_graphdef");
		} else if (EMPTY(file) && has_version) {
			if (child_exists(vpath, "model.savedmodel", 1))
				SET(platform, "tensorflow_savedmodel");
			if (child_exists(vpath, "model.graphdef", 0))
				SET(platform, "tensorflow_graphdef");
		}
	}
	if (IS(platform, "tensorflow_savedmodel") || IS(platform, "tensorflow_graphdef")) {
		if (EMPTY(backend))
			SET(backend, "tensorflow");
		if (EMPTY(file))
			SET(file, IS(platform, "tensorflow_savedmodel") ? "model.savedmodel"
			                                                : "model.graphdef");
		goto done;
	}
	/* TensorRT */
	if (EMPTY(backend)) {
		if (IS(platform, "tensorrt_plan") || IS(file, "model.plan"))
			SET(backend, "tensorrt");
		else if (EMPTY(platform) && EMPTY(file) && has_version &&
		         child_exists(vpath, "model.plan", 0))
			SET(backend, "tensorrt");
	}
	if (IS(backend, "tensorrt")) {
		if (EMPTY(platform))
			SET(platform, "tensorrt_plan");
		if (EMPTY(file))
			SET(file, "model.plan");
		goto done;
	}
	/* ONNX Runtime: the model may be a file or a folder. */
	if (EMPTY(backend)) {
		if (IS(platform, "onnxruntime_onnx") || IS(file, "model.onnx"))
			SET(backend, "onnxruntime");
		else if (EMPTY(platform) && EMPTY(file) && has_version &&
		         child_exists(vpath, "model.onnx", -1))
			SET(backend, "onnxruntime");
	}
	if (IS(backend, "onnxruntime")) {
		if (EMPTY(platform))
			SET(platform, "onnxruntime_onnx");
		if (EMPTY(file))
			SET(file, "model.onnx");
		goto done;
	}
	/* OpenVINO */
	if (EMPTY(backend)) {
		if (IS(file, "model.xml"))
			SET(backend, "openvino");
		else if (EMPTY(platform) && EMPTY(file) && has_version &&
		         child_exists(vpath, "model.xml", -1))
			SET(backend, "openvino");
	}
	if (IS(backend, "openvino")) {
		if (EMPTY(file))
			SET(file, "model.xml");
		goto done;
	}
	/* PyTorch (LibTorch and AOTInductor) */
	if (EMPTY(backend)) {
		if (IS(platform, "pytorch_libtorch") || IS(platform, "libtorch") ||
		    IS(file, "model.pt")) {
			SET(backend, "pytorch");
		} else if (IS(platform, "torch_aoti") || IS(file, "model.pt2")) {
			SET(backend, "pytorch");
		} else if (has_version && EMPTY(file) && EMPTY(platform)) {
			if (child_exists(vpath, "model.pt", -1)) {
				if (child_exists(vpath, "model.pt", 0)) {
					SET(backend, "pytorch");
					SET(platform, "pytorch_libtorch");
				}
			} else if (child_exists(vpath, "model.pt2", 0)) {
				SET(backend, "pytorch");
				SET(platform, "torch_aoti");
			}
		}
	}
	if (IS(backend, "pytorch")) {
		if (EMPTY(platform)) {
			SET(platform, "pytorch_libtorch");
			if (EMPTY(file))
				SET(file, "model.pt");
		} else if (IS(platform, "torch_aoti") && EMPTY(file)) {
			SET(file, "model.pt2");
		}
		goto done;
	}
	/* Python */
	if (EMPTY(backend)) {
		if (IS(file, "model.py"))
			SET(backend, "python");
		else if (EMPTY(platform) && EMPTY(file) && has_version &&
		         child_exists(vpath, "model.py", -1))
			SET(backend, "python");
	}
	if (IS(backend, "python")) {
		if (EMPTY(file))
			SET(file, "model.py");
		goto done;
	}
	/* A custom backend named by the model: "<anything>.<backend>". */
	if (EMPTY(backend) && EMPTY(platform) && EMPTY(file)) {
		const char *dot = strchr(m->name, '.');
		if (!dot) {
			m->autofill_failed = true;
			goto done;
		}
		SET(backend, dot + 1);
		m->backend_from_name = true;
		free(file);
		file = str_printf("model.%s", dot + 1);
		if (!file)
			r->nomem = true;
	}
done:
	m->platform = platform;
	m->backend = backend;
	m->model_file = file;
	free(vpath);
#undef SET
}

/* std::stoll as Triton applies it to a folder name: leading white space,
 * a sign, digits, then anything. Returns 1 and sets *tail when it read a
 * number, 0 when there is none, -1 when it is out of range. */
static int parse_version(const char *s, int64_t *out, const char **tail)
{
	const char *p = s;
	bool neg = false;
	uint64_t v = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return 0;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > ((uint64_t)INT64_MAX + (neg ? 1 : 0) - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	*tail = p;
	return 1;
}

static int cmp_version(const void *a, const void *b)
{
	const tversion *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

/* The numeric version folders (VersionsToLoad, first half). */
static void scan_versions(trepo *r, tmodel *m)
{
	for (size_t i = 0; i < m->nsubdirs; i++) {
		const char *d = m->subdirs[i];
		const char *tail = NULL;
		int64_t v;
		int rc;
		char *path;

		if (!strcmp(d, "warmup") || !strcmp(d, "initial_state") || !strcmp(d, "configs"))
			continue;
		if (!(path = path_join(m->dir, d))) {
			r->nomem = true;
			return;
		}
		if (strlen(d) > 1 && d[0] == '0') {
			path_diag(r, m, MREG_DIAG_WARNING, path, "triton-version",
			          "ignore version directory '%s' which contains leading zeros in "
			          "its directory name",
			          d);
		} else if ((rc = parse_version(d, &v, &tail)) == 0) {
			path_diag(
			    r, m, MREG_DIAG_WARNING, path, "triton-version",
			    "ignore version directory '%s' which fails to convert to integral "
			    "number",
			    d);
		} else if (rc < 0) {
			path_diag(r, m, MREG_DIAG_ERROR, path, "triton-version",
			          "version directory '%s' is out of range for std::stoll, which "
			          "Triton does not catch",
			          d);
		} else {
			bool dup = false;
			if (*tail || v < 0 || !isdigit((unsigned char)d[0]))
				path_diag(r, m, MREG_DIAG_WARNING, path, "triton-version",
				          "version directory '%s' is read as version %" PRId64
				          " (Triton converts the name with std::stoll)",
				          d, v);
			for (size_t k = 0; k < m->nversions; k++)
				dup |= m->versions[k].number == v;
			if (dup) {
				path_diag(r, m, MREG_DIAG_WARNING, path, "triton-version",
				          "version directory '%s' duplicates version %" PRId64, d,
				          v);
			} else {
				tversion *nv =
				    realloc(m->versions, (m->nversions + 1) * sizeof(*nv));
				if (!nv) {
					free(path);
					r->nomem = true;
					return;
				}
				m->versions = nv;
				nv[m->nversions].number = v;
				nv[m->nversions].dir = path;
				m->nversions++;
				path = NULL;
			}
		}
		free(path);
	}
	if (m->nversions)
		qsort(m->versions, m->nversions, sizeof(*m->versions), cmp_version);
}

static bool has_version(const tmodel *m, int64_t v)
{
	for (size_t i = 0; i < m->nversions; i++)
		if (m->versions[i].number == v)
			return true;
	return false;
}

static bool is_loaded(const tmodel *m, int64_t v)
{
	for (size_t i = 0; i < m->nloaded; i++)
		if (m->loaded[i] == v)
			return true;
	return false;
}

static void load_version(trepo *r, tmodel *m, int64_t v)
{
	int64_t *n;

	if (is_loaded(m, v))
		return;
	if (!(n = realloc(m->loaded, (m->nloaded + 1) * sizeof(*n)))) {
		r->nomem = true;
		return;
	}
	m->loaded = n;
	n[m->nloaded++] = v;
}

/* VersionsToLoad, second half: what the version policy selects. */
static void select_versions(trepo *r, tmodel *m)
{
	const pbtxt_msg *vp = ts_msg(m->tree, "version_policy");

	if (ts_has(vp, "specific")) {
		ts_iter it;
		const pbtxt_value *v;
		ts_iter_init(&it, ts_msg(vp, "specific"), "versions");
		while ((v = ts_iter_next(&it))) {
			if (has_version(m, v->v.i))
				load_version(r, m, v->v.i);
			else
				cfg_diag(r, m, MREG_DIAG_WARNING, pos_value(v), "triton-version",
				         "version %" PRId64 " is specified for model '%s', but the "
				         "version directory is not present",
				         v->v.i, m->cfg_name);
		}
	} else if (!vp || ts_has(vp, "latest")) {
		/* Without a policy, Triton's normalization sets latest { 1 }. */
		uint64_t n = vp ? ts_uint(ts_msg(vp, "latest"), "num_versions") : 1;
		for (size_t i = m->nversions; i-- > 0 && m->nloaded < n;)
			load_version(r, m, m->versions[i].number);
	} else {
		/* all { }, or a version_policy with no choice: every version. */
		for (size_t i = 0; i < m->nversions; i++)
			load_version(r, m, m->versions[i].number);
	}
	if (!m->nloaded)
		cfg_error(r, m, pos_field(m, m->tree, "version_policy"), "triton-version",
		          "at least one version must be available under the version policy of "
		          "model '%s'",
		          m->cfg_name);
}

/* ---- ValidateModelConfig (rules R1-R17) ---- */

typedef enum { BT_UNKNOWN, BT_TENSORFLOW, BT_TENSORRT, BT_ONNXRUNTIME, BT_PYTORCH } backend_type;

static backend_type type_of_backend(const char *b)
{
	if (!strcmp(b, "tensorflow"))
		return BT_TENSORFLOW;
	if (!strcmp(b, "tensorrt"))
		return BT_TENSORRT;
	if (!strcmp(b, "onnxruntime"))
		return BT_ONNXRUNTIME;
	if (!strcmp(b, "pytorch"))
		return BT_PYTORCH;
	return BT_UNKNOWN;
}

static backend_type type_of_platform(const char *p)
{
	if (!strcmp(p, "tensorflow_graphdef") || !strcmp(p, "tensorflow_savedmodel"))
		return BT_TENSORFLOW;
	if (!strcmp(p, "tensorrt_plan"))
		return BT_TENSORRT;
	if (!strcmp(p, "onnxruntime_onnx"))
		return BT_ONNXRUNTIME;
	if (!strcmp(p, "pytorch_libtorch") || !strcmp(p, "torch_aoti"))
		return BT_PYTORCH;
	return BT_UNKNOWN;
}

/* Where platform or backend is written, for the platform rules. */
static tpos pos_platform(const tmodel *m)
{
	tpos p = pos_field(m, m->tree, "platform");

	return p.line ? p : pos_field(m, m->tree, "backend");
}

static const char *control_kind_name(int64_t k)
{
	return ts_enum_name(&ts_control_kind, k);
}

/* GetBooleanSequenceControlProperties / GetTypedSequenceControlProperties
 * for one control kind. Returns false after reporting the first problem. */
static bool check_control(trepo *r, tmodel *m, const pbtxt_msg *sb, int64_t kind, bool typed,
                          int64_t *corrid_type, bool *corrid_seen)
{
	const char *name = m->cfg_name;
	const char *kname = control_kind_name(kind);
	const pbtxt_value *ci, *c;
	ts_iter it, cit;
	bool seen_control = false;
	/* seen tensor names: a small list, the configs are small */
	const char **seen = NULL;
	size_t nseen = 0;
	bool ok = false;

	ts_iter_init(&it, sb, "control_input");
	while ((ci = ts_iter_next(&it))) {
		const char *tname = ts_str(ci->msg, "name");
		if (!*tname) {
			cfg_error(r, m, pos_value(ci), "triton-sequence-batching",
			          "sequence batching control tensor must have a name for %s", name);
			goto done;
		}
		for (size_t i = 0; i < nseen; i++) {
			if (!strcmp(seen[i], tname)) {
				cfg_error(r, m, pos_value(ci), "triton-sequence-batching",
				          "sequence batching control tensor '%s' is specified for "
				          "multiple control kinds for %s",
				          tname, name);
				goto done;
			}
		}
		const char **ns = realloc(seen, (nseen + 1) * sizeof(*ns));
		if (!ns) {
			r->nomem = true;
			goto done;
		}
		seen = ns;
		seen[nseen++] = tname;
		ts_iter_init(&cit, ci->msg, "control");
		while ((c = ts_iter_next(&cit))) {
			if (ts_int(c->msg, "kind") != kind)
				continue;
			if (seen_control) {
				cfg_error(r, m, pos_value(c), "triton-sequence-batching",
				          "sequence batching specifies multiple %s tensors for %s",
				          kname, name);
				goto done;
			}
			seen_control = true;
			size_t ni = ts_count(c->msg, "int32_false_true");
			size_t nf = ts_count(c->msg, "fp32_false_true");
			size_t nb = ts_count(c->msg, "bool_false_true");
			if (typed) {
				*corrid_seen = true;
				*corrid_type = ts_int(c->msg, "data_type");
				if (ni || nf || nb) {
					cfg_error(r, m, pos_value(c), "triton-sequence-batching",
					          "sequence batching must not specify either "
					          "'int32_false_true', 'fp32_false_true' or "
					          "'bool_false_true' for %s for %s",
					          kname, name);
					goto done;
				}
				continue;
			}
			if (!ni && !nf && !nb) {
				cfg_error(
				    r, m, pos_value(c), "triton-sequence-batching",
				    "sequence batching must specify either 'int32_false_true', "
				    "'fp32_false_true' or 'bool_false_true' for %s for %s",
				    kname, name);
				goto done;
			}
			if ((ni && nf) || (ni && nb) || (nf && nb)) {
				cfg_error(r, m, pos_value(c), "triton-sequence-batching",
				          "sequence batching specifies more than one from "
				          "'int32_false_true', 'fp32_false_true' and "
				          "'bool_false_true' for %s for %s",
				          kname, name);
				goto done;
			}
			const char *which = ni   ? "int32_false_true"
			                    : nf ? "fp32_false_true"
			                         : "bool_false_true";
			if ((ni ? ni : nf ? nf : nb) != 2) {
				cfg_error(
				    r, m, pos_field(m, c->msg, which), "triton-sequence-batching",
				    "sequence batching control '%s' must have exactly 2 entries "
				    "for %s for %s",
				    which, kname, name);
				goto done;
			}
		}
	}
	ok = true;
done:
	free(seen);
	return ok;
}

static void check_sequence_batching(trepo *r, tmodel *m, const pbtxt_msg *sb)
{
	const char *name = m->cfg_name;
	int64_t mbs = ts_int(m->tree, "max_batch_size");
	int64_t corrid_type = 0;
	bool corrid = false;
	const pbtxt_value *v;
	ts_iter it;

	if (ts_bool(ts_msg(m->tree, "response_cache"), "enable"))
		cfg_error(r, m, pos_field(m, m->tree, "response_cache"), "triton-response-cache",
		          "Response Cache does not currently support model %s with sequence "
		          "batching scheduler. Please disable the response cache.",
		          name);
	/* Triton checks START, END, READY, then CORRID and stops at the first. */
	if (check_control(r, m, sb, 0, false, NULL, NULL) &&
	    check_control(r, m, sb, 2, false, NULL, NULL) &&
	    check_control(r, m, sb, 1, false, NULL, NULL) &&
	    check_control(r, m, sb, 3, true, &corrid_type, &corrid) && corrid) {
		if (corrid_type != 5 && corrid_type != 9 && corrid_type != 4 && corrid_type != 8 &&
		    corrid_type != 13)
			cfg_error(
			    r, m, pos_field(m, sb, "control_input"), "triton-sequence-batching",
			    "unexpected data type for control CONTROL_SEQUENCE_CORRID for %s. "
			    "Allowed data types are TYPE_UINT64, TYPE_INT64, TYPE_UINT32, "
			    "TYPE_INT32 and TYPE_STRING",
			    name);
	}
	if (ts_has(sb, "oldest")) {
		ts_iter_init(&it, ts_msg(sb, "oldest"), "preferred_batch_size");
		while ((v = ts_iter_next(&it))) {
			if (v->v.i <= 0) {
				cfg_error(r, m, pos_value(v), "triton-sequence-batching",
				          "sequence batching preferred batch size must be positive "
				          "for %s",
				          name);
				break;
			}
			if (v->v.i > mbs) {
				cfg_error(
				    r, m, pos_value(v), "triton-sequence-batching",
				    "sequence batching preferred batch size must be <= max batch "
				    "size for %s",
				    name);
				break;
			}
		}
	}
	if (ts_has(sb, "direct")) {
		const pbtxt_msg *d = ts_msg(sb, "direct");
		double u = ts_double(d, "minimum_slot_utilization");
		if (u < 0.0 || u > 1.0)
			cfg_error(
			    r, m, pos_field(m, d, "minimum_slot_utilization"),
			    "triton-sequence-batching",
			    "sequence batching minimum slot utilization must be in range (0.0, "
			    "1.0] for %s",
			    name);
	}
}

static void check_dynamic_batching(trepo *r, tmodel *m, const pbtxt_msg *db)
{
	const char *name = m->cfg_name;
	int64_t mbs = ts_int(m->tree, "max_batch_size");
	uint64_t levels = ts_uint(db, "priority_levels");
	const pbtxt_value *v;
	ts_iter it;

	ts_iter_init(&it, db, "preferred_batch_size");
	while ((v = ts_iter_next(&it))) {
		if (v->v.i <= 0) {
			cfg_error(r, m, pos_value(v), "triton-dynamic-batching",
			          "dynamic batching preferred size must be positive for %s", name);
			break;
		}
		if (v->v.i > mbs) {
			cfg_error(
			    r, m, pos_value(v), "triton-dynamic-batching",
			    "dynamic batching preferred size must be <= max batch size for %s",
			    name);
			break;
		}
	}
	if (levels) {
		uint64_t def = ts_uint(db, "default_priority_level");
		if (def == 0 || def > levels)
			cfg_error(r, m, pos_field(m, db, "default_priority_level"),
			          "triton-dynamic-batching",
			          "default priority level must be in range [1, %" PRIu64 "] for %s",
			          levels, name);
		ts_iter_init(&it, db, "priority_queue_policy");
		while ((v = ts_iter_next(&it))) {
			const pbtxt_value *key = ts_map_key(v);
			uint64_t k = key ? key->v.u : 0;
			if (k == 0 || k > levels) {
				cfg_error(
				    r, m, key ? pos_value(key) : pos_value(v),
				    "triton-dynamic-batching",
				    "priority queue policy must have priority level in range [1, "
				    "%" PRIu64 "] for %s",
				    levels, name);
				break;
			}
		}
	}
	if (ts_bool(db, "preserve_ordering")) {
		if (levels > 1)
			cfg_error(
			    r, m, pos_field(m, db, "preserve_ordering"), "triton-dynamic-batching",
			    "Only one priority level is allowed when 'preserve_ordering' is true "
			    "for %s",
			    name);
		const pbtxt_msg *def = ts_msg(db, "default_queue_policy");
		bool delay = ts_uint(def, "default_timeout_microseconds") != 0 &&
		             ts_int(def, "timeout_action") == 1;
		tpos where = pos_field(m, db, "default_queue_policy");
		ts_iter_init(&it, db, "priority_queue_policy");
		while (!delay && (v = ts_iter_next(&it))) {
			const pbtxt_value *val = ts_map_value(v);
			const pbtxt_msg *p = val ? val->msg : NULL;
			delay = ts_uint(p, "default_timeout_microseconds") != 0 &&
			        ts_int(p, "timeout_action") == 1;
			where = pos_value(v);
		}
		if (delay)
			cfg_error(r, m, where, "triton-dynamic-batching",
			          "Queue policy can not have DELAY as timeout action when "
			          "'preserve_ordering' is true for %s",
			          name);
	}
}

static void check_metrics(trepo *r, tmodel *m, const pbtxt_msg *mm)
{
	const pbtxt_value *mc;
	ts_iter it;

	ts_iter_init(&it, mm, "metric_control");
	while ((mc = ts_iter_next(&it))) {
		const pbtxt_msg *id = ts_msg(mc->msg, "metric_identifier");
		const char *family = ts_str(id, "family");
		if (!ts_has(mc->msg, "metric_identifier")) {
			cfg_error(r, m, pos_value(mc), "triton-metrics",
			          "metric control must specify 'metric_identifier'");
			return;
		}
		if (!*family) {
			cfg_error(r, m, pos_msg(m, id), "triton-metrics",
			          "metric identifier must specify non-empty 'family'");
			return;
		}
		if (!ts_has(mc->msg, "histogram_options")) {
			cfg_error(r, m, pos_value(mc), "triton-metrics",
			          "metric control must specify 'histogram_options'");
			return;
		}
		if (!ts_count(ts_msg(mc->msg, "histogram_options"), "buckets")) {
			cfg_error(r, m, pos_field(m, mc->msg, "histogram_options"),
			          "triton-metrics",
			          "histogram options must specify non-empty 'buckets'");
			return;
		}
	}
	/* Only histograms of Triton core can be customized (metric_model_reporter.cc). */
	ts_iter_init(&it, mm, "metric_control");
	while ((mc = ts_iter_next(&it))) {
		const pbtxt_msg *id = ts_msg(mc->msg, "metric_identifier");
		const char *family = ts_str(id, "family");
		if (strcmp(family, "nv_inference_first_response_histogram_ms"))
			cfg_diag(r, m, MREG_DIAG_WARNING, pos_field(m, id, "family"),
			         "triton-metrics",
			         "Metric family '%s' in 'metric_identifier' is not a customizable "
			         "metric in Triton core.",
			         family);
	}
}

/* ---- ensembles within one config (ValidateEnsembleSchedulingConfig) ---- */

/* A string -> index table for ensemble tensor names. */
typedef struct {
	const char **keys;
	size_t *vals;
	size_t cap, count;
} strmap;

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static bool strmap_grow(strmap *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	const char **keys = calloc(cap, sizeof(*keys));
	size_t *vals = calloc(cap, sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return false;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->keys[i])
			continue;
		size_t h = hash_str(t->keys[i]) & (cap - 1);
		while (keys[h])
			h = (h + 1) & (cap - 1);
		keys[h] = t->keys[i];
		vals[h] = t->vals[i];
	}
	free(t->keys);
	free(t->vals);
	t->keys = keys;
	t->vals = vals;
	t->cap = cap;
	return true;
}

/* Find @key; when absent and @add, insert it with value @val. Returns the
 * value, or SIZE_MAX when absent (or out of memory). */
static size_t strmap_get(strmap *t, const char *key, bool add, size_t val)
{
	size_t h;

	if (t->cap) {
		for (h = hash_str(key) & (t->cap - 1); t->keys[h]; h = (h + 1) & (t->cap - 1))
			if (!strcmp(t->keys[h], key))
				return t->vals[h];
	}
	if (!add)
		return SIZE_MAX;
	if ((t->count + 1) * 2 > t->cap && !strmap_grow(t))
		return SIZE_MAX;
	for (h = hash_str(key) & (t->cap - 1); t->keys[h]; h = (h + 1) & (t->cap - 1))
		;
	t->keys[h] = key;
	t->vals[h] = val;
	t->count++;
	return val;
}

static void strmap_dispose(strmap *t)
{
	free(t->keys);
	free(t->vals);
}

typedef struct {
	size_t *v;
	size_t n;
} idxlist;

static bool idx_push(idxlist *l, size_t x)
{
	size_t *n;

	if (l->n && (l->n & (l->n - 1)))
		goto put;
	if (!(n = realloc(l->v, (l->n ? l->n * 2 : 1) * sizeof(*n))))
		return false;
	l->v = n;
put:
	l->v[l->n++] = x;
	return true;
}

/* A map field (input_map, output_map) with protobuf's map semantics: one
 * entry per key, the last one written wins. Keys and values are borrowed. */
typedef struct {
	const char **keys;
	const char **vals;
	size_t n;
} kvmap;

static bool kvmap_read(kvmap *out, const pbtxt_msg *msg, const char *field)
{
	ts_iter it;
	const pbtxt_value *e;
	size_t cap = ts_count(msg, field);

	out->n = 0;
	out->keys = calloc(cap ? cap : 1, sizeof(*out->keys));
	out->vals = calloc(cap ? cap : 1, sizeof(*out->vals));
	if (!out->keys || !out->vals)
		return false;
	ts_iter_init(&it, msg, field);
	while ((e = ts_iter_next(&it))) {
		const pbtxt_value *k = ts_map_key(e), *v = ts_map_value(e);
		const char *ks = k ? k->text : "", *vs = v ? v->text : "";
		size_t i;
		for (i = 0; i < out->n && strcmp(out->keys[i], ks); i++)
			;
		out->keys[i] = ks;
		out->vals[i] = vs;
		if (i == out->n)
			out->n++;
	}
	return true;
}

static void kvmap_dispose(kvmap *m)
{
	free(m->keys);
	free(m->vals);
}

typedef struct {
	const char *name;
	bool is_output, ready;
	idxlist prev, next;
} enode;

typedef struct {
	enode *nodes;
	size_t count, cap;
	strmap index;
} egraph;

static void egraph_dispose(egraph *g)
{
	for (size_t i = 0; i < g->count; i++) {
		free(g->nodes[i].prev.v);
		free(g->nodes[i].next.v);
	}
	free(g->nodes);
	strmap_dispose(&g->index);
}

static size_t egraph_node(egraph *g, const char *name, bool *created)
{
	size_t i = strmap_get(&g->index, name, false, 0);

	*created = false;
	if (i != SIZE_MAX)
		return i;
	if (g->count == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		enode *n = realloc(g->nodes, cap * sizeof(*n));
		if (!n)
			return SIZE_MAX;
		g->nodes = n;
		g->cap = cap;
	}
	if (strmap_get(&g->index, name, true, g->count) == SIZE_MAX)
		return SIZE_MAX;
	memset(&g->nodes[g->count], 0, sizeof(g->nodes[0]));
	g->nodes[g->count].name = name;
	*created = true;
	return g->count++;
}

static void check_ensemble_scheduling(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree, *es = ts_msg(cfg, "ensemble_scheduling");
	const char *name = m->cfg_name;
	const pbtxt_value *step, *io;
	ts_iter it;
	egraph g = {0};
	size_t idx = 0;
	bool created, oom = false;
	idxlist queue = {0};

	if (strcmp(m->platform, ENSEMBLE)) {
		cfg_error(r, m, pos_field(m, cfg, "ensemble_scheduling"), "triton-ensemble",
		          "ensemble scheduling cannot be set for model '%s' whose platform is not "
		          "ensemble",
		          name);
		return;
	}
	if (ts_count(cfg, "instance_group")) {
		cfg_error(r, m, pos_field(m, cfg, "instance_group"), "triton-ensemble",
		          "instance group should not be specified for ensemble '%s'", name);
		return;
	}
	if (ts_has(cfg, "optimization")) {
		cfg_error(r, m, pos_field(m, cfg, "optimization"), "triton-ensemble",
		          "optimization should not be specified for ensemble '%s'", name);
		return;
	}
	if (ts_count(cfg, "model_warmup")) {
		cfg_error(r, m, pos_field(m, cfg, "model_warmup"), "triton-ensemble",
		          "model_warmup can not be specified for ensemble '%s'", name);
		return;
	}
	if (!ts_count(es, "step")) {
		cfg_error(r, m, pos_field(m, cfg, "ensemble_scheduling"), "triton-ensemble",
		          "must specify 'step' for ensemble '%s'", name);
		return;
	}
	/* BuildEnsembleGraph */
	ts_iter_init(&it, es, "step");
	for (; (step = ts_iter_next(&it)); idx++) {
		kvmap in = {0}, out = {0};
		idxlist outs = {0};
		bool stop = true;
		if (!*ts_str(step->msg, "model_name")) {
			cfg_error(r, m, pos_value(step), "triton-ensemble",
			          "must specify 'model_name' in step %zu of ensemble '%s'", idx,
			          name);
			goto step_done;
		}
		if (!kvmap_read(&in, step->msg, "input_map") ||
		    !kvmap_read(&out, step->msg, "output_map")) {
			oom = true;
			goto step_done;
		}
		if (!in.n) {
			cfg_error(r, m, pos_value(step), "triton-ensemble",
			          "must specify 'input_map' in step %zu of ensemble '%s'", idx,
			          name);
			goto step_done;
		}
		if (!out.n) {
			cfg_error(r, m, pos_value(step), "triton-ensemble",
			          "must specify 'output_map' in step %zu of ensemble '%s'", idx,
			          name);
			goto step_done;
		}
		for (size_t k = 0; k < out.n; k++) {
			size_t t = egraph_node(&g, out.vals[k], &created);
			if (t == SIZE_MAX) {
				oom = true;
				goto step_done;
			}
			if (!created && g.nodes[t].is_output) {
				cfg_error(
				    r, m, pos_field(m, step->msg, "output_map"), "triton-ensemble",
				    "ensemble tensor '%s' can appear in an output map only once "
				    "for ensemble '%s' step %zu",
				    out.vals[k], name, idx);
				goto step_done;
			}
			g.nodes[t].is_output = true;
			if (!idx_push(&outs, t)) {
				oom = true;
				goto step_done;
			}
		}
		/* input_map keys are unique (a protobuf map), so Triton's "mapped to
		 * multiple ensemble tensors" cannot arise from a config file. */
		for (size_t k = 0; k < in.n; k++) {
			size_t t = egraph_node(&g, in.vals[k], &created);
			if (t == SIZE_MAX) {
				oom = true;
				goto step_done;
			}
			for (size_t o = 0; o < outs.n; o++) {
				if (!idx_push(&g.nodes[outs.v[o]].prev, t) ||
				    !idx_push(&g.nodes[t].next, outs.v[o])) {
					oom = true;
					goto step_done;
				}
			}
		}
		stop = false;
	step_done:
		kvmap_dispose(&in);
		kvmap_dispose(&out);
		free(outs.v);
		if (stop)
			goto done;
	}
	/* Data flow from the ensemble inputs. */
	ts_iter_init(&it, cfg, "input");
	while ((io = ts_iter_next(&it))) {
		const char *in = ts_str(io->msg, "name");
		size_t t = strmap_get(&g.index, in, false, 0);
		if (t == SIZE_MAX) {
			cfg_error(r, m, pos_value(io), "triton-ensemble",
			          "ensemble input '%s' for ensemble %s' is not used", in, name);
			continue;
		}
		if (!g.nodes[t].ready) {
			g.nodes[t].ready = true;
			if (!idx_push(&queue, t))
				oom = true;
		}
	}
	for (size_t q = 0; q < queue.n && !oom; q++) {
		enode *cur = &g.nodes[queue.v[q]];
		for (size_t k = 0; k < cur->next.n; k++) {
			enode *nx = &g.nodes[cur->next.v[k]];
			bool ready = true;
			if (nx->ready)
				continue;
			for (size_t p = 0; p < nx->prev.n && ready; p++)
				ready = g.nodes[nx->prev.v[p]].ready;
			nx->ready = ready;
			if (ready && !idx_push(&queue, cur->next.v[k]))
				oom = true;
			cur = &g.nodes[queue.v[q]];
		}
	}
	strmap outputs = {0};
	ts_iter_init(&it, cfg, "output");
	while ((io = ts_iter_next(&it))) {
		const char *on = ts_str(io->msg, "name");
		size_t t = strmap_get(&g.index, on, false, 0);
		if (t == SIZE_MAX) {
			cfg_error(r, m, pos_value(io), "triton-ensemble",
			          "ensemble output '%s' for ensemble %s' is not used", on, name);
			continue;
		}
		if (!g.nodes[t].ready) {
			/* Walk back to a source that is not connected, as Triton does. */
			size_t last = t, seen_n = 0;
			strmap seen = {0};
			const idxlist *prev = &g.nodes[t].prev;
			while (prev && prev->n) {
				const idxlist *nextp = NULL;
				for (size_t k = 0; k < prev->n; k++) {
					size_t p = prev->v[k];
					if (!g.nodes[p].ready && strmap_get(&seen, g.nodes[p].name,
					                                    false, 0) == SIZE_MAX) {
						strmap_get(&seen, g.nodes[p].name, true, seen_n++);
						last = p;
						nextp = &g.nodes[p].prev;
						break;
					}
				}
				prev = nextp;
			}
			strmap_dispose(&seen);
			if (last != t)
				cfg_error(
				    r, m, pos_value(io), "triton-ensemble",
				    "output '%s' for ensemble '%s' is not written: at least one of "
				    "its depending tensors, '%s', is not connected",
				    on, name, g.nodes[last].name);
			else
				cfg_error(r, m, pos_value(io), "triton-ensemble",
				          "output '%s' for ensemble '%s' is not written", on, name);
			continue;
		}
		strmap_get(&outputs, on, true, 0);
	}
	for (size_t t = 0; t < g.count && !oom; t++) {
		if (strmap_get(&outputs, g.nodes[t].name, false, 0) != SIZE_MAX)
			continue;
		if (!g.nodes[t].ready || !g.nodes[t].next.n)
			cfg_error(r, m, pos_field(m, cfg, "ensemble_scheduling"), "triton-ensemble",
			          "ensemble tensor '%s' is unused in ensemble '%s'",
			          g.nodes[t].name, name);
	}
	strmap_dispose(&outputs);
done:
	if (oom)
		r->nomem = true;
	free(queue.v);
	egraph_dispose(&g);
}

static void check_model_config(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree;
	const char *name = m->cfg_name;

	/* R1 cannot fire: auto-completion names the model after its folder. */
	if (m->platform_unknown) {
		/* config-only and nothing names the backend: see check_model */
	} else if (!*m->backend) {
		if (strcmp(m->platform, ENSEMBLE)) {
			cfg_error(r, m, pos_platform(m), "triton-platform",
			          "unexpected platform type '%s' for %s", m->platform, name);
			return;
		}
	} else if (!strcmp(m->platform, ENSEMBLE)) {
		cfg_error(r, m, pos_platform(m), "triton-platform",
		          "Ensemble model '%s' must have platform type '%s' and empty backend type",
		          name, m->platform);
		return;
	}
	backend_type bt = type_of_backend(m->backend);
	if (!m->platform_unknown && bt != BT_UNKNOWN && bt != type_of_platform(m->platform)) {
		cfg_error(r, m, pos_platform(m), "triton-platform",
		          "unexpected 'platform' and 'backend' pair, got:%s, %s", m->platform,
		          m->backend);
		return;
	}
	if (ts_int(cfg, "max_batch_size") < 0)
		cfg_error(r, m, pos_value(ts_last(cfg, "max_batch_size")), "triton-max-batch-size",
		          "'max_batch_size' must be non-negative value for %s", name);
	if (ts_has(cfg, "dynamic_batching"))
		check_dynamic_batching(r, m, ts_msg(cfg, "dynamic_batching"));
	if (ts_has(cfg, "sequence_batching"))
		check_sequence_batching(r, m, ts_msg(cfg, "sequence_batching"));
	if (ts_has(cfg, "ensemble_scheduling"))
		check_ensemble_scheduling(r, m);
	else if (!strcmp(m->platform, ENSEMBLE))
		cfg_error(r, m, pos_platform(m), "triton-ensemble",
		          "ensemble scheduling must be set for ensemble %s whose platform is "
		          "ensemble",
		          name);
	if (ts_bool(ts_msg(cfg, "model_transaction_policy"), "decoupled") &&
	    ts_bool(ts_msg(cfg, "response_cache"), "enable"))
		cfg_error(r, m, pos_field(m, cfg, "response_cache"), "triton-response-cache",
		          "Response Cache does not currently support model %s with 'decoupled' "
		          "transaction policy. Please disable the response cache.",
		          name);
	if (ts_has(cfg, "model_metrics"))
		check_metrics(r, m, ts_msg(cfg, "model_metrics"));
}

/* ---- inputs and outputs (ValidateModelIOConfig) ---- */

/* GetElementCount: 0 for no dims, -1 with a variable dim; false on
 * overflow. */
static bool element_count(const pbtxt_msg *msg, const char *field, int64_t *out)
{
	ts_iter it;
	const pbtxt_value *v;
	int64_t n = 0;
	bool first = true;

	ts_iter_init(&it, msg, field);
	while ((v = ts_iter_next(&it))) {
		if (v->v.i == -1) {
			*out = -1;
			return true;
		}
		if (first) {
			n = v->v.i;
			first = false;
		} else if (__builtin_mul_overflow(n, v->v.i, &n)) {
			return false;
		}
	}
	*out = n;
	return true;
}

/* Products of the runs between -1 dims (wrapping like Triton's int64). */
static size_t segment_counts(const pbtxt_msg *msg, const char *field, uint64_t *out, size_t max)
{
	ts_iter it;
	const pbtxt_value *v;
	uint64_t cur = 1;
	size_t n = 0;

	ts_iter_init(&it, msg, field);
	while ((v = ts_iter_next(&it))) {
		if (v->v.i == -1) {
			if (n < max)
				out[n] = cur;
			n++;
			cur = 1;
		} else {
			cur *= (uint64_t)v->v.i;
		}
	}
	if (n < max)
		out[n] = cur;
	return n + 1;
}

static bool check_io_shape(trepo *r, tmodel *m, const pbtxt_value *io, const char *prefix)
{
	const pbtxt_msg *t = io->msg, *reshape = ts_msg(t, "reshape");
	const char *tname = ts_str(t, "name"), *name = m->cfg_name;
	int64_t mbs = ts_int(m->tree, "max_batch_size");
	const pbtxt_value *v;
	ts_iter it;

	if (!*tname) {
		cfg_error(r, m, pos_value(io), "triton-io", "%smust specify 'name' for %s", prefix,
		          name);
		return false;
	}
	if (ts_int(t, "data_type") == 0) {
		cfg_error(r, m, pos_field(m, t, "data_type"), "triton-io",
		          "%s'%s' must specify 'data_type' for %s", prefix, tname, name);
		return false;
	}
	if (!ts_count(t, "dims")) {
		cfg_error(r, m, pos_value(io), "triton-io", "%s'%s' must specify 'dims' for %s",
		          prefix, tname, name);
		return false;
	}
	if (reshape && !ts_count(reshape, "shape") && mbs == 0) {
		cfg_error(
		    r, m, pos_field(m, t, "reshape"), "triton-io",
		    "%s'%s' cannot have empty reshape for non-batching model as scalar tensors "
		    "are not supported for %s",
		    prefix, tname, name);
		return false;
	}
	ts_iter_init(&it, t, "dims");
	while ((v = ts_iter_next(&it))) {
		if (v->v.i < 1 && v->v.i != -1) {
			cfg_error(r, m, pos_value(v), "triton-io",
			          "%s'%s' dimension must be integer >= 1, or -1 to indicate a "
			          "variable-size dimension for %s",
			          prefix, tname, name);
			return false;
		}
	}
	if (!reshape)
		return true;
	ts_iter_init(&it, reshape, "shape");
	while ((v = ts_iter_next(&it))) {
		if (v->v.i < 1 && v->v.i != -1) {
			cfg_error(
			    r, m, pos_value(v), "triton-io",
			    "%s'%s' reshape dimensions must be integer >= 1, or -1 to indicate "
			    "a variable-size dimension for %s",
			    prefix, tname, name);
			return false;
		}
	}
	int64_t dims_size, reshape_size;
	if (!element_count(t, "dims", &dims_size)) {
		cfg_error(r, m, pos_field(m, t, "dims"), "triton-io",
		          "element count for tensor '%s dims' exceeds maximum size of %" PRId64
		          " for %s",
		          tname, INT64_MAX, name);
		return false;
	}
	if (!element_count(reshape, "shape", &reshape_size)) {
		cfg_error(r, m, pos_field(m, t, "reshape"), "triton-io",
		          "element count for tensor '%s reshape' exceeds maximum size of %" PRId64
		          " for %s",
		          tname, INT64_MAX, name);
		return false;
	}
	if (dims_size != reshape_size && (reshape_size != 0 || dims_size != 1)) {
		cfg_error(r, m, pos_field(m, t, "reshape"), "triton-io",
		          "%s'%s' has different size for dims and reshape for %s", prefix, tname,
		          name);
		return false;
	}
	if (dims_size == -1) {
		uint64_t a[64], b[64];
		size_t na = segment_counts(t, "dims", a, 64);
		size_t nb = segment_counts(reshape, "shape", b, 64);
		if (na != nb) {
			cfg_error(
			    r, m, pos_field(m, t, "reshape"), "triton-io",
			    "%s'%s' has different number of variable-size dimensions for dims "
			    "and reshape for %s",
			    prefix, tname, name);
			return false;
		}
		for (size_t i = 0; i < na && i < 64; i++) {
			if (a[i] != b[i]) {
				cfg_error(r, m, pos_field(m, t, "reshape"), "triton-io",
				          "%s'%s' has different size for dims and reshape for %s",
				          prefix, tname, name);
				return false;
			}
		}
	}
	return true;
}

static bool check_nonlinear(trepo *r, tmodel *m, const pbtxt_value *io, bool input)
{
	const pbtxt_msg *t = io->msg;

	if (!ts_bool(t, "is_non_linear_format_io"))
		return true;
	if (strcmp(m->platform, "tensorrt_plan")) {
		cfg_error(r, m, pos_field(m, t, "is_non_linear_format_io"), "triton-io",
		          "Non-linear IO format is only supported for the TensorRT platform for %s",
		          m->cfg_name);
		return false;
	}
	if (ts_count(t, "dims") != 3) {
		cfg_error(r, m, pos_field(m, t, "dims"), "triton-io",
		          "Non-linear IO format %s requires 3 dims for %s",
		          input ? "input" : "output", m->cfg_name);
		return false;
	}
	return true;
}

static bool name_in(const pbtxt_msg *cfg, const char *field, const char *name)
{
	ts_iter it;
	const pbtxt_value *v;

	ts_iter_init(&it, cfg, field);
	while ((v = ts_iter_next(&it)))
		if (!strcmp(ts_str(v->msg, "name"), name))
			return true;
	return false;
}

static void check_batch_io(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree;
	const char *name = m->cfg_name;
	const pbtxt_value *b, *s;
	ts_iter it, sit;

	ts_iter_init(&it, cfg, "batch_input");
	while ((b = ts_iter_next(&it))) {
		int64_t kind = ts_int(b->msg, "kind");
		int64_t dt = ts_int(b->msg, "data_type");
		size_t n = ts_count(b->msg, "source_input");
		if (kind < 0 || kind > 5) {
			cfg_error(r, m, pos_field(m, b->msg, "kind"), "triton-batch-io",
			          "unknown batch input kind '' for %s", name);
			return;
		}
		if (n != 1) {
			cfg_error(r, m, pos_value(b), "triton-batch-io",
			          "batch input kind '%s' expects 1 source input, got %zu for %s",
			          ts_enum_name(&ts_batch_input_kind, kind), n, name);
			return;
		}
		if (dt != 8 && dt != 11) {
			cfg_error(r, m, pos_field(m, b->msg, "data_type"), "triton-batch-io",
			          "batch input data type must be TYPE_INT32 or TYPE_FP32 for %s",
			          name);
			return;
		}
		ts_iter_init(&sit, b->msg, "source_input");
		while ((s = ts_iter_next(&sit))) {
			if (!name_in(cfg, "input", s->text)) {
				cfg_error(r, m, pos_value(s), "triton-batch-io",
				          "unknown source input name '%s' for %s", s->text, name);
				return;
			}
		}
	}
	ts_iter_init(&it, cfg, "batch_output");
	while ((b = ts_iter_next(&it))) {
		int64_t kind = ts_int(b->msg, "kind");
		size_t n = ts_count(b->msg, "source_input");
		if (kind != 0) {
			cfg_error(r, m, pos_field(m, b->msg, "kind"), "triton-batch-io",
			          "unknown batch output kind '' for %s", name);
			return;
		}
		if (n != 1) {
			cfg_error(
			    r, m, pos_value(b), "triton-batch-io",
			    "batch output kind 'BATCH_SCATTER_WITH_INPUT_SHAPE' expects 1 source "
			    "input, got %zu for %s",
			    n, name);
			return;
		}
		ts_iter_init(&sit, b->msg, "source_input");
		while ((s = ts_iter_next(&sit))) {
			if (!name_in(cfg, "input", s->text)) {
				cfg_error(r, m, pos_value(s), "triton-batch-io",
				          "unknown source input name '%s' for %s", s->text, name);
				return;
			}
		}
		ts_iter_init(&sit, b->msg, "target_name");
		const pbtxt_value *first_dup = NULL;
		while ((s = ts_iter_next(&sit)) && !first_dup) {
			if (!name_in(cfg, "output", s->text)) {
				cfg_error(r, m, pos_value(s), "triton-batch-io",
				          "unknown target output name '%s' for %s", s->text, name);
				return;
			}
			ts_iter prev;
			const pbtxt_value *p;
			ts_iter_init(&prev, b->msg, "target_name");
			while ((p = ts_iter_next(&prev)) && p != s)
				if (!strcmp(p->text, s->text))
					first_dup = s;
		}
		if (first_dup) {
			cfg_error(r, m, pos_value(first_dup), "triton-batch-io",
			          "target output name '%s' can only be specified once for %s",
			          first_dup->text, name);
			return;
		}
	}
}

static void check_io(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree;
	const pbtxt_value *io;
	ts_iter it;
	bool ok = true;

	ts_iter_init(&it, cfg, "input");
	while ((io = ts_iter_next(&it))) {
		const pbtxt_msg *t = io->msg;
		if (!check_io_shape(r, m, io, "model input ")) {
			ok = false;
			continue;
		}
		int64_t fmt = ts_int(t, "format");
		if ((fmt == 1 || fmt == 2) && ts_count(t, "dims") != 3) {
			cfg_error(r, m, pos_field(m, t, "format"), "triton-io",
			          "model input NHWC/NCHW require 3 dims for %s", m->cfg_name);
			ok = false;
			continue;
		}
		if (m->platform_unknown)
			continue;
		if (strcmp(m->platform, "tensorrt_plan") && ts_bool(t, "is_shape_tensor")) {
			cfg_error(r, m, pos_field(m, t, "is_shape_tensor"), "triton-io",
			          "shape tensors are only supported for TensorRT platform for %s",
			          m->cfg_name);
			ok = false;
			continue;
		}
		ok &= check_nonlinear(r, m, io, true);
	}
	ts_iter_init(&it, cfg, "output");
	while ((io = ts_iter_next(&it))) {
		const pbtxt_msg *t = io->msg;
		if (!check_io_shape(r, m, io, "model output ")) {
			ok = false;
			continue;
		}
		if (m->platform_unknown)
			continue;
		if (strcmp(m->platform, "tensorrt_plan") && ts_bool(t, "is_shape_tensor")) {
			cfg_error(r, m, pos_field(m, t, "is_shape_tensor"), "triton-io",
			          "shape tensors are only supported for TensorRT platform for %s",
			          m->cfg_name);
			ok = false;
			continue;
		}
		ok &= check_nonlinear(r, m, io, false);
	}
	/* Triton validates batch inputs/outputs after every tensor passed. */
	if (ok)
		check_batch_io(r, m);
}

/* ---- instance groups (NormalizeInstanceGroup + ValidateInstanceGroup) ---- */

static bool gpu_present(const trepo *r, int64_t id)
{
	int n = r->gpus < 0 ? TRITON_ASSUMED_GPUS : r->gpus;

	return id >= 0 && id < n;
}

static void gpu_list(const trepo *r, char *buf, size_t size)
{
	int n = r->gpus < 0 ? TRITON_ASSUMED_GPUS : r->gpus;
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && o + 16 < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%d", i ? ", " : "", i);
}

/* stoi as GetProfileIndex uses it: 1 with the value, 0 when no number
 * starts the text, -1 when out of int range. */
static int parse_profile(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s)
		return 0;
	if (errno == ERANGE || v < INT32_MIN || v > INT32_MAX)
		return -1;
	*out = v;
	return 1;
}

static void check_instance_groups(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree;
	const char *name = m->cfg_name;
	const pbtxt_value *g, *v;
	ts_iter it, git;
	size_t idx = 0;
	char gpus[256];

	/* Instance groups do not apply to ensembles; without any, Triton makes one. */
	if (ts_has(cfg, "ensemble_scheduling"))
		return;
	gpu_list(r, gpus, sizeof(gpus));
	ts_iter_init(&it, cfg, "instance_group");
	for (; (g = ts_iter_next(&it)); idx++) {
		const pbtxt_msg *ig = g->msg;
		char *gname = *ts_str(ig, "name") ? str_dup(ts_str(ig, "name"))
		                                  : str_printf("%s_%zu", name, idx);
		int64_t kind = ts_int(ig, "kind");
		size_t ngpus = ts_count(ig, "gpus");
		if (!gname) {
			r->nomem = true;
			return;
		}
		if (kind == 0) {
			/* KIND_AUTO: GPU when every listed GPU exists, else CPU. */
			bool all = r->gpus != 0;
			ts_iter_init(&git, ig, "gpus");
			while (all && (v = ts_iter_next(&git)))
				all = gpu_present(r, v->v.i);
			kind = all ? 1 : 2;
		}
		if (kind == 3 && ngpus) {
			cfg_error(
			    r, m, pos_field(m, ig, "gpus"), "triton-instance-group",
			    "instance group %s of model %s has kind KIND_MODEL but specifies one "
			    "or more GPUs",
			    gname, name);
		} else if (kind == 2 && ngpus) {
			cfg_error(
			    r, m, pos_field(m, ig, "gpus"), "triton-instance-group",
			    "instance group %s of model %s has kind KIND_CPU but specifies one or "
			    "more GPUs",
			    gname, name);
		} else if (kind == 1 && r->gpus == 0) {
			cfg_error(r, m, pos_field(m, ig, "kind"), "triton-instance-group",
			          "instance group %s of model %s has kind KIND_GPU but no GPUs are "
			          "available (%s=0)",
			          gname, name, TRITON_GPUS_ENV);
		} else if (kind == 1) {
			ts_iter_init(&git, ig, "gpus");
			while ((v = ts_iter_next(&git))) {
				if (gpu_present(r, v->v.i))
					continue;
				cfg_error(r, m, pos_value(v), "triton-instance-group",
				          "instance group %s of model %s specifies invalid or "
				          "unsupported gpu id %" PRId64
				          ". GPUs with at least the minimum required CUDA compute "
				          "compatibility %s: %s",
				          gname, name, v->v.i,
				          r->gpus < 0
				              ? "are assumed here to be (set " TRITON_GPUS_ENV
				                " to the server's GPU count)"
				              : "are (" TRITON_GPUS_ENV ")",
				          gpus);
				break;
			}
		} else if (kind != 2 && kind != 3) {
			cfg_error(r, m, pos_field(m, ig, "kind"), "triton-instance-group",
			          "instance group %s of model %s has unexpected kind KIND_AUTO",
			          gname, name);
		}
		if (ts_count(ig, "profile") && !m->platform_unknown) {
			if (strcmp(m->platform, "tensorrt_plan")) {
				cfg_error(r, m, pos_field(m, ig, "profile"),
				          "triton-instance-group",
				          "instance group %s of model %s and platform %sspecifies "
				          "profile "
				          "field which is only supported for TensorRT models",
				          gname, name, m->platform);
			} else {
				ts_iter_init(&git, ig, "profile");
				while ((v = ts_iter_next(&git))) {
					long p = 0;
					int rc = *v->text ? parse_profile(v->text, &p) : 0;
					if (!*v->text)
						cfg_error(r, m, pos_value(v),
						          "triton-instance-group",
						          "profile name must not be empty");
					else if (rc == 0)
						cfg_error(r, m, pos_value(v),
						          "triton-instance-group",
						          "unable to parse '%s': stoi", v->text);
					else if (rc < 0)
						cfg_error(
						    r, m, pos_value(v), "triton-instance-group",
						    "unable to parse '%s': stoi (out of range)",
						    v->text);
					else if (p < 0)
						cfg_error(
						    r, m, pos_value(v), "triton-instance-group",
						    "instance group %s of model %s and platform %s "
						    "specifies invalid profile %s. The field "
						    "should "
						    "contain the string representation of a "
						    "non-negative integer.",
						    gname, name, m->platform, v->text);
					else
						continue;
					break;
				}
			}
		}
		free(gname);
	}
}

/* ---- rules applied when Triton loads a model (reference §1.7, §7) ---- */

/* True when @rel, joined to a folder, leaves it ("..", or absolute). */
static bool path_escapes(const char *rel)
{
	int depth = 0;
	const char *p = rel;

	if (*p == '/')
		return true;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return false;
}

static void check_runtime(trepo *r, tmodel *m)
{
	const char *rt = ts_str(m->tree, "runtime");
	tpos p = pos_field(m, m->tree, "runtime");

	if (!*rt)
		return;
	/* The library is looked for in the version folder, then the model
	 * folder, then the backend folder; a name with ".." leaves the first. */
	if (strstr(rt, "..") && path_escapes(rt)) {
		const char *where = m->nversions ? m->versions[m->nversions - 1].dir : m->dir;
		cfg_error(
		    r, m, p, "triton-runtime",
		    "backend library name '%s' escapes backend directory '%s', for model '%s', "
		    "check model config runtime field",
		    rt, where, m->cfg_name);
	}
}

static void check_labels(trepo *r, tmodel *m)
{
	const pbtxt_value *io;
	ts_iter it;

	ts_iter_init(&it, m->tree, "output");
	while ((io = ts_iter_next(&it))) {
		const char *label = ts_str(io->msg, "label_filename");
		const char *oname = ts_str(io->msg, "name");
		if (!*label)
			continue;
		if (path_escapes(label)) {
			cfg_diag(
			    r, m, MREG_DIAG_ERROR, pos_field(m, io->msg, "label_filename"),
			    "triton-label-file",
			    "label file path '%s' for output '%s' in model '%s' is outside model "
			    "directory",
			    label, oname, m->cfg_name);
		} else if (r->layout && !child_exists(m->dir, label, 0)) {
			cfg_diag(r, m, MREG_DIAG_WARNING, pos_field(m, io->msg, "label_filename"),
			         "triton-label-file",
			         "label file '%s' for output '%s' is not in %s", label, oname,
			         m->dir);
		}
	}
}

static void check_warmup(trepo *r, tmodel *m)
{
	const pbtxt_value *w, *e, *d;
	ts_iter it, eit, dit;

	ts_iter_init(&it, m->tree, "model_warmup");
	while ((w = ts_iter_next(&it))) {
		if (ts_uint(w->msg, "batch_size") == 0)
			continue; /* Triton skips such samples */
		ts_iter_init(&eit, w->msg, "inputs");
		while ((e = ts_iter_next(&eit))) {
			const pbtxt_value *k = ts_map_key(e), *val = ts_map_value(e);
			const char *in = k ? k->text : "";
			const pbtxt_msg *input = val ? val->msg : NULL;
			bool variable = false;
			ts_iter_init(&dit, input, "dims");
			while ((d = ts_iter_next(&dit)))
				variable |= d->v.i == -1;
			if (variable) {
				cfg_error(r, m, pos_value(e), "triton-warmup",
				          "warmup setting expects all variable-size dimensions are "
				          "specified for input '%s'",
				          in);
				continue;
			}
			if (!ts_has(input, "zero_data") && !ts_has(input, "random_data") &&
			    !ts_has(input, "input_data_file")) {
				cfg_error(
				    r, m, pos_value(e), "triton-warmup",
				    "warmup setting expects input '%s' to have input_data_type set",
				    in);
				continue;
			}
			const char *file = ts_str(input, "input_data_file");
			if (*file && r->layout) {
				char *rel = str_printf("warmup/%s", file);
				char *path = rel ? path_join(m->dir, rel) : NULL;
				if (path && !child_exists(m->dir, rel, 0))
					cfg_error(
					    r, m, pos_field(m, input, "input_data_file"),
					    "triton-warmup",
					    "failed to open text file for read %s: No such file or "
					    "directory (warmup data for input '%s')",
					    path, in);
				free(rel);
				free(path);
			}
		}
	}
}

/* Bytes per element (triton::common::GetDataTypeByteSize; 0 for strings). */
static uint64_t type_size(int64_t t)
{
	static const unsigned char sizes[] = {0, 1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 4, 8, 0, 2};

	return t >= 0 && t < (int64_t)sizeof(sizes) ? sizes[t] : 0;
}

/* Implicit state, as the sequence batch scheduler sets it up
 * (sequence_batch_scheduler.cc, GenerateInitialStateData). */
static void check_states(trepo *r, tmodel *m)
{
	const pbtxt_msg *sb = ts_msg(m->tree, "sequence_batching");
	const pbtxt_value *s, *is, *d;
	ts_iter it, dit, sd;
	const char **seen = NULL;
	size_t nseen = 0;

	ts_iter_init(&it, sb, "state");
	while ((s = ts_iter_next(&it))) {
		const char *in = ts_str(s->msg, "input_name");
		size_t n = ts_count(s->msg, "initial_state");
		bool dup = false, bad = false;

		if (n > 1) {
			cfg_error(
			    r, m, pos_field(m, s->msg, "initial_state"), "triton-state",
			    "initial_state field for state input '%s' must contain exactly one "
			    "or zero element. Found '%zu' elements.",
			    in, n);
			continue;
		}
		ts_iter_init(&dit, s->msg, "initial_state");
		if (!(is = ts_iter_next(&dit)))
			continue;
		if (ts_int(is->msg, "data_type") != ts_int(s->msg, "data_type")) {
			cfg_error(
			    r, m, pos_value(is), "triton-state",
			    "The data type used for 'initial_state' field of state '%s' does not "
			    "match the state data type.",
			    in);
			continue;
		}
		if (!*ts_str(is->msg, "name")) {
			cfg_error(
			    r, m, pos_value(is), "triton-state",
			    "Field 'name' must be set when using initial_state for state input "
			    "'%s'.",
			    in);
			continue;
		}
		for (size_t i = 0; i < nseen; i++)
			dup |= !strcmp(seen[i], in);
		if (dup) {
			cfg_error(r, m, pos_value(s), "triton-state",
			          "State input name '%s' specified more than once.", in);
			continue;
		}
		size_t sr = ts_count(s->msg, "dims"), ir = ts_count(is->msg, "dims");
		if (sr != ir) {
			cfg_error(
			    r, m, pos_value(is), "triton-state",
			    "Number of dimensions in 'initial_state' doesn't match the size of "
			    "'state' dimensions for state input '%s'. %zu != %zu",
			    in, ir, sr);
			continue;
		}
		const char **ns = realloc(seen, (nseen + 1) * sizeof(*ns));
		if (!ns) {
			r->nomem = true;
			break;
		}
		seen = ns;
		seen[nseen++] = in;
		uint64_t count = 0;
		bool first = true;
		ts_iter_init(&dit, is->msg, "dims");
		ts_iter_init(&sd, s->msg, "dims");
		while (!bad && (d = ts_iter_next(&dit))) {
			const pbtxt_value *sv = ts_iter_next(&sd);
			if (d->v.i == -1) {
				cfg_error(
				    r, m, pos_value(d), "triton-state",
				    "'initial_state' field for state input name '%s' contains "
				    "variable dimensions.",
				    in);
				bad = true;
			} else if (sv && sv->v.i != -1 && sv->v.i != d->v.i) {
				cfg_error(
				    r, m, pos_value(d), "triton-state",
				    "'initial_state' dim for input name '%s' doesn't match 'state' "
				    "dim description. %" PRId64 " != %" PRId64,
				    in, d->v.i, sv->v.i);
				bad = true;
			}
			/* GetElementCount, saturating instead of overflowing. */
			uint64_t dim = (uint64_t)d->v.i;
			if (first)
				count = dim;
			else if (__builtin_mul_overflow(count, dim, &count))
				count = UINT64_MAX;
			first = false;
		}
		if (bad)
			continue;
		if (!ts_has(is->msg, "zero_data") && !ts_has(is->msg, "data_file")) {
			cfg_error(r, m, pos_value(is), "triton-state",
			          "initial_state setting expects state'%s' to have state_data set",
			          in);
			continue;
		}
		const char *file = ts_str(is->msg, "data_file");
		if (!ts_has(is->msg, "data_file") || !r->layout)
			continue;
		char *rel = str_printf("initial_state/%s", file);
		char *path = rel ? path_join(m->dir, rel) : NULL;
		struct stat st;
		if (!path) {
			r->nomem = true;
		} else if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			cfg_error(r, m, pos_field(m, is->msg, "data_file"), "triton-state",
			          "failed to open text file for read %s: %s", path,
			          strerror(errno ? errno : ENOENT));
		} else {
			int64_t dt = ts_int(is->msg, "data_type");
			uint64_t size = type_size(dt);
			uint64_t total;
			if (__builtin_mul_overflow(count, size ? size : 4, &total))
				total = UINT64_MAX;
			if (dt != 13 && total > (uint64_t)st.st_size)
				cfg_error(r, m, pos_field(m, is->msg, "data_file"), "triton-state",
				          "initial_state setting expects %" PRIu64
				          " bytes, but the data provided from %sonly has %" PRIu64
				          " bytes.",
				          total, file, (uint64_t)st.st_size);
		}
		free(rel);
		free(path);
	}
	free(seen);
}

/* TRITON_BATCH_STRATEGY_PATH: refused with the sequence batcher (an error
 * in backend_model.cc, though the text reads like a warning). The path is
 * opened as written, on the server (absolute, or relative to Triton's
 * working folder), so only a path climbing out with ".." is judged here. */
static void check_batch_strategy(trepo *r, tmodel *m)
{
	const pbtxt_value *e;
	ts_iter it;

	ts_iter_init(&it, m->tree, "parameters");
	while ((e = ts_iter_next(&it))) {
		const pbtxt_value *k = ts_map_key(e), *v = ts_map_value(e);
		const char *path = v ? ts_str(v->msg, "string_value") : "";
		if (!k || strcmp(k->text, "TRITON_BATCH_STRATEGY_PATH"))
			continue;
		if (ts_has(m->tree, "sequence_batching"))
			cfg_error(r, m, pos_value(e), "triton-batch-strategy",
			          "TRITON_BATCH_STRATEGY_PATH cannot be specified with sequence "
			          "batcher, using default batching strategy");
		else if (*path != '/' && path_escapes(path))
			cfg_error(r, m, pos_value(e), "triton-batch-strategy",
			          "Batching library path escapes model repository.");
	}
}

/* The backend's model file in each version folder. Core Triton does not
 * look; the backend fails to load a version without it, in its own words. */
static void check_model_files(trepo *r, tmodel *m)
{
	static const char *const known[] = {"tensorrt",   "onnxruntime", "pytorch",
	                                    "tensorflow", "openvino",    "python"};
	bool is_known = false;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		is_known |= !strcmp(m->backend, known[i]);
	if (!is_known || !strcmp(m->platform, ENSEMBLE))
		return;
	const char *file = *m->model_file                       ? m->model_file
	                   : !strcmp(m->platform, "torch_aoti") ? "model.pt2"
	                                                        : "model.pt";
	for (size_t i = 0; i < m->nversions; i++) {
		if (!is_loaded(m, m->versions[i].number))
			continue;
		bool found = child_exists(m->versions[i].dir, file, -1);
		/* cc_model_filenames name per-GPU alternatives. */
		const pbtxt_value *e;
		ts_iter it;
		ts_iter_init(&it, m->tree, "cc_model_filenames");
		while (!found && (e = ts_iter_next(&it))) {
			const pbtxt_value *v = ts_map_value(e);
			found = v && *v->text && child_exists(m->versions[i].dir, v->text, -1);
		}
		if (!found)
			path_diag(r, m, MREG_DIAG_WARNING, m->versions[i].dir, "triton-model-file",
			          "version %" PRId64
			          " of model '%s' has no '%s': the %s backend will "
			          "fail to load it",
			          m->versions[i].number, m->cfg_name, file, m->backend);
	}
}

/* ---- one model ---- */

static tmodel *model_new(trepo *r, const char *name, const char *dir)
{
	tmodel *m = calloc(1, sizeof(*m));

	if (!m || !(m->name = str_dup(name)) || !(m->dir = str_dup(dir)) ||
	    !(m->config_file = path_join(dir, CONFIG_NAME))) {
		tmodel_free(m);
		r->nomem = true;
		return NULL;
	}
	m->exists = is_dir(dir);
	return m;
}

/* Everything Triton checks for one model, in its order. */
static void check_model(trepo *r, tmodel *m)
{
	m->checked = true;
	if (!m->exists) {
		m->errors++;
		return;
	}
	if (list_subdirs(m->dir, &m->subdirs, &m->nsubdirs, 0)) {
		r->nomem = true;
		return;
	}
	read_config(r, m);
	if (!m->config_ok)
		return;
	autofill(r, m);
	if (r->nomem)
		return;
	if (m->autofill_failed && !r->layout) {
		/* Without its folders, a config that names no backend is completed
		 * from the model file Triton will find: nothing to say yet. */
		m->platform_unknown = true;
		cfg_diag(
		    r, m, MREG_DIAG_NOTE, pos_field(m, m->tree, "name"), "triton-autofill",
		    "model '%s' names no platform or backend: Triton takes them from the model "
		    "file in its version folder; rules that depend on the platform were skipped",
		    m->cfg_name);
	} else if (m->autofill_failed) {
		cfg_error(r, m, pos_field(m, m->tree, "name"), "triton-platform",
		          "Invalid model name: Could not determine backend for model '%s' with no "
		          "backend in model configuration. Expected model name of the form "
		          "'model.<backend_name>'.",
		          m->name);
		return;
	}
	if (!m->has_config)
		path_diag(r, m, MREG_DIAG_NOTE, m->dir, "triton-autofill",
		          "no config.pbtxt: Triton auto-completes the configuration of model '%s' "
		          "(backend '%s'%s%s) from its %s; with --disable-auto-complete-config "
		          "it would refuse the model",
		          m->name, m->backend, *m->platform ? ", platform " : "", m->platform,
		          m->backend_from_name ? "name" : "model file");
	check_model_config(r, m);
	check_io(r, m);
	/* A config checked alone does not know the folder it will be put in. */
	if (r->layout && strcmp(m->cfg_name, m->name))
		cfg_error(
		    r, m, pos_field(m, m->tree, "name"), "triton-name",
		    "unexpected directory name '%s' for model '%s', directory name must equal "
		    "model name",
		    m->name, m->cfg_name);
	if (r->layout) {
		scan_versions(r, m);
		select_versions(r, m);
	}
	check_instance_groups(r, m);
	check_runtime(r, m);
	check_labels(r, m);
	check_warmup(r, m);
	check_states(r, m);
	check_batch_strategy(r, m);
	if (r->layout)
		check_model_files(r, m);
}

static tmodel *repo_add(trepo *r, tmodel *m)
{
	tmodel **n = realloc(r->models, (r->count + 1) * sizeof(*n));

	if (!n) {
		tmodel_free(m);
		r->nomem = true;
		return NULL;
	}
	r->models = n;
	n[r->count++] = m;
	return m;
}

/* The model called @name: one of the repository's, or (validating a single
 * model) its sibling folder, loaded and checked silently. NULL if none. */
static tmodel *repo_find(trepo *r, const char *name)
{
	tmodel *m;
	char *dir;

	for (size_t i = 0; i < r->count; i++)
		if (!strcmp(r->models[i]->name, name))
			return r->models[i]->exists ? r->models[i] : NULL;
	if (!r->single || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return NULL;
	if (!(dir = path_join(r->root, name))) {
		r->nomem = true;
		return NULL;
	}
	m = model_new(r, name, dir);
	free(dir);
	if (!m || !repo_add(r, m))
		return NULL;
	m->silent = true;
	if (m->exists)
		check_model(r, m);
	return m->exists ? m : NULL;
}

/* ---- ensembles across models (ensemble_utils.cc, repository manager) ---- */

typedef struct {
	const char *model; /* where the type and shape come from */
	int64_t type;
	int64_t dims[64], full[65];
	size_t ndims, nfull;
	bool decoupled, visited;
	size_t label;
	size_t sibling; /* SIZE_MAX: none */
	idxlist prev, next;
} tnode;

typedef struct {
	tnode *v;
	size_t n, cap;
	strmap index;
	/* sibling groups: one per step, holding a label and visited flag */
	struct {
		bool visited;
		size_t label;
	} * sib;
	size_t nsib;
} tgraph;

static void tgraph_dispose(tgraph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].prev.v);
		free(g->v[i].next.v);
	}
	free(g->v);
	free(g->sib);
	strmap_dispose(&g->index);
}

static void tnode_init(tnode *t, const char *model, bool batching, int64_t type,
                       const pbtxt_msg *msg, const char *field)
{
	ts_iter it;
	const pbtxt_value *v;

	memset(t, 0, sizeof(*t));
	t->model = model;
	t->type = type;
	t->sibling = SIZE_MAX;
	if (batching)
		t->full[t->nfull++] = -1;
	ts_iter_init(&it, msg, field);
	while ((v = ts_iter_next(&it)) && t->ndims < 64) {
		t->dims[t->ndims++] = v->v.i;
		t->full[t->nfull++] = v->v.i;
	}
}

static size_t tgraph_add(tgraph *g, const char *name, const tnode *t)
{
	size_t i = strmap_get(&g->index, name, false, 0);

	if (i != SIZE_MAX)
		return i;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		tnode *n = realloc(g->v, cap * sizeof(*n));
		if (!n)
			return SIZE_MAX;
		g->v = n;
		g->cap = cap;
	}
	if (strmap_get(&g->index, name, true, g->n) == SIZE_MAX)
		return SIZE_MAX;
	g->v[g->n] = *t;
	return g->n++;
}

static bool dims_match(const int64_t *a, size_t na, const int64_t *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i] != b[i] && a[i] != -1 && b[i] != -1)
			return false;
	return true;
}

static void dims_string(const int64_t *d, size_t n, char *buf, size_t size)
{
	size_t o = (size_t)snprintf(buf, size, "[");

	for (size_t i = 0; i < n && o + 24 < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%" PRId64, i ? "," : "", d[i]);
	snprintf(buf + o, size - o, "]");
}

/* ValidateTensorConsistency; false after reporting. */
static bool consistent(trepo *r, tmodel *e, const char *tensor, const tnode *a, const tnode *b,
                       tpos p)
{
	if (a->type != b->type) {
		cfg_error(
		    r, e, p, "triton-ensemble-models",
		    "in ensemble %s, ensemble tensor %s: inconsistent data type: %s is inferred "
		    "from model %s while %s is inferred from model %s",
		    e->cfg_name, tensor, ts_enum_name(&ts_data_type, a->type), a->model,
		    ts_enum_name(&ts_data_type, b->type), b->model);
		return false;
	}
	if (!dims_match(a->dims, a->ndims, b->dims, b->ndims) &&
	    !dims_match(a->full, a->nfull, b->full, b->nfull)) {
		char da[512], db[512];
		dims_string(a->full, a->nfull, da, sizeof(da));
		dims_string(b->full, b->nfull, db, sizeof(db));
		cfg_error(r, e, p, "triton-ensemble-models",
		          "in ensemble %s, ensemble tensor %s: inconsistent shape: %s is inferred "
		          "from model %s while %s is inferred from model %s",
		          e->cfg_name, tensor, da, a->model, db, b->model);
		return false;
	}
	return true;
}

/* A step model's configuration tells its tensors when it lists inputs and
 * outputs; otherwise its backend completes them when it loads. */
static bool io_known(const tmodel *s)
{
	return s->has_config && ts_count(s->tree, "input") && ts_count(s->tree, "output");
}

/* ValidateTensorMapping for one step; false after reporting. */
static bool map_step(trepo *r, tmodel *e, const pbtxt_value *step, tmodel *s, tgraph *g)
{
	const char *ename = e->cfg_name, *sname = s->cfg_name;
	bool batching = ts_int(s->tree, "max_batch_size") > 0;
	kvmap in = {0}, out = {0};
	const pbtxt_value *io;
	ts_iter it;
	bool ok = false;
	tpos p = pos_value(step);
	size_t sib;

	if (!kvmap_read(&in, step->msg, "input_map") ||
	    !kvmap_read(&out, step->msg, "output_map")) {
		r->nomem = true;
		goto done;
	}
	for (size_t k = 0; k < in.n; k++) {
		if (!name_in(s->tree, "input", in.keys[k])) {
			cfg_error(
			    r, e, p, "triton-ensemble-models",
			    "in ensemble %s, ensemble tensor %s is mapping to non-existing input "
			    "%s in model %s",
			    ename, in.vals[k], in.keys[k], sname);
			goto done;
		}
	}
	ts_iter_init(&it, s->tree, "input");
	while ((io = ts_iter_next(&it))) {
		const char *iname = ts_str(io->msg, "name");
		size_t mapped = 0;
		for (size_t k = 0; k < in.n; k++) {
			if (strcmp(in.keys[k], iname))
				continue;
			tnode t;
			tnode_init(&t, sname, batching, ts_int(io->msg, "data_type"), io->msg,
			           "dims");
			size_t i = strmap_get(&g->index, in.vals[k], false, 0);
			if (i != SIZE_MAX) {
				if (!consistent(r, e, in.vals[k], &g->v[i], &t, p))
					goto done;
			} else if (tgraph_add(g, in.vals[k], &t) == SIZE_MAX) {
				r->nomem = true;
				goto done;
			}
			mapped++;
		}
		if (!mapped && !ts_bool(io->msg, "optional")) {
			cfg_error(
			    r, e, p, "triton-ensemble-models",
			    "in ensemble %s, input %s in model %s is not mapped to any ensemble "
			    "tensors",
			    ename, iname, sname);
			goto done;
		}
	}
	for (size_t k = 0; k < out.n; k++) {
		if (!name_in(s->tree, "output", out.keys[k])) {
			cfg_error(
			    r, e, p, "triton-ensemble-models",
			    "in ensemble %s, ensemble tensor %s is mapped from non-existing output "
			    "%s in model %s",
			    ename, out.vals[k], out.keys[k], sname);
			goto done;
		}
	}
	void *ns = realloc(g->sib, (g->nsib + 1) * sizeof(*g->sib));
	if (!ns) {
		r->nomem = true;
		goto done;
	}
	g->sib = ns;
	sib = g->nsib++;
	g->sib[sib].visited = false;
	g->sib[sib].label = 0;
	for (size_t k = 0; k < out.n; k++) {
		size_t mapped = 0;
		ts_iter_init(&it, s->tree, "output");
		while ((io = ts_iter_next(&it))) {
			if (strcmp(ts_str(io->msg, "name"), out.keys[k]))
				continue;
			tnode t;
			tnode_init(&t, sname, batching, ts_int(io->msg, "data_type"), io->msg,
			           "dims");
			size_t i = strmap_get(&g->index, out.vals[k], false, 0);
			if (i != SIZE_MAX) {
				if (!consistent(r, e, out.vals[k], &g->v[i], &t, p))
					goto done;
			} else if ((i = tgraph_add(g, out.vals[k], &t)) == SIZE_MAX) {
				r->nomem = true;
				goto done;
			}
			g->v[i].sibling = sib;
			mapped++;
		}
		if (mapped > 1) {
			cfg_error(
			    r, e, p, "triton-ensemble-models",
			    "in ensemble %s, multiple outputs in model %s are mapped to the same "
			    "ensemble tensor %s",
			    ename, sname, out.vals[k]);
			goto done;
		}
	}
	bool decoupled = ts_bool(ts_msg(s->tree, "model_transaction_policy"), "decoupled");
	for (size_t k = 0; k < out.n; k++) {
		size_t o = strmap_get(&g->index, out.vals[k], false, 0);
		g->v[o].decoupled = decoupled;
		for (size_t j = 0; j < in.n; j++) {
			size_t i = strmap_get(&g->index, in.vals[j], false, 0);
			if (!idx_push(&g->v[o].prev, i) || !idx_push(&g->v[i].next, o)) {
				r->nomem = true;
				goto done;
			}
		}
	}
	ok = true;
done:
	kvmap_dispose(&in);
	kvmap_dispose(&out);
	return ok;
}

static void check_decoupled_flow(trepo *r, tmodel *e, tgraph *g)
{
	idxlist queue = {0};
	size_t label = 0;
	const pbtxt_value *io;
	ts_iter it;

	ts_iter_init(&it, e->tree, "input");
	while ((io = ts_iter_next(&it))) {
		size_t i = strmap_get(&g->index, ts_str(io->msg, "name"), false, 0);
		if (i == SIZE_MAX || g->v[i].visited)
			continue;
		g->v[i].visited = true;
		if (!idx_push(&queue, i))
			goto oom;
	}
	for (size_t q = 0; q < queue.n; q++) {
		size_t cur = queue.v[q];
		for (size_t k = 0; k < g->v[cur].next.n; k++) {
			tnode *nx = &g->v[g->v[cur].next.v[k]];
			bool ready = true;
			if (nx->visited)
				continue;
			for (size_t p = 0; p < nx->prev.n && ready; p++)
				ready = g->v[nx->prev.v[p]].visited;
			if (!ready)
				continue;
			size_t prev_label = g->v[nx->prev.v[0]].label;
			for (size_t p = 0; p < nx->prev.n; p++) {
				if (g->v[nx->prev.v[p]].label != prev_label) {
					cfg_error(
					    r, e, pos_field(e, e->tree, "ensemble_scheduling"),
					    "triton-ensemble-models",
					    "in ensemble %s, step of model '%s' receives inputs "
					    "originated from different decoupled models",
					    e->cfg_name, nx->model);
					goto done;
				}
			}
			if (nx->sibling != SIZE_MAX) {
				if (g->sib[nx->sibling].visited) {
					nx->label = g->sib[nx->sibling].label;
				} else {
					nx->label = nx->decoupled ? ++label : prev_label;
					g->sib[nx->sibling].label = nx->label;
					g->sib[nx->sibling].visited = true;
				}
			} else {
				nx->label = nx->decoupled ? ++label : prev_label;
			}
			nx->visited = true;
			if (!idx_push(&queue, g->v[cur].next.v[k]))
				goto oom;
		}
	}
	goto done;
oom:
	r->nomem = true;
done:
	free(queue.v);
}

/* Is there a path from @from back to @start through ensemble steps?
 * Reports Triton's message naming the last ensemble before @start. */
static bool find_cycle(trepo *r, tmodel *start, tmodel *from, int depth)
{
	const pbtxt_value *step;
	ts_iter it;

	if (depth > 1000 || from->visit)
		return false;
	from->visit = 1;
	ts_iter_init(&it, ts_msg(from->tree, "ensemble_scheduling"), "step");
	while ((step = ts_iter_next(&it))) {
		const char *sname = ts_str(step->msg, "model_name");
		if (!strcmp(sname, start->name)) {
			cfg_error(r, start, pos_field(start, start->tree, "ensemble_scheduling"),
			          "triton-ensemble-cycle",
			          "circular dependency between ensembles: %s -> ... -> %s -> %s",
			          start->cfg_name, from->cfg_name, start->cfg_name);
			return true;
		}
		tmodel *s = repo_find(r, sname);
		if (s && s->config_ok && ts_has(s->tree, "ensemble_scheduling") &&
		    find_cycle(r, start, s, depth + 1))
			return true;
	}
	return false;
}

static void check_ensemble_models(trepo *r, tmodel *e)
{
	const pbtxt_value *step, *io;
	ts_iter it;
	char **missing = NULL;
	size_t nmissing = 0;
	bool unknown_io = false;
	tgraph g = {0};
	tnode t;
	int64_t embs = ts_int(e->tree, "max_batch_size");
	const char *ename = e->cfg_name;

	/* Models the steps name must exist (the missing ones, sorted, once). */
	ts_iter_init(&it, ts_msg(e->tree, "ensemble_scheduling"), "step");
	while ((step = ts_iter_next(&it))) {
		const char *sname = ts_str(step->msg, "model_name");
		if (repo_find(r, sname))
			continue;
		bool dup = false;
		for (size_t i = 0; i < nmissing; i++)
			dup |= !strcmp(missing[i], sname);
		if (dup)
			continue;
		char **nm = realloc(missing, (nmissing + 1) * sizeof(*nm));
		if (!nm) {
			r->nomem = true;
			goto done;
		}
		missing = nm;
		missing[nmissing++] = (char *)sname;
	}
	if (nmissing) {
		strbuf sb = STRBUF_INIT;
		qsort(missing, nmissing, sizeof(*missing), cmp_str);
		for (size_t i = 0; i < nmissing; i++)
			strbuf_printf(&sb, "%s%s", i ? ", " : "", missing[i]);
		if (sb.failed) {
			r->nomem = true;
			strbuf_dispose(&sb);
			goto done;
		}
		/* Validating one model, its repository is only guessed: a warning. */
		cfg_diag(r, e, r->single ? MREG_DIAG_WARNING : MREG_DIAG_ERROR,
		         pos_field(e, e->tree, "ensemble_scheduling"), "triton-ensemble-models",
		         "ensemble %s contains models that are not available or ambiguous: %s%s",
		         ename, sb.data,
		         r->single ? " (not found beside it; validate the whole repository)" : "");
		strbuf_dispose(&sb);
		goto done;
	}
	if (find_cycle(r, e, e, 0)) {
		for (size_t i = 0; i < r->count; i++)
			r->models[i]->visit = 0;
		goto done;
	}
	for (size_t i = 0; i < r->count; i++)
		r->models[i]->visit = 0;

	/* Versions the steps need, and step models that failed. */
	bool steps_ok = true;
	ts_iter_init(&it, ts_msg(e->tree, "ensemble_scheduling"), "step");
	while ((step = ts_iter_next(&it))) {
		tmodel *s = repo_find(r, ts_str(step->msg, "model_name"));
		int64_t v = ts_int(step->msg, "model_version");
		if (!s)
			continue;
		if (s->errors) {
			cfg_error(
			    r, e, pos_value(step), "triton-ensemble-models",
			    "ensemble '%s' depends on '%s' which is not valid. Model '%s' failed "
			    "with error: %s",
			    ename, s->name, s->name, s->first_error ? s->first_error : "");
			steps_ok = false;
		} else if (r->layout && !s->nloaded) {
			cfg_error(r, e, pos_value(step), "triton-ensemble-models",
			          "ensemble '%s' depends on '%s' which has no loaded version.",
			          ename, s->name);
			steps_ok = false;
		} else if (r->layout && v != -1 && !is_loaded(s, v)) {
			/* model_version is a proto3 int64: unset, it is 0, not -1. */
			cfg_error(r, e, pos_value(step), "triton-ensemble-models",
			          "ensemble '%s' depends on '%s' whose required version %" PRId64
			          " is not loaded.%s",
			          ename, s->name, v,
			          ts_has(step->msg, "model_version")
			              ? ""
			              : " (model_version is not set, so it is 0; -1 means "
			                "the latest version)");
			steps_ok = false;
		}
	}
	if (!steps_ok)
		goto done;

	/* ValidateEnsembleConfig: batch sizes, mappings, shapes, decoupled flow. */
	bool batching = embs > 0;
	ts_iter_init(&it, e->tree, "input");
	while ((io = ts_iter_next(&it))) {
		const pbtxt_msg *rs = ts_msg(io->msg, "reshape");
		tnode_init(&t, ename, batching, ts_int(io->msg, "data_type"), rs ? rs : io->msg,
		           rs ? "shape" : "dims");
		if (tgraph_add(&g, ts_str(io->msg, "name"), &t) == SIZE_MAX)
			goto oom;
	}
	ts_iter_init(&it, e->tree, "output");
	while ((io = ts_iter_next(&it))) {
		const pbtxt_msg *rs = ts_msg(io->msg, "reshape");
		tnode_init(&t, ename, batching, ts_int(io->msg, "data_type"), rs ? rs : io->msg,
		           rs ? "shape" : "dims");
		if (tgraph_add(&g, ts_str(io->msg, "name"), &t) == SIZE_MAX)
			goto oom;
	}
	ts_iter_init(&it, ts_msg(e->tree, "ensemble_scheduling"), "step");
	while ((step = ts_iter_next(&it))) {
		tmodel *s = repo_find(r, ts_str(step->msg, "model_name"));
		int64_t smbs = ts_int(s->tree, "max_batch_size");
		if (smbs != 0 && smbs < embs) {
			cfg_error(
			    r, e, pos_value(step), "triton-ensemble-models",
			    "ensemble %s allows maximum batch size %" PRId64
			    ", but it contains model %s which only allows maximum batch size to "
			    "be %" PRId64,
			    ename, embs, ts_str(step->msg, "model_name"), smbs);
			goto done;
		}
		if (!io_known(s) && strcmp(s->platform, ENSEMBLE)) {
			unknown_io = true;
			continue;
		}
		if (!map_step(r, e, step, s, &g))
			goto done;
	}
	if (unknown_io)
		cfg_diag(
		    r, e, MREG_DIAG_NOTE, pos_field(e, e->tree, "ensemble_scheduling"),
		    "triton-ensemble-models",
		    "tensors of ensemble %s were checked only against steps whose config.pbtxt "
		    "lists their inputs and outputs; the others are completed by their backend "
		    "when Triton loads them",
		    ename);
	else
		check_decoupled_flow(r, e, &g);
	goto done;
oom:
	r->nomem = true;
done:
	free(missing);
	tgraph_dispose(&g);
}

/* ---- the repository ---- */

static void repo_dispose(trepo *r)
{
	for (size_t i = 0; i < r->count; i++)
		tmodel_free(r->models[i]);
	free(r->models);
}

static int gpus_from_env(void)
{
	const char *s = getenv(TRITON_GPUS_ENV);
	char *end;
	long n;

	if (!s || !*s)
		return -1;
	n = strtol(s, &end, 10);
	return *end || n < 0 || n > 4096 ? -1 : (int)n;
}

/* A folder holding config.pbtxt, or a numeric folder (holding, when
 * @strict, a model file Triton recognizes) is a model; otherwise a
 * repository. */
static bool looks_like_model(const char *dir, bool strict)
{
	static const char *const files[] = {"model.onnx", "model.plan",       "model.pt",
	                                    "model.pt2",  "model.savedmodel", "model.graphdef",
	                                    "model.xml",  "model.py"};
	char **subs = NULL;
	size_t n = 0;
	bool yes = child_exists(dir, CONFIG_NAME, -1);

	if (yes || list_subdirs(dir, &subs, &n, 1000))
		return yes;
	for (size_t i = 0; i < n && !yes; i++) {
		if (!isdigit((unsigned char)subs[i][0]))
			continue;
		if (!strict && strspn(subs[i], "0123456789") == strlen(subs[i])) {
			yes = true;
			break;
		}
		char *v = path_join(dir, subs[i]);
		for (size_t k = 0; v && k < sizeof(files) / sizeof(files[0]) && !yes; k++)
			yes = child_exists(v, files[k], -1);
		free(v);
	}
	free_strv(subs, n);
	return yes;
}

/* The last component of @path made absolute ("." names the current folder). */
static char *base_name(const char *path)
{
	char *abs = fs_absolute(path), *name = NULL;
	size_t n;

	if (!abs)
		return NULL;
	n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	name = str_dup(strrchr(abs, '/') ? strrchr(abs, '/') + 1 : abs);
	free(abs);
	return name;
}

static json_t *describe_model(const tmodel *m);

static int run(const char *path, mreg_diag_list *diags, bool layout, bool force_single,
               json_t **describe)
{
	trepo r = {.diags = diags, .layout = layout, .gpus = gpus_from_env()};
	char *root = NULL, *name = NULL;
	int rc = 0;

	if (!is_dir(path)) {
		mreg_diag_add(diags, MREG_DIAG_ERROR, path, 0, 0, "triton-layout",
		              "a Triton model is a folder (a model repository, or one model folder "
		              "holding config.pbtxt and numeric version folders)");
		return 0;
	}
	r.single = force_single || looks_like_model(path, false);
	if (r.single) {
		/* The model's name is its folder's; the repository is the parent. */
		if (!(name = base_name(path)) || !(root = str_printf("%s/..", path)))
			goto nomem;
		r.root = root;
		tmodel *m = model_new(&r, name, path);
		if (!m || !repo_add(&r, m))
			goto nomem;
		check_model(&r, m);
		if (!r.nomem && !m->errors && m->config_ok &&
		    ts_has(m->tree, "ensemble_scheduling"))
			check_ensemble_models(&r, m);
	} else {
		char **subs = NULL;
		size_t n = 0;
		r.root = path;
		if (list_subdirs(path, &subs, &n, 0))
			goto nomem;
		if (!n)
			mreg_diag_add(
			    diags, MREG_DIAG_ERROR, path, 0, 0, "triton-layout",
			    "no model found: a Triton model repository holds one folder per "
			    "model, each with config.pbtxt and numeric version folders");
		for (size_t i = 0; i < n && !r.nomem; i++) {
			char *dir = path_join(path, subs[i]);
			/* mreg never stores these (walk.c), so the registered
			 * repository will not hold them; Triton would take any
			 * other folder, hidden or not, for a model. */
			if (dir && (!strcmp(subs[i], ".git") || !strcmp(subs[i], ".mreg"))) {
				if (mreg_diag_add(diags, MREG_DIAG_NOTE, dir, 0, 0, "triton-layout",
				                  "skipped: mreg does not store '%s' (Triton would "
				                  "take it for a model)",
				                  subs[i]))
					r.nomem = true;
				free(dir);
				continue;
			}
			tmodel *m = dir ? model_new(&r, subs[i], dir) : NULL;
			free(dir);
			if (!m || !repo_add(&r, m))
				r.nomem = true;
		}
		free_strv(subs, n);
		for (size_t i = 0; i < r.count && !r.nomem; i++)
			check_model(&r, r.models[i]);
		for (size_t i = 0; i < r.count && !r.nomem; i++) {
			tmodel *m = r.models[i];
			if (!m->errors && m->config_ok && ts_has(m->tree, "ensemble_scheduling"))
				check_ensemble_models(&r, m);
		}
	}
	if (r.nomem)
		goto nomem;
	if (describe) {
		json_t *models = json_array();
		*describe = json_pack("{s:{s:o}}", "triton", "models", models);
		if (!*describe)
			goto nomem;
		for (size_t i = 0; i < r.count; i++) {
			if (r.models[i]->silent)
				continue;
			json_t *d = describe_model(r.models[i]);
			if (!d || json_array_append_new(models, d)) {
				json_decref(*describe);
				*describe = NULL;
				goto nomem;
			}
		}
	}
	goto done;
nomem:
	rc = mreg_seterr_nomem();
done:
	repo_dispose(&r);
	free(root);
	free(name);
	return rc;
}

/* ---- describe ---- */

/* A JSON string for text that may not be UTF-8 (config strings are bytes). */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	/* jansson refuses what is not strict UTF-8 (surrogates included). */
	if (j || !(copy = str_dup(s)))
		return j;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *describe_tensors(const tmodel *m, const char *field)
{
	json_t *arr = json_array();
	const pbtxt_value *io, *d;
	ts_iter it, dit;

	ts_iter_init(&it, m->tree, field);
	while (arr && (io = ts_iter_next(&it))) {
		json_t *dims = json_array();
		ts_iter_init(&dit, io->msg, "dims");
		while (dims && (d = ts_iter_next(&dit)))
			json_array_append_new(dims, json_integer(d->v.i));
		json_t *t = json_pack(
		    "{s:o, s:s, s:o}", "name", jstr(ts_str(io->msg, "name")), "data_type",
		    ts_enum_name(&ts_data_type, ts_int(io->msg, "data_type")), "dims", dims);
		if (!t || json_array_append_new(arr, t)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *describe_model(const tmodel *m)
{
	json_t *versions = json_array();
	json_t *d;

	for (size_t i = 0; versions && i < m->nversions; i++)
		if (is_loaded(m, m->versions[i].number))
			json_array_append_new(versions, json_integer(m->versions[i].number));
	d = json_pack("{s:o, s:o, s:o, s:b, s:I, s:o, s:o, s:o}", "name",
	              jstr(m->cfg_name ? m->cfg_name : m->name), "platform",
	              jstr(m->platform ? m->platform : ""), "backend",
	              jstr(m->backend ? m->backend : ""), "config", m->has_config, "max_batch_size",
	              (json_int_t)ts_int(m->tree, "max_batch_size"), "versions", versions, "inputs",
	              describe_tensors(m, "input"), "outputs", describe_tensors(m, "output"));
	return d;
}

/* ---- the plugin ---- */

static int triton_probe(const char *path)
{
	char **subs = NULL;
	size_t n = 0;
	int score = 0;

	if (!is_dir(path))
		return 0;
	if (child_exists(path, CONFIG_NAME, 0))
		return 90;
	if (looks_like_model(path, true))
		return 60;
	if (list_subdirs(path, &subs, &n, 1000))
		return 0;
	for (size_t i = 0; i < n && score < 80; i++) {
		char *dir = path_join(path, subs[i]);
		if (dir && child_exists(dir, CONFIG_NAME, 0))
			score = 80;
		else if (dir && looks_like_model(dir, true))
			score = 50;
		free(dir);
	}
	free_strv(subs, n);
	return score;
}

static int triton_validate(const char *path, mreg_diag_list *diags)
{
	walk_result walk;
	int rc = run(path, diags, true, false, NULL);

	if (rc)
		return rc;
	/* What `mreg create` would refuse to store (escaping symlinks, FIFOs...),
	 * so that a repository that validates can be registered. */
	rc = walk_model(&walk, path, diags);
	walk_result_dispose(&walk);
	return rc == MREG_ENOTFOUND ? 0 : rc;
}

int triton_validate_config_only(const char *dir, mreg_diag_list *diags)
{
	return run(dir, diags, false, true, NULL);
}

static int triton_describe(const char *path, char **json_out)
{
	mreg_diag_list *diags = NULL;
	json_t *doc = NULL;
	int rc;

	*json_out = NULL;
	if ((rc = mreg_diag_list_new(&diags)))
		return rc;
	rc = run(path, diags, true, false, &doc);
	mreg_diag_list_free(diags);
	if (rc)
		return rc;
	*json_out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return *json_out ? 0 : mreg_seterr_nomem();
}

const mreg_format mreg_format_triton_model = {
    .version = MREG_FORMAT_VERSION,
    .name = "triton_model",
    .summary = "Triton model repository or model folder: config.pbtxt checked against Triton's "
               "schema and load-time rules, version folders, ensembles",
    .probe = triton_probe,
    .validate = triton_validate,
    .describe = triton_describe,
};
