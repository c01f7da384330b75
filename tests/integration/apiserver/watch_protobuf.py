"""Protobuf watch streams, as client-go reads them: a watch whose Accept asks
for application/vnd.kubernetes.protobuf gets Content-Type
application/vnd.kubernetes.protobuf;stream=watch and a sequence of frames,
each a 4-byte big-endian length and a metav1.WatchEvent {type = 1, object = 2
(RawExtension {raw = 1})} whose raw is the object's "k8s\\0" + runtime.Unknown
envelope. Decoded by hand here (no protobuf runtime): ADDED/MODIFIED/DELETED of
a pod with its name and resourceVersion, the initial ADDED events, a BOOKMARK
for a watcher whose selector skipped events, and the ERROR frame (Status 410
Expired) of a watch from a version older than the window (the apiserver runs
with --watch-cache-size=20). Usage: watch_protobuf.py ADDR PKI_DIR"""
import json
import struct
import sys
import threading
import urllib.request

from apitest import Api, check

addr, pki = sys.argv[1], sys.argv[2]
api = Api(addr, pki)
ctx, base, call = api.ctx, api.base, api.call
pods = "/api/v1/namespaces/default/pods"
cms = "/api/v1/namespaces/default/configmaps"
PB_STREAM = "application/vnd.kubernetes.protobuf;stream=watch"


# ---- protobuf wire format, by hand ----

def varint(b, i):
    v = shift = 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint")
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def fields(b):
    """{field number: [values]}: bytes for length-delimited, int for varints."""
    out, i = {}, 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            if i + n > len(b):
                raise ValueError("truncated field %d" % num)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out


def one(f, num, default=b""):
    return f.get(num, [default])[-1]


def decode_event(frame):
    """(type, apiVersion, kind, object fields) of one WatchEvent frame body."""
    ev = fields(frame)
    typ = one(ev, 1).decode()
    raw = one(fields(one(ev, 2)), 1)
    if raw[:4] != b"k8s\x00":
        raise ValueError("embedded object without the k8s magic: %r" % raw[:8])
    unknown = fields(raw[4:])
    tm = fields(one(unknown, 1))
    return typ, one(tm, 1).decode(), one(tm, 2).decode(), fields(one(unknown, 2))


def meta(obj):
    """name and resourceVersion of an object's ObjectMeta (field 1)."""
    m = fields(one(obj, 1))
    return one(m, 1).decode(), one(m, 6).decode()


class Watch:
    """A protobuf watch read frame by frame on its own thread, until it has
    `want` events or the stream ends (the reading thread closes the response:
    closing it from another thread would wait for the blocked read)."""

    def __init__(self, path, want, accept=PB_STREAM):
        req = urllib.request.Request(base + path + "&timeoutSeconds=60", headers={"Accept": accept})
        self.r = urllib.request.urlopen(req, context=ctx, timeout=30)
        self.ctype = self.r.headers.get("Content-Type")
        self.want = want
        self.events, self.done, self.error = [], False, None
        self.cond = threading.Condition()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        try:
            while len(self.events) < self.want:
                head = self.r.read(4)
                if len(head) == 0:
                    break
                if len(head) != 4:
                    raise ValueError("truncated frame length")
                (n,) = struct.unpack(">I", head)
                body = self.r.read(n)
                if len(body) != n:
                    raise ValueError("truncated frame: %d of %d bytes" % (len(body), n))
                ev = decode_event(body)
                with self.cond:
                    self.events.append(ev)
                    self.cond.notify_all()
        except Exception as e:  # reported by wait()
            self.error = e
        self.r.close()
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def wait(self, timeout=20):
        """The events, once there are `want` of them or the stream ended."""
        with self.cond:
            self.cond.wait_for(lambda: self.done, timeout)
            if self.error is not None:
                raise SystemExit("FAIL: bad frame: %s" % self.error)
            return list(self.events)


