/* Model versions: create, read, list, update, archive, delete. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mreg/limits.h"
#include "util/error_priv.h"
#include "formats.h"
#include "util/fsutil.h"
#include "gitinfo.h"
#include "ingest.h"
#include "mreg/registry.h"
#include "record_iter.h"
#include "record_priv.h"
#include "kept_signatures.h"
#include "statcache.h"
#include "store_priv.h"
#include "util/strutil.h"
#include "util/url.h"

/* ---- reading ---- */

int store_read_version(mreg_record **out, mreg_store *s, const char *name, const char *version)
{
	char *path = store_record_path(s, name, version);
	int rc;

	*out = NULL;
	if (!path)
		return mreg_seterr_nomem();
	rc = record_read_file(out, path);
	if (rc == MREG_ENOTFOUND) {
		char *dir = store_model_dir(s, name);
		char *tomb = str_printf("%s/%s/%s.deleted", s->models, name, version);
		if (tomb && fs_exists(tomb))
			rc = mreg_seterr(MREG_ENOTFOUND, "model %s version %s was deleted", name, version);
		else if (dir && fs_exists(dir) && !strcasecmp(version, "latest"))
			rc = mreg_seterr(MREG_ENOTFOUND,
					 "model %s has no version %s (%s@latest names its latest "
					 "version)",
					 name, version, name);
		else if (dir && fs_exists(dir))
			rc = mreg_seterr(MREG_ENOTFOUND, "model %s has no version %s", name, version);
		else
			rc = mreg_seterr(MREG_ENOTFOUND, "no model named %s", name);
		free(dir);
		free(tomb);
	} else if (rc == 0 && (strcmp((*out)->name, name) || strcmp((*out)->version, version))) {
		rc = mreg_seterr(MREG_ECORRUPT, "%s: holds %s:%s, not %s:%s", path, (*out)->name,
				 (*out)->version, name, version);
		mreg_record_free(*out);
		*out = NULL;
	}
	free(path);
	return rc;
}

static int cmp_records(const void *a, const void *b)
{
	const mreg_record *x = *(mreg_record *const *)a, *y = *(mreg_record *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : record_cmp_created(x, y);
}

/* mreg_model_list()'s gathering: the records its filter keeps, each taken from the walk. */
typedef struct {
	mreg_list_filter filter;
	mreg_record **recs;
	size_t n, cap;
	mreg_list_error_fn on_error;
	void *ctx;
} list_gather;

static int gather(void *ctx, mreg_record **r)
{
	list_gather *g = ctx;

	if ((g->filter == MREG_LIST_ACTIVE && (*r)->archived) ||
	    (g->filter == MREG_LIST_ARCHIVED && !(*r)->archived))
		return 0;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		mreg_record **grown = realloc(g->recs, cap * sizeof(*grown));
		if (!grown)
			return mreg_seterr_nomem();
		g->recs = grown;
		g->cap = cap;
	}
	g->recs[g->n++] = *r;
	*r = NULL;
	return 0;
}

static void gather_damaged(void *ctx, const char *path, int code, const char *message)
{
	list_gather *g = ctx;

	if (g->on_error)
		g->on_error(g->ctx, path, code, message);
}

int mreg_model_list(mreg_record ***out, size_t *count, mreg_store *s, const char *name,
		    mreg_list_filter filter, mreg_list_error_fn on_error, void *ctx)
{
	list_gather g = {.filter = filter, .on_error = on_error, .ctx = ctx};
	int rc;

	*out = NULL;
	*count = 0;
	/* The same walk as gc and fsck (record_iter.h), each record kept. */
	rc = store_each_record(s, name, false, gather, NULL, gather_damaged, &g);
	if (rc && rc != MREG_ECORRUPT) {
		mreg_record_array_free(g.recs, g.n);
		return rc;
	}
	if (g.n > 1)
		qsort(g.recs, g.n, sizeof(*g.recs), cmp_records);
	*out = g.recs;
	*count = g.n;
	return rc; /* MREG_ECORRUPT: some records could not be read (message set) */
}

