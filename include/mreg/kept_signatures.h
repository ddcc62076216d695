/**
 * @file mreg/kept_signatures.h
 * @brief The OMS signatures a store keeps with a version.
 *
 * An OMS v1.0 signature (a Sigstore bundle, see mreg/oms.h) that arrived with
 * a version (`mreg import` of a bundle that carries it, `mreg pull` from a
 * registry that has it as a referrer) or was made for it here (`mreg sign
 * NAME:VERSION`, mreg_kept_signatures_sign()) is kept in the store as
 * `signatures/NAME/VERSION/sha256-HEX.json`: the bundle's bytes, named by
 * their SHA-256. `mreg package` and `mreg push` attach the kept signatures
 * again, `mreg verify --pubkey KEY NAME:VERSION` checks them, `mreg delete`
 * removes them with the version and `mreg gc` removes those of versions that
 * no longer exist. See mreg-store(5).
 *
 * A signature is kept only when it is a well-formed OMS bundle (the schema
 * checks of mreg_oms_bundle_parse()) whose resources are exactly the
 * version's files (mreg_oms_verify_record()); its cryptographic signature is
 * not checked when it is kept (that needs the signer's key, and happens when
 * asked).
 */
#ifndef MREG_KEPT_SIGNATURES_H
#define MREG_KEPT_SIGNATURES_H

#include <stddef.h>

#include "common.h"
#include "oms.h"
#include "record.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** At most this many signatures are kept per version (as many as a bundle or a pull carries). */
#define MREG_KEPT_SIGNATURES_MAX 16

/** One kept signature, as mreg_kept_signatures_list() found it. */
typedef struct {
	char digest[MREG_DIGEST_STRLEN]; /**< "sha256:HEX" of the file's bytes (from its name). */
	char *path;                      /**< The file's path in the store. */
	char *hint;                      /**< publicKey.hint of the key method, or NULL. */
	mreg_oms_method method;          /**< 0 when the file is damaged. */
	char *problem;                   /**< NULL when sound; else why it is damaged (names the file). */
} mreg_kept_signature;

/**
 * The signatures the store keeps for @p record (a version of @p store), sorted
 * by digest. Each file is read bounded (MREG_OMS_BUNDLE_MAX) and checked: its
 * name against its bytes' SHA-256, the OMS schemas, and its resources against
 * the record's files; one that fails is listed with @c problem set and must
 * not be used. No folder: *count is 0. Free with mreg_kept_signatures_free().
 * Returns 0; MREG_ECORRUPT when the folder holds more than
 * MREG_KEPT_SIGNATURES_MAX entries; MREG_EIO, MREG_ENOMEM.
 */
MREG_API int mreg_kept_signatures_list(mreg_kept_signature **out, size_t *count,
				       mreg_store *store, const mreg_record *record);

/** Free a list from mreg_kept_signatures_list(). Accepts NULL. */
MREG_API void mreg_kept_signatures_free(mreg_kept_signature *list, size_t count);

/** What mreg_kept_signatures_add() or mreg_kept_signatures_sign() kept. */
typedef struct {
	char digest[MREG_DIGEST_STRLEN]; /**< "sha256:HEX" of the signature's bytes: its name. */
	int added;    /**< 1: kept now; 0: the same bytes were kept already (nothing written). */
	size_t count; /**< Entries of the version's signature folder now, this one included. */
} mreg_kept_signature_added;

/**
 * Keep the OMS signature @p data (@p len bytes) with the version of @p store
 * that @p record names, by the rules of the signatures that arrive with a
 * version: at most MREG_OMS_BUNDLE_MAX bytes, a well-formed OMS bundle whose
 * resources are exactly the version's files, at most MREG_KEPT_SIGNATURES_MAX
 * per version, the same bytes once (then @c added is 0). The writers' lock is
 * held throughout and the version is read again under it: the signature is
 * checked against the files the store has then, not those of @p record. The
 * file is written crash-safely (mreg-store(5)); on failure the store is as it
 * was. Returns 0; MREG_ENOTFOUND (no such version, e.g. deleted meanwhile);
 * MREG_EINVALID (too large, not an OMS bundle of the version's files, or the
 * version keeps MREG_KEPT_SIGNATURES_MAX already: the message says which);
 * MREG_ELOCKED, MREG_EIO, MREG_ENOMEM.
 */
MREG_API int mreg_kept_signatures_add(mreg_kept_signature_added *out, mreg_store *store,
				      const mreg_record *record, const void *data, size_t len);

/**
 * Sign the stored version @p record of @p store with @p key, as
 * mreg_oms_sign_record() does, and keep the signature with the version, as
 * mreg_kept_signatures_add() does. With @p sig_path (may be NULL) the same
 * bytes are written there too, replacing the file: staged beside it first and
 * renamed into place under the writers' lock once the signature is kept, so
 * both happen or neither: on failure nothing is kept and @p sig_path is as it
 * was. That rename is the moment both stand; when the fsync of its folder
 * fails after it, the call succeeds with mreg_store_warning() set, as a
 * record's write does. @p result and @p kept may be
 * NULL; @p result is filled once the signature is made, so a caller can tell
 * a failure to keep it (a non-zero file_count) from a failure to sign.
 * Returns the codes of mreg_oms_sign_record() and mreg_kept_signatures_add().
 */
MREG_API int mreg_kept_signatures_sign(mreg_oms_sign_result *result,
				       mreg_kept_signature_added *kept, mreg_store *store,
				       const mreg_oms_key *key, const mreg_record *record,
				       const char *sig_path, const mreg_oms_sign_options *opts);

#ifdef __cplusplus
}
#endif
#endif
