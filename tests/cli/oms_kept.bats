#!/usr/bin/env bats
# OMS signatures kept with a version (mreg-store(5), signatures/NAME/VERSION/):
# import and pull keep the signatures that came with a version, package and
# push attach them again, verify NAME:V --pubkey checks them, show lists them,
# fsck names a damaged one, delete and gc remove them. The signature in a
# bundle is read by oms_layout.py and checked by oms_tool.py, both written
# from the specs, independent of mreg.

load helpers
load registry

OMS_TOOL="${BATS_TEST_DIRNAME}/oms_tool.py"
LAYOUT="${BATS_TEST_DIRNAME}/oms_layout.py"
SIG_TYPE="application/vnd.dev.sigstore.bundle.v0.3+json"

setup() {
	oms_setup
	OTHER="${TEST_DIR}/other/.mreg"
	MREG_DIR="$OTHER" "${MREG}" init >/dev/null
}

teardown() {
	stop_registry
}

need_crypto() {
	"${PYTHON}" -c 'import cryptography' 2>/dev/null ||
		skip "python3-cryptography is not installed"
}

# in_other ARGS...: run mreg on the second store.
in_other() {
	MREG_DIR="$OTHER" run --separate-stderr "$MREG" "$@"
}

# kept_files: the kept signature files of demo:1 in the second store.
kept_files() {
	ls "$OTHER/signatures/demo/1" 2>/dev/null
}

@test "import of a signed bundle keeps its signature; package carries the same bytes, reproducibly; it verifies with the key" {
	need_crypto
	run --separate-stderr mreg package demo:1 -o signed.tar --sign-oms k.pem
	assert_status 0
	"$PYTHON" "$LAYOUT" extract signed.tar orig.sig
	hex="$(sha256sum orig.sig | cut -d' ' -f1)"

	in_other import signed.tar
	assert_status 0
	assert_contains "$output" "kept 1 OMS signature with demo:1 (mreg show lists them)"
	[[ "$(kept_files)" == "sha256-$hex.json" ]] || fail "kept: $(kept_files)"
	cmp orig.sig "$OTHER/signatures/demo/1/sha256-$hex.json"
	# Imported again: nothing new.
	in_other import signed.tar
	assert_status 0
	assert_not_contains "$output" "kept"

	# show lists it, with the key's hint.
	hint="$(openssl pkey -pubin -in k.pub | sha256sum | cut -d' ' -f1)"
	in_other show demo:1
	assert_status 0
	assert_contains "$output" "signatures:  sha256:$hex OMS, key method, key hint ${hint:0:16}..."
	in_other show demo:1 --json
	assert_status 0
	[[ "$(json_get '[(s["digest"], s["method"], s["hint"], s["problem"]) for s in d["signatures"]]' <<<"$output")" == "[[\"sha256:$hex\", \"key\", \"$hint\", null]]" ]] ||
		fail "show --json: $output"

	# package in the second store: the same signature, byte for byte; twice the same bundle.
	in_other package demo:1 -o again.tar
	assert_status 0
	assert_contains "$output" "manifest "
	in_other package demo:1 -o again2.tar
	assert_status 0
	cmp again.tar again2.tar || fail "the same store content gave two different bundles"
	"$PYTHON" "$LAYOUT" extract again.tar carried.sig
	cmp orig.sig carried.sig || fail "the new bundle carries other bytes"
	run --separate-stderr mreg verify again.tar --pubkey k.pub
	assert_status 0
	assert_contains "$output" "verified, every file matches"
	mreg unpack again.tar -o out >/dev/null
	run "$PYTHON" "$OMS_TOOL" verify --pubkey k.pub --signature carried.sig out/model
	assert_status 0

	# --oms-signature with the same bytes adds nothing; another signature adds one.
	in_other package demo:1 -o same.tar --oms-signature orig.sig
	assert_status 0
	cmp again.tar same.tar || fail "the same signature was attached twice"
	in_other package demo:1 -o two.tar --sign-oms other.pem
	assert_status 0
	run "$PYTHON" -c '
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
idx = json.load(t.extractfile("index.json"))
print(len([m for m in idx["manifests"] if m.get("artifactType") == sys.argv[2]]))' two.tar "$SIG_TYPE"
	[[ "$output" == 2 ]] || fail "signatures in two.tar: $output"
	run --separate-stderr mreg verify two.tar --pubkey other.pub
	assert_status 0
	run --separate-stderr mreg verify two.tar --pubkey k.pub
	assert_status 0
}