/* Newest first: created_at, then version, as record_cmp_created() orders them, reversed. */
static int newest_first(const version_peek *x, const version_peek *y)
{
	int c = strcmp(y->peek.created_at, x->peek.created_at);

	return c ? c : record_version_cmp(y->version, x->version);
}

static int by_newest(const void *a, const void *b)
{
	return newest_first(*(const version_peek *const *)a, *(const version_peek *const *)b);
}

/*
 * NAME@latest from a peek at each record's first lines (record_peek_file),
 * reading whole only the newest active one. The answer is the one the full
 * listing gives: the candidates are tried newest first, a damaged one is
 * passed over as the listing passes over it, and whenever the peeks cannot
 * vouch for that (a peek failed, no candidate reads whole, the record read
 * whole disagrees with its peek because it changed meanwhile) it returns 1
 * and the caller reads every record. 0 with *out set, 1, or MREG_ENOMEM.
 */
static int latest_by_peek(mreg_record **out, mreg_store *s, const char *name)
{
	version_peek *versions = NULL;
	const version_peek **live = NULL;
	size_t n = 0, nlive = 0;
	int rc = store_peek_versions(&versions, &n, s, name, true);

	if (rc == MREG_ENOMEM)
		return rc;
	if (rc || n == 0) {
		rc = 1;
		goto done;
	}
	if (!(live = calloc(n, sizeof(*live)))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	rc = 1;
	for (size_t i = 0; i < n; i++) {
		if (versions[i].peek_rc)
			goto done; /* 1: the full listing decides */
		if (!versions[i].peek.archived)
			live[nlive++] = &versions[i];
	}
	if (nlive > 1)
		qsort(live, nlive, sizeof(*live), by_newest);
	for (size_t i = 0; i < nlive; i++) {
		mreg_record *r = NULL;
		int err = store_read_version(&r, s, name, live[i]->version);
		if (err == MREG_ENOMEM) {
			rc = err;
			goto done;
		}
		if (err)
			continue; /* damaged: the listing passes over it too */
		if (r->archived || strcmp(r->created_at, live[i]->peek.created_at)) {
			mreg_record_free(r); /* changed since the peek */
			goto done;
		}
		*out = r;
		rc = 0;
		goto done;
	}
done:
	if (rc == 1)
		mreg_error_clear();
	free(live);
	store_free_version_peeks(versions, n);
	return rc;
}

int mreg_model_same_content(char **version, mreg_store *s, const mreg_record *record)
{
	version_peek *versions = NULL;
	const version_peek *best = NULL;
	size_t n = 0;
	int rc;

	*version = NULL;
	rc = store_peek_versions(&versions, &n, s, record->name, true);
	if (rc == MREG_ENOMEM)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const version_peek *v = &versions[i];
		if (!strcmp(v->version, record->version))
			continue;
		if (v->peek_rc || strcmp(v->peek.digest, record->digest))
			continue; /* unreadable records are passed over */
		if (!best || newest_first(v, best) < 0)
			best = v;
	}
	rc = 0;
	if (best && !(*version = strdup(best->version)))
		rc = mreg_seterr_nomem();
	if (rc == 0)
		mreg_error_clear(); /* an unlistable folder is no other version */
	store_free_version_peeks(versions, n);
	return rc;
}

