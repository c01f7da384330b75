"""Bad input against k8c-apiserver: every answer is an upstream Status with
the right code, and the server keeps serving."""
import json
import socket
import ssl
import sys
import urllib.request
import urllib.error

addr, pki = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
base = "https://" + addr


def call(method, path, body=None, ctype="application/json", accept=None):
    req = urllib.request.Request(base + path, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", ctype)
    if accept is not None:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def check(name, got, code, reason=None):
    status, body = got
    ok = status == code and (reason is None or body.get("reason") == reason) and \
        (status < 400 or body.get("kind") == "Status")
    if not ok:
        raise SystemExit("FAIL: %s: %s %s" % (name, status, body))
    print("ok:", name, status, body.get("reason", ""))


def check_message(name, got, code, message, reason=None):
    check(name, got, code, reason)
    if got[1].get("message") != message or (reason is None and "reason" in got[1]):
        raise SystemExit("FAIL: %s: message %r, reason %r; want %r" %
                         (name, got[1].get("message"), got[1].get("reason"), message))


cms = "/api/v1/namespaces/default/configmaps"
check("malformed JSON", call("POST", cms, b"{not json"), 400, "BadRequest")
check("wrong JSON type", call("POST", cms, b'{"metadata":{"name":5}}'), 400, "BadRequest")
check_message("no name", call("POST", cms, b'{"metadata":{}}'), 422,
              'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
              "Invalid")
check_message("no name (a group's kind)",
              call("POST", "/apis/apps/v1/namespaces/default/deployments", b'{"metadata":{}}'), 422,
              'Deployment.apps "" is invalid: metadata.name: Required value: name or generateName is '
              'required', "Invalid")
check("unsupported media type", call("POST", cms, b"x", "text/plain"), 415, "UnsupportedMediaType")
check("body over 3 MiB", call("POST", cms, b"{" + b" " * (3 * 1024 * 1024 + 10) + b"}"), 413)
check("unknown resource", call("GET", "/api/v1/namespaces/default/bogus"), 404, "NotFound")
check("method not allowed", call("PUT", cms, b"{}"), 405, "MethodNotAllowed")
check("bad label selector", call("GET", cms + "?labelSelector=a%20in%20(b"), 400, "BadRequest")
check("bad field selector", call("GET", cms + "?fieldSelector=spec.nope%3Dx"), 400, "BadRequest")
check("bad continue", call("GET", cms + "?limit=1&continue=garbage"), 400, "BadRequest")
check("bad patch type", call("PATCH", cms + "/x", b"{}", "application/json"), 415)
check("create", call("POST", cms, b'{"metadata":{"name":"h1"}}'), 201)
check_message("json patch with an unknown op", call("PATCH", cms + "/h1", b'[{"op":"nope"}]', "application/json-patch+json"), 422,
              "the server rejected our request due to an error in our request", "Invalid")
check("json patch on missing path",
      call("PATCH", cms + "/h1", b'[{"op":"remove","path":"/data/zz"}]', "application/json-patch+json"), 422)
# Metadata only (client-go's metadata client): as=PartialObjectMetadata for get and watch,
# as=PartialObjectMetadataList for list; another verb's conversion falls through to JSON
partial = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
partial_list = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
status, body = call("GET", cms + "/h1", accept=partial)
if status != 200 or body.get("kind") != "PartialObjectMetadata" or body.get("apiVersion") != "meta.k8s.io/v1" \
        or body.get("metadata", {}).get("name") != "h1" or "data" in body:
    raise SystemExit("FAIL: partial object metadata: %s %s" % (status, body))
status, body = call("GET", cms, accept=partial_list)
items = body.get("items") or []
if status != 200 or body.get("kind") != "PartialObjectMetadataList" or not items or \
        any(i.get("kind") != "PartialObjectMetadata" or "data" in i for i in items) or \
        not body.get("metadata", {}).get("resourceVersion"):
    raise SystemExit("FAIL: partial object metadata list: %s %s" % (status, body))
status, body = call("GET", cms, accept=partial)
if status != 200 or body.get("kind") != "ConfigMapList":
    raise SystemExit("FAIL: a list asked for PartialObjectMetadata falls through: %s %s" % (status, body))
req = urllib.request.Request(base + cms + "?limit=1",
                             headers={"Accept": "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;"
                                                "g=meta.k8s.io;v=v1"})
with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
    raw = r.read()
    if r.headers.get("Content-Type") != "application/vnd.kubernetes.protobuf" or not raw.startswith(b"k8s\x00") \
            or b"PartialObjectMetadataList" not in raw[:64]:
        raise SystemExit("FAIL: protobuf partial list: %s %r" % (r.headers.get("Content-Type"), raw[:64]))
req = urllib.request.Request(base + cms + "?watch=1&timeoutSeconds=1", headers={"Accept": partial})
with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
    first = json.loads(r.readline())
    if first.get("type") != "ADDED" or first["object"].get("kind") != "PartialObjectMetadata" or \
            "data" in first["object"]:
        raise SystemExit("FAIL: partial watch: %s" % first)
print("ok: PartialObjectMetadata get, list (JSON, protobuf) and watch")
# A claim's spec is immutable but for a bound claim's storage request, which may only grow
pvcs = "/api/v1/namespaces/default/persistentvolumeclaims"
check("create a claim", call("POST", pvcs, b'{"metadata":{"name":"grow"},"spec":{"accessModes":["ReadWriteOnce"],'
                             b'"resources":{"requests":{"storage":"1Gi"}}}}'), 201)
grow = b'{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'
check_message("resize a pending claim", call("PATCH", pvcs + "/grow", grow, "application/merge-patch+json"), 422,
              'PersistentVolumeClaim "grow" is invalid: spec: Forbidden: spec is immutable after creation except '
              'resources.requests and volumeAttributesClassName for bound claims', "Invalid")
check("bind it", call("PATCH", pvcs + "/grow/status", b'{"status":{"phase":"Bound"}}', "application/merge-patch+json"),
      200)
check("resize a bound claim", call("PATCH", pvcs + "/grow", grow, "application/merge-patch+json"), 200)
check_message("shrink it", call("PATCH", pvcs + "/grow", b'{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}',
                                "application/merge-patch+json"), 422,
              'PersistentVolumeClaim "grow" is invalid: spec.resources.requests.storage: Forbidden: field can not '
              'be less than previous value', "Invalid")
check("delete the claim", call("DELETE", pvcs + "/grow"), 200)
# A service's cluster IP and IP family stay what they were: changing spec.clusterIP alone
# changes clusterIPs[0] too (upstream's normalizeClusterIPs), which validation refuses
svcs = "/api/v1/namespaces/default/services"
check("create a service", call("POST", svcs, b'{"metadata":{"name":"keepip"},"spec":{"ports":[{"port":80}]}}'), 201)
check_message("change its cluster IP", call("PATCH", svcs + "/keepip", b'{"spec":{"clusterIP":"198.19.0.99"}}',
                                            "application/strategic-merge-patch+json"), 422,
              'Service "keepip" is invalid: spec.clusterIPs[0]: Invalid value: []string{"198.19.0.99"}: '
              'may not change once set', "Invalid")
check_message("change its IP family", call("PATCH", svcs + "/keepip", b'{"spec":{"ipFamilies":["IPv6"]}}',
                                           "application/strategic-merge-patch+json"), 422,
              'Service "keepip" is invalid: spec.ipFamilies[0]: Invalid value: []core.IPFamily{"IPv6"}: '
              'may not change once set', "Invalid")
check("delete the service", call("DELETE", svcs + "/keepip"), 200)
# A type that no longer uses a value drops it (dropTypeDependentFields) and the update gives it
# back: NodePort -> ClusterIP frees the node port, a changed node port frees the old one
merge = "application/merge-patch+json"
check("a NodePort service", call("POST", svcs, b'{"metadata":{"name":"np-a"},"spec":{"type":"NodePort",'
                                 b'"ports":[{"port":80,"nodePort":30077}]}}'), 201)
status, body = call("PATCH", svcs + "/np-a", b'{"spec":{"type":"ClusterIP"}}', merge)
if status != 200 or "nodePort" in body["spec"]["ports"][0]:
    raise SystemExit("FAIL: NodePort -> ClusterIP: %s %s" % (status, body))
check("its node port is free again", call("POST", svcs, b'{"metadata":{"name":"np-b"},"spec":{"type":"NodePort",'
                                          b'"ports":[{"port":80,"nodePort":30077}]}}'), 201)
check("change the node port", call("PATCH", svcs + "/np-b", b'[{"op":"replace","path":"/spec/ports/0/nodePort",'
                                   b'"value":30078}]', "application/json-patch+json"), 200)
check("the old one is free again", call("POST", svcs, b'{"metadata":{"name":"np-c"},"spec":{"type":"NodePort",'
                                        b'"ports":[{"port":80,"nodePort":30077}]}}'), 201)
# A PUT that leaves out what was allocated (kubectl replace -f of the first manifest) keeps it
# (upstream's patchAllocatedValues)
status, body = call("GET", svcs + "/np-c")
ip, port = body["spec"]["clusterIP"], body["spec"]["ports"][0]["nodePort"]
status, body = call("PUT", svcs + "/np-c", b'{"metadata":{"name":"np-c"},"spec":{"type":"NodePort",'
                    b'"selector":{"app":"new"},"ports":[{"port":80}]}}')
if status != 200 or body["spec"]["clusterIP"] != ip or body["spec"]["ports"][0].get("nodePort") != port:
    raise SystemExit("FAIL: replace keeps the allocated values: %s %s (had %s %s)" % (status, body, ip, port))
print("ok: a replace keeps the cluster IP and node port")
for n in ["np-a", "np-b", "np-c"]:
    check("delete " + n, call("DELETE", svcs + "/" + n), 200)
# NamespaceLifecycle: no writes into a namespace that does not exist, the immortal three may
# not be deleted
check_message("create in a missing namespace",
              call("POST", "/api/v1/namespaces/nosuch/configmaps", b'{"metadata":{"name":"x"}}'), 404,
              'namespaces "nosuch" not found', "NotFound")
for immortal in ["default", "kube-system", "kube-public"]:
    check_message("delete " + immortal, call("DELETE", "/api/v1/namespaces/" + immortal), 403,
                  'namespaces "%s" is forbidden: this namespace may not be deleted' % immortal, "Forbidden")
# Impersonation headers without Impersonate-User: upstream's plain 500
req = urllib.request.Request(base + "/api/v1/namespaces", method="GET")
req.add_header("Impersonate-Group", "devs")
try:
    urllib.request.urlopen(req, context=ctx, timeout=10)
    raise SystemExit("FAIL: a group impersonated without a user was served")
except urllib.error.HTTPError as e:
    text = e.read().decode()
    if e.code != 500 or text != ('Internal Server Error: "/api/v1/namespaces": requested '
                                 '[{Group  devs    }] without impersonating a user\n'):
        raise SystemExit("FAIL: impersonating a group without a user: %s %r" % (e.code, text))
print("ok: impersonating a group without a user")
# the impersonated user's extra (keys unescaped and lower case, values of a key together)
req = urllib.request.Request(base + "/apis/authentication.k8s.io/v1/selfsubjectreviews", method="POST",
                             data=b'{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}')
req.add_header("Content-Type", "application/json")
for k, v in [("Impersonate-User", "bob"), ("Impersonate-Uid", "u-1"), ("Impersonate-Extra-Reason", "debug"),
             ("Impersonate-Extra-Scopes.example.com%2fx", "y")]:
    req.add_header(k, v)
req.headers["Impersonate-extra-reason"] = "debug"  # urllib keeps one value per name
with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
    info = json.loads(r.read())["status"]["userInfo"]
if info != {"username": "bob", "uid": "u-1", "groups": ["system:authenticated"],
            "extra": {"reason": ["debug"], "scopes.example.com/x": ["y"]}}:
    raise SystemExit("FAIL: impersonated user info: %s" % info)
print("ok: impersonation: uid and extra")
# PUT without a resourceVersion: most kinds update what is stored (AllowUnconditionalUpdate),
# a lease must name the version it replaces; a PUT of a missing object creates it for the kinds
# that allow it (a lease, a service) and is a 404 for the others
check("unconditional update", call("PUT", cms + "/h1", b'{"metadata":{"name":"h1"},"data":{"u":"1"}}'), 200)
status, body = call("GET", cms + "/h1")
if status != 200 or body.get("data") != {"u": "1"}:
    raise SystemExit("FAIL: unconditional update applied: %s %s" % (status, body))
check("update of a missing object", call("PUT", cms + "/nosuch", b'{"metadata":{"name":"nosuch"}}'), 404, "NotFound")
leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
lease = b'{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"put"},"spec":{"holderIdentity":"a"}}'
check("create on update (lease)", call("PUT", leases + "/put", lease), 201)
check_message("lease update without resourceVersion", call("PUT", leases + "/put", lease), 422,
              'leases.coordination.k8s.io "put" is invalid: metadata.resourceVersion: Invalid value: 0: '
              'must be specified for an update', "Invalid")
status, body = call("PUT", "/api/v1/namespaces/default/services/put",
                    b'{"metadata":{"name":"put"},"spec":{"ports":[{"port":80}]}}')
check("create on update (service)", (status, body), 201)
if not body.get("spec", {}).get("clusterIP"):
    raise SystemExit("FAIL: a service created by PUT has no cluster IP: %s" % body)
check("delete the service", call("DELETE", "/api/v1/namespaces/default/services/put"), 200)
# A patch whose result does not decode: upstream's Invalid on the field "patch", with the
# decoder's (JSON and merge patch) or the unstructured converter's (strategic merge) words
for name, ctype, patch, message in [
        ("merge patch of the wrong type", "application/merge-patch+json", b'{"data":{"a":1}}',
         'json: cannot unmarshal number into Go struct field ConfigMap.data of type string'),
        ("strategic merge patch of the wrong type", "application/strategic-merge-patch+json",
         b'{"data":{"a":1},"metadata":{"labels":{"x":"y z"}}}', 'patch: Invalid value: '
         '"map[data:map[a:1] metadata:map[labels:map[x:y z]]]": cannot convert int64 to string'),
        ("strategic merge patch of a float", "application/strategic-merge-patch+json",
         b'{"data":{"a":1.5e7}}', '"map[data:map[a:1.5e+07]]": unrecognized type: string')]:
    status, body = call("PATCH", cms + "/h1", patch, ctype)
    causes = body.get("details", {}).get("causes", [])
    if status != 422 or body.get("reason") != "Invalid" or \
            not body.get("message", "").startswith(' "" is invalid: patch: Invalid value: "') or \
            not body["message"].endswith(message) or len(causes) != 1 or \
            causes[0].get("field") != "patch" or "name" in body.get("details", {}):
        raise SystemExit("FAIL: %s: %s %s" % (name, status, body))
    print("ok:", name, status)
check("deep nesting", call("POST", cms, b'{"metadata":{"name":"d"},"data":' + b"[" * 200 + b"]" * 200 + b"}"), 400)
check("stale precondition",
      call("DELETE", cms + "/h1", b'{"preconditions":{"resourceVersion":"1"}}'), 409, "Conflict")
check("delete", call("DELETE", cms + "/h1"), 200)


def pb_delete_options(raw):
    """A DeleteOptions in the Kubernetes protobuf envelope (as client-go's protobuf clients send)."""
    def ld(field, data):
        return bytes([field << 3 | 2, len(data)]) + data
    type_meta = ld(1, b"v1") + ld(2, b"DeleteOptions")
    return b"k8s\x00" + ld(1, type_meta) + ld(2, raw)


check("create for protobuf deletes", call("POST", cms, b'{"metadata":{"name":"pbdel"}}'), 201)
check("delete, dryRun in a protobuf DeleteOptions",
      call("DELETE", cms + "/pbdel", pb_delete_options(b"\x2a\x03All"), "application/vnd.kubernetes.protobuf"), 200)
check("still there after the dry run", call("GET", cms + "/pbdel"), 200)
check("delete, stale uid in a protobuf DeleteOptions",
      call("DELETE", cms + "/pbdel", pb_delete_options(b"\x12\x05\x0a\x03bad"), "application/vnd.kubernetes.protobuf"),
      409, "Conflict")
check("delete, protobuf DeleteOptions", call("DELETE", cms + "/pbdel", pb_delete_options(b"\x08\x00"),
                                              "application/vnd.kubernetes.protobuf"), 200)
check("gone", call("GET", cms + "/pbdel"), 404, "NotFound")


# List and watch options as upstream 1.32 answers them: the query decoded into
# ListOptions (400), ValidateListOptions (422 on ListOptions.meta.k8s.io), the
# storage's resourceVersion parse (a 500 without a reason).
check_message("limit not a number", call("GET", cms + "?limit=abc"), 400,
              'strconv.ParseInt: parsing "abc": invalid syntax', "BadRequest")
check_message("limit out of range", call("GET", cms + "?limit=99999999999999999999"), 400,
              'strconv.ParseInt: parsing "99999999999999999999": value out of range', "BadRequest")
check_message("timeoutSeconds not a number", call("GET", cms + "?watch=1&timeoutSeconds=x"), 400,
              'strconv.ParseInt: parsing "x": invalid syntax', "BadRequest")
check_message("resourceVersion not a number", call("GET", cms + "?resourceVersion=abc"), 500,
              'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax')
check_message("negative resourceVersion on a watch", call("GET", cms + "?watch=1&resourceVersion=-1"),
              500, 'resourceVersion: Invalid value: "-1": strconv.ParseUint: parsing "-1": invalid syntax')
check_message("resourceVersion not a number on a get",
              call("GET", "/api/v1/namespaces/default?resourceVersion=x"), 500,
              'resourceVersion: Invalid value: "x": strconv.ParseUint: parsing "x": invalid syntax')
got = call("GET", cms + "?resourceVersionMatch=Exact")
check_message("resourceVersionMatch without resourceVersion", got, 422,
              'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
              'resourceVersionMatch is forbidden unless resourceVersion is provided', "Invalid")
details = got[1].get("details", {})
if details.get("kind") != "ListOptions" or details.get("group") != "meta.k8s.io" or \
        [c.get("field") for c in details.get("causes", [])] != ["resourceVersionMatch"]:
    raise SystemExit("FAIL: ListOptions details: %s" % details)
check_message("unknown resourceVersionMatch", call("GET", cms + "?resourceVersion=5&resourceVersionMatch=foo"),
              422, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: '
              '"foo": supported values: "Exact", "NotOlderThan", ""', "Invalid")
check_message("Exact at resourceVersion 0", call("GET", cms + "?resourceVersion=0&resourceVersionMatch=Exact"),
              422, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
              'resourceVersionMatch "exact" is forbidden for resourceVersion "0"', "Invalid")
# Request bodies as upstream's decoder reads them: kind and apiVersion first (missing ones
# default to the endpoint's), then the fields.
unrecognized = "the object provided is unrecognized (must be of type ConfigMap): "
no_kind = unrecognized + "couldn't get version/kind; json parse error: "
for name, body, ctype, message in [
        ("body not JSON", b"{bad", "application/json",
         no_kind + "invalid character 'b' looking for beginning of object key string ({bad)"),
        ("empty body", b"", "application/json", no_kind + "unexpected end of JSON input (<empty>)"),
        ("kind not a string", b'{"kind":5,"metadata":{"name":"k5"}}', "application/json",
         no_kind + 'json: cannot unmarshal number into Go struct field .kind of type string '
         '({"kind":5,"metadata":{"name":" ...)'),
        ("not protobuf", b"k8z\x00\x01", "application/vnd.kubernetes.protobuf",
         unrecognized + "provided data does not appear to be a protobuf message, expected prefix "
         "[107 56 115 0] (6b387a0001)"),
        ("kind in lower case", b'{"apiVersion":"v1","kind":"configmap"}', "application/json",
         'configmap in version "v1" cannot be handled as a ConfigMap: no kind "configmap" is '
         'registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"'),
        ("another kind", b'{"kind":"Secret","metadata":{"name":"s"}}', "application/json",
         'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to '
         '(core.ConfigMap): unknown conversion'),
        ("a field of the wrong type", b'{"metadata":{"name":5}}', "application/json",
         'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal '
         'number into Go struct field ObjectMeta.metadata.name of type string'),
        # a number where a string goes, as users write it in YAML: Go's encoding/json words it
        ("a number in data", b'{"metadata":{"name":"n"},"data":{"port":8080}}', "application/json",
         'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal '
         'number into Go struct field ConfigMap.data of type string')]:
    check_message(name, call("POST", cms, body, ctype), 400, message, "BadRequest")
# An update names its object twice: the body's name and namespace are checked before the
# object is read (a missing object is not a 404 then)
check_message("update under another name",
              call("PUT", cms + "/nosuch", b'{"metadata":{"name":"other"}}'), 400,
              "the name of the object (other) does not match the name on the URL (nosuch)",
              "BadRequest")
check_message("update in another namespace",
              call("PUT", cms + "/nosuch", b'{"metadata":{"name":"nosuch","namespace":"kube-system"}}'),
              400, "the namespace of the provided object does not match the namespace sent on the "
              "request", "BadRequest")
# Accept negotiation: a list of types none of which an object is written as is a 406 (in JSON)
check_message("Accept names no type we write", call("GET", cms, accept="application/xml, text/html"),
              406, "only the following media types are accepted: application/json, application/yaml, "
              "application/vnd.kubernetes.protobuf", "NotAcceptable")
check("Accept with a wildcard after others", call("GET", cms, accept="text/html, */*;q=0.8"), 200)
check_message("another version of the kind",
              call("POST", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
                   b'{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler"}'), 400,
              "the API version in the data (autoscaling/v2) does not match the expected API "
              "version (autoscaling/v1)", "BadRequest")
ssrr = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
check("rules review: malformed JSON", call("POST", ssrr, b"{nope"), 400, "BadRequest")
check("rules review: wrong type", call("POST", ssrr, b'{"spec":{"namespace":7}}'), 400, "BadRequest")
check("rules review: over 3 MiB", call("POST", ssrr, b"{" + b" " * (3 * 1024 * 1024 + 10) + b"}"), 413)
got = call("POST", ssrr, b'{"spec":{"namespace":"default"}}')
check("rules review", got, 201)
st = got[1].get("status", {})
if st.get("resourceRules") != [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}] or \
        st.get("nonResourceRules") != [{"verbs": ["*"], "nonResourceURLs": ["*"]}] or \
        st.get("incomplete") is not False:
    raise SystemExit("FAIL: rules review status: %s" % st)
