#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Behind another NAT (issue 23): our router's WAN side is a carrier's
# network (100.64.0.0/24) behind an outer router that holds the WAN
# address and runs a portleased of its own. Ours finds the mapping service
# at its default gateway: PCP, then NAT-PMP when the outer one speaks only
# that, then a UPnP IGD found by SSDP, none when nothing answers (and says
# the internet cannot reach its mappings), off when told; a pinned server;
# a dead upstream never holds up the LAN's answers. Shown in status (text
# and JSON) and the metrics. Each mapping's twin is made, deleted and
# expired with it, whichever protocol the client and the upstream speak;
# the outer router restarts, changes its address, refuses and dies.
# Usage: upstream.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR upstream).
LAN_NET=192.168.75
LAN6_NET=2001:db8:75
SCENARIO=upstream
. "$(dirname "$0")/../prologue.sh"

ctl() { "$CTL" -s "$WORK/control.sock" "$@"; }
NONCE_A=0102030405060708090a0b0c
NONCE_B=a1a2a3a4a5a6a7a8a9aaabac
# upstream_is PATTERN: whether status's upstream line comes to match
# PATTERN (a whole-line grep pattern) within 10 s.
upstream_is() {
	i=0
	while [ $i -lt 100 ]; do
		ctl status | sed -n 's/^upstream: //p' | grep -qx "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "# upstream: $(ctl status | sed -n 's/^upstream: //p')"
	return 1
}

OUTER_WORK="$WORK/outer"
OUTER_CONF="$OUTER_WORK/portleased.conf"
OUTER_LOG="$OUTER_WORK/portleased.log"
mkdir -p "$OUTER_WORK"
# start_outer [CONFIG LINES]: the outer router's portleased, serving the
# carrier's network (OUTER_DENY: rules before its allow rule).
start_outer() {
	write_outer_config "$OUTER_CONF" "$OUTER_WORK" "$@"
	inner_pid=${PORTLEASED_PID:-}
	start_portleased_in "$NS_OUTER" "$DAEMON" "$OUTER_CONF" "$OUTER_LOG" || return 1
	OUTER_PID=$PORTLEASED_PID
	PORTLEASED_PID=$inner_pid  # what reload signals
}
stop_outer() { kill "$OUTER_PID" 2>/dev/null; wait "$OUTER_PID" 2>/dev/null; }

net_setup_double_nat || { echo "not ok - cannot build the double-NAT network (need root, iproute2, veth and bridge)"; exit 1; }
start_outer || { echo "not ok - the outer portleased did not start"; exit 1; }
write_router_config "$CONF"
start_portleased "$DAEMON" "$CONF" "$LOG" || { echo "not ok - portleased did not start"; exit 1; }
INNER_PID=$PORTLEASED_PID

expect "behind another NAT, portleased finds PCP at its default gateway and learns the address it is mapped to" \
	upstream_is "pcp at $OUTER_LAN_IP (the default gateway), external address $ROUTER_WAN_IP, epoch [0-9]* s"
expect "  status --json says so" \
	check 'ctl status --json | grep -q "\"upstream\":{\"state\":\"found\",\"protocol\":\"pcp\",\"server\":\"$OUTER_LAN_IP\",\"server_is_gateway\":true,\"server_from\":\"gateway\",\"external_address\":\"$ROUTER_WAN_IP\",\"epoch\":[0-9]*,\"why\":null,\"stun\":null}"'
expect "  and the metrics" \
	check 'ctl metrics | grep -qx "portleased_upstream_info{state=\"found\",protocol=\"pcp\",server=\"$OUTER_LAN_IP\",external_address=\"$ROUTER_WAN_IP\"} 1"'
expect "  and the log" grep -q "upstream: PCP at $OUTER_LAN_IP (the default gateway), external address $ROUTER_WAN_IP" "$LOG"

