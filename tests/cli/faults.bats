#!/usr/bin/env bats
# A failing disk, one call at a time (the LD_PRELOAD shim of tests/fault/):
# the exit status tells the truth. Once a record is in place the change
# stands, so an fsync that fails after it is a warning and the command
# succeeds; a failure before it is an error and the store is as before.
# tests/cli/fault_sweep.bats (slow suite) fails every call in turn.

load helpers
load fault
load registry

setup() {
	require_shim
	setup_store
	make_model model
	run --separate-stderr mreg create -n m -p model
	assert_status 0
}

teardown() {
	stop_registry
}

# The versions of model m, sorted: "1 2".
versions() {
	mreg list -n m --all --json | json_get '" ".join(sorted((r["version"] for r in d), key=int))'
}

assert_fsck_clean() {
	run --separate-stderr mreg fsck --json
	assert_status 0
	[[ "$(json_get 'd["problems"]' <<<"$output")" == 0 ]] || fail "fsck: $output"
}

# stderr is exactly the durability warning for WHAT ("m:2 is registered"),
# besides create's note when the version repeats an earlier one's content.
assert_durability_warning() {
	local lines
	lines="$(grep -vc '^mreg: note: same content as ' <<<"$stderr")"
	[[ "$lines" -eq 1 ]] || fail "expected one warning line, got: $stderr"
	assert_contains "$stderr" "mreg: warning: ${MREG_DIR}/models/m: fsync: Input/output error: $1, but the disk did not confirm it is durable"
}

@test "create: the models/NAME fsync fails after the record is in place: exit 0 and a warning, the version is there once" {
	run --separate-stderr faulty fsync 1 EIO "/models/m" -- create -n m -p model
	fault_injected || fail "no fsync of models/m happened"
	assert_status 0
	[[ "$output" == "created m:2 "* ]] || fail "stdout: $output"
	assert_durability_warning "m:2 is registered"
	[[ "$(versions)" == "1 2" ]] || fail "versions: $(versions)"
	assert_fsck_clean
	run --separate-stderr mreg download m:2 -o out
	assert_status 0
	assert_same_tree model out
}

@test "create: the record's own fsync fails before it is in place: exit 2, no new version, the store as before" {
	before="$(store_snapshot)"
	run --separate-stderr faulty fsync 1 EIO "/tmp/write-" -- create -n m -p model
	fault_injected || fail "no fsync of the record's temporary file happened"
	assert_status 2
	assert_one_error "fsync" "Input/output error"
	[[ "$(versions)" == "1" ]] || fail "versions: $(versions)"
	assert_store_unchanged "$before"
	assert_fsck_clean
	run --separate-stderr mreg create -n m -p model
	assert_status 0
	[[ "$output" == "created m:2 "* ]]
}

@test "update: the fsync after the record is replaced fails: exit 0, a warning, the change is there" {
	run --separate-stderr faulty fsync 1 EIO "/models/m" -- update m:1 --tag team=vision
	fault_injected
	assert_status 0
	assert_durability_warning "m:1 is changed"
	run --separate-stderr mreg show m:1 --json
	[[ "$(json_get 'd["tags"]["team"]' <<<"$output")" == vision ]] || fail "show: $output"
	assert_fsck_clean
}

@test "archive: the fsync after the record is replaced fails: exit 0, a warning, the version is archived" {
	run --separate-stderr faulty fsync 1 EIO "/models/m" -- archive m:1
	fault_injected
	assert_status 0
	assert_durability_warning "m:1 is changed"
	run --separate-stderr mreg show m:1 --json
	[[ "$(json_get 'd["archived"]' <<<"$output")" == true ]] || fail "show: $output"
}

@test "delete: the fsync after the record is gone fails: exit 0, a warning, the version is gone" {
	mreg create -n m -p model >/dev/null
	# the first fsync of models/m is the tombstone's, the second the record's removal
	run --separate-stderr faulty fsync 2 EIO "/models/m" -- delete m:2
	fault_injected
	assert_status 0
	assert_durability_warning "m:2 is deleted"
	[[ "$(versions)" == "1" ]] || fail "versions: $(versions)"
	assert_fsck_clean
}

@test "import: the models/NAME fsync fails after the record is in place: exit 0, a warning, imported once" {
	run --separate-stderr mreg package m:1 -o m.tar
	assert_status 0
	run --separate-stderr faulty fsync 1 EIO "/models/m" -- import m.tar -v 7
	fault_injected
	assert_status 0
	assert_durability_warning "m:7 is registered"
	[[ "$(versions)" == "1 7" ]] || fail "versions: $(versions)"
	assert_fsck_clean
	# the retry a user would make finds the version there, the same content
	run --separate-stderr mreg import m.tar -v 7
	assert_status 0
	[[ "$(versions)" == "1 7" ]] || fail "versions: $(versions)"
}

@test "pull: the models/NAME fsync fails after the record is in place: exit 0, a warning, pulled once" {
	start_registry
	run --separate-stderr mreg push m:1 "$REG/team/m" --plain-http
	assert_status 0
	run --separate-stderr faulty fsync 1 EIO "/models/m" -- pull "$REG/team/m:1" --plain-http -v 9
	fault_injected
	assert_status 0
	assert_durability_warning "m:9 is registered"
	[[ "$(versions)" == "1 9" ]] || fail "versions: $(versions)"
	assert_fsck_clean
}

@test "gc: a leftover in tmp/ that cannot be removed: exit 2 saying so, not 'removed 1 leftover'" {
	mkdir -p "${MREG_DIR}/tmp/import-abc123"
	echo partial >"${MREG_DIR}/tmp/import-abc123/0123"
	run --separate-stderr faulty unlink 1 EACCES "/tmp/import-abc123" -- gc
	fault_injected
	assert_status 2
	assert_one_error "a leftover of an interrupted write cannot be removed (0 blobs and 0 leftovers removed before)" \
		"import-abc123" "Permission denied"
	[[ -d "${MREG_DIR}/tmp/import-abc123" ]]
	run --separate-stderr mreg gc
	assert_status 0
	assert_contains "$output" "and 1 leftover of interrupted writes"
	[[ ! -e "${MREG_DIR}/tmp/import-abc123" ]]
}
