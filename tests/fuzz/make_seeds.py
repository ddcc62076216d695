#!/usr/bin/env python3
"""Regenerate the seed corpora of fuzz_model_yml, fuzz_oci, fuzz_layer,
fuzz_registry and fuzz_url (tests/fuzz/corpus/<target>/).

Seeds come from real examples: the documents of the bundles in
corpus/bundle (mreg's own, format 1 and 2, and ModelPack artifacts other
tools write, with their tar layers), the OCI image and distribution specs'
and Docker's token authentication spec's examples (written here, not
downloaded), the Azure ML model.yml of examples/, and hostile variants of
each. Regression seeds found by libFuzzer (crash-*, named for what they
found) are kept: only the files this script writes are replaced.

Usage: tests/fuzz/make_seeds.py
"""
import gzip
import hashlib
import io
import json
import os
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
ROOT = os.path.dirname(os.path.dirname(HERE))


WRITTEN = set()


def put(target, name, data):
    """Write one seed, unless the same bytes are already a seed of @target."""
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    key = (target, hashlib.sha256(data).digest())
    if key in WRITTEN:
        return
    WRITTEN.add(key)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


# ---- the documents of the bundle corpus ----

def bundle_members(path):
    """{name: bytes} of a bundle (tar, tar.gz; zstd ones are skipped)."""
    if path.endswith(".zst"):
        return {}
    try:
        with tarfile.open(path) as t:
            return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    except (tarfile.TarError, OSError, EOFError):
        return {}


def from_bundles():
    layers = 0
    for name in sorted(os.listdir(os.path.join(CORPUS, "bundle"))):
        if name.startswith("hostile-"):
            continue
        base = name.split(".")[0]
        files = bundle_members(os.path.join(CORPUS, "bundle", name))
        if not files:
            continue
        blobs = {"sha256:" + k.rsplit("/", 1)[1]: v for k, v in files.items()
                 if k.startswith("blobs/sha256/")}
        if "oci-layout" in files and base == "plain":
            put("oci", "oci-layout", files["oci-layout"])
        if "index.json" not in files:
            continue
        index = files["index.json"]
        put("oci", base + "-index.json", index)
        try:
            mdesc = json.loads(index)["manifests"][0]
            manifest = blobs[mdesc["digest"]]
            m = json.loads(manifest)
        except (KeyError, IndexError, ValueError):
            continue
        put("oci", base + "-manifest.json", manifest)
        cfg = blobs.get(m.get("config", {}).get("digest"))
        if cfg:
            put("oci", base + "-config.json", cfg)
        rec = m.get("annotations", {}).get("org.mreg.record+json")
        if rec:
            put("oci", base + "-record.json", rec)
        elif cfg and "mreg" in json.loads(cfg):
            put("oci", base + "-record.json", compact(json.loads(cfg)["mreg"]))
        for layer in m.get("layers", []):
            mt = layer.get("mediaType", "")
            if ".tar" in mt and layer.get("digest") in blobs:
                layers += 1
                ext = mt.rsplit(".", 1)[1].replace("+", "-")
                put("layer", "%s-%d.%s" % (base, layers, ext), blobs[layer["digest"]])
    return layers


# ---- OCI documents written by hand (the specs' examples, hostile variants) ----

