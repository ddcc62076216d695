/*
 * Fuzz target for the OMS bundle reader (what 'mreg verify --signature' reads
 * first): the input is parsed as an OMS v1.0 bundle; one that passes the
 * schema checks has its signature checked against a fixed P-256 key and a
 * fixed self-signed CA (DSSE PAE, DER signatures, certificate chains and the
 * statement's rules all run on fuzzed bytes). Invariants: no crash, no leak;
 * a parsed bundle has a known method, at least one signature, a serialization
 * method and non-empty resource names; the check returns a documented code.
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
	rc = mreg_oms_bundle_check(b, trust_file(), trust_file());
	if (rc != 0 && rc != MREG_ECORRUPT && rc != MREG_EUNSUPPORTED && rc != MREG_EINVALID &&
	    rc != MREG_ENOMEM)
		abort();
	mreg_oms_bundle_free(b);
	return 0;
}
