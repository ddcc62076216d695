#!/usr/bin/env bats
# mreg diff: versions and folders compared path by path (content, mode,
# empty folders, links) and versions by metadata; exit 0 same, 1 different,
# 2 error, as diff(1); folders are hashed, nothing is written.

load helpers

setup() {
	setup_store
	make_model model
	mkdir -p model/ens/1
	ln -s a.txt model/latest.txt
	mreg create -n churn -p model --tag team=vision >/dev/null
}

@test "a version against its own folder: the same, exit 0, and nothing written" {
	before="$(store_snapshot)"
	run --separate-stderr mreg diff churn:1 model
	assert_status 0
	assert_contains "$output" "same content ($(mreg show churn:1 --json | json_get 'd["digest"]'))"
	assert_store_unchanged "$before"
	run --separate-stderr mreg diff -q churn@latest ./model
	assert_status 0
	[[ -z "$output" ]] || fail "-q printed: $output"
}

@test "a version against a changed folder: each added, removed and modified path, exit 1" {
	cp -a model work
	printf 'weights v2\n' >work/a.txt
	chmod 0700 work/sub/b.bin
	rm work/sub/deeper/c.json
	printf 'new\n' >work/new.txt
	rmdir work/ens/1
	ln -sfn sub/b.bin work/latest.txt
	run --separate-stderr mreg diff churn:1 work
	assert_status 1
	assert_contains "$output" "--- churn:1"
	assert_contains "$output" "+++ work"
	assert_contains "$output" "M  a.txt  (11 B, 0644, sha256:"
	assert_contains "$output" "M  sub/b.bin  (10 B, 0755, sha256:"
	assert_contains "$output" "-> 10 B, 0700, sha256:"
	assert_contains "$output" "D  sub/deeper/c.json  (9 B, 0600, sha256:"
	assert_contains "$output" "A  new.txt  (4 B, 0644, sha256:"
	assert_contains "$output" "D  ens/1  (empty folder, 0755)"
	assert_contains "$output" "A  ens  (empty folder, 0755)"
	assert_contains "$output" "M  latest.txt  (link -> a.txt -> link -> sub/b.bin)"
	assert_contains "$output" "A  sub/deeper  (empty folder, 0755)"
	assert_contains "$output" "3 added, 2 removed, 3 modified"
	# Reversed, the additions are removals.
	run --separate-stderr mreg diff work churn:1
	assert_status 1
	assert_contains "$output" "D  new.txt"
	assert_contains "$output" "2 added, 3 removed, 3 modified"
}

@test "two versions: files and metadata (type, description, stage, tags, properties)" {
	printf 'weights v2\n' >model/a.txt
	mreg create -n churn -p model --description "retrained" --property data=2025-12 >/dev/null
	mreg update churn:2 --stage Staging >/dev/null
	run --separate-stderr mreg diff churn:1 churn:2
	assert_status 1
	assert_contains "$output" "M  a.txt"
	assert_contains "$output" "~  description: (unset) -> retrained"
	assert_contains "$output" "~  stage: (unset) -> Staging"
	assert_contains "$output" "~  tag.team: vision -> (unset)"
	assert_contains "$output" "~  property.data: (unset) -> 2025-12"
	assert_contains "$output" "0 added, 0 removed, 1 modified, metadata differs"
	# Same files, other metadata: still different for diff(1)'s exit status.
	mreg create -n churn -p model --description "retrained" --property data=2025-12 2>/dev/null >/dev/null
	run --separate-stderr mreg diff churn:2 churn:3
	assert_status 1
	assert_contains "$output" "~  stage: Staging -> (unset)"
}

@test "--json: the documented shape" {
	cp -a model work
	printf 'weights v2\n' >work/a.txt
	run --separate-stderr mreg diff churn:1 work --json
	assert_status 1
	[[ "$(json_get '[d["a"]["kind"], d["b"]["kind"], d["same"], d["added"], d["removed"], d["modified"]]' <<<"$output")" == \
		'["version", "path", false, 0, 0, 1]' ]] || fail "bad summary: $output"
	[[ "$(json_get '[(e["path"], e["change"], e["old"]["kind"], e["old"]["size"], e["new"]["mode"]) for e in d["entries"]]' <<<"$output")" == \
		'[["a.txt", "modified", "file", 11, "0644"]]' ]] || fail "bad entries: $output"
	[[ "$(json_get 'd["metadata"]' <<<"$output")" == '[]' ]] || fail "a folder has no metadata"
}

@test "errors: exit 2 for an unknown version, a missing folder, a folder create would refuse" {
	run --separate-stderr mreg diff churn:9 model
	assert_status 2
	assert_one_error "model churn has no version 9"
	run --separate-stderr mreg diff churn:1 ./missing/folder
	assert_status 2
	assert_one_error "./missing/folder: no such file or folder"
	mkdir bad && ln -s /etc/passwd bad/out
	run --separate-stderr mreg diff churn:1 bad
	assert_status 2
	assert_contains "$stderr" "symlink points outside the model folder"
	run --separate-stderr mreg diff churn:1
	assert_status 2
	assert_contains "$stderr" "give two operands"
}

@test "create says when a new version has the same content as an earlier one" {
	run --separate-stderr mreg create -n churn -p model
	assert_status 0
	assert_contains "$output" "created churn:2"
	assert_contains "$stderr" "note: same content as churn:1"
	printf 'weights v2\n' >model/a.txt
	run --separate-stderr mreg create -n churn -p model
	assert_status 0
	assert_not_contains "$stderr" "same content"
	# Back to the first content: the newest version that holds it is named
	# (churn:2, not churn:1), an archived one counts, a damaged record is
	# passed over, another model's same content is not this model's.
	run mreg create -n other -p model
	printf 'weights v1\n' >model/a.txt
	run mreg archive churn:2
	assert_status 0
	printf 'not: [a record\n' >"$MREG_DIR/models/churn/x.yaml"
	run --separate-stderr mreg create -n churn -p model
	assert_status 0
	assert_contains "$output" "created churn:4"
	[[ "$stderr" == "mreg: note: same content as churn:2 (mreg diff shows what differs in metadata)" ]] ||
		fail "stderr: $stderr"
}

@test "an unknown option before the command: one line that says the way out, not the whole help" {
	run --separate-stderr mreg --bogus list
	assert_status 2
	[[ "$stderr" == "mreg: unknown option '--bogus' before the command (global options: --store DIR, --help, --version; a command's own options follow it: see 'mreg --help')" ]] ||
		fail "got: $stderr"
}
