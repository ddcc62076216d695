#!/usr/bin/env bats
# OMS v1.0 signatures that travel with the model: package --sign-oms puts the
# signature in the bundle's OCI layout as a referrer of the model manifest;
# push --sign-oms sends it to the registry (Debian's docker-registry 2.8 has
# no referrers API: the fallback tag sha256-HEX lists it); pull --verify-key
# and config.yaml verify.oms_keys refuse a version whose signature is missing,
# tampered or another key's, leaving the store as it was; skopeo 1.9 carries
# the fallback tag (not the referrer by itself). The referrers API itself is
# tested through registry_proxy.py, which adds it in front of the registry.
# The layout is read and
# rewritten by oms_layout.py and the signature checked by oms_tool.py, both
# written from the specs, independent of mreg.

load helpers
load registry

OMS_TOOL="${BATS_TEST_DIRNAME}/oms_tool.py"
LAYOUT="${BATS_TEST_DIRNAME}/oms_layout.py"
SIG_TYPE="application/vnd.dev.sigstore.bundle.v0.3+json"
EMPTY="sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

setup() {
	oms_setup
}

teardown() {
	stop_registry
}

need_crypto() {
	"${PYTHON}" -c 'import cryptography' 2>/dev/null ||
		skip "python3-cryptography is not installed"
}

# A second, empty store: echo its MREG_DIR.
fresh_store() {
	local dir="${TEST_DIR}/$1/.mreg"
	MREG_DIR="$dir" "${MREG}" init >/dev/null || return 1
	echo "$dir"
}

# reg_get PATH [ACCEPT]: the registry's answer to GET PATH.
reg_get() {
	curl -sf -H "Accept: ${2:-application/vnd.oci.image.index.v1+json}" "http://$REG$1"
}

# reg_put_blob REPO FILE: a monolithic upload; echoes the digest.
reg_put_blob() {
	local digest location
	digest="sha256:$(sha256sum "$2" | cut -d' ' -f1)"
	location="$(curl -sf -X POST -D - -o /dev/null "http://$REG/v2/$1/blobs/uploads/" |
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')"
	[[ "$location" == http* ]] || location="http://$REG$location"
	curl -sf -X PUT -H "Content-Type: application/octet-stream" --data-binary "@$2" \
		"${location}$([[ "$location" == *\?* ]] && echo '&' || echo '?')digest=$digest" >/dev/null ||
		return 1
	echo "$digest"
}

# reg_put_manifest REPO REF FILE MEDIA_TYPE
reg_put_manifest() {
	curl -sf -X PUT -H "Content-Type: $4" --data-binary "@$3" "http://$REG/v2/$1/manifests/$2" >/dev/null
}

