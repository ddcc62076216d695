/*
 * The OMS signatures a store keeps with a version (mreg/kept_signatures.h):
 * signatures/NAME/VERSION/sha256-HEX.json. Written before the record (see
 * mreg-store(5)), so a crash leaves at worst a folder no record owns, which
 * readers ignore and gc removes.
 */
#ifndef MREG_KEPT_SIGNATURES_PRIV_H
#define MREG_KEPT_SIGNATURES_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "mreg/diag.h"
#include "mreg/kept_signatures.h"

/* Signatures that came with a version (a bundle's or a registry's referrers), to keep. */
typedef struct kept_sigs_incoming {
	const char *const *data;
	const size_t *lens;
	size_t count;
	const char *label; /* names the one signature in messages; NULL: "OMS signature N" */
	/* filled by kept_sigs_keep() */
	size_t kept;    /* files written now */
	size_t dropped; /* refused: not OMS, not this version's files, over the limit */
	char why[512];  /* why the first one was dropped */
	char *written[MREG_KEPT_SIGNATURES_MAX]; /* for kept_sigs_undo() */
	char *made_dir; /* the version's folder, when this call made it */
	bool made_model_dir, made_root; /* and signatures/NAME/, signatures/ */
} kept_sigs_incoming;

/*
 * Keep the signatures of @in that are OMS bundles of @r's files (the others
 * are counted in in->dropped, not an error): each written crash-safely
 * (tmp/, fsync, rename without replacing, fsync of the folder) before the
 * record is. The caller holds the writers' lock. Returns 0, MREG_EIO,
 * MREG_ENOMEM (what was written is undone).
 */
int kept_sigs_keep(mreg_store *s, const mreg_record *r, kept_sigs_incoming *in);

/* Called by kept_sigs_add() under the writers' lock once the signature is kept. */
typedef int (*kept_sigs_commit_fn)(void *ctx);

/*
 * mreg_kept_signatures_add(), then @commit (when not NULL) still under the
 * lock: when it fails, what was kept is removed again and its code returned.
 * So a step outside the store (the file of mreg sign -o) and the kept
 * signature happen both or neither.
 */
int kept_sigs_add(mreg_kept_signature_added *out, mreg_store *s, const mreg_record *r,
		  const void *data, size_t len, kept_sigs_commit_fn commit, void *ctx);

/* Remove what kept_sigs_keep() wrote (the record could not be written after all). */
void kept_sigs_undo(kept_sigs_incoming *in);

/* Free the bookkeeping of @in (not the signatures' bytes, which are the caller's). */
void kept_sigs_incoming_dispose(kept_sigs_incoming *in);

/*
 * Remove the signatures of NAME:VERSION (after its record is gone). Returns 0
 * or MREG_EIO; what is left is an orphan gc removes.
 */
int kept_sigs_remove(mreg_store *s, const char *name, const char *version);

/*
 * The bytes of @r's sound kept signatures, sorted by digest (damaged ones
 * are left out: fsck names them). *data[i] malloc'd, free with
 * kept_sigs_bytes_free().
 */
int kept_sigs_read(mreg_store *s, const mreg_record *r, char ***data, size_t **lens,
		   size_t *count);
void kept_sigs_bytes_free(char **data, size_t *lens, size_t count);

/*
 * gc: remove the signature folders of versions that have no record (count in
 * *removed); with @dry_run only count. The caller holds the writers' lock.
 */
int kept_sigs_gc(mreg_store *s, int dry_run, size_t *removed);

/*
 * fsck: every kept signature of every version checked (fsck-signature, an
 * error naming the file), folders of versions without a record noted
 * (fsck-signature-orphan).
 */
int kept_sigs_fsck(mreg_store *s, mreg_diag_list *diags, size_t *problems);

#endif
