#!/usr/bin/env bats
# mreg download: exact files and modes, all or nothing, every digest verified.

load helpers

setup() {
	setup_store
	make_model model
	cp -a model v1
	mreg create -n churn -p model >/dev/null
	printf 'weights v2\n' >model/a.txt
	chmod 0700 model/sub/deeper
	printf 'new\n' >model/sub/deeper/new.txt
	chmod 0444 model/sub/deeper/new.txt
	cp -a model v2
	mreg create -n churn -p model >/dev/null
	# the version's files, as the record lists them (sorted)
	b_digest="$(file_digest model/sub/b.bin)"
}

@test "download churn:2 -o out/ writes exactly the registered files with their modes" {
	run --separate-stderr mreg download churn:2 -o out/
	assert_status 0
	[[ "$output" == "downloaded churn:2 to out/ (4 files, "*"every digest verified)" ]]
	[[ -z "$stderr" ]]
	assert_same_tree v2 out
	# nothing but the files (and their folders)
	[[ "$(find out ! -type f ! -type d | wc -l)" -eq 0 ]]
	assert_no_staging .
}

@test "download churn:1 gives the first version back" {
	run --separate-stderr mreg download churn:1 -o out
	assert_status 0
	assert_same_tree v1 out
}

@test "download NAME and NAME@latest give the latest version" {
	mreg download churn -o a >/dev/null
	mreg download churn@latest -o b >/dev/null
	assert_same_tree v2 a
	assert_same_tree v2 b
}

@test "download a single-file model" {
	head -c 70000 /dev/urandom >w.bin
	chmod 0600 w.bin
	mreg create -n single -p w.bin >/dev/null
	run --separate-stderr mreg download single:1 -o out
	assert_status 0
	cmp w.bin out/w.bin
	[[ "$(stat -c %a out/w.bin)" == 600 ]]
	[[ "$(ls out)" == w.bin ]]
}

@test "download into an existing folder adds the files and leaves others alone" {
	mkdir out
	echo mine >out/mine.txt
	run --separate-stderr mreg download churn:2 -o out
	assert_status 0
	[[ "$(cat out/mine.txt)" == mine ]]
	rm out/mine.txt
	assert_same_tree v2 out
	assert_no_staging .
}

@test "download refuses to overwrite an existing file, and writes nothing" {
	mkdir -p out/sub
	echo mine >out/sub/b.bin
	run --separate-stderr mreg download churn:2 -o out
	assert_status 1
	assert_one_error "out/sub/b.bin" "already exists"
	[[ -z "$output" ]]
	[[ "$(cat out/sub/b.bin)" == mine ]]
	[[ "$(find out -type f)" == out/sub/b.bin ]]
	assert_no_staging .
}

@test "downloading twice to the same folder: the second is refused" {
	mreg download churn:2 -o out >/dev/null
	run --separate-stderr mreg download churn:2 -o out
	assert_status 1
	assert_one_error "already exists"
	assert_same_tree v2 out
}

@test "download to a path that is a file: refused" {
	echo x >out
	run --separate-stderr mreg download churn:2 -o out
	assert_status 1
	assert_one_error "out" "not a folder"
	[[ "$(cat out)" == x ]]
}

@test "a corrupt blob stops download: names the file and the digest, leaves nothing" {
	corrupt_blob "$b_digest"
	run --separate-stderr mreg download churn:2 -o out
	assert_status 1
	assert_one_error "sub/b.bin" "$b_digest"
	[[ -z "$output" ]]
	[[ ! -e out ]]
	assert_no_staging .
}

@test "a corrupt blob: nothing left in an existing output folder either" {
	corrupt_blob "$b_digest"
	mkdir out
	echo mine >out/mine.txt
	run --separate-stderr mreg download churn:2 -o out
	assert_status 1
	assert_one_error "sub/b.bin" "$b_digest"
	[[ "$(cd out && find . | sort | tr '\n' ' ')" == ". ./mine.txt " ]]
	assert_no_staging .
}

@test "a corrupt blob of the same size in the last file: still caught" {
	# c.json and new.txt come after b.bin; corrupt the last file in record order
	last="$(mreg show churn:2 --json | json_get 'd["files"][-1]["digest"]')"
	lastpath="$(mreg show churn:2 --json | json_get 'd["files"][-1]["path"]')"
	corrupt_blob "$last"
	run --separate-stderr mreg download churn:2 -o deep/out
	assert_status 1
	assert_one_error "$lastpath" "$last"
	[[ ! -e deep/out ]]
	assert_no_staging .
}