@test "package --sign-oms: the signature is a referrer in the layout; the independent verifier accepts it against the unpacked files" {
	need_crypto
	run --separate-stderr mreg package demo:1 -o plain.tar
	assert_status 0
	plain_manifest="$(sed -n 's/^manifest //p' <<<"$output")"
	run --separate-stderr mreg package demo:1 -o signed.tar --sign-oms k.pem
	assert_status 0
	assert_contains "$output" "OMS v1.0 signature attached (a referrer of the manifest; key hint"
	manifest="$(sed -n 's/^manifest //p' <<<"$output")"
	[[ "$manifest" == "$plain_manifest" ]] || fail "the model manifest changed with a signature"

	run "$PYTHON" "$LAYOUT" show signed.tar
	assert_status 0
	show="$output"
	[[ "$(json_get 'len(d["index"]["manifests"])' <<<"$show")" == 2 ]] || fail "index.json: $show"
	[[ "$(json_get 'd["index"]["manifests"][0]["digest"]' <<<"$show")" == "$manifest" ]]
	[[ "$(json_get 'd["signature_manifest"]["artifactType"]' <<<"$show")" == "$SIG_TYPE" ]]
	[[ "$(json_get 'd["signature_manifest"]["subject"]["digest"]' <<<"$show")" == "$manifest" ]]
	[[ "$(json_get 'd["signature_manifest"]["config"]["mediaType"]' <<<"$show")" == application/vnd.oci.empty.v1+json ]]
	[[ "$(json_get 'd["signature_manifest"]["config"]["digest"]' <<<"$show")" == "$EMPTY" ]]
	[[ "$(json_get '[l["mediaType"] for l in d["signature_manifest"]["layers"]]' <<<"$show")" == "[\"$SIG_TYPE\"]" ]]
	tar xOf signed.tar "blobs/sha256/${EMPTY#sha256:}" | cmp - <(printf '{}')

	run "$PYTHON" "$LAYOUT" extract signed.tar model.sig
	assert_status 0
	run --separate-stderr mreg unpack signed.tar -o out
	assert_status 0
	run "$PYTHON" "$OMS_TOOL" verify --pubkey k.pub --signature model.sig out/model
	assert_status 0
	run "$PYTHON" "$OMS_TOOL" verify --pubkey other.pub --signature model.sig out/model
	assert_status 1

	# ECDSA is randomised: a second package keeps the model manifest, not the signature.
	run --separate-stderr mreg package demo:1 -o again.tar --sign-oms k.pem
	assert_status 0
	[[ "$(sed -n 's/^manifest //p' <<<"$output")" == "$manifest" ]]
	! cmp -s signed.tar again.tar || fail "two ECDSA signatures came out equal"
	# What differs: index.json, the signature manifest and the OMS bundle; nothing else.
	run "$PYTHON" - <<'PY'
import hashlib, tarfile
def entries(p):
    with tarfile.open(p) as t:
        return {(m.name, hashlib.sha256(t.extractfile(m).read()).hexdigest() if m.isfile() else "")
                for m in t.getmembers()}
a, b = entries("signed.tar"), entries("again.tar")
print(len(a - b), len(b - a), sorted(n for n, _ in a - b)[0] if a - b else "")
PY
	assert_status 0
	[[ "$output" == "3 3 blobs/sha256/"* ]] || fail "differences: $output"
}

@test "verify and import --pubkey KEY.pem check the attached signature; a wrong key or an unsigned bundle is refused, the store unchanged" {
	run --separate-stderr mreg package demo:1 -o signed.tar --sign-oms k.pem
	assert_status 0
	run --separate-stderr mreg package demo:1 -o plain.tar
	assert_status 0

	run --separate-stderr mreg verify signed.tar
	assert_status 0
	assert_contains "$output" "signature: OMS v1.0 attached (1) (not checked: give --pubkey KEY.pem)"
	run --separate-stderr mreg verify signed.tar --pubkey k.pub
	assert_status 0
	assert_contains "$output" "signature: OMS v1.0 attached (1) (verified, every file matches)"
	run --separate-stderr mreg verify signed.tar --pubkey k.pub --json
	assert_status 0
	[[ "$(json_get '[d["oms_signatures"], d["oms_verified"]]' <<<"$output")" == "[1, true]" ]]

	run --separate-stderr mreg verify signed.tar --pubkey other.pub
	assert_status 1
	assert_one_error "signed.tar: no attached OMS signature verifies" "key mismatch: the bundle names the key" "not the key other.pub"
	run --separate-stderr mreg verify plain.tar --pubkey k.pub
	assert_status 1
	assert_one_error "plain.tar: no OMS signature is attached"

	other="$(fresh_store other)"
	before="$(MREG_DIR="$other" store_snapshot "$other")"
	MREG_DIR="$other" run --separate-stderr "$MREG" import signed.tar --pubkey other.pub
	assert_status 1
	assert_one_error "no attached OMS signature verifies"
	MREG_DIR="$other" run --separate-stderr "$MREG" import plain.tar --pubkey k.pub
	assert_status 1
	assert_one_error "no OMS signature is attached"
	[[ "$(store_snapshot "$other")" == "$before" ]] || fail "a refused import changed the store"
	[[ -z "$(ls -A "$other/tmp" | grep -v lock)" ]] || fail "staging left in tmp/: $(ls -A "$other/tmp")"

	MREG_DIR="$other" run --separate-stderr "$MREG" import signed.tar --pubkey k.pub
	assert_status 0
	assert_contains "$output" "OMS signature verified with k.pub (every file matches)"
	# The minisign path is untouched by an attached OMS signature.
	run --separate-stderr mreg keygen -W -s m.key --pubkey m.pub
	assert_status 0
	run --separate-stderr mreg package demo:1 -o both.tar --sign m.key --sign-oms k.pem
	assert_status 0
	run --separate-stderr mreg verify both.tar --pubkey m.pub
	assert_status 0
	assert_contains "$output" "signature: manifest signed by key"
	run --separate-stderr mreg verify both.tar --pubkey k.pub
	assert_status 0
}

