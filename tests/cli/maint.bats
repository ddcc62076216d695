#!/usr/bin/env bats
# mreg fsck and mreg gc.

load helpers

setup() {
	setup_store
	make_model model
	mreg create -n churn -p model >/dev/null
	printf 'weights v2\n' >model/a.txt
	mreg create -n churn -p model >/dev/null
	# churn:1 and churn:2 share sub/b.bin and sub/deeper/c.json; a.txt differs
	A1="$(mreg show churn:1 --json | json_get 'd["files"][0]["digest"]')"
	A2="$(mreg show churn:2 --json | json_get 'd["files"][0]["digest"]')"
	B="$(mreg show churn:1 --json | json_get 'd["files"][1]["digest"]')"
}

blob_path() {
	echo "${MREG_DIR}/blobs/sha256/${1#sha256:}"
}

@test "fsck on a clean store: exit 0, counts records and blobs" {
	run --separate-stderr mreg fsck
	assert_status 0
	[[ "$output" == "checked 2 records and 4 blobs ("*"): 0 problems" ]]
	[[ -z "$stderr" ]]
	run --separate-stderr mreg fsck --json
	assert_status 0
	[[ "$(json_get '[d["ok"], d["records"], d["blobs"], d["problems"], d["unreferenced"]]' <<<"$output")" == '[true, 2, 4, 0, 0]' ]]
}

@test "fsck on an empty store: exit 0" {
	export MREG_DIR="${TEST_DIR}/e/.mreg"
	mreg init "${TEST_DIR}/e" >/dev/null
	run --separate-stderr mreg fsck
	assert_status 0
	[[ "$output" == "checked 0 records and 0 blobs (0 B): 0 problems" ]]
}

@test "fsck finds a corrupted blob: exit 1, names it" {
	corrupt_blob "$B"
	run --separate-stderr mreg fsck
	assert_status 1
	assert_contains "$output" "$(blob_path "$B"): error: blob ${B}: digest mismatch"
	assert_contains "$output" "[fsck-blob-digest]"
	[[ "${lines[-1]}" == "checked 2 records and 4 blobs ("*"): 1 problem" ]]
	run --separate-stderr mreg fsck --json
	assert_status 1
	[[ "$(json_get 'd["ok"]' <<<"$output")" == false ]]
	[[ "$(json_get '[x["code"] for x in d["diagnostics"] if x["severity"] == "error"]' <<<"$output")" == '["fsck-blob-digest"]' ]]
}

@test "fsck finds a missing blob: exit 1, names every version and file that needs it" {
	rm -f "$(blob_path "$B")"
	run --separate-stderr mreg fsck
	assert_status 1
	for v in 1 2; do
		line="$(grep -F "churn:$v" <<<"$output")" || fail "churn:$v not named: $output"
		assert_contains "$line" "'sub/b.bin'"
		assert_contains "$line" "$B"
		assert_contains "$line" ": error: "
	done
	[[ "${lines[-1]}" == *": 2 problems" ]]
}

@test "fsck finds a truncated blob: exit 1" {
	chmod u+w "$(blob_path "$A1")"
	truncate -s 2 "$(blob_path "$A1")"
	run --separate-stderr mreg fsck
	assert_status 1
	assert_contains "$output" "churn:1 file 'a.txt': blob ${A1} has 2 bytes, the record says 11"
}

@test "fsck finds a record edited into invalid YAML, with file:line" {
	rec="${MREG_DIR}/models/churn/2.yaml"
	chmod u+w "$rec"
	# break line 3 of an otherwise intact record
	sed -i '3s/.*/type: [custom_model/' "$rec"
	run --separate-stderr mreg fsck
	assert_status 1
	# the record's path with the line (3 or after) and column of the problem
	[[ "$output" =~ ${rec}:[3-9]:[0-9]+:\ .*error:\ .+\[fsck-record\] ]] || fail "no file:line: $output"
	run --separate-stderr mreg fsck --json
	assert_status 1
	[[ "$(json_get '[x["code"] for x in d["diagnostics"] if x["severity"] == "error"]' <<<"$output")" == '["fsck-record"]' ]]
}

