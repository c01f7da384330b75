/*
 * Defaulting of API objects (see defaults.h). One function per upstream SetDefaults_* that
 * matters, walking the protobuf-c structs directly; SetObjectDefaults_<Kind> becomes a
 * defaults_<kind> function that calls them in upstream's order.
 *
 * Presence: a Go pointer field (*int32, *string, *bool, pointer structs) is unset when the
 * protobuf-c has_ flag is clear or the pointer is NULL; a Go value field (string, int32) is
 * also "unset" when it holds the zero value, since Go cannot tell the two apart. The helpers
 * below come in both flavours (str_default vs strp_default), chosen per field from upstream's
 * Go types. A Go value struct (PodSpec, DeploymentStrategy, ...) that is absent here is
 * created when a default has to be written into it, as Go would see an empty struct.
 */
#include "defaults.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "quantity.h"

#include "k8s/api/apps/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v2/generated.pb-c.h"
#include "k8s/api/batch/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/api/discovery/v1/generated.pb-c.h"
#include "k8s/api/networking/v1/generated.pb-c.h"
#include "k8s/api/rbac/v1/generated.pb-c.h"
#include "k8s/api/scheduling/v1/generated.pb-c.h"
#include "k8s/api/storage/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/api/resource/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/util/intstr/generated.pb-c.h"

/* ---- type names ---------------------------------------------------------------------------- */

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta meta_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta__LabelsEntry label_entry_t;
typedef K8s__Io__Apimachinery__Pkg__Api__Resource__Quantity quantity_t;
typedef K8s__Io__Apimachinery__Pkg__Util__Intstr__IntOrString intstr_t;

typedef K8s__Io__Api__Core__V1__Pod pod_t;
typedef K8s__Io__Api__Core__V1__PodSpec pod_spec_t;
typedef K8s__Io__Api__Core__V1__PodTemplateSpec pod_template_spec_t;
typedef K8s__Io__Api__Core__V1__PodTemplate pod_template_t;
typedef K8s__Io__Api__Core__V1__Container container_t;
typedef K8s__Io__Api__Core__V1__EphemeralContainer ephemeral_container_t;
typedef K8s__Io__Api__Core__V1__ContainerPort container_port_t;
typedef K8s__Io__Api__Core__V1__EnvVar env_var_t;
typedef K8s__Io__Api__Core__V1__ObjectFieldSelector field_selector_t;
typedef K8s__Io__Api__Core__V1__ResourceRequirements resources_t;
typedef K8s__Io__Api__Core__V1__ResourceRequirements__RequestsEntry request_entry_t;
typedef K8s__Io__Api__Core__V1__Probe probe_t;
typedef K8s__Io__Api__Core__V1__HTTPGetAction http_get_t;
typedef K8s__Io__Api__Core__V1__Lifecycle lifecycle_t;
typedef K8s__Io__Api__Core__V1__LifecycleHandler lifecycle_handler_t;
typedef K8s__Io__Api__Core__V1__Volume volume_t;
typedef K8s__Io__Api__Core__V1__VolumeSource volume_source_t;
typedef K8s__Io__Api__Core__V1__DownwardAPIVolumeFile downward_file_t;
typedef K8s__Io__Api__Core__V1__PersistentVolumeClaim pvc_t;
typedef K8s__Io__Api__Core__V1__PersistentVolumeClaimSpec pvc_spec_t;
typedef K8s__Io__Api__Core__V1__PersistentVolume pv_t;
typedef K8s__Io__Api__Core__V1__ReplicationController rc_t;
typedef K8s__Io__Api__Core__V1__ReplicationControllerSpec__SelectorEntry rc_selector_entry_t;
typedef K8s__Io__Api__Core__V1__Service service_t;
typedef K8s__Io__Api__Core__V1__ServiceSpec service_spec_t;
typedef K8s__Io__Api__Core__V1__Namespace namespace_t;
typedef K8s__Io__Api__Core__V1__Secret secret_t;
typedef K8s__Io__Api__Core__V1__Endpoints endpoints_t;
typedef K8s__Io__Api__Core__V1__Node node_t;
typedef K8s__Io__Api__Core__V1__LimitRange limit_range_t;

typedef K8s__Io__Api__Apps__V1__Deployment deployment_t;
typedef K8s__Io__Api__Apps__V1__ReplicaSet replica_set_t;
typedef K8s__Io__Api__Apps__V1__StatefulSet stateful_set_t;
typedef K8s__Io__Api__Apps__V1__DaemonSet daemon_set_t;
typedef K8s__Io__Api__Batch__V1__Job job_t;
typedef K8s__Io__Api__Batch__V1__JobSpec job_spec_t;
typedef K8s__Io__Api__Batch__V1__CronJob cron_job_t;
typedef K8s__Io__Api__Autoscaling__V1__HorizontalPodAutoscaler hpa_v1_t;
typedef K8s__Io__Api__Autoscaling__V2__HorizontalPodAutoscaler hpa_v2_t;
typedef K8s__Io__Api__Autoscaling__V2__HPAScalingRules hpa_rules_t;
typedef K8s__Io__Api__Autoscaling__V2__HPAScalingPolicy hpa_policy_t;
typedef K8s__Io__Api__Networking__V1__NetworkPolicy network_policy_t;
typedef K8s__Io__Api__Networking__V1__NetworkPolicyPort network_policy_port_t;
typedef K8s__Io__Api__Networking__V1__IngressClass ingress_class_t;
typedef K8s__Io__Api__Rbac__V1__RoleRef role_ref_t;
typedef K8s__Io__Api__Rbac__V1__Subject subject_t;
typedef K8s__Io__Api__Discovery__V1__EndpointSlice endpoint_slice_t;
typedef K8s__Io__Api__Storage__V1__StorageClass storage_class_t;
typedef K8s__Io__Api__Scheduling__V1__PriorityClass priority_class_t;

/*
 * Every map<string, string> entry protoc-c generates has this layout (the message header,
 * then key, then value), so label-like maps of different entry types are copied through it.
 */
struct str_entry {
    ProtobufCMessage base;
    char *key;
    char *value;
};

/* ---- helpers ------------------------------------------------------------------------------- */

static void *msg_new(const ProtobufCMessageDescriptor *desc)
{
    void *m = k8c_malloc(desc->sizeof_message);
    protobuf_c_message_init(desc, m);
    return m;
}

/* *field = a new message of desc when it is NULL; returns *field. */
#define ENSURE(field, desc) ((field) != NULL ? (field) : ((field) = msg_new(&(desc))))

/* Appends item to the repeated field (arr, n). */
#define APPEND(arr, n, item)                                                                       \
    do {                                                                                           \
        (arr) = k8c_realloc((arr), ((n) + 1) * sizeof(*(arr)));                                    \
        (arr)[(n)++] = (item);                                                                     \
    } while (0)

static bool str_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static void str_set(char **field, const char *value)
{
    char *copy = k8c_strdup(value);
    k8c_free(*field);
    *field = copy;
}

/* Go string field: "" and absent are the same. */
static void str_default(char **field, const char *value)
{
    if (str_empty(*field))
        str_set(field, value);
}

