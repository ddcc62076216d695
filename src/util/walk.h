/*
 * Walking a model's files: the one place that decides which files a model
 * path holds. The custom_model plugin reports its findings; ingest uses the
 * same list, so what is validated is what is stored.
 *
 * Rules: regular files are taken; symlinks are followed when their target
 * stays inside the model folder and refused when they escape it or dangle;
 * FIFOs, sockets and devices are refused; ".git" and ".mreg" directories are
 * skipped (noted). Paths are '/'-separated, sorted bytewise, valid UTF-8
 * without control characters.
 */
#ifndef MREG_WALK_H
#define MREG_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mreg/diag.h"

typedef struct {
	char *rel;      /* path inside the model, '/'-separated */
	char *abs;      /* path to open */
	uint64_t size;
	unsigned int mode; /* permission bits */
} walk_file;

typedef struct {
	char *root;        /* the model path as given */
	bool is_file;      /* the model is a single file */
	walk_file *files;  /* sorted by rel */
	size_t count;
	uint64_t total_size;
} walk_result;

/*
 * Walk @path. Problems go to @diags with codes "custom-..." (errors make
 * the walk unusable for ingest; the caller checks the error count).
 * Returns 0 when the walk ran, MREG_ENOTFOUND when @path does not exist,
 * MREG_ENOMEM.
 */
int walk_model(walk_result *out, const char *path, mreg_diag_list *diags);

void walk_result_dispose(walk_result *res);

#endif
