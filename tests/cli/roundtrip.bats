#!/usr/bin/env bats
# The round-trip conformance suite: every model folder of the shared corpus
# (../shared/corpus: each Triton case of CASES.tsv, each MLflow folder holding
# an MLmodel file) goes create -> download, package -> unpack and push -> pull
# (a real docker-registry on loopback) -> download, and each copy must be the
# source tree entry for entry (files with their bytes and modes, empty folders
# with theirs, symbolic links; see treetool.py list) and get the same verdict
# from `mreg validate` as the source. Deliberately invalid cases are created
# with --no-validate. The corpus is read where it lies; only Triton's is first
# copied to a temporary folder as its `materialize` script does, which
# recreates the empty version folders that git cannot hold. Skipped when
# ../shared is absent. Slow (a few minutes on 2 cores): `meson test --suite slow`.

load helpers
load registry

TREETOOL="${BATS_TEST_DIRNAME}/treetool.py"
SHARED="${MREG_SHARED_DIR:-${BATS_TEST_DIRNAME}/../../../shared}"
CORPUS="${SHARED}/corpus"

setup_file() {
	export RT="${BATS_FILE_TMPDIR}/rt"
	[[ -d "$CORPUS" ]] || return 0
	mkdir -p "$RT/triton"
	# What the corpus's own `materialize` script does (copy, then make the
	# folders LAYOUT.tsv lists), with u+w on the copied folders first: the
	# corpus is read-only, and without root mkdir inside a 0555 copy fails.
	cp -R "$CORPUS/triton/." "$RT/triton/"
	find "$RT/triton" -type d -exec chmod u+w {} +
	awk -F'\t' '$2 == "dir" { print $1 }' "$CORPUS/triton/LAYOUT.tsv" | while IFS= read -r d; do
		mkdir -p "$RT/triton/$d"
	done
	# cases: NAME<TAB>TYPE<TAB>SOURCE, one per model folder.
	awk -F'\t' -v root="$RT/triton" 'NR > 1 && $1 != "" { printf "t%03d\ttriton_model\t%s/%s\n", ++n, root, $1 }' \
		"$RT/triton/CASES.tsv" >"$RT/cases"
	find "$CORPUS/mlflow" -type f -name MLmodel | sed 's|/MLmodel$||' | LC_ALL=C sort |
		awk -v OFS='\t' '{ printf "m%03d\tmlflow_model\t%s\n", ++n, $0 }' >>"$RT/cases"
}

setup() {
	common_setup
	[[ -d "$CORPUS" ]] || skip "$CORPUS is absent"
	export MREG_DIR="$RT/store"
}

teardown() {
	stop_registry
}

# verdict TYPE DIR: the exit status of `mreg validate -t TYPE DIR`.
verdict() {
	local v=0
	"${MREG}" validate -t "$1" "$2" >/dev/null 2>&1 || v=$?
	echo "$v"
}

# check_copies KIND: compare every (source, copy) pair listed in $RT/KIND.pairs
# and every verdict in $RT/KIND.verdicts ("NAME SOURCE-VERDICT COPY-VERDICT").
check_copies() {
	local kind="$1" out bad
	out="$("$PYTHON" "$TREETOOL" compare "$RT/$kind.pairs")" ||
		fail "$kind: copies that are not their source: $out"
	bad="$(awk '$2 != $3' "$RT/$kind.verdicts")"
	[[ -z "$bad" ]] || fail "$kind: verdicts that differ (name, source, copy): $bad"
	echo "# $kind: $(wc -l <"$RT/$kind.pairs") copies identical to their sources, same verdicts" >&3
}

# copy_path DIR NAME SOURCE: where the copy of SOURCE goes, named as the
# source (Triton wants a model's folder named as the model).
copy_path() {
	echo "$RT/$1/$2/$(basename "$3")"
}

@test "create: every model folder of the corpus is registered (the invalid ones with --no-validate)" {
	local name type src v nv failed="" n=0 invalid=0 dirs
	rm -rf "$MREG_DIR"
	mreg init >/dev/null
	: >"$RT/source.verdicts"
	while IFS=$'\t' read -r name type src; do
		n=$((n + 1))
		v="$(verdict "$type" "$src")"
		nv=()
		[[ "$v" == 0 ]] || { nv=(--no-validate); invalid=$((invalid + 1)); }
		echo "$name $v" >>"$RT/source.verdicts"
		mreg create -n "$name" -p "$src" -t "$type" "${nv[@]}" >/dev/null 2>"$RT/err" ||
			failed+=$'\n'"$name $src: $(cat "$RT/err")"
	done <"$RT/cases"
	[[ -z "$failed" ]] || fail "create failed:$failed"
	# The corpus does hold empty folders (Triton's ensembles), and they are recorded.
	dirs="$(cat "$MREG_DIR"/models/*/1.yaml | grep -c '^dirs:')"
	[[ "$dirs" -gt 0 ]] || fail "no record lists an empty folder"
	[[ "$n" -gt 250 ]] || fail "only $n cases"
	echo "# $n cases ($(grep -c triton_model "$RT/cases") Triton, $(grep -c mlflow_model "$RT/cases") MLflow), $invalid invalid, $dirs with empty folders" >&3
}

