#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check-system: the Debian package under a real systemd. A fresh
# Debian 12 root (debootstrap from the Debian mirror, cached in
# BUILD/system/rootfs.tar) gets the package built by make deb, boots with
# systemd-nspawn, and portleased is started, used from a LAN namespace
# inside it, reloaded, filtered in the journal, stopped and purged, as an
# operator would. Usage: run.sh BUILD_DIR. Needs root; nothing outside the
# container's own network namespace is touched.
set -u

BUILD=${1:-build}
DEB=$(ls "$BUILD"/deb/portleased_*_amd64.deb 2>/dev/null | head -n 1)
CACHE="$BUILD/system/rootfs.tar"
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WORK=$(mktemp -d /tmp/portleased-system.XXXXXX)
ROOT="$WORK/root"
NSPAWN_PID=""
NSPAWN_MOUNTED=""
PASSED=0
FAILED=0

ok()   { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
expect() { desc=$1; shift; if "$@"; then ok "$desc"; else fail "$desc"; fi; }
check() { eval "$1"; }

cleanup() {
	if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		kill -TERM "$NSPAWN_PID" 2>/dev/null
		i=0
		while [ $i -lt 100 ] && kill -0 "$NSPAWN_PID" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
	fi
	[ -n "$NSPAWN_MOUNTED" ] && umount /run/systemd/nspawn 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -n "$DEB" ] || { echo "not ok - no package in $BUILD/deb: make deb first"; exit 1; }

# --- a fresh Debian 12 root ---------------------------------------------------
# What the package depends on comes from the mirror, as apt would fetch it;
# natpmpc and iproute2 play the LAN host, nftables shows the table.
PACKAGES=systemd,systemd-sysv,dbus,netbase,iproute2,nftables,natpmpc,procps,libconfig9,libevent-2.1-7,libnftnl11,libmnl0,libexpat1
mkdir -p "$ROOT"
if [ ! -f "$CACHE" ] || [ "$(cat "$CACHE.packages" 2>/dev/null)" != "$PACKAGES" ]; then
	echo "# debootstrap bookworm from $MIRROR (cached in $CACHE)"
	mkdir -p "$(dirname "$CACHE")"
	debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOT" "$MIRROR" \
		> "$WORK/debootstrap.log" 2>&1 ||
		{ echo "not ok - debootstrap failed:"; tail -n 20 "$WORK/debootstrap.log"; exit 1; }
	tar -C "$ROOT" -cf "$CACHE" . && echo "$PACKAGES" > "$CACHE.packages"
else
	tar -C "$ROOT" -xf "$CACHE"
fi
cp "$DEB" "$ROOT/tmp/portleased.deb"
out=$(chroot "$ROOT" dpkg -i /tmp/portleased.deb 2>&1)
expect "the package installs into a fresh Debian 12 ($(basename "$DEB"))" \
	check 'chroot "$ROOT" dpkg -s portleased 2>/dev/null | grep -q "^Status: install ok installed"'
expect "  with its system user, the unit, the helper in /usr/libexec/portleased" \
	check 'chroot "$ROOT" getent passwd portleased | grep -q ":/usr/sbin/nologin$" &&
	       [ -f "$ROOT/lib/systemd/system/portleased.service" ] &&
	       [ -x "$ROOT/usr/libexec/portleased/portleased-nft" ]'
expect "  installed, not enabled: the configuration comes first" \
	check '[ ! -e "$ROOT/etc/systemd/system/multi-user.target.wants/portleased.service" ]'

# The router's network inside the container: wan0, and lan0 towards a LAN
# host in a namespace of its own. Made by a unit, before portleased.
cat > "$ROOT/etc/systemd/system/testnet.service" <<'UNIT'
[Unit]
Description=the test router's interfaces
Before=portleased.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'ip link add wan0 type veth peer name wanpeer && ip addr add 203.0.113.1/24 dev wan0 && ip link set wan0 up && ip link set wanpeer up && ip netns add lan && ip link add lan0 type veth peer name lanpeer && ip link set lanpeer netns lan && ip addr add 192.168.77.1/24 dev lan0 && ip link set lan0 up && ip -n lan addr add 192.168.77.10/24 dev lanpeer && ip -n lan link set lanpeer up && ip -n lan link set lo up && ip -n lan route add default via 192.168.77.1'
[Install]
WantedBy=multi-user.target
UNIT
chroot "$ROOT" systemctl enable testnet.service > /dev/null 2>&1
cat > "$ROOT/etc/portleased.conf" <<'CONF'
external_interface = "wan0";
lan_interfaces = [ "lan0" ];
policy = (
  { action = "allow"; clients = "192.168.77.0/24"; internal_ports = "1024-65535";
    external_ports = "1024-65535"; }
);
on_event = { command = "/usr/local/bin/portleased-hook"; events = [ "granted" ]; };
CONF
# on_event's command, run as portleased inside the unit's sandbox: it may
# write where portleased may.
mkdir -p "$ROOT/usr/local/bin"
cat > "$ROOT/usr/local/bin/portleased-hook" <<'SH'
#!/bin/sh
echo "$PORTLEASED_EVENT $PORTLEASED_PROTOCOL $PORTLEASED_EXTERNAL_PORT $(id -un)" >> /run/portleased/hook.out
SH
chmod 755 "$ROOT/usr/local/bin/portleased-hook"

# --- boot ---------------------------------------------------------------------
# nspawn keeps its state under /run/systemd/nspawn: a tmpfs of ours, since
# the host has no systemd to own it; unmounted at the end.
mkdir -p /run/systemd/nspawn
mount -t tmpfs tmpfs /run/systemd/nspawn && NSPAWN_MOUNTED=1
SYSTEMD_NSPAWN_TMPFS_TMP=1 systemd-nspawn --boot --register=no --keep-unit --private-network \
	-D "$ROOT" -M portleased-test > "$WORK/console.log" 2>&1 &
NSPAWN_PID=$!
CPID=""
i=0
while [ $i -lt 300 ] && [ -z "$CPID" ]; do
	CPID=$(pgrep -P "$NSPAWN_PID" | head -n 1)
	sleep 0.1
	i=$((i + 1))
done
in_ct() { nsenter -t "$CPID" -m -u -i -n -p -- env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
state=""
i=0
while [ -n "$CPID" ] && [ $i -lt 60 ]; do
	state=$(in_ct systemctl is-system-running 2>/dev/null)
	case $state in running|degraded) break ;; esac
	sleep 0.5
	i=$((i + 1))
done
expect "the container boots systemd to \"$state\"" check '[ "$state" = running ] || [ "$state" = degraded ]'
[ -n "$CPID" ] || { tail -n 30 "$WORK/console.log"; exit 1; }

# --- start, use, reload, stop -------------------------------------------------
out=$(in_ct systemctl start portleased 2>&1); rc=$?
expect "systemctl start portleased: active (status $rc${out:+: $out})" \
	check '[ "$(in_ct systemctl is-active portleased)" = active ]'
expect "  as the user portleased, the helper alone with CAP_NET_ADMIN" \
	check '[ "$(in_ct stat -c %U /proc/$(in_ct pgrep -x portleased))" = portleased ] &&
	       in_ct grep -q "^CapEff:.*0000000000001000" /proc/$(in_ct pgrep -x portleased-nft)/status &&
	       in_ct grep -q "^CapEff:.*0000000000000000" /proc/$(in_ct pgrep -x portleased | head -n 1)/status'
got=$(in_ct ip netns exec lan natpmpc -g 192.168.77.1 -a 8080 8080 tcp 600 2>&1)
expect "a LAN host maps tcp 8080 with natpmpc" check 'echo "$got" | grep -q "^Mapped public port 8080 protocol TCP"'
expect "  the kernel holds it" check 'in_ct nft list map inet portleased fwd4 | grep -q "tcp . 8080 "'
i=0
until in_ct grep -q "^granted tcp 8080 portleased$" /run/portleased/hook.out 2>/dev/null || [ $i -ge 30 ]; do
	sleep 0.1; i=$((i + 1))
done
expect "  on_event ran its command, as portleased, inside the unit's sandbox" \
	in_ct grep -q "^granted tcp 8080 portleased$" /run/portleased/hook.out
status_shows() {
	i=0
	while [ $i -lt 30 ]; do
		in_ct systemctl status portleased --no-pager | grep -q "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
expect "  systemctl status shows what portleased holds (STATUS=), within a second" \
	status_shows "Status: \"1 mapping (0 IPv6 pinholes) for 1 host; external address 203.0.113.1\""
notice=$(in_ct journalctl -u portleased -p notice --no-pager -o cat)
info=$(in_ct journalctl -u portleased -p info --no-pager -o cat)
expect "journalctl -p notice: the audit line, not the chatter" \
	check 'echo "$notice" | grep -q "^audit event=granted origin=natpmp proto=tcp client=192.168.77.10 " &&
	       ! echo "$notice" | grep -q " running$" && echo "$info" | grep -q "^portleased .* running$"'
expect "  each line once, without a time of ours" \
	check '! echo "$info" | grep -qE "^[0-9]{2}:[0-9]{2}:[0-9]{2}"'
sed -i 's/{ action = "allow"; clients = "192.168.77.0\/24";/{ action = "deny"; clients = "192.168.77.10"; }, { action = "allow"; clients = "192.168.77.0\/24";/' "$ROOT/etc/portleased.conf"
out=$(in_ct systemctl reload portleased 2>&1); rc=$?
expect "systemctl reload with a policy that denies lan's host: done (status $rc), its mapping gone" \
	check '[ "$rc" = 0 ] && ! in_ct nft list map inet portleased fwd4 | grep -q "tcp . 8080 "'
echo "this is not libconfig" >> "$ROOT/etc/portleased.conf"
out=$(in_ct systemctl reload portleased 2>&1); rc=$?
warning=$(in_ct journalctl -u portleased -p warning --no-pager -o cat)
expect "a reload of a bad file fails (status $rc), the service stays active" \
	check '[ "$rc" != 0 ] && [ "$(in_ct systemctl is-active portleased)" = active ]'
expect "  and journalctl -p warning says why, with file:line" \
	check 'echo "$warning" | grep -q "reload failed, keeping the running configuration: /etc/portleased.conf:[0-9]*: "'
score=$(in_ct systemd-analyze security portleased --no-pager 2>/dev/null | sed -n 's/.*Overall exposure level for portleased.service: //p')
expect "systemd-analyze security: $score" check '[ -n "$score" ]'
in_ct systemctl stop portleased
expect "systemctl stop: the table is gone" check '! in_ct nft list tables | grep -q portleased'
expect "  the lease file stays, closed cleanly, the user's" \
	check 'in_ct head -n 1 /var/lib/portleased/leases | grep -q " clean=1$" &&
	       [ "$(in_ct stat -c %U /var/lib/portleased/leases)" = portleased ]'
out=$(in_ct dpkg --purge portleased 2>&1); rc=$?
expect "dpkg --purge: its state and configuration go (status $rc)" \
	check '[ "$rc" = 0 ] && [ ! -e "$ROOT/var/lib/portleased" ] && [ ! -e "$ROOT/etc/portleased.conf" ]'

echo
echo "system: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
