#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGHUP and portleasectl reload: a bad configuration is refused and the
# running one serves on; a good one applies its policy to the mappings
# held. portleasectl reload waits for the outcome and says it.
# Usage: reload.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR reload).
. "$(dirname "$0")/common.sh"

listen_udp "$NS_LAN2" 9962 "$WORK/lan2-udp9962"
got=$(natpmpc_map "$NS_LAN2" 9962 9962 udp 600)
expect "lan2 holds a mapping the new policy will still allow ($got)" [ "$got" = "9962 600" ]
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

# portleasectl reload: what systemctl reload runs, waiting for the outcome.
echo 'this is not libconfig' >> "$CONF"
out=$(ctl reload 2>&1); rc=$?
expect "portleasectl reload of a bad file: status 1, file:line and the reason ($out)" \
	check '[ "$rc" = 1 ] && echo "$out" | grep -q "^portleasectl: $CONF:[0-9]*: "'
cp "$WORK/good.conf" "$CONF"
out=$(ctl reload 2>&1); rc=$?
expect "portleasectl reload of a good file: status 0 once it is applied ($out)" \
	check '[ "$rc" = 0 ] && echo "$out" | grep -q "^configuration reloaded from $CONF ([0-9]* policy rules" &&
	       [ "$(natpmpc_map "$NS_LAN1" 8600 8600 tcp 600)" = "8600 600" ]'
metrics=$(ctl metrics)
expect "the metrics count them: 2 applied, 2 refused" \
	check 'echo "$metrics" | grep -qx "portleased_reloads_total{result=\"applied\"} 2" &&
	       echo "$metrics" | grep -qx "portleased_reloads_total{result=\"refused\"} 2"'

summary reload
