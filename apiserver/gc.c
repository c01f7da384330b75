/*
 * Garbage collection of dependents (metadata.ownerReferences), what
 * upstream's garbage collector in kube-controller-manager does, run by the
 * API server until the controller manager exists (as namespace deletion is,
 * nsdelete.c):
 *   Background  once the owner is gone, its dependents are deleted (and
 *               theirs, in turn);
 *   Foreground  the owner stays, with a deletionTimestamp and the
 *               foregroundDeletion finalizer, while its dependents are
 *               deleted; when none is left the finalizer goes, and the owner;
 *   Orphan      the owner's reference is removed from every dependent, then
 *               the orphan finalizer, and the owner goes.
 * A pass reads every resource in the owner's namespace (every namespace for
 * a cluster-scoped owner) from the store and acts on the objects that name
 * the owner's uid. Writes are compare-and-swap on the revision read, so two
 * API servers doing the same work only make one of them retry. A pass that
 * lost a race or found dependents still going (finalizers of their own) runs
 * again a second later, GC_MAX_PASSES times at most; objects left with a
 * deletionTimestamp and one of the two finalizers (by a restart, or passes
 * running out) are picked up again by api_gc_resume at start.
 *
 * Which objects are owners at all is known from the ownership index: one
 * store watch on every key under the prefix (after a full read), as
 * upstream's collector builds its graph from informers. It keeps, per object
 * that has ownerReferences, the owner uids it names, and per owner uid how
 * many objects name it; a Background pass starts only for a deleted object
 * that owns something. An object written naming an owner deleted moments
 * before (the index had not seen it yet) is caught by a ring of recently
 * deleted uids.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "alloc.h"
#include "gc.h"
#include "log.h"
#include "object.h"
#include "svcalloc.h"

#define GC_MAX_PASSES 120
#define GC_RETRY_MS   1000
#define GC_RECENT     4096 /* recently deleted owners remembered */
#define GC_REWATCH_MS 1000

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__OwnerReference api_owner_ref_t;

struct gc_job {
    struct api_server *srv;
    const struct api_resource *res; /* the owner's */
    char ns[256], name[256], uid[64];
    enum api_gc_mode mode;
    size_t pending;    /* store calls of this pass not answered yet */
    size_t dependents; /* found in this pass (Foreground: those that block the owner) */
    bool retry;        /* a write lost a race or failed */
    int passes;
    uv_timer_t timer;
};

static void pass_start(struct gc_job *j);

static void job_closed(uv_handle_t *h)
{
    k8c_free(h->data);
}

static void job_end(struct gc_job *j)
{
    uv_close((uv_handle_t *)&j->timer, job_closed);
}

static void on_retry(uv_timer_t *t)
{
    pass_start(t->data);
}

/* The same job again in a second, unless it has run out of passes. */
static void job_again(struct gc_job *j)
{
    if (j->passes >= GC_MAX_PASSES) {
        k8c_log_warn("garbage collector: giving up for now owner=%s/%s/%s uid=%s", j->res->resource,
                     j->ns, j->name, j->uid);
        job_end(j);
        return;
    }
    uv_timer_start(&j->timer, on_retry, GC_RETRY_MS, 0);
}

void api_gc_start(struct api_server *srv, const struct api_resource *res, const char *ns,
                  const char *name, const char *uid, enum api_gc_mode mode)
{
    if (uid == NULL || uid[0] == '\0' || strcmp(res->resource, "namespaces") == 0)
        return; /* namespaces: nsdelete.c */
    if (mode == API_GC_BACKGROUND && !api_gc_is_owner(uid))
        return; /* nothing names it */
    struct gc_job *j = K8C_NEW(struct gc_job);
    j->srv = srv;
    j->res = res;
    snprintf(j->ns, sizeof(j->ns), "%s", ns ? ns : "");
    snprintf(j->name, sizeof(j->name), "%s", name);
    snprintf(j->uid, sizeof(j->uid), "%s", uid);
    j->mode = mode;
    uv_timer_init(srv->loop, &j->timer);
    j->timer.data = j;
    pass_start(j);
}

