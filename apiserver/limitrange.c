/*
 * apiserver/limitrange: the LimitRanger admission plugin (see limitrange.h), after upstream's
 * plugin/pkg/admission/limitranger. Quantities compare as upstream's do: in milli-units when
 * all three fit, else in whole units. Where upstream walks a Go map (the resources of a
 * LimitRange item), this walks the item's entries in their stored order.
 */
#include "limitrange.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "object.h"
#include "quantity.h"
#include "watchcache.h"

#define LIMIT_RANGER_ANNOTATION "kubernetes.io/limit-ranger"
#define MAX_ERRORS              64
#define MAX_LIMIT_RANGES        64 /* per namespace; more are not looked at */
#define MAX_RESOURCES           32 /* distinct resource names summed per pod */

typedef K8s__Io__Api__Core__V1__Pod pod_t;
typedef K8s__Io__Api__Core__V1__Container container_t;
typedef K8s__Io__Api__Core__V1__LimitRange limit_range_t;
typedef K8s__Io__Api__Core__V1__LimitRangeItem limit_item_t;
typedef K8s__Io__Apimachinery__Pkg__Api__Resource__Quantity quantity_t;

/* Every map<string, Quantity> entry of the API has this layout. */
struct qentry {
    ProtobufCMessage base;
    char *key;
    quantity_t *value;
};

/* A resource list: the entries of one map field. */
struct rlist {
    struct qentry *const *e;
    size_t n;
};

