#!/usr/bin/env bats
# mreg completion: scripts generated from the option tables of --help, so
# every command and option --help shows is completed, in bash (run here),
# zsh and fish (checked for syntax where those shells are installed).

load helpers

setup() {
	setup_store
	make_model model
	mreg create -n churn -p model >/dev/null
}

# complete WORDS...: run the bash completion for the command line WORDS (the
# last one being completed) and print COMPREPLY, one per line.
complete_bash() {
	mkdir -p bin && ln -sf "$MREG" bin/mreg
	PATH="$PWD/bin:$PATH" bash -c '
		source <("$MREG" completion bash)
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_mreg
		printf "%s\n" "${COMPREPLY[@]}"
	' complete "$@"
}

@test "bash: commands, a command's options, model types and references" {
	run complete_bash mreg cr
	assert_status 0
	[[ "$output" == "create" ]] || fail "got: $output"
	run complete_bash mreg create --ta
	[[ "$output" == "--tag" ]] || fail "got: $output"
	run complete_bash mreg create -t ""
	[[ "$output" == $'custom_model\nmlflow_model\ntriton_model' ]] || fail "got: $output"
	run complete_bash mreg --store "$MREG_DIR" show ch
	assert_contains "$output" "churn:1"
	assert_contains "$output" "churn@latest"
	run complete_bash mreg diff churn:1 mod
	assert_contains "$output" "model"
}

@test "every command and every option of --help is in the completion scripts" {
	bash_script="$(mreg completion bash)"
	fish_script="$(mreg completion fish)"
	commands="$(mreg --help | awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }')"
	[[ -n "$commands" ]] || fail "no commands in mreg --help"
	for c in $commands; do
		assert_contains "$bash_script" "	$c)"
		assert_contains "$fish_script" "-a $c -d"
		# The option lines of --help: "  -x, --name ARG" or "      --name ARG".
		for opt in $(mreg "$c" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+'); do
			assert_contains "$bash_script" "$opt"
			grep -qF -- "-l ${opt#--}" <<<"$(grep -F "from $c'" <<<"$fish_script")" ||
				fail "fish: $c has no $opt"
		done
	done
}

@test "zsh and fish scripts parse; an unknown shell is a usage error" {
	run --separate-stderr mreg completion tcsh
	assert_status 2
	assert_contains "$stderr" "unknown shell 'tcsh' (bash, zsh or fish)"
	mreg completion bash | bash -n || fail "the bash script does not parse"
	if command -v zsh >/dev/null; then
		mreg completion zsh | zsh -n || fail "the zsh script does not parse"
	fi
	if command -v fish >/dev/null; then
		mreg completion fish | fish -n || fail "the fish script does not parse"
	fi
}
