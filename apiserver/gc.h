/*
 * Garbage collection of dependents by ownerReferences (see gc.c): what
 * upstream's garbage collector does for Background, Foreground and Orphan
 * deletions, run by the API server until the controller manager exists.
 */
#ifndef API_GC_H
#define API_GC_H

#include <stdbool.h>

#include "resources.h"
#include "server.h"

enum api_gc_mode {
    API_GC_BACKGROUND, /* the owner is gone: delete its dependents */
    API_GC_FOREGROUND, /* delete the dependents, then the foregroundDeletion finalizer */
    API_GC_ORPHAN,     /* drop the owner from the dependents, then the orphan finalizer */
};

/* Starts collecting for the owner res/ns/name with uid, in the background. */
void api_gc_start(struct api_server *srv, const struct api_resource *res, const char *ns,
                  const char *name, const char *uid, enum api_gc_mode mode);

/* Resumes Foreground and Orphan deletions left unfinished (at start). */
void api_gc_resume(struct api_server *srv);

/* Starts the ownership index (one store watch on the whole prefix); a
 * Background pass runs only for owners of something. Stopped by
 * api_gc_shutdown. */
void api_gc_index_start(struct api_server *srv);
void api_gc_shutdown(struct api_server *srv);
/* Whether some object names uid as its owner (true until the index is built). */
bool api_gc_is_owner(const char *uid);

#endif
