/* Store internals shared by the registry, download and maintenance code. */
#ifndef MREG_STORE_PRIV_H
#define MREG_STORE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "mreg/record.h"
#include "mreg/diag.h"
#include "mreg/store.h"
#include "util/stream.h"
#include "util/walk.h"

struct mreg_store {
	char *dir;     /* absolute path of .mreg */
	char *models;  /* dir/models */
	char *blobs;   /* dir/blobs/sha256 */
	char *tmp;     /* dir/tmp */
	int lock_fd;   /* dir/lock, held exclusively while records change */
	int ingest_fd; /* dir/tmp/ingest.lock: shared by creators, exclusive for gc */
	bool git_commit; /* config.yaml git.commit: commit new records by default */
	char *warning;   /* mreg_store_warning(): a change made but not confirmed durable */
	char **oms_keys; /* config.yaml verify.oms_keys: PEM public keys, absolute paths */
	size_t oms_key_count;
};

/*
 * tmp/partial/<hex>.part: blobs a pull has begun, kept to resume from
 * (remote_blob.c); fsck counts what it holds, not the folder.
 */
#define STORE_PARTIAL_DIR "partial"

/*
 * A change is visible but its durability is not confirmed (the fsync of its
 * folder failed): the change stands, the command succeeds, and the warning
 * (the fsync's error, mreg_error_last(), then @what was done) is for the
 * user. The first one is kept; the error is cleared.
 */
void store_warn_not_durable(mreg_store *store, const char *what);

/* Forget the warning (the change it was about was undone). */
void store_warning_clear(mreg_store *store);

/* config.yaml's git.commit setting. */
bool store_config_git_commit(const mreg_store *store);

/*
 * config.yaml's datastores.<name>: the base URL an azureml://datastores/NAME
 * URI stands for (malloc'd). MREG_ENOTFOUND with a message naming the
 * datastore and the key when config.yaml has none; MREG_ECORRUPT when the
 * mapping is not one of strings.
 */
int store_config_datastore(char **out, const mreg_store *store, const char *name);

/*
 * Two locks, always taken in this order:
 * - the ingest lock: shared while a create streams blobs in, exclusive for gc,
 *   so gc never removes a blob whose record is not written yet;
 * - the writers' lock: exclusive while records are read-modified-written.
 */
int store_ingest_lock(mreg_store *store, bool exclusive);
void store_ingest_unlock(mreg_store *store);
int store_lock(mreg_store *store);
void store_unlock(mreg_store *store);

/* models/<name> and models/<name>/<version>.yaml (malloc'd). */
char *store_model_dir(const mreg_store *store, const char *name);
char *store_record_path(const mreg_store *store, const char *name, const char *version);

/* The record of name:version; MREG_ENOTFOUND says whether the version was deleted or never was. */
int store_read_version(mreg_record **out, mreg_store *store, const char *name, const char *version);

/*
 * The version models/NAME/ALIAS.alias names (malloc'd): MREG_ENOTFOUND when
 * there is no such alias, MREG_ECORRUPT when the file is no alias file
 * (alias.c).
 */
int store_alias_read(mreg_store *store, const char *name, const char *alias, char **version);

/*
 * fsck's look at every alias: a file that is no alias file is an error
 * (counted in *problems), an alias naming a version that is gone a warning.
 */
int store_check_aliases(mreg_store *store, mreg_diag_list *diags, size_t *problems);

/*
 * Open a blob for reading. MREG_ECORRUPT naming the digest when it is
 * missing, is not a regular file (a symlink, FIFO or device is refused without
 * blocking) or does not have @size bytes, the size its record gives.
 */
int store_blob_open(const mreg_store *store, const char *digest, uint64_t size, int *fd);

/*
 * As store_blob_open(), one open and one fstat, but the descriptor keeps the
 * O_NONBLOCK it was opened with (two fcntl calls fewer per blob, for callers
 * that open thousands). Linux ignores O_NONBLOCK for reads of a regular file
 * (open(2): "this flag has no effect for regular files and block devices"),
 * but open(2) also warns not to depend on that, and hierarchical storage
 * managers have answered EAGAIN for a file not on disk yet: the reader
 * handles EAGAIN by clearing the flag with fs_fd_set_blocking() and trying
 * again, so the flag costs nothing unless it ever matters.
 */
int store_blob_open_nonblocking(const mreg_store *store, const char *digest, uint64_t size,
				int *fd);

/*
 * Write a record crash-safely; with @create, MREG_EEXISTS if the version
 * exists. Once the record is in place it stands: when the fsync of its folder
 * fails after that, the function succeeds with store_warn_not_durable().
 */
int store_record_write(mreg_store *store, const mreg_record *record, bool create);

/*
 * Writing a version out (download, unpack): once its files are under @root,
 * make its empty folders (mode 0700 for now, so that they can still be moved)
 * and its links, then check that every link leads to something inside @root
 * (walk_link_check()): a record that came from elsewhere must not plant a
 * link out of the folder. MREG_EINVALID names the link; MREG_EIO.
 */
int store_tree_write_extras(const mreg_record *record, const char *root);

/* Give the empty folders under @root the modes the record says. */
int store_tree_dir_modes(const mreg_record *record, const char *root);

#endif
