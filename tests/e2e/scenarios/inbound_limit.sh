#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A policy rule's inbound_limit, enforced by the kernel: a WAN host's flood
# of new connections to a mapping is cut to its per-remote rate while
# another remote still connects; a total limit holds against two remotes
# at once; what was turned away is counted per mapping in list and in all
# in the metrics, not logged; a reload that changes the limit makes the
# table anew around the mappings, which keep working; IPv6 pinholes too.
# Usage: inbound_limit.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR inbound_limit).
. "$(dirname "$0")/common.sh"

# Ports 7000-7099: 2 new connections a second from each remote, 4 at
# once. Ports 7100-7199: 3 a second from all remotes together.
sed -i 's|^policy = (|policy = (\n  { action = "allow"; internal_ports = "7000-7099"; inbound_limit = { per_remote = 2; burst = 4; }; },\n  { action = "allow"; internal_ports = "7100-7199"; inbound_limit = { total = 3; }; },|' "$CONF"
reload

# listen_many NS ADDR PORT: a listener that accepts all it is sent (a long
# backlog: the LAN host must not be what refuses), for 60 s at most.
listen_many() {
	ip netns exec "$1" timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1024)
while True:
    s.accept()[0].close()
' "$2" "$3" 2>/dev/null &
	listening "$1" t "$3"
}

# flood FROM PORT COUNT [TO]: COUNT connections opened at once from the WAN
# host's address FROM to the router's PORT (or TO's); prints how many were
# answered within 0.8 s of the last one's start (a dropped SYN is sent
# again only after 1 s), and how long that was from the first one's.
flood() {
	in_wan python3 -c '
import select, socket, sys, time
src, dst, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
family = socket.AF_INET6 if ":" in dst else socket.AF_INET
socks = []
start = time.monotonic()
for _ in range(n):
    s = socket.socket(family)
    s.setblocking(False)
    s.bind((src, 0))
    try:
        s.connect((dst, port))
    except BlockingIOError:
        pass
    socks.append(s)
time.sleep(0.8)
_, writable, _ = select.select([], socks, [], 0)
print(sum(1 for s in writable if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0),
      "%.2f" % (time.monotonic() - start))
' "$1" "${4:-$ROUTER_WAN_IP}" "$2" "$3"
}

# within_limit "N SECONDS" BURST RATE: whether N is no more than a bucket
# of BURST filling at RATE a second lets through in SECONDS (and one more,
# for a token that comes due at the edge), and at least one.
within_limit() { echo "$1" | awk -v burst="$2" -v rate="$3" '{ exit !($1 >= 1 && $1 <= burst + rate * $2 + 1) }'; }
answered() { echo "${1%% *}"; }

limited_of() { ctl list --json | sed 's/},{/\n/g' | grep "\"external_port\":$1," | sed -n 's/.*"limited":\([0-9]*\).*/\1/p'; }

listen_many "$NS_LAN1" 0.0.0.0 7001
listen_many "$NS_LAN1" 0.0.0.0 7101
a=$(natpmpc_map "$NS_LAN1" 7001 7001 tcp 600)
b=$(natpmpc_map "$NS_LAN1" 7101 7101 tcp 600)
expect "lan1 maps 7001 (per-remote limit) and 7101 (total limit) ($a, $b)" \
	check '[ "$a" = "7001 600" ] && [ "$b" = "7101 600" ]'
expect "  the kernel sends their new connections through their limit's chain" \
	check 'in_router nft list map inet portleased limit4 | grep -q "$LAN1_IP . tcp . 7001 .*: jump limit_class1" && in_router nft list map inet portleased limit4 | grep -q "$LAN1_IP . tcp . 7101 .*: jump limit_class2"'
expect "  whose meters have the rule's rates" \
	check 'in_router nft list chain inet portleased limit_class1 | grep -q "limit rate over 2/second burst 4 packets" && in_router nft list chain inet portleased limit_class2 | grep -q "limit rate over 3/second burst 3 packets"'

expect "  explain names the rule's limit" \
	check 'ctl explain "$LAN1_IP" tcp 7005 | grep -q "internal_ports 7000-7099 inbound_limit per_remote 2/s burst 4)"'

