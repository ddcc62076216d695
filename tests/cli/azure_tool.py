#!/usr/bin/env python3
"""Azurite (Azure Blob Storage emulator) from the tests' side, through its REST
API with Shared Key (HMAC-SHA256), stdlib only:

    azure_tool.py ENDPOINT mkcontainer NAME [--public]
    azure_tool.py ENDPOINT put CONTAINER BLOB FILE [--folder-marker]
    azure_tool.py ENDPOINT setmd5 CONTAINER BLOB BASE64     the blob's Content-MD5 property
    azure_tool.py ENDPOINT putdir CONTAINER PREFIX DIR     every file of DIR as PREFIX/REL
    azure_tool.py ENDPOINT sas CONTAINER [PERMISSIONS]     a service SAS (default "rl"), one hour
    azure_tool.py ENDPOINT list CONTAINER                  blob names, one a line

ENDPOINT is the blob endpoint, http://127.0.0.1:PORT/devstoreaccount1; the
account is Azurite's documented development account.
"""
import base64
import datetime
import hashlib
import hmac
import os
import sys
import urllib.parse
import urllib.request

ACCOUNT = "devstoreaccount1"
KEY = base64.b64decode(
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
VERSION = "2021-08-06"


def request(method, endpoint, path, query=None, body=b"", headers=None):
    headers = dict(headers or {})
    query = query or {}
    if method == "PUT":  # urllib would add an unsigned form Content-Type otherwise
        headers.setdefault("Content-Type", "application/octet-stream")
    url = endpoint + path
    if query:
        url += "?" + urllib.parse.urlencode(query)
    headers["x-ms-date"] = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")
    headers["x-ms-version"] = VERSION
    length = str(len(body)) if body else ""
    ctype = headers.get("Content-Type", "")
    url_path = urllib.parse.urlsplit(url).path
    canon_headers = "".join(f"{k.lower()}:{v}\n" for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower())
                            if k.lower().startswith("x-ms-"))
    canon_res = f"/{ACCOUNT}{url_path}" + "".join(
        f"\n{k.lower()}:{v}" for k, v in sorted(query.items()))
    sts = "\n".join([method, "", "", length, headers.get("Content-MD5", ""), ctype, "", "", "", "", "", ""]) + "\n"
    sts += canon_headers + canon_res
    sig = base64.b64encode(hmac.new(KEY, sts.encode(), hashlib.sha256).digest()).decode()
    headers["Authorization"] = f"SharedKey {ACCOUNT}:{sig}"
    req = urllib.request.Request(url, data=body if method == "PUT" else None, method=method, headers=headers)
    if method == "PUT":
        req.add_header("Content-Length", str(len(body)))
    with urllib.request.urlopen(req) as r:
        return r.read()


def blob_path(container, blob):
    return "/" + container + "/" + urllib.parse.quote(blob, safe="/")


def endpoint_path(endpoint):
    return urllib.parse.urlsplit(endpoint).path  # "/devstoreaccount1"


def put(endpoint, container, blob, data, meta=None):
    base = endpoint.rstrip("/")
    headers = {"x-ms-blob-type": "BlockBlob", "Content-Type": "application/octet-stream"}
    for k, v in (meta or {}).items():
        headers["x-ms-meta-" + k] = v
    request("PUT", base, blob_path(container, blob), body=data, headers=headers)


def sas(container, perms):
    expiry = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    resource = f"/blob/{ACCOUNT}/{container}"
    sts = "\n".join([perms, "", expiry, resource, "", "", "", VERSION, "c", "", "", "", "", "", "", ""])
    sig = base64.b64encode(hmac.new(KEY, sts.encode(), hashlib.sha256).digest()).decode()
    return urllib.parse.urlencode({"sv": VERSION, "sr": "c", "sp": perms, "se": expiry, "sig": sig})


def main(argv):
    endpoint, cmd, args = argv[1].rstrip("/"), argv[2], argv[3:]
    if cmd == "mkcontainer":
        headers = {"x-ms-blob-public-access": "container"} if "--public" in args else {}
        request("PUT", endpoint, "/" + args[0], {"restype": "container"}, headers=headers)
    elif cmd == "put":
        container, blob, path = args[:3]
        meta = {"hdi_isfolder": "true"} if "--folder-marker" in args else None
        data = open(path, "rb").read() if path != "-" else b""
        put(endpoint, container, blob, data, meta)
    elif cmd == "setmd5":
        # Set Blob Properties stores it as given (Put Blob would check it).
        container, blob, md5 = args[:3]
        request("PUT", endpoint, blob_path(container, blob), {"comp": "properties"},
                headers={"x-ms-blob-content-md5": md5})
    elif cmd == "putdir":
        container, prefix, top = args[:3]
        for d, _, files in os.walk(top):
            for f in files:
                rel = os.path.relpath(os.path.join(d, f), top)
                with open(os.path.join(d, f), "rb") as fh:
                    put(endpoint, container, (prefix + "/" if prefix else "") + rel, fh.read())
    elif cmd == "sas":
        print(sas(args[0], args[1] if len(args) > 1 else "rl"))
    elif cmd == "list":
        body = request("GET", endpoint, "/" + args[0], {"restype": "container", "comp": "list"})
        import xml.etree.ElementTree as ET
        for n in ET.fromstring(body).iter("Name"):
            print(n.text)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
