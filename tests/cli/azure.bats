#!/usr/bin/env bats
# Models from Azure Blob Storage (wasbs://, https://ACCOUNT.blob...) and from
# azureml://datastores/ URIs, against Azurite started here on loopback (TLS,
# so the https:// form and --ca-file are real; a second, clear-text one for
# the connection string most Azurite users write). Blobs are put through the
# REST API with Shared Key by azure_tool.py.

load helpers
load source

setup_file() {
	# bats 1.8 fails a file whose setup_file skips: each test's setup skips instead.
	[[ -n "$AZURITE_BLOB" ]] || return 0
	export AZ_DIR="${BATS_FILE_TMPDIR}/azurite"
	local started
	started="$(start_azurite "$AZ_DIR" tls)" || return 1
	export AZ_PID="${started% *}" AZ_PORT="${started#* }"
	export AZ_CA="$AZ_DIR/ca.pem"
	export AZ_ENDPOINT="https://127.0.0.1:${AZ_PORT}/${AZ_ACCOUNT}"
	# The product-style host: Shared Key and SAS as against Azure itself.
	export AZ_HOST="${AZ_ACCOUNT}.blob.localhost:${AZ_PORT}"
	export SSL_CERT_FILE="$AZ_CA" # for azure_tool.py
	mkdir -p "$AZ_DIR/model/sub" "$AZ_DIR/many"
	head -c 1500000 /dev/urandom >"$AZ_DIR/model/weights.bin"
	printf 'config\n' >"$AZ_DIR/model/sub/config.json"
	for i in $(seq 1 7); do printf 'part %s\n' "$i" >"$AZ_DIR/many/p$i.txt"; done
	azure_tool "$AZ_ENDPOINT" mkcontainer models
	azure_tool "$AZ_ENDPOINT" putdir models m "$AZ_DIR/model"
	azure_tool "$AZ_ENDPOINT" put models m/empty/ -
	azure_tool "$AZ_ENDPOINT" put models m/adls-dir - --folder-marker
	azure_tool "$AZ_ENDPOINT" put models single.bin "$AZ_DIR/model/weights.bin"
	azure_tool "$AZ_ENDPOINT" put models "with space/x y.bin" "$AZ_DIR/model/sub/config.json"
	azure_tool "$AZ_ENDPOINT" putdir models many "$AZ_DIR/many"
	azure_tool "$AZ_ENDPOINT" put models badmd5.bin "$AZ_DIR/model/sub/config.json"
	azure_tool "$AZ_ENDPOINT" setmd5 models badmd5.bin AAAAAAAAAAAAAAAAAAAAAA==
	azure_tool "$AZ_ENDPOINT" mkcontainer public --public
	azure_tool "$AZ_ENDPOINT" putdir public m "$AZ_DIR/model"
}

teardown_file() {
	if [[ -n "${AZ_PID:-}" ]]; then
		kill "$AZ_PID" 2>/dev/null || true
	fi
}

setup() {
	require_azurite
	setup_store
	unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
	CONN="DefaultEndpointsProtocol=https;AccountName=${AZ_ACCOUNT};AccountKey=${AZ_KEY};BlobEndpoint=${AZ_ENDPOINT};"
}

teardown() {
	stop_source_servers
}

# The model folder as it should come back (the empty folders too).
assert_model_tree() {
	run mreg download "$1" -o "$BATS_TEST_TMPDIR/out"
	assert_status 0
	cmp "$BATS_TEST_TMPDIR/out/weights.bin" "$AZ_DIR/model/weights.bin"
	cmp "$BATS_TEST_TMPDIR/out/sub/config.json" "$AZ_DIR/model/sub/config.json"
	[[ -d "$BATS_TEST_TMPDIR/out/empty" ]] || fail "the empty/ folder marker was not kept as a folder"
	[[ -d "$BATS_TEST_TMPDIR/out/adls-dir" ]] || fail "the hdi_isfolder marker was not kept as a folder"
	[[ "$(find "$BATS_TEST_TMPDIR/out" -type f | wc -l)" -eq 2 ]] || fail "markers became files"
}

