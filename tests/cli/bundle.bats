#!/usr/bin/env bats
# Bundles: package, import, unpack, verify. Round trips, byte-identical
# repackaging, OCI tools reading the bundle, hostile archives refused with the
# store and the target folder unchanged. (Flat memory and progress lines with
# big files: big.bats, in the slow suite.)

load helpers

HOSTILE="${BATS_TEST_DIRNAME}/hostile_bundle.py"

setup() {
	setup_store
	make_model model
	"$PYTHON" "${BATS_TEST_DIRNAME}/weightgen.py" safetensors random:300000 model/weights.safetensors
	run --separate-stderr mreg create -n demo -p model --tag team=vision --description "a demo"
	assert_status 0
}

# A second store, empty, for imports: echo its MREG_DIR.
fresh_store() {
	local dir="${TEST_DIR}/$1/.mreg"
	MREG_DIR="$dir" "${MREG}" init >/dev/null || return 1
	echo "$dir"
}

@test "package, import on a fresh store, download: identical files and modes" {
	run --separate-stderr mreg package demo:1 -o demo.tar
	assert_status 0
	assert_contains "$output" "packaged demo:1 into demo.tar (4 files"
	[[ -z "$stderr" ]] || fail "stderr: $stderr"
	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr mreg import demo.tar
	assert_status 0
	assert_contains "$output" "imported demo:1 from demo.tar (4 files"
	MREG_DIR="$other" run --separate-stderr mreg download demo:1 -o out
	assert_status 0
	assert_same_tree model out
	MREG_DIR="$other" run --separate-stderr mreg show demo:1 --json
	[[ "$(echo "$output" | json_get 'd["tags"]["team"]')" == vision ]]
	[[ "$(echo "$output" | json_get 'd["description"]')" == "a demo" ]]
}

@test "the same version gives byte-identical bundles, also after an import elsewhere" {
	for ext in tar tar.gz tar.zst; do
		run mreg package demo:1 -o "one.$ext"
		assert_status 0
		sleep 1 # a time stamp anywhere would differ now
		run mreg package demo:1 -o "two.$ext"
		assert_status 0
		cmp "one.$ext" "two.$ext" || fail "$ext bundles differ"
	done
	other="$(fresh_store b)"
	MREG_DIR="$other" run mreg import one.tar.zst
	assert_status 0
	MREG_DIR="$other" run mreg package demo:1 -o b.tar
	assert_status 0
	cmp one.tar b.tar || fail "the bundle made after importing elsewhere differs"
	# Fixed tar metadata, metadata entries first.
	tar -tvf one.tar >listing
	! grep -v ' 0/0 ' listing || fail "an entry is not owned by 0/0"
	! grep -v '1970-01-01 00:00' listing || fail "an entry has a real time stamp"
	[[ "$(tar -tf one.tar | head -4 | tr '\n' ' ')" == "oci-layout index.json blobs/ blobs/sha256/ " ]]
}

@test "compression by name or --compress; --json; no overwrite without --force" {
	run --separate-stderr mreg package demo -o b.tar.gz --json
	assert_status 0
	[[ "$(echo "$output" | json_get 'd["compression"]')" == gzip ]]
	[[ "$(echo "$output" | json_get 'd["file_count"]')" == 4 ]]
	[[ "$(echo "$output" | json_get 'd["manifest_digest"]')" == sha256:* ]]
	gzip -t b.tar.gz
	run --separate-stderr mreg package demo:1 -o b.zst.bundle --compress zstd
	assert_status 0
	zstd -q -t b.zst.bundle || fail "not zstd"
	run --separate-stderr mreg package demo:1 -o b.tar.gz
	assert_status 1
	assert_one_error "b.tar.gz: already exists"
	run --separate-stderr mreg package demo:1 -o b.tar.gz --force
	assert_status 0
	run --separate-stderr mreg package demo:1 -o x.tar --compress lz4
	assert_status 2
}

@test "a damaged store blob stops package, naming the file and the blob" {
	digest="$(version_file_digest demo:1 weights.safetensors)"
	corrupt_blob "$digest"
	run --separate-stderr mreg package demo:1 -o v.tar
	assert_status 1
	assert_one_error "weights.safetensors: blob ${digest} does not match its digest"
	[[ ! -e v.tar ]] || fail "a bundle was written"
	assert_no_staging .
	[[ -z "$(ls -A . | grep mreg-package)" ]] || fail "a temporary file was left"
}

