/*
 * apiserver/convert: autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler, after
 * upstream's conversion (pkg/apis/autoscaling/v1/conversion.go).
 *
 * v1 has one metric, a CPU utilization target (spec.targetCPUUtilizationPercentage, and
 * status.currentCPUUtilizationPercentage for its current value); it is the Resource "cpu"
 * metric with an averageUtilization target in v2. What v1 cannot hold travels in annotations of
 * the v1 object, so that a read-modify-write through v1 keeps it, under upstream's names:
 *
 *   autoscaling.alpha.kubernetes.io/metrics          spec.metrics other than the CPU target
 *   autoscaling.alpha.kubernetes.io/behavior         spec.behavior
 *   autoscaling.alpha.kubernetes.io/current-metrics  status.currentMetrics
 *   autoscaling.alpha.kubernetes.io/conditions       status.conditions
 *
 * Upstream writes its lists there in autoscaling/v1's own MetricSpec shape; ours hold the v2
 * JSON of the same fields. Converting back to v2 takes the annotations off again (ignoring one
 * that does not decode, as upstream does), the other metrics first and the CPU target last.
 */
#include "convert.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "codec.h"
#include "error.h"
#include "json.h"
#include "k8s/api/autoscaling/v1/generated.pb-c.h"
#include "k8s/api/autoscaling/v2/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "k8s/api/events/v1/generated.pb-c.h"
#include "object.h"

typedef K8s__Io__Api__Autoscaling__V1__HorizontalPodAutoscaler hpa1_t;
typedef K8s__Io__Api__Autoscaling__V1__HorizontalPodAutoscalerSpec spec1_t;
typedef K8s__Io__Api__Autoscaling__V1__HorizontalPodAutoscalerStatus status1_t;
typedef K8s__Io__Api__Autoscaling__V2__HorizontalPodAutoscaler hpa2_t;
typedef K8s__Io__Api__Autoscaling__V2__HorizontalPodAutoscalerSpec spec2_t;
typedef K8s__Io__Api__Autoscaling__V2__HorizontalPodAutoscalerStatus status2_t;
typedef K8s__Io__Api__Autoscaling__V2__MetricSpec metric2_t;
typedef K8s__Io__Api__Autoscaling__V2__MetricStatus metric_status2_t;

#define ANN_METRICS         "autoscaling.alpha.kubernetes.io/metrics"
#define ANN_BEHAVIOR        "autoscaling.alpha.kubernetes.io/behavior"
#define ANN_CURRENT_METRICS "autoscaling.alpha.kubernetes.io/current-metrics"
#define ANN_CONDITIONS      "autoscaling.alpha.kubernetes.io/conditions"

/* A message of one type as another with the same fields and numbers (through the wire). */
static void *recast(const void *m, const ProtobufCMessageDescriptor *to)
{
    if (m == NULL)
        return NULL;
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = k8c_malloc(n ? n : 1);
    protobuf_c_message_pack(m, buf);
    void *out = protobuf_c_message_unpack(to, NULL, n, buf);
    k8c_free(buf);
    return out;
}

static void *new_msg(const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = k8c_calloc(1, d->sizeof_message);
    protobuf_c_message_init(d, m);
    return m;
}

/* The JSON of field `name` of msg (compact), or NULL when msg does not have it; caller frees. */
static char *field_json(const ProtobufCMessage *msg, const char *name)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *tree = NULL, *v;
    char *text = NULL;
    if (k8c_codec_msg_to_tree(a, msg, 0, &tree, NULL) == 0 &&
        (v = k8c_json_get(tree, name)) != NULL) {
        struct k8c_sbuf sb;
        k8c_sbuf_init(&sb);
        k8c_json_write(&sb, v, 0, 0);
        text = k8c_sbuf_detach(&sb);
    }
    k8c_arena_del(a);
    return text;
}

/* A new message of type desc holding text as its field `name`, or NULL when text does not
 * decode as that field. */
