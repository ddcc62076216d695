#!/usr/bin/env bats
# Concurrent writers: the store lock means no version is lost or doubled.

load helpers

setup() {
	setup_store
}

# start_all N CMD...: run CMD N times in the background, all released at once;
# job i writes i.out, i.err and i.status. $i is exported as JOB.
start_all() {
	local n="$1" i
	shift
	rm -f go
	for i in $(seq "$n"); do
		(
			while [[ ! -e go ]]; do sleep 0.005; done
			rc=0
			JOB="$i" "$@" >"$i.out" 2>"$i.err" || rc=$?
			echo "$rc" >"$i.status"
		) 3>&- &
	done
	sleep 0.2
	touch go
	wait
}

@test "8 'mreg create -n m -p model' at once: all succeed, versions 1..8 exactly once" {
	make_model model
	start_all 8 "${MREG}" create -n m -p model
	for i in $(seq 8); do
		[[ "$(cat "$i.status")" == 0 ]] || fail "job $i: $(cat "$i.err")"
		# Same content each time: the note that says so, and nothing else.
		[[ -z "$(grep -v '^mreg: note: same content as m:[0-9]* ' "$i.err")" ]] ||
			fail "job $i wrote on stderr: $(cat "$i.err")"
	done
	[[ "$(cat ./*.err | wc -l)" -ge 1 ]] || fail "no creator said it repeats an earlier version's content"
	[[ "$(cat ./*.out | sed -E 's/^created m:([0-9]+) .*/\1/' | sort -n | tr '\n' ' ')" == "1 2 3 4 5 6 7 8 " ]]
	[[ "$(ls .mreg/models/m | sort -n | tr '\n' ' ')" == "1.yaml 2.yaml 3.yaml 4.yaml 5.yaml 6.yaml 7.yaml 8.yaml " ]]
	run mreg list --json
	[[ "$(json_get 'sorted(int(r["version"]) for r in d)' <<<"$output")" == '[1, 2, 3, 4, 5, 6, 7, 8]' ]]
	run --separate-stderr mreg fsck
	assert_status 0
	[[ "$(blob_count)" -eq 3 ]]
	[[ -z "$(find .mreg/tmp -type f ! -name '*.lock')" ]]
}

@test "8 creators with different content: each version holds its creator's files" {
	for i in $(seq 8); do
		mkdir "model$i"
		head -c $((1024 * 1024 + i)) /dev/urandom >"model$i/weights.bin"
		echo "$i" >"model$i/id.txt"
	done
	start_all 8 sh -c 'exec "$0" create -n m -p "model$JOB"' "${MREG}"
	for i in $(seq 8); do
		[[ "$(cat "$i.status")" == 0 ]] || fail "job $i: $(cat "$i.err")"
		v="$(sed -E 's/^created m:([0-9]+) .*/\1/' "$i.out")"
		mreg download "m:$v" -o "out$i" >/dev/null
		assert_same_tree "model$i" "out$i"
	done
	[[ "$(ls .mreg/models/m | wc -l)" -eq 8 ]]
	run mreg fsck
	assert_status 0
}

@test "4 creators of the same explicit version: exactly one wins, the others get exit 1" {
	for i in $(seq 4); do
		mkdir "model$i"
		echo "$i" >"model$i/id.txt"
	done
	start_all 4 sh -c 'exec "$0" create -n m -v 1.0 -p "model$JOB"' "${MREG}"
	statuses="$(cat ./*.status | sort | tr "\n" " ")"
	[[ "$statuses" == "0 1 1 1 " ]] || fail "statuses: $statuses; $(cat ./*.err)"
	for i in $(seq 4); do
		if [[ "$(cat "$i.status")" == 1 ]]; then
			grep -q "mreg: model m version 1.0 already exists" "$i.err"
		else
			winner="$i"
		fi
	done
	mreg download m:1.0 -o out >/dev/null
	[[ "$(cat out/id.txt)" == "$winner" ]]
	run mreg fsck
	assert_status 0
}

@test "8 concurrent updates of one version: no tag is lost" {
	make_model model
	mreg create -n m -p model >/dev/null
	start_all 8 sh -c 'exec "$0" update m:1 --tag "k$JOB=v$JOB"' "${MREG}"
	for i in $(seq 8); do
		[[ "$(cat "$i.status")" == 0 ]] || fail "job $i: $(cat "$i.err")"
	done
	[[ "$(mreg show m:1 --json | json_get 'sorted(d["tags"].items())')" == \
		'[["k1", "v1"], ["k2", "v2"], ["k3", "v3"], ["k4", "v4"], ["k5", "v5"], ["k6", "v6"], ["k7", "v7"], ["k8", "v8"]]' ]]
}

@test "creates, updates, archives and gc at once: everything consistent afterwards" {
	make_model model
	mreg create -n m -p model >/dev/null
	mkdir other
	head -c $((4 * 1024 * 1024)) /dev/urandom >other/w.bin
	start_all 12 sh -c '
		case $JOB in
		1|2|3|4) exec "$0" create -n m -p model ;;
		5|6) exec "$0" create -n o -p other ;;
		7|8) exec "$0" update m:1 --tag "k$JOB=v" ;;
		9) exec "$0" archive m:1 ;;
		*) exec "$0" gc ;;
		esac' "${MREG}"
	for i in $(seq 12); do
		[[ "$(cat "$i.status")" == 0 ]] || fail "job $i: $(cat "$i.err")"
	done
	run mreg list --all --json
	[[ "$(json_get 'sorted(r["name"] + ":" + r["version"] for r in d)' <<<"$output")" == '["m:1", "m:2", "m:3", "m:4", "m:5", "o:1", "o:2"]' ]]
	[[ "$(mreg show m:1 --json | json_get '[d["archived"], sorted(d["tags"])]')" == '[true, ["k7", "k8"]]' ]]
	run --separate-stderr mreg fsck
	assert_status 0
	for v in 1 2 3 4 5; do
		mreg download "m:$v" -o "out-m$v" >/dev/null
		assert_same_tree model "out-m$v"
	done
	mreg download o:2 -o out-o >/dev/null
	assert_same_tree other out-o
}
