#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Hairpin: a LAN host reaches a mapping at the external address, source
# NATed to the router; hairpin = false turns that off.
# Usage: hairpin.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR hairpin).
. "$(dirname "$0")/common.sh"

listen_tcp "$NS_LAN1" 8460 "$WORK/lan1-tcp8460"
got=$(natpmpc_map "$NS_LAN1" 8460 8460 tcp 600)
expect "a mapping to reach from the LAN ($got)" [ "$got" = "8460 600" ]
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

summary hairpin
