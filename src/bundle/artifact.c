/*
 * The record of a ModelPack artifact: mreg's own when it wrote the artifact,
 * else one made from ModelPack's descriptor (docs/config.md of the
 * model-spec) and, once the files are laid out, the format plugins' verdict.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifact.h"
#include "mreg/diag.h"
#include "mreg/format.h"
#include "store/record_priv.h"
#include "store/store_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/stream.h"
#include "util/strutil.h"

#define CUSTOM_MODEL "custom_model"

static bool valid_name(const char *s)
{
	bool ok = s && mreg_name_check(s) == 0;

	mreg_error_clear();
	return ok;
}

static bool valid_version(const char *s)
{
	bool ok = s && mreg_version_check(s) == 0;

	mreg_error_clear();
	return ok;
}

/*
 * The first candidate given decides: copied into *out when valid, into *bad
 * otherwise (a descriptor.version that is no valid version is not replaced
 * by a tag behind the user's back).
 */
static int pick(char **out, char **bad, bool (*valid)(const char *), const char *const *cands,
		size_t n)
{
	*out = *bad = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		if (valid(cands[i]))
			return (*out = strdup(cands[i])) ? 0 : mreg_seterr_nomem();
		return (*bad = strdup(cands[i])) ? 0 : mreg_seterr_nomem();
	}
	return 0;
}

static int foreign_record(artifact_meta *a, mreg_record **out, const oci_manifest *m,
			  const oci_config *c, const char *ref, const char *tag)
{
	const char *names[] = {c->name, m->title};
	const char *versions[] = {c->version, m->version, tag};
	mreg_record *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return mreg_seterr_nomem();
	*out = r;
	a->foreign = true;
	r->source.git_dirty = -1;
	if ((rc = pick(&r->name, &a->bad_name, valid_name, names, 2)) ||
	    (rc = pick(&r->version, &a->bad_version, valid_version, versions, 3)))
		return rc;
	/* descriptor.revision and sourceURL are what mreg writes from git's commit and remote. */
	if ((c->description && !(r->description = strdup(c->description))) ||
	    (c->revision && !(r->source.git_commit = strdup(c->revision))) ||
	    (c->source_url && !(r->source.git_remote = strdup(c->source_url))) ||
	    !(r->source.kind = strdup("modelpack")) || (ref && !(r->source.path = strdup(ref))))
		return mreg_seterr_nomem();
	return 0;
}

int artifact_meta_read(artifact_meta *out, mreg_record **record, const oci_manifest *m,
		       const char *config, size_t len, const char *ref, const char *tag)
{
	oci_config c;
	int rc;

	memset(out, 0, sizeof(*out));
	*record = NULL;
	if ((rc = oci_config_parse(&c, config, len)))
		return rc;
	if (m->record_json)
		rc = oci_record_parse(record, &out->digest, m->record_json,
				      "manifest: " MREG_RECORD_ANNOTATION);
	else if (c.legacy)
		rc = oci_record_parse(record, &out->digest, c.legacy, "config: mreg");
	else
		rc = foreign_record(out, record, m, &c, ref, tag);
	oci_config_dispose(&c);
	if (rc) {
		artifact_meta_dispose(out);
		mreg_record_free(*record);
		*record = NULL;
	}
	return rc;
}

void artifact_meta_dispose(artifact_meta *a)
{
	free(a->digest);
	free(a->bad_name);
	free(a->bad_version);
	memset(a, 0, sizeof(*a));
}

static bool same_dirs(const mreg_record *a, const mreg_record *b)
{
	if (a->dir_count != b->dir_count)
		return false;
	for (size_t i = 0; i < a->dir_count; i++)
		if (strcmp(a->dirs[i].path, b->dirs[i].path) || a->dirs[i].mode != b->dirs[i].mode)
			return false;
	return true;
}

static bool same_links(const mreg_record *a, const mreg_record *b)
{
	if (a->link_count != b->link_count)
		return false;
	for (size_t i = 0; i < a->link_count; i++)
		if (strcmp(a->links[i].path, b->links[i].path) ||
		    strcmp(a->links[i].target, b->links[i].target))
			return false;
	return true;
}

int artifact_set_tree(const artifact_meta *a, mreg_record *r, model_tree *t, const char *what)
{
	mreg_record got = {0};
	char why[512];
	int rc;

	if ((rc = tree_move_to_record(t, &got))) {
		record_free_tree(&got);
		return rc;
	}
	/* mreg's record lists its empty folders and links; a tree layer must agree. */
	if (a->digest && (got.dir_count || got.link_count) &&
	    (!same_dirs(&got, r) || !same_links(&got, r))) {
		record_free_tree(&got);
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: the tree layer's folders and links are not the ones mreg's "
				   "record lists",
				   what);
	}
	if (!a->digest) {
		record_free_tree(r);
		r->dirs = got.dirs;
		r->dir_count = got.dir_count;
		r->links = got.links;
		r->link_count = got.link_count;
		got.dirs = NULL;
		got.links = NULL;
		got.dir_count = got.link_count = 0;
	}
	for (size_t i = 0; i < r->file_count; i++)
		free(r->files[i].path);
	free(r->files);
	r->files = got.files;
	r->file_count = got.file_count;
	got.files = NULL;
	got.file_count = 0;
	record_free_tree(&got);
	if ((rc = record_check_tree(r, true, why, sizeof(why))))
		return rc == MREG_EINVALID ? mreg_seterr(rc, "%s: %s", what, why) : rc;
	free(r->digest);
	r->digest = NULL;
	if ((rc = record_compute_digest(r)))
		return rc;
	if (a->digest && strcmp(a->digest, r->digest))
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: content digest %s in mreg's record, but the files give %s", what,
				   a->digest, r->digest);
	return 0;
}

