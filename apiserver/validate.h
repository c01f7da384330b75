/*
 * Validation of API objects, as upstream's ValidateXxx / ValidateXxxUpdate (k8s.io/kubernetes
 * pkg/apis/{core,apps,batch}/validation and k8s.io/apimachinery api/validation, release 1.32)
 * run after defaulting on create and update: a pure module over protobuf-c messages of the
 * schema (proto/k8s) that collects field errors with upstream's paths and wording.
 *
 * Each error carries what a metav1.StatusCause carries: the reason ("FieldValueRequired",
 * "FieldValueInvalid", ...), the field path ("spec.template.spec.containers[0].image") and the
 * message body ("Required value", "Invalid value: \"Foo\": a lowercase RFC 1123 label must
 * ..."). api_validate_format_message builds the 422 Status message from them:
 *
 *   Deployment.apps "web" is invalid: [spec.selector: Required value, spec.template.metadata
 *   .labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template
 *   `labels`]
 *
 * Covered: metadata of every kind (name rules per kind: DNS-1123 subdomain by default, DNS-1035
 * label for Services, DNS-1123 label for Namespaces, path segment names for RBAC and
 * PersistentVolume(Claim)s; generateName, namespace required/forbidden by scope, generation,
 * labels, annotations (256 KiB total), finalizers, ownerReferences) and metadata updates (name,
 * namespace, uid, creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds immutable;
 * resourceVersion required; generation not decremented; no new finalizers while deleting);
 * PodSpec wherever it appears (volumes: names, one source, configMap/secret/hostPath/PVC
 * required fields; containers and init containers: names, images, ports, host port conflicts,
 * env names and valueFrom, volumeMounts, imagePullPolicy, terminationMessagePolicy, resources
 * (names, negative values, requests vs limits), probes, lifecycle handlers, restartPolicy;
 * restartPolicy, dnsPolicy, nodeSelector, serviceAccountName, nodeName, hostname, subdomain,
 * activeDeadlineSeconds, tolerations, priorityClassName); Pod (create, and updates limited to
 * the mutable fields), PodTemplate, ReplicationController, Deployment (strategy, rollingUpdate),
 * ReplicaSet, StatefulSet (its volumeClaimTemplates count as volumes for mounts; updates limited
 * to upstream's fields), DaemonSet, Job (spec, selector vs template labels, restartPolicy; the
 * selector must already be generated), CronJob (schedule field count, concurrencyPolicy, job
 * template), Service (ports, names, protocols, types, ExternalName, duplicate ports and node
 * ports, clusterIPs immutable), ConfigMap and Secret (keys, 1 MiB, typed secrets' keys,
 * immutable data and type), Namespace (spec.finalizers) and PersistentVolumeClaim create
 * (accessModes, storage request); selectors immutable on Deployment/ReplicaSet/DaemonSet/Job
 * update, Job template immutable. Other kinds get the metadata checks only.
 *
 * Known differences: the pod-update Forbidden message stops before upstream's cmp.Diff; a Job
 * template change prints its value as core.PodTemplateSpec{...}; affinity, security contexts,
 * topology spread, DNS config, IP families and cron field ranges are not checked.
 *
 * Values in messages are printed as Go's fmt does for the upstream field (%q for strings, %#v
 * for maps and structs: map[string]string{"a":"1"}, v1.LabelSelector{...}). Map keys are
 * visited in sorted order, so the order of errors is deterministic (upstream's is not).
 *
 * Memory: api_field_errors owns its strings; objects are only read.
 */
#ifndef K8C_API_VALIDATE_H
#define K8C_API_VALIDATE_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "buf.h"
#include "resources.h"

struct api_field_error {
    char *type;    /* StatusCause reason: "FieldValueRequired", "FieldValueInvalid",
                      "FieldValueNotSupported", "FieldValueDuplicate", "FieldValueForbidden",
                      "FieldValueTooLong", "FieldValueNotFound" */
    char *field;   /* "spec.template.spec.containers[0].image"; "" for the whole object */
    char *message; /* upstream ErrorBody: "Required value", "Invalid value: 5: must be ..." */
};

struct api_field_errors {
    struct api_field_error *items;
    size_t n, cap;
};

void api_field_errors_init(struct api_field_errors *errs);
/* Appends one error (strings copied). */
void api_field_errors_add(struct api_field_errors *errs, const char *type, const char *field,
                          const char *message);
/* Frees every error; errs is left empty and initialised. */
void api_field_errors_free(struct api_field_errors *errs);

/*
 * Validates obj (a create when old is NULL, else an update from old; both of the type of r,
 * already defaulted). Appends the errors found to errs (initialised by the caller) and returns
 * 0 when there are none, K8C_EINVAL otherwise. r may be NULL: the kind then comes from obj's
 * descriptor through the resource table (and defaults to namespaced when unknown). A version
 * stored as another (r->stored_as) is validated as the object it is stored as.
 */
int api_validate(const struct api_resource *r, const ProtobufCMessage *obj,
                 const ProtobufCMessage *old, struct api_field_errors *errs);

/*
 * The pods/ephemeralcontainers subresource: obj is the pod as it would be stored (the stored
 * pod old with the request's spec.ephemeralContainers, defaulted). Validates it as upstream's
 * ValidatePodEphemeralContainersUpdate: the pod, its ephemeral containers, and that every
 * ephemeral container of old is still there unchanged. Returns 0 or K8C_EINVAL (errors in errs).
 */
int api_validate_pod_ephemeral_update(const ProtobufCMessage *obj, const ProtobufCMessage *old,
                                      struct api_field_errors *errs);

/*
 * A status subresource update: obj is the stored object old with the request's status. As
 * upstream's Validate<Kind>StatusUpdate: the metadata update, the counters of workload
 * statuses (not negative, not above status.replicas, collisionCount not decremented),
 * a pod's nominated node name and IPs, a namespace's phase against its deletion. Returns 0 or
 * K8C_EINVAL (errors in errs).
 */
int api_validate_status_update(const struct api_resource *r, const ProtobufCMessage *obj,
                               const ProtobufCMessage *old, struct api_field_errors *errs);

/* Validation stops adding field errors past this many (the object is refused either way). */
#define API_VALIDATE_MAX_ERRORS 10000

/* Whether containers may be privileged (kube-apiserver's --allow-privileged; false unless
 * set). */
void api_validate_set_allow_privileged(bool allow);

/* "<field>: <message>" (upstream field.Error.Error()); caller frees with k8c_free. */
char *api_validate_error_string(const struct api_field_error *e);

/*
 * Appends upstream's 422 message: `<Kind>[.<group>] "<name>" is invalid: <errors>`, where
 * <errors> is the one error, or "[e1, e2, ...]" for several (duplicates dropped, as
 * utilerrors.Aggregate does); `... is invalid` alone when errs is empty. kind and group name
 * the resource ("Deployment", "apps"; "" group for core).
 */
void api_validate_format_message(const char *kind, const char *group, const char *name,
                                 const struct api_field_errors *errs, struct k8c_sbuf *out);

#endif
