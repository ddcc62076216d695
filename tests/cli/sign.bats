#!/usr/bin/env bats
# Signing bundles: mreg keygen, package --sign, verify/import/unpack --pubkey,
# and minisign interop both ways (keys and signatures). Encrypted keys use
# scrypt with minisign's limits (1 GiB): each use takes seconds, so this file
# has its own long timeout.

load helpers

setup() {
	setup_store
	make_model model
	run --separate-stderr mreg create -n demo -p model
	assert_status 0
	unset MREG_KEY_PASSWORD
}

need_minisign() {
	command -v minisign >/dev/null || skip "minisign is not installed (apt install minisign)"
}

@test "keygen -W, package --sign: stock minisign verifies FILE, mreg verifies both signatures" {
	need_minisign
	run --separate-stderr mreg keygen -W -s k.key --pubkey k.pub
	assert_status 0
	assert_contains "$output" "(unencrypted)"
	[[ "$(stat -c %a k.key)" == 600 ]] || fail "secret key mode $(stat -c %a k.key)"
	run --separate-stderr mreg package demo:1 -o demo.tar.zst --sign k.key
	assert_status 0
	assert_contains "$output" "the file in demo.tar.zst.minisig"
	run minisign -Vm demo.tar.zst -p k.pub
	assert_status 0
	assert_contains "$output" "Signature and comment signature verified"
	assert_contains "$output" "Trusted comment: mreg bundle demo:1 manifest sha256:"
	run --separate-stderr mreg verify demo.tar.zst --pubkey k.pub
	assert_status 0
	assert_contains "$output" "manifest signed by key"
	assert_contains "$output" "demo.tar.zst.minisig signed by key"
	[[ "$output" == *"(verified)"*"(verified)"* ]] || fail "$output"
	# The signature inside checks with minisign too, once extracted.
	mkdir x && tar -C x -xf demo.tar.zst
	manifest="$(json_get 'd["manifests"][0]["digest"][7:]' <x/index.json)"
	run minisign -Vm "x/blobs/sha256/$manifest" -x x/manifest.minisig -p k.pub
	assert_status 0
	# Reproducible with the same key: Ed25519 is deterministic, the comments carry no time.
	run mreg package demo:1 -o again.tar.zst --sign k.key
	cmp demo.tar.zst again.tar.zst || fail "signed bundles differ"
	other="${TEST_DIR}/b/.mreg"
	MREG_DIR="$other" "${MREG}" init >/dev/null
	MREG_DIR="$other" run --separate-stderr mreg import demo.tar.zst --pubkey k.pub
	assert_status 0
	assert_contains "$output" "verified"
}

@test "a key made by minisign -G -W signs with mreg; minisign's own signature passes mreg" {
	need_minisign
	minisign -G -W -p ms.pub -s ms.key >/dev/null
	run --separate-stderr mreg package demo:1 -o demo.tar --sign ms.key
	assert_status 0
	run minisign -Vm demo.tar -p ms.pub
	assert_status 0
	run --separate-stderr mreg unpack demo.tar -o out --pubkey ms.pub
	assert_status 0
	# An unsigned bundle signed afterwards by minisign itself: FILE.minisig alone.
	mreg package demo:1 -o plain.tar >/dev/null
	minisign -S -s ms.key -m plain.tar >/dev/null
	run --separate-stderr mreg verify plain.tar --pubkey ms.pub
	assert_status 0
	assert_contains "$output" "plain.tar.minisig signed by key"
	minisign -S -l -s ms.key -m plain.tar -x plain.tar.minisig >/dev/null
	run --separate-stderr mreg verify plain.tar --pubkey ms.pub
	assert_status 0
}

