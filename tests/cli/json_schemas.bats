#!/usr/bin/env bats
# Every --json document validates against its schema in docs/json/ (JSON Schema
# draft 2020-12, checked with python3-jsonschema): each command run the way a
# user runs it, in success cases and in the failure cases that still print a
# document (diff that differs, validate of an invalid model, fsck with problems,
# verify of a damaged bundle). And every command whose --help lists --json has
# its schema named in docs/json/README.md, so a new --json cannot ship without one.

load helpers
load registry

SCHEMAS="${BATS_TEST_DIRNAME}/../../docs/json"
CHECK="${BATS_TEST_DIRNAME}/json_schema_check.py"
ART="${BATS_TEST_DIRNAME}/modelpack_artifact.py"

setup() {
	"$PYTHON" -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null ||
		skip "python3-jsonschema is not installed (apt install python3-jsonschema)"
	setup_store
	unset MREG_KEY_PASSWORD
}

teardown() {
	stop_registry
}

# json_ok SCHEMA: the stdout of the last `run` is exactly one JSON document, valid
# against docs/json/SCHEMA (the validator's errors are printed when it is not).
json_ok() {
	local why
	why="$("$PYTHON" "$CHECK" "$SCHEMAS" "$1" <<<"$output")" ||
		fail "--json output does not match $1 ($BATS_RUN_COMMAND):"$'\n'"$why"
}

# json_run STATUS SCHEMA mreg ARGS...: run the command; it exits with STATUS and
# prints a document valid against SCHEMA.
json_run() {
	local want="$1" schema="$2"
	shift 2
	run --separate-stderr "$@"
	assert_status "$want"
	json_ok "$schema"
}

# An MLflow model folder (mlflow_model metadata: flavors, signature, mlflow_version).
make_mlflow() {
	mkdir -p "$1"
	cat >"$1/MLmodel" <<'YAML'
flavors:
  python_function:
    env:
      conda: conda.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.10.12
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.3.0
mlflow_version: 2.12.2
model_uuid: 0123456789abcdef0123456789abcdef
signature:
  inputs: '[{"type": "double", "name": "x"}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
  params: '[{"name": "alpha", "type": "double", "default": 0.5, "shape": null}]'
utc_time_created: '2024-05-17 23:15:28.764394'
YAML
	printf 'name: mlflow-env\ndependencies:\n- python=3.10.12\n- pip:\n  - mlflow==2.12.2\n' >"$1/conda.yaml"
	: >"$1/model.pkl"
}

# A Triton repository: an ONNX model and an ensemble over it.
make_triton() {
	mkdir -p "$1/m/1" "$1/e/1"
	: >"$1/m/1/model.onnx"
	cat >"$1/m/config.pbtxt" <<'CFG'
name: "m"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
CFG
	cat >"$1/e/config.pbtxt" <<'CFG'
name: "e"
platform: "ensemble"
max_batch_size: 4
input [ { name: "IN" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 16 ] } ]
ensemble_scheduling { step [ { model_name: "m" model_version: -1
  input_map { key: "INPUT0" value: "IN" } output_map { key: "OUTPUT0" value: "OUT" } } ] }
CFG
}

# make_model plus an empty folder and a link that stays inside.
make_tree_model() {
	make_model "$1"
	mkdir -p "$1/empty"
	ln -s sub/b.bin "$1/link.bin"
}

git_env() {
	export GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=t@example.com
	export GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=t@example.com
	export GIT_CONFIG_GLOBAL="${TEST_DIR}/gitconfig"
	git config --global init.defaultBranch main
}

