#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end tests of the UPnP IGD: portleased in a router namespace behind
# a drop-policy firewall, upnpc (Debian's miniupnpc) on the LAN hosts, real
# TCP and UDP traffic from the WAN host, hostile HTTP from both sides.
# Usage: upnp.sh BUILD_DIR, or tests/e2e/scenario.sh BUILD_DIR upnp. Needs root.
LAN_NET=192.168.78
LAN6_NET=2001:db8:78
SCENARIO=upnp
. "$(dirname "$0")/../prologue.sh"

HTTP_PORT=5000
DESC="http://$ROUTER_LAN_IP:$HTTP_PORT/rootDesc.xml"
DESC6="http://[$ROUTER_LAN_IP6]:$HTTP_PORT/rootDesc.xml"
DESC1="http://$ROUTER_LAN_IP:$HTTP_PORT/igd1/rootDesc.xml"  # the IGD:1 beside the IGD:2
DESC1_6="http://[$ROUTER_LAN_IP6]:$HTTP_PORT/igd1/rootDesc.xml"

# upnpc_on NS ARGS...: upnpc with our description URL, so that only the
# discovery check waits for SSDP. -i: miniupnpc calls an IGD whose external
# address is reserved (ours is in 203.0.113.0/24) "not connected".
upnpc_on() { ns=$1; shift; ip netns exec "$ns" timeout 10 upnpc -i -u "$DESC" "$@" 2>&1; }
# upnpc6_on NS ARGS...: the same over IPv6, for the pinhole commands.
upnpc6_on() { ns=$1; shift; ip netns exec "$ns" timeout 10 upnpc -6 -i -u "$DESC6" "$@" 2>&1; }
# pinhole_id OUTPUT: the UniqueID upnpc -A reports.
pinhole_id() { echo "$1" | sed -n 's/^AddPinhole: .* Pinhole ID = \([0-9]*\)$/\1/p'; }

# redirected OUTPUT: "PORT DURATION" of the mapping upnpc -a/-n/-r reports.
redirected() {
	echo "$1" | sed -n 's/^external [0-9.]*:\([0-9]*\) [A-Z]* is redirected to internal [0-9.]*:[0-9]* (duration=\([0-9]*\))$/\1 \2/p' | head -n 1
}

# http_raw NS [ADDR]: sends stdin to the router's HTTP port, prints the
# status line of the answer (or nothing).
http_raw() {
	ip netns exec "$1" timeout 4 socat -t 3 - "TCP:${2:-$ROUTER_LAN_IP}:$HTTP_PORT,connect-timeout=1" 2>/dev/null |
		head -n 1 | tr -d '\r'
}

# soap ACTION BODY: a control request as miniupnpc would send it, but with
# whatever body and Host the test wants (HOST overrides).
soap() {
	body=$2
	printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml\r\nSOAPAction: "urn:schemas-upnp-org:service:WANIPConnection:2#%s"\r\nContent-Length: %d\r\n\r\n%s' \
		"${HOST:-$ROUTER_LAN_IP:$HTTP_PORT}" "$1" "${#body}" "$body"
}

# http_full NS: like http_raw, but prints the whole answer, CRs removed.
http_full() {
	ip netns exec "$1" timeout 4 socat -t 3 - "TCP:$ROUTER_LAN_IP:$HTTP_PORT,connect-timeout=1" 2>/dev/null | tr -d '\r'
}

# subscribe CALLBACK [TIMEOUT]: a GENA SUBSCRIBE to WANIPConnection's events.
subscribe() {
	printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHOST: %s:%s\r\nCALLBACK: <%s>\r\nNT: upnp:event\r\nTIMEOUT: Second-%s\r\n\r\n' \
		"$ROUTER_LAN_IP" "$HTTP_PORT" "$1" "${2:-300}"
}

# event_sink NS PORT FILE: a GENA subscriber that answers 200 and appends
# every NOTIFY it gets to FILE.
event_sink() {
	printf '#!/bin/sh\nprintf "HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n"\nexec cat >> "$1"\n' > "$WORK/sink.sh"
	ip netns exec "$1" socat "TCP-LISTEN:$2,fork,reuseaddr" EXEC:"sh $WORK/sink.sh $3" 2>/dev/null &
}

