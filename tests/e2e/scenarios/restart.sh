#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Crashes and restarts: the kernel expires mappings with portleased
# killed; a restart over the stale table restores every unexpired mapping
# (NAT-PMP, filtered PCP, PEER, static) from the lease file and announces
# itself; SIGTERM leaves nothing behind but a clean lease file; a lease
# file from a previous run; keep_state_on_stop.
# Usage: restart.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR restart).
. "$(dirname "$0")/common.sh"

ctl() { "$CTL" -s "$WORK/control.sock" "$@" -F "$WORK/static"; }
listen_tcp "$NS_LAN1" 8080 "$WORK/lan1-tcp8080"
listen_tcp "$NS_LAN1" 9100 "$WORK/lan1-tcp9100"
listen_tcp "$NS_LAN2" 8900 "$WORK/lan2-tcp8900"
listen_udp "$NS_LAN1" 8901 "$WORK/lan1-udp8901"
# Static mappings the restart must bring back: one from the config, one
# added by hand (the static file).
cat >> "$CONF" <<CONF
static_mappings = (
  { protocol = "tcp"; external_port = 8900; internal_address = "$LAN2_IP"; internal_port = 8900; description = "declared"; }
);
CONF
reload
ctl add udp 8901 "$LAN1_IP" 8901 "added by hand" > /dev/null
got=$(natpmpc_map "$NS_LAN1" 8080 8080 tcp 600)
expect "a mapping to restore ($got)" [ "$got" = "8080 600" ]

# What the kernel holds once the lease file has caught up (within a second):
# the restart below must bring back exactly this.
listen_tcp "$NS_LAN1" 8450 "$WORK/lan1-tcp8450"
got=$(natpmpc_map "$NS_LAN1" 8450 8450 tcp 600)
got2=$(pcp "$NS_LAN2" -f "$WAN_IP" -l 600 map udp 8451 8451)
got3=$(pcp "$NS_LAN2" -l 600 peer udp 8452 "$WAN_IP" 7782 8452)
expect "mappings to outlive a crash: NAT-PMP ($got), PCP with a filter ($(field result "$got2")), PEER ($(field result "$got3"))" \
	check '[ "$got" = "8450 600" ] && [ "$(field result "$got2")" = SUCCESS ] && [ "$(field external "$got3")" = "$ROUTER_WAN_IP:8452" ]'
sleep 1.5
before_kill=$(kernel_ports)
got=$(natpmpc_map "$NS_LAN1" 9100 9100 tcp 3)
granted=$(date +%s%N)
expect "a 3 s mapping is granted ($got)" [ "$got" = "9100 3" ]
kill -9 "$PORTLEASED_PID"; wait "$PORTLEASED_PID" 2>/dev/null
expect "with portleased killed (SIGKILL), the mapping still carries traffic before expiry" \
	wan_reaches tcp 9100 "$WORK/lan1-tcp9100"
# Wait until the lifetime is over, then poll: it must stop within 1 s.
while [ $(( ($(date +%s%N) - granted) / 1000000 )) -lt 3000 ]; do sleep 0.05; done
stopped_ms=""
while [ $(( ($(date +%s%N) - granted) / 1000000 )) -lt 6000 ]; do
	if wan_blocked tcp 9100 "$WORK/lan1-tcp9100"; then
		stopped_ms=$(( ($(date +%s%N) - granted) / 1000000 ))
		break
	fi
done
# wan_blocked itself waits 1 s for the message, so the moment the probe was
# sent is 1 s before stopped_ms.
sent_ms=$(( ${stopped_ms:-99999} - 1000 ))
expect "after the 3 s lifetime the kernel stops the traffic within 1 s (probe sent at ${sent_ms} ms)" \
	[ "$sent_ms" -le 4000 ]

# --- restart over a stale table, then SIGTERM --------------------------------

