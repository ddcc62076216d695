#!/usr/bin/env bats
# How create stores files (issue 16): the store's stat cache lets an unchanged
# folder be registered again without reading its files; a file whose blob is
# stored already is read once and not written; many files are stored by a
# pool of workers, every new blob durable before any is renamed into blobs/.
# Behaviour only: what was read, written and recorded, never how long it took.

load helpers

setup() {
	setup_store
	make_model model
	# 2 MiB: above the size read whole into one buffer
	head -c 2097152 /dev/urandom >model/big.bin
	# The racily-clean rule trusts only files older than the cache's stamp:
	# let the file system's clock move past the files' timestamps.
	sleep 1
}

cache_file() {
	echo "${MREG_DIR}/cache/stat"
}

# strace TRACE ARGS...: run mreg ARGS under strace -y, every thread's calls
# (one file a thread, so that none is cut in two) into ${TEST_DIR}/strace.out.
# LeakSanitizer cannot run under ptrace: under strace its leak check is off
# (the rest of ASan and UBSan stays on).
strace_mreg() {
	local trace="$1"
	shift
	rm -rf "${TEST_DIR}/strace.d"
	mkdir "${TEST_DIR}/strace.d"
	ASAN_OPTIONS="${ASAN_OPTIONS:+${ASAN_OPTIONS}:}detect_leaks=0" strace -ff -qq -y -e trace="$trace" -o "${TEST_DIR}/strace.d/t" "${MREG}" "$@" >/dev/null ||
		return 1
	cat "${TEST_DIR}/strace.d"/t.* >"${TEST_DIR}/strace.out"
}

# The read(2) calls mreg makes on files under DIR while running "mreg ARGS...".
reads_under() {
	local dir="$1"
	shift
	strace_mreg read "$@" || return 1
	grep -c "read([0-9]*<${dir}/" "${TEST_DIR}/strace.out" || true
}

# Rewrite the cache with the digest of every entry replaced by FAKE ("<hex>"),
# recomputing the checksum when FIXSUM is 1.
tamper_cache() {
	"${PYTHON}" - "$(cache_file)" "$1" "$2" <<'EOF'
import hashlib, sys
path, fake, fixsum = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3] == "1"
b = bytearray(open(path, "rb").read())
for off in range(32 + 40, len(b) - 32, 72):
    b[off:off + 32] = fake
if fixsum:
    b[-32:] = hashlib.sha256(b[:-32]).digest()
open(path, "wb").write(b)
EOF
}

@test "create writes the stat cache, kept out of git by its own .gitignore" {
	run --separate-stderr mreg create -n m -p model
	assert_status 0
	[[ -f "$(cache_file)" ]]
	statcache_dump "$(cache_file)" >/dev/null
	# one entry per file, keyed by device and inode
	[[ "$(statcache_dump "$(cache_file)" | wc -l)" -eq 4 ]]
	statcache_dump "$(cache_file)" | grep -q " $(stat -c %i model/big.bin) 2097152 "
	git init -q repo
	mv "${MREG_DIR}" repo/.mreg
	export MREG_DIR="${TEST_DIR}/repo/.mreg"
	(cd repo && git check-ignore -q .mreg/cache/stat)
	(cd repo && git add -A . && ! git diff --cached --name-only | grep -q cache)
	# nor does --commit take it
	mreg create -n m -p model --commit >/dev/null
	[[ -z "$(cd repo && git log --all --name-only --format= | grep cache)" ]]
}

@test "an unchanged folder is registered again without reading its files" {
	command -v strace >/dev/null || skip "strace is not installed"
	mreg create -n m -p model >/dev/null
	[[ "$(reads_under "${TEST_DIR}/model" create -n m -p model)" -eq 0 ]]
	run --separate-stderr mreg show m:2 --json
	[[ "$(json_get 'd["digest"]' <<<"$output")" == \
		"$(mreg show m:1 --json | json_get 'd["digest"]')" ]]
	# without the cache (deleted: only speed changes) every file is read
	rm -rf "${MREG_DIR}/cache"
	[[ "$(reads_under "${TEST_DIR}/model" create -n m -p model)" -gt 0 ]]
	[[ "$(mreg show m:3 --json | json_get 'd["digest"]')" == \
		"$(mreg show m:1 --json | json_get 'd["digest"]')" ]]
	mreg fsck >/dev/null
}

