#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The programs' --help and their man pages name the same options and
# commands: neither may mention one the other lacks. The man pages pass
# mandoc's lint; every source file names its license.
# Usage: docs.sh BUILD_DIR. Needs nothing but the built programs.
BUILD=${1:-build}
HERE=$(dirname "$0")
DOCS="$HERE/../docs"
PASSED=0
FAILED=0

# long options: "--name" in --help, ".Fl -name" in the man page
help_options() { "$1" --help | grep -o -- '--[a-z][a-z-]*' | sort -u; }
man_options() { grep -o 'Fl -[a-z][a-z-]*' "$1" | sed 's/^Fl /-/' | sort -u; }
# commands: the lowercase words of the usage lines, less options' values
# and protocol names; the .Cm words of the SYNOPSIS
help_commands() {
	"$1" --help | sed -n 's/^ *\(usage: \)\{0,1\}portleasectl //p' | sed 's/\[[^]]*\]//g' |
		tr ' |' '\n\n' | grep -E '^[a-z]+$' | grep -vxE 'tcp|udp|all' | sort -u
}
man_commands() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$1" | sed -n 's/^\.Cm //p' | tr ' |' '\n\n' |
		grep -E '^[a-z]+$' | grep -vxE 'tcp|udp|all' | sort -u
}

same() {
	if [ "$2" = "$3" ]; then
		PASSED=$((PASSED + 1))
		echo "ok - $1: $(echo "$2" | tr '\n' ' ')"
	else
		FAILED=$((FAILED + 1))
		echo "not ok - $1"
		echo "  --help only: $(echo "$2" | grep -vxF -e "$3" | tr '\n' ' ')"
		echo "  man page only: $(echo "$3" | grep -vxF -e "$2" | tr '\n' ' ')"
	fi
}

same "portleased --help and portleased(8) have the same options" \
	"$(help_options "$BUILD/portleased")" "$(man_options "$DOCS/portleased.8")"
same "portleasectl --help and portleasectl(8) have the same options" \
	"$(help_options "$BUILD/portleasectl")" "$(man_options "$DOCS/portleasectl.8")"
same "portleasectl --help and portleasectl(8) have the same commands" \
	"$(help_commands "$BUILD/portleasectl")" "$(man_commands "$DOCS/portleasectl.8")"
# The man pages as mandoc reads them: no warning (a misplaced macro renders
# the syntax wrongly).
for page in "$DOCS"/*.[58]; do
	lint=$(mandoc -T lint -W warning "$page" 2>&1)
	if [ -z "$lint" ]; then
		PASSED=$((PASSED + 1))
		echo "ok - mandoc -T lint: $(basename "$page") is clean"
	else
		FAILED=$((FAILED + 1))
		echo "not ok - mandoc -T lint: $(basename "$page")"
		echo "$lint" | sed 's/^/  /'
	fi
done

# Every source file names its license as LICENSE grants it (SPDX), in its
# first lines; test data and what builds write are not sources.
ROOT="$HERE/.."
unlicensed=$(find "$ROOT" \( -path "$ROOT/build" -o -path "$ROOT/.git" -o -name node_modules -o \
		-path "$ROOT/tests/fuzz/corpus" -o -path "$ROOT/debian/portleased" -o \
		-path "$ROOT/debian/build" -o -path "$ROOT/debian/.debhelper" \) -prune -o -type f \( -name '*.[ch]' -o \
		-name '*.sh' -o -name '*.py' -o -name '*.mjs' -o -name '*.nft' -o -name '*.conf' -o \
		-name '*.in' -o -name '*.[58]' -o -name Makefile -o -path "$ROOT/.ci/run" \) -print |
	while read -r f; do
		head -n 3 "$f" | grep -q 'SPDX-License-Identifier: GPL-2.0-or-later' || echo "$f"
	done)
missing=$(echo "$unlicensed" | sed '/^$/d'
	  grep -q 'GNU GENERAL PUBLIC LICENSE' "$ROOT/LICENSE" &&
		  grep -q 'Version 2, June 1991' "$ROOT/LICENSE" || echo "LICENSE (the GPL 2)")
if [ -z "$missing" ]; then
	PASSED=$((PASSED + 1))
	echo "ok - every source file carries its SPDX line, and LICENSE is the GPL 2"
else
	FAILED=$((FAILED + 1))
	echo "not ok - these lack their license: $(echo "$missing" | tr '\n' ' ')"
fi
echo "docs: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
