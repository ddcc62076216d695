#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "gitinfo.h"
#include "util/hash.h"
#include "record_priv.h"
#include "store_priv.h"
#include "util/strutil.h"
#include "util/yamlutil.h"

static const char config_text[] =
	"# mreg store configuration (see mreg-store(5))\n"
	"format: 1\n";

/* Blobs, in-flight writes and the lock never belong in git: records do. */
static const char gitignore_text[] =
	"# written by mreg init: blobs travel by bundle or registry, not by git\n"
	"/blobs/\n"
	"/tmp/\n"
	"/lock\n";

int mreg_store_discover(char **out, const char *start)
{
	const char *env = getenv("MREG_DIR");
	char *dir;
	struct stat st;

	*out = NULL;
	if (env && env[0]) {
		*out = fs_absolute(env);
		return *out ? 0 : mreg_seterr_nomem();
	}
	dir = start ? fs_absolute(start) : fs_absolute(".");
	if (!dir)
		return mreg_seterr_nomem();
	for (;;) {
		char *candidate = path_join(dir, ".mreg");
		char *slash;
		if (!candidate) {
			free(dir);
			return mreg_seterr_nomem();
		}
		if (stat(candidate, &st) == 0 && S_ISDIR(st.st_mode)) {
			free(dir);
			*out = candidate;
			return 0;
		}
		free(candidate);
		slash = strrchr(dir, '/');
		if (!slash || dir[1] == '\0')
			break;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(dir);
	return mreg_seterr(MREG_ENOTFOUND,
			   "no mreg store here or in any parent folder (run 'mreg init', or set "
			   "MREG_DIR or --store)");
}

static int store_alloc(mreg_store **out, const char *dir)
{
	mreg_store *s = calloc(1, sizeof(*s));

	if (!s)
		return mreg_seterr_nomem();
	s->lock_fd = s->ingest_fd = -1;
	s->dir = fs_absolute(dir);
	if (s->dir) {
		s->models = path_join(s->dir, "models");
		s->blobs = path_join(s->dir, "blobs/sha256");
		s->tmp = path_join(s->dir, "tmp");
	}
	if (!s->dir || !s->models || !s->blobs || !s->tmp) {
		mreg_store_free(s);
		return mreg_seterr_nomem();
	}
	*out = s;
	return 0;
}

int mreg_store_default_dir(char **out, const char *start)
{
	char *base = fs_absolute(start ? start : ".");
	char *root = base ? gitinfo_worktree_root(base) : NULL;

	if (base && !root && errno == ELIBACC) {
		free(base);
		*out = NULL;
		return MREG_EIO; /* the message names the library */
	}
	*out = path_join(root ? root : base ? base : ".", ".mreg");
	free(base);
	free(root);
	return *out ? 0 : mreg_seterr_nomem();
}

int mreg_store_init(mreg_store **out, const char *dir)
{
	mreg_store *s = NULL;
	char *config = NULL, *ignore = NULL, *lock = NULL;
	int rc, fd;

	*out = NULL;
	if ((rc = store_alloc(&s, dir)))
		return rc;
	config = path_join(s->dir, "config.yaml");
	ignore = path_join(s->dir, ".gitignore");
	lock = path_join(s->dir, "lock");
	if (!config || !ignore || !lock) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (fs_exists(config)) {
		rc = mreg_seterr(MREG_EEXISTS, "%s: a store already exists here", s->dir);
		goto done;
	}
	if ((rc = fs_mkdir_p(s->models, 0755)) || (rc = fs_mkdir_p(s->blobs, 0755)) ||
	    (rc = fs_mkdir_p(s->tmp, 0755)))
		goto done;
	fd = open(lock, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = mreg_seterr_errno("%s", lock);
		goto done;
	}
	close(fd);
	if ((rc = fs_write_atomic(ignore, gitignore_text, sizeof(gitignore_text) - 1, s->tmp,
				  false)))
		goto done;
	/* config.yaml last: its presence marks a complete store. */
	if ((rc = fs_write_atomic(config, config_text, sizeof(config_text) - 1, s->tmp, true)))
		goto done;
	*out = s;
	s = NULL;
done:
	free(config);
	free(ignore);
	free(lock);
	mreg_store_free(s);
	return rc;
}

#define OMS_KEYS_MAX 64

/*
 * verify.oms_keys: a list of PEM public keys (paths; relative ones are
 * relative to the store's folder, where config.yaml is) that pull checks
 * every version's OMS signature against.
 */
static int read_oms_keys(mreg_store *s, yaml_document_t *doc, yaml_node_t *root,
			 const char *config)
{
	yaml_node_t *verify = yu_map_get(doc, root, "verify"), *keys, *item;
	size_t n;

	if (!verify)
		return 0;
	if (verify->type != YAML_MAPPING_NODE)
		return mreg_seterr(MREG_ECORRUPT, "%s: verify: a mapping expected", config);
	keys = yu_map_get(doc, verify, "oms_keys");
	if (!keys)
		return 0;
	if (keys->type != YAML_SEQUENCE_NODE)
		return mreg_seterr(MREG_ECORRUPT, "%s: verify.oms_keys: a list of PEM files "
				   "expected", config);
	n = (size_t)(keys->data.sequence.items.top - keys->data.sequence.items.start);
	if (n > OMS_KEYS_MAX)
		return mreg_seterr(MREG_ECORRUPT, "%s: verify.oms_keys: %zu keys (at most %d)", config,
				   n, OMS_KEYS_MAX);
	if (!(s->oms_keys = calloc(n + 1, sizeof(*s->oms_keys))))
		return mreg_seterr_nomem();
	for (size_t i = 0; i < n; i++) {
		const char *p;
		item = yaml_document_get_node(doc, keys->data.sequence.items.start[i]);
		p = yu_scalar(item);
		if (!p || !p[0])
			return mreg_seterr(MREG_ECORRUPT, "%s: verify.oms_keys[%zu]: a file name "
					   "expected", config, i);
		s->oms_keys[i] = p[0] == '/' ? strdup(p) : path_join(s->dir, p);
		if (!s->oms_keys[i])
			return mreg_seterr_nomem();
		s->oms_key_count++;
	}
	return 0;
}

const char *const *mreg_store_oms_keys(const mreg_store *s, size_t *count)
{
	*count = s->oms_key_count;
	return (const char *const *)s->oms_keys;
}

static int read_config(mreg_store *s)
{
	char *config = path_join(s->dir, "config.yaml");
	yaml_document_t doc;
	yaml_node_t *root, *fmt;
	const char *v;
	int rc;

	if (!config)
		return mreg_seterr_nomem();
	/* A store we may not read is not "no store": say why. */
	if (!fs_exists(s->dir) && errno != EACCES) {
		rc = mreg_seterr(MREG_ENOTFOUND, "%s: no such store", s->dir);
		goto out;
	}
	if (access(s->dir, R_OK | X_OK) < 0 && errno == EACCES) {
		rc = mreg_seterr(MREG_EIO, "%s: cannot read the store: %s", s->dir, strerror(EACCES));
		goto out;
	}
	if (!fs_exists(config)) {
		/* Records without the config: most likely a clone of a repository
		 * where only records were committed (mreg before 0.2 did that). */
		if (fs_exists(s->models))
			rc = mreg_seterr(MREG_ENOTFOUND,
					 "%s: not an mreg store (no config.yaml), though it holds "
					 "records (did they come through git without the store's "
					 "config?): run 'mreg init' with --store %s to write the "
					 "config; the records are kept",
					 s->dir, s->dir);
		else
			rc = mreg_seterr(MREG_ENOTFOUND, "%s: not an mreg store (no config.yaml)",
					 s->dir);
		goto out;
	}
	rc = yu_load_file(&doc, config, MREG_ECORRUPT, false, NULL, NULL, NULL, 0);
	if (rc)
		goto out;
	root = yaml_document_get_root_node(&doc);
	fmt = yu_map_get(&doc, root, "format");
	v = yu_scalar(fmt);
	{
		yaml_node_t *git = yu_map_get(&doc, root, "git");
		const char *commit = yu_scalar(yu_map_get(&doc, git, "commit"));
		s->git_commit = commit && (!strcmp(commit, "true") || !strcmp(commit, "yes"));
	}
	rc = read_oms_keys(s, &doc, root, config);
	if (rc) {
		/* said */
	} else if (!v) {
		rc = mreg_seterr(MREG_ECORRUPT, "%s: field 'format' is missing", config);
	} else if (strcmp(v, "1") != 0) {
		rc = mreg_seterr(MREG_EUNSUPPORTED,
				 "%s: store format %s is not supported by this mreg (it reads "
				 "format %d)",
				 config, v, MREG_STORE_FORMAT);
	}
	yaml_document_delete(&doc);
out:
	free(config);
	return rc;
}

int mreg_store_open(mreg_store **out, const char *dir)
{
	mreg_store *s = NULL;
	char *found = NULL;
	int rc;

	*out = NULL;
	if (!dir) {
		if ((rc = mreg_store_discover(&found, NULL)))
			return rc;
		dir = found;
	}
	rc = store_alloc(&s, dir);
	free(found);
	if (rc)
		return rc;
	if ((rc = read_config(s))) {
		mreg_store_free(s);
		return rc;
	}
	/* Old or hand-made stores may lack these; they are cheap to recreate. */
	if ((rc = fs_mkdir_p(s->tmp, 0755)) || (rc = fs_mkdir_p(s->blobs, 0755)) ||
	    (rc = fs_mkdir_p(s->models, 0755))) {
		mreg_store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void mreg_store_free(mreg_store *s)
{
	if (!s)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->ingest_fd >= 0)
		close(s->ingest_fd);
	free(s->dir);
	free(s->models);
	free(s->blobs);
	free(s->tmp);
	free(s->warning);
	for (size_t i = 0; i < s->oms_key_count; i++)
		free(s->oms_keys[i]);
	free(s->oms_keys);
	free(s);
}

const char *mreg_store_warning(const mreg_store *s)
{
	return s ? s->warning : NULL;
}

void store_warn_not_durable(mreg_store *s, const char *what)
{
	/* out of memory: no warning, the change still stands */
	if (!s->warning)
		s->warning = str_printf("%s: %s, but the disk did not confirm it is durable (a "
					"crash could undo it; check the disk)",
					mreg_error_last(), what);
	mreg_error_clear();
}

void store_warning_clear(mreg_store *s)
{
	free(s->warning);
	s->warning = NULL;
}

bool store_config_git_commit(const mreg_store *s)
{
	return s->git_commit;
}

int store_config_datastore(char **out, const mreg_store *s, const char *name)
{
	char *config = path_join(s->dir, "config.yaml");
	yaml_document_t doc;
	yaml_node_t *map, *v;
	int rc;

	*out = NULL;
	if (!config)
		return mreg_seterr_nomem();
	if ((rc = yu_load_file(&doc, config, MREG_ECORRUPT, false, NULL, NULL, NULL, 0))) {
		free(config);
		return rc;
	}
	map = yu_map_get(&doc, yaml_document_get_root_node(&doc), "datastores");
	v = map ? yu_map_get(&doc, map, name) : NULL;
	if (map && map->type != YAML_MAPPING_NODE)
		rc = mreg_seterr(MREG_ECORRUPT, "%s: field 'datastores' must be a mapping of names "
						"to URLs",
				 config);
	else if (!v)
		rc = mreg_seterr(MREG_ENOTFOUND,
				 "unknown datastore '%s': add it to %s as datastores.%s, the "
				 "wasbs:// or https:// URL it stands for",
				 name, config, name);
	else if (!yu_scalar(v) || !yu_scalar(v)[0])
		rc = mreg_seterr(MREG_ECORRUPT, "%s: field 'datastores.%s' must be a URL", config,
				 name);
	else if (!(*out = strdup(yu_scalar(v))))
		rc = mreg_seterr_nomem();
	yaml_document_delete(&doc);
	free(config);
	return rc;
}

const char *mreg_store_path(const mreg_store *s)
{
	return s->dir;
}

int mreg_store_blob_path(char **out, const mreg_store *s, const char *digest)
{
	if (!digest_valid(digest))
		return mreg_seterr(MREG_EINVALID, "'%s' is not a sha256 digest", digest);
	*out = path_join(s->blobs, digest + 7);
	return *out ? 0 : mreg_seterr_nomem();
}

static int take_flock(int *fdp, const char *dir, const char *name, int op)
{
	char *path = path_join(dir, name);
	int rc = 0;

	if (!path)
		return mreg_seterr_nomem();
	if (*fdp < 0) {
		*fdp = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
		if (*fdp < 0) {
			rc = mreg_seterr_errno("%s: cannot open the lock", path);
			goto done;
		}
	}
	while (flock(*fdp, op) < 0) {
		/* A signal while we wait: stop if it asked us to (mreg_interrupt). */
		if (errno == EINTR && (rc = mreg_check_interrupt()))
			break;
		if (errno == EINTR)
			continue;
		rc = mreg_seterr_errno("%s: cannot take the lock", path);
		break;
	}
done:
	free(path);
	return rc;
}

int store_lock(mreg_store *s)
{
	return take_flock(&s->lock_fd, s->dir, "lock", LOCK_EX);
}

void store_unlock(mreg_store *s)
{
	if (s->lock_fd >= 0)
		flock(s->lock_fd, LOCK_UN);
}

int store_ingest_lock(mreg_store *s, bool exclusive)
{
	return take_flock(&s->ingest_fd, s->tmp, "ingest.lock", exclusive ? LOCK_EX : LOCK_SH);
}

void store_ingest_unlock(mreg_store *s)
{
	if (s->ingest_fd >= 0)
		flock(s->ingest_fd, LOCK_UN);
}

char *store_model_dir(const mreg_store *s, const char *name)
{
	return path_join(s->models, name);
}

char *store_record_path(const mreg_store *s, const char *name, const char *version)
{
	return str_printf("%s/%s/%s.yaml", s->models, name, version);
}

/* store_blob_open() and store_blob_open_nonblocking(): @blocking clears O_NONBLOCK. */
static int blob_open(const mreg_store *s, const char *digest, uint64_t size, int *fd,
		     bool blocking)
{
	char *path = NULL;
	struct stat st;
	int rc = mreg_store_blob_path(&path, s, digest);

	*fd = -1;
	if (rc)
		return rc;
	/* A blob is a regular file of its recorded size, nothing else: not a
	 * symlink (O_NOFOLLOW), and a FIFO or device must not block the open
	 * (O_NONBLOCK) or feed us without end. */
	*fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT)
			rc = mreg_seterr(MREG_ECORRUPT, "blob %s is missing from the store", digest);
		else if (errno == ELOOP)
			rc = mreg_seterr(MREG_ECORRUPT,
					 "blob %s is a symbolic link, not a file (store corrupt? run "
					 "mreg fsck)",
					 digest);
		else
			rc = mreg_seterr_errno("blob %s", digest);
		goto done;
	}
	if (fstat(*fd, &st) < 0) {
		rc = mreg_seterr_errno("blob %s", digest);
	} else if (!S_ISREG(st.st_mode)) {
		rc = mreg_seterr(MREG_ECORRUPT,
				 "blob %s is not a regular file (store corrupt? run mreg fsck)", digest);
	} else if ((uint64_t)st.st_size != size) {
		rc = mreg_seterr(MREG_ECORRUPT,
				 "blob %s has %llu bytes where its record says %llu (store corrupt? "
				 "run mreg fsck)",
				 digest, (unsigned long long)st.st_size, (unsigned long long)size);
	} else if (blocking && fs_fd_set_blocking(*fd) < 0) {
		rc = mreg_seterr_errno("blob %s", digest);
	}
	if (rc) {
		close(*fd);
		*fd = -1;
	}
done:
	free(path);
	return rc;
}