@test "package checks every blob it ships: a damaged one among 300 small files, or a large one, stops it" {
	# Small blobs are hashed on a thread of their own beside the copy (or, when
	# that thread is behind, from the copy's buffer), large ones by the copy's
	# own second thread: each finds the damage.
	mkdir many
	for i in $(seq 1 300); do printf 'file %s\n' "$i" >"many/f$i.txt"; done
	head -c $((9 * 1024 * 1024)) /dev/urandom >many/large.bin
	run --separate-stderr mreg create -n many -p many
	assert_status 0
	digest="$(version_file_digest many:1 f250.txt)"
	corrupt_blob "$digest"
	run --separate-stderr mreg package many:1 -o many.tar
	assert_status 1
	assert_one_error "f250.txt: blob ${digest} does not match its digest"
	[[ ! -e many.tar ]] || fail "a bundle was written"
	[[ -z "$(ls -A . | grep mreg-package)" ]] || fail "a temporary file was left"
	# Mended from the source, it packages; then the large one is damaged.
	chmod u+w "${MREG_DIR}/blobs/sha256/${digest#sha256:}"
	cp many/f250.txt "${MREG_DIR}/blobs/sha256/${digest#sha256:}"
	chmod u-w "${MREG_DIR}/blobs/sha256/${digest#sha256:}"
	run --separate-stderr mreg package many:1 -o many.tar
	assert_status 0
	rm many.tar
	large="$(version_file_digest many:1 large.bin)"
	corrupt_blob "$large"
	run --separate-stderr mreg package many:1 -o many.tar
	assert_status 1
	assert_one_error "large.bin: blob ${large} does not match its digest"
	[[ ! -e many.tar ]] || fail "a bundle was written"
}

@test "package refuses a FIFO, a symbolic link, a device or a short file planted as a blob, at once and leaving nothing" {
	# The blob is opened non-blocking and must be a regular file of its
	# recorded size: a FIFO would block an open or a read for ever.
	digest="$(version_file_digest demo:1 weights.safetensors)"
	blob="${MREG_DIR}/blobs/sha256/${digest#sha256:}"
	mv "$blob" "${TEST_DIR}/saved"
	plant() { rm -f "$blob"; "$@"; }
	check_refused() {
		run --separate-stderr timeout 60 "${MREG}" package demo:1 -o v.tar
		assert_status 1
		assert_one_error "weights.safetensors: blob ${digest} $1"
		[[ ! -e v.tar ]] || fail "a bundle was written"
		[[ -z "$(ls -A . | grep mreg-package)" ]] || fail "a temporary file was left"
	}
	plant mkfifo "$blob"
	check_refused "is not a regular file"
	plant ln -s "${TEST_DIR}/saved" "$blob"
	check_refused "is a symbolic link, not a file"
	if mknod "$blob" c 1 5 2>/dev/null; then # /dev/zero's numbers, as root
		check_refused "is not a regular file"
		rm -f "$blob"
	fi
	head -c 100 "${TEST_DIR}/saved" >"${TEST_DIR}/short"
	plant mv "${TEST_DIR}/short" "$blob"
	check_refused "has 100 bytes where its record says"
	plant mv "${TEST_DIR}/saved" "$blob"
	run --separate-stderr mreg package demo:1 -o v.tar
	assert_status 0
}

@test "package opens each blob once, checks it by that descriptor, and writes one archive wherever it goes" {
	# The copy opens a blob once (non-blocking, no fcntl to undo it) and hands
	# the descriptor to the check; a plain, a zstd and a bundle on another
	# filesystem hold the same archive.
	command -v strace >/dev/null || skip "strace is not installed"
	mkdir many
	for ((i = 0; i < 200; i++)); do head -c $((1 + i * 331)) /dev/urandom >"many/f$i"; done
	mreg create -n many -p many >/dev/null
	ASAN_OPTIONS="${ASAN_OPTIONS:+${ASAN_OPTIONS}:}detect_leaks=0" strace -f -qq \
		-e trace=openat,open,fcntl -o "${TEST_DIR}/package.out" \
		"${MREG}" package many:1 -o plain.tar >/dev/null
	opens="$(grep -cE 'open(at)?\(.*/blobs/sha256/[0-9a-f]{64}"' "${TEST_DIR}/package.out" || true)"
	[[ "$opens" -eq 200 ]] || fail "$opens opens of 200 blobs"
	! grep -E 'fcntl\(.*F_SETFL' "${TEST_DIR}/package.out" || fail "a blob's flags were changed"
	mreg package many:1 -o packed.tar.zst >/dev/null
	zstd -dqc packed.tar.zst >unpacked.tar
	cmp plain.tar unpacked.tar || fail "the plain and the zstd bundle hold different archives"
	other=/dev/shm
	if [[ -d "$other" && -w "$other" && "$(stat -c %d "$other")" != "$(stat -c %d "${MREG_DIR}")" ]]; then
		out="$(mktemp -d "$other/mreg-bats.XXXXXX")"
		run --separate-stderr mreg package many:1 -o "$out/other.tar"
		assert_status 0
		cmp plain.tar "$out/other.tar" || { rm -rf "$out"; fail "the bundle on $other differs"; }
		rm -rf "$out"
	fi
	other_store="$(fresh_store b)"
	MREG_DIR="$other_store" run --separate-stderr mreg import plain.tar
	assert_status 0
	MREG_DIR="$other_store" run --separate-stderr mreg download many:1 -o out
	assert_same_tree many out
}