@test "every command whose --help lists --json has a schema in docs/json/README.md, and every schema is used" {
	local cmd listed=() mapped=() row file
	run --separate-stderr mreg --help
	assert_status 0
	# The command table of mreg --help: "  NAME  Summary" between "Commands:" and a blank line.
	local commands
	commands="$(awk '/^Commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}' <<<"$output")"
	[[ "$(wc -l <<<"$commands")" -ge 20 ]] || fail "too few commands parsed from --help: $commands"
	for cmd in $commands; do
		run --separate-stderr mreg "$cmd" --help
		assert_status 0
		if grep -qE -- '^ +(-[a-zA-Z], )?--json( |$)' <<<"$output"; then
			listed+=("$cmd")
		fi
	done
	[[ "${#listed[@]}" -ge 17 ]] || fail "only ${#listed[@]} commands list --json: ${listed[*]}"
	# README rows: | `mreg CMD` | [FILE](FILE) | ... |
	while IFS= read -r row; do
		cmd="$(sed -E 's/^\| `mreg ([a-z]+)`.*/\1/' <<<"$row")"
		file="$(sed -E 's/^[^|]*\|[^|]*\| \[([^]]+)\].*/\1/' <<<"$row")"
		[[ -f "$SCHEMAS/$file" ]] || fail "README.md maps $cmd to $file, which does not exist"
		mapped+=("$cmd")
	done < <(grep -E '^\| `mreg [a-z]+` \| \[[a-z-]+\.schema\.json\]' "$SCHEMAS/README.md")
	for cmd in "${listed[@]}"; do
		[[ " ${mapped[*]} " == *" $cmd "* ]] ||
			fail "mreg $cmd --help lists --json, but docs/json/README.md maps no schema to it"
	done
	for cmd in "${mapped[@]}"; do
		[[ " ${listed[*]} " == *" $cmd "* ]] ||
			fail "docs/json/README.md maps a schema to mreg $cmd, whose --help lists no --json"
	done
	# No schema file that the README does not name.
	for file in "$SCHEMAS"/*.schema.json; do
		grep -qF "](${file##*/})" "$SCHEMAS/README.md" ||
			fail "docs/json/${file##*/} is not named in docs/json/README.md"
	done
}

@test "the schemas refuse what mreg must not print: a record without created_at, a list entry with files, a bad digest" {
	make_model model
	run --separate-stderr mreg create -n demo -p model --json
	assert_status 0
	json_ok record.schema.json
	local good="$output"
	output="$(json_get '{k: v for k, v in d.items() if k != "created_at"}' <<<"$good")"
	run "$PYTHON" "$CHECK" "$SCHEMAS" record.schema.json <<<"$output"
	assert_status 1
	assert_contains "$output" "'created_at' is a required property"
	output="$(json_get '[dict(d, file_count=3)]' <<<"$good")"
	run "$PYTHON" "$CHECK" "$SCHEMAS" list.schema.json <<<"$output"
	assert_status 1
	assert_contains "$output" "list.schema.json: False schema does not allow"
	output="$(json_get 'dict(d, digest="sha256:ABC")' <<<"$good")"
	run "$PYTHON" "$CHECK" "$SCHEMAS" record.schema.json <<<"$output"
	assert_status 1
	assert_contains "$output" "does not match '^sha256:[0-9a-f]{64}\$' at /digest"
	# Two documents, or a line of text before the document, are not one JSON document.
	run "$PYTHON" "$CHECK" "$SCHEMAS" record.schema.json <<<"note: hello
$good"
	assert_status 1
	assert_contains "$output" "not one JSON document"
}

@test "create, update, show, list: records of every type, with git provenance, tags, stage, empty folders, links" {
	git_env
	git init -q .
	make_tree_model model
	make_mlflow mlmodel
	make_triton repo
	git add model mlmodel repo && git commit -qm models

	json_run 0 record.schema.json mreg create -n demo -p model --tag team=vision --tag bare \
		--property origin=lab --stage Staging --description "a demo" --json
	[[ "$(json_get 'd["source"]["git"]["dirty"]' <<<"$output")" == false ]] ||
		fail "expected a git source: $output"
	[[ "$(json_get '(len(d["dirs"]), len(d["links"]))' <<<"$output")" == "[1, 1]" ]] ||
		fail "expected one empty folder and one link: $output"
	json_run 0 record.schema.json mreg create -n demo -p model/a.txt -v 2 --json
	json_run 0 record.schema.json mreg create -n ml -t mlflow_model -p mlmodel --json
	[[ "$(json_get 'sorted(d["signature"])' <<<"$output")" == '["inputs", "outputs", "params"]' ]] ||
		fail "expected the MLflow signature: $output"
	json_run 0 record.schema.json mreg create -n tr -t triton_model -p repo --json
	[[ "$(json_get '[m["name"] for m in d["triton"]["models"]]' <<<"$output")" == '["e", "m"]' ]] ||
		fail "expected the Triton models: $output"
	echo changed >>model/a.txt
	json_run 0 record.schema.json mreg create -n demo -p model -v 3 --json
	[[ "$(json_get 'd["source"]["git"]["dirty"]' <<<"$output")" == true ]] ||
		fail "expected a dirty git source: $output"

	json_run 0 record.schema.json mreg update demo:1 --tag team=ml --remove-tag bare \
		--description "" --json
	json_run 0 record.schema.json mreg update demo@latest --stage Production --exclusive --json
	json_run 0 record.schema.json mreg update tr:1 --stage "" --json

	mreg alias demo:1 champion >/dev/null
	mreg alias demo:1 prod >/dev/null
	json_run 0 show.schema.json mreg show demo:1 --json
	[[ "$(json_get 'd["aliases"]' <<<"$output")" == '["champion", "prod"]' ]] ||
		fail "expected the aliases: $output"
	for ref in demo demo:2 demo@champion ml tr; do
		json_run 0 show.schema.json mreg show "$ref" --json
	done

	mreg archive demo:2 >/dev/null
	json_run 0 list.schema.json mreg list --json
	[[ "$(json_get 'len(d)' <<<"$output")" == 4 ]] || fail "expected 4 active versions: $output"
	json_run 0 list.schema.json mreg list --all --sort -created --json
	[[ "$(json_get 'len(d)' <<<"$output")" == 5 ]] || fail "expected 5 versions: $output"
	json_run 0 list.schema.json mreg list --archived --json
	json_run 0 list.schema.json mreg list 'd*' --tag team=ml -t custom_model --limit 1 --json
	json_run 0 list.schema.json mreg list nothing-matches --json
	[[ "$output" == "[]" ]] || fail "expected an empty array: $output"
}

