/*
 * The API server's request pipeline: one struct api_server per process, one
 * struct api_req per HTTP request. A request goes
 *   authenticate -> route -> authorize -> read body -> decode -> admission
 *   (defaults, validation) -> registry (store) -> encode -> respond,
 * asynchronously on the loop (the store calls are gRPC). rest.c holds the
 * routing and the registry verbs, discovery.c the discovery documents,
 * watch.c the watch streams, auth.c authentication.
 */
#ifndef API_SERVER_H
#define API_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <uv.h>

#include "buf.h"
#include "etcd.h"
#include "http.h"
#include "json.h"
#include "metrics.h"
#include "resources.h"

#define API_MAX_BODY (3u * 1024 * 1024) /* kube-apiserver's limit for request bodies */

struct api_token {
    char *token, *user, *uid;
    char **groups;
    size_t ngroups;
};

struct api_server {
    uv_loop_t *loop;
    struct api_etcd *etcd;
    char *prefix; /* --etcd-prefix, "/registry" */
    struct api_token *tokens;
    size_t ntokens;
    bool anonymous;
    int max_inflight, max_mutating, inflight, mutating;
    int64_t request_timeout_ms;
    int min_request_timeout_s; /* --min-request-timeout: watches last 1-2 times this */
    char *service_cidr;        /* --service-cluster-ip-range */
    uint32_t svc_base, svc_size;
    int node_port_lo, node_port_hi;
    char *advertise_address;
    int secure_port;
    struct k8c_metrics *metrics;
    struct k8c_health *health; /* /healthz, /livez, /readyz checks (made on first use) */
    /* the store's TLS files ("" when unset), for ComponentStatus */
    const char *etcd_ca, *etcd_cert, *etcd_key;

    struct k8c_metric *requests_total, *request_seconds;
    /* apiserver_current_inflight_requests{request_kind="readOnly"|"mutating"} */
    struct k8c_metric_series *inflight_readonly, *inflight_mutating;
    int64_t event_ttl_s;         /* --event-ttl: how long events live (store leases) */
    bool ready;                  /* bootstrap done */
    bool store_ok;               /* the last store probe answered */
    struct api_satoken *satoken; /* service account tokens (satoken.c), or NULL */
};

enum api_format { API_JSON, API_YAML, API_PROTOBUF };

enum api_verb {
    VERB_NONE,
    VERB_GET,
    VERB_LIST,
    VERB_WATCH,
    VERB_CREATE,
    VERB_UPDATE,
    VERB_PATCH,
    VERB_DELETE,
    VERB_DELETECOLLECTION,
};

struct api_req {
    struct api_server *srv;
    struct k8c_http_stream *s; /* NULL once the stream closed */
    unsigned refs;             /* the stream's and each pending operation's */
    struct k8c_sbuf body;
    bool too_big;
    uint64_t start_ns;
    bool counted, counted_mutating;
    /* route */
    char *path;  /* copy of the path without the query */
    char *query; /* copy of the query ("" if none) */
    const struct api_resource *res;
    char group[64], version[16], ns[256], name[256], sub[32];
    enum api_verb verb;
    /* negotiation */
    enum api_format out;
    bool table; /* Accept asks for meta.k8s.io/v1 Table */
    /* Accept asks for meta.k8s.io/v1 PartialObjectMetadata (get, watch) or
     * PartialObjectMetadataList (list): client-go's metadata client. partial_want is what this
     * request's verb may be answered with (1: the object's, 2: the list's; 0 not known yet) */
    bool partial;
    int partial_want;
    bool not_acceptable; /* Accept names no type an object can be written as (406) */
    bool include_object; /* includeObject=Object */
    /* user */
    char user[256];
    char groups[512]; /* comma-separated */
    char uid[128];    /* the user's UID, when the authenticator (or impersonation) gives one */
    char *extra;      /* impersonated extra: "key\tvalue\n" per value, or NULL (owned) */
    int code;         /* the response status, for metrics */
    /* Warning headers (upstream: `299 - "unknown field \"spec.x\""`) */
    char *warnings[32];
    size_t nwarnings;
    /* operation state */
    ProtobufCMessage *obj; /* the object being written */
    int64_t rv;            /* the client's resourceVersion precondition (0: none) */
    int64_t store_rev;     /* mod revision the write compares against (0: create) */
    int attempts;
    bool applied;        /* server-side apply computed managedFields already */
    bool generated_name; /* a create's name made from metadata.generateName */
    bool dry_run; /* dryRun=All in the query, or in a DELETE's DeleteOptions: nothing is written */
    uv_timer_t *deadline; /* --request-timeout, or the shorter ?timeout= (not long-running) */
    char *key;
    void *op;                /* verb-specific state */
    void (*op_free)(void *); /* frees op with the request (NULL: op frees itself) */
};

