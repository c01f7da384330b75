/*
 * store/maint: etcd v3 Maintenance (Hash, HashKV, Defragment, Snapshot,
 * MoveLeader) and Cluster (MemberAdd/Remove/Update/Promote/List) services and
 * the member records behind them. See maint.h for the design.
 */
#include "maint.h"

#include "alloc.h"
#include "error.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define MAX_MEMBERS    64
#define MAX_URLS       16
#define PUBLISH_METHOD "/k8c.store.Internal/Publish"
#define ALARM_METHOD   "/etcdserverpb.Maintenance/Alarm"
#define SNAPSHOT_ALIGN 512 /* etcdctl: size % 512 == sha256 size */
#define SHA256_SIZE    32

/* ===================================================================== */
/* Member records                                                         */
/* ===================================================================== */

/* Copies the next line of [*p, end) into dst (size bytes); false if it does
 * not fit. A missing line is "". */
static bool next_line(const char **p, const char *end, char *dst, size_t size)
{
    const char *nl = *p < end ? memchr(*p, '\n', (size_t)(end - *p)) : NULL;
    const char *stop = nl ? nl : end;
    size_t n = *p < end ? (size_t)(stop - *p) : 0;

    if (n >= size)
        return false;
    memcpy(dst, *p < end ? *p : "", n);
    dst[n] = '\0';
    *p = nl ? nl + 1 : end;
    return true;
}

int store_maint_record_parse(const void *data, size_t len, struct store_maint_member *out)
{
    const char *p = data, *end = p + len;
    char id[32], flags[64];

    memset(out, 0, sizeof(*out));
    if (len == 0 || !next_line(&p, end, id, sizeof(id)) || id[0] == '\0')
        return K8C_EPARSE;
    for (const char *c = id; *c; c++) {
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F')))
            return K8C_EPARSE;
    }
    out->id = strtoull(id, NULL, 16);
    if (out->id == 0 || !next_line(&p, end, out->name, sizeof(out->name)) ||
        !next_line(&p, end, out->client_urls, sizeof(out->client_urls)) ||
        !next_line(&p, end, out->peer_urls, sizeof(out->peer_urls)) ||
        !next_line(&p, end, flags, sizeof(flags)))
        return K8C_EPARSE;
    out->learner = strcmp(flags, "learner") == 0;
    return 0;
}

size_t store_maint_record_format(const struct store_maint_member *m, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%" PRIx64 "\n%s\n%s\n%s\n%s", m->id, m->name, m->client_urls,
                     m->peer_urls, m->learner ? "learner" : "");
    if (n < 0 || (size_t)n >= size)
        return 0;
    return (size_t)n;
}

int store_maint_record_get(struct store_mvcc *mvcc, uint64_t id, struct store_maint_member *out)
{
    struct store_mvcc_member *list = NULL;
    size_t n = 0;
    int rv = store_mvcc_member_list(mvcc, &list, &n);

    if (rv != 0)
        return rv;
    rv = K8C_ENOTFOUND;
    for (size_t i = 0; i < n; i++) {
        if (list[i].id == id && store_maint_record_parse(list[i].data, list[i].len, out) == 0 &&
            out->id == id)
            rv = 0;
    }
    store_mvcc_members_free(list, n);
    return rv;
}

/* Joins a protobuf string list with commas; false if it does not fit. */
static bool join_urls(char *const *urls, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? "," : "", urls[i]);
        if (w < 0 || (size_t)w >= size - used || strchr(urls[i], '\n') || strchr(urls[i], ','))
            return false;
        used += (size_t)w;
    }
    return true;
}

static int put_record(struct store_mvcc *mvcc, const struct store_maint_member *rec, int *status)
{
    char buf[STORE_MAINT_RECORD_MAX];
    size_t len = store_maint_record_format(rec, buf, sizeof(buf));

    if (len == 0) {
        *status = K8C_ETOOBIG;
        return 0;
    }
    return store_mvcc_member_put(mvcc, rec->id, buf, len);
}

int store_maint_apply_member(struct store_mvcc *mvcc, const struct store_cmd_req *req, int *status)
{
    struct store_maint_member rec, cur;
    bool have_cur;
    int rv = 0;

    *status = 0;
    switch (req->type) {
    case STORE_CMD_MEMBER_UPDATE:
        /* A member's own attributes: name and client URLs. */
        if (req->len >= STORE_MAINT_RECORD_MAX ||
            store_maint_record_parse(req->data, req->len, &rec) != 0) {
            *status = K8C_EINVAL;
            return 0;
        }
        have_cur = store_maint_record_get(mvcc, rec.id, &cur) == 0;
        memcpy(rec.peer_urls, have_cur ? cur.peer_urls : "", have_cur ? sizeof(rec.peer_urls) : 1);
        rec.learner = have_cur && cur.learner;
        return put_record(mvcc, &rec, status);
    case STORE_CMD_MEMBER_ADD: {
        /* Peer URLs and the learner flag (MemberAdd, MemberUpdate, MemberPromote). */
        Etcdserverpb__Member *m = etcdserverpb__member__unpack(NULL, req->len, req->data);
        if (m == NULL || m->id == 0) {
            if (m)
                etcdserverpb__member__free_unpacked(m, NULL);
            *status = K8C_EINVAL;
            return 0;
        }
        if (store_maint_record_get(mvcc, m->id, &rec) != 0) {
            memset(&rec, 0, sizeof(rec));
            rec.id = m->id;
        }
        if (!join_urls(m->peerurls, m->n_peerurls, rec.peer_urls, sizeof(rec.peer_urls))) {
            *status = K8C_EINVAL;
        } else {
            rec.learner = m->islearner;
            rv = put_record(mvcc, &rec, status);
        }
        etcdserverpb__member__free_unpacked(m, NULL);
        return rv;
    }
    case STORE_CMD_MEMBER_REMOVE: {
        Etcdserverpb__MemberRemoveRequest *r =
            etcdserverpb__member_remove_request__unpack(NULL, req->len, req->data);
        if (r == NULL || r->id == 0) {
            if (r)
                etcdserverpb__member_remove_request__free_unpacked(r, NULL);
            *status = K8C_EINVAL;
            return 0;
        }
        rv = store_mvcc_member_delete(mvcc, r->id);
        etcdserverpb__member_remove_request__free_unpacked(r, NULL);
        return rv;
    }
    default:
        *status = K8C_EINVAL;
        return 0;
    }
}

/* ===================================================================== */
/* The service                                                            */
/* ===================================================================== */

enum op_kind { OP_MEMBER_ADD, OP_MEMBER_REMOVE, OP_MEMBER_UPDATE, OP_MEMBER_PROMOTE, OP_MOVE };

/* A unary call this service holds while raft works on it. While it is in
 * svc->ops the call is ours (not the daemon's forwarding); call is NULL once
 * the client cancelled and the call was finished. */
struct op {
    struct store_maint_service *svc;
    struct k8c_grpc_call *call;
    struct op *prev, *next;
    enum op_kind kind;
    k8c_grpc_message_fn handler;
    struct k8c_buf *request;     /* the request bytes (re-dispatch after a transfer) */
    uint64_t id;                 /* the member concerned */
    char address[64];            /* MemberAdd: its raft address */
    Etcdserverpb__Member member; /* MemberAdd: for the response */
    char peer_urls[1024];        /* comma separated */
    char peer_split[1024];       /* the same, split for the response */
    char *peer_ptrs[MAX_URLS];
};

/* A Snapshot stream. */
struct snap {
    struct store_maint_service *svc;
    struct k8c_grpc_call *call; /* NULL once cancelled */
    struct snap *prev, *next;
    uv_work_t work;
    int fd;
    int status; /* of the copy, set by the worker */
    bool working;
    uint64_t file_size, total, sent;
    EVP_MD_CTX *sha;
    uint8_t chunk[STORE_MAINT_SNAPSHOT_CHUNK];
};

struct store_maint_service {
    struct store_maint_service_config cfg;
    char *name, *client_urls, *tmp_dir;
    struct store_raft_peer *peers;
    uv_timer_t tick;
    bool stopped;
    struct op *ops;
    struct snap *snaps;
    bool changing;         /* a membership change of the promoter is running */
    bool publishing;       /* our record is being proposed or sent to the leader */
    bool nospace_inflight; /* the NOSPACE alarm is being proposed */
    /* Removal watch (see removal_tick). */
    bool was_member;          /* this member has been in the raft configuration */
    uint64_t no_leader_since; /* uv_now when the leader was last lost, 0 while one is known */
    struct probe *probe;      /* a MemberList call to another member in flight */
    size_t probe_next;        /* round robin over the other members */
    bool removed;
};

/* A MemberList call of the removal watch; svc is NULL once the service stops. */
struct probe {
    struct store_maint_service *svc;
};

/* ---- helpers ---- */