@test "a failure prints nothing on stdout, --json or not" {
	make_model model
	mreg create -n demo -p model >/dev/null
	for args in "show demo:9" "show nosuch" "update demo:9 --stage x" "alias nosuch" \
		"alias -d demo nosuch" "log nosuch" "diff demo:1 demo:9" "validate no/such/path" \
		"package demo:9 -o x.tar" "import missing.tar" "list --sort nonsense"; do
		# shellcheck disable=SC2086
		run --separate-stderr mreg $args --json
		[[ "$status" -ne 0 ]] || fail "mreg $args --json succeeded"
		[[ -z "$output" ]] || fail "mreg $args --json printed on stdout: $output"
		assert_one_error
	done
}

@test "diff: the same (exit 0), two versions that differ in files, modes, links and metadata, a version and a folder (exit 1)" {
	make_tree_model model
	mreg create -n demo -p model --tag team=vision --stage Staging >/dev/null
	json_run 0 diff.schema.json mreg diff demo:1 demo:1 --json
	[[ "$(json_get 'd["same"]' <<<"$output")" == true ]] || fail "expected same: $output"
	json_run 0 diff.schema.json mreg diff demo:1 model --json

	echo more >>model/a.txt
	chmod 0700 model/sub/b.bin
	rm model/link.bin && ln -s a.txt model/link.bin
	rmdir model/empty && mkdir -m 0700 model/other-empty
	echo new >model/new.txt
	rm model/sub/deeper/c.json
	mreg create -n demo -p model -t custom_model --tag team=ml --tag new --property p=1 \
		--description "second" >/dev/null
	json_run 1 diff.schema.json mreg diff demo:1 demo:2 --json
	[[ "$(json_get '(d["added"], d["removed"], d["modified"])' <<<"$output")" == "[3, 2, 3]" ]] ||
		fail "expected 3 added, 2 removed, 3 modified: $output"
	[[ "$(json_get '[f["field"] for f in d["metadata"]]' <<<"$output")" == \
		'["description", "stage", "tag.new", "tag.team", "property.p"]' ]] ||
		fail "expected the metadata differences: $output"
	json_run 1 diff.schema.json mreg diff demo:2 demo:1 --json
	# A link where a file was, a file where a folder was: the kinds change.
	rm model/new.txt && ln -s a.txt model/new.txt
	rmdir model/other-empty && echo x >model/other-empty
	json_run 1 diff.schema.json mreg diff demo@latest model --json
	[[ "$(json_get 'd["b"]["kind"]' <<<"$output")" == path ]] || fail "b is a path: $output"
	[[ "$(json_get 'd["metadata"]' <<<"$output")" == "[]" ]] || fail "no metadata for a folder: $output"
	# -q wins over --json, as everywhere: nothing on stdout, the status tells.
	run --separate-stderr mreg diff -q demo:1 model --json
	assert_status 1
	[[ -z "$output" ]] || fail "diff -q --json printed: $output"
}

