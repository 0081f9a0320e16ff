/* place.h - placement: which member owns a 64-bit hash.
 *
 * An hs_place holds a set of members (a name and a positive weight each) and
 * a placement method chosen by name (modulo, jump, ring, ketama, ...). It
 * answers lookup(hash) -> member, and the first r distinct members in
 * preference order (replicas, failover).
 *
 * Members are identified by an hs_member_id: a slot number, stable for as
 * long as the member is present, below hs_place_slots(). A removed member's
 * slot may be given to a later member.
 *
 * Ownership: hs_place copies member names; the pointers returned by
 * hs_place_member_name() live until that member is removed or the place is
 * freed.
 *
 * Threads: lookups (every function taking a const hs_place *) may run from
 * any number of threads at once. add/remove/free need exclusive access; to
 * change membership under concurrent readers, build a new hs_view (view.h)
 * and swap it.
 */
#ifndef HASHSPACE_PLACE_H
#define HASHSPACE_PLACE_H

#include "hashspace/export.h"

#include <stddef.h>
#include <stdint.h>

#include "hashspace/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hs_place hs_place;
typedef uint32_t hs_member_id;

#define HS_MEMBER_NAME_MAX 255

/* Tuning knobs; zero means "the method's default". */
typedef struct hs_place_opts {
    /* ring: points per unit of weight on the continuum (default 160). */
    size_t points_per_weight;
    /* maglev: lookup table size, a prime well above the member count
     * (default: smallest of 65537, 655373, 6553621 that is >= 100 * n). */
    size_t table_size;
    /* anchor: the largest number of members ever present at once (default 1024,
     * grown as needed). */
    size_t capacity;
} hs_place_opts;

/* What a method can do. */
enum {
    HS_PLACE_WEIGHTED = 1u << 0,   /* honours weights */
    HS_PLACE_REMOVE_ANY = 1u << 1, /* removing any member moves only its keys */
    HS_PLACE_COMPAT = 1u << 2,     /* byte-compatible with another library */
};

typedef struct hs_place_info {
    const char *name;
    const char *summary;
    unsigned flags;
    hs_hash_id default_hash; /* the hash to use when the user gives none */
    size_t max_members;      /* 0: no limit beyond memory */
} hs_place_info;

/* The method registry. */
HS_EXTERN size_t hs_place_method_count(void);
/* Info for method i (0 .. count-1); NULL when out of range. */
HS_EXTERN const hs_place_info *hs_place_method_at(size_t i);
/* Info for a method by name; NULL when unknown. */
HS_EXTERN const hs_place_info *hs_place_method_find(const char *name);
/* Comma-separated list of every method name, for messages and --help. */
HS_EXTERN const char *hs_place_method_names(void);

/* Create an empty placement. opts may be NULL. HS_EUNKNOWN_PLACEMENT for an
 * unknown method. */
HS_EXTERN int hs_place_new(hs_place **out, const char *method, const hs_place_opts *opts);
/* Accepts NULL. */
HS_EXTERN void hs_place_free(hs_place *p);
HS_EXTERN const hs_place_info *hs_place_method(const hs_place *p);

/* Add one member. HS_ENAME, HS_EWEIGHT (not finite or <= 0), HS_EEXISTS,
 * HS_ERANGE (over the method's max_members). On error nothing changed. */
HS_EXTERN int hs_place_add(hs_place *p, const char *name, double weight);
/* Add n members at once (one rebuild). weights may be NULL (all 1). On error
 * nothing changed. */
HS_EXTERN int hs_place_add_many(hs_place *p, const char *const *names, const double *weights,
                                size_t n);
/* Remove a member by name; HS_ENOTFOUND if absent. */
HS_EXTERN int hs_place_remove(hs_place *p, const char *name);

/* Number of members present. */
HS_EXTERN size_t hs_place_size(const hs_place *p);
/* Upper bound (exclusive) of member ids, for arrays indexed by member id. */
HS_EXTERN size_t hs_place_slots(const hs_place *p);
/* Member id of a name; HS_ENOTFOUND if absent. */
HS_EXTERN int hs_place_find(const hs_place *p, const char *name, hs_member_id *out);
/* Name/weight of a present member; NULL / 0 for an id not in use. */
HS_EXTERN const char *hs_place_member_name(const hs_place *p, hs_member_id id);
HS_EXTERN double hs_place_member_weight(const hs_place *p, hs_member_id id);
/* Members in the order they were added (the view's sorted order). Fills up
 * to cap ids; returns how many members there are. */
HS_EXTERN size_t hs_place_members(const hs_place *p, hs_member_id *ids, size_t cap);

/* The owner of a hash. HS_EEMPTY when there are no members. */
HS_EXTERN int hs_place_lookup(const hs_place *p, uint64_t hash, hs_member_id *out);
/* The first r distinct members in preference order: out[0] is the owner,
 * out[1] takes over if out[0] is gone, ... *got = min(r, size). */
HS_EXTERN int hs_place_lookup_n(const hs_place *p, uint64_t hash, hs_member_id *out, size_t r,
                                size_t *got);

/* Many owners in one call: out[i] is the owner of hashes[i], i < n. The
 * method is dispatched once, not per key, so this is the fastest way to
 * place a batch. HS_EEMPTY when there are no members (out untouched). */
HS_EXTERN int hs_place_lookup_many(const hs_place *p, const uint64_t *hashes, size_t n,
                                   hs_member_id *out);

/* The bucket functions alone, for callers that number their own buckets
 * 0 .. n-1 and need no hs_place: the bucket of `hash` among n, for n >= 1
 * (0 when n is 0). Growing n to n + 1 moves only keys to bucket n.
 * hs_jump_bucket gives exactly the answers of Lamping & Veach's reference
 * code (which takes an int32 count: n is capped at 2^31);
 * hs_jumpback_bucket is JumpBackHash (any n < 2^32), with the answers of the
 * `jumpback` method. */
HS_EXTERN uint32_t hs_jump_bucket(uint64_t hash, uint32_t n);
HS_EXTERN uint32_t hs_jumpback_bucket(uint64_t hash, uint32_t n);

/* Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam):
 * the first member in preference order whose load is below
 * ceil(c * (total + 1) * weight / total_weight). loads is indexed by member
 * id (hs_place_slots() entries), total is their sum; c >= 1 (e.g. 1.25).
 * The caller increments loads[*out] when it assigns the key. */
HS_EXTERN int hs_place_lookup_bounded(const hs_place *p, uint64_t hash, double c,
                                      const uint64_t *loads, uint64_t total, hs_member_id *out);

#ifdef __cplusplus
}
#endif
#endif
