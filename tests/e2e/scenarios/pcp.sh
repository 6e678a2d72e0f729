#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# PCP (RFC 6887) with portleasectl: MAP over TCP and UDP carrying traffic,
# nonces, PREFER_FAILURE, THIRD_PARTY under the policy, one lease for
# NAT-PMP and PCP, the fallback to NAT-PMP, the per-client quota, ANNOUNCE,
# and hand-made hostile datagrams.
# Usage: pcp.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR pcp).
. "$(dirname "$0")/common.sh"

listen_tcp "$NS_LAN1" 9400 "$WORK/lan1-tcp9400"
listen_udp "$NS_LAN1" 9500 "$WORK/lan1-udp9500"
listen_tcp "$NS_LAN2" 9600 "$WORK/lan2-tcp9600"
listen_tcp "$NS_LAN2" 9650 "$WORK/lan2-tcp9650"
sleep 0.3

# --- PCP (RFC 6887) with portleasectl ---------------------------------------

# For hand-made PCP datagrams: lan1's address as PCP writes it, and a MAP
# body (nonce A, TCP, port 9500 both ways).
LAN1_MAPPED=00000000000000000000ffffc0a84d0a
MAP_BODY=${NONCE_A}06000000251c251c00000000000000000000000000000000

got=$(pcp "$NS_LAN1" -n $NONCE_A -d "test web" map tcp 9400 9400)
expect "PCP MAP TCP granted on the external address ($got)" \
	check '[ "$(field result "$got")" = SUCCESS ] && [ "$(field external "$got")" = "$ROUTER_WAN_IP:9400" ]'
expect "PCP TCP mapping carries traffic from the WAN host" wan_reaches tcp 9400 "$WORK/lan1-tcp9400"
expect "the DESCRIPTION option is kept and logged with the grant" \
	grep -q 'audit event=granted origin=pcp proto=tcp .* external_port=9400 .*description="test web"' "$LOG"
got=$(pcp "$NS_LAN1" -n $NONCE_A map udp 9500 9500)
expect "PCP MAP UDP granted ($got)" [ "$(field external "$got")" = "$ROUTER_WAN_IP:9500" ]
expect "PCP UDP mapping carries traffic from the WAN host" wan_reaches udp 9500 "$WORK/lan1-udp9500"

got=$(pcp "$NS_LAN1" -n $NONCE_A -l 1200 map tcp 9400 9999)
expect "PCP refresh with the same nonce keeps the port, takes the new lifetime ($got)" \
	check '[ "$(field external "$got")" = "$ROUTER_WAN_IP:9400" ] && [ "$(field lifetime "$got")" = 1200 ]'
got=$(pcp "$NS_LAN1" -n $NONCE_B map tcp 9400 9400)
expect "PCP refresh with another nonce is refused NOT_AUTHORIZED ($got)" [ "$(field result "$got")" = NOT_AUTHORIZED ]
got=$(pcp "$NS_LAN1" -n $NONCE_B delete tcp 9400)
expect "PCP delete with another nonce is refused NOT_AUTHORIZED ($got)" [ "$(field result "$got")" = NOT_AUTHORIZED ]
expect "after the refused delete the mapping still carries traffic" wan_reaches tcp 9400 "$WORK/lan1-tcp9400"

got=$(pcp "$NS_LAN2" -n $NONCE_B -p map tcp 9600 9400)
expect "PREFER_FAILURE with a taken port: CANNOT_PROVIDE_EXTERNAL ($got)" \
	[ "$(field result "$got")" = CANNOT_PROVIDE_EXTERNAL ]
got=$(pcp "$NS_LAN2" -n $NONCE_B map tcp 9600 9400)
expect "without PREFER_FAILURE the same request gets the next port ($got)" \
	[ "$(field external "$got")" = "$ROUTER_WAN_IP:9401" ]
expect "and lan2's PCP mapping carries its traffic" wan_reaches tcp 9401 "$WORK/lan2-tcp9600"

got=$(pcp "$NS_LAN1" -n $NONCE_A delete tcp 9400)
expect "PCP delete with the right nonce succeeds with lifetime 0 ($got)" \
	check '[ "$(field result "$got")" = SUCCESS ] && [ "$(field lifetime "$got")" = 0 ]'
expect "after the PCP delete the WAN host no longer gets through" wan_blocked tcp 9400 "$WORK/lan1-tcp9400"

got=$(pcp "$NS_LAN1" -n $NONCE_A -t "$LAN2_IP" map tcp 9600 9600)
expect "THIRD_PARTY for another host is refused while the policy does not allow it ($got)" \
	[ "$(field result "$got")" = NOT_AUTHORIZED ]

cp "$CONF" "$WORK/before-third-party.conf"
sed -i "s|clients = \"$LAN_NET.0/24\";|clients = \"$LAN_NET.0/24\"; third_party = true;|" "$CONF"
reload
got=$(pcp "$NS_LAN1" -n $NONCE_A -t "$LAN2_IP" map tcp 9600 9600)
expect "even then, lan2's own mapping of that port stays lan2's ($got)" \
	[ "$(field result "$got")" = NOT_AUTHORIZED ]
got=$(pcp "$NS_LAN1" -n $NONCE_A -t "$LAN2_IP" map tcp 9650 9650)
expect "with third_party allowed by a policy rule, lan1 maps a port for lan2 ($got)" \
	[ "$(field external "$got")" = "$ROUTER_WAN_IP:9650" ]
