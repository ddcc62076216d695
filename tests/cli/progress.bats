#!/usr/bin/env bats
# Long work shows a progress line (bytes, rate, time left) on stderr when stderr
# is a terminal, and nothing otherwise. script(1) gives mreg a pseudo-terminal.

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
