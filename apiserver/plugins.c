/*
 * Admission plugins (see plugins.h).
 */
#include "plugins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "object.h"
#include "quantity.h"
#include "podsecurity.h"
#include "watchcache.h"

#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/api/networking/v1/generated.pb-c.h"
#include "k8s/api/node/v1/generated.pb-c.h"
#include "k8s/api/scheduling/v1/generated.pb-c.h"
#include "k8s/api/storage/v1/generated.pb-c.h"

typedef K8s__Io__Api__Core__V1__Pod pod_t;
typedef K8s__Io__Api__Core__V1__Toleration toleration_t;
typedef K8s__Io__Api__Core__V1__Taint taint_t;
typedef K8s__Io__Api__Scheduling__V1__PriorityClass priority_class_t;

#define NOT_READY_TAINT            "node.kubernetes.io/not-ready"
#define UNREACHABLE_TAINT          "node.kubernetes.io/unreachable"
#define DEFAULT_TOLERATION_SECONDS 300

static const struct api_resource *priority_classes(void)
{
    return api_resource_find("scheduling.k8s.io", "v1", "priorityclasses");
}

static const struct api_resource *storage_classes(void)
{
    return api_resource_find("storage.k8s.io", "v1", "storageclasses");
}

static const struct api_resource *ingress_classes(void)
{
    return api_resource_find("networking.k8s.io", "v1", "ingressclasses");
}

static const struct api_resource *runtime_classes(void)
{
    return api_resource_find("node.k8s.io", "v1", "runtimeclasses");
}

