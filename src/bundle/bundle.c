/*
 * What the commands do with a bundle once the reader (bundle_read.c) has
 * checked it: verify its signatures, import it into a store, or unpack it
 * into a folder with an Azure ML model.yml.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle_priv.h"
#include "oms_attach.h"
#include "store/checkout_copy.h"
#include "store/ingest.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "store/record_priv.h"
#include "store/store_priv.h"
#include "util/strutil.h"
#include "util/yamlutil.h"

#define SIDECAR_MAX 16384

const char *mreg_compression_name(mreg_compression c)
{
	switch (c) {
	case MREG_COMPRESS_GZIP: return "gzip";
	case MREG_COMPRESS_ZSTD: return "zstd";
	case MREG_COMPRESS_NONE: return "none";
	default: return "auto";
	}
}

int mreg_compression_parse(mreg_compression *out, const char *name)
{
	if (!strcmp(name, "none"))
		*out = MREG_COMPRESS_NONE;
	else if (!strcmp(name, "gzip") || !strcmp(name, "gz"))
		*out = MREG_COMPRESS_GZIP;
	else if (!strcmp(name, "zstd") || !strcmp(name, "zst"))
		*out = MREG_COMPRESS_ZSTD;
	else
		return mreg_seterr(MREG_EINVALID, "compression '%s': none, gzip or zstd expected", name);
	return 0;
}

/* ---- signatures ---- */

typedef struct {
	const char *file;
	char *path;           /* FILE.minisig */
	bool present;
	sign_minisig sig;     /* parsed when present */
} sidecar;

static int sidecar_open(sidecar *s, const char *file)
{
	char *text = NULL;
	size_t len;
	int rc;

	memset(s, 0, sizeof(*s));
	s->file = file;
	s->path = str_printf("%s%s", file, BUNDLE_SIDECAR_SUFFIX);
	if (!s->path)
		return mreg_seterr_nomem();
	rc = fs_read_small(&text, &len, s->path, SIDECAR_MAX, NULL);
	if (rc == MREG_ENOTFOUND && errno == ENOENT)
		return 0;
	if (rc == MREG_EINVALID)
		rc = mreg_seterr(MREG_EINVALID, "%s: not a minisign signature file", s->path);
	if (rc == 0 && (rc = sign_minisig_parse(&s->sig, text, len, s->path)) == 0)
		s->present = true;
	free(text);
	return rc;
}

static void sidecar_dispose(sidecar *s)
{
	sign_minisig_dispose(&s->sig);
	free(s->path);
}

/* The manifest's signature inside the bundle, checked with @pk. */
static int check_inner(const bundle_contents *c, const mreg_public_key *pk, const char *file)
{
	sign_minisig sig;
	char *where = str_printf("%s: %s", file, BUNDLE_MANIFEST_SIG);
	int rc;

	if (!where)
		return mreg_seterr_nomem();
	rc = sign_minisig_parse(&sig, c->signature, c->signature_len, where);
	if (rc == 0 && pk)
		rc = sign_minisig_verify(pk, &sig, NULL, (const uint8_t *)c->manifest_data,
					 c->manifest_len, where);
	sign_minisig_dispose(&sig);
	free(where);
	return rc;
}

static int check_signatures(mreg_bundle_info *info, const bundle_contents *c, sidecar *sc,
			    const mreg_public_key *pk)
{
	int rc;

	if (c->signature) {
		sign_minisig sig;
		info->manifest_signed = 1;
		if (sign_minisig_parse(&sig, c->signature, c->signature_len, BUNDLE_MANIFEST_SIG) == 0) {
			memcpy(info->key_id, sig.key_id, MREG_KEY_ID_STRLEN);
			sign_minisig_dispose(&sig);
		}
		if ((rc = check_inner(c, pk, sc->file)))
			return rc;
	}
	if (sc->present) {
		info->sidecar = 1;
		memcpy(info->sidecar_key_id, sc->sig.key_id, MREG_KEY_ID_STRLEN);
		if (pk) {
			if (sign_minisig_prehashed(&sc->sig) && c->prehashed)
				rc = sign_minisig_verify(pk, &sc->sig, c->file_prehash, NULL, 0, sc->path);
			else
				rc = mreg_verify_file(pk, sc->file, sc->path, NULL);
			if (rc)
				return rc;
		}
	}
	if (!pk)
		return 0;
	if (!c->signature && !sc->present)
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: not signed (no %s inside, no %s beside it): refused with a "
				   "public key",
				   sc->file, BUNDLE_MANIFEST_SIG, sc->path);
	info->signature_verified = 1;
	return 0;
}

