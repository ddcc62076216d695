#!/usr/bin/env bats
# Big files (the slow suite): long work shows a progress line (bytes, rate,
# time left) on stderr when stderr is a terminal, and nothing otherwise
# (script(1) gives mreg a pseudo-terminal); memory stays flat whatever the size.

load helpers

setup() {
	setup_store
	# Sparse: made in no time, but mreg still reads, hashes and writes 768 MiB,
	# which takes longer than the 0.3 s before the first progress line.
	truncate -s 768M big.bin
}

@test "create and download print a progress line on a terminal" {
	command -v script >/dev/null || skip "script(1) from util-linux is not installed"
	run script -qec "'${MREG}' create -n big -p big.bin" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"storing "*" / 768.0 MiB"*"/s"* ]] || fail "no progress line in: $output"
	[[ "$output" == *"created big:1"* ]]
	run script -qec "'${MREG}' download big:1 -o out" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"writing "*" / 768.0 MiB"*"/s"* ]] || fail "no progress line in: $output"
	cmp big.bin out/big.bin
}

@test "no progress output when stderr is not a terminal" {
	run --separate-stderr mreg create -n big -p big.bin
	[ "$status" -eq 0 ]
	[ -z "$stderr" ] || fail "stderr not empty: $stderr"
	run --separate-stderr mreg download big:1 -o out
	[ "$status" -eq 0 ]
	[ -z "$stderr" ] || fail "stderr not empty: $stderr"
}

# A second store, empty, for imports: echo its MREG_DIR.
fresh_store() {
	local dir="${TEST_DIR}/$1/.mreg"
	MREG_DIR="$dir" "${MREG}" init >/dev/null || return 1
	echo "$dir"
}

@test "flat memory: packaging and importing 512 MiB stay small" {
	[[ -x /usr/bin/time ]] || skip "/usr/bin/time is not installed (apt install time)"
	truncate -s 512M big.bin
	mreg create -n big -p big.bin >/dev/null
	/usr/bin/time -f %M -o rss.package "${MREG}" package big:1 -o big.tar
	other="$(fresh_store b)"
	MREG_DIR="$other" /usr/bin/time -f %M -o rss.import "${MREG}" import big.tar
	/usr/bin/time -f %M -o rss.unpack "${MREG}" unpack big.tar -o un
	for f in rss.package rss.import rss.unpack; do
		kib="$(tail -1 "$f")"
		((kib < 65536)) || fail "$f: peak RSS $kib KiB (a streaming copy needs far less)"
	done
	cmp big.bin un/model/big.bin
}

@test "package, import and verify print a progress line on a terminal, nothing otherwise" {
	command -v script >/dev/null || skip "script(1) from util-linux is not installed"
	truncate -s 768M big.bin
	mreg create -n big -p big.bin >/dev/null
	run script -qec "'${MREG}' package big:1 -o big.tar" /dev/null
	assert_status 0
	[[ "$output" == *"packaging "*" / 768.0 MiB"*"/s"* ]] || fail "no progress line in: $output"
	run script -qec "'${MREG}' verify big.tar" /dev/null
	assert_status 0
	[[ "$output" == *"verifying "*"/s"* ]] || fail "no progress line in: $output"
	other="$(fresh_store b)"
	run script -qec "MREG_DIR='$other' '${MREG}' import big.tar" /dev/null
	assert_status 0
	[[ "$output" == *"importing "*"/s"* ]] || fail "no progress line in: $output"
	run --separate-stderr mreg verify big.tar
	assert_status 0
	[[ -z "$stderr" ]] || fail "stderr not empty: $stderr"
}

# Run "mreg ARGS..." in the background, wait until the temporary file or
# folder matching GLOB exists (the command is mid-way), send SIGNAL, and set
# $status to its exit status.
interrupt_when() {
	local signal=$1 glob=$2
	shift 2
	"${MREG}" "$@" 2>interrupt.err &
	local pid=$! i
	for ((i = 0; i < 500; i++)); do
		compgen -G "$glob" >/dev/null && break
		sleep 0.01
	done
	compgen -G "$glob" >/dev/null || fail "no $glob appeared: the command did not start its work"
	kill "-$signal" "$pid"
	status=0
	wait "$pid" || status=$?
}

@test "Ctrl-C, SIGTERM or SIGHUP in the middle: the work is undone, nothing left behind, exit 128 + the signal" {
	mreg create -n big -p big.bin >/dev/null
	before="$(store_snapshot)"
	interrupt_when INT 'out.mreg-download-*' download big:1 -o out
	[[ "$status" == 130 ]] || fail "download exit $status: $(cat interrupt.err)"
	assert_contains "$(cat interrupt.err)" "mreg: interrupted"
	[[ -z "$(compgen -G 'out*')" ]] || fail "download left: $(compgen -G 'out*')"
	interrupt_when TERM '.big.tar.mreg-package-*' package big:1 -o big.tar
	[[ "$status" == 143 ]] || fail "package exit $status: $(cat interrupt.err)"
	[[ -z "$(compgen -G '*.tar')$(compgen -G '.big.tar.mreg-package-*')" ]] || fail "package left a bundle behind"
	truncate -s 1G other.bin
	interrupt_when HUP "${MREG_DIR}/tmp/blob-*" create -n other -p other.bin
	[[ "$status" == 129 ]] || fail "create exit $status: $(cat interrupt.err)"
	[[ -z "$(ls "${MREG_DIR}/tmp" | grep -v '\.lock$')" ]] || fail "create left: $(ls "${MREG_DIR}/tmp")"
	assert_store_unchanged "$before"
}
