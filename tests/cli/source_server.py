#!/usr/bin/env python3
"""An HTTPS (or, with --plain, HTTP) file server for the remote-source tests,
with fault injection chosen by the first path segment:

    /files/NAME             NAME from --dir: Range (one range), ETag, Last-Modified
    /cut-once/NAME          the first GET of NAME stops halfway (connection
                            closed), later ones are served as /files/ (Range too)
    /cut-restart/NAME       as cut-once, but later GETs ignore Range (200, all of it)
    /cut-always/NAME        every GET stops halfway
    /short/NAME             Content-Length says 100 bytes more than is sent, then close
    /error500/NAME          always 500
    /error500-once/NAME     500 first, then served
    /notfound/NAME          404
    /redirect-http/NAME     302 to http://127.0.0.1:PORT/files/NAME
    /redirect-https/NAME    302 to /files/NAME (same server)
    /md5/NAME, /md5bad/NAME with a right, or a wrong, Content-MD5
    /slow/NAME              served in 64 KiB pieces, 50 ms apart (a progress line shows)
    /cd?f=NAME              NAME, with Content-Disposition: attachment; filename="served-NAME"
    /?f=NAME                NAME, with no file name in the URL nor the answer

Each request is logged to --log as "METHOD PATH RANGE" (RANGE "-" when
none). The bound port is written to --port-file once listening.

Usage: source_server.py --dir D --port-file F --log L [--cert C --key K | --plain]
"""
import argparse
import base64
import email.utils
import hashlib
import http.server
import os
import ssl
import sys
import threading
import time
import urllib.parse

SEEN = {}
LOCK = threading.Lock()


def first_time(key):
    with LOCK:
        n = SEEN.get(key, 0)
        SEEN[key] = n + 1
        return n == 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log(self):
        with open(self.server.log, "a") as f:
            f.write(f"{self.command} {self.path} {self.headers.get('Range') or '-'} "
                    f"{self.headers.get('If-Range') or '-'}\n")

    def simple(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.log()
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.split("/", 2)
        mode = parts[1] if len(parts) > 1 else ""
        name = urllib.parse.unquote(parts[2]) if len(parts) > 2 else ""
        if mode in ("cd", ""):
            name = urllib.parse.parse_qs(url.query).get("f", [""])[0]
        path = os.path.join(self.server.dir, name)
        if not name or "/" in name or not os.path.isfile(path):
            return self.simple(404, b"no such file\n")
        st = os.stat(path)
        size = st.st_size
        # Validators from size and time: stable across requests, no read of the file.
        etag = '"%x-%x"' % (size, st.st_mtime_ns)
        common = [("ETag", etag), ("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))]
        if mode == "error500" or (mode == "error500-once" and first_time(self.path)):
            return self.simple(500, b"internal error\n")
        if mode == "notfound":
            return self.simple(404, b"not here\n")
        if mode == "redirect-http":
            return self.simple(302, headers=[("Location", f"http://127.0.0.1:{self.server.server_port}/files/{name}")])
        if mode == "redirect-https":
            return self.simple(302, headers=[("Location", f"/files/{name}")])
        if mode == "cd":
            common.append(("Content-Disposition", f'attachment; filename="served-{name}"'))
        if mode in ("md5", "md5bad"):
            with open(path, "rb") as f:
                data = f.read() + (b"x" if mode == "md5bad" else b"")
            common.append(("Content-MD5", base64.b64encode(hashlib.md5(data).digest()).decode()))
        cut = (mode in ("cut-once", "cut-restart") and first_time(self.path)) or mode == "cut-always"
        if cut:
            self.head(200, common, size)
            self.stream(path, 0, size // 2)
            self.close_connection = True
            return
        if mode == "short":
            self.head(200, [], size + 100)
            self.stream(path, 0, size)
            self.close_connection = True
            return
        rng = self.headers.get("Range")
        if rng and mode != "cut-restart" and rng.startswith("bytes=") and rng.endswith("-"):
            if_range = self.headers.get("If-Range")
            if if_range is None or if_range == etag:
                start = int(rng[6:-1])
                if start >= size:
                    return self.simple(416, headers=[("Content-Range", f"bytes */{size}")])
                self.head(206, common + [("Content-Range", f"bytes {start}-{size - 1}/{size}")], size - start)
                return self.stream(path, start, size - start)
        self.head(200, common, size)
        self.stream(path, 0, size, slow=mode == "slow")

    def head(self, status, headers, length):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def stream(self, path, start, length, slow=False):
        with open(path, "rb") as f:
            f.seek(start)
            while length > 0:
                chunk = f.read(min(length, 64 << 10 if slow else 1 << 20))
                if not chunk:
                    break
                self.wfile.write(chunk)
                length -= len(chunk)
                if slow:
                    self.wfile.flush()
                    time.sleep(0.05)
        self.wfile.flush()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--plain", action="store_true")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.dir = a.dir
    srv.log = a.log
    if not a.plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_port))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
