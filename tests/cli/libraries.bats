#!/usr/bin/env bats
# libcurl, libarchive, libxml2 and libgit2 are loaded when a command first needs them
# (src/util/dl_library.h), not when mreg starts: the commands that need none
# of them never map them, those that do still work, and when one cannot be
# loaded the command says which library, by its soname, and which command
# needed it, exits 2 and writes nothing. A library that cannot be loaded is
# made by the LD_PRELOAD shim of tests/fault (MREG_FAULT_CALLS=dlopen: the
# library is looked for where it is not).

load helpers
load fault

setup() {
	setup_store
	make_model model
}

# mapped ARGS...: run mreg with the dynamic loader's file log
# (LD_DEBUG=files), and print the names of the shared objects it mapped, one
# a line. The exit status is mreg's.
mapped() {
	local log="${BATS_TEST_TMPDIR}/ld" status
	rm -f "${log}".*
	LD_DEBUG=files LD_DEBUG_OUTPUT="${log}" mreg "$@" >/dev/null 2>&1
	status=$?
	cat "${log}".* | sed -n 's/.*file=\([^ ]*\).*/\1/p' | sort -u
	return "$status"
}

# assert_not_mapped LIST: none of the three optional libraries is in LIST, and
# libc is (the log was read at all).
assert_not_mapped() {
	[[ "$1" == *libc.so* ]] || fail "no libc.so in the loader's log: '$1'"
	if grep -E '^(libcurl|libarchive|libxml2|libicu|libgit2)' <<<"$1"; then
		fail "mapped a library it does not need"
	fi
}

@test "outside git, --version, create, list, show, validate, diff, download, fsck and gc map none of libcurl, libarchive, libxml2 and libgit2" {
	local out
	out="$(mapped --version)" || fail "--version failed"
	assert_not_mapped "$out"
	out="$(mapped create -n m -p model)" || fail "create failed"
	assert_not_mapped "$out"
	[[ "$(mreg list)" == *"m "*"custom_model"* ]] || fail "create registered nothing"
	printf 'more\n' >model/a.txt
	out="$(mapped create -n m -p model)" || fail "second create failed"
	assert_not_mapped "$out"
	for args in "list" "show m:1" "validate model" "download m:1 -o out" "fsck" "gc"; do
		# shellcheck disable=SC2086 # the words of $args are the arguments
		out="$(mapped $args)" || fail "mreg $args failed"
		assert_not_mapped "$out"
	done
	[[ -f out/a.txt ]] || fail "download wrote no a.txt"
	# diff answers 1: the versions differ
	out="$(mapped diff m:1 m:2)" && fail "diff found no difference"
	assert_not_mapped "$out"
}

@test "package and import load libarchive when they need it, and work" {
	run --separate-stderr mreg create -n m -p model
	assert_status 0
	local out
	out="$(mapped package m:1 -o m.mreg)" || fail "package failed"
	grep -q '^libarchive\.so\.' <<<"$out" || fail "package did not load libarchive: $out"
	[[ -s m.mreg ]] || fail "no bundle written"
	export MREG_DIR="${TEST_DIR}/other"
	run --separate-stderr mreg init
	assert_status 0
	out="$(mapped import "${TEST_DIR}/m.mreg")" || fail "import failed"
	grep -q '^libarchive\.so\.' <<<"$out" || fail "import did not load libarchive: $out"
	run --separate-stderr mreg download m:1 -o copy
	assert_status 0
	assert_same_tree model copy
}

@test "without libarchive, package and import say so, exit 2 and write nothing" {
	require_shim
	run --separate-stderr mreg create -n m -p model
	assert_status 0
	run --separate-stderr mreg package m:1 -o good.mreg
	assert_status 0
	local before files
	before="$(store_snapshot)"
	files="$(ls -A)"

	run --separate-stderr faulty dlopen 1 EIO libarchive -- package m:1 -o m.mreg
	assert_status 2
	fault_injected || fail "the shim made no dlopen fail"
	assert_one_error "mreg package" "libarchive (libarchive.so." "could not be loaded" \
		"cannot open shared object file"
	[[ "$(ls -A)" == "$files" ]] || fail "package left a file: $(ls -A)"
	assert_store_unchanged "$before"

	export MREG_DIR="${TEST_DIR}/other"
	run --separate-stderr mreg init
	assert_status 0
	before="$(store_snapshot)"
	run --separate-stderr faulty dlopen 1 EIO libarchive -- import good.mreg
	assert_status 2
	assert_one_error "mreg import" "libarchive (libarchive.so." "could not be loaded"
	assert_store_unchanged "$before"
	run --separate-stderr faulty dlopen 1 EIO libarchive -- unpack good.mreg -o out
	assert_status 2
	assert_one_error "unpack" "libarchive (libarchive.so." "could not be loaded"
	[[ ! -e out/model ]] || fail "unpack wrote out/model"
}

