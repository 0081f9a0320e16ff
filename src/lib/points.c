/* points.c - the sorted continuum of 32-bit points behind the ketama-family
 * methods: building (MD5 point generation, a stable radix sort, the
 * first-level index) and the clockwise replica walk. See points.h. */
#include "points.h"
#include "md5.h"

#include <stdlib.h>
#include <string.h>

int hs__points_builder_init(hs__points_builder *b)
{
    memset(b, 0, sizeof *b);
    return HS_OK;
}

void hs__points_builder_free(hs__points_builder *b)
{
    free(b->value);
    free(b->owner);
    memset(b, 0, sizeof *b);
}

static int reserve(hs__points_builder *b, size_t extra)
{
    if (b->n + extra <= b->cap)
        return HS_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra) {
        if (cap > SIZE_MAX / 2 / sizeof(uint32_t))
            return HS_ENOMEM;
        cap *= 2;
    }
    uint32_t *v = realloc(b->value, cap * sizeof *v);
    if (v == NULL)
        return HS_ENOMEM;
    b->value = v;
    hs_member_id *o = realloc(b->owner, cap * sizeof *o);
    if (o == NULL)
        return HS_ENOMEM;
    b->owner = o;
    b->cap = cap;
    return HS_OK;
}

int hs__points_push(hs__points_builder *b, uint32_t value, hs_member_id owner)
{
    int rc = reserve(b, 1);
    if (rc != HS_OK)
        return rc;
    b->value[b->n] = value;
    b->owner[b->n] = owner;
    b->n++;
    return HS_OK;
}

int hs__points_push_md5x4(hs__points_builder *b, const char *text, size_t len, hs_member_id owner)
{
    int rc = reserve(b, 4);
    if (rc != HS_OK)
        return rc;
    uint32_t words[4];
    hs__md5_words(text, len, words);
    for (int k = 0; k < 4; k++) {
        b->value[b->n] = words[k];
        b->owner[b->n] = owner;
        b->n++;
    }
    return HS_OK;
}

typedef struct point {
    uint32_t value;
    hs_member_id owner;
} point;

/* Stable LSD radix sort by value, 8 bits per pass: equal values keep the
 * order in which they were generated. */
static int sort_points(point **items, size_t n)
{
    point *src = *items;
    point *dst = malloc((n ? n : 1) * sizeof *dst);
    if (dst == NULL)
        return HS_ENOMEM;
    for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((src[i].value >> shift) & 0xff) + 1]++;
        if (count[((src[0].value >> shift) & 0xff) + 1] == n)
            continue; /* every point has the same byte here */
        for (size_t k = 1; k < 257; k++)
            count[k] += count[k - 1];
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].value >> shift) & 0xff]++] = src[i];
        point *t = src;
        src = dst;
        dst = t;
    }
    free(dst);
    *items = src;
    return HS_OK;
}

int hs__points_finish(hs__points_builder *b, const hs__member *members, const hs_member_id *order,
                      size_t n, hs__points *out)
{
    (void)members;
    size_t np = b->n;
    hs__points p = {0};
    unsigned bits = 1;
    while (bits < 16 && ((size_t)1 << bits) < np)
        bits++;
    p.shift = 32 - bits;
    size_t buckets = (size_t)1 << bits;

    point *items = malloc((np ? np : 1) * sizeof *items);
    p.entry = malloc((np ? np : 1) * sizeof *p.entry);
    p.index = malloc((buckets + 1) * sizeof *p.index);
    p.members = malloc((n ? n : 1) * sizeof *p.members);
    if (items == NULL || p.entry == NULL || p.index == NULL || p.members == NULL || np > UINT32_MAX)
        goto nomem;
    for (size_t i = 0; i < np; i++)
        items[i] = (point){b->value[i], b->owner[i]};
    if (np > 0 && sort_points(&items, np) != HS_OK)
        goto nomem;
    for (size_t i = 0; i < np; i++)
        p.entry[i] = (uint64_t)items[i].value << 32 | items[i].owner;
    free(items);
    items = NULL;
    p.n = np;

    size_t i = 0;
    for (size_t bucket = 0; bucket < buckets; bucket++) {
        while (i < np && (hs__points_value(&p, i) >> p.shift) < bucket)
            i++;
        p.index[bucket] = (uint32_t)i;
    }
    p.index[buckets] = (uint32_t)np;

    if (n > 0)
        memcpy(p.members, order, n * sizeof *order);
    p.n_members = n;
    for (size_t k = 0; k < n; k++)
        if (order[k] + 1 > p.slots)
            p.slots = order[k] + 1;

    b->n = 0;
    *out = p;
    return HS_OK;
nomem:
    free(items);
    hs__points_clear(&p);
    return HS_ENOMEM;
}

