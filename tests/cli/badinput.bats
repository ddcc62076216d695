#!/usr/bin/env bats
# Bad input: one "mreg: ..." line naming the thing and the reason, exit 1 (a
# negative answer: invalid, not found, exists, corrupt) or 2 (usage, runtime),
# and the store left exactly as it was.

load helpers

setup() {
	setup_store
	make_model model
	mreg create -n churn -p model >/dev/null
	BEFORE="$(store_snapshot)"
}

teardown() {
	if [[ -n "${SHARED_DIR:-}" && -d "${SHARED_DIR}" ]]; then
		chmod -R u+rwX "${SHARED_DIR}" 2>/dev/null || true
		rm -rf "${SHARED_DIR}"
	fi
}

@test "missing path: exit 1, names the path, store unchanged" {
	run --separate-stderr mreg create -n churn -p ./no-such-model
	assert_status 1
	assert_one_error "./no-such-model" "no such file or folder"
	[[ -z "$output" ]]
	assert_store_unchanged "$BEFORE"
}

@test "a name with a space: exit 2, names it and the reason, store unchanged" {
	run --separate-stderr mreg create -n "churn model" -p model
	assert_status 2
	assert_one_error "'churn model'" "' '" "not allowed"
	assert_store_unchanged "$BEFORE"
}

@test "a duplicate version: exit 1, names it, store unchanged (no stray blob)" {
	run --separate-stderr mreg create -n churn -p model -v 1
	assert_status 1
	assert_one_error "churn" "version 1" "already exists"
	assert_store_unchanged "$BEFORE"
	# the same with new content: its blobs must not be stored either
	printf 'other weights\n' >model/a.txt
	run --separate-stderr mreg create -n churn -p model -v 1
	assert_status 1
	assert_one_error "already exists"
	assert_store_unchanged "$BEFORE"
	[[ "$(mreg show churn:1 --json | json_get 'd["files"][0]["digest"]')" != "$(file_digest model/a.txt)" ]]
}

@test "a record edited into invalid YAML: show, list, fsck and gc report it with file:line" {
	rec="${MREG_DIR}/models/churn/1.yaml"
	printf 'weights v2\n' >model/a.txt
	mreg create -n churn -p model >/dev/null
	mreg create -n other -p model >/dev/null
	chmod u+w "$rec"
	printf 'name: churn\nversion: "1"\ntags: {team: [risk\n' >"$rec"
	BEFORE="$(store_snapshot)"

	run --separate-stderr mreg show churn:1
	assert_status 1
	[[ -z "$output" ]]
	[[ "$stderr" =~ ^mreg:\ ${rec}:[0-9]+:[0-9]+:\ .+ ]] || fail "no file:line:col: $stderr"
	assert_one_error "$rec"

	run --separate-stderr mreg show churn:1 --json
	assert_status 1
	[[ -z "$output" ]]

	# list shows what it can read, reports the rest, and says so by its status
	run --separate-stderr mreg list
	assert_status 1
	assert_one_error "${rec}:"
	grep -Eq '^churn +2 ' <<<"$output"
	grep -Eq '^other +1 ' <<<"$output"
	run --separate-stderr mreg list --json
	assert_status 1
	[[ "$(json_get 'len(d)' <<<"$output")" == 2 ]]

	run --separate-stderr mreg fsck
	assert_status 1
	[[ "$output" =~ ${rec}.*:[0-9]+:[0-9]+ ]] || fail "fsck gave no line: $output"

	run --separate-stderr mreg gc
	assert_status 1
	assert_one_error "cannot be read" "nothing removed"

	run --separate-stderr mreg update churn:1 --stage X
	assert_status 1
	assert_one_error "${rec}:"
	run --separate-stderr mreg archive churn
	assert_status 1
	assert_one_error "${rec}:"

	assert_store_unchanged "$BEFORE"
	# the other versions stay usable
	run --separate-stderr mreg download churn:2 -o out
	assert_status 0
}

@test "a record that is valid YAML but not a record: reported, exit 1" {
	rec="${MREG_DIR}/models/churn/1.yaml"
	chmod u+w "$rec"
	printf -- '- just\n- a list\n' >"$rec"
	run --separate-stderr mreg show churn:1
	assert_status 1
	assert_one_error "$rec"
	run --separate-stderr mreg fsck
	assert_status 1
	assert_contains "$output" "$rec"
}

@test "a record holding another version: reported as corrupt" {
	rec="${MREG_DIR}/models/churn/1.yaml"
	cp "$rec" "${MREG_DIR}/models/churn/5.yaml"
	run --separate-stderr mreg show churn:5
	assert_status 1
	assert_one_error "5.yaml" "churn:1"
}

