/*
 * Service cluster IPs and node ports.
 *
 * Each allocated value is a key in the store, created only if absent:
 *   <prefix>/k8c/serviceips/<ip>          -> "<namespace>/<name>/<uid>"
 *   <prefix>/k8c/servicenodeports/<port>  -> "<namespace>/<name>/<uid>"
 * so several API servers never hand out the same value (the store's
 * compare-and-swap decides), and a value is free again once its key is
 * deleted with the service. A random candidate that is taken is retried with
 * another; after RANDOM_TRIES the range is scanned from a random start.
 *
 * Allocation runs before the service is stored; if storing fails afterwards
 * the keys are released again. A release deletes a key only while it still
 * names the service releasing it (read, then a delete at that mod revision):
 * a second release of one service, by two deletes racing or a delete tried
 * again after its answer was lost, must not free a value that another
 * service has taken since. The uid tells the holder, as a create tried again
 * with another generated name keeps it; a value without one (the bootstrap
 * "kubernetes" service's, or one written before uids were kept) by name.
 */
#include "svcalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "log.h"
#include "object.h"

typedef K8s__Io__Api__Core__V1__Service service_t;

#define RANDOM_TRIES 16
#define MAX_ITEMS    (1 + 128) /* one IP and up to 128 ports */
#define OWNER_SIZE   600       /* "<namespace>/<name>/<uid>" */

struct item {
    bool is_ip;
    uint32_t value;  /* IPv4 address (host order) or port */
    bool fixed;      /* asked for by the client: no retry with another value */
    int32_t *target; /* where a chosen port goes */
    int port_index;
    bool done;
};

struct alloc_op {
    struct api_req *req;
    service_t *svc;
    api_alloc_done_fn done;
    struct item items[MAX_ITEMS];
    size_t n, cur;
    unsigned tries;
    uint32_t scan_from, scanned;
    char owner[OWNER_SIZE];
    bool dry_run;
};

static void ip_string(uint32_t ip, char *out, size_t size)
{
    struct in_addr a = {htonl(ip)};
    inet_ntop(AF_INET, &a, out, (socklen_t)size);
}

static void item_key(const struct api_server *srv, const struct item *it, char *out, size_t size)
{
    char v[INET_ADDRSTRLEN];
    if (it->is_ip) {
        ip_string(it->value, v, sizeof(v));
        snprintf(out, size, "%s/k8c/serviceips/%s", srv->prefix, v);
    } else {
        snprintf(out, size, "%s/k8c/servicenodeports/%u", srv->prefix, it->value);
    }
}

static void release_done(void *arg, const struct api_etcd_result *res)
{
    (void)res;
    k8c_free(arg);
}

struct release {
    struct api_etcd *etcd;
    char key[512];
    char owner[OWNER_SIZE];
};

/* Whether a key's value v names owner ("<namespace>/<name>/<uid>"); see the top. */
static bool held_by(const uint8_t *v, size_t len, const char *owner)
{
    const char *uid = strrchr(owner, '/') + 1;
    const uint8_t *slash = memchr(v, '/', len);
    if (slash == NULL)
        return false;
    const uint8_t *second = memchr(slash + 1, '/', len - (size_t)(slash + 1 - v));
    if (second != NULL) {
        size_t n = len - (size_t)(second + 1 - v);
        return n > 0 && n == strlen(uid) && memcmp(second + 1, uid, n) == 0;
    }
    size_t n = (size_t)(uid - 1 - owner); /* "<namespace>/<name>" */
    return len == n && memcmp(v, owner, n) == 0;
}

static void release_read(void *arg, const struct api_etcd_result *res)
{
    struct release *r = arg;
    if (res->err == 0 && res->kv != NULL && held_by(res->kv->value, res->kv->value_len, r->owner)) {
        api_etcd_delete(r->etcd, r->key, res->kv->mod_revision, release_done, r);
        return;
    }
    k8c_free(r);
}

/* Frees the item's value if its key names owner ("<namespace>/<name>/<uid>"). */
static void release_item(struct api_server *srv, const struct item *it, const char *owner)
{
    struct release *r = K8C_NEW(struct release);
    r->etcd = srv->etcd;
    item_key(srv, it, r->key, sizeof(r->key));
    snprintf(r->owner, sizeof(r->owner), "%s", owner);
    api_etcd_range(srv->etcd, r->key, NULL, 1, 0, false, release_read, r);
}