static bool is_leader(struct store_maint_service *svc)
{
    return svc->cfg.raft != NULL && store_raft_is_leader(svc->cfg.raft);
}

/* Finishes a call with an error code from raft or the store, in etcd's words. */
static void finish_error(struct k8c_grpc_call *call, int err)
{
    switch (err) {
    case K8C_ENOTLEADER:
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: not leader");
        break;
    case K8C_ELEADERCHANGED:
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: leader changed");
        break;
    case K8C_ESHUTDOWN:
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: server stopped");
        break;
    case K8C_ETIMEDOUT:
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: request timed out");
        break;
    case K8C_EBUSY:
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE,
                             "etcdserver: another membership change is in progress, retry");
        break;
    case K8C_ENOTFOUND:
        k8c_grpc_call_finish(call, K8C_GRPC_NOT_FOUND, "etcdserver: member not found");
        break;
    case K8C_EEXIST:
        k8c_grpc_call_finish(call, K8C_GRPC_FAILED_PRECONDITION,
                             "etcdserver: Peer URLs already exists");
        break;
    default:
        k8c_grpc_call_finish(call, store_mvcc_grpc_status(err), k8c_strerror(err));
        break;
    }
}

static void finish_bad_request(struct k8c_grpc_call *call)
{
    k8c_grpc_call_finish(call, K8C_GRPC_INVALID_ARGUMENT,
                         "grpc: error unmarshalling request: invalid protobuf");
}

/* Unpacks a request of type desc whose field 1 is the uint64 member ID (MemberRemove,
 * MemberPromote, MoveLeader) into *id. A malformed request is answered here: false. */
static bool unpack_member_id(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                             const ProtobufCMessageDescriptor *desc, uint64_t *id)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(desc, 1);
    ProtobufCMessage *req = protobuf_c_message_unpack(desc, NULL, msg->len, msg->data);

    if (req == NULL) {
        finish_bad_request(call);
        return false;
    }
    memcpy(id, (const char *)req + f->offset, sizeof(*id));
    protobuf_c_message_free_unpacked(req, NULL);
    return true;
}

/* ---- the member view: raft configuration + records + --initial-cluster ---- */

struct member_view {
    struct store_raft_member raft;
    struct store_maint_member rec;
    bool has_rec;
    char name[256];
    char peer_buf[1024], client_buf[1024];
    char *peer[MAX_URLS], *client[MAX_URLS];
    size_t npeer, nclient;
    Etcdserverpb__Member pb;
};

/* Splits a comma separated list in place. */
static size_t split_urls(char *buf, char **out, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *u = strtok_r(buf, ",", &save); u && n < max; u = strtok_r(NULL, ",", &save))
        out[n++] = u;
    return n;
}

static int view_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct member_view *)a)->raft.id;
    uint64_t y = ((const struct member_view *)b)->raft.id;
    return x < y ? -1 : x > y;
}

/* Every member of the current raft configuration with what is known about
 * it: the record, else --initial-cluster, else the raft address. Returns a
 * new array (k8c_free) of *n views, pb filled and pointing into the views. */
static struct member_view *members_collect(struct store_maint_service *svc, size_t *n)
{
    struct store_raft_member rm[MAX_MEMBERS];
    struct store_mvcc_member *recs = NULL;
    size_t nrm = 0, nrec = 0;
    struct member_view *v;

    if (svc->cfg.raft)
        nrm = store_raft_members(svc->cfg.raft, rm, MAX_MEMBERS);
    if (nrm > MAX_MEMBERS)
        nrm = MAX_MEMBERS;
    if (store_mvcc_member_list(svc->cfg.mvcc, &recs, &nrec) != 0)
        nrec = 0;
    v = k8c_calloc(nrm ? nrm : 1, sizeof(*v));
    for (size_t i = 0; i < nrm; i++) {
        struct member_view *m = &v[i];
        const struct store_raft_peer *initial = NULL;

        m->raft = rm[i];
        for (size_t j = 0; j < nrec; j++) {
            if (recs[j].id == rm[i].id &&
                store_maint_record_parse(recs[j].data, recs[j].len, &m->rec) == 0)
                m->has_rec = true;
        }
        for (size_t j = 0; j < svc->cfg.npeers; j++) {
            if (svc->peers[j].id == rm[i].id)
                initial = &svc->peers[j];
        }
        if (m->has_rec && m->rec.name[0])
            snprintf(m->name, sizeof(m->name), "%s", m->rec.name);
        else if (initial)
            snprintf(m->name, sizeof(m->name), "%s", initial->name);
        if (m->has_rec && m->rec.peer_urls[0])
            snprintf(m->peer_buf, sizeof(m->peer_buf), "%s", m->rec.peer_urls);
        else if (initial)
            snprintf(m->peer_buf, sizeof(m->peer_buf), "%s", initial->url);
        else
            snprintf(m->peer_buf, sizeof(m->peer_buf), "http://%s", rm[i].address);
        if (m->has_rec && m->rec.client_urls[0])
            snprintf(m->client_buf, sizeof(m->client_buf), "%s", m->rec.client_urls);
        else if (rm[i].id == svc->cfg.member_id)
            snprintf(m->client_buf, sizeof(m->client_buf), "%s", svc->client_urls);
    }
    store_mvcc_members_free(recs, nrec);
    /* etcd lists members by id. Pointers into a view are set only after the
     * views have stopped moving. */
    qsort(v, nrm, sizeof(*v), view_cmp);
    for (size_t i = 0; i < nrm; i++) {
        struct member_view *m = &v[i];
        m->npeer = split_urls(m->peer_buf, m->peer, MAX_URLS);
        m->nclient = split_urls(m->client_buf, m->client, MAX_URLS);
        etcdserverpb__member__init(&m->pb);
        m->pb.id = m->raft.id;
        m->pb.name = m->name;
        m->pb.n_peerurls = m->npeer;
        m->pb.peerurls = m->peer;
        m->pb.n_clienturls = m->nclient;
        m->pb.clienturls = m->client;
        m->pb.islearner = m->has_rec ? m->rec.learner : !m->raft.voter;
    }
    *n = nrm;
    return v;
}

static struct member_view *view_find(struct member_view *v, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].raft.id == id)
            return &v[i];
    }
    return NULL;
}

/* Points out[] at the pb members of v (for a response). */
static Etcdserverpb__Member **view_pointers(struct member_view *v, size_t n)
{
    Etcdserverpb__Member **out = k8c_calloc(n ? n : 1, sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = &v[i].pb;
    return out;
}

/* Whether any member other than `except` already uses one of the peer URLs
 * (same URL text or same transport address). */
static bool peer_urls_taken(struct member_view *v, size_t n, uint64_t except, char *const *urls,
                            size_t nurls)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].raft.id == except)
            continue;
        for (size_t u = 0; u < nurls; u++) {
            char addr[64];
            if (store_raft_url_to_address(urls[u], addr, sizeof(addr), NULL) == 0 &&
                strcmp(addr, v[i].raft.address) == 0)
                return true;
            for (size_t p = 0; p < v[i].npeer; p++) {
                if (strcmp(urls[u], v[i].peer[p]) == 0)
                    return true;
            }
        }
    }
    return false;
}

/* etcd's types.NewURLs check: at least one, each http(s)://host:port. The
 * raft address of the first one goes to address. */
static bool urls_valid(char *const *urls, size_t n, char *address, size_t size)
{
    char tmp[64];
    if (n == 0 || n > MAX_URLS)
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((strncmp(urls[i], "http://", 7) != 0 && strncmp(urls[i], "https://", 8) != 0) ||
            strchr(urls[i], ',') || strchr(urls[i], '\n') ||
            store_raft_url_to_address(urls[i], i == 0 ? address : tmp, i == 0 ? size : sizeof(tmp),
                                      NULL) != 0)
            return false;
    }
    return true;
}

/* ---- ops ---- */

static struct op *op_new(struct store_maint_service *svc, struct k8c_grpc_call *call,
                         enum op_kind kind, k8c_grpc_message_fn handler,
                         const struct k8c_grpc_message *msg)
{
    struct op *op = K8C_NEW(struct op);
    op->svc = svc;
    op->call = call;
    op->kind = kind;
    op->handler = handler;
    op->request = k8c_buf_copy(msg->data, msg->len);
    op->next = svc->ops;
    if (svc->ops)
        svc->ops->prev = op;
    svc->ops = op;
    return op;
}

/* Unlinks op and returns its call (NULL if it was cancelled); frees op. */
static struct k8c_grpc_call *op_end(struct op *op)
{
    struct store_maint_service *svc = op->svc;
    struct k8c_grpc_call *call = op->call;

    if (op->prev)
        op->prev->next = op->next;
    else
        svc->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    k8c_buf_unref(op->request);
    k8c_free(op);
    return call;
}

