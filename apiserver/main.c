/*
 * k8c-apiserver: the Kubernetes REST API over the store.
 *
 * Flags are kube-apiserver's. At start it connects to the store, creates
 * what a cluster always has (the default, kube-system, kube-public and
 * kube-node-lease namespaces; the "kubernetes" Service in default with the
 * first address of the service range and its Endpoints), then serves
 * HTTPS (ALPN h2 and http/1.1) and, with --insecure-port, cleartext for
 * local tooling. SIGTERM stops it gracefully.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "defaults.h"
#include "error.h"
#include "flags.h"
#include "gc.h"
#include "log.h"
#include "object.h"
#include "proxy.h"
#include "resources.h"
#include "limitrange.h"
#include "plugins.h"
#include "satoken.h"
#include "server.h"
#include "signals.h"
#include "svcalloc.h"
#include "validate.h"
#include "watchcache.h"

static struct api_server server;
static struct k8c_http_server *http;
static uv_timer_t bootstrap_timer, probe_timer;

/* ---- store probe: /readyz fails while the store does not answer ---- */

static void probe_done(void *arg, const struct api_etcd_result *res)
{
    bool ok = res->err == 0;
    if (ok != server.store_ok)
        k8c_log_info("store %s", ok ? "reachable" : "unreachable");
    server.store_ok = ok;
}

static void on_probe_tick(uv_timer_t *t)
{
    if (server.etcd != NULL)
        api_etcd_range(server.etcd, "/registry/health", NULL, 0, 0, true, probe_done, NULL);
}

/* ---- bootstrap objects ---- */

struct boot {
    const struct api_resource *r;
    char key[512];
};

static int pending_boot;
static bool boot_failed; /* a create of this round failed: the next tick runs another round */

static void boot_created(void *arg, const struct api_etcd_result *res)
{
    struct boot *b = arg;
    if (res->err != 0 && res->err != K8C_EEXIST) {
        k8c_log_error("bootstrap: cannot create key=%s err=\"%s\" (retried)", b->key, res->errmsg);
        boot_failed = true;
    } else if (res->err == 0) {
        k8c_log_info("bootstrap: created key=%s", b->key);
    }
    /* Ready only once every object exists: a create that failed (no leader yet, a timeout)
     * would leave kube-system missing for good. */
    if (--pending_boot == 0 && !boot_failed) {
        server.ready = true;
        k8c_log_info("ready");
        api_gc_index_start(&server);
        api_gc_resume(&server);
    }
    if (pending_boot == 0)
        boot_failed = false;
    k8c_free(b);
}

/* Creates an object from JSON unless it exists. */
static void boot_object(const char *api_version, const char *kind, const char *json)
{
    const struct api_resource *r = api_resource_by_kind(api_version, kind);
    struct k8c_codec_diag d;
    ProtobufCMessage *obj = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    k8c_codec_diag_init(&d);
    if (r == NULL || k8c_codec_json_decode(r->desc, json, strlen(json), NULL, &d, &obj) != 0) {
        k8c_log_error("bootstrap: bad object kind=%s err=%s", kind, d.errmsg);
        k8c_codec_diag_free(&d);
        return;
    }
    k8c_codec_diag_free(&d);
    api_meta_t *m = api_obj_meta_ensure(obj);
    char uid[37];
    api_uuid(uid);
    api_set_str(&m->uid, uid);
    m->creationtimestamp = api_time_new(api_now());
    api_defaults_apply_create(r, obj);
    struct boot *b = K8C_NEW(struct boot);
    b->r = r;
    api_key(&server, r, m->namespace_, m->name, b->key, sizeof(b->key));
    struct k8c_sbuf val;
    k8c_sbuf_init(&val);
    if (api_obj_encode_storage(r, obj, &val, errmsg) == 0) {
        pending_boot++;
        api_etcd_create(server.etcd, b->key, (const uint8_t *)val.data, val.len, 0, boot_created,
                        b);
    } else {
        k8c_free(b);
    }
    k8c_sbuf_free(&val);
    api_obj_free(obj);
}

