/*
 * store/lease: the leader's lease expiry bookkeeping (the lessor) and the
 * etcd v3 Lease gRPC service. See lease.h for how the parts fit together.
 */
#include "lease.h"

#include "alloc.h"
#include "error.h"
#include "log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ===================================================================== */
/* The lessor                                                             */
/* ===================================================================== */

struct lease_item {
    int64_t id;
    int64_t ttl;        /* granted TTL, seconds */
    uint64_t expiry_ms; /* when the lease expires */
    uint64_t due_ms;    /* heap key: expiry_ms, or the retry time while revoking */
    size_t heap_pos;
    bool revoking; /* handed out by store_lease_expired, revoke not applied yet */
};

/*
 * Two indexes over the same items: an open-addressing hash table (linear
 * probing, power-of-two size, at most 3/4 full, deletion by backward shift so
 * no tombstones accumulate) for lookups by id, and a binary min-heap on due_ms
 * whose entries know their own position (heap_pos) so a renew or a revoke can
 * fix or remove an entry in O(log n).
 */
struct store_lessor {
    bool primary;
    struct lease_item **slots;
    size_t nslots, used;
    struct lease_item **heap;
    size_t nheap, heap_cap;
};

static uint64_t mix64(uint64_t x)
{
    /* splitmix64's finaliser: lease ids may be sequential or random. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* The slot holding id, or the empty slot where it would go. */
static size_t map_slot(const struct store_lessor *l, int64_t id)
{
    size_t mask = l->nslots - 1, i = (size_t)mix64((uint64_t)id) & mask;
    while (l->slots[i] != NULL && l->slots[i]->id != id)
        i = (i + 1) & mask;
    return i;
}

static struct lease_item *map_find(const struct store_lessor *l, int64_t id)
{
    if (l->nslots == 0)
        return NULL;
    return l->slots[map_slot(l, id)];
}

static void map_resize(struct store_lessor *l, size_t nslots)
{
    struct lease_item **old = l->slots;
    size_t nold = l->nslots;

    l->slots = k8c_calloc(nslots, sizeof(*l->slots));
    l->nslots = nslots;
    for (size_t i = 0; i < nold; i++) {
        if (old[i] != NULL)
            l->slots[map_slot(l, old[i]->id)] = old[i];
    }
    k8c_free(old);
}

static void map_insert(struct store_lessor *l, struct lease_item *it)
{
    if ((l->used + 1) * 4 > l->nslots * 3)
        map_resize(l, l->nslots ? l->nslots * 2 : 16);
    l->slots[map_slot(l, it->id)] = it;
    l->used++;
}

/* Removes the item in slot i, shifting later members of its probe run back
 * so that every remaining item is still reachable from its home slot. */
static void map_erase_slot(struct store_lessor *l, size_t i)
{
    size_t mask = l->nslots - 1, j = i;

    l->slots[i] = NULL;
    l->used--;
    for (;;) {
        j = (j + 1) & mask;
        if (l->slots[j] == NULL)
            return;
        size_t home = (size_t)mix64((uint64_t)l->slots[j]->id) & mask;
        /* The item at j may move to the hole at i unless its home lies
         * cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            l->slots[i] = l->slots[j];
            l->slots[j] = NULL;
            i = j;
        }
    }
}

static void heap_swap(struct store_lessor *l, size_t a, size_t b)
{
    struct lease_item *t = l->heap[a];
    l->heap[a] = l->heap[b];
    l->heap[b] = t;
    l->heap[a]->heap_pos = a;
    l->heap[b]->heap_pos = b;
}

static void heap_up(struct store_lessor *l, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (l->heap[parent]->due_ms <= l->heap[i]->due_ms)
            return;
        heap_swap(l, i, parent);
        i = parent;
    }
}

static void heap_down(struct store_lessor *l, size_t i)
{
    for (;;) {
        size_t left = 2 * i + 1, right = left + 1, min = i;
        if (left < l->nheap && l->heap[left]->due_ms < l->heap[min]->due_ms)
            min = left;
        if (right < l->nheap && l->heap[right]->due_ms < l->heap[min]->due_ms)
            min = right;
        if (min == i)
            return;
        heap_swap(l, i, min);
        i = min;
    }
}

/* Restores heap order after the due time of the item at i changed. */
static void heap_fix(struct store_lessor *l, size_t i)
{
    struct lease_item *it = l->heap[i];
    heap_up(l, i);
    heap_down(l, it->heap_pos);
}

static void heap_push(struct store_lessor *l, struct lease_item *it)
{
    if (l->nheap == l->heap_cap) {
        l->heap_cap = l->heap_cap ? l->heap_cap * 2 : 16;
        l->heap = k8c_realloc(l->heap, l->heap_cap * sizeof(*l->heap));
    }
    it->heap_pos = l->nheap;
    l->heap[l->nheap++] = it;
    heap_up(l, it->heap_pos);
}

static void heap_remove(struct store_lessor *l, size_t i)
{
    size_t last = --l->nheap;
    if (i != last) {
        l->heap[i] = l->heap[last];
        l->heap[i]->heap_pos = i;
        heap_fix(l, i);
    }
}

struct store_lessor *store_lease_lessor_new(void)
{
    return K8C_NEW(struct store_lessor);
}

static void lessor_clear(struct store_lessor *l)
{
    for (size_t i = 0; i < l->nheap; i++)
        k8c_free(l->heap[i]);
    k8c_free(l->heap);
    k8c_free(l->slots);
    l->heap = NULL;
    l->slots = NULL;
    l->nheap = l->heap_cap = l->nslots = l->used = 0;
}

void store_lease_lessor_del(struct store_lessor *l)
{
    if (l == NULL)
        return;
    lessor_clear(l);
    k8c_free(l);
}

bool store_lease_is_primary(const struct store_lessor *l)
{
    return l->primary;
}

size_t store_lease_count(const struct store_lessor *l)
{
    return l->used;
}

static int cmp_expiry(const void *a, const void *b)
{
    const struct lease_item *x = *(struct lease_item *const *)a;
    const struct lease_item *y = *(struct lease_item *const *)b;
    if (x->expiry_ms != y->expiry_ms)
        return x->expiry_ms < y->expiry_ms ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * etcd's Promote: after a leader change every lease starts its full (or
 * checkpointed) TTL at once, so leases granted together would also expire
 * together and their revokes would flood raft. Walking the leases in expiry
 * order with a one-second window that starts at the first expiry, once more
 * than 3/4 of the revoke rate fall into the current window, each further lease
 * is pushed back by (expires / target) seconds less its distance from the
 * window's start, and the window stretches to cover it; a lease beyond the
 * window starts a new one. Done only with at least STORE_LEASE_REVOKE_RATE
 * leases, as etcd.
 */
static void spread_expiries(struct lease_item **items, size_t n, uint64_t now_ms)
{
    const int64_t target = (3 * STORE_LEASE_REVOKE_RATE) / 4;
    int64_t base, next, expires = 0;

    if (n < STORE_LEASE_REVOKE_RATE)
        return;
    qsort(items, n, sizeof(*items), cmp_expiry);
    base = (int64_t)(items[0]->expiry_ms - now_ms);
    next = base + 1000;
    for (size_t i = 0; i < n; i++) {
        int64_t remaining = (int64_t)(items[i]->expiry_ms - now_ms);
        if (remaining > next) {
            base = remaining;
            next = base + 1000;
            expires = 1;
            continue;
        }
        expires++;
        if (expires <= target)
            continue;
        int64_t delay = 1000 * expires / target - (remaining - base);
        next = base + delay;
        /* refresh(delay + extend): now + extend + delay + the lease's TTL. */
        items[i]->expiry_ms += (uint64_t)delay;
        items[i]->due_ms = items[i]->expiry_ms;
    }
}

void store_lease_promote(struct store_lessor *l, const struct store_mvcc_lease *leases, size_t n,
                         uint64_t now_ms, uint64_t extend_ms)
{
    struct lease_item **items = n ? k8c_malloc(n * sizeof(*items)) : NULL;
    size_t count = 0;

    lessor_clear(l);
    l->primary = true;
    for (size_t i = 0; i < n; i++) {
        struct lease_item *it;
        int64_t ttl = leases[i].remaining_ttl > 0 ? leases[i].remaining_ttl : leases[i].ttl;
        if (map_find(l, leases[i].id) != NULL)
            continue; /* a duplicate in the input: keep the first */
        it = K8C_NEW(struct lease_item);
        it->id = leases[i].id;
        it->ttl = leases[i].ttl;
        it->expiry_ms = now_ms + extend_ms + (uint64_t)(ttl > 0 ? ttl : 0) * 1000;
        it->due_ms = it->expiry_ms;
        map_insert(l, it);
        items[count++] = it;
    }
    spread_expiries(items, count, now_ms);
    for (size_t i = 0; i < count; i++)
        heap_push(l, items[i]);
    k8c_free(items);
}

void store_lease_demote(struct store_lessor *l)
{
    lessor_clear(l);
    l->primary = false;
}

void store_lease_granted(struct store_lessor *l, int64_t id, int64_t ttl, uint64_t now_ms)
{
    struct lease_item *it;

    if (!l->primary)
        return;
    it = map_find(l, id);
    if (it == NULL) {
        it = K8C_NEW(struct lease_item);
        it->id = id;
        map_insert(l, it);
        heap_push(l, it);
    }
    it->ttl = ttl;
    it->revoking = false;
    it->expiry_ms = now_ms + (uint64_t)(ttl > 0 ? ttl : 0) * 1000;
    it->due_ms = it->expiry_ms;
    heap_fix(l, it->heap_pos);
}

void store_lease_revoked(struct store_lessor *l, int64_t id)
{
    struct lease_item *it;
    size_t slot;

    if (l->nslots == 0)
        return;
    slot = map_slot(l, id);
    it = l->slots[slot];
    if (it == NULL)
        return;
    map_erase_slot(l, slot);
    heap_remove(l, it->heap_pos);
    k8c_free(it);
}

int store_lease_renew(struct store_lessor *l, int64_t id, uint64_t now_ms, int64_t *ttl)
{
    struct lease_item *it;

    if (!l->primary)
        return K8C_ENOTLEADER;
    it = map_find(l, id);
    /* An expired lease is as good as revoked (etcd waits for the revoke and
     * then reports it not found). */
    if (it == NULL || it->revoking || now_ms >= it->expiry_ms)
        return K8C_ETCD_LEASE_NOT_FOUND;
    it->expiry_ms = now_ms + (uint64_t)(it->ttl > 0 ? it->ttl : 0) * 1000;
    it->due_ms = it->expiry_ms;
    heap_fix(l, it->heap_pos);
    *ttl = it->ttl;
    return 0;
}

int store_lease_remaining(const struct store_lessor *l, int64_t id, uint64_t now_ms,
                          int64_t *remaining, int64_t *granted_ttl)
{
    const struct lease_item *it;

    if (!l->primary)
        return K8C_ENOTLEADER;
    if ((it = map_find(l, id)) == NULL)
        return K8C_ETCD_LEASE_NOT_FOUND;
    if (remaining)
        *remaining = ((int64_t)it->expiry_ms - (int64_t)now_ms) / 1000;
    if (granted_ttl)
        *granted_ttl = it->ttl;
    return 0;
}

size_t store_lease_expired(struct store_lessor *l, uint64_t now_ms, int64_t *ids, size_t max)
{
    size_t n = 0;

    if (!l->primary)
        return 0;
    while (n < max && l->nheap > 0 && l->heap[0]->due_ms <= now_ms) {
        struct lease_item *it = l->heap[0];
        it->revoking = true;
        it->due_ms = now_ms + STORE_LEASE_REVOKE_RETRY_MS;
        heap_down(l, 0);
        ids[n++] = it->id;
    }
    return n;
}

uint64_t store_lease_next_due(const struct store_lessor *l)
{
    return l->nheap ? l->heap[0]->due_ms : UINT64_MAX;
}

int64_t store_lease_pick_id(const struct store_lessor *l, uint64_t (*random)(void *arg), void *arg)
{
    int64_t id = 0;

    /* Bounded: with a working random source the first draw is all but
     * certain to be free; a broken one (constant output) falls through to a
     * linear search from the last draw. */
    for (int i = 0; i < 64; i++) {
        id = (int64_t)(random(arg) & (uint64_t)INT64_MAX);
        if (id != 0 && map_find(l, id) == NULL)
            return id;
    }
    for (;;) {
        id = id == INT64_MAX ? 1 : id + 1;
        if (map_find(l, id) == NULL)
            return id;
    }
}

/* ===================================================================== */
/* The gRPC service                                                       */
/* ===================================================================== */

#define KEEPALIVE_FORWARD_TIMEOUT_MS 5000 /* etcd's default request timeout */
#define EXPIRED_PER_TICK_MAX         1000
#define FORWARDED_METADATA           "k8c-lease-forwarded"

struct store_lease_service {
    struct store_lease_service_config cfg;
    struct store_lessor *lessor;
    uv_timer_t tick;
    uint64_t term; /* raft term in which the lessor was promoted */
    bool stopped;
    uint64_t revokes_in_flight;
};

static uint64_t system_random(void *arg)
{
    uint64_t v = 0;
    (void)arg;
    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
        v = mix64(uv_hrtime());
    return v;
}

static uint64_t now_ms(struct store_lease_service *svc)
{
    uv_update_time(svc->cfg.loop);
    return uv_now(svc->cfg.loop);
}

/* Promotes or demotes the lessor to match the raft role. Runs on every tick
 * and before every request that needs the leader's view, so a fresh leader
 * serves leases without waiting for the next tick. */
static void sync_role(struct store_lease_service *svc)
{
    struct store_raft_status st;

    if (svc->stopped)
        return;
    if (store_raft_is_leader(svc->cfg.raft)) {
        store_raft_get_status(svc->cfg.raft, &st);
        if (!store_lease_is_primary(svc->lessor) || st.term != svc->term) {
            struct store_mvcc_lease *leases = NULL;
            size_t n = 0;
            int rv = store_mvcc_lease_list(svc->cfg.mvcc, &leases, &n);
            if (rv != 0) {
                k8c_log_error("cannot list leases to take over their expiry err=%s",
                              k8c_strerror(rv));
                return;
            }
            store_lease_promote(svc->lessor, leases, n, now_ms(svc), svc->cfg.election_ms);
            svc->term = st.term;
            k8c_log_info("lessor promoted leases=%zu term=%" PRIu64, n, st.term);
            k8c_free(leases);
        }
    } else if (store_lease_is_primary(svc->lessor)) {
        store_lease_demote(svc->lessor);
        svc->term = 0;
        k8c_log_info("lessor demoted");
    }
}

static void on_expired_revoked(void *arg, int status, struct store_raft_result *result)
{
    struct store_lease_service *svc = arg;
    svc->revokes_in_flight--;
    if (status != 0)
        k8c_log_v(1, "revoke of an expired lease not applied err=%s", k8c_strerror(status));
    else if (result->status != 0 && result->status != K8C_ETCD_LEASE_NOT_FOUND)
        k8c_log_warn("revoke of an expired lease failed err=%s", k8c_strerror(result->status));
}

/* Proposes a revoke for every expired lease; the raft glue batches them into
 * one entry. A proposal that fails is retried by the lessor's retry time. */
static void revoke_expired(struct store_lease_service *svc)
{
    int64_t ids[64];
    size_t total = 0, n;

    while (total < EXPIRED_PER_TICK_MAX &&
           (n = store_lease_expired(svc->lessor, now_ms(svc), ids, 64)) > 0) {
        for (size_t i = 0; i < n; i++) {
            Etcdserverpb__LeaseRevokeRequest req = ETCDSERVERPB__LEASE_REVOKE_REQUEST__INIT;
            uint8_t buf[16];
            size_t len;
            int rv;

            req.id = ids[i];
            len = etcdserverpb__lease_revoke_request__pack(&req, buf);
            rv = store_raft_submit(svc->cfg.raft, STORE_CMD_LEASE_REVOKE, 0, buf, len,
                                   on_expired_revoked, svc);
            if (rv == 0)
                svc->revokes_in_flight++;
            k8c_log_v(1, "lease expired id=%" PRIx64 " proposed=%d", (uint64_t)ids[i], rv == 0);
        }
        total += n;
    }
}

static void on_tick(uv_timer_t *t)
{
    struct store_lease_service *svc = t->data;
    sync_role(svc);
    if (store_lease_is_primary(svc->lessor))
        revoke_expired(svc);
}

struct store_lease_service *store_lease_service_new(const struct store_lease_service_config *cfg)
{
    struct store_lease_service *svc = K8C_NEW(struct store_lease_service);

    svc->cfg = *cfg;
    if (svc->cfg.tick_ms == 0)
        svc->cfg.tick_ms = 100;
    svc->lessor = store_lease_lessor_new();
    uv_timer_init(cfg->loop, &svc->tick);
    svc->tick.data = svc;
    uv_timer_start(&svc->tick, on_tick, svc->cfg.tick_ms, svc->cfg.tick_ms);
    return svc;
}

void store_lease_service_stop(struct store_lease_service *svc)
{
    if (svc == NULL || svc->stopped)
        return;
    svc->stopped = true;
    uv_close((uv_handle_t *)&svc->tick, NULL);
    store_lease_demote(svc->lessor);
}

void store_lease_service_del(struct store_lease_service *svc)
{
    if (svc == NULL)
        return;
    store_lease_lessor_del(svc->lessor);
    k8c_free(svc);
}

struct store_lessor *store_lease_service_lessor(struct store_lease_service *svc)
{
    return svc->lessor;
}

void store_lease_service_applied(struct store_lease_service *svc, const ProtobufCMessage *req,
                                 const struct store_mvcc_result *res)
{
    if (svc == NULL || req == NULL)
        return;
    if (req->descriptor == &etcdserverpb__lease_grant_request__descriptor) {
        const Etcdserverpb__LeaseGrantResponse *resp = (const void *)res->resp;
        if (res->err == 0 && resp != NULL)
            store_lease_granted(svc->lessor, resp->id, resp->ttl, now_ms(svc));
    } else if (req->descriptor == &etcdserverpb__lease_revoke_request__descriptor) {
        const Etcdserverpb__LeaseRevokeRequest *r = (const void *)req;
        if (res->err == 0 || res->err == K8C_ETCD_LEASE_NOT_FOUND)
            store_lease_revoked(svc->lessor, r->id);
    }
}

int store_lease_service_submit_grant(struct store_lease_service *svc, uint64_t request_id,
                                     const uint8_t *data, size_t len, store_raft_apply_cb cb,
                                     void *arg)
{
    Etcdserverpb__LeaseGrantRequest *req;
    int rv;

    if (svc->stopped)
        return K8C_ESHUTDOWN;
    req = etcdserverpb__lease_grant_request__unpack(NULL, len, data);
    if (req == NULL)
        return K8C_EINVAL;
    if (req->id != 0) {
        rv =
            store_raft_submit(svc->cfg.raft, STORE_CMD_LEASE_GRANT, request_id, data, len, cb, arg);
    } else {
        sync_role(svc);
        req->id = store_lease_pick_id(svc->lessor, system_random, NULL);
        size_t n = etcdserverpb__lease_grant_request__get_packed_size(req);
        uint8_t *buf = k8c_malloc(n ? n : 1);
        etcdserverpb__lease_grant_request__pack(req, buf);
        rv = store_raft_submit(svc->cfg.raft, STORE_CMD_LEASE_GRANT, request_id, buf, n, cb, arg);
        k8c_free(buf);
    }
    etcdserverpb__lease_grant_request__free_unpacked(req, NULL);
    return rv;
}

/* --- helpers ----------------------------------------------------------- */

/* cluster_id, member_id, raft_term from the daemon, revision from the MVCC. */
static void fill_header(struct store_lease_service *svc, Etcdserverpb__ResponseHeader *h)
{
    struct store_mvcc_status st;
    if (svc->cfg.fill_header)
        svc->cfg.fill_header(h);
    if (h->revision == 0 && store_mvcc_status(svc->cfg.mvcc, &st) == 0)
        h->revision = st.revision;
}

static void finish_error(struct k8c_grpc_call *call, int err)
{
    if (err == K8C_ESHUTDOWN)
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: server stopped");
    else if (err == K8C_ENOTLEADER)
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: not leader");
    else
        k8c_grpc_call_finish(call, store_mvcc_grpc_status(err), k8c_strerror(err));
}

/* --- LeaseTimeToLive --------------------------------------------------- */

static void on_time_to_live(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                            void *arg)
{
    struct store_lease_service *svc = arg;
    Etcdserverpb__LeaseTimeToLiveRequest *req;
    struct store_mvcc_result res = {0};
    int64_t remaining, granted;
    int rv;

    if (svc->stopped) {
        finish_error(call, K8C_ESHUTDOWN);
        return;
    }
    req = etcdserverpb__lease_time_to_live_request__unpack(NULL, msg->len, msg->data);
    if (req == NULL) {
        k8c_grpc_call_finish(call, K8C_GRPC_INVALID_ARGUMENT,
                             "grpc: error unmarshalling request: invalid protobuf");
        return;
    }
    sync_role(svc);
    if (!store_lease_is_primary(svc->lessor)) {
        /* Only the leader knows the remaining time: ask it, as etcd does. */
        etcdserverpb__lease_time_to_live_request__free_unpacked(req, NULL);
        svc->cfg.forward(call, msg, on_time_to_live, arg);
        return;
    }
    rv = store_lease_remaining(svc->lessor, req->id, now_ms(svc), &remaining, &granted);
    if (rv == 0)
        rv = store_mvcc_lease_time_to_live(svc->cfg.mvcc, req, &res);
    if (rv == K8C_ETCD_LEASE_NOT_FOUND) {
        /* etcd answers an unknown (or expired) lease with TTL -1, not an error. */
        Etcdserverpb__LeaseTimeToLiveResponse resp =
            ETCDSERVERPB__LEASE_TIME_TO_LIVE_RESPONSE__INIT;
        Etcdserverpb__ResponseHeader header = ETCDSERVERPB__RESPONSE_HEADER__INIT;
        fill_header(svc, &header);
        resp.header = &header;
        resp.id = req->id;
        resp.ttl = -1;
        k8c_grpc_call_reply(call, &resp.base);
    } else if (rv != 0) {
        finish_error(call, rv);
    } else {
        Etcdserverpb__LeaseTimeToLiveResponse *resp = (void *)res.resp;
        resp->ttl = remaining;
        resp->grantedttl = granted;
        if (resp->header)
            fill_header(svc, resp->header);
        k8c_grpc_call_reply(call, res.resp);
    }
    store_mvcc_result_free(&res);
    etcdserverpb__lease_time_to_live_request__free_unpacked(req, NULL);
}

/* --- LeaseLeases ------------------------------------------------------- */

static void on_leases(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    struct store_lease_service *svc = arg;
    struct store_mvcc_result res = {0};
    int rv = svc->stopped ? K8C_ESHUTDOWN : store_mvcc_lease_leases(svc->cfg.mvcc, &res);

    if (rv == 0)
        rv = res.err;
    if (rv != 0) {
        finish_error(call, rv);
    } else {
        Etcdserverpb__LeaseLeasesResponse *resp = (void *)res.resp;
        if (resp->header)
            fill_header(svc, resp->header);
        k8c_grpc_call_reply(call, res.resp);
    }
    store_mvcc_result_free(&res);
}

/* --- LeaseKeepAlive ---------------------------------------------------- */

/*
 * One keepalive stream. On a follower each request becomes a call to the
 * leader (a proxy); the stream state lives until the call is finished (by us
 * or by cancellation) AND every proxy has reported done, because proxies
 * complete asynchronously even after they are cancelled.
 */
struct keepalive_proxy;

struct keepalive_stream {
    struct store_lease_service *svc;
    struct k8c_grpc_call *call; /* NULL once finished or cancelled */
    bool forwarded;             /* came from a follower: never forward again */
    bool half_closed;
    struct keepalive_proxy *proxies; /* in flight, doubly linked */
};

struct keepalive_proxy {
    struct keepalive_stream *stream;
    struct k8c_grpc_client_call *cc;
    struct keepalive_proxy *prev, *next;
    bool answered;
};

static void stream_maybe_free(struct keepalive_stream *st)
{
    if (st->call == NULL && st->proxies == NULL)
        k8c_free(st);
}

/* Finishes the stream's call (if still open), cancels its proxies and frees
 * the state when nothing refers to it any more. */
static void stream_finish(struct keepalive_stream *st, int status, const char *message)
{
    if (st->call != NULL) {
        struct k8c_grpc_call *call = st->call;
        st->call = NULL;
        k8c_grpc_call_set_data(call, NULL);
        k8c_grpc_call_finish(call, status, message);
    }
    for (struct keepalive_proxy *p = st->proxies; p; p = p->next)
        k8c_grpc_client_call_cancel(p->cc);
    stream_maybe_free(st);
}

static void stream_reply(struct keepalive_stream *st, int64_t id, int64_t ttl)
{
    Etcdserverpb__LeaseKeepAliveResponse resp = ETCDSERVERPB__LEASE_KEEP_ALIVE_RESPONSE__INIT;
    Etcdserverpb__ResponseHeader header = ETCDSERVERPB__RESPONSE_HEADER__INIT;
    uint8_t buf[128];
    size_t len;

    fill_header(st->svc, &header);
    resp.header = &header;
    resp.id = id;
    resp.ttl = ttl;
    len = etcdserverpb__lease_keep_alive_response__pack(&resp, buf);
    /* K8C_EBUSY means the client stopped reading; the answer is dropped
     * like any other it will never read. */
    k8c_grpc_call_send_bytes(st->call, buf, len);
}

static void on_proxy_message(struct k8c_grpc_client_call *cc, const struct k8c_grpc_message *msg,
                             void *arg)
{
    struct keepalive_proxy *p = arg;
    Etcdserverpb__LeaseKeepAliveResponse *resp;

    resp = etcdserverpb__lease_keep_alive_response__unpack(NULL, msg->len, msg->data);
    if (resp == NULL)
        return;
    p->answered = true;
    if (p->stream->call != NULL)
        stream_reply(p->stream, resp->id, resp->ttl);
    etcdserverpb__lease_keep_alive_response__free_unpacked(resp, NULL);
}

static void on_proxy_done(struct k8c_grpc_client_call *cc, int status, const char *message,
                          void *arg)
{
    struct keepalive_proxy *p = arg;
    struct keepalive_stream *st = p->stream;
    bool answered = p->answered;

    if (p->prev)
        p->prev->next = p->next;
    else
        st->proxies = p->next;
    if (p->next)
        p->next->prev = p->prev;
    k8c_free(p);
    if (st->call != NULL && (status != K8C_GRPC_OK || !answered)) {
        /* The leader could not renew it: end the stream like etcd does on a
         * forwarding error; clients open a new one. */
        stream_finish(st, status == K8C_GRPC_OK ? K8C_GRPC_UNAVAILABLE : status,
                      message && message[0] ? message : "etcdserver: leader changed");
        return;
    }
    if (st->call != NULL && st->half_closed && st->proxies == NULL) {
        stream_finish(st, K8C_GRPC_OK, NULL);
        return;
    }
    stream_maybe_free(st);
}

static void forward_keepalive(struct keepalive_stream *st, const struct k8c_grpc_message *msg)
{
    static const char *const metadata[] = {FORWARDED_METADATA, "1", NULL};
    struct k8c_grpc_channel *ch = st->svc->cfg.leader_channel();
    struct k8c_grpc_call_options copts = {0};
    char errmsg[K8C_ERRMSG_SIZE];
    struct keepalive_proxy *p;

    if (ch == NULL) {
        stream_finish(st, K8C_GRPC_UNAVAILABLE, "etcdserver: no leader");
        return;
    }
    p = K8C_NEW(struct keepalive_proxy);
    p->stream = st;
    copts.path = "/etcdserverpb.Lease/LeaseKeepAlive";
    copts.timeout_ms = KEEPALIVE_FORWARD_TIMEOUT_MS;
    copts.on_message = on_proxy_message;
    copts.on_done = on_proxy_done;
    copts.arg = p;
    copts.metadata = metadata;
    p->cc = k8c_grpc_channel_call(ch, &copts, errmsg);
    if (p->cc == NULL) {
        k8c_free(p);
        stream_finish(st, K8C_GRPC_UNAVAILABLE, errmsg);
        return;
    }
    p->next = st->proxies;
    if (st->proxies)
        st->proxies->prev = p;
    st->proxies = p;
    k8c_grpc_client_call_send_bytes(p->cc, msg->data, msg->len);
    k8c_grpc_client_call_close_send(p->cc);
}

static void on_keepalive_start(struct k8c_grpc_call *call, void *arg)
{
    struct keepalive_stream *st = K8C_NEW(struct keepalive_stream);
    st->svc = arg;
    st->call = call;
    st->forwarded = k8c_grpc_call_metadata(call, FORWARDED_METADATA) != NULL;
    k8c_grpc_call_set_data(call, st);
}

static void on_keepalive_message(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                                 void *arg)
{
    struct keepalive_stream *st = k8c_grpc_call_data(call);
    struct store_lease_service *svc = arg;
    const Etcdserverpb__LeaseKeepAliveRequest *req = (const void *)msg->pb;
    int64_t ttl = 0;
    int rv;

    if (st == NULL || req == NULL)
        return;
    if (svc->stopped) {
        stream_finish(st, K8C_GRPC_UNAVAILABLE, "etcdserver: server stopped");
        return;
    }
    sync_role(svc);
    if (!store_lease_is_primary(svc->lessor)) {
        if (st->forwarded)
            stream_finish(st, K8C_GRPC_UNAVAILABLE, "etcdserver: not leader");
        else
            forward_keepalive(st, msg);
        return;
    }
    rv = store_lease_renew(svc->lessor, req->id, now_ms(svc), &ttl);
    if (rv == K8C_ETCD_LEASE_NOT_FOUND)
        ttl = 0; /* etcd: an unknown lease is answered with TTL 0 */
    else if (rv != 0) {
        stream_finish(st, K8C_GRPC_UNAVAILABLE, k8c_strerror(rv));
        return;
    }
    stream_reply(st, req->id, ttl);
}

static void on_keepalive_half_close(struct k8c_grpc_call *call, void *arg)
{
    struct keepalive_stream *st = k8c_grpc_call_data(call);
    if (st == NULL)
        return;
    st->half_closed = true;
    if (st->proxies == NULL)
        stream_finish(st, K8C_GRPC_OK, NULL);
}

static void on_keepalive_cancel(struct k8c_grpc_call *call, void *arg)
{
    struct keepalive_stream *st = k8c_grpc_call_data(call);
    /* Without state the call was already finished here. */
    if (st != NULL)
        stream_finish(st, K8C_GRPC_CANCELLED, "context canceled");
}

int store_lease_service_register(struct store_lease_service *svc, struct k8c_grpc_server *srv)
{
    struct k8c_grpc_method m = {0};
    int rv;

    m.path = "/etcdserverpb.Lease/LeaseKeepAlive";
    m.kind = K8C_GRPC_BIDI_STREAMING;
    m.request = &etcdserverpb__lease_keep_alive_request__descriptor;
    m.on_start = on_keepalive_start;
    m.on_message = on_keepalive_message;
    m.on_half_close = on_keepalive_half_close;
    m.on_cancel = on_keepalive_cancel;
    m.arg = svc;
    if ((rv = k8c_grpc_server_register(srv, &m)) != 0)
        return rv;

    memset(&m, 0, sizeof(m));
    m.path = "/etcdserverpb.Lease/LeaseTimeToLive";
    m.kind = K8C_GRPC_UNARY;
    m.on_request = on_time_to_live;
    m.on_cancel = svc->cfg.forward_cancel;
    m.arg = svc;
    if ((rv = k8c_grpc_server_register(srv, &m)) != 0)
        return rv;

    memset(&m, 0, sizeof(m));
    m.path = "/etcdserverpb.Lease/LeaseLeases";
    m.kind = K8C_GRPC_UNARY;
    m.on_request = on_leases;
    m.arg = svc;
    return k8c_grpc_server_register(srv, &m);
}