static void fill_info(mreg_bundle_info *info, const bundle_contents *c)
{
	memcpy(info->manifest_digest, c->manifest_digest, MREG_DIGEST_STRLEN);
	info->bundle_size = c->file_size;
	info->compression = c->compression;
	info->file_count = c->record->file_count;
	info->total_size = c->record->total_size;
}

static int check_read_options(const mreg_bundle_read_options *o)
{
	int rc;

	if (!o || (o->version != 1 && o->version != MREG_BUNDLE_READ_OPTIONS_VERSION))
		return mreg_seterr(MREG_EINVALID, "bundle read options: unknown version");
	if ((o->name && (rc = mreg_name_check(o->name))) ||
	    (o->model_version && (rc = mreg_version_check(o->model_version))))
		return rc;
	return 0;
}

/* Early checks while the layers are still to come: a bad signature ends it now. */
typedef struct {
	const mreg_bundle_read_options *opts;
	const char *file;
	mreg_store *store; /* import only */
} early_ctx;

static int on_metadata(void *ctx, const bundle_contents *c)
{
	early_ctx *ec = ctx;
	int rc;

	if (ec->opts->pubkey && c->signature && (rc = check_inner(c, ec->opts->pubkey, ec->file)))
		return rc;
	/* The record's own fields against mreg/limits.h before any layer is
	 * read (the files are checked with the rest when the version lands). */
	if (ec->store && (rc = record_check_limits(c->record, NULL, 0, ec->file)))
		return rc;
	/* Another tool's artifact: its content digest is known only once its layers are read. */
	if (ec->store && c->meta.digest) {
		const char *name = ec->opts->name ? ec->opts->name : c->record->name;
		const char *version = ec->opts->model_version ? ec->opts->model_version
							      : c->record->version;
		mreg_record *existing = NULL;
		rc = ingest_existing(ec->store, name, version, c->meta.digest, "import", &existing);
		mreg_record_free(existing);
		return rc;
	}
	return 0;
}

/* The OMS signatures attached as referrers, against the PEM keys given (version 2 options). */
static int check_oms(mreg_bundle_info *info, const bundle_contents *c, const char *file,
		     const mreg_bundle_read_options *o)
{
	const char **data;
	size_t *lens;
	int rc;

	info->oms_signatures = c->oms_count;
	if (o->version < 2 || !o->oms_key_count)
		return 0;
	data = calloc(c->oms_count + 1, sizeof(*data));
	lens = calloc(c->oms_count + 1, sizeof(*lens));
	if (!data || !lens) {
		free(data);
		free(lens);
		return mreg_seterr_nomem();
	}
	for (size_t i = 0; i < c->oms_count; i++) {
		data[i] = c->oms[i].data;
		lens[i] = c->oms[i].len;
	}
	rc = oms_attached_verify(data, lens, c->oms_count, c->record, o->oms_keys, o->oms_key_count,
				 file);
	info->oms_verified = rc == 0;
	free(data);
	free(lens);
	return rc;
}

