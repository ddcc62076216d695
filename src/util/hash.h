/* SHA-256 through OpenSSL's libcrypto (SHA-NI when the CPU has it). */
#ifndef MREG_HASH_H
#define MREG_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEXLEN 64

typedef struct hash_ctx hash_ctx;

/* NULL when out of memory. */
hash_ctx *hash_new(void);
void hash_update(hash_ctx *h, const void *data, size_t len);
/* Finish into @out and reset the context for reuse. */
void hash_final(hash_ctx *h, uint8_t out[SHA256_LEN]);
void hash_free(hash_ctx *h);

/* One-shot digest of a buffer. */
void hash_buffer(uint8_t out[SHA256_LEN], const void *data, size_t len);

/* "sha256:" + lowercase hex into @out (at least 72 bytes). */
void digest_format(char *out, const uint8_t raw[SHA256_LEN]);

/* True when @hex is exactly 64 lowercase hex digits. */
bool digest_hex_valid(const char *hex);

/* True when @s is "sha256:" followed by exactly 64 lowercase hex digits. */
bool digest_valid(const char *s);

#endif
