#!/bin/sh
# The man pages say what the program does. For every command 'mreg --help'
# lists: it has a page (man/mreg-CMD.1.scd, or the page whose NAME line lists
# mreg-CMD, as mreg-archive(1) lists mreg-restore); mreg(1) points at that
# page and so does the last line of 'mreg CMD --help'; the page's OPTIONS
# section documents every option 'mreg CMD --help' lists, long and short and
# paired as --help pairs them, and no option --help does not list. Also:
# mreg(1) documents exactly the global options of 'mreg --help'; every
# mreg-*.1 page is about commands that exist; man/meson.build builds every
# page in man/. TAP, one test per command and one per other check.
# Usage: MREG=path/to/mreg man_options.sh MAN_DIR
LC_ALL=C
export LC_ALL
man=${1:?usage: MREG=mreg man_options.sh MAN_DIR}
: "${MREG:?set MREG to the mreg binary}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/man-options.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

ok() { # STATUS DESCRIPTION: STATUS 0 is ok; prints the diagnostics in $tmp/why
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		sed 's/^/# /' "$tmp/why"
		failed=1
	fi
	: >"$tmp/why"
}
why() { echo "$*" >>"$tmp/why"; }

# The lines of section $2 of page $1 ("# OPTIONS" up to the next "# ").
section() {
	awk -v s="# $2" '/^# / { on = ($0 == s); next } on' "$1"
}

# The options a --help text documents, one per line: "-x --long" or "--long".
help_options() {
	sed -n '/^Options:$/,/^$/p' |
		sed -nE 's/^ +(-([A-Za-z0-9]), )?(--[a-z0-9][a-z0-9-]*).*/\2 \3/p' |
		sed -E 's/^([A-Za-z0-9]) /-\1 /; s/^ //'
}

# The options an OPTIONS section defines, in the same form: a definition is a
# line at column 0 that starts with *-; "*-x*, *--long*" pairs a short option
# with a long one.
man_options() {
	awk '/^\*-/ {
		s = $0
		while (match(s, /\*-[A-Za-z0-9]\*(, \*--[a-z0-9][a-z0-9-]*)?|\*--[a-z0-9][a-z0-9-]*/)) {
			t = substr(s, RSTART, RLENGTH)
			s = substr(s, RSTART + RLENGTH)
			gsub(/\*/, "", t)
			sub(/, /, " ", t)
			if (t ~ /^-[A-Za-z0-9]$/)
				t = t " (no long option)" # a short option alone still counts
			print t
		}
	}'
}

page_of() { # CMD: the page that documents it
	if [ -f "$man/mreg-$1.1.scd" ]; then
		echo "$man/mreg-$1.1.scd"
		return
	fi
	for p in "$man"/mreg-*.1.scd; do
		section "$p" NAME | grep -Eq "^(mreg-[a-z]+, )*mreg-$1(, mreg-[a-z]+)* - " &&
			{ echo "$p"; return; }
	done
}

echo "1..$(($("$MREG" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1' | wc -l) + 3))"

"$MREG" --help >"$tmp/help" || why "mreg --help failed"
sed -n '/^Commands:/,/^$/p' "$tmp/help" | awk 'NF > 1 { print $1 }' >"$tmp/commands"
[ -s "$tmp/commands" ] || why "mreg --help lists no command"

for c in $(cat "$tmp/commands"); do
	page=$(page_of "$c")
	if [ -z "$page" ]; then
		why "no man/mreg-$c.1.scd, and no page lists mreg-$c in its NAME"
		ok 1 "mreg $c: has a man page"
		continue
	fi
	p=$(basename "$page" .1.scd)
	grep -q "\*$p\*(1)" "$man/mreg.1.scd" || why "mreg.1.scd does not point at *$p*(1)"
	"$MREG" "$c" --help >"$tmp/cmd-help" || why "mreg $c --help failed"
	grep -q "^See $p(1)\.\$" "$tmp/cmd-help" || why "mreg $c --help does not end with 'See $p(1).'"
	help_options <"$tmp/cmd-help" | sort -u >"$tmp/h"
	section "$page" OPTIONS | man_options | sort -u >"$tmp/m"
	[ -s "$tmp/h" ] || why "mreg $c --help lists no option"
	[ -s "$tmp/m" ] || why "$p: no option in its OPTIONS section"
	comm -23 "$tmp/h" "$tmp/m" | sed "s|^|$p: OPTIONS does not document (as --help has it): |" >>"$tmp/why"
	comm -13 "$tmp/h" "$tmp/m" | sed "s|^|$p: OPTIONS documents what 'mreg $c --help' does not list: |" >>"$tmp/why"
	[ ! -s "$tmp/why" ]
	ok $? "mreg $c: $p.1 documents the $(wc -l <"$tmp/h") options of --help, and no other"
done

# mreg(1): the global options of 'mreg --help'.
sed -n '/^Global options:$/,/^$/p' "$tmp/help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u >"$tmp/h"
section "$man/mreg.1.scd" "GLOBAL OPTIONS" | man_options | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u >"$tmp/m"
[ -s "$tmp/h" ] || why "mreg --help lists no global option"
comm -23 "$tmp/h" "$tmp/m" | sed 's|^|mreg.1: GLOBAL OPTIONS does not document |' >>"$tmp/why"
comm -13 "$tmp/h" "$tmp/m" | sed "s|^|mreg.1: GLOBAL OPTIONS documents what 'mreg --help' does not list: |" >>"$tmp/why"
[ ! -s "$tmp/why" ]
ok $? "mreg(1) documents the global options of mreg --help, and no other"

# No page for a command that does not exist (a renamed or removed one).
for page in "$man"/mreg-*.1.scd; do
	[ -e "$page" ] || continue
	p=$(basename "$page" .1.scd)
	section "$page" NAME | grep -oE 'mreg-[a-z]+' | sed 's/^mreg-//' | sort -u | while read -r c; do
		grep -qx "$c" "$tmp/commands" || echo "$p: mreg $c is not a command of mreg --help"
	done >>"$tmp/why"
done
[ ! -s "$tmp/why" ]
ok $? "every mreg-*.1 page names commands that exist"

# Every page is built (and installed) by man/meson.build.
for page in "$man"/*.scd; do
	grep -q "'$(basename "$page")'" "$man/meson.build" || why "man/meson.build does not build $(basename "$page")"
done
[ ! -s "$tmp/why" ]
ok $? "man/meson.build builds every page in man/"

exit $failed
