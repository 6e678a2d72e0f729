#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end tests with the client libraries applications embed, unmodified
# (issue 19): each maps a port on portleased from a LAN host, the WAN host's
# traffic reaches that host through it, the operator sees it, and it goes
# when the client removes it. GUPnP-IGD (GNOME's, through python3-gi), and
# from npm nat-upnp (IGD:1 only), nat-api (WebTorrent's) and
# @achingbrain/nat-port-mapper (libp2p's), installed by `make npm-deps`.
# Usage: clients.sh BUILD_DIR, or tests/e2e/scenario.sh BUILD_DIR clients. Needs root.
LAN_NET=192.168.76
LAN6_NET=2001:db8:76
SCENARIO=clients
. "$(dirname "$0")/../prologue.sh"
CLIENTS="$HERE/../clients"

ctl() { "$CTL" -s "$WORK/control.sock" "$@"; }
# waits_for_line FILE PATTERN SECONDS: whether FILE gets a line matching
# PATTERN within SECONDS.
waits_for_line() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# waits_for_exit PID SECONDS: whether the process ends within SECONDS.
waits_for_exit() {
	i=0
	while [ $i -lt $(($2 * 10)) ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	! kill -0 "$1" 2>/dev/null
}

net_setup || { echo "not ok - cannot build the test network (need root, iproute2, veth and bridge)"; exit 1; }
write_router_config "$CONF" 'upnp = { enable = true; };'
start_portleased "$DAEMON" "$CONF" "$LOG" || { echo "not ok - portleased did not start"; exit 1; }

# --- GUPnP-IGD: discovery over SSDP, AddPortMapping, renewal, removal ----------

listen_tcp "$NS_LAN1" 8900 "$WORK/lan1-tcp8900"
in_lan1 /usr/bin/python3 "$CLIENTS/gupnp_igd_map.py" TCP 18900 "$LAN1_IP" 8900 6 "gupnp client" \
	> "$WORK/gupnp.out" 2>&1 &
gupnp_pid=$!
waits_for_line "$WORK/gupnp.out" "^mapped \|^error" 15
expect "GUPnP-IGD finds the router over SSDP and maps tcp 18900 ($(cat "$WORK/gupnp.out"))" \
	grep -q "^mapped $ROUTER_WAN_IP:18900\$" "$WORK/gupnp.out"
expect "  the WAN host reaches lan1 through it" wan_reaches tcp 18900 "$WORK/lan1-tcp8900"
expect "  the operator sees it, with the client's description" \
	check 'ctl list | grep -qE "^tcp +18900 +$LAN1_IP:8900 +[0-9a-f:]{17} +$LAN1_IP +upnp .*gupnp client\$"'
waits_for_exit "$gupnp_pid" 20
expect "  and when the client removes it, it is gone" \
	check '! ctl list | grep -qE "^tcp +18900 " && wan_blocked tcp 18900 "$WORK/lan1-tcp8900"'

# --- client libraries from npm -------------------------------------------------

port=18910
for library in nat-upnp nat-api @achingbrain/nat-port-mapper; do
	listen_tcp "$NS_LAN1" "$port" "$WORK/lan1-tcp$port"
	# A file of its own, made before the client starts: the background
	# job's redirection may come after the first look below.
	: > "$WORK/npm-$port.out"
	in_lan1 node "$CLIENTS/npm_map.mjs" "$library" tcp "$port" "$LAN1_IP" "$port" 4 \
		"$library client" > "$WORK/npm-$port.out" 2>&1 &
	npm_pid=$!
	waits_for_line "$WORK/npm-$port.out" "^mapped \|^error" 20
	expect "$library maps tcp $port ($(head -n 1 "$WORK/npm-$port.out"))" grep -q "^mapped $port\$" "$WORK/npm-$port.out"
	expect "  the WAN host reaches lan1 through it" wan_reaches tcp "$port" "$WORK/lan1-tcp$port"
	expect "  the operator sees it: lan1's, over UPnP, with the client's description" \
		check 'ctl list | grep -qE "^tcp +$port +$LAN1_IP:$port +[0-9a-f:]{17} +$LAN1_IP +upnp .*$library client\$"'
	waits_for_exit "$npm_pid" 25
	if [ "$library" = @achingbrain/nat-port-mapper ]; then
		# Its unmap sends DeletePortMapping with an empty NewProtocol (a
		# client bug; miniupnpd answers it 402 too): not copied, the
		# mapping stays until it expires, as every mapping does.
		expect "  its unmap, with an empty NewProtocol, is refused 402 and audited; the mapping expires by itself" \
			check 'grep -q "client=$LAN1_IP .*result=\"DeletePortMapping: UPnP error 402 Invalid Args\"" "$LOG" &&
			       ctl list | grep -qE "^tcp +$port +$LAN1_IP:$port "'
		ctl delete tcp "$port" > /dev/null
	else
		expect "  and when the client removes it, it is gone ($(tail -n 1 "$WORK/npm-$port.out"))" \
			check '! ctl list | grep -qE "^tcp +$port " && wan_blocked tcp "$port" "$WORK/lan1-tcp$port"'
	fi
	port=$((port + 1))
done

summary clients
