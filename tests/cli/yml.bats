#!/usr/bin/env bats
# mreg create -f model.yml: Azure ML's model YAML.

load helpers

setup() {
	setup_store
	mkdir -p proj/models
	make_model proj/models/churn
	cat >proj/model.yml <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json
name: churn
version: "2025.11"
type: custom_model
path: models/churn
description: Subscriber churn classifier.
tags:
  team: growth
  framework: scikit-learn
properties:
  auc: "0.871"
stage: Staging
YML
}

@test "create -f reads name, version, type, path, description, tags, properties, stage" {
	run --separate-stderr mreg create -f proj/model.yml
	assert_status 0
	[[ "$output" == "created churn:2025.11 (custom_model, 3 files, "* ]]
	[[ -z "$stderr" ]]
	j="$(mreg show churn:2025.11 --json)"
	[[ "$(json_get 'd["type"]' <<<"$j")" == custom_model ]]
	[[ "$(json_get 'd["description"]' <<<"$j")" == "Subscriber churn classifier." ]]
	[[ "$(json_get 'd["tags"]' <<<"$j")" == '{"framework": "scikit-learn", "team": "growth"}' ]]
	[[ "$(json_get 'd["properties"]' <<<"$j")" == '{"auc": "0.871"}' ]]
	[[ "$(json_get 'd["stage"]' <<<"$j")" == Staging ]]
	[[ "$(json_get 'd["source"]["path"]' <<<"$j")" == "${TEST_DIR}/proj/models/churn" ]]
	[[ "$(json_get '" ".join(f["path"] for f in d["files"])' <<<"$j")" == "a.txt sub/b.bin sub/deeper/c.json" ]]
}

@test "path is relative to the YAML file's folder, not the current one" {
	mkdir elsewhere
	cd elsewhere
	# a decoy where a cwd-relative lookup would land
	mkdir -p models/churn
	echo decoy >models/churn/decoy.txt
	run --separate-stderr mreg create -f ../proj/model.yml
	assert_status 0
	[[ "$(mreg show churn:2025.11 --json | json_get '" ".join(f["path"] for f in d["files"])')" == "a.txt sub/b.bin sub/deeper/c.json" ]]
}

@test "an absolute path in the YAML file is used as is" {
	sed -i "s|^path: .*|path: ${TEST_DIR}/proj/models/churn|" proj/model.yml
	mkdir elsewhere && cd elsewhere
	run --separate-stderr mreg create -f ../proj/model.yml
	assert_status 0
	[[ "$(mreg show churn:2025.11 --json | json_get 'd["source"]["path"]')" == "${TEST_DIR}/proj/models/churn" ]]
}

@test "flags override the file; tags merge with flags winning" {
	make_model other
	run --separate-stderr mreg create -f proj/model.yml -n churn2 -v 3 -p other \
		--description "from flags" --stage Production --tag team=ops --property auc=0.9
	assert_status 0
	[[ "$output" == "created churn2:3 "* ]]
	j="$(mreg show churn2:3 --json)"
	[[ "$(json_get 'd["description"]' <<<"$j")" == "from flags" ]]
	[[ "$(json_get 'd["stage"]' <<<"$j")" == Production ]]
	[[ "$(json_get 'd["tags"]' <<<"$j")" == '{"framework": "scikit-learn", "team": "ops"}' ]]
	[[ "$(json_get 'd["properties"]' <<<"$j")" == '{"auc": "0.9"}' ]]
	[[ "$(json_get 'd["source"]["path"]' <<<"$j")" == "${TEST_DIR}/other" ]]
	[[ ! -e .mreg/models/churn ]]
}

@test "without version: the next integer, as with -n" {
	sed -i '/^version:/d' proj/model.yml
	run --separate-stderr mreg create -f proj/model.yml
	assert_status 0
	[[ "$output" == "created churn:1 "* ]]
	run --separate-stderr mreg create -f proj/model.yml
	[[ "$output" == "created churn:2 "* ]]
}

@test "the repository's example YAML registers" {
	ex="${BATS_TEST_DIRNAME}/../../examples"
	[[ -f "$ex/churn-model.yml" ]] || skip "no examples/churn-model.yml"
	# a copy, so that the checkout's own state (git) plays no part
	mkdir ex
	cp -r "$ex/churn-model.yml" "$ex/churn-model" ex/
	run --separate-stderr mreg create -f ex/churn-model.yml
	assert_status 0
	[[ "$output" == "created churn:2025.11 (custom_model, "* ]]
	[[ "$(mreg show churn:2025.11 --json | json_get 'd["stage"]')" == Staging ]]
	mreg download churn:2025.11 -o out >/dev/null
	assert_same_tree ex/churn-model out
}

