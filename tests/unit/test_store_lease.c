/*
 * Unit tests of the lessor in store/lease: the leader's lease expiry
 * bookkeeping driven by a fake millisecond clock (no sockets, no timers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "lease.h"

static struct store_lessor *promoted(const struct store_mvcc_lease *leases, size_t n, uint64_t now,
                                     uint64_t extend)
{
    struct store_lessor *l = store_lease_lessor_new();
    store_lease_promote(l, leases, n, now, extend);
    assert_true(store_lease_is_primary(l));
    return l;
}

static void test_not_primary(void **state)
{
    struct store_lessor *l = store_lease_lessor_new();
    int64_t ttl = 0, ids[4];

    assert_false(store_lease_is_primary(l));
    /* A follower's lessor ignores applied grants and answers nothing. */
    store_lease_granted(l, 7, 10, 1000);
    assert_int_equal(store_lease_count(l), 0);
    assert_int_equal(store_lease_renew(l, 7, 1000, &ttl), K8C_ENOTLEADER);
    assert_int_equal(store_lease_remaining(l, 7, 1000, NULL, NULL), K8C_ENOTLEADER);
    assert_int_equal(store_lease_expired(l, UINT64_MAX, ids, 4), 0);
    assert_true(store_lease_next_due(l) == UINT64_MAX);
    store_lease_revoked(l, 7); /* no-op */
    store_lease_lessor_del(l);
    store_lease_lessor_del(NULL);
}

static void test_grant_renew_expire(void **state)
{
    struct store_lessor *l = promoted(NULL, 0, 0, 0);
    int64_t ttl = 0, rem = 0, granted = 0, ids[8];

    store_lease_granted(l, 1, 10, 1000); /* expires at 11000 */
    store_lease_granted(l, 2, 5, 1000);  /* expires at 6000 */
    assert_int_equal(store_lease_count(l), 2);
    assert_true(store_lease_next_due(l) == 6000);

    /* Remaining time truncates toward zero like etcd's int64(Seconds()). */
    assert_int_equal(store_lease_remaining(l, 1, 1001, &rem, &granted), 0);
    assert_int_equal(rem, 9);
    assert_int_equal(granted, 10);
    assert_int_equal(store_lease_remaining(l, 1, 1000, &rem, NULL), 0);
    assert_int_equal(rem, 10);
    assert_int_equal(store_lease_remaining(l, 99, 1000, &rem, NULL), K8C_ETCD_LEASE_NOT_FOUND);

    /* Nothing is due before 6000. */
    assert_int_equal(store_lease_expired(l, 5999, ids, 8), 0);

    /* A keepalive at 5000 pushes lease 2 to 10000: still due before lease 1. */
    assert_int_equal(store_lease_renew(l, 2, 5000, &ttl), 0);
    assert_int_equal(ttl, 5);
    assert_true(store_lease_next_due(l) == 10000);
    assert_int_equal(store_lease_expired(l, 9999, ids, 8), 0);
    assert_int_equal(store_lease_expired(l, 10000, ids, 8), 1);
    assert_int_equal(ids[0], 2);
    /* Handed out for revoke: renew refuses it, it is not handed out again
     * until the retry time, lease 1 is next. */
    assert_int_equal(store_lease_renew(l, 2, 10001, &ttl), K8C_ETCD_LEASE_NOT_FOUND);
    assert_int_equal(store_lease_expired(l, 10500, ids, 8), 0);
    assert_int_equal(store_lease_expired(l, 11000, ids, 8), 1);
    assert_int_equal(ids[0], 1);
    /* The revoke of 1 is applied; the one of 2 was lost and is retried. */
    store_lease_revoked(l, 1);
    assert_int_equal(store_lease_count(l), 1);
    assert_int_equal(store_lease_expired(l, 10000 + STORE_LEASE_REVOKE_RETRY_MS - 1, ids, 8), 0);
    assert_int_equal(store_lease_expired(l, 10000 + STORE_LEASE_REVOKE_RETRY_MS, ids, 8), 1);
    assert_int_equal(ids[0], 2);
    store_lease_revoked(l, 2);
    assert_int_equal(store_lease_count(l), 0);
    assert_true(store_lease_next_due(l) == UINT64_MAX);
    assert_int_equal(store_lease_renew(l, 2, 20000, &ttl), K8C_ETCD_LEASE_NOT_FOUND);
    store_lease_lessor_del(l);
}

