/*
 * Server-side Table output (see table.h). One printer per resource: a static column array and
 * a cells function that mirrors upstream's print<Kind> from pkg/printers/internalversion
 * (kube-apiserver 1.32) with Wide on, as the API server always generates them.
 *
 * Upstream prints internal types; we print the v1 (external) messages, so where the internal
 * conversion fills a field (pod IPs from status.podIP, cluster IPs from spec.clusterIP, secret
 * data merged with stringData) the printers read the external field as the conversion would.
 * Optional scalars that defaulting always sets (spec.replicas) are read with their default.
 */
#include "table.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "error.h"
#include "quantity.h"
#include "convert.h"
#include "object.h"

#include "k8s/api/apps/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v2/generated.pb-c.h"
#include "k8s/api/batch/v1/generated.pb-c.h"
#include "k8s/api/coordination/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/api/discovery/v1/generated.pb-c.h"
#include "k8s/api/events/v1/generated.pb-c.h"
#include "k8s/api/networking/v1/generated.pb-c.h"
#include "k8s/api/node/v1/generated.pb-c.h"
#include "k8s/api/policy/v1/generated.pb-c.h"
#include "k8s/api/rbac/v1/generated.pb-c.h"
#include "k8s/api/scheduling/v1/generated.pb-c.h"
#include "k8s/api/storage/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/api/resource/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/util/intstr/generated.pb-c.h"

/* Short names for the generated types. */
#define CORE(x)            K8s__Io__Api__Core__V1__##x
#define APPS(x)            K8s__Io__Api__Apps__V1__##x
#define BATCH(x)           K8s__Io__Api__Batch__V1__##x
#define HPA(x)             K8s__Io__Api__Autoscaling__V2__##x
#define NET(x)             K8s__Io__Api__Networking__V1__##x
#define DISC(x)            K8s__Io__Api__Discovery__V1__##x
#define RBAC(x)            K8s__Io__Api__Rbac__V1__##x
#define META(x)            K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__##x
#define QUANTITY           K8s__Io__Apimachinery__Pkg__Api__Resource__Quantity
#define INTORSTR           K8s__Io__Apimachinery__Pkg__Util__Intstr__IntOrString
#define OR_EMPTY(p, empty) ((p) != NULL ? (p) : &(empty))

static const META(ObjectMeta)
    empty_meta = K8S__IO__APIMACHINERY__PKG__APIS__META__V1__OBJECT_META__INIT;
static const META(LabelSelector)
    empty_selector = K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR__INIT;
static const CORE(PodSpec) empty_pod_spec = K8S__IO__API__CORE__V1__POD_SPEC__INIT;
static const CORE(PodStatus) empty_pod_status = K8S__IO__API__CORE__V1__POD_STATUS__INIT;
static const CORE(PodTemplateSpec) empty_template = K8S__IO__API__CORE__V1__POD_TEMPLATE_SPEC__INIT;
static const CORE(ContainerState) empty_state = K8S__IO__API__CORE__V1__CONTAINER_STATE__INIT;

/* ---- the cell context ----------------------------------------------------------------------- */

struct tctx {
    struct k8c_arena *a;
    struct k8c_json *cells;
    int64_t now;
    struct k8c_sbuf sb; /* scratch for cells built in pieces */
};

static const char *str_or(const char *s, const char *dflt)
{
    return s != NULL ? s : dflt;
}

#define S(s) str_or((s), "")

static bool str_eq(const char *a, const char *b)
{
    return strcmp(S(a), b) == 0;
}

static bool str_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static void cell_str(struct tctx *c, const char *s)
{
    k8c_json_array_append(c->a, c->cells, k8c_json_new_string(c->a, S(s)));
}

static void cell_int(struct tctx *c, int64_t v)
{
    k8c_json_array_append(c->a, c->cells, k8c_json_new_int(c->a, v));
}

static void cell_bool(struct tctx *c, bool v)
{
    k8c_json_array_append(c->a, c->cells, k8c_json_new_bool(c->a, v));
}

/* Appends the scratch buffer as a string cell and empties it. */
static void cell_sb(struct tctx *c)
{
    k8c_json_array_append(c->a, c->cells,
                          k8c_json_new_stringn(c->a, c->sb.len > 0 ? c->sb.data : "", c->sb.len));
    k8c_sbuf_reset(&c->sb);
}

/* Appends the scratch buffer, or dflt when it is empty, and empties it. */
static void cell_sb_or(struct tctx *c, const char *dflt)
{
    if (c->sb.len == 0)
        k8c_sbuf_puts(&c->sb, dflt);
    cell_sb(c);
}

/* vsnprintf into buf (size bytes), returning the length written: truncated output is cut
 * at size - 1 bytes, an encoding error gives the empty string. */
static size_t format_into(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static size_t format_into(char *buf, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, size, fmt, ap);
    if (n < 0)
        return 0;
    return (size_t)n >= size ? size - 1 : (size_t)n;
}

/* Appends a formatted string cell (at most 255 bytes). */
static void cell_fmt(struct tctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cell_fmt(struct tctx *c, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_into(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    k8c_json_array_append(c->a, c->cells, k8c_json_new_stringn(c->a, buf, n));
}

/* An arena copy of a formatted string (at most 511 bytes). */
static const char *afmt(struct tctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *afmt(struct tctx *c, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_into(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return k8c_arena_strndup(c->a, buf, n);
}

/* ---- time ----------------------------------------------------------------------------------- */

/* Go's zero time.Time (0001-01-01T00:00:00Z) in Unix seconds: what an unset timestamp is. */
#define GO_ZERO_SEC (-62135596800LL)

struct gotime {
    int64_t sec;
    int32_t nsec;
};

static const struct gotime zero_time = {GO_ZERO_SEC, 0};

/* A Time or MicroTime (the same seconds and nanos fields) as a gotime; unset: the zero time. */
#define GOTIME_OF(t)                                                                               \
    ((t) != NULL                                                                                   \
         ? (struct gotime){(t)->has_seconds ? (t)->seconds : 0, (t)->has_nanos ? (t)->nanos : 0}   \
         : zero_time)

static struct gotime time_of(const META(Time) * t)
{
    return GOTIME_OF(t);
}

static struct gotime micro_time_of(const META(MicroTime) * t)
{
    return GOTIME_OF(t);
}

static bool time_is_zero(struct gotime t)
{
    return t.sec == GO_ZERO_SEC && t.nsec == 0;
}

static bool time_before(struct gotime a, struct gotime b)
{
    return a.sec < b.sec || (a.sec == b.sec && a.nsec < b.nsec);
}

/* b - a in nanoseconds, saturated as Go's Time.Sub does. */
static int64_t time_sub(struct gotime b, struct gotime a)
{
    __int128 d = ((__int128)b.sec - a.sec) * 1000000000 + ((__int128)b.nsec - a.nsec);
    if (d > INT64_MAX)
        return INT64_MAX;
    if (d < INT64_MIN)
        return INT64_MIN;
    return (int64_t)d;
}

/* "<a><unit_a>", or "<a><unit_a><b><unit_b>" when b is not zero ("3m", "3m5s"). */
static void put_two_units(char *buf, size_t size, long long a, char unit_a, long long b,
                          char unit_b)
{
    if (b == 0)
        snprintf(buf, size, "%lld%c", a, unit_a);
    else
        snprintf(buf, size, "%lld%c%lld%c", a, unit_a, b, unit_b);
}

const char *api_table_human_duration(int64_t ns, char *buf)
{
    const int64_t second = 1000000000, minute = 60 * second, hour = 60 * minute;
    long long seconds = ns / second; /* truncates toward zero, as Go's int(d.Seconds()) */
    const size_t size = API_TABLE_DURATION_MAX;

    if (seconds < -1) {
        snprintf(buf, size, "<invalid>");
        return buf;
    }
    if (seconds < 0) {
        snprintf(buf, size, "0s");
        return buf;
    }
    if (seconds < 60 * 2) {
        snprintf(buf, size, "%llds", seconds);
        return buf;
    }
    long long minutes = ns / minute;
    if (minutes < 10) {
        put_two_units(buf, size, minutes, 'm', (ns / second) % 60, 's');
        return buf;
    }
    if (minutes < 60 * 3) {
        snprintf(buf, size, "%lldm", minutes);
        return buf;
    }
    long long hours = ns / hour;
    if (hours < 8) {
        put_two_units(buf, size, hours, 'h', (ns / minute) % 60, 'm');
    } else if (hours < 48) {
        snprintf(buf, size, "%lldh", hours);
    } else if (hours < 24 * 8) {
        put_two_units(buf, size, hours / 24, 'd', hours % 24, 'h');
    } else if (hours < 24 * 365 * 2) {
        snprintf(buf, size, "%lldd", hours / 24);
    } else if (hours < 24 * 365 * 8) {
        put_two_units(buf, size, hours / 24 / 365, 'y', (hours / 24) % 365, 'd');
    } else {
        snprintf(buf, size, "%lldy", hours / 24 / 365);
    }
    return buf;
}

/* HumanDuration(now - t), or "<unknown>" for an unset time (upstream's translateTimestampSince). */
static const char *since(struct tctx *c, struct gotime t)
{
    char buf[API_TABLE_DURATION_MAX];
    if (time_is_zero(t))
        return "<unknown>";
    struct gotime now = {c->now, 0};
    /* two statements: argument evaluation order is unspecified, so strlen
     * must not run before the duration is written */
    const char *d = api_table_human_duration(time_sub(now, t), buf);
    return k8c_arena_strndup(c->a, d, strlen(d));
}

static void cell_age(struct tctx *c, const META(ObjectMeta) * m)
{
    cell_str(c, since(c, time_of(m->creationtimestamp)));
}

/* Go's t.UTC().Format(time.RFC3339) for whole seconds. */
static const char *rfc3339(struct tctx *c, struct gotime t)
{
    char buf[64];
    k8c_codec_format_time(buf, sizeof(buf), t.sec, 0, false);
    return afmt(c, "%s", buf);
}

/* ---- maps, labels, selectors, quantities ------------------------------------------------------
 */

/* Field `number` (1 = key, 2 = value) of a protobuf-c map entry, read through its descriptor so
 * one helper serves every generated entry type. */
static void *entry_field(const void *entry, unsigned number)
{
    const ProtobufCMessage *m = entry;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(m->descriptor, number);
    if (f == NULL)
        return NULL;
    return *(void *const *)((const char *)m + f->offset);
}

static const char *entry_key(const void *entry)
{
    return S(entry_field(entry, 1));
}

/* The value string of key in a map<string,string> (last entry wins, as a Go map), or NULL. */
static const char *map_get(void *const *entries, size_t n, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(entry_key(entries[i]), key) == 0)
            v = S(entry_field(entries[i], 2));
    return v;
}

/* The value message of key in a map<string,Message>, or NULL. */
static const void *map_get_msg(void *const *entries, size_t n, const char *key)
{
    const void *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(entry_key(entries[i]), key) == 0)
            v = entry_field(entries[i], 2);
    return v;
}

static int cmp_entry_key(const void *x, const void *y)
{
    return strcmp(entry_key(*(void *const *)x), entry_key(*(void *const *)y));
}

/* Entries sorted by key (an arena copy of the pointer array). */
static void **sorted_entries(struct tctx *c, void *const *entries, size_t n)
{
    void **v = k8c_arena_alloc(c->a, (n > 0 ? n : 1) * sizeof(*v));
    if (n > 0)
        memcpy(v, entries, n * sizeof(*v));
    qsort(v, n, sizeof(*v), cmp_entry_key);
    return v;
}

/* labels.Set(m).String(): "k=v,k2=v2" by key, into the scratch buffer. */
static void put_labels(struct tctx *c, void *const *entries, size_t n)
{
    void **v = sorted_entries(c, entries, n);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            k8c_sbuf_putc(&c->sb, ',');
        k8c_sbuf_printf(&c->sb, "%s=%s", entry_key(v[i]), S(entry_field(v[i], 2)));
    }
}

/* labels.FormatLabels: the labels, or "<none>". */
static void cell_labels(struct tctx *c, void *const *entries, size_t n)
{
    put_labels(c, entries, n);
    cell_sb_or(c, "<none>");
}

#define CELL_LABELS(c, owner, field)                                                               \
    cell_labels((c), (void *const *)(owner)->field, (owner)->n_##field)

struct requirement {
    const char *key;
    const char *op; /* "=", " in ", " notin ", "" (exists), "!" (does not exist) */
    char *const *values;
    size_t n_values;
    const char *single; /* for "=" */
};

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/*
 * metav1.LabelSelectorAsSelector(sel).String() into the scratch buffer: requirements from
 * matchLabels ("k=v") and matchExpressions, sorted by key (stably), values of in/notin sorted.
 * Returns false where upstream's conversion fails (unknown operator, wrong value count); the
 * buffer is then left empty. A nil or empty selector prints as "".
 */
static bool put_selector(struct tctx *c, const META(LabelSelector) * sel)
{
    if (sel == NULL)
        return true;
    size_t n = sel->n_matchlabels + sel->n_matchexpressions;
    struct requirement *req = k8c_arena_calloc(c->a, (n > 0 ? n : 1) * sizeof(*req));
    size_t k = 0;
    for (size_t i = 0; i < sel->n_matchlabels; i++, k++) {
        req[k].key = entry_key(sel->matchlabels[i]);
        req[k].op = "=";
        req[k].single = S(entry_field(sel->matchlabels[i], 2));
    }
    for (size_t i = 0; i < sel->n_matchexpressions; i++, k++) {
        const META(LabelSelectorRequirement) *e = sel->matchexpressions[i];
        const char *op = S(e->operator_);
        req[k].key = S(e->key);
        req[k].values = e->values;
        req[k].n_values = e->n_values;
        if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
            if (e->n_values == 0)
                return false;
            req[k].op = op[0] == 'I' ? " in " : " notin ";
        } else if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) {
            if (e->n_values != 0)
                return false;
            req[k].op = op[0] == 'E' ? "" : "!";
        } else {
            return false;
        }
    }
    /* insertion sort: stable, and selectors are small */
    for (size_t i = 1; i < n; i++) {
        struct requirement r = req[i];
        size_t j = i;
        while (j > 0 && strcmp(req[j - 1].key, r.key) > 0) {
            req[j] = req[j - 1];
            j--;
        }
        req[j] = r;
    }
    for (size_t i = 0; i < n; i++) {
        const struct requirement *r = &req[i];
        if (i > 0)
            k8c_sbuf_putc(&c->sb, ',');
        if (strcmp(r->op, "!") == 0) {
            k8c_sbuf_printf(&c->sb, "!%s", r->key);
        } else if (strcmp(r->op, "") == 0) {
            k8c_sbuf_puts(&c->sb, r->key);
        } else if (strcmp(r->op, "=") == 0) {
            k8c_sbuf_printf(&c->sb, "%s=%s", r->key, r->single);
        } else {
            char **v = k8c_arena_alloc(c->a, r->n_values * sizeof(*v));
            memcpy(v, r->values, r->n_values * sizeof(*v));
            qsort(v, r->n_values, sizeof(*v), cmp_str);
            k8c_sbuf_printf(&c->sb, "%s%s(", r->key, r->op);
            for (size_t j = 0; j < r->n_values; j++) {
                if (j > 0)
                    k8c_sbuf_putc(&c->sb, ',');
                k8c_sbuf_puts(&c->sb, S(v[j]));
            }
            k8c_sbuf_putc(&c->sb, ')');
        }
    }
    return true;
}

