/*
 * The three PATCH body formats of the Kubernetes API, applied to JSON trees (lib/json.h):
 *
 *   application/json-patch+json             api_patch_json       RFC 6902 JSON Patch
 *   application/merge-patch+json            api_patch_merge      RFC 7386 JSON merge patch
 *   application/strategic-merge-patch+json  api_patch_strategic  Kubernetes strategic merge
 *                                                                patch (apimachinery
 *                                                                util/strategicpatch)
 *
 * Each function takes the current object and a patch document and builds the patched object
 * as a new tree in the caller's arena. Neither input is modified and the result shares no
 * node with them, so the inputs' arenas may be released right after the call. The arena also
 * receives scratch memory proportional to the inputs (released with the arena).
 *
 * Patch documents come from the network: every function bounds nesting depth and the number
 * of values, never recurses deeper than the limit, and reports bad input as a negative code
 * with a message in errmsg (K8C_ERRMSG_SIZE bytes, may be NULL). The codes map onto the
 * apiserver's responses:
 *
 *   K8C_EPARSE   the patch is malformed (wrong shape, bad JSON pointer, unknown operation,
 *                bad directive): 400 BadRequest
 *   K8C_EINVAL   a well-formed patch does not apply to this object (missing path, failed
 *                test, list elements without their merge key): 422 Unprocessable Entity
 *   K8C_ETOOBIG  more JSON Patch operations than allowed, or the result would hold more
 *                values than allowed: 413 Request Entity Too Large
 *   K8C_EDEPTH   an input or the result nests deeper than allowed: 422
 *
 * Messages use upstream's words where clients or users may look for them, prefixed by the
 * operation index for JSON Patch, e.g.
 *   json patch operation 1: add operation does not apply: doc is missing path:
 *       "/spec/foo": missing value
 *   json patch operation 0: testing value /a failed: test failed
 */
#ifndef K8C_API_PATCH_H
#define K8C_API_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

/* Upstream's cap on operations in one JSON Patch (apiserver maxJSONPatchOperations). */
#define API_PATCH_MAX_OPS 10000

struct api_patch_limits {
    unsigned max_depth; /* nesting of arrays/objects in inputs and result; 0 = 100 (as the
                           JSON parser's default, so a result always parses back) */
    size_t max_nodes;   /* values held by the copied inputs plus everything the patch adds;
                           0 = 4M */
    size_t max_ops;     /* JSON Patch operations; 0 = API_PATCH_MAX_OPS */
};

/*
 * RFC 6902: applies the operations in patch (a JSON array) to a copy of original, in order,
 * and stores the result in *out. Operations: add, remove, replace, move, copy, test; paths
 * are RFC 6901 JSON pointers ("" is the whole document, ~0 is '~', ~1 is '/', "-" appends to
 * an array in add/move/copy). Array indices may be negative (counted from the end), as
 * upstream (evanphx/json-patch) accepts. Where upstream deviates from the RFC we follow
 * upstream, since that is what clients of a Kubernetes API server see:
 *   - replace of a missing object member adds it;
 *   - test of a missing object member against null succeeds.
 * Errors: see the top of this file; the first failing operation stops the patch.
 */
int api_patch_json(struct k8c_arena *a, const struct k8c_json *original,
                   const struct k8c_json *patch, const struct api_patch_limits *limits,
                   struct k8c_json **out, char *errmsg);

/*
 * RFC 7386: a patch that is an object is merged member by member into the original (which
 * is treated as {} if it is not an object): null removes a member, objects merge
 * recursively, anything else replaces. A patch that is not an object replaces the whole
 * document. Values taken from the patch have their null members removed (arrays are taken
 * as they are). Errors: K8C_EDEPTH, K8C_ETOOBIG.
 */
int api_patch_merge(struct k8c_arena *a, const struct k8c_json *original,
                    const struct k8c_json *patch, const struct api_patch_limits *limits,
                    struct k8c_json **out, char *errmsg);

/* ---- strategic merge patch ------------------------------------------------------------------ */

/*
 * A strategic merge patch needs to know, for each field, how upstream's Go struct tags say
 * it merges (patchStrategy / patchMergeKey). We describe that as a static tree of types: a
 * type lists only its fields that are not plain (maps merge, lists are replaced) or that
 * lead to such fields. A field not listed in its type merges plainly and has no special
 * fields below it.
 */

/* Field strategies (flags). */
#define API_PATCH_MERGE                                                                            \
    1u                       /* lists merge: element-wise by merge_key for lists of                \
                                objects, as a set for lists of primitives */
#define API_PATCH_REPLACE 2u /* the map or list is replaced whole, never merged */
#define API_PATCH_RETAIN_KEYS                                                                      \
    4u /* upstream "retainKeys": clients send $retainKeys for this                                 \
          field. Applying a patch honours $retainKeys wherever it                                  \
          appears, so this flag is informational. */

struct api_patch_type;

struct api_patch_field {
    const char *name;                  /* JSON field name */
    unsigned strategy;                 /* API_PATCH_* */
    const char *merge_key;             /* lists of objects merged by this member, or NULL */
    const struct api_patch_type *type; /* the value's type (for a list: its elements'), or
                                          NULL when nothing below is special */
};

struct api_patch_type {
    const char *name; /* Go type name, for messages: "PodSpec" */
    const struct api_patch_field *fields;
    size_t n_fields;
};

/*
 * The built-in schema for a kind: Pod, PodTemplate, ReplicationController, Service,
 * ServiceAccount, Node, Namespace, PersistentVolumeClaim (group ""), Deployment, ReplicaSet,
 * StatefulSet, DaemonSet ("apps"), Job, CronJob ("batch"). group NULL matches any group.
 * Any other kind gets a schema that knows only ObjectMeta (metadata.finalizers merge as a
 * set, metadata.ownerReferences merge by uid): plain merge for maps, replace for lists.
 * Never NULL; static storage.
 */
const struct api_patch_type *api_patch_schema_for_kind(const char *group, const char *kind);

/* The field named name (len bytes) of type t, or NULL (also when t is NULL). */
const struct api_patch_field *api_patch_schema_field(const struct api_patch_type *t,
                                                     const char *name, size_t len);

/*
 * Applies a strategic merge patch (a JSON object; null is an empty patch) to original (an
 * object) as the apiserver does (util/strategicpatch StrategicMergeMapPatch), using schema
 * (NULL: plain merge for maps, replace for lists everywhere). Supported:
 *   - null deletes a field;
 *   - "$patch": "replace" (the map is replaced by the rest of the patch map), "delete" (the
 *     map becomes {}), in maps; in list elements "delete" removes the element with that
 *     merge key and "replace" replaces the list with the other patch elements. "merge" is
 *     accepted as a no-op (upstream rejects it);
 *   - "$retainKeys": [...] drops original fields not listed (after checking that the patch
 *     sets only listed fields);
 *   - "$setElementOrder/<field>": [...] orders a merged list;
 *   - "$deleteFromPrimitiveList/<field>": [...] removes values from a list of primitives;
 *   - lists with API_PATCH_MERGE merge (see api_patch_field), others are replaced; the order
 *     of a merged list follows upstream: patch items in patch order, interleaved with
 *     server-only items in their original order.
 * Directive keys never reach the result. Errors: see the top of this file.
 */
int api_patch_strategic(struct k8c_arena *a, const struct k8c_json *original,
                        const struct k8c_json *patch, const struct api_patch_type *schema,
                        const struct api_patch_limits *limits, struct k8c_json **out, char *errmsg);

#endif
