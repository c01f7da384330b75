/*
 * Namespace deletion. Deleting a namespace marks it Terminating (with a
 * deletionTimestamp); then, as upstream's namespace controller would, every
 * namespaced object in it is removed from the store (services first, one by
 * one, so their cluster IPs and node ports are released), and finally the
 * namespace itself. It runs in the background of the DELETE request; a
 * namespace left Terminating by a restart is finished when it is deleted
 * again.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "nsdelete.h"
#include "object.h"
#include "svcalloc.h"

struct nsdel {
    struct api_server *srv;
    char ns[256];
    size_t pending;
};

static void ns_gone(void *arg, const struct api_etcd_result *res)
{
    struct nsdel *d = arg;
    if (res->err != 0)
        k8c_log_error("namespace deletion: cannot delete namespace ns=%s err=\"%s\"", d->ns,
                      res->errmsg);
    else
        k8c_log_info("namespace deleted ns=%s", d->ns);
    k8c_free(d);
}

static void one_done(void *arg, const struct api_etcd_result *res)
{
    struct nsdel *d = arg;
    if (res->err != 0)
        k8c_log_error("namespace deletion: store error ns=%s err=\"%s\"", d->ns, res->errmsg);
    if (--d->pending > 0)
        return;
    char key[1024];
    size_t n;
    const struct api_resource *rs = api_resources(&n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rs[i].resource, "namespaces") == 0) {
            api_key(d->srv, &rs[i], NULL, d->ns, key, sizeof(key));
            api_etcd_delete(d->srv->etcd, key, 0, ns_gone, d);
            return;
        }
    }
    k8c_free(d);
}

static void services_listed(void *arg, const struct api_etcd_result *res)
{
    struct nsdel *d = arg;
    const struct api_resource *r = api_resource_find("", "v1", "services");
    for (size_t i = 0; res->err == 0 && i < res->n; i++) {
        ProtobufCMessage *obj;
        char errmsg[K8C_ERRMSG_SIZE];
        if (api_obj_decode_storage(r, res->kvs[i].value, res->kvs[i].value_len,
                                   res->kvs[i].mod_revision, &obj, errmsg) == 0) {
            api_alloc_release_service(d->srv, obj);
            api_obj_free(obj);
        }
    }
    one_done(d, res);
}

void api_namespace_delete_contents(struct api_server *srv, const char *ns)
{
    struct nsdel *d = K8C_NEW(struct nsdel);
    size_t n;
    const struct api_resource *rs = api_resources(&n);
    d->srv = srv;
    snprintf(d->ns, sizeof(d->ns), "%s", ns);
    d->pending = 1;
    k8c_log_info("deleting namespace contents ns=%s", ns);
    for (size_t i = 0; i < n; i++) {
        const struct api_resource *r = &rs[i];
        char prefix[1024], end[1024];
        if (!r->namespaced || r->storage[0] == '\0' || r->stored_as != NULL)
            continue; /* another version of the same keys: deleted through its storage entry */
        api_key(srv, r, ns, "", prefix, sizeof(prefix));
        api_etcd_prefix_end(prefix, end, sizeof(end));
        d->pending++;
        if (strcmp(r->resource, "services") == 0) {
            d->pending++;
            api_etcd_range(srv->etcd, prefix, end, 0, 0, false, services_listed, d);
        }
        api_etcd_delete_range(srv->etcd, prefix, end, one_done, d);
    }
    struct api_etcd_result none = {0};
    one_done(d, &none);
}
