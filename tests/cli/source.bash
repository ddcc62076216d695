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

stop_source_servers() {
	local pid
	for pid in "${SOURCE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	SOURCE_PIDS=()
}
