#!/bin/sh
# End-to-end tests: portleased in a router namespace, natpmpc (Debian's
# libnatpmp client) on two LAN hosts, real TCP and UDP traffic from a WAN
# host. Usage: run.sh BUILD_DIR. Needs root.
set -u

BUILD=${1:-build}
DAEMON="$BUILD/portleased"
PROBE="$BUILD/tests/e2e/natpmp_probe"
CTL="$BUILD/portleasectl"
HERE=$(dirname "$0")
. "$HERE/netns.sh"

WORK=$(mktemp -d /tmp/portleased-e2e.XXXXXX)
CONF="$WORK/portleased.conf"
LOG="$WORK/portleased.log"
MSG_ID=0
. "$HERE/harness.sh"
. "$HERE/traffic.sh"

# --- helpers ----------------------------------------------------------------

. "$HERE/helpers.sh"


# --- the network -----------------------------------------------------------

net_setup || { echo "not ok - cannot build the test network (need root, iproute2, veth and bridge)"; exit 1; }
write_router_config "$CONF"

# The router's firewall (netns.sh): someone else's tables, which must come
# through untouched, and a forward policy of drop, so that every traffic
# test below runs through a drop-policy firewall.
make_neighbour_tables
NEIGHBOUR_BEFORE=$(in_router nft list table inet neighbour)

start_portleased "$DAEMON" "$CONF" "$LOG" || { echo "not ok - portleased did not start"; exit 1; }

# --- privilege separation ----------------------------------------------------

# status PID FIELD: a line of /proc/PID/status, its value only.
status() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' '; }
HELPER_PID=$(pgrep -P "$PORTLEASED_PID" -x portleased-nft)
NOBODY=$(id -u nobody)
expect "portleased runs as nobody with no capability and no_new_privs ($(status "$PORTLEASED_PID" CapEff))" \
	check '[ "$(status "$PORTLEASED_PID" Uid)" = "$NOBODY $NOBODY $NOBODY $NOBODY" ] &&
	       [ "$(status "$PORTLEASED_PID" CapEff)" = 0000000000000000 ] &&
	       [ "$(status "$PORTLEASED_PID" CapPrm)" = 0000000000000000 ] &&
	       [ "$(status "$PORTLEASED_PID" CapAmb)" = 0000000000000000 ] &&
	       [ "$(status "$PORTLEASED_PID" NoNewPrivs)" = 1 ]'
expect "its helper portleased-nft (pid ${HELPER_PID:-none}) keeps CAP_NET_ADMIN only, as nobody too" \
	check '[ -n "$HELPER_PID" ] && [ "$(status "$HELPER_PID" CapEff)" = 0000000000001000 ] &&
	       [ "$(status "$HELPER_PID" CapPrm)" = 0000000000001000 ] &&
	       [ "$(status "$HELPER_PID" Uid)" = "$NOBODY $NOBODY $NOBODY $NOBODY" ]'
# What the helper links: nothing that parses what LAN hosts send.
helper_links=$(ldd "$BUILD/portleased-nft" | awk '{print $1}' | tr '\n' ' ')
expect "the helper links no expat, no libevent ($helper_links)" \
	check '! echo "$helper_links" | grep -q "libexpat\|libevent"'
expect "  and none of the NAT-PMP, PCP or UPnP codecs" \
	check '[ "$(nm "$BUILD/portleased-nft" | grep -cE " [Tt] (natpmp|pcp|soap|ssdp|http|gena|igd)_")" = 0 ] &&
	       [ "$(nm "$DAEMON" | grep -cE " [Tt] (natpmp|pcp|soap|ssdp|http|gena|igd)_")" -gt 20 ]'
out=$(in_router setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	--ambient-caps=-all --bounding-set=-all nft add table inet evil 2>&1)
expect "with portleased's credentials nftables cannot be changed ($out)" \
	check 'echo "$out" | grep -q "Operation not permitted" && ! in_router nft list table inet evil >/dev/null 2>&1'
# A compromised portleased, played by priv_probe, asking its own helper
# (on a table of its own) for what the policy denies.
write_router_config "$WORK/probe.conf" 'nft_table = "probe";'
sed -i 's|^user = .*|user = "nobody";|' "$WORK/probe.conf"
PRIV_PROBE="$BUILD/tests/e2e/priv_probe"
got=$(in_router "$PRIV_PROBE" "$BUILD/portleased-nft" "$WORK/probe.conf" add tcp 80 "$LAN1_IP" 80 "$LAN1_IP" 2>>"$WORK/probe.log")
expect "the helper refuses a mapping the policy denies, whatever the other half says ($got)" \
	check '[ "$got" = "rc=-1" ] && ! in_router nft list map inet probe fwd4 | grep -q "tcp . 80 "'
got=$(in_router "$PRIV_PROBE" "$BUILD/portleased-nft" "$WORK/probe.conf" static tcp 2222 "$LAN2_IP" 2222 2>>"$WORK/probe.log")
expect "  and a \"static\" mapping the config does not declare, where the policy denies ($got)" [ "$got" = "rc=-1" ]
got=$(in_router "$PRIV_PROBE" "$BUILD/portleased-nft" "$WORK/probe.conf" add tcp 7777 "$LAN2_IP" 7777 "$LAN1_IP" 2>>"$WORK/probe.log")
expect "  and a third party's mapping no rule allows ($got)" [ "$got" = "rc=-1" ]
got=$(in_router "$PRIV_PROBE" "$BUILD/portleased-nft" "$WORK/probe.conf" short 2>>"$WORK/probe.log")
expect "  and a malformed request, with EINVAL ($got)" [ "$got" = "rc=-22" ]
got=$(in_router "$PRIV_PROBE" "$BUILD/portleased-nft" "$WORK/probe.conf" add tcp 7777 "$LAN1_IP" 7777 "$LAN1_IP" 2>>"$WORK/probe.log")
expect "  but does what the policy allows ($got)" \
	check '[ "$got" = "rc=0" ] && in_router nft list map inet probe fwd4 | grep -q "tcp . 7777 "'