@test "a symlink pointing outside the model folder: create exit 1, names it, store unchanged" {
	ln -s /etc/hostname model/sub/hostname
	run --separate-stderr mreg create -n churn -p model
	assert_status 1
	[[ -z "$output" ]]
	assert_contains "$stderr" "model/sub/hostname: error: symlink points outside the model folder, to /etc/hostname [custom-symlink-escape]"
	assert_one_error "model" "not a valid custom_model"
	assert_store_unchanged "$BEFORE"
}

@test "a FIFO in the folder: create exit 1, names it, does not hang, store unchanged" {
	mkfifo model/sub/pipe
	run --separate-stderr timeout 20 "${MREG}" create -n churn -p model
	assert_status 1
	assert_contains "$stderr" "model/sub/pipe: error: a FIFO cannot be part of a model [custom-special-file]"
	assert_one_error "model" "not a valid custom_model"
	assert_store_unchanged "$BEFORE"
	# --no-validate does not get it in either
	run --separate-stderr timeout 20 "${MREG}" create -n churn -p model --no-validate
	assert_status 1
	assert_one_error "model/sub/pipe" "FIFO"
	assert_store_unchanged "$BEFORE"
}

@test "a FIFO as the model path: exit 1, does not hang" {
	mkfifo pipe
	run --separate-stderr timeout 20 "${MREG}" create -n churn -p pipe
	assert_status 1
	assert_contains "$stderr" "pipe: error:"
	assert_one_error "pipe"
	assert_store_unchanged "$BEFORE"
}

# Run mreg as an unprivileged user (root reads files whatever their mode).
as_user() {
	if [[ "$(id -u)" -eq 0 ]]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	else
		"$@"
	fi
}

# A store and a model in a folder the unprivileged user owns.
shared_setup() {
	if [[ "$(id -u)" -eq 0 ]]; then
		command -v setpriv >/dev/null || skip "root, and no setpriv to drop privileges: cannot make a file unreadable"
		setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null ||
			skip "setpriv cannot switch to uid 65534 here"
		as_user test -x "${MREG}" ||
			skip "uid 65534 cannot run ${MREG} (a parent folder is not searchable)"
	fi
	SHARED_DIR="$(mktemp -d /tmp/mreg-cli-unreadable.XXXXXX)"
	chmod 0777 "${SHARED_DIR}"
	cd "${SHARED_DIR}"
	export MREG_DIR="${SHARED_DIR}/.mreg"
	as_user "${MREG}" init >/dev/null
	as_user mkdir -p m/sub
	as_user sh -c 'echo a >m/a.txt; echo b >m/sub/b.txt'
	as_user "${MREG}" create -n churn -p m >/dev/null
}

@test "an unreadable file: validate and create exit 1, name it, store unchanged" {
	shared_setup
	as_user sh -c 'echo secret >m/sub/secret.bin; chmod 000 m/sub/secret.bin'
	before="$(store_snapshot)"
	run --separate-stderr as_user "${MREG}" validate m
	assert_status 1
	assert_contains "$output" "m/sub/secret.bin: error: cannot read: Permission denied [custom-unreadable]"
	run --separate-stderr as_user "${MREG}" create -n churn -p m
	assert_status 1
	assert_contains "$stderr" "m/sub/secret.bin: error: cannot read: Permission denied"
	assert_one_error "m" "not a valid custom_model"
	assert_store_unchanged "$before"
	# a single unreadable file as the model
	run --separate-stderr as_user "${MREG}" create -n single -p m/sub/secret.bin
	assert_status 1
	assert_contains "$stderr" "Permission denied"
	assert_one_error "secret.bin"
	assert_store_unchanged "$before"
}

@test "a file the stat cache knows, made unreadable since, is refused again" {
	shared_setup
	sleep 1 # older than the next cache's stamp (racily clean)
	as_user "${MREG}" create -n churn -p m >/dev/null
	# the cache knows the file as it was
	statcache_dump "${MREG_DIR}/cache/stat" | grep -q "^[0-9]* $(stat -c %i m/sub/b.txt) "
	as_user chmod 000 m/sub/b.txt
	before="$(store_snapshot)"
	run --separate-stderr as_user "${MREG}" create -n churn -p m
	assert_status 1
	assert_contains "$stderr" "m/sub/b.txt: error: cannot read: Permission denied"
	assert_store_unchanged "$before"
}

