"""The Python kubernetes client (urllib3: HTTP/1.1 over TLS, JSON) against
k8c-apiserver: typed CRUD, list with selectors, patch (strategic merge from a
dict, JSON patch from a list), watch, status errors, and the dynamic client's
discovery."""
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

dyn = DynamicClient(api)
deploys = dyn.resources.get(api_version="apps/v1", kind="Deployment")
check("dynamic client discovery", deploys.get(namespace="default").items[0].metadata.name == "pyweb")

apps.delete_namespaced_deployment("pyweb", "default")
core.delete_namespaced_config_map("py", "default")
check("deleted", not core.list_namespaced_config_map("default", label_selector="from=python").items)

# pods/eviction honours PodDisruptionBudgets
policy = client.PolicyV1Api(api)
core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod",
                                       "metadata": {"name": "ev", "labels": {"app": "ev"}},
                                       "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
policy.create_namespaced_pod_disruption_budget("default", {
    "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "ev-pdb"},
    "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "ev"}}}})
eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "ev"}}
try:
    core.create_namespaced_pod_eviction("ev", "default", eviction)
    check("eviction blocked by the budget", False)
except ApiException as e:
    check("eviction blocked by the budget (429)", e.status == 429 and "disruption budget" in e.body, e.body)
policy.patch_namespaced_pod_disruption_budget_status("ev-pdb", "default", {
    "status": {"observedGeneration": 1, "disruptionsAllowed": 1, "currentHealthy": 2,
               "desiredHealthy": 1, "expectedPods": 2}})
core.create_namespaced_pod_eviction("ev", "default", eviction)
pdb = policy.read_namespaced_pod_disruption_budget("ev-pdb", "default")
check("eviction spends the budget", pdb.status.disruptions_allowed == 0 and "ev" in (pdb.status.disrupted_pods or {}),
      pdb.status)
try:
    core.read_namespaced_pod("ev", "default")
    check("evicted pod deleted", False)
except ApiException as e:
    check("evicted pod deleted", e.status == 404)
policy.delete_namespaced_pod_disruption_budget("ev-pdb", "default")
