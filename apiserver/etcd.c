/*
 * The store client (see etcd.h): etcd v3 KV/Watch/Lease calls over lib/grpc.
 *
 * Conditional writes are transactions, as kube-apiserver's etcd3 storage
 * does them: create = "if create_revision(key) == 0 then put else get",
 * update = "if mod_revision(key) == R then put else get", delete = "if
 * mod_revision(key) == R then delete else get"; the else branch returns the
 * current value so the caller can answer 409 with it or retry.
 *
 * Failover: each call goes to the current peer; an UNAVAILABLE answer moves
 * to the next peer and retries the call there, once per peer, then a few
 * more times after a while (call_wait). A watch that
 * ends UNAVAILABLE moves the current peer too (its owner starts it over).
 * Connections have keepalive pings, so a peer that hangs fails like one
 * that went away.
 */
#include "etcd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "grpc.h"
#include "log.h"

#define MAX_PEERS 16

struct lease_waiter {
    api_etcd_cb cb;
    void *arg;
    struct lease_waiter *next;
};

struct api_etcd {
    uv_loop_t *loop;
    struct k8c_grpc_channel *peers[MAX_PEERS];
    char *names[MAX_PEERS];
    size_t npeers, current;
    int64_t timeout_ms;
    /* the shared lease (api_etcd_lease_get) */
    int64_t lease_id;
    uint64_t lease_expiry_ms; /* uv_now when it runs out */
    unsigned lease_objects;   /* attached to it so far */
    bool lease_granting;
    struct lease_waiter *lease_waiters, **lease_tail;
    struct call *waiting; /* calls waiting to try again (call_wait) */
};

void api_etcd_prefix_end(const char *key, char *end, size_t size)
{
    size_t len = strlen(key);
    if (len + 1 > size)
        len = size - 1;
    memcpy(end, key, len);
    end[len] = '\0';
    while (len > 0) {
        if ((unsigned char)end[len - 1] < 0xff) {
            end[len - 1]++;
            end[len] = '\0';
            return;
        }
        end[--len] = '\0';
    }
    /* all 0xff: the range end "\0" means "to the end" */
    end[0] = '\0';
}

struct api_etcd *api_etcd_new(uv_loop_t *loop, const struct api_etcd_options *opts, char *errmsg)
{
    struct api_etcd *e = K8C_NEW(struct api_etcd);
    e->loop = loop;
    e->lease_tail = &e->lease_waiters;
    e->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
    char *list = k8c_strdup(opts->servers ? opts->servers : "");
    char *save = NULL;
    for (char *url = strtok_r(list, ",", &save); url != NULL; url = strtok_r(NULL, ",", &save)) {
        struct k8c_grpc_channel_options co = {0};
        const char *target = url;
        if (e->npeers == MAX_PEERS) {
            k8c_errmsg_printf(errmsg, "too many --etcd-servers (at most %d)", MAX_PEERS);
            goto fail;
        }
        if (strncmp(url, "https://", 8) == 0) {
            target = url + 8;
            co.ca_file = opts->ca_file;
            co.cert_file = opts->cert_file;
            co.key_file = opts->key_file;
            if (co.ca_file == NULL || co.ca_file[0] == '\0') {
                k8c_errmsg_printf(errmsg, "%s needs --etcd-cafile", url);
                goto fail;
            }
        } else if (strncmp(url, "http://", 7) == 0) {
            target = url + 7;
        } else if (strncmp(url, "unix:", 5) != 0) {
            k8c_errmsg_printf(errmsg, "invalid etcd server URL \"%s\": want http(s)://host:port",
                              url);
            goto fail;
        }
        char target_buf[512];
        snprintf(target_buf, sizeof(target_buf), "%s", target);
        target_buf[strcspn(target_buf, "/")] = '\0';
        co.max_receive_message = 256u << 20;
        /* A peer that hangs (stopped, partitioned) fails its calls within
         * 6-8 s, and they move to the next peer, where without this they
         * waited for --request-timeout; watches start over there too. */
        co.keepalive_ms = 3000;
        e->peers[e->npeers] = k8c_grpc_channel_new(loop, target_buf, &co, errmsg);
        if (e->peers[e->npeers] == NULL)
            goto fail;
        e->names[e->npeers] = k8c_strdup(url);
        e->npeers++;
    }
    k8c_free(list);
    if (e->npeers == 0) {
        k8c_errmsg_printf(errmsg, "--etcd-servers must name at least one server");
        api_etcd_del(e);
        return NULL;
    }
    return e;
fail:
    k8c_free(list);
    api_etcd_del(e);
    return NULL;
}

