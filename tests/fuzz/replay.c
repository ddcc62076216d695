/*
 * Replays a fuzz corpus through a fuzz target without libFuzzer, so that
 * an ordinary build runs every seed as a test (TAP, one line per input).
 * Link with exactly one file defining LLVMFuzzerTestOneInput.
 *
 *   replay [TARGET_NAME] CORPUS_DIR
 *
 * A crash or sanitizer report fails the test; reaching the end passes.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 2 ? argv[2] : argc > 1 ? argv[1] : NULL;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	if (!dir || !(d = opendir(dir))) {
		printf("Bail out! usage: %s [TARGET_NAME] CORPUS_DIR\n", argv[0]);
		return 2;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (!names || !(names[n] = strdup(e->d_name))) {
			printf("Bail out! out of memory\n");
			return 2;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		FILE *f;
		uint8_t *buf = NULL;
		size_t len = 0, cap = 0, got;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!(f = fopen(path, "rb"))) {
			printf("not ok %zu - %s: cannot open\n", i + 1, names[i]);
			continue;
		}
		do {
			if (len + 65536 > cap) {
				cap = cap ? cap * 2 : 65536;
				uint8_t *nb = realloc(buf, cap);
				if (!nb) {
					printf("Bail out! out of memory\n");
					return 2;
				}
				buf = nb;
			}
			got = fread(buf + len, 1, 65536, f);
			len += got;
		} while (got);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		printf("ok %zu - %s (%zu bytes)\n", i + 1, names[i], len);
		fflush(stdout);
		free(buf);
		free(names[i]);
	}
	free(names);
	return 0;
}
