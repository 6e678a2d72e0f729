#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The command line: --check-config refuses a bad file with file:line and
# accepts the example.
# Usage: command_line.sh BUILD_DIR. Needs root; runnable alone
# (tests/e2e/scenario.sh BUILD_DIR command_line).
. "$(dirname "$0")/common.sh"

echo 'external_interface = "wan0"; lan_interfaces = [ "wan0" ]; policy = ();' > "$WORK/bad.conf"
out=$("$DAEMON" --check-config -f "$WORK/bad.conf" 2>&1); rc=$?
expect "--check-config refuses a bad file with file:line ($out)" \
	check '[ $rc -ne 0 ] && echo "$out" | grep -q "$WORK/bad.conf:1: '\''wan0'\'' is the external interface"'
out=$("$DAEMON" --check-config -f config/portleased.conf 2>&1); rc=$?
expect "--check-config accepts the example file ($out)" [ $rc -eq 0 ]

summary command_line
