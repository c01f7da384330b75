"""Load generator and history recorder for the k8c-store failover test
(failover.sh), in the manner of etcd's robustness tests.

  load PROTO_ROOT SCRATCH ENDPOINTS WATCH_FIRST PREFIX HISTORY RESULT STOP_FILE
      Several client threads do puts (unique values) and linearizable gets on
      a few keys under PREFIX (and a probe client only puts, with a short
      timeout), spread over the comma-separated ENDPOINTS; a failed call
      moves the client to the next endpoint. Every operation goes to HISTORY
      as one JSON line, flushed at once: invoke and return times
      (time.time()), the result or the error (an error or a timeout means the
      operation may or may not have taken effect). One watch from revision 1
      on PREFIX starts on endpoint WATCH_FIRST; when its stream breaks it is
      created again on the next endpoint from the last seen revision + 1.
      When STOP_FILE appears (or after MAX_SECONDS, FAILOVER_MAX_SECONDS in
      the environment) the load stops, the final state of PREFIX is read
      back, the watch runs until it has seen the final revision, each
      endpoint replays the whole history (a new watch from revision 1), and
      RESULT gets {"final", "keys", "watch", "replicas"} as JSON.
  wait-write HISTORY SINCE TIMEOUT [FROM]
      Waits until HISTORY holds a successful put invoked at or after SINCE (a
      time.time() value) and prints its return time minus FROM (default
      SINCE) in seconds; exits 1 after TIMEOUT seconds without one. (The
      fault is injected at FROM; SINCE is taken once it has surely landed, so
      a put that slipped in just before it does not count.)
  burst PROTO_ROOT SCRATCH ENDPOINT N PREFIX
      N puts in flight at once to ENDPOINT (the leader batches them into a
      few raft entries); exits 1 unless all succeed. Used by maint.sh.

Only grpcio and protobuf from Debian are needed: protoc --python_out compiles
proto/etcd/*.proto at test time and calls go through channel.unary_unary and
channel.stream_stream with the message classes."""
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time

CLIENTS = 6
KEYS = 4
OP_TIMEOUT = 2.0  # seconds; a call still unanswered then is recorded as unknown
# One more client, the probe, only puts, with a short timeout, so the time
# until a write succeeds after a fault is not the other clients' timeout.
PROBE_TIMEOUT = 0.3
PROBE_THINK = 0.02
THINK = 0.005  # pause between two operations of one client
ERROR_PAUSE = 0.02  # pause after a failed call before the next one
# the load stops by itself after this long
MAX_SECONDS = float(os.environ.get("FAILOVER_MAX_SECONDS", "150"))
WATCH_CATCHUP = 20  # seconds the watch may take to reach the final revision

# Every channel gets its own connection and reconnects quickly after a peer
# comes back, instead of waiting out grpc's default backoff (up to 120 s).
CHANNEL_OPTIONS = [
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
    ("grpc.enable_retries", 0),
]
# The watch also pings, so a stream to a stopped (SIGSTOP) peer breaks.
WATCH_OPTIONS = CHANNEL_OPTIONS + [
    ("grpc.keepalive_time_ms", 1000),
    ("grpc.keepalive_timeout_ms", 1500),
    ("grpc.http2.max_pings_without_data", 0),
]


def load_protos(proto_root, out_dir):
    """Compiles proto/etcd/*.proto and returns (rpc_pb2, kv_pb2)."""
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run(["protoc", "--proto_path=" + proto_root, "--python_out=" + out_dir,
                    "etcd/kv.proto", "etcd/auth.proto", "etcd/rpc.proto"], check=True)
    sys.path.insert(0, out_dir)
    from etcd import kv_pb2, rpc_pb2  # generated above; pylint: disable=import-outside-toplevel
    return rpc_pb2, kv_pb2


def prefix_end(prefix):
    b = bytearray(prefix)
    b[-1] += 1
    return bytes(b)


class Recorder:
    """Appends one JSON line per operation to the history file."""

    def __init__(self, path):
        self.f = open(path, "w", encoding="utf-8")
        self.lock = threading.Lock()
        self.n = 0

    def write(self, rec):
        with self.lock:
            rec["id"] = self.n
            self.n += 1
            self.f.write(json.dumps(rec, sort_keys=True) + "\n")
            self.f.flush()

    def close(self):
        with self.lock:
            self.f.close()


def error_text(e):
    code = e.code() if hasattr(e, "code") else None
    details = e.details() if hasattr(e, "details") else str(e)
    return "%s: %s" % (code.name if code else "?", details)