# waits_for PATTERN FILE COUNT [SECONDS]: whether FILE holds COUNT lines
# matching PATTERN within SECONDS (3).
waits_for() {
	i=0
	while [ $i -lt $((${4:-3} * 10)) ]; do
		n=$(grep -c "$1" "$2" 2>/dev/null)
		[ "${n:-0}" -ge "$3" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

ENVELOPE_OPEN='<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
ENVELOPE_CLOSE='</s:Body></s:Envelope>'

# --- the network -------------------------------------------------------------

net_setup || { echo "not ok - cannot build the test network (need root, iproute2, veth and bridge)"; exit 1; }
write_router_config "$CONF"
make_router_firewall firewall
# Heard on the LAN and on the WAN: SSDP multicast, from before the start.
in_lan1 socat -u "UDP6-RECV:1900,reuseaddr,ipv6-join-group=[ff02::c]:eth0" "OPEN:$WORK/lan1-ssdp6,creat,append" 2>/dev/null &
in_wan socat -u "UDP6-RECV:1900,reuseaddr,ipv6-join-group=[ff02::c]:eth0" "OPEN:$WORK/wan-ssdp6,creat,append" 2>/dev/null &
in_lan1 socat -u "UDP4-RECV:1900,reuseaddr,ip-add-membership=239.255.255.250:eth0" "OPEN:$WORK/lan1-ssdp,creat,append" 2>/dev/null &
in_wan socat -u "UDP4-RECV:1900,reuseaddr,ip-add-membership=239.255.255.250:eth0" "OPEN:$WORK/wan-ssdp,creat,append" 2>/dev/null &
sleep 0.2

start_portleased "$DAEMON" "$CONF" "$LOG" || { echo "not ok - portleased did not start"; exit 1; }

listen_tcp "$NS_LAN1" 8080 "$WORK/lan1-tcp8080"
listen_udp "$NS_LAN1" 9000 "$WORK/lan1-udp9000"
listen_tcp "$NS_LAN2" 7000 "$WORK/lan2-tcp7000"
listen_tcp "$NS_LAN2" 7100 "$WORK/lan2-tcp7100"
listen_tcp "$NS_LAN1" 8300 "$WORK/lan1-tcp8300"
listen_tcp "$NS_LAN1" 8400 "$WORK/lan1-tcp8400"
listen_tcp6 "$NS_LAN1" 8080 "$WORK/lan1-tcp6-8080"
listen_udp6 "$NS_LAN1" 9000 "$WORK/lan1-udp6-9000"
event_sink "$NS_LAN1" 4000 "$WORK/lan1-events"
event_sink "$NS_LAN1" 4002 "$WORK/lan1-events2"
event_sink "$NS_WAN" 4000 "$WORK/wan-events"
sleep 0.3

# --- discovery -------------------------------------------------------------------

# upnpc searches for IGD:1 first and takes what answers: beside the IGD:2,
# that is the IGD:1 (igd_version "both", the default).
out=$(in_lan1 timeout 15 upnpc -i -s 2>&1)
expect "upnpc discovers the IGD:1 by SSDP multicast and reads its description" \
	sh -c "echo '$out' | grep -q '^ desc: $DESC1\$'"
expect "upnpc finds WANIPConnection's control URL in it" \
	sh -c "echo '$out' | grep -q 'IGD : http://$ROUTER_LAN_IP:$HTTP_PORT/ctl/IPConn'"
expect "-s: the external address is the router's WAN address" \
	sh -c "echo '$out' | grep -q '^ExternalIPAddress = $ROUTER_WAN_IP\$'"
expect "-s: the connection is IP_Routed and Connected" \
	check 'echo "$out" | grep -q "^Connection Type : IP_Routed" && echo "$out" | grep -q "^Status : Connected"'
rx=$(echo "$out" | sed -n 's/^Packets: *Sent: *[0-9]*[[:space:]]*Recv: *\([0-9]*\)$/\1/p')
kernel_rx=$(in_router cat /sys/class/net/wan0/statistics/rx_packets)
expect "-s: the packet counters are the WAN interface's ($rx received, the kernel says $kernel_rx)" \
	check '[ -n "$rx" ] && [ "$rx" -gt 0 ] && [ "$rx" -le "$kernel_rx" ]'
expect "ssdp:alive was multicast on the LAN at start" grep -q 'NTS: ssdp:alive' "$WORK/lan1-ssdp"
expect "and nothing on the WAN link" check '[ ! -s "$WORK/wan-ssdp" ]'

search='M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nST: upnp:rootdevice\r\n\r\n'
got=$(printf "$search" | in_lan1 timeout 3 socat -T 1 - "UDP4:$ROUTER_LAN_IP:1900" 2>/dev/null | head -n 1 | tr -d '\r')
expect "a unicast M-SEARCH from a LAN host is answered ($got)" [ "$got" = "HTTP/1.1 200 OK" ]
got=$(printf "$search" | in_wan timeout 3 socat -T 1 - "UDP4:$ROUTER_WAN_IP:1900" 2>/dev/null | head -n 1)
expect "the same M-SEARCH from the WAN host gets no answer (${got:-none})" [ -z "$got" ]

# --- mappings, each proven with traffic --------------------------------------------

expect "no mapping, no traffic" wan_blocked tcp 18080 "$WORK/lan1-tcp8080"
out=$(upnpc_on "$NS_LAN1" -e "web server" -a "$LAN1_IP" 8080 18080 TCP 600)
got=$(redirected "$out")
expect "-a -e: TCP 18080 -> lan1:8080 granted for 600 s ($got)" [ "$got" = "18080 600" ]
expect "it carries a connection from the WAN host to the LAN listener" wan_reaches tcp 18080 "$WORK/lan1-tcp8080"
got=$(redirected "$(upnpc_on "$NS_LAN1" -a "$LAN1_IP" 9000 19000 UDP 600)")
expect "-a: UDP 19000 -> lan1:9000 granted ($got)" [ "$got" = "19000 600" ]
expect "it carries a datagram from the WAN host" wan_reaches udp 19000 "$WORK/lan1-udp9000"

# upnpc prints each entry as "INDEX PROTOCOL EXT->CLIENT:PORT 'DESCRIPTION'
# 'REMOTE HOST' DURATION", the protocol as the server spelled it: the
# service description allows TCP and UDP only, and clients compare strings.
listed_tcp="^ *[0-9]+ TCP 18080->$LAN1_IP:8080 +'web server' '' ([1-9][0-9]?|[1-5][0-9][0-9]|600)\$"
listed_udp="^ *[0-9]+ UDP 19000->$LAN1_IP:9000 +'[^']*' '' ([1-9][0-9]?|[1-5][0-9][0-9]|600)\$"
out=$(upnpc_on "$NS_LAN1" -l)
expect "-l (GetGenericPortMappingEntry) lists both mappings field by field: TCP/UDP, ports, client, description, no remote host, time left" \
	check 'echo "$out" | grep -qE "$listed_tcp" && echo "$out" | grep -qE "$listed_udp"'
echo "$out" | grep -qE "$listed_tcp" || echo "$out" | sed 's/^/  upnpc -l: /'
out=$(upnpc_on "$NS_LAN1" -L)
expect "-L (GetListOfPortMappings) lists them the same way" \
	check 'echo "$out" | grep -qE "$listed_tcp" && echo "$out" | grep -qE "$listed_udp"'
echo "$out" | grep -qE "$listed_tcp" || echo "$out" | sed 's/^/  upnpc -L: /'

# --- IGD:1 and IGD:2 side by side (igd_version "both", the default) -----------

# search NS ST: the LOCATION of the router's answer to an M-SEARCH for ST.
search() {
	printf 'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: %s\r\n\r\n' "$2" |
		ip netns exec "$1" timeout 4 socat -t 2 -T 3 - "UDP4:$ROUTER_LAN_IP:1900" 2>/dev/null |
		tr -d '\r' | sed -n 's/^LOCATION: //p' | sort -u
}
igd1=$(search "$NS_LAN2" urn:schemas-upnp-org:device:InternetGatewayDevice:1)
igd2=$(search "$NS_LAN1" urn:schemas-upnp-org:device:InternetGatewayDevice:2)
expect "a search for IGD:1 finds an IGD:1 description, one for IGD:2 an IGD:2 one ($igd1, $igd2)" \
	check '[ "$igd1" = "http://$ROUTER_LAN_IP:$HTTP_PORT/igd1/rootDesc.xml" ] && [ "$igd2" = "$DESC" ]'
desc1=$(printf 'GET /igd1/rootDesc.xml HTTP/1.0\r\n\r\n' | http_full "$NS_LAN2")
expect "  the IGD:1 description offers WANIPConnection:1, with version 1 SCPDs, and no IGD:2 type" \
	check 'echo "$desc1" | grep -q "<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><serviceId>[^<]*</serviceId><SCPDURL>/igd1/" &&
	       ! echo "$desc1" | grep -q "WANIPConnection:2\|InternetGatewayDevice:2\|WANDevice:2\|WANConnectionDevice:2"'
expect "  but WANIPv6FirewallControl:1, for the clients that take the IGD:1 (upnpc does)" \
	check 'echo "$desc1" | grep -q "<serviceType>urn:schemas-upnp-org:service:WANIPv6FirewallControl:1</serviceType>"'
scpd1=$(printf 'GET %s HTTP/1.0\r\n\r\n' "$(echo "$desc1" | sed -n 's|.*WANIPConnection:1</serviceType><serviceId>[^<]*</serviceId><SCPDURL>\([^<]*\)<.*|\1|p')" | http_full "$NS_LAN2")
expect "  whose WANIPConnection:1 SCPD has no IGD:2 action" \
	check 'echo "$scpd1" | grep -q "<name>AddPortMapping</name>" && ! echo "$scpd1" | grep -q "AddAnyPortMapping"'
# An IGD:1 client and an IGD:2 client at the same time, each on its own
# description, the same leases and policy behind both.
listen_tcp "$NS_LAN2" 7700 "$WORK/lan2-tcp7700"
listen_tcp "$NS_LAN1" 8700 "$WORK/lan1-tcp8700"
ip netns exec "$NS_LAN2" timeout 10 upnpc -i -u "$igd1" -e "igd1 client" -a "$LAN2_IP" 7700 18700 TCP 600 > "$WORK/igd1-add" 2>&1 &
igd1_pid=$!
ip netns exec "$NS_LAN1" timeout 10 upnpc -i -u "$igd2" -e "igd2 client" -a "$LAN1_IP" 8700 18701 TCP 600 > "$WORK/igd2-add" 2>&1 &
igd2_pid=$!
wait "$igd1_pid" "$igd2_pid"
expect "upnpc on the IGD:1 description and upnpc on the IGD:2 one, at once: both mapped ($(redirected "$(cat "$WORK/igd1-add")"), $(redirected "$(cat "$WORK/igd2-add")"))" \
	check '[ "$(redirected "$(cat "$WORK/igd1-add")")" = "18700 600" ] && [ "$(redirected "$(cat "$WORK/igd2-add")")" = "18701 600" ]'
expect "  both carry traffic" \
	check 'wan_reaches tcp 18700 "$WORK/lan2-tcp7700" && wan_reaches tcp 18701 "$WORK/lan1-tcp8700"'
out=$(ip netns exec "$NS_LAN2" timeout 10 upnpc -i -u "$igd1" -l 2>&1)
expect "  the IGD:1 listing shows the IGD:2 client's mapping too, TCP" \
	check 'echo "$out" | grep -qE "^ *[0-9]+ TCP 18701->$LAN1_IP:8700 +.igd2 client."'
ip netns exec "$NS_LAN2" timeout 10 upnpc -i -u "$igd1" -d 18700 TCP > /dev/null 2>&1
upnpc_on "$NS_LAN1" -d 18701 TCP > /dev/null

out=$(upnpc_on "$NS_LAN2" -a "$LAN1_IP" 8080 18081 TCP 600)
expect "lan2 asking a mapping for lan1 is refused 606" sh -c "echo '$out' | grep -q 'failed with code 606'"
expect "and nothing reaches lan1 through that port" wan_blocked tcp 18081 "$WORK/lan1-tcp8080"
out=$(upnpc_on "$NS_LAN2" -a "$LAN2_IP" 7000 18080 TCP 600)
expect "lan2 asking for lan1's external port gets 718 ConflictInMappingEntry" \
	sh -c "echo '$out' | grep -q 'failed with code 718'"
expect "and lan1's mapping still carries its traffic" wan_reaches tcp 18080 "$WORK/lan1-tcp8080"

got=$(redirected "$(upnpc_on "$NS_LAN2" -n "$LAN2_IP" 7000 18080 TCP 600)")
port=${got%% *}
expect "-n (AddAnyPortMapping) gives lan2 another free port ($got)" \
	check '[ -n "$port" ] && [ "$port" != 18080 ]'
expect "which carries lan2's traffic" wan_reaches tcp "$port" "$WORK/lan2-tcp7000"

got=$(redirected "$(upnpc_on "$NS_LAN2" -r 7100 17100 tcp)")
expect "-r maps for the asking host; lease 0 becomes the policy's maximum, 3600 s ($got)" \
	[ "$got" = "17100 3600" ]
expect "it carries traffic" wan_reaches tcp 17100 "$WORK/lan2-tcp7100"

got=$(redirected "$(upnpc_on "$NS_LAN1" -a "$LAN1_IP" 8300 18300 TCP 600 "$WAN_IP2")")
expect "-a with a remote host: granted ($got)" [ "$got" = "18300 600" ]
expect "the remote host named reaches it" from "$WAN_IP2" wan_reaches tcp 18300 "$WORK/lan1-tcp8300"
expect "another remote host does not" from "$WAN_IP" wan_blocked tcp 18300 "$WORK/lan1-tcp8300"

# As a widely used npm client library sends it: NewRemoteHost "undefined"
# for "any", pretty-printed values, a boolean spelled "true". The incumbent
# takes it; so do we (any remote host, with a debug line).
body="$ENVELOPE_OPEN<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">
  <NewRemoteHost>undefined</NewRemoteHost>
  <NewExternalPort> 18500 </NewExternalPort>
  <NewProtocol>
    TCP
  </NewProtocol>
  <NewInternalPort>8400</NewInternalPort>
  <NewInternalClient>$LAN1_IP</NewInternalClient>
  <NewEnabled>true</NewEnabled>
  <NewPortMappingDescription>node client</NewPortMappingDescription>
  <NewLeaseDuration>600</NewLeaseDuration>
</u:AddPortMapping>$ENVELOPE_CLOSE"
got=$(soap AddPortMapping "$body" | http_raw "$NS_LAN1")
expect "AddPortMapping with NewRemoteHost \"undefined\" and padded values is granted ($got)" \
	[ "$got" = "HTTP/1.1 200 OK" ]
expect "  for every remote host: both WAN hosts reach lan1 through it" \
	check 'from "$WAN_IP" wan_reaches tcp 18500 "$WORK/lan1-tcp8400" && from "$WAN_IP2" wan_reaches tcp 18500 "$WORK/lan1-tcp8400"'
upnpc_on "$NS_LAN1" -d 18500 TCP > /dev/null

out=$(upnpc_on "$NS_LAN2" -d 19000 UDP)
expect "lan2 cannot delete lan1's mapping (606)" sh -c "echo '$out' | grep -q 'UPNP_DeletePortMapping() failed with code : 606'"
expect "which still carries traffic" wan_reaches udp 19000 "$WORK/lan1-udp9000"
out=$(upnpc_on "$NS_LAN1" -d 18080 TCP)
expect "-d: lan1 deletes its TCP mapping" sh -c "echo '$out' | grep -q 'UPNP_DeletePortMapping() returned : 0'"
expect "after -d the WAN host no longer reaches the service" wan_blocked tcp 18080 "$WORK/lan1-tcp8080"
expect "and the kernel holds no element for it" \
	sh -c "! ip netns exec $NS_ROUTER nft list map inet portleased fwd4 | grep -q '18080 :'"

out=$(upnpc_on "$NS_LAN2" -N 17000 18999 TCP)
expect "-N (DeletePortMappingRange): lan2's mappings in the range go" \
	check 'wan_blocked tcp 17100 "$WORK/lan2-tcp7100" && wan_blocked tcp "$port" "$WORK/lan2-tcp7000"'
expect "and lan1's outside it stays" wan_reaches udp 19000 "$WORK/lan1-udp9000"

# --- GENA eventing -----------------------------------------------------------------

out=$(subscribe "http://$LAN1_IP:4000/ev" | http_full "$NS_LAN1")
sid=$(echo "$out" | sed -n 's/^SID: //p')
expect "SUBSCRIBE from lan1 with its own callback: 200, a SID, the timeout asked ($sid)" \
	check 'echo "$out" | grep -q "^HTTP/1.1 200 OK" && echo "$out" | grep -q "^SID: uuid:" && echo "$out" | grep -q "^TIMEOUT: Second-300"'
expect "the initial event reaches lan1: SEQ 0, every evented variable" \
	check 'waits_for "^SEQ: 0" "$WORK/lan1-events" 1 && grep -q "<ExternalIPAddress>$ROUTER_WAN_IP</ExternalIPAddress>" "$WORK/lan1-events" && grep -q "<ConnectionStatus>Connected<" "$WORK/lan1-events"'
count=$(sed -n 's/.*<PortMappingNumberOfEntries>\([0-9]*\)<.*/\1/p' "$WORK/lan1-events" | tail -n 1)
got=$(redirected "$(upnpc_on "$NS_LAN1" -a "$LAN1_IP" 8400 18400 TCP 600)")
expect "a new mapping ($got) is evented: SEQ 1, PortMappingNumberOfEntries $count -> $((count + 1))" \
	check 'waits_for "^SEQ: 1" "$WORK/lan1-events" 1 && grep -q "<PortMappingNumberOfEntries>$((count + 1))<" "$WORK/lan1-events"'

got=$(subscribe "http://$LAN1_IP:4000/ev" | http_raw "$NS_LAN2")
expect "CallStranger: lan2 subscribing events to lan1 is refused 412 ($got)" \
	[ "$got" = "HTTP/1.1 412 Precondition Failed" ]
got=$(subscribe "http://$WAN_IP:4000/ev" | http_raw "$NS_LAN2")
expect "CallStranger: lan2 subscribing events to the WAN host is refused 412 ($got)" \
	[ "$got" = "HTTP/1.1 412 Precondition Failed" ]
got=$(subscribe "http://evil.example:4000/ev" | http_raw "$NS_LAN1")
expect "a callback by name is refused 412 ($got)" [ "$got" = "HTTP/1.1 412 Precondition Failed" ]
i=0; codes=""
while [ $i -lt 9 ]; do
	codes="$codes $(subscribe "http://$LAN2_IP:4001/ev" | http_raw "$NS_LAN2" | cut -d' ' -f2)"
	i=$((i + 1))
done
expect "one host holds at most 8 subscriptions: the 9th gets 503 ($codes)" \
	[ "$codes" = " 200 200 200 200 200 200 200 200 503" ]

got=$(printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHOST: %s\r\nSID: %s\r\nTIMEOUT: Second-600\r\n\r\n' "$ROUTER_LAN_IP" "$sid" | http_full "$NS_LAN1")
expect "a renewal with the SID is granted the new timeout" \
	check 'echo "$got" | grep -q "^HTTP/1.1 200 OK" && echo "$got" | grep -q "^TIMEOUT: Second-600"'
got=$(printf 'SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHOST: %s\r\nSID: uuid:00000000-0000-4000-8000-000000000000\r\n\r\n' "$ROUTER_LAN_IP" | http_raw "$NS_LAN1")
expect "a renewal of an unknown SID gets 412 ($got)" [ "$got" = "HTTP/1.1 412 Precondition Failed" ]
got=$(printf 'UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHOST: %s\r\nSID: %s\r\n\r\n' "$ROUTER_LAN_IP" "$sid" | http_raw "$NS_LAN1")
expect "UNSUBSCRIBE ends it ($got)" [ "$got" = "HTTP/1.1 200 OK" ]
notifies=$(grep -c '^NOTIFY' "$WORK/lan1-events")
upnpc_on "$NS_LAN1" -d 18400 TCP > /dev/null
sleep 0.5
expect "after UNSUBSCRIBE a change sends lan1 nothing ($notifies NOTIFY before, $(grep -c '^NOTIFY' "$WORK/lan1-events") after)" \
	[ "$(grep -c '^NOTIFY' "$WORK/lan1-events")" = "$notifies" ]
expect "and the WAN host never got an event" check '[ ! -s "$WORK/wan-events" ]'

sid=$(subscribe "http://$LAN1_IP:4002/ev" | http_full "$NS_LAN1" | sed -n 's/^SID: //p')
waits_for "^SEQ: 0" "$WORK/lan1-events2" 1
count=$(sed -n 's/.*<PortMappingNumberOfEntries>\([0-9]*\)<.*/\1/p' "$WORK/lan1-events2" | tail -n 1)
got=$(redirected "$(upnpc_on "$NS_LAN1" -a "$LAN1_IP" 8400 18400 TCP 2)")
expect "a mapping for 2 s ($got) is evented: PortMappingNumberOfEntries $count -> $((count + 1))" \
	check 'waits_for "<PortMappingNumberOfEntries>$((count + 1))<" "$WORK/lan1-events2" 1'
expect "and so is its expiry: back to $count, with SEQ 2" \
	check 'waits_for "^SEQ: 2" "$WORK/lan1-events2" 1 5 && [ "$(sed -n "s/.*<PortMappingNumberOfEntries>\([0-9]*\)<.*/\1/p" "$WORK/lan1-events2" | tail -n 1)" = "$count" ]'
# WAN renumbering, as a DHCP renewal would do it, then a reload; and back.
NEW_WAN_IP=203.0.113.2
in_router sysctl -qw net.ipv4.conf.wan0.promote_secondaries=1
in_router ip addr add "$NEW_WAN_IP/24" dev wan0
in_router ip addr del "$ROUTER_WAN_IP/24" dev wan0
kill -HUP "$PORTLEASED_PID"
expect "a new WAN address, once reloaded, is evented: ExternalIPAddress $NEW_WAN_IP" \
	waits_for "<ExternalIPAddress>$NEW_WAN_IP</ExternalIPAddress>" "$WORK/lan1-events2" 1
in_router ip addr add "$ROUTER_WAN_IP/24" dev wan0
in_router ip addr del "$NEW_WAN_IP/24" dev wan0
kill -HUP "$PORTLEASED_PID"
expect "and so is the way back to $ROUTER_WAN_IP" \
	waits_for "<ExternalIPAddress>$ROUTER_WAN_IP</ExternalIPAddress>" "$WORK/lan1-events2" 2
printf 'UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHOST: %s\r\nSID: %s\r\n\r\n' "$ROUTER_LAN_IP" "$sid" | http_raw "$NS_LAN1" > /dev/null

# --- IPv6: SSDP on ff02::c, WANIPv6FirewallControl pinholes -------------------------

expect "ssdp:alive was multicast on ff02::c on the LAN at start, with the IPv6 LOCATION" \
	check 'grep -q "NTS: ssdp:alive" "$WORK/lan1-ssdp6" && grep -qF "LOCATION: $DESC6" "$WORK/lan1-ssdp6"'
expect "and nothing on the WAN link" check '[ ! -s "$WORK/wan-ssdp6" ]'
out=$(in_lan1 timeout 15 upnpc -6 -m eth0 -i -S 2>&1)
expect "upnpc -6 discovers the IGD:1 by SSDP on ff02::c, at the router's IPv6 address" \
	sh -c "echo '$out' | grep -qxF ' desc: $DESC1_6'"
expect "-S (GetFirewallStatus): the firewall is enabled and pinholes are allowed" \
	check 'echo "$out" | grep -q "Firewall Enabled: Yes" && echo "$out" | grep -q "Inbound Pinhole Allowed: Yes"'

expect "no pinhole, no IPv6 traffic" wan6_blocked tcp "$LAN1_IP6" 8080 "$WORK/lan1-tcp6-8080"
out=$(upnpc6_on "$NS_LAN1" -A "" 0 @ 8080 TCP 60)
id=$(pinhole_id "$out")
expect "-A (AddPinhole) for lan1's own TCP 8080: Pinhole ID $id" check '[ -n "$id" ] && [ "$id" -gt 0 ]'
expect "it carries a connection from the WAN host" wan6_reaches tcp "$LAN1_IP6" 8080 "$WORK/lan1-tcp6-8080"
out=$(upnpc6_on "$NS_LAN1" -K "$id")
packets=$(echo "$out" | sed -n 's/^GetPinholePackets: .* PinholePackets = \([0-9]*\)$/\1/p')
expect "-K (GetPinholePackets) counts that connection's packets (${packets:-none})" \
	check '[ -n "$packets" ] && [ "$packets" -gt 0 ]'
expect "-C (CheckPinholeWorking): it is working" \
	sh -c "echo '$(upnpc6_on "$NS_LAN1" -C "$id")' | grep -q 'IsWorking = Yes'"
out=$(upnpc6_on "$NS_LAN1" -U "$id" 600)
expect "-U (UpdatePinhole) renews it for 600 s" \
	check '! echo "$out" | grep -q failed && in_router nft list set inet portleased pinhole6 | grep -q "$LAN1_IP6 . tcp . 8080 .*expires \(9m\|10m\)"'
got=$(upnpc6_on "$NS_LAN1" -K "$id" | sed -n 's/^GetPinholePackets: .* PinholePackets = \([0-9]*\)$/\1/p')
expect "the count survives the renewal ($packets before, ${got:-none} after)" [ "$got" = "$packets" ]
want=$(in_router cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established)
out=$(upnpc6_on "$NS_LAN1" -G "" 0 @ 8080 6)
expect "-G (GetOutboundPinholeTimeout) is the kernel's established TCP timeout, $want s" \
	sh -c "echo '$out' | grep -q 'Timeout = $want\$'"

out=$(upnpc6_on "$NS_LAN2" -D "$id")
expect "lan2 cannot delete lan1's pinhole (606)" sh -c "echo '$out' | grep -q 'returned : 606'"
out=$(upnpc6_on "$NS_LAN2" -A "" 0 "$LAN1_IP6" 8081 TCP 60)
expect "lan2 cannot open a pinhole to lan1 (606)" sh -c "echo '$out' | grep -q 'failed with code 606'"
out=$(upnpc6_on "$NS_LAN1" -A "" 0 @ 22 TCP 60)
expect "the policy's internal ports apply to pinholes: 22 is refused (606)" \
	sh -c "echo '$out' | grep -q 'failed with code 606'"

out=$(upnpc6_on "$NS_LAN1" -A "$WAN_IP6_2" 0 @ 9000 UDP 60)
id2=$(pinhole_id "$out")
expect "-A with a remote host: a UDP pinhole only $WAN_IP6_2 may use (ID $id2)" [ -n "$id2" ]
expect "before any traffic, -C says 709 NoTrafficReceived" \
	sh -c "echo '$(upnpc6_on "$NS_LAN1" -C "$id2")' | grep -q 'failed with code 709'"
expect "another WAN address is kept out" from6 "$WAN_IP6" wan6_blocked udp "$LAN1_IP6" 9000 "$WORK/lan1-udp6-9000"
expect "the remote host named gets through" from6 "$WAN_IP6_2" wan6_reaches udp "$LAN1_IP6" 9000 "$WORK/lan1-udp6-9000"

out=$(upnpc6_on "$NS_LAN1" -D "$id")
expect "-D (DeletePinhole): lan1 deletes its TCP pinhole" sh -c "echo '$out' | grep -q 'returned : 0'"
expect "after -D the WAN host no longer reaches it" wan6_blocked tcp "$LAN1_IP6" 8080 "$WORK/lan1-tcp6-8080"
expect "and the kernel holds no element for it" \
	sh -c "! ip netns exec $NS_ROUTER nft list set inet portleased pinhole6 | grep -q '$LAN1_IP6 . tcp . 8080'"
expect "a deleted pinhole's ID is unknown: 704" \
	sh -c "echo '$(upnpc6_on "$NS_LAN1" -K "$id")' | grep -q 'failed with code 704'"
in_wan ip -6 route add "$LAN6_NET::/64" via "$ROUTER_WAN_IP6" 2>/dev/null
got=$(printf 'GET /rootDesc.xml HTTP/1.0\r\n\r\n' | in_wan timeout 4 socat -t 3 - "TCP6:[$ROUTER_LAN_IP6]:$HTTP_PORT,connect-timeout=1,bind=[$WAN_IP6]" 2>/dev/null | head -n 1)
expect "the WAN host, routing to the LAN IPv6 address, gets no description (${got:-nothing})" \
	check '[ -z "$got" ] && grep -q "refused an HTTP connection from $WAN_IP6" "$LOG"'

# --- hostile HTTP ------------------------------------------------------------------

laughs='<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddress xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:2">&c;</u:GetExternalIPAddress></s:Body></s:Envelope>'
got=$(soap GetExternalIPAddress "$laughs" | http_raw "$NS_LAN1")
expect "a DTD with entities (billion laughs) is refused 400 ($got)" [ "$got" = "HTTP/1.1 400 Bad Request" ]
nested="$ENVELOPE_OPEN<u:GetExternalIPAddress xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">$(printf '<a>%.0s' $(seq 1 2000))"
got=$(soap GetExternalIPAddress "$nested" | http_raw "$NS_LAN1")
expect "2000 levels of nesting are refused 400 ($got)" [ "$got" = "HTTP/1.1 400 Bad Request" ]
got=$(HOST=rebind.example:$HTTP_PORT soap GetExternalIPAddress "$ENVELOPE_OPEN<u:GetExternalIPAddress xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\"/>$ENVELOPE_CLOSE" | http_raw "$NS_LAN1")
expect "a Host that is a DNS name (rebinding) is refused 403 ($got)" [ "$got" = "HTTP/1.1 403 Forbidden" ]
got=$(printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nContent-Length: 100000\r\n\r\n' "$ROUTER_LAN_IP" | http_raw "$NS_LAN1")
expect "a body over the limit is refused 413 before it is read ($got)" [ "$got" = "HTTP/1.1 413 Content Too Large" ]
got=$(printf 'POST /ctl/IPConn HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n' "$ROUTER_LAN_IP" | http_raw "$NS_LAN1")
expect "chunked transfer coding is refused 501 ($got)" [ "$got" = "HTTP/1.1 501 Not Implemented" ]
got=$(soap AddPortMapping "$ENVELOPE_OPEN<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\"><NewExternalPort>1</NewExternalPort></u:AddPortMapping>$ENVELOPE_CLOSE" | http_raw "$NS_LAN1")
expect "an action missing its arguments gets a SOAP fault ($got)" [ "$got" = "HTTP/1.1 500 Internal Server Error" ]
upnp_counts() {
	"$BUILD/portleasectl" -s "$WORK/control.sock" metrics |
		sed -n 's/^portleased_responses_total{protocol="upnp",result="\(success\|error\)"} //p' | tr '\n' ' '
}
before=$(upnp_counts)
upnpc_on "$NS_LAN1" -e "counted" -r 9123 TCP 600 > /dev/null
soap AddPortMapping "$ENVELOPE_OPEN<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\"><NewExternalPort>1</NewExternalPort></u:AddPortMapping>$ENVELOPE_CLOSE" | http_raw "$NS_LAN1" > /dev/null
after=$(upnp_counts)
# upnpc -r: GetExternalIPAddress, AddPortMapping, GetSpecificPortMappingEntry.
expect "metrics count upnpc's 3 SOAP requests as successes and the fault as an error ($before-> $after)" \
	check 'set -- $before; s=$1 e=$2; set -- $after; [ $(($1 - s)) = 3 ] && [ $(($2 - e)) = 1 ]'
got=$(for b in $(printf 'GET /rootDesc.xml HTTP/1.0\r\n\r\n' | od -An -to1); do printf "\\$b"; sleep 0.02; done | http_raw "$NS_LAN1")
expect "a request trickled in byte by byte is served once whole ($got)" [ "$got" = "HTTP/1.1 200 OK" ]
in_wan ip route add "$LAN_NET.0/24" via "$ROUTER_WAN_IP"
got=$(printf 'GET /rootDesc.xml HTTP/1.0\r\n\r\n' | http_raw "$NS_WAN")
expect "the WAN host, routing to the LAN address, is connected and refused, no description (${got:-nothing})" \
	check '[ -z "$got" ] && grep -q "refused an HTTP connection from $WAN_IP" "$LOG"'
got=$(printf 'GET /rootDesc.xml HTTP/1.0\r\n\r\n' | http_raw "$NS_LAN1")
expect "while a LAN host does ($got)" [ "$got" = "HTTP/1.1 200 OK" ]

# Slowloris: lan2 opens 40 connections and trickles a header into each.
i=0
while [ $i -lt 40 ]; do
	(printf 'GET /rootDesc.xml HTTP/1.1\r\n'; sleep 8) |
		in_lan2 timeout 9 socat -u - "TCP:$ROUTER_LAN_IP:$HTTP_PORT" 2>/dev/null &
	i=$((i + 1))
done
# slowloris_held: lan2's connections the router holds open.
slowloris_held() { in_router ss -Htn state established "( sport = :$HTTP_PORT )" | grep -c "$LAN2_IP"; }
i=0
while [ $i -lt 30 ] && [ "$(slowloris_held)" -lt 8 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
held=$(slowloris_held)
expect "a slowloris of 40 connections from lan2 holds exactly its 8 ($held)" [ "$held" = 8 ]
out=$(upnpc_on "$NS_LAN1" -s)
expect "meanwhile lan1 is served" sh -c "echo '$out' | grep -q '^ExternalIPAddress = $ROUTER_WAN_IP\$'"
sleep 5
held=$(slowloris_held)
expect "after 5 s without a whole request they are closed ($held left)" [ "$held" = 0 ]
expect "portleased is still running" kill -0 "$PORTLEASED_PID"

# --- stop ----------------------------------------------------------------------------

kill -TERM "$PORTLEASED_PID"
wait "$PORTLEASED_PID"; rc=$?
sleep 0.3
expect "SIGTERM: portleased exits cleanly (status $rc)" [ "$rc" = 0 ]
expect "SIGTERM: ssdp:byebye is multicast on the LAN" grep -q 'NTS: ssdp:byebye' "$WORK/lan1-ssdp"
expect "SIGTERM: the mappings stop carrying traffic" wan_blocked udp 19000 "$WORK/lan1-udp9000"

summary upnp