got=$(flood "$WAN_IP" 7001 60)
expect "a flood of 60 new connections from one remote: only its burst and rate get through ($got s)" \
	within_limit "$got" 4 2
got2=$(answered "$(flood "$WAN_IP2" 7001 3)")
expect "  meanwhile another remote address still connects, all of its 3 ($got2)" check '[ "$got2" = 3 ]'
limited=$(limited_of 7001)
expect "  list --json counts what was turned away ($limited)" check '[ "${limited:-0}" -ge 40 ]'
expect "  the table says so too" \
	check 'ctl list | grep "^tcp *7001 " | grep -q "\[LIMIT 2/s per remote: [0-9]* turned away\]"'
expect "  no log line per dropped connection" \
	check '[ "$(grep -c "7001" "$LOG")" -le 3 ]'
expect "  and the mapping still carries traffic once the flood is over" \
	check 'sleep 1; [ "$(answered "$(flood "$WAN_IP" 7001 2)")" = 2 ]'

got=$(flood "$WAN_IP" 7101 20 & flood "$WAN_IP2" 7101 20; wait)
total=$(echo "$got" | awk '{ n += $1; if ($2 > t) t = $2 } END { print n, t }')
expect "a total limit: 40 new connections from two remotes at once, its burst and rate get through ($total s)" \
	within_limit "$total" 3 3
metric=$(ctl metrics | sed -n 's/^portleased_inbound_limited_total //p')
expect "portleased_inbound_limited_total counts all that was turned away ($metric)" \
	check '[ "${metric:-0}" -ge $((limited + 25)) ]'
expect "a mapping without a limit is not sent through any ($(natpmpc_map "$NS_LAN1" 8080 8080 tcp 600))" \
	check '! in_router nft list map inet portleased limit4 | grep -q "tcp . 8080"'

# A reload that changes the limit: the table is made anew, the mappings
# put back with the new one.
sed -i 's|per_remote = 2; burst = 4;|per_remote = 100; burst = 100;|' "$CONF"
reload
expect "a reload with a new limit makes the table anew ($(grep -c "inbound limits changed" "$LOG") times)" \
	check 'grep -q "inbound limits changed: nftables table made anew, 3 mappings put back" "$LOG" && in_router nft list chain inet portleased limit_class1 | grep -q "limit rate over 100/second burst 100 packets"'
got=$(answered "$(flood "$WAN_IP" 7001 30)")
expect "  the mapping, put back, now takes the flood of 30 ($got)" check '[ "$got" = 30 ]'
expect "  and the other still has its own limit" \
	check 'in_router nft list map inet portleased limit4 | grep -q "$LAN1_IP . tcp . 7101 .*: jump limit_class2"'

# A rule that loses its limit: its mapping leaves the limit at the reload.
sed -i 's| inbound_limit = { total = 3; };||' "$CONF"
reload
expect "a rule that no longer limits: its mapping is out of the limit map" \
	check '! in_router nft list map inet portleased limit4 | grep -q "tcp . 7101" && [ "$(answered "$(flood "$WAN_IP" 7101 10)")" = 10 ]'

# IPv6: a pinhole of the per-remote rule is limited the same way.
sed -i 's|per_remote = 100; burst = 100;|per_remote = 1; burst = 2;|' "$CONF"
reload
listen_many "$NS_LAN1" :: 7002
got=$(ip netns exec "$NS_LAN1" "$CTL" pcp -g "$ROUTER_LAN_IP6" -n $NONCE_A map tcp 7002 600)
got6=$(flood "$WAN_IP6" 7002 30 "$LAN1_IP6")
limited6=$(ctl list --json | sed 's/},{/\n/g' | grep '"internal_port":7002,' | sed -n 's/.*"limited":\([0-9]*\).*/\1/p')
expect "an IPv6 pinhole of a limited rule ($(field result "$got")): a flood of 30 gets only its burst and rate ($got6 s), the rest counted ($limited6)" \
	check '[ "$(field result "$got")" = SUCCESS ] && within_limit "$got6" 2 1 && [ "${limited6:-0}" -ge 20 ]'
expect "  through limit6" \
	check 'in_router nft list map inet portleased limit6 | grep -q "$LAN1_IP6 . tcp . 7002 .*: jump limit_class1"'

summary inbound_limit
