/*
 * Reflective helpers on API objects (protobuf-c messages of the schema):
 * their ObjectMeta, spec and status fields found by name through the
 * descriptors, so the registry handles every kind with the same code; store
 * encoding (the "k8s\0" envelope without resourceVersion, as upstream stores
 * objects) and decoding (resourceVersion set from the store's mod revision);
 * lists built from items; uids, timestamps and generated names.
 *
 * Messages here use the default protobuf-c allocator: free them with
 * protobuf_c_message_free_unpacked(msg, NULL). Strings set by these helpers
 * are k8c_strdup'd (malloc), which that function frees.
 */
#ifndef API_OBJECT_H
#define API_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "buf.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"
#include "resources.h"

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta api_meta_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__Time api_time_t;

/* The address of a message-typed field of obj by name ("metadata", "spec",
 * "status"), or NULL when the type has no such field. */
ProtobufCMessage **api_obj_field(ProtobufCMessage *obj, const char *name);
/* Whether r's object type has a field of that name. */
bool api_obj_field_exists(const struct api_resource *r, const char *name);
/* obj's ObjectMeta, or NULL (absent). _ensure creates an empty one. */
api_meta_t *api_obj_meta(const ProtobufCMessage *obj);
api_meta_t *api_obj_meta_ensure(ProtobufCMessage *obj);
/* Replaces *field with a copy of value (NULL clears). */
void api_set_str(char **field, const char *value);
/* A Time of sec seconds. */
api_time_t *api_time_new(int64_t sec);
/* Now, in seconds since the epoch (a hook so tests can fix it). */
extern int64_t (*api_now)(void);
/* A random RFC 4122 version 4 UUID in out (37 bytes). */
void api_uuid(char out[37]);
/* generateName + 5 random characters of upstream's alphabet. */
void api_generate_name(const char *base, char *out, size_t size);

/* Deep copy (pack + unpack). */
ProtobufCMessage *api_obj_copy(const ProtobufCMessage *obj);
/* True when two messages (or NULLs) have the same encoding. */
bool api_obj_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);
/* Frees a message of the default allocator (NULL ok). */
void api_obj_free(ProtobufCMessage *obj);

/* The PodTemplateSpec inside a workload (PodTemplate's template, spec.template, a CronJob's
 * spec.jobTemplate.spec.template), else NULL. Borrowed from obj. */
ProtobufCMessage *api_obj_pod_template(const ProtobufCMessage *obj);
/* The PodSpec inside obj: a Pod's spec, or its pod template's, else NULL. Borrowed from obj. */
ProtobufCMessage *api_obj_pod_spec(const ProtobufCMessage *obj);

/* Store encoding: envelope with apiVersion/kind of r, resourceVersion
 * cleared. The result is appended to out. */
int api_obj_encode_storage(const struct api_resource *r, ProtobufCMessage *obj,
                           struct k8c_sbuf *out, char *errmsg);
/* Decodes a stored value and sets metadata.resourceVersion to mod_rev. */
int api_obj_decode_storage(const struct api_resource *r, const uint8_t *data, size_t len,
                           int64_t mod_rev, ProtobufCMessage **out, char *errmsg);

/* A list message of r's list kind holding items (borrowed: free the list with
 * api_list_free, which leaves the items alone). */
ProtobufCMessage *api_list_new(const struct api_resource *r, ProtobufCMessage **items, size_t n,
                               const char *rv, const char *cont, int64_t remaining);
void api_list_free(ProtobufCMessage *list);

/* Label value of obj, or NULL. */
const char *api_meta_label(const api_meta_t *m, const char *key);
/* The value of annotation key ("" when it has none), or NULL when m does not have it. */
const char *api_meta_annotation(const api_meta_t *m, const char *key);
/* Sets (or adds) an annotation. */
void api_meta_set_annotation(api_meta_t *m, const char *key, const char *value);
bool api_meta_has_finalizer(const api_meta_t *m, const char *name);
void api_meta_add_finalizer(api_meta_t *m, const char *name);

/* The pod's status condition of type, added (with only its type) when it has none. */
K8s__Io__Api__Core__V1__PodCondition *api_pod_condition(K8s__Io__Api__Core__V1__Pod *pod,
                                                        const char *type);

#endif
