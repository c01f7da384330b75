/*
 * OpenAPI v3 and v2 documents (see openapi.h).
 *
 * Generation walks the resource table: for each resource it writes the REST paths and their
 * operations, and every operation that names a type pulls that type's schema, and through its
 * fields the schemas of every message it reaches, into the document (a type is added once,
 * before its fields are walked, so recursive types end). The v2 and v3 flavours differ only in
 * details: where references point ("#/definitions/" or "#/components/schemas/"), how a
 * reference with a description is written (v2: "$ref" beside "description"; v3: "allOf":
 * [{"$ref"}] beside it, as upstream writes it, since OpenAPI 3.0 ignores siblings of "$ref"),
 * how parameters carry their type and how request and response bodies are declared.
 *
 * Every document is built as a JSON tree in an arena, its objects sorted by key (as Go writes
 * maps, so the text is stable), written compactly once, and kept for the life of the process.
 */
#include "openapi.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "resources.h"

#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"

/* ---- schema facts the descriptors do not carry ---------------------------------------------- */

enum special {
    SP_NONE,
    SP_TIME,        /* string, date-time */
    SP_MICROTIME,   /* string, date-time */
    SP_DURATION,    /* string ("1h2m3s"), written inline */
    SP_QUANTITY,    /* v3 oneOf string/number, v2 string */
    SP_INTORSTRING, /* format int-or-string; v3 oneOf integer/string, v2 string */
    SP_OBJECT,      /* RawExtension, FieldsV1: free-form object */
    SP_STRINGLIST,  /* Verbs, ExtraValue: array of strings, written inline */
};

/* The codec's special types (lib/codec.c special_types), by message full name. */
static const struct {
    const char *name;
    enum special sp;
} special_types[] = {
    {"k8s.io.apimachinery.pkg.apis.meta.v1.Time", SP_TIME},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime", SP_MICROTIME},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.Duration", SP_DURATION},
    {"k8s.io.apimachinery.pkg.api.resource.Quantity", SP_QUANTITY},
    {"k8s.io.apimachinery.pkg.util.intstr.IntOrString", SP_INTORSTRING},
    {"k8s.io.apimachinery.pkg.runtime.RawExtension", SP_OBJECT},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1", SP_OBJECT},
    {"k8s.io.apimachinery.pkg.apis.meta.v1.Verbs", SP_STRINGLIST},
    {"k8s.io.api.authentication.v1.ExtraValue", SP_STRINGLIST},
    {"k8s.io.api.authentication.v1beta1.ExtraValue", SP_STRINGLIST},
    {"k8s.io.api.authorization.v1.ExtraValue", SP_STRINGLIST},
    {"k8s.io.api.authorization.v1beta1.ExtraValue", SP_STRINGLIST},
    {"k8s.io.api.certificates.v1.ExtraValue", SP_STRINGLIST},
    {"k8s.io.api.certificates.v1beta1.ExtraValue", SP_STRINGLIST},
};

/* Proto field names that differ from upstream's JSON names (proto/k8s/README.md). */
static const struct {
    const char *message, *field, *json;
} renamed_fields[] = {
    {"k8s.io.api.networking.v1.IngressClassParametersReference", "aPIGroup", "apiGroup"},
    {"k8s.io.api.authentication.v1.BoundObjectReference", "uID", "uid"},
    {"k8s.io.api.admissionregistration.v1.Validation", "Expression", "expression"},
    {"k8s.io.api.admissionregistration.v1.Variable", "Name", "name"},
    {"k8s.io.api.admissionregistration.v1.Variable", "Expression", "expression"},
    {"k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration", "Webhooks", "webhooks"},
    {"k8s.io.api.admissionregistration.v1.MutatingWebhookConfiguration", "Webhooks", "webhooks"},
};

/* Required fields (upstream's `required` lists for the commonly written types), by message
 * name without the "k8s.io." prefix; fields separated by spaces. */