class Stubs:
    def __init__(self, pb, channel):
        self.put = channel.unary_unary("/etcdserverpb.KV/Put", pb.PutRequest.SerializeToString,
                                       pb.PutResponse.FromString)
        self.range = channel.unary_unary("/etcdserverpb.KV/Range",
                                         pb.RangeRequest.SerializeToString,
                                         pb.RangeResponse.FromString)
        self.watch = channel.stream_stream("/etcdserverpb.Watch/Watch",
                                           pb.WatchRequest.SerializeToString,
                                           pb.WatchResponse.FromString)


def client_loop(cid, pb, grpc, endpoints, keys, rec, stop, probe=False):
    channels = [grpc.insecure_channel(e, options=CHANNEL_OPTIONS) for e in endpoints]
    stubs = [Stubs(pb, ch) for ch in channels]
    rng = random.Random(cid * 7919 + 1)
    cur = cid % len(endpoints)
    seq = 0
    while not stop.is_set():
        key = rng.choice(keys)
        op = {"client": cid, "key": key.decode(), "ep": cur}
        if probe or rng.random() < 0.5:
            value = "c%d-%d" % (cid, seq)
            seq += 1
            op.update(type="put", value=value)
            req = pb.PutRequest(key=key, value=value.encode())
            call = stubs[cur].put
        else:
            op.update(type="get")
            req = pb.RangeRequest(key=key)
            call = stubs[cur].range
        op["invoke"] = time.time()
        try:
            resp = call(req, timeout=PROBE_TIMEOUT if probe else OP_TIMEOUT)
            op["return"] = time.time()
            op["ok"] = True
            op["rev"] = resp.header.revision
            op["member"] = "%x" % resp.header.member_id
            if op["type"] == "get":
                if resp.kvs:
                    op["value"] = resp.kvs[0].value.decode()
                    op["mod_rev"] = resp.kvs[0].mod_revision
                else:
                    op["value"] = None
        except grpc.RpcError as e:
            op["return"] = time.time()
            op["ok"] = False
            op["err"] = error_text(e)
        rec.write(op)
        if not op["ok"]:
            cur = (cur + 1) % len(endpoints)
            time.sleep(ERROR_PAUSE)
        else:
            time.sleep(PROBE_THINK if probe else THINK)
    for ch in channels:
        ch.close()


class Watcher:
    """One logical watch on the prefix from revision 1, re-created on the next
    endpoint from the last seen revision + 1 whenever its stream breaks."""

    def __init__(self, pb, grpc, endpoints, first, prefix):
        self.pb, self.grpc, self.endpoints, self.cur = pb, grpc, endpoints, first
        self.prefix = prefix
        self.events, self.streams = [], []
        self.next_rev = 1
        self.target = None  # stop once next_rev > target
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.call = None
        self.reached = threading.Event()

    def _requests(self, start, q):
        cr = self.pb.WatchCreateRequest(key=self.prefix, range_end=prefix_end(self.prefix),
                                        start_revision=start)
        yield self.pb.WatchRequest(create_request=cr)
        q.get()  # blocks until the stream is closed from our side

    def _check_reached(self):
        if self.target is not None and self.next_rev > self.target:
            self.reached.set()

    def run(self, deadline):
        channels = [self.grpc.insecure_channel(e, options=WATCH_OPTIONS) for e in self.endpoints]
        while not self.done.is_set() and time.time() < deadline:
            q = queue.Queue()
            start = self.next_rev
            stream = {"ep": self.cur, "start_revision": start, "opened": time.time()}
            stub = Stubs(self.pb, channels[self.cur])
            with self.lock:
                self.call = stub.watch(self._requests(start, q))
            try:
                for resp in self.call:
                    now = time.time()
                    if resp.created:
                        stream["created"] = now
                    if resp.canceled:
                        stream["canceled"] = resp.cancel_reason or "canceled"
                        stream["compact_revision"] = resp.compact_revision
                        break
                    for ev in resp.events:
                        kv = ev.kv
                        self.events.append({
                            "type": "DELETE" if ev.type == 1 else "PUT",
                            "key": kv.key.decode(), "value": kv.value.decode(),
                            "mod_rev": kv.mod_revision, "create_rev": kv.create_revision,
                            "version": kv.version, "ep": self.cur, "time": now})
                        self.next_rev = max(self.next_rev, kv.mod_revision + 1)
                    self._check_reached()
            except self.grpc.RpcError as e:
                stream["error"] = error_text(e)
            q.put(None)
            stream["closed"] = time.time()
            stream["last_rev"] = self.next_rev - 1
            self.streams.append(stream)
            if self.done.is_set() or "canceled" in stream:
                break
            self.cur = (self.cur + 1) % len(self.endpoints)
            time.sleep(0.05)
        for ch in channels:
            ch.close()

    def finish(self, target, timeout):
        """Waits (timeout s at most) until the watch has seen revision target,
        then ends it. Returns whether it got there."""
        self.target = target
        self._check_reached()
        ok = self.reached.wait(timeout)
        self.done.set()
        with self.lock:
            if self.call is not None:
                self.call.cancel()
        return ok


def final_state(pb, grpc, endpoints, prefix):
    """The final values under prefix (a linearizable range), from whichever
    endpoint answers first; 30 s at most."""
    deadline = time.time() + 30
    i = 0
    last_err = None
    while time.time() < deadline:
        ch = grpc.insecure_channel(endpoints[i % len(endpoints)], options=CHANNEL_OPTIONS)
        try:
            resp = Stubs(pb, ch).range(
                pb.RangeRequest(key=prefix, range_end=prefix_end(prefix)), timeout=5)
            return {"revision": resp.header.revision, "ep": i % len(endpoints),
                    "kvs": [{"key": kv.key.decode(), "value": kv.value.decode(),
                             "mod_rev": kv.mod_revision, "create_rev": kv.create_revision,
                             "version": kv.version} for kv in resp.kvs]}
        except grpc.RpcError as e:
            last_err = error_text(e)
        finally:
            ch.close()
        i += 1
        time.sleep(0.2)
    raise SystemExit("final range failed on every endpoint: %s" % last_err)


def replay(pb, grpc, endpoint, prefix, target, timeout):
    """The history of prefix as endpoint's replica has it: (revision, key,
    value) of every event of a watch from revision 1 up to target."""
    ch = grpc.insecure_channel(endpoint, options=CHANNEL_OPTIONS)
    q = queue.Queue()

    def requests():
        cr = pb.WatchCreateRequest(key=prefix, range_end=prefix_end(prefix), start_revision=1)
        yield pb.WatchRequest(create_request=cr)
        q.get()

    events, error = [], None
    call = Stubs(pb, ch).watch(requests(), timeout=timeout)
    try:
        for resp in call:
            for ev in resp.events:
                events.append((ev.kv.mod_revision, ev.kv.key.decode(), ev.kv.value.decode()))
            if resp.canceled or (events and events[-1][0] >= target):
                break
    except grpc.RpcError as e:
        error = error_text(e)
    q.put(None)
    call.cancel()
    ch.close()
    return {"ep": endpoint, "events": events, "error": error}


def cmd_load(argv):
    import grpc  # pylint: disable=import-outside-toplevel

    proto_root, scratch, endpoints, watch_first, prefix, history, result, stop_file = argv
    endpoints = endpoints.split(",")
    prefix = prefix.encode()
    pb, _ = load_protos(proto_root, scratch)
    keys = [prefix + b"k%d" % i for i in range(KEYS)]
    rec = Recorder(history)
    stop = threading.Event()
    deadline = time.time() + MAX_SECONDS

    watcher = Watcher(pb, grpc, endpoints, int(watch_first), prefix)
    wthread = threading.Thread(target=watcher.run, args=(deadline + WATCH_CATCHUP + 40,))
    wthread.start()
    threads = [threading.Thread(target=client_loop,
                                args=(c, pb, grpc, endpoints, keys, rec, stop, c == CLIENTS))
               for c in range(CLIENTS + 1)]
    for t in threads:
        t.start()
    while not os.path.exists(stop_file) and time.time() < deadline:
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join()
    rec.close()
    final = final_state(pb, grpc, endpoints, prefix)
    reached = watcher.finish(final["revision"], WATCH_CATCHUP)
    wthread.join(10)
    replicas = [replay(pb, grpc, e, prefix, final["revision"], 15) for e in endpoints]
    out = {"final": final, "keys": [k.decode() for k in keys], "endpoints": endpoints,
           "watch": {"events": watcher.events, "streams": watcher.streams,
                     "reached_final": reached},
           "replicas": replicas}
    with open(result, "w", encoding="utf-8") as f:
        json.dump(out, f)
    print("load: %d operations, %d watch events over %d watch streams, final revision %d"
          % (rec.n, len(watcher.events), len(watcher.streams), final["revision"]), flush=True)
    # A thread stuck in a call must not keep the process alive.
    os._exit(0 if not wthread.is_alive() else 3)