def pod(name, labels=None):
    m = {"name": name}
    if labels:
        m["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": m,
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


# 1. a pod's life over a watch from a version: types, names, resourceVersions
rv0 = call("GET", pods)["metadata"]["resourceVersion"]
w = Watch(pods + "?watch=1&resourceVersion=%s" % rv0, 3)
check("protobuf watch content type", w.ctype == PB_STREAM, w.ctype)
created = call("POST", pods, pod("pb-1"))
patched = call("PATCH", pods + "/pb-1", {"metadata": {"annotations": {"a": "b"}}},
               "application/merge-patch+json")
call("DELETE", pods + "/pb-1?gracePeriodSeconds=0")
evs = w.wait()
got = [(t, av, k, meta(o)[0]) for t, av, k, o in evs[:3]]
check("ADDED, MODIFIED, DELETED frames of pod pb-1",
      got == [("ADDED", "v1", "Pod", "pb-1"), ("MODIFIED", "v1", "Pod", "pb-1"),
              ("DELETED", "v1", "Pod", "pb-1")], got)
rvs = [meta(o)[1] for _, _, _, o in evs[:3]]
check("resourceVersions of the create and the patch",
      rvs[0] == created["metadata"]["resourceVersion"]
      and rvs[1] == patched["metadata"]["resourceVersion"], (rvs, created["metadata"],
                                                             patched["metadata"]))
check("the deletion's resourceVersion is newer", int(rvs[2]) > int(rvs[1]), rvs)
spec = fields(one(evs[0][3], 2))
containers = fields(one(spec, 2))  # PodSpec.containers = 2, Container name = 1, image = 2
check("the embedded pod carries its spec", one(containers, 1) == b"c"
      and one(containers, 2) == b"busybox", containers)

# 2. client-go's Accept list; no resourceVersion: ADDED for what exists
call("POST", pods, pod("pb-2"))
w = Watch(pods + "?watch=1", 1, "application/vnd.kubernetes.protobuf, application/json")
check("client-go Accept list gets protobuf frames", w.ctype == PB_STREAM, w.ctype)
evs = w.wait()
check("initial ADDED", [(t, meta(o)[0]) for t, _, _, o in evs] == [("ADDED", "pb-2")], evs)

# JSON is still the default
req = urllib.request.Request(base + pods + "?watch=1&timeoutSeconds=1")
with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
    line = json.loads(r.readline())
    check("JSON watch unchanged", r.headers.get("Content-Type") == "application/json"
          and line["type"] == "ADDED" and line["object"]["metadata"]["name"] == "pb-2", line)

# 3. a watcher whose selector skips events gets a BOOKMARK with the newer version
rv = call("GET", pods)["metadata"]["resourceVersion"]
w = Watch(pods + "?watch=1&allowWatchBookmarks=true&labelSelector=never%%3Dx&resourceVersion=%s"
          % rv, 1)
skipped = call("POST", pods, pod("pb-3", {"other": "y"}))
evs = w.wait(timeout=25)
check("BOOKMARK frame", len(evs) == 1 and evs[0][:3] == ("BOOKMARK", "v1", "Pod"), evs)
check("bookmark resourceVersion", int(meta(evs[0][3])[1]) >= int(skipped["metadata"]["resourceVersion"]),
      (meta(evs[0][3]), skipped["metadata"]["resourceVersion"]))

# 4. a version older than the window (20 events): an ERROR frame with Status 410
rv = call("GET", cms)["metadata"]["resourceVersion"]
for i in range(25):
    call("POST", cms, {"metadata": {"name": "pb-old-%d" % i}})
w = Watch(cms + "?watch=1&resourceVersion=%s" % rv, 2)
evs = w.wait(timeout=15)
check("one ERROR frame, then the end", len(evs) == 1 and w.done, evs)
typ, av, kind, st = evs[0]
check("ERROR carries a v1 Status", (typ, av, kind) == ("ERROR", "v1", "Status"), evs[0][:3])
check("Status 410 Expired", one(st, 6, 0) == 410 and one(st, 4) == b"Expired"
      and one(st, 2) == b"Failure" and b"too old resource version" in one(st, 3), st)
print("watch_protobuf: all checks passed")
