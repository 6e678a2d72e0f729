#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# WAN renumbering, seen through rtnetlink without a reload: NAT-PMP
# reports the new external address, the LAN is told, and the mappings made
# before carry traffic to it.
# Usage: renumbering.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR renumbering).
. "$(dirname "$0")/common.sh"

# external_is ADDR: within 2 s, NAT-PMP reports ADDR as the external address.
external_is() {
	i=0
	while [ $i -lt 20 ]; do
		in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw 0000 | grep -q "^result=0 op=128 .* external=$1 " && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
listen_tcp "$NS_LAN1" 8420 "$WORK/lan1-tcp8420"
listen_udp "$NS_LAN1" 5350 "$WORK/lan1-renumber-announce"
sleep 0.2
got=$(natpmpc_map "$NS_LAN1" 8420 8420 tcp 600)
expect "a mapping before the WAN is renumbered ($got)" [ "$got" = "8420 600" ]
# As a DHCP client does: the old address goes, then the new one comes.
in_router ip addr del "$ROUTER_WAN_IP/24" dev "$ROUTER_WAN_IF"
in_router ip addr add 203.0.113.2/24 dev "$ROUTER_WAN_IF"
in_wan ip route replace "$LAN_NET.0/24" via 203.0.113.2
expect "the WAN address changes (no SIGHUP): NAT-PMP reports 203.0.113.2 within 2 s" external_is 203.0.113.2
heard=$(od -v -An -tx1 "$WORK/lan1-renumber-announce" 2>/dev/null | tr -d ' \n')
expect "  and the LAN was told (NAT-PMP external address notice with 203.0.113.2)" \
	check 'echo "$heard" | grep -q "00800000........cb007102"'
expect "  the mapping made before carries traffic to the new address" \
	check 'ROUTER_WAN_IP=203.0.113.2 wan_reaches tcp 8420 "$WORK/lan1-tcp8420"'
in_router ip addr del 203.0.113.2/24 dev "$ROUTER_WAN_IF"
in_router ip addr add "$ROUTER_WAN_IP/24" dev "$ROUTER_WAN_IF"
in_wan ip route replace "$LAN_NET.0/24" via "$ROUTER_WAN_IP"
expect "  and back: NAT-PMP reports $ROUTER_WAN_IP again" external_is "$ROUTER_WAN_IP"
kill $(pgrep -f "UDP-RECV:5350.*lan1-renumber-announce") 2>/dev/null

summary renumbering
