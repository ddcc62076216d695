/*
 * The mlflow_model plugin: one invalid variant per error rule (code, file,
 * line and column), the warnings, describe(), registering through the
 * registry, and malformed input that must not crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "util/error_priv.h"
#include "formats.h"
#include "mlflow/mlflow_model.h"
#include "mreg/registry.h"
#include "mreg/store.h"
#include "store/record_priv.h"
#include "tap.h"

static const char conda_yaml[] =
	"channels:\n"
	"- conda-forge\n"
	"dependencies:\n"
	"- python=3.10.12\n"
	"- pip<=23.3.1\n"
	"- pip:\n"
	"  - mlflow==2.12.2\n"
	"  - scikit-learn==1.3.0\n"
	"name: mlflow-env\n";

static const char python_env_yaml[] =
	"python: 3.10.12\n"
	"build_dependencies:\n"
	"- pip==23.3.1\n"
	"dependencies:\n"
	"- -r requirements.txt\n";

static const char requirements_txt[] = "mlflow==2.12.2\nscikit-learn==1.3.0";

/* A model as MLflow 2.12 saves it; every rule below breaks one thing of it. */
static const char good_mlmodel[] =
	"artifact_path: model\n"
	"flavors:\n"
	"  python_function:\n"
	"    env:\n"
	"      conda: conda.yaml\n"
	"      virtualenv: python_env.yaml\n"
	"    loader_module: mlflow.sklearn\n"
	"    model_path: model.pkl\n"
	"    predict_fn: predict\n"
	"    python_version: 3.10.12\n"
	"  sklearn:\n"
	"    code: null\n"
	"    pickled_model: model.pkl\n"
	"    serialization_format: cloudpickle\n"
	"    sklearn_version: 1.3.0\n"
	"mlflow_version: 2.12.2\n"
	"model_size_bytes: 1234\n"
	"model_uuid: 0123456789abcdef0123456789abcdef\n"
	"run_id: 0123456789abcdef0123456789abcdef\n"
	"saved_input_example_info:\n"
	"  artifact_path: input_example.json\n"
	"  pandas_orient: split\n"
	"  type: dataframe\n"
	"signature:\n"
	"  inputs: '[{\"type\": \"double\", \"name\": \"fixed acidity\", \"required\": true}, {\"type\":\n"
	"    \"string\", \"name\": \"residual\n"
	"    sugar\", \"required\": true}]'\n"
	"  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\", \"shape\": [-1]}}]'\n"
	"  params: '[{\"name\": \"alpha\", \"type\": \"double\", \"default\": 0.5, \"shape\": null}]'\n"
	"utc_time_created: '2024-05-17 23:15:28.764394'\n";

static const char good_files[] =
	"model.pkl conda.yaml python_env.yaml requirements.txt input_example.json";

/* Make @dir holding MLmodel (@mlmodel, or none when NULL) and the files named
 * in @files (space-separated; "x/" makes a folder; env files get real text). */
static void fixture(const char *dir, const char *mlmodel, const char *files)
{
	char path[512], list[1024], *save = NULL;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		printf("Bail out! mkdir %s\n", dir);
		exit(1);
	}
	if (mlmodel) {
		snprintf(path, sizeof(path), "%s/MLmodel", dir);
		tap_write(path, mlmodel);
	}
	snprintf(list, sizeof(list), "%s", files ? files : "");
	for (char *f = strtok_r(list, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
		size_t n = strlen(f);
		snprintf(path, sizeof(path), "%s/%s", dir, f);
		if (f[n - 1] == '/') {
			mkdir(path, 0755);
			continue;
		}
		tap_write(path, !strcmp(f, "conda.yaml")	    ? conda_yaml
				: !strcmp(f, "python_env.yaml") ? python_env_yaml
				: !strcmp(f, "requirements.txt") ? requirements_txt
								 : "");
	}
}

static mreg_diag_list *check(const char *path)
{
	mreg_diag_list *d = NULL;
	int rc;

	mreg_diag_list_new(&d);
	rc = mreg_format_validate(&mreg_format_mlflow_model, path, d, NULL);
	if (rc)
		printf("# validate %s returned %d: %s\n", path, rc, mreg_error_last());
	return d;
}

static size_t errors_of(const char *path)
{
	mreg_diag_list *d = check(path);
	size_t n = mreg_diag_count_severity(d, MREG_DIAG_ERROR);

	mreg_diag_list_free(d);
	return n;
}

static void dump(const mreg_diag_list *d)
{
	for (size_t i = 0; i < mreg_diag_count(d); i++) {
		char *s = mreg_diag_format(mreg_diag_get(d, i));
		printf("#   %s\n", s ? s : "?");
		free(s);
	}
}

/* The diagnostic with this severity, code, place and (if not NULL) text in its message. */
static const mreg_diag *find_text(const mreg_diag_list *d, mreg_diag_severity sev,
				  const char *code, const char *file, unsigned int line,
				  unsigned int column, const char *substring)
{
	for (size_t i = 0; i < mreg_diag_count(d); i++) {
		const mreg_diag *x = mreg_diag_get(d, i);
		if (x->severity == sev && !strcmp(x->code, code) && x->line == line &&
		    x->column == column && (!file || !strcmp(x->file, file)) &&
		    (!substring || strstr(x->message, substring)))
			return x;
	}
	return NULL;
}

#define find(d, sev, code, file, line, column) find_text(d, sev, code, file, line, column, NULL)

/*
 * Validate @dir and expect a diagnostic @code of severity @sev at
 * FILE:LINE:COL (FILE relative to @dir; NULL means MLmodel). With @only,
 * it must be the only error.
 */
static const mreg_diag *expect_at(const char *desc, const char *dir, mreg_diag_severity sev,
				  const char *code, const char *file, unsigned int line,
				  unsigned int col, bool only, const char *substring)
{
	static mreg_diag_list *last;
	char want[512];
	const mreg_diag *x;
	bool ok;

	mreg_diag_list_free(last);
	last = check(dir);
	if (file && !file[0])
		snprintf(want, sizeof(want), "%s", dir);
	else
		snprintf(want, sizeof(want), "%s/%s", dir, file ? file : "MLmodel");
	x = find_text(last, sev, code, want, line, col, substring);
	ok = x != NULL;
	if (ok && only)
		ok = mreg_diag_count_severity(last, MREG_DIAG_ERROR) == (sev == MREG_DIAG_ERROR);
	if (!tap_ok(ok, "%s: %s %s at %s:%u:%u", desc, mreg_diag_severity_name(sev), code, want,
		    line, col))
		dump(last);
	return x;
}