const char *api_etcd_member(const struct api_etcd *e, size_t i)
{
    return i < e->npeers ? e->names[i] : NULL;
}

static void calls_abandon(struct api_etcd *e);

void api_etcd_del(struct api_etcd *e)
{
    if (e == NULL)
        return;
    calls_abandon(e);
    for (size_t i = 0; i < e->npeers; i++) {
        k8c_grpc_channel_del(e->peers[i]);
        k8c_free(e->names[i]);
    }
    k8c_free(e);
}

/* ---- unary calls with failover ---- */

enum call_kind { CALL_RANGE, CALL_TXN, CALL_LEASE, CALL_DELETE_RANGE };

struct call {
    struct api_etcd *e;
    enum call_kind kind;
    char tag; /* 'C'reate, 'U'pdate, 'D'elete, 'R'ange, 'L'ease */
    const ProtobufCMessageDescriptor *resp_desc;
    uint8_t *req; /* packed request */
    size_t req_len;
    size_t tries;
    api_etcd_cb cb;
    void *arg;
    uint64_t started;              /* uv_now when it began */
    uv_timer_t *wait;              /* waiting to try again, or NULL */
    struct call *next, **prev_ptr; /* in e->waiting while it waits */
};

static void fill_kv(struct api_etcd_kv *out, const Mvccpb__KeyValue *kv)
{
    out->key = (const char *)kv->key.data;
    out->key_len = kv->key.len;
    out->value = kv->value.data;
    out->value_len = kv->value.len;
    out->create_revision = kv->create_revision;
    out->mod_revision = kv->mod_revision;
    out->lease = kv->lease;
}

static int error_from_status(int status, const char *message)
{
    if (strstr(message, "required revision has been compacted") != NULL)
        return K8C_ETCD_COMPACTED;
    if (strstr(message, "future revision") != NULL)
        return K8C_ETCD_FUTURE_REV;
    if (strstr(message, "request is too large") != NULL)
        return K8C_ETCD_REQUEST_TOO_LARGE;
    if (strstr(message, "database space exceeded") != NULL)
        return K8C_ETCD_NO_SPACE;
    if (status == K8C_GRPC_DEADLINE_EXCEEDED)
        return K8C_ETIMEDOUT;
    if (status == K8C_GRPC_UNAVAILABLE)
        return K8C_ECLOSED;
    return K8C_EIO;
}

static void call_send(struct call *c);

/*
 * An UNAVAILABLE answer (the peer is gone or hangs, no leader, the leader
 * changed) is tried again: at once on each other peer, then, as
 * kube-apiserver's etcd3retry does, after 300, 600, 1200 and 2400 ms, for an
 * election to end, within the request timeout (may_retry). A write tried again may have been
 * applied the first time: the transactions are conditional, so it then fails its comparison and
 * never applies twice, and applied_before tells that failure from a real conflict.
 */
#define RETRY_WAITS         4
#define RETRY_FIRST_WAIT_MS 300

/* Whether c, answered UNAVAILABLE, is tried again: each other peer at once,
 * then RETRY_WAITS times after a wait, none of which may end past the
 * request timeout (upstream stops at the request's deadline): a write tried
 * again after its request was answered 504 could land unseen. */
static bool may_retry(const struct call *c)
{
    size_t next = c->tries + 1, n = c->e->npeers;
    if (next < n)
        return true;
    if (next >= n + RETRY_WAITS)
        return false;
    uint64_t wait = (uint64_t)RETRY_FIRST_WAIT_MS << (next - n);
    return uv_now(c->e->loop) - c->started + wait < (uint64_t)c->e->timeout_ms;
}

static void call_unwait(struct call *c)
{
    *c->prev_ptr = c->next;
    if (c->next != NULL)
        c->next->prev_ptr = c->prev_ptr;
    uv_close((uv_handle_t *)c->wait, (uv_close_cb)k8c_free);
    c->wait = NULL;
}

