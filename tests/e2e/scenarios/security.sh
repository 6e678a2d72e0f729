#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end tests of what a hostile LAN host tries (issue 9): another
# host's PCP mapping over NAT-PMP and UPnP from a forged source, the log
# flooded from many addresses, terminal controls in descriptions, SSDP as
# an amplifier, oversized PCP requests, UPnP refusals unaudited, one host
# with 100 addresses against the shared pools.
# Usage: security.sh BUILD_DIR, or tests/e2e/scenario.sh BUILD_DIR security. Needs root.
LAN_NET=192.168.79
LAN6_NET=2001:db8:79
SCENARIO=security
. "$(dirname "$0")/../prologue.sh"

HTTP_PORT=5000
DESC="http://$ROUTER_LAN_IP:$HTTP_PORT/rootDesc.xml"
NONCE_A=0102030405060708090a0b0c
# lan1's address as PCP writes it (192.168.79.10)
LAN1_MAPPED=00000000000000000000ffffc0a84f0a

pcp() { ns=$1; shift; ip netns exec "$ns" "$CTL" pcp -g "$ROUTER_LAN_IP" "$@"; }
ctl() { "$CTL" -s "$WORK/control.sock" "$@" -F "$WORK/static"; }
upnpc_on() { ns=$1; shift; ip netns exec "$ns" timeout 10 upnpc -i -u "$DESC" "$@" 2>&1; }
# lines_since N PATTERN: lines matching PATTERN in the log after its first N.
lines_since() { tail -n +"$(($1 + 1))" "$LOG" | grep -c -- "$2"; }

net_setup || { echo "not ok - cannot build the test network (need root, iproute2, veth and bridge)"; exit 1; }
# lan1 may also map for other hosts (PCP THIRD_PARTY): the router's own
# addresses must still be out of its reach.
# A small lease table, so that 100 addresses could fill it if shares were
# counted per address.
write_router_config "$CONF" "upnp = { enable = true; http_port = $HTTP_PORT; };
max_leases = 80; max_leases_per_client = 25;"
sed -i "s|^policy = (|policy = (\n  { action = \"allow\"; clients = \"$LAN1_IP\"; third_party = true; internal_ports = \"1024-65535\"; external_ports = \"1024-65535\"; },|" "$CONF"
start_portleased "$DAEMON" "$CONF" "$LOG" || { echo "not ok - portleased did not start"; exit 1; }

# --- UPnP refusals are audited and counted as the other protocols' are ---------

upnp_refused() { ctl metrics | grep -F 'portleased_mapping_events_total{event="refused",origin="upnp"}' | sed 's/.* //'; }
r0=$(upnp_refused)
got=$(upnpc_on "$NS_LAN2" -e "x" -a "$LAN2_IP" 80 80 TCP 600 | grep -o 'returned : .*\|failed.*' | head -n 1)
r1=$(upnp_refused)
expect "a UPnP AddPortMapping the policy denies is counted (${r0:-?} -> ${r1:-?}: $got)" \
	check '[ -n "$r1" ] && [ "$r1" -eq $((${r0:-0} + 1)) ]'
expect "  and audited with its reason and the deciding rule" \
	grep -q "audit event=refused origin=upnp proto=tcp client=$LAN2_IP internal=$LAN2_IP:80 rule_line=[0-9]* result=\"denied by policy\"" "$LOG"


# --- a PCP mapping is its nonce's: NAT-PMP and UPnP from its address cannot touch it

got=$(pcp "$NS_LAN1" -n $NONCE_A -l 600 map tcp 9100 9100)
listen_tcp "$NS_LAN1" 9100 "$WORK/lan1-tcp9100"
expect "lan1 holds a PCP mapping of tcp 9100 ($got)" \
	check '[ "$(field result "$got")" = SUCCESS ] && wan_reaches tcp 9100 "$WORK/lan1-tcp9100"'
