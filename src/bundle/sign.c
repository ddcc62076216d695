/*
 * minisign-compatible keys and signatures with libsodium. The byte layouts are
 * minisign's (the minisign_* structs in sign_priv.h); every file is a comment
 * line followed by one base64 line (a signature: two more, the trusted comment
 * and its signature).
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

#define SIGALG "Ed"
#define SIGALG_HASHED "ED"
#define KDFALG "Sc"
#define KDFNONE "\0\0"
#define CHKALG "B2"

#define KEY_FILE_MAX 4096
#define SIG_FILE_MAX 16384
#define TRUSTED_MAX 8000 /* minisign refuses trusted comments of 8192 bytes with their prefix */
#define COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "

struct mreg_secret_key {
	uint8_t keynum[MINISIGN_KEYNUM_BYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char id[MREG_KEY_ID_STRLEN];
};

struct mreg_public_key {
	minisign_keynum_pk keynum_pk;
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
static void key_id(char out[MREG_KEY_ID_STRLEN], const uint8_t keynum[MINISIGN_KEYNUM_BYTES])
{
	static const char hex[] = "0123456789ABCDEF";

	_Static_assert(MREG_KEY_ID_STRLEN == 2 * MINISIGN_KEYNUM_BYTES + 1, "key id: hex + NUL");
	for (int i = 0; i < MINISIGN_KEYNUM_BYTES; i++) {
		out[2 * i] = hex[keynum[MINISIGN_KEYNUM_BYTES - 1 - i] >> 4];
		out[2 * i + 1] = hex[keynum[MINISIGN_KEYNUM_BYTES - 1 - i] & 15];
	}
	out[2 * MINISIGN_KEYNUM_BYTES] = '\0';
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
static void secret_checksum(uint8_t out[crypto_generichash_BYTES], const minisign_seckey *sec)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof sec->keynum_sk.chk);
	crypto_generichash_update(&st, sec->sig_alg, sizeof sec->sig_alg);
	crypto_generichash_update(&st, sec->keynum_sk.keynum, sizeof sec->keynum_sk.keynum);
	crypto_generichash_update(&st, sec->keynum_sk.sk, sizeof sec->keynum_sk.sk);
	crypto_generichash_final(&st, out, sizeof sec->keynum_sk.chk);
	sodium_memzero(&st, sizeof(st));
}

/* The scrypt stream that encrypts keynum_sk; returns 0 or MREG_ENOMEM. */
static int kdf_stream(uint8_t stream[sizeof(minisign_keynum_sk)], const char *passphrase,
		      const minisign_seckey *sec, uint64_t ops, uint64_t mem)
{
	if (crypto_pwhash_scryptsalsa208sha256(stream, sizeof sec->keynum_sk, passphrase,
					       strlen(passphrase), sec->kdf_salt,
					       (unsigned long long)ops, (size_t)mem) != 0)
		return mreg_seterr(MREG_ENOMEM,
				   "cannot derive the key from the passphrase (scrypt needs %llu MiB)",
				   (unsigned long long)(mem >> 20));
	return 0;
}

/* Encrypt or decrypt (the same XOR) keynum_sk with a kdf_stream(). */
static void xor_keynum_sk(minisign_seckey *sec, const uint8_t stream[sizeof(minisign_keynum_sk)])
{
	uint8_t *p = (uint8_t *)&sec->keynum_sk;

	for (size_t i = 0; i < sizeof sec->keynum_sk; i++)
		p[i] ^= stream[i];
}

static int keygen_blobs(minisign_seckey *sec, minisign_pubkey *pub, const char *passphrase,
			uint64_t ops, uint64_t mem)
{
	uint8_t *stream = NULL;
	int rc = 0;

	memset(sec, 0, sizeof *sec);
	randombytes_buf(sec->keynum_sk.keynum, sizeof sec->keynum_sk.keynum);
	crypto_sign_keypair(pub->keynum_pk.pk, sec->keynum_sk.sk);
	memcpy(sec->sig_alg, SIGALG, sizeof sec->sig_alg);
	memcpy(sec->chk_alg, CHKALG, sizeof sec->chk_alg);
	memcpy(pub->sig_alg, SIGALG, sizeof pub->sig_alg);
	memcpy(pub->keynum_pk.keynum, sec->keynum_sk.keynum, sizeof pub->keynum_pk.keynum);
	secret_checksum(sec->keynum_sk.chk, sec);
	if (!passphrase)
		return 0; /* KDF "\0\0": stored in clear, as `minisign -G -W` does */
	memcpy(sec->kdf_alg, KDFALG, sizeof sec->kdf_alg);
	randombytes_buf(sec->kdf_salt, sizeof sec->kdf_salt);
	stream = sodium_malloc(sizeof sec->keynum_sk);
	if (!stream)
		return mreg_seterr_nomem();
	/* Like minisign: halve the limits until scrypt gets its memory. */
	while ((rc = kdf_stream(stream, passphrase, sec, ops, mem)) != 0) {
		ops /= 2;
		mem /= 2;
		if (ops < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN ||
		    mem < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN)
			goto done;
	}
	le64_store(sec->kdf_opslimit_le, ops);
	le64_store(sec->kdf_memlimit_le, mem);
	xor_keynum_sk(sec, stream);
done:
	sodium_free(stream);
	return rc;
}

int sign_keygen_limits(const char *secret_path, const char *public_path, const char *passphrase,
		       int force, char id_out[MREG_KEY_ID_STRLEN], uint64_t ops, uint64_t mem)
{
	minisign_seckey *sec = NULL;
	minisign_pubkey pub;
	char *sec_b64 = NULL, *pub_b64 = NULL, *sec_text = NULL, *pub_text = NULL;
	char *sec_dir = NULL, *pub_dir = NULL, id[MREG_KEY_ID_STRLEN];
	size_t sec_b64_len = sodium_base64_ENCODED_LEN(sizeof *sec, sodium_base64_VARIANT_ORIGINAL);
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
	sec = sodium_malloc(sizeof *sec);
	sec_b64 = sodium_malloc(sec_b64_len);
	sec_text = sodium_malloc(sec_b64_len + 128);
	sec_dir = fs_dirname(secret_path);
	pub_dir = fs_dirname(public_path);
	if (!sec || !sec_b64 || !sec_text || !sec_dir || !pub_dir) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = keygen_blobs(sec, &pub, passphrase, ops, mem)))
		goto done;
	key_id(id, pub.keynum_pk.keynum);
	sodium_bin2base64(sec_b64, sec_b64_len, (const uint8_t *)sec, sizeof *sec,
			  sodium_base64_VARIANT_ORIGINAL);
	sec_text_len = (size_t)snprintf(sec_text, sec_b64_len + 128, "%sminisign %s secret key\n%s\n",
					COMMENT_PREFIX, passphrase ? "encrypted" : "unencrypted",
					sec_b64);
	pub_b64 = b64_encode((const uint8_t *)&pub, sizeof pub);
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