expect "  and logs each refusal" check '[ "$(grep -c "portleased-nft warning: refused" "$WORK/probe.log")" -ge 4 ]'
in_router nft delete table inet probe

listen_tcp "$NS_LAN1" 8080 "$WORK/lan1-tcp8080"
listen_udp "$NS_LAN1" 5000 "$WORK/lan1-udp5000"
listen_tcp "$NS_LAN1" 9100 "$WORK/lan1-tcp9100"
listen_tcp "$NS_LAN2" 7000 "$WORK/lan2-tcp7000"
listen_tcp "$NS_LAN1" 9400 "$WORK/lan1-tcp9400"
listen_udp "$NS_LAN1" 9500 "$WORK/lan1-udp9500"
listen_tcp "$NS_LAN2" 9600 "$WORK/lan2-tcp9600"
listen_tcp "$NS_LAN2" 9650 "$WORK/lan2-tcp9650"
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

# --- PCP (RFC 6887) with portleasectl ---------------------------------------

NONCE_A=0102030405060708090a0b0c
NONCE_B=a1a2a3a4a5a6a7a8a9aaabac
# For hand-made PCP datagrams: lan1's address as PCP writes it, and a MAP
# body (nonce A, TCP, port 9500 both ways).
LAN1_MAPPED=00000000000000000000ffffc0a84d0a
MAP_BODY=${NONCE_A}06000000251c251c00000000000000000000000000000000
pcp() { ns=$1; shift; ip netns exec "$ns" "$CTL" pcp -g "$ROUTER_LAN_IP" "$@"; }

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

# --- a denied client is answered at once while another is served ------------

( i=0; while [ $i -lt 20 ]; do
	in_lan1 "$PROBE" "$ROUTER_LAN_IP" map udp $((6000 + i)) $((6000 + i)) 600
	i=$((i + 1))
  done > "$WORK/served" ) &
served_pid=$!
: > "$WORK/denied"
refusals_before=$(grep -c "audit event=refused .*client=$LAN2_IP " "$LOG")
burst_line=$(wc -l < "$LOG")
i=0
while [ $i -lt 5 ]; do
	in_lan2 "$PROBE" "$ROUTER_LAN_IP" map tcp 2222 2222 600 >> "$WORK/denied"
	i=$((i + 1))
done
wait $served_pid
denied_ok=$(grep -c '^result=2 ' "$WORK/denied")
median_us=$(sed -n 's/.*rtt_us=//p' "$WORK/denied" | sort -n | sed -n 3p)
expect "a denied request is answered NOT_AUTHORIZED, 5 of 5 ($denied_ok)" [ "$denied_ok" = 5 ]
expect "the denial arrives within 50 ms (median ${median_us:-none} us)" [ "${median_us:-999999}" -lt 50000 ]
expect "the other client was served meanwhile, 20 of 20 ($(grep -c '^result=0 ' "$WORK/served"))" \
	[ "$(grep -c '^result=0 ' "$WORK/served")" = 20 ]
refusals=$(($(grep -c "audit event=refused .*client=$LAN2_IP " "$LOG") - refusals_before))
expect "the audit log has at most one line for those 5 refusals ($refusals), the rest are counted" \
	[ "$refusals" -le 1 ]

# --- a flooding client hits its request rate; another is still served -------

cp "$CONF" "$WORK/before-rate.conf"
echo "client_request_rate = { per_second = 20; burst = 20; };" >> "$CONF"
reload
in_lan1 "$PROBE" "$ROUTER_LAN_IP" flood udp 20000 400 2000 > "$WORK/flood" &
flood_pid=$!
sleep 1
got=$(in_lan2 "$PROBE" "$ROUTER_LAN_IP" map udp 9962 9962 600)
wait $flood_pid
flood=$(cat "$WORK/flood")
# At most the burst, 20 a second while it lasted, and one for rounding.
most=$((20 + 20 * $(field elapsed_ms "$flood") / 1000 + 1))
expect "400 map requests in 2 s from lan1: every one answered, at most $most granted, the rest OUT_OF_RESOURCES ($flood)" \
	check '[ "$(field noreply "$flood")" = 0 ] && [ "$(field other "$flood")" = 0 ] && [ "$(field success "$flood")" -ge 20 ] && [ "$(field success "$flood")" -le $most ] && [ $(($(field success "$flood") + $(field out_of_resources "$flood"))) = 400 ]'
