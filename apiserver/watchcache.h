/*
 * The watch cache: one store watch per resource feeds an in-memory copy of
 * every object of that resource and a window of recent events. Lists at
 * resourceVersion "0" and watches are served from it, so N watchers cost one
 * store watch, and every object and event is serialized once per encoding
 * (JSON, protobuf; each only if a watcher asks for it): the same
 * reference-counted buffer is written to every watcher that matches.
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
#include <stdint.h>

#include "buf.h"
#include "server.h"

/* Serves req (a JSON list with resourceVersion=0, or a JSON or protobuf
 * watch) from the cache. Returns false when the request is not one the cache
 * serves (the caller goes to the store). */
bool api_watchcache_serve(struct api_req *req);

/*
 * Watch stream encodings, shared with the store-backed watch (watch.c), as
 * upstream's apiserver writes them (handlers/watch.go):
 *
 *   JSON      Content-Type application/json, one event per line:
 *             {"type":"ADDED","object":{...}}\n
 *   protobuf  Content-Type application/vnd.kubernetes.protobuf;stream=watch,
 *             a sequence of frames, each a 4-byte big-endian length and a
 *             metav1.WatchEvent {type = 1 (string), object = 2
 *             (RawExtension {raw = 1: the object's "k8s\0" + runtime.Unknown
 *             envelope})}. The frame itself carries no magic and no envelope:
 *             the stream serializer is the raw protobuf one, only the embedded
 *             object is self-describing.
 *
 * Bookmarks (the resource's kind with only metadata.resourceVersion) and
 * ERROR events (a v1 Status) are framed the same way.
 */
enum api_watch_format { API_WATCH_JSON, API_WATCH_PROTOBUF, API_WATCH_NFORMATS };

/* The stream encoding a watch request negotiated (YAML and Table requests get
 * JSON: upstream has no YAML stream serializer). */
enum api_watch_format api_watch_format_of(const struct api_req *req);
/* The response Content-Type of format f. Static storage. */
const char *api_watch_content_type(enum api_watch_format f);
/* How long a watch stream lasts, in ms, as upstream's watch handler decides:
 * timeoutSeconds when set (negative: it ends at once), else a random time
 * between --min-request-timeout and twice that, so that reconnects spread
 * (UINT64_MAX, which libuv's timers take as never, when that is 0). */
uint64_t api_watch_timeout_ms(struct api_req *req);
/* The 200 that starts a watch stream in format f (the events follow). */
void api_watch_respond(struct api_req *req, enum api_watch_format f);
/* Appends msg encoded as an embedded watch object in format f (JSON with kind
 * and apiVersion, or the protobuf envelope). Returns 0 or the codec's error
 * (errmsg says why). */
int api_watch_encode_object(enum api_watch_format f, const ProtobufCMessage *msg,
                            struct k8c_sbuf *out, char *errmsg);
/* One whole event (line or frame) of type ("ADDED", "MODIFIED", "DELETED",
 * "BOOKMARK", "ERROR") around obj (len bytes encoded by
 * api_watch_encode_object). Returns a new buffer (one reference, the
 * caller's). */
struct k8c_buf *api_watch_event(enum api_watch_format f, const char *type, const void *obj,
                                size_t len);
/* The annotation of the bookmark that ends a WatchList's initial events. */
#define API_INITIAL_EVENTS_END "k8s.io/initial-events-end"

/* A BOOKMARK event at rev for resource r (annotated as the end of the
 * initial events if initial_events_end) / an ERROR event carrying a Failure
 * Status (code, reason, message). New buffers, the caller's reference. */
struct k8c_buf *api_watch_bookmark(enum api_watch_format f, const struct api_resource *r,
                                   int64_t rev, bool initial_events_end);
struct k8c_buf *api_watch_error(enum api_watch_format f, int code, const char *reason,
                                const char *message);

/* Stops every cache (shutdown). */
void api_watchcache_shutdown(struct api_server *srv);

/* Starts the cache of r now (it otherwise starts with the first list or
 * watch of r), for api_watchcache_lookup_uid. */
void api_watchcache_prime(struct api_server *srv, const struct api_resource *r);
/* The object at store key in r's cache (NULL: not there); *ready false while the cache loads
 * (started if it was not). Borrowed: valid until the event loop runs again. */
const ProtobufCMessage *api_watchcache_get(struct api_server *srv, const struct api_resource *r,
                                           const char *key, bool *ready);
/* The UID of the object at store key in r's cache: 1 found (uid set), 0 not
 * there, -1 the cache is not ready (started if it was not). */
int api_watchcache_lookup_uid(struct api_server *srv, const struct api_resource *r, const char *key,
                              char *uid, size_t size);

/* Whether r's cache holds the store's objects yet (starting it if it was not started). */
bool api_watchcache_ready(struct api_server *srv, const struct api_resource *r);
/* Calls fn for every object of r in namespace ns (NULL: all) that the cache holds, in key
 * order. Returns how many, or -1 when the cache is not ready yet (it is started if it was
 * not). fn must not change the object. */
long api_watchcache_each(struct api_server *srv, const struct api_resource *r, const char *ns,
                         void (*fn)(void *arg, const ProtobufCMessage *obj), void *arg);

/* Events kept per resource (older watches get 410 Expired):
 * --watch-cache-size, default 4096. */
extern size_t api_watchcache_window;
/* Watchers a fan-out serves per loop turn before it lets other work in:
 * --watch-cache-fanout-batch, default 1000. */
extern size_t api_watchcache_fanout_batch;

#endif