# --- chained mappings: each of ours gets its twin at the outer router ---
outer_ctl() { "$CTL" -s "$OUTER_WORK/control.sock" "$@"; }
# outer_lists PORT [TENTHS] / outer_drops PORT [TENTHS]: wait (3 s unless
# told) until the outer router lists a TCP mapping of external PORT, or
# until it no longer does; the checks that follow say which came true.
outer_lists() {
	i=0
	while [ $i -lt "${2:-30}" ] && ! outer_ctl list | grep -q "^tcp *$1 "; do sleep 0.1; i=$((i + 1)); done
}
outer_drops() {
	i=0
	while [ $i -lt "${2:-30}" ] && outer_ctl list | grep -q "^tcp *$1 "; do sleep 0.1; i=$((i + 1)); done
}
listen_tcp "$NS_LAN1" 7000 "$WORK/lan1-7000"
listen_tcp "$NS_LAN1" 7001 "$WORK/lan1-7001"
out=$(ip netns exec "$NS_LAN1" natpmpc -g "$ROUTER_LAN_IP" -a 7000 7000 tcp 600 2>&1)
expect "natpmpc behind double NAT is told the outer router's address and port, after the outer granted them" \
	check 'echo "$out" | grep -q "Public IP address : $ROUTER_WAN_IP" && echo "$out" | grep -q "^Mapped public port 7000 protocol TCP to local port 7000 liftime [0-9]*$"'
expect "  the outer router holds the twin: our external port from our carrier address" \
	check 'outer_ctl list | grep -q "^tcp *7000 *$ROUTER_CARRIER_IP:7000 .* $ROUTER_CARRIER_IP *pcp "'
expect "  and the WAN host reaches lan1 through both NATs at the address and port it was told" \
	wan_reaches tcp 7000 "$WORK/lan1-7000"
got=$(ip netns exec "$NS_LAN1" "$CTL" pcp -g "$ROUTER_LAN_IP" -n $NONCE_A map tcp 7001 7001 2>&1)
expect "a PCP client is told the outer address and port too ($got)" \
	check '[ "$(field result "$got")" = SUCCESS ] && [ "$(field external "$got")" = "$ROUTER_WAN_IP:7001" ] && wan_reaches tcp 7001 "$WORK/lan1-7001"'
listen_tcp "$NS_LAN1" 7002 "$WORK/lan1-7002"
out=$(in_lan1 timeout 10 upnpc -i -u "http://$ROUTER_LAN_IP:5000/rootDesc.xml" -e "chained upnp" -a "$LAN1_IP" 7002 7002 TCP 600 2>&1)
outer_lists 7002
expect "UPnP: upnpc is told the outer router's address, and its mapping gets its twin" \
	check 'echo "$out" | grep -q "ExternalIPAddress = $ROUTER_WAN_IP" && outer_ctl list | grep -q "^tcp *7002 *$ROUTER_CARRIER_IP:7002 " && wan_reaches tcp 7002 "$WORK/lan1-7002"'
ip netns exec "$NS_LAN1" natpmpc -g "$ROUTER_LAN_IP" -a 7000 7000 tcp 0 > /dev/null 2>&1
outer_drops 7000
expect "a client's delete takes both halves away" \
	check '! ctl list | grep -q "^tcp *7000 " && ! outer_ctl list | grep -q "^tcp *7000 "'
ctl add -F "$WORK/static" tcp 7100 "$LAN1_IP" 7001 "chained static" > /dev/null
outer_lists 7100
expect "a static mapping gets its twin too" check 'outer_ctl list | grep -q "^tcp *7100 *$ROUTER_CARRIER_IP:7100 "'
ctl delete -F "$WORK/static" tcp 7100 > /dev/null
outer_drops 7100
expect "  and loses it with the static mapping" check '! outer_ctl list | grep -q "^tcp *7100 "'