@test "init, archive, restore, delete, download, show --files" {
	mkdir fresh
	json_run 0 init.schema.json env -u MREG_DIR "${MREG}" init fresh --json
	make_model model
	mkdir -p model/empty && ln -s a.txt model/link
	mreg create -n demo -p model >/dev/null
	mreg create -n demo -p model/a.txt >/dev/null
	json_run 0 archive.schema.json mreg archive demo:1 --json
	json_run 0 archive.schema.json mreg restore demo --json
	json_run 0 archive.schema.json mreg archive demo --json
	json_run 0 download.schema.json mreg download demo:1 -o out --json
	json_run 0 show-files.schema.json mreg show demo:1 --files --json
	json_run 0 delete.schema.json mreg delete demo:2 --json
}

@test "alias: set, move, set again, delete, list (with and without aliases)" {
	make_model model
	mreg create -n demo -p model >/dev/null
	echo v2 >>model/a.txt
	mreg create -n demo -p model >/dev/null
	json_run 0 alias-list.schema.json mreg alias demo --json
	[[ "$output" == "[]" ]] || fail "expected no aliases: $output"
	json_run 0 alias-set.schema.json mreg alias demo:1 champion --json
	[[ "$(json_get 'd["previous"]' <<<"$output")" == null ]] || fail "a new alias: $output"
	json_run 0 alias-set.schema.json mreg alias demo:2 champion --json
	[[ "$(json_get 'd["previous"]' <<<"$output")" == 1 ]] || fail "moved from 1: $output"
	json_run 0 alias-set.schema.json mreg alias demo:2 champion --json
	json_run 0 alias-set.schema.json mreg alias demo:1 v1.0-old_ --json
	json_run 0 alias-list.schema.json mreg alias demo --json
	[[ "$(json_get '[a["alias"] for a in d]' <<<"$output")" == '["champion", "v1.0-old_"]' ]] ||
		fail "expected two aliases: $output"
	json_run 0 alias-delete.schema.json mreg alias -d demo champion --json
	[[ "$(json_get 'd["removed_from"]' <<<"$output")" == 2 ]] || fail "it named 2: $output"
}

@test "log: uncommitted, added and deleted versions" {
	git_env
	git init -q .
	make_model model
	mreg create -n demo -p model --commit >/dev/null
	echo v2 >>model/a.txt
	mreg create -n demo -p model --commit >/dev/null
	echo v3 >>model/a.txt
	mreg create -n demo -p model >/dev/null
	mreg delete demo:1 >/dev/null
	git add -u .mreg && git commit -qm "delete demo:1"
	json_run 0 log.schema.json mreg log demo --json
	[[ "$(json_get '[e["event"] for e in d]' <<<"$output")" == \
		'["uncommitted", "deleted", "added", "added"]' ]] || fail "expected the whole history: $output"
}

@test "validate: valid and invalid models of every type" {
	make_tree_model model
	make_mlflow mlmodel
	make_triton repo
	json_run 0 validate.schema.json mreg validate model --json
	json_run 0 validate.schema.json mreg validate mlmodel --json
	json_run 0 validate.schema.json mreg validate mlmodel/MLmodel --json
	json_run 0 validate.schema.json mreg validate repo --json
	json_run 0 validate.schema.json mreg validate -t custom_model repo --json
	# Warnings but valid; then errors of each plugin.
	sed -i '/^mlflow_version/d' mlmodel/MLmodel
	json_run 0 validate.schema.json mreg validate mlmodel --json
	[[ "$(json_get 'd["warnings"] > 0 and d["valid"]' <<<"$output")" == true ]] ||
		fail "expected warnings: $output"
	sed -i '/loader_module/d' mlmodel/MLmodel
	json_run 1 validate.schema.json mreg validate mlmodel --json
	json_run 1 validate.schema.json mreg validate -t mlflow_model model --json
	sed -i 's/max_batch_size: 8/max_batch_size: -2/' repo/m/config.pbtxt
	json_run 1 validate.schema.json mreg validate repo --json
	[[ "$(json_get '[x["line"] for x in d["diagnostics"] if x["severity"] == "error"][0]' \
		<<<"$output")" == 3 ]] || fail "expected a line number: $output"
	printf 'name: "m"\nmax_batch_size 8\n' >repo/m/config.pbtxt
	json_run 1 validate.schema.json mreg validate repo/m --json
	ln -s /etc/passwd model/escape
	json_run 1 validate.schema.json mreg validate model --json
}

