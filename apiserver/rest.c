/*
 * The REST registry: routing of /api and /apis paths to resources and verbs,
 * content negotiation, upstream Status errors, and the verbs themselves
 * (get, list, create, update, patch, delete, deletecollection) over the
 * store client. Objects are kept in the store as upstream does: under
 * <prefix>/<storage>/<namespace>/<name>, in the "k8s\0" protobuf envelope,
 * with resourceVersion = the key's mod revision.
 *
 * Every verb that writes follows the same path (write_object): take the
 * object the client sent (create, update) or computed (patch, delete with
 * finalizers), fill in what the server owns (uid, creationTimestamp,
 * generation, resourceVersion preconditions), run admission, and store it
 * with a compare-and-swap on the mod revision. A patch or an update without
 * a resourceVersion that loses a race re-reads and tries again (5 times, as
 * upstream's GuaranteedUpdate loop would).
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admission.h"
#include "validate.h"
#include "alloc.h"
#include "codec.h"
#include "convert.h"
#include "error.h"
#include "flags.h"
#include "k8s/api/apps/v1/generated.pb-c.h"
#include "k8s/api/batch/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/api/events/v1/generated.pb-c.h"
#include "log.h"
#include "componentstatus.h"
#include "managed.h"
#include "gc.h"
#include "nsdelete.h"
#include "object.h"
#include "patch.h"
#include "selector.h"
#include "server.h"
#include "svcalloc.h"
#include "table.h"
#include "watchcache.h"

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__Status status_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__StatusDetails status_details_t;

#define MAX_WRITE_ATTEMPTS 5

/* ======================= request lifetime ======================= */

void api_req_ref(struct api_req *req)
{
    req->refs++;
}

/* apiserver_request_total and apiserver_request_duration_seconds, as
 * upstream labels them. */
static void record_metrics(struct api_req *req)
{
    struct api_server *srv = req->srv;
    static const char *const verbs[] = {"",    "GET",   "LIST",   "WATCH",           "POST",
                                        "PUT", "PATCH", "DELETE", "DELETECOLLECTION"};
    char code[8];
    const char *verb = req->verb != VERB_NONE ? verbs[req->verb] : "";
    if (verb[0] == '\0')
        verb = req->s ? k8c_http_stream_method(req->s) : "GET";
    const char *group = req->res ? req->res->group : "";
    const char *version = req->res ? req->res->version : "";
    const char *resource = req->res ? req->res->resource : "";
    const char *scope = req->res == NULL        ? ""
                        : !req->res->namespaced ? "cluster"
                        : req->ns[0] == '\0'    ? "cluster"
                        : req->name[0] != '\0'  ? "resource"
                                                : "namespace";
    snprintf(code, sizeof(code), "%d", req->code);
    k8c_metric_inc(K8C_METRIC_WITH(srv->requests_total, verb, group, version, resource, req->sub,
                                   scope, "apiserver", code));
    k8c_metric_observe(K8C_METRIC_WITH(srv->request_seconds, verb, group, version, resource,
                                       req->sub, scope, "apiserver"),
                       (double)(uv_hrtime() - req->start_ns) / 1e9);
}

static void deadline_closed(uv_handle_t *h)
{
    k8c_free(h);
}

static void req_free(struct api_req *req)
{
    struct api_server *srv = req->srv;
    if (req->deadline != NULL) {
        uv_timer_stop(req->deadline);
        uv_close((uv_handle_t *)req->deadline, deadline_closed);
    }
    if (req->code != 0 && srv->requests_total != NULL)
        record_metrics(req);
    if (req->counted)
        srv->inflight--;
    if (req->counted_mutating)
        srv->mutating--;
    if (req->counted || req->counted_mutating)
        api_inflight_changed(srv);
    k8c_sbuf_free(&req->body);
    k8c_free(req->path);
    k8c_free(req->query);
    k8c_free(req->extra);
    k8c_free(req->key);
    for (size_t i = 0; i < req->nwarnings; i++)
        k8c_free(req->warnings[i]);
    api_obj_free(req->obj);
    if (req->op != NULL && req->op_free != NULL)
        req->op_free(req->op);
    k8c_free(req);
}

void api_req_unref(struct api_req *req)
{
    if (--req->refs == 0)
        req_free(req);
}

bool api_req_gone(const struct api_req *req)
{
    return req->s == NULL;
}

/* ======================= query and paths ======================= */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void url_decode(const char *s, size_t len, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < size; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
}

const char *api_query(const struct api_req *req, const char *name, char *buf, size_t size)
{
    size_t nlen = strlen(name);
    const char *q = req->query;
    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len >= nlen && strncmp(q, name, nlen) == 0 && (len == nlen || q[nlen] == '=')) {
            if (len == nlen)
                buf[0] = '\0';
            else
                url_decode(q + nlen + 1, len - nlen - 1, buf, size);
            return buf;
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

int api_send_initial_events(const struct api_req *req)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    char buf[16];
    const char *v = api_query(req, "sendInitialEvents", buf, sizeof(buf));
    if (v == NULL)
        return -1;
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(v, yes[i]) == 0)
            return 1;
        if (strcmp(v, no[i]) == 0)
            return 0;
    }
    return -2;
}

bool api_query_bool(const struct api_req *req, const char *name)
{
    char buf[16];
    const char *v = api_query(req, name, buf, sizeof(buf));
    return v != NULL && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || v[0] == '\0');
}

void api_key(const struct api_server *srv, const struct api_resource *r, const char *ns,
             const char *name, char *out, size_t size)
{
    if (r->namespaced && ns != NULL && ns[0] != '\0')
        snprintf(out, size, "%s/%s/%s/%s", srv->prefix, r->storage, ns, name ? name : "");
    else
        snprintf(out, size, "%s/%s/%s", srv->prefix, r->storage, name ? name : "");
}

void api_qualified(const struct api_resource *r, char *out, size_t size)
{
    if (r->group[0] == '\0')
        snprintf(out, size, "%s", r->resource);
    else
        snprintf(out, size, "%s.%s", r->resource, r->group);
}

/* ======================= responses ======================= */

static const char *format_ctype(enum api_format f)
{
    switch (f) {
    case API_YAML:
        return "application/yaml";
    case API_PROTOBUF:
        return "application/vnd.kubernetes.protobuf";
    default:
        return "application/json";
    }
}

void api_req_warn(struct api_req *req, const char *text)
{
    if (req->nwarnings >= sizeof(req->warnings) / sizeof(req->warnings[0]))
        return;
    struct k8c_sbuf w;
    k8c_sbuf_init(&w);
    k8c_sbuf_puts(&w, "299 - ");
    k8c_json_write_string(&w, text, strlen(text), 0);
    req->warnings[req->nwarnings++] = k8c_sbuf_detach(&w);
}

/* api_respond_raw with a Retry-After header when retry_after > 0. */
static void respond_raw(struct api_req *req, int code, const char *ctype, const void *data,
                        size_t len, int retry_after)
{
    if (req->s == NULL || k8c_http_stream_headers_sent(req->s))
        return;
    k8c_log_v(2, "request verb=%s path=%s code=%d user=%s", k8c_http_stream_method(req->s),
              k8c_http_stream_path(req->s), code, req->user);
    req->code = code;
    if (req->nwarnings == 0 && retry_after <= 0) {
        k8c_http_stream_reply(req->s, code, ctype, data, len);
        return;
    }
    struct k8c_http_header h[3 + sizeof(req->warnings) / sizeof(req->warnings[0])];
    char clen[24], retry[16];
    size_t n = 0;
    snprintf(clen, sizeof(clen), "%zu", len);
    h[n++] = (struct k8c_http_header){"content-type", ctype};
    h[n++] = (struct k8c_http_header){"content-length", clen};
    if (retry_after > 0) {
        snprintf(retry, sizeof(retry), "%d", retry_after);
        h[n++] = (struct k8c_http_header){"retry-after", retry};
    }
    for (size_t i = 0; i < req->nwarnings; i++)
        h[n++] = (struct k8c_http_header){"warning", req->warnings[i]};
    k8c_http_stream_respond(req->s, code, h, n, len == 0);
    if (len > 0) {
        k8c_http_stream_send_copy(req->s, data, len);
        k8c_http_stream_finish(req->s, NULL, 0);
    }
}

void api_respond_raw(struct api_req *req, int code, const char *ctype, const void *data, size_t len)
{
    respond_raw(req, code, ctype, data, len, 0);
}

/* Lists always carry "items" (Go's Items has no omitempty): an empty list
 * is "items": [], which clients rely on to recognise a list. */
static bool is_list(const ProtobufCMessage *obj)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(obj->descriptor, "items");
    return f != NULL && f->label == PROTOBUF_C_LABEL_REPEATED &&
           *(size_t *)((char *)obj + f->quantifier_offset) == 0;
}

static int encode_empty_list(enum api_format f, const ProtobufCMessage *obj, struct k8c_sbuf *out,
                             char *errmsg)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *tree;
    int rc = k8c_codec_msg_to_tree(a, obj, K8C_CODEC_TYPE_META, &tree, errmsg);
    if (rc == 0) {
        k8c_json_set(a, tree, "items", k8c_json_new_array(a));
        if (f == API_YAML)
            rc = k8c_codec_yaml_write(out, tree, errmsg);
        else
            k8c_json_write(out, tree, 0, 0);
    }
    k8c_arena_del(a);
    return rc;
}

static int encode_message(enum api_format f, const ProtobufCMessage *obj, struct k8c_sbuf *out,
                          char *errmsg)
{
    if (f != API_PROTOBUF && is_list(obj))
        return encode_empty_list(f, obj, out, errmsg);
    switch (f) {
    case API_YAML:
        return k8c_codec_yaml_encode(out, obj, K8C_CODEC_TYPE_META, errmsg);
    case API_PROTOBUF:
        return k8c_codec_proto_encode(out, obj, NULL, NULL, errmsg);
    default:
        return k8c_codec_json_encode(out, obj, K8C_CODEC_TYPE_META, 0, errmsg);
    }
}

/* What a Status's details name when they are not the request's object
 * (kind NULL: no details). */
struct status_subject {
    const char *kind, *group;
    /* details with only the causes and retryAfterSeconds (and a Retry-After header when > 0):
     * errors an upstream REST handler builds by hand */
    bool bare;
    int retry_after;
};

static void respond_status_details(struct api_req *req, int code, const char *reason,
                                   const char *message, const struct api_field_errors *errs,
                                   const struct status_subject *subject);

static void respond_status_causes(struct api_req *req, int code, const char *reason,
                                  const char *message, const struct api_field_errors *errs)
{
    respond_status_details(req, code, reason, message, errs, NULL);
}

void api_respond_status(struct api_req *req, int code, const char *reason, const char *message)
{
    respond_status_causes(req, code, reason, message, NULL);
}

static void respond_status_details(struct api_req *req, int code, const char *reason,
                                   const char *message, const struct api_field_errors *errs,
                                   const struct status_subject *subject)
{
    status_t st = K8S__IO__APIMACHINERY__PKG__APIS__META__V1__STATUS__INIT;
    status_details_t d = K8S__IO__APIMACHINERY__PKG__APIS__META__V1__STATUS_DETAILS__INIT;
    K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ListMeta lm =
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LIST_META__INIT;
    struct k8c_sbuf out;
    char errmsg[K8C_ERRMSG_SIZE];

    st.metadata = &lm;
    st.status = (char *)(code >= 200 && code < 300 ? "Success" : "Failure");
    if (message != NULL && message[0] != '\0')
        st.message = (char *)message;
    if (reason != NULL && reason[0] != '\0')
        st.reason = (char *)reason;
    st.has_code = true;
    st.code = code;
    K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__StatusCause *causes = NULL, **cause_ptrs = NULL;
    if (subject != NULL && subject->bare) {
        if (subject->retry_after != 0 || (errs != NULL && errs->n > 0))
            st.details = &d; /* retry_after < 0: an empty details, as Go's &StatusDetails{} */
        if (subject->retry_after > 0) {
            d.has_retryafterseconds = true;
            d.retryafterseconds = subject->retry_after;
        }
    } else if (subject != NULL) {
        if (subject->kind != NULL) {
            d.group =
                subject->group != NULL && subject->group[0] != '\0' ? (char *)subject->group : NULL;
            d.kind = (char *)subject->kind;
            if (req->name[0] != '\0')
                d.name = req->name;
            if (subject->retry_after > 0) {
                d.has_retryafterseconds = true;
                d.retryafterseconds = subject->retry_after;
            }
            st.details = &d;
        }
    } else if (req->res != NULL && (req->name[0] != '\0' || code == 201 || errs != NULL)) {
        if (req->name[0] != '\0')
            d.name = req->name;
        if (req->res->group[0] != '\0')
            d.group = (char *)req->res->group;
        d.kind = (char *)(errs != NULL ? req->res->kind : req->res->resource);
        st.details = &d;
    }
    if (errs != NULL && errs->n > 0 && st.details != NULL) {
        causes = k8c_calloc(errs->n, sizeof(*causes));
        cause_ptrs = k8c_calloc(errs->n, sizeof(*cause_ptrs));
        for (size_t i = 0; i < errs->n; i++) {
            k8s__io__apimachinery__pkg__apis__meta__v1__status_cause__init(&causes[i]);
            causes[i].reason = errs->items[i].type;
            causes[i].message = errs->items[i].message;
            causes[i].field = errs->items[i].field[0] ? errs->items[i].field : NULL;
            cause_ptrs[i] = &causes[i];
        }
        d.n_causes = errs->n;
        d.causes = cause_ptrs;
    }
    k8c_sbuf_init(&out);
    enum api_format f = req->out;
    if (encode_message(f, &st.base, &out, errmsg) != 0) {
        f = API_JSON;
        k8c_sbuf_reset(&out);
        encode_message(f, &st.base, &out, errmsg);
    }
    /* upstream's ErrorNegotiated: a Retry-After header for any retryAfterSeconds */
    respond_raw(req, code, format_ctype(f), out.data, out.len,
                subject != NULL && subject->retry_after > 0 ? subject->retry_after : 0);
    k8c_sbuf_free(&out);
    k8c_free(causes);
    k8c_free(cause_ptrs);
}

void api_respond_status_cause(struct api_req *req, int code, const char *reason,
                              const char *message, const char *cause_reason,
                              const char *cause_message, int retry_after)
{
    struct status_subject bare = {NULL, NULL, true, retry_after};
    struct api_field_errors errs;
    api_field_errors_init(&errs);
    if (cause_reason != NULL)
        api_field_errors_add(&errs, cause_reason, "", cause_message);
    respond_status_details(req, code, reason, message, &errs, &bare);
    api_field_errors_free(&errs);
}

void api_respond_statusf(struct api_req *req, int code, const char *reason, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    api_respond_status(req, code, reason, msg);
}

static void respond_not_found(struct api_req *req)
{
    char q[128];
    api_qualified(req->res, q, sizeof(q));
    api_respond_statusf(req, 404, "NotFound", "%s \"%s\" not found", q, req->name);
}

void api_respond_store_error(struct api_req *req, int err, const char *errmsg)
{
    char q[128] = "";
    if (req->res != NULL)
        api_qualified(req->res, q, sizeof(q));
    switch (err) {
    case K8C_ENOTFOUND:
        respond_not_found(req);
        return;
    case K8C_EEXIST:
        api_respond_statusf(req, 409, "AlreadyExists", "%s \"%s\" already exists", q, req->name);
        return;
    case K8C_ECONFLICT:
        api_respond_statusf(req, 409, "Conflict",
                            "Operation cannot be fulfilled on %s \"%s\": the object has been "
                            "modified; please apply your changes to the latest version and try "
                            "again",
                            q, req->name);
        return;
    case K8C_ETCD_COMPACTED:
        api_respond_statusf(req, 410, "Expired",
                            "The resourceVersion for the provided list is too old.");
        return;
    case K8C_ETCD_REQUEST_TOO_LARGE:
        api_respond_status(req, 413, "RequestEntityTooLarge",
                           "Request entity too large: limit is 3145728");
        return;
    case K8C_ETIMEDOUT:
        /* the request handler's finisher: NewTimeoutError(..., 0), empty details */
        api_respond_status_cause(req, 504, "Timeout",
                                 "Timeout: request did not complete within requested timeout - "
                                 "context deadline exceeded",
                                 NULL, NULL, -1);
        return;
    default:
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s",
                            errmsg ? errmsg : k8c_strerror(err));
    }
}

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__PartialObjectMetadata partial_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__PartialObjectMetadataList partial_list_t;

const struct api_resource api_partial_resource = {
    .group = "meta.k8s.io",
    .version = "v1",
    .kind = "PartialObjectMetadata",
    .api_version = "meta.k8s.io/v1",
    .desc = &k8s__io__apimachinery__pkg__apis__meta__v1__partial_object_metadata__descriptor,
};

ProtobufCMessage *api_partial_of(const ProtobufCMessage *obj)
{
    partial_t *p = k8c_malloc(sizeof(*p));
    k8s__io__apimachinery__pkg__apis__meta__v1__partial_object_metadata__init(p);
    const api_meta_t *m = api_obj_meta(obj);
    if (m != NULL)
        p->metadata = (api_meta_t *)api_obj_copy(&m->base);
    return &p->base;
}

/* A meta.k8s.io/v1 list of kind (Table, PartialObjectMetadataList) without its items: kind,
 * apiVersion and the ListMeta. */
static struct k8c_json *meta_list_tree(struct k8c_arena *a, const char *kind, const char *rv,
                                       const char *cont, int64_t remaining)
{
    struct k8c_json *t = k8c_json_new_object(a), *meta = k8c_json_new_object(a);
    k8c_json_set(a, t, "kind", k8c_json_new_string(a, kind));
    k8c_json_set(a, t, "apiVersion", k8c_json_new_string(a, "meta.k8s.io/v1"));
    k8c_json_set(a, meta, "resourceVersion", k8c_json_new_string(a, rv ? rv : ""));
    if (cont != NULL && cont[0] != '\0')
        k8c_json_set(a, meta, "continue", k8c_json_new_string(a, cont));
    if (remaining > 0)
        k8c_json_set(a, meta, "remainingItemCount", k8c_json_new_int(a, remaining));
    k8c_json_set(a, t, "metadata", meta);
    return t;
}

/* obj's PartialObjectMetadata as a JSON tree, kind and apiVersion included. */
static struct k8c_json *partial_tree(struct k8c_arena *a, const ProtobufCMessage *obj)
{
    struct k8c_json *t = k8c_json_new_object(a), *m = NULL;
    const api_meta_t *om = api_obj_meta(obj);
    k8c_json_set(a, t, "kind", k8c_json_new_string(a, "PartialObjectMetadata"));
    k8c_json_set(a, t, "apiVersion", k8c_json_new_string(a, "meta.k8s.io/v1"));
    if (om != NULL && k8c_codec_msg_to_tree(a, &om->base, 0, &m, NULL) == 0)
        k8c_json_set(a, t, "metadata", m);
    return t;
}