static bool is(const ProtobufCMessage *obj, const ProtobufCMessageDescriptor *d)
{
    return obj != NULL && obj->descriptor == d;
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* `<resource>[.<group>] "<name>" is forbidden: <why>` (admission.NewForbidden) */
static int forbidden(const struct api_resource *r, const ProtobufCMessage *obj, char *errmsg,
                     size_t size, const char *why)
{
    const api_meta_t *m = api_obj_meta(obj);
    const char *name = m != NULL && m->name != NULL ? m->name : "";
    snprintf(errmsg, size, "%s%s%s \"%s\" is forbidden: %s", r->resource, r->group[0] ? "." : "",
             r->group, name, why);
    return 403;
}

static int not_ready(const struct api_resource *r, const ProtobufCMessage *obj, char *errmsg,
                     size_t size)
{
    return forbidden(r, obj, errmsg, size, "not yet ready to handle request");
}

/* ---- TaintNodesByCondition ---------------------------------------------------------------- */

static void taint_new_node(K8s__Io__Api__Core__V1__Node *node)
{
    K8s__Io__Api__Core__V1__NodeSpec *s = node->spec;

    if (s == NULL) {
        s = node->spec = K8C_NEW(K8s__Io__Api__Core__V1__NodeSpec);
        k8s__io__api__core__v1__node_spec__init(s);
    }
    for (size_t i = 0; i < s->n_taints; i++)
        if (str_eq(s->taints[i]->key, NOT_READY_TAINT) &&
            str_eq(s->taints[i]->effect, "NoSchedule"))
            return;
    taint_t *t = K8C_NEW(taint_t);
    k8s__io__api__core__v1__taint__init(t);
    t->key = k8c_strdup(NOT_READY_TAINT);
    t->effect = k8c_strdup("NoSchedule");
    s->taints = k8c_realloc(s->taints, (s->n_taints + 1) * sizeof(*s->taints));
    s->taints[s->n_taints++] = t;
}

/* ---- Priority ----------------------------------------------------------------------------- */

/* The global default class: the one with the lowest value if several claim it */
static void default_pc_cb(void *arg, const ProtobufCMessage *obj)
{
    const priority_class_t **found = arg, *pc = (const priority_class_t *)obj;

    if (is(obj, &k8s__io__api__scheduling__v1__priority_class__descriptor) && pc->globaldefault &&
        (*found == NULL || (*found)->value > pc->value))
        *found = pc;
}

/* The named class, or (name NULL) the global default; -1 while the cache loads */
static int find_priority_class(struct api_server *srv, const char *name,
                               const priority_class_t **out)
{
    if (name != NULL) {
        char key[512];
        bool ready;
        api_key(srv, priority_classes(), NULL, name, key, sizeof(key));
        const ProtobufCMessage *pc = api_watchcache_get(srv, priority_classes(), key, &ready);
        *out = is(pc, &k8s__io__api__scheduling__v1__priority_class__descriptor)
                   ? (const priority_class_t *)pc
                   : NULL;
        return ready ? 0 : -1;
    }
    *out = NULL;
    return api_watchcache_each(srv, priority_classes(), NULL, default_pc_cb, out) < 0 ? -1 : 0;
}

static int admit_pod_priority(struct api_server *srv, const struct api_resource *r, pod_t *pod,
                              const pod_t *old, char *errmsg, size_t size)
{
    K8s__Io__Api__Core__V1__PodSpec *s = pod->spec;
    const priority_class_t *pc = NULL;
    const char *policy;
    int32_t priority;
    char why[256];

    if (s == NULL)
        return 0;
    if (old != NULL) {
        /* the priority set on create stays (validation refuses changing it) */
        if (!s->has_priority && old->spec != NULL && old->spec->has_priority) {
            s->has_priority = true;
            s->priority = old->spec->priority;
        }
        if (s->preemptionpolicy == NULL && old->spec != NULL && old->spec->preemptionpolicy)
            s->preemptionpolicy = k8c_strdup(old->spec->preemptionpolicy);
        return 0;
    }
    if (s->priorityclassname == NULL || s->priorityclassname[0] == '\0') {
        if (find_priority_class(srv, NULL, &pc) < 0)
            return not_ready(r, &pod->base, errmsg, size);
        if (pc != NULL) {
            const api_meta_t *m = api_obj_meta(&pc->base);
            k8c_free(s->priorityclassname);
            s->priorityclassname = k8c_strdup(m != NULL && m->name ? m->name : "");
        }
        priority = pc != NULL ? pc->value : 0;
        policy = pc != NULL ? pc->preemptionpolicy : "PreemptLowerPriority";
    } else {
        if (find_priority_class(srv, s->priorityclassname, &pc) < 0)
            return not_ready(r, &pod->base, errmsg, size);
        if (pc == NULL) {
            snprintf(why, sizeof(why), "no PriorityClass with name %.200s was found",
                     s->priorityclassname);
            return forbidden(r, &pod->base, errmsg, size, why);
        }
        priority = pc->value;
        policy = pc->preemptionpolicy;
    }
    if (s->has_priority && s->priority != priority) {
        snprintf(why, sizeof(why),
                 "the integer value of priority (%d) must not be provided in pod spec; priority "
                 "admission controller computed %d from the given PriorityClass name",
                 (int)s->priority, (int)priority);
        return forbidden(r, &pod->base, errmsg, size, why);
    }
    s->has_priority = true;
    s->priority = priority;
    if (policy != NULL) {
        if (s->preemptionpolicy != NULL && strcmp(s->preemptionpolicy, policy) != 0) {
            snprintf(why, sizeof(why),
                     "the string value of PreemptionPolicy (%.60s) must not be provided in pod "
                     "spec; priority admission controller computed %.60s from the given "
                     "PriorityClass name",
                     s->preemptionpolicy, policy);
            return forbidden(r, &pod->base, errmsg, size, why);
        }
        k8c_free(s->preemptionpolicy);
        s->preemptionpolicy = k8c_strdup(policy);
    }
    return 0;
}

/* ---- DefaultTolerationSeconds ------------------------------------------------------------- */

static void default_tolerations(pod_t *pod)
{
    K8s__Io__Api__Core__V1__PodSpec *s = pod->spec;
    bool not_ready = false, unreachable = false;
    static const char *const keys[] = {NOT_READY_TAINT, UNREACHABLE_TAINT};

    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_tolerations; i++) {
        const toleration_t *t = s->tolerations[i];
        bool any_key = t->key == NULL || t->key[0] == '\0';
        bool no_execute =
            t->effect == NULL || t->effect[0] == '\0' || strcmp(t->effect, "NoExecute") == 0;
        not_ready |= (any_key || strcmp(t->key, NOT_READY_TAINT) == 0) && no_execute;
        unreachable |= (any_key || strcmp(t->key, UNREACHABLE_TAINT) == 0) && no_execute;
    }
    for (int k = 0; k < 2; k++) {
        if (k == 0 ? not_ready : unreachable)
            continue;
        toleration_t *t = K8C_NEW(toleration_t);
        k8s__io__api__core__v1__toleration__init(t);
        t->key = k8c_strdup(keys[k]);
        t->operator_ = k8c_strdup("Exists");
        t->effect = k8c_strdup("NoExecute");
        t->has_tolerationseconds = true;
        t->tolerationseconds = DEFAULT_TOLERATION_SECONDS;
        s->tolerations = k8c_realloc(s->tolerations, (s->n_tolerations + 1) * sizeof(t));
        s->tolerations[s->n_tolerations++] = t;
    }
}

