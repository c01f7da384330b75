/*
 * Admission (see admission.h).
 */
#include "admission.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "defaults.h"
#include "gates.h"
#include "k8s/api/batch/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "limitrange.h"
#include "object.h"
#include "plugins.h"
#include "podsecurity.h"

typedef K8s__Io__Api__Core__V1__Pod pod_t;
typedef K8s__Io__Api__Core__V1__PodStatus pod_status_t;

/* Upstream's QoS class of a pod: Guaranteed when every container has equal
 * cpu and memory requests and limits, BestEffort when none has any, else
 * Burstable. */
static const char *pod_qos(const pod_t *pod)
{
    bool any = false, guaranteed = true;
    const K8s__Io__Api__Core__V1__PodSpec *spec = pod->spec;
    if (spec == NULL)
        return "BestEffort";
    for (size_t pass = 0; pass < 2; pass++) {
        size_t n = pass == 0 ? spec->n_containers : spec->n_initcontainers;
        K8s__Io__Api__Core__V1__Container **cs =
            pass == 0 ? spec->containers : spec->initcontainers;
        for (size_t i = 0; i < n; i++) {
            const K8s__Io__Api__Core__V1__ResourceRequirements *r = cs[i]->resources;
            size_t nl = r ? r->n_limits : 0, nr = r ? r->n_requests : 0;
            any |= nl > 0 || nr > 0;
            for (const char *const *name = (const char *const[]){"cpu", "memory", NULL}; *name;
                 name++) {
                const char *lim = NULL, *req = NULL;
                for (size_t j = 0; j < nl; j++)
                    if (strcmp(r->limits[j]->key, *name) == 0 && r->limits[j]->value)
                        lim = r->limits[j]->value->string;
                for (size_t j = 0; j < nr; j++)
                    if (strcmp(r->requests[j]->key, *name) == 0 && r->requests[j]->value)
                        req = r->requests[j]->value->string;
                if (lim == NULL || (req != NULL && strcmp(req, lim) != 0))
                    guaranteed = false;
            }
        }
    }
    if (!any)
        return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
}

/* appArmorAnnotationForField */
static const char *apparmor_annotation(const K8s__Io__Api__Core__V1__AppArmorProfile *p, char *buf,
                                       size_t size)
{
    if (p == NULL || p->type == NULL)
        return NULL;
    if (strcmp(p->type, "Localhost") == 0 && p->localhostprofile != NULL) {
        snprintf(buf, size, "localhost/%s", p->localhostprofile);
        return buf;
    }
    if (strcmp(p->type, "RuntimeDefault") == 0)
        return "runtime/default";
    if (strcmp(p->type, "Unconfined") == 0)
        return "unconfined";
    return NULL;
}

/* apparmorFieldForAnnotation (NULL for a value that names no valid profile) */
static K8s__Io__Api__Core__V1__AppArmorProfile *apparmor_field(const char *a)
{
    const char *type = NULL, *profile = NULL;
    if (strcmp(a, "unconfined") == 0)
        type = "Unconfined";
    else if (strcmp(a, "runtime/default") == 0)
        type = "RuntimeDefault";
    else if (strncmp(a, "localhost/", 10) == 0 && a[10] != '\0' && a[10] != ' ' &&
             a[strlen(a) - 1] != ' ') {
        type = "Localhost";
        profile = a + 10;
    }
    if (type == NULL)
        return NULL;
    K8s__Io__Api__Core__V1__AppArmorProfile *p = K8C_NEW(K8s__Io__Api__Core__V1__AppArmorProfile);
    k8s__io__api__core__v1__app_armor_profile__init(p);
    p->type = k8c_strdup(type);
    p->localhostprofile = profile != NULL ? k8c_strdup(profile) : NULL;
    return p;
}

static bool apparmor_equal(const K8s__Io__Api__Core__V1__AppArmorProfile *a,
                           const K8s__Io__Api__Core__V1__AppArmorProfile *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a->type ? a->type : "", b->type ? b->type : "") == 0 &&
           (a->localhostprofile == NULL) == (b->localhostprofile == NULL) &&
           (a->localhostprofile == NULL || strcmp(a->localhostprofile, b->localhostprofile) == 0);
}

/* One container of the AppArmor version skew: the annotation from the field, or the field from
 * the annotation when it differs from the pod's */