static void on_call_wait(uv_timer_t *t)
{
    struct call *c = t->data;
    call_unwait(c);
    call_send(c);
}

static void call_wait(struct call *c, uint64_t ms)
{
    struct api_etcd *e = c->e;
    c->wait = K8C_NEW(uv_timer_t);
    uv_timer_init(e->loop, c->wait);
    c->wait->data = c;
    uv_timer_start(c->wait, on_call_wait, ms, 0);
    c->next = e->waiting;
    if (c->next != NULL)
        c->next->prev_ptr = &c->next;
    c->prev_ptr = &e->waiting;
    e->waiting = c;
}

/* Shutting down: the waiting calls end with K8C_ESHUTDOWN. */
static void calls_abandon(struct api_etcd *e)
{
    while (e->waiting != NULL) {
        struct call *c = e->waiting;
        struct api_etcd_result res = {.err = K8C_ESHUTDOWN, .errmsg = "shutting down"};
        call_unwait(c);
        c->cb(c->arg, &res);
        k8c_free(c->req);
        k8c_free(c);
    }
}

static void deliver_range(struct call *c, const Etcdserverpb__RangeResponse *r, int err_if_empty)
{
    struct api_etcd_result res = {0};
    struct api_etcd_kv *kvs = k8c_calloc(r->n_kvs ? r->n_kvs : 1, sizeof(*kvs));
    for (size_t i = 0; i < r->n_kvs; i++)
        fill_kv(&kvs[i], r->kvs[i]);
    res.rev = r->header ? r->header->revision : 0;
    res.kvs = kvs;
    res.n = r->n_kvs;
    res.more = r->more;
    res.count = r->count;
    res.kv = r->n_kvs > 0 ? &kvs[0] : NULL;
    if (err_if_empty && r->n_kvs == 0) {
        res.err = err_if_empty;
        res.errmsg = k8c_strerror(err_if_empty);
    }
    c->cb(c->arg, &res);
    k8c_free(kvs);
}

static int call_start(struct api_etcd *e, enum call_kind kind, char tag,
                      const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
                      api_etcd_cb cb, void *arg);

/*
 * A write tried again after an UNAVAILABLE answer may have been applied by
 * the try that failed: the answer lost on its way back, as when the leader
 * dies between commit and reply. Its compare then fails, and upstream answers
 * AlreadyExists, Conflict or NotFound for a write that was made (and a
 * service whose create was answered so has its IPs released while it is
 * stored). So a retried create or update that finds its own value in place
 * succeeded at that value's revision (a create's value has a new uid; an
 * update that finds the very value it wrote made by another writer is
 * answered as if it had won, the object being what it asked for), and a
 * retried conditional delete that finds the key gone succeeded if the value
 * it was to remove is still readable at its revision (lost_delete).
 * applied_before decides, and then answers.
 */
struct lost_delete {
    api_etcd_cb cb;
    void *arg;
    int64_t mod_rev, rev;
};

static void lost_delete_read(void *arg, const struct api_etcd_result *r)
{
    struct lost_delete *d = arg;
    struct api_etcd_result res = {.rev = d->rev};
    if (r->err == 0 && r->kv != NULL && r->kv->mod_revision == d->mod_rev) {
        k8c_log_v(1, "etcd delete answered by a lost try key=%.*s rev=%lld", (int)r->kv->key_len,
                  r->kv->key, (long long)d->mod_rev);
        res.kv = r->kv; /* the value it removed, as prev_kv would have been */
    } else {
        res.err = K8C_ENOTFOUND;
        res.errmsg = k8c_strerror(K8C_ENOTFOUND);
    }
    d->cb(d->arg, &res);
    k8c_free(d);
}

/* c: a create, update or conditional delete (tag 'C', 'U', 'D') whose compare failed, with cur
 * the key's value then (NULL: none) and rev the store's revision. */
