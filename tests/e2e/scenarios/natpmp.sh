#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# NAT-PMP (RFC 6886) with Debian's natpmpc: grants carrying real TCP and
# UDP traffic from the WAN host, refreshes, port conflicts, the policy,
# deletion, result codes and hostile datagrams (natpmp_probe), requests
# from the WAN side.
# Usage: natpmp.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR natpmp).
. "$(dirname "$0")/common.sh"

listen_tcp "$NS_LAN1" 8080 "$WORK/lan1-tcp8080"
listen_udp "$NS_LAN1" 5000 "$WORK/lan1-udp5000"
listen_tcp "$NS_LAN2" 7000 "$WORK/lan2-tcp7000"
sleep 0.3

# --- NAT-PMP with natpmpc ---------------------------------------------------

ext=$(in_lan1 natpmpc -g "$ROUTER_LAN_IP" 2>&1 | sed -n 's/^Public IP address : //p')
expect "external address answered is the router's WAN address ($ext)" [ "$ext" = "$ROUTER_WAN_IP" ]

expect "no mapping, no traffic: WAN cannot reach the LAN TCP service" wan_blocked tcp 8080 "$WORK/lan1-tcp8080"

got=$(natpmpc_map "$NS_LAN1" 8080 8080 tcp 600)
expect "TCP mapping granted on the suggested port ($got)" [ "$got" = "8080 600" ]
expect "TCP mapping carries a connection from the WAN host to the LAN listener" \
	wan_reaches tcp 8080 "$WORK/lan1-tcp8080"

got=$(natpmpc_map "$NS_LAN1" 5000 5000 udp 600)
expect "UDP mapping granted ($got)" [ "$got" = "5000 600" ]
expect "UDP mapping carries a datagram from the WAN host to the LAN listener" \
	wan_reaches udp 5000 "$WORK/lan1-udp5000"

got=$(natpmpc_map "$NS_LAN1" 8080 8080 tcp 900)
expect "refresh keeps the external port and takes the new lifetime ($got)" [ "$got" = "8080 900" ]
expect "the kernel holds exactly one element for the refreshed mapping" [ "$(nft_elements "$LAN1_IP . 8080")" = 1 ]

got=$(natpmpc_map "$NS_LAN2" 8080 7000 tcp 600)
expect "a taken external port is not given twice: lan2 gets 8081 ($got)" [ "$got" = "8081 600" ]
expect "lan2's mapping carries its own traffic" wan_reaches tcp 8081 "$WORK/lan2-tcp7000"
expect "lan1's mapping still carries its traffic" wan_reaches tcp 8080 "$WORK/lan1-tcp8080"

got=$(natpmpc_map "$NS_LAN1" 80 8090 tcp 600)
expect "a suggested port the policy denies is replaced by an allowed one ($got)" [ "$got" = "1024 600" ]

got=$(natpmpc_map "$NS_LAN1" 8100 100 tcp 600)
expect "an internal port the policy denies is refused NOT_AUTHORIZED ($got)" \
	[ "$got" = "failed : not authorized" ]

got=$(natpmpc_map "$NS_LAN1" 9200 9200 tcp 999999)
expect "a lifetime above the maximum is clamped to it ($got)" [ "$got" = "9200 3600" ]

# --- deletion ----------------------------------------------------------------

got=$(natpmpc_map "$NS_LAN1" 0 8080 tcp 0)
expect "lifetime 0 deletes the mapping ($got)" [ "$got" = "0 0" ]
expect "after deletion the WAN host no longer reaches the TCP service" wan_blocked tcp 8080 "$WORK/lan1-tcp8080"
expect "after deletion the kernel holds no element for it" [ "$(nft_elements "$LAN1_IP . 8080")" = 0 ]

got=$(natpmpc_map "$NS_LAN1" 0 0 udp 0)
expect "lifetime 0 with internal port 0 deletes all of the client's UDP mappings ($got)" [ "$got" = "0 0" ]
expect "after delete-all the UDP service is unreachable" wan_blocked udp 5000 "$WORK/lan1-udp5000"
expect "delete-all left lan2's TCP mapping alone" wan_reaches tcp 8081 "$WORK/lan2-tcp7000"

# --- result codes and hostile input (our probe: natpmpc only sends valid requests)

got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw 0200)
expect "a 2-octet PCP request is answered MALFORMED_REQUEST in PCP form ($got)" \
	sh -c "echo '$got' | grep -q '^result=3 op=128 '"
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw 0003)
expect "opcode 3 is answered UNSUPP_OPCODE ($got)" sh -c "echo '$got' | grep -q '^result=5 op=131 '"
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw 00020000)
expect "a truncated map request gets no answer and no mapping ($got)" [ "$got" = noreply ]
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw 0082000000000000)
expect "a datagram with the response bit set is ignored ($got)" [ "$got" = noreply ]
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw "$(head -c 1500 /dev/zero | od -v -An -tx1 | tr -d ' \n')")
expect "an oversized datagram is ignored ($got)" [ "$got" = noreply ]
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" map tcp 0 0 3600)
expect "internal port 0 with a lifetime is refused NOT_AUTHORIZED ($got)" \
	sh -c "echo '$got' | grep -q '^result=2 '"
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" map tcp 8300 8300 3600)
expect "the daemon still answers after hostile input ($got)" sh -c "echo '$got' | grep -q '^result=0 .* mapped=8300 '"

in_wan ip route add "$LAN_NET.0/24" via "$ROUTER_WAN_IP"
got=$(in_wan "$PROBE" "$ROUTER_LAN_IP" map tcp 8400 8400 3600)
expect "a request from the WAN side to the LAN address is ignored ($got)" [ "$got" = noreply ]
got=$(in_wan "$PROBE" "$ROUTER_WAN_IP" map tcp 8400 8400 3600)
expect "nothing answers NAT-PMP on the external address ($got)" [ "$got" = noreply ]
expect "the WAN requests installed nothing" [ "$(nft_elements '. 8400')" = 0 ]

summary natpmp
