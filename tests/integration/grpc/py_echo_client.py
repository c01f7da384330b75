"""Calls a k8c.test.Echo server (our C k8c-grpc-echo) with grpcio, the real
gRPC core, and checks every kind of call and the error paths. Exits non-zero
if any check fails; prints "N passed, N failed".
Usage: py_echo_client.py PROTO_ROOT SCRATCH TARGET [CA_CERT [CLIENT_CERT CLIENT_KEY]]"""
import sys
import time

import grpc

import echo_pb

proto_root, scratch, target = sys.argv[1:4]
tls = sys.argv[4:]
pb = echo_pb.load(proto_root, scratch)
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok  ", name, flush=True)
    else:
        failed += 1
        print("FAIL", name, detail, flush=True)


if tls:
    ca = open(tls[0], "rb").read()
    cert = open(tls[1], "rb").read() if len(tls) > 2 else None
    key = open(tls[2], "rb").read() if len(tls) > 2 else None
    creds = grpc.ssl_channel_credentials(ca, key, cert)
    # The test certificate is issued for "localhost".
    channel = grpc.secure_channel(target, creds,
                                  options=[("grpc.ssl_target_name_override", "localhost")])
else:
    channel = grpc.insecure_channel(target)

ser = pb.EchoRequest.SerializeToString
de = pb.EchoReply.FromString
unary = channel.unary_unary(echo_pb.UNARY, ser, de)
sstream = channel.unary_stream(echo_pb.SERVER_STREAM, ser, de)
cstream = channel.stream_unary(echo_pb.CLIENT_STREAM, ser, de)
bidi = channel.stream_stream(echo_pb.BIDI, ser, de)

# Unary, including an empty request and a 1 MiB payload.
r = unary(pb.EchoRequest(message="hello", payload=b"\x00\x01\xff"), timeout=10)
check("unary", r.message == "hello" and r.payload == b"\x00\x01\xff", r)
r = unary(pb.EchoRequest(), timeout=10)
check("unary empty message", r.message == "" and r.payload == b"", r)
big = bytes(range(256)) * 4096
r = unary(pb.EchoRequest(message="big", payload=big), timeout=20)
check("unary 1 MiB payload", r.payload == big, len(r.payload))

# Async reply after a delay, within the deadline.
r = unary(pb.EchoRequest(message="later", count=100), timeout=10)
check("unary delayed reply", r.message == "later")

# Many unary calls concurrently on one channel.
futs = [unary.future(pb.EchoRequest(message="m%d" % i), timeout=20) for i in range(200)]
check("200 concurrent unary calls",
      all(f.result().message == "m%d" % i for i, f in enumerate(futs)))

# Server streaming: 1000 replies exercise flow control and backpressure.
replies = list(sstream(pb.EchoRequest(message="s", payload=b"p" * 1000, count=1000), timeout=30))
check("server stream 1000 replies",
      len(replies) == 1000 and all(x.index == i for i, x in enumerate(replies)), len(replies))
# 16 MiB streamed to a client that starts reading late: the server must wait
# for the HTTP/2 window (on_writable) instead of queueing everything.
it = sstream(pb.EchoRequest(message="bulk", payload=b"q" * 65536, count=256), timeout=60)
time.sleep(1.0)
n = sum(1 for x in it if len(x.payload) == 65536)
maxq = unary(pb.EchoRequest(message="maxqueued"), timeout=10).index
check("server stream 16 MiB with backpressure (max queued %d bytes)" % maxq,
      n == 256 and 0 < maxq <= 1024 * 1024 + 65536 + 5, (n, maxq))
replies = list(sstream(pb.EchoRequest(message="none", count=0), timeout=10))
check("server stream zero replies", replies == [])

# Client streaming.
r = cstream(iter([pb.EchoRequest(message=c) for c in "abcdefghij"]), timeout=10)
check("client stream", r.message == "abcdefghij" and r.index == 10, r)
r = cstream(iter([]), timeout=10)
check("client stream empty", r.message == "" and r.index == 0, r)

# Bidi: replies arrive as requests are sent (ping-pong proves interleaving).
import queue
q = queue.Queue()


def gen():
    for i in range(20):
        q.put(i)
        yield pb.EchoRequest(message="b%d" % i)
        # Wait for the reply to this request before sending the next one.
        while not q.empty():
            time.sleep(0.001)


call = bidi(gen(), timeout=20)
got = []
for reply in call:
    got.append(reply.message)
    q.get()
check("bidi ping-pong", got == ["b%d" % i for i in range(20)], got)

# Status codes and messages (percent-encoded on the wire).
try:
    unary(pb.EchoRequest(message="no such thing: caf\u00e9 100%\nline2", fail_code=5), timeout=10)
    check("error status", False, "no error")
except grpc.RpcError as e:
    check("error status NOT_FOUND with message", e.code() == grpc.StatusCode.NOT_FOUND and
          e.details() == "no such thing: caf\u00e9 100%\nline2", (e.code(), e.details()))

# Deadline exceeded: the server waits 2 s, the deadline is 0.3 s.
t0 = time.time()
try:
    unary(pb.EchoRequest(message="slow", count=2000), timeout=0.3)
    check("deadline exceeded", False, "no error")
except grpc.RpcError as e:
    check("deadline exceeded", e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and
          time.time() - t0 < 1.5, (e.code(), time.time() - t0))

# Server-side deadline: a server stream that outlives its deadline is ended by
# the server with DEADLINE_EXCEEDED (or the client's own timer, whichever first).
try:
    list(sstream(pb.EchoRequest(message="slow", count=100), timeout=0.3))
    check("stream deadline", False, "no error")
except grpc.RpcError as e:
    check("stream deadline", e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, e.code())

# Unknown method and unknown service.
for path in ("/k8c.test.Echo/Nope", "/no.Such/Method"):
    try:
        channel.unary_unary(path, ser, de)(pb.EchoRequest(), timeout=10)
        check("unimplemented " + path, False, "no error")
    except grpc.RpcError as e:
        check("unimplemented " + path, e.code() == grpc.StatusCode.UNIMPLEMENTED, e.code())

# Client cancels a slow server stream; the server counts the cancellation.
before = unary(pb.EchoRequest(message="stats"), timeout=10).index
it = sstream(pb.EchoRequest(message="slow", count=1000), timeout=30)
first = next(it)
it.cancel()
for _ in range(100):
    if unary(pb.EchoRequest(message="stats"), timeout=10).index > before:
        break
    time.sleep(0.05)
check("server saw cancellation", unary(pb.EchoRequest(message="stats"),
                                       timeout=10).index > before)

# Still healthy after all of the above.
r = unary(pb.EchoRequest(message="still here"), timeout=10)
check("server still serving", r.message == "still here")
channel.close()
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
