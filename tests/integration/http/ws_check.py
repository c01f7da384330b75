"""Websocket echo on lib/http checked with python websocket-client (the
library the Python kubernetes client uses for exec and port-forward)."""
import sys

import websocket

addr = sys.argv[1]
ws = websocket.create_connection("ws://%s/ws" % addr, timeout=5,
                                 subprotocols=["v5.channel.k8s.io", "v4.channel.k8s.io"])
assert ws.getsubprotocol() == "v5.channel.k8s.io", ws.getsubprotocol()
print("ok: subprotocol", ws.getsubprotocol())
ws.send("hello")
assert ws.recv() == "hello"
print("ok: text echo")
payload = bytes([1]) + b"stdout bytes \x00\xff"
ws.send_binary(payload)
op, data = ws.recv_data()
assert op == websocket.ABNF.OPCODE_BINARY and data == payload, (op, data)
print("ok: binary echo")
big = bytes(range(256)) * 2000  # 512000 bytes, several frames on the wire
ws.send_binary(big)
op, data = ws.recv_data()
assert data == big, len(data)
print("ok: 512 KB message")
ws.ping(b"are you there")
op, frame = ws.recv_data_frame(control_frame=True)
assert op == websocket.ABNF.OPCODE_PONG and frame.data == b"are you there", (op, frame.data)
print("ok: ping answered with pong")
ws.close(status=1000)
print("ok: closed")

# Without the upgrade the endpoint answers 400.
import urllib.request
try:
    urllib.request.urlopen("http://%s/ws" % addr, timeout=5)
    raise SystemExit("FAIL: plain GET /ws was not refused")
except urllib.error.HTTPError as e:
    assert e.code == 400, e.code
print("ok: plain GET refused")