@test "azure: connection string (BlobEndpoint, Shared Key): a folder of blobs, folder markers as folders" {
	export AZURE_STORAGE_CONNECTION_STRING="$CONN"
	run --separate-stderr mreg create -n m -p "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/m" --ca-file "$AZ_CA" --json
	assert_status 0
	[[ "$(json_get 'd["source"]["path"]' <<<"$output")" == "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/m" ]] || fail "source: $output"
	[[ "$(json_get 'd["source"]["kind"]' <<<"$output")" == directory ]] || fail "kind"
	assert_model_tree m:1
	run grep -r "$AZ_KEY" "$MREG_DIR"
	assert_status 1
	run mreg fsck
	assert_status 0
}

@test "azure: a folder's progress line counts every blob's bytes against the folder's total" {
	export AZURE_STORAGE_CONNECTION_STRING="$CONN"
	# From the first byte (MREG_PROGRESS_DELAY=0): the last line says all of
	# it, seven blobs of 7 bytes, though they arrive on several threads.
	MREG_PROGRESS_DELAY=0 run script -qec "'${MREG}' create -n many -p 'wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/many' --ca-file '$AZ_CA'" /dev/null
	assert_status 0
	[[ "$output" == *"fetching 49 B / 49 B"* ]] || fail "no whole-folder progress line in: $output"
	[[ "$output" != *" / 7 B"* ]] || fail "a blob's own total shown: $output"
	[[ "$output" == *"created many:1"* ]] || fail "not created: $output"
}

@test "azure: connection string: one blob; a name with a space" {
	export AZURE_STORAGE_CONNECTION_STRING="$CONN"
	run --separate-stderr mreg create -n one -p "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/single.bin" --ca-file "$AZ_CA" --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$output")" == "$(file_digest "$AZ_DIR/model/weights.bin")" ]] || fail "digest"
	[[ "$(json_get 'd["files"][0]["path"]' <<<"$output")" == single.bin ]] || fail "name"
	[[ "$(json_get 'd["source"]["fetched"]["etag"]' <<<"$output")" != None ]] || fail "no etag"
	run --separate-stderr mreg create -n sp -p "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/with%20space/x%20y.bin" --ca-file "$AZ_CA" --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["path"]' <<<"$output")" == "x y.bin" ]] || fail "name: $output"
}

@test "azure: clear-text Azurite through DefaultEndpointsProtocol=http and BlobEndpoint" {
	local started pid port
	started="$(start_azurite "$BATS_TEST_TMPDIR/az-plain")"
	pid="${started% *}" port="${started#* }"
	SOURCE_PIDS+=("$pid") # stopped in teardown whatever happens
	SSL_CERT_FILE= azure_tool "http://127.0.0.1:$port/$AZ_ACCOUNT" mkcontainer plain
	SSL_CERT_FILE= azure_tool "http://127.0.0.1:$port/$AZ_ACCOUNT" put plain dir/a.bin "$AZ_DIR/model/weights.bin"
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=${AZ_ACCOUNT};AccountKey=${AZ_KEY};BlobEndpoint=http://127.0.0.1:$port/${AZ_ACCOUNT};"
	run --separate-stderr mreg create -n p -p "wasbs://plain@${AZ_ACCOUNT}.blob.core.windows.net/dir" --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$output")" == "$(file_digest "$AZ_DIR/model/weights.bin")" ]] || fail "digest"
}

@test "azure: AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY, https://ACCOUNT.blob... form" {
	export AZURE_STORAGE_ACCOUNT="$AZ_ACCOUNT" AZURE_STORAGE_KEY="$AZ_KEY"
	run --separate-stderr mreg create -n m -p "https://${AZ_HOST}/models/m/" --ca-file "$AZ_CA" --json
	assert_status 0
	[[ "$(json_get 'd["source"]["path"]' <<<"$output")" == "https://${AZ_HOST}/models/m/" ]] || fail "source"
	assert_model_tree m:1
}

@test "azure: a wrong key is refused (naming where it came from, not the key), nothing written" {
	local wrong
	wrong="$(head -c 64 /dev/urandom | base64 -w0)"
	export AZURE_STORAGE_ACCOUNT="$AZ_ACCOUNT" AZURE_STORAGE_KEY="$wrong"
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "https://${AZ_HOST}/models/m" --ca-file "$AZ_CA"
	assert_status 1
	assert_one_error "access denied" "AZURE_STORAGE_KEY"
	assert_not_contains "$stderr" "$wrong"
	assert_nothing_left "$before"
	unset AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY
	export AZURE_STORAGE_CONNECTION_STRING="AccountName=${AZ_ACCOUNT};AccountKey=${wrong};BlobEndpoint=${AZ_ENDPOINT}"
	run --separate-stderr mreg create -n m -p "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/single.bin" --ca-file "$AZ_CA"
	assert_status 1
	assert_one_error "access denied" "AZURE_STORAGE_CONNECTION_STRING"
	assert_not_contains "$stderr" "$wrong"
	assert_nothing_left "$before"
	# Credentials of another account are not sent at all.
	unset AZURE_STORAGE_CONNECTION_STRING
	export AZURE_STORAGE_ACCOUNT=otheraccount AZURE_STORAGE_KEY="$AZ_KEY"
	run --separate-stderr mreg create -n m -p "https://${AZ_HOST}/models/m" --ca-file "$AZ_CA"
	assert_status 1
	assert_one_error "otheraccount" "$AZ_ACCOUNT"
	assert_nothing_left "$before"
}

@test "azure: a service SAS, from AZURE_STORAGE_SAS_TOKEN or in the URL (not recorded)" {
	local sas
	sas="$(azure_tool "$AZ_ENDPOINT" sas models)"
	export AZURE_STORAGE_SAS_TOKEN="$sas"
	run --separate-stderr mreg create -n m -p "https://${AZ_HOST}/models/m" --ca-file "$AZ_CA"
	assert_status 0
	assert_model_tree m:1
	unset AZURE_STORAGE_SAS_TOKEN
	run --separate-stderr mreg create -n m -p "https://${AZ_HOST}/models/single.bin?${sas}" --ca-file "$AZ_CA" --json
	assert_status 0
	[[ "$(json_get 'd["source"]["path"]' <<<"$output")" == "https://${AZ_HOST}/models/single.bin" ]] || fail "source"
	run grep -rF "sig=" "$MREG_DIR/models"
	assert_status 1
	# A SAS in a connection string, with BlobEndpoint.
	export AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=${AZ_ENDPOINT};SharedAccessSignature=${sas}"
	run --separate-stderr mreg create -n m -p "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/single.bin" --ca-file "$AZ_CA"
	assert_status 0
	# Without any credentials the private container is refused.
	unset AZURE_STORAGE_CONNECTION_STRING
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "https://${AZ_HOST}/models/m" --ca-file "$AZ_CA"
	assert_status 1
	assert_one_error "no credentials were given"
	assert_nothing_left "$before"
}

@test "azure: a public container without credentials" {
	run --separate-stderr mreg create -n pub -p "https://${AZ_HOST}/public/m" --ca-file "$AZ_CA" --json
	assert_status 0
	[[ "$(json_get 'len(d["files"])' <<<"$output")" == 2 ]] || fail "files: $output"
}

@test "azure: more blobs than one List page (maxresults 2: four pages)" {
	export AZURE_STORAGE_CONNECTION_STRING="$CONN" MREG_AZURE_MAXRESULTS=2
	run --separate-stderr mreg create -n many -p "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/many/" --ca-file "$AZ_CA" --json
	assert_status 0
	[[ "$(json_get 'len(d["files"])' <<<"$output")" == 7 ]] || fail "files: $output"
	run mreg download many:1 -o "$BATS_TEST_TMPDIR/many"
	assert_status 0
	assert_same_tree "$AZ_DIR/many" "$BATS_TEST_TMPDIR/many"
}

