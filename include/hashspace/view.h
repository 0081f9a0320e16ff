/* view.h - an immutable, epoch-numbered membership snapshot.
 *
 * A view is a list of members (name, weight) sorted bytewise by name, so that
 * every process that knows the same members builds the same view, plus a
 * hash function and a placement method. Member i of the view is the i-th in
 * that order; for modulo and jump it is bucket i.
 *
 * Ownership: hs_view_new copies everything it is given. A view starts with
 * one reference; hs_view_retain/hs_view_release count them and the last
 * release frees it.
 *
 * Threads: a view never changes after hs_view_new returns, so every reading
 * function may run from any number of threads at once, and retain/release are
 * atomic. To change membership, build a new view with a higher epoch and
 * publish the pointer (e.g. with an atomic store).
 */
#ifndef HASHSPACE_VIEW_H
#define HASHSPACE_VIEW_H

#include "hashspace/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hashspace/hash.h"
#include "hashspace/place.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hs_view hs_view;

typedef struct hs_view_member {
    const char *name;
    double weight; /* > 0; 1 when unsure */
} hs_view_member;

/* Build a view of n members (any order; duplicates are HS_EEXISTS). hasher
 * NULL means the placement's default hash. opts may be NULL. */
HS_EXTERN int hs_view_new(hs_view **out, uint64_t epoch, const char *placement,
                          const hs_place_opts *opts, const hs_hasher *hasher,
                          const hs_view_member *members, size_t n);
HS_EXTERN hs_view *hs_view_retain(hs_view *v);
/* Accepts NULL. */
HS_EXTERN void hs_view_release(hs_view *v);

HS_EXTERN uint64_t hs_view_epoch(const hs_view *v);
HS_EXTERN size_t hs_view_size(const hs_view *v);
/* Member i in sorted order (i < size). */
HS_EXTERN const char *hs_view_member_name(const hs_view *v, size_t i);
HS_EXTERN double hs_view_member_weight(const hs_view *v, size_t i);
/* Position of a member by name; HS_ENOTFOUND if absent. */
HS_EXTERN int hs_view_index(const hs_view *v, const char *name, size_t *index);
HS_EXTERN const hs_hasher *hs_view_hasher(const hs_view *v);
HS_EXTERN const hs_place *hs_view_place(const hs_view *v);

/* Owner of an already-hashed key: its position in the view. */
HS_EXTERN int hs_view_owner_hash(const hs_view *v, uint64_t hash, size_t *index);
/* Owner of a key: hash it with the view's hasher, then place it. */
HS_EXTERN int hs_view_owner(const hs_view *v, const void *key, size_t len, size_t *index);
/* The claim: is member `self` (a position) the owner of key? Sets *mine. */
HS_EXTERN int hs_view_owns(const hs_view *v, size_t self, const void *key, size_t len, bool *mine);
/* Owners of n keys in one call, for callers (the Python binding) to whom a
 * call costs more than a hash. The keys lie end to end in `keys`: key i is the
 * lens[i] bytes after keys 0 .. i-1. owners[i] receives key i's position.
 * Stops at the first key that fails (HS_EKEY: the `int` hash and a key that is
 * not a decimal uint64) and returns its error; when done is not NULL it
 * receives the number of keys placed (n on success, the failing key's number
 * on error). */
HS_EXTERN int hs_view_owner_many(const hs_view *v, const void *keys, const size_t *lens, size_t n,
                                 size_t *owners, size_t *done);

/* Parse "a,b=2,c" (name[=weight], comma-separated; blanks around names and
 * weights are ignored) into members. On success
 * *out is an array of *n members whose names point into *storage; free both
 * with free(). Errors: HS_EEMPTY (no member), HS_ENAME (empty name),
 * HS_EWEIGHT (weight not a positive finite number). Duplicates are left to
 * hs_view_new, which finds them in O(n log n). When err_at is not NULL it receives the offending
 * item's position (0-based) on error. */
HS_EXTERN int hs_members_parse(const char *list, hs_view_member **out, size_t *n, char **storage,
                               size_t *err_at);

#ifdef __cplusplus
}
#endif
#endif
