#!/usr/bin/env bash
# mreg demo: register the example models in a throw-away store, look at them,
# download one again and check that it is byte for byte the original, show what
# validation says about a broken model, and check the store.
#
# Usage: examples/demo.sh            (uses build/mreg)
#        MREG=/path/to/mreg examples/demo.sh
#
# Everything happens in a temporary folder that is removed at the end: the
# demo never touches your files or your own .mreg store.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MREG=${MREG:-$here/../build/mreg}
given=$MREG
case $MREG in # an absolute path, since the demo changes directory
*/*) dir=$(cd "$(dirname "$MREG")" 2>/dev/null && pwd) && MREG=$dir/$(basename "$MREG") ;;
*) MREG=$(command -v "$MREG" || true) ;;
esac
if [ -z "$MREG" ] || [ ! -x "$MREG" ] || [ -d "$MREG" ]; then
	echo "demo: no mreg program at '$given': build it first" \
		"(meson setup build && ninja -C build) or set MREG" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mreg-demo.XXXXXX")
registry_pid=
# On any exit: stop the registry if one runs, remove the work folder, and keep
# the demo's own exit status (a stopped registry's 143 is not the demo's).
cleanup() {
	local status=$?
	set +e
	if [ -n "$registry_pid" ]; then
		kill "$registry_pid" 2>/dev/null
		wait "$registry_pid" 2>/dev/null
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
export MREG_DIR=$work/.mreg # the store; mreg would otherwise look for .mreg/
cd "$here"                   # so that the commands below read naturally

# Print a command the way `set -x` would, then run it.
show() {
	local out="+" arg
	for arg in "$@"; do
		if [[ $arg =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
			out+=" $arg"
		elif [[ $arg != *"'"* ]]; then
			out+=" '$arg'"
		else
			out+=" $(printf '%q' "$arg")"
		fi
	done
	printf '%s\n' "$out"
}
mreg() {
	show mreg "$@"
	"$MREG" "$@"
}
step() {
	printf '\n# %s\n' "$*"
}

step "A new, empty store (MREG_DIR=$MREG_DIR)"
mreg init

step "Register a folder, a single file, and an Azure ML model YAML"
mreg create -n churn -p churn-model --description "Subscriber churn classifier" \
	--tag team=growth --property auc=0.871
mreg create -n churn-onnx -p single-file/model.onnx --stage Development
mreg create -f churn-model.yml

step "Look at them"
mreg list
mreg show churn:1

step "Download version 1 again, and compare it with the original folder"
mreg download churn:1 -o "$work/download"
show diff -r churn-model "$work/download"
diff -r churn-model "$work/download"
echo "identical"

step "A broken copy: a symlink that escapes the folder, one that points nowhere"
show cp -r churn-model "$work/broken"
cp -r churn-model "$work/broken"
show ln -s /etc/passwd "$work/broken/secrets.txt"
ln -s /etc/passwd "$work/broken/secrets.txt"
show ln -s missing.bin "$work/broken/weights.bin"
ln -s missing.bin "$work/broken/weights.bin"
# Both commands must fail with exit status 1 (an invalid model), and the
# store must be left as it was.
for cmd in validate create; do
	status=0
	if [ $cmd = validate ]; then
		mreg validate "$work/broken" || status=$?
	else
		mreg create -n churn -p "$work/broken" || status=$?
	fi
	if [ $status -ne 1 ]; then
		echo "demo: 'mreg $cmd' of the broken model exited with $status, expected 1" >&2
		exit 1
	fi
	echo "(exit status $status, as expected)"
done

step "Share a version through an OCI registry (a local docker-registry): push, pull elsewhere"
registry=$(command -v docker-registry || true)
if [ -z "$registry" ]; then
	echo "skipped: docker-registry is not installed (apt-get install docker-registry)"
else
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$work/registry"
	cat >"$work/registry/config.yml" <<EOF2
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry/data}}
http: {addr: 127.0.0.1:$port}
EOF2
	"$registry" serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
	registry_pid=$!
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && break
		sleep 0.1
	done
	mreg push churn:1 "127.0.0.1:$port/demo/churn" --plain-http
	show MREG_DIR="$work/elsewhere/.mreg"
	(
		export MREG_DIR=$work/elsewhere/.mreg
		mreg init
		mreg pull "127.0.0.1:$port/demo/churn:1" --plain-http
		mreg download churn:1 -o "$work/pulled"
	)
	show diff -r churn-model "$work/pulled"
	diff -r churn-model "$work/pulled"
	echo "identical"
fi

step "Check every blob and record of the store"
mreg list
mreg fsck

printf '\ndemo: all good\n'