listen_udp "$NS_LAN1" 5350 "$WORK/lan1-announce"
listen_udp "$NS_WAN" 5350 "$WORK/wan-announce"
listen_udp6 "$NS_LAN1" 5350 "$WORK/lan1-announce6"
listen_udp6 "$NS_WAN" 5350 "$WORK/wan-announce6"
sleep 0.2
# The restart also takes a control group: nogroup, which uid 65534 can hold.
sed -i "s|^control = { socket = \"$WORK/control.sock\"; };|control = { socket = \"$WORK/control.sock\"; group = \"nogroup\"; };|" "$CONF"
start_portleased "$DAEMON" "$CONF" "$LOG.2" || { echo "not ok - portleased did not restart"; exit 1; }
LOG="$LOG.2"
sleep 1
# Datagrams arrive back to back in the file: count them by their headers.
heard=$(od -v -An -tx1 "$WORK/lan1-announce" 2>/dev/null | tr -d ' \n')
pcp_heard=$(echo "$heard" | grep -o '02800000' | wc -l)
expect "after the restart the LAN hears PCP ANNOUNCE on 224.0.0.1:5350, repeated ($pcp_heard in 1 s)" \
	[ "$pcp_heard" -ge 2 ]
expect "and the NAT-PMP external address notice with $ROUTER_WAN_IP" \
	sh -c "echo '$heard' | grep -q '00800000........cb007101'"
heard6=$(od -v -An -tx1 "$WORK/lan1-announce6" 2>/dev/null | tr -d ' \n' | grep -o '02800000' | wc -l)
expect "and PCP ANNOUNCE on [ff02::1]:5350 ($heard6 in 1 s)" [ "$heard6" -ge 2 ]
expect "nothing is announced on the WAN link, over IPv4 or IPv6" \
	check '[ ! -s "$WORK/wan-announce" ] && [ ! -s "$WORK/wan-announce6" ]'
expect "with control.group the socket is mode 0660, group nogroup" \
	[ "$(stat -c '%a %U %G' "$WORK/control.sock")" = "660 root nogroup" ]
chmod 755 "$WORK"
got=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$WORK/control.sock" status 2>&1); rc=$?
got_other=$(setpriv --reuid=65534 --regid=100 --clear-groups "$CTL" -s "$WORK/control.sock" status 2>&1); rc_other=$?
chmod 700 "$WORK"
expect "  a member of the group may use it (status $rc)" check '[ "$rc" = 0 ] && echo "$got" | grep -q "^portleased "'
expect "  a user outside it may not (status $rc_other: $got_other)" \
	check '[ "$rc_other" = 3 ] && echo "$got_other" | grep -q "Permission denied"'
expect "after kill -9 the restart restores every unexpired mapping from the lease file ($(echo "$before_kill" | wc -l) port forwards)" \
	[ "$(kernel_ports)" = "$before_kill" ]
expect "  with no duplicate or stray element: one per lease" \
	[ "$(kernel_ports | wc -l)" = "$(ctl list --json | json_ports | wc -l)" ]
expect "  they carry traffic again" wan_reaches tcp 8450 "$WORK/lan1-tcp8450"
expect "  the PCP one with its remote filter: the list says so" \
	check 'ctl list --json | sed "s/},{/\n/g" | grep "\"external_port\":8451," | grep -q "\"remote_filters\":1"'
listen_udp "$NS_LAN2" 8452 "$WORK/lan2-udp8452"
expect "  the PEER one with its remote peer, its flows leaving from its port again" \
	check 'ctl list | grep -q "^udp   8452 .*\[PEER $WAN_IP:7782\]" &&
	       [ "$(in_router nft list map inet portleased peer4 | grep -c "$LAN2_IP . 8452 . $WAN_IP . udp . 7782")" = 1 ]'
expect "  and the remote peer's datagrams reach the host through it" \
	from "$WAN_IP:7782" wan_reaches udp 8452 "$WORK/lan2-udp8452"
expect "  the static mapping from the config carries traffic" wan_reaches tcp 8900 "$WORK/lan2-tcp8900"
expect "  so does the one added by hand, from the static file" wan_reaches udp 8901 "$WORK/lan1-udp8901"
expect "  the log says the file was not closed cleanly: a new epoch" \
	grep -q "mappings restored, .* (not closed cleanly: a new epoch tells clients to renew)" "$LOG"