@test "a file the stat cache knows but another user owns is checked, not vouched for" {
	shared_setup
	# root's file, only root may read it; root registers it in the same store
	echo secret >m/sub/root.bin
	chmod 0600 m/sub/root.bin
	sleep 1 # older than the next cache's stamp (racily clean)
	"${MREG}" create -n churn -p m >/dev/null
	statcache_dump "${MREG_DIR}/cache/stat" | grep -q "^[0-9]* $(stat -c %i m/sub/root.bin) "
	before="$(store_snapshot)"
	run --separate-stderr as_user "${MREG}" create -n churn -p m
	assert_status 1
	assert_contains "$stderr" "m/sub/root.bin: error: cannot read: Permission denied"
	assert_store_unchanged "$before"
}

@test "an unreadable folder: create exit 1, names it, store unchanged" {
	shared_setup
	as_user sh -c 'mkdir m/locked; echo x >m/locked/x; chmod 000 m/locked'
	before="$(store_snapshot)"
	run --separate-stderr as_user "${MREG}" create -n churn -p m
	assert_status 1
	assert_contains "$stderr" "m/locked: error: cannot read folder: Permission denied"
	assert_one_error "m" "not a valid custom_model"
	assert_store_unchanged "$before"
}

@test "an unwritable store: create fails with exit 2 naming the store, records unchanged" {
	shared_setup
	chmod 0555 "${MREG_DIR}/blobs/sha256" "${MREG_DIR}/models/churn" "${MREG_DIR}/models"
	before="$(store_snapshot)"
	as_user sh -c 'echo new >m/new.txt'
	run --separate-stderr as_user "${MREG}" create -n churn -p m
	assert_status 2
	assert_one_error "${MREG_DIR}"
	assert_store_unchanged "$before"
	chmod 0755 "${MREG_DIR}/blobs/sha256" "${MREG_DIR}/models/churn" "${MREG_DIR}/models"
}

@test "bad references and options: exit 2, store unchanged" {
	run --separate-stderr mreg show 'churn:1:2'
	assert_status 2
	run --separate-stderr mreg list -n 'bad name'
	assert_status 2
	assert_one_error "bad name"
	run --separate-stderr mreg list --json 'churn*' extra
	assert_status 2
	assert_one_error "unexpected argument 'extra'"
	run --separate-stderr mreg create -n churn -p model --bogus
	assert_status 2
	assert_one_error "--bogus"
	assert_store_unchanged "$BEFORE"
}

@test "control characters from untrusted names reach the terminal escaped, never raw: diagnostics and error messages" {
	mkdir m
	echo x >m/a
	touch "m/$(printf 'evil\033[31mred\nnext')"
	run --separate-stderr mreg validate m
	assert_status 1
	assert_contains "$output$stderr" 'm/evil\x1b[31mred\nnext: error: file name is not valid UTF-8 or holds control characters [custom-bad-name]'
	[[ "$output$stderr" != *$'\033'* ]] || fail "an ESC reached the output"
	# one diagnostic, one line
	[[ "$(grep -c custom-bad-name <<<"$output$stderr")" == 1 ]]
	# the JSON keeps the name as it is (JSON escapes it)
	run --separate-stderr mreg validate m --json
	[[ "$(json_get 'd["diagnostics"][0]["file"]' <<<"$output" | head -c 9 | od -An -c | tr -s ' ')" == *"e v i l 033"* ]] ||
		fail "the JSON lost the raw name: $output"
	# an error message that echoes a name
	run --separate-stderr mreg create -n x -p "$(printf 'no\033]0;pwned\007such')"
	assert_status 1
	assert_contains "$stderr" 'no\x1b]0;pwned\x07such'
	[[ "$stderr" != *$'\033'* && "$stderr" != *$'\007'* ]] || fail "a control character reached stderr"
}

@test "a model folder nested 2,000 deep: refused with a message, no crash (validate and create)" {
	# made one level at a time (the whole path is longer than PATH_MAX)
	python3 -c 'import os
os.mkdir("deep"); os.chdir("deep")
for _ in range(2000):
    os.mkdir("d"); os.chdir("d")
open("f", "w").write("x")'

	for t in custom_model triton_model mlflow_model; do
		run --separate-stderr mreg validate -t "$t" deep
		assert_status 1
		assert_contains "$output$stderr" "error: folders nested more than 256 deep; not walked further [custom-too-deep]"
	done
	run --separate-stderr mreg create -n deep -p deep
	assert_status 1
	assert_contains "$stderr" "[custom-too-deep]"
}
