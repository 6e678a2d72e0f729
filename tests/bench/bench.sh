#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench: portleased and Debian's miniupnpd (miniupnpd-nftables), one
# after the other, on the same namespace topology, with the same allowlist
# and the same load (tests/bench/loadgen). Usage: bench.sh BUILD_DIR OUT_DIR
# [QUICK]. Needs root. Writes OUT_DIR/results.tsv (one line per measure:
# name, unit, portleased, miniupnpd) and OUT_DIR/results.md; every step of
# the reference has a time budget, past which it reads "budget". "install N
# mappings" times the step from the previous count to N.
#
# miniupnpd 2.3.1 refuses a reserved external address, so the benchmark's
# WAN link uses 100.128.0.0/24: public space, but it exists only on the
# veth pair between the benchmark's own namespaces, which have no route
# anywhere else.
set -u

BUILD=${1:-build}
OUT=${2:-build/bench}
QUICK=${3:-0}
HERE=$(dirname "$0")
LOADGEN="$BUILD/tests/bench/loadgen"
MINIUPNPD=${MINIUPNPD:-/usr/sbin/miniupnpd}
WAN_NET=100.128.0
ROUTER_WAN_IF=wan0
LAN_NET=192.168.90
. "$HERE/../e2e/netns.sh"

if [ "$QUICK" = 1 ]; then
	ROUNDS=1 DP_ROUNDS=1 LAT_N=50 TPUT_N=2000 SCALE="1000" BUDGET=10 DP_S=1 HELD_N=5000 EXPIRING_N=2000
	HELD_BUDGET=3 FLOOD_MS=1500 EXPIRING_LIFE=2 EXPIRING_BUDGET=2
else
	# The data path varies most between rounds on a shared machine.
	ROUNDS=3 DP_ROUNDS=5 LAT_N=200 TPUT_N=10000 SCALE="1000 10000 60000" BUDGET=40 DP_S=2 HELD_N=20000 EXPIRING_N=10000
	HELD_BUDGET=10 FLOOD_MS=3000 EXPIRING_LIFE=4 EXPIRING_BUDGET=5
fi
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/portleased-bench.XXXXXX)
chown nobody "$WORK"
trap 'net_teardown; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
RESULTS="$OUT/results.tsv"
: > "$WORK/portleased.tsv"
: > "$WORK/miniupnpd.tsv"

say() { printf '%s\n' "$*" >&2; }
# record NAME UNIT VALUE: one measure of the daemon under test.
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$WORK/$DAEMON.tsv"; say "  $DAEMON $1: $3 $2"; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "" }'; }