@test "an unchanged folder: no file of it is opened or access-checked, each is looked at once" {
	command -v strace >/dev/null || skip "strace is not installed"
	mreg create -n m -p model >/dev/null
	strace_mreg openat,open,newfstatat,lstat,stat,statx,faccessat,faccessat2 create -n m -p model
	local files opened real
	files="$(find model -type f | wc -l)"
	real="$(realpath model)"
	# folders are listed (O_DIRECTORY); no file is opened, by the checks or the
	# ingest (strace -y shows the file an open returned)
	opened="$(grep -E 'open(at)?\(.*= [0-9]+<'"${real}"'/' "${TEST_DIR}/strace.out" |
		grep -vc O_DIRECTORY || true)"
	[[ "$opened" -eq 0 ]] || fail "$opened files opened: $(grep -E "= [0-9]+<${real}/" "${TEST_DIR}/strace.out")"
	# one stat per file, however many checks run; no access check, since the
	# cache vouches for a file of ours it knows unchanged (statcache.h)
	for f in $(find model -type f -printf '%f\n'); do
		n="$(grep -cE "\"([^\"]*/)?${f}\"" "${TEST_DIR}/strace.out" || true)"
		[[ "$n" -eq 1 ]] || fail "$f looked at $n times: $(grep -E "\"([^\"]*/)?${f}\"" "${TEST_DIR}/strace.out")"
	done
	! grep -E 'faccessat2?\(' "${TEST_DIR}/strace.out" || fail "files were access-checked"
	[[ "$files" -ge 4 ]]
	[[ "$(mreg show m:2 --json | json_get 'd["digest"]')" == \
		"$(mreg show m:1 --json | json_get 'd["digest"]')" ]]
}

@test "the cache is what create believes: a forged entry with a valid checksum is used" {
	mreg create -n m -p model >/dev/null
	# every entry now names the blob of a.txt, which exists
	fake="$(sha256sum model/a.txt | cut -d' ' -f1)"
	tamper_cache "$fake" 1
	mreg create -n m -p model >/dev/null
	run mreg show m:2 --json
	[[ "$(json_get '" ".join(sorted(set(f["digest"] for f in d["files"])))' <<<"$output")" == \
		"sha256:$fake" ]]
	# fsck cannot see it (the blobs are sound); it is why the cache lives in the
	# store and is documented as the store's own data
}

@test "a damaged cache is ignored and written anew" {
	mreg create -n m -p model >/dev/null
	fake="$(sha256sum model/a.txt | cut -d' ' -f1)"
	tamper_cache "$fake" 0 # checksum no longer matches
	mreg create -n m -p model >/dev/null
	run mreg diff m:1 m:2
	assert_status 0
	# garbage, a truncated file, an empty file, a folder: all ignored
	v=2
	for bad in garbage truncated empty folder; do
		rm -rf "$(cache_file)"
		case $bad in
		garbage) head -c 5000 /dev/urandom >"$(cache_file)" ;;
		truncated) mreg create -n m -p model >/dev/null
			v=$((v + 1))
			truncate -s 200 "$(cache_file)" ;;
		empty) : >"$(cache_file)" ;;
		folder) mkdir "$(cache_file)" ;;
		esac
		run --separate-stderr mreg create -n m -p model
		assert_status 0
		[[ "$stderr" != *cache* && "$stderr" != *stat* ]]
		v=$((v + 1))
		run mreg diff m:1 "m:$v"
		assert_status 0
	done
	rm -rf "$(cache_file)"
	mreg create -n m -p model >/dev/null
	[[ "$(statcache_dump "$(cache_file)" | wc -l)" -eq 4 ]]
	mreg fsck >/dev/null
}

