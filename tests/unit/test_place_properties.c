/* test_place_properties.c - the properties every placement method must have,
 * checked for each method in the registry (so methods added later are
 * covered too): balance, minimal movement on add and remove, weights,
 * replica lists, failover order, bounded loads, and the same answers in a
 * separate process. A method skips what it does not claim (weights without
 * HS_PLACE_WEIGHTED, removing a middle member without HS_PLACE_REMOVE_ANY). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "hashspace/error.h"
#include "hashspace/hash.h"
#include "hashspace/place.h"

#define N_KEYS 200000
#define N_MEMBERS 10

/* What to expect of a method beyond the defaults. The defaults suit a
 * continuum with ~160 points per member, the loosest consistent method. */
typedef struct expect {
    const char *method;
    double peak_to_mean; /* max over members of keys / mean, n = 10, 200k keys */
    double move_factor;  /* moved fraction within [ideal / f, ideal * f] */
    double weight_tol;   /* |share / expected share - 1| */
    bool consistent;     /* false: modulo, which moves almost everything */
    double max_stray;    /* keys moving between other members, over the ideal */
    bool last_failover;  /* out[1] is exact when the last member is removed */
} expect;

static const expect defaults = {NULL, 1.35, 1.6, 0.3, true, 0, false};

static const expect known[] = {
    {"modulo", 1.05, 0, 0, false, 0, false},
    {"jump", 1.05, 1.1, 0, true, 0, true},
    {"jumpback", 1.05, 1.1, 0, true, 0, true},
    {"memento", 1.05, 1.1, 0, true, 0, true},
    {"ring", 1.35, 1.6, 0.3, true, 0, false},
    {"rendezvous", 1.05, 1.1, 0.05, true, 0, false},
    /* A rebuilt table shifts a few entries between the other members. */
    {"maglev", 1.05, 1.25, 0.05, true, 0.25, false},
    /* ketama-style rings give a weight-0.5 member only ~40 points. */
    {"ketama", 1.35, 1.6, 0.6, true, 0, false},
    {"libketama", 1.35, 1.6, 0.6, true, 0, false},
    /* python-continuum sizes points against the total capacity, so every
     * member's points change with the membership: not minimal. */
    {"continuum", 1.35, 2.5, 0.6, true, 1.5, false},
};

static expect expect_of(const char *method)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].method, method) == 0)
            return known[i];
    expect e = defaults;
    e.method = method;
    return e;
}

static uint64_t keys[N_KEYS];

static int setup_keys(void **state)
{
    (void)state;
    char buf[32];
    for (size_t i = 0; i < N_KEYS; i++) {
        int len = snprintf(buf, sizeof buf, "key-%zu", i);
        if (hs_hash(HS_HASH_XXH3, buf, (size_t)len, &keys[i]) != HS_OK)
            return -1;
    }
    return 0;
}

static void member_name(char *buf, size_t cap, size_t i)
{
    snprintf(buf, cap, "node-%04zu:11211", i);
}

/* A placement with members node-0000 .. node-(n-1), added one by one so
 * history-dependent methods see a plain history. weights may be NULL. */
static hs_place *make(const char *method, size_t n, const double *weights)
{
    hs_place *p;
    assert_int_equal(hs_place_new(&p, method, NULL), HS_OK);
    char name[32];
    for (size_t i = 0; i < n; i++) {
        member_name(name, sizeof name, i);
        assert_int_equal(hs_place_add(p, name, weights ? weights[i] : 1.0), HS_OK);
    }
    return p;
}

/* Owners of every key, as member numbers (the digits of the name), since ids
 * may differ between two placements with the same members. */
static void owners(const hs_place *p, uint16_t *out)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        hs_member_id id;
        assert_int_equal(hs_place_lookup(p, keys[i], &id), HS_OK);
        const char *name = hs_place_member_name(p, id);
        assert_non_null(name);
        out[i] = (uint16_t)atoi(name + 5);
    }
}

static size_t member_number(const hs_place *p, hs_member_id id)
{
    const char *name = hs_place_member_name(p, id);
    assert_non_null(name);
    return (size_t)atoi(name + 5);
}

