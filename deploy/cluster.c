/*
 * `k8c up`, `k8c status` and `k8c down`: the local control plane as a set of
 * detached processes; see cluster.h.
 *
 * up generates the PKI once (a CA, a serving+client certificate per store
 * peer, a client certificate for the API server and an admin certificate in
 * group system:masters), starts three k8c-store peers on loopback, then the
 * API server when its binary exists, and waits until every process answers
 * on its port. Processes are found again through their pid files, so status
 * and down work from any shell.
 */
#include "cluster.h"

#include "error.h"
#include "codec.h"
#include "grpc.h"
#include "http.h"
#include "json.h"
#include "flags.h"
#include "pki.h"

#include "etcd/rpc.pb-c.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STORE_PEERS       3
#define STORE_CLIENT_PORT 32379 /* peer i listens for clients on 32379+i */
#define STORE_PEER_PORT   32380 /* and for raft on 32390+i */
#define APISERVER_PORT    6443
#define APISERVERS        2 /* two API servers on the same store: 6443 and 6444 */

struct proc {
    char name[32];
    int port;                /* answers on 127.0.0.1:port when up */
    char args[24][PATH_MAX]; /* argv after the binary */
    int nargs;
    char binary[PATH_MAX];
};

static char state_dir[PATH_MAX / 2];
static char bin_dir[PATH_MAX / 2];

static void set_defaults(void)
{
    const char *home = getenv("HOME");
    const char *env = getenv("K8C_STATE_DIR");
    char exe[PATH_MAX / 2];
    ssize_t n;

    if (env && *env)
        snprintf(state_dir, sizeof(state_dir), "%s", env);
    else
        snprintf(state_dir, sizeof(state_dir), "%s/.k8c", home && *home ? home : "/root");
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    if (strrchr(exe, '/'))
        *strrchr(exe, '/') = '\0';
    snprintf(bin_dir, sizeof(bin_dir), "%s", exe);
}

static int mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static void add_arg(struct proc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_arg(struct proc *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->args[p->nargs++], PATH_MAX, fmt, ap);
    va_end(ap);
}

