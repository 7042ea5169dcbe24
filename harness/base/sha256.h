/* SHA-256 (FIPS 180-4), for the executable digest in a trace header. */
#ifndef GORR_SHA256_H
#define GORR_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	unsigned char buf[64];
	size_t fill;
	int ni;			/* the CPU's SHA instructions (set by sha256_init) */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[32]);
/* Digest of a whole file: 0 or a negative errno. */
int sha256_file(const char *path, unsigned char out[32]);

#endif
