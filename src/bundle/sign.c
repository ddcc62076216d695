/*
 * minisign-compatible keys and signatures with libsodium. The byte layouts are
 * minisign's (src/minisign.h there): every multi-byte integer little-endian,
 * every file a comment line followed by one base64 line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util/error_priv.h"
#include "util/fsutil.h"
#include "sign_priv.h"
#include "util/strutil.h"

#define KEYNUM_LEN 8
#define SALT_LEN crypto_pwhash_scryptsalsa208sha256_SALTBYTES /* 32 */
#define CHK_LEN crypto_generichash_BYTES                     /* 32 */
#define SK_LEN crypto_sign_SECRETKEYBYTES                      /* 64 */
#define PK_LEN crypto_sign_PUBLICKEYBYTES                      /* 32 */
#define SIG_LEN crypto_sign_BYTES                              /* 64 */

/* Offsets in the secret key blob: alg, kdf, chk alg, salt, opslimit, memlimit, keynum, sk, chk. */
enum {
	SK_ALG = 0,
	SK_KDF = 2,
	SK_CHKALG = 4,
	SK_SALT = 6,
	SK_OPS = SK_SALT + SALT_LEN,
	SK_MEM = SK_OPS + 8,
	SK_KEYNUM = SK_MEM + 8,
	SK_SK = SK_KEYNUM + KEYNUM_LEN,
	SK_CHK = SK_SK + SK_LEN,
	SK_TOTAL = SK_CHK + CHK_LEN, /* 158 */
	SK_ENCRYPTED_LEN = SK_TOTAL - SK_KEYNUM, /* keynum + sk + chk are encrypted: 104 */
	PUB_TOTAL = 2 + KEYNUM_LEN + PK_LEN,     /* 42 */
	SIG_TOTAL = 2 + KEYNUM_LEN + SIG_LEN,    /* 74 */
};

#define KEY_FILE_MAX 4096
#define SIG_FILE_MAX 16384
#define TRUSTED_MAX 8000 /* minisign refuses trusted comments of 8192 bytes with their prefix */
#define COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "

struct mreg_secret_key {
	uint8_t keynum[KEYNUM_LEN];
	uint8_t sk[SK_LEN];
	char id[MREG_KEY_ID_STRLEN];
};

struct mreg_public_key {
	uint8_t keynum[KEYNUM_LEN];
	uint8_t pk[PK_LEN];
	char id[MREG_KEY_ID_STRLEN];
};

struct sign_prehash {
	crypto_generichash_state st;
};

static int sodium_ready(void)
{
	if (sodium_init() < 0)
		return mreg_seterr(MREG_EIO, "libsodium could not be initialised");
	return 0;
}

/* minisign prints the key number as a little-endian 64-bit integer in hex. */
static void key_id(char out[MREG_KEY_ID_STRLEN], const uint8_t keynum[KEYNUM_LEN])
{
	static const char hex[] = "0123456789ABCDEF";

	for (int i = 0; i < KEYNUM_LEN; i++) {
		out[2 * i] = hex[keynum[KEYNUM_LEN - 1 - i] >> 4];
		out[2 * i + 1] = hex[keynum[KEYNUM_LEN - 1 - i] & 15];
	}
	out[16] = '\0';
}

