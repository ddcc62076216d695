#!/usr/bin/env bats
# One blob per distinct content: identical content costs nothing the second time.

load helpers

setup() {
	setup_store
	make_model model
}

@test "registering identical content again adds no blob" {
	mreg create -n churn -p model >/dev/null
	[[ "$(blob_count)" -eq 3 ]]
	before="$(find "${MREG_DIR}/blobs" -type f -printf '%p %i %s\n' | sort)"
	run --separate-stderr mreg create -n churn -p model
	assert_status 0
	[[ "$output" == "created churn:2 "* ]]
	[[ "$(blob_count)" -eq 3 ]]
	# not rewritten either: same inodes
	[[ "$(find "${MREG_DIR}/blobs" -type f -printf '%p %i %s\n' | sort)" == "$before" ]]
	# nor under another name, nor from a copy elsewhere
	cp -a model copy
	mreg create -n other -p copy >/dev/null
	[[ "$(blob_count)" -eq 3 ]]
	[[ -z "$(find "${MREG_DIR}/tmp" -type f ! -name '*.lock')" ]]
}

@test "two versions sharing a file store it once" {
	mreg create -n churn -p model >/dev/null
	printf 'weights v2\n' >model/a.txt
	mreg create -n churn -p model >/dev/null
	# a.txt twice (v1, v2); b.bin and c.json once each
	[[ "$(blob_count)" -eq 4 ]]
	j1="$(mreg show churn:1 --json)"
	j2="$(mreg show churn:2 --json)"
	[[ "$(json_get 'd["files"][1]["digest"]' <<<"$j1")" == "$(json_get 'd["files"][1]["digest"]' <<<"$j2")" ]]
	# every referenced blob exists once, named by its digest
	for d in $(json_get '" ".join(sorted(set(f["digest"] for f in d["files"])))' <<<"$j1") \
		$(json_get '" ".join(sorted(set(f["digest"] for f in d["files"])))' <<<"$j2"); do
		[[ -f "${MREG_DIR}/blobs/sha256/${d#sha256:}" ]]
	done
}

@test "identical files inside one model are stored once" {
	cp model/a.txt model/a-copy.txt
	cp model/a.txt model/sub/a-again.txt
	mreg create -n churn -p model >/dev/null
	[[ "$(blob_count)" -eq 3 ]]
	[[ "$(mreg show churn:1 --json | json_get 'len(d["files"])')" == 5 ]]
	mreg download churn:1 -o out >/dev/null
	assert_same_tree model out
}

@test "a file differing only in mode shares the blob" {
	mreg create -n churn -p model >/dev/null
	chmod 0700 model/a.txt
	mreg create -n churn -p model >/dev/null
	[[ "$(blob_count)" -eq 3 ]]
	[[ "$(mreg show churn:2 --json | json_get 'd["files"][0]["mode"]')" == 0700 ]]
	mreg download churn:2 -o out >/dev/null
	[[ "$(stat -c %a out/a.txt)" == 700 ]]
}
