/*
 * Reading and verifying OMS v1.0 bundles (see mreg/oms.h). The reader is the
 * door for untrusted input: the file is bounded (MREG_OMS_BUNDLE_MAX), the
 * JSON is parsed by jansson with duplicate keys refused, and every field the
 * four OMS schemas (bundle, envelope, statement, predicate) constrain is
 * checked here, each failure naming the file and the field (its JSON path).
 * tests/fuzz/fuzz_oms.c drives mreg_oms_bundle_parse().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "oms_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/strutil.h"

#define MAX_CERTS 16
#define MAX_SIGS 16

/* A field value from the bundle, safe to print. */
static const char *shown(char buf[128], const char *s)
{
	str_escape_controls(buf, 128, s);
	return buf;
}

static int bad(const mreg_oms_bundle *b, const char *field, const char *why)
{
	return mreg_seterr(MREG_EINVALID, "%s: %s: %s", b->file, field, why);
}

/* Only the @allowed keys (NULL-terminated) may appear in @obj. */
static int only_keys(const mreg_oms_bundle *b, const char *where, json_t *obj,
		     const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		size_t i;
		char buf[128];
		for (i = 0; allowed[i] && strcmp(allowed[i], key); i++)
			;
		if (!allowed[i])
			return mreg_seterr(MREG_EINVALID, "%s: %s: unexpected field '%s' (the OMS "
					   "schema allows no other)", b->file, where, shown(buf, key));
	}
	return 0;
}

static const char *get_string(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool is_lower_hex(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* Strict base64 (RFC 4648, padded) into a malloc'd buffer with a NUL after. */
static int unbase64(unsigned char **out, size_t *out_len, const char *s)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *buf;
	int len;

	if (n == 0 || n % 4 || n > INT32_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=') {
			if (i < n - 2)
				return -1;
			pad++;
		} else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/') || pad) {
			return -1;
		}
	}
	if (!(buf = malloc(n / 4 * 3 + 1)))
		return -2;
	len = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (len < 0 || (size_t)len < pad) {
		free(buf);
		return -1;
	}
	*out_len = (size_t)len - pad;
	buf[*out_len] = '\0';
	*out = buf;
	return 0;
}

static int decode_field(const mreg_oms_bundle *b, unsigned char **out, size_t *len,
			const char *s, const char *field)
{
	int r = unbase64(out, len, s);
	if (r == -2)
		return mreg_seterr_nomem();
	if (r)
		return bad(b, field, "not base64");
	return 0;
}

static int parse_certs(mreg_oms_bundle *b, json_t *list, const char *where)
{
	char field[96];
	size_t n = json_array_size(list);

	if (n > MAX_CERTS)
		return bad(b, where, "more than 16 certificates");
	if (!(b->certs = calloc(n ? n : 1, sizeof(*b->certs))) ||
	    !(b->cert_lens = calloc(n ? n : 1, sizeof(*b->cert_lens))))
		return mreg_seterr_nomem();
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(list, i);
		const char *raw = get_string(c, "rawBytes");
		int rc;
		snprintf(field, sizeof(field), "%s[%zu].rawBytes", where, i);
		if (!json_is_object(c) || !raw || !raw[0])
			return bad(b, field, "missing (a base64 DER certificate is required)");
		if ((rc = decode_field(b, &b->certs[i], &b->cert_lens[i], raw, field)))
			return rc;
		b->cert_count++;
	}
	return 0;
}

static int parse_tlog(const mreg_oms_bundle *b, json_t *vm, bool required)
{
	json_t *t = json_object_get(vm, "tlogEntries");
	if (!t) {
		if (required)
			return bad(b, "verificationMaterial.tlogEntries",
				   "missing: a 'sigstore' bundle (verificationMaterial.certificate) "
				   "needs its transparency log entries");
		return 0;
	}
	if (!json_is_array(t))
		return bad(b, "verificationMaterial.tlogEntries", "not an array");
	for (size_t i = 0; i < json_array_size(t); i++)
		if (!json_is_object(json_array_get(t, i)))
			return bad(b, "verificationMaterial.tlogEntries", "an entry is not an object");
	if (required && json_array_size(t) == 0)
		return bad(b, "verificationMaterial.tlogEntries",
			   "empty: a 'sigstore' bundle needs at least one transparency log entry");
	return 0;
}

