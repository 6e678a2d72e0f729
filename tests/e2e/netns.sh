# SPDX-License-Identifier: GPL-2.0-or-later
# Test network for portleased, sourced by the e2e tests and the demo.
#
#   lan1 $LAN_NET.10 ─┐
#                     ├─ br-lan $LAN_NET.1 [router] $ROUTER_WAN_IF 203.0.113.1 ── wan 203.0.113.20
#   lan2 $LAN_NET.11 ─┘                                                           and .21
#
# IPv6 alongside, on documentation prefixes: the LAN is $LAN6_NET::/64
# (router ::1, lan1 ::10, lan2 ::11), the WAN 2001:db8:ff::/64 (router ::1,
# wan ::20 and ::21).
#
# LAN_NET (default 192.168.77) and ROUTER_WAN_IF (default wan0) may be set
# before sourcing. Namespace names carry the caller's PID so runs never
# collide. Everything is removed by net_teardown, which callers run from an
# EXIT trap.

NET_ID="pl$$"
NS_ROUTER="${NET_ID}-router"
NS_LAN1="${NET_ID}-lan1"
NS_LAN2="${NET_ID}-lan2"
NS_WAN="${NET_ID}-wan"
NS_OUTER="${NET_ID}-outer"  # net_setup_double_nat's router in front of ours
LAN_NET=${LAN_NET:-192.168.77}
ROUTER_WAN_IF=${ROUTER_WAN_IF:-wan0}
ROUTER_LAN_IP=$LAN_NET.1
WAN_NET=${WAN_NET:-203.0.113}  # the benchmark's is not a documentation range
ROUTER_WAN_IP=$WAN_NET.1
LAN1_IP=$LAN_NET.10
LAN2_IP=$LAN_NET.11
WAN_IP=$WAN_NET.20
WAN_IP2=$WAN_NET.21  # a second remote host, on the same WAN namespace
LAN6_NET=${LAN6_NET:-2001:db8:77}
ROUTER_LAN_IP6=$LAN6_NET::1
LAN1_IP6=$LAN6_NET::10
LAN2_IP6=$LAN6_NET::11
ROUTER_WAN_IP6=2001:db8:ff::1
WAN_IP6=2001:db8:ff::20
WAN_IP6_2=2001:db8:ff::21

