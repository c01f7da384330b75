"""Checks a history recorded by failover_client.py, in the manner of etcd's
robustness tests (which use porcupine).

  check HISTORY RESULT [--min-watch-streams N]
      (a) durability: every acknowledged put is in the store's history (the
          watch, replayed on every replica) at the revision its response
          named, and each key's final value is its last acknowledged put or a
          later unacknowledged one;
      (b) linearizability of each key as a register (Wing & Gong's search as
          improved by Lowe, with memoization of (linearized set, state), per
          key by P-compositionality), plus real-time order of revisions
          across all keys;
      (c) the watch saw every revision once, in order, without gaps up to
          the final range's revision, and every re-created stream started at
          the last seen revision + 1.
      Prints the history size and exits 1 on the first violated property.
  selftest
      Runs the checks on small hand-made histories, linearizable and not,
      and exits 1 unless each gets the expected verdict.

An operation that failed or timed out may or may not have taken effect. A
failed get has no effect and is dropped. A failed put is kept if its value
(unique per put) was ever observed, with no return time: it may take effect
at any time after its invoke (as porcupine models etcd's failed puts), but no
later than the return of any successful operation that saw a revision at or
after the one the watch shows it at. A failed put whose value nobody ever saw
did not take effect (the watch is complete, by (c)) and is dropped."""
import json
import math
import sys

INF = math.inf
MAX_STEPS = 5_000_000  # search steps per key before the checker gives up


class Violation(Exception):
    pass


# --- (b) Lowe's linearizability search for one register ---------------------

class _Entry:
    __slots__ = ("op", "idx", "is_call", "time", "match", "prev", "next")

    def __init__(self, op, idx, is_call, t):
        self.op, self.idx, self.is_call, self.time = op, idx, is_call, t
        self.match = self.prev = self.next = None


def _step(state, op):
    """The register model: (ok, new state). A put always succeeds; a get must
    return the current value (None: the key does not exist)."""
    if op["type"] == "put":
        return True, op["value"]
    return state == op["value"], state


def check_register(ops, init=None, max_steps=MAX_STEPS):
    """Searches for a linearization of ops (dicts with type "put" or "get",
    value, invoke and return; return may be INF) of one register starting at
    init. Returns (True, None) or (False, explanation). Raises Violation when
    the search exceeds max_steps (no verdict: counted as a failure)."""
    entries = []
    for i, op in enumerate(ops):
        call = _Entry(op, i, True, op["invoke"])
        ret = _Entry(op, i, False, op["return"])
        call.match = ret
        entries += [call, ret]
    # By time; at equal times calls first, which makes the operations overlap.
    entries.sort(key=lambda e: (e.time, 0 if e.is_call else 1))
    head = _Entry(None, -1, True, -INF)
    prev = head
    for e in entries:
        prev.next, e.prev = e, prev
        prev = e

    def lift(e):
        e.prev.next = e.next
        e.next.prev = e.prev
        m = e.match
        m.prev.next = m.next
        if m.next is not None:
            m.next.prev = m.prev

    def unlift(e):
        m = e.match
        m.prev.next = m
        if m.next is not None:
            m.next.prev = m
        e.prev.next = e
        e.next.prev = e

    linearized = 0
    state = init
    cache = set()
    calls = []
    entry = head.next
    steps = 0
    deepest = (0, None)  # most operations linearized, and the return we stuck at
    while head.next is not None:
        steps += 1
        if steps > max_steps:
            raise Violation("linearizability search gave up after %d steps (%d operations)"
                            % (max_steps, len(ops)))
        if entry.is_call:
            ok, new_state = _step(state, entry.op)
            if ok:
                new_lin = linearized | (1 << entry.idx)
                key = (new_lin, new_state)
                if key not in cache:
                    cache.add(key)
                    calls.append((entry, state))
                    state = new_state
                    linearized = new_lin
                    lift(entry)
                    entry = head.next
                    continue
            entry = entry.next
        else:
            # A return whose call is not linearized yet: nothing after it can
            # come first, so undo the last choice.
            if len(calls) >= deepest[0]:
                deepest = (len(calls), entry.op, state)
            if not calls:
                _, op, st = deepest
                return False, ("no linearization: after %d operations the register holds %r, "
                               "and operation %s cannot be placed" % (deepest[0], st, fmt_op(op)))
            entry, state = calls.pop()
            linearized &= ~(1 << entry.idx)
            unlift(entry)
            entry = entry.next
    return True, None