/* metav1.FormatLabelSelector: the selector, "<none>" when empty, "<error>" when invalid. */
static void cell_selector(struct tctx *c, const META(LabelSelector) * sel)
{
    if (!put_selector(c, sel)) {
        k8c_sbuf_reset(&c->sb);
        k8c_sbuf_puts(&c->sb, "<error>");
    }
    cell_sb_or(c, "<none>");
}

/* Quantity.String() of a present quantity (canonical form). */
static const char *qty_str(struct tctx *c, const QUANTITY *q)
{
    char buf[K8C_QUANTITY_STR_MAX];
    const char *s = q != NULL ? S(q->string) : "";
    if (k8c_quantity_canonicalize(s, strlen(s), buf) == 0)
        return k8c_arena_strndup(c->a, buf, strlen(buf));
    return s[0] != '\0' ? s : "0";
}

/* (*Quantity).String() of a pointer field: "<nil>" when absent. */
static const char *qty_ptr_str(struct tctx *c, const QUANTITY *q)
{
    return q == NULL ? "<nil>" : qty_str(c, q);
}

/* intstr.IntOrString.String(). */
static const char *intstr_str(struct tctx *c, const INTORSTR *v)
{
    if (v->has_type && v->type == 1)
        return S(v->strval);
    return afmt(c, "%d", v->has_intval ? v->intval : 0);
}

/* ---- shared cells --------------------------------------------------------------------------- */

/* layoutContainerCells: container names and images, comma-separated (two cells). */
static void cell_containers(struct tctx *c, const CORE(PodTemplateSpec) * t)
{
    const CORE(PodSpec) *spec = t != NULL ? OR_EMPTY(t->spec, empty_pod_spec) : &empty_pod_spec;
    for (size_t i = 0; i < spec->n_containers; i++) {
        if (i > 0)
            k8c_sbuf_putc(&c->sb, ',');
        k8c_sbuf_puts(&c->sb, S(spec->containers[i]->name));
    }
    cell_sb(c);
    for (size_t i = 0; i < spec->n_containers; i++) {
        if (i > 0)
            k8c_sbuf_putc(&c->sb, ',');
        k8c_sbuf_puts(&c->sb, S(spec->containers[i]->image));
    }
    cell_sb(c);
}

/* The ObjectMeta of any top-level object (its "metadata" field), or an empty one. */
static const META(ObjectMeta) * meta_of(const ProtobufCMessage *obj)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(obj->descriptor, "metadata");
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
        f->descriptor != &k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__descriptor)
        return &empty_meta;
    const META(ObjectMeta) *m = *(const META(ObjectMeta) *const *)((const char *)obj + f->offset);
    return OR_EMPTY(m, empty_meta);
}

/* ---- pods ----------------------------------------------------------------------------------- */

/* podutil.IsRestartableInitContainer for the init container named name (last of that name). */
static bool is_sidecar(const CORE(PodSpec) * spec, const char *name)
{
    const CORE(Container) *found = NULL;
    for (size_t i = 0; i < spec->n_initcontainers; i++)
        if (strcmp(S(spec->initcontainers[i]->name), S(name)) == 0)
            found = spec->initcontainers[i];
    return found != NULL && str_eq(found->restartpolicy, "Always");
}

static bool pod_condition_true(const CORE(PodStatus) * st, const char *type, bool first_only)
{
    for (size_t i = 0; i < st->n_conditions; i++) {
        const CORE(PodCondition) *cond = st->conditions[i];
        if (!str_eq(cond->type, type))
            continue;
        if (str_eq(cond->status, "True"))
            return true;
        if (first_only)
            return false;
    }
    return false;
}

static void note_restart(const CORE(ContainerStatus) * cs, struct gotime *last)
{
    const CORE(ContainerState) *ls = OR_EMPTY(cs->laststate, empty_state);
    if (ls->terminated != NULL) {
        struct gotime t = time_of(ls->terminated->finishedat);
        if (time_before(*last, t))
            *last = t;
    }
}

/*
 * printPod. The status column starts as the phase (or status.reason), then the init containers
 * are walked in order until the first one not done (its state names the status, "Init:1/3"),
 * and only when initialisation is over are the app containers walked last to first, so the
 * first container with a waiting or terminated reason wins. Deletion turns the status into
 * Terminating (or Unknown for a pod lost with its node) unless the pod already finished.
 */
static int pod_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(Pod) *pod = (const CORE(Pod) *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(pod->metadata, empty_meta);
    const CORE(PodSpec) *spec = OR_EMPTY(pod->spec, empty_pod_spec);
    const CORE(PodStatus) *st = OR_EMPTY(pod->status, empty_pod_status);
    long long restarts = 0, sidecar_restarts = 0;
    long long total = (long long)spec->n_containers, ready = 0;
    struct gotime last_restart = zero_time, last_sidecar_restart = zero_time;
    const char *phase = S(st->phase);
    const char *reason = str_empty(st->reason) ? phase : st->reason;
    bool initializing = false;

    for (size_t i = 0; i < st->n_conditions; i++)
        if (str_eq(st->conditions[i]->type, "PodScheduled") &&
            str_eq(st->conditions[i]->reason, "SchedulingGated"))
            reason = "SchedulingGated";

    for (size_t i = 0; i < spec->n_initcontainers; i++)
        if (str_eq(spec->initcontainers[i]->restartpolicy, "Always"))
            total++;

    for (size_t i = 0; i < st->n_initcontainerstatuses; i++) {
        const CORE(ContainerStatus) *cs = st->initcontainerstatuses[i];
        const CORE(ContainerState) *state = OR_EMPTY(cs->state, empty_state);
        const CORE(ContainerStateTerminated) *term = state->terminated;
        bool sidecar = is_sidecar(spec, cs->name);

        restarts += cs->restartcount;
        note_restart(cs, &last_restart);
        if (sidecar) {
            sidecar_restarts += cs->restartcount;
            note_restart(cs, &last_sidecar_restart);
        }
        if (term != NULL && term->exitcode == 0)
            continue;
        if (sidecar && cs->has_started && cs->started) {
            if (cs->ready)
                ready++;
            continue;
        }
        if (term != NULL) {
            if (str_empty(term->reason)) {
                if (term->signal != 0)
                    reason = afmt(c, "Init:Signal:%d", term->signal);
                else
                    reason = afmt(c, "Init:ExitCode:%d", term->exitcode);
            } else {
                reason = afmt(c, "Init:%s", term->reason);
            }
        } else if (state->waiting != NULL && !str_empty(state->waiting->reason) &&
                   !str_eq(state->waiting->reason, "PodInitializing")) {
            reason = afmt(c, "Init:%s", state->waiting->reason);
        } else {
            reason = afmt(c, "Init:%zu/%zu", i, spec->n_initcontainers);
        }
        initializing = true;
        break;
    }

    if (!initializing || pod_condition_true(st, "Initialized", true)) {
        bool has_running = false;
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        for (size_t i = st->n_containerstatuses; i-- > 0;) {
            const CORE(ContainerStatus) *cs = st->containerstatuses[i];
            const CORE(ContainerState) *state = OR_EMPTY(cs->state, empty_state);

            restarts += cs->restartcount;
            note_restart(cs, &last_restart);
            if (state->waiting != NULL && !str_empty(state->waiting->reason)) {
                reason = state->waiting->reason;
            } else if (state->terminated != NULL && !str_empty(state->terminated->reason)) {
                reason = state->terminated->reason;
            } else if (state->terminated != NULL) {
                if (state->terminated->signal != 0)
                    reason = afmt(c, "Signal:%d", state->terminated->signal);
                else
                    reason = afmt(c, "ExitCode:%d", state->terminated->exitcode);
            } else if (cs->ready && state->running != NULL) {
                has_running = true;
                ready++;
            }
        }
        if (strcmp(reason, "Completed") == 0 && has_running)
            reason = pod_condition_true(st, "Ready", false) ? "Running" : "NotReady";
    }

    if (meta->deletiontimestamp != NULL && str_eq(st->reason, "NodeLost"))
        reason = "Unknown";
    else if (meta->deletiontimestamp != NULL && strcmp(phase, "Failed") != 0 &&
             strcmp(phase, "Succeeded") != 0)
        reason = "Terminating";

    cell_str(c, meta->name);
    cell_fmt(c, "%lld/%lld", ready, total);
    cell_str(c, reason);
    if (restarts != 0 && !time_is_zero(last_restart))
        cell_fmt(c, "%lld (%s ago)", restarts, since(c, last_restart));
    else
        cell_fmt(c, "%lld", restarts);
    cell_age(c, meta);

    /* wide */
    const char *ip = st->n_podips > 0 ? S(st->podips[0]->ip) : S(st->podip);
    cell_str(c, ip[0] != '\0' ? ip : "<none>");
    cell_str(c, str_empty(spec->nodename) ? "<none>" : spec->nodename);
    cell_str(c, str_empty(st->nominatednodename) ? "<none>" : st->nominatednodename);
    if (spec->n_readinessgates == 0) {
        cell_str(c, "<none>");
    } else {
        size_t true_conditions = 0;
        for (size_t g = 0; g < spec->n_readinessgates; g++) {
            const char *type = S(spec->readinessgates[g]->conditiontype);
            for (size_t i = 0; i < st->n_conditions; i++) {
                if (str_eq(st->conditions[i]->type, type)) {
                    if (str_eq(st->conditions[i]->status, "True"))
                        true_conditions++;
                    break;
                }
            }
        }
        cell_fmt(c, "%zu/%zu", true_conditions, spec->n_readinessgates);
    }
    return 0;
}

