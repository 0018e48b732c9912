#!/usr/bin/env python3
"""A small registry token server for the tests: the bearer-token flow ghcr.io and Docker Hub use.

Usage: token_server.py DIR USER PASSWORD REFRESH_TOKEN
Creates DIR/ca.pem (give it to the registry as `rootcertbundle`), listens on 127.0.0.1 on a
free port and writes it to DIR/port. GET /token with basic credentials, or POST /token with
grant_type=refresh_token (docker's identity tokens), answers with a JWT signed by a key whose
certificate is in the x5c header, granting the requested scope. Requests are logged to
DIR/requests (method, grant, status) so tests can count them.
"""
import base64, datetime, http.server, json, os, sys, urllib.parse, uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

directory, user, password, refresh = sys.argv[1:5]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wasmforge test token signer")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(name)
    .issuer_name(name)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(days=1))
    .not_valid_after(now + datetime.timedelta(days=2))
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    .sign(key, hashes.SHA256())
)
with open(os.path.join(directory, "ca.pem"), "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def token_for(service, scopes):
    access = []
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) == 3:
            access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
    now = datetime.datetime.now(datetime.timezone.utc)
    claims = {
        "iss": "wasmforge-test-issuer",
        "sub": user,
        "aud": service,
        "exp": now + datetime.timedelta(minutes=5),
        "nbf": now - datetime.timedelta(seconds=10),
        "iat": now,
        "jti": str(uuid.uuid4()),
        "access": access,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"x5c": [x5c]})


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, grant):
        with open(os.path.join(directory, "requests"), "a") as log:
            log.write(f"{self.command} {grant} {status}\n")
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        header = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if header != expected:
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED"}]}, "basic")
        token = token_for(query.get("service", [""])[0], query.get("scope", []))
        self.reply(200, {"token": token, "access_token": token}, "basic")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != [refresh]:
            return self.reply(401, {"error": "invalid_grant"}, "refresh")
        token = token_for(form.get("service", [""])[0], form.get("scope", []))
        self.reply(200, {"access_token": token, "refresh_token": refresh}, "refresh")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(directory, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
server.serve_forever()
