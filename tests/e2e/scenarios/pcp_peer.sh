#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# PCP PEER (RFC 6887 §12): a flow the router tracks reported from conntrack,
# and a PEER mapping made for an application that asks first and sends
# afterwards, with traffic both ways. Usage: pcp_peer.sh BUILD_DIR. Needs
# root; runnable alone (tests/e2e/scenario.sh BUILD_DIR pcp_peer).
. "$(dirname "$0")/common.sh"

in_wan socat -u UDP-RECVFROM:7777,fork,reuseaddr SYSTEM:"echo \$SOCAT_PEERADDR \$SOCAT_PEERPORT >> $WORK/wan-seen" 2>/dev/null &
sleep 0.2
echo "outbound" | in_lan1 socat -u - "UDP-SENDTO:$WAN_IP:7777,sourceport=40100" 2>/dev/null
arrives "$ROUTER_WAN_IP" "$WORK/wan-seen"
# socat writes "ADDR PORT" (a colon would end its SYSTEM command).
seen=$(head -n 1 "$WORK/wan-seen" 2>/dev/null | tr ' ' ':')
got=$(pcp "$NS_LAN1" -n $NONCE_A -l 600 peer udp 40100 "$WAN_IP" 7777)
expect "PEER reports the external address and port the WAN host saw ($seen; $got)" \
	check '[ -n "$seen" ] && [ "$(field result "$got")" = SUCCESS ] && [ "$(field external "$got")" = "$seen" ] && [ "$(field lifetime "$got")" = 600 ]'
# conntrack(8) prints the entry's remaining timeout in seconds as the third
# field; UDP's default for such a flow is 30 s.
ct_timeout=$(in_router conntrack -L -p udp --orig-port-src 40100 2>/dev/null | awk '{print $3}' | head -n 1)
expect "PEER set the flow's conntrack timeout to the lifetime (${ct_timeout:-none} s left of 600)" \
	check '[ "${ct_timeout:-0}" -gt 500 ] && [ "${ct_timeout:-0}" -le 600 ]'

# An application that asks first and sends afterwards (RFC 6887 §12): PEER
# makes the mapping, and its first datagram leaves from the port it was told,
# not from the router's own source NAT range (20000-20099).
peer_elements() { in_router nft list map inet portleased peer4 | grep -c "$1"; }
got=$(pcp "$NS_LAN1" -n $NONCE_A -l 600 peer udp 40101 "$WAN_IP" 7777 41000)
expect "PEER with no flow yet makes the mapping, on the suggested external port ($got)" \
	check '[ "$(field result "$got")" = SUCCESS ] && [ "$(field external "$got")" = "$ROUTER_WAN_IP:41000" ] && [ "$(field lifetime "$got")" = 600 ]'
echo "after asking" | in_lan1 socat -u - "UDP-SENDTO:$WAN_IP:7777,sourceport=40101" 2>/dev/null
expect "  the host's first datagram after the answer leaves from it: the WAN host sees $ROUTER_WAN_IP 41000" \
	arrives "^$ROUTER_WAN_IP 41000\$" "$WORK/wan-seen"
expect "  audited with its remote peer" \
	grep -q "audit event=granted origin=pcp proto=udp client=$LAN1_IP internal=$LAN1_IP:40101 external_port=41000 peer=$WAN_IP:7777 lifetime=600" "$LOG"
expect "  portleasectl list shows it, with its remote peer" \
	check '"$CTL" -s "$WORK/control.sock" list | grep -q "^udp   41000 .*pcp .*\[PEER $WAN_IP:7777\]"'
expect "  and --json too" \
	check '"$CTL" -s "$WORK/control.sock" list --json | sed "s/},{/\n/g" | grep "\"external_port\":41000," | grep -q "\"peers\":\[\"$WAN_IP:7777\"\]"'