@test "verify NAME:V --pubkey checks the kept signatures: the right key passes and names it, a wrong key or none kept fails" {
	run --separate-stderr mreg package demo:1 -o signed.tar --sign-oms k.pem
	assert_status 0
	in_other import signed.tar
	assert_status 0
	digest="sha256:$(kept_files | sed 's/^sha256-//; s/\.json$//')"
	in_other verify --pubkey k.pub demo:1
	assert_status 0
	assert_contains "$output" "demo:1: OK: kept OMS signature $digest verifies with k.pub, 3 files verified"
	in_other verify --pubkey k.pub demo:1 --json
	assert_status 0
	[[ "$(json_get '[d["ok"], d["kept"], d["signature"], d["files"]]' <<<"$output")" == "[true, 1, \"$digest\", 3]" ]] ||
		fail "json: $output"
	in_other verify --pubkey other.pub demo:1
	assert_status 1
	assert_one_error "demo:1: none of its 1 kept OMS signature verifies with other.pub" "key mismatch"
	# the first store keeps none
	run --separate-stderr mreg verify --pubkey k.pub demo:1
	assert_status 1
	assert_one_error "demo:1: no OMS signature is kept with it"
	# a key that cannot be read is a usage problem
	in_other verify --pubkey nosuch.pub demo:1
	assert_status 2
	# no key: said so
	in_other verify demo:1
	assert_status 2
}

@test "fsck names a tampered or misnamed kept signature; package and verify leave it out" {
	run --separate-stderr mreg package demo:1 -o signed.tar --sign-oms k.pem
	assert_status 0
	in_other import signed.tar
	assert_status 0
	in_other fsck
	assert_status 0
	f="$OTHER/signatures/demo/1/$(kept_files)"
	chmod u+w "$f"
	"$PYTHON" - "$f" <<'PY'
import json, sys
p = sys.argv[1]
b = json.load(open(p))
b["verificationMaterial"]["publicKey"]["hint"] = "0" * 64
open(p, "w").write(json.dumps(b))
PY
	in_other fsck
	assert_status 1
	assert_contains "$output$stderr" "$f"
	assert_contains "$output$stderr" "fsck-signature"
	assert_contains "$output$stderr" "not the one its name says"
	in_other show demo:1
	assert_contains "$output" "DAMAGED (mreg fsck)"
	in_other verify --pubkey k.pub demo:1
	assert_status 1
	in_other package demo:1 -o p.tar
	assert_status 0
	run "$PYTHON" -c '
import json, sys, tarfile
idx = json.load(tarfile.open(sys.argv[1]).extractfile("index.json"))
print(len(idx["manifests"]))' p.tar
	[[ "$output" == 1 ]] || fail "a damaged signature was attached"
	# A file with another name is named too.
	echo '{}' >"$OTHER/signatures/demo/1/stray.json"
	in_other fsck
	assert_status 1
	assert_contains "$output$stderr" "stray.json: error: kept signature of demo:1 damaged: not a kept signature (a name sha256-HEX.json)"
}