flooded=$(kernel_ports | grep -c '^udp 20[0-3][0-9][0-9]$')
expect "  the kernel holds exactly the granted ones ($flooded)" [ "$flooded" = "$(field success "$flood")" ]
expect "  meanwhile lan2 was served at once ($got)" check 'echo "$got" | grep -q "^result=0 op=129 .* mapped=9962 "'
# lan1's hand-made PCP datagrams above were refused less than 10 s ago:
# then the first of these is counted in lan1's summary, not logged alone.
LAN1_MAC=$(mac_of "$NS_LAN1")
rate_logged() {
	grep -q "audit event=refused origin=natpmp proto=udp client=$LAN1_IP internal=$LAN1_IP:20[0-3][0-9][0-9] result=\"the client asks faster than client_request_rate allows\"" "$LOG" && return 0
	i=0
	while [ $i -lt 110 ]; do
		grep -q "audit event=refused_summary client=[0-9a-f.:]* host=$LAN1_MAC count=[0-9][0-9][0-9]" "$LOG" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
expect "  and the refusals are in the audit log as rate limited, or in lan1's summary" rate_logged
cp "$WORK/before-rate.conf" "$CONF"
reload

# --- WAN renumbering, seen through rtnetlink without a reload ---------------

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

# --- the operator: portleasectl over the control socket -------------------------

ctl() { "$CTL" -s "$WORK/control.sock" "$@" -F "$WORK/static"; }
listen_tcp "$NS_LAN1" 8700 "$WORK/lan1-tcp8700"
sleep 0.2
got=$(natpmpc_map "$NS_LAN1" 8700 8700 tcp 600)
expect "a mapping to look at ($got) carries a connection" wan_reaches tcp 8700 "$WORK/lan1-tcp8700"
json=$(ctl list --json)
expect "list --json names the same port mappings the kernel holds ($(echo "$json" | json_ports | wc -l) of them)" \
	check '[ -n "$(kernel_ports)" ] && [ "$(echo "$json" | json_ports)" = "$(kernel_ports)" ]'
row=$(echo "$json" | sed 's/},{/\n/g' | grep '"external_port":8700,')
kernel_packets=$(in_router nft list set inet portleased allow4 | sed -n "s/.*$LAN1_IP \\. tcp \\. 8700 counter packets \\([0-9]*\\) .*/\\1/p")
expect "its row: client, origin, and every packet of that connection the kernel let in (${kernel_packets:-none})" \
	check 'echo "$row" | grep -q "\"internal_address\":\"$LAN1_IP\",\"internal_port\":8700,\"client\":\"$LAN1_IP\",\"origin\":\"natpmp\"" && echo "$row" | grep -q "\"packets\":$kernel_packets," && [ "$kernel_packets" -ge 3 ]'
last_used=$(echo "$row" | sed -n 's/.*"last_used":\([0-9]*\).*/\1/p')
expect "  and when its last connection came (${last_used:-none}, now $(date +%s)), from the kernel's seen4 set" \
	check '[ -n "$last_used" ] && [ $(($(date +%s) - last_used)) -ge 0 ] && [ $(($(date +%s) - last_used)) -le 10 ] && in_router nft list set inet portleased seen4 | grep -q "$LAN1_IP . tcp . 8700 expires "'
expect "  nft lists the whole table (its dynamic sets and rules included) without trouble" \
	check 'in_router nft list table inet portleased > /dev/null'
expect "list prints it as a table row for people" \
	check 'ctl list | grep -qE "^tcp +8700 +$LAN1_IP:8700 +$LAN1_IP +natpmp +(9m|10m)"'
got=$(ctl status)
expect "status shows the version, the external address and the lease count" \
	check 'echo "$got" | grep -q "^portleased " && echo "$got" | grep -q "^external address: $ROUTER_WAN_IP\$" && echo "$got" | grep -q "^leases: $(echo "$json" | grep -o "\"protocol\"" | wc -l) of "'
got=$(natpmpc_map "$NS_LAN1" 8701 8701 tcp 600)
expect "  a mapping nothing has used yet has none ($got)" \
	check 'ctl list --json | sed "s/},{/\n/g" | grep "\"external_port\":8701," | grep -q "\"last_used\":null"'
deny_line=$(grep -n "internal_ports = 2222" "$CONF" | cut -d: -f1)
got=$(ctl explain "$LAN2_IP" tcp 2222)
expect "explain: lan2's port 2222 is denied by the rule at line $deny_line ($got)" \
	check 'echo "$got" | grep -q "denied by the rule at line $deny_line (deny clients $LAN2_IP/32 internal_ports 2222)"'
expect "  and the daemon then denies it" check 'in_lan2 "$PROBE" "$ROUTER_LAN_IP" map tcp 2222 2222 600 | grep -q "^result=2 "'
got=$(ctl explain "$LAN1_IP" tcp 8800 8800 99999)
expect "explain with a lifetime says what would be granted ($(echo "$got" | grep lifetime))" \
	check 'echo "$got" | grep -q "^a lifetime of 99999 s would be granted as 3600 s (lifetime.max)\$"'
got=$(ctl explain "$LAN1_IP" tcp 8800 | head -n 1)
expect "explain: lan1's port 8800 is allowed ($got)" check 'echo "$got" | grep -q ": allowed by the rule at line"'
expect "  and the daemon then grants it" [ "$(natpmpc_map "$NS_LAN1" 8800 8800 tcp 600)" = "8800 600" ]

ctl delete tcp 8700; rc=$?
expect "delete tcp 8700: done (status $rc), and logged" check '[ "$rc" = 0 ] && grep -q "audit event=deleted origin=natpmp proto=tcp client=$LAN1_IP internal=$LAN1_IP:8700 external_port=8700 .*by=operator" "$LOG"'
expect "  the kernel holds no element for it" [ "$(nft_elements 'tcp . 8700 ')" = 0 ]
expect "  and the WAN host no longer reaches the service" wan_blocked tcp 8700 "$WORK/lan1-tcp8700"
got=$(ctl delete tcp 8700 2>&1); rc=$?
expect "deleting it again: status 1, 'no such mapping' ($got)" check '[ "$rc" = 1 ] && echo "$got" | grep -q "no such mapping"'
before=$(kernel_ports | wc -l)
got=$(ctl flush "$LAN1_IP")
expect "flush $LAN1_IP removes lan1's mappings ($got)" \
	check '! ctl list --json | grep -q "\"client\":\"$LAN1_IP\"" && [ "$(nft_elements "udp . 6000 ")" = 0 ]'
expect "  and only lan1's: the kernel still holds lan2's ($(kernel_ports | wc -l) of $before)" \
	check '[ "$(ctl list --json | json_ports)" = "$(kernel_ports)" ] && ctl list --json | grep -q "\"client\":\"$LAN2_IP\""'

expect "the control socket is mode 0600, owned by root" [ "$(stat -c '%a %U' "$WORK/control.sock")" = "600 root" ]
chmod 755 "$WORK"
got=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$WORK/control.sock" list 2>&1); rc=$?
chmod 700 "$WORK"
expect "an unprivileged user cannot use it: status 3, permission denied ($got)" \
	check '[ "$rc" = 3 ] && echo "$got" | grep -q "Permission denied"'
got=$(head -c 4000 /dev/zero | tr '\0' a | socat -t 2 - "UNIX-CONNECT:$WORK/control.sock" 2>/dev/null)
expect "a request line that never ends gets 'request too long' ($got)" [ "$got" = "error: request too long" ]
got=$(printf 'delete tcp 8080; nft flush ruleset\n' | socat -t 2 - "UNIX-CONNECT:$WORK/control.sock" 2>/dev/null)
expect "a malformed request is refused ($got)" [ "$got" = "error: unknown request" ]
got=$(ctl frobnicate 2>&1); rc=$?
expect "an unknown command is a usage error (status $rc)" [ "$rc" = 2 ]

# --- counters: status, metrics, and the metrics listener -----------------------

# sample TEXT NAME{LABELS}: that sample's value in Prometheus text.
sample() { echo "$1" | grep -v '^#' | grep -F "$2 " | sed 's/.* //'; }
natpmp_counts() {
	echo "$(sample "$1" 'portleased_requests_total{protocol="natpmp"}')" \
	     "$(sample "$1" 'portleased_responses_total{protocol="natpmp",result="success"}')" \
	     "$(sample "$1" 'portleased_responses_total{protocol="natpmp",result="error"}')" \
	     "$(sample "$1" 'portleased_mapping_events_total{event="granted",origin="natpmp"}')" \
	     "$(sample "$1" 'portleased_mapping_events_total{event="refused",origin="natpmp"}')"
}
before=$(natpmp_counts "$(ctl metrics)")
in_lan1 "$PROBE" "$ROUTER_LAN_IP" map tcp 8810 8810 600 > /dev/null
in_lan2 "$PROBE" "$ROUTER_LAN_IP" map tcp 2222 2222 600 > /dev/null
in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw 0001 > /dev/null
after=$(natpmp_counts "$(ctl metrics)")
expect "metrics count one granted, one denied, one dropped NAT-PMP request ($before -> $after)" \
	check 'set -- $before; b1=$1 b2=$2 b3=$3 b4=$4 b5=$5; set -- $after; [ $(($1 - b1)) = 3 ] && [ $(($2 - b2)) = 1 ] && [ $(($3 - b3)) = 1 ] && [ $(($4 - b4)) = 1 ] && [ $(($5 - b5)) = 1 ]'
got=$(ctl status | grep '^natpmp requests: ')
set -- $after
expect "status shows the same counts ($got)" \
	[ "$got" = "natpmp requests: $1 ($2 answered with success, $3 with an error, $(($1 - $2 - $3)) dropped)" ]
scrape() { in_lan1 sh -c "printf 'GET /metrics HTTP/1.1\\r\\nHost: $ROUTER_LAN_IP:9737\\r\\n\\r\\n' | socat -t 2 - TCP:$ROUTER_LAN_IP:9737" 2>/dev/null | tr -d '\r'; }
scraped=$(scrape)
expect "a LAN host scrapes http://$ROUTER_LAN_IP:9737/metrics: 200, Prometheus text, the same counts" \
	check 'echo "$scraped" | head -n 1 | grep -qx "HTTP/1.1 200 OK" && echo "$scraped" | grep -qx "Content-Type: text/plain; version=0.0.4; charset=utf-8" && [ "$(natpmp_counts "$scraped")" = "$after" ] && [ "$(sample "$scraped" portleased_leases_max)" = 4096 ]'
lines=$(echo "$scraped" | sed '1,/^$/d')
expect "  every line of it is a comment or a well-formed sample ($(echo "$lines" | wc -l) lines)" \
	check '[ -z "$(echo "$lines" | grep -vE "^# (HELP|TYPE) [a-z_]+ |^[a-z_]+(\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\})? [0-9]+\$")" ]'
got=$(in_wan sh -c "printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' | socat -t 2 - TCP:$ROUTER_LAN_IP:9737" 2>/dev/null)
expect "the WAN host, routing to the LAN address, gets nothing (${got:-nothing})" \
	check '[ -z "$got" ] && grep -q "metrics: refused a connection from $WAN_IP" "$LOG"'
got=$(in_lan1 sh -c "printf 'GET /metrics HTTP/1.1\\r\\nHost: rebind.example:9737\\r\\n\\r\\n' | socat -t 2 - TCP:$ROUTER_LAN_IP:9737" 2>/dev/null | head -n 1 | tr -d '\r')
expect "a request naming another Host (DNS rebinding) is refused ($got)" [ "$got" = "HTTP/1.1 403 Forbidden" ]

# --- reload -------------------------------------------------------------------

cp "$CONF" "$WORK/good.conf"
echo 'this is not libconfig' >> "$CONF"
reload
expect "a bad reload is refused with file:line and the reason" grep -q "reload failed, keeping the running configuration: $CONF:[0-9]*: " "$LOG"
got=$(natpmpc_map "$NS_LAN1" 8500 8500 tcp 600)
expect "after a bad reload the running policy still serves ($got)" [ "$got" = "8500 600" ]
write_router_config "$CONF"
sed -i "s|clients = \"$LAN_NET.0/24\"|clients = \"$LAN2_IP\"|" "$CONF"
reload
got=$(natpmpc_map "$NS_LAN1" 8600 8600 tcp 600)
expect "after a good reload the new policy applies: lan1 now refused ($got)" [ "$got" = "failed : not authorized" ]
expect "  and lan1's mapping it granted before is gone from the kernel, logged as deleted by policy" \
	check '[ "$(nft_elements "tcp . 8500 ")" = 0 ] && grep -q "audit event=deleted origin=natpmp proto=tcp client=$LAN1_IP internal=$LAN1_IP:8500 external_port=8500 .*by=policy" "$LOG"'
expect "  while lan2's, still allowed, stays" [ "$(nft_elements "udp . 9962 ")" = 1 ]
cp "$WORK/good.conf" "$CONF"
reload

# While the daemon still runs (the next section kills it): the summary of
# the burst of refusals above.
# summarised_since_burst: lan2's refusals counted in summary lines since the
# burst (a count may include earlier refusals of its interval, from any of
# its addresses: they are one host's).
LAN2_MAC=$(mac_of "$NS_LAN2")
summarised_since_burst() {
	tail -n +"$((burst_line + 1))" "$LOG" |
		sed -n "s/.*audit event=refused_summary client=[0-9a-f.:]* host=$LAN2_MAC count=\([0-9]*\) interval_s=10\$/\1/p" |
		awk '{ n += $1 } END { print n + 0 }'
}
i=0
while [ $i -lt 120 ] && [ $(($(summarised_since_burst) + refusals)) -lt 5 ]; do
	sleep 0.1
	i=$((i + 1))
done
summarised=$(summarised_since_burst)
expect "the rest are counted in summary lines once the interval is over ($summarised + $refusals logged >= 5)" \
	[ $((summarised + refusals)) -ge 5 ]

# --- static mappings: the operator's, from the config and portleasectl add ------

listen_tcp "$NS_LAN2" 8900 "$WORK/lan2-tcp8900"
listen_tcp "$NS_LAN2" 8902 "$WORK/lan2-tcp8902"
listen_udp "$NS_LAN1" 8901 "$WORK/lan1-udp8901"
cp "$CONF" "$WORK/before-static.conf"
cat >> "$CONF" <<CONF
static_mappings = (
  { protocol = "tcp"; external_port = 8900; internal_address = "$LAN2_IP"; internal_port = 8900; description = "declared"; },
  { protocol = "tcp"; external_port = 8902; internal_address = "$LAN2_IP"; internal_port = 8902; }
);
CONF
reload
sleep 0.2
expect "a static mapping declared in the config carries traffic after a reload" wan_reaches tcp 8900 "$WORK/lan2-tcp8900"
expect "  its kernel element has no timeout" \
	check 'in_router nft list map inet portleased fwd4 | tr "," "\n" | grep "tcp \. 8900 " | grep -qv "expires"'
expect "  list shows it as static, no client, never expiring" \
	check 'ctl list | grep -qE "^tcp +8900 +$LAN2_IP:8900 +- +static +never .* declared\$"'
got=$(natpmpc_map "$NS_LAN2" 8900 8900 tcp 0)
expect "  the host behind it cannot remove it over NAT-PMP ($got)" [ "$got" = "failed : not authorized" ]
got=$(natpmpc_map "$NS_LAN2" 8900 8900 tcp 600)
expect "  nor renew it as its own ($got)" [ "$got" = "failed : not authorized" ]
ctl flush > /dev/null
expect "  flush leaves it, and it still carries traffic" wan_reaches tcp 8900 "$WORK/lan2-tcp8900"
got=$(ctl add udp 8901 "$LAN1_IP" 8901 "added by hand"); rc=$?
expect "portleasectl add udp 8901 $LAN1_IP 8901: done (status $rc)" \
	check '[ "$rc" = 0 ] && grep -q "audit event=granted origin=static proto=udp internal=$LAN1_IP:8901 external_port=8901 by=operator result=\"ok\" description=\"added by hand\"" "$LOG"'
expect "  and the WAN host reaches lan1's UDP listener through it" wan_reaches udp 8901 "$WORK/lan1-udp8901"
expect "  kept in the static file, root's alone" \
	check 'grep -q "^udp 8901 $LAN1_IP 8901 added by hand\$" "$WORK/static" &&
	       [ "$(stat -c %U:%a "$WORK/static")" = root:644 ]'
got=$(ctl add tcp 8900 "$LAN1_IP" 22 2>&1); rc=$?
expect "adding on another static mapping's port is refused (status $rc: $got)" \
	check '[ "$rc" = 1 ] && echo "$got" | grep -q "another static mapping holds that port" &&
	       ! grep -q "^tcp 8900 " "$WORK/static"'
head -n "$(grep -n '^static_mappings' "$CONF" | cut -d: -f1)" "$CONF" > "$WORK/static.conf"
cat >> "$WORK/static.conf" <<CONF
  { protocol = "tcp"; external_port = 8900; internal_address = "$LAN2_IP"; internal_port = 8900; description = "declared"; }
);
CONF
cp "$WORK/static.conf" "$CONF"
reload
expect "a reload without the second declared mapping removes it" wan_blocked tcp 8902 "$WORK/lan2-tcp8902"
expect "  and keeps the first and the one added by hand" \
	check '[ "$(ctl list --json | grep -o "\"origin\":\"static\"" | wc -l)" = 2 ] && wan_reaches tcp 8900 "$WORK/lan2-tcp8900"'
