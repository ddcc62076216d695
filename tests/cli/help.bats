#!/usr/bin/env bats
# --help for every command, and the top-level usage.

load helpers

COMMANDS=(init create list show update archive restore delete download validate fsck gc)

setup() {
	common_setup
}

@test "mreg --help lists every command and exits 0" {
	run --separate-stderr mreg --help
	assert_status 0
	[[ "${lines[0]}" == "Usage: mreg "* ]]
	[[ -z "$stderr" ]]
	for c in "${COMMANDS[@]}"; do
		# each command on its own line: "  NAME  summary"
		grep -Eq "^  ${c} +[A-Z]" <<<"$output" || fail "command '$c' missing from mreg --help"
	done
}

@test "mreg -h is mreg --help" {
	run --separate-stderr mreg -h
	assert_status 0
	[[ "${lines[0]}" == "Usage: mreg "* ]]
}

@test "mreg CMD --help prints its usage and options, exit 0, for every command" {
	for c in "${COMMANDS[@]}"; do
		run --separate-stderr mreg "$c" --help
		assert_status 0
		[[ "${lines[0]}" == "Usage: mreg ${c} "* || "${lines[0]}" == "Usage: mreg ${c}" ]] ||
			fail "mreg $c --help: first line is '${lines[0]}'"
		assert_contains "$output" "Options:"
		assert_contains "$output" "--help"
		[[ -z "$stderr" ]] || fail "mreg $c --help wrote on stderr: $stderr"
	done
}

@test "every command mreg --help lists has its own --help" {
	run --separate-stderr mreg --help
	listed="$(sed -n '/^Commands:/,/^$/p' <<<"$output" | awk 'NF > 1 { print $1 }')"
	[[ "$(wc -l <<<"$listed")" -ge "${#COMMANDS[@]}" ]]
	for c in $listed; do
		run --separate-stderr mreg "$c" --help
		assert_status 0
		[[ "${lines[0]}" == "Usage: mreg ${c}"* ]] || fail "mreg $c --help: '${lines[0]}'"
	done
}

@test "mreg help CMD is mreg CMD --help" {
	run --separate-stderr mreg help create
	assert_status 0
	[[ "${lines[0]}" == "Usage: mreg create "* ]]
}

@test "--help works without a store" {
	unset MREG_DIR
	run --separate-stderr mreg list --help
	assert_status 0
	[[ "${lines[0]}" == "Usage: mreg list"* ]]
}

@test "--help documents the options the contract names" {
	run mreg create --help
	for o in --name --path --type --version --file --description --tag --property --stage; do
		assert_contains "$output" "$o"
	done
	run mreg update --help
	for o in --description --tag --remove-tag --stage; do
		assert_contains "$output" "$o"
	done
	run mreg list --help
	for o in --name --archived --all --json; do
		assert_contains "$output" "$o"
	done
	run mreg download --help
	assert_contains "$output" "--output"
	run mreg gc --help
	assert_contains "$output" "--dry-run"
}

@test "no command: usage on stderr, exit 2" {
	run --separate-stderr mreg
	assert_status 2
	[[ -z "$output" ]]
	assert_contains "$stderr" "Usage: mreg"
}

@test "unknown command: exit 2, names it" {
	run --separate-stderr mreg frobnicate
	assert_status 2
	assert_one_error "frobnicate" "not a command"
	[[ -z "$output" ]]
}

@test "unknown option: exit 2, names it (global and per command)" {
	run --separate-stderr mreg --frob list
	assert_status 2
	assert_contains "$stderr" "--frob"
	for c in "${COMMANDS[@]}"; do
		run --separate-stderr mreg "$c" --no-such-option
		assert_status 2
		assert_one_error "mreg $c:" "unknown option" "--no-such-option"
	done
}

@test "an option missing its value: exit 2" {
	run --separate-stderr mreg create -n
	assert_status 2
	assert_one_error "needs a value"
}

@test "--version prints the version" {
	run --separate-stderr mreg --version
	assert_status 0
	[[ "$output" =~ ^mreg\ [0-9]+\.[0-9]+\.[0-9]+ ]]
}

