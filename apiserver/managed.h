/*
 * Server-side apply field ownership (metadata.managedFields), as upstream's
 * k8s.io/apimachinery/pkg/util/managedfields over sigs.k8s.io/structured-merge-diff, computed
 * on JSON trees (lib/json.h). Pure: no I/O, no clock (the caller passes the time).
 *
 * A field set is a tree of path elements, written in managedFields as "FieldsV1":
 *
 *   {"f:spec":{"f:replicas":{},
 *              "f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},
 *                                                                            "f:image":{}}}}}}}
 *
 * "f:name" is an object field, "k:{...}" the item of a list keyed by its merge keys (sorted by
 * key name), "v:value" the item of a list used as a set (metadata.finalizers), "." the node
 * itself when it also has children. Lists the strategic-merge schema does not merge
 * (apiserver/patch.h), such as args and command, are atomic: one leaf. Where upstream's
 * OpenAPI keys a list by more than its strategic merge key we follow upstream: container
 * ports are keyed by containerPort and protocol (default "TCP"), service ports by port and
 * protocol, topologySpreadConstraints by topologyKey and whenUnsatisfiable. LabelSelectors
 * (spec.selector of workloads) and the *KeyRef/fieldRef structs are atomic; labels,
 * annotations, nodeSelector, data, resource limits/requests and a Service's selector are maps
 * (each key is owned on its own).
 *
 * Ownership follows upstream's field manager:
 *   - Update (create, update, patch other than apply): the writer's "Update" entry gains the
 *     fields it added or changed (old and new objects compared); every other entry loses the
 *     fields that were changed or removed. Managed fields sent in the request replace the
 *     stored ones ([] or [{}] resets them; an update of an object that tracks no fields
 *     leaves it untracked); for subresources the stored ones are always used. More than ten
 *     Update entries are folded, oldest first, into "ancient-changes".
 *   - Apply (application/apply-patch+yaml): the applied configuration is merged into the
 *     live object; the applier's "Apply" entry becomes exactly the applied field set; fields
 *     it applied before, no longer applies and nobody else owns are removed; fields another
 *     manager owns whose value the apply changes are conflicts unless force, which takes
 *     them over. Manager "kubectl" may take over fields whose value still matches the
 *     kubectl.kubernetes.io/last-applied-configuration annotation, and keeps that annotation
 *     up to date, as upstream does for kubectl's client-side to server-side migration.
 * Never owned by anyone: apiVersion, kind, metadata.{name, namespace, uid, resourceVersion,
 * generation, creationTimestamp, selfLink, managedFields, deletionTimestamp,
 * deletionGracePeriodSeconds}, plus the reset fields of the write: status for the main
 * resource; spec and metadata.labels for the status subresource.
 *
 * Memory: results live in the caller's arena, which also receives scratch memory proportional
 * to the inputs. Results share no node with the inputs. Errors are negative codes with a
 * message in errmsg (K8C_ERRMSG_SIZE bytes, may be NULL):
 *   K8C_EINVAL    an object or managedFields entry does not fit (list item without its merge
 *                 keys, duplicate keys in an applied list, malformed FieldsV1, wrong
 *                 apiVersion/kind in an apply configuration): 400/422 per the message
 *   K8C_EDEPTH    nesting deeper than 128 levels
 *   K8C_ECONFLICT apply conflicts (api_managed_apply only): 409 with the causes
 */
#ifndef K8C_API_MANAGED_H
#define K8C_API_MANAGED_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "patch.h"

