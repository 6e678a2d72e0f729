# SPDX-License-Identifier: GPL-2.0-or-later
# The test harness of the e2e scripts, sourced after netns.sh: counting,
# reporting, cleanup. The script sets WORK (a temporary directory) and LOG
# (the log to show when a check fails) before its first check.

PASSED=0
FAILED=0
# The daemon gives up root for the config's user (nobody here), and still
# writes its lease file and listens on its control socket in WORK.
chown nobody "$WORK"

# KEEP_LOG (set by scenario.sh): where the daemon's log goes if a check
# failed, since WORK does not outlive the script.
cleanup() {
	if [ -n "${KEEP_LOG:-}" ] && [ "$FAILED" -gt 0 ] && [ -f "$LOG" ]; then
		mkdir -p "$(dirname "$KEEP_LOG")"
		cp "$LOG" "$KEEP_LOG"
	fi
	net_teardown
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok()   { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; echo "  --- $LOG (last 15 lines):"; tail -n 15 "$LOG" 2>/dev/null | sed 's/^/  /'; }
expect() { desc=$1; shift; if "$@"; then ok "$desc"; else fail "$desc"; fi; }
# check 'COND && COND': for expect, so that every part of a compound
# condition is tested (expect "d" [ a ] && [ b ] would test only [ a ]).
check() { eval "$1"; }
# field KEY "k=v k=v": a value of portleasectl's output.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# summary NAME: the last line, and the exit status.
summary() {
	echo
	echo "$1: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
