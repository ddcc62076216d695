#!/bin/sh
# Assertions that cannot fail: bash's errexit (which bats relies on) ignores a
# command negated with '!', so a line `! grep -q x file` in the middle of a
# test passes whatever grep finds. Each such line must end in `|| fail ...`
# (or `|| false`). Prints every offending line as FILE:LINE: TEXT (TAP).
# Usage: lint_asserts.sh FILE...
status=0
echo "1..1"
if grep -nE '^[[:space:]]*!([[:space:]]|$)' "$@" | grep -vE '\|\|[[:space:]]*(fail|false|return|exit)' >&2; then
	echo "not ok 1 - negated commands above cannot fail a test: add '|| fail \"...\"'"
	status=1
else
	echo "ok 1 - every negated command in the CLI tests can fail its test"
fi
exit $status
