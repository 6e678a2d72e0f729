#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Static mappings, the operator's: declared in the config or added with
# portleasectl (kept in the static file), never expiring, beyond the
# reach of the host behind them, removed by a reload or a delete.
# Usage: static_mappings.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR static_mappings).
. "$(dirname "$0")/common.sh"

ctl() { "$CTL" -s "$WORK/control.sock" "$@" -F "$WORK/static"; }
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
	check 'ctl list | grep -qE "^tcp +8900 +$LAN2_IP:8900 +([0-9a-f:]{17}|-) +- +static +never .* declared\$"'
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

summary static_mappings
