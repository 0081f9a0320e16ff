/* fuzz_util.h - what the fuzz targets share: turning libFuzzer's bytes into
 * the C strings and fields the parsers take, and failing loudly. */
#ifndef HS_FUZZ_UTIL_H
#define HS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A property the target checks does not hold: print it and abort, so
 * libFuzzer saves the input as a crash. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The bytes as a malloc'd C string (an embedded NUL ends it early, as it
 * would for the real caller). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Split the input at its first '\n': the head (length *head_len) and the
 * rest. With no '\n' the head is everything and the rest is empty. */
static inline const uint8_t *fuzz_split(const uint8_t *data, size_t size, size_t *head_len,
                                        size_t *rest_len)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (nl == NULL) {
        *head_len = size;
        *rest_len = 0;
        return data + size;
    }
    *head_len = (size_t)(nl - data);
    *rest_len = size - *head_len - 1;
    return nl + 1;
}

#endif
