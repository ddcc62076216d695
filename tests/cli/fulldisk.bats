#!/usr/bin/env bats
# A real full disk: the store (or the output) on a small tmpfs, filled up to
# the last byte or to less than the command needs, during each write command.
# Each must fail with a message saying the disk is full, leave the store as it
# was (fsck clean, the earlier version downloads identical), and succeed once
# there is room again. Needs mount(8) of a tmpfs (root); skipped otherwise.

load helpers
load registry

setup() {
	common_setup
	DISK="${TEST_DIR}/disk"
	mkdir -p "$DISK"
	mount -t tmpfs -o size=24m,mode=0755 mreg-test-disk "$DISK" 2>/dev/null ||
		skip "cannot mount a tmpfs here (needs root): the full-disk tests are skipped"
	export MREG_DIR="${DISK}/.mreg"
	run --separate-stderr mreg init
	assert_status 0
	make_model model
	head -c $((4 * 1024 * 1024)) /dev/urandom >model/weights.bin
	run --separate-stderr mreg create -n m -p model
	assert_status 0
	# the next version: other content, 6 MiB
	make_model model2
	head -c $((6 * 1024 * 1024)) /dev/urandom >model2/weights.bin
}

teardown() {
	stop_registry
	if [[ -n "${DISK:-}" ]] && mountpoint -q "$DISK"; then
		umount "$DISK" || umount -l "$DISK"
	fi
}

# fill FREE_KB: fill the disk, then give FREE_KB back.
fill() {
	dd if=/dev/zero of="$DISK/filler" bs=64k status=none 2>/dev/null || true
	if [[ "$1" -gt 0 ]]; then
		truncate -s "-$(($1 * 1024))" "$DISK/filler"
	fi
}

unfill() {
	rm -f "$DISK/filler"
}

# full_disk_run FREE_KB CMD...: with the disk full (FREE_KB left), CMD fails
# saying so, and the store is as before; then, with room, it succeeds.
full_disk_run() {
	local free="$1" before
	shift
	before="$(store_snapshot)"
	fill "$free"
	run --separate-stderr "$@"
	unfill
	if [[ "$status" -eq 0 ]]; then
		fail "$* succeeded on a full disk ($free KiB free)"
		return 1
	fi
	assert_status 2
	assert_one_error "No space left on device"
	assert_store_unchanged "$before"
	run --separate-stderr mreg fsck
	assert_status 0
	rm -rf "${TEST_DIR}/check"
	run --separate-stderr mreg download m:1 -o "${TEST_DIR}/check"
	assert_status 0
	cmp model/weights.bin "${TEST_DIR}/check/weights.bin" || fail "m:1 downloads different"
	run --separate-stderr "$@"
	assert_status 0
}

@test "full disk: create fails cleanly (0 KiB and 2 MiB free), then succeeds" {
	full_disk_run 0 mreg create -n m -p model2
	mreg delete m:2 >/dev/null
	mreg gc >/dev/null
	full_disk_run 2048 mreg create -n m -p model2
	[[ "$(mreg list -n m | awk 'NR > 1 { print $2 }' | tr '\n' ' ')" == "1 3 " ]]
}

@test "full disk: import fails cleanly, then succeeds" {
	mkdir other
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" init >/dev/null
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" create -n x -p model2 >/dev/null
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" package x:1 -o x.tar >/dev/null
	full_disk_run 0 mreg import x.tar -v a
	# without x:a's blobs, so that the next import needs the room again
	mreg delete x:a >/dev/null
	mreg gc >/dev/null
	full_disk_run 3072 mreg import x.tar -v b
}

@test "full disk: pull fails cleanly, then succeeds" {
	mkdir other
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" init >/dev/null
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" create -n x -p model2 >/dev/null
	start_registry
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" push x:1 "$REG/team/x" --plain-http >/dev/null ||
		fail "push failed"
	full_disk_run 0 mreg pull "$REG/team/x:1" --plain-http -v a
	# without x:a's blobs, so that the next pull needs the room again
	mreg delete x:a >/dev/null
	mreg gc >/dev/null
	full_disk_run 3072 mreg pull "$REG/team/x:1" --plain-http -v b
}

@test "full disk: update and delete fail cleanly, then succeed" {
	full_disk_run 0 mreg update m:1 --tag team=vision --description "new words"
	mreg create -n m -p model2 >/dev/null
	full_disk_run 0 mreg delete m:2
}

@test "full disk: download and package onto the full disk fail cleanly, leave nothing, then succeed" {
	full_disk_run 0 mreg download m:1 -o "$DISK/out"
	full_disk_run 2048 mreg download m:1 -o "$DISK/out2"
	assert_no_staging "$DISK"
	full_disk_run 2048 mreg package m:1 -o "$DISK/m.tar"
	[[ -z "$(compgen -G "$DISK/.m.tar.mreg-package-*")" ]] || fail "package left its temporary file"
}

@test "full disk: gc on a full disk removes what it can and tells the truth" {
	mreg create -n m -p model2 >/dev/null
	mreg delete m:2 >/dev/null
	fill 0
	run --separate-stderr mreg gc
	unfill
	assert_status 0
	assert_contains "$output" "removed 1 blob"
	run --separate-stderr mreg fsck
	assert_status 0
	assert_contains "$output" ": 0 problems"
}
