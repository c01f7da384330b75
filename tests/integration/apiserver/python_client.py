"""The Python kubernetes client (urllib3: HTTP/1.1 over TLS, JSON) against
k8c-apiserver: typed CRUD, list with selectors, patch (strategic merge from a
dict, JSON patch from a list), watch, status errors, and the dynamic client's
discovery."""
import json
import os
import sys
import threading
import time

from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

server, pki = sys.argv[1], sys.argv[2]
cfg = client.Configuration()
cfg.host = server
cfg.ssl_ca_cert = pki + "/ca.crt"
cfg.cert_file = pki + "/client.crt"
cfg.key_file = pki + "/client.key"
api = client.ApiClient(cfg)
core = client.CoreV1Api(api)
apps = client.AppsV1Api(api)


def check(name, cond, detail=""):
    if not cond:
        raise SystemExit("FAIL: %s %s" % (name, detail))
    print("ok:", name)


ns = core.list_namespace()
check("list namespaces", sorted(n.metadata.name for n in ns.items) ==
      ["default", "kube-node-lease", "kube-public", "kube-system"])

cm = core.create_namespaced_config_map("default", client.V1ConfigMap(
    metadata=client.V1ObjectMeta(name="py", labels={"from": "python"}), data={"a": "1"}))
check("create configmap", cm.metadata.uid and cm.metadata.resource_version)
got = core.read_namespaced_config_map("py", "default")
check("read configmap", got.data == {"a": "1"} and got.metadata.creation_timestamp is not None)

try:
    core.read_namespaced_config_map("missing", "default")
    check("404", False)
except ApiException as e:
    check("404 NotFound", e.status == 404 and '"reason":"NotFound"' in e.body.replace(" ", ""), e.body)