static void test_every_method_balances_keys(void **state)
{
    (void)state;
    static uint16_t own[N_KEYS];
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const char *method = hs_place_method_at(m)->name;
        expect e = expect_of(method);
        hs_place *p = make(method, N_MEMBERS, NULL);
        owners(p, own);
        size_t count[N_MEMBERS] = {0};
        for (size_t i = 0; i < N_KEYS; i++)
            count[own[i]]++;
        size_t peak = 0;
        for (size_t i = 0; i < N_MEMBERS; i++)
            if (count[i] > peak)
                peak = count[i];
        double ratio = (double)peak / ((double)N_KEYS / N_MEMBERS);
        print_message("%-12s peak/mean %.4f (bound %.2f)\n", method, ratio, e.peak_to_mean);
        assert_true(ratio <= e.peak_to_mean);
        hs_place_free(p);
    }
}

/* Fraction of keys whose owner differs, and whether every move matched. */
static double moved_fraction(const uint16_t *before, const uint16_t *after, size_t member,
                             bool to_member, size_t *stray)
{
    size_t moved = 0;
    *stray = 0;
    for (size_t i = 0; i < N_KEYS; i++) {
        if (before[i] == after[i])
            continue;
        moved++;
        if ((to_member ? after[i] : before[i]) != member)
            (*stray)++;
    }
    return (double)moved / N_KEYS;
}

static void check_movement(const char *method, const char *what, double moved, size_t stray,
                           double ideal)
{
    expect e = expect_of(method);
    print_message("%-12s %s: moved %.4f (ideal %.4f), %zu stray\n", method, what, moved, ideal,
                  stray);
    if (!e.consistent) {
        /* The baseline: most keys move. */
        assert_true(moved > 0.5);
        return;
    }
    assert_true(moved <= ideal * e.move_factor);
    assert_true(moved >= ideal / e.move_factor);
    if (e.max_stray == 0)
        assert_int_equal(stray, 0);
    else
        assert_true((double)stray / N_KEYS <= e.max_stray * ideal);
}

static void test_every_method_moves_keys_only_to_an_added_member(void **state)
{
    (void)state;
    static uint16_t before[N_KEYS], after[N_KEYS];
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const char *method = hs_place_method_at(m)->name;
        hs_place *p = make(method, N_MEMBERS, NULL);
        owners(p, before);
        char name[32];
        member_name(name, sizeof name, N_MEMBERS);
        assert_int_equal(hs_place_add(p, name, 1.0), HS_OK);
        owners(p, after);
        size_t stray;
        double moved = moved_fraction(before, after, N_MEMBERS, true, &stray);
        check_movement(method, "add", moved, stray, 1.0 / (N_MEMBERS + 1));
        hs_place_free(p);
    }
}

static void test_every_method_moves_only_a_removed_members_keys(void **state)
{
    (void)state;
    static uint16_t before[N_KEYS], after[N_KEYS];
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const hs_place_info *info = hs_place_method_at(m);
        hs_place *p = make(info->name, N_MEMBERS, NULL);
        owners(p, before);
        /* Any member where the method allows it, else the last one. */
        size_t gone = info->flags & HS_PLACE_REMOVE_ANY ? N_MEMBERS / 2 - 1 : N_MEMBERS - 1;
        char name[32];
        member_name(name, sizeof name, gone);
        assert_int_equal(hs_place_remove(p, name), HS_OK);
        owners(p, after);
        size_t stray;
        double moved = moved_fraction(before, after, gone, false, &stray);
        check_movement(info->name,
                       info->flags & HS_PLACE_REMOVE_ANY ? "remove middle" : "remove last", moved,
                       stray, 1.0 / N_MEMBERS);
        for (size_t i = 0; i < N_KEYS; i++)
            assert_int_not_equal(after[i], gone);
        hs_place_free(p);
    }
}