@test "validate, diff: names that are not UTF-8 are written as \\xHH, and no diagnostic is lost" {
	local bad
	bad="$(printf 'd\xfe')"
	mkdir "$bad"
	echo weights >"$bad/w.bin"
	: >"$bad/$(printf 'x\xffy')"
	json_run 1 validate.schema.json mreg validate "$bad" --json
	[[ "$(json_get 'd["path"]' <<<"$output")" == 'd\xfe' ]] || fail "the path: $output"
	[[ "$(json_get '(d["errors"], len(d["diagnostics"]))' <<<"$output")" == "[1, 1]" ]] ||
		fail "every diagnostic in the list: $output"
	[[ "$(json_get 'd["diagnostics"][0]["file"]' <<<"$output")" == 'd\xfe/x\xffy' ]] ||
		fail "the file, as the text output shows it: $output"
	rm "$bad/$(printf 'x\xffy')"
	make_model model
	mreg create -n demo -p model >/dev/null
	json_run 1 diff.schema.json mreg diff demo:1 "$bad" --json
	[[ "$(json_get 'd["b"]["operand"]' <<<"$output")" == 'd\xfe' ]] || fail "the operand: $output"
}

@test "fsck: a sound store, then corrupt, missing and unreferenced blobs and a damaged record (exit 1)" {
	make_model model
	json_run 0 fsck.schema.json mreg fsck --json
	mreg create -n demo -p model >/dev/null
	echo v2 >>model/a.txt
	mreg create -n demo -p model >/dev/null
	json_run 0 fsck.schema.json mreg fsck --json
	[[ "$(json_get '(d["ok"], d["records"])' <<<"$output")" == "[true, 2]" ]] ||
		fail "expected a sound store of 2 records: $output"
	corrupt_blob "$(version_file_digest demo:1 sub/b.bin)"
	rm -f "${MREG_DIR}/blobs/sha256/$(version_file_digest demo:1 sub/deeper/c.json | cut -c8-)"
	printf 'unreferenced\n' >"${MREG_DIR}/blobs/sha256/$(printf 'unreferenced\n' | sha256sum | cut -c1-64)"
	echo partial >"${MREG_DIR}/tmp/blob-leftover"
	json_run 1 fsck.schema.json mreg fsck --json
	[[ "$(json_get '(d["ok"], d["problems"] >= 2, d["unreferenced"])' <<<"$output")" == \
		"[false, true, 1]" ]] || fail "expected problems and an unreferenced blob: $output"
	echo "name: [" >"${MREG_DIR}/models/demo/2.yaml"
	json_run 1 fsck.schema.json mreg fsck --json
}

@test "gc: nothing to do, a dry run, then blobs and leftovers removed" {
	make_model model
	json_run 0 gc.schema.json mreg gc --json
	mreg create -n demo -p model >/dev/null
	echo v2 >>model/a.txt
	mreg create -n demo -p model >/dev/null
	mreg delete demo:1 >/dev/null
	echo partial >"${MREG_DIR}/tmp/blob-leftover"
	json_run 0 gc.schema.json mreg gc --dry-run --json
	[[ "$(json_get '(d["dry_run"], d["blobs_removed"], len(d["removed"]))' <<<"$output")" == \
		"[true, 1, 1]" ]] || fail "expected one blob to remove: $output"
	json_run 0 gc.schema.json mreg gc --json
	[[ "$(json_get '(d["dry_run"], d["blobs_removed"], d["tmp_removed"])' <<<"$output")" == \
		"[false, 1, 1]" ]] || fail "expected one blob and one leftover removed: $output"
}