/* ---- DefaultStorageClass and DefaultIngressClass ------------------------------------------ */

struct default_class {
    const char *const *annotations; /* any of them "true" marks the default */
    const char *name;               /* the newest default so far */
    int64_t created;
};

static void default_class_cb(void *arg, const ProtobufCMessage *obj)
{
    struct default_class *d = arg;
    const api_meta_t *m = api_obj_meta(obj);
    bool is_default = false;

    for (size_t a = 0; d->annotations[a] != NULL; a++)
        is_default = is_default || str_eq(api_meta_annotation(m, d->annotations[a]), "true");
    if (!is_default || m->name == NULL)
        return;
    int64_t created = m->creationtimestamp != NULL ? m->creationtimestamp->seconds : 0;
    /* several defaults: the newest, then the name that sorts first (upstream's choice) */
    if (d->name == NULL || created > d->created ||
        (created == d->created && strcmp(m->name, d->name) < 0)) {
        d->name = m->name;
        d->created = created;
    }
}

/* The default class of r (NULL: none); -1 while the cache loads */
static int find_default_class(struct api_server *srv, const struct api_resource *r,
                              const char *const *annotations, char **out)
{
    struct default_class d = {annotations, NULL, 0};
    *out = NULL;
    if (r == NULL)
        return 0;
    if (api_watchcache_each(srv, r, NULL, default_class_cb, &d) < 0)
        return -1;
    *out = d.name != NULL ? k8c_strdup(d.name) : NULL;
    return 0;
}

static int default_storage_class(struct api_server *srv, const struct api_resource *r,
                                 K8s__Io__Api__Core__V1__PersistentVolumeClaim *pvc, char *errmsg,
                                 size_t size)
{
    static const char *const annotations[] = {"storageclass.kubernetes.io/is-default-class",
                                              "storageclass.beta.kubernetes.io/is-default-class",
                                              NULL};
    char *name;

    if (pvc->spec == NULL || pvc->spec->storageclassname != NULL ||
        api_meta_annotation(api_obj_meta(&pvc->base), "volume.beta.kubernetes.io/storage-class"))
        return 0;
    if (find_default_class(srv, storage_classes(), annotations, &name) < 0)
        return not_ready(r, &pvc->base, errmsg, size);
    pvc->spec->storageclassname = name;
    return 0;
}

static int default_ingress_class(struct api_server *srv, const struct api_resource *r,
                                 K8s__Io__Api__Networking__V1__Ingress *ing, char *errmsg,
                                 size_t size)
{
    static const char *const annotations[] = {"ingressclass.kubernetes.io/is-default-class", NULL};
    char *name;

    if (ing->spec == NULL || ing->spec->ingressclassname != NULL ||
        api_meta_annotation(api_obj_meta(&ing->base), "kubernetes.io/ingress.class"))
        return 0;
    if (find_default_class(srv, ingress_classes(), annotations, &name) < 0)
        return not_ready(r, &ing->base, errmsg, size);
    ing->spec->ingressclassname = name;
    return 0;
}

/* ---- RuntimeClass ---------------------------------------------------------------------------- */

typedef K8s__Io__Api__Node__V1__RuntimeClass runtime_class_t;
typedef K8s__Io__Api__Core__V1__PodSpec__OverheadEntry overhead_entry_t;
typedef K8s__Io__Api__Core__V1__PodSpec__NodeSelectorEntry selector_entry_t;

/* The pod's RuntimeClass (*out NULL when it names none); -1 while the cache loads, 403 (in
 * errmsg) when it names one that does not exist. */
static int find_runtime_class(struct api_server *srv, const struct api_resource *r,
                              const pod_t *pod, const runtime_class_t **out, char *errmsg,
                              size_t size)
{
    const char *name = pod->spec != NULL ? pod->spec->runtimeclassname : NULL;
    char key[512], why[300];
    bool ready;

    *out = NULL;
    if (name == NULL)
        return 0;
    api_key(srv, runtime_classes(), NULL, name, key, sizeof(key));
    const ProtobufCMessage *rc = api_watchcache_get(srv, runtime_classes(), key, &ready);
    if (!ready)
        return -1;
    if (!is(rc, &k8s__io__api__node__v1__runtime_class__descriptor)) {
        snprintf(why, sizeof(why), "pod rejected: RuntimeClass \"%.200s\" not found", name);
        return forbidden(r, &pod->base, errmsg, size, why);
    }
    *out = (const runtime_class_t *)rc;
    return 0;
}