static void *field_from_json(const ProtobufCMessageDescriptor *desc, const char *name,
                             const char *text)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *v = NULL;
    ProtobufCMessage *out = NULL;
    if (k8c_json_parse(a, text, strlen(text), NULL, &v, NULL) == 0) {
        struct k8c_json *obj = k8c_json_new_object(a);
        struct k8c_codec_diag d;
        k8c_json_set(a, obj, name, v);
        k8c_codec_diag_init(&d);
        d.ignore_fields = true;
        if (k8c_codec_tree_to_msg(desc, obj, NULL, &d, &out) != 0)
            out = NULL;
        k8c_codec_diag_free(&d);
    }
    k8c_arena_del(a);
    return out;
}

static void annotation_remove(api_meta_t *m, const char *key)
{
    for (size_t i = 0; i < m->n_annotations; i++) {
        if (strcmp(m->annotations[i]->key, key) != 0)
            continue;
        protobuf_c_message_free_unpacked(&m->annotations[i]->base, NULL);
        memmove(&m->annotations[i], &m->annotations[i + 1],
                (m->n_annotations - i - 1) * sizeof(*m->annotations));
        m->n_annotations--;
        return;
    }
}

/* Sets annotation key to the JSON of field name of msg, when msg has it. */
static void annotate_field(api_meta_t *m, const char *key, const ProtobufCMessage *msg,
                           const char *name)
{
    char *text = field_json(msg, name);
    if (text != NULL)
        api_meta_set_annotation(m, key, text);
    k8c_free(text);
}

/* The fields v1 and v2 share, by name: an optional scalar, the spec's and the status's. */
#define COPY_OPT(dst, src, f) ((dst)->has_##f = (src)->has_##f, (dst)->f = (src)->f)
#define COPY_SPEC_COMMON(o, s, ref_desc)                                                           \
    do {                                                                                           \
        (o)->scaletargetref = recast((s)->scaletargetref, (ref_desc));                             \
        COPY_OPT(o, s, minreplicas);                                                               \
        COPY_OPT(o, s, maxreplicas);                                                               \
    } while (0)
#define COPY_STATUS_COMMON(o, s)                                                                   \
    do {                                                                                           \
        COPY_OPT(o, s, observedgeneration);                                                        \
        (o)->lastscaletime =                                                                       \
            (s)->lastscaletime ? (void *)api_obj_copy(&(s)->lastscaletime->base) : NULL;           \
        COPY_OPT(o, s, currentreplicas);                                                           \
        COPY_OPT(o, s, desiredreplicas);                                                           \
    } while (0)

static bool is_cpu_utilization(const metric2_t *m)
{
    return m->type != NULL && strcmp(m->type, "Resource") == 0 && m->resource != NULL &&
           m->resource->name != NULL && strcmp(m->resource->name, "cpu") == 0 &&
           m->resource->target != NULL && m->resource->target->has_averageutilization;
}

static bool is_cpu_status(const metric_status2_t *m)
{
    return m->type != NULL && strcmp(m->type, "Resource") == 0 && m->resource != NULL &&
           m->resource->name != NULL && strcmp(m->resource->name, "cpu") == 0 &&
           m->resource->current != NULL && m->resource->current->has_averageutilization;
}

