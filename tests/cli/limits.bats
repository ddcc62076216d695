#!/usr/bin/env bats
# One set of limits (include/mreg/limits.h, mreg-store(5) LIMITS), checked
# where a version comes in: create (flags and model.yml), update, import and
# pull refuse what a bundle or a registry could not hold, with the field and
# the limit named and the store untouched; whatever gets in packages,
# verifies, imports and pushes, even at the limit.

load helpers
load registry

setup() {
	setup_store
	make_model model
}

teardown() {
	stop_registry
}

# A string of N copies of CHAR.
repeat() {
	head -c "$2" /dev/zero | tr '\0' "$1"
}

@test "create -f: a 20 MiB description is refused at the door, naming file, line, field and limit; store untouched" {
	"$PYTHON" -c '
import sys
with open("model.yml", "w") as f:
    f.write("name: churn\nversion: \"1\"\npath: model\ndescription: " + "x" * (20 << 20) + "\n")
'
	before="$(store_snapshot)"
	run --separate-stderr mreg create -f model.yml
	assert_status 1
	assert_contains "$stderr" "model.yml:4:14: error: description is 20971520 bytes; a version's description is at most 65536 bytes [yml-limit]"
	assert_store_unchanged "$before"
	[[ "$(blob_count)" -eq 0 ]]
}

@test "create: description, stage, tag and property keys and values, tag count over their limits: exit 1, each named" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p model --description "$(repeat d 65537)"
	assert_status 1
	assert_one_error "description is 65537 bytes; a version's description is at most 65536 bytes"
	run --separate-stderr mreg create -n m -p model --stage "$(repeat s 257)"
	assert_status 1
	assert_one_error "stage is 257 bytes; a version's stage is at most 256 bytes"
	run --separate-stderr mreg create -n m -p model --tag "$(repeat k 257)=v"
	assert_status 1
	assert_one_error "the key is 257 bytes; a tag's key is at most 256 bytes"
	run --separate-stderr mreg create -n m -p model --property "auc=$(repeat 9 16385)"
	assert_status 1
	assert_one_error "property 'auc': the value is 16385 bytes; a property's value is at most 16384 bytes"
	args=()
	for i in $(seq 1001); do args+=(--tag "k$i=v"); done
	run --separate-stderr mreg create -n m -p model "${args[@]}"
	assert_status 1
	assert_one_error "1001 tags; a version has at most 1000 tags"
	assert_store_unchanged "$before"
	# At the limits, each is taken.
	run --separate-stderr mreg create -n m -p model --description "$(repeat d 65536)" \
		--stage "$(repeat s 256)" --tag "$(repeat k 256)=$(repeat v 16384)"
	assert_status 0
}

@test "create: more files than one manifest holds is refused before any file is stored, naming the count and 4 MiB" {
	"$PYTHON" -c '
import os
os.makedirs("many")
for i in range(9000):
    with open("many/f%05d" % i, "w") as f:
        f.write("x")
'
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n many -p many
	assert_status 1
	assert_contains "$stderr" "the version would need a manifest of up to"
	assert_contains "$stderr" "more than the 4194304 (4 MiB) registries accept: its record"
	assert_contains "$stderr" "its 9000 files"
	assert_store_unchanged "$before"
	[[ "$(blob_count)" -eq 0 ]]
}

@test "update: a description over the limit, a tag past the count: exit 1, the record unchanged" {
	args=()
	for i in $(seq 1000); do args+=(--tag "k$i=v"); done
	run --separate-stderr mreg create -n m -p model "${args[@]}"
	assert_status 0
	before="$(store_snapshot)"
	run --separate-stderr mreg update m:1 --description "$(repeat d 70000)"
	assert_status 1
	assert_one_error "description is 70000 bytes; a version's description is at most 65536 bytes"
	run --separate-stderr mreg update m:1 --tag one=more
	assert_status 1
	assert_one_error "1001 tags; a version has at most 1000 tags"
	assert_store_unchanged "$before"
	# Replacing a tag keeps the count: fine.
	run --separate-stderr mreg update m:1 --tag k1=w
	assert_status 0
}

# model.yml for churn:1 with the longest description (quotes and backslashes,
# which JSON doubles) and 1000 tags of VALUE bytes each.
big_yml() {
	"$PYTHON" - "$1" <<'PY'
import sys
value = int(sys.argv[1])
desc = ('say "hi" \\ ' * 7000)[:65536]
with open("model.yml", "w") as f:
    f.write("name: churn\nversion: \"1\"\npath: model\n")
    f.write("description: '" + desc.replace("'", "''") + "'\n")
    f.write("tags:\n")
    for i in range(1000):
        f.write('  t%04d: "%s"\n' % (i, "v" * value))
PY
}

