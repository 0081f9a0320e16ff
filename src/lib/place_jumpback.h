/* place_jumpback.h - what place_jumpback.c and place_memento.c share: the
 * JumpBackHash bucket function and MementoHash's walk over a table of removed
 * buckets, which also gives both methods their replica (failover) order. */
#ifndef HASHSPACE_PLACE_JUMPBACK_H
#define HASHSPACE_PLACE_JUMPBACK_H

#include "place_impl.h"

#include <stdint.h>

/* Marks a bucket that is not removed in hs__removals.repl. */
#define HS__NOT_REMOVED UINT32_MAX

/* Buckets 0 .. n-1 of JumpBackHash, some of which may be removed. repl[b] is
 * the number of working buckets right after b was removed, or HS__NOT_REMOVED;
 * repl may be NULL when n_removed is 0. */
typedef struct hs__removals {
    uint32_t n;
    uint32_t n_removed;
    const uint32_t *repl;
} hs__removals;

/* The JumpBackHash bucket of `hash` among n buckets, 1 <= n < 2^32. Expected
 * O(1); uses only integer arithmetic. */
uint32_t hs__jumpback_bucket(uint64_t hash, uint32_t n);

/* The working bucket that owns `hash` (MementoHash lookup). At least one
 * bucket must be working. */
uint32_t hs__memento_bucket(const hs__removals *t, uint64_t hash);

/* The first r distinct members in failover order: out[k+1] is where the key
 * goes once the buckets of out[0..k] are removed, in that order (exactly what
 * hs__memento_bucket answers after those removals). member_of[b] is the
 * member in working bucket b. 1 <= r <= working buckets. HS_ENOMEM possible
 * for large r. */
int hs__memento_lookup_n(const hs__removals *t, const hs_member_id *member_of, uint64_t hash,
                         hs_member_id *out, size_t r);

#endif
