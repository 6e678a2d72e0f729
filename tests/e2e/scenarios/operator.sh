#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The operator: portleasectl over the control socket (list, status,
# explain, delete, flush, its permissions and hostile requests), and the
# counters in status, metrics and the metrics listener.
# Usage: operator.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR operator).
. "$(dirname "$0")/common.sh"

LAN1_MAC=$(mac_of "$NS_LAN1")

ctl() { "$CTL" -s "$WORK/control.sock" "$@" -F "$WORK/static"; }
# Mappings of both LAN hosts, for flush to tell apart.
listen_tcp "$NS_LAN2" 7000 "$WORK/lan2-tcp7000"
natpmpc_map "$NS_LAN1" 6000 6000 udp 600 > /dev/null
natpmpc_map "$NS_LAN2" 8081 7000 tcp 600 > /dev/null
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
	check 'ctl list | grep -qE "^tcp +8700 +$LAN1_IP:8700 +$LAN1_MAC +$LAN1_IP +natpmp +(9m|10m)"'
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
started=$(sample "$scraped" portleased_start_time_seconds)
expect "  its start time is this run's, in seconds since 1970 ($started, now $(date +%s))" \
	check '[ -n "$started" ] && [ $(($(date +%s) - started)) -ge 0 ] && [ $(($(date +%s) - started)) -lt 120 ]'
lines=$(echo "$scraped" | sed '1,/^$/d')
expect "  every line of it is a comment or a well-formed sample ($(echo "$lines" | wc -l) lines)" \
	check '[ -z "$(echo "$lines" | grep -vE "^# (HELP|TYPE) [a-z_]+ |^[a-z_]+(\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\})? [0-9]+\$")" ]'
in_wan ip route replace "$LAN_NET.0/24" via "$ROUTER_WAN_IP"
got=$(in_wan sh -c "printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' | socat -t 2 - TCP:$ROUTER_LAN_IP:9737" 2>/dev/null)
expect "the WAN host, routing to the LAN address, gets nothing (${got:-nothing})" \
	check '[ -z "$got" ] && grep -q "metrics: refused a connection from $WAN_IP" "$LOG"'
got=$(in_lan1 sh -c "printf 'GET /metrics HTTP/1.1\\r\\nHost: rebind.example:9737\\r\\n\\r\\n' | socat -t 2 - TCP:$ROUTER_LAN_IP:9737" 2>/dev/null | head -n 1 | tr -d '\r')
expect "a request naming another Host (DNS rebinding) is refused ($got)" [ "$got" = "HTTP/1.1 403 Forbidden" ]

summary operator
