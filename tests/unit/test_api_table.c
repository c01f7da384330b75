/* Unit tests for apiserver/table: server-side Table columns and cells, checked against what
 * kube-apiserver 1.32 returns (and so what kubectl get -o wide shows) for the same objects. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "codec.h"
#include "error.h"
#include "json.h"
#include "resources.h"
#include "table.h"

/* 2024-01-01T12:00:00Z */
#define NOW 1704110400LL

/* Copy of s with every ' turned into " (keeps the JSON in the tests readable). */
static char *dq(const char *s)
{
    char *d = k8c_strdup(s);
    for (char *p = d; *p != '\0'; p++)
        if (*p == '\'')
            *p = '"';
    return d;
}

static const struct api_resource *resource(const char *group, const char *name)
{
    size_t n;
    const struct api_resource *rs = api_resources(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(rs[i].group, group) == 0 && strcmp(rs[i].resource, name) == 0)
            return &rs[i];
    fail_msg("no resource %s/%s", group, name);
    return NULL;
}

/* Decodes obj_sq (single-quoted JSON) as r's type into arena a. */
static ProtobufCMessage *decode(struct k8c_arena *a, const struct api_resource *r,
                                const char *obj_sq)
{
    struct k8c_codec_diag d;
    ProtobufCMessage *m = NULL;
    char *json = dq(obj_sq);

    k8c_codec_diag_init(&d);
    int rc =
        k8c_codec_json_decode(r->desc, json, strlen(json), k8c_arena_protobuf_allocator(a), &d, &m);
    if (rc != 0)
        fail_msg("decode %s: %s", r->resource, d.errmsg);
    assert_int_equal(d.n_warnings, 0);
    k8c_codec_diag_free(&d);
    k8c_free(json);
    return m;
}

/* The row of cells for obj as compact JSON (caller frees); checks one cell per column. */
static char *row_at(const char *group, const char *name, const char *obj_sq, int64_t now)
{
    const struct api_resource *r = resource(group, name);
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *cells = k8c_json_new_array(a);
    struct k8c_sbuf sb;
    size_t n_cols;

    assert_int_equal(api_table_cells(a, r, decode(a, r, obj_sq), now, cells), 0);
    api_table_columns(r, &n_cols);
    assert_int_equal(cells->len, n_cols);
    k8c_sbuf_init(&sb);
    k8c_json_write(&sb, cells, 0, K8C_JSON_W_NO_HTML_ESCAPE);
    k8c_arena_del(a);
    return k8c_sbuf_detach(&sb);
}

static void expect_row(const char *group, const char *name, const char *obj_sq, const char *want_sq)
{
    char *got = row_at(group, name, obj_sq, NOW);
    char *want = dq(want_sq);
    if (strcmp(got, want) != 0) {
        print_message("want: %s\ngot:  %s\n", want, got);
        fail();
    }
    k8c_free(got);
    k8c_free(want);
}

static int setup(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE];
    (void)state;
    return api_resources_init(errmsg);
}

/* ---- durations ------------------------------------------------------------------------------ */

static void test_human_duration(void **state)
{
    static const struct {
        int64_t ns;
        const char *want;
    } cases[] = {
        {0, "0s"},
        {-1000000000LL, "0s"}, /* a little clock skew is "now" */
        {-1500000000LL, "0s"},
        {-2000000000LL, "<invalid>"},
        {1999999999LL, "1s"},
        {90000000000LL, "90s"},
        {119000000000LL, "119s"},
        {120000000000LL, "2m"},
        {200000000000LL, "3m20s"},
        {599000000000LL, "9m59s"},
        {600000000000LL, "10m"},
        {7200000000000LL, "120m"},
        {10740000000000LL, "179m"},
        {10800000000000LL, "3h"},
        {11100000000000LL, "3h5m"},
        {28740000000000LL, "7h59m"},
        {28800000000000LL, "8h"},
        {169200000000000LL, "47h"},
        {172800000000000LL, "2d"},
        {187200000000000LL, "2d4h"},
        {691200000000000LL, "8d"},
        {34560000000000000LL, "400d"},
        {63072000000000000LL, "2y"},
        {63158400000000000LL, "2y1d"},
        {252288000000000000LL, "8y"},
        {INT64_MAX, "292y"},
    };
    char buf[API_TABLE_DURATION_MAX];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = api_table_human_duration(cases[i].ns, buf);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%lld ns: want %s, got %s", (long long)cases[i].ns, cases[i].want, got);
    }
}

/* ---- columns -------------------------------------------------------------------------------- */

static void test_columns(void **state)
{
    size_t n;
    const struct api_table_column *c;
    (void)state;

    c = api_table_columns(resource("", "pods"), &n);
    assert_int_equal(n, 9);
    assert_string_equal(c[0].name, "Name");
    assert_string_equal(c[0].format, "name");
    assert_string_equal(c[3].name, "Restarts");
    assert_string_equal(c[3].type, "string");
    assert_int_equal(c[4].priority, 0);
    assert_string_equal(c[5].name, "IP");
    assert_int_equal(c[5].priority, 1);
    assert_string_equal(c[8].name, "Readiness Gates");

    c = api_table_columns(resource("apps", "deployments"), &n);
    assert_int_equal(n, 8);
    assert_string_equal(c[2].name, "Up-to-date");
    assert_string_equal(c[7].name, "Selector");
    assert_int_equal(c[7].priority, 1);

    c = api_table_columns(resource("", "services"), &n);
    assert_int_equal(n, 7);
    assert_string_equal(c[4].name, "Port(s)");

    c = api_table_columns(resource("", "nodes"), &n);
    assert_int_equal(n, 10);
    assert_string_equal(c[9].name, "Container-Runtime");

    c = api_table_columns(resource("", "events"), &n);
    assert_int_equal(n, 10);
    assert_string_equal(c[0].name, "Last Seen");
    assert_string_equal(c[9].name, "Name");
    assert_string_equal(c[9].format, "name");

    c = api_table_columns(resource("scheduling.k8s.io", "priorityclasses"), &n);
    assert_string_equal(c[1].type, "integer");
    assert_string_equal(c[2].type, "boolean");

    /* resources without a printer get upstream's default table */
    c = api_table_columns(resource("rbac.authorization.k8s.io", "roles"), &n);
    assert_int_equal(n, 2);
    assert_string_equal(c[0].name, "Name");
    assert_string_equal(c[1].name, "Created At");
    assert_string_equal(c[1].type, "date");

    /* the JSON form: every field present */
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_sbuf sb;
    k8c_sbuf_init(&sb);
    k8c_json_write(&sb, api_table_column_definitions(a, resource("", "configmaps")), 0, 0);
    assert_non_null(strstr(sb.data, "{\"name\":\"Name\",\"type\":\"string\",\"format\":\"name\","));
    assert_non_null(strstr(sb.data, "{\"name\":\"Data\",\"type\":\"string\",\"format\":\"\","));
    assert_non_null(strstr(sb.data, "\"priority\":0}"));
    k8c_sbuf_free(&sb);
    k8c_arena_del(a);
}