@test "keygen, package, verify, import, unpack: plain, compressed and signed bundles, a damaged one, a foreign artifact" {
	make_tree_model model
	mreg create -n demo -p model --tag team=vision >/dev/null
	json_run 0 keygen.schema.json mreg keygen -W -s k.key --pubkey k.pub --json
	[[ "$(json_get 'd["encrypted"]' <<<"$output")" == false ]] || fail "-W: $output"
	MREG_KEY_PASSWORD=s3cret json_run 0 keygen.schema.json mreg keygen -s e.key --pubkey e.pub --json
	[[ "$(json_get 'd["encrypted"]' <<<"$output")" == true ]] || fail "encrypted: $output"

	json_run 0 package.schema.json mreg package demo:1 -o demo.tar --json
	json_run 0 package.schema.json mreg package demo@latest -o demo.tar.zst --json
	json_run 0 package.schema.json mreg package demo -o demo.tar.gz --sign k.key --json
	[[ "$(json_get 'd["sidecar_file"]' <<<"$output")" == demo.tar.gz.minisig ]] ||
		fail "expected the signature file: $output"
	MREG_KEY_PASSWORD=s3cret json_run 0 package.schema.json \
		mreg package demo:1 -o signed.tar --sign e.key -f --json

	json_run 0 verify.schema.json mreg verify demo.tar --json
	json_run 0 verify.schema.json mreg verify demo.tar.zst --json
	json_run 0 verify.schema.json mreg verify demo.tar.gz --json
	json_run 0 verify.schema.json mreg verify signed.tar --pubkey e.pub --json
	[[ "$(json_get 'd["signature_verified"]' <<<"$output")" == true ]] || fail "verified: $output"
	json_run 1 verify.schema.json mreg verify signed.tar --pubkey k.pub --json
	head -c 3000 demo.tar >cut.tar
	json_run 1 verify.schema.json mreg verify cut.tar --json
	[[ "$(json_get 'd["ok"]' <<<"$output")" == false ]] || fail "a cut bundle: $output"
	"$PYTHON" "$ART" art --bundle b.tar --name '' || fail "modelpack_artifact.py failed"
	json_run 0 verify.schema.json mreg verify art/b.tar --json
	[[ "$(json_get '(d["name"], d["version"], d["type"])' <<<"$output")" == '[null, "3.1", null]' ]] ||
		fail "a foreign artifact without a name: $output"

	json_run 0 import.schema.json mreg import demo.tar --json
	[[ "$(json_get 'd["imported"]' <<<"$output")" == false ]] || fail "already there: $output"
	json_run 0 import.schema.json mreg import signed.tar -n copy -v 7 --pubkey e.pub --json
	[[ "$(json_get '(d["name"], d["version"], d["imported"])' <<<"$output")" == '["copy", "7", true]' ]] ||
		fail "imported as copy:7: $output"
	json_run 0 import.schema.json mreg import art/b.tar -n foreign -v 1 --json

	json_run 0 unpack.schema.json mreg unpack demo.tar.zst -o out --json
	json_run 0 unpack.schema.json mreg unpack signed.tar -o out2 -n other -v 2 --pubkey e.pub --json
	[[ "$(json_get 'd["model_yml"]' <<<"$output")" == out2/model.yml ]] || fail "model.yml: $output"
}

@test "push and pull against a real registry: sent, fetched, nothing to do, by digest" {
	start_registry
	make_tree_model model
	"$PYTHON" "${BATS_TEST_DIRNAME}/weightgen.py" safetensors random:300000 model/weights.safetensors
	mreg create -n demo -p model >/dev/null
	json_run 0 remote.schema.json mreg push demo:1 "$REG/team/demo" --plain-http --json
	local digest
	digest="$(json_get 'd["manifest_digest"]' <<<"$output")"
	json_run 0 remote.schema.json mreg push demo@latest "$REG/team/demo:stable" --plain-http --json
	[[ "$(json_get '(d["tag"], d["blobs_moved"])' <<<"$output")" == '["stable", 0]' ]] ||
		fail "a second push sends nothing: $output"

	local other="${TEST_DIR}/b/.mreg"
	MREG_DIR="$other" mreg init >/dev/null
	MREG_DIR="$other" json_run 0 remote.schema.json mreg pull "$REG/team/demo:1" --plain-http --json
	[[ "$(json_get 'd["unchanged"]' <<<"$output")" == false ]] || fail "fetched: $output"
	MREG_DIR="$other" json_run 0 remote.schema.json mreg pull "$REG/team/demo:1" --plain-http --json
	[[ "$(json_get 'd["unchanged"]' <<<"$output")" == true ]] || fail "nothing to do: $output"
	MREG_DIR="$other" json_run 0 remote.schema.json \
		mreg pull "$REG/team/demo@$digest" -n copy -v 2 --plain-http --json
	[[ "$(json_get 'd["tag"]' <<<"$output")" == null ]] || fail "a pull by digest has no tag: $output"
}