#define RLIST(obj, member)                                                                         \
    ((struct rlist){(struct qentry *const *)(obj)->member, (obj)->n_##member})

/* The quantity of resource name in l: true when there (an unparsable one counts as 0). */
static bool rlist_get(struct rlist l, const char *name, struct k8c_quantity *q)
{
    for (size_t i = 0; i < l.n; i++) {
        const struct qentry *e = l.e[i];
        if (e->key == NULL || strcmp(e->key, name) != 0)
            continue;
        const char *s = e->value != NULL && e->value->string != NULL ? e->value->string : "0";
        if (k8c_quantity_parse(s, strlen(s), q) != 0)
            *q = k8c_quantity_from_int(0, K8C_QUANTITY_DECIMAL_SI);
        return true;
    }
    return false;
}

static const char *qstr(const struct k8c_quantity *q, char *buf)
{
    k8c_quantity_format(q, buf);
    return buf;
}

/* upstream requestLimitEnforcedValues: milli-units when every value fits them. */
static void enforced_values(const struct k8c_quantity *req, const struct k8c_quantity *lim,
                            const struct k8c_quantity *enf, int64_t *r, int64_t *l, int64_t *e)
{
    /* resource.MaxMilliValue: the largest value whose milli-value is an int64 */
    const int64_t max_milli = INT64_MAX / 1000;
    *r = k8c_quantity_value(req);
    *l = k8c_quantity_value(lim);
    *e = k8c_quantity_value(enf);
    if (*r <= max_milli && *l <= max_milli && *e <= max_milli) {
        *r = k8c_quantity_milli_value(req);
        *l = k8c_quantity_milli_value(lim);
        *e = k8c_quantity_milli_value(enf);
    }
}

struct errs {
    char *msg[MAX_ERRORS];
    size_t n;
};

static void err_add(struct errs *es, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void err_add(struct errs *es, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    if (es->n == MAX_ERRORS)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < es->n; i++) /* the aggregate drops repeats */
        if (strcmp(es->msg[i], buf) == 0)
            return;
    es->msg[es->n++] = k8c_strdup(buf);
}

/* minConstraint, maxConstraint, limitRequestRatioConstraint of one resource. */
enum constraint { C_MIN, C_MAX, C_RATIO, C_MAX_REQUEST };

static void constrain(struct errs *es, enum constraint c, const char *type, const char *name,
                      const struct qentry *enforced, struct rlist requests, struct rlist limits)
{
    struct k8c_quantity enf, req = {0}, lim = {0};
    char eb[K8C_QUANTITY_STR_MAX], rb[K8C_QUANTITY_STR_MAX], lb[K8C_QUANTITY_STR_MAX];
    if (name == NULL)
        return;
    const char *es_ =
        enforced->value != NULL && enforced->value->string != NULL ? enforced->value->string : "0";
    if (k8c_quantity_parse(es_, strlen(es_), &enf) != 0)
        return;
    bool has_req = rlist_get(requests, name, &req), has_lim = rlist_get(limits, name, &lim);
    int64_t r, l, e;
    enforced_values(&req, &lim, &enf, &r, &l, &e);
    qstr(&enf, eb);
    switch (c) {
    case C_MIN:
        if (!has_req)
            err_add(es, "minimum %s usage per %s is %s.  No request is specified", name, type, eb);
        else if (r < e)
            err_add(es, "minimum %s usage per %s is %s, but request is %s", name, type, eb,
                    qstr(&req, rb));
        else if (has_lim && l < e)
            err_add(es, "minimum %s usage per %s is %s, but limit is %s", name, type, eb,
                    qstr(&lim, lb));
        break;
    case C_MAX:
        if (!has_lim)
            err_add(es, "maximum %s usage per %s is %s.  No limit is specified", name, type, eb);
        else if (l > e)
            err_add(es, "maximum %s usage per %s is %s, but limit is %s", name, type, eb,
                    qstr(&lim, lb));
        else if (has_req && r > e)
            err_add(es, "maximum %s usage per %s is %s, but request is %s", name, type, eb,
                    qstr(&req, rb));
        break;
    case C_MAX_REQUEST:
        if (has_req && r > e)
            err_add(es, "maximum %s usage per %s is %s, but request is %s", name, type, eb,
                    qstr(&req, rb));
        break;
    case C_RATIO: {
        if (!has_req || r == 0) {
            err_add(es,
                    "%s max limit to request ratio per %s is %s, but no request is specified or "
                    "request is 0",
                    name, type, eb);
            break;
        }
        if (!has_lim || l == 0) {
            err_add(es,
                    "%s max limit to request ratio per %s is %s, but no limit is specified or "
                    "limit is 0",
                    name, type, eb);
            break;
        }
        double observed = (double)l / (double)r, shown = observed;
        double max = (double)k8c_quantity_value(&enf);
        if (k8c_quantity_value(&enf) <= INT64_MAX / 1000) {
            observed *= 1000;
            max = (double)k8c_quantity_milli_value(&enf);
        }
        if (observed > max)
            err_add(es, "%s max limit to request ratio per %s is %s, but provided ratio is %f",
                    name, type, eb, shown);
        break;
    }
    }
}

/* min, max and maxLimitRequestRatio of item against one set of requests and limits. */
static void constrain_item(struct errs *es, const limit_item_t *it, struct rlist requests,
                           struct rlist limits)
{
    const char *type = it->type != NULL ? it->type : "";
    for (size_t i = 0; i < it->n_min; i++)
        constrain(es, C_MIN, type, ((struct qentry *)it->min[i])->key, (void *)it->min[i], requests,
                  limits);
    for (size_t i = 0; i < it->n_max; i++)
        constrain(es, C_MAX, type, ((struct qentry *)it->max[i])->key, (void *)it->max[i], requests,
                  limits);
    for (size_t i = 0; i < it->n_maxlimitrequestratio; i++)
        constrain(es, C_RATIO, type, ((struct qentry *)it->maxlimitrequestratio[i])->key,
                  (void *)it->maxlimitrequestratio[i], requests, limits);
}

static struct rlist container_list(const container_t *c, bool limits)
{
    if (c->resources == NULL)
        return (struct rlist){NULL, 0};
    return limits ? RLIST(c->resources, limits) : RLIST(c->resources, requests);
}

/*
 * The pod's total requests (limits) for the Pod limit type: per resource the larger of the sum
 * over its containers and the largest of its init containers. (Upstream also counts sidecar
 * init containers into the sum and adds the pod overhead.)
 */
struct totals {
    char *name[MAX_RESOURCES];
    struct k8c_quantity q[MAX_RESOURCES];
    size_t n;
    struct qentry entries[MAX_RESOURCES], *ptrs[MAX_RESOURCES];
    quantity_t values[MAX_RESOURCES];
    char strs[MAX_RESOURCES][K8C_QUANTITY_STR_MAX];
};

static struct k8c_quantity *totals_slot(struct totals *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->name[i], name) == 0)
            return &t->q[i];
    if (t->n == MAX_RESOURCES)
        return NULL;
    t->name[t->n] = (char *)name;
    t->q[t->n] = k8c_quantity_from_int(0, K8C_QUANTITY_DECIMAL_SI);
    return &t->q[t->n++];
}

