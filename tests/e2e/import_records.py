#!/usr/bin/env python3
"""Record files for import_e2e.sh.

  import_records.py hostile FILE     valid records among bad lines (the
                                     expected outcome on stdout as JSON)
  import_records.py devices FILE TAG REVERSE
                                     60 records, each from a device of its
                                     own (dev-0 .. dev-59, in reverse order
                                     when REVERSE is 1), trial keys TAG-i
"""
import json
import sys


def record(key, host="import-host", gen_s=0.25, started="2026-12-01T10:00:00Z", **over):
    r = {
        "trial_key": key,
        "source": "import-test",
        "status": "ok",
        "started_at": started,
        "device": {"hostname": host, "cpu_model": "test cpu", "n_cpus": 4},
        "result": {
            "model": {"path": "m.gguf", "quant": "Q4_0", "n_params": 1000},
            "config": {"n_prompt": 4, "n_gen": 2, "threads_gen": 1},
            "reps": [
                {"index": 0, "warmup": False, "prefill_s": 0.5, "n_prompt": 4, "gen_s": gen_s,
                 "n_gen": 2},
                {"index": 1, "warmup": False, "prefill_s": 0.5, "n_prompt": 4, "gen_s": gen_s,
                 "n_gen": 2},
            ],
        },
    }
    r.update(over)
    return r


def line(r):
    return json.dumps(r, separators=(",", ":")) + "\n"


mode, path = sys.argv[1], sys.argv[2]
with open(path, "w") as f:
    if mode == "hostile":
        good1 = line(record("k1"))
        mistyped_n = record("k6")
        mistyped_n["result"]["config"]["n_prompt"] = 1e300
        no_index = record("k7")
        del no_index["result"]["reps"][1]["index"]
        lines = [
            good1,                                              # 1 stored
            line(record("k2"))[:70] + "\n",                     # 2 cut short
            line(record("k3")),                                 # 3 stored
            line(record("k4", status="12345")),                 # 4 status not ok/failed
            line(record("k5", result=[1, 2, 3])),               # 5 result an array
            line(mistyped_n),                                   # 6 INTEGER out of range
            line(no_index),                                     # 7 a rep without its index
            line(record("k1", gen_s=9.0)),                      # 8 k1 again, other figures
            '{"trial_key":"huge","pad":"' + "x" * (2 << 20) + '"}\n',  # 9 over 1 MiB
            good1,                                              # 10 already stored
            "\n",                                               # blank: nothing
            line(record("k11")),                                # 12 stored
            '{"trial_key":"nul\u0000"}'.replace("\\u0000", "\0") + "\n",  # 13 a NUL byte
            line(record("k14", duration_s="long")),             # 14 duration a string
        ]
        f.write("".join(lines))
        print(json.dumps({"stored": ["k1", "k3", "k11"], "bad": [2, 4, 5, 6, 7, 8, 9, 13, 14],
                          "skipped": 1}))
    elif mode == "devices":
        tag, reverse = sys.argv[3], sys.argv[4] == "1"
        order = range(59, -1, -1) if reverse else range(60)
        for i in order:
            f.write(line(record("%s-%d" % (tag, i), host="dev-%d" % i)))
