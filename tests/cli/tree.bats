#!/usr/bin/env bats
# What goes in comes out: empty folders, modes and symbolic links that stay
# inside a model survive create -> download, package -> unpack, import and
# push -> pull; the content digest covers them (and a tree of files alone
# keeps the digest it always had); records written before they were recorded
# still read; a record or bundle whose link leads out is refused before
# anything is written.

load helpers
load registry

TREETOOL="${BATS_TEST_DIRNAME}/treetool.py"

setup() {
	setup_store
	# NVIDIA's ensembles: the version folder e/1 must exist, and is empty.
	mkdir -p repo/m/1 repo/e/1 repo/m/2
	: >repo/m/1/model.onnx
	cat >repo/m/config.pbtxt <<'CFG'
name: "m"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
CFG
	cat >repo/e/config.pbtxt <<'CFG'
name: "e"
platform: "ensemble"
max_batch_size: 4
input [ { name: "IN" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 16 ] } ]
ensemble_scheduling { step [ { model_name: "m" model_version: -1
  input_map { key: "INPUT0" value: "IN" } output_map { key: "OUTPUT0" value: "OUT" } } ] }
CFG
	printf '#!/bin/sh\necho warm\n' >repo/m/warmup.sh
	chmod 0755 repo/m/warmup.sh
	chmod 0750 repo/e/1
	ln -s ../1/model.onnx repo/m/2/model.onnx
	ln -s 1 repo/m/latest
}

teardown() {
	stop_registry
}

# assert_same SRC DST: the same tree, entry by entry (type, mode, size,
# sha256, link target), and `mreg validate` says the same of both.
assert_same() {
	local a b va vb
	a="$("$PYTHON" "$TREETOOL" list "$1")"
	b="$("$PYTHON" "$TREETOOL" list "$2")"
	if [[ "$a" != "$b" ]]; then
		diff <(echo "$a") <(echo "$b") >&2
		fail "$2 is not the tree $1 is"
		return 1
	fi
	va=0
	mreg validate -t triton_model "$1" >/dev/null 2>&1 || va=$?
	vb=0
	mreg validate -t triton_model "$2" >/dev/null 2>&1 || vb=$?
	[[ "$va" == "$vb" ]] || fail "validate: exit $va on $1, $vb on $2"
}

# A second, empty store: echo its MREG_DIR.
fresh_store() {
	local dir="${TEST_DIR}/$1/.mreg"
	MREG_DIR="$dir" "${MREG}" init >/dev/null || return 1
	echo "$dir"
}

@test "create records the empty folder (with its mode) and the links; show lists them" {
	run --separate-stderr mreg create -n ens -p repo -t triton_model
	assert_status 0
	rec="$(cat "$MREG_DIR/models/ens/1.yaml")"
	[[ "$(head -1 <<<"$rec")" == "format: 2" ]] || fail "no format line: $rec"
	assert_contains "$rec" $'dirs:\n- path: e/1\n  mode: "0750"\n'
	assert_contains "$rec" $'links:\n- path: m/2/model.onnx\n  target: ../1/model.onnx\n- path: m/latest\n  target: "1"\n'
	assert_contains "$rec" $'- path: m/warmup.sh\n  size: 20\n  mode: "0755"\n'
	run --separate-stderr mreg show ens:1
	assert_status 0
	assert_contains "$output" "in 4 files, 1 empty folder, 2 links"
	assert_contains "$output" "0750           -  e/1/            (empty folder)"
	assert_contains "$output" "link           -  m/latest        -> 1"
	run --separate-stderr mreg show ens:1 --json
	assert_status 0
	[[ "$(json_get 'd["dirs"]' <<<"$output")" == '[{"path": "e/1", "mode": "0750"}]' ]] ||
		fail "dirs in --json: $output"
	[[ "$(json_get '[l["target"] for l in d["links"]]' <<<"$output")" == '["../1/model.onnx", "1"]' ]] ||
		fail "links in --json: $output"
}

@test "the content digest follows mreg-store(5): files, empty folders and links" {
	run --separate-stderr mreg create -n ens -p repo -t triton_model
	assert_status 0
	digest="$(mreg show ens:1 --json | json_get 'd["digest"]')"
	[[ "$digest" == "$("$PYTHON" "$TREETOOL" digest repo)" ]] ||
		fail "mreg says $digest, the documented rule says $("$PYTHON" "$TREETOOL" digest repo)"
	# Two trees that differ only by an empty folder differ.
	rmdir repo/e/1
	run --separate-stderr mreg create -n ens -p repo -t triton_model --no-validate
	assert_status 0
	[[ "$(mreg show ens:2 --json | json_get 'd["digest"]')" != "$digest" ]] ||
		fail "the empty folder is not in the digest"
}