/* Read @file with staging in @stage (or none), then check the signatures. */
static int read_checked(bundle_contents *c, mreg_bundle_info *info, const char *file,
			const char *stage, const mreg_bundle_read_options *o, mreg_store *store)
{
	early_ctx ec = {o, file, store};
	char *abs = fs_absolute(file);
	bundle_read_opts ro = {
		.stage = stage,
		.ref = abs,
		.progress = o->progress,
		.progress_ctx = o->progress_ctx,
		.on_metadata = on_metadata,
		.ctx = &ec,
	};
	sidecar sc;
	int rc;

	if (!abs)
		return mreg_seterr_nomem();
	if ((rc = sidecar_open(&sc, file))) {
		free(abs);
		return rc;
	}
	/* The file's own hash, for FILE.minisig, is taken in the same pass. */
	ro.prehash_file = o->pubkey && sc.present && sign_minisig_prehashed(&sc.sig);
	rc = bundle_read_file(c, file, &ro);
	if (rc == 0)
		rc = check_signatures(info, c, &sc, o->pubkey);
	if (rc == 0)
		rc = check_oms(info, c, file, o);
	if (rc == 0)
		fill_info(info, c);
	else
		bundle_contents_dispose(c);
	sidecar_dispose(&sc);
	free(abs);
	return rc;
}

int mreg_bundle_verify(mreg_bundle_info *info, mreg_record **out, const char *file,
		       const mreg_bundle_read_options *o)
{
	mreg_bundle_info own;
	bundle_contents c;
	int rc;

	if (!info)
		info = &own;
	memset(info, 0, sizeof(*info));
	if (out)
		*out = NULL;
	if ((rc = check_read_options(o)))
		return rc;
	rc = read_checked(&c, info, file, NULL, o, NULL);
	if (rc)
		return rc;
	if (out) {
		*out = c.record;
		c.record = NULL;
	}
	bundle_contents_dispose(&c);
	return 0;
}

/* ---- import ---- */

int mreg_bundle_import(mreg_bundle_info *info, mreg_record **out, mreg_store *store,
		       const char *file, const mreg_bundle_read_options *o)
{
	mreg_bundle_info own;
	bundle_contents c = {0};
	const char *sig_data[MREG_KEPT_SIGNATURES_MAX];
	size_t sig_lens[MREG_KEPT_SIGNATURES_MAX];
	kept_sigs_incoming sigs = {.data = sig_data, .lens = sig_lens};
	char *stage = NULL;
	bool ingesting = false;
	int rc;

	if (!info)
		info = &own;
	memset(info, 0, sizeof(*info));
	if (out)
		*out = NULL;
	if ((rc = check_read_options(o)))
		return rc;
	/* Shared ingest lock: gc waits, so it never takes our staged blobs. */
	if ((rc = store_ingest_lock(store, false)))
		return rc;
	ingesting = true;
	if ((rc = ingest_stage_create(store, "import", &stage)))
		goto done;
	if ((rc = read_checked(&c, info, file, stage, o, store)) ||
	    (rc = artifact_name(&c.meta, c.record, o->name, o->model_version, NULL)))
		goto done;
	if (c.meta.foreign &&
	     (rc = artifact_detect_staged(c.record, (const char *const[]){stage}, 1, stage)))
		goto done;
	for (size_t i = 0; i < c.oms_count && i < MREG_KEPT_SIGNATURES_MAX; i++) {
		sig_data[i] = c.oms[i].data;
		sig_lens[i] = c.oms[i].len;
	}
	sigs.count = c.oms_count < MREG_KEPT_SIGNATURES_MAX ? c.oms_count : MREG_KEPT_SIGNATURES_MAX;
	/* The staged blobs were written unsynced: all durable before any lands. */
	if ((rc = ingest_stage_sync(stage)) ||
	    (rc = ingest_land_version(store, &c.record, stage, "import", &sigs, &info->unchanged,
				      &info->blobs_added)))
		goto done;
	info->oms_kept = sigs.kept;
	info->oms_dropped = sigs.dropped;
	memcpy(info->oms_dropped_why, sigs.why, sizeof(info->oms_dropped_why));
	if (out) {
		*out = c.record;
		c.record = NULL;
	}
done:
	if (stage) {
		fs_remove_tree(stage);
		free(stage);
	}
	if (ingesting)
		store_ingest_unlock(store);
	kept_sigs_incoming_dispose(&sigs);
	bundle_contents_dispose(&c);
	return rc;
}

/* ---- unpack ---- */

