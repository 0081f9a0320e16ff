/* place_jumpback.h - what the jump-like methods share (place_jump.c,
 * place_jumpback.c, place_memento.c): the JumpBackHash bucket function and
 * MementoHash's walk over a table of removed buckets, which also gives all
 * three their replica (failover) order. */
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

/* A consistent bucket function: the bucket of `hash` among n >= 1, where
 * going from n to n - 1 moves only the keys of bucket n - 1. */
typedef uint32_t (*hs__bucket_fn)(uint64_t hash, uint32_t n);

/* The first r distinct members in failover order, with `base` as the bucket
 * function under the removal table (hs__jumpback_bucket for MementoHash):
 * out[k+1] is where the key goes once the buckets of out[0..k] are removed,
 * in that order, by the rules of place_memento.c (removing the last bucket
 * while nothing else is removed shrinks n). member_of[b] is the member in
 * working bucket b. 1 <= r <= working buckets. HS_ENOMEM possible for
 * large r. */
int hs__memento_lookup_n(const hs__removals *t, hs__bucket_fn base, const hs_member_id *member_of,
                         uint64_t hash, hs_member_id *out, size_t r);

#endif