static bool applied_before(struct call *c, const struct api_etcd_kv *cur, int64_t rev)
{
    Etcdserverpb__TxnRequest *t = (Etcdserverpb__TxnRequest *)protobuf_c_message_unpack(
        &etcdserverpb__txn_request__descriptor, NULL, c->req_len, c->req);
    if (t == NULL || t->n_success != 1 || t->n_compare != 1) {
        if (t != NULL)
            protobuf_c_message_free_unpacked(&t->base, NULL);
        return false;
    }
    const Etcdserverpb__RequestOp *op = t->success[0];
    bool done = false;
    if (c->tag != 'D' && cur != NULL &&
        op->request_case == ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT) {
        const ProtobufCBinaryData *v = &op->request_put->value;
        if (v->len == cur->value_len && (v->len == 0 || memcmp(v->data, cur->value, v->len) == 0)) {
            k8c_log_v(1, "etcd write answered by a lost try key=%.*s rev=%lld", (int)cur->key_len,
                      cur->key, (long long)cur->mod_revision);
            struct api_etcd_result ok = {.rev = cur->mod_revision};
            c->cb(c->arg, &ok);
            done = true;
        }
    } else if (c->tag == 'D' && cur == NULL) {
        Etcdserverpb__RangeRequest get = ETCDSERVERPB__RANGE_REQUEST__INIT;
        struct lost_delete *d = K8C_NEW(struct lost_delete);
        d->cb = c->cb;
        d->arg = c->arg;
        d->mod_rev = t->compare[0]->mod_revision;
        d->rev = rev;
        get.key = t->compare[0]->key;
        get.revision = d->mod_rev;
        call_start(c->e, CALL_RANGE, 'R', &get.base, &etcdserverpb__range_response__descriptor,
                   lost_delete_read, d);
        done = true;
    }
    protobuf_c_message_free_unpacked(&t->base, NULL);
    return done;
}

static void call_done(int status, const char *message, const ProtobufCMessage *resp, void *arg)
{
    struct call *c = arg;
    struct api_etcd_result res = {0};

    if (status != K8C_GRPC_OK) {
        if (status == K8C_GRPC_UNAVAILABLE && may_retry(c)) {
            k8c_log_v(1, "etcd peer unavailable, trying the next peer=%s err=\"%s\"",
                      c->e->names[c->e->current], message);
            c->e->current = (c->e->current + 1) % c->e->npeers;
            if (++c->tries < c->e->npeers)
                call_send(c);
            else
                call_wait(c, RETRY_FIRST_WAIT_MS << (c->tries - c->e->npeers));
            return;
        }
        res.err = error_from_status(status, message);
        res.errmsg = message;
        c->cb(c->arg, &res);
        goto out;
    }
    switch (c->kind) {
    case CALL_RANGE:
        deliver_range(c, (const Etcdserverpb__RangeResponse *)resp, 0);
        break;
    case CALL_TXN: {
        const Etcdserverpb__TxnResponse *t = (const Etcdserverpb__TxnResponse *)resp;
        res.rev = t->header ? t->header->revision : 0;
        if (t->succeeded) {
            /* A delete's prev_kv is the value it removed. */
            struct api_etcd_kv kv;
            if (t->n_responses > 0 &&
                t->responses[0]->response_case ==
                    ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_DELETE_RANGE) {
                const Etcdserverpb__DeleteRangeResponse *d = t->responses[0]->response_delete_range;
                if (d->deleted == 0) {
                    res.err = K8C_ENOTFOUND;
                    res.errmsg = k8c_strerror(K8C_ENOTFOUND);
                } else if (d->n_prev_kvs > 0) {
                    fill_kv(&kv, d->prev_kvs[0]);
                    res.kv = &kv;
                }
            }
            c->cb(c->arg, &res);
            break;
        }
        /* The failure branch read the key. */
        const Etcdserverpb__RangeResponse *r = NULL;
        if (t->n_responses > 0 &&
            t->responses[0]->response_case == ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE)
            r = t->responses[0]->response_range;
        struct api_etcd_kv kv;
        if (r != NULL && r->n_kvs > 0) {
            fill_kv(&kv, r->kvs[0]);
            res.kv = &kv;
        }
        if (c->tries > 0 && applied_before(c, res.kv, res.rev))
            break;
        if (c->tag == 'C')
            res.err = K8C_EEXIST;
        else
            res.err = res.kv ? K8C_ECONFLICT : K8C_ENOTFOUND;
        res.errmsg = k8c_strerror(res.err);
        c->cb(c->arg, &res);
        break;
    }
    case CALL_DELETE_RANGE: {
        const Etcdserverpb__DeleteRangeResponse *d =
            (const Etcdserverpb__DeleteRangeResponse *)resp;
        res.rev = d->header ? d->header->revision : 0;
        res.count = d->deleted;
        c->cb(c->arg, &res);
        break;
    }
    case CALL_LEASE: {
        const Etcdserverpb__LeaseGrantResponse *l = (const Etcdserverpb__LeaseGrantResponse *)resp;
        res.rev = l->id;
        if (l->error != NULL && l->error[0] != '\0') {
            res.err = K8C_EIO;
            res.errmsg = l->error;
        }
        c->cb(c->arg, &res);
        break;
    }
    }
out:
    k8c_free(c->req);
    k8c_free(c);
}