static int pod_template_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(PodTemplate) *pt = (const CORE(PodTemplate) *)obj;
    const CORE(PodTemplateSpec) *t = OR_EMPTY(pt->template_, empty_template);
    const META(ObjectMeta) *tm = OR_EMPTY(t->metadata, empty_meta);
    cell_str(c, OR_EMPTY(pt->metadata, empty_meta)->name);
    cell_containers(c, t);
    CELL_LABELS(c, tm, labels);
    return 0;
}

/* ---- workloads ------------------------------------------------------------------------------ */

/* A workload's spec.replicas; upstream defaults an unset one to 1. */
#define SPEC_REPLICAS(spec) ((spec) != NULL && (spec)->has_replicas ? (spec)->replicas : 1)
/* A field of a workload's status, 0 without a status. */
#define STATUS_INT(st, field) ((st) != NULL ? (st)->field : 0)

/* NAME, DESIRED, CURRENT, READY, AGE, CONTAINERS and IMAGES of a ReplicaSet or a
 * ReplicationController (their selectors differ in type). */
static void cells_replicas(struct tctx *c, const META(ObjectMeta) * meta, int32_t desired,
                           int32_t current, int32_t ready, const CORE(PodTemplateSpec) * t)
{
    cell_str(c, meta->name);
    cell_int(c, desired);
    cell_int(c, current);
    cell_int(c, ready);
    cell_age(c, meta);
    cell_containers(c, t);
}

/* The trailing AGE, CONTAINERS, IMAGES and SELECTOR cells of a workload. */
static void cells_age_template(struct tctx *c, const META(ObjectMeta) * meta,
                               const CORE(PodTemplateSpec) * t, const META(LabelSelector) * sel)
{
    cell_age(c, meta);
    cell_containers(c, t);
    cell_selector(c, sel);
}

static int pdb_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const K8s__Io__Api__Policy__V1__PodDisruptionBudget *pdb = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(pdb->metadata, empty_meta);
    const K8s__Io__Api__Policy__V1__PodDisruptionBudgetSpec *spec = pdb->spec;
    const K8s__Io__Api__Policy__V1__PodDisruptionBudgetStatus *st = pdb->status;
    cell_str(c, meta->name);
    cell_str(c, spec && spec->minavailable ? intstr_str(c, spec->minavailable) : "N/A");
    cell_str(c, spec && spec->maxunavailable ? intstr_str(c, spec->maxunavailable) : "N/A");
    cell_int(c, st ? st->disruptionsallowed : 0);
    cell_age(c, meta);
    return 0;
}

static int rc_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(ReplicationController) *rc = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(rc->metadata, empty_meta);
    const CORE(ReplicationControllerSpec) *spec = rc->spec;
    const CORE(ReplicationControllerStatus) *st = rc->status;
    cells_replicas(c, meta, SPEC_REPLICAS(spec), STATUS_INT(st, replicas),
                   STATUS_INT(st, readyreplicas), spec ? spec->template_ : NULL);
    if (spec != NULL)
        CELL_LABELS(c, spec, selector);
    else
        cell_str(c, "<none>");
    return 0;
}

static int rs_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const APPS(ReplicaSet) *rs = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(rs->metadata, empty_meta);
    const APPS(ReplicaSetSpec) *spec = rs->spec;
    const APPS(ReplicaSetStatus) *st = rs->status;
    cells_replicas(c, meta, SPEC_REPLICAS(spec), STATUS_INT(st, replicas),
                   STATUS_INT(st, readyreplicas), spec ? spec->template_ : NULL);
    cell_selector(c, spec ? spec->selector : NULL);
    return 0;
}

static int deployment_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const APPS(Deployment) *d = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(d->metadata, empty_meta);
    const APPS(DeploymentSpec) *spec = d->spec;
    const APPS(DeploymentStatus) *st = d->status;
    cell_str(c, meta->name);
    cell_fmt(c, "%d/%d", STATUS_INT(st, readyreplicas), SPEC_REPLICAS(spec));
    cell_int(c, STATUS_INT(st, updatedreplicas));
    cell_int(c, STATUS_INT(st, availablereplicas));
    cell_age(c, meta);
    cell_containers(c, spec ? spec->template_ : NULL);
    /* selector.String() without the "<none>" placeholder, "<invalid>" on error */
    if (!put_selector(c, spec ? spec->selector : NULL)) {
        k8c_sbuf_reset(&c->sb);
        k8c_sbuf_puts(&c->sb, "<invalid>");
    }
    cell_sb(c);
    return 0;
}

static int statefulset_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const APPS(StatefulSet) *s = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(s->metadata, empty_meta);
    const APPS(StatefulSetSpec) *spec = s->spec;
    cell_str(c, meta->name);
    cell_fmt(c, "%d/%d", STATUS_INT(s->status, readyreplicas), SPEC_REPLICAS(spec));
    cell_age(c, meta);
    cell_containers(c, spec ? spec->template_ : NULL);
    return 0;
}

static int daemonset_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const APPS(DaemonSet) *ds = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(ds->metadata, empty_meta);
    const APPS(DaemonSetSpec) *spec = ds->spec;
    const APPS(DaemonSetStatus) *st = ds->status;
    const CORE(PodTemplateSpec) *t = spec ? spec->template_ : NULL;
    const CORE(PodSpec) *ps = t ? OR_EMPTY(t->spec, empty_pod_spec) : &empty_pod_spec;
    cell_str(c, meta->name);
    cell_int(c, STATUS_INT(st, desirednumberscheduled));
    cell_int(c, STATUS_INT(st, currentnumberscheduled));
    cell_int(c, STATUS_INT(st, numberready));
    cell_int(c, STATUS_INT(st, updatednumberscheduled));
    cell_int(c, STATUS_INT(st, numberavailable));
    CELL_LABELS(c, ps, nodeselector);
    cells_age_template(c, meta, t, spec ? spec->selector : NULL);
    return 0;
}

/* hasJobCondition: the first condition of that type decides. */
static bool job_condition(const BATCH(JobStatus) * st, const char *type)
{
    for (size_t i = 0; st != NULL && i < st->n_conditions; i++)
        if (str_eq(st->conditions[i]->type, type))
            return str_eq(st->conditions[i]->status, "True");
    return false;
}

static int job_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const BATCH(Job) *job = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(job->metadata, empty_meta);
    const BATCH(JobSpec) *spec = job->spec;
    const BATCH(JobStatus) *st = job->status;
    int succeeded = st ? st->succeeded : 0;
    const char *status;

    cell_str(c, meta->name);
    if (job_condition(st, "Complete"))
        status = "Complete";
    else if (job_condition(st, "Failed"))
        status = "Failed";
    else if (meta->deletiontimestamp != NULL)
        status = "Terminating";
    else if (job_condition(st, "Suspended"))
        status = "Suspended";
    else if (job_condition(st, "FailureTarget"))
        status = "FailureTarget";
    else
        status = "Running";
    cell_str(c, status);

    if (spec != NULL && spec->has_completions) {
        cell_fmt(c, "%d/%d", succeeded, spec->completions);
    } else {
        int parallelism = spec && spec->has_parallelism ? spec->parallelism : 0;
        if (parallelism > 1)
            cell_fmt(c, "%d/1 of %d", succeeded, parallelism);
        else
            cell_fmt(c, "%d/1", succeeded);
    }

    if (st == NULL || st->starttime == NULL) {
        cell_str(c, "");
    } else {
        char buf[API_TABLE_DURATION_MAX];
        struct gotime start = time_of(st->starttime);
        struct gotime end = {c->now, 0};
        if (st->completiontime != NULL)
            end = time_of(st->completiontime);
        cell_str(c, api_table_human_duration(time_sub(end, start), buf));
    }
    cells_age_template(c, meta, spec ? spec->template_ : NULL, spec ? spec->selector : NULL);
    return 0;
}

static int cronjob_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const BATCH(CronJob) *cj = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(cj->metadata, empty_meta);
    const BATCH(CronJobSpec) *spec = cj->spec;
    const BATCH(CronJobStatus) *st = cj->status;
    const BATCH(JobSpec) *js = spec && spec->jobtemplate ? spec->jobtemplate->spec : NULL;

    cell_str(c, meta->name);
    cell_str(c, spec ? spec->schedule : "");
    cell_str(c, spec && spec->timezone ? spec->timezone : "<none>");
    cell_str(c, spec && spec->has_suspend ? (spec->suspend ? "True" : "False") : "<unset>");
    cell_int(c, st ? (int64_t)st->n_active : 0);
    cell_str(c, st && st->lastscheduletime ? since(c, time_of(st->lastscheduletime)) : "<none>");
    cells_age_template(c, meta, js ? js->template_ : NULL, js ? js->selector : NULL);
    return 0;
}