# pids of the daemon under test (portleased: both processes)
pids() {
	if [ "$DAEMON" = portleased ]; then echo "$DPID $(pgrep -P "$DPID" -x portleased-nft)"; else echo "$DPID"; fi
}
cpu_ticks() { t=0; for p in $(pids); do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo $t; }
rss_kb() { t=0; for p in $(pids); do t=$((t + $(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$p/status"))); done; echo $t; }
HZ=$(getconf CLK_TCK)

# load BUDGET_S ARGS...: loadgen from lan1, which stops at the budget and
# says incomplete=1.
load() { b=$1; shift; in_lan1 env LOADGEN_BUDGET_S="$b" timeout $((b + 10)) "$LOADGEN" "$@" 2>/dev/null; }
# complete LINE N: all N requests of the load were granted.
complete() { [ "$(field ok "$1")" = "$2" ]; }

start_daemon() {
	net_setup || { say "cannot build the network"; exit 1; }
	if [ "$DAEMON" = portleased ]; then
		# A fresh router: the last phase's lease file would bring its
		# mappings back, and this phase's requests would renew them.
		rm -f "$WORK/leases"
		write_router_config "$WORK/pl.conf" \
			'max_leases = 131070; max_leases_per_client = 131070; client_request_rate = { per_second = 0; };
			 upnp = { igd_version = 1; };'
		sed -i 's/lifetime = { min = 1; max = 3600; };/lifetime = { min = 1; max = 86400; };/' "$WORK/pl.conf"
		ip netns exec "$NS_ROUTER" "$BUILD/portleased" -d -f "$WORK/pl.conf" > "$WORK/pl.log" 2>&1 &
		DPID=$!
		ready='running'
		DLOG="$WORK/pl.log"
	else
		make_miniupnpd_chains
		cat > "$WORK/mu.conf" <<CONF
ext_ifname=$ROUTER_WAN_IF
listening_ip=br-lan
port=5000
enable_natpmp=yes
enable_upnp=yes
secure_mode=yes
uuid=3d5c0a2e-7d55-4b7e-9b5e-5f0b1f1c0a02
allow 1024-65535 $LAN_NET.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
		# As a router runs it: in the background, logging to syslog. (With
		# -d it writes a debug line per rule for every lookup and is ten
		# times slower.)
		rm -f "$WORK/mu.pid"
		ip netns exec "$NS_ROUTER" "$MINIUPNPD" -f "$WORK/mu.conf" -P "$WORK/mu.pid" > "$WORK/mu.log" 2>&1
		i=0
		while [ $i -lt 50 ] && [ ! -s "$WORK/mu.pid" ]; do sleep 0.1; i=$((i + 1)); done
		DPID=$(cat "$WORK/mu.pid" 2>/dev/null)
		sleep 0.5
		ready=
		DLOG="$WORK/mu.log"
	fi
	i=0
	while [ -n "$ready" ] && [ $i -lt 50 ] && ! grep -q "$ready" "$DLOG" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	if ! kill -0 "${DPID:-0}" 2>/dev/null || { [ -n "$ready" ] && ! grep -q "$ready" "$DLOG"; }; then
		say "$DAEMON did not start:"; cat "$DLOG" >&2; exit 1
	fi
}

stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	i=0
	while [ $i -lt 50 ] && kill -0 "$DPID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	net_teardown
}

# latency NAME PORT: p50 and p99 of one-at-a-time TCP map requests (NAT-PMP
# from PORT, PCP from PORT+1000, UPnP from PORT+2000), median of rounds;
# each round's mappings are deleted again (not timed).
SERVICE=urn:schemas-upnp-org:service:WANIPConnection:1
latency() {
	for proto in natpmp pcp upnp; do
		: > "$WORK/p50"; : > "$WORK/p99"
		r=0
		while [ $r -lt $ROUNDS ]; do
			base=$(($2 + r * LAT_N))
			case $proto in
			natpmp) line=$(load "$BUDGET" natpmp "$ROUTER_LAN_IP" map tcp $base "$LAT_N" 1 3600)
				load "$BUDGET" natpmp "$ROUTER_LAN_IP" delete tcp $base "$LAT_N" 8 0 > /dev/null ;;
			pcp) line=$(load "$BUDGET" pcp "$ROUTER_LAN_IP" "$LAN1_IP" $((base + 1000)) "$LAT_N" 1 3600)
				load "$BUDGET" pcp "$ROUTER_LAN_IP" "$LAN1_IP" $((base + 1000)) "$LAT_N" 8 0 > /dev/null ;;
			upnp) line=$(load "$BUDGET" upnp "$ROUTER_LAN_IP" 5000 $SERVICE "$LAN1_IP" $((base + 2000)) "$LAT_N" 1 3600)
				load "$BUDGET" upnp "$ROUTER_LAN_IP" 5000 $SERVICE "$LAN1_IP" $((base + 2000)) "$LAT_N" 8 delete > /dev/null ;;
			esac
			complete "$line" "$LAT_N" && field p50_us "$line" >> "$WORK/p50" && field p99_us "$line" >> "$WORK/p99"
			r=$((r + 1))
		done
		p50=$(median < "$WORK/p50"); p99=$(median < "$WORK/p99")
		record "$proto map latency p50, $1" us "${p50:-budget}"
		record "$proto map latency p99, $1" us "${p99:-budget}"
	done
}

