#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A fake DigitalOcean API for the simulated droplet, following the response shapes of
GET /v2/droplets/{id}, GET /v2/vpcs/{id}/peerings (paginated with links.pages.next and
meta.total) and GET /v2/vpcs/{id}.

The world (VPCs, peerings) and the behaviour come from a JSON control file, re-read on every
request:

  {"token": "...", "own_vpc": "<uuid>", "droplet_id": 3164444, "page_size": 2,
   "vpcs": {"<uuid>": {"name": "...", "ip_range": "10.120.0.0/20"}},
   "peerings": [{"id": "<uuid>", "name": "...", "vpc_ids": ["<uuid>", "<uuid>"], "status": "ACTIVE"}],
   "mode": "ok" | "status:<code>" | "429" | "garbage" | "hang" | "empty" | "truncated" | "trickle" |
           "big:<bytes>" | "deep:<n>" | "body" (answer "body" with "status") | "fail_page:<n>" |
           "next_host:<url>",
   "retry_after": 30, "retry_after_date": true (Retry-After as an HTTP-date that far ahead),
   "headers": {"ratelimit-remaining": 0, "reset_in": 30} (sent with every answer),
   "list_key": "peerings" | "vpc_peerings" (godo's shape) | "both" | "none",
   "droplet_vpc_null": true (a droplet in no VPC),
   "forbid": "droplets" | "peerings" | "vpcs" | "vpc_nat_gateways" (403 on that endpoint, as for a token
       without its scope),
   "nat_gateways": [{"id", "name", "state", "vpcs": [{"vpc_uuid", "gateway_ip"}]}] (GET /v2/vpc_nat_gateways),
   "any_droplet": true (every droplet id is a droplet of own_vpc: a fleet),
   "rate_limit": {"limit": 5000, "window": 3600, "minute": 250, "minute_window": 60, "others": 0}
       (DigitalOcean's per-token sliding windows, in seconds; a benchmark divides the windows to
       run time faster: ratelimit-* headers follow them, and 429 with Retry-After when spent;
       "others": requests the rest of a fleet keeps in the window, spread over all of it: counted
       in ratelimit-remaining, never refused),
   "total_offset": 1, "total_offset_page": 2}   (meta.total off by 1, on page 2 only or on every page)

Requests are logged one JSON line each: path, whether an Authorization header came, and whether
it carried the right token (never the token itself). Binds only the address it is given.
"""
import argparse
import collections
import math
import os
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakehttp  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        sent = dict(self.rate_headers or {"ratelimit-limit": "5000", "ratelimit-remaining": "4999",
                                          "ratelimit-reset": str(int(time.time()) + 60)})
        sent.update(getattr(self, "extra_headers", None) or {})
        for k, v in sent.items():
            self.send_header(k, v)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def count_request(self, token, limits):
        """DigitalOcean's limits for one token: sliding windows of request times. Returns None when the
        request may go (and counts it), or the seconds to wait. Sets the ratelimit-* headers."""
        if not limits:
            return None
        now = time.time()
        hour_w, minute_w = limits.get("window", 3600), limits.get("minute_window", 60)
        limit, minute, others = limits.get("limit", 5000), limits.get("minute", 250), limits.get("others", 0)
        with self.server.rate_lock:
            hour, mins = self.server.rate.setdefault(token, (collections.deque(), collections.deque()))
            while hour and hour[0] <= now - hour_w:
                hour.popleft()
            while mins and mins[0] <= now - minute_w:
                mins.popleft()
            wait = None
            if len(hour) >= limit:
                wait = hour[0] + hour_w - now
            elif len(mins) >= minute:
                wait = mins[0] + minute_w - now
            else:
                hour.append(now)
                mins.append(now)
            # The others' oldest request is as old as the window: it expires in a second.
            reset = now + 1 if others else hour[0] + hour_w if hour else now
            self.rate_headers = {"ratelimit-limit": str(limit), "ratelimit-remaining": str(max(limit - len(hour) - others, 0)),
                                 "ratelimit-reset": str(math.ceil(reset))}
        return None if wait is None else max(1, math.ceil(wait))

    def do_GET(self):
        try:
            with open(self.server.control_path) as f:
                ctl = json.load(f)
        except (OSError, ValueError):
            ctl = {}
        auth = self.headers.get("Authorization")
        token_ok = auth == "Bearer " + ctl.get("token", "")
        self.rate_headers = None
        # "headers": sent with every answer, over the ratelimit-* ones ("reset_in" makes
        # ratelimit-reset that many seconds from now).
        self.extra_headers = {k: str(v) for k, v in ctl.get("headers", {}).items()}
        if "reset_in" in self.extra_headers:
            self.extra_headers["ratelimit-reset"] = str(int(time.time()) + int(self.extra_headers.pop("reset_in")))
        retry = self.count_request(auth, ctl.get("rate_limit")) if token_ok else None
        with open(self.server.log_path, "a") as log:
            log.write(json.dumps({"path": self.path, "authorization": auth is not None, "token_ok": token_ok,
                                  "user_agent": self.headers.get("User-Agent"), "time": time.time(),
                                  "client": self.client_address[0], "limited": retry is not None}) + "\n")
        if retry is not None:
            self.send_json(429, {"id": "too_many_requests", "message": "API Rate limit exceeded."},
                           {"Retry-After": str(retry)})
            return
        mode = ctl.get("mode", "ok")
        if self.server.role == "other":
            self.send_json(200, {"peerings": [], "links": {}, "meta": {"total": 0}})
            return
        if not token_ok:
            self.send_json(401, {"id": "unauthorized", "message": "Unable to authenticate you"})
            return
        if mode.startswith("status:"):
            self.send_json(int(mode.split(":", 1)[1]), {"id": "server_error", "message": "synthetic failure"})
            return
        if mode == "429":
            retry = ctl.get("retry_after", 30)
            if ctl.get("retry_after_date"):  # RFC 9110's other form: an HTTP-date
                retry = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + retry))
            self.send_json(429, {"id": "too_many_requests", "message": "API Rate limit exceeded."},
                           {"Retry-After": str(retry)})
            return
        if mode == "garbage":
            self.send_json(200, b"<html>Service Unavailable</html>")
            return
        if mode == "hang":
            time.sleep(3600)
            return
        if mode == "empty":
            self.send_json(200, b"")
            return
        if mode == "truncated":
            self.send_json(200, b'{"droplet": {"id": 3164444, "vpc_uuid": "5a49')
            return
        if mode.startswith("deep:"):
            n = int(mode.split(":", 1)[1])
            self.send_json(200, b"[" * n + b"]" * n)
            return
        if mode == "body":
            # Every answer is this text: malformed documents of every kind.
            self.send_json(int(ctl.get("status", 200)), ctl["body"].encode())
            return
        if mode == "trickle":
            fakehttp.trickle(self, json.dumps({"droplet": {"id": 3164444, "vpc_uuid": ctl["own_vpc"]}}).encode())
            return
        if mode.startswith("big:"):
            # No Content-Length: the agent must cut it off by counting.
            fakehttp.big(self, int(mode.split(":", 1)[1]), announce=False)
            return

        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        endpoint = "peerings" if len(parts) == 4 and parts[3] == "peerings" else parts[1] if len(parts) > 1 else ""
        if ctl.get("forbid") == endpoint:
            self.send_json(403, {"id": "forbidden", "message": "You are not authorized to perform this operation"})
            return
        query = parse_qs(url.query)
        vpcs = ctl.get("vpcs", {})
        if parts[:2] == ["v2", "droplets"] and len(parts) == 3:
            if parts[2] != str(ctl.get("droplet_id", 3164444)) and not ctl.get("any_droplet"):
                self.send_json(404, {"id": "not_found", "message": "The resource you were accessing could not be found."})
                return
            vpc = None if ctl.get("droplet_vpc_null") else ctl["own_vpc"]
            self.send_json(200, {"droplet": {"id": int(parts[2]), "name": "example-01", "vpc_uuid": vpc,
                                             "region": {"slug": "nyc3"}, "status": "active"}})
            return
        if parts[:2] == ["v2", "vpcs"] and len(parts) == 4 and parts[3] == "peerings":
            if parts[2] in ctl.get("gone_vpcs", []):  # a VPC deleted, or one the droplet left
                self.send_json(404, {"id": "not_found", "message": "The resource you were accessing could not be found."})
                return
            peerings = [p for p in ctl.get("peerings", []) if parts[2] in p["vpc_ids"] or ctl.get("leak_unrelated")]
            size = int(ctl.get("page_size", 20))
            page = int(query.get("page", ["1"])[0])
            if mode == "fail_page:%d" % page:
                self.send_json(500, {"id": "server_error", "message": "page failed"})
                return
            chunk = peerings[(page - 1) * size: page * size]
            body = {"peerings": [dict(p, created_at="2024-10-01T12:00:00Z") for p in chunk],
                    "links": {}, "meta": {"total": len(peerings)}}
            # A lying meta.total: off by total_offset on every page, or only on page total_offset_page.
            if not ctl.get("total_offset_page") or ctl.get("total_offset_page") == page:
                body["meta"]["total"] += ctl.get("total_offset", 0)
            key = ctl.get("list_key", "peerings")
            if key != "peerings":
                items = body.pop("peerings")
                if key in ("vpc_peerings", "both"):
                    body["vpc_peerings"] = items
                if key == "both":
                    body["peerings"] = items
            if page * size < len(peerings):
                base = ctl.get("next_base") or self.server.base
                if mode.startswith("next_host:"):
                    base = mode.split(":", 1)[1]
                body["links"] = {"pages": {"next": "%s/v2/vpcs/%s/peerings?page=%d&per_page=%d" % (base, parts[2], page + 1, size),
                                           "last": "%s/v2/vpcs/%s/peerings?page=%d&per_page=%d" % (base, parts[2], (len(peerings) + size - 1) // size, size)}}
            self.send_json(200, body)
            return
        if parts[:2] == ["v2", "vpc_nat_gateways"] and len(parts) == 2:
            # The shape of DigitalOcean's specification (Public Preview): one page.
            gws = [dict({"name": "", "state": "ACTIVE", "region": "nyc3", "type": "PUBLIC", "size": 1,
                         "egresses": {"public_gateways": [{"ipv4": "203.0.113.50"}]}}, **g)
                   for g in ctl.get("nat_gateways", [])]
            self.send_json(200, {"vpc_nat_gateways": gws, "links": {}, "meta": {"total": len(gws)}})
            return
        if parts[:2] == ["v2", "vpcs"] and len(parts) == 3:
            v = vpcs.get(parts[2])
            if not v:
                self.send_json(404, {"id": "not_found", "message": "The resource you were accessing could not be found."})
                return
            self.send_json(200, {"vpc": {"id": parts[2], "urn": "do:vpc:" + parts[2], "name": v.get("name", ""),
                                         "ip_range": v["ip_range"], "region": "nyc3", "default": False,
                                         "created_at": "2024-10-01T12:00:00Z"}})
            return
        self.send_json(404, {"id": "not_found", "message": "The resource you were accessing could not be found."})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--role", default="api")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    # A fleet of agents connects at once (bench/fleet): the default backlog of 5 drops SYNs.
    ThreadingHTTPServer.request_queue_size = 512
    srv = ThreadingHTTPServer((args.address, args.port), Handler)
    scheme = "http"
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        scheme = "https"
    srv.base = "%s://%s:%d" % (scheme, args.address, args.port)
    srv.control_path = args.control
    srv.log_path = args.log
    srv.role = args.role
    srv.rate = {}
    srv.rate_lock = threading.Lock()
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