/* Every resource prints one cell per column, even for an empty object. */
static void test_every_resource_fills_every_column(void **state)
{
    size_t n;
    const struct api_resource *rs = api_resources(&n);
    (void)state;
    for (size_t i = 0; i < n; i++) {
        char *got = row_at(rs[i].group, rs[i].resource, "{'metadata':{'name':'x'}}", NOW);
        assert_true(strncmp(got, "[", 1) == 0);
        k8c_free(got);
        got = row_at(rs[i].group, rs[i].resource, "{}", NOW);
        k8c_free(got);
    }
}

static void test_wrong_type(void **state)
{
    const struct api_resource *pods = resource("", "pods");
    const struct api_resource *cm = resource("", "configmaps");
    const struct api_resource *roles = resource("rbac.authorization.k8s.io", "roles");
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *cells = k8c_json_new_array(a);
    ProtobufCMessage *m = decode(a, cm, "{'metadata':{'name':'x'}}");
    (void)state;

    assert_int_equal(api_table_cells(a, pods, m, NOW, cells), K8C_EINVAL);
    assert_int_equal(api_table_cells(a, roles, m, NOW, cells), K8C_EINVAL);
    assert_int_equal(cells->len, 0);
    k8c_arena_del(a);
}

/* ---- pods ----------------------------------------------------------------------------------- */

static void test_pod_pending_container_creating(void **state)
{
    (void)state;
    expect_row("", "pods",
               "{'metadata':{'name':'web-7d4b9c8f5-x2x9k','namespace':'default',"
               "'creationTimestamp':'2024-01-01T11:55:00Z'},"
               "'spec':{'nodeName':'node-1','containers':[{'name':'nginx','image':'nginx'}]},"
               "'status':{'phase':'Pending','conditions':[{'type':'PodScheduled','status':'True'}],"
               "'containerStatuses':[{'name':'nginx','ready':false,'restartCount':0,"
               "'image':'nginx','imageID':'','started':false,"
               "'state':{'waiting':{'reason':'ContainerCreating'}}}]}}",
               "['web-7d4b9c8f5-x2x9k','0/1','ContainerCreating','0','5m','<none>','node-1',"
               "'<none>','<none>']");

    /* not yet scheduled: only the phase */
    expect_row("", "pods",
               "{'metadata':{'name':'p','creationTimestamp':'2024-01-01T11:59:30Z'},"
               "'spec':{'containers':[{'name':'a'},{'name':'b'}]},"
               "'status':{'phase':'Pending'}}",
               "['p','0/2','Pending','0','30s','<none>','<none>','<none>','<none>']");

    /* scheduling gates */
    expect_row("", "pods",
               "{'metadata':{'name':'p','creationTimestamp':'2024-01-01T11:59:30Z'},"
               "'spec':{'containers':[{'name':'a'}],'schedulingGates':[{'name':'g'}]},"
               "'status':{'phase':'Pending','conditions':[{'type':'PodScheduled',"
               "'status':'False','reason':'SchedulingGated'}]}}",
               "['p','0/1','SchedulingGated','0','30s','<none>','<none>','<none>','<none>']");
}

static void test_pod_running(void **state)
{
    (void)state;
    expect_row("", "pods",
               "{'metadata':{'name':'api-0','creationTimestamp':'2024-01-01T08:55:00Z'},"
               "'spec':{'nodeName':'node-2','containers':[{'name':'app'},{'name':'proxy'}],"
               "'readinessGates':[{'conditionType':'example.com/feature'}]},"
               "'status':{'phase':'Running','podIP':'10.244.2.7',"
               "'podIPs':[{'ip':'10.244.2.7'},{'ip':'fd00::7'}],"
               "'conditions':[{'type':'Initialized','status':'True'},"
               "{'type':'Ready','status':'True'},{'type':'example.com/feature','status':'True'}],"
               "'containerStatuses':["
               "{'name':'app','ready':true,'restartCount':0,'state':{'running':"
               "{'startedAt':'2024-01-01T08:55:10Z'}}},"
               "{'name':'proxy','ready':true,'restartCount':0,'state':{'running':"
               "{'startedAt':'2024-01-01T08:55:10Z'}}}]}}",
               "['api-0','2/2','Running','0','3h5m','10.244.2.7','node-2','<none>','1/1']");

    /* one container not ready yet, a nominated node, a readiness gate not met */
    expect_row("", "pods",
               "{'metadata':{'name':'p','creationTimestamp':'2024-01-01T11:50:00Z'},"
               "'spec':{'nodeName':'n','containers':[{'name':'a'},{'name':'b'}],"
               "'readinessGates':[{'conditionType':'x/y'},{'conditionType':'x/z'}]},"
               "'status':{'phase':'Running','podIP':'10.0.0.1','nominatedNodeName':'n2',"
               "'conditions':[{'type':'x/y','status':'False'}],"
               "'containerStatuses':["
               "{'name':'a','ready':true,'restartCount':0,'state':{'running':{}}},"
               "{'name':'b','ready':false,'restartCount':0,'state':{'running':{}}}]}}",
               "['p','1/2','Running','0','10m','10.0.0.1','n','n2','0/2']");
}