static int parse_material(mreg_oms_bundle *b, json_t *vm)
{
	json_t *pk = json_object_get(vm, "publicKey");
	json_t *chain = json_object_get(vm, "x509CertificateChain");
	json_t *cert = json_object_get(vm, "certificate");
	json_t *ts = json_object_get(vm, "timestampVerificationData");
	int rc;

	if (!json_is_object(vm))
		return bad(b, "verificationMaterial", vm ? "not an object" : "missing");
	if (ts && !json_is_object(ts))
		return bad(b, "verificationMaterial.timestampVerificationData", "not an object");
	if (pk) {
		const char *hint = get_string(pk, "hint"), *raw = get_string(pk, "rawBytes");
		b->method = MREG_OMS_METHOD_KEY;
		if (!json_is_object(pk))
			return bad(b, "verificationMaterial.publicKey", "not an object");
		if (!hint && !raw)
			return bad(b, "verificationMaterial.publicKey",
				   "neither 'hint' nor 'rawBytes' (a string) is there");
		if (json_object_get(pk, "hint") && !hint)
			return bad(b, "verificationMaterial.publicKey.hint", "not a string");
		if (json_object_get(pk, "rawBytes") && !raw)
			return bad(b, "verificationMaterial.publicKey.rawBytes", "not a string");
		if (hint && !(b->hint = strdup(hint)))
			return mreg_seterr_nomem();
		return parse_tlog(b, vm, false);
	}
	if (chain) {
		json_t *list = json_object_get(chain, "certificates");
		b->method = MREG_OMS_METHOD_CERTIFICATE;
		if (!json_is_object(chain))
			return bad(b, "verificationMaterial.x509CertificateChain", "not an object");
		if (!json_is_array(list) || json_array_size(list) == 0)
			return bad(b, "verificationMaterial.x509CertificateChain.certificates",
				   "missing or empty (the leaf certificate at least is required)");
		if ((rc = parse_certs(b, list, "verificationMaterial.x509CertificateChain.certificates")))
			return rc;
		return parse_tlog(b, vm, false);
	}
	if (cert) {
		json_t *one = json_array();
		b->method = MREG_OMS_METHOD_SIGSTORE;
		if (!json_is_object(cert)) {
			json_decref(one);
			return bad(b, "verificationMaterial.certificate", "not an object");
		}
		if (!one || json_array_append(one, cert)) {
			json_decref(one);
			return mreg_seterr_nomem();
		}
		rc = parse_certs(b, one, "verificationMaterial.certificate");
		json_decref(one);
		return rc ? rc : parse_tlog(b, vm, true);
	}
	return bad(b, "verificationMaterial",
		   "none of publicKey (key method), x509CertificateChain (certificate method) or "
		   "certificate (sigstore method)");
}

static int parse_envelope(mreg_oms_bundle *b, json_t *env)
{
	static const char *const keys[] = {"payload", "payloadType", "signatures", NULL};
	static const char *const sig_keys[] = {"sig", "keyid", NULL};
	const char *payload, *type;
	json_t *sigs;
	size_t n;
	int rc;

	if (!json_is_object(env))
		return bad(b, "dsseEnvelope", env ? "not an object" : "missing (an OMS bundle carries a DSSE envelope)");
	if ((rc = only_keys(b, "dsseEnvelope", env, keys)))
		return rc;
	type = get_string(env, "payloadType");
	if (!type)
		return bad(b, "dsseEnvelope.payloadType", "missing or not a string");
	if (strcmp(type, OMS_PAYLOAD_TYPE)) {
		char buf[128];
		return mreg_seterr(MREG_EINVALID, "%s: dsseEnvelope.payloadType: '%s', not '%s'",
				   b->file, shown(buf, type), OMS_PAYLOAD_TYPE);
	}
	if (!(b->payload_type = strdup(type)))
		return mreg_seterr_nomem();
	payload = get_string(env, "payload");
	if (!payload || !payload[0])
		return bad(b, "dsseEnvelope.payload", "missing, empty or not a string");
	if ((rc = decode_field(b, &b->payload, &b->payload_len, payload, "dsseEnvelope.payload")))
		return rc;
	sigs = json_object_get(env, "signatures");
	if (!json_is_array(sigs) || (n = json_array_size(sigs)) == 0)
		return bad(b, "dsseEnvelope.signatures", "missing or empty (one signature at least)");
	if (n > MAX_SIGS)
		return bad(b, "dsseEnvelope.signatures", "more than 16 signatures");
	if (!(b->sigs = calloc(n, sizeof(*b->sigs))) || !(b->sig_lens = calloc(n, sizeof(*b->sig_lens))))
		return mreg_seterr_nomem();
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(sigs, i), *keyid;
		const char *sig = get_string(s, "sig");
		char field[64];
		snprintf(field, sizeof(field), "dsseEnvelope.signatures[%zu]", i);
		if (!json_is_object(s))
			return bad(b, field, "not an object");
		if ((rc = only_keys(b, field, s, sig_keys)))
			return rc;
		keyid = json_object_get(s, "keyid");
		if (keyid && !json_is_string(keyid) && !json_is_null(keyid))
			return bad(b, field, "keyid is neither a string nor null");
		snprintf(field, sizeof(field), "dsseEnvelope.signatures[%zu].sig", i);
		if (!sig || !sig[0])
			return bad(b, field, "missing, empty or not a string");
		if ((rc = decode_field(b, &b->sigs[i], &b->sig_lens[i], sig, field)))
			return rc;
		b->sig_count++;
	}
	return 0;
}