/* ---- one store call of a pass ---- */

struct gc_call {
    struct gc_job *j;
    const struct api_resource *res;
    char key[1024];
    char name[256], ns[256], uid[64];
    ProtobufCMessage *obj; /* a service being deleted: its allocations to release */
};

static void pass_done(struct gc_job *j);

static void call_done(struct gc_call *c)
{
    struct gc_job *j = c->j;
    api_obj_free(c->obj);
    k8c_free(c);
    if (--j->pending == 0)
        pass_done(j);
}

static void on_written(void *arg, const struct api_etcd_result *res)
{
    struct gc_call *c = arg;
    if (res->err != 0 && res->err != K8C_ENOTFOUND)
        c->j->retry = true;
    call_done(c);
}

static void on_dependent_deleted(void *arg, const struct api_etcd_result *res)
{
    struct gc_call *c = arg;
    if (res->err == 0) {
        k8c_log_info("garbage collector: deleted %s/%s/%s (owner %s/%s uid=%s)", c->res->resource,
                     c->ns, c->name, c->j->res->resource, c->j->name, c->j->uid);
        if (c->obj != NULL && strcmp(c->res->resource, "services") == 0)
            api_alloc_release_service(c->j->srv, c->obj);
        /* Its own dependents go too (Background). */
        api_gc_start(c->j->srv, c->res, c->ns, c->name, c->uid, API_GC_BACKGROUND);
    } else if (res->err != K8C_ENOTFOUND) {
        c->j->retry = true;
    }
    call_done(c);
}

/*
 * The storage encoding of obj with entry `at` of one of its pointer arrays
 * (ownerReferences, finalizers: arr, *n entries) left out, into a new *out:
 * the entry is swapped last and one fewer encoded, so the message keeps
 * owning it and frees it with the rest. 0 or the encoder's error.
 */
static int encode_without(const struct api_resource *r, ProtobufCMessage *obj, void *arr, size_t *n,
                          size_t at, struct k8c_sbuf *out, char *errmsg)
{
    char *a = arr, *last = a + (*n - 1) * sizeof(void *), *t[1];
    memcpy(t, a + at * sizeof(void *), sizeof(void *));
    memcpy(a + at * sizeof(void *), last, sizeof(void *));
    memcpy(last, t, sizeof(void *));
    (*n)--;
    k8c_sbuf_init(out);
    int rc = api_obj_encode_storage(r, obj, out, errmsg);
    (*n)++;
    return rc;
}

/* Stores val (encoded with result rc) at c->key if it is still at rev. */
static void update_dependent(struct gc_call *c, struct k8c_sbuf *val, int rc, const char *errmsg,
                             int64_t rev)
{
    if (rc != 0) {
        k8c_log_error("garbage collector: cannot encode %s err=\"%s\"", c->key, errmsg);
        c->j->retry = true;
        call_done(c);
    } else {
        api_etcd_update(c->j->srv->etcd, c->key, (const uint8_t *)val->data, val->len, rev, 0,
                        on_written, c);
    }
    k8c_sbuf_free(val);
}

/* key: len bytes, not NUL-terminated (a store key) */
static struct gc_call *call_new(struct gc_job *j, const struct api_resource *r, const char *key,
                                size_t len)
{
    struct gc_call *c = K8C_NEW(struct gc_call);
    c->j = j;
    c->res = r;
    snprintf(c->key, sizeof(c->key), "%.*s", (int)len, key);
    j->pending++;
    return c;
}

/* Index of the reference to the job's owner in m, or -1. */
static ssize_t owner_ref(const struct gc_job *j, const api_meta_t *m)
{
    for (size_t i = 0; m != NULL && i < m->n_ownerreferences; i++)
        if (m->ownerreferences[i]->uid != NULL && strcmp(m->ownerreferences[i]->uid, j->uid) == 0)
            return (ssize_t)i;
    return -1;
}

