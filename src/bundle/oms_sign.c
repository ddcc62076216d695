/*
 * OMS v1.0 signing: ECDSA keys through OpenSSL, the model's manifest (from a
 * record's digests, or by hashing a folder once), the in-toto statement, the
 * DSSE envelope and the Sigstore bundle around it (see mreg/oms.h); and a
 * stored version signed and its signature kept with it (mreg/kept_signatures.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "oms_priv.h"
#include "store/kept_signatures.h"
#include "store/store_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/stream.h"
#include "util/strutil.h"

#define KEY_FILE_MAX (1u << 20)
#define CHAIN_MAX 16

const char *const oms_default_ignores[] = {".git", ".gitattributes", ".github", ".gitignore"};
const size_t oms_default_ignore_count = sizeof(oms_default_ignores) / sizeof(*oms_default_ignores);

struct mreg_oms_key {
	EVP_PKEY *pkey;
	const EVP_MD *md;
	const char *curve;
	char hint[SHA256_HEXLEN + 1];
	X509 *chain[CHAIN_MAX]; /* certificate method: leaf first */
	size_t chain_count;
};

/* ---- manifests ---- */

bool oms_ignored(const char *rel, const char *const *ignores, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		size_t n = strlen(ignores[i]);
		if (n && !strncmp(rel, ignores[i], n) && (rel[n] == '\0' || rel[n] == '/'))
			return true;
	}
	return false;
}

int oms_manifest_add(oms_manifest *m, const char *name, const char *hex)
{
	if (m->count == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		oms_resource *p = realloc(m->items, cap * sizeof(*p));
		if (!p)
			return mreg_seterr_nomem();
		m->items = p;
		m->cap = cap;
	}
	if (!(m->items[m->count].name = strdup(name)))
		return mreg_seterr_nomem();
	snprintf(m->items[m->count].hex, sizeof(m->items[m->count].hex), "%s", hex);
	m->count++;
	return 0;
}

static int cmp_resource(const void *a, const void *b)
{
	return strcmp(((const oms_resource *)a)->name, ((const oms_resource *)b)->name);
}

void oms_manifest_sort(oms_manifest *m)
{
	if (m->count > 1)
		qsort(m->items, m->count, sizeof(*m->items), cmp_resource);
}

void oms_manifest_dispose(oms_manifest *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->items[i].name);
	free(m->items);
	memset(m, 0, sizeof(*m));
}

static int hex_to_raw(uint8_t *out, const char *hex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return 0;
}

void oms_root_digest(char out[SHA256_HEXLEN + 1], const oms_manifest *m)
{
	static const char digits[] = "0123456789abcdef";
	hash_ctx *h = hash_new();
	uint8_t raw[SHA256_LEN];

	out[0] = '\0';
	if (!h)
		return;
	for (size_t i = 0; i < m->count; i++) {
		if (hex_to_raw(raw, m->items[i].hex, SHA256_LEN) == 0)
			hash_update(h, raw, SHA256_LEN);
	}
	hash_final(h, raw);
	hash_free(h);
	for (size_t i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 15];
	}
	out[SHA256_HEXLEN] = '\0';
}

/* ---- enumerating and hashing a folder ---- */

typedef struct {
	char *rel, *abs;
	uint64_t size;
} found_file;

typedef struct {
	found_file *items;
	size_t count, cap;
	const char *const *ignores;
	size_t ignore_count;
	uint64_t total;
} found_list;

static int found_add(found_list *l, const char *rel, const char *abs, uint64_t size)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		found_file *p = realloc(l->items, cap * sizeof(*p));
		if (!p)
			return mreg_seterr_nomem();
		l->items = p;
		l->cap = cap;
	}
	l->items[l->count].rel = strdup(rel);
	l->items[l->count].abs = strdup(abs);
	l->items[l->count].size = size;
	if (!l->items[l->count].rel || !l->items[l->count].abs) {
		free(l->items[l->count].rel);
		free(l->items[l->count].abs);
		return mreg_seterr_nomem();
	}
	l->count++;
	l->total += size;
	return 0;
}

static void found_dispose(found_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->items[i].rel);
		free(l->items[i].abs);
	}
	free(l->items);
}

static int cmp_found(const void *a, const void *b)
{
	return strcmp(((const found_file *)a)->rel, ((const found_file *)b)->rel);
}