static void on_cancel(struct k8c_grpc_call *call, void *arg)
{
    struct store_maint_service *svc = arg;

    for (struct op *op = svc->ops; op; op = op->next) {
        if (op->call == call) {
            op->call = NULL;
            k8c_grpc_call_finish(call, K8C_GRPC_CANCELLED, "context canceled");
            return;
        }
    }
    for (struct snap *s = svc->snaps; s; s = s->next) {
        if (s->call == call) {
            s->call = NULL;
            k8c_grpc_call_finish(call, K8C_GRPC_CANCELLED, "context canceled");
            return;
        }
    }
    /* Not ours: a forwarded call (the daemon's), or nothing pending. */
    svc->cfg.forward_cancel(call, arg);
}

/* Sets the header and member list of a Member{Add,Remove,Update,Promote}Response. */
#define SET_MEMBERS(resp, hdr, list, count)                                                        \
    ((resp).header = (hdr), (resp).members = (list), (resp).n_members = (count))

/* Replies to op's call with resp, unless the call was cancelled. */
static void op_reply(struct op *op, const ProtobufCMessage *resp)
{
    if (op->call != NULL)
        k8c_grpc_call_reply(op->call, resp);
}

/* Replies to a membership call with the current member list. */
static void reply_members(struct op *op)
{
    struct store_maint_service *svc = op->svc;
    Etcdserverpb__ResponseHeader header = ETCDSERVERPB__RESPONSE_HEADER__INIT;
    struct member_view *v;
    Etcdserverpb__Member **ptrs;
    size_t n;

    v = members_collect(svc, &n);
    ptrs = view_pointers(v, n);
    svc->cfg.fill_header(&header);
    switch (op->kind) {
    case OP_MEMBER_ADD: {
        Etcdserverpb__MemberAddResponse resp = ETCDSERVERPB__MEMBER_ADD_RESPONSE__INIT;
        SET_MEMBERS(resp, &header, ptrs, n);
        resp.member = &op->member;
        op_reply(op, &resp.base);
        break;
    }
    case OP_MEMBER_REMOVE: {
        Etcdserverpb__MemberRemoveResponse resp = ETCDSERVERPB__MEMBER_REMOVE_RESPONSE__INIT;
        SET_MEMBERS(resp, &header, ptrs, n);
        op_reply(op, &resp.base);
        break;
    }
    case OP_MEMBER_UPDATE: {
        Etcdserverpb__MemberUpdateResponse resp = ETCDSERVERPB__MEMBER_UPDATE_RESPONSE__INIT;
        SET_MEMBERS(resp, &header, ptrs, n);
        op_reply(op, &resp.base);
        break;
    }
    case OP_MEMBER_PROMOTE: {
        Etcdserverpb__MemberPromoteResponse resp = ETCDSERVERPB__MEMBER_PROMOTE_RESPONSE__INIT;
        SET_MEMBERS(resp, &header, ptrs, n);
        op_reply(op, &resp.base);
        break;
    }
    case OP_MOVE: {
        Etcdserverpb__MoveLeaderResponse resp = ETCDSERVERPB__MOVE_LEADER_RESPONSE__INIT;
        resp.header = &header;
        op_reply(op, &resp.base);
        break;
    }
    }
    op_end(op);
    k8c_free(ptrs);
    k8c_free(v);
}

static void op_fail(struct op *op, int err)
{
    struct k8c_grpc_call *call = op_end(op);
    if (call)
        finish_error(call, err);
}

/* Proposes a record change (STORE_CMD_MEMBER_ADD / _REMOVE payload). */
static int submit_member(struct store_maint_service *svc, enum store_cmd_type type,
                         const ProtobufCMessage *msg, store_raft_apply_cb cb, void *arg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = k8c_malloc(len ? len : 1);
    int rv;

    protobuf_c_message_pack(msg, buf);
    rv = svc->cfg.raft ? store_raft_submit(svc->cfg.raft, type, 0, buf, len, cb, arg)
                       : K8C_ESHUTDOWN;
    k8c_free(buf);
    return rv;
}

/* Proposes rec, op's member record (STORE_CMD_MEMBER_ADD); cb gets the outcome. A proposal
 * that cannot start fails op (answering its call) and returns the error. */
static int op_propose_record(struct op *op, const Etcdserverpb__Member *rec, store_raft_apply_cb cb)
{
    int rv = submit_member(op->svc, STORE_CMD_MEMBER_ADD, &rec->base, cb, op);
    if (rv != 0)
        op_fail(op, rv);
    return rv;
}

/* The checks MemberAdd and MemberUpdate make before looking at the members: the peer URLs
 * are valid (the first one's raft address into address) and this member leads. Otherwise
 * the call is answered, or forwarded to the leader to run handler there: false. */
static bool member_urls_checked(struct store_maint_service *svc, struct k8c_grpc_call *call,
                                const struct k8c_grpc_message *msg, k8c_grpc_message_fn handler,
                                char **urls, size_t n_urls, char *address, size_t size)
{
    if (!urls_valid(urls, n_urls, address, size)) {
        k8c_grpc_call_finish(call, K8C_GRPC_INVALID_ARGUMENT,
                             "etcdserver: given member URLs are invalid");
        return false;
    }
    if (!is_leader(svc)) {
        svc->cfg.forward(call, msg, handler, svc);
        return false;
    }
    return true;
}

/* Status of an applied record change: the raft status, else the FSM's. */
static int applied_status(int status, struct store_raft_result *result)
{
    return status != 0 ? status : result->status;
}

/* ---- MemberAdd ---- */

static void on_add_standby(void *arg, int status)
{
    struct op *op = arg;
    if (status != 0)
        k8c_log_warn("member added as spare but not yet receiving the log id=%" PRIx64 " err=%s",
                     op->id, k8c_strerror(status));
    /* The promoter retries the role change; the member is in the cluster. */
    k8c_log_info("member added id=%" PRIx64 " peer=%s learner=%d", op->id, op->peer_urls,
                 op->member.islearner);
    reply_members(op);
}

static void on_add_raft(void *arg, int status)
{
    struct op *op = arg;
    int rv;

    if (status != 0) {
        op_fail(op, status);
        return;
    }
    rv = op->svc->cfg.raft ? store_raft_assign(op->svc->cfg.raft, op->id, STORE_RAFT_MEMBER_STANDBY,
                                               on_add_standby, op)
                           : K8C_ESHUTDOWN;
    if (rv != 0)
        on_add_standby(op, rv);
}

static void on_add_recorded(void *arg, int status, struct store_raft_result *result)
{
    struct op *op = arg;
    int rv = applied_status(status, result);

    if (rv == 0)
        rv = op->svc->cfg.raft ? store_raft_add_member(op->svc->cfg.raft, op->id, op->address,
                                                       false, on_add_raft, op)
                               : K8C_ESHUTDOWN;
    if (rv != 0)
        op_fail(op, rv);
}

/*
 * etcd's --strict-reconfig-check (IsReadyToAddVotingMember and friends):
 * after the change, the voting members that have ever started (published
 * their name) must still be a quorum of the voting members. delta is +1 for
 * an added or promoted voter (promote: the latter), -1 for a removed one
 * (exclude: its id).
 */
static bool enough_started(const struct store_maint_service *svc, const struct member_view *v,
                           size_t n, int delta, uint64_t exclude, bool promote)
{
    size_t voting = 0, started = promote; /* a learner being promoted counts as started */
    if (!svc->cfg.strict_reconfig_check)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (v[i].pb.islearner)
            continue;
        voting++;
        started += v[i].pb.id != exclude && v[i].pb.name != NULL && v[i].pb.name[0] != '\0';
    }
    size_t after = delta > 0 ? voting + 1 : voting - 1;
    if (delta > 0 && started == 1 && after == 2)
        return true; /* a one-member cluster may grow to two */
    return started >= after / 2 + 1;
}

static void finish_not_enough_started(struct k8c_grpc_call *call)
{
    k8c_grpc_call_finish(call, K8C_GRPC_FAILED_PRECONDITION,
                         "etcdserver: re-configuration failed due to not enough started members");
}

