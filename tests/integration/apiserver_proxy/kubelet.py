#!/usr/bin/python3
"""A stand-in kubelet for the API server's proxy tests: an HTTPS server on
127.0.0.1 that serves the kubelet paths the API server forwards to.

  GET /containerLogs/<ns>/<pod>/<container>?follow&tailLines&timestamps...
      five lines "<container> line <i>"; tailLines keeps the last N;
      timestamps prefixes a fixed RFC 3339 time; follow then streams
      "<container> follow <i>" every 20 ms (at most 3000) until the reader
      goes away. Container "waiting" answers 400 as a kubelet does for a
      container that has not started.
  GET /exec/<ns>/<pod>/<container>?command=...   websocket v5.channel.k8s.io
      echo ARGS    -> ARGS on stdout, Success
      exit N       -> NonZeroExitCode N
      cat          -> stdin copied to stdout until stdin closes, Success
      big N        -> N bytes of 'x' (lines of 100) on stdout, Success
      stderr TEXT  -> TEXT on stderr, Success
  GET /attach/<ns>/<pod>/<container>  websocket: "attached to <container>"
  GET /portForward/<ns>/<pod>?port=P  websocket v4.channel.k8s.io as the
      Python client speaks it: the port on each channel first, then data on
      channel 0 is echoed back upper-cased.
  GET /healthz -> "ok"; any method /echo... -> JSON of what arrived (after
      a "100 Continue" interim response when the query has "interim").

Every request line is appended to --log as "METHOD TARGET" so the test can
check exactly what the API server sent. Upgrades other than websocket are
refused with 400 (no SPDY here).
"""
import argparse
import base64
import hashlib
import json
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
log_lock = threading.Lock()
args = None


def log_request(line):
    with log_lock:
        with open(args.log, "a") as f:
            f.write(line + "\n")


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def read_until(self, sep, limit=65536):
        while sep not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("head too large")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, data):
        self.sock.sendall(data)

    # ---- websocket (server side: frames unmasked out, masked in) ----
    def ws_send(self, opcode, payload):
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        self.send(head + payload)

    def ws_recv(self):
        """One whole message: (opcode, payload); pings answered."""
        message, first_op = b"", None
        while True:
            b0, b1 = self.read_exact(2)
            op, fin = b0 & 0x0F, b0 & 0x80
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self.read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.read_exact(8))[0]
            mask = self.read_exact(4) if b1 & 0x80 else None
            data = self.read_exact(n)
            if mask:
                data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
            if op == 9:
                self.ws_send(10, data)
                continue
            if op == 10:
                continue
            if op == 8:
                return 8, data
            if op != 0:
                first_op = op
            message += data
            if fin:
                return first_op, message


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return method, target, headers


def respond(c, status, body, ctype="text/plain", extra=None):
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Status")
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
    for k, v in (extra or {}).items():
        head += f"{k}: {v}\r\n"
    c.send((head + "Connection: close\r\n\r\n").encode() + body)


def container_logs(c, parts, query):
    container = parts[4]
    if container == "waiting":
        respond(c, 400, f'container "{container}" in pod "{parts[3]}" is waiting to start: '
                'ContainerCreating'.encode())
        return
    lines = [f"{container} line {i}" for i in range(1, 6)]
    if "tailLines" in query:
        n = int(query["tailLines"][0])
        lines = lines[len(lines) - n:] if n > 0 else []
    stamp = "2024-01-02T03:04:05.000000000Z " if query.get("timestamps") == ["true"] else ""
    if query.get("follow") != ["true"]:
        body = "".join(f"{stamp}{line}\n" for line in lines).encode()
        respond(c, 200, body)
        return
    c.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")

    def chunk(text):
        data = text.encode()
        c.send(b"%x\r\n%s\r\n" % (len(data), data))

    for line in lines:
        chunk(f"{stamp}{line}\n")
    for i in range(1, 3001):
        time.sleep(0.02)
        chunk(f"{stamp}{container} follow {i}\n")
    c.send(b"0\r\n\r\n")


