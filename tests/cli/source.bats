#!/usr/bin/env bats
# mreg create -p https://...: one file streamed from a TLS server the test
# starts (source_server.py, a self-signed certificate passed with --ca-file),
# with faults: cut connections (resumed with Range), a wrong Content-Length,
# 500s, redirects to http://, Content-Disposition names, Content-MD5.

load helpers
load source

setup() {
	setup_store
	start_source_server tls
	head -c 3000000 /dev/urandom >"$SRC_FILES/model.bin"
	WANT="$(file_digest "$SRC_FILES/model.bin")"
}

teardown() {
	stop_source_servers
}

@test "https: one file registers, identical to the source, with its provenance" {
	run --separate-stderr mreg create -n m -p "$SRC_URL/files/model.bin" --ca-file "$SRC_CA" --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$output")" == "$WANT" ]] || fail "digest differs"
	[[ "$(json_get 'd["files"][0]["path"]' <<<"$output")" == model.bin ]] || fail "file name"
	[[ "$(json_get 'd["files"][0]["mode"]' <<<"$output")" == 0644 ]] || fail "mode"
	[[ "$(json_get 'd["source"]["path"]' <<<"$output")" == "$SRC_URL/files/model.bin" ]] || fail "source path"
	[[ "$(json_get 'd["source"]["kind"]' <<<"$output")" == file ]] || fail "source kind"
	[[ "$(json_get 'd["source"]["fetched"]["etag"]' <<<"$output")" == '"'* ]] || fail "no etag"
	[[ "$(json_get 'd["source"]["fetched"]["last_modified"]' <<<"$output")" == *GMT ]] || fail "no last_modified"
	[[ "$(json_get 'd["source"]["fetched"]["at"]' <<<"$output")" == 20*Z ]] || fail "no fetch time"
	# The record with source.fetched fits docs/json/record.schema.json.
	run "$PYTHON" "${BATS_TEST_DIRNAME}/json_schema_check.py" "${BATS_TEST_DIRNAME}/../../docs/json" record.schema.json <<<"$output"
	assert_status 0
	run mreg download m:1 -o out
	assert_status 0
	cmp out/model.bin "$SRC_FILES/model.bin"
	run mreg fsck
	assert_status 0
	# One GET, no temporary copy left.
	[[ "$(grep -c '^GET ' "$SRC_LOG")" -eq 1 ]] || fail "$(cat "$SRC_LOG")"
	[[ -z "$(find "$MREG_DIR/tmp" -mindepth 1 ! -name '*.lock')" ]] || fail "tmp/ not empty"
}

@test "https: a progress line shows on a terminal while the file arrives, none otherwise" {
	# 1 MB in 64 KiB pieces 50 ms apart: about 0.8 s, past the line's 0.3 s delay.
	head -c 1000000 /dev/urandom >"$SRC_FILES/slow.bin"
	run script -qec "'${MREG}' create -n m -p '$SRC_URL/slow/slow.bin' --ca-file '$SRC_CA'" /dev/null
	assert_status 0
	[[ "$output" == *"fetching "*" / 976.6 KiB"*"/s"* ]] || fail "no progress line in: $output"
	[[ "$output" == *"created m:1"* ]] || fail "not created: $output"
	# Not a terminal: no line at all, stderr empty.
	run --separate-stderr mreg create -n quiet -p "$SRC_URL/slow/slow.bin" --ca-file "$SRC_CA"
	assert_status 0
	[ -z "$stderr" ] || fail "stderr not empty: $stderr"
}

@test "https: the certificate is verified (without --ca-file the self-signed one is refused)" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "$SRC_URL/files/model.bin"
	assert_status 2
	assert_one_error "certificate" "--ca-file"
	assert_nothing_left "$before"
}

@test "https: a cut connection is resumed with Range (If-Range), the file is whole" {
	run --separate-stderr mreg create -n m -p "$SRC_URL/cut-once/model.bin" --ca-file "$SRC_CA" --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$output")" == "$WANT" ]] || fail "digest differs"
	grep -q '^GET /cut-once/model.bin bytes=1500000- "' "$SRC_LOG" || fail "no Range resume: $(cat "$SRC_LOG")"
}

@test "https: a server that sends it all again after a cut (no Range) starts over" {
	run --separate-stderr mreg create -n m -p "$SRC_URL/cut-restart/model.bin" --ca-file "$SRC_CA" --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$output")" == "$WANT" ]] || fail "digest differs"
	[[ "$(json_get 'd["size"]' <<<"$output")" == 3000000 ]] || fail "size"
}