got=$(ctl delete udp 8901); rc=$?
reload
expect "portleasectl delete takes the one added by hand out of the static file too: a reload does not bring it back (status $rc)" \
	check '[ "$rc" = 0 ] && ! grep -q "^udp 8901 " "$WORK/static" &&
	       [ "$(ctl list --json | grep -o "\"origin\":\"static\"" | wc -l)" = 1 ] &&
	       wan_blocked udp 8901 "$WORK/lan1-udp8901"'
# back for the restart below, which must bring it back from the static file
ctl add udp 8901 "$LAN1_IP" 8901 "added by hand" > /dev/null

# --- another program flushes the ruleset ---------------------------------------

listen_tcp "$NS_LAN1" 8460 "$WORK/lan1-tcp8460"
got=$(natpmpc_map "$NS_LAN1" 8460 8460 tcp 600)
got2=$(pcp "$NS_LAN2" -f "$WAN_IP" -l 600 map udp 8461 8461)
expect "mappings to survive a flush: NAT-PMP ($got), PCP with a filter ($(field result "$got2"))" \
	check '[ "$got" = "8460 600" ] && [ "$(field result "$got2")" = SUCCESS ]'
before_flush=$(kernel_ports)
filtered_before=$(in_router nft list map inet portleased fwd4_filtered | grep -c " : ")
in_router nft flush ruleset
make_neighbour_tables  # the router's own firewall comes back, as a firewall service would do it
i=0
while [ $i -lt 20 ] && [ "$(kernel_ports 2>/dev/null)" != "$before_flush" ]; do sleep 0.05; i=$((i + 1)); done
expect "nft flush ruleset: within a second our table is back with every mapping ($(echo "$before_flush" | wc -l) port forwards, after $((i * 50)) ms)" \
	[ "$(kernel_ports 2>/dev/null)" = "$before_flush" ]