def fmt_op(op):
    if op is None:
        return "?"
    ret = "inf" if op["return"] == INF else "%.3f" % op["return"]
    res = op["value"] if op["type"] == "put" else "-> %r" % (op["value"],)
    return "[id %s client %s %s %s %r [%.3f, %s]%s]" % (
        op.get("id"), op.get("client"), op["type"], op.get("key"), res, op["invoke"], ret,
        "" if op.get("ok", True) else " failed: " + op.get("err", ""))


# --- preparing a recorded history --------------------------------------------

def prepare(ops, events, final):
    """The per-key histories for check_register: failed gets dropped, failed
    puts kept (with an upper bound on their return) only if their value was
    observed in a get, the watch or the final range. Returns {key: [ops]}."""
    observed = {}
    for ev in events:
        observed.setdefault(ev["value"], ev["mod_rev"])
    for kv in final["kvs"]:
        observed.setdefault(kv["value"], kv["mod_rev"])
    for op in ops:
        if op["type"] == "get" and op["ok"] and op["value"] is not None:
            observed.setdefault(op["value"], op.get("mod_rev", 0))
    # ok operations by revision seen: a failed put at revision r took effect
    # before any operation that saw revision >= r returned.
    seen = sorted((op["rev"], op["return"]) for op in ops if op["ok"])
    min_ret_from = [INF] * (len(seen) + 1)
    for i in range(len(seen) - 1, -1, -1):
        min_ret_from[i] = min(seen[i][1], min_ret_from[i + 1])

    def bound(rev):
        lo, hi = 0, len(seen)
        while lo < hi:
            mid = (lo + hi) // 2
            if seen[mid][0] < rev:
                lo = mid + 1
            else:
                hi = mid
        return min_ret_from[lo]

    per_key = {}
    dropped = 0
    for op in ops:
        if op["ok"]:
            per_key.setdefault(op["key"], []).append(op)
        elif op["type"] == "put" and op["value"] in observed:
            rev = observed[op["value"]]
            op = dict(op)
            op["return"] = bound(rev) if rev else INF
            if op["return"] < op["invoke"]:
                op["return"] = op["invoke"]  # checked separately (revision order)
            per_key.setdefault(op["key"], []).append(op)
        else:
            dropped += 1
    return per_key, dropped


def check_revision_order(ops):
    """Across all keys: an operation invoked after another returned sees at
    least its revision, and a put gets a revision above it."""
    done = sorted((op for op in ops if op["ok"]), key=lambda o: o["return"])
    started = sorted((op for op in ops if op["ok"]), key=lambda o: o["invoke"])
    i = 0
    best = None
    for b in started:
        while i < len(done) and done[i]["return"] < b["invoke"]:
            if best is None or done[i]["rev"] > best["rev"]:
                best = done[i]
            i += 1
        if best is None:
            continue
        if b["rev"] < best["rev"] or (b["type"] == "put" and b["rev"] == best["rev"]):
            raise Violation("revision went back in real time: %s returned revision %d, then %s "
                            "invoked later got revision %d"
                            % (fmt_op(best), best["rev"], fmt_op(b), b["rev"]))
    revs = {}
    for op in ops:
        if op["ok"] and op["type"] == "put":
            if op["rev"] in revs:
                raise Violation("two acknowledged puts got revision %d: %s and %s"
                                % (op["rev"], fmt_op(revs[op["rev"]]), fmt_op(op)))
            revs[op["rev"]] = op


# --- (a) and (c): the store's history ----------------------------------------