@test "fsck finds a record whose content digest does not match its files" {
	rec="${MREG_DIR}/models/churn/1.yaml"
	chmod u+w "$rec"
	sed -i "0,/^  digest: ${A1}/s//  digest: ${A2}/" "$rec"
	run --separate-stderr mreg fsck
	assert_status 1
	assert_contains "$output" "[fsck-record-digest]"
}

@test "fsck: leftovers and unreferenced blobs are notes, not problems" {
	echo partial >"${MREG_DIR}/tmp/blob-leftover"
	mreg delete churn:1 >/dev/null
	run --separate-stderr mreg fsck
	assert_status 0
	assert_contains "$output" "note: 1 leftover file of interrupted writes"
	assert_contains "$output" "note: 1 blob no record uses"
	[[ "$(mreg fsck --json | json_get 'd["unreferenced"]')" == 1 ]]
}

@test "gc after delete removes exactly the blobs no record uses" {
	[[ "$(blob_count)" -eq 4 ]]
	mreg delete churn:1 >/dev/null
	run --separate-stderr mreg gc
	assert_status 0
	[[ "${lines[0]}" == "removed ${A1} (11 B)" ]]
	[[ "${lines[1]}" == "removed 1 blob (11 B) and 0 leftovers of interrupted writes; 3 blobs kept" ]]
	[[ "${#lines[@]}" -eq 2 ]]
	[[ "$(blob_count)" -eq 3 ]]
	[[ ! -e "$(blob_path "$A1")" ]]
	[[ -e "$(blob_path "$B")" ]]
	run mreg fsck
	assert_status 0
	mreg download churn:2 -o out >/dev/null
	[[ "$(cat out/a.txt)" == "weights v2" ]]
	# nothing more to do
	run --separate-stderr mreg gc
	assert_status 0
	[[ "$output" == "removed 0 blobs (0 B) and 0 leftovers of interrupted writes; 3 blobs kept" ]]
}

@test "gc --dry-run lists what it would remove and removes nothing" {
	mreg delete churn:2 >/dev/null
	echo partial >"${MREG_DIR}/tmp/blob-leftover"
	before="$(store_snapshot)"
	run --separate-stderr mreg gc --dry-run
	assert_status 0
	[[ "${lines[0]}" == "would remove ${A2} (11 B)" ]]
	[[ "${lines[-1]}" == "would remove 1 blob (11 B) and 1 leftover of interrupted writes; 3 blobs kept" ]]
	assert_store_unchanged "$before"
	[[ -e "${MREG_DIR}/tmp/blob-leftover" ]]
	[[ "$(blob_count)" -eq 4 ]]
}

@test "gc --json: one document with what was removed" {
	mreg delete churn:1 >/dev/null
	mreg delete churn:2 >/dev/null
	run --separate-stderr mreg gc --dry-run --json
	assert_status 0
	[[ "$(json_get '[d["dry_run"], d["blobs_removed"], d["blobs_kept"]]' <<<"$output")" == '[true, 4, 0]' ]]
	[[ "$(blob_count)" -eq 4 ]]
	run --separate-stderr mreg gc --json
	assert_status 0
	[[ "$(json_get '[d["dry_run"], d["blobs_removed"], d["blobs_kept"], d["tmp_removed"]]' <<<"$output")" == '[false, 4, 0, 0]' ]]
	[[ "$(json_get 'len(d["removed"])' <<<"$output")" == 4 ]]
	[[ "$(json_get '"'"$A1"'" in [x["digest"] for x in d["removed"]] and "'"$B"'" in [x["digest"] for x in d["removed"]]' <<<"$output")" == true ]]
	[[ "$(json_get 'd["bytes_removed"]' <<<"$output")" == "$(( 11 + 11 + 10 + 9 ))" ]]
	[[ "$(blob_count)" -eq 0 ]]
}

@test "gc removes leftovers of interrupted writes, and keeps the lock files" {
	echo partial >"${MREG_DIR}/tmp/blob-leftover"
	mkdir "${MREG_DIR}/tmp/some-dir"
	run --separate-stderr mreg gc
	assert_status 0
	assert_contains "$output" "2 leftovers of interrupted writes"
	[[ -z "$(ls "${MREG_DIR}/tmp" | grep -v '\.lock$')" ]]
	run mreg create -n churn -p model -v 3
	assert_status 0
}

