/*
 * Service cluster IPs and node ports.
 *
 * Each allocated value is a key in the store, created only if absent:
 *   <prefix>/k8c/serviceips/<ip>          -> "<namespace>/<name>"
 *   <prefix>/k8c/servicenodeports/<port>  -> "<namespace>/<name>"
 * so several API servers never hand out the same value (the store's
 * compare-and-swap decides), and a value is free again once its key is
 * deleted with the service. A random candidate that is taken is retried with
 * another; after RANDOM_TRIES the range is scanned from a random start.
 *
 * Allocation runs before the service is stored; if storing fails afterwards
 * the keys are released again.
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
    char owner[600];
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
    (void)arg;
    (void)res;
}

static void release_item(struct api_server *srv, const struct item *it)
{
    char key[512];
    item_key(srv, it, key, sizeof(key));
    api_etcd_delete(srv->etcd, key, 0, release_done, NULL);
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
                release_item(req->srv, &op->items[i]);
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
    snprintf(op->owner, sizeof(op->owner), "%s/%s", req->ns, req->name);
    api_req_ref(req);
    if (svc->spec == NULL) {
        svc->spec = k8c_malloc(sizeof(*svc->spec));
        k8s__io__api__core__v1__service_spec__init(svc->spec);
    }
    K8s__Io__Api__Core__V1__ServiceSpec *spec = svc->spec;
    const char *type = spec->type && spec->type[0] ? spec->type : "ClusterIP";
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
    bool node_ports = strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0;
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
    if (svc == NULL || svc->spec == NULL)
        return;
    struct in_addr a;
    if (svc->spec->clusterip && inet_pton(AF_INET, svc->spec->clusterip, &a) == 1 &&
        strcmp(svc->spec->clusterip, "None") != 0) {
        struct item it = {.is_ip = true, .value = ntohl(a.s_addr)};
        release_item(srv, &it);
    }
    for (size_t i = 0; i < svc->spec->n_ports; i++) {
        if (svc->spec->ports[i]->has_nodeport && svc->spec->ports[i]->nodeport > 0) {
            struct item it = {.is_ip = false, .value = (uint32_t)svc->spec->ports[i]->nodeport};
            release_item(srv, &it);
        }
    }
}

/* The cluster IP a service holds (0: none). */
static uint32_t held_ip(const service_t *svc)
{
    struct in_addr a;
    const char *type = svc->spec->type && svc->spec->type[0] ? svc->spec->type : "ClusterIP";
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
    if (from == NULL || from->spec == NULL)
        return;
    uint32_t ip = held_ip(from);
    if (ip != 0 && (to == NULL || to->spec == NULL || held_ip(to) != ip)) {
        struct item it = {.is_ip = true, .value = ip};
        release_item(srv, &it);
    }
    for (size_t i = 0; i < from->spec->n_ports; i++) {
        const K8s__Io__Api__Core__V1__ServicePort *p = from->spec->ports[i];
        if (!p->has_nodeport || p->nodeport <= 0 ||
            (to != NULL && holds_node_port(to, p->nodeport)))
            continue;
        struct item it = {.is_ip = false, .value = (uint32_t)p->nodeport};
        release_item(srv, &it);
    }
}

void api_alloc_reserve_ip(struct api_server *srv, const char *ip, const char *owner)
{
    char key[512];
    snprintf(key, sizeof(key), "%s/k8c/serviceips/%s", srv->prefix, ip);
    api_etcd_create(srv->etcd, key, (const uint8_t *)owner, strlen(owner), 0, release_done, NULL);
}