expect "  filtered ones too ($filtered_before)" \
	check '[ "$filtered_before" -ge 1 ] && [ "$(in_router nft list map inet portleased fwd4_filtered | grep -c " : ")" = "$filtered_before" ]'
expect "  with what was left of their lifetimes (the kernel's timeout for 8460 is under 600 s)" \
	check 'in_router nft list map inet portleased fwd4 | tr "," "\n" | grep "tcp \. 8460 " | grep -qE "timeout 9m5[0-9]s[0-9]*(ms)? expires"'
expect "  traffic flows through the rebuilt table (NAT-PMP mapping)" wan_reaches tcp 8460 "$WORK/lan1-tcp8460"
expect "  and the log says another program changed it" \
	grep -q "nftables: table inet portleased was changed by another program; rebuilt with [0-9]* mappings" "$LOG"
expect "  traffic flows through the rebuilt table (static mapping)" wan_reaches tcp 8900 "$WORK/lan2-tcp8900"
in_router nft delete table inet portleased
i=0
while [ $i -lt 20 ] && [ "$(kernel_ports 2>/dev/null)" != "$before_flush" ]; do sleep 0.05; i=$((i + 1)); done
expect "nft delete table inet portleased: rebuilt as well" [ "$(kernel_ports 2>/dev/null)" = "$before_flush" ]
expect "  the neighbour's tables are as they were" [ "$(in_router nft list table inet neighbour)" = "$NEIGHBOUR_BEFORE" ]

