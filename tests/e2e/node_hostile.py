#!/usr/bin/env python3
"""Hostile clients against a real `edgebench node`'s control port.

Usage: node_hostile.py CONTROL_PORT NODE_PID
       node_hostile.py --emfile CONTROL_PORT NODE_PID   (a node with few descriptors)
Each check prints "ok   - ..." or "FAIL - ..."; throughout, a well-behaved
client asks for the node's time every 20 ms and every answer must come
within 100 ms (the worst is printed). Exit 1 if a check failed."""
import json
import os
import socket
import sys
import multiprocessing
import time

EMFILE = sys.argv[1] == "--emfile"
if EMFILE:
    del sys.argv[1]
PORT = int(sys.argv[1])
NODE_PID = int(sys.argv[2])
LIMIT_S = 0.100
failed = 0


def ok(msg):
    print("ok   - " + msg, flush=True)


def bad(msg):
    global failed
    failed += 1
    print("FAIL - " + msg, flush=True)


def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Client:
    """A coordinator that reads its replies."""

    def __init__(self):
        self.s = connect()
        self.f = self.s.makefile("rb")

    def ask(self, obj):
        self.s.sendall((json.dumps(obj) + "\n").encode())
        line = self.f.readline()
        return json.loads(line) if line else None

    def close(self):
        self.f.close()
        self.s.close()


class Watcher:
    """Asks `time` every 20 ms from a process of its own (so this script's
    own work does not delay it); keeps the slowest answer per phase."""

    def __init__(self):
        self.worst = multiprocessing.Value("d", 0.0)
        self.n = multiprocessing.Value("i", 0)
        self.lost = multiprocessing.Array("c", 256)
        self.halt = multiprocessing.Event()
        self.proc = multiprocessing.Process(target=self.run, daemon=True)

    def start(self):
        self.proc.start()

    def run(self):
        c = Client()
        while not self.halt.is_set():
            t = time.monotonic()
            try:
                r = c.ask({"cmd": "time"})
            except OSError as e:
                self.lost.value = str(e).encode()[:255]
                return
            dt = time.monotonic() - t
            if dt > 0.02 and os.environ.get("HOSTILE_DEBUG"):
                print("slow %.1f ms at %.3f" % (dt * 1e3, t), flush=True)
            if r is None or "t" not in r:
                self.lost.value = ("reply %r" % (r,)).encode()[:255]
                return
            with self.worst.get_lock():
                self.worst.value = max(self.worst.value, dt)
                self.n.value += 1
            time.sleep(0.02)

    def phase(self, name):
        """Reports the phase just ended and starts the next."""
        with self.worst.get_lock():
            worst, n, lost = self.worst.value, self.n.value, self.lost.value.decode()
            self.worst.value, self.n.value = 0.0, 0
        if lost:
            bad("%s: the other client lost its connection: %s" % (name, lost))
        elif n == 0 or worst > LIMIT_S:
            bad("%s: the other client's time took %.0f ms (%d answers)" % (name, worst * 1e3, n))
        else:
            ok("%s: the other client's %d time requests answered within %.1f ms"
               % (name, n, worst * 1e3))

    def join(self):
        self.halt.set()
        self.proc.join(timeout=2)


def rss_mib():
    with open("/proc/%d/status" % NODE_PID) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu_s():
    with open("/proc/%d/stat" % NODE_PID) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def emfile():
    """More connections than the node has descriptors: it backs off rather
    than spinning, keeps serving the ones it holds, accepts again later."""
    first = Client()
    held = [connect() for _ in range(40)]
    time.sleep(0.5)
    cpu0 = cpu_s()
    time.sleep(1.0)
    cpu = cpu_s() - cpu0
    t = time.monotonic()
    r = first.ask({"cmd": "time"})
    dt = time.monotonic() - t
    for s in held:
        s.close()
    time.sleep(0.5)
    c = Client()
    c.s.settimeout(3)
    r2 = c.ask({"cmd": "time"})
    c.close()
    first.close()
    if cpu < 0.3 and r and "t" in r and dt < LIMIT_S and r2 and "t" in r2:
        ok("out of descriptors: node CPU %.2f s over 1 s, a held client answered in %.1f ms, "
           "a new one after the others left" % (cpu, dt * 1e3))
    else:
        bad("out of descriptors: node CPU %.2f s over 1 s; held client %r in %.0f ms; new %r"
            % (cpu, r, dt * 1e3, r2))


if EMFILE:
    emfile()
    sys.exit(1 if failed else 0)

w = Watcher()
w.start()
time.sleep(0.3)
w.phase("idle")

