#!/usr/bin/env bats
# Weight files (safetensors, GGUF, ONNX), made at test time by weightgen.py:
# the diagnostics `mreg validate` prints for truncated and lying files, create
# refusing them with the store untouched, and for valid ones what `mreg show`
# and the bundle's ModelPack config say (format, paramSize, precision).

load helpers

WEIGHTGEN="${BATS_TEST_DIRNAME}/weightgen.py"
SCHEMA="${MREG_SHARED_DIR:-${BATS_TEST_DIRNAME}/../../../shared}/reference/modelpack/config-schema.json"

setup() {
	setup_store
}

weights() {
	"$PYTHON" "$WEIGHTGEN" "$@"
}

# refused FORMAT VARIANT LINE: a folder holding that file validates with
# exactly LINE as its one diagnostic (exit 1), and create refuses it without
# touching the store.
refused() {
	local fmt=$1 variant=$2 line=$3 before
	rm -rf m && mkdir m
	weights "$fmt" "$variant" "m/model.$fmt"
	run --separate-stderr mreg validate m
	if [[ "$status" -ne 1 || "${lines[0]}" != "$line" ||
		"${lines[-1]}" != "m: invalid custom_model (1 error, 0 warnings)" ]]; then
		echo "stdout: $output" >&2
		fail "$fmt $variant: expected exit 1 and '$line'"
		return 1
	fi
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n bad -p m
	assert_status 1
	assert_one_error "m is not a valid custom_model: 1 error"
	assert_contains "$stderr" "$line"
	assert_store_unchanged "$before"
}

# config_of BUNDLE: the ModelPack config blob of a bundle (tar).
config_of() {
	"$PYTHON" - "$1" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
index = json.load(t.extractfile("index.json"))
m = json.load(t.extractfile("blobs/sha256/" + index["manifests"][0]["digest"][7:]))
sys.stdout.write(t.extractfile("blobs/sha256/" + m["config"]["digest"][7:]).read().decode())
PY
}

@test "valid safetensors, GGUF and ONNX files: valid, no diagnostic" {
	for fmt in safetensors gguf onnx; do
		rm -rf m && mkdir m
		weights "$fmt" valid "m/model.$fmt"
		run --separate-stderr mreg validate m
		assert_status 0
		[[ "$output" == "m: valid custom_model (0 errors, 0 warnings)" ]] || fail "$fmt: $output"
	done
}

@test "safetensors: each lie and truncation has its diagnostic, and create refuses it" {
	local f=m/model.safetensors
	refused safetensors truncated "$f: error: the tensors need 32 bytes of data, but the file holds 27 after its header: truncated? [safetensors-data-size]"
	refused safetensors tiny "$f: error: the file is 3 bytes; a safetensors file begins with an 8-byte header length [safetensors-truncated]"
	refused safetensors header-past-eof "$f: error: the header length (100000 bytes) runs past the end of the file (184 bytes after the length): truncated, or not a safetensors file [safetensors-header-length]"
	refused safetensors header-too-large "$f: error: the header length is 200000000 bytes, over safetensors' limit of 100000000 [safetensors-header-too-large]"
	refused safetensors overlap "$f: error: tensor 'b' (bytes 16 to 24) overlaps tensor 'a', which ends at byte 24 [safetensors-offsets]"
	refused safetensors gap "$f: error: tensor 'b' begins at byte 16, but tensor 'a' ends at byte 8: 8 bytes between them belong to no tensor [safetensors-offsets]"
	refused safetensors bad-dtype "$f: error: tensor 'a' has dtype 'F12', which safetensors does not know [safetensors-dtype]"
	refused safetensors size-mismatch "$f: error: tensor 'a': its shape and dtype F32 make 32 bytes, but its data_offsets span 24 [safetensors-tensor-size]"
	refused safetensors overflow "$f: error: tensor 'a': its shape times the size of F32 overflows 64 bits [safetensors-overflow]"
	refused safetensors duplicate-key "$f: error: the header is not a JSON object with unique keys: duplicate object key near '\"a\"' (line 1, column 57) [safetensors-duplicate-key]"
	refused safetensors metadata-not-strings "$f: error: __metadata__ must map strings to strings [safetensors-metadata]"
	refused safetensors trailing-bytes "$f: error: the tensors end at byte 32 of the data, but the file goes on for 4 more bytes that belong to no tensor [safetensors-data-size]"
	refused safetensors not-utf8 "$f: error: the header is not UTF-8 (byte 3 of the header) [safetensors-header-utf8]"
	refused safetensors not-json "$f: error: the header is not valid JSON: ']' expected near end of file (line 1, column 11) [safetensors-header-json]"
}

