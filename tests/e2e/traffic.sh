# SPDX-License-Identifier: GPL-2.0-or-later
# Traffic helpers of the e2e tests, sourced after netns.sh: LAN listeners
# and probes from the WAN host through the router.

# listen_tcp NS PORT FILE / listen_udp NS PORT FILE: a LAN service that
# appends whatever reaches it to FILE.
listen_tcp() { ip netns exec "$1" socat -u "TCP-LISTEN:$2,fork,reuseaddr" "OPEN:$3,creat,append" 2>/dev/null & listening "$1" t "$2"; }
listen_udp() { ip netns exec "$1" socat -u "UDP-RECV:$2,reuseaddr" "OPEN:$3,creat,append" 2>/dev/null & listening "$1" u "$2"; }
# listening NS t|u PORT: waits (up to a second) until a socket of NS listens
# there, so that a probe sent next does not race the listener's start.
listening() {
	i=0
	while [ $i -lt 20 ] && [ -z "$(ip netns exec "$1" ss -Hl"$2"n "sport = :$3" 2>/dev/null)" ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

# wan_reaches tcp|udp PORT FILE: sends a fresh message from the WAN host to
# the router's external address and port (a new connection, or a datagram
# from a new source port, so no old conntrack entry can carry it), and
# succeeds if it arrives in FILE within a second. WAN_BIND=ADDR[:PORT] sends
# from that source instead.
wan_reaches() {
	MSG_ID=$((MSG_ID + 1))
	msg="probe-$$-$MSG_ID"
	if [ "$1" = tcp ]; then
		echo "$msg" | in_wan timeout 3 socat -u - "TCP:$ROUTER_WAN_IP:$2,connect-timeout=1${WAN_BIND:+,bind=$WAN_BIND}" 2>/dev/null
	else
		echo "$msg" | in_wan timeout 3 socat -u - "UDP-SENDTO:$ROUTER_WAN_IP:$2${WAN_BIND:+,bind=$WAN_BIND}" 2>/dev/null
	fi
	arrives "$msg" "$3"
}

# arrives MSG FILE: whether MSG shows up in FILE within a second.
arrives() {
	i=0
	while [ $i -lt 10 ]; do
		grep -q "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
wan_blocked() { ! wan_reaches "$@"; }

# The same over IPv6, to a LAN host's own address (a pinhole: no NAT):
# wan6_reaches tcp|udp ADDR PORT FILE, from WAN_BIND6 if set.
listen_tcp6() { ip netns exec "$1" socat -u "TCP6-LISTEN:$2,fork,reuseaddr,ipv6only=1" "OPEN:$3,creat,append" 2>/dev/null & listening "$1" t "$2"; }
listen_udp6() { ip netns exec "$1" socat -u "UDP6-RECV:$2,reuseaddr,ipv6only=1" "OPEN:$3,creat,append" 2>/dev/null & listening "$1" u "$2"; }
wan6_reaches() {
	MSG_ID=$((MSG_ID + 1))
	msg="probe-$$-$MSG_ID"
	if [ "$1" = tcp ]; then
		echo "$msg" | in_wan timeout 3 socat -u - "TCP6:[$2]:$3,connect-timeout=1${WAN_BIND6:+,bind=[$WAN_BIND6]}" 2>/dev/null
	else
		echo "$msg" | in_wan timeout 3 socat -u - "UDP6-SENDTO:[$2]:$3${WAN_BIND6:+,bind=[$WAN_BIND6]}" 2>/dev/null
	fi
	arrives "$msg" "$4"
}
wan6_blocked() { ! wan6_reaches "$@"; }
# from ADDR[:PORT] CHECK...: CHECK with the WAN host sending from ADDR.
from() { WAN_BIND=$1; shift; "$@"; rc=$?; WAN_BIND=; return $rc; }
from6() { WAN_BIND6=$1; shift; "$@"; rc=$?; WAN_BIND6=; return $rc; }
