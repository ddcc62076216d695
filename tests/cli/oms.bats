#!/usr/bin/env bats
# OpenSSF Model Signing (OMS v1.0): mreg keygen --oms, mreg sign, mreg verify
# --signature. The peer is tests/cli/oms_tool.py, an OMS signer and verifier
# written from the spec with python3-cryptography: it accepts what mreg signs
# and mreg accepts what it signs. The published test vectors and schemas are
# read in place from ../shared/reference/oms (skipped when absent).

load helpers

OMS_TOOL="${BATS_TEST_DIRNAME}/oms_tool.py"

setup() {
	setup_store
	make_model model
	unset MREG_KEY_PASSWORD
	"${MREG}" keygen --oms -W -s k.pem --pubkey k.pub >/dev/null
}

oms_reference() {
	OMS_REF="${MREG_SHARED_DIR:-${BATS_TEST_DIRNAME}/../../../shared}/reference/oms"
	[[ -d "$OMS_REF/test-vectors/v1.0" ]] || skip "no OMS reference in ../shared/reference/oms"
}

need_crypto() {
	"${PYTHON}" -c 'import cryptography' 2>/dev/null ||
		skip "python3-cryptography is not installed"
}

# statement SIG: the statement the bundle signs, as JSON.
statement() {
	"${PYTHON}" -c '
import base64, json, sys
print(base64.b64decode(json.load(open(sys.argv[1]))["dsseEnvelope"]["payload"]).decode())' "$1"
}

@test "keygen --oms makes a P-256 pair in PEM; the hint is the SHA-256 of the public key's PEM" {
	run --separate-stderr mreg keygen --oms -W -s a.pem --pubkey a.pub
	assert_status 0
	[[ "$(stat -c %a a.pem)" == 600 ]] || fail "private key mode $(stat -c %a a.pem)"
	run openssl pkey -in a.pem -noout -text
	assert_contains "$output" "NIST CURVE: P-256"
	hint="$(openssl pkey -in a.pem -pubout | sha256sum | cut -d' ' -f1)"
	cmp <(openssl pkey -in a.pem -pubout) a.pub
	run --separate-stderr mreg sign model --key a.pem -o m.sig
	assert_status 0
	[[ "$(json_get 'd["verificationMaterial"]["publicKey"]["hint"]' <m.sig)" == "$hint" ]] ||
		fail "hint is not sha256(PEM public key) $hint"
	run --separate-stderr mreg keygen --oms -W -s a.pem --pubkey a.pub
	assert_status 1
	assert_one_error "a.pem exists (--force replaces it)"
}

@test "sign a stored version from its record: mreg verify and the independent verifier accept it" {
	need_crypto
	run --separate-stderr mreg create -n demo -p model
	assert_status 0
	# --no-keep: the file only, the store untouched (without it the store keeps
	# the signature too: oms_kept.bats).
	before="$(store_snapshot)"
	run --separate-stderr mreg sign demo:1 --key k.pem -o demo.sig --no-keep
	assert_status 0
	assert_contains "$output" "wrote demo.sig: OMS v1.0 signature of demo:1 (3 files, key method, P-256"
	assert_contains "$output" "nothing re-hashed"
	assert_not_contains "$output" "kept"
	assert_store_unchanged "$before"
	# What is signed: the files' SHA-256 sorted by name, the subject over their raw digests.
	statement demo.sig >st.json
	[[ "$(json_get '[r["name"] for r in d["predicate"]["resources"]]' <st.json)" == '["a.txt", "sub/b.bin", "sub/deeper/c.json"]' ]] ||
		fail "resources: $(cat st.json)"
	[[ "$(json_get 'd["predicate"]["resources"][1]["digest"]' <st.json)" == "$(sha256sum model/sub/b.bin | cut -d' ' -f1)" ]] ||
		fail "b.bin digest"
	[[ "$(json_get 'd["predicate"]["serialization"]' <st.json)" == '{"method": "files", "hash_type": "sha256", "allow_symlinks": false, "ignore_paths": [".git", ".gitattributes", ".github", ".gitignore"]}' ]] ||
		fail "serialization: $(cat st.json)"
	run --separate-stderr mreg verify --signature demo.sig --pubkey k.pub demo:1
	assert_status 0
	assert_contains "$output" "demo.sig: OK: demo:1 matches the OMS signature (key method), 3 files verified"
	mreg download demo:1 -o out >/dev/null
	run --separate-stderr mreg verify --signature demo.sig --pubkey k.pub out
	assert_status 0
	run "${PYTHON}" "$OMS_TOOL" verify --pubkey k.pub --signature demo.sig out
	assert_status 0
	assert_contains "$output" "OK: 3 files verified"
	# The same signature checks against a bundle of the version (every digest checked too).
	mreg package demo:1 -o demo.tar >/dev/null
	run --separate-stderr mreg verify --signature demo.sig --pubkey k.pub demo.tar
	assert_status 0
	assert_contains "$output" "the bundle's every digest checked too"
	assert_store_unchanged "$before"
	# Another version is not what was signed.
	printf 'weights v2\n' >model/a.txt
	mreg create -n demo -p model >/dev/null
	run --separate-stderr mreg verify --signature demo.sig --pubkey k.pub demo:2
	assert_status 1
	assert_one_error "demo:2: the file a.txt differs from the signed one"
}

