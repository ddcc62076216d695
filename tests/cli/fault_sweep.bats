#!/usr/bin/env bats
# Fault injection, every call in turn: each write command runs once per
# file-system call it makes on the test's folder (open, write, fsync, rename,
# mkdir, unlink, link, copy: the families of tests/fault/faultshim.c), that
# one call failing with EIO, ENOSPC or EACCES (in turn). After each run:
#   - the exit status tells the truth: 0 and the change is there, or 2 (1
#     for a model file that cannot be read: the model is refused) with a
#     message and the change is not there (a version is listed iff create,
#     import or pull said so; a tag is set iff update said so; ...);
#   - `mreg fsck` finds no problem;
#   - every version the store held before downloads identical;
#   - after a failure, the same command without the fault succeeds.
# Each run starts from the same store, so the Nth call is the same call each
# time. Then a real full disk: the store on a small tmpfs, filled, during
# each write command.

load helpers
load fault
load registry

ERRNOS=(EIO ENOSPC EACCES)

setup_file() {
	: >"${BATS_FILE_TMPDIR}/totals"
}

setup() {
	require_shim
	setup_store
	FAILURES=()
	TRIALS=0
}

teardown() {
	stop_registry
	if [[ -n "${DISK:-}" ]] && mountpoint -q "$DISK"; then
		umount "$DISK" || umount -l "$DISK"
	fi
}

log() {
	echo "# $*" >&3
}

# A folder's content as text: type, mode, size, link target and path of each
# entry, then the hash of each file. Equal text, equal trees.
tree_sig() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %s %l %p\n' -type f -exec sha256sum {} + | sort)
}

# The signature of the reference trees of versions "V1 V2 ...", side by side
# in folders named after them (as check_store downloads them), computed once.
declare -gA REF_SIG
ref_sig() {
	local v dir="${BATS_TEST_TMPDIR}/expect"
	if [[ -z "${REF_SIG[$1]:-}" ]]; then
		rm -rf "$dir"
		mkdir "$dir"
		for v in $1; do
			cp -a "ref/$v" "$dir/$v"
		done
		REF_SIG[$1]="$(tree_sig "$dir")"
		rm -rf "$dir"
	fi
	echo "${REF_SIG[$1]}"
}

# The model folder of version V: small files, an empty folder, a link, and a
# file of 600 KB (more than one write of the copy loop).
make_version() {
	local dir="$1" v="$2"
	make_model "$dir"
	mkdir -p "$dir/empty"
	ln -s a.txt "$dir/link-to-a"
	printf 'version %s\n' "$v" >"$dir/a.txt"
	head -c 600000 /dev/urandom >"$dir/weights.bin"
}

# The base store: m:1 and m:2 (reference trees in ref/m:1, ref/m:2), saved to
# base/; the trials start from copies of it.
make_base() {
	local v
	for v in 1 2; do
		make_version "ref/m:$v" "$v"
		mreg create -n m -p "ref/m:$v" >/dev/null || fail "create m:$v"
	done
	BASE_VERSIONS="m:1 m:2"
	rm -rf base
	cp -a "${MREG_DIR}" base
}

restore_base() {
	rm -rf "${MREG_DIR}" out
	cp -a base "${MREG_DIR}"
}

note_failure() {
	FAILURES+=("$*")
}

# The checks after a run, whatever it did: fsck clean, the versions in
# $2 (default: the base's) download identical. (No Python in the loop: on a
# loaded machine its start-up costs more than all the rest.)
check_store() {
	local label="$1" keep="${2:-$BASE_VERSIONS}" v out
	out="$(mreg fsck 2>&1)" || { note_failure "$label: fsck exit $?: $out"; return; }
	[[ "$out" == *": 0 problems"* ]] || note_failure "$label: fsck: $out"
	rm -rf check
	mkdir check
	for v in $keep; do
		out="$(mreg download "$v" -o "check/$v" 2>&1)" || note_failure "$label: download $v: $out"
	done
	[[ "$(tree_sig check)" == "$(ref_sig "$keep")" ]] ||
		note_failure "$label: the versions $keep do not download identical"
}