/* items as upstream's asPartialObjectMetadataList: each item's metadata, with the item's kind
 * and apiVersion in JSON and YAML (the list was built by appending: none is null). */
static void respond_partial_list(struct api_req *req, ProtobufCMessage **items, size_t n,
                                 const char *rv, const char *cont, int64_t remaining)
{
    struct k8c_sbuf out;
    char errmsg[K8C_ERRMSG_SIZE] = "";
    int rc;
    k8c_sbuf_init(&out);
    if (req->out == API_PROTOBUF) {
        partial_list_t l =
            K8S__IO__APIMACHINERY__PKG__APIS__META__V1__PARTIAL_OBJECT_METADATA_LIST__INIT;
        K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ListMeta lm =
            K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LIST_META__INIT;
        lm.resourceversion = (char *)(rv ? rv : "");
        lm.continue_ = cont != NULL && cont[0] != '\0' ? (char *)cont : NULL;
        lm.has_remainingitemcount = remaining > 0;
        lm.remainingitemcount = remaining;
        l.metadata = &lm;
        l.items = k8c_calloc(n ? n : 1, sizeof(*l.items));
        for (l.n_items = 0; l.n_items < n; l.n_items++)
            l.items[l.n_items] = (partial_t *)api_partial_of(items[l.n_items]);
        rc = encode_message(API_PROTOBUF, &l.base, &out, errmsg);
        for (size_t i = 0; i < l.n_items; i++)
            api_obj_free(&l.items[i]->base);
        k8c_free(l.items);
    } else {
        struct k8c_arena *a = k8c_arena_new(0);
        struct k8c_json *t = meta_list_tree(a, "PartialObjectMetadataList", rv, cont, remaining);
        struct k8c_json *list = n > 0 ? k8c_json_new_array(a) : k8c_json_new_null(a);
        for (size_t i = 0; i < n; i++)
            k8c_json_array_append(a, list, partial_tree(a, items[i]));
        k8c_json_set(a, t, "items", list);
        if (req->out == API_YAML) {
            rc = k8c_codec_yaml_write(&out, t, errmsg);
        } else {
            k8c_json_write(&out, t, 0, 0);
            rc = 0;
        }
        k8c_arena_del(a);
    }
    if (rc != 0)
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
    else
        api_respond_raw(req, 200, format_ctype(req->out), out.data, out.len);
    k8c_sbuf_free(&out);
}

struct k8c_json *api_table_tree(struct k8c_arena *a, struct api_req *req, ProtobufCMessage **items,
                                size_t n, const char *rv, const char *cont, int64_t remaining,
                                bool with_columns)
{
    struct k8c_json *t = meta_list_tree(a, "Table", rv, cont, remaining);
    size_t ncols;
    const struct api_table_column *cols =
        api_table_columns_of(req->res, n > 0 ? items[0]->descriptor : req->res->desc, &ncols);
    int64_t now = api_now();

    struct k8c_json *defs = k8c_json_new_array(a);
    for (size_t i = 0; i < ncols; i++) {
        struct k8c_json *c = k8c_json_new_object(a);
        k8c_json_set(a, c, "name", k8c_json_new_string(a, cols[i].name));
        k8c_json_set(a, c, "type", k8c_json_new_string(a, cols[i].type));
        k8c_json_set(a, c, "format", k8c_json_new_string(a, cols[i].format ? cols[i].format : ""));
        k8c_json_set(a, c, "description",
                     k8c_json_new_string(a, cols[i].description ? cols[i].description : ""));
        k8c_json_set(a, c, "priority", k8c_json_new_int(a, cols[i].priority));
        k8c_json_array_append(a, defs, c);
    }
    if (with_columns)
        k8c_json_set(a, t, "columnDefinitions", defs);
    struct k8c_json *rows = k8c_json_new_array(a);
    for (size_t i = 0; i < n; i++) {
        struct k8c_json *row = k8c_json_new_object(a), *cells = k8c_json_new_array(a), *obj;
        api_table_cells(a, req->res, items[i], now, cells);
        k8c_json_set(a, row, "cells", cells);
        struct k8c_json *cond = api_table_row_conditions(a, req->res, items[i]);
        if (cond != NULL)
            k8c_json_set(a, row, "conditions", cond);
        if (req->include_object)
            k8c_codec_msg_to_tree(a, items[i], K8C_CODEC_TYPE_META, &obj, NULL);
        else
            obj = partial_tree(a, items[i]);
        if (obj != NULL)
            k8c_json_set(a, row, "object", obj);
        k8c_json_array_append(a, rows, row);
    }
    k8c_json_set(a, t, "rows", rows);
    return t;
}

/* Table columns and rows for objects (kubectl's Accept: ...;as=Table). */
static void respond_table(struct api_req *req, ProtobufCMessage **items, size_t n, const char *rv,
                          const char *cont, int64_t remaining)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *t = api_table_tree(a, req, items, n, rv, cont, remaining, true);
    struct k8c_sbuf out;
    k8c_sbuf_init(&out);
    k8c_json_write(&out, t, 0, 0);
    api_respond_raw(req, 200, "application/json", out.data, out.len);
    k8c_sbuf_free(&out);
    k8c_arena_del(a);
}

void api_respond_items(struct api_req *req, ProtobufCMessage **items, size_t n, const char *rv,
                       const char *cont, int64_t remaining)
{
    if (req->table) {
        respond_table(req, items, n, rv, cont, remaining);
    } else if (req->partial) {
        respond_partial_list(req, items, n, rv, cont, remaining);
    } else {
        ProtobufCMessage *list = api_list_new(req->res, items, n, rv, cont, remaining);
        api_respond_object(req, 200, list);
        api_list_free(list);
    }
}

void api_respond_object(struct api_req *req, int code, const ProtobufCMessage *obj)
{
    struct k8c_sbuf out;
    char errmsg[K8C_ERRMSG_SIZE];
    if (req->table && req->res != NULL && api_table_prints(req->res, obj->descriptor)) {
        api_meta_t *m = api_obj_meta(obj);
        ProtobufCMessage *items[1] = {(ProtobufCMessage *)obj};
        respond_table(req, items, 1, m ? m->resourceversion : "", NULL, 0);
        return;
    }
    if (req->partial && req->res != NULL && obj->descriptor == req->res->desc) {
        ProtobufCMessage *p = api_partial_of(obj);
        req->partial = false;
        api_respond_object(req, code, p);
        api_obj_free(p);
        return;
    }
    k8c_sbuf_init(&out);
    if (encode_message(req->out, obj, &out, errmsg) != 0) {
        k8c_sbuf_free(&out);
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        return;
    }
    api_respond_raw(req, code, format_ctype(req->out), out.data, out.len);
    k8c_sbuf_free(&out);
}

void api_respond_invalid(struct api_req *req, const char *kind, const char *group, const char *name,
                         const struct api_field_errors *errs)
{
    struct status_subject subject = {kind, group};
    struct k8c_sbuf msg;
    k8c_sbuf_init(&msg);
    api_validate_format_message(kind, group, name, errs, &msg);
    respond_status_details(req, 422, "Invalid", msg.data, errs, &subject);
    k8c_sbuf_free(&msg);
}

/* A float64 as Go's %v prints it: the shortest digits that read back, in %e form when the
 * exponent is below -4 or at least 6 ("1.5", "1e+06", "1.25e-05"). */