static uint64_t le64_load(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void le64_store(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

/*
 * Read a small file whole, into sodium_malloc'd memory when it may hold a secret.
 * The buffer is NUL-terminated; free with free_small().
 */
static int read_small(char **out, size_t *len, const char *path, size_t max, bool secret)
{
	static const fs_allocator secret_mem = {sodium_malloc, sodium_free};
	int rc = fs_read_small(out, len, path, max, secret ? &secret_mem : NULL);

	if (rc == MREG_EINVALID)
		rc = mreg_seterr(MREG_EINVALID, "%s: not a minisign file (%s)", path,
				 errno == EFBIG ? "too large" : "not a regular file");
	return rc;
}

static void free_small(char *buf, bool secret)
{
	if (secret)
		sodium_free(buf);
	else
		free(buf);
}

/*
 * Split @text into lines in place: up to @max lines, each without its line
 * ending. Returns the count. Lines after the last one asked for are ignored,
 * as minisign does.
 */
static size_t split_lines(char *text, size_t len, char **lines, size_t max)
{
	size_t n = 0;
	char *p = text, *end = text + len;

	while (n < max && p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *stop = nl ? nl : end;
		*stop = '\0';
		while (stop > p && (stop[-1] == '\r' || stop[-1] == ' ' || stop[-1] == '\t'))
			*--stop = '\0';
		lines[n++] = p;
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

static int b64_decode(uint8_t *bin, size_t want, const char *b64, const char *where,
		      const char *what)
{
	size_t got = 0;

	if (sodium_base642bin(bin, want, b64, strlen(b64), NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != want)
		return mreg_seterr(MREG_EINVALID, "%s: not a minisign %s (bad base64 line)", where,
				   what);
	return 0;
}

static char *b64_encode(const uint8_t *bin, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(n);

	if (out)
		sodium_bin2base64(out, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* ---- prehash ---- */

sign_prehash *sign_prehash_new(void)
{
	size_t size = (sizeof(sign_prehash) + 63) / 64 * 64;
	sign_prehash *h;

	if (sodium_ready())
		return NULL;
	h = aligned_alloc(64, size);
	if (h)
		crypto_generichash_init(&h->st, NULL, 0, SIGN_PREHASH_LEN);
	return h;
}

void sign_prehash_update(sign_prehash *h, const void *data, size_t len)
{
	crypto_generichash_update(&h->st, data, len);
}

void sign_prehash_final(sign_prehash *h, uint8_t out[SIGN_PREHASH_LEN])
{
	crypto_generichash_final(&h->st, out, SIGN_PREHASH_LEN);
}

void sign_prehash_free(sign_prehash *h)
{
	free(h);
}

/* ---- keys ---- */

/* BLAKE2b-256 over algorithm, key number and secret key: minisign's "B2" checksum. */
static void secret_checksum(uint8_t out[CHK_LEN], const uint8_t *blob)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, CHK_LEN);
	crypto_generichash_update(&st, blob + SK_ALG, 2);
	crypto_generichash_update(&st, blob + SK_KEYNUM, KEYNUM_LEN);
	crypto_generichash_update(&st, blob + SK_SK, SK_LEN);
	crypto_generichash_final(&st, out, CHK_LEN);
	sodium_memzero(&st, sizeof(st));
}

/* The scrypt stream that encrypts keynum + sk + chk; returns 0 or MREG_ENOMEM. */
static int kdf_stream(uint8_t *stream, const char *passphrase, const uint8_t *salt,
		      uint64_t ops, uint64_t mem)
{
	if (crypto_pwhash_scryptsalsa208sha256(stream, SK_ENCRYPTED_LEN, passphrase,
					       strlen(passphrase), salt, (unsigned long long)ops,
					       (size_t)mem) != 0)
		return mreg_seterr(MREG_ENOMEM,
				   "cannot derive the key from the passphrase (scrypt needs %llu MiB)",
				   (unsigned long long)(mem >> 20));
	return 0;
}

static int keygen_blobs(uint8_t *sec, uint8_t *pub, const char *passphrase, uint64_t ops,
			uint64_t mem)
{
	uint8_t *stream = NULL;
	int rc = 0;

	memset(sec, 0, SK_TOTAL);
	randombytes_buf(sec + SK_KEYNUM, KEYNUM_LEN);
	crypto_sign_keypair(pub + 2 + KEYNUM_LEN, sec + SK_SK);
	memcpy(sec + SK_ALG, "Ed", 2);
	memcpy(sec + SK_CHKALG, "B2", 2);
	memcpy(pub, "Ed", 2);
	memcpy(pub + 2, sec + SK_KEYNUM, KEYNUM_LEN);
	secret_checksum(sec + SK_CHK, sec);
	if (!passphrase)
		return 0; /* KDF "\0\0": stored in clear, as `minisign -G -W` does */
	memcpy(sec + SK_KDF, "Sc", 2);
	randombytes_buf(sec + SK_SALT, SALT_LEN);
	stream = sodium_malloc(SK_ENCRYPTED_LEN);
	if (!stream)
		return mreg_seterr_nomem();
	/* Like minisign: halve the limits until scrypt gets its memory. */
	while ((rc = kdf_stream(stream, passphrase, sec + SK_SALT, ops, mem)) != 0) {
		ops /= 2;
		mem /= 2;
		if (ops < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN ||
		    mem < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN)
			goto done;
	}
	le64_store(sec + SK_OPS, ops);
	le64_store(sec + SK_MEM, mem);
	for (size_t i = 0; i < SK_ENCRYPTED_LEN; i++)
		sec[SK_KEYNUM + i] ^= stream[i];
done:
	sodium_free(stream);
	return rc;
}

int sign_keygen_limits(const char *secret_path, const char *public_path, const char *passphrase,
		       int force, char id_out[MREG_KEY_ID_STRLEN], uint64_t ops, uint64_t mem)
{
	uint8_t *sec = NULL, pub[PUB_TOTAL];
	char *sec_b64 = NULL, *pub_b64 = NULL, *sec_text = NULL, *pub_text = NULL;
	char *sec_dir = NULL, *pub_dir = NULL, id[MREG_KEY_ID_STRLEN];
	size_t sec_b64_len = sodium_base64_ENCODED_LEN(SK_TOTAL, sodium_base64_VARIANT_ORIGINAL);
	size_t sec_text_len = 0;
	int rc;

	if ((rc = sodium_ready()))
		return rc;
	if (passphrase && !passphrase[0])
		return mreg_seterr(MREG_EINVALID,
				   "empty passphrase (give one, or make an unencrypted key)");
	if (!force) {
		if (fs_exists(secret_path))
			return mreg_seterr(MREG_EEXISTS, "%s: already exists (not overwritten)",
					   secret_path);
		if (fs_exists(public_path))
			return mreg_seterr(MREG_EEXISTS, "%s: already exists (not overwritten)",
					   public_path);
	}
	sec = sodium_malloc(SK_TOTAL);
	sec_b64 = sodium_malloc(sec_b64_len);
	sec_text = sodium_malloc(sec_b64_len + 128);
	sec_dir = fs_dirname(secret_path);
	pub_dir = fs_dirname(public_path);
	if (!sec || !sec_b64 || !sec_text || !sec_dir || !pub_dir) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = keygen_blobs(sec, pub, passphrase, ops, mem)))
		goto done;
	key_id(id, pub + 2);
	sodium_bin2base64(sec_b64, sec_b64_len, sec, SK_TOTAL, sodium_base64_VARIANT_ORIGINAL);
	sec_text_len = (size_t)snprintf(sec_text, sec_b64_len + 128, "%sminisign %s secret key\n%s\n",
					COMMENT_PREFIX, passphrase ? "encrypted" : "unencrypted",
					sec_b64);
	pub_b64 = b64_encode(pub, PUB_TOTAL);
	pub_text = pub_b64 ? str_printf("%sminisign public key %s\n%s\n", COMMENT_PREFIX, id,
					pub_b64)
			   : NULL;
	if (!pub_text) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = fs_write_atomic_mode(secret_path, sec_text, sec_text_len, sec_dir, !force, 0600)) ||
	    (rc = fs_write_atomic_mode(public_path, pub_text, strlen(pub_text), pub_dir, !force,
				       0644)))
		goto done;
	if (id_out)
		memcpy(id_out, id, MREG_KEY_ID_STRLEN);
done:
	sodium_free(sec);
	sodium_free(sec_b64);
	sodium_free(sec_text);
	free(pub_b64);
	free(pub_text);
	free(sec_dir);
	free(pub_dir);
	return rc;
}

int mreg_keygen(const char *secret_path, const char *public_path, const char *passphrase,
		int force, char key_id_out[MREG_KEY_ID_STRLEN])
{
	/* minisign's limits: 1 GiB of memory, so brute force stays expensive. */
	return sign_keygen_limits(secret_path, public_path, passphrase, force, key_id_out,
				  crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE,
				  crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE);
}

/* Read the secret key blob of @path into @blob (SK_TOTAL bytes of locked memory). */
static int read_secret_blob(uint8_t *blob, const char *path)
{
	char *text = NULL, *lines[2];
	size_t len = 0;
	int rc;

	if ((rc = sodium_ready()) || (rc = read_small(&text, &len, path, KEY_FILE_MAX, true)))
		return rc;
	if (split_lines(text, len, lines, 2) < 2) {
		rc = mreg_seterr(MREG_EINVALID, "%s: not a minisign secret key (two lines expected)",
				 path);
		goto done;
	}
	if ((rc = b64_decode(blob, SK_TOTAL, lines[1], path, "secret key")))
		goto done;
	if (memcmp(blob + SK_ALG, "Ed", 2) != 0) {
		rc = mreg_seterr(MREG_EUNSUPPORTED, "%s: unsupported signature algorithm", path);
		goto done;
	}
	if (memcmp(blob + SK_CHKALG, "B2", 2) != 0) {
		rc = mreg_seterr(MREG_EUNSUPPORTED, "%s: unsupported checksum algorithm", path);
		goto done;
	}
	if (memcmp(blob + SK_KDF, "Sc", 2) != 0 && memcmp(blob + SK_KDF, "\0\0", 2) != 0)
		rc = mreg_seterr(MREG_EUNSUPPORTED, "%s: unsupported key derivation function", path);
done:
	free_small(text, true);
	return rc;
}

int mreg_secret_key_encrypted(int *encrypted, const char *path)
{
	uint8_t *blob = NULL;
	int rc;

	if ((rc = sodium_ready()))
		return rc;
	blob = sodium_malloc(SK_TOTAL);
	if (!blob)
		return mreg_seterr_nomem();
	rc = read_secret_blob(blob, path);
	if (rc == 0)
		*encrypted = memcmp(blob + SK_KDF, "Sc", 2) == 0;
	sodium_free(blob);
	return rc;
}

int mreg_secret_key_load(mreg_secret_key **out, const char *path, const char *passphrase)
{
	uint8_t *blob = NULL, *stream = NULL, *check = NULL;
	mreg_secret_key *key = NULL;
	static const uint8_t zero[CHK_LEN];
	int rc;

	*out = NULL;
	if ((rc = sodium_ready()))
		return rc;
	blob = sodium_malloc(SK_TOTAL);
	check = sodium_malloc(SK_LEN + PK_LEN + CHK_LEN);
	key = sodium_malloc(sizeof(*key));
	if (!blob || !check || !key) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = read_secret_blob(blob, path)))
		goto done;
	if (memcmp(blob + SK_KDF, "Sc", 2) == 0) {
		uint64_t ops = le64_load(blob + SK_OPS), mem = le64_load(blob + SK_MEM);
		if (!passphrase) {
			rc = mreg_seterr(MREG_EINVALID, "%s: the key is encrypted: a passphrase is needed",
					 path);
			goto done;
		}
		/* A key file is input too: refuse limits no key of minisign's would have. */
		if (mem > ((uint64_t)8 << 30) || ops > ((uint64_t)1 << 36)) {
			rc = mreg_seterr(MREG_EINVALID, "%s: scrypt limits out of range", path);
			goto done;
		}
		stream = sodium_malloc(SK_ENCRYPTED_LEN);
		if (!stream) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		if ((rc = kdf_stream(stream, passphrase, blob + SK_SALT, ops, mem)))
			goto done;
		for (size_t i = 0; i < SK_ENCRYPTED_LEN; i++)
			blob[SK_KEYNUM + i] ^= stream[i];
		secret_checksum(check, blob);
		if (sodium_memcmp(check, blob + SK_CHK, CHK_LEN) != 0) {
			rc = mreg_seterr(MREG_EINVALID, "%s: wrong passphrase for this key", path);
			goto done;
		}
	} else {
		/* `minisign -G -W` leaves the checksum zero; mreg fills it in. */
		secret_checksum(check, blob);
		if (memcmp(blob + SK_CHK, zero, CHK_LEN) != 0 &&
		    sodium_memcmp(check, blob + SK_CHK, CHK_LEN) != 0) {
			rc = mreg_seterr(MREG_EINVALID, "%s: the secret key is damaged (checksum)",
					 path);
			goto done;
		}
	}
	/* The secret key holds its seed and public half: they must agree. */
	crypto_sign_seed_keypair(check + SK_LEN, check, blob + SK_SK);
	if (sodium_memcmp(check, blob + SK_SK, SK_LEN) != 0) {
		rc = mreg_seterr(MREG_EINVALID, "%s: the secret key is damaged", path);
		goto done;
	}
	memcpy(key->keynum, blob + SK_KEYNUM, KEYNUM_LEN);
	memcpy(key->sk, blob + SK_SK, SK_LEN);
	key_id(key->id, key->keynum);
	*out = key;
	key = NULL;
