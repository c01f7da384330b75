/*
 * Discovery and the other non-resource paths: /version, /healthz, /livez,
 * /readyz, /api, /apis, /api/v1, /apis/<group>, /apis/<group>/<version>
 * (legacy discovery, which kubectl and the Python dynamic client use), and
 * the OpenAPI documents. Documents are built from the resource table.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "object.h"
#include "openapi.h"
#include "limitrange.h"
#include "plugins.h"
#include "podsecurity.h"
#include "server.h"

#define K8C_GIT_VERSION "v1.32.0-k8c"

static void respond_tree(struct api_req *req, struct k8c_arena *a, struct k8c_json *t)
{
    struct k8c_sbuf out;
    k8c_sbuf_init(&out);
    k8c_json_write(&out, t, 0, 0);
    api_respond_raw(req, 200, "application/json", out.data, out.len);
    k8c_sbuf_free(&out);
    k8c_arena_del(a);
}

static struct k8c_json *str(struct k8c_arena *a, const char *s)
{
    return k8c_json_new_string(a, s);
}

static void add_list(struct k8c_arena *a, struct k8c_json *obj, const char *key, const char *csv)
{
    if (csv == NULL || csv[0] == '\0')
        return;
    struct k8c_json *arr = k8c_json_new_array(a);
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", csv);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        k8c_json_array_append(a, arr, str(a, t));
    k8c_json_set(a, obj, key, arr);
}

static struct k8c_json *verbs(struct k8c_arena *a, unsigned mask)
{
    struct k8c_json *arr = k8c_json_new_array(a);
    for (int i = 0; i < API_VERBS_N; i++)
        if (mask & (1u << i))
            k8c_json_array_append(a, arr, str(a, api_verb_names[i]));
    return arr;
}

static void add_sub(struct k8c_arena *a, struct k8c_json *list, const struct api_resource *r,
                    const char *sub, const char *group, const char *version, const char *kind,
                    const char *verb_csv)
{
    struct k8c_json *e = k8c_json_new_object(a);
    char name[128];
    snprintf(name, sizeof(name), "%s/%s", r->resource, sub);
    k8c_json_set(a, e, "name", str(a, name));
    k8c_json_set(a, e, "singularName", str(a, r->singular));
    k8c_json_set(a, e, "namespaced", k8c_json_new_bool(a, r->namespaced));
    if (group != NULL) {
        k8c_json_set(a, e, "group", str(a, group));
        k8c_json_set(a, e, "version", str(a, version));
    }
    k8c_json_set(a, e, "kind", str(a, kind));
    struct k8c_json *v = k8c_json_new_array(a);
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", verb_csv);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        k8c_json_array_append(a, v, str(a, t));
    k8c_json_set(a, e, "verbs", v);
    k8c_json_array_append(a, list, e);
}

static void resource_list(struct api_req *req, const char *group, const char *version)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *t = k8c_json_new_object(a), *list = k8c_json_new_array(a);
    size_t n;
    const struct api_resource *rs = api_resources(&n);
    char gv[128];
    bool any = false;

    if (group[0] == '\0')
        snprintf(gv, sizeof(gv), "%s", version);
    else
        snprintf(gv, sizeof(gv), "%s/%s", group, version);
    k8c_json_set(a, t, "kind", str(a, "APIResourceList"));
    k8c_json_set(a, t, "apiVersion", str(a, "v1"));
    k8c_json_set(a, t, "groupVersion", str(a, gv));
    for (size_t i = 0; i < n; i++) {
        const struct api_resource *r = &rs[i];
        if (strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
            continue;
        any = true;
        struct k8c_json *e = k8c_json_new_object(a);
        k8c_json_set(a, e, "name", str(a, r->resource));
        k8c_json_set(a, e, "singularName", str(a, r->singular));
        k8c_json_set(a, e, "namespaced", k8c_json_new_bool(a, r->namespaced));
        k8c_json_set(a, e, "kind", str(a, r->kind));
        k8c_json_set(a, e, "verbs", verbs(a, r->verbs));
        add_list(a, e, "shortNames", r->short_names);
        add_list(a, e, "categories", r->categories);
        k8c_json_array_append(a, list, e);
        unsigned s = r->subresources;
        if (s & API_SUB_FINALIZE)
            add_sub(a, list, r, "finalize", NULL, NULL, r->kind, "update");
        if (s & API_SUB_STATUS)
            add_sub(a, list, r, "status", NULL, NULL, r->kind, "get,patch,update");
        if (s & API_SUB_SCALE)
            add_sub(a, list, r, "scale", "autoscaling", "v1", "Scale", "get,patch,update");
        if (s & API_SUB_BINDING)
            add_sub(a, list, r, "binding", NULL, NULL, "Binding", "create");
        if (s & API_SUB_EVICTION)
            add_sub(a, list, r, "eviction", "policy", "v1", "Eviction", "create");
        if (s & API_SUB_TOKEN)
            add_sub(a, list, r, "token", "authentication.k8s.io", "v1", "TokenRequest", "create");
        if (s & API_SUB_LOG)
            add_sub(a, list, r, "log", NULL, NULL, "Pod", "get");
        if (s & API_SUB_EXEC)
            add_sub(a, list, r, "exec", NULL, NULL, "PodExecOptions", "create,get");
        if (s & API_SUB_ATTACH)
            add_sub(a, list, r, "attach", NULL, NULL, "PodAttachOptions", "create,get");
        if (s & API_SUB_PORTFORWARD)
            add_sub(a, list, r, "portforward", NULL, NULL, "PodPortForwardOptions", "create,get");
        if (s & API_SUB_EPHEMERAL)
            add_sub(a, list, r, "ephemeralcontainers", NULL, NULL, "Pod", "get,patch,update");
        if (s & API_SUB_PROXY) {
            char kind[64];
            snprintf(kind, sizeof(kind), "%sProxyOptions", r->kind);
            add_sub(a, list, r, "proxy", NULL, NULL, kind, "create,delete,get,patch,update");
        }
    }
    k8c_json_set(a, t, "resources", list);
    if (!any) {
        k8c_arena_del(a);
        api_respond_status(req, 404, "NotFound",
                           "the server could not find the requested resource");
        return;
    }
    respond_tree(req, a, t);
}

static struct k8c_json *group_json(struct k8c_arena *a, const char *group)
{
    struct k8c_json *g = k8c_json_new_object(a), *vs = k8c_json_new_array(a), *pref = NULL;
    size_t n;
    const char *const *gvs = api_group_versions(&n);
    size_t glen = strlen(group);
    k8c_json_set(a, g, "name", str(a, group));
    for (size_t i = 0; i < n; i++) {
        if (strncmp(gvs[i], group, glen) != 0 || gvs[i][glen] != '/')
            continue;
        struct k8c_json *v = k8c_json_new_object(a);
        k8c_json_set(a, v, "groupVersion", str(a, gvs[i]));
        k8c_json_set(a, v, "version", str(a, gvs[i] + glen + 1));
        k8c_json_array_append(a, vs, v);
        if (pref == NULL)
            pref = k8c_json_copy(a, v);
    }
    k8c_json_set(a, g, "versions", vs);
    if (pref != NULL)
        k8c_json_set(a, g, "preferredVersion", pref);
    return g;
}

static void group_list(struct api_req *req)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *t = k8c_json_new_object(a), *groups = k8c_json_new_array(a);
    size_t n;
    const char *const *gvs = api_group_versions(&n);
    k8c_json_set(a, t, "kind", str(a, "APIGroupList"));
    k8c_json_set(a, t, "apiVersion", str(a, "v1"));
    for (size_t i = 0; i < n; i++) {
        const char *slash = strchr(gvs[i], '/');
        if (slash == NULL)
            continue;
        char group[96];
        snprintf(group, sizeof(group), "%.*s", (int)(slash - gvs[i]), gvs[i]);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strncmp(gvs[j], group, strlen(group)) == 0 && gvs[j][strlen(group)] == '/';
        if (!seen)
            k8c_json_array_append(a, groups, group_json(a, group));
    }
    k8c_json_set(a, t, "groups", groups);
    respond_tree(req, a, t);
}

static void one_group(struct api_req *req, const char *group)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *g = group_json(a, group);
    struct k8c_json *vs = k8c_json_get(g, "versions");
    if (vs == NULL || vs->len == 0) {
        k8c_arena_del(a);
        api_respond_status(req, 404, "NotFound",
                           "the server could not find the requested resource");
        return;
    }
    struct k8c_json *t = k8c_json_new_object(a);
    k8c_json_set(a, t, "kind", str(a, "APIGroup"));
    k8c_json_set(a, t, "apiVersion", str(a, "v1"));
    k8c_json_set(a, t, "name", str(a, group));
    k8c_json_set(a, t, "versions", vs);
    k8c_json_set(a, t, "preferredVersion", k8c_json_get(g, "preferredVersion"));
    respond_tree(req, a, t);
}

static void version(struct api_req *req)
{
    static const char body[] =
        "{\n  \"major\": \"1\",\n  \"minor\": \"32\",\n  \"gitVersion\": \"" K8C_GIT_VERSION
        "\",\n  \"gitCommit\": \"0000000000000000000000000000000000000000\",\n"
        "  \"gitTreeState\": \"clean\",\n  \"buildDate\": \"2026-11-30T00:00:00Z\",\n"
        "  \"goVersion\": \"c11\",\n  \"compiler\": \"gcc\",\n  \"platform\": \"linux/amd64\"\n}";
    api_respond_raw(req, 200, "application/json", body, sizeof(body) - 1);
}

/* Whether Accept names the protobuf form of /openapi/v2 (either spelling upstream accepts). */
static bool v2_protobuf_wanted(struct api_req *req)
{
    const char *accept = req->s != NULL ? k8c_http_stream_header(req->s, "accept") : NULL;
    return accept != NULL && (strstr(accept, API_OPENAPI_V2_PROTOBUF) != NULL ||
                              strstr(accept, API_OPENAPI_V2_PROTOBUF_TYPE) != NULL);
}