expect "and that third-party mapping carries traffic to lan2" wan_reaches tcp 9650 "$WORK/lan2-tcp9650"
got=$(pcp "$NS_LAN1" -n $NONCE_A -t "$LAN1_IP" map tcp 9601 9601)
expect "THIRD_PARTY naming the requester itself is MALFORMED_OPTION ($got)" [ "$(field result "$got")" = MALFORMED_OPTION ]
got=$(pcp "$NS_LAN1" -n $NONCE_A -t 10.9.9.9 map tcp 9601 9601)
expect "THIRD_PARTY off the LAN link is NOT_AUTHORIZED ($got)" [ "$(field result "$got")" = NOT_AUTHORIZED ]
cp "$WORK/before-third-party.conf" "$CONF"
reload

got=$(natpmpc_map "$NS_LAN1" 9700 9700 tcp 600)
got2=$(pcp "$NS_LAN1" -n $NONCE_A map tcp 9700 1)
expect "a NAT-PMP mapping and a PCP MAP of the same endpoint are one lease ($got / $got2)" \
	check '[ "$got" = "9700 600" ] && [ "$(field external "$got2")" = "$ROUTER_WAN_IP:9700" ] && [ "$(nft_elements "$LAN1_IP . 9700")" = 1 ]'

# --- portleasectl falls back to NAT-PMP when the gateway has no PCP ---------

cp "$CONF" "$WORK/before-nopcp.conf"
echo "enable_pcp = false;" >> "$CONF"
reload
listen_tcp "$NS_LAN1" 9970 "$WORK/lan1-tcp9970"
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw "0201000000000258$LAN1_MAPPED$MAP_BODY")
expect "with enable_pcp = false a PCP request gets NAT-PMP's UNSUPP_VERSION ($got)" \
	sh -c "echo '$got' | grep -q '^result=1 op=129 '"
got=$(pcp "$NS_LAN1" -l 600 map tcp 9970 9970)
expect "portleasectl pcp falls back to NAT-PMP and gets the mapping ($got)" \
	check '[ "$(field protocol "$got")" = natpmp ] && [ "$(field result "$got")" = SUCCESS ] && [ "$(field external_port "$got")" = 9970 ]'
expect "  and the fallback mapping carries traffic" wan_reaches tcp 9970 "$WORK/lan1-tcp9970"
cp "$WORK/before-nopcp.conf" "$CONF"
reload

# --- a per-client quota ---------------------------------------------------

cp "$CONF" "$WORK/before-quota.conf"
echo "max_leases_per_client = 1;" >> "$CONF"
reload
got=$(pcp "$NS_LAN2" -n $NONCE_B map tcp 9960 9960)
expect "past max_leases_per_client a new PCP mapping is USER_EX_QUOTA ($got)" \
	check '[ "$(field result "$got")" = USER_EX_QUOTA ] && [ "$(field lifetime "$got")" = 30 ]'
got=$(natpmpc_map "$NS_LAN2" 9961 9961 tcp 600)
expect "  and over NAT-PMP OUT_OF_RESOURCES ($got)" [ "$got" = "failed : nat-pmp server out of resources" ]
got=$(pcp "$NS_LAN2" -n $NONCE_B map tcp 9600 9400)
expect "  while renewing a mapping the client holds still works ($got)" \
	[ "$(field external "$got")" = "$ROUTER_WAN_IP:9401" ]
cp "$WORK/before-quota.conf" "$CONF"
reload

got=$(pcp "$NS_LAN1" announce)
expect "ANNOUNCE is answered SUCCESS with the epoch ($got)" [ "$(field result "$got")" = SUCCESS ]

# Hand-made PCP datagrams: header(24) + MAP(36) [+ options]. The probe reads
# the result code from octet 3, where both protocols put it.
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw "020100000000025800000000000000000000ffffc0a84d63$MAP_BODY")
expect "a client address that is not the source: ADDRESS_MISMATCH ($got)" sh -c "echo '$got' | grep -q '^result=12 op=129 '"
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw "0101000000000258$LAN1_MAPPED$MAP_BODY")
expect "PCP version 1 is answered UNSUPP_VERSION ($got)" sh -c "echo '$got' | grep -q '^result=1 op=129 '"
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw "0209000000000258$LAN1_MAPPED$MAP_BODY")
expect "an unknown PCP opcode is answered UNSUPP_OPCODE ($got)" sh -c "echo '$got' | grep -q '^result=4 op=137 '"
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw "0201000000000258$LAN1_MAPPED${MAP_BODY}63000004deadbeef")
expect "an unknown mandatory option is answered UNSUPP_OPTION ($got)" sh -c "echo '$got' | grep -q '^result=5 '"
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw "0201000000000258$LAN1_MAPPED${MAP_BODY}02000008")
expect "an option running past the packet is answered MALFORMED_OPTION ($got)" sh -c "echo '$got' | grep -q '^result=6 '"
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw "0201000000000258$LAN1_MAPPED${NONCE_A}84000000251c251c00000000000000000000000000000000")
expect "protocol 132 (SCTP) is answered UNSUPP_PROTOCOL ($got)" sh -c "echo '$got' | grep -q '^result=9 '"
expect "none of the hostile PCP datagrams (all for TCP 9500) installed anything" \
	[ "$(nft_elements 'tcp . 9500 ')" = 0 ]

summary pcp
