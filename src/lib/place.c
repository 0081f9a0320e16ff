/* place.c - the placement front: method registry, the member table (names,
 * weights, stable ids), argument checks, and what is common to all methods
 * (bounded-load lookup). The methods themselves live in place_<name>.c. */
#include "place_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static const hs__place_ops *const methods[] = {
#define HS__PLACE_PTR(sym) &hs__place_##sym,
    HS_PLACE_METHOD_MAP(HS__PLACE_PTR)
#undef HS__PLACE_PTR
};
#define N_METHODS (sizeof methods / sizeof methods[0])

struct hs_place {
    /* The hot fields first, read together by every lookup: the method's
     * lookup is copied out of ops so that a lookup needs no second load
     * before its call. */
    int (*lookup)(const void *state, uint64_t hash, hs_member_id *out);
    void *state;
    size_t size;
    const hs__place_ops *ops;
    hs__member *members; /* indexed by member id */
    size_t slots;        /* ids in use or free: members[0 .. slots) */
    size_t slots_cap;
    hs_member_id *order;    /* present ids in insertion order */
    hs_member_id *free_ids; /* stack of free slots below `slots` */
    size_t n_free;
    /* Name index: open addressing, entries are id + 1 (0 = empty). */
    uint32_t *index;
    size_t index_cap; /* a power of two, >= 2 * size */
};

size_t hs_place_method_count(void)
{
    return N_METHODS;
}

const hs_place_info *hs_place_method_at(size_t i)
{
    return i < N_METHODS ? &methods[i]->info : NULL;
}

static const hs__place_ops *find_ops(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < N_METHODS; i++)
        if (strcmp(methods[i]->info.name, name) == 0)
            return methods[i];
    return NULL;
}

const hs_place_info *hs_place_method_find(const char *name)
{
    const hs__place_ops *ops = find_ops(name);
    return ops ? &ops->info : NULL;
}

const char *hs_place_method_names(void)
{
    static const char names[] =
#define HS__PLACE_NAME(sym) ", " #sym
        HS_PLACE_METHOD_MAP(HS__PLACE_NAME)
#undef HS__PLACE_NAME
        ;
    return names + 2;
}

int hs_place_new(hs_place **out, const char *method, const hs_place_opts *opts)
{
    static const hs_place_opts defaults;
    const hs__place_ops *ops = find_ops(method);
    if (ops == NULL)
        return HS_EUNKNOWN_PLACEMENT;
    hs_place *p = calloc(1, sizeof *p);
    if (p == NULL)
        return HS_ENOMEM;
    p->ops = ops;
    p->lookup = ops->lookup;
    int rc = ops->init(&p->state, opts ? opts : &defaults);
    if (rc != HS_OK) {
        free(p);
        return rc;
    }
    *out = p;
    return HS_OK;
}

void hs_place_free(hs_place *p)
{
    if (p == NULL)
        return;
    p->ops->fini(p->state);
    for (size_t i = 0; i < p->slots; i++)
        free(p->members[i].name);
    free(p->members);
    free(p->order);
    free(p->free_ids);
    free(p->index);
    free(p);
}

const hs_place_info *hs_place_method(const hs_place *p)
{
    return &p->ops->info;
}

/* ---- the name index ---- */

static size_t name_slot(const hs_place *p, const char *name, size_t len, bool *found)
{
    size_t mask = p->index_cap - 1;
    size_t i = (size_t)XXH3_64bits(name, len) & mask;
    for (;;) {
        uint32_t e = p->index[i];
        if (e == 0) {
            *found = false;
            return i;
        }
        const hs__member *m = &p->members[e - 1];
        if (m->name_len == len && memcmp(m->name, name, len) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int index_grow(hs_place *p, size_t want_members)
{
    size_t cap = p->index_cap ? p->index_cap : 16;
    while (cap < 2 * want_members)
        cap *= 2;
    if (cap == p->index_cap)
        return HS_OK;
    uint32_t *old = p->index;
    size_t old_cap = p->index_cap;
    uint32_t *fresh = calloc(cap, sizeof *fresh);
    if (fresh == NULL)
        return HS_ENOMEM;
    p->index = fresh;
    p->index_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i] == 0)
            continue;
        const hs__member *m = &p->members[old[i] - 1];
        bool found;
        p->index[name_slot(p, m->name, m->name_len, &found)] = old[i];
    }
    free(old);
    return HS_OK;
}

/* Remove entry at slot i, keeping linear-probe chains intact. */
static void index_delete(hs_place *p, size_t i)
{
    size_t mask = p->index_cap - 1;
    p->index[i] = 0;
    for (size_t j = (i + 1) & mask; p->index[j] != 0; j = (j + 1) & mask) {
        uint32_t e = p->index[j];
        p->index[j] = 0;
        const hs__member *m = &p->members[e - 1];
        bool found;
        p->index[name_slot(p, m->name, m->name_len, &found)] = e;
    }
}

