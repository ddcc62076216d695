#!/usr/bin/env python3
"""Read and rewrite the OMS referrer in an mreg bundle (a tar of an OCI image
layout), written from the image-spec for the tests, independent of mreg.

  oms_layout.py show BUNDLE              index.json's manifests and the signature
                                         manifest, as JSON
  oms_layout.py extract BUNDLE SIG       write the attached OMS bundle to SIG
  oms_layout.py rewrite BUNDLE OUT HOW   write a changed copy: HOW is
      tamper-sig      a byte of the OMS signature changed (digests redone)
      wrong-subject   the signature manifest names another subject
      two-models      index.json lists the model manifest twice, as two models
      drop-sig-blob   the OMS bundle blob left out
"""
import base64
import hashlib
import io
import json
import sys
import tarfile

SIG_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"


def load(path):
    files = {}
    with tarfile.open(path) as t:
        for m in t.getmembers():
            if m.isfile():
                files[m.name] = t.extractfile(m).read()
    return files


def blob(files, digest):
    return files["blobs/sha256/" + digest.split(":", 1)[1]]


def put(files, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    files["blobs/sha256/" + d.split(":", 1)[1]] = data
    return d


def signature(files):
    index = json.loads(files["index.json"])
    ref = [m for m in index["manifests"] if m.get("artifactType") == SIG_TYPE]
    if len(ref) != 1:
        sys.exit(f"expected one signature manifest in index.json, found {len(ref)}")
    man = json.loads(blob(files, ref[0]["digest"]))
    return index, ref[0], man


def save(files, out):
    with tarfile.open(out, "w") as t:
        for name in ["oci-layout", "index.json"] + sorted(n for n in files if n.startswith("blobs/")):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def main():
    cmd, bundle = sys.argv[1], sys.argv[2]
    files = load(bundle)
    index, desc, man = signature(files)
    if cmd == "show":
        print(json.dumps({"index": index, "signature_manifest": man}))
        return 0
    if cmd == "extract":
        with open(sys.argv[3], "wb") as f:
            f.write(blob(files, man["layers"][0]["digest"]))
        return 0
    out, how = sys.argv[3], sys.argv[4]
    model = [m for m in index["manifests"] if m is not desc][0]
    if how == "tamper-sig":
        sig = json.loads(blob(files, man["layers"][0]["digest"]))
        raw = bytearray(base64.b64decode(sig["dsseEnvelope"]["signatures"][0]["sig"]))
        raw[-1] ^= 1
        sig["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
        data = json.dumps(sig).encode()
        del files["blobs/sha256/" + man["layers"][0]["digest"].split(":", 1)[1]]
        man["layers"][0] = dict(man["layers"][0], digest=put(files, data), size=len(data))
    elif how == "wrong-subject":
        man["subject"]["digest"] = "sha256:" + "0" * 64
    elif how == "two-models":
        second = dict(model, annotations={"org.opencontainers.image.ref.name": "2"})
        index["manifests"].append(second)
    elif how == "drop-sig-blob":
        del files["blobs/sha256/" + man["layers"][0]["digest"].split(":", 1)[1]]
    else:
        sys.exit(f"unknown rewrite {how}")
    if how in ("tamper-sig", "wrong-subject"):
        del files["blobs/sha256/" + desc["digest"].split(":", 1)[1]]
        data = json.dumps(man).encode()
        desc["digest"] = put(files, data)
        desc["size"] = len(data)
    files["index.json"] = json.dumps(index).encode()
    save(files, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