@test "the biggest version the limits let in packages, verifies, imports and pushes (a manifest near 4 MiB); a bit more is refused" {
	# The largest tag value (in steps of 50 bytes) create takes with that description.
	value=4100
	while :; do
		big_yml "$value"
		run --separate-stderr mreg create -f model.yml
		[[ "$status" -eq 0 ]] && break
		assert_status 1
		assert_contains "$stderr" "the version would need a manifest of up to"
		value=$((value - 50))
		[[ "$value" -gt 2000 ]] || fail "nothing was taken"
	done
	[[ "$value" -lt 4100 ]] || fail "the first try was taken: the test does not reach the limit"
	run --separate-stderr mreg package churn:1 -o churn.tar
	assert_status 0
	size="$("$PYTHON" -c '
import json, sys, tarfile
t = tarfile.open("churn.tar")
m = json.load(t.extractfile("index.json"))["manifests"][0]
print(m["size"])
')"
	echo "# tag values of $value bytes: manifest of $size bytes" >&3
	[[ "$size" -le 4194304 ]] || fail "a manifest of $size bytes"
	[[ "$size" -gt 3500000 ]] || fail "a manifest of only $size bytes: not at the limit"
	run --separate-stderr mreg verify churn.tar
	assert_status 0
	other="${TEST_DIR}/other/.mreg"
	MREG_DIR="$other" "${MREG}" init >/dev/null
	run --separate-stderr env MREG_DIR="$other" "${MREG}" import churn.tar
	assert_status 0
	start_registry
	run --separate-stderr mreg push churn:1 "$REG/team/churn" --plain-http
	assert_status 0
	run --separate-stderr env MREG_DIR="$other" "${MREG}" pull "$REG/team/churn:1" --plain-http \
		-n pulled
	assert_status 0
}

# A record as an older mreg wrote it, with a 5 MiB description.
legacy_record() {
	run --separate-stderr mreg create -n old -p model
	assert_status 0
	"$PYTHON" - "${MREG_DIR}/models/old/1.yaml" <<'PY'
import sys
p = sys.argv[1]
text = open(p).read()
open(p, "w").write(text.replace("tags: {}", "description: " + "x" * (5 << 20) + "\ntags: {}"))
PY
	run --separate-stderr mreg show old:1 --json
	assert_status 0
}

@test "a version from before the limits: package and push refuse it before writing or sending anything; update may shorten it, not grow it" {
	legacy_record
	run --separate-stderr mreg package old:1 -o old.tar
	assert_status 1
	assert_one_error "old:1: its manifest would be"
	assert_contains "$stderr" "more than the 4194304 (4 MiB) registries accept"
	[[ ! -e old.tar ]] || fail "package wrote old.tar"
	start_registry
	run --separate-stderr mreg push old:1 "$REG/team/old" --plain-http
	assert_status 1
	assert_one_error "old:1: its manifest would be"
	[[ -z "$(find "$REG_DIR/data" -type f -name data)" ]] || fail "push sent blobs"
	# An update that makes it larger is refused, naming what is over; one
	# that brings it back within the limits is taken.
	run --separate-stderr mreg update old:1 --tag reviewed=yes
	assert_status 1
	assert_one_error "description is 5242880 bytes; a version's description is at most 65536 bytes"
	run --separate-stderr mreg update old:1 --description short
	assert_status 0
	run --separate-stderr mreg push old:1 "$REG/team/old" --plain-http
	assert_status 0
}

@test "import: a bundle whose record breaks a limit is refused before its layers are read; the store untouched" {
	run --separate-stderr mreg create -n m -p model --description short
	assert_status 0
	run --separate-stderr mreg package m:1 -o m.tar
	assert_status 0
	# The record annotation, as an older mreg or another tool could write it.
	"$PYTHON" - m.tar <<'PY'
import hashlib, io, json, sys, tarfile
src = sys.argv[1]
with tarfile.open(src) as t:
    files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
index = json.loads(files["index.json"])
old = index["manifests"][0]["digest"].split(":")[1]
manifest = json.loads(files["blobs/sha256/" + old])
rec = json.loads(manifest["annotations"]["org.mreg.record+json"])
rec["description"] = "y" * 70000
manifest["annotations"]["org.mreg.record+json"] = json.dumps(rec)
data = json.dumps(manifest).encode()
new = hashlib.sha256(data).hexdigest()
del files["blobs/sha256/" + old]
files["blobs/sha256/" + new] = data
index["manifests"][0]["digest"] = "sha256:" + new
index["manifests"][0]["size"] = len(data)
files["index.json"] = json.dumps(index).encode()
with tarfile.open("long.tar", "w") as t:
    for name in ["oci-layout", "index.json"] + sorted(n for n in files if n.startswith("blobs/")):
        info = tarfile.TarInfo(name)
        info.size = len(files[name])
        t.addfile(info, io.BytesIO(files[name]))
PY
	other="${TEST_DIR}/other/.mreg"
	MREG_DIR="$other" "${MREG}" init >/dev/null
	before="$(store_snapshot "$other")"
	run --separate-stderr env MREG_DIR="$other" "${MREG}" import long.tar
	assert_status 1
	assert_one_error "long.tar: description is 70000 bytes; a version's description is at most 65536 bytes"
	[[ "$(store_snapshot "$other")" == "$before" ]] || fail "the store changed"
}