/* Go *string field: only absent is unset. */
static void strp_default(char **field, const char *value)
{
    if (*field == NULL)
        *field = k8c_strdup(value);
}

/* Go *int32 / *int64 / *bool: set when the has_ flag is clear. */
#define OPT_DEFAULT(obj, member, value)                                                            \
    do {                                                                                           \
        if (!(obj)->has_##member) {                                                                \
            (obj)->has_##member = 1;                                                               \
            (obj)->member = (value);                                                               \
        }                                                                                          \
    } while (0)

/* Go int32 value field: zero counts as unset. */
#define INT_DEFAULT(obj, member, value)                                                            \
    do {                                                                                           \
        if (!(obj)->has_##member || (obj)->member == 0) {                                          \
            (obj)->has_##member = 1;                                                               \
            (obj)->member = (value);                                                               \
        }                                                                                          \
    } while (0)

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b) == 0;
}

static intstr_t *intstr_new_int(int32_t v)
{
    intstr_t *x = msg_new(&k8s__io__apimachinery__pkg__util__intstr__int_or_string__descriptor);
    x->has_type = 1;
    x->type = 0;
    x->has_intval = 1;
    x->intval = v;
    return x;
}

static intstr_t *intstr_new_str(const char *v)
{
    intstr_t *x = msg_new(&k8s__io__apimachinery__pkg__util__intstr__int_or_string__descriptor);
    x->has_type = 1;
    x->type = 1;
    x->strval = k8c_strdup(v);
    return x;
}

/* intstr.FromInt32(0) or intstr.FromString(""): the zero value of a Go IntOrString. */
static bool intstr_is_zero(const intstr_t *x)
{
    if (x == NULL)
        return true;
    if (x->has_type && x->type == 1)
        return str_empty(x->strval);
    return !x->has_intval || x->intval == 0;
}

/* Appends copies of n string map entries to (*dst, *n_dst), entries of type desc. */
static void str_map_copy(void ***dst, size_t *n_dst, void *const *src, size_t n,
                         const ProtobufCMessageDescriptor *desc)
{
    for (size_t i = 0; i < n; i++) {
        const struct str_entry *s = src[i];
        struct str_entry *e = msg_new(desc);
        e->key = k8c_strdup(s->key != NULL ? s->key : "");
        e->value = k8c_strdup(s->value != NULL ? s->value : "");
        APPEND(*dst, *n_dst, (void *)e);
    }
}

/* ---- ResourceList -------------------------------------------------------------------------- */

/*
 * SetDefaults_ResourceList: every quantity is rounded up (away from zero) to milli-units, so
 * "100u" becomes "1m". The codec already keeps quantities canonical; a string that does not
 * parse is left for validation to report.
 */
static void resource_list_round(void *const *entries, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct api_quantity_entry *e = entries[i];
        struct k8c_quantity q;
        char buf[K8C_QUANTITY_STR_MAX];
        const __int128 milli = 1000000;

        if (e->value == NULL || e->value->string == NULL ||
            k8c_quantity_parse(e->value->string, strlen(e->value->string), &q) != 0)
            continue;
        if (q.nano % milli == 0)
            continue;
        q.nano = (q.nano / milli + (q.nano > 0 ? 1 : -1)) * milli;
        k8c_quantity_format(&q, buf);
        str_set(&e->value->string, buf);
    }
}

#define ROUND_LIST(obj, member) resource_list_round((void *const *)(obj)->member, (obj)->n_##member)

static void resources_round(resources_t *r)
{
    if (r == NULL)
        return;
    ROUND_LIST(r, limits);
    ROUND_LIST(r, requests);
}

/* ---- image references ---------------------------------------------------------------------- */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* A path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool ref_path_component_ok(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t start = i;
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == start)
            return false;
        if (i == n)
            return true;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < n && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return false;
        }
        if (i == n)
            return false;
    }
    return n > 0;
}

/* A registry host: DNS-ish labels of [A-Za-z0-9-] joined by '.', optional ":port". Bracketed
 * IPv6 literals are accepted loosely. */