int store_blob_open(const mreg_store *s, const char *digest, uint64_t size, int *fd)
{
	return blob_open(s, digest, size, fd, true);
}

int store_blob_open_nonblocking(const mreg_store *s, const char *digest, uint64_t size, int *fd)
{
	return blob_open(s, digest, size, fd, false);
}

int store_record_write(mreg_store *s, const mreg_record *r, bool create)
{
	char *text = NULL, *path = NULL, *dir = NULL;
	size_t len = 0;
	int rc;

	if ((rc = record_to_yaml(&text, &len, r)))
		return rc;
	dir = store_model_dir(s, r->name);
	path = store_record_path(s, r->name, r->version);
	if (!dir || !path) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (mkdir(dir, 0755) == 0) {
		if ((rc = fs_fsync_dir(s->models))) {
			rmdir(dir);
			goto done;
		}
	} else if (errno != EEXIST) {
		rc = mreg_seterr_errno("%s", dir);
		goto done;
	}
	rc = fs_write_visible(path, text, len, s->tmp, create, 0644);
	if (rc == MREG_EEXISTS)
		rc = mreg_seterr(MREG_EEXISTS, "model %s version %s already exists", r->name,
				 r->version);
	if (rc)
		goto done;
	/* The version is visible now: it stands whatever the fsync says (issue 14:
	 * an error here made create exit 2 with the version registered). */
	if (fs_fsync_dir(dir)) {
		char *what = str_printf("%s:%s %s", r->name, r->version,
					create ? "is registered" : "is changed");
		store_warn_not_durable(s, what ? what : "the record is written");
		free(what);
	}
done:
	free(text);
	free(path);
	free(dir);
	return rc;
}
