"""Drives some gRPC traffic into our C echo server, then scrapes /metrics,
/healthz, /livez and /readyz with curl and checks the Prometheus text and the
kube-apiserver style health output.
Usage: metrics_check.py PROTO_ROOT SCRATCH PORT NOT_READY_FILE"""
import os
import re
import subprocess
import sys

import grpc

import echo_pb

proto_root, scratch, port, not_ready = sys.argv[1:5]
pb = echo_pb.load(proto_root, scratch)
base = "http://127.0.0.1:%s" % port
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok  ", name, flush=True)
    else:
        failed += 1
        print("FAIL", name, detail, flush=True)


def curl(path, *extra):
    out = subprocess.run(["curl", "-sS", "-m", "10", "-w", "\n%{http_code}", *extra, base + path],
                         capture_output=True, timeout=20, check=True).stdout.decode()
    body, _, code = out.rpartition("\n")
    return int(code), body


def sample(text, name, labels):
    """Value of the sample `name{labels}` (labels given as a dict), or None."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if got == labels:
            return float(m.group(4))
    return None


channel = grpc.insecure_channel("127.0.0.1:" + port)
unary = channel.unary_unary(echo_pb.UNARY, pb.EchoRequest.SerializeToString,
                            pb.EchoReply.FromString)
sstream = channel.unary_stream(echo_pb.SERVER_STREAM, pb.EchoRequest.SerializeToString,
                               pb.EchoReply.FromString)
for i in range(7):
    unary(pb.EchoRequest(message="x"), timeout=10)
try:
    unary(pb.EchoRequest(message="nope", fail_code=5), timeout=10)
except grpc.RpcError:
    pass
list(sstream(pb.EchoRequest(message="s", count=5), timeout=10))
channel.close()

# Plain HTTP/1.1 (as Prometheus scrapes) and HTTP/2 (prior knowledge) both work.
code, text = curl("/metrics")
check("/metrics answers 200 over HTTP/1.1", code == 200, code)
code2, text2 = curl("/metrics", "--http2-prior-knowledge")
check("/metrics answers 200 over HTTP/2", code2 == 200 and "grpc_server_started_total" in text2,
      code2)
code3, _ = curl("/nope")
check("unknown path -> 404", code3 == 404, code3)
ctype = subprocess.run(["curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{content_type}",
                        base + "/metrics"], capture_output=True, check=True).stdout.decode()
check("/metrics content type is text format 0.0.4", "version=0.0.4" in ctype, ctype)
unary_ok = {"grpc_service": "k8c.test.Echo", "grpc_method": "Unary", "grpc_type": "unary",
            "grpc_code": "OK"}
check("grpc_server_handled_total counts OK unary calls",
      sample(text, "grpc_server_handled_total", unary_ok) == 7,
      sample(text, "grpc_server_handled_total", unary_ok))
check("grpc_server_handled_total counts NOT_FOUND",
      sample(text, "grpc_server_handled_total", dict(unary_ok, grpc_code="NotFound")) == 1)
stream = {"grpc_service": "k8c.test.Echo", "grpc_method": "ServerStream",
          "grpc_type": "server_stream"}
check("grpc_server_msg_sent_total counts streamed replies",
      sample(text, "grpc_server_msg_sent_total", stream) == 5,
      sample(text, "grpc_server_msg_sent_total", stream))
hist = {k: v for k, v in unary_ok.items() if k != "grpc_code"}
check("grpc_server_started_total", sample(text, "grpc_server_started_total", hist) == 8)
check("handling-time histogram count",
      sample(text, "grpc_server_handling_seconds_count", hist) == 8)
check("handling-time histogram +Inf bucket",
      sample(text, "grpc_server_handling_seconds_bucket", dict(hist, le="+Inf")) == 8)
check("echo server's own counter", sample(text, "k8c_echo_requests_total",
                                          {"method": "Unary"}) == 8)
check("a gauge is present", re.search(r"^# TYPE k8c_echo_active_calls gauge$", text, re.M)
      is not None)

for ep in ("healthz", "livez", "readyz"):
    code, body = curl("/" + ep)
    check("/%s ok" % ep, code == 200 and body == "ok", (code, body))
code, body = curl("/readyz?verbose")
check("/readyz?verbose lists checks", code == 200 and "[+]ping ok" in body and
      "[+]echo-ready ok" in body and body.rstrip().endswith("readyz check passed"), body)

open(not_ready, "w").close()
code, body = curl("/readyz?verbose")
check("failing check -> 500 with [-]name failed: reason",
      code == 500 and re.search(r"^\[-\]echo-ready failed: .+", body, re.M) is not None and
      "readyz check failed" in body, (code, body))
code, body = curl("/readyz")
check("failing /readyz without verbose -> 500", code == 500, code)
code, body = curl("/livez")
check("/livez unaffected by a readiness check", code == 200 and body == "ok", (code, body))
code, body = curl("/readyz?exclude=echo-ready")
check("/readyz?exclude= skips the failing check", code == 200, (code, body))
os.unlink(not_ready)
code, body = curl("/readyz")
check("/readyz ok again", code == 200 and body == "ok", (code, body))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