/* The owner a service's keys name: "<namespace>/<name>/<uid>". */
static void service_owner(const service_t *svc, char *out, size_t size)
{
    const K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta *m = svc->metadata;
    snprintf(out, size, "%s/%s/%s", m != NULL && m->namespace_ != NULL ? m->namespace_ : "",
             m != NULL && m->name != NULL ? m->name : "",
             m != NULL && m->uid != NULL ? m->uid : "");
}

/* Random value in the item's range (IPs skip the network address, the first
 * address which the kubernetes service has, and the broadcast address). */
static uint32_t pick(const struct api_server *srv, const struct item *it, uint32_t r)
{
    if (it->is_ip) {
        uint32_t usable = srv->svc_size > 3 ? srv->svc_size - 3 : 1;
        return srv->svc_base + 2 + r % usable;
    }
    uint32_t span = (uint32_t)(srv->node_port_hi - srv->node_port_lo + 1);
    return (uint32_t)srv->node_port_lo + r % span;
}

static void alloc_next(struct alloc_op *op);

static void finish(struct alloc_op *op, int code, const char *msg)
{
    struct api_req *req = op->req;
    if (code != 0) {
        for (size_t i = 0; i < op->n; i++)
            if (op->items[i].done && !op->dry_run)
                release_item(req->srv, &op->items[i], op->owner);
    } else {
        /* write the chosen values into the service */
        for (size_t i = 0; i < op->n; i++) {
            struct item *it = &op->items[i];
            if (it->is_ip) {
                char ip[INET_ADDRSTRLEN];
                ip_string(it->value, ip, sizeof(ip));
                api_set_str(&op->svc->spec->clusterip, ip);
                for (size_t j = 0; j < op->svc->spec->n_clusterips; j++)
                    k8c_free(op->svc->spec->clusterips[j]);
                op->svc->spec->clusterips = k8c_realloc(op->svc->spec->clusterips, sizeof(char *));
                op->svc->spec->clusterips[0] = k8c_strdup(ip);
                op->svc->spec->n_clusterips = 1;
            } else {
                K8s__Io__Api__Core__V1__ServicePort *p = op->svc->spec->ports[it->port_index];
                p->has_nodeport = true;
                p->nodeport = (int32_t)it->value;
            }
        }
    }
    api_alloc_done_fn done = op->done;
    k8c_free(op);
    done(req, code, msg);
    api_req_unref(req);
}

static void reserved(void *arg, const struct api_etcd_result *res)
{
    struct alloc_op *op = arg;
    struct item *it = &op->items[op->cur];
    char msg[512], v[INET_ADDRSTRLEN];
    if (res->err == 0) {
        it->done = true;
        op->cur++;
        op->tries = 0;
        op->scanned = 0;
        alloc_next(op);
        return;
    }
    if (res->err != K8C_EEXIST) {
        snprintf(msg, sizeof(msg), "Internal error occurred: allocation: %s",
                 res->errmsg ? res->errmsg : "store error");
        finish(op, 500, msg);
        return;
    }
    if (it->fixed) {
        if (it->is_ip) {
            ip_string(it->value, v, sizeof(v));
            snprintf(msg, sizeof(msg),
                     "Service \"%s\" is invalid: spec.clusterIPs: Invalid value: [\"%s\"]: "
                     "failed to allocate IP %s: provided IP is already allocated",
                     op->req->name, v, v);
        } else {
            snprintf(msg, sizeof(msg),
                     "Service \"%s\" is invalid: spec.ports[%d].nodePort: Invalid value: %u: "
                     "provided port is already allocated",
                     op->req->name, it->port_index, it->value);
        }
        finish(op, 422, msg);
        return;
    }
    /* taken: another candidate */
    uint32_t span = it->is_ip
                        ? (op->req->srv->svc_size > 3 ? op->req->srv->svc_size - 3 : 1)
                        : (uint32_t)(op->req->srv->node_port_hi - op->req->srv->node_port_lo + 1);
    if (++op->tries < RANDOM_TRIES) {
        it->value = pick(op->req->srv, it, (uint32_t)rand());
    } else {
        if (op->scanned == 0)
            op->scan_from = (uint32_t)rand();
        if (++op->scanned > span) {
            snprintf(msg, sizeof(msg),
                     it->is_ip ? "Internal error occurred: failed to allocate a serviceIP: range "
                                 "is full"
                               : "Internal error occurred: failed to allocate a nodePort: range "
                                 "is full");
            finish(op, 500, msg);
            return;
        }
        it->value = pick(op->req->srv, it, op->scan_from + op->scanned);
    }
    alloc_next(op);
}

