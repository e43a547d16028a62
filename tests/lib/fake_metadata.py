#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A fake DigitalOcean metadata service for the simulated droplet.

Serves /metadata/v1.json (and the per-leaf paths) built from tests/fixtures/metadata-v1.json.
Behaviour is read from a JSON control file on every request, so a test changes it by rewriting
the file:

  {"mode": "ok", "set": {"features.vpc_peering_enabled": false}, "delete": ["features"]}

modes: ok, status:<code>, html, truncated, empty, garbage, hang, trickle, big:<bytes>, deep:<n>,
       reset (close without answering), raw ("raw": the body), replace ("find"/"with": edit the
       normal document's text)
With --per-client FILE ({"<client address>": {"<path>": value, ...}}), each client gets its own
document (a fleet of droplets behind one metadata address, as bench/fleet builds it).
Every request is appended to the log file as one JSON line (path, user agent, headers).
Only ever binds the address it is given, inside a namespace the test created.
"""
import argparse
import copy
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakehttp  # noqa: E402


def set_path(doc, path, value):
    keys = path.split(".")
    cur = doc
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur.setdefault(k, {})
    last = keys[-1]
    if isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value


def del_path(doc, path):
    keys = path.split(".")
    cur = doc
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur[k]
    last = keys[-1]
    if isinstance(cur, list):
        del cur[int(last)]
    else:
        cur.pop(last, None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-metadata/1"

    def log_message(self, fmt, *args):
        pass

    def control(self):
        try:
            with open(self.server.control_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {"mode": "ok"}

    def document(self, ctl):
        doc = copy.deepcopy(self.server.fixture)
        for path, value in self.server.per_client.get(self.client_address[0], {}).items():
            set_path(doc, path, value)
        for path, value in ctl.get("set", {}).items():
            set_path(doc, path, value)
        for path in ctl.get("delete", []):
            del_path(doc, path)
        return doc

    def send_body(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        ctl = self.control()
        with open(self.server.log_path, "a") as log:
            log.write(json.dumps({"path": self.path, "user_agent": self.headers.get("User-Agent"),
                                  "time": time.time(), "mode": ctl.get("mode", "ok")}) + "\n")
        mode = ctl.get("mode", "ok")
        if self.path not in ("/metadata/v1.json",) and not self.path.startswith("/metadata/v1/"):
            self.send_body(404, b"not found\n", "text/plain")
            return
        doc = self.document(ctl)
        if self.path.startswith("/metadata/v1/"):
            # Leaf paths, as DigitalOcean serves them (the leaf "address" is the key "ip_address").
            cur = doc
            for part in self.path[len("/metadata/v1/"):].strip("/").split("/"):
                part = "ip_address" if part == "address" else part
                try:
                    cur = cur[int(part)] if isinstance(cur, list) else cur[part]
                except (KeyError, IndexError, ValueError):
                    self.send_body(404, b"not found\n", "text/plain")
                    return
            self.send_body(200, str(cur).encode(), "text/plain")
            return

        body = json.dumps(doc).encode()
        if mode == "ok":
            self.send_body(200, body)
        elif mode.startswith("status:"):
            self.send_body(int(mode.split(":", 1)[1]), b'{"error": "synthetic"}')
        elif mode == "html":
            self.send_body(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>\n", "text/html")
        elif mode == "truncated":
            self.send_body(200, body[: len(body) // 2])
        elif mode == "empty":
            self.send_body(200, b"")
        elif mode == "garbage":
            self.send_body(200, os.urandom(2048))
        elif mode == "hang":
            time.sleep(3600)
        elif mode == "trickle":
            fakehttp.trickle(self, body)
        elif mode.startswith("big:"):
            fakehttp.big(self, int(mode.split(":", 1)[1]), announce=not ctl.get("chunked"))
        elif mode.startswith("deep:"):
            n = int(mode.split(":", 1)[1])
            self.send_body(200, b"[" * n + b"]" * n)
        elif mode == "raw":
            # The document as text, for what json.dumps cannot produce (duplicate keys, a
            # number where a string belongs in a hand-written shape, raw escapes).
            self.send_body(200, ctl["raw"].encode())
        elif mode == "replace":
            # The normal document with one piece of its text replaced.
            self.send_body(200, body.decode().replace(ctl["find"], ctl["with"], 1).encode())
        elif mode == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
        else:
            self.send_body(500, b"unknown mode\n", "text/plain")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--per-client")
    args = ap.parse_args()

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    # A fleet of agents connects at once (bench/fleet): the default backlog of 5 drops SYNs.
    ThreadingHTTPServer.request_queue_size = 512
    srv = ThreadingHTTPServer((args.address, args.port), Handler)
    with open(args.fixture) as f:
        srv.fixture = json.load(f)
    srv.per_client = {}
    if args.per_client:
        with open(args.per_client) as f:
            srv.per_client = json.load(f)
    srv.control_path = args.control
    srv.log_path = args.log
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