# lan2 forges lan1's source address (the answers go to lan1, as they would).
forged() { in_lan2 "$PROBE" "$ROUTER_LAN_IP" spray "$1" 1 "$LAN1_IP" 1 >/dev/null; sleep 0.2; }
forged 00020000238c000000000000   # map tcp 9100, lifetime 0: delete
expect "a NAT-PMP delete of it from lan1's forged address is refused" \
	check 'wan_reaches tcp 9100 "$WORK/lan1-tcp9100"'
forged 000200000000000000000000   # delete all
expect "  so is a NAT-PMP delete-all: the mapping still carries traffic" \
	check 'wan_reaches tcp 9100 "$WORK/lan1-tcp9100"'
forged 00020000238c238c00000002   # renew for 2 s
left=$(ctl list --json | sed 's/},{/\n/g' | grep '"external_port":9100,' | sed -n 's/.*"remaining":\([0-9]*\).*/\1/p')
expect "  and a NAT-PMP renewal cannot shorten it to 2 s (${left:-?} s left)" \
	check '[ -n "$left" ] && [ "$left" -gt 500 ]'
expect "  each refused as another's, in the audit log" \
	check '[ "$(grep -c "audit event=refused origin=natpmp proto=tcp client=$LAN1_IP internal=$LAN1_IP:9100 result=\"the mapping belongs to another client or nonce\"" "$LOG")" -ge 1 ]'
# UPnP runs over TCP, which cannot be forged; but it carries no nonce either:
# from lan1's own address it may not touch its PCP mapping.
got=$(upnpc_on "$NS_LAN1" -d 9100 TCP | tail -n 1)
expect "  and a UPnP DeletePortMapping from lan1's own address is refused ($got)" \
	check 'echo "$got" | grep -q "failed with code : 606" && wan_reaches tcp 9100 "$WORK/lan1-tcp9100"'
got=$(pcp "$NS_LAN1" -n $NONCE_A delete tcp 9100)
expect "its owner deletes it with the nonce ($(field result "$got"))" \
	check '[ "$(field result "$got")" = SUCCESS ] && ! wan_reaches tcp 9100 "$WORK/lan1-tcp9100"'

# --- the router's own addresses are no mapping's target ---------------------------

# The router's LAN-only services (its SSH, its web UI) would reach the WAN.
got=$(pcp "$NS_LAN1" -t "$ROUTER_LAN_IP" -l 600 map tcp 2022 2022)
expect "a PCP THIRD_PARTY mapping to the router's LAN address is refused ($(field result "$got"))" \
	[ "$(field result "$got")" = NOT_AUTHORIZED ]
got=$(pcp "$NS_LAN1" -t "$LAN_NET.255" -l 600 map udp 2023 2023)
expect "  and one to the LAN's broadcast address ($(field result "$got"))" \
	[ "$(field result "$got")" = NOT_AUTHORIZED ]
got=$(pcp "$NS_LAN1" -t "$LAN_NET.0" -l 600 map udp 2024 2024)
expect "  and one to the LAN's network address ($(field result "$got"))" \
	[ "$(field result "$got")" = NOT_AUTHORIZED ]
got=$(pcp "$NS_LAN1" -t "$LAN2_IP" -l 600 map tcp 2025 2025)
expect "  while one to lan2, which the policy lets lan1 name, is granted ($(field result "$got"))" \
	[ "$(field result "$got")" = SUCCESS ]
expect "  and only that one is in nftables" \
	check 'in_router nft list table inet portleased > "$WORK/table" &&
	       grep -q "2025" "$WORK/table" && ! grep -q "2022\|2023\|2024" "$WORK/table"'
got=$(ctl add tcp 2222 "$ROUTER_LAN_IP" 22 "router ssh" 2>&1)
expect "the operator's portleasectl add to the router's address says why not ($got)" \
	check 'echo "$got" | grep -q "the internal address is an address of the router (br-lan)"'

