/* test_busseq.c - bus losses from each publisher's sequence numbers: gaps
 * counted at once, late and duplicate messages inside the window, restarts,
 * publishers kept apart, and the limit on publishers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "busseq.h"
#include "hashspace/error.h"

static hs__busseq_event see(hs__busseq *s, const char *who, uint64_t i, uint64_t *missing)
{
    uint64_t m, prev;
    hs__busseq_event ev = hs__busseq_observe(s, who, strlen(who), i, &m, &prev);
    if (missing != NULL)
        *missing = m;
    return ev;
}

static uint64_t get(const atomic_uint_fast64_t *a)
{
    return atomic_load((atomic_uint_fast64_t *)a);
}

static void test_busseq_counts_a_gap_when_it_happens(void **state)
{
    (void)state;
    hs__busseq s;
    assert_int_equal(hs__busseq_init(&s), HS_OK);
    uint64_t missing;
    assert_int_equal(see(&s, "p", 100, NULL), HS__BUSSEQ_FIRST); /* joined mid-stream */
    assert_int_equal(see(&s, "p", 101, NULL), HS__BUSSEQ_IN_ORDER);
    assert_int_equal(see(&s, "p", 105, &missing), HS__BUSSEQ_GAP);
    assert_int_equal(missing, 3);
    assert_int_equal(see(&s, "p", 106, NULL), HS__BUSSEQ_IN_ORDER);
    assert_int_equal(see(&s, "p", 1106, &missing), HS__BUSSEQ_GAP); /* beyond the window */
    assert_int_equal(missing, 999);
    assert_int_equal(hs__busseq_count(&s), 1);
    assert_string_equal(s.pubs[0].name, "p");
    assert_int_equal(get(&s.pubs[0].missing), 1002);
    assert_int_equal(get(&s.pubs[0].gaps), 2);
    assert_int_equal(get(&s.pubs[0].received), 5);
    assert_int_equal(get(&s.pubs[0].last), 1106);
    hs__busseq_destroy(&s);
}

static void test_busseq_late_fills_a_hole_and_a_repeat_is_a_duplicate(void **state)
{
    (void)state;
    hs__busseq s;
    assert_int_equal(hs__busseq_init(&s), HS_OK);
    see(&s, "p", 1, NULL);
    see(&s, "p", 2, NULL);
    assert_int_equal(see(&s, "p", 5, NULL), HS__BUSSEQ_GAP); /* 3, 4 missing */
    assert_int_equal(see(&s, "p", 4, NULL), HS__BUSSEQ_LATE);
    assert_int_equal(see(&s, "p", 4, NULL), HS__BUSSEQ_DUPLICATE);
    assert_int_equal(see(&s, "p", 5, NULL), HS__BUSSEQ_DUPLICATE);
    assert_int_equal(see(&s, "p", 2, NULL), HS__BUSSEQ_DUPLICATE);
    assert_int_equal(see(&s, "p", 3, NULL), HS__BUSSEQ_LATE);
    assert_int_equal(see(&s, "p", 6, NULL), HS__BUSSEQ_IN_ORDER);
    assert_int_equal(get(&s.pubs[0].missing), 2);
    assert_int_equal(get(&s.pubs[0].late), 2); /* net loss 0 */
    assert_int_equal(get(&s.pubs[0].duplicates), 3);
    assert_int_equal(get(&s.pubs[0].restarts), 0);
    hs__busseq_destroy(&s);
}

static void test_busseq_a_restart_is_not_a_gap(void **state)
{
    (void)state;
    hs__busseq s;
    assert_int_equal(hs__busseq_init(&s), HS_OK);
    for (uint64_t i = 1; i <= 5000; i++)
        see(&s, "p", i, NULL);
    assert_int_equal(see(&s, "p", 1, NULL), HS__BUSSEQ_RESTART);
    assert_int_equal(see(&s, "p", 2, NULL), HS__BUSSEQ_IN_ORDER);
    /* A restart whose first messages were lost: far below the last. */
    for (uint64_t i = 3; i <= 200; i++)
        see(&s, "p", i, NULL);
    assert_int_equal(see(&s, "p", 7, NULL), HS__BUSSEQ_RESTART);
    assert_int_equal(get(&s.pubs[0].restarts), 2);
    assert_int_equal(get(&s.pubs[0].missing), 0);
    assert_int_equal(get(&s.pubs[0].gaps), 0);
    hs__busseq_destroy(&s);
}

static void test_busseq_keeps_publishers_apart(void **state)
{
    (void)state;
    hs__busseq s;
    assert_int_equal(hs__busseq_init(&s), HS_OK);
    for (uint64_t i = 1; i <= 100; i++) {
        see(&s, "10.0.0.1 bodhi", i, NULL);
        see(&s, "10.0.0.2 bodhi", i * 2, NULL); /* every other one missing */
    }
    assert_int_equal(hs__busseq_count(&s), 2);
    assert_int_equal(get(&s.pubs[0].missing), 0);
    assert_int_equal(get(&s.pubs[1].missing), 99);
    assert_int_equal(get(&s.pubs[1].gaps), 99);
    hs__busseq_destroy(&s);
}

static void test_busseq_counts_publishers_over_the_limit_as_untracked(void **state)
{
    (void)state;
    hs__busseq s;
    assert_int_equal(hs__busseq_init(&s), HS_OK);
    char name[32];
    for (int p = 0; p < HS__BUSSEQ_MAX_PUBLISHERS + 10; p++) {
        snprintf(name, sizeof name, "pub-%d", p);
        hs__busseq_event ev = see(&s, name, 1, NULL);
        assert_int_equal(ev,
                         p < HS__BUSSEQ_MAX_PUBLISHERS ? HS__BUSSEQ_FIRST : HS__BUSSEQ_UNTRACKED);
    }
    assert_int_equal(hs__busseq_count(&s), HS__BUSSEQ_MAX_PUBLISHERS);
    assert_int_equal(get(&s.untracked), 10);
    /* The tracked ones are still found. */
    assert_int_equal(see(&s, "pub-7", 2, NULL), HS__BUSSEQ_IN_ORDER);
    /* A name longer than the limit is cut, and found again the same way. */
    char long_name[300];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    hs__busseq t;
    assert_int_equal(hs__busseq_init(&t), HS_OK);
    assert_int_equal(see(&t, long_name, 1, NULL), HS__BUSSEQ_FIRST);
    assert_int_equal(see(&t, long_name, 2, NULL), HS__BUSSEQ_IN_ORDER);
    assert_int_equal(strlen(t.pubs[0].name), HS__BUSSEQ_NAME_MAX - 1);
    hs__busseq_destroy(&t);
    hs__busseq_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busseq_counts_a_gap_when_it_happens),
        cmocka_unit_test(test_busseq_late_fills_a_hole_and_a_repeat_is_a_duplicate),
        cmocka_unit_test(test_busseq_a_restart_is_not_a_gap),
        cmocka_unit_test(test_busseq_keeps_publishers_apart),
        cmocka_unit_test(test_busseq_counts_publishers_over_the_limit_as_untracked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
