#!/usr/bin/env python3
"""HTTP sink for the response tests: records every POST (path, headers, body) as one JSON line
in LOG before answering, and fails on demand. After each answer is written it logs
{"answered": path, "key": Idempotency-Key, "status": N, "time": T}.

usage: http_sink.py PORT LOG [--delay-ms N]
Paths decide the answer: /fail-N/... fails the first N requests to that path with 503,
/hang-N/... holds the first N requests to that path for 60 s before answering 200,
/dead/... always answers 500, /bad/... always 400, anything else 200.
"""
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path = int(sys.argv[1]), sys.argv[2]
delay = int(sys.argv[sys.argv.index("--delay-ms") + 1]) / 1000 if "--delay-ms" in sys.argv else 0
lock = threading.Lock()
counts = {}
log = open(log_path, "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        prefix = "/" + self.path.strip("/").split("/")[0]
        with lock:
            n = counts.get(self.path, 0) + 1
            counts[self.path] = n
            log.write(json.dumps({"path": self.path, "n": n, "time": time.time(), "headers": dict(self.headers),
                                  "body": body.decode("utf-8", "replace")}) + "\n")
            log.flush()
        if delay:
            time.sleep(delay)
        if prefix.startswith("/hang-") and n <= int(prefix[len("/hang-"):]):
            time.sleep(60)
        status = 200
        if prefix.startswith("/fail-") and n <= int(prefix[len("/fail-"):]):
            status = 503
        elif prefix == "/dead":
            status = 500
        elif prefix == "/bad":
            status = 400
        out = b'{"status":"ok"}' if status == 200 else b'{"error":"on demand"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
        self.wfile.flush()
        with lock:
            log.write(json.dumps({"answered": self.path, "key": self.headers.get("Idempotency-Key", ""), "status": status,
                                  "time": time.time()}) + "\n")
            log.flush()

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("listening", flush=True)
server.serve_forever()
