#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# IPv6: PCP over IPv6 opens firewall pinholes on a host's own address and
# port, filtered or not, decided by the policy, closed on delete; NAT-PMP
# is IPv4 only. Usage: ipv6_pinholes.sh BUILD_DIR. Needs root; runnable
# alone (tests/e2e/scenario.sh BUILD_DIR ipv6_pinholes).
. "$(dirname "$0")/common.sh"

listen_tcp6 "$NS_LAN1" 9900 "$WORK/lan1-tcp6-9900"
listen_udp6 "$NS_LAN1" 9910 "$WORK/lan1-udp6-9910"
listen_tcp6 "$NS_LAN2" 9920 "$WORK/lan2-tcp6-9920"
pcp6() { ns=$1; shift; ip netns exec "$ns" "$CTL" pcp -g "$ROUTER_LAN_IP6" "$@"; }
expect "IPv6: no pinhole, no traffic: the WAN host cannot reach the LAN listener" \
	wan6_blocked tcp "$LAN1_IP6" 9900 "$WORK/lan1-tcp6-9900"
got=$(pcp6 "$NS_LAN1" -n $NONCE_A map tcp 9900 1)
expect "IPv6 MAP over PCP opens a pinhole on the host's own address and port ($got)" \
	check '[ "$(field result "$got")" = SUCCESS ] && [ "$(field external "$got")" = "[$LAN1_IP6]:9900" ]'
expect "IPv6 pinhole carries a TCP connection from the WAN host to the LAN listener" \
	wan6_reaches tcp "$LAN1_IP6" 9900 "$WORK/lan1-tcp6-9900"
expect "  but only to that host: lan2's listener stays unreachable" \
	wan6_blocked tcp "$LAN2_IP6" 9920 "$WORK/lan2-tcp6-9920"
got=$(pcp6 "$NS_LAN1" -n $NONCE_A -f "[$WAN_IP6]" map udp 9910)
expect "IPv6 UDP pinhole with a FILTER for one WAN host ($(field result "$got"))" \
	from6 "$WAN_IP6" wan6_reaches udp "$LAN1_IP6" 9910 "$WORK/lan1-udp6-9910"
expect "  a second WAN host is refused" \
	from6 "$WAN_IP6_2" wan6_blocked udp "$LAN1_IP6" 9910 "$WORK/lan1-udp6-9910"
got=$(pcp6 "$NS_LAN2" -n $NONCE_B map tcp 1023)
expect "the policy decides IPv6 pinholes too: port 1023 is denied ($(field result "$got"))" \
	[ "$(field result "$got")" = NOT_AUTHORIZED ]
got=$(pcp6 "$NS_LAN2" -n $NONCE_B map tcp 9920)
expect "two hosts may open the same port number, each on its own address ($(field external "$got"))" \
	[ "$(field external "$got")" = "[$LAN2_IP6]:9920" ]
expect "  and lan2's pinhole carries its own traffic" \
	wan6_reaches tcp "$LAN2_IP6" 9920 "$WORK/lan2-tcp6-9920"
expect "  portleasectl list says when its last connection came (the kernel's seen6 set)" \
	check 'ctl list --json | sed "s/},{/\n/g" | grep "\"internal_port\":9920," | grep "\"pinhole_id\"" | grep -q "\"last_used\":[0-9]"'
got=$(pcp6 "$NS_LAN1" -n $NONCE_A delete tcp 9900)
expect "deleting the IPv6 pinhole closes it ($(field result "$got"))" \
	wan6_blocked tcp "$LAN1_IP6" 9900 "$WORK/lan1-tcp6-9900"
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP6" map tcp 9930 9930 600 2>&1)
expect "NAT-PMP is not answered over IPv6 ($got)" [ "$got" = noreply ]

summary ipv6_pinholes