@test "delete removes the kept signatures; gc removes those a crash left without a record" {
	run --separate-stderr mreg package demo:1 -o signed.tar --sign-oms k.pem
	assert_status 0
	in_other import signed.tar
	assert_status 0
	[[ -n "$(kept_files)" ]]
	in_other delete demo:1
	assert_status 0
	[[ ! -e "$OTHER/signatures/demo" ]] || fail "signatures left: $(ls -R "$OTHER/signatures")"
	# As a crash between the signature and the record would leave it: an orphan.
	in_other import signed.tar -v 2
	assert_status 0
	rm "$OTHER/models/demo/2.yaml"
	in_other fsck
	assert_contains "$output$stderr" "fsck-signature-orphan"
	# Nothing reads it: a new version 2 with other content does not get it.
	mkdir model2 && cp -r model/. model2/ && echo more >model2/extra.txt
	MREG_DIR="$OTHER" "$MREG" create -n demo -p model2 -v 2 >/dev/null
	in_other show demo:2 --json
	[[ "$(json_get '[s["problem"] is not None for s in d["signatures"]]' <<<"$output")" == "[true]" ]] ||
		fail "the orphan was taken as sound: $output"
	MREG_DIR="$OTHER" "$MREG" delete demo:2 >/dev/null
	mkdir -p "$OTHER/signatures/demo/7"
	cp signed.tar x.tar
	in_other gc --dry-run --json
	assert_status 0
	[[ "$(json_get 'd["signatures_removed"]' <<<"$output")" == 1 ]] || fail "gc --dry-run: $output"
	[[ -d "$OTHER/signatures/demo/7" ]]
	in_other gc
	assert_status 0
	assert_contains "$output" "removed the kept OMS signatures of 1 version that no longer exists"
	[[ ! -e "$OTHER/signatures/demo" ]] || fail "left: $(ls -R "$OTHER/signatures")"
	in_other fsck
	assert_status 0
}

@test "a signature that is not the version's is dropped with a warning; a failed import leaves the store exactly as it was" {
	need_crypto
	# A bundle whose attached signature lists other files: imported, the signature dropped.
	mkdir model2 && cp -r model/. model2/ && echo more >model2/extra.txt
	run --separate-stderr mreg create -n demo -p model2
	assert_status 0
	run --separate-stderr mreg sign demo:2 --key k.pem -o two.sig
	assert_status 0
	run --separate-stderr mreg package demo:1 -o signed.tar --sign-oms k.pem
	assert_status 0
	# Build the layout by hand: demo:1's bundle with demo:2's signature attached.
	"$PYTHON" - signed.tar two.sig wrong.tar <<'PY'
import hashlib, io, json, sys, tarfile
src, sig, out = sys.argv[1:4]
files = {}
with tarfile.open(src) as t:
    for m in t.getmembers():
        if m.isfile():
            files[m.name] = t.extractfile(m).read()
idx = json.loads(files["index.json"])
ref = [m for m in idx["manifests"] if m.get("artifactType") == "application/vnd.dev.sigstore.bundle.v0.3+json"][0]
man = json.loads(files["blobs/sha256/" + ref["digest"][7:]])
data = open(sig, "rb").read()
d = hashlib.sha256(data).hexdigest()
del files["blobs/sha256/" + man["layers"][0]["digest"][7:]]
del files["blobs/sha256/" + ref["digest"][7:]]
man["layers"][0]["digest"], man["layers"][0]["size"] = "sha256:" + d, len(data)
files["blobs/sha256/" + d] = data
mb = json.dumps(man).encode()
md = hashlib.sha256(mb).hexdigest()
files["blobs/sha256/" + md] = mb
ref["digest"], ref["size"] = "sha256:" + md, len(mb)
files["index.json"] = json.dumps(idx).encode()
with tarfile.open(out, "w") as t:
    for name in ["oci-layout", "index.json"] + sorted(n for n in files if n.startswith("blobs/")):
        info = tarfile.TarInfo(name)
        info.size = len(files[name])
        t.addfile(info, io.BytesIO(files[name]))
PY
	in_other import wrong.tar
	assert_status 0
	assert_contains "$stderr" "mreg: warning: 1 OMS signature that came with demo:1 not kept: OMS signature 1: not a signature of demo:1"
	[[ -z "$(kept_files)" ]] || fail "kept: $(kept_files)"
	in_other delete demo:1
	assert_status 0

	# A refused import (a wrong key) changes nothing, signatures included.
	before="$(store_snapshot "$OTHER")"
	in_other import signed.tar --pubkey other.pub
	assert_status 1
	[[ "$(store_snapshot "$OTHER")" == "$before" ]] || fail "a refused import changed the store"
	# A version that exists with other content: refused, nothing kept.
	MREG_DIR="$OTHER" "$MREG" create -n demo -p model2 -v 1 >/dev/null
	before="$(store_snapshot "$OTHER")"
	in_other import signed.tar
	assert_status 1
	[[ "$(store_snapshot "$OTHER")" == "$before" ]] || fail "a refused import changed the store"
}

