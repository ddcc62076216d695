#!/usr/bin/env bats
# init, finding the store ($MREG_DIR, --store, nearest .mreg/), no store.

load helpers

setup() {
	common_setup
}

@test "init creates the store layout of DESIGN.md" {
	run --separate-stderr mreg init
	assert_status 0
	assert_contains "$output" "Initialized empty mreg store in ${MREG_DIR}"
	[[ -d .mreg/models && -d .mreg/blobs/sha256 && -d .mreg/tmp ]]
	[[ -f .mreg/config.yaml && -f .mreg/lock && -f .mreg/.gitignore ]]
	grep -Eq '^format: *1$' .mreg/config.yaml
	# blobs, tmp and the lock stay out of git; records do not
	grep -q 'blobs' .mreg/.gitignore
	grep -q 'tmp' .mreg/.gitignore
	grep -q 'lock' .mreg/.gitignore
	run grep -c 'models' .mreg/.gitignore
	[[ "$output" == 0 ]]
	[[ -z "$stderr" ]]
}

@test "init twice: exit 1, names the store, changes nothing" {
	mreg init >/dev/null
	before="$(store_snapshot)"
	run --separate-stderr mreg init
	assert_status 1
	assert_one_error "${MREG_DIR}" "already exists"
	assert_store_unchanged "$before"
}

@test "init DIR creates DIR/.mreg" {
	unset MREG_DIR
	mkdir proj
	run --separate-stderr mreg init proj
	assert_status 0
	[[ -f proj/.mreg/config.yaml ]]
	[[ ! -e .mreg ]]
}

@test "the nearest .mreg/ walking up is found" {
	unset MREG_DIR
	mreg init . >/dev/null
	make_model model
	mkdir -p deep/er
	cd deep/er
	run --separate-stderr mreg create -n churn -p ../../model
	assert_status 0
	[[ -f "${TEST_DIR}/.mreg/models/churn/1.yaml" ]]
	run --separate-stderr mreg list
	assert_status 0
	assert_contains "$output" "churn"
}

@test "\$MREG_DIR wins over the nearest .mreg/, --store wins over both" {
	mkdir a b c
	mreg init a >/dev/null
	mreg init b >/dev/null
	mreg init c >/dev/null
	make_model model
	cd a
	MREG_DIR="${TEST_DIR}/b/.mreg" mreg create -n inb -p ../model >/dev/null
	MREG_DIR="${TEST_DIR}/b/.mreg" mreg --store "${TEST_DIR}/c/.mreg" create -n inc -p ../model >/dev/null
	env -u MREG_DIR "${MREG}" create --store "${TEST_DIR}/c/.mreg" -n inc2 -p ../model >/dev/null
	env -u MREG_DIR "${MREG}" create -n ina -p ../model >/dev/null
	[[ -f "${TEST_DIR}/b/.mreg/models/inb/1.yaml" ]]
	[[ -f "${TEST_DIR}/c/.mreg/models/inc/1.yaml" ]]
	[[ -f "${TEST_DIR}/c/.mreg/models/inc2/1.yaml" ]]
	[[ -f "${TEST_DIR}/a/.mreg/models/ina/1.yaml" ]]
	[[ "$(ls "${TEST_DIR}/a/.mreg/models")" == "ina" ]]
	[[ "$(ls "${TEST_DIR}/b/.mreg/models")" == "inb" ]]
}

@test "no store found: exit 2 with a hint to run mreg init" {
	unset MREG_DIR
	# this test needs no .mreg/ above its folder
	d="${TEST_DIR}"
	while [[ "$d" != / ]]; do
		[[ ! -d "$d/.mreg" ]] || skip "a store exists above the test folder: $d/.mreg"
		d="$(dirname "$d")"
	done
	[[ ! -d /.mreg ]] || skip "a store exists at /.mreg"
	make_model model
	for cmd in "list" "show churn" "create -n churn -p model" "fsck" "gc" "download churn -o out"; do
		run --separate-stderr mreg $cmd
		assert_status 2
		assert_one_error "no mreg store" "mreg init"
	done
	[[ ! -e .mreg && ! -e out ]]
}

@test "--store naming a folder that is not a store: exit 2, names it" {
	mkdir notastore
	run --separate-stderr mreg --store "${TEST_DIR}/notastore" list
	assert_status 2
	assert_one_error "notastore" "not an mreg store"
	run --separate-stderr mreg --store "${TEST_DIR}/missing" list
	assert_status 2
	assert_one_error "missing" "no such store"
}

@test "a store of an unknown format version is refused" {
	mreg init >/dev/null
	sed -i 's/^format: *1$/format: 99/' .mreg/config.yaml
	run --separate-stderr mreg list
	assert_status 2
	assert_one_error "config.yaml" "99"
}

@test "a store we may not read says so (permission denied), not 'not an mreg store'" {
	[[ "$(id -u)" == 0 ]] && command -v setpriv >/dev/null || skip "needs root and setpriv to run mreg as another user"
	mreg init >/dev/null
	chmod 700 "${MREG_DIR}"
	chmod 755 "${TEST_DIR}" "$(dirname "${MREG_DIR}")"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "${MREG}" list
	assert_status 2
	assert_contains "$stderr" "${MREG_DIR}: cannot read the store: Permission denied"
	[[ "$stderr" != *"not an mreg store"* ]] || fail "$stderr"
}
