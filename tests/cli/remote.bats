#!/usr/bin/env bats
# Push and pull against a real registry (Debian's docker-registry, the CNCF
# distribution server) on 127.0.0.1: round trips, dedup, resume, auth, TLS,
# OCI tools (skopeo) on both sides, and faults injected by a proxy in front of
# the registry (500s, connections cut mid-transfer, damaged blobs, a manifest
# that is not JSON), each leaving the local store as it was.

load helpers
load registry

setup() {
	setup_store
	make_model model
	"$PYTHON" "${BATS_TEST_DIRNAME}/weightgen.py" safetensors random:3000000 model/weights.safetensors
	run --separate-stderr mreg create -n demo -p model --tag team=vision
	assert_status 0
}

teardown() {
	stop_registry
}

# A second, empty store: echo its MREG_DIR.
fresh_store() {
	local dir="${TEST_DIR}/$1/.mreg"
	MREG_DIR="$dir" "${MREG}" init >/dev/null || return 1
	echo "$dir"
}

# A registry holding demo:1 in team/demo, and a fault proxy in front of it
# ($PROXY); BIG is the digest of the 3 MB weights file, the one to hurt.
pushed_behind_proxy() {
	start_registry
	start_proxy
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 0
	BIG="$(version_file_digest demo:1 weights.safetensors)"
}

# Requests in the proxy log: count those whose JSON line contains every argument.
proxy_count() {
	local n=0 line p ok
	while IFS= read -r line; do
		ok=1
		for p in "$@"; do [[ "$line" == *"$p"* ]] || ok=0; done
		((ok)) && n=$((n + 1))
	done <"$PROXY_LOG"
	echo "$n"
}

@test "push, pull into a fresh store, download: identical files; the manifest is package's" {
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 0
	assert_contains "$output" "pushed demo:1 to $REG/team/demo:1 (5 blobs sent, 2.9 MiB)"
	pushed="$(sed -n 's/^manifest //p' <<<"$output")"
	run --separate-stderr mreg package demo:1 -o demo.tar
	assert_status 0
	assert_contains "$output" "manifest $pushed"

	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http
	assert_status 0
	assert_contains "$output" "pulled demo:1 from $REG/team/demo:1 (4 files; 4 blobs fetched"
	MREG_DIR="$other" run --separate-stderr "$MREG" download demo:1 -o out
	assert_status 0
	assert_same_tree model out/
	MREG_DIR="$other" run --separate-stderr "$MREG" show demo:1 --json
	[[ "$(json_get 'd["tags"]["team"]' <<<"$output")" == vision ]] || fail "tags lost: $output"
	MREG_DIR="$other" run --separate-stderr "$MREG" fsck
	assert_status 0
}

@test "pull of a many-file model: every staged blob fsynced before any lands, none one by one" {
	command -v strace >/dev/null || skip "strace is not installed"
	start_registry
	mkdir many
	for ((i = 0; i < 60; i++)); do head -c $((1 + i * 97)) /dev/urandom >"many/f$i"; done
	mreg create -n many -p many >/dev/null
	run --separate-stderr mreg push many:1 "$REG/team/many" --plain-http
	assert_status 0
	other="$(fresh_store b)"
	MREG_DIR="$other" ASAN_OPTIONS="${ASAN_OPTIONS:+${ASAN_OPTIONS}:}detect_leaks=0" \
		strace -f -qq -y -e trace=fsync,fdatasync,rename,renameat2 -o "${TEST_DIR}/order.out" \
		"${MREG}" pull "$REG/team/many:1" --plain-http >/dev/null
	# 60 files of other sizes: 60 blobs, each fsynced in the stage, then landed;
	# none fsynced as it arrived (the partial file in tmp/partial/)
	"${PYTHON}" "${BATS_TEST_DIRNAME}/stage_order.py" "${TEST_DIR}/order.out" "$other" pull 60 \
		--unsynced partial
	MREG_DIR="$other" run --separate-stderr "$MREG" fsck
	assert_status 0
	MREG_DIR="$other" run --separate-stderr "$MREG" download many:1 -o out
	assert_status 0
	assert_same_tree many out
}