static int parse_resources(mreg_oms_bundle *b, json_t *res)
{
	if (!json_is_array(res))
		return bad(b, "payload: predicate.resources", res ? "not an array" : "missing");
	for (size_t i = 0; i < json_array_size(res); i++) {
		json_t *r = json_array_get(res, i);
		const char *name = get_string(r, "name"), *digest = get_string(r, "digest");
		const char *alg = get_string(r, "algorithm");
		char field[96];
		int rc;
		snprintf(field, sizeof(field), "payload: predicate.resources[%zu]", i);
		if (!json_is_object(r))
			return bad(b, field, "not an object");
		if (!name || !name[0])
			return bad(b, field, "name: missing, empty or not a string");
		if (!digest || !is_lower_hex(digest))
			return bad(b, field, "digest: missing or not lowercase hex");
		if (!alg || !(!strcmp(alg, "sha256") || !strcmp(alg, "blake2b") || !strcmp(alg, "blake3")))
			return bad(b, field, "algorithm: missing or not one of sha256, blake2b, blake3");
		if (strcmp(alg, b->hash_type))
			b->resources_ok_algorithm = false;
		if (strlen(digest) != SHA256_HEXLEN)
			b->resources_ok_algorithm = false;
		if ((rc = oms_manifest_add(&b->resources, name, strlen(digest) == SHA256_HEXLEN ? digest : "")))
			return rc;
	}
	return 0;
}

static int parse_serialization(mreg_oms_bundle *b, json_t *ser)
{
	static const char *const keys[] = {"method", "hash_type", "shard_size", "allow_symlinks",
					   "ignore_paths", NULL};
	const char *method = get_string(ser, "method"), *hash = get_string(ser, "hash_type");
	json_t *links = json_object_get(ser, "allow_symlinks"), *shard = json_object_get(ser, "shard_size");
	json_t *ign = json_object_get(ser, "ignore_paths");
	int rc;

	if (!json_is_object(ser))
		return bad(b, "payload: predicate.serialization", ser ? "not an object" : "missing");
	if ((rc = only_keys(b, "payload: predicate.serialization", ser, keys)))
		return rc;
	if (!method || (strcmp(method, "files") && strcmp(method, "shards")))
		return bad(b, "payload: predicate.serialization.method", "missing or not 'files' or 'shards'");
	if (!hash || (strcmp(hash, "sha256") && strcmp(hash, "blake2b") && strcmp(hash, "blake3")))
		return bad(b, "payload: predicate.serialization.hash_type",
			   "missing or not one of sha256, blake2b, blake3");
	if (!json_is_boolean(links))
		return bad(b, "payload: predicate.serialization.allow_symlinks", "missing or not a boolean");
	if (shard && (!json_is_integer(shard) || json_integer_value(shard) <= 0))
		return bad(b, "payload: predicate.serialization.shard_size", "not a positive integer");
	if (!strcmp(method, "shards") && !shard)
		return bad(b, "payload: predicate.serialization.shard_size", "missing (the shards method needs it)");
	if (ign && !json_is_array(ign))
		return bad(b, "payload: predicate.serialization.ignore_paths", "not an array");
	if (!(b->ser_method = strdup(method)) || !(b->hash_type = strdup(hash)))
		return mreg_seterr_nomem();
	b->allow_symlinks = json_is_true(links);
	if (ign && !(b->ignore_paths = calloc(json_array_size(ign) + 1, sizeof(char *))))
		return mreg_seterr_nomem();
	for (size_t i = 0; ign && i < json_array_size(ign); i++) {
		const char *p = json_string_value(json_array_get(ign, i));
		if (!p || !p[0])
			return bad(b, "payload: predicate.serialization.ignore_paths",
				   "an entry is empty or not a string");
		if (!(b->ignore_paths[b->ignore_count] = strdup(p)))
			return mreg_seterr_nomem();
		b->ignore_count++;
	}
	return 0;
}

