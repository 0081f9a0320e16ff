/* points.h - a continuum of 32-bit points, each owned by a member: the
 * lookup structure shared by the byte-compatible ketama-family methods
 * (place_ketama.c, place_libketama.c, place_continuum.c).
 *
 * A builder collects points in generation order (member by member, as the
 * peer library generates them); hs__points_finish sorts them by value with a
 * stable sort, so equal points keep generation order, which is the tie-break
 * of libmemcached (server index), libketama and python-continuum (stable
 * sorts over server order). Lookups read a flat sorted uint32 array through
 * a first-level index on the top bits of the point; they never write, so any
 * number of threads may look up one finished hs__points at once.
 */
#ifndef HASHSPACE_POINTS_H
#define HASHSPACE_POINTS_H

#include "place_impl.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hs__points {
    /* n entries, ascending: point << 32 | owner. One array, so that a lookup
     * touches the index and then one cache line. */
    uint64_t *entry;
    size_t n;
    uint32_t *index; /* (1 << bits) + 1 entries: index[b] = first i whose top bits are >= b */
    unsigned shift;  /* 32 - bits */
    /* Every present member in order, and the number of slots, for replica
     * walks (members with no point come last). */
    hs_member_id *members;
    size_t n_members;
    size_t slots;
} hs__points;

/* Accumulates points before sorting. */
typedef struct hs__points_builder {
    uint32_t *value;
    hs_member_id *owner;
    size_t n, cap;
} hs__points_builder;

int hs__points_builder_init(hs__points_builder *b);
void hs__points_builder_free(hs__points_builder *b);
/* Append one point. */
int hs__points_push(hs__points_builder *b, uint32_t value, hs_member_id owner);
/* MD5 of text[0..len), appended as four points: digest bytes 0-3, 4-7, 8-11,
 * 12-15, each little-endian (the ketama convention). */
int hs__points_push_md5x4(hs__points_builder *b, const char *text, size_t len, hs_member_id owner);

/* Sort the builder's points into a fresh continuum for the n present members
 * order[0..n) (members[] indexed by id). On success the builder is emptied
 * and *out is ready for lookups; on error *out is untouched. */
int hs__points_finish(hs__points_builder *b, const hs__member *members, const hs_member_id *order,
                      size_t n, hs__points *out);
/* Release what a continuum holds and zero it. */
void hs__points_clear(hs__points *p);

static inline uint32_t hs__points_value(const hs__points *p, size_t i)
{
    return (uint32_t)(p->entry[i] >> 32);
}

static inline hs_member_id hs__points_owner(const hs__points *p, size_t i)
{
    return (hs_member_id)(p->entry[i] & 0xffffffffu);
}

/* Position of the first point >= target, where target may be 2^32 (then
 * none); returns p->n when no point is >= target (the caller wraps to 0). */
static inline size_t hs__points_lower_bound(const hs__points *p, uint64_t target)
{
    if (target > UINT32_MAX)
        return p->n;
    uint32_t t = (uint32_t)target;
    uint64_t key = (uint64_t)t << 32;
    uint32_t b = t >> p->shift;
    size_t lo = p->index[b], hi = p->index[b + 1];
    /* Every point in [lo, hi) shares t's top bits; those from hi on are
     * greater than t. Binary search for the first >= t. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->entry[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Split a member name "host:port" at its last colon. *port is -1 when the
 * name has no ":port" suffix (1-5 digits, at most 65535); the host is then
 * the whole name. The host is kept as written (an IPv6 "[::1]" keeps its
 * brackets, as libmemcached keeps them). */
void hs__split_host_port(const char *name, size_t len, const char **host, size_t *host_len,
                         long *port);

/* Walk clockwise from position `start` (wrapping) collecting up to r distinct
 * owners; when the circle is exhausted, members that own no point follow in
 * member order. *got = r (r <= n_members). */
int hs__points_walk(const hs__points *p, size_t start, hs_member_id *out, size_t r, size_t *got);

/* What the ketama-family methods share, to use directly in their
 * hs__place_ops: state is an hs__points. */
int hs__points_init(void **state, const hs_place_opts *opts);
void hs__points_fini(void *state);

/* Appends one member's points the way the peer library generates them.
 * total is the sum of the weights of all n present members. */
typedef int (*hs__points_emit_fn)(hs__points_builder *b, const hs__member *m, hs_member_id id,
                                  double total, size_t n);
/* Rebuild state (an hs__points) from the present members, member by member
 * in order, with emit; on error the old continuum is kept. */
int hs__points_build(void *state, const hs__member *members, const hs_member_id *order, size_t n,
                     hs__points_emit_fn emit);

/* Lookups starting at the first point >= the key's low 32 bits (libmemcached,
 * twemproxy, libketama) ... */
int hs__points_lookup_ge(const void *state, uint64_t hash, hs_member_id *out);
int hs__points_lookup_n_ge(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                           size_t *got);
/* ... or at the first point > them (python-continuum's bisect_right); both
 * wrap to the first point. HS_EEMPTY when no member has a point. */
int hs__points_lookup_gt(const void *state, uint64_t hash, hs_member_id *out);
int hs__points_lookup_n_gt(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                           size_t *got);

#endif