static void test_weighted_methods_honour_weights(void **state)
{
    (void)state;
    static uint16_t own[N_KEYS];
    const double weights[] = {1, 2, 3, 4, 0.5, 1.5};
    const size_t n = sizeof weights / sizeof weights[0];
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += weights[i];
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const hs_place_info *info = hs_place_method_at(m);
        if (!(info->flags & HS_PLACE_WEIGHTED))
            continue;
        expect e = expect_of(info->name);
        hs_place *p = make(info->name, n, weights);
        owners(p, own);
        size_t count[6] = {0};
        for (size_t i = 0; i < N_KEYS; i++)
            count[own[i]]++;
        for (size_t i = 0; i < n; i++) {
            double share = (double)count[i] / N_KEYS, want = weights[i] / total;
            print_message("%-12s weight %.1f share %.4f (want %.4f)\n", info->name, weights[i],
                          share, want);
            assert_true(fabs(share / want - 1) <= e.weight_tol);
        }
        hs_place_free(p);
    }
}

static void check_lists(const hs_place *p, size_t r, size_t n_keys)
{
    hs_member_id out[64];
    for (size_t k = 0; k < n_keys; k++) {
        size_t got;
        hs_member_id owner;
        assert_int_equal(hs_place_lookup_n(p, keys[k], out, r, &got), HS_OK);
        assert_int_equal(got, r < hs_place_size(p) ? r : hs_place_size(p));
        assert_int_equal(hs_place_lookup(p, keys[k], &owner), HS_OK);
        assert_int_equal(out[0], owner);
        for (size_t i = 0; i < got; i++) {
            assert_non_null(hs_place_member_name(p, out[i]));
            for (size_t j = i + 1; j < got; j++)
                assert_int_not_equal(out[i], out[j]);
        }
    }
}

static void test_every_method_lists_distinct_replicas_starting_with_owner(void **state)
{
    (void)state;
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const char *method = hs_place_method_at(m)->name;
        hs_place *p = make(method, N_MEMBERS, NULL);
        check_lists(p, 3, 2000);
        check_lists(p, N_MEMBERS, 2000);
        check_lists(p, N_MEMBERS + 5, 100);
        hs_place_free(p);
        /* Past the short-list paths of the methods. */
        p = make(method, 60, NULL);
        check_lists(p, 60, 300);
        hs_place_free(p);
    }
}

/* Where the method allows it, out[1..] is the list the key gets once out[0]
 * is removed: for remove-any methods with a middle member, and for the
 * jump-like ones with the last. */
static void test_failover_order_is_the_order_after_removal(void **state)
{
    (void)state;
    const size_t r = 4;
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const hs_place_info *info = hs_place_method_at(m);
        expect e = expect_of(info->name);
        size_t gone;
        if (info->flags & HS_PLACE_REMOVE_ANY)
            gone = 3;
        else if (e.last_failover)
            gone = N_MEMBERS - 1;
        else
            continue;
        hs_place *p = make(info->name, N_MEMBERS, NULL);
        hs_place *q = make(info->name, N_MEMBERS, NULL);
        char name[32];
        member_name(name, sizeof name, gone);
        assert_int_equal(hs_place_remove(q, name), HS_OK);
        size_t checked = 0;
        for (size_t k = 0; k < 20000; k++) {
            hs_member_id before[4], after[4];
            size_t got;
            assert_int_equal(hs_place_lookup_n(p, keys[k], before, r, &got), HS_OK);
            if (member_number(p, before[0]) != gone)
                continue;
            assert_int_equal(hs_place_lookup_n(q, keys[k], after, r - 1, &got), HS_OK);
            for (size_t i = 0; i + 1 < r; i++)
                assert_int_equal(member_number(q, after[i]), member_number(p, before[i + 1]));
            checked++;
        }
        print_message("%-12s failover checked on %zu keys\n", info->name, checked);
        assert_true(checked > 1000);
        hs_place_free(p);
        hs_place_free(q);
    }
}

