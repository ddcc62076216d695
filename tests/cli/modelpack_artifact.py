#!/usr/bin/env python3
"""Build a ModelPack artifact the way the CNCF model-spec allows, without mreg,
for the CLI tests (modelpack.bats): the layer kinds and forms of docs/spec.md,
other tools' annotations, a config valid against the spec's schema and no mreg
metadata at all.

    modelpack_artifact.py OUT [options]

writes
    OUT/layout/      an OCI image layout (oci-layout, index.json, blobs/sha256/...),
                     what `skopeo copy oci:OUT/layout:TAG ...` reads
    OUT/bundle.tar   the same layout as one tar (with --bundle; .gz/.zst by --compress),
                     what `mreg import/unpack/verify` read
    OUT/tree/        the model: every file with its mode, every folder (empty ones too),
                     as a reader must recreate it

Layers: one per kind (weight, weight.config, doc, code, dataset) and form (raw,
tar, tar+gzip, tar+zstd), 20 by default. A raw layer is one file placed by
org.cncf.model.filepath with its mode in org.cncf.model.file.metadata+json; a
tar layer is a folder whose entries carry their own names and modes, with
executable and private files, an empty folder, "./" prefixes in one form and a
hard link in another. --hostile CASE puts one defect into a tar layer (see
HOSTILE). Only the standard library is used (tarfile, gzip, hashlib, json);
zstd goes through the `zstd` command-line tool.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile

KINDS = ["weight", "weight.config", "doc", "code", "dataset"]
FORMS = ["raw", "tar", "tar+gzip", "tar+zstd"]
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
ARTIFACT = "application/vnd.cncf.model.manifest.v1+json"
MT_CONFIG = "application/vnd.cncf.model.config.v1+json"
HOSTILE = ["dotdot", "absolute", "symlink", "hardlink", "device", "duplicate",
           "duplicate-layers", "sizelie", "truncated", "mediatype", "form", "dotgit",
           "linkchain", "dangling", "linkloop"]


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def slug(text):
    return text.replace(".", "_").replace("+", "_")


class Model:
    """Files (path -> (bytes, mode)), folders (path -> mode) and symbolic links
    (path -> target) of the model."""

    def __init__(self):
        self.files = {}
        self.dirs = {}
        self.links = {}

    def write(self, root):
        for path, mode in sorted(self.dirs.items()):
            os.makedirs(os.path.join(root, path), exist_ok=True)
        for path, (data, mode) in sorted(self.files.items()):
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
            os.chmod(full, mode)
        for path, target in sorted(self.links.items()):
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            os.symlink(target, full)
        for path, mode in sorted(self.dirs.items()):
            os.chmod(os.path.join(root, path), mode)


def tar_bytes(members):
    """A tar of (TarInfo, data) in the given order, with the fixed metadata the spec asks for."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in members:
            ti.mtime = 0
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            if ti.isreg() and not ti.islnk():
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                t.addfile(ti)
    return buf.getvalue()


def member(name, kind=tarfile.REGTYPE, mode=0o644, link=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.linkname = link
    return ti


def compress(data, form):
    if form == "tar+gzip":
        return gzip.compress(data, mtime=0)
    if form == "tar+zstd":
        return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, check=True,
                              stdout=subprocess.PIPE).stdout
    return data


def patch_size(raw, name, size):
    """Rewrite the size field of NAME's ustar header (and its checksum)."""
    raw = bytearray(raw)
    for off in range(0, len(raw), 512):
        if raw[off:off + len(name)] == name.encode() and raw[off + len(name)] == 0:
            raw[off + 124:off + 136] = b"%011o\0" % size
            raw[off + 148:off + 156] = b" " * 8
            raw[off + 148:off + 156] = b"%06o\0 " % sum(raw[off:off + 512])
            return bytes(raw)
    raise KeyError(name)