/* The processes of the control plane, in start order. Returns the count. */
static int plan(struct proc *procs)
{
    char cluster[1024] = "";
    int n = 0;

    for (int i = 0; i < STORE_PEERS; i++) {
        size_t len = strlen(cluster);
        snprintf(cluster + len, sizeof(cluster) - len, "%sstore%d=https://127.0.0.1:%d",
                 i ? "," : "", i, STORE_PEER_PORT + 10 + i);
    }
    for (int i = 0; i < STORE_PEERS; i++) {
        struct proc *p = &procs[n++];
        memset(p, 0, sizeof(*p));
        snprintf(p->name, sizeof(p->name), "store%d", i);
        snprintf(p->binary, sizeof(p->binary), "%s/k8c-store", bin_dir);
        p->port = STORE_CLIENT_PORT + i;
        add_arg(p, "--name=%s", p->name);
        add_arg(p, "--data-dir=%s/data/%s", state_dir, p->name);
        add_arg(p, "--listen-client-urls=https://127.0.0.1:%d", p->port);
        add_arg(p, "--advertise-client-urls=https://127.0.0.1:%d", p->port);
        add_arg(p, "--listen-peer-urls=https://127.0.0.1:%d", STORE_PEER_PORT + 10 + i);
        add_arg(p, "--initial-advertise-peer-urls=https://127.0.0.1:%d", STORE_PEER_PORT + 10 + i);
        add_arg(p, "--initial-cluster=%s", cluster);
        add_arg(p, "--initial-cluster-state=new");
        add_arg(p, "--initial-cluster-token=k8c-local");
        add_arg(p, "--cert-file=%s/pki/%s.crt", state_dir, p->name);
        add_arg(p, "--key-file=%s/pki/%s.key", state_dir, p->name);
        add_arg(p, "--trusted-ca-file=%s/pki/ca.crt", state_dir);
        add_arg(p, "--client-cert-auth");
    }
    for (int a = 0; a < APISERVERS; a++) {
        struct proc *p = &procs[n];
        char servers[512] = "";
        memset(p, 0, sizeof(*p));
        snprintf(p->name, sizeof(p->name), a == 0 ? "apiserver" : "apiserver%d", a + 1);
        snprintf(p->binary, sizeof(p->binary), "%s/k8c-apiserver", bin_dir);
        if (access(p->binary, X_OK) != 0)
            break;
        for (int i = 0; i < STORE_PEERS; i++) {
            size_t len = strlen(servers);
            /* each apiserver lists the peers from a different one first */
            snprintf(servers + len, sizeof(servers) - len, "%shttps://127.0.0.1:%d", i ? "," : "",
                     STORE_CLIENT_PORT + (i + a) % STORE_PEERS);
        }
        p->port = APISERVER_PORT + a;
        add_arg(p, "--etcd-servers=%s", servers);
        add_arg(p, "--etcd-cafile=%s/pki/ca.crt", state_dir);
        add_arg(p, "--etcd-certfile=%s/pki/apiserver-etcd-client.crt", state_dir);
        add_arg(p, "--etcd-keyfile=%s/pki/apiserver-etcd-client.key", state_dir);
        add_arg(p, "--bind-address=127.0.0.1");
        add_arg(p, "--secure-port=%d", APISERVER_PORT + a);
        add_arg(p, "--tls-cert-file=%s/pki/apiserver.crt", state_dir);
        add_arg(p, "--tls-private-key-file=%s/pki/apiserver.key", state_dir);
        add_arg(p, "--client-ca-file=%s/pki/ca.crt", state_dir);
        add_arg(p, "--service-cluster-ip-range=198.19.0.0/16");
        /* as kubeadm and kind run kube-apiserver: node agents run privileged pods */
        add_arg(p, "--allow-privileged=true");
        /* service account tokens (kubectl create token), one key for both */
        add_arg(p, "--service-account-issuer=https://kubernetes.default.svc.cluster.local");
        add_arg(p, "--service-account-signing-key-file=%s/pki/sa.key", state_dir);
        add_arg(p, "--service-account-key-file=%s/pki/sa.pub", state_dir);
        n++;
    }
    return n;
}

static int make_pki(void)
{
    char dir[PATH_MAX / 2 + 8], errmsg[K8C_ERRMSG_SIZE] = "";
    const char *const local_dns[] = {"localhost", NULL};
    const char *const local_ips[] = {"127.0.0.1", "::1", NULL};
    const char *const api_dns[] = {"localhost",
                                   "kubernetes",
                                   "kubernetes.default",
                                   "kubernetes.default.svc",
                                   "kubernetes.default.svc.cluster.local",
                                   NULL};
    const char *const api_ips[] = {"127.0.0.1", "::1", "198.19.0.1", NULL};
    const char *const masters[] = {"system:masters", NULL};
    struct k8c_pki_cert_spec specs[STORE_PEERS + 3];
    char names[STORE_PEERS][16];
    int n = 0, rv;

    snprintf(dir, sizeof(dir), "%s/pki", state_dir);
    if ((rv = k8c_pki_ensure_ca(dir, "k8c-ca", errmsg)) != 0) {
        fprintf(stderr, "error: %s\n", errmsg);
        return rv;
    }
    for (int i = 0; i < STORE_PEERS; i++) {
        snprintf(names[i], sizeof(names[i]), "store%d", i);
        specs[n++] = (struct k8c_pki_cert_spec){
            names[i], names[i], NULL, local_dns, local_ips, K8C_PKI_SERVER | K8C_PKI_CLIENT, 0};
    }
    specs[n++] = (struct k8c_pki_cert_spec){"apiserver", "kube-apiserver", NULL, api_dns,
                                            api_ips,     K8C_PKI_SERVER,   0};
    specs[n++] = (struct k8c_pki_cert_spec){
        "apiserver-etcd-client", "kube-apiserver-etcd-client", NULL, NULL, NULL, K8C_PKI_CLIENT, 0};
    specs[n++] = (struct k8c_pki_cert_spec){"admin", "kubernetes-admin", masters, NULL,
                                            NULL,    K8C_PKI_CLIENT,     0};
    for (int i = 0; i < n; i++) {
        char crt[PATH_MAX];
        snprintf(crt, sizeof(crt), "%s/%s.crt", dir, specs[i].name);
        if (access(crt, R_OK) == 0)
            continue; /* issued by an earlier up */
        if ((rv = k8c_pki_issue(dir, &specs[i], errmsg)) != 0) {
            fprintf(stderr, "error: %s\n", errmsg);
            return rv;
        }
    }
    if ((rv = k8c_pki_ensure_rsa_key(dir, "sa", 2048, errmsg)) != 0) {
        fprintf(stderr, "error: %s\n", errmsg);
        return rv;
    }
    return 0;
}