int hs_place_find(const hs_place *p, const char *name, hs_member_id *out)
{
    if (name == NULL || p->size == 0)
        return HS_ENOTFOUND;
    bool found;
    size_t i = name_slot(p, name, strlen(name), &found);
    if (!found)
        return HS_ENOTFOUND;
    *out = p->index[i] - 1;
    return HS_OK;
}

/* ---- adding and removing ---- */

static int check_member(const char *name, double weight)
{
    if (name == NULL || name[0] == '\0' || strlen(name) > HS_MEMBER_NAME_MAX)
        return HS_ENAME;
    if (!isfinite(weight) || weight <= 0)
        return HS_EWEIGHT;
    return HS_OK;
}

static int reserve(hs_place *p, size_t extra)
{
    size_t want = p->size + extra;
    if (want > UINT32_MAX - 1)
        return HS_ERANGE;
    if (want > p->slots_cap) {
        size_t cap = p->slots_cap ? p->slots_cap : 8;
        while (cap < want)
            cap *= 2;
        hs__member *m = realloc(p->members, cap * sizeof *m);
        if (m == NULL)
            return HS_ENOMEM;
        p->members = m;
        hs_member_id *o = realloc(p->order, cap * sizeof *o);
        if (o == NULL)
            return HS_ENOMEM;
        p->order = o;
        hs_member_id *f = realloc(p->free_ids, cap * sizeof *f);
        if (f == NULL)
            return HS_ENOMEM;
        p->free_ids = f;
        p->slots_cap = cap;
    }
    return index_grow(p, want);
}

/* Put a checked, absent member into the table; returns its id. */
static hs_member_id insert(hs_place *p, char *name, size_t len, double weight)
{
    hs_member_id id;
    if (p->n_free > 0) {
        id = p->free_ids[--p->n_free];
    } else {
        id = (hs_member_id)p->slots++;
    }
    p->members[id] = (hs__member){.name = name, .name_len = len, .weight = weight};
    p->order[p->size++] = id;
    bool found;
    p->index[name_slot(p, name, len, &found)] = id + 1;
    return id;
}

/* Take the last-inserted member out of the table (undo of insert). */
static void unlink_member(hs_place *p, hs_member_id id)
{
    bool found;
    hs__member *m = &p->members[id];
    index_delete(p, name_slot(p, m->name, m->name_len, &found));
    size_t pos = 0;
    while (p->order[pos] != id)
        pos++;
    memmove(&p->order[pos], &p->order[pos + 1], (p->size - pos - 1) * sizeof *p->order);
    p->size--;
    free(m->name);
    m->name = NULL;
    m->name_len = 0;
    m->weight = 0;
    if (id + 1 == p->slots)
        p->slots--;
    else
        p->free_ids[p->n_free++] = id;
}

static int rebuild(hs_place *p)
{
    return p->ops->build(p->state, p->members, p->order, p->size);
}

int hs_place_add_many(hs_place *p, const char *const *names, const double *weights, size_t n)
{
    if (n == 0)
        return HS_OK;
    size_t max = p->ops->info.max_members;
    if (max != 0 && p->size + n > max)
        return HS_ERANGE;
    for (size_t i = 0; i < n; i++) {
        int rc = check_member(names[i], weights ? weights[i] : 1.0);
        if (rc != HS_OK)
            return rc;
    }
    int rc = reserve(p, n);
    if (rc != HS_OK)
        return rc;
    size_t done = 0;
    for (; done < n; done++) {
        size_t len = strlen(names[done]);
        bool found;
        name_slot(p, names[done], len, &found);
        if (found) {
            rc = HS_EEXISTS;
            break;
        }
        char *copy = malloc(len + 1);
        if (copy == NULL) {
            rc = HS_ENOMEM;
            break;
        }
        memcpy(copy, names[done], len + 1);
        hs_member_id id = insert(p, copy, len, weights ? weights[done] : 1.0);
        if (p->ops->add != NULL) {
            rc = p->ops->add(p->state, p->members, id);
            if (rc != HS_OK) {
                unlink_member(p, id);
                break;
            }
        }
    }
    if (rc == HS_OK && p->ops->build != NULL)
        rc = rebuild(p);
    if (rc != HS_OK) {
        /* Undo in reverse so incremental methods see a clean history. */
        while (done-- > 0) {
            hs_member_id id = p->order[p->size - 1];
            if (p->ops->remove != NULL)
                p->ops->remove(p->state, p->members, id);
            unlink_member(p, id);
        }
        if (p->ops->build != NULL)
            rebuild(p);
    }
    return rc;
}

int hs_place_add(hs_place *p, const char *name, double weight)
{
    return hs_place_add_many(p, &name, &weight, 1);
}