@test "without libcurl, push, create from a URL and create in a git work tree with a remote say so and write nothing" {
	require_shim
	run --separate-stderr mreg create -n m -p model
	assert_status 0
	local before
	before="$(store_snapshot)"

	# The library is wanted before any connection: no registry needed.
	run --separate-stderr faulty dlopen 1 EIO libcurl -- push m:1 127.0.0.1:9/x/m:1 --plain-http
	assert_status 2
	fault_injected || fail "the shim made no dlopen fail"
	assert_one_error "mreg push" "libcurl (libcurl.so." "could not be loaded"
	assert_store_unchanged "$before"

	run --separate-stderr faulty dlopen 1 EIO libcurl -- create -n u -p https://127.0.0.1:9/w.bin
	assert_status 2
	assert_one_error "mreg create URL" "libcurl (libcurl.so." "could not be loaded"
	assert_store_unchanged "$before"

	# The git remote's URL is parsed (its credentials taken out) by libcurl.
	mkdir repo
	cp -r model repo/model
	git -C repo init -q
	git -C repo -c user.name=t -c user.email=t@example.com add .
	git -C repo -c user.name=t -c user.email=t@example.com commit -qm model
	git -C repo remote add origin https://user:secret@example.com/team/models.git
	run --separate-stderr faulty dlopen 1 EIO libcurl -- create -n g -p repo/model
	assert_status 2
	assert_one_error "mreg create" "libcurl (libcurl.so." "could not be loaded"
	assert_store_unchanged "$before"
	# With libcurl there, the same create records the remote without its password.
	run --separate-stderr mreg create -n g -p repo/model --json
	assert_status 0
	run --separate-stderr mreg show g:1 --json
	assert_status 0
	[[ "$(json_get 'd["source"]["git"]["remote"]' <<<"$output")" == "https://example.com/team/models.git" ]] ||
		fail "remote not recorded as expected: $output"
}

@test "in a git work tree, create and log load libgit2; without it, init, create and log say so and write nothing" {
	require_shim
	rm -rf "${MREG_DIR}"
	mkdir repo
	cp -r model repo/model
	git -C repo init -q
	git -C repo -c user.name=t -c user.email=t@example.com add .
	git -C repo -c user.name=t -c user.email=t@example.com commit -qm model
	cd repo
	unset MREG_DIR

	# init without a folder puts the store at the work tree's root: libgit2 finds it.
	mkdir sub
	run --separate-stderr bash -c "cd sub && LD_PRELOAD='${MREG_FAULTSHIM_FIRST:+${MREG_FAULTSHIM_FIRST}:}${MREG_FAULTSHIM}' MREG_FAULT_CALLS=dlopen MREG_FAULT_N=1 MREG_FAULT_MATCH=libgit2 '${MREG}' init"
	assert_status 2
	assert_one_error "libgit2 (libgit2.so." "could not be loaded" "mreg" "init"
	[[ ! -e .mreg && ! -e sub/.mreg ]] || fail "init made a store"
	(cd sub && mreg init) >/dev/null || fail "init with libgit2 failed"
	[[ -d .mreg ]] || fail "init did not put the store at the work tree's root"

	local before
	before="$(store_snapshot .mreg)"
	run --separate-stderr faulty dlopen 1 EIO libgit2 -- create -n g -p model
	assert_status 2
	assert_one_error "mreg create" "libgit2 (libgit2.so." "could not be loaded"
	[[ "$(store_snapshot .mreg)" == "$before" ]] || fail "the store changed"

	local out
	out="$(mapped create -n g -p model)" || fail "create failed"
	grep -q '^libgit2\.so\.' <<<"$out" || fail "create in git did not load libgit2: $out"
	run --separate-stderr mreg show g:1 --json
	assert_status 0
	[[ "$(json_get 'd["source"]["git"]["path"]' <<<"$output")" == "model" ]] || fail "no git provenance: $output"
	run --separate-stderr faulty dlopen 1 EIO libgit2 -- log g
	assert_status 2
	assert_one_error " log" "libgit2 (libgit2.so." "could not be loaded"
}