int mreg_model_get(mreg_record **out, mreg_store *s, const char *text)
{
	mreg_ref ref;
	mreg_record **all = NULL, *best = NULL;
	size_t n = 0, archived = 0;
	int rc;

	*out = NULL;
	if ((rc = mreg_ref_parse(&ref, text)))
		return rc;
	if (ref.version) {
		rc = store_read_version(out, s, ref.name, ref.version);
		goto done;
	}
	if (ref.alias) {
		char *version = NULL;
		if ((rc = store_alias_read(s, ref.name, ref.alias, &version)))
			goto done;
		rc = store_read_version(out, s, ref.name, version);
		if (rc == MREG_ENOTFOUND)
			rc = mreg_seterr(MREG_ENOTFOUND,
					 "%s@%s names version %s, which is not there any more (mreg "
					 "alias %s:VERSION %s moves it)",
					 ref.name, ref.alias, version, ref.name, ref.alias);
		free(version);
		goto done;
	}
	/* @latest: the most recently created version that is not archived. */
	if ((rc = latest_by_peek(out, s, ref.name)) <= 0)
		goto done;
	rc = mreg_model_list(&all, &n, s, ref.name, MREG_LIST_ALL, NULL, NULL);
	if (rc && rc != MREG_ECORRUPT)
		goto done;
	for (size_t i = 0; i < n; i++) {
		if (all[i]->archived)
			archived++;
		else
			best = all[i];
	}
	if (best) {
		rc = record_copy(out, best);
	} else if (rc == MREG_ECORRUPT) {
		rc = mreg_seterr(MREG_ECORRUPT, "model %s: its records cannot be read (run mreg fsck)",
				 ref.name);
	} else if (archived) {
		rc = mreg_seterr(MREG_ENOTFOUND,
				 "model %s has no active version (%zu archived: name one as "
				 "%s:VERSION or restore it)",
				 ref.name, archived, ref.name);
	} else {
		rc = mreg_seterr(MREG_ENOTFOUND, "no model named %s", ref.name);
	}
done:
	mreg_record_array_free(all, n);
	mreg_ref_dispose(&ref);
	return rc;
}

/* ---- creating ---- */

static bool is_integer(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n > 0 && n < 19 && s[n] == '\0';
}

/*
 * The next integer version of @name: one more than the highest ever used, "1"
 * for a new name. Deleted versions leave a tombstone (<version>.deleted) so
 * their numbers are never handed out again with other content.
 */
static int next_version(char **out, mreg_store *s, const char *name)
{
	static const char *suffixes[] = {".yaml", ".deleted"};
	char *dir = store_model_dir(s, name);
	unsigned long long max = 0;
	int rc = 0;

	if (!dir)
		return mreg_seterr_nomem();
	for (size_t k = 0; k < 2 && rc == 0; k++) {
		char **versions = NULL;
		size_t n = 0;
		if ((rc = store_list_dir(&versions, &n, dir, suffixes[k])))
			break;
		for (size_t i = 0; i < n; i++) {
			if (is_integer(versions[i])) {
				unsigned long long v = strtoull(versions[i], NULL, 10);
				if (v > max)
					max = v;
			}
		}
		store_free_names(versions, n);
	}
	free(dir);
	if (rc)
		return rc;
	*out = str_printf("%llu", max + 1);
	return *out ? 0 : mreg_seterr_nomem();
}

static int check_create_options(const mreg_create_options *o, const mreg_format **format)
{
	int rc;

	if (!o || o->version < 1 || o->version > MREG_CREATE_OPTIONS_VERSION)
		return mreg_seterr(MREG_EINVALID, "create options: unknown version");
	if ((rc = mreg_name_check(o->name)))
		return rc;
	if (o->model_version && (rc = mreg_version_check(o->model_version)))
		return rc;
	if (!o->path || !o->path[0])
		return mreg_seterr(MREG_EINVALID, "no model path given");
	*format = mreg_format_find(o->type ? o->type : "custom_model");
	if (!*format) {
		strbuf known = STRBUF_INIT;
		for (size_t i = 0; i < mreg_format_count(); i++)
			strbuf_printf(&known, "%s%s", i ? ", " : "", mreg_format_at(i)->name);
		rc = mreg_seterr(MREG_EINVALID, "unknown model type '%s' (known: %s)", o->type,
				 known.data ? known.data : "");
		strbuf_dispose(&known);
		return rc;
	}
	for (size_t i = 0; i < o->tag_count; i++)
		if ((rc = kv_check("tag", o->tags[i].key, o->tags[i].value)))
			return rc;
	for (size_t i = 0; i < o->property_count; i++)
		if ((rc = kv_check("property", o->properties[i].key, o->properties[i].value)))
			return rc;
	if (o->description && !utf8_valid(o->description))
		return mreg_seterr(MREG_EINVALID, "description is not valid UTF-8");
	if (o->stage && !utf8_printable(o->stage))
		return mreg_seterr(MREG_EINVALID, "stage '%s' is not printable UTF-8", o->stage);
	/* The limits of mreg/limits.h, before the model is even read. */
	if ((rc = limits_check_text(NULL, "description", o->description, MREG_DESCRIPTION_MAX)) ||
	    (rc = limits_check_text(NULL, "stage", o->stage, MREG_STAGE_MAX)) ||
	    (rc = limits_check_kv(NULL, "tag", o->tags, o->tag_count)) ||
	    (rc = limits_check_kv(NULL, "property", o->properties, o->property_count)))
		return rc;
	return 0;
}