def check_watch(result, ops, min_streams=1):
    watch = result["watch"]
    events = watch["events"]
    final = result["final"]
    if not watch.get("reached_final"):
        raise Violation("the watch never reached the final revision %d (last seen %d)"
                        % (final["revision"], events[-1]["mod_rev"] if events else 0))
    prev_rev = 1  # revision 1 is the empty store
    for ev in events:
        if ev["mod_rev"] <= prev_rev:
            raise Violation("watch event out of order or repeated: revision %d after %d (%r)"
                            % (ev["mod_rev"], prev_rev, ev))
        if ev["mod_rev"] != prev_rev + 1:
            raise Violation("watch skipped revisions %d..%d" % (prev_rev + 1, ev["mod_rev"] - 1))
        if ev["type"] != "PUT":
            raise Violation("unexpected watch event %r" % ev)
        prev_rev = ev["mod_rev"]
    if prev_rev != final["revision"]:
        raise Violation("the watch ends at revision %d, the final range is at %d"
                        % (prev_rev, final["revision"]))
    streams = watch["streams"]
    for a, b in zip(streams, streams[1:]):
        if b["start_revision"] != a["last_rev"] + 1:
            raise Violation("watch re-created from revision %d after seeing %d"
                            % (b["start_revision"], a["last_rev"]))
    if len(streams) < min_streams:
        raise Violation("the watch stream never broke and resumed (%d streams, expected %d)"
                        % (len(streams), min_streams))

    # Every event is one put of the history, each key's versions count up.
    puts = {op["value"]: op for op in ops if op["type"] == "put"}
    by_value = {}
    version = {}
    for ev in events:
        op = puts.get(ev["value"])
        if op is None or op["key"] != ev["key"]:
            raise Violation("watch event of no put of the history: %r" % ev)
        if ev["value"] in by_value:
            raise Violation("one put applied twice: revisions %d and %d (%r)"
                            % (by_value[ev["value"]]["mod_rev"], ev["mod_rev"], ev))
        by_value[ev["value"]] = ev
        want = version.get(ev["key"], 0) + 1
        if ev["version"] != want:
            raise Violation("key %s version %d at revision %d, expected %d"
                            % (ev["key"], ev["version"], ev["mod_rev"], want))
        version[ev["key"]] = want
    # (a) Every acknowledged put is there, at the revision it was told.
    for op in ops:
        if op["type"] != "put" or not op["ok"]:
            continue
        ev = by_value.get(op["value"])
        if ev is None:
            raise Violation("acknowledged put lost: %s (revision %d) is in no watch event"
                            % (fmt_op(op), op["rev"]))
        if ev["mod_rev"] != op["rev"]:
            raise Violation("acknowledged put %s answered revision %d but the history has it "
                            "at %d" % (fmt_op(op), op["rev"], ev["mod_rev"]))
    # A get that returned a mod revision returned that put's value.
    for op in ops:
        if op["type"] == "get" and op["ok"] and op["value"] is not None:
            ev = by_value.get(op["value"])
            if ev is None or ev["mod_rev"] != op.get("mod_rev", ev["mod_rev"]):
                raise Violation("get %s returned a value at mod revision %s that the history "
                                "does not have there" % (fmt_op(op), op.get("mod_rev")))
    # (a) Final values: the last acknowledged put or a later unacknowledged one.
    last_event = {}
    for ev in events:
        last_event[ev["key"]] = ev
    final_kvs = {kv["key"]: kv for kv in final["kvs"]}
    for key in set(last_event) | set(final_kvs):
        kv, ev = final_kvs.get(key), last_event.get(key)
        if kv is None or ev is None or (kv["value"], kv["mod_rev"]) != (ev["value"], ev["mod_rev"]):
            raise Violation("final range and watch disagree on %s: %r vs %r" % (key, kv, ev))
    for key in result.get("keys", []):
        acked = [op for op in ops if op["type"] == "put" and op["ok"] and op["key"] == key]
        if not acked:
            continue
        last = max(acked, key=lambda o: o["rev"])
        kv = final_kvs.get(key)
        if kv is None:
            raise Violation("key %s missing at the end; last acknowledged put %s"
                            % (key, fmt_op(last)))
        if kv["value"] != last["value"]:
            other = puts.get(kv["value"])
            if other is None or other["ok"] or kv["mod_rev"] < last["rev"]:
                raise Violation("key %s ends with %r (revision %d), not its last acknowledged "
                                "put %s nor a later unacknowledged one"
                                % (key, kv["value"], kv["mod_rev"], fmt_op(last)))
    # Every replica replays the same history.
    want = [(ev["mod_rev"], ev["key"], ev["value"]) for ev in events]
    for rep in result.get("replicas", []):
        got = [tuple(x) for x in rep["events"]]
        if got != want:
            diff = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y),
                        min(len(got), len(want)))
            raise Violation("replica %s replays a different history: %d events vs %d, first "
                            "difference at #%d: %r vs %r (watch error: %s)"
                            % (rep["ep"], len(got), len(want), diff,
                               got[diff] if diff < len(got) else None,
                               want[diff] if diff < len(want) else None, rep.get("error")))
    return by_value


