/* The tree of hard links of a fetched model (see source_tree.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source_tree.h"
#include "store/ingest.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/strutil.h"

int source_add_file(mreg_fetched *f, const char *rel, const source_got *got)
{
	char *blob = NULL, *linked = NULL, *dir = NULL;
	int rc = 0;

	if (f->file_count == f->file_cap) {
		size_t cap = f->file_cap ? f->file_cap * 2 : 8;
		mreg_file *grown = realloc(f->files, cap * sizeof(*grown));
		if (!grown)
			return mreg_seterr_nomem();
		f->files = grown;
		f->file_cap = cap;
	}
	mreg_file *file = &f->files[f->file_count];
	memset(file, 0, sizeof(*file));
	if (!(file->path = strdup(rel)) || !(blob = path_join(f->stage, got->digest + 7)) ||
	    !(linked = str_printf("%s/%s/%s", f->stage, SOURCE_TREE_DIR, rel)) || !(dir = fs_dirname(linked))) {
		free(file->path);
		rc = mreg_seterr_nomem();
		goto done;
	}
	file->size = got->size;
	file->mode = 0644;
	memcpy(file->digest, got->digest, sizeof(file->digest));
	if ((rc = fs_mkdir_p(dir, 0755)))
		goto free_path;
	if (link(blob, linked) < 0) {
		rc = mreg_seterr_errno(errno == EEXIST ? "%s: two files of one path" : "%s: link",
				       linked);
		goto free_path;
	}
	f->file_count++;
	goto done;
free_path:
	free(file->path);
done:
	free(blob);
	free(linked);
	free(dir);
	return rc;
}
