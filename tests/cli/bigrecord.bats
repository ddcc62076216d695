#!/usr/bin/env bats
# A record of 100,000 files, more than create lets in, arriving as git brings
# it (written straight into the store): fsck and gc read it one file entry at
# a time (record_stream_file()), with the checks of the whole-record reader.

load helpers

FILES=100000

setup() {
	setup_store
	BIG="${MREG_DIR}/models/huge/1.yaml"
	# one blob in 1,000 present: 100 of the 100,000
	"${PYTHON}" "${BATS_TEST_DIRNAME}/bigrecord.py" "$MREG_DIR" huge "$FILES" --sample 1000 \
		>"${TEST_DIR}/present"
	LOOSE="${MREG_DIR}/blobs/sha256/$(printf 'loose\n' | sha256sum | cut -c1-64)"
	printf 'loose\n' >"$LOOSE"
}

@test "fsck on a 100,000-file record: the absent blobs counted, the limits named, nothing else" {
	run --separate-stderr mreg fsck
	assert_status 1
	assert_contains "$output" "huge:1: 99900 of 100000 files are not present in this store, e.g. 'f/000001.bin'"
	# over the limits: reported on the record's file, a warning
	assert_contains "$output" "${BIG}: warning: huge:1 is over mreg's limits for a version"
	assert_contains "$output" "the version would need a manifest of up to"
	assert_contains "$output" "note: 1 blob no record uses"
	run --separate-stderr mreg fsck --json
	assert_status 1
	[[ "$(json_get '[d["records"], d["blobs"], d["unreferenced"], sorted(x["code"] for x in d["diagnostics"])]' <<<"$output")" == \
		'[1, 101, 1, ["fsck-blobs-absent", "fsck-record-limits", "fsck-unreferenced"]]' ]] ||
		fail "unexpected findings: $output"
}

@test "gc with a 100,000-file record keeps every blob it names, removes the one nothing names" {
	run --separate-stderr mreg gc
	assert_status 0
	[[ ! -e "$LOOSE" ]] || fail "the unreferenced blob is still there"
	while read -r d; do
		[[ -f "${MREG_DIR}/blobs/sha256/${d#sha256:}" ]] || fail "gc removed $d, which the record names"
	done <"${TEST_DIR}/present"
	[[ "$(find "${MREG_DIR}/blobs/sha256" -type f | wc -l)" -eq 100 ]]
}

@test "fsck on a 100,000-file record whose content digest is wrong says so" {
	chmod u+w "$BIG"
	sed -i 's/^digest: sha256:.\{8\}/digest: sha256:00000000/' "$BIG"
	run --separate-stderr mreg fsck
	assert_status 1
	assert_contains "$output" "[fsck-record-digest]"
}

# One bad entry near the end of the list: the whole-record reader's words, with
# the entry's line, from fsck; gc refuses and removes nothing.
bad_entry() { # ENTRY:KIND PLACE TEXT: the error is PLACE: TEXT
	rm -f "$BIG"
	"${PYTHON}" "${BATS_TEST_DIRNAME}/bigrecord.py" "$MREG_DIR" huge "$FILES" --bad "$1" >/dev/null
	run --separate-stderr mreg fsck
	assert_status 1
	assert_contains "$output" "$2: error: $3"
	run --separate-stderr mreg fsck --json
	[[ "$(json_get '[x["code"] for x in d["diagnostics"] if x["severity"] == "error"]' <<<"$output")" == '["fsck-record"]' ]] ||
		fail "expected the record reported damaged, and only that: $output"
	run --separate-stderr mreg gc
	assert_status 1
	assert_contains "$stderr" "1 record cannot be read, so gc cannot tell which blobs are in use; nothing removed"
	[[ -f "$LOOSE" ]] || fail "gc removed a blob although a record could not be read"
	# the whole-record reader (show) says the same
	run --separate-stderr mreg show huge:1
	[[ "$status" -ne 0 ]] || fail "show read a damaged record"
	assert_contains "$stderr" "$2: $3"
}

@test "a bad digest in entry 99,998 of 100,000: named with its line, gc refuses" {
	# entry k starts on line 15 + 4k; its digest is its fourth line
	bad_entry 99998:digest "${BIG}:$((15 + 4 * 99998 + 3)):11" \
		"field 'digest' must be sha256: and 64 lowercase hex digits"
}

@test "a file under another file at entry 99,990: named, gc refuses" {
	bad_entry 99990:under "$BIG" "'f/099989.bin/inner.bin' lies under the file 'f/099989.bin'"
}

@test "entries out of order at entry 99,995: named with its line, gc refuses" {
	bad_entry 99995:order "${BIG}:$((15 + 4 * 99995)):3" \
		"files are not sorted by path, or 'f/099993.bin' is listed twice"
}