# --- hairpin: a LAN host reaches a mapping at the external address -------------

# lan_reaches NS PORT FILE: a TCP message from a LAN host to the external
# address and PORT arrives in FILE.
lan_reaches() {
	MSG_ID=$((MSG_ID + 1))
	msg="hairpin-$$-$MSG_ID"
	echo "$msg" | ip netns exec "$1" timeout 3 socat -u - "TCP:$ROUTER_WAN_IP:$2,connect-timeout=1" 2>/dev/null
	arrives "$msg" "$3"
}
expect "lan2 connects to $ROUTER_WAN_IP:8460 and reaches lan1's listener behind the mapping" \
	lan_reaches "$NS_LAN2" 8460 "$WORK/lan1-tcp8460"
expect "  its connection was source-NATed to the router (conntrack: reply to $ROUTER_LAN_IP)" \
	check 'in_router conntrack -L -p tcp --dport 8460 2>/dev/null | grep "src=$LAN2_IP dst=$ROUTER_WAN_IP " | grep -q "dst=$ROUTER_LAN_IP "'
expect "  lan1 itself reaches its own mapping the same way" lan_reaches "$NS_LAN1" 8460 "$WORK/lan1-tcp8460"
echo "hairpin = false;" >> "$CONF"
reload
expect "with hairpin = false (a reload) it does not" check '! lan_reaches "$NS_LAN2" 8460 "$WORK/lan1-tcp8460"'
sed -i '/^hairpin = false;$/d' "$CONF"
reload
expect "  and with it back on, it does again" lan_reaches "$NS_LAN2" 8460 "$WORK/lan1-tcp8460"

# --- the kernel expires mappings by itself ------------------------------------

