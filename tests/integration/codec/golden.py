#!/usr/bin/env python3
"""Golden round trips of `k8c convert` against the real kubectl, offline.

kubectl produces typed objects without a server through `create ... --dry-run=client` and
`set env --local -f`. For each object we check:
  * kubectl JSON -> k8c (json) -> JSON equals kubectl's JSON exactly (after json.loads);
  * kubectl JSON -> k8c protobuf -> k8c JSON equals it too;
  * kubectl YAML -> k8c -> JSON equals kubectl's JSON; k8c JSON -> YAML equals kubectl's YAML
    text byte for byte (key order, quoting, indentation);
and for the checked-in manifests (manifests/*.yaml, converted by kubectl `set env --local`
with one marker variable that is removed again): YAML -> k8c -> JSON equals kubectl's typed
JSON, except that kubectl also prints Go zero values of fields the input never set (`status: {}`,
`replicas: 0` of a non-pointer status); those may be absent from ours but must be zero.

usage: golden.py <k8c binary> <source dir of this test>
"""
import json
import os
import subprocess
import sys
import tempfile

import yaml

K8C, HERE = sys.argv[1], sys.argv[2]
KUBECTL = "/usr/bin/kubectl"
# kubectl never needs the server for these commands; point it at a dead address anyway so a
# mistake fails fast instead of talking to anything.
KENV = dict(os.environ, KUBECONFIG="/dev/null")
KFLAGS = ["--server=http://127.0.0.1:1"]
failures = []


def run(cmd, data=None):
    p = subprocess.run(cmd, input=data, capture_output=True, env=KENV, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                     p.stderr.decode()[:500]))
    return p.stdout


def k8c(frm, to, data):
    return run([K8C, "convert", "--from", frm, "--to", to], data)


def check(name, ok, detail=""):
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail and not ok else ""))
    if not ok:
        failures.append(name)


def is_zero(v):
    if isinstance(v, dict):
        return all(is_zero(x) for x in v.values())
    if isinstance(v, list):
        return len(v) == 0
    return v in (None, 0, "", False)


