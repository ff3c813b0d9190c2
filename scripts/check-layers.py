#!/usr/bin/env python3
"""The modules point down: fails (exit 1, each include at fault named) when
a file includes a module above its own, another module's private header,
or llama.cpp's headers outside the engine (llama.h: one file only).

Run by the build (CMake target `layering`, a dependency of the library), so
an include that points up fails the build."""
import os
import re
import sys

# Lowest first: a module may include its own headers and those of the
# modules before it, never one after it.
ORDER = ["core", "device", "sensors", "engine", "limits", "model", "distributed", "bench",
         "output", "sweep", "store", "analysis", "quality", "serve"]

# Each public header and the module it belongs to.
HEADERS = {
    "core": ["error.h", "util.h", "stats.h", "table.h", "json.h"],
    "device": ["sysinfo.h", "counters.h", "knobs.h", "memory.h", "preflight.h", "vcio.h", "gpuinfo.h"],
    "sensors": ["sensors.h", "sampler.h", "energy.h", "meter.h", "monitor.h"],
    "engine": ["engine.h"],
    "limits": ["limits.h", "roofline.h", "probe.h"],
    "model": ["gguf_check.h", "synth.h"],
    "distributed": ["node.h"],
    "bench": ["bench.h", "params.h", "measure.h", "calibrate.h"],
    "output": ["output.h"],
    "sweep": ["plan.h", "sweep.h"],
    "store": ["store.h", "fleet.h"],
    "analysis": ["analyze.h", "analysis.h"],
    "quality": ["quality.h"],
    "serve": ["serve.h"],
}

# llama.cpp's headers: the engine's (and the GGUF reader's, which reads
# ggml's types); llama.h in one file.
LLAMA = re.compile(r"^(ggml[\w-]*|gguf|llama)\.h$")
LLAMA_USERS = {"engine", "model"}
LLAMA_H_FILE = os.path.join("lib", "engine", "engine_llama.c")


def main(root):
    owner = {h: m for m, hs in HEADERS.items() for h in hs}
    rank = {m: i for i, m in enumerate(ORDER)}
    faults = []
    pub = os.path.join(root, "include", "edgebench")
    for h in sorted(os.listdir(pub)):
        if h.endswith(".h") and h not in owner:
            faults.append(f"include/edgebench/{h}: no module (add it to HEADERS in {sys.argv[0]})")
    files = [(os.path.join("include", "edgebench", h), owner.get(h)) for h in sorted(os.listdir(pub))]
    for mod in sorted(os.listdir(os.path.join(root, "lib"))):
        d = os.path.join(root, "lib", mod)
        if mod not in rank:
            faults.append(f"lib/{mod}: not a module of the layering (add it to ORDER)")
            continue
        files += [(os.path.join("lib", mod, f), mod) for f in sorted(os.listdir(d))
                  if f.endswith((".c", ".h"))]
    # the command line is above every module; it only may not touch llama.cpp
    for dirpath, _, names in os.walk(os.path.join(root, "src")):
        files += [(os.path.relpath(os.path.join(dirpath, f), root), "src") for f in sorted(names)
                  if f.endswith((".c", ".h"))]
    rank["src"] = len(ORDER)
    for rel, mod in files:
        if mod is None:
            continue
        text = open(os.path.join(root, rel), encoding="utf-8").read()
        here = os.path.dirname(os.path.join(root, rel))
        for n, line in enumerate(text.splitlines(), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            where = f"{rel}:{n}: #include \"{inc}\""
            if inc.startswith("edgebench/"):
                h = inc[len("edgebench/"):]
                to = owner.get(h)
                if to is None:
                    faults.append(f"{where}: no such public header")
                elif rank[to] > rank[mod]:
                    faults.append(f"{where}: {mod} points up to {to}")
            elif LLAMA.match(os.path.basename(inc)):
                if mod not in LLAMA_USERS:
                    faults.append(f"{where}: llama.cpp's headers belong to the engine")
                elif inc == "llama.h" and rel != LLAMA_H_FILE:
                    faults.append(f"{where}: only {LLAMA_H_FILE} includes llama.h")
            elif inc.startswith("generated/") or inc == "llama_build_info.h":
                continue
            elif mod != "src" and not os.path.exists(os.path.join(here, inc)):
                faults.append(f"{where}: another module's private header")
    for f in faults:
        print(f"layering: {f}", file=sys.stderr)
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