# sendInitialEvents (WatchList): only on a watch, and only with NotOlderThan
check_message("sendInitialEvents on a list", call("GET", cms + "?sendInitialEvents=true"), 422,
              'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: '
              'sendInitialEvents is forbidden for list', "Invalid")
check_message("sendInitialEvents without NotOlderThan",
              call("GET", cms + "?watch=1&sendInitialEvents=true"), 422,
              'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
              'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan', "Invalid")
check_message("sendInitialEvents with Exact",
              call("GET", cms + "?watch=1&sendInitialEvents=false&resourceVersionMatch=Exact"), 422,
              'ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: '
              'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, '
              'resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"]',
              "Invalid")
check_message("sendInitialEvents not a boolean",
              call("GET", cms + "?watch=1&sendInitialEvents=yes&resourceVersionMatch=NotOlderThan"),
              400, 'strconv.ParseBool: parsing "yes": invalid syntax', "BadRequest")
# ?timeout= (kubectl --request-timeout sends it): Go's duration syntax, else a 400
for value, why in (("abc", 'time: invalid duration "abc"'), ("250", 'time: missing unit in duration "250"'),
                   ("5x", 'time: unknown unit "x" in duration "5x"')):
    check_message("timeout " + value, call("GET", cms + "?timeout=" + value), 400,
                  "invalid timeout specified in the request URL - " + why, "BadRequest")