static void on_member_add(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    struct store_maint_service *svc = arg;
    Etcdserverpb__MemberAddRequest *req;
    struct member_view *v;
    char address[64];
    size_t n, learners = 0;
    bool taken, ready;
    struct op *op;

    req = etcdserverpb__member_add_request__unpack(NULL, msg->len, msg->data);
    if (req == NULL) {
        finish_bad_request(call);
        return;
    }
    if (!member_urls_checked(svc, call, msg, on_member_add, req->peerurls, req->n_peerurls, address,
                             sizeof(address))) {
        etcdserverpb__member_add_request__free_unpacked(req, NULL);
        return;
    }
    v = members_collect(svc, &n);
    for (size_t i = 0; i < n; i++)
        learners += v[i].pb.islearner;
    taken = peer_urls_taken(v, n, 0, req->peerurls, req->n_peerurls);
    ready = req->islearner || enough_started(svc, v, n, +1, 0, false);
    k8c_free(v);
    if (taken) {
        etcdserverpb__member_add_request__free_unpacked(req, NULL);
        finish_error(call, K8C_EEXIST);
        return;
    }
    if (!ready) {
        etcdserverpb__member_add_request__free_unpacked(req, NULL);
        finish_not_enough_started(call);
        return;
    }
    if (req->islearner && learners >= 1) {
        etcdserverpb__member_add_request__free_unpacked(req, NULL);
        k8c_grpc_call_finish(call, K8C_GRPC_FAILED_PRECONDITION,
                             "etcdserver: too many learner members in cluster");
        return;
    }
    op = op_new(svc, call, OP_MEMBER_ADD, on_member_add, msg);
    op->id = store_raft_member_id(address);
    snprintf(op->address, sizeof(op->address), "%s", address);
    join_urls(req->peerurls, req->n_peerurls, op->peer_urls, sizeof(op->peer_urls));
    memcpy(op->peer_split, op->peer_urls, sizeof(op->peer_split));
    etcdserverpb__member__init(&op->member);
    op->member.id = op->id;
    op->member.islearner = req->islearner;
    op->member.n_peerurls = split_urls(op->peer_split, op->peer_ptrs, MAX_URLS);
    op->member.peerurls = op->peer_ptrs;
    etcdserverpb__member_add_request__free_unpacked(req, NULL);
    op_propose_record(op, &op->member, on_add_recorded);
}

/* ---- MemberRemove ---- */

static void on_remove_recorded(void *arg, int status, struct store_raft_result *result)
{
    struct op *op = arg;
    if (applied_status(status, result) != 0)
        k8c_log_warn("member removed from raft, record left behind id=%" PRIx64 " err=%s", op->id,
                     k8c_strerror(applied_status(status, result)));
    k8c_log_info("member removed id=%" PRIx64, op->id);
    reply_members(op);
}

static void on_remove_raft(void *arg, int status)
{
    struct op *op = arg;
    Etcdserverpb__MemberRemoveRequest rec = ETCDSERVERPB__MEMBER_REMOVE_REQUEST__INIT;
    int rv;

    if (status != 0) {
        op_fail(op, status);
        return;
    }
    rec.id = op->id;
    rv = submit_member(op->svc, STORE_CMD_MEMBER_REMOVE, &rec.base, on_remove_recorded, op);
    if (rv != 0) {
        struct store_raft_result none = {0};
        on_remove_recorded(op, rv, &none);
    }
}

/* The leader is being removed: leadership moved first; the new leader
 * handles the request (forwarded, waiting for it to be known here). */
static void on_remove_transferred(void *arg, int status)
{
    struct op *op = arg;
    struct store_maint_service *svc = op->svc;
    struct k8c_buf *request = k8c_buf_ref(op->request);
    k8c_grpc_message_fn handler = op->handler;
    struct k8c_grpc_call *call;

    if (status != 0 && svc->cfg.raft && store_raft_is_leader(svc->cfg.raft)) {
        k8c_buf_unref(request);
        op_fail(op, status);
        return;
    }
    call = op_end(op);
    if (call) {
        struct k8c_grpc_message msg = {request->data, request->len, NULL};
        if (svc->stopped)
            finish_error(call, K8C_ESHUTDOWN);
        else
            svc->cfg.forward(call, &msg, handler, svc);
    }
    k8c_buf_unref(request);
}

static void on_member_remove(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                             void *arg)
{
    struct store_maint_service *svc = arg;
    struct member_view *v, *target;
    size_t n, voters = 0;
    bool target_voter, ready;
    struct op *op;
    uint64_t id;
    int rv;

    if (!unpack_member_id(call, msg, &etcdserverpb__member_remove_request__descriptor, &id))
        return;
    if (!is_leader(svc)) {
        svc->cfg.forward(call, msg, on_member_remove, arg);
        return;
    }
    v = members_collect(svc, &n);
    for (size_t i = 0; i < n; i++)
        voters += v[i].raft.voter;
    target = view_find(v, n, id);
    target_voter = target && target->raft.voter;
    ready = target == NULL || target->pb.islearner || enough_started(svc, v, n, -1, id, false);
    k8c_free(v);
    if (target == NULL) {
        finish_error(call, K8C_ENOTFOUND);
        return;
    }
    if ((target_voter && voters <= 1) || !ready) {
        finish_not_enough_started(call);
        return;
    }
    op = op_new(svc, call, OP_MEMBER_REMOVE, on_member_remove, msg);
    op->id = id;
    if (id == svc->cfg.member_id) {
        k8c_log_info("removing the leader: transferring leadership first");
        rv = store_raft_transfer(svc->cfg.raft, 0, on_remove_transferred, op);
    } else {
        rv = store_raft_remove_member(svc->cfg.raft, id, on_remove_raft, op);
    }
    if (rv != 0)
        op_fail(op, rv);
}

/* ---- MemberUpdate and MemberPromote: record changes ---- */

static void on_record_applied(void *arg, int status, struct store_raft_result *result)
{
    struct op *op = arg;
    int rv = applied_status(status, result);

    if (rv != 0) {
        op_fail(op, rv);
        return;
    }
    reply_members(op);
}

static void on_member_update(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                             void *arg)
{
    struct store_maint_service *svc = arg;
    Etcdserverpb__MemberUpdateRequest *req;
    Etcdserverpb__Member rec = ETCDSERVERPB__MEMBER__INIT;
    struct member_view *v, *target;
    char address[64];
    size_t n;
    int rv = 0;
    struct op *op;

    req = etcdserverpb__member_update_request__unpack(NULL, msg->len, msg->data);
    if (req == NULL) {
        finish_bad_request(call);
        return;
    }
    if (!member_urls_checked(svc, call, msg, on_member_update, req->peerurls, req->n_peerurls,
                             address, sizeof(address))) {
        etcdserverpb__member_update_request__free_unpacked(req, NULL);
        return;
    }
    v = members_collect(svc, &n);
    target = view_find(v, n, req->id);
    if (target == NULL)
        rv = K8C_ENOTFOUND;
    else if (peer_urls_taken(v, n, req->id, req->peerurls, req->n_peerurls))
        rv = K8C_EEXIST;
    if (rv == 0) {
        op = op_new(svc, call, OP_MEMBER_UPDATE, on_member_update, msg);
        op->id = req->id;
        rec.id = req->id;
        rec.n_peerurls = req->n_peerurls;
        rec.peerurls = req->peerurls;
        rec.islearner = target->pb.islearner;
        if (op_propose_record(op, &rec, on_record_applied) == 0)
            k8c_log_info("member peer URLs updated id=%" PRIx64, req->id);
    } else {
        finish_error(call, rv);
    }
    k8c_free(v);
    etcdserverpb__member_update_request__free_unpacked(req, NULL);
}

static void promoter_tick(struct store_maint_service *svc);

static void on_promote_recorded(void *arg, int status, struct store_raft_result *result)
{
    struct op *op = arg;
    struct store_maint_service *svc = op->svc;
    int rv = applied_status(status, result);

    if (rv != 0) {
        op_fail(op, rv);
        return;
    }
    k8c_log_info("learner promoted id=%" PRIx64, op->id);
    reply_members(op);
    promoter_tick(svc); /* make it a raft voter now */
}

static void on_member_promote(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                              void *arg)
{
    struct store_maint_service *svc = arg;
    Etcdserverpb__Member rec = ETCDSERVERPB__MEMBER__INIT;
    struct store_raft_status st;
    struct member_view *v, *target;
    size_t n;
    uint64_t id;
    struct op *op;

    if (!unpack_member_id(call, msg, &etcdserverpb__member_promote_request__descriptor, &id))
        return;
    if (!is_leader(svc)) {
        svc->cfg.forward(call, msg, on_member_promote, arg);
        return;
    }
    store_raft_get_status(svc->cfg.raft, &st);
    v = members_collect(svc, &n);
    target = view_find(v, n, id);
    if (target == NULL) {
        finish_error(call, K8C_ENOTFOUND);
    } else if (!target->pb.islearner) {
        k8c_grpc_call_finish(call, K8C_GRPC_FAILED_PRECONDITION,
                             "etcdserver: can only promote a learner member");
    } else if (!enough_started(svc, v, n, +1, 0, true)) {
        finish_not_enough_started(call);
    } else if ((double)target->raft.match_index < 0.9 * (double)st.last_index) {
        /* etcd's isLearnerReady: the learner has 90% of the leader's log. */
        k8c_grpc_call_finish(call, K8C_GRPC_FAILED_PRECONDITION,
                             "etcdserver: can only promote a learner member which is in sync "
                             "with leader");
    } else {
        op = op_new(svc, call, OP_MEMBER_PROMOTE, on_member_promote, msg);
        op->id = id;
        rec.id = id;
        rec.n_peerurls = target->npeer;
        rec.peerurls = target->peer;
        rec.islearner = false;
        op_propose_record(op, &rec, on_promote_recorded);
    }
    k8c_free(v);
}