static void call_send(struct call *c)
{
    /* Re-unpack the request for this try: cheap, and keeps retries simple. */
    const ProtobufCMessageDescriptor *desc =
        c->kind == CALL_RANGE          ? &etcdserverpb__range_request__descriptor
        : c->kind == CALL_LEASE        ? &etcdserverpb__lease_grant_request__descriptor
        : c->kind == CALL_DELETE_RANGE ? &etcdserverpb__delete_range_request__descriptor
                                       : &etcdserverpb__txn_request__descriptor;
    const char *method = c->kind == CALL_RANGE          ? "/etcdserverpb.KV/Range"
                         : c->kind == CALL_LEASE        ? "/etcdserverpb.Lease/LeaseGrant"
                         : c->kind == CALL_DELETE_RANGE ? "/etcdserverpb.KV/DeleteRange"
                                                        : "/etcdserverpb.KV/Txn";
    ProtobufCMessage *req = protobuf_c_message_unpack(desc, NULL, c->req_len, c->req);
    int rc = k8c_grpc_unary(c->e->peers[c->e->current], method, req, c->resp_desc, c->e->timeout_ms,
                            call_done, c);
    protobuf_c_message_free_unpacked(req, NULL);
    if (rc != 0) {
        struct api_etcd_result res = {.err = rc, .errmsg = "cannot start the store call"};
        c->cb(c->arg, &res);
        k8c_free(c->req);
        k8c_free(c);
    }
}

static int call_start(struct api_etcd *e, enum call_kind kind, char tag,
                      const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
                      api_etcd_cb cb, void *arg)
{
    struct call *c = K8C_NEW(struct call);
    c->e = e;
    c->kind = kind;
    c->tag = tag;
    c->resp_desc = resp_desc;
    c->cb = cb;
    c->arg = arg;
    c->started = uv_now(e->loop);
    c->req_len = protobuf_c_message_get_packed_size(req);
    c->req = k8c_malloc(c->req_len ? c->req_len : 1);
    protobuf_c_message_pack(req, c->req);
    call_send(c);
    return 0;
}

int api_etcd_range(struct api_etcd *e, const char *key, const char *end, int64_t limit, int64_t rev,
                   bool count_only, api_etcd_cb cb, void *arg)
{
    Etcdserverpb__RangeRequest r = ETCDSERVERPB__RANGE_REQUEST__INIT;
    r.key = (ProtobufCBinaryData){strlen(key), (uint8_t *)key};
    if (end != NULL)
        r.range_end = (ProtobufCBinaryData){end[0] ? strlen(end) : 1, (uint8_t *)end};
    r.limit = limit;
    r.revision = rev;
    r.count_only = count_only;
    return call_start(e, CALL_RANGE, 'R', &r.base, &etcdserverpb__range_response__descriptor, cb,
                      arg);
}