static int parse_statement(mreg_oms_bundle *b)
{
	static const char *const keys[] = {"_type", "subject", "predicateType", "predicate", NULL};
	static const char *const pred_keys[] = {"resources", "serialization", NULL};
	json_error_t err;
	json_t *st, *subj, *s0, *dig, *pred;
	const char *type, *ptype, *name, *key;
	json_t *v;
	char buf[128];
	int rc;

	st = json_loadb((const char *)b->payload, b->payload_len, JSON_REJECT_DUPLICATES, &err);
	if (!st)
		return mreg_seterr(MREG_EINVALID, "%s: dsseEnvelope.payload: not a JSON in-toto "
				   "statement (%s)", b->file, err.text);
	rc = 0;
	if (!json_is_object(st)) {
		rc = bad(b, "dsseEnvelope.payload", "not a JSON object");
		goto out;
	}
	if ((rc = only_keys(b, "payload", st, keys)))
		goto out;
	type = get_string(st, "_type");
	if (!type || strcmp(type, OMS_STATEMENT_TYPE)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: payload: _type: '%s', not '%s'", b->file,
				 shown(buf, type ? type : "(missing)"), OMS_STATEMENT_TYPE);
		goto out;
	}
	ptype = get_string(st, "predicateType");
	if (!ptype || strcmp(ptype, OMS_PREDICATE_TYPE)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: payload: predicateType: '%s', not '%s' (not an "
				 "OMS v1.0 signature)", b->file,
				 shown(buf, ptype ? ptype : "(missing)"), OMS_PREDICATE_TYPE);
		goto out;
	}
	subj = json_object_get(st, "subject");
	if (!json_is_array(subj) || json_array_size(subj) != 1) {
		rc = bad(b, "payload: subject", "missing, or not an array of exactly one entry");
		goto out;
	}
	s0 = json_array_get(subj, 0);
	name = get_string(s0, "name");
	dig = json_object_get(s0, "digest");
	if (!json_is_object(s0) || !name || !name[0]) {
		rc = bad(b, "payload: subject[0].name", "missing, empty or not a string");
		goto out;
	}
	if (!json_is_object(dig) || json_object_size(dig) == 0) {
		rc = bad(b, "payload: subject[0].digest", "missing or empty");
		goto out;
	}
	json_object_foreach(dig, key, v) {
		if (!json_is_string(v) || !is_lower_hex(json_string_value(v))) {
			rc = bad(b, "payload: subject[0].digest", "a value is not lowercase hex");
			goto out;
		}
	}
	if (!(b->subject_name = strdup(name)) ||
	    (get_string(dig, "sha256") && !(b->subject_sha256 = strdup(get_string(dig, "sha256"))))) {
		rc = mreg_seterr_nomem();
		goto out;
	}
	pred = json_object_get(st, "predicate");
	if (!json_is_object(pred)) {
		rc = bad(b, "payload: predicate", pred ? "not an object" : "missing");
		goto out;
	}
	if ((rc = only_keys(b, "payload: predicate", pred, pred_keys)) ||
	    (rc = parse_serialization(b, json_object_get(pred, "serialization"))))
		goto out;
	b->resources_ok_algorithm = true;
	rc = parse_resources(b, json_object_get(pred, "resources"));
out:
	json_decref(st);
	return rc;
}