static bool ref_domain_ok(const char *s, size_t n)
{
    size_t i = 0;

    if (n > 0 && s[0] == '[') {
        while (i < n && s[i] != ']')
            i++;
        if (i == n)
            return false;
        i++;
    } else {
        for (;;) {
            size_t start = i;
            while (i < n && (is_alnum(s[i]) || s[i] == '-'))
                i++;
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return false;
            if (i < n && s[i] == '.') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i < n && s[i] == ':') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

/*
 * Splits image into name, tag and digest as docker's reference.ParseNormalizedNamed does.
 * Returns false when the reference does not parse; *has_tag / *tag_is_latest / *has_digest
 * describe the parts otherwise.
 */
static bool image_ref_parse(const char *image, bool *has_tag, bool *tag_is_latest, bool *has_digest)
{
    size_t len = strlen(image), name_len, i;
    const char *at = strchr(image, '@');
    const char *slash, *colon, *remainder;

    *has_tag = *tag_is_latest = *has_digest = false;
    if (len == 0)
        return false;
    name_len = at != NULL ? (size_t)(at - image) : len;
    if (at != NULL) {
        /* digest: algorithm ":" encoded, algorithm [a-z0-9]+([+._-][a-z0-9]+)*, encoded
         * [a-zA-Z0-9=_-]{32,} (sha256: 64 lowercase hex) */
        const char *d = at + 1, *c = strchr(d, ':');
        size_t enc;
        if (c == NULL || c == d)
            return false;
        for (const char *p = d; p < c; p++)
            if (!is_lower_alnum(*p) && *p != '+' && *p != '.' && *p != '_' && *p != '-')
                return false;
        enc = strlen(c + 1);
        if (enc < 32)
            return false;
        for (const char *p = c + 1; *p; p++)
            if (!is_alnum(*p) && *p != '=' && *p != '_' && *p != '-')
                return false;
        if ((size_t)(c - d) == 6 && memcmp(d, "sha256", 6) == 0) {
            if (enc != 64)
                return false;
            for (const char *p = c + 1; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                    return false;
        }
        *has_digest = true;
    }
    /* tag: after the last ':' that follows the last '/' */
    slash = NULL;
    colon = NULL;
    for (i = 0; i < name_len; i++) {
        if (image[i] == '/') {
            slash = image + i;
            colon = NULL;
        } else if (image[i] == ':') {
            colon = image + i;
        }
    }
    if (colon != NULL) {
        size_t tag_len = name_len - (size_t)(colon - image) - 1;
        const char *tag = colon + 1;
        if (tag_len == 0 || tag_len > 128)
            return false;
        if (!is_alnum(tag[0]) && tag[0] != '_')
            return false;
        for (i = 1; i < tag_len; i++)
            if (!is_alnum(tag[i]) && tag[i] != '_' && tag[i] != '.' && tag[i] != '-')
                return false;
        *has_tag = true;
        *tag_is_latest = tag_len == 6 && memcmp(tag, "latest", 6) == 0;
        name_len = (size_t)(colon - image);
    }
    (void)slash;
    if (name_len > 255)
        return false;
    /* domain: the first component when it has '.' or ':', is "localhost" or has upper case */
    remainder = image;
    {
        const char *first_slash = memchr(image, '/', name_len);
        if (first_slash != NULL) {
            size_t dl = (size_t)(first_slash - image);
            bool domain = dl == 9 && memcmp(image, "localhost", 9) == 0;
            for (i = 0; i < dl && !domain; i++)
                if (image[i] == '.' || image[i] == ':' || (image[i] >= 'A' && image[i] <= 'Z'))
                    domain = true;
            if (domain) {
                if (!ref_domain_ok(image, dl))
                    return false;
                remainder = first_slash + 1;
            }
        }
    }
    /* path components */
    {
        const char *p = remainder, *end = image + name_len;
        if (p >= end)
            return false;
        while (p <= end) {
            const char *q = memchr(p, '/', (size_t)(end - p));
            if (q == NULL)
                q = end;
            if (!ref_path_component_ok(p, (size_t)(q - p)))
                return false;
            p = q + 1;
        }
    }
    return true;
}

const char *api_defaults_image_pull_policy(const char *image)
{
    bool has_tag, latest, has_digest;

    if (image == NULL || !image_ref_parse(image, &has_tag, &latest, &has_digest))
        return "IfNotPresent";
    if (latest || (!has_tag && !has_digest))
        return "Always";
    return "IfNotPresent";
}

/* ---- containers ---------------------------------------------------------------------------- */

static void field_selector_defaults(field_selector_t *f)
{
    if (f != NULL)
        str_default(&f->apiversion, "v1");
}

static void http_get_defaults(http_get_t *h)
{
    if (h == NULL)
        return;
    str_default(&h->path, "/");
    str_default(&h->scheme, "HTTP");
}

static void probe_defaults(probe_t *p)
{
    if (p == NULL)
        return;
    INT_DEFAULT(p, timeoutseconds, 1);
    INT_DEFAULT(p, periodseconds, 10);
    INT_DEFAULT(p, successthreshold, 1);
    INT_DEFAULT(p, failurethreshold, 3);
    if (p->handler != NULL) {
        http_get_defaults(p->handler->httpget);
        if (p->handler->grpc != NULL)
            strp_default(&p->handler->grpc->service, "");
    }
}

static void lifecycle_handler_defaults(lifecycle_handler_t *h)
{
    if (h != NULL)
        http_get_defaults(h->httpget);
}

/* The fields of Container and EphemeralContainerCommon that defaulting touches. */
struct container_view {
    char *image;
    char **image_pull_policy, **termination_message_path, **termination_message_policy;
    container_port_t **ports;
    size_t n_ports;
    env_var_t **env;
    size_t n_env;
    resources_t *resources;
    probe_t *probes[3];
    lifecycle_t *lifecycle;
};

static void container_view_defaults(const struct container_view *c)
{
    /* SetDefaults_Container */
    if (str_empty(*c->image_pull_policy))
        str_set(c->image_pull_policy, api_defaults_image_pull_policy(c->image));
    str_default(c->termination_message_path, "/dev/termination-log");
    str_default(c->termination_message_policy, "File");
    for (size_t i = 0; i < c->n_ports; i++)
        if (c->ports[i] != NULL)
            str_default(&c->ports[i]->protocol, "TCP");
    for (size_t i = 0; i < c->n_env; i++)
        if (c->env[i] != NULL && c->env[i]->valuefrom != NULL)
            field_selector_defaults(c->env[i]->valuefrom->fieldref);
    resources_round(c->resources);
    for (size_t i = 0; i < 3; i++)
        probe_defaults(c->probes[i]);
    if (c->lifecycle != NULL) {
        lifecycle_handler_defaults(c->lifecycle->poststart);
        lifecycle_handler_defaults(c->lifecycle->prestop);
    }
}

#define CONTAINER_VIEW(c)                                                                          \
    ((struct container_view){(c)->image,                                                           \
                             &(c)->imagepullpolicy,                                                \
                             &(c)->terminationmessagepath,                                         \
                             &(c)->terminationmessagepolicy,                                       \
                             (c)->ports,                                                           \
                             (c)->n_ports,                                                         \
                             (c)->env,                                                             \
                             (c)->n_env,                                                           \
                             (c)->resources,                                                       \
                             {(c)->livenessprobe, (c)->readinessprobe, (c)->startupprobe},         \
                             (c)->lifecycle})

static void containers_defaults(container_t **cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (cs[i] == NULL)
            continue;
        struct container_view v = CONTAINER_VIEW(cs[i]);
        container_view_defaults(&v);
    }
}

static void ephemeral_containers_defaults(ephemeral_container_t **cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (cs[i] == NULL)
            continue;
        /* upstream embeds the common part: it is there, and defaulted, even for {} */
        struct container_view v =
            CONTAINER_VIEW(ENSURE(cs[i]->ephemeralcontainercommon,
                                  k8s__io__api__core__v1__ephemeral_container_common__descriptor));
        container_view_defaults(&v);
    }
}

/* ---- volumes ------------------------------------------------------------------------------- */

static void pvc_spec_defaults(pvc_spec_t *spec)
{
    if (spec == NULL)
        return;
    strp_default(&spec->volumemode, "Filesystem");
    if (spec->resources != NULL) {
        ROUND_LIST(spec->resources, limits);
        ROUND_LIST(spec->resources, requests);
    }
}

static void downward_files_defaults(downward_file_t **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i] != NULL)
            field_selector_defaults(items[i]->fieldref);
}

/* True when no member of the VolumeSource union is set (upstream ptr.AllPtrFieldsNil). */
static bool volume_source_empty(const volume_source_t *vs)
{
    const ProtobufCMessageDescriptor *d = vs->base.descriptor;

    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED &&
            *(void *const *)((const char *)vs + f->offset) != NULL)
            return false;
    }
    return true;
}