# bound tcp|udp PORT: wait (at most 2 s) until lan1 listens there.
bound() {
	i=0
	while [ $i -lt 40 ] && ! in_lan1 ss -Hln --"$1" "sport = :$2" | grep -q .; do sleep 0.05; i=$((i + 1)); done
}

# datapath N: new connections and UDP packets from the WAN host to the
# last mapping, made now, with N others installed.
DP_PORT=65000
datapath() {
	DP_PORT=$((DP_PORT + 2))
	line=$(load 5 natpmp "$ROUTER_LAN_IP" map tcp $DP_PORT 1 1 3600)
	line2=$(load 5 natpmp "$ROUTER_LAN_IP" map udp $((DP_PORT + 1)) 1 1 3600)
	if ! complete "$line" 1 || ! complete "$line2" 1; then
		record "new TCP connections, $1 mappings" conn/s budget
		record "UDP packets, $1 mappings" pkt/s budget
		record "iperf3 TCP throughput, $1 mappings" Mbit/s budget
		return
	fi
	: > "$WORK/tcp"; : > "$WORK/udp"; : > "$WORK/iperf"
	r=0
	while [ $r -lt $DP_ROUNDS ]; do
		in_lan1 "$LOADGEN" tcp-sink $DP_PORT $((DP_S + 1)) > /dev/null &
		sink=$!
		bound tcp $DP_PORT
		line=$(in_wan "$LOADGEN" tcp-rate "$ROUTER_WAN_IP" $DP_PORT "$DP_S" 64)
		field rate "$line" >> "$WORK/tcp"
		wait $sink
		in_lan1 "$LOADGEN" udp-sink $((DP_PORT + 1)) $((DP_S + 1)) > "$WORK/udp-sink" &
		sink=$!
		bound udp $((DP_PORT + 1))
		in_wan "$LOADGEN" udp-rate "$ROUTER_WAN_IP" $((DP_PORT + 1)) "$DP_S" > /dev/null
		wait $sink
		field pps "$(cat "$WORK/udp-sink")" >> "$WORK/udp"
		# One TCP stream through the mapping: the receiver's rate.
		in_lan1 timeout $((DP_S + 5)) iperf3 -s -1 -p $DP_PORT > /dev/null 2>&1 &
		sink=$!
		bound tcp $DP_PORT
		in_wan timeout $((DP_S + 5)) iperf3 -c "$ROUTER_WAN_IP" -p $DP_PORT -t "$DP_S" -f m 2>/dev/null |
			awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i }' >> "$WORK/iperf"
		wait $sink
		r=$((r + 1))
	done
	record "new TCP connections, $1 mappings" conn/s "$(median < "$WORK/tcp")"
	record "UDP packets, $1 mappings" pkt/s "$(median < "$WORK/udp")"
	record "iperf3 TCP throughput, $1 mappings" Mbit/s "$(median < "$WORK/iperf")"
	# Hundreds of thousands of short flows: the kernel reaping them would
	# slow whatever is measured next.
	in_router conntrack -F > /dev/null 2>&1
}

