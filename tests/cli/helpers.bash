# Shared setup for the mreg CLI tests (bats). Each test runs in its own fresh
# folder with its own store: MREG_DIR points there, so no test can touch a real
# store or see another test's.
#
# meson passes the binary under test as $MREG; run by hand with
#   MREG=build/mreg bats tests/cli

bats_require_minimum_version 1.5.0

if [[ -z "${MREG:-}" || ! -x "${MREG}" ]]; then
	echo "MREG must name the mreg binary to test (got '${MREG:-}')" >&2
	exit 1
fi

# Python for the JSON checks: the system one when there is one (a version
# manager's python3 shim costs a noticeable fraction of a second per call).
PYTHON=python3
for _p in /usr/bin/python3 /usr/local/bin/python3; do
	if [[ -x "$_p" ]]; then
		PYTHON="$_p"
		break
	fi
done

# Fresh folder, fresh store, an environment that cannot leak into the test.
common_setup() {
	export LC_ALL=C
	unset NO_COLOR
	TEST_DIR="${BATS_TEST_TMPDIR}/w"
	mkdir -p "${TEST_DIR}"
	cd "${TEST_DIR}" || return 1
	export MREG_DIR="${TEST_DIR}/.mreg"
	umask 022
}

# Run the mreg under test.
mreg() {
	"${MREG}" "$@"
}

# common_setup + `mreg init`, checked.
setup_store() {
	common_setup
	run --separate-stderr mreg init
	[[ "$status" -eq 0 ]] || fail "mreg init failed ($status): $stderr"
	[[ -f "${MREG_DIR}/config.yaml" ]] || fail "mreg init wrote no config.yaml"
}

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# A small model folder: a.txt (0644), sub/b.bin (0755), sub/deeper/c.json (0600).
make_model() {
	local dir="${1:-model}"
	mkdir -p "${dir}/sub/deeper"
	printf 'weights v1\n' >"${dir}/a.txt"
	printf '\x00\x01\x02binary\xff' >"${dir}/sub/b.bin"
	printf '{"k": 1}\n' >"${dir}/sub/deeper/c.json"
	chmod 0644 "${dir}/a.txt"
	chmod 0755 "${dir}/sub/b.bin"
	chmod 0600 "${dir}/sub/deeper/c.json"
}

# Every entry of the store except tmp/ (in-flight writes), the lock files and
# cache/ (the stat cache, which only makes things faster), with type, mode,
# size and content hash: equal snapshots mean an unchanged store.
store_snapshot() {
	local dir="${1:-${MREG_DIR}}"
	(
		cd "${dir}" || exit 1
		find . -path ./tmp -prune -o -path ./lock -prune -o -path ./cache -prune -o \
			-printf '%y %m %s %p\n' | sort
		find . -path ./tmp -prune -o -path ./cache -prune -o -type f ! -name lock -print0 |
			sort -z |
			xargs -0 -r sha256sum
	)
}

# assert_store_unchanged BEFORE: the store equals the snapshot BEFORE.
assert_store_unchanged() {
	local now
	now="$(store_snapshot)"
	if [[ "$now" != "$1" ]]; then
		diff <(echo "$1") <(echo "$now") >&2
		fail "the store changed"
	fi
}

# Number of blobs in the store.
blob_count() {
	find "${MREG_DIR}/blobs/sha256" -type f | wc -l
}

# assert_status N: the last `run` exited with N (prints what it saw otherwise).
assert_status() {
	if [[ "$status" -ne "$1" ]]; then
		echo "stdout: $output" >&2
		echo "stderr: ${stderr:-}" >&2
		fail "exit status $status, expected $1"
	fi
}

# assert_contains HAYSTACK NEEDLE
assert_contains() {
	if [[ "$1" != *"$2"* ]]; then
		echo "got: $1" >&2
		fail "expected it to contain '$2'"
	fi
}

assert_not_contains() {
	if [[ "$1" == *"$2"* ]]; then
		echo "got: $1" >&2
		fail "expected it not to contain '$2'"
	fi
}

# assert_one_error PATTERN...: after `run --separate-stderr`, stderr holds
# exactly one error line starting with "mreg" ("mreg: ..." or "mreg CMD: ..."),
# and it contains every PATTERN. Other lines may only be the usage hint or
# compiler-style diagnostics ("path: error: ... [code]").
assert_one_error() {
	local line n=0 err=""
	for line in "${stderr_lines[@]}"; do
		if [[ "$line" =~ ^mreg(\ [a-z]+)?:\  ]]; then
			n=$((n + 1))
			err="$line"
		elif [[ "$line" =~ ^Usage:\ mreg ]] || [[ "$line" =~ :\ (error|warning|note):\ .*\ \[[a-z0-9-]+\]$ ]]; then
			:
		else
			echo "stderr: $stderr" >&2
			fail "unexpected stderr line: '$line'"
			return 1
		fi
	done
	if [[ "$n" -ne 1 ]]; then
		echo "stderr: $stderr" >&2
		fail "expected exactly one 'mreg: ...' line on stderr, found $n"
		return 1
	fi
	local p
	for p in "$@"; do
		assert_contains "$err" "$p" || return 1
	done
}

