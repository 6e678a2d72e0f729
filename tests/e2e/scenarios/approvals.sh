#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Approval: a policy rule of action "ask" refuses a request for now and
# keeps it pending, with its device, ports and description; the operator
# approves it (the client's retry then succeeds, with traffic, for no
# longer than the approval) or rejects it (its retries stay refused,
# without a new pending request); a PCP client still listening hears the
# approval at once. Real clients: natpmpc and upnpc.
# Usage: approvals.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR approvals).
. "$(dirname "$0")/common.sh"

sed -i 's|^policy = (|policy = (\n  { action = "ask"; clients = "192.168.77.0/24"; internal_ports = "6000-6099"; },|' "$CONF"
reload
LAN1_MAC=$(mac_of "$NS_LAN1")
LAN2_MAC=$(mac_of "$NS_LAN2")
listen_tcp "$NS_LAN1" 6000 "$WORK/lan1-6000"
# -i: the external address is a documentation one, which miniupnpc takes
# for "not connected" without it.
upnpc_add() { in_lan1 timeout 10 upnpc -i -u "http://$ROUTER_LAN_IP:5000/rootDesc.xml" -e "game server" -a "$LAN1_IP" "$1" "$1" TCP 600 2>&1 | grep -o "failed with code [0-9]*"; }

got=$(natpmpc_map "$NS_LAN1" 6000 6000 tcp 600)
expect "NAT-PMP under an ask rule: refused for now ($got), nothing in the kernel" \
	check '[ "$got" = "failed : not authorized" ] && [ "$(nft_elements "tcp . 6000 ")" = 0 ]'
expect "  audited as pending, with its number and device" \
	grep -q "audit event=pending origin=natpmp proto=tcp client=$LAN1_IP internal=$LAN1_IP:6000 external_port=6000 rule_line=[0-9]* id=1 result=\"waiting for the operator\" mac=$LAN1_MAC" "$LOG"
got=$(upnpc_add 6001)
expect "UPnP under the same rule: 606 for now ($got)" [ "$got" = "failed with code 606" ]
natpmpc_map "$NS_LAN1" 6000 6000 tcp 600 > /dev/null
pending=$(ctl pending)
expect "portleasectl pending lists both, in order, with device and description" \
	check 'echo "$pending" | grep -q "^1 *tcp *6000 *$LAN1_IP:6000 *$LAN1_MAC *natpmp *2 *\$" && echo "$pending" | grep -q "^2 *tcp *6001 *$LAN1_IP:6001 *$LAN1_MAC *upnp *1 *game server\$"'
expect "  a retry is counted, not logged again" \
	check '[ "$(grep -c "audit event=pending .*internal=$LAN1_IP:6000 " "$LOG")" = 1 ] && ctl pending --json | grep -q "\"id\":1,.*\"asked\":2,"'

ctl approve --for 1h 1 > /dev/null; rc=$?
expect "approve 1 --for 1h: done ($rc), audited with the operator's uid" \
	check '[ "$rc" = 0 ] && grep -q "audit event=approved origin=natpmp proto=tcp client=$LAN1_IP internal=$LAN1_IP:6000 external_port=6000 id=1 for=3600 by=operator uid=0" "$LOG"'
got=$(natpmpc_map "$NS_LAN1" 6000 6000 tcp 600)
expect "  the client's retry succeeds ($got) and the WAN reaches it" \
	check '[ "$got" = "6000 600" ] && wan_reaches tcp 6000 "$WORK/lan1-6000"'
expect "  and it is no longer pending" check '! ctl pending | grep -q "^1 "'
ctl reject 2 > /dev/null; rc=$?
got=$(upnpc_add 6001)
expect "reject 2 ($rc): the retry stays refused ($got), with no new pending request" \
	check '[ "$rc" = 0 ] && [ "$got" = "failed with code 606" ] && [ "$(ctl pending)" = "no pending requests" ] && grep -q "audit event=rejected origin=upnp .* id=2 by=operator uid=0 .*description=\"game server\"" "$LOG" && grep -q "audit event=refused origin=upnp .*internal=$LAN1_IP:6001 .*result=\"rejected by the operator\"" "$LOG"'

# An approval for 3 s: the mapping lasts no longer.
got=$(natpmpc_map "$NS_LAN2" 6002 6002 udp 600)
id=$(ctl pending --json | sed -n 's/.*"id":\([0-9]*\),"protocol":"udp","external_port":6002,.*/\1/p')
ctl approve --for 3s "$id" > /dev/null
got=$(natpmpc_map "$NS_LAN2" 6002 6002 udp 600)
expect "an approval for 3 s gives lan2 a mapping of at most 3 s ($got)" \
	check '[ "${got% *}" = 6002 ] && [ "${got#* }" -le 3 ]'
