#!/usr/bin/env bats
# mreg download's ways to put a file in place (issue 16, item 4): a reflink
# where the filesystem can (checked on a loop-mounted XFS image with
# reflink=1 that this file makes), else copy_file_range verified in the same
# pass, else read/write; --link reflink|copy|hardlink; --sync.
# The XFS and tmpfs tests need mount(8) with a loop device (root); they are
# skipped, with the reason, where that is not permitted.

load helpers
load fault

setup_file() {
	export ZC_XFS="" ZC_TMPFS="" ZC_SKIP=""
	local base="${BATS_FILE_TMPDIR}"
	if ! command -v mkfs.xfs >/dev/null; then
		ZC_SKIP="mkfs.xfs is not installed (xfsprogs)"
		return 0
	fi
	truncate -s 300M "${base}/xfs.img"
	mkfs.xfs -q -m reflink=1 "${base}/xfs.img" || { ZC_SKIP="mkfs.xfs failed"; return 0; }
	mkdir -p "${base}/xfs" "${base}/tmpfs"
	if ! mount -o loop "${base}/xfs.img" "${base}/xfs" 2>/dev/null; then
		ZC_SKIP="cannot loop-mount an XFS image here (needs root and loop devices)"
		return 0
	fi
	ZC_XFS="${base}/xfs"
	if mount -t tmpfs -o size=32m mreg-zc-tmpfs "${base}/tmpfs" 2>/dev/null; then
		ZC_TMPFS="${base}/tmpfs"
	fi
}

teardown_file() {
	local m
	for m in "${BATS_FILE_TMPDIR}/xfs" "${BATS_FILE_TMPDIR}/tmpfs"; do
		if mountpoint -q "$m"; then
			umount "$m" || umount -l "$m"
		fi
	done
}

setup() {
	setup_store
	mkdir -p model/sub
	head -c 3000000 /dev/urandom >model/big.bin
	printf 'small\n' >model/sub/s.txt
	: >model/empty
	chmod 0755 model/big.bin
	mreg create -n m -p model >/dev/null
}

need_xfs() {
	[[ -n "$ZC_XFS" ]] || skip "$ZC_SKIP"
}

# A store and a model on the XFS image, in a folder of this test's own.
xfs_store() {
	need_xfs
	X="${ZC_XFS}/${BATS_TEST_NUMBER}"
	mkdir -p "$X"
	cp -a model "$X/model"
	export MREG_DIR="$X/.mreg"
	mreg init >/dev/null
	mreg create -n m -p "$X/model" >/dev/null
}

# strace FILE ARGS...: mreg under strace -f, the calls to FILE. LeakSanitizer
# cannot run under ptrace: an ASan build skips the leak check here (the other
# tests keep it).
traced() {
	local log="$1"
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+${ASAN_OPTIONS}:}detect_leaks=0" \
		strace -f -qq -o "$log" "$@"
}

# Physical start of the first extent of FILE, from filefrag -v.
first_extent() {
	filefrag -v "$1" | awk '$1 == "0:" { print $4; exit }'
}

blob_of() {
	echo "${MREG_DIR}/blobs/sha256/$(sha256sum "$1" | cut -d' ' -f1)"
}

# The fallback tests are about a filesystem that cannot reflink.
need_no_reflink_here() {
	case "$(stat -f -c %T .)" in
	xfs | btrfs) skip "the test folder is on $(stat -f -c %T .), which may reflink" ;;
	esac
}

@test "default filesystem: no reflink, so copy_file_range copies and every file is verified" {
	need_no_reflink_here
	run --separate-stderr traced trace.log -e trace=ioctl,copy_file_range "$MREG" download m -o out --json
	assert_status 0
	[[ "$(json_get "d['copied']" <<<"$output")" == 3 ]]
	[[ "$(json_get "d['reflinked']" <<<"$output")" == 0 ]]
	[[ "$(json_get "d['verified']" <<<"$output")" == true ]]
	assert_same_tree model out
	# FICLONE was asked once, refused, and not asked again; the bytes went by copy_file_range
	[[ "$(grep -c 'FICLONE' trace.log)" -eq 1 ]] || { cat trace.log >&2; fail "FICLONE not tried once"; }
	grep -q 'FICLONE.*= -1 E' trace.log || fail "FICLONE did not fail here"
	# (threads: a call may be split into "<unfinished ...>" and "<... resumed>")
	grep -qE '(copy_file_range\(|copy_file_range resumed>).*= [1-9]' trace.log ||
		fail "copy_file_range copied nothing"
	assert_no_staging .
}

