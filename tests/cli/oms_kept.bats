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

# kept_here: the kept signature files of demo:1 in the first store.
kept_here() {
	ls "$MREG_DIR/signatures/demo/1" 2>/dev/null
}

# referrers TAR: how many OMS signatures the bundle TAR lists in index.json.
referrers() {
	"$PYTHON" -c '
import json, sys, tarfile
idx = json.load(tarfile.open(sys.argv[1]).extractfile("index.json"))
print(len([m for m in idx["manifests"] if m.get("artifactType") == sys.argv[2]]))' "$1" "$SIG_TYPE"
}

@test "sign NAME:V keeps the signature: show lists it, verify NAME:V names it, package carries it byte for byte; -o writes the same bytes; signing again keeps a second" {
	need_crypto
	run --separate-stderr mreg sign demo:1 --key k.pem
	assert_status 0
	assert_contains "$output" "signed demo:1: OMS v1.0 signature (3 files, key method, P-256 key"
	assert_contains "$output" "checked by  mreg verify --pubkey KEY.pub demo:1"
	# Without -o no file is written: the store keeps it.
	[[ ! -e model.sig ]] || fail "sign wrote model.sig without -o"
	[[ "$(kept_here | wc -l)" == 1 ]] || fail "kept: $(kept_here)"
	f="$MREG_DIR/signatures/demo/1/$(kept_here)"
	hex="$(sha256sum "$f" | cut -d' ' -f1)"
	[[ "$(kept_here)" == "sha256-$hex.json" ]] || fail "named $(kept_here), bytes $hex"
	[[ "$(stat -c %a "$f")" == 444 ]] || fail "mode $(stat -c %a "$f")"
	assert_contains "$output" "kept with demo:1 as sha256:${hex:0:12}... (it keeps 1 OMS signature; package and push attach it)"
	# The independent verifier accepts the kept bytes against the model folder.
	run "$PYTHON" "$OMS_TOOL" verify --pubkey k.pub --signature "$f" model
	assert_status 0

	hint="$(openssl pkey -pubin -in k.pub | sha256sum | cut -d' ' -f1)"
	run --separate-stderr mreg show demo:1
	assert_status 0
	assert_contains "$output" "signatures:  sha256:$hex OMS, key method, key hint ${hint:0:16}..."
	run --separate-stderr mreg verify --pubkey k.pub demo:1
	assert_status 0
	assert_contains "$output" "demo:1: OK: kept OMS signature sha256:$hex verifies with k.pub, 3 files verified"
	run --separate-stderr mreg verify --pubkey other.pub demo:1
	assert_status 1

	# package without any signing option carries it, the same bytes, reproducibly.
	run --separate-stderr mreg package demo:1 -o p.tar
	assert_status 0
	"$PYTHON" "$LAYOUT" extract p.tar carried.sig
	cmp "$f" carried.sig || fail "the bundle carries other bytes than the kept signature"
	mreg package demo:1 -o p2.tar >/dev/null
	cmp p.tar p2.tar || fail "the same store content gave two different bundles"
	run --separate-stderr mreg verify p.tar --pubkey k.pub
	assert_status 0
	assert_contains "$output" "verified, every file matches"
	# and a store that imports the bundle keeps it too
	in_other import p.tar
	assert_status 0
	assert_contains "$output" "kept 1 OMS signature with demo:1"
	[[ "$(kept_files)" == "sha256-$hex.json" ]] || fail "the other store kept $(kept_files)"

	# Again, with -o: ECDSA is randomised, so new bytes: a second kept
	# signature, and FILE holds exactly those bytes.
	run --separate-stderr mreg sign demo:1 --key k.pem -o second.sig
	assert_status 0
	assert_contains "$output" "wrote second.sig: OMS v1.0 signature of demo:1 (3 files, key method, P-256 key"
	hex2="$(sha256sum second.sig | cut -d' ' -f1)"
	[[ "$hex2" != "$hex" ]] || fail "two signings gave the same bytes"
	assert_contains "$output" "kept with demo:1 as sha256:${hex2:0:12}... (it keeps 2 OMS signatures; package and push attach them)"
	assert_contains "$output" "and  mreg verify --signature second.sig --pubkey KEY.pub demo:1"
	cmp second.sig "$MREG_DIR/signatures/demo/1/sha256-$hex2.json" || fail "-o wrote other bytes than the kept ones"
	[[ "$(stat -c %a second.sig)" == 644 ]] || fail "-o file mode $(stat -c %a second.sig)"
	run --separate-stderr mreg verify --signature second.sig --pubkey k.pub demo:1
	assert_status 0
	mreg package demo:1 -o p3.tar >/dev/null
	[[ "$(referrers p3.tar)" == 2 ]] || fail "signatures in p3.tar: $(referrers p3.tar)"
	# --oms-signature with a kept signature's bytes adds nothing.
	mreg package demo:1 -o p4.tar --oms-signature second.sig >/dev/null
	cmp p3.tar p4.tar || fail "a kept signature was attached twice"
	run --separate-stderr mreg show demo:1 --json
	[[ "$(json_get 'sorted(s["digest"] for s in d["signatures"])' <<<"$output")" == "$(printf '%s\n' "sha256:$hex" "sha256:$hex2" | sort | "$PYTHON" -c 'import json, sys; print(json.dumps([l.strip() for l in sys.stdin]))')" ]] ||
		fail "show --json: $output"
	run --separate-stderr mreg fsck
	assert_status 0
}

