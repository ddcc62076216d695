#!/usr/bin/env bats
# Messages that say the way out: each refusal a new user meets in the first
# hour names the fix (issue 18), and notes that were wrong are gone.

load helpers
load registry

setup() {
	setup_store
	make_model model
	mreg create -n churn -p model >/dev/null
}

teardown() {
	stop_registry
}

@test "show NAME:latest: there is no version 'latest', NAME@latest is the latest version" {
	run --separate-stderr mreg show churn:latest
	assert_status 1
	assert_one_error "model churn has no version latest (churn@latest names its latest version)"
	run --separate-stderr mreg show churn@latest
	assert_status 0
}

@test "azureml:NAME:VERSION and other references with two colons say what mreg expects" {
	run --separate-stderr mreg show azureml:churn:2
	assert_status 2
	assert_contains "$stderr" "'azureml:churn:2' is an Azure ML asset reference; mreg names a version NAME:VERSION (churn:2)"
	run --separate-stderr mreg show a:b:c
	assert_status 2
	assert_contains "$stderr" "'a:b:c': a reference is NAME, NAME:VERSION or NAME@latest (one ':')"
}

@test "-t with an unknown type lists the types and guesses the one meant" {
	run --separate-stderr mreg create -n x -p model -t mlflow
	assert_status 2
	assert_contains "$stderr" "unknown model type 'mlflow' (known: custom_model, mlflow_model, triton_model; did you mean mlflow_model?)"
	run --separate-stderr mreg validate model -t Triton
	assert_status 2
	assert_contains "$stderr" "did you mean triton_model?"
	run --separate-stderr mreg validate model -t onnx
	assert_status 2
	assert_contains "$stderr" "unknown model type 'onnx' (known: custom_model, mlflow_model, triton_model)"
}

@test "validate DIR/MLmodel or DIR/config.pbtxt checks the model folder, not the file as custom_model" {
	mkdir -p mlf
	printf 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n' >mlf/MLmodel
	run --separate-stderr mreg validate mlf/MLmodel
	assert_status 0
	assert_contains "$stderr" "mlf/MLmodel is the MLmodel file of a model: checking its folder mlf"
	assert_contains "$output" "mlf: valid mlflow_model"
	mkdir -p repo/m
	printf 'name: "m"\nbackend: "onnxruntime"\n' >repo/m/config.pbtxt
	run --separate-stderr mreg validate repo/m/config.pbtxt
	assert_status 1
	assert_contains "$stderr" "checking its folder repo/m"
	assert_contains "$output" "at least one version must be available"
	# -t custom_model still checks the file alone.
	run --separate-stderr mreg validate mlf/MLmodel -t custom_model
	assert_status 0
	assert_contains "$output" "mlf/MLmodel: valid custom_model"
}

@test "the mlflow-missing-field warning says which MLflow versions write the field" {
	mkdir -p mlf
	printf 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n' >mlf/MLmodel
	run --separate-stderr mreg validate mlf
	assert_contains "$output" "no 'mlflow_version': MLflow 1.x and later write it; files saved by older MLflow or by other tools (the Java API) may lack it [mlflow-missing-field]"
	assert_not_contains "$output" "in every model it saves"
}

@test "push to a plain-HTTP registry without --plain-http names the flag; fsck after pulls reports no leftover" {
	start_registry
	run --separate-stderr mreg push churn:1 "$REG/team/churn"
	assert_status 2
	assert_contains "$stderr" "the registry may speak plain HTTP, not HTTPS: for a local test registry add --plain-http"
	run --separate-stderr mreg push churn:1 "$REG/team/churn" --plain-http
	assert_status 0
	other="${TEST_DIR}/other/.mreg"
	MREG_DIR="$other" "${MREG}" init >/dev/null
	MREG_DIR="$other" run --separate-stderr "${MREG}" pull "$REG/team/churn:1" --plain-http
	assert_status 0
	MREG_DIR="$other" run --separate-stderr "${MREG}" fsck
	assert_status 0
	assert_not_contains "$output" "leftover"
	assert_not_contains "$stderr" "leftover"
}