@test "gc waits for a create in progress (the shared ingest lock)" {
	mreg delete churn:1 >/dev/null
	lock="${MREG_DIR}/tmp/ingest.lock"
	[[ -e "$lock" ]]
	# hold the lock as a create does while it stores blobs
	# (one process holds it, so killing that process releases it)
	(exec 9<"$lock"; flock -s 9; exec sleep 30) 3>&- &
	holder=$!
	for _ in $(seq 50); do
		flock -n -x "$lock" true || break
		sleep 0.1
	done
	run timeout 2 "${MREG}" gc
	[[ "$status" -eq 124 ]] || fail "gc did not wait for the ingest lock (status $status)"
	[[ -e "$(blob_path "$A1")" ]]
	kill "$holder"
	wait "$holder" || true
	run --separate-stderr mreg gc
	assert_status 0
	[[ ! -e "$(blob_path "$A1")" ]]
}

@test "gc running alongside creates never takes their blobs" {
	mkdir big
	head -c $((48 * 1024 * 1024)) /dev/urandom >big/w.bin
	for i in 1 2 3; do
		printf '%s\n' "$i" >big/n.txt
		# fresh content each time, so each create writes new blobs
		printf 'X%s' "$i" | dd of=big/w.bin bs=1 seek=$((RANDOM * 100)) conv=notrunc status=none
		mreg create -n big -p big >"c$i.out" 2>&1 &
		pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			mreg gc >/dev/null
		done
		wait "$pid" || { cat "c$i.out"; fail "create $i failed"; }
		mreg download "big:$i" -o "out$i" >/dev/null
		cmp big/w.bin "out$i/w.bin"
	done
	run mreg fsck
	assert_status 0
}

@test "a blob that is not a regular file (a link to /dev/zero, a FIFO, wrong size): fsck, download and package refuse it at once" {
	a1="$(blob_path "$A1")"
	b="$(blob_path "$B")"
	chmod u+w "$(dirname "$a1")"
	rm -f "$a1" "$b"
	ln -s /dev/zero "$a1"
	mkfifo "$b"
	# timeout: before the fix these ran forever or blocked in open()
	run --separate-stderr timeout 20 "${MREG}" fsck
	assert_status 1
	assert_contains "$output" "${a1}: error: not a regular file (a link, FIFO or device where a blob should be)"
	assert_contains "$output" "${b}: error: not a regular file"
	run --separate-stderr timeout 20 "${MREG}" download churn:1 -o out
	assert_status 1
	assert_contains "$stderr" "a.txt: blob ${A1} is a symbolic link, not a file (store corrupt? run mreg fsck)"
	[[ ! -e out ]] || fail "download left out/ behind"
	run --separate-stderr timeout 20 "${MREG}" package churn:2 -o b.tar
	assert_status 1
	assert_contains "$stderr" "blob ${B} is not a regular file (store corrupt? run mreg fsck)"
	[[ ! -e b.tar ]] || fail "package left b.tar behind"
}

@test "a blob whose size is not the recorded one is refused before it is read" {
	a2="$(blob_path "$A2")"
	chmod u+w "$(dirname "$a2")" "$a2"
	printf 'longer than it was\n' >>"$a2"
	run --separate-stderr mreg download churn:2 -o out
	assert_status 1
	assert_contains "$stderr" "blob ${A2} has 30 bytes where its record says 11 (store corrupt? run mreg fsck)"
}