static const struct {
    const char *message, *fields;
} required_fields[] = {
    {"api.core.v1.PodSpec", "containers"},
    {"api.core.v1.Container", "name"},
    {"api.core.v1.EphemeralContainerCommon", "name"},
    {"api.core.v1.ContainerPort", "containerPort"},
    {"api.core.v1.EnvVar", "name"},
    {"api.core.v1.VolumeMount", "name mountPath"},
    {"api.core.v1.VolumeDevice", "name devicePath"},
    {"api.core.v1.Volume", "name"},
    {"api.core.v1.KeyToPath", "key path"},
    {"api.core.v1.ConfigMapKeySelector", "key"},
    {"api.core.v1.SecretKeySelector", "key"},
    {"api.core.v1.ObjectFieldSelector", "fieldPath"},
    {"api.core.v1.ResourceFieldSelector", "resource"},
    {"api.core.v1.HTTPGetAction", "port"},
    {"api.core.v1.TCPSocketAction", "port"},
    {"api.core.v1.GRPCAction", "port"},
    {"api.core.v1.HTTPHeader", "name value"},
    {"api.core.v1.ServicePort", "port"},
    {"api.core.v1.NodeSelector", "nodeSelectorTerms"},
    {"api.core.v1.NodeSelectorRequirement", "key operator"},
    {"api.core.v1.PodAffinityTerm", "topologyKey"},
    {"api.core.v1.WeightedPodAffinityTerm", "weight podAffinityTerm"},
    {"api.core.v1.PreferredSchedulingTerm", "weight preference"},
    {"api.core.v1.TopologySpreadConstraint", "maxSkew topologyKey whenUnsatisfiable"},
    {"api.core.v1.HostAlias", "ip"},
    {"api.core.v1.PodReadinessGate", "conditionType"},
    {"api.core.v1.Binding", "target"},
    {"api.core.v1.Taint", "key effect"},
    {"api.core.v1.NodeAddress", "type address"},
    {"api.core.v1.EndpointPort", "port"},
    {"api.core.v1.EndpointAddress", "ip"},
    {"api.core.v1.Event", "metadata involvedObject"},
    {"api.apps.v1.DeploymentSpec", "selector template"},
    {"api.apps.v1.ReplicaSetSpec", "selector"},
    {"api.apps.v1.StatefulSetSpec", "selector template"},
    {"api.apps.v1.DaemonSetSpec", "selector template"},
    {"api.apps.v1.ControllerRevision", "revision"},
    {"api.batch.v1.JobSpec", "template"},
    {"api.batch.v1.CronJobSpec", "schedule jobTemplate"},
    {"api.autoscaling.v2.HorizontalPodAutoscalerSpec", "scaleTargetRef maxReplicas"},
    {"api.autoscaling.v2.CrossVersionObjectReference", "kind name"},
    {"api.autoscaling.v2.MetricSpec", "type"},
    {"api.discovery.v1.EndpointSlice", "addressType endpoints"},
    {"api.discovery.v1.Endpoint", "addresses"},
    {"api.networking.v1.HTTPIngressRuleValue", "paths"},
    {"api.networking.v1.HTTPIngressPath", "pathType backend"},
    {"api.networking.v1.IngressServiceBackend", "name"},
    {"api.networking.v1.IPBlock", "cidr"},
    {"api.rbac.v1.PolicyRule", "verbs"},
    {"api.rbac.v1.RoleBinding", "roleRef"},
    {"api.rbac.v1.ClusterRoleBinding", "roleRef"},
    {"api.rbac.v1.RoleRef", "apiGroup kind name"},
    {"api.rbac.v1.Subject", "kind name"},
    {"api.scheduling.v1.PriorityClass", "value"},
    {"api.storage.v1.StorageClass", "provisioner"},
    {"api.authentication.v1.TokenReview", "spec"},
    {"api.authorization.v1.SubjectAccessReview", "spec"},
    {"api.authorization.v1.SelfSubjectAccessReview", "spec"},
    {"api.authorization.v1.SelfSubjectRulesReview", "spec"},
    {"apimachinery.pkg.apis.meta.v1.OwnerReference", "apiVersion kind name uid"},
    {"apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "key operator"},
    {"apimachinery.pkg.apis.meta.v1.Condition", "type status lastTransitionTime reason message"},
};

/* ---- descriptions (our own words) ----------------------------------------------------------- */

/* Top-level kinds, by kind name. */
static const struct {
    const char *kind, *text;
} kind_descriptions[] = {
    {"Binding", "Binds a pod to a node; the scheduler creates it."},
    {"ComponentStatus", "Health of a control-plane component (deprecated upstream)."},
    {"ConfigMap", "Non-secret configuration data as key-value pairs for pods to consume."},
    {"Endpoints", "The network addresses that back a service."},
    {"Event", "A report of something that happened to an object."},
    {"LimitRange", "Default and maximum resource amounts per object in a namespace."},
    {"Namespace", "A scope for names; most objects live in one."},
    {"Node", "A machine that runs pods."},
    {"PersistentVolumeClaim", "A request for storage by a user."},
    {"PersistentVolume", "A piece of storage in the cluster."},
    {"Pod", "A group of containers that run together on one node."},
    {"PodTemplate", "A stored pod template."},
    {"ReplicationController", "Keeps a number of pod replicas running (the older form of "
                              "ReplicaSet)."},
    {"ResourceQuota", "Limits on the total resources a namespace may use."},
    {"Secret", "Sensitive data (passwords, tokens, keys) for pods to consume."},
    {"ServiceAccount", "An identity for processes that run in pods."},
    {"Service", "A stable name and virtual address for a set of pods."},
    {"ControllerRevision", "An immutable snapshot of a workload's state, used for rollbacks."},
    {"DaemonSet", "Runs one copy of a pod on every (selected) node."},
    {"Deployment", "Declarative updates for pods and replica sets."},
    {"ReplicaSet", "Keeps a number of identical pod replicas running."},
    {"StatefulSet", "Pods with stable identities and storage, created and updated in order."},
    {"TokenReview", "Asks the server to authenticate a token."},
    {"SubjectAccessReview", "Asks the server whether a user may perform an action."},
    {"SelfSubjectAccessReview", "Asks the server whether the current user may perform an action."},
    {"SelfSubjectRulesReview", "Asks the server what the current user may do in a namespace."},
    {"HorizontalPodAutoscaler", "Scales a workload between bounds from observed metrics."},
    {"CronJob", "Runs a job on a schedule."},
    {"Job", "Runs pods until a number of them finish successfully."},
    {"Lease", "A time-limited claim, used for leader election and node heartbeats."},
    {"EndpointSlice", "A subset of the endpoints behind a service."},
    {"IngressClass", "A kind of ingress and the controller that implements it."},
    {"RuntimeClass", "A container runtime configuration that pods can select, with its "
                     "overhead and the nodes that support it."},
    {"Ingress", "Rules that route outside HTTP traffic to services."},
    {"NetworkPolicy", "Which traffic may reach or leave a set of pods."},
    {"PodDisruptionBudget", "How many pods of a set may be down at once during voluntary "
                            "disruptions."},
    {"ClusterRoleBinding", "Grants a cluster role to users, groups or service accounts across "
                           "the cluster."},
    {"ClusterRole", "A set of permissions across the cluster."},
    {"RoleBinding", "Grants a role to users, groups or service accounts in a namespace."},
    {"Role", "A set of permissions in a namespace."},
    {"PriorityClass", "A named scheduling priority for pods."},
    {"StorageClass", "A kind of storage and how to provision it."},
    {"Scale", "The desired and observed replica count of a scalable resource."},
    {"Eviction", "Asks the server to delete a pod while honouring disruption budgets."},
    {"Status", "The result of an operation that returns no object, such as an error."},
    {"DeleteOptions", "Options for a delete request."},
    {"WatchEvent", "One event of a watch stream."},
};

/* Fields, by message short name ("" = any message) and field name. */
static const struct {
    const char *message, *field, *text;
} field_descriptions[] = {
    {"", "apiVersion", "The versioned schema of this object, \"<group>/<version>\" or \"v1\"."},
    {"", "kind", "The type of this object, in CamelCase."},
    {"", "metadata", "Standard object metadata."},
    {"", "spec", "The desired state."},
    {"", "status", "The observed state, written by the system."},
    {"ObjectMeta", "name", "The object's name, unique in its namespace (or cluster)."},
    {"ObjectMeta", "generateName",
     "A prefix the server extends to a unique name when name is "
     "empty."},
    {"ObjectMeta", "namespace", "The namespace the object lives in."},
    {"ObjectMeta", "uid", "A unique id the server assigns at creation."},
    {"ObjectMeta", "resourceVersion",
     "An opaque version of the object, for optimistic "
     "concurrency and watches."},
    {"ObjectMeta", "generation",
     "A number the server increments when the desired state "
     "changes."},
    {"ObjectMeta", "creationTimestamp", "When the object was created."},
    {"ObjectMeta", "deletionTimestamp", "When the object was asked to be deleted."},
    {"ObjectMeta", "labels", "Key-value pairs for selecting and grouping objects."},
    {"ObjectMeta", "annotations",
     "Key-value pairs for tools and users, not used for "
     "selection."},
    {"ObjectMeta", "ownerReferences",
     "Objects this object depends on; it is garbage collected "
     "when they are gone."},
    {"ObjectMeta", "finalizers", "Names that must be removed before the object is deleted."},
    {"ObjectMeta", "managedFields", "Which manager owns which fields (server-side apply)."},
    {"ListMeta", "resourceVersion", "The version of the list, to watch from."},
    {"ListMeta", "continue", "A token to fetch the next page, when the list was limited."},
    {"PodSpec", "containers", "The containers of the pod. At least one."},
    {"PodSpec", "initContainers",
     "Containers that run to completion, in order, before the "
     "others start."},
    {"PodSpec", "volumes", "Volumes the containers can mount."},
    {"PodSpec", "restartPolicy", "Always, OnFailure or Never."},
    {"PodSpec", "nodeName", "The node the pod is bound to."},
    {"PodSpec", "nodeSelector", "Labels a node must have for the pod to be scheduled there."},
    {"PodSpec", "serviceAccountName", "The service account the pod runs as."},
    {"PodSpec", "terminationGracePeriodSeconds",
     "Seconds to wait after SIGTERM before killing "
     "the containers."},
    {"PodSpec", "tolerations", "Taints the pod tolerates."},
    {"PodSpec", "affinity", "Scheduling constraints relative to nodes and other pods."},
    {"PodSpec", "hostNetwork", "Use the node's network namespace."},
    {"Container", "name", "The container's name, unique in the pod."},
    {"Container", "image", "The container image to run."},
    {"Container", "command", "The entrypoint; the image's ENTRYPOINT when empty."},
    {"Container", "args", "Arguments to the entrypoint; the image's CMD when empty."},
    {"Container", "workingDir", "The working directory; the image's default when empty."},
    {"Container", "ports", "Ports the container exposes (informational)."},
    {"Container", "env", "Environment variables to set."},
    {"Container", "resources", "Compute resources the container requests and is limited to."},
    {"Container", "volumeMounts", "Volumes to mount into the container's filesystem."},
    {"Container", "livenessProbe", "Restarts the container when it fails."},
    {"Container", "readinessProbe", "Removes the pod from service endpoints when it fails."},
    {"Container", "imagePullPolicy", "Always, Never or IfNotPresent."},
    {"DeploymentSpec", "replicas", "The number of pods wanted. Defaults to 1."},
    {"DeploymentSpec", "selector",
     "Selects the pods this deployment manages; must match the "
     "template's labels."},
    {"DeploymentSpec", "template", "The pods to create."},
    {"DeploymentSpec", "strategy", "How to replace old pods with new ones."},
    {"ReplicaSetSpec", "replicas", "The number of pods wanted."},
    {"StatefulSetSpec", "replicas", "The number of pods wanted."},
    {"ServiceSpec", "ports", "The ports the service exposes."},
    {"ServiceSpec", "selector", "Routes traffic to pods with these labels."},
    {"ServiceSpec", "type", "ClusterIP, NodePort, LoadBalancer or ExternalName."},
    {"ServiceSpec", "clusterIP", "The service's virtual address."},
    {"ConfigMap", "data", "UTF-8 values by key."},
    {"ConfigMap", "binaryData", "Binary values by key."},
    {"Secret", "data", "Values by key, base64-encoded."},
    {"Secret", "stringData", "Values by key as plain strings, merged into data on write."},
    {"Secret", "type", "What the secret holds, e.g. Opaque or kubernetes.io/tls."},
};

/* ---- helpers -------------------------------------------------------------------------------- */

enum flavor { FLAVOR_V2, FLAVOR_V3 };

struct gen {
    struct k8c_arena *a;
    enum flavor flavor;
    struct k8c_json *schemas; /* name -> schema */
};

static enum special special_of(const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < sizeof(special_types) / sizeof(special_types[0]); i++)
        if (strcmp(d->name, special_types[i].name) == 0)
            return special_types[i].sp;
    return SP_NONE;
}

/* "k8s.io.api.core.v1.Pod" -> "io.k8s.api.core.v1.Pod", in a. */
static const char *schema_name(struct gen *g, const ProtobufCMessageDescriptor *d)
{
    char buf[512];

    if (strncmp(d->name, "k8s.io.", 7) == 0)
        snprintf(buf, sizeof(buf), "io.k8s.%s", d->name + 7);
    else
        snprintf(buf, sizeof(buf), "%s", d->name);
    return k8c_arena_strndup(g->a, buf, strlen(buf));
}

/* The message's name without package: "Pod". */
static const char *short_name(const ProtobufCMessageDescriptor *d)
{
    return d->short_name != NULL ? d->short_name : d->name;
}

static struct k8c_json *str(struct gen *g, const char *s)
{
    return k8c_json_new_string(g->a, s);
}

static struct k8c_json *obj(struct gen *g)
{
    return k8c_json_new_object(g->a);
}

static void set(struct gen *g, struct k8c_json *o, const char *key, struct k8c_json *v)
{
    k8c_json_append_member(g->a, o, key, strlen(key), v);
}

static void set_str(struct gen *g, struct k8c_json *o, const char *key, const char *v)
{
    set(g, o, key, str(g, v));
}

/* {"type": type[, "format": format]} */
static struct k8c_json *typed(struct gen *g, const char *type, const char *format)
{
    struct k8c_json *o = obj(g);

    set_str(g, o, "type", type);
    if (format != NULL)
        set_str(g, o, "format", format);
    return o;
}

static struct k8c_json *ref_to(struct gen *g, const char *name)
{
    char buf[600];
    struct k8c_json *o = obj(g);

    snprintf(buf, sizeof(buf), "%s%s",
             g->flavor == FLAVOR_V3 ? "#/components/schemas/" : "#/definitions/", name);
    set_str(g, o, "$ref", buf);
    return o;
}