static void volume_defaults(volume_t *v)
{
    volume_source_t *vs;

    if (v == NULL)
        return;
    vs = ENSURE(v->volumesource, k8s__io__api__core__v1__volume_source__descriptor);
    if (volume_source_empty(vs))
        vs->emptydir = msg_new(&k8s__io__api__core__v1__empty_dir_volume_source__descriptor);
    if (vs->hostpath != NULL)
        strp_default(&vs->hostpath->type, "");
    if (vs->secret != NULL)
        OPT_DEFAULT(vs->secret, defaultmode, 0644);
    if (vs->iscsi != NULL)
        str_default(&vs->iscsi->iscsiinterface, "default");
    if (vs->rbd != NULL) {
        str_default(&vs->rbd->pool, "rbd");
        str_default(&vs->rbd->user, "admin");
        str_default(&vs->rbd->keyring, "/etc/ceph/keyring");
    }
    if (vs->downwardapi != NULL) {
        OPT_DEFAULT(vs->downwardapi, defaultmode, 0644);
        downward_files_defaults(vs->downwardapi->items, vs->downwardapi->n_items);
    }
    if (vs->configmap != NULL)
        OPT_DEFAULT(vs->configmap, defaultmode, 0644);
    if (vs->azuredisk != NULL) {
        strp_default(&vs->azuredisk->cachingmode, "ReadWrite");
        strp_default(&vs->azuredisk->fstype, "ext4");
        OPT_DEFAULT(vs->azuredisk, readonly, 0);
        strp_default(&vs->azuredisk->kind, "Shared");
    }
    if (vs->projected != NULL) {
        OPT_DEFAULT(vs->projected, defaultmode, 0644);
        for (size_t i = 0; i < vs->projected->n_sources; i++) {
            K8s__Io__Api__Core__V1__VolumeProjection *p = vs->projected->sources[i];
            if (p == NULL)
                continue;
            if (p->downwardapi != NULL)
                downward_files_defaults(p->downwardapi->items, p->downwardapi->n_items);
            if (p->serviceaccounttoken != NULL)
                OPT_DEFAULT(p->serviceaccounttoken, expirationseconds, 3600);
        }
    }
    if (vs->scaleio != NULL) {
        str_default(&vs->scaleio->storagemode, "ThinProvisioned");
        str_default(&vs->scaleio->fstype, "xfs");
    }
    if (vs->ephemeral != NULL && vs->ephemeral->volumeclaimtemplate != NULL)
        pvc_spec_defaults(ENSURE(vs->ephemeral->volumeclaimtemplate->spec,
                                 k8s__io__api__core__v1__persistent_volume_claim_spec__descriptor));
}

/* ---- PodSpec ------------------------------------------------------------------------------- */

/* SetDefaults_PodSpec plus the per-field defaults SetObjectDefaults_* run on every PodSpec. */
static void pod_spec_defaults(pod_spec_t *s)
{
    str_default(&s->dnspolicy, "ClusterFirst");
    str_default(&s->restartpolicy, "Always");
    ENSURE(s->securitycontext, k8s__io__api__core__v1__pod_security_context__descriptor);
    OPT_DEFAULT(s, terminationgraceperiodseconds, 30);
    str_default(&s->schedulername, "default-scheduler");
    for (size_t i = 0; i < s->n_volumes; i++)
        volume_defaults(s->volumes[i]);
    containers_defaults(s->initcontainers, s->n_initcontainers);
    containers_defaults(s->containers, s->n_containers);
    ephemeral_containers_defaults(s->ephemeralcontainers, s->n_ephemeralcontainers);
    ROUND_LIST(s, overhead);
    resources_round(s->resources);
}

/* A PodTemplateSpec in a workload: a Go value, so it is created when absent. */
static void template_defaults(pod_template_spec_t **t)
{
    pod_template_spec_t *tpl = ENSURE(*t, k8s__io__api__core__v1__pod_template_spec__descriptor);
    pod_spec_defaults(ENSURE(tpl->spec, k8s__io__api__core__v1__pod_spec__descriptor));
}

/* SetDefaults_Pod: requests default to limits, on Pods only (not templates). */
static void requests_from_limits(container_t **cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        resources_t *r = cs[i] != NULL ? cs[i]->resources : NULL;
        if (r == NULL || r->n_limits == 0)
            continue;
        for (size_t j = 0; j < r->n_limits; j++) {
            const char *key = r->limits[j]->key;
            bool exists = false;
            request_entry_t *e;
            for (size_t k = 0; k < r->n_requests && !exists; k++)
                exists = str_eq(r->requests[k]->key, key != NULL ? key : "");
            if (exists)
                continue;
            e = msg_new(&k8s__io__api__core__v1__resource_requirements__requests_entry__descriptor);
            e->key = k8c_strdup(key != NULL ? key : "");
            e->value = msg_new(&k8s__io__apimachinery__pkg__api__resource__quantity__descriptor);
            if (r->limits[j]->value != NULL && r->limits[j]->value->string != NULL)
                e->value->string = k8c_strdup(r->limits[j]->value->string);
            APPEND(r->requests, r->n_requests, e);
        }
    }
}

static void host_network_ports(container_t **cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (cs[i] == NULL)
            continue;
        for (size_t j = 0; j < cs[i]->n_ports; j++) {
            container_port_t *p = cs[i]->ports[j];
            if (p != NULL && (!p->has_hostport || p->hostport == 0)) {
                p->has_hostport = 1;
                p->hostport = p->containerport;
            }
        }
    }
}

static void pod_defaults(pod_t *pod)
{
    pod_spec_t *s = ENSURE(pod->spec, k8s__io__api__core__v1__pod_spec__descriptor);

    requests_from_limits(s->containers, s->n_containers);
    requests_from_limits(s->initcontainers, s->n_initcontainers);
    OPT_DEFAULT(s, enableservicelinks, 1);
    if (s->has_hostnetwork && s->hostnetwork) {
        host_network_ports(s->containers, s->n_containers);
        host_network_ports(s->initcontainers, s->n_initcontainers);
    }
    pod_spec_defaults(s);
}

/* ---- core kinds ---------------------------------------------------------------------------- */

static void replication_controller_defaults(rc_t *rc)
{
    K8s__Io__Api__Core__V1__ReplicationControllerSpec *s =
        ENSURE(rc->spec, k8s__io__api__core__v1__replication_controller_spec__descriptor);

    /* labels come from the template when it has labels (a non-nil map in Go) */
    if (s->template_ != NULL && s->template_->metadata != NULL &&
        s->template_->metadata->n_labels > 0) {
        meta_t *tm = s->template_->metadata;
        meta_t *m = ENSURE(rc->metadata,
                           k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__descriptor);
        if (s->n_selector == 0)
            str_map_copy(
                (void ***)&s->selector, &s->n_selector, (void *const *)tm->labels, tm->n_labels,
                &k8s__io__api__core__v1__replication_controller_spec__selector_entry__descriptor);
        if (m->n_labels == 0)
            str_map_copy(
                (void ***)&m->labels, &m->n_labels, (void *const *)tm->labels, tm->n_labels,
                &k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__labels_entry__descriptor);
    }
    OPT_DEFAULT(s, replicas, 1);
    template_defaults(&s->template_);
}

static bool service_externally_accessible(const service_spec_t *s)
{
    return str_eq(s->type, "LoadBalancer") || str_eq(s->type, "NodePort") ||
           (str_eq(s->type, "ClusterIP") && s->n_externalips > 0);
}