static struct rlist pod_totals(const pod_t *pod, bool limits, struct totals *t)
{
    const K8s__Io__Api__Core__V1__PodSpec *s = pod->spec;
    memset(t, 0, offsetof(struct totals, entries));
    for (size_t i = 0; s != NULL && i < s->n_containers; i++) {
        struct rlist l = container_list(s->containers[i], limits);
        for (size_t j = 0; j < l.n; j++) {
            struct k8c_quantity q, *slot = l.e[j]->key ? totals_slot(t, l.e[j]->key) : NULL;
            if (slot != NULL && rlist_get(l, l.e[j]->key, &q))
                k8c_quantity_add(slot, &q);
        }
    }
    for (size_t i = 0; s != NULL && i < s->n_initcontainers; i++) {
        struct rlist l = container_list(s->initcontainers[i], limits);
        for (size_t j = 0; j < l.n; j++) {
            struct k8c_quantity q, *slot = l.e[j]->key ? totals_slot(t, l.e[j]->key) : NULL;
            if (slot != NULL && rlist_get(l, l.e[j]->key, &q) && k8c_quantity_cmp(&q, slot) > 0)
                *slot = q;
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        k8c_quantity_format(&t->q[i], t->strs[i]);
        k8s__io__apimachinery__pkg__api__resource__quantity__init(&t->values[i]);
        t->values[i].string = t->strs[i];
        t->entries[i].key = t->name[i];
        t->entries[i].value = &t->values[i];
        t->ptrs[i] = &t->entries[i];
    }
    return (struct rlist){t->ptrs, t->n};
}

static void pod_validate(struct errs *es, const limit_range_t *lr, const pod_t *pod)
{
    const K8s__Io__Api__Core__V1__PodSpec *s = pod->spec;
    for (size_t i = 0; lr->spec != NULL && i < lr->spec->n_limits; i++) {
        const limit_item_t *it = lr->spec->limits[i];
        if (it->type != NULL && strcmp(it->type, "Container") == 0) {
            for (size_t j = 0; s != NULL && j < s->n_containers; j++)
                constrain_item(es, it, container_list(s->containers[j], false),
                               container_list(s->containers[j], true));
            for (size_t j = 0; s != NULL && j < s->n_initcontainers; j++)
                constrain_item(es, it, container_list(s->initcontainers[j], false),
                               container_list(s->initcontainers[j], true));
        } else if (it->type != NULL && strcmp(it->type, "Pod") == 0) {
            struct totals *req = k8c_malloc(sizeof(*req)), *lim = k8c_malloc(sizeof(*lim));
            constrain_item(es, it, pod_totals(pod, false, req), pod_totals(pod, true, lim));
            k8c_free(req);
            k8c_free(lim);
        }
    }
}

static void pvc_validate(struct errs *es, const limit_range_t *lr,
                         const K8s__Io__Api__Core__V1__PersistentVolumeClaim *pvc)
{
    const K8s__Io__Api__Core__V1__VolumeResourceRequirements *res =
        pvc->spec != NULL ? pvc->spec->resources : NULL;
    struct rlist requests = res != NULL ? RLIST(res, requests) : (struct rlist){NULL, 0};
    for (size_t i = 0; lr->spec != NULL && i < lr->spec->n_limits; i++) {
        const limit_item_t *it = lr->spec->limits[i];
        if (it->type == NULL || strcmp(it->type, "PersistentVolumeClaim") != 0)
            continue;
        /* a claim's limits are not the user's input: min looks at the requests alone, and max
         * only bounds what was requested */
        for (size_t j = 0; j < it->n_min; j++)
            constrain(es, C_MIN, it->type, ((struct qentry *)it->min[j])->key, (void *)it->min[j],
                      requests, (struct rlist){NULL, 0});
        for (size_t j = 0; j < it->n_max; j++)
            constrain(es, C_MAX_REQUEST, it->type, ((struct qentry *)it->max[j])->key,
                      (void *)it->max[j], requests, (struct rlist){NULL, 0});
    }
}

/* ---- defaults ---------------------------------------------------------------------------- */

/* Adds to *dst a copy of each entry of src whose key it lacks (and that no earlier LimitRange
 * gave: upstream collects every default first, later ones winning); the names it added go to
 * set (comma-joined, sorted afterwards). */
static void fill(void ***dst, size_t *n_dst, struct rlist src, const ProtobufCMessageDescriptor *d,
                 char **names, size_t *n_names)
{
    for (size_t i = 0; i < src.n; i++) {
        const char *k = src.e[i]->key != NULL ? src.e[i]->key : "";
        bool exists = false;
        for (size_t j = 0; j < *n_dst && !exists; j++)
            exists = ((struct qentry *)(*dst)[j])->key != NULL &&
                     strcmp(((struct qentry *)(*dst)[j])->key, k) == 0;
        if (exists)
            continue;
        struct qentry *e = k8c_malloc(d->sizeof_message);
        protobuf_c_message_init(d, e);
        e->key = k8c_strdup(k);
        e->value = k8c_malloc(sizeof(*e->value));
        k8s__io__apimachinery__pkg__api__resource__quantity__init(e->value);
        if (src.e[i]->value != NULL && src.e[i]->value->string != NULL)
            e->value->string = k8c_strdup(src.e[i]->value->string);
        *dst = k8c_realloc(*dst, (*n_dst + 1) * sizeof(**dst));
        (*dst)[(*n_dst)++] = e;
        if (*n_names < MAX_RESOURCES)
            names[(*n_names)++] = e->key;
    }
}

static int strp_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void join_sorted(struct k8c_sbuf *sb, char **names, size_t n)
{
    qsort(names, n, sizeof(*names), strp_cmp);
    for (size_t i = 0; i < n; i++)
        k8c_sbuf_printf(sb, "%s%s", i ? ", " : "", names[i]);
}

/* upstream mergeContainerResources: the defaults the container lacks, noted in note. */
static void merge_container(container_t *c, struct rlist def_req, struct rlist def_lim,
                            const char *what, struct k8c_sbuf *note)
{
    char *set_req[MAX_RESOURCES], *set_lim[MAX_RESOURCES];
    size_t n_req = 0, n_lim = 0;
    if (def_req.n == 0 && def_lim.n == 0)
        return;
    if (c->resources == NULL) {
        c->resources = k8c_malloc(sizeof(*c->resources));
        k8s__io__api__core__v1__resource_requirements__init(c->resources);
    }
    fill((void ***)&c->resources->limits, &c->resources->n_limits, def_lim,
         &k8s__io__api__core__v1__resource_requirements__limits_entry__descriptor, set_lim, &n_lim);
    fill((void ***)&c->resources->requests, &c->resources->n_requests, def_req,
         &k8s__io__api__core__v1__resource_requirements__requests_entry__descriptor, set_req,
         &n_req);
    const char *name = c->name != NULL ? c->name : "";
    if (n_req > 0) {
        k8c_sbuf_puts(note, note->len ? "; " : "");
        join_sorted(note, set_req, n_req);
        k8c_sbuf_printf(note, " request for %s %s", what, name);
    }
    if (n_lim > 0) {
        k8c_sbuf_puts(note, note->len ? "; " : "");
        join_sorted(note, set_lim, n_lim);
        k8c_sbuf_printf(note, " limit for %s %s", what, name);
    }
}

/* The Container defaults of one LimitRange, later items overriding earlier ones per resource
 * (upstream fills one map in item order). */
struct defaults {
    const struct qentry *req[MAX_RESOURCES], *lim[MAX_RESOURCES];
    size_t n_req, n_lim;
};

static void defaults_put(const struct qentry **v, size_t *n, const struct qentry *e)
{
    for (size_t i = 0; i < *n; i++)
        if (e->key != NULL && v[i]->key != NULL && strcmp(v[i]->key, e->key) == 0) {
            v[i] = e;
            return;
        }
    if (*n < MAX_RESOURCES && e->key != NULL)
        v[(*n)++] = e;
}

static void pod_defaults(const limit_range_t *lr, struct defaults *d)
{
    for (size_t i = 0; lr->spec != NULL && i < lr->spec->n_limits; i++) {
        const limit_item_t *it = lr->spec->limits[i];
        if (it->type == NULL || strcmp(it->type, "Container") != 0)
            continue;
        for (size_t j = 0; j < it->n_defaultrequest; j++)
            defaults_put(d->req, &d->n_req, (const struct qentry *)it->defaultrequest[j]);
        for (size_t j = 0; j < it->n_default_; j++)
            defaults_put(d->lim, &d->n_lim, (const struct qentry *)it->default_[j]);
    }
}

/* ---- the plugin -------------------------------------------------------------------------- */

struct collect {
    const limit_range_t *lr[MAX_LIMIT_RANGES];
    size_t n;
};

static void collect_cb(void *arg, const ProtobufCMessage *obj)
{
    struct collect *c = arg;
    if (c->n < MAX_LIMIT_RANGES &&
        obj->descriptor == &k8s__io__api__core__v1__limit_range__descriptor)
        c->lr[c->n++] = (const limit_range_t *)obj;
}

static const struct api_resource *limit_ranges(void)
{
    return api_resource_find("", "v1", "limitranges");
}

void api_limitranger_prime(struct api_server *srv)
{
    api_limitranger_ready(srv);
}

bool api_limitranger_ready(struct api_server *srv)
{
    return limit_ranges() == NULL || api_watchcache_ready(srv, limit_ranges());
}

int api_limitranger(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
                    const char *sub, ProtobufCMessage *obj, bool validate, char *errmsg,
                    size_t size)
{
    bool pod = obj->descriptor == &k8s__io__api__core__v1__pod__descriptor;
    bool pvc = obj->descriptor == &k8s__io__api__core__v1__persistent_volume_claim__descriptor;
    if ((sub != NULL && sub[0] != '\0') || (!pod && !pvc) || (pod && verb != VERB_CREATE) ||
        (pvc && !validate) || limit_ranges() == NULL)
        return 0;
    const api_meta_t *m = api_obj_meta(obj);
    const char *name = m != NULL && m->name != NULL ? m->name : "";
    struct collect c = {0};
    const char *ns =
        m != NULL && m->namespace_ != NULL && m->namespace_[0] ? m->namespace_ : "default";
    if (api_watchcache_each(srv, limit_ranges(), ns, collect_cb, &c) < 0) {
        snprintf(errmsg, size, "%s \"%s\" is forbidden: not yet ready to handle request",
                 r->resource, name);
        return 403;
    }
    if (c.n == 0)
        return 0;
    if (!validate) {
        /* each LimitRange in turn adds what the containers still lack; the annotation says what
         * the last one that added anything added */
        pod_t *p = (pod_t *)obj;
        for (size_t l = 0; l < c.n; l++) {
            struct defaults d = {0};
            struct k8c_sbuf note;
            pod_defaults(c.lr[l], &d);
            struct rlist req = {(struct qentry *const *)d.req, d.n_req};
            struct rlist lim = {(struct qentry *const *)d.lim, d.n_lim};
            k8c_sbuf_init(&note);
            for (size_t i = 0; p->spec != NULL && i < p->spec->n_containers; i++)
                merge_container(p->spec->containers[i], req, lim, "container", &note);
            for (size_t i = 0; p->spec != NULL && i < p->spec->n_initcontainers; i++)
                merge_container(p->spec->initcontainers[i], req, lim, "init container", &note);
            if (note.len > 0) {
                struct k8c_sbuf v;
                k8c_sbuf_init(&v);
                k8c_sbuf_printf(&v, "LimitRanger plugin set: %s", note.data);
                api_meta_set_annotation(api_obj_meta_ensure(&p->base), LIMIT_RANGER_ANNOTATION,
                                        v.data);
                k8c_sbuf_free(&v);
            }
            k8c_sbuf_free(&note);
        }
        return 0;
    }
    struct errs es = {0};
    for (size_t i = 0; i < c.n && es.n == 0; i++) { /* the first LimitRange that fails */
        if (pod)
            pod_validate(&es, c.lr[i], (const pod_t *)obj);
        else
            pvc_validate(&es, c.lr[i], (const K8s__Io__Api__Core__V1__PersistentVolumeClaim *)obj);
    }
    if (es.n == 0)
        return 0;
    struct k8c_sbuf sb;
    k8c_sbuf_init(&sb);
    if (name[0] != '\0')
        k8c_sbuf_printf(&sb, "%s \"%s\" is forbidden: ", r->resource, name);
    else
        k8c_sbuf_printf(&sb, "%s is forbidden: ", r->resource);
    k8c_sbuf_puts(&sb, es.n > 1 ? "[" : "");
    for (size_t i = 0; i < es.n; i++) {
        k8c_sbuf_printf(&sb, "%s%s", i ? ", " : "", es.msg[i]);
        k8c_free(es.msg[i]);
    }
    k8c_sbuf_puts(&sb, es.n > 1 ? "]" : "");
    snprintf(errmsg, size, "%s", sb.data);
    k8c_sbuf_free(&sb);
    return 403;
}