def diff_zero_ok(theirs, ours, path=""):
    """Differences between kubectl's and our JSON, ignoring keys absent from ours whose
    kubectl value is a Go zero value."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        out = []
        for k in theirs:
            p = path + "." + k
            if k not in ours:
                if not is_zero(theirs[k]):
                    out.append("%s missing (kubectl: %r)" % (p, theirs[k]))
            else:
                out += diff_zero_ok(theirs[k], ours[k], p)
        out += ["%s.%s unexpected" % (path, k) for k in ours if k not in theirs]
        return out
    if isinstance(theirs, list) and isinstance(ours, list) and len(theirs) == len(ours):
        out = []
        for i, (a, b) in enumerate(zip(theirs, ours)):
            out += diff_zero_ok(a, b, "%s[%d]" % (path, i))
        return out
    return [] if theirs == ours else ["%s: kubectl %r, k8c %r" % (path, theirs, ours)]


CREATES = [
    ["deployment", "web", "--image=nginx:1.27", "--replicas=3", "--port=80"],
    ["service", "clusterip", "api", "--tcp=80:8080", "--tcp=443:8443"],
    ["service", "nodeport", "np", "--tcp=80:8080", "--node-port=30001"],
    ["configmap", "cfg", "--from-literal=a=1", "--from-literal=b=yes",
     "--from-literal=text=line1\nline2\n", "--from-literal=empty="],
    ["secret", "generic", "creds", "--from-literal=password=s3cr3t", "--from-literal=k=\u00e9<&>"],
    ["job", "once", "--image=busybox"],
    ["cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *"],
    ["namespace", "team-a"],
    ["priorityclass", "high", "--value=1000", "--description=important pods"],
    ["poddisruptionbudget", "pdb", "--selector=app=web", "--min-available=50%"],
    ["serviceaccount", "robot"],
    ["quota", "q", "--hard=cpu=1.5,memory=1Gi,pods=10"],
    ["ingress", "ing", "--rule=a.example.com/=web:80", "--rule=b.example.com/api*=api:http",
     "--default-backend=web:80"],
    # a Go slice without omitempty prints as null: "rules": null
    ["clusterrole", "agg", "--aggregation-rule=rbac.example.com/aggregate-to-view=true"],
]


def golden_creates():
    for args in CREATES:
        name = "create " + " ".join(args[:2])
        kjson = run([KUBECTL, "create"] + args + ["--dry-run=client", "-o", "json"] + KFLAGS)
        kyaml = run([KUBECTL, "create"] + args + ["--dry-run=client", "-o", "yaml"] + KFLAGS)
        expected = json.loads(kjson)
        ours = k8c("json", "json", kjson)
        check(name + " json->json", json.loads(ours) == expected, ours.decode()[:300])
        check(name + " json text identical", ours == kjson)
        pb = k8c("json", "protobuf", kjson)
        check(name + " envelope magic", pb[:4] == b"k8s\x00")
        back = k8c("protobuf", "json", pb)
        check(name + " json->protobuf->json", json.loads(back) == expected)
        y2j = k8c("yaml", "json", kyaml)
        check(name + " yaml->json", json.loads(y2j) == expected)
        j2y = k8c("json", "yaml", kjson)
        check(name + " json->yaml text identical", j2y == kyaml,
              "\n" + j2y.decode()[:400] + "\nvs\n" + kyaml.decode()[:400])


def strip_marker(obj):
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    for key in ("containers", "initContainers"):
        for c in spec.get(key, []):
            c["env"] = [e for e in c.get("env", []) if e.get("name") != "K8C_MARKER"]
            if not c["env"]:
                del c["env"]
    return obj


def golden_manifests():
    mdir = os.path.join(HERE, "manifests")
    with tempfile.TemporaryDirectory(prefix="k8c-codec-") as tmp:
        for fn in sorted(os.listdir(mdir)):
            if not fn.endswith(".yaml"):
                continue
            text = open(os.path.join(mdir, fn), "rb").read()
            docs = [d for d in yaml.safe_load_all(text) if d]
            # all documents at once: a v1 List of every object
            ours_all = json.loads(k8c("yaml", "json", text))
            items = ours_all["items"] if len(docs) > 1 else [ours_all]
            check(fn + " document count", len(items) == len(docs))
            for i, (doc, ours) in enumerate(zip(docs, items)):
                name = "%s[%d] %s" % (fn, i, doc["kind"])
                if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
                    path = os.path.join(tmp, "doc%d.yaml" % i)
                    with open(path, "w") as f:
                        yaml.safe_dump(doc, f)
                    theirs = strip_marker(json.loads(run(
                        [KUBECTL, "set", "env", "--local", "-f", path, "K8C_MARKER=1",
                         "-o", "json"] + KFLAGS)))
                elif doc["kind"] == "Service":
                    path = os.path.join(tmp, "doc%d.yaml" % i)
                    with open(path, "w") as f:
                        yaml.safe_dump(doc, f)
                    sel = ",".join("%s=%s" % kv for kv in doc["spec"]["selector"].items())
                    theirs = json.loads(run([KUBECTL, "set", "selector", "--local", "-f", path,
                                             sel, "-o", "json"] + KFLAGS))
                else:
                    theirs = None
                if theirs is not None:
                    d = diff_zero_ok(theirs, ours)
                    check(name + " yaml->json vs kubectl typed JSON", not d, "; ".join(d[:5]))
                one = json.dumps(ours).encode()
                check(name + " json->json", json.loads(k8c("json", "json", one)) == ours)
                pb = k8c("json", "protobuf", one)
                check(name + " json->protobuf->json",
                      json.loads(k8c("protobuf", "json", pb)) == ours)
                y = k8c("json", "yaml", one)
                check(name + " json->yaml->json", json.loads(k8c("yaml", "json", y)) == ours)


def special_cases():
    # canonical quantities and special types as upstream prints them
    dep = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "resources": {
               "requests": {"cpu": "1.5", "memory": "0.5Gi"}, "limits": {"cpu": 2}}}]}}
    out = json.loads(k8c("json", "json", json.dumps(dep).encode()))
    res = out["spec"]["containers"][0]["resources"]
    check("quantity canonical", res == {"requests": {"cpu": "1500m", "memory": "512Mi"},
                                        "limits": {"cpu": "2"}}, repr(res))
    # unknown and duplicate fields: warnings with paths; --strict fails
    bad = b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"},' \
          b'"spec":{"foo":1,"containers":[{"name":"c","bar":2}]}}'
    p = subprocess.run([K8C, "convert", "--from", "json", "--to", "json"], input=bad,
                       capture_output=True)
    err = p.stderr.decode()
    check("unknown/duplicate are warnings", p.returncode == 0 and
          'unknown field "spec.foo"' in err and
          'unknown field "spec.containers[0].bar"' in err and
          'duplicate field "metadata.name"' in err, err)
    check("duplicate keeps last", json.loads(p.stdout)["metadata"]["name"] == "b")
    p = subprocess.run([K8C, "convert", "--from", "json", "--to", "json", "--strict"], input=bad,
                       capture_output=True)
    check("--strict fails", p.returncode == 1)
    p = subprocess.run([K8C, "convert", "--from", "json", "--to", "json"],
                       input=b'{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":"3"}}',
                       capture_output=True)
    check("type error with path", p.returncode == 1 and
          "spec.replicas: expected integer, got string" in p.stderr.decode(), p.stderr.decode())


golden_creates()
golden_manifests()
special_cases()

print("golden: %d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
