#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of a real registry, for mreg's tests.

    registry_proxy.py UPSTREAM_PORT PORT_FILE LOG_FILE FAULT_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE) and forwards every
request to the registry on 127.0.0.1:UPSTREAM_PORT, streaming both ways and
keeping the Host header, so the registry's Location headers point back here.
Each request is logged to LOG_FILE as one JSON line: method, path, range,
status, bytes of body sent back.

FAULT_FILE (re-read on every request; absent or empty: no fault) is a JSON
object:
  {"kind": K, "times": N, "after": BYTES, "match": SUBSTRING}
where kind is one of
  status500    answer 500 instead of forwarding
  cut-download send the headers and AFTER bytes of a blob, then close
  cut-upload   read AFTER bytes of an upload's body, then close without answer
  corrupt-blob flip one byte of a blob's body (the headers stay the same)
  not-json     answer a manifest GET with a body that is not JSON
  limit-body   answer 413 to an upload whose body is larger than AFTER bytes
               (as a front end with a body size limit does)
  ignore-range forward a blob GET without its Range header (the whole blob, 200)
  status416    answer a blob GET with 416 Range Not Satisfiable
  redirect-blob answer a blob GET with 307 to the same path on "to" (HOST:PORT),
               as a registry that keeps its blobs in object storage does

With $PROXY_REFERRERS set, the proxy adds what Debian's docker-registry 2.8
lacks, the referrers API of the OCI distribution spec 1.1, as a registry
that has it behaves: a manifest PUT whose body has a "subject" is answered
with an OCI-Subject header and remembered, and GET /v2/NAME/referrers/DIGEST
(with ?artifactType= as a filter, said in OCI-Filters-Applied) answers an
image index of the manifests whose subject is DIGEST. The manifests
themselves are stored by the registry behind.