/* rest.c */
void api_on_request(void *arg, struct k8c_http_stream *s);
/* Keeps req alive across an asynchronous operation / lets it go. */
void api_req_ref(struct api_req *req);
void api_req_unref(struct api_req *req);
/* True when the client is gone (nothing more to send). */
bool api_req_gone(const struct api_req *req);
/* Query parameter (URL-decoded into buf), or NULL. */
const char *api_query(const struct api_req *req, const char *name, char *buf, size_t size);
bool api_query_bool(const struct api_req *req, const char *name);
/* sendInitialEvents, parsed as Go's strconv.ParseBool: -1 absent, 0 false,
 * 1 true, -2 not a boolean (read_options_valid answers 400 for that). */
int api_send_initial_events(const struct api_req *req);
/* Store key of an object: <prefix>/<storage>/<ns>/<name> (no ns when cluster-scoped). */
void api_key(const struct api_server *srv, const struct api_resource *r, const char *ns,
             const char *name, char *out, size_t size);
/* Answers with an upstream Status (kind Status, code, reason, message,
 * details {name, group, kind}). */
void api_respond_status(struct api_req *req, int code, const char *reason, const char *message);
void api_respond_statusf(struct api_req *req, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The object a read of one key found (res of api_etcd_range), decoded at its revision; NULL
 * once answered: the store's error, NotFound when there is none, a 500 when it does not
 * decode. */
ProtobufCMessage *api_read_found(struct api_req *req, const struct api_etcd_result *res);
/* A Status whose details hold only one cause (reason, message; none when cause_reason is
 * NULL) and, when retry_after > 0, retryAfterSeconds (and a Retry-After header): as upstream's
 * REST handlers build by hand. retry_after < 0: empty details ({}). */
void api_respond_status_cause(struct api_req *req, int code, const char *reason,
                              const char *message, const char *cause_reason,
                              const char *cause_message, int retry_after);
/* 422 Invalid for an object of kind (group) named name that is not the
 * request's resource (a TokenRequest, say), errs as its causes. */
struct api_field_errors;
void api_respond_invalid(struct api_req *req, const char *kind, const char *group, const char *name,
                         const struct api_field_errors *errs);
/* Answers with an object (or list) in the negotiated format. */
void api_respond_object(struct api_req *req, int code, const ProtobufCMessage *obj);
/* A list of the n objects items (of req's resource) in the negotiated form (a Table for
 * kubectl), with resourceVersion rv, the continue token cont and remaining items after it. */
void api_respond_items(struct api_req *req, ProtobufCMessage **items, size_t n, const char *rv,
                       const char *cont, int64_t remaining);
/* Adds a Warning header to the response (at most 8 are kept). */
void api_req_warn(struct api_req *req, const char *text);
/* Answers with raw bytes and a content type. */
void api_respond_raw(struct api_req *req, int code, const char *ctype, const void *data,
                     size_t len);
/* The upstream "<resource>.<group>" qualified name ("deployments.apps", "pods"). */
void api_qualified(const struct api_resource *r, char *out, size_t size);
/* Decodes the request body (JSON, YAML or protobuf by Content-Type) into a
 * message of desc, with fieldValidation; NULL after answering the error. */
ProtobufCMessage *api_decode_body(struct api_req *req, const ProtobufCMessageDescriptor *desc);
/* The patch type of the request's Content-Type, or NULL after answering 415. */
const char *api_patch_content_type(struct api_req *req);
/* Applies the request body as a patch of patch_type to current: a new
 * message of the same type, or NULL after answering the error. */
/* Records an update of *obj from old (NULL: a create) by the request's field manager in
 * (*obj)'s metadata.managedFields, under the request's subresource (upstream's Update
 * operation); *obj is replaced. On failure the managedFields stay as they were. */
void api_track_update(struct api_req *req, const ProtobufCMessage *old, ProtobufCMessage **obj);
ProtobufCMessage *api_patch_message(struct api_req *req, const ProtobufCMessage *current,
                                    const char *patch_type, const char *group, const char *kind);
/* The meta.k8s.io/v1 Table of items in arena a (columns included when
 * with_columns), as kubectl's "as=Table" asks. */
struct k8c_json *api_table_tree(struct k8c_arena *a, struct api_req *req, ProtobufCMessage **items,
                                size_t n, const char *rv, const char *cont, int64_t remaining,
                                bool with_columns);
/* labelSelector and fieldSelector of the request (answers 400 and returns
 * false when one does not parse or names an unsupported field). */
struct api_label_selector;
struct api_field_selector;
bool api_parse_selectors(struct api_req *req, struct api_label_selector *labels,
                         struct api_field_selector *fields, bool *has_fields);
/* The field-selector values of obj (metadata.name, spec.nodeName, ...) into
 * out (at most max; strings in arena a or obj). Returns the count, at most
 * API_MAX_OBJECT_FIELDS for any kind. */
#define API_MAX_OBJECT_FIELDS 16
struct api_field;
size_t api_object_fields(struct k8c_arena *a, const ProtobufCMessage *obj, struct api_field *out,
                         size_t max);
/* Whether obj matches the selectors (fields as upstream supports them). */
bool api_object_matches(const struct api_label_selector *labels,
                        const struct api_field_selector *fields, bool has_fields,
                        const ProtobufCMessage *obj);
/* Maps a store error to an HTTP answer. */
void api_respond_store_error(struct api_req *req, int err, const char *errmsg);

/* discovery.c: answers /version, /api, /apis, ... Returns false if the path is not one. */
bool api_discovery(struct api_req *req);

/* watch.c: list+watch streams. _stream_closed stops a watch whose client went
 * away; _writable resumes one that waited for the client to read. */
void api_watch_start(struct api_req *req);
void api_watch_stream_closed(struct api_req *req);
void api_watch_writable(struct k8c_http_stream *s, void *arg);

/* rest.c: obj's meta.k8s.io/v1 PartialObjectMetadata (its metadata copied; the caller frees
 * it with api_obj_free), and a resource whose kind it is (for watch bookmarks). */
ProtobufCMessage *api_partial_of(const ProtobufCMessage *obj);
extern const struct api_resource api_partial_resource;

/* rest.c: the in-flight gauges from srv->inflight and srv->mutating (after they change). */
void api_inflight_changed(struct api_server *srv);

/* auth.c: sets req->user from the client certificate or bearer token, then from the
 * impersonation headers (kubectl --as), or answers 401 (403, 500) and returns false. Loads
 * --token-auth-file (CSV: token,user, uid,"group1,group2"): 0 or K8C_EINVAL/-errno with errmsg. */
bool api_authenticate(struct api_req *req);
int api_load_tokens(struct api_server *srv, const char *file, char *errmsg);

/* subresource.c: scale and the pod subresources (binding, eviction, log,
 * exec, attach, portforward, proxy). Returns false for status (handled by
 * the main verbs) and unknown names. */
bool api_subresource(struct api_req *req);

/* eviction.c: POST pods/<name>/eviction, honouring PodDisruptionBudgets. */
void api_evict(struct api_req *req);

/* review.c: TokenReview, (Self)SubjectAccessReview and POST .../bindings,
 * answered without storing anything. False for other resources. */
bool api_review(struct api_req *req);

#endif
