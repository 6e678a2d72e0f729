#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The operator's inventory: static mappings with owner, purpose and a
# review date (in the config, and added at run time); portleasectl review
# naming what needs a look (a review date passed, a mapping never used,
# one idle, a device gone); a rule's idle_timeout removing a mapping no
# inbound connection uses while one in use stays.
# Usage: governance.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR governance).
SCENARIO_CONFIG='static_mappings = (
  { protocol = "tcp"; external_port = 8900; internal_address = "192.168.77.10"; internal_port = 8900;
    owner = "alice"; purpose = "lab web server"; review_by = "2026-01-31"; },
  { protocol = "tcp"; external_port = 8901; internal_address = "192.168.77.99"; internal_port = 8901;
    owner = "bob"; purpose = "old camera"; review_by = "2099-12-31"; }
);'
. "$(dirname "$0")/common.sh"

# Mappings of ports 7000-7099 go when no new connection has come for 3 s.
sed -i 's|^policy = (|policy = (\n  { action = "allow"; clients = "192.168.77.0/24"; internal_ports = "7000-7099"; idle_timeout = 3; },|' "$CONF"
reload
LAN1_MAC=$(mac_of "$NS_LAN1")

json=$(ctl list --json | sed 's/},{/\n/g' | grep '"external_port":8900,')
expect "list --json shows a static mapping's owner, purpose and review date" \
	check 'echo "$json" | grep -q "\"owner\":\"alice\",\"purpose\":\"lab web server\",\"review_by\":\"2026-01-31\""'

# A static mapping added at run time carries its inventory too.
"$CTL" -s "$WORK/control.sock" add -F "$WORK/static" --owner carol --purpose "nas backup" \
	--review-by 2026-02-28 tcp 8902 "$LAN1_IP" 8902 "backup target" > /dev/null; rc=$?
json=$(ctl list --json | sed 's/},{/\n/g' | grep '"external_port":8902,')
expect "portleasectl add --owner --purpose --review-by ($rc): list --json shows them at once" \
	check '[ "$rc" = 0 ] && echo "$json" | grep -q "\"owner\":\"carol\",\"purpose\":\"nas backup\",\"review_by\":\"2026-02-28\""'
expect "  kept in the static file" \
	grep -q "^tcp 8902 $LAN1_IP 8902 owner=carol purpose=nas%20backup review_by=2026-02-28 backup target\$" "$WORK/static"
got=$("$CTL" -s "$WORK/control.sock" add -F "$WORK/static" --review-by 2026-02-30 tcp 8903 "$LAN1_IP" 8903 2>&1); rc=$?
expect "  a bad date is a usage error ($rc)" check '[ "$rc" = 2 ] && echo "$got" | grep -q "review-by is a date"'

# Two mappings of the idle rule: 7001 carries a connection every second,
# 7000 none.
listen_tcp "$NS_LAN1" 7001 "$WORK/lan1-7001"
a=$(natpmpc_map "$NS_LAN1" 7000 7000 tcp 600)
b=$(natpmpc_map "$NS_LAN1" 7001 7001 tcp 600)
c=$(natpmpc_map "$NS_LAN1" 8080 8080 tcp 600)
expect "lan1 maps 7000 and 7001 under the idle rule, 8080 under another ($a, $b, $c)" \
	check '[ "$a" = "7000 600" ] && [ "$b" = "7001 600" ] && [ "$c" = "8080 600" ]'
used=0
i=0
while [ $i -lt 60 ] && ctl list | grep -q "^tcp *7000 "; do
	wan_reaches tcp 7001 "$WORK/lan1-7001" && used=$((used + 1))
	sleep 0.2
	i=$((i + 1))
done
expect "within its idle_timeout and a sweep, 7000 (never used) is removed: from list and the kernel" \
	check '! ctl list | grep -q "^tcp *7000 " && [ "$(nft_elements "tcp . 7000 ")" = 0 ]'
expect "  audited as expired reason=idle" \
	grep -q "audit event=expired origin=natpmp proto=tcp client=$LAN1_IP internal=$LAN1_IP:7000 external_port=7000 rule_line=[0-9]* reason=idle" "$LOG"
expect "  while 7001, which the WAN used $used times meanwhile, stays and carries traffic" \
	check '[ "$used" -ge 3 ] && ctl list | grep -q "^tcp *7001 " && wan_reaches tcp 7001 "$WORK/lan1-7001"'
expect "  and 8080, whose rule has no idle_timeout, stays" check 'ctl list | grep -q "^tcp *8080 "'
expect "  counted in the metrics" \
	check 'ctl metrics | grep -qx "portleased_idle_expired_total 1"'
expect "  explain shows the rule's idle_timeout" \
	check 'ctl explain "$LAN1_IP" tcp 7005 | grep -q "internal_ports 7000-7099 idle_timeout 3s)"'

# review, with an idle threshold of 1 s (7001 must not reach its 3 s
# idle_timeout meanwhile): 8080 and the three static mappings were never
# used; 7001 was, and then not for 1 s; 8900 and 8902 are past their
# review dates; 8901's device is gone (no host at .99), its date to come.
sleep 1.2
review=$(ctl review --idle 1s)
expect "review: the static mapping past its review date, with its owner and purpose" \
	check 'echo "$review" | grep -q "^review_due  tcp   8900   $LAN1_IP:8900 $LAN1_MAC static: to be reviewed by 2026-01-31 (.* ago); owner alice; purpose lab web server$"'
expect "  the mapping never used" \
	check 'echo "$review" | grep -q "^never_used  tcp   8080   $LAN1_IP:8080 $LAN1_MAC natpmp: made .* ago, no inbound connection since"'
expect "  the one idle since its last connection" \
	check 'echo "$review" | grep -q "^idle        tcp   7001   $LAN1_IP:7001 $LAN1_MAC natpmp: last inbound connection [0-9]s ago"'
expect "  the one whose device is gone, and nothing else ($(echo "$review" | wc -l) findings)" \
	check 'echo "$review" | grep -q "^device_gone tcp   8901   192.168.77.99:8901 - static: the router knows no device at 192.168.77.99; owner bob; purpose old camera$" && [ "$(echo "$review" | wc -l)" = 8 ]'
expect "  the one added at run time, past its date, with its owner, purpose and description" \
	check 'echo "$review" | grep -q "^review_due  tcp   8902   $LAN1_IP:8902 $LAN1_MAC static: to be reviewed by 2026-02-28 (.* ago); owner carol; purpose nas backup; backup target$"'
expect "  8901 is not due: its date is to come" \
	check '! echo "$review" | grep -q "^review_due .* 8901 "'
expect "review --json: the same findings for scripts" \
	check '[ "$(ctl review --idle 1s --json | grep -o "\"reason\":\"[a-z_]*\"" | sort | tr "\n" " ")" = "\"reason\":\"device_gone\" \"reason\":\"idle\" \"reason\":\"never_used\" \"reason\":\"never_used\" \"reason\":\"never_used\" \"reason\":\"never_used\" \"reason\":\"review_due\" \"reason\":\"review_due\" " ]'
got=$("$CTL" -s "$WORK/control.sock" review --idle 3x 2>&1); rc=$?
expect "a bad --idle is a usage error ($rc: $got)" check '[ "$rc" = 2 ] && echo "$got" | grep -q "a duration such as"'

summary governance