/* The first error of a diagnostics list, as the error message. */
static int first_error(mreg_diag_list *diags, int code, const char *what)
{
	for (size_t i = 0; i < mreg_diag_count(diags); i++) {
		const mreg_diag *d = mreg_diag_get(diags, i);
		if (d->severity == MREG_DIAG_ERROR)
			return mreg_seterr(code, "%s: %s", d->file, d->message);
	}
	return mreg_seterr(code, "%s", what);
}

/* The walk's empty folders and links, as the record lists them. */
static int copy_tree(mreg_record *r, const walk_result *walk)
{
	if (walk->dir_count && !(r->dirs = calloc(walk->dir_count, sizeof(*r->dirs))))
		return mreg_seterr_nomem();
	for (size_t i = 0; i < walk->dir_count; i++) {
		r->dir_count = i + 1;
		r->dirs[i].mode = walk->dirs[i].mode;
		if (!(r->dirs[i].path = strdup(walk->dirs[i].rel)))
			return mreg_seterr_nomem();
	}
	if (walk->link_count && !(r->links = calloc(walk->link_count, sizeof(*r->links))))
		return mreg_seterr_nomem();
	for (size_t i = 0; i < walk->link_count; i++) {
		r->link_count = i + 1;
		r->links[i].path = strdup(walk->links[i].rel);
		r->links[i].target = strdup(walk->links[i].target);
		if (!r->links[i].path || !r->links[i].target)
			return mreg_seterr_nomem();
	}
	return 0;
}