@test "https: cut every time: refused after the retries, nothing left" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "$SRC_URL/cut-always/model.bin" --ca-file "$SRC_CA" --retries 2
	assert_status 2
	assert_one_error "cut-always/model.bin" "remaining"
	[[ "$(grep -c '^GET ' "$SRC_LOG")" -eq 3 ]] || fail "expected 3 attempts: $(cat "$SRC_LOG")"
	assert_nothing_left "$before"
}

@test "https: a body shorter than Content-Length is refused, nothing left" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "$SRC_URL/short/model.bin" --ca-file "$SRC_CA" --retries 1
	assert_status 2
	assert_one_error "short/model.bin"
	assert_nothing_left "$before"
}

@test "https: 500s are retried (bounded), then refused; one 500 then the file works" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "$SRC_URL/error500/model.bin" --ca-file "$SRC_CA" --retries 1
	assert_status 2
	assert_one_error "answered 500"
	[[ "$(grep -c '^GET /error500/' "$SRC_LOG")" -eq 2 ]] || fail "expected 2 attempts"
	assert_nothing_left "$before"
	run --separate-stderr mreg create -n m -p "$SRC_URL/error500-once/model.bin" --ca-file "$SRC_CA" --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$output")" == "$WANT" ]] || fail "digest differs"
}

@test "https: a 404 is refused at once, naming the URL" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "$SRC_URL/notfound/model.bin" --ca-file "$SRC_CA"
	assert_status 1
	assert_one_error "$SRC_URL/notfound/model.bin" "404"
	[[ "$(grep -c '^GET ' "$SRC_LOG")" -eq 1 ]] || fail "a 404 was retried"
	assert_nothing_left "$before"
}

@test "https: a redirect to http:// is refused; one to https:// is followed" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "$SRC_URL/redirect-http/model.bin" --ca-file "$SRC_CA"
	assert_status 2
	assert_one_error "redirect" "https:// only" "--plain-http"
	assert_nothing_left "$before"
	run --separate-stderr mreg create -n m -p "$SRC_URL/redirect-https/model.bin" --ca-file "$SRC_CA" --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$output")" == "$WANT" ]] || fail "digest differs"
}

@test "https: http:// needs --plain-http" {
	start_source_server plain
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "$SRC_URL/files/model.bin"
	assert_status 1
	assert_one_error "http:// is clear text" "--plain-http"
	assert_nothing_left "$before"
	run --separate-stderr mreg create -n m -p "$SRC_URL/files/model.bin" --plain-http --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$output")" == "$WANT" ]] || fail "digest differs"
}

@test "https: the file name comes from Content-Disposition, else --file-name; the query is not recorded" {
	run --separate-stderr mreg create -n m -p "$SRC_URL/cd?f=model.bin&sig=SECRET-SIG" --ca-file "$SRC_CA" --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["path"]' <<<"$output")" == served-model.bin ]] || fail "name: $output"
	[[ "$(json_get 'd["source"]["path"]' <<<"$output")" == "$SRC_URL/cd" ]] || fail "source path"
	run grep -r SECRET-SIG "$MREG_DIR/models"
	assert_status 1
	# --file-name wins
	run --separate-stderr mreg create -n m -p "$SRC_URL/cd?f=model.bin" --ca-file "$SRC_CA" --file-name w.bin --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["path"]' <<<"$output")" == w.bin ]] || fail "name: $output"
	# No name anywhere: refused, then --file-name.
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "$SRC_URL/?f=model.bin" --ca-file "$SRC_CA"
	assert_status 1
	assert_one_error "names no file" "--file-name"
	assert_nothing_left "$before"
	run --separate-stderr mreg create -n m -p "$SRC_URL/?f=model.bin" --ca-file "$SRC_CA" --file-name ../x
	assert_status 1
	assert_one_error "--file-name" "holds '/'"
	run --separate-stderr mreg create -n m -p "$SRC_URL/?f=model.bin" --ca-file "$SRC_CA" --file-name given.bin --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["path"]' <<<"$output")" == given.bin ]] || fail "name: $output"
}

@test "https: user:password in the URL never reaches the record or a message" {
	run --separate-stderr mreg create -n m -p "https://alice:PASSWORD-X@${SRC_URL#https://}/files/model.bin" --ca-file "$SRC_CA" --json
	assert_status 0
	[[ "$(json_get 'd["source"]["path"]' <<<"$output")" == "$SRC_URL/files/model.bin" ]] || fail "source path"
	run grep -r PASSWORD-X "$MREG_DIR"
	assert_status 1
	run --separate-stderr mreg create -n m2 -p "https://alice:PASSWORD-X@${SRC_URL#https://}/notfound/model.bin" --ca-file "$SRC_CA"
	assert_status 1
	assert_not_contains "$stderr" PASSWORD-X
	# Refused before any request: the message still has no password.
	run --separate-stderr mreg create -n m2 -p "http://alice:PASSWORD-X@${SRC_URL#https://}/files/model.bin"
	assert_status 1
	assert_one_error "http:// is clear text"
	assert_not_contains "$stderr" PASSWORD-X
	run --separate-stderr mreg create -n m2 -p "https://alice:PASSWORD-X@${SRC_URL#https://}/files/%zz.bin" --ca-file "$SRC_CA"
	assert_status 1
	assert_one_error "percent-encoded"
	assert_not_contains "$stderr" PASSWORD-X
}