def cmd_wait_write(argv):
    history, since, timeout = argv[0], float(argv[1]), float(argv[2])
    start = float(argv[3]) if len(argv) > 3 else since
    end = time.time() + timeout
    pos = 0
    buf = ""
    while time.time() < end:
        if not os.path.exists(history):  # the load is still starting
            time.sleep(0.05)
            continue
        with open(history, encoding="utf-8") as f:
            f.seek(pos)
            buf += f.read()
            pos = f.tell()
        lines = buf.split("\n")
        buf = lines.pop()
        for line in lines:
            op = json.loads(line)
            if op["type"] == "put" and op["ok"] and op["invoke"] >= since:
                print("%.3f" % (op["return"] - start))
                return 0
        time.sleep(0.02)
    return 1


def cmd_burst(argv):
    """N puts of PREFIX<i> to ENDPOINT all in flight at once (so the leader
    batches many requests per raft entry); fails unless every one succeeds."""
    import grpc  # pylint: disable=import-outside-toplevel

    proto_root, scratch, endpoint, n, prefix = argv
    pb, _ = load_protos(proto_root, scratch)
    with grpc.insecure_channel(endpoint) as ch:
        put = ch.unary_unary("/etcdserverpb.KV/Put", pb.PutRequest.SerializeToString,
                             pb.PutResponse.FromString)
        futures = [put.future(pb.PutRequest(key=b"%s%d" % (prefix.encode(), i), value=b"v" * 100),
                              timeout=30) for i in range(int(n))]
        failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        print("burst: %d of %s puts failed, first: %s" % (len(failed), n, failed[0]))
        return 1
    print("burst: %s puts ok" % n)
    return 0


def cmd_require_leader(argv):
    """Two watches on ENDPOINT, one with etcd's require-leader metadata
    ("hasleader": "true"); prints "ready" once both are created, then, while
    the caller stops the other members, expects the require-leader one to end
    UNAVAILABLE "etcdserver: no leader" within SECONDS and the plain one to
    stay open; then a new require-leader watch is refused at once."""
    import grpc  # pylint: disable=import-outside-toplevel

    proto_root, scratch, endpoint, seconds = argv
    pb, _ = load_protos(proto_root, scratch)
    ch = grpc.insecure_channel(endpoint, options=CHANNEL_OPTIONS)
    watch = ch.stream_stream("/etcdserverpb.Watch/Watch", pb.WatchRequest.SerializeToString,
                             pb.WatchResponse.FromString)
    events = queue.Queue()
    stop = threading.Event()

    def requests():
        yield pb.WatchRequest(create_request=pb.WatchCreateRequest(key=b"/require-leader"))
        stop.wait()

    def run(name, metadata):
        try:
            for resp in watch(requests(), metadata=metadata):
                if resp.created:
                    events.put((name, "created", ""))
            events.put((name, "ended", ""))
        except grpc.RpcError as e:
            events.put((name, "error", "%s %s" % (e.code().name, e.details())))

    for name, md in (("plain", None), ("rl", [("hasleader", "true")])):
        threading.Thread(target=run, args=(name, md), daemon=True).start()
    got = {}
    while len(got) < 2:
        name, what, detail = events.get(timeout=10)
        got[name] = what
    print("ready", flush=True)
    deadline = time.time() + float(seconds)
    rl_end = None
    while rl_end is None and time.time() < deadline:
        try:
            name, what, detail = events.get(timeout=0.2)
        except queue.Empty:
            continue
        if name == "plain":
            print("the plain watch ended: %s %s" % (what, detail))
            return 1
        rl_end = "%s %s" % (what, detail)
    if rl_end != "error UNAVAILABLE etcdserver: no leader":
        print("the require-leader watch: %s" % (rl_end or "still open after %s s" % seconds))
        return 1
    try:
        name, what, detail = events.get(timeout=1)
        print("the plain watch ended too: %s %s" % (what, detail))
        return 1
    except queue.Empty:
        pass
    threading.Thread(target=run, args=("rl2", [("hasleader", "true")]), daemon=True).start()
    name, what, detail = events.get(timeout=5)
    if (name, what, detail) != ("rl2", "error", "UNAVAILABLE etcdserver: no leader"):
        print("a new require-leader watch: %s %s %s" % (name, what, detail))
        return 1
    print("require-leader: ended with %s; the plain watch stays; a new one is refused" % rl_end)
    stop.set()
    return 0


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "require-leader":
        return cmd_require_leader(sys.argv[2:])
    if len(sys.argv) == 7 and sys.argv[1] == "burst":
        return cmd_burst(sys.argv[2:])
    if len(sys.argv) == 10 and sys.argv[1] == "load":
        return cmd_load(sys.argv[2:])
    if len(sys.argv) in (5, 6) and sys.argv[1] == "wait-write":
        return cmd_wait_write(sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