static int controller_revision_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const APPS(ControllerRevision) *cr = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(cr->metadata, empty_meta);
    const META(OwnerReference) *ref = NULL;
    const char *controller = "<none>";

    for (size_t i = 0; i < meta->n_ownerreferences && ref == NULL; i++)
        if (meta->ownerreferences[i]->has_controller && meta->ownerreferences[i]->controller)
            ref = meta->ownerreferences[i];
    if (ref != NULL) {
        /* formatResourceName(GroupKind, name, true): "daemonset.apps/name" */
        const char *av = S(ref->apiversion), *slash = strchr(av, '/');
        size_t glen = slash != NULL ? (size_t)(slash - av) : 0;
        if (slash != NULL && strchr(slash + 1, '/') != NULL)
            return K8C_EINVAL; /* upstream: unexpected GroupVersion string */
        if (glen == 0 && str_empty(ref->kind)) {
            controller = S(ref->name);
        } else {
            if (glen > 0)
                k8c_sbuf_printf(&c->sb, "%s.%.*s", S(ref->kind), (int)glen, av);
            else
                k8c_sbuf_puts(&c->sb, S(ref->kind));
            for (size_t i = 0; i < c->sb.len; i++)
                if (c->sb.data[i] >= 'A' && c->sb.data[i] <= 'Z')
                    c->sb.data[i] = (char)(c->sb.data[i] - 'A' + 'a');
            k8c_sbuf_printf(&c->sb, "/%s", S(ref->name));
            controller = k8c_arena_strndup(c->a, c->sb.data, c->sb.len);
            k8c_sbuf_reset(&c->sb);
        }
    }
    cell_str(c, meta->name);
    cell_str(c, controller);
    cell_int(c, cr->revision);
    cell_age(c, meta);
    return 0;
}

static const char *hpa_current_avg(struct tctx *c, const HPA(MetricValueStatus) * cur, bool present)
{
    if (!present)
        return "<unknown>";
    return qty_ptr_str(c, cur ? cur->averagevalue : NULL);
}

static const char *hpa_current_value(struct tctx *c, const HPA(MetricValueStatus) * cur,
                                     bool present)
{
    if (!present)
        return "<unknown>";
    return qty_ptr_str(c, cur ? cur->value : NULL);
}

/* formatHPAMetrics: "cpu: 40%/80%, 1/2 + 1 more..." (at most two shown). */
static void cell_hpa_metrics(struct tctx *c, const HPA(HorizontalPodAutoscalerSpec) * spec,
                             const HPA(HorizontalPodAutoscalerStatus) * st)
{
    static const HPA(MetricTarget) empty_target =
        K8S__IO__API__AUTOSCALING__V2__METRIC_TARGET__INIT;
    size_t n = spec ? spec->n_metrics : 0, n_status = st ? st->n_currentmetrics : 0;
    const size_t max = 2;

    if (n == 0) {
        cell_str(c, "<none>");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const HPA(MetricSpec) *m = spec->metrics[i];
        const HPA(MetricStatus) *s = i < n_status ? st->currentmetrics[i] : NULL;
        const char *type = S(m->type), *item;

        if (strcmp(type, "External") == 0 || strcmp(type, "Object") == 0) {
            bool ext = type[0] == 'E';
            const HPA(MetricTarget) *t = OR_EMPTY(ext ? (m->external ? m->external->target : NULL)
                                                      : (m->object ? m->object->target : NULL),
                                                  empty_target);
            bool present = s != NULL && (ext ? s->external != NULL : s->object != NULL);
            const HPA(MetricValueStatus) *cur = !present ? NULL
                                                : ext    ? s->external->current
                                                         : s->object->current;
            if (t->averagevalue != NULL) {
                bool has_avg = present && cur != NULL && cur->averagevalue != NULL;
                item = afmt(c, "%s/%s (avg)", hpa_current_avg(c, cur, has_avg),
                            qty_str(c, t->averagevalue));
            } else {
                item =
                    afmt(c, "%s/%s", hpa_current_value(c, cur, present), qty_ptr_str(c, t->value));
            }
        } else if (strcmp(type, "Pods") == 0) {
            const HPA(MetricTarget) *t = OR_EMPTY(m->pods ? m->pods->target : NULL, empty_target);
            bool present = s != NULL && s->pods != NULL;
            item = afmt(c, "%s/%s", hpa_current_avg(c, present ? s->pods->current : NULL, present),
                        qty_ptr_str(c, t->averagevalue));
        } else if (strcmp(type, "Resource") == 0 || strcmp(type, "ContainerResource") == 0) {
            bool res = type[0] == 'R';
            const char *name = res ? (m->resource ? m->resource->name : NULL)
                                   : (m->containerresource ? m->containerresource->name : NULL);
            const HPA(MetricTarget) *t =
                OR_EMPTY(res ? (m->resource ? m->resource->target : NULL)
                             : (m->containerresource ? m->containerresource->target : NULL),
                         empty_target);
            bool present = s != NULL && (res ? s->resource != NULL : s->containerresource != NULL);
            const HPA(MetricValueStatus) *cur = !present ? NULL
                                                : res    ? s->resource->current
                                                         : s->containerresource->current;
            if (t->averagevalue != NULL) {
                item = afmt(c, "%s: %s/%s", S(name), hpa_current_avg(c, cur, present),
                            qty_str(c, t->averagevalue));
            } else {
                const char *current = "<unknown>", *target = "<auto>";
                if (present && cur != NULL && cur->has_averageutilization)
                    current = afmt(c, "%d%%", cur->averageutilization);
                if (t->has_averageutilization)
                    target = afmt(c, "%d%%", t->averageutilization);
                item = afmt(c, "%s: %s/%s", S(name), current, target);
            }
        } else {
            item = "<unknown type>";
        }
        if (i < max) {
            if (i > 0)
                k8c_sbuf_puts(&c->sb, ", ");
            k8c_sbuf_puts(&c->sb, item);
        }
    }
    if (n > max)
        k8c_sbuf_printf(&c->sb, " + %zu more...", n - max);
    cell_sb(c);
}

static int hpa_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const HPA(HorizontalPodAutoscaler) *h = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(h->metadata, empty_meta);
    const HPA(HorizontalPodAutoscalerSpec) *spec = h->spec;
    const HPA(CrossVersionObjectReference) *ref = spec ? spec->scaletargetref : NULL;
    cell_str(c, meta->name);
    cell_fmt(c, "%s/%s", ref ? S(ref->kind) : "", ref ? S(ref->name) : "");
    cell_hpa_metrics(c, spec, h->status);
    if (spec != NULL && spec->has_minreplicas)
        cell_fmt(c, "%d", spec->minreplicas);
    else
        cell_str(c, "<unset>");
    cell_int(c, spec ? spec->maxreplicas : 0);
    cell_int(c, h->status ? h->status->currentreplicas : 0);
    cell_age(c, meta);
    return 0;
}

/* ---- services and networking ---------------------------------------------------------------- */

static int cmp_cstr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* sets.NewString(ips-or-hostnames).List() joined by ",", into the scratch buffer. The API
 * server prints wide, so the 16-byte clipping of narrow output never applies. */
static void put_lb_ingress(struct tctx *c, size_t n, const char *(*get)(const void *, size_t),
                           const void *list)
{
    const char **v = k8c_arena_alloc(c->a, (n > 0 ? n : 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = get(list, i);
        if (!str_empty(s))
            v[k++] = s;
    }
    qsort(v, k, sizeof(*v), cmp_cstr);
    for (size_t i = 0; i < k; i++) {
        if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
            continue;
        if (c->sb.len > 0)
            k8c_sbuf_putc(&c->sb, ',');
        k8c_sbuf_puts(&c->sb, v[i]);
    }
}

static const char *svc_lb_get(const void *list, size_t i)
{
    const CORE(LoadBalancerIngress) *const *in = list;
    return !str_empty(in[i]->ip) ? in[i]->ip : in[i]->hostname;
}

static const char *ing_lb_get(const void *list, size_t i)
{
    const NET(IngressLoadBalancerIngress) *const *in = list;
    return !str_empty(in[i]->ip) ? in[i]->ip : in[i]->hostname;
}

static void put_strings(struct tctx *c, char *const *v, size_t n, const char *sep)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            k8c_sbuf_puts(&c->sb, sep);
        k8c_sbuf_puts(&c->sb, S(v[i]));
    }
}

static int service_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    static const CORE(ServiceSpec) empty_spec = K8S__IO__API__CORE__V1__SERVICE_SPEC__INIT;
    const CORE(Service) *svc = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(svc->metadata, empty_meta);
    const CORE(ServiceSpec) *spec = OR_EMPTY(svc->spec, empty_spec);
    const char *type = S(spec->type);
    const char *cluster_ip = "<none>";

    if (spec->n_clusterips > 0)
        cluster_ip = S(spec->clusterips[0]);
    else if (!str_empty(spec->clusterip))
        cluster_ip = spec->clusterip;

    cell_str(c, meta->name);
    cell_str(c, type);
    cell_str(c, cluster_ip);

    if (strcmp(type, "ClusterIP") == 0 || strcmp(type, "NodePort") == 0) {
        put_strings(c, spec->externalips, spec->n_externalips, ",");
        cell_sb_or(c, "<none>");
    } else if (strcmp(type, "LoadBalancer") == 0) {
        const CORE(LoadBalancerStatus) *lb = svc->status ? svc->status->loadbalancer : NULL;
        if (lb != NULL)
            put_lb_ingress(c, lb->n_ingress, svc_lb_get, lb->ingress);
        if (spec->n_externalips > 0) {
            if (c->sb.len > 0)
                k8c_sbuf_putc(&c->sb, ',');
            put_strings(c, spec->externalips, spec->n_externalips, ",");
            cell_sb(c);
        } else {
            cell_sb_or(c, "<pending>");
        }
    } else if (strcmp(type, "ExternalName") == 0) {
        cell_str(c, spec->externalname);
    } else {
        cell_str(c, "<unknown>");
    }

    for (size_t i = 0; i < spec->n_ports; i++) {
        const CORE(ServicePort) *p = spec->ports[i];
        if (i > 0)
            k8c_sbuf_putc(&c->sb, ',');
        if (p->nodeport > 0)
            k8c_sbuf_printf(&c->sb, "%d:%d/%s", p->port, p->nodeport, S(p->protocol));
        else
            k8c_sbuf_printf(&c->sb, "%d/%s", p->port, S(p->protocol));
    }
    cell_sb_or(c, "<none>");
    cell_age(c, meta);
    CELL_LABELS(c, spec, selector);
    return 0;
}

/* net.JoinHostPort(ip, port). */
static void put_host_port(struct tctx *c, const char *ip, int port)
{
    if (strchr(ip, ':') != NULL)
        k8c_sbuf_printf(&c->sb, "[%s]:%d", ip, port);
    else
        k8c_sbuf_printf(&c->sb, "%s:%d", ip, port);
}

/* formatEndpoints(endpoints, nil): at most three "ip:port" entries, then " + N more...". */
static int endpoints_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(Endpoints) *ep = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(ep->metadata, empty_meta);
    const size_t max = 3;
    size_t listed = 0, count = 0;
    bool more = false;

    cell_str(c, meta->name);
    if (ep->n_subsets == 0) {
        cell_str(c, "<none>");
    } else {
        for (size_t s = 0; s < ep->n_subsets; s++) {
            const CORE(EndpointSubset) *ss = ep->subsets[s];
            /* a subset without ports lists its addresses once, bare */
            size_t n_ports = ss->n_ports > 0 ? ss->n_ports : 1;
            for (size_t p = 0; p < n_ports; p++) {
                count += ss->n_addresses;
                for (size_t i = 0; i < ss->n_addresses; i++) {
                    if (listed == max) {
                        more = true;
                        break;
                    }
                    if (listed++ > 0)
                        k8c_sbuf_putc(&c->sb, ',');
                    if (ss->n_ports == 0)
                        k8c_sbuf_puts(&c->sb, S(ss->addresses[i]->ip));
                    else
                        put_host_port(c, S(ss->addresses[i]->ip), ss->ports[p]->port);
                }
            }
        }
        if (more)
            k8c_sbuf_printf(&c->sb, " + %zu more...", count - max);
        cell_sb(c);
    }
    cell_age(c, meta);
    return 0;
}