@test "a cache in the text format of older versions is ignored and written anew" {
	command -v strace >/dev/null || skip "strace is not installed"
	mreg create -n m -p model >/dev/null
	# version 1 (text), well formed, its checksum right, every digest forged to
	# name a blob that exists: had it been read, create would record them
	fake="$(sha256sum model/a.txt | cut -d' ' -f1)"
	"${PYTHON}" - "$(cache_file)" "$fake" <<'EOF'
import hashlib, struct, sys
path, fake = sys.argv[1], sys.argv[2]
b = open(path, "rb").read()
count, stamp = struct.unpack_from("<Qq", b, 8)
text = "mreg stat cache 1\nstamp %d\n" % stamp
for i in range(count):
    text += "%d %d %d %d %d %s\n" % (struct.unpack_from("<QQQqq", b, 32 + 72 * i) + (fake,))
text += "end %s\n" % hashlib.sha256(text.encode()).hexdigest()
open(path, "w").write(text)
EOF
	! statcache_dump "$(cache_file)" 2>/dev/null || fail "the text cache read as a binary one"
	[[ "$(reads_under "${TEST_DIR}/model" create -n m -p model)" -gt 0 ]]
	run mreg diff m:1 m:2
	assert_status 0
	for f in a.txt big.bin; do
		[[ "$(mreg show m:2 --json | json_get "[f['digest'] for f in d['files'] if f['path'] == '$f'][0]")" == \
			"$(file_digest "model/$f")" ]]
	done
	# rewritten in the current format, every file in it
	[[ "$(statcache_dump "$(cache_file)" | wc -l)" -eq 4 ]]
}

@test "a file changed in place, size and mtime restored, is hashed again (ctime)" {
	mreg create -n m -p model >/dev/null
	touch -r model/a.txt stamp
	printf 'weights v2\n' >model/a.txt # same size
	touch -r stamp model/a.txt
	sleep 1
	mreg create -n m -p model >/dev/null
	[[ "$(mreg show m:2 --json | json_get '[f["digest"] for f in d["files"] if f["path"] == "a.txt"][0]')" == \
		"$(file_digest model/a.txt)" ]]
}

@test "racily clean: a file not older than the cache's stamp is never cached" {
	touch -d '+1 hour' model/a.txt # mtime in the future: after any stamp
	mreg create -n m -p model >/dev/null
	! statcache_dump "$(cache_file)" | grep -q " $(stat -c %i model/a.txt) " || fail "a.txt is in the cache"
	statcache_dump "$(cache_file)" | grep -q " $(stat -c %i model/big.bin) "
	# and is read again next time, giving its digest
	printf 'weights v3\n' >model/a.txt
	touch -d '+1 hour' model/a.txt
	mreg create -n m -p model >/dev/null
	[[ "$(mreg show m:2 --json | json_get '[f["digest"] for f in d["files"] if f["path"] == "a.txt"][0]')" == \
		"$(file_digest model/a.txt)" ]]
}

@test "a cached file whose blob is gone is read and stored again" {
	mreg create -n m -p model >/dev/null
	mreg delete m:1 >/dev/null
	mreg gc >/dev/null
	[[ "$(blob_count)" -eq 0 ]]
	mreg create -n m -p model >/dev/null
	[[ "$(blob_count)" -eq 4 ]]
	run --separate-stderr mreg fsck
	assert_status 0
	d="$(mreg diff model m:2)"
	[[ "$d" == *"same content"* ]]
}

