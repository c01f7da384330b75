/*
 * Subresources other than status: scale (autoscaling/v1 Scale over the
 * replicas of deployments, replicasets, statefulsets and replication
 * controllers) and pods/binding (the scheduler's assignment of a pod to a
 * node, also POSTed to .../bindings).
 *
 * Both read the object, change it and write it back with a compare-and-swap
 * on its mod revision, retrying a few times when another writer got there
 * first and the client set no resourceVersion precondition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "error.h"
#include "k8s/api/autoscaling/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "object.h"
#include "proxy.h"
#include "satoken.h"
#include "selector.h"
#include "server.h"

typedef K8s__Io__Api__Autoscaling__V1__Scale scale_t;

#define MAX_ATTEMPTS 5

enum sub_kind { SUB_SCALE, SUB_BINDING };

struct sub_op {
    enum sub_kind kind;
    char method[8];
    ProtobufCMessage *obj; /* the object as stored (then modified) */
    int64_t rev;           /* its mod revision */
    int32_t replicas;      /* scale: wanted */
    char node[256];        /* binding: target node */
    int attempts;
};

static void sub_op_free(struct sub_op *op)
{
    api_obj_free(op->obj);
    k8c_free(op);
}

/* ---- reflective access to replicas and selector ---- */

static int32_t *int32_field(ProtobufCMessage *msg, const char *name, protobuf_c_boolean **has)
{
    if (msg == NULL)
        return NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name);
    if (f == NULL || f->type != PROTOBUF_C_TYPE_INT32)
        return NULL;
    *has = f->quantifier_offset ? (protobuf_c_boolean *)((char *)msg + f->quantifier_offset) : NULL;
    return (int32_t *)((char *)msg + f->offset);
}

static int32_t get_replicas(ProtobufCMessage *obj, const char *part)
{
    ProtobufCMessage **sub = api_obj_field(obj, part);
    protobuf_c_boolean *has = NULL;
    int32_t *v = sub ? int32_field(*sub, "replicas", &has) : NULL;
    if (v == NULL || (has != NULL && !*has))
        return strcmp(part, "spec") == 0 ? 1 : 0;
    return *v;
}

static void set_replicas(ProtobufCMessage *obj, int32_t n)
{
    ProtobufCMessage **spec = api_obj_field(obj, "spec");
    protobuf_c_boolean *has = NULL;
    int32_t *v = spec ? int32_field(*spec, "replicas", &has) : NULL;
    if (v == NULL)
        return;
    *v = n;
    if (has != NULL)
        *has = true;
}

/* The selector as a string ("app=web,tier in (a,b)"), as Scale.status.selector. */
static char *selector_string(ProtobufCMessage *obj)
{
    ProtobufCMessage **spec = api_obj_field(obj, "spec");
    struct k8c_sbuf out;
    k8c_sbuf_init(&out);
    if (spec == NULL || *spec == NULL)
        return k8c_sbuf_detach(&out);
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name((*spec)->descriptor, "selector");
    if (f == NULL)
        return k8c_sbuf_detach(&out);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED) {
        const api_label_selector_msg_t *ls =
            *(const api_label_selector_msg_t **)((char *)*spec + f->offset);
        struct api_label_selector sel;
        char errmsg[K8C_ERRMSG_SIZE];
        if (ls != NULL && api_labels_from_label_selector(ls, &sel, errmsg) == 0)
            api_labels_format(&sel, &out);
        api_labels_free(&sel);
    } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        /* ReplicationController: map<string,string> */
        size_t n = *(size_t *)((char *)*spec + f->quantifier_offset);
        K8s__Io__Api__Core__V1__ReplicationControllerSpec__SelectorEntry **e =
            *(K8s__Io__Api__Core__V1__ReplicationControllerSpec__SelectorEntry ***)((char *)*spec +
                                                                                    f->offset);
        for (size_t i = 0; i < n; i++)
            k8c_sbuf_printf(&out, "%s%s=%s", i ? "," : "", e[i]->key, e[i]->value);
    }
    return k8c_sbuf_detach(&out);
}

/* The Scale view of obj (caller frees with api_obj_free). */
static scale_t *make_scale(ProtobufCMessage *obj)
{
    scale_t *sc = k8c_malloc(sizeof(*sc));
    k8s__io__api__autoscaling__v1__scale__init(sc);
    api_meta_t *m = api_obj_meta(obj), *sm = api_obj_meta_ensure(&sc->base);
    if (m != NULL) {
        api_set_str(&sm->name, m->name);
        api_set_str(&sm->namespace_, m->namespace_);
        api_set_str(&sm->uid, m->uid);
        api_set_str(&sm->resourceversion, m->resourceversion);
        if (m->creationtimestamp != NULL)
            sm->creationtimestamp = (api_time_t *)api_obj_copy(&m->creationtimestamp->base);
    }
    sc->spec = k8c_malloc(sizeof(*sc->spec));
    k8s__io__api__autoscaling__v1__scale_spec__init(sc->spec);
    sc->spec->has_replicas = true;
    sc->spec->replicas = get_replicas(obj, "spec");
    sc->status = k8c_malloc(sizeof(*sc->status));
    k8s__io__api__autoscaling__v1__scale_status__init(sc->status);
    sc->status->has_replicas = true;
    sc->status->replicas = get_replicas(obj, "status");
    sc->status->selector = selector_string(obj);
    return sc;
}

