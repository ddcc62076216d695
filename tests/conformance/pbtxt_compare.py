#!/usr/bin/env python3
"""The pbtxt oracle test: mreg's config.pbtxt reading against protobuf's C++
TextFormat::ParseFromString (pbtxt_oracle) on generated mutants of the real
configs of ../shared/corpus/triton (pbtxt_mutants.py, fixed seed).

Prints TAP. Asserts that the two agree on accept/refuse for at least 99.9%
of the inputs, and that where both refuse, the first error (line, column
and message) is the same for at least MIN_IDENTICAL of them; prints the
figures and the first differences. Skips (TAP "1..0 # SKIP") when the
corpus or protoc/libprotobuf-dev is absent, naming what is missing.

Usage: pbtxt_compare.py --skip REASON
       pbtxt_compare.py ORACLE VERDICT CORPUS WORKDIR [PER]
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MIN_AGREE = 0.999
MIN_IDENTICAL = 0.99


def run(prog, listfile):
    out = subprocess.run([prog, listfile], check=True, stdout=subprocess.PIPE).stdout
    return out.decode("utf-8", "replace").split("\n")[:-1]


def main():
    if sys.argv[1] == "--skip":
        print("1..0 # SKIP " + sys.argv[2])
        return 0
    oracle, verdict, corpus, work = sys.argv[1:5]
    per = sys.argv[5] if len(sys.argv) > 5 else "20"
    if not os.path.isdir(corpus):
        print("1..0 # SKIP no Triton corpus at " + corpus)
        return 0
    mutants = os.path.join(work, "pbtxt-mutants")
    shutil.rmtree(mutants, ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(HERE, "pbtxt_mutants.py"), corpus, mutants,
                    per], check=True, stdout=subprocess.DEVNULL)
    files = sorted(os.path.join(mutants, n) for n in os.listdir(mutants))
    listfile = os.path.join(work, "pbtxt-mutants.list")
    with open(listfile, "w") as f:
        f.write("".join(p + "\n" for p in files))
    theirs = run(oracle, listfile)
    ours = run(verdict, listfile)
    assert len(theirs) == len(ours) == len(files), (len(theirs), len(ours), len(files))

    agree = both_refuse = same_msg = same_all = 0
    verdict_diff, msg_diff = [], []
    for path, t, o in zip(files, theirs, ours):
        ta, oa = t == "accept", o == "accept"
        if ta == oa:
            agree += 1
        else:
            verdict_diff.append((path, t, o))
        if not ta and not oa:
            both_refuse += 1
            tpos, _, tmsg = t.partition(": ")
            opos, _, omsg = o.partition(": ")
            same_msg += tmsg == omsg
            same_all += t == o
            if t != o:
                msg_diff.append((path, t, o))
    n = len(files)
    print("1..2")
    print("# %d inputs (%s mutants a corpus file and the originals)" % (n, per))
    print("# same accept/refuse as protobuf: %d / %d (%.2f%%)" % (agree, n, 100.0 * agree / n))
    print("# both refuse: %d; same message: %d; same line:column and message: %d"
          % (both_refuse, same_msg, same_all))
    for path, t, o in verdict_diff[:40]:
        print("#   verdict differs %s\n#     protobuf: %s\n#     mreg:     %s"
              % (os.path.basename(path), t, o))
    for path, t, o in msg_diff[:40]:
        print("#   error differs %s\n#     protobuf: %s\n#     mreg:     %s"
              % (os.path.basename(path), t, o))
    ok = agree >= MIN_AGREE * n
    print("%s 1 - accept/refuse agreement %d/%d >= %.1f%%"
          % ("ok" if ok else "not ok", agree, n, 100 * MIN_AGREE))
    ok2 = both_refuse and same_all >= MIN_IDENTICAL * both_refuse
    print("%s 2 - first error identical (line:column: message) %d/%d >= %.0f%%"
          % ("ok" if ok2 else "not ok", same_all, both_refuse, 100 * MIN_IDENTICAL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
