"""A grpcio (real gRPC core) implementation of k8c.test.Echo, which our C
client (k8c-grpc-echo-client) calls. Semantics, shared with the C server:
  Unary: echo message/payload; count > 0 sleeps count ms first; fail_code != 0
    aborts with that code and `message`. message "stats" replies with the
    number of server streams that saw their client cancel, in index.
  ServerStream: count replies, index 0..count-1; message "slow" waits 50 ms
    between replies (cancellation tests).
  ClientStream: concatenated messages, index = number of requests.
  Bidi: one reply per request, as it arrives, index = sequence number.
Usage: py_echo_server.py PROTO_ROOT SCRATCH ADDRESS [CERT KEY [CLIENT_CA]]
Prints "READY <port>" once serving (port 0 for unix sockets)."""
import sys
import threading
import time
from concurrent import futures

import grpc

import echo_pb

proto_root, scratch, address = sys.argv[1:4]
tls = sys.argv[4:]
pb = echo_pb.load(proto_root, scratch)
lock = threading.Lock()
cancelled_streams = 0


def unary(req, ctx):
    if req.message == "stats":
        with lock:
            return pb.EchoReply(message="stats", index=cancelled_streams)
    if req.fail_code:
        ctx.abort(grpc.StatusCode(_code(req.fail_code)), req.message)
    if req.count > 0:
        time.sleep(req.count / 1000.0)
    return pb.EchoReply(message=req.message, payload=req.payload)


def _code(n):
    for c in grpc.StatusCode:
        if c.value[0] == n:
            return c.value
    raise ValueError(n)


def server_stream(req, ctx):
    finished = [False]

    def on_termination():
        # Runs when the RPC ends for any reason; a stream that did not get to
        # its end was cancelled by the client.
        global cancelled_streams
        if not finished[0]:
            with lock:
                cancelled_streams += 1

    ctx.add_callback(on_termination)
    for i in range(req.count):
        if req.message == "slow":
            time.sleep(0.05)
            if not ctx.is_active():
                return
        yield pb.EchoReply(message=req.message, payload=req.payload, index=i)
    finished[0] = True


def client_stream(req_iter, ctx):
    msgs = [r.message for r in req_iter]
    return pb.EchoReply(message="".join(msgs), index=len(msgs))


def bidi(req_iter, ctx):
    for i, r in enumerate(req_iter):
        if r.fail_code:
            ctx.abort(grpc.StatusCode(_code(r.fail_code)), r.message)
        yield pb.EchoReply(message=r.message, payload=r.payload, index=i)


ser = pb.EchoReply.SerializeToString
de = pb.EchoRequest.FromString
handler = grpc.method_handlers_generic_handler(echo_pb.SERVICE, {
    "Unary": grpc.unary_unary_rpc_method_handler(unary, de, ser),
    "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream, de, ser),
    "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream, de, ser),
    "Bidi": grpc.stream_stream_rpc_method_handler(bidi, de, ser),
})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
server.add_generic_rpc_handlers((handler,))
if tls:
    cert = open(tls[0], "rb").read()
    key = open(tls[1], "rb").read()
    ca = open(tls[2], "rb").read() if len(tls) > 2 else None
    creds = grpc.ssl_server_credentials([(key, cert)], root_certificates=ca,
                                        require_client_auth=ca is not None)
    port = server.add_secure_port(address, creds)
else:
    port = server.add_insecure_port(address)
server.start()
print("READY", port, flush=True)
try:
    server.wait_for_termination()
except KeyboardInterrupt:
    pass
