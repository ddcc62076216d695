#!/usr/bin/env python3
"""Model trees for the round-trip tests (standard library only).

    treetool.py list DIR
        One line per entry under DIR (DIR itself left out), sorted bytewise by
        path: TYPE MODE SIZE SHA256 TARGET PATH, where TYPE is f (regular
        file), d (folder), l (symbolic link) or ? (anything else), MODE the
        permission bits in octal, and SIZE, SHA256 (files) and TARGET (links)
        are "-" where they do not apply. A folder that holds something has
        MODE "-": mreg records the modes of files and of empty folders, not
        of the folders that files imply. Two trees are the same tree when
        their listings are equal.

    treetool.py compare PAIRS
        PAIRS is a file of lines "SOURCE<TAB>COPY": for each pair whose
        listings differ, print the copy, the source and the lines that differ.
        Exit status 1 when any pair differs. (One process for a whole corpus.)

    treetool.py digest DIR
        The content digest mreg gives the tree DIR, by the rule of
        mreg-store(5) (CONTENT DIGEST), written independently of mreg's C
        code: files, empty folders and symbolic links, one line each, in
        path order.

    treetool.py add-link GOOD.tar OUT PATH TARGET
        Copy the bundle GOOD.tar (uncompressed, unsigned, made by `mreg
        package`) to OUT with the symbolic link PATH -> TARGET added to the
        record it carries; the content digest, the config blob, the manifest
        and index.json are all made to agree, so only the link itself is
        wrong. The tree layer (a tar of the empty folders and links) is
        rewritten to match. For the tests of hostile bundles.
"""

import hashlib
import io
import json
import os
import stat
import sys
import tarfile


def entries(top):
    """(relative path, lstat) of everything under top, not following links."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            out.append((os.path.relpath(path, top), os.lstat(path)))
    out.sort(key=lambda e: e[0].encode())
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def listing(top):
    lines = []
    for rel, st in entries(top):
        path = os.path.join(top, rel)
        mode = "%04o" % stat.S_IMODE(st.st_mode)
        if stat.S_ISREG(st.st_mode):
            lines.append("f %s %d %s - %s" % (mode, st.st_size, sha256_file(path), rel))
        elif stat.S_ISDIR(st.st_mode):
            lines.append("d %s - - - %s" % (mode if not os.listdir(path) else "-", rel))
        elif stat.S_ISLNK(st.st_mode):
            lines.append("l - - - %s %s" % (os.readlink(path), rel))
        else:
            lines.append("? %s - - - %s" % (mode, rel))
    return lines


def compare(pairs):
    bad = 0
    with open(pairs) as f:
        for line in f:
            src, dst = line.rstrip("\n").split("\t")
            a, b = listing(src), listing(dst)
            if a != b:
                bad += 1
                print("%s differs from %s:" % (dst, src))
                for x in sorted(set(a) - set(b)):
                    print("  - " + x)
                for x in sorted(set(b) - set(a)):
                    print("  + " + x)
    return 1 if bad else 0


def digest_lines(files, dirs, links):
    """files: (path, mode, size, hex); dirs: (path, mode); links: (path, target)."""
    lines = []
    for path, mode, size, hexdigest in files:
        lines.append((path, "%04o %d %s %s\n" % (mode, size, hexdigest, path)))
    for path, mode in dirs:
        lines.append((path, "%04o dir %s\n" % (mode, path)))
    for path, target in links:
        lines.append((path, "link %s %s\n" % (hashlib.sha256(target.encode()).hexdigest(), path)))
    lines.sort(key=lambda x: x[0].encode())
    return "sha256:" + hashlib.sha256("".join(l for _, l in lines).encode()).hexdigest()


def tree_digest(top):
    files, dirs, links = [], [], []
    for rel, st in entries(top):
        path = os.path.join(top, rel)
        if stat.S_ISREG(st.st_mode):
            files.append((rel, stat.S_IMODE(st.st_mode), st.st_size, sha256_file(path)))
        elif stat.S_ISLNK(st.st_mode):
            links.append((rel, os.readlink(path)))
        elif stat.S_ISDIR(st.st_mode) and not os.listdir(path):
            dirs.append((rel, stat.S_IMODE(st.st_mode)))
    return digest_lines(files, dirs, links)


def canon(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def tree_layer(dirs, links):
    """A tar of empty folders (path, mode) and links (path, target), as a tree layer holds them."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for path, mode in dirs:
            ti = tarfile.TarInfo(path)
            ti.type, ti.mode = tarfile.DIRTYPE, mode
            t.addfile(ti)
        for path, target in links:
            ti = tarfile.TarInfo(path)
            ti.type, ti.mode, ti.linkname = tarfile.SYMTYPE, 0o777, target
            t.addfile(ti)
    return buf.getvalue()


