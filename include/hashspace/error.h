/* error.h - the one error enum of hashspace, with names and messages.
 *
 * Every function that can fail returns 0 (HS_OK) or a negative HS_E* code.
 * The list below generates the enum, hs_err_name() and hs_strerror().
 * All functions here are pure and safe to call from any thread.
 */
#ifndef HASHSPACE_ERROR_H
#define HASHSPACE_ERROR_H

#include "hashspace/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, message) */
#define HS_ERRNO_MAP(X)                                                                            \
    X(OK, 0, "success")                                                                            \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(INVAL, -2, "invalid argument")                                                               \
    X(UNKNOWN_HASH, -3, "unknown hash function")                                                   \
    X(UNKNOWN_PLACEMENT, -4, "unknown placement method")                                           \
    X(EMPTY, -5, "no members")                                                                     \
    X(EXISTS, -6, "member already present")                                                        \
    X(NOTFOUND, -7, "no such member")                                                              \
    X(WEIGHT, -8, "weight must be a positive finite number")                                       \
    X(NAME, -9, "member name must be non-empty and shorter than 256 bytes")                        \
    X(UNSUPPORTED, -10, "operation not supported by this method")                                  \
    X(KEY, -11, "key not valid for this hash")                                                     \
    X(RANGE, -12, "value out of range")                                                            \
    X(OVERLOAD, -13, "every candidate member is at its load bound")                                \
    X(PARSE, -14, "parse error")                                                                   \
    X(IO, -15, "input/output error")                                                               \
    X(FULL, -16, "queue full")                                                                     \
    X(CLOSED, -17, "closed")                                                                       \
    X(TIMEOUT, -18, "timed out")                                                                   \
    X(SYSTEM, -19, "system call failed")

typedef enum hs_err {
#define HS__ERR_ENUM(name, value, msg) HS_E##name = (value),
    HS_ERRNO_MAP(HS__ERR_ENUM)
#undef HS__ERR_ENUM
} hs_err;

#define HS_OK HS_EOK

/* A sentence for a person; never NULL ("unknown error" for foreign codes). */
HS_EXTERN const char *hs_strerror(int err);
/* The constant's name without prefix, e.g. "NOTFOUND"; never NULL. */
HS_EXTERN const char *hs_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif
