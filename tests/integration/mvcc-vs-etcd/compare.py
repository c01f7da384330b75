#!/usr/bin/python3
"""Runs script.txt against store/mvcc (mvcc-replay) and against a real etcd
3.4 single node on 127.0.0.1 (etcdctl -w json), and compares revision,
create/mod revision, version, value, count, deleted, txn outcome and error
messages command by command. Usage: compare.py <mvcc-replay> <script>"""
import base64, json, os, shutil, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from freeport import free_port  # noqa: E402

def b64(s):
    return base64.b64decode(s).decode() if s else ""

def kvs_of(o):
    return [[b64(kv.get("key")), int(kv.get("create_revision", 0)), int(kv.get("mod_revision", 0)),
             int(kv.get("version", 0)), b64(kv.get("value"))] for kv in o.get("kvs", []) or []]

def main():
    replay, script = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="k8c-mvcc-vs-etcd-")
    etcd = None
    try:
        cport, pport = free_port(), free_port()
        ep = "http://127.0.0.1:%d" % cport
        etcd = subprocess.Popen(
            ["etcd", "--name", "n1", "--data-dir", tmp + "/etcd",
             "--listen-client-urls", ep, "--advertise-client-urls", ep,
             "--listen-peer-urls", "http://127.0.0.1:%d" % pport,
             "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % pport,
             "--initial-cluster", "n1=http://127.0.0.1:%d" % pport],
            stdout=subprocess.DEVNULL, stderr=open(tmp + "/etcd.log", "w"))
        env = dict(os.environ, ETCDCTL_API="3")
        def ctl(args, stdin=None):
            return subprocess.run(["etcdctl", "--endpoints", ep, "--command-timeout=5s"] + args,
                                  input=stdin, capture_output=True, text=True, env=env, timeout=20)
        deadline = time.time() + 20
        while ctl(["endpoint", "health"]).returncode != 0:
            if time.time() > deadline or etcd.poll() is not None:
                print("etcd did not become healthy; log:\n" + open(tmp + "/etcd.log").read()[-2000:])
                return 1
            time.sleep(0.2)

        lines = [l.split() for l in open(script) if l.strip()]
        out = subprocess.run([replay, tmp + "/mvcc"], stdin=open(script), capture_output=True,
                             text=True, timeout=30)
        if out.returncode != 0:
            print("mvcc-replay failed:", out.stderr)
            return 1
        ours = [json.loads(l) for l in out.stdout.splitlines()]

        theirs = []
        for w in lines:
            def rng(args, key, end):
                args.append(key)
                if end == "ALL":
                    args.append("--from-key")
                elif end not in (None, "-"):
                    args.append(end)
                return args
            if w[0] == "put":
                r = ctl(["put", w[1], w[2], "-w", "json"])
            elif w[0] == "del":
                r = ctl(rng(["del", "-w", "json"], w[1], w[2] if len(w) > 2 else None))
            elif w[0] == "get":
                a = rng(["get", "-w", "json"], w[1], w[2] if len(w) > 2 else None)
                if len(w) > 3:
                    a.append("--rev=" + w[3])
                r = ctl(a)
            elif w[0] == "cas":
                r = ctl(["txn", "-w", "json"],
                        stdin='mod("%s") = "%s"\n\nput %s %s\n\nget %s\n\n' % (w[1], w[2], w[1], w[3], w[1]))
            elif w[0] == "compact":
                r = ctl(["compact", w[1]])
            if r.returncode != 0:
                msg = r.stderr.strip().splitlines()[-1]
                theirs.append({"error": msg[len("Error: "):] if msg.startswith("Error: ") else msg})
                continue
            if w[0] == "compact":
                theirs.append({"compacted": int(w[1])})
                continue
            o = json.loads(r.stdout)
            rev = int(o["header"]["revision"])
            if w[0] == "put":
                theirs.append({"rev": rev})
            elif w[0] == "del":
                theirs.append({"rev": rev, "deleted": int(o.get("deleted", 0))})
            elif w[0] == "get":
                theirs.append({"rev": rev, "count": int(o.get("count", 0)), "kvs": kvs_of(o)})
            elif w[0] == "cas":
                d = {"rev": rev, "succeeded": bool(o.get("succeeded", False))}
                if not d["succeeded"]:
                    rr = o["responses"][0]["Response"]["ResponseRange"]
                    d["kvs"] = kvs_of(rr)
                theirs.append(d)

        bad = 0
        for i, w in enumerate(lines):
            a = ours[i] if i < len(ours) else None
            b = theirs[i]
            status = "ok " if a == b else "DIFF"
            if a != b:
                bad += 1
            print("%s %-22s etcd=%s k8c=%s" % (status, " ".join(w), json.dumps(b), json.dumps(a)))
        print("%d commands, %d differences" % (len(lines), bad))
        return 1 if bad else 0
    finally:
        if etcd is not None:
            etcd.send_signal(signal.SIGTERM)
            try:
                etcd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                etcd.kill()
                etcd.wait()
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(main())