/* One dependent of the job's owner, read at rev. */
static void dependent(struct gc_job *j, const struct api_resource *r, const struct api_etcd_kv *kv,
                      ProtobufCMessage *obj, api_meta_t *m, size_t ref)
{
    struct gc_call *c = call_new(j, r, kv->key, kv->key_len);
    int64_t rev = kv->mod_revision;
    snprintf(c->name, sizeof(c->name), "%s", m->name ? m->name : "");
    snprintf(c->ns, sizeof(c->ns), "%s", m->namespace_ ? m->namespace_ : "");
    snprintf(c->uid, sizeof(c->uid), "%s", m->uid ? m->uid : "");
    /* A foreground owner waits for the dependents that block it (upstream:
     * ownerReferences[].blockOwnerDeletion); the others go without waiting. */
    const api_owner_ref_t *o = m->ownerreferences[ref];
    if (j->mode != API_GC_FOREGROUND || (o->has_blockownerdeletion && o->blockownerdeletion))
        j->dependents++;
    struct k8c_sbuf val;
    char errmsg[K8C_ERRMSG_SIZE] = "";
    int rc;
    if (j->mode == API_GC_ORPHAN) { /* drop the reference */
        rc = encode_without(r, obj, m->ownerreferences, &m->n_ownerreferences, ref, &val, errmsg);
        api_obj_free(obj);
        update_dependent(c, &val, rc, errmsg, rev);
        return;
    }
    if (m->deletiontimestamp != NULL) {
        /* Already going (its finalizers are at work): wait for it. */
        j->retry = j->mode == API_GC_BACKGROUND ? j->retry : true;
        api_obj_free(obj);
        call_done(c);
        return;
    }
    if (m->n_finalizers > 0) {
        /* Mark it; it goes when its finalizers are done. */
        m->deletiontimestamp = api_time_new(api_now());
        m->has_deletiongraceperiodseconds = true;
        m->deletiongraceperiodseconds = 0;
        j->retry = j->retry || j->mode == API_GC_FOREGROUND;
        k8c_sbuf_init(&val);
        rc = api_obj_encode_storage(r, obj, &val, errmsg);
        api_obj_free(obj);
        update_dependent(c, &val, rc, errmsg, rev);
        return;
    }
    c->obj = obj;
    api_etcd_delete(j->srv->etcd, c->key, rev, on_dependent_deleted, c);
}

static void on_listed(void *arg, const struct api_etcd_result *res)
{
    struct gc_call *c = arg;
    struct gc_job *j = c->j;
    if (res->err != 0) {
        j->retry = true;
        call_done(c);
        return;
    }
    for (size_t i = 0; i < res->n; i++) {
        ProtobufCMessage *obj;
        char errmsg[K8C_ERRMSG_SIZE];
        if (api_obj_decode_storage(c->res, res->kvs[i].value, res->kvs[i].value_len,
                                   res->kvs[i].mod_revision, &obj, errmsg) != 0)
            continue;
        api_meta_t *m = api_obj_meta(obj);
        ssize_t ref = owner_ref(j, m);
        if (ref < 0 || (m->uid != NULL && strcmp(m->uid, j->uid) == 0)) {
            api_obj_free(obj);
            continue;
        }
        dependent(j, c->res, &res->kvs[i], obj, m, (size_t)ref);
    }
    call_done(c);
}

/* Whether rs[i] has storage and is the first entry with it (a resource can
 * be served under several groups, events for one). */
static bool storage_first(const struct api_resource *rs, size_t i)
{
    if (rs[i].storage[0] == '\0')
        return false;
    for (size_t k = 0; k < i; k++)
        if (strcmp(rs[k].storage, rs[i].storage) == 0)
            return false;
    return true;
}

