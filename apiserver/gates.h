/*
 * apiserver/gates: what upstream's strategies drop before validation because the feature gate
 * behind a field is off by default in 1.32 (the registries' dropDisabledFields). A field the
 * stored object already uses is kept, as upstream keeps it:
 *   ProcMountType (beta, off)             a container's procMount becomes "Default"
 *   UserNamespacesSupport (beta, off)     spec.hostUsers
 *   SupplementalGroupsPolicy (alpha, off) spec.securityContext.supplementalGroupsPolicy
 *   SELinuxChangePolicy (alpha, off)      spec.securityContext.seLinuxChangePolicy
 *   DynamicResourceAllocation (beta, off) spec.resourceClaims and containers' resources.claims
 *   PodLevelResources (alpha, off)        spec.resources
 *   CoordinatedLeaderElection (alpha, off) a Lease's spec.strategy and spec.preferredHolder
 * for pods and every pod template (Deployments, Jobs, CronJobs, ...).
 */
#ifndef API_GATES_H
#define API_GATES_H

#include <protobuf-c/protobuf-c.h>

/* Drops the disabled fields of obj (a create: old NULL; an update: old is the stored object). */
void api_gates_drop_disabled(ProtobufCMessage *obj, const ProtobufCMessage *old);

#endif
