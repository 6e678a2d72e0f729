#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The e2e scenarios: each a script of tests/e2e/scenarios/ that builds its
# own namespaces and starts its own portleased, so any one runs alone and
# in any order. Usage: scenario.sh BUILD_DIR [NAME...] (all of them without
# a NAME). Needs root. A failed scenario's daemon log is kept in
# BUILD_DIR/e2e-logs/NAME.log.
set -u

BUILD=${1:-build}
[ $# -gt 0 ] && shift
HERE=$(dirname "$0")
if [ $# -eq 0 ]; then
	for f in "$HERE"/scenarios/*.sh; do
		name=$(basename "$f" .sh)
		[ "$name" = common ] || set -- "$@" "$name"
	done
fi
failed=""
for name; do
	echo "== scenario $name"
	if [ ! -f "$HERE/scenarios/$name.sh" ]; then
		echo "not ok - there is no scenario $name (tests/e2e/scenarios/)"
		failed="$failed $name"
		continue
	fi
	rm -f "$BUILD/e2e-logs/$name.log"
	KEEP_LOG="$BUILD/e2e-logs/$name.log" sh "$HERE/scenarios/$name.sh" "$BUILD" ||
		failed="$failed $name"
done
echo
if [ -n "$failed" ]; then
	echo "scenarios failed:$failed (their daemon logs: $BUILD/e2e-logs/)"
	exit 1
fi
echo "scenarios: all $# passed"
