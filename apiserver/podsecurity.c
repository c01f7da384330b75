/*
 * Pod Security admission (see podsecurity.h). The checks and their words follow upstream's
 * k8s.io/pod-security-admission policy package at 1.32 ("latest").
 */
#include "podsecurity.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "object.h"
#include "selector.h"
#include "watchcache.h"

#include "k8s/api/core/v1/generated.pb-c.h"

typedef K8s__Io__Api__Core__V1__PodSpec pod_spec_t;
typedef K8s__Io__Api__Core__V1__SecurityContext security_context_t;
typedef K8s__Io__Api__Core__V1__PodSecurityContext pod_security_context_t;

#define LABEL_PREFIX     "pod-security.kubernetes.io/"
#define MAX_DRY_RUN_PODS 3000

enum level { LEVEL_PRIVILEGED, LEVEL_BASELINE, LEVEL_RESTRICTED };

static const char *const level_names[] = {"privileged", "baseline", "restricted"};

struct level_version {
    enum level level;
    char version[24]; /* "latest" or "v1.N", as written */
};

struct policy {
    struct level_version enforce, audit, warn;
    bool errors; /* a label did not parse */
};

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* ---- labels -------------------------------------------------------------------------------- */

static const char *label_of(const api_meta_t *m, const char *key)
{
    for (size_t i = 0; m != NULL && i < m->n_labels; i++)
        if (str_eq(m->labels[i]->key, key))
            return m->labels[i]->value != NULL ? m->labels[i]->value : "";
    return NULL;
}