With $PROXY_INJECT_AUTH set, requests are forwarded with that Authorization
header instead of their own (a stand-in for a pre-signed storage URL). Every
log line says whether the request came with an Authorization header.
It applies to the next N requests (default: all) whose path contains
"match" (default: any path the kind applies to); "times" counts down in the
file itself.
"""

import http.client
import http.server
import json
import os
import socket
import sys
import threading

UPSTREAM = int(sys.argv[1])
PORT_FILE, LOG_FILE, FAULT_FILE = sys.argv[2], sys.argv[3], sys.argv[4]
LOCK = threading.Lock()
INJECT_AUTH = os.environ.get("PROXY_INJECT_AUTH")
REFERRERS = bool(os.environ.get("PROXY_REFERRERS"))
REFERRED = {}  # (repository, subject digest) -> [descriptor of a manifest]
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


def applies(kind, method, path):
    is_blob = "/blobs/" in path and "/uploads/" not in path
    return {
        "status500": True,
        "cut-download": method == "GET" and is_blob,
        "corrupt-blob": method == "GET" and is_blob,
        "cut-upload": method in ("PUT", "PATCH") and "/blobs/uploads/" in path,
        "not-json": method == "GET" and "/manifests/" in path,
        "limit-body": method in ("PUT", "PATCH") and "/blobs/uploads/" in path,
        "ignore-range": method == "GET" and is_blob,
        "status416": method == "GET" and is_blob,
        "redirect-blob": method == "GET" and is_blob,
    }.get(kind, False)


def take_fault(method, path):
    """The fault for this request, counting it down; None when there is none."""
    with LOCK:
        try:
            with open(FAULT_FILE) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        if not text:
            return None
        fault = json.loads(text)
        if not applies(fault["kind"], method, path):
            return None
        if fault.get("match") and fault["match"] not in path:
            return None
        times = fault.get("times")
        if times is not None:
            if times <= 0:
                return None
            fault["times"] = times - 1
            with open(FAULT_FILE, "w") as f:
                json.dump(fault, f)
        return fault


def log(entry):
    with LOCK:
        with open(LOG_FILE, "a") as f:
            f.write(json.dumps(entry) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def referrers(self, path):
        """GET /v2/NAME/referrers/DIGEST[?artifactType=T] (distribution spec 1.1)."""
        bare, _, query = path.partition("?")
        repo, _, digest = bare[len("/v2/"):].rpartition("/referrers/")
        want = None
        for part in query.split("&"):
            if part.startswith("artifactType="):
                want = part[len("artifactType="):].replace("%2B", "+").replace("%2F", "/")
        with LOCK:
            found = list(REFERRED.get((repo, digest), []))
        if want:
            found = [d for d in found if d.get("artifactType") == want]
        body = json.dumps({"schemaVersion": 2,
                           "mediaType": "application/vnd.oci.image.index.v1+json",
                           "manifests": found}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.index.v1+json")
        if want:
            self.send_header("OCI-Filters-Applied", "artifactType")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log({"method": self.command, "path": bare, "status": 200, "sent": len(body),
             "referrers": len(found)})
        self.close_connection = True

    def relay(self):
        method, path = self.command, self.path
        if REFERRERS and method in ("GET", "HEAD") and "/referrers/" in path:
            return self.referrers(path)
        manifest_put = REFERRERS and method == "PUT" and "/manifests/" in path
        manifest_body = bytearray()
        fault = take_fault(method, path)
        entry = {"method": method, "path": path.split("?")[0],
                 "range": self.headers.get("Range"), "fault": fault and fault["kind"],
                 "auth": self.headers.get("Authorization") is not None}
        length = int(self.headers.get("Content-Length") or 0)

        if fault and fault["kind"] == "limit-body" and length > fault.get("after", 0):
            self.drain(length)
            body = b"<html>413 Request Entity Too Large</html>"
            self.send_response(413)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            entry.update(status=413, sent=len(body), length=length)
            log(entry)
            self.close_connection = True
            return
        if fault and fault["kind"] == "limit-body":
            fault = None  # small enough: forwarded as it is

        if fault and fault["kind"] == "redirect-blob":
            self.drain(length)
            self.send_response(307)
            self.send_header("Location", "http://%s%s" % (fault["to"], path))
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            entry.update(status=307, sent=0)
            log(entry)
            self.close_connection = True
            return
        if fault and fault["kind"] in ("status500", "status416"):
            self.drain(length)
            code = 500 if fault["kind"] == "status500" else 416
            body = b'{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}'
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            entry.update(status=code, sent=len(body))
            log(entry)
            self.close_connection = True
            return

        up = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=120)
        up.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() in HOP or k.lower() == "expect":
                continue
            if k.lower() == "authorization" and INJECT_AUTH:
                continue
            if k.lower() == "range" and fault and fault["kind"] == "ignore-range":
                continue
            up.putheader(k, v)
        if INJECT_AUTH:
            up.putheader("Authorization", INJECT_AUTH)
        up.endheaders()
        left = length
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            if fault and fault["kind"] == "cut-upload" and length - left + len(chunk) >= fault.get("after", 0):
                entry.update(status=None, sent=0, received=length - left)
                log(entry)
                up.close()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            up.send(chunk)
            if manifest_put and len(manifest_body) < (4 << 20):
                manifest_body += chunk
            left -= len(chunk)
        resp = up.getresponse()
        status = resp.status
        subject = None
        if manifest_put and status == 201:
            subject = self.remember_referrer(path, bytes(manifest_body))

        if fault and fault["kind"] == "not-json":
            resp.read()
            body = b"<html>this is not a manifest</html>"
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            entry.update(status=200, sent=len(body))
            log(entry)
            self.close_connection = True
            return

        self.send_response(status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        if subject:
            self.send_header("OCI-Subject", subject)
        self.send_header("Connection", "close")
        self.end_headers()
        sent = 0
        cut = fault and fault["kind"] == "cut-download" and status in (200, 206)
        corrupt = fault and fault["kind"] == "corrupt-blob" and status in (200, 206)
        if method != "HEAD":
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                if corrupt and sent + len(chunk) > 0:
                    b = bytearray(chunk)
                    b[len(b) // 2] ^= 0xFF
                    chunk = bytes(b)
                    corrupt = False
                if cut and sent + len(chunk) >= fault.get("after", 0):
                    keep = max(0, fault.get("after", 0) - sent)
                    self.wfile.write(chunk[:keep])
                    sent += keep
                    self.wfile.flush()
                    entry.update(status=status, sent=sent, cut=True)
                    log(entry)
                    up.close()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
        up.close()
        entry.update(status=status, sent=sent)
        log(entry)
        self.close_connection = True

    def remember_referrer(self, path, body):
        """A manifest with a subject, as a registry with the referrers API
        lists it; returns the subject's digest (None: no subject)."""
        import hashlib
        try:
            doc = json.loads(body)
        except ValueError:
            return None
        subject = isinstance(doc, dict) and doc.get("subject")
        if not isinstance(subject, dict) or not isinstance(subject.get("digest"), str):
            return None
        repo = path[len("/v2/"):].rpartition("/manifests/")[0]
        desc = {"mediaType": doc.get("mediaType", "application/vnd.oci.image.manifest.v1+json"),
                "digest": "sha256:" + hashlib.sha256(body).hexdigest(), "size": len(body)}
        artifact = doc.get("artifactType") or (doc.get("config") or {}).get("mediaType")
        if artifact:
            desc["artifactType"] = artifact
        if doc.get("annotations"):
            desc["annotations"] = doc["annotations"]
        with LOCK:
            listed = REFERRED.setdefault((repo, subject["digest"]), [])
            if all(d["digest"] != desc["digest"] for d in listed):
                listed.append(desc)
        return subject["digest"]

    def drain(self, length):
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = relay


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