@test "a tree of files alone keeps the digest it always had (the README's churn:1)" {
	cp -R "${BATS_TEST_DIRNAME}/../../examples/churn-model" churn
	chmod 0644 churn/*
	run --separate-stderr mreg create -n churn -p churn
	assert_status 0
	assert_contains "$output" "sha256:5dbd8607f31c03b1c125c18b2bc65efcbe4a5f87be785a964ca98bddb6e8b8af"
	assert_not_contains "$(cat "$MREG_DIR/models/churn/1.yaml")" "dirs:"
	assert_not_contains "$(cat "$MREG_DIR/models/churn/1.yaml")" "links:"
}

@test "create -> download: the same tree (modes, empty folder, links), the same verdict" {
	run --separate-stderr mreg create -n ens -p repo -t triton_model
	assert_status 0
	run --separate-stderr mreg download ens:1 -o out
	assert_status 0
	assert_same repo out
	# Without the empty folder Triton would refuse the copy: make sure the check can tell.
	rmdir out/e/1
	run mreg validate -t triton_model out
	assert_status 1
	assert_contains "$output" "at least one version must be available"
}

@test "download into an existing folder: folders and links land beside what is there" {
	run --separate-stderr mreg create -n ens -p repo -t triton_model
	assert_status 0
	mkdir -p out/e out/unrelated
	: >out/notes.txt
	run --separate-stderr mreg download ens:1 -o out
	assert_status 0
	rm -r out/unrelated out/notes.txt
	assert_same repo out
	assert_no_staging .
}

@test "download into an existing folder: a link in the way is refused, nothing written" {
	run --separate-stderr mreg create -n ens -p repo -t triton_model
	assert_status 0
	mkdir out
	mkdir -p out/m
	ln -s elsewhere out/m/latest
	before="$(find out | sort)"
	run --separate-stderr mreg download ens:1 -o out
	assert_status 1
	assert_one_error "out/m/latest: already exists"
	[[ "$(find out | sort)" == "$before" ]] || fail "download wrote something: $(find out)"
}

@test "package -> unpack: the same tree, the same verdict; the bundle is reproducible" {
	run --separate-stderr mreg create -n ens -p repo -t triton_model
	assert_status 0
	run --separate-stderr mreg package ens:1 -o ens.tar
	assert_status 0
	run --separate-stderr mreg package ens:1 -o again.tar
	assert_status 0
	cmp ens.tar again.tar || fail "two packages of one version differ"
	run --separate-stderr mreg unpack ens.tar -o un
	assert_status 0
	assert_same repo un/model
	run --separate-stderr mreg verify ens.tar
	assert_status 0
}

@test "package -> import into a fresh store -> download: the same tree and digest" {
	run --separate-stderr mreg create -n ens -p repo -t triton_model
	assert_status 0
	digest="$(mreg show ens:1 --json | json_get 'd["digest"]')"
	run --separate-stderr mreg package ens:1 -o ens.tar
	assert_status 0
	export MREG_DIR="$(fresh_store other)"
	run --separate-stderr mreg import ens.tar
	assert_status 0
	[[ "$(mreg show ens:1 --json | json_get 'd["digest"]')" == "$digest" ]] || fail "digest changed"
	assert_contains "$(cat "$MREG_DIR/models/ens/1.yaml")" $'dirs:\n- path: e/1\n  mode: "0750"\n'
	run --separate-stderr mreg download ens:1 -o out
	assert_status 0
	assert_same repo out
	run --separate-stderr mreg fsck
	assert_status 0
}

@test "push -> pull into a fresh store -> download: the same tree, the same verdict" {
	start_registry
	run --separate-stderr mreg create -n ens -p repo -t triton_model
	assert_status 0
	run --separate-stderr mreg push ens:1 "$REG/team/ens" --plain-http
	assert_status 0
	export MREG_DIR="$(fresh_store other)"
	run --separate-stderr mreg pull "$REG/team/ens:1" --plain-http
	assert_status 0
	run --separate-stderr mreg download ens:1 -o out
	assert_status 0
	assert_same repo out
	# A second pull finds the version here already.
	run --separate-stderr mreg pull "$REG/team/ens:1" --plain-http
	assert_status 0
}

@test "a symlink with an absolute target inside the model is stored as a copy, with a note" {
	ln -s "$PWD/repo/m/config.pbtxt" repo/abs.pbtxt
	run --separate-stderr mreg create -n ens -p repo -t triton_model
	assert_status 0
	assert_contains "$stderr" "repo/abs.pbtxt: note: symlink to $PWD/repo/m/config.pbtxt is stored as a copy of what it points to"
	run --separate-stderr mreg download ens:1 -o out
	assert_status 0
	[[ -f out/abs.pbtxt && ! -L out/abs.pbtxt ]] || fail "abs.pbtxt is not a regular file"
	cmp out/abs.pbtxt repo/m/config.pbtxt
}

# Rewrite the record of ens:1 by the sed expression $1 (hand edits, records that came through git).
edit_record() {
	local rec="$MREG_DIR/models/ens/1.yaml"
	chmod u+w "$rec"
	sed -i "$1" "$rec"
}

@test "a record written before format 2 (no format, no dirs) reads, downloads, passes fsck" {
	cp -R "${BATS_TEST_DIRNAME}/../../examples/churn-model" churn
	chmod 0644 churn/*
	run --separate-stderr mreg create -n churn -p churn
	assert_status 0
	rec="$MREG_DIR/models/churn/1.yaml"
	sed -i '/^format: /d' "$rec"
	[[ "$(head -1 "$rec")" == "name: churn" ]] || fail "not an old record: $(cat "$rec")"
	run --separate-stderr mreg show churn:1
	assert_status 0
	run --separate-stderr mreg fsck
	assert_status 0
	run --separate-stderr mreg download churn:1 -o out
	assert_status 0
	assert_same churn out
	# Rewriting it (archive, restore) writes format 2 and changes nothing else.
	old="$(cat "$rec")"
	run --separate-stderr mreg archive churn:1
	assert_status 0
	run --separate-stderr mreg restore churn:1
	assert_status 0
	[[ "$(head -1 "$rec")" == "format: 2" ]] || fail "not rewritten as format 2"
	diff <(echo "$old") <(tail -n +2 "$rec") || fail "rewriting changed more than the format"
}

@test "a record of a format newer than this mreg is refused, saying so" {
	run --separate-stderr mreg create -n ens -p repo -t triton_model
	assert_status 0
	edit_record 's/^format: 2$/format: 3/'
	run --separate-stderr mreg show ens:1
	assert_status 2
	assert_one_error "record format 3 was written by a newer mreg (this one reads formats 1 to 2): upgrade mreg"
	run --separate-stderr mreg fsck
	assert_status 1
	assert_contains "$output$stderr" "record format 3"
}

@test "a record whose link leads out by its text: download refuses, writes nothing" {
	run --separate-stderr mreg create -n ens -p repo
	assert_status 0
	edit_record 's|^  target: "1"$|  target: ../../etc|'
	run --separate-stderr mreg download ens:1 -o out
	assert_status 1
	assert_one_error "symbolic link 'm/latest' -> '../../etc' does not stay inside the model"
	[[ ! -e out ]] || fail "download wrote out/"
	assert_no_staging .
}

@test "a record whose chain of links leads out is refused where it is read: fsck names it, download and package write nothing" {
	run --separate-stderr mreg create -n ens -p repo
	assert_status 0
	# e/1/up -> ../.. is the model's root: inside. current -> e/1/up/.. climbs
	# one level above it through that link, though each text stays inside.
	mkdir chain && cp -R repo/. chain/ && rm chain/m/latest
	ln -s ../.. chain/e/1/up && ln -s e/1/up/.. chain/current
	digest="$("$PYTHON" "$TREETOOL" digest chain)"
	edit_record "/^dirs:/,\$d;s|^digest: .*|digest: $digest|"
	cat >>"$MREG_DIR/models/ens/1.yaml" <<'EOF'
links:
- path: current
  target: e/1/up/..
- path: e/1/up
  target: ../..
- path: m/2/model.onnx
  target: ../1/model.onnx
EOF
	run --separate-stderr mreg fsck
	assert_status 1
	assert_contains "$output" "symbolic link 'current' -> 'e/1/up/..' leads above the model"
	run --separate-stderr mreg download ens:1 -o out
	assert_status 1
	assert_one_error "symbolic link 'current' -> 'e/1/up/..' leads above the model"
	[[ ! -e out ]] || fail "download wrote out/"
	assert_no_staging .
	run --separate-stderr mreg package ens:1 -o ens.tar
	assert_status 1
	assert_one_error "symbolic link 'current' -> 'e/1/up/..' leads above the model"
	[[ ! -e ens.tar ]] || fail "package wrote ens.tar"
}

@test "a bundle whose record has a link out: unpack, import and verify refuse it" {
	run --separate-stderr mreg create -n ens -p repo
	assert_status 0
	run --separate-stderr mreg package ens:1 -o good.tar
	assert_status 0
	"$PYTHON" "$TREETOOL" add-link good.tar evil.tar m/1/passwd ../../../../etc/passwd
	run --separate-stderr mreg unpack evil.tar -o un
	assert_status 1
	assert_one_error "symbolic link 'm/1/passwd' -> '../../../../etc/passwd' does not stay inside the model"
	[[ ! -e un ]] || fail "unpack wrote un/"
	export MREG_DIR="$(fresh_store other)"
	before="$(store_snapshot)"
	run --separate-stderr mreg import evil.tar
	assert_status 1
	assert_one_error "does not stay inside the model"
	assert_store_unchanged "$before"
	run --separate-stderr mreg verify evil.tar
	assert_status 1
	# The tool itself is sound: the same edit with a link that stays inside imports.
	"$PYTHON" "$TREETOOL" add-link good.tar fine.tar m/1/again model.onnx
	run --separate-stderr mreg import fine.tar
	assert_status 0
	run --separate-stderr mreg download ens:1 -o out
	assert_status 0
	[[ "$(readlink out/m/1/again)" == "model.onnx" ]] || fail "the link did not come out"
}
