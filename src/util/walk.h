/*
 * Walking a model's files: the one place that decides which files a model
 * path holds. The custom_model plugin reports its findings; ingest uses the
 * same list, so what is validated is what is stored.
 *
 * Rules: regular files are taken; empty folders are taken (with their
 * mode), since a version folder may have to exist empty (Triton's ensembles);
 * a symlink whose text is relative and stays inside the model folder is taken
 * as a link (walk_link_inside()); any other symlink whose target lies inside
 * the model folder is followed and stored as a copy of what it points to
 * (noted); symlinks that escape, dangle or loop are refused; FIFOs, sockets
 * and devices are refused; ".git" and ".mreg" directories are skipped
 * (noted). Paths are '/'-separated, sorted bytewise, valid UTF-8 without
 * control characters.
 */
#ifndef MREG_WALK_H
#define MREG_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mreg/diag.h"

typedef struct {
	char *rel;      /* path inside the model, '/'-separated */
	char *abs;      /* path to open */
	uint64_t size;
	unsigned int mode; /* permission bits */
	struct stat st; /* what the walk saw (a link's target): ingest's stat cache key */
} walk_file;

/* A folder that holds nothing the model keeps. */
typedef struct {
	char *rel;
	unsigned int mode; /* permission bits */
} walk_empty_dir;

/* A symlink kept as a link. */
typedef struct {
	char *rel;
	char *target;      /* its text, relative to its folder */
} walk_link;

typedef struct {
	char *root;        /* the model path as given */
	bool is_file;      /* the model is a single file */
	walk_file *files;  /* sorted by rel */
	size_t count;
	uint64_t total_size;
	walk_empty_dir *dirs; /* sorted by rel */
	size_t dir_count;
	walk_link *links;  /* sorted by rel */
	size_t link_count;
} walk_result;

/*
 * Walk @path. Problems go to @diags with codes "custom-..." (errors make
 * the walk unusable for ingest; the caller checks the error count).
 * Returns 0 when the walk ran, MREG_ENOTFOUND when @path does not exist,
 * MREG_ENOMEM.
 */
int walk_model(walk_result *out, const char *path, mreg_diag_list *diags);

/*
 * Vouches that a regular file in the state @st (as the walk's lstat, or the
 * stat of a followed link, saw it) can be read by this process, so that the
 * walk need not ask the kernel: see statcache_vouches().
 */
typedef bool (*walk_vouch_fn)(void *ctx, const struct stat *st);

/* walk_model(), asking @vouch (with @ctx) before checking a file is readable. */
int walk_model_vouched(walk_result *out, const char *path, mreg_diag_list *diags,
		       walk_vouch_fn vouch, void *ctx);

void walk_result_dispose(walk_result *res);

/*
 * The rule for keeping a symlink as a link, by its text alone: @target is
 * relative, non-empty, valid UTF-8 without control characters, and read from
 * the folder of @path (the link's place in the model) its ".." components
 * never climb above the model's root. Records and bundles are held to it too.
 */
bool walk_link_inside(const char *path, const char *target);

/*
 * A link @rel just made under @root (a model being written out) must resolve
 * to something inside @root: a chain of links that are each inside by their
 * text can still lead out. Returns 0, MREG_EINVALID when it escapes, dangles
 * or loops, MREG_ENOMEM.
 */
int walk_link_check(const char *root, const char *rel);

#endif