@test "GGUF: each lie and truncation has its diagnostic, and create refuses it" {
	local f=m/model.gguf
	refused gguf truncated "$f: error: tensor 'blk.0.attn_q.weight' (68 bytes at offset 128 of the data, which begins at byte 352) runs past the end of the file (536 bytes): truncated? [gguf-tensor-data]"
	refused gguf truncated-header "$f: error: the file ends inside the value of 'general.architecture' (at byte 56 of 60): truncated? [gguf-truncated]"
	refused gguf bad-magic "$f: error: the file does not begin with 'GGUF': not a GGUF file [gguf-magic]"
	refused gguf version-1 "$f: error: GGUF version 1 is not supported (2 and 3 are; ggml no longer reads 1) [gguf-version]"
	refused gguf big-endian "$f: error: the version reads as 50331648: a big-endian GGUF file, which is not supported [gguf-version]"
	refused gguf misaligned "$f: error: tensor 'blk.0.attn_q.weight' is at offset 132, not a multiple of the alignment 32 [gguf-tensor-offset]"
	refused gguf bad-type "$f: error: tensor 't' has ggml type 4, which ggml does not define [gguf-tensor-type]"
	refused gguf too-many-dims "$f: error: tensor 't' has 5 dimensions; ggml's limit is 4 [gguf-tensor-dims]"
	refused gguf no-architecture "$f: error: general.architecture is missing; gguf.md requires it [gguf-architecture]"
	refused gguf string-past-eof "$f: error: the value of 'general.architecture' is 1000000000 bytes long, past the end of the file (byte 64 of 64) [gguf-string]"
	refused gguf duplicate-key "$f: error: metadata key 'general.name' appears more than once [gguf-key]"
	refused gguf array-of-arrays "$f: error: metadata key 'x.nested' holds an array of arrays, which ggml's reader refuses [gguf-value-type]"
	refused gguf huge-count "$f: error: the header says 4611686018427387904 metadata keys, more than a file of 24 bytes can hold [gguf-count]"
	refused gguf block-size "$f: error: tensor 'q' of type Q8_0 has 16 elements per row, not a multiple of its block size 32 [gguf-tensor-shape]"
}

@test "GGUF: a tensor away from where the one before it ends is named, with the file's end" {
	mkdir m
	weights gguf wrong-offset m/model.gguf
	run --separate-stderr mreg validate m
	assert_status 1
	[[ "${lines[0]}" == "m/model.gguf: error: tensor 'blk.0.attn_q.weight' is at offset 256, but the tensors before it end at 128 (ggml expects each tensor right after the previous one, padded to 32) [gguf-tensor-offset]" ]]
	[[ "${lines[-1]}" == "m: invalid custom_model (2 errors, 0 warnings)" ]]
}

@test "ONNX: structure, tensors and external data each have their diagnostic, and create refuses them" {
	local f=m/model.onnx
	refused onnx truncated "$f: error: a field's bytes at byte 13 runs past the end of the file (40 bytes): truncated? [onnx-truncated]"
	refused onnx no-graph "$f: error: the model has no graph (ModelProto field 7) [onnx-graph]"
	refused onnx no-ir-version "$f: error: the model has no ir_version (ModelProto field 1) [onnx-ir-version]"
	refused onnx no-opset "$f: error: the model (IR version 8) imports no operator set (opset_import) [onnx-opset]"
	refused onnx raw-size "$f: error: tensor 'w': its dims and type FLOAT make 24 bytes, but raw_data holds 20 [onnx-tensor-size]"
	refused onnx undefined-type "$f: error: tensor 'w' has no data_type (0, UNDEFINED) [onnx-tensor-type]"
	refused onnx not-protobuf "$f: error: not a valid ONNX protobuf at byte 0: a protobuf group, which onnx.proto does not use [onnx-malformed]"
	refused onnx external-missing "$f: error: tensor 'w' keeps its data in 'weights.bin': no such file in the model [onnx-external-missing]"
	refused onnx external-short "$f: error: tensor 'w' needs bytes 0 to 24 of 'weights.bin', which has 10: truncated? [onnx-external-size]"
	refused onnx external-dotdot "$f: error: tensor 'w': external data location '../weights.bin' contains '..'; ONNX refuses a location outside the model's folder [onnx-external-location]"
	refused onnx external-absolute "$f: error: tensor 'w': external data location '/etc/hostname' is absolute; ONNX wants a path relative to the model file [onnx-external-location]"
}