@test "importing what the store has is a no-op; other content under the name is refused" {
	mreg package demo:1 -o demo.tar >/dev/null
	before="$(store_snapshot)"
	run --separate-stderr mreg import demo.tar
	assert_status 0
	assert_contains "$output" "already in the store with the same content"
	assert_store_unchanged "$before"
	other="$(fresh_store b)"
	mkdir other && echo different >other/x.txt
	MREG_DIR="$other" mreg create -n demo -v 1 -p other >/dev/null
	before="$(store_snapshot "$other")"
	MREG_DIR="$other" run --separate-stderr mreg import demo.tar
	assert_status 1
	assert_one_error "demo version 1 already exists with other content"
	[[ "$(store_snapshot "$other")" == "$before" ]] || fail "the store changed"
	MREG_DIR="$other" run --separate-stderr mreg import demo.tar -v 2 --json
	assert_status 0
	[[ "$(echo "$output" | json_get 'd["version"]')" == 2 ]]
	[[ "$(echo "$output" | json_get 'd["imported"]')" == true ]]
	MREG_DIR="$other" run --separate-stderr mreg import demo.tar -n renamed
	assert_status 0
	assert_contains "$output" "imported renamed:1"
}

@test "unpack of a many-file bundle: no file fsynced one by one; twins copied and verified" {
	command -v strace >/dev/null || skip "strace is not installed"
	mkdir -p many/a many/b
	for ((i = 0; i < 150; i++)); do head -c $((1 + i * 131)) /dev/urandom >"many/a/f$i"; done
	for ((i = 0; i < 5; i++)); do printf 'twin\n' >"many/b/t$i"; done
	head -c 9000000 /dev/urandom >many/b/large.bin
	cp many/b/large.bin many/b/large-copy.bin
	mreg create -n many -p many >/dev/null
	mreg package many:1 -o many.tar >/dev/null
	ASAN_OPTIONS="${ASAN_OPTIONS:+${ASAN_OPTIONS}:}detect_leaks=0" strace -f -qq -y \
		-e trace=fsync,fdatasync,syncfs,copy_file_range -o "${TEST_DIR}/unpack.out" \
		"${MREG}" unpack many.tar -o un >/dev/null
	assert_same_tree many un/model
	# a working copy, as download makes one: only model.yml is written durably
	# (its file and its folder), however many files the model has
	local syncs
	syncs="$(grep -cE '(f(data)?sync|syncfs)\(' "${TEST_DIR}/unpack.out" || true)"
	[[ "$syncs" -le 3 ]] || { grep -E 'sync\(' "${TEST_DIR}/unpack.out" | head >&2; fail "$syncs fsyncs"; }
	if grep -E 'sync\([0-9]+<[^>]*/model/' "${TEST_DIR}/unpack.out"; then
		fail "a model file was fsynced"
	fi
	# the twins beyond the first are copies made in the kernel
	grep -qE 'copy_file_range(\(|.*resumed>).*= [1-9]' "${TEST_DIR}/unpack.out" ||
		fail "no copy_file_range"
	assert_no_staging .
}

@test "unpack writes the model and an Azure ML model.yml that mreg create -f reads" {
	mreg package demo:1 -o demo.tar.zst >/dev/null
	run --separate-stderr env -u MREG_DIR "${MREG}" unpack demo.tar.zst -o az
	assert_status 0
	assert_contains "$output" "az ml model create -f az/model.yml"
	assert_same_tree model az/model
	grep -qx 'name: demo' az/model.yml
	grep -qx 'version: "1"' az/model.yml
	grep -qx 'type: custom_model' az/model.yml
	grep -qx 'path: model' az/model.yml
	grep -qx '  team: vision' az/model.yml
	run --separate-stderr mreg create -f az/model.yml -v 7
	assert_status 0
	[[ "$(mreg show demo:7 --json | json_get 'd["digest"]')" == "$(mreg show demo:1 --json | json_get 'd["digest"]')" ]]
	run --separate-stderr mreg unpack demo.tar.zst -o az
	assert_status 1
	assert_one_error "az: the folder is not empty"
	mkdir empty
	run --separate-stderr mreg unpack demo.tar.zst -o empty -n other -v 3
	assert_status 0
	grep -qx 'name: other' empty/model.yml
	assert_no_staging .
}