static void service_defaults(service_t *svc)
{
    service_spec_t *s = ENSURE(svc->spec, k8s__io__api__core__v1__service_spec__descriptor);

    str_default(&s->sessionaffinity, "None");
    if (str_eq(s->sessionaffinity, "None") && s->sessionaffinityconfig != NULL) {
        protobuf_c_message_free_unpacked(&s->sessionaffinityconfig->base, NULL);
        s->sessionaffinityconfig = NULL;
    }
    if (str_eq(s->sessionaffinity, "ClientIP")) {
        K8s__Io__Api__Core__V1__SessionAffinityConfig *c = ENSURE(
            s->sessionaffinityconfig, k8s__io__api__core__v1__session_affinity_config__descriptor);
        K8s__Io__Api__Core__V1__ClientIPConfig *ip =
            ENSURE(c->clientip, k8s__io__api__core__v1__client_ipconfig__descriptor);
        OPT_DEFAULT(ip, timeoutseconds, 10800);
    }
    str_default(&s->type, "ClusterIP");
    for (size_t i = 0; i < s->n_ports; i++) {
        K8s__Io__Api__Core__V1__ServicePort *p = s->ports[i];
        if (p == NULL)
            continue;
        str_default(&p->protocol, "TCP");
        if (intstr_is_zero(p->targetport)) {
            if (p->targetport != NULL)
                protobuf_c_message_free_unpacked(&p->targetport->base, NULL);
            p->targetport = intstr_new_int(p->has_port ? p->port : 0);
        }
    }
    if (service_externally_accessible(s))
        str_default(&s->externaltrafficpolicy, "Cluster");
    if (str_eq(s->type, "NodePort") || str_eq(s->type, "LoadBalancer") ||
        str_eq(s->type, "ClusterIP"))
        strp_default(&s->internaltrafficpolicy, "Cluster");
    if (str_eq(s->type, "LoadBalancer")) {
        OPT_DEFAULT(s, allocateloadbalancernodeports, 1);
        if (svc->status != NULL && svc->status->loadbalancer != NULL) {
            K8s__Io__Api__Core__V1__LoadBalancerStatus *lb = svc->status->loadbalancer;
            for (size_t i = 0; i < lb->n_ingress; i++)
                if (lb->ingress[i] != NULL && !str_empty(lb->ingress[i]->ip))
                    strp_default(&lb->ingress[i]->ipmode, "VIP");
        }
    }
    /* The service registry's IP family defaults on a single-stack IPv4 cluster. */
    if (!str_eq(s->type, "ExternalName")) {
        bool headless_no_selector = str_eq(s->clusterip, "None") && s->n_selector == 0;
        strp_default(&s->ipfamilypolicy, headless_no_selector ? "RequireDualStack" : "SingleStack");
        if (s->n_ipfamilies == 0)
            APPEND(s->ipfamilies, s->n_ipfamilies, k8c_strdup("IPv4"));
    }
}

static void namespace_defaults(namespace_t *ns)
{
    meta_t *m = ns->metadata;

    if (m != NULL && !str_empty(m->name)) {
        label_entry_t *e = NULL;
        for (size_t i = 0; i < m->n_labels && e == NULL; i++)
            if (str_eq(m->labels[i]->key, "kubernetes.io/metadata.name"))
                e = m->labels[i];
        if (e == NULL) {
            e = msg_new(
                &k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__labels_entry__descriptor);
            e->key = k8c_strdup("kubernetes.io/metadata.name");
            APPEND(m->labels, m->n_labels, e);
        }
        if (!str_eq(e->value, m->name))
            str_set(&e->value, m->name);
    }
    str_default(&ENSURE(ns->status, k8s__io__api__core__v1__namespace_status__descriptor)->phase,
                "Active");
}

static void namespace_create_defaults(namespace_t *ns)
{
    K8s__Io__Api__Core__V1__NamespaceSpec *s =
        ENSURE(ns->spec, k8s__io__api__core__v1__namespace_spec__descriptor);
    bool has = false;

    for (size_t i = 0; i < s->n_finalizers && !has; i++)
        has = str_eq(s->finalizers[i], "kubernetes");
    if (!has)
        APPEND(s->finalizers, s->n_finalizers, k8c_strdup("kubernetes"));
    str_set(&ENSURE(ns->status, k8s__io__api__core__v1__namespace_status__descriptor)->phase,
            "Active");
}

static void pvc_defaults(pvc_t *pvc)
{
    str_default(
        &ENSURE(pvc->status, k8s__io__api__core__v1__persistent_volume_claim_status__descriptor)
             ->phase,
        "Pending");
    pvc_spec_defaults(
        ENSURE(pvc->spec, k8s__io__api__core__v1__persistent_volume_claim_spec__descriptor));
    ROUND_LIST(pvc->status, capacity);
    ROUND_LIST(pvc->status, allocatedresources);
}

static void pv_defaults(pv_t *pv)
{
    K8s__Io__Api__Core__V1__PersistentVolumeSpec *s =
        ENSURE(pv->spec, k8s__io__api__core__v1__persistent_volume_spec__descriptor);

    str_default(
        &ENSURE(pv->status, k8s__io__api__core__v1__persistent_volume_status__descriptor)->phase,
        "Pending");
    str_default(&s->persistentvolumereclaimpolicy, "Retain");
    strp_default(&s->volumemode, "Filesystem");
    ROUND_LIST(s, capacity);
    if (s->persistentvolumesource != NULL) {
        K8s__Io__Api__Core__V1__PersistentVolumeSource *src = s->persistentvolumesource;
        if (src->hostpath != NULL)
            strp_default(&src->hostpath->type, "");
        if (src->iscsi != NULL)
            str_default(&src->iscsi->iscsiinterface, "default");
        if (src->rbd != NULL) {
            str_default(&src->rbd->pool, "rbd");
            str_default(&src->rbd->user, "admin");
            str_default(&src->rbd->keyring, "/etc/ceph/keyring");
        }
        if (src->azuredisk != NULL) {
            strp_default(&src->azuredisk->cachingmode, "ReadWrite");
            strp_default(&src->azuredisk->fstype, "ext4");
            OPT_DEFAULT(src->azuredisk, readonly, 0);
            strp_default(&src->azuredisk->kind, "Shared");
        }
        if (src->scaleio != NULL) {
            str_default(&src->scaleio->storagemode, "ThinProvisioned");
            str_default(&src->scaleio->fstype, "xfs");
        }
    }
}

static void endpoints_defaults(endpoints_t *ep)
{
    for (size_t i = 0; i < ep->n_subsets; i++) {
        if (ep->subsets[i] == NULL)
            continue;
        for (size_t j = 0; j < ep->subsets[i]->n_ports; j++)
            if (ep->subsets[i]->ports[j] != NULL)
                str_default(&ep->subsets[i]->ports[j]->protocol, "TCP");
    }
}

/* SetDefaults_NodeStatus: allocatable = capacity when unset. */
static void node_defaults(node_t *node)
{
    K8s__Io__Api__Core__V1__NodeStatus *st = node->status;

    if (st == NULL)
        return;
    if (st->n_allocatable == 0 && st->n_capacity > 0) {
        for (size_t i = 0; i < st->n_capacity; i++) {
            const struct api_quantity_entry *c = (const struct api_quantity_entry *)st->capacity[i];
            struct api_quantity_entry *e =
                msg_new(&k8s__io__api__core__v1__node_status__allocatable_entry__descriptor);
            e->key = k8c_strdup(c->key != NULL ? c->key : "");
            e->value = msg_new(&k8s__io__apimachinery__pkg__api__resource__quantity__descriptor);
            if (c->value != NULL && c->value->string != NULL)
                e->value->string = k8c_strdup(c->value->string);
            APPEND(st->allocatable, st->n_allocatable,
                   (K8s__Io__Api__Core__V1__NodeStatus__AllocatableEntry *)e);
        }
    }
    ROUND_LIST(st, capacity);
    ROUND_LIST(st, allocatable);
}

