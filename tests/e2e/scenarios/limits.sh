#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A denied client is answered at once while another is served, its
# refusals logged once and then summarised; a flooding client hits its
# request rate while another is still served.
# Usage: limits.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR limits).
. "$(dirname "$0")/common.sh"

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
# lan1's first refusal is logged alone, or, if it had others in the last
# 10 s, counted in its summary.
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

# lan2's denied burst above: its refusals past the first are counted in
# summary lines once the interval (10 s) is over.
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

summary limits