@test "ONNX external data: found next to the model file, in a subfolder too; a lone .onnx file cannot have any" {
	mkdir -p m/sub
	weights onnx external m/sub/model.onnx
	run --separate-stderr mreg validate m
	assert_status 0
	[[ "$output" == "m: valid custom_model (0 errors, 0 warnings)" ]]
	weights onnx external-dot m/sub/model.onnx
	run --separate-stderr mreg validate m
	assert_status 0
	# the model is the .onnx file alone: weights.bin beside it is not part of it
	run --separate-stderr mreg validate m/sub/model.onnx
	assert_status 1
	[[ "${lines[0]}" == "m/sub/model.onnx: error: tensor 'w' keeps its data in './weights.bin': the model is this one file, so no other file is stored with it [onnx-external-missing]" ]]
	# data that stays outside the model folder through a link is refused by the walk
	mv m/sub/weights.bin outside.bin
	ln -s ../../outside.bin m/sub/weights.bin
	run --separate-stderr mreg validate m
	assert_status 1
	assert_contains "$output" "m/sub/weights.bin: error: symlink points outside the model folder"
	assert_contains "$output" "m/sub/model.onnx: error: tensor 'w' keeps its data in './weights.bin': no such file in the model [onnx-external-missing]"
}

@test "an empty weight file is a placeholder: a warning, and create takes it" {
	mkdir m
	: >m/model.safetensors
	run --separate-stderr mreg validate m
	assert_status 0
	[[ "${lines[0]}" == "m/model.safetensors: warning: the file is empty: a placeholder, not safetensors weights [weights-empty]" ]]
	[[ "${lines[-1]}" == "m: valid custom_model (0 errors, 1 warning)" ]]
	run --separate-stderr mreg create -n empty -p m
	assert_status 0
}

@test "show: format, tensors, parameters, dtypes and precision of each weight file, and their total" {
	mkdir m
	weights safetensors big m/model.safetensors
	weights onnx valid m/head.onnx
	run --separate-stderr mreg create -n w -p m
	assert_status 0
	run --separate-stderr mreg show w:1 --json
	assert_status 0
	[[ "$(json_get 'd["weights"]["parameters"]' <<<"$output")" == 1501009 ]]
	[[ "$(json_get 'd["weights"]["tensors"]' <<<"$output")" == 4 ]]
	[[ "$(json_get 'd["weights"]["precision"]' <<<"$output")" == "int8,float16,float32" ]]
	# two formats: none for the whole, one per file
	[[ "$(json_get 'd["weights"].get("format")' <<<"$output")" == null ]]
	[[ "$(json_get '[(f["path"], f["format"], f["parameters"]) for f in d["weights"]["files"]]' <<<"$output")" == '[["head.onnx", "onnx", 9], ["model.safetensors", "safetensors", 1501000]]' ]]
	[[ "$(json_get 'd["weights"]["files"][1]["dtypes"]' <<<"$output")" == '{"F16": 1000, "I8": 1500000}' ]]
	run --separate-stderr mreg show w:1
	assert_contains "$output" '"precision":"int8,float16,float32"'
}

@test "GGUF: show records the architecture; the bundle config says gguf and its precisions" {
	mkdir m
	weights gguf valid m/tiny.gguf
	run --separate-stderr mreg create -n g -p m
	assert_status 0
	run --separate-stderr mreg show g:1 --json
	[[ "$(json_get 'd["weights"]["files"][0]["architecture"]' <<<"$output")" == llama ]]
	[[ "$(json_get 'd["weights"]["files"][0]["dtypes"]' <<<"$output")" == '{"F32": 32, "Q8_0": 64}' ]]
	run --separate-stderr mreg package g:1 -o g.tar
	assert_status 0
	config_of g.tar >config.json
	[[ "$(json_get 'd["config"]' <config.json)" == '{"format": "gguf", "paramSize": "0.1K", "precision": "q8_0,float32"}' ]]
}

