"""Sends malformed gRPC traffic to our C echo server with nghttp (a plain
HTTP/2 client that knows nothing about gRPC) and raw sockets, and checks that
each bad request gets a clean gRPC error and that the server keeps serving.
Usage: garbage.py PORT"""
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

port = int(sys.argv[1])
url = "http://127.0.0.1:%d" % port
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok  ", name, flush=True)
    else:
        failed += 1
        print("FAIL", name, detail, flush=True)


def frame(body, flag=0, length=None):
    return bytes([flag]) + struct.pack(">I", len(body) if length is None else length) + body


def nghttp(path, body, content_type="application/grpc"):
    """POSTs body; returns (http_status, grpc_status, grpc_message, output)."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(body)
        f.flush()
        out = subprocess.run(["nghttp", "-v", "-t", "10", "-H", "content-type: " + content_type,
                              "-H", "te: trailers", "-d", f.name, url + path],
                             capture_output=True, timeout=20)
    text = out.stdout.decode("utf-8", "replace")
    status = re.search(r"recv \(stream_id=\d+\) :status: (\d+)", text)
    gstatus = re.findall(r"recv \(stream_id=\d+\) grpc-status: (\d+)", text)
    gmsg = re.findall(r"recv \(stream_id=\d+\) grpc-message: (.*)", text)
    return (int(status.group(1)) if status else None, int(gstatus[-1]) if gstatus else None,
            gmsg[-1].strip() if gmsg else None, text)


def valid_call(name):
    req = b"\x0a\x02hi"  # EchoRequest{message: "hi"}
    http, gs, gm, text = nghttp("/k8c.test.Echo/Unary", frame(req))
    check(name, http == 200 and gs == 0 and "hi" in text, (http, gs, gm))


valid_call("valid unary call via nghttp")

http, gs, gm, text = nghttp("/k8c.test.Echo/Unary", frame(b"\x0a\x02hi", length=100))
check("lying length prefix -> INTERNAL", http == 200 and gs == 13, (http, gs, gm, text[-2000:]))

http, gs, gm, text = nghttp("/k8c.test.Echo/Unary", frame(b"x" * 10, length=5 * 1024 * 1024))
check("oversize prefix -> RESOURCE_EXHAUSTED with upstream message",
      gs == 8 and gm == "grpc: received message larger than max (5242880 vs. 4194304)",
      (http, gs, gm))

http, gs, gm, text = nghttp("/k8c.test.Echo/Unary", frame(b"\x0a\x02hi", flag=1))
check("compressed flag -> UNIMPLEMENTED", gs == 12, (http, gs, gm))

http, gs, gm, text = nghttp("/k8c.test.Echo/Unary", frame(b"\xff\xff\xff\xff\x0f"))
check("undecodable protobuf -> INTERNAL", gs == 13, (http, gs, gm))

http, gs, gm, text = nghttp("/k8c.test.Echo/Unary", frame(b"\x0a\x02hi")[:3])
check("stream ends inside the prefix -> INTERNAL", gs == 13, (http, gs, gm))

http, gs, gm, text = nghttp("/k8c.test.Echo/Unary", frame(b"\x0a\x02hi") * 2)
check("two messages on a unary call -> error status", gs is not None and gs != 0,
      (http, gs, gm))

http, gs, gm, text = nghttp("/k8c.test.Echo/Unary", frame(b""), content_type="text/plain")
check("wrong content-type -> HTTP 415", http == 415, (http, gs, gm))

http, gs, gm, text = nghttp("/k8c.test.Echo/Missing", frame(b""))
check("unknown method -> UNIMPLEMENTED (trailers-only)", http == 200 and gs == 12, (http, gs, gm))

# Connection-level garbage: not HTTP/2 at all, and a broken frame after a valid preface.
# (A first byte that can start a method makes the parser begin a request
# before it fails: the error response must still end the connection.)
for name, payload in (("random bytes", os.urandom(4096)),
                      ("a method's first letter, then garbage", b"G\x01" + os.urandom(100)),
                      ("bad frame after preface",
                       b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" +
                       b"\xff\xff\xff\x00\x00\x00\x00\x00\x01" + os.urandom(100))):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(payload)
        s.settimeout(5)
        while s.recv(4096):
            pass
        closed = True
    except (socket.timeout, ConnectionResetError):
        closed = not isinstance(sys.exc_info()[1], socket.timeout)
    finally:
        s.close()
    check("server closed a connection after " + name, closed)

def stats():
    """Calls Unary{message: "stats"} and returns EchoReply.index (cancelled calls seen)."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(frame(b"\x0a\x05stats"))
        f.flush()
        out = subprocess.run(["nghttp", "-t", "10", "-H", "content-type: application/grpc",
                              "-d", f.name, url + "/k8c.test.Echo/Unary"],
                             capture_output=True, timeout=20).stdout
    body = out[5:5 + struct.unpack(">I", out[1:5])[0]]
    i, index = 0, 0
    while i < len(body):  # minimal protobuf walk: fields 1 (bytes) and 3 (varint)
        key = body[i]
        i += 1
        if key & 7 == 2:
            i += 1 + body[i]
        elif key & 7 == 0:
            shift = 0
            while True:
                b = body[i]
                i += 1
                if key >> 3 == 3:
                    index |= (b & 0x7f) << shift
                shift += 7
                if not b & 0x80:
                    break
    return index


# A client that disconnects (no RST_STREAM) in the middle of a server stream:
# the server must notice and cancel the call.
before = stats()
with tempfile.NamedTemporaryFile() as f:
    f.write(frame(b"\x0a\x04slow\x18\x64"))  # EchoRequest{message: "slow", count: 100}
    f.flush()
    p = subprocess.Popen(["nghttp", "-H", "content-type: application/grpc", "-d", f.name,
                          url + "/k8c.test.Echo/ServerStream"], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    p.kill()
    p.wait()
after = before
for _ in range(50):
    after = stats()
    if after > before:
        break
    time.sleep(0.05)
check("client disconnect mid-stream cancels the call on the server", after > before,
      (before, after))

# A connection that stalls inside the HTTP/2 preface is closed by the server's
# setup deadline (10 s) instead of being held forever.
s = socket.create_connection(("127.0.0.1", port), timeout=20)
t0 = time.time()
s.sendall(b"PRI * HTTP/2.0\r\n")
try:
    closed = s.recv(100) == b""
except (socket.timeout, ConnectionResetError):
    closed = False
s.close()
check("stalled connection closed by the setup deadline", closed and time.time() - t0 < 15,
      time.time() - t0)

valid_call("server still serving after garbage")
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