#define ERR(desc, dir, code, line, col) \
	expect_at(desc, dir, MREG_DIAG_ERROR, code, NULL, line, col, true, NULL)
#define WARN(desc, dir, code, line, col) \
	expect_at(desc, dir, MREG_DIAG_WARNING, code, NULL, line, col, false, NULL)

/* The minimal valid model the error variants start from. */
#define PYFUNC "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"

static void test_good(void)
{
	mreg_diag_list *d;
	const mreg_format *f = NULL;

	fixture("good", good_mlmodel, good_files);
	d = check("good");
	if (!tap_ok(mreg_diag_count(d) == 0, "a complete MLflow 2.12 model has no diagnostics"))
		dump(d);
	mreg_diag_list_free(d);
	tap_is_int(mreg_format_detect(&f, "good"), 0, "detection runs");
	tap_is_str(f ? f->name : NULL, "mlflow_model", "an MLmodel file at the root wins detection");
	fixture("plain", NULL, "model.pkl");
	tap_is_int(mreg_format_detect(&f, "plain"), 0, "detection runs");
	tap_is_str(f ? f->name : NULL, "custom_model", "without MLmodel it is a custom model");
	tap_is_int(mreg_format_mlflow_model.probe("good/MLmodel"), 0, "a file does not probe");
}

static void test_mlmodel_file(void)
{
	const mreg_diag *x;
	int fd;

	fixture("nomlmodel", NULL, "model.pkl");
	x = expect_at("no MLmodel", "nomlmodel", MREG_DIAG_ERROR, "mlflow-mlmodel", "", 0, 0, true,
		      NULL);
	tap_is_str(x ? x->message : NULL,
		   "Could not find an \"MLmodel\" configuration file at \"nomlmodel\"",
		   "MLflow's own message");
	fixture("lower", NULL, "model.pkl mlmodel");
	expect_at("a near miss is named", "lower", MREG_DIAG_ERROR, "mlflow-mlmodel", "", 0, 0, true,
		  "found 'mlmodel'");
	fixture("dirmodel", NULL, "MLmodel/ model.pkl");
	expect_at("MLmodel is a folder", "dirmodel", MREG_DIAG_ERROR, "mlflow-mlmodel", "MLmodel",
		  0, 0, true, "is a folder");
	tap_write("single.pkl", "");
	expect_at("a single file", "single.pkl", MREG_DIAG_ERROR, "mlflow-mlmodel", "", 0, 0, true,
		  "folder");
	fixture("huge", NULL, "model.pkl");
	fd = open("huge/MLmodel", O_CREAT | O_WRONLY, 0644);
	if (fd >= 0) {
		tap_ok(ftruncate(fd, (off_t)17 << 20) == 0, "17 MiB MLmodel (sparse)");
		close(fd);
	}
	expect_at("larger than 16 MiB", "huge", MREG_DIAG_ERROR, "mlflow-mlmodel", "MLmodel", 0, 0,
		  true, "16 MiB");
}