static void go_print_float(struct k8c_sbuf *out, double d)
{
    char buf[40], digits[24];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(buf, sizeof(buf), "%.*e", p - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (p > 17 || !isfinite(d)) {
        k8c_sbuf_printf(out, "%g", d);
        return;
    }
    const char *q = buf;
    size_t nd = 0;
    if (*q == '-') {
        k8c_sbuf_puts(out, "-");
        q++;
    }
    for (; *q != 'e' && *q != '\0'; q++)
        if (*q != '.' && nd < sizeof(digits) - 1)
            digits[nd++] = *q;
    digits[nd] = '\0';
    while (nd > 1 && digits[nd - 1] == '0') /* %.Ne pads; the shortest form does not */
        digits[--nd] = '\0';
    int exp = *q == 'e' ? atoi(q + 1) : 0;
    if (exp < -4 || exp >= 6) {
        k8c_sbuf_printf(out, "%c%s%s", digits[0], nd > 1 ? "." : "", digits + 1);
        k8c_sbuf_printf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    } else if (exp < 0) {
        k8c_sbuf_printf(out, "0.%.*s%s", -exp - 1, "0000", digits);
    } else if ((size_t)exp + 1 >= nd) {
        k8c_sbuf_printf(out, "%s%.*s", digits, (int)((size_t)exp + 1 - nd), "000000");
    } else {
        k8c_sbuf_printf(out, "%.*s.%s", exp + 1, digits, digits + exp + 1);
    }
}

static int cmp_member_key(const void *x, const void *y)
{
    const struct k8c_json_member *a = *(const struct k8c_json_member *const *)x;
    const struct k8c_json_member *b = *(const struct k8c_json_member *const *)y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    return c != 0 ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/* A JSON value decoded as Go's map[string]interface{} (integers as int64), printed with %+v:
 * "map[spec:map[replicas:3]]", keys sorted, strings bare, "[a b]", "<nil>". */
static void go_print_value(struct k8c_sbuf *out, const struct k8c_json *v, unsigned depth)
{
    int64_t i;
    double d;
    if (depth > 64 || out->len > 65536) {
        k8c_sbuf_puts(out, "...");
        return;
    }
    switch (v->type) {
    case K8C_JSON_NULL:
        k8c_sbuf_puts(out, "<nil>");
        break;
    case K8C_JSON_BOOL:
        k8c_sbuf_puts(out, v->boolean ? "true" : "false");
        break;
    case K8C_JSON_NUMBER:
        if (k8c_json_get_int64(v, &i) == 0)
            k8c_sbuf_printf(out, "%" PRId64, i);
        else if (k8c_json_get_double(v, &d) == 0)
            go_print_float(out, d);
        else
            k8c_sbuf_puts(out, v->u.str);
        break;
    case K8C_JSON_STRING:
        k8c_sbuf_append(out, v->u.str, v->len);
        break;
    case K8C_JSON_ARRAY:
        k8c_sbuf_puts(out, "[");
        for (uint32_t k = 0; k < v->len; k++) {
            if (k > 0)
                k8c_sbuf_puts(out, " ");
            go_print_value(out, v->u.items[k], depth + 1);
        }
        k8c_sbuf_puts(out, "]");
        break;
    default: {
        const struct k8c_json_member **m = k8c_calloc(v->len ? v->len : 1, sizeof(*m));
        for (uint32_t k = 0; k < v->len; k++)
            m[k] = &v->u.members[k];
        qsort(m, v->len, sizeof(*m), cmp_member_key);
        k8c_sbuf_puts(out, "map[");
        for (uint32_t k = 0; k < v->len; k++) {
            if (k > 0 && cmp_member_key(&m[k - 1], &m[k]) == 0)
                continue; /* a Go map keeps one value per key */
            if (k > 0)
                k8c_sbuf_puts(out, " ");
            k8c_sbuf_append(out, m[k]->key, m[k]->key_len);
            k8c_sbuf_puts(out, ":");
            go_print_value(out, m[k]->value, depth + 1);
        }
        k8c_sbuf_puts(out, "]");
        k8c_free(m);
        break;
    }
    }
}

/* A patch whose result does not decode into the type: upstream answers NewInvalid(
 * GroupKind{}, "", patch: Invalid value: <value>: <error>), the value being the patched JSON
 * for a JSON or merge patch (jsonPatcher) and the patch as a Go map for a strategic merge
 * patch (applyPatchToObject). */
static void patched_invalid(struct api_req *req, const struct k8c_json *result,
                            const struct k8c_json *patch, const char *err)
{
    struct k8c_sbuf val, msg;
    struct api_field_errors errs;
    struct status_subject bare = {.bare = true};
    k8c_sbuf_init(&val);
    k8c_sbuf_init(&msg);
    api_field_errors_init(&errs);
    if (patch != NULL)
        go_print_value(&val, patch, 0);
    else
        k8c_json_write(&val, result, 0, 0); /* Go's encoder escapes <, > and & */
    k8c_sbuf_puts(&msg, "Invalid value: ");
    api_go_quote(&msg, val.len ? val.data : "", val.len);
    k8c_sbuf_printf(&msg, ": %s", err);
    api_field_errors_add(&errs, "FieldValueInvalid", "patch", msg.data);
    k8c_sbuf_reset(&msg);
    api_validate_format_message("", "", "", &errs, &msg);
    respond_status_details(req, 422, "Invalid", msg.data, &errs, &bare);
    api_field_errors_free(&errs);
    k8c_sbuf_free(&msg);
    k8c_sbuf_free(&val);
}

/* ======================= decoding request bodies ======================= */

static bool ctype_is(const char *ctype, const char *want)
{
    size_t n = strlen(want);
    return ctype != NULL && strncasecmp(ctype, want, n) == 0 &&
           (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/* fieldValidation: Strict (default for kubectl create/apply), Warn, Ignore. */
enum field_validation { FV_IGNORE, FV_WARN, FV_STRICT };

static enum field_validation field_validation(const struct api_req *req)
{
    char buf[16];
    const char *v = api_query(req, "fieldValidation", buf, sizeof(buf));
    if (v == NULL || strcasecmp(v, "Warn") == 0)
        return FV_WARN;
    if (strcasecmp(v, "Strict") == 0)
        return FV_STRICT;
    return FV_IGNORE;
}

/* The start of a body that could not be read as any kind, as upstream's summarizeData:
 * 30 bytes, as text when it looks like JSON, else in hex. */
static void body_summary(struct k8c_sbuf *out, const char *data, size_t len)
{
    size_t n = len < 30 ? len : 30;
    if (len == 0) {
        k8c_sbuf_puts(out, "<empty>");
        return;
    }
    if (data[0] == '{')
        k8c_sbuf_append(out, data, n);
    else
        for (size_t i = 0; i < n; i++)
            k8c_sbuf_printf(out, "%02x", (unsigned char)data[i]);
    if (len > n)
        k8c_sbuf_puts(out, " ...");
}

/* A body whose kind could not be read (transformDecodeError without a kind). */
static void respond_unrecognized(struct api_req *req, const char *want_kind, const char *why)
{
    struct k8c_sbuf msg;
    k8c_sbuf_init(&msg);
    k8c_sbuf_printf(&msg, "the object provided is unrecognized (must be of type %s): %s (",
                    want_kind, why);
    body_summary(&msg, req->body.data ? req->body.data : "", req->body.len);
    k8c_sbuf_puts(&msg, ")");
    api_respond_status(req, 400, "BadRequest", msg.data);
    k8c_sbuf_free(&msg);
}

/* The Go package of a kind's internal type, as conversion errors name it: core for the core
 * group (and events.k8s.io's Event, stored as core's), else the group's first label. */
static void internal_pkg(struct k8c_sbuf *out, const char *api_version, const char *kind)
{
    const char *slash = strchr(api_version, '/');
    size_t glen = slash ? (size_t)(slash - api_version) : 0;
    if (glen == 0 || (glen == 13 && strncmp(api_version, "events.k8s.io", 13) == 0 &&
                      strcmp(kind, "Event") == 0)) {
        k8c_sbuf_puts(out, "core");
        return;
    }
    const char *dot = memchr(api_version, '.', glen);
    k8c_sbuf_append(out, api_version, dot ? (size_t)(dot - api_version) : glen);
}

/*
 * Upstream reads a body's kind and apiVersion first (missing ones default to the endpoint's):
 * a kind the scheme does not have, one that does not convert to the endpoint's type, or
 * another version of it (AcceptsGroupVersion) is a 400. Answers and returns false then.
 */
static bool body_kind_fits(struct api_req *req, const char *want_av, const char *want_kind,
                           const char *av, const char *kind)
{
    if (kind[0] == '\0')
        kind = want_kind;
    if (av[0] == '\0')
        av = want_av;
    if (strcmp(kind, want_kind) == 0 && strcmp(av, want_av) == 0)
        return true;
    /* the eviction subresource takes policy/v1beta1's Eviction too (the same fields) */
    if (strcmp(want_kind, "Eviction") == 0 && strcmp(kind, "Eviction") == 0 &&
        strcmp(av, "policy/v1beta1") == 0)
        return true;
    const char *slash = strrchr(av, '/');
    const char *version = slash ? slash + 1 : av;
    struct k8c_sbuf msg, a, b;
    k8c_sbuf_init(&msg);
    k8c_sbuf_init(&a);
    k8c_sbuf_init(&b);
    internal_pkg(&a, av, kind);
    internal_pkg(&b, want_av, want_kind);
    if (k8c_codec_lookup_kind(av, kind) == NULL)
        k8c_sbuf_printf(&msg,
                        "%s in version \"%s\" cannot be handled as a %s: no kind \"%s\" is "
                        "registered for version \"%s\" in scheme "
                        "\"pkg/api/legacyscheme/scheme.go:30\"",
                        kind, version, want_kind, kind, av);
    else if (strcmp(kind, want_kind) != 0 || strcmp(a.data, b.data) != 0)
        k8c_sbuf_printf(&msg,
                        "%s in version \"%s\" cannot be handled as a %s: converting (%s.%s) to "
                        "(%s.%s): unknown conversion",
                        kind, version, want_kind, version, kind, b.data, want_kind);
    else
        k8c_sbuf_printf(&msg,
                        "the API version in the data (%s) does not match the expected API "
                        "version (%s)",
                        av, want_av);
    api_respond_status(req, 400, "BadRequest", msg.data);
    k8c_sbuf_free(&msg);
    k8c_sbuf_free(&a);
    k8c_sbuf_free(&b);
    return false;
}

/* Go's name of a JSON value's type in an unmarshal error. */
static const char *json_type_name(const char *body, size_t len, const char *key)
{
    /* only reached when the value of key is neither a string nor null */
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *tree = NULL;
    struct k8c_json_limits lim = {K8C_CODEC_MAX_INPUT, K8C_CODEC_MAX_DEPTH};
    char errmsg[K8C_ERRMSG_SIZE];
    const char *name = "number";
    if (k8c_json_parse(a, body, len, &lim, &tree, errmsg) == 0) {
        const struct k8c_json *v = k8c_json_get(tree, key);
        if (v != NULL)
            name = v->type == K8C_JSON_BOOL     ? "bool"
                   : v->type == K8C_JSON_OBJECT ? "object"
                   : v->type == K8C_JSON_ARRAY  ? "array"
                                                : "number";
    }
    k8c_arena_del(a);
    return name;
}

ProtobufCMessage *api_decode_body(struct api_req *req, const ProtobufCMessageDescriptor *desc)
{
    const char *ctype = k8c_http_stream_header(req->s, "content-type");
    struct k8c_codec_diag d;
    ProtobufCMessage *obj = NULL;
    int rc;
    enum field_validation fv = field_validation(req);
    bool json = false, typed = false; /* typed: the body's kind and apiVersion were read */
    char av[256] = "", kind[256] = "";
    const char *want_av = NULL, *want_kind = NULL;

    if (req->res != NULL && desc == req->res->desc) {
        want_av = req->res->api_version;
        want_kind = req->res->kind;
    } else {
        const struct k8c_codec_kind *k = k8c_codec_lookup_desc(desc);
        if (k != NULL) {
            want_av = k->api_version;
            want_kind = k->kind;
        }
    }
    /* the type named in errors: the endpoint's kind, or the message's name */
    const char *type_name = want_kind != NULL ? want_kind : desc->short_name;
    k8c_codec_diag_init(&d);
    d.ignore_fields = fv == FV_IGNORE;
    d.errors = K8C_CODEC_ERRORS_GO_JSON;
    if (ctype_is(ctype, "application/vnd.kubernetes.protobuf")) {
        struct k8c_codec_envelope env;
        if (k8c_codec_proto_unwrap((const uint8_t *)req->body.data, req->body.len, &env,
                                   d.errmsg) == 0) {
            typed = true;
            snprintf(av, sizeof(av), "%.*s",
                     (int)(env.api_version_len < 255 ? env.api_version_len : 255),
                     env.api_version ? env.api_version : "");
            snprintf(kind, sizeof(kind), "%.*s", (int)(env.kind_len < 255 ? env.kind_len : 255),
                     env.kind ? env.kind : "");
            rc = k8c_codec_proto_check_strings(desc, env.raw, env.raw_len, d.errmsg);
            if (rc == 0)
                rc = k8c_codec_proto_decode(desc, (const uint8_t *)req->body.data, req->body.len,
                                            NULL, &obj, d.errmsg);
        } else {
            /* as upstream's protobuf serializer words the first checks */
            const char *b = req->body.data ? req->body.data : "";
            size_t n = req->body.len;
            if (n == 0)
                k8c_errmsg_printf(d.errmsg, "empty data");
            else if (n < 4 || memcmp(b, "k8s\0", 4) != 0)
                k8c_errmsg_printf(d.errmsg, "provided data does not appear to be a protobuf "
                                            "message, expected prefix [107 56 115 0]");
            else if (n == 4)
                k8c_errmsg_printf(d.errmsg, "empty body");
            rc = K8C_EPROTO;
        }
    } else if (ctype_is(ctype, "application/yaml")) {
        struct k8c_arena *a = k8c_arena_new(0);
        struct k8c_json **docs;
        size_t ndocs;
        json = true;
        rc = k8c_codec_yaml_parse(a, req->body.data ? req->body.data : "", req->body.len, &docs,
                                  &ndocs, d.errmsg);
        if (rc == 0 && ndocs != 1) {
            rc = K8C_EINVAL;
            k8c_errmsg_printf(d.errmsg, "expected one YAML document, got %zu", ndocs);
        }
        if (rc == 0) {
            typed = true;
            rc = k8c_codec_tree_to_msg(desc, docs[0], NULL, &d, &obj);
        }
        k8c_arena_del(a);
    } else if (ctype == NULL || ctype_is(ctype, "application/json") || ctype_is(ctype, "*/*")) {
        json = true;
        rc = k8c_codec_json_decode(desc, req->body.data ? req->body.data : "", req->body.len, NULL,
                                   &d, &obj);
        typed = d.parsed;
    } else {
        api_respond_statusf(req, 415, "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media "
                            "types include: application/json, application/yaml, "
                            "application/vnd.kubernetes.protobuf");
        k8c_codec_diag_free(&d);
        return NULL;
    }
    if (typed && json) {
        if (d.has_kind < 0 || d.has_api_version < 0) {
            char why[160];
            const char *key = d.has_kind < 0 ? "kind" : "apiVersion";
            snprintf(why, sizeof(why),
                     "couldn't get version/kind; json parse error: json: cannot unmarshal %s into "
                     "Go struct field .%s of type string",
                     json_type_name(req->body.data ? req->body.data : "", req->body.len, key), key);
            respond_unrecognized(req, type_name, why);
            goto fail;
        }
        if (d.has_kind > 0)
            memcpy(kind, d.kind, sizeof(kind));
        if (d.has_api_version > 0)
            memcpy(av, d.api_version, sizeof(av));
    }
    if (typed && want_kind != NULL && !body_kind_fits(req, want_av, want_kind, av, kind))
        goto fail;
    if (rc != 0 && !typed) {
        char why[K8C_ERRMSG_SIZE + 64];
        /* Go's SyntaxError says no more than the reason */
        char *at = strstr(d.errmsg, " at offset ");
        if (json && at != NULL && rc == K8C_EPARSE)
            *at = '\0';
        snprintf(why, sizeof(why), "%s%s",
                 json ? "couldn't get version/kind; json parse error: " : "", d.errmsg);
        respond_unrecognized(req, type_name, why);
        goto fail;
    }
    if (rc != 0) {
        const char *k = kind[0] ? kind : type_name;
        const char *v = av[0] ? av : want_av ? want_av : "";
        const char *slash = strrchr(v, '/');
        api_respond_statusf(req, 400, "BadRequest",
                            "%s in version \"%s\" cannot be handled as a %s: %s", k,
                            slash ? slash + 1 : v, type_name, d.errmsg);
        goto fail;
    }
    if (d.n_warnings > 0 && fv == FV_STRICT) {
        struct k8c_sbuf msg;
        k8c_sbuf_init(&msg);
        if (req->res != NULL)
            k8c_sbuf_printf(&msg,
                            "%s in version \"%s\" cannot be handled as a %s: ", req->res->kind,
                            req->res->version, req->res->kind);
        k8c_sbuf_puts(&msg, "strict decoding error: ");
        for (size_t i = 0; i < d.n_warnings; i++)
            k8c_sbuf_printf(&msg, "%s%s", i ? ", " : "", d.warnings[i]);
        api_respond_status(req, 400, "BadRequest", msg.data);
        k8c_sbuf_free(&msg);
        api_obj_free(obj);
        k8c_codec_diag_free(&d);
        return NULL;
    }
    for (size_t i = 0; i < d.n_warnings; i++)
        api_req_warn(req, d.warnings[i]);
    k8c_codec_diag_free(&d);
    /* As upstream, the object passes through Go's types: zero values of
     * omitempty fields are gone. */
    k8c_codec_clear_go_zeros(obj, NULL);
    return obj;
fail:
    api_obj_free(obj);
    k8c_codec_diag_free(&d);
    return NULL;
}

/* ======================= get ======================= */

ProtobufCMessage *api_read_found(struct api_req *req, const struct api_etcd_result *res)
{
    ProtobufCMessage *obj;
    char errmsg[K8C_ERRMSG_SIZE];
    if (res->err != 0 || res->n == 0) {
        api_respond_store_error(req, res->err ? res->err : K8C_ENOTFOUND, res->errmsg);
        return NULL;
    }
    if (api_obj_decode_storage(req->res, res->kv->value, res->kv->value_len, res->kv->mod_revision,
                               &obj, errmsg) != 0) {
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: stored object: %s",
                            errmsg);
        return NULL;
    }
    return obj;
}

static void get_done(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    ProtobufCMessage *obj;
    if (!api_req_gone(req) && (obj = api_read_found(req, res)) != NULL) {
        api_respond_object(req, 200, obj);
        api_obj_free(obj);
    }
    api_req_unref(req);
}

static void do_get(struct api_req *req)
{
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, key, NULL, 0, 0, false, get_done, req);
}

/* ======================= list ======================= */

struct list_op {
    struct api_label_selector labels;
    struct api_field_selector fields;
    bool has_fields;
    int64_t limit;
    int64_t rev; /* from the continue token */
    char prefix[1024], end[1024], start[1024];
};

static const char *fs_str(const char *s)
{
    return s != NULL ? s : "";
}

static const char *fs_int(struct k8c_arena *a, long long x)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", x);
    return k8c_arena_strndup(a, buf, (size_t)n);
}

/* An event's object reference as field labels: labels[] names kind, namespace, name, uid,
 * apiVersion, resourceVersion and fieldPath under the API's prefix. */
static size_t object_ref_fields(const K8s__Io__Api__Core__V1__ObjectReference *r,
                                const char *const labels[7], struct api_field *out, size_t n,
                                size_t max)
{
    const char *const values[7] = {
        fs_str(r->kind),       fs_str(r->namespace_),      fs_str(r->name),     fs_str(r->uid),
        fs_str(r->apiversion), fs_str(r->resourceversion), fs_str(r->fieldpath)};
    for (size_t i = 0; i < 7 && n < max; i++)
        out[n++] = (struct api_field){labels[i], values[i]};
    return n;
}

/*
 * The fields a field selector can name in obj, with their values (upstream's per-kind
 * ToSelectableFields: metadata.name and metadata.namespace for every kind, plus a few per
 * kind, with Go's zero values: "false", "0"). The names are also the labels a field selector
 * may use on the kind (field_labels_supported). Values point into arena a or obj.
 */
static size_t object_fields(struct k8c_arena *a, const ProtobufCMessage *obj, struct api_field *out,
                            size_t max)
{
    const ProtobufCMessageDescriptor *d = obj->descriptor;
    const api_meta_t *m = api_obj_meta(obj);
    size_t n = 0;
#define FIELD(label, value)                                                                        \
    do {                                                                                           \
        if (n < max)                                                                               \
            out[n++] = (struct api_field){label, value};                                           \
    } while (0)

    FIELD("metadata.name", fs_str(m != NULL ? m->name : NULL));
    FIELD("metadata.namespace", fs_str(m != NULL ? m->namespace_ : NULL));
    if (d == &k8s__io__api__core__v1__pod__descriptor) {
        const K8s__Io__Api__Core__V1__Pod *p = (const K8s__Io__Api__Core__V1__Pod *)obj;
        static const K8s__Io__Api__Core__V1__PodSpec no_spec =
            K8S__IO__API__CORE__V1__POD_SPEC__INIT;
        static const K8s__Io__Api__Core__V1__PodStatus no_status =
            K8S__IO__API__CORE__V1__POD_STATUS__INIT;
        const K8s__Io__Api__Core__V1__PodSpec *sp = p->spec != NULL ? p->spec : &no_spec;
        const K8s__Io__Api__Core__V1__PodStatus *st = p->status != NULL ? p->status : &no_status;
        FIELD("spec.nodeName", fs_str(sp->nodename));
        FIELD("spec.restartPolicy", fs_str(sp->restartpolicy));
        FIELD("spec.schedulerName", fs_str(sp->schedulername));
        FIELD("spec.serviceAccountName", fs_str(sp->serviceaccountname));
        FIELD("spec.hostNetwork", sp->hostnetwork ? "true" : "false");
        FIELD("status.phase", fs_str(st->phase));
        /* the first of podIPs (which status.podIP stands for when they are missing) */
        FIELD("status.podIP", st->n_podips > 0 ? fs_str(st->podips[0]->ip) : fs_str(st->podip));
        FIELD("status.nominatedNodeName", fs_str(st->nominatednodename));
    } else if (d == &k8s__io__api__core__v1__event__descriptor) {
        const K8s__Io__Api__Core__V1__Event *e = (const K8s__Io__Api__Core__V1__Event *)obj;
        static const K8s__Io__Api__Core__V1__ObjectReference no_ref =
            K8S__IO__API__CORE__V1__OBJECT_REFERENCE__INIT;
        const K8s__Io__Api__Core__V1__ObjectReference *io =
            e->involvedobject != NULL ? e->involvedobject : &no_ref;
        const char *source = e->source != NULL ? fs_str(e->source->component) : "";
        static const char *const labels[7] = {
            "involvedObject.kind",       "involvedObject.namespace",
            "involvedObject.name",       "involvedObject.uid",
            "involvedObject.apiVersion", "involvedObject.resourceVersion",
            "involvedObject.fieldPath"};
        n = object_ref_fields(io, labels, out, n, max);
        FIELD("reason", fs_str(e->reason));
        FIELD("reportingComponent", fs_str(e->reportingcomponent));
        FIELD("source", source[0] != '\0' ? source : fs_str(e->reportingcomponent));
        FIELD("type", fs_str(e->type));
    } else if (d == &k8s__io__api__events__v1__event__descriptor) {
        /* events.k8s.io/v1's labels (upstream maps them onto the core ones) */
        const K8s__Io__Api__Events__V1__Event *e = (const K8s__Io__Api__Events__V1__Event *)obj;
        static const K8s__Io__Api__Core__V1__ObjectReference no_ref =
            K8S__IO__API__CORE__V1__OBJECT_REFERENCE__INIT;
        const K8s__Io__Api__Core__V1__ObjectReference *re =
            e->regarding != NULL ? e->regarding : &no_ref;
        FIELD("reason", fs_str(e->reason));
        static const char *const labels[7] = {"regarding.kind",       "regarding.namespace",
                                              "regarding.name",       "regarding.uid",
                                              "regarding.apiVersion", "regarding.resourceVersion",
                                              "regarding.fieldPath"};
        n = object_ref_fields(re, labels, out, n, max);
        FIELD("reportingController", fs_str(e->reportingcontroller));
        FIELD("type", fs_str(e->type));
    } else if (d == &k8s__io__api__core__v1__node__descriptor) {
        const K8s__Io__Api__Core__V1__Node *no = (const K8s__Io__Api__Core__V1__Node *)obj;
        FIELD("spec.unschedulable", no->spec != NULL && no->spec->unschedulable ? "true" : "false");
    } else if (d == &k8s__io__api__core__v1__secret__descriptor) {
        FIELD("type", fs_str(((const K8s__Io__Api__Core__V1__Secret *)obj)->type));
    } else if (d == &k8s__io__api__core__v1__namespace__descriptor) {
        const K8s__Io__Api__Core__V1__Namespace *ns =
            (const K8s__Io__Api__Core__V1__Namespace *)obj;
        FIELD("status.phase", ns->status != NULL ? fs_str(ns->status->phase) : "");
    } else if (d == &k8s__io__api__core__v1__replication_controller__descriptor) {
        const K8s__Io__Api__Core__V1__ReplicationController *rc =
            (const K8s__Io__Api__Core__V1__ReplicationController *)obj;
        FIELD("status.replicas", fs_int(a, rc->status != NULL ? rc->status->replicas : 0));
    } else if (d == &k8s__io__api__apps__v1__replica_set__descriptor) {
        const K8s__Io__Api__Apps__V1__ReplicaSet *rs =
            (const K8s__Io__Api__Apps__V1__ReplicaSet *)obj;
        FIELD("status.replicas", fs_int(a, rs->status != NULL ? rs->status->replicas : 0));
    } else if (d == &k8s__io__api__batch__v1__job__descriptor) {
        const K8s__Io__Api__Batch__V1__Job *j = (const K8s__Io__Api__Batch__V1__Job *)obj;
        FIELD("status.successful", fs_int(a, j->status != NULL ? j->status->succeeded : 0));
    }
#undef FIELD
    return n;
}

/* The field labels r's objects have (object_fields of an empty one) support every requirement
 * of sel; else "field label not supported: <label>" in errmsg. */
static int field_labels_supported(const struct api_resource *r,
                                  const struct api_field_selector *sel, char *errmsg)
{
    ProtobufCMessage *blank = k8c_malloc(r->desc->sizeof_message);
    struct k8c_arena *a = k8c_arena_new(0);
    struct api_field f[API_MAX_OBJECT_FIELDS];
    const char *labels[API_MAX_OBJECT_FIELDS];

    protobuf_c_message_init(r->desc, blank);
    size_t n = object_fields(a, blank, f, API_MAX_OBJECT_FIELDS);
    for (size_t i = 0; i < n; i++)
        labels[i] = f[i].name;
    int rc = api_fields_check_supported(sel, labels, n, errmsg);
    k8c_arena_del(a);
    k8c_free(blank);
    return rc;
}

size_t api_object_fields(struct k8c_arena *a, const ProtobufCMessage *obj, struct api_field *out,
                         size_t max)
{
    return object_fields(a, obj, out, max);
}

bool api_object_matches(const struct api_label_selector *labels,
                        const struct api_field_selector *fields, bool has_fields,
                        const ProtobufCMessage *obj)
{
    if (!api_labels_empty(labels) && !api_labels_matches_meta(labels, api_obj_meta(obj)))
        return false;
    if (has_fields) {
        struct k8c_arena *a = k8c_arena_new(0);
        struct api_field f[API_MAX_OBJECT_FIELDS];
        size_t n = object_fields(a, obj, f, API_MAX_OBJECT_FIELDS);
        bool ok = api_fields_matches(fields, f, n);
        k8c_arena_del(a);
        return ok;
    }
    return true;
}

static bool list_match(struct list_op *op, const struct api_resource *r, ProtobufCMessage *obj)
{
    (void)r;
    return api_object_matches(&op->labels, &op->fields, op->has_fields, obj);
}

static void continue_token(const struct api_server *srv, int64_t rev, const char *last_key,
                           char *out, size_t size)
{
    struct k8c_sbuf json, b64;
    const char *rel = last_key + strlen(srv->prefix) + 1;
    k8c_sbuf_init(&json);
    k8c_sbuf_init(&b64);
    k8c_sbuf_printf(&json, "{\"v\":\"meta.k8s.io/v1\",\"rv\":%lld,\"start\":", (long long)rev);
    struct k8c_sbuf start;
    k8c_sbuf_init(&start);
    k8c_sbuf_puts(&start, rel);
    k8c_sbuf_putc(&start, '\0');
    k8c_json_write_string(&json, start.data, start.len, 0);
    k8c_sbuf_putc(&json, '}');
    k8c_base64_encode(&b64, (const uint8_t *)json.data, json.len);
    snprintf(out, size, "%s", b64.data ? b64.data : "");
    k8c_sbuf_free(&start);
    k8c_sbuf_free(&json);
    k8c_sbuf_free(&b64);
}

/* Parses a continue token into the revision and the start key. */
static bool parse_continue(const struct api_server *srv, const char *token, int64_t *rev,
                           char *start, size_t size)
{
    size_t len = strlen(token);
    if (len > 4096)
        return false;
    uint8_t *raw = k8c_malloc(len + 4);
    long n = k8c_base64_decode(raw, token, len);
    bool ok = false;
    if (n > 0) {
        struct k8c_arena *a = k8c_arena_new(0);
        struct k8c_json *t;
        if (k8c_json_parse(a, (const char *)raw, (size_t)n, NULL, &t, NULL) == 0 &&
            t->type == K8C_JSON_OBJECT) {
            struct k8c_json *jrv = k8c_json_get(t, "rv"), *js = k8c_json_get(t, "start");
            if (jrv != NULL && js != NULL && js->type == K8C_JSON_STRING &&
                k8c_json_get_int64(jrv, rev) == 0 && *rev > 0 && js->len > 0) {
                /* start is relative to the prefix and ends with "\0" */
                snprintf(start, size, "%s/%.*s", srv->prefix, (int)(js->len - 1), js->u.str);
                ok = strlen(start) + 1 < size;
            }
        }
        k8c_arena_del(a);
    }
    k8c_free(raw);
    return ok;
}

static void list_op_free(struct list_op *op)
{
    api_labels_free(&op->labels);
    if (op->has_fields)
        api_fields_free(&op->fields);
    k8c_free(op);
}

static void list_done(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct list_op *op = req->op;
    req->op = NULL;
    if (api_req_gone(req))
        goto out;
    if (res->err != 0) {
        if (res->err == K8C_ETCD_COMPACTED && op->rev > 0)
            api_respond_status(req, 410, "Expired",
                               "The provided continue parameter is too old to display a "
                               "consistent list result. You can start a new list without the "
                               "continue parameter, or use the continue token in this response "
                               "to retrieve the remainder of the results. Continuing with the "
                               "provided token results in an inconsistent list - objects that "
                               "were created, modified, or deleted between the time the first "
                               "chunk was returned and now may show up in the list.");
        else
            api_respond_store_error(req, res->err, res->errmsg);
        goto out;
    }
    int64_t rev = op->rev > 0 ? op->rev : res->rev;
    ProtobufCMessage **items = k8c_calloc(res->n ? res->n : 1, sizeof(*items));
    size_t n = 0;
    const char *last_key = NULL;
    bool more = false;
    for (size_t i = 0; i < res->n; i++) {
        ProtobufCMessage *obj;
        char errmsg[K8C_ERRMSG_SIZE];
        if (op->limit > 0 && (int64_t)n >= op->limit) {
            more = true;
            break;
        }
        if (api_obj_decode_storage(req->res, res->kvs[i].value, res->kvs[i].value_len,
                                   res->kvs[i].mod_revision, &obj, errmsg) != 0) {
            k8c_log_error("undecodable object in the store key=%.*s err=%s",
                          (int)res->kvs[i].key_len, res->kvs[i].key, errmsg);
            continue;
        }
        if (!list_match(op, req->res, obj)) {
            api_obj_free(obj);
            continue;
        }
        items[n++] = obj;
        last_key = res->kvs[i].key;
        /* keys are not NUL-terminated: copy the last one */
        snprintf(op->start, sizeof(op->start), "%.*s", (int)res->kvs[i].key_len, last_key);
    }
    if (res->more && op->limit > 0 && !more && (int64_t)n >= op->limit)
        more = true;
    char rvbuf[24], cont[2048] = "";
    snprintf(rvbuf, sizeof(rvbuf), "%lld", (long long)rev);
    if (more && n > 0)
        continue_token(req->srv, rev, op->start, cont, sizeof(cont));
    int64_t remaining = 0;
    if (more && api_labels_empty(&op->labels) && !op->has_fields)
        remaining = res->count - (int64_t)n;
    api_respond_items(req, items, n, rvbuf, cont, remaining > 0 ? remaining : 0);
    for (size_t i = 0; i < n; i++)
        api_obj_free(items[i]);
    k8c_free(items);
out:
    list_op_free(op);
    api_req_unref(req);
}

/* Parses labelSelector and fieldSelector into op; answers 400 on error. */
bool api_parse_selectors(struct api_req *req, struct api_label_selector *labels,
                         struct api_field_selector *fields, bool *has_fields)
{
    char buf[8192], errmsg[K8C_ERRMSG_SIZE];
    const char *ls = api_query(req, "labelSelector", buf, sizeof(buf));
    api_labels_init(labels);
    *has_fields = false;
    if (ls != NULL && api_labels_parse(ls, strlen(ls), labels, errmsg) != 0) {
        api_respond_status(req, 400, "BadRequest", errmsg);
        return false;
    }
    const char *fs = api_query(req, "fieldSelector", buf, sizeof(buf));
    if (fs != NULL && fs[0] != '\0') {
        if (api_fields_parse(fs, strlen(fs), fields, errmsg) != 0) {
            api_respond_status(req, 400, "BadRequest", errmsg);
            api_labels_free(labels);
            return false;
        }
        *has_fields = true;
        if (field_labels_supported(req->res, fields, errmsg) != 0) {
            api_respond_status(req, 400, "BadRequest", errmsg);
            api_labels_free(labels);
            api_fields_free(fields);
            *has_fields = false;
            return false;
        }
    }
    return true;
}

/* ======================= list options ======================= */

/* Go's strconv.ParseInt (is_signed) or ParseUint of s in base 10: NULL when
 * it parses, else its error's reason; like Go, a value that overflows is
 * "value out of range" as soon as it does. */
static const char *go_parse_int(const char *s, bool is_signed)
{
    const char *p = s;
    bool neg = false;
    uint64_t v = 0;

    if (is_signed && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    if (*p == '\0')
        return "invalid syntax";
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return "invalid syntax";
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return "value out of range";
        v = v * 10 + d;
    }
    if (is_signed && v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return "value out of range";
    return NULL;
}

/* "strconv.ParseInt: parsing \"<s>\": <why>" into out. */
static void go_parse_error(struct k8c_sbuf *out, bool is_signed, const char *s, const char *why)
{
    k8c_sbuf_printf(out, "strconv.%s: parsing ", is_signed ? "ParseInt" : "ParseUint");
    api_go_quote(out, s, strlen(s));
    k8c_sbuf_printf(out, ": %s", why);
}

/* field.NotSupported on resourceVersionMatch (msg is scratch space). */
static void add_unsupported_match(struct api_field_errors *errs, struct k8c_sbuf *msg,
                                  const char *m, const char *supported)
{
    k8c_sbuf_reset(msg);
    k8c_sbuf_puts(msg, "Unsupported value: ");
    api_go_quote(msg, m, strlen(m));
    k8c_sbuf_puts(msg, supported);
    api_field_errors_add(errs, "FieldValueNotSupported", "resourceVersionMatch", msg->data);
}

/*
 * Upstream's checks of a list's or watch's options before anything is read,
 * in its order: decoding the query into ListOptions (limit, timeoutSeconds:
 * 400), ValidateListOptions (422 on ListOptions.meta.k8s.io), then the
 * storage's parse of resourceVersion, whose error kube-apiserver 1.32
 * answers as a 500 without a reason. A get checks resourceVersion only.
 * Answers and returns false when one fails.
 */
static bool read_options_valid(struct api_req *req)
{
    bool list = req->verb == VERB_LIST, watch = req->verb == VERB_WATCH;
    char buf[256], rv[256], match[256], cont[4096];
    struct k8c_sbuf msg;
    const char *v, *why;
    bool ok = true;

    k8c_sbuf_init(&msg);
    if (list || watch) {
        static const char *const ints[] = {"limit", "timeoutSeconds"};
        for (size_t i = 0; i < 2 && ok; i++) {
            if ((v = api_query(req, ints[i], buf, sizeof(buf))) != NULL &&
                (why = go_parse_int(v, true)) != NULL) {
                go_parse_error(&msg, true, v, why);
                api_respond_status(req, 400, "BadRequest", msg.data);
                ok = false;
            }
        }
    }
    int sie = (list || watch) ? api_send_initial_events(req) : -1;
    if (ok && sie == -2) {
        /* as strconv.ParseBool, when the query is decoded */
        k8c_sbuf_reset(&msg);
        k8c_sbuf_puts(&msg, "strconv.ParseBool: parsing ");
        v = api_query(req, "sendInitialEvents", buf, sizeof(buf));
        api_go_quote(&msg, v, strlen(v));
        k8c_sbuf_puts(&msg, ": invalid syntax");
        api_respond_status(req, 400, "BadRequest", msg.data);
        ok = false;
    }
    const char *r = api_query(req, "resourceVersion", rv, sizeof(rv));
    const char *m =
        (list || watch) ? api_query(req, "resourceVersionMatch", match, sizeof(match)) : NULL;
    const char *c = api_query(req, "continue", cont, sizeof(cont));
    bool has_rv = r != NULL && r[0] != '\0', has_match = m != NULL && m[0] != '\0';
    bool has_cont = c != NULL && c[0] != '\0';
    if (ok && (has_match || sie >= 0)) {
        struct api_field_errors errs;
        api_field_errors_init(&errs);
        /* ValidateListOptions (WatchList on, as in 1.32), in its order */
        static const char unsupported_watch[] = ": supported values: \"NotOlderThan\"";
        static const char unsupported_list[] =
            ": supported values: \"Exact\", \"NotOlderThan\", \"\"";
        bool not_older = has_match && strcmp(m, "NotOlderThan") == 0;
        if (watch) {
            if (sie >= 0 && !not_older)
                api_field_errors_add(&errs, "FieldValueForbidden", "resourceVersionMatch",
                                     "Forbidden: sendInitialEvents requires setting "
                                     "resourceVersionMatch to NotOlderThan");
            if (has_match && sie < 0)
                api_field_errors_add(&errs, "FieldValueForbidden", "resourceVersionMatch",
                                     "Forbidden: resourceVersionMatch is forbidden for watch "
                                     "unless sendInitialEvents is provided");
            if (has_match && !not_older)
                add_unsupported_match(&errs, &msg, m, unsupported_watch);
            if (has_match && has_cont)
                api_field_errors_add(
                    &errs, "FieldValueForbidden", "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden when continue is provided");
        } else {
            if (has_match && !has_rv)
                api_field_errors_add(&errs, "FieldValueForbidden", "resourceVersionMatch",
                                     "Forbidden: resourceVersionMatch is forbidden unless "
                                     "resourceVersion is provided");
            if (has_match && has_cont)
                api_field_errors_add(
                    &errs, "FieldValueForbidden", "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden when continue is provided");
            if (has_match && !not_older && strcmp(m, "Exact") != 0)
                add_unsupported_match(&errs, &msg, m, unsupported_list);
            if (has_match && strcmp(m, "Exact") == 0 && strcmp(r != NULL ? r : "", "0") == 0)
                api_field_errors_add(&errs, "FieldValueForbidden", "resourceVersionMatch",
                                     "Forbidden: resourceVersionMatch \"exact\" is forbidden for "
                                     "resourceVersion \"0\"");
            if (sie >= 0)
                api_field_errors_add(&errs, "FieldValueForbidden", "sendInitialEvents",
                                     "Forbidden: sendInitialEvents is forbidden for list");
        }
        if (errs.n > 0) {
            static const struct status_subject subject = {"ListOptions", "meta.k8s.io"};
            k8c_sbuf_reset(&msg);
            api_validate_format_message(subject.kind, subject.group, "", &errs, &msg);
            respond_status_details(req, 422, "Invalid", msg.data, &errs, &subject);
            ok = false;
        }
        api_field_errors_free(&errs);
    }
    if (ok && has_rv && strcmp(r, "0") != 0 && (why = go_parse_int(r, false)) != NULL) {
        k8c_sbuf_reset(&msg);
        k8c_sbuf_puts(&msg, "resourceVersion: Invalid value: ");
        api_go_quote(&msg, r, strlen(r));
        k8c_sbuf_puts(&msg, ": ");
        go_parse_error(&msg, false, r, why);
        static const struct status_subject none = {NULL, NULL};
        respond_status_details(req, 500, NULL, msg.data, NULL, &none);
        ok = false;
    }
    k8c_sbuf_free(&msg);
    return ok;
}

static void do_list(struct api_req *req)
{
    struct list_op *op = K8C_NEW(struct list_op);
    char buf[4096];

    if (!api_parse_selectors(req, &op->labels, &op->fields, &op->has_fields)) {
        k8c_free(op);
        return;
    }
    const char *limit = api_query(req, "limit", buf, sizeof(buf));
    if (limit != NULL)
        op->limit = strtoll(limit, NULL, 10);
    if (op->limit < 0)
        op->limit = 0;
    api_key(req->srv, req->res, req->ns, "", op->prefix, sizeof(op->prefix));
    api_etcd_prefix_end(op->prefix, op->end, sizeof(op->end));
    snprintf(op->start, sizeof(op->start), "%s", op->prefix);
    const char *cont = api_query(req, "continue", buf, sizeof(buf));
    if (cont != NULL && cont[0] != '\0') {
        char start[1024];
        if (!parse_continue(req->srv, cont, &op->rev, start, sizeof(start)) ||
            strncmp(start, op->prefix, strlen(op->prefix)) != 0) {
            api_respond_status(req, 400, "BadRequest", "continue key is not valid");
            list_op_free(op);
            return;
        }
        /* continue after the last key returned: key + "\0" */
        snprintf(op->start, sizeof(op->start), "%s", start);
        size_t l = strlen(op->start);
        if (l + 2 < sizeof(op->start)) {
            op->start[l] = '\x01'; /* smallest byte after the key's terminator */
            op->start[l + 1] = '\0';
        }
    }
    req->op = op;
    api_req_ref(req);
    /* With selectors, read the whole range and filter (the limit applies to
     * matches); without, let the store apply the limit (+1 to know if more). */
    bool filtered = !api_labels_empty(&op->labels) || op->has_fields;
    int64_t store_limit = (op->limit > 0 && !filtered) ? op->limit + 1 : 0;
    api_etcd_range(req->srv->etcd, op->start, op->end, store_limit, op->rev, false, list_done, req);
}

/* ======================= writes ======================= */

/* Resources whose metadata.generation counts spec changes. */
static bool uses_generation(const struct api_resource *r)
{
    return api_obj_field_exists(r, "spec") && strcmp(r->resource, "pods") != 0 &&
           strcmp(r->resource, "nodes") != 0 && strcmp(r->resource, "namespaces") != 0 &&
           strcmp(r->resource, "services") != 0 && strcmp(r->resource, "persistentvolumes") != 0 &&
           strcmp(r->resource, "persistentvolumeclaims") != 0;
}

struct write_op {
    enum api_verb verb;
    ProtobufCMessage *current;   /* the stored object (update, patch, delete) */
    struct k8c_buf *current_raw; /* its bytes in the store (update, patch) */
    int64_t current_rev;
    bool delete_after; /* a delete that turned into an update (finalizers) */
    int code;          /* 200 or 201 */
    char patch_type[64];
    struct k8c_sbuf val; /* an event's encoded bytes while its lease is got */
    int64_t rev;         /* and the revision it replaces (0: create) */
};

static void write_op_free(struct write_op *w)
{
    if (w == NULL)
        return;
    api_obj_free(w->current);
    k8c_buf_unref(w->current_raw);
    k8c_free(w);
}

static void write_stored(void *arg, const struct api_etcd_result *res);
static void write_reread(struct api_req *req);
static void store_put(struct api_req *req, int64_t rev, struct k8c_sbuf *val, int64_t lease);
static void event_leased(void *arg, const struct api_etcd_result *res);
static void deleted(struct api_server *srv, const struct api_resource *r,
                    const ProtobufCMessage *obj);
static void delete_marked(struct api_server *srv, const struct api_resource *r, const char *ns,
                          const char *name, const api_meta_t *m);

/* An update took the last finalizer off an object being deleted: it is gone. */
static void finalized_deleted(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    if (res->err == 0)
        deleted(req->srv, req->res, req->obj);
    if (!api_req_gone(req)) {
        if (res->err != 0)
            api_respond_store_error(req, res->err, res->errmsg);
        else
            api_respond_object(req, 200, req->obj);
    }
    api_req_unref(req);
}

/* Stores req->obj (create when rev is 0, else compare-and-swap on rev). */
static void store_object(struct api_req *req, int64_t rev)
{
    struct k8c_sbuf val;
    char errmsg[K8C_ERRMSG_SIZE];
    struct write_op *w = req->op;
    k8c_sbuf_init(&val);
    if (api_obj_encode_storage(req->res, req->obj, &val, errmsg) != 0) {
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        k8c_sbuf_free(&val);
        return;
    }
    if (req->dry_run) {
        /* dryRun=All: everything but the store write */
        api_respond_object(req, w->code, req->obj);
        k8c_sbuf_free(&val);
        return;
    }
    /* Upstream: an object marked for deletion goes with its last finalizer
     * (pods once their grace period is over). */
    api_meta_t *m = api_obj_meta(req->obj);
    if (rev != 0 && (w->verb == VERB_UPDATE || w->verb == VERB_PATCH) && m != NULL &&
        m->deletiontimestamp != NULL && m->n_finalizers == 0 &&
        !(m->has_deletiongraceperiodseconds && m->deletiongraceperiodseconds > 0) &&
        (!(req->res->subresources & API_SUB_FINALIZE) || api_namespace_finalized(req->obj))) {
        /* (a namespace also waits for its spec.finalizers: ShouldDeleteNamespaceDuringUpdate) */
        api_req_ref(req);
        api_etcd_delete(req->srv->etcd, req->key, rev, finalized_deleted, req);
        k8c_sbuf_free(&val);
        return;
    }
    /* Upstream's store skips an update whose bytes are those it holds: no write, no new
     * resourceVersion, no watch event (a controller's no-op update stays one) */
    if (rev != 0 && rev == w->current_rev && w->current != NULL && w->current_raw != NULL &&
        (w->verb == VERB_UPDATE || w->verb == VERB_PATCH) && w->current_raw->len == val.len &&
        memcmp(w->current_raw->data, val.data, val.len) == 0) {
        api_respond_object(req, 200, w->current);
        k8c_sbuf_free(&val);
        return;
    }
    if (strcmp(req->res->resource, "events") == 0) {
        /* Events expire (--event-ttl, 1 h) with a store lease shared by the events of a minute,
         * as upstream's leaseManager shares them. */
        w->val = val;
        w->rev = rev;
        api_req_ref(req);
        api_etcd_lease_get(req->srv->etcd, req->srv->event_ttl_s, event_leased, req);
        return;
    }
    store_put(req, rev, &val, 0);
}

/* The store write of store_object, with a lease or 0; frees val. */
static void store_put(struct api_req *req, int64_t rev, struct k8c_sbuf *val, int64_t lease)
{
    api_req_ref(req);
    if (rev == 0)
        api_etcd_create(req->srv->etcd, req->key, (const uint8_t *)val->data, val->len, lease,
                        write_stored, req);
    else
        api_etcd_update(req->srv->etcd, req->key, (const uint8_t *)val->data, val->len, rev, lease,
                        write_stored, req);
    k8c_sbuf_free(val);
}

static void event_leased(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct write_op *w = req->op;
    if (api_req_gone(req))
        k8c_sbuf_free(&w->val);
    else if (res->err != 0) {
        k8c_sbuf_free(&w->val);
        api_respond_store_error(req, res->err, res->errmsg);
    } else
        store_put(req, w->rev, &w->val, res->rev);
    api_req_unref(req);
}

/* upstream's create on AlreadyExists: CheckGeneratedNameError makes a generated name's
 * collision the server's failure (retry after 1 s), and the message says so when the object
 * in the way is being deleted. */
static void respond_exists(struct api_req *req, const struct api_etcd_kv *kv)
{
    char q[128], msg[1024];
    int n = 0;
    ProtobufCMessage *cur = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    api_qualified(req->res, q, sizeof(q));
    if (kv != NULL && api_obj_decode_storage(req->res, kv->value, kv->value_len, kv->mod_revision,
                                             &cur, errmsg) == 0) {
        const api_meta_t *m = api_obj_meta(cur);
        if (m != NULL && m->deletiontimestamp != NULL)
            n = snprintf(msg, sizeof(msg), "object is being deleted: ");
        api_obj_free(cur);
    }
    if (!req->generated_name) {
        snprintf(msg + n, sizeof(msg) - (size_t)n, "%s \"%s\" already exists", q, req->name);
        api_respond_status(req, 409, "AlreadyExists", msg);
        return;
    }
    snprintf(msg + n, sizeof(msg) - (size_t)n,
             "%s \"%s\" already exists, the server was not able to generate a unique name for "
             "the object",
             q, req->name);
    struct status_subject subject = {req->res->resource, req->res->group, .retry_after = 1};
    respond_status_details(req, 409, "AlreadyExists", msg, NULL, &subject);
}

/* upstream's maxNameGenerationCreateAttempts (createWithGenerateNameRetry, RetryGenerateName:
 * GA in 1.32): a create whose generated name is taken tries another, 8 times in all */
#define GENERATE_NAME_ATTEMPTS 8

static void retry_generated_name(struct api_req *req)
{
    api_meta_t *m = api_obj_meta(req->obj);
    char name[256], key[1024];
    api_generate_name(m->generatename, name, sizeof(name));
    api_set_str(&m->name, name);
    snprintf(req->name, sizeof(req->name), "%s", name);
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    k8c_free(req->key);
    req->key = k8c_strdup(key);
    store_object(req, 0); /* a service keeps the IPs and ports allocated for it */
}

static void write_stored(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct write_op *w = req->op;
    if (api_req_gone(req)) {
        api_req_unref(req);
        return;
    }
    bool service = strcmp(req->res->resource, "services") == 0 && req->sub[0] == '\0';
    bool updated = w->verb == VERB_UPDATE || w->verb == VERB_PATCH;
    if (res->err != 0 && service && updated && w->current != NULL)
        api_alloc_release_unused(req->srv, req->obj, w->current); /* this attempt's, if any */
    if (res->err == K8C_ECONFLICT && w->verb != VERB_CREATE && req->rv == 0 &&
        ++req->attempts < MAX_WRITE_ATTEMPTS) {
        /* Lost a race and the client set no precondition: read again. */
        write_reread(req);
        api_req_unref(req);
        return;
    }
    if (res->err == K8C_EEXIST && w->verb == VERB_CREATE && req->generated_name &&
        ++req->attempts < GENERATE_NAME_ATTEMPTS) {
        retry_generated_name(req);
        api_req_unref(req);
        return;
    }
    if (res->err != 0) {
        if (w->verb == VERB_CREATE && service)
            api_alloc_release_service(req->srv, req->obj);
        if (res->err == K8C_EEXIST && w->verb == VERB_CREATE)
            respond_exists(req, res->kv);
        else
            api_respond_store_error(req, res->err, res->errmsg);
        api_req_unref(req);
        return;
    }
    if (service && updated && w->current != NULL)
        api_alloc_release_unused(req->srv, w->current, req->obj); /* what the update gave up */
    api_meta_t *m = api_obj_meta(req->obj);
    if (m != NULL) {
        char rv[24];
        snprintf(rv, sizeof(rv), "%lld", (long long)res->rev);
        api_set_str(&m->resourceversion, rv);
    }
    api_respond_object(req, w->code, req->obj);
    if (w->verb == VERB_DELETE && m != NULL)
        delete_marked(req->srv, req->res, req->ns, req->name, m);
    api_req_unref(req);
}

/* Server-owned metadata on create. */
static void prepare_create(struct api_req *req, api_meta_t *m)
{
    char uid[37];
    api_uuid(uid);
    api_set_str(&m->uid, uid);
    api_set_str(&m->resourceversion, NULL);
    if (m->creationtimestamp != NULL)
        api_obj_free(&m->creationtimestamp->base);
    m->creationtimestamp = api_time_new(api_now());
    if (m->deletiontimestamp != NULL) {
        api_obj_free(&m->deletiontimestamp->base);
        m->deletiontimestamp = NULL;
    }
    m->has_deletiongraceperiodseconds = false;
    if (uses_generation(req->res)) {
        m->has_generation = true;
        m->generation = 1;
    } else {
        m->has_generation = false;
    }
    api_set_str(&m->selflink, NULL);
}

/* The request's status into the copy of the stored object (replacing the copy's). */
static void move_status(ProtobufCMessage *from, ProtobufCMessage *to)
{
    ProtobufCMessage **src = api_obj_field(from, "status"), **dst = api_obj_field(to, "status");
    ProtobufCMessage *status = src ? *src : NULL;
    if (src)
        *src = NULL;
    if (dst != NULL) {
        api_obj_free(*dst);
        *dst = status;
    } else {
        api_obj_free(status);
    }
}

/* The request's spec.ephemeralContainers into the copy of the stored pod. */
static void move_ephemeral_containers(ProtobufCMessage *from, ProtobufCMessage *to)
{
    K8s__Io__Api__Core__V1__Pod *pod = (K8s__Io__Api__Core__V1__Pod *)from;
    K8s__Io__Api__Core__V1__Pod *copy = (K8s__Io__Api__Core__V1__Pod *)to;
    if (copy->spec == NULL) {
        copy->spec = k8c_calloc(1, sizeof(*copy->spec));
        k8s__io__api__core__v1__pod_spec__init(copy->spec);
    }
    for (size_t i = 0; i < copy->spec->n_ephemeralcontainers; i++)
        api_obj_free(&copy->spec->ephemeralcontainers[i]->base);
    k8c_free(copy->spec->ephemeralcontainers);
    copy->spec->ephemeralcontainers = NULL;
    copy->spec->n_ephemeralcontainers = 0;
    if (pod->spec != NULL) {
        copy->spec->ephemeralcontainers = pod->spec->ephemeralcontainers;
        copy->spec->n_ephemeralcontainers = pod->spec->n_ephemeralcontainers;
        pod->spec->ephemeralcontainers = NULL;
        pod->spec->n_ephemeralcontainers = 0;
    }
}

/*
 * An update through a subresource that changes one part of the object (status,
 * ephemeralcontainers): req->obj becomes the stored object old with that part moved over from
 * the request (move), keeping the client's metadata.resourceVersion precondition m.
 */
static void update_part(struct api_req *req, const api_meta_t *m, ProtobufCMessage *old,
                        void (*move)(ProtobufCMessage *from, ProtobufCMessage *to))
{
    ProtobufCMessage *copy = api_obj_copy(old);
    move(req->obj, copy);
    api_meta_t *cm = api_obj_meta(copy);
    if (cm != NULL)
        api_set_str(&cm->resourceversion, m->resourceversion);
    api_obj_free(req->obj); /* the caller's obj */
    req->obj = copy;
}

/* Carries server-owned fields of the stored object into an update. */
static void prepare_update(struct api_req *req, ProtobufCMessage *obj, ProtobufCMessage *old)
{
    api_meta_t *m = api_obj_meta_ensure(obj), *om = api_obj_meta(old);
    if (om == NULL)
        return;
    api_set_str(&m->uid, om->uid);
    if (m->creationtimestamp != NULL)
        api_obj_free(&m->creationtimestamp->base);
    m->creationtimestamp =
        om->creationtimestamp ? (api_time_t *)api_obj_copy(&om->creationtimestamp->base) : NULL;
    if (m->deletiontimestamp == NULL && om->deletiontimestamp != NULL) {
        m->deletiontimestamp = (api_time_t *)api_obj_copy(&om->deletiontimestamp->base);
        m->has_deletiongraceperiodseconds = om->has_deletiongraceperiodseconds;
        m->deletiongraceperiodseconds = om->deletiongraceperiodseconds;
    }
    api_set_str(&m->selflink, NULL);
    ProtobufCMessage **status = api_obj_field(obj, "status");
    ProtobufCMessage **old_status = api_obj_field(old, "status");
    ProtobufCMessage **spec = api_obj_field(obj, "spec");
    ProtobufCMessage **old_spec = api_obj_field(old, "spec");
    bool has_status_sub = (req->res->subresources & API_SUB_STATUS) != 0;
    if (strcmp(req->sub, "ephemeralcontainers") == 0) {
        /* upstream's dropNonEphemeralContainerUpdates */
        update_part(req, m, old, move_ephemeral_containers);
        return;
    }
    if (strcmp(req->sub, "status") == 0) {
        update_part(req, m, old, move_status);
        return;
    }
    if (has_status_sub && status != NULL && old_status != NULL) {
        /* The main resource ignores status changes (status subresource). */
        api_obj_free(*status);
        *status = api_obj_copy(*old_status);
    }
    if ((req->res->subresources & API_SUB_FINALIZE) && strcmp(req->sub, "finalize") != 0 &&
        spec != NULL) {
        /* a namespace's spec (its finalizers) changes through namespaces/finalize only */
        api_obj_free(*spec);
        *spec = old_spec != NULL && *old_spec != NULL ? api_obj_copy(*old_spec) : NULL;
    }
    if (strcmp(req->res->resource, "services") == 0 && req->sub[0] == '\0')
        api_service_prepare_update(obj, old);
    if (uses_generation(req->res)) {
        m->has_generation = true;
        m->generation = om->has_generation ? om->generation : 1;
        if (spec != NULL && old_spec != NULL && !api_obj_equal(*spec, *old_spec))
            m->generation++;
    }
}

static void track_fields(struct api_req *req, const ProtobufCMessage *old);

static void allocated(struct api_req *req, int code, const char *message)
{
    if (api_req_gone(req))
        return;
    if (code != 0) {
        api_respond_status(req, code, code == 422 ? "Invalid" : "InternalError", message);
        return;
    }
    store_object(req, req->store_rev);
}

struct admit_ctx {
    struct api_req *req;
    const ProtobufCMessage *old;
};

static void admission_warning(void *arg, const char *text)
{
    api_req_warn(((struct admit_ctx *)arg)->req, text);
}

/* The field manager's record of the request, before mutating admission (as upstream's) */
static ProtobufCMessage *admission_defaulted(void *arg, ProtobufCMessage *obj)
{
    struct admit_ctx *c = arg;
    (void)obj; /* req->obj: track_fields replaces it */
    if (!c->req->applied)
        track_fields(c->req, c->old);
    return c->req->obj;
}

/* Admission, service IP/port allocation, then the store. */
static void write_admit_and_store(struct api_req *req, ProtobufCMessage *old, int64_t rev)
{
    char errmsg[4096];
    struct api_field_errors errs;
    api_field_errors_init(&errs);
    struct admit_ctx ctx = {req, old};
    const struct api_admit_hooks hooks = {admission_defaulted, admission_warning, &ctx};
    int code = api_admit(req->srv, req->res, req->verb, req->sub, req->obj, old, &errs, &hooks,
                         errmsg, sizeof(errmsg));
    if (code == 403) { /* admission: details name the resource, as upstream's NewForbidden */
        const api_meta_t *m = api_obj_meta(req->obj);
        struct status_subject subject = {req->res->resource, req->res->group};
        if (req->name[0] == '\0' && m != NULL && m->name != NULL)
            snprintf(req->name, sizeof(req->name), "%s", m->name);
        respond_status_details(req, 403, "Forbidden", errmsg, NULL, &subject);
        api_field_errors_free(&errs);
        return;
    }
    if (code != 0) {
        respond_status_causes(req, code,
                              code == 422   ? "Invalid"
                              : code == 500 ? "InternalError"
                                            : "BadRequest",
                              errmsg, &errs);
        api_field_errors_free(&errs);
        return;
    }
    api_field_errors_free(&errs);
    req->store_rev = rev;
    if (strcmp(req->res->resource, "services") == 0 && req->verb != VERB_DELETE &&
        strcmp(req->sub, "status") != 0) {
        api_alloc_service(req, req->obj, old, req->dry_run, allocated);
        return;
    }
    store_object(req, rev);
}

static void create_body(struct api_req *req)
{
    char errmsg[K8C_ERRMSG_SIZE];
    req->obj = api_decode_body(req, req->res->desc);
    if (req->obj == NULL)
        return;
    api_meta_t *m = api_obj_meta_ensure(req->obj);
    if (req->res->namespaced) {
        if (m->namespace_ != NULL && m->namespace_[0] != '\0' &&
            strcmp(m->namespace_, req->ns) != 0) {
            api_respond_status(req, 400, "BadRequest",
                               "the namespace of the provided object does not match the namespace "
                               "sent on the request");
            return;
        }
        api_set_str(&m->namespace_, req->ns);
    } else {
        api_set_str(&m->namespace_, NULL);
    }
    if ((m->name == NULL || m->name[0] == '\0') && m->generatename != NULL &&
        m->generatename[0] != '\0') {
        char name[256];
        api_generate_name(m->generatename, name, sizeof(name));
        api_set_str(&m->name, name);
        req->generated_name = true;
    }
    if (m->name == NULL || m->name[0] == '\0') {
        /* ValidateObjectMeta's, as NewInvalid answers it ("ConfigMap", "Deployment.apps") */
        struct api_field_errors errs;
        api_field_errors_init(&errs);
        api_field_errors_add(&errs, "FieldValueRequired", "metadata.name",
                             "Required value: name or generateName is required");
        api_respond_invalid(req, req->res->kind, req->res->group, "", &errs);
        api_field_errors_free(&errs);
        return;
    }
    snprintf(req->name, sizeof(req->name), "%s", m->name);
    prepare_create(req, m);
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    req->key = k8c_strdup(key);
    struct write_op *w = K8C_NEW(struct write_op);
    w->verb = VERB_CREATE;
    w->code = 201;
    req->op = w;
    req->op_free = (void (*)(void *))write_op_free;
    (void)errmsg;
    write_admit_and_store(req, NULL, 0);
}

/* update and patch: the stored object arrived. */
static void apply_update(struct api_req *req, ProtobufCMessage *current, int64_t current_rev);

struct group_resource {
    const char *group, *resource;
};

static bool group_resource_in(const struct api_resource *r, const struct group_resource *set)
{
    for (; set->resource != NULL; set++)
        if (strcmp(r->group, set->group) == 0 && strcmp(r->resource, set->resource) == 0)
            return true;
    return false;
}

/* Upstream's strategies whose AllowUnconditionalUpdate is false: an update without a
 * resourceVersion is refused rather than applied to whatever is stored. */
static bool conditional_update_only(const struct api_resource *r)
{
    static const struct group_resource set[] = {{"policy", "poddisruptionbudgets"},
                                                {"coordination.k8s.io", "leases"},
                                                {"node.k8s.io", "runtimeclasses"},
                                                {"storage.k8s.io", "csidrivers"},
                                                {"storage.k8s.io", "csinodes"},
                                                {"storage.k8s.io", "volumeattachments"},
                                                {"storage.k8s.io", "csistoragecapacities"},
                                                {NULL, NULL}};
    return group_resource_in(r, set);
}

/* AllowCreateOnUpdate: a PUT of an object that does not exist creates it. */
static bool creates_on_update(const struct api_resource *r)
{
    static const struct group_resource set[] = {
        {"", "services"},
        {"", "endpoints"},
        {"", "events"},
        {"events.k8s.io", "events"},
        {"", "limitranges"},
        {"rbac.authorization.k8s.io", "roles"},
        {"rbac.authorization.k8s.io", "rolebindings"},
        {"rbac.authorization.k8s.io", "clusterroles"},
        {"rbac.authorization.k8s.io", "clusterrolebindings"},
        {"coordination.k8s.io", "leases"},
        {"node.k8s.io", "runtimeclasses"},
        {NULL, NULL}};
    return group_resource_in(r, set);
}

/* A PUT of an object that does not exist, of a kind created so: the body is created. */
static void update_create(struct api_req *req)
{
    struct write_op *w = req->op;
    api_meta_t *m = api_obj_meta_ensure(req->obj);
    if (req->res->namespaced)
        api_set_str(&m->namespace_, req->ns);
    prepare_create(req, m);
    w->verb = VERB_CREATE;
    w->code = 201;
    req->verb = VERB_CREATE;
    write_admit_and_store(req, NULL, 0);
}

static void apply_create(struct api_req *req);

static void reread_done(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct write_op *w = req->op;
    if (api_req_gone(req))
        goto out;
    if (res->err != 0) {
        api_respond_store_error(req, res->err, res->errmsg);
        goto out;
    }
    if (res->n == 0) {
        if (w->verb == VERB_PATCH && strcmp(w->patch_type, "application/apply-patch+yaml") == 0)
            apply_create(req);
        else if (w->verb == VERB_UPDATE && req->sub[0] == '\0' && creates_on_update(req->res))
            update_create(req);
        else
            respond_not_found(req);
        goto out;
    }
    ProtobufCMessage *cur = api_read_found(req, res);
    if (cur == NULL)
        goto out;
    api_obj_free(w->current);
    w->current = cur;
    k8c_buf_unref(w->current_raw);
    w->current_raw = k8c_buf_copy(res->kv->value, res->kv->value_len);
    w->current_rev = res->kv->mod_revision;
    apply_update(req, cur, res->kv->mod_revision);
out:
    api_req_unref(req);
}

/* Server-side apply of an object that does not exist yet creates it. */
static void apply_create(struct api_req *req)
{
    struct write_op *w = req->op;
    ProtobufCMessage *obj =
        api_patch_message(req, NULL, w->patch_type, req->res->group, req->res->kind);
    if (obj == NULL)
        return;
    api_meta_t *m = api_obj_meta_ensure(obj);
    if (m->name == NULL || strcmp(m->name, req->name) != 0) {
        api_respond_statusf(req, 400, "BadRequest",
                            "the name of the object (%s) does not match the name on the URL (%s)",
                            m->name ? m->name : "", req->name);
        api_obj_free(obj);
        return;
    }
    if (req->res->namespaced)
        api_set_str(&m->namespace_, req->ns);
    api_obj_free(req->obj);
    req->obj = obj;
    prepare_create(req, m);
    w->verb = VERB_CREATE;
    w->code = 201;
    req->verb = VERB_CREATE;
    write_admit_and_store(req, NULL, 0);
}

static void write_reread(struct api_req *req)
{
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, req->key, NULL, 0, 0, false, reread_done, req);
}

/* The field manager of a write: ?fieldManager=, else the User-Agent's
 * program name ("kubectl/v1.32.4 (linux/amd64) ..." -> "kubectl"). */
static void field_manager(struct api_req *req, char *out, size_t size)
{
    if (api_query(req, "fieldManager", out, size) != NULL && out[0] != '\0')
        return;
    const char *ua = req->s ? k8c_http_stream_header(req->s, "user-agent") : NULL;
    snprintf(out, size, "%s", ua ? ua : "unknown");
    out[strcspn(out, "/ ")] = '\0';
    if (out[0] == '\0')
        snprintf(out, size, "unknown");
}

/*
 * api_managed_op.convert: obj, an object of resource r's version, as the same kind at `to`
 * (the group/version another field manager wrote in). Versions convert through a storage
 * version (the autoscaling/v1 and v2 HorizontalPodAutoscalers); any other pair, or an object
 * that does not convert, is K8C_EUNSUPPORTED: those fields are then compared unconverted.
 */
static int managed_convert(void *arg, struct k8c_arena *a, const struct k8c_json *obj,
                           const char *to, struct k8c_json **out)
{
    const struct api_resource *r = arg, *t = api_resource_by_kind(to, r->kind);
    char errmsg[K8C_ERRMSG_SIZE] = "";

    if (t == NULL || (r->stored_as != t && t->stored_as != r))
        return K8C_EUNSUPPORTED;
    struct k8c_codec_diag d;
    ProtobufCMessage *msg = NULL, *conv = NULL;
    k8c_codec_diag_init(&d);
    d.ignore_fields = true;
    int rc = k8c_codec_tree_to_msg(r->desc, obj, NULL, &d, &msg);
    k8c_codec_diag_free(&d);
    if (rc == 0)
        rc = r->stored_as == t ? api_convert_to_storage(r, msg, &conv, errmsg)
                               : api_convert_from_storage(t, msg, &conv, errmsg);
    if (rc == 0)
        rc = k8c_codec_msg_to_tree(a, conv, K8C_CODEC_TYPE_META, out, errmsg);
    api_obj_free(msg);
    api_obj_free(conv);
    if (rc != 0) {
        k8c_log_v(1, "managed fields: no %s form of %s err=%s", to, r->kind, errmsg);
        return K8C_EUNSUPPORTED;
    }
    return 0;
}

static void managed_op(struct api_req *req, struct api_managed_op *op, char *manager, size_t msize,
                       char *when, size_t wsize)
{
    time_t now = (time_t)api_now();
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, wsize, "%Y-%m-%dT%H:%M:%SZ", &tm);
    field_manager(req, manager, msize);
    op->manager = manager;
    op->api_version = req->res->api_version;
    op->kind = req->res->kind;
    op->subresource = req->sub[0] ? req->sub : NULL;
    op->time = when;
    op->convert = managed_convert;
    op->convert_arg = (void *)req->res;
}

