#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# portleasectl against a PCP server that is not ours: Debian's miniupnpd
# (miniupnpd-nftables) in the router namespace, so that our client and our
# server are never only tested against each other.
# Usage: reference.sh BUILD_DIR, or tests/e2e/scenario.sh BUILD_DIR reference.
# Needs root.
#
# miniupnpd refuses to forward anything when the external address is in a
# reserved range, and the only WAN addresses these tests may use are
# documentation ranges (reserved). So miniupnpd answers our MAP with an
# error: what this checks is that our client reads another
# implementation's PCP and NAT-PMP answers right (result codes, the echoed
# nonce and port, the epoch), not that miniupnpd forwards.
SCENARIO=ref
. "$(dirname "$0")/../prologue.sh"
MINIUPNPD=${MINIUPNPD:-/usr/sbin/miniupnpd}
LOG="$WORK/miniupnpd.log"

if [ ! -x "$MINIUPNPD" ]; then
	echo "not ok - $MINIUPNPD is missing (make deps installs miniupnpd-nftables)"
	exit 1
fi
net_setup || { echo "not ok - cannot build the test network"; exit 1; }

make_miniupnpd_chains
cat > "$WORK/miniupnpd.conf" <<CONF
ext_ifname=$ROUTER_WAN_IF
listening_ip=br-lan
enable_natpmp=yes
enable_upnp=no
secure_mode=yes
uuid=3d5c0a2e-7d55-4b7e-9b5e-5f0b1f1c0a01
allow 1024-65535 $LAN_NET.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
ip netns exec "$NS_ROUTER" "$MINIUPNPD" -d -f "$WORK/miniupnpd.conf" -P "$WORK/miniupnpd.pid" \
	> "$LOG" 2>&1 &
i=0
while [ $i -lt 50 ] && ! grep -q 'Listening for NAT-PMP/PCP' "$LOG" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
expect "miniupnpd is listening for PCP in the router namespace" grep -q 'Listening for NAT-PMP/PCP' "$LOG"

pcp() { in_lan1 "$CTL" pcp -g "$ROUTER_LAN_IP" "$@"; }

got=$(pcp announce); rc=$?
expect "ANNOUNCE: SUCCESS with an epoch, exit 0 ($got)" \
	check '[ $rc = 0 ] && [ "$(field result "$got")" = SUCCESS ] && [ -n "$(field epoch "$got")" ]'

NONCE=a1a2a3a4a5a6a7a8a9aaabac
# A description of 4 octets: miniupnpd 2.3.1 rejects options whose length
# is not a multiple of 4 (it does not skip the padding RFC 6887 §7.3 puts
# after them) with MALFORMED_OPTION.
got=$(pcp -n $NONCE -d "ref1" map tcp 8080 8080); rc=$?
expect "MAP: miniupnpd's refusal is read as a PCP result code, exit 1 ($got)" \
	check '[ $rc = 1 ] && [ "$(field result "$got")" = NO_RESOURCES ] && [ "$(field lifetime "$got")" = 30 ]'
expect "MAP: the echoed nonce and internal port are miniupnpd's answer, parsed ($got)" \
	check '[ "$(field nonce "$got")" = $NONCE ] && [ "$(field internal "$got")" = 8080 ]'
expect "MAP: miniupnpd logged our request as a PCP MAP with our nonce" \
	grep -qi "PCP MAP.*a4a3a2a1a8a7a6a5acabaaa9\|PCP MAP.*a1a2a3a4a5a6a7a8a9aaabac" "$LOG"

got=$(pcp external); rc=$?
expect "NAT-PMP external address: miniupnpd's NETWORK_FAILURE is read as such ($got)" \
	check '[ $rc = 1 ] && [ "$(field result "$got")" = NETWORK_FAILURE ]'

got=$(pcp -n $NONCE delete udp 5000); rc=$?
expect "delete of an unknown mapping: a PCP answer, not a timeout ($got)" \
	check '[ $rc != 3 ] && [ -n "$(field result "$got")" ]'

summary reference
