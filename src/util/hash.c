#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hash.h"

struct hash_ctx {
	EVP_MD_CTX *md;
};

hash_ctx *hash_new(void)
{
	hash_ctx *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->md = EVP_MD_CTX_new();
	if (!h->md || !EVP_DigestInit_ex(h->md, EVP_sha256(), NULL)) {
		hash_free(h);
		return NULL;
	}
	return h;
}

void hash_update(hash_ctx *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->md, data, len);
}

void hash_final(hash_ctx *h, uint8_t out[SHA256_LEN])
{
	unsigned int len = SHA256_LEN;

	EVP_DigestFinal_ex(h->md, out, &len);
	EVP_DigestInit_ex(h->md, EVP_sha256(), NULL);
}

void hash_free(hash_ctx *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

void hash_buffer(uint8_t out[SHA256_LEN], const void *data, size_t len)
{
	unsigned int olen = SHA256_LEN;

	EVP_Digest(data, len, out, &olen, EVP_sha256(), NULL);
}

void digest_format(char *out, const uint8_t raw[SHA256_LEN])
{
	static const char hex[] = "0123456789abcdef";

	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < SHA256_LEN; i++) {
		out[7 + 2 * i] = hex[raw[i] >> 4];
		out[7 + 2 * i + 1] = hex[raw[i] & 15];
	}
	out[7 + SHA256_HEXLEN] = '\0';
}

bool digest_hex_valid(const char *hex)
{
	size_t n = 0;

	for (; hex[n]; n++)
		if (n >= SHA256_HEXLEN ||
		    !((hex[n] >= '0' && hex[n] <= '9') || (hex[n] >= 'a' && hex[n] <= 'f')))
			return false;
	return n == SHA256_HEXLEN;
}

bool digest_valid(const char *s)
{
	return s && strncmp(s, "sha256:", 7) == 0 && digest_hex_valid(s + 7);
}
