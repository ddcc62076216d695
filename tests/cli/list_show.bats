#!/usr/bin/env bats
# mreg list, mreg show: human and --json output.

load helpers

setup() {
	setup_store
	make_model model
	mreg create -n churn -p model --stage Production >/dev/null
	printf 'weights v2\n' >model/a.txt
	mreg create -n churn -p model >/dev/null
	mreg create -n churn -p model -v 2025.11 --description "explicit" >/dev/null
	head -c 3000 /dev/urandom >single.bin
	mreg create -n a-single-file-model -p single.bin >/dev/null
}

# Every row starts each column where the header's title starts, and the
# character before a column is a space: aligned plain text.
check_aligned() {
	"${PYTHON}" -c '
import re, sys
lines = sys.stdin.read().splitlines()
starts = [m.start() for m in re.finditer(r"\S+", lines[0])]
assert len(lines) > 1, "no rows"
for row in lines[1:]:
    for s in starts[1:]:
        assert len(row) > s, "row too short: %r" % row
        assert row[s - 1] == " " and row[s] != " ", "column at %d not aligned in %r" % (s, row)
    assert len(re.findall(r"\S+", row)) >= len(starts), row
'
}

@test "list: a header and one aligned row per version, sorted by name then creation" {
	run --separate-stderr mreg list
	assert_status 0
	[[ -z "$stderr" ]]
	[[ "${#lines[@]}" -eq 5 ]]
	read -ra head <<<"${lines[0]}"
	[[ "${head[*]}" == "NAME VERSION TYPE STAGE FILES SIZE CREATED" ]]
	[[ "$(awk 'NR > 1 { print $1 ":" $2 }' <<<"$output" | tr '\n' ' ')" == "a-single-file-model:1 churn:1 churn:2 churn:2025.11 " ]]
	grep -Eq '^churn +1 +custom_model +Production +3 ' <<<"$output"
	grep -Eq '^churn +2 +custom_model +- +3 ' <<<"$output"
	grep -Eq '^a-single-file-model +1 +custom_model +- +1 +2\.9 KiB +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}$' <<<"$output"
	check_aligned <<<"$output"
}

@test "list -n NAME: only that model; unknown name: exit 1" {
	run --separate-stderr mreg list -n churn
	assert_status 0
	[[ "${#lines[@]}" -eq 4 ]]
	assert_not_contains "$output" "a-single-file-model"
	run --separate-stderr mreg list -n nosuch
	assert_status 1
	assert_one_error "nosuch"
}

@test "list on an empty store prints nothing, exit 0" {
	export MREG_DIR="${TEST_DIR}/empty/.mreg"
	mreg init "${TEST_DIR}/empty" >/dev/null
	run --separate-stderr mreg list
	assert_status 0
	[[ -z "$output" && -z "$stderr" ]]
	run --separate-stderr mreg list --json
	assert_status 0
	[[ "$(json_get 'd' <<<"$output")" == "[]" ]]
}

@test "list --json: one JSON document, an array of records with snake_case keys" {
	run --separate-stderr mreg list --json
	assert_status 0
	[[ -z "$stderr" ]]
	[[ "$(json_get 'len(d)' <<<"$output")" == 4 ]]
	[[ "$(json_get '" ".join(r["name"] + ":" + r["version"] for r in d)' <<<"$output")" == "a-single-file-model:1 churn:1 churn:2 churn:2025.11" ]]
	[[ "$(json_get 'd[1]["stage"]' <<<"$output")" == Production ]]
	[[ "$(json_get 'd[3]["description"]' <<<"$output")" == explicit ]]
	[[ "$(json_get 'd[1]["file_count"]' <<<"$output")" == 3 ]]
	[[ "$(json_get 'd[0]["size"]' <<<"$output")" == 3000 ]]
	[[ "$(json_get 'all(r["archived"] is False for r in d)' <<<"$output")" == true ]]
	# keys are snake_case
	"${PYTHON}" -c '
import json, re, sys
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            assert re.fullmatch(r"[a-z][a-z0-9_]*", k), k
            if k not in ("tags", "properties"):
                walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(json.load(sys.stdin))
' <<<"$output"
}