/* listWithMoreString: the items, " + N more..." past three, "<unset>" for none. */
static void cell_list_more(struct tctx *c, size_t count, size_t max)
{
    if (count > max)
        k8c_sbuf_printf(&c->sb, " + %zu more...", count - max);
    cell_sb_or(c, "<unset>");
}

static int endpointslice_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const DISC(EndpointSlice) *es = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(es->metadata, empty_meta);
    const size_t max = 3;
    size_t count = 0;

    cell_str(c, meta->name);
    cell_str(c, es->addresstype);
    for (size_t i = 0; i < es->n_ports; i++, count++) {
        const DISC(EndpointPort) *p = es->ports[i];
        if (count >= max)
            continue;
        if (count > 0)
            k8c_sbuf_putc(&c->sb, ',');
        if (p->has_port)
            k8c_sbuf_printf(&c->sb, "%d", p->port);
        else if (p->name != NULL)
            k8c_sbuf_puts(&c->sb, p->name);
        else
            k8c_sbuf_putc(&c->sb, '*');
    }
    cell_list_more(c, count, max);
    count = 0;
    for (size_t e = 0; e < es->n_endpoints; e++) {
        const DISC(Endpoint) *ep = es->endpoints[e];
        for (size_t i = 0; i < ep->n_addresses; i++, count++) {
            if (count >= max)
                continue;
            if (count > 0)
                k8c_sbuf_putc(&c->sb, ',');
            k8c_sbuf_puts(&c->sb, S(ep->addresses[i]));
        }
    }
    cell_list_more(c, count, max);
    cell_age(c, meta);
    return 0;
}

static int ingress_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    static const NET(IngressSpec) empty_spec = K8S__IO__API__NETWORKING__V1__INGRESS_SPEC__INIT;
    const NET(Ingress) *ing = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(ing->metadata, empty_meta);
    const NET(IngressSpec) *spec = OR_EMPTY(ing->spec, empty_spec);
    const NET(IngressLoadBalancerStatus) *lb = ing->status ? ing->status->loadbalancer : NULL;
    const size_t max = 3;
    size_t listed = 0;
    bool more = false;

    cell_str(c, meta->name);
    cell_str(c, spec->ingressclassname != NULL ? spec->ingressclassname : "<none>");
    /* formatHosts */
    for (size_t i = 0; i < spec->n_rules; i++) {
        if (listed == max)
            more = true;
        if (!more && !str_empty(spec->rules[i]->host)) {
            if (listed++ > 0)
                k8c_sbuf_putc(&c->sb, ',');
            k8c_sbuf_puts(&c->sb, spec->rules[i]->host);
        }
    }
    if (listed == 0) {
        k8c_sbuf_reset(&c->sb);
        k8c_sbuf_putc(&c->sb, '*');
    } else if (more) {
        k8c_sbuf_printf(&c->sb, " + %zu more...", spec->n_rules - max);
    }
    cell_sb(c);
    if (lb != NULL)
        put_lb_ingress(c, lb->n_ingress, ing_lb_get, lb->ingress);
    cell_sb(c);
    cell_str(c, spec->n_tls > 0 ? "80, 443" : "80");
    cell_age(c, meta);
    return 0;
}

static int ingressclass_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const NET(IngressClass) *ic = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(ic->metadata, empty_meta);
    const NET(IngressClassParametersReference) *p = ic->spec ? ic->spec->parameters : NULL;
    cell_str(c, meta->name);
    cell_str(c, ic->spec ? ic->spec->controller : "");
    if (p == NULL) {
        cell_str(c, "<none>");
    } else {
        k8c_sbuf_puts(&c->sb, S(p->kind));
        if (p->apigroup != NULL)
            k8c_sbuf_printf(&c->sb, ".%s", p->apigroup);
        k8c_sbuf_printf(&c->sb, "/%s", S(p->name));
        cell_sb(c);
    }
    cell_age(c, meta);
    return 0;
}

static int networkpolicy_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const NET(NetworkPolicy) *np = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(np->metadata, empty_meta);
    const META(LabelSelector) *sel = np->spec ? np->spec->podselector : NULL;
    cell_str(c, meta->name);
    cell_selector(c, OR_EMPTY(sel, empty_selector)); /* a struct field upstream: never nil */
    cell_age(c, meta);
    return 0;
}

/* ---- nodes and cluster objects -------------------------------------------------------------- */

static int cmp_role(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static const char *node_address(const CORE(NodeStatus) * st, const char *type)
{
    for (size_t i = 0; st != NULL && i < st->n_addresses; i++)
        if (str_eq(st->addresses[i]->type, type))
            return S(st->addresses[i]->address);
    return "<none>";
}

static int node_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    static const CORE(NodeSystemInfo) empty_info = K8S__IO__API__CORE__V1__NODE_SYSTEM_INFO__INIT;
    const CORE(Node) *node = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(node->metadata, empty_meta);
    const CORE(NodeStatus) *st = node->status;
    const CORE(NodeSystemInfo) *info = st ? OR_EMPTY(st->nodeinfo, empty_info) : &empty_info;
    const CORE(NodeCondition) *ready = NULL;

    cell_str(c, meta->name);
    /* the Ready condition (last of that type, as upstream's map) */
    for (size_t i = 0; st != NULL && i < st->n_conditions; i++)
        if (str_eq(st->conditions[i]->type, "Ready"))
            ready = st->conditions[i];
    if (ready == NULL)
        k8c_sbuf_puts(&c->sb, "Unknown");
    else
        k8c_sbuf_puts(&c->sb, str_eq(ready->status, "True") ? "Ready" : "NotReady");
    if (node->spec != NULL && node->spec->unschedulable)
        k8c_sbuf_puts(&c->sb, ",SchedulingDisabled");
    cell_sb(c);

    /* roles: node-role.kubernetes.io/<role> keys and kubernetes.io/role values, as a set */
    const char **roles = k8c_arena_alloc(c->a, (meta->n_labels + 1) * sizeof(*roles));
    size_t n_roles = 0;
    static const char prefix[] = "node-role.kubernetes.io/";
    for (size_t i = 0; i < meta->n_labels; i++) {
        const char *k = entry_key(meta->labels[i]), *v = S(entry_field(meta->labels[i], 2));
        if (strncmp(k, prefix, sizeof(prefix) - 1) == 0) {
            if (k[sizeof(prefix) - 1] != '\0')
                roles[n_roles++] = k + sizeof(prefix) - 1;
        } else if (strcmp(k, "kubernetes.io/role") == 0 && v[0] != '\0') {
            roles[n_roles++] = v;
        }
    }
    qsort(roles, n_roles, sizeof(*roles), cmp_role);
    for (size_t i = 0; i < n_roles; i++) {
        if (i > 0 && strcmp(roles[i], roles[i - 1]) == 0)
            continue;
        if (c->sb.len > 0)
            k8c_sbuf_putc(&c->sb, ',');
        k8c_sbuf_puts(&c->sb, roles[i]);
    }
    cell_sb_or(c, "<none>");
    cell_age(c, meta);
    cell_str(c, info->kubeletversion);
    cell_str(c, node_address(st, "InternalIP"));
    cell_str(c, node_address(st, "ExternalIP"));
    cell_str(c, str_empty(info->osimage) ? "<unknown>" : info->osimage);
    cell_str(c, str_empty(info->kernelversion) ? "<unknown>" : info->kernelversion);
    cell_str(c, str_empty(info->containerruntimeversion) ? "<unknown>"
                                                         : info->containerruntimeversion);
    return 0;
}

static int namespace_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(Namespace) *ns = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(ns->metadata, empty_meta);
    cell_str(c, meta->name);
    cell_str(c, ns->status ? ns->status->phase : "");
    cell_age(c, meta);
    return 0;
}

static int configmap_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(ConfigMap) *cm = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(cm->metadata, empty_meta);
    cell_str(c, meta->name);
    cell_int(c, (int64_t)(cm->n_data + cm->n_binarydata));
    cell_age(c, meta);
    return 0;
}

static int secret_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(Secret) *s = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(s->metadata, empty_meta);
    /* the internal type has data with stringData merged in: count distinct keys */
    size_t n = s->n_data;
    for (size_t i = 0; i < s->n_stringdata; i++) {
        const char *k = entry_key(s->stringdata[i]);
        bool dup = false;
        for (size_t j = 0; j < s->n_data && !dup; j++)
            dup = strcmp(entry_key(s->data[j]), k) == 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(entry_key(s->stringdata[j]), k) == 0;
        if (!dup)
            n++;
    }
    cell_str(c, meta->name);
    cell_str(c, s->type);
    cell_int(c, (int64_t)n);
    cell_age(c, meta);
    return 0;
}

static int serviceaccount_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(ServiceAccount) *sa = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(sa->metadata, empty_meta);
    cell_str(c, meta->name);
    cell_int(c, (int64_t)sa->n_secrets);
    cell_age(c, meta);
    return 0;
}

/* formatEventSource: "component, host" with reportingComponent/Instance as fallbacks. */
static void put_event_source(struct tctx *c, const CORE(Event) * ev)
{
    const char *component = ev->source ? S(ev->source->component) : "";
    const char *host = ev->source ? S(ev->source->host) : "";
    if (component[0] == '\0')
        component = S(ev->reportingcomponent);
    if (host[0] == '\0')
        host = S(ev->reportinginstance);
    k8c_sbuf_puts(&c->sb, component);
    if (host[0] != '\0')
        k8c_sbuf_printf(&c->sb, ", %s", host);
}

static bool is_go_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int event_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(Event) *ev = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(ev->metadata, empty_meta);
    const CORE(ObjectReference) *io = ev->involvedobject;
    struct gotime first_t = time_of(ev->firsttimestamp), last_t = time_of(ev->lasttimestamp);
    const char *first, *last;
    int64_t count = ev->count;

    first = time_is_zero(first_t) ? since(c, micro_time_of(ev->eventtime)) : since(c, first_t);
    last = time_is_zero(last_t) ? first : since(c, last_t);
    if (ev->series != NULL) {
        last = since(c, micro_time_of(ev->series->lastobservedtime));
        count = ev->series->count;
    } else if (count == 0) {
        count = 1; /* singleton events of the new API have no count */
    }

    cell_str(c, last);
    cell_str(c, ev->type);
    cell_str(c, ev->reason);
    /* the involved object as "kind/name", kind lower-cased */
    k8c_sbuf_puts(&c->sb, io ? S(io->kind) : "");
    for (size_t i = 0; i < c->sb.len; i++)
        if (c->sb.data[i] >= 'A' && c->sb.data[i] <= 'Z')
            c->sb.data[i] = (char)(c->sb.data[i] - 'A' + 'a');
    if (io != NULL && !str_empty(io->name))
        k8c_sbuf_printf(&c->sb, "/%s", io->name);
    cell_sb(c);
    cell_str(c, io ? io->fieldpath : "");
    put_event_source(c, ev);
    cell_sb(c);
    const char *msg = S(ev->message);
    size_t len = strlen(msg);
    while (len > 0 && is_go_space(msg[0])) {
        msg++;
        len--;
    }
    while (len > 0 && is_go_space(msg[len - 1]))
        len--;
    k8c_json_array_append(c->a, c->cells, k8c_json_new_stringn(c->a, msg, len));
    cell_str(c, first);
    cell_int(c, count);
    cell_str(c, meta->name);
    return 0;
}