# sweep LABEL DONE_FN -- ARGS...: run `mreg ARGS` once per counted call, that
# call failing; DONE_FN tells (status 0/1) whether the change is there.
# KEEP_FN, when set, names a function printing the versions that must still
# download after the run given "done" or "not" (default: the base's).
sweep() {
	local label="$1" done_fn="$2" n=0 err status stderr_text rc state
	shift 3
	while :; do
		n=$((n + 1))
		err="${ERRNOS[n % 3]}"
		restore_base
		status=0
		stderr_text="$(faulty all "$n" "$err" "${TEST_DIR}" -- "$@" 2>&1 >/dev/null)" || status=$?
		if ! fault_injected; then
			# N went past the last call: the plain command, which must succeed
			[[ "$status" -eq 0 ]] || note_failure "$label without a fault: exit $status: $stderr_text"
			break
		fi
		TRIALS=$((TRIALS + 1))
		local what="$label, call $n ($(fault_what)) failing with $err"
		state=not
		"$done_fn" && state=done
		if [[ "$status" -eq 0 && "$state" != done ]]; then
			note_failure "$what: exit 0 but the change is not there"
		elif [[ "$status" -ne 0 && "$state" == done ]]; then
			note_failure "$what: exit $status but the change is there: $stderr_text"
		elif [[ "$status" -gt 2 ]]; then
			note_failure "$what: exit $status (expected 0, 1 or 2): $stderr_text"
		elif [[ "$status" -ne 0 && "$stderr_text" != *"mreg: "* ]]; then
			note_failure "$what: exit $status without a message"
		fi
		check_store "$what" "$([[ -z "${KEEP_FN:-}" ]] || "$KEEP_FN" "$state")"
		if [[ "$status" -ne 0 ]]; then
			rc=0
			stderr_text="$("${MREG}" "$@" 2>&1 >/dev/null)" || rc=$?
			if [[ "$rc" -ne 0 ]]; then
				note_failure "$what: the retry without the fault failed ($rc): $stderr_text"
			elif ! "$done_fn"; then
				note_failure "$what: the retry succeeded but the change is not there"
			fi
		fi
	done
	report "$label"
}