got=$(natpmpc_map "$NS_LAN1" 8080 8080 tcp 600)
expect "after the restart mappings work again ($got)" [ "$got" = "8080 600" ]
expect "and carry traffic" wan_reaches tcp 8080 "$WORK/lan1-tcp8080"

sleep 2  # an epoch a restart could not pass for new
epoch_before=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw 0000 | sed -n 's/.* epoch=\([0-9]*\) .*/\1/p')
t0=$(date +%s%N)
kill -TERM "$PORTLEASED_PID"
wait "$PORTLEASED_PID"; rc=$?
elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "SIGTERM: portleased exits cleanly (status $rc) within a second (${elapsed_ms} ms)" \
	check '[ "$rc" = 0 ] && [ "$elapsed_ms" -lt 1000 ]'
expect "SIGTERM: no portleased table is left" sh -c "! ip netns exec $NS_ROUTER nft list tables | grep -q portleased"
expect "SIGTERM: the neighbour's table is untouched" [ "$(in_router nft list table inet neighbour)" = "$NEIGHBOUR_BEFORE" ]
expect "SIGTERM: the traffic stops with the table" wan_blocked tcp 8080 "$WORK/lan1-tcp8080"
expect "SIGTERM: the lease file stays, closed cleanly" \
	check 'head -n 1 "$WORK/leases" | grep -q "^portleased-leases 1 epoch_start=[0-9]* clean=1\$"'

# --- a lease file from a previous run, some of it expired meanwhile ----------

now=$(date +%s)
listen_tcp "$NS_LAN1" 8440 "$WORK/lan1-tcp8440"
cat >> "$WORK/leases" <<LEASES
lease proto=tcp origin=pcp client=$LAN1_IP internal=$LAN1_IP iport=8440 eport=8440 created=$((now - 100)) expires=$((now + 300)) nonce=0102030405060708090a0b0c description=from%20before
lease proto=tcp origin=natpmp client=$LAN1_IP internal=$LAN1_IP iport=8441 eport=8441 created=$((now - 700)) expires=$((now - 60))
lease this line is damaged
LEASES
start_portleased "$DAEMON" "$CONF" "$LOG.3" || { echo "not ok - portleased did not restart"; exit 1; }
LOG="$LOG.3"
expect "a clean restart restores the file's leases, skips the expired one, reports the damaged line" \
	check 'grep -q "lease file $WORK/leases: [0-9]* mappings restored, 1 expired meanwhile\$" "$LOG" && grep -q "1 unreadable lines" "$LOG"'
expect "  the restored mappings carry traffic again" wan_reaches tcp 8080 "$WORK/lan1-tcp8080"
expect "  one added to the file carries traffic, with its lifetime left (about 300 s)" \
	check 'wan_reaches tcp 8440 "$WORK/lan1-tcp8440" && ctl list --json | sed "s/},{/\n/g" | grep "\"external_port\":8440," | grep "\"origin\":\"pcp\",\"description\":\"from before\"" | grep -qE "\"remaining\":(29[0-9]|300),"'
expect "  the expired one is not there" [ "$(nft_elements "tcp . 8441 ")" = 0 ]
got=$(pcp "$NS_LAN1" -n 0102030405060708090a0b0c -l 600 map tcp 8440 8440)
expect "  its PCP nonce came back with it: the owner renews it ($(field result "$got"))" [ "$(field result "$got")" = SUCCESS ]
epoch_after=$(in_lan1 "$PROBE" "$ROUTER_LAN_IP" raw 0000 | sed -n 's/.* epoch=\([0-9]*\) .*/\1/p')
expect "  and the epoch carries on from the clean stop ($epoch_before -> $epoch_after s)" \
	check '[ "${epoch_before:-0}" -ge 3 ] && [ "${epoch_after:-0}" -ge "$epoch_before" ]'
echo "keep_state_on_stop = true;" >> "$CONF"
reload
kill -TERM "$PORTLEASED_PID"; wait "$PORTLEASED_PID"
expect "with keep_state_on_stop, SIGTERM leaves the table: mappings keep working with no daemon" \
	wan_reaches tcp 8440 "$WORK/lan1-tcp8440"

summary restart