# A compromised portleased, played by priv_probe, asks the helper directly
# (on a table of its own); the helper reads the interfaces itself.
write_router_config "$WORK/probe.conf" 'nft_table = "probe";'
sed -i "s|^policy = (|policy = (\n  { action = \"allow\"; clients = \"$LAN1_IP\"; third_party = true; internal_ports = \"1024-65535\"; external_ports = \"1024-65535\"; },|" "$WORK/probe.conf"
# (its own log: portleased's is not opened for appending)
probe() { in_router "$BUILD/tests/e2e/priv_probe" "$BUILD/portleased-nft" "$WORK/probe.conf" "$@" 2>>"$WORK/probe.log"; }
got="$(probe add tcp 7001 "$ROUTER_LAN_IP" 7001 "$LAN1_IP") $(probe add tcp 7002 "$ROUTER_WAN_IP" 7002 "$LAN1_IP")"
expect "the helper refuses forwards to the router's LAN and WAN addresses ($got)" [ "$got" = "rc=-1 rc=-1" ]
got="$(probe static tcp 7003 "$ROUTER_LAN_IP" 22)"
expect "  even as a \"static\" mapping ($got)" [ "$got" = "rc=-1" ]
got="$(probe add udp 7004 "$LAN_NET.255" 7004 "$LAN1_IP") $(probe add udp 7005 "$LAN_NET.0" 7005 "$LAN1_IP") $(probe add udp 7006 169.254.1.1 7006 "$LAN1_IP")"
expect "  and to the LAN's broadcast and network addresses and link-local space ($got)" \
	[ "$got" = "rc=-1 rc=-1 rc=-1" ]
# a real flow of lan1's, from udp 5000 to the WAN host
in_lan1 socat -u - "UDP4-SENDTO:$WAN_IP:3478,sourceport=5000" </dev/null 2>/dev/null
printf x | in_lan1 socat -u - "UDP4-SENDTO:$WAN_IP:3478,sourceport=5000" 2>/dev/null
got="$(probe peer udp "$LAN1_IP" 5000 "$WAN_IP" 3478)"
expect "the helper keeps a LAN host's flow alive on PEER ($got)" [ "$got" = "rc=0" ]
got="$(probe peer udp "$ROUTER_LAN_IP" 5000 "$WAN_IP" 3478) $(probe peer udp "$WAN_IP" 3478 "$LAN1_IP" 5000) $(probe peer udp "$LAN1_IP" 53 "$WAN_IP" 53)"
expect "  but not the router's, a WAN host's, or one from a port the policy denies ($got)" \
	[ "$got" = "rc=-1 rc=-1 rc=-1" ]
got=$(probe add udp 7007 "$LAN2_IP" 7007 "$LAN1_IP")
expect "  and still does what the policy allows ($got)" \
	check '[ "$got" = "rc=0" ] && in_router nft list table inet probe > "$WORK/probe-table" &&
	       grep -q "udp . 7007 " "$WORK/probe-table" && ! grep -q "700[1-6]" "$WORK/probe-table"'
expect "  and logs why it refused" \
	grep -q "portleased-nft warning: refused add: an address of the router (br-lan)" "$WORK/probe.log"
# A permanent mapping is the operator's word alone: one the policy would
# allow a client for a while is refused until root's static file names it.
got=$(probe static udp 7008 "$LAN1_IP" 7008)
expect "the helper refuses a never-expiring mapping that no config or static file names ($got)" \
	check '[ "$got" = "rc=-1" ] && grep -q "refused add: a permanent mapping that neither the config nor the static file names" "$WORK/probe.log"'
ctl add udp 7008 "$LAN1_IP" 7008 "by the operator" > /dev/null
got=$(probe static udp 7008 "$LAN1_IP" 7008)
expect "  and grants it once portleasectl add has written it there ($got)" \
	check '[ "$got" = "rc=0" ] && grep -q "^udp 7008 $LAN1_IP 7008 by the operator\$" "$WORK/static"'
in_router nft delete table inet probe

# --- PCP over 1100 octets: MALFORMED_REQUEST, not silence ---------------------

MAP_BODY=${NONCE_A}06000000238c238c00000000000000000000000000000000
pad=$(printf '%02088d' 0)   # 1044 octets of zeros after header and body
got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw "0201000000000258$LAN1_MAPPED$MAP_BODY$pad")
expect "a PCP request of 1104 octets is answered MALFORMED_REQUEST ($got)" \
	sh -c "echo '$got' | grep -q '^result=3 op=129 '"

