/*
 * Validation of API objects (see validate.h): upstream's ValidateXxx / ValidateXxxUpdate
 * (Kubernetes 1.32) over the protobuf-c structs, with upstream's field paths, error types and
 * wording. One static function per upstream function that matters, named after it; each takes
 * a struct vctx holding the error list and the current field path, which callers extend with
 * path_child / path_index / path_key and restore with path_pop.
 *
 * Presence: Go value fields (string, int32, value structs) read as their zero value when the
 * protobuf-c field is absent (NULL string, has_ flag clear, NULL sub-message), as upstream's
 * internal types would see them after conversion. Maps are visited in sorted key order.
 */
#include "validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alloc.h"
#include "codec.h"
#include "json.h"
#include "convert.h"
#include "defaults.h"
#include "error.h"
#include "object.h"
#include "quantity.h"
#include "selector.h"

#include "k8s/api/apps/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v2/generated.pb-c.h"
#include "k8s/api/batch/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/api/discovery/v1/generated.pb-c.h"
#include "k8s/api/networking/v1/generated.pb-c.h"
#include "k8s/api/node/v1/generated.pb-c.h"
#include "k8s/api/policy/v1/generated.pb-c.h"
#include "k8s/api/storage/v1/generated.pb-c.h"
#include "k8s/api/scheduling/v1/generated.pb-c.h"
#include "k8s/api/rbac/v1/generated.pb-c.h"
#include "k8s/api/coordination/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/api/resource/generated.pb-c.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"
#include "k8s/apimachinery/pkg/util/intstr/generated.pb-c.h"

/* ---- type names ---------------------------------------------------------------------------- */

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta meta_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta__LabelsEntry str_entry_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__Time time_t_msg;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__OwnerReference owner_ref_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelector label_selector_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelectorRequirement selector_req_t;
typedef K8s__Io__Apimachinery__Pkg__Util__Intstr__IntOrString intstr_t;
typedef K8s__Io__Apimachinery__Pkg__Api__Resource__Quantity quantity_t;

typedef K8s__Io__Api__Core__V1__Pod pod_t;
typedef K8s__Io__Api__Core__V1__PodSpec pod_spec_t;
typedef K8s__Io__Api__Core__V1__PodTemplateSpec pod_template_spec_t;
typedef K8s__Io__Api__Core__V1__PodTemplate pod_template_t;
typedef K8s__Io__Api__Core__V1__ReplicationController rc_t;
typedef K8s__Io__Api__Core__V1__Container container_t;
typedef K8s__Io__Api__Core__V1__ContainerPort container_port_t;
typedef K8s__Io__Api__Core__V1__EnvVar env_var_t;
typedef K8s__Io__Api__Core__V1__VolumeMount volume_mount_t;
typedef K8s__Io__Api__Core__V1__EphemeralContainer ephemeral_container_t;
typedef K8s__Io__Api__Core__V1__EphemeralContainerCommon ephemeral_common_t;
typedef K8s__Io__Api__Core__V1__Volume volume_t;
typedef K8s__Io__Api__Core__V1__ResourceRequirements resources_t;
typedef K8s__Io__Api__Core__V1__ResourceRequirements__LimitsEntry quantity_entry_t;
typedef K8s__Io__Api__Core__V1__Probe probe_t;
typedef K8s__Io__Api__Core__V1__ExecAction exec_action_t;
typedef K8s__Io__Api__Core__V1__HTTPGetAction http_get_t;
typedef K8s__Io__Api__Core__V1__TCPSocketAction tcp_socket_t;
typedef K8s__Io__Api__Core__V1__GRPCAction grpc_action_t;
typedef K8s__Io__Api__Core__V1__SleepAction sleep_action_t;
typedef K8s__Io__Api__Core__V1__Service service_t;
typedef K8s__Io__Api__Core__V1__ServiceSpec service_spec_t;
typedef K8s__Io__Api__Core__V1__ServicePort service_port_t;
typedef K8s__Io__Api__Core__V1__ConfigMap config_map_t;
typedef K8s__Io__Api__Core__V1__Secret secret_t;
typedef K8s__Io__Api__Core__V1__Secret__DataEntry bytes_entry_t;
typedef K8s__Io__Api__Core__V1__Namespace namespace_t;
typedef K8s__Io__Api__Core__V1__PersistentVolumeClaim pvc_t;
typedef K8s__Io__Api__Core__V1__PersistentVolumeClaimSpec pvc_spec_t;

typedef K8s__Io__Api__Apps__V1__Deployment deployment_t;
typedef K8s__Io__Api__Apps__V1__DeploymentSpec deployment_spec_t;
typedef K8s__Io__Api__Apps__V1__DeploymentStrategy deployment_strategy_t;
typedef K8s__Io__Api__Apps__V1__ReplicaSet replica_set_t;
typedef K8s__Io__Api__Apps__V1__StatefulSet stateful_set_t;
typedef K8s__Io__Api__Apps__V1__StatefulSetSpec stateful_set_spec_t;
typedef K8s__Io__Api__Apps__V1__DaemonSet daemon_set_t;
typedef K8s__Io__Api__Batch__V1__Job job_t;
typedef K8s__Io__Api__Batch__V1__JobSpec job_spec_t;
typedef K8s__Io__Api__Batch__V1__CronJob cron_job_t;

/* ---- error list ---------------------------------------------------------------------------- */

void api_field_errors_init(struct api_field_errors *errs)
{
    errs->items = NULL;
    errs->n = errs->cap = 0;
}

void api_field_errors_free(struct api_field_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++) {
        k8c_free(errs->items[i].type);
        k8c_free(errs->items[i].field);
        k8c_free(errs->items[i].message);
    }
    k8c_free(errs->items);
    api_field_errors_init(errs);
}

void api_field_errors_add(struct api_field_errors *errs, const char *type, const char *field,
                          const char *message)
{
    if (errs->n == errs->cap) {
        errs->cap = errs->cap == 0 ? 8 : errs->cap * 2;
        errs->items = k8c_realloc(errs->items, errs->cap * sizeof(*errs->items));
    }
    struct api_field_error *e = &errs->items[errs->n++];
    e->type = k8c_strdup(type);
    e->field = k8c_strdup(field);
    e->message = k8c_strdup(message);
}

char *api_validate_error_string(const struct api_field_error *e)
{
    struct k8c_sbuf sb;

    k8c_sbuf_init(&sb);
    k8c_sbuf_printf(&sb, "%s: %s", e->field != NULL ? e->field : "",
                    e->message != NULL ? e->message : "");
    return k8c_sbuf_detach(&sb);
}

/* ---- Go value printing --------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t w;
    uint32_t r;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        w = 2, r = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        w = 3, r = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        w = 4, r = s[0] & 0x07;
    else
        return 0;
    if (w > n)
        return 0;
    for (size_t i = 1; i < w; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        r = (r << 6) | (s[i] & 0x3f);
    }
    if ((w == 3 && r < 0x800) || (w == 4 && (r < 0x10000 || r > 0x10ffff)) ||
        (r >= 0xd800 && r <= 0xdfff))
        return 0;
    return w;
}

/* Go's strconv.Quote (what %q and %#v print for strings): printable characters as they are,
 * the usual backslash escapes, \xNN for other bytes below 0x80 and invalid UTF-8. */
static void go_quote(struct k8c_sbuf *sb, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    static const char esc_from[] = "\"\\\a\b\f\n\r\t\v", esc_to[] = "\"\\abfnrtv";
    const unsigned char *p = (const unsigned char *)s;

    k8c_sbuf_putc(sb, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t w;

        if (c != 0 && strchr(esc_from, c) != NULL) {
            char e[2] = {'\\', esc_to[strchr(esc_from, c) - esc_from]};
            k8c_sbuf_append(sb, e, 2);
            i++;
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            k8c_sbuf_append(sb, e, 4);
            i++;
            continue;
        }
        w = utf8_len(p + i, n - i);
        if (w == 0) {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            k8c_sbuf_append(sb, e, 4);
            i++;
            continue;
        }
        k8c_sbuf_append(sb, s + i, w);
        i += w;
    }
    k8c_sbuf_putc(sb, '"');
}

static void goq(struct k8c_sbuf *sb, const char *s)
{
    go_quote(sb, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static const char *str_or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static bool str_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(str_or_empty(a), str_or_empty(b)) == 0;
}

static int strp_cmp(const void *a, const void *b)
{
    return strcmp(str_or_empty(*(char *const *)a), str_or_empty(*(char *const *)b));
}

static int entry_cmp(const void *a, const void *b)
{
    const str_entry_t *x = *(const str_entry_t *const *)a;
    const str_entry_t *y = *(const str_entry_t *const *)b;
    return strcmp(str_or_empty(x->key), str_or_empty(y->key));
}

/*
 * A protobuf-c map field (repeated entries of {key, value}) sorted by key: a new array the
 * caller frees with k8c_free (NULL when n is 0). All map entry types share the layout of
 * ObjectMeta.LabelsEntry up to the key, which is all the sort reads.
 */
static void **sorted_entries(void *const *entries, size_t n)
{
    void **out;

    if (n == 0)
        return NULL;
    out = k8c_malloc(n * sizeof(*out));
    memcpy(out, entries, n * sizeof(*out));
    qsort(out, n, sizeof(*out), entry_cmp);
    return out;
}

/* %#v of a map[string]string: map[string]string{"a":"1", "b":"2"} (keys sorted) */
static void go_string_map(struct k8c_sbuf *sb, str_entry_t *const *entries, size_t n)
{
    void **sorted;

    if (n == 0) {
        k8c_sbuf_puts(sb, "map[string]string(nil)");
        return;
    }
    sorted = sorted_entries((void *const *)entries, n);
    k8c_sbuf_puts(sb, "map[string]string{");
    for (size_t i = 0; i < n; i++) {
        const str_entry_t *e = sorted[i];
        if (i > 0)
            k8c_sbuf_puts(sb, ", ");
        goq(sb, e->key);
        k8c_sbuf_putc(sb, ':');
        goq(sb, e->value);
    }
    k8c_sbuf_putc(sb, '}');
    k8c_free(sorted);
}

/* %#v of a slice of type (a string type: "string", "core.IPFamily") */
static void go_slice(struct k8c_sbuf *sb, const char *type, char *const *items, size_t n)
{
    if (n == 0) {
        k8c_sbuf_printf(sb, "[]%s(nil)", type);
        return;
    }
    k8c_sbuf_printf(sb, "[]%s{", type);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            k8c_sbuf_puts(sb, ", ");
        goq(sb, items[i]);
    }
    k8c_sbuf_putc(sb, '}');
}

/* %#v of a []string */
static void go_string_slice(struct k8c_sbuf *sb, char *const *items, size_t n)
{
    go_slice(sb, "string", items, n);
}

/* %#v of a metav1.LabelSelector value (what upstream prints for a *LabelSelector). */
static void go_label_selector(struct k8c_sbuf *sb, const label_selector_t *s)
{
    k8c_sbuf_puts(sb, "v1.LabelSelector{MatchLabels:");
    go_string_map(sb, s != NULL ? (str_entry_t *const *)s->matchlabels : NULL,
                  s != NULL ? s->n_matchlabels : 0);
    k8c_sbuf_puts(sb, ", MatchExpressions:");
    if (s == NULL || s->n_matchexpressions == 0) {
        k8c_sbuf_puts(sb, "[]v1.LabelSelectorRequirement(nil)");
    } else {
        k8c_sbuf_puts(sb, "[]v1.LabelSelectorRequirement{");
        for (size_t i = 0; i < s->n_matchexpressions; i++) {
            const selector_req_t *r = s->matchexpressions[i];
            if (i > 0)
                k8c_sbuf_puts(sb, ", ");
            k8c_sbuf_puts(sb, "v1.LabelSelectorRequirement{Key:");
            goq(sb, r != NULL ? r->key : NULL);
            k8c_sbuf_puts(sb, ", Operator:");
            goq(sb, r != NULL ? r->operator_ : NULL);
            k8c_sbuf_puts(sb, ", Values:");
            go_string_slice(sb, r != NULL ? r->values : NULL, r != NULL ? r->n_values : 0);
            k8c_sbuf_putc(sb, '}');
        }
        k8c_sbuf_putc(sb, '}');
    }
    k8c_sbuf_putc(sb, '}');
}

/* %#v of an intstr.IntOrString value */
static void go_intstr(struct k8c_sbuf *sb, const intstr_t *x)
{
    k8c_sbuf_printf(sb, "intstr.IntOrString{Type:%lld, IntVal:%d, StrVal:",
                    x != NULL && x->has_type ? (long long)x->type : 0LL,
                    x != NULL && x->has_intval ? x->intval : 0);
    goq(sb, x != NULL ? x->strval : NULL);
    k8c_sbuf_putc(sb, '}');
}

/* Go's time.Time.String in UTC: "2024-01-02 03:04:05.5 +0000 UTC" (the fraction, without
 * trailing zeros, only when ns is not 0) */
static void go_time_frac(struct k8c_sbuf *sb, const time_t_msg *t, int32_t ns)
{
    int64_t secs = t != NULL && t->has_seconds ? t->seconds : -62135596800LL; /* year 1 */
    char buf[64], frac[16] = "";
    int n = k8c_codec_format_time(buf, sizeof(buf), secs, 0, false); /* ...-02T03:04:05Z */
    if (n < 20 || (size_t)n >= sizeof(buf))
        return;
    buf[n - 10] = ' ';
    buf[n - 1] = '\0';
    if (ns > 0 && ns < 1000000000) {
        int f = snprintf(frac, sizeof(frac), ".%09d", (int)ns);
        while (f > 1 && frac[f - 1] == '0')
            frac[--f] = '\0';
    }
    k8c_sbuf_printf(sb, "%s%s +0000 UTC", buf, frac);
}

/* metav1.Time's String(): "2024-01-02 03:04:05 +0000 UTC" */
static void go_time(struct k8c_sbuf *sb, const time_t_msg *t)
{
    go_time_frac(sb, t, 0);
}

/* ---- context, paths and errors ------------------------------------------------------------- */

struct vctx {
    struct api_field_errors *errs;
    struct k8c_sbuf path; /* the current field path, "spec.template.spec" */
    struct k8c_sbuf val;  /* scratch for formatting a bad value */
    bool namespaced;      /* the kind's scope, for the metadata checks */
    int name_rule;        /* enum name_rule of the kind */
    /* an update of an object whose pod spec already had sysctls its host network or IPC
     * forbids (upstream's AllowNamespacedSysctlsForHostNetAndHostIPC) */
    bool allow_host_sysctls;
    bool resource_is_pod; /* a Pod's own spec, not a template's (PodValidationOptions) */
};

static const char *path_str(const struct vctx *v)
{
    return v->path.len > 0 ? v->path.data : "";
}

static void path_pop(struct vctx *v, size_t old)
{
    v->path.len = old;
    if (v->path.data != NULL)
        v->path.data[old] = '\0';
}

/* Path.Child: appends ".name" (or "name" at the root); returns the length to pop back to. A
 * name may hold several components ("metadata.labels"). */
static size_t path_child(struct vctx *v, const char *name)
{
    size_t old = v->path.len;

    if (name == NULL)
        return old;

    if (old > 0)
        k8c_sbuf_putc(&v->path, '.');
    k8c_sbuf_puts(&v->path, name);
    return old;
}

/* Path.Index: "[i]" */
static size_t path_index(struct vctx *v, size_t i)
{
    size_t old = v->path.len;

    k8c_sbuf_printf(&v->path, "[%zu]", i);
    return old;
}

/* Path.Key: "[key]" (unquoted, as upstream) */
static size_t path_key(struct vctx *v, const char *key)
{
    size_t old = v->path.len;

    k8c_sbuf_putc(&v->path, '[');
    k8c_sbuf_puts(&v->path, str_or_empty(key));
    k8c_sbuf_putc(&v->path, ']');
    return old;
}

enum etype {
    E_REQUIRED,
    E_INVALID,
    E_NOT_SUPPORTED,
    E_DUPLICATE,
    E_FORBIDDEN,
    E_TOO_LONG,
    E_NOT_FOUND,
    E_INTERNAL,
    E_TOO_MANY,
};

static const struct {
    const char *reason, *text;
} etypes[] = {
    [E_REQUIRED] = {"FieldValueRequired", "Required value"},
    [E_INVALID] = {"FieldValueInvalid", "Invalid value"},
    [E_NOT_SUPPORTED] = {"FieldValueNotSupported", "Unsupported value"},
    [E_DUPLICATE] = {"FieldValueDuplicate", "Duplicate value"},
    [E_FORBIDDEN] = {"FieldValueForbidden", "Forbidden"},
    [E_TOO_LONG] = {"FieldValueTooLong", "Too long"},
    [E_NOT_FOUND] = {"FieldValueNotFound", "Not found"},
    [E_INTERNAL] = {"InternalError", "Internal error"},
    [E_TOO_MANY] = {"FieldValueTooMany", "Too many"},
};

/*
 * Appends an error at the current path plus child (NULL for the path itself), as upstream's
 * field.Error: value is the bad value already printed the Go way (ignored for Required,
 * Forbidden and TooLong, whose bodies omit it), detail may be NULL or "".
 */
static void verr(struct vctx *v, enum etype t, const char *child, const char *value,
                 const char *detail)
{
    struct k8c_sbuf msg;
    size_t old = v->path.len;

    /* a hostile body can ask for errors by the million (a quota's scopes times its resources);
     * past this many the request is refused with the first ones */
    if (v->errs->n >= API_VALIDATE_MAX_ERRORS)
        return;
    if (child != NULL)
        path_child(v, child);
    k8c_sbuf_init(&msg);
    k8c_sbuf_puts(&msg, etypes[t].text);
    if (t != E_REQUIRED && t != E_FORBIDDEN && t != E_TOO_LONG && t != E_INTERNAL && value != NULL)
        k8c_sbuf_printf(&msg, ": %s", value);
    if (detail != NULL && detail[0] != '\0')
        k8c_sbuf_printf(&msg, ": %s", detail);
    api_field_errors_add(v->errs, etypes[t].reason, path_str(v), msg.len ? msg.data : "");
    k8c_sbuf_free(&msg);
    path_pop(v, old);
}

/* The scratch value buffer, emptied. */
static struct k8c_sbuf *val_begin(struct vctx *v)
{
    k8c_sbuf_reset(&v->val);
    return &v->val;
}

static const char *val_str(const struct vctx *v)
{
    return v->val.len > 0 ? v->val.data : "";
}

static void required(struct vctx *v, const char *child, const char *detail)
{
    verr(v, E_REQUIRED, child, NULL, detail);
}

static void forbidden(struct vctx *v, const char *child, const char *detail)
{
    verr(v, E_FORBIDDEN, child, NULL, detail);
}

static void too_long(struct vctx *v, const char *child, long max)
{
    char detail[64];

    snprintf(detail, sizeof(detail), "may not be more than %ld bytes", max);
    verr(v, E_TOO_LONG, child, NULL, detail);
}

/* Invalid with a string value (%q) */
static void invalid_str(struct vctx *v, const char *child, const char *value, const char *detail)
{
    goq(val_begin(v), value);
    verr(v, E_INVALID, child, val_str(v), detail);
}

static void invalid_int(struct vctx *v, const char *child, int64_t value, const char *detail)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", (long long)value);
    verr(v, E_INVALID, child, buf, detail);
}

/* Invalid with a value printed by the caller into val_begin(v) */
static void invalid_val(struct vctx *v, const char *child, const char *detail)
{
    verr(v, E_INVALID, child, val_str(v), detail);
}

static void duplicate_str(struct vctx *v, const char *child, const char *value)
{
    goq(val_begin(v), value);
    verr(v, E_DUPLICATE, child, val_str(v), NULL);
}

static void not_found_str(struct vctx *v, const char *child, const char *value)
{
    goq(val_begin(v), value);
    verr(v, E_NOT_FOUND, child, val_str(v), NULL);
}

/* NotSupported: `Unsupported value: "X": supported values: "a", "b"`; supported is
 * NULL-terminated, in upstream's order. */
static void not_supported(struct vctx *v, const char *child, const char *value,
                          const char *const *supported)
{
    struct k8c_sbuf detail;

    k8c_sbuf_init(&detail);
    if (supported != NULL && supported[0] != NULL) {
        k8c_sbuf_puts(&detail, "supported values: ");
        for (size_t i = 0; supported[i] != NULL; i++) {
            if (i > 0)
                k8c_sbuf_puts(&detail, ", ");
            goq(&detail, supported[i]);
        }
    }
    goq(val_begin(v), value);
    verr(v, E_NOT_SUPPORTED, child, val_str(v), detail.len > 0 ? detail.data : NULL);
    k8c_sbuf_free(&detail);
}

static bool one_of(const char *s, const char *const *values)
{
    for (size_t i = 0; values[i] != NULL; i++)
        if (strcmp(str_or_empty(s), values[i]) == 0)
            return true;
    return false;
}

/* ValidateNonnegativeField */
static void nonnegative(struct vctx *v, const char *child, int64_t value)
{
    if (value < 0)
        invalid_int(v, child, value, "must be greater than or equal to 0");
}

/* ValidateImmutableField for strings */
static void immutable_str(struct vctx *v, const char *child, const char *new_value,
                          const char *old_value)
{
    if (!str_eq(new_value, old_value))
        invalid_str(v, child, new_value, "field is immutable");
}

/* ---- names (k8s.io/apimachinery/pkg/util/validation) --------------------------------------- */

#define DNS1123_LABEL_FMT     "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_SUBDOMAIN_FMT DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*"
#define DNS1123_LABEL_ERROR                                                                        \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '" DNS1123_LABEL_FMT "')"
#define DNS1123_SUBDOMAIN_ERROR                                                                    \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '" DNS1123_SUBDOMAIN_FMT "')"
#define DNS1035_LABEL_ERROR                                                                        \
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "   \
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "           \
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_ERROR                                                                                \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "         \
    "validation is '" QNAME_FMT "')"
#define LABEL_VALUE_ERROR                                                                          \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is '(" QNAME_FMT ")?')"
#define CONFIG_KEY_ERROR                                                                           \
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "           \
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

/* Most messages one name check gives. */
#define MAX_MSGS 6

static bool is_lower_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(unsigned char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0, n) */
static bool dns1123_label_ok(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum((unsigned char)s[0]) || !is_lower_alnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool dns1123_subdomain_ok(const char *s, size_t n)
{
    size_t start = 0;

    if (n == 0)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        if (!dns1123_label_ok(s + start, i - start))
            return false;
        start = i + 1;
    }
    return true;
}

/* IsDNS1123Label */
static size_t dns1123_label_msgs(const char *s, const char **msgs)
{
    size_t n = 0, len = strlen(s);

    if (len > 63)
        msgs[n++] = "must be no more than 63 characters";
    if (!dns1123_label_ok(s, len))
        msgs[n++] = dns1123_subdomain_ok(s, len) ? "must not contain dots" : DNS1123_LABEL_ERROR;
    return n;
}

/* IsDNS1123Subdomain */
static size_t dns1123_subdomain_msgs(const char *s, const char **msgs)
{
    size_t n = 0, len = strlen(s);

    if (len > 253)
        msgs[n++] = "must be no more than 253 characters";
    if (!dns1123_subdomain_ok(s, len))
        msgs[n++] = DNS1123_SUBDOMAIN_ERROR;
    return n;
}

/* IsDNS1035Label */
static size_t dns1035_label_msgs(const char *s, const char **msgs)
{
    size_t n = 0, len = strlen(s);
    bool ok = len > 0 && s[0] >= 'a' && s[0] <= 'z' && is_lower_alnum((unsigned char)s[len - 1]);

    for (size_t i = 0; ok && i < len; i++)
        ok = is_lower_alnum((unsigned char)s[i]) || s[i] == '-';
    if (len > 63)
        msgs[n++] = "must be no more than 63 characters";
    if (!ok)
        msgs[n++] = DNS1035_LABEL_ERROR;
    return n;
}

/* path.IsValidPathSegmentName (prefix: IsValidPathSegmentPrefix) */
static size_t path_segment_msgs(const char *s, bool prefix, const char **msgs)
{
    size_t n = 0;

    if (!prefix && strcmp(s, ".") == 0) {
        msgs[n++] = "may not be '.'";
        return n;
    }
    if (!prefix && strcmp(s, "..") == 0) {
        msgs[n++] = "may not be '..'";
        return n;
    }
    if (strchr(s, '/') != NULL)
        msgs[n++] = "may not contain '/'";
    if (strchr(s, '%') != NULL)
        msgs[n++] = "may not contain '%'";
    return n;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool qualified_name_part_ok(const char *s, size_t n)
{
    if (n == 0 || !is_alnum((unsigned char)s[0]) || !is_alnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

/* IsQualifiedName */
static size_t qualified_name_msgs(const char *key, const char **msgs)
{
    size_t len = strlen(key), n = 0, name_len = len;
    const char *slash = strchr(key, '/'), *name = key;

    if (slash != NULL) {
        size_t prefix_len = (size_t)(slash - key);

        name = slash + 1;
        name_len = len - prefix_len - 1;
        if (strchr(name, '/') != NULL) {
            msgs[n++] = "a qualified name " QNAME_ERROR " with an optional DNS subdomain prefix "
                        "and '/' (e.g. 'example.com/MyName')";
            return n;
        }
        if (prefix_len == 0) {
            msgs[n++] = "prefix part must be non-empty";
        } else {
            if (prefix_len > 253)
                msgs[n++] = "prefix part must be no more than 253 characters";
            if (!dns1123_subdomain_ok(key, prefix_len))
                msgs[n++] = "prefix part " DNS1123_SUBDOMAIN_ERROR;
        }
    }
    if (name_len == 0)
        msgs[n++] = "name part must be non-empty";
    else if (name_len > 63)
        msgs[n++] = "name part must be no more than 63 characters";
    if (!qualified_name_part_ok(name, name_len))
        msgs[n++] = "name part " QNAME_ERROR;
    return n;
}

/* IsValidLabelValue */
static size_t label_value_msgs(const char *value, const char **msgs)
{
    size_t n = 0, len = strlen(value);

    if (len > 63)
        msgs[n++] = "must be no more than 63 characters";
    if (len > 0 && !qualified_name_part_ok(value, len))
        msgs[n++] = LABEL_VALUE_ERROR;
    return n;
}

/* IsConfigMapKey */
static size_t config_key_msgs(const char *key, const char **msgs)
{
    size_t n = 0, len = strlen(key);
    bool ok = len > 0;

    for (size_t i = 0; ok && i < len; i++)
        ok = is_alnum((unsigned char)key[i]) || key[i] == '-' || key[i] == '.' || key[i] == '_';
    if (len > 253)
        msgs[n++] = "must be no more than 253 characters";
    if (!ok)
        msgs[n++] = CONFIG_KEY_ERROR;
    if (strcmp(key, ".") == 0)
        msgs[n++] = "must not be '.'";
    else if (strcmp(key, "..") == 0)
        msgs[n++] = "must not be '..'";
    else if (strncmp(key, "..", 2) == 0)
        msgs[n++] = "must not start with '..'";
    return n;
}

/* IsValidPortName */
static size_t port_name_msgs(const char *s, const char **msgs)
{
    size_t n = 0, len = strlen(s);
    bool charset = len > 0, letter = false;

    for (size_t i = 0; i < len; i++) {
        if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '-')
            charset = false;
        if (s[i] >= 'a' && s[i] <= 'z')
            letter = true;
    }
    if (len > 15)
        msgs[n++] = "must be no more than 15 characters";
    if (!charset)
        msgs[n++] = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
    if (!letter)
        msgs[n++] = "must contain at least one letter (a-z)";
    if (strstr(s, "--") != NULL)
        msgs[n++] = "must not contain consecutive hyphens";
    if (len > 0 && (s[0] == '-' || s[len - 1] == '-'))
        msgs[n++] = "must not begin or end with a hyphen";
    return n;
}

/* Each message of a check as one Invalid error with a string value. */
static void invalid_msgs(struct vctx *v, const char *child, const char *value, const char **msgs,
                         size_t n)
{
    for (size_t i = 0; i < n; i++)
        invalid_str(v, child, value, msgs[i]);
}

/* One Invalid at child whose detail is the n messages joined with sep (upstream's
 * strings.Join of a validation's messages) */
static void invalid_joined(struct vctx *v, const char *child, const char *value,
                           const char *const *msgs, size_t n, const char *sep)
{
    struct k8c_sbuf d;

    k8c_sbuf_init(&d);
    for (size_t i = 0; i < n; i++)
        k8c_sbuf_printf(&d, "%s%s", i > 0 ? sep : "", msgs[i]);
    invalid_str(v, child, value, d.data);
    k8c_sbuf_free(&d);
}

/* ValidateDNS1123Label / ValidateDNS1123Subdomain / ValidateQualifiedName at child */
static void dns1123_label(struct vctx *v, const char *child, const char *value)
{
    const char *msgs[MAX_MSGS];
    invalid_msgs(v, child, value, msgs, dns1123_label_msgs(str_or_empty(value), msgs));
}

static void dns1123_subdomain(struct vctx *v, const char *child, const char *value)
{
    const char *msgs[MAX_MSGS];
    invalid_msgs(v, child, value, msgs, dns1123_subdomain_msgs(str_or_empty(value), msgs));
}

static void qualified_name(struct vctx *v, const char *child, const char *value)
{
    const char *msgs[MAX_MSGS];
    invalid_msgs(v, child, value, msgs, qualified_name_msgs(str_or_empty(value), msgs));
}

/* How a kind's object names are checked (upstream's ValidateNameFunc). */
enum name_rule {
    NAME_SUBDOMAIN, /* NameIsDNSSubdomain, the default */
    NAME_LABEL,     /* NameIsDNSLabel: Namespace */
    NAME_DNS1035,   /* NameIsDNS1035Label: Service */
    NAME_PATH,      /* path.ValidatePathSegmentName: RBAC, PersistentVolume(Claim) */
};

/* The messages for name (a generateName when prefix) under rule. */
static size_t name_msgs(enum name_rule rule, const char *name, bool prefix, const char **msgs)
{
    char *masked = NULL;
    size_t n, len = strlen(name);

    if (rule == NAME_PATH)
        return path_segment_msgs(name, prefix, msgs);
    /* maskTrailingDash: a generateName may end in '-' */
    if (prefix && len > 1 && name[len - 1] == '-') {
        masked = k8c_malloc(len);
        memcpy(masked, name, len - 2);
        masked[len - 2] = 'a';
        masked[len - 1] = '\0';
        name = masked;
    }
    switch (rule) {
    case NAME_LABEL:
        n = dns1123_label_msgs(name, msgs);
        break;
    case NAME_DNS1035:
        n = dns1035_label_msgs(name, msgs);
        break;
    default:
        n = dns1123_subdomain_msgs(name, msgs);
        break;
    }
    k8c_free(masked);
    return n;
}

/* ---- metadata (apimachinery/pkg/api/validation/objectmeta.go) ------------------------------ */

#define TOTAL_ANNOTATION_SIZE_LIMIT (256 * 1024)
#define MAX_SECRET_SIZE             (1024 * 1024)

/* ValidateLabels over a map field at child: every key a qualified name, every value a label
 * value, errors at the map's path. */
static void validate_labels(struct vctx *v, const char *child, void *const *entries, size_t n)
{
    void **sorted = sorted_entries(entries, n);
    const char *msgs[MAX_MSGS];

    for (size_t i = 0; i < n; i++) {
        const str_entry_t *e = sorted[i];
        const char *key = str_or_empty(e->key), *value = str_or_empty(e->value);
        invalid_msgs(v, child, key, msgs, qualified_name_msgs(key, msgs));
        invalid_msgs(v, child, value, msgs, label_value_msgs(value, msgs));
    }
    k8c_free(sorted);
}

/* ValidateAnnotations: keys are qualified names once lowercased; total size 256 KiB. */
static void validate_annotations(struct vctx *v, const char *child, void *const *entries, size_t n)
{
    void **sorted = sorted_entries(entries, n);
    const char *msgs[MAX_MSGS];
    size_t total = 0;

    for (size_t i = 0; i < n; i++) {
        const str_entry_t *e = sorted[i];
        const char *key = str_or_empty(e->key);
        char *lower = k8c_strdup(key);

        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        invalid_msgs(v, child, key, msgs, qualified_name_msgs(lower, msgs));
        k8c_free(lower);
        total += strlen(key) + strlen(str_or_empty(e->value));
    }
    if (total > TOTAL_ANNOTATION_SIZE_LIMIT)
        too_long(v, child, TOTAL_ANNOTATION_SIZE_LIMIT);
    k8c_free(sorted);
}

/* schema.ParseGroupVersion's version: "v1" -> "v1", "apps/v1" -> "v1", "a/b/c" -> "". */
static bool api_version_has_version(const char *api_version)
{
    const char *s = str_or_empty(api_version), *slash = strchr(s, '/');

    if (slash == NULL)
        return s[0] != '\0';
    return strchr(slash + 1, '/') == NULL && slash[1] != '\0';
}

/* ValidateOwnerReferences (without the banned-owner and single-controller checks) */
static void validate_owner_references(struct vctx *v, owner_ref_t *const *refs, size_t n)
{
    size_t old = path_child(v, "ownerReferences");

    for (size_t i = 0; i < n; i++) {
        const owner_ref_t *r = refs[i];
        if (r == NULL)
            continue;
        if (!api_version_has_version(r->apiversion))
            invalid_str(v, "apiVersion", r->apiversion, "version must not be empty");
        if (str_empty(r->kind))
            invalid_str(v, "kind", r->kind, "must not be empty");
        if (str_empty(r->name))
            invalid_str(v, "name", r->name, "must not be empty");
        if (str_empty(r->uid))
            invalid_str(v, "uid", r->uid, "must not be empty");
    }
    path_pop(v, old);
}

/* ValidateFinalizers */
static void validate_finalizers(struct vctx *v, char *const *finalizers, size_t n)
{
    bool orphan = false, foreground = false;

    for (size_t i = 0; i < n; i++) {
        qualified_name(v, "finalizers", finalizers[i]);
        orphan |= str_eq(finalizers[i], "orphan");
        foreground |= str_eq(finalizers[i], "foregroundDeletion");
    }
    if (orphan && foreground) {
        go_string_slice(val_begin(v), finalizers, n);
        invalid_val(v, "finalizers", "finalizer orphan and foregroundDeletion cannot be both set");
    }
}

/* ValidateObjectMeta at "metadata" (pushed here). */
static void validate_object_meta(struct vctx *v, const meta_t *m, bool namespaced,
                                 enum name_rule rule)
{
    size_t old = path_child(v, "metadata");
    const char *msgs[MAX_MSGS];
    size_t n;

    if (m != NULL && !str_empty(m->generatename)) {
        n = name_msgs(rule, m->generatename, true, msgs);
        invalid_msgs(v, "generateName", m->generatename, msgs, n);
    }
    if (m == NULL || str_empty(m->name)) {
        required(v, "name", "name or generateName is required");
    } else {
        n = name_msgs(rule, m->name, false, msgs);
        invalid_msgs(v, "name", m->name, msgs, n);
    }
    if (namespaced) {
        if (m == NULL || str_empty(m->namespace_)) {
            required(v, "namespace", NULL);
        } else {
            n = dns1123_label_msgs(m->namespace_, msgs);
            invalid_msgs(v, "namespace", m->namespace_, msgs, n);
        }
    } else if (m != NULL && !str_empty(m->namespace_)) {
        forbidden(v, "namespace", "not allowed on this type");
    }
    if (m != NULL) {
        if (m->has_generation)
            nonnegative(v, "generation", m->generation);
        validate_labels(v, "labels", (void *const *)m->labels, m->n_labels);
        validate_annotations(v, "annotations", (void *const *)m->annotations, m->n_annotations);
        validate_owner_references(v, m->ownerreferences, m->n_ownerreferences);
        validate_finalizers(v, m->finalizers, m->n_finalizers);
    }
    path_pop(v, old);
}

static bool time_eq(const time_t_msg *a, const time_t_msg *b)
{
    int64_t as = a != NULL && a->has_seconds ? a->seconds : 0;
    int64_t bs = b != NULL && b->has_seconds ? b->seconds : 0;
    int32_t an = a != NULL && a->has_nanos ? a->nanos : 0;
    int32_t bn = b != NULL && b->has_nanos ? b->nanos : 0;
    return as == bs && an == bn;
}

static bool has_string(char *const *items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (str_eq(items[i], s))
            return true;
    return false;
}

/* ValidateObjectMetaUpdate at "metadata". */
static void validate_object_meta_update(struct vctx *v, const meta_t *m, const meta_t *o)
{
    static const meta_t empty = K8S__IO__APIMACHINERY__PKG__APIS__META__V1__OBJECT_META__INIT;
    size_t old = path_child(v, "metadata");

    if (m == NULL)
        m = &empty;
    if (o == NULL)
        o = &empty;
    if (o->deletiontimestamp != NULL) {
        /* ValidateNoNewFinalizers: sets.List of the new ones, sorted */
        char **extra = k8c_calloc(m->n_finalizers + 1, sizeof(*extra));
        size_t n_extra = 0;

        for (size_t i = 0; i < m->n_finalizers; i++)
            if (!has_string(o->finalizers, o->n_finalizers, m->finalizers[i]) &&
                !has_string(extra, n_extra, m->finalizers[i]))
                extra[n_extra++] = m->finalizers[i];
        if (n_extra > 0) {
            struct k8c_sbuf d;
            qsort(extra, n_extra, sizeof(*extra), strp_cmp);
            k8c_sbuf_init(&d);
            k8c_sbuf_puts(&d, "no new finalizers can be added if the object is being deleted, "
                              "found new finalizers ");
            go_string_slice(&d, extra, n_extra);
            forbidden(v, "finalizers", d.data);
            k8c_sbuf_free(&d);
        }
        k8c_free(extra);
    }
    if (str_empty(m->resourceversion))
        invalid_str(v, "resourceVersion", m->resourceversion, "must be specified for an update");
    if ((m->has_generation ? m->generation : 0) < (o->has_generation ? o->generation : 0))
        invalid_int(v, "generation", m->generation, "must not be decremented");
    immutable_str(v, "name", m->name, o->name);
    immutable_str(v, "namespace", m->namespace_, o->namespace_);
    immutable_str(v, "uid", m->uid, o->uid);
    if (!time_eq(m->creationtimestamp, o->creationtimestamp)) {
        go_time(val_begin(v), m->creationtimestamp);
        invalid_val(v, "creationTimestamp", "field is immutable");
    }
    if ((m->deletiontimestamp == NULL) != (o->deletiontimestamp == NULL) ||
        !time_eq(m->deletiontimestamp, o->deletiontimestamp)) {
        if (m->deletiontimestamp == NULL)
            goq(val_begin(v), "null");
        else
            go_time(val_begin(v), m->deletiontimestamp);
        invalid_val(v, "deletionTimestamp", "field is immutable");
    }
    if (m->has_deletiongraceperiodseconds != o->has_deletiongraceperiodseconds ||
        (m->has_deletiongraceperiodseconds &&
         m->deletiongraceperiodseconds != o->deletiongraceperiodseconds)) {
        if (m->has_deletiongraceperiodseconds)
            k8c_sbuf_printf(val_begin(v), "%lld", (long long)m->deletiongraceperiodseconds);
        else
            goq(val_begin(v), "null");
        invalid_val(v, "deletionGracePeriodSeconds", "field is immutable");
    }
    validate_labels(v, "labels", (void *const *)m->labels, m->n_labels);
    validate_annotations(v, "annotations", (void *const *)m->annotations, m->n_annotations);
    validate_owner_references(v, m->ownerreferences, m->n_ownerreferences);
    path_pop(v, old);
}

/* ---- protobuf helpers ---------------------------------------------------------------------- */

/* Whether two messages (NULL reads as empty) encode to the same bytes: upstream's
 * apiequality.Semantic.DeepEqual for the objects we compare (same decoder, same order). */
static bool msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = a != NULL ? protobuf_c_message_get_packed_size(a) : 0;
    size_t nb = b != NULL ? protobuf_c_message_get_packed_size(b) : 0;
    uint8_t *ba, *bb;
    bool eq;

    if (na != nb)
        return false;
    if (na == 0)
        return true;
    ba = k8c_malloc(na);
    bb = k8c_malloc(nb);
    protobuf_c_message_pack(a, ba);
    protobuf_c_message_pack(b, bb);
    eq = memcmp(ba, bb, na) == 0;
    k8c_free(ba);
    k8c_free(bb);
    return eq;
}

/* The value of key in a map field (entries of {key, char *value}), or NULL. */
static const str_entry_t *map_find(void *const *entries, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        const str_entry_t *e = entries[i];
        if (e != NULL && str_eq(e->key, key))
            return e;
    }
    return NULL;
}

/* ---- pod spec (pkg/apis/core/validation/validation.go) ------------------------------------- */

static const char *const port_protocols[] = {"SCTP", "TCP", "UDP", NULL};

#define PORT_RANGE_ERROR "must be between 1 and 65535, inclusive"

/* IsValidPortNum as Invalid errors at child */
static void port_num(struct vctx *v, const char *child, int64_t port)
{
    if (port < 1 || port > 65535)
        invalid_int(v, child, port, PORT_RANGE_ERROR);
}

/* ValidatePortNumOrName */
static void port_num_or_name(struct vctx *v, const char *child, const intstr_t *p)
{
    int64_t type = p != NULL && p->has_type ? p->type : 0;
    const char *msgs[MAX_MSGS];

    if (type == 0) {
        port_num(v, child, p != NULL && p->has_intval ? p->intval : 0);
    } else {
        const char *name = p->strval != NULL ? p->strval : "";
        invalid_msgs(v, child, name, msgs, port_name_msgs(name, msgs));
    }
}

/*
 * A set of names (borrowed strings) in insertion order. Membership is a scan while the set is
 * small and a hash lookup past that: uniqueness checks run over every container, port or key
 * of an object, so a body of many thousands of them must not cost their square.
 */
struct name_set {
    const char **names;
    size_t n, cap;
    uint32_t *slots; /* open addressing: index + 1 into names, 0 = empty; NULL while small */
    size_t mask;
};

#define NAME_SET_SCAN 16 /* up to this many names, no index */

static uint32_t name_hash(const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static void name_set_index(struct name_set *s, size_t i)
{
    size_t j = name_hash(s->names[i]) & s->mask;
    while (s->slots[j] != 0)
        j = (j + 1) & s->mask;
    s->slots[j] = (uint32_t)(i + 1);
}

static void name_set_add(struct name_set *s, const char *name)
{
    if (s->n == s->cap) {
        s->cap = s->cap == 0 ? 8 : s->cap * 2;
        s->names = k8c_realloc(s->names, s->cap * sizeof(*s->names));
    }
    s->names[s->n++] = str_or_empty(name);
    if (s->n <= NAME_SET_SCAN)
        return;
    if (s->slots == NULL || 2 * s->n > s->mask + 1) { /* (re)build at most half full */
        size_t size = 64;
        while (size < 4 * s->n)
            size *= 2;
        k8c_free(s->slots);
        s->slots = k8c_calloc(size, sizeof(*s->slots));
        s->mask = size - 1;
        for (size_t i = 0; i < s->n; i++)
            name_set_index(s, i);
    } else {
        name_set_index(s, s->n - 1);
    }
}

/* The index of the first name equal to name (in insertion order), or SIZE_MAX. */
static size_t name_set_find(const struct name_set *s, const char *name)
{
    size_t found = SIZE_MAX;
    name = str_or_empty(name);
    if (s->slots == NULL) {
        for (size_t i = 0; i < s->n && found == SIZE_MAX; i++)
            if (strcmp(s->names[i], name) == 0)
                found = i;
        return found;
    }
    for (size_t j = name_hash(name) & s->mask; s->slots[j] != 0; j = (j + 1) & s->mask)
        if (s->slots[j] - 1 < found && strcmp(s->names[s->slots[j] - 1], name) == 0)
            found = s->slots[j] - 1;
    return found;
}

static bool name_set_has(const struct name_set *s, const char *name)
{
    return name_set_find(s, name) != SIZE_MAX;
}

static void name_set_free(struct name_set *s)
{
    k8c_free(s->names);
    k8c_free(s->slots);
    *s = (struct name_set){0};
}

/* validatePathNoBacksteps */
static void path_no_backsteps(struct vctx *v, const char *child, const char *path)
{
    const char *s = str_or_empty(path);

    for (const char *p = s;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            invalid_str(v, child, s, "must not contain '..'");
            return;
        }
        if (slash == NULL)
            return;
        p = slash + 1;
    }
}

/* validateVolumeSource: exactly one source; a few sources' required fields. */
static void validate_volume_source(struct vctx *v, const K8s__Io__Api__Core__V1__VolumeSource *vs)
{
    const ProtobufCMessageDescriptor *d = &k8s__io__api__core__v1__volume_source__descriptor;
    size_t n = 0;

    for (unsigned i = 0; vs != NULL && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const ProtobufCMessage *src;
        size_t old;

        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
            continue;
        src = *(const ProtobufCMessage *const *)((const char *)vs + f->offset);
        if (src == NULL)
            continue;
        if (n++ > 0) {
            forbidden(v, f->name, "may not specify more than 1 volume type");
            continue;
        }
        old = path_child(v, f->name);
        if (vs->hostpath != NULL && src == &vs->hostpath->base) {
            if (str_empty(vs->hostpath->path))
                required(v, "path", NULL);
            else
                path_no_backsteps(v, "path", vs->hostpath->path);
        } else if (vs->secret != NULL && src == &vs->secret->base) {
            if (str_empty(vs->secret->secretname))
                required(v, "secretName", NULL);
        } else if (vs->configmap != NULL && src == &vs->configmap->base) {
            if (vs->configmap->localobjectreference == NULL ||
                str_empty(vs->configmap->localobjectreference->name))
                required(v, "name", NULL);
        } else if (vs->persistentvolumeclaim != NULL && src == &vs->persistentvolumeclaim->base) {
            if (str_empty(vs->persistentvolumeclaim->claimname))
                required(v, "claimName", NULL);
        }
        path_pop(v, old);
    }
    if (n == 0)
        required(v, NULL, "must specify a volume type");
}

/* ValidateVolumes at "volumes"; the names of the volumes without errors go into vols. */
static void validate_volumes(struct vctx *v, volume_t *const *volumes, size_t n,
                             struct name_set *vols)
{
    size_t old = path_child(v, "volumes");

    for (size_t i = 0; i < n; i++) {
        const volume_t *vol = volumes[i];
        size_t before = v->errs->n, old_i = path_index(v, i);
        const char *name = vol != NULL ? str_or_empty(vol->name) : "";

        validate_volume_source(v, vol != NULL ? vol->volumesource : NULL);
        if (name[0] == '\0')
            required(v, "name", NULL);
        else
            dns1123_label(v, "name", name);
        if (name_set_has(vols, name))
            duplicate_str(v, "name", name);
        if (v->errs->n == before)
            name_set_add(vols, name);
        path_pop(v, old_i);
    }
    path_pop(v, old);
}

/* validateContainerPorts at "ports" */
static void validate_container_ports(struct vctx *v, container_port_t *const *ports, size_t n)
{
    size_t old = path_child(v, "ports");
    struct name_set names = {0};
    const char *msgs[MAX_MSGS];

    for (size_t i = 0; i < n; i++) {
        const container_port_t *p = ports[i];
        size_t old_i = path_index(v, i);
        int32_t cport = p->has_containerport ? p->containerport : 0;
        int32_t hport = p->has_hostport ? p->hostport : 0;

        if (!str_empty(p->name)) {
            size_t nm = port_name_msgs(p->name, msgs);
            if (nm > 0)
                invalid_msgs(v, "name", p->name, msgs, nm);
            else if (name_set_has(&names, p->name))
                duplicate_str(v, "name", p->name);
            else
                name_set_add(&names, p->name);
        }
        if (cport == 0)
            required(v, "containerPort", NULL);
        else
            port_num(v, "containerPort", cport);
        if (hport != 0)
            port_num(v, "hostPort", hport);
        if (str_empty(p->protocol))
            required(v, "protocol", NULL);
        else if (!one_of(p->protocol, port_protocols))
            not_supported(v, "protocol", p->protocol, port_protocols);
        path_pop(v, old_i);
    }
    name_set_free(&names);
    path_pop(v, old);
}

/* ValidateEnv at "env" (RelaxedEnvironmentVariableValidation, on by default in 1.32) */
static void validate_env(struct vctx *v, env_var_t *const *env, size_t n)
{
    size_t old = path_child(v, "env");

    for (size_t i = 0; i < n; i++) {
        const env_var_t *e = env[i];
        size_t old_i = path_index(v, i);

        if (str_empty(e->name)) {
            required(v, "name", NULL);
        } else {
            for (const unsigned char *p = (const unsigned char *)e->name; *p; p++) {
                if (*p < 0x20 || *p > 0x7e || *p == '=') {
                    invalid_str(v, "name", e->name,
                                "a valid environment variable name must consist only of "
                                "printable ASCII characters other than '='");
                    break;
                }
            }
        }
        if (e->valuefrom != NULL) {
            const K8s__Io__Api__Core__V1__EnvVarSource *f = e->valuefrom;
            int sources = (f->fieldref != NULL) + (f->resourcefieldref != NULL) +
                          (f->configmapkeyref != NULL) + (f->secretkeyref != NULL);
            if (sources == 0)
                invalid_str(v, "valueFrom", "",
                            "must specify one of: `fieldRef`, `resourceFieldRef`, "
                            "`configMapKeyRef` or `secretKeyRef`");
            else if (!str_empty(e->value))
                invalid_str(v, "valueFrom", "", "may not be specified when `value` is not empty");
            else if (sources > 1)
                invalid_str(v, "valueFrom", "",
                            "may not have more than one field specified at a time");
        }
        path_pop(v, old_i);
    }
    path_pop(v, old);
}

/* ValidateVolumeMounts at "volumeMounts" */
static void validate_volume_mounts(struct vctx *v, volume_mount_t *const *mounts, size_t n,
                                   const struct name_set *vols)
{
    size_t old = path_child(v, "volumeMounts");
    struct name_set points = {0};

    for (size_t i = 0; i < n; i++) {
        const volume_mount_t *m = mounts[i];
        size_t old_i = path_index(v, i);

        if (str_empty(m->name))
            required(v, "name", NULL);
        if (!name_set_has(vols, m->name))
            not_found_str(v, "name", str_or_empty(m->name));
        if (str_empty(m->mountpath))
            required(v, "mountPath", NULL);
        if (name_set_has(&points, m->mountpath))
            invalid_str(v, "mountPath", m->mountpath, "must be unique");
        name_set_add(&points, m->mountpath);
        path_pop(v, old_i);
        if (!str_empty(m->subpath)) {
            /* upstream reports these at volumeMounts.subPath, without the index */
            if (m->subpath[0] == '/')
                invalid_str(v, "subPath", m->subpath, "must be a relative path");
            path_no_backsteps(v, "subPath", m->subpath);
        }
    }
    name_set_free(&points);
    path_pop(v, old);
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(str_or_empty(s), prefix, strlen(prefix)) == 0;
}

static bool resource_is_native(const char *name)
{
    return strchr(name, '/') == NULL || strstr(name, "kubernetes.io/") != NULL;
}

static bool resource_overcommit_allowed(const char *name)
{
    return resource_is_native(name) && !has_prefix(name, "hugepages-");
}

static const char *const standard_resources[] = {"cpu",
                                                 "memory",
                                                 "ephemeral-storage",
                                                 "requests.cpu",
                                                 "requests.memory",
                                                 "requests.ephemeral-storage",
                                                 "limits.cpu",
                                                 "limits.memory",
                                                 "limits.ephemeral-storage",
                                                 "pods",
                                                 "resourcequotas",
                                                 "services",
                                                 "replicationcontrollers",
                                                 "secrets",
                                                 "persistentvolumeclaims",
                                                 "configmaps",
                                                 "services.nodeports",
                                                 "services.loadbalancers",
                                                 "requests.storage",
                                                 "storage",
                                                 NULL};

/* Invalid with a core.ResourceName value: it has String(), so upstream prints it bare */
static void invalid_resource(struct vctx *v, const char *child, const char *name,
                             const char *detail)
{
    k8c_sbuf_puts(val_begin(v), name);
    invalid_val(v, child, detail);
}

/* helper.IsStandardResourceName, or with quota true IsStandardQuotaResourceName (no "storage") */
static bool standard_resource(const char *name, bool quota)
{
    if (quota && strcmp(name, "storage") == 0)
        return false;
    return one_of(name, standard_resources) || has_prefix(name, "hugepages-") ||
           has_prefix(name, "requests.hugepages-");
}

/* validateResourceName at the current path: false when the name is not a qualified name */
static bool resource_name(struct vctx *v, const char *name)
{
    const char *msgs[MAX_MSGS];
    size_t n = qualified_name_msgs(name, msgs);

    for (size_t i = 0; i < n; i++)
        invalid_resource(v, NULL, name, msgs[i]);
    if (n > 0)
        return false;
    if (strchr(name, '/') == NULL && !standard_resource(name, false))
        invalid_resource(v, NULL, name, "must be a standard resource type or fully qualified");
    return true;
}

/* IsExtendedResourceName: not native, not "requests.", and "requests."+name qualified */
static bool extended_resource(const char *name)
{
    const char *msgs[MAX_MSGS];
    if (resource_is_native(name) || has_prefix(name, "requests."))
        return false;
    char *quota = k8c_malloc(strlen(name) + sizeof("requests."));
    strcpy(quota, "requests.");
    strcat(quota, name);
    bool ok = qualified_name_msgs(quota, msgs) == 0;
    k8c_free(quota);
    return ok;
}

/* validateContainerResourceName (validateResourceName first) at the current path */
static void container_resource_name(struct vctx *v, const char *name)
{
    if (!resource_name(v, name))
        return;
    if (strchr(name, '/') == NULL) {
        if (strcmp(name, "cpu") != 0 && strcmp(name, "memory") != 0 &&
            strcmp(name, "ephemeral-storage") != 0 && !has_prefix(name, "hugepages-"))
            invalid_resource(v, NULL, name, "must be a standard resource for containers");
    } else if (!resource_is_native(name) && !extended_resource(name)) {
        invalid_resource(v, NULL, name, "doesn't follow extended resource name standard");
    }
}

/* A quantity entry's value parsed; false when it does not parse (the codec rejects those). */
static bool entry_quantity(const quantity_entry_t *e, struct k8c_quantity *q, char *canon)
{
    const char *s = e != NULL && e->value != NULL ? str_or_empty(e->value->string) : "";

    if (k8c_quantity_parse(s, strlen(s), q) != 0)
        return false;
    k8c_quantity_format(q, canon);
    return true;
}

/* ValidateResourceRequirements at "resources" */
static void validate_resources_at(struct vctx *v, const resources_t *r);

/* ValidateContainerResourceRequirements at "resources" */
static void validate_resources(struct vctx *v, const resources_t *r)
{
    size_t old = path_child(v, "resources");
    validate_resources_at(v, r);
    path_pop(v, old);
}

/* ValidateContainerResourceRequirements at the current path */
static void validate_resources_at(struct vctx *v, const resources_t *r)
{
    void **lims, **reqs;
    struct k8c_quantity q, lq;
    char canon[K8C_QUANTITY_STR_MAX], lcanon[K8C_QUANTITY_STR_MAX], detail[256];

    if (r == NULL)
        return;
    lims = sorted_entries((void *const *)r->limits, r->n_limits);
    reqs = sorted_entries((void *const *)r->requests, r->n_requests);
    for (size_t i = 0; i < r->n_limits; i++) {
        const quantity_entry_t *e = lims[i];
        size_t o = path_child(v, "limits");
        path_key(v, e->key);
        container_resource_name(v, str_or_empty(e->key));
        if (entry_quantity(e, &q, canon) && q.nano < 0)
            invalid_str(v, NULL, canon, "must be greater than or equal to 0");
        path_pop(v, o);
    }
    for (size_t i = 0; i < r->n_requests; i++) {
        const quantity_entry_t *e = reqs[i];
        const quantity_entry_t *lim =
            (const quantity_entry_t *)map_find((void *const *)r->limits, r->n_limits, e->key);
        const char *name = str_or_empty(e->key);
        bool ok;
        size_t o = path_child(v, "requests");

        path_key(v, name);
        container_resource_name(v, name);
        ok = entry_quantity(e, &q, canon);
        if (ok && q.nano < 0)
            invalid_str(v, NULL, canon, "must be greater than or equal to 0");
        path_pop(v, o);
        if (lim != NULL) {
            if (ok && entry_quantity(lim, &lq, lcanon)) {
                int c = k8c_quantity_cmp(&q, &lq);
                if (c != 0 && !resource_overcommit_allowed(name)) {
                    snprintf(detail, sizeof(detail), "must be equal to %s limit of %s", name,
                             lcanon);
                    invalid_str(v, "requests", canon, detail);
                } else if (c > 0) {
                    snprintf(detail, sizeof(detail), "must be less than or equal to %s limit of %s",
                             name, lcanon);
                    invalid_str(v, "requests", canon, detail);
                }
            }
        } else if (!resource_overcommit_allowed(name)) {
            required(v, "limits", "Limit must be set for non overcommitable resources");
        }
    }
    k8c_free(lims);
    k8c_free(reqs);
}

/* validateHTTPGetAction */
static void validate_http_get(struct vctx *v, const http_get_t *h)
{
    static const char *const schemes[] = {"HTTP", "HTTPS", NULL};

    if (str_empty(h->path))
        required(v, "path", NULL);
    port_num_or_name(v, "port", h->port);
    if (!one_of(h->scheme, schemes))
        not_supported(v, "scheme", str_or_empty(h->scheme), schemes);
}

/* validateHandler: exactly one handler of the kinds given (the others NULL) */
static void validate_handler(struct vctx *v, const exec_action_t *exec, const http_get_t *http,
                             const tcp_socket_t *tcp, const grpc_action_t *grpc,
                             const sleep_action_t *sleep)
{
    static const char more[] = "may not specify more than 1 handler type";
    int n = 0;

    if (exec != NULL) {
        n++;
        if (exec->n_command == 0)
            required(v, "exec.command", NULL);
    }
    if (http != NULL) {
        if (n++ > 0) {
            forbidden(v, "httpGet", more);
        } else {
            size_t old = path_child(v, "httpGet");
            validate_http_get(v, http);
            path_pop(v, old);
        }
    }
    if (tcp != NULL) {
        if (n++ > 0)
            forbidden(v, "tcpSocket", more);
        else
            port_num_or_name(v, "tcpSocket.port", tcp->port);
    }
    if (grpc != NULL) {
        if (n++ > 0)
            forbidden(v, "grpc", more);
        else
            port_num(v, "grpc.port", grpc->has_port ? grpc->port : 0);
    }
    if (sleep != NULL) {
        if (n++ > 0)
            forbidden(v, "sleep", more);
    }
    if (n == 0)
        required(v, NULL, "must specify a handler type");
}

enum probe_kind { PROBE_LIVENESS, PROBE_READINESS, PROBE_STARTUP };

/* validateLivenessProbe / validateReadinessProbe / validateStartupProbe at child */
static void validate_probe(struct vctx *v, const char *child, const probe_t *p,
                           enum probe_kind kind)
{
    size_t old;
    const K8s__Io__Api__Core__V1__ProbeHandler *h;

    if (p == NULL)
        return;
    old = path_child(v, child);
    h = p->handler;
    validate_handler(v, h != NULL ? h->exec : NULL, h != NULL ? h->httpget : NULL,
                     h != NULL ? h->tcpsocket : NULL, h != NULL ? h->grpc : NULL, NULL);
    nonnegative(v, "initialDelaySeconds", p->initialdelayseconds);
    nonnegative(v, "timeoutSeconds", p->timeoutseconds);
    nonnegative(v, "periodSeconds", p->periodseconds);
    nonnegative(v, "successThreshold", p->successthreshold);
    nonnegative(v, "failureThreshold", p->failurethreshold);
    if (p->has_terminationgraceperiodseconds && p->terminationgraceperiodseconds <= 0)
        invalid_int(v, "terminationGracePeriodSeconds", p->terminationgraceperiodseconds,
                    "must be greater than 0");
    if (kind == PROBE_READINESS) {
        if (p->has_terminationgraceperiodseconds)
            invalid_int(v, "terminationGracePeriodSeconds", p->terminationgraceperiodseconds,
                        "must not be set for readinessProbes");
    } else if ((p->has_successthreshold ? p->successthreshold : 0) != 1) {
        invalid_int(v, "successThreshold", p->has_successthreshold ? p->successthreshold : 0,
                    "must be 1");
    }
    path_pop(v, old);
}

static void validate_lifecycle(struct vctx *v, const K8s__Io__Api__Core__V1__Lifecycle *l)
{
    const K8s__Io__Api__Core__V1__LifecycleHandler *hs[2] = {l->poststart, l->prestop};
    static const char *const names[2] = {"postStart", "preStop"};
    size_t old = path_child(v, "lifecycle");

    for (int i = 0; i < 2; i++) {
        size_t o;
        if (hs[i] == NULL)
            continue;
        o = path_child(v, names[i]);
        validate_handler(v, hs[i]->exec, hs[i]->httpget, hs[i]->tcpsocket, NULL, hs[i]->sleep);
        path_pop(v, o);
    }
    path_pop(v, old);
}

/* validateContainerCommon at the container's path */
/* Whether the field of m with this (proto = JSON) name is set: a present optional scalar, a
 * non-NULL message or string, a non-empty list. */
static bool field_set(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        m != NULL ? protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name) : NULL;
    const char *base = (const char *)m;

    if (f == NULL)
        return false;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(base + f->quantifier_offset) > 0;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
        return *(void *const *)(base + f->offset) != NULL;
    return f->quantifier_offset != 0 && *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

/* A string field by its name (NULL when unset). */
static const char *msg_str(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        m != NULL ? protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name) : NULL;
    if (f == NULL || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return *(char *const *)((const char *)m + f->offset);
}

/* Forbidden(detail) at each of the named children of the current path that m sets */
static void forbid_set(struct vctx *v, const ProtobufCMessage *m, const char *const *names,
                       const char *detail)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if (field_set(m, names[i]))
            forbidden(v, names[i], detail);
}

/* ---- security contexts -------------------------------------------------------------------- */

typedef K8s__Io__Api__Core__V1__SecurityContext security_context_t;
typedef K8s__Io__Api__Core__V1__PodSecurityContext pod_security_context_t;
typedef K8s__Io__Api__Core__V1__SeccompProfile seccomp_profile_t;
typedef K8s__Io__Api__Core__V1__AppArmorProfile apparmor_profile_t;

/* kube-apiserver's --allow-privileged (capabilities.AllowPrivileged); false by default there */
static bool allow_privileged;

void api_validate_set_allow_privileged(bool allow)
{
    allow_privileged = allow;
}

#define ID_RANGE_MSG "must be between 0 and 2147483647, inclusive"

/* IsValidUserID / IsValidGroupID at child, when set */
static void valid_id(struct vctx *v, const char *child, bool has, int64_t id)
{
    if (has && (id < 0 || id > INT32_MAX))
        invalid_int(v, child, id, ID_RANGE_MSG);
}

/* validateLocalDescendingPath at child */
static void local_descending_path(struct vctx *v, const char *child, const char *p)
{
    if (p[0] == '/')
        invalid_str(v, child, p, "must be a relative path");
    path_no_backsteps(v, child, p);
}

/* A pointer field of a struct that upstream prints with %#v: Go prints the address, which no
 * client can rely on; here the pointee's value stands in its place. */
static void go_ptr_str(struct k8c_sbuf *sb, const char *name, const char *type, const char *s)
{
    k8c_sbuf_printf(sb, "%s:(*%s)(", name, type);
    if (s != NULL)
        goq(sb, s);
    else
        k8c_sbuf_puts(sb, "nil");
    k8c_sbuf_putc(sb, ')');
}

static void go_ptr_bool(struct k8c_sbuf *sb, const char *name, bool has, bool b)
{
    k8c_sbuf_printf(sb, ", %s:(*bool)(%s)", name, has ? (b ? "true" : "false") : "nil");
}

static void go_ptr_int(struct k8c_sbuf *sb, const char *name, bool has, int64_t x)
{
    if (has)
        k8c_sbuf_printf(sb, ", %s:(*int64)(%lld)", name, (long long)x);
    else
        k8c_sbuf_printf(sb, ", %s:(*int64)(nil)", name);
}

static void go_ptr_msg(struct k8c_sbuf *sb, const char *name, const char *type, const void *m)
{
    k8c_sbuf_printf(sb, ", %s:(*core.%s)(%s)", name, type, m != NULL ? "&{...}" : "nil");
}

/* %#v of a core.SeccompProfile (see go_ptr_str) */
static void go_seccomp_profile(struct k8c_sbuf *sb, const seccomp_profile_t *sp)
{
    k8c_sbuf_puts(sb, "core.SeccompProfile{Type:");
    goq(sb, sp->type);
    k8c_sbuf_puts(sb, ", ");
    go_ptr_str(sb, "LocalhostProfile", "string", sp->localhostprofile);
    k8c_sbuf_putc(sb, '}');
}

/* %#v of a core.SecurityContext (see go_ptr_str) */
static void go_security_context(struct k8c_sbuf *sb, const security_context_t *sc)
{
    k8c_sbuf_puts(sb, "core.SecurityContext{");
    k8c_sbuf_printf(sb, "Capabilities:(*core.Capabilities)(%s)",
                    sc->capabilities != NULL ? "&{...}" : "nil");
    go_ptr_bool(sb, "Privileged", sc->has_privileged, sc->privileged);
    go_ptr_msg(sb, "SELinuxOptions", "SELinuxOptions", sc->selinuxoptions);
    go_ptr_msg(sb, "WindowsOptions", "WindowsSecurityContextOptions", sc->windowsoptions);
    go_ptr_int(sb, "RunAsUser", sc->has_runasuser, sc->runasuser);
    go_ptr_int(sb, "RunAsGroup", sc->has_runasgroup, sc->runasgroup);
    go_ptr_bool(sb, "RunAsNonRoot", sc->has_runasnonroot, sc->runasnonroot);
    go_ptr_bool(sb, "ReadOnlyRootFilesystem", sc->has_readonlyrootfilesystem,
                sc->readonlyrootfilesystem);
    go_ptr_bool(sb, "AllowPrivilegeEscalation", sc->has_allowprivilegeescalation,
                sc->allowprivilegeescalation);
    k8c_sbuf_puts(sb, ", ");
    go_ptr_str(sb, "ProcMount", "core.ProcMountType", sc->procmount);
    go_ptr_msg(sb, "SeccompProfile", "SeccompProfile", sc->seccompprofile);
    go_ptr_msg(sb, "AppArmorProfile", "AppArmorProfile", sc->apparmorprofile);
    k8c_sbuf_putc(sb, '}');
}

/* validateSeccompProfileField at child */
static void seccomp_profile_field(struct vctx *v, const char *child, const seccomp_profile_t *sp)
{
    static const char *const types[] = {"Localhost", "RuntimeDefault", "Unconfined", NULL};
    size_t at;

    if (sp == NULL)
        return;
    at = path_child(v, child);
    if (str_empty(sp->type))
        required(v, "type", "type is required when seccompProfile is set");
    else if (!one_of(sp->type, types))
        not_supported(v, "type", sp->type, types);
    if (str_eq(sp->type, "Localhost")) {
        if (sp->localhostprofile == NULL)
            required(v, "localhostProfile", "must be set when seccomp type is Localhost");
        else
            local_descending_path(v, "localhostProfile", sp->localhostprofile);
    } else if (sp->localhostprofile != NULL) {
        go_seccomp_profile(val_begin(v), sp);
        invalid_val(v, "localhostProfile", "can only be set when seccomp type is Localhost");
    }
    path_pop(v, at);
}

/* ValidateAppArmorProfileField at child */
static void apparmor_profile_field(struct vctx *v, const char *child, const apparmor_profile_t *p)
{
    static const char *const types[] = {"Localhost", "RuntimeDefault", "Unconfined", NULL};
    static const char need[] = "must be set when AppArmor type is Localhost";
    size_t at;

    if (p == NULL)
        return;
    at = path_child(v, child);
    if (str_eq(p->type, "Localhost")) {
        const char *lp = p->localhostprofile;
        if (lp == NULL) {
            required(v, "localhostProfile", need);
        } else {
            size_t len = strlen(lp);
            bool padded = len > 0 && (strchr(" \t\n\v\f\r", lp[0]) != NULL ||
                                      strchr(" \t\n\v\f\r", lp[len - 1]) != NULL);
            if (padded)
                invalid_str(v, "localhostProfile", lp, "must not be padded with whitespace");
            else if (len == 0)
                required(v, "localhostProfile", need);
            if (len > 4095)
                too_long(v, "localhostProfile", 4095);
        }
    } else if (str_eq(p->type, "RuntimeDefault") || str_eq(p->type, "Unconfined")) {
        if (p->localhostprofile != NULL)
            invalid_str(v, "localhostProfile", p->localhostprofile,
                        "can only be set when AppArmor type is Localhost");
    } else if (str_empty(p->type)) {
        required(v, "type", "type is required when appArmorProfile is set");
    } else {
        not_supported(v, "type", p->type, types);
    }
    path_pop(v, at);
}

typedef K8s__Io__Api__Core__V1__WindowsSecurityContextOptions windows_options_t;

/* validNetBiosRegex: 1-15 bytes, none of \ / : * ? " < > |, not starting with '.' */
static bool netbios_domain_ok(const char *d, size_t n)
{
    if (n == 0 || n > 15 || d[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (strchr("\\/:*?\"<>|", d[i]) != NULL || d[i] == '\0')
            return false;
    return true;
}

/* dnsSubdomainFormat of the Windows checks: labels of [a-zA-Z0-9] and inner '-', 1-63 bytes,
 * joined by '.' */
static bool windows_dns_domain_ok(const char *d, size_t n)
{
    size_t start = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && d[i] != '.') {
            char c = d[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-'))
                return false;
            continue;
        }
        size_t len = i - start;
        if (len == 0 || len > 63 || d[start] == '-' || d[i - 1] == '-')
            return false;
        start = i + 1;
    }
    return true;
}

/* validateWindowsSecurityContextOptions at child */
static void windows_options(struct vctx *v, const char *child, const windows_options_t *w)
{
    const char *msgs[MAX_MSGS];
    size_t at;

    if (w == NULL)
        return;
    at = path_child(v, child);
    if (w->gmsacredentialspecname != NULL)
        invalid_msgs(v, "gmsaCredentialSpecName", w->gmsacredentialspecname, msgs,
                     dns1123_subdomain_msgs(w->gmsacredentialspecname, msgs));
    if (w->gmsacredentialspec != NULL) {
        size_t l = strlen(w->gmsacredentialspec);
        if (l == 0)
            invalid_str(v, "gmsaCredentialSpec", "",
                        "gmsaCredentialSpec cannot be an empty string");
        else if (l > 64 * 1024)
            invalid_str(v, "gmsaCredentialSpec", w->gmsacredentialspec,
                        "gmsaCredentialSpec size must be under 64 KiB");
    }
    if (w->runasusername != NULL) {
        const char *name = w->runasusername, *slash = strchr(name, '\\');
        bool ctrl = false;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
            ctrl = ctrl || *p < 0x20 || *p == 0x7f;
        if (name[0] == '\0') {
            invalid_str(v, "runAsUserName", name, "runAsUserName cannot be an empty string");
        } else if (ctrl) {
            invalid_str(v, "runAsUserName", name,
                        "runAsUserName cannot contain control characters");
        } else if (slash != NULL && strchr(slash + 1, '\\') != NULL) {
            invalid_str(v, "runAsUserName", name,
                        "runAsUserName cannot contain more than one backslash");
        } else {
            const char *user = slash != NULL ? slash + 1 : name;
            size_t dlen = slash != NULL ? (size_t)(slash - name) : 0, ulen = strlen(user);
            bool dots_spaces = ulen > 0;
            for (size_t i = 0; i < ulen; i++)
                dots_spaces = dots_spaces && (user[i] == '.' || user[i] == ' ');
            if (dlen >= 256)
                invalid_str(v, "runAsUserName", name,
                            "runAsUserName's Domain length must be under 256 characters");
            if (slash != NULL && !netbios_domain_ok(name, dlen) &&
                !windows_dns_domain_ok(name, dlen))
                invalid_str(v, "runAsUserName", name,
                            "runAsUserName's Domain doesn't match the NetBios nor the DNS format");
            if (ulen == 0)
                invalid_str(v, "runAsUserName", name, "runAsUserName's User cannot be empty");
            else if (ulen > 104)
                invalid_str(v, "runAsUserName", name,
                            "runAsUserName's User length must not be longer than 104 characters");
            if (dots_spaces)
                invalid_str(v, "runAsUserName", name,
                            "runAsUserName's User cannot contain only periods or spaces");
            if (strpbrk(user, "\"/\\:;|=,+*?<>@[]") != NULL)
                invalid_str(v, "runAsUserName", name,
                            "runAsUserName's User cannot contain the following characters: "
                            "\"/\\:;|=,+*?<>@[]");
        }
    }
    path_pop(v, at);
}

/*
 * ValidateSecurityContext at "securityContext" of a container: privileged only where the
 * server allows it, user and group IDs in range, the seccomp and AppArmor profiles, and no
 * allowPrivilegeEscalation=false beside privileged or CAP_SYS_ADMIN. (procMount needs the
 * ProcMountType gate, off in 1.32.)
 */
static void validate_security_context(struct vctx *v, const security_context_t *sc)
{
    size_t at;

    if (sc == NULL)
        return;
    at = path_child(v, "securityContext");
    if (sc->has_privileged && sc->privileged && !allow_privileged)
        forbidden(v, "privileged", "disallowed by cluster policy");
    valid_id(v, "runAsUser", sc->has_runasuser, sc->runasuser);
    valid_id(v, "runAsGroup", sc->has_runasgroup, sc->runasgroup);
    seccomp_profile_field(v, "seccompProfile", sc->seccompprofile);
    if (sc->has_allowprivilegeescalation && !sc->allowprivilegeescalation) {
        if (sc->has_privileged && sc->privileged) {
            go_security_context(val_begin(v), sc);
            invalid_val(v, NULL,
                        "cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
        }
        for (size_t i = 0; sc->capabilities != NULL && i < sc->capabilities->n_add; i++) {
            if (!str_eq(sc->capabilities->add[i], "CAP_SYS_ADMIN"))
                continue;
            go_security_context(val_begin(v), sc);
            invalid_val(v, NULL,
                        "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` "
                        "CAP_SYS_ADMIN");
        }
    }
    windows_options(v, "windowsOptions", sc->windowsoptions);
    apparmor_profile_field(v, "appArmorProfile", sc->apparmorprofile);
    path_pop(v, at);
}

/* IsValidSysctlName: at most 253 bytes of segments [a-z0-9]([-_a-z0-9]*[a-z0-9])? joined by
 * '.' or '/' */
static bool sysctl_name_ok(const char *name)
{
    size_t len = strlen(name);
    const char *seg = name;

    if (len == 0 || len > 253)
        return false;
    for (const char *p = name;; p++) {
        if (*p == '.' || *p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0 || seg[0] == '-' || seg[0] == '_' || seg[n - 1] == '-' || seg[n - 1] == '_')
                return false;
            if (*p == '\0')
                return true;
            seg = p + 1;
        } else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                     *p == '_')) {
            return false;
        }
    }
}

enum sysctl_ns { SYSCTL_NS_NONE, SYSCTL_NS_NET, SYSCTL_NS_IPC };

/* The kernel namespace a sysctl belongs to (component-helpers' GetNamespace): names written
 * with '/' separators are read with '.' ones, and a '*' ends the name. */
static enum sysctl_ns sysctl_namespace(const char *name)
{
    static const char *const ipc[] = {"kernel.sem",
                                      "kernel.shmall",
                                      "kernel.shmmax",
                                      "kernel.shmmni",
                                      "kernel.shm_rmid_forced",
                                      "kernel.msgmax",
                                      "kernel.msgmnb",
                                      "kernel.msgmni",
                                      "kernel.shm",
                                      "kernel.msg",
                                      NULL};
    char buf[256];
    size_t n = strcspn(name, "*");
    size_t first = strcspn(name, "./");

    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    memcpy(buf, name, n);
    buf[n] = '\0';
    if (first < n && name[first] == '/')
        for (char *p = buf; *p; p++)
            *p = *p == '/' ? '.' : *p == '.' ? '/' : *p;
    if (one_of(buf, ipc) || has_prefix(buf, "fs.mqueue."))
        return SYSCTL_NS_IPC;
    if (has_prefix(buf, "net."))
        return SYSCTL_NS_NET;
    return SYSCTL_NS_NONE;
}

/* Whether a pod spec has a namespaced sysctl that its host network or IPC forbids
 * (upstream's hasInvalidNamespacedSysctls of the old pod, which lets an update keep them) */
static bool host_sysctls_violated(const pod_spec_t *s)
{
    const pod_security_context_t *psc = s != NULL ? s->securitycontext : NULL;
    for (size_t i = 0; psc != NULL && i < psc->n_sysctls; i++) {
        enum sysctl_ns ns = sysctl_namespace(str_or_empty(psc->sysctls[i]->name));
        if ((ns == SYSCTL_NS_NET && s->hostnetwork) || (ns == SYSCTL_NS_IPC && s->hostipc))
            return true;
    }
    return false;
}

/* validateSysctls at "sysctls" */
static void validate_sysctls(struct vctx *v, const pod_security_context_t *psc, const pod_spec_t *s)
{
    struct name_set seen = {0};
    size_t at = path_child(v, "sysctls");

    for (size_t i = 0; i < psc->n_sysctls; i++) {
        const char *name = str_or_empty(psc->sysctls[i]->name);
        size_t at_i = path_index(v, i);

        if (name[0] == '\0')
            required(v, "name", NULL);
        else if (!sysctl_name_ok(name))
            invalid_str(v, "name", name,
                        "must have at most 253 characters and match regex "
                        "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$");
        else if (name_set_has(&seen, name))
            duplicate_str(v, "name", name);
        if (!name_set_has(&seen, name))
            name_set_add(&seen, name);
        if (!v->allow_host_sysctls) {
            enum sysctl_ns ns = sysctl_namespace(name);
            if (ns == SYSCTL_NS_NET && s->hostnetwork)
                invalid_str(v, "name", name, "may not be specified when 'hostNetwork' is true");
            if (ns == SYSCTL_NS_IPC && s->hostipc)
                invalid_str(v, "name", name, "may not be specified when 'hostIPC' is true");
        }
        path_pop(v, at_i);
    }
    name_set_free(&seen);
    path_pop(v, at);
}

/* validatePodSpecSecurityContext at "securityContext" of a pod spec (shareProcessNamespace,
 * which the internal type keeps here, is reported here too) */
static void validate_pod_security_context(struct vctx *v, const pod_spec_t *s)
{
    static const pod_security_context_t none = K8S__IO__API__CORE__V1__POD_SECURITY_CONTEXT__INIT;
    static const char *const fs_policies[] = {"OnRootMismatch", "Always", NULL};
    static const char *const fs_policies_sorted[] = {"Always", "OnRootMismatch", NULL};
    const pod_security_context_t *psc = s->securitycontext ? s->securitycontext : &none;
    size_t at = path_child(v, "securityContext");

    valid_id(v, "fsGroup", psc->has_fsgroup, psc->fsgroup);
    valid_id(v, "runAsUser", psc->has_runasuser, psc->runasuser);
    valid_id(v, "runAsGroup", psc->has_runasgroup, psc->runasgroup);
    for (size_t g = 0; g < psc->n_supplementalgroups; g++) {
        char child[48];
        snprintf(child, sizeof(child), "supplementalGroups[%zu]", g);
        valid_id(v, child, true, psc->supplementalgroups[g]);
    }
    if (s->has_shareprocessnamespace && s->shareprocessnamespace && s->hostpid) {
        k8c_sbuf_puts(val_begin(v), "true");
        invalid_val(v, "shareProcessNamespace",
                    "ShareProcessNamespace and HostPID cannot both be enabled");
    }
    if (psc->n_sysctls > 0)
        validate_sysctls(v, psc, s);
    if (psc->fsgroupchangepolicy != NULL && !one_of(psc->fsgroupchangepolicy, fs_policies))
        not_supported(v, "fsGroupChangePolicy", psc->fsgroupchangepolicy, fs_policies_sorted);
    seccomp_profile_field(v, "seccompProfile", psc->seccompprofile);
    windows_options(v, "windowsOptions", psc->windowsoptions);
    apparmor_profile_field(v, "appArmorProfile", psc->apparmorprofile);
    path_pop(v, at);
}

/* One container of a pod spec and its security context */
struct ctr_ref {
    const char *list; /* "initContainers", "containers", "ephemeralContainers" */
    size_t index;
    const char *name;
    const security_context_t *sc;
};

/* Visits the containers of s as upstream's VisitContainers(AllContainers): init, regular,
 * ephemeral. */
static void each_container(const pod_spec_t *s, void (*fn)(struct ctr_ref *, void *), void *arg)
{
    for (size_t i = 0; i < s->n_initcontainers; i++) {
        struct ctr_ref c = {"initContainers", i, s->initcontainers[i]->name,
                            s->initcontainers[i]->securitycontext};
        fn(&c, arg);
    }
    for (size_t i = 0; i < s->n_containers; i++) {
        struct ctr_ref c = {"containers", i, s->containers[i]->name,
                            s->containers[i]->securitycontext};
        fn(&c, arg);
    }
    for (size_t i = 0; i < s->n_ephemeralcontainers; i++) {
        const ephemeral_common_t *e = s->ephemeralcontainers[i]->ephemeralcontainercommon;
        struct ctr_ref c = {"ephemeralContainers", i, e != NULL ? e->name : NULL,
                            e != NULL ? e->securitycontext : NULL};
        fn(&c, arg);
    }
}

struct host_process {
    const windows_options_t *pod;
    size_t containers, host_process;
    struct vctx *v;
};

static void container_host_process(struct ctr_ref *c, void *arg)
{
    struct host_process *hp = arg;
    const windows_options_t *w = c->sc != NULL ? c->sc->windowsoptions : NULL;
    bool has = w != NULL && w->has_hostprocess,
         pod_has = hp->pod != NULL && hp->pod->has_hostprocess;

    hp->containers++;
    if (has && pod_has && w->hostprocess != hp->pod->hostprocess) {
        char detail[80];
        size_t at = path_child(hp->v, c->list);
        path_index(hp->v, c->index);
        snprintf(detail, sizeof(detail),
                 "pod hostProcess value must be identical if both are specified, was %s",
                 hp->pod->hostprocess ? "true" : "false");
        k8c_sbuf_puts(val_begin(hp->v), w->hostprocess ? "true" : "false");
        invalid_val(hp->v, "securityContext.windowsOptions.hostProcess", detail);
        path_pop(hp->v, at);
    }
    if (has ? w->hostprocess : pod_has && hp->pod->hostprocess)
        hp->host_process++;
}

/* validateWindowsHostProcessPod at the pod spec's path: hostProcess the same in the pod and
 * its containers, and then in all of them, with the host's network, where privileged
 * containers are allowed */
static void windows_host_process(struct vctx *v, const pod_spec_t *s)
{
    struct host_process hp = {
        s->securitycontext != NULL ? s->securitycontext->windowsoptions : NULL, 0, 0, v};

    each_container(s, container_host_process, &hp);
    if (hp.host_process == 0)
        return;
    if (hp.host_process != hp.containers)
        invalid_str(v, NULL, "",
                    "If pod contains any hostProcess containers then all containers must be "
                    "HostProcess containers");
    if (!s->hostnetwork) {
        k8c_sbuf_puts(val_begin(v), "false");
        invalid_val(v, "hostNetwork",
                    "hostNetwork must be true if pod contains any hostProcess containers");
    }
    if (!allow_privileged)
        forbidden(v, NULL, "hostProcess containers are disallowed by cluster policy");
}

static void container_linux(struct ctr_ref *c, void *arg)
{
    struct vctx *v = arg;
    if (c->sc != NULL && c->sc->windowsoptions != NULL) {
        size_t at = path_child(v, c->list);
        path_index(v, c->index);
        forbidden(v, "securityContext.windowsOptions",
                  "windows options cannot be set for a linux pod");
        path_pop(v, at);
    }
}

static void container_windows(struct ctr_ref *c, void *arg)
{
    static const char no[] = "cannot be set for a windows pod";
    static const char *const fields[] = {"appArmorProfile",
                                         "seLinuxOptions",
                                         "seccompProfile",
                                         "capabilities",
                                         "readOnlyRootFilesystem",
                                         "privileged",
                                         "allowPrivilegeEscalation",
                                         "procMount",
                                         "runAsUser",
                                         "runAsGroup",
                                         NULL};
    struct vctx *v = arg;
    const security_context_t *sc = c->sc;
    size_t at;

    if (sc == NULL)
        return;
    at = path_child(v, c->list);
    path_index(v, c->index);
    path_child(v, "securityContext");
    forbid_set(v, &sc->base, fields, no);
    path_pop(v, at);
}

/* validateOS, then validateLinux or validateWindows, at the pod spec's path: a pod for one OS
 * sets none of the other's fields */
static void validate_pod_os(struct vctx *v, const pod_spec_t *s)
{
    static const char *const oses[] = {"linux", "windows", NULL};
    static const char no[] = "cannot be set for a windows pod";
    static const char *const psc_fields_1[] = {"appArmorProfile", "seLinuxOptions", NULL};
    static const char *const psc_fields_2[] = {"seccompProfile", "fsGroup", "fsGroupChangePolicy",
                                               "sysctls", NULL};
    static const char *const psc_fields_3[] = {"runAsUser",           "runAsGroup",
                                               "supplementalGroups",  "supplementalGroupsPolicy",
                                               "seLinuxChangePolicy", NULL};
    const pod_security_context_t *psc = s->securitycontext;

    if (s->os == NULL)
        return;
    if (str_empty(s->os->name)) {
        required(v, "os.name", "cannot be empty");
        return;
    }
    if (!one_of(s->os->name, oses)) {
        not_supported(v, "os", s->os->name, oses);
        return;
    }
    if (strcmp(s->os->name, "linux") == 0) {
        if (psc != NULL && psc->windowsoptions != NULL)
            forbidden(v, "securityContext.windowsOptions",
                      "windows options cannot be set for a linux pod");
        each_container(s, container_linux, v);
        return;
    }
    /* in upstream's order: the pod security context's fields, and the host namespaces (when
     * true) and process sharing (when set) the v1 pod spec keeps outside it */
    size_t at = path_child(v, "securityContext");
    forbid_set(v, psc != NULL ? &psc->base : NULL, psc_fields_1, no);
    path_pop(v, at);
    if (s->hostpid)
        forbidden(v, "hostPID", no);
    if (s->hostipc)
        forbidden(v, "hostIPC", no);
    at = path_child(v, "securityContext");
    forbid_set(v, psc != NULL ? &psc->base : NULL, psc_fields_2, no);
    path_pop(v, at);
    if (s->has_shareprocessnamespace)
        forbidden(v, "shareProcessNamespace", no);
    at = path_child(v, "securityContext");
    forbid_set(v, psc != NULL ? &psc->base : NULL, psc_fields_3, no);
    path_pop(v, at);
    each_container(s, container_windows, v);
}

static void validate_container_common(struct vctx *v, const container_t *c,
                                      const struct name_set *vols)
{
    static const char *const tm_policies[] = {"File", "FallbackToLogsOnError", NULL};
    static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};

    if (str_empty(c->name))
        required(v, "name", NULL);
    else
        dns1123_label(v, "name", c->name);
    if (str_empty(c->image))
        required(v, "image", NULL);
    if (str_empty(c->terminationmessagepolicy))
        required(v, "terminationMessagePolicy", NULL);
    else if (!one_of(c->terminationmessagepolicy, tm_policies))
        not_supported(v, "terminationMessagePolicy", c->terminationmessagepolicy, tm_policies);
    validate_container_ports(v, c->ports, c->n_ports);
    validate_env(v, c->env, c->n_env);
    validate_volume_mounts(v, c->volumemounts, c->n_volumemounts, vols);
    if (str_empty(c->imagepullpolicy))
        required(v, "imagePullPolicy", NULL);
    else if (!one_of(c->imagepullpolicy, pull_policies))
        not_supported(v, "imagePullPolicy", c->imagepullpolicy, pull_policies);
    validate_resources(v, c->resources);
    validate_security_context(v, c->securitycontext);
}

/* AccumulateUniqueHostPorts over containers at the current path ("containers") */
static void host_port_conflicts(struct vctx *v, container_t *const *cs, size_t n,
                                struct name_set *seen, char ***owned, size_t *n_owned)
{
    for (size_t ci = 0; ci < n; ci++) {
        const container_t *c = cs[ci];
        for (size_t pi = 0; pi < c->n_ports; pi++) {
            const container_port_t *p = c->ports[pi];
            struct k8c_sbuf key;
            size_t old;

            if (!p->has_hostport || p->hostport == 0)
                continue;
            k8c_sbuf_init(&key);
            k8c_sbuf_printf(&key, "%s/%s/%d", str_or_empty(p->hostip), str_or_empty(p->protocol),
                            p->hostport);
            if (name_set_has(seen, key.data)) {
                old = path_index(v, ci);
                path_child(v, "ports");
                path_index(v, pi);
                duplicate_str(v, "hostPort", key.data);
                path_pop(v, old);
                k8c_sbuf_free(&key);
                continue;
            }
            *owned = k8c_realloc(*owned, (*n_owned + 1) * sizeof(**owned));
            (*owned)[(*n_owned)++] = k8c_sbuf_detach(&key);
            name_set_add(seen, (*owned)[*n_owned - 1]);
        }
    }
}

static void check_host_port_conflicts(struct vctx *v, container_t *const *cs, size_t n)
{
    struct name_set seen = {0};
    char **owned = NULL;
    size_t n_owned = 0;

    host_port_conflicts(v, cs, n, &seen, &owned, &n_owned);
    for (size_t i = 0; i < n_owned; i++)
        k8c_free(owned[i]);
    k8c_free(owned);
    name_set_free(&seen);
}

/* validateContainers at "containers" */
static void validate_containers(struct vctx *v, container_t *const *cs, size_t n,
                                const struct name_set *vols)
{
    size_t old = path_child(v, "containers");
    struct name_set names = {0};

    if (n == 0) {
        required(v, NULL, NULL);
        path_pop(v, old);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const container_t *c = cs[i];
        size_t old_i = path_index(v, i);

        validate_container_common(v, c, vols);
        if (name_set_has(&names, c->name))
            duplicate_str(v, "name", str_or_empty(c->name));
        else
            name_set_add(&names, c->name);
        if (c->lifecycle != NULL)
            validate_lifecycle(v, c->lifecycle);
        validate_probe(v, "livenessProbe", c->livenessprobe, PROBE_LIVENESS);
        validate_probe(v, "readinessProbe", c->readinessprobe, PROBE_READINESS);
        validate_probe(v, "startupProbe", c->startupprobe, PROBE_STARTUP);
        if (c->restartpolicy != NULL)
            forbidden(v, "restartPolicy", "may not be set for non-init containers");
        path_pop(v, old_i);
    }
    check_host_port_conflicts(v, cs, n);
    name_set_free(&names);
    path_pop(v, old);
}

/* validateInitContainers at "initContainers" */
static void validate_init_containers(struct vctx *v, container_t *const *cs, size_t n,
                                     container_t *const *regular, size_t n_regular,
                                     const struct name_set *vols)
{
    static const char *const always[] = {"Always", NULL};
    static const char not_always[] = "may not be set for init containers without "
                                     "restartPolicy=Always";
    size_t old = path_child(v, "initContainers");
    struct name_set names = {0};

    for (size_t i = 0; i < n_regular; i++)
        name_set_add(&names, regular[i]->name);
    for (size_t i = 0; i < n; i++) {
        const container_t *c = cs[i];
        size_t old_i = path_index(v, i);
        bool restart_always = false;

        validate_container_common(v, c, vols);
        if (c->restartpolicy != NULL) {
            if (!one_of(c->restartpolicy, always))
                not_supported(v, "restartPolicy", c->restartpolicy, always);
            restart_always = strcmp(c->restartpolicy, "Always") == 0;
        }
        if (name_set_has(&names, c->name))
            duplicate_str(v, "name", str_or_empty(c->name));
        else if (!str_empty(c->name))
            name_set_add(&names, c->name);
        path_pop(v, old_i);
        /* upstream checks each init container alone, so the index is always 0 */
        check_host_port_conflicts(v, &cs[i], 1);
        old_i = path_index(v, i);
        if (restart_always) {
            if (c->lifecycle != NULL)
                validate_lifecycle(v, c->lifecycle);
            validate_probe(v, "livenessProbe", c->livenessprobe, PROBE_LIVENESS);
            validate_probe(v, "readinessProbe", c->readinessprobe, PROBE_READINESS);
            validate_probe(v, "startupProbe", c->startupprobe, PROBE_STARTUP);
        } else {
            if (c->lifecycle != NULL)
                forbidden(v, "lifecycle", not_always);
            if (c->livenessprobe != NULL)
                forbidden(v, "livenessProbe", not_always);
            if (c->readinessprobe != NULL)
                forbidden(v, "readinessProbe", "may not be set for init containers");
            if (c->startupprobe != NULL)
                forbidden(v, "startupProbe", not_always);
        }
        path_pop(v, old_i);
    }
    name_set_free(&names);
    path_pop(v, old);
}

/* ValidateTolerations (the common checks) at "tolerations" */
static void validate_tolerations(struct vctx *v, const char *child,
                                 K8s__Io__Api__Core__V1__Toleration *const *ts, size_t n)
{
    static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
    static const char *const ops[] = {"Equal", "Exists", NULL};
    size_t old = path_child(v, child);

    for (size_t i = 0; i < n; i++) {
        const K8s__Io__Api__Core__V1__Toleration *t = ts[i];
        size_t old_i = path_index(v, i);
        const char *op = str_or_empty(t->operator_);

        if (!str_empty(t->key)) {
            const char *msgs[MAX_MSGS];
            invalid_msgs(v, "key", t->key, msgs, qualified_name_msgs(t->key, msgs));
        }
        if (str_empty(t->key) && strcmp(op, "Exists") != 0)
            invalid_str(v, "operator", op,
                        "operator must be Exists when `key` is empty, which means \"match all "
                        "values and all keys\"");
        if (t->has_tolerationseconds && !str_eq(t->effect, "NoExecute"))
            invalid_str(v, "effect", str_or_empty(t->effect),
                        "effect must be 'NoExecute' when `tolerationSeconds` is set");
        if (op[0] == '\0' || strcmp(op, "Equal") == 0) {
            /* upstream joins the reasons with ";" into one error here */
            const char *msgs[MAX_MSGS];
            const char *val = str_or_empty(t->value);
            size_t nm = label_value_msgs(val, msgs);
            if (nm > 0)
                invalid_joined(v, "operator", val, msgs, nm, ";");
        } else if (strcmp(op, "Exists") == 0) {
            if (!str_empty(t->value))
                invalid_str(v, "operator", t->value,
                            "value must be empty when `operator` is 'Exists'");
        } else {
            not_supported(v, "operator", op, ops);
        }
        if (!str_empty(t->effect) && !one_of(t->effect, effects))
            not_supported(v, "effect", t->effect, effects);
        path_pop(v, old_i);
    }
    path_pop(v, old);
}

/* check(v, items[i]) at child[i], for each of the n items */
static void each_at(struct vctx *v, const char *child, void *const *items, size_t n,
                    void (*check)(struct vctx *, const void *))
{
    for (size_t i = 0; i < n; i++) {
        size_t at = path_child(v, child);
        path_index(v, i);
        check(v, items[i]);
        path_pop(v, at);
    }
}

/* ---- scheduling constraints, DNS and host aliases of a pod spec ---------------------------- */

typedef K8s__Io__Api__Core__V1__NodeSelectorRequirement node_selector_req_t;
typedef K8s__Io__Api__Core__V1__NodeSelectorTerm node_selector_term_t;
typedef K8s__Io__Api__Core__V1__PodAffinityTerm pod_affinity_term_t;

static void validate_label_selector(struct vctx *v, const char *child, const label_selector_t *s);
static bool ip_ok(const char *s);

#define IP_MSG "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

/* "must be in the range 1-100" for a preferred term's weight at child */
static void affinity_weight(struct vctx *v, const char *child, int32_t w)
{
    if (w <= 0 || w > 100)
        invalid_int(v, child, w, "must be in the range 1-100");
}

/* ValidateNodeSelectorTerm at the current path (values are not label-checked for pods in
 * 1.32: ValidateNodeSelector is called with allowInvalidLabelValueInRequiredNodeAffinity) */
static void node_selector_term(struct vctx *v, const node_selector_term_t *t)
{
    const char *msgs[MAX_MSGS];

    for (size_t j = 0; t != NULL && j < t->n_matchexpressions; j++) {
        const node_selector_req_t *r = t->matchexpressions[j];
        const char *op = str_or_empty(r->operator_);
        size_t at = path_child(v, "matchExpressions");
        path_index(v, j);
        if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
            if (r->n_values == 0)
                required(v, "values", "must be specified when `operator` is 'In' or 'NotIn'");
        } else if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) {
            if (r->n_values > 0)
                forbidden(v, "values",
                          "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
        } else if (strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) {
            if (r->n_values != 1)
                required(v, "values",
                         "must be specified single value when `operator` is 'Lt' or 'Gt'");
        } else {
            invalid_str(v, "operator", op, "not a valid selector operator");
        }
        invalid_msgs(v, "key", str_or_empty(r->key), msgs,
                     qualified_name_msgs(str_or_empty(r->key), msgs));
        path_pop(v, at);
    }
    for (size_t j = 0; t != NULL && j < t->n_matchfields; j++) {
        const node_selector_req_t *r = t->matchfields[j];
        const char *op = str_or_empty(r->operator_);
        size_t at = path_child(v, "matchFields");
        path_index(v, j);
        if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
            if (r->n_values != 1)
                required(v, "values",
                         "must be only one value when `operator` is 'In' or 'NotIn' for node field "
                         "selector");
        } else {
            invalid_str(v, "operator", op, "not a valid selector operator");
        }
        if (!str_eq(r->key, "metadata.name")) {
            invalid_str(v, "key", str_or_empty(r->key), "not a valid field selector key");
        } else {
            for (size_t k = 0; k < r->n_values; k++) {
                size_t vat = path_child(v, "values");
                path_index(v, k);
                invalid_msgs(v, NULL, str_or_empty(r->values[k]), msgs,
                             dns1123_subdomain_msgs(str_or_empty(r->values[k]), msgs));
                path_pop(v, vat);
            }
        }
        path_pop(v, at);
    }
}

/* validateLabelKeys: matchLabelKeys or mismatchLabelKeys at child */
static void affinity_label_keys(struct vctx *v, const char *child, char *const *keys, size_t n,
                                const label_selector_t *sel)
{
    const char *msgs[MAX_MSGS];
    size_t at;

    if (n == 0)
        return;
    if (sel == NULL) {
        forbidden(v, child, "must not be specified when labelSelector is not set");
        return;
    }
    at = path_child(v, child);
    for (size_t i = 0; i < n; i++) {
        size_t ai = path_index(v, i);
        invalid_msgs(v, NULL, str_or_empty(keys[i]), msgs,
                     qualified_name_msgs(str_or_empty(keys[i]), msgs));
        path_pop(v, ai);
    }
    path_pop(v, at);
}

/* validatePodAffinityTerm at the current path. (Upstream also reports a matchLabelKeys key
 * that the pod's labels, merged into the selector by the strategy, repeat; this server does
 * not merge them.) */
static void pod_affinity_term(struct vctx *v, const pod_affinity_term_t *t)
{
    static const pod_affinity_term_t none = K8S__IO__API__CORE__V1__POD_AFFINITY_TERM__INIT;
    const char *msgs[MAX_MSGS];

    if (t == NULL)
        t = &none;
    validate_label_selector(v, "labelSelector", t->labelselector);
    validate_label_selector(v, "namespaceSelector", t->namespaceselector);
    for (size_t i = 0; i < t->n_namespaces; i++)
        invalid_msgs(v, "namespace", str_or_empty(t->namespaces[i]), msgs,
                     dns1123_label_msgs(str_or_empty(t->namespaces[i]), msgs));
    affinity_label_keys(v, "matchLabelKeys", t->matchlabelkeys, t->n_matchlabelkeys,
                        t->labelselector);
    affinity_label_keys(v, "mismatchLabelKeys", t->mismatchlabelkeys, t->n_mismatchlabelkeys,
                        t->labelselector);
    struct name_set mismatch = {0};
    for (size_t i = 0; t->labelselector != NULL && i < t->n_mismatchlabelkeys; i++)
        name_set_add(&mismatch, str_or_empty(t->mismatchlabelkeys[i]));
    for (size_t i = 0; t->labelselector != NULL && i < t->n_matchlabelkeys; i++) {
        if (!name_set_has(&mismatch, str_or_empty(t->matchlabelkeys[i])))
            continue;
        size_t at = path_child(v, "matchLabelKeys");
        path_index(v, i);
        invalid_str(v, NULL, t->matchlabelkeys[i],
                    "exists in both matchLabelKeys and mismatchLabelKeys");
        path_pop(v, at);
    }
    name_set_free(&mismatch);
    if (str_empty(t->topologykey))
        required(v, "topologyKey", "can not be empty");
    invalid_msgs(v, "topologyKey", str_or_empty(t->topologykey), msgs,
                 qualified_name_msgs(str_or_empty(t->topologykey), msgs));
}

static void pod_affinity_term_cb(struct vctx *v, const void *t)
{
    pod_affinity_term(v, t);
}

static void node_selector_term_cb(struct vctx *v, const void *t)
{
    node_selector_term(v, t);
}

/* preferredDuringSchedulingIgnoredDuringExecution[i]: the weight, then the term at child */
static void preferred_term(struct vctx *v, size_t i, int32_t weight, const char *child,
                           void (*check)(struct vctx *, const void *), const void *term)
{
    size_t at = path_child(v, "preferredDuringSchedulingIgnoredDuringExecution");
    path_index(v, i);
    affinity_weight(v, "weight", weight);
    path_child(v, child);
    check(v, term);
    path_pop(v, at);
}

/* validatePodAffinity / validatePodAntiAffinity at child (both have the same layout) */
static void pod_affinity(struct vctx *v, const char *child,
                         const K8s__Io__Api__Core__V1__PodAffinity *a)
{
    size_t at;

    if (a == NULL)
        return;
    at = path_child(v, child);
    each_at(v, "requiredDuringSchedulingIgnoredDuringExecution",
            (void *const *)a->requiredduringschedulingignoredduringexecution,
            a->n_requiredduringschedulingignoredduringexecution, pod_affinity_term_cb);
    for (size_t i = 0; i < a->n_preferredduringschedulingignoredduringexecution; i++) {
        const K8s__Io__Api__Core__V1__WeightedPodAffinityTerm *w =
            a->preferredduringschedulingignoredduringexecution[i];
        preferred_term(v, i, w->weight, "podAffinityTerm", pod_affinity_term_cb,
                       w->podaffinityterm);
    }
    path_pop(v, at);
}

/* validateAffinity at "affinity" */
static void validate_affinity(struct vctx *v, const K8s__Io__Api__Core__V1__Affinity *a)
{
    size_t at;

    if (a == NULL)
        return;
    at = path_child(v, "affinity");
    if (a->nodeaffinity != NULL) {
        const K8s__Io__Api__Core__V1__NodeAffinity *na = a->nodeaffinity;
        const K8s__Io__Api__Core__V1__NodeSelector *req =
            na->requiredduringschedulingignoredduringexecution;
        size_t nat = path_child(v, "nodeAffinity");
        if (req != NULL) {
            size_t rat = path_child(v, "requiredDuringSchedulingIgnoredDuringExecution");
            if (req->n_nodeselectorterms == 0)
                required(v, "nodeSelectorTerms", "must have at least one node selector term");
            each_at(v, "nodeSelectorTerms", (void *const *)req->nodeselectorterms,
                    req->n_nodeselectorterms, node_selector_term_cb);
            path_pop(v, rat);
        }
        for (size_t i = 0; i < na->n_preferredduringschedulingignoredduringexecution; i++) {
            const K8s__Io__Api__Core__V1__PreferredSchedulingTerm *t =
                na->preferredduringschedulingignoredduringexecution[i];
            preferred_term(v, i, t->weight, "preference", node_selector_term_cb, t->preference);
        }
        path_pop(v, nat);
    }
    /* PodAntiAffinity has PodAffinity's fields in the same order */
    pod_affinity(v, "podAffinity", a->podaffinity);
    pod_affinity(v, "podAntiAffinity",
                 (const K8s__Io__Api__Core__V1__PodAffinity *)(const void *)a->podantiaffinity);
    path_pop(v, at);
}

/* validatePodDNSConfig at "dnsConfig" */
static void validate_dns_config(struct vctx *v, const pod_spec_t *s)
{
    const K8s__Io__Api__Core__V1__PodDNSConfig *d = s->dnsconfig;
    const char *msgs[MAX_MSGS];
    size_t at;

    if (str_eq(s->dnspolicy, "None")) {
        if (d == NULL) {
            required(v, "dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None");
            return;
        }
        if (d->n_nameservers == 0) {
            required(v, "dnsConfig.nameservers",
                     "must provide at least one DNS nameserver when `dnsPolicy` is None");
            return;
        }
    }
    if (d == NULL)
        return;
    at = path_child(v, "dnsConfig");
    if (d->n_nameservers > 3) {
        go_string_slice(val_begin(v), d->nameservers, d->n_nameservers);
        invalid_val(v, "nameservers", "must not have more than 3 nameservers");
    }
    for (size_t i = 0; i < d->n_nameservers; i++) {
        if (ip_ok(d->nameservers[i]))
            continue;
        size_t ai = path_child(v, "nameservers");
        path_index(v, i);
        invalid_str(v, NULL, str_or_empty(d->nameservers[i]), IP_MSG);
        path_pop(v, ai);
    }
    size_t joined = 0;
    for (size_t i = 0; i < d->n_searches; i++)
        joined += strlen(str_or_empty(d->searches[i])) + (i > 0);
    if (d->n_searches > 32) {
        go_string_slice(val_begin(v), d->searches, d->n_searches);
        invalid_val(v, "searches", "must not have more than 32 search paths");
    }
    if (joined > 2048) {
        go_string_slice(val_begin(v), d->searches, d->n_searches);
        invalid_val(
            v, "searches",
            "must not have more than 2048 characters (including spaces) in the search list");
    }
    for (size_t i = 0; i < d->n_searches; i++) {
        /* a trailing dot is fine */
        const char *search = str_or_empty(d->searches[i]);
        size_t n = strlen(search);
        char *trimmed = k8c_strndup(search, n > 0 && search[n - 1] == '.' ? n - 1 : n);
        size_t ai = path_child(v, "searches");
        path_index(v, i);
        invalid_msgs(v, NULL, trimmed, msgs, dns1123_subdomain_msgs(trimmed, msgs));
        path_pop(v, ai);
        k8c_free(trimmed);
    }
    for (size_t i = 0; i < d->n_options; i++) {
        if (!str_empty(d->options[i]->name))
            continue;
        size_t ai = path_child(v, "options");
        path_index(v, i);
        required(v, NULL, "must not be empty");
        path_pop(v, ai);
    }
    path_pop(v, at);
}

/* validateTopologySpreadConstraints at "topologySpreadConstraints" */
static void validate_topology_spread(struct vctx *v, const pod_spec_t *s)
{
    static const char *const actions[] = {"DoNotSchedule", "ScheduleAnyway", NULL};
    static const char *const policies[] = {"Honor", "Ignore", NULL};
    const char *msgs[MAX_MSGS];
    size_t at = path_child(v, "topologySpreadConstraints");
    /* upstream reports a pair at each constraint a later one repeats: found from the end */
    bool *repeated = k8c_calloc(s->n_topologyspreadconstraints + 1, sizeof(bool));
    struct name_set later = {0};
    char **pairs = k8c_calloc(s->n_topologyspreadconstraints + 1, sizeof(char *));

    for (size_t i = s->n_topologyspreadconstraints; i-- > 0;) {
        const K8s__Io__Api__Core__V1__TopologySpreadConstraint *c = s->topologyspreadconstraints[i];
        struct k8c_sbuf pair;
        k8c_sbuf_init(&pair);
        k8c_sbuf_printf(&pair, "{%s, %s}", str_or_empty(c->topologykey),
                        str_or_empty(c->whenunsatisfiable));
        pairs[i] = k8c_sbuf_detach(&pair);
        repeated[i] = name_set_has(&later, pairs[i]);
        if (!repeated[i])
            name_set_add(&later, pairs[i]);
    }
    name_set_free(&later);
    for (size_t i = 0; i < s->n_topologyspreadconstraints; i++) {
        const K8s__Io__Api__Core__V1__TopologySpreadConstraint *c = s->topologyspreadconstraints[i];
        const char *action = str_or_empty(c->whenunsatisfiable);
        size_t ai = path_index(v, i);

        if (c->maxskew <= 0)
            invalid_int(v, "maxSkew", c->maxskew, "must be greater than zero");
        if (str_empty(c->topologykey))
            required(v, "topologyKey", "can not be empty");
        if (!one_of(action, actions))
            not_supported(v, "whenUnsatisfiable", action, actions);
        if (repeated[i])
            duplicate_str(v, "{topologyKey, whenUnsatisfiable}", pairs[i]);
        if (c->has_mindomains) {
            char detail[96];
            if (c->mindomains <= 0)
                invalid_int(v, "minDomains", c->mindomains, "must be greater than zero");
            if (strcmp(action, "DoNotSchedule") != 0) {
                snprintf(detail, sizeof(detail),
                         "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not %.40s",
                         action);
                invalid_int(v, "minDomains", c->mindomains, detail);
            }
        }
        if (c->nodeaffinitypolicy != NULL && !one_of(c->nodeaffinitypolicy, policies))
            not_supported(v, "nodeAffinityPolicy", c->nodeaffinitypolicy, policies);
        if (c->nodetaintspolicy != NULL && !one_of(c->nodetaintspolicy, policies))
            not_supported(v, "nodeTaintsPolicy", c->nodetaintspolicy, policies);
        if (c->n_matchlabelkeys > 0) {
            const label_selector_t *sel = c->labelselector;
            struct name_set selector_keys = {0};
            size_t mk = path_child(v, "matchLabelKeys");
            if (sel == NULL)
                forbidden(v, NULL, "must not be specified when labelSelector is not set");
            for (size_t m = 0; sel != NULL && m < sel->n_matchlabels; m++)
                name_set_add(&selector_keys, str_or_empty(sel->matchlabels[m]->key));
            for (size_t m = 0; sel != NULL && m < sel->n_matchexpressions; m++)
                name_set_add(&selector_keys, str_or_empty(sel->matchexpressions[m]->key));
            for (size_t j = 0; j < c->n_matchlabelkeys; j++) {
                const char *key = str_or_empty(c->matchlabelkeys[j]);
                size_t kj = path_index(v, j);
                invalid_msgs(v, NULL, key, msgs, qualified_name_msgs(key, msgs));
                if (name_set_has(&selector_keys, key))
                    invalid_str(v, NULL, key, "exists in both matchLabelKeys and labelSelector");
                path_pop(v, kj);
            }
            name_set_free(&selector_keys);
            path_pop(v, mk);
        }
        validate_label_selector(v, "labelSelector", c->labelselector);
        path_pop(v, ai);
    }
    for (size_t i = 0; i < s->n_topologyspreadconstraints; i++)
        k8c_free(pairs[i]);
    k8c_free(pairs);
    k8c_free(repeated);
    path_pop(v, at);
}

/* validateReadinessGates and validateSchedulingGates */
static void validate_pod_gates(struct vctx *v, const pod_spec_t *s)
{
    const char *msgs[MAX_MSGS];
    struct name_set seen = {0};

    for (size_t i = 0; i < s->n_readinessgates; i++) {
        const char *t = str_or_empty(s->readinessgates[i]->conditiontype);
        size_t at = path_child(v, "readinessGates");
        path_index(v, i);
        invalid_msgs(v, "conditionType", t, msgs, qualified_name_msgs(t, msgs));
        path_pop(v, at);
    }
    for (size_t i = 0; i < s->n_schedulinggates; i++) {
        const char *name = str_or_empty(s->schedulinggates[i]->name);
        size_t at = path_child(v, "schedulingGates");
        path_index(v, i);
        invalid_msgs(v, NULL, name, msgs, qualified_name_msgs(name, msgs));
        if (name_set_has(&seen, name))
            duplicate_str(v, NULL, name);
        else
            name_set_add(&seen, name);
        path_pop(v, at);
    }
    name_set_free(&seen);
}

/* ValidateHostAliases at "hostAliases" */
static void validate_host_aliases(struct vctx *v, const pod_spec_t *s)
{
    const char *msgs[MAX_MSGS];
    size_t at = path_child(v, "hostAliases");

    for (size_t i = 0; i < s->n_hostaliases; i++) {
        const K8s__Io__Api__Core__V1__HostAlias *h = s->hostaliases[i];
        size_t ai = path_index(v, i);
        if (!ip_ok(h->ip))
            invalid_str(v, "ip", str_or_empty(h->ip), IP_MSG);
        for (size_t j = 0; j < h->n_hostnames; j++) {
            size_t hj = path_child(v, "hostnames");
            path_index(v, j);
            invalid_msgs(v, NULL, str_or_empty(h->hostnames[j]), msgs,
                         dns1123_subdomain_msgs(str_or_empty(h->hostnames[j]), msgs));
            path_pop(v, hj);
        }
        path_pop(v, ai);
    }
    path_pop(v, at);
}

/* validatePodHostNetworkDeps: with the host's network a container port is its host port (on a
 * pod's containers; a template may leave hostPort 0) */
static void host_network_ports(struct vctx *v, const pod_spec_t *s)
{
    if (!s->hostnetwork)
        return;
    for (size_t i = 0; i < s->n_containers; i++) {
        const container_t *c = s->containers[i];
        for (size_t j = 0; j < c->n_ports; j++) {
            const container_port_t *p = c->ports[j];
            int32_t hp = p->has_hostport ? p->hostport : 0;
            if ((v->resource_is_pod || hp != 0) && hp != p->containerport) {
                char child[80];
                snprintf(child, sizeof(child), "containers[%zu].ports[%zu].hostPort", i, j);
                invalid_int(v, child, hp, "must match `containerPort` when `hostNetwork` is true");
            }
        }
    }
}

/* validateOverhead: the overhead as a container's limits, at "overhead" */
static void validate_overhead(struct vctx *v, const pod_spec_t *s)
{
    resources_t r = K8S__IO__API__CORE__V1__RESOURCE_REQUIREMENTS__INIT;
    size_t at;

    if (s->n_overhead == 0)
        return;
    /* PodSpec.OverheadEntry and ResourceRequirements.LimitsEntry are both {key, Quantity} */
    r.n_limits = s->n_overhead;
    r.limits = (quantity_entry_t **)(void *)s->overhead;
    at = path_child(v, "overhead");
    validate_resources_at(v, &r);
    path_pop(v, at);
}

/* ValidatePodSpec at the current path ("spec", "spec.template.spec", ...). extra_vols are
 * volume names a container may also mount (a StatefulSet's volumeClaimTemplates). */
/*
 * validateEphemeralContainers at "ephemeralContainers": the checks common to every container,
 * a name unique across all containers, a target that is a regular or init container, and none
 * of the fields kept for the pod's own workload (ports, resources, probes, lifecycle, restart
 * and resize policies, volume subpaths).
 */
static void validate_ephemeral_containers(struct vctx *v, const pod_spec_t *s,
                                          const struct name_set *vols)
{
    static const char not_ephemeral[] = "cannot be set for an Ephemeral Container";
    struct name_set others = {0}, all = {0};
    size_t old;

    if (s->n_ephemeralcontainers == 0)
        return;
    old = path_child(v, "ephemeralContainers");
    for (size_t i = 0; i < s->n_containers; i++)
        name_set_add(&others, s->containers[i]->name);
    for (size_t i = 0; i < s->n_initcontainers; i++)
        name_set_add(&others, s->initcontainers[i]->name);
    for (size_t i = 0; i < others.n; i++)
        name_set_add(&all, others.names[i]);
    for (size_t i = 0; i < s->n_ephemeralcontainers; i++) {
        static const ephemeral_common_t none =
            K8S__IO__API__CORE__V1__EPHEMERAL_CONTAINER_COMMON__INIT;
        const ephemeral_container_t *ec = s->ephemeralcontainers[i];
        const ephemeral_common_t *c =
            ec->ephemeralcontainercommon ? ec->ephemeralcontainercommon : &none;
        container_t as_container = K8S__IO__API__CORE__V1__CONTAINER__INIT;
        size_t old_i = path_index(v, i);

        as_container.name = c->name;
        as_container.image = c->image;
        as_container.terminationmessagepolicy = c->terminationmessagepolicy;
        as_container.imagepullpolicy = c->imagepullpolicy;
        as_container.n_ports = c->n_ports;
        as_container.ports = c->ports;
        as_container.n_env = c->n_env;
        as_container.env = c->env;
        as_container.n_volumemounts = c->n_volumemounts;
        as_container.volumemounts = c->volumemounts;
        as_container.resources = c->resources;
        as_container.securitycontext = c->securitycontext;
        validate_container_common(v, &as_container, vols);
        if (name_set_has(&all, c->name))
            duplicate_str(v, "name", str_or_empty(c->name));
        else
            name_set_add(&all, c->name);
        if (!str_empty(ec->targetcontainername) && !name_set_has(&others, ec->targetcontainername))
            not_found_str(v, "targetContainerName", ec->targetcontainername);
        /* in the field order of EphemeralContainerCommon, as upstream's allow list walks it */
        if (c->n_ports > 0)
            forbidden(v, "ports", not_ephemeral);
        if (c->resources != NULL && (c->resources->n_limits > 0 || c->resources->n_requests > 0 ||
                                     c->resources->n_claims > 0))
            forbidden(v, "resources", not_ephemeral);
        if (c->n_resizepolicy > 0)
            forbidden(v, "resizePolicy", not_ephemeral);
        if (c->restartpolicy != NULL)
            forbidden(v, "restartPolicy", not_ephemeral);
        if (c->livenessprobe != NULL)
            forbidden(v, "livenessProbe", not_ephemeral);
        if (c->readinessprobe != NULL)
            forbidden(v, "readinessProbe", not_ephemeral);
        if (c->startupprobe != NULL)
            forbidden(v, "startupProbe", not_ephemeral);
        if (c->lifecycle != NULL)
            forbidden(v, "lifecycle", not_ephemeral);

        for (size_t m = 0; m < c->n_volumemounts; m++) {
            size_t old_m = path_child(v, "volumeMounts");
            path_index(v, m);
            if (!str_empty(c->volumemounts[m]->subpath))
                forbidden(v, "subPath", not_ephemeral);
            if (!str_empty(c->volumemounts[m]->subpathexpr))
                forbidden(v, "subPathExpr", not_ephemeral);
            path_pop(v, old_m);
        }
        path_pop(v, old_i);
    }
    name_set_free(&others);
    name_set_free(&all);
    path_pop(v, old);
}

static void validate_pod_spec(struct vctx *v, const pod_spec_t *s, const struct name_set *extra)
{
    static const pod_spec_t empty = K8S__IO__API__CORE__V1__POD_SPEC__INIT;
    static const char *const restart_policies[] = {"Always", "OnFailure", "Never", NULL};
    static const char *const dns_policies[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default",
                                               "None", NULL};
    struct name_set vols = {0};
    const char *msgs[MAX_MSGS];

    if (s == NULL)
        s = &empty;
    validate_volumes(v, s->volumes, s->n_volumes, &vols);
    for (size_t i = 0; extra != NULL && i < extra->n; i++)
        if (!name_set_has(&vols, extra->names[i]))
            name_set_add(&vols, extra->names[i]);
    validate_containers(v, s->containers, s->n_containers, &vols);
    validate_init_containers(v, s->initcontainers, s->n_initcontainers, s->containers,
                             s->n_containers, &vols);
    validate_ephemeral_containers(v, s, &vols);
    host_network_ports(v, s);
    if (str_empty(s->restartpolicy))
        required(v, "restartPolicy", NULL);
    else if (!one_of(s->restartpolicy, restart_policies))
        not_supported(v, "restartPolicy", s->restartpolicy, restart_policies);
    if (str_empty(s->dnspolicy))
        required(v, "dnsPolicy", NULL);
    else if (!one_of(s->dnspolicy, dns_policies))
        not_supported(v, "dnsPolicy", s->dnspolicy, dns_policies);
    validate_labels(v, "nodeSelector", (void *const *)s->nodeselector, s->n_nodeselector);
    validate_pod_security_context(v, s);
    validate_affinity(v, s->affinity);
    validate_dns_config(v, s);
    validate_pod_gates(v, s);
    validate_topology_spread(v, s);
    windows_host_process(v, s);
    if (!str_empty(s->serviceaccountname))
        invalid_msgs(v, "serviceAccountName", s->serviceaccountname, msgs,
                     dns1123_subdomain_msgs(s->serviceaccountname, msgs));
    if (!str_empty(s->nodename))
        invalid_msgs(v, "nodeName", s->nodename, msgs, dns1123_subdomain_msgs(s->nodename, msgs));
    if (s->has_activedeadlineseconds &&
        (s->activedeadlineseconds < 1 || s->activedeadlineseconds > INT32_MAX))
        invalid_int(v, "activeDeadlineSeconds", s->activedeadlineseconds,
                    "must be between 1 and 2147483647, inclusive");
    if (!str_empty(s->hostname))
        dns1123_label(v, "hostname", s->hostname);
    if (!str_empty(s->subdomain))
        dns1123_label(v, "subdomain", s->subdomain);
    if (s->n_tolerations > 0)
        validate_tolerations(v, "tolerations", s->tolerations, s->n_tolerations);
    if (s->n_hostaliases > 0)
        validate_host_aliases(v, s);
    if (!str_empty(s->priorityclassname))
        invalid_msgs(v, "priorityClassName", s->priorityclassname, msgs,
                     dns1123_subdomain_msgs(s->priorityclassname, msgs));
    if (s->runtimeclassname != NULL)
        invalid_msgs(v, "runtimeClassName", s->runtimeclassname, msgs,
                     dns1123_subdomain_msgs(s->runtimeclassname, msgs));
    if (s->preemptionpolicy != NULL) {
        static const char *const preemption[] = {"PreemptLowerPriority", "Never", NULL};
        if (s->preemptionpolicy[0] == '\0')
            required(v, "preemptionPolicy", NULL);
        else if (!one_of(s->preemptionpolicy, preemption))
            not_supported(v, "preemptionPolicy", s->preemptionpolicy, preemption);
    }
    validate_overhead(v, s);
    validate_pod_os(v, s);
    name_set_free(&vols);
}

/* ---- pod-specific annotations ----------------------------------------------------------- */

#define MIRROR_POD_ANNOTATION    "kubernetes.io/config.mirror"
#define DELETION_COST_ANNOTATION "controller.kubernetes.io/pod-deletion-cost"
#define APPARMOR_PREFIX          "container.apparmor.security.beta.kubernetes.io/"
#define TOLERATIONS_ANNOTATION   "scheduler.alpha.kubernetes.io/tolerations"
#define SECCOMP_POD_ANNOTATION   "seccomp.security.alpha.kubernetes.io/pod"
#define SECCOMP_CONTAINER_PREFIX "container.seccomp.security.alpha.kubernetes.io/"

/* GetDeletionCostFromPodAnnotations: a decimal int32 without "+" or leading zeros. */
static bool deletion_cost_ok(const char *s)
{
    const char *p = s[0] == '-' ? s + 1 : s;
    if (p[0] < '0' || p[0] > '9' || (p[0] == '0' && (p != s || p[1] != '\0')))
        return false;
    long long x = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || x > 2147483648LL)
            return false;
        x = x * 10 + (*p - '0');
    }
    return s[0] == '-' ? x <= 2147483648LL : x <= 2147483647LL;
}

typedef K8s__Io__Api__Core__V1__Toleration toleration_t;

/* What Go's encoding/json calls a JSON value's kind in its type errors. */
static const char *json_kind(const struct k8c_json *j)
{
    switch (j->type) {
    case K8C_JSON_BOOL:
        return "bool";
    case K8C_JSON_NUMBER:
        return "number";
    case K8C_JSON_STRING:
        return "string";
    case K8C_JSON_ARRAY:
        return "array";
    default:
        return "object";
    }
}

/* One member of a toleration as json.Unmarshal sets it into core.Toleration: names match
 * case-insensitively, null leaves the field alone, the first type error is kept in err. */
static void toleration_member(struct k8c_arena *a, toleration_t *t, const struct k8c_json_member *m,
                              char *err, size_t err_size)
{
    /* core.Toleration has no json tags: its Go field names, matched case-insensitively */
    static const struct {
        const char *name, *type;
        size_t off;
    } fields[] = {
        {"Key", "string", offsetof(toleration_t, key)},
        {"Operator", "core.TolerationOperator", offsetof(toleration_t, operator_)},
        {"Value", "string", offsetof(toleration_t, value)},
        {"Effect", "core.TaintEffect", offsetof(toleration_t, effect)},
    };
    const struct k8c_json *j = m->value;

    if (j->type == K8C_JSON_NULL)
        return;
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        if (strcasecmp(m->key, fields[f].name) != 0)
            continue;
        if (j->type == K8C_JSON_STRING)
            *(char **)((char *)t + fields[f].off) = k8c_arena_strndup(a, j->u.str, j->len);
        else if (err[0] == '\0')
            snprintf(err, err_size,
                     "json: cannot unmarshal %s into Go struct field Toleration.%s of type %s",
                     json_kind(j), fields[f].name, fields[f].type);
        return;
    }
    if (strcasecmp(m->key, "TolerationSeconds") != 0)
        return;
    char *end = NULL;
    errno = 0;
    long long x = j->type == K8C_JSON_NUMBER ? strtoll(j->u.str, &end, 10) : 0;
    if (j->type == K8C_JSON_NUMBER && end == j->u.str + j->len && errno == 0) {
        t->has_tolerationseconds = true;
        t->tolerationseconds = x;
    } else if (err[0] == '\0') {
        snprintf(
            err, err_size,
            "json: cannot unmarshal %s%s%.40s into Go struct field Toleration.TolerationSeconds "
            "of type int64",
            json_kind(j), j->type == K8C_JSON_NUMBER ? " " : "",
            j->type == K8C_JSON_NUMBER ? j->u.str : "");
    }
}

/* ValidateTolerationsInPodAnnotations, in "annotations": the JSON list of tolerations under
 * scheduler.alpha.kubernetes.io/tolerations decodes as []core.Toleration and is valid. */
static void annotation_tolerations(struct vctx *v, const char *text)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *j = NULL;
    char err[K8C_ERRMSG_SIZE] = "";
    toleration_t **ts = NULL;
    size_t n = 0;

    if (k8c_json_parse(a, text, strlen(text), NULL, &j, err) != 0) {
        char *at = strstr(err, " at offset ");
        if (at != NULL)
            *at = '\0';
    } else if (j->type == K8C_JSON_ARRAY) {
        ts = k8c_arena_calloc(a, (j->len + 1) * sizeof(*ts));
        for (uint32_t i = 0; i < j->len; i++) {
            const struct k8c_json *item = j->u.items[i];
            toleration_t *t = k8c_arena_alloc(a, sizeof(*t));
            *t = (toleration_t)K8S__IO__API__CORE__V1__TOLERATION__INIT;
            ts[n++] = t;
            if (item->type == K8C_JSON_OBJECT) {
                for (uint32_t k = 0; k < item->len; k++)
                    toleration_member(a, t, &item->u.members[k], err, sizeof(err));
            } else if (item->type != K8C_JSON_NULL && err[0] == '\0') {
                snprintf(err, sizeof(err),
                         "json: cannot unmarshal %s into Go value of type core.Toleration",
                         json_kind(item));
            }
        }
    } else if (j->type != K8C_JSON_NULL) {
        snprintf(err, sizeof(err),
                 "json: cannot unmarshal %s into Go value of type []core.Toleration", json_kind(j));
    }
    if (err[0] != '\0')
        invalid_str(v, NULL, TOLERATIONS_ANNOTATION, err);
    else if (n > 0)
        validate_tolerations(v, TOLERATIONS_ANNOTATION, ts, n);
    k8c_arena_del(a);
}

/* ValidateSeccompProfile of a deprecated seccomp annotation, at child k */
static void annotation_seccomp(struct vctx *v, const char *k, const char *p)
{
    size_t at;

    if (strcmp(p, "runtime/default") == 0 || strcmp(p, "docker/default") == 0 ||
        strcmp(p, "unconfined") == 0)
        return;
    at = path_child(v, k);
    if (has_prefix(p, "localhost/")) {
        /* validateLocalDescendingPath */
        if (p[strlen("localhost/")] == '/')
            invalid_str(v, NULL, p + strlen("localhost/"), "must be a relative path");
        path_no_backsteps(v, NULL, p + strlen("localhost/"));
    } else {
        invalid_str(v, NULL, p, "must be a valid seccomp profile");
    }
    path_pop(v, at);
}

static bool spec_has_container(const pod_spec_t *s, const char *name)
{
    for (size_t i = 0; s != NULL && i < s->n_initcontainers; i++)
        if (str_eq(s->initcontainers[i]->name, name))
            return true;
    for (size_t i = 0; s != NULL && i < s->n_containers; i++)
        if (str_eq(s->containers[i]->name, name))
            return true;
    for (size_t i = 0; s != NULL && i < s->n_ephemeralcontainers; i++) {
        const ephemeral_common_t *c = s->ephemeralcontainers[i]->ephemeralcontainercommon;
        if (c != NULL && str_eq(c->name, name))
            return true;
    }
    return false;
}

/* ValidateAppArmorPodAnnotations for annotation k (AppArmor's prefix) with profile p */
static void annotation_apparmor(struct vctx *v, const pod_spec_t *s, const char *k, const char *p)
{
    size_t at = path_key(v, k);
    const char *container = k + strlen(APPARMOR_PREFIX);

    if (!spec_has_container(s, container))
        invalid_str(v, NULL, container, "container not found");
    if (p[0] != '\0' && strcmp(p, "runtime/default") != 0 && strcmp(p, "unconfined") != 0 &&
        !has_prefix(p, "localhost/")) {
        struct k8c_sbuf detail;
        k8c_sbuf_init(&detail);
        k8c_sbuf_puts(&detail, "invalid AppArmor profile name: ");
        goq(&detail, p);
        invalid_str(v, NULL, p, detail.data);
        k8c_sbuf_free(&detail);
    }
    path_pop(v, at);
}

/*
 * ValidatePodSpecificAnnotations at child "annotations" of the current path: a mirror pod's
 * node is set, the deprecated tolerations annotation holds valid tolerations, the deletion
 * cost is an int32, the deprecated seccomp and AppArmor annotations name valid profiles (and
 * AppArmor's a container of the pod). Upstream goes through the seccomp container and AppArmor
 * annotations in Go map order; these are taken in the object's order. (Upstream lets an update
 * keep a deletion cost that was already invalid; this server never stored one.)
 */
static void pod_annotations(struct vctx *v, const meta_t *m, const pod_spec_t *s)
{
    const char *mirror = api_meta_annotation(m, MIRROR_POD_ANNOTATION);
    const char *cost = api_meta_annotation(m, DELETION_COST_ANNOTATION);
    const char *tolerations = api_meta_annotation(m, TOLERATIONS_ANNOTATION);
    const char *seccomp = api_meta_annotation(m, SECCOMP_POD_ANNOTATION);
    size_t at = path_child(v, "annotations"), key;

    if (mirror != NULL && (s == NULL || str_empty(s->nodename))) {
        key = path_key(v, MIRROR_POD_ANNOTATION);
        invalid_str(v, NULL, mirror, "must set spec.nodeName if mirror pod annotation is set");
        path_pop(v, key);
    }
    if (tolerations != NULL && tolerations[0] != '\0')
        annotation_tolerations(v, tolerations);
    if (cost != NULL && !deletion_cost_ok(cost)) {
        key = path_key(v, DELETION_COST_ANNOTATION);
        invalid_str(v, NULL, cost, "must be a 32bit integer");
        path_pop(v, key);
    }
    if (seccomp != NULL)
        annotation_seccomp(v, SECCOMP_POD_ANNOTATION, seccomp);
    for (size_t i = 0; m != NULL && i < m->n_annotations; i++) {
        const char *k = str_or_empty(m->annotations[i]->key);
        if (has_prefix(k, SECCOMP_CONTAINER_PREFIX))
            annotation_seccomp(v, k, str_or_empty(m->annotations[i]->value));
    }
    for (size_t i = 0; m != NULL && i < m->n_annotations; i++) {
        const char *k = str_or_empty(m->annotations[i]->key);
        if (has_prefix(k, APPARMOR_PREFIX))
            annotation_apparmor(v, s, k, str_or_empty(m->annotations[i]->value));
    }
    path_pop(v, at);
}

/* Forbidden at annotations[k] when k is the mirror pod or an AppArmor annotation: "may not
 * <verb> ..." */
static void fixed_annotation(struct vctx *v, const char *k, const char *verb)
{
    char detail[96];
    size_t key = path_key(v, k);

    if (strncmp(k, APPARMOR_PREFIX, strlen(APPARMOR_PREFIX)) == 0) {
        snprintf(detail, sizeof(detail), "may not %s AppArmor annotations", verb);
        forbidden(v, NULL, detail);
    }
    if (strcmp(k, MIRROR_POD_ANNOTATION) == 0) {
        snprintf(detail, sizeof(detail), "may not %s mirror pod annotation", verb);
        forbidden(v, NULL, detail);
    }
    path_pop(v, key);
}

/* ValidatePodSpecificAnnotationUpdates at "metadata": the mirror pod and AppArmor annotations
 * neither come, go nor change; then the new annotations as on create. */
static void pod_annotation_updates(struct vctx *v, const pod_t *pod, const pod_t *old_pod)
{
    const meta_t *m = pod->metadata, *o = old_pod->metadata;
    size_t n = m != NULL ? m->n_annotations : 0, n_old = o != NULL ? o->n_annotations : 0;
    struct name_set now = {0}, before = {0}; /* the keys, at their indexes */
    size_t at = path_child(v, "metadata"), ann = path_child(v, "annotations");

    for (size_t i = 0; i < n; i++)
        name_set_add(&now, m->annotations[i]->key);
    for (size_t i = 0; i < n_old; i++)
        name_set_add(&before, o->annotations[i]->key);
    for (size_t i = 0; i < n_old; i++) {
        const char *k = str_or_empty(o->annotations[i]->key);
        size_t j = name_set_find(&now, k);
        if (j == SIZE_MAX || !str_eq(m->annotations[j]->value, o->annotations[i]->value))
            fixed_annotation(v, k, "remove or update");
    }
    for (size_t i = 0; i < n; i++) {
        const char *k = str_or_empty(m->annotations[i]->key);
        if (!name_set_has(&before, k))
            fixed_annotation(v, k, "add");
    }
    name_set_free(&now);
    name_set_free(&before);
    path_pop(v, ann);
    pod_annotations(v, m, pod->spec);
    path_pop(v, at);
}

/* validateSeccompProfileAnnotation/validateAppArmorAnnotationsAndFieldsMatch: the field's
 * profile (type, localhostProfile) against the annotation's, at child of the current path */
static void profile_matches(struct vctx *v, const char *child, const char *what, const char *type,
                            const char *localhost, const char *annotation)
{
    char detail[64];
    size_t at = path_child(v, child);
    bool ok = true;

    if (str_eq(type, "Unconfined"))
        ok = strcmp(annotation, "unconfined") == 0;
    else if (str_eq(type, "RuntimeDefault"))
        ok = strcmp(annotation, "runtime/default") == 0 ||
             (strcmp(what, "seccomp") == 0 && strcmp(annotation, "docker/default") == 0);
    else if (str_eq(type, "Localhost"))
        ok = has_prefix(annotation, "localhost/");
    if (!ok) {
        snprintf(detail, sizeof(detail), "%s type in annotation and field must match", what);
        forbidden(v, "type", detail);
    } else if (str_eq(type, "Localhost") &&
               (localhost == NULL || strcmp(localhost, annotation + strlen("localhost/")) != 0)) {
        snprintf(detail, sizeof(detail), "%s profile in annotation and field must match", what);
        forbidden(v, "localhostProfile", detail);
    }
    path_pop(v, at);
}

struct annotation_match {
    struct vctx *v;
    const meta_t *m;
    const apparmor_profile_t *pod_apparmor;
};

/* A container's profile against its annotation (prefix + the container's name), if any */
static void container_profile_matches(struct annotation_match *am, const struct ctr_ref *c,
                                      const char *prefix, const char *what, const char *type,
                                      const char *localhost)
{
    struct k8c_sbuf key;
    const char *a;

    k8c_sbuf_init(&key);
    k8c_sbuf_printf(&key, "%s%s", prefix, str_or_empty(c->name));
    if ((a = api_meta_annotation(am->m, key.data)) != NULL) {
        size_t at = path_child(am->v, c->list);
        path_index(am->v, c->index);
        path_child(am->v, "securityContext");
        profile_matches(am->v, strcmp(what, "seccomp") == 0 ? "seccompProfile" : "appArmorProfile",
                        what, type, localhost, a);
        path_pop(am->v, at);
    }
    k8c_sbuf_free(&key);
}

static void container_seccomp_matches(struct ctr_ref *c, void *arg)
{
    const seccomp_profile_t *sp = c->sc != NULL ? c->sc->seccompprofile : NULL;

    if (sp != NULL)
        container_profile_matches(arg, c, SECCOMP_CONTAINER_PREFIX, "seccomp", sp->type,
                                  sp->localhostprofile);
}

static void container_apparmor_matches(struct ctr_ref *c, void *arg)
{
    struct annotation_match *am = arg;
    const apparmor_profile_t *p =
        c->sc != NULL && c->sc->apparmorprofile != NULL ? c->sc->apparmorprofile : am->pod_apparmor;

    if (p != NULL)
        container_profile_matches(am, c, APPARMOR_PREFIX, "apparmor", p->type, p->localhostprofile);
}

/*
 * At the pod spec's path: validateSeccompAnnotationsAndFields (the pod's seccomp field and
 * annotation agree, and each container's own field with its annotation) and
 * validateAppArmorAnnotationsAndFieldsMatchOnCreate (each container's AppArmor profile, or
 * else the pod's, with the container's annotation; not for Windows pods). Upstream runs them
 * on pod creates and on every pod template.
 */
static void profile_annotations_match(struct vctx *v, const meta_t *m, const pod_spec_t *s)
{
    const pod_security_context_t *psc = s != NULL ? s->securitycontext : NULL;
    struct annotation_match am = {v, m, psc != NULL ? psc->apparmorprofile : NULL};
    const char *a;

    if (s == NULL || m == NULL || m->n_annotations == 0)
        return;
    if (psc != NULL && psc->seccompprofile != NULL &&
        (a = api_meta_annotation(m, SECCOMP_POD_ANNOTATION)) != NULL)
        profile_matches(v, "securityContext.seccompProfile", "seccomp", psc->seccompprofile->type,
                        psc->seccompprofile->localhostprofile, a);
    each_container(s, container_seccomp_matches, &am);
    if (s->os == NULL || !str_eq(s->os->name, "windows"))
        each_container(s, container_apparmor_matches, &am);
}

/* ValidatePodTemplateSpec at the current path ("template", "spec.template") */
static void validate_pod_template_spec(struct vctx *v, const pod_template_spec_t *t,
                                       const struct name_set *extra)
{
    const meta_t *m = t != NULL ? t->metadata : NULL;
    const pod_spec_t *s = t != NULL ? t->spec : NULL;
    size_t old;

    if (m != NULL) {
        validate_labels(v, "labels", (void *const *)m->labels, m->n_labels);
        validate_annotations(v, "annotations", (void *const *)m->annotations, m->n_annotations);
    }
    pod_annotations(v, m, s);
    old = path_child(v, "spec");
    validate_pod_spec(v, s, extra);
    profile_annotations_match(v, m, s);
    path_pop(v, old);
    if (s != NULL && s->n_ephemeralcontainers > 0)
        forbidden(v, "spec.ephemeralContainers",
                  "ephemeral containers not allowed in pod template");
}

/* The template's labels (NULL-safe) */
static str_entry_t *const *template_labels(const pod_template_spec_t *t, size_t *n)
{
    if (t == NULL || t->metadata == NULL) {
        *n = 0;
        return NULL;
    }
    *n = t->metadata->n_labels;
    return t->metadata->labels;
}

static const char *template_restart_policy(const pod_template_spec_t *t)
{
    return t != NULL && t->spec != NULL ? str_or_empty(t->spec->restartpolicy) : "";
}

/* "`selector` does not match template `labels`" at child, with the labels as value */
static void selector_mismatch(struct vctx *v, const char *child, const pod_template_spec_t *t)
{
    size_t n;
    str_entry_t *const *labels = template_labels(t, &n);

    go_string_map(val_begin(v), labels, n);
    invalid_val(v, child, "`selector` does not match template `labels`");
}

/* ---- Pod, PodTemplate, ReplicationController ----------------------------------------------- */

static void validate_pod(struct vctx *v, const pod_t *pod)
{
    size_t old = path_child(v, "metadata");

    pod_annotations(v, pod->metadata, pod->spec);
    path_pop(v, old);
    old = path_child(v, "spec");

    validate_pod_spec(v, pod->spec, NULL);
    if (pod->spec != NULL && pod->spec->n_ephemeralcontainers > 0)
        forbidden(v, "ephemeralContainers", "cannot be set on create");
    if (pod->spec != NULL && !str_empty(pod->spec->nodename) && pod->spec->n_schedulinggates > 0)
        forbidden(v, "nodeName", "cannot be set until all schedulingGates have been cleared");
    profile_annotations_match(v, pod->metadata, pod->spec);
    path_pop(v, old);
}

/* ValidateContainerUpdates; true when validation should stop */
static bool container_updates(struct vctx *v, const char *child, container_t *const *cs, size_t n,
                              size_t n_old)
{
    size_t old = path_child(v, child);

    if (n != n_old) {
        forbidden(v, NULL, "pod updates may not add or remove containers");
        path_pop(v, old);
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        const char *image = str_or_empty(cs[i]->image);
        size_t len = strlen(image), o = path_index(v, i);

        if (len == 0)
            required(v, "image", NULL);
        if (len > 0 && (strchr(" \t\n\r\v\f", image[0]) != NULL ||
                        strchr(" \t\n\r\v\f", image[len - 1]) != NULL))
            invalid_str(v, "image", image, "must not have leading or trailing whitespace");
        path_pop(v, o);
    }
    path_pop(v, old);
    return false;
}

/* copies of containers with the images of the old ones (same count) */
static container_t **containers_with_images(container_t *const *cs, container_t *const *old_cs,
                                            size_t n, container_t **storage)
{
    container_t **out = k8c_calloc(n + 1, sizeof(*out));

    *storage = k8c_calloc(n + 1, sizeof(**storage));
    for (size_t i = 0; i < n; i++) {
        (*storage)[i] = *cs[i];
        (*storage)[i].image = old_cs[i]->image;
        out[i] = &(*storage)[i];
    }
    return out;
}

#define POD_UPDATABLE_FIELDS                                                                       \
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"      \
    "`spec.tolerations` (only additions to existing tolerations),"                                 \
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "          \
    "negative)"

/* ValidatePodUpdate after the metadata: the spec may change only in the updatable fields. */
static void validate_pod_update(struct vctx *v, const pod_t *pod, const pod_t *old_pod)
{
    static const pod_spec_t empty = K8S__IO__API__CORE__V1__POD_SPEC__INIT;
    const pod_spec_t *s = pod->spec != NULL ? pod->spec : &empty;
    const pod_spec_t *o = old_pod->spec != NULL ? old_pod->spec : &empty;
    pod_spec_t munged;
    container_t *st1 = NULL, *st2 = NULL;
    size_t old;

    validate_pod(v, pod);
    pod_annotation_updates(v, pod, old_pod);
    old = path_child(v, "spec");
    if (container_updates(v, "containers", s->containers, s->n_containers, o->n_containers) ||
        container_updates(v, "initContainers", s->initcontainers, s->n_initcontainers,
                          o->n_initcontainers)) {
        path_pop(v, old);
        return;
    }
    if (s->has_activedeadlineseconds) {
        if (s->activedeadlineseconds < 0 || s->activedeadlineseconds > INT32_MAX) {
            invalid_int(v, "activeDeadlineSeconds", s->activedeadlineseconds,
                        "must be between 0 and 2147483647, inclusive");
            path_pop(v, old);
            return;
        }
        if (o->has_activedeadlineseconds && o->activedeadlineseconds < s->activedeadlineseconds) {
            invalid_int(v, "activeDeadlineSeconds", s->activedeadlineseconds,
                        "must be less than or equal to previous value");
            path_pop(v, old);
            return;
        }
    } else if (o->has_activedeadlineseconds) {
        verr(v, E_INVALID, "activeDeadlineSeconds", "null",
             "must not update from a positive integer to nil value");
    }
    munged = *s;
    munged.containers = containers_with_images(s->containers, o->containers, s->n_containers, &st1);
    munged.initcontainers =
        containers_with_images(s->initcontainers, o->initcontainers, s->n_initcontainers, &st2);
    munged.has_activedeadlineseconds = o->has_activedeadlineseconds;
    munged.activedeadlineseconds = o->activedeadlineseconds;
    munged.n_schedulinggates = o->n_schedulinggates;
    munged.schedulinggates = o->schedulinggates;
    munged.n_tolerations = o->n_tolerations;
    munged.tolerations = o->tolerations;
    if (o->has_terminationgraceperiodseconds && o->terminationgraceperiodseconds < 0 &&
        munged.has_terminationgraceperiodseconds && munged.terminationgraceperiodseconds == 1)
        munged.terminationgraceperiodseconds = o->terminationgraceperiodseconds;
    if (!msg_equal(&munged.base, &o->base))
        forbidden(v, NULL, "pod updates may not change fields other than " POD_UPDATABLE_FIELDS);
    k8c_free(munged.containers);
    k8c_free(munged.initcontainers);
    k8c_free(st1);
    k8c_free(st2);
    path_pop(v, old);
}

static void validate_pod_template(struct vctx *v, const pod_template_t *pt)
{
    size_t old = path_child(v, "template");

    validate_pod_template_spec(v, pt->template_, NULL);
    path_pop(v, old);
}

/* ValidateReplicationControllerSpec at "spec" */
static void validate_rc(struct vctx *v, const rc_t *rc)
{
    static const K8s__Io__Api__Core__V1__ReplicationControllerSpec empty =
        K8S__IO__API__CORE__V1__REPLICATION_CONTROLLER_SPEC__INIT;
    static const char *const always[] = {"Always", NULL};
    const K8s__Io__Api__Core__V1__ReplicationControllerSpec *s = rc->spec ? rc->spec : &empty;
    size_t old = path_child(v, "spec"), o;

    nonnegative(v, "minReadySeconds", s->minreadyseconds);
    if (s->n_selector == 0)
        required(v, "selector", NULL);
    nonnegative(v, "replicas", s->has_replicas ? s->replicas : 0);
    if (s->template_ == NULL) {
        required(v, "template", NULL);
    } else {
        o = path_child(v, "template");
        if (s->n_selector > 0) {
            bool match = true;
            size_t n;
            str_entry_t *const *labels = template_labels(s->template_, &n);
            for (size_t i = 0; i < s->n_selector && match; i++) {
                const str_entry_t *want = (const str_entry_t *)s->selector[i];
                const str_entry_t *have = map_find((void *const *)labels, n, want->key);
                match = have != NULL && str_eq(have->value, want->value);
            }
            if (!match)
                selector_mismatch(v, "metadata.labels", s->template_);
        }
        validate_pod_template_spec(v, s->template_, NULL);
        if (strcmp(template_restart_policy(s->template_), "Always") != 0)
            not_supported(v, "spec.restartPolicy", template_restart_policy(s->template_), always);
        if (s->template_->spec != NULL && s->template_->spec->has_activedeadlineseconds)
            forbidden(v, "spec.activeDeadlineSeconds",
                      "activeDeadlineSeconds in ReplicationController is not Supported");
        path_pop(v, o);
    }
    path_pop(v, old);
}

/* ---- workloads (pkg/apis/apps/validation, pkg/apis/batch/validation) ----------------------- */

/* ValidateLabelSelector (strict label values) at child */
static void validate_label_selector(struct vctx *v, const char *child, const label_selector_t *s)
{
    size_t old;

    if (s == NULL)
        return;
    old = path_child(v, child);
    validate_labels(v, "matchLabels", (void *const *)s->matchlabels, s->n_matchlabels);
    for (size_t i = 0; i < s->n_matchexpressions; i++) {
        const selector_req_t *r = s->matchexpressions[i];
        const char *op = str_or_empty(r->operator_), *msgs[MAX_MSGS];
        size_t o = path_child(v, "matchExpressions");

        path_index(v, i);
        if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
            if (r->n_values == 0)
                required(v, "values", "must be specified when `operator` is 'In' or 'NotIn'");
        } else if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) {
            if (r->n_values > 0)
                forbidden(v, "values",
                          "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
        } else {
            invalid_str(v, "operator", op, "not a valid selector operator");
        }
        invalid_msgs(v, "key", str_or_empty(r->key), msgs,
                     qualified_name_msgs(str_or_empty(r->key), msgs));
        for (size_t j = 0; j < r->n_values; j++) {
            size_t ov = path_child(v, "values"), nm;
            path_index(v, j);
            nm = label_value_msgs(str_or_empty(r->values[j]), msgs);
            invalid_msgs(v, NULL, str_or_empty(r->values[j]), msgs, nm);
            path_pop(v, ov);
        }
        path_pop(v, o);
    }
    path_pop(v, old);
}

/*
 * metav1.LabelSelectorAsSelector plus Matches against the template's labels. Returns false
 * when the selector does not convert (upstream's err != nil); *matches and *empty tell
 * whether it matches the labels and has no requirements (nil converts to "nothing").
 */
static bool selector_check(const label_selector_t *s, const pod_template_spec_t *t, bool *matches,
                           bool *empty)
{
    struct api_label_selector sel;
    char errmsg[K8C_ERRMSG_SIZE];
    size_t n;
    str_entry_t *const *labels = template_labels(t, &n);
    int rc = api_labels_from_label_selector(s, &sel, errmsg);

    if (rc == 0) {
        *empty = api_labels_empty(&sel);
        *matches = api_labels_matches_entries(&sel, (api_labels_entry_t *const *)labels, n);
    }
    api_labels_free(&sel);
    return rc == 0;
}

static size_t selector_size(const label_selector_t *s)
{
    return s != NULL ? s->n_matchlabels + s->n_matchexpressions : 0;
}

/* The selector-related checks of Deployment/ReplicaSet specs, then
 * ValidatePodTemplateSpecForReplicaSet. what: "deployment" in the empty-selector message. */
static void replica_set_like(struct vctx *v, const label_selector_t *sel,
                             const pod_template_spec_t *t, const char *kind)
{
    static const char *const always[] = {"Always", NULL};
    bool matches = false, empty = false;
    char detail[128];
    size_t old;

    if (sel == NULL) {
        required(v, "selector", NULL);
    } else {
        validate_label_selector(v, "selector", sel);
        if (selector_size(sel) == 0) {
            go_label_selector(val_begin(v), sel);
            invalid_val(v, "selector", "empty selector is invalid for deployment");
        }
    }
    if (!selector_check(sel, t, &matches, &empty)) {
        go_label_selector(val_begin(v), sel);
        invalid_val(v, "selector", "invalid label selector");
        return;
    }
    old = path_child(v, "template");
    if (!empty && !matches)
        selector_mismatch(v, "metadata.labels", t);
    validate_pod_template_spec(v, t, NULL);
    if (strcmp(template_restart_policy(t), "Always") != 0)
        not_supported(v, "spec.restartPolicy", template_restart_policy(t), always);
    if (t != NULL && t->spec != NULL && t->spec->has_activedeadlineseconds) {
        snprintf(detail, sizeof(detail), "activeDeadlineSeconds in %s is not Supported", kind);
        invalid_int(v, "spec.activeDeadlineSeconds", t->spec->activedeadlineseconds, detail);
    }
    path_pop(v, old);
}

static int64_t intstr_percent_or_int(const intstr_t *x, bool *is_percent, bool *valid_percent)
{
    *is_percent = false;
    *valid_percent = false;
    if (x == NULL)
        return 0;
    if (x->has_type && x->type == 1) {
        const char *s = str_or_empty(x->strval);
        size_t len = strlen(s), digits = 0;
        int64_t val = 0;
        *is_percent = true;
        while (digits < len && s[digits] >= '0' && s[digits] <= '9') {
            if (val < INT32_MAX)
                val = val * 10 + (s[digits] - '0');
            digits++;
        }
        *valid_percent = digits > 0 && digits + 1 == len && s[digits] == '%';
        return val;
    }
    return x->has_intval ? x->intval : 0;
}

/* ValidatePositiveIntOrPercent at child */
static void positive_int_or_percent(struct vctx *v, const char *child, const intstr_t *x)
{
    bool is_percent, valid;
    int64_t val = intstr_percent_or_int(x, &is_percent, &valid);

    if (is_percent) {
        if (!valid) {
            go_intstr(val_begin(v), x);
            invalid_val(v, child,
                        "a valid percent string must be a numeric string followed by an ending "
                        "'%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
        }
    } else {
        nonnegative(v, child, val);
    }
}

/* ValidateDeploymentStrategy at "strategy" */
static void validate_deployment_strategy(struct vctx *v, const deployment_strategy_t *st)
{
    static const char *const types[] = {"Recreate", "RollingUpdate", NULL};
    const char *type = st != NULL ? str_or_empty(st->type) : "";
    size_t old = path_child(v, "strategy");

    if (strcmp(type, "Recreate") == 0) {
        if (st->rollingupdate != NULL)
            forbidden(v, "rollingUpdate",
                      "may not be specified when strategy `type` is 'Recreate'");
    } else if (strcmp(type, "RollingUpdate") == 0) {
        const K8s__Io__Api__Apps__V1__RollingUpdateDeployment *ru = st->rollingupdate;
        if (ru == NULL) {
            required(v, "rollingUpdate", "this should be defaulted and never be nil");
        } else {
            bool p1, p2, ok;
            int64_t mu, ms;
            size_t o = path_child(v, "rollingUpdate");
            positive_int_or_percent(v, "maxUnavailable", ru->maxunavailable);
            positive_int_or_percent(v, "maxSurge", ru->maxsurge);
            mu = intstr_percent_or_int(ru->maxunavailable, &p1, &ok);
            ms = intstr_percent_or_int(ru->maxsurge, &p2, &ok);
            if (mu == 0 && ms == 0) {
                go_intstr(val_begin(v), ru->maxunavailable);
                invalid_val(v, "maxUnavailable", "may not be 0 when `maxSurge` is 0");
            }
            if (p1 && mu > 100) {
                go_intstr(val_begin(v), ru->maxunavailable);
                invalid_val(v, "maxUnavailable", "must not be greater than 100%");
            }
            path_pop(v, o);
        }
    } else {
        struct k8c_sbuf *b = val_begin(v);
        k8c_sbuf_puts(b, "apps.DeploymentStrategy{Type:");
        goq(b, type);
        k8c_sbuf_puts(b, ", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}");
        {
            struct k8c_sbuf detail;
            k8c_sbuf_init(&detail);
            k8c_sbuf_puts(&detail, "supported values: ");
            for (size_t i = 0; types[i] != NULL; i++) {
                if (i > 0)
                    k8c_sbuf_puts(&detail, ", ");
                goq(&detail, types[i]);
            }
            verr(v, E_NOT_SUPPORTED, NULL, val_str(v), detail.data);
            k8c_sbuf_free(&detail);
        }
    }
    path_pop(v, old);
}

static void validate_deployment(struct vctx *v, const deployment_t *d)
{
    static const deployment_spec_t empty = K8S__IO__API__APPS__V1__DEPLOYMENT_SPEC__INIT;
    const deployment_spec_t *s = d->spec != NULL ? d->spec : &empty;
    size_t old = path_child(v, "spec");

    nonnegative(v, "replicas", s->has_replicas ? s->replicas : 0);
    replica_set_like(v, s->selector, s->template_, "ReplicaSet");
    validate_deployment_strategy(v, s->strategy);
    nonnegative(v, "minReadySeconds", s->minreadyseconds);
    if (s->has_revisionhistorylimit)
        nonnegative(v, "revisionHistoryLimit", s->revisionhistorylimit);
    if (s->has_progressdeadlineseconds) {
        nonnegative(v, "progressDeadlineSeconds", s->progressdeadlineseconds);
        if (s->progressdeadlineseconds <= s->minreadyseconds)
            invalid_int(v, "progressDeadlineSeconds", s->progressdeadlineseconds,
                        "must be greater than minReadySeconds");
    }
    path_pop(v, old);
}

static void validate_replica_set(struct vctx *v, const replica_set_t *rs)
{
    static const K8s__Io__Api__Apps__V1__ReplicaSetSpec empty =
        K8S__IO__API__APPS__V1__REPLICA_SET_SPEC__INIT;
    const K8s__Io__Api__Apps__V1__ReplicaSetSpec *s = rs->spec != NULL ? rs->spec : &empty;
    size_t old = path_child(v, "spec");

    nonnegative(v, "replicas", s->has_replicas ? s->replicas : 0);
    nonnegative(v, "minReadySeconds", s->minreadyseconds);
    replica_set_like(v, s->selector, s->template_, "ReplicaSet");
    path_pop(v, old);
}

/* ValidateImmutableField for a selector at "spec.selector" */
static void selector_immutable(struct vctx *v, const label_selector_t *s, const label_selector_t *o)
{
    if (msg_equal(s != NULL ? &s->base : NULL, o != NULL ? &o->base : NULL))
        return;
    if (s == NULL)
        goq(val_begin(v), "null");
    else
        go_label_selector(val_begin(v), s);
    invalid_val(v, "spec.selector", "field is immutable");
}

static void validate_daemon_set(struct vctx *v, const daemon_set_t *ds)
{
    static const K8s__Io__Api__Apps__V1__DaemonSetSpec empty =
        K8S__IO__API__APPS__V1__DAEMON_SET_SPEC__INIT;
    static const char *const always[] = {"Always", NULL};
    const K8s__Io__Api__Apps__V1__DaemonSetSpec *s = ds->spec != NULL ? ds->spec : &empty;
    size_t old = path_child(v, "spec");
    bool matches = false, is_empty = false;
    const char *type;

    validate_label_selector(v, "selector", s->selector);
    if (selector_check(s->selector, s->template_, &matches, &is_empty) && !matches)
        selector_mismatch(v, "template.metadata.labels", s->template_);
    if (s->selector != NULL && selector_size(s->selector) == 0) {
        go_label_selector(val_begin(v), s->selector);
        invalid_val(v, "selector", "empty selector is invalid for daemonset");
    }
    {
        size_t o = path_child(v, "template");
        validate_pod_template_spec(v, s->template_, NULL);
        path_pop(v, o);
    }
    if (strcmp(template_restart_policy(s->template_), "Always") != 0)
        not_supported(v, "template.spec.restartPolicy", template_restart_policy(s->template_),
                      always);
    if (s->template_ != NULL && s->template_->spec != NULL &&
        s->template_->spec->has_activedeadlineseconds)
        invalid_int(v, "template.spec.activeDeadlineSeconds",
                    s->template_->spec->activedeadlineseconds,
                    "activeDeadlineSeconds in DaemonSet is not Supported");
    nonnegative(v, "minReadySeconds", s->minreadyseconds);
    type = s->updatestrategy != NULL ? str_or_empty(s->updatestrategy->type) : "";
    if (strcmp(type, "RollingUpdate") == 0) {
        if (s->updatestrategy->rollingupdate == NULL)
            required(v, "updateStrategy.rollingUpdate", NULL);
    } else if (strcmp(type, "OnDelete") != 0) {
        struct k8c_sbuf *b = val_begin(v);
        k8c_sbuf_puts(b, "apps.DaemonSetUpdateStrategy{Type:");
        goq(b, type);
        k8c_sbuf_puts(b, ", RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}");
        verr(v, E_NOT_SUPPORTED, "updateStrategy", val_str(v),
             "supported values: \"RollingUpdate\", \"OnDelete\"");
    }
    if (s->has_revisionhistorylimit)
        nonnegative(v, "revisionHistoryLimit", s->revisionhistorylimit);
    path_pop(v, old);
}

static void volume_claim_names(const stateful_set_spec_t *s, struct name_set *names)
{
    for (size_t i = 0; i < s->n_volumeclaimtemplates; i++) {
        const pvc_t *p = s->volumeclaimtemplates[i];
        if (p != NULL && p->metadata != NULL && !str_empty(p->metadata->name))
            name_set_add(names, p->metadata->name);
    }
}

static void validate_stateful_set(struct vctx *v, const stateful_set_t *ss)
{
    static const stateful_set_spec_t empty = K8S__IO__API__APPS__V1__STATEFUL_SET_SPEC__INIT;
    static const char *const always[] = {"Always", NULL};
    const stateful_set_spec_t *s = ss->spec != NULL ? ss->spec : &empty;
    const char *pmp = str_or_empty(s->podmanagementpolicy);
    const char *type = s->updatestrategy != NULL ? str_or_empty(s->updatestrategy->type) : "";
    size_t old = path_child(v, "spec");
    bool matches = false, is_empty = false;
    struct name_set claims = {0};

    if (pmp[0] == '\0')
        required(v, "podManagementPolicy", NULL);
    else if (strcmp(pmp, "OrderedReady") != 0 && strcmp(pmp, "Parallel") != 0)
        invalid_str(v, "podManagementPolicy", pmp, "must be 'OrderedReady' or 'Parallel'");
    if (type[0] == '\0') {
        required(v, "updateStrategy", NULL);
    } else if (strcmp(type, "OnDelete") == 0) {
        if (s->updatestrategy->rollingupdate != NULL) {
            k8c_sbuf_puts(val_begin(v), "(*apps.RollingUpdateStatefulSetStrategy)(...)");
            invalid_val(v, "updateStrategy.rollingUpdate",
                        "only allowed for updateStrategy 'RollingUpdate'");
        }
    } else if (strcmp(type, "RollingUpdate") != 0) {
        struct k8c_sbuf *b = val_begin(v);
        k8c_sbuf_puts(b, "apps.StatefulSetUpdateStrategy{Type:");
        goq(b, type);
        k8c_sbuf_puts(b, ", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}");
        invalid_val(v, "updateStrategy", "must be 'RollingUpdate' or 'OnDelete'");
    }
    nonnegative(v, "replicas", s->has_replicas ? s->replicas : 0);
    nonnegative(v, "minReadySeconds", s->minreadyseconds);
    if (s->selector == NULL) {
        required(v, "selector", NULL);
    } else {
        validate_label_selector(v, "selector", s->selector);
        if (selector_size(s->selector) == 0) {
            go_label_selector(val_begin(v), s->selector);
            invalid_val(v, "selector", "empty selector is invalid for statefulset");
        }
    }
    if (!selector_check(s->selector, s->template_, &matches, &is_empty)) {
        go_label_selector(val_begin(v), s->selector);
        invalid_val(v, "selector", NULL);
    } else {
        size_t o = path_child(v, "template");
        if (!is_empty && !matches)
            selector_mismatch(v, "metadata.labels", s->template_);
        /* the pod spec too, with the claim templates as volumes the containers may mount */
        volume_claim_names(s, &claims);
        validate_pod_template_spec(v, s->template_, &claims);
        name_set_free(&claims);
        path_pop(v, o);
    }
    if (strcmp(template_restart_policy(s->template_), "Always") != 0)
        not_supported(v, "template.spec.restartPolicy", template_restart_policy(s->template_),
                      always);
    if (s->template_ != NULL && s->template_->spec != NULL &&
        s->template_->spec->has_activedeadlineseconds)
        forbidden(v, "template.spec.activeDeadlineSeconds",
                  "activeDeadlineSeconds in StatefulSet is not Supported");
    path_pop(v, old);
}

/* ValidateStatefulSetUpdate's spec rule: only some fields may change */
static void stateful_set_spec_update(struct vctx *v, const stateful_set_t *ss,
                                     const stateful_set_t *old_ss)
{
    static const stateful_set_spec_t empty = K8S__IO__API__APPS__V1__STATEFUL_SET_SPEC__INIT;
    const stateful_set_spec_t *o = old_ss->spec != NULL ? old_ss->spec : &empty;
    stateful_set_spec_t clone = ss->spec != NULL ? *ss->spec : empty;

    clone.has_replicas = o->has_replicas;
    clone.replicas = o->replicas;
    clone.template_ = o->template_;
    clone.updatestrategy = o->updatestrategy;
    clone.has_minreadyseconds = o->has_minreadyseconds;
    clone.minreadyseconds = o->minreadyseconds;
    clone.ordinals = o->ordinals;
    clone.has_revisionhistorylimit = o->has_revisionhistorylimit;
    clone.revisionhistorylimit = o->revisionhistorylimit;
    clone.persistentvolumeclaimretentionpolicy = o->persistentvolumeclaimretentionpolicy;
    if (!msg_equal(&clone.base, &o->base))
        forbidden(v, "spec",
                  "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                  "'template', 'updateStrategy', 'revisionHistoryLimit', "
                  "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
}

/* validateJobSpec (the part shared with CronJob templates) at the current path */
static void validate_job_spec_common(struct vctx *v, const job_spec_t *s)
{
    static const char *const modes[] = {"NonIndexed", "Indexed", NULL};
    static const char *const restart[] = {"OnFailure", "Never", NULL};
    const char *rp;
    size_t old;

    if (s->has_parallelism)
        nonnegative(v, "parallelism", s->parallelism);
    if (s->has_completions)
        nonnegative(v, "completions", s->completions);
    if (s->has_activedeadlineseconds)
        nonnegative(v, "activeDeadlineSeconds", s->activedeadlineseconds);
    if (s->has_backofflimit)
        nonnegative(v, "backoffLimit", s->backofflimit);
    if (s->has_ttlsecondsafterfinished)
        nonnegative(v, "ttlSecondsAfterFinished", s->ttlsecondsafterfinished);
    if (s->completionmode != NULL) {
        if (!one_of(s->completionmode, modes))
            not_supported(v, "completionMode", s->completionmode, modes);
        if (strcmp(s->completionmode, "Indexed") == 0) {
            if (!s->has_completions)
                required(v, "completions", "when completion mode is Indexed");
            if (s->has_parallelism && s->parallelism > 100000)
                invalid_int(v, "parallelism", s->parallelism,
                            "must be less than or equal to 100000 when completion mode is Indexed");
        }
    }
    old = path_child(v, "template");
    validate_pod_template_spec(v, s->template_, NULL);
    path_pop(v, old);
    rp = template_restart_policy(s->template_);
    if (rp[0] == '\0' || strcmp(rp, "Always") == 0)
        required(v, "template.spec.restartPolicy", "valid values: \"OnFailure\", \"Never\"");
    else if (!one_of(rp, restart))
        not_supported(v, "template.spec.restartPolicy", rp, restart);
}

/* ValidateJobSpec at "spec" */
static void validate_job_spec(struct vctx *v, const job_spec_t *s)
{
    bool matches = false, empty = false;

    validate_job_spec_common(v, s);
    if (s->selector == NULL)
        required(v, "selector", NULL);
    else
        validate_label_selector(v, "selector", s->selector);
    if (selector_check(s->selector, s->template_, &matches, &empty) && !matches)
        selector_mismatch(v, "template.metadata.labels", s->template_);
}

static void validate_job(struct vctx *v, const job_t *job)
{
    static const job_spec_t empty = K8S__IO__API__BATCH__V1__JOB_SPEC__INIT;
    const job_spec_t *s = job->spec != NULL ? job->spec : &empty;
    size_t old = path_child(v, "spec");

    validate_job_spec(v, s);
    path_pop(v, old);
    if (s->completionmode != NULL && strcmp(s->completionmode, "Indexed") == 0 &&
        s->has_completions && s->completions > 0 && job->metadata != NULL) {
        char host[512];
        const char *msgs[MAX_MSGS];
        snprintf(host, sizeof(host), "%s-%d", str_or_empty(job->metadata->name),
                 s->completions - 1);
        if (dns1123_label_msgs(host, msgs) > 0) {
            char detail[600];
            snprintf(detail, sizeof(detail),
                     "will not able to create pod with invalid DNS label: %s", host);
            invalid_str(v, "metadata.name", job->metadata->name, detail);
        }
    }
}

static void validate_job_update(struct vctx *v, const job_t *job, const job_t *old_job)
{
    static const job_spec_t empty = K8S__IO__API__BATCH__V1__JOB_SPEC__INIT;
    const job_spec_t *s = job->spec != NULL ? job->spec : &empty;
    const job_spec_t *o = old_job->spec != NULL ? old_job->spec : &empty;
    size_t old = path_child(v, "spec");

    validate_job_spec(v, s);
    path_pop(v, old);
    selector_immutable(v, s->selector, o->selector);
    if (!msg_equal(s->template_ != NULL ? &s->template_->base : NULL,
                   o->template_ != NULL ? &o->template_->base : NULL)) {
        k8c_sbuf_puts(val_begin(v), "core.PodTemplateSpec{...}");
        invalid_val(v, "spec.template", "field is immutable");
    }
    if (!str_eq(s->completionmode, o->completionmode)) {
        if (s->completionmode == NULL)
            goq(val_begin(v), "null");
        else
            goq(val_begin(v), s->completionmode);
        invalid_val(v, "spec.completionMode", "field is immutable");
    }
}

/* robfig/cron ParseStandard, the field count only */
static void validate_schedule(struct vctx *v, const char *schedule)
{
    static const char *const descriptors[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                              "@daily",  "@midnight", "@hourly",  NULL};
    const char *s = schedule;
    int fields = 0;
    char detail[512];

    while (*s == ' ' || *s == '\t')
        s++;
    if (strncmp(s, "TZ=", 3) == 0 || strncmp(s, "CRON_TZ=", 8) == 0) {
        while (*s && *s != ' ' && *s != '\t')
            s++;
        while (*s == ' ' || *s == '\t')
            s++;
    }
    if (s[0] == '@') {
        if (!one_of(s, descriptors) && strncmp(s, "@every ", 7) != 0) {
            snprintf(detail, sizeof(detail), "unrecognized descriptor: %s", s);
            invalid_str(v, "schedule", schedule, detail);
        }
    } else {
        for (const char *p = s; *p;) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0')
                break;
            fields++;
            while (*p && *p != ' ' && *p != '\t')
                p++;
        }
        if (fields != 5) {
            snprintf(detail, sizeof(detail), "expected exactly 5 fields, found %d: %s", fields, s);
            invalid_str(v, "schedule", schedule, detail);
        }
    }
    if (strstr(schedule, "TZ") != NULL)
        invalid_str(v, "schedule", schedule,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
}

static void validate_cron_job(struct vctx *v, const cron_job_t *cj, bool create)
{
    static const K8s__Io__Api__Batch__V1__CronJobSpec empty =
        K8S__IO__API__BATCH__V1__CRON_JOB_SPEC__INIT;
    static const job_spec_t empty_job = K8S__IO__API__BATCH__V1__JOB_SPEC__INIT;
    static const char *const policies[] = {"Allow", "Forbid", "Replace", NULL};
    const K8s__Io__Api__Batch__V1__CronJobSpec *s = cj->spec != NULL ? cj->spec : &empty;
    const job_spec_t *js =
        s->jobtemplate != NULL && s->jobtemplate->spec != NULL ? s->jobtemplate->spec : &empty_job;
    size_t old = path_child(v, "spec"), o;

    if (str_empty(s->schedule))
        required(v, "schedule", NULL);
    else
        validate_schedule(v, s->schedule);
    if (s->has_startingdeadlineseconds)
        nonnegative(v, "startingDeadlineSeconds", s->startingdeadlineseconds);
    if (str_empty(s->concurrencypolicy))
        required(v, "concurrencyPolicy", NULL);
    else if (!one_of(s->concurrencypolicy, policies))
        not_supported(v, "concurrencyPolicy", s->concurrencypolicy, policies);
    o = path_child(v, "jobTemplate.spec");
    validate_job_spec_common(v, js);
    if (js->selector != NULL) {
        go_label_selector(val_begin(v), js->selector);
        invalid_val(v, "selector", "`selector` will be auto-generated");
    }
    if (js->has_manualselector && js->manualselector)
        verr(v, E_NOT_SUPPORTED, "manualSelector", "true", "supported values: \"nil\", \"false\"");
    path_pop(v, o);
    if (s->has_successfuljobshistorylimit)
        nonnegative(v, "successfulJobsHistoryLimit", s->successfuljobshistorylimit);
    if (s->has_failedjobshistorylimit)
        nonnegative(v, "failedJobsHistoryLimit", s->failedjobshistorylimit);
    path_pop(v, old);
    if (create && cj->metadata != NULL && strlen(str_or_empty(cj->metadata->name)) > 52)
        invalid_str(v, "metadata.name", cj->metadata->name, "must be no more than 52 characters");
}

/* ---- Service, ConfigMap, Secret, Namespace, PersistentVolumeClaim -------------------------- */

static bool service_headless(const service_spec_t *s)
{
    return (s->n_clusterips > 0 && str_eq(s->clusterips[0], "None")) ||
           (s->n_clusterips == 0 && str_eq(s->clusterip, "None"));
}

/* %#v of the core.ServicePort key upstream's duplicate-port check prints */
static void go_service_port_key(struct k8c_sbuf *b, const service_port_t *p)
{
    k8c_sbuf_puts(b, "core.ServicePort{Name:\"\", Protocol:");
    goq(b, p->protocol);
    k8c_sbuf_printf(b,
                    ", AppProtocol:(*string)(nil), Port:%d, TargetPort:intstr.IntOrString{Type:0, "
                    "IntVal:0, StrVal:\"\"}, NodePort:0}",
                    p->has_port ? p->port : 0);
}

static void validate_service(struct vctx *v, const service_t *svc)
{
    static const service_spec_t empty = K8S__IO__API__CORE__V1__SERVICE_SPEC__INIT;
    static const char *const types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
                                        NULL};
    static const char *const affinities[] = {"ClientIP", "None", NULL};
    const service_spec_t *s = svc->spec != NULL ? svc->spec : &empty;
    const char *type = str_or_empty(s->type);
    bool headless = service_headless(s);
    struct name_set names = {0};
    size_t old = path_child(v, "spec");

    if (s->n_ports == 0 && !headless && strcmp(type, "ExternalName") != 0)
        required(v, "ports", NULL);
    if (strcmp(type, "LoadBalancer") == 0 || strcmp(type, "NodePort") == 0) {
        if (headless) {
            char detail[64];
            snprintf(detail, sizeof(detail), "may not be set to 'None' for %s services", type);
            invalid_str(v, "clusterIPs[0]", "None", detail);
        }
        for (size_t i = 0; strcmp(type, "LoadBalancer") == 0 && i < s->n_ports; i++) {
            if (s->ports[i]->has_port && s->ports[i]->port == 10250) {
                size_t o = path_child(v, "ports");
                path_index(v, i);
                invalid_int(v, NULL, 10250,
                            "may not expose port 10250 externally since it is used by kubelet");
                path_pop(v, o);
            }
        }
    } else if (strcmp(type, "ExternalName") == 0) {
        char *cname = k8c_strdup(str_or_empty(s->externalname));
        size_t len = strlen(cname);
        if (s->n_clusterips > 0)
            forbidden(v, "clusterIPs", "may not be set for ExternalName services");
        if (s->n_ipfamilies > 0)
            forbidden(v, "ipFamilies", "may not be set for ExternalName services");
        if (s->ipfamilypolicy != NULL)
            forbidden(v, "ipFamilyPolicy", "may not be set for ExternalName services");
        if (len > 0 && cname[len - 1] == '.')
            cname[--len] = '\0';
        if (len > 0)
            dns1123_subdomain(v, "externalName", cname);
        else
            required(v, "externalName", NULL);
        k8c_free(cname);
    }
    for (size_t i = 0; i < s->n_ports; i++) {
        const service_port_t *p = s->ports[i];
        size_t o = path_child(v, "ports");

        path_index(v, i);
        if (s->n_ports > 1 && str_empty(p->name)) {
            required(v, "name", NULL);
        } else if (!str_empty(p->name)) {
            dns1123_label(v, "name", p->name);
            if (name_set_has(&names, p->name))
                duplicate_str(v, "name", p->name);
            else
                name_set_add(&names, p->name);
        }
        port_num(v, "port", p->has_port ? p->port : 0);
        if (str_empty(p->protocol))
            required(v, "protocol", NULL);
        else if (!one_of(p->protocol, port_protocols))
            not_supported(v, "protocol", p->protocol, port_protocols);
        port_num_or_name(v, "targetPort", p->targetport);
        if (p->appprotocol != NULL)
            qualified_name(v, "appProtocol", p->appprotocol);
        path_pop(v, o);
    }
    validate_labels(v, "selector", (void *const *)s->selector, s->n_selector);
    if (str_empty(s->sessionaffinity))
        required(v, "sessionAffinity", NULL);
    else if (!one_of(s->sessionaffinity, affinities))
        not_supported(v, "sessionAffinity", s->sessionaffinity, affinities);
    if (str_eq(s->sessionaffinity, "None") && s->sessionaffinityconfig != NULL)
        forbidden(v, "sessionAffinityConfig", "must not be set when session affinity is None");
    if (type[0] == '\0')
        required(v, "type", NULL);
    else if (!one_of(type, types))
        not_supported(v, "type", type, types);
    if (strcmp(type, "ClusterIP") == 0) {
        for (size_t i = 0; i < s->n_ports; i++) {
            if (s->ports[i]->has_nodeport && s->ports[i]->nodeport != 0) {
                size_t o = path_child(v, "ports");
                path_index(v, i);
                forbidden(v, "nodePort", "may not be used when `type` is 'ClusterIP'");
                path_pop(v, o);
            }
        }
    }
    for (size_t i = 0; i < s->n_ports; i++) {
        const service_port_t *p = s->ports[i];
        size_t o;
        if (!p->has_nodeport || p->nodeport == 0)
            continue;
        for (size_t j = 0; j < i; j++) {
            const service_port_t *q = s->ports[j];
            if (q->has_nodeport && q->nodeport == p->nodeport && str_eq(q->protocol, p->protocol)) {
                char buf[16];
                o = path_child(v, "ports");
                path_index(v, i);
                snprintf(buf, sizeof(buf), "%d", p->nodeport);
                verr(v, E_DUPLICATE, "nodePort", buf, NULL);
                path_pop(v, o);
                break;
            }
        }
    }
    for (size_t i = 0; i < s->n_ports; i++) {
        const service_port_t *p = s->ports[i];
        for (size_t j = 0; j < i; j++) {
            const service_port_t *q = s->ports[j];
            if ((q->has_port ? q->port : 0) == (p->has_port ? p->port : 0) &&
                str_eq(q->protocol, p->protocol)) {
                size_t o = path_child(v, "ports");
                path_index(v, i);
                go_service_port_key(val_begin(v), p);
                verr(v, E_DUPLICATE, NULL, val_str(v), NULL);
                path_pop(v, o);
                break;
            }
        }
    }
    name_set_free(&names);
    path_pop(v, old);
}

/* validateUpgradeDowngradeClusterIPs: the primary (and secondary) cluster IP may not change */
static void validate_service_update(struct vctx *v, const service_t *svc, const service_t *old_svc)
{
    static const service_spec_t empty = K8S__IO__API__CORE__V1__SERVICE_SPEC__INIT;
    const service_spec_t *s = svc->spec != NULL ? svc->spec : &empty;
    const service_spec_t *o = old_svc->spec != NULL ? old_svc->spec : &empty;
    char *const *new_ips = s->clusterips, *const *old_ips = o->clusterips;
    char *one_new[1], *one_old[1];
    size_t n_new = s->n_clusterips, n_old = o->n_clusterips;

    if (str_eq(s->type, "ExternalName") || str_eq(o->type, "ExternalName"))
        return;
    /* objects whose clusterIPs were not filled in from clusterIP yet */
    if (n_new == 0 && !str_empty(s->clusterip)) {
        one_new[0] = s->clusterip;
        new_ips = one_new;
        n_new = 1;
    }
    if (n_old == 0 && !str_empty(o->clusterip)) {
        one_old[0] = o->clusterip;
        old_ips = one_old;
        n_old = 1;
    }
    if (n_new > 0 && n_old > 0 && !str_eq(new_ips[0], old_ips[0])) {
        go_string_slice(val_begin(v), new_ips, n_new);
        invalid_val(v, "spec.clusterIPs[0]", "may not change once set");
    }
    if (n_new == 2 && n_old == 2 && !str_eq(new_ips[1], old_ips[1])) {
        go_string_slice(val_begin(v), new_ips, n_new);
        invalid_val(v, "spec.clusterIPs[1]", "may not change once set");
    }
    /* validateUpgradeDowngradeIPFamilies: the families set may not change (%#v of a
     * []core.IPFamily) */
    for (size_t i = 0; i < 2; i++) {
        if (o->n_ipfamilies <= i || s->n_ipfamilies <= i ||
            str_eq(s->ipfamilies[i], o->ipfamilies[i]))
            continue;
        go_slice(val_begin(v), "core.IPFamily", s->ipfamilies, s->n_ipfamilies);
        invalid_val(v, i == 0 ? "spec.ipFamilies[0]" : "spec.ipFamilies[1]",
                    "may not change once set");
    }
}

/* config keys of a map field at child[key]; adds the value sizes to *total */
static void config_keys(struct vctx *v, const char *child, void *const *entries, size_t n)
{
    void **sorted = sorted_entries(entries, n);
    const char *msgs[MAX_MSGS];

    for (size_t i = 0; i < n; i++) {
        const str_entry_t *e = sorted[i];
        const char *key = str_or_empty(e->key);
        size_t old = path_child(v, child);

        path_key(v, key);
        invalid_msgs(v, NULL, key, msgs, config_key_msgs(key, msgs));
        path_pop(v, old);
    }
    k8c_free(sorted);
}

static void validate_config_map(struct vctx *v, const config_map_t *cm)
{
    size_t total = 0;

    config_keys(v, "data", (void *const *)cm->data, cm->n_data);
    for (size_t i = 0; i < cm->n_data; i++) {
        const str_entry_t *e = (const str_entry_t *)cm->data[i];
        size_t old;
        total += strlen(str_or_empty(e->value));
        if (map_find((void *const *)cm->binarydata, cm->n_binarydata, e->key) == NULL)
            continue;
        old = path_child(v, "data");
        path_key(v, e->key);
        invalid_str(v, NULL, str_or_empty(e->key), "duplicate of key present in binaryData");
        path_pop(v, old);
    }
    config_keys(v, "binaryData", (void *const *)cm->binarydata, cm->n_binarydata);
    for (size_t i = 0; i < cm->n_binarydata; i++)
        total += cm->binarydata[i]->has_value ? cm->binarydata[i]->value.len : 0;
    if (total > MAX_SECRET_SIZE)
        too_long(v, NULL, MAX_SECRET_SIZE);
}

/* Whether two bytes maps hold the same keys and values */
static bool bytes_map_equal(bytes_entry_t *const *a, size_t na, bytes_entry_t *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        const bytes_entry_t *y = NULL;
        for (size_t j = 0; j < nb && y == NULL; j++)
            if (str_eq(a[i]->key, b[j]->key))
                y = b[j];
        if (y == NULL || a[i]->value.len != y->value.len ||
            (a[i]->value.len > 0 && memcmp(a[i]->value.data, y->value.data, a[i]->value.len) != 0))
            return false;
    }
    return true;
}

static bool str_map_equal(str_entry_t *const *a, size_t na, str_entry_t *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        const str_entry_t *y = map_find((void *const *)b, nb, a[i]->key);
        if (y == NULL || !str_eq(a[i]->value, y->value))
            return false;
    }
    return true;
}

/* ValidateConfigMapUpdate before its ValidateConfigMap */
static void config_map_immutable(struct vctx *v, const config_map_t *cm, const config_map_t *o)
{
    if (o->has_immutable && o->immutable) {
        if (!cm->has_immutable || !cm->immutable)
            forbidden(v, "immutable", "field is immutable when `immutable` is set");
        if (!str_map_equal((str_entry_t *const *)cm->data, cm->n_data,
                           (str_entry_t *const *)o->data, o->n_data))
            forbidden(v, "data", "field is immutable when `immutable` is set");
        if (!bytes_map_equal((bytes_entry_t *const *)cm->binarydata, cm->n_binarydata,
                             (bytes_entry_t *const *)o->binarydata, o->n_binarydata))
            forbidden(v, "binaryData", "field is immutable when `immutable` is set");
    }
}

/* Whether the secret has key in data or stringData (merged into data before validation) */
static bool secret_has(const secret_t *s, const char *key, size_t *len)
{
    for (size_t i = 0; i < s->n_stringdata; i++) {
        const str_entry_t *e = (const str_entry_t *)s->stringdata[i];
        if (str_eq(e->key, key)) {
            *len = strlen(str_or_empty(e->value));
            return true;
        }
    }
    for (size_t i = 0; i < s->n_data; i++) {
        if (str_eq(s->data[i]->key, key)) {
            *len = s->data[i]->has_value ? s->data[i]->value.len : 0;
            return true;
        }
    }
    return false;
}

static void validate_secret(struct vctx *v, const secret_t *s)
{
    const char *type = str_or_empty(s->type);
    size_t total = 0, len, n = s->n_data + s->n_stringdata;
    str_entry_t **keys = k8c_calloc(n + 1, sizeof(*keys));
    size_t n_keys = 0;

    /* data and stringData keys, once each (stringData wins, as the conversion does) */
    for (size_t i = 0; i < s->n_stringdata; i++)
        keys[n_keys++] = (str_entry_t *)s->stringdata[i];
    for (size_t i = 0; i < s->n_data; i++)
        if (map_find((void *const *)s->stringdata, s->n_stringdata, s->data[i]->key) == NULL)
            keys[n_keys++] = (str_entry_t *)s->data[i];
    config_keys(v, "data", (void *const *)keys, n_keys);
    for (size_t i = 0; i < n_keys; i++)
        if (secret_has(s, keys[i]->key, &len))
            total += len;
    k8c_free(keys);
    if (total > MAX_SECRET_SIZE)
        too_long(v, "data", MAX_SECRET_SIZE);
    if (strcmp(type, "kubernetes.io/service-account-token") == 0) {
        const meta_t *m = s->metadata;
        const str_entry_t *e = m != NULL ? map_find((void *const *)m->annotations, m->n_annotations,
                                                    "kubernetes.io/service-account.name")
                                         : NULL;
        if (e == NULL || str_empty(e->value))
            required(v, "metadata.annotations[kubernetes.io/service-account.name]", NULL);
    } else if (strcmp(type, "kubernetes.io/dockercfg") == 0) {
        if (!secret_has(s, ".dockercfg", &len))
            required(v, "data[.dockercfg]", NULL);
    } else if (strcmp(type, "kubernetes.io/dockerconfigjson") == 0) {
        if (!secret_has(s, ".dockerconfigjson", &len))
            required(v, "data[.dockerconfigjson]", NULL);
    } else if (strcmp(type, "kubernetes.io/basic-auth") == 0) {
        if (!secret_has(s, "username", &len) && !secret_has(s, "password", &len)) {
            required(v, "data[username]", NULL);
            required(v, "data[password]", NULL);
        }
    } else if (strcmp(type, "kubernetes.io/ssh-auth") == 0) {
        if (!secret_has(s, "ssh-privatekey", &len) || len == 0)
            required(v, "data[ssh-privatekey]", NULL);
    } else if (strcmp(type, "kubernetes.io/tls") == 0) {
        if (!secret_has(s, "tls.crt", &len))
            required(v, "data[tls.crt]", NULL);
        if (!secret_has(s, "tls.key", &len))
            required(v, "data[tls.key]", NULL);
    }
}

/* ValidateSecretUpdate before its ValidateSecret */
static void secret_immutable(struct vctx *v, const secret_t *s, const secret_t *o)
{
    immutable_str(v, "type", s->type, o->type);
    if (o->has_immutable && o->immutable) {
        if (!s->has_immutable || !s->immutable)
            forbidden(v, "immutable", "field is immutable when `immutable` is set");
        if (s->n_stringdata > 0 || !bytes_map_equal(s->data, s->n_data, o->data, o->n_data))
            forbidden(v, "data", "field is immutable when `immutable` is set");
    }
}

/* ValidateNamespace's finalizer names at spec.finalizers; on an update (namespaces/finalize:
 * ValidateNamespaceFinalizeUpdate; other updates keep the stored spec) at spec.finalizers[i]. */
static void validate_namespace(struct vctx *v, const namespace_t *ns, bool update)
{
    const char *msgs[MAX_MSGS];
    char path[48] = "spec.finalizers";

    if (ns->spec == NULL)
        return;
    for (size_t i = 0; i < ns->spec->n_finalizers; i++) {
        const char *f = str_or_empty(ns->spec->finalizers[i]);
        size_t n = qualified_name_msgs(f, msgs);
        if (update)
            snprintf(path, sizeof(path), "spec.finalizers[%zu]", i);
        if (n > 0)
            invalid_msgs(v, path, f, msgs, n);
        else if (strchr(f, '/') == NULL && strcmp(f, "kubernetes") != 0 &&
                 strcmp(f, "orphan") != 0 && strcmp(f, "foregroundDeletion") != 0)
            invalid_str(v, path, f,
                        "name is neither a standard finalizer name nor is it fully qualified");
    }
}

typedef K8s__Io__Api__Core__V1__VolumeResourceRequirements__RequestsEntry request_entry_t;

static const request_entry_t *storage_request(const pvc_spec_t *s)
{
    if (s == NULL || s->resources == NULL)
        return NULL;
    return (const request_entry_t *)map_find((void *const *)s->resources->requests,
                                             s->resources->n_requests, "storage");
}

/*
 * ValidatePersistentVolumeClaimUpdate past the metadata: the spec is immutable but for a
 * volumeName set once, a storageClassName set where there was none (or only the beta
 * annotation, to its value) and, on a bound claim, the storage request, which may not
 * shrink; volumeMode is immutable (at "volumeMode", as upstream's path says). Upstream adds a
 * diff of the two specs to the first message; it is left out, as for pods.
 */
static void validate_pvc_update(struct vctx *v, const pvc_t *pvc, const pvc_t *old)
{
    static const pvc_spec_t empty = K8S__IO__API__CORE__V1__PERSISTENT_VOLUME_CLAIM_SPEC__INIT;
    static const char beta_class[] = "volume.beta.kubernetes.io/storage-class";
    const pvc_spec_t *ns = pvc->spec ? pvc->spec : &empty, *os = old->spec ? old->spec : &empty;
    pvc_spec_t nc = *ns, oc = *os; /* shallow: fields swapped below are borrowed */
    const meta_t *nm = pvc->metadata, *om = old->metadata;
    const str_entry_t *oa =
        om ? map_find((void *const *)om->annotations, om->n_annotations, beta_class) : NULL;
    const str_entry_t *na =
        nm ? map_find((void *const *)nm->annotations, nm->n_annotations, beta_class) : NULL;
    const char *old_ann = oa ? str_or_empty(oa->value) : NULL;
    const char *new_ann = na ? str_or_empty(na->value) : NULL;

    if (str_empty(os->volumename))
        oc.volumename = nc.volumename;
    if (old_ann != NULL && new_ann != NULL && os->storageclassname == NULL &&
        ns->storageclassname != NULL && strcmp(old_ann, new_ann) == 0 &&
        strcmp(ns->storageclassname, old_ann) == 0)
        nc.storageclassname = NULL; /* the beta annotation's class written into the spec */
    else if (old_ann == NULL && os->storageclassname == NULL && ns->storageclassname != NULL)
        nc.storageclassname = NULL; /* a class given to a claim that had none (retroactive) */

    /* a bound claim's storage request may change: compared as the old one */
    K8s__Io__Api__Core__V1__VolumeResourceRequirements res;
    request_entry_t **reqs = NULL;
    const request_entry_t *ostorage = storage_request(os), *nstorage = storage_request(ns);
    bool bound = pvc->status != NULL && str_eq(pvc->status->phase, "Bound");
    if (bound && ns->resources != NULL && ns->resources->n_requests > 0) {
        size_t n = 0, cap = ns->resources->n_requests + 1;
        reqs = k8c_calloc(cap, sizeof(*reqs));
        bool placed = ostorage == NULL;
        for (size_t i = 0; i < ns->resources->n_requests; i++) {
            request_entry_t *e = ns->resources->requests[i];
            if (str_eq(e->key, "storage"))
                continue;
            if (!placed && strcmp(str_or_empty(e->key), "storage") > 0) {
                reqs[n++] = (request_entry_t *)ostorage;
                placed = true;
            }
            reqs[n++] = e;
        }
        if (!placed)
            reqs[n++] = (request_entry_t *)ostorage;
        res = *ns->resources;
        res.requests = reqs;
        res.n_requests = n;
        nc.resources = &res;
    }
    if (!msg_equal(&nc.base, &oc.base))
        forbidden(v, "spec",
                  "spec is immutable after creation except resources.requests and "
                  "volumeAttributesClassName for bound claims");
    k8c_free(reqs);

    struct k8c_quantity nq, oq;
    char ncanon[K8C_QUANTITY_STR_MAX], ocanon[K8C_QUANTITY_STR_MAX];
    if (entry_quantity((const quantity_entry_t *)nstorage, &nq, ncanon) &&
        entry_quantity((const quantity_entry_t *)ostorage, &oq, ocanon) &&
        k8c_quantity_cmp(&nq, &oq) < 0)
        forbidden(v, "spec.resources.requests.storage",
                  "field can not be less than previous value");
    if (!str_eq(ns->volumemode, os->volumemode)) {
        if (ns->volumemode != NULL)
            goq(val_begin(v), ns->volumemode);
        else
            k8c_sbuf_puts(val_begin(v), "null");
        invalid_val(v, "volumeMode", "field is immutable");
    }
}

/* ValidatePersistentVolumeClaimSpec (access modes and the storage request) at "spec" */ /* ValidatePersistentVolumeClaimSpec
                                                                                            (access
                                                                                            modes
                                                                                            and the
                                                                                            storage
                                                                                            request)
                                                                                            at
                                                                                            "spec"
                                                                                          */
static void validate_pvc_spec(struct vctx *v, const pvc_spec_t *s)
{
    static const pvc_spec_t empty = K8S__IO__API__CORE__V1__PERSISTENT_VOLUME_CLAIM_SPEC__INIT;
    static const char *const modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                        "ReadWriteOncePod", NULL};
    const quantity_entry_t *storage;
    size_t old = path_child(v, "spec");

    if (s == NULL)
        s = &empty;
    if (s->n_accessmodes == 0)
        required(v, "accessModes", "at least 1 access mode is required");
    for (size_t i = 0; i < s->n_accessmodes; i++)
        if (!one_of(s->accessmodes[i], modes))
            not_supported(v, "accessModes", str_or_empty(s->accessmodes[i]), modes);
    storage = s->resources != NULL
                  ? (const quantity_entry_t *)map_find((void *const *)s->resources->requests,
                                                       s->resources->n_requests, "storage")
                  : NULL;
    if (storage == NULL) {
        required(v, "resources[storage]", NULL);
    } else {
        struct k8c_quantity q;
        char canon[K8C_QUANTITY_STR_MAX];
        if (entry_quantity(storage, &q, canon) && q.nano <= 0)
            invalid_str(v, "resources[storage]", canon, "must be greater than zero");
    }
    path_pop(v, old);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

/* The metadata field of a top-level object, found by name in its descriptor. */
static const meta_t *object_meta(const ProtobufCMessage *obj)
{
    const ProtobufCFieldDescriptor *f;

    if (obj == NULL)
        return NULL;
    f = protobuf_c_message_descriptor_get_field_by_name(obj->descriptor, "metadata");
    if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    return *(const meta_t *const *)((const char *)obj + f->offset);
}

static enum name_rule name_rule_of(const struct api_resource *r)
{
    const char *group = r != NULL ? str_or_empty(r->group) : "";
    const char *kind = r != NULL ? str_or_empty(r->kind) : "";

    if (strcmp(group, "") == 0 && strcmp(kind, "Namespace") == 0)
        return NAME_LABEL;
    if (strcmp(group, "") == 0 && strcmp(kind, "Service") == 0)
        return NAME_DNS1035;
    if (strcmp(group, "rbac.authorization.k8s.io") == 0 || strcmp(kind, "PodDisruptionBudget") == 0)
        return NAME_PATH;
    return NAME_SUBDOMAIN;
}

/* The kind-specific checks after the metadata ones (old NULL on create). */
/* ---- HorizontalPodAutoscaler (autoscaling/v2; v1 is validated after conversion to it) ------- */

#define HPA2(t) K8s__Io__Api__Autoscaling__V2__##t
typedef HPA2(HorizontalPodAutoscaler) hpa_t;

/* IsValidPathSegmentName at child (value non-empty) */
static void path_segment_name(struct vctx *v, const char *child, const char *value)
{
    if (strcmp(value, ".") == 0)
        invalid_str(v, child, value, "may not be '.'");
    else if (strcmp(value, "..") == 0)
        invalid_str(v, child, value, "may not be '..'");
    if (strchr(value, '/') != NULL)
        invalid_str(v, child, value, "may not contain '/'");
    if (strchr(value, '%') != NULL)
        invalid_str(v, child, value, "may not contain '%'");
}

/* ValidateCrossVersionObjectReference at child */
static void hpa_object_ref(struct vctx *v, const char *child,
                           const HPA2(CrossVersionObjectReference) * ref)
{
    size_t old = path_child(v, child);
    const char *kind = ref ? str_or_empty(ref->kind) : "",
               *name = ref ? str_or_empty(ref->name) : "";

    if (kind[0] == '\0')
        required(v, "kind", NULL);
    else
        path_segment_name(v, "kind", kind);
    if (name[0] == '\0')
        required(v, "name", NULL);
    else
        path_segment_name(v, "name", name);
    path_pop(v, old);
}

/* validateMetricIdentifier at "metric" */
static void hpa_metric_id(struct vctx *v, const HPA2(MetricIdentifier) * id)
{
    size_t old = path_child(v, "metric");
    const char *name = id ? str_or_empty(id->name) : "";

    if (name[0] == '\0')
        required(v, "name", "must specify a metric name");
    else
        path_segment_name(v, "name", name);
    path_pop(v, old);
}

/* A quantity target that is not positive: Invalid with its canonical text (upstream prints
 * the Go struct of the Quantity there). */
static void hpa_positive(struct vctx *v, const char *child, const quantity_t *q)
{
    struct k8c_quantity parsed;
    char canon[64];
    const char *text = q ? str_or_empty(q->string) : "";

    if (q == NULL || k8c_quantity_parse(text, strlen(text), &parsed) != 0)
        return; /* the codec refuses quantities that do not parse */
    k8c_quantity_format(&parsed, canon);
    if (k8c_quantity_is_zero(&parsed) || canon[0] == '-')
        invalid_str(v, child, canon, "must be positive");
}

/* validateMetricTarget at "target" */
static void hpa_target(struct vctx *v, const HPA2(MetricTarget) * t)
{
    static const HPA2(MetricTarget) empty = K8S__IO__API__AUTOSCALING__V2__METRIC_TARGET__INIT;
    size_t old = path_child(v, "target");
    const char *type;

    if (t == NULL)
        t = &empty;
    type = str_or_empty(t->type);
    if (type[0] == '\0')
        required(v, "type", "must specify a metric target type");
    if (strcmp(type, "Utilization") != 0 && strcmp(type, "Value") != 0 &&
        strcmp(type, "AverageValue") != 0)
        invalid_str(v, "type", type, "must be either Utilization, Value, or AverageValue");
    hpa_positive(v, "value", t->value);
    hpa_positive(v, "averageValue", t->averagevalue);
    if (t->has_averageutilization && t->averageutilization < 1)
        invalid_int(v, "averageUtilization", t->averageutilization, "must be greater than 0");
    path_pop(v, old);
}

/* The target-field checks each source makes after validateMetricTarget: required is the field
 * one of which must be set (NULL: none), both the one forbidden when two are. */
static void hpa_target_needs(struct vctx *v, bool missing, const char *required_child,
                             const char *required_msg, bool both, const char *both_child,
                             const char *both_msg)
{
    size_t old = path_child(v, "target");

    if (missing)
        required(v, required_child, required_msg);
    if (both)
        forbidden(v, both_child, both_msg);
    path_pop(v, old);
}

/* validateObjectSource, validateExternalSource, validatePodsSource, validateResourceSource
 * and validateContainerResourceSource, at the source's field */
static void hpa_object_source(struct vctx *v, const HPA2(MetricSpec) * m)
{
    const HPA2(MetricTarget) *t = m->object->target;
    hpa_object_ref(v, "describedObject", m->object->describedobject);
    hpa_metric_id(v, m->object->metric);
    hpa_target(v, t);
    hpa_target_needs(v, t == NULL || (t->value == NULL && t->averagevalue == NULL), "averageValue",
                     "must set either a target value or averageValue", false, NULL, NULL);
}

static void hpa_external_source(struct vctx *v, const HPA2(MetricSpec) * m)
{
    const HPA2(MetricTarget) *t = m->external->target;
    hpa_metric_id(v, m->external->metric);
    hpa_target(v, t);
    hpa_target_needs(v, t == NULL || (t->value == NULL && t->averagevalue == NULL), "averageValue",
                     "must set either a target value for metric or a per-pod target",
                     t != NULL && t->value != NULL && t->averagevalue != NULL, "value",
                     "may not set both a target value for metric and a per-pod target");
}

static void hpa_pods_source(struct vctx *v, const HPA2(MetricSpec) * m)
{
    const HPA2(MetricTarget) *t = m->pods->target;
    hpa_metric_id(v, m->pods->metric);
    hpa_target(v, t);
    hpa_target_needs(v, t == NULL || t->averagevalue == NULL, "averageValue",
                     "must specify a positive target averageValue", false, NULL, NULL);
}

/* The target of a resource or container resource metric (after its names) */
static void hpa_resource_target(struct vctx *v, const HPA2(MetricTarget) * t)
{
    hpa_target(v, t);
    hpa_target_needs(
        v, t == NULL || (!t->has_averageutilization && t->averagevalue == NULL),
        "averageUtilization", "must set either a target raw value or a target utilization",
        t != NULL && t->has_averageutilization && t->averagevalue != NULL, "averageValue",
        "may not set both a target raw value and a target utilization");
}

static void hpa_resource_source(struct vctx *v, const HPA2(MetricSpec) * m)
{
    if (str_empty(m->resource->name))
        required(v, "name", "must specify a resource name");
    hpa_resource_target(v, m->resource->target);
}

static void hpa_container_resource_source(struct vctx *v, const HPA2(MetricSpec) * m)
{
    const HPA2(ContainerResourceMetricSource) *c = m->containerresource;
    if (str_empty(c->name))
        required(v, "name", "must specify a resource name");
    if (str_empty(c->container))
        required(v, "container", "must specify a container");
    else
        dns1123_label(v, "container", c->container);
    hpa_resource_target(v, c->target);
}

/* validateMetricSpec at the metric's index */
static void hpa_metric(struct vctx *v, const HPA2(MetricSpec) * m)
{
    /* validMetricSourceTypes.List(): sorted */
    static const char *const types[] = {"ContainerResource", "External", "Object", "Pods",
                                        "Resource",          NULL};
    /* the sources in the order upstream looks at them: field, type, set, check */
    const struct {
        const char *field, *type;
        bool set;
        void (*check)(struct vctx *v, const HPA2(MetricSpec) * m);
    } sources[] = {
        {"object", "Object", m->object != NULL, hpa_object_source},
        {"external", "External", m->external != NULL, hpa_external_source},
        {"pods", "Pods", m->pods != NULL, hpa_pods_source},
        {"resource", "Resource", m->resource != NULL, hpa_resource_source},
        {"containerResource", "ContainerResource", m->containerresource != NULL,
         hpa_container_resource_source},
    };
    const size_t n_sources = sizeof(sources) / sizeof(sources[0]);
    const char *type = str_or_empty(m->type), *expected = NULL;
    size_t n_set = 0;

    if (type[0] == '\0')
        required(v, "type", "must specify a metric source type");
    if (!one_of(type, types))
        not_supported(v, "type", type, types);
    for (size_t i = 0; i < n_sources; i++) {
        if (!sources[i].set || n_set++ > 0)
            continue; /* only the first source present is looked into */
        size_t old = path_child(v, sources[i].field);
        sources[i].check(v, m);
        path_pop(v, old);
    }
    for (size_t i = 0; i < n_sources; i++) {
        if (strcmp(type, sources[i].type) != 0)
            continue;
        expected = sources[i].field;
        if (!sources[i].set)
            required(v, sources[i].field, "must populate information for the given metric source");
    }
    if (expected == NULL)
        not_supported(v, "type", type, types); /* upstream says it twice; the message once */
    for (size_t i = 0; n_set != 1 && i < n_sources; i++)
        if (sources[i].set && (expected == NULL || strcmp(sources[i].field, expected) != 0))
            forbidden(v, sources[i].field, "must populate the given metric source only");
}

/* validateScalingRules at child */
static void hpa_rules(struct vctx *v, const char *child, const HPA2(HPAScalingRules) * r)
{
    static const char *const selects[] = {"Disabled", "Max", "Min", NULL};
    static const char *const policy_types[] = {"Percent", "Pods", NULL};
    size_t old;

    if (r == NULL)
        return;
    old = path_child(v, child);
    if (r->has_stabilizationwindowseconds && r->stabilizationwindowseconds < 0)
        invalid_int(v, "stabilizationWindowSeconds", r->stabilizationwindowseconds,
                    "must be greater than or equal to zero");
    if (r->has_stabilizationwindowseconds && r->stabilizationwindowseconds > 3600)
        invalid_int(v, "stabilizationWindowSeconds", r->stabilizationwindowseconds,
                    "must be less than or equal to 3600");
    if (r->selectpolicy != NULL && !one_of(r->selectpolicy, selects))
        not_supported(v, "selectPolicy", r->selectpolicy, selects);
    if (r->n_policies == 0)
        required(v, "policies", "must specify at least one Policy");
    for (size_t i = 0; i < r->n_policies; i++) {
        const HPA2(HPAScalingPolicy) *p = r->policies[i];
        size_t o = path_child(v, "policies");
        path_index(v, i);
        if (!one_of(str_or_empty(p->type), policy_types))
            not_supported(v, "type", str_or_empty(p->type), policy_types);
        if (p->value <= 0)
            invalid_int(v, "value", p->value, "must be greater than zero");
        if (p->periodseconds <= 0)
            invalid_int(v, "periodSeconds", p->periodseconds, "must be greater than zero");
        if (p->periodseconds > 1800)
            invalid_int(v, "periodSeconds", p->periodseconds, "must be less than or equal to 1800");
        path_pop(v, o);
    }
    path_pop(v, old);
}

/* validateHorizontalPodAutoscalerSpec: replica bounds (minReplicas may stay 0 on an update
 * of an object that has it), the target, the metrics and the scaling behavior */
static void validate_hpa(struct vctx *v, const hpa_t *hpa, const hpa_t *old_hpa)
{
    static const HPA2(HorizontalPodAutoscalerSpec) empty =
        K8S__IO__API__AUTOSCALING__V2__HORIZONTAL_POD_AUTOSCALER_SPEC__INIT;
    const HPA2(HorizontalPodAutoscalerSpec) *s = hpa->spec != NULL ? hpa->spec : &empty;
    int32_t lower = old_hpa != NULL && old_hpa->spec != NULL && old_hpa->spec->has_minreplicas &&
                            old_hpa->spec->minreplicas == 0
                        ? 0
                        : 1;
    size_t old = path_child(v, "spec");
    bool scales_on_objects = false;

    if (s->has_minreplicas && s->minreplicas < lower)
        invalid_int(v, "minReplicas", s->minreplicas,
                    lower ? "must be greater than or equal to 1"
                          : "must be greater than or equal to 0");
    if (s->maxreplicas < 1)
        invalid_int(v, "maxReplicas", s->maxreplicas, "must be greater than 0");
    if (s->has_minreplicas && s->maxreplicas < s->minreplicas)
        invalid_int(v, "maxReplicas", s->maxreplicas,
                    "must be greater than or equal to `minReplicas`");
    hpa_object_ref(v, "scaleTargetRef", s->scaletargetref);
    for (size_t i = 0; i < s->n_metrics; i++) {
        size_t o = path_child(v, "metrics");
        const char *type = str_or_empty(s->metrics[i]->type);
        path_index(v, i);
        hpa_metric(v, s->metrics[i]);
        path_pop(v, o);
        scales_on_objects |= strcmp(type, "Object") == 0 || strcmp(type, "External") == 0;
    }
    if (s->has_minreplicas && s->minreplicas == 0 && !scales_on_objects)
        forbidden(v, "metrics",
                  "must specify at least one Object or External metric to support scaling to zero "
                  "replicas");
    if (s->behavior != NULL) {
        size_t o = path_child(v, "behavior");
        hpa_rules(v, "scaleUp", s->behavior->scaleup);
        hpa_rules(v, "scaleDown", s->behavior->scaledown);
        path_pop(v, o);
    }
    path_pop(v, old);
}

/* ---- IP addresses and CIDRs (k8s.io/utils/net's sloppy parsing, as 1.32 validates) ----------- */

/* An IP address as Go's net.ParseIP before 1.17 reads it (IPv4 octets may have leading zeros):
 * 16 bytes in out (IPv4 as ::ffff:a.b.c.d), *is4 for the dotted form. */
static bool ip_parse(const char *s, size_t len, unsigned char out[16], bool *is4)
{
    char buf[64];
    int parts = 0;
    unsigned octets[4];

    if (s == NULL || len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strchr(buf, ':') != NULL) {
        *is4 = false;
        return inet_pton(AF_INET6, buf, out) == 1;
    }
    for (const char *p = buf;; p++) {
        unsigned n = 0, digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
            n = n * 10 + (unsigned)(*p - '0');
        if (digits == 0 || digits > 3 || n > 255)
            return false;
        octets[parts++] = n;
        if (*p == '\0' && parts == 4)
            break;
        if (*p != '.' || parts == 4)
            return false;
    }
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    for (int i = 0; i < 4; i++)
        out[12 + i] = (unsigned char)octets[i];
    *is4 = true;
    return true;
}

struct cidr {
    unsigned char addr[16]; /* masked, IPv4 mapped */
    int bits;               /* prefix length within the family */
    bool is4;
};

/* ParseCIDRSloppy: "addr/bits" */
static bool cidr_parse(const char *s, struct cidr *c)
{
    const char *slash = s != NULL ? strchr(s, '/') : NULL;
    int bits = 0, digits = 0;

    if (slash == NULL || !ip_parse(s, (size_t)(slash - s), c->addr, &c->is4))
        return false;
    for (const char *p = slash + 1; *p; p++, digits++) {
        if (*p < '0' || *p > '9' || digits >= 3)
            return false;
        bits = bits * 10 + (*p - '0');
    }
    if (digits == 0 || bits > (c->is4 ? 32 : 128))
        return false;
    c->bits = bits;
    int total = c->is4 ? bits + 96 : bits;
    for (int i = 0; i < 16; i++) {
        int keep = total - i * 8;
        c->addr[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
    }
    return true;
}

/* IPNet.Contains */
static bool cidr_contains(const struct cidr *net, const unsigned char ip[16], bool is4)
{
    int total = net->is4 ? net->bits + 96 : net->bits;
    if (net->is4 != is4)
        return false;
    for (int i = 0; i < 16; i++) {
        int keep = total - i * 8;
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
        if ((ip[i] & mask) != net->addr[i])
            return false;
    }
    return true;
}

#define CIDR_MSG "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"

/* ValidateNonSpecialIP at child: a valid address outside the unspecified, loopback and
 * link-local ranges */
static void non_special_ip(struct vctx *v, const char *child, const char *s)
{
    unsigned char a[16];
    bool is4;
    char detail[96];

    if (!ip_parse(s, strlen(str_or_empty(s)), a, &is4)) {
        invalid_str(v, child, str_or_empty(s), "must be a valid IP address");
        return;
    }
    static const unsigned char zero[16];
    bool unspecified = is4 ? memcmp(a + 12, zero, 4) == 0 : memcmp(a, zero, 16) == 0;
    bool loopback = is4 ? a[12] == 127 : memcmp(a, zero, 15) == 0 && a[15] == 1;
    bool link_local = is4 ? a[12] == 169 && a[13] == 254 : a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
    bool ll_multicast =
        is4 ? a[12] == 224 && a[13] == 0 && a[14] == 0 : a[0] == 0xff && (a[1] & 0x0f) == 0x02;
    if (unspecified) {
        snprintf(detail, sizeof(detail), "may not be unspecified (%.60s)", s);
        invalid_str(v, child, s, detail);
    }
    if (loopback)
        invalid_str(v, child, s, "may not be in the loopback range (127.0.0.0/8, ::1/128)");
    if (link_local)
        invalid_str(v, child, s, "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
    if (ll_multicast)
        invalid_str(v, child, s,
                    "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
}

/* ---- networking.k8s.io/v1, discovery.k8s.io/v1, core/v1 Endpoints --------------------------- */

typedef K8s__Io__Api__Networking__V1__Ingress ingress_t;
typedef K8s__Io__Api__Networking__V1__IngressBackend ingress_backend_t;
typedef K8s__Io__Api__Networking__V1__IngressClass ingress_class_t;
typedef K8s__Io__Api__Networking__V1__NetworkPolicy network_policy_t;
typedef K8s__Io__Api__Networking__V1__NetworkPolicyPort netpol_port_t;
typedef K8s__Io__Api__Networking__V1__NetworkPolicyPeer netpol_peer_t;
typedef K8s__Io__Api__Discovery__V1__EndpointSlice endpoint_slice_t;
typedef K8s__Io__Api__Core__V1__Endpoints endpoints_t;

#define WILDCARD_DNS1123_SUBDOMAIN_ERROR                                                           \
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "      \
    "which "                                                                                       \
    "must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric " \
    "character (e.g. '*.example.com', regex used for validation is '\\*\\." DNS1123_SUBDOMAIN_FMT  \
    "')"

/* IsWildcardDNS1123Subdomain */
static size_t wildcard_subdomain_msgs(const char *s, const char **msgs)
{
    size_t n = 0;
    if (strlen(s) > 253)
        msgs[n++] = "must be no more than 253 characters";
    if (strncmp(s, "*.", 2) != 0 || !dns1123_subdomain_ok(s + 2, strlen(s + 2)))
        msgs[n++] = WILDCARD_DNS1123_SUBDOMAIN_ERROR;
    return n;
}

/* A host of an Ingress rule or TLS entry: wildcard or plain DNS subdomain; true if wildcard */
static bool ingress_host(struct vctx *v, const char *child, const char *host)
{
    const char *msgs[MAX_MSGS];
    bool wildcard = strchr(host, '*') != NULL;
    invalid_msgs(v, child, host, msgs,
                 wildcard ? wildcard_subdomain_msgs(host, msgs)
                          : dns1123_subdomain_msgs(host, msgs));
    return wildcard;
}

/* validateIngressTypedLocalObjectReference and the IngressClass parameters' apiGroup, kind and
 * name, at the current path */
static void typed_local_ref(struct vctx *v, const char *api_group, const char *kind,
                            const char *name)
{
    const char *msgs[MAX_MSGS];

    if (api_group != NULL)
        invalid_msgs(v, "apiGroup", api_group, msgs, dns1123_subdomain_msgs(api_group, msgs));
    if (str_empty(kind))
        required(v, "kind", "kind is required");
    else
        invalid_msgs(v, "kind", kind, msgs, path_segment_msgs(kind, false, msgs));
    if (str_empty(name))
        required(v, "name", "name is required");
    else
        invalid_msgs(v, "name", name, msgs, path_segment_msgs(name, false, msgs));
}

/* validateIngressBackend at child */
static void ingress_backend(struct vctx *v, const char *child, const ingress_backend_t *b)
{
    const char *msgs[MAX_MSGS];
    size_t at = path_child(v, child);

    if (b->resource != NULL && b->service != NULL) {
        invalid_str(v, NULL, "", "cannot set both resource and service backends");
    } else if (b->resource != NULL) {
        size_t r = path_child(v, "resource");
        typed_local_ref(v, b->resource->apigroup, b->resource->kind, b->resource->name);
        path_pop(v, r);
    } else if (b->service != NULL) {
        const K8s__Io__Api__Networking__V1__ServiceBackendPort *p = b->service->port;
        bool has_name = p != NULL && !str_empty(p->name), has_num = p != NULL && p->number != 0;
        if (str_empty(b->service->name))
            required(v, "service.name", NULL);
        else
            invalid_msgs(v, "service.name", b->service->name, msgs,
                         dns1035_label_msgs(b->service->name, msgs));
        if (has_name && has_num)
            invalid_str(v, NULL, "", "cannot set both port name & port number");
        else if (has_name)
            invalid_msgs(v, "service.port.name", p->name, msgs, port_name_msgs(p->name, msgs));
        else if (has_num)
            port_num(v, "service.port.number", p->number);
        else
            required(v, NULL, "port name or number is required");
    } else {
        invalid_str(v, NULL, "", "resource or service backend is required");
    }
    path_pop(v, at);
}

/* validateHTTPIngressPath at the current path */
static void ingress_path(struct vctx *v, const K8s__Io__Api__Networking__V1__HTTPIngressPath *p)
{
    static const char *const types[] = {"Exact", "ImplementationSpecific", "Prefix", NULL};
    static const char *const bad[] = {"//", "/./", "/../", "%2f", "%2F", NULL};
    const char *path = str_or_empty(p->path);

    if (p->pathtype == NULL) {
        required(v, "pathType", "pathType must be specified");
        return;
    }
    if (strcmp(p->pathtype, "Exact") == 0 || strcmp(p->pathtype, "Prefix") == 0) {
        char detail[48];
        size_t n = strlen(path);
        if (path[0] != '/')
            invalid_str(v, "path", path, "must be an absolute path");
        for (size_t i = 0; n > 0 && bad[i] != NULL; i++) {
            if (strstr(path, bad[i]) == NULL)
                continue;
            snprintf(detail, sizeof(detail), "must not contain '%s'", bad[i]);
            invalid_str(v, "path", path, detail);
        }
        if (n >= 3 && strcmp(path + n - 3, "/..") == 0)
            invalid_str(v, "path", path, "cannot end with '/..'");
        if (n >= 2 && strcmp(path + n - 2, "/.") == 0)
            invalid_str(v, "path", path, "cannot end with '/.'");
    } else if (strcmp(p->pathtype, "ImplementationSpecific") == 0) {
        if (path[0] != '\0' && path[0] != '/')
            invalid_str(v, "path", path, "must be an absolute path");
    } else {
        not_supported(v, "pathType", p->pathtype, types);
    }
    if (p->backend != NULL)
        ingress_backend(v, "backend", p->backend);
    else
        invalid_str(v, "backend", "", "resource or service backend is required");
}

static void ingress_path_cb(struct vctx *v, const void *p)
{
    ingress_path(v, p);
}

/* ValidateIngressSpec at "spec"; the annotation check of ValidateIngressCreate on create */
static void validate_ingress(struct vctx *v, const ingress_t *ing, bool create)
{
    static const K8s__Io__Api__Networking__V1__IngressSpec none =
        K8S__IO__API__NETWORKING__V1__INGRESS_SPEC__INIT;
    const K8s__Io__Api__Networking__V1__IngressSpec *s = ing->spec != NULL ? ing->spec : &none;
    const char *msgs[MAX_MSGS];
    size_t at = path_child(v, "spec");

    if (s->n_rules == 0 && s->defaultbackend == NULL) {
        k8c_sbuf_puts(val_begin(v), "[]networking.IngressRule(nil)");
        invalid_val(v, NULL, "either `defaultBackend` or `rules` must be specified");
    }
    if (s->defaultbackend != NULL)
        ingress_backend(v, "defaultBackend", s->defaultbackend);
    for (size_t i = 0; i < s->n_rules; i++) {
        const K8s__Io__Api__Networking__V1__IngressRule *r = s->rules[i];
        const char *host = str_or_empty(r->host);
        size_t ri = path_child(v, "rules");
        path_index(v, i);
        if (host[0] != '\0') {
            unsigned char a[16];
            bool is4;
            if (ip_parse(host, strlen(host), a, &is4))
                invalid_str(v, "host", host, "must be a DNS name, not an IP address");
            ingress_host(v, "host", host);
        }
        const K8s__Io__Api__Networking__V1__HTTPIngressRuleValue *http =
            r->ingressrulevalue != NULL ? r->ingressrulevalue->http : NULL;
        if (http != NULL) {
            size_t hp = path_child(v, "http");
            if (http->n_paths == 0)
                required(v, "paths", NULL);
            each_at(v, "paths", (void *const *)http->paths, http->n_paths, ingress_path_cb);
            path_pop(v, hp);
        }
        path_pop(v, ri);
    }
    for (size_t i = 0; i < s->n_tls; i++) {
        const K8s__Io__Api__Networking__V1__IngressTLS *t = s->tls[i];
        size_t ti = path_child(v, "tls");
        path_index(v, i);
        for (size_t j = 0; j < t->n_hosts; j++) {
            size_t hj = path_child(v, "hosts");
            path_index(v, j);
            ingress_host(v, NULL, str_or_empty(t->hosts[j]));
            path_pop(v, hj);
        }
        if (!str_empty(t->secretname))
            invalid_msgs(v, "secretName", t->secretname, msgs,
                         dns1123_subdomain_msgs(t->secretname, msgs));
        path_pop(v, ti);
    }
    if (s->ingressclassname != NULL)
        invalid_msgs(v, "ingressClassName", s->ingressclassname, msgs,
                     dns1123_subdomain_msgs(s->ingressclassname, msgs));
    path_pop(v, at);
    if (create) {
        const char *cls = api_meta_annotation(ing->metadata, "kubernetes.io/ingress.class");
        if (cls != NULL && s->ingressclassname != NULL && strcmp(cls, s->ingressclassname) != 0)
            invalid_str(v, "annotations.kubernetes.io/ingress.class", cls,
                        "must match `ingressClassName` when both are specified");
    }
}

/* IsDomainPrefixedPath at child */
static void domain_prefixed_path(struct vctx *v, const char *child, const char *s)
{
    const char *slash = strchr(s, '/'), *msgs[MAX_MSGS];

    if (s[0] == '\0') {
        required(v, child, NULL);
        return;
    }
    if (slash == NULL || slash == s || slash[1] == '\0') {
        invalid_str(v, child, s, "must be a domain-prefixed path (such as \"acme.io/foo\")");
        return;
    }
    char *host = k8c_strndup(s, (size_t)(slash - s));
    invalid_msgs(v, child, host, msgs, dns1123_subdomain_msgs(host, msgs));
    k8c_free(host);
    if (strspn(
            slash + 1,
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-._~%!$&'()*+,;=:") !=
        strlen(slash + 1))
        invalid_str(
            v, child, slash + 1,
            "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')");
}

/* ValidateIngressClass (spec) and the controller's immutability on update */
static void validate_ingress_class(struct vctx *v, const ingress_class_t *ic,
                                   const ingress_class_t *old)
{
    static const char *const scopes[] = {"Cluster", "Namespace", NULL};
    const char *controller = ic->spec != NULL ? str_or_empty(ic->spec->controller) : "";
    const K8s__Io__Api__Networking__V1__IngressClassParametersReference *p =
        ic->spec != NULL ? ic->spec->parameters : NULL;
    const char *msgs[MAX_MSGS];
    size_t at;

    if (old != NULL)
        immutable_str(v, "spec.controller", controller,
                      old->spec != NULL ? str_or_empty(old->spec->controller) : "");
    at = path_child(v, "spec");
    if (strlen(controller) > 250)
        too_long(v, "controller", 250);
    domain_prefixed_path(v, "controller", controller);
    if (p != NULL) {
        size_t pp = path_child(v, "parameters");
        typed_local_ref(v, p->apigroup, p->kind, p->name);
        if (p->scope == NULL) {
            required(v, "scope", NULL);
        } else if (!one_of(p->scope, scopes)) {
            not_supported(v, "scope", p->scope, scopes);
        } else if (strcmp(p->scope, "Namespace") == 0) {
            if (p->namespace_ == NULL)
                required(v, "namespace", "`parameters.scope` is set to 'Namespace'");
            else
                invalid_msgs(v, "namespace", p->namespace_, msgs,
                             dns1123_label_msgs(p->namespace_, msgs));
        } else if (p->namespace_ != NULL) {
            forbidden(v, "namespace", "`parameters.scope` is set to 'Cluster'");
        }
        path_pop(v, pp);
    }
    path_pop(v, at);
}

/* ValidateNetworkPolicyPort at the current path */
static void netpol_port(struct vctx *v, const netpol_port_t *p)
{
    static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};
    const char *msgs[MAX_MSGS];

    if (p->protocol != NULL && !one_of(p->protocol, protocols))
        not_supported(v, "protocol", p->protocol, protocols);
    if (p->port != NULL && !(p->port->has_type && p->port->type == 1)) {
        int32_t port = p->port->has_intval ? p->port->intval : 0;
        port_num(v, "port", port);
        if (p->has_endport) {
            if (p->endport < port)
                invalid_int(v, "endPort", port, "must be greater than or equal to `port`");
            port_num(v, "endPort", p->endport);
        }
    } else if (p->port != NULL) {
        const char *name = str_or_empty(p->port->strval);
        if (p->has_endport)
            invalid_int(v, "endPort", p->endport,
                        "may not be specified when `port` is non-numeric");
        invalid_msgs(v, "port", name, msgs, port_name_msgs(name, msgs));
    } else if (p->has_endport) {
        invalid_int(v, "endPort", p->endport, "may not be specified when `port` is not specified");
    }
}

/* ValidateNetworkPolicyPeer at the current path */
static void netpol_peer(struct vctx *v, const netpol_peer_t *p)
{
    int count = 0;

    if (p->podselector != NULL) {
        count++;
        validate_label_selector(v, "podSelector", p->podselector);
    }
    if (p->namespaceselector != NULL) {
        count++;
        validate_label_selector(v, "namespaceSelector", p->namespaceselector);
    }
    if (p->ipblock != NULL) {
        const K8s__Io__Api__Networking__V1__IPBlock *b = p->ipblock;
        struct cidr net, ex;
        size_t at = path_child(v, "ipBlock");
        count++;
        if (str_empty(b->cidr)) {
            required(v, "cidr", NULL);
        } else if (!cidr_parse(b->cidr, &net)) {
            invalid_str(v, "cidr", b->cidr, CIDR_MSG);
        } else {
            for (size_t i = 0; i < b->n_except; i++) {
                const char *s = str_or_empty(b->except[i]);
                size_t ei = path_child(v, "except");
                path_index(v, i);
                if (!cidr_parse(s, &ex))
                    invalid_str(v, NULL, s, CIDR_MSG);
                else if (!cidr_contains(&net, ex.addr, ex.is4) || net.bits >= ex.bits)
                    invalid_str(v, NULL, s, "must be a strict subset of `cidr`");
                path_pop(v, ei);
            }
        }
        path_pop(v, at);
    }
    if (count == 0)
        required(v, NULL, "must specify a peer");
    else if (count > 1 && p->ipblock != NULL)
        forbidden(v, NULL, "may not specify both ipBlock and another peer");
}

static void netpol_port_cb(struct vctx *v, const void *p)
{
    netpol_port(v, p);
}

static void netpol_peer_cb(struct vctx *v, const void *p)
{
    netpol_peer(v, p);
}

/* The ports and peers of NetworkPolicy rules at child[i] */
static void netpol_rule(struct vctx *v, const char *child, size_t i, netpol_port_t *const *ports,
                        size_t n_ports, const char *peers_child, netpol_peer_t *const *peers,
                        size_t n_peers)
{
    size_t at = path_child(v, child);
    path_index(v, i);
    each_at(v, "ports", (void *const *)ports, n_ports, netpol_port_cb);
    each_at(v, peers_child, (void *const *)peers, n_peers, netpol_peer_cb);
    path_pop(v, at);
}

/* ValidateNetworkPolicySpec at "spec" */
static void validate_network_policy(struct vctx *v, const network_policy_t *np)
{
    static const K8s__Io__Api__Networking__V1__NetworkPolicySpec none =
        K8S__IO__API__NETWORKING__V1__NETWORK_POLICY_SPEC__INIT;
    static const label_selector_t everything =
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR__INIT;
    static const char *const types[] = {"Ingress", "Egress", NULL};
    const K8s__Io__Api__Networking__V1__NetworkPolicySpec *s = np->spec != NULL ? np->spec : &none;
    size_t at = path_child(v, "spec");

    validate_label_selector(v, "podSelector",
                            s->podselector != NULL ? s->podselector : &everything);
    for (size_t i = 0; i < s->n_ingress; i++)
        netpol_rule(v, "ingress", i, s->ingress[i]->ports, s->ingress[i]->n_ports, "from",
                    s->ingress[i]->from, s->ingress[i]->n_from);
    for (size_t i = 0; i < s->n_egress; i++)
        netpol_rule(v, "egress", i, s->egress[i]->ports, s->egress[i]->n_ports, "to",
                    s->egress[i]->to, s->egress[i]->n_to);
    if (s->n_policytypes > 2) {
        go_slice(val_begin(v), "networking.PolicyType", s->policytypes, s->n_policytypes);
        invalid_val(v, "policyTypes", "may not specify more than two policyTypes");
    } else {
        for (size_t i = 0; i < s->n_policytypes; i++) {
            if (one_of(s->policytypes[i], types))
                continue;
            size_t pi = path_child(v, "policyTypes");
            path_index(v, i);
            not_supported(v, NULL, s->policytypes[i], types);
            path_pop(v, pi);
        }
    }
    path_pop(v, at);
}

/* "Too many: <n>: must have at most <max> items" at child */
static void too_many(struct vctx *v, const char *child, size_t n, size_t max)
{
    char value[32], detail[64];
    snprintf(value, sizeof(value), "%zu", n);
    snprintf(detail, sizeof(detail), "must have at most %zu items", max);
    verr(v, E_TOO_MANY, child, value, detail);
}

/* IsFullyQualifiedDomainName at child (the first failure only) */
static void fqdn(struct vctx *v, const char *child, const char *s)
{
    const char *msgs[MAX_MSGS];
    size_t n = strlen(s), nm;

    if (n == 0) {
        required(v, child, NULL);
        return;
    }
    char *name = k8c_strndup(s, s[n - 1] == '.' ? n - 1 : n);
    if ((nm = dns1123_subdomain_msgs(name, msgs)) > 0) {
        invalid_joined(v, child, name, msgs, nm, ",");
    } else if (strchr(name, '.') == NULL) {
        invalid_str(v, child, name,
                    "should be a domain with at least two segments separated by dots");
    } else {
        char *label = k8c_strndup(name, strcspn(name, "."));
        if ((nm = dns1123_label_msgs(label, msgs)) > 0)
            invalid_joined(v, child, label, msgs, nm, ",");
        k8c_free(label);
    }
    k8c_free(name);
}

/* An endpoint port's protocol (required, SCTP/TCP/UDP) and appProtocol (a qualified name) */
static void endpoint_port_protocol(struct vctx *v, const char *protocol, const char *app_protocol)
{
    static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
    const char *msgs[MAX_MSGS];

    if (protocol == NULL)
        required(v, "protocol", NULL);
    else if (!one_of(protocol, protocols))
        not_supported(v, "protocol", protocol, protocols);
    if (app_protocol != NULL)
        invalid_msgs(v, "appProtocol", app_protocol, msgs, qualified_name_msgs(app_protocol, msgs));
}

/* ValidateEndpointSlice (and the addressType's immutability on update) */
static void validate_endpoint_slice(struct vctx *v, const endpoint_slice_t *es,
                                    const endpoint_slice_t *old)
{
    static const char *const types[] = {"FQDN", "IPv4", "IPv6", NULL};
    const char *type = str_or_empty(es->addresstype), *msgs[MAX_MSGS];

    if (type[0] == '\0')
        required(v, "addressType", NULL);
    else if (!one_of(type, types))
        not_supported(v, "addressType", type, types);
    if (es->n_endpoints > 1000) {
        too_many(v, "endpoints", es->n_endpoints, 1000);
    } else {
        for (size_t i = 0; i < es->n_endpoints; i++) {
            const K8s__Io__Api__Discovery__V1__Endpoint *e = es->endpoints[i];
            size_t at = path_child(v, "endpoints");
            path_index(v, i);
            if (e->n_addresses == 0)
                required(v, "addresses", "must contain at least 1 address");
            else if (e->n_addresses > 100)
                too_many(v, "addresses", e->n_addresses, 100);
            for (size_t k = 0; k < e->n_addresses && e->n_addresses <= 100; k++) {
                const char *a = str_or_empty(e->addresses[k]);
                unsigned char ip[16];
                bool is4 = false, ok = ip_parse(a, strlen(a), ip, &is4);
                size_t ak = path_child(v, "addresses");
                path_index(v, k);
                if (strcmp(type, "IPv4") == 0 || strcmp(type, "IPv6") == 0) {
                    bool want4 = strcmp(type, "IPv4") == 0;
                    if (!ok || is4 != want4)
                        invalid_str(v, NULL, a,
                                    want4 ? "must be a valid IPv4 address"
                                          : "must be a valid IPv6 address");
                    non_special_ip(v, NULL, a);
                } else if (strcmp(type, "FQDN") == 0) {
                    fqdn(v, NULL, a);
                }
                path_pop(v, ak);
            }
            if (e->nodename != NULL)
                invalid_msgs(v, "nodeName", e->nodename, msgs,
                             dns1123_subdomain_msgs(e->nodename, msgs));
            if (e->n_deprecatedtopology > 16)
                too_many(v, "deprecatedTopology", e->n_deprecatedtopology, 16);
            validate_labels(v, "deprecatedTopology", (void *const *)e->deprecatedtopology,
                            e->n_deprecatedtopology);
            if (e->hostname != NULL)
                invalid_msgs(v, "hostname", e->hostname, msgs,
                             dns1123_label_msgs(e->hostname, msgs));
            if (e->hints != NULL) {
                size_t hz = path_child(v, "hints.forZones");
                if (e->hints->n_forzones > 8) {
                    too_many(v, NULL, e->hints->n_forzones, 8);
                } else {
                    struct name_set zones = {0};
                    for (size_t j = 0; j < e->hints->n_forzones; j++) {
                        const char *z = str_or_empty(e->hints->forzones[j]->name);
                        size_t zj = path_index(v, j);
                        if (name_set_has(&zones, z))
                            duplicate_str(v, "name", z);
                        else
                            name_set_add(&zones, z);
                        invalid_msgs(v, "name", z, msgs, label_value_msgs(z, msgs));
                        path_pop(v, zj);
                    }
                    name_set_free(&zones);
                }
                path_pop(v, hz);
            }
            path_pop(v, at);
        }
    }
    if (es->n_ports > 20000) {
        too_many(v, "ports", es->n_ports, 20000);
    } else {
        struct name_set names = {0};
        for (size_t i = 0; i < es->n_ports; i++) {
            const K8s__Io__Api__Discovery__V1__EndpointPort *p = es->ports[i];
            const char *name = str_or_empty(p->name);
            size_t at = path_child(v, "ports");
            path_index(v, i);
            if (name[0] != '\0')
                invalid_msgs(v, "name", name, msgs, dns1123_label_msgs(name, msgs));
            if (name_set_has(&names, name))
                duplicate_str(v, "name", name);
            else
                name_set_add(&names, name);
            endpoint_port_protocol(v, p->protocol, p->appprotocol);
            path_pop(v, at);
        }
        name_set_free(&names);
    }
    if (old != NULL)
        immutable_str(v, "addressType", type, str_or_empty(old->addresstype));
}

/* validateEndpointAddress at the current path */
static void endpoint_address(struct vctx *v, const K8s__Io__Api__Core__V1__EndpointAddress *a)
{
    const char *ip = str_or_empty(a->ip), *msgs[MAX_MSGS];

    if (!ip_ok(ip))
        invalid_str(v, "ip", ip, IP_MSG);
    if (!str_empty(a->hostname))
        invalid_msgs(v, "hostname", a->hostname, msgs, dns1123_label_msgs(a->hostname, msgs));
    if (a->nodename != NULL)
        invalid_msgs(v, "nodeName", a->nodename, msgs, dns1123_subdomain_msgs(a->nodename, msgs));
    non_special_ip(v, "ip", ip);
}

static void endpoint_address_cb(struct vctx *v, const void *a)
{
    endpoint_address(v, a);
}

/* validateEndpointSubsets at "subsets" */
static void validate_endpoints(struct vctx *v, const endpoints_t *e)
{
    const char *msgs[MAX_MSGS];

    for (size_t i = 0; i < e->n_subsets; i++) {
        const K8s__Io__Api__Core__V1__EndpointSubset *s = e->subsets[i];
        size_t at = path_child(v, "subsets");
        path_index(v, i);
        if (s->n_addresses == 0 && s->n_notreadyaddresses == 0)
            required(v, NULL, "must specify `addresses` or `notReadyAddresses`");
        each_at(v, "addresses", (void *const *)s->addresses, s->n_addresses, endpoint_address_cb);
        each_at(v, "notReadyAddresses", (void *const *)s->notreadyaddresses, s->n_notreadyaddresses,
                endpoint_address_cb);
        for (size_t k = 0; k < s->n_ports; k++) {
            const K8s__Io__Api__Core__V1__EndpointPort *p = s->ports[k];
            size_t pk = path_child(v, "ports");
            path_index(v, k);
            if (s->n_ports > 1 && str_empty(p->name))
                required(v, "name", NULL);
            else if (!str_empty(p->name))
                invalid_msgs(v, "name", p->name, msgs, dns1123_label_msgs(p->name, msgs));
            port_num(v, "port", p->port);
            endpoint_port_protocol(v, str_empty(p->protocol) ? NULL : p->protocol, p->appprotocol);
            path_pop(v, pk);
        }
        path_pop(v, at);
    }
}

/* ---- policy, scheduling, storage, RBAC, coordination, ControllerRevision ------------------- */

typedef K8s__Io__Api__Policy__V1__PodDisruptionBudget pdb_t;
typedef K8s__Io__Api__Node__V1__RuntimeClass runtime_class_t;

/* The (key, operator, value, effect) of a toleration, in that order: the list key of
 * validateTolerations' duplicate check. Ties go by index, so the first of equals sorts first. */
static int toleration_key_cmp(const void *a, const void *b)
{
    const toleration_t *x = **(toleration_t *const *const *)a;
    const toleration_t *y = **(toleration_t *const *const *)b;
    int c;
    if ((c = strcmp(str_or_empty(x->key), str_or_empty(y->key))) != 0 ||
        (c = strcmp(str_or_empty(x->operator_), str_or_empty(y->operator_))) != 0 ||
        (c = strcmp(str_or_empty(x->value), str_or_empty(y->value))) != 0 ||
        (c = strcmp(str_or_empty(x->effect), str_or_empty(y->effect))) != 0)
        return c;
    return *(toleration_t *const *const *)a < *(toleration_t *const *const *)b ? -1 : 1;
}

/* node/validation validateTolerations: a toleration whose list key an earlier one has is a
 * Duplicate at its index (Go prints the core.Toleration with %#v; a set tolerationSeconds is
 * a pointer there, printed as its address, here as its value). Sorted, not pairwise: a hostile
 * class of 100,000 tolerations stays cheap. */
static void runtime_class_duplicate_tolerations(struct vctx *v, toleration_t *const *ts, size_t n)
{
    toleration_t *const **order = k8c_calloc(n ? n : 1, sizeof(*order));
    bool *dup = k8c_calloc(n ? n : 1, sizeof(*dup));

    for (size_t i = 0; i < n; i++)
        order[i] = &ts[i];
    qsort(order, n, sizeof(*order), toleration_key_cmp);
    for (size_t i = 1; i < n; i++) {
        const toleration_t *a = *order[i - 1], *b = *order[i];
        if (str_eq(a->key, b->key) && str_eq(a->operator_, b->operator_) &&
            str_eq(a->value, b->value) && str_eq(a->effect, b->effect))
            dup[order[i] - ts] = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (!dup[i])
            continue;
        const toleration_t *t = ts[i];
        char val[1024], secs[48] = "nil";
        size_t o = path_child(v, "tolerations");
        if (t->has_tolerationseconds)
            snprintf(secs, sizeof(secs), "%lld", (long long)t->tolerationseconds);
        path_index(v, i);
        snprintf(val, sizeof(val),
                 "core.Toleration{Key:\"%.200s\", Operator:\"%.40s\", Value:\"%.200s\", "
                 "Effect:\"%.40s\", TolerationSeconds:(*int64)(%s)}",
                 str_or_empty(t->key), str_or_empty(t->operator_), str_or_empty(t->value),
                 str_or_empty(t->effect), secs);
        verr(v, E_DUPLICATE, NULL, val, NULL);
        path_pop(v, o);
    }
    k8c_free(order);
    k8c_free(dup);
}

/* ValidateRuntimeClass and ValidateRuntimeClassUpdate (node/validation): the handler a DNS
 * label (immutable), the overhead as a container's limits, the scheduling node selector as labels
 * and its tolerations as a pod's, each (key, operator, value, effect) once. */
static void validate_runtime_class(struct vctx *v, const runtime_class_t *rc,
                                   const runtime_class_t *old)
{
    const char *handler = str_or_empty(rc->handler), *msgs[MAX_MSGS];

    if (old != NULL) {
        immutable_str(v, "handler", handler, str_or_empty(old->handler));
        return;
    }
    invalid_msgs(v, "handler", handler, msgs, dns1123_label_msgs(handler, msgs));
    if (rc->overhead != NULL) {
        /* Overhead.PodFixedEntry and ResourceRequirements.LimitsEntry are both {key, Quantity} */
        resources_t r = K8S__IO__API__CORE__V1__RESOURCE_REQUIREMENTS__INIT;
        size_t at = path_child(v, "overhead");
        r.n_limits = rc->overhead->n_podfixed;
        r.limits = (quantity_entry_t **)(void *)rc->overhead->podfixed;
        validate_resources_at(v, &r);
        path_pop(v, at);
    }
    if (rc->scheduling != NULL) {
        const K8s__Io__Api__Node__V1__Scheduling *sc = rc->scheduling;
        size_t at = path_child(v, "scheduling");
        validate_labels(v, "nodeSelector", (void *const *)sc->nodeselector, sc->n_nodeselector);
        validate_tolerations(v, "tolerations", sc->tolerations, sc->n_tolerations);
        runtime_class_duplicate_tolerations(v, sc->tolerations, sc->n_tolerations);
        path_pop(v, at);
    }
}

typedef K8s__Io__Api__Scheduling__V1__PriorityClass priority_class_t;
typedef K8s__Io__Api__Storage__V1__StorageClass storage_class_t;
typedef K8s__Io__Api__Rbac__V1__PolicyRule policy_rule_t;
typedef K8s__Io__Api__Rbac__V1__RoleRef role_ref_t;
typedef K8s__Io__Api__Coordination__V1__Lease lease_t;
typedef K8s__Io__Api__Apps__V1__ControllerRevision controller_revision_t;

#define RBAC_GROUP "rbac.authorization.k8s.io"

/* ValidatePositiveIntOrPercent and IsNotMoreThan100Percent at child */
static void int_or_percent_to_100(struct vctx *v, const char *child, const intstr_t *x)
{
    bool is_percent, valid;
    int64_t val = intstr_percent_or_int(x, &is_percent, &valid);

    positive_int_or_percent(v, child, x);
    if (is_percent && valid && val > 100) {
        go_intstr(val_begin(v), x);
        invalid_val(v, child, "must not be greater than 100%");
    }
}

/* ValidatePodDisruptionBudgetSpec at "spec" */
static void validate_pdb(struct vctx *v, const pdb_t *pdb)
{
    static const char *const policies[] = {"AlwaysAllow", "IfHealthyBudget", NULL};
    const K8s__Io__Api__Policy__V1__PodDisruptionBudgetSpec *s = pdb->spec;
    size_t at;

    if (s == NULL)
        return;
    at = path_child(v, "spec");
    if (s->minavailable != NULL && s->maxunavailable != NULL) {
        struct k8c_sbuf *sb = val_begin(v);
        k8c_sbuf_puts(sb, "policy.PodDisruptionBudgetSpec{MinAvailable:");
        go_intstr(sb, s->minavailable);
        k8c_sbuf_printf(sb, ", Selector:(*v1.LabelSelector)(%s), MaxUnavailable:",
                        s->selector != NULL ? "&{...}" : "nil");
        go_intstr(sb, s->maxunavailable);
        k8c_sbuf_puts(sb, ", ");
        go_ptr_str(sb, "UnhealthyPodEvictionPolicy", "policy.UnhealthyPodEvictionPolicyType",
                   s->unhealthypodevictionpolicy);
        k8c_sbuf_putc(sb, '}');
        invalid_val(v, NULL, "minAvailable and maxUnavailable cannot be both set");
    }
    if (s->minavailable != NULL)
        int_or_percent_to_100(v, "minAvailable", s->minavailable);
    if (s->maxunavailable != NULL)
        int_or_percent_to_100(v, "maxUnavailable", s->maxunavailable);
    validate_label_selector(v, "selector", s->selector);
    if (s->unhealthypodevictionpolicy != NULL && !one_of(s->unhealthypodevictionpolicy, policies))
        not_supported(v, "unhealthyPodEvictionPolicy", s->unhealthypodevictionpolicy, policies);
    path_pop(v, at);
}

/* ValidatePriorityClass (create) or ValidatePriorityClassUpdate */
static void validate_priority_class(struct vctx *v, const priority_class_t *pc,
                                    const priority_class_t *old)
{
    static const char *const policies[] = {"PreemptLowerPriority", "Never", NULL};
    static const struct {
        const char *name;
        int32_t value;
    } system[] = {{"system-node-critical", 2000001000}, {"system-cluster-critical", 2000000000}};
    const char *name = pc->metadata != NULL ? str_or_empty(pc->metadata->name) : "";
    char detail[256];

    if (old != NULL) {
        if (pc->value != old->value)
            forbidden(v, "value", "may not be changed in an update.");
        immutable_str(v, "preemptionPolicy", str_or_empty(pc->preemptionpolicy),
                      str_or_empty(old->preemptionpolicy));
        return;
    }
    if (has_prefix(name, "system-")) {
        const char *why = NULL;
        char msg[160];
        for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++) {
            if (strcmp(name, system[i].name) != 0)
                continue;
            if (pc->value != system[i].value) {
                snprintf(msg, sizeof(msg), "value of %s PriorityClass must be %d", name,
                         (int)system[i].value);
                why = msg;
            } else if (pc->globaldefault) {
                snprintf(msg, sizeof(msg), "globalDefault of %s PriorityClass must be false", name);
                why = msg;
            } else {
                why = "";
            }
        }
        if (why == NULL) {
            snprintf(msg, sizeof(msg), "%.100s is not a known system priority class", name);
            why = msg;
        }
        if (why[0] != '\0') {
            snprintf(detail, sizeof(detail),
                     "priority class names with 'system-' prefix are reserved for system use only. "
                     "error: %s",
                     why);
            forbidden(v, "metadata.name", detail);
        }
    } else if (pc->value > 1000000000) {
        forbidden(v, "value", "maximum allowed value of a user defined priority is 1000000000");
    }
    if (pc->preemptionpolicy != NULL) {
        if (pc->preemptionpolicy[0] == '\0')
            required(v, "preemptionPolicy", NULL);
        else if (!one_of(pc->preemptionpolicy, policies))
            not_supported(v, "preemptionPolicy", pc->preemptionpolicy, policies);
    }
}

/* ValidateStorageClass, then ValidateStorageClassUpdate on update */
static void validate_storage_class(struct vctx *v, const storage_class_t *sc,
                                   const storage_class_t *old)
{
    static const char *const reclaim[] = {"Delete", "Retain", NULL};
    static const char *const binding[] = {"Immediate", "WaitForFirstConsumer", NULL};
    const char *provisioner = str_or_empty(sc->provisioner), *msgs[MAX_MSGS];

    if (provisioner[0] == '\0') {
        required(v, "provisioner", NULL);
    } else {
        char *lower = k8c_strdup(provisioner);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        invalid_msgs(v, "provisioner", lower, msgs, qualified_name_msgs(lower, msgs));
        k8c_free(lower);
    }
    if (sc->n_parameters > 512) {
        too_long(v, "parameters", 512);
    } else {
        size_t total = 0;
        for (size_t i = 0; i < sc->n_parameters; i++) {
            const char *k = str_or_empty(sc->parameters[i]->key);
            if (k[0] == '\0')
                invalid_str(v, "parameters", "", "field can not be empty.");
            total += strlen(k) + strlen(str_or_empty(sc->parameters[i]->value));
        }
        if (total > 256 * 1024)
            too_long(v, "parameters", 256 * 1024);
    }
    if (!str_empty(sc->reclaimpolicy) && !one_of(sc->reclaimpolicy, reclaim))
        not_supported(v, "reclaimPolicy", sc->reclaimpolicy, reclaim);
    if (sc->volumebindingmode == NULL)
        required(v, "volumeBindingMode", NULL);
    else if (!one_of(sc->volumebindingmode, binding))
        not_supported(v, "volumeBindingMode", sc->volumebindingmode, binding);
    for (size_t i = 0; i < sc->n_allowedtopologies; i++) {
        const K8s__Io__Api__Core__V1__TopologySelectorTerm *t = sc->allowedtopologies[i];
        struct name_set keys = {0};
        size_t at = path_child(v, "allowedTopologies");
        path_index(v, i);
        for (size_t j = 0; j < t->n_matchlabelexpressions; j++) {
            const K8s__Io__Api__Core__V1__TopologySelectorLabelRequirement *r =
                t->matchlabelexpressions[j];
            const char *key = str_or_empty(r->key);
            struct name_set values = {0};
            size_t rj = path_child(v, "matchLabelExpressions");
            path_index(v, j);
            if (r->n_values == 0)
                required(v, "values", NULL);
            for (size_t k = 0; k < r->n_values; k++) {
                const char *val = str_or_empty(r->values[k]);
                if (name_set_has(&values, val)) {
                    size_t vk = path_child(v, "values");
                    path_index(v, k);
                    duplicate_str(v, NULL, val);
                    path_pop(v, vk);
                } else {
                    name_set_add(&values, val);
                }
            }
            invalid_msgs(v, "key", key, msgs, qualified_name_msgs(key, msgs));
            if (name_set_has(&keys, key))
                duplicate_str(v, "key", key);
            else
                name_set_add(&keys, key);
            name_set_free(&values);
            path_pop(v, rj);
        }
        name_set_free(&keys);
        path_pop(v, at);
    }
    if (old == NULL)
        return;
    bool same_params = sc->n_parameters == old->n_parameters;
    for (size_t i = 0; same_params && i < sc->n_parameters; i++) {
        const K8s__Io__Api__Storage__V1__StorageClass__ParametersEntry *o = (const void *)map_find(
            (void *const *)old->parameters, old->n_parameters, sc->parameters[i]->key);
        same_params = o != NULL && str_eq(o->value, sc->parameters[i]->value);
    }
    if (!same_params)
        forbidden(v, "parameters", "updates to parameters are forbidden.");
    if (!str_eq(sc->provisioner, old->provisioner))
        forbidden(v, "provisioner", "updates to provisioner are forbidden.");
    if (!str_eq(sc->reclaimpolicy, old->reclaimpolicy))
        forbidden(v, "reclaimPolicy", "updates to reclaimPolicy are forbidden.");
    immutable_str(v, "volumeBindingMode", str_or_empty(sc->volumebindingmode),
                  str_or_empty(old->volumebindingmode));
}

/* ValidatePolicyRule of rules[i] */
static void policy_rules(struct vctx *v, policy_rule_t *const *rules, size_t n, bool namespaced)
{
    for (size_t i = 0; i < n; i++) {
        const policy_rule_t *r = rules[i];
        size_t at = path_child(v, "rules");
        path_index(v, i);
        if (r->n_verbs == 0)
            required(v, "verbs", "verbs must contain at least one value");
        if (r->n_nonresourceurls > 0) {
            if (namespaced) {
                go_string_slice(val_begin(v), r->nonresourceurls, r->n_nonresourceurls);
                invalid_val(v, "nonResourceURLs",
                            "namespaced rules cannot apply to non-resource URLs");
            }
            if (r->n_apigroups > 0 || r->n_resources > 0 || r->n_resourcenames > 0) {
                go_string_slice(val_begin(v), r->nonresourceurls, r->n_nonresourceurls);
                invalid_val(v, "nonResourceURLs",
                            "rules cannot apply to both regular resources and non-resource URLs");
            }
        } else {
            if (r->n_apigroups == 0)
                required(v, "apiGroups", "resource rules must supply at least one api group");
            if (r->n_resources == 0)
                required(v, "resources", "resource rules must supply at least one resource");
        }
        path_pop(v, at);
    }
}

/* ValidateRole / ValidateClusterRole past the metadata */
static void validate_role(struct vctx *v, policy_rule_t *const *rules, size_t n, bool namespaced,
                          const K8s__Io__Api__Rbac__V1__AggregationRule *agg)
{
    policy_rules(v, rules, n, namespaced);
    if (agg == NULL)
        return;
    size_t at = path_child(v, "aggregationRule");
    if (agg->n_clusterroleselectors == 0)
        required(v, "clusterRoleSelectors",
                 "at least one clusterRoleSelector required if aggregationRule is non-nil");
    for (size_t i = 0; i < agg->n_clusterroleselectors; i++) {
        const label_selector_t *s = agg->clusterroleselectors[i];
        size_t si = path_child(v, "clusterRoleSelectors");
        path_index(v, i);
        /* LabelSelectorAsSelector refuses what the strict checks refuse */
        size_t before = v->errs->n;
        validate_label_selector(v, NULL, s);
        if (v->errs->n > before)
            invalid_str(v, NULL, "null", "invalid label selector.");
        path_pop(v, si);
    }
    path_pop(v, at);
}

/* ValidateRoleBinding / ValidateClusterRoleBinding past the metadata; the roleRef may not
 * change on update */
static void validate_role_binding(struct vctx *v, const role_ref_t *ref,
                                  K8s__Io__Api__Rbac__V1__Subject *const *subjects, size_t n,
                                  bool namespaced, const role_ref_t *old_ref)
{
    static const char *const group[] = {RBAC_GROUP, NULL};
    static const char *const rb_kinds[] = {"Role", "ClusterRole", NULL};
    static const char *const crb_kinds[] = {"ClusterRole", NULL};
    static const char *const subject_kinds[] = {"ServiceAccount", "User", "Group", NULL};
    static const char *const no_group[] = {"", NULL};
    static const role_ref_t none = K8S__IO__API__RBAC__V1__ROLE_REF__INIT;
    const char *msgs[MAX_MSGS];

    if (ref == NULL)
        ref = &none;
    if (!str_eq(ref->apigroup, RBAC_GROUP))
        not_supported(v, "roleRef.apiGroup", str_or_empty(ref->apigroup), group);
    if (!one_of(ref->kind, namespaced ? rb_kinds : crb_kinds))
        not_supported(v, "roleRef.kind", str_or_empty(ref->kind),
                      namespaced ? rb_kinds : crb_kinds);
    if (str_empty(ref->name))
        required(v, "roleRef.name", NULL);
    else
        path_segment_name(v, "roleRef.name", ref->name);
    for (size_t i = 0; i < n; i++) {
        const K8s__Io__Api__Rbac__V1__Subject *s = subjects[i];
        const char *kind = str_or_empty(s->kind);
        size_t at = path_child(v, "subjects");
        path_index(v, i);
        if (str_empty(s->name))
            required(v, "name", NULL);
        if (strcmp(kind, "ServiceAccount") == 0) {
            if (!str_empty(s->name))
                invalid_msgs(v, "name", s->name, msgs, dns1123_subdomain_msgs(s->name, msgs));
            if (!str_empty(s->apigroup))
                not_supported(v, "apiGroup", s->apigroup, no_group);
            if (!namespaced && str_empty(s->namespace_))
                required(v, "namespace", NULL);
        } else if (strcmp(kind, "User") == 0 || strcmp(kind, "Group") == 0) {
            if (!str_eq(s->apigroup, RBAC_GROUP))
                not_supported(v, "apiGroup", str_or_empty(s->apigroup), group);
        } else {
            not_supported(v, "kind", kind, subject_kinds);
        }
        path_pop(v, at);
    }
    if (old_ref != NULL &&
        (!str_eq(ref->apigroup, old_ref->apigroup) || !str_eq(ref->kind, old_ref->kind) ||
         !str_eq(ref->name, old_ref->name))) {
        struct k8c_sbuf *sb = val_begin(v);
        k8c_sbuf_puts(sb, "rbac.RoleRef{APIGroup:");
        goq(sb, ref->apigroup);
        k8c_sbuf_puts(sb, ", Kind:");
        goq(sb, ref->kind);
        k8c_sbuf_puts(sb, ", Name:");
        goq(sb, ref->name);
        k8c_sbuf_putc(sb, '}');
        invalid_val(v, "roleRef", "cannot change roleRef");
    }
}

/* ValidateLeaseSpec at "spec" (strategy and preferredHolder belong to the
 * CoordinatedLeaderElection gate, off in 1.32) */
static void validate_lease(struct vctx *v, const lease_t *l)
{
    const K8s__Io__Api__Coordination__V1__LeaseSpec *s = l->spec;

    if (s == NULL)
        return;
    if (s->has_leasedurationseconds && s->leasedurationseconds <= 0)
        invalid_int(v, "spec.leaseDurationSeconds", s->leasedurationseconds,
                    "must be greater than 0");
    if (s->has_leasetransitions && s->leasetransitions < 0)
        invalid_int(v, "spec.leaseTransitions", s->leasetransitions,
                    "must be greater than or equal to 0");
}

/* ValidateControllerRevision, and its data's immutability on update */
static void validate_controller_revision(struct vctx *v, const controller_revision_t *cr,
                                         const controller_revision_t *old)
{
    bool has_data = cr->data != NULL && cr->data->has_raw && cr->data->raw.len > 0 &&
                    !(cr->data->raw.len == 4 && memcmp(cr->data->raw.data, "null", 4) == 0);

    if (!has_data)
        required(v, "data", "data is mandatory");
    nonnegative(v, "revision", cr->revision);
    if (old != NULL && has_data && old->data != NULL &&
        (old->data->raw.len != cr->data->raw.len ||
         memcmp(old->data->raw.data, cr->data->raw.data, cr->data->raw.len) != 0)) {
        struct k8c_sbuf *sb = val_begin(v);
        k8c_sbuf_puts(sb, "&runtime.Unknown{Raw:");
        goq(sb, "...");
        k8c_sbuf_putc(sb, '}');
        invalid_val(v, "data", "field is immutable");
    }
}

/* ---- Node, ResourceQuota, LimitRange ------------------------------------------------------- */

typedef K8s__Io__Api__Core__V1__Node node_t;
typedef K8s__Io__Api__Core__V1__Taint taint_t;
typedef K8s__Io__Api__Core__V1__ResourceQuota resource_quota_t;
typedef K8s__Io__Api__Core__V1__LimitRange limit_range_t;
typedef K8s__Io__Api__Core__V1__LimitRangeItem limit_range_item_t;

/*
 * %#v of a resource.Quantity parsed from s, as Go's ParseQuantity keeps it when the number fits
 * its int64 fast path: the mantissa and decimal scale, the format, and the canonical string
 * (String() has filled it by the time upstream's errors print it).
 */
static void go_quantity(struct k8c_sbuf *sb, const char *s)
{
    static const struct {
        const char *suffix;
        int exponent;
        bool binary;
    } suffixes[] = {{"", 0, false},   {"n", -9, false}, {"u", -6, false}, {"m", -3, false},
                    {"k", 3, false},  {"M", 6, false},  {"G", 9, false},  {"T", 12, false},
                    {"P", 15, false}, {"E", 18, false}, {"Ki", 10, true}, {"Mi", 20, true},
                    {"Gi", 30, true}, {"Ti", 40, true}, {"Pi", 50, true}, {"Ei", 60, true}};
    struct k8c_quantity q;
    char canon[K8C_QUANTITY_STR_MAX] = "";
    const char *p = s, *format = "DecimalSI";
    bool negative = false;
    __int128 value = 0;
    int scale = 0, exponent = 0, digits = 0;

    if (k8c_quantity_parse(s, strlen(s), &q) == 0)
        k8c_quantity_format(&q, canon);
    if (*p == '+' || *p == '-')
        negative = *p++ == '-';
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        value = value * 10 + (*p - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits++, scale--)
            value = value * 10 + (*p - '0');
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (strcmp(p, suffixes[i].suffix) != 0)
            continue;
        exponent = suffixes[i].exponent;
        if (suffixes[i].binary) {
            format = "BinarySI";
            value <<= exponent;
        } else {
            scale += exponent;
        }
    }
    if (*p == 'e' || *p == 'E') {
        format = "DecimalExponent";
        scale += atoi(p + 1);
    }
    if (digits > 18 || value > INT64_MAX)
        value = 0;
    k8c_sbuf_printf(sb,
                    "resource.Quantity{i:resource.int64Amount{value:%lld, scale:%d}, "
                    "d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:",
                    (long long)(negative ? -value : value), scale);
    goq(sb, canon);
    k8c_sbuf_printf(sb, ", Format:\"%s\"}", format);
}

static const char *q_string(const struct api_quantity_entry *e)
{
    return e != NULL && e->value != NULL ? str_or_empty(e->value->string) : "";
}

/* IsIntegerResourceName */
static bool integer_resource(const char *name)
{
    static const char *const integers[] = {"pods",
                                           "resourcequotas",
                                           "services",
                                           "replicationcontrollers",
                                           "secrets",
                                           "configmaps",
                                           "persistentvolumeclaims",
                                           "services.nodeports",
                                           "services.loadbalancers",
                                           NULL};
    return one_of(name, integers) || extended_resource(name);
}

/* ValidateResourceQuantityValue at child (NULL: the current path) */
static void resource_quantity_value(struct vctx *v, const char *child,
                                    const struct api_quantity_entry *e)
{
    struct k8c_quantity q;
    char canon[K8C_QUANTITY_STR_MAX];
    const char *s = q_string(e);

    if (k8c_quantity_parse(s, strlen(s), &q) != 0)
        return;
    k8c_quantity_format(&q, canon);
    if (q.nano < 0)
        invalid_str(v, child, canon, "must be greater than or equal to 0");
    if (integer_resource(str_or_empty(e->key)) && k8c_quantity_milli_value(&q) % 1000 != 0) {
        go_quantity(val_begin(v), s);
        invalid_val(v, child, "must be an integer");
    }
}

/* validateNodeTaints at child */
static void node_taints(struct vctx *v, const char *child, taint_t *const *taints, size_t n)
{
    static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
    struct name_set seen = {0};
    const char *msgs[MAX_MSGS];
    size_t at = path_child(v, child);

    for (size_t i = 0; i < n; i++) {
        const taint_t *t = taints[i];
        const char *key = str_or_empty(t->key), *value = str_or_empty(t->value);
        const char *effect = str_or_empty(t->effect);
        size_t ti = path_index(v, i), nm;
        invalid_msgs(v, "key", key, msgs, qualified_name_msgs(key, msgs));
        if ((nm = label_value_msgs(value, msgs)) > 0)
            invalid_joined(v, "value", value, msgs, nm, ";");
        if (effect[0] == '\0')
            required(v, "effect", NULL);
        else if (!one_of(effect, effects))
            not_supported(v, "effect", effect, effects);
        struct k8c_sbuf pair;
        k8c_sbuf_init(&pair);
        k8c_sbuf_printf(&pair, "%s\n%s", effect, key);
        if (name_set_has(&seen, pair.data)) {
            struct k8c_sbuf *sb = val_begin(v);
            k8c_sbuf_puts(sb, "core.Taint{Key:");
            goq(sb, key);
            k8c_sbuf_puts(sb, ", Value:");
            goq(sb, value);
            k8c_sbuf_puts(sb, ", Effect:");
            goq(sb, effect);
            k8c_sbuf_printf(sb, ", TimeAdded:(*v1.Time)(%s)}",
                            t->timeadded != NULL ? "&{...}" : "nil");
            verr(v, E_DUPLICATE, NULL, val_str(v), "taints must be unique by key and effect pair");
            k8c_sbuf_free(&pair);
        } else {
            /* the set keeps pointers to its names: the joined pair lives until the end */
            name_set_add(&seen, k8c_sbuf_detach(&pair));
        }
        path_pop(v, ti);
    }
    for (size_t i = 0; i < seen.n; i++)
        k8c_free((char *)seen.names[i]);
    name_set_free(&seen);
    path_pop(v, at);
}

/* ValidateNodeResources: status.capacity and status.allocatable, by child (not key) */
static void node_resources(struct vctx *v, const node_t *node)
{
    const K8s__Io__Api__Core__V1__NodeStatus *st = node->status;
    void **sorted;

    if (st == NULL)
        return;
    for (int list = 0; list < 2; list++) {
        void *const *entries =
            list == 0 ? (void *const *)st->capacity : (void *const *)st->allocatable;
        size_t n = list == 0 ? st->n_capacity : st->n_allocatable;
        sorted = sorted_entries(entries, n);
        for (size_t i = 0; i < n; i++) {
            const struct api_quantity_entry *e = sorted[i];
            size_t at = path_child(v, list == 0 ? "status.capacity" : "status.allocatable");
            path_child(v, str_or_empty(e->key));
            resource_quantity_value(v, NULL, e);
            path_pop(v, at);
        }
        k8c_free(sorted);
    }
}

/* ValidateNode, and ValidateNodeUpdate's own rules on update */
static void validate_node(struct vctx *v, const node_t *node, const node_t *old)
{
    static const K8s__Io__Api__Core__V1__NodeSpec none = K8S__IO__API__CORE__V1__NODE_SPEC__INIT;
    const K8s__Io__Api__Core__V1__NodeSpec *s = node->spec != NULL ? node->spec : &none;
    const K8s__Io__Api__Core__V1__NodeSpec *o = old == NULL         ? NULL
                                                : old->spec != NULL ? old->spec
                                                                    : &none;

    if (s->n_taints > 0)
        node_taints(v, "metadata.taints", s->taints, s->n_taints);
    node_resources(v, node);
    if (s->n_podcidrs > 0) {
        struct name_set seen = {0};
        struct cidr c;
        bool v4 = false, v6 = false, bad = false;
        size_t at = path_child(v, "spec.podCIDRs");
        for (size_t i = 0; i < s->n_podcidrs; i++) {
            const char *cidr = str_or_empty(s->podcidrs[i]);
            size_t ci = path_index(v, i);
            if (!cidr_parse(cidr, &c)) {
                invalid_str(v, NULL, cidr, CIDR_MSG);
                bad = true;
            } else if (c.is4) {
                v4 = true;
            } else {
                v6 = true;
            }
            path_pop(v, ci);
        }
        if (s->n_podcidrs > 1) {
            if (bad || !(v4 && v6) || s->n_podcidrs > 2) {
                go_string_slice(val_begin(v), s->podcidrs, s->n_podcidrs);
                invalid_val(v, NULL, "may specify no more than one CIDR for each IP family");
            }
            for (size_t i = 0; i < s->n_podcidrs; i++) {
                const char *cidr = str_or_empty(s->podcidrs[i]);
                if (name_set_has(&seen, cidr)) {
                    size_t ci = path_index(v, i);
                    duplicate_str(v, NULL, cidr);
                    path_pop(v, ci);
                } else {
                    name_set_add(&seen, cidr);
                }
            }
        }
        name_set_free(&seen);
        path_pop(v, at);
    }
    if (o == NULL)
        return;
    static const char change[] = "node updates may not change podCIDR except from \"\" to valid";
    if (o->n_podcidrs > 0) {
        if (o->n_podcidrs != s->n_podcidrs) {
            forbidden(v, "spec.podCIDRs", change);
        } else {
            for (size_t i = 0; i < s->n_podcidrs; i++)
                if (!str_eq(s->podcidrs[i], o->podcidrs[i]))
                    forbidden(v, "spec.podCIDRs", change);
        }
    }
    if (!str_empty(o->providerid) && !str_eq(s->providerid, o->providerid))
        forbidden(v, "spec.providerID",
                  "node updates may not change providerID except from \"\" to valid");
    if (!str_eq(s->externalid, o->externalid))
        forbidden(v, "spec.externalID", "may not be updated");
}

/* The addresses of a node's status: no (type, address) twice (ValidateNodeUpdate) */
static void node_addresses(struct vctx *v, const node_t *node)
{
    struct name_set seen = {0};
    const K8s__Io__Api__Core__V1__NodeStatus *st = node->status;

    for (size_t i = 0; st != NULL && i < st->n_addresses; i++) {
        const K8s__Io__Api__Core__V1__NodeAddress *a = st->addresses[i];
        struct k8c_sbuf key;
        k8c_sbuf_init(&key);
        k8c_sbuf_printf(&key, "%s\n%s", str_or_empty(a->type), str_or_empty(a->address));
        if (name_set_has(&seen, key.data)) {
            struct k8c_sbuf *sb = val_begin(v);
            size_t at = path_child(v, "status.addresses");
            path_index(v, i);
            k8c_sbuf_puts(sb, "core.NodeAddress{Type:");
            goq(sb, a->type);
            k8c_sbuf_puts(sb, ", Address:");
            goq(sb, a->address);
            k8c_sbuf_putc(sb, '}');
            verr(v, E_DUPLICATE, NULL, val_str(v), NULL);
            path_pop(v, at);
            k8c_sbuf_free(&key);
        } else {
            name_set_add(&seen, k8c_sbuf_detach(&key));
        }
    }
    for (size_t i = 0; i < seen.n; i++)
        k8c_free((char *)seen.names[i]);
    name_set_free(&seen);
}

/* ValidateResourceQuotaResourceName and the quantity of each (sorted) entry at child[name] */
static void quota_resources(struct vctx *v, const char *child, void **sorted, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct api_quantity_entry *e = sorted[i];
        const char *name = str_or_empty(e->key);
        size_t at = path_child(v, child);
        path_key(v, name);
        resource_name(v, name);
        if (strchr(name, '/') == NULL && !standard_resource(name, true))
            invalid_resource(v, NULL, name, "must be a standard resource for quota");
        resource_quantity_value(v, NULL, e);
        path_pop(v, at);
    }
}

#define QUOTA_SCOPE_CONFLICT "conflicting scopes"

/* The hard resources a quota scope may constrain (helper.IsResourceQuotaScopeValidForResource):
 * true when name is fine under scope */
static bool scope_allows(const char *scope, const char *name)
{
    static const char *const pod_compute[] = {
        "pods",       "cpu",           "memory", "requests.cpu", "requests.memory",
        "limits.cpu", "limits.memory", NULL};
    static const char *const terminating[] = {"Terminating",
                                              "NotTerminating",
                                              "NotBestEffort",
                                              "PriorityClass",
                                              "CrossNamespacePodAffinity",
                                              NULL};
    if (one_of(scope, terminating))
        return one_of(name, pod_compute);
    if (strcmp(scope, "BestEffort") == 0)
        return strcmp(name, "pods") == 0;
    return true;
}

/* How many standard hard resources each kind of scope does not allow: [0] under the
 * pod-compute scopes (Terminating, NotTerminating, NotBestEffort, PriorityClass,
 * CrossNamespacePodAffinity), [1] under BestEffort */
static void scope_misapplied_counts(void **hard_sorted, size_t n, size_t counts[2])
{
    counts[0] = counts[1] = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = str_or_empty(((const struct api_quantity_entry *)hard_sorted[i])->key);
        if (strchr(name, '/') != NULL || !standard_resource(name, true))
            continue;
        counts[0] += !scope_allows("Terminating", name);
        counts[1] += !scope_allows("BestEffort", name);
    }
}

/* "unsupported scope applied to resource" once per standard hard resource the scope does not
 * allow */
static size_t scope_misapplied(const char *scope, const size_t counts[2])
{
    if (strcmp(scope, "BestEffort") == 0)
        return counts[1];
    return scope_allows(scope, "requests.storage") ? 0 : counts[0];
}

static void go_scopes(struct k8c_sbuf *sb, char *const *scopes, size_t n)
{
    go_slice(sb, "core.ResourceQuotaScope", scopes, n);
}

/* ValidateResourceQuotaSpec at "spec"; the scopes are immutable on update */
static void validate_resource_quota(struct vctx *v, const resource_quota_t *rq,
                                    const resource_quota_t *old)
{
    static const char *const scopes_known[] = {"Terminating",
                                               "NotTerminating",
                                               "BestEffort",
                                               "NotBestEffort",
                                               "PriorityClass",
                                               "CrossNamespacePodAffinity",
                                               NULL};
    static const char *const exists_only[] = {
        "BestEffort", "NotBestEffort", "Terminating", "NotTerminating", "CrossNamespacePodAffinity",
        NULL};
    static const K8s__Io__Api__Core__V1__ResourceQuotaSpec none =
        K8S__IO__API__CORE__V1__RESOURCE_QUOTA_SPEC__INIT;
    const K8s__Io__Api__Core__V1__ResourceQuotaSpec *s = rq->spec != NULL ? rq->spec : &none;
    void **hard = sorted_entries((void *const *)s->hard, s->n_hard);
    size_t misapplied[2];
    size_t at = path_child(v, "spec");

    scope_misapplied_counts(hard, s->n_hard, misapplied);

    quota_resources(v, "hard", hard, s->n_hard);
    bool has[6] = {false};
    for (size_t i = 0; i < s->n_scopes; i++) {
        const char *scope = str_or_empty(s->scopes[i]);
        for (size_t k = 0; scopes_known[k] != NULL; k++)
            has[k] = has[k] || strcmp(scope, scopes_known[k]) == 0;
        if (!one_of(scope, scopes_known)) {
            go_scopes(val_begin(v), s->scopes, s->n_scopes);
            invalid_val(v, "scopes", "unsupported scope");
        }
        for (size_t k = scope_misapplied(scope, misapplied); k > 0; k--) {
            go_scopes(val_begin(v), s->scopes, s->n_scopes);
            invalid_val(v, "scopes", "unsupported scope applied to resource");
        }
    }
    if ((has[2] && has[3]) || (has[0] && has[1])) {
        for (int pair = 0; pair < 2; pair++) {
            if (!(pair == 0 ? has[2] && has[3] : has[0] && has[1]))
                continue;
            go_scopes(val_begin(v), s->scopes, s->n_scopes);
            invalid_val(v, "scopes", QUOTA_SCOPE_CONFLICT);
        }
    }
    if (s->scopeselector != NULL) {
        const K8s__Io__Api__Core__V1__ScopeSelector *sel = s->scopeselector;
        bool sel_has[6] = {false};
        size_t m = path_child(v, "scopeSelector.matchExpressions");
        for (size_t i = 0; i < sel->n_matchexpressions; i++) {
            const K8s__Io__Api__Core__V1__ScopedResourceSelectorRequirement *r =
                sel->matchexpressions[i];
            const char *scope = str_or_empty(r->scopename), *op = str_or_empty(r->operator_);
            for (size_t k = 0; scopes_known[k] != NULL; k++)
                sel_has[k] = sel_has[k] || strcmp(scope, scopes_known[k]) == 0;
            if (!one_of(scope, scopes_known))
                invalid_str(v, "scopeName", scope, "unsupported scope");
            for (size_t k = scope_misapplied(scope, misapplied); k > 0; k--) {
                struct k8c_sbuf *sb = val_begin(v);
                k8c_sbuf_puts(sb, "core.ScopeSelector{MatchExpressions:[]core."
                                  "ScopedResourceSelectorRequirement{");
                for (size_t j = 0; j < sel->n_matchexpressions; j++) {
                    const K8s__Io__Api__Core__V1__ScopedResourceSelectorRequirement *q =
                        sel->matchexpressions[j];
                    k8c_sbuf_puts(sb, j > 0 ? ", core.ScopedResourceSelectorRequirement{ScopeName:"
                                            : "core.ScopedResourceSelectorRequirement{ScopeName:");
                    goq(sb, q->scopename);
                    k8c_sbuf_puts(sb, ", Operator:");
                    goq(sb, q->operator_);
                    k8c_sbuf_puts(sb, ", Values:");
                    go_string_slice(sb, q->values, q->n_values);
                    k8c_sbuf_putc(sb, '}');
                }
                k8c_sbuf_puts(sb, "}}");
                invalid_val(v, NULL, "unsupported scope applied to resource");
            }
            if (one_of(scope, exists_only) && strcmp(op, "Exists") != 0)
                invalid_str(v, "operator", op,
                            "must be 'Exists' when scope is any of "
                            "ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, "
                            "ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or "
                            "ResourceQuotaScopeCrossNamespacePodAffinity");
            if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
                if (r->n_values == 0)
                    required(v, "values",
                             "must be at least one value when `operator` is 'In' or 'NotIn' for "
                             "scope selector");
            } else if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) {
                if (r->n_values > 0) {
                    go_string_slice(val_begin(v), r->values, r->n_values);
                    invalid_val(v, "values",
                                "must be no value when `operator` is 'Exist' or 'DoesNotExist' for "
                                "scope selector");
                }
            } else {
                invalid_str(v, "operator", op, "not a valid selector operator");
            }
        }
        for (int pair = 0; pair < 2; pair++) {
            if (!(pair == 0 ? sel_has[2] && sel_has[3] : sel_has[0] && sel_has[1]))
                continue;
            go_scopes(val_begin(v), s->scopes, s->n_scopes);
            invalid_val(v, NULL, QUOTA_SCOPE_CONFLICT);
        }
        path_pop(v, m);
    }
    k8c_free(hard);
    if (old != NULL) {
        const K8s__Io__Api__Core__V1__ResourceQuotaSpec *os = old->spec != NULL ? old->spec : &none;
        struct name_set now = {0}, before = {0};
        bool same = true;
        for (size_t i = 0; i < s->n_scopes; i++)
            name_set_add(&now, str_or_empty(s->scopes[i]));
        for (size_t i = 0; i < os->n_scopes; i++)
            name_set_add(&before, str_or_empty(os->scopes[i]));
        for (size_t i = 0; same && i < s->n_scopes; i++)
            same = name_set_has(&before, str_or_empty(s->scopes[i]));
        for (size_t i = 0; same && i < os->n_scopes; i++)
            same = name_set_has(&now, str_or_empty(os->scopes[i]));
        name_set_free(&now);
        name_set_free(&before);
        if (!same) {
            go_scopes(val_begin(v), s->scopes, s->n_scopes);
            invalid_val(v, "scopes", "field is immutable");
        }
    }
    path_pop(v, at);
}

/* ValidateResourceQuotaStatusUpdate's per-resource checks of status.hard and status.used */
static void resource_quota_status(struct vctx *v, const resource_quota_t *rq)
{
    const K8s__Io__Api__Core__V1__ResourceQuotaStatus *st = rq->status;

    for (int list = 0; st != NULL && list < 2; list++) {
        void *const *entries = list == 0 ? (void *const *)st->hard : (void *const *)st->used;
        size_t n = list == 0 ? st->n_hard : st->n_used;
        void **sorted = sorted_entries(entries, n);
        quota_resources(v, list == 0 ? "status.hard" : "status.used", sorted, n);
        k8c_free(sorted);
    }
}

/* The quantity of name in a LimitRange map (NULL when absent) */
static const struct api_quantity_entry *lr_find(void *const *entries, size_t n, const char *name)
{
    return (const struct api_quantity_entry *)map_find(entries, n, name);
}

/* validateLimitRangeResourceName for each key of a LimitRange map at child[key] */
static void lr_names(struct vctx *v, const char *type, const char *child, void *const *entries,
                     size_t n, struct name_set *keys)
{
    bool container = strcmp(type, "Pod") == 0 || strcmp(type, "Container") == 0;
    void **sorted = sorted_entries(entries, n);

    for (size_t i = 0; i < n; i++) {
        const char *k = str_or_empty(((const struct api_quantity_entry *)sorted[i])->key);
        size_t at = path_child(v, child);
        path_key(v, k);
        if (container)
            container_resource_name(v, k);
        else
            resource_name(v, k);
        path_pop(v, at);
        if (!name_set_has(keys, k))
            name_set_add(keys, k);
    }
    k8c_free(sorted);
}

/* One relationship error of a LimitRange key: Invalid at child[key] with the quantity bad */
static void lr_invalid(struct vctx *v, const char *child, const char *key,
                       const struct api_quantity_entry *bad, const char *detail)
{
    size_t at = path_child(v, child);
    path_key(v, key);
    go_quantity(val_begin(v), q_string(bad));
    invalid_val(v, NULL, detail);
    path_pop(v, at);
}

static bool lr_quantity(const struct api_quantity_entry *e, struct k8c_quantity *q, char *canon)
{
    return e != NULL && entry_quantity((const quantity_entry_t *)(const void *)e, q, canon);
}

/* The relationships between one key's min, max, default, defaultRequest and ratio */
static void lr_key(struct vctx *v, const limit_range_item_t *it, const char *k)
{
    const struct api_quantity_entry *mn = lr_find((void *const *)it->min, it->n_min, k);
    const struct api_quantity_entry *mx = lr_find((void *const *)it->max, it->n_max, k);
    const struct api_quantity_entry *def = lr_find((void *const *)it->default_, it->n_default_, k);
    const struct api_quantity_entry *dr =
        lr_find((void *const *)it->defaultrequest, it->n_defaultrequest, k);
    const struct api_quantity_entry *ratio =
        lr_find((void *const *)it->maxlimitrequestratio, it->n_maxlimitrequestratio, k);
    struct k8c_quantity qmin, qmax, qdef, qdr, qratio;
    char cmin[K8C_QUANTITY_STR_MAX], cmax[K8C_QUANTITY_STR_MAX], cdef[K8C_QUANTITY_STR_MAX],
        cdr[K8C_QUANTITY_STR_MAX], cratio[K8C_QUANTITY_STR_MAX], detail[320];
    bool hmin = lr_quantity(mn, &qmin, cmin), hmax = lr_quantity(mx, &qmax, cmax);
    bool hdef = lr_quantity(def, &qdef, cdef), hdr = lr_quantity(dr, &qdr, cdr);
    bool hratio = lr_quantity(ratio, &qratio, cratio);

    if (hmin && hmax && k8c_quantity_cmp(&qmin, &qmax) > 0) {
        snprintf(detail, sizeof(detail), "min value %s is greater than max value %s", cmin, cmax);
        lr_invalid(v, "min", k, mn, detail);
    }
    if (hdr && hmin && k8c_quantity_cmp(&qmin, &qdr) > 0) {
        snprintf(detail, sizeof(detail), "min value %s is greater than default request value %s",
                 cmin, cdr);
        lr_invalid(v, "defaultRequest", k, dr, detail);
    }
    if (hdr && hmax && k8c_quantity_cmp(&qdr, &qmax) > 0) {
        snprintf(detail, sizeof(detail), "default request value %s is greater than max value %s",
                 cdr, cmax);
        lr_invalid(v, "defaultRequest", k, dr, detail);
    }
    if (hdr && hdef && k8c_quantity_cmp(&qdr, &qdef) > 0) {
        snprintf(detail, sizeof(detail),
                 "default request value %s is greater than default limit value %s", cdr, cdef);
        lr_invalid(v, "defaultRequest", k, dr, detail);
    }
    if (hdef && hmin && k8c_quantity_cmp(&qmin, &qdef) > 0) {
        snprintf(detail, sizeof(detail), "min value %s is greater than default value %s", cmin,
                 cdef);
        lr_invalid(v, "default", k, mn, detail);
    }
    if (hdef && hmax && k8c_quantity_cmp(&qdef, &qmax) > 0) {
        snprintf(detail, sizeof(detail), "default value %s is greater than max value %s", cdef,
                 cmax);
        lr_invalid(v, "default", k, mx, detail);
    }
    if (hratio && qratio.nano < (__int128)1000000000) {
        snprintf(detail, sizeof(detail), "ratio %s is less than 1", cratio);
        lr_invalid(v, "maxLimitRequestRatio", k, ratio, detail);
    }
    if (hratio && hmin && hmax) {
        double rv = (double)k8c_quantity_milli_value(&qratio) / 1000.0;
        double limit =
            (double)k8c_quantity_milli_value(&qmax) / (double)k8c_quantity_milli_value(&qmin);
        if (rv > limit) {
            snprintf(detail, sizeof(detail), "ratio %s is greater than max/min = %f", cratio,
                     limit);
            lr_invalid(v, "maxLimitRequestRatio", k, ratio, detail);
        }
    }
    if (!resource_overcommit_allowed(k) && hdef && hdr && k8c_quantity_cmp(&qdef, &qdr) != 0) {
        snprintf(detail, sizeof(detail),
                 "default value %s must equal to defaultRequest value %s in %.100s", cdef, cdr, k);
        lr_invalid(v, "defaultRequest", k, dr, detail);
    }
}

/* ValidateLimitRange at "spec.limits" */
static void validate_limit_range(struct vctx *v, const limit_range_t *lr)
{
    static const char *const types[] = {"Pod", "Container", "PersistentVolumeClaim", NULL};
    struct name_set seen_types = {0};
    const char *msgs[MAX_MSGS];
    size_t at = path_child(v, "spec.limits");

    for (size_t i = 0; lr->spec != NULL && i < lr->spec->n_limits; i++) {
        const limit_range_item_t *it = lr->spec->limits[i];
        const char *type = str_or_empty(it->type);
        struct name_set keys = {0};
        size_t li = path_index(v, i), nm;

        if ((nm = qualified_name_msgs(type, msgs)) > 0)
            invalid_msgs(v, "type", type, msgs, nm);
        else if (strchr(type, '/') == NULL && !one_of(type, types))
            invalid_str(v, "type", type, "must be a standard limit type or fully qualified");
        if (name_set_has(&seen_types, type))
            duplicate_str(v, "type", type);
        else
            name_set_add(&seen_types, type);
        lr_names(v, type, "max", (void *const *)it->max, it->n_max, &keys);
        lr_names(v, type, "min", (void *const *)it->min, it->n_min, &keys);
        if (strcmp(type, "Pod") == 0) {
            if (it->n_default_ > 0)
                forbidden(v, "default", "may not be specified when `type` is 'Pod'");
            if (it->n_defaultrequest > 0)
                forbidden(v, "defaultRequest", "may not be specified when `type` is 'Pod'");
        } else {
            lr_names(v, type, "default", (void *const *)it->default_, it->n_default_, &keys);
            lr_names(v, type, "defaultRequest", (void *const *)it->defaultrequest,
                     it->n_defaultrequest, &keys);
        }
        if (strcmp(type, "PersistentVolumeClaim") == 0 &&
            lr_find((void *const *)it->min, it->n_min, "storage") == NULL &&
            lr_find((void *const *)it->max, it->n_max, "storage") == NULL)
            required(v, "limits",
                     "either minimum or maximum storage value is required, but neither was "
                     "provided");
        lr_names(v, type, "maxLimitRequestRatio", (void *const *)it->maxlimitrequestratio,
                 it->n_maxlimitrequestratio, &keys);
        /* upstream walks a Go set: sorted here */
        const char **sorted = k8c_malloc((keys.n + 1) * sizeof(*sorted));
        if (keys.n > 0) {
            memcpy(sorted, keys.names, keys.n * sizeof(*sorted));
            qsort(sorted, keys.n, sizeof(*sorted), strp_cmp);
        }
        for (size_t k = 0; k < keys.n; k++)
            lr_key(v, it, sorted[k]);
        k8c_free(sorted);
        name_set_free(&keys);
        path_pop(v, li);
    }
    name_set_free(&seen_types);
    path_pop(v, at);
}

/* ---- PersistentVolume ---------------------------------------------------------------------- */

typedef K8s__Io__Api__Core__V1__PersistentVolume pv_t;

/*
 * The volume sources of a PersistentVolume in the order upstream's ValidatePersistentVolumeSpec
 * takes them: the proto (JSON) field, the path of its "may not specify more than 1 volume type"
 * error, the path its own checks report under, and the fields those checks require.
 */
static const struct pv_source {
    const char *field, *forbidden_at, *checked_at;
    const char *required[4];
} pv_sources[] = {
    {"hostPath", "hostPath", "hostPath", {NULL}},
    {"gcePersistentDisk", "gcePersistentDisk", "persistentDisk", {"pdName", NULL}},
    {"awsElasticBlockStore", "awsElasticBlockStore", "awsElasticBlockStore", {"volumeID", NULL}},
    {"glusterfs", "glusterfs", "glusterfs", {"endpoints", "path", NULL}},
    {"flocker", "flocker", "flocker", {NULL}},
    {"nfs", "nfs", "nfs", {"server", "path", NULL}},
    {"rbd", "rbd", "rbd", {"monitors", "image", NULL}},
    {"quobyte", "quobyte", "quobyte", {"volume", NULL}},
    {"cephfs", "cephFS", "cephfs", {"monitors", NULL}},
    {"iscsi", "iscsi", "iscsi", {"targetPortal", "iqn", NULL}},
    {"cinder", "cinder", "cinder", {"volumeID", NULL}},
    {"fc", "fc", "fc", {NULL}},
    {"flexVolume", NULL, "flexVolume", {"driver", NULL}},
    {"azureFile", "azureFile", "azureFile", {"secretName", "shareName", NULL}},
    {"vsphereVolume", "vsphereVolume", "vsphereVolume", {"volumePath", NULL}},
    {"photonPersistentDisk", "photonPersistentDisk", "photonPersistentDisk", {"pdID", NULL}},
    {"portworxVolume", "portworxVolume", "portworxVolume", {"volumeID", NULL}},
    {"azureDisk", "azureDisk", "azureDisk", {"diskName", "diskURI", NULL}},
    {"scaleIO", "scaleIO", "scaleIO", {"gateway", "system", "volumeName", NULL}},
    {"local", "local", "local", {NULL}},
    {"storageos", "storageos", "storageos", {"volumeName", NULL}},
    {"csi", "csi", "csi", {NULL}},
};

/* A SecretReference of a CSI source: name and namespace set and well formed */
static void csi_secret_ref(struct vctx *v, const char *child,
                           const K8s__Io__Api__Core__V1__SecretReference *r)
{
    const char *msgs[MAX_MSGS];
    size_t at;

    if (r == NULL)
        return;
    at = path_child(v, child);
    if (str_empty(r->name))
        required(v, "name", NULL);
    else
        invalid_msgs(v, "name", r->name, msgs, dns1123_subdomain_msgs(r->name, msgs));
    if (str_empty(r->namespace_))
        required(v, "namespace", NULL);
    else
        invalid_msgs(v, "namespace", r->namespace_, msgs, dns1123_label_msgs(r->namespace_, msgs));
    path_pop(v, at);
}

/* One volume source's checks at its path */
static void pv_source_check(struct vctx *v, const struct pv_source *src, const ProtobufCMessage *m)
{
    static const char *const host_path_types[] = {
        "",     "BlockDevice",  "CharDevice", "Directory", "DirectoryOrCreate",
        "File", "FileOrCreate", "Socket",     NULL};
    const char *msgs[MAX_MSGS];
    size_t at = path_child(v, src->checked_at);

    for (size_t i = 0; src->required[i] != NULL; i++)
        if (!field_set(m, src->required[i]) ||
            (msg_str(m, src->required[i]) != NULL && msg_str(m, src->required[i])[0] == '\0'))
            required(v, src->required[i], NULL);
    if (strcmp(src->field, "hostPath") == 0 || strcmp(src->field, "local") == 0) {
        const char *p = msg_str(m, "path");
        if (str_empty(p)) {
            required(v, "path", NULL);
        } else {
            path_no_backsteps(v, "path", p);
            const char *type = strcmp(src->field, "hostPath") == 0 ? msg_str(m, "type") : NULL;
            if (type != NULL && !one_of(type, host_path_types))
                not_supported(v, "type", type, host_path_types);
        }
    } else if (strcmp(src->field, "nfs") == 0) {
        const char *p = msg_str(m, "path");
        if (str_or_empty(p)[0] != '/')
            invalid_str(v, "path", str_or_empty(p), "must be an absolute path");
    } else if (strcmp(src->field, "csi") == 0) {
        const K8s__Io__Api__Core__V1__CSIPersistentVolumeSource *c = (const void *)m;
        const char *driver = str_or_empty(c->driver);
        char *lower = k8c_strdup(driver);
        for (char *q = lower; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q = (char)(*q - 'A' + 'a');
        if (driver[0] == '\0')
            required(v, "driver", NULL);
        if (strlen(driver) > 63)
            too_long(v, "driver", 63);
        invalid_msgs(v, "driver", driver, msgs, dns1123_subdomain_msgs(lower, msgs));
        k8c_free(lower);
        if (str_empty(c->volumehandle))
            required(v, "volumeHandle", NULL);
        csi_secret_ref(v, "controllerPublishSecretRef", c->controllerpublishsecretref);
        csi_secret_ref(v, "controllerExpandSecretRef", c->controllerexpandsecretref);
        csi_secret_ref(v, "nodePublishSecretRef", c->nodepublishsecretref);
        csi_secret_ref(v, "nodeExpandSecretRef", c->nodeexpandsecretref);
    }
    path_pop(v, at);
}

/* ValidatePersistentVolume's spec checks at "spec" (the metadata run before) */
static void validate_pv(struct vctx *v, const pv_t *pv, const pv_t *old)
{
    static const char *const modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                        "ReadWriteOncePod", NULL};
    static const char *const reclaim[] = {"Delete", "Recycle", "Retain", NULL};
    static const char *const volume_modes[] = {"Block", "Filesystem", NULL};
    static const K8s__Io__Api__Core__V1__PersistentVolumeSpec none =
        K8S__IO__API__CORE__V1__PERSISTENT_VOLUME_SPEC__INIT;
    const K8s__Io__Api__Core__V1__PersistentVolumeSpec *s = pv->spec != NULL ? pv->spec : &none;
    const ProtobufCMessage *sources =
        s->persistentvolumesource != NULL ? &s->persistentvolumesource->base : NULL;
    const char *msgs[MAX_MSGS];
    bool rwop = false, others = false;
    int count = 0;
    size_t at = path_child(v, "spec");

    if (s->n_accessmodes == 0)
        required(v, "accessModes", NULL);
    for (size_t i = 0; i < s->n_accessmodes; i++) {
        const char *m = str_or_empty(s->accessmodes[i]);
        if (!one_of(m, modes))
            not_supported(v, "accessModes", m, modes);
        else if (strcmp(m, "ReadWriteOncePod") == 0)
            rwop = true;
        else
            others = true;
    }
    if (rwop && others)
        forbidden(v, "accessModes", "may not use ReadWriteOncePod with other access modes");
    if (s->n_capacity == 0)
        required(v, "capacity", NULL);
    if (map_find((void *const *)s->capacity, s->n_capacity, "storage") == NULL ||
        s->n_capacity > 1) {
        struct k8c_sbuf *sb = val_begin(v);
        k8c_sbuf_puts(sb, s->n_capacity == 0 ? "core.ResourceList(nil)" : "core.ResourceList{");
        for (size_t i = 0; i < s->n_capacity; i++) {
            const struct api_quantity_entry *e = (const void *)s->capacity[i];
            k8c_sbuf_puts(sb, i > 0 ? ", " : "");
            goq(sb, e->key);
            k8c_sbuf_putc(sb, ':');
            go_quantity(sb, q_string(e));
        }
        if (s->n_capacity > 0)
            k8c_sbuf_putc(sb, '}');
        verr(v, E_NOT_SUPPORTED, "capacity", val_str(v), "supported values: \"storage\"");
    }
    for (size_t i = 0; i < s->n_capacity; i++) {
        const struct api_quantity_entry *e = (const void *)s->capacity[i];
        struct k8c_quantity q;
        char canon[K8C_QUANTITY_STR_MAX];
        if (!lr_quantity(e, &q, canon))
            continue;
        size_t ci = path_child(v, "capacity");
        path_key(v, str_or_empty(e->key));
        if (q.nano < 0)
            invalid_int(v, NULL, k8c_quantity_value(&q), "must be a valid resource quantity");
        if (q.nano <= 0)
            invalid_str(v, NULL, canon, "must be greater than zero");
        path_pop(v, ci);
    }
    if (!str_empty(s->persistentvolumereclaimpolicy) &&
        !one_of(s->persistentvolumereclaimpolicy, reclaim))
        not_supported(v, "persistentVolumeReclaimPolicy", s->persistentvolumereclaimpolicy,
                      reclaim);
    if (s->nodeaffinity != NULL) {
        size_t na = path_child(v, "nodeAffinity");
        const K8s__Io__Api__Core__V1__NodeSelector *req = s->nodeaffinity->required;
        if (req == NULL) {
            required(v, "required", "must specify required node constraints");
        } else {
            size_t ra = path_child(v, "required");
            if (req->n_nodeselectorterms == 0)
                required(v, "nodeSelectorTerms", "must have at least one node selector term");
            each_at(v, "nodeSelectorTerms", (void *const *)req->nodeselectorterms,
                    req->n_nodeselectorterms, node_selector_term_cb);
            path_pop(v, ra);
        }
        path_pop(v, na);
    }
    for (size_t i = 0; sources != NULL && i < sizeof(pv_sources) / sizeof(pv_sources[0]); i++) {
        const struct pv_source *src = &pv_sources[i];
        if (!field_set(sources, src->field))
            continue;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(sources->descriptor, src->field);
        const ProtobufCMessage *m = *(const ProtobufCMessage **)((const char *)sources + f->offset);
        if (count > 0 && src->forbidden_at != NULL) {
            forbidden(v, src->forbidden_at, "may not specify more than 1 volume type");
            continue;
        }
        count++;
        pv_source_check(v, src, m);
        if (strcmp(src->field, "local") == 0 && s->nodeaffinity == NULL)
            required(v, "nodeAffinity", "Local volume requires node affinity");
    }
    if (count == 0)
        required(v, NULL, "must specify a volume type");
    if (sources != NULL && s->persistentvolumesource->hostpath != NULL &&
        str_eq(s->persistentvolumereclaimpolicy, "Recycle")) {
        const char *p = str_or_empty(s->persistentvolumesource->hostpath->path);
        if (strspn(p, "/") == strlen(p) && p[0] == '/')
            forbidden(v, "persistentVolumeReclaimPolicy",
                      "may not be 'recycle' for a hostPath mount of '/'");
    }
    if (!str_empty(s->storageclassname))
        invalid_msgs(v, "storageClassName", s->storageclassname, msgs,
                     dns1123_subdomain_msgs(s->storageclassname, msgs));
    if (s->volumemode != NULL && !one_of(s->volumemode, volume_modes))
        not_supported(v, "volumeMode", s->volumemode, volume_modes);
    path_pop(v, at);
    if (old == NULL)
        return;
    const K8s__Io__Api__Core__V1__PersistentVolumeSpec *o = old->spec != NULL ? old->spec : &none;
    if (!msg_equal(sources,
                   o->persistentvolumesource != NULL ? &o->persistentvolumesource->base : NULL))
        forbidden(v, "spec.persistentvolumesource",
                  "spec.persistentvolumesource is immutable after creation");
    if ((s->volumemode == NULL) != (o->volumemode == NULL) ||
        !str_eq(s->volumemode, o->volumemode)) {
        goq(val_begin(v), s->volumemode != NULL ? s->volumemode : "null");
        invalid_val(v, "volumeMode", "field is immutable");
    }
}

static void validate_kind(struct vctx *v, const ProtobufCMessage *obj, const ProtobufCMessage *old)
{
    const ProtobufCMessageDescriptor *d = obj->descriptor;
    /* ValidatePodUpdate, ValidateServiceUpdate, ValidateConfigMapUpdate and ValidateSecretUpdate
     * re-run the create-time metadata checks on the new object */
    const meta_t *meta = object_meta(obj);
    enum name_rule rule = (enum name_rule)v->name_rule;

    if (old != NULL)
        v->allow_host_sysctls = host_sysctls_violated((const pod_spec_t *)api_obj_pod_spec(old));
    v->resource_is_pod = d == &k8s__io__api__core__v1__pod__descriptor;

    if (d == &k8s__io__api__core__v1__pod__descriptor) {
        if (old == NULL) {
            validate_pod(v, (const pod_t *)obj);
        } else {
            validate_object_meta(v, meta, v->namespaced, rule);
            validate_pod_update(v, (const pod_t *)obj, (const pod_t *)old);
        }
    } else if (d == &k8s__io__api__core__v1__pod_template__descriptor) {
        validate_pod_template(v, (const pod_template_t *)obj);
    } else if (d == &k8s__io__api__core__v1__replication_controller__descriptor) {
        validate_rc(v, (const rc_t *)obj);
    } else if (d == &k8s__io__api__apps__v1__deployment__descriptor) {
        const deployment_t *n = (const deployment_t *)obj, *o = (const deployment_t *)old;
        validate_deployment(v, n);
        if (o != NULL)
            selector_immutable(v, n->spec != NULL ? n->spec->selector : NULL,
                               o->spec != NULL ? o->spec->selector : NULL);
    } else if (d == &k8s__io__api__apps__v1__replica_set__descriptor) {
        const replica_set_t *n = (const replica_set_t *)obj, *o = (const replica_set_t *)old;
        validate_replica_set(v, n);
        if (o != NULL)
            selector_immutable(v, n->spec != NULL ? n->spec->selector : NULL,
                               o->spec != NULL ? o->spec->selector : NULL);
    } else if (d == &k8s__io__api__apps__v1__daemon_set__descriptor) {
        const daemon_set_t *n = (const daemon_set_t *)obj, *o = (const daemon_set_t *)old;
        validate_daemon_set(v, n);
        if (o != NULL)
            selector_immutable(v, n->spec != NULL ? n->spec->selector : NULL,
                               o->spec != NULL ? o->spec->selector : NULL);
    } else if (d == &k8s__io__api__apps__v1__stateful_set__descriptor) {
        validate_stateful_set(v, (const stateful_set_t *)obj);
        if (old != NULL)
            stateful_set_spec_update(v, (const stateful_set_t *)obj, (const stateful_set_t *)old);
    } else if (d == &k8s__io__api__batch__v1__job__descriptor) {
        if (old == NULL)
            validate_job(v, (const job_t *)obj);
        else
            validate_job_update(v, (const job_t *)obj, (const job_t *)old);
    } else if (d == &k8s__io__api__batch__v1__cron_job__descriptor) {
        validate_cron_job(v, (const cron_job_t *)obj, old == NULL);
    } else if (d == &k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler__descriptor) {
        validate_hpa(v, (const hpa_t *)obj, (const hpa_t *)old);
    } else if (d == &k8s__io__api__core__v1__service__descriptor) {
        if (old != NULL) {
            validate_service_update(v, (const service_t *)obj, (const service_t *)old);
            validate_object_meta(v, meta, v->namespaced, rule);
        }
        validate_service(v, (const service_t *)obj);
    } else if (d == &k8s__io__api__core__v1__config_map__descriptor) {
        if (old != NULL)
            config_map_immutable(v, (const config_map_t *)obj, (const config_map_t *)old);
        if (old != NULL)
            validate_object_meta(v, meta, v->namespaced, rule);
        validate_config_map(v, (const config_map_t *)obj);
    } else if (d == &k8s__io__api__core__v1__secret__descriptor) {
        if (old != NULL)
            secret_immutable(v, (const secret_t *)obj, (const secret_t *)old);
        if (old != NULL)
            validate_object_meta(v, meta, v->namespaced, rule);
        validate_secret(v, (const secret_t *)obj);
    } else if (d == &k8s__io__api__core__v1__namespace__descriptor) {
        validate_namespace(v, (const namespace_t *)obj, old != NULL);
    } else if (d == &k8s__io__api__core__v1__persistent_volume_claim__descriptor) {
        validate_pvc_spec(v, ((const pvc_t *)obj)->spec);
        if (old != NULL)
            validate_pvc_update(v, (const pvc_t *)obj, (const pvc_t *)old);
    } else if (d == &k8s__io__api__networking__v1__ingress__descriptor) {
        validate_ingress(v, (const ingress_t *)obj, old == NULL);
    } else if (d == &k8s__io__api__networking__v1__ingress_class__descriptor) {
        validate_ingress_class(v, (const ingress_class_t *)obj, (const ingress_class_t *)old);
    } else if (d == &k8s__io__api__networking__v1__network_policy__descriptor) {
        validate_network_policy(v, (const network_policy_t *)obj);
    } else if (d == &k8s__io__api__discovery__v1__endpoint_slice__descriptor) {
        validate_endpoint_slice(v, (const endpoint_slice_t *)obj, (const endpoint_slice_t *)old);
    } else if (d == &k8s__io__api__core__v1__endpoints__descriptor) {
        validate_endpoints(v, (const endpoints_t *)obj);
    } else if (d == &k8s__io__api__policy__v1__pod_disruption_budget__descriptor) {
        validate_pdb(v, (const pdb_t *)obj);
    } else if (d == &k8s__io__api__scheduling__v1__priority_class__descriptor) {
        validate_priority_class(v, (const priority_class_t *)obj, (const priority_class_t *)old);
    } else if (d == &k8s__io__api__node__v1__runtime_class__descriptor) {
        validate_runtime_class(v, (const runtime_class_t *)obj, (const runtime_class_t *)old);
    } else if (d == &k8s__io__api__storage__v1__storage_class__descriptor) {
        validate_storage_class(v, (const storage_class_t *)obj, (const storage_class_t *)old);
    } else if (d == &k8s__io__api__rbac__v1__role__descriptor) {
        const K8s__Io__Api__Rbac__V1__Role *r = (const void *)obj;
        validate_role(v, r->rules, r->n_rules, true, NULL);
    } else if (d == &k8s__io__api__rbac__v1__cluster_role__descriptor) {
        const K8s__Io__Api__Rbac__V1__ClusterRole *r = (const void *)obj;
        validate_role(v, r->rules, r->n_rules, false, r->aggregationrule);
    } else if (d == &k8s__io__api__rbac__v1__role_binding__descriptor) {
        const K8s__Io__Api__Rbac__V1__RoleBinding *b = (const void *)obj, *o = (const void *)old;
        validate_role_binding(v, b->roleref, b->subjects, b->n_subjects, true,
                              o != NULL ? o->roleref : NULL);
    } else if (d == &k8s__io__api__rbac__v1__cluster_role_binding__descriptor) {
        const K8s__Io__Api__Rbac__V1__ClusterRoleBinding *b = (const void *)obj,
                                                         *o = (const void *)old;
        validate_role_binding(v, b->roleref, b->subjects, b->n_subjects, false,
                              o != NULL ? o->roleref : NULL);
    } else if (d == &k8s__io__api__coordination__v1__lease__descriptor) {
        validate_lease(v, (const lease_t *)obj);
    } else if (d == &k8s__io__api__core__v1__node__descriptor) {
        validate_node(v, (const node_t *)obj, (const node_t *)old);
        if (old != NULL)
            node_addresses(v, (const node_t *)obj);
    } else if (d == &k8s__io__api__core__v1__resource_quota__descriptor) {
        validate_resource_quota(v, (const resource_quota_t *)obj, (const resource_quota_t *)old);
    } else if (d == &k8s__io__api__core__v1__persistent_volume__descriptor) {
        validate_pv(v, (const pv_t *)obj, (const pv_t *)old);
    } else if (d == &k8s__io__api__core__v1__limit_range__descriptor) {
        validate_limit_range(v, (const limit_range_t *)obj);
    } else if (d == &k8s__io__api__apps__v1__controller_revision__descriptor) {
        validate_controller_revision(v, (const controller_revision_t *)obj,
                                     (const controller_revision_t *)old);
    }
}

/* A validation of an object of r (NULL: namespaced, default name rule) into errs. */
static void vctx_begin(struct vctx *v, const struct api_resource *r, struct api_field_errors *errs)
{
    *v = (struct vctx){.errs = errs, .namespaced = r == NULL || r->namespaced};
    v->name_rule = name_rule_of(r);
    k8c_sbuf_init(&v->path);
    k8c_sbuf_init(&v->val);
}

/* Ends it: K8C_EINVAL when errors were added since there were `before`, else 0. */
static int vctx_end(struct vctx *v, size_t before)
{
    k8c_sbuf_free(&v->path);
    k8c_sbuf_free(&v->val);
    return v->errs->n > before ? K8C_EINVAL : 0;
}

/* A version stored as another is validated as the stored one, as upstream validates the
 * internal object whatever version came in (the field paths are the same). */
static int validate_as_stored(const struct api_resource *r, const ProtobufCMessage *obj,
                              const ProtobufCMessage *old, struct api_field_errors *errs,
                              int (*validate)(const struct api_resource *, const ProtobufCMessage *,
                                              const ProtobufCMessage *, struct api_field_errors *))
{
    char errmsg[K8C_ERRMSG_SIZE];
    ProtobufCMessage *sobj = NULL, *sold = NULL;
    int rc = api_convert_to_storage(r, obj, &sobj, errmsg);

    if (rc == 0 && old != NULL)
        rc = api_convert_to_storage(r, old, &sold, errmsg);
    if (rc == 0)
        rc = validate(r->stored_as, sobj, sold, errs);
    if (sobj != NULL)
        protobuf_c_message_free_unpacked(sobj, NULL);
    if (sold != NULL)
        protobuf_c_message_free_unpacked(sold, NULL);
    return rc;
}

/* ---- Events (ValidateEventCreate, ValidateEventUpdate) ------------------------------------- */

typedef K8s__Io__Api__Core__V1__Event event_t;

static bool micro_time_set(const K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__MicroTime *t)
{
    return t != NULL && ((t->has_seconds && t->seconds != 0) || (t->has_nanos && t->nanos != 0));
}

static bool time_set(const K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__Time *t)
{
    return t != NULL && ((t->has_seconds && t->seconds != 0) || (t->has_nanos && t->nanos != 0));
}

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__MicroTime micro_time_t;
typedef K8s__Io__Api__Core__V1__ObjectReference object_ref_t;

static int64_t micro_time_ns(const micro_time_t *t, int64_t trunc)
{
    int64_t ns = t != NULL && t->has_nanos ? t->nanos : 0;
    return ns - ns % trunc;
}

static bool micro_time_eq(const micro_time_t *a, const micro_time_t *b, int64_t trunc)
{
    return (a != NULL && a->has_seconds ? a->seconds : 0) ==
               (b != NULL && b->has_seconds ? b->seconds : 0) &&
           micro_time_ns(a, trunc) == micro_time_ns(b, trunc);
}

/* metav1.MicroTime's String(), as metav1.Time's with the fraction Go prints */
static void go_micro_time(struct k8c_sbuf *sb, const micro_time_t *t)
{
    time_t_msg whole = K8S__IO__APIMACHINERY__PKG__APIS__META__V1__TIME__INIT;
    bool set = t != NULL && t->has_seconds && t->seconds != 0;

    whole.has_seconds = set;
    whole.seconds = set ? t->seconds : 0;
    go_time_frac(sb, set ? &whole : NULL, set && t->has_nanos ? t->nanos : 0);
}

static bool object_ref_eq(const object_ref_t *a, const object_ref_t *b)
{
    static const object_ref_t none = K8S__IO__API__CORE__V1__OBJECT_REFERENCE__INIT;
    if (a == NULL)
        a = &none;
    if (b == NULL)
        b = &none;
    return str_eq(a->kind, b->kind) && str_eq(a->namespace_, b->namespace_) &&
           str_eq(a->name, b->name) && str_eq(a->uid, b->uid) &&
           str_eq(a->apiversion, b->apiversion) && str_eq(a->resourceversion, b->resourceversion) &&
           str_eq(a->fieldpath, b->fieldpath);
}

/* %#v of a core.ObjectReference */
static void go_object_ref(struct k8c_sbuf *sb, const object_ref_t *r)
{
    k8c_sbuf_puts(sb, "core.ObjectReference{Kind:");
    goq(sb, r != NULL ? r->kind : NULL);
    k8c_sbuf_puts(sb, ", Namespace:");
    goq(sb, r != NULL ? r->namespace_ : NULL);
    k8c_sbuf_puts(sb, ", Name:");
    goq(sb, r != NULL ? r->name : NULL);
    k8c_sbuf_puts(sb, ", UID:");
    goq(sb, r != NULL ? r->uid : NULL);
    k8c_sbuf_puts(sb, ", APIVersion:");
    goq(sb, r != NULL ? r->apiversion : NULL);
    k8c_sbuf_puts(sb, ", ResourceVersion:");
    goq(sb, r != NULL ? r->resourceversion : NULL);
    k8c_sbuf_puts(sb, ", FieldPath:");
    goq(sb, r != NULL ? r->fieldpath : NULL);
    k8c_sbuf_putc(sb, '}');
}

/* "can have at most N characters" with upstream's empty value */
static void at_most(struct vctx *v, const char *child, const char *s, size_t max)
{
    char detail[64];
    if (strlen(str_or_empty(s)) <= max)
        return;
    snprintf(detail, sizeof(detail), "can have at most %zu characters", max);
    invalid_str(v, child, "", detail);
}

/* legacyValidateEvent: every event, whichever API it came through (v1_api: events.k8s.io,
 * which names the reporting controller field reportingController) */
static void event_legacy(struct vctx *v, const event_t *e, bool v1_api)
{
    static const K8s__Io__Api__Core__V1__ObjectReference no_ref =
        K8S__IO__API__CORE__V1__OBJECT_REFERENCE__INIT;
    const K8s__Io__Api__Core__V1__ObjectReference *io =
        e->involvedobject != NULL ? e->involvedobject : &no_ref;
    const char *ns = e->metadata != NULL ? str_or_empty(e->metadata->namespace_) : "";
    const char *ion = str_or_empty(io->namespace_);
    const char *rc_field = v1_api ? "reportingController" : "reportingComponent";
    const char *msgs[MAX_MSGS];

    if (!micro_time_set(e->eventtime)) {
        /* an event of the old API: its namespace and its object's agree */
        if (ion[0] == '\0' ? (ns[0] != '\0' && strcmp(ns, "default") != 0) : strcmp(ns, ion) != 0)
            invalid_str(v, "involvedObject.namespace", ion, "does not match event.namespace");
    } else {
        if (ion[0] == '\0' && strcmp(ns, "default") != 0 && strcmp(ns, "kube-system") != 0)
            invalid_str(v, "involvedObject.namespace", ion, "does not match event.namespace");
        if (str_empty(e->reportingcomponent))
            required(v, rc_field, NULL);
        qualified_name(v, rc_field, str_or_empty(e->reportingcomponent));
        if (str_empty(e->reportinginstance))
            required(v, "reportingInstance", NULL);
        at_most(v, "reportingInstance", e->reportinginstance, 128);
        if (str_empty(e->action))
            required(v, "action", NULL);
        at_most(v, "action", e->action, 128);
        if (str_empty(e->reason))
            required(v, "reason", NULL);
        at_most(v, "reason", e->reason, 128);
        at_most(v, "message", e->message, 1024);
    }
    invalid_msgs(v, "namespace", ns, msgs, dns1123_subdomain_msgs(ns, msgs));
}

/* validateV1EventSeries */
static void event_series(struct vctx *v, const event_t *e)
{
    if (e->series == NULL)
        return;
    if (e->series->count < 2)
        invalid_str(v, "series.count", "", "should be at least 2");
    if (!micro_time_set(e->series->lastobservedtime))
        required(v, "series.lastObservedTime", NULL);
}

/* The strict part of ValidateEventUpdate (events.k8s.io/v1): a changed series is checked,
 * and what the event says happened may not change. Paths and values are core.Event's. */
static void event_v1_update(struct vctx *v, const event_t *e, const event_t *o)
{
    static const K8s__Io__Api__Core__V1__EventSource no_source =
        K8S__IO__API__CORE__V1__EVENT_SOURCE__INIT;
    const K8s__Io__Api__Core__V1__EventSource *es = e->source ? e->source : &no_source;
    const K8s__Io__Api__Core__V1__EventSource *os = o->source ? o->source : &no_source;
    const K8s__Io__Api__Core__V1__EventSeries *ns = e->series, *osr = o->series;

    if ((ns == NULL) != (osr == NULL) ||
        (ns != NULL && (ns->count != osr->count ||
                        !micro_time_eq(ns->lastobservedtime, osr->lastobservedtime, 1))))
        event_series(v, e);
    if (!object_ref_eq(e->involvedobject, o->involvedobject)) {
        go_object_ref(val_begin(v), e->involvedobject);
        invalid_val(v, "involvedObject", "field is immutable");
    }
    immutable_str(v, "reason", e->reason, o->reason);
    immutable_str(v, "message", e->message, o->message);
    if (!str_eq(es->component, os->component) || !str_eq(es->host, os->host)) {
        struct k8c_sbuf *sb = val_begin(v);
        k8c_sbuf_puts(sb, "core.EventSource{Component:");
        goq(sb, es->component);
        k8c_sbuf_puts(sb, ", Host:");
        goq(sb, es->host);
        k8c_sbuf_putc(sb, '}');
        invalid_val(v, "source", "field is immutable");
    }
    if (!time_eq(e->firsttimestamp, o->firsttimestamp)) {
        go_time(val_begin(v), e->firsttimestamp);
        invalid_val(v, "firstTimestamp", "field is immutable");
    }
    if (!time_eq(e->lasttimestamp, o->lasttimestamp)) {
        go_time(val_begin(v), e->lasttimestamp);
        invalid_val(v, "lastTimestamp", "field is immutable");
    }
    if (e->count != o->count)
        invalid_int(v, "count", e->count, "field is immutable");
    immutable_str(v, "type", e->type, o->type);
    /* changes below a microsecond are tolerated (clients that truncate) */
    if (!micro_time_eq(e->eventtime, o->eventtime, 1000)) {
        go_micro_time(val_begin(v), e->eventtime);
        invalid_val(v, "eventTime", "field is immutable");
    }
    immutable_str(v, "action", e->action, o->action);
    if ((e->related == NULL) != (o->related == NULL) ||
        (e->related != NULL && !object_ref_eq(e->related, o->related))) {
        if (e->related == NULL)
            goq(val_begin(v), "null");
        else
            go_object_ref(val_begin(v), e->related);
        invalid_val(v, "related", "field is immutable");
    }
    immutable_str(v, "reportingController", e->reportingcomponent, o->reportingcomponent);
    immutable_str(v, "reportingInstance", e->reportinginstance, o->reportinginstance);
}

/*
 * Events: the legacy checks for both APIs; events.k8s.io/v1 creates are also strict (the
 * metadata as any object's, eventTime set, type Normal or Warning, the deprecated fields
 * unset). A core/v1 event's name needs only be a path segment, as upstream's generic
 * metadata check, which runs after the event's own checks and only when they pass.
 */
static int validate_event(const struct api_resource *r, const ProtobufCMessage *obj,
                          const ProtobufCMessage *old, struct api_field_errors *errs)
{
    char errmsg[K8C_ERRMSG_SIZE];
    bool v1_api = r->stored_as != NULL;
    ProtobufCMessage *cobj = NULL, *cold = NULL;
    struct vctx v;
    size_t before = errs->n;

    if (v1_api && (api_convert_to_storage(r, obj, &cobj, errmsg) != 0 ||
                   (old != NULL && api_convert_to_storage(r, old, &cold, errmsg) != 0))) {
        api_obj_free(cobj);
        return K8C_EINVAL;
    }
    const event_t *e = (const event_t *)(cobj != NULL ? cobj : obj);
    const event_t *o = (const event_t *)(cold != NULL ? cold : old);
    vctx_begin(&v, v1_api ? r->stored_as : r, errs);
    if (o != NULL)
        validate_object_meta_update(&v, e->metadata, o->metadata);
    event_legacy(&v, e, v1_api);
    if (v1_api && o == NULL) {
        validate_object_meta(&v, e->metadata, true, NAME_SUBDOMAIN);
        event_series(&v, e);
        if (!micro_time_set(e->eventtime))
            required(&v, "eventTime", NULL);
        if (!str_eq(e->type, "Normal") && !str_eq(e->type, "Warning")) {
            char detail[160];
            snprintf(detail, sizeof(detail), "has invalid value: %.120s", str_or_empty(e->type));
            invalid_str(&v, "type", "", detail);
        }
        if (time_set(e->firsttimestamp))
            invalid_str(&v, "firstTimestamp", "", "needs to be unset");
        if (time_set(e->lasttimestamp))
            invalid_str(&v, "lastTimestamp", "", "needs to be unset");
        if (e->count != 0)
            invalid_str(&v, "count", "", "needs to be unset");
        if (e->source != NULL && (!str_empty(e->source->component) || !str_empty(e->source->host)))
            invalid_str(&v, "source", "", "needs to be unset");
    } else if (v1_api) {
        event_v1_update(&v, e, o);
    } else if (o == NULL && errs->n == before) {
        validate_object_meta(&v, e->metadata, true, NAME_PATH);
    }
    api_obj_free(cobj);
    api_obj_free(cold);
    return vctx_end(&v, before);
}

int api_validate(const struct api_resource *r, const ProtobufCMessage *obj,
                 const ProtobufCMessage *old, struct api_field_errors *errs)
{
    struct vctx v;
    size_t before = errs->n;
    const ProtobufCMessageDescriptor *d;

    if (obj == NULL)
        return K8C_EINVAL;
    d = obj->descriptor;
    if (old != NULL && old->descriptor != d)
        old = NULL;
    if (r == NULL) {
        const struct k8c_codec_kind *k = k8c_codec_lookup_desc(d);
        if (k != NULL)
            r = api_resource_by_kind(k->api_version, k->kind);
    }
    if (r != NULL && strcmp(r->resource, "events") == 0 &&
        (r->group[0] == '\0' || strcmp(r->group, "events.k8s.io") == 0))
        return validate_event(r, obj, old, errs);
    if (r != NULL && r->stored_as != NULL)
        return validate_as_stored(r, obj, old, errs, api_validate);
    vctx_begin(&v, r, errs);
    if (old == NULL && d == &k8s__io__api__policy__v1__pod_disruption_budget__descriptor) {
        /* the PDB strategy checks no metadata: the generic path-segment check runs after it,
         * only when the spec is valid */
        validate_kind(&v, obj, old);
        if (errs->n == before)
            validate_object_meta(&v, object_meta(obj), v.namespaced, v.name_rule);
        return vctx_end(&v, before);
    }
    if (old == NULL)
        validate_object_meta(&v, object_meta(obj), v.namespaced, v.name_rule);
    else
        validate_object_meta_update(&v, object_meta(obj), object_meta(old));
    validate_kind(&v, obj, old);
    return vctx_end(&v, before);
}

/*
 * ValidatePodEphemeralContainersUpdate: the whole pod as an update, then the ephemeral
 * containers it had before, each still there and unchanged (they can only be added).
 */
int api_validate_pod_ephemeral_update(const ProtobufCMessage *obj, const ProtobufCMessage *old,
                                      struct api_field_errors *errs)
{
    struct vctx v;
    size_t before = errs->n, saved;
    const pod_t *pod = (const pod_t *)obj, *old_pod = (const pod_t *)old;
    static const pod_spec_t empty = K8S__IO__API__CORE__V1__POD_SPEC__INIT;

    if (obj == NULL || old == NULL || obj->descriptor != &k8s__io__api__core__v1__pod__descriptor ||
        old->descriptor != obj->descriptor)
        return K8C_EINVAL;
    const pod_spec_t *s = pod->spec != NULL ? pod->spec : &empty;
    const pod_spec_t *o = old_pod->spec != NULL ? old_pod->spec : &empty;
    vctx_begin(&v, api_resource_find("", "v1", "pods"), errs);
    validate_object_meta_update(&v, object_meta(obj), object_meta(old));
    saved = path_child(&v, "metadata");
    pod_annotations(&v, pod->metadata, pod->spec);
    path_pop(&v, saved);
    saved = path_child(&v, "spec");
    v.allow_host_sysctls = host_sysctls_violated(o);
    v.resource_is_pod = true;
    validate_pod_spec(&v, s, NULL);
    path_pop(&v, saved);
    pod_annotation_updates(&v, pod, old_pod);
    if (api_meta_annotation(old_pod->metadata, MIRROR_POD_ANNOTATION) != NULL) {
        /* upstream returns this error alone (#113935) */
        while (errs->n > before) {
            struct api_field_error *e = &errs->items[--errs->n];
            k8c_free(e->type);
            k8c_free(e->field);
            k8c_free(e->message);
        }
        forbidden(&v, NULL, "static pods do not support ephemeral containers");
        return vctx_end(&v, before);
    }
    saved = path_child(&v, "spec");
    path_child(&v, "ephemeralContainers");
    struct name_set now = {0}; /* the new list's names, at their indexes */
    for (size_t j = 0; j < s->n_ephemeralcontainers; j++) {
        const ephemeral_common_t *c = s->ephemeralcontainers[j]->ephemeralcontainercommon;
        name_set_add(&now, c ? c->name : NULL);
    }
    for (size_t i = 0; i < o->n_ephemeralcontainers; i++) {
        const ephemeral_container_t *oc = o->ephemeralcontainers[i], *nc = NULL;
        const char *name = oc->ephemeralcontainercommon ? oc->ephemeralcontainercommon->name : NULL;
        size_t j = name_set_find(&now, name);
        struct k8c_sbuf msg;

        if (j != SIZE_MAX)
            nc = s->ephemeralcontainers[j];
        if (nc != NULL && msg_equal(&nc->base, &oc->base))
            continue;
        k8c_sbuf_init(&msg);
        k8c_sbuf_puts(&msg, "existing ephemeral containers ");
        goq(&msg, str_or_empty(name));
        k8c_sbuf_puts(&msg, nc == NULL ? " may not be removed" : " may not be changed");
        forbidden(&v, NULL, msg.data);
        k8c_sbuf_free(&msg);
    }
    name_set_free(&now);
    path_pop(&v, saved);
    return vctx_end(&v, before);
}

/* ---- status updates ------------------------------------------------------------------------ */

/* An integer field of a status message by its JSON (proto) name: false when unset. */
static bool status_int(const ProtobufCMessage *m, const char *name, int64_t *out)
{
    const ProtobufCFieldDescriptor *f =
        m != NULL ? protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name) : NULL;
    if (f == NULL || f->label == PROTOBUF_C_LABEL_REPEATED)
        return false;
    const char *base = (const char *)m;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0 &&
        !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
        return false;
    if (f->type == PROTOBUF_C_TYPE_INT32)
        *out = *(const int32_t *)(base + f->offset);
    else if (f->type == PROTOBUF_C_TYPE_INT64)
        *out = *(const int64_t *)(base + f->offset);
    else
        return false;
    return true;
}

/* The value a Go int field holds: 0 when unset. */
static int64_t status_int0(const ProtobufCMessage *m, const char *name)
{
    int64_t v = 0;
    return status_int(m, name, &v) ? v : 0;
}

/*
 * The counters of a workload's status (upstream's Validate<Kind>Status): nonneg fields must
 * not be negative (unset ones are 0, or skipped for pointers in Go, which are the ones
 * set), each `le` field must not exceed its bound, and a collisionCount must not go down
 * (IsDecremented).
 */
struct status_rule {
    const ProtobufCMessageDescriptor *desc[2]; /* the kinds it is for */
    bool status_first; /* StatefulSet: the status errors come before the metadata ones */
    const char *nonneg[10];
    struct {
        const char *field, *bound, *detail;
    } le[5];
    bool collision; /* collisionCount may not be decremented */
};

#define GT_REPLICAS "cannot be greater than status.replicas"

static const struct status_rule status_rules[] = {
    {{&k8s__io__api__apps__v1__deployment__descriptor},
     false,
     {"observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
      "unavailableReplicas", "collisionCount"},
     {{"updatedReplicas", "replicas", GT_REPLICAS},
      {"readyReplicas", "replicas", GT_REPLICAS},
      {"availableReplicas", "replicas", GT_REPLICAS},
      {"availableReplicas", "readyReplicas", "cannot be greater than readyReplicas"}},
     true},
    {{&k8s__io__api__apps__v1__replica_set__descriptor,
      &k8s__io__api__core__v1__replication_controller__descriptor},
     false,
     {"replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas",
      "observedGeneration"},
     {{"fullyLabeledReplicas", "replicas", GT_REPLICAS},
      {"readyReplicas", "replicas", GT_REPLICAS},
      {"availableReplicas", "replicas", GT_REPLICAS},
      {"availableReplicas", "readyReplicas", "cannot be greater than readyReplicas"}},
     false},
    {{&k8s__io__api__apps__v1__stateful_set__descriptor},
     true,
     {"replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas",
      "observedGeneration", "collisionCount"},
     {{"readyReplicas", "replicas", GT_REPLICAS},
      {"currentReplicas", "replicas", GT_REPLICAS},
      {"updatedReplicas", "replicas", GT_REPLICAS},
      {"availableReplicas", "replicas", GT_REPLICAS},
      {"availableReplicas", "readyReplicas", "cannot be greater than status.readyReplicas"}},
     true},
    {{&k8s__io__api__apps__v1__daemon_set__descriptor},
     false,
     {"currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady",
      "observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable",
      "collisionCount"},
     {{NULL}},
     true},
    {{&k8s__io__api__batch__v1__job__descriptor},
     false,
     {"active", "succeeded", "failed", "ready", "terminating"},
     {{NULL}},
     false},
    {{&k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler__descriptor},
     false,
     {"currentReplicas", "desiredReplicas"},
     {{NULL}},
     false},
    {{&k8s__io__api__policy__v1__pod_disruption_budget__descriptor},
     false,
     {"disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"},
     {{NULL}},
     false},
};

static void status_counters(struct vctx *v, const struct status_rule *rule,
                            const ProtobufCMessage *obj, const ProtobufCMessage *old)
{
    ProtobufCMessage *const *f = api_obj_field((ProtobufCMessage *)obj, "status");
    ProtobufCMessage *const *of = api_obj_field((ProtobufCMessage *)old, "status");
    const ProtobufCMessage *st = f ? *f : NULL, *old_st = of ? *of : NULL;
    size_t saved = path_child(v, "status");
    int64_t x, y;

    for (size_t i = 0;
         i < sizeof(rule->nonneg) / sizeof(rule->nonneg[0]) && rule->nonneg[i] != NULL; i++)
        if (status_int(st, rule->nonneg[i], &x))
            nonnegative(v, rule->nonneg[i], x);
    for (size_t i = 0; i < sizeof(rule->le) / sizeof(rule->le[0]) && rule->le[i].field != NULL;
         i++) {
        x = status_int0(st, rule->le[i].field);
        if (x > status_int0(st, rule->le[i].bound))
            invalid_int(v, rule->le[i].field, x, rule->le[i].detail);
    }
    if (rule->collision && status_int(old_st, "collisionCount", &y) &&
        (!status_int(st, "collisionCount", &x) || x < y))
        invalid_int(v, "collisionCount", status_int0(st, "collisionCount"),
                    "cannot be decremented");
    path_pop(v, saved);
}

/* IsValidIP (netutils.ParseIPSloppy: IPv4 octets may have leading zeros) */
static bool ip_ok(const char *s)
{
    unsigned char buf[16];
    bool is4;
    return s != NULL && ip_parse(s, strlen(s), buf, &is4);
}

#define IP_DETAIL "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

/* netutils.IPFamilyOf for an address ip_ok accepts: 4, or 6 (an IPv4-mapped IPv6 address is 4) */
static int ip_family(const char *s)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char buf[16];
    if (inet_pton(AF_INET6, s, buf) != 1)
        return 4;
    return memcmp(buf, mapped, sizeof(mapped)) == 0 ? 4 : 6;
}

/* The list's %#v, as upstream prints it in an error: []core.PodIP{core.PodIP{IP:"..."}, ...} */
static void ips_gov(struct k8c_sbuf *sb, const char *type, ProtobufCMessage *const *items, size_t n)
{
    k8c_sbuf_printf(sb, "[]core.%s{", type);
    for (size_t i = 0; i < n; i++) {
        k8c_sbuf_printf(sb, "%score.%s{IP:", i ? ", " : "", type);
        goq(sb, msg_str(items[i], "ip"));
        k8c_sbuf_puts(sb, "}");
    }
    k8c_sbuf_puts(sb, "}");
}

/* Duplicate for each item whose IP an earlier item has. */
static void ips_duplicates(struct vctx *v, const char *type, ProtobufCMessage *const *items,
                           size_t n)
{
    struct name_set seen = {0};
    for (size_t i = 0; i < n; i++) {
        const char *ip = str_or_empty(msg_str(items[i], "ip"));
        if (!name_set_has(&seen, ip)) {
            name_set_add(&seen, ip);
            continue;
        }
        struct k8c_sbuf *d = val_begin(v);
        k8c_sbuf_printf(d, "core.%s{IP:", type);
        goq(d, ip);
        k8c_sbuf_puts(d, "}");
        size_t here = path_index(v, i);
        verr(v, E_DUPLICATE, NULL, val_str(v), NULL);
        path_pop(v, here);
    }
    name_set_free(&seen);
}

/* At most one IP of each family (netutils.IsDualStackIPStrings; bad is the first invalid
 * item's index, or n). */
static void ips_dual_stack(struct vctx *v, const char *type, ProtobufCMessage *const *items,
                           size_t n, size_t bad)
{
    bool v4 = false, v6 = false;
    if (bad < n) {
        struct k8c_sbuf *d = val_begin(v);
        k8c_sbuf_printf(d, "failed to check for dual stack with error:invalid IP[%zu]: %s", bad,
                        str_or_empty(msg_str(items[bad], "ip")));
        verr(v, E_INTERNAL, NULL, NULL, val_str(v));
    } else {
        for (size_t i = 0; i < n; i++) {
            if (ip_family(msg_str(items[i], "ip")) == 6)
                v6 = true;
            else
                v4 = true;
        }
    }
    if (!(v4 && v6) || n > 2) {
        ips_gov(val_begin(v), type, items, n);
        invalid_val(v, NULL, "may specify no more than one IP for each IP family");
    }
}

/*
 * validatePodIPs and validateHostIPs: status.<child> (items of type core.<type>) are valid
 * IPs, and a list of more than one is a dual-stack pair without duplicates. The host list
 * checks its duplicates before the pair, the pod list after, as upstream does.
 */
static void ips_valid(struct vctx *v, const char *child, const char *type,
                      ProtobufCMessage *const *items, size_t n, bool host)
{
    size_t at = path_child(v, child);
    size_t bad = n;
    for (size_t i = 0; i < n; i++) {
        const char *ip = msg_str(items[i], "ip");
        size_t here = path_index(v, i);
        if (!ip_ok(ip)) {
            invalid_str(v, NULL, ip, IP_DETAIL);
            if (bad == n)
                bad = i;
        }
        path_pop(v, here);
    }
    if (n > 1 && host)
        ips_duplicates(v, type, items, n);
    if (n > 1)
        ips_dual_stack(v, type, items, n, bad);
    if (n > 1 && !host)
        ips_duplicates(v, type, items, n);
    path_pop(v, at);
}

typedef K8s__Io__Api__Core__V1__ContainerStatus container_status_t;

static bool terminated(const container_status_t *c)
{
    return c->state != NULL && c->state->terminated != NULL;
}

/* A restartable init container (restartPolicy Always) of spec, by name. */
static bool restartable_init(const pod_spec_t *spec, const char *name)
{
    for (size_t i = 0; spec != NULL && i < spec->n_initcontainers; i++)
        if (str_eq(spec->initcontainers[i]->name, name))
            return str_eq(spec->initcontainers[i]->restartpolicy, "Always");
    return false;
}

/*
 * ValidateContainerStateTransition, and ValidateInitContainerStateTransition when init_spec
 * (the old pod's spec) is given: unless the pod restarts Always, a terminated container stays
 * terminated; one that failed may restart OnFailure, and so may a restartable init container.
 * The index is the old status's, as upstream reports it.
 */
static void state_transitions(struct vctx *v, const char *child, container_status_t *const *now,
                              size_t n, container_status_t *const *old, size_t n_old,
                              const char *policy, const pod_spec_t *init_spec)
{
    if (str_eq(policy, "Always"))
        return;
    /* the new statuses that are not terminated, by name (with how many share it) */
    struct name_set running = {0};
    size_t *count = k8c_calloc(n + 1, sizeof(*count));
    for (size_t j = 0; j < n; j++) {
        if (terminated(now[j]))
            continue;
        size_t k = name_set_find(&running, now[j]->name);
        if (k == SIZE_MAX) {
            k = running.n;
            name_set_add(&running, now[j]->name);
        }
        count[k]++;
    }
    size_t at = path_child(v, child);
    for (size_t i = 0; i < n_old; i++) {
        if (!terminated(old[i]) ||
            (old[i]->state->terminated->exitcode != 0 && str_eq(policy, "OnFailure")) ||
            (init_spec != NULL && restartable_init(init_spec, old[i]->name)))
            continue;
        size_t k = name_set_find(&running, old[i]->name);
        for (size_t c = 0; k != SIZE_MAX && c < count[k]; c++) {
            size_t here = path_index(v, i);
            forbidden(v, "state", "may not be transitioned to non-terminated state");
            path_pop(v, here);
        }
    }
    path_pop(v, at);
    name_set_free(&running);
    k8c_free(count);
}

/* The parts of ValidatePodStatusUpdate that look at the status: the nominated node's name
 * (when it changes) and the pod's and host's IPs (validatePodIPs, validateHostIPs; the host's
 * first IP is status.hostIP). */
static void pod_status_update(struct vctx *v, const pod_t *pod, const pod_t *old_pod)
{
    static const K8s__Io__Api__Core__V1__PodStatus empty = K8S__IO__API__CORE__V1__POD_STATUS__INIT;
    const K8s__Io__Api__Core__V1__PodStatus *s = pod->status ? pod->status : &empty;
    const K8s__Io__Api__Core__V1__PodStatus *o = old_pod->status ? old_pod->status : &empty;
    static const char *const system_conditions[] = {"PodScheduled", "Ready", "Initialized", NULL};
    const pod_spec_t *old_spec = old_pod->spec;
    const char *policy = old_spec != NULL ? old_spec->restartpolicy : NULL;
    const char *msgs[MAX_MSGS];
    size_t saved;

    pod_annotation_updates(v, pod, old_pod);
    /* validatePodConditions, at upstream's path "metadata.conditions" */
    saved = path_child(v, "metadata.conditions");
    for (size_t i = 0; i < s->n_conditions; i++) {
        size_t here = path_index(v, i);
        if (!one_of(s->conditions[i]->type, system_conditions))
            qualified_name(v, "Type", s->conditions[i]->type);
        path_pop(v, here);
    }
    path_pop(v, saved);
    saved = path_child(v, "status");
    if (!str_eq(s->nominatednodename, o->nominatednodename) && !str_empty(s->nominatednodename))
        invalid_msgs(v, "nominatedNodeName", s->nominatednodename, msgs,
                     dns1123_subdomain_msgs(s->nominatednodename, msgs));
    state_transitions(v, "containerStatuses", s->containerstatuses, s->n_containerstatuses,
                      o->containerstatuses, o->n_containerstatuses, policy, NULL);
    state_transitions(v, "initContainerStatuses", s->initcontainerstatuses,
                      s->n_initcontainerstatuses, o->initcontainerstatuses,
                      o->n_initcontainerstatuses, policy, old_spec);
    state_transitions(v, "ephemeralContainerStatuses", s->ephemeralcontainerstatuses,
                      s->n_ephemeralcontainerstatuses, o->ephemeralcontainerstatuses,
                      o->n_ephemeralcontainerstatuses, "Never", NULL);
    ips_valid(v, "podIPs", "PodIP", (ProtobufCMessage *const *)s->podips, s->n_podips, false);
    if (s->n_hostips > 0 &&
        strcmp(str_or_empty(s->hostip), str_or_empty(msg_str(&s->hostips[0]->base, "ip"))) != 0) {
        size_t at = path_child(v, "hostIPs");
        size_t here = path_index(v, 0);
        invalid_str(v, "ip", msg_str(&s->hostips[0]->base, "ip"), "must be equal to `hostIP`");
        path_pop(v, here);
        path_pop(v, at);
    }
    ips_valid(v, "hostIPs", "HostIP", (ProtobufCMessage *const *)s->hostips, s->n_hostips, true);
    path_pop(v, saved);
}

/* ValidateNamespaceStatusUpdate: the phase follows the deletion timestamp. */
static void namespace_status_update(struct vctx *v, const namespace_t *ns)
{
    const meta_t *m = ns->metadata;
    const char *phase = ns->status != NULL ? ns->status->phase : NULL;
    if (m == NULL || m->deletiontimestamp == NULL) {
        if (!str_eq(phase, "Active"))
            invalid_str(v, "status.Phase", phase,
                        "may only be 'Active' if `deletionTimestamp` is empty");
    } else if (!str_eq(phase, "Terminating")) {
        invalid_str(v, "status.Phase", phase,
                    "may only be 'Terminating' if `deletionTimestamp` is not empty");
    }
}

int api_validate_status_update(const struct api_resource *r, const ProtobufCMessage *obj,
                               const ProtobufCMessage *old, struct api_field_errors *errs)
{
    struct vctx v;
    size_t before = errs->n;
    const ProtobufCMessageDescriptor *d;

    if (obj == NULL || old == NULL || old->descriptor != obj->descriptor)
        return K8C_EINVAL;
    d = obj->descriptor;
    if (r != NULL && r->stored_as != NULL)
        return validate_as_stored(r, obj, old, errs, api_validate_status_update);
    vctx_begin(&v, r, errs);
    const struct status_rule *rule = NULL;
    for (size_t i = 0; i < sizeof(status_rules) / sizeof(status_rules[0]); i++)
        if (status_rules[i].desc[0] == d || status_rules[i].desc[1] == d)
            rule = &status_rules[i];
    if (rule != NULL && rule->status_first)
        status_counters(&v, rule, obj, old);
    validate_object_meta_update(&v, object_meta(obj), object_meta(old));
    if (rule != NULL && !rule->status_first)
        status_counters(&v, rule, obj, old);
    if (d == &k8s__io__api__core__v1__pod__descriptor) {
        pod_status_update(&v, (const pod_t *)obj, (const pod_t *)old);
    } else if (d == &k8s__io__api__core__v1__namespace__descriptor) {
        namespace_status_update(&v, (const namespace_t *)obj);
    } else if (d == &k8s__io__api__core__v1__node__descriptor) {
        /* the node status strategy runs ValidateNodeUpdate alone */
        validate_node(&v, (const node_t *)obj, (const node_t *)old);
        node_addresses(&v, (const node_t *)obj);
    } else if (d == &k8s__io__api__core__v1__resource_quota__descriptor) {
        resource_quota_status(&v, (const resource_quota_t *)obj);
    }
    return vctx_end(&v, before);
}

/* ---- messages ------------------------------------------------------------------------------ */

void api_validate_format_message(const char *kind, const char *group, const char *name,
                                 const struct api_field_errors *errs, struct k8c_sbuf *out)
{
    char **seen = NULL;
    size_t n_seen = 0;

    k8c_sbuf_puts(out, kind != NULL ? kind : "");
    if (group != NULL && group[0] != '\0')
        k8c_sbuf_printf(out, ".%s", group);
    k8c_sbuf_puts(out, " ");
    goq(out, name);
    k8c_sbuf_puts(out, " is invalid");
    if (errs == NULL || errs->n == 0)
        return;
    /* ErrorList.ToAggregate drops repeated messages; one error prints alone, several in []. */
    struct name_set set = {0}; /* the messages kept, hashed: many errors stay linear */
    seen = k8c_calloc(errs->n, sizeof(*seen));
    for (size_t i = 0; i < errs->n; i++) {
        char *s = api_validate_error_string(&errs->items[i]);
        if (name_set_has(&set, s)) {
            k8c_free(s);
        } else {
            seen[n_seen++] = s;
            name_set_add(&set, s);
        }
    }
    name_set_free(&set);
    k8c_sbuf_puts(out, ": ");
    if (n_seen == 1) {
        k8c_sbuf_puts(out, seen[0]);
    } else {
        k8c_sbuf_putc(out, '[');
        for (size_t i = 0; i < n_seen; i++) {
            if (i > 0)
                k8c_sbuf_puts(out, ", ");
            k8c_sbuf_puts(out, seen[i]);
        }
        k8c_sbuf_putc(out, ']');
    }
    for (size_t i = 0; i < n_seen; i++)
        k8c_free(seen[i]);
    k8c_free(seen);
}
