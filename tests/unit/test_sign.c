/* minisign keys and signatures: round trips, wrong keys and passphrases, damaged files, interop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "util/error_priv.h"
#include "mreg/sign.h"
#include "bundle/sign_priv.h"
#include "tap.h"


static int keygen_fast(const char *s, const char *p, const char *pass, int force, char *id)
{
	return sign_keygen_limits(s, p, pass, force, id,
				  crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_INTERACTIVE);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static bool has_tool(const char *name)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Rewrite the base64 line of a secret key file after @edit changed its bytes. */
static void edit_secret(const char *path, void (*edit)(uint8_t *blob))
{
	size_t len;
	char *text = slurp(path, &len), *nl = strchr(text, '\n'), b64[400];
	uint8_t blob[158];
	size_t got = 0;

	sodium_base642bin(blob, sizeof(blob), nl + 1, strcspn(nl + 1, "\n"), NULL, &got, NULL,
			  sodium_base64_VARIANT_ORIGINAL);
	edit(blob);
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
	nl[1] = '\0';
	FILE *f = fopen(path, "w");
	fprintf(f, "%s%s\n", text, b64);
	fclose(f);
	free(text);
}

static void zero_checksum(uint8_t *blob)
{
	memset(blob + 158 - 32, 0, 32); /* what `minisign -G -W` writes */
}

static void flip_secret(uint8_t *blob)
{
	blob[6 + 32 + 16 + 8 + 40] ^= 1; /* a byte of the public half of sk */
	memset(blob + 158 - 32, 0, 32);
}

static void test_unencrypted(void)
{
	mreg_secret_key *sk = NULL;
	mreg_public_key *pk = NULL;
	char id[MREG_KEY_ID_STRLEN] = "", *trusted = NULL;
	struct stat st;
	int enc = -1;

	tap_is_int(keygen_fast("u.key", "u.pub", NULL, 0, id), 0, "keygen without passphrase");
	tap_ok(stat("u.key", &st) == 0 && (st.st_mode & 0777) == 0600, "secret key file is 0600");
	tap_is_int(mreg_secret_key_encrypted(&enc, "u.key"), 0, "read the key header");
	tap_is_int(enc, 0, "not encrypted");
	tap_is_int(mreg_secret_key_load(&sk, "u.key", NULL), 0, "load the secret key");
	tap_is_int(mreg_public_key_load(&pk, "u.pub"), 0, "load the public key");
	tap_is_str(sk ? mreg_secret_key_id(sk) : NULL, id, "secret key id is the generated id");
	tap_is_str(pk ? mreg_public_key_id(pk) : NULL, id, "public key id is the generated id");
	tap_is_int(keygen_fast("u.key", "u2.pub", NULL, 0, NULL), MREG_EEXISTS,
		   "keygen refuses to overwrite a key");
	tap_ok(strstr(mreg_error_last(), "u.key") != NULL, "the message names the file");

	tap_write("data.txt", "the model weights\n");
	tap_is_int(mreg_sign_file(sk, "data.txt", "data.txt.minisig", NULL), 0, "sign a file");
	tap_is_int(mreg_verify_file(pk, "data.txt", "data.txt.minisig", &trusted), 0,
		   "the signature verifies");
	tap_is_str(trusted, "file:data.txt\thashed", "default trusted comment as minisign's");
	free(trusted);
	tap_write("data.txt", "the model weightz\n");
	tap_is_int(mreg_verify_file(pk, "data.txt", "data.txt.minisig", NULL), MREG_ECORRUPT,
		   "a changed file fails");
	tap_ok(strstr(mreg_error_last(), "verification failed") != NULL, "message: %s",
	       mreg_error_last());
	tap_is_int(mreg_sign_file(sk, "data.txt", "x.minisig", "two\nlines"), MREG_EINVALID,
		   "a trusted comment with a line break is refused");

	/* minisign -G -W leaves the checksum zero: such keys load. */
	edit_secret("u.key", zero_checksum);
	mreg_secret_key_free(sk);
	sk = NULL;
	tap_is_int(mreg_secret_key_load(&sk, "u.key", NULL), 0, "a key with a zero checksum loads");
	edit_secret("u.key", flip_secret);
	mreg_secret_key_free(sk);
	sk = NULL;
	tap_is_int(mreg_secret_key_load(&sk, "u.key", NULL), MREG_EINVALID, "a damaged key is refused");
	tap_ok(strstr(mreg_error_last(), "damaged") != NULL, "message: %s", mreg_error_last());
	mreg_secret_key_free(sk);
	mreg_public_key_free(pk);
}

