#!/usr/bin/env python3
"""Bursts of simultaneous POSTs over connections opened beforehand (as an HTTP client pool
would hold them), so the time measured is the service's answer, not connection set-up or a
load tool's own start. One burst: every request is written at once, then each answer is timed
from the moment its request was written to its last byte.

    burst.py PATH TOKEN BURSTS PAUSE_SECONDS PORT [PORT...]

Prints one "status milliseconds" line per answer. BURST_METHOD (default POST) and BURST_SIZE
(default 64) change the request and the number of connections."""
import os
import selectors
import socket
import sys
import time

path, token, bursts, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
ports = [int(p) for p in sys.argv[5:]]
N = int(os.environ.get("BURST_SIZE", "64"))
request = (f"{os.environ.get('BURST_METHOD', 'POST')} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
           "Content-Length: 0\r\n\r\n").encode()


def answer_complete(buf):
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if len(body) < length:
        return None
    return int(head.split(b" ", 2)[1]), len(head) + 4 + length


socks = []
for i in range(N):
    s = socket.create_connection(("127.0.0.1", ports[i % len(ports)]))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.setblocking(False)
    socks.append(s)

for _ in range(bursts):
    sel = selectors.DefaultSelector()
    sent, bufs = {}, {}
    for s in socks:
        sent[s] = time.perf_counter()
        s.sendall(request)
        bufs[s] = b""
        sel.register(s, selectors.EVENT_READ)
    left = len(socks)
    while left:
        for key, _ in sel.select(timeout=30):
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                raise SystemExit("connection closed by the service")
            bufs[s] += data
            done = answer_complete(bufs[s])
            if done:
                status, _ = done
                print(status, f"{(time.perf_counter() - sent[s]) * 1000:.2f}")
                sel.unregister(s)
                left -= 1
    sys.stdout.flush()
    time.sleep(pause)
