#!/usr/bin/env bats
# kill -9 torture: 235 SIGKILLs at random moments of create (one big
# file; many small files), import, pull (a real registry), gc and update. After
# each: fsck finds no problem, every version the store holds downloads
# identical to what was registered (none lost, none corrupt), and running the
# same command again succeeds. The kills land between 0 and the time the
# command takes (measured first on this machine). MREG_TORTURE_SEED reuses a
# run's random choices; MREG_TORTURE_SCALE multiplies the number of kills.

load helpers
load registry

setup_file() {
	: >"${BATS_FILE_TMPDIR}/totals"
}

setup() {
	setup_store
	SEED="${MREG_TORTURE_SEED:-$(($(date +%s%N) % 32768))}"
	RANDOM="$SEED"
	SCALE="${MREG_TORTURE_SCALE:-1}"
	TRIALS=0
	KILLED=0
	PROBLEMS=0
	LOST=0
	CORRUPT=0
	declare -gA SIG
	mkdir -p ref
}

teardown() {
	stop_registry
}

log() {
	echo "# $*" >&3
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

tree_sig() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %s %l %p\n' -type f -exec sha256sum {} + | sort)
}

# remember REF VERSION_DIR: the tree version REF ("m:3") must download as.
remember() {
	rm -rf "ref/$1"
	cp -a "$2" "ref/$1"
	SIG[$1]="$(tree_sig "ref/$1")"
}

# The versions in the store, "m:1 m:2 x:r3".
all_versions() {
	"${MREG}" list --all | awk 'NR > 1 { printf "%s:%s\n", $1, $2 }' | sort
}

problem() {
	echo "round $ROUND ($LABEL, kill after ${DELAY} ms): $*" >&2
}

# After each kill: fsck clean; every version the store holds is one we know
# (registered before, or by the killed command: $1 names the tree it would
# have), and downloads identical; none we knew is missing. With $2 = new, after
# a rerun: only the versions that are new are checked.
check_store() {
	local pending="${1:-}" only="${2:-}" out v now
	if [[ "$only" != new ]]; then
		out="$("${MREG}" fsck 2>&1)" || true
		if [[ "$out" != *": 0 problems"* ]]; then
			PROBLEMS=$((PROBLEMS + 1))
			problem "fsck: $out"
		fi
	fi
	now="$(all_versions)"
	for v in "${!SIG[@]}"; do
		if ! grep -qx "$v" <<<"$now"; then
			LOST=$((LOST + 1))
			problem "$v is gone"
			unset "SIG[$v]"
		fi
	done
	for v in $now; do
		if [[ -z "${SIG[$v]:-}" ]]; then
			# the killed command (or the rerun) registered it
			[[ -n "$pending" ]] || { CORRUPT=$((CORRUPT + 1)); problem "$v appeared from nowhere"; continue; }
			remember "$v" "$pending"
		elif [[ "$only" == new ]]; then
			continue
		fi
		rm -rf check
		if ! out="$("${MREG}" download "$v" -o check 2>&1)"; then
			CORRUPT=$((CORRUPT + 1))
			problem "download $v: $out"
		elif [[ "$(tree_sig check)" != "${SIG[$v]}" ]]; then
			CORRUPT=$((CORRUPT + 1))
			problem "$v downloads different"
		fi
	done
	rm -rf check
}

# How long CMD... takes here, in ms (one run: the store gains what it does).
time_it() {
	local t0
	t0="$(now_ms)"
	"$@" >/dev/null 2>&1 3>&- || fail "$* failed while timing"
	echo $(($(now_ms) - t0))
}

# kill_at_random CMD...: run CMD, SIGKILL it after 0..$SPAN ms. A run that
# ends before its kill, after DELAY ms, brings SPAN down to 0.8 DELAY (as in
# crash.bats), so that the kills keep landing inside the command.
kill_at_random() {
	local pid rc=0
	DELAY=$(( (RANDOM * 32768 + RANDOM) % (SPAN > 1 ? SPAN : 1) ))
	"$@" >cmd.out 2>cmd.err 3>&- &
	pid=$!
	sleep "$(printf '%d.%03d' $((DELAY / 1000)) $((DELAY % 1000)))"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	TRIALS=$((TRIALS + 1))
	if [[ "$rc" -eq 137 ]]; then
		KILLED=$((KILLED + 1))
	elif [[ "$rc" -eq 0 ]]; then
		SPAN=$((DELAY * 8 / 10))
		((SPAN >= 5)) || SPAN=5
	elif [[ "$rc" -ne 0 ]]; then
		CORRUPT=$((CORRUPT + 1))
		problem "exited $rc before its kill: $(cat cmd.err)"
	fi
}

