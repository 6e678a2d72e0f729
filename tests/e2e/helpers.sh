# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the e2e scenarios, sourced after netns.sh, harness.sh and
# traffic.sh; they use the script's LOG and PORTLEASED_PID.

# natpmpc_map NS PUBLIC PRIVATE PROTO LIFETIME: prints "PUBLIC LIFETIME" of
# the mapping natpmpc reports, or its failure line.
natpmpc_map() {
	out=$(ip netns exec "$1" natpmpc -g "$ROUTER_LAN_IP" -a "$2" "$3" "$4" "$5" 2>&1)
	echo "$out" | sed -n 's/^Mapped public port \([0-9]*\) protocol [A-Z]* to local port [0-9]* liftime \([0-9]*\)$/\1 \2/p'
	echo "$out" | grep -o 'failed : .*' || true
}

# reload: SIGHUP, then wait (at most 3 s) until the daemon logs the outcome.
reload() {
	before=$(grep -cE 'configuration reloaded|reload failed' "$LOG")
	kill -HUP "$PORTLEASED_PID"
	i=0
	while [ $i -lt 30 ] && [ "$(grep -cE 'configuration reloaded|reload failed' "$LOG")" = "$before" ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

nft_elements() { in_router nft list map inet portleased fwd4 2>/dev/null | grep -c "$1"; }
# kernel_ports: "PROTO PORT" of each port forward the kernel holds.
kernel_ports() { in_router nft list map inet portleased fwd4 | grep -o '\(tcp\|udp\) \. [0-9]*' | sed 's/ \. / /' | sort; }

# json_ports: "PROTO PORT" of each unfiltered IPv4 mapping in list --json.
json_ports() { sed 's/},{/\n/g' | grep '"remote_filters":0' | sed -n 's/.*"protocol":"\([a-z]*\)","external_port":\([0-9]*\),.*/\1 \2/p' | sort; }