static int build_record(mreg_record **out, const mreg_create_options *o,
			const mreg_format *format, const walk_result *walk)
{
	mreg_record *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return mreg_seterr_nomem();
	r->source.git_dirty = -1;
	r->name = strdup(o->name);
	r->type = strdup(format->name);
	r->description = str_dup(o->description && o->description[0] ? o->description : NULL);
	r->stage = str_dup(o->stage && o->stage[0] ? o->stage : NULL);
	r->source.path = fs_absolute(walk->root);
	r->source.kind = strdup(walk->is_file ? "file" : "directory");
	r->files = calloc(walk->count ? walk->count : 1, sizeof(*r->files));
	if (!r->name || !r->type || !r->source.path || !r->source.kind || !r->files ||
	    (o->description && o->description[0] && !r->description) ||
	    (o->stage && o->stage[0] && !r->stage)) {
		mreg_record_free(r);
		return mreg_seterr_nomem();
	}
	if ((rc = kv_copy(&r->tags, &r->tag_count, o->tags, o->tag_count)) ||
	    (rc = kv_copy(&r->properties, &r->property_count, o->properties, o->property_count)) ||
	    (rc = copy_tree(r, walk))) {
		mreg_record_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* Commit a record just written; on failure remove it again (nobody saw it: we hold the lock). */
static int commit_record(mreg_store *s, const mreg_record *r)
{
	char *path = store_record_path(s, r->name, r->version);
	char *message = str_printf("mreg: register model %s version %s\n\n%s, %zu file%s, %s\n",
				   r->name, r->version, r->type, r->file_count,
				   r->file_count == 1 ? "" : "s", r->digest);
	char *config = path_join(mreg_store_path(s), "config.yaml");
	char *ignore = path_join(mreg_store_path(s), ".gitignore");
	const char *store_files[] = {config, ignore};
	char commit[64];
	int rc;

	if (!path || !message || !config || !ignore) {
		rc = mreg_seterr_nomem();
	} else if ((rc = gitinfo_commit_record(mreg_store_path(s), path, message, store_files, 2,
					       commit))) {
		char *dir = store_model_dir(s, r->name);
		unlink(path);
		store_warning_clear(s);
		if (dir && rmdir(dir) == 0)
			fs_fsync_dir(s->models);
		free(dir);
		mreg_error_prefix(rc, "%s:%s not created", r->name, r->version);
	}
	free(path);
	free(message);
	free(config);
	free(ignore);
	return rc;
}

/* record_check_limits() with the walk's paths, before r->files is filled. */
static int check_walk_limits(const mreg_record *r, const walk_result *walk)
{
	const char **paths = calloc(walk->count ? walk->count : 1, sizeof(*paths));
	int rc;

	if (!paths)
		return mreg_seterr_nomem();
	for (size_t i = 0; i < walk->count; i++)
		paths[i] = walk->files[i].rel;
	rc = record_check_limits(r, paths, walk->count, walk->root);
	free(paths);
	return rc;
}

int mreg_model_create(mreg_record **out, mreg_store *s, const mreg_create_options *o,
		      mreg_diag_list *diags)
{
	const mreg_format *format = NULL;
	mreg_diag_list *own = NULL, *walk_diags = NULL;
	walk_result walk = {0};
	mreg_record *r = NULL;
	statcache *cache = NULL;
	stream_progress progress = {0};
	bool ingesting = false, locked = false, walked;
	int rc, commit;
	/* A remote model: fetched already (src/source/), checked and walked where it lies. */
	const mreg_fetched *fetched = o && o->version >= 2 ? o->fetched : NULL;
	const char *model_path = fetched ? fetched->path : o ? o->path : NULL;
	/* How messages name it: a URL without its credentials or query. */
	const char *shown = fetched ? fetched->source.path : o ? o->path : NULL;

	if (out)
		*out = NULL;
	if ((rc = check_create_options(o, &format)))
		return rc;
	if (!fetched && url_is_remote_source(o->path))
		return mreg_seterr(MREG_EINVALID, "the model path is a URL: fetch it with "
						  "mreg_source_fetch() and give it as opts->fetched");
	if (!diags) {
		if ((rc = mreg_diag_list_new(&own)))
			return rc;
		diags = own;
	}
	if (!o->type) {
		/* Azure's default type is custom_model; say so when another plugin
		 * recognises the model, since its checks and metadata are skipped. */
		const mreg_format *seen = NULL;
		if (mreg_format_detect(&seen, model_path) == 0 && seen != format)
			mreg_diag_add(diags, MREG_DIAG_NOTE, shown, 0, 0, "type-hint",
				      "this looks like a %s; it is registered as custom_model (give -t "
				      "%s to check it and record its metadata)",
				      seen->name, seen->name);
	}
	/* The walk decides which files are stored; it refuses what cannot be
	 * stored even when validation was skipped. custom_model's checks are the
	 * walk's own and the weight headers: it gets this walk rather than making
	 * its own (and describe too), so each file is listed and checked once. */
	walked = format == &mreg_format_custom_model;
	if (walked && !o->no_validate) {
		struct stat st;
		/* What mreg_format_validate says of a path that is not there. */
		if (stat(model_path, &st) < 0) {
			rc = mreg_seterr(MREG_ENOTFOUND, "%s: no such file or folder", model_path);
			goto done;
		}
	}
	/* The stat cache, read before the walk: a file it knows unchanged, and
	 * owned by us, needs no readability check there (statcache_vouches). A
	 * fetched model's files are new hard links: the cache knows none. */
	if (!fetched && (rc = statcache_open(&cache, s->dir, s->tmp, false)))
		goto done;
	if ((rc = mreg_diag_list_new(&walk_diags)) ||
	    (walked && (rc = walk_model_vouched(&walk, model_path, walk_diags, statcache_vouches,
						cache))))
		goto done;
	if (!o->no_validate) {
		size_t before = mreg_diag_count_severity(diags, MREG_DIAG_ERROR);
		size_t first = mreg_diag_count(diags);
		if (walked) {
			for (size_t i = 0; i < mreg_diag_count(walk_diags) && rc == 0; i++) {
				const mreg_diag *d = mreg_diag_get(walk_diags, i);
				if (mreg_diag_add(diags, d->severity, d->file, d->line, d->column,
						  d->code, "%s", d->message) < 0)
					rc = mreg_seterr_nomem();
			}
			if (rc || (rc = custom_model_check_walk(&walk, diags)))
				goto done;
		} else if ((rc = mreg_format_validate(format, model_path, diags, NULL))) {
			goto done;
		}
		if (fetched &&
		    (rc = mreg_diag_rebase(diags, first, fetched->path, fetched->source.path)))
			goto done;
		size_t errors = mreg_diag_count_severity(diags, MREG_DIAG_ERROR) - before;
		if (errors) {
			rc = mreg_seterr(MREG_EINVALID, "%s is not a valid %s: %zu error%s", shown,
					 format->name, errors, errors == 1 ? "" : "s");
			goto done;
		}
	}
	if (!walked &&
	    (rc = walk_model_vouched(&walk, model_path, walk_diags, statcache_vouches, cache)))
		goto done;
	/* A fetched tree holds only files and folders mreg made, under names
	 * checked as they arrived; should the walk still find fault, it names
	 * the URL, not the staging folder. */
	if (fetched && (rc = mreg_diag_rebase(walk_diags, 0, fetched->path, fetched->source.path)))
		goto done;
	if (mreg_diag_count_severity(walk_diags, MREG_DIAG_ERROR)) {
		rc = first_error(walk_diags, MREG_EINVALID, "cannot read the model");
		goto done;
	}
	if ((rc = build_record(&r, o, format, &walk)))
		goto done;
	if (fetched ? (rc = record_source_fetched(&r->source, &fetched->source))
		    : (rc = gitinfo_provenance(&r->source, o->path, diags)))
		goto done;
	commit = o->commit < 0 ? store_config_git_commit(s) : o->commit;
	if (commit && (rc = gitinfo_check_committable(mreg_store_path(s))))
		goto done;
	if (walked) {
		if ((rc = custom_model_describe_walk(&walk, &r->format_json)))
			goto done;
	} else if (format->describe) {
		if ((rc = format->describe(model_path, &r->format_json)))
			goto done;
	}
	/* The whole version fits a bundle and a registry (mreg/limits.h),
	 * checked before any file is stored. */
	if ((rc = check_walk_limits(r, &walk)))
		goto done;
	/* A version that exists already is refused before any blob is written, so
	 * the store stays unchanged; the check under the lock below still decides. */
	if (o->model_version) {
		char *path = store_record_path(s, o->name, o->model_version);
		bool taken = path && fs_exists(path);
		free(path);
		if (taken) {
			rc = mreg_seterr(MREG_EEXISTS, "model %s version %s already exists", o->name,
					 o->model_version);
			goto done;
		}
	}

	if ((rc = store_ingest_lock(s, false)))
		goto done;
	ingesting = true;
	progress.fn = o->progress;
	progress.ctx = o->progress_ctx;
	progress.total = walk.total_size;
	if ((rc = fetched ? ingest_fetched_files(s, fetched, &walk, r)
			  : ingest_files(s, &walk, r, cache, &progress)) ||
	    (rc = record_compute_digest(r)))
		goto done;

	if ((rc = store_lock(s)))
		goto done;
	locked = true;
	if (o->model_version)
		r->version = strdup(o->model_version);
	else if ((rc = next_version(&r->version, s, o->name)))
		goto done;
	r->created_at = record_now();
	if (!r->version || !r->created_at) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = store_record_write(s, r, true)))
		goto done;
	if (commit && (rc = commit_record(s, r)))
		goto done;
	if (out) {
		*out = r;
		r = NULL;
	}
done:
	if (locked)
		store_unlock(s);
	if (ingesting)
		store_ingest_unlock(s);
	mreg_record_free(r);
	walk_result_dispose(&walk);
	statcache_free(cache);
	mreg_diag_list_free(walk_diags);
	mreg_diag_list_free(own);
	return rc;
}

