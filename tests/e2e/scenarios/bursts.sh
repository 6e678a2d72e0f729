#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Bursts of requests: few kernel transactions, a refused add withdrawn,
# renewals in bursts, UPnP requests in bursts too, a socket queue that
# holds 256 requests in flight and counts what it cannot hold.
# Usage: bursts.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR bursts).
SCENARIO_CONFIG='max_leases_per_client = 1000; client_request_rate = { per_second = 0; };
upnp = { igd_version = 1; };'
. "$(dirname "$0")/common.sh"

# Another program put tcp 30150 in our map, towards another host: the kernel
# refuses our add for that port, whichever transaction carries it.
in_router nft add element inet portleased fwd4 "{ tcp . 30150 : $LAN_NET.99 . 9 }"
rebuilds_before=$(grep -c "rebuilt with" "$LOG")
listen_tcp "$NS_LAN1" 30299 "$WORK/lan1-tcp30299"
burst=$(in_lan1 env LOADGEN_BUDGET_S=20 "$LOADGEN" natpmp "$ROUTER_LAN_IP" map tcp 30000 300 64 600)
expect "300 NAT-PMP requests, 64 in flight: 299 granted, the one for the port another program holds refused ($burst)" \
	check '[ "$(field ok "$burst")" = 299 ] && [ "$(field err "$burst")" = 1 ] && [ "$(field lost "$burst")" = 0 ]'
burst_ports=$(kernel_ports | grep -c '^tcp 30[0-2][0-9][0-9]$')
expect "  the kernel holds the 299 and the other program's element, untouched ($burst_ports)" \
	check '[ "$burst_ports" = 300 ] && in_router nft list map inet portleased fwd4 | tr "," "\n" | grep "tcp \. 30150 " | grep -q ": $LAN_NET.99 \. 9"'
expect "  portleasectl lists the 299 and no lease for 30150" \
	check '[ "$(ctl list --json | json_ports | grep -c "^tcp 30[0-2][0-9][0-9]$")" = 299 ] && ! ctl list --json | json_ports | grep -q "^tcp 30150$"'
expect "  the log says why, and the audit log has the grant withdrawn" \
	check 'grep -q "nftables: cannot add tcp port 30150: .*; the grant is withdrawn" "$LOG" && grep -q "audit event=deleted origin=natpmp proto=tcp client=$LAN1_IP internal=$LAN1_IP:30150 external_port=30150 .*by=nftables" "$LOG"'
expect "  the last of the burst carries a connection" wan_reaches tcp 30299 "$WORK/lan1-tcp30299"
expect "  the kernel's refusal is counted in the metrics" \
	check '[ "$(ctl metrics | sed -n "s/^portleased_nftables_errors_total //p")" -ge 1 ]'
expect "  our own burst of changes did not make the daemon rebuild its table" \
	[ "$(grep -c "rebuilt with" "$LOG")" = "$rebuilds_before" ]
packets_30299=$(in_router nft list set inet portleased allow4 | sed -n "s/.*$LAN1_IP \\. tcp \\. 30299 counter packets \\([0-9]*\\) .*/\\1/p")
burst=$(in_lan1 env LOADGEN_BUDGET_S=20 "$LOADGEN" natpmp "$ROUTER_LAN_IP" map tcp 30000 300 64 1200)
expect "the same 300 again, for 20 minutes: the 299 renewed in bursts, 30150 still refused ($burst)" \
	check '[ "$(field ok "$burst")" = 299 ] && [ "$(field err "$burst")" = 1 ] && [ "$(grep -c "audit event=refreshed origin=natpmp proto=tcp client=$LAN1_IP internal=$LAN1_IP:30[0-2][0-9][0-9] .*lifetime=1200 " "$LOG")" = 299 ]'
expect "  the kernel's timeouts restarted at 20 minutes" \
	check '[ "$(in_router nft list map inet portleased fwd4 | tr "," "\n" | grep "tcp \. 30[0-2][0-9][0-9] " | grep -c "timeout 20m expires")" = 299 ]'
