#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Started as root without a service manager: the lease file's directory
# belongs to the user portleased becomes, so the file keeps being written
# after the drop; a directory that user cannot write stops the start with
# a clear error instead of losing the file later.
# Usage: lease_file_owner.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR lease_file_owner).
. "$(dirname "$0")/common.sh"

kill -TERM "$PORTLEASED_PID"; wait "$PORTLEASED_PID"
sed -i "s|^lease_file = .*|lease_file = \"$WORK/state/leases\";|" "$CONF"
start_portleased "$DAEMON" "$CONF" "$LOG" || { echo "not ok - portleased did not start"; exit 1; }
expect "the directory it made is the user's (nobody), mode 0700" \
	[ "$(stat -c '%U %a' "$WORK/state")" = "nobody 700" ]
expect "  and the lease file too, from its first write (made as root)" \
	[ "$(stat -c '%U %a' "$WORK/state/leases")" = "nobody 600" ]
got=$(natpmpc_map "$NS_LAN1" 8080 8080 tcp 600)
i=0
while [ $i -lt 30 ] && ! grep -q "eport=8080 " "$WORK/state/leases" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
expect "a mapping made after the drop ($got) is in the lease file within 3 s" \
	grep -q "^lease proto=tcp origin=natpmp client=$LAN1_IP internal=$LAN1_IP iport=8080 eport=8080 " "$WORK/state/leases"
kill -TERM "$PORTLEASED_PID"; wait "$PORTLEASED_PID"
expect "  and the clean stop's last write too" \
	check 'head -n 1 "$WORK/state/leases" | grep -q " clean=1$"'
mkdir -m 0700 "$WORK/roots"
sed -i "s|^lease_file = .*|lease_file = \"$WORK/roots/leases\";|" "$CONF"
out=$(ip netns exec "$NS_ROUTER" "$DAEMON" -d -f "$CONF" 2>&1); rc=$?
expect "a directory of root's the user cannot write stops the start, saying what to do (status $rc)" \
	check '[ "$rc" = 1 ] && echo "$out" | grep -q "user '\''nobody'\'' (config '\''user'\'') cannot write in $WORK/roots.*chown nobody $WORK/roots"'
expect "  and leaves it as it was" [ "$(stat -c '%U %a' "$WORK/roots")" = "root 700" ]

summary lease_file_owner