@test "-q on every command: in --help, and nothing on stdout, errors still on stderr" {
	for c in $(mreg --help | awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }'); do
		mreg "$c" --help | grep -qE -- '^ +-q, --quiet' || fail "$c --help has no -q"
	done
	setup_store
	make_model model
	run --separate-stderr mreg create -q -n churn -p model
	assert_status 0
	[[ -z "$output" && -z "$stderr" ]] || fail "create -q printed: $output $stderr"
	run --separate-stderr mreg create -n churn -p model -q
	assert_status 0
	[[ -z "$stderr" ]] || fail "create -q printed the same-content note: $stderr"
	for cmd in "list" "show churn:1" "show churn:1 --json" "diff churn:1 model" "fsck" "gc" \
		"download churn:1 -o out" "package churn:1 -o b.tar" "verify b.tar" "alias churn:1 prod" \
		"update churn:1 --stage Production" "archive churn:1" "restore churn:1"; do
		run --separate-stderr mreg $cmd -q
		[[ -z "$output" ]] || fail "mreg $cmd -q printed: $output"
		[[ -z "$stderr" ]] || fail "mreg $cmd -q printed on stderr: $stderr"
	done
	# The exit status tells the rest; errors still reach stderr.
	mkdir bad && printf 'flavors: [\n' >bad/MLmodel
	run --separate-stderr mreg validate -q bad
	assert_status 1
	[[ -z "$output" ]] || fail "validate -q printed: $output"
	run --separate-stderr mreg show -q churn:9
	assert_status 1
	assert_one_error "model churn has no version 9"
}

@test "one grammar: no short letter and no long option means two things across commands" {
	declare -A short_long long_arg
	local c line s l a kind bad=""
	for c in $(mreg --help | awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }'); do
		while IFS= read -r line; do
			s="" l="" a=""
			if [[ "$line" =~ ^-([a-zA-Z]),\ --([a-z0-9-]+)(\ ([A-Z_=|.]+))? ]]; then
				s="${BASH_REMATCH[1]}" l="${BASH_REMATCH[2]}" a="${BASH_REMATCH[4]}"
			elif [[ "$line" =~ ^--([a-z0-9-]+)(\ ([A-Z_=|.]+))? ]]; then
				l="${BASH_REMATCH[1]}" a="${BASH_REMATCH[3]}"
			else
				continue
			fi
			kind="$([[ -n "$a" ]] && echo value || echo flag)"
			if [[ -n "$s" ]]; then
				[[ -z "${short_long[$s]:-}" || "${short_long[$s]}" == "$l" ]] ||
					bad+="-$s is --${short_long[$s]} in one command and --$l in $c"$'\n'
				short_long[$s]="$l"
			fi
			[[ -z "${long_arg[$l]:-}" || "${long_arg[$l]}" == "$kind" ]] ||
				bad+="--$l takes a ${long_arg[$l]} in one command and is a $kind in $c"$'\n'
			long_arg[$l]="$kind"
		done < <(mreg "$c" --help | grep -E '^ +(-[a-zA-Z], )?--' | sed -E 's/^ +//')
	done
	[[ -z "$bad" ]] || fail "two meanings:"$'\n'"$bad"
	[[ "${short_long[f]}" == file && "${short_long[p]}" == path ]] || fail "-f/-p: ${short_long[f]} ${short_long[p]}"
}

@test "old spellings still work for a release, with a note, and are shown nowhere" {
	setup_store
	make_model model
	mreg create -n m -p model >/dev/null
	run --separate-stderr mreg keygen -W -s k.key -p k.pub
	assert_status 0
	assert_contains "$stderr" "mreg keygen: note: '-p' is the old spelling of --pubkey; it will stop working in a later release"
	[[ -f k.pub ]] || fail "no public key written"
	run --separate-stderr mreg keygen -W -f -s k.key --public-key k.pub
	assert_status 0
	assert_contains "$stderr" "'-f' is the old spelling of --force"
	assert_contains "$stderr" "'--public-key' is the old spelling of --pubkey"
	mreg package m:1 -o b.tar >/dev/null
	run --separate-stderr mreg package m:1 -o b.tar -f -q
	assert_status 0
	[[ -z "$stderr" ]] || fail "-q shows no note: $stderr"
	run --separate-stderr mreg package m:1 -o b.tar -f
	assert_contains "$stderr" "mreg package: note: '-f' is the old spelling of --force"
	for c in keygen package; do
		mreg "$c" --help | grep -qE -- '-f,|public-key' && fail "$c --help shows an old spelling"
		mreg completion bash | grep -q -- '--public-key' && fail "the completion shows --public-key"
	done
	true
}
