# Servers for the remote-source tests (source.bats, azure.bats): started on
# 127.0.0.1 on free ports with their data in the test's temporary folder,
# stopped in teardown (stop_source_servers).

SOURCE_PY="${BATS_TEST_DIRNAME}/source_server.py"
AZURE_PY="${BATS_TEST_DIRNAME}/azure_tool.py"
SOURCE_PIDS=()

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_file FILE ERRFILE WHAT: until FILE is not empty (5 s).
wait_file() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s "$1" ]] && return 0
		sleep 0.05
	done
	fail "$3 did not start: $(cat "$2")"
}

# start_source_server [tls|plain]: source_server.py serving $SRC_FILES (made
# here), with a self-signed certificate for 127.0.0.1 in $SRC_CA (tls). Sets
# SRC_URL (https://127.0.0.1:PORT or http://...) and SRC_LOG.
start_source_server() {
	local mode="${1:-tls}" dir="${BATS_TEST_TMPDIR}/source-${1:-tls}" args=()
	mkdir -p "$dir"
	SRC_FILES="${BATS_TEST_TMPDIR}/served"
	mkdir -p "$SRC_FILES"
	SRC_LOG="$dir/log"
	: >"$SRC_LOG"
	if [[ "$mode" == tls ]]; then
		SRC_CA="$dir/cert.pem"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
			-keyout "$dir/key.pem" -out "$SRC_CA" 2>/dev/null || fail "openssl req failed"
		args=(--cert "$SRC_CA" --key "$dir/key.pem")
	else
		args=(--plain)
	fi
	"$PYTHON" "$SOURCE_PY" --dir "$SRC_FILES" --port-file "$dir/port" --log "$SRC_LOG" \
		"${args[@]}" >"$dir/err" 2>&1 3>&- &
	SOURCE_PIDS+=($!)
	wait_file "$dir/port" "$dir/err" "source_server.py" || return 1
	if [[ "$mode" == tls ]]; then
		SRC_URL="https://127.0.0.1:$(cat "$dir/port")"
	else
		SRC_URL="http://127.0.0.1:$(cat "$dir/port")"
	fi
}

# assert_nothing_left SNAPSHOT: a failed fetch left the store as it was
# (store_snapshot) and nothing in tmp/ but the lock files.
assert_nothing_left() {
	assert_store_unchanged "$1" || return 1
	local left
	left="$(find "$MREG_DIR/tmp" -mindepth 1 ! -name '*.lock' -print)"
	[[ -z "$left" ]] || { echo "$left" >&2; fail "tmp/ holds leftovers"; }
}

stop_source_servers() {
	local pid
	for pid in "${SOURCE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	SOURCE_PIDS=()
}

# Azurite (Azure's Blob Storage emulator, from npm): $AZURITE_BLOB, else the
# copy .ci/install-deps installs (npm install --prefix .cache/node), else one
# on PATH. Tests skip, saying why, only when none is there.
AZURITE_BLOB="${AZURITE_BLOB:-}"
if [[ -z "$AZURITE_BLOB" ]]; then
	for _a in "${BATS_TEST_DIRNAME}/../../.cache/node/node_modules/.bin/azurite-blob" \
		"$(command -v azurite-blob || true)"; do
		if [[ -n "$_a" && -x "$_a" ]]; then
			AZURITE_BLOB="$_a"
			break
		fi
	done
fi
AZ_ACCOUNT=devstoreaccount1
AZ_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

require_azurite() {
	[[ -n "$AZURITE_BLOB" ]] ||
		skip "azurite is not installed (.ci/install-deps installs it with npm into .cache/node)"
}

# start_azurite DIR [tls]: Azurite on a free loopback port, data in DIR. With
# tls, a certificate for 127.0.0.1 and $AZ_ACCOUNT.blob.localhost (curl takes
# *.localhost as loopback) in DIR/ca.pem. Prints "PID PORT".
start_azurite() {
	local dir="$1" mode="${2:-plain}" port i args=()
	mkdir -p "$dir/data"
	port="$(free_port)"
	if [[ "$mode" == tls ]]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=127.0.0.1" \
			-addext "subjectAltName=IP:127.0.0.1,DNS:${AZ_ACCOUNT}.blob.localhost" \
			-keyout "$dir/key.pem" -out "$dir/ca.pem" 2>/dev/null || { echo "openssl failed" >&2; return 1; }
		args=(--cert "$dir/ca.pem" --key "$dir/key.pem")
	fi
	"$AZURITE_BLOB" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/data" --silent \
		--skipApiVersionCheck --disableTelemetry "${args[@]}" >"$dir/log" 2>&1 3>&- &
	local pid=$!
	for ((i = 0; i < 200; i++)); do
		if curl -s -o /dev/null -k "http$([[ "$mode" == tls ]] && echo s)://127.0.0.1:$port/"; then
			echo "$pid $port"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "azurite did not start: $(cat "$dir/log")" >&2
	kill "$pid" 2>/dev/null
	return 1
}

# azure_tool ENDPOINT ARGS...: tests/cli/azure_tool.py (Shared Key REST calls).
azure_tool() {
	"$PYTHON" "$AZURE_PY" "$@"
}
