#!/usr/bin/env bats
# mreg validate / create with the mlflow_model type: what the user sees on
# stdout, stderr, in --json and in the exit status.

setup() {
	cd "$BATS_TEST_TMPDIR"
	export MREG_DIR="$BATS_TEST_TMPDIR/store"
	mkdir model
	cat > model/MLmodel <<'YAML'
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
utc_time_created: '2024-05-17 23:15:28.764394'
YAML
	printf 'name: mlflow-env\ndependencies:\n- python=3.10.12\n- pip:\n  - mlflow==2.12.2\n' > model/conda.yaml
	: > model/model.pkl
	mkdir broken
	printf 'flavors:\n  python_function:\n    model_path: model.pkl\n' > broken/MLmodel
	: > broken/model.pkl
}

@test "validate detects an MLflow model and accepts it" {
	run "$MREG" validate model
	[ "$status" -eq 0 ]
	[ "$output" = "model: valid mlflow_model (0 errors, 0 warnings)" ]
}

@test "validate prints compiler-style diagnostics and exits 1" {
	run "$MREG" validate broken
	[ "$status" -eq 1 ]
	[[ "$output" == *"broken/MLmodel:2:3: error: flavor 'python_function' has no 'loader_module' [mlflow-flavor]"* ]]
	[[ "$output" == *"broken/MLmodel:1:1: warning: no 'mlflow_version': MLflow 1.x and later write it; files saved by older MLflow or by other tools (the Java API) may lack it [mlflow-missing-field]"* ]]
	[[ "${lines[-1]}" == "broken: invalid mlflow_model (1 error, 3 warnings)" ]]
}

@test "validate --json gives the same diagnostics as data" {
	run "$MREG" validate --json broken
	[ "$status" -eq 1 ]
	[ "$(jq -r .type <<< "$output")" = mlflow_model ]
	[ "$(jq -r .valid <<< "$output")" = false ]
	[ "$(jq -r .errors <<< "$output")" = 1 ]
	[ "$(jq -r '.diagnostics[] | select(.severity == "error") | "\(.file):\(.line):\(.column) \(.code)"' <<< "$output")" = "broken/MLmodel:2:3 mlflow-flavor" ]
}

@test "validate -t mlflow_model on a folder without MLmodel quotes MLflow" {
	mkdir plain
	: > plain/weights.bin
	run "$MREG" validate -t mlflow_model plain
	[ "$status" -eq 1 ]
	[[ "$output" == *'plain: error: Could not find an "MLmodel" configuration file at "plain" [mlflow-mlmodel]'* ]]
}

@test "validate -t custom_model overrides detection" {
	run "$MREG" validate -t custom_model broken
	[ "$status" -eq 0 ]
	[[ "$output" == *"valid custom_model"* ]]
}

@test "a YAML syntax error carries libyaml's problem and position" {
	printf 'flavors:\n  sklearn: {pickled_model: model.pkl\n' > broken/MLmodel
	run "$MREG" validate --json broken
	[ "$status" -eq 1 ]
	[ "$(jq -r '.diagnostics[0] | "\(.line):\(.column) \(.code)"' <<< "$output")" = "3:1 mlflow-yaml" ]
	[[ "$(jq -r '.diagnostics[0].message' <<< "$output")" == "YAML syntax error: did not find expected ',' or '}'"* ]]
}

@test "create -t mlflow_model refuses a model with errors" {
	"$MREG" init >/dev/null
	run "$MREG" create -n m -p broken -t mlflow_model
	[ "$status" -eq 1 ]
	[[ "$output" == *"broken/MLmodel:2:3: error: flavor 'python_function' has no 'loader_module' [mlflow-flavor]"* ]]
	run "$MREG" list --json
	[ "$(jq length <<< "$output")" = 0 ]
}

@test "create -t mlflow_model records flavors, signature and mlflow_version" {
	"$MREG" init >/dev/null
	run "$MREG" create -n wine -p model -t mlflow_model
	[ "$status" -eq 0 ]
	run "$MREG" show wine:1 --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<< "$output")" = mlflow_model ]
	[ "$(jq -r .flavors.python_function.loader_module <<< "$output")" = mlflow.sklearn ]
	[ "$(jq -r .flavors.sklearn.sklearn_version <<< "$output")" = 1.3.0 ]
	[ "$(jq -r '.signature.inputs[0].name' <<< "$output")" = x ]
	[ "$(jq -r '.signature.outputs[0]["tensor-spec"].shape[0]' <<< "$output")" = -1 ]
	[ "$(jq -r .mlflow_version <<< "$output")" = 2.12.2 ]
}

@test "create -f model.yml with type: mlflow_model works the same way" {
	"$MREG" init >/dev/null
	printf 'name: wine\nversion: "3"\ntype: mlflow_model\npath: model\n' > model.yml
	run "$MREG" create -f model.yml
	[ "$status" -eq 0 ]
	[[ "$output" == "created wine:3 (mlflow_model,"* ]]
	printf 'name: bad\ntype: mlflow_model\npath: broken\n' > bad.yml
	run "$MREG" create -f bad.yml
	[ "$status" -eq 1 ]
	[[ "$output" == *"[mlflow-flavor]"* ]]
}

@test "warnings do not block create" {
	"$MREG" init >/dev/null
	printf 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n' > broken/MLmodel
	run "$MREG" create -n w -p broken -t mlflow_model
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: no 'mlflow_version'"* ]]
	[[ "$output" == *"created w:1 (mlflow_model,"* ]]
}
