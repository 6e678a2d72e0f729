#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The e2e scenarios: each a script of tests/e2e/scenarios/ that builds its
# own namespaces and starts its own portleased, so any one runs alone and
# in any order, and several at once (SCENARIO_JOBS, default 3: most of a
# scenario's time is waiting on the network). Usage: scenario.sh BUILD_DIR
# [NAME...] (all of them without a NAME). Needs root. Each scenario's
# output is printed whole when it ends; a failed one's daemon log is kept
# in BUILD_DIR/e2e-logs/NAME.log.
set -u

BUILD=${1:-build}
[ $# -gt 0 ] && shift
HERE=$(dirname "$0")
JOBS=${SCENARIO_JOBS:-3}
LOGS="$BUILD/e2e-logs"
# The longest first, so that the short ones fill in around them.
LONGEST="upstream upnp security firewalls bursts clients restart"
if [ $# -eq 0 ]; then
	for name in $LONGEST; do
		[ -f "$HERE/scenarios/$name.sh" ] && set -- "$@" "$name"
	done
	for f in "$HERE"/scenarios/*.sh; do
		name=$(basename "$f" .sh)
		case " common $LONGEST " in *" $name "*) continue ;; esac
		set -- "$@" "$name"
	done
fi
mkdir -p "$LOGS"
for name; do
	rm -f "$LOGS/$name.log" "$LOGS/$name.out" "$LOGS/$name.failed"
done
# One scenario: its output to a file, shown whole (under a lock, so that
# two that end together do not interleave) when it ends.
run_one() {
	name=$1
	if [ ! -f "$HERE/scenarios/$name.sh" ]; then
		echo "not ok - there is no scenario $name (tests/e2e/scenarios/)" > "$LOGS/$name.out"
		: > "$LOGS/$name.failed"
	else
		KEEP_LOG="$LOGS/$name.log" sh "$HERE/scenarios/$name.sh" "$BUILD" > "$LOGS/$name.out" 2>&1 ||
			: > "$LOGS/$name.failed"
	fi
	flock "$LOGS" sh -c 'echo "== scenario $1"; cat "$2"' - "$name" "$LOGS/$name.out"
}
# alive PIDS: how many of them still run (dash has neither wait -n nor
# jobs in a command substitution).
alive() {
	n=0
	for p; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
	echo $n
}
pids=""
for name; do
	while [ "$(alive $pids)" -ge "$JOBS" ]; do sleep 0.2; done
	run_one "$name" &
	pids="$pids $!"
done
wait
failed=""
for name; do
	[ -f "$LOGS/$name.failed" ] && failed="$failed $name"
done
echo
if [ -n "$failed" ]; then
	echo "scenarios failed:$failed (their output and daemon logs: $LOGS/)"
	exit 1
fi
echo "scenarios: all $# passed"