i=0
while [ $i -lt 60 ] && ctl list | grep -q "^udp *6002 "; do sleep 0.1; i=$((i + 1)); done
got=$(natpmpc_map "$NS_LAN2" 6002 6002 udp 600)
expect "  once it has run out, the mapping is gone and a renewal is pending again ($got)" \
	check '! ctl list | grep -q "^udp *6002 " && [ "$got" = "failed : not authorized" ] && ctl pending | grep -q " udp *6002 *$LAN2_IP:6002 *$LAN2_MAC "'

expect "explain says an ask rule leaves it pending" \
	check 'ctl explain "$LAN1_IP" tcp 6050 | grep -q "left pending for the operator.s approval by the rule at line [0-9]* (ask clients 192.168.77.0/24 internal_ports 6000-6099)"'
metrics=$(ctl metrics)
expect "metrics count pending requests and answers" \
	check 'echo "$metrics" | grep -qx "portleased_pending_requests_total 4" && echo "$metrics" | grep -qx "portleased_pending_requests 1" && echo "$metrics" | grep -qx "portleased_approvals_total{decision=\"approved\"} 2" && echo "$metrics" | grep -qx "portleased_approvals_total{decision=\"rejected\"} 1"'
got=$(ctl approve 99 2>&1); rc=$?
expect "approving what is not pending: status 1 ($got)" check '[ "$rc" = 1 ] && echo "$got" | grep -q "no pending request 99"'
got=$("$CTL" -s "$WORK/control.sock" approve --for 3x 1 2>&1); rc=$?
expect "a bad --for is a usage error ($rc)" check '[ "$rc" = 2 ] && echo "$got" | grep -q "a duration from 1 s"'

# PCP: the client that asked is answered at once when the operator
# approves (RFC 6887 §14.2: a MAP response may come unsolicited), to the
# port it asked from, with its nonce. A client of ours that keeps its
# socket open after the refusal, as an application waiting for its
# mapping would.
ip netns exec "$NS_LAN1" timeout 20 python3 -c '
import socket, struct, sys, time
gateway, client, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
nonce = bytes(range(1, 13))
request = (struct.pack("!BBHI", 2, 1, 0, 600) + socket.inet_pton(socket.AF_INET6, "::ffff:" + client)
           + nonce + struct.pack("!B3xHH", 6, port, port) + bytes(16))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((client, 0))
s.sendto(request, (gateway, 5351))
deadline = time.time() + 15
while time.time() < deadline:
    s.settimeout(deadline - time.time())
    try:
        answer = s.recv(1100)
    except socket.timeout:
        break
    if len(answer) >= 60 and answer[1] == 0x81:
        print("result=%d lifetime=%d nonce=%s port=%d" % (answer[3], struct.unpack("!I", answer[4:8])[0],
              "ours" if answer[24:36] == nonce else "other", struct.unpack("!H", answer[42:44])[0]), flush=True)
        if answer[3] == 0:
            break
' "$ROUTER_LAN_IP" "$LAN1_IP" 6010 > "$WORK/pcp-waiting" 2>&1 &
i=0
while [ $i -lt 50 ] && ! grep -q "^result=2 " "$WORK/pcp-waiting"; do sleep 0.1; i=$((i + 1)); done
id=$(ctl pending --json | sed -n 's/.*"id":\([0-9]*\),"protocol":"tcp","external_port":6010,.*/\1/p')
expect "PCP under the ask rule: NOT_AUTHORIZED for now, pending as id $id" \
	check 'grep -q "^result=2 " "$WORK/pcp-waiting" && [ -n "$id" ]'
listen_tcp "$NS_LAN1" 6010 "$WORK/lan1-6010"
ctl approve "$id" > /dev/null
i=0
while [ $i -lt 50 ] && ! grep -q "^result=0 " "$WORK/pcp-waiting"; do sleep 0.1; i=$((i + 1)); done
expect "  the approval answers the waiting client at once: SUCCESS, its nonce, its port ($(tail -1 "$WORK/pcp-waiting"))" \
	check 'grep -q "^result=0 lifetime=600 nonce=ours port=6010$" "$WORK/pcp-waiting"'
expect "  and the WAN reaches it, without a retry" \
	check 'ctl list | grep -q "^tcp *6010 .* pcp " && wan_reaches tcp 6010 "$WORK/lan1-6010"'

summary approvals