/* Lists every resource the owner's dependents may be in. */
static void pass_start(struct gc_job *j)
{
    size_t n;
    const struct api_resource *rs = api_resources(&n);
    j->passes++;
    j->dependents = 0;
    j->retry = false;
    j->pending = 1;
    for (size_t i = 0; i < n; i++) {
        const struct api_resource *r = &rs[i];
        if (!storage_first(rs, i) || (j->res->namespaced && !r->namespaced))
            continue;
        char prefix[1024], end[1024];
        api_key(j->srv, r, j->res->namespaced ? j->ns : NULL, "", prefix, sizeof(prefix));
        api_etcd_prefix_end(prefix, end, sizeof(end));
        struct gc_call *c = call_new(j, r, prefix, strlen(prefix));
        api_etcd_range(j->srv->etcd, prefix, end, 0, 0, false, on_listed, c);
    }
    if (--j->pending == 0)
        pass_done(j);
}

/* ---- the owner's finalizer ---- */

static void on_owner_written(void *arg, const struct api_etcd_result *res)
{
    struct gc_job *j = arg;
    if (res->err == K8C_ECONFLICT) {
        job_again(j);
        return;
    }
    if (res->err != 0 && res->err != K8C_ENOTFOUND)
        k8c_log_error("garbage collector: cannot finish owner %s/%s/%s err=\"%s\"",
                      j->res->resource, j->ns, j->name, res->errmsg);
    else
        k8c_log_info("garbage collector: %s done for %s/%s/%s",
                     j->mode == API_GC_ORPHAN ? "orphaning" : "foreground deletion",
                     j->res->resource, j->ns, j->name);
    job_end(j);
}

/* Removes the job's finalizer from the owner; the owner goes with its last. */
static void on_owner_read(void *arg, const struct api_etcd_result *res)
{
    struct gc_job *j = arg;
    const char *fin = j->mode == API_GC_ORPHAN ? "orphan" : "foregroundDeletion";
    ProtobufCMessage *obj = NULL;
    char errmsg[K8C_ERRMSG_SIZE], key[1024];
    if (res->err != 0 || res->kv == NULL ||
        api_obj_decode_storage(j->res, res->kv->value, res->kv->value_len, res->kv->mod_revision,
                               &obj, errmsg) != 0) {
        if (res->err != 0 && res->err != K8C_ENOTFOUND) {
            job_again(j);
            return;
        }
        job_end(j); /* gone already */
        return;
    }
    api_meta_t *m = api_obj_meta(obj);
    size_t at = m ? m->n_finalizers : 0;
    for (size_t i = 0; m != NULL && i < m->n_finalizers; i++)
        if (strcmp(m->finalizers[i], fin) == 0)
            at = i;
    if (m == NULL || m->uid == NULL || strcmp(m->uid, j->uid) != 0 || at == m->n_finalizers) {
        api_obj_free(obj); /* another object now, or done by someone else */
        job_end(j);
        return;
    }
    api_key(j->srv, j->res, j->ns, j->name, key, sizeof(key));
    if (m->n_finalizers == 1 && m->deletiontimestamp != NULL) {
        api_obj_free(obj);
        api_etcd_delete(j->srv->etcd, key, res->kv->mod_revision, on_owner_written, j);
        return;
    }
    struct k8c_sbuf val;
    int rc = encode_without(j->res, obj, m->finalizers, &m->n_finalizers, at, &val, errmsg);
    api_obj_free(obj);
    if (rc != 0) {
        k8c_sbuf_free(&val);
        job_end(j);
        return;
    }
    api_etcd_update(j->srv->etcd, key, (const uint8_t *)val.data, val.len, res->kv->mod_revision, 0,
                    on_owner_written, j);
    k8c_sbuf_free(&val);
}

static void pass_done(struct gc_job *j)
{
    bool finished = j->mode == API_GC_FOREGROUND ? j->dependents == 0 : !j->retry;
    if (!finished) {
        job_again(j);
        return;
    }
    if (j->mode == API_GC_BACKGROUND) {
        job_end(j);
        return;
    }
    char key[1024];
    api_key(j->srv, j->res, j->ns, j->name, key, sizeof(key));
    api_etcd_range(j->srv->etcd, key, NULL, 0, 0, false, on_owner_read, j);
}

/* ---- the ownership index ---- */