static void test_pod_crashloop(void **state)
{
    (void)state;
    expect_row("", "pods",
               "{'metadata':{'name':'worker','creationTimestamp':'2023-12-30T08:00:00Z'},"
               "'spec':{'nodeName':'node-1','containers':[{'name':'worker'}]},"
               "'status':{'phase':'Running','podIP':'10.244.1.9',"
               "'conditions':[{'type':'Ready','status':'False'}],"
               "'containerStatuses':[{'name':'worker','ready':false,'restartCount':5,"
               "'state':{'waiting':{'reason':'CrashLoopBackOff','message':'back-off 2m40s'}},"
               "'lastState':{'terminated':{'exitCode':1,'reason':'Error',"
               "'startedAt':'2024-01-01T11:57:29Z','finishedAt':'2024-01-01T11:57:30Z'}}}]}}",
               "['worker','0/1','CrashLoopBackOff','5 (2m30s ago)','2d4h','10.244.1.9','node-1',"
               "'<none>','<none>']");

    /* restarts summed over containers, the latest restart time wins, the first container's
     * reason wins */
    expect_row("", "pods",
               "{'metadata':{'name':'p','creationTimestamp':'2024-01-01T10:00:00Z'},"
               "'spec':{'containers':[{'name':'a'},{'name':'b'}]},"
               "'status':{'phase':'Running','containerStatuses':["
               "{'name':'a','ready':false,'restartCount':2,"
               "'state':{'waiting':{'reason':'ImagePullBackOff'}},"
               "'lastState':{'terminated':{'exitCode':2,'finishedAt':'2024-01-01T11:00:00Z'}}},"
               "{'name':'b','ready':false,'restartCount':1,"
               "'state':{'waiting':{'reason':'CrashLoopBackOff'}},"
               "'lastState':{'terminated':{'exitCode':1,'finishedAt':'2024-01-01T11:59:00Z'}}}"
               "]}}",
               "['p','0/2','ImagePullBackOff','3 (60s ago)','120m','<none>','<none>','<none>',"
               "'<none>']");
}

static void test_pod_finished(void **state)
{
    (void)state;
    expect_row("", "pods",
               "{'metadata':{'name':'job-abcde','creationTimestamp':'2024-01-01T11:00:00Z'},"
               "'spec':{'nodeName':'node-1','containers':[{'name':'main'}]},"
               "'status':{'phase':'Succeeded','podIP':'10.244.1.3',"
               "'containerStatuses':[{'name':'main','ready':false,'restartCount':0,"
               "'state':{'terminated':{'exitCode':0,'reason':'Completed',"
               "'finishedAt':'2024-01-01T11:01:00Z'}}}]}}",
               "['job-abcde','0/1','Completed','0','60m','10.244.1.3','node-1','<none>',"
               "'<none>']");

    expect_row("", "pods",
               "{'metadata':{'name':'bad','creationTimestamp':'2024-01-01T11:00:00Z'},"
               "'spec':{'containers':[{'name':'main'}]},"
               "'status':{'phase':'Failed','containerStatuses':[{'name':'main','ready':false,"
               "'state':{'terminated':{'exitCode':1,'reason':'Error'}}}]}}",
               "['bad','0/1','Error','0','60m','<none>','<none>','<none>','<none>']");

    /* no reason: the signal or the exit code */
    expect_row("", "pods",
               "{'metadata':{'name':'k','creationTimestamp':'2024-01-01T11:00:00Z'},"
               "'spec':{'containers':[{'name':'a'},{'name':'b'}]},"
               "'status':{'phase':'Failed','containerStatuses':["
               "{'name':'a','state':{'terminated':{'exitCode':137,'signal':9}}},"
               "{'name':'b','state':{'terminated':{'exitCode':3}}}]}}",
               "['k','0/2','Signal:9','0','60m','<none>','<none>','<none>','<none>']");

    /* evicted: the pod's own reason */
    expect_row("", "pods",
               "{'metadata':{'name':'e','creationTimestamp':'2024-01-01T11:00:00Z'},"
               "'spec':{'containers':[{'name':'a'}]},"
               "'status':{'phase':'Failed','reason':'Evicted','message':'low on memory'}}",
               "['e','0/1','Evicted','0','60m','<none>','<none>','<none>','<none>']");

    /* one container completed while another still runs: Running or NotReady */
    expect_row("", "pods",
               "{'metadata':{'name':'m','creationTimestamp':'2024-01-01T11:00:00Z'},"
               "'spec':{'containers':[{'name':'a'},{'name':'b'}]},"
               "'status':{'phase':'Running','conditions':[{'type':'Ready','status':'False'}],"
               "'containerStatuses':["
               "{'name':'a','ready':false,'state':{'terminated':{'exitCode':0,"
               "'reason':'Completed'}}},"
               "{'name':'b','ready':true,'state':{'running':{}}}]}}",
               "['m','1/2','NotReady','0','60m','<none>','<none>','<none>','<none>']");
}