int mreg_oms_bundle_parse(mreg_oms_bundle **out, const void *data, size_t len, const char *name)
{
	static const char *const keys[] = {"mediaType", "verificationMaterial", "dsseEnvelope", NULL};
	mreg_oms_bundle *b;
	json_error_t err;
	json_t *doc = NULL;
	const char *media;
	int rc;

	*out = NULL;
	if (!(b = calloc(1, sizeof(*b))) || !(b->file = strdup(name ? name : "bundle"))) {
		free(b);
		return mreg_seterr_nomem();
	}
	if (len > MREG_OMS_BUNDLE_MAX) {
		rc = bad(b, "the file", "larger than 64 MiB, more than any OMS bundle holds");
		goto out;
	}
	if (len == 0) {
		rc = bad(b, "the file", "empty (an OMS bundle is a JSON object)");
		goto out;
	}
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
	if (!doc) {
		rc = mreg_seterr(MREG_EINVALID, "%s: not JSON (line %d: %s)", b->file, err.line, err.text);
		goto out;
	}
	if (!json_is_object(doc)) {
		rc = bad(b, "the file", "not a JSON object");
		goto out;
	}
	if ((rc = only_keys(b, "the bundle", doc, keys)))
		goto out;
	media = get_string(doc, "mediaType");
	if (!media || !str_starts_with(media, OMS_MEDIA_PREFIX)) {
		rc = bad(b, "mediaType", "missing or not a Sigstore bundle's "
			 "(application/vnd.dev.sigstore.bundle...)");
		goto out;
	}
	if ((rc = parse_material(b, json_object_get(doc, "verificationMaterial"))) ||
	    (rc = parse_envelope(b, json_object_get(doc, "dsseEnvelope"))) ||
	    (rc = parse_statement(b)))
		goto out;
	*out = b;
	b = NULL;
out:
	json_decref(doc);
	mreg_oms_bundle_free(b);
	return rc;
}

int mreg_oms_bundle_load(mreg_oms_bundle **out, const char *path)
{
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	rc = fs_read_small(&text, &len, path, MREG_OMS_BUNDLE_MAX, NULL);
	if (rc)
		return rc;
	rc = mreg_oms_bundle_parse(out, text, len, path);
	free(text);
	return rc;
}

void mreg_oms_bundle_free(mreg_oms_bundle *b)
{
	if (!b)
		return;
	free(b->file);
	free(b->hint);
	for (size_t i = 0; i < b->cert_count; i++)
		free(b->certs[i]);
	free(b->certs);
	free(b->cert_lens);
	free(b->payload_type);
	free(b->payload);
	for (size_t i = 0; i < b->sig_count; i++)
		free(b->sigs[i]);
	free(b->sigs);
	free(b->sig_lens);
	free(b->subject_name);
	free(b->subject_sha256);
	free(b->ser_method);
	free(b->hash_type);
	for (size_t i = 0; i < b->ignore_count; i++)
		free(b->ignore_paths[i]);
	free(b->ignore_paths);
	oms_manifest_dispose(&b->resources);
	free(b);
}

mreg_oms_method mreg_oms_bundle_method(const mreg_oms_bundle *b)
{
	return b->method;
}

const char *mreg_oms_bundle_hint(const mreg_oms_bundle *b)
{
	return b->hint;
}

size_t mreg_oms_bundle_resource_count(const mreg_oms_bundle *b)
{
	return b->resources.count;
}

const char *mreg_oms_bundle_resource_name(const mreg_oms_bundle *b, size_t i)
{
	return i < b->resources.count ? b->resources.items[i].name : NULL;
}

const char *mreg_oms_bundle_serialization(const mreg_oms_bundle *b)
{
	return b->ser_method;
}

/* ---- the signature ---- */

static EVP_PKEY *read_pubkey(const char *path, int *rc)
{
	char *text;
	size_t len;
	BIO *bio;
	EVP_PKEY *k = NULL;

	if ((*rc = fs_read_small(&text, &len, path, 1u << 20, NULL)))
		return NULL;
	if (strstr(text, "untrusted comment:")) {
		*rc = mreg_seterr(MREG_EINVALID, "%s: a minisign public key; an OMS signature is "
				  "checked with an ECDSA public key in PEM", path);
	} else if (strstr(text, "PRIVATE KEY-----")) {
		*rc = mreg_seterr(MREG_EINVALID, "%s: a private key; give the public key (PEM)", path);
	} else if (!(bio = BIO_new_mem_buf(text, (int)len))) {
		*rc = mreg_seterr_nomem();
	} else {
		k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		/* DER SubjectPublicKeyInfo (openssl pkey -pubout -outform DER), as the reference
		 * tool's cryptography.load_der_public_key would take it. */
		if (!k && !strstr(text, "-----BEGIN")) {
			const unsigned char *p = (const unsigned char *)text;
			k = d2i_PUBKEY(NULL, &p, (long)len);
			if (k && p != (const unsigned char *)text + len) {
				EVP_PKEY_free(k);
				k = NULL;
			}
		}
		ERR_clear_error();
		if (!k)
			*rc = mreg_seterr(MREG_EINVALID, "%s: not a public key (PEM or DER "
					  "SubjectPublicKeyInfo)", path);
	}
	free(text);
	return k;
}