for value in ("0", "1.5s", "1m30s", "-1s", "300ms"):
    check("timeout " + value, call("GET", cms + "?timeout=" + value), 200)
# fieldManager: at most 128 bytes of printable characters (ValidateFieldManager)
check_message("fieldManager too long", call("POST", cms + "?fieldManager=" + "m" * 129, b'{"metadata":{"name":"fm"}}'),
              422, 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
              "Invalid")
check_message("fieldManager with a control character",
              call("PATCH", cms + "/fm?fieldManager=a%0Ab", b"{}", "application/merge-patch+json"), 422,
              'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\nb": invalid character '
              'U+000A (at position 1)', "Invalid")
check("a good fieldManager", call("POST", cms + "?fieldManager=my-tool", b'{"metadata":{"name":"fm"}}'), 201)
check("valid options still list", call("GET", cms + "?limit=5&resourceVersion=0&timeoutSeconds=3"), 200)
# garbage on the TLS socket
raw = socket.create_connection(tuple(addr.split(":")) if False else (addr.split(":")[0], int(addr.split(":")[1])), 5)
raw.sendall(b"\x00\x01garbage\r\n\r\n")
raw.close()


# HTTP/2 request headers over the advertised limit (SETTINGS_MAX_HEADER_LIST_SIZE, 64 KiB), from a
# client that ignores it (curl's and Go's refuse to send): a 431 answer on that stream, as
# HTTP/1.1 gets and Go's server gives, then the connection serves the next request.
def h2_frame(kind, flags, stream, payload):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def hpack_int(n, bits):  # an HPACK integer with a `bits`-bit prefix, first byte's high bits 0
    top = (1 << bits) - 1
    if n < top:
        return bytes([n])
    out = [top]
    n -= top
    while n >= 128:
        out.append(n & 127 | 128)
        n >>= 7
    return bytes(out + [n])