void api_track_update(struct api_req *req, const ProtobufCMessage *old, ProtobufCMessage **objp)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *live = NULL, *obj = NULL;
    char errmsg[K8C_ERRMSG_SIZE] = "", manager[128], when[32];
    struct api_managed_op op;
    managed_op(req, &op, manager, sizeof(manager), when, sizeof(when));
    if ((old == NULL || k8c_codec_msg_to_tree(a, old, K8C_CODEC_TYPE_META, &live, errmsg) == 0) &&
        k8c_codec_msg_to_tree(a, *objp, K8C_CODEC_TYPE_META, &obj, errmsg) == 0 &&
        api_managed_update(a, live, obj, &op, errmsg) == 0) {
        struct k8c_codec_diag d;
        ProtobufCMessage *msg = NULL;
        k8c_codec_diag_init(&d);
        d.ignore_fields = true;
        if (k8c_codec_tree_to_msg(req->res->desc, obj, NULL, &d, &msg) == 0) {
            api_obj_free(*objp);
            *objp = msg;
        }
        k8c_codec_diag_free(&d);
    } else {
        k8c_log_v(1, "managedFields not updated path=%s err=%s", req->path, errmsg);
    }
    k8c_arena_del(a);
}

/* Records the write of req->obj in its metadata.managedFields. */
static void track_fields(struct api_req *req, const ProtobufCMessage *old)
{
    api_track_update(req, old, &req->obj);
}