#define AZURE_MODEL_SCHEMA "https://azuremlschemas.azureedge.net/latest/model.schema.json"

static int write_model_yml(const mreg_record *r, const char *path, const char *tmpdir)
{
	yu_writer w;
	char *text;
	size_t len = 0;
	int rc;

	yu_writer_init(&w);
	yu_map_start(&w);
	yu_kv(&w, "$schema", AZURE_MODEL_SCHEMA);
	yu_kv(&w, "name", r->name);
	yu_kv(&w, "version", r->version);
	yu_kv(&w, "type", r->type);
	yu_kv(&w, "path", "model");
	if (r->description)
		yu_kv(&w, "description", r->description);
	if (r->stage)
		yu_kv(&w, "stage", r->stage);
	if (r->tag_count) {
		yu_str(&w, "tags");
		yu_map_start(&w);
		for (size_t i = 0; i < r->tag_count; i++)
			yu_kv(&w, r->tags[i].key, r->tags[i].value);
		yu_map_end(&w);
	}
	if (r->property_count) {
		yu_str(&w, "properties");
		yu_map_start(&w);
		for (size_t i = 0; i < r->property_count; i++)
			yu_kv(&w, r->properties[i].key, r->properties[i].value);
		yu_map_end(&w);
	}
	yu_map_end(&w);
	text = yu_writer_finish(&w, &len);
	yu_writer_dispose(&w);
	if (!text)
		return mreg_seterr(MREG_EIO, "%s: cannot write the model YAML", path);
	rc = fs_write_atomic(path, text, len, tmpdir, true);
	free(text);
	return rc;
}

/*
 * Copy a file already written (a second path with the same content): the put
 * in place of download (copy_file_range on a second thread, the target hashed
 * as it fills), so the copy is checked where it landed.
 */
static int copy_file(const char *from, const char *to, const mreg_file *f)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc;
	checkout_copy_job job = {.in_name = from, .out_name = to, .digest = f->digest,
				 .size = f->size, .hint = "; changed while unpacked?"};

	if (in < 0)
		return mreg_seterr_errno("%s", from);
	out = open(to, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = mreg_seterr_errno("%s", to);
		goto done;
	}
	rc = checkout_copy_verified(in, out, &job);
done:
	close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* Lay the model out under @root: files from the staged blobs in @blobs, then folders and links. */
static int build_tree(const mreg_record *r, const char *blobs, const char *root)
{
	char **first = calloc(r->file_count + 1, sizeof(*first));
	char *made = NULL; /* the last folder made: files of one folder come together */
	int rc = 0;

	if (!first)
		return mreg_seterr_nomem();
	if ((rc = fs_mkdir_p(root, 0755)))
		goto done;
	for (size_t i = 0; i < r->file_count && rc == 0; i++) {
		const mreg_file *f = &r->files[i];
		char *dest = path_join(root, f->path), *parent = dest ? fs_dirname(dest) : NULL;
		char *blob = path_join(blobs, f->digest + 7);
		const char *earlier = NULL;

		for (size_t k = 0; k < i && !earlier; k++)
			if (first[k] && !strcmp(r->files[k].digest, f->digest))
				earlier = first[k];
		if (!dest || !parent || !blob)
			rc = mreg_seterr_nomem();
		else if (!(made && !strcmp(made, parent)) && !(rc = fs_mkdir_p(parent, 0755))) {
			free(made);
			made = parent;
			parent = NULL;
		}
		if (rc == 0) {
			if (earlier)
				rc = copy_file(earlier, dest, f);
			else if (rename(blob, dest) < 0)
				rc = mreg_seterr_errno("%s: rename", dest);
		}
		if (rc == 0 && !earlier) {
			first[i] = dest;
			dest = NULL;
		}
		free(dest);
		free(parent);
		free(blob);
	}
	/* Modes last: a copy reads the first file, which may be made unreadable. */
	for (size_t i = 0; i < r->file_count && rc == 0; i++) {
		char *dest = path_join(root, r->files[i].path);
		if (!dest)
			rc = mreg_seterr_nomem();
		else if (chmod(dest, r->files[i].mode) < 0)
			rc = mreg_seterr_errno("%s: chmod", dest);
		free(dest);
	}
	/* Empty folders and links from the record, each link checked to stay inside. */
	if (rc == 0 && (rc = store_tree_write_extras(r, root)) == 0)
		rc = store_tree_dir_modes(r, root);
done:
	for (size_t i = 0; i < r->file_count; i++)
		free(first[i]);
	free(first);
	free(made);
	return rc;
}