static void test_pod_terminating(void **state)
{
    (void)state;
    expect_row("", "pods",
               "{'metadata':{'name':'old','creationTimestamp':'2024-01-01T11:00:00Z',"
               "'deletionTimestamp':'2024-01-01T12:00:30Z','deletionGracePeriodSeconds':30},"
               "'spec':{'nodeName':'node-1','containers':[{'name':'app'}]},"
               "'status':{'phase':'Running','podIP':'10.244.1.4',"
               "'containerStatuses':[{'name':'app','ready':true,'restartCount':0,"
               "'state':{'running':{'startedAt':'2024-01-01T11:00:05Z'}}}]}}",
               "['old','1/1','Terminating','0','60m','10.244.1.4','node-1','<none>','<none>']");

    /* a finished pod being deleted keeps its status */
    expect_row("", "pods",
               "{'metadata':{'name':'done','creationTimestamp':'2024-01-01T11:00:00Z',"
               "'deletionTimestamp':'2024-01-01T12:00:30Z'},"
               "'spec':{'containers':[{'name':'app'}]},"
               "'status':{'phase':'Succeeded','containerStatuses':[{'name':'app',"
               "'state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}}",
               "['done','0/1','Completed','0','60m','<none>','<none>','<none>','<none>']");

    /* node lost */
    expect_row("", "pods",
               "{'metadata':{'name':'lost','creationTimestamp':'2024-01-01T11:00:00Z',"
               "'deletionTimestamp':'2024-01-01T12:00:30Z'},"
               "'spec':{'containers':[{'name':'app'}]},"
               "'status':{'phase':'Running','reason':'NodeLost'}}",
               "['lost','0/1','Unknown','0','60m','<none>','<none>','<none>','<none>']");
}

static void test_pod_init_containers(void **state)
{
    (void)state;
    /* the second of two init containers runs */
    expect_row("", "pods",
               "{'metadata':{'name':'i','creationTimestamp':'2024-01-01T11:58:00Z'},"
               "'spec':{'initContainers':[{'name':'migrate'},{'name':'wait'}],"
               "'containers':[{'name':'app'}]},"
               "'status':{'phase':'Pending','conditions':[{'type':'Initialized',"
               "'status':'False'}],"
               "'initContainerStatuses':["
               "{'name':'migrate','ready':true,'restartCount':0,"
               "'state':{'terminated':{'exitCode':0,'reason':'Completed'}}},"
               "{'name':'wait','ready':false,'restartCount':0,'state':{'running':{}}}],"
               "'containerStatuses':[{'name':'app','ready':false,'restartCount':0,"
               "'state':{'waiting':{'reason':'PodInitializing'}}}]}}",
               "['i','0/1','Init:1/2','0','2m','<none>','<none>','<none>','<none>']");

    /* an init container that cannot pull its image; restarts of init containers count */
    expect_row("", "pods",
               "{'metadata':{'name':'i','creationTimestamp':'2024-01-01T11:58:00Z'},"
               "'spec':{'initContainers':[{'name':'a'},{'name':'b'}],"
               "'containers':[{'name':'app'}]},"
               "'status':{'phase':'Pending','initContainerStatuses':["
               "{'name':'a','restartCount':1,"
               "'state':{'waiting':{'reason':'ImagePullBackOff'}}},"
               "{'name':'b','restartCount':0,'state':{'waiting':{'reason':'PodInitializing'}}}]}}",
               "['i','0/1','Init:ImagePullBackOff','1','2m','<none>','<none>','<none>','<none>']");

    /* an init container that failed */
    expect_row("", "pods",
               "{'metadata':{'name':'i','creationTimestamp':'2024-01-01T11:58:00Z'},"
               "'spec':{'initContainers':[{'name':'a'}],'containers':[{'name':'app'}]},"
               "'status':{'phase':'Pending','initContainerStatuses':["
               "{'name':'a','restartCount':3,"
               "'state':{'terminated':{'exitCode':1,'reason':'Error'}},"
               "'lastState':{'terminated':{'exitCode':1,"
               "'finishedAt':'2024-01-01T11:59:40Z'}}}]}}",
               "['i','0/1','Init:Error','3 (20s ago)','2m','<none>','<none>','<none>','<none>']");

    expect_row("", "pods",
               "{'metadata':{'name':'i','creationTimestamp':'2024-01-01T11:58:00Z'},"
               "'spec':{'initContainers':[{'name':'a'}],'containers':[{'name':'app'}]},"
               "'status':{'phase':'Pending','initContainerStatuses':["
               "{'name':'a','state':{'terminated':{'exitCode':2}}}]}}",
               "['i','0/1','Init:ExitCode:2','0','2m','<none>','<none>','<none>','<none>']");

    /* a sidecar (restartable init container) counts as a container once started; after
     * initialisation only its restarts count with the app containers' */
    expect_row("", "pods",
               "{'metadata':{'name':'s','creationTimestamp':'2024-01-01T11:00:00Z'},"
               "'spec':{'initContainers':[{'name':'init'},{'name':'mesh','restartPolicy':"
               "'Always'}],'containers':[{'name':'app'}]},"
               "'status':{'phase':'Running','conditions':[{'type':'Initialized',"
               "'status':'True'},{'type':'Ready','status':'True'}],"
               "'initContainerStatuses':["
               "{'name':'init','restartCount':4,'ready':true,"
               "'state':{'terminated':{'exitCode':0,'reason':'Completed'}}},"
               "{'name':'mesh','restartCount':1,'ready':true,'started':true,"
               "'state':{'running':{}},'lastState':{'terminated':{'exitCode':1,"
               "'finishedAt':'2024-01-01T11:30:00Z'}}}],"
               "'containerStatuses':[{'name':'app','ready':true,'restartCount':0,"
               "'state':{'running':{}}}]}}",
               "['s','2/2','Running','1 (30m ago)','60m','<none>','<none>','<none>','<none>']");
}

/* ---- workloads ------------------------------------------------------------------------------ */

static void test_deployment(void **state)
{
    (void)state;
    expect_row("apps", "deployments",
               "{'metadata':{'name':'web','namespace':'default',"
               "'creationTimestamp':'2024-01-01T11:50:00Z'},"
               "'spec':{'replicas':3,'selector':{'matchLabels':{'app':'web','tier':'front'}},"
               "'template':{'metadata':{'labels':{'app':'web','tier':'front'}},"
               "'spec':{'containers':[{'name':'nginx','image':'nginx:1.25'},"
               "{'name':'log','image':'busybox'}]}}},"
               "'status':{'replicas':3,'updatedReplicas':3,'readyReplicas':2,"
               "'availableReplicas':2}}",
               "['web','2/3',3,2,'10m','nginx,log','nginx:1.25,busybox','app=web,tier=front']");

    /* fresh deployment, no status; selector with expressions */
    expect_row("apps", "deployments",
               "{'metadata':{'name':'d','creationTimestamp':'2024-01-01T11:59:58Z'},"
               "'spec':{'replicas':1,'selector':{'matchExpressions':["
               "{'key':'tier','operator':'In','values':['front','back']},"
               "{'key':'env','operator':'DoesNotExist'},{'key':'app','operator':'Exists'}]},"
               "'template':{'spec':{'containers':[{'name':'c','image':'i'}]}}}}",
               "['d','0/1',0,0,'2s','c','i','app,!env,tier in (back,front)']");
}