/* A 409 for server-side apply conflicts, with one cause per field. */
static void respond_apply_conflict(struct api_req *req, const struct api_managed_apply_result *ar)
{
    struct api_field_errors errs;
    api_field_errors_init(&errs);
    errs.items = k8c_calloc(ar->n_conflicts ? ar->n_conflicts : 1, sizeof(*errs.items));
    for (size_t i = 0; i < ar->n_conflicts; i++) {
        errs.items[i].type = k8c_strdup("FieldManagerConflict");
        errs.items[i].field = k8c_strdup(ar->conflicts[i].field);
        errs.items[i].message = k8c_strdup(ar->conflicts[i].message);
    }
    errs.n = errs.cap = ar->n_conflicts;
    respond_status_causes(req, 409, "Conflict",
                          ar->conflict_message ? ar->conflict_message : "Apply failed", &errs);
    api_field_errors_free(&errs);
}

ProtobufCMessage *api_patch_message(struct api_req *req, const ProtobufCMessage *current,
                                    const char *patch_type, const char *group, const char *kind)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *orig = NULL, *patch = NULL, *result = NULL;
    char errmsg[K8C_ERRMSG_SIZE] = "";
    ProtobufCMessage *out = NULL;
    int rc;

    if (current != NULL &&
        k8c_codec_msg_to_tree(a, current, K8C_CODEC_TYPE_META, &orig, errmsg) != 0) {
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        goto done;
    }
    if (strcmp(patch_type, "application/apply-patch+yaml") == 0) {
        struct k8c_json **docs;
        size_t ndocs;
        rc = k8c_codec_yaml_parse(a, req->body.data ? req->body.data : "", req->body.len, &docs,
                                  &ndocs, errmsg);
        if (rc == 0 && ndocs == 1)
            patch = docs[0];
    } else {
        rc = k8c_json_parse(a, req->body.data ? req->body.data : "", req->body.len, NULL, &patch,
                            errmsg);
    }
    if (patch == NULL) {
        api_respond_statusf(req, 400, "BadRequest", "error decoding patch: %s",
                            errmsg[0] ? errmsg : "empty patch");
        goto done;
    }
    if (strcmp(patch_type, "application/apply-patch+yaml") == 0) {
        /* Server-side apply: field ownership decides what merges and what
         * conflicts (managed.c). */
        struct api_managed_op op;
        struct api_managed_apply_result ar = {0};
        char manager[128], when[32];
        managed_op(req, &op, manager, sizeof(manager), when, sizeof(when));
        if (api_query(req, "fieldManager", manager, sizeof(manager)) == NULL ||
            manager[0] == '\0') {
            api_respond_status(req, 400, "BadRequest",
                               "PATCH, application/apply-patch+yaml requests must have a "
                               "fieldManager");
            goto done;
        }
        rc = api_managed_apply(a, orig, patch, api_query_bool(req, "force"), &op, &ar, errmsg);
        if (rc == K8C_ECONFLICT) {
            respond_apply_conflict(req, &ar);
            goto done;
        }
        result = ar.object;
        req->applied = true;
    } else if (current == NULL) {
        respond_not_found(req);
        goto done;
    } else if (strcmp(patch_type, "application/json-patch+json") == 0) {
        rc = api_patch_json(a, orig, patch, NULL, &result, errmsg);
    } else if (strcmp(patch_type, "application/merge-patch+json") == 0) {
        rc = api_patch_merge(a, orig, patch, NULL, &result, errmsg);
    } else {
        /* Strategic merge patch; server-side apply (without field ownership
         * yet) merges the applied configuration the same way. */
        const struct api_patch_type *schema = api_patch_schema_for_kind(group, kind);
        rc = api_patch_strategic(a, orig, patch, schema, NULL, &result, errmsg);
    }
    if (rc == K8C_EINVAL && strcmp(patch_type, "application/json-patch+json") == 0) {
        /* A JSON patch that does not apply: upstream answers NewGenericServerResponse(422),
         * whose message is generic and carries no cause; the reason goes to the log. */
        k8c_log_v(2, "json patch not applied path=%s err=\"%s\"", req->path, errmsg);
        api_respond_status_cause(req, 422, "Invalid",
                                 "the server rejected our request due to an error in our request",
                                 NULL, NULL, -1);
        goto done;
    }
    if (rc != 0) {
        if (rc == K8C_ECONFLICT)
            api_respond_status(req, 409, "Conflict", errmsg);
        else if (rc == K8C_EPARSE || rc == K8C_EDEPTH)
            api_respond_statusf(req, 400, "BadRequest", "%s", errmsg);
        else if (rc == K8C_ETOOBIG)
            api_respond_statusf(req, 413, "RequestEntityTooLarge", "%s", errmsg);
        else
            api_respond_statusf(req, 422, "Invalid", "%s", errmsg);
        goto done;
    }
    struct k8c_codec_diag d;
    bool json_patch = strcmp(patch_type, "application/json-patch+json") == 0 ||
                      strcmp(patch_type, "application/merge-patch+json") == 0;
    bool smp = strcmp(patch_type, "application/strategic-merge-patch+json") == 0;
    k8c_codec_diag_init(&d);
    d.ignore_fields = field_validation(req) != FV_STRICT;
    /* the jsonPatcher decodes the patched JSON; a strategic merge patch's result goes through
     * the unstructured converter */
    d.errors = json_patch ? K8C_CODEC_ERRORS_GO_JSON
               : smp      ? K8C_CODEC_ERRORS_GO_CONVERTER
                          : K8C_CODEC_ERRORS_OWN;
    rc = k8c_codec_tree_to_msg(current ? current->descriptor : req->res->desc, result, NULL, &d,
                               &out);
    if (rc != 0 && (json_patch || smp)) {
        patched_invalid(req, result, smp ? patch : NULL, d.errmsg);
        out = NULL;
    } else if (rc != 0) {
        api_respond_statusf(req, 422, "Invalid", "%s", d.errmsg);
        out = NULL;
    } else if (d.n_warnings == 0 || field_validation(req) != FV_STRICT) {
        k8c_codec_clear_go_zeros(out, NULL);
    }
    if (out != NULL && d.n_warnings > 0 && field_validation(req) == FV_STRICT) {
        api_respond_statusf(req, 400, "BadRequest", "strict decoding error: %s", d.warnings[0]);
        api_obj_free(out);
        out = NULL;
    }
    k8c_codec_diag_free(&d);