done:
	sodium_free(blob);
	sodium_free(stream);
	sodium_free(check);
	if (key)
		sodium_free(key);
	return rc;
}

void mreg_secret_key_free(mreg_secret_key *key)
{
	if (key)
		sodium_free(key); /* sodium_free wipes the memory first */
}

const char *mreg_secret_key_id(const mreg_secret_key *key)
{
	return key->id;
}

static int public_from_b64(mreg_public_key **out, const char *b64, const char *where)
{
	uint8_t blob[PUB_TOTAL];
	mreg_public_key *key;
	int rc;

	*out = NULL;
	if ((rc = sodium_ready()) || (rc = b64_decode(blob, PUB_TOTAL, b64, where, "public key")))
		return rc;
	if (memcmp(blob, "Ed", 2) != 0)
		return mreg_seterr(MREG_EUNSUPPORTED, "%s: unsupported signature algorithm", where);
	key = calloc(1, sizeof(*key));
	if (!key)
		return mreg_seterr_nomem();
	memcpy(key->keynum, blob + 2, KEYNUM_LEN);
	memcpy(key->pk, blob + 2 + KEYNUM_LEN, PK_LEN);
	key_id(key->id, key->keynum);
	*out = key;
	return 0;
}

int mreg_public_key_load(mreg_public_key **out, const char *path)
{
	char *text = NULL, *lines[2];
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = read_small(&text, &len, path, KEY_FILE_MAX, false)))
		return rc;
	if (split_lines(text, len, lines, 2) < 2)
		rc = mreg_seterr(MREG_EINVALID, "%s: not a minisign public key (two lines expected)",
				 path);
	else
		rc = public_from_b64(out, lines[1], path);
	free(text);
	return rc;
}

