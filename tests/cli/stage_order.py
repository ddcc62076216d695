#!/usr/bin/env python3
"""Check, in an strace -f -y log, that a staged transfer made its blobs durable
before any of them landed in the store: import and pull stage every blob in
tmp/STAGE-*/<hex>, fsync the whole stage in one pass, then rename each blob
into blobs/sha256/ (mreg-store(5)).

usage: stage_order.py TRACE STORE STAGE BLOBS [--unsynced DIR]...

  TRACE   the log of strace -f -qq -y -e trace=fsync,fdatasync,rename,renameat2
  STORE   the store's path (MREG_DIR)
  STAGE   the stage folder's prefix under tmp/ (import, pull)
  BLOBS   how many blobs must land
  --unsynced DIR  no file under tmp/DIR/ may be fsynced (written as it
                  arrived, made durable only in the stage)

Exits non-zero with what it saw when a rule is broken.
"""
import re
import sys


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    trace, store, stage, blobs = argv[1], re.escape(argv[2]), argv[3], int(argv[4])
    unsynced = [argv[i + 1] for i, a in enumerate(argv) if a == "--unsynced"]
    lines = open(trace).read().splitlines()
    stage_re = r"fsync\(\d+<%s/tmp/%s-\w+/([0-9a-f]{64})>" % (store, re.escape(stage))
    synced = set(m.group(1) for l in lines for m in [re.search(stage_re, l)] if m)
    moved = [i for i, l in enumerate(lines)
             if re.search(r'rename(at2)?\(.*"%s/blobs/sha256/[0-9a-f]{64}"' % store, l)]
    landed = set(re.search(r'blobs/sha256/([0-9a-f]{64})"', lines[i]).group(1) for i in moved)
    # every blob that landed was fsynced in the stage first
    assert len(landed) == blobs and landed <= synced, \
        f"{len(landed)} blobs landed (want {blobs}), {len(landed - synced)} not fsynced in the stage"
    # and every fsync had returned before the first landed
    before = lines[:moved[0]]
    unfinished = sum("fsync(" in l and "<unfinished" in l for l in before)
    resumed = sum("fsync resumed>" in l for l in before)
    assert unfinished == resumed, f"{unfinished - resumed} fsyncs still running at the first rename"
    # none of the stage is fsynced once blobs land: one pass, then the renames
    late = [l for l in lines[moved[0]:] if re.search(r"fsync\(\d+<%s/tmp/%s-" % (store, re.escape(stage)), l)]
    assert not late, f"stage fsynced after the first blob landed: {late[:3]}"
    for d in unsynced:
        seen = [l for l in lines if re.search(r"f(data)?sync\(\d+<%s/tmp/%s/" % (store, re.escape(d)), l)]
        assert not seen, f"a file in tmp/{d}/ was fsynced: {seen[:3]}"


if __name__ == "__main__":
    try:
        main(sys.argv)
    except AssertionError as e:
        sys.exit(f"stage_order.py: {e}")
