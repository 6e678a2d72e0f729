#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Another program flushes the ruleset or deletes our table: portleased
# rebuilds it within a second, every mapping with what was left of its
# lifetime, and leaves the neighbour's tables alone.
# Usage: ruleset_flush.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR ruleset_flush).
. "$(dirname "$0")/common.sh"

ctl() { "$CTL" -s "$WORK/control.sock" "$@" -F "$WORK/static"; }
listen_tcp "$NS_LAN2" 8900 "$WORK/lan2-tcp8900"
ctl add tcp 8900 "$LAN2_IP" 8900 "static" > /dev/null
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

summary ruleset_flush
