/*
 * apiserver/plugins: the admission plugins kube-apiserver 1.32 enables by default that work on
 * objects alone, in upstream's order after the LimitRanger:
 *   TaintNodesByCondition     a created node gets the node.kubernetes.io/not-ready:NoSchedule
 *                             taint (the node lifecycle controller lifts it)
 *   Priority                  a pod's priorityClassName is resolved to spec.priority and
 *                             spec.preemptionPolicy (the global default class, or 0 and
 *                             PreemptLowerPriority); an unknown class or a priority that
 *                             disagrees is refused; only one PriorityClass may be the default
 *   DefaultTolerationSeconds  pods tolerate not-ready and unreachable nodes for 300 s
 *   DefaultStorageClass       a claim without a class gets the default StorageClass
 *   RuntimeClass              a created pod's runtimeClassName must name a RuntimeClass; the
 *                             class's overhead becomes the pod's (which may not set another), its
 *                             node selector and tolerations are merged into the pod's
 *   DefaultIngressClass       an Ingress without a class gets the default IngressClass
 * The classes come from the watch cache (loaded at start; /readyz waits for them). Not here:
 * ServiceAccount, StorageObjectInUseProtection and ResourceQuota, which need the objects and
 * finalizer handling of the controller manager; PodSecurity (podsecurity.c).
 */
#ifndef API_PLUGINS_H
#define API_PLUGINS_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "resources.h"
#include "server.h"

/*
 * The mutating phase (after defaults, before validation). old is the stored object on update
 * (NULL on create). Returns 0, or 403 with upstream's message in errmsg (`pods "p" is
 * forbidden: no PriorityClass with name x was found`, or "not yet ready to handle request"
 * while the classes load).
 */
int api_plugins_mutate(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
                       const char *sub, ProtobufCMessage *obj, const ProtobufCMessage *old,
                       char *errmsg, size_t size);

/* The validating phase (after validation): 0 or 403 as above. */
int api_plugins_validate(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
                         const char *sub, const ProtobufCMessage *obj, char *errmsg, size_t size);

/* Loads the classes now (server start). */
void api_plugins_prime(struct api_server *srv);
/* Whether they are loaded (/readyz). */
bool api_plugins_ready(struct api_server *srv);

#endif
