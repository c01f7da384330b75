#!/usr/bin/python3
"""Websocket checks of the API server's stream proxy that kubectl cannot make:
port-forward in the Python client's v4.channel.k8s.io dialect, stdin volume
through exec (client -> kubelet direction), and backpressure: a reader that
stops reading must stop the kubelet, not grow the API server.

Usage: proxy_client.py API_URL PKI_DIR APISERVER_PID
"""
import json
import ssl
import sys
import time

import websocket

api, pki, api_pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
sslopt = {"ca_certs": f"{pki}/ca.crt", "certfile": f"{pki}/client.crt",
          "keyfile": f"{pki}/client.key", "cert_reqs": ssl.CERT_REQUIRED}
ws_base = api.replace("https://", "wss://")


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL: {name} {detail}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {name} {detail}".rstrip())


def connect(path, proto):
    ws = websocket.create_connection(ws_base + path, sslopt=sslopt, subprotocols=[proto],
                                     timeout=30)
    return ws


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---- port-forward, v4 channels: port announced on data and error channel ----
ws = connect("/api/v1/namespaces/default/pods/p/portforward?ports=8080", "v4.channel.k8s.io")
check("portforward subprotocol", ws.subprotocol == "v4.channel.k8s.io", ws.subprotocol)
first = [ws.recv(), ws.recv()]
check("portforward port frames", first == [b"\x00\x90\x1f", b"\x01\x90\x1f"], repr(first))
ws.send_binary(b"\x00hello through the api server")
check("portforward echo", ws.recv() == b"\x00HELLO THROUGH THE API SERVER")
ws.close()

# ---- exec with stdin: 8 MB in, the same 8 MB back ----
ws = connect("/api/v1/namespaces/default/pods/p/exec?command=cat&stdin=true&stdout=true",
             "v5.channel.k8s.io")
total = 8 * 1024 * 1024
block = bytes(range(256)) * 256  # 64 KiB


# One thread, in lockstep (send a block, read its echo): an SSL socket must
# not be read and written from two threads at once.
got, status, mismatch, sent = 0, None, False, 0
while sent < total:
    ws.send_binary(b"\x00" + block)
    sent += len(block)
    while got < sent:
        msg = ws.recv()
        if not msg or msg[0] != 1:
            break
        data = msg[1:]
        if data != (block * 2)[got % len(block):got % len(block) + len(data)]:
            mismatch = True
        got += len(data)
ws.send_binary(b"\xff\x00")  # v5: stdin closed
while True:
    msg = ws.recv()
    if not msg:
        break
    if msg[0] == 1:
        got += len(msg) - 1
    elif msg[0] == 3:
        status = json.loads(msg[1:])
        break
ws.close()
check("exec stdin round trip", got == total and not mismatch, f"got={got} mismatch={mismatch}")
check("exec status", status is not None and status.get("status") == "Success", repr(status))

# ---- backpressure: a reader that pauses ----
ws = connect("/api/v1/namespaces/default/pods/p/exec?command=big&command=60000000&stdout=true",
             "v5.channel.k8s.io")
first = ws.recv()  # the first frame: the stream is running
before = rss_kb(api_pid)
time.sleep(3)  # not reading: the kubelet must be stopped by TCP backpressure
after = rss_kb(api_pid)
grown_mb = (after - before) / 1024
check("apiserver memory bounded while the reader pauses", grown_mb < 24,
      f"grew {grown_mb:.1f} MB (before {before} kB, after {after} kB)")
got, status = len(first) - 1, None
while True:
    msg = ws.recv()
    if msg[0] == 1:
        got += len(msg) - 1
    elif msg[0] == 3:
        status = json.loads(msg[1:])
        break
ws.close()
check("all bytes after the pause", got == 60000000, f"got={got}")
check("big status", status.get("status") == "Success", repr(status))
print("python proxy checks passed")