done:
    k8c_arena_del(a);
    return out;
}

static void apply_update(struct api_req *req, ProtobufCMessage *current, int64_t current_rev)
{
    struct write_op *w = req->op;
    ProtobufCMessage *obj;

    if (w->verb == VERB_PATCH) {
        obj = api_patch_message(req, current, w->patch_type, req->res->group, req->res->kind);
        if (obj == NULL)
            return;
    } else {
        obj = api_obj_copy(req->obj);
    }
    api_meta_t *m = api_obj_meta_ensure(obj);
    /* A resourceVersion in the object is a precondition. */
    int64_t want = 0;
    if (m->resourceversion != NULL && m->resourceversion[0] != '\0') {
        want = strtoll(m->resourceversion, NULL, 10);
        if (want != current_rev) {
            api_obj_free(obj);
            api_respond_store_error(req, K8C_ECONFLICT, NULL);
            return;
        }
    } else if (conditional_update_only(req->res)) {
        /* upstream's store: the kind named by its resource */
        struct api_field_errors errs;
        api_field_errors_init(&errs);
        api_field_errors_add(&errs, "FieldValueInvalid", "metadata.resourceVersion",
                             "Invalid value: 0: must be specified for an update");
        api_respond_invalid(req, req->res->resource, req->res->group, req->name, &errs);
        api_field_errors_free(&errs);
        api_obj_free(obj);
        return;
    } else {
        /* an unconditional update: of the object as it is stored now */
        char rv[24];
        snprintf(rv, sizeof(rv), "%lld", (long long)current_rev);
        api_set_str(&m->resourceversion, rv);
    }
    if (m->name == NULL || strcmp(m->name, req->name) != 0) {
        api_respond_statusf(req, 400, "BadRequest",
                            "the name of the object (%s) does not match the name on the URL (%s)",
                            m->name ? m->name : "", req->name);
        api_obj_free(obj);
        return;
    }
    if (req->res->namespaced)
        api_set_str(&m->namespace_, req->ns);
    req->rv = want;
    api_obj_free(req->obj);
    req->obj = obj;
    prepare_update(req, req->obj, current);
    write_admit_and_store(req, current, current_rev);
}

static void update_body(struct api_req *req)
{
    req->obj = api_decode_body(req, req->res->desc);
    if (req->obj == NULL)
        return;
    /* upstream's update handler checks these before it reads the object */
    const api_meta_t *m = api_obj_meta_ensure(req->obj);
    if (req->res->namespaced && m->namespace_ != NULL && m->namespace_[0] != '\0' &&
        strcmp(m->namespace_, req->ns) != 0) {
        api_respond_status(req, 400, "BadRequest",
                           "the namespace of the provided object does not match the namespace "
                           "sent on the request");
        return;
    }
    if (m->name == NULL || strcmp(m->name, req->name) != 0) {
        api_respond_statusf(req, 400, "BadRequest",
                            "the name of the object (%s) does not match the name on the URL (%s)",
                            m->name ? m->name : "", req->name);
        return;
    }
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    req->key = k8c_strdup(key);
    struct write_op *w = K8C_NEW(struct write_op);
    w->verb = VERB_UPDATE;
    w->code = 200;
    req->op = w;
    req->op_free = (void (*)(void *))write_op_free;
    write_reread(req);
}

const char *api_patch_content_type(struct api_req *req)
{
    const char *ctype = k8c_http_stream_header(req->s, "content-type");
    static const char *const types[] = {
        "application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json", "application/apply-patch+yaml"};
    for (size_t i = 0; i < 4; i++)
        if (ctype_is(ctype, types[i]))
            return types[i];
    api_respond_statusf(req, 415, "UnsupportedMediaType",
                        "the body of the request was in an unknown format - accepted media "
                        "types include: application/json-patch+json, "
                        "application/merge-patch+json, application/apply-patch+yaml, "
                        "application/strategic-merge-patch+json");
    return NULL;
}

static void patch_body(struct api_req *req)
{
    const char *type = api_patch_content_type(req);
    if (type == NULL)
        return;
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    req->key = k8c_strdup(key);
    struct write_op *w = K8C_NEW(struct write_op);
    w->verb = VERB_PATCH;
    w->code = 200;
    req->op_free = (void (*)(void *))write_op_free;
    snprintf(w->patch_type, sizeof(w->patch_type), "%s", type);
    req->op = w;
    write_reread(req);
}

/* ======================= delete ======================= */

/* The last value of a key a delete removed (res->kv), decoded; NULL if none. */
static ProtobufCMessage *deleted_object(const struct api_resource *r,
                                        const struct api_etcd_result *res)
{
    ProtobufCMessage *obj = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    if (res->err != 0 || res->kv == NULL ||
        api_obj_decode_storage(r, res->kv->value, res->kv->value_len, res->kv->mod_revision, &obj,
                               errmsg) != 0)
        return NULL;
    return obj;
}

/* obj is gone from the store: a service's IP and ports are free again, and
 * its dependents go too (Background), as upstream's garbage collector does. */
static void deleted(struct api_server *srv, const struct api_resource *r,
                    const ProtobufCMessage *obj)
{
    api_meta_t *m = obj != NULL ? api_obj_meta(obj) : NULL;
    if (obj != NULL && strcmp(r->resource, "services") == 0)
        api_alloc_release_service(srv, obj);
    if (m != NULL && m->name != NULL)
        api_gc_start(srv, r, m->namespace_, m->name, m->uid, API_GC_BACKGROUND);
}

static void delete_done(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    ProtobufCMessage *obj = deleted_object(req->res, res);
    deleted(req->srv, req->res, obj);
    if (!api_req_gone(req)) {
        if (res->err == K8C_ECONFLICT)
            api_respond_store_error(req, K8C_ECONFLICT, NULL);
        else if (res->err != 0)
            api_respond_store_error(req, res->err, res->errmsg);
        else if (strcmp(req->res->resource, "pods") == 0 && obj != NULL)
            api_respond_object(req, 200, obj);
        else
            api_respond_status(req, 200, "", "");
    }
    api_obj_free(obj);
    api_req_unref(req);
}

struct delete_options {
    int64_t grace;
    bool has_grace;
    char propagation[32];
    char uid[64];
    char rv[32];
};

/* ValidateDryRun: "All" is the one value (a 422 on the verb's options otherwise). */
static bool dry_run_value_ok(struct api_req *req, const char *v)
{
    if (strcmp(v, "All") == 0)
        return true;
    const char *method = req->s != NULL ? k8c_http_stream_method(req->s) : "DELETE";
    const char *kind = strcmp(method, "POST") == 0    ? "CreateOptions"
                       : strcmp(method, "PUT") == 0   ? "UpdateOptions"
                       : strcmp(method, "PATCH") == 0 ? "PatchOptions"
                                                      : "DeleteOptions";
    struct api_field_errors errs;
    struct k8c_sbuf msg;
    api_field_errors_init(&errs);
    k8c_sbuf_init(&msg);
    k8c_sbuf_puts(&msg, "Unsupported value: []string{");
    api_go_quote(&msg, v, strnlen(v, 256));
    k8c_sbuf_puts(&msg, "}: supported values: \"All\"");
    api_field_errors_add(&errs, "FieldValueNotSupported", "dryRun", msg.data);
    api_respond_invalid(req, kind, "meta.k8s.io", "", &errs);
    api_field_errors_free(&errs);
    k8c_sbuf_free(&msg);
    return false;
}

/* ValidateFieldManager: at most 128 bytes, printable characters only (a 422 on the verb's
 * options). Returns false when it answered. */
static bool field_manager_ok(struct api_req *req, const char *method)
{
    char fm[1024];
    const char *v = api_query(req, "fieldManager", fm, sizeof(fm));
    size_t n = v != NULL ? strlen(v) : 0;
    struct api_field_errors errs;
    struct k8c_sbuf msg;
    if (n == 0)
        return true;
    api_field_errors_init(&errs);
    k8c_sbuf_init(&msg);
    if (n > 128)
        api_field_errors_add(&errs, "FieldValueTooLong", "fieldManager",
                             "Too long: may not be more than 128 bytes");
    for (size_t i = 0; i < n && errs.n < 64;) {
        /* one UTF-8 sequence; control characters (C0, DEL, C1) are not printable */
        const unsigned char *c = (const unsigned char *)v + i;
        uint32_t r = c[0];
        size_t len = 1;
        if (c[0] >= 0xc2 && c[0] < 0xe0 && i + 1 < n && (c[1] & 0xc0) == 0x80) {
            r = (uint32_t)(c[0] & 0x1f) << 6 | (c[1] & 0x3f);
            len = 2;
        } else if (c[0] >= 0x80 && c[0] < 0xc2) {
            r = 0xfffd; /* invalid UTF-8: Go ranges it as U+FFFD, which is printable */
        } else if (c[0] >= 0xe0) {
            len = c[0] >= 0xf0 ? 4 : 3;
            r = 0x100; /* printable for this check */
        }
        if (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) {
            k8c_sbuf_reset(&msg);
            k8c_sbuf_puts(&msg, "Invalid value: ");
            api_go_quote(&msg, v, n);
            k8c_sbuf_printf(&msg, ": invalid character U+%04X (at position %zu)", (unsigned)r, i);
            api_field_errors_add(&errs, "FieldValueInvalid", "fieldManager", msg.data);
        }
        i += len;
    }
    bool ok = errs.n == 0;
    if (!ok)
        api_respond_invalid(req,
                            strcmp(method, "POST") == 0  ? "CreateOptions"
                            : strcmp(method, "PUT") == 0 ? "UpdateOptions"
                                                         : "PatchOptions",
                            "meta.k8s.io", "", &errs);
    api_field_errors_free(&errs);
    k8c_sbuf_free(&msg);
    return ok;
}