dep = apps.create_namespaced_deployment("default", {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "pyweb", "labels": {"app": "pyweb"}},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "pyweb"}},
             "template": {"metadata": {"labels": {"app": "pyweb"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
check("create deployment", dep.spec.strategy.type == "RollingUpdate", dep.spec.strategy)
# a dict body is a strategic merge patch: containers merge by name
p = apps.patch_namespaced_deployment("pyweb", "default", {
    "spec": {"template": {"spec": {"containers": [{"name": "side", "image": "busybox"}]}}}})
check("strategic merge patch", [c.name for c in p.spec.template.spec.containers] == ["side", "web"] or
      sorted(c.name for c in p.spec.template.spec.containers) == ["side", "web"],
      [c.name for c in p.spec.template.spec.containers])
check("generation bumped", p.metadata.generation == 2, p.metadata.generation)
# a list body is a JSON patch
p = apps.patch_namespaced_deployment("pyweb", "default",
                                     [{"op": "replace", "path": "/spec/replicas", "value": 3}])
check("json patch", p.spec.replicas == 3)
s = apps.read_namespaced_deployment_scale("pyweb", "default")
check("scale subresource", s.spec.replicas == 3 and s.status.selector == "app=pyweb", s)

sel = core.list_namespaced_config_map("default", label_selector="from=python")
check("label selector", [c.metadata.name for c in sel.items] == ["py"])

events = []


def watcher(rv):
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, "default", resource_version=rv,
                       timeout_seconds=5):
        events.append((ev["type"], ev["object"].metadata.name))
        if len(events) >= 3:
            w.stop()


rv = core.list_namespaced_config_map("default").metadata.resource_version
t = threading.Thread(target=watcher, args=(rv,))
t.start()
time.sleep(0.5)
core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w")))
core.patch_namespaced_config_map("w", "default", {"data": {"k": "v"}})
core.delete_namespaced_config_map("w", "default")
t.join(10)
check("watch", events == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")], events)

try:
    core.replace_namespaced_config_map("py", "default", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="py", resource_version="1"), data={}))
    check("409", False)
except ApiException as e:
    check("409 Conflict", e.status == 409, e.status)

# its discovery cache beside the PKI, in the test's folder (by default: /tmp/osrcp-*.json)
dyn = DynamicClient(api, cache_file=os.path.join(os.path.dirname(pki), "discovery.json"))
deploys = dyn.resources.get(api_version="apps/v1", kind="Deployment")
check("dynamic client discovery", deploys.get(namespace="default").items[0].metadata.name == "pyweb")

apps.delete_namespaced_deployment("pyweb", "default")
core.delete_namespaced_config_map("py", "default")
check("deleted", not core.list_namespaced_config_map("default", label_selector="from=python").items)

# pods/eviction honours PodDisruptionBudgets, as upstream's eviction REST
policy = client.PolicyV1Api(api)


def running_pod(name, ready):
    core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod",
                                           "metadata": {"name": name, "labels": {"app": "ev"}},
                                           "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    core.patch_namespaced_pod_status(name, "default", {"status": {
        "phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}})


def evict(name, **kw):
    """(status, cause message, Retry-After) of an eviction; 201 when it went through."""
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    try:
        core.create_namespaced_pod_eviction(name, "default", body, **kw)
        return 201, "", None
    except ApiException as e:
        st = json.loads(e.body)
        causes = st.get("details", {}).get("causes", [{}])
        check("eviction refusal wording", st.get("message") ==
              "Cannot evict pod as it would violate the pod's disruption budget." and
              causes[0].get("reason") == "DisruptionBudget", st)
        return e.status, causes[0].get("message"), e.headers.get("Retry-After")


def exists(name):
    try:
        core.read_namespaced_pod(name, "default")
        return True
    except ApiException as e:
        return e.status != 404


running_pod("ev", True)
policy.create_namespaced_pod_disruption_budget("default", {
    "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "ev-pdb"},
    "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "ev"}}}})
check("a budget the disruption controller has not seen: 429, retry after 10 s",
      evict("ev") == (429, "The disruption budget ev-pdb is still being processed by the server.", "10"))


def budget(allowed, healthy, desired):
    policy.patch_namespaced_pod_disruption_budget_status("ev-pdb", "default", {
        "status": {"observedGeneration": 1, "disruptionsAllowed": allowed, "currentHealthy": healthy,
                   "desiredHealthy": desired, "expectedPods": 2}})


budget(0, 1, 1)
check("no disruption allowed: 429",
      evict("ev") == (429, "The disruption budget ev-pdb needs 1 healthy pods and has 1 currently", None))
budget(1, 2, 1)
check("a dry-run eviction passes and changes nothing",
      evict("ev", dry_run="All")[0] == 201 and exists("ev") and
      policy.read_namespaced_pod_disruption_budget("ev-pdb", "default").status.disruptions_allowed == 1)
check("eviction", evict("ev")[0] == 201)
pdb = policy.read_namespaced_pod_disruption_budget("ev-pdb", "default")
conds = {c.type: (c.status, c.reason) for c in pdb.status.conditions or []}
check("eviction spends the budget", pdb.status.disruptions_allowed == 0 and "ev" in (pdb.status.disrupted_pods or {})
      and conds.get("DisruptionAllowed") == ("False", "InsufficientPods"), pdb.status)
check("evicted pod deleted", not exists("ev"))
# with nothing left to spend: a pending pod and an unready one while the budget is healthy go anyway
core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod",
                                       "metadata": {"name": "ev-pending", "labels": {"app": "ev"}},
                                       "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
try:
    core.create_namespaced_pod_eviction("ev-pending", "default", {
        "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "ev-pending"},
        "deleteOptions": {"preconditions": {"uid": "not-its-uid"}}})
    check("an eviction's preconditions hold", False)
except ApiException as e:
    check("an eviction's preconditions hold", e.status == 409 and "the UID in the precondition (not-its-uid)" in e.body
          and exists("ev-pending"), e.body)
check("a pending pod is evicted without the budget", evict("ev-pending")[0] == 201 and not exists("ev-pending"))
running_pod("ev-unready", False)
budget(0, 1, 1)
check("an unready pod is evicted while the budget is healthy",
      evict("ev-unready")[0] == 201 and not exists("ev-unready") and
      policy.read_namespaced_pod_disruption_budget("ev-pdb", "default").status.disruptions_allowed == 0)
policy.delete_namespaced_pod_disruption_budget("ev-pdb", "default")

# deletecollection deletes each object as DELETE would: finalizers and pods on a node are
# marked, the rest goes; the answer lists what was matched; dry run writes nothing
for name, fin in (("dc1", ["example.com/keep"]), ("dc2", None)):
    core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": {"dc": "1"},
                                                               "finalizers": fin}})
core.create_namespaced_pod("default", {"metadata": {"name": "dcpod", "labels": {"dc": "1"}},
                                       "spec": {"nodeName": "dc-node", "containers": [{"name": "c", "image": "busybox"}]}})
core.delete_collection_namespaced_config_map("default", label_selector="dc=1", dry_run="All")
check("deletecollection, dry run", len(core.list_namespaced_config_map("default", label_selector="dc=1").items) == 2)
resp = core.delete_collection_namespaced_config_map("default", label_selector="dc=1", _preload_content=False)
listed = json.loads(resp.data)
check("deletecollection answers the list", listed.get("kind") == "ConfigMapList" and
      sorted(i["metadata"]["name"] for i in listed["items"]) == ["dc1", "dc2"], listed)