static void test_other_workloads(void **state)
{
    (void)state;
    expect_row("apps", "replicasets",
               "{'metadata':{'name':'web-5d8','creationTimestamp':'2024-01-01T11:50:00Z'},"
               "'spec':{'replicas':2,'selector':{'matchLabels':{'app':'web'}},"
               "'template':{'spec':{'containers':[{'name':'nginx','image':'nginx'}]}}},"
               "'status':{'replicas':2,'readyReplicas':1}}",
               "['web-5d8',2,2,1,'10m','nginx','nginx','app=web']");
    expect_row("apps", "statefulsets",
               "{'metadata':{'name':'db','creationTimestamp':'2024-01-01T11:50:00Z'},"
               "'spec':{'replicas':3,'template':{'spec':{'containers':[{'name':'pg',"
               "'image':'postgres:16'}]}}},'status':{'replicas':3,'readyReplicas':3}}",
               "['db','3/3','10m','pg','postgres:16']");
    expect_row("apps", "daemonsets",
               "{'metadata':{'name':'proxy','creationTimestamp':'2024-01-01T11:50:00Z'},"
               "'spec':{'selector':{'matchLabels':{'k8s-app':'proxy'}},'template':{'spec':{"
               "'nodeSelector':{'kubernetes.io/os':'linux'},"
               "'containers':[{'name':'p','image':'proxy:1'}]}}},"
               "'status':{'desiredNumberScheduled':3,'currentNumberScheduled':3,'numberReady':2,"
               "'updatedNumberScheduled':3,'numberAvailable':2}}",
               "['proxy',3,3,2,3,2,'kubernetes.io/os=linux','10m','p','proxy:1','k8s-app=proxy']");
    expect_row("", "replicationcontrollers",
               "{'metadata':{'name':'rc','creationTimestamp':'2024-01-01T11:50:00Z'},"
               "'spec':{'replicas':1,'selector':{'app':'x'}}}",
               "['rc',1,0,0,'10m','','','app=x']");
    expect_row("batch", "jobs",
               "{'metadata':{'name':'pi','creationTimestamp':'2024-01-01T11:00:00Z'},"
               "'spec':{'completions':1,'parallelism':1,'selector':{'matchLabels':{"
               "'batch.kubernetes.io/controller-uid':'u1'}},"
               "'template':{'spec':{'containers':[{'name':'pi','image':'perl'}]}}},"
               "'status':{'succeeded':1,'startTime':'2024-01-01T11:00:00Z',"
               "'completionTime':'2024-01-01T11:00:42Z',"
               "'conditions':[{'type':'Complete','status':'True'}]}}",
               "['pi','Complete','1/1','42s','60m','pi','perl',"
               "'batch.kubernetes.io/controller-uid=u1']");
    expect_row("batch", "jobs",
               "{'metadata':{'name':'w','creationTimestamp':'2024-01-01T11:00:00Z'},"
               "'spec':{'parallelism':3},'status':{'active':3,'startTime':'2024-01-01T11:00:00Z'}}",
               "['w','Running','0/1 of 3','60m','60m','','','<none>']");
    expect_row("batch", "cronjobs",
               "{'metadata':{'name':'hello','creationTimestamp':'2024-01-01T10:00:00Z'},"
               "'spec':{'schedule':'*/5 * * * *','suspend':false,'jobTemplate':{'spec':{"
               "'template':{'spec':{'containers':[{'name':'h','image':'busybox'}]}}}}},"
               "'status':{'active':[{'name':'hello-1'}],"
               "'lastScheduleTime':'2024-01-01T11:55:00Z'}}",
               "['hello','*/5 * * * *','<none>','False',1,'5m','120m','h','busybox','<none>']");
    expect_row("policy", "poddisruptionbudgets",
               "{'metadata':{'name':'pdb','creationTimestamp':'2024-01-01T11:50:00Z'},"
               "'spec':{'minAvailable':'50%'},'status':{'disruptionsAllowed':1}}",
               "['pdb','50%','N/A',1,'10m']");
    expect_row("autoscaling", "horizontalpodautoscalers",
               "{'metadata':{'name':'web','creationTimestamp':'2024-01-01T11:50:00Z'},"
               "'spec':{'scaleTargetRef':{'kind':'Deployment','name':'web','apiVersion':"
               "'apps/v1'},'minReplicas':1,'maxReplicas':10,'metrics':["
               "{'type':'Resource','resource':{'name':'cpu','target':{'type':'Utilization',"
               "'averageUtilization':80}}},"
               "{'type':'Pods','pods':{'metric':{'name':'qps'},'target':{'type':'AverageValue',"
               "'averageValue':'1k'}}},"
               "{'type':'Resource','resource':{'name':'memory','target':{'type':'AverageValue',"
               "'averageValue':'512Mi'}}}]},"
               "'status':{'currentReplicas':2,'desiredReplicas':2,'currentMetrics':["
               "{'type':'Resource','resource':{'name':'cpu','current':{'averageUtilization':40,"
               "'averageValue':'100m'}}}]}}",
               "['web','Deployment/web','cpu: 40%/80%, <unknown>/1k + 1 more...','1',10,2,"
               "'10m']");
    expect_row("apps", "controllerrevisions",
               "{'metadata':{'name':'proxy-7f9','creationTimestamp':'2024-01-01T11:50:00Z',"
               "'ownerReferences':[{'apiVersion':'apps/v1','kind':'DaemonSet','name':'proxy',"
               "'uid':'u','controller':true}]},'revision':2}",
               "['proxy-7f9','daemonset.apps/proxy',2,'10m']");
}