# --- text from clients reaches the log and the list escaped -------------------

evil=$(printf 'game\302\233[2J\033]0;owned\007\237x')
got=$(pcp "$NS_LAN1" -d "$evil" -l 600 map udp 9200 9200)
expect "a PCP MAP with C0/C1 controls and invalid UTF-8 in its DESCRIPTION is granted ($(field result "$got"))" \
	[ "$(field result "$got")" = SUCCESS ]
list=$(ctl list)
json=$(ctl list --json)
expect "portleasectl list shows it escaped, with no control byte" \
	check 'printf "%s\n" "$list" | grep -qF "game\\xc2\\x9b[2J\\x1b]0;owned\\x07\\x9fx" &&
	       ! printf "%s\n" "$list" | LC_ALL=C grep -q "$(printf "[\001-\010\013-\037\177]")" &&
	       ! printf "%s\n" "$list" | LC_ALL=C grep -q "$(printf "\302\233")"'
want='"description":"game\\xc2\\x9b[2J\\x1b]0;owned\\x07\\x9fx"'
expect "  and so does --json, as valid UTF-8 with the same \\xNN" \
	check 'printf "%s\n" "$json" | grep -qF "$want" && printf "%s\n" "$json" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1'
expect "  and the audit line too" \
	check 'grep -F "description=\"game\\xc2\\x9b[2J\\x1b]0;owned\\x07\\x9fx\"" "$LOG" >/dev/null &&
	       ! LC_ALL=C grep -q "$(printf "\033\\|\302\233\\|\237")" "$LOG"'

# --- SSDP answers bounded by what the search weighed ------------------------------

search='M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n'
search_bytes=$(printf "$search" | wc -c)
printf "$search" | in_lan1 timeout 4 socat -t 2 -T 3 - "UDP4:$ROUTER_LAN_IP:1900" > "$WORK/ssdp-all" 2>/dev/null
answers=$(grep -c '^HTTP/1.1 200 OK' "$WORK/ssdp-all")
answer_bytes=$(wc -c < "$WORK/ssdp-all")
expect "ssdp:all ($search_bytes bytes) draws $answers answers, $answer_bytes bytes: the root device, within 8 times the search" \
	check '[ "$answers" -ge 1 ] && grep -q "^ST: upnp:rootdevice" "$WORK/ssdp-all" &&
	       [ "$answer_bytes" -le $((8 * search_bytes)) ]'
search='M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n\r\n'
in_lan1 timeout 4 socat -u UDP4-RECV:40000,reuseaddr - > "$WORK/ssdp-igd" 2>/dev/null &
sleep 0.2
# Three datagrams back to back from one process: three socat processes take
# longer to start on a busy machine than the shortest random MX delay.
in_lan1 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 40000))
search = sys.argv[2].encode().decode("unicode_escape").encode()
for _ in range(3):
    s.sendto(search, (sys.argv[1], 1900))
' "$ROUTER_LAN_IP" "$search"
sleep 3
got=$(grep -c '^HTTP/1.1 200 OK' "$WORK/ssdp-igd")
expect "the same search three times within MX draws one answer ($got)" [ "$got" = 1 ]
# discovered over SSDP, as upnpc does without -u (-i: miniupnpc calls a
# documentation-range external address "not connected")
in_lan1 timeout 10 upnpc -i -l > "$WORK/upnpc-l" 2>&1
got=$(grep -c "desc: http://$ROUTER_LAN_IP:$HTTP_PORT/\(igd1/\)\?rootDesc.xml" "$WORK/upnpc-l")
expect "  and upnpc still discovers the IGD ($got)" [ "$got" -ge 1 ]
[ "$got" -ge 1 ] || sed 's/^/  upnpc: /' "$WORK/upnpc-l"

# --- 20,000 bad datagrams from 100 forged addresses: a bounded number of lines -

