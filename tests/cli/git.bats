#!/usr/bin/env bats
# Versioning models in a git repository: store placement, provenance, --commit
# touching only the record, history, merges, and odd repository states.

load helpers

setup() {
	common_setup
	unset MREG_DIR
	export GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=t@example.com
	export GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=t@example.com
	export GIT_CONFIG_GLOBAL="${TEST_DIR}/gitconfig"
	git config --global user.name Tester
	git config --global user.email t@example.com
	git config --global init.defaultBranch main
	git config --global protocol.file.allow always
}

# A repository with code and a model folder, one commit.
make_repo() {
	git init -q repo
	cd repo
	mkdir -p models/churn src
	echo "weights v1" > models/churn/weights.bin
	echo "print('train')" > src/train.py
	git add . && git commit -qm "first"
}

@test "init inside a git work tree puts .mreg at the root, with a .gitignore for blobs, tmp and lock" {
	make_repo
	cd src
	run mreg init
	[ "$status" -eq 0 ]
	[[ "$output" == *"$(cd .. && pwd)/.mreg"* ]]
	[ -f ../.mreg/config.yaml ]
	cd ..
	grep -qx '/blobs/' .mreg/.gitignore
	grep -qx '/tmp/' .mreg/.gitignore
	grep -qx '/lock' .mreg/.gitignore
	mreg create -n churn -p models/churn
	git add .mreg
	run git status --porcelain .mreg
	[[ "$output" == *".mreg/config.yaml"* ]]
	[[ "$output" == *".mreg/models/churn/1.yaml"* ]]
	[[ "$output" != *"blobs"* ]] || fail "a blob would enter git: $output"
	[[ "$output" != *"lock"* ]] || fail "the lock would enter git: $output"
	[[ "$output" != *"tmp"* ]] || fail "tmp/ would enter git: $output"
}

@test "create records commit, branch, clean/dirty state, path and a remote without credentials" {
	make_repo
	git remote add origin "https://alice:s3cr3t-token@git.example.com/team/churn.git"
	mreg init
	head=$(git rev-parse HEAD)
	run --separate-stderr mreg create -n churn -p models/churn --json
	[ "$status" -eq 0 ]
	echo "$output" > rec.json
	python3 - "$head" rec.json <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))["source"]["git"]
assert r["commit"] == sys.argv[1], r
assert r["branch"] == "main", r
assert r["dirty"] is False, r
assert r["path"] == "models/churn", r
assert r["remote"] == "https://git.example.com/team/churn.git", r
PY
	! grep -rq "s3cr3t" .mreg || fail "the credential was written into the store"
	echo "weights v2" > models/churn/weights.bin
	run --separate-stderr mreg create -n churn -p models/churn --json
	python3 -c 'import json,sys; assert json.load(sys.stdin)["source"]["git"]["dirty"] is True' <<<"$output"
	run mreg show churn:2
	[[ "$output" == *"$head on main (dirty)"* ]]
	# An untracked new file makes the model dirty too.
	git checkout -q -- models/churn
	echo new > models/churn/extra.txt
	run --separate-stderr mreg create -n churn -p models/churn --json
	python3 -c 'import json,sys; assert json.load(sys.stdin)["source"]["git"]["dirty"] is True' <<<"$output"
}

@test "--commit commits only the record; what the user staged stays staged and uncommitted" {
	make_repo
	mreg init
	git add .mreg && git commit -qm "store"
	echo "half done" > src/wip.py
	git add src/wip.py
	echo "edited" >> src/train.py
	run mreg create -n churn -p models/churn --commit
	[ "$status" -eq 0 ]
	run git show --name-only --format=%s HEAD
	[ "${lines[0]}" = "mreg: register model churn version 1" ]
	[ "${lines[1]}" = ".mreg/models/churn/1.yaml" ]
	[ "${#lines[@]}" -eq 2 ] || fail "commit touched more: $output"
	run git status --porcelain
	[[ "$output" == *"A  src/wip.py"* ]] || fail "staged file lost: $output"
	[[ "$output" == *" M src/train.py"* ]] || fail "work-tree change lost: $output"
	[[ "$output" != *"1.yaml"* ]] || fail "record not clean after commit: $output"
}

@test "git.commit: true in config.yaml commits by default; --no-commit overrides" {
	make_repo
	mreg init
	printf 'git:\n  commit: true\n' >> .mreg/config.yaml
	git add .mreg && git commit -qm store
	mreg create -n churn -p models/churn
	[ "$(git log -1 --format=%s)" = "mreg: register model churn version 1" ]
	mreg create -n churn -p models/churn --no-commit
	[ "$(git log -1 --format=%s)" = "mreg: register model churn version 1" ]
	[ -f .mreg/models/churn/2.yaml ]
}