/* ---- services ------------------------------------------------------------------------------- */

static void test_service(void **state)
{
    (void)state;
    expect_row("", "services",
               "{'metadata':{'name':'web','namespace':'default',"
               "'creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'spec':{'type':'NodePort','clusterIP':'10.96.12.34','clusterIPs':['10.96.12.34'],"
               "'selector':{'tier':'front','app':'web'},'ports':["
               "{'name':'http','protocol':'TCP','port':80,'targetPort':8080,'nodePort':30001},"
               "{'name':'https','protocol':'TCP','port':443,'targetPort':'https',"
               "'nodePort':30443}]}}",
               "['web','NodePort','10.96.12.34','<none>','80:30001/TCP,443:30443/TCP','45m',"
               "'app=web,tier=front']");
    expect_row("", "services",
               "{'metadata':{'name':'kubernetes','creationTimestamp':'2023-12-22T12:00:00Z'},"
               "'spec':{'type':'ClusterIP','clusterIP':'10.96.0.1','ports':[{'name':'https',"
               "'protocol':'TCP','port':443,'targetPort':6443}]}}",
               "['kubernetes','ClusterIP','10.96.0.1','<none>','443/TCP','10d','<none>']");
    expect_row("", "services",
               "{'metadata':{'name':'lb','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'spec':{'type':'LoadBalancer','clusterIPs':['10.96.1.1'],'ports':[{'protocol':"
               "'UDP','port':53,'nodePort':31053}]}}",
               "['lb','LoadBalancer','10.96.1.1','<pending>','53:31053/UDP','45m','<none>']");
    expect_row("", "services",
               "{'metadata':{'name':'lb','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'spec':{'type':'LoadBalancer','clusterIPs':['10.96.1.1'],"
               "'externalIPs':['192.0.2.9']},"
               "'status':{'loadBalancer':{'ingress':[{'ip':'203.0.113.7'},"
               "{'hostname':'lb.example.com'},{'ip':'203.0.113.7'}]}}}",
               "['lb','LoadBalancer','10.96.1.1','203.0.113.7,lb.example.com,192.0.2.9','<none>',"
               "'45m','<none>']");
    expect_row("", "services",
               "{'metadata':{'name':'db','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'spec':{'type':'ClusterIP','clusterIP':'None','clusterIPs':['None'],"
               "'selector':{'app':'db'}}}",
               "['db','ClusterIP','None','<none>','<none>','45m','app=db']");
    expect_row("", "services",
               "{'metadata':{'name':'ext','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'spec':{'type':'ExternalName','externalName':'db.example.com'}}",
               "['ext','ExternalName','<none>','db.example.com','<none>','45m','<none>']");
    expect_row("", "endpoints",
               "{'metadata':{'name':'web','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'subsets':[{'addresses':[{'ip':'10.244.1.5'},{'ip':'10.244.2.6'}],"
               "'ports':[{'name':'http','port':8080,'protocol':'TCP'},"
               "{'name':'https','port':8443,'protocol':'TCP'}]}]}",
               "['web','10.244.1.5:8080,10.244.2.6:8080,10.244.1.5:8443 + 1 more...','45m']");
    expect_row("", "endpoints",
               "{'metadata':{'name':'none','creationTimestamp':'2024-01-01T11:15:00Z'}}",
               "['none','<none>','45m']");
    expect_row("discovery.k8s.io", "endpointslices",
               "{'metadata':{'name':'web-abc','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'addressType':'IPv4','ports':[{'name':'http','port':8080,'protocol':'TCP'}],"
               "'endpoints':[{'addresses':['10.244.1.5']},{'addresses':['10.244.2.6']}]}",
               "['web-abc','IPv4','8080','10.244.1.5,10.244.2.6','45m']");
    expect_row("networking.k8s.io", "ingresses",
               "{'metadata':{'name':'web','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'spec':{'ingressClassName':'nginx','tls':[{'hosts':['a.example.com']}],"
               "'rules':[{'host':'a.example.com'},{'host':'b.example.com'}]},"
               "'status':{'loadBalancer':{'ingress':[{'ip':'192.0.2.1'}]}}}",
               "['web','nginx','a.example.com,b.example.com','192.0.2.1','80, 443','45m']");
    expect_row("networking.k8s.io", "networkpolicies",
               "{'metadata':{'name':'deny','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'spec':{'podSelector':{}}}",
               "['deny','<none>','45m']");
}

/* ---- nodes and the rest --------------------------------------------------------------------- */

static void test_node(void **state)
{
    (void)state;
    expect_row("", "nodes",
               "{'metadata':{'name':'cp-1','creationTimestamp':'2022-11-27T12:00:00Z',"
               "'labels':{'kubernetes.io/hostname':'cp-1',"
               "'node-role.kubernetes.io/control-plane':'','kubernetes.io/role':'worker',"
               "'node-role.kubernetes.io/':''}},"
               "'spec':{'unschedulable':true,'taints':[{'key':'node.kubernetes.io/"
               "unschedulable','effect':'NoSchedule'}]},"
               "'status':{'conditions':[{'type':'MemoryPressure','status':'False'},"
               "{'type':'Ready','status':'True','reason':'KubeletReady'}],"
               "'addresses':[{'type':'InternalIP','address':'192.168.1.10'},"
               "{'type':'Hostname','address':'cp-1'}],"
               "'nodeInfo':{'kubeletVersion':'v1.32.0','osImage':'Debian GNU/Linux 12 (bookworm)',"
               "'kernelVersion':'6.1.0-18-amd64','containerRuntimeVersion':'containerd://1.7.13',"
               "'machineID':'m','systemUUID':'s','bootID':'b','kubeProxyVersion':'',"
               "'operatingSystem':'linux','architecture':'amd64'}}}",
               "['cp-1','Ready,SchedulingDisabled','control-plane,worker','400d','v1.32.0',"
               "'192.168.1.10','<none>','Debian GNU/Linux 12 (bookworm)','6.1.0-18-amd64',"
               "'containerd://1.7.13']");
    expect_row("", "nodes",
               "{'metadata':{'name':'w','creationTimestamp':'2024-01-01T11:58:00Z'},"
               "'status':{'conditions':[{'type':'Ready','status':'Unknown'}],"
               "'addresses':[{'type':'ExternalIP','address':'203.0.113.5'}]}}",
               "['w','NotReady','<none>','2m','','<none>','203.0.113.5','<unknown>',"
               "'<unknown>','<unknown>']");
    expect_row("", "nodes", "{'metadata':{'name':'new'}}",
               "['new','Unknown','<none>','<unknown>','','<none>','<none>','<unknown>',"
               "'<unknown>','<unknown>']");
}