/* A string-keyed open-addressing table; values are counts or pointers. */
struct smap_slot {
    char *k; /* NULL: empty; TOMB: deleted */
    uintptr_t v;
};
struct smap {
    struct smap_slot *s;
    size_t cap, used; /* used counts tombstones too */
};
static char tomb_mark;
#define TOMB (&tomb_mark)

static uint64_t str_hash(const char *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *k; k++)
        h = (h ^ (uint8_t)*k) * 1099511628211ULL;
    return h;
}

static struct smap_slot *smap_find(struct smap *m, const char *k)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = str_hash(k) & (m->cap - 1), n = 0; n < m->cap;
         i = (i + 1) & (m->cap - 1), n++) {
        if (m->s[i].k == NULL)
            return NULL;
        if (m->s[i].k != TOMB && strcmp(m->s[i].k, k) == 0)
            return &m->s[i];
    }
    return NULL;
}

static struct smap_slot *smap_put(struct smap *m, const char *k);

static void smap_grow(struct smap *m)
{
    struct smap old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->s = k8c_calloc(m->cap, sizeof(*m->s));
    m->used = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.s[i].k != NULL && old.s[i].k != TOMB) {
            struct smap_slot *t = smap_put(m, old.s[i].k);
            k8c_free(t->k);
            t->k = old.s[i].k;
            t->v = old.s[i].v;
        }
    k8c_free(old.s);
}

/* The slot of k, added (value 0, key copied) if absent. */
static struct smap_slot *smap_put(struct smap *m, const char *k)
{
    struct smap_slot *f = smap_find(m, k);
    if (f != NULL)
        return f;
    if ((m->used + 1) * 2 > m->cap)
        smap_grow(m);
    size_t i = str_hash(k) & (m->cap - 1);
    while (m->s[i].k != NULL && m->s[i].k != TOMB)
        i = (i + 1) & (m->cap - 1);
    if (m->s[i].k == NULL)
        m->used++;
    m->s[i].k = k8c_strdup(k);
    m->s[i].v = 0;
    return &m->s[i];
}

static void smap_del(struct smap_slot *slot)
{
    k8c_free(slot->k);
    slot->k = TOMB;
    slot->v = 0;
}

static void smap_clear(struct smap *m, void (*free_v)(uintptr_t))
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->s[i].k != NULL && m->s[i].k != TOMB) {
            if (free_v != NULL)
                free_v(m->s[i].v);
            k8c_free(m->s[i].k);
        }
    k8c_free(m->s);
    *m = (struct smap){0};
}

/* The owner uids one object names (an smap value). */
struct refs {
    size_t n;
    char *uid[];
};

static void refs_free(uintptr_t v)
{
    struct refs *r = (struct refs *)v;
    for (size_t i = 0; r != NULL && i < r->n; i++)
        k8c_free(r->uid[i]);
    k8c_free(r);
}

struct recent_owner {
    const struct api_resource *res;
    char uid[64], ns[256], name[256];
};

static struct {
    struct api_server *srv;
    struct api_etcd_watch *watch;
    uv_timer_t rewatch;
    bool started, stopping, synced;
    struct smap by_key;   /* object key -> struct refs * */
    struct smap by_owner; /* owner uid -> objects naming it */
    struct recent_owner recent[GC_RECENT];
    size_t nrecent;
} gi;

/* The resource whose keys key belongs to (the longest storage prefix). */
static const struct api_resource *resource_of_key(const char *key, size_t len)
{
    size_t n, plen = strlen(gi.srv->prefix), best_len = 0;
    const struct api_resource *rs = api_resources(&n), *best = NULL;
    if (len <= plen + 1 || memcmp(key, gi.srv->prefix, plen) != 0 || key[plen] != '/')
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t sl = strlen(rs[i].storage);
        if (sl > best_len && len > plen + 1 + sl &&
            memcmp(key + plen + 1, rs[i].storage, sl) == 0 && key[plen + 1 + sl] == '/') {
            best = &rs[i];
            best_len = sl;
        }
    }
    return best;
}