@test "pull keeps the registry's signatures without a key; push to another repository carries them; pull --verify-key from there succeeds" {
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http --sign-oms k.pem
	assert_status 0
	in_other pull "$REG/team/demo:1" --plain-http
	assert_status 0
	assert_contains "$output" "kept 1 OMS signature with demo:1"
	[[ -n "$(kept_files)" ]]
	kept="$(kept_files)"
	in_other verify --pubkey k.pub demo:1
	assert_status 0

	# push from the second store to another repository: the signature goes along
	in_other push demo:1 "$REG/mirror/demo" --plain-http
	assert_status 0
	assert_contains "$output" "OMS v1.0 signature"
	third="${TEST_DIR}/third/.mreg"
	MREG_DIR="$third" "$MREG" init >/dev/null
	MREG_DIR="$third" run --separate-stderr "$MREG" pull "$REG/mirror/demo:1" --plain-http --verify-key k.pub
	assert_status 0
	assert_contains "$output" "OMS signature verified (1 found, fallback tag), every file matches"
	[[ "$(ls "$third/signatures/demo/1")" == "$kept" ]] || fail "other bytes arrived"

	# A refused pull (a wrong key) leaves the store exactly as it was.
	MREG_DIR="$third" "$MREG" delete demo:1 >/dev/null
	before="$(store_snapshot "$third")"
	MREG_DIR="$third" run --separate-stderr "$MREG" pull "$REG/mirror/demo:1" --plain-http --verify-key other.pub
	assert_status 1
	[[ "$(store_snapshot "$third")" == "$before" ]] || fail "a refused pull changed the store"
	# --json reports what was kept.
	MREG_DIR="$third" run --separate-stderr "$MREG" pull "$REG/mirror/demo:1" --plain-http --json
	assert_status 0
	[[ "$(json_get '[d["oms_kept"], d["oms_dropped"]]' <<<"$output")" == "[1, 0]" ]] || fail "$output"
}

@test "show, verify NAME:V, import, pull and gc --json with kept signatures match their schemas in docs/json" {
	check() {
		local why
		why="$("$PYTHON" "${BATS_TEST_DIRNAME}/json_schema_check.py" \
			"${BATS_TEST_DIRNAME}/../../docs/json" "$1" <<<"$output")" ||
			fail "--json output does not match $1:"$'\n'"$why"
	}
	run --separate-stderr mreg package demo:1 -o signed.tar --sign-oms k.pem
	assert_status 0
	in_other import signed.tar --json
	assert_status 0
	check import.schema.json
	[[ "$(json_get '[d["oms_kept"], d["oms_dropped"]]' <<<"$output")" == "[1, 0]" ]] || fail "$output"
	in_other show demo:1 --json
	assert_status 0
	check show.schema.json
	in_other verify --pubkey k.pub demo:1 --json
	assert_status 0
	check verify.schema.json
	in_other verify --pubkey other.pub demo:1 --json
	assert_status 1
	check verify.schema.json
	in_other delete demo:1
	mkdir -p "$OTHER/signatures/demo/3"
	in_other gc --json
	assert_status 0
	check gc.schema.json
	[[ "$(json_get 'd["signatures_removed"]' <<<"$output")" == 1 ]] || fail "$output"
}
