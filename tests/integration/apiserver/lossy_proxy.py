#!/usr/bin/env python3
"""A gRPC proxy in front of one etcd v3 server that can lose the answer of a
write it forwarded, as a store leader killed between commit and reply does.

Usage: lossy_proxy.py TARGET ARM_FILE PORT...

Every call on 127.0.0.1:PORT (each PORT) goes to TARGET unchanged, with its
metadata; streams (Watch, LeaseKeepAlive) go both ways. When ARM_FILE exists,
the next KV/Txn whose request bytes contain ARM_FILE's text is forwarded, its
answer dropped and UNAVAILABLE returned instead; ARM_FILE is removed then, so
the test knows an answer was lost. Runs until killed.
"""
import os
import sys
import threading
from concurrent import futures

import grpc

LIMIT = 64 << 20  # message size limit both ways
SKIP = ("user-agent", "te", "content-type")


def forward_metadata(ctx):
    return [(k, v) for k, v in ctx.invocation_metadata()
            if not k.startswith(":") and not k.startswith("grpc-") and k not in SKIP]


class Proxy(grpc.GenericRpcHandler):
    def __init__(self, target, arm_file):
        self.chan = grpc.insecure_channel(target, options=[
            ("grpc.max_receive_message_length", LIMIT),
            ("grpc.max_send_message_length", LIMIT)])
        self.arm_file = arm_file
        self.lock = threading.Lock()

    def armed_for(self, request):
        """Whether this request's answer is to be lost (disarms when so)."""
        with self.lock:
            try:
                with open(self.arm_file, "rb") as f:
                    text = f.read()
            except FileNotFoundError:
                return False
            if not text or text not in request:
                return False
            os.unlink(self.arm_file)
            return True

    def service(self, details):
        method = details.method
        if method.endswith("/Watch") or method.endswith("/LeaseKeepAlive"):
            call = self.chan.stream_stream(method)

            def stream(requests, ctx):
                answers = call(requests, metadata=forward_metadata(ctx))
                ctx.add_callback(answers.cancel)
                try:
                    for a in answers:
                        yield a
                except grpc.RpcError as e:
                    if e.code() != grpc.StatusCode.CANCELLED:
                        ctx.abort(e.code(), e.details())
            return grpc.stream_stream_rpc_method_handler(stream)

        call = self.chan.unary_unary(method)

        def unary(request, ctx):
            lose = method == "/etcdserverpb.KV/Txn" and self.armed_for(request)
            try:
                answer = call(request, metadata=forward_metadata(ctx), timeout=30)
            except grpc.RpcError as e:
                ctx.abort(e.code(), e.details())
            if lose:
                print("lost the answer of a Txn of %d bytes" % len(request), flush=True)
                ctx.abort(grpc.StatusCode.UNAVAILABLE, "lossy_proxy: the answer was lost")
            return answer
        return grpc.unary_unary_rpc_method_handler(unary)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    target, arm_file = sys.argv[1], sys.argv[2]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=256), options=[
        ("grpc.max_receive_message_length", LIMIT),
        ("grpc.max_send_message_length", LIMIT),
        # the API server's keepalive pings every few seconds of silence
        ("grpc.http2.min_ping_interval_without_data_ms", 500),
        ("grpc.http2.max_ping_strikes", 0)])
    server.add_generic_rpc_handlers((Proxy(target, arm_file),))
    for port in sys.argv[3:]:
        server.add_insecure_port("127.0.0.1:" + port)
    server.start()
    print("proxying to", target, "on", ", ".join(sys.argv[3:]), flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
