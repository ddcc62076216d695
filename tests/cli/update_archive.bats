#!/usr/bin/env bats
# update, archive/restore, delete.

load helpers

setup() {
	setup_store
	make_model model
	mreg create -n churn -p model >/dev/null
	printf 'weights v2\n' >model/a.txt
	mreg create -n churn -p model >/dev/null
	mreg create -n other -p model >/dev/null
}

@test "update: description, tags and stage change; files, digest and creation time do not" {
	before="$(mreg show churn:1 --json)"
	run --separate-stderr mreg update churn:1 --description "retrained" --tag k=v --tag team=risk --stage Production
	assert_status 0
	[[ "$output" == "updated churn:1" ]]
	[[ -z "$stderr" ]]
	after="$(mreg show churn:1 --json)"
	[[ "$(json_get 'd["description"]' <<<"$after")" == retrained ]]
	[[ "$(json_get 'd["tags"]' <<<"$after")" == '{"k": "v", "team": "risk"}' ]]
	[[ "$(json_get 'd["stage"]' <<<"$after")" == Production ]]
	for k in digest files created_at size source type; do
		[[ "$(json_get "d['$k']" <<<"$before")" == "$(json_get "d['$k']" <<<"$after")" ]] || fail "$k changed"
	done
	# the other versions are untouched
	[[ "$(mreg show churn:2 --json | json_get 'd["tags"]')" == "{}" ]]
}

@test "update --remove-tag removes a tag; --tag replaces a value" {
	mreg update churn:1 --tag k=v --tag keep=1 >/dev/null
	run --separate-stderr mreg update churn:1 --remove-tag k --tag keep=2
	assert_status 0
	[[ "$(mreg show churn:1 --json | json_get 'd["tags"]')" == '{"keep": "2"}' ]]
	grep -q 'keep' .mreg/models/churn/1.yaml
	run grep -c '^ *k:' .mreg/models/churn/1.yaml
	[[ "$output" == 0 ]]
}

@test "removing a tag the version does not have: exit 1, names it, changes nothing" {
	mreg update churn:1 --tag k=v >/dev/null
	before="$(store_snapshot)"
	run --separate-stderr mreg update churn:1 --description changed --stage Production --remove-tag nokey
	assert_status 1
	assert_one_error "churn:1" "nokey"
	[[ -z "$output" ]]
	assert_store_unchanged "$before"
}

@test "update with an empty description or stage clears it" {
	mreg update churn:1 --description text --stage Staging >/dev/null
	run --separate-stderr mreg update churn:1 --description "" --stage ""
	assert_status 0
	j="$(mreg show churn:1 --json)"
	[[ "$(json_get 'd["description"]' <<<"$j")" == null ]]
	[[ "$(json_get 'd["stage"]' <<<"$j")" == null ]]
}

@test "update NAME@latest changes the latest version" {
	run --separate-stderr mreg update churn@latest --stage Production
	assert_status 0
	[[ "$output" == "updated churn:2" ]]
	[[ "$(mreg show churn:2 --json | json_get 'd["stage"]')" == Production ]]
	[[ "$(mreg show churn:1 --json | json_get 'd["stage"]')" == null ]]
}

@test "update --json prints the updated record" {
	run --separate-stderr mreg update churn:1 --tag a=b --json
	assert_status 0
	[[ "$(json_get 'd["tags"]["a"]' <<<"$output")" == b ]]
}

@test "update refuses: no version (2), nothing to change (2), missing version (1)" {
	before="$(store_snapshot)"
	run --separate-stderr mreg update churn --stage X
	assert_status 2
	assert_one_error "churn"
	run --separate-stderr mreg update churn:1
	assert_status 2
	assert_one_error "nothing to change"
	run --separate-stderr mreg update churn:9 --stage X
	assert_status 1
	assert_one_error "churn" "9"
	run --separate-stderr mreg update nosuch:1 --stage X
	assert_status 1
	assert_one_error "nosuch"
	run --separate-stderr mreg update churn:1 --tag =x
	assert_status 2
	assert_store_unchanged "$before"
}

