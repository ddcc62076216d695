/*
 * triton_model: loading one model. Read, parse and schema-check
 * config.pbtxt (Triton core reads it with filesystem/api.cc ReadTextProto,
 * from model_repository_manager.cc InitializeModelInfo); auto-complete the
 * backend fields from the first version folder (model_config_utils.cc
 * AutoCompleteBackendFields); find the numeric version folders and those the
 * version policy selects (model_repository_manager/model_lifecycle.cc
 * VersionsToLoad).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/strutil.h"
#include "triton/triton_priv.h"

/* Far beyond any real config; bounds memory on hostile input. */
#define CONFIG_MAX ((size_t)16 << 20)

static char *xstrdup(trepo *r, const char *s)
{
	char *d = str_dup(s ? s : "");

	if (!d)
		r->nomem = true;
	return d;
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
void tm_read_config(trepo *r, tmodel *m)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	pbtxt_error err;
	int rc;

	m->config_ok = true;
	if (lstat(m->config_file, &st) != 0)
		return;
	m->has_config = true;
	m->config_ok = false;
	rc = fs_read_small(&text, &len, m->config_file, CONFIG_MAX, NULL);
	if (rc == MREG_ENOMEM) {
		r->nomem = true;
		return;
	}
	if (rc == MREG_EINVALID && errno == EFBIG) {
		cfg_error(r, m, ((tpos){0, 0}), "triton-config",
		          "failed to read text proto from %s: larger than %zu MiB", m->config_file,
		          CONFIG_MAX >> 20);
		return;
	}
	/* A link to nothing is there (lstat) but no file. */
	if (rc == MREG_EINVALID || rc == MREG_ENOTFOUND || (rc && errno == ELOOP)) {
		cfg_error(r, m, ((tpos){0, 0}), "triton-config",
		          "failed to open text file for read %s: not a regular file",
		          m->config_file);
		return;
	}
	if (rc) {
		cfg_error(r, m, ((tpos){0, 0}), "triton-config",
		          "failed to open text file for read %s: %s", m->config_file,
		          strerror(errno));
		return;
	}
	rc = pbtxt_parse_schema(&m->tree, text, len, &ts_pbtxt_schema, &err);
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
	free(text);
}

/* AutoCompleteBackendFields: fill name, platform, backend and the default
 * model file name from what the first version folder holds (only the
 * lexicographically first subfolder is looked at, as Triton does). */
void tm_autofill(trepo *r, tmodel *m)
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
			if (tm_child_exists(vpath, "model.savedmodel", 1))
				SET(platform, "tensorflow_savedmodel");
			if (tm_child_exists(vpath, "model.graphdef", 0))
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
		         tm_child_exists(vpath, "model.plan", 0))
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
		         tm_child_exists(vpath, "model.onnx", -1))
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
		         tm_child_exists(vpath, "model.xml", -1))
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
			if (tm_child_exists(vpath, "model.pt", -1)) {
				if (tm_child_exists(vpath, "model.pt", 0)) {
					SET(backend, "pytorch");
					SET(platform, "pytorch_libtorch");
				}
			} else if (tm_child_exists(vpath, "model.pt2", 0)) {
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
		         tm_child_exists(vpath, "model.py", -1))
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
void tm_scan_versions(trepo *r, tmodel *m)
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
			tm_path_diag(
			    r, m, MREG_DIAG_WARNING, path, "triton-version",
			    "ignore version directory '%s' which contains leading zeros in "
			    "its directory name",
			    d);
		} else if ((rc = parse_version(d, &v, &tail)) == 0) {
			tm_path_diag(
			    r, m, MREG_DIAG_WARNING, path, "triton-version",
			    "ignore version directory '%s' which fails to convert to integral "
			    "number",
			    d);
		} else if (rc < 0) {
			tm_path_diag(r, m, MREG_DIAG_ERROR, path, "triton-version",
			             "version directory '%s' is out of range for std::stoll, which "
			             "Triton does not catch",
			             d);
		} else {
			bool dup = false;
			if (*tail || v < 0 || !isdigit((unsigned char)d[0]))
				tm_path_diag(r, m, MREG_DIAG_WARNING, path, "triton-version",
				             "version directory '%s' is read as version %" PRId64
				             " (Triton converts the name with std::stoll)",
				             d, v);
			for (size_t k = 0; k < m->nversions; k++)
				dup |= m->versions[k].number == v;
			if (dup) {
				tm_path_diag(r, m, MREG_DIAG_WARNING, path, "triton-version",
				             "version directory '%s' duplicates version %" PRId64,
				             d, v);
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

bool tm_is_loaded(const tmodel *m, int64_t v)
{
	for (size_t i = 0; i < m->nloaded; i++)
		if (m->loaded[i] == v)
			return true;
	return false;
}

static void load_version(trepo *r, tmodel *m, int64_t v)
{
	int64_t *n;

	if (tm_is_loaded(m, v))
		return;
	if (!(n = realloc(m->loaded, (m->nloaded + 1) * sizeof(*n)))) {
		r->nomem = true;
		return;
	}
	m->loaded = n;
	n[m->nloaded++] = v;
}

/* VersionsToLoad, second half: what the version policy selects. */
void tm_select_versions(trepo *r, tmodel *m)
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
				tm_cfg_diag(r, m, MREG_DIAG_WARNING, pos_value(v), "triton-version",
				            "version %" PRId64
				            " is specified for model '%s', but the "
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