/* Semantic.DeepEqual of the class's podFixed and the pod's overhead: the same resources, with
 * quantities equal as numbers. */
static bool overhead_equal(const K8s__Io__Api__Node__V1__Overhead *o, const pod_t *pod)
{
    const K8s__Io__Api__Core__V1__PodSpec *s = pod->spec;
    size_t n = o != NULL ? o->n_podfixed : 0, m = s != NULL ? s->n_overhead : 0;

    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++) {
        const K8s__Io__Api__Node__V1__Overhead__PodFixedEntry *e = o->podfixed[i];
        const overhead_entry_t *f = NULL;
        for (size_t j = 0; j < m && f == NULL; j++)
            if (str_eq(s->overhead[j]->key, e->key))
                f = s->overhead[j];
        struct k8c_quantity a, b;
        const char *qa = e->value != NULL && e->value->string ? e->value->string : "0";
        const char *qb = f != NULL && f->value != NULL && f->value->string ? f->value->string : "0";
        if (f == NULL || k8c_quantity_parse(qa, strlen(qa), &a) != 0 ||
            k8c_quantity_parse(qb, strlen(qb), &b) != 0 || k8c_quantity_cmp(&a, &b) != 0)
            return false;
    }
    return true;
}

/* Semantic.DeepEqual of two tolerations */
static bool toleration_equal(const toleration_t *a, const toleration_t *b)
{
    return str_eq(a->key, b->key) && str_eq(a->operator_, b->operator_) &&
           str_eq(a->value, b->value) && str_eq(a->effect, b->effect) &&
           a->has_tolerationseconds == b->has_tolerationseconds &&
           (!a->has_tolerationseconds || a->tolerationseconds == b->tolerationseconds);
}

/* pkg/util/tolerations isSuperset: whether ss tolerates everything t does. */
static bool toleration_superset(const toleration_t *ss, const toleration_t *t)
{
    if (toleration_equal(ss, t))
        return true;
    if (!str_eq(t->key, ss->key) && !(str_eq(ss->key, "") && str_eq(ss->operator_, "Exists")))
        return false; /* an empty key with Exists matches every key */
    if (!str_eq(t->effect, ss->effect) && !str_eq(ss->effect, ""))
        return false; /* an empty effect matches every effect */
    if (str_eq(ss->effect, "NoExecute") && ss->has_tolerationseconds &&
        (!t->has_tolerationseconds || t->tolerationseconds > ss->tolerationseconds))
        return false;
    if (str_eq(ss->operator_, "Equal") || str_eq(ss->operator_, ""))
        return str_eq(t->operator_, "Equal") && str_eq(t->value, ss->value);
    return str_eq(ss->operator_, "Exists");
}

/* MergeTolerations compares every pair: a hostile pod of 100,000 tolerations would hold the
 * server for minutes. No real pod comes near this many; more is refused (upstream has no bound). */
#define MAX_MERGED_TOLERATIONS 5000

static int selector_key_cmp(const void *a, const void *b)
{
    const selector_entry_t *x = *(selector_entry_t *const *)a, *y = *(selector_entry_t *const *)b;
    return strcmp(x->key != NULL ? x->key : "", y->key != NULL ? y->key : "");
}

/* pkg/util/tolerations MergeTolerations(pod's, class's): in order, each toleration that no
 * kept one and no later different one tolerates a superset of. */
static void merge_tolerations(K8s__Io__Api__Core__V1__PodSpec *s, toleration_t *const *extra,
                              size_t n_extra)
{
    size_t n_all = s->n_tolerations + n_extra, n = 0;
    toleration_t **all = k8c_calloc(n_all ? n_all : 1, sizeof(*all));
    toleration_t **merged = k8c_calloc(n_all ? n_all : 1, sizeof(*merged));

    for (size_t i = 0; i < s->n_tolerations; i++)
        all[i] = s->tolerations[i];
    for (size_t i = 0; i < n_extra; i++)
        all[s->n_tolerations + i] = (toleration_t *)api_obj_copy(&extra[i]->base);
    for (size_t i = 0; i < n_all; i++) {
        bool redundant = false;
        for (size_t j = 0; j < n && !redundant; j++)
            redundant = toleration_superset(merged[j], all[i]);
        for (size_t j = i + 1; j < n_all && !redundant; j++)
            redundant = !toleration_equal(all[i], all[j]) && toleration_superset(all[j], all[i]);
        if (redundant)
            protobuf_c_message_free_unpacked(&all[i]->base, NULL);
        else
            merged[n++] = all[i];
    }
    k8c_free(all);
    k8c_free(s->tolerations);
    s->tolerations = merged;
    s->n_tolerations = n;
}

