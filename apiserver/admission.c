/*
 * Admission (see admission.h).
 */
#include "admission.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "defaults.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "object.h"

typedef K8s__Io__Api__Core__V1__Pod pod_t;
typedef K8s__Io__Api__Core__V1__PodStatus pod_status_t;

/* Upstream's QoS class of a pod: Guaranteed when every container has equal
 * cpu and memory requests and limits, BestEffort when none has any, else
 * Burstable. */
static const char *pod_qos(const pod_t *pod)
{
    bool any = false, guaranteed = true;
    const K8s__Io__Api__Core__V1__PodSpec *spec = pod->spec;
    if (spec == NULL)
        return "BestEffort";
    for (size_t pass = 0; pass < 2; pass++) {
        size_t n = pass == 0 ? spec->n_containers : spec->n_initcontainers;
        K8s__Io__Api__Core__V1__Container **cs =
            pass == 0 ? spec->containers : spec->initcontainers;
        for (size_t i = 0; i < n; i++) {
            const K8s__Io__Api__Core__V1__ResourceRequirements *r = cs[i]->resources;
            size_t nl = r ? r->n_limits : 0, nr = r ? r->n_requests : 0;
            any |= nl > 0 || nr > 0;
            for (const char *const *name = (const char *const[]){"cpu", "memory", NULL}; *name;
                 name++) {
                const char *lim = NULL, *req = NULL;
                for (size_t j = 0; j < nl; j++)
                    if (strcmp(r->limits[j]->key, *name) == 0 && r->limits[j]->value)
                        lim = r->limits[j]->value->string;
                for (size_t j = 0; j < nr; j++)
                    if (strcmp(r->requests[j]->key, *name) == 0 && r->requests[j]->value)
                        req = r->requests[j]->value->string;
                if (lim == NULL || (req != NULL && strcmp(req, lim) != 0))
                    guaranteed = false;
            }
        }
    }
    if (!any)
        return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
}

/* What upstream's strategies do on create before defaults. */
static void prepare_create(const struct api_resource *r, ProtobufCMessage *obj)
{
    ProtobufCMessage **status = api_obj_field(obj, "status");
    if (strcmp(r->resource, "pods") == 0) {
        pod_t *pod = (pod_t *)obj;
        if (pod->status != NULL)
            api_obj_free(&pod->status->base);
        pod->status = k8c_malloc(sizeof(*pod->status));
        k8s__io__api__core__v1__pod_status__init(pod->status);
        pod->status->phase = k8c_strdup("Pending");
        pod->status->qosclass = k8c_strdup(pod_qos(pod));
        return;
    }
    /* Status belongs to controllers: a create starts with none (nodes and
     * namespaces keep theirs: the kubelet and defaults fill them). */
    if (status != NULL && *status != NULL && (r->subresources & API_SUB_STATUS) &&
        strcmp(r->resource, "nodes") != 0 && strcmp(r->resource, "namespaces") != 0 &&
        strcmp(r->resource, "persistentvolumes") != 0 &&
        strcmp(r->resource, "persistentvolumeclaims") != 0) {
        api_obj_free(*status);
        *status = NULL;
    }
}

int api_admit(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
              const char *sub, ProtobufCMessage *obj, const ProtobufCMessage *old, char *errmsg,
              size_t size)
{
    (void)srv;
    (void)sub;
    (void)old;
    if (verb == VERB_CREATE) {
        prepare_create(r, obj);
        api_defaults_apply_create(r, obj);
    } else {
        api_defaults_apply(r, obj);
    }
    errmsg[0] = '\0';
    (void)size;
    return 0;
}