@test "hostile layouts: a tampered signature, another subject, two models, a missing blob are refused by name" {
	run --separate-stderr mreg package demo:1 -o signed.tar --sign-oms k.pem
	assert_status 0
	for how in tamper-sig wrong-subject two-models drop-sig-blob; do
		run "$PYTHON" "$LAYOUT" rewrite signed.tar "$how.tar" "$how"
		assert_status 0
	done
	# A tampered signature is well-formed: only the key finds it out.
	run --separate-stderr mreg verify tamper-sig.tar
	assert_status 0
	run --separate-stderr mreg verify tamper-sig.tar --pubkey k.pub
	assert_status 1
	assert_one_error "tamper-sig.tar: no attached OMS signature verifies" "no signature verifies with the key k.pub"
	run --separate-stderr mreg verify wrong-subject.tar
	assert_status 1
	assert_one_error "wrong-subject.tar: blobs/sha256/" "its subject is sha256:0000000000000000000000000000000000000000000000000000000000000000, not the model manifest"
	run --separate-stderr mreg verify two-models.tar
	assert_status 1
	assert_one_error "two-models.tar: index.json: two model manifests" "a bundle holds one version"
	run --separate-stderr mreg verify drop-sig-blob.tar
	assert_status 1
	assert_one_error "drop-sig-blob.tar: the OMS bundle of signature manifest 1 (blob sha256:" "is missing"
	before="$(store_snapshot)"
	for how in tamper-sig wrong-subject two-models drop-sig-blob; do
		run --separate-stderr mreg import "$how.tar" -n hostile --pubkey k.pub
		assert_status 1
	done
	assert_store_unchanged "$before"
}

@test "push --sign-oms: the fallback tag lists the signature; pull with and without --verify-key, a wrong key, an unsigned version" {
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http --sign-oms k.pem
	assert_status 0
	assert_contains "$output" "OMS v1.0 signature attached as a referrer (fallback tag sha256-HEX of the manifest)"
	manifest="$(sed -n 's/^manifest //p' <<<"$output")"
	tag="sha256-${manifest#sha256:}"
	[[ "$(reg_get /v2/team/demo/tags/list | json_get 'sorted(d["tags"])')" == "[\"1\", \"$tag\"]" ]]
	index="$(reg_get "/v2/team/demo/manifests/$tag")"
	[[ "$(json_get '[(m["artifactType"], m["mediaType"]) for m in d["manifests"]]' <<<"$index")" == "[[\"$SIG_TYPE\", \"application/vnd.oci.image.manifest.v1+json\"]]" ]] ||
		fail "fallback index: $index"
	sigman="$(reg_get "/v2/team/demo/manifests/$(json_get 'd["manifests"][0]["digest"]' <<<"$index")" application/vnd.oci.image.manifest.v1+json)"
	[[ "$(json_get 'd["subject"]["digest"]' <<<"$sigman")" == "$manifest" ]]

	other="$(fresh_store other)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http
	assert_status 0
	# Not checked without a key, but kept with the version (mreg-store(5)).
	assert_not_contains "$output" "OMS signature verified"
	assert_contains "$output" "kept 1 OMS signature with demo:1"
	MREG_DIR="$other" run --separate-stderr "$MREG" delete demo:1
	assert_status 0

	before="$(store_snapshot "$other")"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http --verify-key other.pub
	assert_status 1
	assert_one_error "$REG/team/demo:1: no attached OMS signature verifies" "key mismatch: the bundle names the key" "not the key other.pub"
	[[ "$(store_snapshot "$other")" == "$before" ]] || fail "a refused pull changed the store"

	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http --verify-key other.pub --verify-key k.pub --json
	assert_status 0
	[[ "$(json_get '[d["oms_signatures"], d["oms_verified"], d["referrers_api"]]' <<<"$output")" == "[1, true, false]" ]]
	MREG_DIR="$other" run --separate-stderr "$MREG" delete demo:1
	assert_status 0

	# A version pushed without a signature is refused when a key is asked for.
	run --separate-stderr mreg push demo:1 "$REG/plain/demo" --plain-http
	assert_status 0
	before="$(store_snapshot "$other")"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/plain/demo:1" --plain-http --verify-key k.pub
	assert_status 1
	assert_one_error "$REG/plain/demo:1: no OMS signature is attached (refused: a key to verify with was given)"
	[[ "$(store_snapshot "$other")" == "$before" ]] || fail "a refused pull changed the store"
	# By digest too: the store's copy is no proof of a signature.
	run --separate-stderr mreg pull "$REG/plain/demo@$manifest" --plain-http --verify-key k.pub
	assert_status 1
	assert_one_error "no OMS signature is attached"
}

