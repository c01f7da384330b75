/*
 * Defaulting of API objects, as upstream's SetObjectDefaults_* (k8s.io/kubernetes pkg/apis/
 * {core,apps,batch,autoscaling,networking,rbac,discovery,storage,scheduling}/v1*, release 1.32)
 * run when the API server decodes a request body: a pure module that fills unset fields of a
 * protobuf-c message of the schema (proto/k8s) in place. No I/O, no clock, no randomness.
 *
 * What is defaulted, by kind (feature gates as 1.32 ships them):
 *   every PodSpec (Pod, PodTemplate, ReplicationController, Deployment, ReplicaSet,
 *     StatefulSet, DaemonSet, Job, CronJob jobTemplate): restartPolicy Always, dnsPolicy
 *     ClusterFirst, schedulerName default-scheduler, terminationGracePeriodSeconds 30,
 *     securityContext {}; containers (init, ephemeral too): imagePullPolicy (Always for
 *     ":latest" or no tag, else IfNotPresent), terminationMessagePath /dev/termination-log,
 *     terminationMessagePolicy File, ports protocol TCP, probes (timeoutSeconds 1,
 *     periodSeconds 10, successThreshold 1, failureThreshold 3, httpGet path "/" scheme HTTP,
 *     grpc service ""), lifecycle httpGet, env fieldRef apiVersion v1; volumes (emptyDir {}
 *     when no source, defaultMode 420 for secret/configMap/downwardAPI/projected, hostPath
 *     type "", token expirationSeconds 3600, iscsi/rbd/azureDisk/scaleIO fields, ephemeral
 *     claim volumeMode Filesystem); resource quantities rounded up to milli-units.
 *   Pod only: requests copied from limits where unset, enableServiceLinks true, hostPort =
 *     containerPort with hostNetwork.
 *   Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController,
 *   Service, Namespace, Secret, PersistentVolume(Claim), Endpoints, EndpointSlice, Node,
 *   LimitRange, HorizontalPodAutoscaler (v1, v2), NetworkPolicy, IngressClass, RoleBinding,
 *   ClusterRoleBinding, StorageClass, PriorityClass: upstream's SetDefaults_<Kind>.
 *   Service also gets what the service registry fills on a single-stack IPv4 cluster:
 *     ipFamilyPolicy SingleStack (RequireDualStack for a headless service without selector)
 *     and ipFamilies [IPv4], except for type ExternalName.
 *
 * Kinds without defaults are left alone. Labels, annotations and other metadata are never
 * touched, except the Namespace label kubernetes.io/metadata.name (= its name), as upstream.
 *
 * Memory: obj must use the default protobuf-c allocator (decoded with alloc NULL, freed with
 * protobuf_c_message_free_unpacked(obj, NULL)). New sub-messages, arrays and strings are
 * allocated with k8c_malloc/k8c_strdup (plain malloc), replaced strings are freed with
 * k8c_free, so the whole object is still released by that one call.
 */
#ifndef K8C_API_DEFAULTS_H
#define K8C_API_DEFAULTS_H

#include <protobuf-c/protobuf-c.h>

#include "k8s/apimachinery/pkg/api/resource/generated.pb-c.h"

#include "resources.h"

/*
 * Applies upstream's defaults to obj in place. The kind is taken from obj's descriptor; r
 * (may be NULL) is only checked to describe the same type. Safe to call more than once (a
 * defaulted object is a fixed point) and on any message, including ones with missing
 * sub-messages. Never fails.
 */
void api_defaults_apply(const struct api_resource *r, ProtobufCMessage *obj);

/*
 * api_defaults_apply plus what upstream's registry strategies set on create only, because a
 * later update may legitimately remove it: a Namespace gets the finalizer "kubernetes" in
 * spec.finalizers and status.phase Active.
 */
void api_defaults_apply_create(const struct api_resource *r, ProtobufCMessage *obj);

/*
 * The pull policy upstream defaults for an image reference: "Always" when the tag is
 * "latest" or there is neither tag nor digest, "IfNotPresent" otherwise (also for a reference
 * that does not parse, such as ""). Static storage.
 */
const char *api_defaults_image_pull_policy(const char *image);

/* Every map<string, Quantity> entry of the API (a ResourceList's) has this layout. */
struct api_quantity_entry {
    ProtobufCMessage base;
    char *key;
    K8s__Io__Apimachinery__Pkg__Api__Resource__Quantity *value;
};

/*
 * Adds to the ResourceList *dst (entries of type desc) a copy of each of src's n entries
 * whose key it lacks (upstream's fill of default resources). The keys it added go to
 * added[] (at most max; they live in the new entries), their count to *n_added; added may be
 * NULL.
 */
void api_quantity_map_fill(void ***dst, size_t *n_dst, void *const *src, size_t n,
                           const ProtobufCMessageDescriptor *desc, const char **added,
                           size_t *n_added, size_t max);

#endif