static void index_drop(const char *key)
{
    struct smap_slot *k = smap_find(&gi.by_key, key);
    if (k == NULL)
        return;
    struct refs *r = (struct refs *)k->v;
    for (size_t i = 0; i < r->n; i++) {
        struct smap_slot *o = smap_find(&gi.by_owner, r->uid[i]);
        if (o != NULL && --o->v == 0)
            smap_del(o);
    }
    refs_free(k->v);
    smap_del(k);
}

/* A recently deleted owner with this uid, or NULL. */
static const struct recent_owner *recent_find(const char *uid)
{
    size_t n = gi.nrecent < GC_RECENT ? gi.nrecent : GC_RECENT;
    for (size_t i = 0; i < n; i++)
        if (strcmp(gi.recent[i].uid, uid) == 0)
            return &gi.recent[i];
    return NULL;
}

/* The object at key now has value (NULL: deleted, its last value prev). */
static void index_event(const struct api_etcd_kv *kv, const struct api_etcd_kv *prev, bool deleted)
{
    char key[1024];
    const struct api_etcd_kv *v = deleted ? prev : kv;
    if (kv->key_len >= sizeof(key))
        return;
    memcpy(key, kv->key, kv->key_len);
    key[kv->key_len] = '\0';
    index_drop(key);
    const struct api_resource *r = resource_of_key(key, kv->key_len);
    ProtobufCMessage *obj;
    char errmsg[K8C_ERRMSG_SIZE];
    if (r == NULL || v == NULL ||
        api_obj_decode_storage(r, v->value, v->value_len, v->mod_revision, &obj, errmsg) != 0)
        return;
    api_meta_t *m = api_obj_meta(obj);
    if (m == NULL) {
        api_obj_free(obj);
        return;
    }
    if (deleted) {
        if (m->uid != NULL && m->name != NULL) {
            struct recent_owner *o = &gi.recent[gi.nrecent++ % GC_RECENT];
            o->res = r;
            snprintf(o->uid, sizeof(o->uid), "%s", m->uid);
            snprintf(o->ns, sizeof(o->ns), "%s", m->namespace_ ? m->namespace_ : "");
            snprintf(o->name, sizeof(o->name), "%s", m->name);
        }
        api_obj_free(obj);
        return;
    }
    if (m->n_ownerreferences > 0) {
        struct refs *refs = k8c_calloc(1, sizeof(*refs) + m->n_ownerreferences * sizeof(char *));
        for (size_t i = 0; i < m->n_ownerreferences; i++) {
            const char *uid = m->ownerreferences[i]->uid;
            if (uid == NULL || uid[0] == '\0')
                continue;
            refs->uid[refs->n++] = k8c_strdup(uid);
            smap_put(&gi.by_owner, uid)->v++;
            const struct recent_owner *o = gi.synced ? recent_find(uid) : NULL;
            if (o != NULL) /* its owner went before the index knew of it */
                api_gc_start(gi.srv, o->res, o->ns, o->name, o->uid, API_GC_BACKGROUND);
        }
        smap_put(&gi.by_key, key)->v = (uintptr_t)refs;
    }
    api_obj_free(obj);
}

bool api_gc_is_owner(const char *uid)
{
    /* Until the index is built, every object may be an owner. */
    return !gi.synced || (uid != NULL && smap_find(&gi.by_owner, uid) != NULL);
}

static void index_start(void);

static void on_rewatch(uv_timer_t *t)
{
    index_start();
}

static void on_index_event(void *arg, int type, const struct api_etcd_kv *kv,
                           const struct api_etcd_kv *prev_kv, int64_t revision)
{
    if (kv != NULL)
        index_event(kv, prev_kv, type == MVCCPB__EVENT__EVENT_TYPE__DELETE);
}

static void on_index_watch_done(void *arg, int err, const char *errmsg, int64_t rev)
{
    gi.watch = NULL;
    gi.synced = false;
    if (gi.stopping)
        return;
    k8c_log_warn("garbage collector: index watch ended; rebuilding err=\"%s\"",
                 errmsg ? errmsg : "");
    uv_timer_start(&gi.rewatch, on_rewatch, GC_REWATCH_MS, 0);
}

