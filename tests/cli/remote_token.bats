#!/usr/bin/env bats
# Bearer-token authentication (the Docker registry token flow) against a real
# registry: Debian's docker-registry configured with `auth: token:`, its tokens
# issued by token_server.py (ES256 JWTs carrying their certificate in x5c,
# which the registry checks against its rootcertbundle). mreg answers the
# registry's Bearer challenge by asking the token service for
# repository:REPO:pull or pull,push with the user's credentials.

load helpers
load registry

setup() {
	setup_store
	make_model model
	"$PYTHON" "${BATS_TEST_DIRNAME}/weightgen.py" safetensors random:300000 model/weights.safetensors
	run --separate-stderr mreg create -n demo -p model --tag team=vision
	assert_status 0
	# no credentials from the machine running the tests
	unset MREG_REGISTRY_USERNAME MREG_REGISTRY_PASSWORD REGISTRY_AUTH_FILE
	export HOME="$TEST_DIR/home" DOCKER_CONFIG="$TEST_DIR/docker"
	mkdir -p "$HOME" "$DOCKER_CONFIG"
	start_registry token
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

# token_count EXPR: the token log's requests for which the Python expression
# EXPR (on the line's JSON object `e`) is true.
token_count() {
	"$PYTHON" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    n += bool(eval(sys.argv[2]))
print(n)' "$TOKEN_LOG" "$1"
}

# The tokens the token service issued, one a line.
issued_tokens() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)["token"]
    if t:
        print(t)' "$TOKEN_LOG"
}