static int hpa_to_v1(const hpa2_t *in, hpa1_t *out)
{
    api_meta_t *m;
    out->metadata = in->metadata ? (void *)api_obj_copy(&in->metadata->base) : NULL;
    m = api_obj_meta_ensure(&out->base);
    if (in->spec != NULL) {
        const spec2_t *s = in->spec;
        spec1_t *o = out->spec =
            new_msg(&k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler_spec__descriptor);
        COPY_SPEC_COMMON(
            o, s, &k8s__io__api__autoscaling__v1__cross_version_object_reference__descriptor);
        /* the CPU target goes in its field, every other metric in the annotation */
        spec2_t others = K8S__IO__API__AUTOSCALING__V2__HORIZONTAL_POD_AUTOSCALER_SPEC__INIT;
        others.metrics = k8c_calloc(s->n_metrics + 1, sizeof(*others.metrics));
        for (size_t i = 0; i < s->n_metrics; i++) {
            if (!o->has_targetcpuutilizationpercentage && is_cpu_utilization(s->metrics[i])) {
                o->has_targetcpuutilizationpercentage = true;
                o->targetcpuutilizationpercentage =
                    s->metrics[i]->resource->target->averageutilization;
            } else {
                others.metrics[others.n_metrics++] = s->metrics[i];
            }
        }
        if (others.n_metrics > 0)
            annotate_field(m, ANN_METRICS, &others.base, "metrics");
        k8c_free(others.metrics);
        if (s->behavior != NULL)
            annotate_field(m, ANN_BEHAVIOR, &s->base, "behavior");
    }
    if (in->status != NULL) {
        const status2_t *s = in->status;
        status1_t *o = out->status =
            new_msg(&k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler_status__descriptor);
        COPY_STATUS_COMMON(o, s);
        for (size_t i = 0; i < s->n_currentmetrics && !o->has_currentcpuutilizationpercentage; i++)
            if (is_cpu_status(s->currentmetrics[i])) {
                o->has_currentcpuutilizationpercentage = true;
                o->currentcpuutilizationpercentage =
                    s->currentmetrics[i]->resource->current->averageutilization;
            }
        if (s->n_currentmetrics > 0)
            annotate_field(m, ANN_CURRENT_METRICS, &s->base, "currentMetrics");
        if (s->n_conditions > 0)
            annotate_field(m, ANN_CONDITIONS, &s->base, "conditions");
    }
    return 0;
}

/* The v2 metric of a v1 CPU target, or of a current CPU value (current true). */
static void *cpu_metric(int32_t utilization, bool current)
{
    K8s__Io__Api__Autoscaling__V2__ResourceMetricSource *rs;
    K8s__Io__Api__Autoscaling__V2__ResourceMetricStatus *rst;
    if (!current) {
        metric2_t *m = new_msg(&k8s__io__api__autoscaling__v2__metric_spec__descriptor);
        m->type = k8c_strdup("Resource");
        rs = m->resource =
            new_msg(&k8s__io__api__autoscaling__v2__resource_metric_source__descriptor);
        rs->name = k8c_strdup("cpu");
        rs->target = new_msg(&k8s__io__api__autoscaling__v2__metric_target__descriptor);
        rs->target->type = k8c_strdup("Utilization");
        rs->target->has_averageutilization = true;
        rs->target->averageutilization = utilization;
        return m;
    }
    metric_status2_t *m = new_msg(&k8s__io__api__autoscaling__v2__metric_status__descriptor);
    m->type = k8c_strdup("Resource");
    rst = m->resource = new_msg(&k8s__io__api__autoscaling__v2__resource_metric_status__descriptor);
    rst->name = k8c_strdup("cpu");
    rst->current = new_msg(&k8s__io__api__autoscaling__v2__metric_value_status__descriptor);
    rst->current->has_averageutilization = true;
    rst->current->averageutilization = utilization;
    return m;
}

/* Moves the repeated field `field` of src to dst (same message type). */
#define TAKE_LIST(dst, src, field)                                                                 \
    do {                                                                                           \
        (dst)->n_##field = (src)->n_##field;                                                       \
        (dst)->field = (src)->field;                                                               \
        (src)->n_##field = 0;                                                                      \
        (src)->field = NULL;                                                                       \
    } while (0)

