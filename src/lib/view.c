/* view.c - immutable membership snapshots: sort members by name, build the
 * placement once, answer ownership. */
#include "hashspace/view.h"
#include "hashspace/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct hs_view {
    atomic_size_t refs;
    uint64_t epoch;
    hs_hasher hasher;
    hs_place *place;
    /* Sorted order is member id order: ids are given out 0, 1, 2, ... to a
     * fresh placement, and the members are added sorted. */
};

static int by_name(const void *a, const void *b)
{
    const hs_view_member *x = a, *y = b;
    return strcmp(x->name, y->name);
}

int hs_view_new(hs_view **out, uint64_t epoch, const char *placement, const hs_place_opts *opts,
                const hs_hasher *hasher, const hs_view_member *members, size_t n)
{
    if (n == 0)
        return HS_EEMPTY;
    for (size_t i = 0; i < n; i++)
        if (members[i].name == NULL)
            return HS_ENAME;
    hs_view *v = calloc(1, sizeof *v);
    hs_view_member *sorted = malloc(n * sizeof *sorted);
    const char **names = malloc(n * sizeof *names);
    double *weights = malloc(n * sizeof *weights);
    int rc = HS_ENOMEM;
    if (v == NULL || sorted == NULL || names == NULL || weights == NULL)
        goto fail;
    memcpy(sorted, members, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_name);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(sorted[i - 1].name, sorted[i].name) == 0) {
            rc = HS_EEXISTS;
            goto fail;
        }
        names[i] = sorted[i].name;
        weights[i] = sorted[i].weight;
    }
    rc = hs_place_new(&v->place, placement, opts);
    if (rc != HS_OK)
        goto fail;
    if (hasher != NULL)
        v->hasher = *hasher;
    else if ((rc = hs_hasher_init(&v->hasher, hs_place_method(v->place)->default_hash)) != HS_OK)
        goto fail;
    rc = hs_place_add_many(v->place, names, weights, n);
    if (rc != HS_OK)
        goto fail;
    atomic_init(&v->refs, 1);
    v->epoch = epoch;
    free(sorted);
    free(names);
    free(weights);
    *out = v;
    return HS_OK;
fail:
    if (v != NULL)
        hs_place_free(v->place);
    free(v);
    free(sorted);
    free(names);
    free(weights);
    return rc;
}

hs_view *hs_view_retain(hs_view *v)
{
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
    return v;
}

void hs_view_release(hs_view *v)
{
    if (v == NULL)
        return;
    if (atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) != 1)
        return;
    hs_place_free(v->place);
    free(v);
}

uint64_t hs_view_epoch(const hs_view *v)
{
    return v->epoch;
}

size_t hs_view_size(const hs_view *v)
{
    return hs_place_size(v->place);
}

const char *hs_view_member_name(const hs_view *v, size_t i)
{
    return hs_place_member_name(v->place, (hs_member_id)i);
}

double hs_view_member_weight(const hs_view *v, size_t i)
{
    return hs_place_member_weight(v->place, (hs_member_id)i);
}

int hs_view_index(const hs_view *v, const char *name, size_t *index)
{
    hs_member_id id;
    int rc = hs_place_find(v->place, name, &id);
    if (rc == HS_OK)
        *index = id;
    return rc;
}

const hs_hasher *hs_view_hasher(const hs_view *v)
{
    return &v->hasher;
}

const hs_place *hs_view_place(const hs_view *v)
{
    return v->place;
}

int hs_view_owner_hash(const hs_view *v, uint64_t hash, size_t *index)
{
    hs_member_id id;
    int rc = hs_place_lookup(v->place, hash, &id);
    if (rc == HS_OK)
        *index = id;
    return rc;
}

int hs_view_owner(const hs_view *v, const void *key, size_t len, size_t *index)
{
    uint64_t hash;
    int rc = hs_hasher_hash(&v->hasher, key, len, &hash);
    if (rc != HS_OK)
        return rc;
    return hs_view_owner_hash(v, hash, index);
}

int hs_view_owns(const hs_view *v, size_t self, const void *key, size_t len, bool *mine)
{
    size_t owner;
    int rc = hs_view_owner(v, key, len, &owner);
    if (rc == HS_OK)
        *mine = owner == self;
    return rc;
}

int hs_view_owner_many(const hs_view *v, const void *keys, const size_t *lens, size_t n,
                       size_t *owners, size_t *done)
{
    /* Blocks of BLOCK keys: hash them all, then place them all in one
     * hs_place_lookup_many, whose independent lookups overlap in the CPU
     * instead of each waiting at the end of its own key's hash. */
    enum { BLOCK = 64 };
    uint64_t hashes[BLOCK];
    hs_member_id ids[BLOCK];
    const unsigned char *key = keys;
    size_t placed = 0;
    int rc = HS_OK;
    while (placed < n && rc == HS_OK) {
        size_t len = n - placed < BLOCK ? n - placed : BLOCK, hashed = 0;
        for (; hashed < len; hashed++) {
            rc = hs_hasher_hash(&v->hasher, key, lens[placed + hashed], &hashes[hashed]);
            if (rc != HS_OK)
                break;
            key += lens[placed + hashed];
        }
        /* Keys before a failing one are still placed. */
        if (hashed > 0) {
            int prc = hs_place_lookup_many(v->place, hashes, hashed, ids);
            if (prc != HS_OK) {
                rc = prc;
                break;
            }
            for (size_t i = 0; i < hashed; i++)
                owners[placed + i] = ids[i];
            placed += hashed;
        }
    }
    if (done != NULL)
        *done = placed;
    return rc;
}

/* ---- member lists ---- */

static int parse_weight(const char *s, double *out)
{
    char *end;
    errno = 0;
    double w = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(w) || w <= 0)
        return HS_EWEIGHT;
    *out = w;
    return HS_OK;
}

/* Cut the blanks around s in place ("a, b = 2" is "a" and "b" weight 2). */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

int hs_members_parse(const char *list, hs_view_member **out, size_t *n, char **storage,
                     size_t *err_at)
{
    size_t count = 1;
    for (const char *c = list; *c; c++)
        count += *c == ',';
    char *buf = strdup(list);
    hs_view_member *m = calloc(count, sizeof *m);
    if (buf == NULL || m == NULL) {
        free(buf);
        free(m);
        return HS_ENOMEM;
    }
    int rc = HS_OK;
    size_t k = 0;
    char *item = buf;
    for (size_t i = 0; i < count; i++) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        char *next = comma ? comma + 1 : item + strlen(item);
        /* An empty list is not a member. */
        if (*trim(item) == '\0' && count == 1)
            break;
        char *eq = strchr(item, '=');
        double w = 1.0;
        if (eq) {
            *eq = '\0';
            rc = parse_weight(trim(eq + 1), &w);
        }
        item = trim(item);
        if (rc == HS_OK && (*item == '\0' || strlen(item) > HS_MEMBER_NAME_MAX))
            rc = HS_ENAME;
        if (rc != HS_OK) {
            if (err_at)
                *err_at = i;
            break;
        }
        m[k++] = (hs_view_member){item, w};
        item = next;
    }
    if (rc == HS_OK && k == 0)
        rc = HS_EEMPTY;
    if (rc != HS_OK) {
        free(buf);
        free(m);
        return rc;
    }
    *out = m;
    *n = k;
    *storage = buf;
    return HS_OK;
}