# What the kernel holds once the lease file has caught up (within a second):
# the restart below must bring back exactly this.
listen_tcp "$NS_LAN1" 8450 "$WORK/lan1-tcp8450"
got=$(natpmpc_map "$NS_LAN1" 8450 8450 tcp 600)
got2=$(pcp "$NS_LAN2" -f "$WAN_IP" -l 600 map udp 8451 8451)
got3=$(pcp "$NS_LAN2" -l 600 peer udp 8452 "$WAN_IP" 7782 8452)
expect "mappings to outlive a crash: NAT-PMP ($got), PCP with a filter ($(field result "$got2")), PEER ($(field result "$got3"))" \
	check '[ "$got" = "8450 600" ] && [ "$(field result "$got2")" = SUCCESS ] && [ "$(field external "$got3")" = "$ROUTER_WAN_IP:8452" ]'
sleep 1.5
before_kill=$(kernel_ports)
got=$(natpmpc_map "$NS_LAN1" 9100 9100 tcp 3)
granted=$(date +%s%N)
expect "a 3 s mapping is granted ($got)" [ "$got" = "9100 3" ]
kill -9 "$PORTLEASED_PID"; wait "$PORTLEASED_PID" 2>/dev/null
expect "with portleased killed (SIGKILL), the mapping still carries traffic before expiry" \
	wan_reaches tcp 9100 "$WORK/lan1-tcp9100"
# Wait until the lifetime is over, then poll: it must stop within 1 s.
while [ $(( ($(date +%s%N) - granted) / 1000000 )) -lt 3000 ]; do sleep 0.05; done
stopped_ms=""
while [ $(( ($(date +%s%N) - granted) / 1000000 )) -lt 6000 ]; do
	if wan_blocked tcp 9100 "$WORK/lan1-tcp9100"; then
		stopped_ms=$(( ($(date +%s%N) - granted) / 1000000 ))
		break
	fi
done
# wan_blocked itself waits 1 s for the message, so the moment the probe was
# sent is 1 s before stopped_ms.
sent_ms=$(( ${stopped_ms:-99999} - 1000 ))
expect "after the 3 s lifetime the kernel stops the traffic within 1 s (probe sent at ${sent_ms} ms)" \
	[ "$sent_ms" -le 4000 ]

# --- restart over a stale table, then SIGTERM --------------------------------

listen_udp "$NS_LAN1" 5350 "$WORK/lan1-announce"
listen_udp "$NS_WAN" 5350 "$WORK/wan-announce"
listen_udp6 "$NS_LAN1" 5350 "$WORK/lan1-announce6"
listen_udp6 "$NS_WAN" 5350 "$WORK/wan-announce6"
sleep 0.2
# The restart also takes a control group: nogroup, which uid 65534 can hold.
sed -i "s|^control = { socket = \"$WORK/control.sock\"; };|control = { socket = \"$WORK/control.sock\"; group = \"nogroup\"; };|" "$CONF"
start_portleased "$DAEMON" "$CONF" "$LOG.2" || { echo "not ok - portleased did not restart"; exit 1; }
LOG="$LOG.2"
sleep 1
# Datagrams arrive back to back in the file: count them by their headers.
heard=$(od -v -An -tx1 "$WORK/lan1-announce" 2>/dev/null | tr -d ' \n')
pcp_heard=$(echo "$heard" | grep -o '02800000' | wc -l)
expect "after the restart the LAN hears PCP ANNOUNCE on 224.0.0.1:5350, repeated ($pcp_heard in 1 s)" \
	[ "$pcp_heard" -ge 2 ]
expect "and the NAT-PMP external address notice with $ROUTER_WAN_IP" \
	sh -c "echo '$heard' | grep -q '00800000........cb007101'"
heard6=$(od -v -An -tx1 "$WORK/lan1-announce6" 2>/dev/null | tr -d ' \n' | grep -o '02800000' | wc -l)
expect "and PCP ANNOUNCE on [ff02::1]:5350 ($heard6 in 1 s)" [ "$heard6" -ge 2 ]
expect "nothing is announced on the WAN link, over IPv4 or IPv6" \
	check '[ ! -s "$WORK/wan-announce" ] && [ ! -s "$WORK/wan-announce6" ]'
expect "with control.group the socket is mode 0660, group nogroup" \
	[ "$(stat -c '%a %U %G' "$WORK/control.sock")" = "660 root nogroup" ]
chmod 755 "$WORK"
got=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$WORK/control.sock" status 2>&1); rc=$?
got_other=$(setpriv --reuid=65534 --regid=100 --clear-groups "$CTL" -s "$WORK/control.sock" status 2>&1); rc_other=$?
chmod 700 "$WORK"
expect "  a member of the group may use it (status $rc)" check '[ "$rc" = 0 ] && echo "$got" | grep -q "^portleased "'
expect "  a user outside it may not (status $rc_other: $got_other)" \
	check '[ "$rc_other" = 3 ] && echo "$got_other" | grep -q "Permission denied"'
expect "after kill -9 the restart restores every unexpired mapping from the lease file ($(echo "$before_kill" | wc -l) port forwards)" \
	[ "$(kernel_ports)" = "$before_kill" ]
expect "  with no duplicate or stray element: one per lease" \
	[ "$(kernel_ports | wc -l)" = "$(ctl list --json | json_ports | wc -l)" ]
expect "  they carry traffic again" wan_reaches tcp 8450 "$WORK/lan1-tcp8450"
expect "  the PCP one with its remote filter: the list says so" \
	check 'ctl list --json | sed "s/},{/\n/g" | grep "\"external_port\":8451," | grep -q "\"remote_filters\":1"'