static void test_encrypted(void)
{
	mreg_secret_key *sk = NULL;
	mreg_public_key *pk = NULL, *other = NULL;
	int enc = -1;

	tap_is_int(keygen_fast("e.key", "e.pub", "", 0, NULL), MREG_EINVALID, "empty passphrase refused");
	tap_is_int(keygen_fast("e.key", "e.pub", "correct horse", 0, NULL), 0,
		   "keygen with a passphrase");
	mreg_secret_key_encrypted(&enc, "e.key");
	tap_is_int(enc, 1, "the key says it is encrypted");
	tap_is_int(mreg_secret_key_load(&sk, "e.key", NULL), MREG_EINVALID,
		   "no passphrase for an encrypted key");
	tap_is_int(mreg_secret_key_load(&sk, "e.key", "wrong horse"), MREG_EINVALID,
		   "wrong passphrase");
	tap_ok(strstr(mreg_error_last(), "wrong passphrase") != NULL, "message: %s",
	       mreg_error_last());
	tap_is_int(mreg_secret_key_load(&sk, "e.key", "correct horse"), 0, "right passphrase");
	mreg_public_key_load(&pk, "e.pub");
	mreg_public_key_load(&other, "u.pub");
	tap_write("m.bin", "0123456789");
	tap_is_int(mreg_sign_file(sk, "m.bin", "m.bin.minisig", "hello"), 0, "sign");
	tap_is_int(mreg_verify_file(pk, "m.bin", "m.bin.minisig", NULL), 0, "verify");
	tap_is_int(mreg_verify_file(other, "m.bin", "m.bin.minisig", NULL), MREG_ECORRUPT,
		   "another key's public key fails");
	tap_ok(strstr(mreg_error_last(), "not by key") != NULL, "message names both keys: %s",
	       mreg_error_last());
	tap_is_int(keygen_fast("e.key", "e.pub", NULL, 1, NULL), 0, "keygen --force replaces");
	mreg_secret_key_free(sk);
	mreg_public_key_free(pk);
	mreg_public_key_free(other);
}

static void test_malformed(void)
{
	sign_minisig sig;
	mreg_public_key *pk = NULL;
	static const char *bad[] = {
		"",
		"untrusted comment: x\n",
		"untrusted comment: x\nnot base64!\ntrusted comment: t\nAAAA\n",
		"comment: x\nAAAA\ntrusted comment: t\nAAAA\n",
		"untrusted comment: x\nRUQAAAAAAAAAAA==\ntrusted comment: t\nAAAA\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int rc = sign_minisig_parse(&sig, bad[i], strlen(bad[i]), "bad.minisig");
		tap_is_int(rc, MREG_EINVALID, "malformed signature %zu refused", i);
		sign_minisig_dispose(&sig);
	}
	tap_is_int(sign_minisig_parse(&sig, "a\0b\nc\nd\ne\n", 10, "bin"), MREG_EINVALID,
		   "binary signature text refused");
	tap_is_int(mreg_public_key_parse(&pk, "RWQ="), MREG_EINVALID, "short public key refused");
	tap_write("bad.pub", "untrusted comment: x\n");
	tap_is_int(mreg_public_key_load(&pk, "bad.pub"), MREG_EINVALID, "one-line key file refused");
	tap_is_int(mreg_public_key_load(&pk, "missing.pub"), MREG_ENOTFOUND, "missing key file");
}

/* Keys from minisign itself, and minisign checking mreg: skipped without minisign. */
static void test_minisign(void)
{
	mreg_secret_key *sk = NULL;
	mreg_public_key *pk = NULL;

	if (!has_tool("minisign")) {
		printf("ok %d - # SKIP minisign is not installed (apt install minisign)\n", ++tap_count);
		return;
	}
	tap_ok(system("minisign -G -W -p ms.pub -s ms.key >/dev/null") == 0, "minisign -G -W");
	tap_is_int(mreg_secret_key_load(&sk, "ms.key", NULL), 0, "mreg loads minisign's secret key");
	tap_is_int(mreg_public_key_load(&pk, "ms.pub"), 0, "mreg loads minisign's public key");
	tap_write("f.txt", "payload\n");
	mreg_sign_file(sk, "f.txt", "f.txt.minisig", NULL);
	tap_ok(system("minisign -Vm f.txt -p ms.pub -q") == 0, "minisign verifies mreg's signature");
	tap_ok(system("minisign -S -s ms.key -m f.txt -x g.minisig >/dev/null") == 0,
	       "minisign -S (prehashed)");
	tap_is_int(mreg_verify_file(pk, "f.txt", "g.minisig", NULL), 0,
		   "mreg verifies minisign's prehashed signature");
	tap_ok(system("minisign -S -l -s ms.key -m f.txt -x l.minisig >/dev/null") == 0,
	       "minisign -S -l (legacy)");
	tap_is_int(mreg_verify_file(pk, "f.txt", "l.minisig", NULL), 0,
		   "mreg verifies minisign's legacy signature");
	tap_write("f.txt", "payloae\n");
	tap_is_int(mreg_verify_file(pk, "f.txt", "l.minisig", NULL), MREG_ECORRUPT,
		   "a changed file fails the legacy signature");
	mreg_secret_key_free(sk);
	mreg_public_key_free(pk);
}

int main(void)
{
	tap_tmpdir();
	test_unencrypted();
	test_encrypted();
	test_malformed();
	test_minisign();
	return tap_done();
}