def check_all(ops, result, min_streams=1, quiet=False):
    """All checks; raises Violation. Returns a summary dict."""
    check_watch(result, ops, min_streams)
    check_revision_order(ops)
    per_key, dropped = prepare(ops, result["watch"]["events"], result["final"])
    n = 0
    for key in sorted(per_key):
        kops = per_key[key]
        ok, why = check_register(kops)
        if not ok:
            raise Violation("key %s is not linearizable: %s" % (key, why))
        n += len(kops)
        if not quiet:
            print("ok: key %s linearizable (%d operations)" % (key, len(kops)), flush=True)
    return {"checked": n, "dropped": dropped}


# --- summary -----------------------------------------------------------------

def summary(ops, result):
    puts = [op for op in ops if op["type"] == "put"]
    gets = [op for op in ops if op["type"] == "get"]
    print("history: %d operations (%d puts: %d ok, %d failed or timed out; %d gets: %d ok, "
          "%d failed or timed out); %d watch events over %d watch streams; final revision %d"
          % (len(ops), len(puts), sum(o["ok"] for o in puts), sum(not o["ok"] for o in puts),
             len(gets), sum(o["ok"] for o in gets), sum(not o["ok"] for o in gets),
             len(result["watch"]["events"]), len(result["watch"]["streams"]),
             result["final"]["revision"]))
    ok_puts = sorted(o["return"] for o in puts if o["ok"])
    if len(ok_puts) > 1:
        gaps = sorted(((b - a), a) for a, b in zip(ok_puts, ok_puts[1:]))
        print("longest intervals without a successful put: %s" % ", ".join(
            "%.3f s" % g for g, _ in reversed(gaps[-3:])))
    errors = {}
    for op in ops:
        if not op["ok"]:
            e = op["err"][:70]
            errors[e] = errors.get(e, 0) + 1
    for e, c in sorted(errors.items(), key=lambda x: -x[1])[:8]:
        print("  %5d x %s" % (c, e))
    for s in result["watch"]["streams"]:
        print("watch stream on endpoint %d from revision %d to %d: %s"
              % (s["ep"], s["start_revision"], s["last_rev"],
                 s.get("error") or s.get("canceled") or "ended"))


def cmd_check(argv):
    min_streams = 1
    if len(argv) == 4 and argv[2] == "--min-watch-streams":
        min_streams = int(argv[3])
    elif len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        ops = [json.loads(line) for line in f if line.strip()]
    with open(argv[1], encoding="utf-8") as f:
        result = json.load(f)
    summary(ops, result)
    try:
        s = check_all(ops, result, min_streams)
    except Violation as e:
        print("FAIL: %s" % e, flush=True)
        return 1
    print("ok: every acknowledged put is in the history; the final values are the last "
          "acknowledged puts or later unacknowledged ones")
    print("ok: the watch saw every revision once, in order")
    print("ok: history linearizable: %d operations checked (%d failed operations without "
          "effect dropped)" % (s["checked"], s["dropped"]))
    return 0