/* events.k8s.io/v1: upstream prints it with the same function, through the core Event. */
static int event_v1_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const struct api_resource *r = api_resource_find("events.k8s.io", "v1", "events");
    ProtobufCMessage *core = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    if (r == NULL || api_convert_to_storage(r, obj, &core, errmsg) != 0)
        return K8C_EINVAL;
    int rc = event_cells(c, core);
    api_obj_free(core);
    return rc;
}

static int componentstatus_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(ComponentStatus) *cs = (const void *)obj;
    const char *status = "Unknown", *message = "", *error = "";
    for (size_t i = 0; i < cs->n_conditions; i++) {
        const CORE(ComponentCondition) *cond = cs->conditions[i];
        if (str_eq(cond->type, "Healthy")) {
            status = str_eq(cond->status, "True") ? "Healthy" : "Unhealthy";
            message = S(cond->message);
            error = S(cond->error);
            break;
        }
    }
    cell_str(c, OR_EMPTY(cs->metadata, empty_meta)->name);
    cell_str(c, status);
    cell_str(c, message);
    cell_str(c, error);
    return 0;
}

static int lease_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const K8s__Io__Api__Coordination__V1__Lease *l = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(l->metadata, empty_meta);
    cell_str(c, meta->name);
    cell_str(c, l->spec ? l->spec->holderidentity : "");
    cell_age(c, meta);
    return 0;
}

static int priorityclass_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const K8s__Io__Api__Scheduling__V1__PriorityClass *pc = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(pc->metadata, empty_meta);
    cell_str(c, meta->name);
    cell_int(c, pc->value);
    cell_bool(c, pc->globaldefault);
    cell_age(c, meta);
    cell_str(c, pc->preemptionpolicy);
    return 0;
}

/* ---- autoscaling/v1 Scale (the scale subresource's own Table: printScale) ---------------- */

static int scale_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const K8s__Io__Api__Autoscaling__V1__Scale *sc = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(sc->metadata, empty_meta);
    cell_str(c, meta->name);
    cell_int(c, sc->spec != NULL ? sc->spec->replicas : 0);
    cell_int(c, sc->status != NULL ? sc->status->replicas : 0);
    cell_age(c, meta);
    return 0;
}

/* ---- node.k8s.io ---------------------------------------------------------------------------- */

static int runtimeclass_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const K8s__Io__Api__Node__V1__RuntimeClass *rc = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(rc->metadata, empty_meta);
    cell_str(c, meta->name);
    cell_str(c, rc->handler);
    cell_age(c, meta);
    return 0;
}

/* ---- storage -------------------------------------------------------------------------------- */

/* helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once. */
static void cell_access_modes(struct tctx *c, char *const *modes, size_t n)
{
    static const struct {
        const char *mode, *abbrev;
    } order[] = {{"ReadWriteOnce", "RWO"},
                 {"ReadOnlyMany", "ROX"},
                 {"ReadWriteMany", "RWX"},
                 {"ReadWriteOncePod", "RWOP"}};
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        for (size_t i = 0; i < n; i++) {
            if (str_eq(modes[i], order[k].mode)) {
                if (c->sb.len > 0)
                    k8c_sbuf_putc(&c->sb, ',');
                k8c_sbuf_puts(&c->sb, order[k].abbrev);
                break;
            }
        }
    }
    cell_sb(c);
}

#define BETA_STORAGE_CLASS "volume.beta.kubernetes.io/storage-class"

static int pv_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    static const CORE(PersistentVolumeSpec) empty_spec =
        K8S__IO__API__CORE__V1__PERSISTENT_VOLUME_SPEC__INIT;
    const CORE(PersistentVolume) *pv = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(pv->metadata, empty_meta);
    const CORE(PersistentVolumeSpec) *spec = OR_EMPTY(pv->spec, empty_spec);
    const char *cls =
        map_get((void *const *)meta->annotations, meta->n_annotations, BETA_STORAGE_CLASS);

    cell_str(c, meta->name);
    cell_str(c,
             qty_str(c, map_get_msg((void *const *)spec->capacity, spec->n_capacity, "storage")));
    cell_access_modes(c, spec->accessmodes, spec->n_accessmodes);
    cell_str(c, spec->persistentvolumereclaimpolicy);
    cell_str(c, meta->deletiontimestamp ? "Terminating" : pv->status ? S(pv->status->phase) : "");
    if (spec->claimref != NULL) {
        k8c_sbuf_printf(&c->sb, "%s/%s", S(spec->claimref->namespace_), S(spec->claimref->name));
    }
    cell_sb(c);
    cell_str(c, cls != NULL ? cls : S(spec->storageclassname));
    cell_str(c, str_or(spec->volumeattributesclassname, "<unset>"));
    cell_str(c, pv->status ? pv->status->reason : "");
    cell_age(c, meta);
    cell_str(c, str_or(spec->volumemode, "<unset>"));
    return 0;
}

static int pvc_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    static const CORE(PersistentVolumeClaimSpec) empty_spec =
        K8S__IO__API__CORE__V1__PERSISTENT_VOLUME_CLAIM_SPEC__INIT;
    static const CORE(PersistentVolumeClaimStatus) empty_status =
        K8S__IO__API__CORE__V1__PERSISTENT_VOLUME_CLAIM_STATUS__INIT;
    const CORE(PersistentVolumeClaim) *pvc = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(pvc->metadata, empty_meta);
    const CORE(PersistentVolumeClaimSpec) *spec = OR_EMPTY(pvc->spec, empty_spec);
    const CORE(PersistentVolumeClaimStatus) *st = OR_EMPTY(pvc->status, empty_status);
    const char *cls =
        map_get((void *const *)meta->annotations, meta->n_annotations, BETA_STORAGE_CLASS);

    cell_str(c, meta->name);
    cell_str(c, meta->deletiontimestamp ? "Terminating" : S(st->phase));
    cell_str(c, spec->volumename);
    if (!str_empty(spec->volumename)) {
        cell_str(c,
                 qty_str(c, map_get_msg((void *const *)st->capacity, st->n_capacity, "storage")));
        cell_access_modes(c, st->accessmodes, st->n_accessmodes);
    } else {
        cell_str(c, "");
        cell_str(c, "");
    }
    cell_str(c, cls != NULL ? cls : S(spec->storageclassname));
    cell_str(c, str_or(spec->volumeattributesclassname, "<unset>"));
    cell_age(c, meta);
    cell_str(c, str_or(spec->volumemode, "<unset>"));
    return 0;
}

static int storageclass_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const K8s__Io__Api__Storage__V1__StorageClass *sc = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(sc->metadata, empty_meta);
    void *const *ann = (void *const *)meta->annotations;
    const char *def =
        map_get(ann, meta->n_annotations, "storageclass.kubernetes.io/is-default-class");
    const char *beta =
        map_get(ann, meta->n_annotations, "storageclass.beta.kubernetes.io/is-default-class");

    if ((def != NULL && strcmp(def, "true") == 0) || (beta != NULL && strcmp(beta, "true") == 0))
        cell_fmt(c, "%s (default)", S(meta->name));
    else
        cell_str(c, meta->name);
    cell_str(c, sc->provisioner);
    cell_str(c, str_or(sc->reclaimpolicy, "Delete"));
    cell_str(c, str_or(sc->volumebindingmode, "Immediate"));
    cell_bool(c, sc->has_allowvolumeexpansion && sc->allowvolumeexpansion);
    cell_age(c, meta);
    return 0;
}

static int resourcequota_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const CORE(ResourceQuota) *rq = (const void *)obj;
    const META(ObjectMeta) *meta = OR_EMPTY(rq->metadata, empty_meta);
    const CORE(ResourceQuotaStatus) *st = rq->status;
    struct k8c_sbuf limits;

    k8c_sbuf_init(&limits);
    if (st != NULL) {
        void **hard = sorted_entries(c, (void *const *)st->hard, st->n_hard);
        for (size_t i = 0; i < st->n_hard; i++) {
            const char *name = entry_key(hard[i]);
            const QUANTITY *used = map_get_msg((void *const *)st->used, st->n_used, name);
            const char *dot = strchr(name, '.');
            bool is_limit =
                dot != NULL && (size_t)(dot - name) == 6 && strncmp(name, "limits", 6) == 0;
            struct k8c_sbuf *w = is_limit ? &limits : &c->sb;
            if (w->len > 0)
                k8c_sbuf_puts(w, ", ");
            k8c_sbuf_printf(w, "%s: %s/%s", name, qty_str(c, used),
                            qty_str(c, entry_field(hard[i], 2)));
        }
    }
    cell_str(c, meta->name);
    cell_sb(c);
    k8c_json_array_append(
        c->a, c->cells, k8c_json_new_stringn(c->a, limits.len > 0 ? limits.data : "", limits.len));
    k8c_sbuf_free(&limits);
    cell_age(c, meta);
    return 0;
}

/* ---- rbac ----------------------------------------------------------------------------------- */

/* rbac.SubjectsStrings: users, groups and service accounts ("ns/name"), ", "-separated. */
static void cells_subjects(struct tctx *c, RBAC(Subject) *const *subjects, size_t n)
{
    static const char *const kinds[] = {"User", "Group", "ServiceAccount"};
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < n; i++) {
            const RBAC(Subject) *s = subjects[i];
            if (!str_eq(s->kind, kinds[k]))
                continue;
            if (c->sb.len > 0)
                k8c_sbuf_puts(&c->sb, ", ");
            if (k == 2)
                k8c_sbuf_printf(&c->sb, "%s/%s", S(s->namespace_), S(s->name));
            else
                k8c_sbuf_puts(&c->sb, S(s->name));
        }
        cell_sb(c);
    }
}

static void cells_binding(struct tctx *c, const META(ObjectMeta) * meta, const RBAC(RoleRef) * ref,
                          RBAC(Subject) *const *subjects, size_t n)
{
    cell_str(c, meta->name);
    cell_fmt(c, "%s/%s", ref ? S(ref->kind) : "", ref ? S(ref->name) : "");
    cell_age(c, meta);
    cells_subjects(c, subjects, n);
}

static int rolebinding_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const RBAC(RoleBinding) *rb = (const void *)obj;
    cells_binding(c, OR_EMPTY(rb->metadata, empty_meta), rb->roleref, rb->subjects, rb->n_subjects);
    return 0;
}

static int clusterrolebinding_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const RBAC(ClusterRoleBinding) *rb = (const void *)obj;
    cells_binding(c, OR_EMPTY(rb->metadata, empty_meta), rb->roleref, rb->subjects, rb->n_subjects);
    return 0;
}

/* ---- the default table ---------------------------------------------------------------------- */

static int default_cells(struct tctx *c, const ProtobufCMessage *obj)
{
    const META(ObjectMeta) *meta = meta_of(obj);
    cell_str(c, meta->name);
    cell_str(c, rfc3339(c, time_of(meta->creationtimestamp)));
    return 0;
}

/* ---- column sets ---------------------------------------------------------------------------- */

#define COL_NAME                                                                                   \
    {                                                                                              \
        "Name", "string", "name", "Name of the object, unique within its namespace.", 0            \
    }