static void alloc_next(struct alloc_op *op)
{
    if (op->cur >= op->n) {
        finish(op, 0, NULL);
        return;
    }
    if (op->dry_run) {
        op->cur++;
        alloc_next(op);
        return;
    }
    char key[512];
    item_key(op->req->srv, &op->items[op->cur], key, sizeof(key));
    api_etcd_create(op->req->srv->etcd, key, (const uint8_t *)op->owner, strlen(op->owner), 0,
                    reserved, op);
}

static bool owned_before(const service_t *old, const struct item *it)
{
    if (old == NULL || old->spec == NULL)
        return false;
    if (it->is_ip) {
        struct in_addr a;
        return old->spec->clusterip && inet_pton(AF_INET, old->spec->clusterip, &a) == 1 &&
               ntohl(a.s_addr) == it->value;
    }
    for (size_t i = 0; i < old->spec->n_ports; i++)
        if (old->spec->ports[i]->has_nodeport &&
            (uint32_t)old->spec->ports[i]->nodeport == it->value)
            return true;
    return false;
}

/* ---- the service strategy's update steps (upstream's svcrest beginUpdate and
 * svcStrategy.PrepareForUpdate) ---- */

typedef K8s__Io__Api__Core__V1__ServiceSpec spec_t;
typedef K8s__Io__Api__Core__V1__ServicePort port_t;

static void clear_strings(char ***items, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        k8c_free((*items)[i]);
    k8c_free(*items);
    *items = NULL;
    *n = 0;
}

/* Whether two services' spec.clusterIPs are the same list. */
static bool same_cluster_ips(const spec_t *a, const spec_t *b)
{
    if (a->n_clusterips != b->n_clusterips)
        return false;
    for (size_t i = 0; i < a->n_clusterips; i++)
        if (strcmp(a->clusterips[i] ? a->clusterips[i] : "",
                   b->clusterips[i] ? b->clusterips[i] : "") != 0)
            return false;
    return true;
}

/* Upstream's normalizeClusterIPs on an update: a client that changed spec.clusterIP alone (an
 * old one, or a patch) changed clusterIPs[0] too, or cleared the list with it; validation then
 * says whether that may be. */
static void normalize_cluster_ips(service_t *svc, const service_t *old)
{
    spec_t *s = svc->spec;
    const spec_t *o = old->spec;
    if (s == NULL || o == NULL)
        return;
    const char *nip = s->clusterip ? s->clusterip : "", *oip = o->clusterip ? o->clusterip : "";
    if (strcmp(nip, oip) == 0 || !same_cluster_ips(s, o))
        return;
    if (nip[0] == '\0')
        clear_strings(&s->clusterips, &s->n_clusterips);
    else if (s->n_clusterips > 0) {
        k8c_free(s->clusterips[0]);
        s->clusterips[0] = k8c_strdup(nip);
    }
}

static const char *service_type(const spec_t *s)
{
    return s->type != NULL && s->type[0] != '\0' ? s->type : "ClusterIP";
}

static bool str_same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The set of node ports a service's ports hold. */
static bool same_node_ports(const spec_t *a, const spec_t *b)
{
    for (int pass = 0; pass < 2; pass++) {
        const spec_t *x = pass ? b : a, *y = pass ? a : b;
        for (size_t i = 0; i < x->n_ports; i++) {
            if (!x->ports[i]->has_nodeport || x->ports[i]->nodeport == 0)
                continue;
            bool found = false;
            for (size_t j = 0; j < y->n_ports && !found; j++)
                found = y->ports[j]->has_nodeport && y->ports[j]->nodeport == x->ports[i]->nodeport;
            if (!found)
                return false;
        }
    }
    return true;
}

/* NodePort and LoadBalancer services hold node ports (needsNodePort). */
static bool needs_node_port(const spec_t *s)
{
    const char *t = service_type(s);
    return strcmp(t, "NodePort") == 0 || strcmp(t, "LoadBalancer") == 0;
}

