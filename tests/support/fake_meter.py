#!/usr/bin/env python3
"""A power meter on loopback for the tests: answers as a Shelly Gen2 plug
(/rpc/Switch.GetStatus) and as Tasmota (/cm?cmnd=Status 8).

Its power is constant (--watts), or, with --rails DIR, a known function of
a Pi 5 fixture's PMIC rails: this script also writes DIR/pmic_read_adc.txt,
the rails following this machine's CPU load, and the meter draws
gain x (sum of the rails' V x I) + offset, as a wall meter sees converter
losses and the 5 V loads the rails miss. Every reading served is logged
(Unix time, watts) to --log. --fail-after N then --fail-mode makes it stall,
answer 500, send garbage or a huge body, or drop the connection."""
import argparse
import http.server
import json
import os
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--watts", type=float, default=5.0)
ap.add_argument("--rails")
ap.add_argument("--gain", type=float, default=1.1451)
ap.add_argument("--offset", type=float, default=0.5879)
ap.add_argument("--log")
ap.add_argument("--fail-after", type=int, default=-1)
ap.add_argument("--fail-mode", default="500")
args = ap.parse_args()

RAILS = [  # name, idle amperes, amperes at full load, volts
    ("3V7_WL_SW", 0.1025, 0.1025, 3.7156), ("3V3_SYS", 0.0556, 0.0556, 3.3030),
    ("1V8_SYS", 0.1928, 0.2400, 1.7985), ("DDR_VDD2", 0.0205, 0.3500, 1.1076),
    ("DDR_VDDQ", 0.0000, 0.1200, 0.6055), ("1V1_SYS", 0.1932, 0.2500, 1.1055),
    ("0V8_SW", 0.3397, 0.5000, 0.8033), ("VDD_CORE", 0.4000, 3.2000, 0.9066),
    ("3V3_DAC", 0.0001, 0.0001, 3.3092), ("3V3_ADC", 0.0006, 0.0006, 3.3122),
    ("0V8_AON", 0.0038, 0.0038, 0.8028), ("HDMI", 0.0209, 0.0209, 5.1184)]
state = {"rails_w": None, "served": 0}
lock = threading.Lock()


def cpu_times():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]


def rails_loop():
    total0, idle0 = cpu_times()
    while True:
        time.sleep(0.05)
        total, idle = cpu_times()
        busy = 1 - (idle - idle0) / max(1, total - total0)
        total0, idle0 = total, idle
        lines, vlines, watts = [], [], 0.0
        for k, (name, a0, a1, v) in enumerate(RAILS):
            a = a0 + (a1 - a0) * busy
            watts += a * v
            lines.append("%12s_A current(%d)=%.8fA" % (name, k, a))
            vlines.append("%12s_V volt(%d)=%.8fV" % (name, k + 12, v))
        text = "\n".join(lines + vlines + ["     EXT5V_V volt(24)=5.05716000V", ""])
        tmp = os.path.join(args.rails, "pmic_read_adc.txt.tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(args.rails, "pmic_read_adc.txt"))
        with lock:
            state["rails_w"] = watts


def power():
    with lock:
        rw = state["rails_w"]
    return args.watts if rw is None else args.gain * rw + args.offset


class Meter(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        with lock:
            state["served"] += 1
            n = state["served"]
        if 0 <= args.fail_after < n:
            mode = args.fail_mode
            if mode == "stall":
                time.sleep(30)
                return
            if mode == "drop":
                self.close_connection = True
                self.connection.close()
                return
            body = {"500": b"oops", "garbage": b"<html>not a meter</html>",
                    "huge": b"[" + b"1," * 200000 + b"1]"}[mode]
            self.send_response(500 if mode == "500" else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        p = power()
        if args.log:
            with lock, open(args.log, "a") as f:
                f.write("%.6f,%.6f\n" % (time.time(), p))
        if self.path.startswith("/rpc/Switch.GetStatus"):
            doc = {"id": 0, "source": "init", "output": True, "apower": round(p, 1),
                   "voltage": 230.1, "current": round(p / 230.1, 3)}
        elif self.path.startswith("/cm"):
            doc = {"StatusSNS": {"Time": "2026-12-05T00:00:00", "ENERGY": {"Power": round(p)}}}
        else:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if args.rails:
    threading.Thread(target=rails_loop, daemon=True).start()
    while state["rails_w"] is None:
        time.sleep(0.01)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Meter)
srv.daemon_threads = True
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.replace(args.port_file + ".tmp", args.port_file)
srv.serve_forever()