/* A key and where it came from, for api_quantity_map_fill's sorted lookups. */
struct keyed {
    const char *key;
    size_t at;
};

static int keyed_cmp(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : (x->at > y->at) - (x->at < y->at);
}

static const char *entry_key(const void *e)
{
    const char *k = ((const struct api_quantity_entry *)e)->key;
    return k != NULL ? k : "";
}

void api_quantity_map_fill(void ***dst, size_t *n_dst, void *const *src, size_t n,
                           const ProtobufCMessageDescriptor *desc, const char **added,
                           size_t *n_added, size_t max)
{
    /* dst's keys and src's, each sorted: src's first entry of each key that dst lacks is
     * copied, in src's order (lists of any size stay n log n) */
    size_t n0 = *n_dst;
    struct keyed *have = k8c_malloc((n0 + 1) * sizeof(*have));
    struct keyed *want = k8c_malloc((n + 1) * sizeof(*want));
    bool *copy = k8c_calloc(n + 1, sizeof(*copy));
    for (size_t j = 0; j < n0; j++)
        have[j] = (struct keyed){entry_key((*dst)[j]), j};
    for (size_t i = 0; i < n; i++)
        want[i] = (struct keyed){entry_key(src[i]), i};
    qsort(have, n0, sizeof(*have), keyed_cmp);
    qsort(want, n, sizeof(*want), keyed_cmp);
    for (size_t i = 0, j = 0; i < n; i++) {
        if (i > 0 && strcmp(want[i].key, want[i - 1].key) == 0)
            continue;
        while (j < n0 && strcmp(have[j].key, want[i].key) < 0)
            j++;
        copy[want[i].at] = j == n0 || strcmp(have[j].key, want[i].key) != 0;
    }
    if (n_added != NULL)
        *n_added = 0;
    for (size_t i = 0; i < n; i++) {
        const struct api_quantity_entry *s = src[i];
        if (!copy[i])
            continue;
        struct api_quantity_entry *e = msg_new(desc);
        e->key = k8c_strdup(entry_key(s));
        e->value = msg_new(&k8s__io__apimachinery__pkg__api__resource__quantity__descriptor);
        if (s->value != NULL && s->value->string != NULL)
            e->value->string = k8c_strdup(s->value->string);
        APPEND(*dst, *n_dst, (void *)e);
        if (added != NULL && *n_added < max)
            added[(*n_added)++] = e->key;
    }
    k8c_free(have);
    k8c_free(want);
    k8c_free(copy);
}

static void limit_range_defaults(limit_range_t *lr)
{
    if (lr->spec == NULL)
        return;
    for (size_t i = 0; i < lr->spec->n_limits; i++) {
        K8s__Io__Api__Core__V1__LimitRangeItem *it = lr->spec->limits[i];
        if (it == NULL)
            continue;
        ROUND_LIST(it, max);
        ROUND_LIST(it, min);
        ROUND_LIST(it, default_);
        ROUND_LIST(it, defaultrequest);
        ROUND_LIST(it, maxlimitrequestratio);
        if (!str_eq(it->type, "Container"))
            continue;
        api_quantity_map_fill(
            (void ***)&it->default_, &it->n_default_, (void *const *)it->max, it->n_max,
            &k8s__io__api__core__v1__limit_range_item__default_entry__descriptor, NULL, NULL, 0);
        api_quantity_map_fill(
            (void ***)&it->defaultrequest, &it->n_defaultrequest, (void *const *)it->default_,
            it->n_default_,
            &k8s__io__api__core__v1__limit_range_item__default_request_entry__descriptor, NULL,
            NULL, 0);
        api_quantity_map_fill(
            (void ***)&it->defaultrequest, &it->n_defaultrequest, (void *const *)it->min, it->n_min,
            &k8s__io__api__core__v1__limit_range_item__default_request_entry__descriptor, NULL,
            NULL, 0);
    }
}

/* ---- apps ---------------------------------------------------------------------------------- */

static void deployment_defaults(deployment_t *d)
{
    K8s__Io__Api__Apps__V1__DeploymentSpec *s =
        ENSURE(d->spec, k8s__io__api__apps__v1__deployment_spec__descriptor);
    K8s__Io__Api__Apps__V1__DeploymentStrategy *st =
        ENSURE(s->strategy, k8s__io__api__apps__v1__deployment_strategy__descriptor);

    OPT_DEFAULT(s, replicas, 1);
    str_default(&st->type, "RollingUpdate");
    if (str_eq(st->type, "RollingUpdate")) {
        K8s__Io__Api__Apps__V1__RollingUpdateDeployment *ru = ENSURE(
            st->rollingupdate, k8s__io__api__apps__v1__rolling_update_deployment__descriptor);
        if (ru->maxunavailable == NULL)
            ru->maxunavailable = intstr_new_str("25%");
        if (ru->maxsurge == NULL)
            ru->maxsurge = intstr_new_str("25%");
    }
    OPT_DEFAULT(s, revisionhistorylimit, 10);
    OPT_DEFAULT(s, progressdeadlineseconds, 600);
    template_defaults(&s->template_);
}

static void replica_set_defaults(replica_set_t *rs)
{
    K8s__Io__Api__Apps__V1__ReplicaSetSpec *s =
        ENSURE(rs->spec, k8s__io__api__apps__v1__replica_set_spec__descriptor);

    OPT_DEFAULT(s, replicas, 1);
    template_defaults(&s->template_);
}

static void daemon_set_defaults(daemon_set_t *ds)
{
    K8s__Io__Api__Apps__V1__DaemonSetSpec *s =
        ENSURE(ds->spec, k8s__io__api__apps__v1__daemon_set_spec__descriptor);
    K8s__Io__Api__Apps__V1__DaemonSetUpdateStrategy *st =
        ENSURE(s->updatestrategy, k8s__io__api__apps__v1__daemon_set_update_strategy__descriptor);

    str_default(&st->type, "RollingUpdate");
    if (str_eq(st->type, "RollingUpdate")) {
        K8s__Io__Api__Apps__V1__RollingUpdateDaemonSet *ru = ENSURE(
            st->rollingupdate, k8s__io__api__apps__v1__rolling_update_daemon_set__descriptor);
        if (ru->maxunavailable == NULL)
            ru->maxunavailable = intstr_new_int(1);
        if (ru->maxsurge == NULL)
            ru->maxsurge = intstr_new_int(0);
    }
    OPT_DEFAULT(s, revisionhistorylimit, 10);
    template_defaults(&s->template_);
}

static void pvc_template_defaults(pvc_t *pvc)
{
    if (pvc != NULL)
        pvc_defaults(pvc);
}

