"""Shared helpers for the gRPC integration tests: compiles proto/test/echo.proto
with protoc --python_out into a scratch directory and imports it, and names the
Echo service's methods. Only grpcio and protobuf from Debian are needed (no
grpcio-tools): calls go through generic handlers and channel.unary_unary etc.
with the message classes' SerializeToString/FromString."""
import importlib.util
import os
import subprocess

SERVICE = "k8c.test.Echo"
UNARY = "/k8c.test.Echo/Unary"
SERVER_STREAM = "/k8c.test.Echo/ServerStream"
CLIENT_STREAM = "/k8c.test.Echo/ClientStream"
BIDI = "/k8c.test.Echo/Bidi"


def load(proto_root, out_dir):
    """Runs protoc for test/echo.proto and returns the generated module."""
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run(["protoc", "--proto_path=" + proto_root, "--python_out=" + out_dir,
                    "test/echo.proto"], check=True)
    path = os.path.join(out_dir, "test", "echo_pb2.py")
    spec = importlib.util.spec_from_file_location("k8c_echo_pb2", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