def ws_accept(c, headers, protocols):
    offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
    proto = next((p for p in protocols if p in offered), None)
    if headers.get("upgrade", "").lower() != "websocket" or proto is None:
        respond(c, 400, b"websocket upgrade with a known subprotocol required")
        return None
    key = headers["sec-websocket-key"]
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    c.send((
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: {proto}\r\n\r\n").encode())
    return proto


def ws_finish(c, status):
    c.ws_send(2, b"\x03" + json.dumps(status).encode())
    c.ws_send(8, struct.pack("!H", 1000))
    c.sock.settimeout(5)
    try:
        while c.ws_recv()[0] != 8:
            pass
    except (EOFError, OSError, ValueError):
        pass


SUCCESS = {"metadata": {}, "status": "Success"}


def exit_status(code):
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def exec_stream(c, headers, parts, query):
    if ws_accept(c, headers, ["v5.channel.k8s.io"]) is None:
        return
    # A real process writes some time after the upgrade. client-go starts
    # reading before it has registered its streams and drops data for a
    # stream it has not created yet ("Unknown stream id 2, discarding
    # message"), so output sent at once is occasionally lost.
    time.sleep(0.1)
    cmd = query.get("command", [])
    if parts[1] == "attach":
        c.ws_send(2, b"\x01" + f"attached to {parts[4]}\n".encode())
        ws_finish(c, SUCCESS)
        return
    if not cmd:
        ws_finish(c, {"metadata": {}, "status": "Failure", "message": "no command"})
    elif cmd[0] == "echo":
        c.ws_send(2, b"\x01" + (" ".join(cmd[1:]) + "\n").encode())
        ws_finish(c, SUCCESS)
    elif cmd[0] == "stderr":
        c.ws_send(2, b"\x02" + (" ".join(cmd[1:]) + "\n").encode())
        ws_finish(c, SUCCESS)
    elif cmd[0] == "exit":
        ws_finish(c, exit_status(int(cmd[1])))
    elif cmd[0] == "big":
        left = int(cmd[1])
        line = b"x" * 99 + b"\n"
        while left > 0:
            n = min(left, 32000)
            c.ws_send(2, b"\x01" + (line * (n // 100 + 1))[:n])
            left -= n
        ws_finish(c, SUCCESS)
    elif cmd[0] == "cat":
        while True:
            op, msg = c.ws_recv()
            if op == 8:
                return
            if not msg:
                continue
            if msg[0] == 0:
                c.ws_send(2, b"\x01" + msg[1:])
            elif msg[0] == 255 and msg[1:2] == b"\x00":
                break
        ws_finish(c, SUCCESS)
    else:
        c.ws_send(2, b"\x02" + f"{cmd[0]}: not found\n".encode())
        ws_finish(c, exit_status(127))


def port_forward(c, headers, query):
    if ws_accept(c, headers, ["v4.channel.k8s.io"]) is None:
        return
    port = int(query.get("port", ["0"])[0].split(",")[0])
    c.ws_send(2, bytes([0]) + struct.pack("<H", port))
    c.ws_send(2, bytes([1]) + struct.pack("<H", port))
    while True:
        op, msg = c.ws_recv()
        if op == 8:
            c.ws_send(8, struct.pack("!H", 1000))
            return
        if msg and msg[0] == 0:
            c.ws_send(2, b"\x00" + msg[1:].upper())


def handle(raw, ctx):
    try:
        sock = ctx.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError):
        raw.close()
        return
    c = Conn(sock)
    try:
        method, target, headers = parse_head(c.read_until(b"\r\n\r\n"))
        body = c.read_exact(int(headers.get("content-length", "0")))
        log_request(f"{method} {target}")
        url = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        parts = url.path.split("/")
        if url.path.startswith("/containerLogs/") and len(parts) == 5:
            container_logs(c, parts, query)
        elif parts[1] in ("exec", "attach") and len(parts) == 5:
            exec_stream(c, headers, parts, query)
        elif parts[1] == "portForward" and len(parts) == 4:
            port_forward(c, headers, query)
        elif url.path == "/healthz":
            respond(c, 200, b"ok")
        elif url.path.startswith("/echo"):
            if "interim" in query:  # an interim response before the real one
                c.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            seen = {"method": method, "path": url.path, "query": url.query,
                    "body": body.decode("latin-1") if len(body) < 100 else f"{len(body)} bytes",
                    "authorization": headers.get("authorization"),
                    "expect": headers.get("expect"),
                    "x-test": headers.get("x-test")}
            respond(c, 200, json.dumps(seen, sort_keys=True).encode(), "application/json",
                    {"X-Kubelet": "stand-in"})
        else:
            respond(c, 404, b"404 page not found\n")
    except (EOFError, OSError, ValueError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--log", required=True)
    args = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.port))
    ls.listen(64)
    while True:
        s, _ = ls.accept()
        s.settimeout(60)
        threading.Thread(target=handle, args=(s, ctx), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