/* RuntimeClass Admit on create: the class's overhead becomes the pod's (403 if the pod set
 * another), its node selector is merged into the pod's (403 on a conflicting value) and its
 * tolerations into the pod's. */
static int admit_pod_runtime_class(struct api_server *srv, const struct api_resource *r, pod_t *pod,
                                   char *errmsg, size_t size)
{
    const runtime_class_t *rc;
    K8s__Io__Api__Core__V1__PodSpec *s = pod->spec;
    char why[700];
    int code = find_runtime_class(srv, r, pod, &rc, errmsg, size);

    if (code < 0)
        return not_ready(r, &pod->base, errmsg, size);
    if (code != 0 || rc == NULL || s == NULL)
        return code;
    if (rc->overhead != NULL) {
        if (s->n_overhead > 0 && !overhead_equal(rc->overhead, pod))
            return forbidden(r, &pod->base, errmsg, size,
                             "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined "
                             "Overhead");
        for (size_t i = 0; i < s->n_overhead; i++)
            protobuf_c_message_free_unpacked(&s->overhead[i]->base, NULL);
        k8c_free(s->overhead);
        s->n_overhead = rc->overhead->n_podfixed;
        s->overhead = k8c_calloc(s->n_overhead ? s->n_overhead : 1, sizeof(*s->overhead));
        for (size_t i = 0; i < s->n_overhead; i++) {
            const K8s__Io__Api__Node__V1__Overhead__PodFixedEntry *e = rc->overhead->podfixed[i];
            overhead_entry_t *o = K8C_NEW(overhead_entry_t);
            k8s__io__api__core__v1__pod_spec__overhead_entry__init(o);
            o->key = k8c_strdup(e->key != NULL ? e->key : "");
            if (e->value != NULL)
                o->value = (void *)api_obj_copy(&e->value->base);
            s->overhead[i] = o;
        }
    }
    if (rc->scheduling == NULL)
        return 0;
    const K8s__Io__Api__Node__V1__Scheduling *sc = rc->scheduling;
    if (s->n_tolerations + sc->n_tolerations > MAX_MERGED_TOLERATIONS) {
        snprintf(why, sizeof(why),
                 "pod rejected: %zu tolerations with those of RuntimeClass \"%.200s\", more than "
                 "the %d that can be merged",
                 s->n_tolerations + sc->n_tolerations, s->runtimeclassname, MAX_MERGED_TOLERATIONS);
        return forbidden(r, &pod->base, errmsg, size, why);
    }
    /* the pod's keys sorted, looked up by the class's (both maps can be large) */
    size_t n_pod = s->n_nodeselector;
    selector_entry_t **byk = k8c_calloc(n_pod ? n_pod : 1, sizeof(*byk));
    for (size_t i = 0; i < n_pod; i++)
        byk[i] = s->nodeselector[i];
    qsort(byk, n_pod, sizeof(*byk), selector_key_cmp);
    for (size_t i = 0; i < sc->n_nodeselector; i++) {
        const char *key = sc->nodeselector[i]->key, *val = sc->nodeselector[i]->value;
        selector_entry_t probe = {.key = (char *)(key ? key : "")}, *pp = &probe;
        selector_entry_t **hit = bsearch(&pp, byk, n_pod, sizeof(*byk), selector_key_cmp);
        selector_entry_t *f = hit != NULL ? *hit : NULL;
        if (f != NULL && !str_eq(f->value, val)) {
            snprintf(why, sizeof(why),
                     "conflict: runtimeClass.scheduling.nodeSelector[%.150s] = %.150s; "
                     "pod.spec.nodeSelector[%.150s] = %.150s",
                     key ? key : "", val ? val : "", key ? key : "", f->value ? f->value : "");
            k8c_free(byk);
            return forbidden(r, &pod->base, errmsg, size, why);
        }
        if (f != NULL)
            continue;
        f = K8C_NEW(selector_entry_t);
        k8s__io__api__core__v1__pod_spec__node_selector_entry__init(f);
        f->key = k8c_strdup(key ? key : "");
        f->value = k8c_strdup(val ? val : "");
        s->nodeselector = k8c_realloc(s->nodeselector, (s->n_nodeselector + 1) * sizeof(f));
        s->nodeselector[s->n_nodeselector++] = f;
    }
    k8c_free(byk);
    merge_tolerations(s, sc->tolerations, sc->n_tolerations);
    return 0;
}