static int dir_state(const char *dir, bool *exists)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	*exists = false;
	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : mreg_seterr_errno("%s", dir);
	if (!S_ISDIR(st.st_mode))
		return mreg_seterr(MREG_EEXISTS, "%s: exists and is not a folder", dir);
	*exists = true;
	if (!(d = opendir(dir)))
		return mreg_seterr_errno("%s", dir);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			rc = mreg_seterr(MREG_EEXISTS,
					 "%s: the folder is not empty (unpack never overwrites)", dir);
			break;
		}
	closedir(d);
	return rc;
}

int mreg_bundle_unpack(mreg_bundle_info *info, mreg_record **out, const char *file,
		       const char *dir, const mreg_bundle_read_options *o)
{
	mreg_bundle_info own;
	bundle_contents c = {0};
	char *abs = NULL, *parent = NULL, *stage = NULL, *blobs = NULL, *tree = NULL;
	char *model = NULL, *yml = NULL, *to_model = NULL, *to_yml = NULL;
	bool exists;
	int rc;

	if (!info)
		info = &own;
	memset(info, 0, sizeof(*info));
	if (out)
		*out = NULL;
	if ((rc = check_read_options(o)))
		return rc;
	abs = fs_absolute(dir);
	parent = abs ? fs_dirname(abs) : NULL;
	if (!abs || !parent) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = dir_state(abs, &exists)) || (rc = fs_mkdir_p(parent, 0755)))
		goto done;
	/* Staged beside the target, so the final moves are renames on one file system. */
	char *prefix = str_printf("%s.mreg-unpack-", abs);
	rc = prefix ? fs_tmpdir(&stage, prefix, parent) : mreg_seterr_nomem();
	free(prefix);
	if (rc)
		goto done;
	blobs = path_join(stage, "blobs");
	tree = path_join(stage, "out");
	model = tree ? path_join(tree, "model") : NULL;
	yml = tree ? path_join(tree, "model.yml") : NULL;
	if (!blobs || !tree || !model || !yml) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (mkdir(blobs, 0700) < 0) {
		rc = mreg_seterr_errno("%s", blobs);
		goto done;
	}
	if ((rc = read_checked(&c, info, file, blobs, o, NULL)) ||
	    (rc = artifact_name(&c.meta, c.record, o->name, o->model_version, NULL)))
		goto done;
	/* Files, empty folders and links (the record's), then a foreign type. */
	if ((rc = build_tree(c.record, blobs, model)) ||
	    (c.meta.foreign && (rc = artifact_detect_type(c.record, model))) ||
	    (rc = write_model_yml(c.record, yml, stage)))
		goto done;
	if (!exists) {
		mode_t mask = umask(0);
		umask(mask);
		chmod(tree, 0777 & ~mask);
		rc = fs_rename_noreplace(tree, abs);
	} else {
		to_model = path_join(abs, "model");
		to_yml = path_join(abs, "model.yml");
		if (!to_model || !to_yml)
			rc = mreg_seterr_nomem();
		else if (!(rc = fs_rename_noreplace(model, to_model)) &&
			 (rc = fs_rename_noreplace(yml, to_yml)))
			fs_remove_tree(to_model);
	}
	if (rc)
		goto done;
	if (out) {
		*out = c.record;
		c.record = NULL;
	}
done:
	if (stage) {
		fs_remove_tree(stage);
		free(stage);
	}
	bundle_contents_dispose(&c);
	free(abs);
	free(parent);
	free(blobs);
	free(tree);
	free(model);
	free(yml);
	free(to_model);
	free(to_yml);
	return rc;
}