#define COL_AGE                                                                                    \
    {                                                                                              \
        "Age", "string", "", "Time since the object was created.", 0                               \
    }
#define COL_CONTAINERS(p)                                                                          \
    {                                                                                              \
        "Containers", "string", "", "Names of the containers in the pod template.", p              \
    }
#define COL_IMAGES(p)                                                                              \
    {                                                                                              \
        "Images", "string", "", "Images of the containers in the pod template.", p                 \
    }
#define COL_SELECTOR(p)                                                                            \
    {                                                                                              \
        "Selector", "string", "", "Label selector of the pods it manages.", p                      \
    }
/* The trailing columns of a workload with a pod template and a selector. */
#define COLS_AGE_TEMPLATE COL_AGE, COL_CONTAINERS(1), COL_IMAGES(1), COL_SELECTOR(1)

static const struct api_table_column pod_cols[] = {
    COL_NAME,
    {"Ready", "string", "", "Ready containers out of all containers of the pod.", 0},
    {"Status", "string", "", "Summary of the pod's phase and container states.", 0},
    {"Restarts", "string", "", "Container restarts, with the time since the latest.", 0},
    COL_AGE,
    {"IP", "string", "", "The pod's first IP address.", 1},
    {"Node", "string", "", "The node the pod is bound to.", 1},
    {"Nominated Node", "string", "", "The node preemption reserved for the pod.", 1},
    {"Readiness Gates", "string", "", "Readiness gates that are met out of all.", 1},
};

static const struct api_table_column pod_template_cols[] = {
    COL_NAME,
    COL_CONTAINERS(0),
    COL_IMAGES(0),
    {"Pod Labels", "string", "", "Labels of the pods made from the template.", 0},
};

static const struct api_table_column runtimeclass_cols[] = {
    COL_NAME,
    {"Handler", "string", "", "The runtime handler that runs the pods of this class.", 0},
    COL_AGE,
};

/* upstream's Name column here has no "name" format */
static const struct api_table_column scale_cols[] = {
    {"Name", "string", "", "Name of the scaled object.", 0},
    {"Desired", "integer", "", "Replicas asked for.", 0},
    {"Available", "integer", "", "Replicas that exist.", 0},
    COL_AGE,
};

static const struct api_table_column pdb_cols[] = {
    COL_NAME,
    {"Min Available", "string", "", "Pods that must stay available.", 0},
    {"Max Unavailable", "string", "", "Pods that may be unavailable.", 0},
    {"Allowed Disruptions", "integer", "", "Pods that may be disrupted right now.", 0},
    COL_AGE,
};

static const struct api_table_column rc_cols[] = {
    COL_NAME,
    {"Desired", "integer", "", "Replicas asked for.", 0},
    {"Current", "integer", "", "Replicas that exist.", 0},
    {"Ready", "integer", "", "Replicas that are ready.", 0},
    COLS_AGE_TEMPLATE,
};

static const struct api_table_column daemonset_cols[] = {
    COL_NAME,
    {"Desired", "integer", "", "Nodes that should run the daemon pod.", 0},
    {"Current", "integer", "", "Nodes that run at least one daemon pod.", 0},
    {"Ready", "integer", "", "Nodes whose daemon pod is ready.", 0},
    {"Up-to-date", "integer", "", "Nodes that run the current pod template.", 0},
    {"Available", "integer", "", "Nodes whose daemon pod is available.", 0},
    {"Node Selector", "string", "", "Labels a node needs to run the pod.", 0},
    COLS_AGE_TEMPLATE,
};

static const struct api_table_column job_cols[] = {
    COL_NAME,
    {"Status", "string", "", "State of the job.", 0},
    {"Completions", "string", "", "Succeeded pods out of the completions asked for.", 0},
    {"Duration", "string", "", "Time the job has run or took.", 0},
    COLS_AGE_TEMPLATE,
};

static const struct api_table_column cronjob_cols[] = {
    COL_NAME,
    {"Schedule", "string", "", "Cron schedule of the job.", 0},
    {"Timezone", "string", "", "Time zone of the schedule.", 0},
    {"Suspend", "boolean", "", "Whether new runs are held back.", 0},
    {"Active", "integer", "", "Jobs running now.", 0},
    {"Last Schedule", "string", "", "Time since a job was last started.", 0},
    COLS_AGE_TEMPLATE,
};

static const struct api_table_column service_cols[] = {
    COL_NAME,
    {"Type", "string", "", "How the service is exposed.", 0},
    {"Cluster-IP", "string", "", "The service's virtual IP inside the cluster.", 0},
    {"External-IP", "string", "", "Addresses the service is reached at from outside.", 0},
    {"Port(s)", "string", "", "Ports of the service, with node ports.", 0},
    COL_AGE,
    {"Selector", "string", "", "Labels of the pods behind the service.", 1},
};

static const struct api_table_column ingress_cols[] = {
    COL_NAME,
    {"Class", "string", "", "IngressClass that handles the ingress.", 0},
    {"Hosts", "string", "", "Host names the rules match.", 0},
    {"Address", "string", "", "Addresses of the load balancer.", 0},
    {"Ports", "string", "", "Ports the ingress serves.", 0},
    COL_AGE,
};

static const struct api_table_column ingressclass_cols[] = {
    COL_NAME,
    {"Controller", "string", "", "Controller that implements the class.", 0},
    {"Parameters", "string", "", "Resource holding the class's parameters.", 0},
    COL_AGE,
};

static const struct api_table_column statefulset_cols[] = {
    COL_NAME,      {"Ready", "string", "", "Ready pods out of the replicas asked for.", 0},
    COL_AGE,       COL_CONTAINERS(1),
    COL_IMAGES(1),
};

static const struct api_table_column endpoints_cols[] = {
    COL_NAME,
    {"Endpoints", "string", "", "Addresses and ports of the endpoints.", 0},
    COL_AGE,
};

static const struct api_table_column node_cols[] = {
    COL_NAME,
    {"Status", "string", "", "Readiness of the node and whether it takes new pods.", 0},
    {"Roles", "string", "", "Roles named by the node's labels.", 0},
    COL_AGE,
    {"Version", "string", "", "Kubelet version.", 0},
    {"Internal-IP", "string", "", "The node's internal address.", 1},
    {"External-IP", "string", "", "The node's external address.", 1},
    {"OS-Image", "string", "", "Operating system image.", 1},
    {"Kernel-Version", "string", "", "Kernel version.", 1},
    {"Container-Runtime", "string", "", "Container runtime and its version.", 1},
};

static const struct api_table_column event_cols[] = {
    {"Last Seen", "string", "", "Time since the event was last seen.", 0},
    {"Type", "string", "", "Normal or Warning.", 0},
    {"Reason", "string", "", "Short machine-readable cause.", 0},
    {"Object", "string", "", "The object the event is about.", 0},
    {"Subobject", "string", "", "Part of the object the event is about.", 1},
    {"Source", "string", "", "Component that reported the event.", 1},
    {"Message", "string", "", "Human-readable description.", 0},
    {"First Seen", "string", "", "Time since the event was first seen.", 1},
    {"Count", "string", "", "How often the event occurred.", 1},
    {"Name", "string", "name", "Name of the event object.", 1},
};

static const struct api_table_column namespace_cols[] = {
    COL_NAME,
    {"Status", "string", "", "Phase of the namespace.", 0},
    COL_AGE,
};

static const struct api_table_column secret_cols[] = {
    COL_NAME,
    {"Type", "string", "", "Kind of secret.", 0},
    {"Data", "string", "", "Number of data keys.", 0},
    COL_AGE,
};

static const struct api_table_column serviceaccount_cols[] = {
    COL_NAME,
    {"Secrets", "string", "", "Number of secrets listed.", 0},
    COL_AGE,
};

static const struct api_table_column pv_cols[] = {
    COL_NAME,
    {"Capacity", "string", "", "Storage size of the volume.", 0},
    {"Access Modes", "string", "", "Ways the volume can be mounted.", 0},
    {"Reclaim Policy", "string", "", "What happens to the volume when released.", 0},
    {"Status", "string", "", "Phase of the volume.", 0},
    {"Claim", "string", "", "Claim bound to the volume.", 0},
    {"StorageClass", "string", "", "Storage class of the volume.", 0},
    {"VolumeAttributesClass", "string", "", "Volume attributes class of the volume.", 0},
    {"Reason", "string", "", "Why the volume is in its phase.", 0},
    COL_AGE,
    {"VolumeMode", "string", "", "Filesystem or Block.", 1},
};

static const struct api_table_column pvc_cols[] = {
    COL_NAME,
    {"Status", "string", "", "Phase of the claim.", 0},
    {"Volume", "string", "", "Volume bound to the claim.", 0},
    {"Capacity", "string", "", "Storage size of the bound volume.", 0},
    {"Access Modes", "string", "", "Ways the bound volume can be mounted.", 0},
    {"StorageClass", "string", "", "Storage class of the claim.", 0},
    {"VolumeAttributesClass", "string", "", "Volume attributes class of the claim.", 0},
    COL_AGE,
    {"VolumeMode", "string", "", "Filesystem or Block.", 1},
};

static const struct api_table_column componentstatus_cols[] = {
    COL_NAME,
    {"Status", "string", "", "Health of the component.", 0},
    {"Message", "string", "", "Message of the health check.", 0},
    {"Error", "string", "", "Error of the health check.", 0},
};

static const struct api_table_column deployment_cols[] = {
    COL_NAME,
    {"Ready", "string", "", "Ready pods out of the replicas asked for.", 0},
    {"Up-to-date", "string", "", "Pods that run the current template.", 0},
    {"Available", "string", "", "Pods that are available.", 0},
    COLS_AGE_TEMPLATE,
};

static const struct api_table_column hpa_cols[] = {
    COL_NAME,
    {"Reference", "string", "", "The object being scaled.", 0},
    {"Targets", "string", "", "Current and target metric values.", 0},
    {"MinPods", "string", "", "Lowest replica count.", 0},
    {"MaxPods", "string", "", "Highest replica count.", 0},
    {"Replicas", "string", "", "Replicas now.", 0},
    COL_AGE,
};

static const struct api_table_column configmap_cols[] = {
    COL_NAME,
    {"Data", "string", "", "Number of data keys.", 0},
    COL_AGE,
};

static const struct api_table_column networkpolicy_cols[] = {
    COL_NAME,
    {"Pod-Selector", "string", "", "Pods the policy applies to.", 0},
    COL_AGE,
};

static const struct api_table_column binding_cols[] = {
    COL_NAME,
    {"Role", "string", "", "The role granted.", 0},
    COL_AGE,
    {"Users", "string", "", "Users granted the role.", 1},
    {"Groups", "string", "", "Groups granted the role.", 1},
    {"ServiceAccounts", "string", "", "Service accounts granted the role.", 1},
};

static const struct api_table_column lease_cols[] = {
    COL_NAME,
    {"Holder", "string", "", "Identity holding the lease.", 0},
    COL_AGE,
};

static const struct api_table_column storageclass_cols[] = {
    COL_NAME,
    {"Provisioner", "string", "", "Driver that creates the volumes.", 0},
    {"ReclaimPolicy", "string", "", "What happens to released volumes.", 0},
    {"VolumeBindingMode", "string", "", "When volumes are bound.", 0},
    {"AllowVolumeExpansion", "string", "", "Whether volumes can grow.", 0},
    COL_AGE,
};

