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
#include "defaults.h"
#include "error.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "object.h"
#include "quantity.h"
#include "watchcache.h"

#define LIMIT_RANGER_ANNOTATION "kubernetes.io/limit-ranger"
#define MAX_ERRORS              64
#define MAX_LIMIT_RANGES        64 /* per namespace; more are not looked at */

typedef K8s__Io__Api__Core__V1__Pod pod_t;
typedef K8s__Io__Api__Core__V1__Container container_t;
typedef K8s__Io__Api__Core__V1__LimitRange limit_range_t;
typedef K8s__Io__Api__Core__V1__LimitRangeItem limit_item_t;
typedef K8s__Io__Apimachinery__Pkg__Api__Resource__Quantity quantity_t;

/* A resource list: the entries of one map field. */
struct rlist {
    struct api_quantity_entry *const *e;
    size_t n;
};

#define RLIST(obj, member)                                                                         \
    ((struct rlist){(struct api_quantity_entry *const *)(obj)->member, (obj)->n_##member})

/* The quantity of resource name in l: true when there (an unparsable one counts as 0). */
static bool rlist_get(struct rlist l, const char *name, struct k8c_quantity *q)
{
    for (size_t i = 0; i < l.n; i++) {
        const struct api_quantity_entry *e = l.e[i];
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

static void constrain(struct errs *es, enum constraint c, const char *type, const void *entry,
                      struct rlist requests, struct rlist limits)
{
    const struct api_quantity_entry *enforced = entry;
    const char *name = enforced->key;
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
        constrain(es, C_MIN, type, it->min[i], requests, limits);
    for (size_t i = 0; i < it->n_max; i++)
        constrain(es, C_MAX, type, it->max[i], requests, limits);
    for (size_t i = 0; i < it->n_maxlimitrequestratio; i++)
        constrain(es, C_RATIO, type, it->maxlimitrequestratio[i], requests, limits);
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
    size_t n;
    struct api_quantity_entry *entries, **ptrs;
    quantity_t *values;
    char (*strs)[K8C_QUANTITY_STR_MAX];
};

/* One container's amount of one resource. */
struct amount {
    const char *name;
    struct k8c_quantity q;
    bool init;
};

static int amount_cmp(const void *a, const void *b)
{
    return strcmp(((const struct amount *)a)->name, ((const struct amount *)b)->name);
}

/* Appends the amounts of one container's list (entries without a name are skipped). */
static size_t amounts_add(struct amount *v, size_t n, struct rlist l, bool init)
{
    for (size_t j = 0; j < l.n; j++) {
        const char *s =
            l.e[j]->value != NULL && l.e[j]->value->string != NULL ? l.e[j]->value->string : "0";
        if (l.e[j]->key == NULL)
            continue;
        v[n] = (struct amount){l.e[j]->key, {0}, init};
        if (k8c_quantity_parse(s, strlen(s), &v[n].q) != 0)
            v[n].q = k8c_quantity_from_int(0, K8C_QUANTITY_DECIMAL_SI);
        n++;
    }
    return n;
}

/* Sorted by resource name, so the totals take one pass whatever the pod's size. */
static struct rlist pod_totals(const pod_t *pod, bool limits, struct totals *t)
{
    const K8s__Io__Api__Core__V1__PodSpec *s = pod->spec;
    size_t cap = 0, n = 0;
    for (size_t i = 0; s != NULL && i < s->n_containers; i++)
        cap += container_list(s->containers[i], limits).n;
    for (size_t i = 0; s != NULL && i < s->n_initcontainers; i++)
        cap += container_list(s->initcontainers[i], limits).n;
    struct amount *v = k8c_malloc((cap + 1) * sizeof(*v));
    for (size_t i = 0; s != NULL && i < s->n_containers; i++)
        n = amounts_add(v, n, container_list(s->containers[i], limits), false);
    for (size_t i = 0; s != NULL && i < s->n_initcontainers; i++)
        n = amounts_add(v, n, container_list(s->initcontainers[i], limits), true);
    qsort(v, n, sizeof(*v), amount_cmp);
    t->n = 0;
    t->entries = k8c_calloc(n + 1, sizeof(*t->entries));
    t->ptrs = k8c_calloc(n + 1, sizeof(*t->ptrs));
    t->values = k8c_calloc(n + 1, sizeof(*t->values));
    t->strs = k8c_calloc(n + 1, sizeof(*t->strs));
    for (size_t i = 0; i < n;) {
        struct k8c_quantity sum = k8c_quantity_from_int(0, K8C_QUANTITY_DECIMAL_SI), init = sum;
        size_t j = i;
        for (; j < n && strcmp(v[j].name, v[i].name) == 0; j++) {
            if (!v[j].init)
                k8c_quantity_add(&sum, &v[j].q);
            else if (k8c_quantity_cmp(&v[j].q, &init) > 0)
                init = v[j].q;
        }
        size_t k = t->n++;
        k8c_quantity_format(k8c_quantity_cmp(&init, &sum) > 0 ? &init : &sum, t->strs[k]);
        k8s__io__apimachinery__pkg__api__resource__quantity__init(&t->values[k]);
        t->values[k].string = t->strs[k];
        t->entries[k].key = (char *)v[i].name;
        t->entries[k].value = &t->values[k];
        t->ptrs[k] = &t->entries[k];
        i = j;
    }
    k8c_free(v);
    return (struct rlist){t->ptrs, t->n};
}

static void totals_free(struct totals *t)
{
    k8c_free(t->entries);
    k8c_free(t->ptrs);
    k8c_free(t->values);
    k8c_free(t->strs);
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
            struct totals req, lim;
            constrain_item(es, it, pod_totals(pod, false, &req), pod_totals(pod, true, &lim));
            totals_free(&req);
            totals_free(&lim);
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
            constrain(es, C_MIN, it->type, it->min[j], requests, (struct rlist){NULL, 0});
        for (size_t j = 0; j < it->n_max; j++)
            constrain(es, C_MAX_REQUEST, it->type, it->max[j], requests, (struct rlist){NULL, 0});
    }
}

/* ---- defaults ---------------------------------------------------------------------------- */

static int strp_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void join_sorted(struct k8c_sbuf *sb, const char **names, size_t n)
{
    qsort(names, n, sizeof(*names), strp_cmp);
    for (size_t i = 0; i < n; i++)
        k8c_sbuf_printf(sb, "%s%s", i ? ", " : "", names[i]);
}

/* upstream mergeContainerResources: the defaults the container lacks, noted in note. */
static void merge_container(container_t *c, struct rlist def_req, struct rlist def_lim,
                            const char *what, struct k8c_sbuf *note)
{
    size_t n_req = 0, n_lim = 0;
    if (def_req.n == 0 && def_lim.n == 0)
        return;
    const char **set_req = k8c_malloc((def_req.n + 1) * sizeof(*set_req));
    const char **set_lim = k8c_malloc((def_lim.n + 1) * sizeof(*set_lim));
    if (c->resources == NULL) {
        c->resources = k8c_malloc(sizeof(*c->resources));
        k8s__io__api__core__v1__resource_requirements__init(c->resources);
    }
    api_quantity_map_fill((void ***)&c->resources->limits, &c->resources->n_limits,
                          (void *const *)def_lim.e, def_lim.n,
                          &k8s__io__api__core__v1__resource_requirements__limits_entry__descriptor,
                          set_lim, &n_lim, def_lim.n);
    api_quantity_map_fill(
        (void ***)&c->resources->requests, &c->resources->n_requests, (void *const *)def_req.e,
        def_req.n, &k8s__io__api__core__v1__resource_requirements__requests_entry__descriptor,
        set_req, &n_req, def_req.n);
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
    k8c_free(set_req);
    k8c_free(set_lim);
}

/* The Container defaults of one LimitRange: per resource the last item's (upstream fills one
 * map in item order), sorted by name. */
struct defaults {
    const struct api_quantity_entry **req, **lim;
    size_t n_req, n_lim;
};

struct seq_entry {
    const struct api_quantity_entry *e;
    size_t seq;
};

static int seq_entry_cmp(const void *a, const void *b)
{
    const struct seq_entry *x = a, *y = b;
    int c = strcmp(x->e->key, y->e->key);
    return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The entries of one map field of every Container item, the last of each name kept. */
static size_t defaults_of(const limit_range_t *lr, bool request,
                          const struct api_quantity_entry ***out)
{
    size_t cap = 0, n = 0, kept = 0;
    for (size_t i = 0; lr->spec != NULL && i < lr->spec->n_limits; i++)
        cap += request ? lr->spec->limits[i]->n_defaultrequest : lr->spec->limits[i]->n_default_;
    struct seq_entry *v = k8c_malloc((cap + 1) * sizeof(*v));
    for (size_t i = 0; lr->spec != NULL && i < lr->spec->n_limits; i++) {
        const limit_item_t *it = lr->spec->limits[i];
        size_t m = request ? it->n_defaultrequest : it->n_default_;
        void *const *list =
            request ? (void *const *)it->defaultrequest : (void *const *)it->default_;
        if (it->type == NULL || strcmp(it->type, "Container") != 0)
            continue;
        for (size_t j = 0; j < m; j++)
            if (((const struct api_quantity_entry *)list[j])->key != NULL) {
                v[n] = (struct seq_entry){list[j], n};
                n++;
            }
    }
    qsort(v, n, sizeof(*v), seq_entry_cmp);
    *out = k8c_malloc((n + 1) * sizeof(**out));
    for (size_t i = 0; i < n; i++)
        if (i + 1 == n || strcmp(v[i].e->key, v[i + 1].e->key) != 0)
            (*out)[kept++] = v[i].e;
    k8c_free(v);
    return kept;
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
            d.n_req = defaults_of(c.lr[l], true, &d.req);
            d.n_lim = defaults_of(c.lr[l], false, &d.lim);
            struct rlist req = {(struct api_quantity_entry *const *)d.req, d.n_req};
            struct rlist lim = {(struct api_quantity_entry *const *)d.lim, d.n_lim};
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
            k8c_free(d.req);
            k8c_free(d.lim);
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