/* A LoadBalancer with externalTrafficPolicy Local holds a health check node port. */
static bool needs_hc_node_port(const spec_t *s)
{
    return strcmp(service_type(s), "LoadBalancer") == 0 &&
           str_same(s->externaltrafficpolicy, "Local");
}

static bool externally_accessible(const spec_t *s)
{
    const char *t = service_type(s);
    return strcmp(t, "LoadBalancer") == 0 || strcmp(t, "NodePort") == 0 ||
           (strcmp(t, "ClusterIP") == 0 && s->n_externalips > 0);
}

/* Upstream's patchAllocatedValues: an update that leaves out what was allocated for the
 * service (its cluster IPs, node ports, health check node port: `kubectl replace -f` of the
 * manifest it was created from) keeps those values instead of getting new ones. A node port is
 * taken back by the port of the same name, unless the update gives it to another port. */
static void patch_allocated_values(service_t *svc, const service_t *old)
{
    spec_t *s = svc->spec;
    const spec_t *o = old->spec;
    if (s == NULL || o == NULL)
        return;
    if (strcmp(service_type(s), "ExternalName") != 0 &&
        strcmp(service_type(o), "ExternalName") != 0) {
        if ((s->clusterip == NULL || s->clusterip[0] == '\0') && o->clusterip != NULL)
            api_set_str(&s->clusterip, o->clusterip);
        if (s->n_clusterips == 0 && o->n_clusterips > 0) {
            s->clusterips = k8c_calloc(o->n_clusterips, sizeof(char *));
            for (size_t i = 0; i < o->n_clusterips; i++)
                s->clusterips[i] = k8c_strdup(o->clusterips[i] ? o->clusterips[i] : "");
            s->n_clusterips = o->n_clusterips;
        }
    }
    if (needs_node_port(o) && needs_node_port(s)) {
        for (size_t i = 0; i < s->n_ports; i++) {
            port_t *p = s->ports[i];
            if (p->has_nodeport && p->nodeport != 0)
                continue;
            int32_t was = 0;
            for (size_t j = 0; j < o->n_ports && was == 0; j++)
                if (str_same(o->ports[j]->name ? o->ports[j]->name : "", p->name ? p->name : "") &&
                    o->ports[j]->has_nodeport)
                    was = o->ports[j]->nodeport;
            bool used = false; /* held before and still held by a port of the update */
            for (size_t j = 0; j < s->n_ports && was != 0 && !used; j++)
                used = s->ports[j]->has_nodeport && s->ports[j]->nodeport == was;
            if (was != 0 && !used) {
                p->has_nodeport = true;
                p->nodeport = was;
            }
        }
    }
    if (needs_hc_node_port(o) && needs_hc_node_port(s) &&
        (!s->has_healthchecknodeport || s->healthchecknodeport == 0) &&
        o->has_healthchecknodeport) {
        s->has_healthchecknodeport = true;
        s->healthchecknodeport = o->healthchecknodeport;
    }
}

/* Upstream's dropTypeDependentFields: a service whose new type no longer uses a field it was
 * given (a cluster IP, node ports, the health check node port, ...) loses it, unless the update
 * also changed that field (validation judges that). The values it held are released once the
 * update is stored (api_alloc_release_unused). */
