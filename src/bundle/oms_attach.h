/*
 * OMS signatures attached to a model as OCI referrers: made for package and
 * push, checked for verify, import and pull. The signature manifest and the
 * referrers lists are oci.c's; this joins them to the OMS signer and verifier.
 */
#ifndef MREG_OMS_ATTACH_H
#define MREG_OMS_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "mreg/oms.h"
#include "oci.h"

/* A signature ready to attach: the OMS bundle and the manifest that makes it a referrer. */
typedef struct {
	oci_blob bundle;   /* the Sigstore bundle JSON (not NUL-terminated in its length) */
	oci_blob manifest; /* oci_sig_manifest_build(): subject = the model manifest */
} oms_attachment;

/*
 * The OMS signature of @record as a referrer of @model_manifest: made now
 * with @key (the record's digests, nothing re-hashed; ECDSA signatures are
 * randomised, so the bundle and its manifest differ at each call), or, with
 * @key NULL, the one already in the file @signature (mreg sign's output,
 * carried byte for byte), which must list exactly @record's files
 * (MREG_ECORRUPT otherwise, naming the file; MREG_EINVALID when it is not
 * an OMS bundle). Its signature is not checked here: whoever holds the key
 * checks it (pull --verify-key, verify --pubkey).
 */
int oms_attachment_build(oms_attachment *out, const oci_blob *model_manifest,
			 const mreg_record *record, const mreg_oms_key *key,
			 const char *signature);
void oms_attachment_dispose(oms_attachment *a);

/* The OMS signatures a bundle or a push attaches, sorted by their bundles' digests. */
typedef struct {
	oms_attachment items[OCI_REFERRERS_MAX];
	size_t count;
} oms_attachments;

/*
 * Every signature to attach to @model_manifest: the @kept_count ones the
 * store keeps for @record (@kept[i], @kept_lens[i] bytes: checked when they
 * were listed), and the one oms_attachment_build() makes from @key or
 * @signature (when either is not NULL); the same bytes once. More than
 * OCI_REFERRERS_MAX is MREG_EINVALID.
 */
int oms_attachments_build(oms_attachments *out, const oci_blob *model_manifest,
			  const mreg_record *record, const mreg_oms_key *key,
			  const char *signature, const char *const *kept,
			  const size_t *kept_lens, size_t kept_count);
void oms_attachments_dispose(oms_attachments *a);

/* Whether one of @record's files has @digest (the empty config "{}" may be a file too). */
bool oms_record_has_blob(const mreg_record *record, const char *digest);

/*
 * The attached OMS bundles @data[i] (@lens[i] bytes) against the PEM public
 * keys @keys: one must verify with one key and match @record's files
 * exactly (@record NULL: the signatures alone, before the files are known). @where names the model in messages. Returns 0; MREG_ECORRUPT
 * when none is attached, or none verifies (the message says why for each,
 * up to a few); MREG_EINVALID for a key file that cannot be read.
 */
int oms_attached_verify(const char *const *data, const size_t *lens, size_t count,
			const mreg_record *record, const char *const *keys, size_t key_count,
			const char *where);

#endif