@test "sign --ignore-path leaves a path out and records it; --json reports what was signed" {
	mkdir model/logs && printf 'run 1\n' >model/logs/train.log
	run --separate-stderr mreg sign model --key k.pem -o m.sig --ignore-path logs --json
	assert_status 0
	[[ "$(json_get 'd["files"], d["method"], d["curve"], d["hashed_bytes"] > 0' <<<"$output")" == '[3, "key", "P-256", true]' ]] ||
		fail "$output"
	[[ "$(json_get 'd["key_hint"]' <<<"$output")" == "$(openssl pkey -pubin -in k.pub | sha256sum | cut -d' ' -f1)" ]] ||
		fail "$output"
	statement m.sig >st.json
	[[ "$(json_get '"logs" in d["predicate"]["serialization"]["ignore_paths"]' <st.json)" == true ]] ||
		fail "$(cat st.json)"
	printf 'run 2\n' >model/logs/train.log
	run --separate-stderr mreg verify --signature m.sig --pubkey k.pub model
	assert_status 0
	run --separate-stderr mreg sign model --key k.pem -o m.sig --ignore-path ../up
	assert_status 1
	assert_one_error "ignore path '../up': give a path relative to the model root"
}

@test "sign a folder (model.sig inside it is left out); the independent verifier accepts it, mreg verifies what it signs" {
	need_crypto
	printf 'ignored\n' >model/.gitignore
	mkdir model/.git && printf 'x\n' >model/.git/HEAD
	run --separate-stderr mreg sign model --key k.pem -o model/model.sig
	assert_status 0
	statement model/model.sig >st.json
	[[ "$(json_get 'd["predicate"]["serialization"]["ignore_paths"][-1]' <st.json)" == model.sig ]] ||
		fail "model.sig not in ignore_paths"
	[[ "$(json_get 'len(d["predicate"]["resources"])' <st.json)" == 3 ]] || fail "$(cat st.json)"
	run "${PYTHON}" "$OMS_TOOL" verify --pubkey k.pub --signature model/model.sig model
	assert_status 0
	run --separate-stderr mreg verify --signature model/model.sig --pubkey k.pub model
	assert_status 0
	# The other way: the script signs (P-384 key, indented statement, no mreg code).
	rm model/model.sig
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem
	openssl pkey -in p384.pem -pubout -out p384.pub
	run "${PYTHON}" "$OMS_TOOL" sign --key p384.pem -o py.sig model
	assert_status 0
	run --separate-stderr mreg verify --signature py.sig --pubkey p384.pub model
	assert_status 0
	assert_contains "$output" "py.sig: OK: model matches the OMS signature (key method), 3 files verified"
	run --separate-stderr mreg verify --signature py.sig --pubkey p384.pub --json model
	assert_status 0
	[[ "$(json_get 'd["ok"], d["files"]' <<<"$output")" == '[true, 3]' ]] || fail "$output"
}