/* ---- MemberList ---- */

static void on_member_list(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                           void *arg)
{
    struct store_maint_service *svc = arg;
    Etcdserverpb__MemberListResponse resp = ETCDSERVERPB__MEMBER_LIST_RESPONSE__INIT;
    Etcdserverpb__ResponseHeader header = ETCDSERVERPB__RESPONSE_HEADER__INIT;
    struct member_view *v;
    size_t n;

    v = members_collect(svc, &n);
    svc->cfg.fill_header(&header);
    resp.header = &header;
    resp.n_members = n;
    resp.members = view_pointers(v, n);
    k8c_grpc_call_reply(call, &resp.base);
    k8c_free(resp.members);
    k8c_free(v);
}

/* ---- MoveLeader ---- */

static void on_moved(void *arg, int status)
{
    struct op *op = arg;
    struct k8c_grpc_call *call;

    if (status == 0) {
        k8c_log_info("leadership moved target=%" PRIx64, op->id);
        reply_members(op);
        return;
    }
    call = op_end(op);
    if (call == NULL)
        return;
    if (status == K8C_ETIMEDOUT)
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE,
                             "etcdserver: request timed out, leader transfer took too long");
    else
        finish_error(call, status);
}

static void on_move_leader(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg,
                           void *arg)
{
    struct store_maint_service *svc = arg;
    struct member_view *v, *target;
    bool ok;
    size_t n;
    uint64_t id;
    struct op *op;
    int rv;

    if (!unpack_member_id(call, msg, &etcdserverpb__move_leader_request__descriptor, &id))
        return;
    if (!is_leader(svc)) {
        /* etcd: ErrGRPCNotLeader is FailedPrecondition here, and not forwarded. */
        k8c_grpc_call_finish(call, K8C_GRPC_FAILED_PRECONDITION, "etcdserver: not leader");
        return;
    }
    v = members_collect(svc, &n);
    target = view_find(v, n, id);
    ok = target && target->raft.voter && !target->pb.islearner;
    k8c_free(v);
    if (!ok) {
        k8c_grpc_call_finish(call, K8C_GRPC_FAILED_PRECONDITION,
                             "etcdserver: bad leader transferee");
        return;
    }
    op = op_new(svc, call, OP_MOVE, on_move_leader, msg);
    op->id = id;
    if (id == svc->cfg.member_id) {
        reply_members(op); /* already the leader, as etcd's wait loop finds */
        return;
    }
    rv = store_raft_transfer(svc->cfg.raft, id, on_moved, op);
    if (rv != 0)
        on_moved(op, rv);
}

/* ---- Hash, HashKV, Defragment ---- */

static void on_hash(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    struct store_maint_service *svc = arg;
    Etcdserverpb__HashResponse resp = ETCDSERVERPB__HASH_RESPONSE__INIT;
    Etcdserverpb__ResponseHeader header = ETCDSERVERPB__RESPONSE_HEADER__INIT;
    struct store_mvcc_status st;
    uint32_t hash = 0;
    int rv;

    if ((rv = store_mvcc_status(svc->cfg.mvcc, &st)) != 0 ||
        (rv = store_mvcc_hash(svc->cfg.mvcc, &hash)) != 0) {
        finish_error(call, rv);
        return;
    }
    svc->cfg.fill_header(&header);
    header.revision = st.revision;
    resp.header = &header;
    resp.hash = hash;
    k8c_grpc_call_reply(call, &resp.base);
}

static void on_hash_kv(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    struct store_maint_service *svc = arg;
    Etcdserverpb__HashKVRequest *req;
    Etcdserverpb__HashKVResponse resp = ETCDSERVERPB__HASH_KVRESPONSE__INIT;
    Etcdserverpb__ResponseHeader header = ETCDSERVERPB__RESPONSE_HEADER__INIT;
    int64_t compact_rev = 0, cur_rev = 0, rev;
    uint32_t hash = 0;
    int rv;

    req = etcdserverpb__hash_kvrequest__unpack(NULL, msg->len, msg->data);
    if (req == NULL) {
        finish_bad_request(call);
        return;
    }
    rev = req->revision;
    etcdserverpb__hash_kvrequest__free_unpacked(req, NULL);
    rv = store_mvcc_hash_kv(svc->cfg.mvcc, rev, &hash, &compact_rev, &cur_rev);
    if (rv != 0) {
        finish_error(call, rv);
        return;
    }
    svc->cfg.fill_header(&header);
    header.revision = cur_rev;
    resp.header = &header;
    resp.hash = hash;
    resp.compact_revision = compact_rev;
    k8c_grpc_call_reply(call, &resp.base);
}

/* Defragment: LMDB keeps freed pages on its free list and reuses them in
 * place (copy-on-write B+tree), so the data file never needs rewriting the
 * way a bbolt file does; the file does not shrink, but new writes fill the
 * freed pages first. Answered OK, as etcd answers a finished defrag. */
static void on_defragment(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    struct store_maint_service *svc = arg;
    Etcdserverpb__DefragmentResponse resp = ETCDSERVERPB__DEFRAGMENT_RESPONSE__INIT;
    Etcdserverpb__ResponseHeader header = ETCDSERVERPB__RESPONSE_HEADER__INIT;

    svc->cfg.fill_header(&header);
    resp.header = &header;
    k8c_grpc_call_reply(call, &resp.base);
}

/* ---- Snapshot ---- */

static void snap_free(struct snap *s)
{
    struct store_maint_service *svc = s->svc;
    if (s->prev)
        s->prev->next = s->next;
    else
        svc->snaps = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->fd >= 0)
        close(s->fd);
    EVP_MD_CTX_free(s->sha);
    k8c_free(s);
}

/* Ends the stream with an error (if the client is still there) and frees. */
static void snap_fail(struct snap *s, int grpc_status, const char *message)
{
    if (s->call)
        k8c_grpc_call_finish(s->call, grpc_status, message);
    snap_free(s);
}

/* Sends chunks while the call is writable; the digest and OK at the end. */
static void snap_pump(struct snap *s)
{
    Etcdserverpb__SnapshotResponse resp;

    while (s->call && s->sent < s->total && k8c_grpc_call_writable(s->call)) {
        size_t len = STORE_MAINT_SNAPSHOT_CHUNK, have = 0;
        if (s->total - s->sent < len)
            len = (size_t)(s->total - s->sent);
        /* Bytes past the file (alignment padding) are zeros. */
        if (s->sent < s->file_size) {
            size_t want = len;
            if (s->file_size - s->sent < want)
                want = (size_t)(s->file_size - s->sent);
            ssize_t r = pread(s->fd, s->chunk, want, (off_t)s->sent);
            if (r != (ssize_t)want) {
                k8c_log_error("snapshot read failed err=%s", r < 0 ? strerror(errno) : "short");
                snap_fail(s, K8C_GRPC_INTERNAL, "etcdserver: snapshot read failed");
                return;
            }
            have = want;
        }
        memset(s->chunk + have, 0, len - have);
        EVP_DigestUpdate(s->sha, s->chunk, len);
        s->sent += len;
        etcdserverpb__snapshot_response__init(&resp);
        resp.remaining_bytes = s->total - s->sent;
        resp.blob.data = s->chunk;
        resp.blob.len = len;
        if (k8c_grpc_call_send(s->call, &resp.base) != 0) {
            snap_fail(s, K8C_GRPC_UNAVAILABLE, "etcdserver: snapshot send failed");
            return;
        }
    }
    if (s->call == NULL) {
        snap_free(s);
        return;
    }
    if (s->sent == s->total) {
        uint8_t digest[SHA256_SIZE];
        unsigned dlen = 0;
        EVP_DigestFinal_ex(s->sha, digest, &dlen);
        etcdserverpb__snapshot_response__init(&resp);
        resp.remaining_bytes = 0;
        resp.blob.data = digest;
        resp.blob.len = dlen;
        k8c_grpc_call_send(s->call, &resp.base);
        k8c_grpc_call_finish(s->call, K8C_GRPC_OK, NULL);
        k8c_log_info("snapshot sent bytes=%" PRIu64, s->total);
        snap_free(s);
    }
    /* else: on_snapshot_writable continues. */
}

static void snap_work(uv_work_t *w)
{
    struct snap *s = w->data;
    s->status = store_mvcc_snapshot_fd(s->svc->cfg.mvcc, s->fd, true);
}