@test "archive NAME:VERSION hides it from list and @latest; --all and --archived show it" {
	run --separate-stderr mreg archive churn:2
	assert_status 0
	[[ "$output" == "archived churn:2" ]]
	run mreg list
	[[ "$(awk 'NR > 1 { print $1 ":" $2 }' <<<"$output" | tr '\n' ' ')" == "churn:1 other:1 " ]]
	run mreg list --json
	[[ "$(json_get '[r["version"] for r in d if r["name"] == "churn"]' <<<"$output")" == '["1"]' ]]

	run --separate-stderr mreg list --all
	assert_status 0
	read -ra head <<<"${lines[0]}"
	[[ "${head[-1]}" == STATUS ]]
	grep -Eq '^churn +2 .* archived$' <<<"$output"
	grep -Eq '^churn +1 .* active$' <<<"$output"
	[[ "${#lines[@]}" -eq 4 ]]

	run --separate-stderr mreg list --archived
	assert_status 0
	[[ "${#lines[@]}" -eq 2 ]]
	grep -Eq '^churn +2 .* archived$' <<<"$output"
	run mreg list --archived --json
	[[ "$(json_get '[(r["name"], r["version"], r["archived"]) for r in d]' <<<"$output")" == '[["churn", "2", true]]' ]]

	# @latest skips the archived version; NAME:VERSION still finds it
	[[ "$(mreg show churn@latest --json | json_get 'd["version"]')" == 1 ]]
	run --separate-stderr mreg show churn:2
	assert_status 0
	grep -Eq '^status: +archived$' <<<"$output"
	run --separate-stderr mreg download churn:2 -o out
	assert_status 0
	[[ -f out/a.txt ]]
}

@test "archive twice says so; restore brings it back" {
	mreg archive churn:2 >/dev/null
	run --separate-stderr mreg archive churn:2
	assert_status 0
	assert_contains "$output" "archived already"
	run --separate-stderr mreg restore churn:2
	assert_status 0
	[[ "$output" == "restored churn:2" ]]
	[[ "$(mreg show churn@latest --json | json_get 'd["version"]')" == 2 ]]
	run mreg list
	[[ "${#lines[@]}" -eq 4 ]]
	run --separate-stderr mreg restore churn:2
	assert_contains "$output" "not archived"
}

@test "archive NAME archives every version; @latest then has none" {
	run --separate-stderr mreg archive churn
	assert_status 0
	[[ "$output" == "archived 2 versions of churn" ]]
	run mreg list
	assert_not_contains "$output" "churn"
	run --separate-stderr mreg show churn@latest
	assert_status 1
	assert_one_error "churn" "no active version"
	run --separate-stderr mreg restore churn
	assert_status 0
	[[ "$output" == "restored 2 versions of churn" ]]
}

@test "archive/restore refuse: missing version (1), @latest (2), nothing named (2)" {
	before="$(store_snapshot)"
	run --separate-stderr mreg archive churn:9
	assert_status 1
	assert_one_error "churn" "9"
	run --separate-stderr mreg archive nosuch
	assert_status 1
	assert_one_error "nosuch"
	run --separate-stderr mreg archive churn@latest
	assert_status 2
	run --separate-stderr mreg restore
	assert_status 2
	assert_store_unchanged "$before"
}

@test "delete NAME:VERSION removes the record only; its blobs stay until gc" {
	blobs="$(blob_count)"
	run --separate-stderr mreg delete churn:1
	assert_status 0
	assert_contains "$output" "deleted churn:1"
	[[ ! -e .mreg/models/churn/1.yaml ]]
	[[ -e .mreg/models/churn/2.yaml ]]
	[[ "$(blob_count)" -eq "$blobs" ]]
	run --separate-stderr mreg show churn:1
	assert_status 1
	run mreg list --all --json
	[[ "$(json_get '[r["name"] + ":" + r["version"] for r in d]' <<<"$output")" == '["churn:2", "other:1"]' ]]
}