expect "  30299 keeps the packets its connection counted ($packets_30299) across the renewal" \
	check '[ "${packets_30299:-0}" -ge 3 ] && ctl list --json | sed "s/},{/\n/g" | grep "\"external_port\":30299," | grep -q "\"packets\":$packets_30299,"'
expect "  and still carries a connection" wan_reaches tcp 30299 "$WORK/lan1-tcp30299"
burst=$(in_lan1 env LOADGEN_BUDGET_S=20 "$LOADGEN" natpmp "$ROUTER_LAN_IP" delete tcp 30000 300 64 0)
expect "300 deletes, 64 in flight: all answered, and only the other program's element is left ($burst)" \
	check '[ "$(field ok "$burst")" = 300 ] && [ "$(kernel_ports | grep -c "^tcp 30[0-2][0-9][0-9]$")" = 1 ]'
# UPnP: the connections whose requests came in during one turn of the loop
# are a burst too, and one the kernel refuses is answered with an error.
in_router nft add element inet portleased fwd4 "{ tcp . 32050 : $LAN_NET.99 . 9 }"
listen_tcp "$NS_LAN1" 32099 "$WORK/lan1-tcp32099"
burst=$(in_lan1 env LOADGEN_BUDGET_S=20 "$LOADGEN" upnp "$ROUTER_LAN_IP" 5000 \
	urn:schemas-upnp-org:service:WANIPConnection:1 "$LAN1_IP" 32000 100 8 600)
expect "100 UPnP AddPortMapping, 8 connections at a time: 99 granted, the one for the port another program holds refused ($burst)" \
	check '[ "$(field ok "$burst")" = 99 ] && [ "$(field err "$burst")" = 1 ] && [ "$(field lost "$burst")" = 0 ]'
expect "  the kernel holds the 99 and the other program's element, untouched" \
	check '[ "$(kernel_ports | grep -c "^tcp 320[0-9][0-9]$")" = 100 ] && in_router nft list map inet portleased fwd4 | tr "," "\n" | grep "tcp \. 32050 " | grep -q ": $LAN_NET.99 \. 9"'
expect "  its grant was withdrawn once the burst's transaction failed for it (the error above is its second answer)" \
	grep -q "audit event=deleted origin=upnp proto=tcp client=$LAN1_IP internal=$LAN1_IP:32050 external_port=32050 .*by=nftables" "$LOG"
expect "  the last of them carries a connection" wan_reaches tcp 32099 "$WORK/lan1-tcp32099"
# 256 in flight from one client: the receive queue holds the whole burst,
# so no client waits to retransmit.
burst=$(in_lan1 env LOADGEN_BUDGET_S=20 "$LOADGEN" natpmp "$ROUTER_LAN_IP" map udp 31000 768 256 600)
dropped=$(ctl metrics | sed -n 's/^portleased_receive_dropped_total //p')
expect "768 NAT-PMP requests, 256 in flight: every one answered at the first try ($burst; dropped $dropped)" \
	check '[ "$(field ok "$burst")" = 768 ] && [ "$(field lost "$burst")" = 0 ] && [ "$dropped" = 0 ]'
# What the queue cannot hold is counted: 12,000 datagrams while portleased
# is stopped overflow even a 2 MiB queue (the kernel charges each small
# datagram several hundred bytes).
kill -STOP "$PORTLEASED_PID"
in_lan1 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(12000):
    s.sendto(b"\0\0", (sys.argv[1], 5351))
' "$ROUTER_LAN_IP"
kill -CONT "$PORTLEASED_PID"
sleep 1
dropped=$(ctl metrics | sed -n 's/^portleased_receive_dropped_total //p')
expect "  datagrams the kernel dropped unread are counted in the metrics ($dropped of 12000)" \
	check '[ "${dropped:-0}" -gt 0 ] && [ "${dropped:-0}" -lt 12000 ] && [ "$(natpmpc_map "$NS_LAN1" 31999 31999 udp 60)" = "31999 60" ]'

summary bursts