/* ---- the read-modify-write loop ---- */

static void sub_read(struct api_req *req);

static void sub_written(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct sub_op *op = req->op;
    if (api_req_gone(req))
        goto out;
    if (res->err == K8C_ECONFLICT && req->rv == 0 && ++op->attempts < MAX_ATTEMPTS) {
        sub_read(req);
        goto out;
    }
    if (res->err != 0) {
        api_respond_store_error(req, res->err, res->errmsg);
        goto out;
    }
    char rv[24];
    snprintf(rv, sizeof(rv), "%lld", (long long)res->rev);
    api_set_str(&api_obj_meta(op->obj)->resourceversion, rv);
    if (op->kind == SUB_SCALE) {
        scale_t *sc = make_scale(op->obj);
        api_respond_object(req, 200, &sc->base);
        api_obj_free(&sc->base);
    } else {
        api_respond_status(req, 201, "", "");
    }
out:
    api_req_unref(req);
}

static void sub_store(struct api_req *req)
{
    struct sub_op *op = req->op;
    struct k8c_sbuf val;
    char errmsg[K8C_ERRMSG_SIZE];
    k8c_sbuf_init(&val);
    if (api_obj_encode_storage(req->res, op->obj, &val, errmsg) != 0) {
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        k8c_sbuf_free(&val);
        return;
    }
    if (req->dry_run) { /* the answer a write would get, at the object's revision */
        struct api_etcd_result res = {.rev = op->rev};
        k8c_sbuf_free(&val);
        api_req_ref(req);
        sub_written(req, &res);
        return;
    }
    api_req_ref(req);
    api_etcd_update(req->srv->etcd, req->key, (const uint8_t *)val.data, val.len, op->rev, 0,
                    sub_written, req);
    k8c_sbuf_free(&val);
}

static void bump_generation(ProtobufCMessage *obj)
{
    api_meta_t *m = api_obj_meta_ensure(obj);
    m->generation = (m->has_generation ? m->generation : 1) + 1;
    m->has_generation = true;
}

static void scale_apply(struct api_req *req)
{
    struct sub_op *op = req->op;
    scale_t *cur = make_scale(op->obj), *want = NULL;
    if (strcmp(op->method, "GET") == 0) {
        api_respond_object(req, 200, &cur->base);
        api_obj_free(&cur->base);
        return;
    }
    if (op->attempts == 0) {
        if (strcmp(op->method, "PUT") == 0) {
            want =
                (scale_t *)api_decode_body(req, &k8s__io__api__autoscaling__v1__scale__descriptor);
        } else {
            const char *type = api_patch_content_type(req);
            if (type != NULL)
                want = (scale_t *)api_patch_message(req, &cur->base, type, "autoscaling", "Scale");
        }
        if (want == NULL) {
            api_obj_free(&cur->base);
            return;
        }
        api_meta_t *wm = api_obj_meta(&want->base);
        if (wm != NULL && wm->resourceversion != NULL && wm->resourceversion[0] != '\0') {
            req->rv = strtoll(wm->resourceversion, NULL, 10);
            if (req->rv != op->rev) {
                api_obj_free(&want->base);
                api_obj_free(&cur->base);
                api_respond_store_error(req, K8C_ECONFLICT, NULL);
                return;
            }
        }
        op->replicas = want->spec && want->spec->has_replicas ? want->spec->replicas : 0;
        api_obj_free(&want->base);
        if (op->replicas < 0) {
            api_respond_statusf(req, 422, "Invalid",
                                "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid "
                                "value: %d: must be greater than or equal to 0",
                                req->name, op->replicas);
            api_obj_free(&cur->base);
            return;
        }
    }
    api_obj_free(&cur->base);
    if (get_replicas(op->obj, "spec") != op->replicas) {
        /* the parent's managedFields record the manager of spec.replicas, under "scale" */
        ProtobufCMessage *old = api_obj_copy(op->obj);
        set_replicas(op->obj, op->replicas);
        bump_generation(op->obj);
        api_track_update(req, old, &op->obj);
        api_obj_free(old);
    }
    sub_store(req);
}

typedef K8s__Io__Api__Core__V1__Pod pod_t;