int artifact_build(artifact_blobs *out, const mreg_record *r)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = layer_tree_build(&out->tree, r)) ||
	    (rc = oci_config_build(&out->config, r, &out->tree)) ||
	    (rc = oci_manifest_build(&out->manifest, r, &out->config, &out->tree)))
		artifact_blobs_dispose(out);
	return rc;
}

void artifact_blobs_dispose(artifact_blobs *b)
{
	oci_blob_dispose(&b->config);
	oci_blob_dispose(&b->manifest);
	oci_blob_dispose(&b->tree);
}

int artifact_name(const artifact_meta *a, mreg_record *r, const char *name, const char *version,
		  const char *default_name)
{
	if (!name && !r->name && valid_name(default_name))
		name = default_name;
	if (!name && !r->name) {
		if (a->bad_name) {
			mreg_name_check(a->bad_name);
			return mreg_error_prefix(MREG_EINVALID,
						 "the artifact's model name cannot be used (give -n "
						 "NAME)");
		}
		return mreg_seterr(MREG_EINVALID,
				   "the artifact does not name the model (no descriptor.name): give "
				   "-n NAME");
	}
	if (!version && !r->version) {
		if (a->bad_version) {
			mreg_version_check(a->bad_version);
			return mreg_error_prefix(MREG_EINVALID,
						 "the artifact's version cannot be used (give -v "
						 "VERSION)");
		}
		return mreg_seterr(MREG_EINVALID,
				   "the artifact does not say its version (no descriptor.version, "
				   "no tag): give -v VERSION");
	}
	return record_rename(r, name, version);
}

/* ---- looking at the files ---- */

static int copy_blob(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc;
	uint8_t raw[SHA256_LEN];
	uint64_t size;

	if (in < 0)
		return mreg_seterr_errno("%s", from);
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	rc = out < 0 ? mreg_seterr_errno("%s", to) : stream_copy(in, from, out, to, raw, &size, NULL);
	close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/*
 * Lay out the files of @r (blobs found as <dir>/<hex> in the first of
 * @blob_dirs that has them, hard-linked, or copied when linking is
 * refused), its empty folders and links under @tree, for a look at the files.
 */
static int link_tree(const mreg_record *r, const char *const *blob_dirs, size_t dir_count,
		     const char *tree)
{
	int rc;

	if ((rc = fs_mkdir_p(tree, 0755)))
		return rc;
	for (size_t i = 0; i < r->file_count && rc == 0; i++) {
		char *dest = path_join(tree, r->files[i].path), *parent = dest ? fs_dirname(dest) : NULL;
		char *blob = NULL;

		for (size_t k = 0; k < dir_count && !blob; k++) {
			blob = path_join(blob_dirs[k], r->files[i].digest + 7);
			if (blob && !fs_exists(blob)) {
				free(blob);
				blob = NULL;
			}
		}
		if (!dest || !parent)
			rc = mreg_seterr_nomem();
		else if (!blob)
			rc = mreg_seterr(MREG_ENOTFOUND, "%s: blob %s is missing", r->files[i].path,
					 r->files[i].digest);
		else if (!(rc = fs_mkdir_p(parent, 0755)) && link(blob, dest) < 0)
			rc = copy_blob(blob, dest); /* another file system, or no hard links */
		free(dest);
		free(parent);
		free(blob);
	}
	return rc ? rc : store_tree_write_extras(r, tree);
}

int artifact_detect_type(mreg_record *r, const char *tree)
{
	const mreg_format *f = NULL;
	mreg_diag_list *diags = NULL;
	char *meta = NULL;
	int rc;

	if ((rc = mreg_format_detect(&f, tree)))
		return rc;
	if (strcmp(f->name, CUSTOM_MODEL)) {
		/* Recognised, but a type mreg would refuse at create stays custom_model. */
		if ((rc = mreg_diag_list_new(&diags)) ||
		    (rc = mreg_format_validate(f, tree, diags, NULL)))
			goto done;
		if (mreg_diag_count_severity(diags, MREG_DIAG_ERROR))
			f = mreg_format_find(CUSTOM_MODEL);
	}
	/* custom_model too: its description is what the weight files' headers
	 * say, which create records for it as well. */
	if (f && f->describe && (rc = f->describe(tree, &meta)))
		goto done;
	free(r->type);
	free(r->format_json);
	r->format_json = meta;
	meta = NULL;
	if (!(r->type = strdup(f ? f->name : CUSTOM_MODEL)))
		rc = mreg_seterr_nomem();
done:
	free(meta);
	mreg_diag_list_free(diags);
	return rc;
}

int artifact_detect_staged(mreg_record *r, const char *const *blob_dirs, size_t dir_count,
			   const char *stage)
{
	char *tree = path_join(stage, ".tree");
	int rc;

	if (!tree)
		return mreg_seterr_nomem();
	rc = link_tree(r, blob_dirs, dir_count, tree);
	if (rc == 0)
		rc = artifact_detect_type(r, tree);
	fs_remove_tree(tree);
	free(tree);
	return rc;
}