@test "--commit outside git is refused before anything is stored" {
	mkdir m && echo x > m/a
	mreg init
	run --separate-stderr mreg create -n m -p m --commit
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"not inside a git work tree"* ]]
	[ ! -e .mreg/models/m ]
	[ -z "$(ls .mreg/blobs/sha256)" ]
}

@test "log lists each version with the commit that added it, newest first" {
	make_repo
	mreg init
	git add .mreg && git commit -qm store
	mreg create -n churn -p models/churn --commit
	echo v2 > models/churn/weights.bin
	mreg create -n churn -p models/churn --commit
	mreg create -n churn -p models/churn
	c2=$(git rev-parse --short=12 HEAD)
	c1=$(git rev-parse --short=12 HEAD~1)
	run mreg log churn
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "3 "*"(record not committed yet)"* ]] || fail "$output"
	[[ "${lines[1]}" == "2 "*"$c2"*"register model churn version 2"* ]] || fail "$output"
	[[ "${lines[2]}" == "1 "*"$c1"* ]] || fail "$output"
	run mreg log churn --json
	python3 -c 'import json,sys; a=json.load(sys.stdin); assert [e["event"] for e in a]==["uncommitted","added","added"], a' <<<"$output"
	run mreg log nosuch
	[ "$status" -eq 1 ]
}

@test "two branches registering versions merge without conflicts and mreg reads the result" {
	make_repo
	mreg init
	mreg create -n churn -p models/churn
	git add .mreg && git commit -qm "v1"
	git checkout -qb alice
	echo alice > models/churn/weights.bin
	mreg create -n churn -p models/churn -v alice-1 --commit
	git checkout -q main
	git checkout -qb bob
	echo bob > models/churn/weights.bin
	mreg create -n churn -p models/churn -v bob-1 --commit
	git checkout -q main
	git merge -q --no-edit alice
	run git merge --no-edit bob
	[ "$status" -eq 0 ] || fail "merge conflict: $output"
	run mreg list -n churn
	[ "$status" -eq 0 ]
	[[ "$output" == *"alice-1"* && "$output" == *"bob-1"* ]]
	run mreg fsck
	[ "$status" -eq 0 ]
	run mreg log churn
	[[ "$output" == *"alice-1"*"register model churn version alice-1"* ]]
	[[ "$output" == *"bob-1"*"register model churn version bob-1"* ]]
	[[ "$output" != *"Merge"* ]] || fail "a merge listed as adding a record: $output"
}

@test "a clone has the records but not the blobs: fsck names the incomplete versions" {
	make_repo
	mreg init
	git add .mreg && git commit -qm "store"
	mreg create -n churn -p models/churn --commit
	cd "${TEST_DIR}"
	git clone -q repo clone
	cd clone
	run mreg show churn:1
	[ "$status" -eq 0 ]
	run mreg fsck
	[ "$status" -eq 1 ]
	[[ "$output" == *"churn:1: 1 of 1 file is not present in this store"* ]] || fail "$output"
	[[ "$output" != *"corrupt"* ]] || fail "called corrupt: $output"
	run mreg download churn:1 -o out
	[ "$status" -eq 1 ]
	[ ! -e out ]
}

@test "odd states: no commit yet, detached HEAD, ignored model, bare repository, submodule" {
	git init -q empty
	mkdir empty/m && echo x > empty/m/a
	cd empty
	mreg init
	run --separate-stderr mreg create -n e -p m
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"has no commit yet"*"[git-no-commit]"* ]]
	! grep -q "git:" .mreg/models/e/1.yaml || fail "provenance recorded for a repository with no commit"
	cd "${TEST_DIR}"

	make_repo
	mreg init
	git checkout -q --detach
	run --separate-stderr mreg create -n churn -p models/churn --json
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"[git-detached]"* ]]
	python3 -c 'import json,sys; g=json.load(sys.stdin)["source"]["git"]; assert g["branch"] is None and g["commit"], g' <<<"$output"
	git checkout -q main
	mkdir big && echo w > big/w.bin
	echo "big/" > .gitignore
	run --separate-stderr mreg create -n big -p big --json
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"[git-ignored]"* ]]
	python3 -c 'import json,sys; g=json.load(sys.stdin)["source"]["git"]; assert g["dirty"] is None, g' <<<"$output"
	cd "${TEST_DIR}"

	git init -q --bare bare.git
	mkdir bare.git/m && echo x > bare.git/m/a
	run --separate-stderr mreg --store "${TEST_DIR}/bs" init
	run --separate-stderr mreg --store "${TEST_DIR}/bs" create -n b -p bare.git/m
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"[git-bare]"* ]]

	git init -q lib && (cd lib && echo w > w.bin && git add . && git commit -qm lib)
	cd repo
	git submodule add -q "${TEST_DIR}/lib" vendor/lib
	git commit -qm "submodule"
	libhead=$(git -C vendor/lib rev-parse HEAD)
	run --separate-stderr mreg create -n sub -p vendor/lib --json
	[ "$status" -eq 0 ]
	echo "$output" > rec.json
	python3 - "$libhead" rec.json <<'PY'
