#!/usr/bin/env python3
"""A minimal fake Slack Web API for the benchmark (loopback only).

Answers the three methods the canvas side calls and records, per canvas, how
many `canvases.edit` calls arrived, when, and the last markdown sent:

  POST /api/canvases.edit                  {"ok": true}
  POST /api/canvases.sections.lookup       {"ok": true, "sections": [{"id": "temp:C:bench"}]}
  POST /api/conversations.canvases.create  {"ok": true, "canvas_id": "F<channel>"}
  POST /api/<other>                        {"ok": true}
  GET  /_stats                             what was recorded (JSON)
  POST /_reset                             forget it

Usage: fake_slack.py [--port 0]   (prints the bound port on stdout, then serves)
Point EPMPulse at it with SLACK_API_URL=http://127.0.0.1:PORT/api.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
calls = {}        # method -> count
edits = {}        # canvas_id -> count
edit_times = {}   # canvas_id -> [unix time of each edit]
last_markdown = {}


def reset():
    with lock:
        calls.clear()
        edits.clear()
        edit_times.clear()
        last_markdown.clear()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the benchmark reads /_stats
        pass

    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_stats":
            with lock:
                self.answer(200, {"calls": dict(calls), "edits": dict(edits),
                                  "edit_times": {k: list(v) for k, v in edit_times.items()},
                                  "last_markdown": dict(last_markdown)})
        else:
            self.answer(404, {"ok": False, "error": "unknown_method"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path == "/_reset":
            reset()
            return self.answer(200, {"ok": True})
        if not self.path.startswith("/api/"):
            return self.answer(404, {"ok": False, "error": "unknown_method"})
        method = self.path[len("/api/"):]
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            return self.answer(200, {"ok": False, "error": "not_authed"})
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.answer(200, {"ok": False, "error": "invalid_json"})
        with lock:
            calls[method] = calls.get(method, 0) + 1
            if method == "canvases.edit":
                canvas = body.get("canvas_id", "")
                edits[canvas] = edits.get(canvas, 0) + 1
                edit_times.setdefault(canvas, []).append(time.time())
                for change in body.get("changes") or []:
                    md = (change.get("document_content") or {}).get("markdown")
                    if md is not None:
                        last_markdown[canvas] = md
        if method == "canvases.sections.lookup":
            return self.answer(200, {"ok": True, "sections": [{"id": "temp:C:bench"}]})
        if method == "conversations.canvases.create":
            return self.answer(200, {"ok": True, "canvas_id": "F" + str(body.get("channel_id", ""))})
        return self.answer(200, {"ok": True})


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients closing keep-alive connections mid-read are normal here


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = QuietServer(("127.0.0.1", args.port), Handler)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