def oci_seeds():
    cfg = compact({"descriptor": {"name": "churn", "version": "1", "description": "d"},
                   "config": {"format": "onnx"}, "modelfs": {"type": "layers", "diffIds": []}})
    cdesc = {"mediaType": "application/vnd.cncf.model.config.v1+json",
             "digest": digest(cfg.encode()), "size": len(cfg)}
    raw = "application/vnd.cncf.model.weight.v1.raw"

    def manifest(layers, annotations=None, **over):
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "artifactType": "application/vnd.cncf.model.manifest.v1+json",
             "config": cdesc, "layers": layers}
        if annotations is not None:
            m["annotations"] = annotations
        m.update(over)
        return json.dumps(m, indent=2)

    def layer(path, mt=raw, meta=None, **over):
        d = {"mediaType": mt, "digest": digest(path.encode()), "size": 12,
             "annotations": {"org.cncf.model.filepath": path}}
        if meta is not None:
            d["annotations"]["org.cncf.model.file.metadata+json"] = meta
        d.update(over)
        return d

    put("oci", "spec-config.json", cfg)
    put("oci", "spec-manifest.json", manifest(
        [layer("model.onnx", meta=compact({"name": "model.onnx", "mode": 420, "uid": 0,
                                           "gid": 0, "size": 12, "typeflag": 0})),
         layer("docs", mt="application/vnd.cncf.model.doc.v1.tar+gzip"),
         {"mediaType": "application/vnd.cncf.model.code.v1.tar", "digest": digest(b"c"),
          "size": 3}],
        {"org.opencontainers.image.title": "churn",
         "org.opencontainers.image.version": "1"}))
    put("oci", "oras-title.json", manifest(
        [{"mediaType": raw, "digest": digest(b"w"), "size": 1,
          "annotations": {"org.opencontainers.image.title": "w.bin"}}]))
    for name, path in [("dotdot", "../../etc/passwd"), ("absolute", "/etc/passwd"),
                       ("dotgit", "a/.git/hooks/post-checkout"), ("dotmreg", ".MREG/config.yaml"),
                       ("backslash", "a\\..\\b"), ("control", "a\u001b[2Jb"),
                       ("empty", ""), ("long", "d/" * 300 + "f")]:
        put("oci", "hostile-path-%s.json" % name, manifest([layer(path)]))
    put("oci", "hostile-mode.json", manifest([layer("w", meta='{"mode":-1}')]))
    put("oci", "hostile-meta.json", manifest([layer("w", meta="[1,2")]))
    put("oci", "hostile-size.json", manifest([layer("w", size=-1)]))
    put("oci", "hostile-bigconfig.json",
        manifest([], config=dict(cdesc, size=1 << 40)))
    put("oci", "hostile-digest.json", manifest([layer("w", digest="sha256:" + "g" * 64)]))
    put("oci", "hostile-mediatype.json",
        manifest([layer("w", mt="application/vnd.oci.image.layer.v1.tar")]))
    put("oci", "hostile-duplicate-key.json",
        '{"schemaVersion":2,"schemaVersion":2,"layers":[]}')
    put("oci", "hostile-annotation-type.json",
        manifest([], {"org.mreg.record+json": 42}))
    put("oci", "hostile-deep.json", "[" * 5000 + "]" * 5000)
    put("oci", "image-index.json", json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": digest(b"m"), "size": 7143,
                       "platform": {"architecture": "amd64", "os": "linux"}},
                      {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": digest(b"n"), "size": 7682,
                       "platform": {"architecture": "arm64", "os": "linux"}}]}, indent=3))
    put("oci", "docker-manifest.json", json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": 7023, "digest": digest(b"cfg")},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 32654, "digest": digest(b"l")}]}, indent=3))
    rec = {"bundle_format": 2, "name": "churn", "version": "1", "type": "custom_model",
           "digest": digest(b"content"), "created_at": "2026-01-01T00:00:00Z",
           "description": "multi\nline", "stage": "Staging", "tags": {"team": "growth"},
           "properties": {"auc": "0.9"}, "metadata": {"flavors": {"python_function": {}}},
           "source": {"kind": "folder", "path": "/m",
                      "git": {"commit": "a" * 40, "branch": "main", "dirty": False,
                              "remote": "https://example.com/r.git", "path": "m"}}}
    put("oci", "record-full.json", compact(rec))
    put("oci", "record-future.json", compact(dict(rec, bundle_format=99)))
    put("oci", "record-badname.json", compact(dict(rec, name="../x")))
    put("oci", "record-badtags.json", compact(dict(rec, tags={"k": 1})))
    put("oci", "record-tree.json", compact(dict(
        rec, dirs=[{"path": "empty", "mode": 493}],
        links=[{"path": "l", "target": "w.bin"}, {"path": "up", "target": "../../x"}])))


# ---- tar layers written by hand ----

def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def entry(name, data=None, type_=tarfile.REGTYPE, linkname="", mode=0o644):
    i = tarfile.TarInfo(name)
    i.type = type_
    i.linkname = linkname
    i.mode = mode
    return (i, data if type_ == tarfile.REGTYPE else None)


def layer_seeds():
    good = tar_bytes([entry("src", type_=tarfile.DIRTYPE, mode=0o755),
                      entry("src/train.py", b"print(1)\n", mode=0o755),
                      entry("src/empty", type_=tarfile.DIRTYPE),
                      entry("README.md", b"# model\n"),
                      entry("same.txt", b"x", type_=tarfile.LNKTYPE, linkname="README.md")])
    put("layer", "hand-good.tar", good)
    put("layer", "hand-good.tar-gzip", gzip.compress(good, mtime=0))
    put("layer", "hand-ustar.tar", tar_bytes([entry("a/b.bin", b"\0" * 100)],
                                             tarfile.USTAR_FORMAT))
    put("layer", "hand-gnu-longname.tar",
        tar_bytes([entry("d/" * 60 + "f", b"long")], tarfile.GNU_FORMAT))
    for name, entries in [
            ("dotdot", [entry("../evil", b"x")]),
            ("absolute", [entry("/etc/cron.d/x", b"x")]),
            ("symlink", [entry("l", type_=tarfile.SYMTYPE, linkname="/etc")]),
            ("hardlink-out", [entry("h", type_=tarfile.LNKTYPE, linkname="../../etc/shadow")]),
            ("device", [entry("dev", type_=tarfile.CHRTYPE)]),
            ("fifo", [entry("fifo", type_=tarfile.FIFOTYPE)]),
            ("duplicate", [entry("a", b"1"), entry("a", b"2")]),
            ("file-and-dir", [entry("a", b"1"), entry("a/b", b"2")]),
            ("dotgit", [entry(".git/hooks/post-checkout", b"#!/bin/sh\n", mode=0o755)]),
            ("control", [entry("a\x1b]0;x\x07", b"1")])]:
        put("layer", "hostile-%s.tar" % name, tar_bytes(entries))
    put("layer", "hostile-truncated.tar", good[:700])
    put("layer", "hostile-gzip-bomb.tar-gzip",
        gzip.compress(tar_bytes([entry("zeros", b"\0" * (1 << 20))]), mtime=0))
    put("layer", "hostile-not-tar.tar", b"PK\x03\x04 a zip, not a tar")


# ---- what a registry answers ----

def registry_seeds():
    # WWW-Authenticate, as Docker Hub, GHCR, Quay, Harbor and distribution send it.
    put("registry", "www-dockerhub",
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/ubuntu:pull"')
    put("registry", "www-ghcr",
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"')
    put("registry", "www-harbor",
        'Bearer realm="https://harbor.example.com/service/token",service="harbor-registry"')
    put("registry", "www-basic", 'Basic realm="Registry Realm"')
    put("registry", "www-error",
        'Bearer realm="https://auth.example.com/token",service="reg",'
        'scope="repository:a/b:pull",error="insufficient_scope"')
    put("registry", "www-unquoted", "bearer realm=https://a/t, service=x ,scope=y")
    put("registry", "www-escapes", 'Bearer realm="https://a/\\"t\\"",service="\\\\"')
    put("registry", "www-unterminated", 'Bearer realm="https://a/t')
    put("registry", "www-negotiate", "Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6i")
    put("registry", "www-norealm", "Bearer service=x,scope=y")
    put("registry", "www-empty", "")
    # Token answers (Docker's token authentication spec; OAuth2).
    jwt = "eyJhbGciOiJFUzI1NiIsImtpZCI6IkZXT0wifQ.eyJpc3MiOiJhdXRoIn0.c2lnbmF0dXJl"
    put("registry", "token-docker", json.dumps(
        {"token": jwt, "access_token": jwt, "expires_in": 300,
         "issued_at": "2026-01-01T00:00:00Z"}, indent=2))
    put("registry", "token-oauth2", json.dumps(
        {"access_token": jwt, "token_type": "Bearer", "expires_in": 3600,
         "refresh_token": "kas9Da81Dfa8"}))
    put("registry", "token-empty-token", '{"token":"","access_token":"abc=="}')
    put("registry", "token-crlf", '{"token":"abc\\r\\nX-Injected: 1"}')
    put("registry", "token-nul", '{"token":"abc\\u0000def"}')
    put("registry", "token-number", '{"token":42}')
    put("registry", "token-array", '["token"]')
    # Error bodies (distribution spec, "Error Codes").
    put("registry", "errors-manifest-invalid", json.dumps({"errors": [
        {"code": "MANIFEST_INVALID", "message": "manifest invalid",
         "detail": {"reason": "layer not found"}}]}))
    put("registry", "errors-unauthorized", json.dumps({"errors": [
        {"code": "UNAUTHORIZED", "message": "authentication required",
         "detail": [{"Type": "repository", "Name": "a/b", "Action": "pull"}]}]}))
    put("registry", "errors-denied-nomessage", '{"errors":[{"code":"DENIED"}]}')
    put("registry", "errors-control", '{"errors":[{"code":"X\\u001b[31m","message":"a\\nb"}]}')
    put("registry", "errors-html", "<html><body><h1>502 Bad Gateway</h1></body></html>")
    put("registry", "errors-long", json.dumps({"errors": [{"code": "C" * 1000,
                                                           "message": "m" * 5000}]}))


# ---- git remotes and registry references ----

def url_seeds():
    for name, text in [
            ("https", "https://github.com/org/repo.git"),
            ("userinfo", "https://user:s3cret@gitlab.example.com/group/repo.git"),
            ("token-query", "https://gitlab.example.com/g/r.git?private_token=glpat-xyz#frag"),
            ("password-slash", "https://u:pa/ss@host/r.git"),
            ("password-at", "https://u:p@ss@host/r.git"),
            ("ipv6", "ssh://git@[2001:db8::1]:2222/srv/repo.git"),
            ("scp", "git@github.com:org/repo.git"),
            ("scp-password", "user:pw@host:path/repo.git"),
            ("local", "/srv/git/repo.git"),
            ("file", "file:///srv/git/repo.git"),
            ("options", "imap://user;AUTH=PLAIN@mail.example.com/"),
            ("percent", "https://%75ser:%70w@host/%2e%2e/r"),
            ("ref-tag", "registry.example.com:5000/team/churn:1"),
            ("ref-digest", "localhost/a/b@sha256:" + "0" * 64),
            ("ref-both", "ghcr.io/org/model:v2@sha256:" + "a" * 64),
            ("ref-userinfo", "user:password@registry.example.com/a/b:1"),
            ("ref-upper", "Registry.Example.com/Team/Churn:1"),
            ("ref-long", "h/" + "a/" * 200 + "b:1")]:
        put("url", name, text)


def model_yml_seeds():
    with open(os.path.join(ROOT, "examples", "churn-model.yml"), "rb") as f:
        put("model_yml", "churn-model.yml", f.read())
    put("model_yml", "minimal.yml", "name: m\nversion: 1\npath: .\n")
    put("model_yml", "mlflow.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
        "name: credit\nversion: \"3\"\ntype: mlflow_model\npath: ./model\n"
        "description: |\n  Credit scoring,\n  two lines.\ntags: {a: b, c: \"1\"}\n"
        "properties:\n  k: v\nstage: Production\n")
    put("model_yml", "placeholders.yml",
        "name: <MODEL_NAME>\nversion: '{{MODEL_VERSION}}'\npath: ${{inputs.path}}\n")
    put("model_yml", "wrong-types.yml",
        "name: [a]\nversion: {x: 1}\ntags: [1, 2]\nproperties: 3\nstage: ~\n")
    put("model_yml", "unknown.yml", "name: m\nversion: 1\npath: .\nflavors: {}\njob_name: j\n")
    put("model_yml", "anchors.yml",
        "base: &b {team: x}\nname: m\nversion: 1\npath: .\ntags: *b\n"
        "properties: {<<: *b, extra: y}\n")
    put("model_yml", "bomb.yml",
        "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
        "tags: {k: *d}\nname: m\nversion: 1\n")
    put("model_yml", "duplicate.yml", "name: a\nname: b\nversion: 1\n")
    put("model_yml", "multi-doc.yml", "name: a\n---\nname: b\n")
    put("model_yml", "tabs.yml", "name: m\n\tversion: 1\n")
    put("model_yml", "control.yml", "name: m\nversion: 1\ndescription: \"\\e[31mred\"\n")
    put("model_yml", "badutf8.yml", b"name: m\xff\xfe\nversion: 1\n")
    put("model_yml", "deep.yml", "tags: " + "[" * 3000 + "]" * 3000 + "\n")
    put("model_yml", "empty.yml", "")
    put("model_yml", "bom.yml", b"\xef\xbb\xbfname: m\nversion: 1\npath: .\n")


if __name__ == "__main__":
    for t in ("model_yml", "oci", "layer", "registry", "url"):
        d = os.path.join(CORPUS, t)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            if not f.startswith("crash-"):
                os.remove(os.path.join(d, f))
    oci_seeds()
    layer_seeds()
    registry_seeds()
    url_seeds()
    model_yml_seeds()
    n = from_bundles()
    print("seeds written; %d tar layers from the bundle corpus" % n)
