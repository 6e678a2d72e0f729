#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Privilege separation: portleased runs as nobody with no capability, its
# helper portleased-nft keeps CAP_NET_ADMIN alone and links none of the
# codecs, and refuses what the policy denies whatever the daemon asks.
# Usage: privsep.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR privsep).
. "$(dirname "$0")/common.sh"

# status PID FIELD: a line of /proc/PID/status, its value only.
status() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' '; }
HELPER_PID=$(pgrep -P "$PORTLEASED_PID" -x portleased-nft)
NOBODY=$(id -u nobody)
expect "portleased runs as nobody with no capability and no_new_privs ($(status "$PORTLEASED_PID" CapEff))" \
	check '[ "$(status "$PORTLEASED_PID" Uid)" = "$NOBODY $NOBODY $NOBODY $NOBODY" ] &&
	       [ "$(status "$PORTLEASED_PID" CapEff)" = 0000000000000000 ] &&
	       [ "$(status "$PORTLEASED_PID" CapPrm)" = 0000000000000000 ] &&
	       [ "$(status "$PORTLEASED_PID" CapAmb)" = 0000000000000000 ] &&
	       [ "$(status "$PORTLEASED_PID" NoNewPrivs)" = 1 ]'
expect "its helper portleased-nft (pid ${HELPER_PID:-none}) keeps CAP_NET_ADMIN only, as nobody too" \
	check '[ -n "$HELPER_PID" ] && [ "$(status "$HELPER_PID" CapEff)" = 0000000000001000 ] &&
	       [ "$(status "$HELPER_PID" CapPrm)" = 0000000000001000 ] &&
	       [ "$(status "$HELPER_PID" Uid)" = "$NOBODY $NOBODY $NOBODY $NOBODY" ]'
# What the helper links: nothing that parses what LAN hosts send.
helper_links=$(ldd "$BUILD/portleased-nft" | awk '{print $1}' | tr '\n' ' ')
expect "the helper links no expat, no libevent ($helper_links)" \
	check '! echo "$helper_links" | grep -q "libexpat\|libevent"'
expect "  and none of the NAT-PMP, PCP or UPnP codecs" \
	check '[ "$(nm "$BUILD/portleased-nft" | grep -cE " [Tt] (natpmp|pcp|soap|ssdp|http|gena|igd)_")" = 0 ] &&
	       [ "$(nm "$DAEMON" | grep -cE " [Tt] (natpmp|pcp|soap|ssdp|http|gena|igd)_")" -gt 20 ]'
out=$(in_router setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	--ambient-caps=-all --bounding-set=-all nft add table inet evil 2>&1)
expect "with portleased's credentials nftables cannot be changed ($out)" \
	check 'echo "$out" | grep -q "Operation not permitted" && ! in_router nft list table inet evil >/dev/null 2>&1'
# A compromised portleased, played by priv_probe, asking its own helper
# (on a table of its own) for what the policy denies.
write_router_config "$WORK/probe.conf" 'nft_table = "probe";'
sed -i 's|^user = .*|user = "nobody";|' "$WORK/probe.conf"
PRIV_PROBE="$BUILD/tests/e2e/priv_probe"
got=$(in_router "$PRIV_PROBE" "$BUILD/portleased-nft" "$WORK/probe.conf" add tcp 80 "$LAN1_IP" 80 "$LAN1_IP" 2>>"$WORK/probe.log")
expect "the helper refuses a mapping the policy denies, whatever the other half says ($got)" \
	check '[ "$got" = "rc=-1" ] && ! in_router nft list map inet probe fwd4 | grep -q "tcp . 80 "'
got=$(in_router "$PRIV_PROBE" "$BUILD/portleased-nft" "$WORK/probe.conf" static tcp 2222 "$LAN2_IP" 2222 2>>"$WORK/probe.log")
expect "  and a \"static\" mapping the config does not declare, where the policy denies ($got)" [ "$got" = "rc=-1" ]
got=$(in_router "$PRIV_PROBE" "$BUILD/portleased-nft" "$WORK/probe.conf" add tcp 7777 "$LAN2_IP" 7777 "$LAN1_IP" 2>>"$WORK/probe.log")
expect "  and a third party's mapping no rule allows ($got)" [ "$got" = "rc=-1" ]
got=$(in_router "$PRIV_PROBE" "$BUILD/portleased-nft" "$WORK/probe.conf" short 2>>"$WORK/probe.log")
expect "  and a malformed request, with EINVAL ($got)" [ "$got" = "rc=-22" ]
got=$(in_router "$PRIV_PROBE" "$BUILD/portleased-nft" "$WORK/probe.conf" add tcp 7777 "$LAN1_IP" 7777 "$LAN1_IP" 2>>"$WORK/probe.log")
expect "  but does what the policy allows ($got)" \
	check '[ "$got" = "rc=0" ] && in_router nft list map inet probe fwd4 | grep -q "tcp . 7777 "'
expect "  and logs each refusal" check '[ "$(grep -c "portleased-nft warning: refused" "$WORK/probe.log")" -ge 4 ]'
in_router nft delete table inet probe
out=$("$BUILD/portleased-nft" --help); rc=$?
out2=$("$BUILD/portleased-nft" -f "$CONF" 2>&1); rc2=$?
expect "portleased-nft --help says it is portleased's helper (status $rc); run by hand it refuses (status $rc2: $out2)" \
	check '[ "$rc" = 0 ] && echo "$out" | grep -q "privileged helper of portleased(8)" &&
	       [ "$rc2" = 2 ] && echo "$out2" | grep -q "started by portleased, not by hand"'

summary privsep