static void pid_path(const struct proc *p, char *out, size_t size)
{
    snprintf(out, size, "%s/run/%s.pid", state_dir, p->name);
}

/* The pid of a running process started by us, or 0. */
static pid_t running_pid(const struct proc *p)
{
    char path[PATH_MAX], comm[PATH_MAX], exe[PATH_MAX];
    FILE *f;
    long pid = 0;
    ssize_t n;

    pid_path(p, path, sizeof(path));
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid <= 0 || kill((pid_t)pid, 0) != 0)
        return 0;
    /* A recycled pid belongs to another program: check the executable. */
    snprintf(comm, sizeof(comm), "/proc/%ld/exe", pid);
    n = readlink(comm, exe, sizeof(exe) - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    if (strstr(exe, strrchr(p->binary, '/') + 1) == NULL)
        return 0;
    return (pid_t)pid;
}

static bool port_open(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

struct status_probe {
    bool done;
    uint64_t leader;
};

static void on_status(int status, const char *message, const ProtobufCMessage *response, void *arg)
{
    struct status_probe *probe = arg;
    probe->done = true;
    if (status == K8C_GRPC_OK && response)
        probe->leader = ((const Etcdserverpb__StatusResponse *)response)->leader;
}

/* True when the store peer on port answers Maintenance/Status over mutual TLS
 * and knows a raft leader. */
static bool store_has_leader(int port)
{
    Etcdserverpb__StatusRequest req = ETCDSERVERPB__STATUS_REQUEST__INIT;
    struct k8c_grpc_channel_options copts = {0};
    struct status_probe probe = {0};
    char target[64], ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], errmsg[K8C_ERRMSG_SIZE];
    struct k8c_grpc_channel *ch;
    uv_loop_t loop;

    snprintf(target, sizeof(target), "127.0.0.1:%d", port);
    snprintf(ca, sizeof(ca), "%s/pki/ca.crt", state_dir);
    snprintf(cert, sizeof(cert), "%s/pki/admin.crt", state_dir);
    snprintf(key, sizeof(key), "%s/pki/admin.key", state_dir);
    copts.ca_file = ca;
    copts.cert_file = cert;
    copts.key_file = key;
    if (uv_loop_init(&loop) != 0)
        return false;
    ch = k8c_grpc_channel_new(&loop, target, &copts, errmsg);
    if (ch != NULL) {
        if (k8c_grpc_unary(ch, "/etcdserverpb.Maintenance/Status", &req.base,
                           &etcdserverpb__status_response__descriptor, 1000, on_status,
                           &probe) == 0) {
            while (!probe.done && uv_run(&loop, UV_RUN_ONCE))
                ;
        }
        k8c_grpc_channel_del(ch);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return probe.leader != 0;
}

struct readyz_probe {
    bool done;
    int status;
};

static void readyz_header(struct k8c_http_client_stream *s, const char *name, const char *value,
                          void *arg)
{
    struct readyz_probe *probe = arg;
    if (strcmp(name, ":status") == 0)
        probe->status = atoi(value);
}

static void readyz_close(struct k8c_http_client_stream *s, int error, uint32_t rst, const char *why,
                         void *arg)
{
    struct readyz_probe *probe = arg;
    probe->done = true;
}

static void readyz_timeout(uv_timer_t *t)
{
    (void)t; /* the wait loop sees the timer inactive and gives up */
}

/* True when the API server on port answers GET /readyz with 200 (HTTP/2 over
 * TLS with the admin certificate). */
static bool apiserver_ready(int port)
{
    static const struct k8c_http_client_ops ops = {.on_header = readyz_header,
                                                   .on_close = readyz_close};
    struct k8c_http_client_options o = {0};
    struct readyz_probe probe = {0};
    char target[64], ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], errmsg[K8C_ERRMSG_SIZE];
    uv_loop_t loop;
    uv_timer_t timer;

    snprintf(target, sizeof(target), "127.0.0.1:%d", port);
    snprintf(ca, sizeof(ca), "%s/pki/ca.crt", state_dir);
    snprintf(cert, sizeof(cert), "%s/pki/admin.crt", state_dir);
    snprintf(key, sizeof(key), "%s/pki/admin.key", state_dir);
    o.ca_file = ca;
    o.cert_file = cert;
    o.key_file = key;
    if (uv_loop_init(&loop) != 0)
        return false;
    struct k8c_http_client *c = k8c_http_client_new(&loop, target, &o, errmsg);
    if (c != NULL) {
        struct k8c_http_header h[] = {
            {":method", "GET"}, {":scheme", "https"}, {":path", "/readyz"}, {":authority", target}};
        struct k8c_http_client_stream *s = k8c_http_client_request(c, h, 4, &ops, &probe);
        if (s != NULL) {
            k8c_http_client_stream_end(s);
            uv_timer_init(&loop, &timer);
            uv_timer_start(&timer, readyz_timeout, 1000, 0);
            while (!probe.done && uv_run(&loop, UV_RUN_ONCE) && uv_is_active((uv_handle_t *)&timer))
                ;
            uv_close((uv_handle_t *)&timer, NULL);
        }
        k8c_http_client_del(c);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return probe.status == 200;
}

static int start(const struct proc *p)
{
    char log_path[PATH_MAX], pidfile[PATH_MAX];
    char *argv[32];
    pid_t pid;
    FILE *f;

    if (access(p->binary, X_OK) != 0) {
        fprintf(stderr, "error: %s not found; build it first\n", p->binary);
        return -ENOENT;
    }
    snprintf(log_path, sizeof(log_path), "%s/logs/%s.log", state_dir, p->name);
    argv[0] = (char *)p->binary;
    for (int i = 0; i < p->nargs; i++)
        argv[i + 1] = (char *)p->args[i];
    argv[p->nargs + 1] = NULL;
    /* The child reports a failure before its exec through the pipe; the
     * exec closes it. Returning only then, the process is the binary by the
     * time running_pid looks (a child not yet exec'd still runs this
     * program, and up took it for one that had exited). */
    int sync[2];
    if (pipe(sync) != 0)
        return -errno;
    fcntl(sync[0], F_SETFD, FD_CLOEXEC);
    fcntl(sync[1], F_SETFD, FD_CLOEXEC);
    pid = fork();
    if (pid < 0) {
        int err = errno;
        close(sync[0]);
        close(sync[1]);
        return -err;
    }
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int null = open("/dev/null", O_RDONLY);
        if (fd >= 0 && null >= 0) {
            setsid();
            dup2(null, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            execv(p->binary, argv);
        }
        int err = errno;
        ssize_t w = write(sync[1], &err, sizeof(err));
        (void)w;
        _exit(127);
    }
    close(sync[1]);
    int err = 0;
    ssize_t got;
    while ((got = read(sync[0], &err, sizeof(err))) < 0 && errno == EINTR)
        ;
    close(sync[0]);
    if (got > 0) {
        waitpid(pid, NULL, 0);
        return -(err ? err : EIO);
    }
    pid_path(p, pidfile, sizeof(pidfile));
    if ((f = fopen(pidfile, "w")) == NULL)
        return -errno;
    fprintf(f, "%ld\n", (long)pid);
    fclose(f);
    return 0;
}

static int parse_common(int argc, char **argv, bool *purge)
{
    static char *state_flag;
    char errmsg[K8C_ERRMSG_SIZE];
    struct k8c_flag flags[] = {
        {"state-dir", K8C_FLAG_STRING, &state_flag, "folder for PKI, data, logs (default ~/.k8c)"},
        {"purge", K8C_FLAG_BOOL, purge, "down: also remove data, PKI and logs"},
    };
    int first, rv;

    set_defaults();
    rv = k8c_flags_parse(flags, purge ? 2 : 1, argc, argv, &first, errmsg);
    if (rv == 1)
        return 1;
    if (rv != 0) {
        fprintf(stderr, "error: %s\n", errmsg);
        return 2;
    }
    if (first < argc) {
        fprintf(stderr, "error: unexpected argument %s\n", argv[first]);
        return 2;
    }
    if (state_flag)
        snprintf(state_dir, sizeof(state_dir), "%s", state_flag);
    return 0;
}

/* The cluster and context name of API server a: k8c (current), k8c-2, ... */
static void apiserver_context(int a, char *out, size_t size)
{
    if (a == 0)
        snprintf(out, size, "k8c");
    else
        snprintf(out, size, "k8c-%d", a + 1);
}

/* Replaces the member named name of array arr (or appends). */
static void set_named(struct k8c_arena *a, struct k8c_json *arr, const char *name,
                      struct k8c_json *entry)
{
    for (uint32_t i = 0; i < arr->len; i++) {
        struct k8c_json *e = k8c_json_array_get(arr, i);
        struct k8c_json *n = e->type == K8C_JSON_OBJECT ? k8c_json_get(e, "name") : NULL;
        if (n != NULL && n->type == K8C_JSON_STRING && strcmp(n->u.str, name) == 0) {
            arr->u.items[i] = entry;
            return;
        }
    }
    k8c_json_array_append(a, arr, entry);
}

static struct k8c_json *ensure_array(struct k8c_arena *a, struct k8c_json *cfg, const char *key)
{
    struct k8c_json *v = k8c_json_get(cfg, key);
    if (v == NULL || v->type != K8C_JSON_ARRAY) {
        v = k8c_json_new_array(a);
        k8c_json_set(a, cfg, key, v);
    }
    return v;
}

/* A new, empty kubeconfig. */
static struct k8c_json *new_kubeconfig(struct k8c_arena *a)
{
    struct k8c_json *cfg = k8c_json_new_object(a);
    k8c_json_set(a, cfg, "apiVersion", k8c_json_new_string(a, "v1"));
    k8c_json_set(a, cfg, "kind", k8c_json_new_string(a, "Config"));
    k8c_json_set(a, cfg, "preferences", k8c_json_new_object(a));
    return cfg;
}

/* Sets {kind: body, name: name} in cfg's list (clusters, contexts, users) in
 * place of the entry of that name. */
static void set_entry(struct k8c_arena *a, struct k8c_json *cfg, const char *list, const char *kind,
                      const char *name, struct k8c_json *body)
{
    struct k8c_json *e = k8c_json_new_object(a);
    k8c_json_set(a, e, kind, body);
    k8c_json_set(a, e, "name", k8c_json_new_string(a, name));
    set_named(a, ensure_array(a, cfg, list), name, e);
}

/* A JSON object of the given string members (NULL-terminated key, value pairs). */
static struct k8c_json *strings_object(struct k8c_arena *a, const char *const *kv)
{
    struct k8c_json *o = k8c_json_new_object(a);
    for (; kv[0] != NULL; kv += 2)
        k8c_json_set(a, o, kv[0], k8c_json_new_string(a, kv[1]));
    return o;
}

/* Sets in cfg the user named user (the admin client certificate), a cluster
 * and context for each API server (k8c, k8c-2: apiserver_context) and k8c as
 * the current context, replacing entries of those names. */
static void set_k8c_entries(struct k8c_arena *a, struct k8c_json *cfg, const char *user)
{
    char server[64], ca[PATH_MAX], crt[PATH_MAX], key[PATH_MAX], name[32];
    snprintf(ca, sizeof(ca), "%s/pki/ca.crt", state_dir);
    for (int i = 0; i < APISERVERS; i++) {
        apiserver_context(i, name, sizeof(name));
        snprintf(server, sizeof(server), "https://127.0.0.1:%d", APISERVER_PORT + i);
        const char *cluster[] = {"certificate-authority", ca, "server", server, NULL};
        const char *context[] = {"cluster", name, "user", user, NULL};
        set_entry(a, cfg, "clusters", "cluster", name, strings_object(a, cluster));
        set_entry(a, cfg, "contexts", "context", name, strings_object(a, context));
    }
    snprintf(crt, sizeof(crt), "%s/pki/admin.crt", state_dir);
    snprintf(key, sizeof(key), "%s/pki/admin.key", state_dir);
    const char *creds[] = {"client-certificate", crt, "client-key", key, NULL};
    set_entry(a, cfg, "users", "user", user, strings_object(a, creds));
    k8c_json_set(a, cfg, "current-context", k8c_json_new_string(a, "k8c"));
}

/* Writes cfg to path as YAML, mode 0600, by a rename (a reader never sees
 * half of it). */
static int write_config(const char *path, struct k8c_json *cfg)
{
    char errmsg[K8C_ERRMSG_SIZE], tmp[PATH_MAX];
    struct k8c_sbuf out;
    k8c_sbuf_init(&out);
    int rc = k8c_codec_yaml_write(&out, cfg, errmsg);
    snprintf(tmp, sizeof(tmp), "%s.k8c-tmp", path);
    FILE *f = rc == 0 ? fopen(tmp, "w") : NULL;
    if (f == NULL || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0 ||
        chmod(tmp, 0600) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "error: cannot write %s: %s\n", path, rc ? errmsg : strerror(errno));
        k8c_sbuf_free(&out);
        return 1;
    }
    k8c_sbuf_free(&out);
    return 0;
}