@test "azure: a missing blob or container is refused naming it, nothing left" {
	export AZURE_STORAGE_CONNECTION_STRING="$CONN"
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/nothing/here.bin" --ca-file "$AZ_CA"
	assert_status 1
	assert_one_error "nothing/here.bin" "no blob"
	assert_nothing_left "$before"
	run --separate-stderr mreg create -n m -p "wasbs://nocontainer@${AZ_ACCOUNT}.blob.core.windows.net/x/" --ca-file "$AZ_CA"
	assert_status 1
	assert_one_error "nocontainer" "404"
	assert_nothing_left "$before"
}

@test "azure: a blob whose content does not match its Content-MD5 is refused" {
	export AZURE_STORAGE_CONNECTION_STRING="$CONN"
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/badmd5.bin" --ca-file "$AZ_CA"
	assert_status 1
	assert_one_error "Content-MD5"
	assert_nothing_left "$before"
}

@test "azureml: azureml://datastores/NAME/paths/PATH through config.yaml's datastores: mapping" {
	export AZURE_STORAGE_CONNECTION_STRING="$CONN"
	printf 'datastores:\n  workspaceblobstore: wasbs://models@%s.blob.core.windows.net/\n' "$AZ_ACCOUNT" >>"$MREG_DIR/config.yaml"
	run --separate-stderr mreg create -n m -p "azureml://datastores/workspaceblobstore/paths/m" --ca-file "$AZ_CA" --json
	assert_status 0
	[[ "$(json_get 'd["source"]["path"]' <<<"$output")" == "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/m" ]] || fail "source"
	assert_model_tree m:1
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "azureml://datastores/other/paths/m" --ca-file "$AZ_CA"
	assert_status 1
	assert_one_error "unknown datastore 'other'" "datastores.other"
	assert_nothing_left "$before"
}

@test "azure: the format plugin checks the fetched folder: an invalid MLflow model is refused, a valid one registers" {
	export AZURE_STORAGE_CONNECTION_STRING="$CONN"
	mkdir -p good bad
	printf 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\nmlflow_version: 2.12.2\n' >good/MLmodel
	: >good/model.pkl
	printf 'flavors:\n  python_function:\n    model_path: model.pkl\n' >bad/MLmodel
	: >bad/model.pkl
	azure_tool "$AZ_ENDPOINT" putdir models good-mlflow good
	azure_tool "$AZ_ENDPOINT" putdir models bad-mlflow bad
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n bad -t mlflow_model -p "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/bad-mlflow" --ca-file "$AZ_CA"
	assert_status 1
	assert_contains "$stderr" "loader_module"
	assert_contains "$stderr" "is not a valid mlflow_model"
	# Diagnostics name the file under its URL, not where it was fetched to.
	assert_contains "$stderr" "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/bad-mlflow/MLmodel:"
	assert_not_contains "$stderr" "/tmp/source-"
	assert_nothing_left "$before"
	run --separate-stderr mreg create -n good -t mlflow_model -p "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/good-mlflow" --ca-file "$AZ_CA" --json
	assert_status 0
	[[ "$(json_get 'd["type"]' <<<"$output")" == mlflow_model ]] || fail "type"
	# mreg validate URL: the same check without a store change.
	run --separate-stderr mreg validate -t mlflow_model "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/bad-mlflow" --ca-file "$AZ_CA"
	assert_status 1
	assert_contains "$output" "invalid mlflow_model"
	assert_contains "$output" "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/bad-mlflow/MLmodel:"
	run --separate-stderr mreg validate "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/good-mlflow" --ca-file "$AZ_CA"
	assert_status 0
	assert_contains "$output" "wasbs://models@${AZ_ACCOUNT}.blob.core.windows.net/good-mlflow: valid mlflow_model"
}