static int hpa_to_v2(const hpa1_t *in, hpa2_t *out)
{
    out->metadata = in->metadata ? (void *)api_obj_copy(&in->metadata->base) : NULL;
    api_meta_t *m = api_obj_meta_ensure(&out->base);
    const char *metrics = api_meta_annotation(m, ANN_METRICS);
    const char *behavior = api_meta_annotation(m, ANN_BEHAVIOR);
    const char *current = api_meta_annotation(m, ANN_CURRENT_METRICS);
    const char *conditions = api_meta_annotation(m, ANN_CONDITIONS);
    const ProtobufCMessageDescriptor *spec_d =
        &k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler_spec__descriptor;
    const ProtobufCMessageDescriptor *status_d =
        &k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler_status__descriptor;

    if (in->spec != NULL) {
        const spec1_t *s = in->spec;
        spec2_t *o = out->spec = new_msg(spec_d);
        COPY_SPEC_COMMON(
            o, s, &k8s__io__api__autoscaling__v2__cross_version_object_reference__descriptor);
        spec2_t *from = metrics ? field_from_json(spec_d, "metrics", metrics) : NULL;
        if (from != NULL)
            TAKE_LIST(o, from, metrics);
        if (s->has_targetcpuutilizationpercentage) {
            o->metrics = k8c_realloc(o->metrics, (o->n_metrics + 1) * sizeof(*o->metrics));
            o->metrics[o->n_metrics++] = cpu_metric(s->targetcpuutilizationpercentage, false);
        }
        if (from != NULL)
            protobuf_c_message_free_unpacked(&from->base, NULL);
        from = behavior ? field_from_json(spec_d, "behavior", behavior) : NULL;
        if (from != NULL) {
            o->behavior = from->behavior;
            from->behavior = NULL;
            protobuf_c_message_free_unpacked(&from->base, NULL);
        }
    }
    if (in->status != NULL) {
        const status1_t *s = in->status;
        status2_t *o = out->status = new_msg(status_d);
        COPY_STATUS_COMMON(o, s);
        status2_t *from = current ? field_from_json(status_d, "currentMetrics", current) : NULL;
        if (from != NULL) {
            TAKE_LIST(o, from, currentmetrics);
            protobuf_c_message_free_unpacked(&from->base, NULL);
        } else if (s->has_currentcpuutilizationpercentage) {
            o->currentmetrics = k8c_malloc(sizeof(*o->currentmetrics));
            o->currentmetrics[0] = cpu_metric(s->currentcpuutilizationpercentage, true);
            o->n_currentmetrics = 1;
        }
        from = conditions ? field_from_json(status_d, "conditions", conditions) : NULL;
        if (from != NULL) {
            TAKE_LIST(o, from, conditions);
            protobuf_c_message_free_unpacked(&from->base, NULL);
        }
    }
    /* the annotations were v1's way to carry these: gone in v2 (pointers above are dead now) */
    annotation_remove(m, ANN_METRICS);
    annotation_remove(m, ANN_BEHAVIOR);
    annotation_remove(m, ANN_CURRENT_METRICS);
    annotation_remove(m, ANN_CONDITIONS);
    if (m->n_annotations == 0) {
        k8c_free(m->annotations);
        m->annotations = NULL;
    }
    return 0;
}

/* ---- events.k8s.io/v1 Event, stored as the core/v1 Event (upstream's conversion.go) ---- */

typedef K8s__Io__Api__Core__V1__Event core_event_t;
typedef K8s__Io__Api__Events__V1__Event events_event_t;

static char *dup_or_null(const char *s)
{
    return s != NULL ? k8c_strdup(s) : NULL;
}

#define META_DESC   k8s__io__apimachinery__pkg__apis__meta__v1__object_meta__descriptor
#define MICRO_DESC  k8s__io__apimachinery__pkg__apis__meta__v1__micro_time__descriptor
#define TIME_DESC   k8s__io__apimachinery__pkg__apis__meta__v1__time__descriptor
#define REF_DESC    k8s__io__api__core__v1__object_reference__descriptor
#define SOURCE_DESC k8s__io__api__core__v1__event_source__descriptor

static void event_to_core(const events_event_t *in, core_event_t *out)
{
    out->metadata = recast(in->metadata, &META_DESC);
    out->eventtime = recast(in->eventtime, &MICRO_DESC);
    out->series = recast(in->series, &k8s__io__api__core__v1__event_series__descriptor);
    out->reportingcomponent = dup_or_null(in->reportingcontroller);
    out->reportinginstance = dup_or_null(in->reportinginstance);
    out->action = dup_or_null(in->action);
    out->reason = dup_or_null(in->reason);
    out->involvedobject = recast(in->regarding, &REF_DESC);
    out->related = recast(in->related, &REF_DESC);
    out->message = dup_or_null(in->note);
    out->type = dup_or_null(in->type);
    out->source = recast(in->deprecatedsource, &SOURCE_DESC);
    out->firsttimestamp = recast(in->deprecatedfirsttimestamp, &TIME_DESC);
    out->lasttimestamp = recast(in->deprecatedlasttimestamp, &TIME_DESC);
    out->has_count = in->has_deprecatedcount;
    out->count = in->deprecatedcount;
}