/* RuntimeClass Validate on create: the pod's overhead is its class's, and none without one. */
static int validate_pod_runtime_class(struct api_server *srv, const struct api_resource *r,
                                      const pod_t *pod, char *errmsg, size_t size)
{
    const runtime_class_t *rc;
    int code = find_runtime_class(srv, r, pod, &rc, errmsg, size);

    if (code < 0)
        return not_ready(r, &pod->base, errmsg, size);
    if (code != 0)
        return code;
    if (rc != NULL && rc->overhead != NULL) {
        if (!overhead_equal(rc->overhead, pod))
            return forbidden(r, &pod->base, errmsg, size,
                             "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined "
                             "Overhead");
    } else if (pod->spec != NULL && pod->spec->n_overhead > 0) {
        return forbidden(r, &pod->base, errmsg, size,
                         "pod rejected: Pod Overhead set without corresponding RuntimeClass "
                         "defined Overhead");
    }
    return 0;
}

/* ---- the phases --------------------------------------------------------------------------- */

int api_plugins_mutate(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
                       const char *sub, ProtobufCMessage *obj, const ProtobufCMessage *old,
                       char *errmsg, size_t size)
{
    bool create = verb == VERB_CREATE;
    int code;

    if (sub != NULL && sub[0] != '\0')
        return 0;
    if (create && is(obj, &k8s__io__api__core__v1__node__descriptor))
        taint_new_node((K8s__Io__Api__Core__V1__Node *)obj);
    if (is(obj, &k8s__io__api__core__v1__pod__descriptor)) {
        const pod_t *o = create || !is(old, &k8s__io__api__core__v1__pod__descriptor)
                             ? NULL
                             : (const pod_t *)old;
        if (!create && o == NULL)
            return 0;
        if ((code = admit_pod_priority(srv, r, (pod_t *)obj, o, errmsg, size)) != 0)
            return code;
        default_tolerations((pod_t *)obj);
        if (create)
            return admit_pod_runtime_class(srv, r, (pod_t *)obj, errmsg, size);
    }
    if (create && is(obj, &k8s__io__api__core__v1__persistent_volume_claim__descriptor))
        return default_storage_class(srv, r, (void *)obj, errmsg, size);
    if (create && is(obj, &k8s__io__api__networking__v1__ingress__descriptor))
        return default_ingress_class(srv, r, (void *)obj, errmsg, size);
    return 0;
}

int api_plugins_validate(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
                         const char *sub, const ProtobufCMessage *obj, char *errmsg, size_t size)
{
    const priority_class_t *pc = (const priority_class_t *)obj, *dpc = NULL;
    char why[300];

    if (sub != NULL && sub[0] != '\0')
        return 0;
    if (verb == VERB_CREATE && is(obj, &k8s__io__api__core__v1__pod__descriptor))
        return validate_pod_runtime_class(srv, r, (const pod_t *)obj, errmsg, size);
    if (!is(obj, &k8s__io__api__scheduling__v1__priority_class__descriptor) || !pc->globaldefault)
        return 0;
    if (find_priority_class(srv, NULL, &dpc) < 0)
        return not_ready(r, obj, errmsg, size);
    if (dpc == NULL)
        return 0;
    const api_meta_t *m = api_obj_meta(obj), *dm = api_obj_meta(&dpc->base);
    const char *dname = dm != NULL && dm->name != NULL ? dm->name : "";
    if (verb == VERB_CREATE || (m != NULL && !str_eq(m->name, dname))) {
        snprintf(why, sizeof(why),
                 "PriorityClass %.200s is already marked as default. Only one default can exist",
                 dname);
        return forbidden(r, obj, errmsg, size, why);
    }
    return 0;
}

void api_plugins_prime(struct api_server *srv)
{
    api_plugins_ready(srv);
    api_podsecurity_ready(srv);
}

bool api_plugins_ready(struct api_server *srv)
{
    const struct api_resource *rs[] = {priority_classes(), storage_classes(), ingress_classes(),
                                       runtime_classes()};
    bool ready = true;
    for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++)
        if (rs[i] != NULL && !api_watchcache_ready(srv, rs[i]))
            ready = false;
    return ready;
}
