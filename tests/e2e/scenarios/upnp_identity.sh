#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The UPnP device's UUID stays the same across restarts, so control points
# keep recognising the router: made from /etc/machine-id, or, on a system
# without one, from an identity kept beside the lease file.
# Usage: upnp_identity.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR upnp_identity).
SCENARIO_CONFIG='upnp = { igd_version = 2; };'
. "$(dirname "$0")/common.sh"

# udn: the root device's UUID, as a control point reads it.
udn() {
	in_lan1 sh -c "printf 'GET /rootDesc.xml HTTP/1.1\\r\\nHost: $ROUTER_LAN_IP:5000\\r\\n\\r\\n' |
		socat -t 2 - TCP:$ROUTER_LAN_IP:5000" 2>/dev/null | grep -o 'uuid:[0-9a-f-]*' | head -n 1
}
# A portleased that finds no machine-id: /etc/machine-id empty in a mount
# namespace of its own (the same process: each step execs the next).
cat > "$WORK/no-machine-id" <<SH
#!/bin/sh
exec unshare -m sh -c 'mount --bind /dev/null /etc/machine-id && exec "\$0" "\$@"' "$DAEMON" "\$@"
SH
chmod 755 "$WORK/no-machine-id"
restart_with() {
	kill -TERM "$PORTLEASED_PID"; wait "$PORTLEASED_PID"
	start_portleased "$1" "$CONF" "$LOG" || { echo "not ok - portleased did not start"; exit 1; }
}

first=$(udn)
restart_with "$DAEMON"
expect "with /etc/machine-id: the same UUID after a restart ($first)" \
	check '[ -n "$first" ] && [ "$(udn)" = "$first" ]'
restart_with "$WORK/no-machine-id"
second=$(udn)
expect "without one: a UUID of its own ($second), its identity kept beside the lease file" \
	check '[ -n "$second" ] && [ "$second" != "$first" ] && grep -qxE "[0-9a-f]{32}" "$WORK/upnp-device-id"'
restart_with "$WORK/no-machine-id"
expect "  and the same after a restart" [ "$(udn)" = "$second" ]
sed -i 's|^lease_file = .*|lease_file = "";|' "$CONF"
restart_with "$WORK/no-machine-id"
expect "with neither, a warning that control points will see a new router each start" \
	grep -q "no /etc/machine-id and no lease_file: the device's UUID is new at every start" "$LOG"

summary upnp_identity
