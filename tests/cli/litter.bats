#!/usr/bin/env bats
# What a kill -9 leaves (it gives mreg no chance to clean up) is found and
# removed by the next run: download's staging folder and package's temporary
# file by the next download or package of the same target, which says so on
# stderr; staging inside the store by gc. Work still running is left alone.

load helpers

setup() {
	setup_store
	make_model model
	# big enough that the staging lives a while on a loaded machine
	head -c $((64 * 1024 * 1024)) /dev/urandom >model/big.bin
	run --separate-stderr mreg create -n m -p model
	assert_status 0
}

# wait_for GLOB: until a path matching GLOB exists (10 s at most).
wait_for() {
	local i
	for ((i = 0; i < 1000; i++)); do
		compgen -G "$1" >/dev/null && return 0
		sleep 0.01
	done
	return 1
}

# start_killed GLOB CMD...: run CMD in the background, kill -9 it as soon as
# GLOB exists; fails if that never happened.
start_killed() {
	local glob="$1" pid
	shift
	"$@" >/dev/null 2>&1 3>&- &
	pid=$!
	if ! wait_for "$glob"; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" || true
		fail "no $glob appeared"
		return 1
	fi
	kill -KILL "$pid"
	wait "$pid" || true
	compgen -G "$glob" >/dev/null || fail "the kill left no $glob"
}

@test "download -o DIR killed: the next download into DIR removes the staging folder and says so" {
	start_killed 'out.mreg-download-*' "${MREG}" download m:1 -o out
	left="$(compgen -G 'out.mreg-download-*')"
	run --separate-stderr mreg download m:1 -o out
	assert_status 0
	[[ "$stderr" == "mreg: note: removed ${TEST_DIR}/${left}, left by an interrupted download" ]] ||
		fail "stderr: $stderr"
	assert_no_staging .
	assert_same_tree model out
}

@test "download -o DIR (an existing folder) killed: the next download removes DIR/.mreg-download-*" {
	mkdir out
	echo mine >out/keep.txt
	start_killed 'out/.mreg-download-*' "${MREG}" download m:1 -o out
	left="$(compgen -G 'out/.mreg-download-*')"
	run --separate-stderr mreg download m:1 -o out
	assert_status 0
	assert_contains "$stderr" "mreg: note: removed ${TEST_DIR}/${left}, left by an interrupted download"
	assert_no_staging .
	[[ "$(cat out/keep.txt)" == mine ]]
	rm out/keep.txt
	assert_same_tree model out
}

@test "package -o F killed: the next package of F removes .F.mreg-package-* and says so; other files stay" {
	start_killed '.m.tar.mreg-package-*' "${MREG}" package m:1 -o m.tar
	left="$(compgen -G '.m.tar.mreg-package-*')"
	# a file of another bundle's name, and one of ours by name only that is a link: not ours to take
	echo other >.other.tar.mreg-package-abc123
	ln -s /dev/null .m.tar.mreg-package-lnk123
	run --separate-stderr mreg package m:1 -o m.tar
	assert_status 0
	[[ "$stderr" == "mreg: note: removed ./${left}, left by an interrupted package" ]] ||
		fail "stderr: $stderr"
	[[ ! -e "$left" ]]
	[[ -f .other.tar.mreg-package-abc123 && -L .m.tar.mreg-package-lnk123 ]]
	run --separate-stderr mreg verify m.tar
	assert_status 0
}

@test "a download still running keeps its staging folder: a second download into DIR leaves it alone" {
	"${MREG}" download m:1 -o out >first.out 2>first.err 3>&- &
	pid=$!
	wait_for 'out.mreg-download-*' || fail "no staging folder appeared"
	kill -STOP "$pid"
	# The folder exists a moment before its maker locks it (a sweep in that
	# moment rightly takes it, and the maker makes another): until
	# /proc/locks shows the lock (pid, the folder's inode), let it run a
	# little more, stopped again at each look.
	staging="$(compgen -G 'out.mreg-download-*')"
	ino="$(stat -c %i "$staging")"
	for ((i = 0; i < 1000; i++)); do
		grep -qE "FLOCK +ADVISORY +WRITE +$pid +[0-9a-f]+:[0-9a-f]+:$ino " /proc/locks && break
		kill -CONT "$pid"
		sleep 0.001
		kill -STOP "$pid"
	done
	grep -qE "FLOCK +ADVISORY +WRITE +$pid +[0-9a-f]+:[0-9a-f]+:$ino " /proc/locks ||
		fail "the download never locked its staging folder: $(cat /proc/locks)"
	run --separate-stderr mreg download m:1 -o out
	kill -CONT "$pid"
	assert_status 0
	assert_not_contains "$stderr" "removed"
	rc=0
	wait "$pid" || rc=$?
	# the first one finds out taken, fails, and removes its own staging
	[[ "$rc" -eq 1 ]] || fail "the first download exited $rc: $(cat first.err)"
	assert_contains "$(cat first.err)" "already exists"
	[[ ! -e "$staging" ]] || fail "the first download left $staging"
	assert_same_tree model out
}

@test "import killed: gc removes its staging folder in the store's tmp/, fsck is clean" {
	run --separate-stderr mreg package m:1 -o m.tar
	assert_status 0
	start_killed "${MREG_DIR}/tmp/import-*" "${MREG}" import m.tar -n copy
	run --separate-stderr mreg fsck
	assert_status 0
	run --separate-stderr mreg gc
	assert_status 0
	[[ "$output" =~ and\ [1-9][0-9]*\ leftovers?\ of\ interrupted\ writes ]] || fail "gc: $output"
	[[ -z "$(find "${MREG_DIR}/tmp" -mindepth 1 ! -name '*.lock')" ]] ||
		fail "gc left $(ls -A "${MREG_DIR}/tmp")"
	run --separate-stderr mreg import m.tar -n copy
	assert_status 0
}
