/*
 * Service cluster IPs (--service-cluster-ip-range) and node ports
 * (--service-node-port-range), allocated through the store so that several
 * API servers never hand out the same one. See svcalloc.c.
 */
#ifndef API_SVCALLOC_H
#define API_SVCALLOC_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "server.h"

/* done(req, 0, NULL) once every value svc needs is reserved and written into
 * it (clusterIP/clusterIPs, nodePort of each port of a NodePort or
 * LoadBalancer service); done(req, 422 or 500, message) otherwise, with
 * nothing left reserved. Values old (the stored service, or NULL) already
 * holds are kept. dry_run picks values without reserving them. */
typedef void (*api_alloc_done_fn)(struct api_req *req, int code, const char *message);
void api_alloc_service(struct api_req *req, ProtobufCMessage *svc, const ProtobufCMessage *old,
                       bool dry_run, api_alloc_done_fn done);
/* An update of service obj from the stored old one, before validation and allocation, as
 * upstream's service REST prepares it: values allocated before and left out of the update are
 * kept (patchAllocatedValues), clusterIPs follows a changed clusterIP (normalizeClusterIPs),
 * and fields the new type does not use are dropped unless the update changed them
 * (dropTypeDependentFields; what they held is released once the update is stored, with
 * api_alloc_release_unused). */
void api_service_prepare_update(ProtobufCMessage *obj, const ProtobufCMessage *old);
/* Frees the IP and node ports of a deleted (or never stored) service. */
void api_alloc_release_service(struct api_server *srv, const ProtobufCMessage *svc);
/* Releases the cluster IP and node ports service from holds that service to does not (after an
 * update: from the old object to the new one; after a failed one: the other way round). */
void api_alloc_release_unused(struct api_server *srv, const ProtobufCMessage *from,
                              const ProtobufCMessage *to);
/* Reserves one IP for a service created outside the API (the bootstrap
 * "kubernetes" service). */
void api_alloc_reserve_ip(struct api_server *srv, const char *ip, const char *owner);

#endif
