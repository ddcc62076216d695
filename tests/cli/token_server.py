#!/usr/bin/env python3
"""A Docker registry token service (the "token" auth flow), for mreg's tests.

    token_server.py PORT_FILE LOG_FILE KEY_PEM CERT_PEM ISSUER SERVICE PASSWORD_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE) and answers

    GET /token?service=SERVICE&scope=repository:NAME:ACTIONS[&scope=...]

as the distribution server's token authentication expects
(https://distribution.github.io/distribution/spec/auth/token/): with HTTP
Basic credentials of user "alice" and the password in PASSWORD_FILE, it
answers 200 {"token": JWT, "access_token": JWT, "expires_in": 300,
"issued_at": ...}, the JWT granting alice every action each scope asked for.
Anonymous requests and wrong credentials get 401 with a Basic challenge; a
service other than SERVICE gets 400.

The JWT is ES256, signed with KEY_PEM (a P-256 key) by `openssl dgst`; its
header carries the certificate CERT_PEM in "x5c", which the registry checks
against its rootcertbundle. openssl writes the signature as DER (a SEQUENCE of
two INTEGERs r and s); JWS wants r||s, 32 bytes each.

Each request is logged to LOG_FILE as one JSON line: service, scope (a list),
user (null when anonymous), status, and the token issued (null when none),
so the tests can look for it where it must not be. The password is never
logged.
"""

import base64
import hmac
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

PORT_FILE, LOG_FILE, KEY_PEM, CERT_PEM, ISSUER, SERVICE, PASSWORD_FILE = sys.argv[1:8]
USER = "alice"
EXPIRES_IN = 300
LOCK = threading.Lock()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def cert_der(pem_file):
    """The DER of the first certificate of a PEM file, base64 (not url) as x5c wants."""
    with open(pem_file) as f:
        text = f.read()
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    body = text[text.index(begin) + len(begin):text.index(end)]
    der = base64.b64decode("".join(body.split()))
    return base64.b64encode(der).decode("ascii")


def der_read(buf, pos, tag):
    """One DER TLV of the given tag at pos: (value bytes, position after it)."""
    if buf[pos] != tag:
        raise ValueError("DER: tag 0x%02x where 0x%02x was expected" % (buf[pos], tag))
    pos += 1
    n = buf[pos]
    pos += 1
    if n & 0x80:
        count = n & 0x7F
        n = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
    if pos + n > len(buf):
        raise ValueError("DER: truncated")
    return buf[pos:pos + n], pos + n


def ecdsa_der_to_raw(der, size=32):
    """ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r||s, each SIZE bytes."""
    seq, end = der_read(der, 0, 0x30)
    if end != len(der):
        raise ValueError("DER: bytes after the signature")
    r, pos = der_read(seq, 0, 0x02)
    s, pos = der_read(seq, pos, 0x02)
    if pos != len(seq):
        raise ValueError("DER: more than two integers")
    out = b""
    for v in (r, s):
        v = v.lstrip(b"\x00")  # a leading zero keeps a positive INTEGER positive
        if len(v) > size:
            raise ValueError("DER: integer longer than %d bytes" % size)
        out += v.rjust(size, b"\x00")
    return out


X5C = [cert_der(CERT_PEM)]


def sign(signing_input):
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY_PEM],
                         input=signing_input, capture_output=True, check=True).stdout
    return ecdsa_der_to_raw(der)


def make_token(subject, access):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "ES256", "x5c": X5C}
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "aud": SERVICE,
        "exp": now + EXPIRES_IN,
        "nbf": now - 1,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "access": access,
    }
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    return signing_input + "." + b64url(sign(signing_input.encode("ascii")))


def parse_scope(scope):
    """"repository:NAME:ACTIONS" -> an access claim granting ACTIONS on NAME."""
    kind, rest = scope.split(":", 1)
    name, actions = rest.rsplit(":", 1)
    return {"type": kind, "name": name,
            "actions": [a for a in actions.split(",") if a]}


def password():
    with open(PASSWORD_FILE) as f:
        return f.read().strip()


def log(entry):
    with LOCK:
        with open(LOG_FILE, "a") as f:
            f.write(json.dumps(entry) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, doc, extra=()):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def user(self):
        """(user, ok): the Basic user (None when anonymous) and whether the password is right."""
        auth = self.headers.get("Authorization") or ""
        if not auth.lower().startswith("basic "):
            return None, False
        try:
            user, _, pw = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "?", False
        ok = hmac.compare_digest(user.encode(), USER.encode()) and \
            hmac.compare_digest(pw.encode(), password().encode())
        return user, ok

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        service = (query.get("service") or [None])[0]
        scopes = query.get("scope") or []
        user, ok = self.user()
        entry = {"path": url.path, "service": service, "scope": scopes, "user": user,
                 "token": None}
        if url.path != "/token":
            entry["status"] = 404
            log(entry)
            return self.answer(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
        if not ok:
            entry["status"] = 401
            log(entry)
            return self.answer(401, {"errors": [{"code": "UNAUTHORIZED",
                                                 "message": "authentication required"}]},
                               [("WWW-Authenticate", 'Basic realm="mreg-test-token"')])
        if service != SERVICE:
            entry["status"] = 400
            log(entry)
            return self.answer(400, {"errors": [{"code": "UNSUPPORTED",
                                                 "message": "unknown service %r" % service}]})
        try:
            access = [parse_scope(s) for s in scopes]
        except ValueError:
            entry["status"] = 400
            log(entry)
            return self.answer(400, {"errors": [{"code": "DENIED",
                                                 "message": "malformed scope"}]})
        token = make_token(user, access)
        entry.update(status=200, token=token)
        log(entry)
        self.answer(200, {"token": token, "access_token": token, "expires_in": EXPIRES_IN,
                          "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = PORT_FILE + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, PORT_FILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