/* Adds a description to a field schema; a bare v3 reference becomes {"allOf":[ref]}. */
static struct k8c_json *describe(struct gen *g, struct k8c_json *schema, const char *text)
{
    if (text == NULL)
        return schema;
    if (g->flavor == FLAVOR_V3 && k8c_json_get(schema, "$ref") != NULL) {
        struct k8c_json *wrap = obj(g), *all = k8c_json_new_array(g->a);
        k8c_json_array_append(g->a, all, schema);
        set(g, wrap, "allOf", all);
        schema = wrap;
    }
    set_str(g, schema, "description", text);
    return schema;
}

static const char *kind_description(const char *kind)
{
    for (size_t i = 0; i < sizeof(kind_descriptions) / sizeof(kind_descriptions[0]); i++)
        if (strcmp(kind_descriptions[i].kind, kind) == 0)
            return kind_descriptions[i].text;
    return NULL;
}

static const char *field_description(const ProtobufCMessageDescriptor *d, const char *field,
                                     bool top_level)
{
    const char *msg = short_name(d);

    for (size_t i = 0; i < sizeof(field_descriptions) / sizeof(field_descriptions[0]); i++) {
        if (strcmp(field_descriptions[i].field, field) != 0)
            continue;
        if (strcmp(field_descriptions[i].message, msg) == 0)
            return field_descriptions[i].text;
        if (top_level && field_descriptions[i].message[0] == '\0')
            return field_descriptions[i].text;
    }
    return NULL;
}

static const char *json_name(const ProtobufCMessageDescriptor *d, const char *field)
{
    for (size_t i = 0; i < sizeof(renamed_fields) / sizeof(renamed_fields[0]); i++)
        if (strcmp(renamed_fields[i].message, d->name) == 0 &&
            strcmp(renamed_fields[i].field, field) == 0)
            return renamed_fields[i].json;
    return field;
}

static bool is_inline(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *fd)
{
    if (fd->type != PROTOBUF_C_TYPE_MESSAGE || fd->label == PROTOBUF_C_LABEL_REPEATED)
        return false;
    return k8c_codec_is_inline_field(d->name, fd->name);
}

/* ---- schemas -------------------------------------------------------------------------------- */

static const char *add_schema(struct gen *g, const ProtobufCMessageDescriptor *d);

/* The schema of one value of a field (an item of a repeated field). */
static struct k8c_json *value_schema(struct gen *g, const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return typed(g, "integer", "int32");
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return typed(g, "integer", "int64");
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return typed(g, "number", "double");
    case PROTOBUF_C_TYPE_BOOL:
        return typed(g, "boolean", NULL);
    case PROTOBUF_C_TYPE_BYTES:
        return typed(g, "string", "byte");
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *d = fd->descriptor;
        switch (special_of(d)) {
        case SP_DURATION:
            return typed(g, "string", NULL);
        case SP_STRINGLIST: {
            struct k8c_json *arr = typed(g, "array", NULL);
            set(g, arr, "items", typed(g, "string", NULL));
            return arr;
        }
        default:
            return ref_to(g, add_schema(g, d));
        }
    }
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_ENUM:
    default:
        return typed(g, "string", NULL);
    }
}

static struct k8c_json *field_schema(struct gen *g, const ProtobufCFieldDescriptor *fd)
{
    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE && k8c_codec_is_map_entry(fd->descriptor)) {
            const ProtobufCMessageDescriptor *ed = fd->descriptor;
            struct k8c_json *m = typed(g, "object", NULL);
            set(g, m, "additionalProperties", value_schema(g, &ed->fields[1]));
            return m;
        }
        struct k8c_json *arr = typed(g, "array", NULL);
        set(g, arr, "items", value_schema(g, fd));
        return arr;
    }
    return value_schema(g, fd);
}