import json, sys
g = json.load(open(sys.argv[2]))["source"]["git"]
assert g["commit"] == sys.argv[1], g
PY
}

@test "a teammate's flow: clone the repository, import a bundle, download the version" {
	make_repo
	mreg init
	git add .mreg && git commit -qm "store"
	mreg create -n churn -p models/churn --commit
	mreg package churn:1 -o "${TEST_DIR}/churn-1.tar"
	cd "${TEST_DIR}"
	git clone -q repo clone
	cd clone
	run mreg fsck
	[ "$status" -eq 1 ]
	[[ "$output" == *"churn:1: 1 of 1 file is not present"* ]]
	run --separate-stderr mreg import "${TEST_DIR}/churn-1.tar"
	[ "$status" -eq 0 ] || fail "import: $stderr"
	run mreg fsck
	[ "$status" -eq 0 ] || fail "fsck after import: $output"
	run mreg download churn:1 -o out
	[ "$status" -eq 0 ]
	cmp out/weights.bin "${TEST_DIR}/repo/models/churn/weights.bin"
	# the record came with git and is unchanged by the import
	run git status --porcelain .mreg
	[ -z "$output" ] || fail "import changed committed files: $output"
}

@test "the first create --commit also commits config.yaml and .gitignore: a clone is a store and lists the version" {
	make_repo
	mreg init
	run --separate-stderr mreg create -n churn -p models/churn --commit
	assert_status 0
	[[ "$(git show --name-only --format= HEAD | sort | tr '\n' ' ')" == ".mreg/.gitignore .mreg/config.yaml .mreg/models/churn/1.yaml " ]] ||
		fail "first commit holds: $(git show --name-only --format= HEAD)"
	echo "# a change of the user's" >>.mreg/config.yaml
	run --separate-stderr mreg create -n churn -p models/churn -v 2 --commit
	assert_status 0
	[[ "$(git show --name-only --format= HEAD)" == ".mreg/models/churn/2.yaml" ]] ||
		fail "a later commit took more than its record: $(git show --name-only --format= HEAD)"
	[[ "$(git status --porcelain .mreg)" == " M .mreg/config.yaml" ]] ||
		fail "the user's config change was touched: $(git status --porcelain .mreg)"
	cd "${TEST_DIR}"
	git clone -q repo clone
	cd clone
	unset MREG_DIR
	run --separate-stderr "${MREG}" list
	assert_status 0
	assert_contains "$output" "churn  1"
	assert_contains "$output" "churn  2"
}

@test "records that came through git without config.yaml: the message says how to go on, and init keeps them" {
	make_repo
	mreg init
	mreg create -n churn -p models/churn >/dev/null
	git add .mreg/models && git commit -qm "records only, as mreg 0.1 committed them"
	cd "${TEST_DIR}"
	git clone -q repo clone
	cd clone
	unset MREG_DIR
	run --separate-stderr "${MREG}" list
	assert_status 2
	assert_contains "$stderr" "$PWD/.mreg: not an mreg store (no config.yaml), though it holds records"
	assert_contains "$stderr" "run 'mreg init' with --store $PWD/.mreg to write the config; the records are kept"
	run --separate-stderr "${MREG}" --store .mreg init
	assert_status 0
	run --separate-stderr "${MREG}" list
	assert_status 0
	assert_contains "$output" "churn  1"
}

@test "recorded remotes hold no credentials whatever their shape: a token in the query, a password with '@' or '/'" {
	make_repo
	mreg init
	v=0
	for url in "https://gitlab.example.com/team/churn.git?private_token=glpat-s3cr3t" \
		"https://alice:p%40s3cr3t@git.example.com/team/churn.git" \
		"https://alice:p@s3cr3t@git.example.com/team/churn.git" \
		"https://alice:p/s3cr3t@git.example.com/team/churn.git"; do
		git remote remove origin 2>/dev/null || true
		git remote add origin "$url"
		v=$((v + 1))
		run --separate-stderr mreg create -n churn -p models/churn -v "$v" --json
		assert_status 0
		! grep -rq "s3cr3t" .mreg || fail "$url: the credential was written into the store"
		! grep -q "s3cr3t" <<<"$output$stderr" || fail "$url: the credential was shown"
	done
	[[ "$(mreg show churn:1 --json | json_get 'd["source"]["git"]["remote"]')" == "https://gitlab.example.com/team/churn.git" ]]
	[[ "$(mreg show churn:2 --json | json_get 'd["source"]["git"]["remote"]')" == "https://git.example.com/team/churn.git" ]]
	# a URL no parser reads the same way is not recorded at all
	[[ "$(mreg show churn:3 --json | json_get 'd["source"]["git"].get("remote") is None')" == "true" ]] || fail "a remote was recorded from an unparseable URL"
}
