/*
 * pods/eviction: a delete that respects PodDisruptionBudgets, as upstream's
 * eviction REST (pkg/registry/core/pod/storage/eviction.go) does:
 *   - a pod that is Pending, Succeeded or Failed, or already being deleted,
 *     is deleted without looking at budgets;
 *   - else the budgets of its namespace whose selector matches it are read:
 *     none, the pod is deleted; more than one, 500 ("This pod has more than
 *     one PodDisruptionBudget, which the eviction subresource does not
 *     support.");
 *   - with one, an unready pod is deleted without spending the budget when
 *     the budget says unhealthyPodEvictionPolicy AlwaysAllow, or when it has
 *     its desired healthy pods (IfHealthyBudget, the default);
 *   - else the budget is checked and decremented (checkAndDecrement): not yet
 *     processed by the disruption controller (observedGeneration behind), 429
 *     with Retry-After 10; disruptionsAllowed negative or too many disrupted
 *     pods, 403; none allowed, 429; otherwise disruptionsAllowed goes down by
 *     one, the pod is recorded in status.disruptedPods (compare-and-swap on
 *     the budget, retried on conflicts, so two evictions never spend the same
 *     allowance), and the pod is deleted.
 * Deleting means what DELETE on the pod means, with the Eviction's
 * deleteOptions (gracePeriodSeconds, preconditions): a pod on a node gets its
 * grace period, a deletionTimestamp and the DisruptionTarget condition
 * (EvictionByEvictionAPI); an unscheduled pod goes at once. dryRun (in the
 * query or in deleteOptions) goes through every check and writes nothing.
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
    bool dry_run;
    bool has_grace;
    int64_t grace;
    char *uid, *rv; /* deleteOptions.preconditions */
    int attempts;   /* budget writes that lost a race */
};

static void evict_op_free(void *arg)
{
    struct evict_op *op = arg;
    if (op->pod != NULL)
        api_obj_free(&op->pod->base);
    if (op->pdb != NULL)
        api_obj_free(&op->pdb->base);
    k8c_free(op->uid);
    k8c_free(op->rv);
    k8c_free(op);
}

/* upstream's EvictionsRetry: 5 attempts at the budget */
#define EVICTION_ATTEMPTS 5
/* upstream's MaxDisruptedPodSize */
#define MAX_DISRUPTED_PODS 2000

static void evict_success(struct api_req *req)
{
    /* &metav1.Status{Status: Success}, given code 201 by the create handler */
    api_respond_status_cause(req, 201, NULL, NULL, NULL, NULL, 0);
}

static void done_deleting(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    if (!api_req_gone(req)) {
        if (res->err != 0)
            api_respond_store_error(req, res->err, res->errmsg);
        else
            evict_success(req);
    }
    api_req_unref(req);
}

/* createTooManyRequestsError: the budget cannot be read as it is now. */
static void respond_budget_busy(struct api_req *req, const char *pdb_name)
{
    char cause[512];
    snprintf(cause, sizeof(cause),
             "The disruption budget %s is still being processed by the server.", pdb_name);
    api_respond_status_cause(req, 429, "TooManyRequests",
                             "Cannot evict pod as it would violate the pod's disruption budget.",
                             "DisruptionBudget", cause, 10);
}