static void test_config_and_cluster_objects(void **state)
{
    (void)state;
    expect_row("", "namespaces",
               "{'metadata':{'name':'kube-system','creationTimestamp':'2023-12-25T12:00:00Z'},"
               "'status':{'phase':'Active'}}",
               "['kube-system','Active','7d']");
    expect_row("", "configmaps",
               "{'metadata':{'name':'cfg','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'data':{'a':'1','b':'2'},'binaryData':{'c':'AA=='}}",
               "['cfg',3,'45m']");
    expect_row("", "secrets",
               "{'metadata':{'name':'tls','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'type':'kubernetes.io/tls','data':{'tls.crt':'AA==','tls.key':'AA=='}}",
               "['tls','kubernetes.io/tls',2,'45m']");
    expect_row("", "serviceaccounts",
               "{'metadata':{'name':'default','creationTimestamp':'2024-01-01T11:15:00Z'}}",
               "['default',0,'45m']");
    expect_row("", "events",
               "{'metadata':{'name':'web.17a','namespace':'default',"
               "'creationTimestamp':'2024-01-01T11:50:00Z'},"
               "'involvedObject':{'kind':'Pod','namespace':'default','name':'web',"
               "'fieldPath':'spec.containers{nginx}'},"
               "'reason':'Pulled','message':'  Successfully pulled image nginx:1.25\\n',"
               "'source':{'component':'kubelet','host':'node-1'},"
               "'firstTimestamp':'2024-01-01T11:50:00Z','lastTimestamp':'2024-01-01T11:58:00Z',"
               "'count':3,'type':'Normal'}",
               "['2m','Normal','Pulled','pod/web','spec.containers{nginx}','kubelet, node-1',"
               "'Successfully pulled image nginx:1.25','10m',3,'web.17a']");
    /* an events.k8s.io-style event: eventTime and the reporting controller */
    expect_row("", "events",
               "{'metadata':{'name':'e2','creationTimestamp':'2024-01-01T11:50:00Z'},"
               "'involvedObject':{'kind':'Node','name':'n1'},'reason':'Starting',"
               "'eventTime':'2024-01-01T11:59:00.000000Z','reportingComponent':'kube-proxy',"
               "'reportingInstance':'kube-proxy-n1','type':'Normal'}",
               "['60s','Normal','Starting','node/n1','','kube-proxy, kube-proxy-n1','','60s',1,"
               "'e2']");
    expect_row("coordination.k8s.io", "leases",
               "{'metadata':{'name':'kube-scheduler','creationTimestamp':"
               "'2024-01-01T11:15:00Z'},'spec':{'holderIdentity':'cp-1_1234'}}",
               "['kube-scheduler','cp-1_1234','45m']");
    expect_row("scheduling.k8s.io", "priorityclasses",
               "{'metadata':{'name':'system-node-critical','creationTimestamp':"
               "'2024-01-01T11:15:00Z'},'value':2000001000,'globalDefault':false,"
               "'preemptionPolicy':'PreemptLowerPriority'}",
               "['system-node-critical',2000001000,false,'45m','PreemptLowerPriority']");
    expect_row("storage.k8s.io", "storageclasses",
               "{'metadata':{'name':'standard','creationTimestamp':'2024-01-01T11:15:00Z',"
               "'annotations':{'storageclass.kubernetes.io/is-default-class':'true'}},"
               "'provisioner':'rancher.io/local-path','reclaimPolicy':'Delete',"
               "'volumeBindingMode':'WaitForFirstConsumer'}",
               "['standard (default)','rancher.io/local-path','Delete','WaitForFirstConsumer',"
               "false,'45m']");
    expect_row("", "persistentvolumeclaims",
               "{'metadata':{'name':'data','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'spec':{'accessModes':['ReadWriteOnce'],'resources':{'requests':{"
               "'storage':'1Gi'}},'volumeName':'pvc-1','storageClassName':'standard',"
               "'volumeMode':'Filesystem'},"
               "'status':{'phase':'Bound','accessModes':['ReadWriteOnce'],"
               "'capacity':{'storage':'1024Mi'}}}",
               "['data','Bound','pvc-1','1Gi','RWO','standard','<unset>','45m','Filesystem']");
    expect_row("", "persistentvolumes",
               "{'metadata':{'name':'pvc-1','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'spec':{'capacity':{'storage':'1Gi'},'accessModes':['ReadWriteMany',"
               "'ReadWriteOnce'],'persistentVolumeReclaimPolicy':'Delete',"
               "'claimRef':{'namespace':'default','name':'data'},"
               "'storageClassName':'standard','hostPath':{'path':'/d'}},"
               "'status':{'phase':'Bound'}}",
               "['pvc-1','1Gi','RWO,RWX','Delete','Bound','default/data','standard','<unset>',"
               "'','45m','<unset>']");
    expect_row("", "resourcequotas",
               "{'metadata':{'name':'q','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'status':{'hard':{'pods':'10','limits.cpu':'2','requests.cpu':'1'},"
               "'used':{'pods':'3','requests.cpu':'500m'}}}",
               "['q','pods: 3/10, requests.cpu: 500m/1','limits.cpu: 0/2','45m']");
    expect_row("rbac.authorization.k8s.io", "clusterrolebindings",
               "{'metadata':{'name':'admins','creationTimestamp':'2024-01-01T11:15:00Z'},"
               "'roleRef':{'apiGroup':'rbac.authorization.k8s.io','kind':'ClusterRole',"
               "'name':'cluster-admin'},'subjects':[{'kind':'Group','name':'system:masters'},"
               "{'kind':'ServiceAccount','namespace':'kube-system','name':'ctl'},"
               "{'kind':'User','name':'alice'},{'kind':'User','name':'bob'}]}",
               "['admins','ClusterRole/cluster-admin','45m','alice, bob','system:masters',"
               "'kube-system/ctl']");
    expect_row("", "podtemplates",
               "{'metadata':{'name':'t'},'template':{'metadata':{'labels':{'b':'2','a':'1'}},"
               "'spec':{'containers':[{'name':'x','image':'y'}]}}}",
               "['t','x','y','a=1,b=2']");
    expect_row("", "componentstatuses",
               "{'metadata':{'name':'etcd-0'},'conditions':[{'type':'Healthy','status':'True',"
               "'message':'ok'}]}",
               "['etcd-0','Healthy','ok','']");
}

