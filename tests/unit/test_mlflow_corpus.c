/*
 * Conformance of the mlflow_model plugin over the shared corpus of real
 * MLmodel files (../shared/corpus/mlflow, see its SOURCE.md): every folder
 * MLflow would load must validate without errors. The exceptions below are
 * folders whose MLmodel names a file the corpus does not hold (SOURCE.md and
 * the rules' quick-check, §11, say which), plus two texts MLflow itself
 * cannot load; each lists the exact errors expected.
 *
 * MLmodel variants kept beside an MLmodel (MLmodel.no.model_uuid, ...) are
 * checked in a copy of their folder where they are the MLmodel.
 *
 * Environment files (python_function.env) and input examples
 * (saved_input_example_info) that the corpus lacks are warnings, not
 * errors: MLflow's loader does not read them (docs/mlflow_model.md).
 *
 * Usage: test_mlflow_corpus CORPUS_DIR (skips when the folder is absent).
 */
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "util/error_priv.h"
#include "formats.h"
#include "util/strutil.h"
#include "tap.h"

typedef struct {
	const char *mlmodel; /* relative to the corpus */
	const char *file;    /* the file the error is in: "MLmodel", "python_env.yaml" */
	unsigned int line, column;
	const char *code;
	const char *name;    /* the file name the message must mention */
} expected_error;

#define MISSING(m, l, c, n) {m, "MLmodel", l, c, "mlflow-file-missing", n}

/*
 * Why each is expected (SOURCE.md unless said otherwise; "§11" is the
 * quick-check in shared/reference/mlflow_rules.md, which lists the same
 * references as missing):
 */