# 1. pipelining 4.3 MB of hello without reading a reply
p = connect()
req = (json.dumps({"cmd": "hello"}) + "\n").encode()
blob = req * (4_300_000 // len(req))
p.setblocking(False)
sent, t_end = 0, time.monotonic() + 3
while sent < len(blob) and time.monotonic() < t_end:
    try:
        sent += p.send(blob[sent:sent + 65536])
    except BlockingIOError:
        time.sleep(0.01)
time.sleep(0.5)
w.phase("a client pipelining %.1f MB of hello without reading (%.1f MB taken)"
        % (len(blob) / 1e6, sent / 1e6))
p.close()

# 2. a 100 MB line: refused at the limit, memory bounded
rss0 = rss_mib()
g = connect()
g.setblocking(False)
chunk = b"x" * 65536
sent, closed, t_end = 0, False, time.monotonic() + 5
while sent < 100_000_000 and time.monotonic() < t_end:
    try:
        sent += g.send(chunk)
    except BlockingIOError:
        time.sleep(0.005)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
        break
g.setblocking(True)
g.settimeout(2)
reply = b""
try:
    while not reply.endswith(b"\n"):
        got = g.recv(4096)
        if not got:
            break
        reply += got
except OSError:
    pass
g.close()
time.sleep(0.2)
rss1 = rss_mib()
if b"longer than" in reply and rss1 - rss0 < 8:
    ok("a giant line refused (%s) after %.1f MB, node memory %.1f -> %.1f MiB"
       % (reply.decode().strip(), sent / 1e6, rss0, rss1))
else:
    bad("giant line: reply %r, closed %s, node memory %.1f -> %.1f MiB"
        % (reply[:200], closed, rss0, rss1))
w.phase("a 100 MB line")

# 3. a flood of empty lines: each answered, the node's CPU stays modest
f = connect()
cpu0, t0 = cpu_s(), time.monotonic()
n_lines = 200_000
f.sendall(b"\n" * n_lines)
fr = f.makefile("rb")
errors = sum(1 for _ in range(n_lines) if b"error" in fr.readline())
dt, cpu = time.monotonic() - t0, cpu_s() - cpu0
fr.close()
f.close()
if errors == n_lines and dt < 20:
    ok("%d empty lines each answered with an error in %.1f s (node CPU %.1f s)"
       % (n_lines, dt, cpu))
else:
    bad("empty lines: %d of %d answered in %.1f s" % (errors, n_lines, dt))
w.phase("a flood of empty lines")

# 4. a trial belongs to the connection that began it
a, b = Client(), Client()
r = a.ask({"cmd": "begin"})
rb_end = b.ask({"cmd": "end"})
rb_begin = b.ask({"cmd": "begin"})
t0 = time.time()
rb_win = b.ask({"cmd": "window", "t0": t0 - 1, "t1": t0})
time.sleep(1.3)
t1 = time.time()
ra = a.ask({"cmd": "window", "t0": t1 - 1.3, "t1": t1})
refused = all("another coordinator" in (x or {}).get("error", "") for x in (rb_end, rb_begin, rb_win))
if r.get("ok") and refused and "error" not in ra and ra.get("n_samples", 0) >= 15:
    ok("another client's end, begin and window refused (%s); the owner's 1.3 s window kept "
       "its %d samples" % (rb_end["error"], ra["n_samples"]))
else:
    bad("ownership: begin %r; other's end %r begin %r window %r; owner's window %r"
        % (r, rb_end, rb_begin, rb_win, ra))

# 5. a window that ends in the future is answered when due, blocking no one
t = time.time()
start = time.monotonic()
rf = a.ask({"cmd": "window", "t0": t - 0.2, "t1": t + 0.6})
waited = time.monotonic() - start
rfar = a.ask({"cmd": "window", "t0": t, "t1": t + 60})
if "error" not in rf and 0.55 <= waited < 1.5 and "future" in rfar.get("error", ""):
    ok("a window ending 0.6 s ahead answered after %.2f s; one 60 s ahead refused (%s)"
       % (waited, rfar["error"]))
else:
    bad("future window: %r after %.2f s; far %r" % (rf, waited, rfar))
w.phase("a window in the future")

# the owner leaving ends its trial: another may begin
a.close()
time.sleep(0.3)
rb = b.ask({"cmd": "begin"})
re = b.ask({"cmd": "end"})
b.close()
if rb.get("ok") and re.get("ok"):
    ok("after the owner hung up, another client began and ended a trial")
else:
    bad("after the owner left: begin %r end %r" % (rb, re))

# 6. many connections: 200 in a row, then more at once than the node serves
t0 = time.monotonic()
if os.environ.get("HOSTILE_DEBUG"):
    print("phase 6 at %.3f" % t0, flush=True)
for i in range(200):
    c = Client()
    c.ask({"cmd": "time"})
    c.close()
seq = time.monotonic() - t0
if os.environ.get("HOSTILE_DEBUG"):
    print("40 at once from %.3f" % time.monotonic(), flush=True)
many, replies = [], []
for i in range(40):
    try:
        many.append(connect())
    except OSError as e:
        replies.append("connect: %s" % e)
time.sleep(0.5)
for s in many:
    s.sendall(b'{"cmd":"time"}\n')
    s.settimeout(2)
    try:
        replies.append(s.recv(4096).decode())
    except OSError as e:
        replies.append("recv: %s" % e)
for s in many:
    s.close()
served = sum(1 for x in replies if '"t"' in x)
refused = sum(1 for x in replies if "at most" in x)
if seq < 5 and served >= 20 and refused >= 1 and served + refused == 40:
    ok("200 connections one after another in %.2f s; of 40 at once %d served, %d told "
       "the limit" % (seq, served, refused))
else:
    bad("connections: 200 in %.2f s; 40 at once: %d served, %d refused: %r"
        % (seq, served, refused, replies[:3]))
w.phase("many connections")

w.join()
sys.exit(1 if failed else 0)