static void test_renew_after_expiry_before_tick(void **state)
{
    struct store_lessor *l = promoted(NULL, 0, 0, 0);
    int64_t ttl = 0, ids[2];

    store_lease_granted(l, 5, 2, 0);
    /* Past expiry but not yet collected: etcd treats it as gone. */
    assert_int_equal(store_lease_renew(l, 5, 2000, &ttl), K8C_ETCD_LEASE_NOT_FOUND);
    assert_int_equal(store_lease_renew(l, 5, 1999, &ttl), 0);
    assert_int_equal(ttl, 2);
    assert_int_equal(store_lease_expired(l, 3998, ids, 2), 0);
    assert_int_equal(store_lease_expired(l, 3999, ids, 2), 1);
    /* A re-applied grant of the same id (replay) restarts it. */
    store_lease_granted(l, 5, 4, 5000);
    assert_int_equal(store_lease_count(l), 1);
    assert_int_equal(store_lease_renew(l, 5, 5000, &ttl), 0);
    assert_int_equal(ttl, 4);
    store_lease_lessor_del(l);
}

static void test_promote_demote(void **state)
{
    /* Lease 3 has a checkpointed remaining TTL: it gets that, not the full TTL. */
    struct store_mvcc_lease leases[] = {{1, 10, 0}, {2, 60, 0}, {3, 60, 5}, {1, 99, 0}};
    struct store_lessor *l = promoted(leases, 4, 100000, 500);
    int64_t rem = 0, granted = 0, ids[8];

    assert_int_equal(store_lease_count(l), 3); /* the duplicate id is ignored */
    assert_int_equal(store_lease_remaining(l, 1, 100000, &rem, &granted), 0);
    assert_int_equal(rem, 10); /* 10.5 s truncated */
    assert_int_equal(granted, 10);
    assert_int_equal(store_lease_remaining(l, 3, 100000, &rem, &granted), 0);
    assert_int_equal(rem, 5);
    assert_int_equal(granted, 60);
    /* Expiry order: 3 at 105500, 1 at 110500, 2 at 160500. */
    assert_int_equal(store_lease_expired(l, 105499, ids, 8), 0);
    assert_int_equal(store_lease_expired(l, 160500, ids, 8), 3);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], 1);
    assert_int_equal(ids[2], 2);

    /* Losing leadership forgets everything; promoting again starts over from
     * the given state, with full TTLs. */
    store_lease_demote(l);
    assert_false(store_lease_is_primary(l));
    assert_int_equal(store_lease_count(l), 0);
    assert_int_equal(store_lease_expired(l, UINT64_MAX, ids, 8), 0);
    store_lease_promote(l, leases, 2, 200000, 0);
    assert_int_equal(store_lease_count(l), 2);
    assert_int_equal(store_lease_expired(l, 210000, ids, 8), 1);
    assert_int_equal(ids[0], 1);
    store_lease_lessor_del(l);
}

/* Many leases granted together, promoted on a new leader: at most 3/4 of the
 * revoke rate expire in any one second, nobody expires earlier than their TTL
 * and each lease is delayed by only a few seconds. */
static void test_promote_spreads_expiries(void **state)
{
    enum { N = 3000 };
    struct store_mvcc_lease *leases = k8c_calloc(N, sizeof(*leases));
    int64_t *ids = k8c_calloc(N, sizeof(*ids));
    size_t per_second[32] = {0}, total = 0;

    for (size_t i = 0; i < N; i++) {
        leases[i].id = (int64_t)i + 1;
        leases[i].ttl = 10;
    }
    struct store_lessor *l = promoted(leases, N, 0, 1000);
    /* Nothing before now + extend + ttl. */
    assert_int_equal(store_lease_expired(l, 10999, ids, N), 0);
    for (uint64_t sec = 11; sec < 32 && total < N; sec++) {
        size_t n = store_lease_expired(l, sec * 1000 + 999, ids, N);
        per_second[sec] = n;
        total += n;
        for (size_t i = 0; i < n; i++)
            store_lease_revoked(l, ids[i]); /* else they come back after the retry time */
        assert_true(n <= (3 * STORE_LEASE_REVOKE_RATE) / 4 + 1);
    }
    assert_int_equal(total, N);
    /* The first 3/4 of the rate keep their expiry; the rest follow at that
     * rate: 3000 leases over four seconds. */
    assert_int_equal(per_second[11], (3 * STORE_LEASE_REVOKE_RATE) / 4);
    assert_true(per_second[14] > 0);
    for (size_t s = 16; s < 32; s++)
        assert_int_equal(per_second[s], 0);

    /* Below the revoke rate nothing is spread: all expire together. */
    store_lease_promote(l, leases, STORE_LEASE_REVOKE_RATE - 1, 0, 0);
    assert_int_equal(store_lease_expired(l, 10000, ids, N), STORE_LEASE_REVOKE_RATE - 1);
    store_lease_lessor_del(l);
    k8c_free(leases);
    k8c_free(ids);
}

static uint64_t constant_random(void *arg)
{
    return *(uint64_t *)arg;
}

