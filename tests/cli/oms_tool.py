#!/usr/bin/env python3
"""An independent OpenSSF Model Signing (OMS v1.0) signer and verifier, "files"
method, "key" method, written from the spec (../shared/reference/oms/spec/v1.0.md)
with Debian's python3-cryptography and nothing of mreg: the peer mreg's OMS
signatures are checked against in tests/cli/oms.bats.

  oms_tool.py sign --key KEY.pem -o SIG MODEL [--unsorted] [--payload-type T]
  oms_tool.py verify --pubkey PUB.pem --signature SIG MODEL [--ignore-unsigned-files]
  oms_tool.py schema SCHEMA_DIR BUNDLE      (python3-jsonschema, all four schemas)

verify exits 0 when every check passes, 1 with the reason on stderr otherwise.
"""
import argparse
import base64
import hashlib
import json
import os
import stat
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
DEFAULT_IGNORES = [".git", ".gitattributes", ".github", ".gitignore"]


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def curve_hash(key):
    size = key.curve.key_size
    return {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[size]


def ignored(rel, ignores):
    return any(rel == i or rel.startswith(i + "/") for i in ignores)


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def enumerate_model(root, ignores):
    """{relative name: sha256 hex} of every regular file; links refused (allow_symlinks false)."""
    out = {}
    st = os.lstat(root)
    if stat.S_ISREG(st.st_mode):
        out[os.path.basename(root)] = file_sha256(root)
        return out
    for d, dirs, files in os.walk(root):
        for name in list(dirs) + files:
            path = os.path.join(d, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if ignored(rel, ignores):
                if name in dirs:
                    dirs.remove(name)
                continue
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise SystemExit(f"{path}: a symbolic link (allow_symlinks is false)")
            if stat.S_ISREG(mode):
                out[rel] = file_sha256(path)
    return out


def inside(root, sig):
    root = os.path.realpath(root)
    sig = os.path.realpath(sig)
    if os.path.isdir(root) and sig.startswith(root + os.sep):
        return os.path.relpath(sig, root).replace(os.sep, "/")
    return None


def sign(args):
    with open(args.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    ignores = DEFAULT_IGNORES + ([inside(args.model, args.output)] if inside(args.model, args.output) else [])
    files = enumerate_model(args.model, ignores)
    names = sorted(files, key=lambda n: n.encode())
    if args.unsorted:
        names.reverse()
    root = hashlib.sha256(b"".join(bytes.fromhex(files[n]) for n in names)).hexdigest()
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": os.path.basename(os.path.abspath(args.model)), "digest": {"sha256": root}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "resources": [{"digest": files[n], "algorithm": "sha256", "name": n} for n in names],
            "serialization": {"method": "files", "ignore_paths": ignores, "hash_type": "sha256",
                              "allow_symlinks": False},
        },
    }
    payload = json.dumps(statement, indent=2).encode()
    sig = key.sign(pae(args.payload_type, payload), ec.ECDSA(curve_hash(key)))
    pub_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    bundle = {
        "mediaType": MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": hashlib.sha256(pub_pem).hexdigest()}, "tlogEntries": []},
        "dsseEnvelope": {"payload": base64.b64encode(payload).decode(), "payloadType": args.payload_type,
                         "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": ""}]},
    }
    with open(args.output, "w") as f:
        json.dump(bundle, f, indent=4)
    return 0


def fail(msg):
    print(f"oms_tool: {msg}", file=sys.stderr)
    return 1


def verify(args):
    with open(args.signature) as f:
        bundle = json.load(f)
    if not bundle.get("mediaType", "").startswith("application/vnd.dev.sigstore.bundle"):
        return fail("mediaType is not a Sigstore bundle's")
    env = bundle["dsseEnvelope"]
    if env["payloadType"] != PAYLOAD_TYPE:
        return fail(f"payloadType {env['payloadType']!r}")
    payload = base64.b64decode(env["payload"], validate=True)
    with open(args.pubkey, "rb") as f:
        key = serialization.load_pem_public_key(f.read())
    ok = False
    for s in env["signatures"]:
        try:
            key.verify(base64.b64decode(s["sig"]), pae(env["payloadType"], payload), ec.ECDSA(curve_hash(key)))
            ok = True
        except (InvalidSignature, ValueError):
            pass
    if not ok:
        return fail("the DSSE signature does not verify")
    st = json.loads(payload)
    if st["_type"] != STATEMENT_TYPE or st["predicateType"] != PREDICATE_TYPE:
        return fail("not an OMS v1.0 statement")
    pred = st["predicate"]
    ser = pred["serialization"]
    if ser["method"] != "files" or ser["hash_type"] != "sha256" or ser["allow_symlinks"]:
        return fail("not files/sha256 without links")
    res = pred["resources"]
    names = [r["name"] for r in res]
    if names != sorted(names, key=lambda n: n.encode()) or len(set(names)) != len(names):
        return fail("resources are not sorted by name")
    root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in res)).hexdigest()
    if st["subject"][0]["digest"]["sha256"] != root:
        return fail("the subject digest is not over the resources")
    ignores = DEFAULT_IGNORES + ser.get("ignore_paths", [])
    if inside(args.model, args.signature):
        ignores.append(inside(args.model, args.signature))
    have = enumerate_model(args.model, ignores)
    for r in res:
        if r["name"] not in have:
            return fail(f"{r['name']}: missing")
        if have[r["name"]] != r["digest"]:
            return fail(f"{r['name']}: digest differs")
    extra = set(have) - set(names)
    if extra and not args.ignore_unsigned_files:
        return fail(f"unsigned files: {sorted(extra)}")
    print(f"oms_tool: OK: {len(res)} files verified")
    return 0


def schema(args):
    import jsonschema

    schemas = {}
    for name in ("bundle", "envelope", "statement", "predicate"):
        with open(os.path.join(args.schema_dir, f"{name}.schema.json")) as f:
            schemas[name] = json.load(f)

    def validator(name):
        try:  # jsonschema >= 4.18
            from referencing import Registry, Resource
            registry = Registry().with_resources(
                (s["$id"], Resource.from_contents(s)) for s in schemas.values())
            return jsonschema.Draft202012Validator(schemas[name], registry=registry)
        except ImportError:  # Debian 12's 4.10
            store = {s["$id"]: s for s in schemas.values()}
            resolver = jsonschema.RefResolver.from_schema(schemas[name], store=store)
            return jsonschema.Draft202012Validator(schemas[name], resolver=resolver)

    try:
        with open(args.bundle) as f:
            bundle = json.load(f)
        validator("bundle").validate(bundle)
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"], validate=True))
        validator("statement").validate(statement)
    except (ValueError, jsonschema.ValidationError) as e:
        msg = e.message if isinstance(e, jsonschema.ValidationError) else str(e)
        return fail(f"{args.bundle}: invalid: {msg[:200]}")
    print(f"{args.bundle}: valid")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sign")
    s.add_argument("--key", required=True)
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--unsorted", action="store_true")
    s.add_argument("--payload-type", default=PAYLOAD_TYPE)
    s.add_argument("model")
    v = sub.add_parser("verify")
    v.add_argument("--pubkey", required=True)
    v.add_argument("--signature", required=True)
    v.add_argument("--ignore-unsigned-files", action="store_true")
    v.add_argument("model")
    c = sub.add_parser("schema")
    c.add_argument("schema_dir")
    c.add_argument("bundle")
    args = p.parse_args()
    return {"sign": sign, "verify": verify, "schema": schema}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