# twin_in_list PORT STATE: whether our list says PORT's twin is in STATE
# ("ok", "asked", "local") within 10 s.
twin_in_list() {
	i=0
	while [ $i -lt 100 ]; do
		ctl list --json | sed 's/},{/\n/g' | grep "\"external_port\":$1," | grep -q "\"upstream\":\"$2\"" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# outer_has PORT: whether the outer router holds a twin of PORT within 15 s.
outer_has() {
	i=0
	while [ $i -lt 150 ]; do
		outer_ctl list | grep -q "^tcp *$1 *$ROUTER_CARRIER_IP:$1 " && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Made for 600 s (its twin too), then renewed for 3 s: the twin upstream
# still has minutes when ours runs out, so only our delete can take it.
natpmpc_map "$NS_LAN1" 7005 7005 tcp 600 > /dev/null
outer_has 7005 || echo "# 7005 has no twin"
got=$(natpmpc_map "$NS_LAN1" 7005 7005 tcp 3)
outer_drops 7005 80
expect "a mapping that expires ($got) takes its twin with it" \
	check '! ctl list | grep -q "^tcp *7005 " && ! outer_ctl list | grep -q "^tcp *7005 " && grep -q "audit event=expired .*external_port=7005 " "$LOG" && grep -q "audit event=deleted .*external_port=7005 .*by=client" "$OUTER_LOG"'

# A restart (kill -9) resumes the twins: the nonces, kept beside the lease
# file, renew the ones the outer router holds.
listen_tcp "$NS_LAN1" 7003 "$WORK/lan1-7003"
got=$(natpmpc_map "$NS_LAN1" 7003 7003 tcp 600)
expect "a mapping and its twin ($got), listed with the upstream's port" \
	check 'twin_in_list 7003 ok && ctl list | grep "^tcp *7003 " | grep -q "\[UPSTREAM PORT 7003\]"'
i=0
while [ $i -lt 30 ] && ! grep -q " 7003 " "$WORK/leases" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -9 "$INNER_PID"
wait "$INNER_PID" 2>/dev/null
start_portleased "$DAEMON" "$CONF" "$LOG" || { echo "not ok - portleased did not start again"; exit 1; }
INNER_PID=$PORTLEASED_PID
expect "  after kill -9 and a restart the twin is renewed, not refused, and carries traffic" \
	check 'twin_in_list 7003 ok && ! grep -q "upstream: tcp 7003: " "$LOG" && [ "$(outer_ctl list | grep -c "^tcp *7003 ")" = 1 ] && wan_reaches tcp 7003 "$WORK/lan1-7003"'

# The outer router restarts and loses its mappings: the epoch it tells
# with the next renewal (a 10 s mapping renews its twin at 5 s) shows it,
# and every twin is asked for again (7003's too, which was not due).
got=$(natpmpc_map "$NS_LAN1" 7004 7004 tcp 10)
stop_outer
start_outer || { echo "not ok - the outer portleased did not start"; exit 1; }
expect "an outer router that restarted is noticed by its epoch, and every twin made again" \
	check 'outer_has 7003 && grep -q "upstream: its epoch is [0-9]* s where [0-9]* s were due: it lost its mappings" "$LOG" && wan_reaches tcp 7003 "$WORK/lan1-7003"'

# The outer router's WAN address changes: it announces the new one to its
# LAN (224.0.0.1:5350), ours hears it at once, asks for every twin again
# and tells its own LAN clients.
NEW_WAN_IP=${ROUTER_WAN_IP%.*}.5
in_outer ip addr del "$ROUTER_WAN_IP/24" dev wan0
in_outer ip addr add "$NEW_WAN_IP/24" dev wan0
expect "the outer router's new address is heard from its announcement, within seconds" \
	upstream_is "pcp at $OUTER_LAN_IP (the default gateway), external address $NEW_WAN_IP, epoch [0-9]* s"
expect "  and logged" grep -q "upstream: it maps us to $NEW_WAN_IP now (was $ROUTER_WAN_IP); each mapping is asked for again" "$LOG"
out=$(ip netns exec "$NS_LAN1" natpmpc -g "$ROUTER_LAN_IP" 2>&1)
expect "  a LAN client is told the new address" check 'echo "$out" | grep -q "Public IP address : $NEW_WAN_IP"'
expect "  and the twin is made again: the WAN host reaches lan1 at the new address" \
	check 'outer_has 7003 && ROUTER_WAN_IP=$NEW_WAN_IP wan_reaches tcp 7003 "$WORK/lan1-7003"'
in_outer ip addr del "$NEW_WAN_IP/24" dev wan0
in_outer ip addr add "$ROUTER_WAN_IP/24" dev wan0
upstream_is "pcp at .* external address $ROUTER_WAN_IP, .*" > /dev/null
ctl flush > /dev/null

# The outer router's policy refuses ports 7200-7299: on_failure decides.
stop_outer
OUTER_DENY='{ action = "deny"; internal_ports = "7200-7299"; },' start_outer ||
	{ echo "not ok - the outer portleased did not start"; exit 1; }
reload
upstream_is "pcp at .*" > /dev/null
got=$(ip netns exec "$NS_LAN1" "$CTL" pcp -g "$ROUTER_LAN_IP" -n $NONCE_A map tcp 7200 7200 2>&1)
expect "the outer router refuses, on_failure local: granted here, told our own address ($got)" \
	check '[ "$(field result "$got")" = SUCCESS ] && [ "$(field external "$got")" = "$ROUTER_CARRIER_IP:7200" ] && grep -q "upstream: tcp 7200: NOT_AUTHORIZED; the mapping is this router.s alone" "$LOG"'
echo "upstream = { on_failure = \"refuse\"; };" >> "$CONF"
reload
upstream_is "pcp at .*" > /dev/null
got=$(ip netns exec "$NS_LAN1" "$CTL" pcp -g "$ROUTER_LAN_IP" -n $NONCE_B map tcp 7201 7201 2>&1)
expect "  on_failure refuse: the client is refused NO_RESOURCES, nothing kept ($got)" \
	check '[ "$(field result "$got")" = NO_RESOURCES ] && ! ctl list | grep -q "^tcp *7201 " && grep -q "audit event=deleted .*internal=$LAN1_IP:7201 .*by=upstream" "$LOG"'
out=$(in_lan1 timeout 15 upnpc -i -u "http://$ROUTER_LAN_IP:5000/rootDesc.xml" -e "refused upstream" -a "$LAN1_IP" 7202 7202 TCP 600 2>&1)
expect "  on_failure refuse: upnpc waits for the upstream, and is refused ActionFailed (501)" \
	check 'echo "$out" | grep -q "failed with code 501" && ! ctl list | grep -q "^tcp *7202 "'
sed -i '/^upstream = /d' "$CONF"
reload
ctl flush > /dev/null

# An outer router that speaks NAT-PMP only: it answers PCP with NAT-PMP's
# UNSUPP_VERSION (RFC 6887 §9), and ours asks again in NAT-PMP.
stop_outer
start_outer 'enable_pcp = false;' || { echo "not ok - the outer portleased did not start"; exit 1; }
reload
expect "an upstream that speaks NAT-PMP only is found over NAT-PMP" \
	upstream_is "natpmp at $OUTER_LAN_IP (the default gateway), external address $ROUTER_WAN_IP, epoch [0-9]* s"
listen_tcp "$NS_LAN1" 7250 "$WORK/lan1-7250"
got=$(ip netns exec "$NS_LAN1" "$CTL" pcp -g "$ROUTER_LAN_IP" -n $NONCE_B map tcp 7250 7250 2>&1)
expect "  a PCP client's mapping gets its twin over NAT-PMP, reached from the WAN host ($got)" \
	check '[ "$(field external "$got")" = "$ROUTER_WAN_IP:7250" ] && outer_ctl list | grep -q "^tcp *7250 *$ROUTER_CARRIER_IP:7250 .* natpmp " && wan_reaches tcp 7250 "$WORK/lan1-7250"'

# An outer router that maps over UPnP only: 5351 is closed (ICMP port
# unreachable), its IGD is found by SSDP on the carrier network and asked
# over SOAP, as a consumer router's would be.
stop_outer
start_outer 'enable_pcp = false;' || { echo "not ok - the outer portleased did not start"; exit 1; }
in_outer nft add table inet upnp_only
in_outer nft add chain inet upnp_only input '{ type filter hook input priority 0; policy accept; }'
in_outer nft add rule inet upnp_only input udp dport 5351 reject
reload
expect "an upstream that speaks UPnP only is found by SSDP, and tells our address over SOAP" \
	upstream_is "upnp at $OUTER_LAN_IP (the default gateway), external address $ROUTER_WAN_IP"
expect "  status --json has no epoch for it (IGD has none)" \
	check 'ctl status --json | grep -q "\"protocol\":\"upnp\",\"server\":\"$OUTER_LAN_IP\",\"server_is_gateway\":true,\"server_from\":\"gateway\",\"external_address\":\"$ROUTER_WAN_IP\",\"epoch\":null"'
listen_tcp "$NS_LAN1" 7300 "$WORK/lan1-7300"
got=$(natpmpc_map "$NS_LAN1" 7300 7300 tcp 600)
expect "natpmpc behind a UPnP-only upstream: the twin is made by AddAnyPortMapping ($got)" \
	check '[ "${got%% *}" = 7300 ] && outer_ctl list | grep -q "^tcp *7300 *$ROUTER_CARRIER_IP:7300 .* $ROUTER_CARRIER_IP *upnp "'
expect "  and the WAN host reaches lan1 through both NATs" wan_reaches tcp 7300 "$WORK/lan1-7300"
# The outer router's port 7301 is taken: its IGD reserves another, and the
# client is told that one.
outer_ctl add -F "$OUTER_WORK/static" tcp 7301 "$CARRIER_NET.77" 7301 "held" > /dev/null
listen_tcp "$NS_LAN1" 7301 "$WORK/lan1-7301"
got=$(natpmpc_map "$NS_LAN1" 7301 7301 tcp 600)
upstream_port=${got%% *}
expect "  a port taken upstream: the client is told the port the IGD reserved instead ($got)" \
	check '[ -n "$upstream_port" ] && [ "$upstream_port" != 7301 ] && outer_ctl list | grep -q "^tcp *$upstream_port *$ROUTER_CARRIER_IP:7301 " && wan_reaches tcp "$upstream_port" "$WORK/lan1-7301"'
ip netns exec "$NS_LAN1" natpmpc -g "$ROUTER_LAN_IP" -a 7301 7301 tcp 0 > /dev/null 2>&1
outer_drops "$upstream_port"
expect "  a client's delete takes the twin away at the IGD's port (DeletePortMapping)" \
	check '! outer_ctl list | grep -q "^tcp *$upstream_port " && outer_ctl list | grep -q "^tcp *7301 *$CARRIER_NET.77:7301 "'
# A UPnP client asks for that exact port: the upstream would give another,
# which the client would not advertise, so it is told the port is taken.
out=$(in_lan1 timeout 15 upnpc -i -u "http://$ROUTER_LAN_IP:5000/rootDesc.xml" -e "taken upstream" -a "$LAN1_IP" 7301 7301 TCP 600 2>&1)
expect "  upnpc asking for a port taken upstream waits, then is told ConflictInMappingEntry, nothing kept" \
	check 'echo "$out" | grep -q "failed with code 718" && ! ctl list | grep -q "^tcp *7301 " && ! outer_ctl list | grep -q "^tcp *[0-9]* *$ROUTER_CARRIER_IP:7301 "'
ctl flush > /dev/null
in_outer nft delete table inet upnp_only

# Nothing listening upstream: the ICMP refusal ends each question at once,
# and SSDP goes unanswered.
stop_outer
reload
expect "no mapping service upstream: none, and why" \
	upstream_is "none at $OUTER_LAN_IP (the default gateway): no PCP, NAT-PMP or UPnP IGD server answers"
expect "  the log says the internet cannot reach the mappings (our address is a carrier's)" \
	grep -q "upstream: no PCP, NAT-PMP or UPnP IGD server answers at $OUTER_LAN_IP: mappings cannot be reached from the internet" "$LOG"

# No mapping service, but a STUN server on the internet (stund, RFC 3489,
# on two addresses): it tells our public address, and whether the outer
# NAT keeps a port whatever the peer (Linux masquerade) or gives a port per
# peer (masquerade random: symmetric).
in_outer nft add table ip cgnat
in_outer nft add chain ip cgnat post '{ type nat hook postrouting priority srcnat; }'
in_outer nft add rule ip cgnat post oifname wan0 masquerade
ip netns exec "$NS_WAN" stund -h "$WAN_IP" -a "$WAN_IP2" > /dev/null 2>&1 &
STUND_PID=$!
echo "upstream = { stun = \"$WAN_IP\"; };" >> "$CONF"
reload
expect "no mapping service: STUN tells the public address, and that the NAT is not symmetric" \
	upstream_is "none at $OUTER_LAN_IP (the default gateway): no PCP, NAT-PMP or UPnP IGD server answers; STUN at $WAN_IP:3478: public address $ROUTER_WAN_IP, NAT not symmetric"
expect "  status --json says so" \
	check 'ctl status --json | grep -q "\"stun\":{\"server\":\"$WAN_IP:3478\",\"state\":\"answered\",\"public_address\":\"$ROUTER_WAN_IP\",\"nat\":\"not symmetric\"}"'
in_outer nft flush chain ip cgnat post
in_outer nft add rule ip cgnat post oifname wan0 masquerade random
reload
expect "  behind masquerade random: symmetric" \
	upstream_is "none at .*; STUN at $WAN_IP:3478: public address $ROUTER_WAN_IP, NAT symmetric"
expect "  and the log says mappings cannot be reached" \
	grep -q "upstream: mappings cannot be reached from the internet: upstream NAT is symmetric (STUN at $WAN_IP: public address $ROUTER_WAN_IP" "$LOG"
kill "$STUND_PID" 2>/dev/null
wait "$STUND_PID" 2>/dev/null
reload
expect "  a STUN server that does not answer is said to" \
	upstream_is "none at .*; STUN at $WAN_IP:3478: no answer"
in_outer nft delete table ip cgnat
sed -i '/^upstream = { stun/d' "$CONF"

# The carrier's DHCP server names the PCP server (RFC 7291, option 158);
# the router's DHCP client (ISC dhclient, told to ask for it) writes it in
# its lease file, where portleased reads it.
start_outer || { echo "not ok - the outer portleased did not start"; exit 1; }
in_outer dnsmasq --keep-in-foreground --port=0 --interface=lan0 --bind-interfaces --no-ping \
	--dhcp-range="$ROUTER_CARRIER_IP,$ROUTER_CARRIER_IP,255.255.255.0,1h" \
	--dhcp-option=158,04:64:40:00:01 --dhcp-leasefile="$WORK/carrier.leases" \
	--pid-file="$WORK/carrier-dnsmasq.pid" > "$WORK/carrier-dnsmasq.log" 2>&1 &
printf 'option pcp-server code 158 = string;\nalso request pcp-server;\n' > "$WORK/dhclient.conf"
# The script does nothing: the interface keeps the address it has.
in_router timeout 20 dhclient -4 -1 -sf /bin/true -cf "$WORK/dhclient.conf" -lf "$WORK/dhclient.leases" \
	-pf "$WORK/dhclient.pid" "$ROUTER_WAN_IF" > "$WORK/dhclient.log" 2>&1
echo "upstream = { dhcp_leases = \"$WORK/dhclient.leases\"; };" >> "$CONF"
reload
expect "the PCP server the carrier's DHCP names (option 158, from dhclient's lease file) is asked" \
	upstream_is "pcp at $OUTER_LAN_IP (DHCP option 158), external address $ROUTER_WAN_IP, epoch [0-9]* s"
[ -s "$WORK/dhclient.pid" ] && kill "$(cat "$WORK/dhclient.pid")" 2>/dev/null
[ -s "$WORK/carrier-dnsmasq.pid" ] && kill "$(cat "$WORK/carrier-dnsmasq.pid")" 2>/dev/null
sed -i '/^upstream = { dhcp_leases/d' "$CONF"
stop_outer

# A pinned protocol and server.
start_outer || { echo "not ok - the outer portleased did not start"; exit 1; }
echo "upstream = { mode = \"pcp\"; server = \"$OUTER_LAN_IP\"; };" >> "$CONF"
reload
expect "upstream.server and mode pcp: that server, over PCP" \
	upstream_is "pcp at $OUTER_LAN_IP (upstream.server), external address $ROUTER_WAN_IP, epoch [0-9]* s"

# Found, then dead (it drops what we send): the twin goes unanswered, and
# once the upstream's time is up (about 8 s) on_failure decides for the
# waiting client: local grants it with our own address, refuse refuses it
# NETWORK_FAILURE, nothing kept.
deafen_outer() {
	in_outer nft add table inet deaf
	in_outer nft add chain inet deaf input '{ type filter hook input priority 0; policy accept; }'
	in_outer nft add rule inet deaf input udp dport 5351 drop
}
deafen_outer
start=$(date +%s%N)
got=$(ip netns exec "$NS_LAN1" "$CTL" pcp -g "$ROUTER_LAN_IP" -w 15000 -n $NONCE_B map tcp 7401 7401 2>&1)
ms=$((($(date +%s%N) - start) / 1000000))
expect "an upstream that dies: on_failure local grants the client our own address after its wait ($got in $ms ms)" \
	check '[ "$(field result "$got")" = SUCCESS ] && [ "$(field external "$got")" = "$ROUTER_CARRIER_IP:7401" ] && [ "$ms" -ge 7000 ] && grep -q "upstream: tcp 7401: no answer; the mapping is this router.s alone" "$LOG"'
in_outer nft delete table inet deaf
sed -i 's|^upstream = .*|upstream = { mode = "pcp"; server = "'"$OUTER_LAN_IP"'"; on_failure = "refuse"; };|' "$CONF"
reload
upstream_is "pcp at $OUTER_LAN_IP (upstream.server), .*" > /dev/null
deafen_outer
start=$(date +%s%N)
got=$(ip netns exec "$NS_LAN1" "$CTL" pcp -g "$ROUTER_LAN_IP" -w 15000 -n $NONCE_A map tcp 7400 7400 2>&1)
ms=$((($(date +%s%N) - start) / 1000000))
expect "  on_failure refuse refuses it NETWORK_FAILURE after its wait ($got in $ms ms)" \
	check '[ "$(field result "$got")" = NETWORK_FAILURE ] && [ "$ms" -ge 7000 ] && ! ctl list | grep -q "^tcp *7400 "'

# A dead upstream from the start: the search goes on in the background,
# and the LAN is answered meanwhile.
reload
expect "a dead upstream: still being asked" upstream_is "searching at $OUTER_LAN_IP (upstream.server)"
start=$(date +%s%N)
got=$(natpmpc_map "$NS_LAN1" 7000 7000 tcp 600)
ms=$((($(date +%s%N) - start) / 1000000))
expect "  while a LAN client is answered at once ($got in $ms ms)" \
	check '[ "$got" = "7000 600" ] && [ "$ms" -lt 2000 ]'

sed -i 's|^upstream = .*|upstream = { mode = "off"; };|' "$CONF"
reload
expect "mode off: nothing is asked" upstream_is "off"
expect "  metrics say off" \
	check 'ctl metrics | grep -qx "portleased_upstream_info{state=\"off\",protocol=\"\",server=\"\",external_address=\"\"} 1"'

summary upstream