static bool version_ok(const char *v)
{
    if (strcmp(v, "latest") == 0)
        return true;
    if (strncmp(v, "v1.", 3) != 0 || v[3] == '\0' || (v[3] == '0' && v[4] != '\0') ||
        strlen(v) > 12)
        return false;
    for (const char *p = v + 3; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static void label_error(struct api_field_errors *errs, const char *key, const char *value,
                        const char *detail)
{
    char field[96], msg[256];
    if (errs == NULL)
        return;
    snprintf(field, sizeof(field), "metadata.labels[%s]", key);
    snprintf(msg, sizeof(msg), "Invalid value: \"%.100s\": %s", value, detail);
    api_field_errors_add(errs, "FieldValueInvalid", field, msg);
}

/* One mode's level and version from the namespace labels (fallback on a bad level) */
static void parse_mode(const api_meta_t *m, const char *mode, enum level fallback,
                       struct level_version *lv, struct policy *p, struct api_field_errors *errs)
{
    char key[64];
    const char *level, *version;

    snprintf(key, sizeof(key), LABEL_PREFIX "%s", mode);
    level = label_of(m, key);
    lv->level = LEVEL_PRIVILEGED;
    if (level != NULL) {
        bool found = false;
        for (int l = 0; l < 3; l++)
            if (strcmp(level, level_names[l]) == 0) {
                lv->level = (enum level)l;
                found = true;
            }
        if (!found) {
            lv->level = fallback;
            p->errors = true;
            label_error(errs, key, level, "must be one of privileged, baseline, restricted");
        }
    }
    snprintf(key, sizeof(key), LABEL_PREFIX "%s-version", mode);
    version = label_of(m, key);
    snprintf(lv->version, sizeof(lv->version), "latest");
    if (version != NULL) {
        if (version_ok(version)) {
            snprintf(lv->version, sizeof(lv->version), "%s", version);
        } else {
            p->errors = true;
            label_error(errs, key, version, "must be \"latest\" or \"v1.x\"");
        }
    }
}

/* The namespace's policy; errs (may be NULL) receives the label errors in upstream's order */
static void parse_policy(const api_meta_t *m, struct policy *p, struct api_field_errors *errs)
{
    char key[64];

    memset(p, 0, sizeof(*p));
    parse_mode(m, "enforce", LEVEL_RESTRICTED, &p->enforce, p, errs);
    parse_mode(m, "audit", LEVEL_PRIVILEGED, &p->audit, p, errs);
    parse_mode(m, "warn", LEVEL_PRIVILEGED, &p->warn, p, errs);
    /* a namespace that only enforces warns at that level too */
    snprintf(key, sizeof(key), LABEL_PREFIX "warn");
    bool enforce_set = label_of(m, LABEL_PREFIX "enforce") != NULL;
    if (label_of(m, key) == NULL && enforce_set && p->enforce.level > p->warn.level) {
        bool enforce_ok = false;
        for (int l = 0; l < 3; l++)
            enforce_ok = enforce_ok || str_eq(label_of(m, LABEL_PREFIX "enforce"), level_names[l]);
        if (enforce_ok) {
            p->warn.level = p->enforce.level;
            if (label_of(m, LABEL_PREFIX "warn-version") == NULL)
                memcpy(p->warn.version, p->enforce.version, sizeof(p->warn.version));
        }
    }
}

/* ---- the pod being checked ----------------------------------------------------------------- */

struct container_view {
    const char *name;
    const security_context_t *sc;
    K8s__Io__Api__Core__V1__ContainerPort *const *ports;
    size_t n_ports;
};

struct pod_view {
    const api_meta_t *meta;
    const pod_spec_t *spec;
    struct container_view *c; /* init, regular, ephemeral */
    size_t n;
    int minor; /* the policy version being checked: v1.<minor>, INT_MAX for "latest" */
};

/* The minor version of a policy version ("latest", "v1.N": version_ok). */
static int version_minor(const char *v)
{
    if (strcmp(v, "latest") == 0 || strlen(v) > 8)
        return INT_MAX;
    return atoi(v + 3);
}

static bool windows_pod(const struct pod_view *p)
{
    return p->spec->os != NULL && str_eq(p->spec->os->name, "windows");
}

static void pod_view_init(struct pod_view *pv, const api_meta_t *meta, const pod_spec_t *s)
{
    pv->meta = meta;
    pv->spec = s;
    pv->n = 0;
    pv->c = k8c_calloc(s->n_initcontainers + s->n_containers + s->n_ephemeralcontainers + 1,
                       sizeof(*pv->c));
    for (size_t i = 0; i < s->n_initcontainers; i++)
        pv->c[pv->n++] = (struct container_view){
            s->initcontainers[i]->name, s->initcontainers[i]->securitycontext,
            s->initcontainers[i]->ports, s->initcontainers[i]->n_ports};
    for (size_t i = 0; i < s->n_containers; i++)
        pv->c[pv->n++] =
            (struct container_view){s->containers[i]->name, s->containers[i]->securitycontext,
                                    s->containers[i]->ports, s->containers[i]->n_ports};
    for (size_t i = 0; i < s->n_ephemeralcontainers; i++) {
        const K8s__Io__Api__Core__V1__EphemeralContainerCommon *e =
            s->ephemeralcontainers[i]->ephemeralcontainercommon;
        if (e != NULL)
            pv->c[pv->n++] =
                (struct container_view){e->name, e->securitycontext, e->ports, e->n_ports};
    }
}

/* ---- wording ------------------------------------------------------------------------------ */

/* A list of strings, kept for printing */
struct strs {
    const char **s;
    size_t n, cap;
    char **owned; /* strings made for the list, freed with it */
    size_t n_owned;
};

static void strs_add(struct strs *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->s = k8c_realloc(l->s, l->cap * sizeof(*l->s));
    }
    l->s[l->n++] = s != NULL ? s : "";
}

static int strp_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, without repeats (upstream's sets.List) */
static void strs_sort_unique(struct strs *l)
{
    size_t w = 0;
    if (l->n == 0)
        return;
    qsort(l->s, l->n, sizeof(*l->s), strp_cmp);
    for (size_t i = 0; i < l->n; i++)
        if (w == 0 || strcmp(l->s[w - 1], l->s[i]) != 0)
            l->s[w++] = l->s[i];
    l->n = w;
}

/* Adds s, which the list now owns */
static void strs_add_owned(struct strs *l, char *s)
{
    l->owned = k8c_realloc(l->owned, (l->n_owned + 1) * sizeof(*l->owned));
    l->owned[l->n_owned++] = s;
    strs_add(l, s);
}

static void strs_free(struct strs *l)
{
    for (size_t i = 0; i < l->n_owned; i++)
        k8c_free(l->owned[i]);
    k8c_free(l->owned);
    k8c_free(l->s);
    *l = (struct strs){0};
}

/* `"a", "b"` (upstream's joinQuote: quoted, not escaped) */
static void put_quoted(struct k8c_sbuf *sb, const struct strs *l)
{
    for (size_t i = 0; i < l->n; i++)
        k8c_sbuf_printf(sb, "%s\"%s\"", i ? ", " : "", l->s[i]);
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* `container "a"` / `containers "a", "b"` */
static void put_containers(struct k8c_sbuf *sb, const struct strs *names)
{
    k8c_sbuf_printf(sb, "%s ", plural(names->n, "container", "containers"));
    put_quoted(sb, names);
}

/* The failing checks of one evaluation */
struct result {
    struct k8c_sbuf detail;  /* "reason (detail), ..." */
    struct k8c_sbuf reasons; /* "reason, ..." */
    bool failed;
};

static void fail(struct result *res, const char *reason, const char *detail)
{
    k8c_sbuf_printf(&res->detail, "%s%s", res->failed ? ", " : "", reason);
    if (detail != NULL && detail[0] != '\0')
        k8c_sbuf_printf(&res->detail, " (%s)", detail);
    k8c_sbuf_printf(&res->reasons, "%s%s", res->failed ? ", " : "", reason);
    res->failed = true;
}

/* "pod", "containers ...", "annotations" joined with " and " */
static void put_setters(struct k8c_sbuf *sb, bool pod, const struct strs *containers,
                        const char *more)
{
    bool first = true;
    if (pod) {
        k8c_sbuf_puts(sb, "pod");
        first = false;
    }
    if (containers != NULL && containers->n > 0) {
        k8c_sbuf_puts(sb, first ? "" : " and ");
        put_containers(sb, containers);
        first = false;
    }
    if (more != NULL) {
        k8c_sbuf_puts(sb, first ? "" : " and ");
        k8c_sbuf_puts(sb, more);
    }
}

/* ---- the checks (1.32 "latest") ----------------------------------------------------------- */

static const pod_security_context_t *psc_of(const struct pod_view *p)
{
    return p->spec->securitycontext;
}

static const char *apparmor_type(const K8s__Io__Api__Core__V1__AppArmorProfile *a)
{
    return a != NULL && a->type != NULL ? a->type : "";
}

static bool apparmor_ok(const K8s__Io__Api__Core__V1__AppArmorProfile *a)
{
    return a == NULL || str_eq(a->type, "RuntimeDefault") || str_eq(a->type, "Localhost");
}

static void check_apparmor(const struct pod_view *p, struct result *res)
{
    const pod_security_context_t *psc = psc_of(p);
    struct strs ctrs = {0}, values = {0}, annotations = {0};
    bool pod_bad = psc != NULL && !apparmor_ok(psc->apparmorprofile);
    static const char prefix[] = "container.apparmor.security.beta.kubernetes.io/";

    if (pod_bad)
        strs_add(&values, apparmor_type(psc->apparmorprofile));
    for (size_t i = 0; i < p->n; i++) {
        const security_context_t *sc = p->c[i].sc;
        if (sc != NULL && !apparmor_ok(sc->apparmorprofile)) {
            strs_add(&ctrs, p->c[i].name);
            strs_add(&values, apparmor_type(sc->apparmorprofile));
        }
    }
    strs_sort_unique(&values);
    for (size_t i = 0; p->meta != NULL && i < p->meta->n_annotations; i++) {
        const char *k = p->meta->annotations[i]->key, *v = p->meta->annotations[i]->value;
        v = v != NULL ? v : "";
        if (k == NULL || strncmp(k, prefix, sizeof(prefix) - 1) != 0)
            continue;
        if (v[0] == '\0' || strcmp(v, "runtime/default") == 0 || strncmp(v, "localhost/", 10) == 0)
            continue;
        struct k8c_sbuf kv;
        k8c_sbuf_init(&kv);
        k8c_sbuf_printf(&kv, "%s=\"%s\"", k, v);
        strs_add_owned(&annotations, k8c_sbuf_detach(&kv));
    }
    strs_sort_unique(&annotations);
    if (pod_bad || ctrs.n > 0 || annotations.n > 0) {
        struct k8c_sbuf d;
        k8c_sbuf_init(&d);
        put_setters(&d, pod_bad, &ctrs,
                    annotations.n > 0 ? plural(annotations.n, "annotation", "annotations") : NULL);
        k8c_sbuf_puts(&d, " must not set AppArmor profile type to ");
        for (size_t i = 0; i < annotations.n; i++)
            strs_add(&values, annotations.s[i]);
        put_quoted(&d, &values);
        fail(res, plural(values.n, "forbidden AppArmor profile", "forbidden AppArmor profiles"),
             d.data);
        k8c_sbuf_free(&d);
    }
    strs_free(&ctrs);
    strs_free(&values);
    strs_free(&annotations);
}

/* capabilities.add outside allowed (NULL-terminated); restricted: also drop ALL */
static void check_capabilities(const struct pod_view *p, struct result *res, bool restricted)
{
    static const char *const baseline_caps[] = {
        "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL",       "MKNOD",
        "NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT", NULL};
    static const char *const restricted_caps[] = {"NET_BIND_SERVICE", NULL};
    const char *const *allowed = restricted ? restricted_caps : baseline_caps;
    struct strs adding = {0}, bad = {0}, missing_drop = {0};

    if (restricted && p->minor >= 25 && windows_pod(p))
        return;
    for (size_t i = 0; i < p->n; i++) {
        const K8s__Io__Api__Core__V1__Capabilities *caps =
            p->c[i].sc != NULL ? p->c[i].sc->capabilities : NULL;
        bool bad_add = false, drops_all = false;
        for (size_t j = 0; caps != NULL && j < caps->n_add; j++) {
            bool ok = false;
            for (size_t k = 0; allowed[k] != NULL; k++)
                ok = ok || str_eq(caps->add[j], allowed[k]);
            if (!ok) {
                bad_add = true;
                strs_add(&bad, caps->add[j]);
            }
        }
        for (size_t j = 0; caps != NULL && j < caps->n_drop; j++)
            drops_all = drops_all || str_eq(caps->drop[j], "ALL");
        if (bad_add)
            strs_add(&adding, p->c[i].name);
        if (restricted && !drops_all)
            strs_add(&missing_drop, p->c[i].name);
    }
    strs_sort_unique(&bad);
    if (adding.n > 0 || missing_drop.n > 0) {
        struct k8c_sbuf d;
        k8c_sbuf_init(&d);
        if (missing_drop.n > 0) {
            put_containers(&d, &missing_drop);
            k8c_sbuf_puts(&d, " must set securityContext.capabilities.drop=[\"ALL\"]");
        }
        if (adding.n > 0) {
            k8c_sbuf_puts(&d, missing_drop.n > 0 ? "; " : "");
            put_containers(&d, &adding);
            k8c_sbuf_puts(&d, " must not include ");
            put_quoted(&d, &bad);
            k8c_sbuf_puts(&d, " in securityContext.capabilities.add");
        }
        fail(res, restricted ? "unrestricted capabilities" : "non-default capabilities", d.data);
        k8c_sbuf_free(&d);
    }
    strs_free(&adding);
    strs_free(&bad);
    strs_free(&missing_drop);
}

static void check_host_namespaces(const struct pod_view *p, struct result *res)
{
    struct k8c_sbuf d;
    k8c_sbuf_init(&d);
    if (p->spec->hostnetwork)
        k8c_sbuf_puts(&d, "hostNetwork=true");
    if (p->spec->hostpid)
        k8c_sbuf_printf(&d, "%shostPID=true", d.len ? ", " : "");
    if (p->spec->hostipc)
        k8c_sbuf_printf(&d, "%shostIPC=true", d.len ? ", " : "");
    if (d.len > 0)
        fail(res, "host namespaces", d.data);
    k8c_sbuf_free(&d);
}

/* hostPathVolumes (baseline) or restrictedVolumes */
static void check_volumes(const struct pod_view *p, struct result *res, bool restricted)
{
    static const char *const allowed[] = {"configMap", "csi",       "downwardAPI",
                                          "emptyDir",  "ephemeral", "persistentVolumeClaim",
                                          "projected", "secret",    NULL};
    static const char *const restricted_types[] = {"hostPath",
                                                   "gcePersistentDisk",
                                                   "awsElasticBlockStore",
                                                   "gitRepo",
                                                   "nfs",
                                                   "iscsi",
                                                   "glusterfs",
                                                   "rbd",
                                                   "flexVolume",
                                                   "cinder",
                                                   "cephfs",
                                                   "flocker",
                                                   "fc",
                                                   "azureFile",
                                                   "vsphereVolume",
                                                   "quobyte",
                                                   "azureDisk",
                                                   "photonPersistentDisk",
                                                   "portworxVolume",
                                                   "scaleIO",
                                                   "storageos",
                                                   NULL};
    struct strs names = {0}, types = {0};

    for (size_t i = 0; i < p->spec->n_volumes; i++) {
        const K8s__Io__Api__Core__V1__Volume *vol = p->spec->volumes[i];
        const ProtobufCMessage *src = vol->volumesource != NULL ? &vol->volumesource->base : NULL;
        if (!restricted) {
            if (vol->volumesource != NULL && vol->volumesource->hostpath != NULL)
                strs_add(&names, vol->name);
            continue;
        }
        bool ok = false;
        for (size_t k = 0; src != NULL && allowed[k] != NULL && !ok; k++) {
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field_by_name(src->descriptor, allowed[k]);
            ok = f != NULL && *(void *const *)((const char *)src + f->offset) != NULL;
        }
        if (ok)
            continue;
        const char *type = "unknown";
        for (size_t k = 0; src != NULL && restricted_types[k] != NULL; k++) {
            const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
                src->descriptor, restricted_types[k]);
            if (f != NULL && *(void *const *)((const char *)src + f->offset) != NULL) {
                type = restricted_types[k];
                break;
            }
        }
        strs_add(&names, vol->name);
        strs_add(&types, type);
    }
    if (names.n > 0) {
        struct k8c_sbuf d;
        k8c_sbuf_init(&d);
        k8c_sbuf_printf(&d, "%s ", plural(names.n, "volume", "volumes"));
        put_quoted(&d, &names);
        if (restricted) {
            strs_sort_unique(&types);
            k8c_sbuf_printf(&d, " %s %s ", plural(names.n, "uses", "use"),
                            plural(types.n, "restricted volume type", "restricted volume types"));
            put_quoted(&d, &types);
        }
        fail(res, restricted ? "restricted volume types" : "hostPath volumes", d.data);
        k8c_sbuf_free(&d);
    }
    strs_free(&names);
    strs_free(&types);
}

static void check_host_ports(const struct pod_view *p, struct result *res)
{
    struct strs ctrs = {0}, ports = {0};

    for (size_t i = 0; i < p->n; i++) {
        bool uses = false;
        for (size_t j = 0; j < p->c[i].n_ports; j++) {
            const K8s__Io__Api__Core__V1__ContainerPort *port = p->c[i].ports[j];
            if (!port->has_hostport || port->hostport == 0)
                continue;
            uses = true;
            char buf[16];
            snprintf(buf, sizeof(buf), "%d", (int)port->hostport);
            strs_add_owned(&ports, k8c_strdup(buf));
        }
        if (uses)
            strs_add(&ctrs, p->c[i].name);
    }
    if (ctrs.n > 0) {
        struct k8c_sbuf d;
        strs_sort_unique(&ports); /* as strings: "10000" before "80", as upstream */
        k8c_sbuf_init(&d);
        put_containers(&d, &ctrs);
        k8c_sbuf_printf(&d, " %s %s ", plural(ctrs.n, "uses", "use"),
                        plural(ports.n, "hostPort", "hostPorts"));
        for (size_t i = 0; i < ports.n; i++)
            k8c_sbuf_printf(&d, "%s%s", i ? ", " : "", ports.s[i]);
        fail(res, "hostPort", d.data);
        k8c_sbuf_free(&d);
    }
    strs_free(&ctrs);
    strs_free(&ports);
}

static bool is_privileged(const security_context_t *sc)
{
    return sc != NULL && sc->has_privileged && sc->privileged;
}

static bool escalation_not_off(const security_context_t *sc)
{
    return sc == NULL || !sc->has_allowprivilegeescalation || sc->allowprivilegeescalation;
}

static void check_proc_mount(const struct pod_view *p, struct result *res)
{
    struct strs ctrs = {0}, values = {0};
    for (size_t i = 0; i < p->n; i++) {
        const security_context_t *sc = p->c[i].sc;
        if (sc != NULL && sc->procmount != NULL && strcmp(sc->procmount, "Default") != 0) {
            strs_add(&ctrs, p->c[i].name);
            strs_add(&values, sc->procmount);
        }
    }
    if (ctrs.n > 0) {
        struct k8c_sbuf d;
        strs_sort_unique(&values);
        k8c_sbuf_init(&d);
        put_containers(&d, &ctrs);
        k8c_sbuf_puts(&d, " must not set securityContext.procMount to ");
        put_quoted(&d, &values);
        fail(res, "procMount", d.data);
        k8c_sbuf_free(&d);
    }
    strs_free(&ctrs);
    strs_free(&values);
}

/* One seLinuxOptions: records its bad type, user and role; true when any */
static bool selinux_bad(const K8s__Io__Api__Core__V1__SELinuxOptions *o, int minor,
                        struct strs *types, bool *user, bool *role)
{
    /* container_engine_t is allowed from v1.31 on */
    static const char *const ok_types[] = {
        "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t", NULL};
    bool bad = false;
    if (o == NULL)
        return false;
    bool type_ok = false;
    for (size_t i = 0; ok_types[i] != NULL && (i < 4 || minor >= 31); i++)
        type_ok = type_ok || str_eq(o->type, ok_types[i]);
    if (!type_ok) {
        strs_add(types, o->type);
        bad = true;
    }
    if (o->user != NULL && o->user[0] != '\0') {
        *user = true;
        bad = true;
    }
    if (o->role != NULL && o->role[0] != '\0') {
        *role = true;
        bad = true;
    }
    return bad;
}

static void check_selinux(const struct pod_view *p, struct result *res)
{
    const pod_security_context_t *psc = psc_of(p);
    struct strs ctrs = {0}, types = {0};
    bool user = false, role = false;
    bool pod_bad = psc != NULL && selinux_bad(psc->selinuxoptions, p->minor, &types, &user, &role);

    for (size_t i = 0; i < p->n; i++)
        if (p->c[i].sc != NULL &&
            selinux_bad(p->c[i].sc->selinuxoptions, p->minor, &types, &user, &role))
            strs_add(&ctrs, p->c[i].name);
    if (pod_bad || ctrs.n > 0) {
        struct k8c_sbuf d;
        strs_sort_unique(&types);
        k8c_sbuf_init(&d);
        put_setters(&d, pod_bad, &ctrs, NULL);
        k8c_sbuf_puts(&d, " set forbidden securityContext.seLinuxOptions: ");
        bool first = true;
        if (types.n > 0) {
            k8c_sbuf_printf(&d, "%s ", plural(types.n, "type", "types"));
            put_quoted(&d, &types);
            first = false;
        }
        if (user) {
            k8c_sbuf_printf(&d, "%suser may not be set", first ? "" : "; ");
            first = false;
        }
        if (role)
            k8c_sbuf_printf(&d, "%srole may not be set", first ? "" : "; ");
        fail(res, "seLinuxOptions", d.data);
        k8c_sbuf_free(&d);
    }
    strs_free(&ctrs);
    strs_free(&types);
}

static bool seccomp_ok(const K8s__Io__Api__Core__V1__SeccompProfile *s)
{
    return str_eq(s->type, "RuntimeDefault") || str_eq(s->type, "Localhost");
}

/* seccompProfile: baseline forbids bad types; restricted also requires one */
static void check_seccomp(const struct pod_view *p, struct result *res, bool restricted)
{
    const pod_security_context_t *psc = psc_of(p);
    const K8s__Io__Api__Core__V1__SeccompProfile *pod = psc != NULL ? psc->seccompprofile : NULL;
    struct strs bad = {0}, types = {0}, implicit = {0};
    bool pod_bad = pod != NULL && !seccomp_ok(pod), pod_covers = pod != NULL && seccomp_ok(pod);

    if (restricted && p->minor >= 25 && windows_pod(p))
        return;
    if (pod_bad)
        strs_add(&types, pod->type);
    for (size_t i = 0; i < p->n; i++) {
        const K8s__Io__Api__Core__V1__SeccompProfile *c =
            p->c[i].sc != NULL ? p->c[i].sc->seccompprofile : NULL;
        if (c != NULL && !seccomp_ok(c)) {
            strs_add(&bad, p->c[i].name);
            strs_add(&types, c->type);
        } else if (c == NULL && !pod_covers) {
            strs_add(&implicit, p->c[i].name);
        }
    }
    struct k8c_sbuf d;
    k8c_sbuf_init(&d);
    if (pod_bad || bad.n > 0) {
        strs_sort_unique(&types);
        put_setters(&d, pod_bad, &bad, NULL);
        k8c_sbuf_puts(&d, " must not set securityContext.seccompProfile.type to ");
        put_quoted(&d, &types);
        fail(res, "seccompProfile", d.data);
    } else if (restricted && implicit.n > 0) {
        k8c_sbuf_puts(&d, "pod or ");
        put_containers(&d, &implicit);
        k8c_sbuf_puts(&d, " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or "
                          "\"Localhost\"");
        fail(res, "seccompProfile", d.data);
    }
    k8c_sbuf_free(&d);
    strs_free(&bad);
    strs_free(&types);
    strs_free(&implicit);
}

static bool seccomp_annotation_ok(const char *v)
{
    return strcmp(v, "runtime/default") == 0 || strcmp(v, "docker/default") == 0 ||
           strncmp(v, "localhost/", 10) == 0;
}

/* One seccomp annotation, key="value" as Go's %q writes it, into l when its value is bad */
static void seccomp_annotation(const api_meta_t *m, const char *key, struct strs *l)
{
    const char *v = api_meta_annotation(m, key);
    if (v == NULL || seccomp_annotation_ok(v))
        return;
    struct k8c_sbuf q;
    k8c_sbuf_init(&q);
    k8c_sbuf_printf(&q, "%s=", key);
    api_go_quote(&q, v, strlen(v));
    strs_add_owned(l, k8c_sbuf_detach(&q));
}

/* seccompProfile_baseline before v1.19: the alpha annotations instead of the fields */
static void check_seccomp_annotations(const struct pod_view *p, struct result *res)
{
    struct strs bad = {0};
    char key[320];

    seccomp_annotation(p->meta, "seccomp.security.alpha.kubernetes.io/pod", &bad);
    for (size_t i = 0; i < p->n; i++) {
        snprintf(key, sizeof(key), "container.seccomp.security.alpha.kubernetes.io/%s",
                 p->c[i].name);
        seccomp_annotation(p->meta, key, &bad);
    }
    strs_sort_unique(&bad);
    if (bad.n > 0) {
        struct k8c_sbuf d;
        k8c_sbuf_init(&d);
        k8c_sbuf_printf(&d, "forbidden %s ", plural(bad.n, "annotation", "annotations"));
        for (size_t i = 0; i < bad.n; i++)
            k8c_sbuf_printf(&d, "%s%s", i ? ", " : "", bad.s[i]);
        fail(res, "seccompProfile", d.data);
        k8c_sbuf_free(&d);
    }
    strs_free(&bad);
}

static void check_sysctls(const struct pod_view *p, struct result *res)
{
    /* the v1.0 list, then what v1.27, v1.29 and v1.32 added */
    static const char *const allowed[] = {"kernel.shm_rmid_forced",
                                          "net.ipv4.ip_local_port_range",
                                          "net.ipv4.tcp_syncookies",
                                          "net.ipv4.ping_group_range",
                                          "net.ipv4.ip_unprivileged_port_start",
                                          "net.ipv4.ip_local_reserved_ports",
                                          "net.ipv4.tcp_keepalive_time",
                                          "net.ipv4.tcp_fin_timeout",
                                          "net.ipv4.tcp_keepalive_intvl",
                                          "net.ipv4.tcp_keepalive_probes",
                                          "net.ipv4.tcp_rmem",
                                          "net.ipv4.tcp_wmem",
                                          NULL};
    size_t n_allowed = p->minor >= 32 ? 12 : p->minor >= 29 ? 10 : p->minor >= 27 ? 6 : 5;
    const pod_security_context_t *psc = psc_of(p);
    struct k8c_sbuf d;

    k8c_sbuf_init(&d);
    for (size_t i = 0; psc != NULL && i < psc->n_sysctls; i++) {
        const char *name = psc->sysctls[i]->name != NULL ? psc->sysctls[i]->name : "";
        bool ok = false;
        for (size_t k = 0; k < n_allowed; k++)
            ok = ok || strcmp(name, allowed[k]) == 0;
        if (!ok)
            k8c_sbuf_printf(&d, "%s%s", d.len ? ", " : "", name);
    }
    if (d.len > 0)
        fail(res, "forbidden sysctls", d.data);
    k8c_sbuf_free(&d);
}

static bool host_process(const security_context_t *sc)
{
    return sc != NULL && sc->windowsoptions != NULL && sc->windowsoptions->has_hostprocess &&
           sc->windowsoptions->hostprocess;
}

/* A check the pod and its containers can fail: "<setters> <text>" */
static void check_pod_and_containers(const struct pod_view *p, struct result *res, bool pod,
                                     bool (*bad)(const security_context_t *), const char *reason,
                                     const char *text)
{
    struct strs ctrs = {0};

    for (size_t i = 0; i < p->n; i++)
        if (bad(p->c[i].sc))
            strs_add(&ctrs, p->c[i].name);
    if (pod || ctrs.n > 0) {
        struct k8c_sbuf d;
        k8c_sbuf_init(&d);
        put_setters(&d, pod, &ctrs, NULL);
        k8c_sbuf_printf(&d, " %s", text);
        fail(res, reason, d.data);
        k8c_sbuf_free(&d);
    }
    strs_free(&ctrs);
}

static void check_host_process(const struct pod_view *p, struct result *res)
{
    const pod_security_context_t *psc = psc_of(p);
    check_pod_and_containers(
        p, res,
        psc != NULL && psc->windowsoptions != NULL && psc->windowsoptions->has_hostprocess &&
            psc->windowsoptions->hostprocess,
        host_process, "hostProcess", "securityContext.windowsOptions.hostProcess=true");
}

static void check_escalation(const struct pod_view *p, struct result *res)
{
    if (p->minor >= 25 && windows_pod(p))
        return;
    check_pod_and_containers(p, res, false, escalation_not_off, "allowPrivilegeEscalation != false",
                             "must set securityContext.allowPrivilegeEscalation=false");
}

static void check_run_as_non_root(const struct pod_view *p, struct result *res)
{
    const pod_security_context_t *psc = psc_of(p);
    bool pod_false = psc != NULL && psc->has_runasnonroot && !psc->runasnonroot;
    bool pod_covers = psc != NULL && psc->has_runasnonroot && psc->runasnonroot;
    struct strs explicit_ = {0}, implicit = {0};

    for (size_t i = 0; i < p->n; i++) {
        const security_context_t *sc = p->c[i].sc;
        if (sc != NULL && sc->has_runasnonroot && !sc->runasnonroot)
            strs_add(&explicit_, p->c[i].name);
        else if ((sc == NULL || !sc->has_runasnonroot) && !pod_covers)
            strs_add(&implicit, p->c[i].name);
    }
    struct k8c_sbuf d;
    k8c_sbuf_init(&d);
    if (pod_false || explicit_.n > 0) {
        put_setters(&d, pod_false, &explicit_, NULL);
        k8c_sbuf_puts(&d, " must not set securityContext.runAsNonRoot=false");
        fail(res, "runAsNonRoot != true", d.data);
    } else if (implicit.n > 0) {
        k8c_sbuf_puts(&d, "pod or ");
        put_containers(&d, &implicit);
        k8c_sbuf_puts(&d, " must set securityContext.runAsNonRoot=true");
        fail(res, "runAsNonRoot != true", d.data);
    }
    k8c_sbuf_free(&d);
    strs_free(&explicit_);
    strs_free(&implicit);
}

static bool runs_as_root(const security_context_t *sc)
{
    return sc != NULL && sc->has_runasuser && sc->runasuser == 0;
}

static void check_run_as_user(const struct pod_view *p, struct result *res)
{
    const pod_security_context_t *psc = psc_of(p);
    check_pod_and_containers(p, res, psc != NULL && psc->has_runasuser && psc->runasuser == 0,
                             runs_as_root, "runAsUser=0", "must not set runAsUser=0");
}

/*
 * Evaluates p at level and version (version_ok's "latest" or "v1.N"): the checks of that
 * version, failing ones in upstream's order (baseline IDs, then restricted IDs, the baseline
 * ones a restricted check of this version overrides left out). The versions that differ, as
 * upstream's VersionedChecks: seccompProfile_baseline reads the alpha annotations before v1.19;
 * seLinuxOptions allows container_engine_t from v1.31; sysctls allows more names from v1.27,
 * v1.29 and v1.32; allowPrivilegeEscalation starts at v1.8, capabilities_restricted at v1.22
 * (overriding capabilities_baseline), runAsUser at v1.23, seccompProfile_restricted at v1.19
 * (overriding seccompProfile_baseline); Windows pods skip the last three and
 * allowPrivilegeEscalation from v1.25.
 */
static void evaluate(struct pod_view *p, enum level level, const char *version, struct result *res)
{
    bool restricted = level == LEVEL_RESTRICTED;
    int minor = p->minor = version_minor(version);

    if (level == LEVEL_PRIVILEGED)
        return;
    check_apparmor(p, res);
    if (!restricted || minor < 22)
        check_capabilities(p, res, false);
    check_host_namespaces(p, res);
    if (!restricted)
        check_volumes(p, res, false);
    check_host_ports(p, res);
    check_pod_and_containers(p, res, false, is_privileged, "privileged",
                             "must not set securityContext.privileged=true");
    check_proc_mount(p, res);
    check_selinux(p, res);
    if (minor < 19)
        check_seccomp_annotations(p, res);
    else if (!restricted)
        check_seccomp(p, res, false);
    check_sysctls(p, res);
    check_host_process(p, res);
    if (!restricted)
        return;
    if (minor >= 8)
        check_escalation(p, res);
    if (minor >= 22)
        check_capabilities(p, res, true);
    check_volumes(p, res, true);
    check_run_as_non_root(p, res);
    if (minor >= 23)
        check_run_as_user(p, res);
    if (minor >= 19)
        check_seccomp(p, res, true);
}

static void result_init(struct result *res)
{
    k8c_sbuf_init(&res->detail);
    k8c_sbuf_init(&res->reasons);
    res->failed = false;
}

static void result_free(struct result *res)
{
    k8c_sbuf_free(&res->detail);
    k8c_sbuf_free(&res->reasons);
}

/* ---- namespaces and pods from the watch cache ---------------------------------------------- */

static const struct api_resource *namespaces(void)
{
    return api_resource_find("", "v1", "namespaces");
}

static const struct api_resource *pods(void)
{
    return api_resource_find("", "v1", "pods");
}

bool api_podsecurity_ready(struct api_server *srv)
{
    return (namespaces() == NULL || api_watchcache_ready(srv, namespaces())) &&
           (pods() == NULL || api_watchcache_ready(srv, pods()));
}

/* ---- the admission decision ---------------------------------------------------------------- */

static void lv_string(char *buf, size_t size, const struct level_version *lv)
{
    snprintf(buf, size, "%s:%s", level_names[lv->level], lv->version);
}

/* Whether a pod update may change what the checks see (upstream's isSignificantPodUpdate) */
static bool significant_update(const pod_spec_t *s, const pod_spec_t *o)
{
    if (o == NULL || s->n_containers != o->n_containers ||
        s->n_initcontainers != o->n_initcontainers)
        return true;
    for (size_t i = 0; i < s->n_containers; i++)
        if (!str_eq(s->containers[i]->image, o->containers[i]->image))
            return true;
    for (size_t i = 0; i < s->n_initcontainers; i++)
        if (!str_eq(s->initcontainers[i]->image, o->initcontainers[i]->image))
            return true;
    for (size_t i = 0; i < s->n_ephemeralcontainers; i++) {
        const K8s__Io__Api__Core__V1__EphemeralContainerCommon *e =
            s->ephemeralcontainers[i]->ephemeralcontainercommon;
        bool found = false;
        for (size_t j = 0; e != NULL && j < o->n_ephemeralcontainers; j++) {
            const K8s__Io__Api__Core__V1__EphemeralContainerCommon *f =
                o->ephemeralcontainers[j]->ephemeralcontainercommon;
            if (f != NULL && str_eq(e->name, f->name)) {
                found = true;
                if (!str_eq(e->image, f->image))
                    return true;
            }
        }
        if (!found)
            return true;
    }
    return false;
}

static bool is_workload(const struct api_resource *r)
{
    static const char *const kinds[] = {"ReplicationController",
                                        "PodTemplate",
                                        "ReplicaSet",
                                        "Deployment",
                                        "StatefulSet",
                                        "DaemonSet",
                                        "Job",
                                        "CronJob",
                                        NULL};
    for (size_t i = 0; kinds[i] != NULL; i++)
        if (strcmp(r->kind, kinds[i]) == 0 && r->stored_as == NULL)
            return true;
    return false;
}

/* Warning for a pod or template failing the warn level */
static void warn_result(const struct level_version *lv, const struct result *res, api_warn_fn warn,
                        void *warn_arg)
{
    char lvs[48];
    struct k8c_sbuf w;
    lv_string(lvs, sizeof(lvs), lv);
    k8c_sbuf_init(&w);
    k8c_sbuf_printf(&w, "would violate PodSecurity \"%s\": %s", lvs, res->detail.data);
    if (warn != NULL)
        warn(warn_arg, w.data);
    k8c_sbuf_free(&w);
}

/* ---- a namespace's stricter enforce level: the existing pods that fail it ---------------- */

struct dry_run {
    enum level level;
    const char *version;
    size_t total, checked, failed;
    /* one entry per distinct failure: the reasons, the count and the smallest pod name */
    struct dry_key {
        char *reasons, *pod;
        size_t count;
    } * keys;
    size_t n_keys;
};

static void dry_run_cb(void *arg, const ProtobufCMessage *obj)
{
    struct dry_run *d = arg;
    const K8s__Io__Api__Core__V1__Pod *pod = (const void *)obj;
    const api_meta_t *m = api_obj_meta(obj);
    struct pod_view pv;
    struct result res;

    d->total++;
    if (d->checked >= MAX_DRY_RUN_PODS || pod->spec == NULL)
        return;
    d->checked++;
    pod_view_init(&pv, m, pod->spec);
    result_init(&res);
    evaluate(&pv, d->level, d->version, &res);
    if (res.failed) {
        const char *name = m != NULL && m->name != NULL ? m->name : "";
        size_t k;
        d->failed++;
        for (k = 0; k < d->n_keys; k++)
            if (strcmp(d->keys[k].reasons, res.reasons.data) == 0)
                break;
        if (k == d->n_keys) {
            d->keys = k8c_realloc(d->keys, (d->n_keys + 1) * sizeof(*d->keys));
            d->keys[d->n_keys++] =
                (struct dry_key){k8c_strdup(res.reasons.data), k8c_strdup(name), 0};
        } else if (strcmp(name, d->keys[k].pod) < 0) {
            k8c_free(d->keys[k].pod);
            d->keys[k].pod = k8c_strdup(name);
        }
        d->keys[k].count++;
    }
    result_free(&res);
    k8c_free(pv.c);
}

static void dry_run_namespace(struct api_server *srv, const char *ns,
                              const struct level_version *enforce, api_warn_fn warn, void *warn_arg)
{
    struct dry_run d = {.level = enforce->level, .version = enforce->version};
    char text[1024], lvs[48];

    if (pods() == NULL)
        return;
    if (api_watchcache_each(srv, pods(), ns, dry_run_cb, &d) < 0) {
        if (warn != NULL)
            warn(warn_arg, "failed to list pods while checking new PodSecurity enforce level");
        return;
    }
    if (warn == NULL)
        goto out;
    if (d.checked < d.total) {
        snprintf(text, sizeof(text),
                 "new PodSecurity enforce level only checked against the first %zu of %zu "
                 "existing pods",
                 d.checked, d.total);
        warn(warn_arg, text);
    }
    if (d.failed > 0) {
        lv_string(lvs, sizeof(lvs), enforce);
        snprintf(text, sizeof(text),
                 "existing pods in namespace \"%.200s\" violate the new PodSecurity enforce level "
                 "\"%s\"",
                 ns, lvs);
        warn(warn_arg, text);
    }
    char **lines = k8c_calloc(d.n_keys + 1, sizeof(char *));
    for (size_t k = 0; k < d.n_keys; k++) {
        struct k8c_sbuf l;
        k8c_sbuf_init(&l);
        if (d.keys[k].count == 1)
            k8c_sbuf_printf(&l, "%s: %s", d.keys[k].pod, d.keys[k].reasons);
        else
            k8c_sbuf_printf(&l, "%s (and %zu other pod%s): %s", d.keys[k].pod, d.keys[k].count - 1,
                            d.keys[k].count == 2 ? "" : "s", d.keys[k].reasons);
        lines[k] = k8c_sbuf_detach(&l);
    }
    qsort(lines, d.n_keys, sizeof(*lines), strp_cmp);
    for (size_t k = 0; k < d.n_keys; k++) {
        warn(warn_arg, lines[k]);
        k8c_free(lines[k]);
    }
    k8c_free(lines);
out:
    for (size_t k = 0; k < d.n_keys; k++) {
        k8c_free(d.keys[k].reasons);
        k8c_free(d.keys[k].pod);
    }
    k8c_free(d.keys);
}

static int admit_namespace(struct api_server *srv, enum api_verb verb, const ProtobufCMessage *obj,
                           const ProtobufCMessage *old, struct api_field_errors *errs,
                           api_warn_fn warn, void *warn_arg)
{
    struct policy now, before;
    struct api_field_errors new_errs, old_errs;
    const api_meta_t *m = api_obj_meta(obj);
    int code = 0;

    api_field_errors_init(&new_errs);
    api_field_errors_init(&old_errs);
    parse_policy(m, &now, &new_errs);
    if (verb == VERB_CREATE) {
        code = new_errs.n > 0 ? 422 : 0;
    } else {
        parse_policy(api_obj_meta(old), &before, &old_errs);
        bool same = new_errs.n == old_errs.n;
        for (size_t i = 0; same && i < new_errs.n; i++)
            same = str_eq(new_errs.items[i].field, old_errs.items[i].field) &&
                   str_eq(new_errs.items[i].message, old_errs.items[i].message);
        if (new_errs.n > 0 && (old_errs.n == 0 || !same))
            code = 422;
    }
    if (code == 422) {
        for (size_t i = 0; i < new_errs.n; i++)
            api_field_errors_add(errs, new_errs.items[i].type, new_errs.items[i].field,
                                 new_errs.items[i].message);
    } else if (verb != VERB_CREATE && now.enforce.level != LEVEL_PRIVILEGED &&
               (now.enforce.level != before.enforce.level ||
                strcmp(now.enforce.version, before.enforce.version) != 0) &&
               !(strcmp(now.enforce.version, before.enforce.version) == 0 &&
                 now.enforce.level <= before.enforce.level)) {
        dry_run_namespace(srv, m != NULL && m->name ? m->name : "", &now.enforce, warn, warn_arg);
    }
    api_field_errors_free(&new_errs);
    api_field_errors_free(&old_errs);
    return code;
}

int api_podsecurity(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
                    const char *sub, const ProtobufCMessage *obj, const ProtobufCMessage *old,
                    struct api_field_errors *errs, api_warn_fn warn, void *warn_arg, char *errmsg,
                    size_t size)
{
    static const char *const ignored[] = {"exec",        "attach", "binding", "eviction", "log",
                                          "portforward", "proxy",  "status",  NULL};
    bool pod = obj != NULL && obj->descriptor == &k8s__io__api__core__v1__pod__descriptor;
    bool has_sub = sub != NULL && sub[0] != '\0';
    const api_meta_t *m = api_obj_meta(obj);
    const K8s__Io__Api__Core__V1__PodTemplateSpec *tpl = NULL;

    if (verb != VERB_CREATE && verb != VERB_UPDATE && verb != VERB_PATCH)
        return 0;
    if (obj != NULL && obj->descriptor == &k8s__io__api__core__v1__namespace__descriptor)
        return has_sub ? 0 : admit_namespace(srv, verb, obj, old, errs, warn, warn_arg);
    if (pod) {
        for (size_t i = 0; has_sub && ignored[i] != NULL; i++)
            if (strcmp(sub, ignored[i]) == 0)
                return 0;
        const K8s__Io__Api__Core__V1__Pod *p = (const void *)obj, *o = (const void *)old;
        if (verb != VERB_CREATE && o != NULL && o->spec != NULL && p->spec != NULL &&
            !significant_update(p->spec, o->spec))
            return 0;
    } else {
        if (has_sub || !is_workload(r) ||
            (tpl = (const K8s__Io__Api__Core__V1__PodTemplateSpec *)api_obj_pod_template(obj)) ==
                NULL ||
            tpl->spec == NULL)
            return 0;
    }
    const char *ns =
        m != NULL && m->namespace_ != NULL && m->namespace_[0] ? m->namespace_ : "default";
    char key[512];
    bool loaded = false;
    const ProtobufCMessage *nso = NULL;
    if (namespaces() != NULL) {
        api_key(srv, namespaces(), NULL, ns, key, sizeof(key));
        nso = api_watchcache_get(srv, namespaces(), key, &loaded);
    }
    const api_meta_t *ns_meta = nso != NULL ? api_obj_meta(nso) : NULL;
    if (ns_meta == NULL) {
        if (!pod)
            return 0; /* workloads fail open */
        snprintf(errmsg, size, "Internal error occurred: failed to lookup namespace \"%.200s\"",
                 ns);
        return 500;
    }
    struct policy pol;
    parse_policy(ns_meta, &pol, NULL);
    if (!pol.errors && pol.enforce.level == LEVEL_PRIVILEGED &&
        pol.warn.level == LEVEL_PRIVILEGED && pol.audit.level == LEVEL_PRIVILEGED)
        return 0;
    struct pod_view pv;
    if (pod)
        pod_view_init(&pv, m, ((const K8s__Io__Api__Core__V1__Pod *)obj)->spec);
    else
        pod_view_init(&pv, tpl->metadata, tpl->spec);
    int code = 0;
    struct result enforce, warned;
    result_init(&enforce);
    result_init(&warned);
    if (pod) {
        evaluate(&pv, pol.enforce.level, pol.enforce.version, &enforce);
        if (enforce.failed) {
            char lvs[48];
            lv_string(lvs, sizeof(lvs), &pol.enforce);
            snprintf(errmsg, size, "pods \"%s\" is forbidden: violates PodSecurity \"%s\": %s",
                     m != NULL && m->name ? m->name : "", lvs, enforce.detail.data);
            code = 403;
        }
    }
    if (code == 0) {
        bool same = pod && pol.warn.level == pol.enforce.level &&
                    strcmp(pol.warn.version, pol.enforce.version) == 0;
        if (!same) {
            evaluate(&pv, pol.warn.level, pol.warn.version, &warned);
            if (warned.failed)
                warn_result(&pol.warn, &warned, warn, warn_arg);
        }
    }
    result_free(&enforce);
    result_free(&warned);
    k8c_free(pv.c);
    return code;
}

char *api_podsecurity_evaluate(const char *level, const ProtobufCMessage *obj)
{
    const K8s__Io__Api__Core__V1__PodTemplateSpec *tpl = NULL;
    struct pod_view pv;
    struct result res;
    const char *colon = strchr(level, ':'), *version = colon != NULL ? colon + 1 : "latest";
    size_t len = colon != NULL ? (size_t)(colon - level) : strlen(level);
    int l;
    char *out = NULL;

    for (l = 0;
         l < 3 && (strlen(level_names[l]) != len || strncmp(level, level_names[l], len) != 0); l++)
        ;
    if (l == 3 || obj == NULL || !version_ok(version))
        return NULL;
    if (obj->descriptor == &k8s__io__api__core__v1__pod__descriptor) {
        const K8s__Io__Api__Core__V1__Pod *p = (const void *)obj;
        if (p->spec == NULL)
            return NULL;
        pod_view_init(&pv, api_obj_meta(obj), p->spec);
    } else if ((tpl = (const K8s__Io__Api__Core__V1__PodTemplateSpec *)api_obj_pod_template(obj)) !=
                   NULL &&
               tpl->spec != NULL) {
        pod_view_init(&pv, tpl->metadata, tpl->spec);
    } else {
        return NULL;
    }
    result_init(&res);
    evaluate(&pv, (enum level)l, version, &res);
    if (res.failed)
        out = k8c_strdup(res.detail.data);
    result_free(&res);
    k8c_free(pv.c);
    return out;
}