bench_one() {
	say "== $DAEMON"
	start_daemon
	record "RSS idle" KiB "$(rss_kb)"
	latency idle 10000

	# Sustained: distinct ports, 64 outstanding.
	c0=$(cpu_ticks)
	line=$(load "$BUDGET" natpmp "$ROUTER_LAN_IP" map udp 2000 "$TPUT_N" 64 3600)
	c1=$(cpu_ticks)
	# Past the budget, the rate of what was answered in it.
	done_n=$(field ok "$line")
	record "sustained map requests ($TPUT_N, 64 outstanding)" req/s "$(field rate "$line")"
	record "daemon CPU per 1000 requests" s "$(echo "$c0 $c1 $HZ ${done_n:-0}" | awk '{ if ($4 > 0) printf "%.3f", ($2 - $1) / $3 * 1000 / $4; else print "budget" }')"
	# UPnP: as many connections as one host may hold open (8), each one
	# AddPortMapping, TCP ports from 20000.
	line=$(load "$BUDGET" upnp "$ROUTER_LAN_IP" 5000 $SERVICE "$LAN1_IP" 20000 "$TPUT_N" 8 3600)
	record "sustained UPnP map requests ($TPUT_N, 8 connections)" req/s "$(field rate "$line")"
	# Each phase on a fresh router: what one left unfinished must not slow
	# the next.
	stop_daemon
	start_daemon
	datapath 0
	have=0 done_all=1
	for n in $SCALE; do
		add=$((n - have))
		if [ $done_all = 1 ]; then
			line=$(load "$BUDGET" natpmp "$ROUTER_LAN_IP" map udp $((1024 + have)) "$add" 64 86400)
		else
			line="skipped"
		fi
		if complete "$line" "$add"; then
			record "install $n mappings" s "$(field elapsed_s "$line")"
			record "RSS with $n mappings" KiB "$(rss_kb)"
			have=$n
			if [ "$n" = 1000 ] || [ "$n" = 10000 ]; then
				datapath "$n"
			fi
			if [ "$n" = 10000 ]; then
				latency "10000 mappings" 62000
				# What every client does at half its lifetime.
				line=$(load "$BUDGET" natpmp "$ROUTER_LAN_IP" map udp 1024 "$n" 64 86400)
				if complete "$line" "$n"; then
					record "renew all 10000 mappings" s "$(field elapsed_s "$line")"
				else
					record "renew all 10000 mappings" s "budget ($(field ok "$line") of $n in ${BUDGET}s)"
				fi
			fi
		else
			if [ "$line" = skipped ]; then
				record "install $n mappings" s "skipped (an earlier step ran out of budget)"
			else
				record "install $n mappings" s "budget ($(field ok "$line") of $add more in ${BUDGET}s)"
			fi
			record "RSS with $n mappings" KiB "budget"
			done_all=0
			got=$(field ok "$line" 2>/dev/null)
			have=$((have + ${got:-0}))
		fi
	done
	if [ "$have" -gt 0 ]; then
		line=$(load "$BUDGET" natpmp "$ROUTER_LAN_IP" delete udp 1024 "$have" 64 0)
		if complete "$line" "$have"; then
			record "remove all installed mappings" s "$(field elapsed_s "$line")"
		else
			record "remove all installed mappings" s "budget ($(field ok "$line") of $have in ${BUDGET}s)"
		fi
	fi

	stop_daemon
	start_daemon
	# Expiry: a 2 s mapping, probed every 50 ms from the WAN.
	in_lan1 "$LOADGEN" tcp-sink 63000 8 > /dev/null &
	sink=$!
	bound tcp 63000
	line=$(load 5 natpmp "$ROUTER_LAN_IP" map tcp 63000 1 1 2)
	t0=$(date +%s%N)
	late=
	while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 7000 ]; do
		if ! in_wan "$LOADGEN" tcp-probe "$ROUTER_WAN_IP" 63000 200; then
			late=$(( ($(date +%s%N) - t0) / 1000000 - 2000 ))
			break
		fi
		sleep 0.05
	done
	wait $sink
	record "expiry: last new connection after the lifetime" ms "${late:-never}"

	# A second client's answers while the first floods denied requests.
	in_lan1 timeout 10 "$LOADGEN" natpmp "$ROUTER_LAN_IP" map tcp 80 900 64 3600 > /dev/null 2>&1 &
	flood=$!
	line=$(in_lan2 "$LOADGEN" gap "$ROUTER_LAN_IP" 5351 2000 10)
	wait $flood
	record "longest wait of another client under denied requests" us "$(field max_gap_us "$line")"

	# The same while the first floods "delete all my mappings", which
	# anyone may send and nothing rate-limits, with another host's
	# HELD_N mappings in the table (as many as the daemon makes in
	# HELD_BUDGET s).
	held=$(load $HELD_BUDGET natpmp "$ROUTER_LAN_IP" map udp 20000 $HELD_N 64 3600)
	in_lan2 "$LOADGEN" delete-all "$ROUTER_LAN_IP" $FLOOD_MS > /dev/null 2>&1 &
	flood=$!
	line=$(in_lan1 "$LOADGEN" gap "$ROUTER_LAN_IP" 5351 $((FLOOD_MS - 500)) 10)
	wait $flood
	record "mappings held under delete-all requests" mappings "$(field ok "$held")"
	record "longest wait of another client under delete-all requests" us "$(field max_gap_us "$line")"

	# And while EXPIRING_N mappings made together (as many as the daemon
	# makes in EXPIRING_BUDGET s) end together: the wait is timed until 2 s
	# past their lifetime.
	held=$(load $EXPIRING_BUDGET natpmp "$ROUTER_LAN_IP" map tcp 40000 $EXPIRING_N 64 $EXPIRING_LIFE)
	line=$(in_lan2 "$LOADGEN" gap "$ROUTER_LAN_IP" 5351 $(( (EXPIRING_LIFE + 2) * 1000 )) 5)
	record "mappings expiring together" mappings "$(field ok "$held")"
	record "longest wait of another client while they expire" us "$(field max_gap_us "$line")"
	stop_daemon
}