@test "--oms-signature: the signature mreg sign made once travels byte for byte through a bundle and a registry and is checked on pull" {
	need_crypto
	run --separate-stderr mreg sign demo:1 --key k.pem -o model.sig
	assert_status 0
	# the independent verifier accepts it against the model folder
	run "$PYTHON" "$OMS_TOOL" verify --pubkey k.pub --signature model.sig model
	assert_status 0

	# in a bundle: the very bytes, and the bundle is reproducible again
	run --separate-stderr mreg package demo:1 -o a.tar --oms-signature model.sig
	assert_status 0
	assert_contains "$output" "OMS v1.0 signature model.sig attached as it is"
	run --separate-stderr mreg package demo:1 -o b.tar --oms-signature model.sig
	assert_status 0
	cmp a.tar b.tar || fail "the same signature file gave two different bundles"
	run "$PYTHON" "$LAYOUT" extract a.tar carried.sig
	assert_status 0
	cmp model.sig carried.sig || fail "the bundle carries other bytes than model.sig"
	run --separate-stderr mreg verify a.tar --pubkey k.pub
	assert_status 0
	assert_contains "$output" "verified, every file matches"

	# through a registry: pushed as it is, checked on pull
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http --oms-signature model.sig
	assert_status 0
	assert_contains "$output" "OMS v1.0 signature attached as a referrer"
	manifest="$(sed -n 's/^manifest //p' <<<"$output")"
	index="$(reg_get "/v2/team/demo/manifests/sha256-${manifest#sha256:}")"
	sigman="$(reg_get "/v2/team/demo/manifests/$(json_get 'd["manifests"][0]["digest"]' <<<"$index")" application/vnd.oci.image.manifest.v1+json)"
	curl -sf "http://$REG/v2/team/demo/blobs/$(json_get 'd["layers"][0]["digest"]' <<<"$sigman")" | cmp - model.sig ||
		fail "the registry holds other bytes than model.sig"
	other="$(fresh_store other)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http --verify-key k.pub --json
	assert_status 0
	[[ "$(json_get '[d["oms_signatures"], d["oms_verified"]]' <<<"$output")" == "[1, true]" ]]

	# a signature of another version is refused before anything is written or sent
	mkdir model2 && cp -r model/. model2/ && echo changed >model2/extra.txt
	run --separate-stderr mreg create -n demo -p model2
	assert_status 0
	run --separate-stderr mreg package demo:2 -o c.tar --oms-signature model.sig
	assert_status 1
	assert_one_error "model.sig: not a signature of demo:2"
	[[ ! -e c.tar ]] || fail "a bundle was written"
	run --separate-stderr mreg push demo:2 "$REG/team/demo" --plain-http --oms-signature model.sig
	assert_status 1
	assert_one_error "model.sig: not a signature of demo:2"
	[[ "$(reg_get /v2/team/demo/tags/list | json_get '"2" in d["tags"]')" == false ]] || fail "demo:2 was pushed"
	# not an OMS bundle at all, and the two ways together
	echo '{}' >junk.sig
	run --separate-stderr mreg package demo:1 -o d.tar --oms-signature junk.sig
	assert_status 1
	assert_one_error "junk.sig"
	run --separate-stderr mreg package demo:1 -o d.tar --oms-signature model.sig --sign-oms k.pem
	assert_status 2
	assert_one_error "give one of them"
}

@test "a registry with the referrers API (OCI-Subject, GET /referrers/): no fallback tag is written; pull finds the signature through the API" {
	start_registry
	# registry_proxy.py adds the referrers API of distribution spec 1.1 in
	# front of docker-registry 2.8, which has none
	PROXY_REFERRERS=1 start_proxy
	run --separate-stderr mreg push demo:1 "$PROXY/team/demo" --plain-http --sign-oms k.pem --json
	assert_status 0
	[[ "$(json_get '[d["oms_signatures"], d["referrers_api"]]' <<<"$output")" == "[1, true]" ]] || fail "$output"
	manifest="$(json_get 'd["manifest_digest"]' <<<"$output")"
	# the registry's own tags: the version's, no fallback tag
	[[ "$(reg_get /v2/team/demo/tags/list | json_get 'sorted(d["tags"])')" == '["1"]' ]] ||
		fail "tags: $(reg_get /v2/team/demo/tags/list)"
	grep -q "\"path\": \"/v2/team/demo/referrers/$manifest\"" "$PROXY_LOG" && fail "push asked the referrers list"
	# the API lists the signature manifest, whose subject is the model
	listed="$(curl -sf "http://$PROXY/v2/team/demo/referrers/$manifest")"
	[[ "$(json_get '[m["artifactType"] for m in d["manifests"]]' <<<"$listed")" == "[\"$SIG_TYPE\"]" ]] || fail "$listed"

	other="$(fresh_store other)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http --verify-key k.pub --json
	assert_status 0
	[[ "$(json_get '[d["oms_signatures"], d["oms_verified"], d["referrers_api"]]' <<<"$output")" == "[1, true, true]" ]] || fail "$output"
	grep -q "\"path\": \"/v2/team/demo/referrers/$manifest\"" "$PROXY_LOG" || fail "pull did not use the referrers API"
	MREG_DIR="$other" run --separate-stderr "$MREG" delete demo:1
	assert_status 0
	# the same registry without the API (straight, not through the proxy): no
	# fallback tag was written, so there is no signature to find, and nothing lands
	before="$(store_snapshot "$other")"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http --verify-key k.pub
	assert_status 1
	assert_one_error "no OMS signature is attached"
	[[ "$(store_snapshot "$other")" == "$before" ]] || fail "a refused pull changed the store"
}

@test "a tampered signature in the registry: nothing lands; a second signature is merged into the fallback tag" {
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http --sign-oms k.pem
	assert_status 0
	manifest="$(sed -n 's/^manifest //p' <<<"$output")"
	tag="sha256-${manifest#sha256:}"

	# Another key's signature: pushed again, the tag lists both.
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http --sign-oms other.pem
	assert_status 0
	index="$(reg_get "/v2/team/demo/manifests/$tag")"
	[[ "$(json_get 'len(d["manifests"])' <<<"$index")" == 2 ]] || fail "not merged: $index"
	other="$(fresh_store other)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http --verify-key other.pub
	assert_status 0
	assert_contains "$output" "OMS signature verified (2 found, fallback tag)"
	MREG_DIR="$other" run --separate-stderr "$MREG" delete demo:1
	assert_status 0

	# Replace the tag with one listing a tampered copy of the first signature.
	first="$(json_get 'd["manifests"][0]["digest"]' <<<"$index")"
	reg_get "/v2/team/demo/manifests/$first" application/vnd.oci.image.manifest.v1+json >sigman.json
	reg_get "/v2/team/demo/blobs/$(json_get 'd["layers"][0]["digest"]' <sigman.json)" >model.sig
	"$PYTHON" - <<'PY'
import base64, json
b = json.load(open("model.sig"))
raw = bytearray(base64.b64decode(b["dsseEnvelope"]["signatures"][0]["sig"]))
raw[-1] ^= 1
b["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
open("bad.sig", "w").write(json.dumps(b))
PY
	bad="$(reg_put_blob team/demo bad.sig)"
	"$PYTHON" - "$bad" "$(stat -c %s bad.sig)" <<'PY'
import json, sys
m = json.load(open("sigman.json"))
m["layers"][0]["digest"], m["layers"][0]["size"] = sys.argv[1], int(sys.argv[2])
open("badman.json", "w").write(json.dumps(m))
PY
	reg_put_manifest team/demo "sha256:$(sha256sum badman.json | cut -d' ' -f1)" badman.json application/vnd.oci.image.manifest.v1+json
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"%s","digest":"sha256:%s","size":%s}]}' \
		"$SIG_TYPE" "$(sha256sum badman.json | cut -d' ' -f1)" "$(stat -c %s badman.json)" >tag.json
	reg_put_manifest team/demo "$tag" tag.json application/vnd.oci.image.index.v1+json

	before="$(store_snapshot "$other")"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http --verify-key k.pub
	assert_status 1
	assert_one_error "no attached OMS signature verifies" "no signature verifies with the key k.pub"
	[[ "$(store_snapshot "$other")" == "$before" ]] || fail "a refused pull changed the store"
	[[ -z "$(find "$other/tmp" -mindepth 1 -maxdepth 1 -name 'pull*')" ]] || fail "staging left in tmp/"
}

