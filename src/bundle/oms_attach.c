/*
 * OMS signatures as referrers of the model manifest (see oms_attach.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oms_attach.h"
#include "oms_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/strutil.h"
#include "mreg/kept_signatures.h"

_Static_assert(MREG_KEPT_SIGNATURES_MAX == OCI_REFERRERS_MAX,
	       "a version keeps as many signatures as a bundle or a pull carries");

/* The OMS bundle in @path, bounded, read and checked against @record's files. */
static int load_signature(oms_attachment *out, const mreg_record *record, const char *path)
{
	mreg_oms_bundle *b = NULL;
	mreg_oms_verify_options vo = {0};
	size_t checked = 0;
	int rc;

	if ((rc = fs_read_small(&out->bundle.data, &out->bundle.len, path, MREG_OMS_BUNDLE_MAX,
				NULL)))
		return rc;
	if ((rc = mreg_oms_bundle_parse(&b, out->bundle.data, out->bundle.len, path)))
		return rc;
	if ((rc = mreg_oms_verify_record(&checked, b, record, &vo)))
		rc = mreg_error_prefix(rc, "%s: not a signature of %s:%s", path, record->name,
				       record->version);
	mreg_oms_bundle_free(b);
	return rc;
}

int oms_attachment_build(oms_attachment *out, const oci_blob *model_manifest,
			 const mreg_record *record, const mreg_oms_key *key,
			 const char *signature)
{
	uint8_t raw[SHA256_LEN];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = key ? oms_sign_record_text(&out->bundle.data, &out->bundle.len, key, record)
		 : load_signature(out, record, signature);
	if (rc) {
		oms_attachment_dispose(out);
		return rc;
	}
	hash_buffer(raw, out->bundle.data, out->bundle.len);
	digest_format(out->bundle.digest, raw);
	if ((rc = oci_sig_manifest_build(&out->manifest, model_manifest, &out->bundle)))
		oms_attachment_dispose(out);
	return rc;
}

/* A kept signature's bytes (copied) as a referrer of @model_manifest. */
static int attachment_from_bytes(oms_attachment *out, const oci_blob *model_manifest,
				 const char *data, size_t len)
{
	uint8_t raw[SHA256_LEN];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!(out->bundle.data = malloc(len + 1)))
		return mreg_seterr_nomem();
	memcpy(out->bundle.data, data, len);
	out->bundle.data[len] = '\0';
	out->bundle.len = len;
	hash_buffer(raw, out->bundle.data, out->bundle.len);
	digest_format(out->bundle.digest, raw);
	if ((rc = oci_sig_manifest_build(&out->manifest, model_manifest, &out->bundle)))
		oms_attachment_dispose(out);
	return rc;
}

static int cmp_attachment(const void *a, const void *b)
{
	return strcmp(((const oms_attachment *)a)->bundle.digest,
		      ((const oms_attachment *)b)->bundle.digest);
}

int oms_attachments_build(oms_attachments *out, const oci_blob *model_manifest,
			  const mreg_record *record, const mreg_oms_key *key,
			  const char *signature, const char *const *kept,
			  const size_t *kept_lens, size_t kept_count)
{
	oms_attachment one;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < kept_count && rc == 0; i++) {
		if (out->count == OCI_REFERRERS_MAX)
			break;
		if ((rc = attachment_from_bytes(&out->items[out->count], model_manifest, kept[i],
						kept_lens[i])) == 0)
			out->count++;
	}
	if (rc == 0 && (key || signature) &&
	    (rc = oms_attachment_build(&one, model_manifest, record, key, signature)) == 0) {
		bool twin = false;
		for (size_t i = 0; i < out->count; i++)
			twin = twin || !strcmp(out->items[i].bundle.digest, one.bundle.digest);
		if (twin) {
			oms_attachment_dispose(&one); /* kept already: the same bytes once */
		} else if (out->count == OCI_REFERRERS_MAX) {
			oms_attachment_dispose(&one);
			rc = mreg_seterr(MREG_EINVALID,
					 "%s:%s keeps %u OMS signatures already: no room for another "
					 "(at most %u are attached)",
					 record->name, record->version, OCI_REFERRERS_MAX,
					 OCI_REFERRERS_MAX);
		} else {
			out->items[out->count++] = one;
		}
	}
	if (rc) {
		oms_attachments_dispose(out);
		return rc;
	}
	qsort(out->items, out->count, sizeof(*out->items), cmp_attachment);
	return 0;
}

void oms_attachments_dispose(oms_attachments *a)
{
	for (size_t i = 0; i < a->count; i++)
		oms_attachment_dispose(&a->items[i]);
	a->count = 0;
}

void oms_attachment_dispose(oms_attachment *a)
{
	oci_blob_dispose(&a->bundle);
	oci_blob_dispose(&a->manifest);
}

bool oms_record_has_blob(const mreg_record *record, const char *digest)
{
	for (size_t i = 0; i < record->file_count; i++)
		if (!strcmp(record->files[i].digest, digest))
			return true;
	return false;
}

/* Messages of the signatures that failed, joined (the first few). */
static void note_failure(char *buf, size_t size, size_t i, const char *key)
{
	size_t used = strlen(buf);

	if (used + 8 >= size)
		return;
	snprintf(buf + used, size - used, "%ssignature %zu with %s: %s", used ? "; " : "", i + 1,
		 key, mreg_error_last());
}

int oms_attached_verify(const char *const *data, const size_t *lens, size_t count,
			const mreg_record *record, const char *const *keys, size_t key_count,
			const char *where)
{
	char why[2048] = "";
	int rc = MREG_ECORRUPT;

	if (count == 0)
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: no OMS signature is attached (refused: a key to verify with "
				   "was given)",
				   where);
	for (size_t i = 0; i < count; i++) {
		mreg_oms_bundle *b = NULL;
		char name[64];
		snprintf(name, sizeof(name), "OMS signature %zu", i + 1);
		if ((rc = mreg_oms_bundle_parse(&b, data[i], lens[i], name))) {
			note_failure(why, sizeof(why), i, "no key");
			continue;
		}
		for (size_t k = 0; k < key_count; k++) {
			size_t checked = 0;
			mreg_oms_verify_options vo = {0};
			rc = mreg_oms_bundle_check(b, keys[k], NULL);
			if (rc == MREG_EINVALID && mreg_oms_bundle_method(b) == MREG_OMS_METHOD_KEY) {
				/* The key file itself cannot be read: a usage problem, said as is. */
				mreg_oms_bundle_free(b);
				return rc;
			}
			if (rc == 0 && record)
				rc = mreg_oms_verify_record(&checked, b, record, &vo);
			if (rc == 0) {
				mreg_oms_bundle_free(b);
				return 0;
			}
			note_failure(why, sizeof(why), i, keys[k]);
		}
		mreg_oms_bundle_free(b);
	}
	return mreg_seterr(MREG_ECORRUPT, "%s: no attached OMS signature verifies: %s", where, why);
}