static void apparmor_skew(pod_t *pod, const char *name,
                          K8s__Io__Api__Core__V1__SecurityContext **scp,
                          const K8s__Io__Api__Core__V1__AppArmorProfile *pod_profile)
{
    char key[320], buf[320];
    const K8s__Io__Api__Core__V1__AppArmorProfile *field = *scp ? (*scp)->apparmorprofile : NULL;
    api_meta_t *m = api_obj_meta_ensure(&pod->base);

    snprintf(key, sizeof(key), "container.apparmor.security.beta.kubernetes.io/%s", name);
    const char *annotation = api_meta_annotation(m, key);
    if (annotation == NULL) {
        const char *value =
            apparmor_annotation(field != NULL ? field : pod_profile, buf, sizeof(buf));
        if (value != NULL)
            api_meta_set_annotation(m, key, value);
    } else if (field == NULL) {
        K8s__Io__Api__Core__V1__AppArmorProfile *f = apparmor_field(annotation);
        if (f != NULL && !apparmor_equal(f, pod_profile)) {
            if (*scp == NULL) {
                *scp = K8C_NEW(K8s__Io__Api__Core__V1__SecurityContext);
                k8s__io__api__core__v1__security_context__init(*scp);
            }
            (*scp)->apparmorprofile = f;
        } else if (f != NULL) {
            api_obj_free(&f->base);
        }
    }
}

/* applyAppArmorVersionSkew (pod creates, not Windows pods): the deprecated per-container
 * annotations and the appArmorProfile fields say the same */
static void apparmor_version_skew(pod_t *pod)
{
    K8s__Io__Api__Core__V1__PodSpec *s = pod->spec;
    if (s == NULL || (s->os != NULL && s->os->name != NULL && strcmp(s->os->name, "windows") == 0))
        return;
    const K8s__Io__Api__Core__V1__AppArmorProfile *pod_profile =
        s->securitycontext != NULL ? s->securitycontext->apparmorprofile : NULL;
    for (size_t i = 0; i < s->n_initcontainers; i++)
        apparmor_skew(pod, s->initcontainers[i]->name ? s->initcontainers[i]->name : "",
                      &s->initcontainers[i]->securitycontext, pod_profile);
    for (size_t i = 0; i < s->n_containers; i++)
        apparmor_skew(pod, s->containers[i]->name ? s->containers[i]->name : "",
                      &s->containers[i]->securitycontext, pod_profile);
    for (size_t i = 0; i < s->n_ephemeralcontainers; i++) {
        K8s__Io__Api__Core__V1__EphemeralContainerCommon *e =
            s->ephemeralcontainers[i]->ephemeralcontainercommon;
        if (e != NULL)
            apparmor_skew(pod, e->name ? e->name : "", &e->securitycontext, pod_profile);
    }
}

/* What upstream's strategies do on create before defaults. */
static void prepare_create(const struct api_resource *r, ProtobufCMessage *obj)
{
    ProtobufCMessage **status = api_obj_field(obj, "status");
    if (strcmp(r->resource, "pods") == 0) {
        pod_t *pod = (pod_t *)obj;
        if (pod->status != NULL)
            api_obj_free(&pod->status->base);
        pod->status = k8c_malloc(sizeof(*pod->status));
        k8s__io__api__core__v1__pod_status__init(pod->status);
        pod->status->phase = k8c_strdup("Pending");
        pod->status->qosclass = k8c_strdup(pod_qos(pod));
        apparmor_version_skew(pod);
        return;
    }
    /* Status belongs to controllers: a create starts with none (nodes and
     * namespaces keep theirs: the kubelet and defaults fill them). */
    if (status != NULL && *status != NULL && (r->subresources & API_SUB_STATUS) &&
        strcmp(r->resource, "nodes") != 0 && strcmp(r->resource, "namespaces") != 0 &&
        strcmp(r->resource, "persistentvolumes") != 0 &&
        strcmp(r->resource, "persistentvolumeclaims") != 0) {
        api_obj_free(*status);
        *status = NULL;
    }
}

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelector__MatchLabelsEntry match_entry_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta__LabelsEntry label_entry_t;

static void add_match_label(K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelector *sel,
                            const char *key, const char *value)
{
    match_entry_t *e = k8c_malloc(sizeof(*e));
    k8s__io__apimachinery__pkg__apis__meta__v1__label_selector__match_labels_entry__init(e);
    e->key = k8c_strdup(key);
    e->value = k8c_strdup(value);
    sel->matchlabels = k8c_realloc(sel->matchlabels, (sel->n_matchlabels + 1) * sizeof(e));
    sel->matchlabels[sel->n_matchlabels++] = e;
}

static void set_label(api_meta_t *m, const char *key, const char *value)
{
    for (size_t i = 0; i < m->n_labels; i++) {
        if (strcmp(m->labels[i]->key, key) == 0) {
            api_set_str(&m->labels[i]->value, value);
            return;
        }
    }
    label_entry_t *e = k8c_malloc(sizeof(*e));
    k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__labels_entry__init(e);
    e->key = k8c_strdup(key);
    e->value = k8c_strdup(value);
    m->labels = k8c_realloc(m->labels, (m->n_labels + 1) * sizeof(e));
    m->labels[m->n_labels++] = e;
}

