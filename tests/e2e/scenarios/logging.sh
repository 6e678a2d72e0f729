#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Logging under systemd: when standard error is the journal's stream (as
# JOURNAL_STREAM names it), every line of both processes carries its syslog
# priority as "<N>" and no time of its own, so that journalctl -p filters
# them: audit lines at notice, problems at warning and error.
# Usage: logging.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR logging).
. "$(dirname "$0")/common.sh"

kill -TERM "$PORTLEASED_PID"; wait "$PORTLEASED_PID"
JOURNAL="$WORK/journal"
: > "$JOURNAL"
# What systemd does for a unit's stderr: the stream's device and inode.
JOURNAL_STREAM=$(stat -c '%d:%i' "$JOURNAL")
export JOURNAL_STREAM
LOG="$JOURNAL"
start_portleased "$DAEMON" "$CONF" "$JOURNAL" || { echo "not ok - portleased did not start"; exit 1; }
got=$(natpmpc_map "$NS_LAN1" 8080 8080 tcp 600)
in_lan2 "$PROBE" "$ROUTER_LAN_IP" map tcp 2222 2222 600 > /dev/null
expect "a grant ($got) is in the journal at priority notice (5)" \
	grep -q "^<5>audit event=granted origin=natpmp proto=tcp client=$LAN1_IP " "$JOURNAL"
expect "  a refusal too" grep -q "^<5>audit event=refused origin=natpmp proto=tcp client=$LAN2_IP " "$JOURNAL"
expect "  the start at info (6)" grep -q "^<6>portleased .* running\$" "$JOURNAL"
expect "  with -v, debug lines at 7" grep -q "^<7>" "$JOURNAL"
kill -TERM "$PORTLEASED_PID"; wait "$PORTLEASED_PID"
unprefixed=$(grep -cv '^<[0-7]>' "$JOURNAL")
expect "every line of both processes has its priority, none a time of ours ($unprefixed without)" \
	check '[ "$unprefixed" = 0 ] && ! grep -qE "^<[0-7]>[0-9]{2}:[0-9]{2}:[0-9]{2}" "$JOURNAL"'
echo 'external_interface = "wan0"; lan_interfaces = [ "wan0" ]; policy = ();' > "$WORK/bad.conf"
: > "$JOURNAL"
ip netns exec "$NS_ROUTER" "$DAEMON" -d -f "$WORK/bad.conf" >> "$JOURNAL" 2>&1
expect "a configuration it cannot start with is an error (3), with file:line" \
	grep -q "^<3>$WORK/bad.conf:1: 'wan0' is the external interface" "$JOURNAL"
unset JOURNAL_STREAM
out=$(ip netns exec "$NS_ROUTER" "$DAEMON" -d -f "$WORK/bad.conf" 2>&1)
expect "on a terminal or in a file: a time, the process and the level ($out)" \
	check 'echo "$out" | grep -qE "^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} portleased error: $WORK/bad.conf:1: "'

summary logging