void hs__points_clear(hs__points *p)
{
    free(p->entry);
    free(p->index);
    free(p->members);
    memset(p, 0, sizeof *p);
}

/* Record id in the seen set: a linear list for few replicas, a bitmap of
 * member slots for many. Returns true if it was new. */
static bool mark(hs_member_id id, const hs_member_id *out, size_t k, unsigned char *bitmap)
{
    if (bitmap == NULL)
        return !hs__ids_contain(out, k, id);
    unsigned char bit = (unsigned char)(1u << (id & 7));
    if (bitmap[id >> 3] & bit)
        return false;
    bitmap[id >> 3] |= bit;
    return true;
}

int hs__points_walk(const hs__points *p, size_t start, hs_member_id *out, size_t r, size_t *got)
{
    unsigned char *bitmap = NULL;
    if (r > 8) {
        bitmap = calloc((p->slots + 7) / 8 + 1, 1);
        if (bitmap == NULL)
            return HS_ENOMEM;
    }
    size_t k = 0;
    for (size_t step = 0; step < p->n && k < r; step++) {
        size_t i = start + step;
        if (i >= p->n)
            i -= p->n;
        hs_member_id id = hs__points_owner(p, i);
        if (mark(id, out, k, bitmap))
            out[k++] = id;
    }
    for (size_t m = 0; m < p->n_members && k < r; m++)
        if (mark(p->members[m], out, k, bitmap))
            out[k++] = p->members[m];
    free(bitmap);
    *got = k;
    return HS_OK;
}

void hs__split_host_port(const char *name, size_t len, const char **host, size_t *host_len,
                         long *port)
{
    *host = name;
    *host_len = len;
    *port = -1;
    size_t colon = len;
    while (colon > 0 && name[colon - 1] != ':')
        colon--;
    if (colon > 0) {
        size_t digits = len - colon;
        long v = 0;
        bool ok = digits >= 1 && digits <= 5;
        for (size_t i = colon; ok && i < len; i++) {
            ok = name[i] >= '0' && name[i] <= '9';
            v = v * 10 + (name[i] - '0');
        }
        if (ok && v <= 65535) {
            *port = v;
            *host_len = colon - 1;
        }
    }
}

/* ---- the pieces of hs__place_ops the ketama family shares ---- */

int hs__points_init(void **state, const hs_place_opts *opts)
{
    (void)opts;
    *state = calloc(1, sizeof(hs__points));
    return *state ? HS_OK : HS_ENOMEM;
}

void hs__points_fini(void *state)
{
    if (state)
        hs__points_clear(state);
    free(state);
}

int hs__points_build(void *state, const hs__member *members, const hs_member_id *order, size_t n,
                     hs__points_emit_fn emit)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += members[order[i]].weight;
    hs__points_builder b;
    int rc = hs__points_builder_init(&b);
    for (size_t i = 0; rc == HS_OK && i < n; i++)
        rc = emit(&b, &members[order[i]], order[i], total, n);
    hs__points fresh;
    if (rc == HS_OK)
        rc = hs__points_finish(&b, members, order, n, &fresh);
    hs__points_builder_free(&b);
    if (rc != HS_OK)
        return rc;
    hs__points_clear(state);
    *(hs__points *)state = fresh;
    return HS_OK;
}

/* The position a lookup starts at: the first point >= target, wrapping. */
static size_t start_at(const hs__points *p, uint64_t target)
{
    size_t i = hs__points_lower_bound(p, target);
    return i == p->n ? 0 : i;
}

static int lookup_from(const hs__points *p, uint64_t target, hs_member_id *out)
{
    if (p->n == 0)
        return HS_EEMPTY;
    *out = hs__points_owner(p, start_at(p, target));
    return HS_OK;
}

static int lookup_n_from(const hs__points *p, uint64_t target, hs_member_id *out, size_t r,
                         size_t *got)
{
    if (p->n == 0)
        return HS_EEMPTY;
    return hs__points_walk(p, start_at(p, target), out, r, got);
}

int hs__points_lookup_ge(const void *state, uint64_t hash, hs_member_id *out)
{
    return lookup_from(state, (uint32_t)hash, out);
}

int hs__points_lookup_n_ge(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                           size_t *got)
{
    return lookup_n_from(state, (uint32_t)hash, out, r, got);
}

int hs__points_lookup_gt(const void *state, uint64_t hash, hs_member_id *out)
{
    return lookup_from(state, (uint64_t)(uint32_t)hash + 1, out);
}

int hs__points_lookup_n_gt(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                           size_t *got)
{
    return lookup_n_from(state, (uint64_t)(uint32_t)hash + 1, out, r, got);
}