@test "sign NAME:V then push: the registry has the kept signature as a referrer; a pull elsewhere verifies it with the key" {
	start_registry
	run --separate-stderr mreg sign demo:1 --key k.pem
	assert_status 0
	f="$MREG_DIR/signatures/demo/1/$(kept_here)"
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 0
	assert_contains "$output" "OMS v1.0 signature"
	manifest="$(sed -n 's/^manifest //p' <<<"$output")"
	[[ -n "$manifest" ]] || fail "push printed no manifest: $output"
	# The fallback tag sha256-HEX lists the signature manifest, whose layer is the kept bytes.
	index="$(curl -sf -H "Accept: application/vnd.oci.image.index.v1+json" "http://$REG/v2/team/demo/manifests/sha256-${manifest#sha256:}")" ||
		fail "no fallback tag"
	[[ "$(json_get '[m["artifactType"] for m in d["manifests"]]' <<<"$index")" == "[\"$SIG_TYPE\"]" ]] ||
		fail "fallback index: $index"
	sigman="$(curl -sf -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		"http://$REG/v2/team/demo/manifests/$(json_get 'd["manifests"][0]["digest"]' <<<"$index")")"
	curl -sf "http://$REG/v2/team/demo/blobs/$(json_get 'd["layers"][0]["digest"]' <<<"$sigman")" | cmp - "$f" ||
		fail "the registry holds other bytes than the kept signature"
	in_other pull "$REG/team/demo:1" --plain-http --verify-key k.pub
	assert_status 0
	assert_contains "$output" "OMS signature verified (1 found, fallback tag), every file matches"
	[[ "$(kept_files)" == "$(kept_here)" ]] || fail "the other store kept $(kept_files)"
	in_other pull "$REG/team/demo:1" --plain-http --verify-key other.pub
	assert_status 1
}

@test "a signature kept by sign still verifies after mreg update (it covers the files, the record's metadata is not signed)" {
	run --separate-stderr mreg sign demo:1 --key k.pem
	assert_status 0
	digest="sha256:$(kept_here | sed 's/^sha256-//; s/\.json$//')"
	run --separate-stderr mreg update demo:1 --description "signed, then described" --tag stage=prod
	assert_status 0
	run --separate-stderr mreg verify --pubkey k.pub demo:1
	assert_status 0
	assert_contains "$output" "kept OMS signature $digest verifies with k.pub"
	run --separate-stderr mreg show demo:1
	assert_contains "$output" "signatures:  $digest OMS, key method"
	mreg package demo:1 -o p.tar >/dev/null
	run --separate-stderr mreg verify p.tar --pubkey k.pub
	assert_status 0
	# and signing after the update keeps one more
	run --separate-stderr mreg sign demo:1 --key k.pem
	assert_status 0
	[[ "$(kept_here | wc -l)" == 2 ]] || fail "kept: $(kept_here)"
}