@test "gc of thousands of unreferenced blobs (more than one batch of the removal pool): removes exactly those, with their sizes" {
	# 5,000 blobs of known sizes, named by their digests as mreg names them
	"${PYTHON}" - "${MREG_DIR}/blobs/sha256" >"${TEST_DIR}/written" <<'PY'
import hashlib, os, sys
total = 0
for i in range(5000):
    data = (b"loose blob %d " % i) * (1 + i % 7)
    name = hashlib.sha256(data).hexdigest()
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(data)
    os.chmod(os.path.join(sys.argv[1], name), 0o444)
    total += len(data)
    print("sha256:" + name)
print(total)
PY
	total="$(tail -n 1 "${TEST_DIR}/written")"
	sed -i '$d' "${TEST_DIR}/written"
	[[ "$(blob_count)" -eq 5004 ]]
	run --separate-stderr mreg gc --dry-run --json
	assert_status 0
	[[ "$(json_get '[d["blobs_removed"], d["bytes_removed"], d["blobs_kept"]]' <<<"$output")" == "[5000, ${total}, 4]" ]]
	[[ "$(blob_count)" -eq 5004 ]]
	run --separate-stderr mreg gc --json
	assert_status 0
	[[ "$(json_get '[d["blobs_removed"], d["bytes_removed"], d["blobs_kept"]]' <<<"$output")" == "[5000, ${total}, 4]" ]]
	# each removed blob once, with its own size, and none other
	json_get '"\n".join(sorted(x["digest"] for x in d["removed"]))' <<<"$output" >"${TEST_DIR}/removed"
	diff <(sort "${TEST_DIR}/written") "${TEST_DIR}/removed"
	[[ "$(json_get 'sum(x["size"] for x in d["removed"])' <<<"$output")" == "$total" ]]
	[[ "$(blob_count)" -eq 4 ]]
	for d in "$A1" "$A2" "$B"; do [[ -e "$(blob_path "$d")" ]]; done
	run mreg fsck
	assert_status 0
}

@test "gc prints one line per blob removed and a summary whose counts add up" {
	for i in $(seq 1 300); do
		printf 'blob %d\n' "$i" >"${TEST_DIR}/x"
		d="$(sha256sum "${TEST_DIR}/x" | cut -d' ' -f1)"
		cp "${TEST_DIR}/x" "${MREG_DIR}/blobs/sha256/$d"
	done
	run --separate-stderr mreg gc
	assert_status 0
	[[ "$(grep -c '^removed sha256:[0-9a-f]\{64\} ([0-9]* B)$' <<<"$output")" -eq 300 ]]
	# 9 x 7 + 90 x 8 + 201 x 9 = 2592 bytes
	[[ "${lines[-1]}" == "removed 300 blobs (2.5 KiB) and 0 leftovers of interrupted writes; 4 blobs kept" ]]
	[[ "$(blob_count)" -eq 4 ]]
}

@test "fsck reports unreadable records first, then each record's problems in listing order" {
	mreg create -n alpha -p model >/dev/null
	printf 'name: [unclosed\n' >"${MREG_DIR}/models/churn/1.yaml"
	rm -f "$(blob_path "$B")"
	run --separate-stderr mreg fsck --json
	assert_status 1
	[[ "$(json_get '[x["code"] for x in d["diagnostics"] if x["severity"] == "error"]' <<<"$output")" == '["fsck-record", "fsck-blobs-absent", "fsck-blobs-absent"]' ]]
	[[ "$(json_get '[x["message"].split(":")[0] for x in d["diagnostics"] if x["code"] == "fsck-blobs-absent"]' <<<"$output")" == '["alpha", "churn"]' ]]
	[[ "$(json_get 'd["records"]' <<<"$output")" == 2 ]]
}

@test "fsck of more blobs than one batch of its hashing pool: every blob counted once, each problem named once, in the folder's order" {
	mkdir many
	for i in $(seq 1 1500); do printf 'blob %s\n' "$i" >"many/f$i"; done
	run --separate-stderr mreg create -n many -p many
	assert_status 0
	# Damage three blobs the folder lists far apart, and leave a stray file.
	mapfile -t listed < <(ls -U "${MREG_DIR}/blobs/sha256")
	bad=("${listed[10]}" "${listed[1100]}" "${listed[1400]}")
	for h in "${bad[@]}"; do corrupt_blob "sha256:$h"; done
	echo stray >"${MREG_DIR}/blobs/sha256/not-a-digest"
	run --separate-stderr mreg fsck --json
	assert_status 1
	# 2 records + 4 blobs from setup, 1,500 here; the stray is not a blob.
	[[ "$(json_get '[d["blobs"], d["problems"]]' <<<"$output")" == '[1504, 3]' ]] || fail "$output"
	got="$(json_get '" ".join(x["file"].rsplit("/", 1)[1] for x in d["diagnostics"] if x["code"] == "fsck-blob-digest")' <<<"$output")"
	[[ "$got" == "${bad[*]}" ]] || fail "damaged blobs reported as: $got, want (folder order) ${bad[*]}"
	[[ "$(json_get 'sum(x["code"] == "fsck-stray" for x in d["diagnostics"])' <<<"$output")" == 1 ]]
}
