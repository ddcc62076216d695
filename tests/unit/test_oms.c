/*
 * OMS v1.0 pieces against the specifications they come from: the DSSE
 * pre-authentication encoding (the DSSE protocol's own example), the subject
 * digest (the published test vectors' subjects, read in place from
 * ../shared/reference/oms), the ignore rule, and a sign/verify round trip
 * through the library with each curve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle/oms_priv.h"
#include "mreg/error.h"
#include "tap.h"

static void test_pae(void)
{
	size_t len;
	unsigned char *p = oms_pae(&len, "http://example.com/HelloWorld",
				   (const unsigned char *)"hello world", 11);
	const char *want = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";

	tap_ok(p && len == strlen(want) && !memcmp(p, want, len), "PAE is DSSE's example");
	free(p);
}

static void test_ignored(void)
{
	const char *const ig[] = {".git", "logs/old"};

	tap_ok(oms_ignored(".git", ig, 2), ".git itself is left out");
	tap_ok(oms_ignored(".git/HEAD", ig, 2), "what is under .git is left out");
	tap_ok(!oms_ignored(".gitfoo", ig, 2), ".gitfoo is not .git");
	tap_ok(oms_ignored("logs/old/1.txt", ig, 2), "a nested ignore path");
	tap_ok(!oms_ignored("logs/older", ig, 2), "logs/older is not logs/old");
}

static void test_vectors(void)
{
	const char *shared = getenv("MREG_SHARED_DIR");
	const char *names[] = {"key", "certificate", "sigstore"};
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/reference/oms/test-vectors/v1.0/valid",
		 shared ? shared : "../shared");
	if (stat(path, &st) != 0) {
		printf("ok %d - test vectors # SKIP %s is absent\n", ++tap_count, path);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		mreg_oms_bundle *b = NULL;
		char file[1200], root[SHA256_HEXLEN + 1];
		snprintf(file, sizeof(file), "%s/%s.bundle.json", path, names[i]);
		tap_is_int(mreg_oms_bundle_load(&b, file), 0, "%s parses: %s", names[i], mreg_error_last());
		if (!b)
			continue;
		tap_is_int((int)mreg_oms_bundle_method(b), (int)(i + 1), "%s: its method", names[i]);
		oms_root_digest(root, &b->resources);
		tap_is_str(root, b->subject_sha256, "%s: the subject digest is SHA-256 over the raw digests",
			   names[i]);
		mreg_oms_bundle_free(b);
	}
}

static void round_trip(const char *curve)
{
	char dir[300], key[320], pub[320], model[320], sig[320], cmd[4096];
	mreg_oms_key *k = NULL;
	mreg_oms_bundle *b = NULL;
	mreg_oms_sign_result res;
	size_t checked = 0;

	snprintf(dir, sizeof(dir), "%s/%s", tap_tmpdir(), curve);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	snprintf(pub, sizeof(pub), "%s/k.pub", dir);
	snprintf(model, sizeof(model), "%s/model", dir);
	snprintf(sig, sizeof(sig), "%s/model.sig", dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/sub && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:%s "
		 "-out %s 2>/dev/null && openssl pkey -in %s -pubout -out %s",
		 model, curve, key, key, pub);
	if (!tap_ok(system(cmd) == 0, "%s: openssl made a key", curve))
		return;
	tap_write(strcat(strcpy(cmd, model), "/a.bin"), "weights\n");
	tap_write(strcat(strcpy(cmd, model), "/sub/b.txt"), "config\n");
	tap_is_int(mreg_oms_key_load(&k, key, NULL, NULL), 0, "%s: key loads", curve);
	if (!k)
		return;
	tap_is_str(mreg_oms_key_curve(k), curve, "%s: the curve is named", curve);
	tap_is_int(mreg_oms_sign_path(&res, k, model, sig, NULL), 0, "%s: signs: %s", curve,
		   mreg_error_last());
	tap_ok(res.file_count == 2 && res.hashed_bytes == 15, "%s: two files, 15 bytes hashed", curve);
	tap_is_int(mreg_oms_bundle_load(&b, sig), 0, "%s: the signature reads back", curve);
	if (b) {
		mreg_oms_verify_options o = {.sig_path = sig};
		tap_is_int(mreg_oms_bundle_check(b, pub, NULL), 0, "%s: the signature verifies", curve);
		tap_is_int(mreg_oms_verify_path(&checked, b, model, &o), 0, "%s: the model matches", curve);
		tap_ok(checked == 2, "%s: two files checked", curve);
		tap_write(strcat(strcpy(cmd, model), "/a.bin"), "weightz\n");
		tap_is_int(mreg_oms_verify_path(&checked, b, model, &o), MREG_ECORRUPT,
			   "%s: a changed file is refused", curve);
		tap_ok(strstr(mreg_error_last(), "a.bin differs") != NULL, "%s: and named", curve);
	}
	mreg_oms_bundle_free(b);
	mreg_oms_key_free(k);
}

int main(void)
{
	test_pae();
	test_ignored();
	test_vectors();
	round_trip("P-256");
	round_trip("P-384");
	round_trip("P-521");
	return tap_done();
}