# Behind another NAT (issue 23; portleased only: miniupnpd does not chain):
# the router's WAN side is a carrier's network with an outer router, a
# portleased of its own, in front. A chained map request waits for the
# twin at the outer router; another client's answers must not wait for a
# dead upstream.
bench_chained() {
	say "== portleased behind another NAT"
	net_setup_double_nat || { say "cannot build the double-NAT network"; exit 1; }
	rm -f "$WORK/leases"
	mkdir -p "$WORK/outer"
	chown nobody "$WORK/outer"
	write_outer_config "$WORK/outer/pl.conf" "$WORK/outer" \
		'max_leases = 131070; max_leases_per_client = 131070; client_request_rate = { per_second = 0; };
		 upnp = { enable = false; };'
	sed -i 's/lifetime = { min = 1; max = 3600; };/lifetime = { min = 1; max = 86400; };/' "$WORK/outer/pl.conf"
	ip netns exec "$NS_OUTER" "$BUILD/portleased" -d -f "$WORK/outer/pl.conf" > "$WORK/outer/pl.log" 2>&1 &
	outer=$!
	write_router_config "$WORK/pl.conf" \
		'max_leases = 131070; max_leases_per_client = 131070; client_request_rate = { per_second = 0; };
		 upnp = { enable = false; };'
	sed -i 's/lifetime = { min = 1; max = 3600; };/lifetime = { min = 1; max = 86400; };/' "$WORK/pl.conf"
	ip netns exec "$NS_ROUTER" "$BUILD/portleased" -d -f "$WORK/pl.conf" > "$WORK/pl.log" 2>&1 &
	DPID=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q "upstream: PCP at" "$WORK/pl.log"; do sleep 0.1; i=$((i + 1)); done
	: > "$WORK/p50"; : > "$WORK/p99"
	r=0
	while [ $r -lt $ROUNDS ]; do
		base=$((10000 + r * LAT_N))
		line=$(load "$BUDGET" natpmp "$ROUTER_LAN_IP" map tcp $base "$LAT_N" 1 3600)
		complete "$line" "$LAT_N" && field p50_us "$line" >> "$WORK/p50" && field p99_us "$line" >> "$WORK/p99"
		load "$BUDGET" natpmp "$ROUTER_LAN_IP" delete tcp $base "$LAT_N" 8 0 > /dev/null
		r=$((r + 1))
	done
	p50=$(median < "$WORK/p50"); p99=$(median < "$WORK/p99")
	record "natpmp map latency p50, chained to an upstream" us "${p50:-budget}"
	record "natpmp map latency p99, chained to an upstream" us "${p99:-budget}"
	# The outer router stops answering: lan1's new mappings wait for it (8 s
	# at most each); lan2's questions are answered meanwhile.
	in_outer nft add table inet deaf
	in_outer nft add chain inet deaf input '{ type filter hook input priority 0; policy accept; }'
	in_outer nft add rule inet deaf input udp dport 5351 drop
	in_lan1 timeout 10 "$LOADGEN" natpmp "$ROUTER_LAN_IP" map tcp 30000 64 64 3600 > /dev/null 2>&1 &
	flood=$!
	line=$(in_lan2 "$LOADGEN" gap "$ROUTER_LAN_IP" 5351 2000 10)
	wait $flood
	record "longest wait of another client while the upstream is dead" us "$(field max_gap_us "$line")"
	kill -TERM "$DPID" "$outer" 2>/dev/null
	i=0
	while [ $i -lt 50 ] && kill -0 "$DPID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	net_teardown
}

