#!/usr/bin/env python3
"""Build a hostile variant of a good mreg bundle, for the CLI tests.

    hostile_bundle.py GOOD.tar CASE OUT

GOOD.tar is an uncompressed bundle made by `mreg package`. CASE names the
attack (see CASES below); OUT receives the bundle with that one defect. Only
the Python standard library (tarfile, json, hashlib) is used.
"""

import hashlib
import io
import json
import sys
import tarfile


# mreg's record of the version, a manifest annotation (mreg-bundle(5)).
RECORD = "org.mreg.record+json"


def load(path):
    entries = []
    with tarfile.open(path, "r:") as t:
        for m in t.getmembers():
            data = t.extractfile(m).read() if m.isfile() else b""
            entries.append([m, data])
    return entries


def find(entries, name):
    for e in entries:
        if e[0].name.rstrip("/") == name:
            return e
    raise KeyError(name)


def manifest(entries):
    index = json.loads(find(entries, "index.json")[1])
    digest = index["manifests"][0]["digest"]
    return index, json.loads(find(entries, "blobs/sha256/" + digest[7:])[1]), digest


def canon(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def set_manifest(entries, m):
    """Store the edited manifest under its new digest and point index.json at it."""
    index, _, old = manifest(entries)
    data = canon(m)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    e = find(entries, "blobs/sha256/" + old[7:])
    e[0].name = "blobs/sha256/" + digest[7:]
    e[1] = data
    index["manifests"][0]["digest"] = digest
    index["manifests"][0]["size"] = len(data)
    find(entries, "index.json")[1] = canon(index)


def layer(m, path):
    for la in m["layers"]:
        if la["annotations"]["org.cncf.model.filepath"] == path:
            return la
    raise KeyError(path)


def biggest_blob(entries):
    _, m, _ = manifest(entries)
    la = max(m["layers"], key=lambda x: x["size"])
    return find(entries, "blobs/sha256/" + la["digest"][7:])


def member(name, kind=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = link
    ti.mode = 0o644
    return ti


def add(entries, name, data=b"", kind=tarfile.REGTYPE, link=""):
    ti = member(name, kind, link)
    if kind == tarfile.CHRTYPE:
        ti.devmajor, ti.devminor = 1, 3
    entries.append([ti, data])


def dotdot(entries):
    add(entries, "../evil.txt", b"owned\n")


def absolute(entries):
    add(entries, "/tmp/mreg-cli-evil.txt", b"owned\n")


def symlink(entries):
    add(entries, "blobs/sha256/escape", kind=tarfile.SYMTYPE, link="/etc/passwd")


def hardlink(entries):
    add(entries, "hard", kind=tarfile.LNKTYPE, link="/etc/passwd")


def device(entries):
    add(entries, "blobs/null", kind=tarfile.CHRTYPE)


def duplicate(entries):
    e = find(entries, "index.json")
    add(entries, "index.json", e[1])


def digest_mismatch(entries):
    e = biggest_blob(entries)
    data = bytearray(e[1])
    data[len(data) // 2] ^= 0xFF
    e[1] = bytes(data)


def content_digest(m):
    """mreg's content digest of the files the manifest lists (record_compute_digest)."""
    lines = []
    for la in sorted(m["layers"], key=lambda x: x["annotations"]["org.cncf.model.filepath"].encode()):
        ann = la["annotations"]
        mode = json.loads(ann["org.cncf.model.file.metadata+json"])["mode"]
        lines.append("%04o %d %s %s\n" % (mode, la["size"], la["digest"][7:],
                                          ann["org.cncf.model.filepath"]))
    return "sha256:" + hashlib.sha256("".join(lines).encode()).hexdigest()


def size_mismatch(entries):
    """A layer one byte longer in the manifest, the record's content digest made to agree."""
    _, m, _ = manifest(entries)
    la = max(m["layers"], key=lambda x: x["size"])
    la["size"] += 1
    record = json.loads(m["annotations"][RECORD])
    record["digest"] = content_digest(m)
    m["annotations"][RECORD] = canon(record).decode()
    set_manifest(entries, m)


def path_escape(entries):
    _, m, _ = manifest(entries)
    m["layers"][0]["annotations"]["org.cncf.model.filepath"] = "../../outside.txt"
    set_manifest(entries, m)


def dotgit(entries):
    """A file where git would run it: a hook, found at a work-tree root."""
    _, m, _ = manifest(entries)
    m["layers"][0]["annotations"]["org.cncf.model.filepath"] = "sub/.Git/hooks/post-checkout"
    set_manifest(entries, m)


def dotmreg(entries):
    _, m, _ = manifest(entries)
    m["layers"][0]["annotations"]["org.cncf.model.filepath"] = ".mreg/config.yaml"
    set_manifest(entries, m)


def newer(entries):
    """The record of a bundle format this mreg does not know."""
    _, m, _ = manifest(entries)
    record = json.loads(m["annotations"][RECORD])
    record["bundle_format"] = 99
    m["annotations"][RECORD] = canon(record).decode()
    set_manifest(entries, m)


def truncated(entries):
    pass  # cut after writing, see main()


def zero_length(entries):
    pass


def size_field(entries):
    pass  # header patched after writing, see main()


CASES = {
    "dotdot": dotdot,
    "absolute": absolute,
    "symlink": symlink,
    "hardlink": hardlink,
    "device": device,
    "duplicate": duplicate,
    "digest": digest_mismatch,
    "size": size_mismatch,
    "escape": path_escape,
    "dotgit": dotgit,
    "dotmreg": dotmreg,
    "truncated": truncated,
    "empty": zero_length,
    "sizefield": size_field,
    "newer": newer,
}


def write(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for ti, data in entries:
            if ti.isfile():
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                t.addfile(ti)
    return bytearray(buf.getvalue())


def header_offset(raw, name):
    for off in range(0, len(raw), 512):
        if raw[off:off + len(name)] == name.encode() and raw[off + len(name)] == 0:
            return off
    raise KeyError(name)


def patch_size(raw, name, size):
    """Rewrite the size field of NAME's ustar header (and its checksum)."""
    for off in range(0, len(raw), 512):
        if raw[off:off + len(name)] == name.encode() and raw[off + len(name)] == 0:
            raw[off + 124:off + 136] = b"%011o\0" % size
            raw[off + 148:off + 156] = b" " * 8
            raw[off + 148:off + 156] = b"%06o\0 " % sum(raw[off:off + 512])
            return
    raise KeyError(name)


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in CASES:
        sys.exit(f"usage: {sys.argv[0]} GOOD.tar {'|'.join(CASES)} OUT")
    good, case, out = sys.argv[1:]
    entries = load(good)
    CASES[case](entries)
    raw = write(entries)
    if case == "empty":
        raw = bytearray()
    elif case == "truncated":
        blob = biggest_blob(entries)
        raw = raw[: header_offset(raw, blob[0].name) + 512 + len(blob[1]) // 2]
    elif case == "sizefield":
        patch_size(raw, biggest_blob(entries)[0].name, 0o77777777777)
    with open(out, "wb") as f:
        f.write(raw)


if __name__ == "__main__":
    main()