@test "https: a query (a token) in the URL is in no message, even of an invalid model" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -t mlflow_model -p "$SRC_URL/files/model.bin?token=SECRET-TOKEN" --ca-file "$SRC_CA"
	assert_status 1
	assert_contains "$stderr" "$SRC_URL/files/model.bin is not a valid mlflow_model"
	assert_not_contains "$stderr" SECRET-TOKEN
	assert_nothing_left "$before"
	run --separate-stderr mreg validate -t mlflow_model "$SRC_URL/files/model.bin?token=SECRET-TOKEN" --ca-file "$SRC_CA"
	assert_status 1
	assert_contains "$output" "$SRC_URL/files/model.bin: invalid mlflow_model"
	assert_not_contains "$output$stderr" SECRET-TOKEN
}

@test "https: Content-MD5 is checked when the server sends one" {
	run --separate-stderr mreg create -n m -p "$SRC_URL/md5/model.bin" --ca-file "$SRC_CA"
	assert_status 0
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "$SRC_URL/md5bad/model.bin" --ca-file "$SRC_CA"
	assert_status 1
	assert_one_error "Content-MD5"
	assert_nothing_left "$before"
}

@test "https: model.yml path: a URL is kept as it is (not made a local path)" {
	cat >model.yml <<EOF2
name: fromyml
path: $SRC_URL/files/model.bin
EOF2
	run --separate-stderr mreg create -f model.yml --ca-file "$SRC_CA" --json
	assert_status 0
	[[ "$(json_get 'd["source"]["path"]' <<<"$output")" == "$SRC_URL/files/model.bin" ]] || fail "source path"
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$output")" == "$WANT" ]] || fail "digest differs"
}

@test "https: an existing version is refused, nothing left" {
	run --separate-stderr mreg create -n m -v 1 -p "$SRC_URL/files/model.bin" --ca-file "$SRC_CA"
	assert_status 0
	before="$(store_snapshot)"
	gets="$(grep -c '^GET ' "$SRC_LOG")"
	run --separate-stderr mreg create -n m -v 1 -p "$SRC_URL/files/model.bin" --ca-file "$SRC_CA"
	assert_status 1
	assert_one_error "already exists" "nothing fetched"
	assert_nothing_left "$before"
	# refused before the download, not after it
	[[ "$(grep -c '^GET ' "$SRC_LOG")" -eq "$gets" ]] || fail "fetched anyway: $(cat "$SRC_LOG")"
}

@test "azureml: URIs that need a workspace are refused, saying so; wasb:// is refused" {
	before="$(store_snapshot)"
	for uri in "azureml://jobs/abc/outputs/artifacts/paths/model/" \
		"azureml://registries/reg/models/m/versions/1" "azureml:mymodel:3"; do
		run --separate-stderr mreg create -n m -p "$uri"
		assert_status 1
		assert_one_error "$uri" "workspace"
	done
	run --separate-stderr mreg create -n m -p "wasb://c@acct.blob.core.windows.net/x"
	assert_status 1
	assert_one_error "wasbs://"
	assert_nothing_left "$before"
}

@test "azureml: an unknown datastore is refused naming it and the config key" {
	before="$(store_snapshot)"
	run --separate-stderr mreg create -n m -p "azureml://datastores/nosuch/paths/model.bin"
	assert_status 1
	assert_one_error "nosuch" "datastores.nosuch" "config.yaml"
	assert_nothing_left "$before"
}

@test "azureml: a datastore mapped to an https:// base fetches PATH under it" {
	printf 'datastores:\n  web: %s/files/\n' "$SRC_URL" >>"$MREG_DIR/config.yaml"
	run --separate-stderr mreg create -n m -p "azureml://datastores/web/paths/model.bin" --ca-file "$SRC_CA" --json
	assert_status 0
	[[ "$(json_get 'd["files"][0]["digest"]' <<<"$output")" == "$WANT" ]] || fail "digest differs"
	[[ "$(json_get 'd["source"]["path"]' <<<"$output")" == "$SRC_URL/files/model.bin" ]] || fail "source path"
}
