/* md5.h - MD5 for the library's own use (the `md5` hash, the ketama-family
 * continuum points), over OpenSSL's MD5 in hash.c. */
#ifndef HASHSPACE_MD5_H
#define HASHSPACE_MD5_H

#include <stddef.h>
#include <stdint.h>

/* The MD5 digest of key[0..len) as its four 32-bit words, each read
 * little-endian from digest bytes 4k .. 4k+3 (MD5's state words A, B, C, D):
 * the ketama convention for points, and the low half of the `md5` hash. */
void hs__md5_words(const void *key, size_t len, uint32_t words[4]);

#endif
