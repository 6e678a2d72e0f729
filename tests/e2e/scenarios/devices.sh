#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Each mapping shows its device: the link-layer address the router's
# neighbour table knows, and the name the LAN's DHCP server (a real
# dnsmasq, its client busybox's udhcpc) gave it, in portleasectl list
# (table and JSON), explain, the audit line and the lease file; a renamed
# device is seen without a restart.
# Usage: devices.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR devices).
. "$(dirname "$0")/common.sh"

LAN1_MAC=$(mac_of "$NS_LAN1")
LAN2_MAC=$(mac_of "$NS_LAN2")
LEASES="$WORK/dnsmasq.leases"

# The LAN's DHCP server, on the router, DHCP only (no DNS), lan1's address
# reserved for lan1.
in_router dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root \
	--interface=br-lan --bind-interfaces --dhcp-range="$LAN_NET.100,$LAN_NET.150,12h" \
	--dhcp-host="$LAN1_MAC,$LAN1_IP" --dhcp-leasefile="$LEASES" \
	--log-facility="$WORK/dnsmasq.log" &
DNSMASQ_PID=$!
# dhcp NAME: lan1 asks for its lease, saying its host name; its address
# stays the one it has (udhcpc's script does nothing).
dhcp() { in_lan1 busybox udhcpc -i eth0 -n -q -f -t 5 -T 1 -x "hostname:$1" -s /bin/true > /dev/null 2>&1; }
# leased NAME: dnsmasq has written lan1's lease with that name.
leased() { grep -q " $LAN1_MAC $LAN1_IP $1 " "$LEASES" 2>/dev/null; }
i=0
until dhcp nas && leased nas || [ $i -ge 5 ]; do sleep 0.5; i=$((i + 1)); done
expect "dnsmasq leased $LAN1_IP to lan1 as nas" leased nas

echo "dhcp_lease_files = [ \"$LEASES\" ];" >> "$CONF"
reload
got=$(natpmpc_map "$NS_LAN1" 8080 8080 tcp 600)
in_lan2 natpmpc -g "$ROUTER_LAN_IP" -a 8081 8081 tcp 600 > /dev/null 2>&1
row=$(ctl list | grep " $LAN1_IP:8080 ")
expect "portleasectl list shows lan1's mapping ($got) on device nas" \
	check 'echo "$row" | grep -q "^tcp *8080 *$LAN1_IP:8080 *nas *$LAN1_IP "'
expect "  and lan2's, which has no DHCP lease, by its link-layer address" \
	check 'ctl list | grep -q " $LAN2_IP:8081 *$LAN2_MAC *$LAN2_IP "'
json=$(ctl list --json | sed 's/},{/\n/g' | grep "\"internal_port\":8080,")
expect "  and --json its MAC and name" \
	check 'echo "$json" | grep -q "\"mac\":\"$LAN1_MAC\",\"device\":\"nas\""'
expect "  the audit line names them" \
	grep -q "audit event=granted origin=natpmp proto=tcp client=$LAN1_IP internal=$LAN1_IP:8080 external_port=8080 .* mac=$LAN1_MAC device=nas$" "$LOG"
expect "  explain too" \
	check 'ctl explain "$LAN1_IP" tcp 8082 | grep -q "the client.s host ($LAN1_MAC, nas) holds 1 of"'
i=0
until grep -q "iport=8080 .* mac=$LAN1_MAC device=nas" "$WORK/leases" 2>/dev/null || [ $i -ge 30 ]; do
	sleep 0.1; i=$((i + 1))
done
expect "  and the lease file keeps them" grep -q "iport=8080 .* mac=$LAN1_MAC device=nas" "$WORK/leases"

# Renamed: dnsmasq rewrites its file; the daemon reads it within 2 s.
dhcp media-box
i=0
until ctl list | grep -q " $LAN1_IP:8080 *media-box " || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
expect "lan1 renamed media-box by DHCP: list shows the new name without a restart" \
	check 'leased media-box && ctl list | grep -q " $LAN1_IP:8080 *media-box "'

# The files are the LAN hosts' words, and not every server checks them
# as dnsmasq does: a name that is no host name is not shown.
printf '# br-lan %s ipv4 evil$(reboot)\033[31m 1796000000 c0a84d0b 32 %s/32\n' \
	"$LAN2_MAC" "$LAN2_IP" > "$WORK/odhcpd"
chmod 644 "$WORK/odhcpd"
# Nor is a file anyone may write.
printf '1796000000 %s %s spoofed *\n' "$LAN2_MAC" "$LAN2_IP" > "$WORK/world-writable.leases"
chmod 666 "$WORK/world-writable.leases"
sed -i "s|^dhcp_lease_files = .*|dhcp_lease_files = [ \"$LEASES\", \"$WORK/odhcpd\", \"$WORK/world-writable.leases\" ];|" "$CONF"
reload
expect "a host name with shell and terminal characters is not shown (lan2: its MAC)" \
	check 'ctl list | grep -q " $LAN2_IP:8081 *$LAN2_MAC " && ! grep -q "reboot" "$LOG"'
expect "a lease file anyone may write is not read, and the log says so" \
	check '! ctl list | grep -q spoofed && grep -q "device names: $WORK/world-writable.leases: writable by anyone: not read" "$LOG"'

# A rule naming lan1 by its link-layer address: ssh from the WAN, which
# the other rules deny; it follows lan1 to a new address.
sed -i "s|^policy = (|policy = (\n  { action = \"allow\"; clients = \"mac:$LAN1_MAC\"; internal_ports = 22; external_ports = \"2222-2223\"; },|" "$CONF"
reload
listen_tcp "$NS_LAN1" 22 "$WORK/lan1-ssh"
got=$(natpmpc_map "$NS_LAN1" 2222 22 tcp 600)
expect "a rule by MAC lets lan1 map its port 22 ($got)" \
	check '[ "$got" = "2222 600" ] && wan_reaches tcp 2222 "$WORK/lan1-ssh"'
got=$(natpmpc_map "$NS_LAN2" 2223 22 tcp 600)
expect "  and no other host ($got)" [ "$got" = "failed : not authorized" ]
# lan1 is given another address (the way a DHCP change or a new IPv6
# privacy address comes), and talks from it.
ip -n "$NS_LAN1" address del "$LAN1_IP/24" dev eth0
ip -n "$NS_LAN1" address add "$LAN_NET.60/24" dev eth0
ip -n "$NS_LAN1" route add default via "$ROUTER_LAN_IP"
in_lan1 busybox ping -c 1 -W 2 "$ROUTER_LAN_IP" > /dev/null
got=$(natpmpc_map "$NS_LAN1" 2223 22 tcp 600)
expect "  the rule follows lan1 to $LAN_NET.60, in the daemon and in the helper ($got)" \
	check '[ "$got" = "2223 600" ] && wan_reaches tcp 2223 "$WORK/lan1-ssh"'
expect "  the world-writable lease file was warned about once, the reload since notwithstanding" \
	[ "$(grep -c "world-writable.leases: writable by anyone" "$LOG")" = 1 ]
expect "  explain names the rule by its MAC" \
	check 'ctl explain "$LAN_NET.60" tcp 22 2223 | grep -q "allowed by the rule at line [0-9]* (allow clients mac:$LAN1_MAC internal_ports 22 external_ports 2222-2223)"'

kill "$DNSMASQ_PID"
wait "$DNSMASQ_PID" 2>/dev/null
summary devices
