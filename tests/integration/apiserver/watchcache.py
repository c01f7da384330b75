"""The watch cache (apiserver started with --watch-cache-size=20 and
--watch-cache-fanout-batch=1: a fan-out serves one watcher per loop turn):
lists at resourceVersion=0 from the cache, many watchers of one resource each
getting every event once and in order, also when more events than the window
holds come while a fan-out is under way, selector transitions
(ADDED/MODIFIED/DELETED as an object enters or leaves a selector), and 410
Expired for a watch from a version older than the cache's window."""
import json
import time
import sys
import threading
import urllib.request

from apitest import Api, check

addr, pki = sys.argv[1], sys.argv[2]
api = Api(addr, pki)
ctx, base, call = api.ctx, api.base, api.call
cms = "/api/v1/namespaces/default/configmaps"


def brief(ev):
    return ev["type"], ev["object"]["metadata"].get("name"), ev["object"].get("code")


def watch(path, want, out, ready, pick=brief):
    """Appends pick(event) to out for the first want events of a watch."""
    req = urllib.request.Request(base + path)
    with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
        ready.release()
        for line in r:
            out.append(pick(json.loads(line)))
            if len(out) >= want:
                return


for i in range(3):
    call("POST", cms, {"metadata": {"name": "base-%d" % i, "labels": {"set": "base"}}})
fresh = call("GET", cms + "?labelSelector=set%3Dbase")
cached = call("GET", cms + "?labelSelector=set%3Dbase&resourceVersion=0")
check("list at resourceVersion=0 from the cache",
      [c["metadata"]["name"] for c in cached["items"]] == [c["metadata"]["name"] for c in fresh["items"]]
      and cached["kind"] == "ConfigMapList" and int(cached["metadata"]["resourceVersion"]) > 0, cached)
rv = fresh["metadata"]["resourceVersion"]
# items as upstream's lists write them (no kind or apiVersion), the same from the cache as from
# the store (a limited list is read from the store)
stored = call("GET", cms + "?labelSelector=set%3Dbase&limit=100")
check("cached list items are the store's list items",
      cached["items"] == stored["items"] and all("kind" not in c for c in cached["items"]),
      (cached["items"][:1], stored["items"][:1]))

# 40 watchers from the same version, each must see all 5 events in order
outs, threads, ready = [], [], threading.Semaphore(0)
for i in range(40):
    out = []
    outs.append(out)
    t = threading.Thread(target=watch, args=(cms + "?watch=1&resourceVersion=%s" % rv, 5, out, ready))
    t.start()
    threads.append(t)
for _ in range(40):
    ready.acquire(timeout=10)
for i in range(5):
    call("POST", cms, {"metadata": {"name": "fan-%d" % i}})
for t in threads:
    t.join(15)
want = [("ADDED", "fan-%d" % i, None) for i in range(5)]
check("40 watchers, same events in order", all(o == want for o in outs), outs[:2])

# 25 creates at once, more than the window (20), while the 40 watchers are
# served one per loop turn: an event leaves the ring only after every
# watcher had it, so each still gets all 25, once each, in version order.
rv = call("GET", cms)["metadata"]["resourceVersion"]
outs, threads, ready = [], [], threading.Semaphore(0)


def rv_pick(ev):
    return ev["type"], ev["object"]["metadata"]["name"], int(ev["object"]["metadata"]["resourceVersion"])


for i in range(40):
    out = []
    outs.append(out)
    t = threading.Thread(target=watch, args=(cms + "?watch=1&resourceVersion=%s" % rv, 25, out, ready, rv_pick))
    t.start()
    threads.append(t)
for _ in range(40):
    ready.acquire(timeout=10)
writers = [threading.Thread(target=call, args=("POST", cms, {"metadata": {"name": "bulk-%d" % i}}))
           for i in range(25)]
for t in writers:
    t.start()
for t in writers + threads:
    t.join(30)
names = sorted("bulk-%d" % i for i in range(25))
check("25 events at once past the window, to 40 watchers",
      all(len(o) == 25 and sorted(e[1] for e in o) == names and all(e[0] == "ADDED" for e in o)
          and all(o[k][2] < o[k + 1][2] for k in range(24)) for o in outs),
      [(len(o), o[:3]) for o in outs if len(o) != 25][:3] or outs[0][:3])

