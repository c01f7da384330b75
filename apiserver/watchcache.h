/*
 * The watch cache: one store watch per resource feeds an in-memory copy of
 * every object of that resource and a window of recent events. Lists at
 * resourceVersion "0" and watches are served from it, so N watchers cost one
 * store watch, and every object and event is serialized to JSON once: the
 * same reference-counted buffer is written to every watcher that matches.
 *
 * A cache starts on the first request for its resource: it lists the
 * resource at one revision, then watches from the next. Until that list has
 * arrived, requests wait. If the store watch breaks (compaction, peer loss),
 * the cache drops its watchers (they reconnect, as client-go does after a
 * closed watch) and starts over.
 */
#ifndef API_WATCHCACHE_H
#define API_WATCHCACHE_H

#include <stdbool.h>

#include "server.h"

/* Serves req (a list with resourceVersion=0, or a JSON watch) from the
 * cache. Returns false when the request is not one the cache serves (the
 * caller goes to the store). */
bool api_watchcache_serve(struct api_req *req);

/* Stops every cache (shutdown). */
void api_watchcache_shutdown(struct api_server *srv);

/* Events kept per resource (older watches get 410 Expired):
 * --watch-cache-size, default 4096. */
extern size_t api_watchcache_window;

#endif