@test "package: config.format, paramSize and precision from the safetensors headers, valid for ModelPack's schema" {
	mkdir m
	weights safetensors big m/model.safetensors
	run --separate-stderr mreg create -n st -p m
	assert_status 0
	run --separate-stderr mreg package st:1 -o st.tar
	assert_status 0
	config_of st.tar >config.json
	[[ "$(json_get 'd["config"]' <config.json)" == '{"format": "safetensors", "paramSize": "1.5M", "precision": "int8,float16"}' ]]
	[[ -f "$SCHEMA" ]] || skip "../shared/reference/modelpack/config-schema.json is absent: no schema to check against"
	"$PYTHON" -c 'import jsonschema' 2>/dev/null ||
		skip "python3-jsonschema is not installed (apt install python3-jsonschema)"
	run "$PYTHON" -c '
import json, sys, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))
' "$SCHEMA" config.json
	assert_status 0
}

@test "MLflow and Triton folders: their weight files are checked too" {
	mkdir -p ml/data
	cat >ml/MLmodel <<'YAML'
flavors:
  python_function:
    loader_module: mlflow.transformers
    python_version: 3.10.12
  transformers:
    transformers_version: 4.40.0
    model_binary: data
mlflow_version: 2.12.2
YAML
	weights safetensors truncated ml/data/model.safetensors
	run --separate-stderr mreg validate ml -t mlflow_model
	assert_status 1
	assert_contains "$output" "ml/data/model.safetensors: error: the tensors need 32 bytes of data, but the file holds 27 after its header: truncated? [safetensors-data-size]"

	mkdir -p repo/m/1
	printf 'name: "m"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 3 ] } ]\n' >repo/m/config.pbtxt
	weights onnx truncated repo/m/1/model.onnx
	run --separate-stderr mreg validate repo
	assert_status 1
	assert_contains "$output" "repo/m/1/model.onnx: error: a field's bytes at byte 13 runs past the end of the file (40 bytes): truncated? [onnx-truncated]"
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n r -p repo -t triton_model
	assert_status 1
	assert_store_unchanged "$before"

	weights onnx valid repo/m/1/model.onnx
	run --separate-stderr mreg create -n r -p repo -t triton_model
	assert_status 0
	run --separate-stderr mreg show r:1 --json
	[[ "$(json_get 'd["weights"]["format"]' <<<"$output")" == onnx ]]
	[[ "$(json_get 'd["triton"]["models"][0]["name"]' <<<"$output")" == m ]]
}

@test "a weight file reached through a link the model keeps is checked under the link's name" {
	mkdir -p m/blobs
	weights safetensors truncated m/blobs/0a1b2c
	ln -s blobs/0a1b2c m/model.safetensors
	run --separate-stderr mreg validate m
	assert_status 1
	[[ "${lines[0]}" == "m/model.safetensors: error: the tensors need 32 bytes of data, but the file holds 27 after its header: truncated? [safetensors-data-size]" ]]
	[[ "${lines[-1]}" == "m: invalid custom_model (1 error, 0 warnings)" ]]
}

@test "MLflow: a model's weights are recorded beside its flavors" {
	mkdir -p ml/data
	cat >ml/MLmodel <<'YAML'
flavors:
  python_function:
    loader_module: mlflow.transformers
    python_version: 3.10.12
  transformers:
    transformers_version: 4.40.0
    model_binary: data
mlflow_version: 2.12.2
YAML
	weights safetensors valid ml/data/model.safetensors
	run --separate-stderr mreg create -n ml -p ml -t mlflow_model
	assert_status 0
	run --separate-stderr mreg show ml:1 --json
	[[ "$(json_get 'd["flavors"]["transformers"]["model_binary"]' <<<"$output")" == data ]]
	[[ "$(json_get '(d["weights"]["format"], d["weights"]["files"][0]["path"], d["weights"]["parameters"])' <<<"$output")" == '["safetensors", "data/model.safetensors", 10]' ]]
}