static void drop_type_dependent_fields(service_t *svc, const service_t *old)
{
    spec_t *s = svc->spec;
    const spec_t *o = old->spec;
    if (s == NULL || o == NULL)
        return;
    const char *nt = service_type(s), *ot = service_type(o);
    if (strcmp(ot, "ExternalName") != 0 && strcmp(nt, "ExternalName") == 0) {
        if (str_same(s->clusterip, o->clusterip) && same_cluster_ips(s, o)) {
            api_set_str(&s->clusterip, NULL);
            clear_strings(&s->clusterips, &s->n_clusterips);
        }
        bool same_families = s->n_ipfamilies == o->n_ipfamilies;
        for (size_t i = 0; same_families && i < s->n_ipfamilies; i++)
            same_families = str_same(s->ipfamilies[i], o->ipfamilies[i]);
        if (same_families)
            clear_strings(&s->ipfamilies, &s->n_ipfamilies);
        if (str_same(s->ipfamilypolicy, o->ipfamilypolicy))
            api_set_str(&s->ipfamilypolicy, NULL);
    }
    if (needs_node_port(o) && !needs_node_port(s) && same_node_ports(s, o)) {
        for (size_t i = 0; i < s->n_ports; i++) {
            s->ports[i]->has_nodeport = false;
            s->ports[i]->nodeport = 0;
        }
    }
    if (needs_hc_node_port(o) && !needs_hc_node_port(s) &&
        s->healthchecknodeport == o->healthchecknodeport) {
        s->has_healthchecknodeport = false;
        s->healthchecknodeport = 0;
    }
    if (strcmp(ot, "LoadBalancer") == 0 && strcmp(nt, "LoadBalancer") != 0) {
        if (s->has_allocateloadbalancernodeports && o->has_allocateloadbalancernodeports &&
            s->allocateloadbalancernodeports == o->allocateloadbalancernodeports)
            s->has_allocateloadbalancernodeports = false;
        if (str_same(s->loadbalancerclass, o->loadbalancerclass))
            api_set_str(&s->loadbalancerclass, NULL);
    }
    if (externally_accessible(o) && !externally_accessible(s) &&
        str_same(s->externaltrafficpolicy, o->externaltrafficpolicy))
        api_set_str(&s->externaltrafficpolicy, NULL);
    if (strcmp(nt, "LoadBalancer") != 0 && svc->status != NULL &&
        svc->status->loadbalancer != NULL) {
        api_obj_free(&svc->status->loadbalancer->base);
        svc->status->loadbalancer = NULL;
    }
}

void api_service_prepare_update(ProtobufCMessage *obj, const ProtobufCMessage *old_obj)
{
    service_t *svc = (service_t *)obj;
    const service_t *old = (const service_t *)old_obj;
    patch_allocated_values(svc, old);
    normalize_cluster_ips(svc, old);
    drop_type_dependent_fields(svc, old);
}