static uint64_t counter_random(void *arg)
{
    return (*(uint64_t *)arg)++;
}

static void test_pick_id(void **state)
{
    struct store_lessor *l = promoted(NULL, 0, 0, 0);
    uint64_t value = UINT64_MAX; /* masked to INT64_MAX */
    int64_t id;

    id = store_lease_pick_id(l, constant_random, &value);
    assert_true(id == INT64_MAX);
    store_lease_granted(l, INT64_MAX, 10, 0);
    /* The only value the source produces is taken: the search wraps to 1. */
    id = store_lease_pick_id(l, constant_random, &value);
    assert_true(id == 1);
    /* 0 is never an id. */
    value = 0;
    id = store_lease_pick_id(l, constant_random, &value);
    assert_true(id == 1);
    store_lease_granted(l, 1, 10, 0);
    value = 0;
    id = store_lease_pick_id(l, counter_random, &value);
    assert_true(id == 2); /* draws 0 (invalid), 1 (taken), 2 */
    store_lease_lessor_del(l);
}

/*
 * Random operations against a plain array model: the hash table (with its
 * backward-shift deletion) and the heap must agree with the model on which
 * leases exist and which are due, through thousands of grants, renews,
 * expiries and revokes on a small id space (many collisions and reinserts).
 */
struct model_lease {
    bool live, revoking;
    int64_t ttl;
    uint64_t expiry, due;
};

static void test_random_against_model(void **state)
{
    enum { IDS = 300, STEPS = 60000 };
    struct model_lease *m = k8c_calloc(IDS, sizeof(*m));
    struct store_lessor *l = promoted(NULL, 0, 0, 0);
    uint64_t now = 1000, seed = 12345;
    int64_t ids[IDS];

    for (int step = 0; step < STEPS; step++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned r = (unsigned)(seed >> 33);
        /* ids spread over the int64 range but few distinct ones */
        size_t k = r % IDS;
        int64_t id = (int64_t)((k * 0x9E3779B97F4A7C15ULL) >> 1) + 1;
        int64_t ttl = 0;
        switch ((r >> 10) % 5) {
        case 0: /* grant */
            m[k].live = true;
            m[k].revoking = false;
            m[k].ttl = 1 + (r >> 14) % 20;
            m[k].expiry = m[k].due = now + (uint64_t)m[k].ttl * 1000;
            store_lease_granted(l, id, m[k].ttl, now);
            break;
        case 1: { /* renew */
            int rv = store_lease_renew(l, id, now, &ttl);
            if (m[k].live && !m[k].revoking && now < m[k].expiry) {
                assert_int_equal(rv, 0);
                assert_int_equal(ttl, m[k].ttl);
                m[k].expiry = m[k].due = now + (uint64_t)m[k].ttl * 1000;
            } else {
                assert_int_equal(rv, K8C_ETCD_LEASE_NOT_FOUND);
            }
            break;
        }
        case 2: /* revoke applied */
            m[k].live = false;
            store_lease_revoked(l, id);
            break;
        case 3: { /* time passes, expired leases are collected */
            now += (r >> 14) % 700;
            size_t n = store_lease_expired(l, now, ids, IDS), expect = 0;
            for (size_t i = 0; i < IDS; i++) {
                if (m[i].live && m[i].due <= now)
                    expect++;
            }
            assert_int_equal(n, expect);
            for (size_t i = 0; i < n; i++) {
                size_t j;
                for (j = 0; j < IDS; j++) {
                    if ((int64_t)((j * 0x9E3779B97F4A7C15ULL) >> 1) + 1 == ids[i])
                        break;
                }
                assert_true(j < IDS);
                assert_true(m[j].live && m[j].due <= now);
                m[j].revoking = true;
                m[j].due = now + STORE_LEASE_REVOKE_RETRY_MS;
            }
            break;
        }
        default: { /* remaining */
            int64_t rem;
            int rv = store_lease_remaining(l, id, now, &rem, NULL);
            if (m[k].live) {
                assert_int_equal(rv, 0);
                assert_int_equal(rem, ((int64_t)m[k].expiry - (int64_t)now) / 1000);
            } else {
                assert_int_equal(rv, K8C_ETCD_LEASE_NOT_FOUND);
            }
            break;
        }
        }
        size_t live = 0;
        for (size_t i = 0; i < IDS; i++)
            live += m[i].live;
        assert_int_equal(store_lease_count(l), live);
    }
    store_lease_lessor_del(l);
    k8c_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_primary),
        cmocka_unit_test(test_grant_renew_expire),
        cmocka_unit_test(test_renew_after_expiry_before_tick),
        cmocka_unit_test(test_promote_demote),
        cmocka_unit_test(test_promote_spreads_expiries),
        cmocka_unit_test(test_pick_id),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