lines_before=$(wc -l < "$LOG")
start=$(date +%s)
got=$(in_lan2 "$PROBE" "$ROUTER_LAN_IP" spray "0201000000000258$LAN1_MAPPED$MAP_BODY" 20000 "$LAN_NET.150" 100)
sleep 1
elapsed=$(($(date +%s) - start + 1))
# the lines about the forged sources (the router's own, such as a skipped
# announcement while answers to them fill the socket, are not theirs)
flood_lines=$(tail -n +"$((lines_before + 1))" "$LOG" | grep -c "$LAN_NET\.\(1[5-9][0-9]\|2[0-4][0-9]\)\|unresolved-ipv4")
# Forged sources never answer ARP: they are all one unresolved host, a
# line and a summary per 10 s (64 hosts would cost 129).
bound=$(( (elapsed / 10 + 1) * 2 ))
expect "20,000 bad PCP datagrams from 100 forged addresses ($got in ${elapsed} s) cost $flood_lines log lines (at most $bound)" \
	check '[ "${got#sent=}" = 20000 ] && [ "$flood_lines" -le "$bound" ]'
# Answers to the forged sources wait for ARP in the socket's send buffer
# until the kernel gives up on them (3 s): a real host is served once it has.
i=0
while [ $i -lt 10 ]; do
	got=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" map tcp 9300 9300 60)
	echo "$got" | grep -q '^result=0 ' && break
	i=$((i + 1))
done
expect "  and a real host is served within $((i + 1)) s of it ($got)" sh -c "echo '$got' | grep -q '^result=0 '"
sleep 10.5
expect "  the flood is summarised as one unresolved host's" \
	check 'tail -n +"$((lines_before + 1))" "$LOG" | grep -q "audit event=refused_summary client=$LAN_NET.1[5-9][0-9] host=unresolved-ipv4 count=[0-9][0-9][0-9]"'

# --- the router's own services win -------------------------------------------

# The router serves the WAN itself: a WireGuard-like UDP socket on every
# address, an SSH-like TCP listener on the external address, a dual-stack
# IPv6 listener (it takes IPv4 too).
in_router socat -u UDP4-RECV:51820,reuseaddr "OPEN:$WORK/router-udp51820,creat,append" 2>/dev/null &
in_router socat -u "TCP4-LISTEN:8022,bind=$ROUTER_WAN_IP,fork,reuseaddr" "OPEN:$WORK/router-tcp8022,creat,append" 2>/dev/null &
in_router socat -u "TCP6-LISTEN:8023,ipv6only=0,fork,reuseaddr" "OPEN:$WORK/router-tcp8023,creat,append" 2>/dev/null &
listen_udp "$NS_LAN1" 51820 "$WORK/lan1-udp51820"
sleep 0.3
got=$(in_lan1 natpmpc -g "$ROUTER_LAN_IP" -a 51820 51820 udp 600 2>&1 | sed -n 's/^Mapped public port \([0-9]*\) .*/\1/p')
expect "NAT-PMP for udp 51820, where the router listens, gets another port (${got:-none})" \
	check '[ -n "$got" ] && [ "$got" != 51820 ] && wan_reaches udp "$got" "$WORK/lan1-udp51820"'
expect "  and the WAN still reaches the router's own udp 51820" wan_reaches udp 51820 "$WORK/router-udp51820"
got=$(pcp "$NS_LAN2" -p -l 600 map tcp 8022 8022)
expect "PCP PREFER_FAILURE for tcp 8022, where the router listens on the external address: CANNOT_PROVIDE_EXTERNAL ($(field result "$got"))" \
	check '[ "$(field result "$got")" = CANNOT_PROVIDE_EXTERNAL ] && wan_reaches tcp 8022 "$WORK/router-tcp8022"'
expect "  audited with the reason" \
	grep -q "client=$LAN2_IP internal=$LAN2_IP:8022 rule_line=[0-9]* result=\"the router itself serves that port from the WAN\"" "$LOG"
got=$(upnpc_on "$NS_LAN2" -e "x" -a "$LAN2_IP" 8023 8023 TCP 600 | grep -o 'failed with code [0-9]*' | head -n 1)
expect "UPnP AddPortMapping of tcp 8023, where a dual-stack IPv6 listener of the router takes IPv4: 718 (${got:-granted})" \
	check '[ "$got" = "failed with code 718" ] && wan_reaches tcp 8023 "$WORK/router-tcp8023"'