static bool parse_delete_options(struct api_req *req, struct delete_options *o)
{
    char buf[64];
    memset(o, 0, sizeof(*o));
    if (req->body.len > 0) {
        /* JSON (kubectl, most clients) or protobuf (client-go's protobuf clients) */
        const char *ctype = k8c_http_stream_header(req->s, "content-type");
        ProtobufCMessage *msg = NULL;
        struct k8c_codec_diag d;
        int rc;
        k8c_codec_diag_init(&d);
        d.ignore_fields = true;
        if (ctype_is(ctype, "application/vnd.kubernetes.protobuf"))
            rc = k8c_codec_proto_decode(
                &k8s__io__apimachinery__pkg__apis__meta__v1__delete_options__descriptor,
                (const uint8_t *)req->body.data, req->body.len, NULL, &msg, d.errmsg);
        else
            rc = k8c_codec_json_decode(
                &k8s__io__apimachinery__pkg__apis__meta__v1__delete_options__descriptor,
                req->body.data, req->body.len, NULL, &d, &msg);
        if (rc != 0) {
            api_respond_statusf(req, 400, "BadRequest", "invalid DeleteOptions: %s", d.errmsg);
            k8c_codec_diag_free(&d);
            return false;
        }
        k8c_codec_diag_free(&d);
        const K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__DeleteOptions *opts = (void *)msg;
        if (opts->has_graceperiodseconds) {
            o->grace = opts->graceperiodseconds;
            o->has_grace = true;
        }
        if (opts->propagationpolicy != NULL)
            snprintf(o->propagation, sizeof(o->propagation), "%s", opts->propagationpolicy);
        else if (opts->has_orphandependents && opts->orphandependents)
            snprintf(o->propagation, sizeof(o->propagation), "Orphan");
        for (size_t i = 0; i < opts->n_dryrun; i++) {
            if (!dry_run_value_ok(req, opts->dryrun[i])) {
                api_obj_free(msg);
                return false;
            }
            req->dry_run = true;
        }
        if (opts->preconditions != NULL && opts->preconditions->uid != NULL)
            snprintf(o->uid, sizeof(o->uid), "%s", opts->preconditions->uid);
        if (opts->preconditions != NULL && opts->preconditions->resourceversion != NULL)
            snprintf(o->rv, sizeof(o->rv), "%s", opts->preconditions->resourceversion);
        api_obj_free(msg);
    }
    if (api_query(req, "gracePeriodSeconds", buf, sizeof(buf))) {
        o->grace = strtoll(buf, NULL, 10);
        o->has_grace = true;
    }
    if (api_query(req, "propagationPolicy", buf, sizeof(buf)))
        snprintf(o->propagation, sizeof(o->propagation), "%s", buf);
    return true;
}

/*
 * What a DELETE does to cur under o: pods on a node get a deletionTimestamp
 * and the kubelet finishes them, objects with finalizers (the propagation's
 * foregroundDeletion or orphan among them) wait for them, a namespace turns
 * Terminating until its contents are gone (nsdelete.c). Returns true when cur
 * is now so marked and is to be written back, false when it goes at once.
 */
static bool delete_mark(const struct api_resource *r, ProtobufCMessage *cur,
                        const struct delete_options *o)
{
    api_meta_t *m = api_obj_meta_ensure(cur);
    int64_t grace = o->has_grace ? o->grace : 30;
    bool pod_graceful = false;
    if (strcmp(r->resource, "pods") == 0 && grace > 0) {
        ProtobufCMessage **spec = api_obj_field(cur, "spec");
        const ProtobufCFieldDescriptor *f =
            spec && *spec
                ? protobuf_c_message_descriptor_get_field_by_name((*spec)->descriptor, "nodeName")
                : NULL;
        const char *node = f ? *(const char **)((char *)*spec + f->offset) : NULL;
        pod_graceful = node != NULL && node[0] != '\0';
        if (!o->has_grace) {
            const ProtobufCFieldDescriptor *g =
                spec && *spec ? protobuf_c_message_descriptor_get_field_by_name(
                                    (*spec)->descriptor, "terminationGracePeriodSeconds")
                              : NULL;
            if (g != NULL && *(protobuf_c_boolean *)((char *)*spec + g->quantifier_offset))
                grace = *(int64_t *)((char *)*spec + g->offset);
        }
    }
    if (strcmp(o->propagation, "Foreground") == 0)
        api_meta_add_finalizer(m, "foregroundDeletion");
    if (strcmp(o->propagation, "Orphan") == 0)
        api_meta_add_finalizer(m, "orphan");
    bool is_namespace = strcmp(r->resource, "namespaces") == 0;
    if (is_namespace) {
        K8s__Io__Api__Core__V1__Namespace *ns = (K8s__Io__Api__Core__V1__Namespace *)cur;
        if (ns->status == NULL) {
            ns->status = k8c_malloc(sizeof(*ns->status));
            k8s__io__api__core__v1__namespace_status__init(ns->status);
        }
        api_set_str(&ns->status->phase, "Terminating");
    }
    if (m->n_finalizers == 0 && !pod_graceful && !is_namespace)
        return false;
    if (m->deletiontimestamp == NULL) {
        m->deletiontimestamp = api_time_new(api_now() + (pod_graceful ? grace : 0));
        m->has_deletiongraceperiodseconds = true;
        m->deletiongraceperiodseconds = pod_graceful ? grace : 0;
    }
    return true;
}

/* After an object was written back marked for deletion: what its marks start. */
static void delete_marked(struct api_server *srv, const struct api_resource *r, const char *ns,
                          const char *name, const api_meta_t *m)
{
    if (strcmp(r->resource, "namespaces") == 0)
        api_namespace_delete_contents(srv, name);
    else if (api_meta_has_finalizer(m, "foregroundDeletion"))
        api_gc_start(srv, r, ns, name, m->uid, API_GC_FOREGROUND);
    else if (api_meta_has_finalizer(m, "orphan"))
        api_gc_start(srv, r, ns, name, m->uid, API_GC_ORPHAN);
}

/* The DeleteOptions' preconditions against obj (at rev): true when they hold, else false with
 * upstream's conflict message in why. */
static bool delete_preconditions_hold(const struct api_resource *r, ProtobufCMessage *obj,
                                      int64_t rev, const struct delete_options *o, char *why,
                                      size_t size)
{
    const api_meta_t *m = api_obj_meta_ensure(obj);
    const char *name = m->name ? m->name : "";
    char q[128];
    api_qualified(r, q, sizeof(q));
    if (o->uid[0] != '\0' && (m->uid == NULL || strcmp(o->uid, m->uid) != 0)) {
        snprintf(why, size,
                 "Operation cannot be fulfilled on %s \"%s\": Precondition failed: UID in "
                 "precondition: %s, UID in object meta: %s",
                 q, name, o->uid, m->uid ? m->uid : "");
        return false;
    }
    if (o->rv[0] != '\0' && strtoll(o->rv, NULL, 10) != rev) {
        snprintf(why, size,
                 "Operation cannot be fulfilled on %s \"%s\": Precondition failed: "
                 "ResourceVersion in precondition: %s, ResourceVersion in object meta: %lld",
                 q, name, o->rv, (long long)rev);
        return false;
    }
    return true;
}

static void delete_current(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct delete_options *o = req->op;
    req->op = NULL;
    ProtobufCMessage *cur;
    if (api_req_gone(req) || (cur = api_read_found(req, res)) == NULL)
        goto out;
    char why[1024];
    if (!delete_preconditions_hold(req->res, cur, res->kv->mod_revision, o, why, sizeof(why))) {
        api_respond_status(req, 409, "Conflict", why);
        api_obj_free(cur);
        goto out;
    }
    const api_meta_t *cm = api_obj_meta(cur);
    if (strcmp(req->res->resource, "namespaces") == 0 && cm != NULL &&
        cm->deletiontimestamp != NULL && !api_namespace_finalized(cur)) {
        /* upstream's namespace REST: terminating, its finalizers still there; the contents
         * are looked at again (a deletion a restart cut short goes on) */
        if (!req->dry_run)
            api_namespace_delete_contents(req->srv, req->name);
        api_respond_statusf(
            req, 409, "Conflict",
            "Operation cannot be fulfilled on namespaces \"%s\": The system is "
            "ensuring all content is removed from this namespace.  Upon completion, "
            "this namespace will automatically be purged by the system.",
            req->name);
        api_obj_free(cur);
        goto out;
    }
    if (delete_mark(req->res, cur, o)) {
        req->obj = cur;
        struct write_op *w = K8C_NEW(struct write_op);
        w->verb = VERB_DELETE;
        w->code = 200;
        req->op = w;
        req->op_free = (void (*)(void *))write_op_free;
        char key[1024];
        api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
        req->key = k8c_strdup(key);
        store_object(req, res->kv->mod_revision);
        goto out;
    }
    api_obj_free(cur);
    if (req->dry_run) {
        api_respond_status(req, 200, "", "");
        goto out;
    }
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    api_req_ref(req);
    api_etcd_delete(req->srv->etcd, key, res->kv->mod_revision, delete_done, req);
out:
    k8c_free(o);
    api_req_unref(req);
}

static void do_delete(struct api_req *req)
{
    if (strcmp(req->res->resource, "namespaces") == 0 &&
        (strcmp(req->name, "default") == 0 || strcmp(req->name, "kube-system") == 0 ||
         strcmp(req->name, "kube-public") == 0)) {
        /* NamespaceLifecycle's immortal namespaces */
        struct status_subject subject = {"namespaces", ""};
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "namespaces \"%s\" is forbidden: this namespace may not be deleted", req->name);
        respond_status_details(req, 403, "Forbidden", msg, NULL, &subject);
        return;
    }
    struct delete_options *o = K8C_NEW(struct delete_options);
    if (!parse_delete_options(req, o)) {
        k8c_free(o);
        return;
    }
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    req->op = o;
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, key, NULL, 0, 0, false, delete_current, req);
}

/*
 * deletecollection: every matching object deleted one by one as a DELETE
 * with the request's options would delete it (upstream's Store.DeleteCollection
 * calls Delete for each): marked and written back when it has finalizers, is a
 * pod on a node or a namespace, removed otherwise. The answer is the list of
 * the objects as they were listed.
 */
struct delcol_item {
    char *key;
    int64_t rev;
    ProtobufCMessage *obj;    /* as listed (the answer) */
    ProtobufCMessage *marked; /* to write back, or NULL: to remove */
};

struct delcol_op {
    struct api_label_selector labels;
    struct api_field_selector fields;
    bool has_fields;
    struct delete_options opts;
    struct delcol_item *items;
    size_t n, next;
    int64_t rev;    /* of the listing */
    char *conflict; /* the first object whose preconditions failed */
};

static void delcol_next(struct api_req *req);

static void delcol_removed(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    ProtobufCMessage *obj = deleted_object(req->res, res);
    deleted(req->srv, req->res, obj);
    api_obj_free(obj);
    delcol_next(req);
    api_req_unref(req);
}

static void delcol_marked(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct delcol_op *op = req->op;
    const struct delcol_item *it = &op->items[op->next - 1];
    const api_meta_t *m = api_obj_meta(it->marked);
    if (res->err == 0 && m != NULL && m->name != NULL)
        delete_marked(req->srv, req->res, m->namespace_, m->name, m);
    delcol_next(req);
    api_req_unref(req);
}

static void delcol_free(void *arg)
{
    struct delcol_op *op = arg;
    for (size_t i = 0; i < op->n; i++) {
        k8c_free(op->items[i].key);
        api_obj_free(op->items[i].obj);
        api_obj_free(op->items[i].marked);
    }
    k8c_free(op->items);
    k8c_free(op->conflict);
    api_labels_free(&op->labels);
    if (op->has_fields)
        api_fields_free(&op->fields);
    k8c_free(op);
}

/* The next object's delete, or the answer once all are done (objects that changed or went
 * meanwhile are passed over, as upstream ignores NotFound). */
static void delcol_next(struct api_req *req)
{
    struct delcol_op *op = req->op;
    while (op->next < op->n && !api_req_gone(req) && !req->dry_run) {
        struct delcol_item *it = &op->items[op->next++];
        if (it->marked == NULL) {
            api_req_ref(req);
            api_etcd_delete(req->srv->etcd, it->key, it->rev, delcol_removed, req);
            return;
        }
        struct k8c_sbuf val;
        char errmsg[K8C_ERRMSG_SIZE];
        k8c_sbuf_init(&val);
        if (api_obj_encode_storage(req->res, it->marked, &val, errmsg) == 0) {
            api_req_ref(req);
            api_etcd_update(req->srv->etcd, it->key, (const uint8_t *)val.data, val.len, it->rev, 0,
                            delcol_marked, req);
            k8c_sbuf_free(&val);
            return;
        }
        k8c_sbuf_free(&val);
    }
    if (op->conflict != NULL) {
        api_respond_status(req, 409, "Conflict", op->conflict);
        return;
    }
    ProtobufCMessage **objs = k8c_calloc(op->n + 1, sizeof(*objs));
    for (size_t i = 0; i < op->n; i++)
        objs[i] = op->items[i].obj;
    char rv[24];
    snprintf(rv, sizeof(rv), "%lld", (long long)op->rev);
    ProtobufCMessage *list = api_list_new(req->res, objs, op->n, rv, NULL, -1);
    api_respond_object(req, 200, list);
    api_list_free(list);
    k8c_free(objs);
}

static void delcol_listed(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct delcol_op *op = req->op;
    if (api_req_gone(req))
        goto out;
    if (res->err != 0) {
        api_respond_store_error(req, res->err, res->errmsg);
        goto out;
    }
    op->rev = res->rev;
    op->items = k8c_calloc(res->n ? res->n : 1, sizeof(*op->items));
    for (size_t i = 0; i < res->n; i++) {
        ProtobufCMessage *obj, *marked;
        char errmsg[K8C_ERRMSG_SIZE];
        if (api_obj_decode_storage(req->res, res->kvs[i].value, res->kvs[i].value_len,
                                   res->kvs[i].mod_revision, &obj, errmsg) != 0)
            continue;
        struct list_op lo = {
            .labels = op->labels, .fields = op->fields, .has_fields = op->has_fields};
        if (!list_match(&lo, req->res, obj)) {
            api_obj_free(obj);
            continue;
        }
        char why[1024];
        if (!delete_preconditions_hold(req->res, obj, res->kvs[i].mod_revision, &op->opts, why,
                                       sizeof(why))) {
            /* upstream deletes the others and answers the first error */
            if (op->conflict == NULL)
                op->conflict = k8c_strdup(why);
            api_obj_free(obj);
            continue;
        }
        struct delcol_item *it = &op->items[op->n++];
        it->key = k8c_strndup(res->kvs[i].key, res->kvs[i].key_len);
        it->rev = res->kvs[i].mod_revision;
        it->obj = obj;
        marked = api_obj_copy(obj);
        if (delete_mark(req->res, marked, &op->opts))
            it->marked = marked;
        else
            api_obj_free(marked);
    }
    delcol_next(req);
out:
    api_req_unref(req);
}

static void do_deletecollection(struct api_req *req)
{
    struct delcol_op *op = K8C_NEW(struct delcol_op);
    char prefix[1024], end[1024];
    if (!parse_delete_options(req, &op->opts)) {
        k8c_free(op);
        return;
    }
    if (!api_parse_selectors(req, &op->labels, &op->fields, &op->has_fields)) {
        k8c_free(op);
        return;
    }
    api_key(req->srv, req->res, req->ns, "", prefix, sizeof(prefix));
    api_etcd_prefix_end(prefix, end, sizeof(end));
    req->op = op;
    req->op_free = delcol_free;
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, prefix, end, 0, 0, false, delcol_listed, req);
}

/* ======================= routing ======================= */

/* An Accept type asking for meta.k8s.io/v1 metadata only: 1 PartialObjectMetadata, 2
 * PartialObjectMetadataList, else 0. */
static int partial_conversion(const char *t)
{
    if (strstr(t, "g=meta.k8s.io") == NULL || strstr(t, "v=v1") == NULL ||
        strstr(t, "v=v1beta1") != NULL ||
        (strncmp(t, "application/json", 16) != 0 && strncmp(t, "application/yaml", 16) != 0 &&
         strncmp(t, "application/vnd.kubernetes.protobuf", 35) != 0))
        return 0;
    const char *as = strstr(t, "as=PartialObjectMetadata");
    if (as == NULL)
        return 0;
    as += 24;
    if (strncmp(as, "List", 4) == 0 && (as[4] == '\0' || as[4] == ';' || as[4] == ' '))
        return 2;
    return as[0] == '\0' || as[0] == ';' || as[0] == ' ' ? 1 : 0;
}

static void negotiate(struct api_req *req)
{
    const char *accept = k8c_http_stream_header(req->s, "accept");
    req->out = API_JSON;
    if (accept == NULL || accept[0] == '\0')
        return;
    req->not_acceptable = true; /* until a type matches */
    /* The first acceptable type wins (kubectl lists them in preference order). */
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", accept);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (strstr(t, "as=Table") != NULL && strstr(t, "v=v1") != NULL &&
            strstr(t, "v1beta1") == NULL) {
            if (strncmp(t, "application/json", 16) == 0) {
                req->table = true;
                req->out = API_JSON;
                req->not_acceptable = false;
                return;
            }
            continue;
        }
        int partial = partial_conversion(t);
        if (partial != 0 && partial == req->partial_want) {
            req->partial = true;
            req->out = strncmp(t, "application/vnd.kubernetes.protobuf", 35) == 0 ? API_PROTOBUF
                       : strncmp(t, "application/yaml", 16) == 0                  ? API_YAML
                                                                                  : API_JSON;
            req->not_acceptable = false;
            return;
        }
        if (strstr(t, "as=") != NULL) {
            /* other conversions (or metadata for another verb): not offered; the object as it
             * is (JSON) unless a later type matches, rather than a 406 */
            req->not_acceptable = false;
            continue;
        }
        if (strncmp(t, "application/vnd.kubernetes.protobuf", 35) == 0) {
            req->out = API_PROTOBUF;
            req->not_acceptable = false;
            return;
        }
        if (strncmp(t, "application/yaml", 16) == 0) {
            req->out = API_YAML;
            req->not_acceptable = false;
            return;
        }
        if (strncmp(t, "application/json", 16) == 0 || strncmp(t, "*/*", 3) == 0 ||
            strncmp(t, "application/*", 13) == 0) {
            req->out = API_JSON;
            req->not_acceptable = false;
            return;
        }
    }
}