static void on_index_listed(void *arg, const struct api_etcd_result *res)
{
    char end[1024], prefix[1024];
    if (gi.stopping)
        return;
    if (res->err != 0) {
        uv_timer_start(&gi.rewatch, on_rewatch, GC_REWATCH_MS, 0);
        return;
    }
    smap_clear(&gi.by_key, refs_free);
    smap_clear(&gi.by_owner, NULL);
    for (size_t i = 0; i < res->n; i++)
        index_event(&res->kvs[i], NULL, false);
    gi.synced = true;
    snprintf(prefix, sizeof(prefix), "%s/", gi.srv->prefix);
    api_etcd_prefix_end(prefix, end, sizeof(end));
    gi.watch = api_etcd_watch(gi.srv->etcd, prefix, end, res->rev + 1, true, false, on_index_event,
                              on_index_watch_done, NULL);
    if (gi.watch == NULL) {
        gi.synced = false;
        uv_timer_start(&gi.rewatch, on_rewatch, GC_REWATCH_MS, 0);
    }
}

static void index_start(void)
{
    char prefix[1024], end[1024];
    snprintf(prefix, sizeof(prefix), "%s/", gi.srv->prefix);
    api_etcd_prefix_end(prefix, end, sizeof(end));
    api_etcd_range(gi.srv->etcd, prefix, end, 0, 0, false, on_index_listed, NULL);
}

void api_gc_index_start(struct api_server *srv)
{
    if (gi.started)
        return;
    gi.started = true;
    gi.srv = srv;
    uv_timer_init(srv->loop, &gi.rewatch);
    index_start();
}

void api_gc_shutdown(struct api_server *srv)
{
    if (!gi.started || gi.stopping)
        return;
    gi.stopping = true;
    uv_timer_stop(&gi.rewatch);
    uv_close((uv_handle_t *)&gi.rewatch, NULL);
    if (gi.watch != NULL)
        api_etcd_watch_cancel(gi.watch);
    smap_clear(&gi.by_key, refs_free);
    smap_clear(&gi.by_owner, NULL);
}

/* ---- resuming after a restart ---- */

struct gc_scan {
    struct api_server *srv;
    const struct api_resource *res;
};

static void on_scanned(void *arg, const struct api_etcd_result *res)
{
    struct gc_scan *s = arg;
    for (size_t i = 0; res->err == 0 && i < res->n; i++) {
        ProtobufCMessage *obj;
        char errmsg[K8C_ERRMSG_SIZE];
        if (api_obj_decode_storage(s->res, res->kvs[i].value, res->kvs[i].value_len,
                                   res->kvs[i].mod_revision, &obj, errmsg) != 0)
            continue;
        api_meta_t *m = api_obj_meta(obj);
        if (m != NULL && m->deletiontimestamp != NULL && m->name != NULL) {
            if (api_meta_has_finalizer(m, "foregroundDeletion"))
                api_gc_start(s->srv, s->res, m->namespace_, m->name, m->uid, API_GC_FOREGROUND);
            else if (api_meta_has_finalizer(m, "orphan"))
                api_gc_start(s->srv, s->res, m->namespace_, m->name, m->uid, API_GC_ORPHAN);
        }
        api_obj_free(obj);
    }
    k8c_free(s);
}

void api_gc_resume(struct api_server *srv)
{
    size_t n;
    const struct api_resource *rs = api_resources(&n);
    for (size_t i = 0; i < n; i++) {
        if (!storage_first(rs, i))
            continue;
        struct gc_scan *s = K8C_NEW(struct gc_scan);
        s->srv = srv;
        s->res = &rs[i];
        char prefix[1024], end[1024];
        api_key(srv, &rs[i], NULL, "", prefix, sizeof(prefix));
        api_etcd_prefix_end(prefix, end, sizeof(end));
        api_etcd_range(srv->etcd, prefix, end, 0, 0, false, on_scanned, s);
    }
}
