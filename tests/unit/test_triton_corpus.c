/*
 * Conformance over Triton's own cases (../shared/corpus/triton, CASES.tsv):
 * every case marked static that Triton refuses must be refused with
 * Triton's expected text (the `expected*` files are grep regular
 * expressions), every valid one accepted. Skipped when the corpus is
 * absent. Cases run as Triton's harness runs them: noautofill_platform
 * cases lose their `platform:` lines and get each of three platforms
 * appended; config-only examples (published without model files) are
 * checked as configs.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mreg/diag.h"
#include "mreg/format.h"
#include "tap.h"
#include "triton/triton_model.h"

/* Cases where mreg knowingly differs from Triton, with the reason.
 * (None today; an entry here must say why.) */
static const struct {
	const char *case_dir;
	const char *reason;
} deviations[] = {
    {NULL, NULL},
};

static const char *deviation(const char *case_dir)
{
	for (size_t i = 0; deviations[i].case_dir; i++)
		if (!strcmp(deviations[i].case_dir, case_dir))
			return deviations[i].reason;
	return NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static void spew(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[32768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Does any error (or, with @severity, any diagnostic of it) match one of
 * the expected patterns of @dir? */
static bool matches(const mreg_diag_list *diags, const char *dir, const char *files,
                    mreg_diag_severity severity)
{
	char list[1024];
	bool hit = false;

	snprintf(list, sizeof(list), "%s", files);
	for (char *save = NULL, *f = strtok_r(list, ",", &save); f && !hit;
	     f = strtok_r(NULL, ",", &save)) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, f);
		char *text = slurp(path);
		if (!text)
			continue;
		for (char *s2 = NULL, *line = strtok_r(text, "\n", &s2); line && !hit;
		     line = strtok_r(NULL, "\n", &s2)) {
			regex_t re;
			if (!*line || regcomp(&re, line, REG_NOSUB))
				continue;
			for (size_t i = 0; i < mreg_diag_count(diags) && !hit; i++) {
				const mreg_diag *d = mreg_diag_get(diags, i);
				hit = d->severity == severity &&
				      !regexec(&re, d->message, 0, NULL, 0);
			}
			regfree(&re);
		}
		free(text);
	}
	return hit;
}

static void show(const mreg_diag_list *diags)
{
	for (size_t i = 0; i < mreg_diag_count(diags); i++) {
		char *s = mreg_diag_format(mreg_diag_get(diags, i));
		printf("#     %s\n", s ? s : "?");
		free(s);
	}
}

static mreg_diag_list *validate(const char *path, bool config_only)
{
	const mreg_format *fmt = mreg_format_find("triton_model");
	mreg_diag_list *diags = NULL;

	mreg_diag_list_new(&diags);
	if (config_only)
		triton_validate_config_only(path, diags);
	else
		mreg_format_validate(fmt, path, diags, NULL);
	return diags;
}

/* Triton's harness for noautofill_platform: delete every line holding
 * "platform:" and append a platform, without adding a newline first. */
static bool run_platform_variants(const char *work, const char *dir, const char *name,
                                  const char *files)
{
	static const char *const platforms[] = {"tensorrt_plan", "onnxruntime_onnx",
	                                        "pytorch_libtorch"};
	bool all = true;

	for (size_t p = 0; p < 3; p++) {
		char vdir[8192], cfg[8300];
		snprintf(vdir, sizeof(vdir), "%s/variant/%s", work, name);
		sh("rm -rf '%s' && mkdir -p '%s/variant' && cp -R '%s' '%s'", vdir, work, dir,
		   vdir);
		snprintf(cfg, sizeof(cfg), "%s/config.pbtxt", vdir);
		char *text = slurp(cfg);
		if (!text)
			return false;
		size_t len = strlen(text), o = 0;
		char *out = malloc(len + 64);
		for (char *line = text; *line;) {
			char *nl = strchr(line, '\n');
			size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
			if (!memmem(line, n, "platform:", 9)) {
				memcpy(out + o, line, n);
				o += n;
			}
			line += n;
		}
		o += (size_t)sprintf(out + o, "platform: \"%s\"\n", platforms[p]);
		out[o] = '\0';
		spew(cfg, out);
		free(out);
		free(text);
		mreg_diag_list *diags = validate(vdir, false);
		bool ok = matches(diags, dir, files, MREG_DIAG_ERROR);
		if (!ok) {
			printf("#   with platform %s, no error matches:\n", platforms[p]);
			show(diags);
		}
		all &= ok;
		mreg_diag_list_free(diags);
	}
	return all;
}

int main(void)
{
	const char *shared = getenv("MREG_SHARED_DIR");
	char corpus[1024], work[1024], tsv[1200];
	struct stat st;
	size_t inv_total = 0, inv_ok = 0, val_total = 0, val_ok = 0;
	size_t part_total = 0, part_ok = 0;

	snprintf(corpus, sizeof(corpus), "%s/corpus/triton", shared ? shared : "../shared");
	if (stat(corpus, &st) != 0) {
		printf("ok 1 - Triton conformance # SKIP %s is absent\n1..1\n", corpus);
		return 0;
	}
	snprintf(work, sizeof(work), "%s", tap_tmpdir());
	if (sh("sh '%s/materialize' '%s/corpus' >/dev/null", corpus, work) != 0) {
		printf("Bail out! materialize failed\n");
		return 1;
	}
	snprintf(tsv, sizeof(tsv), "%s/corpus/CASES.tsv", work);
	char *cases = slurp(tsv);
	if (!cases) {
		printf("Bail out! cannot read %s\n", tsv);
		return 1;
	}
	char *save = NULL;
	for (char *row = strtok_r(cases, "\n", &save); row; row = strtok_r(NULL, "\n", &save)) {
		char *col[7] = {0};
		size_t n = 0;
		for (char *p = row; n < 7; n++) {
			col[n] = p;
			char *tab = strchr(p, '\t');
			if (!tab) {
				n++;
				break;
			}
			*tab = '\0';
			p = tab + 1;
		}
		if (n < 4 || strncmp(col[3], "static", 6) || !strcmp(col[0], "case_dir"))
			continue;
		const char *case_dir = col[0], *status = col[1], *layout = col[2];
		const char *notes = n > 4 ? col[4] : "", *files = n > 5 ? col[5] : "";
		bool partial = strcmp(col[3], "static") != 0;
		char dir[8192];
		snprintf(dir, sizeof(dir), "%s/corpus/%s", work, case_dir);
		const char *name = strrchr(case_dir, '/') ? strrchr(case_dir, '/') + 1 : case_dir;
		bool ok;

		if (!strcmp(status, "invalid")) {
			if (strstr(notes, "appends platform")) {
				ok = run_platform_variants(work, dir, name, files);
			} else {
				mreg_diag_list *diags = validate(dir, false);
				ok = matches(diags, dir, files, MREG_DIAG_ERROR);
				if (!ok) {
					printf("#   no error matches the expected text:\n");
					show(diags);
				}
				mreg_diag_list_free(diags);
			}
		} else {
			mreg_diag_list *diags = validate(dir, !strcmp(layout, "config-only"));
			ok = mreg_diag_count_severity(diags, MREG_DIAG_ERROR) == 0;
			if (ok && !strcmp(status, "valid-with-warning"))
				ok = matches(diags, dir, files, MREG_DIAG_WARNING);
			if (!ok)
				show(diags);
			mreg_diag_list_free(diags);
		}
		const char *why = deviation(case_dir);
		if (partial) {
			part_total++;
			part_ok += ok;
		} else if (!strcmp(status, "invalid")) {
			inv_total++;
			inv_ok += ok;
		} else {
			val_total++;
			val_ok += ok;
		}
		if (why && !ok)
			printf("ok %d - %s %s # TODO known deviation: %s\n", ++tap_count, status,
			       case_dir, why);
		else
			tap_ok(ok, "%s %s%s", status, case_dir, partial ? " (static-partial)" : "");
	}
	free(cases);
	printf("# static invalid cases rejected with Triton's text: %zu of %zu\n", inv_ok,
	       inv_total);
	printf("# static valid cases accepted: %zu of %zu\n", val_ok, val_total);
	printf("# static-partial cases agreeing with Triton: %zu of %zu\n", part_ok, part_total);
	tap_ok(inv_total > 0 && val_total > 0, "the corpus has static cases");
	return tap_done();
}