static const expected_error expected[] = {
	/* _history/: only the MLmodel of the older version was stored. */
#define H1 "_history/73664d7d58fe3c672438109ccf1959346a4a918a/tests/resources/example_mlflow_1x_sklearn_model/MLmodel"
	MISSING(H1, 5, 17, "model.pkl"),
	MISSING(H1, 10, 20, "model.pkl"),
#define H2 "_history/96af286e702703a85ac41c16e3f8a0d74b813e4b/tests/resources/pyfunc_models/2.7.1/MLmodel"
	MISSING(H2, 8, 19, "python_model.pkl"),
	MISSING("_history/d142efd882bb674714dc8b7e882688034ccd087d/mlflow/java/scoring/src/test/"
		"resources/org/mlflow/models/sample_model_root/MLmodel.with.databricks_runtime",
		4, 17, "mleap/model"),
	/* The MLflow 0.x pyfunc docstring layout (no 'flavors'): MLflow >= 1 finds no flavor. */
	{"docs_snippets/pyfunc_init_docstring__legacy_no_flavors_key/MLmodel", "MLmodel", 1, 1,
	 "mlflow-flavors", NULL},
	/* A tutorial excerpt: the PEFT adaptor folder is not on the page. */
	MISSING("docs_snippets/transformers_peft_tutorial__excerpt_with_comments/MLmodel", 3, 19, "peft"),
	/* data/model.fastai "is not collected (not created)". */
	MISSING("examples/fastai/digits_cnn_model/MLmodel", 5, 11, "data/model.fastai"),
	/* "MLmodel only. The rest of the directory was not copied." */
#define AW "external/Awais-shams/huggingface/model/MLmodel"
	MISSING(AW, 8, 17, "model.pkl"), MISSING(AW, 13, 20, "model.pkl"),
#define BJ "external/BethanyJep/sentiment-analysis-with-yelp-dataset/MLmodel"
	MISSING(BJ, 8, 17, "model.pkl"), MISSING(BJ, 13, 20, "model.pkl"),
	/* §11: model.pkl and conda.yaml not in the corpus (only input_example.json was). */
#define BK "external/BokaiZZZ/databricks-demo/model/MLmodel"
	MISSING(BK, 6, 17, "model.pkl"),
	MISSING(BK, 9, 20, "model.pkl"),
	/* "only requirements.txt committed" */
#define KI "external/Kiwinokoto/OC_projet_6_Classer_des_images/best_model/MLmodel"
	MISSING(KI, 3, 11, "data"), MISSING(KI, 11, 11, "data"),
	/* "conda.yaml/python_env.yaml are missing" */
#define KO "external/Kovalivska/retail_demand_forecast/model/MLmodel"
	/* §11: model.pkl, conda.yaml, python_env.yaml not in the corpus. */
#define LE "external/LewyWho/mlflow7/model/MLmodel"
	MISSING(LE, 8, 17, "model.pkl"), MISSING(LE, 13, 20, "model.pkl"),
	/* "python_env.yaml not collected" */
	/* §11: python_env.yaml not in the corpus. */
	/* §11: the repo-root copy has no sparkml/ or conda.yaml beside it. */
#define AL "external/alkeshbharati/RealTime-Prediction-using-Spark-MLFlow/MLmodel"
	MISSING(AL, 3, 11, "sparkml"),
	MISSING(AL, 8, 17, "sparkml"),
	/* Caveat: "a spark Pre-model/conda.yaml whose content is identical to a sibling's" was left out. */
	/* §11: model.pkl and conda.yaml not in the corpus. */
#define CH "external/chengyuwu-98/AutoML/model/MLmodel"
	MISSING(CH, 6, 17, "model.pkl"),
	MISSING(CH, 9, 20, "model.pkl"),
	/* §11: conda.yaml / python_env.yaml not in the corpus. */
	/* "artifacts/scaler_y.pkl is missing (the file sits at the repo root)"; §11: python_env.yaml. */
#define HU "external/husainsb/btc_forecast_mlops/MLmodel"
	MISSING(HU, 9, 15, "artifacts/scaler_y.pkl"),
	/* §11: env files and both input examples not in the corpus. */
#define MA "external/magheya/sentiment-analysis-mlops/mlflow_model/MLmodel"
	/* "The data/ dir is not collected"; nor are serving_input_example.json and
	 * requirements.txt (which its python_env.yaml installs with -r). */
#define NI "external/niels-2005/RottenBot_InferenceService/model/MLmodel"
	MISSING(NI, 4, 11, "data"), MISSING(NI, 12, 11, "data"),
	{NI, "python_env.yaml", 7, 3, "mlflow-file-missing", "requirements.txt"},
	/* "References python_env.yaml, which is not collected" */
	/* "The example/pkl files are in a subfolder, not next to MLmodel" */
#define YO "external/yousralina/lgbmmlflow/models/MLmodel"
	MISSING(YO, 10, 19, "python_model.pkl"),
	/* §11: sample_model_root has no mleap/model in the corpus. */
#define SR "mlflow/java/scoring/src/test/resources/org/mlflow/models/sample_model_root/"
	MISSING(SR "MLmodel", 4, 17, "mleap/model"),
	MISSING(SR "MLmodel.no.mlflow_version", 4, 17, "mleap/model"),
	MISSING(SR "MLmodel.no.model_uuid", 4, 17, "mleap/model"),
	MISSING(SR "MLmodel.with.metadata", 4, 17, "mleap/model"),
	/* "contains databricks_runtime: databricks_runtime: ..., which PyYAML rejects" */
	{SR "MLmodel.with.databricks_runtime", "MLmodel", 10, 39, "mlflow-yaml", NULL},
};

#define N_EXPECTED (sizeof(expected) / sizeof(*expected))

static char corpus[PATH_MAX];
static char **found;
static size_t found_count, found_cap;

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;

	if (type == FTW_F && str_starts_with(base, "MLmodel")) {
		if (found_count == found_cap) {
			found_cap = found_cap ? found_cap * 2 : 64;
			found = realloc(found, found_cap * sizeof(*found));
			if (!found)
				return 1;
		}
		found[found_count++] = strdup(path + strlen(corpus) + 1);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix) && (a == b || s[a - b - 1] == '/');
}

/* The folder to validate: the MLmodel's own, or a copy where a variant is the MLmodel. */
static char *folder_for(const char *rel, size_t n)
{
	char src[PATH_MAX + 32], cmd[3 * PATH_MAX];
	char *dir = strdup(rel), *slash = strrchr(dir, '/');

	if (slash)
		*slash = '\0';
	snprintf(src, sizeof(src), "%s/%s", corpus, slash ? dir : ".");
	free(dir);
	if (!strcmp(strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel, "MLmodel"))
		return strdup(src);
	dir = str_printf("variant%zu", n);
	snprintf(cmd, sizeof(cmd),
		 "cp -R '%s' '%s' && chmod -R u+w '%s' && cp '%s/%s' '%s/MLmodel'", src, dir, dir,
		 corpus, rel, dir);
	if (system(cmd) != 0) {
		printf("Bail out! cannot copy %s\n", src);
		exit(1);
	}
	return dir;
}

