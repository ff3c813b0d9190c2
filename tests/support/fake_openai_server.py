#!/usr/bin/env python3
"""An OpenAI-compatible completions server on loopback for the tests: it
streams --tokens token events a request, --gap seconds apart, with
llama-server's usage and timings in the last event. --modes cycles, one
request after another, through ways of failing:
  ok         a well-formed stream
  malformed  an event that is not JSON after two tokens
  stall      two tokens, then silence (the connection kept open)
  drop       two tokens, then the connection closed without [DONE]
  http500    HTTP 500 with an error body
  error      an error event in the stream
  noheader   garbage instead of an HTTP answer
It also answers /health, /tokenize and /detokenize (a token a character).
As llama-server's stand-in (tests/support/fake_llama_server.sh): --port
binds that port, --die-after S ends the process S seconds after it starts,
--loading answers /health with 503 for ever."""
import argparse
import http.server
import json
import os
import socket
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port-file")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--die-after", type=float, default=0)
ap.add_argument("--loading", action="store_true")
ap.add_argument("--tokens", type=int, default=8)
ap.add_argument("--gap", type=float, default=0.01)
ap.add_argument("--modes", default="ok")
ap.add_argument("--key", default="")
ap.add_argument("--log")
args = ap.parse_args()
modes = args.modes.split(",")
state = {"n": 0}
lock = threading.Lock()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health":
            if args.loading:
                self.answer(503, {"error": {"message": "Loading model"}})
            else:
                self.answer(200, {"status": "ok"})
        else:
            self.answer(404, {"error": {"message": "not found"}})

    def event(self, obj):
        data = obj if isinstance(obj, str) else json.dumps(obj)
        self.wfile.write(("data: " + data + "\n\n").encode())
        self.wfile.flush()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n) or b"{}")
        if args.log:
            with open(args.log, "a") as f:
                f.write(json.dumps({"path": self.path,
                                    "auth": self.headers.get("Authorization", "")}) + "\n")
        if self.path == "/tokenize":
            return self.answer(200, {"tokens": [ord(c) for c in body.get("content", "")]})
        if self.path == "/detokenize":
            return self.answer(200, {"content": "".join(chr(t) for t in body.get("tokens", []))})
        if args.key and self.headers.get("Authorization") != "Bearer " + args.key:
            return self.answer(401, {"error": {"message": "invalid api key"}})
        with lock:
            mode = modes[state["n"] % len(modes)]
            state["n"] += 1
        if mode == "http500":
            return self.answer(500, {"error": {"message": "the fake server is told to fail"}})
        if mode == "noheader":
            self.wfile.write(b"this is not HTTP\r\n\r\n")
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        want = int(body.get("max_tokens", args.tokens))
        t0 = time.time()
        for i in range(want):
            if mode != "ok" and i == 2:
                if mode == "malformed":
                    self.event("{not json")
                elif mode == "stall":
                    time.sleep(3600)
                elif mode == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif mode == "error":
                    self.event({"error": {"message": "the fake server's error event"}})
                return
            self.event({"choices": [{"text": "t%d " % i, "index": 0, "finish_reason": None}],
                        "object": "text_completion"})
            time.sleep(args.gap)
        ms = (time.time() - t0) * 1000
        self.event({"choices": [{"text": "", "index": 0, "finish_reason": "length"}],
                    "usage": {"prompt_tokens": len(str(body.get("prompt", ""))),
                              "completion_tokens": want, "total_tokens": want},
                    "timings": {"prompt_n": 5, "prompt_ms": 1.0, "prompt_per_second": 5000.0,
                                "predicted_n": want, "predicted_ms": ms,
                                "predicted_per_second": want / (ms / 1000) if ms > 0 else 0}})
        self.event("[DONE]")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), H)
srv.daemon_threads = True
if args.port_file:
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
if args.die_after > 0:
    def die():
        time.sleep(args.die_after)
        os._exit(3)
    threading.Thread(target=die, daemon=True).start()
srv.serve_forever()