int mreg_public_key_parse(mreg_public_key **out, const char *base64)
{
	return public_from_b64(out, base64, "public key");
}

void mreg_public_key_free(mreg_public_key *key)
{
	free(key);
}

const char *mreg_public_key_id(const mreg_public_key *key)
{
	return key->id;
}

/* ---- signatures ---- */

static bool comment_ok(const char *s)
{
	return !strchr(s, '\n') && !strchr(s, '\r') && strlen(s) <= TRUSTED_MAX;
}

int sign_minisig_create(char **out, const mreg_secret_key *key,
			const uint8_t prehash[SIGN_PREHASH_LEN], const char *trusted)
{
	uint8_t sig[SIG_TOTAL], global[SIG_LEN];
	uint8_t *both = NULL;
	size_t tlen = strlen(trusted);
	char *sig_b64 = NULL, *global_b64 = NULL;
	int rc = 0;

	*out = NULL;
	if ((rc = sodium_ready()))
		return rc;
	if (!comment_ok(trusted))
		return mreg_seterr(MREG_EINVALID,
				   "trusted comment: one line of at most %d bytes expected",
				   TRUSTED_MAX);
	memcpy(sig, "ED", 2);
	memcpy(sig + 2, key->keynum, KEYNUM_LEN);
	crypto_sign_detached(sig + 2 + KEYNUM_LEN, NULL, prehash, SIGN_PREHASH_LEN, key->sk);
	/* The global signature binds the trusted comment to the signature. */
	both = malloc(SIG_LEN + tlen);
	if (!both)
		return mreg_seterr_nomem();
	memcpy(both, sig + 2 + KEYNUM_LEN, SIG_LEN);
	memcpy(both + SIG_LEN, trusted, tlen);
	crypto_sign_detached(global, NULL, both, SIG_LEN + tlen, key->sk);
	sig_b64 = b64_encode(sig, SIG_TOTAL);
	global_b64 = b64_encode(global, SIG_LEN);
	if (sig_b64 && global_b64)
		*out = str_printf("%ssignature from mreg secret key %s\n%s\n%s%s\n%s\n",
				  COMMENT_PREFIX, key->id, sig_b64, TRUSTED_PREFIX, trusted,
				  global_b64);
	if (!*out)
		rc = mreg_seterr_nomem();
	free(both);
	free(sig_b64);
	free(global_b64);
	return rc;
}