/* A one-compare, one-op-each-way transaction. */
static int txn(struct api_etcd *e, char tag, const char *key,
               Etcdserverpb__Compare__CompareTarget target, int64_t compare_value, bool compare,
               Etcdserverpb__RequestOp *success, api_etcd_cb cb, void *arg)
{
    Etcdserverpb__TxnRequest t = ETCDSERVERPB__TXN_REQUEST__INIT;
    Etcdserverpb__Compare cmp = ETCDSERVERPB__COMPARE__INIT;
    Etcdserverpb__Compare *cmps[1] = {&cmp};
    Etcdserverpb__RangeRequest get = ETCDSERVERPB__RANGE_REQUEST__INIT;
    Etcdserverpb__RequestOp failure = ETCDSERVERPB__REQUEST_OP__INIT;
    Etcdserverpb__RequestOp *succ[1] = {success}, *fail[1] = {&failure};

    cmp.result = ETCDSERVERPB__COMPARE__COMPARE_RESULT__EQUAL;
    cmp.target = target;
    cmp.key = (ProtobufCBinaryData){strlen(key), (uint8_t *)key};
    if (target == ETCDSERVERPB__COMPARE__COMPARE_TARGET__CREATE) {
        cmp.target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_CREATE_REVISION;
        cmp.create_revision = compare_value;
    } else {
        cmp.target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_MOD_REVISION;
        cmp.mod_revision = compare_value;
    }
    get.key = cmp.key;
    failure.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE;
    failure.request_range = &get;
    if (compare) {
        t.n_compare = 1;
        t.compare = cmps;
    }
    t.n_success = 1;
    t.success = succ;
    t.n_failure = 1;
    t.failure = fail;
    return call_start(e, CALL_TXN, tag, &t.base, &etcdserverpb__txn_response__descriptor, cb, arg);
}

int api_etcd_create(struct api_etcd *e, const char *key, const uint8_t *value, size_t len,
                    int64_t lease, api_etcd_cb cb, void *arg)
{
    Etcdserverpb__PutRequest put = ETCDSERVERPB__PUT_REQUEST__INIT;
    Etcdserverpb__RequestOp op = ETCDSERVERPB__REQUEST_OP__INIT;
    put.key = (ProtobufCBinaryData){strlen(key), (uint8_t *)key};
    put.value = (ProtobufCBinaryData){len, (uint8_t *)value};
    put.lease = lease;
    op.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
    op.request_put = &put;
    return txn(e, 'C', key, ETCDSERVERPB__COMPARE__COMPARE_TARGET__CREATE, 0, true, &op, cb, arg);
}

int api_etcd_update(struct api_etcd *e, const char *key, const uint8_t *value, size_t len,
                    int64_t mod_rev, int64_t lease, api_etcd_cb cb, void *arg)
{
    Etcdserverpb__PutRequest put = ETCDSERVERPB__PUT_REQUEST__INIT;
    Etcdserverpb__RequestOp op = ETCDSERVERPB__REQUEST_OP__INIT;
    put.key = (ProtobufCBinaryData){strlen(key), (uint8_t *)key};
    put.value = (ProtobufCBinaryData){len, (uint8_t *)value};
    put.lease = lease;
    op.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
    op.request_put = &put;
    return txn(e, 'U', key, ETCDSERVERPB__COMPARE__COMPARE_TARGET__MOD, mod_rev, true, &op, cb,
               arg);
}

int api_etcd_delete(struct api_etcd *e, const char *key, int64_t mod_rev, api_etcd_cb cb, void *arg)
{
    Etcdserverpb__DeleteRangeRequest del = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
    Etcdserverpb__RequestOp op = ETCDSERVERPB__REQUEST_OP__INIT;
    del.key = (ProtobufCBinaryData){strlen(key), (uint8_t *)key};
    del.prev_kv = true;
    op.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE;
    op.request_delete_range = &del;
    return txn(e, 'D', key, ETCDSERVERPB__COMPARE__COMPARE_TARGET__MOD, mod_rev, mod_rev > 0, &op,
               cb, arg);
}

int api_etcd_delete_range(struct api_etcd *e, const char *key, const char *end, api_etcd_cb cb,
                          void *arg)
{
    Etcdserverpb__DeleteRangeRequest d = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
    d.key = (ProtobufCBinaryData){strlen(key), (uint8_t *)key};
    d.range_end = (ProtobufCBinaryData){end[0] ? strlen(end) : 1, (uint8_t *)end};
    return call_start(e, CALL_DELETE_RANGE, 'X', &d.base,
                      &etcdserverpb__delete_range_response__descriptor, cb, arg);
}

static void lease_grant(struct api_etcd *e, int64_t ttl, api_etcd_cb cb, void *arg)
{
    Etcdserverpb__LeaseGrantRequest g = ETCDSERVERPB__LEASE_GRANT_REQUEST__INIT;
    g.ttl = ttl;
    call_start(e, CALL_LEASE, 'L', &g.base, &etcdserverpb__lease_grant_response__descriptor, cb,
               arg);
}

/* ---- the shared lease: upstream's leaseManager (storage/etcd3/lease_manager.go) ---- */

