/*
 * Namespace deletion. Deleting a namespace marks it Terminating (with a
 * deletionTimestamp); then, as upstream's namespace controller would, every
 * namespaced object in it is removed from the store (services first, one by
 * one, so their cluster IPs and node ports are released), the "kubernetes"
 * finalizer is taken out of spec.finalizers (as namespaces/finalize would),
 * and the namespace goes once it has no finalizers left, in spec or in
 * metadata (otherwise it stays Terminating until they are removed, through
 * namespaces/finalize or an update: rest.c deletes it then). It runs in the
 * background of the DELETE request; a namespace left Terminating by a
 * restart is finished when it is deleted again.
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
    char key[1024]; /* the namespace's */
    int tries;      /* of the finalize step, lost to concurrent writes */
};

typedef K8s__Io__Api__Core__V1__Namespace namespace_t;

static void ns_read(struct nsdel *d);

static void ns_gone(void *arg, const struct api_etcd_result *res)
{
    struct nsdel *d = arg;
    if (res->err == K8C_ECONFLICT && ++d->tries < 5) {
        ns_read(d); /* written meanwhile: looked at again */
        return;
    }
    if (res->err != 0)
        k8c_log_error("namespace deletion: cannot delete namespace ns=%s err=\"%s\"", d->ns,
                      res->errmsg);
    else
        k8c_log_info("namespace deleted ns=%s", d->ns);
    k8c_free(d);
}

bool api_namespace_finalized(const ProtobufCMessage *obj)
{
    const namespace_t *ns = (const namespace_t *)obj;
    return ns->spec == NULL || ns->spec->n_finalizers == 0;
}

static void ns_written(void *arg, const struct api_etcd_result *res)
{
    struct nsdel *d = arg;
    if (res->err == K8C_ECONFLICT && ++d->tries < 5) {
        ns_read(d); /* written meanwhile: again from what is there now */
        return;
    }
    if (res->err != 0 && res->err != K8C_ENOTFOUND)
        k8c_log_error("namespace deletion: cannot finalize namespace ns=%s err=\"%s\"", d->ns,
                      res->errmsg);
    else if (res->err == 0)
        k8c_log_info("namespace finalized, kept for its other finalizers ns=%s", d->ns);
    k8c_free(d);
}

/* The contents are gone: the namespace without the "kubernetes" finalizer, or gone when no
 * finalizer is left. */
static void ns_got(void *arg, const struct api_etcd_result *res)
{
    struct nsdel *d = arg;
    const struct api_resource *r = api_resource_find("", "v1", "namespaces");
    ProtobufCMessage *obj = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    if (res->err != 0 || res->n == 0 || r == NULL ||
        api_obj_decode_storage(r, res->kv->value, res->kv->value_len, res->kv->mod_revision, &obj,
                               errmsg) != 0) {
        if (res->err != 0)
            k8c_log_error("namespace deletion: cannot read namespace ns=%s err=\"%s\"", d->ns,
                          res->errmsg);
        k8c_free(d);
        return;
    }
    namespace_t *ns = (namespace_t *)obj;
    const api_meta_t *m = api_obj_meta(obj);
    size_t kept = 0;
    bool had = false;
    for (size_t i = 0; ns->spec != NULL && i < ns->spec->n_finalizers; i++) {
        if (strcmp(ns->spec->finalizers[i], "kubernetes") == 0) {
            k8c_free(ns->spec->finalizers[i]);
            had = true;
        } else {
            ns->spec->finalizers[kept++] = ns->spec->finalizers[i];
        }
    }
    if (ns->spec != NULL)
        ns->spec->n_finalizers = kept;
    if (m == NULL || m->deletiontimestamp == NULL) {
        k8c_free(d); /* not being deleted (any more) */
    } else if (kept == 0 && m->n_finalizers == 0) {
        api_etcd_delete(d->srv->etcd, d->key, res->kv->mod_revision, ns_gone, d);
    } else if (!had) {
        k8c_log_info("namespace kept for its finalizers ns=%s", d->ns);
        k8c_free(d);
    } else {
        struct k8c_sbuf val;
        k8c_sbuf_init(&val);
        if (api_obj_encode_storage(r, obj, &val, errmsg) == 0) {
            api_etcd_update(d->srv->etcd, d->key, (const uint8_t *)val.data, val.len,
                            res->kv->mod_revision, 0, ns_written, d);
        } else {
            k8c_log_error("namespace deletion: cannot encode namespace ns=%s err=\"%s\"", d->ns,
                          errmsg);
            k8c_free(d);
        }
        k8c_sbuf_free(&val);
    }
    api_obj_free(obj);
}

static void ns_read(struct nsdel *d)
{
    api_etcd_range(d->srv->etcd, d->key, NULL, 0, 0, false, ns_got, d);
}

static void one_done(void *arg, const struct api_etcd_result *res)
{
    struct nsdel *d = arg;
    if (res->err != 0)
        k8c_log_error("namespace deletion: store error ns=%s err=\"%s\"", d->ns, res->errmsg);
    if (--d->pending > 0)
        return;
    const struct api_resource *r = api_resource_find("", "v1", "namespaces");
    if (r == NULL) {
        k8c_free(d);
        return;
    }
    api_key(d->srv, r, NULL, d->ns, d->key, sizeof(d->key));
    ns_read(d);
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
