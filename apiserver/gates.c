/*
 * Disabled feature gates' fields (see gates.h).
 */
#include "gates.h"

#include <stdbool.h>
#include <string.h>

#include "alloc.h"
#include "object.h"

#include "k8s/api/coordination/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"

typedef K8s__Io__Api__Core__V1__PodSpec pod_spec_t;
typedef K8s__Io__Api__Core__V1__SecurityContext security_context_t;

/* The security context of every container (init, regular, ephemeral) in turn */
static security_context_t *container_context(const pod_spec_t *s, size_t i)
{
    if (i < s->n_initcontainers)
        return s->initcontainers[i]->securitycontext;
    i -= s->n_initcontainers;
    if (i < s->n_containers)
        return s->containers[i]->securitycontext;
    i -= s->n_containers;
    if (i < s->n_ephemeralcontainers && s->ephemeralcontainers[i]->ephemeralcontainercommon)
        return s->ephemeralcontainers[i]->ephemeralcontainercommon->securitycontext;
    return NULL;
}

static size_t all_containers(const pod_spec_t *s)
{
    return s->n_initcontainers + s->n_containers + s->n_ephemeralcontainers;
}

static bool proc_mount_in_use(const pod_spec_t *s)
{
    for (size_t i = 0; s != NULL && i < all_containers(s); i++) {
        const security_context_t *sc = container_context(s, i);
        if (sc != NULL && sc->procmount != NULL && strcmp(sc->procmount, "Default") != 0)
            return true;
    }
    return false;
}

static void drop_str(char **field)
{
    k8c_free(*field);
    *field = NULL;
}

static void drop_resource_claims(K8s__Io__Api__Core__V1__ResourceRequirements *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_claims; i++)
        api_obj_free(&r->claims[i]->base);
    k8c_free(r->claims);
    r->claims = NULL;
    r->n_claims = 0;
}

static void drop_pod_spec(pod_spec_t *s, const pod_spec_t *o)
{
    K8s__Io__Api__Core__V1__PodSecurityContext *psc = s->securitycontext;
    const K8s__Io__Api__Core__V1__PodSecurityContext *opsc = o != NULL ? o->securitycontext : NULL;

    if (!proc_mount_in_use(o)) {
        for (size_t i = 0; i < all_containers(s); i++) {
            security_context_t *sc = container_context(s, i);
            if (sc != NULL && sc->procmount != NULL && strcmp(sc->procmount, "Default") != 0) {
                k8c_free(sc->procmount);
                sc->procmount = k8c_strdup("Default");
            }
        }
    }
    if (s->has_hostusers && !(o != NULL && o->has_hostusers))
        s->has_hostusers = false;
    if (psc != NULL && psc->supplementalgroupspolicy != NULL &&
        !(opsc != NULL && opsc->supplementalgroupspolicy != NULL))
        drop_str(&psc->supplementalgroupspolicy);
    if (psc != NULL && psc->selinuxchangepolicy != NULL &&
        !(opsc != NULL && opsc->selinuxchangepolicy != NULL))
        drop_str(&psc->selinuxchangepolicy);
    if (!(o != NULL && o->n_resourceclaims > 0)) {
        for (size_t i = 0; i < s->n_resourceclaims; i++)
            api_obj_free(&s->resourceclaims[i]->base);
        k8c_free(s->resourceclaims);
        s->resourceclaims = NULL;
        s->n_resourceclaims = 0;
        for (size_t i = 0; i < s->n_initcontainers; i++)
            drop_resource_claims(s->initcontainers[i]->resources);
        for (size_t i = 0; i < s->n_containers; i++)
            drop_resource_claims(s->containers[i]->resources);
    }
    if (s->resources != NULL && !(o != NULL && o->resources != NULL)) {
        api_obj_free(&s->resources->base);
        s->resources = NULL;
    }
}

void api_gates_drop_disabled(ProtobufCMessage *obj, const ProtobufCMessage *old)
{
    if (obj == NULL)
        return;
    if (obj->descriptor == &k8s__io__api__coordination__v1__lease__descriptor) {
        K8s__Io__Api__Coordination__V1__Lease *l = (void *)obj;
        const K8s__Io__Api__Coordination__V1__Lease *o =
            old != NULL && old->descriptor == obj->descriptor ? (const void *)old : NULL;
        const K8s__Io__Api__Coordination__V1__LeaseSpec *os = o != NULL ? o->spec : NULL;
        if (l->spec != NULL && l->spec->strategy != NULL && !(os != NULL && os->strategy != NULL))
            drop_str(&l->spec->strategy);
        if (l->spec != NULL && l->spec->preferredholder != NULL &&
            !(os != NULL && os->preferredholder != NULL))
            drop_str(&l->spec->preferredholder);
        return;
    }
    pod_spec_t *s = (pod_spec_t *)api_obj_pod_spec(obj);
    if (s != NULL)
        drop_pod_spec(s, old != NULL && old->descriptor == obj->descriptor
                             ? (const pod_spec_t *)api_obj_pod_spec(old)
                             : NULL);
}