@test "--pubkey refuses unsigned bundles and other keys' signatures; the store is unchanged" {
	mreg keygen -W -s a.key --pubkey a.pub >/dev/null
	mreg keygen -W -s b.key --pubkey b.pub >/dev/null
	mreg package demo:1 -o unsigned.tar >/dev/null
	mreg package demo:1 -o signed.tar --sign a.key >/dev/null
	other="${TEST_DIR}/b/.mreg"
	MREG_DIR="$other" "${MREG}" init >/dev/null
	before="$(store_snapshot "$other")"
	MREG_DIR="$other" run --separate-stderr mreg import unsigned.tar --pubkey a.pub
	assert_status 1
	assert_one_error "unsigned.tar: not signed"
	MREG_DIR="$other" run --separate-stderr mreg import signed.tar --pubkey b.pub
	assert_status 1
	assert_one_error "signed by key" "not by key"
	[[ "$(store_snapshot "$other")" == "$before" ]] || fail "the store changed"
	run --separate-stderr mreg unpack signed.tar -o out --pubkey b.pub
	assert_status 1
	[[ ! -e out ]] || fail "unpack wrote out/"
	# The bundle changed after signing: the signature beside it fails.
	cp signed.tar changed.tar
	cp signed.tar.minisig changed.tar.minisig
	printf 'x' >>changed.tar
	run --separate-stderr mreg verify changed.tar --pubkey a.pub
	assert_status 1
	assert_one_error "changed.tar.minisig: signature verification failed"
	run --separate-stderr mreg verify signed.tar --pubkey missing.pub
	assert_status 2
}

@test "encrypted keys: passphrase from MREG_KEY_PASSWORD, wrong passphrase, minisign's encrypted key" {
	need_minisign
	MREG_KEY_PASSWORD=s3cret run --separate-stderr mreg keygen -s e.key --pubkey e.pub
	assert_status 0
	assert_contains "$output" "(encrypted)"
	# minisign signs with mreg's encrypted key (it reads the password from stdin).
	echo payload >f.txt
	run sh -c 'printf "s3cret\n" | minisign -S -s e.key -m f.txt'
	assert_status 0
	run minisign -Vm f.txt -p e.pub
	assert_status 0
	MREG_KEY_PASSWORD=wrong run --separate-stderr mreg package demo:1 -o w.tar --sign e.key
	assert_status 2
	assert_one_error "e.key: wrong passphrase for this key"
	[[ ! -e w.tar ]] || fail "a bundle was written"
	# No terminal (a new session) and no variable: a clear refusal, no hang.
	run --separate-stderr setsid -w "${MREG}" package demo:1 -o n.tar --sign e.key </dev/null
	assert_status 2
	assert_one_error "set MREG_KEY_PASSWORD or run on a terminal"
	# A key minisign encrypted, used by mreg.
	run sh -c 'printf "pw\npw\n" | minisign -G -p mse.pub -s mse.key'
	assert_status 0
	MREG_KEY_PASSWORD=pw run --separate-stderr mreg package demo:1 -o m.tar --sign mse.key
	assert_status 0
	run minisign -Vm m.tar -p mse.pub
	assert_status 0
}

@test "keygen reads the passphrase from the terminal without echo" {
	command -v script >/dev/null || skip "script(1) from util-linux is not installed"
	# The lines come late, as a person types them, so no echo could have shown them.
	run sh -c "(sleep 2; printf 'tty-pass\n'; sleep 2; printf 'tty-pass\n') |
		script -qec '\"${MREG}\" keygen -s t.key --pubkey t.pub' /dev/null"
	assert_status 0
	assert_contains "$output" "Passphrase for the new key:"
	assert_not_contains "$output" "tty-pass"
	grep -q '^untrusted comment: minisign encrypted secret key' t.key
	run sh -c "(sleep 2; printf 'one\n'; sleep 2; printf 'two\n') |
		script -qec '\"${MREG}\" keygen --force -s t2.key --pubkey t2.pub' /dev/null"
	assert_status 2
	assert_contains "$output" "the passphrases differ"
	[[ ! -e t2.key ]] || fail "a key was written"
}

@test "keygen refuses to overwrite without --force, and an empty passphrase" {
	mreg keygen -W -s k.key --pubkey k.pub >/dev/null
	run --separate-stderr mreg keygen -W -s k.key --pubkey k.pub
	assert_status 1
	assert_one_error "k.key: already exists"
	run --separate-stderr mreg keygen -W --force -s k.key --pubkey k.pub --json
	assert_status 0
	[[ "$(echo "$output" | json_get 'd["encrypted"]')" == false ]]
	MREG_KEY_PASSWORD= run --separate-stderr mreg keygen -s e.key --pubkey e.pub
	assert_status 2
	assert_one_error "empty passphrase"
}
