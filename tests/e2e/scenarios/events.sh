#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Mapping changes announced: portleasectl monitor (text and JSON) receives
# every event of a scripted session in order, as it happens; on_event runs
# the operator's command with the event's fields in its environment, and a
# slow command does not delay answers.
# Usage: events.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR events).
. "$(dirname "$0")/common.sh"

# The hook: records its environment; for the first mapping it then takes
# 5 s, as a mail or a push over a slow link might.
cat > "$WORK/hook" <<SH
#!/bin/sh
env | grep '^PORTLEASED_' | sort | tr '\n' ' ' >> "$WORK/hook.out"
echo >> "$WORK/hook.out"
[ "\$PORTLEASED_EXTERNAL_PORT" = 5000 ] && sleep 5
exit 0
SH
chmod 755 "$WORK/hook"
chown nobody "$WORK/hook"
sed -i 's|^policy = (|policy = (\n  { action = "ask"; clients = "192.168.77.0/24"; internal_ports = 6000; },|' "$CONF"
cat >> "$CONF" <<CONF
on_event = { command = "$WORK/hook"; events = [ "granted", "pending" ]; per_minute = 600; };
CONF
reload

"$CTL" -s "$WORK/control.sock" monitor > "$WORK/monitor.txt" &
text_pid=$!
"$CTL" -s "$WORK/control.sock" monitor --json > "$WORK/monitor.json" &
json_pid=$!
# Both following before the session starts.
i=0
until [ "$(grep -c "control: a monitor follows the events" "$LOG")" -ge 2 ] || [ $i -ge 30 ]; do
	sleep 0.1; i=$((i + 1))
done

# The session.
start=$(date +%s%N)
got=$(natpmpc_map "$NS_LAN1" 5000 5000 tcp 600)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
natpmpc_map "$NS_LAN2" 2222 2222 tcp 600 > /dev/null            # refused by policy
start2=$(date +%s%N)
got2=$(natpmpc_map "$NS_LAN1" 5001 5001 udp 600)
ms2=$(( ($(date +%s%N) - start2) / 1000000 ))
natpmpc_map "$NS_LAN1" 5000 5000 tcp 0 > /dev/null              # deleted by the client
natpmpc_map "$NS_LAN1" 5002 5002 tcp 1 > /dev/null              # expires in a second
natpmpc_map "$NS_LAN1" 6000 6000 tcp 600 > /dev/null            # pending
ctl approve 1 > /dev/null                                        # approved
natpmpc_map "$NS_LAN1" 6000 6000 tcp 600 > /dev/null            # granted
natpmpc_map "$NS_LAN1" 8024 8024 tcp 600 > /dev/null            # granted, then
ip netns exec "$NS_ROUTER" socat -u "TCP4-LISTEN:8024,fork,reuseaddr" /dev/null 2>/dev/null &
sleep 0.3
ctl list > /dev/null                                             # conflict
ctl delete tcp 8024                                              # deleted by the operator
i=0
until grep -q "event=expired .*internal=$LAN1_IP:5002 " "$WORK/monitor.txt" || [ $i -ge 30 ]; do
	sleep 0.1; i=$((i + 1))
done
sleep 0.2
kill "$text_pid" "$json_pid"
wait "$text_pid" "$json_pid" 2>/dev/null

expect "answers do not wait for the hook, which takes 5 s: lan1 granted in $ms ms ($got), again in $ms2 ms ($got2)" \
	check '[ "$got" = "5000 600" ] && [ "$ms" -lt 1000 ] && [ "$got2" = "5001 600" ] && [ "$ms2" -lt 1000 ]'
seq=$(sed 's/^[0-9TZ:-]* event=\([a-z]*\) .*internal=[0-9.]*:\([0-9]*\) .*/\1 \2/' "$WORK/monitor.txt" | tr '\n' ',')
# 5002's expiry comes a second after its grant, wherever the session is
# by then (a loaded machine is slower): in order, once, after its grant.
after_grant=${seq#*granted 5002,}
expect "monitor received the session's events in order ($seq)" \
	check '[ "$(echo "$seq" | sed "s/expired 5002,//")" = "granted 5000,refused 2222,granted 5001,deleted 5000,granted 5002,pending 6000,approved 6000,granted 6000,granted 8024,conflict 8024,deleted 8024," ] && [ "$(echo "$seq" | grep -o "expired 5002," | wc -l)" = 1 ] && [ "$after_grant" != "${after_grant#*expired 5002,}" ]'

expect "  each line as the audit log has it, with a time" \
	check 'grep -q "^20[0-9-]*T[0-9:]*Z event=deleted origin=natpmp proto=tcp client=$LAN1_IP internal=$LAN1_IP:5000 external_port=5000 rule_line=[0-9]* by=client" "$WORK/monitor.txt"'
jseq=$(sed -n 's/.*"event":"\([a-z]*\)".*"internal_port":\([0-9]*\).*/\1 \2/p' "$WORK/monitor.json" | tr '\n' ',')
expect "monitor --json: the same events, a JSON object a line" [ "$jseq" = "$seq" ]
expect "  with their fields (the conflict's reason, the approval's operator)" \
	check 'grep -q "\"event\":\"conflict\".*\"reason\":\"router_serves\"" "$WORK/monitor.json" && grep -q "\"event\":\"approved\".*\"id\":1,\"for\":86400,\"by\":\"operator\",\"uid\":0" "$WORK/monitor.json"'

i=0
until [ "$(grep -c . "$WORK/hook.out" 2>/dev/null)" -ge 6 ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
expect "on_event ran the command for the chosen events only ($(grep -c . "$WORK/hook.out") runs: granted x5, pending)" \
	check '[ "$(grep -c "PORTLEASED_EVENT=granted" "$WORK/hook.out")" = 5 ] && [ "$(grep -c "PORTLEASED_EVENT=pending" "$WORK/hook.out")" = 1 ] && [ "$(grep -c . "$WORK/hook.out")" = 6 ]'
expect "  with the event's fields in its environment" \
	check 'grep "PORTLEASED_EVENT=pending" "$WORK/hook.out" | grep -q "PORTLEASED_CLIENT=$LAN1_IP PORTLEASED_EVENT=pending PORTLEASED_EXTERNAL_PORT=6000 PORTLEASED_ID=1 PORTLEASED_INTERNAL_ADDRESS=$LAN1_IP PORTLEASED_INTERNAL_PORT=6000 PORTLEASED_MAC=$(mac_of "$NS_LAN1") PORTLEASED_ORIGIN=natpmp PORTLEASED_PROTOCOL=tcp PORTLEASED_RESULT=waiting for the operator PORTLEASED_RULE_LINE=[0-9]* PORTLEASED_TIME=[0-9]* \$"'
expect "  counted in the metrics" \
	check 'ctl metrics | grep -qx "portleased_on_event_runs_total{outcome=\"started\"} 6"'

# Four monitors at most, so that the operator can still ask.
pids=""
for n in 1 2 3 4; do
	"$CTL" -s "$WORK/control.sock" monitor > /dev/null &
	pids="$pids $!"
done
i=0
until [ "$(grep -c "control: a monitor follows the events" "$LOG")" -ge 6 ] || [ $i -ge 30 ]; do
	sleep 0.1; i=$((i + 1))
done
got=$("$CTL" -s "$WORK/control.sock" monitor 2>&1); rc=$?
expect "a fifth monitor is refused ($rc: $got), and the operator can still ask" \
	check '[ "$rc" = 1 ] && echo "$got" | grep -q "4 monitors already follow the events" && ctl status > /dev/null'
kill $pids
wait $pids 2>/dev/null

summary events
