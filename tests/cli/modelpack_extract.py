#!/usr/bin/env python3
"""A ModelPack reader that knows nothing of mreg, for the CLI tests: what a
user of another tool (modctl, KitOps) gets from an artifact mreg wrote.

    modelpack_extract.py SOURCE OUT

SOURCE is an OCI image layout folder (skopeo's `oci:DIR`) or a bundle tar (an
OCI image layout in one tar, what `mreg package` writes). The first manifest
of index.json is read the way the CNCF model-spec describes layers (docs/spec.md):
a raw layer is one file written to its org.cncf.model.filepath, with the mode
of its org.cncf.model.file.metadata+json; a tar layer (plain, gzip or zstd) is
untarred into OUT by its entries' own names, as modctl's codec does. Nothing
else is looked at: no mreg annotation, no mreg config field. Standard library
only (tarfile with the "tar" extraction filter, which refuses entries and links
that would land outside OUT); zstd through the `zstd` command.
"""

import gzip
import json
import os
import subprocess
import sys
import tarfile


class Layout:
    def __init__(self, source):
        self.tar = None
        self.dir = None
        if os.path.isdir(source):
            self.dir = source
        else:
            self.tar = tarfile.open(source)

    def read(self, name):
        if self.dir:
            with open(os.path.join(self.dir, name), "rb") as f:
                return f.read()
        return self.tar.extractfile(name).read()

    def blob(self, digest):
        algo, hexd = digest.split(":", 1)
        return self.read("blobs/%s/%s" % (algo, hexd))


def untar(data, form, out):
    """GNU tar, as a user would untar a layer: modes kept (-p), owners not."""
    if form == "tar+gzip":
        data = gzip.decompress(data)
    elif form == "tar+zstd":
        data = subprocess.run(["zstd", "-q", "-d", "-c"], input=data, check=True,
                              stdout=subprocess.PIPE).stdout
    subprocess.run(["tar", "-x", "-p", "--no-same-owner", "-C", out, "-f", "-"], input=data,
                   check=True)


def main():
    source, out = sys.argv[1], sys.argv[2]
    layout = Layout(source)
    index = json.loads(layout.read("index.json"))
    manifest = json.loads(layout.blob(index["manifests"][0]["digest"]))
    os.makedirs(out, exist_ok=True)
    for layer in manifest["layers"]:
        mt = layer["mediaType"]
        if not mt.startswith("application/vnd.cncf.model."):
            sys.exit("not a ModelPack layer: " + mt)
        form = mt.rsplit(".v1.", 1)[1]
        data = layout.blob(layer["digest"])
        ann = layer.get("annotations", {})
        if form == "raw":
            path = os.path.join(out, ann["org.cncf.model.filepath"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            meta = ann.get("org.cncf.model.file.metadata+json")
            os.chmod(path, json.loads(meta)["mode"] if meta else 0o644)
        else:
            untar(data, form, out)


if __name__ == "__main__":
    main()
