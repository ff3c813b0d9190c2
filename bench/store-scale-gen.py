#!/usr/bin/env python3
"""Writes N trial records as JSON lines from real sweep records: each copy
varied in device (50 hosts, 5 boards), model name, threads, date and trial
key, so that the store holds N distinct trials as a fleet's would."""
import copy, json, sys
from datetime import datetime, timedelta

base_path, n, start, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
base = [json.loads(l) for l in open(base_path) if l.strip()]
t0 = datetime(2026, 1, 1)
with open(out, "w") as f:
    for i in range(start, start + n):
        r = copy.deepcopy(base[i % len(base)])
        r["trial_key"] = "%016x" % (0x5ca1e0000000 + i)
        r["started_at"] = (t0 + timedelta(minutes=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        dev = r.setdefault("device", {})
        dev["hostname"] = "board-%02d" % (i % 50)
        dev["board_model"] = "Board model %d" % (i % 5)
        res = r.get("result") or {}
        if "device" in res:
            res["device"]["hostname"] = dev["hostname"]
            res["device"]["board_model"] = dev["board_model"]
        if "model" in res:
            res["model"]["name"] = "model-%d" % (i // 7 % 6)
        cfg = res.get("config", {})
        cfg["threads_gen"] = 1 + i % 4
        cfg["threads_prefill"] = 1 + (i // 4) % 4
        r["config"]["threads"] = str(cfg["threads_gen"])
        f.write(json.dumps(r, separators=(",", ":")) + "\n")