static void bootstrap(void)
{
    static const char *const namespaces[] = {"default", "kube-system", "kube-public",
                                             "kube-node-lease"};
    char json[2048], ip[INET_ADDRSTRLEN];
    for (size_t i = 0; i < 4; i++) {
        snprintf(json, sizeof(json), "{\"metadata\":{\"name\":\"%s\"}}", namespaces[i]);
        boot_object("v1", "Namespace", json);
    }
    struct in_addr a = {htonl(server.svc_base + 1)};
    inet_ntop(AF_INET, &a, ip, sizeof(ip));
    snprintf(json, sizeof(json),
             "{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\",\"labels\":"
             "{\"component\":\"apiserver\",\"provider\":\"kubernetes\"}},\"spec\":{\"type\":"
             "\"ClusterIP\",\"clusterIP\":\"%s\",\"clusterIPs\":[\"%s\"],\"sessionAffinity\":"
             "\"None\",\"ports\":[{\"name\":\"https\",\"port\":443,\"protocol\":\"TCP\","
             "\"targetPort\":%d}]}}",
             ip, ip, server.secure_port);
    boot_object("v1", "Service", json);
    api_alloc_reserve_ip(&server, ip, "default/kubernetes");
    snprintf(json, sizeof(json),
             "{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\",\"labels\":"
             "{\"endpointslice.kubernetes.io/skip-mirror\":\"true\"}},\"subsets\":[{"
             "\"addresses\":[{\"ip\":\"%s\"}],\"ports\":[{\"name\":\"https\",\"port\":%d,"
             "\"protocol\":\"TCP\"}]}]}",
             server.advertise_address, server.secure_port);
    boot_object("v1", "Endpoints", json);
    /* and its EndpointSlice, as upstream's endpoints reconciler writes it (what proxies read) */
    snprintf(json, sizeof(json),
             "{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\",\"labels\":"
             "{\"kubernetes.io/service-name\":\"kubernetes\"}},\"addressType\":\"IPv4\","
             "\"endpoints\":[{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":true}}],"
             "\"ports\":[{\"name\":\"https\",\"port\":%d,\"protocol\":\"TCP\"}]}",
             server.advertise_address, server.secure_port);
    boot_object("discovery.k8s.io/v1", "EndpointSlice", json);
    /* the built-in priority classes (upstream's scheduling bootstrap) */
    boot_object("scheduling.k8s.io/v1", "PriorityClass",
                "{\"metadata\":{\"name\":\"system-node-critical\"},\"value\":2000001000,"
                "\"description\":\"Used for system critical pods that must not be moved from "
                "their current node.\"}");
    boot_object("scheduling.k8s.io/v1", "PriorityClass",
                "{\"metadata\":{\"name\":\"system-cluster-critical\"},\"value\":2000000000,"
                "\"description\":\"Used for system critical pods that must run in the cluster, "
                "but can be moved to another node if necessary.\"}");
}

static void on_bootstrap_tick(uv_timer_t *t)
{
    if (server.ready) {
        uv_timer_stop(t);
        return;
    }
    if (pending_boot == 0)
        bootstrap();
}

/* ---- flags ---- */

static int parse_cidr(const char *cidr, uint32_t *base, uint32_t *size, char *errmsg)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", cidr);
    char *slash = strchr(buf, '/');
    struct in_addr a;
    int bits = slash ? atoi(slash + 1) : -1;
    if (slash != NULL)
        *slash = '\0';
    if (slash == NULL || inet_pton(AF_INET, buf, &a) != 1 || bits < 8 || bits > 30) {
        k8c_errmsg_printf(errmsg,
                          "invalid --service-cluster-ip-range \"%s\": want an IPv4 CIDR with a "
                          "prefix of 8 to 30 bits",
                          cidr);
        return K8C_EINVAL;
    }
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    *base = ntohl(a.s_addr) & mask;
    *size = 1u << (32 - bits);
    return 0;
}

static void on_signal(void *arg)
{
    k8c_log_info("shutting down");
    uv_timer_stop(&bootstrap_timer);
    uv_close((uv_handle_t *)&bootstrap_timer, NULL);
    uv_timer_stop(&probe_timer);
    uv_close((uv_handle_t *)&probe_timer, NULL);
    api_watchcache_shutdown(&server);
    api_gc_shutdown(&server);
    k8c_http_server_del(http);
    http = NULL;
    api_etcd_del(server.etcd);
    api_satoken_free(&server);
    server.etcd = NULL;
    k8c_signals_close();
}

