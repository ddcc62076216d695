/*
 * mlflow_model: the environment files. conda.yaml and python_env.yaml are
 * read when MLmodel names them (python_function.env) or, by convention, when
 * they sit at the root; requirements.txt is found by its fixed name. A file
 * that MLmodel names must have the shape MLflow expects (errors); one found
 * only by convention gets warnings. Files that disagree with each other or
 * with MLmodel (python version, package pins) get warnings: MLflow goes on,
 * but the model may not run as it was trained.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "mlflow/mlflow_model.h"
#include "util/strutil.h"

#define E MREG_DIAG_ERROR
#define W MREG_DIAG_WARNING

typedef struct {
	char name[128];    /* normalized (PEP 503) */
	char version[64];
	const char *file;  /* borrowed: a display path */
	unsigned int line;
	unsigned int column;
} pin;

typedef struct {
	pin *items;
	size_t count;
	size_t cap;
} pin_list;

typedef struct {
	mlf_ctx *c;
	mlf_yaml conda, venv;
	char *req_display;
	bool conda_loaded, venv_loaded;
	mreg_diag_severity conda_sev, venv_sev, req_sev;
	yaml_node_t *conda_python;  /* the python=X.Y item's node */
	char conda_python_version[64];
	pin_list conda_pins, req_pins;
	bool venv_needs_requirements;
} env_check;

static void add_pin(mlf_ctx *c, pin_list *l, const pin *p)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		pin *items = realloc(l->items, cap * sizeof(*items));
		if (!items) {
			c->rc = mreg_seterr_nomem();
			return;
		}
		l->items = items;
		l->cap = cap;
	}
	l->items[l->count++] = *p;
}

/* "scikit_learn[extra] == 1.2.0 ; python_version<'3.9'" → scikit-learn, 1.2.0. */
static bool parse_requirement(const char *s, pin *out)
{
	size_t n = 0;
	bool sep = false;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!isalnum((unsigned char)*s))
		return false;
	for (; *s && (isalnum((unsigned char)*s) || strchr("-_.", *s)); s++) {
		if (strchr("-_.", *s)) {
			sep = true;
			continue;
		}
		if (n + 2 >= sizeof(out->name))
			return false;
		if (sep && n)
			out->name[n++] = '-';
		sep = false;
		out->name[n++] = (char)tolower((unsigned char)*s);
	}
	out->name[n] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '[') {
		s = strchr(s, ']');
		if (!s)
			return false;
		s++;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	out->version[0] = '\0';
	if (s[0] == '=' && s[1] == '=' && s[2] != '=') {
		s += 2;
		while (*s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, " \t,;");
		if (n == 0 || n >= sizeof(out->version) || memchr(s, '*', n))
			return true;
		memcpy(out->version, s, n);
		out->version[n] = '\0';
	}
	return true;
}

/* "3.10.12" → "3.10" */
static void major_minor(const char *v, char *out, size_t size)
{
	const char *dot = strchr(v, '.'), *dot2 = dot ? strchr(dot + 1, '.') : NULL;
	size_t n = dot2 ? (size_t)(dot2 - v) : strlen(v);

	snprintf(out, size, "%.*s", (int)n, v);
}

