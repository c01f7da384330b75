/*
 * The resource table (see resources.h). Names, short names, categories,
 * verbs and storage keys are upstream's (kube-apiserver 1.32).
 */
#include "resources.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "error.h"

const char *const api_verb_names[API_VERBS_N] = {
    "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch",
};

#define CRUD     API_VERBS_ALL
#define CREATE   API_VERB_CREATE
#define READONLY (API_VERB_GET | API_VERB_LIST)
#define POD_SUBS                                                                                   \
    (API_SUB_STATUS | API_SUB_BINDING | API_SUB_EVICTION | API_SUB_LOG | API_SUB_EXEC |            \
     API_SUB_ATTACH | API_SUB_PORTFORWARD | API_SUB_PROXY | API_SUB_EPHEMERAL)

/* clang-format off */
static struct api_resource table[] = {
    /* group, version, resource, singular, kind, namespaced, storage, short names, categories, verbs, subresources */
    {"", "v1", "bindings", "binding", "Binding", true, "", "", "", CREATE, 0},
    {"", "v1", "componentstatuses", "componentstatus", "ComponentStatus", false, "", "cs", "", READONLY, 0},
    {"", "v1", "configmaps", "configmap", "ConfigMap", true, "configmaps", "cm", "", CRUD, 0},
    {"", "v1", "endpoints", "endpoints", "Endpoints", true, "services/endpoints", "ep", "", CRUD, 0},
    {"", "v1", "events", "event", "Event", true, "events", "ev", "", CRUD, 0},
    {"", "v1", "limitranges", "limitrange", "LimitRange", true, "limitranges", "limits", "", CRUD, 0},
    {"", "v1", "namespaces", "namespace", "Namespace", false, "namespaces", "ns", "", CRUD & ~API_VERB_DELETECOLLECTION, API_SUB_STATUS | API_SUB_FINALIZE},
    {"", "v1", "nodes", "node", "Node", false, "minions", "no", "", CRUD, API_SUB_STATUS | API_SUB_PROXY},
    {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, "persistentvolumeclaims", "pvc", "", CRUD, API_SUB_STATUS},
    {"", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, "persistentvolumes", "pv", "", CRUD, API_SUB_STATUS},
    {"", "v1", "pods", "pod", "Pod", true, "pods", "po", "all", CRUD, POD_SUBS},
    {"", "v1", "podtemplates", "podtemplate", "PodTemplate", true, "podtemplates", "", "", CRUD, 0},
    {"", "v1", "replicationcontrollers", "replicationcontroller", "ReplicationController", true, "controllers", "rc", "all", CRUD, API_SUB_STATUS | API_SUB_SCALE},
    {"", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, "resourcequotas", "quota", "", CRUD, API_SUB_STATUS},
    {"", "v1", "secrets", "secret", "Secret", true, "secrets", "", "", CRUD, 0},
    {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, "serviceaccounts", "sa", "", CRUD, API_SUB_TOKEN},
    {"", "v1", "services", "service", "Service", true, "services/specs", "svc", "all", CRUD & ~API_VERB_DELETECOLLECTION, API_SUB_STATUS | API_SUB_PROXY},
    {"apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, "controllerrevisions", "", "", CRUD, 0},
    {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, "daemonsets", "ds", "all", CRUD, API_SUB_STATUS},
    {"apps", "v1", "deployments", "deployment", "Deployment", true, "deployments", "deploy", "all", CRUD, API_SUB_STATUS | API_SUB_SCALE},
    {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, "replicasets", "rs", "all", CRUD, API_SUB_STATUS | API_SUB_SCALE},
    {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, "statefulsets", "sts", "all", CRUD, API_SUB_STATUS | API_SUB_SCALE},
    {"authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", false, "", "", "", CREATE, 0},
    {"authentication.k8s.io", "v1", "tokenreviews", "tokenreview", "TokenReview", false, "", "", "", CREATE, 0},
    {"authorization.k8s.io", "v1", "subjectaccessreviews", "subjectaccessreview", "SubjectAccessReview", false, "", "", "", CREATE, 0},
    {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", false, "", "", "", CREATE, 0},
    {"authorization.k8s.io", "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview", "SelfSubjectRulesReview", false, "", "", "", CREATE, 0},
    {"autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, "horizontalpodautoscalers", "hpa", "all", CRUD, API_SUB_STATUS},
    {"autoscaling", "v1", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, "horizontalpodautoscalers", "hpa", "all", CRUD, API_SUB_STATUS, "v2"},
    {"batch", "v1", "cronjobs", "cronjob", "CronJob", true, "cronjobs", "cj", "all", CRUD, API_SUB_STATUS},
    {"batch", "v1", "jobs", "job", "Job", true, "jobs", "", "all", CRUD, API_SUB_STATUS},
    {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, "leases", "", "", CRUD, 0},
    {"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, "endpointslices", "", "", CRUD, 0},
    {"events.k8s.io", "v1", "events", "event", "Event", true, "events", "ev", "", CRUD, 0, "/v1"},
    {"networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, "ingressclasses", "", "", CRUD, 0},
    {"networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, "ingress", "ing", "", CRUD, API_SUB_STATUS},
    {"networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, "networkpolicies", "netpol", "", CRUD, 0},
    {"node.k8s.io", "v1", "runtimeclasses", "runtimeclass", "RuntimeClass", false, "runtimeclasses", "", "", CRUD, 0},
    {"policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, "poddisruptionbudgets", "pdb", "", CRUD, API_SUB_STATUS},
    {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, "clusterrolebindings", "", "", CRUD, 0},
    {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, "clusterroles", "", "", CRUD, 0},
    {"rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, "rolebindings", "", "", CRUD, 0},
    {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, "roles", "", "", CRUD, 0},
    {"scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", false, "priorityclasses", "pc", "", CRUD, 0},
    {"storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, "storageclasses", "sc", "", CRUD, 0},
};
/* clang-format on */

static const size_t n_table = sizeof(table) / sizeof(table[0]);
static const char *group_versions[sizeof(table) / sizeof(table[0])];
static size_t n_group_versions;

int api_resources_init(char *errmsg)
{
    for (size_t i = 0; i < n_table; i++) {
        struct api_resource *r = &table[i];
        char av[128], lk[128];
        if (r->group[0] == '\0')
            snprintf(av, sizeof(av), "%s", r->version);
        else
            snprintf(av, sizeof(av), "%s/%s", r->group, r->version);
        snprintf(lk, sizeof(lk), "%sList", r->kind);
        const struct k8c_codec_kind *k = k8c_codec_lookup_kind(av, r->kind);
        if (k == NULL) {
            k8c_errmsg_printf(errmsg, "no schema for %s %s", av, r->kind);
            return K8C_ENOTFOUND;
        }
        r->desc = k->desc;
        const struct k8c_codec_kind *lk_kind = k8c_codec_lookup_kind(av, lk);
        r->list_desc = lk_kind ? lk_kind->desc : NULL;
        if (r->api_version == NULL) {
            r->api_version = k8c_strdup(av);
            r->list_kind = k8c_strdup(lk);
        }
        if (r->storage_version != NULL) {
            /* "v2": a version of the same group; "<group>/<version>" another group's ("/v1":
             * core) */
            const char *slash = strchr(r->storage_version, '/');
            char group[64] = "";
            if (slash != NULL && (size_t)(slash - r->storage_version) < sizeof(group))
                memcpy(group, r->storage_version, (size_t)(slash - r->storage_version));
            r->stored_as =
                api_resource_find(slash != NULL ? group : r->group,
                                  slash != NULL ? slash + 1 : r->storage_version, r->resource);
            if (r->stored_as == NULL) {
                k8c_errmsg_printf(errmsg, "%s %s: no storage version %s", av, r->resource,
                                  r->storage_version);
                return K8C_ENOTFOUND;
            }
        }
        bool seen = false;
        for (size_t j = 0; j < n_group_versions && !seen; j++)
            seen = strcmp(group_versions[j], r->api_version) == 0;
        if (!seen)
            group_versions[n_group_versions++] = r->api_version;
    }
    return 0;
}

const struct api_resource *api_resources(size_t *n)
{
    *n = n_table;
    return table;
}

const struct api_resource *api_resource_find(const char *group, const char *version,
                                             const char *resource)
{
    for (size_t i = 0; i < n_table; i++) {
        if (strcmp(table[i].resource, resource) == 0 && strcmp(table[i].group, group) == 0 &&
            strcmp(table[i].version, version) == 0)
            return &table[i];
    }
    return NULL;
}

const struct api_resource *api_resource_by_kind(const char *api_version, const char *kind)
{
    for (size_t i = 0; i < n_table; i++) {
        if (table[i].api_version != NULL && strcmp(table[i].kind, kind) == 0 &&
            strcmp(table[i].api_version, api_version) == 0)
            return &table[i];
    }
    return NULL;
}

const char *const *api_group_versions(size_t *n)
{
    *n = n_group_versions;
    return group_versions;
}