#define LEASE_REUSE_S     60   /* --lease-reuse-duration-seconds */
#define LEASE_REUSE_PCT   5    /* of the TTL, if less */
#define LEASE_MAX_OBJECTS 1000 /* attached to one lease */

static int64_t lease_reuse_s(int64_t ttl)
{
    int64_t r = ttl * LEASE_REUSE_PCT / 100;
    return r < LEASE_REUSE_S ? r : LEASE_REUSE_S;
}

/* Whether the current lease serves one more object of this TTL: it outlives the TTL, and not
 * by more than the reuse window. */
static bool lease_reusable(const struct api_etcd *e, int64_t ttl)
{
    uint64_t now = uv_now(e->loop), end = now + (uint64_t)ttl * 1000;
    return e->lease_id != 0 && end < e->lease_expiry_ms &&
           end + (uint64_t)lease_reuse_s(ttl) * 1000 > e->lease_expiry_ms &&
           e->lease_objects < LEASE_MAX_OBJECTS;
}

static void lease_granted(void *arg, const struct api_etcd_result *res)
{
    struct api_etcd *e = arg;
    struct lease_waiter *w = e->lease_waiters;

    e->lease_granting = false;
    e->lease_waiters = NULL;
    e->lease_tail = &e->lease_waiters;
    if (res->err == 0) {
        e->lease_id = res->rev;
        e->lease_objects = 0;
    }
    while (w != NULL) {
        struct lease_waiter *next = w->next;
        struct api_etcd_result r = *res;
        if (res->err == 0)
            e->lease_objects++;
        w->cb(w->arg, &r);
        k8c_free(w);
        w = next;
    }
}

void api_etcd_lease_get(struct api_etcd *e, int64_t ttl, api_etcd_cb cb, void *arg)
{
    if (lease_reusable(e, ttl)) {
        struct api_etcd_result res = {.rev = e->lease_id};
        e->lease_objects++;
        cb(arg, &res);
        return;
    }
    struct lease_waiter *w = K8C_NEW(struct lease_waiter);
    w->cb = cb;
    w->arg = arg;
    *e->lease_tail = w;
    e->lease_tail = &w->next;
    if (e->lease_granting)
        return; /* the grant under way serves it (one TTL per client: the events') */
    /* Asked with the reuse window on top, so that objects attached to it until the window
     * closes still live their TTL. The expiry counts from now: the lease starts before the
     * answer. */
    int64_t grant = ttl + lease_reuse_s(ttl);
    e->lease_granting = true;
    e->lease_id = 0;
    e->lease_expiry_ms = uv_now(e->loop) + (uint64_t)grant * 1000;
    lease_grant(e, grant, lease_granted, e);
}

/* ---- watch ---- */

struct api_etcd_watch {
    struct api_etcd *e;
    size_t peer; /* e->peers index it runs on */
    struct k8c_grpc_client_call *call;
    api_etcd_event_cb ev_cb;
    api_etcd_watch_done_cb done_cb;
    void *arg;
    bool cancelled, done, created;
    int err;
    char errmsg[K8C_ERRMSG_SIZE];
    int64_t compact_rev;
};

static void watch_finish(struct api_etcd_watch *w, int err, const char *msg, int64_t rev)
{
    if (w->done)
        return;
    w->done = true;
    w->done_cb(w->arg, err, msg, rev);
}

