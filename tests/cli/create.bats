#!/usr/bin/env bats
# mreg create -n NAME -p PATH: versions, records, files, flags.

load helpers

setup() {
	setup_store
	make_model model
}

@test "create -n churn -p ./model: version 1, type custom_model, every file recorded" {
	run --separate-stderr mreg create -n churn -p ./model
	assert_status 0
	[[ "$output" =~ ^created\ churn:1\ \(custom_model,\ 3\ files,\ .*sha256:[0-9a-f]{64}\)$ ]]
	[[ -z "$stderr" ]]
	[[ -f .mreg/models/churn/1.yaml ]]

	run --separate-stderr mreg show churn:1 --json
	assert_status 0
	[[ "$(json_get 'd["name"]' <<<"$output")" == churn ]]
	[[ "$(json_get 'd["version"]' <<<"$output")" == 1 ]]
	[[ "$(json_get 'd["type"]' <<<"$output")" == custom_model ]]
	[[ "$(json_get 'd["source"]["kind"]' <<<"$output")" == directory ]]
	[[ "$(json_get 'd["source"]["path"]' <<<"$output")" == "${TEST_DIR}/model" ]]
	[[ "$(json_get 'd["size"]' <<<"$output")" == "$(cat model/a.txt model/sub/b.bin model/sub/deeper/c.json | wc -c)" ]]
	[[ "$(json_get '" ".join(f["path"] for f in d["files"])' <<<"$output")" == "a.txt sub/b.bin sub/deeper/c.json" ]]
	[[ "$(json_get '" ".join(f["mode"] for f in d["files"])' <<<"$output")" == "0644 0755 0600" ]]
	for f in a.txt sub/b.bin sub/deeper/c.json; do
		[[ "$(json_get "[x['digest'] for x in d['files'] if x['path'] == '$f'][0]" <<<"$output")" == "$(file_digest "model/$f")" ]]
		[[ "$(json_get "[x['size'] for x in d['files'] if x['path'] == '$f'][0]" <<<"$output")" == "$(stat -c %s "model/$f")" ]]
		# the blob is the file, read-only, named by its SHA-256
		blob=".mreg/blobs/sha256/$(sha256sum "model/$f" | cut -d' ' -f1)"
		cmp "model/$f" "$blob"
		[[ ! -w "$blob" || "$(stat -c %a "$blob")" == 444 ]]
	done
}

@test "the record is YAML with the DESIGN.md fields" {
	mreg create -n churn -p model --description "first cut" --tag team=risk --property framework=sklearn --stage Development >/dev/null
	rec=.mreg/models/churn/1.yaml
	for field in name version type description tags properties stage created_at source files digest; do
		grep -Eq "^${field}:" "$rec" || fail "record has no '${field}:' field"
	done
	grep -Eq '^name: churn$' "$rec"
	grep -Eq '^version: "?1"?$' "$rec"
	grep -Eq '^digest: sha256:[0-9a-f]{64}$' "$rec"
	grep -Eq '^created_at: "?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"?$' "$rec"
	grep -Eq '^ *team: risk$' "$rec"
	grep -Eq '^ *framework: sklearn$' "$rec"
}

@test "changing a file gives version 2; unchanged files keep their digests" {
	mreg create -n churn -p ./model >/dev/null
	printf 'weights v2\n' >model/a.txt
	run --separate-stderr mreg create -n churn -p ./model
	assert_status 0
	[[ "$output" == "created churn:2 "* ]]
	d1="$(mreg show churn:1 --json)"
	d2="$(mreg show churn:2 --json)"
	[[ "$(json_get 'd["digest"]' <<<"$d1")" != "$(json_get 'd["digest"]' <<<"$d2")" ]]
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$d1")" != "$(json_get 'd["files"][0]["digest"]' <<<"$d2")" ]]
	[[ "$(json_get 'd["files"][1]["digest"]' <<<"$d1")" == "$(json_get 'd["files"][1]["digest"]' <<<"$d2")" ]]
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$d2")" == "$(file_digest model/a.txt)" ]]
}

@test "-v 2025.11 gives an explicit string version; the next automatic one is the next integer" {
	mreg create -n churn -p model >/dev/null
	mreg create -n churn -p model >/dev/null
	run --separate-stderr mreg create -n churn -p model -v 2025.11
	assert_status 0
	[[ "$output" == "created churn:2025.11 "* ]]
	[[ -f .mreg/models/churn/2025.11.yaml ]]
	[[ "$(mreg show churn:2025.11 --json | json_get 'd["version"]')" == 2025.11 ]]
	run --separate-stderr mreg create -n churn -p model
	assert_status 0
	[[ "$output" == "created churn:3 "* ]]
	run --separate-stderr mreg create -n churn -p model -v 10
	assert_status 0
	run --separate-stderr mreg create -n churn -p model
	[[ "$output" == "created churn:11 "* ]]
}

@test "a new name starts at version 1, whatever other models hold" {
	mreg create -n churn -p model -v 7 >/dev/null
	run --separate-stderr mreg create -n other -p model
	assert_status 0
	[[ "$output" == "created other:1 "* ]]
	run --separate-stderr mreg create -n churn -p model
	[[ "$output" == "created churn:8 "* ]]
}