@test "list filters: a name pattern, --tag, --stage, -t; --sort and --limit" {
	mreg update churn:2 --tag team=nlp >/dev/null
	mreg update churn:2025.11 --tag team=vision --tag gpu >/dev/null
	run --separate-stderr mreg list 'churn*' --json
	assert_status 0
	[[ "$(json_get '[r["name"] + ":" + r["version"] for r in d]' <<<"$output")" == \
		'["churn:1", "churn:2", "churn:2025.11"]' ]] || fail "pattern: $output"
	run --separate-stderr mreg list --tag team=vision --json
	[[ "$(json_get '[r["version"] for r in d]' <<<"$output")" == '["2025.11"]' ]] || fail "tag: $output"
	run --separate-stderr mreg list --tag team --json
	[[ "$(json_get '[r["version"] for r in d]' <<<"$output")" == '["2", "2025.11"]' ]] || fail "tag key: $output"
	run --separate-stderr mreg list --tag team --tag gpu --json
	[[ "$(json_get '[r["version"] for r in d]' <<<"$output")" == '["2025.11"]' ]] || fail "two tags: $output"
	run --separate-stderr mreg list --stage production --json
	[[ "$(json_get '[r["version"] for r in d]' <<<"$output")" == '["1"]' ]] || fail "stage: $output"
	run --separate-stderr mreg list --stage '' 'churn' --json
	[[ "$(json_get '[r["version"] for r in d]' <<<"$output")" == '["2", "2025.11"]' ]] || fail "no stage: $output"
	run --separate-stderr mreg list -t mlflow_model
	assert_status 0
	[[ -z "$output" ]] || fail "-t: $output"
	run --separate-stderr mreg list --sort -created --limit 2 --json
	[[ "$(json_get '[r["name"] + ":" + r["version"] for r in d]' <<<"$output")" == \
		'["a-single-file-model:1", "churn:2025.11"]' ]] || fail "newest two: $output"
	run --separate-stderr mreg list --sort version -n churn --json
	[[ "$(json_get '[r["version"] for r in d]' <<<"$output")" == '["1", "2", "2025.11"]' ]] || fail "by version: $output"
	run --separate-stderr mreg list --sort -size --limit 1 --json
	[[ "$(json_get '[r["name"] for r in d]' <<<"$output")" == '["a-single-file-model"]' ]] || fail "biggest: $output"
	# Mistakes are usage errors that say the way out.
	run --separate-stderr mreg list --sort weight
	assert_status 2
	assert_contains "$stderr" "unknown sort key 'weight' (name, created, size, files or version; -KEY reverses)"
	run --separate-stderr mreg list --limit 0
	assert_status 2
	assert_contains "$stderr" "--limit: '0' is not a positive number"
	run --separate-stderr mreg list -t mlflow
	assert_status 2
	assert_contains "$stderr" "did you mean mlflow_model?"
}

@test "show NAME@latest: the most recently created version" {
	run --separate-stderr mreg show churn@latest
	assert_status 0
	[[ -z "$stderr" ]]
	grep -Eq '^name: +churn$' <<<"$output"
	grep -Eq '^version: +2025\.11$' <<<"$output"
	grep -Eq '^type: +custom_model$' <<<"$output"
	grep -Eq '^description: +explicit$' <<<"$output"
	grep -Eq '^digest: +sha256:[0-9a-f]{64}$' <<<"$output"
	# the file table: mode, size, path, digest
	grep -Eq "^0644 +11 +a\.txt +$(file_digest model/a.txt)$" <<<"$output"
	grep -Eq '^0755 +10 +sub/b\.bin +sha256:[0-9a-f]{64}$' <<<"$output"
	# NAME alone means NAME@latest
	run --separate-stderr mreg show churn
	grep -Eq '^version: +2025\.11$' <<<"$output"
}

@test "@latest follows creation time, not the version string" {
	mreg create -n churn -p model -v 0 >/dev/null
	[[ "$(mreg show churn@latest --json | json_get 'd["version"]')" == 0 ]]
}

@test "show NAME:VERSION --json: one JSON document with the files, empty folders and links" {
	run --separate-stderr mreg show churn:1 --json
	assert_status 0
	[[ -z "$stderr" ]]
	[[ "$(json_get 'd["name"]' <<<"$output")" == churn ]]
	[[ "$(json_get 'd["version"]' <<<"$output")" == 1 ]]
	[[ "$(json_get 'd["stage"]' <<<"$output")" == Production ]]
	[[ "$(json_get 'd["description"]' <<<"$output")" == null ]]
	[[ "$(json_get 'sorted(d.keys())' <<<"$output")" == '["aliases", "archived", "created_at", "description", "digest", "dirs", "files", "links", "name", "properties", "signatures", "size", "source", "stage", "tags", "type", "version"]' ]]
	[[ "$(json_get 'd["dirs"], d["links"]' <<<"$output")" == '[[], []]' ]]
	[[ "$(json_get 'sorted(d["files"][0].keys())' <<<"$output")" == '["digest", "mode", "path", "size"]' ]]
	[[ "$(json_get 'd["files"][0]["size"]' <<<"$output")" == 11 ]]
}

@test "show --files: the tree alone, as a table or as the record's three lists" {
	run --separate-stderr mreg show churn:1 --files
	assert_status 0
	[[ "${lines[0]}" =~ ^MODE\ +SIZE\ +PATH\ +DIGEST$ ]] || fail "header: ${lines[0]}"
	assert_contains "$output" "a.txt"
	assert_not_contains "$output" "name:"
	run --separate-stderr mreg show churn:1 --files --json
	assert_status 0
	[[ "$(json_get 'sorted(d)' <<<"$output")" == '["dirs", "files", "links"]' ]] || fail "keys: $output"
	[[ "$(json_get '[f["path"] for f in d["files"]]' <<<"$output")" == \
		"$(mreg show churn:1 --json | json_get '[f["path"] for f in d["files"]]')" ]] || fail "files differ"
}

