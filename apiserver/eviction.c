/*
 * pods/eviction: a delete that respects PodDisruptionBudgets, as upstream's
 * eviction REST does. The pod is read, the budgets of its namespace whose
 * selector matches it are found, and
 *   - with no budget, the pod is deleted;
 *   - with more than one, 500 (upstream refuses: "This pod has more than one
 *     PodDisruptionBudget, which the eviction subresource does not support.");
 *   - with one whose status.disruptionsAllowed is 0 (or that the disruption
 *     controller has not processed yet), 429 TooManyRequests with the
 *     DisruptionBudget cause;
 *   - otherwise disruptionsAllowed is decremented and the pod recorded in
 *     status.disruptedPods (compare-and-swap on the budget, so two evictions
 *     can never spend the same allowance), then the pod is deleted.
 * Deleting means the same as DELETE on the pod: a pod on a node gets its
 * grace period and a deletionTimestamp, an unscheduled pod goes at once.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/api/policy/v1/generated.pb-c.h"
#include "object.h"
#include "selector.h"
#include "server.h"

typedef K8s__Io__Api__Core__V1__Pod pod_t;
typedef K8s__Io__Api__Policy__V1__PodDisruptionBudget pdb_t;

struct evict_op {
    pod_t *pod;
    int64_t pod_rev;
    pdb_t *pdb;
    int64_t pdb_rev;
    char pdb_key[1024];
};

static void evict_op_free(void *arg)
{
    struct evict_op *op = arg;
    if (op->pod != NULL)
        api_obj_free(&op->pod->base);
    if (op->pdb != NULL)
        api_obj_free(&op->pdb->base);
    k8c_free(op);
}

static void done_deleting(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    if (!api_req_gone(req)) {
        if (res->err != 0)
            api_respond_store_error(req, res->err, res->errmsg);
        else
            api_respond_status(req, 201, "", "");
    }
    api_req_unref(req);
}

/* Deletes the pod as DELETE would. */
static void delete_pod(struct api_req *req)
{
    struct evict_op *op = req->op;
    pod_t *pod = op->pod;
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    api_req_ref(req);
    bool bound = pod->spec && pod->spec->nodename && pod->spec->nodename[0] != '\0';
    int64_t grace = pod->spec && pod->spec->has_terminationgraceperiodseconds
                        ? pod->spec->terminationgraceperiodseconds
                        : 30;
    if (!bound || grace <= 0) {
        api_etcd_delete(req->srv->etcd, key, op->pod_rev, done_deleting, req);
        return;
    }
    api_meta_t *m = api_obj_meta_ensure(&pod->base);
    if (m->deletiontimestamp == NULL) {
        m->deletiontimestamp = api_time_new(api_now() + grace);
        m->has_deletiongraceperiodseconds = true;
        m->deletiongraceperiodseconds = grace;
    }
    struct k8c_sbuf val;
    char errmsg[K8C_ERRMSG_SIZE];
    k8c_sbuf_init(&val);
    if (api_obj_encode_storage(req->res, &pod->base, &val, errmsg) != 0) {
        k8c_sbuf_free(&val);
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        api_req_unref(req);
        return;
    }
    api_etcd_update(req->srv->etcd, key, (const uint8_t *)val.data, val.len, op->pod_rev, 0,
                    done_deleting, req);
    k8c_sbuf_free(&val);
}

static void pdb_updated(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    if (!api_req_gone(req)) {
        if (res->err == K8C_ECONFLICT)
            api_respond_status(req, 429, "TooManyRequests",
                               "Cannot evict pod as it would violate the pod's disruption "
                               "budget: the budget changed, try again");
        else if (res->err != 0)
            api_respond_store_error(req, res->err, res->errmsg);
        else
            delete_pod(req);
    }
    api_req_unref(req);
}

static void spend_budget(struct api_req *req)
{
    struct evict_op *op = req->op;
    pdb_t *pdb = op->pdb;
    const struct api_resource *r = api_resource_find("policy", "v1", "poddisruptionbudgets");
    api_meta_t *pm = api_obj_meta(&pdb->base);
    if (pdb->status == NULL || !pdb->status->has_disruptionsallowed ||
        pdb->status->disruptionsallowed <= 0 ||
        (pm != NULL && pm->has_generation && pdb->status->observedgeneration < pm->generation)) {
        char msg[512];
        int32_t healthy = pdb->status ? pdb->status->currenthealthy : 0;
        int32_t desired = pdb->status ? pdb->status->desiredhealthy : 0;
        snprintf(msg, sizeof(msg),
                 "Cannot evict pod as it would violate the pod's disruption budget. The "
                 "disruption budget %s needs %d healthy pods and has %d currently",
                 pm && pm->name ? pm->name : "", desired, healthy);
        api_respond_status(req, 429, "TooManyRequests", msg);
        return;
    }
    pdb->status->disruptionsallowed--;
    K8s__Io__Api__Policy__V1__PodDisruptionBudgetStatus__DisruptedPodsEntry *e =
        k8c_malloc(sizeof(*e));
    k8s__io__api__policy__v1__pod_disruption_budget_status__disrupted_pods_entry__init(e);
    e->key = k8c_strdup(req->name);
    e->value = api_time_new(api_now());
    pdb->status->disruptedpods =
        k8c_realloc(pdb->status->disruptedpods, (pdb->status->n_disruptedpods + 1) * sizeof(e));
    pdb->status->disruptedpods[pdb->status->n_disruptedpods++] = e;
    struct k8c_sbuf val;
    char errmsg[K8C_ERRMSG_SIZE];
    k8c_sbuf_init(&val);
    if (api_obj_encode_storage(r, &pdb->base, &val, errmsg) != 0) {
        k8c_sbuf_free(&val);
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        return;
    }
    api_req_ref(req);
    api_etcd_update(req->srv->etcd, op->pdb_key, (const uint8_t *)val.data, val.len, op->pdb_rev, 0,
                    pdb_updated, req);
    k8c_sbuf_free(&val);
}