got=$(in_lan1 natpmpc -g "$ROUTER_LAN_IP" -a 8024 8024 tcp 600 2>&1 | sed -n 's/^Mapped public port \([0-9]*\) .*/\1/p')
expect "  a port the router does not serve is granted as asked (${got:-none})" [ "$got" = 8024 ]
# A service the router starts after a mapping took its port: no notice
# tells of a new socket, so the mappings are reviewed every 30 s and
# whenever the operator lists them.
ip netns exec "$NS_ROUTER" socat -u "TCP4-LISTEN:8024,fork,reuseaddr" /dev/null 2>/dev/null &
late_pid=$!  # socat's own: ip netns exec runs it in its place
sleep 0.3
expect "a service the router starts later on tcp 8024 is flagged on lan1's mapping in portleasectl list" \
	check 'ctl list | grep -E "^tcp +8024 " | grep -q "\[CONFLICT: the router itself now serves this port from the WAN\]"'
expect "  logged as a warning" \
	grep -q "mapping tcp 8024 -> $LAN1_IP:8024 (natpmp): the router itself now serves this port from the WAN" "$LOG"
expect "  and shown in --json" \
	check 'ctl list --json | sed "s/},{/\n/g" | grep "\"external_port\":8024," | grep -q "\"conflict\":\"router_serves\""'
got=$(ctl explain "$LAN1_IP" tcp 8024)
expect "  explain names the reason" check 'echo "$got" | grep -q "^the router listens on tcp 8024 from the WAN"'
kill "$late_pid" 2>/dev/null
wait "$late_pid" 2>/dev/null
expect "  once the service stops, the flag goes" check '! ctl list | grep -E "^tcp +8024 " | grep -q CONFLICT'

# --- ports the operator's own rules forward are nobody else's -----------------

# An fw4-style port forward in a table of the operator's, a set of ports,
# and a LAN-side redirect (a DNS hijack's kind), which takes nothing from
# the WAN. lan2 serves the forwards.
listen_tcp "$NS_LAN2" 7000 "$WORK/lan2-tcp7000"
in_router nft -f - <<NFT
table ip operator {
	chain dstnat {
		type nat hook prerouting priority dstnat - 10;
		iifname "$ROUTER_WAN_IF" tcp dport 8090 dnat to $LAN2_IP:7000
		iifname "$ROUTER_WAN_IF" udp dport { 8091, 8100-8102 } dnat to $LAN2_IP:7000
		iifname "br-lan" udp dport 8096 redirect to :53
	}
}
NFT
sleep 0.3
got=$(in_lan1 natpmpc -g "$ROUTER_LAN_IP" -a 8090 8090 tcp 600 2>&1 | sed -n 's/^Mapped public port \([0-9]*\) .*/\1/p')
expect "NAT-PMP for tcp 8090, which the operator's own rule forwards, gets another port (${got:-none})" \
	check '[ -n "$got" ] && [ "$got" != 8090 ] && wan_reaches tcp 8090 "$WORK/lan2-tcp7000"'
got=$(pcp "$NS_LAN1" -p -l 600 map udp 8101 8101)
expect "PCP PREFER_FAILURE for udp 8101, in the rule's set's range: CANNOT_PROVIDE_EXTERNAL ($(field result "$got"))" \
	[ "$(field result "$got")" = CANNOT_PROVIDE_EXTERNAL ]
expect "  audited with the reason" \
	grep -q "client=$LAN1_IP internal=$LAN1_IP:8101 rule_line=[0-9]* result=\"another nftables rule forwards that port\"" "$LOG"