/* Splits /api/v1/... and /apis/<group>/<version>/... Returns false when the
 * path is not a resource path (discovery handles it). */
static bool route(struct api_req *req)
{
    char *segs[8];
    size_t n = 0;
    char *p = req->path;
    char *copy = k8c_strdup(p);
    for (char *save = NULL, *s = strtok_r(copy, "/", &save); s && n < 8;
         s = strtok_r(NULL, "/", &save))
        segs[n++] = s;
    size_t i = 0;
    bool ok = false;
    if (n >= 3 && strcmp(segs[0], "api") == 0) {
        snprintf(req->group, sizeof(req->group), "%s", "");
        snprintf(req->version, sizeof(req->version), "%s", segs[1]);
        i = 2;
    } else if (n >= 4 && strcmp(segs[0], "apis") == 0) {
        snprintf(req->group, sizeof(req->group), "%s", segs[1]);
        snprintf(req->version, sizeof(req->version), "%s", segs[2]);
        i = 3;
    } else {
        goto done;
    }
    const char *resource;
    if (strcmp(segs[i], "namespaces") == 0 && n - i == 3 &&
        (strcmp(segs[i + 2], "status") == 0 || strcmp(segs[i + 2], "finalize") == 0)) {
        /* namespaces/<name>/status and /finalize: a namespace's subresources, not resources */
        resource = segs[i];
        i += 1;
    } else if (strcmp(segs[i], "namespaces") == 0 && n - i >= 3) {
        snprintf(req->ns, sizeof(req->ns), "%s", segs[i + 1]);
        resource = segs[i + 2];
        i += 3;
    } else {
        resource = segs[i];
        i += 1;
    }
    if (i < n)
        snprintf(req->name, sizeof(req->name), "%s", segs[i++]);
    if (i < n)
        snprintf(req->sub, sizeof(req->sub), "%s", segs[i++]);
    if (i < n && strcmp(req->sub, "proxy") != 0) /* proxy: the rest is the target path */
        goto done;
    req->res = api_resource_find(req->group, req->version, resource);
    ok = req->res != NULL;
    if (!ok)
        snprintf(req->name, sizeof(req->name), "%s", resource);
done:
    k8c_free(copy);
    return ok;
}

static bool verb_allowed(const struct api_resource *r, enum api_verb v)
{
    unsigned bit = v == VERB_GET      ? API_VERB_GET
                   : v == VERB_LIST   ? API_VERB_LIST
                   : v == VERB_WATCH  ? API_VERB_WATCH
                   : v == VERB_CREATE ? API_VERB_CREATE
                   : v == VERB_UPDATE ? API_VERB_UPDATE
                   : v == VERB_PATCH  ? API_VERB_PATCH
                   : v == VERB_DELETE ? API_VERB_DELETE
                                      : API_VERB_DELETECOLLECTION;
    return (r->verbs & bit) != 0;
}

static void on_deadline(uv_timer_t *t)
{
    struct api_req *req = t->data;
    if (!api_req_gone(req) && !k8c_http_stream_headers_sent(req->s))
        api_respond_store_error(req, K8C_ETIMEDOUT, NULL);
}

/*
 * Upstream's WithRequestDeadline: a request that is not long-running gets
 * --request-timeout, or the ?timeout= the client asked for when shorter (kubectl
 * --request-timeout sends it); past it the answer is the 504 of the handler's
 * finisher while the work may still finish. An unparsable timeout is a 400.
 * Returns false when it answered.
 */
static bool start_deadline(struct api_req *req)
{
    static const char *const long_running[] = {"exec", "attach", "portforward", "proxy", "log"};
    char buf[128];
    int64_t limit = req->srv->request_timeout_ms, ms;
    if (req->verb == VERB_WATCH)
        return true;
    for (size_t i = 0; i < sizeof(long_running) / sizeof(long_running[0]); i++)
        if (strcmp(req->sub, long_running[i]) == 0)
            return true;
    const char *v = api_query(req, "timeout", buf, sizeof(buf));
    if (v != NULL && v[0] != '\0') {
        struct k8c_go_duration_error e;
        if (k8c_parse_go_duration_ms(v, &ms, &e) != 0) {
            /* time.ParseDuration's error, quoted as Go quotes */
            struct k8c_sbuf msg;
            k8c_sbuf_init(&msg);
            k8c_sbuf_printf(&msg, "invalid timeout specified in the request URL - time: %s ",
                            e.why);
            if (e.unit != NULL) {
                api_go_quote(&msg, e.unit, e.unit_len < 64 ? e.unit_len : 64);
                k8c_sbuf_puts(&msg, " in duration ");
            }
            api_go_quote(&msg, v, strnlen(v, 256));
            api_respond_status(req, 400, "BadRequest", msg.data);
            k8c_sbuf_free(&msg);
            return false;
        }
        if (ms > 0 && ms < limit)
            limit = ms;
    }
    if (limit <= 0)
        return true;
    req->deadline = k8c_malloc(sizeof(*req->deadline));
    uv_timer_init(req->srv->loop, req->deadline);
    req->deadline->data = req;
    uv_timer_start(req->deadline, on_deadline, (uint64_t)limit, 0);
    return true;
}

/* create, update and patch, once NamespaceLifecycle let them through */
static void write_verb(struct api_req *req)
{
    if (req->verb == VERB_CREATE)
        create_body(req);
    else if (req->verb == VERB_UPDATE)
        update_body(req);
    else
        patch_body(req);
}

/* NamespaceLifecycle's answer for a write in namespace ns (NULL: there is none): false after
 * answering 404 (no such namespace) or 403 (a create while it is being terminated). */
static bool namespace_admits(struct api_req *req, const ProtobufCMessage *ns)
{
    if (ns == NULL) {
        struct status_subject subject = {"namespaces", ""};
        char msg[512];
        snprintf(msg, sizeof(msg), "namespaces \"%s\" not found", req->ns);
        snprintf(req->name, sizeof(req->name), "%s", req->ns);
        respond_status_details(req, 404, "NotFound", msg, NULL, &subject);
        return false;
    }
    const K8s__Io__Api__Core__V1__Namespace *n = (const K8s__Io__Api__Core__V1__Namespace *)ns;
    if (req->verb != VERB_CREATE || n->status == NULL || n->status->phase == NULL ||
        strcmp(n->status->phase, "Terminating") != 0)
        return true;
    /* admission.NewForbidden with a NamespaceTerminating cause */
    struct status_subject subject = {req->res->resource, req->res->group};
    struct api_field_errors errs;
    char msg[1024], cause[512];
    ProtobufCMessage *obj = api_decode_body(req, req->res->desc); /* the name the answer names */
    if (obj == NULL)
        return false; /* a body upstream's decoder refuses: that answer comes first */
    const api_meta_t *m = api_obj_meta(obj);
    if (req->name[0] == '\0' && m != NULL && m->name != NULL)
        snprintf(req->name, sizeof(req->name), "%s", m->name);
    api_obj_free(obj);
    char q[128];
    api_qualified(req->res, q, sizeof(q));
    snprintf(msg, sizeof(msg),
             "%s \"%s\" is forbidden: unable to create new content in namespace %s because it "
             "is being terminated",
             q, req->name, req->ns);
    snprintf(cause, sizeof(cause), "namespace %s is being terminated", req->ns);
    api_field_errors_init(&errs);
    api_field_errors_add(&errs, "NamespaceTerminating", "metadata.namespace", cause);
    respond_status_details(req, 403, "Forbidden", msg, &errs, &subject);
    api_field_errors_free(&errs);
    return false;
}

static void namespace_read(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    const struct api_resource *r = api_resource_find("", "v1", "namespaces");
    ProtobufCMessage *ns = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    if (api_req_gone(req))
        goto out;
    if (res->err != 0) {
        api_respond_store_error(req, res->err, res->errmsg);
        goto out;
    }
    if (res->n > 0 && api_obj_decode_storage(r, res->kv->value, res->kv->value_len,
                                             res->kv->mod_revision, &ns, errmsg) != 0) {
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        goto out;
    }
    if (namespace_admits(req, ns))
        write_verb(req);
    api_obj_free(ns);
out:
    api_req_unref(req);
}

/*
 * NamespaceLifecycle (upstream's admission plugin) for a create, update or patch of a
 * namespaced object: its namespace must exist (404 `namespaces "x" not found`), and nothing is
 * created in one being terminated (403 with cause NamespaceTerminating). The watch cache
 * answers when it has the namespace; otherwise the store is read (a namespace created a
 * moment ago may not be in the cache yet), as upstream looks up live on a miss. True: go on
 * now; false: answered, or write_verb runs when the store answers.
 */
static bool namespace_lifecycle(struct api_req *req)
{
    const struct api_resource *r = api_resource_find("", "v1", "namespaces");
    if (!req->res->namespaced || req->ns[0] == '\0' || req->sub[0] != '\0' || r == NULL ||
        req->res->storage[0] == '\0')
        return true;
    char key[1024];
    bool ready = false;
    api_key(req->srv, r, NULL, req->ns, key, sizeof(key));
    const ProtobufCMessage *ns = api_watchcache_get(req->srv, r, key, &ready);
    if (ns != NULL)
        return namespace_admits(req, ns);
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, key, NULL, 0, 0, false, namespace_read, req);
    return false;
}

static void dispatch(struct api_req *req)
{
    const char *method = k8c_http_stream_method(req->s);

    negotiate(req);
    if (!api_authenticate(req))
        return;
    if (api_discovery(req))
        return;
    if (!route(req)) {
        if (strncmp(req->path, "/api/", 5) == 0 || strncmp(req->path, "/apis/", 6) == 0) {
            api_respond_statusf(req, 404, "NotFound",
                                "the server could not find the requested resource");
            return;
        }
        api_respond_status(req, 404, "NotFound",
                           "the server could not find the requested resource");
        return;
    }
    const struct api_resource *r = req->res;
    if (req->not_acceptable && (req->sub[0] == '\0' || strcmp(req->sub, "status") == 0 ||
                                strcmp(req->sub, "scale") == 0)) {
        /* as upstream's NegotiateOutputMediaType; the answer is JSON */
        api_respond_status(req, 406, "NotAcceptable",
                           "only the following media types are accepted: application/json, "
                           "application/yaml, application/vnd.kubernetes.protobuf");
        return;
    }
    if (r->namespaced && req->ns[0] == '\0' && req->name[0] != '\0') {
        /* a namespaced object named without its namespace */
        api_respond_status(req, 404, "NotFound",
                           "the server could not find the requested resource");
        return;
    }
    bool collection = req->name[0] == '\0';
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        req->verb = collection ? (api_query_bool(req, "watch") ? VERB_WATCH : VERB_LIST) : VERB_GET;
    else if (strcmp(method, "POST") == 0)
        req->verb = collection ? VERB_CREATE : VERB_NONE;
    else if (strcmp(method, "PUT") == 0)
        req->verb = collection ? VERB_NONE : VERB_UPDATE;
    else if (strcmp(method, "PATCH") == 0)
        req->verb = collection ? VERB_NONE : VERB_PATCH;
    else if (strcmp(method, "DELETE") == 0)
        req->verb = collection ? VERB_DELETECOLLECTION : VERB_DELETE;
    if ((req->verb == VERB_GET || req->verb == VERB_LIST || req->verb == VERB_WATCH) &&
        (req->sub[0] == '\0' || strcmp(req->sub, "status") == 0) && !req->table) {
        /* the verb is known now: metadata-only answers (as=PartialObjectMetadata for get and
         * watch, as=PartialObjectMetadataList for list) */
        req->partial_want = req->verb == VERB_LIST ? 2 : 1;
        negotiate(req);
    }
    if (req->verb != VERB_GET && req->verb != VERB_LIST && req->verb != VERB_WATCH) {
        char dry[64];
        const char *v = api_query(req, "dryRun", dry, sizeof(dry));
        if (v != NULL && !dry_run_value_ok(req, v))
            return;
        req->dry_run = v != NULL;
    }
    if ((strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
         strcmp(method, "PATCH") == 0) &&
        !field_manager_ok(req, method))
        return;
    if (!start_deadline(req))
        return;
    if (req->sub[0] != '\0') {
        /* subresources: status (get/update/patch); scale and the pod
         * subresources are handled in subresource.c */
        if (api_subresource(req))
            return;
        bool status = strcmp(req->sub, "status") == 0 && (r->subresources & API_SUB_STATUS);
        bool ephemeral =
            strcmp(req->sub, "ephemeralcontainers") == 0 && (r->subresources & API_SUB_EPHEMERAL);
        bool finalize = strcmp(req->sub, "finalize") == 0 && (r->subresources & API_SUB_FINALIZE);
        if (!status && !ephemeral && !finalize) {
            api_respond_status(req, 404, "NotFound",
                               "the server could not find the requested resource");
            return;
        }
        if (finalize && req->verb != VERB_UPDATE) { /* namespaces/finalize: update only */
            api_respond_statusf(req, 405, "MethodNotAllowed",
                                "the server does not allow this method on the requested resource");
            return;
        }
        /* both read and write the object: get, update and patch only */
        if (req->verb != VERB_GET && req->verb != VERB_UPDATE && req->verb != VERB_PATCH) {
            api_respond_statusf(req, 405, "MethodNotAllowed",
                                "the server does not allow this method on the requested resource");
            return;
        }
    }
    if (req->verb == VERB_NONE || !verb_allowed(r, req->verb)) {
        api_respond_statusf(req, 405, "MethodNotAllowed",
                            "the server does not allow this method on the requested resource");
        return;
    }
    if (req->too_big) {
        api_respond_status(req, 413, "RequestEntityTooLarge",
                           "Request entity too large: limit is 3145728");
        return;
    }
    if ((req->verb == VERB_GET || req->verb == VERB_LIST || req->verb == VERB_WATCH) &&
        !read_options_valid(req))
        return;
    if (strcmp(r->resource, "componentstatuses") == 0 &&
        (req->verb == VERB_GET || req->verb == VERB_LIST)) {
        api_componentstatus(req);
        return;
    }
    switch (req->verb) {
    case VERB_GET:
        do_get(req);
        break;
    case VERB_LIST:
        if (!api_watchcache_serve(req))
            do_list(req);
        break;
    case VERB_WATCH:
        if (!api_watchcache_serve(req))
            api_watch_start(req);
        break;
    case VERB_CREATE:
        if (r->storage[0] == '\0' && api_review(req))
            break;
        if (r->namespaced && req->ns[0] == '\0') {
            api_respond_status(req, 404, "NotFound",
                               "the server could not find the requested resource");
            return;
        }
        /* fall through */
    case VERB_UPDATE:
    case VERB_PATCH:
        if (namespace_lifecycle(req))
            write_verb(req);
        break;
    case VERB_DELETE:
        do_delete(req);
        break;
    case VERB_DELETECOLLECTION:
        do_deletecollection(req);
        break;
    default:
        break;
    }
}

/* ======================= HTTP glue ======================= */

static void on_data(struct k8c_http_stream *s, const uint8_t *data, size_t len, void *arg)
{
    struct api_req *req = arg;
    if (req->too_big)
        return;
    if (req->body.len + len > API_MAX_BODY) {
        req->too_big = true;
        k8c_sbuf_free(&req->body);
        api_respond_status(req, 413, "RequestEntityTooLarge",
                           "Request entity too large: limit is 3145728");
        return;
    }
    k8c_sbuf_append(&req->body, data, len);
}

static void on_end(struct k8c_http_stream *s, void *arg)
{
    struct api_req *req = arg;
    if (k8c_http_stream_headers_sent(s))
        return;
    api_req_ref(req);
    dispatch(req);
    api_req_unref(req);
}

static void on_close(struct k8c_http_stream *s, int error, void *arg)
{
    struct api_req *req = arg;
    req->s = NULL;
    api_watch_stream_closed(req);
    api_req_unref(req);
}

static const struct k8c_http_stream_ops req_ops = {
    .on_data = on_data,
    .on_end = on_end,
    .on_writable = api_watch_writable,
    .on_close = on_close,
};

void api_on_request(void *arg, struct k8c_http_stream *s)
{
    struct api_server *srv = arg;
    struct api_req *req = K8C_NEW(struct api_req);
    const char *path = k8c_http_stream_path(s);
    const char *q = strchr(path, '?');
    req->srv = srv;
    req->s = s;
    req->refs = 1;
    req->start_ns = uv_hrtime();
    k8c_sbuf_init(&req->body);
    req->path = q ? k8c_strndup(path, (size_t)(q - path)) : k8c_strdup(path);
    req->query = k8c_strdup(q ? q + 1 : "");
    k8c_http_stream_set_ops(s, &req_ops, req);
    /* In-flight limits, as --max-requests-inflight and
     * --max-mutating-requests-inflight (watches are long-running: exempt). */
    const char *m = k8c_http_stream_method(s);
    bool mutating = strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
    bool watch = strstr(req->query, "watch=") != NULL || strstr(req->path, "/watch/") != NULL;
    if (!watch) {
        int *count = mutating ? &srv->mutating : &srv->inflight;
        int limit = mutating ? srv->max_mutating : srv->max_inflight;
        if (limit > 0 && *count >= limit) {
            struct k8c_http_header h[] = {{"content-type", "application/json"},
                                          {"retry-after", "1"}};
            static const char body[] =
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                "\"Failure\",\"message\":\"Too many requests, please try again later.\","
                "\"reason\":\"TooManyRequests\",\"details\":{\"retryAfterSeconds\":1},"
                "\"code\":429}";
            char clen[16];
            snprintf(clen, sizeof(clen), "%zu", sizeof(body) - 1);
            struct k8c_http_header hh[] = {h[0], h[1], {"content-length", clen}};
            k8c_http_stream_respond(s, 429, hh, 3, false);
            k8c_http_stream_send_copy(s, body, sizeof(body) - 1);
            k8c_http_stream_finish(s, NULL, 0);
            return;
        }
        (*count)++;
        if (mutating)
            req->counted_mutating = true;
        else
            req->counted = true;
        api_inflight_changed(srv);
    }
}

void api_inflight_changed(struct api_server *srv)
{
    k8c_metric_set(srv->inflight_readonly, srv->inflight);
    k8c_metric_set(srv->inflight_mutating, srv->mutating);
}