/* Read the secret key blob of @path into @sec (locked memory). */
static int read_secret_blob(minisign_seckey *sec, const char *path)
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
	if ((rc = b64_decode((uint8_t *)sec, sizeof *sec, lines[1], path, "secret key")))
		goto done;
	if (memcmp(sec->sig_alg, SIGALG, sizeof sec->sig_alg) != 0) {
		rc = mreg_seterr(MREG_EUNSUPPORTED, "%s: unsupported signature algorithm", path);
		goto done;
	}
	if (memcmp(sec->chk_alg, CHKALG, sizeof sec->chk_alg) != 0) {
		rc = mreg_seterr(MREG_EUNSUPPORTED, "%s: unsupported checksum algorithm", path);
		goto done;
	}
	if (memcmp(sec->kdf_alg, KDFALG, sizeof sec->kdf_alg) != 0 &&
	    memcmp(sec->kdf_alg, KDFNONE, sizeof sec->kdf_alg) != 0)
		rc = mreg_seterr(MREG_EUNSUPPORTED, "%s: unsupported key derivation function", path);
done:
	free_small(text, true);
	return rc;
}

int mreg_secret_key_encrypted(int *encrypted, const char *path)
{
	minisign_seckey *sec = NULL;
	int rc;

	if ((rc = sodium_ready()))
		return rc;
	sec = sodium_malloc(sizeof *sec);
	if (!sec)
		return mreg_seterr_nomem();
	rc = read_secret_blob(sec, path);
	if (rc == 0)
		*encrypted = memcmp(sec->kdf_alg, KDFALG, sizeof sec->kdf_alg) == 0;
	sodium_free(sec);
	return rc;
}