got=$(in_lan1 natpmpc -g "$ROUTER_LAN_IP" -a 8096 8096 udp 600 2>&1 | sed -n 's/^Mapped public port \([0-9]*\) .*/\1/p')
expect "  while udp 8096, which only the LAN side redirects, is granted as asked (${got:-none})" [ "$got" = 8096 ]
# A rule added while portleased runs counts at once.
in_router nft add rule ip operator dstnat iifname "$ROUTER_WAN_IF" tcp dport 8095 dnat to "$LAN2_IP:7000"
sleep 0.3
got=$(upnpc_on "$NS_LAN2" -e "x" -a "$LAN2_IP" 8095 8095 TCP 600 | grep -o 'failed with code [0-9]*' | head -n 1)
expect "a rule added at run time for tcp 8095 is seen: UPnP AddPortMapping 718 (${got:-granted})" \
	check '[ "$got" = "failed with code 718" ] && wan_reaches tcp 8095 "$WORK/lan2-tcp7000"'
# A compromised portleased cannot take it either: the helper reads the rules itself.
got=$(probe add tcp 8090 "$LAN1_IP" 8090 "$LAN1_IP")
expect "the helper refuses tcp 8090 to a stand-in for portleased too ($got)" [ "$got" = "rc=-98" ]
in_router nft delete table inet probe
in_router nft delete table ip operator
sleep 0.3
got=$(in_lan1 natpmpc -g "$ROUTER_LAN_IP" -a 8095 8095 tcp 600 2>&1 | sed -n 's/^Mapped public port \([0-9]*\) .*/\1/p')
expect "once the operator's table is gone, tcp 8095 is granted as asked (${got:-none})" [ "$got" = 8095 ]

# --- one host with 100 addresses against the shared pools ---------------------

# lan2 takes 100 addresses, as any host may, and makes itself known from
# each (a NAT-PMP address request, whose answer the router ARPs for): the
# router now knows them all as one link-layer address.
LAN2_MAC=$(mac_of "$NS_LAN2")
i=20
while [ $i -lt 120 ]; do
	echo "address add $LAN_NET.$i/24 dev eth0"
	i=$((i + 1))
