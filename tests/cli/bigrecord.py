#!/usr/bin/env python3
"""Write one record of many files straight into a store, as git would bring it.

usage: bigrecord.py STORE NAME FILES [--sample N] [--bad ENTRY:KIND]

The record lists FILES files (f/000000.bin ...), in mreg-store(5)'s format with
its true content digest; the blob of every Nth file (--sample) is written,
the others are absent. --bad breaks entry ENTRY: 'digest' (not a digest),
'under' (the entry becomes a file under the one before it), 'order' (listed
before the one before it). Prints the digests of the blobs written, one a line.
"""
import hashlib
import os
import sys


def main():
    args = sys.argv[1:]
    sample, bad = 0, None
    if "--sample" in args:
        i = args.index("--sample")
        sample = int(args[i + 1])
        del args[i:i + 2]
    if "--bad" in args:
        i = args.index("--bad")
        entry, kind = args[i + 1].split(":")
        bad = (int(entry), kind)
        del args[i:i + 2]
    store, name, count = args[0], args[1], int(args[2])
    files = []
    for k in range(count):
        data = b"file %d\n" % k
        path = "f/%06d.bin" % k
        files.append([path, len(data), hashlib.sha256(data).hexdigest(), data])
    if bad and bad[1] == "under":
        files[bad[0]][0] = files[bad[0] - 1][0] + "/inner.bin"
    if bad and bad[1] == "order":
        files[bad[0]][0] = "f/%06d.bin" % (bad[0] - 2)
    lines = "".join("0644 %d %s %s\n" % (size, hexd, path) for path, size, hexd, _ in files)
    digest = hashlib.sha256(lines.encode()).hexdigest()
    out = ["format: 2", "name: %s" % name, 'version: "1"', "type: custom_model", "tags: {}",
           "properties: {}", 'created_at: "2026-01-01T00:00:00.000000Z"', "archived: false",
           "source:", "  kind: directory", "  path: /from/git", "digest: sha256:" + digest,
           "size: %d" % sum(f[1] for f in files), "files:"]
    for k, (path, size, hexd, _) in enumerate(files):
        d = "sha256:" + hexd
        if bad and bad[1] == "digest" and k == bad[0]:
            d = "sha256:" + hexd.upper()
        out += ["- path: " + path, "  size: %d" % size, '  mode: "0644"', "  digest: " + d]
    folder = os.path.join(store, "models", name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "1.yaml"), "w") as f:
        f.write("\n".join(out) + "\n")
    for k, (_, _, hexd, data) in enumerate(files):
        if sample and k % sample == 0:
            with open(os.path.join(store, "blobs", "sha256", hexd), "wb") as f:
                f.write(data)
            print("sha256:" + hexd)


main()