static int walk_dir(found_list *l, const char *abs, const char *rel, int depth)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (depth > 256)
		return mreg_seterr(MREG_EINVALID, "%s: folders nested more than 256 deep", abs);
	if (!(d = opendir(abs)))
		return mreg_seterr_errno("%s", abs);
	while (!rc && (errno = 0, e = readdir(d))) {
		struct stat st;
		char *a, *r;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		a = path_join(abs, e->d_name);
		r = rel[0] ? path_join(rel, e->d_name) : strdup(e->d_name);
		if (!a || !r) {
			rc = mreg_seterr_nomem();
		} else if (oms_ignored(r, l->ignores, l->ignore_count)) {
			/* left out */
		} else if (!utf8_valid(e->d_name)) {
			rc = mreg_seterr(MREG_EINVALID,
					 "%s: the name is not UTF-8, so an OMS signature cannot name it", a);
		} else if (lstat(a, &st) != 0) {
			rc = mreg_seterr_errno("%s", a);
		} else if (S_ISLNK(st.st_mode)) {
			rc = mreg_seterr(MREG_EINVALID,
					 "%s: a symbolic link; OMS signatures (allow_symlinks false) "
					 "refuse links: replace it with what it points to",
					 a);
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk_dir(l, a, r, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			rc = found_add(l, r, a, (uint64_t)st.st_size);
		} else {
			rc = mreg_seterr(MREG_EINVALID,
					 "%s: not a regular file, folder or link (a device, FIFO or "
					 "socket): a model cannot hold it",
					 a);
		}
		free(a);
		free(r);
	}
	if (!rc && errno)
		rc = mreg_seterr_errno("%s: reading the folder", abs);
	closedir(d);
	return rc;
}

static int hash_one(char hex[SHA256_HEXLEN + 1], const found_file *f, stream_progress *sp)
{
	uint8_t raw[SHA256_LEN];
	char digest[MREG_DIGEST_STRLEN];
	uint64_t size;
	int fd, rc;

	if ((fd = open(f->abs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return mreg_seterr_errno("%s", f->abs);
	rc = stream_copy(fd, f->abs, -1, NULL, raw, &size, sp);
	close(fd);
	if (rc)
		return rc;
	if (sp)
		sp->base += size;
	digest_format(digest, raw); /* "sha256:<hex>" */
	memcpy(hex, digest + 7, SHA256_HEXLEN + 1);
	return 0;
}

int oms_hash_path(oms_manifest *out, const char *model_path, const char *const *ignores,
		  size_t ignore_count, mreg_progress_fn fn, void *ctx, uint64_t *bytes)
{
	found_list l = {.ignores = ignores, .ignore_count = ignore_count};
	stream_progress sp = {.fn = fn, .ctx = ctx};
	struct stat st;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (lstat(model_path, &st) != 0)
		return mreg_seterr_errno("%s", model_path);
	if (S_ISLNK(st.st_mode))
		return mreg_seterr(MREG_EINVALID,
				   "%s: a symbolic link; OMS signatures (allow_symlinks false) refuse "
				   "links: give the folder or file it points to",
				   model_path);
	if (S_ISDIR(st.st_mode)) {
		rc = walk_dir(&l, model_path, "", 0);
	} else if (S_ISREG(st.st_mode)) {
		const char *base = strrchr(model_path, '/');
		base = base ? base + 1 : model_path;
		if (!utf8_valid(base))
			rc = mreg_seterr(MREG_EINVALID, "%s: the name is not UTF-8", model_path);
		else
			rc = found_add(&l, base, model_path, (uint64_t)st.st_size);
	} else {
		rc = mreg_seterr(MREG_EINVALID, "%s: not a folder or a regular file", model_path);
	}
	if (!rc && l.count == 0)
		rc = mreg_seterr(MREG_EINVALID,
				 "%s: no file to sign (OMS refuses an empty model; the ignored "
				 "paths leave nothing)",
				 model_path);
	if (!rc)
		qsort(l.items, l.count, sizeof(*l.items), cmp_found);
	sp.total = l.total;
	for (size_t i = 0; !rc && i < l.count; i++) {
		char hex[SHA256_HEXLEN + 1];
		if (!(rc = hash_one(hex, &l.items[i], fn ? &sp : NULL)))
			rc = oms_manifest_add(out, l.items[i].rel, hex);
	}
	if (bytes)
		*bytes = rc ? 0 : l.total;
	found_dispose(&l);
	if (rc)
		oms_manifest_dispose(out);
	return rc;
}

int oms_sig_inside(char **rel, const char *model_path, const char *sig_path)
{
	char *root = NULL, *dir = NULL, *sig_dir = NULL, *real_sig_dir = NULL;
	const char *base;
	size_t n;
	int rc = 0;

	*rel = NULL;
	if (!sig_path)
		return 0;
	if (!(root = realpath(model_path, NULL)))
		return 0;
	if (!(sig_dir = fs_dirname(sig_path))) {
		free(root);
		return mreg_seterr_nomem();
	}
	base = strrchr(sig_path, '/');
	base = base ? base + 1 : sig_path;
	real_sig_dir = realpath(sig_dir, NULL);
	n = strlen(root);
	if (real_sig_dir && !strncmp(real_sig_dir, root, n) &&
	    (real_sig_dir[n] == '\0' || real_sig_dir[n] == '/') && strcmp(root, "/")) {
		const char *inner = real_sig_dir + n + (real_sig_dir[n] == '/');
		dir = inner[0] ? str_printf("%s/%s", inner, base) : strdup(base);
		if (!dir)
			rc = mreg_seterr_nomem();
		*rel = dir;
	}
	free(root);
	free(sig_dir);
	free(real_sig_dir);
	return rc;
}

/* Write @path crash-safely through a temporary file beside it. */
static int write_beside(const char *path, const void *data, size_t len, bool noreplace, mode_t mode)
{
	char *dir = fs_dirname(path);
	int rc;

	if (!dir)
		return mreg_seterr_nomem();
	rc = fs_write_atomic_mode(path, data, len, dir, noreplace, mode);
	free(dir);
	return rc;
}

/* ---- keys ---- */

static int ssl_error(int code, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return mreg_seterr(code, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

const EVP_MD *oms_curve_md(const EVP_PKEY *pkey, const char **curve)
{
	char group[64] = "";
	size_t len = 0;

	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len))
		return NULL;
	if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256")) {
		*curve = "P-256";
		return EVP_sha256();
	}
	if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384")) {
		*curve = "P-384";
		return EVP_sha384();
	}
	if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521")) {
		*curve = "P-521";
		return EVP_sha512();
	}
	return NULL;
}

