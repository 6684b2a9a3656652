#!/usr/bin/env python3
"""A tiny HTTP service that takes its configuration from `hotswap agent`.

It reads a JSON file at start and again on SIGHUP, and answers GET / with the
greeting from it. Standard library only. Run it beside an agent that writes
the file and signals it (see docs/agent.md):

    python3 sighup-service.py /config/orders.json /run/orders/orders.pid 8080
    hotswap agent --service orders --environment STAGING \
        --file /config/orders.json --signal HUP --pid-file /run/orders/orders.pid \
        --metrics-url http://127.0.0.1:8080/metrics

`--check FILE` validates a config without running the service, for a
validate-then-reload hook (see reload-or-refuse.sh): exit 1 and the reason on
stderr when the service would refuse it.

GET /metrics answers Prometheus text with the names the agent looks for by
default: http_requests_total{code} and http_request_duration_seconds.
"""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def check(config):
    """The reasons this service refuses a config; empty when it takes it."""
    problems = []
    if not isinstance(config.get("greeting"), str) or not config["greeting"]:
        problems.append("greeting must be a non-empty string")
    workers = config.get("workers", 4)
    if type(workers) is not int or not 1 <= workers <= 64:
        problems.append(f"workers must be an integer from 1 to 64, got {workers!r}")
    return problems


def read(path):
    with open(path) as f:
        config = json.load(f)
    if not isinstance(config, dict):
        raise ValueError("the config is not a JSON object")
    return config


if len(sys.argv) not in (3, 4):
    sys.exit("usage: sighup-service.py CONFIG_FILE PID_FILE PORT | --check CONFIG_FILE")
if sys.argv[1] == "--check":
    try:
        problems = check(read(sys.argv[2]))
    except (OSError, ValueError) as e:
        problems = [f"cannot read {sys.argv[2]}: {e}"]
    for p in problems:
        print(f"config refused: {p}", file=sys.stderr)
    sys.exit(1 if problems else 0)

config_path, pid_file, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = {"greeting": "hello"}
lock = threading.Lock()
requests = {}                                   # status code -> count
BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1.0]    # seconds
latency = {le: 0 for le in BUCKETS}
latency_sum, latency_count = 0.0, 0


def reload(*_):
    """Takes the file's config, or keeps the running one if the file is bad."""
    global config
    try:
        new = read(config_path)
        problems = check(new)
        if problems:
            raise ValueError("; ".join(problems))
    except (OSError, ValueError) as e:
        print(f"reload skipped, keeping the running config: {e}", file=sys.stderr, flush=True)
        return
    config = new
    print(f"loaded {config_path}: {json.dumps(config)}", flush=True)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def reply(self, code, body, content_type="text/plain; charset=utf-8"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        global latency_sum, latency_count
        if self.path == "/metrics":
            return self.reply(200, metrics(), "text/plain; version=0.0.4")
        started = time.perf_counter()
        code = 200 if self.path == "/" else 404
        self.reply(code, f"{config['greeting']}\n" if code == 200 else "not found\n")
        seconds = time.perf_counter() - started
        with lock:
            requests[code] = requests.get(code, 0) + 1
            for le in BUCKETS:
                if seconds <= le:
                    latency[le] += 1
            latency_sum += seconds
            latency_count += 1


def metrics():
    with lock:
        lines = ["# TYPE http_requests_total counter"]
        lines += [f'http_requests_total{{code="{code}"}} {n}' for code, n in sorted(requests.items())]
        lines.append("# TYPE http_request_duration_seconds histogram")
        lines += [f'http_request_duration_seconds_bucket{{le="{le}"}} {latency[le]}' for le in BUCKETS]
        lines.append(f'http_request_duration_seconds_bucket{{le="+Inf"}} {latency_count}')
        lines.append(f"http_request_duration_seconds_sum {latency_sum}")
        lines.append(f"http_request_duration_seconds_count {latency_count}")
    return "\n".join(lines) + "\n"


if os.path.exists(config_path):
    reload()
signal.signal(signal.SIGHUP, reload)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with open(pid_file, "w") as f:
    f.write(f"{os.getpid()}\n")
print(f"listening on 127.0.0.1:{port}, pid {os.getpid()}", flush=True)
try:
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
finally:
    os.remove(pid_file)  # a stale pid file could name another process by the next signal
