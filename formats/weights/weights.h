/*
 * Weight files: header-level checks of safetensors, GGUF and ONNX files, run
 * by every format plugin over the files of the model it validates, and what
 * those headers say (format, tensors, parameters, dtypes) for describe().
 *
 * The readers never read tensor data. Every length, count and offset in a
 * header is checked against the file's size before it is used, with
 * overflow-checked arithmetic, and what is kept in memory is bounded (the
 * limits below). One file per format, each citing the reference it follows:
 *   safetensors.c  huggingface/safetensors, safetensors/src/tensor.rs
 *                  (SafeTensors::read_metadata, Metadata::validate)
 *   gguf.c         ggml's docs/gguf.md and ggml/src/gguf.cpp (gguf_init_from_reader)
 *   onnx.c         onnx/onnx.proto (ModelProto, GraphProto, TensorProto) read with a
 *                  hand-written protobuf wire walker; onnx/checker.cc for the rules
 *   weights.c      the byte source, the tally, the walk over a model, describe()
 *
 * Diagnostic codes: "safetensors-*", "gguf-*", "onnx-*", "weights-unreadable"
 * (man/mreg-formats.7.scd lists each).
 */
#ifndef MREG_WEIGHTS_H
#define MREG_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mreg/diag.h"
#include "util/walk.h"

/* safetensors' own bound (MAX_HEADER_SIZE in tensor.rs). */
#define WEIGHTS_SAFETENSORS_MAX_HEADER 100000000u
/* Per file, problems past this many are summed up in one note. */
#define WEIGHTS_MAX_DIAGS 20
/* Distinct dtypes a tally keeps (every format has fewer). */
#define WEIGHTS_MAX_DTYPES 64

/*
 * Where a reader gets its bytes: an open file read with pread() through a
 * 64 KiB window, or a buffer (the fuzz targets). bytes_read counts what was
 * read from the file, so tests and bench/ can show that data is skipped.
 */
typedef struct {
	int fd;                   /* -1 when mem is the source */
	const unsigned char *mem;
	uint64_t size;
	uint64_t bytes_read;
	int err;                  /* errno of a failed read, 0 */
	unsigned char *win;       /* the window (malloc'd on first use) */
	uint64_t win_off;
	size_t win_len;
} wsrc;

void wsrc_init_fd(wsrc *s, int fd, uint64_t size);
void wsrc_init_mem(wsrc *s, const void *data, size_t size);
void wsrc_dispose(wsrc *s);

/* What wsrc_get returns. */
enum { WSRC_OK = 0, WSRC_EOF = -1, WSRC_EIO = -2 };
/* Copy @n bytes at @off into @buf: WSRC_OK, WSRC_EOF when they pass the end
 * of the source, WSRC_EIO when the file cannot be read (s->err). */
int wsrc_get(wsrc *s, uint64_t off, void *buf, size_t n);

/* One dtype of a file: its name in the format, ModelPack's precision name. */
typedef struct {
	const char *name;      /* static, e.g. "BF16", "Q4_K", "FLOAT16" */
	const char *precision; /* static, e.g. "bfloat16", "q4_k" */
	uint64_t tensors;
	uint64_t parameters;
} wdtype;

/* What a reader learned from a valid header. Counts saturate at UINT64_MAX. */
typedef struct {
	const char *format;    /* "safetensors", "gguf", "onnx" */
	uint64_t tensors;
	uint64_t parameters;
	wdtype dtypes[WEIGHTS_MAX_DTYPES];
	size_t ndtypes;
	char architecture[64]; /* GGUF general.architecture, "" otherwise */
} winfo;

/* Count @tensors tensors of @params elements each way under @name. */
void winfo_add(winfo *info, const char *name, const char *precision, uint64_t params);

/*
 * A reader's context: where to report and how much has been reported.
 * diag() keeps to WEIGHTS_MAX_DIAGS per file; wdiag_finish() adds the note
 * for the rest. rc is MREG_ENOMEM once a diagnostic could not be added.
 */
typedef struct {
	mreg_diag_list *diags;
	const char *file;      /* as diagnostics name it */
	size_t count, dropped;
	size_t errors;
	int rc;
} wdiag;

void wdiag_add(wdiag *d, mreg_diag_severity sev, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The error for a wsrc_get failure at @off reading @what. */
void wdiag_read(wdiag *d, const wsrc *s, const char *code, int got, uint64_t off,
		const char *what);
void wdiag_finish(wdiag *d);

/*
 * Check a safetensors / GGUF file. Problems go to @d (d->errors counts the
 * errors); @info is filled when the header is valid. Returns 0 when the check
 * ran, MREG_ENOMEM.
 */
int weights_check_safetensors(wsrc *src, wdiag *d, winfo *info);
int weights_check_gguf(wsrc *src, wdiag *d, winfo *info);

/*
 * How the ONNX reader learns the size of an external data file, given its
 * path relative to the model's root: 0 and *size when the model holds it as a
 * regular file, -1 when it does not (with *why saying how: "no such file in
 * the model", ...).
 */
typedef int (*weights_lookup_fn)(void *ctx, const char *rel, uint64_t *size, const char **why);

/*
 * Check an ONNX file whose path inside the model is @rel (its folder is
 * where external data is looked up, through @lookup). Returns as above.
 */
int weights_check_onnx(wsrc *src, wdiag *d, winfo *info, const char *rel, weights_lookup_fn lookup,
		       void *lookup_ctx);

/* "safetensors", "gguf" or "onnx" when @path's name says so (any letter case), else NULL. */
const char *weights_format_of(const char *path);

/*
 * Check every weight file of a walked model (files and links kept as links),
 * appending diagnostics. Returns 0, MREG_ENOMEM.
 */
int weights_check_walk(const walk_result *walk, mreg_diag_list *diags);

/*
 * describe(): add a "weights" object (format, tensors, parameters, precision,
 * one entry per valid weight file) to the JSON object text *json (NULL: a new
 * object), when @path holds weight files. Files that do not pass are left
 * out. Returns 0, MREG_ENOMEM.
 */
int weights_describe_add(const char *path, char **json);

/* The same over a walk of the model made already. */
int weights_describe_walk(const walk_result *walk, char **json);

/*
 * Check one file of @size bytes read from @src (fuzzing, tests), as a file
 * of @format called @rel. Returns as weights_check_*.
 */
int weights_check_source(const char *format, wsrc *src, const char *rel, mreg_diag_list *diags,
			 winfo *info);

#endif