@test "sign --no-keep only writes the file; a refused sign (a missing key, a bad key, a wrong passphrase, no such version) leaves the store as it was" {
	before="$(store_snapshot)"
	run --separate-stderr mreg sign demo:1 --key k.pem --no-keep
	assert_status 0
	assert_contains "$output" "wrote model.sig: OMS v1.0 signature of demo:1"
	assert_not_contains "$output" "kept"
	assert_contains "$output" "checked by  mreg verify --signature model.sig --pubkey KEY.pub demo:1"
	[[ -s model.sig ]] || fail "no model.sig"
	run --separate-stderr mreg sign demo:1 --key k.pem --no-keep -o n.sig --json
	assert_status 0
	[[ "$(json_get '[d["signature"], d["kept"]]' <<<"$output")" == '["n.sig", null]' ]] || fail "$output"
	assert_store_unchanged "$before"
	run --separate-stderr mreg verify --pubkey k.pub demo:1
	assert_status 1
	assert_one_error "demo:1: no OMS signature is kept with it"

	# A key that cannot be read or is not one: nothing written, anywhere.
	run --separate-stderr mreg sign demo:1 --key nosuch.pem -o x.sig
	assert_status 2
	echo 'not a key' >bad.pem
	run --separate-stderr mreg sign demo:1 --key bad.pem -o x.sig
	assert_status 2
	MREG_KEY_PASSWORD=s3cret mreg keygen --oms -s enc.pem --pubkey enc.pub >/dev/null
	MREG_KEY_PASSWORD=wrong run --separate-stderr mreg sign demo:1 --key enc.pem -o x.sig
	assert_status 2
	run --separate-stderr mreg sign demo:9 --key k.pem -o x.sig
	assert_status 1
	assert_one_error "model demo has no version 9"
	[[ ! -e x.sig ]] || fail "a refused sign wrote x.sig"
	assert_store_unchanged "$before"
	# The encrypted key works with its passphrase, and keeps.
	MREG_KEY_PASSWORD=s3cret run --separate-stderr mreg sign demo:1 --key enc.pem
	assert_status 0
	[[ "$(kept_here | wc -l)" == 1 ]] || fail "kept: $(kept_here)"
}

@test "sign at the limit of 16 kept signatures: refused with the reason, -o FILE not written, the store as it was; --no-keep still writes the file" {
	for i in $(seq 16); do
		mreg sign demo:1 --key k.pem -q || fail "sign $i"
	done
	[[ "$(kept_here | wc -l)" == 16 ]] || fail "kept $(kept_here | wc -l)"
	echo 'the old file' >full.sig
	before="$(store_snapshot)"
	run --separate-stderr mreg sign demo:1 --key k.pem -o full.sig
	assert_status 1
	assert_contains "$stderr" "mreg: cannot keep the signature with demo:1: OMS signature sha256:"
	assert_contains "$stderr" "demo:1 keeps 16 already, the most a version keeps"
	assert_contains "$stderr" "mreg: note: full.sig was not written either; --no-keep writes the signature to a file without keeping it"
	[[ -z "$output" ]] || fail "stdout: $output"
	[[ "$(cat full.sig)" == 'the old file' ]] || fail "full.sig was replaced"
	[[ -z "$(find . -maxdepth 1 -name 'write-*')" ]] || fail "a staging file was left: $(ls)"
	assert_store_unchanged "$before"
	run --separate-stderr mreg sign demo:1 --key k.pem --json
	assert_status 1
	[[ -z "$output" ]] || fail "stdout: $output"
	assert_store_unchanged "$before"
	run --separate-stderr mreg sign demo:1 --key k.pem -o full.sig --no-keep
	assert_status 0
	run --separate-stderr mreg verify --signature full.sig --pubkey k.pub demo:1
	assert_status 0
	assert_store_unchanged "$before"
	# the 16 still travel: package attaches every one
	mreg package demo:1 -o p.tar >/dev/null
	[[ "$(referrers p.tar)" == 16 ]] || fail "signatures in p.tar: $(referrers p.tar)"
}

@test "sign of a folder is unchanged: model.sig or -o, nothing kept, --no-keep changes nothing" {
	before="$(store_snapshot)"
	run --separate-stderr mreg sign model --key k.pem
	assert_status 0
	assert_contains "$output" "wrote model.sig: OMS v1.0 signature of model (3 files"
	assert_not_contains "$output" "kept"
	run --separate-stderr mreg sign ./model --key k.pem -o f.sig --no-keep
	assert_status 0
	run --separate-stderr mreg verify --signature f.sig --pubkey k.pub demo:1
	assert_status 0
	assert_store_unchanged "$before"
}