static void stateful_set_defaults(stateful_set_t *ss)
{
    K8s__Io__Api__Apps__V1__StatefulSetSpec *s =
        ENSURE(ss->spec, k8s__io__api__apps__v1__stateful_set_spec__descriptor);
    K8s__Io__Api__Apps__V1__StatefulSetUpdateStrategy *st =
        ENSURE(s->updatestrategy, k8s__io__api__apps__v1__stateful_set_update_strategy__descriptor);
    K8s__Io__Api__Apps__V1__StatefulSetPersistentVolumeClaimRetentionPolicy *rp;

    str_default(&s->podmanagementpolicy, "OrderedReady");
    if (str_empty(st->type)) {
        str_set(&st->type, "RollingUpdate");
        ENSURE(st->rollingupdate,
               k8s__io__api__apps__v1__rolling_update_stateful_set_strategy__descriptor);
    }
    if (str_eq(st->type, "RollingUpdate") && st->rollingupdate != NULL)
        OPT_DEFAULT(st->rollingupdate, partition, 0);
    rp = ENSURE(
        s->persistentvolumeclaimretentionpolicy,
        k8s__io__api__apps__v1__stateful_set_persistent_volume_claim_retention_policy__descriptor);
    str_default(&rp->whendeleted, "Retain");
    str_default(&rp->whenscaled, "Retain");
    OPT_DEFAULT(s, replicas, 1);
    OPT_DEFAULT(s, revisionhistorylimit, 10);
    template_defaults(&s->template_);
    for (size_t i = 0; i < s->n_volumeclaimtemplates; i++)
        pvc_template_defaults(s->volumeclaimtemplates[i]);
}

/* ---- batch --------------------------------------------------------------------------------- */

static void job_spec_defaults(job_spec_t *s, meta_t **meta)
{
    if (!s->has_completions && !s->has_parallelism) {
        OPT_DEFAULT(s, completions, 1);
        OPT_DEFAULT(s, parallelism, 1);
    }
    OPT_DEFAULT(s, parallelism, 1);
    OPT_DEFAULT(s, backofflimit, s->has_backofflimitperindex ? INT32_MAX : 6);
    if (meta != NULL && s->template_ != NULL && s->template_->metadata != NULL &&
        s->template_->metadata->n_labels > 0) {
        meta_t *m =
            ENSURE(*meta, k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__descriptor);
        if (m->n_labels == 0)
            str_map_copy(
                (void ***)&m->labels, &m->n_labels, (void *const *)s->template_->metadata->labels,
                s->template_->metadata->n_labels,
                &k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__labels_entry__descriptor);
    }
    strp_default(&s->completionmode, "NonIndexed");
    OPT_DEFAULT(s, suspend, 0);
    if (s->podfailurepolicy != NULL) {
        for (size_t i = 0; i < s->podfailurepolicy->n_rules; i++) {
            K8s__Io__Api__Batch__V1__PodFailurePolicyRule *rule = s->podfailurepolicy->rules[i];
            if (rule == NULL)
                continue;
            for (size_t j = 0; j < rule->n_onpodconditions; j++)
                if (rule->onpodconditions[j] != NULL)
                    str_default(&rule->onpodconditions[j]->status, "True");
        }
    }
    strp_default(&s->podreplacementpolicy,
                 s->podfailurepolicy != NULL ? "Failed" : "TerminatingOrFailed");
}

static void job_defaults(job_t *job)
{
    job_spec_t *s = ENSURE(job->spec, k8s__io__api__batch__v1__job_spec__descriptor);

    job_spec_defaults(s, &job->metadata);
    template_defaults(&s->template_);
}

static void cron_job_defaults(cron_job_t *cj)
{
    K8s__Io__Api__Batch__V1__CronJobSpec *s =
        ENSURE(cj->spec, k8s__io__api__batch__v1__cron_job_spec__descriptor);
    K8s__Io__Api__Batch__V1__JobTemplateSpec *jt =
        ENSURE(s->jobtemplate, k8s__io__api__batch__v1__job_template_spec__descriptor);

    str_default(&s->concurrencypolicy, "Allow");
    OPT_DEFAULT(s, suspend, 0);
    OPT_DEFAULT(s, successfuljobshistorylimit, 3);
    OPT_DEFAULT(s, failedjobshistorylimit, 1);
    /* the job template gets only the PodSpec defaults, not SetDefaults_Job */
    template_defaults(&ENSURE(jt->spec, k8s__io__api__batch__v1__job_spec__descriptor)->template_);
}

/* ---- autoscaling --------------------------------------------------------------------------- */

static hpa_policy_t *hpa_policy_new(const char *type, int32_t value, int32_t period)
{
    hpa_policy_t *p = msg_new(&k8s__io__api__autoscaling__v2__hpascaling_policy__descriptor);
    p->type = k8c_strdup(type);
    p->has_value = 1;
    p->value = value;
    p->has_periodseconds = 1;
    p->periodseconds = period;
    return p;
}

/* GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: fill what the user left nil. */
static void hpa_rules_defaults(hpa_rules_t **rules, bool up)
{
    hpa_rules_t *r = ENSURE(*rules, k8s__io__api__autoscaling__v2__hpascaling_rules__descriptor);

    if (up)
        OPT_DEFAULT(r, stabilizationwindowseconds, 0);
    strp_default(&r->selectpolicy, "Max");
    if (r->n_policies == 0) {
        if (up) {
            APPEND(r->policies, r->n_policies, hpa_policy_new("Pods", 4, 15));
            APPEND(r->policies, r->n_policies, hpa_policy_new("Percent", 100, 15));
        } else {
            APPEND(r->policies, r->n_policies, hpa_policy_new("Percent", 100, 15));
        }
    }
}

static void hpa_v2_defaults(hpa_v2_t *hpa)
{
    K8s__Io__Api__Autoscaling__V2__HorizontalPodAutoscalerSpec *s = ENSURE(
        hpa->spec, k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler_spec__descriptor);

    OPT_DEFAULT(s, minreplicas, 1);
    if (s->n_metrics == 0) {
        K8s__Io__Api__Autoscaling__V2__MetricSpec *m =
            msg_new(&k8s__io__api__autoscaling__v2__metric_spec__descriptor);
        K8s__Io__Api__Autoscaling__V2__ResourceMetricSource *rs =
            msg_new(&k8s__io__api__autoscaling__v2__resource_metric_source__descriptor);
        K8s__Io__Api__Autoscaling__V2__MetricTarget *t =
            msg_new(&k8s__io__api__autoscaling__v2__metric_target__descriptor);
        m->type = k8c_strdup("Resource");
        rs->name = k8c_strdup("cpu");
        t->type = k8c_strdup("Utilization");
        t->has_averageutilization = 1;
        t->averageutilization = 80;
        rs->target = t;
        m->resource = rs;
        APPEND(s->metrics, s->n_metrics, m);
    }
    if (s->behavior != NULL) {
        hpa_rules_defaults(&s->behavior->scaleup, true);
        hpa_rules_defaults(&s->behavior->scaledown, false);
    }
}

static void hpa_v1_defaults(hpa_v1_t *hpa)
{
    OPT_DEFAULT(ENSURE(hpa->spec,
                       k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler_spec__descriptor),
                minreplicas, 1);
}