class Builder:
    def __init__(self, args):
        self.args = args
        self.model = Model()
        self.blobs = {}
        self.layers = []
        self.diff_ids = []
        self.rng = random.Random(7)

    def blob(self, data):
        digest = sha256(data)
        self.blobs[digest] = data
        return digest, len(data)

    def add_layer(self, kind, form, data, annotations, diff_id, media_type=None):
        digest, size = self.blob(data)
        self.layers.append({
            "mediaType": media_type or "application/vnd.cncf.model.%s.v1.%s" % (kind, form),
            "digest": digest,
            "size": size,
            "annotations": annotations,
        })
        self.diff_ids.append(diff_id)

    def raw_layer(self, kind, path, data, mode, metadata=True):
        ann = {"org.cncf.model.filepath": path, "com.example.packer": "modelpack_artifact.py"}
        if metadata:
            ann["org.cncf.model.file.metadata+json"] = json.dumps({
                "name": os.path.basename(path), "mode": mode, "uid": 0, "gid": 0,
                "size": len(data), "mtime": "2025-01-01T00:00:00Z", "typeflag": 48})
        self.model.files[path] = (data, mode if metadata else 0o644)
        self.add_layer(kind, "raw", data, ann, sha256(data))

    def tar_layer(self, kind, form, folder, entries, hostile=None):
        """entries: (name, kind, mode, data, link) in model terms; names under FOLDER."""
        prefix = "./" if form == "tar+gzip" else ""
        members = [(member(prefix + folder + "/", tarfile.DIRTYPE, 0o755), b"")]
        for name, typ, mode, data, link in entries:
            path = folder + "/" + name
            if typ == "dir":
                members.append((member(prefix + path + "/", tarfile.DIRTYPE, mode), b""))
                self.model.dirs[path] = mode
            elif typ == "symlink":
                members.append((member(prefix + path, tarfile.SYMTYPE, 0o777, link), b""))
                self.model.links[path] = link
            elif typ == "hardlink":
                members.append((member(prefix + path, tarfile.LNKTYPE, mode,
                                       prefix + folder + "/" + link), b""))
                self.model.files[path] = (self.model.files[folder + "/" + link][0], mode)
            else:
                members.append((member(prefix + path, tarfile.REGTYPE, mode), data))
                self.model.files[path] = (data, mode)
        if hostile:
            members = hostile(members, folder, prefix)
        raw = tar_bytes(members)
        if self.args.hostile == "sizelie" and hostile:
            raw = patch_size(raw, folder + "/big.bin", 0o77777777777)
        if self.args.hostile == "truncated" and hostile:
            raw = raw[:2048 + 300]  # cut in the middle of the big entry's data
        ann = {"org.cncf.model.filepath": folder, "org.cncf.model.file.mediatype.untested": "false"}
        media_type = None
        data = compress(raw, form)
        if self.args.hostile == "form" and hostile:
            media_type = "application/vnd.cncf.model.%s.v1.tar+gzip" % kind
            data = raw  # says gzip, is a plain tar
        self.add_layer(kind, form, data, ann, sha256(raw), media_type)

    def generic(self):
        forms = self.args.forms.split(",")
        for kind in self.args.kinds.split(","):
            for form in forms:
                folder = "%s_%s" % (slug(kind), slug(form))
                content = ("%s layer, %s form\n" % (kind, form)).encode()
                if form == "raw":
                    name = {"weight": "model.safetensors", "weight.config": "config.json",
                            "doc": "README.md", "code": "serve.py", "dataset": "data.csv"}[kind]
                    mode = {"code": 0o755, "weight": 0o640}.get(kind, 0o644)
                    # README.md sits at the model's root; dataset's raw layer has no metadata.
                    path = name if kind == "doc" else folder + "/" + name
                    self.raw_layer(kind, path, content, mode, metadata=kind != "dataset")
                    continue
                entries = [
                    ("a.bin", "file", 0o644, content + self.rng.randbytes(300), ""),
                    ("bin", "dir", 0o755, b"", ""),
                    ("bin/run.sh", "file", 0o755, b"#!/bin/sh\necho run\n", ""),
                    ("private.key", "file", 0o600, b"secret\n", ""),
                    ("empty", "dir", 0o755, b"", ""),
                    ("same.txt", "file", 0o644, b"the same content in every tar layer\n", ""),
                ]
                if form == "tar+zstd":
                    entries.append(("copy.bin", "hardlink", 0o644, b"", "a.bin"))
                if form == "tar":  # links that stay inside: to a file, and up to a folder
                    entries.append(("latest.bin", "symlink", 0, b"", "a.bin"))
                    entries.append(("bin/data", "symlink", 0, b"", "../empty"))
                if kind == "weight" and form == "tar" and self.args.big:
                    entries.append(("big.weights", "file", 0o644,
                                    self.rng.randbytes(self.args.big), ""))
                self.tar_layer(kind, form, folder, entries)

    def mlflow(self):
        mlmodel = (b"flavors:\n  python_function:\n    env:\n      conda: env/conda.yaml\n"
                   b"    loader_module: mlflow.sklearn\n    model_path: model.pkl\n"
                   b"    python_version: 3.10.12\n  sklearn:\n    pickled_model: model.pkl\n"
                   b"    sklearn_version: 1.3.0\nmlflow_version: 2.12.2\n")
        conda = b"name: mlflow-env\ndependencies:\n- python=3.10.12\n- pip:\n  - mlflow==2.12.2\n"
        self.raw_layer("weight.config", "MLmodel", mlmodel, 0o644)
        self.raw_layer("weight", "model.pkl", b"\x80\x04pickled", 0o644)
        self.tar_layer("code", "tar+gzip", "env", [("conda.yaml", "file", 0o644, conda, "")])

    def hostile(self):
        case = self.args.hostile

        def edit(members, folder, prefix):
            bad = {
                "dotdot": lambda: [(member("../evil.txt"), b"owned\n")],
                "absolute": lambda: [(member("/tmp/mreg-cli-evil.txt"), b"owned\n")],
                "symlink": lambda: [(member(folder + "/escape", tarfile.SYMTYPE, 0o777, "/etc/passwd"), b"")],
                "hardlink": lambda: [(member(folder + "/hard", tarfile.LNKTYPE, 0o644, "/etc/passwd"), b"")],
                "device": lambda: [(member(folder + "/null", tarfile.CHRTYPE, 0o666), b"")],
                # Each inside by its text; together above the model.
                "linkchain": lambda: [(member(folder + "/up", tarfile.SYMTYPE, 0o777, ".."), b""),
                                      (member(folder + "/out", tarfile.SYMTYPE, 0o777, "up/.."), b"")],
                "linkloop": lambda: [(member(folder + "/home", tarfile.SYMTYPE, 0o777, ".."), b"")],
                "dangling": lambda: [(member(folder + "/gone", tarfile.SYMTYPE, 0o777, "nothing.bin"), b"")],
                "dotgit": lambda: [(member(".git/hooks/post-checkout", tarfile.REGTYPE, 0o755),
                                    b"#!/bin/sh\necho owned\n")],
                "duplicate": lambda: [(member(folder + "/a.bin"), b"second content\n")],
                "sizelie": lambda: [(member(folder + "/big.bin"), b"x" * 1000)],
                "truncated": lambda: [(member(folder + "/big.bin"), b"x" * 4000)],
            }.get(case)
            return members + (bad() if bad else [])

        self.raw_layer("doc", "README.md", b"# a model\n", 0o644)
        form = "tar+gzip" if case == "truncated" else "tar"
        self.tar_layer("weight", form, "w", [("a.bin", "file", 0o644, b"weights\n", "")], hostile=edit)
        if case == "duplicate-layers":
            self.raw_layer("weight", "w/a.bin", b"other weights\n", 0o644)
        if case == "mediatype":
            self.layers[0]["mediaType"] = "application/vnd.cncf.model.weight.v1.zip"

    def config(self):
        desc = {"createdAt": "2025-01-01T00:00:00Z", "authors": ["someone@example.com"],
                "family": "demo", "licenses": ["Apache-2.0"], "description": "a model no mreg wrote",
                "revision": "0123456789abcdef0123456789abcdef01234567",
                "sourceURL": "https://example.com/models/foreign.git"}
        if self.args.name:
            desc["name"] = self.args.name
        if self.args.version:
            desc["version"] = self.args.version
        return {"descriptor": desc,
                "config": {"format": "safetensors", "paramSize": "1m", "precision": "float32"},
                "modelfs": {"type": "layers", "diffIds": self.diff_ids}}

    def write(self, out):
        config = json.dumps(self.config(), indent=2).encode()
        cdigest, csize = self.blob(config)
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "artifactType": ARTIFACT,
            "config": {"mediaType": MT_CONFIG, "digest": cdigest, "size": csize},
            "layers": self.layers,
            "annotations": {"org.opencontainers.image.created": "2025-01-01T00:00:00Z",
                            "org.opencontainers.image.vendor": "Example",
                            "ml.kitops.modelkit.kitfile": "manifestVersion: 1.0.0\n"},
        }, indent=2).encode()
        mdigest, msize = self.blob(manifest)
        index = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [{
            "mediaType": MT_MANIFEST, "artifactType": ARTIFACT, "digest": mdigest, "size": msize,
            "annotations": {"org.opencontainers.image.ref.name": self.args.tag}}]}).encode()
        layout = os.path.join(out, "layout")
        shutil.rmtree(layout, ignore_errors=True)
        os.makedirs(os.path.join(layout, "blobs", "sha256"))
        files = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": index}
        for digest, data in self.blobs.items():
            files["blobs/sha256/" + digest[7:]] = data
        for name, data in files.items():
            with open(os.path.join(layout, name), "wb") as f:
                f.write(data)
        if self.args.bundle:
            self.bundle(os.path.join(out, self.args.bundle), files)
        if not self.args.hostile:
            tree = os.path.join(out, "tree")
            shutil.rmtree(tree, ignore_errors=True)
            os.makedirs(tree)
            self.model.write(tree)

    def bundle(self, path, files):
        meta = [n for n in files if not n.startswith("blobs/")]
        blobs = sorted(n for n in files if n.startswith("blobs/"))
        dirs = [("blobs/", None), ("blobs/sha256/", None)]
        if self.args.order == "blobs-first":  # skopeo's oci-archive: a walk of the folder
            order = dirs + [(n, files[n]) for n in blobs] + [(n, files[n]) for n in sorted(meta, reverse=True)]
        else:
            order = [(n, files[n]) for n in ["oci-layout", "index.json"]] + dirs + [(n, files[n]) for n in blobs]
        members = []
        for name, data in order:
            if data is None:
                members.append((member(name, tarfile.DIRTYPE, 0o755), b""))
            else:
                members.append((member(name), data))
        raw = tar_bytes(members)
        if self.args.compress == "gzip":
            raw = gzip.compress(raw, mtime=0)
        elif self.args.compress == "zstd":
            raw = compress(raw, "tar+zstd")
        with open(path, "wb") as f:
            f.write(raw)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--name", default="foreign-model", help="descriptor.name ('' for none)")
    p.add_argument("--version", default="3.1", help="descriptor.version ('' for none)")
    p.add_argument("--tag", default="v3", help="index.json's ref name")
    p.add_argument("--kinds", default=",".join(KINDS))
    p.add_argument("--forms", default=",".join(FORMS))
    p.add_argument("--mlflow", action="store_true", help="an MLflow model instead of the generic one")
    p.add_argument("--big", type=int, default=0, help="add a weight of N random bytes to a tar layer")
    p.add_argument("--bundle", help="also write the layout as one tar, OUT/BUNDLE")
    p.add_argument("--order", choices=["layout", "blobs-first"], default="layout")
    p.add_argument("--compress", choices=["none", "gzip", "zstd"], default="none")
    p.add_argument("--hostile", choices=HOSTILE)
    p.add_argument("--weight-file", action="append", default=[],
                   help="also a raw weight layer real/NAME holding this file")
    args = p.parse_args()
    b = Builder(args)
    if args.hostile:
        b.hostile()
    elif args.mlflow:
        b.mlflow()
    else:
        b.generic()
    for path in args.weight_file:
        with open(path, "rb") as f:
            b.raw_layer("weight", "real/" + os.path.basename(path), f.read(), 0o644)
    os.makedirs(args.out, exist_ok=True)
    b.write(args.out)


if __name__ == "__main__":
    sys.exit(main())