@test "verify: OK, --json, and a damaged bundle fails naming the entry" {
	mreg package demo:1 -o demo.tar >/dev/null
	run --separate-stderr mreg verify demo.tar
	assert_status 0
	assert_contains "$output" "demo.tar: OK: demo:1 (custom_model), 4 files"
	assert_contains "$output" "signature: none"
	run --separate-stderr mreg verify demo.tar --json
	assert_status 0
	[[ "$(echo "$output" | json_get 'd["ok"]')" == true ]]
	python3 "$HOSTILE" demo.tar digest bad.tar
	run --separate-stderr mreg verify bad.tar
	assert_status 1
	assert_one_error "bad.tar: entry 'blobs/sha256/" "content does not match its digest"
	run --separate-stderr mreg verify bad.tar --json
	assert_status 1
	[[ "$(echo "$output" | json_get 'd["ok"]')" == false ]]
	run --separate-stderr mreg verify missing.tar
	assert_status 1
}

# refused CASE NEEDLE...: the hostile bundle of CASE is refused by verify,
# import and unpack with exit status 1 and one error containing every NEEDLE;
# the store and the target folder are unchanged.
refused() {
	local case="$1"
	shift
	mreg package demo:1 -o good.tar >/dev/null
	python3 "$HOSTILE" good.tar "$case" "$case.tar" || fail "cannot build $case.tar"
	local before
	before="$(store_snapshot)"
	for cmd in verify "import -v 99" "unpack -o target"; do
		run --separate-stderr mreg $cmd "$case.tar"
		assert_status 1
		assert_one_error "$@"
	done
	assert_store_unchanged "$before"
	[[ ! -e target ]] || fail "the target folder was created"
	[[ -z "$(ls "${MREG_DIR}/tmp" | grep -v ingest.lock)" ]] || fail "staging left in tmp/"
	assert_no_staging .
	[[ ! -e /tmp/mreg-cli-evil.txt && ! -e ../evil.txt ]] || fail "a file landed outside"
}

@test "hostile: an entry with '..'" {
	refused dotdot "entry '../evil.txt': '..' in the path"
}

@test "hostile: an absolute path" {
	refused absolute "'/tmp/mreg-cli-evil.txt': absolute path"
}

@test "hostile: a symbolic link" {
	refused symlink "entry 'blobs/sha256/escape': symbolic link"
}

@test "hostile: a hard link" {
	refused hardlink "entry 'hard': hard link"
}

@test "hostile: a device file" {
	refused device "entry 'blobs/null': device file"
}

@test "hostile: a duplicate entry" {
	refused duplicate "entry 'index.json': appears twice"
}

@test "hostile: a blob whose content is not its digest" {
	refused digest "content does not match its digest"
}

@test "hostile: a blob whose size differs from the manifest" {
	refused size "bytes in the archive, the manifest says"
}

@test "hostile: a manifest path that escapes the model folder" {
	refused escape "path '../../outside.txt' escapes the model folder"
}

@test "hostile: a path inside .git (any case, any depth), where a hook would run" {
	refused dotgit "path 'sub/.Git/hooks/post-checkout' is inside a .git or .mreg folder"
}

@test "hostile: a path inside .mreg, where a store file would be planted" {
	refused dotmreg "path '.mreg/config.yaml' is inside a .git or .mreg folder"
}

@test "hostile: a truncated bundle" {
	refused truncated "runcated"
}

@test "hostile: a zero-length file" {
	refused empty "empty.tar: empty file, not a bundle"
}

@test "hostile: a size field larger than the archive" {
	refused sizefield "claims 8589934591 bytes but the bundle is only"
}

@test "skopeo copies the bundle as an OCI archive and reads the manifest back" {
	command -v skopeo >/dev/null || skip "skopeo is not installed (apt install skopeo)"
	mreg package demo:1 -o demo.tar >/dev/null
	digest="$(mreg verify demo.tar --json | json_get 'd["manifest_digest"]')"
	run skopeo copy oci-archive:demo.tar oci:copied
	assert_status 0
	run skopeo inspect --raw oci:copied
	assert_status 0
	[[ "$(echo "$output" | json_get 'd["artifactType"]')" == application/vnd.cncf.model.manifest.v1+json ]]
	[[ "$(echo "$output" | json_get 'd["config"]["mediaType"]')" == application/vnd.cncf.model.config.v1+json ]]
	[[ "$(echo "$output" | json_get 'len(d["layers"])')" == 4 ]]
	[[ "sha256:$(echo -n "$output" | sha256sum | cut -d' ' -f1)" == "$digest" ]] ||
		fail "skopeo's manifest is not the bundle's"
	run skopeo copy oci-archive:demo.tar:1 oci:tagged:1
	assert_status 0
}