@test "create from a single file: one file, its base name, kind file" {
	"$PYTHON" "${BATS_TEST_DIRNAME}/weightgen.py" onnx random:5000 weights.onnx
	chmod 0640 weights.onnx
	run --separate-stderr mreg create -n single -p weights.onnx
	assert_status 0
	[[ "$output" =~ ^created\ single:1\ \(custom_model,\ 1\ file,\ 4\.9\ KiB, ]]
	j="$(mreg show single:1 --json)"
	[[ "$(json_get 'd["source"]["kind"]' <<<"$j")" == file ]]
	[[ "$(json_get 'len(d["files"])' <<<"$j")" == 1 ]]
	[[ "$(json_get 'd["files"][0]["path"]' <<<"$j")" == weights.onnx ]]
	[[ "$(json_get 'd["files"][0]["mode"]' <<<"$j")" == 0640 ]]
	[[ "$(json_get 'd["files"][0]["size"]' <<<"$j")" == 5000 ]]
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$j")" == "$(file_digest weights.onnx)" ]]
}

@test "identical trees give identical content digests, across names too" {
	mreg create -n a -p model >/dev/null
	cp -a model copy
	mreg create -n b -p copy >/dev/null
	[[ "$(mreg show a:1 --json | json_get 'd["digest"]')" == "$(mreg show b:1 --json | json_get 'd["digest"]')" ]]
	chmod 0700 copy/a.txt
	mreg create -n b -p copy >/dev/null
	[[ "$(mreg show a:1 --json | json_get 'd["digest"]')" != "$(mreg show b:2 --json | json_get 'd["digest"]')" ]]
}

@test "create records description, tags, properties and stage from flags" {
	run --separate-stderr mreg create -n churn -p model --description "Churn, gradient boosting" \
		--tag team=risk --tag owner=ana --property framework=sklearn --stage Development -t custom_model
	assert_status 0
	j="$(mreg show churn:1 --json)"
	[[ "$(json_get 'd["description"]' <<<"$j")" == "Churn, gradient boosting" ]]
	[[ "$(json_get 'd["tags"]' <<<"$j")" == '{"owner": "ana", "team": "risk"}' ]]
	[[ "$(json_get 'd["properties"]' <<<"$j")" == '{"framework": "sklearn"}' ]]
	[[ "$(json_get 'd["stage"]' <<<"$j")" == Development ]]
}

@test "create --json prints the new record as one JSON document" {
	run --separate-stderr mreg create -n churn -p model --json
	assert_status 0
	[[ "$(json_get 'd["name"] + ":" + d["version"]' <<<"$output")" == churn:1 ]]
	[[ "$(json_get 'len(d["files"])' <<<"$output")" == 3 ]]
}

@test ".git and .mreg folders inside a model are skipped, with a note" {
	mkdir -p model/.git
	echo ref >model/.git/HEAD
	run --separate-stderr mreg create -n churn -p model
	assert_status 0
	assert_contains "$stderr" "model/.git: note:"
	[[ "$(mreg show churn:1 --json | json_get '" ".join(f["path"] for f in d["files"])')" == "a.txt sub/b.bin sub/deeper/c.json" ]]
}

@test "a relative symlink inside the model folder is stored as a link, an absolute one as a copy" {
	ln -s a.txt model/link.txt
	ln -s "$PWD/model/a.txt" model/abs.txt
	run --separate-stderr mreg create -n churn -p model
	assert_status 0
	assert_contains "$stderr" "model/abs.txt: note: symlink to $PWD/model/a.txt is stored as a copy"
	j="$(mreg show churn:1 --json)"
	[[ "$(json_get 'd["links"]' <<<"$j")" == '[{"path": "link.txt", "target": "a.txt"}]' ]]
	[[ "$(json_get '[f["digest"] for f in d["files"] if f["path"] == "abs.txt"][0]' <<<"$j")" == "$(file_digest model/a.txt)" ]]
	[[ "$(json_get '[f["path"] for f in d["files"] if f["path"] == "link.txt"]' <<<"$j")" == '[]' ]]
}

@test "names: Azure's rule; 255 characters is the limit" {
	long="$(printf 'a%.0s' $(seq 255))"
	run --separate-stderr mreg create -n "$long" -p model
	assert_status 0
	run --separate-stderr mreg create -n "${long}b" -p model
	assert_status 2
	assert_one_error "255"
	for bad in _x -x 'a.b' 'a/b' 'ü'; do
		before="$(store_snapshot)"
		run --separate-stderr mreg create -n "$bad" -p model
		assert_status 2
		assert_one_error "model name"
		assert_store_unchanged "$before"
	done
	run --separate-stderr mreg create -n A-b_9 -p model
	assert_status 0
}

@test "versions: an OCI-tag-like string, checked before anything is stored" {
	for bad in .x -x '1/2' '../x' 'a b' "$(printf 'v%.0s' $(seq 129))"; do
		before="$(store_snapshot)"
		run --separate-stderr mreg create -n churn -p model -v "$bad"
		assert_status 2
		assert_one_error "version"
		assert_store_unchanged "$before"
	done
	for good in _1 v1.0-rc_2 "$(printf 'v%.0s' $(seq 128))"; do
		run --separate-stderr mreg create -n churn -p model -v "$good"
		assert_status 0
	done
}

@test "create with an unknown type: refused, store unchanged" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n churn -p model -t no_such_type
	[[ "$status" -ne 0 ]]
	assert_status 2
	assert_one_error "no_such_type"
	assert_store_unchanged "$before"
}

@test "a bad --tag (empty key): exit 2, store unchanged" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n churn -p model --tag =v
	assert_status 2
	assert_one_error "tag" "=v"
	assert_store_unchanged "$before"
}

@test "create without -n or -p: exit 2, says which is missing" {
	run --separate-stderr mreg create -p model
	assert_status 2
	assert_one_error "no model name"
	run --separate-stderr mreg create -n churn
	assert_status 2
	assert_one_error "no model path"
	run --separate-stderr mreg create -n churn -p model extra
	assert_status 2
	assert_one_error "extra"
	[[ ! -e .mreg/models/churn ]]
}