@test "show of a missing model or version: exit 1, names it" {
	run --separate-stderr mreg show nosuch
	assert_status 1
	assert_one_error "no model named nosuch"
	[[ -z "$output" ]]
	run --separate-stderr mreg show churn:99
	assert_status 1
	assert_one_error "churn" "99"
	run --separate-stderr mreg show nosuch@latest --json
	assert_status 1
	[[ -z "$output" ]]
}

@test "show with a malformed reference: exit 2" {
	for ref in 'churn:' 'bad name' 'churn@ear liest' 'churn@.x' 'churn:../1'; do
		run --separate-stderr mreg show "$ref"
		assert_status 2
		assert_one_error
	done
	run --separate-stderr mreg show
	assert_status 2
	run --separate-stderr mreg show churn:1 churn:2
	assert_status 2
}

# The version the full listing calls latest: the last active one of `list --all`
# (sorted by creation time, then version), the definition show NAME must keep.
listed_latest() {
	mreg list -n "$1" --json | json_get '[x["version"] for x in d][-1] if d else ""'
}

@test "show NAME: the newest active version through archive, restore, delete and create, as the listing says" {
	mreg create -n churn -p model >/dev/null # churn:3
	check() {
		[[ "$(listed_latest churn)" == "$1" ]]
		[[ "$(mreg show churn --json | json_get 'd["version"]')" == "$1" ]]
		[[ "$(mreg show churn@latest --json | json_get 'd["version"]')" == "$1" ]]
	}
	check 3
	mreg archive churn:3 >/dev/null
	check 2025.11
	mreg archive churn:2025.11 >/dev/null
	check 2
	mreg delete churn:2 >/dev/null
	check 1
	mreg restore churn:3 >/dev/null
	check 3
	mreg create -n churn -p model >/dev/null
	check 4
	mreg archive churn >/dev/null
	run --separate-stderr mreg show churn
	assert_status 1
	assert_contains "$stderr" "model churn has no active version (4 archived"
}

@test "show NAME: a newest record that cannot be read is passed over, as the listing passes over it" {
	# damaged after its first lines: a peek at created_at reads it, the whole record does not
	printf -- '- path: [unclosed\n' >>"${MREG_DIR}/models/churn/2025.11.yaml"
	run --separate-stderr mreg show churn
	assert_status 0
	grep -Eq '^version: +2$' <<<"$output"
	# damaged from its first line
	printf 'name: [unclosed\n' >"${MREG_DIR}/models/churn/2.yaml"
	run --separate-stderr mreg show churn
	assert_status 0
	grep -Eq '^version: +1$' <<<"$output"
	printf 'name: [unclosed\n' >"${MREG_DIR}/models/churn/1.yaml"
	run --separate-stderr mreg show churn
	assert_status 1
	assert_contains "$stderr" "model churn: its records cannot be read (run mreg fsck)"
}

@test "show NAME: equal creation times are ordered by version (numbers as numbers); hand-edited records in any field order" {
	mreg create -n twin -p model -v 9 >/dev/null
	mreg create -n twin -p model -v 10 >/dev/null
	mreg create -n twin -p model -v 8 >/dev/null
	for v in 8 9 10; do
		sed -i 's/^created_at: .*/created_at: "2026-01-01T00:00:00.000000Z"/' "${MREG_DIR}/models/twin/$v.yaml"
	done
	[[ "$(listed_latest twin)" == 10 ]]
	[[ "$(mreg show twin --json | json_get 'd["version"]')" == 10 ]]
	# created_at and archived moved to the end, the latter in flow style
	"${PYTHON}" - "${MREG_DIR}/models/twin/10.yaml" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().splitlines()
keep = [l for l in lines if not l.startswith(("created_at:", "archived:"))]
open(p, "w").write("\n".join(keep + ['created_at: "2026-01-01T00:00:00.000000Z"', "archived: true"]) + "\n")
PY
	[[ "$(listed_latest twin)" == 9 ]]
	[[ "$(mreg show twin --json | json_get 'd["version"]')" == 9 ]]
}

@test "show NAME while another process creates and archives versions: never an archived one, and each new version at once" {
	(
		for i in $(seq 1 15); do
			mreg create -n race -p model >/dev/null
			mreg archive "race:$i" >/dev/null
		done
	) &
	writer=$!
	mreg create -n race -p model -v keep >/dev/null
	while kill -0 "$writer" 2>/dev/null; do
		out="$(mreg show race --json)" || fail "show failed while versions were created"
		v="$(json_get 'd["version"]' <<<"$out")"
		[[ "$(json_get 'd["archived"]' <<<"$out")" == false ]] || fail "show returned an archived version: $v"
	done
	wait "$writer"
	[[ "$(mreg show race --json | json_get 'd["version"]')" == keep ]]
	mreg create -n race -p model >/dev/null
	[[ "$(mreg show race --json | json_get 'd["version"]')" == 16 ]]
}
