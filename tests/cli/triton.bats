#!/usr/bin/env bats
# mreg validate / create / show with Triton model repositories: what the user
# sees on stdout (text and --json) and the exit status. MREG is the built CLI.

setup() {
	WORK=$(mktemp -d)
	cd "$WORK"
	mkdir -p repo/m/1 repo/e/1
	python3 "$BATS_TEST_DIRNAME/weightgen.py" onnx valid repo/m/1/model.onnx
	cat > repo/m/config.pbtxt <<'CFG'
name: "m"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
CFG
	cat > repo/e/config.pbtxt <<'CFG'
name: "e"
platform: "ensemble"
max_batch_size: 4
input [ { name: "IN" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 16 ] } ]
ensemble_scheduling { step [ { model_name: "m" model_version: -1
  input_map { key: "INPUT0" value: "IN" } output_map { key: "OUTPUT0" value: "OUT" } } ] }
CFG
}

teardown() {
	cd /
	rm -rf "$WORK"
}

@test "a valid repository: detected as triton_model, exit 0" {
	run "$MREG" validate repo
	[ "$status" -eq 0 ]
	[ "$output" = "repo: valid triton_model (0 errors, 0 warnings)" ]
}

@test "an error: compiler-style line with Triton's text and position, exit 1" {
	sed -i 's/max_batch_size: 8/max_batch_size: -2/' repo/m/config.pbtxt
	run "$MREG" validate repo
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "repo/m/config.pbtxt:3:17: error: 'max_batch_size' must be non-negative value for m [triton-max-batch-size]" ]
	# The ensemble that uses m says why it cannot load.
	[[ "$output" == *"repo/e/config.pbtxt:6:30: error: ensemble 'e' depends on 'm' which is not valid."* ]]
	[ "${lines[-1]}" = "repo: invalid triton_model (2 errors, 0 warnings)" ]
}

@test "a syntax error: protobuf's explanation and where" {
	printf 'name: "m"\nmax_batch_size 8\n' > repo/m/config.pbtxt
	run "$MREG" validate repo/m
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "repo/m/config.pbtxt:2:16: error: failed to read text proto: Expected \":\", found \"8\". [triton-syntax]" ]
}

@test "--json: the same diagnostics as data" {
	sed -i 's/TYPE_FP32 dims: \[ 16 \] } \]$/TYPE_FLOAT dims: [ 16 ] } ]/' repo/m/config.pbtxt
	run "$MREG" validate --json repo/m
	[ "$status" -eq 1 ]
	[[ "$output" == *'"type": "triton_model"'* ]]
	[[ "$output" == *'"valid": false'* ]]
	[[ "$output" == *'"code": "triton-schema"'* ]]
	[[ "$output" == *'"line": 4'* ]]
	[[ "$output" == *'Unknown enumeration value of \"TYPE_FLOAT\" for field \"data_type\".'* ]]
}

@test "a model without config.pbtxt: a note, still valid" {
	rm repo/m/config.pbtxt
	run "$MREG" validate repo/m
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "repo/m: note: no config.pbtxt: Triton auto-completes the configuration of model 'm'"* ]]
}

@test "MREG_TRITON_GPUS bounds the GPU ids" {
	printf 'instance_group [ { kind: KIND_GPU gpus: [ 3 ] } ]\n' >> repo/m/config.pbtxt
	run "$MREG" validate repo/m
	[ "$status" -eq 0 ]
	MREG_TRITON_GPUS=2 run "$MREG" validate repo/m
	[ "$status" -eq 1 ]
	[[ "$output" == *"specifies invalid or unsupported gpu id 3. GPUs with at least the minimum required CUDA compute compatibility are (MREG_TRITON_GPUS): 0, 1 [triton-instance-group]"* ]]
}

@test "create records the models, platforms and tensors" {
	export MREG_DIR="$WORK/.mreg"
	"$MREG" init "$WORK" >/dev/null
	run "$MREG" create -n rep -t triton_model -p repo
	[ "$status" -eq 0 ]
	run "$MREG" show rep:1 --json
	[ "$status" -eq 0 ]
	[[ "$output" == *'"triton": {'* ]]
	[[ "$output" == *'"platform": "onnxruntime_onnx"'* ]]
	[[ "$output" == *'"name": "INPUT0"'* ]]
}

@test "create refuses an invalid repository" {
	export MREG_DIR="$WORK/.mreg"
	"$MREG" init "$WORK" >/dev/null
	rm -r repo/m/1
	run "$MREG" create -n rep -t triton_model -p repo
	[ "$status" -eq 1 ]
	[[ "$output" == *"at least one version must be available under the version policy of model 'm'"* ]]
}

@test "protobuf's positions: after an unknown name, after an unknown enum, a tab is 8 columns" {
	printf 'name: "m"\nmax_batch: 8\ninput [ { name: "x" data_type: TYPE_FLOAT\n\tdims: [ 16 ] } ]\n' > repo/m/config.pbtxt
	run "$MREG" validate repo/m
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "repo/m/config.pbtxt:2:10: error: failed to read text proto: Message type \"inference.ModelConfig\" has no field named \"max_batch\". [triton-schema]" ]
	[ "${lines[1]}" = "repo/m/config.pbtxt:4:9: error: failed to read text proto: Unknown enumeration value of \"TYPE_FLOAT\" for field \"data_type\". [triton-schema]" ]
}

@test "a value of the wrong kind: protobuf's word for the field's type" {
	printf 'name: "m"\nmax_batch_size: }\n' > repo/m/config.pbtxt
	run "$MREG" validate repo/m
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "repo/m/config.pbtxt:2:17: error: failed to read text proto: Expected integer, got: } [triton-syntax]" ]
	printf 'name: "m\\U00110000"\n' > repo/m/config.pbtxt
	run "$MREG" validate repo/m
	[[ "$output" != *"triton-syntax"* ]]
}

@test "an ensemble whose outputs come from different decoupled origins (Triton's sink node)" {
	mkdir -p repo/d/1
	cp repo/m/1/model.onnx repo/d/1/model.onnx
	sed 's/name: "m"/name: "d"/' repo/m/config.pbtxt > repo/d/config.pbtxt
	echo 'model_transaction_policy { decoupled: true }' >> repo/d/config.pbtxt
	cat > repo/e/config.pbtxt <<'CFG'
name: "e"
platform: "ensemble"
max_batch_size: 4
input [ { name: "IN" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 16 ] }, { name: "OUT2" data_type: TYPE_FP32 dims: [ 16 ] } ]
ensemble_scheduling { step [
  { model_name: "d" model_version: -1 input_map { key: "INPUT0" value: "IN" } output_map { key: "OUTPUT0" value: "OUT" } },
  { model_name: "m" model_version: -1 input_map { key: "INPUT0" value: "IN" } output_map { key: "OUTPUT0" value: "OUT2" } } ] }
CFG
	run "$MREG" validate repo
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "repo/e/config.pbtxt:6:1: error: in ensemble e, step of model 'e' receives inputs originated from different decoupled models [triton-ensemble-models]" ]
}
