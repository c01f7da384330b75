#!/usr/bin/python3
"""free_port(): a TCP port nothing uses now on 127.0.0.1, below the kernel's
ephemeral range: a port the kernel hands out (bind to 0) can be taken by an
outgoing connection of a test running alongside (three etcd members dialing
each other) before our server binds it. Run as a script, prints one."""
import random
import socket


def free_port():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    for _ in range(1000):
        port = random.randint(min(20000, low // 2), low - 1)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise SystemExit("no free port below %d" % low)


if __name__ == "__main__":
    print(free_port())
