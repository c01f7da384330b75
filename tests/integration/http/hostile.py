"""Hostile clients against k8c-http-test-server (started with --setup-timeout=1s
--max-body=1Mi). Each case must get a clean error or a disconnect, and the
server must keep serving the others."""
import socket
import sys
import time

port = int(sys.argv[1])


def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def read_all(s, limit=1 << 20):
    data = b""
    try:
        while len(data) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def check(name, cond, detail=""):
    if not cond:
        raise SystemExit("FAIL: %s %s" % (name, detail))
    print("ok:", name)


# Garbage instead of a request line.
s = conn()
s.sendall(b"\x16\x03\x01garbage\x00\x01\x02\r\n\r\n")
r = read_all(s)
check("garbage gets 400", r.startswith(b"HTTP/1.1 400"), r[:80])

# A request line that is not HTTP.
s = conn()
s.sendall(b"GET / FTP/9.9\r\n\r\n")
check("bad version gets 400", read_all(s).startswith(b"HTTP/1.1 400"))

# Header block over the 64 KiB limit.
s = conn()
s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
r = read_all(s)
check("oversized headers get 431", r.startswith(b"HTTP/1.1 431"), r[:80])

# Body over the limit (declared length): 413, connection closed.
s = conn()
s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b"z" * 2000000)
r = read_all(s)
check("oversized body gets 413", r.startswith(b"HTTP/1.1 413"), r[:80])

# Lying chunked encoding.
s = conn()
s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n")
r = read_all(s)
check("bad chunk size gets 400", r.startswith(b"HTTP/1.1 400"), r[:80])

# Pipelined requests are answered in order on one connection.
s = conn()
s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /proto HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
r = read_all(s)
check("pipelining", r.count(b"HTTP/1.1 200") == 3 and r.index(b"hello") < r.index(b"HTTP/1.1\n"),
      r)

# Slow loris: half a request head, then silence: closed after the setup timeout.
s = conn()
s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
start = time.time()
r = read_all(s)
check("slow client disconnected by the setup timeout", r == b"" and time.time() - start < 4.5,
      "%r after %.1fs" % (r, time.time() - start))

# A client that vanishes mid-stream: the server notices and carries on.
s = conn()
s.sendall(b"GET /big?bytes=100000000 HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(65536)
s.close()
s = conn()
s.sendall(b"GET /stream?n=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(100)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
s.close()  # RST
time.sleep(0.3)

# HTTP/2: the preface then garbage frames: GOAWAY and disconnect.
s = conn()
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x04\x09\x00\x00\x00\x00\x01abcd" * 3)
r = read_all(s)
check("h2 garbage frame gets GOAWAY", b"\x07\x00\x00\x00\x00\x00" in r, r[:100])

# HTTP/2 frame with a lying length (larger than SETTINGS_MAX_FRAME_SIZE).
s = conn()
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
          + b"\xff\xff\xff\x00\x00\x00\x00\x00\x01")
r = read_all(s)
check("h2 oversized frame gets GOAWAY", b"\x07\x00\x00\x00\x00\x00" in r, r[:100])

# A slow reader of a big response: the server's queue stays bounded.
s = conn()
s.sendall(b"GET /big?bytes=200000000 HTTP/1.1\r\nHost: x\r\n\r\n")
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
time.sleep(1.0)
s2 = conn()
s2.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
stats = read_all(s2).split(b"\r\n\r\n", 1)[1].decode()
queued = int(stats.split("max_queued=")[1].split()[0])
check("slow reader: queue bounded (%d bytes)" % queued, queued < 1024 * 1024, stats)
s.close()
time.sleep(0.3)