/* ---- networking, rbac, discovery, storage, scheduling --------------------------------------- */

static void network_policy_ports(network_policy_port_t **ports, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ports[i] != NULL)
            strp_default(&ports[i]->protocol, "TCP");
}

static void network_policy_defaults(network_policy_t *np)
{
    K8s__Io__Api__Networking__V1__NetworkPolicySpec *s =
        ENSURE(np->spec, k8s__io__api__networking__v1__network_policy_spec__descriptor);

    for (size_t i = 0; i < s->n_ingress; i++)
        if (s->ingress[i] != NULL)
            network_policy_ports(s->ingress[i]->ports, s->ingress[i]->n_ports);
    for (size_t i = 0; i < s->n_egress; i++)
        if (s->egress[i] != NULL)
            network_policy_ports(s->egress[i]->ports, s->egress[i]->n_ports);
    if (s->n_policytypes == 0) {
        APPEND(s->policytypes, s->n_policytypes, k8c_strdup("Ingress"));
        if (s->n_egress > 0)
            APPEND(s->policytypes, s->n_policytypes, k8c_strdup("Egress"));
    }
}

static void ingress_class_defaults(ingress_class_t *ic)
{
    if (ic->spec != NULL && ic->spec->parameters != NULL)
        strp_default(&ic->spec->parameters->scope, "Cluster");
}

static void role_binding_parts(role_ref_t **ref, subject_t **subjects, size_t n)
{
    str_default(&ENSURE(*ref, k8s__io__api__rbac__v1__role_ref__descriptor)->apigroup,
                "rbac.authorization.k8s.io");
    for (size_t i = 0; i < n; i++) {
        subject_t *sub = subjects[i];
        if (sub == NULL || !str_empty(sub->apigroup))
            continue;
        if (str_eq(sub->kind, "User") || str_eq(sub->kind, "Group"))
            str_set(&sub->apigroup, "rbac.authorization.k8s.io");
    }
}

static void endpoint_slice_defaults(endpoint_slice_t *es)
{
    for (size_t i = 0; i < es->n_ports; i++) {
        if (es->ports[i] == NULL)
            continue;
        strp_default(&es->ports[i]->name, "");
        strp_default(&es->ports[i]->protocol, "TCP");
    }
}

static void storage_class_defaults(storage_class_t *sc)
{
    strp_default(&sc->reclaimpolicy, "Delete");
    strp_default(&sc->volumebindingmode, "Immediate");
}

static void priority_class_defaults(priority_class_t *pc)
{
    strp_default(&pc->preemptionpolicy, "PreemptLowerPriority");
}

/* ---- dispatch ------------------------------------------------------------------------------ */

void api_defaults_apply(const struct api_resource *r, ProtobufCMessage *obj)
{
    const ProtobufCMessageDescriptor *d;

    if (obj == NULL)
        return;
    d = obj->descriptor;
    if (r != NULL && r->desc != NULL && r->desc != d)
        return; /* not the type the resource serves: nothing sensible to default */

    if (d == &k8s__io__api__core__v1__pod__descriptor)
        pod_defaults((pod_t *)obj);
    else if (d == &k8s__io__api__core__v1__pod_template__descriptor)
        template_defaults(&((pod_template_t *)obj)->template_);
    else if (d == &k8s__io__api__core__v1__replication_controller__descriptor)
        replication_controller_defaults((rc_t *)obj);
    else if (d == &k8s__io__api__core__v1__service__descriptor)
        service_defaults((service_t *)obj);
    else if (d == &k8s__io__api__core__v1__namespace__descriptor)
        namespace_defaults((namespace_t *)obj);
    else if (d == &k8s__io__api__core__v1__secret__descriptor)
        str_default(&((secret_t *)obj)->type, "Opaque");
    else if (d == &k8s__io__api__core__v1__persistent_volume_claim__descriptor)
        pvc_defaults((pvc_t *)obj);
    else if (d == &k8s__io__api__core__v1__persistent_volume__descriptor)
        pv_defaults((pv_t *)obj);
    else if (d == &k8s__io__api__core__v1__endpoints__descriptor)
        endpoints_defaults((endpoints_t *)obj);
    else if (d == &k8s__io__api__core__v1__node__descriptor)
        node_defaults((node_t *)obj);
    else if (d == &k8s__io__api__core__v1__limit_range__descriptor)
        limit_range_defaults((limit_range_t *)obj);
    else if (d == &k8s__io__api__apps__v1__deployment__descriptor)
        deployment_defaults((deployment_t *)obj);
    else if (d == &k8s__io__api__apps__v1__replica_set__descriptor)
        replica_set_defaults((replica_set_t *)obj);
    else if (d == &k8s__io__api__apps__v1__stateful_set__descriptor)
        stateful_set_defaults((stateful_set_t *)obj);
    else if (d == &k8s__io__api__apps__v1__daemon_set__descriptor)
        daemon_set_defaults((daemon_set_t *)obj);
    else if (d == &k8s__io__api__batch__v1__job__descriptor)
        job_defaults((job_t *)obj);
    else if (d == &k8s__io__api__batch__v1__cron_job__descriptor)
        cron_job_defaults((cron_job_t *)obj);
    else if (d == &k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler__descriptor)
        hpa_v2_defaults((hpa_v2_t *)obj);
    else if (d == &k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler__descriptor)
        hpa_v1_defaults((hpa_v1_t *)obj);
    else if (d == &k8s__io__api__networking__v1__network_policy__descriptor)
        network_policy_defaults((network_policy_t *)obj);
    else if (d == &k8s__io__api__networking__v1__ingress_class__descriptor)
        ingress_class_defaults((ingress_class_t *)obj);
    else if (d == &k8s__io__api__rbac__v1__role_binding__descriptor) {
        K8s__Io__Api__Rbac__V1__RoleBinding *rb = (void *)obj;
        role_binding_parts(&rb->roleref, rb->subjects, rb->n_subjects);
    } else if (d == &k8s__io__api__rbac__v1__cluster_role_binding__descriptor) {
        K8s__Io__Api__Rbac__V1__ClusterRoleBinding *rb = (void *)obj;
        role_binding_parts(&rb->roleref, rb->subjects, rb->n_subjects);
    } else if (d == &k8s__io__api__discovery__v1__endpoint_slice__descriptor)
        endpoint_slice_defaults((endpoint_slice_t *)obj);
    else if (d == &k8s__io__api__storage__v1__storage_class__descriptor)
        storage_class_defaults((storage_class_t *)obj);
    else if (d == &k8s__io__api__scheduling__v1__priority_class__descriptor)
        priority_class_defaults((priority_class_t *)obj);
}

void api_defaults_apply_create(const struct api_resource *r, ProtobufCMessage *obj)
{
    api_defaults_apply(r, obj);
    if (obj != NULL && obj->descriptor == &k8s__io__api__core__v1__namespace__descriptor &&
        (r == NULL || r->desc == NULL || r->desc == obj->descriptor))
        namespace_create_defaults((namespace_t *)obj);
}
