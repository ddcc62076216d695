#!/usr/bin/env bats
# mreg validate (custom_model) and create's refusal of invalid models.

load helpers

setup() {
	setup_store
	make_model model
}

# A model folder with one of each problem custom_model must catch.
make_bad_model() {
	make_model bad
	mkfifo bad/pipe
	ln -s /etc/hostname bad/escape
	ln -s ../../outside.txt bad/sub/escape-relative
	echo outside >outside.txt
	ln -s no-such-file bad/dangling
}

# The store, with every file's content, minus tmp/ (in-flight writes).
snapshot() {
	find .mreg -path '*/tmp' -prune -o -print | sort
	store_snapshot
}

@test "validate a valid folder: exit 0, says valid" {
	run --separate-stderr mreg validate model
	assert_status 0
	[[ "$output" == "model: valid custom_model (0 errors, 0 warnings)" ]]
	[[ -z "$stderr" ]]
}

@test "validate a single file: exit 0" {
	run --separate-stderr mreg validate model/a.txt -t custom_model
	assert_status 0
	assert_contains "$output" "valid custom_model"
}

@test "validate needs no store" {
	unset MREG_DIR
	rm -rf .mreg
	run --separate-stderr mreg validate model
	assert_status 0
	[[ "$output" == "model: valid custom_model (0 errors, 0 warnings)" ]]
}

@test "validate: FIFO, escaping symlinks, dangling symlink: exit 1, one diagnostic each" {
	make_bad_model
	run --separate-stderr mreg validate bad
	assert_status 1
	[[ "${lines[-1]}" == "bad: invalid custom_model (4 errors, 0 warnings)" ]]
	# every diagnostic: path: error: message [code]
	diags=("${lines[@]:0:${#lines[@]}-1}")
	[[ "${#diags[@]}" -eq 4 ]]
	for l in "${diags[@]}"; do
		[[ "$l" =~ ^bad/[^:]+:\ error:\ .+\ \[custom-[a-z-]+\]$ ]] || fail "not a diagnostic: '$l'"
	done
	assert_contains "$output" "bad/pipe: error: a FIFO cannot be part of a model [custom-special-file]"
	assert_contains "$output" "bad/escape: error: symlink points outside the model folder, to /etc/hostname [custom-symlink-escape]"
	assert_contains "$output" "bad/sub/escape-relative: error: symlink points outside the model folder, to ${TEST_DIR}/outside.txt [custom-symlink-escape]"
	assert_contains "$output" "bad/dangling: error: symlink points to a missing file [custom-symlink-dangling]"
}

@test "validate --json: one document, valid false, the diagnostics as data" {
	make_bad_model
	run --separate-stderr mreg validate bad --json
	assert_status 1
	[[ -z "$stderr" ]]
	[[ "$(json_get 'd["valid"]' <<<"$output")" == false ]]
	[[ "$(json_get 'd["type"]' <<<"$output")" == custom_model ]]
	[[ "$(json_get 'd["path"]' <<<"$output")" == bad ]]
	[[ "$(json_get 'd["errors"]' <<<"$output")" == 4 ]]
	[[ "$(json_get 'd["warnings"]' <<<"$output")" == 0 ]]
	[[ "$(json_get 'sorted((x["file"], x["code"], x["severity"]) for x in d["diagnostics"])' <<<"$output")" == \
		'[["bad/dangling", "custom-symlink-dangling", "error"], ["bad/escape", "custom-symlink-escape", "error"], ["bad/pipe", "custom-special-file", "error"], ["bad/sub/escape-relative", "custom-symlink-escape", "error"]]' ]]
	[[ "$(json_get 'sorted(d["diagnostics"][0].keys())' <<<"$output")" == '["code", "column", "file", "line", "message", "severity"]' ]]
}

@test "validate --json on a valid folder: valid true, no diagnostics" {
	run --separate-stderr mreg validate model --json
	assert_status 0
	[[ "$(json_get '[d["valid"], d["errors"], d["diagnostics"]]' <<<"$output")" == '[true, 0, []]' ]]
}

@test "a symlink inside the folder is fine; a symlink loop is an error" {
	ln -s a.txt model/link
	ln -s .. model/sub/deeper/up
	run --separate-stderr mreg validate model
	assert_status 1
	assert_contains "$output" "model/sub/deeper/up: error:"
	assert_contains "$output" "[custom-symlink-loop]"
	assert_not_contains "$output" "model/link:"
}

@test "an empty folder is invalid" {
	mkdir empty
	run --separate-stderr mreg validate empty
	assert_status 1
	assert_contains "$output" "empty: error: the model folder holds no files [custom-empty]"
}

@test "validate a missing path: exit 1, names it" {
	run --separate-stderr mreg validate nope
	assert_status 1
	assert_one_error "nope"
}

@test "validate with an unknown type or no path: exit 2" {
	run --separate-stderr mreg validate model -t no_such_type
	assert_status 2
	assert_one_error "no_such_type"
	run --separate-stderr mreg validate
	assert_status 2
}

@test "create refuses an invalid model, lists every diagnostic, store unchanged" {
	mreg create -n churn -p model >/dev/null
	make_bad_model
	before="$(snapshot)"
	run --separate-stderr mreg create -n churn -p bad
	assert_status 1
	[[ -z "$output" ]]
	assert_contains "$stderr" "bad/pipe: error: a FIFO cannot be part of a model [custom-special-file]"
	assert_contains "$stderr" "bad/escape: error: symlink points outside the model folder"
	assert_contains "$stderr" "bad/sub/escape-relative: error: symlink points outside the model folder"
	assert_contains "$stderr" "bad/dangling: error: symlink points to a missing file"
	assert_one_error "bad" "not a valid custom_model" "4 errors"
	[[ "$(snapshot)" == "$before" ]] || fail "the store changed"
	[[ ! -e .mreg/models/churn/2.yaml ]]
	# nothing left in tmp/ but the lock files
	[[ -z "$(find .mreg/tmp -type f ! -name '*.lock')" ]]
}

@test "create --no-validate still refuses what cannot be stored" {
	make_bad_model
	before="$(snapshot)"
	run --separate-stderr mreg create -n churn -p bad --no-validate
	assert_status 1
	assert_one_error "bad/"
	[[ "$(snapshot)" == "$before" ]]
}