/* Deletes the pod as DELETE would, with the Eviction's options. */
static void delete_pod(struct api_req *req)
{
    struct evict_op *op = req->op;
    pod_t *pod = op->pod;
    api_meta_t *m = api_obj_meta_ensure(&pod->base);
    const char *uid = m->uid ? m->uid : "";
    char rv[24];
    snprintf(rv, sizeof(rv), "%lld", (long long)op->pod_rev);
    /* the deleteOptions' preconditions, as addConditionAndDeletePod words them */
    const struct {
        const char *want, *have, *what, *then;
    } pre[] = {{op->uid, uid, "UID", "deleted and then recreated"},
               {op->rv, rv, "ResourceVersion", "modified"}};
    for (size_t i = 0; i < 2; i++) {
        if (pre[i].want == NULL || pre[i].want[0] == '\0' || strcmp(pre[i].want, pre[i].have) == 0)
            continue;
        api_respond_statusf(req, 409, "Conflict",
                            "Operation cannot be fulfilled on Pod \"%s\": the %s in the "
                            "precondition (%s) does not match the %s in record (%s). The object "
                            "might have been %s",
                            req->name, pre[i].what, pre[i].want, pre[i].what, pre[i].have,
                            pre[i].then);
        return;
    }
    if (op->dry_run) {
        evict_success(req);
        return;
    }
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    bool bound = pod->spec && pod->spec->nodename && pod->spec->nodename[0] != '\0';
    int64_t grace = op->has_grace ? op->grace
                    : pod->spec && pod->spec->has_terminationgraceperiodseconds
                        ? pod->spec->terminationgraceperiodseconds
                        : 30;
    api_req_ref(req);
    if (!bound || grace <= 0) {
        api_etcd_delete(req->srv->etcd, key, op->pod_rev, done_deleting, req);
        return;
    }
    if (m->deletiontimestamp == NULL) {
        m->deletiontimestamp = api_time_new(api_now() + grace);
        m->has_deletiongraceperiodseconds = true;
        m->deletiongraceperiodseconds = grace;
    }
    K8s__Io__Api__Core__V1__PodCondition *c = api_pod_condition(pod, "DisruptionTarget");
    if (c->status == NULL || strcmp(c->status, "True") != 0 || c->lasttransitiontime == NULL) {
        if (c->lasttransitiontime != NULL)
            api_obj_free(&c->lasttransitiontime->base);
        c->lasttransitiontime = api_time_new(api_now());
    }
    api_set_str(&c->status, "True");
    api_set_str(&c->reason, "EvictionByEvictionAPI");
    api_set_str(&c->message, "Eviction API: evicting");
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

static void read_pod(struct api_req *req);

static void pdb_updated(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct evict_op *op = req->op;
    if (!api_req_gone(req)) {
        if (res->err == K8C_ECONFLICT && ++op->attempts < EVICTION_ATTEMPTS) {
            read_pod(req); /* as upstream's RetryOnConflict, from the budget read again */
        } else if (res->err == K8C_ECONFLICT) {
            char msg[512];
            api_meta_t *pm = api_obj_meta(&op->pdb->base);
            snprintf(msg, sizeof(msg),
                     "Timeout: couldn't update PodDisruptionBudget \"%s\" due to conflicts",
                     pm && pm->name ? pm->name : "");
            api_respond_status_cause(req, 504, "Timeout", msg, NULL, NULL, 10);
        } else if (res->err != 0) {
            api_respond_store_error(req, res->err, res->errmsg);
        } else {
            delete_pod(req);
        }
    }
    api_req_unref(req);
}

/* The budget's DisruptionAllowed condition as pdbhelper.UpdateDisruptionAllowedCondition sets
 * it (apimeta.SetStatusCondition: the transition time changes with the status). */
static void set_disruption_allowed(K8s__Io__Api__Policy__V1__PodDisruptionBudgetStatus *st)
{
    bool allowed = st->disruptionsallowed > 0;
    K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__Condition *c = NULL;
    for (size_t i = 0; i < st->n_conditions && c == NULL; i++)
        if (st->conditions[i]->type && strcmp(st->conditions[i]->type, "DisruptionAllowed") == 0)
            c = st->conditions[i];
    if (c == NULL) {
        c = k8c_malloc(sizeof(*c));
        k8s__io__apimachinery__pkg__apis__meta__v1__condition__init(c);
        c->type = k8c_strdup("DisruptionAllowed");
        st->conditions = k8c_realloc(st->conditions, (st->n_conditions + 1) * sizeof(c));
        st->conditions[st->n_conditions++] = c;
    }
    const char *status = allowed ? "True" : "False";
    if (c->status == NULL || strcmp(c->status, status) != 0 || c->lasttransitiontime == NULL) {
        if (c->lasttransitiontime != NULL)
            api_obj_free(&c->lasttransitiontime->base);
        c->lasttransitiontime = api_time_new(api_now());
    }
    api_set_str(&c->status, status);
    api_set_str(&c->reason, allowed ? "SufficientPods" : "InsufficientPods");
    c->has_observedgeneration = true;
    c->observedgeneration = st->observedgeneration;
}

/* checkAndDecrement, then the write of the budget and the delete. */
static void spend_budget(struct api_req *req)
{
    struct evict_op *op = req->op;
    pdb_t *pdb = op->pdb;
    const struct api_resource *r = api_resource_find("policy", "v1", "poddisruptionbudgets");
    api_meta_t *pm = api_obj_meta_ensure(&pdb->base);
    const char *name = pm->name ? pm->name : "";
    if (pdb->status == NULL) {
        pdb->status = k8c_malloc(sizeof(*pdb->status));
        k8s__io__api__policy__v1__pod_disruption_budget_status__init(pdb->status);
    }
    K8s__Io__Api__Policy__V1__PodDisruptionBudgetStatus *st = pdb->status;
    char msg[512];
    if (st->observedgeneration < pm->generation) {
        respond_budget_busy(req, name);
        return;
    }
    if (st->disruptionsallowed < 0 || st->n_disruptedpods > MAX_DISRUPTED_PODS) {
        snprintf(msg, sizeof(msg), "poddisruptionbudget.policy \"%s\" is forbidden: %s", name,
                 st->disruptionsallowed < 0
                     ? "pdb disruptions allowed is negative"
                     : "DisruptedPods map too big - too many evictions not confirmed by PDB "
                       "controller");
        api_respond_status(req, 403, "Forbidden", msg);
        return;
    }
    if (st->disruptionsallowed == 0) {
        snprintf(msg, sizeof(msg),
                 "The disruption budget %s needs %d healthy pods and has %d currently", name,
                 st->desiredhealthy, st->currenthealthy);
        api_respond_status_cause(
            req, 429, "TooManyRequests",
            "Cannot evict pod as it would violate the pod's disruption budget.", "DisruptionBudget",
            msg, 0);
        return;
    }
    st->disruptionsallowed--;
    st->has_disruptionsallowed = true;
    if (st->disruptionsallowed == 0)
        set_disruption_allowed(st);
    if (op->dry_run) {
        delete_pod(req);
        return;
    }
    K8s__Io__Api__Policy__V1__PodDisruptionBudgetStatus__DisruptedPodsEntry *e = NULL;
    for (size_t i = 0; i < st->n_disruptedpods && e == NULL; i++)
        if (st->disruptedpods[i]->key && strcmp(st->disruptedpods[i]->key, req->name) == 0)
            e = st->disruptedpods[i];
    if (e == NULL) {
        e = k8c_malloc(sizeof(*e));
        k8s__io__api__policy__v1__pod_disruption_budget_status__disrupted_pods_entry__init(e);
        e->key = k8c_strdup(req->name);
        st->disruptedpods = k8c_realloc(st->disruptedpods, (st->n_disruptedpods + 1) * sizeof(e));
        st->disruptedpods[st->n_disruptedpods++] = e;
    } else if (e->value != NULL) {
        api_obj_free(&e->value->base);
    }
    e->value = api_time_new(api_now());
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

/* podutil.IsPodReady */
static bool pod_ready(const pod_t *pod)
{
    for (size_t i = 0; pod->status != NULL && i < pod->status->n_conditions; i++) {
        const K8s__Io__Api__Core__V1__PodCondition *c = pod->status->conditions[i];
        if (c->type && strcmp(c->type, "Ready") == 0)
            return c->status && strcmp(c->status, "True") == 0;
    }
    return false;
}

/* One budget covers the pod: an unready pod may go without spending it. */
static void with_budget(struct api_req *req)
{
    struct evict_op *op = req->op;
    pdb_t *pdb = op->pdb;
    if (!pod_ready(op->pod)) {
        const char *policy = pdb->spec ? pdb->spec->unhealthypodevictionpolicy : NULL;
        const K8s__Io__Api__Policy__V1__PodDisruptionBudgetStatus *st = pdb->status;
        if ((policy != NULL && strcmp(policy, "AlwaysAllow") == 0) ||
            (st != NULL && st->desiredhealthy > 0 && st->currenthealthy >= st->desiredhealthy)) {
            /* the delete carries the pod's resourceVersion as a precondition (it is a
             * compare-and-swap on the pod's revision here in any case) */
            delete_pod(req);
            return;
        }
    }
    spend_budget(req);
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
    if (op->pdb != NULL) { /* a retry reads the budgets again */
        api_obj_free(&op->pdb->base);
        op->pdb = NULL;
    }
    for (size_t i = 0; i < res->n; i++) {
        ProtobufCMessage *obj;
        char errmsg[K8C_ERRMSG_SIZE];
        if (api_obj_decode_storage(r, res->kvs[i].value, res->kvs[i].value_len,
                                   res->kvs[i].mod_revision, &obj, errmsg) != 0)
            continue;
        pdb_t *pdb = (pdb_t *)obj;
        /* metav1.LabelSelectorAsSelector: no selector matches nothing, an empty one every
         * pod, an invalid one nothing */
        struct api_label_selector sel;
        bool match = false;
        if (pdb->spec != NULL && pdb->spec->selector != NULL) {
            match = api_labels_from_label_selector(pdb->spec->selector, &sel, errmsg) == 0 &&
                    (api_labels_empty(&sel) ||
                     api_labels_matches_meta(&sel, api_obj_meta(&op->pod->base)));
            api_labels_free(&sel);
        }
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
    else if (matched > 1) /* a Status upstream returns, not an error: no reason */
        api_respond_status(req, 500, NULL,
                           "This pod has more than one PodDisruptionBudget, which the eviction "
                           "subresource does not support.");
    else
        with_budget(req);
out:
    api_req_unref(req);
}

/* canIgnorePDB: a pod that has not started or has finished, or is going already. */
static bool budget_ignored(const pod_t *pod)
{
    const char *phase = pod->status ? pod->status->phase : NULL;
    const api_meta_t *m = api_obj_meta((ProtobufCMessage *)&pod->base);
    return (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0 ||
                      strcmp(phase, "Pending") == 0)) ||
           (m != NULL && m->deletiontimestamp != NULL);
}

static void pod_read(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct evict_op *op = req->op;
    ProtobufCMessage *obj;
    if (api_req_gone(req) || (obj = api_read_found(req, res)) == NULL)
        goto out;
    if (op->pod != NULL)
        api_obj_free(&op->pod->base);
    op->pod = (pod_t *)obj;
    op->pod_rev = res->kv->mod_revision;
    if (budget_ignored(op->pod)) {
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

static void read_pod(struct api_req *req)
{
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, key, NULL, 0, 0, false, pod_read, req);
}

/* propagateDryRun: the query's dryRun and the Eviction's deleteOptions.dryRun, which must
 * agree when both are given. Answers and returns false when they do not. */
static bool eviction_dry_run(struct api_req *req,
                             const K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__DeleteOptions *o,
                             bool *dry)
{
    char q[64];
    const char *query = api_query(req, "dryRun", q, sizeof(q));
    size_t n = o != NULL ? o->n_dryrun : 0;
    *dry = req->dry_run || n > 0;
    if (query == NULL || n == 0 || (n == 1 && strcmp(o->dryrun[0], query) == 0))
        return true;
    struct k8c_sbuf msg;
    k8c_sbuf_init(&msg);
    k8c_sbuf_printf(&msg, "Non-matching dry-run options in request and content: [%s] and [", query);
    for (size_t i = 0; i < n && msg.len < 1024; i++)
        k8c_sbuf_printf(&msg, "%s%.100s", i ? " " : "", o->dryrun[i]);
    k8c_sbuf_puts(&msg, "]");
    api_respond_status(req, 500, NULL, msg.data);
    k8c_sbuf_free(&msg);
    return false;
}

void api_evict(struct api_req *req)
{
    K8s__Io__Api__Policy__V1__Eviction *ev = (K8s__Io__Api__Policy__V1__Eviction *)api_decode_body(
        req, &k8s__io__api__policy__v1__eviction__descriptor);
    if (ev == NULL)
        return;
    const char *name = ev->metadata && ev->metadata->name ? ev->metadata->name : "";
    bool dry;
    if (strcmp(name, req->name) != 0) {
        api_respond_status(req, 400, "BadRequest",
                           "name in URL does not match name in Eviction object");
        api_obj_free(&ev->base);
        return;
    }
    if (!eviction_dry_run(req, ev->deleteoptions, &dry)) {
        api_obj_free(&ev->base);
        return;
    }
    struct evict_op *op = K8C_NEW(struct evict_op);
    op->dry_run = dry;
    const K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__DeleteOptions *o = ev->deleteoptions;
    if (o != NULL && o->has_graceperiodseconds) {
        op->has_grace = true;
        op->grace = o->graceperiodseconds;
    }
    if (o != NULL && o->preconditions != NULL) {
        if (o->preconditions->uid != NULL)
            op->uid = k8c_strdup(o->preconditions->uid);
        if (o->preconditions->resourceversion != NULL)
            op->rv = k8c_strdup(o->preconditions->resourceversion);
    }
    api_obj_free(&ev->base);
    req->op = op;
    req->op_free = evict_op_free;
    read_pod(req);
}
