# SPDX-License-Identifier: GPL-2.0-or-later
# The first lines of every scenario (sourced by scenarios/common.sh, and by
# the scenarios that set their router up themselves): the build's programs,
# the test network's names (netns.sh), a work directory, the harness and
# the helpers. LAN_NET, LAN6_NET and ROUTER_WAN_IF may be set before, and
# SCENARIO, which names the work directory. BUILD_DIR is the scenario's
# first argument.
set -u

BUILD=${1:-build}
DAEMON="$BUILD/portleased"
PROBE="$BUILD/tests/e2e/natpmp_probe"
CTL="$BUILD/portleasectl"
LOADGEN="$BUILD/tests/bench/loadgen"
HERE=$(dirname "$0")/..
. "$HERE/netns.sh"

WORK=$(mktemp -d "/tmp/portleased-${SCENARIO:-scenario}.XXXXXX")
CONF="$WORK/portleased.conf"
LOG="$WORK/portleased.log"
MSG_ID=0
. "$HERE/harness.sh"
. "$HERE/traffic.sh"
. "$HERE/helpers.sh"