left = core.list_namespaced_config_map("default", label_selector="dc=1").items
check("deletecollection: a finalizer keeps its object, marked",
      [c.metadata.name for c in left] == ["dc1"] and left[0].metadata.deletion_timestamp is not None)
core.patch_namespaced_config_map("dc1", "default", {"metadata": {"finalizers": None}})
check("deletecollection: gone with its last finalizer",
      not core.list_namespaced_config_map("default", label_selector="dc=1").items)
core.delete_collection_namespaced_pod("default", label_selector="dc=1")
pod = core.read_namespaced_pod("dcpod", "default")
check("deletecollection: a pod on a node gets its grace period",
      pod.metadata.deletion_timestamp is not None and pod.metadata.deletion_grace_period_seconds == 30)
core.delete_namespaced_pod("dcpod", "default", grace_period_seconds=0)
# deletecollection applies DeleteOptions preconditions to each object: those that hold go, the
# first that fails is the answer (409)
kept = core.create_namespaced_config_map("default", {"metadata": {"name": "pc1", "labels": {"pc": "1"}}})
gone = core.create_namespaced_config_map("default", {"metadata": {"name": "pc2", "labels": {"pc": "1"}}})
try:
    core.delete_collection_namespaced_config_map("default", label_selector="pc=1",
                                                 body={"preconditions": {"uid": gone.metadata.uid}})
    check("deletecollection preconditions", False)
except ApiException as e:
    left = [c.metadata.name for c in core.list_namespaced_config_map("default", label_selector="pc=1").items]
    check("deletecollection preconditions", e.status == 409 and "Precondition failed: UID in precondition" in e.body
          and left == ["pc1"], (e.status, e.body, left))
core.delete_namespaced_config_map("pc1", "default")

# Namespace deletion waits for spec.finalizers: the contents go and "kubernetes" with them (the
# namespace controller's part), another finalizer keeps the namespace Terminating until
# namespaces/finalize takes it out; an update cannot change them; a second DELETE is a 409
core.create_namespace({"metadata": {"name": "pyfin"}, "spec": {"finalizers": ["kubernetes", "example.com/hold"]}})
core.create_namespaced_config_map("pyfin", {"metadata": {"name": "inside"}})
core.delete_namespace("pyfin")
deadline = time.time() + 20
while time.time() < deadline:
    ns = core.read_namespace("pyfin")
    if ns.spec.finalizers == ["example.com/hold"]:
        break
    time.sleep(0.1)
check("namespace: contents gone, kept Terminating for its other finalizer",
      ns.status.phase == "Terminating" and ns.spec.finalizers == ["example.com/hold"] and
      not core.list_namespaced_config_map("pyfin").items, ns)
try:
    core.create_namespaced_config_map("pyfin", {"metadata": {"name": "late"}})
    check("namespace: nothing new while it is being terminated", False)
except ApiException as e:
    body = json.loads(e.body)
    check("namespace: nothing new while it is being terminated", e.status == 403 and
          body["message"] == 'configmaps "late" is forbidden: unable to create new content in namespace '
          'pyfin because it is being terminated' and
          body["details"]["causes"] == [{"reason": "NamespaceTerminating", "message": "namespace pyfin is "
                                         "being terminated", "field": "metadata.namespace"}], e.body)
ns.spec.finalizers = []
ns.metadata.labels["touched"] = "yes"
ns = core.replace_namespace("pyfin", ns)
check("namespace: an update keeps spec.finalizers",
      ns.spec.finalizers == ["example.com/hold"] and ns.metadata.labels.get("touched") == "yes", ns)
try:
    core.delete_namespace("pyfin")
    check("namespace: deleted again while finalizers remain", False)
except ApiException as e:
    check("namespace: deleted again while finalizers remain", e.status == 409 and
          "The system is ensuring all content is removed from this namespace." in e.body, e.body)
try:
    core.replace_namespace_finalize("pyfin", {"metadata": {"name": "pyfin", "resourceVersion": ns.metadata.resource_version},
                                              "spec": {"finalizers": ["bad"]}})
    check("namespaces/finalize validates finalizer names", False)
except ApiException as e:
    check("namespaces/finalize validates finalizer names", e.status == 422 and
          "name is neither a standard finalizer name nor is it fully qualified" in e.body, e.body)
ns.spec.finalizers = []
core.replace_namespace_finalize("pyfin", ns)
try:
    core.read_namespace("pyfin")
    check("namespaces/finalize: gone with its last finalizer", False)
except ApiException as e:
    check("namespaces/finalize: gone with its last finalizer", e.status == 404, e.status)