static void openapi(struct api_req *req, const char *rest)
{
    struct k8c_sbuf out;
    const char *type = "application/json";
    int rc;
    k8c_sbuf_init(&out);
    if (strcmp(rest, "v2") == 0 && v2_protobuf_wanted(req)) {
        rc = api_openapi_v2_proto(&out);
        type = API_OPENAPI_V2_PROTOBUF_TYPE;
    } else if (strcmp(rest, "v2") == 0)
        rc = api_openapi_v2(&out);
    else if (strcmp(rest, "v3") == 0 || strcmp(rest, "v3/") == 0)
        rc = api_openapi_v3_index(&out);
    else if (strncmp(rest, "v3/", 3) == 0)
        rc = api_openapi_v3_doc(rest + 3, &out);
    else
        rc = -1;
    if (rc != 0)
        api_respond_status(req, 404, "NotFound",
                           "the server could not find the requested resource");
    else
        api_respond_raw(req, 200, type, out.data, out.len);
    k8c_sbuf_free(&out);
}

/* ---- aggregated discovery (apidiscovery.k8s.io/v2) ---- */

static struct k8c_json *response_kind(struct k8c_arena *a, const char *group, const char *version,
                                      const char *kind)
{
    struct k8c_json *k = k8c_json_new_object(a);
    k8c_json_set(a, k, "group", str(a, group));
    k8c_json_set(a, k, "version", str(a, version));
    k8c_json_set(a, k, "kind", str(a, kind));
    return k;
}

