#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What a packager checks of a build made with a distribution's flags
# (make build-check): each binary hardened (PIE, full RELRO, stack
# protector, fortified calls), and the daemon looking for its helper where
# HELPER_DIR put it. Usage: build.sh BUILD_DIR.
BUILD=${1:-build/packager}
PASSED=0
FAILED=0
expect() { desc=$1; shift; if "$@"; then PASSED=$((PASSED + 1)); echo "ok - $desc"; else FAILED=$((FAILED + 1)); echo "not ok - $desc"; fi; }

for bin in portleased portleased-nft portleasectl; do
	f="$BUILD/$bin"
	header=$(readelf -h "$f" 2>/dev/null)
	dynamic=$(readelf -d "$f" 2>/dev/null)
	segments=$(readelf -lW "$f" 2>/dev/null)
	symbols=$(nm -D "$f" 2>/dev/null)
	expect "$bin: position-independent, full RELRO (GNU_RELRO and BIND_NOW)" \
		sh -c 'echo "$1" | grep -q "Type: *DYN" && echo "$2" | grep -q GNU_RELRO &&
		       echo "$3" | grep -q "FLAGS.*BIND_NOW"' - "$header" "$segments" "$dynamic"
	expect "$bin: stack protector and fortified libc calls" \
		sh -c 'echo "$1" | grep -q " __stack_chk_fail" && echo "$1" | grep -q " __[a-z]*_chk"' - "$symbols"
done
expect "portleased starts its helper from HELPER_DIR (/usr/libexec/portleased)" \
	sh -c 'strings "$1" | grep -qx /usr/libexec/portleased' - "$BUILD/portleased"
echo "build: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