# --- self-test ---------------------------------------------------------------

def _op(i, typ, value, t0, t1, ok=True, rev=0, key="k", **kw):
    d = {"id": i, "client": i, "type": typ, "key": key, "value": value, "invoke": t0,
         "return": t1, "ok": ok, "rev": rev}
    if not ok:
        d["err"] = "DEADLINE_EXCEEDED: test"
    d.update(kw)
    return d


def _register_cases():
    """(name, ops, linearizable?) for check_register."""
    P, G = "put", "get"
    return [
        ("sequential put then get", [_op(0, P, "a", 0, 1), _op(1, G, "a", 2, 3)], True),
        ("initial get of a missing key", [_op(0, G, None, 0, 1), _op(1, P, "a", 2, 3)], True),
        ("stale read after a later put returned",
         [_op(0, P, "a", 0, 1), _op(1, P, "b", 2, 3), _op(2, G, "a", 4, 5)], False),
        ("read of a value never written", [_op(0, P, "a", 0, 1), _op(1, G, "zz", 2, 3)], False),
        ("read before the put was invoked", [_op(0, G, "a", 0, 1), _op(1, P, "a", 2, 3)], False),
        ("concurrent put seen late, then stays",
         [_op(0, P, "a", 0, 10), _op(1, G, None, 1, 2), _op(2, G, "a", 3, 4),
          _op(3, G, "a", 5, 6)], True),
        ("new-old inversion during a put",
         [_op(0, P, "a", 0, 10), _op(1, G, "a", 1, 2), _op(2, G, None, 3, 4)], False),
        ("two concurrent puts in either order",
         [_op(0, P, "a", 0, 10), _op(1, P, "b", 0, 10), _op(2, G, "b", 1, 2),
          _op(3, G, "a", 3, 4)], True),
        ("two concurrent puts seen a, b, a",
         [_op(0, P, "a", 0, 10), _op(1, P, "b", 0, 10), _op(2, G, "a", 1, 2),
          _op(3, G, "b", 3, 4), _op(4, G, "a", 5, 6)], False),
        ("unknown put may take effect late",
         [_op(0, P, "x", 0, INF, ok=False), _op(1, P, "a", 1, 2), _op(2, G, "a", 3, 4),
          _op(3, G, "x", 50, 51)], True),
        ("unknown put seen, then gone without a put",
         [_op(0, P, "x", 0, INF, ok=False), _op(1, G, "x", 1, 2), _op(2, G, None, 3, 4)], False),
        ("unknown put seen before its invoke",
         [_op(0, G, "x", 0, 1), _op(1, P, "x", 2, INF, ok=False)], False),
    ]


def _fake_result(ops, events=None, final=None, streams=None):
    """A RESULT for hand-made histories: by default the puts' values in
    revision order as watch events, and the last of them as the final state."""
    if events is None:
        events, version = [], {}
        for op in sorted((o for o in ops if o["type"] == "put" and o["ok"]),
                         key=lambda o: o["rev"]):
            version[op["key"]] = version.get(op["key"], 0) + 1
            events.append({"type": "PUT", "key": op["key"], "value": op["value"],
                           "mod_rev": op["rev"], "version": version[op["key"]]})
    if final is None:
        last = {}
        for ev in events:
            last[ev["key"]] = ev
        final = {"revision": events[-1]["mod_rev"] if events else 1,
                 "kvs": [{"key": k, "value": e["value"], "mod_rev": e["mod_rev"]}
                         for k, e in sorted(last.items())]}
    if streams is None:
        streams = [{"ep": 0, "start_revision": 1, "last_rev": final["revision"]}]
    keys = sorted({op["key"] for op in ops})
    return {"final": final, "keys": keys,
            "watch": {"events": events, "streams": streams, "reached_final": True}}