static void agg_sub(struct k8c_arena *a, struct k8c_json *subs, const char *name,
                    struct k8c_json *kind, const char *verb_csv)
{
    struct k8c_json *e = k8c_json_new_object(a), *v = k8c_json_new_array(a);
    char buf[128];
    k8c_json_set(a, e, "subresource", str(a, name));
    k8c_json_set(a, e, "responseKind", kind);
    snprintf(buf, sizeof(buf), "%s", verb_csv);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        k8c_json_array_append(a, v, str(a, t));
    k8c_json_set(a, e, "verbs", v);
    k8c_json_array_append(a, subs, e);
}

static struct k8c_json *agg_resource(struct k8c_arena *a, const struct api_resource *r)
{
    struct k8c_json *e = k8c_json_new_object(a), *subs = k8c_json_new_array(a);
    k8c_json_set(a, e, "resource", str(a, r->resource));
    k8c_json_set(a, e, "responseKind", response_kind(a, r->group, r->version, r->kind));
    k8c_json_set(a, e, "scope", str(a, r->namespaced ? "Namespaced" : "Cluster"));
    k8c_json_set(a, e, "singularResource", str(a, r->singular));
    k8c_json_set(a, e, "verbs", verbs(a, r->verbs));
    add_list(a, e, "shortNames", r->short_names);
    add_list(a, e, "categories", r->categories);
    unsigned s = r->subresources;
    if (s & API_SUB_FINALIZE)
        agg_sub(a, subs, "finalize", response_kind(a, r->group, r->version, r->kind), "update");
    if (s & API_SUB_STATUS)
        agg_sub(a, subs, "status", response_kind(a, r->group, r->version, r->kind),
                "get,patch,update");
    if (s & API_SUB_SCALE)
        agg_sub(a, subs, "scale", response_kind(a, "autoscaling", "v1", "Scale"),
                "get,patch,update");
    if (s & API_SUB_BINDING)
        agg_sub(a, subs, "binding", response_kind(a, "", "v1", "Binding"), "create");
    if (s & API_SUB_EVICTION)
        agg_sub(a, subs, "eviction", response_kind(a, "policy", "v1", "Eviction"), "create");
    if (s & API_SUB_TOKEN)
        agg_sub(a, subs, "token", response_kind(a, "authentication.k8s.io", "v1", "TokenRequest"),
                "create");
    if (s & API_SUB_LOG)
        agg_sub(a, subs, "log", response_kind(a, "", "v1", "Pod"), "get");
    if (s & API_SUB_EXEC)
        agg_sub(a, subs, "exec", response_kind(a, "", "v1", "PodExecOptions"), "create,get");
    if (s & API_SUB_ATTACH)
        agg_sub(a, subs, "attach", response_kind(a, "", "v1", "PodAttachOptions"), "create,get");
    if (s & API_SUB_PORTFORWARD)
        agg_sub(a, subs, "portforward", response_kind(a, "", "v1", "PodPortForwardOptions"),
                "create,get");
    if (s & API_SUB_EPHEMERAL)
        agg_sub(a, subs, "ephemeralcontainers", response_kind(a, "", "v1", "Pod"),
                "get,patch,update");
    if (s & API_SUB_PROXY) {
        char kind[64];
        snprintf(kind, sizeof(kind), "%sProxyOptions", r->kind);
        agg_sub(a, subs, "proxy", response_kind(a, "", "v1", kind),
                "create,delete,get,patch,update");
    }
    if (subs->len > 0)
        k8c_json_set(a, e, "subresources", subs);
    return e;
}

