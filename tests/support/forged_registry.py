#!/usr/bin/env python3
"""A hostile OCI registry for the tests: it answers the distribution API with forged manifests
and blobs, and records what it is sent.

Usage: forged_registry.py SCENARIO PORT_FILE LOG_FILE
  The port it listens on (127.0.0.1, chosen by the OS) is written to PORT_FILE; every request is
  appended to LOG_FILE as one JSON line: method, path and the Authorization header (or null).

Scenarios (any repository, any reference):
  declares-2^62     a manifest whose Wasm layer declares 2**62 bytes
  declares-2^64-1   the same with 2**64 - 1 bytes
  sends-more        a layer declared (and digested) as a 109-byte module; the blob endpoint sends
                    zeros without end
  endless-manifest  a manifest that never ends
  basic-challenge   every request answered 401 with a Basic challenge (does anyone send a password?)
"""

import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCENARIO, PORT_FILE, LOG_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
LOCK = threading.Lock()

# A valid 109-byte module: the header, then a custom section padding it out.
MODULE = b"\0asm\x01\0\0\0" + b"\x00" + bytes([99]) + bytes([4]) + b"pads" + b"x" * 94
assert len(MODULE) == 109, len(MODULE)
MODULE_DIGEST = "sha256:" + hashlib.sha256(MODULE).hexdigest()
CONFIG = b"{}"
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()


def manifest(layer_size, layer_digest=MODULE_DIGEST):
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.wasm.config.v0+json",
                   "digest": CONFIG_DIGEST, "size": len(CONFIG)},
        "layers": [{"mediaType": "application/wasm", "digest": layer_digest,
                    "size": layer_size}],
    }).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        with LOCK, open(LOG_FILE, "a") as log:
            log.write(json.dumps({
                "method": self.command,
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
            }) + "\n")

    def send(self, status, body, content_type="application/octet-stream", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def endless(self, first=b""):
        # No length: the body ends only when the client stops reading.
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(first)
            chunk = b"\0" * 65536
            while True:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.record()
        if SCENARIO == "basic-challenge":
            return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', "application/json",
                             [("WWW-Authenticate", 'Basic realm="forged"')])
        if self.path == "/v2/" or self.path == "/v2":
            return self.send(200, b"{}", "application/json")
        if "/manifests/" in self.path:
            if SCENARIO == "endless-manifest":
                return self.endless(b'{"schemaVersion": 2, "layers": [')
            size = {"declares-2^62": 2**62, "declares-2^64-1": 2**64 - 1}.get(SCENARIO, len(MODULE))
            return self.send(200, manifest(size),
                             "application/vnd.oci.image.manifest.v1+json")
        if "/blobs/" in self.path:
            if SCENARIO == "sends-more":
                return self.endless(MODULE)
            if self.path.endswith(CONFIG_DIGEST):
                return self.send(200, CONFIG)
            return self.send(200, MODULE)
        self.send(404, b'{"errors":[{"code":"NOT_FOUND"}]}', "application/json")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.replace(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