static const struct api_table_column controllerrevision_cols[] = {
    COL_NAME,
    {"Controller", "string", "", "Object that owns the revision.", 0},
    {"Revision", "string", "", "Revision number.", 0},
    COL_AGE,
};

static const struct api_table_column resourcequota_cols[] = {
    COL_NAME,
    {"Request", "string", "", "Used and hard amounts of requests and object counts.", 0},
    {"Limit", "string", "", "Used and hard amounts of limits.", 0},
    COL_AGE,
};

static const struct api_table_column priorityclass_cols[] = {
    COL_NAME,
    {"Value", "integer", "", "Priority given to pods of the class.", 0},
    {"Global-Default", "boolean", "", "Whether pods without a class get this one.", 0},
    COL_AGE,
    {"PreemptionPolicy", "string", "", "Whether pods of the class may preempt others.", 0},
};

static const struct api_table_column endpointslice_cols[] = {
    COL_NAME,
    {"AddressType", "string", "", "Address family of the endpoints.", 0},
    {"Ports", "string", "", "Ports of the slice.", 0},
    {"Endpoints", "string", "", "Addresses of the endpoints.", 0},
    COL_AGE,
};

static const struct api_table_column default_cols[] = {
    COL_NAME,
    {"Created At", "date", "", "Time the object was created.", 0},
};

/* ---- printers ------------------------------------------------------------------------------- */

struct printer {
    const char *group, *resource;
    const struct api_table_column *cols;
    size_t n_cols;
    const ProtobufCMessageDescriptor *desc;
    int (*cells)(struct tctx *c, const ProtobufCMessage *obj);
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define P(group, resource, cols, desc, fn)                                                         \
    {                                                                                              \
        group, resource, cols, N(cols), &desc, fn                                                  \
    }

static const struct printer printers[] = {
    P("", "pods", pod_cols, k8s__io__api__core__v1__pod__descriptor, pod_cells),
    P("", "podtemplates", pod_template_cols, k8s__io__api__core__v1__pod_template__descriptor,
      pod_template_cells),
    P("", "replicationcontrollers", rc_cols,
      k8s__io__api__core__v1__replication_controller__descriptor, rc_cells),
    P("", "services", service_cols, k8s__io__api__core__v1__service__descriptor, service_cells),
    P("", "endpoints", endpoints_cols, k8s__io__api__core__v1__endpoints__descriptor,
      endpoints_cells),
    P("", "nodes", node_cols, k8s__io__api__core__v1__node__descriptor, node_cells),
    P("", "events", event_cols, k8s__io__api__core__v1__event__descriptor, event_cells),
    P("", "namespaces", namespace_cols, k8s__io__api__core__v1__namespace__descriptor,
      namespace_cells),
    P("", "secrets", secret_cols, k8s__io__api__core__v1__secret__descriptor, secret_cells),
    P("", "serviceaccounts", serviceaccount_cols,
      k8s__io__api__core__v1__service_account__descriptor, serviceaccount_cells),
    P("", "persistentvolumes", pv_cols, k8s__io__api__core__v1__persistent_volume__descriptor,
      pv_cells),
    P("", "persistentvolumeclaims", pvc_cols,
      k8s__io__api__core__v1__persistent_volume_claim__descriptor, pvc_cells),
    P("", "componentstatuses", componentstatus_cols,
      k8s__io__api__core__v1__component_status__descriptor, componentstatus_cells),
    P("", "configmaps", configmap_cols, k8s__io__api__core__v1__config_map__descriptor,
      configmap_cells),
    P("", "resourcequotas", resourcequota_cols, k8s__io__api__core__v1__resource_quota__descriptor,
      resourcequota_cells),
    P("apps", "deployments", deployment_cols, k8s__io__api__apps__v1__deployment__descriptor,
      deployment_cells),
    P("apps", "replicasets", rc_cols, k8s__io__api__apps__v1__replica_set__descriptor, rs_cells),
    P("apps", "statefulsets", statefulset_cols, k8s__io__api__apps__v1__stateful_set__descriptor,
      statefulset_cells),
    P("apps", "daemonsets", daemonset_cols, k8s__io__api__apps__v1__daemon_set__descriptor,
      daemonset_cells),
    P("apps", "controllerrevisions", controllerrevision_cols,
      k8s__io__api__apps__v1__controller_revision__descriptor, controller_revision_cells),
    P("autoscaling", "horizontalpodautoscalers", hpa_cols,
      k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler__descriptor, hpa_cells),
    P("batch", "jobs", job_cols, k8s__io__api__batch__v1__job__descriptor, job_cells),
    P("batch", "cronjobs", cronjob_cols, k8s__io__api__batch__v1__cron_job__descriptor,
      cronjob_cells),
    P("coordination.k8s.io", "leases", lease_cols,
      k8s__io__api__coordination__v1__lease__descriptor, lease_cells),
    P("discovery.k8s.io", "endpointslices", endpointslice_cols,
      k8s__io__api__discovery__v1__endpoint_slice__descriptor, endpointslice_cells),
    P("events.k8s.io", "events", event_cols, k8s__io__api__events__v1__event__descriptor,
      event_v1_cells),
    P("networking.k8s.io", "ingresses", ingress_cols,
      k8s__io__api__networking__v1__ingress__descriptor, ingress_cells),
    P("networking.k8s.io", "ingressclasses", ingressclass_cols,
      k8s__io__api__networking__v1__ingress_class__descriptor, ingressclass_cells),
    P("networking.k8s.io", "networkpolicies", networkpolicy_cols,
      k8s__io__api__networking__v1__network_policy__descriptor, networkpolicy_cells),
    P("node.k8s.io", "runtimeclasses", runtimeclass_cols,
      k8s__io__api__node__v1__runtime_class__descriptor, runtimeclass_cells),
    P("policy", "poddisruptionbudgets", pdb_cols,
      k8s__io__api__policy__v1__pod_disruption_budget__descriptor, pdb_cells),
    P("rbac.authorization.k8s.io", "rolebindings", binding_cols,
      k8s__io__api__rbac__v1__role_binding__descriptor, rolebinding_cells),
    P("rbac.authorization.k8s.io", "clusterrolebindings", binding_cols,
      k8s__io__api__rbac__v1__cluster_role_binding__descriptor, clusterrolebinding_cells),
    P("scheduling.k8s.io", "priorityclasses", priorityclass_cols,
      k8s__io__api__scheduling__v1__priority_class__descriptor, priorityclass_cells),
    P("storage.k8s.io", "storageclasses", storageclass_cols,
      k8s__io__api__storage__v1__storage_class__descriptor, storageclass_cells),
};

/* Kinds that subresources answer with, printed whatever resource they belong to. */
static const struct printer kind_printers[] = {
    P("autoscaling", "scale", scale_cols, k8s__io__api__autoscaling__v1__scale__descriptor,
      scale_cells),
};

/* The printer of a kind a subresource answers with, or NULL. */
static const struct printer *kind_printer(const ProtobufCMessageDescriptor *desc)
{
    for (size_t i = 0; i < N(kind_printers); i++)
        if (kind_printers[i].desc == desc)
            return &kind_printers[i];
    return NULL;
}

/* The printer of objects of type desc served under r. */
static const struct printer *printer_for(const struct api_resource *r,
                                         const ProtobufCMessageDescriptor *desc)
{
    const struct printer *k = kind_printer(desc);
    if (k != NULL)
        return k;
    for (size_t i = 0; i < N(printers); i++)
        if (strcmp(printers[i].group, S(r->group)) == 0 &&
            strcmp(printers[i].resource, S(r->resource)) == 0)
            return &printers[i];
    return NULL;
}

bool api_table_prints(const struct api_resource *r, const ProtobufCMessageDescriptor *desc)
{
    return desc == r->desc || kind_printer(desc) != NULL;
}

const struct api_table_column *api_table_columns_of(const struct api_resource *r,
                                                    const ProtobufCMessageDescriptor *desc,
                                                    size_t *n)
{
    const struct printer *p = printer_for(r, desc);
    if (p == NULL) {
        *n = N(default_cols);
        return default_cols;
    }
    *n = p->n_cols;
    return p->cols;
}

const struct api_table_column *api_table_columns(const struct api_resource *r, size_t *n)
{
    return api_table_columns_of(r, r->desc, n);
}

int api_table_cells(struct k8c_arena *a, const struct api_resource *r, const ProtobufCMessage *obj,
                    int64_t now, struct k8c_json *cells)
{
    const struct printer *p = obj != NULL ? printer_for(r, obj->descriptor) : NULL;
    struct tctx c = {.a = a, .cells = cells, .now = now};
    uint32_t len = cells->len;
    int rc;

    if (obj == NULL || (p != NULL && obj->descriptor != p->desc) ||
        (p == NULL && r->desc != NULL && obj->descriptor != r->desc))
        return K8C_EINVAL;
    k8c_sbuf_init(&c.sb);
    rc = p != NULL ? p->cells(&c, obj) : default_cells(&c, obj);
    k8c_sbuf_free(&c.sb);
    if (rc != 0)
        cells->len = len; /* drop a partial row */
    return rc;
}

struct k8c_json *api_table_column_definitions(struct k8c_arena *a, const struct api_resource *r)
{
    size_t n;
    const struct api_table_column *cols = api_table_columns(r, &n);
    struct k8c_json *arr = k8c_json_new_array(a);
    for (size_t i = 0; i < n; i++) {
        struct k8c_json *o = k8c_json_new_object(a);
        k8c_json_append_member(a, o, "name", 4, k8c_json_new_string(a, cols[i].name));
        k8c_json_append_member(a, o, "type", 4, k8c_json_new_string(a, cols[i].type));
        k8c_json_append_member(a, o, "format", 6, k8c_json_new_string(a, cols[i].format));
        k8c_json_append_member(a, o, "description", 11,
                               k8c_json_new_string(a, cols[i].description));
        k8c_json_append_member(a, o, "priority", 8, k8c_json_new_int(a, cols[i].priority));
        k8c_json_array_append(a, arr, o);
    }
    return arr;
}

struct k8c_json *api_table_row_conditions(struct k8c_arena *a, const struct api_resource *r,
                                          const ProtobufCMessage *obj)
{
    const char *reason, *message;
    if (obj == NULL || obj->descriptor != &k8s__io__api__core__v1__pod__descriptor ||
        printer_for(r, obj->descriptor) == NULL ||
        printer_for(r, obj->descriptor)->desc != obj->descriptor)
        return NULL;
    const CORE(Pod) *pod = (const CORE(Pod) *)obj;
    const char *phase = pod->status ? S(pod->status->phase) : "";
    if (strcmp(phase, "Succeeded") == 0) {
        reason = "Succeeded";
        message = "The pod has completed successfully.";
    } else if (strcmp(phase, "Failed") == 0) {
        reason = "Failed";
        message = "The pod failed.";
    } else {
        return NULL;
    }
    struct k8c_json *cond = k8c_json_new_object(a), *arr = k8c_json_new_array(a);
    k8c_json_append_member(a, cond, "type", 4, k8c_json_new_string(a, "Completed"));
    k8c_json_append_member(a, cond, "status", 6, k8c_json_new_string(a, "True"));
    k8c_json_append_member(a, cond, "reason", 6, k8c_json_new_string(a, reason));
    k8c_json_append_member(a, cond, "message", 7, k8c_json_new_string(a, message));
    k8c_json_array_append(a, arr, cond);
    return arr;
}