static void test_yaml(void)
{
	char deep[400];

	fixture("syntax", PYFUNC "databricks_runtime: databricks_runtime: 11.0\n", NULL);
	expect_at("YAML syntax error with libyaml's problem", "syntax", MREG_DIAG_ERROR,
		  "mlflow-yaml", NULL, 4, 39, true, "mapping values are not allowed");
	fixture("junk", "flavors: \x01\x02\n", NULL);
	expect_at("binary junk", "junk", MREG_DIAG_ERROR, "mlflow-yaml", NULL, 1, 10, true,
		  "control characters");
	fixture("badutf8", "flavors: \xff\xfe\xfd\n", NULL);
	expect_at("invalid UTF-8", "badutf8", MREG_DIAG_ERROR, "mlflow-yaml", NULL, 1, 10, true,
		  "UTF-8");
	fixture("tag", PYFUNC "metadata: !!python/object:os.system {}\n", NULL);
	ERR("a tag safe_load refuses", "tag", "mlflow-yaml", 4, 11);
	/* Typed is not built: safe_load runs the type's constructor on the text. */
	fixture("tag-int", PYFUNC "model_size_bytes: !!int x\n", NULL);
	ERR("!!int on a word (int() raises)", "tag-int", "mlflow-yaml", 4, 19);
	fixture("tag-bool", PYFUNC "metadata: {a: !!bool maybe}\n", NULL);
	ERR("!!bool on a word (no such boolean)", "tag-bool", "mlflow-yaml", 4, 15);
	fixture("tag-ts", PYFUNC "metadata: {a: !!timestamp soon}\n", NULL);
	ERR("!!timestamp on a word", "tag-ts", "mlflow-yaml", 4, 15);
	fixture("bad-date", PYFUNC "utc_time_created: 2023-02-29\n", NULL);
	ERR("a plain date that does not exist (not a leap year)", "bad-date", "mlflow-yaml", 4, 19);
	fixture("bad-hour", PYFUNC "metadata: {a: 2024-01-01 24:00:00}\n", NULL);
	ERR("a plain timestamp at hour 24", "bad-hour", "mlflow-yaml", 4, 15);
	fixture("bad-bin", PYFUNC "metadata: {a: 0b_}\n", NULL);
	ERR("a plain 0b_ (no digit once underscores go)", "bad-bin", "mlflow-yaml", 4, 15);
	fixture("tag-built",
		PYFUNC "metadata: {a: !!int 0x1F, b: !!int '12:30', c: !!float ' 1e5 ', "
		"d: !!bool ON, e: !!timestamp '2024-2-29 1:02:03.5 -23:59', f: !!int 0o17, "
		"g: !!str 2024-13-01, h: ! 2024-13-01, i: !!null whatever, j: 2024-02-29}\n",
		NULL);
	tap_ok(errors_of("tag-built") == 0,
	       "tagged scalars the safe constructor builds, and !!str or ! on a bad date: no error");
	fixture("cycle", "flavors: &f {x: *f}\n", NULL);
	ERR("a recursive alias", "cycle", "mlflow-yaml", 1, 10);
	fixture("twodocs", PYFUNC "---\nflavors: {}\n", NULL);
	ERR("a second document", "twodocs", "mlflow-yaml", 4, 1);
	fixture("unhashable", PYFUNC "? [a]\n: 1\n", NULL);
	ERR("a list as a key", "unhashable", "mlflow-yaml", 4, 3);
	snprintf(deep, sizeof(deep), "flavors: %.150s%.150s\n",
		 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
		 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	fixture("deep", deep, NULL);
	ERR("nesting deeper than the limit", "deep", "mlflow-yaml", 1, 109);
	fixture("bomb",
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		PYFUNC, NULL);
	ERR("aliases that expand to a million nodes", "bomb", "mlflow-yaml", 1, 1);
	fixture("aliases", "base: &b {loader_module: mlflow.sklearn}\nflavors:\n  python_function: *b\n",
		NULL);
	tap_is_int(errors_of("aliases"), 0,
		   "an ordinary alias is fine (PyYAML's dumper writes them)");
}

static void test_document(void)
{
	fixture("empty", "", NULL);
	expect_at("an empty MLmodel", "empty", MREG_DIAG_ERROR, "mlflow-document", NULL, 0, 0, true,
		  "empty");
	fixture("listdoc", "- flavors\n- python_function\n", NULL);
	ERR("a list document", "listdoc", "mlflow-document", 1, 1);
	fixture("scalardoc", "just some text\n", NULL);
	ERR("a scalar document", "scalardoc", "mlflow-document", 1, 1);
}

static void test_flavors(void)
{
	fixture("noflavors", "mlflow_version: 2.12.2\n", NULL);
	ERR("no flavors", "noflavors", "mlflow-flavors", 1, 1);
	fixture("listflavors", "flavors:\n- sklearn\n", NULL);
	ERR("flavors is a list", "listflavors", "mlflow-flavors", 2, 1);
	fixture("nullflavors", "flavors:\nmlflow_version: 2.12.2\n", NULL);
	ERR("flavors is null", "nullflavors", "mlflow-flavors", 1, 1);
	fixture("emptyflavors", "flavors: {}\n", NULL);
	ERR("flavors is empty", "emptyflavors", "mlflow-flavors", 1, 10);
	fixture("scalarflavor", PYFUNC "  sklearn: 3\n", NULL);
	ERR("a flavor that is a number", "scalarflavor", "mlflow-flavor", 4, 12);
	fixture("nullflavor", PYFUNC "  sklearn:\n", NULL);
	ERR("a flavor that is null", "nullflavor", "mlflow-flavor", 4, 3);
	fixture("noloader", "flavors:\n  python_function:\n    model_path: model.pkl\n", "model.pkl");
	const mreg_diag *x = ERR("python_function without loader_module", "noloader",
				 "mlflow-flavor", 2, 3);
	char *s = x ? mreg_diag_format(x) : NULL;
	tap_is_str(s,
		   "noloader/MLmodel:2:3: error: flavor 'python_function' has no 'loader_module' "
		   "[mlflow-flavor]", "the diagnostic reads like a compiler's");
	free(s);
	fixture("badloader", "flavors:\n  python_function:\n    loader_module: 42\n", NULL);
	ERR("loader_module is a number", "badloader", "mlflow-flavor", 3, 20);
	fixture("spaceloader", "flavors:\n  python_function:\n    loader_module: my module\n", NULL);
	ERR("loader_module is not a module name", "spaceloader", "mlflow-flavor", 3, 20);
	fixture("badartifacts", PYFUNC "    artifacts: [a]\n", NULL);
	ERR("artifacts is a list", "badartifacts", "mlflow-flavor", 4, 16);
	fixture("nopathartifact", PYFUNC "    artifacts:\n      scaler:\n        uri: ./s.pkl\n", NULL);
	ERR("an artifact without path", "nopathartifact", "mlflow-flavor", 5, 7);
}

static void test_env(void)
{
	fixture("envlist", PYFUNC "    env: [conda.yaml]\n", "conda.yaml");
	WARN("env is a list (MLflow loads it)", "envlist", "mlflow-env", 4, 10);
	fixture("envnone", PYFUNC "    env: {docker: Dockerfile}\n", NULL);
	WARN("env names no environment (MLflow loads it)", "envnone", "mlflow-env", 4, 10);
	WARN("unknown env key", "envnone", "mlflow-unknown-key", 4, 11);
	fixture("envnumber", PYFUNC "    env: {conda: 3}\n", NULL);
	WARN("env.conda is a number (MLflow loads it)", "envnumber", "mlflow-env", 4, 18);
}

static void test_paths(void)
{
	fixture("abspath", PYFUNC "    model_path: /etc/passwd\n", NULL);
	ERR("an absolute path", "abspath", "mlflow-path", 4, 17);
	fixture("escape", PYFUNC "    model_path: data/../../model.pkl\n", NULL);
	ERR("a path that leads out", "escape", "mlflow-path", 4, 17);
	fixture("inside", PYFUNC "    model_path: data/../model.pkl\n", "model.pkl data/");
	tap_is_int(errors_of("inside"), 0,
		   "'..' that stays inside is fine");
	fixture("backslash", PYFUNC "    model_path: data\\model.pkl\n", NULL);
	ERR("a backslash", "backslash", "mlflow-path", 4, 17);
	fixture("emptypath", PYFUNC "    model_path: ''\n", NULL);
	ERR("an empty path", "emptypath", "mlflow-path", 4, 17);
	fixture("listpath", PYFUNC "    data: [a, b]\n", NULL);
	ERR("a path that is a list", "listpath", "mlflow-path", 4, 11);
	fixture("winpath", PYFUNC "    model_path: C:\\models\\m.pkl\n", NULL);
	ERR("a Windows absolute path", "winpath", "mlflow-path", 4, 17);
}

static void test_missing_files(void)
{
	fixture("nopkl", PYFUNC "    model_path: model.pkl\n", NULL);
	ERR("model_path names a missing file", "nopkl", "mlflow-file-missing", 4, 17);
	fixture("nodata", PYFUNC "  sklearn:\n    pickled_model: model.pkl\n", NULL);
	ERR("sklearn.pickled_model missing", "nodata", "mlflow-file-missing", 5, 20);
	fixture("nocode", PYFUNC "    code: code\n", NULL);
	ERR("code folder missing", "nocode", "mlflow-file-missing", 4, 11);
	fixture("nocrate", "flavors:\n  crate:\n    version: 0.1.0\n    model: crate.bin\n", NULL);
	ERR("crate.model missing", "nocrate", "mlflow-file-missing", 4, 12);
	fixture("noconda", PYFUNC "    env:\n      conda: conda.yaml\n", NULL);
	WARN("env.conda missing (MLflow loads it)", "noconda", "mlflow-file-missing", 5, 14);
	fixture("novenv", PYFUNC "    env:\n      virtualenv: python_env.yaml\n", NULL);
	WARN("env.virtualenv missing (MLflow loads it)", "novenv", "mlflow-file-missing", 5, 19);
	fixture("noartifact",
		PYFUNC "    artifacts:\n      scaler:\n        path: artifacts/scaler.pkl\n", NULL);
	ERR("an artifact missing", "noartifact", "mlflow-file-missing", 6, 15);
	fixture("noexample",
		PYFUNC "saved_input_example_info:\n  artifact_path: input_example.json\n  type: ndarray\n",
		NULL);
	WARN("the input example missing (MLflow loads it)", "noexample", "mlflow-file-missing", 5, 18);
	fixture("noserving",
		PYFUNC "saved_input_example_info:\n  artifact_path: input_example.json\n"
		"  serving_input_path: serving_input_example.json\n  type: ndarray\n",
		"input_example.json");
	WARN("the serving example missing (MLflow loads it)", "noserving", "mlflow-file-missing", 6, 23);
	fixture("noreqs", PYFUNC "    env:\n      virtualenv: python_env.yaml\n", "python_env.yaml");
	expect_at("python_env.yaml reads a missing requirements.txt", "noreqs", MREG_DIAG_ERROR,
		  "mlflow-file-missing", "python_env.yaml", 5, 3, true, "requirements.txt");
	fixture("noconstraints", PYFUNC "    env:\n      virtualenv: python_env.yaml\n",
		"python_env.yaml");
	tap_write("noconstraints/requirements.txt", "mlflow==2.12.2\n-c constraints.txt\n");
	expect_at("requirements.txt reads a missing constraints.txt", "noconstraints",
		  MREG_DIAG_ERROR, "mlflow-file-missing", "requirements.txt", 2, 1, true,
		  "constraints.txt");
}

#define SIG(inputs) PYFUNC "signature:\n  inputs: '" inputs "'\n"
#define PARAMS(params) SIG("[{\"type\": \"string\"}]") "  params: '" params "'\n"

static void test_signature(void)
{
	static const struct {
		const char *dir, *text, *code, *desc;
		unsigned int line, col;
	} cases[] = {
		{"sig-yamllist", PYFUNC "signature:\n  inputs: [a]\n", "mlflow-signature",
		 "inputs is a YAML list, not JSON text", 5, 11},
		{"sig-none", PYFUNC "signature:\n  inputs: null\n  outputs: ''\n", "mlflow-signature",
		 "inputs, outputs and params all absent", 5, 3},
		{"sig-json", SIG("[{\"type\": \"double\""), "mlflow-signature-json", "JSON that does not parse",
		 5, 11},
		{"sch-object", SIG("{\"type\": \"double\"}"), "mlflow-schema", "schema is not a list", 5, 11},
		{"sch-empty", SIG("[]"), "mlflow-schema", "empty schema", 5, 11},
		{"sch-notype", SIG("[{\"name\": \"a\"}]"), "mlflow-schema", "a column without type", 5, 11},
		{"sch-unknown", SIG("[{\"type\": \"strng\"}]"), "mlflow-schema", "an unknown type", 5, 11},
		{"sch-extra", SIG("[{\"type\": \"double\", \"shape\": [1]}]"), "mlflow-schema",
		 "an extra key on a basic column", 5, 11},
		{"sch-mixnames", SIG("[{\"type\": \"double\", \"name\": \"a\"}, {\"type\": \"double\"}]"),
		 "mlflow-schema", "named and unnamed mixed", 5, 11},
		{"sch-mixkinds",
		 SIG("[{\"type\": \"double\", \"name\": \"a\"}, {\"type\": \"tensor\", \"name\": \"b\", "
		     "\"tensor-spec\": {\"dtype\": \"float64\", \"shape\": [-1]}}]"),
		 "mlflow-schema", "columns and tensors mixed", 5, 11},
		{"sch-nodtype", SIG("[{\"type\": \"tensor\", \"tensor-spec\": {\"shape\": [-1]}}]"),
		 "mlflow-schema", "a tensor without dtype", 5, 11},
		{"sch-noshape", SIG("[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\"}}]"),
		 "mlflow-schema", "a tensor without shape", 5, 11},
		{"sch-sized",
		 SIG("[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"<U10\", \"shape\": [-1]}}]"),
		 "mlflow-schema", "a sized flexible dtype", 5, 11},
		{"sch-dtype",
		 SIG("[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float65\", \"shape\": [-1]}}]"),
		 "mlflow-schema", "an unknown dtype", 5, 11},
		{"sch-shape",
		 SIG("[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\", \"shape\": \"-1\"}}]"),
		 "mlflow-schema", "a shape that is not a list", 5, 11},
		{"sch-optional", SIG("[{\"type\": \"double\", \"required\": false}]"), "mlflow-schema",
		 "an unnamed optional column", 5, 11},
		{"sch-tensors",
		 SIG("[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"int64\", \"shape\": [-1]}}, "
		     "{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"int64\", \"shape\": [-1]}}]"),
		 "mlflow-schema", "two unnamed tensors", 5, 11},
		{"sch-noitems", SIG("[{\"type\": \"array\", \"name\": \"a\"}]"), "mlflow-schema",
		 "an array without items", 5, 11},
		{"sch-noprops", SIG("[{\"type\": \"object\", \"name\": \"a\", \"properties\": {}}]"),
		 "mlflow-schema", "an object without properties", 5, 11},
		{"sch-mapvalues",
		 SIG("[{\"type\": \"map\", \"name\": \"a\", \"values\": {\"type\": \"tensor\"}}]"),
		 "mlflow-schema", "a map of tensors", 5, 11},
		{"par-binary", PARAMS("[{\"name\": \"a\", \"type\": \"binary\", \"default\": null, \"shape\": null}]"),
		 "mlflow-params", "a binary parameter", 6, 11},
		{"par-dup",
		 PARAMS("[{\"name\": \"a\", \"type\": \"long\", \"default\": 1}, "
			"{\"name\": \"a\", \"type\": \"long\", \"default\": 2}]"),
		 "mlflow-params", "a parameter twice", 6, 11},
		{"par-default", PARAMS("[{\"name\": \"t\", \"type\": \"double\", \"default\": \"hot\"}]"),
		 "mlflow-params", "a default of the wrong type", 6, 11},
		{"par-shape", PARAMS("[{\"name\": \"t\", \"type\": \"long\", \"default\": [1, 2], \"shape\": [2]}]"),
		 "mlflow-params", "a shape other than null or [-1]", 6, 11},
		{"par-nodefault", PARAMS("[{\"name\": \"t\", \"type\": \"long\"}]"), "mlflow-params",
		 "a parameter without default", 6, 11},
		{"par-date", PARAMS("[{\"name\": \"d\", \"type\": \"datetime\", \"default\": \"yesterday\"}]"),
		 "mlflow-params", "a datetime default that is not a date", 6, 11},
		{"par-type", PARAMS("[{\"name\": \"t\", \"type\": \"tensor\", \"default\": 1}]"),
		 "mlflow-params", "an unknown parameter type", 6, 11},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fixture(cases[i].dir, cases[i].text, NULL);
		ERR(cases[i].desc, cases[i].dir, cases[i].code, cases[i].line, cases[i].col);
	}
	fixture("par-dtype",
		PARAMS("[{\"name\": \"k\", \"dtype\": \"long\", \"default\": 3, \"shape\": null}, "
		       "{\"name\": \"l\", \"type\": \"string\", \"default\": [\"a\"], \"shape\": [-1]}, "
		       "{\"name\": \"d\", \"type\": \"datetime\", \"default\": \"2024-01-31T10:00:00\"}]"),
		NULL);
	tap_is_int(errors_of("par-dtype"), 0,
		   "the legacy 'dtype' key, a list default and a datetime default are accepted");
	fixture("sch-complex",
		SIG("[{\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": "
		    "{\"content\": {\"type\": \"string\", \"required\": true}, \"role\": {\"type\": "
		    "\"map\", \"values\": {\"type\": \"any\"}}}}, \"name\": \"messages\", \"required\": "
		    "true}]"),
		NULL);
	tap_is_int(errors_of("sch-complex"), 0,
		   "array of objects with a map property is accepted");
}

static void test_input_example(void)
{
	fixture("ex-scalar", PYFUNC "saved_input_example_info: input_example.json\n", NULL);
	WARN("saved_input_example_info is a string (MLflow loads it)", "ex-scalar", "mlflow-input-example", 4, 27);
	fixture("ex-type",
		PYFUNC "saved_input_example_info:\n  artifact_path: input_example.json\n  type: csv\n",
		"input_example.json");
	WARN("an example type MLflow cannot read (MLflow loads it)", "ex-type", "mlflow-input-example", 6, 9);
	fixture("ex-nopath", PYFUNC "saved_input_example_info:\n  type: ndarray\n", NULL);
	WARN("no artifact_path (MLflow loads it)", "ex-nopath", "mlflow-input-example", 4, 1);
}

static void test_field_types(void)
{
	fixture("ft-envvars", PYFUNC "env_vars: [OPENAI_API_KEY, 3]\n", NULL);
	ERR("env_vars holds a number", "ft-envvars", "mlflow-field-type", 4, 28);
	fixture("ft-envvars2", PYFUNC "env_vars: OPENAI_API_KEY\n", NULL);
	ERR("env_vars is a string", "ft-envvars2", "mlflow-field-type", 4, 11);
	/* Model.from_dict ends in cls(**model_dict): keys must be strings, not 'self'. */
	fixture("key-int", PYFUNC "1: x\n", NULL);
	ERR("a top-level key that is an integer", "key-int", "mlflow-document", 4, 1);
	fixture("key-bool", PYFUNC "yes: x\n", NULL);
	ERR("a top-level key that is a YAML 1.1 bool", "key-bool", "mlflow-document", 4, 1);
	fixture("key-null", PYFUNC "~: x\n", NULL);
	ERR("a top-level key that is null", "key-null", "mlflow-document", 4, 1);
	fixture("key-self", PYFUNC "self: x\n", NULL);
	ERR("a top-level key 'self'", "key-self", "mlflow-document", 4, 1);
	/* PyYAML's pure-Python scanner refuses a tab between tokens. */
	fixture("tab-value", PYFUNC "run_id: a\tb\n", NULL);
	ERR("a tab in a plain scalar (PyYAML refuses it)", "tab-value", "mlflow-yaml", 4, 10);
	fixture("tab-colon", PYFUNC "run_id:\tab\n", NULL);
	ERR("a tab after a colon (PyYAML refuses it)", "tab-colon", "mlflow-yaml", 4, 8);
	fixture("tab-quoted", PYFUNC "run_id: 'a\tb' #\tc\n", NULL);
	WARN("a tab inside quotes and a comment is fine", "tab-quoted", "mlflow-field-format", 4, 9);
	fixture("pyver-num", PYFUNC "    python_version: 3.10\n", NULL);
	ERR("python_version a YAML number: pyfunc's .split fails", "pyver-num", "mlflow-flavor", 4,
	    21);
	fixture("ft-envvars0", PYFUNC "env_vars: 0\n", NULL);
	WARN("env_vars 0 (the setter lets a false value through)", "ft-envvars0",
	     "mlflow-field-type", 4, 11);
	fixture("ft-resources", PYFUNC "resources: res.yaml\n", NULL);
	ERR("resources a string: read as a YAML file's path", "ft-resources", "mlflow-field-type",
	    4, 12);
	fixture("fl-unknown", PYFUNC "  myflavor: 3\n", NULL);
	WARN("a flavor MLflow does not ship, not a mapping (MLflow loads it)", "fl-unknown",
	     "mlflow-flavor", 4, 13);
	fixture("fl-known", PYFUNC "  sklearn: 3\n", NULL);
	ERR("sklearn's settings not a mapping", "fl-known", "mlflow-flavor", 4, 12);
	fixture("sig-list", PYFUNC "signature: [a]\n", NULL);
	WARN("signature is a list (MLflow ignores it)", "sig-list", "mlflow-signature", 4, 12);
	fixture("sig-shape", PYFUNC "signature:\n  inputs: '[{\"type\": \"tensor\", "
		"\"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [\"x\"]}}]'\n", NULL);
	WARN("a tensor shape holding a string (TensorInfo keeps it)", "sig-shape", "mlflow-schema",
	     5, 11);
	fixture("sig-nan", PYFUNC "signature:\n  inputs: '[{\"type\": \"double\"}]'\n"
		"  params: '[{\"name\": \"t\", \"type\": \"double\", \"default\": NaN}]'\n",
		NULL);
	WARN("NaN in the signature JSON (Python's json reads it)", "sig-nan",
	     "mlflow-signature-json", 6, 11);
	fixture("ft-size", PYFUNC "model_size_bytes: -5\n", NULL);
	WARN("model_size_bytes is negative (MLflow loads it)", "ft-size", "mlflow-field-type", 4, 19);
	fixture("ft-size2", PYFUNC "model_size_bytes: '1234'\n", NULL);
	WARN("model_size_bytes is a string (MLflow loads it)", "ft-size2", "mlflow-field-type", 4, 19);
	fixture("ft-metadata", PYFUNC "metadata: [a]\n", NULL);
	WARN("metadata is a list (MLflow loads it)", "ft-metadata", "mlflow-field-type", 4, 11);
	fixture("ft-runid", PYFUNC "run_id: {a: 1}\n", NULL);
	WARN("run_id is a mapping (MLflow loads it)", "ft-runid", "mlflow-field-type", 4, 9);
}

#define ENVREF PYFUNC "    env:\n      conda: conda.yaml\n      virtualenv: python_env.yaml\n"

static void test_env_files(void)
{
	fixture("ef-list", ENVREF, "python_env.yaml requirements.txt");
	tap_write("ef-list/conda.yaml", "- python=3.10\n");
	expect_at("conda.yaml is a list", "ef-list", MREG_DIAG_ERROR, "mlflow-env-file", "conda.yaml",
		  1, 1, true, NULL);
	fixture("ef-deps", ENVREF, "python_env.yaml requirements.txt");
	tap_write("ef-deps/conda.yaml", "name: x\ndependencies: python=3.10\n");
	expect_at("conda dependencies is a string", "ef-deps", MREG_DIAG_ERROR, "mlflow-env-file",
		  "conda.yaml", 2, 15, true, NULL);
	fixture("ef-syntax", ENVREF, "python_env.yaml requirements.txt");
	tap_write("ef-syntax/conda.yaml", "dependencies:\n- python=3.10\nname: x: y\n");
	expect_at("conda.yaml syntax error", "ef-syntax", MREG_DIAG_ERROR, "mlflow-env-file",
		  "conda.yaml", 3, 8, true, "mapping values");
	fixture("ef-python", ENVREF, "conda.yaml requirements.txt");
	tap_write("ef-python/python_env.yaml", "python: 3.10\ndependencies:\n- -r requirements.txt\n");
	expect_at("python_env python is a YAML number", "ef-python", MREG_DIAG_ERROR,
		  "mlflow-env-file", "python_env.yaml", 1, 9, true, "'3.10'");
	fixture("ef-deplist", ENVREF, "conda.yaml requirements.txt");
	tap_write("ef-deplist/python_env.yaml", "python: '3.10'\ndependencies: -r requirements.txt\n");
	expect_at("python_env dependencies is a string", "ef-deplist", MREG_DIAG_ERROR,
		  "mlflow-env-file", "python_env.yaml", 2, 15, true, NULL);
	fixture("ef-empty", ENVREF, "python_env.yaml requirements.txt");
	tap_write("ef-empty/conda.yaml", "");
	expect_at("an empty conda.yaml", "ef-empty", MREG_DIAG_ERROR, "mlflow-env-file", "conda.yaml",
		  0, 0, true, NULL);
	/* Not named by MLmodel: MLflow does not use it, so only a warning. */
	fixture("ef-unref", PYFUNC, NULL);
	tap_write("ef-unref/conda.yaml", "- python=3.10\n");
	expect_at("a broken conda.yaml MLmodel does not name", "ef-unref", MREG_DIAG_WARNING,
		  "mlflow-env-file", "conda.yaml", 1, 1, false, NULL);
	tap_is_int(errors_of("ef-unref"), 0,
		   "... and no error");
}

static void test_warnings(void)
{
	fixture("w-unknown", PYFUNC "my_key: 1\n", NULL);
	WARN("an unknown top-level key", "w-unknown", "mlflow-unknown-key", 4, 1);
	fixture("w-legacy", "time_created: 2018-05-25T17:28:53.35\n" PYFUNC, NULL);
	WARN("time_created", "w-legacy", "mlflow-legacy", 1, 1);
	fixture("w-envstr", PYFUNC "    env: conda.yaml\n", "conda.yaml");
	WARN("env as one file name", "w-envstr", "mlflow-legacy", 4, 10);
	fixture("w-missing", PYFUNC, NULL);
	expect_at("no utc_time_created", "w-missing", MREG_DIAG_WARNING, "mlflow-missing-field",
		  NULL, 1, 1, false, "utc_time_created");
	expect_at("no mlflow_version", "w-missing", MREG_DIAG_WARNING, "mlflow-missing-field", NULL,
		  1, 1, false, "mlflow_version");
	expect_at("no model_uuid", "w-missing", MREG_DIAG_WARNING, "mlflow-missing-field", NULL, 1,
		  1, false, "model_uuid");
	fixture("w-time", PYFUNC "utc_time_created: 2024-05-17 23:15:28\n", NULL);
	WARN("utc_time_created as a YAML timestamp", "w-time", "mlflow-field-format", 4, 19);
	fixture("w-time2", PYFUNC "utc_time_created: 'yesterday'\n", NULL);
	WARN("utc_time_created in another format", "w-time2", "mlflow-field-format", 4, 19);
	fixture("w-runid", PYFUNC "run_id: 'run #1'\n", NULL);
	WARN("a run_id MLflow would not write", "w-runid", "mlflow-field-format", 4, 9);
	fixture("w-nopyfunc", "flavors:\n  crate:\n    version: 0.1.0\n    model: crate.bin\n",
		"crate.bin");
	WARN("no python_function", "w-nopyfunc", "mlflow-no-pyfunc", 1, 1);
	/* (python_function.python_version as a number is an error: pyver-num.) */
	fixture("w-number", PYFUNC "    python_version: '3.10'\n  sklearn:\n    sklearn_version: 1.0\n"
		"mlflow_version: 2.0\n", NULL);
	expect_at("sklearn_version as a YAML number: the quoted form suggested", "w-number",
		  MREG_DIAG_WARNING, "mlflow-yaml-number", NULL, 6, 22, false, "'1.0'");
	WARN("sklearn_version as a YAML number", "w-number", "mlflow-yaml-number", 6, 22);
	WARN("mlflow_version as a YAML number", "w-number", "mlflow-yaml-number", 7, 17);
	fixture("w-pymismatch", ENVREF "    python_version: 3.11.4\n", "conda.yaml python_env.yaml "
		"requirements.txt");
	expect_at("conda.yaml python differs from MLmodel", "w-pymismatch", MREG_DIAG_WARNING,
		  "mlflow-env-mismatch", "conda.yaml", 4, 3, false, "3.11.4");
	expect_at("python_env.yaml python differs from MLmodel", "w-pymismatch", MREG_DIAG_WARNING,
		  "mlflow-env-mismatch", "python_env.yaml", 1, 9, false, NULL);
	fixture("w-pins", ENVREF, "conda.yaml python_env.yaml");
	tap_write("w-pins/requirements.txt", "mlflow==2.12.2\n# pinned\nscikit-learn == 1.4.0 \n");
	expect_at("a pin that differs", "w-pins", MREG_DIAG_WARNING, "mlflow-env-mismatch",
		  "conda.yaml", 8, 5, false, "line 3");
	fixture("w-colname",
		SIG("[{\"type\": \"string\", \"name\": 0}]") "  outputs: '[{\"type\": \"long\", \"name\": "
		"\"y\"}, {\"type\": \"long\", \"name\": \"y\"}]'\n", NULL);
	WARN("a column name that is a number", "w-colname", "mlflow-column-name", 5, 11);
	WARN("a column name twice", "w-colname", "mlflow-column-name", 6, 12);
	fixture("w-abs", PYFUNC "    model_code_path: /tmp/lc_model.py\n", NULL);
	WARN("an absolute model_code_path", "w-abs", "mlflow-absolute-path", 4, 22);
	fixture("w-dupkey", PYFUNC "mlflow_version: 2.12.2\nmlflow_version: 2.12.3\n", NULL);
	WARN("a key twice", "w-dupkey", "mlflow-duplicate-key", 5, 1);
	fixture("w-sigkey", SIG("[{\"type\": \"string\"}]") "  input: x\n", NULL);
	WARN("an unknown key in signature", "w-sigkey", "mlflow-unknown-key", 6, 3);
}

static json_t *describe(const char *dir)
{
	char *text = NULL;
	json_t *j = NULL;

	if (mreg_format_mlflow_model.describe(dir, &text) == 0 && text)
		j = json_loads(text, 0, NULL);
	free(text);
	return j;
}

static void test_describe(void)
{
	json_t *j = describe("good"), *v;
	char *text = NULL;

	tap_ok(json_is_object(j), "describe gives a JSON object");
	tap_is_str(json_string_value(json_object_get(j, "mlflow_version")), "2.12.2", "mlflow_version");
	v = json_object_get(json_object_get(json_object_get(j, "flavors"), "python_function"),
			    "loader_module");
	tap_is_str(json_string_value(v), "mlflow.sklearn", "flavors.python_function.loader_module");
	v = json_object_get(json_object_get(json_object_get(j, "flavors"), "sklearn"), "code");
	tap_ok(json_is_null(v), "code: null stays null");
	v = json_object_get(json_object_get(j, "signature"), "inputs");
	tap_ok(json_is_array(v), "signature.inputs is parsed JSON, not text");
	tap_is_str(json_string_value(json_object_get(json_array_get(v, 1), "name")), "residual sugar",
		   "a name folded across YAML lines is joined with one space");
	v = json_object_get(json_object_get(j, "signature"), "outputs");
	v = json_object_get(json_object_get(json_array_get(v, 0), "tensor-spec"), "shape");
	tap_is_int(json_integer_value(json_array_get(v, 0)), -1, "outputs tensor shape [-1]");
	v = json_object_get(json_array_get(json_object_get(json_object_get(j, "signature"), "params"),
					   0), "default");
	tap_ok(json_is_real(v) && json_real_value(v) == 0.5, "params default 0.5");
	json_decref(j);

	fixture("d-types", "flavors:\n  python_function:\n    loader_module: m\n    python_version: 3.10\n"
		"    streamable: yes\n    n: 0x1f\n    big: 123456789012345678901234567890\n"
		"    when: 2024-01-01\n", NULL);
	j = describe("d-types");
	v = json_object_get(json_object_get(j, "flavors"), "python_function");
	tap_ok(json_is_real(json_object_get(v, "python_version")) &&
		       json_real_value(json_object_get(v, "python_version")) == 3.1,
	       "unquoted 3.10 is the number 3.1, as MLflow reads it");
	tap_ok(json_is_true(json_object_get(v, "streamable")), "yes is true (YAML 1.1)");
	tap_is_int(json_integer_value(json_object_get(v, "n")), 31, "0x1f is 31");
	tap_is_str(json_string_value(json_object_get(v, "big")), "123456789012345678901234567890",
		   "an integer beyond 64 bits keeps its digits");
	tap_is_str(json_string_value(json_object_get(v, "when")), "2024-01-01",
		   "a timestamp is kept as text");
	tap_ok(!json_object_get(j, "signature") && !json_object_get(j, "mlflow_version"),
	       "absent fields are not invented");
	json_decref(j);

	tap_is_int(mlflow_describe_text("- a\n", 4, &text), 0, "describe of a list runs");
	tap_ok(text == NULL, "... and records nothing");
}

static void test_registry(void)
{
	mreg_store *store = NULL;
	mreg_record *rec = NULL, *back = NULL;
	mreg_diag_list *d = NULL;
	mreg_model_yml *yml = NULL;
	mreg_create_options o = MREG_CREATE_OPTIONS_INIT;
	json_t *j;

	if (!tap_ok(mreg_store_init(&store, "store") == 0, "store created: %s", mreg_error_last()))
		return;
	mreg_diag_list_new(&d);
	o.name = "wine";
	o.path = "nopkl";
	o.type = "mlflow_model";
	tap_is_int(mreg_model_create(&rec, store, &o, d), MREG_EINVALID,
		   "create -t mlflow_model refuses a model with errors");
	tap_ok(find(d, MREG_DIAG_ERROR, "mlflow-file-missing", "nopkl/MLmodel", 4, 17) != NULL,
	       "... and hands back the diagnostics");
	mreg_diag_list_free(d);
	mreg_diag_list_new(&d);
	o.path = "w-missing"; /* warnings only */
	tap_is_int(mreg_model_create(&rec, store, &o, d), 0, "warnings do not block create");
	mreg_record_free(rec);
	rec = NULL;
	o.path = "good";
	tap_is_int(mreg_model_create(&rec, store, &o, d), 0, "a valid MLflow model is registered");
	tap_is_str(rec ? rec->type : NULL, "mlflow_model", "record type");
	tap_is_int(mreg_model_get(&back, store, "wine@latest"), 0, "record read back");
	j = back && back->format_json ? json_loads(back->format_json, 0, NULL) : NULL;
	tap_is_str(json_string_value(json_object_get(
			   json_object_get(json_object_get(j, "flavors"), "sklearn"), "sklearn_version")),
		   "1.3.0", "flavors survive the record YAML");
	tap_is_str(json_string_value(json_object_get(
			   json_array_get(json_object_get(json_object_get(j, "signature"), "inputs"), 0),
			   "name")),
		   "fixed acidity", "the parsed signature survives the record YAML");
	tap_is_str(json_string_value(json_object_get(j, "mlflow_version")), "2.12.2",
		   "mlflow_version survives the record YAML");
	json_decref(j);
	mreg_record_free(back);
	mreg_record_free(rec);
	rec = NULL;

	/* Azure's model.yml: type: mlflow_model */
	tap_write("model.yml", "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
			       "name: wine\nversion: '7'\ntype: mlflow_model\npath: good\n");
	tap_is_int(mreg_model_yml_read(&yml, "model.yml", d), 0, "model.yml with type mlflow_model");
	if (yml) {
		mreg_create_options y = MREG_CREATE_OPTIONS_INIT;
		y.name = yml->name;
		y.path = yml->path;
		y.type = yml->type;
		y.model_version = yml->version;
		tap_is_int(mreg_model_create(&rec, store, &y, d), 0, "create -f model.yml works");
		tap_is_str(rec ? rec->version : NULL, "7", "version from model.yml");
		tap_ok(rec && rec->format_json && strstr(rec->format_json, "\"flavors\""),
		       "flavors recorded");
		mreg_record_free(rec);
	}
	mreg_model_yml_free(yml);
	mreg_diag_list_free(d);
	mreg_store_free(store);
}

/* Weights are never read: a 64 GiB (sparse) artifact validates at once. */
static void test_no_artifact_reads(void)
{
	struct timespec t0, t1;
	mreg_diag_list *d;
	double secs;
	int fd;

	fixture("bigweights", good_mlmodel, good_files);
	fd = open("bigweights/model.pkl", O_WRONLY | O_TRUNC);
	if (fd < 0 || ftruncate(fd, (off_t)64 << 30) != 0) {
		tap_ok(true, "# SKIP cannot make a sparse 64 GiB file here");
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	d = check("bigweights");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	tap_is_int(mreg_diag_count(d), 0, "a model with 64 GiB of weights is valid");
	tap_ok(secs < 1.0, "and validates in %.3f s (reading it would take minutes)", secs);
	mreg_diag_list_free(d);
	unlink("bigweights/model.pkl");
}

/* Anything at all in MLmodel: no crash, a diagnostic, a bounded message. */
static void test_malformed(void)
{
	static const char *texts[] = {
		"\xef\xbb\xbf", "\xff\xfe\x00\x00", "{", "[", "'", "\"\\u", "&a *a", "*a",
		"? ? ? ?", "flavors: !!binary AAAA", "flavors: {python_function: !!int 1}",
		"\t\tflavors:", "%YAML 1.1\n---\nflavors: {}", "%TAG ! tag:x,2000:\n--- !a {}",
		"flavors: {python_function: {loader_module: m, env: {conda: *x}}}",
		"signature: {inputs: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]'}",
		"signature: {inputs: '\"\\u0000\"'}", "flavors: {python_function: {artifacts: {a: 1}}}",
	};
	char *big;
	size_t n = 2u << 20;

	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		mreg_diag_list *d = NULL;
		char *json = NULL;
		mreg_diag_list_new(&d);
		int rc = mlflow_check_text("nowhere", texts[i], strlen(texts[i]) + (i == 1 ? 2 : 0), d);
		rc |= mlflow_describe_text(texts[i], strlen(texts[i]), &json);
		tap_ok(rc == 0 && mreg_diag_count_severity(d, MREG_DIAG_ERROR) > 0,
		       "malformed input %zu is refused without crashing", i);
		free(json);
		mreg_diag_list_free(d);
	}
	/* A 2 MiB file name: the message is cut, not 2 MiB long. */
	big = malloc(n + sizeof(PYFUNC) + 16);
	if (big) {
		mreg_diag_list *d = NULL;
		const char *env = "    env: ";
		memcpy(big, PYFUNC, strlen(PYFUNC));
		memcpy(big + strlen(PYFUNC), env, strlen(env));
		memset(big + strlen(PYFUNC) + strlen(env), 'k', n);
		memcpy(big + strlen(PYFUNC) + strlen(env) + n, "\n", 2);
		mreg_diag_list_new(&d);
		mlflow_check_text("nowhere", big, strlen(big), d);
		const mreg_diag *x = find(d, MREG_DIAG_WARNING, "mlflow-file-missing",
					  "nowhere/MLmodel", 4, 10);
		tap_ok(x && strlen(x->message) < 600, "a 2 MiB value gives a short message");
		mreg_diag_list_free(d);
		free(big);
	}
}

/* Messages are cut at 480 bytes; every length around the cut stays in bounds (ASan). */
static void test_message_cut(void)
{
	bool ok = true;
	size_t longest = 0;

	for (size_t n = 400; n < 480; n++) {
		char text[1024];
		mreg_diag_list *d = NULL;
		int len = snprintf(text, sizeof(text), PYFUNC "    env: %.*s\n", (int)n,
				   "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
				   "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
				   "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
				   "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
				   "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
				   "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
		mreg_diag_list_new(&d);
		mlflow_check_text("nowhere", text, (size_t)len, d);
		for (size_t i = 0; i < mreg_diag_count(d); i++) {
			size_t l = strlen(mreg_diag_get(d, i)->message);
			longest = l > longest ? l : longest;
			ok = ok && l <= 480;
		}
		mreg_diag_list_free(d);
	}
	tap_ok(ok && longest == 480, "messages around the 480-byte cut stay within it (longest %zu)",
	       longest);
}

int main(void)
{
	tap_tmpdir();
	test_good();
	test_mlmodel_file();
	test_yaml();
	test_document();
	test_flavors();
	test_env();
	test_paths();
	test_missing_files();
	test_signature();
	test_input_example();
	test_field_types();
	test_env_files();
	test_warnings();
	test_describe();
	test_registry();
	test_no_artifact_reads();
	test_malformed();
	test_message_cut();
	return tap_done();
}