# json_get EXPR: evaluate a Python expression on the JSON document on stdin
# (bound to `d`); fails unless stdin is exactly one JSON document.
json_get() {
	"${PYTHON}" -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(json.dumps(v) if not isinstance(v, str) else v)
' "$1"
}

# file_digest FILE: "sha256:<hex>"
file_digest() {
	echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

# assert_same_tree SRC DST: same regular files, same content, same modes.
assert_same_tree() {
	local src="$1" dst="$2"
	local a b
	a="$(cd "$src" && find . -type f | sort)"
	b="$(cd "$dst" && find . -type f | sort)"
	if [[ "$a" != "$b" ]]; then
		diff <(echo "$a") <(echo "$b") >&2
		fail "file lists differ between $src and $dst"
		return 1
	fi
	# content and mode of every file, in a few processes whatever the count
	# (a cmp and two stats a file cost minutes on the many-file crash test)
	a="$(cd "$src" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)"
	b="$(cd "$dst" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)"
	if [[ "$a" != "$b" ]]; then
		diff <(echo "$a") <(echo "$b") >&2
		fail "content differs between $src and $dst"
		return 1
	fi
	a="$(cd "$src" && find . -type f -printf '%m %p\n' | sort)"
	b="$(cd "$dst" && find . -type f -printf '%m %p\n' | sort)"
	if [[ "$a" != "$b" ]]; then
		diff <(echo "$a") <(echo "$b") >&2
		fail "file modes differ between $src and $dst"
		return 1
	fi
}

# No staging folder of a download may be left anywhere under DIR.
assert_no_staging() {
	local left
	left="$(find "${1:-.}" -name '*.mreg-download-*' -print)"
	[[ -z "$left" ]] || { echo "$left" >&2; fail "download staging left behind"; }
}

# Corrupt the blob holding DIGEST ("sha256:<hex>"): flip its first byte.
corrupt_blob() {
	local blob="${MREG_DIR}/blobs/sha256/${1#sha256:}"
	[[ -f "$blob" ]] || { fail "no blob $blob"; return 1; }
	chmod u+w "$blob"
	local first
	first="$(head -c1 "$blob" | od -An -tu1 | tr -d ' ')"
	printf "\\$(printf '%03o' $(((first + 1) % 256)))" |
		dd of="$blob" bs=1 seek=0 count=1 conv=notrunc status=none
	chmod u-w "$blob"
}

# The digest of FILE_PATH inside version REF, from `show --json`.
version_file_digest() {
	mreg show "$1" --json | json_get "[f['digest'] for f in d['files'] if f['path'] == '$2'][0]"
}

# oms_setup: a store with model/ registered as demo:1 and two OMS key pairs
# without passphrase, k.pem/k.pub (the signer) and other.pem/other.pub (a
# key that did not sign).
oms_setup() {
	setup_store
	make_model model
	unset MREG_KEY_PASSWORD
	"${MREG}" keygen --oms -W -s k.pem --pubkey k.pub >/dev/null
	"${MREG}" keygen --oms -W -s other.pem --pubkey other.pub >/dev/null
	run --separate-stderr mreg create -n demo -p model
	assert_status 0
}

# statcache_dump FILE: the entries of a stat cache file (mreg-store(5), "STAT
# CACHE"), one line each: "dev ino size mtime_ns ctime_ns hex"; exit 1 when
# FILE is not a valid cache (name, version, length or checksum wrong).
statcache_dump() {
	"${PYTHON}" - "$1" <<'EOF'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
if len(b) < 64 or b[:8] != b"mreg\0sc\2":
    sys.exit("not a stat cache (version 2)")
count, stamp, zero = struct.unpack_from("<QqQ", b, 8)
if len(b) != 32 + 72 * count + 32 or zero or hashlib.sha256(b[:-32]).digest() != b[-32:]:
    sys.exit("damaged stat cache")
for i in range(count):
    dev, ino, size, mt, ct = struct.unpack_from("<QQQqq", b, 32 + 72 * i)
    print(dev, ino, size, mt, ct, b[32 + 72 * i + 40:32 + 72 * i + 72].hex())
EOF
}
