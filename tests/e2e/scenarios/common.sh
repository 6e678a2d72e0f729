# SPDX-License-Identifier: GPL-2.0-or-later
# The start of every scenario (sourced first): its own namespaces, its own
# router config and firewall, its own portleased. A scenario then runs its
# checks and ends with `summary NAME`. BUILD_DIR is the scenario's first
# argument.
. "$(dirname "$0")/../prologue.sh"

NONCE_A=0102030405060708090a0b0c
NONCE_B=a1a2a3a4a5a6a7a8a9aaabac
pcp() { ns=$1; shift; ip netns exec "$ns" "$CTL" pcp -g "$ROUTER_LAN_IP" "$@"; }
ctl() { "$CTL" -s "$WORK/control.sock" "$@"; }

net_setup || { echo "not ok - cannot build the test network (need root, iproute2, veth and bridge)"; exit 1; }
# SCENARIO_CONFIG, if the scenario set it: config lines of its own.
write_router_config "$CONF" "${SCENARIO_CONFIG:-}"
# The router's firewall (netns.sh): someone else's tables, which must come
# through untouched, and a forward policy of drop, so that every traffic
# check runs through a drop-policy firewall.
make_neighbour_tables
NEIGHBOUR_BEFORE=$(in_router nft list table inet neighbour)
start_portleased "$DAEMON" "$CONF" "$LOG" || { echo "not ok - portleased did not start"; exit 1; }