def hpack_literal(name, value):  # literal without indexing, new name, no Huffman
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def h2_get(sock, stream, path, extra):
    """Sends GET path on stream (HEADERS, then CONTINUATIONs of at most 16 KiB) and returns
    (200 or "not 200", body) read from the frames of that stream."""
    block = b"\x82\x87" + hpack_literal(b":path", path) + hpack_literal(b":authority", b"k8c")
    for i, n in enumerate(extra):
        block += hpack_literal(b"x-pad-%d" % i, b"a" * n)
    chunks = [block[i:i + 16384] for i in range(0, len(block), 16384)]
    for i, c in enumerate(chunks):
        flags = (1 if i == 0 else 0) | (4 if i == len(chunks) - 1 else 0)  # END_STREAM, END_HEADERS
        sock.sendall(h2_frame(1 if i == 0 else 9, flags, stream, c))
    status, body, buf = None, b"", b""
    while True:
        while len(buf) < 9 or len(buf) < 9 + int.from_bytes(buf[:3], "big"):
            more = sock.recv(65536)
            if not more:
                raise SystemExit("FAIL: HTTP/2 connection closed before the answer")
            buf += more
        n, kind, flags = int.from_bytes(buf[:3], "big"), buf[3], buf[4]
        sid, payload, buf = int.from_bytes(buf[5:9], "big") & 0x7fffffff, buf[9:9 + n], buf[9 + n:]
        if sid != stream:
            continue
        if kind == 3:
            raise SystemExit("FAIL: HTTP/2 stream reset, error %d" % int.from_bytes(payload, "big"))
        if kind == 1:  # :status comes first: 200 is static entry 8 (0x88); others are literals
            status = 200 if payload[0] == 0x88 else "not 200"
        if kind == 0:
            body += payload
        if flags & 1:
            return status, body


h2ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
h2ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
h2ctx.set_alpn_protocols(["h2"])
host, port = addr.rsplit(":", 1)
with h2ctx.wrap_socket(socket.create_connection((host, int(port)), 10), server_hostname=host) as h2:
    h2.settimeout(10)
    assert h2.selected_alpn_protocol() == "h2"
    h2.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0, b""))
    got = h2_get(h2, 1, b"/api/v1/namespaces/default/configmaps", [40000, 40000])
    if got != ("not 200", b"request header fields too large\n"):
        raise SystemExit("FAIL: oversized HTTP/2 headers: %r" % (got,))
    print("ok: oversized HTTP/2 headers: 431")
    got = h2_get(h2, 3, b"/api/v1/namespaces/default/configmaps", [])
    if got[0] != 200 or b'"kind":"ConfigMapList"' not in got[1]:
        raise SystemExit("FAIL: next HTTP/2 request: %r" % (got,))
    print("ok: the same HTTP/2 connection serves the next request")
check("still serving", call("GET", "/api/v1/namespaces/default/configmaps"), 200)