static int check_sig_with(const mreg_oms_bundle *b, EVP_PKEY *pkey, const char *whose)
{
	const char *curve;
	const EVP_MD *md = oms_curve_md(pkey, &curve);
	unsigned char *pae;
	size_t pae_len;
	int ok = 0;

	if (!md)
		return mreg_seterr(MREG_EUNSUPPORTED, "%s: not an ECDSA key on P-256, P-384 or P-521",
				   whose);
	if (!(pae = oms_pae(&pae_len, b->payload_type, b->payload, b->payload_len)))
		return mreg_seterr_nomem();
	for (size_t i = 0; !ok && i < b->sig_count; i++) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
		     EVP_DigestVerify(ctx, b->sigs[i], b->sig_lens[i], pae, pae_len) == 1;
		EVP_MD_CTX_free(ctx);
	}
	ERR_clear_error();
	free(pae);
	if (!ok)
		return mreg_seterr(MREG_ECORRUPT, "%s: dsseEnvelope.signatures: no signature verifies "
				   "with %s (%s): the bundle was altered or signed by another key",
				   b->file, whose, curve);
	return 0;
}

static int check_chain(const mreg_oms_bundle *b, const char *trust_pem, EVP_PKEY **leaf_key)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *leaf = NULL, *x;
	BIO *bio = NULL;
	char *text = NULL;
	size_t len, anchors = 0;
	int rc = 0;

	if (!store || !ctx || !untrusted) {
		rc = mreg_seterr_nomem();
		goto out;
	}
	if ((rc = fs_read_small(&text, &len, trust_pem, 1u << 20, NULL)))
		goto out;
	if (!(bio = BIO_new_mem_buf(text, (int)len))) {
		rc = mreg_seterr_nomem();
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		X509_STORE_add_cert(store, x);
		X509_free(x);
		anchors++;
	}
	ERR_clear_error();
	if (!anchors) {
		rc = mreg_seterr(MREG_EINVALID, "%s: no PEM certificate in it", trust_pem);
		goto out;
	}
	for (size_t i = 0; i < b->cert_count; i++) {
		const unsigned char *p = b->certs[i];
		x = d2i_X509(NULL, &p, (long)b->cert_lens[i]);
		if (!x || p != b->certs[i] + b->cert_lens[i]) {
			X509_free(x);
			ERR_clear_error();
			rc = mreg_seterr(MREG_EINVALID, "%s: verificationMaterial.x509CertificateChain."
					 "certificates[%zu]: not a DER certificate", b->file, i);
			goto out;
		}
		if (i == 0)
			leaf = x;
		else
			sk_X509_push(untrusted, x);
	}
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted) || X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		rc = mreg_seterr(MREG_ECORRUPT, "%s: verificationMaterial.x509CertificateChain: the "
				 "leaf certificate does not chain to %s: %s", b->file, trust_pem,
				 X509_verify_cert_error_string(e));
		ERR_clear_error();
		goto out;
	}
	*leaf_key = X509_get_pubkey(leaf);
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	BIO_free(bio);
	free(text);
	return rc;
}

