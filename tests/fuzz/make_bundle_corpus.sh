#!/bin/sh
# Regenerate the seed corpus of fuzz_bundle: small valid bundles (plain, gzip,
# zstd, signed, entries in another order; an empty folder and a link, so a
# tree layer), one of each hostile kind the CLI
# tests build, and ModelPack artifacts no mreg wrote (tar layers of every form,
# blobs before index.json, hostile tar layers) from modelpack_artifact.py.
# legacy-*.tar are kept: bundles of format 1 (the record in the config), made
# by mreg before the record moved to the manifest.
# Usage: tests/fuzz/make_bundle_corpus.sh build/mreg
set -eu
MREG="$(realpath "$1")"
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$HERE/corpus/bundle"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export MREG_DIR="$WORK/.mreg"
"$MREG" init >/dev/null
mkdir -p model/sub
printf 'tiny weights\n' >model/sub/w.bin
printf '{"k": 1}\n' >model/config.json
printf '# readme\n' >model/README.md
"$MREG" create -n seed -p model --tag t=v >/dev/null
"$MREG" keygen -W -s k.key --pubkey k.pub >/dev/null
mkdir -p "$OUT"
find "$OUT" -type f ! -name 'legacy-*' -delete
"$MREG" package seed:1 -o "$OUT/plain.tar" >/dev/null
"$MREG" package seed:1 -o "$OUT/gzip.tar.gz" >/dev/null
"$MREG" package seed:1 -o "$OUT/zstd.tar.zst" >/dev/null
"$MREG" package seed:1 -o "$OUT/signed.tar" --sign k.key >/dev/null
# An OMS signature as a referrer in index.json, then the same with its entries
# reversed (signature blobs before index.json) and hostile rewrites of it.
"$MREG" keygen --oms -W -s oms.pem --pubkey oms.pub >/dev/null
"$MREG" package seed:1 -o "$OUT/oms-referrer.tar" --sign-oms oms.pem >/dev/null
for how in tamper-sig wrong-subject two-models drop-sig-blob; do
	python3 "$HERE/../cli/oms_layout.py" rewrite "$OUT/oms-referrer.tar" "$OUT/oms-hostile-$how.tar" "$how"
done
mkdir -p model/ens/1 # an empty folder and a link: a bundle with a tree layer
ln -s sub/w.bin model/latest.bin
"$MREG" create -n seed -p model >/dev/null
"$MREG" package seed:2 -o "$OUT/tree.tar" >/dev/null
rm -f "$OUT"/*.minisig
for name in plain oms-referrer; do
python3 - "$OUT/$name.tar" "$OUT/$name-reversed.tar" <<'PY'
import sys, tarfile
src, dst = sys.argv[1:]
with tarfile.open(src) as t, tarfile.open(dst, "w", format=tarfile.USTAR_FORMAT) as o:
    for m in reversed(t.getmembers()):
        o.addfile(m, t.extractfile(m) if m.isfile() else None)
PY
done
mv "$OUT/plain-reversed.tar" "$OUT/reversed.tar"
for c in dotdot absolute symlink hardlink device duplicate digest size escape truncated sizefield; do
	python3 "$HERE/../cli/hostile_bundle.py" "$OUT/plain.tar" "$c" "$OUT/hostile-$c.tar"
done
ART="$HERE/../cli/modelpack_artifact.py"
python3 "$ART" art1 --kinds weight,doc --bundle b.tar.gz --compress gzip
cp art1/b.tar.gz "$OUT/foreign-layers.tar.gz"
python3 "$ART" art2 --kinds code --forms raw,tar,tar+zstd --name '' --bundle b.tar.gz \
	--order blobs-first --compress gzip
cp art2/b.tar.gz "$OUT/foreign-blobs-first.tar.gz"
for c in dotdot symlink hardlink duplicate sizelie form linkchain linkloop; do
	python3 "$ART" "h-$c" --hostile "$c" --bundle b.tar.gz --compress gzip
	cp "h-$c/b.tar.gz" "$OUT/foreign-hostile-$c.tar.gz"
done
ls "$OUT" | wc -l
