/* Unit tests for apiserver/defaults: objects as kubectl sends them (kubectl create ...
 * --dry-run=client -o json) are decoded, defaulted and encoded back, and the JSON is compared
 * with what an upstream 1.32 API server stores for them (before controllers and allocators
 * touch them). JSON in this file is written with ' for " to stay readable. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "codec.h"
#include "defaults.h"
#include "error.h"
#include "resources.h"

/* ' -> " (tests never need a literal ') */
static char *dq(const char *s)
{
    char *out = k8c_strdup(s);
    for (char *p = out; *p; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

static ProtobufCMessage *decode(const char *json_sq)
{
    struct k8c_codec_diag d;
    ProtobufCMessage *m = NULL;
    char *json = dq(json_sq);
    int rc;

    k8c_codec_diag_init(&d);
    rc = k8c_codec_json_decode(NULL, json, strlen(json), NULL, &d, &m);
    if (rc != 0)
        fail_msg("decode failed: %s", d.errmsg);
    assert_int_equal(d.n_warnings, 0);
    k8c_codec_diag_free(&d);
    k8c_free(json);
    return m;
}

static char *encode(const ProtobufCMessage *m)
{
    struct k8c_sbuf sb;
    char errmsg[K8C_ERRMSG_SIZE];

    k8c_sbuf_init(&sb);
    assert_int_equal(k8c_codec_json_encode(&sb, m, K8C_CODEC_TYPE_META, 0, errmsg), 0);
    return k8c_sbuf_detach(&sb);
}

static const struct api_resource *resource_of(const ProtobufCMessage *m)
{
    const struct k8c_codec_kind *k = k8c_codec_lookup_desc(m->descriptor);
    assert_non_null(k);
    return api_resource_by_kind(k->api_version, k->kind);
}

/* Decodes, defaults (create or not), encodes; the caller frees the result. Also checks that
 * defaulting twice changes nothing. */
static char *defaulted_ex(const char *json_sq, bool create)
{
    ProtobufCMessage *m = decode(json_sq);
    const struct api_resource *r = resource_of(m);
    char *once, *twice;

    if (create)
        api_defaults_apply_create(r, m);
    else
        api_defaults_apply(r, m);
    once = encode(m);
    if (create)
        api_defaults_apply_create(r, m);
    else
        api_defaults_apply(r, m);
    twice = encode(m);
    assert_string_equal(once, twice);
    k8c_free(twice);
    protobuf_c_message_free_unpacked(m, NULL);
    return once;
}

static void expect_defaulted_ex(const char *in_sq, const char *want_sq, bool create)
{
    char *got = defaulted_ex(in_sq, create);
    char *want = dq(want_sq);

    if (strcmp(got, want) != 0) {
        fprintf(stderr, "got:  %s\nwant: %s\n", got, want);
        fail();
    }
    k8c_free(got);
    k8c_free(want);
}

static void expect_defaulted(const char *in_sq, const char *want_sq)
{
    expect_defaulted_ex(in_sq, want_sq, false);
}

/* The defaulted JSON contains the fragment (for spot checks inside large objects). */
static void expect_contains(const char *in_sq, const char *fragment_sq)
{
    char *got = defaulted_ex(in_sq, false);
    char *frag = dq(fragment_sq);

    if (strstr(got, frag) == NULL) {
        print_message("got:  %s\nmissing: %s\n", got, frag);
        fail();
    }
    k8c_free(got);
    k8c_free(frag);
}

static int setup(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE];
    return api_resources_init(errmsg);
}

/* The PodSpec defaults of a template (no enableServiceLinks: that is Pod-only). */
#define TEMPLATE_SPEC_TAIL                                                                         \
    "'restartPolicy':'Always','terminationGracePeriodSeconds':30,'dnsPolicy':'ClusterFirst',"      \
    "'securityContext':{},'schedulerName':'default-scheduler'"
#define CONTAINER_TAIL                                                                             \
    "'terminationMessagePath':'/dev/termination-log','terminationMessagePolicy':'File',"

static void test_deployment(void **state)
{
    /* kubectl create deployment web --image=nginx */
    expect_defaulted(
        "{'kind':'Deployment','apiVersion':'apps/v1','metadata':{'name':'web',"
        "'creationTimestamp':null,'labels':{'app':'web'}},'spec':{'replicas':1,'selector':{"
        "'matchLabels':{'app':'web'}},'template':{'metadata':{'creationTimestamp':null,"
        "'labels':{'app':'web'}},'spec':{'containers':[{'name':'nginx','image':'nginx',"
        "'resources':{}}]}},'strategy':{}},'status':{}}",
        "{'kind':'Deployment','apiVersion':'apps/v1','metadata':{'name':'web',"
        "'creationTimestamp':null,'labels':{'app':'web'}},'spec':{'replicas':1,'selector':{"
        "'matchLabels':{'app':'web'}},'template':{'metadata':{'creationTimestamp':null,"
        "'labels':{'app':'web'}},'spec':{'containers':[{'name':'nginx','image':'nginx',"
        "'resources':{}," CONTAINER_TAIL "'imagePullPolicy':'Always'}]," TEMPLATE_SPEC_TAIL "}},"
        "'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxUnavailable':'25%',"
        "'maxSurge':'25%'}},'revisionHistoryLimit':10,'progressDeadlineSeconds':600},"
        "'status':{}}");
    /* no spec at all: replicas 1 and a template that gets PodSpec defaults */
    expect_contains("{'kind':'Deployment','apiVersion':'apps/v1','metadata':{'name':'x'}}",
                    "'spec':{'replicas':1,'template':{'metadata':{'creationTimestamp':null},'spec':"
                    "{'containers':null," TEMPLATE_SPEC_TAIL "}},"
                    "'strategy':{'type':'RollingUpdate'");
    /* Recreate: no rollingUpdate; explicit values kept, replicas 0 is set */
    expect_contains("{'kind':'Deployment','apiVersion':'apps/v1','spec':{'replicas':0,"
                    "'strategy':{'type':'Recreate'},'revisionHistoryLimit':0}}",
                    "'strategy':{'type':'Recreate'},'revisionHistoryLimit':0,"
                    "'progressDeadlineSeconds':600}");
    expect_contains("{'kind':'Deployment','apiVersion':'apps/v1','spec':{'replicas':0}}",
                    "'spec':{'replicas':0,");
    /* partial rolling update */
    expect_contains("{'kind':'Deployment','apiVersion':'apps/v1','spec':{'strategy':{"
                    "'rollingUpdate':{'maxSurge':2}}}}",
                    "'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxUnavailable':'25%',"
                    "'maxSurge':2}}");
}

static void test_pod(void **state)
{
    /* kubectl run web --image=nginx:1.25 --port=80 */
    expect_defaulted(
        "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'web','creationTimestamp':null,"
        "'labels':{'run':'web'}},'spec':{'containers':[{'name':'web','image':'nginx:1.25',"
        "'ports':[{'containerPort':80}],'resources':{}}],'restartPolicy':'Always',"
        "'dnsPolicy':'ClusterFirst'},'status':{}}",
        "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'web','creationTimestamp':null,"
        "'labels':{'run':'web'}},'spec':{'containers':[{'name':'web','image':'nginx:1.25',"
        "'ports':[{'containerPort':80,'protocol':'TCP'}],'resources':{}," CONTAINER_TAIL
        "'imagePullPolicy':'IfNotPresent'}]," TEMPLATE_SPEC_TAIL ",'enableServiceLinks':true},"
        "'status':{}}");
    /* requests from limits (only missing keys), probes, env fieldRef, hostNetwork ports,
     * lifecycle httpGet, restartPolicy kept */
    expect_defaulted(
        "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'p'},'spec':{'initContainers':[{"
        "'name':'i','image':'busybox','resources':{'limits':{'cpu':'1'}}}],'containers':[{"
        "'name':'c','image':'reg.example.com:5000/app@sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',"
        "'ports':[{'containerPort':8080,'protocol':'UDP'}],"
        "'env':[{'name':'N','valueFrom':{'fieldRef':{'fieldPath':'metadata.name'}}}],"
        "'resources':{'limits':{'cpu':'500m','memory':'128Mi'},'requests':{'cpu':'100m'}},"
        "'livenessProbe':{'httpGet':{'port':8080}},'readinessProbe':{'grpc':{'port':9000},"
        "'periodSeconds':5},'lifecycle':{'preStop':{'httpGet':{'port':80,'path':'/q'}}}}],"
        "'restartPolicy':'Never','hostNetwork':true}}",
        "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'p','creationTimestamp':null},"
        "'spec':{'initContainers':[{'name':'i','image':'busybox','resources':{'limits':{"
        "'cpu':'1'},'requests':{'cpu':'1'}}," CONTAINER_TAIL "'imagePullPolicy':'Always'}],"
        "'containers':[{'name':'c','image':'reg.example.com:5000/app@sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',"
        "'ports':[{'hostPort':8080,'containerPort':8080,'protocol':'UDP'}],"
        "'env':[{'name':'N','valueFrom':{'fieldRef':{'apiVersion':'v1',"
        "'fieldPath':'metadata.name'}}}],'resources':{'limits':{'cpu':'500m','memory':'128Mi'},"
        "'requests':{'cpu':'100m','memory':'128Mi'}},"
        "'livenessProbe':{'httpGet':{'path':'/','port':8080,'scheme':'HTTP'},"
        "'timeoutSeconds':1,'periodSeconds':10,'successThreshold':1,'failureThreshold':3},"
        "'readinessProbe':{'grpc':{'port':9000,'service':''},'timeoutSeconds':1,"
        "'periodSeconds':5,'successThreshold':1,'failureThreshold':3},"
        "'lifecycle':{'preStop':{'httpGet':{'path':'/"
        "q','port':80,'scheme':'HTTP'}}}," CONTAINER_TAIL
        "'imagePullPolicy':'IfNotPresent'}],'restartPolicy':'Never',"
        "'terminationGracePeriodSeconds':30,'dnsPolicy':'ClusterFirst','hostNetwork':true,"
        "'securityContext':{},'schedulerName':'default-scheduler','enableServiceLinks':true},"
        "'status':{}}");
    /* explicit values survive: enableServiceLinks false, grace period 0, a pull policy */
    expect_contains("{'kind':'Pod','apiVersion':'v1','spec':{'containers':[{'name':'c',"
                    "'image':'x','imagePullPolicy':'Never'}],'terminationGracePeriodSeconds':0,"
                    "'enableServiceLinks':false}}",
                    "'imagePullPolicy':'Never'}],'restartPolicy':'Always',"
                    "'terminationGracePeriodSeconds':0,");
    expect_contains("{'kind':'Pod','apiVersion':'v1','spec':{'enableServiceLinks':false}}",
                    "'enableServiceLinks':false}");
    /* quantities are rounded up to milli-units */
    expect_contains("{'kind':'Pod','apiVersion':'v1','spec':{'containers':[{'name':'c',"
                    "'image':'x','resources':{'requests':{'cpu':'100u','memory':'1.0001'}}}]}}",
                    "'resources':{'requests':{'cpu':'1m','memory':'1001m'}}");
}

static void test_volumes(void **state)
{
    expect_defaulted(
        "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'v'},'spec':{'volumes':["
        "{'name':'a'},{'name':'b','configMap':{'name':'cm'}},{'name':'c','secret':{"
        "'secretName':'s','defaultMode':256}},{'name':'d','hostPath':{'path':'/x'}},"
        "{'name':'e','projected':{'sources':[{'serviceAccountToken':{'path':'t'}},"
        "{'downwardAPI':{'items':[{'path':'n','fieldRef':{'fieldPath':'metadata.name'}}]}}]}},"
        "{'name':'f','downwardAPI':{}},{'name':'g','emptyDir':{'medium':'Memory'}},"
        "{'name':'h','ephemeral':{'volumeClaimTemplate':{'spec':{'accessModes':"
        "['ReadWriteOnce']}}}}],'containers':[{'name':'c','image':'x:latest'}]}}",
        "{'kind':'Pod','apiVersion':'v1','metadata':{'name':'v','creationTimestamp':null},"
        "'spec':{'volumes':[{'name':'a','emptyDir':{}},{'name':'b','configMap':{'name':'cm',"
        "'defaultMode':420}},{'name':'c','secret':{'secretName':'s','defaultMode':256}},"
        "{'name':'d','hostPath':{'path':'/x','type':''}},{'name':'e','projected':{'sources':["
        "{'serviceAccountToken':{'expirationSeconds':3600,'path':'t'}},{'downwardAPI':{"
        "'items':[{'path':'n','fieldRef':{'apiVersion':'v1','fieldPath':'metadata.name'}}]}}],"
        "'defaultMode':420}},{'name':'f','downwardAPI':{'defaultMode':420}},{'name':'g',"
        "'emptyDir':{'medium':'Memory'}},{'name':'h','ephemeral':{'volumeClaimTemplate':{"
        "'metadata':{'creationTimestamp':null},'spec':{'accessModes':['ReadWriteOnce'],"
        "'resources':{},'volumeMode':'Filesystem'}}}}],"
        "'containers':[{'name':'c','image':'x:latest','resources':{}," CONTAINER_TAIL
        "'imagePullPolicy':'Always'}]," TEMPLATE_SPEC_TAIL ",'enableServiceLinks':true},"
        "'status':{}}");
}

static void test_image_pull_policy(void **state)
{
    static const struct {
        const char *image, *policy;
    } cases[] = {
        {"nginx", "Always"},
        {"nginx:latest", "Always"},
        {"nginx:1.25", "IfNotPresent"},
        {"docker.io/library/nginx", "Always"},
        {"localhost:5000/app", "Always"},
        {"localhost:5000/app:v1", "IfNotPresent"},
        {"registry.k8s.io/pause:3.10", "IfNotPresent"},
        {"app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         "IfNotPresent"},
        {"app:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         "Always"},
        {"", "IfNotPresent"},      /* does not parse */
        {"Nginx", "IfNotPresent"}, /* upper case repository: does not parse */
        {"a/b:", "IfNotPresent"},  /* empty tag */
        {"app@sha256:12", "IfNotPresent"},
        {"Registry.Example.com/app", "Always"}, /* upper case is fine in the domain */
        {"my_app/x__y/z-w", "Always"},
        {"a//b", "IfNotPresent"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = api_defaults_image_pull_policy(cases[i].image);
        if (strcmp(got, cases[i].policy) != 0)
            fail_msg("%s: got %s, want %s", cases[i].image, got, cases[i].policy);
    }
    assert_string_equal(api_defaults_image_pull_policy(NULL), "IfNotPresent");
}

static void test_workloads(void **state)
{
    /* ReplicaSet */
    expect_contains("{'kind':'ReplicaSet','apiVersion':'apps/v1','spec':{'template':{'spec':{"
                    "'containers':[{'name':'c','image':'i:1'}]}}}}",
                    "'spec':{'replicas':1,'template':{'metadata':{'creationTimestamp':null},"
                    "'spec':{'containers':[{'name':'c','image':'i:1','resources':{},");
    /* StatefulSet with a claim template */
    expect_defaulted(
        "{'kind':'StatefulSet','apiVersion':'apps/v1','metadata':{'name':'db'},'spec':{"
        "'selector':{'matchLabels':{'app':'db'}},'template':{'metadata':{'labels':{"
        "'app':'db'}},'spec':{'containers':[{'name':'db','image':'postgres:16'}]}},"
        "'volumeClaimTemplates':[{'metadata':{'name':'data'},'spec':{'accessModes':"
        "['ReadWriteOnce'],'resources':{'requests':{'storage':'1Gi'}}}}],'serviceName':'db'}}",
        "{'kind':'StatefulSet','apiVersion':'apps/v1','metadata':{'name':'db',"
        "'creationTimestamp':null},'spec':{'replicas':1,'selector':{'matchLabels':{"
        "'app':'db'}},'template':{'metadata':{'creationTimestamp':null,'labels':{'app':'db'}},"
        "'spec':{'containers':[{'name':'db','image':'postgres:16','resources':{}," CONTAINER_TAIL
        "'imagePullPolicy':'IfNotPresent'}]," TEMPLATE_SPEC_TAIL "}},'volumeClaimTemplates':[{"
        "'metadata':{'name':'data','creationTimestamp':null},'spec':{'accessModes':"
        "['ReadWriteOnce'],'resources':{'requests':{'storage':'1Gi'}},"
        "'volumeMode':'Filesystem'},'status':{'phase':'Pending'}}],'serviceName':'db',"
        "'podManagementPolicy':'OrderedReady','updateStrategy':{'type':'RollingUpdate',"
        "'rollingUpdate':{'partition':0}},'revisionHistoryLimit':10,"
        "'persistentVolumeClaimRetentionPolicy':{'whenDeleted':'Retain',"
        "'whenScaled':'Retain'}},'status':{'replicas':0,'availableReplicas':0}}");
    /* OnDelete keeps no rollingUpdate */
    expect_contains("{'kind':'StatefulSet','apiVersion':'apps/v1','spec':{'updateStrategy':{"
                    "'type':'OnDelete'}}}",
                    "'updateStrategy':{'type':'OnDelete'},");
    /* DaemonSet */
    expect_contains("{'kind':'DaemonSet','apiVersion':'apps/v1','spec':{'template':{'spec':{"
                    "'containers':[{'name':'c','image':'i:1'}]}}}}",
                    TEMPLATE_SPEC_TAIL "}},'updateStrategy':{'type':'RollingUpdate',"
                                       "'rollingUpdate':{'maxUnavailable':1,'maxSurge':0}},"
                                       "'revisionHistoryLimit':10}");
    /* ReplicationController: selector and labels from the template */
    expect_defaulted("{'kind':'ReplicationController','apiVersion':'v1','metadata':{'name':'rc'},"
                     "'spec':{'template':{'metadata':{'labels':{'app':'x'}},'spec':{"
                     "'containers':[{'name':'c','image':'i:1'}]}}}}",
                     "{'kind':'ReplicationController','apiVersion':'v1','metadata':{'name':'rc',"
                     "'creationTimestamp':null,'labels':{'app':'x'}},'spec':{'replicas':1,"
                     "'selector':{'app':'x'},'template':{'metadata':{'creationTimestamp':null,"
                     "'labels':{'app':'x'}},'spec':{'containers':[{'name':'c','image':'i:1','"
                     "resources':{}," CONTAINER_TAIL
                     "'imagePullPolicy':'IfNotPresent'}]," TEMPLATE_SPEC_TAIL "}}},"
                     "'status':{'replicas':0}}");
}

static void test_jobs(void **state)
{
    /* kubectl create job j1 --image=busybox: labels are not copied from an unlabelled
     * template */
    expect_defaulted(
        "{'kind':'Job','apiVersion':'batch/v1','metadata':{'name':'j1','creationTimestamp':null},"
        "'spec':{'template':{'metadata':{'creationTimestamp':null},'spec':{'containers':[{"
        "'name':'j1','image':'busybox','resources':{}}],'restartPolicy':'Never'}}},'status':{}}",
        "{'kind':'Job','apiVersion':'batch/v1','metadata':{'name':'j1','creationTimestamp':null},"
        "'spec':{'parallelism':1,'completions':1,'backoffLimit':6,'template':{'metadata':{"
        "'creationTimestamp':null},'spec':{'containers':[{'name':'j1','image':'busybox',"
        "'resources':{}," CONTAINER_TAIL "'imagePullPolicy':'Always'}],'restartPolicy':'Never',"
        "'terminationGracePeriodSeconds':30,'dnsPolicy':'ClusterFirst','securityContext':{},"
        "'schedulerName':'default-scheduler'}},'completionMode':'NonIndexed','suspend':false,"
        "'podReplacementPolicy':'TerminatingOrFailed'},'status':{}}");
    /* completions set: parallelism 1 but completions stays; labels from the template; pod
     * failure policy changes the replacement policy and defaults condition status */
    expect_contains("{'kind':'Job','apiVersion':'batch/v1','metadata':{'name':'j'},'spec':{"
                    "'completions':5,'template':{'metadata':{'labels':{'a':'b'}}},"
                    "'podFailurePolicy':{'rules':[{'action':'Ignore','onPodConditions':[{"
                    "'type':'DisruptionTarget'}]}]}}}",
                    "'labels':{'a':'b'}},'spec':{'parallelism':1,'completions':5,"
                    "'podFailurePolicy':{'rules':[{'action':'Ignore','onPodConditions':[{"
                    "'type':'DisruptionTarget','status':'True'}]}]},'backoffLimit':6,");
    expect_contains("{'kind':'Job','apiVersion':'batch/v1','spec':{'podFailurePolicy':{}}}",
                    "'podReplacementPolicy':'Failed'}");
    expect_contains("{'kind':'Job','apiVersion':'batch/v1','spec':{'backoffLimitPerIndex':1,"
                    "'completionMode':'Indexed','completions':3}}",
                    "'backoffLimit':2147483647,'backoffLimitPerIndex':1,");
    /* kubectl create cronjob cj --image=busybox --schedule='*\/1 * * * *' */
    expect_defaulted(
        "{'kind':'CronJob','apiVersion':'batch/v1','metadata':{'name':'cj',"
        "'creationTimestamp':null},'spec':{'schedule':'*/1 * * * *','jobTemplate':{"
        "'metadata':{'name':'cj','creationTimestamp':null},'spec':{'template':{'metadata':{"
        "'creationTimestamp':null},'spec':{'containers':[{'name':'cj','image':'busybox',"
        "'resources':{}}],'restartPolicy':'OnFailure'}}}}},'status':{}}",
        "{'kind':'CronJob','apiVersion':'batch/v1','metadata':{'name':'cj',"
        "'creationTimestamp':null},'spec':{'schedule':'*/1 * * * *','concurrencyPolicy':"
        "'Allow','suspend':false,'jobTemplate':{'metadata':{'name':'cj',"
        "'creationTimestamp':null},'spec':{'template':{'metadata':{'creationTimestamp':null},"
        "'spec':{'containers':[{'name':'cj','image':'busybox','resources':{}," CONTAINER_TAIL
        "'imagePullPolicy':'Always'}],'restartPolicy':'OnFailure',"
        "'terminationGracePeriodSeconds':30,'dnsPolicy':'ClusterFirst','securityContext':{},"
        "'schedulerName':'default-scheduler'}}}},'successfulJobsHistoryLimit':3,"
        "'failedJobsHistoryLimit':1},'status':{}}");
}

static void test_service(void **state)
{
    /* kubectl create service nodeport web --tcp=80:8080 */
    expect_defaulted(
        "{'kind':'Service','apiVersion':'v1','metadata':{'name':'web','creationTimestamp':null,"
        "'labels':{'app':'web'}},'spec':{'ports':[{'name':'80-8080','protocol':'TCP','port':80,"
        "'targetPort':8080}],'selector':{'app':'web'},'type':'NodePort'},'status':{"
        "'loadBalancer':{}}}",
        "{'kind':'Service','apiVersion':'v1','metadata':{'name':'web','creationTimestamp':null,"
        "'labels':{'app':'web'}},'spec':{'ports':[{'name':'80-8080','protocol':'TCP','port':80,"
        "'targetPort':8080}],'selector':{'app':'web'},'type':'NodePort','sessionAffinity':"
        "'None','externalTrafficPolicy':'Cluster','ipFamilies':['IPv4'],'ipFamilyPolicy':"
        "'SingleStack','internalTrafficPolicy':'Cluster'},'status':{'loadBalancer':{}}}");
    /* no type, targetPort from port, headless without selector */
    expect_defaulted(
        "{'kind':'Service','apiVersion':'v1','metadata':{'name':'h'},'spec':{'ports':[{"
        "'port':53,'protocol':'UDP'},{'port':80,'targetPort':0}],'clusterIP':'None'}}",
        "{'kind':'Service','apiVersion':'v1','metadata':{'name':'h','creationTimestamp':null},"
        "'spec':{'ports':[{'protocol':'UDP','port':53,'targetPort':53},{'protocol':'TCP',"
        "'port':80,'targetPort':80}],'clusterIP':'None','type':'ClusterIP','sessionAffinity':"
        "'None','ipFamilies':['IPv4'],'ipFamilyPolicy':'RequireDualStack',"
        "'internalTrafficPolicy':'Cluster'},'status':{'loadBalancer':{}}}");
    /* LoadBalancer with ClientIP affinity and an ingress IP */
    expect_defaulted(
        "{'kind':'Service','apiVersion':'v1','metadata':{'name':'lb'},'spec':{'ports':[{"
        "'port':443,'targetPort':'https'}],'type':'LoadBalancer','sessionAffinity':'ClientIP'},"
        "'status':{'loadBalancer':{'ingress':[{'ip':'192.0.2.1'},{'hostname':'x.example'}]}}}",
        "{'kind':'Service','apiVersion':'v1','metadata':{'name':'lb','creationTimestamp':null},"
        "'spec':{'ports':[{'protocol':'TCP','port':443,'targetPort':'https'}],'type':"
        "'LoadBalancer','sessionAffinity':'ClientIP','externalTrafficPolicy':'Cluster',"
        "'sessionAffinityConfig':{'clientIP':{'timeoutSeconds':10800}},'ipFamilies':['IPv4'],"
        "'ipFamilyPolicy':'SingleStack','allocateLoadBalancerNodePorts':true,"
        "'internalTrafficPolicy':'Cluster'},'status':{'loadBalancer':{'ingress':[{"
        "'ip':'192.0.2.1','ipMode':'VIP'},{'hostname':'x.example'}]}}}");
    /* ExternalName: no IP families, no internal traffic policy; None affinity drops config */
    expect_defaulted(
        "{'kind':'Service','apiVersion':'v1','metadata':{'name':'e'},'spec':{'type':"
        "'ExternalName','externalName':'db.example.com','sessionAffinityConfig':{'clientIP':{"
        "'timeoutSeconds':5}}}}",
        "{'kind':'Service','apiVersion':'v1','metadata':{'name':'e','creationTimestamp':null},"
        "'spec':{'type':'ExternalName','sessionAffinity':'None','externalName':"
        "'db.example.com'},'status':{'loadBalancer':{}}}");
}

static void test_core_kinds(void **state)
{
    /* kubectl create namespace dev, on create */
    expect_defaulted_ex(
        "{'kind':'Namespace','apiVersion':'v1','metadata':{'name':'dev','creationTimestamp':"
        "null},'spec':{},'status':{}}",
        "{'kind':'Namespace','apiVersion':'v1','metadata':{'name':'dev','creationTimestamp':"
        "null,'labels':{'kubernetes.io/metadata.name':'dev'}},'spec':{'finalizers':["
        "'kubernetes']},'status':{'phase':'Active'}}",
        true);
    /* on update the finalizer is not forced back, the name label is */
    expect_defaulted(
        "{'kind':'Namespace','apiVersion':'v1','metadata':{'name':'dev','labels':{"
        "'kubernetes.io/metadata.name':'other','team':'a'}},'status':{'phase':'Terminating'}}",
        "{'kind':'Namespace','apiVersion':'v1','metadata':{'name':'dev','creationTimestamp':"
        "null,'labels':{'kubernetes.io/metadata.name':'dev','team':'a'}},'spec':{},"
        "'status':{'phase':'Terminating'}}");
    /* kubectl create secret generic s1 --from-literal=a=b */
    expect_defaulted("{'kind':'Secret','apiVersion':'v1','metadata':{'name':'s1',"
                     "'creationTimestamp':null},'data':{'a':'Yg=='}}",
                     "{'kind':'Secret','apiVersion':'v1','metadata':{'name':'s1',"
                     "'creationTimestamp':null},'data':{'a':'Yg=='},'type':'Opaque'}");
    expect_contains("{'kind':'Secret','apiVersion':'v1','type':'kubernetes.io/tls'}",
                    "'type':'kubernetes.io/tls'");
    /* PVC */
    expect_defaulted("{'kind':'PersistentVolumeClaim','apiVersion':'v1','metadata':{'name':'c'},"
                     "'spec':{'accessModes':['ReadWriteOnce'],'resources':{'requests':{"
                     "'storage':'1Gi'}}}}",
                     "{'kind':'PersistentVolumeClaim','apiVersion':'v1','metadata':{'name':'c',"
                     "'creationTimestamp':null},'spec':{'accessModes':['ReadWriteOnce'],"
                     "'resources':{'requests':{'storage':'1Gi'}},'volumeMode':'Filesystem'},"
                     "'status':{'phase':'Pending'}}");
    /* PV */
    expect_contains("{'kind':'PersistentVolume','apiVersion':'v1','spec':{'hostPath':{"
                    "'path':'/d'}}}",
                    "'hostPath':{'path':'/d','type':''},'persistentVolumeReclaimPolicy':"
                    "'Retain','volumeMode':'Filesystem'},'status':{'phase':'Pending'}}");
    /* Node: allocatable from capacity */
    expect_contains("{'kind':'Node','apiVersion':'v1','status':{'capacity':{'cpu':'2',"
                    "'pods':'110'}}}",
                    "'status':{'capacity':{'cpu':'2','pods':'110'},'allocatable':{'cpu':'2',"
                    "'pods':'110'},'daemonEndpoints':{'kubeletEndpoint':{'Port':0}},");
    /* LimitRange container defaults */
    expect_contains("{'kind':'LimitRange','apiVersion':'v1','spec':{'limits':[{'type':"
                    "'Container','max':{'cpu':'2'},'min':{'memory':'1Mi'}}]}}",
                    "'limits':[{'type':'Container','max':{'cpu':'2'},'min':{'memory':'1Mi'},"
                    "'default':{'cpu':'2'},'defaultRequest':{'cpu':'2','memory':'1Mi'}}]");
    /* Endpoints */
    expect_contains("{'kind':'Endpoints','apiVersion':'v1','subsets':[{'ports':[{'port':80}]}]}",
                    "'ports':[{'port':80,'protocol':'TCP'}]");
    /* PodTemplate */
    expect_contains("{'kind':'PodTemplate','apiVersion':'v1','template':{'spec':{'containers':"
                    "[{'name':'c','image':'i'}]}}}",
                    "'imagePullPolicy':'Always'}]," TEMPLATE_SPEC_TAIL "}}}");
    /* ConfigMap: nothing */
    expect_defaulted("{'kind':'ConfigMap','apiVersion':'v1','metadata':{'name':'c'}}",
                     "{'kind':'ConfigMap','apiVersion':'v1','metadata':{'name':'c',"
                     "'creationTimestamp':null}}");
}

static void test_other_groups(void **state)
{
    /* kubectl autoscale deployment web --max=5 (autoscaling/v2) */
    expect_defaulted(
        "{'kind':'HorizontalPodAutoscaler','apiVersion':'autoscaling/v2','metadata':{'name':"
        "'web'},'spec':{'scaleTargetRef':{'kind':'Deployment','name':'web','apiVersion':"
        "'apps/v1'},'maxReplicas':5}}",
        "{'kind':'HorizontalPodAutoscaler','apiVersion':'autoscaling/v2','metadata':{'name':"
        "'web','creationTimestamp':null},'spec':{'scaleTargetRef':{'kind':'Deployment','name':"
        "'web','apiVersion':'apps/v1'},'minReplicas':1,'maxReplicas':5,'metrics':[{'type':"
        "'Resource','resource':{'name':'cpu','target':{'type':'Utilization',"
        "'averageUtilization':80}}}]},'status':{'desiredReplicas':0,'currentMetrics':null}}");
    expect_contains("{'kind':'HorizontalPodAutoscaler','apiVersion':'autoscaling/v2','spec':{"
                    "'metrics':[{'type':'Pods'}],'behavior':{'scaleDown':{"
                    "'stabilizationWindowSeconds':60}}}}",
                    "'metrics':[{'type':'Pods'}],'behavior':{'scaleUp':{"
                    "'stabilizationWindowSeconds':0,'selectPolicy':'Max','policies':[{'type':"
                    "'Pods','value':4,'periodSeconds':15},{'type':'Percent','value':100,"
                    "'periodSeconds':15}]},'scaleDown':{'stabilizationWindowSeconds':60,"
                    "'selectPolicy':'Max','policies':[{'type':'Percent','value':100,"
                    "'periodSeconds':15}]}}}");
    expect_contains(
        "{'kind':'HorizontalPodAutoscaler','apiVersion':'autoscaling/v1','spec':{"
        "'maxReplicas':3}}",
        "'spec':{'scaleTargetRef':{'kind':'','name':''},'minReplicas':1,'maxReplicas':3}");
    expect_contains("{'kind':'NetworkPolicy','apiVersion':'networking.k8s.io/v1','spec':{"
                    "'podSelector':{},'egress':[{'ports':[{'port':53}]}]}}",
                    "'egress':[{'ports':[{'protocol':'TCP','port':53}]}],'policyTypes':["
                    "'Ingress','Egress']}");
    expect_contains("{'kind':'RoleBinding','apiVersion':'rbac.authorization.k8s.io/v1',"
                    "'subjects':[{'kind':'User','name':'u'},{'kind':'ServiceAccount','name':"
                    "'sa'}],'roleRef':{'kind':'Role','name':'r'}}",
                    "'subjects':[{'kind':'User','apiGroup':'rbac.authorization.k8s.io','name':"
                    "'u'},{'kind':'ServiceAccount','name':'sa'}],'roleRef':{'apiGroup':"
                    "'rbac.authorization.k8s.io','kind':'Role','name':'r'}}");
    expect_contains("{'kind':'EndpointSlice','apiVersion':'discovery.k8s.io/v1',"
                    "'addressType':'IPv4','ports':[{'port':80}]}",
                    "'ports':[{'name':'','protocol':'TCP','port':80}]");
    expect_contains("{'kind':'StorageClass','apiVersion':'storage.k8s.io/v1','provisioner':"
                    "'p'}",
                    "'provisioner':'p','reclaimPolicy':'Delete','volumeBindingMode':"
                    "'Immediate'}");
    expect_contains("{'kind':'PriorityClass','apiVersion':'scheduling.k8s.io/v1','value':5}",
                    "'value':5,'preemptionPolicy':'PreemptLowerPriority'}");
    /* PodDisruptionBudget: nothing */
    expect_defaulted("{'kind':'PodDisruptionBudget','apiVersion':'policy/v1','spec':{"
                     "'minAvailable':1}}",
                     "{'kind':'PodDisruptionBudget','apiVersion':'policy/v1','metadata':{"
                     "'creationTimestamp':null},'spec':{'minAvailable':1},'status':{"
                     "'disruptionsAllowed':0,'currentHealthy':0,'desiredHealthy':0,"
                     "'expectedPods':0}}");
}

static void test_wrong_resource_is_ignored(void **state)
{
    ProtobufCMessage *m = decode("{'kind':'Secret','apiVersion':'v1'}");
    char *out;

    /* a resource entry of another type: the object is left alone */
    api_defaults_apply(api_resource_by_kind("apps/v1", "Deployment"), m);
    out = encode(m);
    assert_string_equal(
        out,
        "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"creationTimestamp\":null}}");
    k8c_free(out);
    /* NULL resource: dispatch by the descriptor */
    api_defaults_apply(NULL, m);
    out = encode(m);
    assert_string_equal(out, "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{"
                             "\"creationTimestamp\":null},\"type\":\"Opaque\"}");
    k8c_free(out);
    protobuf_c_message_free_unpacked(m, NULL);
    api_defaults_apply(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deployment),   cmocka_unit_test(test_pod),
        cmocka_unit_test(test_volumes),      cmocka_unit_test(test_image_pull_policy),
        cmocka_unit_test(test_workloads),    cmocka_unit_test(test_jobs),
        cmocka_unit_test(test_service),      cmocka_unit_test(test_core_kinds),
        cmocka_unit_test(test_other_groups), cmocka_unit_test(test_wrong_resource_is_ignored),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
