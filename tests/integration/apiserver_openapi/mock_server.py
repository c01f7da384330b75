"""A mock API server for the OpenAPI integration test: serves /version, legacy discovery built
from resources.json, the /openapi/v3 index and documents and /openapi/v2 in protobuf (as
client-go asks for it) that test_api_openapi --dump wrote, and
keeps created objects in memory (GET returns them, PATCH logs its content type and returns the
stored object). Every request line is appended to requests.log.

Usage: mock_server.py DUMP_DIR PORT
"""
import http.server
import json
import os
import sys
import urllib.parse

dump_dir, port = sys.argv[1], int(sys.argv[2])
resources = json.load(open(os.path.join(dump_dir, "resources.json")))
log = open(os.path.join(dump_dir, "requests.log"), "a", buffering=1)

objects = {}  # URL path of an object -> the object
group_versions = []
for r in resources:
    gv = r["version"] if not r["group"] else r["group"] + "/" + r["version"]
    if gv not in group_versions:
        group_versions.append(gv)


def resource_list(gv):
    out = []
    for r in resources:
        rgv = r["version"] if not r["group"] else r["group"] + "/" + r["version"]
        if rgv != gv:
            continue
        e = {"name": r["name"], "singularName": r["singularName"], "namespaced": r["namespaced"],
             "kind": r["kind"], "verbs": r["verbs"]}
        if r["shortNames"]:
            e["shortNames"] = r["shortNames"].split(",")
        out.append(e)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}


def api_groups():
    groups = []
    for gv in group_versions:
        if "/" not in gv:
            continue
        g, v = gv.split("/")
        ver = {"groupVersion": gv, "version": v}
        groups.append({"name": g, "versions": [ver], "preferredVersion": ver})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def not_found(self):
        self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                         "message": "the server could not find the requested resource",
                         "reason": "NotFound", "code": 404})

    def do_GET(self):
        log.write("GET %s\n" % self.path)
        u = urllib.parse.urlsplit(self.path)
        p = u.path.rstrip("/")
        if p == "/version":
            return self.reply(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-k8c",
                                    "gitCommit": "", "gitTreeState": "clean",
                                    "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23",
                                    "compiler": "gc", "platform": "linux/amd64"})
        if p == "/api":
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"]})
        if p == "/apis":
            return self.reply(200, api_groups())
        if p == "/api/v1":
            return self.reply(200, resource_list("v1"))
        if p.startswith("/apis/") and p.count("/") == 3 and p[len("/apis/"):] in group_versions:
            return self.reply(200, resource_list(p[len("/apis/"):]))
        if p == "/openapi/v3":
            return self.reply(200, open(os.path.join(dump_dir, "index.json"), "rb").read())
        if p.startswith("/openapi/v3/"):
            name = p[len("/openapi/v3/"):].replace("/", "_") + ".json"
            f = os.path.join(dump_dir, name)
            if os.path.exists(f):
                return self.reply(200, open(f, "rb").read())
        if p == "/openapi/v2" and "proto-openapi.spec.v2" in self.headers.get("Accept", ""):
            return self.reply(200, open(os.path.join(dump_dir, "v2.pb"), "rb").read(),
                              "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
        if p in objects:
            return self.reply(200, objects[p])
        # Everything else is 404.
        return self.not_found()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        log.write("POST %s %s\n" % (self.path, self.headers.get("Content-Type", "")))
        try:
            obj = json.loads(body)
        except ValueError:
            return self.reply(415, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                    "code": 415, "message": "JSON only"})
        obj.setdefault("metadata", {}).setdefault("namespace", "default")
        obj["metadata"].update({"uid": "00000000-0000-0000-0000-000000000001",
                                "resourceVersion": "1",
                                "creationTimestamp": "2025-01-01T00:00:00Z"})
        if "dryRun" not in self.path:
            objects[urllib.parse.urlsplit(self.path).path + "/" + obj["metadata"]["name"]] = obj
        return self.reply(201, obj)

    def do_PATCH(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        log.write("PATCH %s %s %s\n" % (self.path, self.headers.get("Content-Type", ""),
                                         body.decode(errors="replace")))
        p = urllib.parse.urlsplit(self.path).path
        if p not in objects:
            return self.not_found()
        return self.reply(200, objects[p])


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