# selector transitions
out, ready = [], threading.Semaphore(0)
rv = call("GET", cms)["metadata"]["resourceVersion"]
t = threading.Thread(target=watch, args=(cms + "?watch=1&labelSelector=pick%%3Dme&resourceVersion=%s" % rv, 3, out, ready))
t.start()
ready.acquire(timeout=10)
call("POST", cms, {"metadata": {"name": "sel"}})
call("PATCH", cms + "/sel", {"metadata": {"labels": {"pick": "me"}}}, "application/merge-patch+json")
call("PATCH", cms + "/sel", {"data": {"a": "b"}}, "application/merge-patch+json")
# updates that change nothing are not written, as upstream's store skips them: same
# resourceVersion, no event (the watch would see a MODIFIED before the DELETED)
same = call("GET", cms + "/sel")
after_put = call("PUT", cms + "/sel", same)
after_patch = call("PATCH", cms + "/sel", {"data": {"a": "b"}}, "application/merge-patch+json")
check("no-op updates keep the resourceVersion",
      after_put["metadata"]["resourceVersion"] == same["metadata"]["resourceVersion"] ==
      after_patch["metadata"]["resourceVersion"] and after_put == same,
      (same["metadata"], after_put["metadata"], after_patch["metadata"]))
call("PATCH", cms + "/sel", {"metadata": {"labels": {"pick": None}}}, "application/merge-patch+json")
t.join(15)
check("selector transitions", out == [("ADDED", "sel", None), ("MODIFIED", "sel", None),
                                      ("DELETED", "sel", None)], out)

# more than the window (20 events) after rv: a watch from rv is expired
for i in range(25):
    call("POST", cms, {"metadata": {"name": "old-%d" % i}})
out, ready = [], threading.Semaphore(0)
watch(cms + "?watch=1&resourceVersion=%s" % rv, 1, out, ready)
check("410 Expired outside the window", out == [("ERROR", None, 410)], out)

# field selector: only the named object's events
out, ready = [], threading.Semaphore(0)
rv = call("GET", cms)["metadata"]["resourceVersion"]
t = threading.Thread(target=watch, args=(cms + "?watch=1&fieldSelector=metadata.name%%3Dfs&resourceVersion=%s" % rv, 2, out, ready))
t.start()
ready.acquire(timeout=10)
call("POST", cms, {"metadata": {"name": "other"}})
call("POST", cms, {"metadata": {"name": "fs"}})
call("DELETE", cms + "/fs")
t.join(15)
check("field selector watch", out == [("ADDED", "fs", None), ("DELETED", "fs", None)], out)

# WatchList (sendInitialEvents, on by default in 1.32): the current objects
# as ADDED, then a BOOKMARK annotated k8s.io/initial-events-end at the
# state's version, then the changes after it.
def with_meta(ev):
    meta = ev["object"]["metadata"]
    return ev["type"], meta.get("name"), meta.get("annotations"), int(meta["resourceVersion"])


wl = "/api/v1/namespaces/wl/configmaps"
call("POST", "/api/v1/namespaces", {"metadata": {"name": "wl"}})
for i in range(3):
    last = call("POST", wl, {"metadata": {"name": "wl-%d" % i}})