@test "create -> download: every copy is its source, with the same verdict" {
	[[ -s "$RT/source.verdicts" ]] || skip "needs the create test"
	local name type src out
	: >"$RT/download.pairs"
	: >"$RT/download.verdicts"
	while IFS=$'\t' read -r name type src; do
		out="$(copy_path download "$name" "$src")"
		mreg download "$name:1" -o "$out" >/dev/null 2>"$RT/err" ||
			fail "download $name ($src): $(cat "$RT/err")"
		printf '%s\t%s\n' "$src" "$out" >>"$RT/download.pairs"
		echo "$name $(grep "^$name " "$RT/source.verdicts" | cut -d' ' -f2) $(verdict "$type" "$out")" \
			>>"$RT/download.verdicts"
	done <"$RT/cases"
	check_copies download
}

@test "package -> unpack: every copy is its source, with the same verdict" {
	[[ -s "$RT/source.verdicts" ]] || skip "needs the create test"
	local name type src out
	: >"$RT/unpack.pairs"
	: >"$RT/unpack.verdicts"
	mkdir -p "$RT/bundles"
	while IFS=$'\t' read -r name type src; do
		out="$(copy_path unpack "$name" "$src")"
		mreg package "$name:1" -o "$RT/bundles/$name.tar" >/dev/null 2>"$RT/err" ||
			fail "package $name ($src): $(cat "$RT/err")"
		mreg unpack "$RT/bundles/$name.tar" -o "$RT/unpack/$name" >/dev/null 2>"$RT/err" ||
			fail "unpack $name ($src): $(cat "$RT/err")"
		# unpack writes DIR/model and DIR/model.yml; the folder takes the source's name back.
		[[ "$out" == "$RT/unpack/$name/model" ]] || mv "$RT/unpack/$name/model" "$out"
		printf '%s\t%s\n' "$src" "$out" >>"$RT/unpack.pairs"
		echo "$name $(grep "^$name " "$RT/source.verdicts" | cut -d' ' -f2) $(verdict "$type" "$out")" \
			>>"$RT/unpack.verdicts"
	done <"$RT/cases"
	rm -rf "$RT/bundles"
	check_copies unpack
}

@test "push -> pull into a fresh store -> download: every copy is its source, with the same verdict" {
	[[ -s "$RT/source.verdicts" ]] || skip "needs the create test"
	start_registry
	local name type src out pulled="$RT/pulled/.mreg"
	rm -rf "$RT/pulled"
	MREG_DIR="$pulled" mreg init >/dev/null
	: >"$RT/pull.pairs"
	: >"$RT/pull.verdicts"
	while IFS=$'\t' read -r name type src; do
		out="$(copy_path pull "$name" "$src")"
		mreg push "$name:1" "$REG/rt/$name" --plain-http >/dev/null 2>"$RT/err" ||
			fail "push $name ($src): $(cat "$RT/err")"
		MREG_DIR="$pulled" mreg pull "$REG/rt/$name:1" --plain-http >/dev/null 2>"$RT/err" ||
			fail "pull $name ($src): $(cat "$RT/err")"
		MREG_DIR="$pulled" mreg download "$name:1" -o "$out" >/dev/null 2>"$RT/err" ||
			fail "download $name after pull ($src): $(cat "$RT/err")"
		printf '%s\t%s\n' "$src" "$out" >>"$RT/pull.pairs"
		echo "$name $(grep "^$name " "$RT/source.verdicts" | cut -d' ' -f2) $(verdict "$type" "$out")" \
			>>"$RT/pull.verdicts"
	done <"$RT/cases"
	check_copies pull
	# The pulled records are the created ones: same content digests.
	diff <(mreg list --json | json_get 'sorted((v["name"], v["digest"]) for v in d)') \
		<(MREG_DIR="$pulled" mreg list --json | json_get 'sorted((v["name"], v["digest"]) for v in d)') ||
		fail "pulled digests differ from the created ones"
}
