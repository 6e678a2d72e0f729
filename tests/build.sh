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
check() { eval "$1"; }

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
# make install and make uninstall into a staging root, the unit enabled
# in between: what is left is the configuration, and no dangling link.
STAGE=$(mktemp -d /tmp/portleased-stage.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
ARGS="BUILD=$BUILD HELPER_DIR=/usr/libexec/portleased PREFIX=/usr DESTDIR=$STAGE"
# shellcheck disable=SC2086 # ARGS is words
make --no-print-directory $ARGS install > "$STAGE.log" 2>&1
expect "make install stages the binaries, the helper in HELPER_DIR, the unit, the man pages" \
	check '[ -x "$STAGE/usr/sbin/portleased" ] && [ -x "$STAGE/usr/libexec/portleased/portleased-nft" ] &&
	       grep -q "^ExecReload=/usr/sbin/portleasectl reload$" "$STAGE/lib/systemd/system/portleased.service" &&
	       [ -f "$STAGE/usr/share/man/man8/portleased.8" ]'
mkdir -p "$STAGE/etc/systemd/system/multi-user.target.wants"
ln -s /lib/systemd/system/portleased.service "$STAGE/etc/systemd/system/multi-user.target.wants/"
# shellcheck disable=SC2086
make --no-print-directory $ARGS uninstall >> "$STAGE.log" 2>&1
left=$(cd "$STAGE" && find . \( -type f -o -type l \) | sort | tr '\n' ' ')
expect "make uninstall leaves the configuration alone, and no dangling link ($left)" \
	[ "$left" = "./etc/portleased.conf " ]
rm -f "$STAGE.log"
echo "build: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
