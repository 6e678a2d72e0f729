#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end tests of firewall_integration: portleased's chains and sets
# inside a router firewall's own table, for each ruleset of docs/examples
# (fw4, firewalld, a plain drop-policy one), loaded as-is into the router
# namespace. Traffic from the WAN host must pass the firewall only through
# a mapping; the firewall's reload must not lose the mappings; a stop must
# leave the firewall's table as it was.
# Usage: firewalls.sh BUILD_DIR, or tests/e2e/scenario.sh BUILD_DIR firewalls.
# The interface names the example rulesets use.
ROUTER_WAN_IF=wan
LAN_NET=192.168.78
LAN6_NET=2001:db8:78
SCENARIO=fw
. "$(dirname "$0")/../prologue.sh"
EXAMPLES="$HERE/../../docs/examples"

natpmpc_port() {
	ip netns exec "$NS_LAN1" natpmpc -g "$ROUTER_LAN_IP" -a "$1" "$1" tcp 600 2>&1 |
		sed -n 's/^Mapped public port \([0-9]*\) .*/\1/p'
}
pcp6() { ip netns exec "$NS_LAN1" "$CTL" pcp -g "$ROUTER_LAN_IP6" "$@"; }
# The firewall's table as nft lists it without counters or handles.
table_text() { in_router nft -s list table inet "$1" 2>/dev/null; }
jumps() { in_router nft list chain inet "$1" "$2" 2>/dev/null | grep -c 'jump portleased_forward'; }
first_rule_is_jump() {
	in_router nft list chain inet "$1" "$2" | sed -n '/policy/{n;p;q}' | grep -q 'jump portleased_forward'
}
# ready TABLE CHAIN PORT: our jump and the mapping are back (at most 1 s).
ready() {
	i=0
	while [ $i -lt 10 ]; do
		[ "$(jumps "$1" "$2")" = 1 ] &&
			in_router nft list map inet "$1" portleased_fwd4 2>/dev/null | grep -q "tcp . $3 " &&
			return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# stop_portleased: SIGTERM, and wait (bounded) until it has gone: its helper
# has then removed our part (the daemon waits for that before it exits).
# Under the sanitizers on a loaded machine the exit takes seconds.
stop_portleased() {
	kill -TERM "$PORTLEASED_PID" 2>/dev/null
	i=0
	while [ $i -lt 150 ] && kill -0 "$PORTLEASED_PID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$PORTLEASED_PID" 2>/dev/null && echo "# portleased still runs 15 s after SIGTERM"
}

net_setup || { echo "not ok - cannot build the test network (need root, iproute2, veth and bridge)"; exit 1; }

# integrate NAME TABLE CHAIN PORT: the whole story for one firewall.
integrate() {
	name=$1 table=$2 chain=$3 port=$4 port6=$(($4 + 1))
	rm -f "$WORK/leases"
	in_router nft flush ruleset  # one firewall at a time
	in_router nft -f "$EXAMPLES/$name.nft" || { fail "$name: the example ruleset loads"; return; }
	before=$(table_text "$table")
	listen_tcp "$NS_LAN1" "$port" "$WORK/$name-tcp"
	listen_tcp6 "$NS_LAN1" "$port6" "$WORK/$name-tcp6"
	sleep 0.2
	expect "$name: without a pinhole the firewall keeps the WAN host from the IPv6 LAN listener" \
		wan6_blocked tcp "$LAN1_IP6" "$port6" "$WORK/$name-tcp6"

	write_router_config "$CONF" "firewall_integration = { table = \"$table\"; forward_chain = \"$chain\"; };"
	start_portleased "$DAEMON" "$CONF" "$LOG" || { fail "$name: portleased starts in table inet $table"; return; }
	expect "$name: portleased's sets live in table inet $table, and its chain $chain jumps to ours first" \
		check 'in_router nft list map inet "$table" portleased_fwd4 >/dev/null && first_rule_is_jump "$table" "$chain"'
	expect "$name: no table of portleased's own" check '! in_router nft list table inet portleased >/dev/null 2>&1'

	got=$(natpmpc_port "$port")
	expect "$name: natpmpc maps TCP $port ($got)" [ "$got" = "$port" ]
	expect "$name: the WAN host reaches the LAN listener through the mapping" \
		wan_reaches tcp "$port" "$WORK/$name-tcp"
	got=$(pcp6 map tcp "$port6")
	expect "$name: an IPv6 pinhole ($(field result "$got")) lets the WAN host through the firewall" \
		wan6_reaches tcp "$LAN1_IP6" "$port6" "$WORK/$name-tcp6"
	expect "$name: other LAN ports stay closed" wan6_blocked tcp "$LAN1_IP6" $((port6 + 1)) "$WORK/$name-tcp6"

	in_router nft -f "$EXAMPLES/$name.nft"
	expect "$name: the firewall reloads; within a second our jump and the mappings are back" \
		ready "$table" "$chain" "$port"
	expect "$name: after the reload the mapping carries traffic" wan_reaches tcp "$port" "$WORK/$name-tcp"
	expect "$name:   and so does the pinhole" wan6_reaches tcp "$LAN1_IP6" "$port6" "$WORK/$name-tcp6"

	kill -9 "$PORTLEASED_PID"
	wait "$PORTLEASED_PID" 2>/dev/null
	start_portleased "$DAEMON" "$CONF" "$LOG" || { fail "$name: portleased restarts after SIGKILL"; return; }
	expect "$name: restarted after SIGKILL, what the killed one left is replaced: one jump" \
		[ "$(jumps "$table" "$chain")" = 1 ]
	expect "$name:   and the restored mapping carries traffic" wan_reaches tcp "$port" "$WORK/$name-tcp"

	stop_portleased
	expect "$name: SIGTERM removes our part and leaves the firewall's table as it was" \
		check '[ "$(table_text "$table")" = "$before" ]'
	expect "$name:   and the firewall closes again" wan6_blocked tcp "$LAN1_IP6" "$port6" "$WORK/$name-tcp6"
}

integrate fw4 fw4 forward 7100
integrate firewalld firewalld filter_FORWARD 7200
integrate drop-policy filter forward 7300

# The reason for the mode: our own table's accept cannot overrule the drop
# policy of a firewall that does not admit port forwards.
in_router nft -f "$EXAMPLES/drop-policy.nft"
write_router_config "$CONF"
rm -f "$WORK/leases"
listen_tcp "$NS_LAN1" 7400 "$WORK/own-tcp"
# As systemd's Type=notify would: READY=1 once it serves, on $NOTIFY_SOCKET.
socat -u "UNIX-RECV:$WORK/notify" "OPEN:$WORK/notified,creat,append" </dev/null >/dev/null 2>&1 &
NOTIFY_LISTENER=$!
sleep 0.2
chmod 666 "$WORK/notify"
export NOTIFY_SOCKET="$WORK/notify"
start_portleased "$DAEMON" "$CONF" "$LOG" || fail "portleased starts with its own table"
unset NOTIFY_SOCKET
expect "it tells the service manager READY=1 (Type=notify)" arrives "READY=1" "$WORK/notified"
got=$(natpmpc_port 7400)
expect "with its own table ($got granted), the drop-policy firewall still drops the mapped traffic" \
	wan_blocked tcp 7400 "$WORK/own-tcp"
stop_portleased
expect "  and STOPPING=1 when it stops" arrives "STOPPING=1" "$WORK/notified"
kill "$NOTIFY_LISTENER" 2>/dev/null

write_router_config "$CONF" 'firewall_integration = { table = "nosuch"; forward_chain = "forward"; };'
out=$(ip netns exec "$NS_ROUTER" "$DAEMON" -d -f "$CONF" 2>&1)
expect "a firewall table that is not there stops the start with a clear error" \
	check '! ip netns exec "$NS_ROUTER" "$DAEMON" -d -f "$CONF" >/dev/null 2>&1 && echo "$out" | grep -q "table inet nosuch has no chain forward"'
write_router_config "$CONF" 'firewall_integration = { table = "filter"; forward_chain = "input"; };'
out=$(ip netns exec "$NS_ROUTER" "$DAEMON" -d -f "$CONF" 2>&1)
expect "a chain on another hook is refused ($(echo "$out" | tail -1))" \
	check 'echo "$out" | grep -q "not a base chain on the forward hook"'

# Fail closed: no user to become, no daemon (and nothing left in nftables).
write_router_config "$CONF"
sed -i 's|^user = .*|user = "nosuchuser";|' "$CONF"
out=$(ip netns exec "$NS_ROUTER" "$DAEMON" -d -f "$CONF" 2>&1); rc=$?
expect "a privilege drop that cannot be done stops it (status $rc): $(echo "$out" | grep -o "user 'nosuchuser'.*" | head -1)" \
	check '[ "$rc" != 0 ] && echo "$out" | grep -q "does not exist" && ! in_router nft list table inet portleased >/dev/null 2>&1'

summary firewalls