/* What mreg_secret_key_load() recomputes from a decrypted key to check it. */
typedef struct {
	uint8_t chk[crypto_generichash_BYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
} secret_check;

int mreg_secret_key_load(mreg_secret_key **out, const char *path, const char *passphrase)
{
	minisign_seckey *sec = NULL;
	uint8_t *stream = NULL;
	secret_check *check = NULL;
	mreg_secret_key *key = NULL;
	static const uint8_t zero[sizeof check->chk];
	int rc;

	*out = NULL;
	if ((rc = sodium_ready()))
		return rc;
	sec = sodium_malloc(sizeof *sec);
	check = sodium_malloc(sizeof *check);
	key = sodium_malloc(sizeof(*key));
	if (!sec || !check || !key) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = read_secret_blob(sec, path)))
		goto done;
	if (memcmp(sec->kdf_alg, KDFALG, sizeof sec->kdf_alg) == 0) {
		uint64_t ops = le64_load(sec->kdf_opslimit_le), mem = le64_load(sec->kdf_memlimit_le);
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
		stream = sodium_malloc(sizeof sec->keynum_sk);
		if (!stream) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		if ((rc = kdf_stream(stream, passphrase, sec, ops, mem)))
			goto done;
		xor_keynum_sk(sec, stream);
		secret_checksum(check->chk, sec);
		if (sodium_memcmp(check->chk, sec->keynum_sk.chk, sizeof check->chk) != 0) {
			rc = mreg_seterr(MREG_EINVALID, "%s: wrong passphrase for this key", path);
			goto done;
		}
	} else {
		/* `minisign -G -W` leaves the checksum zero; mreg fills it in. */
		secret_checksum(check->chk, sec);
		if (memcmp(sec->keynum_sk.chk, zero, sizeof zero) != 0 &&
		    sodium_memcmp(check->chk, sec->keynum_sk.chk, sizeof check->chk) != 0) {
			rc = mreg_seterr(MREG_EINVALID, "%s: the secret key is damaged (checksum)",
					 path);
			goto done;
		}
	}
	/* An Ed25519 secret key is its seed then its public half: they must agree. */
	_Static_assert(crypto_sign_SEEDBYTES <= crypto_sign_SECRETKEYBYTES, "the seed leads sk");
	crypto_sign_seed_keypair(check->pk, check->sk, sec->keynum_sk.sk);
	if (sodium_memcmp(check->sk, sec->keynum_sk.sk, sizeof check->sk) != 0) {
		rc = mreg_seterr(MREG_EINVALID, "%s: the secret key is damaged", path);
		goto done;
	}
	memcpy(key->keynum, sec->keynum_sk.keynum, sizeof key->keynum);
	memcpy(key->sk, sec->keynum_sk.sk, sizeof key->sk);
	key_id(key->id, key->keynum);
	*out = key;
	key = NULL;
done:
	sodium_free(sec);
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
	minisign_pubkey pub;
	mreg_public_key *key;
	int rc;

	*out = NULL;
	if ((rc = sodium_ready()) ||
	    (rc = b64_decode((uint8_t *)&pub, sizeof pub, b64, where, "public key")))
		return rc;
	if (memcmp(pub.sig_alg, SIGALG, sizeof pub.sig_alg) != 0)
		return mreg_seterr(MREG_EUNSUPPORTED, "%s: unsupported signature algorithm", where);
	key = calloc(1, sizeof(*key));
	if (!key)
		return mreg_seterr_nomem();
	key->keynum_pk = pub.keynum_pk;
	key_id(key->id, key->keynum_pk.keynum);
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

/* The message of the global signature: the signature, then the trusted comment. */
static uint8_t *global_message(const minisign_sig *sig, const char *trusted, size_t *len)
{
	size_t tlen = strlen(trusted);
	uint8_t *both = malloc(sizeof sig->sig + tlen);

	if (both) {
		memcpy(both, sig->sig, sizeof sig->sig);
		memcpy(both + sizeof sig->sig, trusted, tlen);
		*len = sizeof sig->sig + tlen;
	}
	return both;
}

