/*
 * Fuzz target for the OMS bundle reader (what 'mreg verify --signature' reads
 * first): the input is parsed as an OMS v1.0 bundle; one that passes the
 * schema checks has its signature checked against a fixed P-256 key and a
 * fixed self-signed CA (DSSE PAE, DER signatures, certificate chains and the
 * statement's rules all run on fuzzed bytes). Invariants: no crash, no leak;
 * a parsed bundle has a known method, at least one signature, a serialization
 * method and non-empty resource names; the check returns a documented code.
 * The bundle is also matched against a record, as the store does before it
 * keeps a signature that came with a version (mreg/kept_signatures.h): a
 * fixed one-file record, and one holding the bundle's own resource names.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mreg/error.h"
#include "mreg/oms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key and CA the seed corpus (corpus/oms/) was signed with. */
static const char trust[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2ZwOAVG/J0o7amZ8E7Fv7rAhNiJZ\n"
	"J8r00CSMVj611sd2bT3UzztxP6NAxqzBAjupJFyg88QZ/WAE/mYcTaDQLg==\n"
	"-----END PUBLIC KEY-----\n"
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBezCCASGgAwIBAgIUY8Bt2Iim/53MoAAWPGC4S4MYgZUwCgYIKoZIzj0EAwIw\n"
	"EjEQMA4GA1UEAwwHZnV6ei1jYTAgFw0yNjEyMDYwMzU3NDNaGA8yMTI2MTExMjAz\n"
	"NTc0M1owEjEQMA4GA1UEAwwHZnV6ei1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
	"A0IABNmcDgFRvydKO2pmfBOxb+6wITYiWSfK9NAkjFY+tdbHdm091M87cT+jQMas\n"
	"wQI7qSRcoPPEGf1gBP5mHE2g0C6jUzBRMB0GA1UdDgQWBBQ/ecewqgJMTXHhHIO6\n"
	"KRVhQMrwTzAfBgNVHSMEGDAWgBQ/ecewqgJMTXHhHIO6KRVhQMrwTzAPBgNVHRMB\n"
	"Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQC6CiNi0VYM4PzHAtI5tHRBBpBh\n"
	"VCX051SUrCXWwLMknwIgbcLOWCE+l4VxRZTOlj+wATrTFCMYxNMYGxpurWXJoJA=\n"
	"-----END CERTIFICATE-----\n";

static char path[64];

static void remove_trust(void)
{
	unlink(path);
}

static const char *trust_file(void)
{
	if (!path[0]) {
		int fd;
		snprintf(path, sizeof(path), "/tmp/mreg-fuzz-oms-XXXXXX");
		if ((fd = mkstemp(path)) < 0 || write(fd, trust, sizeof(trust) - 1) < 0)
			abort();
		close(fd);
		atexit(remove_trust);
	}
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mreg_oms_bundle *b = NULL;
	int rc = mreg_oms_bundle_parse(&b, data, size, "fuzz.sig");

	if (rc) {
		if (b || (rc != MREG_EINVALID && rc != MREG_ENOMEM))
			abort();
		return 0;
	}
	switch (mreg_oms_bundle_method(b)) {
	case MREG_OMS_METHOD_KEY:
	case MREG_OMS_METHOD_CERTIFICATE:
	case MREG_OMS_METHOD_SIGSTORE: break;
	default: abort();
	}
	if (!mreg_oms_bundle_serialization(b))
		abort();
	for (size_t i = 0; i < mreg_oms_bundle_resource_count(b); i++)
		if (!mreg_oms_bundle_resource_name(b, i)[0])
			abort();
	if (mreg_oms_bundle_hint(b) && !mreg_oms_bundle_hint(b)[0])
		abort();
	{
		static mreg_file one = {"model.bin", 5, 0644,
					"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"};
		mreg_record r = {.name = "fuzz", .version = "1", .files = &one, .file_count = 1};
		mreg_oms_verify_options vo = {0};
		size_t checked = 0, n = mreg_oms_bundle_resource_count(b);
		mreg_file *own = n && n <= 4096 ? calloc(n, sizeof(*own)) : NULL;
		rc = mreg_oms_verify_record(&checked, b, &r, &vo);
		if (rc != 0 && rc != MREG_ECORRUPT && rc != MREG_EINVALID && rc != MREG_ENOMEM &&
		    rc != MREG_EUNSUPPORTED)
			abort();
		if (own) {
			for (size_t i = 0; i < n; i++) {
				own[i].path = (char *)mreg_oms_bundle_resource_name(b, i);
				memcpy(own[i].digest, one.digest, sizeof(one.digest));
			}
			r.files = own;
			r.file_count = n;
			rc = mreg_oms_verify_record(&checked, b, &r, &vo);
			if (rc != 0 && rc != MREG_ECORRUPT && rc != MREG_EINVALID &&
			    rc != MREG_ENOMEM && rc != MREG_EUNSUPPORTED)
				abort();
			free(own);
		}
	}
	rc = mreg_oms_bundle_check(b, trust_file(), trust_file());
	if (rc != 0 && rc != MREG_ECORRUPT && rc != MREG_EUNSUPPORTED && rc != MREG_EINVALID &&
	    rc != MREG_ENOMEM)
		abort();
	mreg_oms_bundle_free(b);
	return 0;
}