/* A Job without manualSelector selects its pods by its uid, as upstream's
 * job strategy generates: selector controller-uid=<uid>, and the template
 * labelled with the uid and the job name (new and legacy label keys). */
static void job_selector(ProtobufCMessage *obj)
{
    K8s__Io__Api__Batch__V1__Job *job = (K8s__Io__Api__Batch__V1__Job *)obj;
    api_meta_t *m = api_obj_meta(obj);
    if (job->spec == NULL || m == NULL || m->uid == NULL ||
        (job->spec->has_manualselector && job->spec->manualselector))
        return;
    if (job->spec->selector != NULL)
        api_obj_free(&job->spec->selector->base);
    job->spec->selector = k8c_malloc(sizeof(*job->spec->selector));
    k8s__io__apimachinery__pkg__apis__meta__v1__label_selector__init(job->spec->selector);
    add_match_label(job->spec->selector, "batch.kubernetes.io/controller-uid", m->uid);
    if (job->spec->template_ == NULL) {
        job->spec->template_ = k8c_malloc(sizeof(*job->spec->template_));
        k8s__io__api__core__v1__pod_template_spec__init(job->spec->template_);
    }
    api_meta_t *tm = api_obj_meta_ensure(&job->spec->template_->base);
    set_label(tm, "batch.kubernetes.io/controller-uid", m->uid);
    set_label(tm, "batch.kubernetes.io/job-name", m->name ? m->name : "");
    set_label(tm, "controller-uid", m->uid);
    set_label(tm, "job-name", m->name ? m->name : "");
}

/* 422 with upstream's message for the field errors */
static int invalid(const struct api_resource *r, const ProtobufCMessage *obj,
                   const struct api_field_errors *errs, char *errmsg, size_t size)
{
    struct k8c_sbuf msg;
    api_meta_t *m = api_obj_meta(obj);
    k8c_sbuf_init(&msg);
    api_validate_format_message(r->kind, r->group, m && m->name ? m->name : "", errs, &msg);
    snprintf(errmsg, size, "%s", msg.data ? msg.data : "");
    k8c_sbuf_free(&msg);
    return 422;
}

int api_admit(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
              const char *sub, ProtobufCMessage *obj, const ProtobufCMessage *old,
              struct api_field_errors *errs, const struct api_admit_hooks *hooks, char *errmsg,
              size_t size)
{
    errmsg[0] = '\0';
    if (sub == NULL || sub[0] == '\0')
        api_gates_drop_disabled(obj, verb == VERB_CREATE ? NULL : old);
    if (verb == VERB_CREATE) {
        prepare_create(r, obj);
        api_defaults_apply_create(r, obj);
        if (strcmp(r->resource, "jobs") == 0)
            job_selector(obj);
    } else {
        api_defaults_apply(r, obj);
    }
    if (hooks != NULL && hooks->defaulted != NULL)
        obj = hooks->defaulted(hooks->arg, obj);
    /* mutating admission, then validation, then validating admission */
    int code = api_limitranger(srv, r, verb, sub, obj, false, errmsg, size);
    if (code == 0)
        code = api_plugins_mutate(srv, r, verb, sub, obj, old, errmsg, size);
    if (code != 0)
        return code;
    bool ephemeral = sub != NULL && strcmp(sub, "ephemeralcontainers") == 0;
    bool status = sub != NULL && strcmp(sub, "status") == 0 && old != NULL;
    bool finalize = sub != NULL && strcmp(sub, "finalize") == 0; /* validated as an update */
    if (sub != NULL && sub[0] != '\0' && !ephemeral && !status && !finalize)
        return 0; /* other subresources write objects of their own */
    int rc = ephemeral ? api_validate_pod_ephemeral_update(obj, old, errs)
             : status  ? api_validate_status_update(r, obj, old, errs)
                       : api_validate(r, obj, verb == VERB_CREATE ? NULL : old, errs);
    if (rc != 0)
        return invalid(r, obj, errs, errmsg, size);
    code = api_limitranger(srv, r, verb, sub, obj, true, errmsg, size);
    if (code == 0)
        code = api_plugins_validate(srv, r, verb, sub, obj, errmsg, size);
    if (code == 0)
        code = api_podsecurity(srv, r, verb, sub, obj, old, errs, hooks ? hooks->warn : NULL,
                               hooks ? hooks->arg : NULL, errmsg, size);
    if (code == 422) /* a namespace's pod-security labels */
        return invalid(r, obj, errs, errmsg, size);
    return code;
}
