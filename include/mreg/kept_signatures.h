/**
 * @file mreg/kept_signatures.h
 * @brief The OMS signatures a store keeps with a version.
 *
 * An OMS v1.0 signature (a Sigstore bundle, see mreg/oms.h) that arrived with
 * a version (`mreg import` of a bundle that carries it, `mreg pull` from a
 * registry that has it as a referrer) is kept in the store as
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

#ifdef __cplusplus
}
#endif
#endif