def _history_cases():
    """(name, ops, result, accepted?) for check_all: whole recorded histories."""
    P, G = "put", "get"
    good = [_op(0, P, "a", 0, 1, rev=2), _op(1, G, "a", 2, 3, rev=2, mod_rev=2),
            _op(2, P, "b", 4, 5, rev=3), _op(3, G, "b", 6, 7, rev=3, mod_rev=3),
            _op(4, P, "c", 8, 9, rev=4, key="j")]
    cases = [("a good history", good, _fake_result(good), True)]
    # A get served by a lagging replica: stale value, revision went back.
    stale = good + [_op(5, G, "a", 10, 11, rev=2, mod_rev=2)]
    cases.append(("stale read from a lagging replica", stale, _fake_result(stale), False))
    # The same stale value with a current revision: only the register check
    # can tell.
    stale2 = good + [_op(5, G, "a", 10, 11, rev=4, mod_rev=2)]
    cases.append(("stale value under a current revision", stale2, _fake_result(stale2), False))
    # An acknowledged put missing from the store's history.
    res = _fake_result(good)
    res["watch"]["events"] = [e for e in res["watch"]["events"] if e["value"] != "c"]
    res["final"]["revision"] = 3
    res["final"]["kvs"] = [kv for kv in res["final"]["kvs"] if kv["key"] != "j"]
    cases.append(("acknowledged put lost", good, res, False))
    # The final value is an older acknowledged put (a rolled-back write).
    res = _fake_result(good)
    res["final"]["kvs"] = [kv if kv["key"] != "k" else {"key": "k", "value": "a", "mod_rev": 2}
                           for kv in res["final"]["kvs"]]
    cases.append(("final value rolled back", good, res, False))
    # The watch repeats a revision after resuming.
    res = _fake_result(good)
    ev = res["watch"]["events"]
    res["watch"]["events"] = ev[:2] + [ev[1]] + ev[2:]
    cases.append(("watch event repeated", good, res, False))
    # The watch skips a revision.
    res = _fake_result(good)
    res["watch"]["events"] = [e for e in res["watch"]["events"] if e["mod_rev"] != 3]
    cases.append(("watch gap", good, res, False))
    # Watch resumed from the wrong revision.
    res = _fake_result(good, streams=[{"ep": 0, "start_revision": 1, "last_rev": 2},
                                      {"ep": 1, "start_revision": 4, "last_rev": 4}])
    cases.append(("watch resumed past a revision", good, res, False))
    # A failed put that took effect and was read: fine.
    unk = good + [_op(5, P, "x", 10, 11, ok=False), _op(6, G, "x", 12, 13, rev=5, mod_rev=5)]
    res = _fake_result(unk)
    res["watch"]["events"].append({"type": "PUT", "key": "k", "value": "x", "mod_rev": 5,
                                   "version": 3})
    res["final"] = {"revision": 5, "kvs": [{"key": "j", "value": "c", "mod_rev": 4},
                                           {"key": "k", "value": "x", "mod_rev": 5}]}
    cases.append(("failed put that took effect", unk, res, True))
    return cases


def cmd_selftest():
    bad = 0
    for name, ops, want in _register_cases():
        ok, why = check_register(ops)
        verdict = "accepted" if ok else "rejected"
        good = ok == want
        bad += not good
        print("%s selftest register: %s: %s%s" % ("ok:  " if good else "FAIL:", name, verdict,
                                                    "" if ok else " (%s)" % why))
    for name, ops, res, want in _history_cases():
        try:
            check_all(ops, res, quiet=True)
            ok, why = True, ""
        except Violation as e:
            ok, why = False, " (%s)" % e
        good = ok == want
        bad += not good
        print("%s selftest history: %s: %s%s" % ("ok:  " if good else "FAIL:", name,
                                                   "accepted" if ok else "rejected", why))
    total = len(_register_cases()) + len(_history_cases())
    print("%d passed, %d failed" % (total - bad, bad))
    return 1 if bad else 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "selftest":
        return cmd_selftest()
    if len(sys.argv) >= 2 and sys.argv[1] == "check":
        return cmd_check(sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
