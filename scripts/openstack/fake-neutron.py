#!/usr/bin/python3
"""A stand-in for Neutron, just enough for Nova on fake.FakeDriver with networks "none".

Nova asks Neutron even for servers without networks: GET /servers/{id} looks up security-group
bindings and DELETE deallocates, both through GET /v2.0/ports?device_id=...; Horizon's overview
needs a `network` entry in the catalog. Every collection GET answers an empty list, a single
resource 404, a DELETE 204. Nothing is authenticated: it listens on loopback only.

Usage: fake-neutron.py PORT
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)

    def do_GET(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        parts = [p for p in path.split("/") if p]
        if not parts:
            self._send(200, {"versions": [{"id": "v2.0", "status": "CURRENT",
                                           "links": [{"rel": "self", "href": "http://127.0.0.1/v2.0/"}]}]})
        elif parts == ["v2.0"]:
            self._send(200, {"resources": []})
        elif len(parts) == 2 and parts[0] == "v2.0":
            # /v2.0/security-groups.json -> {"security_groups": []}
            name = parts[1].split(".", 1)[0].replace("-", "_")
            self._send(200, {name: []})
        else:
            self._send(404, {"NeutronError": {"type": "NotFound", "message": "not found", "detail": ""}})

    def do_DELETE(self):
        self._drain()
        self._send(204)

    def do_POST(self):
        self._drain()
        self._send(400, {"NeutronError": {"type": "BadRequest", "message": "fake-neutron creates nothing", "detail": ""}})

    do_PUT = do_POST

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9696
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