/* ---- changing ---- */

/*
 * Every other version of @kept's model in @kept's stage leaves it, one
 * record write each (under the writers' lock the caller holds; an
 * interrupted run leaves some in the stage, and running it again finishes).
 */
static int leave_stage(mreg_store *s, const mreg_record *kept, const mreg_update_options *o)
{
	mreg_record **recs = NULL;
	size_t n = 0;
	int rc = mreg_model_list(&recs, &n, s, kept->name, MREG_LIST_ALL, NULL, NULL);

	if (rc)
		goto done;
	for (size_t i = 0; i < n && rc == 0; i++) {
		mreg_record *r = recs[i];
		if (!strcmp(r->version, kept->version) || !r->stage || strcasecmp(r->stage, kept->stage))
			continue;
		free(r->stage);
		r->stage = NULL;
		if ((rc = store_record_write(s, r, false)) == 0 && o->on_left_stage)
			o->on_left_stage(o->ctx, r);
	}
done:
	mreg_record_array_free(recs, n);
	return rc;
}

int mreg_model_update(mreg_record **out, mreg_store *s, const char *name, const char *version,
		      const mreg_update_options *o)
{
	mreg_record *r = NULL;
	bool exclusive;
	uint64_t before;
	int rc;

	if (out)
		*out = NULL;
	if (!o || (o->version != 1 && o->version != MREG_UPDATE_OPTIONS_VERSION))
		return mreg_seterr(MREG_EINVALID, "update options: unknown version");
	exclusive = o->version >= 2 && o->exclusive_stage;
	if (exclusive && (!o->stage || !o->stage[0]))
		return mreg_seterr(MREG_EINVALID, "an exclusive stage needs a stage to set");
	if ((rc = mreg_name_check(name)) || (rc = mreg_version_check(version)))
		return rc;
	for (size_t i = 0; i < o->set_tag_count; i++)
		if ((rc = kv_check("tag", o->set_tags[i].key, o->set_tags[i].value)))
			return rc;
	if (o->stage && o->stage[0] && !utf8_printable(o->stage))
		return mreg_seterr(MREG_EINVALID, "stage '%s' is not printable UTF-8", o->stage);
	if (o->description && !utf8_valid(o->description))
		return mreg_seterr(MREG_EINVALID, "description is not valid UTF-8");
	if ((rc = limits_check_text(NULL, "description", o->description, MREG_DESCRIPTION_MAX)) ||
	    (rc = limits_check_text(NULL, "stage", o->stage, MREG_STAGE_MAX)) ||
	    (rc = limits_check_kv(NULL, "tag", o->set_tags, o->set_tag_count)))
		return rc;
	if ((rc = store_lock(s)))
		return rc;
	if ((rc = store_read_version(&r, s, name, version)))
		goto done;
	before = record_manifest_bound(r, NULL, 0);
	if (o->description) {
		free(r->description);
		r->description = o->description[0] ? strdup(o->description) : NULL;
	}
	if (o->stage) {
		free(r->stage);
		r->stage = o->stage[0] ? strdup(o->stage) : NULL;
	}
	/* Tags are set first, then removed: `--tag k=v --remove-tag k` (the
	 * example of issue 2) ends without k rather than failing. */
	for (size_t i = 0; i < o->set_tag_count; i++)
		if ((rc = kv_set(&r->tags, &r->tag_count, o->set_tags[i].key, o->set_tags[i].value)))
			goto done;
	for (size_t i = 0; i < o->remove_tag_count; i++) {
		if (kv_remove(&r->tags, &r->tag_count, o->remove_tags[i])) {
			rc = mreg_seterr(MREG_ENOTFOUND, "%s:%s has no tag '%s'", name, version,
					 o->remove_tags[i]);
			goto done;
		}
	}
	/* The version as it would be, whole (tags added up, mreg/limits.h),
	 * when it grows: a version registered before the limits that breaks
	 * one can still be shortened, or have a tag removed. */
	if (record_manifest_bound(r, NULL, 0) > before && (rc = record_check_limits(r, NULL, 0, NULL)))
		goto done;
	if ((rc = store_record_write(s, r, false)))
		goto done;
	if (exclusive && (rc = leave_stage(s, r, o)))
		goto done;
	if (out) {
		*out = r;
		r = NULL;
	}
done:
	store_unlock(s);
	mreg_record_free(r);
	return rc;
}

