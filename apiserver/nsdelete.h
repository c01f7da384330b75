/*
 * Namespace deletion: what upstream's namespace controller does, run by the
 * API server in the background once a namespace is marked for deletion.
 */
#ifndef API_NSDELETE_H
#define API_NSDELETE_H

#include "server.h"

/* Deletes every namespaced object in ns, then ns itself. */
void api_namespace_delete_contents(struct api_server *srv, const char *ns);

#endif
