/*
 * Namespace deletion: what upstream's namespace controller does, run by the
 * API server in the background once a namespace is marked for deletion.
 */
#ifndef API_NSDELETE_H
#define API_NSDELETE_H

#include <stdbool.h>

#include "server.h"

/* Deletes every namespaced object in ns, then takes the "kubernetes" finalizer out of ns's
 * spec.finalizers, and deletes ns when it has no finalizers left. */
void api_namespace_delete_contents(struct api_server *srv, const char *ns);
/* Whether namespace obj's spec.finalizers is empty (it may go once its metadata.finalizers
 * are too). */
bool api_namespace_finalized(const ProtobufCMessage *obj);

#endif