static void pdbs_listed(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct evict_op *op = req->op;
    const struct api_resource *r = api_resource_find("policy", "v1", "poddisruptionbudgets");
    size_t matched = 0;
    if (api_req_gone(req))
        goto out;
    if (res->err != 0) {
        api_respond_store_error(req, res->err, res->errmsg);
        goto out;
    }
    for (size_t i = 0; i < res->n; i++) {
        ProtobufCMessage *obj;
        char errmsg[K8C_ERRMSG_SIZE];
        if (api_obj_decode_storage(r, res->kvs[i].value, res->kvs[i].value_len,
                                   res->kvs[i].mod_revision, &obj, errmsg) != 0)
            continue;
        pdb_t *pdb = (pdb_t *)obj;
        struct api_label_selector sel;
        bool match = pdb->spec != NULL && pdb->spec->selector != NULL &&
                     api_labels_from_label_selector(pdb->spec->selector, &sel, errmsg) == 0 &&
                     !api_labels_empty(&sel) &&
                     api_labels_matches_meta(&sel, api_obj_meta(&op->pod->base));
        if (pdb->spec != NULL && pdb->spec->selector != NULL)
            api_labels_free(&sel);
        if (!match) {
            api_obj_free(obj);
            continue;
        }
        matched++;
        if (op->pdb != NULL)
            api_obj_free(&op->pdb->base);
        op->pdb = pdb;
        op->pdb_rev = res->kvs[i].mod_revision;
        snprintf(op->pdb_key, sizeof(op->pdb_key), "%.*s", (int)res->kvs[i].key_len,
                 res->kvs[i].key);
    }
    if (matched == 0)
        delete_pod(req);
    else if (matched > 1)
        api_respond_status(req, 500, "InternalError",
                           "This pod has more than one PodDisruptionBudget, which the eviction "
                           "subresource does not support.");
    else
        spend_budget(req);
out:
    api_req_unref(req);
}

static void pod_read(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct evict_op *op = req->op;
    char errmsg[K8C_ERRMSG_SIZE];
    if (api_req_gone(req))
        goto out;
    if (res->err != 0 || res->n == 0) {
        api_respond_store_error(req, res->err ? res->err : K8C_ENOTFOUND, res->errmsg);
        goto out;
    }
    ProtobufCMessage *obj;
    if (api_obj_decode_storage(req->res, res->kv->value, res->kv->value_len, res->kv->mod_revision,
                               &obj, errmsg) != 0) {
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        goto out;
    }
    op->pod = (pod_t *)obj;
    op->pod_rev = res->kv->mod_revision;
    /* A pod that already finished needs no budget (upstream's fast path). */
    const char *phase = op->pod->status ? op->pod->status->phase : NULL;
    if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) {
        delete_pod(req);
        goto out;
    }
    const struct api_resource *r = api_resource_find("policy", "v1", "poddisruptionbudgets");
    char prefix[1024], end[1024];
    api_key(req->srv, r, req->ns, "", prefix, sizeof(prefix));
    api_etcd_prefix_end(prefix, end, sizeof(end));
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, prefix, end, 0, 0, false, pdbs_listed, req);
out:
    api_req_unref(req);
}

void api_evict(struct api_req *req)
{
    K8s__Io__Api__Policy__V1__Eviction *ev = (K8s__Io__Api__Policy__V1__Eviction *)api_decode_body(
        req, &k8s__io__api__policy__v1__eviction__descriptor);
    if (ev == NULL)
        return;
    const char *name = ev->metadata && ev->metadata->name ? ev->metadata->name : "";
    if (name[0] != '\0' && strcmp(name, req->name) != 0) {
        api_respond_statusf(req, 400, "BadRequest",
                            "name in URL does not match name in Eviction object");
        api_obj_free(&ev->base);
        return;
    }
    api_obj_free(&ev->base);
    struct evict_op *op = K8C_NEW(struct evict_op);
    req->op = op;
    req->op_free = evict_op_free;
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, key, NULL, 0, 0, false, pod_read, req);
}
