/*
 * apiserver/convert: resources served at a version other than the one they are stored at.
 * Such a resource's table entry names a storage version (struct api_resource.stored_as); the
 * object a request works on is converted to it before it is written and back when it is read,
 * so every version reads and writes the same keys (api_obj_encode_storage and
 * api_obj_decode_storage call these). Today: autoscaling/v1 HorizontalPodAutoscaler, stored as
 * autoscaling/v2 (as kube-apiserver stores it), which `kubectl autoscale` creates; and the
 * events.k8s.io/v1 Event, stored as the core/v1 Event under the same keys.
 */
#ifndef K8C_APISERVER_CONVERT_H
#define K8C_APISERVER_CONVERT_H

#include <protobuf-c/protobuf-c.h>

#include "resources.h"

/*
 * in (a message of r's type) as an object of r->stored_as's type in *out (a new message the
 * caller frees with api_obj_free). Returns 0, or K8C_EINVAL when r has no storage version or in
 * is not of r's type (errmsg says which).
 */
int api_convert_to_storage(const struct api_resource *r, const ProtobufCMessage *in,
                           ProtobufCMessage **out, char *errmsg);

/* The reverse: in (of r->stored_as's type) as r's type. Same errors. */
int api_convert_from_storage(const struct api_resource *r, const ProtobufCMessage *in,
                             ProtobufCMessage **out, char *errmsg);

#endif
