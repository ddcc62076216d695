# A real OCI registry for the push/pull tests: Debian's docker-registry (the
# CNCF distribution server), started on 127.0.0.1 on a free port with a
# configuration written here, and stopped in teardown. Optionally behind
# registry_proxy.py, which injects faults, or with token_server.py as its
# token service (the Docker registry token flow).

REGISTRY_BIN="${REGISTRY_BIN:-$(command -v docker-registry || command -v registry || true)}"
PROXY_PY="${BATS_TEST_DIRNAME}/registry_proxy.py"
TOKEN_PY="${BATS_TEST_DIRNAME}/token_server.py"

require_registry() {
	[[ -n "$REGISTRY_BIN" ]] || skip "docker-registry is not installed (apt install docker-registry)"
}

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait until URL answers (any HTTP status); $2 extra curl options.
wait_http() {
	local url="$1" i
	shift
	for ((i = 0; i < 100; i++)); do
		if curl -s -o /dev/null "$@" "$url"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# start_token_server: token_server.py with a fresh P-256 key and self-signed
# certificate ($REG_DIR/token-key.pem, token-cert.pem); user "alice",
# password $REG_PASSWORD. Sets TOKEN_REALM (its URL), TOKEN_SERVICE,
# TOKEN_ISSUER, TOKEN_LOG (one JSON line per request) and TOKEN_PID.
start_token_server() {
	local portfile="${REG_DIR}/token.port" i
	TOKEN_LOG="${BATS_TEST_TMPDIR}/token.log"
	TOKEN_SERVICE="mreg-test-registry"
	TOKEN_ISSUER="mreg-test-token-issuer"
	REG_PASSWORD="s3cret-$RANDOM-pw"
	: >"$TOKEN_LOG"
	rm -f "$portfile"
	(umask 077 && printf '%s\n' "$REG_PASSWORD" >"$REG_DIR/token-password")
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=$TOKEN_ISSUER" \
		-keyout "$REG_DIR/token-key.pem" -out "$REG_DIR/token-cert.pem" 2>/dev/null ||
		fail "openssl req failed"
	"$PYTHON" "$TOKEN_PY" "$portfile" "$TOKEN_LOG" "$REG_DIR/token-key.pem" \
		"$REG_DIR/token-cert.pem" "$TOKEN_ISSUER" "$TOKEN_SERVICE" "$REG_DIR/token-password" \
		>"${BATS_TEST_TMPDIR}/token.err" 2>&1 3>&- &
	TOKEN_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s "$portfile" ]] && break
		sleep 0.05
	done
	[[ -s "$portfile" ]] ||
		fail "the token server did not start: $(cat "${BATS_TEST_TMPDIR}/token.err")"
	# $TOKEN_HOST: the host the realm names (default the registry's, 127.0.0.1).
	TOKEN_REALM="http://${TOKEN_HOST:-127.0.0.1}:$(cat "$portfile")/token"
}

# start_registry [plain|htpasswd|tls|token]: sets REG (127.0.0.1:PORT) and REG_DIR.
# htpasswd: user "alice", password $REG_PASSWORD. tls: a self-signed
# certificate for 127.0.0.1 in $REG_DIR/ca.pem. token: Bearer tokens from
# token_server.py (see start_token_server), user "alice", password $REG_PASSWORD.
start_registry() {
	local mode="${1:-plain}" port scheme=http curl_opts=()
	require_registry
	REG_DIR="${BATS_TEST_TMPDIR}/registry"
	mkdir -p "$REG_DIR/data"
	port="$(free_port)"
	REG="127.0.0.1:${port}"
	if [[ "$mode" == token ]]; then
		start_token_server || return 1
	fi
	{
		echo "version: 0.1"
		echo "log: {level: error, accesslog: {disabled: true}}"
		echo "storage: {filesystem: {rootdirectory: ${REG_DIR}/data}, delete: {enabled: true}}"
		echo "http:"
		echo "  addr: ${REG}"
		if [[ "$mode" == tls ]]; then
			echo "  tls: {certificate: ${REG_DIR}/ca.pem, key: ${REG_DIR}/key.pem}"
		fi
		if [[ "$mode" == htpasswd ]]; then
			echo "auth: {htpasswd: {realm: mreg-test, path: ${REG_DIR}/htpasswd}}"
		fi
		if [[ "$mode" == token ]]; then
			echo "auth:"
			echo "  token:"
			echo "    realm: ${TOKEN_REALM}"
			echo "    service: ${TOKEN_SERVICE}"
			echo "    issuer: ${TOKEN_ISSUER}"
			echo "    rootcertbundle: ${REG_DIR}/token-cert.pem"
		fi
	} >"$REG_DIR/config.yml"
	if [[ "$mode" == htpasswd ]]; then
		REG_PASSWORD="s3cret-$RANDOM-pw"
		htpasswd -Bbn alice "$REG_PASSWORD" >"$REG_DIR/htpasswd" 2>/dev/null ||
			fail "htpasswd failed (apt install apache2-utils)"
	fi
	if [[ "$mode" == tls ]]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
			-keyout "$REG_DIR/key.pem" -out "$REG_DIR/ca.pem" 2>/dev/null ||
			fail "openssl req failed"
		scheme=https
		curl_opts=(--cacert "$REG_DIR/ca.pem")
	fi
	"$REGISTRY_BIN" serve "$REG_DIR/config.yml" >"$REG_DIR/log" 2>&1 3>&- &
	REG_PID=$!
	wait_http "${scheme}://${REG}/v2/" "${curl_opts[@]}" ||
		fail "the registry did not start: $(cat "$REG_DIR/log")"
}

# start_proxy: a fault-injecting proxy in front of $REG; sets PROXY, PROXY_LOG, FAULT.
start_proxy() {
	local upstream="${REG##*:}"
	PROXY_LOG="${BATS_TEST_TMPDIR}/proxy.log"
	FAULT="${BATS_TEST_TMPDIR}/fault.json"
	: >"$PROXY_LOG"
	rm -f "$FAULT" "${BATS_TEST_TMPDIR}/proxy.port"
	"$PYTHON" "$PROXY_PY" "$upstream" "${BATS_TEST_TMPDIR}/proxy.port" "$PROXY_LOG" "$FAULT" \
		>"${BATS_TEST_TMPDIR}/proxy.err" 2>&1 3>&- &
	PROXY_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s "${BATS_TEST_TMPDIR}/proxy.port" ]] && break
		sleep 0.05
	done
	PROXY="127.0.0.1:$(cat "${BATS_TEST_TMPDIR}/proxy.port")" || fail "the proxy did not start"
}

# set_fault JSON (or "" for none)
set_fault() {
	printf '%s' "$1" >"$FAULT"
}

stop_registry() {
	[[ -z "${PROXY_PID:-}" ]] || kill "$PROXY_PID" 2>/dev/null || true
	[[ -z "${REG_PID:-}" ]] || kill "$REG_PID" 2>/dev/null || true
	[[ -z "${TOKEN_PID:-}" ]] || kill "$TOKEN_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	PROXY_PID=
	REG_PID=
	TOKEN_PID=
}
