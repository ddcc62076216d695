#!/usr/bin/env bats
# Aliases (MLflow's model aliases): NAME@ALIAS names one version and works
# wherever a reference does; setting moves it; @latest is built in; one file
# per alias under models/NAME/, so git merges them; fsck checks them.

load helpers

setup() {
	setup_store
	make_model model
	mreg create -n churn -p model >/dev/null
	printf 'weights v2\n' >model/a.txt
	mreg create -n churn -p model >/dev/null
}

@test "set, move, list, use and remove an alias" {
	run --separate-stderr mreg alias churn:1 champion
	assert_status 0
	[[ "$output" == "churn@champion now names churn:1" ]] || fail "got: $output"
	[[ "$(cat "$MREG_DIR/models/churn/champion.alias")" == 1 ]] || fail "alias file"
	run --separate-stderr mreg show churn@champion --json
	assert_status 0
	[[ "$(json_get '[d["version"], d["aliases"]]' <<<"$output")" == '["1", ["champion"]]' ]] || fail "show: $output"
	run --separate-stderr mreg alias churn:2 champion
	assert_status 0
	[[ "$output" == "churn@champion now names churn:2 (it named churn:1)" ]] || fail "got: $output"
	mreg alias churn:1 baseline >/dev/null
	run --separate-stderr mreg alias churn
	assert_status 0
	[[ "$output" == $'churn@baseline -> churn:1\nchurn@champion -> churn:2' ]] || fail "list: $output"
	run --separate-stderr mreg show churn:2
	assert_contains "$output" "aliases:     churn@champion"
	# Wherever a reference goes: download, diff, update, archive.
	run --separate-stderr mreg download churn@champion -o out
	assert_status 0
	[[ "$(cat out/a.txt)" == "weights v2" ]] || fail "downloaded the wrong version"
	run --separate-stderr mreg diff churn@baseline churn@champion
	assert_status 1
	assert_contains "$output" "M  a.txt"
	run --separate-stderr mreg update churn@champion --stage Production
	assert_status 0
	[[ "$(mreg show churn:2 --json | json_get 'd["stage"]')" == Production ]] || fail "update via alias"
	run --separate-stderr mreg alias -d churn champion
	assert_status 0
	[[ "$output" == "removed churn@champion (it named churn:2)" ]] || fail "got: $output"
	run --separate-stderr mreg show churn@champion
	assert_status 1
	assert_one_error "model churn has no alias champion (mreg alias churn lists its aliases)"
}

@test "refused: latest, a bad name, a missing version, NAME without the version, delete through an alias" {
	before="$(store_snapshot)"
	run --separate-stderr mreg alias churn:1 latest
	assert_status 2
	assert_contains "$stderr" "'latest' is built in (the newest active version), not an alias"
	run --separate-stderr mreg alias churn:1 'pro d'
	assert_status 2
	assert_contains "$stderr" "alias 'pro d': character 4 (' ') is not allowed"
	run --separate-stderr mreg alias churn:9 champion
	assert_status 1
	assert_one_error "model churn has no version 9"
	run --separate-stderr mreg alias churn champion
	assert_status 2
	assert_contains "$stderr" "'churn': name the version the alias moves to, as churn:VERSION"
	assert_store_unchanged "$before"
	mreg alias churn:1 champion >/dev/null
	run --separate-stderr mreg delete churn@champion
	assert_status 2
	assert_contains "$stderr" "name the version to delete (NAME:VERSION)"
}

@test "an alias whose version was deleted says so; fsck warns; a damaged alias file is an fsck error" {
	mreg alias churn:1 old >/dev/null
	mreg delete churn:1 >/dev/null
	run --separate-stderr mreg show churn@old
	assert_status 1
	assert_one_error "churn@old names version 1, which is not there any more (mreg alias churn:VERSION old moves it)"
	run --separate-stderr mreg fsck
	assert_status 0
	assert_contains "$output" "warning: churn@old names version 1, which is not there (mreg alias moves or -d removes it) [fsck-alias-dangling]"
	# A file that came through git and is no alias file.
	printf '../../../etc\n' >"$MREG_DIR/models/churn/evil.alias"
	run --separate-stderr mreg show churn@evil
	assert_status 1
	assert_one_error "models/churn/evil.alias: not an alias file (one line: the version it names)"
	run --separate-stderr mreg fsck
	assert_status 1
	assert_contains "$output" "[fsck-alias]"
	# Removing it is the repair.
	run --separate-stderr mreg alias -d churn evil
	assert_status 0
}