/* The rules OMS adds to the schemas, for the "files" method mreg verifies. */
static int check_statement(const mreg_oms_bundle *b)
{
	char root[SHA256_HEXLEN + 1], buf[128];

	if (strcmp(b->ser_method, "files"))
		return mreg_seterr(MREG_EUNSUPPORTED, "%s: payload: predicate.serialization.method "
				   "'%s': mreg verifies the 'files' method only", b->file, b->ser_method);
	if (strcmp(b->hash_type, "sha256") || !b->resources_ok_algorithm)
		return mreg_seterr(MREG_EUNSUPPORTED, "%s: payload: predicate: a hash other than "
				   "SHA-256 (hash_type '%s'): mreg verifies SHA-256 only",
				   b->file, b->hash_type);
	if (b->allow_symlinks)
		return mreg_seterr(MREG_EUNSUPPORTED, "%s: payload: predicate.serialization."
				   "allow_symlinks is true: mreg verifies models without links only",
				   b->file);
	if (b->resources.count == 0)
		return bad(b, "payload: predicate.resources", "empty (OMS signs one file at least)");
	for (size_t i = 0; i < b->resources.count; i++) {
		const char *n = b->resources.items[i].name;
		if (n[0] == '/' || strstr(n, "//") || !strcmp(n, ".") || !strcmp(n, "..") ||
		    str_starts_with(n, "./") || str_starts_with(n, "../") || strstr(n, "/./") ||
		    strstr(n, "/../") || n[strlen(n) - 1] == '/' ||
		    (strlen(n) >= 2 && !strcmp(n + strlen(n) - 2, "/.")) ||
		    (strlen(n) >= 3 && !strcmp(n + strlen(n) - 3, "/..")))
			return mreg_seterr(MREG_ECORRUPT, "%s: payload: predicate.resources[%zu].name "
					   "'%s': not a canonical relative path", b->file, i, shown(buf, n));
		if (i && strcmp(b->resources.items[i - 1].name, n) >= 0)
			return mreg_seterr(MREG_ECORRUPT, "%s: payload: predicate.resources[%zu] '%s': "
					   "out of order (OMS sorts resources by name, byte-wise, "
					   "each once)", b->file, i, shown(buf, n));
	}
	if (!b->subject_sha256)
		return bad(b, "payload: subject[0].digest.sha256", "missing");
	oms_root_digest(root, &b->resources);
	if (strcmp(root, b->subject_sha256))
		return mreg_seterr(MREG_ECORRUPT, "%s: payload: subject[0].digest.sha256 is not the "
				   "SHA-256 of the resources' digests (%s expected)", b->file, root);
	return 0;
}

int mreg_oms_bundle_check(const mreg_oms_bundle *b, const char *pubkey_pem, const char *trust_pem)
{
	EVP_PKEY *pkey = NULL;
	char hint[SHA256_HEXLEN + 1], whose[512];
	int rc = 0;

	if (b->method == MREG_OMS_METHOD_SIGSTORE)
		return mreg_seterr(MREG_EUNSUPPORTED,
				   "%s: signed by the 'sigstore' method (keyless: a Fulcio certificate "
				   "and a Rekor transparency log entry); checking it needs the network "
				   "and Sigstore's trust root, which mreg does not do: use "
				   "'model_signing verify sigstore'", b->file);
	if (b->method == MREG_OMS_METHOD_KEY) {
		if (!pubkey_pem)
			return mreg_seterr(MREG_EINVALID, "%s: signed by the 'key' method: give the "
					   "public key (--pubkey PEM)", b->file);
		if (!(pkey = read_pubkey(pubkey_pem, &rc)))
			return rc;
		if ((rc = oms_key_hint(hint, pkey)))
			goto out;
		/*
		 * As the reference implementation (model_signing's sign_ec_key.Verifier):
		 * a hint that is not the key's is a key mismatch, refused before the
		 * signature is looked at; a bundle without a hint (older signers) is checked.
		 */
		if (b->hint && strcmp(b->hint, hint)) {
			char buf[128];
			rc = mreg_seterr(MREG_ECORRUPT, "%s: verificationMaterial.publicKey.hint: key "
					 "mismatch: the bundle names the key %s, not the key %s (hint "
					 "%s): signed by another key", b->file, shown(buf, b->hint),
					 pubkey_pem, hint);
			goto out;
		}
		snprintf(whose, sizeof(whose), "the key %s", pubkey_pem);
	} else {
		if (!trust_pem)
			return mreg_seterr(MREG_EINVALID, "%s: signed by the 'certificate' method: give "
					   "the trusted certificates (--cert-chain PEM)", b->file);
		if ((rc = check_chain(b, trust_pem, &pkey)))
			goto out;
		snprintf(whose, sizeof(whose), "the leaf certificate's key");
	}
	if (!(rc = check_sig_with(b, pkey, whose)))
		rc = check_statement(b);
out:
	EVP_PKEY_free(pkey);
	return rc;
}

