#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What a service manager hears (Type=notify, WatchdogSec=): READY=1 once
# serving, STATUS= with the mappings held, WATCHDOG=1 at half the interval
# asked, RELOADING=1 and READY=1 around a reload, STOPPING=1 at the end.
# A listener on a datagram socket plays systemd's $NOTIFY_SOCKET.
# Usage: systemd_notify.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR systemd_notify).
. "$(dirname "$0")/common.sh"

kill -TERM "$PORTLEASED_PID"; wait "$PORTLEASED_PID"
NOTIFY="$WORK/notify"
HEARD="$WORK/heard"
: > "$HEARD"
# Each datagram a line; it stops by itself after a minute.
python3 - "$NOTIFY" "$HEARD" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)  # as systemd's: the service's user sends too
s.settimeout(0.2)
end = time.time() + 60
with open(sys.argv[2], "a", buffering=1) as out:
    while time.time() < end:
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        out.write(data.decode(errors="replace").replace("\n", " ") + "\n")
PY
LISTENER=$!
i=0
while [ ! -S "$NOTIFY" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
# heard_within SECONDS PATTERN: a line matching PATTERN arrives in time.
heard_within() {
	i=0
	while [ $i -lt $(($1 * 10)) ]; do
		grep -q "$2" "$HEARD" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

NOTIFY_SOCKET="$NOTIFY" WATCHDOG_USEC=600000 start_portleased "$DAEMON" "$CONF" "$LOG" ||
	{ echo "not ok - portleased did not start"; exit 1; }
expect "READY=1 once serving" heard_within 2 '^READY=1$'
expect "  then STATUS= with what it holds" \
	heard_within 2 "^STATUS=0 mappings (0 IPv6 pinholes) for 0 hosts; external address $ROUTER_WAN_IP\$"
before=$(grep -c '^WATCHDOG=1$' "$HEARD")
sleep 1.5
after=$(grep -c '^WATCHDOG=1$' "$HEARD")
expect "WATCHDOG=1 at half of WATCHDOG_USEC (0.6 s): $((after - before)) in 1.5 s" \
	check '[ $((after - before)) -ge 3 ] && [ $((after - before)) -le 7 ]'
got=$(natpmpc_map "$NS_LAN1" 8080 8080 tcp 600)
expect "a mapping ($got) shows in STATUS= within a second" \
	heard_within 1 "^STATUS=1 mapping (0 IPv6 pinholes) for 1 host; external address $ROUTER_WAN_IP\$"
lines=$(wc -l < "$HEARD")
out=$(ctl reload 2>&1)
expect "a reload is RELOADING=1, then READY=1 ($out)" \
	check 'tail -n +$((lines + 1)) "$HEARD" | grep -v "^WATCHDOG=1$" | head -n 2 | tr "\n" " " | grep -qx "RELOADING=1 READY=1 "'
kill -TERM "$PORTLEASED_PID"; wait "$PORTLEASED_PID"
expect "SIGTERM: STOPPING=1" heard_within 1 '^STOPPING=1$'
# WATCHDOG_PID naming another process: that watchdog is not ours.
: > "$HEARD"
NOTIFY_SOCKET="$NOTIFY" WATCHDOG_USEC=600000 WATCHDOG_PID=1 start_portleased "$DAEMON" "$CONF" "$LOG" ||
	{ echo "not ok - portleased did not start"; exit 1; }
sleep 1
expect "with WATCHDOG_PID of another process, no WATCHDOG=1, still READY=1" \
	check 'grep -q "^READY=1$" "$HEARD" && ! grep -q "^WATCHDOG=1$" "$HEARD"'
kill -TERM "$PORTLEASED_PID"; wait "$PORTLEASED_PID"
kill "$LISTENER" 2>/dev/null

summary systemd_notify