# The remote may send first (a VoIP or game peer): only that one gets in.
listen_udp "$NS_LAN1" 40102 "$WORK/lan1-udp40102"
got=$(pcp "$NS_LAN1" -n $NONCE_A -l 600 peer udp 40102 "$WAN_IP" 7779)
peer_port=$(field external "$got" | sed 's/.*://')
expect "PEER for a remote that sends first ($got)" \
	check '[ "$(field result "$got")" = SUCCESS ] && [ -n "$peer_port" ]'
expect "  that remote's datagram reaches the LAN host before the host sent anything" \
	from "$WAN_IP:7779" wan_reaches udp "${peer_port:-0}" "$WORK/lan1-udp40102"
expect "  another port of the same WAN host does not" \
	from "$WAN_IP:7780" wan_blocked udp "${peer_port:-0}" "$WORK/lan1-udp40102"
got=$(pcp "$NS_LAN1" -n $NONCE_A -l 900 peer udp 40101 "$WAN_IP" 7777)
expect "PEER again renews it: the same port, the new lifetime ($got)" \
	check '[ "$(field external "$got")" = "$ROUTER_WAN_IP:41000" ] && [ "$(field lifetime "$got")" = 900 ]'
got=$(pcp "$NS_LAN1" -n $NONCE_A -l 600 peer udp 40101 "$WAN_IP" 7778)
expect "PEER to a second remote from the same socket shares its external port ($got)" \
	check '[ "$(field external "$got")" = "$ROUTER_WAN_IP:41000" ] && [ "$(peer_elements "$LAN1_IP . 40101")" = 2 ]'
got=$(pcp "$NS_LAN1" -n $NONCE_B -l 0 peer udp 40101 "$WAN_IP" 7777)
expect "only the nonce that made it may delete it ($(field result "$got"))" \
	check '[ "$(field result "$got")" = NOT_AUTHORIZED ] && [ "$(peer_elements "$LAN1_IP . 40101")" = 2 ]'
got=$(pcp "$NS_LAN1" -n $NONCE_A -l 0 peer udp 40101 "$WAN_IP" 7778)
got2=$(pcp "$NS_LAN1" -n $NONCE_A -l 0 peer udp 40101 "$WAN_IP" 7777)
expect "lifetime 0 deletes it, remote by remote ($(field result "$got"), $(field result "$got2"))" \
	check '[ "$(field result "$got2")" = SUCCESS ] && [ "$(peer_elements "$LAN1_IP . 40101")" = 0 ] &&
	       ! "$CTL" -s "$WORK/control.sock" list | grep -q "^udp   41000 "'
got=$(pcp "$NS_LAN1" -n $NONCE_A -l 600 peer tcp 40103 "$WAN_IP" 7781)
listen_tcp "$NS_WAN" 7781 "$WORK/wan-tcp7781"
echo "tcp after asking" | in_lan1 timeout 3 socat -u - "TCP:$WAN_IP:7781,sourceport=40103,connect-timeout=1" 2>/dev/null
expect "a TCP PEER: the connection opened after the answer comes from its port ($got)" \
	check 'arrives "tcp after asking" "$WORK/wan-tcp7781" &&
	       in_router conntrack -L -p tcp --orig-port-src 40103 2>/dev/null | grep -q "dport=$(field external "$got" | sed "s/.*://")"'
got=$(pcp "$NS_LAN1" -n $NONCE_A peer udp 40100 "$WAN_IP" 0)
expect "PEER with remote port 0 is MALFORMED_REQUEST ($(field result "$got"))" \
	[ "$(field result "$got")" = MALFORMED_REQUEST ]
got=$(pcp "$NS_LAN1" -n $NONCE_A peer tcp 100 "$WAN_IP" 7777)
expect "PEER from an internal port the policy denies is NOT_AUTHORIZED ($(field result "$got"))" \
	[ "$(field result "$got")" = NOT_AUTHORIZED ]

summary pcp_peer