/* The annotation kubectl's client-side apply keeps. */
#define API_MANAGED_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* One write, as the field manager sees it. Strings are borrowed for the call. */
struct api_managed_op {
    const char *manager;     /* fieldManager; NULL or "" is "unknown" for updates (the caller
                                derives it from the User-Agent first, as upstream does) */
    const char *api_version; /* the request's group/version: "apps/v1", "v1" */
    const char *kind;        /* "Deployment": picks the schema (api_patch_schema_for_kind) */
    const char *subresource; /* NULL or "" for the main resource, "status", ... */
    const char *time;        /* the write's time, RFC 3339 UTC: "2024-05-01T10:00:00Z" */
    /* Converts obj (an object of api_version) to to_version, the version another manager
     * wrote in, into *out (nodes from a): that manager's fields are compared there, as
     * upstream's versioned field manager does. 0, or K8C_EUNSUPPORTED when the two versions are
     * not convertible (the manager's fields are then compared in api_version). NULL: no
     * conversions. */
    int (*convert)(void *arg, struct k8c_arena *a, const struct k8c_json *obj,
                   const char *to_version, struct k8c_json **out);
    void *convert_arg;
};

/*
 * The field set of every field obj sets (FieldsV1, as a tree in a), minus the fields nobody
 * owns on a main-resource write (see the top of this file). schema comes from
 * api_patch_schema_for_kind (NULL: nothing special, every list atomic). This is what an Apply
 * entry holds after applying obj. Errors: K8C_EINVAL, K8C_EDEPTH.
 */
int api_managed_fieldset(struct k8c_arena *a, const struct k8c_json *obj,
                         const struct api_patch_type *schema, struct k8c_json **fields_v1,
                         char *errmsg);

/*
 * Records an Update by op->manager: obj is the object about to be stored (after the patch or
 * update is applied, defaulted and validated), live the stored object before the write (NULL
 * for a create). Replaces obj's metadata.managedFields in place (new nodes from a; removed
 * when nobody owns anything). live is not modified. Errors: K8C_EINVAL (obj not an object, a
 * list item without its merge keys), K8C_EDEPTH; obj's managedFields are then unspecified
 * and upstream keeps live's (restore them).
 */
int api_managed_update(struct k8c_arena *a, const struct k8c_json *live, struct k8c_json *obj,
                       const struct api_managed_op *op, char *errmsg);

/* One apply conflict, in upstream's StatusCause words. */
struct api_managed_conflict {
    const char *manager; /* as printed: "\"kubectl-client-side-apply\" using apps/v1" */
    const char *message; /* cause message: "conflict with \"kubectl-client-side-apply\" using
                            apps/v1" */
    const char *field;   /* cause field: ".spec.replicas" */
};

struct api_managed_apply_result {
    struct k8c_json *object; /* the merged object with its managedFields (NULL on error) */
    bool changed;            /* false: the apply changed nothing but managedFields */
    /* K8C_ECONFLICT: upstream's message, "Apply failed with 1 conflict: conflict with
     * \"m\" using apps/v1: .spec.replicas" or, for several, "Apply failed with 2 conflicts:
     * conflicts with \"m\" using apps/v1:\n- .spec.replicas\n- ...", and each conflict in
     * the order of the message. */
    const char *conflict_message;
    const struct api_managed_conflict *conflicts;
    size_t n_conflicts;
};

/*
 * Applies config (the decoded apply patch: an object with apiVersion, kind and metadata.name)
 * as op->manager (required) onto live (the stored object with its managedFields; NULL when
 * the object does not exist yet: the result is then the object to create). force takes over
 * conflicting fields. The result object still needs the caller's defaulting, validation and,
 * for the main resource, the strategy's reset of status. All results live in a.
 * Errors: K8C_ECONFLICT (out->conflict_message, out->conflicts), K8C_EINVAL (config not an
 * object, metadata.managedFields set in config, apiVersion or kind not the request's, live's
 * managedFields undecodable, list items without their keys, duplicate keys in config),
 * K8C_EDEPTH.
 */
int api_managed_apply(struct k8c_arena *a, const struct k8c_json *live,
                      const struct k8c_json *config, bool force, const struct api_managed_op *op,
                      struct api_managed_apply_result *out, char *errmsg);

#endif