@test "among many cached files, those whose blob a person deleted are read and stored again" {
	# 60 files against a blobs/ folder of a few KiB: the blobs are found by
	# one listing of the folder rather than one fstatat() each
	mkdir many
	for i in $(seq 1 60); do echo "file $i" >"many/f$i.txt"; done
	sleep 1
	mreg create -n m -p many >/dev/null
	[[ "$(blob_count)" -eq 60 ]]
	rm -f "${MREG_DIR}/blobs/sha256/$(file_digest many/f7.txt | cut -d: -f2)" \
		"${MREG_DIR}/blobs/sha256/$(file_digest many/f42.txt | cut -d: -f2)"
	[[ "$(blob_count)" -eq 58 ]]
	strace_mreg read,getdents64,newfstatat create -n m -p many
	# the two files are read again, no other (one read with data, then end of file)
	[[ "$(grep "read([0-9]*<${TEST_DIR}/many/" "${TEST_DIR}/strace.out" | grep -vc ' = 0$')" -eq 2 ]]
	grep -q "getdents64([0-9]*<${MREG_DIR}/blobs/sha256>" "${TEST_DIR}/strace.out"
	[[ "$(grep -c "newfstatat([0-9]*<${MREG_DIR}/blobs/sha256>" "${TEST_DIR}/strace.out")" -le 2 ]] ||
		fail "blobs looked up one by one" # (the pool checks the two it stores)
	[[ "$(blob_count)" -eq 60 ]]
	run --separate-stderr mreg fsck
	assert_status 0
	[[ "$(mreg diff many m:2)" == *"same content"* ]]
	# the next create finds every blob and reads nothing
	[[ "$(reads_under "${TEST_DIR}/many" create -n m -p many)" -eq 0 ]]
}

@test "a copy whose blobs exist is read once and written nowhere" {
	command -v strace >/dev/null || skip "strace is not installed"
	mreg create -n m -p model >/dev/null
	cp -a model copy # other inodes: no cache hit
	strace_mreg openat,fsync,fdatasync,read create -n c -p copy
	cd "${TEST_DIR}"
	# small files: hashed from one read, no temporary blob; the large one only
	[[ "$(grep -c 'openat(.*tmp/blob-' "${TEST_DIR}/strace.out")" -eq 1 ]]
	# the large one is hashed while copied; its copy is dropped unsynced
	! grep -Eq 'f(data)?sync\([0-9]+<[^>]*tmp/blob-' strace.out || fail "a copy was fsynced"
	# each file read once (one read with data, then end of file)
	for f in a.txt sub/b.bin sub/deeper/c.json; do
		[[ "$(grep "read([0-9]*<${TEST_DIR}/copy/$f>" "${TEST_DIR}/strace.out" |
			grep -vc ' = 0$')" -eq 1 ]]
	done
	[[ "$(blob_count)" -eq 4 ]]
	[[ -z "$(find "${MREG_DIR}/tmp" -type f ! -name '*.lock')" ]]
}

@test "diff of a folder against a version uses the cache: unchanged files are not read" {
	command -v strace >/dev/null || skip "strace is not installed"
	mreg create -n m -p model >/dev/null
	[[ "$(reads_under "${TEST_DIR}/model" diff m:1 model)" -eq 0 ]]
	printf 'weights v2\n' >model/a.txt
	run mreg diff m:1 model
	assert_status 1
	[[ "$output" == *"a.txt"* ]]
	[[ "$output" != *"big.bin"* ]]
	# without a store, diff of two folders still works (reads them)
	cp -a model other
	MREG_DIR="${TEST_DIR}/nostore" run mreg diff model other
	assert_status 0
}

# A folder of N files of 1 to 9,000 bytes; every 50th says "twin".
make_many() {
	local dir="$1" n="$2" i
	mkdir -p "$dir"
	for ((i = 0; i < n; i++)); do
		mkdir -p "$dir/d$((i % 10))"
		if ((i % 50 == 49)); then
			printf 'twin\n' >"$dir/d$((i % 10))/f$i"
		else
			head -c $((1 + (i * 7919) % 9000)) /dev/urandom >"$dir/d$((i % 10))/f$i"
		fi
	done
}

@test "many files: every digest right, equal files one blob, nothing left in tmp/" {
	make_many many 600
	run --separate-stderr mreg create -n many -p many
	assert_status 0
	mreg show many:1 --json | "${PYTHON}" -c '
import hashlib, json, sys
d = json.load(sys.stdin)
assert len(d["files"]) == 600, len(d["files"])
for f in d["files"]:
    data = open("many/" + f["path"], "rb").read()
    assert f["digest"] == "sha256:" + hashlib.sha256(data).hexdigest(), f["path"]
    assert f["size"] == len(data), f["path"]
'
	# 12 files say "twin": 589 distinct contents
	[[ "$(blob_count)" -eq 589 ]]
	[[ -z "$(find "${MREG_DIR}/tmp" -type f ! -name '*.lock' ! -name 'statcache-*')" ]]
	[[ -z "$(find "${MREG_DIR}/tmp" -type f ! -name '*.lock')" ]]
	run --separate-stderr mreg fsck
	assert_status 0
	rm -rf out
	mreg download many:1 -o out >/dev/null
	assert_same_tree many out
}

@test "many files: each new blob fsynced before any is renamed into blobs/, the record last" {
	command -v strace >/dev/null || skip "strace is not installed"
	make_many many 300
	ASAN_OPTIONS="${ASAN_OPTIONS:+${ASAN_OPTIONS}:}detect_leaks=0" strace -f -qq -y -e trace=fsync,rename,renameat2,link -o "${TEST_DIR}/order.out" \
		"${MREG}" create -n many -p many >/dev/null
	"${PYTHON}" - "${TEST_DIR}/order.out" "${MREG_DIR}" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
store = re.escape(sys.argv[2])
synced = [i for i, l in enumerate(lines) if re.search(r"fsync\(\d+<%s/tmp/blob-" % store, l)]
moved = [i for i, l in enumerate(lines)
         if re.search(r'rename(at2)?\(.*"%s/blobs/sha256/[0-9a-f]{64}"' % store, l)]
dirsync = [i for i, l in enumerate(lines) if re.search(r"fsync\(\d+<%s/blobs/sha256>" % store, l)]
record = [i for i, l in enumerate(lines) if "/models/many/1.yaml" in l]
# 300 files, 6 say "twin": 295 new blobs, each fsynced once and renamed once
assert len(synced) == 295 and len(moved) == 295, (len(synced), len(moved))
assert max(synced) < moved[0]
# and every one of those fsyncs has returned before the first rename
before = lines[:moved[0]]
unfinished = sum(1 for l in before if "fsync(" in l and "<unfinished" in l)
resumed = sum(1 for l in before if "fsync resumed>" in l)
assert unfinished == resumed, (unfinished, resumed)
# the blobs' folder is fsynced after the last rename, and the record comes after
assert dirsync and record and max(moved) < dirsync[-1] < record[0], (dirsync, record[:1])
EOF
}

@test "import of a many-file bundle: every staged blob fsynced before any lands" {
	command -v strace >/dev/null || skip "strace is not installed"
	make_many many 200
	mreg create -n many -p many >/dev/null
	mreg package many:1 -o many.tar >/dev/null
	export MREG_DIR="${TEST_DIR}/other/.mreg"
	mreg init >/dev/null
	ASAN_OPTIONS="${ASAN_OPTIONS:+${ASAN_OPTIONS}:}detect_leaks=0" strace -f -qq -y -e trace=fsync,rename,renameat2 -o "${TEST_DIR}/order.out" \
		"${MREG}" import many.tar >/dev/null
	# 200 files, 4 say "twin": 197 blobs, each fsynced in the stage, then landed
	"${PYTHON}" "${BATS_TEST_DIRNAME}/stage_order.py" "${TEST_DIR}/order.out" "${MREG_DIR}" import 197
	run --separate-stderr mreg fsck
	assert_status 0
	rm -rf out
	mreg download many:1 -o out >/dev/null
	assert_same_tree many out
}