/* Load @rel when it is a regular file inside the folder; report what stops it. */
static bool load_env_yaml(env_check *e, mlf_yaml *y, const char *rel, mreg_diag_severity sev)
{
	char *path = path_join(e->c->dir, rel), *data = NULL;
	size_t len;
	bool ok = false;

	if (!path) {
		e->c->rc = mreg_seterr_nomem();
		return false;
	}
	if (fs_read_small(&data, &len, path, MLF_MAX_FILE_SIZE, NULL) < 0) {
		/* A missing file MLmodel names was reported with mlflow-file-missing. */
		if (errno != ENOENT && errno != ENOTDIR)
			mlf_diag_at(e->c, sev, path, 0, 0, "mlflow-env-file", "cannot read: %s",
				    errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
		free(path);
		return false;
	}
	ok = mlf_yaml_load(e->c, y, path, data, len, "mlflow-env-file", sev);
	free(data);
	free(path);
	return ok;
}

static void check_conda(env_check *e)
{
	mlf_yaml *y = &e->conda;
	mreg_diag_severity sev = e->conda_sev;
	yaml_node_t *deps;

	if (!y->root) {
		mlf_diag_at(e->c, sev, y->display, 0, 0, "mlflow-env-file",
			    "the conda environment file is empty");
		return;
	}
	if (mlf_type_of(y->root) != MLF_MAP) {
		mlf_diag(e->c, sev, y, y->root, "mlflow-env-file",
			 "a conda environment must be a mapping with 'dependencies', not %s",
			 mlf_type_name(mlf_type_of(y->root)));
		return;
	}
	deps = mlf_get(y, y->root, "dependencies");
	if (mlf_is_null(deps)) {
		mlf_diag(e->c, sev, y, y->root, "mlflow-env-file",
			 "the conda environment has no 'dependencies' list");
		return;
	}
	if (mlf_type_of(deps) != MLF_SEQ) {
		mlf_diag(e->c, sev, y, deps, "mlflow-env-file",
			 "conda 'dependencies' must be a list, not %s",
			 mlf_type_name(mlf_type_of(deps)));
		return;
	}
	for (yaml_node_item_t *it = deps->data.sequence.items.start;
	     it < deps->data.sequence.items.top; it++) {
		yaml_node_t *d = yaml_document_get_node(&y->doc, *it);
		const char *s = mlf_str(d);
		if (s) {
			/* python=3.10.12, python==3.8, python>=3.8 */
			if (!strncmp(s, "python", 6) && (!s[6] || strchr("=<>!~ ", s[6]))) {
				const char *v = s + 6 + strspn(s + 6, "=<>!~ ");
				e->conda_python = d;
				snprintf(e->conda_python_version, sizeof(e->conda_python_version),
					 "%.*s", (int)strcspn(v, ", "), v);
			}
			continue;
		}
		if (mlf_type_of(d) == MLF_MAP && mlf_get_key(y, d, "pip")) {
			yaml_node_t *pips = mlf_get(y, d, "pip");
			if (mlf_type_of(pips) != MLF_SEQ) {
				mlf_diag(e->c, sev, y, pips, "mlflow-env-file",
					 "the conda 'pip' section must be a list of requirements, not %s",
					 mlf_type_name(mlf_type_of(pips)));
				continue;
			}
			for (yaml_node_item_t *pi = pips->data.sequence.items.start;
			     pi < pips->data.sequence.items.top; pi++) {
				yaml_node_t *r = yaml_document_get_node(&y->doc, *pi);
				pin p = {.file = y->display};
				if (!mlf_str(r)) {
					mlf_diag(e->c, sev, y, r, "mlflow-env-file",
						 "a pip requirement must be a string, not %s",
						 mlf_type_name(mlf_type_of(r)));
					continue;
				}
				p.line = (unsigned int)r->start_mark.line + 1;
				p.column = (unsigned int)r->start_mark.column + 1;
				if (parse_requirement(mlf_str(r), &p) && p.version[0])
					add_pin(e->c, &e->conda_pins, &p);
			}
			continue;
		}
		mlf_diag(e->c, sev, y, d, "mlflow-env-file",
			 "a conda dependency must be a package spec or {pip: [...]}, not %s",
			 mlf_type_name(mlf_type_of(d)));
	}
}

/* A "-r FILE" / "-c FILE" line: the file must be there for pip to run. */
static void check_included(env_check *e, const char *file, unsigned int line, unsigned int col,
			   const char *arg, mreg_diag_severity sev)
{
	size_t n = strcspn(arg, " \t#");
	char rel[512];

	if (!n || n >= sizeof(rel))
		return;
	memcpy(rel, arg, n);
	rel[n] = '\0';
	if (mlf_path_problem(rel, n) || mlf_exists(e->c, rel))
		return;
	mlf_diag_at(e->c, sev, file, line, col, "mlflow-file-missing",
		    "pip would read '%s', which is not in the model folder", rel);
}

/* "-r x" "-rx" "--requirement x" "--requirement=x" → "x" (also -c/--constraint). */
static const char *include_arg(const char *s)
{
	static const char *opts[] = {"--requirement", "--constraint", "-r", "-c"};

	for (size_t i = 0; i < sizeof(opts) / sizeof(*opts); i++) {
		size_t n = strlen(opts[i]);
		if (strncmp(s, opts[i], n))
			continue;
		s += n;
		if (*s == '=')
			s++;
		while (*s == ' ' || *s == '\t')
			s++;
		return s;
	}
	return NULL;
}

static void check_venv(env_check *e)
{
	mlf_yaml *y = &e->venv;
	mreg_diag_severity sev = e->venv_sev;
	static const char *lists[] = {"build_dependencies", "dependencies"};
	yaml_node_t *py;
	mlf_type t;

	if (!y->root) {
		mlf_diag_at(e->c, sev, y->display, 0, 0, "mlflow-env-file",
			    "the python environment file is empty");
		return;
	}
	if (mlf_type_of(y->root) != MLF_MAP) {
		mlf_diag(e->c, sev, y, y->root, "mlflow-env-file",
			 "a python environment must be a mapping (python, build_dependencies, "
			 "dependencies), not %s", mlf_type_name(mlf_type_of(y->root)));
		return;
	}
	/* PythonEnv.__init__: TypeError unless python is a str. */
	py = mlf_get(y, y->root, "python");
	t = mlf_type_of(py);
	if (t == MLF_INT || t == MLF_FLOAT)
		mlf_diag(e->c, sev, y, py, "mlflow-env-file",
			 "python is written as the YAML number %s; MLflow requires a string: write "
			 "python: '%s'", mlf_text(py), mlf_text(py));
	else if (t != MLF_NONE && t != MLF_NULL && t != MLF_STR)
		mlf_diag(e->c, sev, y, py, "mlflow-env-file", "python must be a version string, not %s",
			 mlf_type_name(t));
	for (size_t i = 0; i < 2; i++) {
		yaml_node_t *l = mlf_get(y, y->root, lists[i]);
		if (mlf_is_null(l))
			continue;
		if (mlf_type_of(l) != MLF_SEQ) {
			mlf_diag(e->c, sev, y, l, "mlflow-env-file",
				 "%s must be a list of requirements, not %s", lists[i],
				 mlf_type_name(mlf_type_of(l)));
			continue;
		}
		for (yaml_node_item_t *it = l->data.sequence.items.start;
		     it < l->data.sequence.items.top; it++) {
			yaml_node_t *d = yaml_document_get_node(&y->doc, *it);
			const char *s = mlf_str(d), *arg;
			if (!s) {
				mlf_diag(e->c, sev, y, d, "mlflow-env-file",
					 "%s items must be strings, not %s", lists[i],
					 mlf_type_name(mlf_type_of(d)));
				continue;
			}
			if (i == 1 && (arg = include_arg(s))) {
				if (!strncmp(arg, "requirements.txt", 16) && strspn(arg + 16, " \t") ==
				    strlen(arg + 16))
					e->venv_needs_requirements = sev == E;
				check_included(e, y->display, (unsigned int)d->start_mark.line + 1,
					       (unsigned int)d->start_mark.column + 1, arg, sev);
			}
		}
	}
}

static void check_requirements(env_check *e)
{
	char *path = path_join(e->c->dir, "requirements.txt"), *data = NULL, *line, *next;
	unsigned int lineno = 0;
	size_t len;

	if (!path) {
		e->c->rc = mreg_seterr_nomem();
		return;
	}
	if (fs_read_small(&data, &len, path, MLF_MAX_FILE_SIZE, NULL) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			mlf_diag_at(e->c, e->req_sev, path, 0, 0, "mlflow-env-file", "cannot read: %s",
				    errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
		free(path);
		return;
	}
	e->req_display = path;
	if (strlen(data) != len || !utf8_valid(data)) {
		mlf_diag_at(e->c, e->req_sev, path, 0, 0, "mlflow-env-file",
			    "requirements.txt is not UTF-8 text");
		free(data);
		return;
	}
	for (line = data; line; line = next) {
		char *hash, *s;
		const char *arg;
		pin p = {.file = path};
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		/* pip: a comment starts at '#' at the line start or after whitespace */
		for (hash = line; (hash = strchr(hash, '#')); hash++)
			if (hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
				*hash = '\0';
				break;
			}
		s = line + strspn(line, " \t");
		if (!*s)
			continue;
		if ((arg = include_arg(s))) {
			check_included(e, path, lineno, (unsigned int)(s - line) + 1, arg, e->req_sev);
			continue;
		}
		if (*s == '-')
			continue;
		p.line = lineno;
		p.column = (unsigned int)(s - line) + 1;
		if (parse_requirement(s, &p) && p.version[0])
			add_pin(e->c, &e->req_pins, &p);
	}
	free(data);
}

static int cmp_pin(const void *a, const void *b)
{
	return strcmp(((const pin *)a)->name, ((const pin *)b)->name);
}

static void compare(env_check *e)
{
	mlf_ctx *c = e->c;
	const char *ref = NULL, *venv_py = NULL;
	char a[64], b[64];
	yaml_node_t *venv_node = NULL;

	if (c->python_version && !mlf_is_null(c->python_version))
		ref = mlf_text(c->python_version);
	if (e->venv_loaded && e->venv.root && mlf_type_of(e->venv.root) == MLF_MAP) {
		venv_node = mlf_get(&e->venv, e->venv.root, "python");
		venv_py = mlf_text(venv_node);
		if (mlf_is_null(venv_node))
			venv_py = NULL;
	}
	if (ref) {
		major_minor(ref, a, sizeof(a));
		if (e->conda_python && e->conda_python_version[0]) {
			major_minor(e->conda_python_version, b, sizeof(b));
			if (strcmp(a, b))
				mlf_diag(c, W, &e->conda, e->conda_python, "mlflow-env-mismatch",
					 "conda environment pins python %s but MLmodel says "
					 "python_version %s", e->conda_python_version, ref);
		}
		if (venv_py) {
			major_minor(venv_py, b, sizeof(b));
			if (strcmp(a, b))
				mlf_diag(c, W, &e->venv, venv_node, "mlflow-env-mismatch",
					 "python environment says python %s but MLmodel says "
					 "python_version %s", venv_py, ref);
		}
	} else if (venv_py && e->conda_python && e->conda_python_version[0]) {
		major_minor(venv_py, a, sizeof(a));
		major_minor(e->conda_python_version, b, sizeof(b));
		if (strcmp(a, b))
			mlf_diag(c, W, &e->venv, venv_node, "mlflow-env-mismatch",
				 "python environment says python %s but the conda environment pins "
				 "python %s", venv_py, e->conda_python_version);
	}
	if (e->req_pins.count)
		qsort(e->req_pins.items, e->req_pins.count, sizeof(pin), cmp_pin);
	for (size_t i = 0; i < e->conda_pins.count; i++) {
		const pin *p = &e->conda_pins.items[i];
		const pin *q = e->req_pins.count ? bsearch(p, e->req_pins.items, e->req_pins.count,
							  sizeof(pin), cmp_pin) : NULL;
		if (q && strcmp(p->version, q->version))
			mlf_diag_at(c, W, p->file, p->line, p->column, "mlflow-env-mismatch",
				    "conda environment pins %s==%s but requirements.txt pins %s==%s "
				    "(line %u)", p->name, p->version, q->name, q->version, q->line);
	}
}

/* The file MLmodel names (an error when broken), else the conventional one. */
static const char *pick(mlf_ctx *c, const yaml_node_t *named, const char *conventional,
			mreg_diag_severity *sev)
{
	const char *s = mlf_str(named);

	if (s) {
		*sev = E;
		return mlf_path_problem(s, named->data.scalar.length) ? NULL : s;
	}
	*sev = W;
	return mlf_exists(c, conventional) ? conventional : NULL;
}

void mlf_check_env(mlf_ctx *c)
{
	env_check e = {.c = c};
	const char *rel;

	if ((rel = pick(c, c->env_conda, "conda.yaml", &e.conda_sev)) &&
	    load_env_yaml(&e, &e.conda, rel, e.conda_sev)) {
		e.conda_loaded = true;
		check_conda(&e);
	}
	if ((rel = pick(c, c->env_virtualenv, "python_env.yaml", &e.venv_sev)) &&
	    load_env_yaml(&e, &e.venv, rel, e.venv_sev)) {
		e.venv_loaded = true;
		check_venv(&e);
	}
	/* Errors in requirements.txt block the model only when the environment
	 * MLmodel names installs it (python_env.yaml: -r requirements.txt). */
	e.req_sev = e.venv_needs_requirements ? E : W;
	check_requirements(&e);
	compare(&e);
	mlf_yaml_dispose(&e.conda);
	mlf_yaml_dispose(&e.venv);
	free(e.conda_pins.items);
	free(e.req_pins.items);
	free(e.req_display);
}