int sign_minisig_parse(sign_minisig *out, const char *text, size_t len, const char *where)
{
	char *copy = NULL, *lines[4];
	uint8_t sig[SIG_TOTAL];
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len))
		return mreg_seterr(MREG_EINVALID, "%s: not a minisign signature (binary data)", where);
	copy = strndup(text, len);
	if (!copy)
		return mreg_seterr_nomem();
	if (split_lines(copy, len, lines, 4) < 4) {
		rc = mreg_seterr(MREG_EINVALID, "%s: not a minisign signature (four lines expected)",
				 where);
		goto done;
	}
	if (!str_starts_with(lines[0], COMMENT_PREFIX) || !str_starts_with(lines[2], TRUSTED_PREFIX)) {
		rc = mreg_seterr(MREG_EINVALID,
				 "%s: not a minisign signature (comment lines missing)", where);
		goto done;
	}
	if ((rc = b64_decode(sig, SIG_TOTAL, lines[1], where, "signature")) ||
	    (rc = b64_decode(out->global, SIG_LEN, lines[3], where, "signature")))
		goto done;
	if (memcmp(sig, "ED", 2) != 0 && memcmp(sig, "Ed", 2) != 0) {
		rc = mreg_seterr(MREG_EUNSUPPORTED, "%s: unsupported signature algorithm", where);
		goto done;
	}
	memcpy(out->alg, sig, 2);
	memcpy(out->keynum, sig + 2, KEYNUM_LEN);
	memcpy(out->sig, sig + 2 + KEYNUM_LEN, SIG_LEN);
	key_id(out->key_id, out->keynum);
	out->trusted = strdup(lines[2] + strlen(TRUSTED_PREFIX));
	if (!out->trusted)
		rc = mreg_seterr_nomem();