static void test_bounded_loads_cap_every_member(void **state)
{
    (void)state;
    const size_t n_keys = 100000;
    const double c = 1.25;
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const char *method = hs_place_method_at(m)->name;
        hs_place *p = make(method, N_MEMBERS, NULL);
        uint64_t loads[N_MEMBERS] = {0}, total = 0;
        size_t stayed = 0;
        assert_true(hs_place_slots(p) <= N_MEMBERS);
        for (size_t k = 0; k < n_keys; k++) {
            hs_member_id id, owner;
            assert_int_equal(hs_place_lookup_bounded(p, keys[k], c, loads, total, &id), HS_OK);
            assert_int_equal(hs_place_lookup(p, keys[k], &owner), HS_OK);
            stayed += id == owner;
            loads[id]++;
            total++;
        }
        uint64_t peak = 0;
        for (size_t i = 0; i < N_MEMBERS; i++)
            if (loads[i] > peak)
                peak = loads[i];
        double bound = ceil(c * (double)n_keys / N_MEMBERS) + 1;
        double stay = (double)stayed / n_keys;
        print_message("%-12s bounded: peak %llu (bound %.0f), %.4f stayed with the owner\n", method,
                      (unsigned long long)peak, bound, stay);
        assert_true((double)peak <= bound);
        assert_true(stay >= 0.9);
        hs_place_free(p);
    }
    /* c below 1 is refused. */
    hs_place *p = make("jump", 2, NULL);
    uint64_t loads[2] = {0};
    hs_member_id id;
    assert_int_equal(hs_place_lookup_bounded(p, 1, 0.5, loads, 0, &id), HS_EINVAL);
    hs_place_free(p);
}

/* ---- the same answers in a fresh process ---- */

static uint64_t digest(const char *method)
{
    static const double weights[] = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2};
    const size_t n = sizeof weights / sizeof weights[0];
    hs_place *p;
    if (hs_place_new(&p, method, NULL) != HS_OK)
        return 0;
    char name[32];
    for (size_t i = 0; i < n; i++) {
        member_name(name, sizeof name, i);
        if (hs_place_add(p, name, weights[i]) != HS_OK)
            return 0;
    }
    /* A little history: remove one member and add another. */
    member_name(name, sizeof name, 4);
    hs_place_remove(p, name);
    member_name(name, sizeof name, 99);
    hs_place_add(p, name, 2);
    uint64_t d = 0;
    for (size_t k = 0; k < 100000; k++) {
        hs_member_id out[3];
        size_t got;
        if (hs_place_lookup_n(p, keys[k], out, 3, &got) != HS_OK)
            return 0;
        for (size_t i = 0; i < got; i++) {
            const char *nm = hs_place_member_name(p, out[i]);
            d = XXH3_64bits_withSeed(nm, strlen(nm), d);
        }
    }
    hs_place_free(p);
    return d;
}

static void test_every_method_answers_the_same_in_a_fresh_process(void **state)
{
    (void)state;
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const char *method = hs_place_method_at(m)->name;
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            /* A new image: nothing shared with this process but the pipe. */
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
            execl("/proc/self/exe", "test_place_properties", "--digest", method, (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        char buf[64] = {0};
        size_t len = 0;
        ssize_t got;
        while (len < sizeof buf - 1 && (got = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
            len += (size_t)got;
        close(fds[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        uint64_t mine = digest(method);
        assert_int_not_equal(mine, 0);
        assert_int_equal(strtoull(buf, NULL, 16), mine);
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--digest") == 0) {
        if (setup_keys(NULL) != 0)
            return 1;
        printf("%016llx\n", (unsigned long long)digest(argv[2]));
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_method_balances_keys),
        cmocka_unit_test(test_every_method_moves_keys_only_to_an_added_member),
        cmocka_unit_test(test_every_method_moves_only_a_removed_members_keys),
        cmocka_unit_test(test_weighted_methods_honour_weights),
        cmocka_unit_test(test_every_method_lists_distinct_replicas_starting_with_owner),
        cmocka_unit_test(test_failover_order_is_the_order_after_removal),
        cmocka_unit_test(test_bounded_loads_cap_every_member),
        cmocka_unit_test(test_every_method_answers_the_same_in_a_fresh_process),
    };
    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