@test "copy_file_range refused (EXDEV, through the fault shim): the chunk is written instead, verified" {
	require_shim
	head -c 20000000 /dev/urandom >model/large.bin
	mreg create -n m -p model >/dev/null
	run --separate-stderr faulty copy 1 EXDEV "${TEST_DIR}" -- download m:2 -o out --link copy --json
	assert_status 0
	fault_injected || fail "no copy_file_range call to fail"
	[[ "$(json_get "d['copied']" <<<"$output")" == 4 ]]
	assert_same_tree model out
	# after a chunk was copied, EXDEV is an error like any other: nothing is left
	# (one file of 20 MB: 8 MiB per copy_file_range, so the second call is its second chunk)
	rm -rf out
	mkdir one && cp model/large.bin one/
	mreg create -n one -p one >/dev/null
	run --separate-stderr faulty copy 2 EXDEV "${TEST_DIR}" -- download one -o out --link copy
	assert_status 2
	assert_contains "$stderr" "copy_file_range"
	[[ ! -e out ]]
	assert_no_staging .
}

@test "default filesystem: a byte flipped in the middle of a large blob is refused, nothing left" {
	need_no_reflink_here
	head -c 20000000 /dev/urandom >model/large.bin
	mreg create -n m -p model >/dev/null
	local blob
	blob="$(blob_of model/large.bin)"
	chmod u+w "$blob"
	printf 'X' | dd of="$blob" bs=1 seek=12345678 conv=notrunc status=none
	chmod u-w "$blob"
	run --separate-stderr mreg download m:2 -o out
	assert_status 1
	assert_contains "$stderr" "large.bin"
	assert_contains "$stderr" "does not match its digest"
	[[ ! -e out ]]
	assert_no_staging .
}

@test "--link reflink on a filesystem that cannot: a clear error, nothing written" {
	need_no_reflink_here
	run --separate-stderr mreg download m -o out --link reflink
	[[ "$status" -ne 0 ]] || fail "--link reflink succeeded on $(stat -f -c %T .)"
	assert_contains "$stderr" "--link reflink: cannot reflink"
	assert_contains "$stderr" "leave --link out to copy"
	[[ ! -e out ]]
	assert_no_staging .
}

@test "--link reflink on tmpfs: a clear error, nothing written" {
	need_xfs
	[[ -n "$ZC_TMPFS" ]] || skip "cannot mount a tmpfs here"
	local T="${ZC_TMPFS}/${BATS_TEST_NUMBER}"
	mkdir -p "$T"
	cp -a model "$T/model"
	export MREG_DIR="$T/.mreg"
	mreg init >/dev/null
	mreg create -n m -p "$T/model" >/dev/null
	run --separate-stderr mreg download m -o "$T/out" --link reflink
	[[ "$status" -ne 0 ]] || fail "--link reflink succeeded on tmpfs"
	assert_contains "$stderr" "--link reflink: cannot reflink"
	[[ ! -e "$T/out" ]]
	assert_no_staging "$T"
}

@test "--link is one of reflink, copy, hardlink" {
	run --separate-stderr mreg download m -o out --link symlink
	assert_status 2
	assert_contains "$stderr" "--link: give reflink, copy or hardlink, not 'symlink'"
	[[ ! -e out ]]
}

@test "--sync fsyncs every file and folder; without it there is no fsync at all" {
	run --separate-stderr traced nosync.log -e trace=fsync,fdatasync,sync_file_range,syncfs \
		"$MREG" download m -o a
	assert_status 0
	if grep -E 'fsync|fdatasync|sync_file_range|syncfs' nosync.log; then
		fail "download without --sync forced something to the disk"
	fi
	run --separate-stderr traced sync.log -e trace=fsync "$MREG" download m -o b --sync
	assert_status 0
	assert_contains "$output" "synced to disk"
	# 3 files, then b/sub, b and its parent
	[[ "$(grep -cE '^[0-9]* *(fsync\(|<\.\.\. fsync resumed>).*= 0' sync.log)" -ge 6 ]] || { cat sync.log >&2; fail "too few fsyncs"; }
	assert_same_tree model b
}

@test "--link hardlink: link count 2, the warning, read-only files" {
	run --separate-stderr mreg download m -o out --link hardlink --json
	assert_status 0
	assert_contains "$stderr" "warning: --link hardlink"
	assert_contains "$stderr" "editing one in place"
	assert_contains "$stderr" "would damage the store"
	[[ "$(json_get "d['hardlinked']" <<<"$output")" == 3 ]]
	[[ "$(stat -c %h out/big.bin)" == 2 ]]
	[[ "$(stat -c %i out/big.bin)" == "$(stat -c %i "$(blob_of model/big.bin)")" ]]
	[[ "$(stat -c %a out/big.bin)" == 444 ]]
	cmp model/big.bin out/big.bin
	assert_no_staging .
}