int oms_key_hint(char out[SHA256_HEXLEN + 1], EVP_PKEY *pkey)
{
	static const char digits[] = "0123456789abcdef";
	BIO *b = BIO_new(BIO_s_mem());
	uint8_t raw[SHA256_LEN];
	char *pem;
	long len;

	if (!b || !PEM_write_bio_PUBKEY(b, pkey)) {
		BIO_free(b);
		return ssl_error(MREG_ENOMEM, "writing the public key");
	}
	len = BIO_get_mem_data(b, &pem);
	hash_buffer(raw, pem, (size_t)len);
	BIO_free(b);
	for (size_t i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 15];
	}
	out[SHA256_HEXLEN] = '\0';
	return 0;
}

static int read_pem(char **text, size_t *len, const char *path, const char *what)
{
	int rc = fs_read_small(text, len, path, KEY_FILE_MAX, NULL);
	if (rc)
		return rc;
	if (strstr(*text, "untrusted comment:")) {
		free(*text);
		return mreg_seterr(MREG_EINVALID,
				   "%s: a minisign key; OMS signatures take an ECDSA %s in PEM "
				   "(mreg keygen --oms makes one)",
				   path, what);
	}
	if (!strstr(*text, "-----BEGIN ")) {
		free(*text);
		return mreg_seterr(MREG_EINVALID, "%s: not a PEM file (no -----BEGIN line): an "
				   "ECDSA %s in PEM is expected", path, what);
	}
	return 0;
}

int mreg_oms_key_encrypted(int *encrypted, const char *path)
{
	char *text;
	size_t len;
	int rc = read_pem(&text, &len, path, "private key");
	if (rc)
		return rc;
	*encrypted = strstr(text, "ENCRYPTED") != NULL;
	free(text);
	return 0;
}