# rerun CMD...: the command again, without a kill: it must succeed.
rerun() {
	local out
	if ! out="$("$@" 2>&1 3>&-)"; then
		PROBLEMS=$((PROBLEMS + 1))
		problem "the rerun failed: $out"
	fi
}

# forget REF: delete a version the round added (the store stays small).
forget() {
	"${MREG}" delete "$1" >/dev/null || problem "delete $1 failed"
	unset "SIG[$1]"
	rm -rf "ref/$1"
}

# Forget every version but the base ones (named in $BASE).
forget_new() {
	local v
	for v in "${!SIG[@]}"; do
		[[ " $BASE " == *" $v "* ]] || forget "$v"
	done
}

report() {
	local what="$1"
	log "kill -9 torture, $what: $TRIALS trials ($KILLED killed while running), $PROBLEMS fsck/rerun problems, $LOST lost, $CORRUPT corrupt (seed $SEED)"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$what" "$TRIALS" "$KILLED" "$PROBLEMS" "$LOST" "$CORRUPT" \
		>>"${BATS_FILE_TMPDIR}/totals"
	# the kills must mostly land inside the command, or they prove little
	((KILLED * 2 >= TRIALS)) || fail "only $KILLED of $TRIALS runs were killed while running"
	[[ $((PROBLEMS + LOST + CORRUPT)) -eq 0 ]]
}

# gc now and then, so the deleted versions' blobs do not fill the disk.
maybe_gc() {
	((ROUND % 10)) || "${MREG}" gc >/dev/null || problem "gc failed"
}

# torture_create LABEL ROUNDS MUTATE_FN: kill `create -n m -p model`.
torture_create() {
	local rounds="$1" mutate="$2"
	"$mutate"
	SPAN="$(time_it "${MREG}" create -n m -p model)"
	"$mutate"
	SPAN=$(( (SPAN + $(time_it "${MREG}" create -n m -p model)) / 2 ))
	"${MREG}" gc >/dev/null
	BASE="$(all_versions | tr '\n' ' ')"
	for v in $BASE; do
		"${MREG}" download "$v" -o "base-$v" >/dev/null
		remember "$v" "base-$v"
		rm -rf "base-$v"
	done
	log "$LABEL: one create takes about ${SPAN} ms here"
	for ((ROUND = 1; ROUND <= rounds; ROUND++)); do
		"$mutate"
		kill_at_random "${MREG}" create -n m -p model
		check_store model
		rerun "${MREG}" create -n m -p model
		check_store model new
		forget_new
		maybe_gc
	done
}

mutate_big() {
	if [[ ! -f model/big.bin ]]; then
		mkdir -p model
		head -c $((16 * 1024 * 1024)) /dev/urandom >model/big.bin
		echo config >model/config.json
	fi
	head -c 16 /dev/urandom |
		dd of=model/big.bin bs=1 seek=$(( (RANDOM * 32768 + RANDOM) % (16 * 1024 * 1024 - 16) )) conv=notrunc status=none
}

mutate_many() {
	local i
	if [[ ! -d model/d0 ]]; then
		for i in $(seq 0 149); do
			mkdir -p "model/d$((i % 20))"
			head -c $((1000 + i * 7)) /dev/urandom >"model/d$((i % 20))/f$i.bin"
		done
	fi
	# a few files change each round: new blobs for them, the rest dedup
	for i in 1 2 3; do
		i=$((RANDOM % 150))
		head -c 64 /dev/urandom >>"model/d$((i % 20))/f$i.bin"
	done
}

@test "kill -9 torture: create of one big file" {
	LABEL="create, one big file"
	torture_create $((50 * SCALE)) mutate_big
	report "create (big file)"
}

@test "kill -9 torture: create of many small files" {
	LABEL="create, many small files"
	torture_create $((50 * SCALE)) mutate_many
	report "create (150 small files)"
}

# A bundle (and, with a registry, a pushed artifact) of x:1 from another store.
make_source() {
	mkdir -p src/model/sub
	head -c $((8 * 1024 * 1024)) /dev/urandom >src/model/weights.bin
	for i in $(seq 1 40); do echo "file $i" >"src/model/sub/f$i.txt"; done
	MREG_DIR="${TEST_DIR}/src/.mreg" "${MREG}" init >/dev/null
	MREG_DIR="${TEST_DIR}/src/.mreg" "${MREG}" create -n x -p src/model >/dev/null
	MREG_DIR="${TEST_DIR}/src/.mreg" "${MREG}" package x:1 -o x.tar >/dev/null
}