static void event_from_core(const core_event_t *in, events_event_t *out)
{
    out->metadata = recast(in->metadata, &META_DESC);
    out->eventtime = recast(in->eventtime, &MICRO_DESC);
    out->series = recast(in->series, &k8s__io__api__events__v1__event_series__descriptor);
    out->reportingcontroller = dup_or_null(in->reportingcomponent);
    out->reportinginstance = dup_or_null(in->reportinginstance);
    out->action = dup_or_null(in->action);
    out->reason = dup_or_null(in->reason);
    out->regarding = recast(in->involvedobject, &REF_DESC);
    out->related = recast(in->related, &REF_DESC);
    out->note = dup_or_null(in->message);
    out->type = dup_or_null(in->type);
    out->deprecatedsource = recast(in->source, &SOURCE_DESC);
    out->deprecatedfirsttimestamp = recast(in->firsttimestamp, &TIME_DESC);
    out->deprecatedlasttimestamp = recast(in->lasttimestamp, &TIME_DESC);
    out->has_deprecatedcount = in->has_count;
    out->deprecatedcount = in->count;
}

/* The conversions: r (a served version) and the descriptors of it and of its storage. */
enum conversion { CONV_NONE, CONV_HPA, CONV_EVENT };

static enum conversion conversion_of(const struct api_resource *r, bool to_storage,
                                     const ProtobufCMessage *in, char *errmsg)
{
    enum conversion c = CONV_NONE;
    if (r->stored_as != NULL && strcmp(r->group, "autoscaling") == 0 &&
        strcmp(r->resource, "horizontalpodautoscalers") == 0)
        c = CONV_HPA;
    else if (r->stored_as != NULL && strcmp(r->group, "events.k8s.io") == 0 &&
             strcmp(r->resource, "events") == 0)
        c = CONV_EVENT;
    if (c == CONV_NONE) {
        k8c_errmsg_printf(errmsg, "%s %s is not converted", r->api_version, r->resource);
        return CONV_NONE;
    }
    const ProtobufCMessageDescriptor *want = to_storage ? r->desc : r->stored_as->desc;
    if (in == NULL || in->descriptor != want) {
        k8c_errmsg_printf(errmsg, "conversion of %s %s got a %s", r->api_version, r->kind,
                          in ? in->descriptor->name : "NULL");
        return CONV_NONE;
    }
    return c;
}

int api_convert_to_storage(const struct api_resource *r, const ProtobufCMessage *in,
                           ProtobufCMessage **out, char *errmsg)
{
    *out = NULL;
    switch (conversion_of(r, true, in, errmsg)) {
    case CONV_HPA: {
        hpa2_t *o = new_msg(&k8s__io__api__autoscaling__v2__horizontal_pod_autoscaler__descriptor);
        hpa_to_v2((const hpa1_t *)in, o);
        *out = &o->base;
        return 0;
    }
    case CONV_EVENT: {
        core_event_t *o = new_msg(&k8s__io__api__core__v1__event__descriptor);
        event_to_core((const events_event_t *)in, o);
        *out = &o->base;
        return 0;
    }
    case CONV_NONE:
        break;
    }
    return K8C_EINVAL;
}

int api_convert_from_storage(const struct api_resource *r, const ProtobufCMessage *in,
                             ProtobufCMessage **out, char *errmsg)
{
    *out = NULL;
    switch (conversion_of(r, false, in, errmsg)) {
    case CONV_HPA: {
        hpa1_t *o = new_msg(&k8s__io__api__autoscaling__v1__horizontal_pod_autoscaler__descriptor);
        hpa_to_v1((const hpa2_t *)in, o);
        *out = &o->base;
        return 0;
    }
    case CONV_EVENT: {
        events_event_t *o = new_msg(&k8s__io__api__events__v1__event__descriptor);
        event_from_core((const core_event_t *)in, o);
        *out = &o->base;
        return 0;
    }
    case CONV_NONE:
        break;
    }
    return K8C_EINVAL;
}