done:
	free(copy);
	return rc;
}

void sign_minisig_dispose(sign_minisig *sig)
{
	free(sig->trusted);
	sig->trusted = NULL;
}

int sign_minisig_prehashed(const sign_minisig *sig)
{
	return memcmp(sig->alg, "ED", 2) == 0;
}

int sign_minisig_verify(const mreg_public_key *key, const sign_minisig *sig,
			const uint8_t *prehash, const uint8_t *msg, size_t msg_len, const char *where)
{
	uint8_t own[SIGN_PREHASH_LEN], *both;
	size_t tlen = strlen(sig->trusted);
	int ok;

	if (sodium_ready())
		return MREG_EIO;
	if (memcmp(sig->keynum, key->keynum, KEYNUM_LEN) != 0)
		return mreg_seterr(MREG_ECORRUPT, "%s: signed by key %s, not by key %s", where,
				   sig->key_id, key->id);
	if (sign_minisig_prehashed(sig)) {
		if (!prehash) {
			if (!msg)
				return mreg_seterr(MREG_EUNSUPPORTED, "%s: no message to check", where);
			crypto_generichash(own, sizeof(own), msg, msg_len, NULL, 0);
			prehash = own;
		}
		ok = crypto_sign_verify_detached(sig->sig, prehash, SIGN_PREHASH_LEN, key->pk) == 0;
	} else {
		if (!msg)
			return mreg_seterr(MREG_EUNSUPPORTED,
					   "%s: a legacy (not prehashed) signature cannot be checked "
					   "here",
					   where);
		ok = crypto_sign_verify_detached(sig->sig, msg, msg_len, key->pk) == 0;
	}
	if (!ok)
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: signature verification failed (the data changed after "
				   "signing, or another key signed it)",
				   where);
	both = malloc(SIG_LEN + tlen);
	if (!both)
		return mreg_seterr_nomem();
	memcpy(both, sig->sig, SIG_LEN);
	memcpy(both + SIG_LEN, sig->trusted, tlen);
	ok = crypto_sign_verify_detached(sig->global, both, SIG_LEN + tlen, key->pk) == 0;
	free(both);
	if (!ok)
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: the trusted comment's signature does not verify", where);
	return 0;
}