int mreg_model_set_archived(size_t *changed, mreg_store *s, const char *name,
			    const char *version, int archived)
{
	char *dir = NULL;
	char **versions = NULL;
	size_t n = 0;
	int rc;

	*changed = 0;
	if ((rc = mreg_name_check(name)) || (version && (rc = mreg_version_check(version))))
		return rc;
	if ((rc = store_lock(s)))
		return rc;
	if (version) {
		versions = calloc(1, sizeof(*versions));
		if (!versions || !(versions[0] = strdup(version))) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		n = 1;
	} else {
		dir = store_model_dir(s, name);
		if (!dir) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		if ((rc = store_list_dir(&versions, &n, dir, ".yaml")))
			goto done;
		if (n == 0) {
			rc = mreg_seterr(MREG_ENOTFOUND, "no model named %s", name);
			goto done;
		}
	}
	/* Read every record first, so a damaged one changes nothing. */
	mreg_record **recs = calloc(n, sizeof(*recs));
	if (!recs) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = store_read_version(&recs[i], s, name, versions[i]);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (recs[i]->archived == (archived ? 1 : 0))
			continue;
		recs[i]->archived = archived ? 1 : 0;
		if ((rc = store_record_write(s, recs[i], false)) == 0)
			(*changed)++;
	}
	mreg_record_array_free(recs, n);