/* APIGroupDiscoveryList of the core group (legacy) or of every named group. */
static void aggregated(struct api_req *req, bool legacy)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *t = k8c_json_new_object(a), *items = k8c_json_new_array(a);
    size_t n, ngv;
    const struct api_resource *rs = api_resources(&n);
    const char *const *gvs = api_group_versions(&ngv);
    k8c_json_set(a, t, "kind", str(a, "APIGroupDiscoveryList"));
    k8c_json_set(a, t, "apiVersion", str(a, "apidiscovery.k8s.io/v2"));
    k8c_json_set(a, t, "metadata", k8c_json_new_object(a));
    for (size_t g = 0; g < ngv; g++) {
        const char *slash = strchr(gvs[g], '/');
        if (legacy != (slash == NULL))
            continue;
        char group[96];
        snprintf(group, sizeof(group), "%.*s", slash ? (int)(slash - gvs[g]) : 0, gvs[g]);
        const char *version = slash ? slash + 1 : gvs[g];
        /* one item per group, its versions in order */
        struct k8c_json *item = NULL;
        for (size_t i = 0; i < items->len && item == NULL; i++) {
            struct k8c_json *m = k8c_json_get(k8c_json_array_get(items, i), "metadata");
            struct k8c_json *nm = m ? k8c_json_get(m, "name") : NULL;
            if (nm != NULL && strcmp(nm->u.str, group) == 0)
                item = k8c_json_array_get(items, i);
        }
        if (item == NULL) {
            item = k8c_json_new_object(a);
            struct k8c_json *meta = k8c_json_new_object(a);
            if (!legacy)
                k8c_json_set(a, meta, "name", str(a, group));
            k8c_json_set(a, meta, "creationTimestamp", k8c_json_new_null(a));
            k8c_json_set(a, item, "metadata", meta);
            k8c_json_set(a, item, "versions", k8c_json_new_array(a));
            k8c_json_array_append(a, items, item);
        }
        struct k8c_json *v = k8c_json_new_object(a), *res = k8c_json_new_array(a);
        k8c_json_set(a, v, "version", str(a, version));
        for (size_t i = 0; i < n; i++)
            if (strcmp(rs[i].group, group) == 0 && strcmp(rs[i].version, version) == 0)
                k8c_json_array_append(a, res, agg_resource(a, &rs[i]));
        k8c_json_set(a, v, "resources", res);
        k8c_json_set(a, v, "freshness", str(a, "Current"));
        k8c_json_array_append(a, k8c_json_get(item, "versions"), v);
    }
    k8c_json_set(a, t, "items", items);
    struct k8c_sbuf out;
    k8c_sbuf_init(&out);
    k8c_json_write(&out, t, 0, 0);
    api_respond_raw(req, 200,
                    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
                    out.data, out.len);
    k8c_sbuf_free(&out);
    k8c_arena_del(a);
}