void api_alloc_service(struct api_req *req, ProtobufCMessage *obj, const ProtobufCMessage *old_obj,
                       bool dry_run, api_alloc_done_fn done)
{
    struct api_server *srv = req->srv;
    service_t *svc = (service_t *)obj;
    const service_t *old = (const service_t *)old_obj;
    struct alloc_op *op = K8C_NEW(struct alloc_op);
    char msg[512];
    op->req = req;
    op->svc = svc;
    op->done = done;
    op->dry_run = dry_run;
    service_owner(svc, op->owner, sizeof(op->owner));
    api_req_ref(req);
    if (svc->spec == NULL) {
        svc->spec = k8c_malloc(sizeof(*svc->spec));
        k8s__io__api__core__v1__service_spec__init(svc->spec);
    }
    K8s__Io__Api__Core__V1__ServiceSpec *spec = svc->spec;
    const char *type = service_type(spec);
    if (strcmp(type, "ExternalName") != 0) {
        const char *ip = spec->clusterip;
        if ((ip == NULL || ip[0] == '\0') && spec->n_clusterips > 0)
            ip = spec->clusterips[0];
        if (ip == NULL || ip[0] == '\0') {
            struct item *it = &op->items[op->n++];
            it->is_ip = true;
            it->value = pick(srv, it, (uint32_t)rand());
        } else if (strcmp(ip, "None") != 0) {
            struct in_addr a;
            if (inet_pton(AF_INET, ip, &a) != 1) {
                snprintf(msg, sizeof(msg),
                         "Service \"%s\" is invalid: spec.clusterIPs[0]: Invalid value: \"%s\": "
                         "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                         req->name, ip);
                finish(op, 422, msg);
                return;
            }
            uint32_t v = ntohl(a.s_addr);
            if (v < srv->svc_base || v >= srv->svc_base + srv->svc_size) {
                snprintf(msg, sizeof(msg),
                         "Service \"%s\" is invalid: spec.clusterIPs: Invalid value: [\"%s\"]: "
                         "failed to allocate IP %s: the provided IP (%s) is not in the valid "
                         "range. The range of valid IPs is %s",
                         req->name, ip, ip, ip, srv->service_cidr);
                finish(op, 422, msg);
                return;
            }
            struct item it = {.is_ip = true, .value = v, .fixed = true};
            if (!owned_before(old, &it))
                op->items[op->n++] = it;
        }
    }
    bool node_ports = needs_node_port(spec);
    for (size_t i = 0; node_ports && i < spec->n_ports && op->n < MAX_ITEMS; i++) {
        K8s__Io__Api__Core__V1__ServicePort *p = spec->ports[i];
        struct item it = {.is_ip = false, .port_index = (int)i};
        if (p->has_nodeport && p->nodeport != 0) {
            if (p->nodeport < srv->node_port_lo || p->nodeport > srv->node_port_hi) {
                snprintf(msg, sizeof(msg),
                         "Service \"%s\" is invalid: spec.ports[%zu].nodePort: Invalid value: "
                         "%d: provided port is not in the valid range. The range of valid ports "
                         "is %d-%d",
                         req->name, i, p->nodeport, srv->node_port_lo, srv->node_port_hi);
                finish(op, 422, msg);
                return;
            }
            it.value = (uint32_t)p->nodeport;
            it.fixed = true;
            if (owned_before(old, &it))
                continue;
        } else {
            it.value = pick(srv, &it, (uint32_t)rand());
        }
        op->items[op->n++] = it;
    }
    alloc_next(op);
}

void api_alloc_release_service(struct api_server *srv, const ProtobufCMessage *obj)
{
    const service_t *svc = (const service_t *)obj;
    char owner[OWNER_SIZE];
    if (svc == NULL || svc->spec == NULL)
        return;
    service_owner(svc, owner, sizeof(owner));
    struct in_addr a;
    if (svc->spec->clusterip && inet_pton(AF_INET, svc->spec->clusterip, &a) == 1 &&
        strcmp(svc->spec->clusterip, "None") != 0) {
        struct item it = {.is_ip = true, .value = ntohl(a.s_addr)};
        release_item(srv, &it, owner);
    }
    for (size_t i = 0; i < svc->spec->n_ports; i++) {
        if (svc->spec->ports[i]->has_nodeport && svc->spec->ports[i]->nodeport > 0) {
            struct item it = {.is_ip = false, .value = (uint32_t)svc->spec->ports[i]->nodeport};
            release_item(srv, &it, owner);
        }
    }
}

/* The cluster IP a service holds (0: none). */
static uint32_t held_ip(const service_t *svc)
{
    struct in_addr a;
    const char *type = service_type(svc->spec);
    if (strcmp(type, "ExternalName") == 0 || svc->spec->clusterip == NULL ||
        inet_pton(AF_INET, svc->spec->clusterip, &a) != 1)
        return 0;
    return ntohl(a.s_addr);
}

static bool holds_node_port(const service_t *svc, int32_t port)
{
    for (size_t i = 0; svc->spec != NULL && i < svc->spec->n_ports; i++)
        if (svc->spec->ports[i]->has_nodeport && svc->spec->ports[i]->nodeport == port)
            return true;
    return false;
}

void api_alloc_release_unused(struct api_server *srv, const ProtobufCMessage *from_obj,
                              const ProtobufCMessage *to_obj)
{
    const service_t *from = (const service_t *)from_obj, *to = (const service_t *)to_obj;
    char owner[OWNER_SIZE];
    if (from == NULL || from->spec == NULL)
        return;
    service_owner(from, owner, sizeof(owner));
    uint32_t ip = held_ip(from);
    if (ip != 0 && (to == NULL || to->spec == NULL || held_ip(to) != ip)) {
        struct item it = {.is_ip = true, .value = ip};
        release_item(srv, &it, owner);
    }
    for (size_t i = 0; i < from->spec->n_ports; i++) {
        const K8s__Io__Api__Core__V1__ServicePort *p = from->spec->ports[i];
        if (!p->has_nodeport || p->nodeport <= 0 ||
            (to != NULL && holds_node_port(to, p->nodeport)))
            continue;
        struct item it = {.is_ip = false, .value = (uint32_t)p->nodeport};
        release_item(srv, &it, owner);
    }
}

static void reserve_done(void *arg, const struct api_etcd_result *res)
{
    (void)arg;
    (void)res;
}

void api_alloc_reserve_ip(struct api_server *srv, const char *ip, const char *owner)
{
    char key[512];
    snprintf(key, sizeof(key), "%s/k8c/serviceips/%s", srv->prefix, ip);
    api_etcd_create(srv->etcd, key, (const uint8_t *)owner, strlen(owner), 0, reserve_done, NULL);
}