# One line per command, also kept for the summary; the test fails on any failure.
report() {
	local i
	log "fault injection, $1: $TRIALS trials, ${#FAILURES[@]} failures"
	printf '%s\t%s\t%s\n' "$1" "$TRIALS" "${#FAILURES[@]}" >>"${BATS_FILE_TMPDIR}/totals"
	for ((i = 0; i < ${#FAILURES[@]} && i < 15; i++)); do
		echo "FAILURE: ${FAILURES[i]}" >&2
	done
	((TRIALS > 0)) || fail "$1: no call was counted (is the shim working?)"
	[[ "${#FAILURES[@]}" -eq 0 ]]
}

has_version() {
	"${MREG}" show "$1" >/dev/null 2>&1
}

@test "fault injection: create" {
	make_base
	make_version "ref/m:3" 3
	created() { has_version m:3; }
	sweep create created -- create -n m -p ref/m:3
}

@test "fault injection: create of a single file" {
	make_base
	mkdir -p ref/f:1
	head -c 300000 /dev/urandom >ref/f:1/weights.bin
	created() { has_version f:1; }
	sweep "create of a file" created -- create -n f -p ref/f:1/weights.bin
}

@test "fault injection: import" {
	make_base
	make_version "ref/x:1" x
	mkdir other
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" init >/dev/null
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" create -n x -p ref/x:1 >/dev/null
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" package x:1 -o x.tar >/dev/null
	imported() { has_version x:1; }
	sweep import imported -- import x.tar
}

@test "fault injection: pull" {
	make_base
	make_version "ref/x:1" x
	start_registry
	mkdir other
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" init >/dev/null
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" create -n x -p ref/x:1 >/dev/null
	MREG_DIR="${TEST_DIR}/other/.mreg" "${MREG}" push x:1 "$REG/team/x" --plain-http >/dev/null ||
		fail "push failed"
	pulled() { has_version x:1; }
	sweep pull pulled -- pull "$REG/team/x:1" --plain-http
}

@test "fault injection: update" {
	make_base
	updated() {
		local shown
		shown="$(mreg show m:1)"
		[[ "$shown" == *$'\ndescription: new\n'* && "$shown" == *$'\ntags:        k=v\n'* ]]
	}
	sweep update updated -- update m:1 --tag k=v --description new
}

@test "fault injection: delete" {
	make_base
	deleted() { ! has_version m:2; }
	# a deleted m:2 no longer downloads: only m:1 must
	keep_after_delete() { [[ "$1" == done ]] && echo "m:1" || echo "$BASE_VERSIONS"; }
	KEEP_FN=keep_after_delete sweep delete deleted -- delete m:2
}

@test "fault injection: gc" {
	make_version "ref/m:1" 1
	mreg create -n m -p "ref/m:1" >/dev/null
	make_version garbage g
	mreg create -n g -p garbage >/dev/null
	mreg delete g:1 >/dev/null
	# leftovers of interrupted writes: a staging folder and a temporary file
	mkdir -p "${MREG_DIR}/tmp/import-abc123"
	echo partial >"${MREG_DIR}/tmp/import-abc123/0123"
	echo partial >"${MREG_DIR}/tmp/blob-XYZ123"
	BASE_VERSIONS="m:1"
	cp -a "${MREG_DIR}" base
	collected() {
		[[ -z "$(find "${MREG_DIR}/tmp" -mindepth 1 ! -name '*.lock')" ]] &&
			[[ "$(mreg fsck 2>&1)" != *"no record uses"* ]]
	}
	sweep gc collected -- gc
}

@test "fault injection: download" {
	make_base
	downloaded() { [[ -d out ]] && [[ "$(tree_sig out)" == "$(tree_sig ref/m:2)" ]]; }
	sweep download downloaded -- download m:2 -o out
	# a failed download leaves neither the folder nor its staging
	assert_no_staging .
}

@test "fault injection: download --sync (each fsync fails in turn too)" {
	make_base
	downloaded() { [[ -d out ]] && [[ "$(tree_sig out)" == "$(tree_sig ref/m:2)" ]]; }
	sweep download-sync downloaded -- download m:2 -o out --sync
	assert_no_staging .
}

@test "fault injection: download --sync into an existing folder" {
	make_base
	mkdir out
	downloaded() { [[ "$(tree_sig out)" == "$(tree_sig ref/m:2)" ]]; }
	sweep download-sync-existing downloaded -- download m:2 -o out --sync
	assert_no_staging .
}

@test "fault injection: sign NAME:VERSION -o FILE (the signature kept and the file written, both or neither)" {
	make_base
	# OMS refuses symbolic links: a version without one.
	make_model ref/s:1
	mreg create -n s -p ref/s:1 >/dev/null || fail "create s:1"
	"${MREG}" keygen --oms -W -s k.pem --pubkey k.pub >/dev/null
	BASE_VERSIONS="m:1 m:2 s:1"
	rm -rf base
	cp -a "${MREG_DIR}" base
	echo 'the old file' >s.sig
	cp s.sig s.sig.old
	# each trial starts from the old file as well as from the base store
	restore_base() {
		rm -rf "${MREG_DIR}" out
		cp -a base "${MREG_DIR}"
		cp s.sig.old s.sig
	}
	signed() {
		local kept
		kept="$(ls "${MREG_DIR}/signatures/s/1" 2>/dev/null)"
		if [[ -n "$kept" ]] && ! cmp -s s.sig.old s.sig; then
			cmp -s s.sig "${MREG_DIR}/signatures/s/1/$kept" ||
				note_failure "sign: the file and the kept signature differ"
			return 0
		fi
		[[ -z "$kept" ]] && cmp -s s.sig.old s.sig && return 1
		note_failure "sign: half done (kept: ${kept:-none}; file $(cmp -s s.sig.old s.sig && echo unchanged || echo written))"
		return 1
	}
	sweep sign signed -- sign s:1 --key k.pem -o s.sig
	# no staging file left beside s.sig
	[[ -z "$(find . -maxdepth 1 -name 'write-*')" ]] || fail "left: $(find . -maxdepth 1 -name 'write-*')"
}

@test "fault injection: the figures" {
	local trials=0 failures=0 label t f
	while IFS=$'\t' read -r label t f; do
		trials=$((trials + t))
		failures=$((failures + f))
	done <"${BATS_FILE_TMPDIR}/totals"
	log "fault injection: $trials trials, $failures failures ($(awk -F'\t' '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }' "${BATS_FILE_TMPDIR}/totals"))"
	((trials > 0)) || skip "no sweep ran"
	[[ "$failures" -eq 0 ]]
}