static void binding_apply(struct api_req *req)
{
    struct sub_op *op = req->op;
    pod_t *pod = (pod_t *)op->obj;
    if (pod->spec == NULL) {
        pod->spec = k8c_malloc(sizeof(*pod->spec));
        k8s__io__api__core__v1__pod_spec__init(pod->spec);
    }
    if (pod->spec->nodename != NULL && pod->spec->nodename[0] != '\0') {
        api_respond_statusf(req, 409, "Conflict",
                            "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is "
                            "already assigned to node \"%s\"",
                            req->name, req->name, pod->spec->nodename);
        return;
    }
    api_meta_t *m = api_obj_meta(op->obj);
    if (m != NULL && m->deletiontimestamp != NULL) {
        api_respond_statusf(req, 409, "Conflict",
                            "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is being "
                            "deleted, cannot be assigned to a host",
                            req->name, req->name);
        return;
    }
    api_set_str(&pod->spec->nodename, op->node);
    K8s__Io__Api__Core__V1__PodCondition *c = api_pod_condition(pod, "PodScheduled");
    api_set_str(&c->status, "True");
    api_set_str(&c->reason, NULL);
    api_set_str(&c->message, NULL);
    if (c->lasttransitiontime != NULL)
        api_obj_free(&c->lasttransitiontime->base);
    c->lasttransitiontime = api_time_new(api_now());
    sub_store(req);
}

static void sub_got(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct sub_op *op = req->op;
    api_obj_free(op->obj);
    op->obj = NULL;
    if (api_req_gone(req) || (op->obj = api_read_found(req, res)) == NULL)
        goto out;
    op->rev = res->kv->mod_revision;
    if (op->kind == SUB_SCALE)
        scale_apply(req);
    else
        binding_apply(req);
out:
    api_req_unref(req);
}

static void sub_read(struct api_req *req)
{
    api_req_ref(req);
    api_etcd_range(req->srv->etcd, req->key, NULL, 0, 0, false, sub_got, req);
}

/* A subresource only created (POSTed): fn serves it, any other method is 405. */
static bool post_only(struct api_req *req, const char *method, void (*fn)(struct api_req *))
{
    if (strcmp(method, "POST") != 0)
        api_respond_status(req, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource");
    else
        fn(req);
    return true;
}

bool api_subresource(struct api_req *req)
{
    const char *method = k8c_http_stream_method(req->s);
    const struct api_resource *r = req->res;
    char key[1024];
    struct sub_op *op;

    if (strcmp(req->sub, "status") == 0 || strcmp(req->sub, "ephemeralcontainers") == 0 ||
        (strcmp(req->sub, "finalize") == 0 && (r->subresources & API_SUB_FINALIZE)))
        return false;   /* the object itself, through rest.c */
    if (api_proxy(req)) /* log, exec, attach, portforward, proxy: proxy.c */
        return true;
    if (strcmp(req->sub, "token") == 0 && (r->subresources & API_SUB_TOKEN))
        return post_only(req, method, api_token_request);
    if (strcmp(req->sub, "eviction") == 0 && (r->subresources & API_SUB_EVICTION))
        return post_only(req, method, api_evict);
    if (strcmp(req->sub, "scale") == 0 && (r->subresources & API_SUB_SCALE)) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "PUT") != 0 &&
            strcmp(method, "PATCH") != 0) {
            api_respond_status(req, 405, "MethodNotAllowed",
                               "the server does not allow this method on the requested resource");
            return true;
        }
        op = K8C_NEW(struct sub_op);
        op->kind = SUB_SCALE;
    } else if (strcmp(req->sub, "binding") == 0 && (r->subresources & API_SUB_BINDING)) {
        if (strcmp(method, "POST") != 0) {
            api_respond_status(req, 405, "MethodNotAllowed",
                               "the server does not allow this method on the requested resource");
            return true;
        }
        K8s__Io__Api__Core__V1__Binding *b = (K8s__Io__Api__Core__V1__Binding *)api_decode_body(
            req, &k8s__io__api__core__v1__binding__descriptor);
        if (b == NULL)
            return true;
        op = K8C_NEW(struct sub_op);
        op->kind = SUB_BINDING;
        if (b->target != NULL && b->target->name != NULL)
            snprintf(op->node, sizeof(op->node), "%s", b->target->name);
        api_obj_free(&b->base);
        if (op->node[0] == '\0') {
            k8c_free(op);
            api_respond_statusf(req, 422, "Invalid",
                                "Binding \"%s\" is invalid: target.name: Required value",
                                req->name);
            return true;
        }
    } else {
        api_respond_status(req, 404, "NotFound",
                           "the server could not find the requested resource");
        return true;
    }
    snprintf(op->method, sizeof(op->method), "%s", method);
    api_key(req->srv, r, req->ns, req->name, key, sizeof(key));
    req->key = k8c_strdup(key);
    req->op = op;
    req->op_free = (void (*)(void *))sub_op_free;
    sub_read(req);
    return true;
}