/* The scale subresource answers an autoscaling/v1 Scale, which has its own Table (printScale):
 * Name (without the name format), Desired, Available, Age, under any scalable resource. */
static void test_scale(void **state)
{
    const struct api_resource *deploy = resource("apps", "deployments");
    const struct api_resource *as =
        api_resource_by_kind("autoscaling/v1", "HorizontalPodAutoscaler");
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_codec_diag d;
    ProtobufCMessage *scale = NULL;
    char *json = dq("{'kind':'Scale','apiVersion':'autoscaling/v1','metadata':{'name':'web',"
                    "'creationTimestamp':'2024-01-01T11:55:00Z'},'spec':{'replicas':3},"
                    "'status':{'replicas':2,'selector':'app=web'}}");
    struct k8c_json *cells = k8c_json_new_array(a);
    struct k8c_sbuf sb;
    size_t n;

    (void)state;
    assert_non_null(as);
    k8c_codec_diag_init(&d);
    assert_int_equal(k8c_codec_json_decode(NULL, json, strlen(json),
                                           k8c_arena_protobuf_allocator(a), &d, &scale),
                     0);
    k8c_codec_diag_free(&d);
    assert_true(api_table_prints(deploy, scale->descriptor));
    assert_true(api_table_prints(deploy, deploy->desc));
    assert_false(api_table_prints(deploy, as->desc));
    const struct api_table_column *c = api_table_columns_of(deploy, scale->descriptor, &n);
    assert_int_equal(n, 4);
    assert_string_equal(c[0].name, "Name");
    assert_string_equal(c[0].format, "");
    assert_string_equal(c[1].name, "Desired");
    assert_string_equal(c[1].type, "integer");
    assert_string_equal(c[2].name, "Available");
    assert_string_equal(c[3].name, "Age");
    assert_int_equal(api_table_cells(a, deploy, scale, NOW, cells), 0);
    k8c_sbuf_init(&sb);
    k8c_json_write(&sb, cells, 0, 0);
    assert_string_equal(sb.data, "[\"web\",3,2,\"5m\"]");
    k8c_sbuf_free(&sb);
    /* the resource's own columns are unchanged */
    assert_string_equal(api_table_columns(deploy, &n)[1].name, "Ready");
    k8c_free(json);
    k8c_arena_del(a);
}

static void test_row_conditions(void **state)
{
    const struct api_resource *pods = resource("", "pods");
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_sbuf sb;
    (void)state;

    k8c_sbuf_init(&sb);
    k8c_json_write(
        &sb, api_table_row_conditions(a, pods, decode(a, pods, "{'status':{'phase':'Succeeded'}}")),
        0, 0);
    assert_string_equal(sb.data, "[{\"type\":\"Completed\",\"status\":\"True\",\"reason\":"
                                 "\"Succeeded\",\"message\":\"The pod has completed "
                                 "successfully.\"}]");
    k8c_sbuf_reset(&sb);
    k8c_json_write(
        &sb, api_table_row_conditions(a, pods, decode(a, pods, "{'status':{'phase':'Failed'}}")), 0,
        0);
    assert_non_null(strstr(sb.data, "\"reason\":\"Failed\",\"message\":\"The pod failed.\""));
    k8c_sbuf_free(&sb);
    assert_null(
        api_table_row_conditions(a, pods, decode(a, pods, "{'status':{'phase':'Running'}}")));
    const struct api_resource *cm = resource("", "configmaps");
    assert_null(api_table_row_conditions(a, cm, decode(a, cm, "{}")));
    k8c_arena_del(a);
}

static void test_default_table(void **state)
{
    (void)state;
    expect_row("rbac.authorization.k8s.io", "clusterroles",
               "{'metadata':{'name':'view','creationTimestamp':'2023-06-15T08:09:10Z'}}",
               "['view','2023-06-15T08:09:10Z']");
    expect_row("", "limitranges", "{'metadata':{'name':'lr'}}", "['lr','0001-01-01T00:00:00Z']");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_human_duration),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_every_resource_fills_every_column),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_pod_pending_container_creating),
        cmocka_unit_test(test_pod_running),
        cmocka_unit_test(test_pod_crashloop),
        cmocka_unit_test(test_pod_finished),
        cmocka_unit_test(test_pod_terminating),
        cmocka_unit_test(test_pod_init_containers),
        cmocka_unit_test(test_deployment),
        cmocka_unit_test(test_other_workloads),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_node),
        cmocka_unit_test(test_config_and_cluster_objects),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_row_conditions),
        cmocka_unit_test(test_default_table),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