@test "tampered file, reordered resources, wrong key, wrong payloadType, truncated signature: each refused by mreg and the script" {
	need_crypto
	mreg sign model --key k.pem -o m.sig >/dev/null
	# A tampered file.
	cp -r model tampered && printf 'weights v2\n' >tampered/a.txt
	run --separate-stderr mreg verify --signature m.sig --pubkey k.pub tampered
	assert_status 1
	assert_one_error "tampered: the file a.txt differs from the signed one"
	run "${PYTHON}" "$OMS_TOOL" verify --pubkey k.pub --signature m.sig tampered
	assert_status 1
	# Another key.
	mreg keygen --oms -W -s other.pem --pubkey other.pub >/dev/null
	run --separate-stderr mreg verify --signature m.sig --pubkey other.pub model
	assert_status 1
	assert_one_error "m.sig: verificationMaterial.publicKey.hint: key mismatch" "not the key other.pub"
	run "${PYTHON}" "$OMS_TOOL" verify --pubkey other.pub --signature m.sig model
	assert_status 1
	# A truncated signature.
	"${PYTHON}" -c '
import json, sys
b = json.load(open("m.sig")); s = b["dsseEnvelope"]["signatures"][0]
s["sig"] = s["sig"][:len(s["sig"]) // 2 // 4 * 4]
json.dump(b, open("short.sig", "w"))'
	run --separate-stderr mreg verify --signature short.sig --pubkey k.pub model
	assert_status 1
	assert_one_error "short.sig: dsseEnvelope.signatures: no signature verifies"
	run "${PYTHON}" "$OMS_TOOL" verify --pubkey k.pub --signature short.sig model
	assert_status 1
	# Resources out of order, signed as such: the signature holds, OMS's order does not.
	run "${PYTHON}" "$OMS_TOOL" sign --key k.pem --unsorted -o unsorted.sig model
	assert_status 0
	run --separate-stderr mreg verify --signature unsorted.sig --pubkey k.pub model
	assert_status 1
	assert_one_error "unsorted.sig: payload: predicate.resources[1]" "out of order"
	run "${PYTHON}" "$OMS_TOOL" verify --pubkey k.pub --signature unsorted.sig model
	assert_status 1
	# Another payloadType, signed as such.
	run "${PYTHON}" "$OMS_TOOL" sign --key k.pem --payload-type application/json -o type.sig model
	assert_status 0
	run --separate-stderr mreg verify --signature type.sig --pubkey k.pub model
	assert_status 1
	assert_one_error "type.sig: dsseEnvelope.payloadType: 'application/json', not 'application/vnd.in-toto+json'"
	run "${PYTHON}" "$OMS_TOOL" verify --pubkey k.pub --signature type.sig model
	assert_status 1
	# Resources reordered after signing: the signature covers the payload.
	"${PYTHON}" -c '
import base64, json
b = json.load(open("m.sig")); st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
st["predicate"]["resources"].reverse()
b["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
json.dump(b, open("edited.sig", "w"))'
	run --separate-stderr mreg verify --signature edited.sig --pubkey k.pub model
	assert_status 1
	assert_one_error "edited.sig: dsseEnvelope.signatures: no signature verifies"
}

@test "files not signed fail unless --ignore-unsigned-files; a signed file missing always fails" {
	mreg sign model --key k.pem -o m.sig >/dev/null
	printf 'new\n' >model/extra.txt
	run --separate-stderr mreg verify --signature m.sig --pubkey k.pub model
	assert_status 1
	assert_one_error "model: the file extra.txt is not signed by m.sig"
	run --separate-stderr mreg verify --signature m.sig --pubkey k.pub --ignore-unsigned-files model
	assert_status 0
	rm model/sub/b.bin
	run --separate-stderr mreg verify --signature m.sig --pubkey k.pub --ignore-unsigned-files model
	assert_status 1
	assert_one_error "model: the signed file sub/b.bin is missing"
}

@test "every published test vector gives its folder's verdict, with mreg and with python3-jsonschema" {
	oms_reference
	"${PYTHON}" -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"
	n=0
	for f in "$OMS_REF"/test-vectors/v1.0/*/*.json; do
		verdict="$(basename "$(dirname "$f")")"
		run --separate-stderr mreg verify --signature "$f" --schema-only
		if [[ "$verdict" == valid ]]; then
			assert_status 0
			assert_contains "$output" "OMS v1.0 bundle, well-formed"
		else
			assert_status 1
			assert_one_error "$f: "
		fi
		run "${PYTHON}" "$OMS_TOOL" schema "$OMS_REF/schemas/v1.0" "$f"
		[[ "$status" -eq $([[ "$verdict" == valid ]] && echo 0 || echo 1) ]] ||
			fail "jsonschema says $status for $f: $output"
		n=$((n + 1))
	done
	[[ "$n" -ge 8 ]] || fail "only $n vectors"
	v="$OMS_REF/test-vectors/v1.0"
	run --separate-stderr mreg verify --signature "$v/invalid-payload/wrong-predicate.bundle.json" --schema-only
	assert_one_error "payload: predicateType: 'https://example.com/wrong-predicate/v1.0'"
	run --separate-stderr mreg verify --signature "$v/invalid/missing-tlog-entries.bundle.json" --schema-only
	assert_one_error "verificationMaterial.tlogEntries: missing"
	run --separate-stderr mreg verify --signature "$v/invalid/missing-envelope.bundle.json" --schema-only
	assert_one_error "dsseEnvelope: missing"
	# What mreg signs passes all four schemas too.
	mreg sign model --key k.pem -o m.sig >/dev/null
	run "${PYTHON}" "$OMS_TOOL" schema "$OMS_REF/schemas/v1.0" m.sig
	assert_status 0
}

@test "a keyless (sigstore method) bundle is recognised and refused; the reference key bundle fails on the signature, not the form" {
	oms_reference
	v="$OMS_REF/test-vectors/v1.0/valid"
	run --separate-stderr mreg verify --signature "$v/sigstore.bundle.json" --pubkey k.pub model
	assert_status 1
	assert_one_error "signed by the 'sigstore' method (keyless" "needs the network"
	run --separate-stderr mreg verify --signature "$v/key.bundle.json" --pubkey k.pub model
	assert_status 1
	assert_one_error "verificationMaterial.publicKey.hint: key mismatch: the bundle names the key e8450dec" "not the key k.pub"
	run --separate-stderr mreg verify --signature "$v/certificate.bundle.json" --pubkey k.pub model
	assert_status 2
	assert_one_error "signed by the 'certificate' method: give the trusted certificates (--cert-chain PEM)"
}

@test "certificate method: the leaf signs, the chain is checked against the trusted CA" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout ca.key \
		-out ca.pem -days 30 -subj /CN=test-ca 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key \
		-out leaf.csr -subj /CN=signer 2>/dev/null
	openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem \
		-days 10 2>/dev/null
	cat leaf.pem ca.pem >chain.pem
	run --separate-stderr mreg sign model --key leaf.key --cert-chain chain.pem -o c.sig
	assert_status 0
	assert_contains "$output" "certificate method"
	[[ "$(json_get 'len(d["verificationMaterial"]["x509CertificateChain"]["certificates"])' <c.sig)" == 2 ]] ||
		fail "$(cat c.sig)"
	run --separate-stderr mreg verify --signature c.sig --cert-chain ca.pem model
	assert_status 0
	assert_contains "$output" "(certificate method), 3 files verified"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
		-out other.pem -days 30 -subj /CN=other-ca 2>/dev/null
	run --separate-stderr mreg verify --signature c.sig --cert-chain other.pem model
	assert_status 1
	assert_one_error "c.sig: verificationMaterial.x509CertificateChain: the leaf certificate does not chain to other.pem"
	# A chain whose leaf is not the key's.
	run --separate-stderr mreg sign model --key k.pem --cert-chain chain.pem -o bad.sig
	assert_status 2
	assert_one_error "chain.pem: the first certificate (the leaf) does not hold the signing key's public half"
	[[ ! -e bad.sig ]] || fail "bad.sig written"
}

@test "keys: encrypted PKCS#8 and SEC1, P-384 and P-521 sign; a wrong passphrase, Ed25519, minisign keys are refused by name" {
	MREG_KEY_PASSWORD=s3cret mreg keygen --oms -s enc.pem --pubkey enc.pub >/dev/null
	head -1 enc.pem | grep -q "ENCRYPTED PRIVATE KEY"
	MREG_KEY_PASSWORD=s3cret run --separate-stderr mreg sign model --key enc.pem -o e.sig
	assert_status 0
	run --separate-stderr mreg verify --signature e.sig --pubkey enc.pub model
	assert_status 0
	MREG_KEY_PASSWORD=wrong run --separate-stderr mreg sign model --key enc.pem -o w.sig
	assert_status 2
	assert_one_error "enc.pem: wrong passphrase"
	openssl ecparam -name secp521r1 -genkey -noout -out sec1.pem
	openssl ec -in sec1.pem -aes256 -passout pass:pw -out sec1enc.pem 2>/dev/null
	openssl ec -in sec1.pem -pubout -out sec1.pub 2>/dev/null
	head -2 sec1enc.pem | grep -q "Proc-Type: 4,ENCRYPTED"
	MREG_KEY_PASSWORD=pw run --separate-stderr mreg sign model --key sec1enc.pem -o s.sig
	assert_status 0
	assert_contains "$output" "P-521"
	run --separate-stderr mreg verify --signature s.sig --pubkey sec1.pub model
	assert_status 0
	openssl genpkey -algorithm ed25519 -out ed.pem
	run --separate-stderr mreg sign model --key ed.pem -o x.sig
	assert_status 2
	assert_one_error "ed.pem: not an ECDSA key on P-256, P-384 or P-521"
	mreg keygen -W -s mini.key --pubkey mini.pub >/dev/null
	run --separate-stderr mreg sign model --key mini.key -o x.sig
	assert_status 2
	assert_one_error "mini.key: a minisign key; OMS signatures take an ECDSA private key in PEM"
	run --separate-stderr mreg verify --signature s.sig --pubkey mini.pub model
	assert_status 2
	assert_one_error "mini.pub: a minisign public key"
	[[ ! -e x.sig && ! -e w.sig ]] || fail "a signature was written"
}

@test "symbolic links are refused when signing a folder or a version, and when verifying a folder" {
	mreg sign model --key k.pem -o m.sig >/dev/null
	ln -s a.txt model/link.txt
	run --separate-stderr mreg sign model --key k.pem -o l.sig
	assert_status 1
	assert_one_error "model/link.txt: a symbolic link; OMS signatures (allow_symlinks false) refuse links"
	run --separate-stderr mreg verify --signature m.sig --pubkey k.pub model
	assert_status 1
	assert_one_error "model/link.txt: a symbolic link"
	mreg create -n linked -p model >/dev/null
	run --separate-stderr mreg sign linked:1 --key k.pem -o l.sig
	assert_status 1
	assert_one_error "linked:1 holds the symbolic link link.txt"
	[[ ! -e l.sig ]] || fail "l.sig written"
}

@test "the minisign path is unchanged; a PEM key without --signature checks the attached OMS signature; options without it are named" {
	run --separate-stderr mreg create -n demo -p model
	mreg keygen -W -s mini.key --pubkey mini.pub >/dev/null
	mreg package demo:1 -o demo.tar --sign mini.key >/dev/null
	run --separate-stderr mreg verify demo.tar --pubkey mini.pub
	assert_status 0
	assert_contains "$output" "manifest signed by key"
	run --separate-stderr mreg verify demo.tar --pubkey k.pub
	assert_status 1
	assert_one_error "demo.tar: no OMS signature is attached (refused: a key to verify with was given)"
	run --separate-stderr mreg verify demo.tar --ignore-unsigned-files
	assert_status 2
	assert_one_error "go with --signature SIG"
	mreg sign demo:1 --key k.pem -o d.sig >/dev/null
	run --separate-stderr mreg verify --signature d.sig demo:1
	assert_status 2
	assert_one_error "give the signer: --pubkey KEY.pem (key method) or --cert-chain CA.pem"
}

@test "a single-file model is signed by its base name" {
	need_crypto
	printf 'one\n' >weights.bin
	run --separate-stderr mreg sign ./weights.bin --key k.pem -o w.sig
	assert_status 0
	[[ "$(statement w.sig | json_get '[r["name"] for r in d["predicate"]["resources"]]')" == '["weights.bin"]' ]] ||
		fail "$(statement w.sig)"
	run --separate-stderr mreg verify --signature w.sig --pubkey k.pub ./weights.bin
	assert_status 0
	run "${PYTHON}" "$OMS_TOOL" verify --pubkey k.pub --signature w.sig weights.bin
	assert_status 0
	printf 'two\n' >weights.bin
	run --separate-stderr mreg verify --signature w.sig --pubkey k.pub ./weights.bin
	assert_status 1
	assert_one_error "the file weights.bin differs from the signed one"
}

@test "sign, keygen --oms and verify --signature --json match their schemas in docs/json" {
	"${PYTHON}" -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"
	schemas="${BATS_TEST_DIRNAME}/../../docs/json"
	check="${BATS_TEST_DIRNAME}/json_schema_check.py"
	mreg create -n demo -p model >/dev/null
	mreg sign demo:1 --key k.pem -o d.sig --json >sign.json
	"${PYTHON}" "$check" "$schemas" sign.schema.json sign.json
	[[ "$(json_get 'd["hashed_bytes"], d["model"], d["signature"]' <sign.json)" == '[0, "demo:1", "d.sig"]' ]] || fail "$(cat sign.json)"
	[[ "$(json_get '[d["kept"]["digest"], d["kept"]["added"], d["kept"]["count"]]' <sign.json)" == "[\"$(file_digest d.sig)\", true, 1]" ]] ||
		fail "kept: $(cat sign.json)"
	# Kept only (no file), and a file only (--no-keep), a folder: the other shapes.
	mreg sign demo:1 --key k.pem --json >kept.json
	"${PYTHON}" "$check" "$schemas" sign.schema.json kept.json
	[[ "$(json_get 'd["signature"], d["kept"]["count"]' <kept.json)" == '[null, 2]' ]] || fail "$(cat kept.json)"
	mreg sign demo:1 --key k.pem --no-keep -o n.sig --json >nokeep.json
	"${PYTHON}" "$check" "$schemas" sign.schema.json nokeep.json
	mreg sign model --key k.pem -o m.sig --json >folder.json
	"${PYTHON}" "$check" "$schemas" sign.schema.json folder.json
	[[ "$(json_get '[d["signature"], d["kept"], json.load(open("folder.json"))["kept"]]' <nokeep.json)" == '["n.sig", null, null]' ]] ||
		fail "$(cat nokeep.json folder.json)"
	mreg keygen --oms -W -s j.pem --pubkey j.pub --json >keygen.json
	"${PYTHON}" "$check" "$schemas" keygen.schema.json keygen.json
	mreg verify --signature d.sig --pubkey k.pub demo:1 --json >ok.json
	"${PYTHON}" "$check" "$schemas" verify.schema.json ok.json
	run --separate-stderr mreg verify --signature d.sig --pubkey j.pub demo:1 --json
	assert_status 1
	printf '%s\n' "$output" >bad.json
	"${PYTHON}" "$check" "$schemas" verify.schema.json bad.json
	[[ "$(json_get 'd["ok"]' <bad.json)" == false ]] || fail "$output"
	mreg verify --signature d.sig --schema-only --json >schema.json
	"${PYTHON}" "$check" "$schemas" verify.schema.json schema.json
}

@test "public keys in DER are read; a hint naming another key is a key mismatch (as model_signing), no hint is checked by the signature" {
	run --separate-stderr mreg sign model --key k.pem -o m.sig
	assert_status 0
	openssl pkey -pubin -in k.pub -outform DER -out k.der
	run --separate-stderr mreg verify --signature m.sig --pubkey k.der model
	assert_status 0
	assert_contains "$output" "m.sig: OK: model matches the OMS signature (key method), 3 files verified"
	head -c 40 k.der >short.der
	run --separate-stderr mreg verify --signature m.sig --pubkey short.der model
	assert_status 2
	assert_one_error "short.der: not a public key (PEM or DER SubjectPublicKeyInfo)"

	# The same signature with another key's hint: refused before the signature is checked.
	"${MREG}" keygen --oms -W -s o.pem --pubkey o.pub >/dev/null
	other_hint="$(openssl pkey -pubin -in o.pub | sha256sum | cut -d' ' -f1)"
	"${PYTHON}" - "$other_hint" <<'PY'
import json, sys
b = json.load(open("m.sig"))
b["verificationMaterial"]["publicKey"]["hint"] = sys.argv[1]
json.dump(b, open("other-hint.sig", "w"))
del b["verificationMaterial"]["publicKey"]["hint"]
b["verificationMaterial"]["publicKey"]["rawBytes"] = ""
json.dump(b, open("no-hint.sig", "w"))
PY
	run --separate-stderr mreg verify --signature other-hint.sig --pubkey k.pub model
	assert_status 1
	assert_one_error "other-hint.sig: verificationMaterial.publicKey.hint: key mismatch: the bundle names the key ${other_hint:0:16}" "not the key k.pub"
	run --separate-stderr mreg verify --signature no-hint.sig --pubkey k.pub model
	assert_status 0
	run --separate-stderr mreg verify --signature no-hint.sig --pubkey o.pub model
	assert_status 1
	assert_one_error "no signature verifies with the key o.pub"
}