/* ---- matching the model ---- */

static int ignores_of(const char ***out, size_t *count, const mreg_oms_bundle *b,
		      const char *sig_rel)
{
	const char **l = malloc((oms_default_ignore_count + b->ignore_count + 1) * sizeof(*l));
	size_t n = 0;

	if (!l)
		return mreg_seterr_nomem();
	for (size_t i = 0; i < oms_default_ignore_count; i++)
		l[n++] = oms_default_ignores[i];
	for (size_t i = 0; i < b->ignore_count; i++)
		l[n++] = b->ignore_paths[i];
	if (sig_rel)
		l[n++] = sig_rel;
	*out = l;
	*count = n;
	return 0;
}

/* Both lists sorted by name: every signed file must be there, equal; extra files only when allowed. */
static int compare(size_t *checked, const mreg_oms_bundle *b, const oms_manifest *have,
		   const char *where, int ignore_unsigned)
{
	size_t i = 0, j = 0, ok = 0;
	char buf[128];

	while (i < b->resources.count || j < have->count) {
		int c = i == b->resources.count ? 1
			: j == have->count	? -1
						: strcmp(b->resources.items[i].name, have->items[j].name);
		if (c < 0)
			return mreg_seterr(MREG_ECORRUPT, "%s: the signed file %s is missing", where,
					   shown(buf, b->resources.items[i].name));
		if (c > 0) {
			if (!ignore_unsigned)
				return mreg_seterr(MREG_ECORRUPT, "%s: the file %s is not signed by %s "
						   "(--ignore-unsigned-files accepts files the signature "
						   "does not list)", where, shown(buf, have->items[j].name),
						   b->file);
			j++;
			continue;
		}
		if (strcmp(b->resources.items[i].hex, have->items[j].hex))
			return mreg_seterr(MREG_ECORRUPT, "%s: the file %s differs from the signed one "
					   "(SHA-256 %s, signed %s)", where, shown(buf, have->items[j].name),
					   have->items[j].hex, b->resources.items[i].hex);
		ok++;
		i++;
		j++;
	}
	if (checked)
		*checked = ok;
	return 0;
}

int mreg_oms_verify_path(size_t *checked, const mreg_oms_bundle *b, const char *model_path,
			 const mreg_oms_verify_options *o)
{
	oms_manifest have = {0};
	const char **ign = NULL;
	char *sig_rel = NULL;
	size_t n = 0;
	int rc;

	if ((rc = oms_sig_inside(&sig_rel, model_path, o ? o->sig_path : NULL)) ||
	    (rc = ignores_of(&ign, &n, b, sig_rel)))
		goto out;
	if ((rc = oms_hash_path(&have, model_path, ign, n, o ? o->progress : NULL,
				o ? o->progress_ctx : NULL, NULL)))
		goto out;
	rc = compare(checked, b, &have, model_path, o && o->ignore_unsigned);
out:
	oms_manifest_dispose(&have);
	free(ign);
	free(sig_rel);
	return rc;
}

int mreg_oms_verify_record(size_t *checked, const mreg_oms_bundle *b, const mreg_record *rec,
			   const mreg_oms_verify_options *o)
{
	oms_manifest have = {0};
	const char **ign = NULL;
	char where[512];
	size_t n = 0;
	int rc;

	snprintf(where, sizeof(where), "%s:%s", rec->name ? rec->name : "?",
		 rec->version ? rec->version : "?");
	if (rec->link_count)
		return mreg_seterr(MREG_ECORRUPT, "%s: holds the symbolic link %s, which an OMS "
				   "signature (allow_symlinks false) does not cover", where,
				   rec->links[0].path);
	if ((rc = ignores_of(&ign, &n, b, NULL)))
		return rc;
	for (size_t i = 0; !rc && i < rec->file_count; i++) {
		const mreg_file *f = &rec->files[i];
		if (!oms_ignored(f->path, ign, n))
			rc = oms_manifest_add(&have, f->path, digest_valid(f->digest) ? f->digest + 7 : "");
	}
	if (!rc) {
		oms_manifest_sort(&have);
		rc = compare(checked, b, &have, where, o && o->ignore_unsigned);
	}
	oms_manifest_dispose(&have);
	free(ign);
	return rc;
}