@test "config.yaml verify.oms_keys: every pull checks the signature without a flag" {
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/signed/demo" --plain-http --sign-oms k.pem
	assert_status 0
	run --separate-stderr mreg push demo:1 "$REG/plain/demo" --plain-http
	assert_status 0
	other="$(fresh_store other)"
	cp k.pub "$other/trusted.pub"
	printf 'verify:\n  oms_keys:\n    - trusted.pub\n' >>"$other/config.yaml"
	before="$(store_snapshot "$other")"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/plain/demo:1" --plain-http
	assert_status 1
	assert_one_error "no OMS signature is attached"
	[[ "$(store_snapshot "$other")" == "$before" ]] || fail "a refused pull changed the store"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/signed/demo:1" --plain-http
	assert_status 0
	assert_contains "$output" "OMS signature verified"

	# A key that cannot be read is named before anything moves.
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/signed/demo:1" --plain-http --verify-key missing.pub
	assert_status 2
	assert_one_error "verification key missing.pub: No such file or directory"
	rm "$other/trusted.pub"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/signed/demo:1" --plain-http
	assert_status 2
	assert_one_error "verification key $other/trusted.pub (config.yaml verify.oms_keys): No such file or directory"

	printf 'verify:\n  oms_keys: trusted.pub\n' >"$TEST_DIR/bad.yaml"
	sed -i '/^verify:/,$d' "$other/config.yaml"
	cat "$TEST_DIR/bad.yaml" >>"$other/config.yaml"
	MREG_DIR="$other" run --separate-stderr "$MREG" list
	assert_status 2
	assert_one_error "config.yaml: verify.oms_keys: a list of PEM files expected"
}