# torture_land LABEL ROUNDS CMD...: kill a command that lands x:1 as x:rN
# (import, pull); "-v rN" is appended.
torture_land() {
	local rounds="$1"
	shift
	make_version_base
	SPAN="$(time_it "$@" -v t1)"
	SPAN=$(( (SPAN + $(time_it "$@" -v t2)) / 2 ))
	"${MREG}" delete x:t1 >/dev/null
	"${MREG}" delete x:t2 >/dev/null
	"${MREG}" gc >/dev/null
	log "$LABEL: one run takes about ${SPAN} ms here"
	for ((ROUND = 1; ROUND <= rounds; ROUND++)); do
		kill_at_random "$@" -v "r$ROUND"
		check_store src/model
		rerun "$@" -v "r$ROUND"
		check_store src/model new
		forget_new
		maybe_gc
	done
}

# The base: m:1 (a small model) in this store.
make_version_base() {
	make_model model
	"${MREG}" create -n m -p model >/dev/null
	remember m:1 model
	BASE="m:1"
}

@test "kill -9 torture: import" {
	LABEL=import
	make_source
	torture_land $((45 * SCALE)) "${MREG}" import x.tar
	report import
}

@test "kill -9 torture: pull" {
	LABEL=pull
	make_source
	start_registry
	MREG_DIR="${TEST_DIR}/src/.mreg" "${MREG}" push x:1 "$REG/team/x" --plain-http >/dev/null ||
		fail "push failed"
	torture_land $((45 * SCALE)) "${MREG}" pull "$REG/team/x:1" --plain-http
	report pull
}

@test "kill -9 torture: gc" {
	LABEL=gc
	make_version_base
	mkdir -p g
	for ((ROUND = 0; ROUND <= 20 * SCALE; ROUND++)); do
		# garbage for gc: a deleted version's 150 blobs, a leftover in tmp/
		for i in $(seq 1 150); do echo "$ROUND $i" >"g/f$i"; done
		"${MREG}" create -n g -p g >/dev/null
		"${MREG}" delete "g:$((ROUND + 1))" >/dev/null
		mkdir -p "${MREG_DIR}/tmp/import-lft$((ROUND % 10))00"
		if ((ROUND == 0)); then
			SPAN="$(time_it "${MREG}" gc)"
			log "gc: one run takes about ${SPAN} ms here"
			continue
		fi
		kill_at_random "${MREG}" gc
		check_store
		rerun "${MREG}" gc
		check_store
		[[ -z "$(find "${MREG_DIR}/tmp" -mindepth 1 ! -name '*.lock')" ]] ||
			{ PROBLEMS=$((PROBLEMS + 1)); problem "the rerun of gc left $(ls -A "${MREG_DIR}/tmp")"; }
	done
	report gc
}

@test "kill -9 torture: update" {
	LABEL=update
	make_version_base
	# a record with many long tags (900 KB), rewritten whole by each update: a
	# record of short ones is written faster than a kill can be aimed at it
	# once the process starts in a few ms (libraries loaded on first use)
	long="$(printf '%03000d' 0)"
	args=()
	for i in $(seq 1 299); do args+=(--tag "k$i=${long}$i"); done
	args+=(--tag "k300=v300")
	"${MREG}" update m:1 "${args[@]}" >/dev/null
	SPAN="$(time_it "${MREG}" update m:1 --tag round=0)"
	for ((ROUND = 1; ROUND <= 25 * SCALE; ROUND++)); do
		kill_at_random "${MREG}" update m:1 --tag "round=$ROUND" --description "round $ROUND"
		check_store
		# the tag is the old one or the new one, never anything else
		shown="$("${MREG}" show m:1)"
		[[ "$shown" == *"round=$((ROUND - 1))"* || "$shown" == *"round=$ROUND"* ]] ||
			{ CORRUPT=$((CORRUPT + 1)); problem "m:1 shows neither round $((ROUND - 1)) nor $ROUND"; }
		[[ "$shown" == *"k300=v300"* ]] || { CORRUPT=$((CORRUPT + 1)); problem "m:1 lost its tags"; }
		rerun "${MREG}" update m:1 --tag "round=$ROUND" --description "round $ROUND"
		[[ "$("${MREG}" show m:1)" == *"round=$ROUND"* ]] ||
			{ PROBLEMS=$((PROBLEMS + 1)); problem "the rerun did not set round=$ROUND"; }
	done
	report update
}

@test "kill -9 torture: the figures" {
	local trials=0 killed=0 problems=0 lost=0 corrupt=0 what t k p l c
	while IFS=$'\t' read -r what t k p l c; do
		trials=$((trials + t))
		killed=$((killed + k))
		problems=$((problems + p))
		lost=$((lost + l))
		corrupt=$((corrupt + c))
	done <"${BATS_FILE_TMPDIR}/totals"
	log "kill -9 torture: $trials trials ($killed killed while running), $problems fsck problems, $lost lost, $corrupt corrupt"
	((trials > 0)) || skip "no torture ran"
	[[ $((problems + lost + corrupt)) -eq 0 ]]
}