static int load_chain(mreg_oms_key *k, const char *path)
{
	char *text;
	size_t len;
	BIO *b;
	X509 *x;
	int rc = read_pem(&text, &len, path, "certificate chain");

	if (rc)
		return rc;
	if (!(b = BIO_new_mem_buf(text, (int)len))) {
		free(text);
		return mreg_seterr_nomem();
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		if (k->chain_count == CHAIN_MAX) {
			X509_free(x);
			rc = mreg_seterr(MREG_EINVALID, "%s: more than %d certificates", path, CHAIN_MAX);
			break;
		}
		k->chain[k->chain_count++] = x;
	}
	ERR_clear_error();
	BIO_free(b);
	free(text);
	if (!rc && k->chain_count == 0)
		rc = mreg_seterr(MREG_EINVALID, "%s: no PEM certificate in it", path);
	if (!rc && EVP_PKEY_eq(X509_get0_pubkey(k->chain[0]), k->pkey) != 1)
		rc = mreg_seterr(MREG_EINVALID,
				 "%s: the first certificate (the leaf) does not hold the signing "
				 "key's public half",
				 path);
	return rc;
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	size_t n;
	(void)rwflag;
	if (!pass)
		return -1;
	n = strlen(pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pass, n);
	return (int)n;
}

int mreg_oms_key_load(mreg_oms_key **out, const char *path, const char *passphrase,
		      const char *cert_chain)
{
	mreg_oms_key *k;
	char *text;
	size_t len;
	BIO *b;
	bool enc;
	int rc = read_pem(&text, &len, path, "private key");

	*out = NULL;
	if (rc)
		return rc;
	if (!(k = calloc(1, sizeof(*k))) || !(b = BIO_new_mem_buf(text, (int)len))) {
		free(k);
		OPENSSL_cleanse(text, len);
		free(text);
		return mreg_seterr_nomem();
	}
	enc = strstr(text, "ENCRYPTED") != NULL;
	k->pkey = PEM_read_bio_PrivateKey(b, NULL, pass_cb, (void *)passphrase);
	BIO_free(b);
	OPENSSL_cleanse(text, len);
	free(text);
	if (!k->pkey) {
		free(k);
		ERR_clear_error();
		if (enc && !passphrase)
			return mreg_seterr(MREG_EINVALID, "%s: an encrypted key and no passphrase", path);
		return mreg_seterr(MREG_EINVALID, enc ? "%s: wrong passphrase (the key does not decrypt)"
						      : "%s: not a PEM private key OpenSSL reads", path);
	}
	if (!(k->md = oms_curve_md(k->pkey, &k->curve))) {
		mreg_oms_key_free(k);
		return mreg_seterr(MREG_EUNSUPPORTED,
				   "%s: not an ECDSA key on P-256, P-384 or P-521, the curves OMS "
				   "signs with",
				   path);
	}
	if ((rc = oms_key_hint(k->hint, k->pkey)) || (cert_chain && (rc = load_chain(k, cert_chain)))) {
		mreg_oms_key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

void mreg_oms_key_free(mreg_oms_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	for (size_t i = 0; i < key->chain_count; i++)
		X509_free(key->chain[i]);
	free(key);
}

const char *mreg_oms_key_hint(const mreg_oms_key *key)
{
	return key->hint;
}

const char *mreg_oms_key_curve(const mreg_oms_key *key)
{
	return key->curve;
}

int mreg_oms_keygen(const char *secret_path, const char *public_path, const char *passphrase,
		    int force, char hint[MREG_OMS_HEX_STRLEN])
{
	EVP_PKEY *pkey;
	BIO *sb = NULL, *pb = NULL;
	char *sdata, *pdata, h[SHA256_HEXLEN + 1];
	long slen, plen;
	int rc;

	if (passphrase && !passphrase[0])
		return mreg_seterr(MREG_EINVALID, "empty passphrase");
	if (!force && (fs_exists(secret_path) || fs_exists(public_path)))
		return mreg_seterr(MREG_EEXISTS, "%s exists (--force replaces it)",
				   fs_exists(secret_path) ? secret_path : public_path);
	if (!(pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")))
		return ssl_error(MREG_EIO, "making a P-256 key");
	sb = BIO_new(BIO_s_mem());
	pb = BIO_new(BIO_s_mem());
	if (!sb || !pb ||
	    !PEM_write_bio_PrivateKey(sb, pkey, passphrase ? EVP_aes_256_cbc() : NULL, NULL, 0,
				      passphrase ? pass_cb : NULL, (void *)passphrase) ||
	    !PEM_write_bio_PUBKEY(pb, pkey)) {
		rc = ssl_error(MREG_EIO, "writing the key pair");
		goto out;
	}
	slen = BIO_get_mem_data(sb, &sdata);
	plen = BIO_get_mem_data(pb, &pdata);
	if ((rc = oms_key_hint(h, pkey)))
		goto out;
	if ((rc = write_beside(secret_path, sdata, (size_t)slen, !force, 0600)) ||
	    (rc = write_beside(public_path, pdata, (size_t)plen, !force, 0644)))
		goto out;
	if (hint)
		memcpy(hint, h, sizeof(h));
out:
	if (sb) {
		(void)BIO_reset(sb);
		BIO_free(sb);
	}
	BIO_free(pb);
	EVP_PKEY_free(pkey);
	return rc;
}

/* ---- the statement, the envelope, the bundle ---- */

unsigned char *oms_pae(size_t *len, const char *type, const unsigned char *payload,
		       size_t payload_len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ", strlen(type), type, payload_len);
	unsigned char *out;

	if (n < 0 || (size_t)n >= sizeof(head) || !(out = malloc((size_t)n + payload_len + 1)))
		return NULL;
	memcpy(out, head, (size_t)n);
	if (payload_len)
		memcpy(out + n, payload, payload_len);
	*len = (size_t)n + payload_len;
	return out;
}

static char *base64(const unsigned char *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static json_t *statement_json(const oms_manifest *m, const char *subject, const char *root,
			      const char *const *ignores, size_t ignore_count)
{
	json_t *res = json_array(), *ign = json_array(), *st;

	for (size_t i = 0; res && i < m->count; i++)
		json_array_append_new(res, json_pack("{s:s, s:s, s:s}", "name", m->items[i].name,
						     "digest", m->items[i].hex, "algorithm",
						     "sha256"));
	for (size_t i = 0; ign && i < ignore_count; i++)
		json_array_append_new(ign, json_string(ignores[i]));
	st = json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s, s:{s:o, s:{s:s, s:s, s:b, s:o}}}", "_type",
		       OMS_STATEMENT_TYPE, "subject", "name", subject, "digest", "sha256", root,
		       "predicateType", OMS_PREDICATE_TYPE, "predicate", "resources", res,
		       "serialization", "method", "files", "hash_type", "sha256", "allow_symlinks",
		       0, "ignore_paths", ign);
	return st;
}

static int sign_manifest(mreg_oms_sign_result *result, const mreg_oms_key *key,
			 const oms_manifest *m, const char *subject, const char *const *ignores,
			 size_t ignore_count, const char *sig_path, char **out_text, size_t *out_len)
{
	char root[SHA256_HEXLEN + 1], *payload = NULL, *text = NULL, *p64 = NULL, *s64 = NULL;
	unsigned char *pae = NULL, *sig = NULL;
	size_t pae_len, sig_len = 0;
	json_t *st = NULL, *vm = NULL, *doc = NULL;
	EVP_MD_CTX *ctx = NULL;
	int rc = 0;

	oms_root_digest(root, m);
	if (!(st = statement_json(m, subject, root, ignores, ignore_count)) ||
	    !(payload = json_dumps(st, JSON_COMPACT)) ||
	    !(pae = oms_pae(&pae_len, OMS_PAYLOAD_TYPE, (unsigned char *)payload, strlen(payload)))) {
		rc = mreg_seterr_nomem();
		goto out;
	}
	if (!(ctx = EVP_MD_CTX_new()) ||
	    EVP_DigestSignInit(ctx, NULL, key->md, NULL, key->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &sig_len, pae, pae_len) != 1 || !(sig = malloc(sig_len)) ||
	    EVP_DigestSign(ctx, sig, &sig_len, pae, pae_len) != 1) {
		rc = ssl_error(MREG_EIO, "signing");
		goto out;
	}
	if (!(p64 = base64((unsigned char *)payload, strlen(payload))) || !(s64 = base64(sig, sig_len))) {
		rc = mreg_seterr_nomem();
		goto out;
	}
	if (key->chain_count) {
		json_t *certs = json_array();
		for (size_t i = 0; certs && i < key->chain_count; i++) {
			unsigned char *der = NULL;
			int n = i2d_X509(key->chain[i], &der);
			char *b = n > 0 ? base64(der, (size_t)n) : NULL;
			OPENSSL_free(der);
			json_array_append_new(certs, json_pack("{s:s?}", "rawBytes", b));
			free(b);
		}
		vm = json_pack("{s:{s:o}, s:[]}", "x509CertificateChain", "certificates", certs,
			       "tlogEntries");
	} else {
		vm = json_pack("{s:{s:s}, s:[]}", "publicKey", "hint", key->hint, "tlogEntries");
	}
	doc = json_pack("{s:s, s:o, s:{s:s, s:s, s:[{s:s, s:s}]}}", "mediaType", MREG_OMS_MEDIA_TYPE,
			"verificationMaterial", vm, "dsseEnvelope", "payload", p64, "payloadType",
			OMS_PAYLOAD_TYPE, "signatures", "sig", s64, "keyid", "");
	vm = NULL;
	if (!doc || !(text = json_dumps(doc, JSON_INDENT(2)))) {
		rc = mreg_seterr_nomem();
		goto out;
	}
	{
		size_t n = strlen(text);
		text[n] = '\n'; /* json_dumps leaves room for the NUL only: write n + 1 bytes */
		if (sig_path) {
			rc = write_beside(sig_path, text, n + 1, false, 0644);
			text[n] = '\0';
		} else {
			*out_text = text; /* n + 1 bytes, not NUL-terminated */
			*out_len = n + 1;
			text = NULL;
		}
	}
	if (!rc && result) {
		result->file_count = m->count;
		memcpy(result->root_digest, root, sizeof(root));
	}
out:
	EVP_MD_CTX_free(ctx);
	json_decref(st);
	json_decref(vm);
	json_decref(doc);
	free(payload);
	free(pae);
	free(sig);
	free(p64);
	free(s64);
	free(text);
	return rc;
}

/* The default ignores, the caller's, and the signature file when it is inside. */
static int gather_ignores(const char ***out, size_t *count, const mreg_oms_sign_options *o,
			  const char *sig_rel)
{
	size_t extra = o ? o->ignore_count : 0, n = 0;
	const char **list = malloc((oms_default_ignore_count + extra + 1) * sizeof(*list));

	if (!list)
		return mreg_seterr_nomem();
	for (size_t i = 0; i < oms_default_ignore_count; i++)
		list[n++] = oms_default_ignores[i];
	for (size_t i = 0; i < extra; i++) {
		const char *p = o->ignore_paths[i];
		if (!p[0] || p[0] == '/' || strstr(p, "..")) {
			free(list);
			return mreg_seterr(MREG_EINVALID,
					   "ignore path '%s': give a path relative to the model root", p);
		}
		list[n++] = p;
	}
	if (sig_rel)
		list[n++] = sig_rel;
	*out = list;
	*count = n;
	return 0;
}

static int sign_record(mreg_oms_sign_result *result, const mreg_oms_key *key,
		       const mreg_record *record, const char *sig_path, char **text, size_t *len,
		       const mreg_oms_sign_options *opts)
{
	oms_manifest m = {0};
	const char **ignores;
	size_t ignore_count;
	int rc;

	if (result)
		memset(result, 0, sizeof(*result));
	if (record->link_count)
		return mreg_seterr(MREG_EINVALID,
				   "%s:%s holds the symbolic link %s; OMS signatures (allow_symlinks "
				   "false) refuse links",
				   record->name, record->version, record->links[0].path);
	if ((rc = gather_ignores(&ignores, &ignore_count, opts, NULL)))
		return rc;
	for (size_t i = 0; !rc && i < record->file_count; i++) {
		const mreg_file *f = &record->files[i];
		if (oms_ignored(f->path, ignores, ignore_count))
			continue;
		if (!digest_valid(f->digest))
			rc = mreg_seterr(MREG_ECORRUPT, "%s:%s: file %s has no SHA-256 digest",
					 record->name, record->version, f->path);
		else
			rc = oms_manifest_add(&m, f->path, f->digest + 7);
	}
	if (!rc && m.count == 0)
		rc = mreg_seterr(MREG_EINVALID, "%s:%s: no file to sign once the ignored paths are "
				 "left out", record->name, record->version);
	if (!rc) {
		oms_manifest_sort(&m);
		rc = sign_manifest(result, key, &m,
				   opts && opts->subject_name ? opts->subject_name : record->name,
				   ignores, ignore_count, sig_path, text, len);
	}
	oms_manifest_dispose(&m);
	free(ignores);
	return rc;
}

int mreg_oms_sign_record(mreg_oms_sign_result *result, const mreg_oms_key *key,
			 const mreg_record *record, const char *sig_path,
			 const mreg_oms_sign_options *opts)
{
	return sign_record(result, key, record, sig_path, NULL, NULL, opts);
}

int oms_sign_record_text(char **text, size_t *len, const mreg_oms_key *key,
			 const mreg_record *record)
{
	*text = NULL;
	*len = 0;
	return sign_record(NULL, key, record, NULL, text, len, NULL);
}

/* The file of mreg sign -o: staged beside it, renamed into place once the signature is kept. */
typedef struct {
	mreg_store *store;
	const char *tmp, *path;
	bool renamed;
} staged_sig;

static int rename_into_place(void *ctx)
{
	staged_sig *st = ctx;
	char *dir;

	if (rename(st->tmp, st->path) < 0)
		return mreg_seterr_errno("%s: rename", st->path);
	/* The rename is the moment both stand, as a record's rename is
	 * (mreg-store(5)): a folder the disk does not confirm is a warning. */
	st->renamed = true;
	if (!(dir = fs_dirname(st->path)))
		return 0; /* out of memory: the change stands, unconfirmed */
	if (fs_fsync_dir(dir))
		store_warn_not_durable(st->store, "the signature is written and kept");
	free(dir);
	return 0;
}

int mreg_kept_signatures_sign(mreg_oms_sign_result *result, mreg_kept_signature_added *kept,
			      mreg_store *store, const mreg_oms_key *key,
			      const mreg_record *record, const char *sig_path,
			      const mreg_oms_sign_options *opts)
{
	mreg_kept_signature_added local;
	staged_sig st = {0};
	char *text = NULL, *dir = NULL, *tmp = NULL;
	size_t len = 0;
	int rc;

	if (!kept)
		kept = &local;
	memset(kept, 0, sizeof(*kept));
	if ((rc = sign_record(result, key, record, NULL, &text, &len, opts)))
		goto out;
	if (sig_path) {
		if (!(dir = fs_dirname(sig_path))) {
			rc = mreg_seterr_nomem();
			goto out;
		}
		if ((rc = fs_write_staged(&tmp, text, len, dir, 0644)))
			goto out;
		st.store = store;
		st.tmp = tmp;
		st.path = sig_path;
	}
	rc = kept_sigs_add(kept, store, record, text, len, sig_path ? rename_into_place : NULL, &st);
out:
	if (tmp && !st.renamed)
		unlink(tmp);
	free(tmp);
	free(dir);
	free(text);
	return rc;
}

int mreg_oms_sign_path(mreg_oms_sign_result *result, const mreg_oms_key *key,
		       const char *model_path, const char *sig_path,
		       const mreg_oms_sign_options *opts)
{
	oms_manifest m = {0};
	const char **ignores = NULL;
	char *sig_rel = NULL, *base = NULL;
	size_t ignore_count;
	uint64_t bytes = 0;
	int rc;

	if (result)
		memset(result, 0, sizeof(*result));
	if ((rc = oms_sig_inside(&sig_rel, model_path, sig_path)) ||
	    (rc = gather_ignores(&ignores, &ignore_count, opts, sig_rel)))
		goto out;
	if ((rc = oms_hash_path(&m, model_path, ignores, ignore_count, opts ? opts->progress : NULL,
				opts ? opts->progress_ctx : NULL, &bytes)))
		goto out;
	if (opts && opts->subject_name) {
		base = strdup(opts->subject_name);
	} else {
		char *abs = realpath(model_path, NULL);
		const char *b = abs ? strrchr(abs, '/') : NULL;
		base = strdup(b && b[1] ? b + 1 : "model");
		free(abs);
	}
	if (!base) {
		rc = mreg_seterr_nomem();
		goto out;
	}
	rc = sign_manifest(result, key, &m, base, ignores, ignore_count, sig_path, NULL, NULL);
	if (!rc && result)
		result->hashed_bytes = bytes;
out:
	oms_manifest_dispose(&m);
	free(ignores);
	free(sig_rel);
	free(base);
	return rc;
}
