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
#include "grpc.h"
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
    {
        struct proc *p = &procs[n];
        char servers[512] = "";
        memset(p, 0, sizeof(*p));
        snprintf(p->name, sizeof(p->name), "apiserver");
        snprintf(p->binary, sizeof(p->binary), "%s/k8c-apiserver", bin_dir);
        if (access(p->binary, X_OK) == 0) {
            for (int i = 0; i < STORE_PEERS; i++) {
                size_t len = strlen(servers);
                snprintf(servers + len, sizeof(servers) - len, "%shttps://127.0.0.1:%d",
                         i ? "," : "", STORE_CLIENT_PORT + i);
            }
            p->port = APISERVER_PORT;
            add_arg(p, "--etcd-servers=%s", servers);
            add_arg(p, "--etcd-cafile=%s/pki/ca.crt", state_dir);
            add_arg(p, "--etcd-certfile=%s/pki/apiserver-etcd-client.crt", state_dir);
            add_arg(p, "--etcd-keyfile=%s/pki/apiserver-etcd-client.key", state_dir);
            add_arg(p, "--bind-address=127.0.0.1");
            add_arg(p, "--secure-port=%d", APISERVER_PORT);
            add_arg(p, "--tls-cert-file=%s/pki/apiserver.crt", state_dir);
            add_arg(p, "--tls-private-key-file=%s/pki/apiserver.key", state_dir);
            add_arg(p, "--client-ca-file=%s/pki/ca.crt", state_dir);
            add_arg(p, "--service-cluster-ip-range=198.19.0.0/16");
            n++;
        }
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
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int null = open("/dev/null", O_RDONLY);
        if (fd < 0 || null < 0)
            _exit(127);
        setsid();
        dup2(null, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(p->binary, argv);
        _exit(127);
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

/* <state>/kubeconfig: the admin client certificate against the local API
 * server, for kubectl and the Python client. */
static int write_kubeconfig(char *path, size_t size)
{
    snprintf(path, size, "%s/kubeconfig", state_dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "error: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(f,
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
            "    certificate-authority: %s/pki/ca.crt\n    server: https://127.0.0.1:%d\n"
            "  name: k8c\ncontexts:\n- context:\n    cluster: k8c\n    user: admin\n"
            "  name: k8c\ncurrent-context: k8c\nusers:\n- name: admin\n  user:\n"
            "    client-certificate: %s/pki/admin.crt\n    client-key: %s/pki/admin.key\n",
            state_dir, APISERVER_PORT, state_dir, state_dir);
    fclose(f);
    chmod(path, 0600);
    return 0;
}

int cluster_cmd_up(int argc, char **argv)
{
    struct proc procs[STORE_PEERS + 2];
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
        if (start(&procs[i]) != 0) {
            fprintf(stderr, "error: cannot start %s\n", procs[i].name);
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
        char kc[PATH_MAX];
        if (write_kubeconfig(kc, sizeof(kc)) != 0)
            return 1;
        printf("cluster is up: export KUBECONFIG=%s; kubectl get namespaces\n", kc);
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
    struct proc procs[STORE_PEERS + 2];
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
            }
            printf("%-10s %-8ld %-22s %s\n", procs[i].name, (long)pid, addr, what);
            down += !ok;
        }
    }
    return down ? 1 : 0;
}

int cluster_cmd_down(int argc, char **argv)
{
    struct proc procs[STORE_PEERS + 2];
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