/* <state>/kubeconfig: the admin client certificate (user "admin") against
 * the local API servers (a context each, the first current), for kubectl and
 * the Python client. */
static int write_kubeconfig(char *path, size_t size)
{
    snprintf(path, size, "%s/kubeconfig", state_dir);
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *cfg = new_kubeconfig(a);
    set_k8c_entries(a, cfg, "admin");
    int rc = write_config(path, cfg);
    k8c_arena_del(a);
    return rc;
}

/* Merges a "k8c" user, and a cluster and context for each API server ("k8c",
 * "k8c-2"), into $KUBECONFIG (its first path) or ~/.kube/config, keeping
 * every other entry, and makes k8c the current context. */
static int merge_kubeconfig(char *path, size_t size)
{
    const char *env = getenv("KUBECONFIG");
    const char *home = getenv("HOME");
    char errmsg[K8C_ERRMSG_SIZE], buf[PATH_MAX];
    if (env != NULL && env[0] != '\0') {
        snprintf(path, size, "%s", env);
        path[strcspn(path, ":")] = '\0';
    } else {
        snprintf(path, size, "%s/.kube/config", home ? home : "/root");
    }
    snprintf(buf, sizeof(buf), "%s", path);
    char *slash = strrchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
        if (buf[0] != '\0' && mkdirs(buf) != 0)
            return 1;
    }
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *cfg = NULL;
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        struct k8c_sbuf text;
        char chunk[4096];
        size_t got;
        k8c_sbuf_init(&text);
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0 && text.len < (16u << 20))
            k8c_sbuf_append(&text, chunk, got);
        fclose(f);
        struct k8c_json **docs;
        size_t ndocs;
        if (text.len > 0 &&
            k8c_codec_yaml_parse(a, text.data, text.len, &docs, &ndocs, errmsg) == 0 &&
            ndocs == 1 && docs[0]->type == K8C_JSON_OBJECT) {
            cfg = docs[0];
        } else if (text.len > 0) {
            fprintf(stderr, "error: %s is not a kubeconfig I can merge into (%s); not changed\n",
                    path, errmsg);
            k8c_sbuf_free(&text);
            k8c_arena_del(a);
            return 1;
        }
        k8c_sbuf_free(&text);
    }
    if (cfg == NULL)
        cfg = new_kubeconfig(a);
    set_k8c_entries(a, cfg, "k8c");
    int rc = write_config(path, cfg);
    k8c_arena_del(a);
    return rc;
}