# assert_no_secret TEXT...: neither the password nor any issued token (nor its
# signature alone) appears in TEXT; every directory named after -- is grepped too.
assert_no_secret() {
	local texts=() dirs=() t
	while (($#)) && [[ "$1" != -- ]]; do texts+=("$1"); shift; done
	(($#)) && shift
	dirs=("$@")
	local secrets=("$REG_PASSWORD")
	while IFS= read -r t; do secrets+=("$t" "${t##*.}"); done < <(issued_tokens)
	[[ ${#secrets[@]} -gt 1 ]] || fail "no token was issued"
	local s x
	for s in "${secrets[@]}"; do
		for x in "${texts[@]}"; do
			[[ "$x" != *"$s"* ]] || fail "a secret was printed: ${s:0:12}..."
		done
		if ((${#dirs[@]})); then
			! grep -rqF -- "$s" "${dirs[@]}" || fail "a secret was written under ${dirs[*]}: ${s:0:12}..."
		fi
	done
}

@test "token auth: the registry turns away requests without a token, and takes the service's" {
	run curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/"
	[[ "$output" == 401 ]] || fail "the registry did not ask for a token ($output)"
	run curl -s -D - -o /dev/null "http://$REG/v2/team/demo/tags/list"
	assert_contains "$output" "Bearer realm=\"$TOKEN_REALM\",service=\"$TOKEN_SERVICE\",scope=\"repository:team/demo:pull\""
	# the token service itself: 401 without or with wrong credentials, a token with right ones
	run curl -s -o /dev/null -w '%{http_code}' "$TOKEN_REALM?service=$TOKEN_SERVICE&scope=repository:team/demo:pull"
	[[ "$output" == 401 ]] || fail "anonymous: $output"
	run curl -s -o /dev/null -w '%{http_code}' -u alice:wrong "$TOKEN_REALM?service=$TOKEN_SERVICE&scope=repository:team/demo:pull"
	[[ "$output" == 401 ]] || fail "wrong password: $output"
	run curl -s -u "alice:$REG_PASSWORD" "$TOKEN_REALM?service=$TOKEN_SERVICE&scope=repository:team/demo:pull"
	assert_status 0
	token="$(json_get 'd["token"]' <<<"$output")"
	[[ "$(json_get 'd["access_token"] == d["token"] and d["expires_in"]' <<<"$output")" == 300 ]] || fail "$output"
	# which the registry accepts (an empty repository: NAME_UNKNOWN, not 401)
	run curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://$REG/v2/team/demo/tags/list"
	[[ "$output" == 404 ]] || fail "the registry refused the token ($output): $(cat "$REG_DIR/log")"
	# and only for what it grants: the push scope is not in it
	run curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" "http://$REG/v2/team/demo/blobs/uploads/"
	[[ "$output" == 401 ]] || fail "a pull token could push ($output)"
	# a token signed by another key is refused
	run curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${token%.*}.$(printf 'x%.0s' {1..86})" "http://$REG/v2/team/demo/tags/list"
	[[ "$output" == 401 ]] || fail "a forged signature was accepted ($output)"
}

@test "token auth: push with \$MREG_REGISTRY_USERNAME asks for pull,push; pull asks for pull; identical files" {
	export MREG_REGISTRY_USERNAME=alice MREG_REGISTRY_PASSWORD="$REG_PASSWORD"
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 0
	assert_contains "$output" "pushed demo:1 to $REG/team/demo:1 (5 blobs sent"
	[[ "$(token_count 'e["status"] == 200 and e["user"] == "alice" and e["service"] == "'"$TOKEN_SERVICE"'" and e["scope"] == ["repository:team/demo:pull,push"]')" -ge 1 ]] ||
		fail "no pull,push token was issued: $(cat "$TOKEN_LOG")"
	[[ "$(token_count 'e["status"] != 200')" -eq 0 ]] || fail "$(cat "$TOKEN_LOG")"
	push_out="$output" push_err="$stderr"

	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http
	assert_status 0
	assert_contains "$output" "pulled demo:1 from $REG/team/demo:1 (4 files; 4 blobs fetched"
	pulls="$(token_count 'e["status"] == 200 and e["scope"] == ["repository:team/demo:pull"]')"
	[[ "$pulls" -ge 1 ]] || fail "no pull token was issued: $(cat "$TOKEN_LOG")"
	MREG_DIR="$other" run --separate-stderr "$MREG" download demo:1 -o out
	assert_status 0
	assert_same_tree model out/
	MREG_DIR="$other" run --separate-stderr "$MREG" show demo:1 --json
	[[ "$(json_get 'd["tags"]["team"]' <<<"$output")" == vision ]] || fail "tags lost: $output"
	MREG_DIR="$other" run --separate-stderr "$MREG" fsck
	assert_status 0

	# one token serves a whole push or pull: no token per request
	[[ "$(token_count 'True')" -le 2 ]] || fail "a token was fetched more than once per command: $(cat "$TOKEN_LOG")"
	assert_no_secret "$push_out" "$push_err" "$output" "$stderr" -- "$MREG_DIR" "$other"
}

@test "token auth: no credentials: exit 1, one error naming where credentials are looked for" {
	before="$(store_snapshot)"
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 1
	assert_one_error "$REG: the registry asks for credentials and none were found" \
		"MREG_REGISTRY_USERNAME and MREG_REGISTRY_PASSWORD"
	# mreg did ask the token service, anonymously, for the push scope
	[[ "$(token_count 'e["user"] is None and e["status"] == 401 and e["scope"] == ["repository:team/demo:pull,push"]')" -eq 1 ]] ||
		fail "$(cat "$TOKEN_LOG")"
	assert_store_unchanged "$before"

	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http
	assert_status 1
	assert_one_error "$REG: the registry asks for credentials and none were found"
	[[ "$(token_count 'e["user"] is None and e["scope"] == ["repository:team/demo:pull"]')" -eq 1 ]] ||
		fail "$(cat "$TOKEN_LOG")"
	MREG_DIR="$other" run --separate-stderr "$MREG" list
	assert_not_contains "$output" demo
}

@test "token auth: a wrong password: exit 1, the message names \$MREG_REGISTRY_USERNAME, never the password" {
	before="$(store_snapshot)"
	MREG_REGISTRY_USERNAME=alice MREG_REGISTRY_PASSWORD=wr0ng-pa55word run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 1
	assert_one_error "$REG: the token service refused the credentials from \$MREG_REGISTRY_USERNAME (401)"
	assert_not_contains "$output$stderr" wr0ng-pa55word
	assert_not_contains "$output$stderr" "$REG_PASSWORD"
	[[ "$(token_count 'e["user"] == "alice" and e["status"] == 401')" -eq 1 ]] || fail "$(cat "$TOKEN_LOG")"
	[[ "$(token_count 'e["token"] is not None')" -eq 0 ]] || fail "a token was issued: $(cat "$TOKEN_LOG")"
	assert_store_unchanged "$before"
	! grep -rqF wr0ng-pa55word "$MREG_DIR" || fail "the password was written into the store"

	# a wrong user with the right password is refused the same way
	MREG_REGISTRY_USERNAME=bob MREG_REGISTRY_PASSWORD="$REG_PASSWORD" run --separate-stderr mreg pull "$REG/team/demo:1" --plain-http
	assert_status 1
	assert_one_error "refused the credentials from \$MREG_REGISTRY_USERNAME"
	assert_not_contains "$output$stderr" "$REG_PASSWORD"
}

@test "token auth: credentials from docker's config.json; \$REGISTRY_AUTH_FILE is named when it is wrong" {
	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$(printf 'alice:%s' "$REG_PASSWORD" | base64 -w0)" \
		>"$DOCKER_CONFIG/config.json"
	run --separate-stderr mreg push demo:1 "$REG/team/demo:v1" --plain-http
	assert_status 0
	push_out="$output" push_err="$stderr"
	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:v1" --plain-http -v 1
	assert_status 0
	pull_out="$output" pull_err="$stderr"
	[[ "$(token_count 'e["status"] == 200 and e["user"] == "alice" and e["scope"] == ["repository:team/demo:pull,push"]')" -ge 1 ]] ||
		fail "$(cat "$TOKEN_LOG")"
	[[ "$(token_count 'e["status"] == 200 and e["user"] == "alice" and e["scope"] == ["repository:team/demo:pull"]')" -ge 1 ]] ||
		fail "$(cat "$TOKEN_LOG")"
	MREG_DIR="$other" run --separate-stderr "$MREG" download demo:1 -o out
	assert_status 0
	assert_same_tree model out/
	assert_no_secret "$push_out" "$push_err" "$pull_out" "$pull_err" -- "$MREG_DIR" "$other"

	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$(printf 'alice:nope' | base64 -w0)" >authfile.json
	REGISTRY_AUTH_FILE="$PWD/authfile.json" run --separate-stderr mreg pull "$REG/team/demo:v1" --plain-http
	assert_status 1
	assert_one_error "$REG: the token service refused the credentials from $PWD/authfile.json (401)"
}

@test "token auth: neither the password nor a token lands in the store or on stdout/stderr" {
	export MREG_REGISTRY_USERNAME=alice MREG_REGISTRY_PASSWORD="$REG_PASSWORD"
	all=""
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http --json
	assert_status 0
	all+="$output$stderr"
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 0
	all+="$output$stderr"
	other="$(fresh_store b)"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http --json
	assert_status 0
	all+="$output$stderr"
	MREG_DIR="$other" run --separate-stderr "$MREG" pull "$REG/team/demo:1" --plain-http -v 2
	assert_status 0
	all+="$output$stderr"
	# a failing command prints its error: still no secret in it
	run --separate-stderr mreg pull "$REG/team/none:1" --plain-http
	assert_status 1
	assert_one_error "$REG" "no such tag"
	all+="$output$stderr"
	[[ "$(token_count 'e["token"] is not None')" -ge 4 ]] || fail "$(cat "$TOKEN_LOG")"
	assert_no_secret "$all" -- "$MREG_DIR" "$other"
}

@test "token auth: a token service in clear text on another host is refused before credentials are sent" {
	stop_registry
	# The realm names localhost, the registry is 127.0.0.1: another host, http.
	TOKEN_HOST=localhost start_registry token
	export MREG_REGISTRY_USERNAME=alice MREG_REGISTRY_PASSWORD="$REG_PASSWORD"
	run --separate-stderr mreg push demo:1 "$REG/team/demo" --plain-http
	assert_status 1
	assert_one_error "$REG: the registry names a token service that is not https (http://localhost:" \
		"refused, credentials would travel in clear text"
	[[ ! -s "$TOKEN_LOG" ]] || fail "the token service was asked: $(cat "$TOKEN_LOG")"
	assert_not_contains "$output$stderr" "$REG_PASSWORD"
}
