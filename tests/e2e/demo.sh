#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The portleased demo: a LAN host gets a port mapping over NAT-PMP and a WAN
# host connects through it, in throw-away network namespaces, with the
# example configuration unchanged. Usage: demo.sh BUILD_DIR. Needs root.
set -u

BUILD=${1:-build}
HERE=$(dirname "$0")
# The example config's names: WAN on eth0, LAN 192.168.1.0/24 on br-lan.
LAN_NET=192.168.1
ROUTER_WAN_IF=eth0
. "$HERE/netns.sh"

WORK=$(mktemp -d /tmp/portleased-demo.XXXXXX)
LOG="$WORK/portleased.log"
trap 'net_teardown; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then BOLD=$(printf '\033[1m'); PLAIN=$(printf '\033[0m'); else BOLD=; PLAIN=; fi
step() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }
say()  { printf '   %s\n' "$*"; }
show() { sed 's/^/   | /'; }
wan_connect() {
	say "\$ socat - TCP:$ROUTER_WAN_IP:$1      (on the WAN host)"
	{ in_wan timeout 3 socat -T 2 - "TCP:$ROUTER_WAN_IP:$1,connect-timeout=1" </dev/null 2>/dev/null ||
		echo "connection refused"; } | show
}

step "1. A small network in namespaces"
net_setup || { echo "cannot create network namespaces (run as root)"; exit 1; }
cat <<NET
   LAN host $LAN1_IP ── br-lan $ROUTER_LAN_IP [router: portleased] $ROUTER_WAN_IF $ROUTER_WAN_IP ── WAN host $WAN_IP

   The LAN host runs a small service on TCP port 8080. Without a mapping,
   nothing on the WAN side can reach it.
NET
in_lan1 socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:"echo hello from the LAN host $LAN1_IP" \
	2>/dev/null &
sleep 0.3

step "2. portleased starts on the router with config/portleased.conf"
# Its control socket in the demo's directory, so that a portleased running
# on this machine keeps its own.
cp config/portleased.conf "$WORK/portleased.conf"
# And, started as root, it becomes nobody (the example's user, portleased,
# is made by make install, not by the demo).
sed -i "s|socket = \"/run/portleased/control.sock\";|socket = \"$WORK/control.sock\";|; s|^lease_file = .*|lease_file = \"$WORK/leases\";|; s|^user = .*|user = \"nobody\";|" "$WORK/portleased.conf"
chown nobody "$WORK"
start_portleased "$BUILD/portleased" "$WORK/portleased.conf" "$LOG" || exit 1
sed 's/^[0-9:.]* portleased //' "$LOG" | show
say "Its nftables table, still empty (one hash map, two sets, two chains):"
in_router nft list table inet portleased | show

step "3. The WAN host tries $ROUTER_WAN_IP:8080 before any mapping"
wan_connect 8080
say "Refused: the router has nothing on that port."

step "4. The LAN host asks for a mapping with natpmpc (NAT-PMP, RFC 6886)"
say "\$ natpmpc -g $ROUTER_LAN_IP -a 8080 8080 tcp 3600"
in_lan1 natpmpc -g "$ROUTER_LAN_IP" -a 8080 8080 tcp 3600 2>&1 | grep -E 'Public IP|Mapped' | show
say "portleased checked the policy, then installed one map element:"
tail -n 1 "$LOG" | sed 's/^[0-9:.]* portleased //' | show

step "5. The WAN host connects again"
wan_connect 8080
say "Through the router to the LAN host. What nftables holds now:"
in_router nft list map inet portleased fwd4 | grep -E 'elements' | show
in_router nft list set inet portleased allow4 | grep -E 'elements' | show
say "Each element carries the lease's timeout: the kernel removes it on time"
say "even if portleased dies."

step "6. The policy decides: the LAN host asks for its port 22 (SSH)"
say "\$ natpmpc -g $ROUTER_LAN_IP -a 22 22 tcp 3600"
in_lan1 natpmpc -g "$ROUTER_LAN_IP" -a 22 22 tcp 3600 2>&1 | grep -E 'failed|Mapped' | show
tail -n 1 "$LOG" | sed 's/^[0-9:.]* portleased //' | show

step "7. The LAN host gives the mapping back (lifetime 0)"
say "\$ natpmpc -g $ROUTER_LAN_IP -a 8080 8080 tcp 0"
in_lan1 natpmpc -g "$ROUTER_LAN_IP" -a 8080 8080 tcp 0 >/dev/null 2>&1
tail -n 1 "$LOG" | sed 's/^[0-9:.]* portleased //' | show
wan_connect 8080
say "Closed again."

step "8. The same over UPnP IGD, as games and BitTorrent clients ask"
say "\$ upnpc -i -e demo -a $LAN1_IP 8080 18080 TCP 600   (-i: the demo's WAN address is a"
say "  documentation one, which miniupnpc calls \"not connected\")"
in_lan1 timeout 15 upnpc -i -e demo -a "$LAN1_IP" 8080 18080 TCP 600 2>&1 | grep -E '^desc:| desc:|is redirected|failed' | show
wan_connect 18080
say "The same policy, lease table and nftables map served it:"
grep 'audit event=granted origin=upnp' "$LOG" | tail -n 1 | sed 's/^[0-9:.]* portleased //' | show

step "9. The operator looks, on the router: portleasectl list"
say "\$ portleasectl list"
"$BUILD/portleasectl" -s "$WORK/control.sock" list | show
say "and removes the UPnP mapping, whoever made it:"
say "\$ portleasectl delete tcp 18080"
"$BUILD/portleasectl" -s "$WORK/control.sock" delete -F "$WORK/static" tcp 18080
tail -n 1 "$LOG" | sed 's/^[0-9:.]* portleased //' | show
wan_connect 18080

step "10. portleased stops (SIGTERM) and takes its table with it"
kill -TERM "$PORTLEASED_PID"
wait "$PORTLEASED_PID"
tail -n 1 "$LOG" | sed 's/^[0-9:.]* portleased //' | show
say "nftables tables left on the router: $(in_router nft list tables | wc -l)"

step "Done. The namespaces are removed now; nothing on this machine changed."