done | ip -n "$NS_LAN2" -batch -
in_lan2 "$PROBE" "$ROUTER_LAN_IP" spray 0000 100 "$LAN_NET.20" 100 > /dev/null
sleep 1
known=$(in_router ip neigh show dev br-lan | grep -c "^$LAN_NET\.\([2-9][0-9]\|1[01][0-9]\) .*lladdr $LAN2_MAC")
expect "the router knows lan2's 100 addresses by its link-layer address ($known)" [ "$known" = 100 ]
# The lease table (80) would be full if each address had its own 25: tcp
# 9600 for 600 s from each.
held_before=$(ctl explain "$LAN2_IP" tcp 9602 | sed -n 's/.* holds \([0-9]*\) of its.*/\1/p')
in_lan2 "$PROBE" "$ROUTER_LAN_IP" spray 000200002580258000000258 100 "$LAN_NET.20" 100 > /dev/null
sleep 1
crowd=$(ctl list | grep -c ":9600 ")
answer=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" map tcp 9601 9601 60)
expect "100 addresses of one host get what is left of one host's 25 mappings ($crowd + ${held_before:-?}), and a host holding nothing is served at once ($answer)" \
	check '[ $((crowd + ${held_before:-99})) = 25 ] && echo "$answer" | grep -q "^result=0 " &&
	       [ "$(echo "$answer" | sed "s/.*rtt_us=//")" -lt 1000000 ]'
expect "  explain counts them for lan2's host" \
	check 'ctl explain "$LAN_NET.77" tcp 9602 | grep -q "the client.s host ($LAN2_MAC) holds 25 of its 25 mappings"'
# HTTP: 64 connections in all, 8 per host. lan2 holds one from each address,
# all opened by one process (100 socat processes take seconds to start on a
# busy machine, and late ones would still be arriving when lan1 asks), which
# says when all are open and holds them until told to stop (10 s at most).
in_lan2 python3 -c '
import os, socket, sys, time
net, server, port, ready, stop = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
held = []
for i in range(20, 120):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.bind(("%s.%d" % (net, i), 0))
        s.connect((server, port))
        held.append(s)
    except OSError:
        s.close()
with open(ready, "w") as f:
    f.write("%d\n" % len(held))
deadline = time.monotonic() + 10
while not os.path.exists(stop) and time.monotonic() < deadline:
    time.sleep(0.05)
' "$LAN_NET" "$ROUTER_LAN_IP" "$HTTP_PORT" "$WORK/crowd-ready" "$WORK/crowd-stop" &
crowd_pid=$!
# held: lan2's connections the router has. Those it refuses are closed
# as the loop accepts them: on a busy machine that takes a moment.
held() { in_router ss -Htn state established "( sport = :$HTTP_PORT )" | grep -c " $LAN_NET\.\([2-9][0-9]\|1[01][0-9]\):"; }
i=0
while [ ! -s "$WORK/crowd-ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
i=0
while [ "$(held)" -gt 8 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
held=$(held)
start=$(date +%s%N)
got=$(printf 'GET /rootDesc.xml HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$ROUTER_LAN_IP" "$HTTP_PORT" |
	in_lan1 timeout 3 socat -t 2 - "TCP4:$ROUTER_LAN_IP:$HTTP_PORT" 2>/dev/null | head -n 1 | tr -d '\r')
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect "while lan2's 100 addresses try to hold HTTP connections ($(cat "$WORK/crowd-ready" 2>/dev/null || echo none) made), the router keeps $held of them and lan1 is served in $ms ms ($got)" \
	check '[ "$held" -le 8 ] && [ "$got" = "HTTP/1.1 200 OK" ] && [ "$ms" -lt 1000 ]'
touch "$WORK/crowd-stop"
wait "$crowd_pid" 2>/dev/null
# GENA: 32 subscriptions in all, 8 per host; events go to the subscriber itself.
subscribed=0
i=20
while [ $i -lt 120 ]; do
	status=$(printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHOST: %s:%s\r\nCALLBACK: <http://%s:40000/>\r\nNT: upnp:event\r\nTIMEOUT: Second-300\r\n\r\n' \
		"$ROUTER_LAN_IP" "$HTTP_PORT" "$LAN_NET.$i" |
		in_lan2 timeout 3 socat -t 2 - "TCP4:$ROUTER_LAN_IP:$HTTP_PORT,bind=$LAN_NET.$i" 2>/dev/null | head -n 1 | tr -d '\r')
	[ "$status" = "HTTP/1.1 200 OK" ] && subscribed=$((subscribed + 1))
	i=$((i + 1))
done
got=$(printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHOST: %s:%s\r\nCALLBACK: <http://%s:40000/>\r\nNT: upnp:event\r\nTIMEOUT: Second-300\r\n\r\n' \
	"$ROUTER_LAN_IP" "$HTTP_PORT" "$LAN1_IP" |
	in_lan1 timeout 3 socat -t 2 - "TCP4:$ROUTER_LAN_IP:$HTTP_PORT" 2>/dev/null | head -n 1 | tr -d '\r')
expect "100 addresses of one host get 8 event subscriptions ($subscribed), and lan1 still gets one ($got)" \
	check '[ "$subscribed" = 8 ] && [ "$got" = "HTTP/1.1 200 OK" ]'

# --- a refused call that changes nothing is logged too ------------------------

# An action of the standard that portleased does not offer, as some clients
# send it: logged with its reason (once lan1's last refusal is 10 s old, so
# that this one has a line of its own).
sleep 10.5
body='<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:ForceTermination xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:2"/></s:Body></s:Envelope>'
got=$(printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: text/xml\r\nSOAPAction: "urn:schemas-upnp-org:service:WANIPConnection:2#ForceTermination"\r\nContent-Length: %d\r\n\r\n%s' \
	"$ROUTER_LAN_IP" "$HTTP_PORT" "${#body}" "$body" |
	in_lan1 timeout 4 socat -t 3 - "TCP:$ROUTER_LAN_IP:$HTTP_PORT" 2>/dev/null | grep -o "<errorCode>[0-9]*</errorCode>")
expect "ForceTermination, which portleased does not offer, is refused 401 ($got)" \
	check '[ "$got" = "<errorCode>401</errorCode>" ]'
expect "  and logged with the reason" \
	grep -q "upnp: refused ForceTermination of WANIPConnection from $LAN1_IP: UPnP error 401 Invalid Action" "$LOG"

summary security