/* ---- /healthz, /livez, /readyz (lib/metrics.h's checks, upstream's names) ---- */

static int check_ok(void *arg, char *errmsg)
{
    (void)arg;
    (void)errmsg;
    return 0;
}

static int check_etcd(void *arg, char *errmsg)
{
    const struct api_server *srv = arg;
    if (srv->store_ok)
        return 0;
    k8c_errmsg_printf(errmsg, "the store does not answer");
    return K8C_EBUSY;
}

/* informer-sync: what admission reads from the watch cache is loaded */
static int check_informers(void *arg, char *errmsg)
{
    struct api_server *srv = arg;
    if (!srv->store_ok ||
        (api_limitranger_ready(srv) && api_plugins_ready(srv) && api_podsecurity_ready(srv)))
        return 0;
    k8c_errmsg_printf(errmsg, "caches not synced");
    return K8C_EBUSY;
}

/* poststarthook/bootstrap-controller: the namespaces, the kubernetes Service and the built-in
 * priority classes exist */
static int check_bootstrap(void *arg, char *errmsg)
{
    const struct api_server *srv = arg;
    if (srv->ready)
        return 0;
    k8c_errmsg_printf(errmsg, "not finished");
    return K8C_EBUSY;
}

static struct k8c_health *health_of(struct api_server *srv)
{
    if (srv->health == NULL) {
        srv->health = k8c_health_new();
        k8c_health_add(srv->health, "log", K8C_HEALTH_ALL, check_ok, srv);
        k8c_health_add(srv->health, "etcd", K8C_HEALTH_ALL, check_etcd, srv);
        k8c_health_add(srv->health, "etcd-readiness", K8C_HEALTH_READYZ, check_etcd, srv);
        k8c_health_add(srv->health, "informer-sync", K8C_HEALTH_READYZ, check_informers, srv);
        k8c_health_add(srv->health, "poststarthook/bootstrap-controller", K8C_HEALTH_ALL,
                       check_bootstrap, srv);
    }
    return srv->health;
}

