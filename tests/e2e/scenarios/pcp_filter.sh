#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# PCP FILTER (RFC 6887 §13.3): only the listed remote hosts (and ports)
# reach a mapping; refreshes change the list; overlapping filters; deletion
# takes the filter elements. Usage: pcp_filter.sh BUILD_DIR. Needs root;
# runnable alone (tests/e2e/scenario.sh BUILD_DIR pcp_filter).
. "$(dirname "$0")/common.sh"

listen_tcp "$NS_LAN1" 9800 "$WORK/lan1-tcp9800"
listen_udp "$NS_LAN1" 9810 "$WORK/lan1-udp9810"
filtered_elements() { in_router nft list map inet portleased fwd4_filtered | grep -o "$1" | wc -l; }

got=$(pcp "$NS_LAN1" -n $NONCE_A -f "$WAN_IP" map tcp 9800 9800)
expect "PCP MAP with FILTER for one WAN host is granted ($got)" \
	[ "$(field external "$got")" = "$ROUTER_WAN_IP:9800" ]
expect "FILTER: the listed WAN host reaches the LAN listener" from "$WAN_IP" wan_reaches tcp 9800 "$WORK/lan1-tcp9800"
expect "FILTER: a second WAN host is refused" from "$WAN_IP2" wan_blocked tcp 9800 "$WORK/lan1-tcp9800"
got=$(pcp "$NS_LAN1" -n $NONCE_A -f "$WAN_IP" -f "$WAN_IP2/32" map tcp 9800 9800)
expect "a refresh with two filters admits the second host ($(field result "$got"))" \
	from "$WAN_IP2" wan_reaches tcp 9800 "$WORK/lan1-tcp9800"
expect "  and still the first" from "$WAN_IP" wan_reaches tcp 9800 "$WORK/lan1-tcp9800"
got=$(pcp "$NS_LAN1" -n $NONCE_A map tcp 9800 9800)
expect "a refresh without FILTER opens the mapping to every remote ($(field result "$got"))" \
	from "$WAN_IP2" wan_reaches tcp 9800 "$WORK/lan1-tcp9800"
expect "  and leaves no filter element behind" [ "$(filtered_elements 'tcp . 9800')" = 0 ]
got=$(pcp "$NS_LAN1" -n $NONCE_A -f "203.0.113.0/24:40001" -f "$WAN_IP2" map udp 9810 9810)
expect "overlapping filters (a /24 on one port, a host inside it on all) are granted ($got)" \
	[ "$(field result "$got")" = SUCCESS ]
expect "FILTER with a remote port: that source port gets through" \
	from "$WAN_IP:40001" wan_reaches udp 9810 "$WORK/lan1-udp9810"
expect "FILTER with a remote port: another source port is refused" \
	from "$WAN_IP:40002" wan_blocked udp 9810 "$WORK/lan1-udp9810"
expect "FILTER: the host filtered on every port gets through from any port" \
	from "$WAN_IP2:40002" wan_reaches udp 9810 "$WORK/lan1-udp9810"
got=$(pcp "$NS_LAN1" -n $NONCE_A -f "[2001:db8::/32]" map tcp 9801 9801)
expect "an IPv6 FILTER on an IPv4 mapping is MALFORMED_OPTION ($got)" \
	[ "$(field result "$got")" = MALFORMED_OPTION ]
got=$(pcp "$NS_LAN1" -n $NONCE_A delete udp 9810)
expect "deleting a filtered mapping deletes its filter elements ($(field result "$got"))" \
	[ "$(filtered_elements 'udp . 9810')" = 0 ]

summary pcp_filter