int cluster_cmd_up(int argc, char **argv)
{
    struct proc procs[STORE_PEERS + APISERVERS];
    char path[PATH_MAX];
    int n, rv;
    time_t deadline;

    if ((rv = parse_common(argc, argv, NULL)) != 0)
        return rv == 1 ? 0 : rv;
    n = plan(procs);
    for (const char *sub = "pki\0run\0logs\0data\0"; *sub; sub += strlen(sub) + 1) {
        snprintf(path, sizeof(path), "%s/%s", state_dir, sub);
        if (mkdirs(path) != 0) {
            fprintf(stderr, "error: cannot create %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    if (make_pki() != 0)
        return 1;
    printf("PKI ready in %s/pki\n", state_dir);
    for (int i = 0; i < n; i++) {
        if (running_pid(&procs[i])) {
            printf("%-10s already running\n", procs[i].name);
            continue;
        }
        if ((rv = start(&procs[i])) != 0) {
            fprintf(stderr, "error: cannot start %s: %s\n", procs[i].name, strerror(-rv));
            return 1;
        }
        printf("%-10s started, log %s/logs/%s.log\n", procs[i].name, state_dir, procs[i].name);
    }
    deadline = time(NULL) + 60;
    for (int i = 0; i < n; i++) {
        printf("waiting for %s on 127.0.0.1:%d ", procs[i].name, procs[i].port);
        fflush(stdout);
        while (!port_open(procs[i].port)) {
            if (!running_pid(&procs[i]) || time(NULL) > deadline) {
                printf("failed\n");
                fprintf(stderr, "error: %s did not come up; see %s/logs/%s.log\n", procs[i].name,
                        state_dir, procs[i].name);
                return 1;
            }
            printf(".");
            fflush(stdout);
            usleep(250 * 1000);
        }
        if (strncmp(procs[i].name, "apiserver", 9) == 0) {
            while (!apiserver_ready(procs[i].port)) {
                if (!running_pid(&procs[i]) || time(NULL) > deadline) {
                    printf("failed\n");
                    fprintf(stderr, "error: %s is not ready (GET /readyz); see %s/logs/%s.log\n",
                            procs[i].name, state_dir, procs[i].name);
                    return 1;
                }
                printf(".");
                fflush(stdout);
                usleep(250 * 1000);
            }
        }
        if (strncmp(procs[i].name, "store", 5) == 0) {
            while (!store_has_leader(procs[i].port)) {
                if (!running_pid(&procs[i]) || time(NULL) > deadline) {
                    printf("failed\n");
                    fprintf(stderr, "error: %s has no raft leader; see %s/logs/%s.log\n",
                            procs[i].name, state_dir, procs[i].name);
                    return 1;
                }
                printf(".");
                fflush(stdout);
                usleep(250 * 1000);
            }
        }
        printf("ok\n");
    }
    if (n > STORE_PEERS) {
        char kc[PATH_MAX], merged[PATH_MAX];
        if (write_kubeconfig(kc, sizeof(kc)) != 0 || merge_kubeconfig(merged, sizeof(merged)) != 0)
            return 1;
        printf("cluster is up: context k8c set in %s (also %s; context k8c-2 is the second API "
               "server); kubectl get namespaces\n",
               merged, kc);
    }
    if (n == STORE_PEERS)
        printf("store is up (etcdctl --endpoints=https://127.0.0.1:%d --cacert=%s/pki/ca.crt "
               "--cert=%s/pki/admin.crt --key=%s/pki/admin.key member list); "
               "k8c-apiserver is not built in this tree yet\n",
               STORE_CLIENT_PORT, state_dir, state_dir, state_dir);
    return 0;
}

int cluster_cmd_status(int argc, char **argv)
{
    struct proc procs[STORE_PEERS + APISERVERS];
    int n, rv, down = 0;

    if ((rv = parse_common(argc, argv, NULL)) != 0)
        return rv == 1 ? 0 : rv;
    n = plan(procs);
    printf("%-10s %-8s %-22s %s\n", "NAME", "PID", "ADDRESS", "STATUS");
    for (int i = 0; i < n; i++) {
        pid_t pid = running_pid(&procs[i]);
        char addr[32];
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", procs[i].port);
        if (pid == 0) {
            printf("%-10s %-8s %-22s %s\n", procs[i].name, "-", addr, "stopped");
            down++;
        } else {
            bool ok = port_open(procs[i].port);
            const char *what = ok ? "running" : "not answering";
            if (ok && strncmp(procs[i].name, "store", 5) == 0) {
                ok = store_has_leader(procs[i].port);
                what = ok ? "healthy" : "no leader";
            } else if (ok && strncmp(procs[i].name, "apiserver", 9) == 0) {
                ok = apiserver_ready(procs[i].port);
                what = ok ? "ready" : "not ready (GET /readyz)";
            }
            printf("%-10s %-8ld %-22s %s\n", procs[i].name, (long)pid, addr, what);
            down += !ok;
        }
    }
    return down ? 1 : 0;
}

int cluster_cmd_down(int argc, char **argv)
{
    struct proc procs[STORE_PEERS + APISERVERS];
    bool purge = false;
    int n, rv;

    if ((rv = parse_common(argc, argv, &purge)) != 0)
        return rv == 1 ? 0 : rv;
    n = plan(procs);
    /* Stop in reverse order: the API server before the store it uses. */
    for (int i = n - 1; i >= 0; i--) {
        pid_t pid = running_pid(&procs[i]);
        char pidfile[PATH_MAX];
        if (pid) {
            kill(pid, SIGTERM);
            for (int t = 0; t < 100 && kill(pid, 0) == 0; t++) {
                waitpid(pid, NULL, WNOHANG);
                usleep(100 * 1000);
            }
            if (kill(pid, 0) == 0) {
                kill(pid, SIGKILL);
                printf("%-10s killed\n", procs[i].name);
            } else {
                printf("%-10s stopped\n", procs[i].name);
            }
        }
        pid_path(&procs[i], pidfile, sizeof(pidfile));
        unlink(pidfile);
    }
    if (purge) {
        char cmd[PATH_MAX + 32];
        if (strlen(state_dir) < 2 || strchr(state_dir, '\'')) {
            fprintf(stderr, "error: refusing to remove %s\n", state_dir);
            return 1;
        }
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
        if (system(cmd) != 0)
            return 1;
        printf("removed %s\n", state_dir);
    }
    return 0;
}