/* /metrics, /healthz, /livez, /readyz and one check of each (/readyz/etcd), served by
 * lib/metrics; false when path is none of them */
static bool metrics_or_health(struct api_req *req, const char *path)
{
    struct k8c_metrics_endpoints ep = {req->srv->metrics, health_of(req->srv)};
    const char *ctype = "text/plain; charset=utf-8";
    struct k8c_sbuf body;
    int status = 200;
    k8c_sbuf_init(&body);
    bool served = k8c_metrics_http_handler(&ep, "GET", path, req->query, &status, &ctype, &body);
    if (served)
        api_respond_raw(req, status, ctype, body.data ? body.data : "", body.len);
    k8c_sbuf_free(&body);
    return served;
}

static bool wants_aggregated(struct api_req *req)
{
    const char *accept = k8c_http_stream_header(req->s, "accept");
    return accept != NULL && strstr(accept, "g=apidiscovery.k8s.io;v=v2") != NULL &&
           strstr(accept, "as=APIGroupDiscoveryList") != NULL;
}

bool api_discovery(struct api_req *req)
{
    const char *p = req->path;
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        len--;
    char path[512];
    snprintf(path, sizeof(path), "%.*s", (int)len, p);

    if (strcmp(path, "/version") == 0) {
        version(req);
    } else if (metrics_or_health(req, path)) {
        /* answered */
    } else if ((strcmp(path, "/api") == 0 || strcmp(path, "/apis") == 0) && wants_aggregated(req)) {
        aggregated(req, strcmp(path, "/api") == 0);
    } else if (strcmp(path, "/api") == 0) {
        char body[512];
        int n = snprintf(body, sizeof(body),
                         "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],"
                         "\"serverAddressByClientCIDRs\":[{\"clientCIDR\":\"0.0.0.0/0\","
                         "\"serverAddress\":\"%s:%d\"}]}",
                         req->srv->advertise_address ? req->srv->advertise_address : "127.0.0.1",
                         req->srv->secure_port);
        api_respond_raw(req, 200, "application/json", body, (size_t)n);
    } else if (strcmp(path, "/apis") == 0) {
        group_list(req);
    } else if (strcmp(path, "/api/v1") == 0) {
        resource_list(req, "", "v1");
    } else if (strncmp(path, "/apis/", 6) == 0 && strchr(path + 6, '/') == NULL) {
        one_group(req, path + 6);
    } else if (strncmp(path, "/apis/", 6) == 0 && strchr(strchr(path + 6, '/') + 1, '/') == NULL) {
        char group[96];
        const char *slash = strchr(path + 6, '/');
        snprintf(group, sizeof(group), "%.*s", (int)(slash - path - 6), path + 6);
        resource_list(req, group, slash + 1);
    } else if (strncmp(path, "/openapi/", 9) == 0) {
        openapi(req, path + 9);
    } else if (strcmp(path, "/") == 0) {
        static const char body[] = "{\"paths\":[\"/api\",\"/api/v1\",\"/apis\",\"/healthz\","
                                   "\"/livez\",\"/openapi/v2\",\"/openapi/v3\",\"/readyz\","
                                   "\"/version\"]}";
        api_respond_raw(req, 200, "application/json", body, sizeof(body) - 1);
    } else {
        return false;
    }
    return true;
}