in_router() { ip netns exec "$NS_ROUTER" "$@"; }
in_lan1()   { ip netns exec "$NS_LAN1" "$@"; }
in_lan2()   { ip netns exec "$NS_LAN2" "$@"; }
in_wan()    { ip netns exec "$NS_WAN" "$@"; }
in_outer()  { ip netns exec "$NS_OUTER" "$@"; }
# mac_of NS: the link-layer address of a host's eth0, by which the router
# tells its addresses to one host.
mac_of()    { ip -n "$1" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

net_setup() {
	for ns in "$NS_ROUTER" "$NS_LAN1" "$NS_LAN2" "$NS_WAN"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done

	ip -n "$NS_ROUTER" link add br-lan type bridge
	ip -n "$NS_ROUTER" addr add "$ROUTER_LAN_IP/24" dev br-lan
	ip -n "$NS_ROUTER" link set br-lan up
	for host in lan1 lan2; do
		ns="${NET_ID}-$host"
		ip link add "${NET_ID}$host" netns "$NS_ROUTER" type veth peer name eth0 netns "$ns"
		ip -n "$NS_ROUTER" link set "${NET_ID}$host" master br-lan up
		ip -n "$ns" link set eth0 up
	done
	ip -n "$NS_LAN1" addr add "$LAN1_IP/24" dev eth0
	ip -n "$NS_LAN2" addr add "$LAN2_IP/24" dev eth0
	ip -n "$NS_LAN1" route add default via "$ROUTER_LAN_IP"
	ip -n "$NS_LAN2" route add default via "$ROUTER_LAN_IP"
	ip -n "$NS_ROUTER" addr add "$ROUTER_LAN_IP6/64" dev br-lan nodad
	ip -n "$NS_LAN1" addr add "$LAN1_IP6/64" dev eth0 nodad
	ip -n "$NS_LAN2" addr add "$LAN2_IP6/64" dev eth0 nodad
	ip -n "$NS_LAN1" -6 route add default via "$ROUTER_LAN_IP6"
	ip -n "$NS_LAN2" -6 route add default via "$ROUTER_LAN_IP6"

	ip link add "${NET_ID}wan" netns "$NS_ROUTER" type veth peer name eth0 netns "$NS_WAN"
	ip -n "$NS_ROUTER" link set "${NET_ID}wan" name "$ROUTER_WAN_IF"
	ip -n "$NS_ROUTER" addr add "$ROUTER_WAN_IP/24" dev "$ROUTER_WAN_IF"
	ip -n "$NS_ROUTER" link set "$ROUTER_WAN_IF" up
	ip -n "$NS_WAN" addr add "$WAN_IP/24" dev eth0
	ip -n "$NS_WAN" addr add "$WAN_IP2/24" dev eth0
	ip -n "$NS_WAN" link set eth0 up
	ip -n "$NS_ROUTER" addr add "$ROUTER_WAN_IP6/64" dev "$ROUTER_WAN_IF" nodad
	ip -n "$NS_WAN" addr add "$WAN_IP6/64" dev eth0 nodad
	ip -n "$NS_WAN" addr add "$WAN_IP6_2/64" dev eth0 nodad
	ip -n "$NS_WAN" -6 route add "$LAN6_NET::/64" via "$ROUTER_WAN_IP6"

	in_router sysctl -qw net.ipv4.ip_forward=1
	in_router sysctl -qw net.ipv6.conf.all.forwarding=1
	# A bridge must not hand frames to netfilter's bridge hooks in tests.
	in_router sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
	return 0
}

# Double NAT (issue 23): net_setup's network with another router in front
# of ours, which holds the WAN address; ours is on a carrier's network.
#
#   lan1, lan2 ── [router] $ROUTER_WAN_IF $ROUTER_CARRIER_IP ── lan0 $OUTER_LAN_IP [outer] wan0 203.0.113.1 ── wan
CARRIER_NET=100.64.0
OUTER_LAN_IP=$CARRIER_NET.1
ROUTER_CARRIER_IP=$CARRIER_NET.2
net_setup_double_nat() {
	net_setup || return 1
	ip netns add "$NS_OUTER" || return 1
	ip -n "$NS_OUTER" link set lo up
	# Our router's WAN link now leads to the outer router.
	ip -n "$NS_ROUTER" link del "$ROUTER_WAN_IF"
	ip link add "${NET_ID}cgn" netns "$NS_ROUTER" type veth peer name lan0 netns "$NS_OUTER"
	ip -n "$NS_ROUTER" link set "${NET_ID}cgn" name "$ROUTER_WAN_IF"
	ip -n "$NS_ROUTER" addr add "$ROUTER_CARRIER_IP/24" dev "$ROUTER_WAN_IF"
	ip -n "$NS_ROUTER" link set "$ROUTER_WAN_IF" up
	ip -n "$NS_ROUTER" route add default via "$OUTER_LAN_IP"
	ip -n "$NS_OUTER" addr add "$OUTER_LAN_IP/24" dev lan0
	ip -n "$NS_OUTER" link set lan0 up
	ip link add "${NET_ID}out" netns "$NS_OUTER" type veth peer name eth0 netns "$NS_WAN"
	ip -n "$NS_OUTER" link set "${NET_ID}out" name wan0
	ip -n "$NS_OUTER" addr add "$ROUTER_WAN_IP/24" dev wan0
	ip -n "$NS_OUTER" link set wan0 up
	ip -n "$NS_WAN" addr add "$WAN_IP/24" dev eth0
	ip -n "$NS_WAN" addr add "$WAN_IP2/24" dev eth0
	ip -n "$NS_WAN" link set eth0 up
	in_outer sysctl -qw net.ipv4.ip_forward=1
	return 0
}

net_teardown() {
	for ns in "$NS_ROUTER" "$NS_LAN1" "$NS_LAN2" "$NS_WAN" "$NS_OUTER"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# write_router_config FILE [extra libconfig lines]: a config for this network.
write_router_config() {
	file=$1; shift
	cat > "$file" <<CONF
external_interface = "$ROUTER_WAN_IF";
lan_interfaces = [ "br-lan" ];
lifetime = { min = 1; max = 3600; };
control = { socket = "$WORK/control.sock"; };
metrics = { listen = "$ROUTER_LAN_IP:9737"; };
lease_file = "$WORK/leases";
static_file = "$WORK/static";
user = "nobody";
policy = (
  { action = "deny";  clients = "$LAN2_IP"; internal_ports = 2222; },
  { action = "deny";  external_ports = "1-1023"; },
  { action = "allow"; clients = "$LAN_NET.0/24";
    internal_ports = "1024-65535"; external_ports = "1024-65535"; },
  { action = "allow"; clients = "$LAN6_NET::/64"; internal_ports = "1024-65535"; }
);
$*
CONF
}

# write_outer_config FILE DIR [extra libconfig lines]: the outer router's
# portleased (net_setup_double_nat), serving the carrier's network, its
# control socket in DIR; OUTER_DENY: policy rules before its allow rule.
write_outer_config() {
	file=$1; dir=$2; shift 2
	cat > "$file" <<CONF
external_interface = "wan0";
lan_interfaces = [ "lan0" ];
lifetime = { min = 1; max = 3600; };
control = { socket = "$dir/control.sock"; };
static_file = "$dir/static";
lease_file = "";
user = "nobody";
upstream = { mode = "off"; };
policy = ( ${OUTER_DENY:-} { action = "allow"; clients = "$CARRIER_NET.0/24";
             internal_ports = "1024-65535"; external_ports = "1024-65535"; } );
$*
CONF
}

# The chains miniupnpd's nftables backend expects in the router (its
# nft_init.sh), for the reference test and the benchmark.
make_miniupnpd_chains() {
	in_router nft -f - <<'NFT'
table inet filter {
	chain forward { type filter hook forward priority filter; policy accept; jump miniupnpd; }
	chain miniupnpd { }
	chain prerouting { type nat hook prerouting priority dstnat; jump prerouting_miniupnpd; }
	chain postrouting { type nat hook postrouting priority srcnat; jump postrouting_miniupnpd; }
	chain prerouting_miniupnpd { }
	chain postrouting_miniupnpd { }
}
NFT
}

# start_portleased BINARY CONFIG LOG: runs the daemon in the router and waits
# until it listens. Sets PORTLEASED_PID.
start_portleased() {
	start_portleased_in "$NS_ROUTER" "$@"
}

# start_portleased_in NS DAEMON CONF LOG: the same in another namespace
# (an outer router's).
start_portleased_in() {
	ns=$1; shift
	# Not through in_router: a backgrounded shell function is a subshell,
	# and $! must be the daemon itself for the tests' signals. The log is
	# emptied first, here: the background job's own redirection may come
	# after the first look below, which would then find the "running" of a
	# daemon started before on the same log.
	: > "$3"
	ip netns exec "$ns" "$1" -d -v -f "$2" >> "$3" 2>&1 &
	PORTLEASED_PID=$!
	i=0
	while [ $i -lt 50 ]; do
		grep -q "running" "$3" 2>/dev/null && return 0
		kill -0 "$PORTLEASED_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	echo "portleased did not start:" >&2
	cat "$3" >&2
	return 1
}

# make_router_firewall TABLE: the router's own firewall, a table not
# portleased's: forward policy drop, admitting port forwards the way
# docs/nftables.md tells operators to (and fw4 does).
make_router_firewall() {
in_router nft -f - <<NFT
table inet $1 {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct status dnat accept
		meta mark & 0x10000000 == 0x10000000 accept
		iifname "br-lan" oifname "wan0" accept
	}
}
NFT
}

# make_neighbour_tables: tables not portleased's, made before it starts
# (they must come through untouched): the router's firewall with a set of
# its own, and the router's own source NAT for LAN hosts going out, into a
# port range other than theirs, so that PCP PEER has an implicit mapping
# to report.
make_neighbour_tables() {
	make_router_firewall neighbour
	in_router nft -f - <<'NFT'
add set inet neighbour keep { type ipv4_addr; elements = { 198.51.100.9 } }
table ip neighbour_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat;
		oifname "wan0" meta l4proto udp masquerade to :20000-20099
	}
}
NFT
}
