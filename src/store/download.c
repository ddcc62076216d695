/*
 * Writing a version's files out of the store. All or nothing: every file is
 * written and re-hashed in a staging folder first, and moved into place only
 * when all of them matched their digests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "mreg/registry.h"
#include "store_priv.h"
#include "util/strutil.h"

static int write_one(const mreg_store *s, const mreg_file *f, const char *stage,
		     stream_progress *progress)
{
	char *dest = path_join(stage, f->path), *parent = NULL;
	char got[MREG_DIGEST_STRLEN];
	uint8_t raw[SHA256_LEN];
	uint64_t size = 0;
	int in = -1, out = -1, rc;

	if (!dest)
		return mreg_seterr_nomem();
	parent = fs_dirname(dest);
	if (!parent) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = fs_mkdir_p(parent, 0755)))
		goto done;
	if ((rc = store_blob_open(s, f->digest, f->size, &in))) {
		rc = mreg_error_prefix(MREG_ECORRUPT, "%s", f->path);
		goto done;
	}
	out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = mreg_seterr_errno("%s", dest);
		goto done;
	}
	if ((rc = stream_copy(in, f->digest, out, f->path, raw, &size, progress)))
		goto done;
	digest_format(got, raw);
	if (strcmp(got, f->digest) || size != f->size) {
		rc = mreg_seterr(MREG_ECORRUPT,
				 "%s: blob %s does not match its digest (read %s, %llu bytes; "
				 "store corrupt? run mreg fsck)",
				 f->path, f->digest, got, (unsigned long long)size);
		goto done;
	}
	if (fchmod(out, f->mode) < 0) {
		rc = mreg_seterr_errno("%s: chmod", dest);
		goto done;
	}
	if (close(out) < 0) {
		out = -1;
		rc = mreg_seterr_errno("%s: write", dest);
		goto done;
	}
	out = -1;
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(dest);
	free(parent);
	return rc;
}

/* Refuse before writing anything when a file to write is in the way. */
static int check_free(const mreg_record *r, const char *dir)
{
	for (size_t i = 0; i < r->file_count; i++) {
		char *path = path_join(dir, r->files[i].path);
		int rc = 0;
		if (!path)
			return mreg_seterr_nomem();
		if (fs_exists(path))
			rc = mreg_seterr(MREG_EEXISTS, "%s: already exists (download never overwrites)",
					 path);
		free(path);
		if (rc)
			return rc;
	}
	return 0;
}

/* Move staged files into an existing folder; undo the moves if one fails. */
static int move_files(const mreg_record *r, const char *stage, const char *dir)
{
	size_t moved = 0;
	int rc = 0;

	for (; moved < r->file_count; moved++) {
		char *from = path_join(stage, r->files[moved].path);
		char *to = path_join(dir, r->files[moved].path);
		char *parent = to ? fs_dirname(to) : NULL;
		if (!from || !to || !parent)
			rc = mreg_seterr_nomem();
		else if (!(rc = fs_mkdir_p(parent, 0755)))
			rc = fs_rename_noreplace(from, to);
		free(from);
		free(to);
		free(parent);
		if (rc)
			break;
	}
	if (rc) {
		for (size_t i = 0; i < moved; i++) {
			char *to = path_join(dir, r->files[i].path);
			if (to)
				unlink(to);
			free(to);
		}
	}
	return rc;
}

int mreg_model_download(mreg_store *s, const mreg_record *r, const char *dir,
			mreg_progress_fn fn, void *ctx)
{
	stream_progress progress = {fn, ctx, 0, r->total_size};
	char *abs = fs_absolute(dir), *parent = NULL, *prefix = NULL, *stage = NULL;
	struct stat st;
	bool exists;
	int rc = 0;

	if (!abs)
		return mreg_seterr_nomem();
	exists = stat(abs, &st) == 0;
	if (exists && !S_ISDIR(st.st_mode)) {
		rc = mreg_seterr(MREG_EEXISTS, "%s: exists and is not a folder", dir);
		goto done;
	}
	if (exists) {
		if ((rc = check_free(r, abs)))
			goto done;
		prefix = str_printf("%s/.mreg-download-", abs);
	} else {
		parent = fs_dirname(abs);
		if (!parent) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		if ((rc = fs_mkdir_p(parent, 0755)))
			goto done;
		prefix = str_printf("%s.mreg-download-", abs);
	}
	rc = prefix ? fs_tmpdir(&stage, prefix, dir) : mreg_seterr_nomem();
	if (rc)
		goto done;
	for (size_t i = 0; i < r->file_count; i++) {
		if ((rc = write_one(s, &r->files[i], stage, &progress)))
			goto done;
		progress.base += r->files[i].size;
	}
	if (exists) {
		rc = move_files(r, stage, abs);
	} else {
		mode_t mask = umask(0);
		umask(mask);
		chmod(stage, 0777 & ~mask);
		rc = fs_rename_noreplace(stage, abs);
		if (rc == 0) {
			free(stage);
			stage = NULL;
		}
	}
done:
	if (stage) {
		fs_remove_tree(stage);
		free(stage);
	}
	free(abs);
	free(parent);
	free(prefix);
	return rc;
}