done:
	store_unlock(s);
	store_free_names(versions, n);
	free(dir);
	return rc;
}

int mreg_model_delete(mreg_store *s, const char *name, const char *version)
{
	mreg_record *r = NULL;
	char *path = NULL, *dir = NULL, *tombstone = NULL, *now = NULL, *text = NULL;
	int rc;

	if ((rc = mreg_name_check(name)) || (rc = mreg_version_check(version)))
		return rc;
	if ((rc = store_lock(s)))
		return rc;
	path = store_record_path(s, name, version);
	dir = store_model_dir(s, name);
	if (!path || !dir) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	/* A damaged record can still be deleted: only its existence matters here. */
	rc = store_read_version(&r, s, name, version);
	if (rc == MREG_ENOTFOUND || rc == MREG_ENOMEM)
		goto done;
	/* The tombstone first: a crash in between leaves the version, never a
	 * reusable number. */
	tombstone = str_printf("%s/%s.deleted", dir, version);
	now = record_now();
	text = now ? str_printf("# %s:%s was deleted; its number is not reused\ndeleted_at: \"%s\"\n",
				name, version, now) : NULL;
	if (!tombstone || !text) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = fs_write_atomic(tombstone, text, strlen(text), s->tmp, false)))
		goto done;
	if (unlink(path) < 0) {
		rc = mreg_seterr_errno("%s", path);
		goto done;
	}
	/* Deleted now, whatever the fsync says. */
	if (fs_fsync_dir(dir)) {
		char *what = str_printf("%s:%s is deleted", name, version);
		store_warn_not_durable(s, what ? what : "the version is deleted");
		free(what);
	}
	/* Its kept signatures after it (mreg-store(5)): one left by a failure here is
	 * an orphan, which nothing reads and gc removes. */
	if (kept_sigs_remove(s, name, version))
		mreg_error_clear();
done:
	free(tombstone);
	free(now);
	free(text);
	store_unlock(s);
	mreg_record_free(r);
	free(path);
	free(dir);
	return rc;
}
