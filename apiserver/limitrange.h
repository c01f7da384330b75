/*
 * apiserver/limitrange: upstream's LimitRanger admission plugin. The LimitRanges of the
 * object's namespace (read from the watch cache) give a created pod's containers their default
 * requests and limits (with the kubernetes.io/limit-ranger annotation saying which), and bound
 * what pods and PersistentVolumeClaims may ask for: Container and Pod min, max and
 * maxLimitRequestRatio, PersistentVolumeClaim min and max of requests.storage. Pod updates and
 * subresources are left alone, as upstream leaves them.
 */
#ifndef API_LIMITRANGE_H
#define API_LIMITRANGE_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "resources.h"
#include "server.h"

/*
 * validate false: the mutating phase (defaults, before validation); true: the validating one.
 * Returns 0, or 403 with upstream's message in errmsg: `pods "p" is forbidden: maximum cpu
 * usage per Container is 1, but limit is 2`, or "not yet ready to handle request" while the
 * LimitRanges are still loading.
 */
int api_limitranger(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
                    const char *sub, ProtobufCMessage *obj, bool validate, char *errmsg,
                    size_t size);

/* Loads the LimitRanges now rather than with the first pod (server start). */
void api_limitranger_prime(struct api_server *srv);
/* Whether they are loaded: /readyz's informer-sync check, as upstream's. */
bool api_limitranger_ready(struct api_server *srv);

#endif