static void snap_after_work(uv_work_t *w, int status)
{
    struct snap *s = w->data;
    struct stat st;

    s->working = false;
    if (s->call == NULL) {
        snap_free(s);
        return;
    }
    if (status != 0 || s->status != 0 || fstat(s->fd, &st) != 0) {
        k8c_log_error("snapshot copy failed err=%s", k8c_strerror(status      ? status
                                                                  : s->status ? s->status
                                                                              : -errno));
        snap_fail(s, K8C_GRPC_INTERNAL, "etcdserver: snapshot copy failed");
        return;
    }
    s->file_size = (uint64_t)st.st_size;
    s->total = (s->file_size + SNAPSHOT_ALIGN - 1) / SNAPSHOT_ALIGN * SNAPSHOT_ALIGN;
    k8c_log_info("sending snapshot bytes=%" PRIu64, s->total);
    snap_pump(s);
}

static void on_snapshot(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    struct store_maint_service *svc = arg;
    char path[2200];
    struct snap *s;
    int rv;

    snprintf(path, sizeof(path), "%s/snapshot-stream.XXXXXX", svc->tmp_dir);
    s = K8C_NEW(struct snap);
    s->svc = svc;
    s->call = call;
    s->fd = mkstemp(path);
    if (s->fd < 0) {
        k8c_log_error("cannot create a snapshot file path=%s err=%s", path, strerror(errno));
        k8c_free(s);
        k8c_grpc_call_finish(call, K8C_GRPC_INTERNAL, "etcdserver: cannot create snapshot file");
        return;
    }
    unlink(path); /* nothing is left behind, whatever happens */
    s->sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL);
    s->next = svc->snaps;
    if (svc->snaps)
        svc->snaps->prev = s;
    svc->snaps = s;
    s->work.data = s;
    s->working = true;
    rv = uv_queue_work(svc->cfg.loop, &s->work, snap_work, snap_after_work);
    if (rv != 0) {
        s->working = false;
        snap_fail(s, K8C_GRPC_INTERNAL, "etcdserver: cannot start snapshot");
    }
}

static void on_snapshot_writable(struct k8c_grpc_call *call, void *arg)
{
    struct store_maint_service *svc = arg;
    for (struct snap *s = svc->snaps; s; s = s->next) {
        if (s->call == call && !s->working) {
            snap_pump(s);
            return;
        }
    }
}

/* ---- fetching a peer's state (mark snapshots, store/raft.h) ---- */

struct fetch {
    uv_loop_t loop;
    uv_timer_t timer;
    struct k8c_grpc_client_call *call;
    int fd;
    EVP_MD_CTX *sha;
    uint64_t bytes, timeout_ms;
    bool data_done, digest_ok, done;
    int status;
    char message[K8C_ERRMSG_SIZE];
};

static void fetch_on_message(struct k8c_grpc_client_call *call, const struct k8c_grpc_message *msg,
                             void *arg)
{
    struct fetch *f = arg;
    const Etcdserverpb__SnapshotResponse *r = (const Etcdserverpb__SnapshotResponse *)msg->pb;

    uv_timer_again(&f->timer);
    if (f->digest_ok || f->fd < 0 || r == NULL)
        return;
    if (f->data_done) {
        /* The last message: the SHA-256 of every byte before it. */
        uint8_t digest[SHA256_SIZE];
        unsigned dlen = 0;
        EVP_DigestFinal_ex(f->sha, digest, &dlen);
        f->digest_ok = r->blob.len == dlen && memcmp(r->blob.data, digest, dlen) == 0;
        if (!f->digest_ok)
            snprintf(f->message, sizeof(f->message), "snapshot digest mismatch");
        return;
    }
    if (r->blob.len > 0 && write(f->fd, r->blob.data, r->blob.len) != (ssize_t)r->blob.len) {
        snprintf(f->message, sizeof(f->message), "write: %s", strerror(errno));
        close(f->fd);
        f->fd = -1;
        k8c_grpc_client_call_cancel(call);
        return;
    }
    EVP_DigestUpdate(f->sha, r->blob.data, r->blob.len);
    f->bytes += r->blob.len;
    f->data_done = r->remaining_bytes == 0;
}

static void fetch_on_done(struct k8c_grpc_client_call *call, int status, const char *message,
                          void *arg)
{
    struct fetch *f = arg;
    f->done = true;
    f->call = NULL;
    f->status = status;
    if (status != K8C_GRPC_OK && f->message[0] == '\0')
        snprintf(f->message, sizeof(f->message), "gRPC status %d: %s", status, message);
    uv_timer_stop(&f->timer);
}

static void fetch_on_timeout(uv_timer_t *t)
{
    struct fetch *f = t->data;
    snprintf(f->message, sizeof(f->message), "no snapshot data for %" PRIu64 " ms", f->timeout_ms);
    if (f->call)
        k8c_grpc_client_call_cancel(f->call);
}

int store_maint_fetch_snapshot(const char *target, const struct k8c_grpc_channel_options *copts,
                               const char *path, uint64_t timeout_ms, char *errmsg)
{
    struct fetch *f = K8C_NEW(struct fetch);
    struct k8c_grpc_channel *ch = NULL;
    Etcdserverpb__SnapshotRequest req = ETCDSERVERPB__SNAPSHOT_REQUEST__INIT;
    int rv = K8C_EIO;

    f->timeout_ms = timeout_ms;
    f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (f->fd < 0) {
        snprintf(errmsg, K8C_ERRMSG_SIZE, "open %s: %s", path, strerror(errno));
        k8c_free(f);
        return -errno;
    }
    f->sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL);
    uv_loop_init(&f->loop);
    uv_timer_init(&f->loop, &f->timer);
    f->timer.data = f;
    uv_timer_start(&f->timer, fetch_on_timeout, timeout_ms, timeout_ms);
    ch = k8c_grpc_channel_new(&f->loop, target, copts, errmsg);
    if (ch != NULL) {
        struct k8c_grpc_call_options o = {
            .path = "/etcdserverpb.Maintenance/Snapshot",
            .response = &etcdserverpb__snapshot_response__descriptor,
            .on_message = fetch_on_message,
            .on_done = fetch_on_done,
            .arg = f,
        };
        f->call = k8c_grpc_channel_call(ch, &o, errmsg);
        if (f->call != NULL) {
            k8c_grpc_client_call_send(f->call, &req.base);
            k8c_grpc_client_call_close_send(f->call);
            while (!f->done && uv_run(&f->loop, UV_RUN_ONCE) != 0) {
            }
            if (!f->done)
                snprintf(errmsg, K8C_ERRMSG_SIZE, "snapshot stream did not end");
            else if (f->status != K8C_GRPC_OK || !f->digest_ok || f->fd < 0)
                snprintf(errmsg, K8C_ERRMSG_SIZE, "%s",
                         f->message[0] ? f->message : "snapshot stream ended without its digest");
            else if (fsync(f->fd) != 0)
                snprintf(errmsg, K8C_ERRMSG_SIZE, "fsync %s: %s", path, strerror(errno));
            else
                rv = 0;
        }
        k8c_grpc_channel_del(ch);
    }
    uv_close((uv_handle_t *)&f->timer, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT); /* lets the channel and the timer close */
    bool closed = uv_loop_close(&f->loop) == 0;
    if (f->fd >= 0)
        close(f->fd);
    EVP_MD_CTX_free(f->sha);
    if (rv == 0)
        k8c_log_info("fetched snapshot target=%s bytes=%" PRIu64, target, f->bytes);
    else
        unlink(path);
    if (closed)
        k8c_free(f);
    else /* a handle still points into it: kept, not freed under it */
        k8c_log_warn("snapshot fetch loop still had handles open");
    return rv;
}

/* Cancel of a snapshot stream: the copy may still run in the worker, then
 * snap_after_work frees it. */
static void on_snapshot_cancel(struct k8c_grpc_call *call, void *arg)
{
    struct store_maint_service *svc = arg;
    for (struct snap *s = svc->snaps; s; s = s->next) {
        if (s->call == call) {
            s->call = NULL;
            k8c_grpc_call_finish(call, K8C_GRPC_CANCELLED, "context canceled");
            if (!s->working)
                snap_free(s);
            return;
        }
    }
    k8c_grpc_call_finish(call, K8C_GRPC_CANCELLED, "context canceled");
}

/* ---- publishing this member's attributes ---- */

static int own_record(struct store_maint_service *svc, char *buf, size_t size)
{
    int n =
        snprintf(buf, size, "%" PRIx64 "\n%s\n%s", svc->cfg.member_id, svc->name, svc->client_urls);
    return n > 0 && (size_t)n < size ? n : 0;
}

static void on_published(void *arg, int status, struct store_raft_result *result)
{
    struct store_maint_service *svc = arg;
    svc->publishing = false;
    if (applied_status(status, result ? result : &(struct store_raft_result){0}) == 0)
        k8c_log_info("member attributes published name=%s client_urls=%s", svc->name,
                     svc->client_urls);
}