int main(int argc, char **argv)
{
    char *etcd_servers = "", *etcd_prefix = "/registry", *etcd_ca = "", *etcd_cert = "",
         *etcd_key = "", *bind = "0.0.0.0", *tls_cert = "", *tls_key = "", *client_ca = "",
         *token_file = "", *svc_range = "10.0.0.0/24", *node_ports = "30000-32767", *advertise = "",
         *insecure_bind = "127.0.0.1";
    int watch_cache_size = 4096, fanout_batch = 1000;
    char *sa_issuer = "", *sa_signing_key = "", *sa_key = "", *api_audiences = "";
    int64_t sa_max_expiration = 0;
    char *kubelet_ca = "", *kubelet_cert = "", *kubelet_key = "";
    int secure_port = 6443, insecure_port = 0, max_inflight = 400, max_mutating = 200;
    int min_request_timeout = 1800;
    int64_t request_timeout = 60000, event_ttl = 3600000;
    bool anonymous = false, allow_privileged = false;
    char errmsg[K8C_ERRMSG_SIZE], addr[300];
    int first, rc;
    const struct k8c_flag flags[] = {
        {"etcd-servers", K8C_FLAG_STRING, &etcd_servers,
         "store servers (etcd v3 API), comma-separated URLs"},
        {"etcd-prefix", K8C_FLAG_STRING, &etcd_prefix, "key prefix of every object in the store"},
        {"etcd-cafile", K8C_FLAG_STRING, &etcd_ca, "CA that signs the store's certificates"},
        {"etcd-certfile", K8C_FLAG_STRING, &etcd_cert, "client certificate for the store"},
        {"etcd-keyfile", K8C_FLAG_STRING, &etcd_key, "its key"},
        {"bind-address", K8C_FLAG_STRING, &bind, "address the secure port listens on"},
        {"secure-port", K8C_FLAG_INT, &secure_port, "HTTPS port (0: none)"},
        {"insecure-bind-address", K8C_FLAG_STRING, &insecure_bind, "address of the cleartext port"},
        {"insecure-port", K8C_FLAG_INT, &insecure_port,
         "cleartext port for local tooling (0: none); no authentication is possible on it but "
         "tokens"},
        {"tls-cert-file", K8C_FLAG_STRING, &tls_cert, "serving certificate (PEM)"},
        {"tls-private-key-file", K8C_FLAG_STRING, &tls_key, "serving key (PEM)"},
        {"client-ca-file", K8C_FLAG_STRING, &client_ca,
         "CA for client certificates: CN is the user, O the groups"},
        {"token-auth-file", K8C_FLAG_STRING, &token_file,
         "static tokens (CSV: token,user,uid,\"groups\")"},
        {"anonymous-auth", K8C_FLAG_BOOL, &anonymous,
         "serve requests without credentials as system:anonymous"},
        {"allow-privileged", K8C_FLAG_BOOL, &allow_privileged,
         "allow privileged containers (off: their pods are refused)"},
        {"service-cluster-ip-range", K8C_FLAG_STRING, &svc_range, "CIDR for service cluster IPs"},
        {"service-node-port-range", K8C_FLAG_STRING, &node_ports,
         "port range for NodePort services"},
        {"max-requests-inflight", K8C_FLAG_INT, &max_inflight,
         "concurrent non-mutating requests (0: no limit)"},
        {"max-mutating-requests-inflight", K8C_FLAG_INT, &max_mutating,
         "concurrent mutating requests (0: no limit)"},
        {"request-timeout", K8C_FLAG_DURATION, &request_timeout,
         "timeout of store calls for a request"},
        {"min-request-timeout", K8C_FLAG_INT, &min_request_timeout,
         "seconds a watch lasts at least when it sets no timeoutSeconds (at most twice that)"},
        {"event-ttl", K8C_FLAG_DURATION, &event_ttl, "how long events are kept (default 1h)"},
        {"advertise-address", K8C_FLAG_STRING, &advertise,
         "address published in the kubernetes Endpoints"},
        {"kubelet-certificate-authority", K8C_FLAG_STRING, &kubelet_ca,
         "CA that signs kubelet serving certificates (unset: not verified)"},
        {"kubelet-client-certificate", K8C_FLAG_STRING, &kubelet_cert,
         "client certificate for kubelets"},
        {"kubelet-client-key", K8C_FLAG_STRING, &kubelet_key, "its key"},
        {"watch-cache-size", K8C_FLAG_INT, &watch_cache_size,
         "events the watch cache keeps per resource"},
        {"service-account-issuer", K8C_FLAG_STRING, &sa_issuer,
         "iss of the service account tokens this server issues (TokenRequest needs it)"},
        {"service-account-signing-key-file", K8C_FLAG_STRING, &sa_signing_key,
         "RSA private key (PEM) that signs service account tokens"},
        {"service-account-key-file", K8C_FLAG_STRING, &sa_key,
         "PEM keys (public, private or certificates) that verify service account tokens "
         "(default: the signing key)"},
        {"api-audiences", K8C_FLAG_STRING, &api_audiences,
         "audiences of the API, comma-separated (default: the issuer)"},
        {"service-account-max-token-expiration", K8C_FLAG_DURATION, &sa_max_expiration,
         "longest life of a requested token (0: as asked)"},
        {"watch-cache-fanout-batch", K8C_FLAG_INT, &fanout_batch,
         "watchers an event fan-out serves per event-loop turn (k8c only)"},
        {"v", K8C_FLAG_INT, &k8c_log_verbosity, "log verbosity"},
    };
    rc = k8c_flags_parse(flags, sizeof(flags) / sizeof(flags[0]), argc, argv, &first, errmsg);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "Error: %s\n", errmsg);
        return rc < 0 ? 2 : 0;
    }
    if (first < argc) { /* as kube-apiserver: flags after a stray word would be lost */
        fprintf(stderr, "Error: \"k8c-apiserver\" does not take any arguments, got [");
        for (int i = first; i < argc; i++)
            fprintf(stderr, "%s\"%.200s\"", i > first ? " " : "", argv[i]);
        fprintf(stderr, "]\n");
        return 2;
    }
    k8c_log_init("apiserver");
    if ((rc = api_resources_init(errmsg)) != 0) {
        k8c_log_error("resource table err=%s", errmsg);
        return 1;
    }
    server.loop = uv_default_loop();
    server.prefix = etcd_prefix;
    server.anonymous = anonymous;
    api_validate_set_allow_privileged(allow_privileged);
    server.max_inflight = max_inflight;
    server.max_mutating = max_mutating;
    server.request_timeout_ms = request_timeout;
    if (min_request_timeout < 0 || min_request_timeout > 1000000) {
        fprintf(stderr, "Error: --min-request-timeout must be between 0 and 1000000, got %d\n",
                min_request_timeout);
        return 2;
    }
    server.min_request_timeout_s = min_request_timeout;
    if (event_ttl < 1000 || event_ttl > 366LL * 24 * 3600 * 1000) {
        fprintf(stderr, "Error: --event-ttl must be between 1s and 8784h, got %" PRId64 "ms\n",
                event_ttl);
        return 2;
    }
    server.event_ttl_s = event_ttl / 1000;
    server.secure_port = secure_port ? secure_port : insecure_port;
    server.advertise_address = advertise[0]                   ? advertise
                               : strcmp(bind, "0.0.0.0") == 0 ? "127.0.0.1"
                                                              : bind;
    if (parse_cidr(svc_range, &server.svc_base, &server.svc_size, errmsg) != 0 ||
        sscanf(node_ports, "%d-%d", &server.node_port_lo, &server.node_port_hi) != 2 ||
        server.node_port_lo < 1 || server.node_port_hi > 65535 ||
        server.node_port_lo > server.node_port_hi) {
        fprintf(stderr, "Error: %s\n",
                errmsg[0] ? errmsg : "invalid --service-node-port-range: want low-high");
        return 2;
    }
    server.service_cidr = svc_range;
    if (watch_cache_size < 1 || watch_cache_size > 1000000) {
        fprintf(stderr, "Error: --watch-cache-size must be between 1 and 1000000\n");
        return 2;
    }
    api_watchcache_window = (size_t)watch_cache_size;
    if (fanout_batch < 1) {
        fprintf(stderr, "Error: --watch-cache-fanout-batch must be at least 1\n");
        return 2;
    }
    api_watchcache_fanout_batch = (size_t)fanout_batch;
    if (token_file[0] != '\0' && api_load_tokens(&server, token_file, errmsg) != 0) {
        fprintf(stderr, "Error: %s\n", errmsg);
        return 2;
    }
    if (secure_port != 0 && (tls_cert[0] == '\0' || tls_key[0] == '\0')) {
        fprintf(stderr, "Error: --secure-port needs --tls-cert-file and --tls-private-key-file\n");
        return 2;
    }
    struct api_satoken_config sac = {.issuer = sa_issuer,
                                     .signing_key_file = sa_signing_key,
                                     .key_file = sa_key,
                                     .audiences = api_audiences,
                                     .max_expiration_s = sa_max_expiration / 1000};
    if (api_satoken_init(&server, &sac, errmsg, sizeof(errmsg)) != 0) {
        fprintf(stderr, "Error: %s\n", errmsg);
        api_satoken_free(&server);
        return 2;
    }
    server.etcd_ca = etcd_ca;
    server.etcd_cert = etcd_cert;
    server.etcd_key = etcd_key;
    struct api_etcd_options eo = {.servers = etcd_servers,
                                  .ca_file = etcd_ca,
                                  .cert_file = etcd_cert,
                                  .key_file = etcd_key,
                                  .timeout_ms = request_timeout};
    server.etcd = api_etcd_new(server.loop, &eo, errmsg);
    if (server.etcd == NULL) {
        fprintf(stderr, "Error: %s\n", errmsg);
        return 2;
    }
    api_satoken_prime(&server);
    api_limitranger_prime(&server);
    api_plugins_prime(&server);
    struct api_proxy_options po = {
        .kubelet_ca_file = kubelet_ca[0] ? kubelet_ca : NULL,
        .kubelet_cert_file = kubelet_cert[0] ? kubelet_cert : NULL,
        .kubelet_key_file = kubelet_key[0] ? kubelet_key : NULL,
    };
    api_proxy_configure(&po);
    server.metrics = k8c_metrics_new();
    k8c_metrics_register_process(server.metrics);
    struct k8c_metric *inflight = k8c_metrics_gauge(
        server.metrics, "apiserver_current_inflight_requests",
        "Requests being served now, by kind (readOnly, mutating), against the in-flight limits.",
        "request_kind");
    server.inflight_readonly = K8C_METRIC_WITH(inflight, "readOnly");
    server.inflight_mutating = K8C_METRIC_WITH(inflight, "mutating");
    api_inflight_changed(&server);
    server.requests_total = k8c_metrics_counter(
        server.metrics, "apiserver_request_total",
        "Requests answered, by verb, group, version, resource, subresource, scope, component "
        "and HTTP code.",
        "verb,group,version,resource,subresource,scope,component,code");
    static const double buckets[] = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2,
                                     3,     4,     5,    6,   8,   10,  15,  20,  30,  45,   60};
    server.request_seconds =
        k8c_metrics_histogram(server.metrics, "apiserver_request_duration_seconds",
                              "Time from the request to the end of its response, in seconds.",
                              "verb,group,version,resource,subresource,scope,component", buckets,
                              sizeof(buckets) / sizeof(buckets[0]));

    /* A watch event goes to each connection's streams in turn (see
     * flush_early_bytes). With 1 MiB per connection in flight, a fan-out to
     * 100 connections kept (and page-faulted in) 400 MB of TLS buffers and
     * let each fall a megabyte behind: bench/watch at 10k watchers had a p99
     * of 2.8 s, 0.15-0.4 s with 64 KiB. Writes the kernel takes at once
     * (lib/http's try_write) let an early flush go on past the mark: 10k JSON
     * watchers, p99 0.9-2 s before, 45-210 ms after. An early flush at 64 KiB
     * (about 55 JSON pod events) fills one write: p50 27-31 ms against 25-52
     * ms at 32 KiB, p99 under 110 ms in 7 of 8 runs against 8 of 15 (the
     * machine is the noise). */
    struct k8c_http_server_options ho = {.flush_early_bytes = 64 * 1024,
                                         .write_high_water = 64 * 1024};
    http = k8c_http_server_new(server.loop, &ho, api_on_request, &server);
    if (secure_port != 0) {
        struct k8c_http_listen_options lo = {
            .cert_file = tls_cert, .key_file = tls_key, .client_ca_file = client_ca};
        snprintf(addr, sizeof(addr), strchr(bind, ':') ? "[%s]:%d" : "%s:%d", bind, secure_port);
        if ((rc = k8c_http_server_listen(http, addr, &lo, errmsg)) != 0) {
            k8c_log_error("cannot listen addr=%s err=\"%s\"", addr, errmsg);
            return 1;
        }
        k8c_log_info("serving securely addr=%s", addr);
    }
    if (insecure_port != 0) {
        snprintf(addr, sizeof(addr), "%s:%d", insecure_bind, insecure_port);
        if ((rc = k8c_http_server_listen(http, addr, NULL, errmsg)) != 0) {
            k8c_log_error("cannot listen addr=%s err=\"%s\"", addr, errmsg);
            return 1;
        }
        k8c_log_info("serving cleartext addr=%s", addr);
    }
    k8c_signals_init(server.loop, on_signal, NULL);
    uv_timer_init(server.loop, &probe_timer);
    uv_timer_start(&probe_timer, on_probe_tick, 0, 2000);
    uv_timer_init(server.loop, &bootstrap_timer);
    uv_timer_start(&bootstrap_timer, on_bootstrap_tick, 0, 1000);
    uv_run(server.loop, UV_RUN_DEFAULT);
    k8c_metrics_del(server.metrics);
    k8c_health_del(server.health);
    uv_loop_close(server.loop);
    return 0;
}