static void dump(const mreg_diag_list *d, mreg_diag_severity min)
{
	for (size_t i = 0; i < mreg_diag_count(d); i++) {
		const mreg_diag *x = mreg_diag_get(d, i);
		char *s;
		if (x->severity < min)
			continue;
		s = mreg_diag_format(x);
		printf("#   %s\n", s ? s : "?");
		free(s);
	}
}

static void check_one(const char *rel, size_t n, size_t *accepted, size_t *exceptions,
		      bool *used)
{
	char *dir = folder_for(rel, n);
	mreg_diag_list *d = NULL;
	size_t want = 0, errors;
	bool all = true;

	mreg_diag_list_new(&d);
	if (mreg_format_validate(NULL, dir, d, NULL) != 0)
		printf("# %s: %s\n", rel, mreg_error_last());
	errors = mreg_diag_count_severity(d, MREG_DIAG_ERROR);
	for (size_t i = 0; i < N_EXPECTED; i++) {
		bool hit = false;
		if (strcmp(expected[i].mlmodel, rel))
			continue;
		want++;
		used[i] = true;
		for (size_t j = 0; j < mreg_diag_count(d) && !hit; j++) {
			const mreg_diag *x = mreg_diag_get(d, j);
			hit = x->severity == MREG_DIAG_ERROR && !strcmp(x->code, expected[i].code) &&
			      x->line == expected[i].line && x->column == expected[i].column &&
			      ends_with(x->file, expected[i].file) &&
			      (!expected[i].name || strstr(x->message, expected[i].name));
		}
		all = all && hit;
	}
	if (!want) {
		(*accepted)++;
		if (!tap_ok(errors == 0, "%s: accepted (%zu warnings)", rel,
			    mreg_diag_count_severity(d, MREG_DIAG_WARNING)))
			dump(d, MREG_DIAG_ERROR);
		/* What `mreg create` would record. */
		char *text = NULL;
		json_t *j = NULL;
		if (mreg_format_mlflow_model.describe(dir, &text) == 0 && text)
			j = json_loads(text, 0, NULL);
		tap_ok(json_is_object(json_object_get(j, "flavors")), "%s: describe gives the flavors",
		       rel);
		json_decref(j);
		free(text);
	} else {
		(*exceptions)++;
		if (!tap_ok(all && errors == want, "%s: exactly the %zu expected error%s", rel, want,
			    want == 1 ? "" : "s"))
			dump(d, MREG_DIAG_ERROR);
	}
	mreg_diag_list_free(d);
	free(dir);
}

int main(int argc, char **argv)
{
	const char *given = argc > 1 ? argv[1] : getenv("MREG_MLFLOW_CORPUS");
	struct stat st;
	size_t accepted = 0, exceptions = 0;
	bool used[N_EXPECTED] = {false};

	if (!given || stat(given, &st) < 0 || !S_ISDIR(st.st_mode) || !realpath(given, corpus)) {
		printf("ok 1 # SKIP corpus not found at %s\n1..1\n", given ? given : "(no path given)");
		return 0;
	}
	if (nftw(corpus, collect, 16, FTW_PHYS) != 0) {
		printf("Bail out! cannot walk %s\n", corpus);
		return 1;
	}
	qsort(found, found_count, sizeof(*found), cmp_str);
	tap_tmpdir();
	/* SOURCE.md: "55 MLmodel texts". */
	tap_is_int(found_count, 55, "the corpus holds the 55 MLmodel texts SOURCE.md lists");
	for (size_t i = 0; i < found_count; i++)
		check_one(found[i], i, &accepted, &exceptions, used);
	for (size_t i = 0; i < N_EXPECTED; i++)
		if (!used[i])
			tap_ok(false, "expectation for %s (%s:%u:%u) matches a corpus file",
			       expected[i].mlmodel, expected[i].file, expected[i].line,
			       expected[i].column);
	printf("# %zu MLmodel texts: %zu accepted, %zu with the expected errors\n", found_count,
	       accepted, exceptions);
	for (size_t i = 0; i < found_count; i++)
		free(found[i]);
	free(found);
	return tap_done();
}