static int cmp_field_offset(const void *x, const void *y)
{
    const ProtobufCFieldDescriptor *a = *(const ProtobufCFieldDescriptor *const *)x;
    const ProtobufCFieldDescriptor *b = *(const ProtobufCFieldDescriptor *const *)y;

    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static void add_required(struct gen *g, const ProtobufCMessageDescriptor *d,
                         struct k8c_json *required)
{
    if (strncmp(d->name, "k8s.io.", 7) != 0)
        return;
    for (size_t i = 0; i < sizeof(required_fields) / sizeof(required_fields[0]); i++) {
        if (strcmp(required_fields[i].message, d->name + 7) != 0)
            continue;
        const char *p = required_fields[i].fields;
        while (*p != '\0') {
            size_t n = strcspn(p, " ");
            if (n > 0)
                k8c_json_array_append(g->a, required, k8c_json_new_stringn(g->a, p, n));
            p += n;
            p += strspn(p, " ");
        }
    }
}

/* Adds d's fields (in .proto declaration order, inline embeddings flattened) to props. */
static void add_properties(struct gen *g, const ProtobufCMessageDescriptor *d,
                           struct k8c_json *props, struct k8c_json *required, bool top_level,
                           unsigned depth)
{
    const ProtobufCFieldDescriptor *fields[256];
    size_t n = d->n_fields < 256 ? d->n_fields : 256;

    if (depth > 8)
        return;
    for (size_t i = 0; i < n; i++)
        fields[i] = &d->fields[i];
    /* protobuf-c lays members out in declaration order (see lib/codec.c). */
    qsort(fields, n, sizeof(fields[0]), cmp_field_offset);
    add_required(g, d, required);
    for (size_t i = 0; i < n; i++) {
        const ProtobufCFieldDescriptor *fd = fields[i];
        if (is_inline(d, fd)) {
            add_properties(g, fd->descriptor, props, required, false, depth + 1);
            continue;
        }
        const char *name = json_name(d, fd->name);
        struct k8c_json *s = field_schema(g, fd);
        set(g, props, name, describe(g, s, field_description(d, name, top_level)));
    }
}

static struct k8c_json *gvk_list(struct gen *g, const ProtobufCMessageDescriptor *d)
{
    size_t n;
    const struct k8c_codec_kind *kinds = k8c_codec_kinds(&n);
    struct k8c_json *list = k8c_json_new_array(g->a);

    for (size_t i = 0; i < n; i++) {
        if (kinds[i].desc != d)
            continue;
        struct k8c_json *e = obj(g);
        const char *slash = strchr(kinds[i].api_version, '/');
        if (slash != NULL) {
            set(g, e, "group",
                k8c_json_new_stringn(g->a, kinds[i].api_version,
                                     (size_t)(slash - kinds[i].api_version)));
            set_str(g, e, "version", slash + 1);
        } else {
            set_str(g, e, "group", "");
            set_str(g, e, "version", kinds[i].api_version);
        }
        set_str(g, e, "kind", kinds[i].kind);
        k8c_json_array_append(g->a, list, e);
    }
    return list;
}

static void add_special_schema(struct gen *g, const char *name, enum special sp)
{
    struct k8c_json *s = obj(g), *one_of;

    switch (sp) {
    case SP_TIME:
        set_str(g, s, "type", "string");
        set_str(g, s, "format", "date-time");
        set_str(g, s, "description",
                "A time in RFC 3339 form, to the second: \"2024-01-02T03:04:05Z\".");
        break;
    case SP_MICROTIME:
        set_str(g, s, "type", "string");
        set_str(g, s, "format", "date-time");
        set_str(g, s, "description",
                "A time in RFC 3339 form with microseconds: \"2024-01-02T03:04:05.000006Z\".");
        break;
    case SP_QUANTITY:
        if (g->flavor == FLAVOR_V3) {
            one_of = k8c_json_new_array(g->a);
            k8c_json_array_append(g->a, one_of, typed(g, "string", NULL));
            k8c_json_array_append(g->a, one_of, typed(g, "number", NULL));
            set(g, s, "oneOf", one_of);
        } else {
            set_str(g, s, "type", "string");
        }
        set_str(g, s, "description",
                "An amount: a decimal number with an optional suffix, such as \"250m\", "
                "\"1.5\", \"128Mi\" or \"2G\".");
        break;
    case SP_INTORSTRING:
        if (g->flavor == FLAVOR_V3) {
            one_of = k8c_json_new_array(g->a);
            k8c_json_array_append(g->a, one_of, typed(g, "integer", NULL));
            k8c_json_array_append(g->a, one_of, typed(g, "string", NULL));
            set(g, s, "oneOf", one_of);
        } else {
            set_str(g, s, "type", "string");
        }
        set_str(g, s, "format", "int-or-string");
        set_str(g, s, "description",
                "An integer or a string, such as a port number or name, or a percentage.");
        break;
    case SP_OBJECT:
    default:
        set_str(g, s, "type", "object");
        set_str(g, s, "description", "Embedded JSON, kept as written.");
        break;
    }
    set(g, g->schemas, name, s);
}

/*
 * Adds the schema of message d (and of everything it references) to g->schemas unless it is
 * there already; returns its name. The entry is inserted before the fields are walked, so a
 * type that (indirectly) contains itself ends the recursion.
 */
static const char *add_schema(struct gen *g, const ProtobufCMessageDescriptor *d)
{
    const char *name = schema_name(g, d);
    enum special sp = special_of(d);

    if (k8c_json_get(g->schemas, name) != NULL)
        return name;
    if (sp != SP_NONE) {
        add_special_schema(g, name, sp);
        return name;
    }

    struct k8c_json *s = obj(g), *props = obj(g), *required = k8c_json_new_array(g->a);
    const struct k8c_codec_kind *kind = k8c_codec_lookup_desc(d);
    set(g, g->schemas, name, s);
    set_str(g, s, "type", "object");
    if (kind != NULL) {
        const char *text = kind_description(kind->kind);
        char buf[160];
        size_t kl = strlen(kind->kind);
        if (text == NULL && kl > 4 && strcmp(kind->kind + kl - 4, "List") == 0) {
            snprintf(buf, sizeof(buf), "A list of %.*s objects.", (int)(kl - 4), kind->kind);
            text = buf;
        }
        if (text != NULL)
            set_str(g, s, "description", text);
        set(g, props, "apiVersion",
            describe(g, typed(g, "string", NULL), field_description(d, "apiVersion", true)));
        set(g, props, "kind",
            describe(g, typed(g, "string", NULL), field_description(d, "kind", true)));
        set(g, s, "x-kubernetes-group-version-kind", gvk_list(g, d));
    }
    add_properties(g, d, props, required, kind != NULL, 0);
    set(g, s, "properties", props);
    if (required->len > 0)
        set(g, s, "required", required);
    return name;
}

/* ---- paths ---------------------------------------------------------------------------------- */

/* A parameter: v3 {"name","in","schema":{"type"}}, v2 {"name","in","type"}. */
static struct k8c_json *param(struct gen *g, const char *name, const char *in, const char *type,
                              const char *text)
{
    struct k8c_json *p = obj(g);

    set_str(g, p, "name", name);
    set_str(g, p, "in", in);
    if (text != NULL)
        set_str(g, p, "description", text);
    if (strcmp(in, "path") == 0)
        set(g, p, "required", k8c_json_new_bool(g->a, true));
    if (g->flavor == FLAVOR_V3) {
        struct k8c_json *s = typed(g, type, NULL);
        set(g, s, "uniqueItems", k8c_json_new_bool(g->a, true));
        set(g, p, "schema", s);
    } else {
        set_str(g, p, "type", type);
        set(g, p, "uniqueItems", k8c_json_new_bool(g->a, true));
    }
    return p;
}

static const struct {
    const char *name, *type, *text;
} query_params[] = {
#define Q_LIST   1u
#define Q_WRITE  2u /* create, update */
#define Q_PATCH  4u
#define Q_DELETE 8u
    {"allowWatchBookmarks", "boolean", "Ask for BOOKMARK events in a watch."},
    {"continue", "string", "The token from the previous page of a limited list."},
    {"fieldSelector", "string", "Select objects by fields, e.g. metadata.name=x."},
    {"labelSelector", "string", "Select objects by labels, e.g. app=web,tier!=db."},
    {"limit", "integer", "The most objects to return; the rest come with continue."},
    {"resourceVersion", "string", "Read at (or watch from) this resource version."},
    {"resourceVersionMatch", "string", "How resourceVersion applies: Exact or NotOlderThan."},
    {"sendInitialEvents", "boolean", "Start a watch with the current objects."},
    {"timeoutSeconds", "integer", "End the list or watch after this many seconds."},
    {"watch", "boolean", "Stream changes instead of returning a list."},
    {"dryRun", "string", "All: validate and process, but persist nothing."},
    {"fieldManager", "string", "The name of the actor making the change."},
    {"fieldValidation", "string", "Unknown or duplicate fields: Ignore, Warn or Strict."},
    {"force", "boolean", "Take over conflicting fields (server-side apply)."},
    {"gracePeriodSeconds", "integer", "Seconds before the object is deleted."},
    {"orphanDependents", "boolean", "Deprecated: use propagationPolicy."},
    {"propagationPolicy", "string", "Orphan, Background or Foreground garbage collection."},
};

/* Which query parameters each operation takes (bits of Q_* per entry of query_params). */
static const unsigned query_param_ops[] = {
    Q_LIST,                       /* allowWatchBookmarks */
    Q_LIST | Q_DELETE,            /* continue */
    Q_LIST | Q_DELETE,            /* fieldSelector */
    Q_LIST | Q_DELETE,            /* labelSelector */
    Q_LIST | Q_DELETE,            /* limit */
    Q_LIST | Q_DELETE,            /* resourceVersion */
    Q_LIST | Q_DELETE,            /* resourceVersionMatch */
    Q_LIST | Q_DELETE,            /* sendInitialEvents */
    Q_LIST | Q_DELETE,            /* timeoutSeconds */
    Q_LIST,                       /* watch */
    Q_WRITE | Q_PATCH | Q_DELETE, /* dryRun */
    Q_WRITE | Q_PATCH,            /* fieldManager */
    Q_WRITE | Q_PATCH,            /* fieldValidation */
    Q_PATCH,                      /* force */
    Q_DELETE,                     /* gracePeriodSeconds */
    Q_DELETE,                     /* orphanDependents */
    Q_DELETE,                     /* propagationPolicy */
};

/* Single-object deletes take only the delete options, not the list ones. */
#define Q_DELETE_ITEM 16u

static struct k8c_json *query_parameters(struct gen *g, unsigned which)
{
    struct k8c_json *arr = k8c_json_new_array(g->a);

    for (size_t i = 0; i < sizeof(query_params) / sizeof(query_params[0]); i++) {
        unsigned ops = query_param_ops[i];
        bool take = (ops & which) != 0;
        if (which == Q_DELETE_ITEM)
            take = (ops & Q_DELETE) != 0 && (ops & Q_LIST) == 0;
        if (take)
            k8c_json_array_append(g->a, arr,
                                  param(g, query_params[i].name, "query", query_params[i].type,
                                        query_params[i].text));
    }
    return arr;
}

/* What an operation names, for its id, tag and GVK. */
struct op_info {
    const struct api_resource *r;
    const char *title;   /* "CoreV1", "AppsV1", "RbacAuthorizationV1" */
    const char *tag;     /* "core_v1", "rbacAuthorization_v1" */
    const char *gvk_api; /* apiVersion of the operation's kind ("v1", "autoscaling/v1"); NULL
                          * for none */
    const char *gvk_kind;
    const ProtobufCMessageDescriptor *body; /* request and response type, or NULL */
    const char *suffix;                     /* "", "Status", "Scale", ... for the id */
    const char *sub;                        /* subresource ("status"), NULL for the object */
};

static struct k8c_json *gvk_object(struct gen *g, const char *api_version, const char *kind)
{
    struct k8c_json *e = obj(g);
    const char *slash = strchr(api_version, '/');

    if (slash != NULL) {
        set(g, e, "group", k8c_json_new_stringn(g->a, api_version, (size_t)(slash - api_version)));
        set_str(g, e, "version", slash + 1);
    } else {
        set_str(g, e, "group", "");
        set_str(g, e, "version", api_version);
    }
    set_str(g, e, "kind", kind);
    return e;
}

static void add_content(struct gen *g, struct k8c_json *holder, const char *ref_name, bool watch)
{
    static const char *const mimes[] = {"application/json", "application/yaml",
                                        "application/vnd.kubernetes.protobuf"};
    static const char *const watch_mimes[] = {"application/json;stream=watch",
                                              "application/vnd.kubernetes.protobuf;stream=watch"};
    struct k8c_json *content = obj(g);

    for (size_t i = 0; i < 3; i++) {
        struct k8c_json *m = obj(g);
        set(g, m, "schema", ref_to(g, ref_name));
        set(g, content, mimes[i], m);
    }
    for (size_t i = 0; watch && i < 2; i++) {
        struct k8c_json *m = obj(g);
        set(g, m, "schema", ref_to(g, ref_name));
        set(g, content, watch_mimes[i], m);
    }
    set(g, holder, "content", content);
}

/* responses: {"200": {...}, ..., "401": {"description": "Unauthorized"}}. codes is a list of
 * "200" "201" "202"; ref_name NULL = a plain-text body (logs). */
static struct k8c_json *responses(struct gen *g, const char *ref_name, const char *codes,
                                  bool watch)
{
    struct k8c_json *rs = obj(g), *unauth = obj(g);

    for (const char *c = codes; *c != '\0'; c += 3) {
        char code[4] = {c[0], c[1], c[2], '\0'};
        struct k8c_json *r = obj(g);
        set_str(g, r, "description",
                code[2] == '0'   ? "OK"
                : code[2] == '1' ? "Created"
                                 : "Accepted");
        if (ref_name == NULL) {
            struct k8c_json *s = typed(g, "string", NULL);
            if (g->flavor == FLAVOR_V3) {
                struct k8c_json *content = obj(g), *m = obj(g);
                set(g, m, "schema", s);
                set(g, content, "text/plain", m);
                set(g, r, "content", content);
            } else {
                set(g, r, "schema", s);
            }
        } else if (g->flavor == FLAVOR_V3) {
            add_content(g, r, ref_name, watch);
        } else {
            set(g, r, "schema", ref_to(g, ref_name));
        }
        set(g, rs, code, r);
    }
    set_str(g, unauth, "description", "Unauthorized");
    set(g, rs, "401", unauth);
    return rs;
}

/* Adds a request body of type ref_name (v3 requestBody, v2 "body" parameter). */
static void request_body(struct gen *g, struct k8c_json *op, struct k8c_json *params,
                         const char *ref_name, bool required)
{
    if (g->flavor == FLAVOR_V3) {
        struct k8c_json *rb = obj(g), *content = obj(g), *m = obj(g);
        set(g, m, "schema", ref_to(g, ref_name));
        set(g, content, "*/*", m);
        set(g, rb, "content", content);
        if (required)
            set(g, rb, "required", k8c_json_new_bool(g->a, true));
        set(g, op, "requestBody", rb);
    } else {
        struct k8c_json *p = obj(g);
        set_str(g, p, "name", "body");
        set_str(g, p, "in", "body");
        if (required)
            set(g, p, "required", k8c_json_new_bool(g->a, true));
        set(g, p, "schema", ref_to(g, ref_name));
        k8c_json_array_append(g->a, params, p);
    }
}

enum op_kind {
    OP_LIST,
    OP_LIST_ALL, /* across namespaces */
    OP_CREATE,
    OP_DELETECOLLECTION,
    OP_READ,
    OP_REPLACE,
    OP_PATCH,
    OP_DELETE,
    OP_CONNECT_GET,
    OP_CONNECT_POST,
    OP_READ_TEXT, /* pods/log */
};

/*
 * Writes one operation into the path item. Operation ids follow upstream:
 * list|create|read|replace|patch|delete + CoreV1 + [Collection][Namespaced] + Kind + suffix.
 */
static void add_operation(struct gen *g, struct k8c_json *item, enum op_kind k,
                          const struct op_info *oi)
{
    static const struct {
        const char *method, *verb, *action, *text;
    } ops[] = {
        [OP_LIST] = {"get", "list", "list", "List or watch"},
        [OP_LIST_ALL] = {"get", "list", "list", "List or watch"},
        [OP_CREATE] = {"post", "create", "post", "Create"},
        [OP_DELETECOLLECTION] = {"delete", "delete", "deletecollection", "Delete every matching"},
        [OP_READ] = {"get", "read", "get", "Read"},
        [OP_REPLACE] = {"put", "replace", "put", "Replace"},
        [OP_PATCH] = {"patch", "patch", "patch", "Patch"},
        [OP_DELETE] = {"delete", "delete", "delete", "Delete"},
        [OP_CONNECT_GET] = {"get", "connect", "connect", "Open (GET)"},
        [OP_CONNECT_POST] = {"post", "connect", "connect", "Open (POST)"},
        [OP_READ_TEXT] = {"get", "read", "get", "Read"},
    };
    const struct api_resource *r = oi->r;
    struct k8c_json *op = obj(g), *tags = k8c_json_new_array(g->a), *params;
    const char *body = oi->body != NULL ? add_schema(g, oi->body) : NULL;
    char id[256], text[256];

    /* listCoreV1NamespacedPod, deleteCoreV1CollectionNamespacedPod,
     * connectCoreV1GetNamespacedPodExec, listCoreV1PodForAllNamespaces */
    snprintf(id, sizeof(id), "%s%s%s%s%s%s%s%s", ops[k].verb, oi->title,
             k == OP_CONNECT_GET    ? "Get"
             : k == OP_CONNECT_POST ? "Post"
                                    : "",
             k == OP_DELETECOLLECTION ? "Collection" : "",
             r->namespaced && k != OP_LIST_ALL ? "Namespaced" : "", r->kind, oi->suffix,
             k == OP_LIST_ALL ? "ForAllNamespaces" : "");
    /* "Patch a Deployment", "Read the log of a Pod", "List or watch Pods" */
    if (oi->sub != NULL)
        snprintf(text, sizeof(text), "%s the %s of a %s.", ops[k].text, oi->sub, r->kind);
    else if (k == OP_LIST || k == OP_LIST_ALL || k == OP_DELETECOLLECTION)
        snprintf(text, sizeof(text), "%s %s objects%s.", ops[k].text, r->kind,
                 k == OP_LIST_ALL ? " in all namespaces" : "");
    else
        snprintf(text, sizeof(text), "%s a %s.", ops[k].text, r->kind);
    set_str(g, op, "description", text);
    set_str(g, op, "operationId", id);
    k8c_json_array_append(g->a, tags, str(g, oi->tag));
    set(g, op, "tags", tags);
    set_str(g, op, "x-kubernetes-action", ops[k].action);
    if (oi->gvk_api != NULL)
        set(g, op, "x-kubernetes-group-version-kind", gvk_object(g, oi->gvk_api, oi->gvk_kind));

    switch (k) {
    case OP_LIST:
    case OP_LIST_ALL:
        params = query_parameters(g, Q_LIST);
        set(g, op, "responses",
            responses(g, r->list_desc != NULL ? add_schema(g, r->list_desc) : body, "200", true));
        break;
    case OP_CREATE:
        params = query_parameters(g, Q_WRITE);
        request_body(g, op, params, body, true);
        set(g, op, "responses", responses(g, body, "200201202", false));
        break;
    case OP_REPLACE:
        params = query_parameters(g, Q_WRITE);
        request_body(g, op, params, body, true);
        set(g, op, "responses", responses(g, body, "200201", false));
        break;
    case OP_PATCH:
        /* No request body: see openapi.h. fieldValidation is what kubectl looks for. */
        params = query_parameters(g, Q_PATCH);
        set(g, op, "responses", responses(g, body, "200201", false));
        break;
    case OP_DELETECOLLECTION:
    case OP_DELETE: {
        const char *status =
            add_schema(g, &k8s__io__apimachinery__pkg__apis__meta__v1__status__descriptor);
        params = query_parameters(g, k == OP_DELETE ? Q_DELETE_ITEM : Q_DELETE);
        request_body(
            g, op, params,
            add_schema(g, &k8s__io__apimachinery__pkg__apis__meta__v1__delete_options__descriptor),
            false);
        set(g, op, "responses",
            responses(g, k == OP_DELETE && body != NULL ? body : status, "200202", false));
        break;
    }
    case OP_READ:
        params = k8c_json_new_array(g->a);
        set(g, op, "responses", responses(g, body, "200", false));
        break;
    case OP_READ_TEXT:
    case OP_CONNECT_GET:
    case OP_CONNECT_POST:
    default:
        params = k8c_json_new_array(g->a);
        set(g, op, "responses", responses(g, NULL, "200", false));
        break;
    }
    if (params->len > 0)
        set(g, op, "parameters", params);
    if (g->flavor == FLAVOR_V2) {
        struct k8c_json *consumes = k8c_json_new_array(g->a), *produces = k8c_json_new_array(g->a);
        k8c_json_array_append(g->a, consumes, str(g, "*/*"));
        k8c_json_array_append(g->a, produces, str(g, "application/json"));
        k8c_json_array_append(g->a, produces, str(g, "application/yaml"));
        k8c_json_array_append(g->a, produces, str(g, "application/vnd.kubernetes.protobuf"));
        set(g, op, "consumes", consumes);
        set(g, op, "produces", produces);
    }
    set(g, item, ops[k].method, op);
}

/* The path item for path in g's "paths" object (created on first use), with the path
 * parameters ({namespace}, {name}) and "pretty" declared once for all its operations. */
static struct k8c_json *path_item(struct gen *g, struct k8c_json *paths, const char *path,
                                  const struct api_resource *r)
{
    struct k8c_json *item = k8c_json_get(paths, path), *params;
    char text[160];

    if (item != NULL)
        return item;
    item = obj(g);
    params = k8c_json_new_array(g->a);
    if (strstr(path, "{name}") != NULL) {
        snprintf(text, sizeof(text), "The name of the %s.", r->kind);
        k8c_json_array_append(g->a, params, param(g, "name", "path", "string", text));
    }
    if (strstr(path, "{namespace}") != NULL)
        k8c_json_array_append(
            g->a, params, param(g, "namespace", "path", "string", "The namespace of the object."));
    k8c_json_array_append(g->a, params,
                          param(g, "pretty", "query", "string", "Indent the output."));
    set(g, item, "parameters", params);
    set(g, paths, path, item);
    return item;
}

/* "networking.k8s.io" -> title "NetworkingV1", tag "networking_v1". */
static void group_names(struct gen *g, const struct api_resource *r, const char **title,
                        const char **tag)
{
    char t[128], tg[128];
    size_t tl = 0, gl = 0, n;
    const char *grp = r->group[0] != '\0' ? r->group : "core";

    n = strlen(grp);
    if (n > 7 && strcmp(grp + n - 7, ".k8s.io") == 0)
        n -= 7;
    bool upper = true;
    for (size_t i = 0; i < n && tl < sizeof(t) - 16; i++) {
        if (grp[i] == '.') {
            upper = true;
            continue;
        }
        char c = grp[i];
        t[tl++] = upper && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        tg[gl] = upper && gl > 0 && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        gl++;
        upper = false;
    }
    t[tl] = '\0';
    tg[gl] = '\0';
    snprintf(t + tl, sizeof(t) - tl, "%c%s",
             r->version[0] >= 'a' && r->version[0] <= 'z' ? r->version[0] - 'a' + 'A'
                                                          : r->version[0],
             r->version + 1);
    snprintf(tg + gl, sizeof(tg) - gl, "_%s", r->version);
    *title = k8c_arena_strndup(g->a, t, strlen(t));
    *tag = k8c_arena_strndup(g->a, tg, strlen(tg));
}

static const ProtobufCMessageDescriptor *kind_desc(const char *api_version, const char *kind)
{
    const struct k8c_codec_kind *k = k8c_codec_lookup_kind(api_version, kind);
    return k != NULL ? k->desc : NULL;
}

/* Adds r's paths and operations to paths. */
static void add_resource_paths(struct gen *g, struct k8c_json *paths, const struct api_resource *r)
{
    char base[256], coll[320], item_path[352], sub[400];
    struct op_info oi = {
        .r = r, .gvk_api = r->api_version, .gvk_kind = r->kind, .body = r->desc, .suffix = ""};
    unsigned v = r->verbs;

    group_names(g, r, &oi.title, &oi.tag);
    if (r->group[0] == '\0')
        snprintf(base, sizeof(base), "/api/%s", r->version);
    else
        snprintf(base, sizeof(base), "/apis/%s/%s", r->group, r->version);
    snprintf(coll, sizeof(coll), "%s%s/%s", base, r->namespaced ? "/namespaces/{namespace}" : "",
             r->resource);
    snprintf(item_path, sizeof(item_path), "%s/{name}", coll);

    if (v & (API_VERB_LIST | API_VERB_CREATE | API_VERB_DELETECOLLECTION)) {
        struct k8c_json *it = path_item(g, paths, coll, r);
        if (v & API_VERB_LIST)
            add_operation(g, it, OP_LIST, &oi);
        if (v & API_VERB_CREATE)
            add_operation(g, it, OP_CREATE, &oi);
        if (v & API_VERB_DELETECOLLECTION)
            add_operation(g, it, OP_DELETECOLLECTION, &oi);
    }
    if (r->namespaced && (v & API_VERB_LIST)) {
        char all[320];
        snprintf(all, sizeof(all), "%s/%s", base, r->resource);
        add_operation(g, path_item(g, paths, all, r), OP_LIST_ALL, &oi);
    }
    if (v & (API_VERB_GET | API_VERB_UPDATE | API_VERB_PATCH | API_VERB_DELETE)) {
        struct k8c_json *it = path_item(g, paths, item_path, r);
        if (v & API_VERB_GET)
            add_operation(g, it, OP_READ, &oi);
        if (v & API_VERB_UPDATE)
            add_operation(g, it, OP_REPLACE, &oi);
        if (v & API_VERB_PATCH)
            add_operation(g, it, OP_PATCH, &oi);
        if (v & API_VERB_DELETE)
            add_operation(g, it, OP_DELETE, &oi);
    }

    /* Subresources that read and write the object (status, ephemeralcontainers) or a
     * Scale: get, put and patch. */
    static const struct {
        unsigned bit;
        const char *path, *suffix;
    } rw_subs[] = {
        {API_SUB_STATUS, "status", "Status"},
        {API_SUB_SCALE, "scale", "Scale"},
        {API_SUB_EPHEMERAL, "ephemeralcontainers", "Ephemeralcontainers"},
    };
    for (size_t i = 0; i < sizeof(rw_subs) / sizeof(rw_subs[0]); i++) {
        if (!(r->subresources & rw_subs[i].bit))
            continue;
        struct op_info so = oi;
        so.suffix = rw_subs[i].suffix;
        so.sub = rw_subs[i].path;
        if (rw_subs[i].bit == API_SUB_SCALE) {
            so.gvk_api = "autoscaling/v1";
            so.gvk_kind = "Scale";
            so.body = kind_desc("autoscaling/v1", "Scale");
            if (so.body == NULL)
                continue;
        }
        snprintf(sub, sizeof(sub), "%s/%s", item_path, rw_subs[i].path);
        struct k8c_json *it = path_item(g, paths, sub, r);
        add_operation(g, it, OP_READ, &so);
        add_operation(g, it, OP_REPLACE, &so);
        add_operation(g, it, OP_PATCH, &so);
    }

    /* namespaces/finalize: replaced only */
    if (r->subresources & API_SUB_FINALIZE) {
        struct op_info so = oi;
        so.suffix = "Finalize";
        so.sub = "finalize";
        snprintf(sub, sizeof(sub), "%s/finalize", item_path);
        add_operation(g, path_item(g, paths, sub, r), OP_REPLACE, &so);
    }

    /* Subresources created by POST: pods/binding, pods/eviction,
     * serviceaccounts/token. */
    static const struct {
        unsigned bit;
        const char *path, *suffix, *api_version, *kind;
    } post_subs[] = {
        {API_SUB_BINDING, "binding", "Binding", "v1", "Binding"},
        {API_SUB_EVICTION, "eviction", "Eviction", "policy/v1", "Eviction"},
        {API_SUB_TOKEN, "token", "Token", "authentication.k8s.io/v1", "TokenRequest"},
    };
    for (size_t i = 0; i < sizeof(post_subs) / sizeof(post_subs[0]); i++) {
        if (!(r->subresources & post_subs[i].bit))
            continue;
        struct op_info so = oi;
        so.suffix = post_subs[i].suffix;
        so.sub = post_subs[i].path;
        so.gvk_api = post_subs[i].api_version;
        so.gvk_kind = post_subs[i].kind;
        so.body = kind_desc(post_subs[i].api_version, post_subs[i].kind);
        if (so.body == NULL)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", item_path, post_subs[i].path);
        add_operation(g, path_item(g, paths, sub, r), OP_CREATE, &so);
    }

    /* Streaming subresources: no object types. */
    static const struct {
        unsigned bit;
        const char *path, *suffix;
        bool post;
    } stream_subs[] = {
        {API_SUB_EXEC, "exec", "Exec", true},
        {API_SUB_ATTACH, "attach", "Attach", true},
        {API_SUB_PORTFORWARD, "portforward", "Portforward", true},
        {API_SUB_PROXY, "proxy", "Proxy", true},
    };
    for (size_t i = 0; i < sizeof(stream_subs) / sizeof(stream_subs[0]); i++) {
        if (!(r->subresources & stream_subs[i].bit))
            continue;
        struct op_info so = oi;
        so.suffix = stream_subs[i].suffix;
        so.sub = stream_subs[i].path;
        so.gvk_api = NULL;
        so.body = NULL;
        snprintf(sub, sizeof(sub), "%s/%s", item_path, stream_subs[i].path);
        struct k8c_json *it = path_item(g, paths, sub, r);
        add_operation(g, it, OP_CONNECT_GET, &so);
        if (stream_subs[i].post)
            add_operation(g, it, OP_CONNECT_POST, &so);
    }
    if (r->subresources & API_SUB_LOG) {
        struct op_info so = oi;
        so.suffix = "Log";
        so.sub = "log";
        so.body = NULL;
        snprintf(sub, sizeof(sub), "%s/log", item_path);
        add_operation(g, path_item(g, paths, sub, r), OP_READ_TEXT, &so);
    }
}

/* ---- documents ------------------------------------------------------------------------------ */

static int cmp_members(const void *x, const void *y)
{
    const struct k8c_json_member *a = x, *b = y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int r = memcmp(a->key, b->key, n);

    if (r != 0)
        return r;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* Sorts every object's members by key, as Go writes maps. */
static void sort_tree(struct k8c_json *v, unsigned depth)
{
    if (v == NULL || depth > 64)
        return;
    if (v->type == K8C_JSON_OBJECT) {
        if (v->len > 1)
            qsort(v->u.members, v->len, sizeof(struct k8c_json_member), cmp_members);
        for (uint32_t i = 0; i < v->len; i++)
            sort_tree(v->u.members[i].value, depth + 1);
    } else if (v->type == K8C_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++)
            sort_tree(v->u.items[i], depth + 1);
    }
}

static struct k8c_json *info(struct gen *g)
{
    struct k8c_json *o = obj(g);

    set_str(g, o, "title", "Kubernetes");
    set_str(g, o, "version", "v1.32.0-k8c");
    return o;
}

/* Sorts and writes doc; returns the text (k8c_free) and its length. */
static char *finish(struct k8c_json *doc, size_t *len)
{
    struct k8c_sbuf sb;

    sort_tree(doc, 0);
    k8c_sbuf_init(&sb);
    k8c_json_write(&sb, doc, 0, 0);
    *len = sb.len;
    return k8c_sbuf_detach(&sb);
}

/* The OpenAPI v3 document of group-version gv ("v1", "apps/v1"). */
static char *build_v3(const char *gv, size_t *len)
{
    struct gen g = {k8c_arena_new(1u << 20), FLAVOR_V3, NULL};
    struct k8c_json *doc = obj(&g), *paths = obj(&g), *components = obj(&g);
    size_t n;
    const struct api_resource *rs = api_resources(&n);
    char *text;

    g.schemas = obj(&g);
    set_str(&g, doc, "openapi", "3.0.0");
    set(&g, doc, "info", info(&g));
    for (size_t i = 0; i < n; i++)
        if (rs[i].api_version != NULL && strcmp(rs[i].api_version, gv) == 0)
            add_resource_paths(&g, paths, &rs[i]);
    set(&g, doc, "paths", paths);
    set(&g, components, "schemas", g.schemas);
    set(&g, doc, "components", components);
    text = finish(doc, len);
    k8c_arena_del(g.a);
    return text;
}

/* ---- v2 as protobuf ------------------------------------------------------------------------- */

/*
 * client-go reads /openapi/v2 only as protobuf (Accept:
 * application/com.github.proto-openapi.spec.v2@v1.0+protobuf): a gnostic openapi.v2.Document
 * (github.com/google/gnostic-models, openapiv2/OpenAPIv2.proto), which kubectl fetches when
 * /openapi/v3 has no document for a manifest's group-version. The JSON document above is
 * converted field by field with the numbers of that schema. Vendor extensions are
 * NamedAny{name, Any{yaml}}, the value written as JSON (which YAML reads as is), as
 * kube-openapi writes them as YAML.
 */
static void pb_tag(struct k8c_sbuf *sb, unsigned field, unsigned wire)
{
    uint8_t b[10];
    k8c_sbuf_append(sb, b, (size_t)(k8c_codec_varint_put(b, (uint64_t)field << 3 | wire) - b));
}

static void pb_bytes(struct k8c_sbuf *sb, unsigned field, const void *data, size_t len)
{
    uint8_t b[10];
    pb_tag(sb, field, 2);
    k8c_sbuf_append(sb, b, (size_t)(k8c_codec_varint_put(b, len) - b));
    k8c_sbuf_append(sb, data, len);
}

static void pb_str(struct k8c_sbuf *sb, unsigned field, const struct k8c_json *v)
{
    if (v != NULL && v->type == K8C_JSON_STRING)
        pb_bytes(sb, field, v->u.str, v->len);
}

static void pb_bool(struct k8c_sbuf *sb, unsigned field, const struct k8c_json *v)
{
    if (v != NULL && v->type == K8C_JSON_BOOL && v->boolean) {
        pb_tag(sb, field, 0);
        k8c_sbuf_append(sb, "\x01", 1);
    }
}

/* A string or every string of an array, each as one repeated field. */
static void pb_strs(struct k8c_sbuf *sb, unsigned field, const struct k8c_json *v)
{
    if (v != NULL && v->type == K8C_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len; i++)
            pb_str(sb, field, v->u.items[i]);
    else
        pb_str(sb, field, v);
}

/* A nested message: fn writes it into a buffer of its own, then it goes in as field. */
static void pb_msg(struct k8c_sbuf *sb, unsigned field, const struct k8c_json *v,
                   void (*fn)(struct k8c_sbuf *, const struct k8c_json *))
{
    struct k8c_sbuf m;
    k8c_sbuf_init(&m);
    fn(&m, v);
    pb_bytes(sb, field, m.data != NULL ? m.data : "", m.len);
    k8c_sbuf_free(&m);
}

/* Members "x-..." of o as repeated NamedAny at field. */
static void pb_extensions(struct k8c_sbuf *sb, unsigned field, const struct k8c_json *o)
{
    for (uint32_t i = 0; o->type == K8C_JSON_OBJECT && i < o->len; i++) {
        const struct k8c_json_member *m = &o->u.members[i];
        struct k8c_sbuf any, named, text;
        if (strncmp(m->key, "x-", 2) != 0)
            continue;
        k8c_sbuf_init(&text);
        k8c_json_write(&text, m->value, 0, 0);
        k8c_sbuf_init(&any);
        pb_bytes(&any, 2, text.data, text.len); /* Any.yaml */
        k8c_sbuf_init(&named);
        pb_bytes(&named, 1, m->key, m->key_len);
        pb_bytes(&named, 2, any.data, any.len);
        pb_bytes(sb, field, named.data, named.len);
        k8c_sbuf_free(&text);
        k8c_sbuf_free(&any);
        k8c_sbuf_free(&named);
    }
}

/* A map of name -> value as repeated Named* {1 name, 2 value} at field. */
static void pb_named(struct k8c_sbuf *sb, unsigned field, const struct k8c_json *o,
                     void (*fn)(struct k8c_sbuf *, const struct k8c_json *))
{
    for (uint32_t i = 0; o != NULL && o->type == K8C_JSON_OBJECT && i < o->len; i++) {
        const struct k8c_json_member *m = &o->u.members[i];
        struct k8c_sbuf named;
        if (strncmp(m->key, "x-", 2) == 0)
            continue;
        k8c_sbuf_init(&named);
        pb_bytes(&named, 1, m->key, m->key_len);
        pb_msg(&named, 2, m->value, fn);
        pb_bytes(sb, field, named.data, named.len);
        k8c_sbuf_free(&named);
    }
}

static void pb_schema(struct k8c_sbuf *sb, const struct k8c_json *s);

static void pb_schemas(struct k8c_sbuf *sb, const struct k8c_json *o)
{
    pb_named(sb, 1, o, pb_schema);
}

static void pb_type_item(struct k8c_sbuf *sb, const struct k8c_json *t)
{
    pb_strs(sb, 1, t);
}

/* items: one schema or an array of them (ItemsItem.schema is repeated) */
static void pb_items(struct k8c_sbuf *sb, const struct k8c_json *v)
{
    if (v->type == K8C_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len; i++)
            pb_msg(sb, 1, v->u.items[i], pb_schema);
    else
        pb_msg(sb, 1, v, pb_schema);
}

static void pb_additional(struct k8c_sbuf *sb, const struct k8c_json *v)
{
    if (v->type == K8C_JSON_BOOL) {
        pb_tag(sb, 2, 0);
        k8c_sbuf_append(sb, v->boolean ? "\x01" : "\x00", 1);
    } else {
        pb_msg(sb, 1, v, pb_schema);
    }
}

static void pb_schema(struct k8c_sbuf *sb, const struct k8c_json *s)
{
    const struct k8c_json *v;
    if (s == NULL || s->type != K8C_JSON_OBJECT)
        return;
    pb_str(sb, 1, k8c_json_get(s, "$ref"));
    pb_str(sb, 2, k8c_json_get(s, "format"));
    pb_str(sb, 3, k8c_json_get(s, "title"));
    pb_str(sb, 4, k8c_json_get(s, "description"));
    pb_strs(sb, 19, k8c_json_get(s, "required"));
    if ((v = k8c_json_get(s, "additionalProperties")) != NULL)
        pb_msg(sb, 21, v, pb_additional);
    if ((v = k8c_json_get(s, "type")) != NULL)
        pb_msg(sb, 22, v, pb_type_item);
    if ((v = k8c_json_get(s, "items")) != NULL)
        pb_msg(sb, 23, v, pb_items);
    if ((v = k8c_json_get(s, "allOf")) != NULL && v->type == K8C_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len; i++)
            pb_msg(sb, 24, v->u.items[i], pb_schema);
    if ((v = k8c_json_get(s, "properties")) != NULL)
        pb_msg(sb, 25, v, pb_schemas);
    pb_extensions(sb, 31, s);
}

/* A parameter: body {description 1, name 2, in 3, required 4, schema 5} or a non-body one
 * (query, path, header, formData: the same first four fields, then type and format) */
static void pb_param_sub(struct k8c_sbuf *sb, const struct k8c_json *p)
{
    const struct k8c_json *in = k8c_json_get(p, "in");
    /* query and formData have allow_empty_value (5) before type: one field further */
    unsigned shift = in != NULL && in->type == K8C_JSON_STRING &&
                             (strcmp(in->u.str, "query") == 0 || strcmp(in->u.str, "formData") == 0)
                         ? 1
                         : 0;
    pb_bool(sb, 1, k8c_json_get(p, "required"));
    pb_str(sb, 2, in);
    pb_str(sb, 3, k8c_json_get(p, "description"));
    pb_str(sb, 4, k8c_json_get(p, "name"));
    pb_str(sb, 5 + shift, k8c_json_get(p, "type"));
    pb_str(sb, 6 + shift, k8c_json_get(p, "format"));
    pb_bool(sb, 19 + shift, k8c_json_get(p, "uniqueItems"));
    pb_extensions(sb, 22 + shift, p);
}

static void pb_non_body(struct k8c_sbuf *sb, const struct k8c_json *p)
{
    static const char *const ins[] = {"header", "formData", "query", "path"};
    const struct k8c_json *in = k8c_json_get(p, "in");
    for (unsigned i = 0; i < 4; i++)
        if (in != NULL && in->type == K8C_JSON_STRING && strcmp(in->u.str, ins[i]) == 0)
            pb_msg(sb, i + 1, p, pb_param_sub);
}

static void pb_body(struct k8c_sbuf *sb, const struct k8c_json *p)
{
    const struct k8c_json *v;
    pb_str(sb, 1, k8c_json_get(p, "description"));
    pb_str(sb, 2, k8c_json_get(p, "name"));
    pb_str(sb, 3, k8c_json_get(p, "in"));
    pb_bool(sb, 4, k8c_json_get(p, "required"));
    if ((v = k8c_json_get(p, "schema")) != NULL)
        pb_msg(sb, 5, v, pb_schema);
    pb_extensions(sb, 6, p);
}

static void pb_parameter(struct k8c_sbuf *sb, const struct k8c_json *p)
{
    const struct k8c_json *in = k8c_json_get(p, "in");
    if (in != NULL && in->type == K8C_JSON_STRING && strcmp(in->u.str, "body") == 0)
        pb_msg(sb, 1, p, pb_body);
    else
        pb_msg(sb, 2, p, pb_non_body);
}

static void pb_reference(struct k8c_sbuf *sb, const struct k8c_json *p)
{
    pb_str(sb, 1, k8c_json_get(p, "$ref"));
    pb_str(sb, 2, k8c_json_get(p, "description"));
}

/* ParametersItem: a parameter (1) or a reference (2) */
static void pb_parameters_item(struct k8c_sbuf *sb, const struct k8c_json *p)
{
    if (k8c_json_get(p, "$ref") != NULL)
        pb_msg(sb, 2, p, pb_reference);
    else
        pb_msg(sb, 1, p, pb_parameter);
}

static void pb_schema_item(struct k8c_sbuf *sb, const struct k8c_json *s)
{
    pb_msg(sb, 1, s, pb_schema);
}

static void pb_response(struct k8c_sbuf *sb, const struct k8c_json *r)
{
    const struct k8c_json *v;
    pb_str(sb, 1, k8c_json_get(r, "description"));
    if ((v = k8c_json_get(r, "schema")) != NULL)
        pb_msg(sb, 2, v, pb_schema_item);
    pb_extensions(sb, 5, r);
}

static void pb_response_value(struct k8c_sbuf *sb, const struct k8c_json *r)
{
    if (k8c_json_get(r, "$ref") != NULL)
        pb_msg(sb, 2, r, pb_reference);
    else
        pb_msg(sb, 1, r, pb_response);
}

static void pb_responses(struct k8c_sbuf *sb, const struct k8c_json *o)
{
    pb_named(sb, 1, o, pb_response_value);
    pb_extensions(sb, 2, o);
}

static void pb_operation(struct k8c_sbuf *sb, const struct k8c_json *op)
{
    const struct k8c_json *v;
    pb_strs(sb, 1, k8c_json_get(op, "tags"));
    pb_str(sb, 2, k8c_json_get(op, "summary"));
    pb_str(sb, 3, k8c_json_get(op, "description"));
    pb_str(sb, 5, k8c_json_get(op, "operationId"));
    pb_strs(sb, 6, k8c_json_get(op, "produces"));
    pb_strs(sb, 7, k8c_json_get(op, "consumes"));
    if ((v = k8c_json_get(op, "parameters")) != NULL && v->type == K8C_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len; i++)
            pb_msg(sb, 8, v->u.items[i], pb_parameters_item);
    if ((v = k8c_json_get(op, "responses")) != NULL)
        pb_msg(sb, 9, v, pb_responses);
    pb_strs(sb, 10, k8c_json_get(op, "schemes"));
    pb_bool(sb, 11, k8c_json_get(op, "deprecated"));
    pb_extensions(sb, 13, op);
}

static void pb_path_item(struct k8c_sbuf *sb, const struct k8c_json *item)
{
    static const char *const methods[] = {"get",     "put",  "post", "delete",
                                          "options", "head", "patch"};
    const struct k8c_json *v;
    pb_str(sb, 1, k8c_json_get(item, "$ref"));
    for (unsigned i = 0; i < 7; i++)
        if ((v = k8c_json_get(item, methods[i])) != NULL)
            pb_msg(sb, i + 2, v, pb_operation);
    if ((v = k8c_json_get(item, "parameters")) != NULL && v->type == K8C_JSON_ARRAY)
        for (uint32_t i = 0; i < v->len; i++)
            pb_msg(sb, 9, v->u.items[i], pb_parameters_item);
    pb_extensions(sb, 10, item);
}

static void pb_paths(struct k8c_sbuf *sb, const struct k8c_json *paths)
{
    pb_extensions(sb, 1, paths);
    pb_named(sb, 2, paths, pb_path_item);
}

static void pb_info(struct k8c_sbuf *sb, const struct k8c_json *info)
{
    pb_str(sb, 1, k8c_json_get(info, "title"));
    pb_str(sb, 2, k8c_json_get(info, "version"));
    pb_str(sb, 3, k8c_json_get(info, "description"));
}

/* The whole Swagger 2.0 document (sorted) as an openapi.v2.Document. */
static char *v2_to_proto(const struct k8c_json *doc, size_t *len)
{
    struct k8c_sbuf sb;
    const struct k8c_json *v;

    k8c_sbuf_init(&sb);
    pb_str(&sb, 1, k8c_json_get(doc, "swagger"));
    if ((v = k8c_json_get(doc, "info")) != NULL)
        pb_msg(&sb, 2, v, pb_info);
    if ((v = k8c_json_get(doc, "paths")) != NULL)
        pb_msg(&sb, 8, v, pb_paths);
    if ((v = k8c_json_get(doc, "definitions")) != NULL)
        pb_msg(&sb, 9, v, pb_schemas);
    pb_extensions(&sb, 16, doc);
    *len = sb.len;
    return k8c_sbuf_detach(&sb);
}

static char *build_v2(size_t *len, char **proto, size_t *proto_len)
{
    struct gen g = {k8c_arena_new(1u << 20), FLAVOR_V2, NULL};
    struct k8c_json *doc = obj(&g), *paths = obj(&g);
    size_t n;
    const struct api_resource *rs = api_resources(&n);
    char *text;

    g.schemas = obj(&g);
    set_str(&g, doc, "swagger", "2.0");
    set(&g, doc, "info", info(&g));
    for (size_t i = 0; i < n; i++)
        if (rs[i].api_version != NULL)
            add_resource_paths(&g, paths, &rs[i]);
    set(&g, doc, "paths", paths);
    set(&g, doc, "definitions", g.schemas);
    text = finish(doc, len);
    *proto = v2_to_proto(doc, proto_len);
    k8c_arena_del(g.a);
    return text;
}

/* ---- cache ---------------------------------------------------------------------------------- */

struct cached_doc {
    char *path; /* "api/v1", "apis/apps/v1" */
    char *text;
    size_t len;
    char hash[17];
};

static pthread_once_t generate_once = PTHREAD_ONCE_INIT;
static int generate_rc;
static struct cached_doc *v3_docs;
static size_t n_v3_docs;
static char *v3_index, *v2_text, *v2_proto;
static size_t v3_index_len, v2_len, v2_proto_len;

/* FNV-1a, 64 bits, as 16 uppercase hex digits: stable across runs and builds. */
static void hash_text(const char *text, size_t len, char out[17])
{
    uint64_t h = 14695981039346656037ull;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
    snprintf(out, 17, "%016" PRIX64, h);
}

static void generate(void)
{
    size_t n_gv, n;
    const char *const *gvs;
    struct k8c_sbuf idx;
    char errmsg[K8C_ERRMSG_SIZE];

    if (api_resources(&n)[0].desc == NULL) {
        generate_rc = api_resources_init(errmsg);
        if (generate_rc != 0) {
            k8c_log_error("openapi: cannot describe the resources: %s", errmsg);
            return;
        }
    }
    gvs = api_group_versions(&n_gv);
    v3_docs = k8c_calloc(n_gv ? n_gv : 1, sizeof(struct cached_doc));
    k8c_sbuf_init(&idx);
    k8c_sbuf_puts(&idx, "{\"paths\":{");
    for (size_t i = 0; i < n_gv; i++) {
        struct cached_doc *d = &v3_docs[n_v3_docs++];
        char path[256];
        if (strchr(gvs[i], '/') != NULL)
            snprintf(path, sizeof(path), "apis/%s", gvs[i]);
        else
            snprintf(path, sizeof(path), "api/%s", gvs[i]);
        d->path = k8c_strdup(path);
        d->text = build_v3(gvs[i], &d->len);
        hash_text(d->text, d->len, d->hash);
        k8c_sbuf_printf(&idx, "%s\"%s\":{\"serverRelativeURL\":\"/openapi/v3/%s?hash=%s\"}",
                        i > 0 ? "," : "", d->path, d->path, d->hash);
    }
    k8c_sbuf_puts(&idx, "}}");
    v3_index_len = idx.len;
    v3_index = k8c_sbuf_detach(&idx);
    v2_text = build_v2(&v2_len, &v2_proto, &v2_proto_len);
}

static int ensure_generated(void)
{
    pthread_once(&generate_once, generate);
    return generate_rc;
}

static const struct cached_doc *find_doc(const char *path)
{
    size_t n;

    while (*path == '/')
        path++;
    n = strcspn(path, "?");
    while (n > 0 && path[n - 1] == '/')
        n--;
    for (size_t i = 0; i < n_v3_docs; i++)
        if (strncmp(v3_docs[i].path, path, n) == 0 && v3_docs[i].path[n] == '\0')
            return &v3_docs[i];
    return NULL;
}

int api_openapi_v3_index(struct k8c_sbuf *out)
{
    int rc = ensure_generated();

    if (rc != 0)
        return rc;
    k8c_sbuf_append(out, v3_index, v3_index_len);
    return 0;
}

int api_openapi_v3_doc(const char *path, struct k8c_sbuf *out)
{
    int rc = ensure_generated();
    const struct cached_doc *d;

    if (rc != 0)
        return rc;
    d = find_doc(path);
    if (d == NULL)
        return K8C_ENOTFOUND;
    k8c_sbuf_append(out, d->text, d->len);
    return 0;
}

const char *api_openapi_v3_hash(const char *path)
{
    const struct cached_doc *d;

    if (ensure_generated() != 0)
        return NULL;
    d = find_doc(path);
    return d != NULL ? d->hash : NULL;
}

int api_openapi_v2(struct k8c_sbuf *out)
{
    int rc = ensure_generated();

    if (rc != 0)
        return rc;
    k8c_sbuf_append(out, v2_text, v2_len);
    return 0;
}

int api_openapi_v2_proto(struct k8c_sbuf *out)
{
    int rc = ensure_generated();

    if (rc != 0)
        return rc;
    k8c_sbuf_append(out, v2_proto, v2_proto_len);
    return 0;
}