@test "--link hardlink across filesystems: refused, naming the store and the target" {
	need_xfs
	run --separate-stderr mreg download m -o "${ZC_XFS}/hl-${BATS_TEST_NUMBER}" --link hardlink
	[[ "$status" -ne 0 ]] || fail "a hard link across filesystems succeeded"
	assert_contains "$stderr" "different filesystems"
	assert_contains "$stderr" "${MREG_DIR}"
	assert_contains "$stderr" "${ZC_XFS}/hl-${BATS_TEST_NUMBER}"
	[[ ! -e "${ZC_XFS}/hl-${BATS_TEST_NUMBER}" ]]
	assert_no_staging "${ZC_XFS}"
}

@test "XFS with reflink: the files share their extents with the blobs" {
	xfs_store
	run --separate-stderr mreg download m -o "$X/out" --json
	assert_status 0
	[[ "$(json_get "d['reflinked']" <<<"$output")" == 2 ]] # the empty file has no extent to share
	[[ "$(json_get "d['verified']" <<<"$output")" == false ]]
	local blob a b
	blob="$(blob_of "$X/model/big.bin")"
	sync
	a="$(first_extent "$blob")"
	b="$(first_extent "$X/out/big.bin")"
	[[ -n "$a" && "$a" == "$b" ]] || fail "extents differ: blob $a, file $b"
	filefrag -v "$X/out/big.bin" | grep -q shared || fail "no shared extent"
	assert_same_tree "$X/model" "$X/out"
	# --link reflink succeeds here too, and says how
	run --separate-stderr mreg download m -o "$X/out2" --link reflink
	assert_status 0
	assert_contains "$output" "2 reflinked, 1 copied and verified"
	assert_same_tree "$X/model" "$X/out2"
}

# (copy_file_range may still share the extents here: the kernel clones where it
# can. The bytes are read and hashed all the same, which is what --link copy buys.)
@test "XFS: --link copy reads and verifies every file, and a corrupt blob is refused with nothing left" {
	xfs_store
	run --separate-stderr mreg download m -o "$X/out" --link copy --json
	assert_status 0
	[[ "$(json_get "d['copied']" <<<"$output")" == 3 ]]
	[[ "$(json_get "d['verified']" <<<"$output")" == true ]]
	assert_same_tree "$X/model" "$X/out"
	corrupt_blob "$(file_digest "$X/model/big.bin")"
	run --separate-stderr mreg download m -o "$X/bad" --link copy
	assert_status 1
	assert_contains "$stderr" "does not match its digest"
	[[ ! -e "$X/bad" ]]
	assert_no_staging "$X"
}

# Ingest (issue 16, item 4's last sentence): a large file of a model on the
# store's filesystem becomes a reflink of the source, hashed from the clone.
@test "XFS: create reflinks a large file from the model folder into its blob (shared extents)" {
	xfs_store # creates m:1 from $X/model, on the image
	local blob a b
	blob="$(blob_of "$X/model/big.bin")"
	[[ -f "$blob" ]]
	sync
	a="$(first_extent "$X/model/big.bin")"
	b="$(first_extent "$blob")"
	[[ -n "$a" && "$a" == "$b" ]] || fail "extents differ: source $a, blob $b"
	filefrag -v "$blob" | grep -q shared || fail "the blob shares no extent"
	# the record's digest is the content's, and fsck agrees with the blob
	run --separate-stderr mreg show m:1 --json
	assert_contains "$output" "sha256:$(sha256sum "$X/model/big.bin" | cut -d' ' -f1)"
	run --separate-stderr mreg fsck
	assert_status 0
	# a second large file: one FICLONE, and no byte of it written by mreg
	head -c 4000000 /dev/urandom >"$X/model/big2.bin"
	run --separate-stderr traced "$X/trace.log" -e trace=ioctl,write,pwrite64 "$MREG" create -n m -p "$X/model"
	assert_status 0
	grep -q 'FICLONE' "$X/trace.log" || fail "no FICLONE in: $(grep ioctl "$X/trace.log")"
	if grep -E '^[0-9]+ +p?write(64)?\([0-9]+, .{0,40}, (1048576|4000000|[0-9]{6,})\)' "$X/trace.log"; then
		fail "large writes while the blobs were reflinked"
	fi
	sync
	[[ "$(first_extent "$X/model/big2.bin")" == "$(first_extent "$(blob_of "$X/model/big2.bin")")" ]] ||
		fail "big2.bin's blob is not a reflink"
}

@test "default filesystem: create tries FICLONE at most once per worker, then copies" {
	need_no_reflink_here
	mkdir many
	for i in 1 2 3 4 5 6; do head -c 2000000 /dev/urandom >"many/f$i.bin"; done
	run --separate-stderr traced trace.log -e trace=ioctl "$MREG" create -n many -p many
	assert_status 0
	local tries
	tries="$(grep -c FICLONE trace.log || true)"
	((tries <= 2)) || fail "FICLONE tried $tries times after the first refusal"
	for i in 1 2 3 4 5 6; do [[ -f "$(blob_of "many/f$i.bin")" ]]; done
	run --separate-stderr mreg fsck
	assert_status 0
}
