/*
 * apiserver/podsecurity: upstream's PodSecurity admission (the Pod Security Standards) as
 * kube-apiserver 1.32 runs it by default: a namespace's pod-security.kubernetes.io/enforce,
 * audit and warn labels (privileged, baseline or restricted; "latest" or "v1.N") decide how
 * its pods are checked. Pods that fail the enforce level are refused (403, `pods "p" is
 * forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false
 * (...)`); pods and workload templates that fail the warn level are admitted with the warning
 * `would violate PodSecurity "...": ...`. Pod updates are checked again only when an image or
 * the containers change. Invalid labels on a namespace are refused (422); a stricter enforce
 * level on a namespace warns about the existing pods that fail it. Every version is checked
 * with the 1.32 ("latest") checks. There is no audit log, so the audit level records nothing.
 */
#ifndef API_PODSECURITY_H
#define API_PODSECURITY_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "resources.h"
#include "server.h"
#include "validate.h"

/* Receives each warning (the text, without the "299 - " framing). */
typedef void (*api_warn_fn)(void *arg, const char *text);

/*
 * Runs the plugin on a validated create or update of r (old: the stored object on update).
 * Returns 0 (admitted; warnings through warn), 403 with upstream's message in errmsg, 422 with
 * the namespace label errors appended to errs, or 500 when the namespace cannot be found.
 */
int api_podsecurity(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
                    const char *sub, const ProtobufCMessage *obj, const ProtobufCMessage *old,
                    struct api_field_errors *errs, api_warn_fn warn, void *warn_arg, char *errmsg,
                    size_t size);

/*
 * The checks alone: whether pod (a Pod, or a workload whose template is checked) meets level
 * ("privileged", "baseline" or "restricted", at "latest", 1.32's checks, or at a version as a
 * namespace label gives it: "restricted:v1.24"). Returns NULL when it does (or level is not
 * one of those),
 * else upstream's list of failures ("allowPrivilegeEscalation != false (container "c" must
 * ...), ..."), which the caller frees with k8c_free.
 */
char *api_podsecurity_evaluate(const char *level, const ProtobufCMessage *pod);

/* Whether the namespaces and pods it reads are loaded (/readyz). */
bool api_podsecurity_ready(struct api_server *srv);

#endif