listen_udp "$NS_LAN2" 8452 "$WORK/lan2-udp8452"
expect "  the PEER one with its remote peer, its flows leaving from its port again" \
	check 'ctl list | grep -q "^udp   8452 .*\[PEER $WAN_IP:7782\]" &&
	       [ "$(in_router nft list map inet portleased peer4 | grep -c "$LAN2_IP . 8452 . $WAN_IP . udp . 7782")" = 1 ]'
expect "  and the remote peer's datagrams reach the host through it" \
	from "$WAN_IP:7782" wan_reaches udp 8452 "$WORK/lan2-udp8452"
expect "  the static mapping from the config carries traffic" wan_reaches tcp 8900 "$WORK/lan2-tcp8900"
expect "  so does the one added by hand, from the static file" wan_reaches udp 8901 "$WORK/lan1-udp8901"
expect "  the log says the file was not closed cleanly: a new epoch" \
	grep -q "mappings restored, .* (not closed cleanly: a new epoch tells clients to renew)" "$LOG"
got=$(natpmpc_map "$NS_LAN1" 8080 8080 tcp 600)
expect "after the restart mappings work again ($got)" [ "$got" = "8080 600" ]
expect "and carry traffic" wan_reaches tcp 8080 "$WORK/lan1-tcp8080"

sleep 2  # an epoch a restart could not pass for new
epoch_before=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw 0000 | sed -n 's/.* epoch=\([0-9]*\) .*/\1/p')
t0=$(date +%s%N)
kill -TERM "$PORTLEASED_PID"
wait "$PORTLEASED_PID"; rc=$?
elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "SIGTERM: portleased exits cleanly (status $rc) within a second (${elapsed_ms} ms)" \
	check '[ "$rc" = 0 ] && [ "$elapsed_ms" -lt 1000 ]'
expect "SIGTERM: no portleased table is left" sh -c "! ip netns exec $NS_ROUTER nft list tables | grep -q portleased"
expect "SIGTERM: the neighbour's table is untouched" [ "$(in_router nft list table inet neighbour)" = "$NEIGHBOUR_BEFORE" ]
expect "SIGTERM: the traffic stops with the table" wan_blocked tcp 8080 "$WORK/lan1-tcp8080"
expect "SIGTERM: the lease file stays, closed cleanly" \
	check 'head -n 1 "$WORK/leases" | grep -q "^portleased-leases 1 epoch_start=[0-9]* clean=1\$"'

# --- a lease file from a previous run, some of it expired meanwhile ----------

now=$(date +%s)
listen_tcp "$NS_LAN1" 8440 "$WORK/lan1-tcp8440"
cat >> "$WORK/leases" <<LEASES
lease proto=tcp origin=pcp client=$LAN1_IP internal=$LAN1_IP iport=8440 eport=8440 created=$((now - 100)) expires=$((now + 300)) nonce=0102030405060708090a0b0c description=from%20before
lease proto=tcp origin=natpmp client=$LAN1_IP internal=$LAN1_IP iport=8441 eport=8441 created=$((now - 700)) expires=$((now - 60))
lease this line is damaged
LEASES
start_portleased "$DAEMON" "$CONF" "$LOG.3" || { echo "not ok - portleased did not restart"; exit 1; }
LOG="$LOG.3"
expect "a clean restart restores the file's leases, skips the expired one, reports the damaged line" \
	check 'grep -q "lease file $WORK/leases: [0-9]* mappings restored, 1 expired meanwhile\$" "$LOG" && grep -q "1 unreadable lines" "$LOG"'
expect "  the restored mappings carry traffic again" wan_reaches tcp 8080 "$WORK/lan1-tcp8080"
expect "  one added to the file carries traffic, with its lifetime left (about 300 s)" \
	check 'wan_reaches tcp 8440 "$WORK/lan1-tcp8440" && ctl list --json | sed "s/},{/\n/g" | grep "\"external_port\":8440," | grep "\"origin\":\"pcp\",\"description\":\"from before\"" | grep -qE "\"remaining\":(29[0-9]|300),"'
expect "  the expired one is not there" [ "$(nft_elements "tcp . 8441 ")" = 0 ]
got=$(pcp "$NS_LAN1" -n 0102030405060708090a0b0c -l 600 map tcp 8440 8440)
expect "  its PCP nonce came back with it: the owner renews it ($(field result "$got"))" [ "$(field result "$got")" = SUCCESS ]
epoch_after=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw 0000 | sed -n 's/.* epoch=\([0-9]*\) .*/\1/p')
expect "  and the epoch carries on from the clean stop ($epoch_before -> $epoch_after s)" \
	check '[ "${epoch_before:-0}" -ge 3 ] && [ "${epoch_after:-0}" -ge "$epoch_before" ]'
echo "keep_state_on_stop = true;" >> "$CONF"
reload
kill -TERM "$PORTLEASED_PID"; wait "$PORTLEASED_PID"
expect "with keep_state_on_stop, SIGTERM leaves the table: mappings keep working with no daemon" \
	wan_reaches tcp 8440 "$WORK/lan1-tcp8440"

# --- command line ------------------------------------------------------------

echo 'external_interface = "wan0"; lan_interfaces = [ "wan0" ]; policy = ();' > "$WORK/bad.conf"
out=$("$DAEMON" --check-config -f "$WORK/bad.conf" 2>&1); rc=$?
expect "--check-config refuses a bad file with file:line ($out)" \
	check '[ $rc -ne 0 ] && echo "$out" | grep -q "$WORK/bad.conf:1: '\''wan0'\'' is the external interface"'
out=$("$DAEMON" --check-config -f config/portleased.conf 2>&1); rc=$?
expect "--check-config accepts the example file ($out)" [ $rc -eq 0 ]

summary e2e
