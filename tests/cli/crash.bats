#!/usr/bin/env bats
# Crash safety: SIGKILL `mreg create` at 50 random moments. After each kill the
# store must pass fsck and every version created before must download intact.
#
# Two models. One holds a ~200 MiB file whose content changes a little every
# round, so every round writes a new big blob: the kill lands while it is
# streamed into tmp/, fsynced, renamed, or while the record is written. The
# other holds 1,000 small files of which 100 change every round (30 rounds
# unless MREG_CRASH_ROUNDS says otherwise; each round downloads the newest
# version, and every version is downloaded at the end): the kill
# lands while the pool of workers hashes and writes them, fsyncs the new
# blobs, renames them into blobs/, or writes the stat cache.
# Every 5 kills, and at the end, gc must clear the leftovers and leave a
# clean store. MREG_CRASH_SEED reuses a run's random choices (the timing
# still varies); MREG_CRASH_ROUNDS changes the number of kills.

load helpers

setup() {
	setup_store
	# Downloads go to memory when we can: each check writes the big file again.
	OUT="${TEST_DIR}/out"
	if [[ -d /dev/shm && -w /dev/shm ]]; then
		OUT="$(mktemp -d /dev/shm/mreg-crash-test.XXXXXX)/out"
	fi
}

teardown() {
	if [[ "${OUT}" == /dev/shm/mreg-crash-test.* ]]; then
		rm -rf "$(dirname "${OUT}")"
	fi
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

log() {
	echo "# $*" >&3
}

# Check every version in VERSIONS against its reference tree ref/<version>.
# verify_versions [latest]: every version (or only the newest) downloads as it was.
verify_versions() {
	local v list=("${VERSIONS[@]}")
	[[ "${1:-}" != latest ]] || list=("${VERSIONS[-1]}")
	for v in "${list[@]}"; do
		rm -rf "${OUT}"
		run --separate-stderr "${MREG}" download "m:$v" -o "${OUT}"
		[[ "$status" -eq 0 ]] || { fail "round $ROUND: download m:$v failed ($status): $stderr"; return 1; }
		assert_same_tree "ref/$v" "${OUT}" || { fail "round $ROUND: m:$v differs"; return 1; }
	done
	rm -rf "${OUT}"
}

# Patch a few random bytes at a random place of model/big.bin: new content,
# so the next create writes a whole new big blob.
mutate_model() {
	local offset=$(( (RANDOM * 32768 + RANDOM) % (BIG_SIZE - 16) ))
	head -c 16 /dev/urandom | dd of=model/big.bin bs=1 seek="$offset" conv=notrunc status=none
	echo "round ${1}" >model/a.txt
}

# The many-file model: 100 of its 1,000 files get new content.
mutate_many() {
	local i n
	for ((n = 0; n < 100; n++)); do
		i=$(( (RANDOM * 32768 + RANDOM) % 1000 ))
		head -c $((1 + RANDOM % 16384)) /dev/urandom >"model/d$((i % 20))/f$i"
	done
	echo "round ${1}" >model/a.txt
}

make_many() {
	local i
	for ((i = 0; i < 20; i++)); do mkdir -p "model/d$i"; done
	for ((i = 0; i < 1000; i++)); do
		head -c $((1 + (i * 7919) % 16384)) /dev/urandom >"model/d$((i % 20))/f$i"
	done
	echo "config" >model/a.txt
}

# gc, then the store must be exactly its records and their blobs.
gc_and_check() {
	run --separate-stderr timeout 120 "${MREG}" gc
	assert_status 0
	[[ -z "$(find .mreg/tmp -mindepth 1 ! -name '*.lock')" ]] ||
		fail "round $ROUND: gc left $(ls -A .mreg/tmp)"
	run --separate-stderr "${MREG}" fsck --json
	assert_status 0
	[[ "$(json_get '[d["problems"], d["unreferenced"], d["records"], d["diagnostics"]]' <<<"$output")" == "[0, 0, ${#VERSIONS[@]}, []]" ]] ||
		fail "round $ROUND: fsck after gc: $output"
}

# crash_rounds MUTATE: the kills, with MUTATE giving model/ new content each round.
crash_rounds() {
	local mutate="$1"
	rounds="${MREG_CRASH_ROUNDS:-${2:-50}}"
	seed="${MREG_CRASH_SEED:-$(( $(date +%s) % 32768 ))}"
	RANDOM="$seed"
	log "seed $seed (set MREG_CRASH_SEED=$seed to reuse it)"
	ROUND=0

	# How long one create of new content takes (the fastest of three, in a
	# scratch store): the kills land between 0 and that. A create that
	# finishes before its kill, after D ms, brings the span down to 0.8 D,
	# so that a few kills reach the end of a create (the record write) but
	# the versions to check after each kill, 200 MiB each, stay few.
	mkdir scratch
	"${MREG}" init scratch >/dev/null
	times=()
	for i in 1 2 3; do
		"$mutate" "timing $i"
		t0="$(now_ms)"
		"${MREG}" --store "${TEST_DIR}/scratch/.mreg" create -n m -p model >/dev/null
		times+=($(( $(now_ms) - t0 )))
	done
	rm -rf scratch
	span="$(printf '%s\n' "${times[@]}" | sort -n | head -1)"
	((span >= 20)) || span=20
	log "one create takes ${span} ms (${times[*]})"

	"$mutate" 0
	run --separate-stderr mreg create -n m -p model
	assert_status 0
	[[ "$output" == "created m:1 "* ]]
	mkdir -p ref
	cp -a model ref/1
	VERSIONS=(1)
	completed=0
	killed=0

	for ((ROUND = 1; ROUND <= rounds; ROUND++)); do
		"$mutate" "$ROUND"
		delay=$(( (RANDOM * 32768 + RANDOM) % span ))
		"${MREG}" create -n m -p model >create.out 2>create.err 3>&- &
		pid=$!
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		kill -KILL "$pid" 2>/dev/null || true
		rc=0
		wait "$pid" || rc=$?
		[[ "$rc" -eq 0 || "$rc" -eq 137 ]] || fail "round $ROUND: create exited $rc: $(cat create.err)"
		[[ "$rc" -ne 137 ]] || killed=$((killed + 1))

		# fsck: no record may name a missing or partial blob
		run --separate-stderr "${MREG}" fsck
		[[ "$status" -eq 0 ]] || fail "round $ROUND (kill after ${delay} ms): fsck exit $status: $output $stderr"

		# the versions: the earlier ones, plus the new one if its record made it
		run --separate-stderr "${MREG}" list --all --json
		assert_status 0
		now="$(json_get '" ".join(sorted((r["version"] for r in d), key=int))' <<<"$output")"
		next=$(( ${VERSIONS[-1]} + 1 ))
		if [[ "$now" == "${VERSIONS[*]} $next" ]]; then
			cp -a model "ref/$next"
			VERSIONS+=("$next")
			completed=$((completed + 1))
			# this create took less than $delay ms: aim below that from now on
			span=$((delay * 8 / 10))
			((span >= 20)) || span=20
			log "round $ROUND: the create finished before its kill (${delay} ms); span now ${span} ms"
		elif [[ "$now" != "${VERSIONS[*]}" ]]; then
			fail "round $ROUND: versions are '$now', expected '${VERSIONS[*]}' (or one more)"
		fi
		# every version after each kill, or (the many-file model, where that
		# costs minutes a round) the newest one, and all of them at the end
		verify_versions ${VERIFY_NEWEST:+latest}
		assert_no_staging "$(dirname "${OUT}")"
		# every 5 kills, gc clears the leftovers (bounding the disk used)
		if ((ROUND % 5 == 0 && ROUND < rounds)); then
			gc_and_check
		fi
	done
	log "$killed of $rounds creates killed while running, $completed finished before their kill"
	# a test that never interrupts a create proves nothing
	((killed * 2 >= rounds)) || fail "only $killed of $rounds creates were interrupted"

	# gc clears what the kills left, and the store is clean
	gc_and_check
	verify_versions

	# the store still takes writes: no lock was left behind
	run --separate-stderr timeout 120 "${MREG}" create -n m -p model
	assert_status 0
	[[ "$output" == "created m:$(( ${VERSIONS[-1]} + 1 )) "* ]]
}

@test "SIGKILL at 50 random moments of mreg create: fsck clean, earlier versions intact" {
	mkdir -p model/sub
	head -c $((200 * 1024 * 1024)) /dev/urandom >model/big.bin
	echo "config" >model/sub/config.json
	head -c 10000 /dev/urandom >model/sub/tokenizer.bin
	chmod 0755 model/sub/tokenizer.bin
	BIG_SIZE="$(stat -c %s model/big.bin)"
	crash_rounds mutate_model
}

@test "SIGKILL at 30 random moments of a create of 1,000 files: fsck clean, earlier versions intact" {
	make_many
	VERIFY_NEWEST=1 crash_rounds mutate_many 30
}