def add_link(good, out, path, target):
    members = []
    with tarfile.open(good, "r:") as t:
        for m in t.getmembers():
            members.append([m, t.extractfile(m).read() if m.isfile() else b""])
    by_name = {m.name.rstrip("/"): e for e in members for m in [e[0]]}
    index = json.loads(by_name["index.json"][1])
    mdesc = index["manifests"][0]
    mentry = by_name["blobs/sha256/" + mdesc["digest"][7:]]
    manifest = json.loads(mentry[1])
    centry = by_name["blobs/sha256/" + manifest["config"]["digest"][7:]]
    config = json.loads(centry[1])
    # mreg's record: the manifest's annotation (bundle format 2), else the config's "mreg"
    ann_key = "org.mreg.record+json"
    in_manifest = ann_key in manifest.get("annotations", {})
    record = json.loads(manifest["annotations"][ann_key]) if in_manifest else config["mreg"]
    links = record.get("links", []) + [{"path": path, "target": target}]
    record["links"] = sorted(links, key=lambda l: l["path"].encode())
    files = []
    for la in manifest["layers"]:
        ann = la["annotations"]
        if la["mediaType"].endswith(".raw"):
            mode = json.loads(ann["org.cncf.model.file.metadata+json"])["mode"]
            files.append((ann["org.cncf.model.filepath"], mode, la["size"], la["digest"][7:]))
    dirs = [(d["path"], int(d["mode"], 8)) for d in record.get("dirs", [])]
    record["digest"] = digest_lines(files, dirs, [(l["path"], l["target"]) for l in record["links"]])
    if in_manifest:
        manifest["annotations"][ann_key] = canon(record).decode()
    # The tree layer (empty folders and links as tar entries) says the same as the record.
    layer = tree_layer(dirs, [(l["path"], l["target"]) for l in record["links"]])
    old = [la for la in manifest["layers"] if not la["mediaType"].endswith(".raw")]
    if old:
        old_digest = old[0]["digest"]
        del by_name["blobs/sha256/" + old_digest[7:]]
        members[:] = [e for e in members if e[0].name != "blobs/sha256/" + old_digest[7:]]
        manifest["layers"].remove(old[0])
        config["modelfs"]["diffIds"].remove(old_digest)
    digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    manifest["layers"].append({"mediaType": "application/vnd.cncf.model.weight.config.v1.tar",
                               "digest": digest, "size": len(layer),
                               "annotations": {"org.mreg.layer": "empty folders and links"}})
    config["modelfs"]["diffIds"].append(digest)
    members.append([tarfile.TarInfo("blobs/sha256/" + digest[7:]), layer])
    centry[1] = canon(config)
    manifest["config"]["digest"] = "sha256:" + hashlib.sha256(centry[1]).hexdigest()
    manifest["config"]["size"] = len(centry[1])
    centry[0].name = "blobs/sha256/" + manifest["config"]["digest"][7:]
    mentry[1] = canon(manifest)
    mdesc["digest"] = "sha256:" + hashlib.sha256(mentry[1]).hexdigest()
    mdesc["size"] = len(mentry[1])
    mentry[0].name = "blobs/sha256/" + mdesc["digest"][7:]
    by_name["index.json"][1] = canon(index)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for ti, data in members:
            if ti.isfile():
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                t.addfile(ti)
    with open(out, "wb") as f:
        f.write(buf.getvalue())


def main(argv):
    if len(argv) == 3 and argv[1] == "list":
        for line in listing(argv[2]):
            print(line)
    elif len(argv) == 3 and argv[1] == "compare":
        return compare(argv[2])
    elif len(argv) == 3 and argv[1] == "digest":
        print(tree_digest(argv[2]))
    elif len(argv) == 6 and argv[1] == "add-link":
        add_link(*argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