int hs_place_remove(hs_place *p, const char *name)
{
    hs_member_id id;
    if (hs_place_find(p, name, &id) != HS_OK)
        return HS_ENOTFOUND;
    if (p->ops->remove != NULL) {
        int rc = p->ops->remove(p->state, p->members, id);
        if (rc != HS_OK)
            return rc;
        unlink_member(p, id);
        return HS_OK;
    }
    /* Build-based: rebuild without it; on failure put it back as it was. */
    hs__member saved = p->members[id];
    size_t pos = 0;
    while (p->order[pos] != id)
        pos++;
    saved.name = strdup(saved.name);
    if (saved.name == NULL)
        return HS_ENOMEM;
    unlink_member(p, id);
    int rc = rebuild(p);
    if (rc != HS_OK) {
        hs_member_id back = insert(p, saved.name, saved.name_len, saved.weight);
        /* Restore the original position in the order. */
        memmove(&p->order[pos + 1], &p->order[pos], (p->size - 1 - pos) * sizeof *p->order);
        p->order[pos] = back;
        rebuild(p);
        return rc;
    }
    free(saved.name);
    return HS_OK;
}

/* ---- reading ---- */

size_t hs_place_size(const hs_place *p)
{
    return p->size;
}

size_t hs_place_slots(const hs_place *p)
{
    return p->slots;
}

const char *hs_place_member_name(const hs_place *p, hs_member_id id)
{
    return id < p->slots ? p->members[id].name : NULL;
}

double hs_place_member_weight(const hs_place *p, hs_member_id id)
{
    return id < p->slots && p->members[id].name ? p->members[id].weight : 0;
}

size_t hs_place_members(const hs_place *p, hs_member_id *ids, size_t cap)
{
    size_t n = p->size < cap ? p->size : cap;
    if (n > 0)
        memcpy(ids, p->order, n * sizeof *ids);
    return p->size;
}

int hs_place_lookup(const hs_place *p, uint64_t hash, hs_member_id *out)
{
    if (p->size == 0)
        return HS_EEMPTY;
    return p->lookup(p->state, hash, out);
}

int hs_place_lookup_many(const hs_place *p, const uint64_t *hashes, size_t n, hs_member_id *out)
{
    if (p->size == 0)
        return HS_EEMPTY;
    if (p->ops->lookup_many != NULL) {
        p->ops->lookup_many(p->state, hashes, n, out);
        return HS_OK;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = p->ops->lookup(p->state, hashes[i], &out[i]);
        if (rc != HS_OK)
            return rc;
    }
    return HS_OK;
}

int hs_place_lookup_n(const hs_place *p, uint64_t hash, hs_member_id *out, size_t r, size_t *got)
{
    *got = 0;
    if (p->size == 0)
        return HS_EEMPTY;
    if (r == 0)
        return HS_OK;
    if (r > p->size)
        r = p->size;
    return p->ops->lookup_n(p->state, hash, out, r, got);
}

int hs_place_lookup_bounded(const hs_place *p, uint64_t hash, double c, const uint64_t *loads,
                            uint64_t total, hs_member_id *out)
{
    if (p->size == 0)
        return HS_EEMPTY;
    if (!(c >= 1.0) || !isfinite(c))
        return HS_EINVAL;
    double total_weight = 0;
    for (size_t i = 0; i < p->size; i++)
        total_weight += p->members[p->order[i]].weight;
    /* Walk the preference order in growing batches so the common case (the
     * owner has room) costs one short lookup. */
    hs_member_id small[8];
    hs_member_id *pref = small;
    size_t r = p->size < 8 ? p->size : 8;
    int rc;
    for (;;) {
        size_t got;
        rc = p->ops->lookup_n(p->state, hash, pref, r, &got);
        if (rc != HS_OK)
            break;
        rc = HS_EOVERLOAD;
        for (size_t i = 0; i < got; i++) {
            double share = p->members[pref[i]].weight / total_weight;
            double bound = ceil(c * (double)(total + 1) * share);
            if ((double)loads[pref[i]] < bound) {
                *out = pref[i];
                rc = HS_OK;
                break;
            }
        }
        if (rc == HS_OK || r == p->size)
            break;
        r = r * 8 < p->size ? r * 8 : p->size;
        hs_member_id *bigger = realloc(pref == small ? NULL : pref, r * sizeof *pref);
        if (bigger == NULL) {
            rc = HS_ENOMEM;
            break;
        }
        pref = bigger;
    }
    if (pref != small)
        free(pref);
    return rc;
}

/* ---- shared bucket-list state (place_impl.h) ---- */

int hs__buckets_init(void **state, const hs_place_opts *opts)
{
    (void)opts;
    *state = calloc(1, sizeof(hs__buckets));
    return *state ? HS_OK : HS_ENOMEM;
}

void hs__buckets_fini(void *state)
{
    hs__buckets *s = state;
    if (s)
        free(s->ids);
    free(s);
}

int hs__buckets_build(void *state, const hs__member *members, const hs_member_id *order, size_t n)
{
    (void)members;
    hs__buckets *s = state;
    hs_member_id *ids = malloc((n ? n : 1) * sizeof *ids);
    if (ids == NULL)
        return HS_ENOMEM;
    bool identity = true;
    for (size_t i = 0; i < n; i++) {
        ids[i] = order[i];
        identity &= order[i] == i;
    }
    free(s->ids);
    s->ids = ids;
    s->n = n;
    s->identity = identity;
    return HS_OK;
}
