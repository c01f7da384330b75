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


def call(method, path, body=None, ctype="application/json"):
    req = urllib.request.Request(base + path, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", ctype)
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


cms = "/api/v1/namespaces/default/configmaps"
check("malformed JSON", call("POST", cms, b"{not json"), 400, "BadRequest")
check("wrong JSON type", call("POST", cms, b'{"metadata":{"name":5}}'), 400, "BadRequest")
check("no name", call("POST", cms, b'{"metadata":{}}'), 422, "Invalid")
check("unsupported media type", call("POST", cms, b"x", "text/plain"), 415, "UnsupportedMediaType")
check("body over 3 MiB", call("POST", cms, b"{" + b" " * (3 * 1024 * 1024 + 10) + b"}"), 413)
check("unknown resource", call("GET", "/api/v1/namespaces/default/bogus"), 404, "NotFound")
check("method not allowed", call("PUT", cms, b"{}"), 405, "MethodNotAllowed")
check("bad label selector", call("GET", cms + "?labelSelector=a%20in%20(b"), 400, "BadRequest")
check("bad field selector", call("GET", cms + "?fieldSelector=spec.nope%3Dx"), 400, "BadRequest")
check("bad continue", call("GET", cms + "?limit=1&continue=garbage"), 400, "BadRequest")
check("bad patch type", call("PATCH", cms + "/x", b"{}", "application/json"), 415)
check("create", call("POST", cms, b'{"metadata":{"name":"h1"}}'), 201)
check("bad json patch", call("PATCH", cms + "/h1", b'[{"op":"nope"}]', "application/json-patch+json"), 400)
check("json patch on missing path",
      call("PATCH", cms + "/h1", b'[{"op":"remove","path":"/data/zz"}]', "application/json-patch+json"), 422)
check("deep nesting", call("POST", cms, b'{"metadata":{"name":"d"},"data":' + b"[" * 200 + b"]" * 200 + b"}"), 400)
check("stale precondition",
      call("DELETE", cms + "/h1", b'{"preconditions":{"resourceVersion":"1"}}'), 409, "Conflict")
check("delete", call("DELETE", cms + "/h1"), 200)
# garbage on the TLS socket
raw = socket.create_connection(tuple(addr.split(":")) if False else (addr.split(":")[0], int(addr.split(":")[1])), 5)
raw.sendall(b"\x00\x01garbage\r\n\r\n")
raw.close()
check("still serving", call("GET", "/api/v1/namespaces/default/configmaps"), 200)