@test "skopeo 1.9 carries the fallback tag (not the referrer by itself); pull --verify-key works on the copy" {
	command -v skopeo >/dev/null || skip "skopeo is not installed"
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http --sign-oms k.pem
	assert_status 0
	manifest="$(sed -n 's/^manifest //p' <<<"$output")"
	tag="sha256-${manifest#sha256:}"
	sig="$(reg_get "/v2/team/demo/manifests/$tag" | json_get 'd["manifests"][0]["digest"]')"

	# The model's tag alone: skopeo knows no referrers, the signature stays behind.
	run skopeo copy --all --src-tls-verify=false "docker://$REG/team/demo:1" oci:layout:1
	assert_status 0
	run skopeo copy --all --dest-tls-verify=false oci:layout:1 "docker://$REG/copy/demo:1"
	assert_status 0
	other="$(fresh_store other)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/copy/demo:1" --plain-http --verify-key k.pub
	assert_status 1
	assert_one_error "no OMS signature is attached"

	# The fallback tag is an ordinary tag holding an index: skopeo copies it, and the
	# signature manifest with it, byte for byte (its index loses the artifactType).
	run skopeo copy --all --src-tls-verify=false "docker://$REG/team/demo:$tag" "oci:layout:$tag"
	assert_status 0
	[[ "$(json_get '[m["annotations"]["org.opencontainers.image.ref.name"] for m in d["manifests"]]' <layout/index.json)" == "[\"1\", \"$tag\"]" ]]
	[[ -f "layout/blobs/sha256/${sig#sha256:}" ]] || fail "skopeo did not copy the signature manifest"
	run skopeo copy --all --dest-tls-verify=false "oci:layout:$tag" "docker://$REG/copy/demo:$tag"
	assert_status 0
	copied="$(reg_get "/v2/copy/demo/manifests/$tag")"
	[[ "$(json_get '[m["digest"] for m in d["manifests"]]' <<<"$copied")" == "[\"$sig\"]" ]]
	[[ "$(json_get '"artifactType" in d["manifests"][0]' <<<"$copied")" == false ]] ||
		fail "skopeo kept artifactType (update this test and the report): $copied"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/copy/demo:1" --plain-http --verify-key k.pub
	assert_status 0
	assert_contains "$output" "OMS signature verified (1 found, fallback tag), every file matches"

	# A bundle with a referrer in index.json: skopeo wants the tag, and copies the model alone.
	run --separate-stderr mreg package demo:1 -o signed.tar --sign-oms k.pem
	assert_status 0
	run skopeo copy oci-archive:signed.tar oci:fromtar
	assert_status 1
	assert_contains "$output" "more than one image in oci, choose an image"
	run skopeo copy oci-archive:signed.tar:1 oci:fromtar:1
	assert_status 0
	[[ "$(json_get '[m["digest"] for m in d["manifests"]]' <fromtar/index.json)" == "[\"$manifest\"]" ]]
}