DAEMON=portleased
bench_one
bench_chained
if [ -x "$MINIUPNPD" ]; then
	DAEMON=miniupnpd
	bench_one
fi

# results.tsv: name, unit, portleased, miniupnpd (joined by name)
awk -F'\t' 'NR == FNR { mu[$1] = $3; next } { print $1 "\t" $2 "\t" $3 "\t" (($1 in mu) ? mu[$1] : "-") }' \
	"$WORK/miniupnpd.tsv" "$WORK/portleased.tsv" > "$RESULTS"
{
	echo "| measure | unit | portleased | miniupnpd | ratio |"
	echo "|---|---|---:|---:|---:|"
	awk -F'\t' '{
		ratio = "-"
		# a count of mappings is a condition of a measure, not a result
		if ($2 != "mappings" && $3 ~ /^[0-9.]+$/ && $4 ~ /^[0-9.]+$/ && $3 > 0 && $4 > 0) {
			# how many times better portleased is: higher is better for rates
			r = ($2 ~ /\/s$/) ? $3 / $4 : $4 / $3
			ratio = sprintf("%.1f×", r)
		}
		print "| " $1 " | " $2 " | " $3 " | " $4 " | " ratio " |"
	}' "$RESULTS"
} > "$OUT/results.md"
cat "$OUT/results.md"

# Plots: what a mapping costs as they grow. series KEY_PATTERN COLUMN: the
# points "mappings value" of one daemon (3: portleased, 4: miniupnpd).
series() {
	awk -F'\t' -v pat="$1" -v col="$2" '$1 ~ pat && $col ~ /^[0-9.]+$/ {
		n = $1; sub(/.*, /, "", n); sub(/ mappings/, "", n); if (n == "idle") n = 0
		print n, $col }' "$RESULTS" | sort -n
}
plot() {  # plot FILE TITLE YLABEL PATTERN
	series "$4" 3 > "$WORK/pl.dat"
	series "$4" 4 > "$WORK/mu.dat"
	[ -s "$WORK/pl.dat" ] || return 0
	gnuplot <<GP
set terminal pngcairo size 720,420 noenhanced
set output "$1"
set title "$2"
set xlabel "mappings installed"
set ylabel "$3"
set logscale y
set key top right
set grid
plot "$WORK/pl.dat" using 1:2 with linespoints lw 2 title "portleased", \
     "$WORK/mu.dat" using 1:2 with linespoints lw 2 title "miniupnpd 2.3.1"
GP
}
if command -v gnuplot > /dev/null; then
	plot "$OUT/latency.png" "NAT-PMP map request latency (p50)" "microseconds" '^natpmp map latency p50'
	plot "$OUT/datapath-tcp.png" "New TCP connections from the WAN to the last mapping" \
		"connections per second" '^new TCP connections'
	plot "$OUT/datapath-udp.png" "UDP packets from the WAN to the last mapping" \
		"packets per second" '^UDP packets'
	plot "$OUT/datapath-iperf.png" "iperf3 TCP throughput from the WAN to the last mapping" \
		"Mbit/s" '^iperf3 TCP throughput'
fi