last_rv = int(last["metadata"]["resourceVersion"])
for n, rv_param in enumerate(("", "&resourceVersion=0", "&resourceVersion=%d" % last_rv)):
    out, ready = [], threading.Semaphore(0)
    t = threading.Thread(target=watch, args=(
        wl + "?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        "&allowWatchBookmarks=true" + rv_param, 5, out, ready, with_meta))
    t.start()
    ready.acquire(timeout=10)
    time.sleep(0.3)
    after = call("POST", wl, {"metadata": {"name": "wl-new-%d" % n}})
    t.join(15)
    names = [(o[0], o[1]) for o in out]
    ok = names[:3] == [("ADDED", "wl-%d" % i) for i in range(3)] and len(out) == 5 and \
        out[3][0] == "BOOKMARK" and out[3][2] == {"k8s.io/initial-events-end": "true"} and \
        out[3][3] >= last_rv and out[4][0] == "ADDED" and \
        out[4][3] == int(after["metadata"]["resourceVersion"]) > out[3][3]
    check("sendInitialEvents=true%s: initial events, their end, then changes" % rv_param, ok, out)
    call("DELETE", wl + "/" + after["metadata"]["name"])
    # A consistent list waits until the cache holds the delete: the next
    # round's resourceVersion=0 watch may be served from any cached state.
    call("GET", wl)
    for o in out[:3]:
        if o[2]:
            raise SystemExit("FAIL: an initial event carries annotations: %s" % (o,))

# sendInitialEvents=false without resourceVersion: from now, nothing initial
out, ready = [], threading.Semaphore(0)
t = threading.Thread(target=watch, args=(
    wl + "?watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan", 1, out, ready,
    with_meta))
t.start()
ready.acquire(timeout=10)
time.sleep(0.3)
call("POST", wl, {"metadata": {"name": "wl-late"}})
t.join(15)
check("sendInitialEvents=false: only what comes after", [(o[0], o[1]) for o in out] == [("ADDED", "wl-late")], out)

# Watchers indexed by an exact field value (spec.nodeName, as kubelets and the
# scheduler watch pods; metadata.name): a fan-out visits only the watchers of
# the values its events have, old and new state, with the same transitions.
pods = "/api/v1/namespaces/default/pods"
rv = call("GET", pods)["metadata"]["resourceVersion"]
sels = [("spec.nodeName%3Dn1", 4)] * 6 + [("spec.nodeName%3D", 2), ("metadata.name%3Dp2", 2),
                                         ("spec.nodeName%3Dn2", 1),
                                         ("metadata.name%3Dp2,spec.nodeName%3Dn1", 2)]
outs, threads, ready = [], [], threading.Semaphore(0)
for sel, want in sels:
    out = []
    outs.append(out)
    t = threading.Thread(target=watch, args=(pods + "?watch=1&fieldSelector=%s&resourceVersion=%s"
                                             % (sel, rv), want, out, ready))
    t.start()
    threads.append(t)
for _ in sels:
    ready.acquire(timeout=10)
spec = {"containers": [{"name": "c", "image": "busybox"}]}
call("POST", pods, {"metadata": {"name": "p1"}, "spec": spec})
call("POST", pods + "/p1/binding", {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p1"},
                                    "target": {"kind": "Node", "name": "n1"}})
call("POST", pods, {"metadata": {"name": "p2"}, "spec": dict(spec, nodeName="n1")})
call("PATCH", pods + "/p2", {"metadata": {"labels": {"x": "y"}}}, "application/merge-patch+json")
call("DELETE", pods + "/p1?gracePeriodSeconds=0")
call("POST", pods, {"metadata": {"name": "p3"}, "spec": dict(spec, nodeName="n2")})
for t in threads:
    t.join(15)
want = {"spec.nodeName%3Dn1": [("ADDED", "p1", None), ("ADDED", "p2", None),
                               ("MODIFIED", "p2", None), ("DELETED", "p1", None)],
        "spec.nodeName%3D": [("ADDED", "p1", None), ("DELETED", "p1", None)],
        "metadata.name%3Dp2": [("ADDED", "p2", None), ("MODIFIED", "p2", None)],
        "spec.nodeName%3Dn2": [("ADDED", "p3", None)],
        "metadata.name%3Dp2,spec.nodeName%3Dn1": [("ADDED", "p2", None), ("MODIFIED", "p2", None)]}
for (sel, _), out in zip(sels, outs):
    check("indexed watch fieldSelector=%s" % sel.replace("%3D", "="), out == want[sel], out)
for name in ("p2", "p3"):
    call("DELETE", pods + "/%s?gracePeriodSeconds=0" % name)

# An indexed watcher whose pods see no change still gets the periodic
# bookmark (every 10 s) at the version the others' changes reached.
out, ready = [], threading.Semaphore(0)
rv = call("GET", pods)["metadata"]["resourceVersion"]
t = threading.Thread(target=watch, args=(
    pods + "?watch=1&allowWatchBookmarks=true&fieldSelector=spec.nodeName%%3Dn9&resourceVersion=%s" % rv,
    1, out, ready, with_meta))
t.start()
ready.acquire(timeout=10)
last = call("POST", pods, {"metadata": {"name": "p4"}, "spec": dict(spec, nodeName="n1")})
t.join(15)
check("bookmark for an indexed watcher", len(out) == 1 and out[0][0] == "BOOKMARK" and
      out[0][3] >= int(last["metadata"]["resourceVersion"]), out)
call("DELETE", pods + "/p4?gracePeriodSeconds=0")