static void on_publish_sent(struct k8c_grpc_client_call *cc, int status, const char *message,
                            void *arg)
{
    struct store_maint_service *svc = arg;
    svc->publishing = false;
    if (status != K8C_GRPC_OK)
        k8c_log_v(1, "publishing to the leader failed status=%d err=%s", status, message);
}

/* Sends raw request bytes to the leader as a unary call; on_done gets svc. */
static int send_to_leader(struct store_maint_service *svc, const char *path, const void *data,
                          size_t len, k8c_grpc_client_done_fn on_done)
{
    struct k8c_grpc_channel *ch = svc->cfg.leader_channel ? svc->cfg.leader_channel() : NULL;
    struct k8c_grpc_call_options copts = {0};
    struct k8c_grpc_client_call *cc;
    char errmsg[K8C_ERRMSG_SIZE];

    if (ch == NULL)
        return K8C_ENOTLEADER;
    copts.path = path;
    copts.timeout_ms = 2000;
    copts.on_done = on_done;
    copts.arg = svc;
    cc = k8c_grpc_channel_call(ch, &copts, errmsg);
    if (cc == NULL)
        return K8C_EIO;
    k8c_grpc_client_call_send_bytes(cc, data, len);
    k8c_grpc_client_call_close_send(cc);
    return 0;
}

/* Publishes our attributes until the applied record carries them. */
static void publish_tick(struct store_maint_service *svc)
{
    struct store_raft_member rm[MAX_MEMBERS];
    struct store_maint_member cur;
    char rec[STORE_MAINT_RECORD_MAX];
    bool member = false;
    size_t n;
    int len;

    if (svc->publishing || store_raft_leader(svc->cfg.raft, NULL) == 0)
        return;
    if (store_maint_record_get(svc->cfg.mvcc, svc->cfg.member_id, &cur) == 0 &&
        strcmp(cur.name, svc->name) == 0 && strcmp(cur.client_urls, svc->client_urls) == 0)
        return;
    n = store_raft_members(svc->cfg.raft, rm, MAX_MEMBERS);
    for (size_t i = 0; i < n && i < MAX_MEMBERS; i++)
        member |= rm[i].id == svc->cfg.member_id;
    if (!member || (len = own_record(svc, rec, sizeof(rec))) == 0)
        return;
    svc->publishing = true;
    if (store_raft_is_leader(svc->cfg.raft)) {
        if (store_raft_submit(svc->cfg.raft, STORE_CMD_MEMBER_UPDATE, 0, rec, (size_t)len,
                              on_published, svc) != 0)
            svc->publishing = false;
    } else if (send_to_leader(svc, PUBLISH_METHOD, rec, (size_t)len, on_publish_sent) != 0) {
        svc->publishing = false;
    }
}

/* Completion of a publish proposed for a follower: nobody waits for it (the
 * follower retries until it sees its record applied). */
static void on_publish_applied(void *arg, int status, struct store_raft_result *result)
{
    (void)arg;
    (void)status;
    (void)result;
}

static void on_publish(struct k8c_grpc_call *call, const struct k8c_grpc_message *msg, void *arg)
{
    struct store_maint_service *svc = arg;
    struct store_raft_member rm[MAX_MEMBERS];
    struct store_maint_member rec;
    bool member = false;
    size_t n;
    int rv;

    if (msg->len >= STORE_MAINT_RECORD_MAX ||
        store_maint_record_parse(msg->data, msg->len, &rec) != 0) {
        k8c_grpc_call_finish(call, K8C_GRPC_INVALID_ARGUMENT, "malformed member attributes");
        return;
    }
    if (!is_leader(svc)) {
        k8c_grpc_call_finish(call, K8C_GRPC_UNAVAILABLE, "etcdserver: not leader");
        return;
    }
    n = store_raft_members(svc->cfg.raft, rm, MAX_MEMBERS);
    for (size_t i = 0; i < n && i < MAX_MEMBERS; i++)
        member |= rm[i].id == rec.id;
    if (!member) {
        finish_error(call, K8C_ENOTFOUND);
        return;
    }
    /* Answered once proposed: the follower checks its applied record. */
    rv = store_raft_submit(svc->cfg.raft, STORE_CMD_MEMBER_UPDATE, 0, msg->data, msg->len,
                           on_publish_applied, NULL);
    if (rv != 0) {
        finish_error(call, rv);
        return;
    }
    k8c_grpc_call_send_bytes(call, "", 0);
    k8c_grpc_call_finish(call, K8C_GRPC_OK, NULL);
}

/* ---- the promoter: stand-bys that are no learners become voters ---- */

static void on_promoted(void *arg, int status)
{
    struct store_maint_service *svc = arg;
    svc->changing = false;
    if (status != 0)
        k8c_log_v(1, "member role change not done yet err=%s", k8c_strerror(status));
}

/*
 * MemberAdd leaves the new server a stand-by (it receives the log, does not
 * vote) so that adding a server which is not running yet neither blocks the
 * quorum nor makes libraft time the promotion out. Once it has caught up
 * (its match index close to the leader's last index) it becomes a voter, as
 * etcd's new member counts as one. A spare (add done, stand-by step failed)
 * is made a stand-by first. One change at a time.
 */
static void promoter_tick(struct store_maint_service *svc)
{
    struct store_raft_status st;
    struct member_view *v;
    size_t n;

    if (svc->changing || svc->stopped || !is_leader(svc))
        return;
    store_raft_get_status(svc->cfg.raft, &st);
    v = members_collect(svc, &n);
    for (size_t i = 0; i < n; i++) {
        struct member_view *m = &v[i];
        int role = -1;
        if (m->raft.role == STORE_RAFT_MEMBER_VOTER || !m->has_rec)
            continue;
        if (m->raft.role == STORE_RAFT_MEMBER_SPARE)
            role = STORE_RAFT_MEMBER_STANDBY;
        else if (!m->rec.learner && m->raft.match_index > 0 &&
                 m->raft.match_index + 64 >= st.last_index)
            role = STORE_RAFT_MEMBER_VOTER;
        if (role < 0)
            continue;
        svc->changing = true;
        if (store_raft_assign(svc->cfg.raft, m->raft.id, role, on_promoted, svc) != 0) {
            svc->changing = false;
            continue;
        }
        k8c_log_info("member role change id=%" PRIx64 " role=%s", m->raft.id,
                     role == STORE_RAFT_MEMBER_VOTER ? "voter" : "standby");
        break;
    }
    k8c_free(v);
}

/* ---- NOSPACE alarm ---- */

static void on_nospace_applied(void *arg, int status, struct store_raft_result *result)
{
    struct store_maint_service *svc = arg;
    (void)result;
    svc->nospace_inflight = false;
    if (status == 0)
        k8c_log_warn("alarm raised alarm=NOSPACE member=%" PRIx64, svc->cfg.member_id);
}

static void on_nospace_sent(struct k8c_grpc_client_call *cc, int status, const char *message,
                            void *arg)
{
    struct store_maint_service *svc = arg;
    svc->nospace_inflight = false;
    if (status != K8C_GRPC_OK)
        k8c_log_warn("raising the NOSPACE alarm on the leader failed err=%s", message);
}

void store_maint_raise_nospace(struct store_maint_service *svc)
{
    Etcdserverpb__AlarmRequest req = ETCDSERVERPB__ALARM_REQUEST__INIT;
    struct store_mvcc_status st;
    uint8_t buf[64];
    size_t len;
    int rv;

    if (svc == NULL || svc->stopped || svc->nospace_inflight)
        return;
    if (store_mvcc_status(svc->cfg.mvcc, &st) == 0 && st.nospace_alarm)
        return;
    req.action = ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__ACTIVATE;
    req.memberid = svc->cfg.member_id;
    req.alarm = ETCDSERVERPB__ALARM_TYPE__NOSPACE;
    len = etcdserverpb__alarm_request__pack(&req, buf);
    svc->nospace_inflight = true;
    if (is_leader(svc))
        rv =
            store_raft_submit(svc->cfg.raft, STORE_CMD_ALARM, 0, buf, len, on_nospace_applied, svc);
    else
        rv = send_to_leader(svc, ALARM_METHOD, buf, len, on_nospace_sent);
    if (rv != 0)
        svc->nospace_inflight = false;
}

/* ---- Status extras ---- */