static void watch_message(struct k8c_grpc_client_call *call, const struct k8c_grpc_message *msg,
                          void *arg)
{
    struct api_etcd_watch *w = arg;
    const Etcdserverpb__WatchResponse *r = (const Etcdserverpb__WatchResponse *)msg->pb;
    if (w->done || r == NULL)
        return;
    int64_t rev = r->header ? r->header->revision : 0;
    if (r->canceled) {
        if (r->compact_revision > 0) {
            w->err = K8C_ETCD_COMPACTED;
            w->compact_rev = r->compact_revision;
            k8c_errmsg_printf(w->errmsg, "%s", k8c_strerror(K8C_ETCD_COMPACTED));
        } else if (!w->cancelled) {
            w->err = K8C_EIO;
            k8c_errmsg_printf(w->errmsg, "watch canceled by the store: %s",
                              r->cancel_reason ? r->cancel_reason : "");
        }
        k8c_grpc_client_call_cancel(call);
        return;
    }
    for (size_t i = 0; i < r->n_events && !w->done && !w->cancelled; i++) {
        struct api_etcd_kv kv, prev;
        const Mvccpb__Event *ev = r->events[i];
        if (ev->kv == NULL)
            continue;
        fill_kv(&kv, ev->kv);
        if (ev->prev_kv != NULL)
            fill_kv(&prev, ev->prev_kv);
        w->ev_cb(w->arg, ev->type, &kv, ev->prev_kv ? &prev : NULL, ev->kv->mod_revision);
    }
    /* A response without events is a progress notification: every event up
     * to its revision was sent. Not the "created" one: its revision is the
     * store's when the watch began, and older events may still follow. */
    if (r->n_events == 0 && !r->created && !w->done && !w->cancelled)
        w->ev_cb(w->arg, -1, NULL, NULL, rev);
}

static void watch_done(struct k8c_grpc_client_call *call, int status, const char *message,
                       void *arg)
{
    struct api_etcd_watch *w = arg;
    /* The peer is gone or hangs (keepalive): the next watch, and the calls,
     * go to the next one, as a failed call moves them. */
    if (status == K8C_GRPC_UNAVAILABLE && w->e->current == w->peer) {
        k8c_log_v(1, "etcd watch peer unavailable, moving to the next peer=%s err=\"%s\"",
                  w->e->names[w->peer], message);
        w->e->current = (w->peer + 1) % w->e->npeers;
    }
    if (w->err != 0)
        watch_finish(w, w->err, w->errmsg, w->compact_rev);
    else if (w->cancelled)
        watch_finish(w, 0, "", 0);
    else
        watch_finish(w, error_from_status(status, message), message, 0);
    k8c_free(w);
}

struct api_etcd_watch *api_etcd_watch(struct api_etcd *e, const char *key, const char *end,
                                      int64_t start_rev, bool prev_kv, bool progress_notify,
                                      api_etcd_event_cb ev_cb, api_etcd_watch_done_cb done_cb,
                                      void *arg)
{
    char errmsg[K8C_ERRMSG_SIZE];
    struct api_etcd_watch *w = K8C_NEW(struct api_etcd_watch);
    w->e = e;
    w->ev_cb = ev_cb;
    w->done_cb = done_cb;
    w->arg = arg;
    /* As kube-apiserver's (clientv3.WithRequireLeader): a peer cut off from
     * the others ends the watch ("etcdserver: no leader"), and it goes on at
     * another, where it would stay silent. */
    static const char *const require_leader[] = {"hasleader", "true", NULL};
    struct k8c_grpc_call_options o = {
        .path = "/etcdserverpb.Watch/Watch",
        .metadata = require_leader,
        .response = &etcdserverpb__watch_response__descriptor,
        .on_message = watch_message,
        .on_done = watch_done,
        .arg = w,
    };
    w->peer = e->current;
    w->call = k8c_grpc_channel_call(e->peers[w->peer], &o, errmsg);
    if (w->call == NULL) {
        k8c_free(w);
        return NULL;
    }
    Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
    Etcdserverpb__WatchCreateRequest cr = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
    cr.key = (ProtobufCBinaryData){strlen(key), (uint8_t *)key};
    if (end != NULL)
        cr.range_end = (ProtobufCBinaryData){end[0] ? strlen(end) : 1, (uint8_t *)end};
    cr.start_revision = start_rev;
    cr.prev_kv = prev_kv;
    cr.progress_notify = progress_notify;
    req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
    req.create_request = &cr;
    k8c_grpc_client_call_send(w->call, &req.base);
    return w;
}

void api_etcd_watch_progress(struct api_etcd_watch *w)
{
    Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
    Etcdserverpb__WatchProgressRequest pr = ETCDSERVERPB__WATCH_PROGRESS_REQUEST__INIT;
    if (w->done || w->cancelled)
        return;
    req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_PROGRESS_REQUEST;
    req.progress_request = &pr;
    k8c_grpc_client_call_send(w->call, &req.base);
}

void api_etcd_watch_cancel(struct api_etcd_watch *w)
{
    if (w->done || w->cancelled)
        return;
    w->cancelled = true;
    k8c_grpc_client_call_cancel(w->call);
}