/* ---- whole files ---- */

/* BLAKE2b-512 of a file, read once. */
static int prehash_file(uint8_t out[SIGN_PREHASH_LEN], const char *file)
{
	sign_prehash *h = sign_prehash_new();
	uint8_t *buf = malloc(1 << 20);
	int fd = -1, rc = 0;

	if (!h || !buf) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = mreg_seterr_errno("%s", file);
		goto done;
	}
	for (;;) {
		ssize_t n = read(fd, buf, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mreg_seterr_errno("%s: read", file);
			goto done;
		}
		if (n == 0)
			break;
		sign_prehash_update(h, buf, (size_t)n);
	}
	sign_prehash_final(h, out);
done:
	if (fd >= 0)
		close(fd);
	sign_prehash_free(h);
	free(buf);
	return rc;
}

int mreg_sign_file(const mreg_secret_key *key, const char *file, const char *sig_file,
		   const char *trusted)
{
	uint8_t prehash[SIGN_PREHASH_LEN];
	char *text = NULL, *own = NULL, *dir = NULL;
	const char *base = strrchr(file, '/');
	int rc;

	if (!trusted) {
		own = str_printf("file:%s\thashed", base ? base + 1 : file);
		if (!own)
			return mreg_seterr_nomem();
		trusted = own;
	}
	if ((rc = prehash_file(prehash, file)) ||
	    (rc = sign_minisig_create(&text, key, prehash, trusted)))
		goto done;
	dir = fs_dirname(sig_file);
	rc = dir ? fs_write_atomic(sig_file, text, strlen(text), dir, false) : mreg_seterr_nomem();
done:
	free(own);
	free(text);
	free(dir);
	return rc;
}

int mreg_verify_file(const mreg_public_key *key, const char *file, const char *sig_file,
		     char **trusted_out)
{
	sign_minisig sig;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (trusted_out)
		*trusted_out = NULL;
	if ((rc = read_small(&text, &len, sig_file, SIG_FILE_MAX, false)))
		return rc;
	rc = sign_minisig_parse(&sig, text, len, sig_file);
	free(text);
	if (rc)
		return rc;
	if (sign_minisig_prehashed(&sig)) {
		uint8_t prehash[SIGN_PREHASH_LEN];
		if (!(rc = prehash_file(prehash, file)))
			rc = sign_minisig_verify(key, &sig, prehash, NULL, 0, sig_file);
	} else {
		/* Legacy signatures cover the data itself: map it rather than read it all in. */
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		struct stat st;
		void *map = NULL;
		if (fd < 0 || fstat(fd, &st) < 0) {
			rc = mreg_seterr_errno("%s", file);
		} else if (st.st_size > 0 &&
			   (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) ==
				   MAP_FAILED) {
			map = NULL;
			rc = mreg_seterr_errno("%s: mmap", file);
		} else {
			static const uint8_t empty[1];
			rc = sign_minisig_verify(key, &sig, NULL, map ? map : empty,
						 (size_t)st.st_size, sig_file);
		}
		if (map)
			munmap(map, (size_t)st.st_size);
		if (fd >= 0)
			close(fd);
	}
	if (rc == 0 && trusted_out) {
		*trusted_out = sig.trusted;
		sig.trusted = NULL;
	}
	sign_minisig_dispose(&sig);
	return rc;
}