@test "skopeo reads what push wrote; a bundle skopeo copies to the registry pulls" {
	command -v skopeo >/dev/null || skip "skopeo is not installed"
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/team/demo:v1" --plain-http --json
	assert_status 0
	digest="$(json_get 'd["manifest_digest"]' <<<"$output")"
	run skopeo inspect --tls-verify=false --raw "docker://$REG/team/demo:v1"
	assert_status 0
	[[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" == "$digest" ]] ||
		fail "skopeo's manifest is not the pushed one"
	[[ "$(json_get 'd["artifactType"]' <<<"$output")" == application/vnd.cncf.model.manifest.v1+json ]]

	run --separate-stderr mreg package demo:1 -o demo.tar
	assert_status 0
	run skopeo copy --dest-tls-verify=false oci-archive:demo.tar "docker://$REG/copied/demo:1"
	assert_status 0
	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/copied/demo:1" --plain-http -n fromskopeo
	assert_status 0
	MREG_DIR="$other" run --separate-stderr "$MREG" download fromskopeo:1 -o out
	assert_status 0
	assert_same_tree model out/
}

@test "dedup: a second push sends nothing; a new version sends only its new blobs" {
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http --json
	assert_status 0
	[[ "$(json_get 'd["blobs_moved"]' <<<"$output")" == 5 ]] || fail "$output"
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http --json
	assert_status 0
	[[ "$(json_get 'd["blobs_moved"]' <<<"$output")" == 0 ]] || fail "second push sent: $output"

	printf 'weights v2\n' >model/a.txt
	run --separate-stderr mreg create -n demo -p model
	assert_status 0
	run --separate-stderr mreg push demo:2 "$REG/team/demo" --plain-http --json
	assert_status 0
	# a.txt's new content and the new config: the other three blobs are there
	[[ "$(json_get 'd["blobs_moved"]' <<<"$output")" == 2 ]] || fail "$output"
	[[ "$(json_get 'd["tag"]' <<<"$output")" == 2 ]]

	# a store that has version 1 fetches only the changed file for version 2
	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http
	assert_status 0
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:2" --plain-http --json
	assert_status 0
	[[ "$(json_get 'd["blobs_moved"]' <<<"$output")" == 1 ]] || fail "$output"
}

@test "pull by digest of a version the store holds transfers nothing" {
	start_registry
	start_proxy
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http --json
	assert_status 0
	digest="$(json_get 'd["manifest_digest"]' <<<"$output")"
	before="$(store_snapshot)"
	run --separate-stderr mreg pull "$PROXY/team/demo@$digest" --plain-http
	assert_status 0
	assert_contains "$output" "demo:1 is already in the store with the same content"
	[[ "$(wc -l <"$PROXY_LOG")" -eq 0 ]] || fail "requests were made: $(cat "$PROXY_LOG")"
	assert_store_unchanged "$before"
	# by tag: only the manifest moves
	run --separate-stderr mreg pull "$PROXY/team/demo:1" --plain-http
	assert_status 0
	[[ "$(proxy_count '"/v2/team/demo/blobs/')" -eq 0 ]] || fail "blobs fetched: $(cat "$PROXY_LOG")"
}

@test "a pulled digest that does not exist, a missing tag: exit 1, nothing written" {
	start_registry
	before="$(store_snapshot)"
	run --separate-stderr mreg pull "$REG/team/none:1" --plain-http
	assert_status 1
	assert_one_error "$REG" "/v2/team/none/manifests/1" "no such tag" "MANIFEST_UNKNOWN"
	run --separate-stderr mreg pull "$REG/team/none@sha256:$(printf x | sha256sum | cut -d' ' -f1)" --plain-http
	assert_status 1
	assert_one_error "no such digest"
	assert_store_unchanged "$before"
}

@test "pull onto an existing NAME:VERSION with other content is refused; -v lands it" {
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 0
	other="$(fresh_store b)"
	mkdir other-model && printf 'other\n' >other-model/x.txt
	MREG_DIR="$other" run --separate-stderr "$MREG" create -n demo -p other-model
	assert_status 0
	before="$(MREG_DIR="$other" store_snapshot)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http
	assert_status 1
	assert_one_error "demo version 1 already exists with other content" "pull it under another version with -v"
	[[ "$before" == "$(MREG_DIR="$other" store_snapshot)" ]] || fail "the store changed"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http -v 7
	assert_status 0
	assert_contains "$output" "pulled demo:7"
}

@test "references the registry would refuse are refused with the reason" {
	run --separate-stderr mreg push demo:1 127.0.0.1:1/Team/Demo --plain-http
	assert_status 1
	assert_one_error "repository 'Team/Demo'" "capital letters"
	run --separate-stderr mreg push demo:1 127.0.0.1:1/team//demo --plain-http
	assert_status 1
	assert_one_error "empty path component"
	run --separate-stderr mreg push demo:1 127.0.0.1:1/team/demo_-x --plain-http
	assert_status 1
	assert_one_error "separator"
	run --separate-stderr mreg push demo:1 "127.0.0.1:1/team/demo:.bad" --plain-http
	assert_status 1
	assert_one_error "tag '.bad' is not valid"
	run --separate-stderr mreg push demo:1 "127.0.0.1:1/team/demo@sha256:$(printf x | sha256sum | cut -d' ' -f1)"
	assert_status 1
	assert_one_error "push takes a tag, not a digest"
	run --separate-stderr mreg pull team/demo:1
	assert_status 1
	assert_one_error "'team' is not a registry host"
	run --separate-stderr mreg pull 127.0.0.1:1/team/demo
	assert_status 1
	assert_one_error "name a tag"
	run --separate-stderr mreg pull "127.0.0.1:1/team/demo@sha1:abc"
	assert_status 1
	assert_one_error "sha256"
	run --separate-stderr mreg push demo:1 127.0.0.1:99999/demo
	assert_status 1
	assert_one_error "not a registry host[:port]"
}

@test "without a repository the model name maps to one: lowercased, refused when it cannot" {
	start_registry
	run --separate-stderr mreg create -n Churn_Model-V2 -p model
	assert_status 0
	run --separate-stderr mreg push Churn_Model-V2:1 "$REG" --plain-http
	assert_status 0
	assert_contains "$output" "to $REG/churn_model-v2:1 ("
	run --separate-stderr mreg push Churn_Model-V2:1 "$REG/team/" --plain-http
	assert_status 0
	assert_contains "$output" "to $REG/team/churn_model-v2:1 ("
	run --separate-stderr mreg create -n bad_-name -p model
	assert_status 0
	run --separate-stderr mreg push bad_-name:1 "$REG" --plain-http
	assert_status 1
	assert_one_error "model name 'bad_-name' maps to repository 'bad_-name'" "name the repository yourself"
}

@test "auth: htpasswd registry; no, wrong and right credentials; never written anywhere" {
	start_registry htpasswd
	unset MREG_REGISTRY_USERNAME MREG_REGISTRY_PASSWORD REGISTRY_AUTH_FILE
	export HOME="$TEST_DIR/home" DOCKER_CONFIG="$TEST_DIR/docker"
	mkdir -p "$HOME" "$DOCKER_CONFIG"
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 1
	assert_one_error "$REG: the registry asks for credentials and none were found" "MREG_REGISTRY_USERNAME"

	MREG_REGISTRY_USERNAME=alice MREG_REGISTRY_PASSWORD=wrong run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 1
	assert_one_error "refused the credentials from \$MREG_REGISTRY_USERNAME"
	assert_not_contains "$stderr" wrong

	MREG_REGISTRY_USERNAME=alice MREG_REGISTRY_PASSWORD="$REG_PASSWORD" run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 0

	# docker's config.json, as `docker login` writes it
	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$(printf 'alice:%s' "$REG_PASSWORD" | base64 -w0)" >"$DOCKER_CONFIG/config.json"
	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http
	assert_status 0
	MREG_DIR="$other" run --separate-stderr "$MREG" download demo:1 -o out
	assert_status 0
	assert_same_tree model out/

	# $REGISTRY_AUTH_FILE (podman, skopeo login) comes before docker's file
	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$(printf 'alice:nope' | base64 -w0)" >authfile.json
	REGISTRY_AUTH_FILE="$PWD/authfile.json" run --separate-stderr mreg pull "$REG/team/demo:1" --plain-http
	assert_status 1
	assert_one_error "refused the credentials from $PWD/authfile.json"

	# a malformed config names the file
	echo '{"auths": ' >"$DOCKER_CONFIG/config.json"
	run --separate-stderr mreg pull "$REG/team/demo:1" --plain-http
	assert_status 1
	assert_one_error "$DOCKER_CONFIG/config.json" "not valid JSON"

	! grep -rq "$REG_PASSWORD" "$MREG_DIR" "$other" || fail "the password was written into a store"
}

@test "auth: credentials are not sent where a blob GET is redirected (another origin)" {
	start_registry htpasswd
	unset REGISTRY_AUTH_FILE MREG_REGISTRY_HOST
	export DOCKER_CONFIG="$TEST_DIR/docker"
	export MREG_REGISTRY_USERNAME=alice MREG_REGISTRY_PASSWORD="$REG_PASSWORD"
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 0
	start_proxy
	# "storage": a second proxy on another port that signs requests itself
	storage_log="$BATS_TEST_TMPDIR/storage.log"
	: >"$storage_log"
	PROXY_INJECT_AUTH="Basic $(printf 'alice:%s' "$REG_PASSWORD" | base64 -w0)" \
		"$PYTHON" "$PROXY_PY" "${REG##*:}" "$BATS_TEST_TMPDIR/storage.port" "$storage_log" \
		"$BATS_TEST_TMPDIR/storage.fault" >/dev/null 2>&1 3>&- &
	storage_pid=$!
	for _ in $(seq 100); do [[ -s "$BATS_TEST_TMPDIR/storage.port" ]] && break; sleep 0.05; done
	set_fault "{\"kind\": \"redirect-blob\", \"to\": \"127.0.0.1:$(cat "$BATS_TEST_TMPDIR/storage.port")\"}"
	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http
	kill "$storage_pid" 2>/dev/null || true
	assert_status 0
	[[ "$(proxy_count '"status": 307' '"auth": true')" -ge 5 ]] || fail "no redirects with auth: $(cat "$PROXY_LOG")"
	n="$(grep -c '"method": "GET"' "$storage_log")"
	[[ "$n" -ge 5 ]] || fail "storage saw $n GETs: $(cat "$storage_log")"
	! grep -q '"auth": true' "$storage_log" || fail "credentials reached the storage: $(cat "$storage_log")"
	MREG_DIR="$other" run --separate-stderr "$MREG" download demo:1 -o out
	assert_status 0
	assert_same_tree model out/
}

@test "TLS is verified: a self-signed registry is refused, --ca-file trusts it" {
	start_registry tls
	run --separate-stderr mreg push demo:1 "$REG/team/demo"
	assert_status 2
	assert_one_error "$REG" "certificate"
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --ca-file "$REG_DIR/ca.pem"
	assert_status 0
	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --ca-file "$REG_DIR/ca.pem"
	assert_status 0
}

@test "faults: 500s are retried with backoff; a registry that keeps failing leaves the store as it was" {
	start_registry
	start_proxy
	set_fault '{"kind": "status500", "times": 2}'
	run --separate-stderr mreg push demo:1 "$PROXY/team/demo" --plain-http
	assert_status 0
	[[ "$(proxy_count '"status": 500')" -eq 2 ]] || fail "$(cat "$PROXY_LOG")"

	other="$(fresh_store b)"
	set_fault '{"kind": "status500"}'
	before="$(MREG_DIR="$other" store_snapshot)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http --retries 2
	assert_status 2
	assert_one_error "$PROXY" "500" "injected failure"
	[[ "$(proxy_count '"status": 500')" -eq 5 ]] || fail "expected 3 more attempts: $(cat "$PROXY_LOG")"
	[[ "$before" == "$(MREG_DIR="$other" store_snapshot)" ]] || fail "the store changed"

	# 500s on the large blob only, with no retries: the smaller ones were
	# fetched and verified, yet no version and no blob lands
	big="$(version_file_digest demo:1 weights.safetensors)"
	: >"$PROXY_LOG"
	set_fault "{\"kind\": \"status500\", \"match\": \"$big\"}"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http --retries 0
	assert_status 2
	[[ "$(proxy_count '"method": "GET"' '/blobs/' '"status": 200')" -ge 2 ]] || fail "$(cat "$PROXY_LOG")"
	[[ "$before" == "$(MREG_DIR="$other" store_snapshot)" ]] || fail "the store changed"
}

@test "faults: a download cut halfway is resumed with Range, by the retry or by the next pull" {
	pushed_behind_proxy
	big="$BIG"
	other="$(fresh_store b)"
	before="$(MREG_DIR="$other" store_snapshot)"

	# no retries: the pull fails, the store is as it was, the first half is kept
	set_fault "{\"kind\": \"cut-download\", \"match\": \"$big\", \"after\": 1500000, \"times\": 1}"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http --retries 0
	assert_status 2
	assert_one_error "$PROXY" "1500000 of 3000000 bytes kept"
	[[ "$before" == "$(MREG_DIR="$other" store_snapshot)" ]] || fail "the store changed"
	MREG_DIR="$other" run --separate-stderr "$MREG" list
	assert_not_contains "$output" demo

	# the next pull asks for the rest only, and fetches no blob the first one verified
	: >"$PROXY_LOG"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http --json
	assert_status 0
	[[ "$(json_get 'd["blobs_resumed"]' <<<"$output")" -ge 1 ]] || fail "$output"
	# the config and the rest of the weights: the smaller files came before the cut
	[[ "$(proxy_count '"method": "GET"' '/blobs/')" -eq 2 ]] || fail "blobs fetched again: $(cat "$PROXY_LOG")"
	[[ "$(proxy_count "$big" '"range": "bytes=1500000-"' '"status": 206' '"sent": 1500000')" -eq 1 ]] ||
		fail "no ranged request for the rest: $(cat "$PROXY_LOG")"
	MREG_DIR="$other" run --separate-stderr "$MREG" download demo:1 -o out
	assert_status 0
	assert_same_tree model out/

	# with retries, the same pull goes on from where the cut left it
	third="$(fresh_store c)"
	: >"$PROXY_LOG"
	set_fault "{\"kind\": \"cut-download\", \"match\": \"$big\", \"after\": 1000000, \"times\": 1}"
	MREG_DIR="$third" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http
	assert_status 0
	[[ "$(proxy_count "$big" '"range": "bytes=1000000-"' '"status": 206')" -eq 1 ]] || fail "$(cat "$PROXY_LOG")"
	MREG_DIR="$third" run --separate-stderr "$MREG" fsck
	assert_status 0
}

@test "resume: a registry that ignores Range, one that answers 416, a damaged or oversized .part" {
	pushed_behind_proxy
	big="$BIG"
	part() { echo "$1/tmp/partial/${big#sha256:}.part"; }

	# a cut, then a registry that sends the whole blob again (200): it starts over
	other="$(fresh_store b)"
	set_fault "{\"kind\": \"cut-download\", \"match\": \"$big\", \"after\": 1500000, \"times\": 1}"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http --retries 0
	assert_status 2
	[[ "$(stat -c %s "$(part "$other")")" -eq 1500000 ]] || fail "the first half was not kept"
	set_fault "{\"kind\": \"ignore-range\", \"match\": \"$big\"}"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http
	assert_status 0
	[[ "$(proxy_count "$big" '"range": "bytes=1500000-"' '"status": 200' '"sent": 3000000')" -eq 1 ]] ||
		fail "$(cat "$PROXY_LOG")"
	MREG_DIR="$other" run --separate-stderr "$MREG" download demo:1 -o out-b
	assert_status 0
	assert_same_tree model out-b/

	# a cut, then 416 to the ranged request: it starts over without Range
	third="$(fresh_store c)"
	set_fault "{\"kind\": \"cut-download\", \"match\": \"$big\", \"after\": 1000000, \"times\": 1}"
	MREG_DIR="$third" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http --retries 0
	assert_status 2
	: >"$PROXY_LOG"
	set_fault "{\"kind\": \"status416\", \"match\": \"$big\", \"times\": 1}"
	MREG_DIR="$third" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http
	assert_status 0
	[[ "$(proxy_count "$big" '"status": 416')" -eq 1 && "$(proxy_count "$big" '"range": null' '"status": 200')" -eq 1 ]] ||
		fail "$(cat "$PROXY_LOG")"

	# 416 forever: bounded, an error, the store unchanged
	fourth="$(fresh_store d)"
	before="$(MREG_DIR="$fourth" store_snapshot)"
	set_fault "{\"kind\": \"status416\", \"match\": \"$big\"}"
	MREG_DIR="$fourth" run --separate-stderr timeout 60 "$MREG" pull "$PROXY/team/demo:1" --plain-http --retries 2
	assert_status 2
	assert_one_error "416"
	[[ "$before" == "$(MREG_DIR="$fourth" store_snapshot)" ]] || fail "the store changed"

	# a .part damaged on disk: the digest fails, the blob is fetched whole once more
	set_fault ""
	fifth="$(fresh_store e)"
	mkdir -p "$fifth/tmp/partial"
	head -c 2000000 /dev/urandom >"$(part "$fifth")"
	MREG_DIR="$fifth" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http
	assert_status 0
	MREG_DIR="$fifth" run --separate-stderr "$MREG" fsck
	assert_status 0

	# a .part larger than the blob: dropped, fetched whole
	sixth="$(fresh_store f)"
	mkdir -p "$sixth/tmp/partial"
	head -c 3500000 /dev/urandom >"$(part "$sixth")"
	MREG_DIR="$sixth" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http
	assert_status 0
	MREG_DIR="$sixth" run --separate-stderr "$MREG" download demo:1 -o out-f
	assert_status 0
	assert_same_tree model out-f/
}

@test "two pulls of the same version at once: both succeed, the store is sound" {
	start_registry
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 0
	other="$(fresh_store b)"
	MREG_DIR="$other" "$MREG" pull "$REG/team/demo:1" --plain-http >p1.out 2>p1.err &
	p1=$!
	MREG_DIR="$other" "$MREG" pull "$REG/team/demo:1" --plain-http >p2.out 2>p2.err &
	p2=$!
	wait "$p1" || fail "first pull: $(cat p1.err)"
	wait "$p2" || fail "second pull: $(cat p2.err)"
	MREG_DIR="$other" run --separate-stderr "$MREG" fsck
	assert_status 0
	MREG_DIR="$other" run --separate-stderr "$MREG" download demo:1 -o out
	assert_status 0
	assert_same_tree model out/
}

@test "faults: a blob that does not match its digest, a manifest that is not JSON" {
	pushed_behind_proxy
	big="$BIG"
	other="$(fresh_store b)"
	before="$(MREG_DIR="$other" store_snapshot)"

	set_fault "{\"kind\": \"corrupt-blob\", \"match\": \"$big\"}"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http
	assert_status 1
	assert_one_error "weights.safetensors" "does not match its digest" "$big"
	[[ "$before" == "$(MREG_DIR="$other" store_snapshot)" ]] || fail "the store changed"
	[[ -d "$other/tmp/partial" ]] || fail "no tmp/partial: the test checks nothing"
	[[ -z "$(find "$other/tmp/partial" -name "${big#sha256:}*")" ]] || fail "damaged data kept for resuming"

	set_fault '{"kind": "not-json"}'
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$PROXY/team/demo:1" --plain-http
	assert_status 1
	assert_one_error "$PROXY/team/demo:1: manifest" "JSON"
	[[ "$before" == "$(MREG_DIR="$other" store_snapshot)" ]] || fail "the store changed"
}

@test "faults: an upload cut off fails cleanly (the tag is not written), and is retried" {
	start_registry
	start_proxy
	set_fault '{"kind": "cut-upload", "after": 1000000}'
	run --separate-stderr mreg push demo:1 "$PROXY/team/demo" --plain-http --retries 0
	assert_status 2
	assert_one_error "$PROXY" "PUT /v2/team/demo/blobs/uploads/"
	run curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/team/demo/manifests/1"
	[[ "$output" == 404 ]] || fail "the tag exists after a failed push ($output)"

	set_fault '{"kind": "cut-upload", "after": 1000000, "times": 1}'
	run --separate-stderr mreg push demo:1 "$PROXY/team/demo" --plain-http
	assert_status 0
	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http
	assert_status 0
}

@test "a front end that limits request bodies (413): the blob goes in chunks" {
	start_registry
	start_proxy
	set_fault '{"kind": "limit-body", "after": 1000000}'
	run --separate-stderr mreg push demo:1 "$PROXY/team/demo" --plain-http
	assert_status 0
	[[ "$(proxy_count '"method": "PUT"' '"status": 413')" -eq 1 ]] || fail "$(cat "$PROXY_LOG")"
	# 8, 4, 2 and 1 MiB chunks are refused, then 512 KiB ones pass: 6 for the 3 MB
	# blob; the config, pushed after it, goes in chunks too (one)
	[[ "$(proxy_count '"method": "PATCH"' '"status": 413')" -eq 4 ]] || fail "$(cat "$PROXY_LOG")"
	[[ "$(proxy_count '"method": "PATCH"' '"status": 202')" -eq 7 ]] || fail "$(cat "$PROXY_LOG")"
	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http
	assert_status 0
	MREG_DIR="$other" run --separate-stderr "$MREG" download demo:1 -o out
	assert_status 0
	assert_same_tree model out/
}

@test "push of a version whose blobs are not in the store names the file, sends nothing" {
	start_registry
	rm -f "$MREG_DIR/blobs/sha256/$(file_digest model/a.txt | cut -d: -f2)"
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 1
	assert_one_error "a.txt" "missing"
	run curl -s "http://$REG/v2/_catalog"
	assert_not_contains "$output" team/demo
}