@test "a missing blob stops download: names it, leaves nothing" {
	rm -f ".mreg/blobs/sha256/${b_digest#sha256:}"
	run --separate-stderr mreg download churn:2 -o out
	assert_status 1
	assert_one_error "sub/b.bin" "$b_digest" "missing"
	[[ ! -e out ]]
	assert_no_staging .
}

@test "a truncated blob stops download" {
	blob=".mreg/blobs/sha256/${b_digest#sha256:}"
	chmod u+w "$blob"
	truncate -s 3 "$blob"
	run --separate-stderr mreg download churn:2 -o out
	assert_status 1
	assert_one_error "sub/b.bin" "$b_digest"
	[[ ! -e out ]]
	assert_no_staging .
}

@test "download of a missing model or version: exit 1, nothing written" {
	run --separate-stderr mreg download nosuch -o out
	assert_status 1
	assert_one_error "nosuch"
	run --separate-stderr mreg download churn:9 -o out
	assert_status 1
	assert_one_error "churn" "9"
	[[ ! -e out ]]
}

@test "download without -o or with two models: exit 2" {
	run --separate-stderr mreg download churn:2
	assert_status 2
	assert_one_error "-o"
	run --separate-stderr mreg download churn:1 churn:2 -o out
	assert_status 2
	[[ ! -e out ]]
}

@test "progress: create and download print nothing on stderr when it is not a terminal" {
	# large enough for the progress callback to fire many times (every 16 MiB)
	mkdir big
	head -c $((96 * 1024 * 1024)) /dev/urandom >big/weights.bin
	echo small >big/small.txt
	run --separate-stderr mreg create -n big -p big
	assert_status 0
	[[ -z "$stderr" ]] || fail "create wrote on stderr: $(printf '%q' "$stderr")"
	run --separate-stderr mreg download big:1 -o out
	assert_status 0
	[[ -z "$stderr" ]] || fail "download wrote on stderr: $(printf '%q' "$stderr")"
	assert_same_tree big out
	# the same with stderr redirected to a file, as a script would (the
	# second version holds what the first does: create says so, nothing else)
	mreg create -n big -p big 2>err.txt >/dev/null
	mreg download big:2 -o out2 2>>err.txt >/dev/null
	[[ "$(cat err.txt)" == "mreg: note: same content as big:1 (mreg diff shows what differs in metadata)" ]] ||
		fail "stderr: $(cat err.txt)"
}

@test "a record that came through git naming a file in .git/ or .mreg/ is refused: download writes no hook" {
	rec="${MREG_DIR}/models/churn/2.yaml"
	chmod u+w "$rec" 2>/dev/null || true
	for planted in ".git/hooks/post-checkout" "sub/.GIT/config" ".mreg/config.yaml"; do
		cp "$rec" evil.yaml
		# the first file's path becomes the planted one (the list stays sorted: it is first)
		python3 - "$planted" evil.yaml <<'PY'
import re, sys
planted, path = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"(files:\n\s*- path: )[^\n]+", lambda m: m.group(1) + planted, text, count=1)
open(path, "w").write(text)
PY
		mkdir -p "${MREG_DIR}/models/evil"
		sed 's/^name: churn$/name: evil/' evil.yaml >"${MREG_DIR}/models/evil/1.yaml"
		run --separate-stderr mreg download evil:1 -o out
		assert_status 1
		assert_contains "$stderr" "file path '$planted' is inside a .git or .mreg folder, which a model never holds"
		[[ ! -e out ]] || fail "download wrote out/ for $planted"
		rm -rf "${MREG_DIR}/models/evil"
	done
}

@test "download never writes through a symbolic link: not the target folder, not a folder inside it" {
	mkdir -p out elsewhere
	ln -s ../elsewhere out/sub
	run --separate-stderr mreg download churn:2 -o out
	assert_status 1
	assert_contains "$stderr" "/out/sub: is a symbolic link, and download never writes through one"
	[[ -z "$(ls -A elsewhere)" ]] || fail "a file was written through the link: $(ls -A elsewhere)"
	[[ "$(ls -A out)" == sub ]] || fail "download wrote into out/: $(ls -A out)"
	ln -s elsewhere linked
	run --separate-stderr mreg download churn:2 -o linked
	assert_status 1
	assert_contains "$stderr" "linked: is a symbolic link, and download never writes through one (give the folder it points at)"
	[[ -z "$(ls -A elsewhere)" ]] || fail "a file was written through the link"
}