@test "package, verify, import, push and pull --json with OMS signatures match their schemas in docs/json" {
	"${PYTHON}" -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"
	schemas="${BATS_TEST_DIRNAME}/../../docs/json"
	check="${BATS_TEST_DIRNAME}/json_schema_check.py"
	mreg package demo:1 -o s.tar --sign-oms k.pem --json >package.json
	"${PYTHON}" "$check" "$schemas" package.schema.json package.json
	[[ "$(json_get '[d["oms_signatures"], d["oms_key_hint"]]' <package.json)" == "[1, \"$(openssl pkey -pubin -in k.pub | sha256sum | cut -d' ' -f1)\"]" ]] ||
		fail "$(cat package.json)"
	mreg verify s.tar --pubkey k.pub --json >verify.json
	"${PYTHON}" "$check" "$schemas" verify.schema.json verify.json
	other="$(fresh_store other)"
	MREG_DIR="$other" "$MREG" import s.tar --pubkey k.pub --json >import.json
	"${PYTHON}" "$check" "$schemas" import.schema.json import.json
	[[ "$(json_get 'd["oms_verified"]' <import.json)" == true ]] || fail "$(cat import.json)"
	start_registry
	mreg push demo:1 "$REG/team/demo" --plain-http --sign-oms k.pem --json >push.json
	"${PYTHON}" "$check" "$schemas" remote.schema.json push.json
	[[ "$(json_get '[d["oms_signatures"], d["referrers_api"]]' <push.json)" == "[1, false]" ]] || fail "$(cat push.json)"
	third="$(fresh_store third)"
	MREG_DIR="$third" "$MREG" pull "$REG/team/demo:1" --plain-http --verify-key k.pub --json >pull.json
	"${PYTHON}" "$check" "$schemas" remote.schema.json pull.json
}