void store_maint_fill_status(struct store_maint_service *svc, Etcdserverpb__StatusResponse *resp,
                             char (*storage)[128], char **ptrs, size_t max)
{
    Etcdserverpb__AlarmRequest get = ETCDSERVERPB__ALARM_REQUEST__INIT;
    struct store_mvcc_result res = {0};
    struct store_maint_member rec;
    size_t n = 0;

    if (svc == NULL)
        return;
    if ((svc->cfg.raft == NULL || store_raft_leader(svc->cfg.raft, NULL) == 0) && n < max)
        snprintf(storage[n++], 128, "etcdserver: no leader");
    get.action = ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__GET;
    get.alarm = ETCDSERVERPB__ALARM_TYPE__NONE;
    if (store_mvcc_begin_batch(svc->cfg.mvcc) == 0) {
        if (store_mvcc_apply(svc->cfg.mvcc, &get.base, &res) == 0 && res.err == 0 && res.resp) {
            const Etcdserverpb__AlarmResponse *ar = (const void *)res.resp;
            for (size_t i = 0; i < ar->n_alarms && n < max; i++) {
                const char *type =
                    ar->alarms[i]->alarm == ETCDSERVERPB__ALARM_TYPE__NOSPACE   ? "NOSPACE"
                    : ar->alarms[i]->alarm == ETCDSERVERPB__ALARM_TYPE__CORRUPT ? "CORRUPT"
                                                                                : "NONE";
                snprintf(storage[n++], 128, "memberID:%" PRIu64 " alarm:%s ",
                         ar->alarms[i]->memberid, type);
            }
        }
        store_mvcc_result_free(&res);
        store_mvcc_abort_batch(svc->cfg.mvcc);
    }
    for (size_t i = 0; i < n; i++)
        ptrs[i] = storage[i];
    resp->n_errors = n;
    resp->errors = n ? ptrs : NULL;
    resp->islearner =
        store_maint_record_get(svc->cfg.mvcc, svc->cfg.member_id, &rec) == 0 && rec.learner;
}

/* ---- the removal watch ---- */

/*
 * A member removed from the cluster stops, as etcd's does ("the member has
 * been permanently removed from the cluster"). libraft stops replicating to
 * a removed server, so it may never apply its own removal (and a
 * configuration without it may also be one not yet committed); instead a member
 * that has been in the configuration and has had no leader for
 * REMOVAL_PROBE_MS asks the other members for their member list, one at a
 * time, and stops once one of them answers without it.
 */
#define REMOVAL_PROBE_MS 3000

static void removed(struct store_maint_service *svc, const char *how)
{
    if (svc->removed)
        return;
    svc->removed = true;
    k8c_log_error("the member has been permanently removed from the cluster (%s); stopping "
                  "member=%" PRIx64,
                  how, svc->cfg.member_id);
    if (svc->cfg.on_removed != NULL)
        svc->cfg.on_removed();
}

static void on_probe_done(int status, const char *message, const ProtobufCMessage *response,
                          void *arg)
{
    struct probe *p = arg;
    struct store_maint_service *svc = p->svc;
    k8c_free(p);
    if (svc == NULL)
        return;
    svc->probe = NULL;
    if (status != K8C_GRPC_OK || response == NULL)
        return;
    const Etcdserverpb__MemberListResponse *r = (const Etcdserverpb__MemberListResponse *)response;
    for (size_t i = 0; i < r->n_members; i++)
        if (r->members[i]->id == svc->cfg.member_id)
            return;
    removed(svc, "another member lists the cluster without it");
}

static void removal_tick(struct store_maint_service *svc)
{
    struct store_raft_member rm[MAX_MEMBERS];
    size_t n = store_raft_members(svc->cfg.raft, rm, MAX_MEMBERS);
    bool member = false;

    for (size_t i = 0; i < n && i < MAX_MEMBERS; i++)
        member |= rm[i].id == svc->cfg.member_id;
    if (member)
        svc->was_member = true;
    if (store_raft_leader(svc->cfg.raft, NULL) != 0 || !svc->was_member) {
        svc->no_leader_since = 0;
        return;
    }
    uint64_t now = uv_now(svc->cfg.loop);
    if (svc->no_leader_since == 0)
        svc->no_leader_since = now;
    if (now - svc->no_leader_since < REMOVAL_PROBE_MS || svc->probe != NULL)
        return;
    struct member_view *v = members_collect(svc, &n);
    size_t others = 0;
    for (size_t i = 0; i < n; i++)
        others += v[i].pb.id != svc->cfg.member_id;
    for (size_t i = 0, k = 0; i < n && others > 0; i++) {
        if (v[i].pb.id == svc->cfg.member_id || k++ != svc->probe_next % others)
            continue;
        struct k8c_grpc_channel *ch =
            svc->cfg.member_channel ? svc->cfg.member_channel(v[i].pb.id) : NULL;
        if (ch == NULL)
            break;
        Etcdserverpb__MemberListRequest req = ETCDSERVERPB__MEMBER_LIST_REQUEST__INIT;
        struct probe *p = K8C_NEW(struct probe);
        p->svc = svc;
        if (k8c_grpc_unary(ch, "/etcdserverpb.Cluster/MemberList", &req.base,
                           &etcdserverpb__member_list_response__descriptor, 2000, on_probe_done,
                           p) == 0)
            svc->probe = p;
        else
            k8c_free(p);
        break;
    }
    svc->probe_next++;
    k8c_free(v);
}

/* ---- life cycle ---- */

static void on_tick(uv_timer_t *t)
{
    struct store_maint_service *svc = t->data;
    if (svc->stopped || svc->cfg.raft == NULL)
        return;
    publish_tick(svc);
    promoter_tick(svc);
    removal_tick(svc);
}

struct store_maint_service *store_maint_service_new(const struct store_maint_service_config *cfg)
{
    struct store_maint_service *svc = K8C_NEW(struct store_maint_service);

    svc->cfg = *cfg;
    svc->name = k8c_strdup(cfg->name ? cfg->name : "");
    svc->client_urls = k8c_strdup(cfg->client_urls ? cfg->client_urls : "");
    svc->tmp_dir = k8c_strdup(cfg->tmp_dir ? cfg->tmp_dir : "/tmp");
    svc->peers = k8c_calloc(cfg->npeers ? cfg->npeers : 1, sizeof(*svc->peers));
    if (cfg->npeers)
        memcpy(svc->peers, cfg->peers, cfg->npeers * sizeof(*svc->peers));
    svc->cfg.name = svc->name;
    svc->cfg.client_urls = svc->client_urls;
    svc->cfg.tmp_dir = svc->tmp_dir;
    svc->cfg.peers = svc->peers;
    uv_timer_init(cfg->loop, &svc->tick);
    svc->tick.data = svc;
    uv_timer_start(&svc->tick, on_tick, 50, cfg->tick_ms ? cfg->tick_ms : 200);
    return svc;
}

int store_maint_service_register(struct store_maint_service *svc, struct k8c_grpc_server *srv)
{
    static const struct {
        const char *path;
        k8c_grpc_message_fn fn;
    } unary[] = {
        {"/etcdserverpb.Maintenance/Hash", on_hash},
        {"/etcdserverpb.Maintenance/HashKV", on_hash_kv},
        {"/etcdserverpb.Maintenance/Defragment", on_defragment},
        {"/etcdserverpb.Maintenance/MoveLeader", on_move_leader},
        {"/etcdserverpb.Cluster/MemberAdd", on_member_add},
        {"/etcdserverpb.Cluster/MemberRemove", on_member_remove},
        {"/etcdserverpb.Cluster/MemberUpdate", on_member_update},
        {"/etcdserverpb.Cluster/MemberPromote", on_member_promote},
        {"/etcdserverpb.Cluster/MemberList", on_member_list},
        {PUBLISH_METHOD, on_publish},
    };
    struct k8c_grpc_method m;
    int rv;

    for (size_t i = 0; i < sizeof(unary) / sizeof(unary[0]); i++) {
        memset(&m, 0, sizeof(m));
        m.path = unary[i].path;
        m.kind = K8C_GRPC_UNARY;
        m.on_request = unary[i].fn;
        m.on_cancel = on_cancel;
        m.arg = svc;
        if ((rv = k8c_grpc_server_register(srv, &m)) != 0)
            return rv;
    }
    memset(&m, 0, sizeof(m));
    m.path = "/etcdserverpb.Maintenance/Snapshot";
    m.kind = K8C_GRPC_SERVER_STREAMING;
    m.on_request = on_snapshot;
    m.on_cancel = on_snapshot_cancel;
    m.on_writable = on_snapshot_writable;
    m.arg = svc;
    return k8c_grpc_server_register(srv, &m);
}

void store_maint_service_stop(struct store_maint_service *svc)
{
    if (svc == NULL || svc->stopped)
        return;
    svc->stopped = true;
    svc->cfg.raft = NULL;
    uv_close((uv_handle_t *)&svc->tick, NULL);
    if (svc->probe != NULL) {
        svc->probe->svc = NULL;
        svc->probe = NULL;
    }
}

void store_maint_service_del(struct store_maint_service *svc)
{
    if (svc == NULL)
        return;
    while (svc->snaps) /* only streams whose calls are gone can be left */
        snap_free(svc->snaps);
    while (svc->ops)
        op_end(svc->ops);
    k8c_free(svc->name);
    k8c_free(svc->client_urls);
    k8c_free(svc->tmp_dir);
    k8c_free(svc->peers);
    k8c_free(svc);
}