@test "an unknown field: error at file:line:col, exit 1, store unchanged" {
	printf 'colour: blue\n' >>proj/model.yml
	before="$(store_snapshot)"
	run --separate-stderr mreg create -f proj/model.yml
	assert_status 1
	assert_contains "$stderr" "proj/model.yml:13:1: error: unknown field 'colour'"
	assert_one_error "proj/model.yml"
	assert_store_unchanged "$before"
}

@test "every problem of the file is reported, each with its line" {
	cat >proj/bad.yml <<'YML'
name: "bad name"
version: "../1"
type: no_such_type
path: models/churn
tags: [a, b]
extra: 1
YML
	before="$(store_snapshot)"
	run --separate-stderr mreg create -f proj/bad.yml
	assert_status 1
	assert_contains "$stderr" "proj/bad.yml:1:7: error:"
	assert_contains "$stderr" "proj/bad.yml:2:10: error:"
	assert_contains "$stderr" "proj/bad.yml:3:7: error:"
	assert_contains "$stderr" "proj/bad.yml:5:7: error:"
	assert_contains "$stderr" "proj/bad.yml:6:1: error:"
	assert_one_error "proj/bad.yml" "5 errors"
	assert_store_unchanged "$before"
}

@test "a YAML syntax error: file:line:col, exit 1, store unchanged" {
	printf 'name: churn\npath: [models\n' >proj/syntax.yml
	before="$(store_snapshot)"
	run --separate-stderr mreg create -f proj/syntax.yml
	assert_status 1
	[[ "$stderr" =~ proj/syntax.yml:[0-9]+:[0-9]+: ]]
	assert_one_error "proj/syntax.yml"
	assert_store_unchanged "$before"
}

@test "fields the registry sets (id, creation_context...) are ignored with a note" {
	printf 'id: azureml:/subscriptions/x\ncreation_context:\n  created_by: me\n' >>proj/model.yml
	run --separate-stderr mreg create -f proj/model.yml
	assert_status 0
	assert_contains "$stderr" "proj/model.yml:13:1: note:"
	assert_contains "$stderr" "'id'"
	assert_contains "$stderr" "'creation_context'"
}

@test "a missing YAML file: exit 1, names it" {
	run --separate-stderr mreg create -f proj/nope.yml
	assert_status 1
	assert_one_error "proj/nope.yml"
}

@test "a YAML file without a path (and no -p): exit 2" {
	sed -i '/^path:/d' proj/model.yml
	run --separate-stderr mreg create -f proj/model.yml
	assert_status 2
	assert_one_error "no model path"
}

@test "a YAML file that is not a mapping: exit 1" {
	printf -- '- name: churn\n' >proj/list.yml
	run --separate-stderr mreg create -f proj/list.yml
	assert_status 1
	assert_contains "$stderr" "proj/list.yml:1:1: error:"
}

@test "command-line values win over the file before its values are checked: placeholders as azureml-examples write them" {
	for placeholder in '<VERSION>' '{{MODEL_VERSION}}' '${MODEL_VERSION}'; do
		sed -i "s|^version: .*|version: \"$placeholder\"|" proj/model.yml
		run --separate-stderr mreg create -f proj/model.yml
		assert_status 1
		assert_contains "$stderr" "model.yml:3:10: error: version '$placeholder' is a placeholder: give the version with -v, or write it in the file [yml-placeholder]"
		[[ ! -e .mreg/models/churn ]] || fail "a version was registered from a placeholder"
	done
	run --separate-stderr mreg create -f proj/model.yml -v 7
	assert_status 0
	assert_contains "$output" "created churn:7"
	# -n wins over a name the file has, and over the type's check too
	sed -i 's|^name: .*|name: "<MODEL_NAME>"|; s|^type: .*|type: not_a_type|' proj/model.yml
	run --separate-stderr mreg create -f proj/model.yml -n other -v 1 -t custom_model
	assert_status 0
	assert_contains "$output" "created other:1 (custom_model"
	run --separate-stderr mreg create -f proj/model.yml -v 2 -t custom_model
	assert_status 1
	assert_contains "$stderr" "name '<MODEL_NAME>' is a placeholder: give the name with -n"
}

@test "a model.yml too large to read says so (no empty message)" {
	truncate -s 300M huge.yml
	run --separate-stderr mreg create -f huge.yml
	assert_status 1
	assert_contains "$stderr" "huge.yml: error: 314572800 bytes is too large for this file (at most 268435456) [yml-syntax]"
	[[ "$stderr" != *"error:  ["* ]] || fail "an empty message: $stderr"
}