int sign_minisig_create(char **out, const mreg_secret_key *key,
			const uint8_t prehash[SIGN_PREHASH_LEN], const char *trusted)
{
	minisign_sig sig;
	uint8_t global[crypto_sign_BYTES];
	uint8_t *both = NULL;
	size_t both_len = 0;
	char *sig_b64 = NULL, *global_b64 = NULL;
	int rc = 0;

	*out = NULL;
	if ((rc = sodium_ready()))
		return rc;
	if (!comment_ok(trusted))
		return mreg_seterr(MREG_EINVALID,
				   "trusted comment: one line of at most %d bytes expected",
				   TRUSTED_MAX);
	memcpy(sig.sig_alg, SIGALG_HASHED, sizeof sig.sig_alg);
	memcpy(sig.keynum, key->keynum, sizeof sig.keynum);
	crypto_sign_detached(sig.sig, NULL, prehash, SIGN_PREHASH_LEN, key->sk);
	/* The global signature binds the trusted comment to the signature. */
	both = global_message(&sig, trusted, &both_len);
	if (!both)
		return mreg_seterr_nomem();
	crypto_sign_detached(global, NULL, both, both_len, key->sk);
	sig_b64 = b64_encode((const uint8_t *)&sig, sizeof sig);
	global_b64 = b64_encode(global, sizeof global);
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
	minisign_sig sig;
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
	if ((rc = b64_decode((uint8_t *)&sig, sizeof sig, lines[1], where, "signature")) ||
	    (rc = b64_decode(out->global, sizeof out->global, lines[3], where, "signature")))
		goto done;
	if (memcmp(sig.sig_alg, SIGALG_HASHED, sizeof sig.sig_alg) != 0 &&
	    memcmp(sig.sig_alg, SIGALG, sizeof sig.sig_alg) != 0) {
		rc = mreg_seterr(MREG_EUNSUPPORTED, "%s: unsupported signature algorithm", where);
		goto done;
	}
	out->blob = sig;
	key_id(out->key_id, out->blob.keynum);
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
	return memcmp(sig->blob.sig_alg, SIGALG_HASHED, sizeof sig->blob.sig_alg) == 0;
}

int sign_minisig_verify(const mreg_public_key *key, const sign_minisig *sig,
			const uint8_t *prehash, const uint8_t *msg, size_t msg_len, const char *where)
{
	uint8_t own[SIGN_PREHASH_LEN], *both;
	size_t both_len = 0;
	int ok;

	if (sodium_ready())
		return MREG_EIO;
	if (memcmp(sig->blob.keynum, key->keynum_pk.keynum, sizeof sig->blob.keynum) != 0)
		return mreg_seterr(MREG_ECORRUPT, "%s: signed by key %s, not by key %s", where,
				   sig->key_id, key->id);
	if (sign_minisig_prehashed(sig)) {
		if (!prehash) {
			if (!msg)
				return mreg_seterr(MREG_EUNSUPPORTED, "%s: no message to check", where);
			crypto_generichash(own, sizeof(own), msg, msg_len, NULL, 0);
			prehash = own;
		}
		ok = crypto_sign_verify_detached(sig->blob.sig, prehash, SIGN_PREHASH_LEN,
						 key->keynum_pk.pk) == 0;
	} else {
		if (!msg)
			return mreg_seterr(MREG_EUNSUPPORTED,
					   "%s: a legacy (not prehashed) signature cannot be checked "
					   "here",
					   where);
		ok = crypto_sign_verify_detached(sig->blob.sig, msg, msg_len, key->keynum_pk.pk) == 0;
	}
	if (!ok)
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: signature verification failed (the data changed after "
				   "signing, or another key signed it)",
				   where);
	both = global_message(&sig->blob, sig->trusted, &both_len);
	if (!both)
		return mreg_seterr_nomem();
	ok = crypto_sign_verify_detached(sig->global, both, both_len, key->keynum_pk.pk) == 0;
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