@test "deleting the last version: the model is gone, and its number is not reused" {
	mreg delete other:1 >/dev/null
	run --separate-stderr mreg show other
	assert_status 1
	assert_one_error "other"
	run --separate-stderr mreg show other:1
	assert_status 1
	assert_one_error "other" "1"
	run mreg list --json
	[[ "$(json_get '[r["name"] for r in d if r["name"] == "other"]' <<<"$output")" == "[]" ]]
	run --separate-stderr mreg create -n other -p model
	assert_status 0
	[[ "$output" == "created other:2 "* ]]
}

@test "deleting the highest version: the next create does not reuse its number" {
	mreg delete churn:2 >/dev/null
	run --separate-stderr mreg create -n churn -p model
	assert_status 0
	[[ "$output" == "created churn:3 "* ]]
}

@test "delete refuses: no version (2), missing version (1), changing nothing" {
	before="$(store_snapshot)"
	run --separate-stderr mreg delete churn
	assert_status 2
	assert_one_error "churn"
	run --separate-stderr mreg delete churn@latest
	assert_status 2
	run --separate-stderr mreg delete churn:9
	assert_status 1
	assert_one_error "churn" "9"
	run --separate-stderr mreg delete nosuch:1
	assert_status 1
	assert_store_unchanged "$before"
}

@test "the issue's example: --tag k=v --remove-tag k with --description and --stage" {
	run --separate-stderr mreg update churn:1 --description "new text" --tag k=v --remove-tag k --stage Production
	assert_status 0
	run --separate-stderr mreg show churn:1 --json
	assert_status 0
	[[ "$(json_get '[d["description"], d["stage"], "k" in d["tags"]]' <<<"$output")" == '["new text", "Production", false]' ]] ||
		fail "$output"
}

@test "update --stage S --exclusive: every other version of the model leaves S; without it stages are free" {
	mreg create -n churn -p model >/dev/null
	mreg create -n other -p model >/dev/null
	mreg update churn:1 --stage Production >/dev/null
	mreg update other:1 --stage Production >/dev/null
	run --separate-stderr mreg update churn:2 --stage Production
	assert_status 0
	[[ "$(mreg list -n churn --stage Production --json | json_get '[r["version"] for r in d]')" == '["1", "2"]' ]] ||
		fail "without --exclusive both stay"
	run --separate-stderr mreg update churn:3 --stage production --exclusive
	assert_status 0
	assert_contains "$output" "churn:1 left stage production"
	assert_contains "$output" "churn:2 left stage production"
	assert_contains "$output" "updated churn:3"
	[[ "$(mreg list --stage Production --json | json_get '[r["name"] + ":" + r["version"] for r in d]')" == \
		'["churn:3", "other:1"]' ]] || fail "another model's stage changed, or churn kept two"
	run --separate-stderr mreg update churn:3 --exclusive --tag a=b
	assert_status 2
	assert_contains "$stderr" "--exclusive needs --stage STAGE"
}

@test "--json of archive, restore, delete, download and init" {
	run --separate-stderr mreg archive churn:1 --json
	assert_status 0
	[[ "$(json_get '[d["name"], d["version"], d["archived"], d["changed"]]' <<<"$output")" == '["churn", "1", true, 1]' ]] ||
		fail "archive: $output"
	run --separate-stderr mreg restore churn --json
	[[ "$(json_get '[d["version"], d["archived"], d["changed"]]' <<<"$output")" == '[null, false, 1]' ]] ||
		fail "restore: $output"
	run --separate-stderr mreg download churn:2 -o out --json
	assert_status 0
	[[ "$(json_get '[d["output"], d["files"], d["verified"]]' <<<"$output")" == '["out", 3, true]' ]] ||
		fail "download: $output"
	[[ "$(json_get 'd["digest"]' <<<"$output")" == "$(mreg show churn:2 --json | json_get 'd["digest"]')" ]] ||
		fail "download: not the version's digest"
	run --separate-stderr mreg delete churn:1 --json
	[[ "$(json_get '[d["name"], d["version"], d["deleted"]]' <<<"$output")" == '["churn", "1", true]' ]] ||
		fail "delete: $output"
	mkdir fresh
	run --separate-stderr env -u MREG_DIR "${MREG}" init fresh --json
	assert_status 0
	[[ "$(json_get 'd["store"]' <<<"$output")" == "$PWD/fresh/.mreg" ]] || fail "init: $output"
}
