# SPDX-License-Identifier: GPL-2.0-or-later
# portleased — build, test, demo, install.
#
#   make demo     install what is missing, build, run the namespace demo
#   make check    install what is missing, unit tests, e2e tests, then both
#                 again built with ASan+UBSan
#   make install  PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc

VERSION    := 1.0.0
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
DESTDIR    ?=

BUILD ?= build
SAN   ?=

# Debian packages: to build, to test, to run the demo.
DEB_BUILD := gcc libc6-dev make pkg-config libevent-dev libconfig-dev libnftnl-dev libmnl-dev \
             libexpat1-dev
DEB_TEST  := check mandoc nftables iproute2 natpmpc miniupnpc socat procps miniupnpd-nftables conntrack \
             python3-gi gir1.2-gupnpigd-1.0 dnsmasq-base busybox stun-server isc-dhcp-client
DEB_FUZZ  := clang libclang-rt-14-dev
DEB_BENCH := gnuplot-nox iperf3
DEB_PKG   := debhelper dpkg-dev fakeroot lintian
DEB_SYSTEM := debootstrap systemd-container
DEB_ALL   := $(DEB_BUILD) $(DEB_TEST) $(DEB_FUZZ)

PKGS := libevent libconfig libnftnl libmnl expat

# The caller's flags (a distribution's dpkg-buildflags, say) are used as
# given, after ours, so theirs win; make check and CI build with WERROR=1,
# and so does a git checkout by default. A release tarball or a package
# build warns without failing on a newer compiler's new warnings.
CPPFLAGS ?=
CFLAGS   ?=
LDFLAGS  ?=
WERROR   ?= $(if $(wildcard .git),1,0)
WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wcast-qual -Wformat=2 $(if $(filter 1,$(WERROR)),-Werror)
# Hardening that the caller's flags have not chosen already: a second
# _FORTIFY_SOURCE of another level is an error, not a choice.
CALLER_FLAGS := $(CPPFLAGS) $(CFLAGS)
ifeq ($(SAN),1)
  OPT      := -O1 -g -fno-omit-frame-pointer \
              -fsanitize=address,undefined -fno-sanitize-recover=all
  HARDEN   :=
  LDHARDEN := -fsanitize=address,undefined
else
  OPT      := -O2 -g
  HARDEN   := $(if $(findstring _FORTIFY_SOURCE,$(CALLER_FLAGS)),,-D_FORTIFY_SOURCE=2) \
              $(if $(findstring -fstack-protector,$(CALLER_FLAGS)),,-fstack-protector-strong) \
              $(if $(filter -fPIE -fpie -fPIC -fpic,$(CALLER_FLAGS)),,-fPIE)
  LDHARDEN := -pie -Wl,-z,relro,-z,now
endif

# Where portleased starts its helper portleased-nft from: beside its own
# executable (the build tree; both in SBINDIR when installed) unless a
# directory is set at build time, such as HELPER_DIR=/usr/libexec/portleased.
HELPER_DIR ?=

# Deferred (=) so that pkg-config runs only after `make deps` has had a
# chance to install it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CHECK_LIBS = $(shell pkg-config --libs check)

ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(OPT) $(HARDEN) -I. \
             -DPORTLEASED_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(LDHARDEN) $(LDFLAGS)

CORE_SRCS := lib/log.c lib/text.c lib/addr.c lib/parse.c lib/gateway.c daemon/host.c daemon/neigh_table.c daemon/device_names.c daemon/approvals.c priv/own_addr.c daemon/audit.c daemon/ratelimit.c lib/datagram.c daemon/control.c daemon/metrics.c priv/filter.c config/policy.c lib/portset.c \
             daemon/lease.c daemon/leasefile.c daemon/pmp/natpmp.c daemon/pmp/pcp.c config/config.c config/static_file.c \
             daemon/upnp/http.c daemon/upnp/soap.c daemon/upnp/igd_desc.c daemon/upnp/ssdp.c \
             daemon/upnp/gena.c daemon/upnp/control_point.c daemon/stun.c daemon/dhcp_option.c priv/priv.c
DAEMON_SRCS := $(CORE_SRCS) lib/ifaddr.c lib/nl_listener.c daemon/addr_watch.c daemon/neigh_watch.c daemon/device_files.c daemon/event_hook.c daemon/router_ports.c daemon/lease_store.c daemon/state_secret.c daemon/upstream.c daemon/upstream_upnp.c daemon/stun_probe.c daemon/mapper.c daemon/mapper_restore.c daemon/mapper_peer.c daemon/mapper_chain.c daemon/stream.c daemon/control_server.c daemon/metrics_server.c daemon/pmp/natpmp_answer.c \
               daemon/pmp/pcp_answer.c daemon/pmp/pmp_server.c \
               daemon/upnp/igd.c daemon/upnp/igd_pinhole.c daemon/upnp/gena_server.c \
               daemon/upnp/upnp_server.c daemon/upnp/upnp_http.c daemon/upnp/upnp_ssdp.c \
               daemon/nft_watch.c priv/forwards.c daemon/priv_client.c lib/privdrop.c daemon/sd_notify.c daemon/main.c
# The privileged half: nftables and conntrack, and the checks before them;
# none of the parsers of what LAN hosts send, no libevent, no expat.
HELPER_SRCS := lib/log.c lib/text.c lib/addr.c lib/parse.c lib/ifaddr.c lib/neigh_get.c lib/privdrop.c \
               config/config.c config/static_file.c config/policy.c \
               priv/priv.c priv/own_addr.c priv/filter.c priv/forwards.c \
               nft/nft.c nft/nft_ruleset.c nft/nft_firewall.c nft/nft_elements.c \
               nft/conntrack.c nft/helper_serve.c nft/helper.c
HELPER_PKGS := libconfig libnftnl libmnl
UNIT_SUITES := addr parse gateway control_point stun dhcp_option log answer helper neigh_table device_names approvals event_hook own_addr static_file text router_ports forwards audit ratelimit metrics leasefile nft_watch priv datagram control filter policy portset lease natpmp pcp config mapper http soap igd ssdp gena

CORE_OBJS   := $(CORE_SRCS:%.c=$(BUILD)/%.o)
MAPPER_OBJS := $(BUILD)/daemon/mapper.o $(BUILD)/daemon/mapper_restore.o $(BUILD)/daemon/mapper_peer.o \
               $(BUILD)/daemon/mapper_chain.o
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
HELPER_OBJS := $(HELPER_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS   := $(UNIT_SUITES:%=$(BUILD)/tests/unit/check_%)
PROBE       := $(BUILD)/tests/e2e/natpmp_probe
PRIV_PROBE  := $(BUILD)/tests/e2e/priv_probe
LOADGEN     := $(BUILD)/tests/bench/loadgen
CTL_OBJS    := $(BUILD)/ctl/portleasectl.o $(BUILD)/ctl/control_client.o $(BUILD)/lib/addr.o \
               $(BUILD)/lib/parse.o \
               $(BUILD)/config/static_file.o \
               $(BUILD)/daemon/pmp/natpmp.o $(BUILD)/daemon/pmp/pcp.o

.SECONDARY:
.PHONY: all deps npm-deps bench check build-check deb check-system unit docs-check fuzz fuzz-check unit-asan e2e e2e-asan demo install uninstall clean
.DEFAULT_GOAL := all

all: $(BUILD)/portleased $(BUILD)/portleased-nft $(BUILD)/portleasectl $(PROBE) $(PRIV_PROBE) $(LOADGEN)

deps:
	@missing=""; \
	for p in $(DEB_ALL); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run make deps as root)"; exit 1; fi; \
	  echo "== installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/tests/unit/%.o: ALL_CFLAGS += -Itests/unit
$(BUILD)/daemon/priv_client.o: ALL_CFLAGS += $(if $(HELPER_DIR),-DPORTLEASED_HELPER_DIR='"$(HELPER_DIR)"')

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/portleased: $(DAEMON_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/portleased-nft: $(HELPER_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(HELPER_PKGS))

$(BUILD)/portleasectl: $(CTL_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

$(BUILD)/tests/unit/check_%: $(BUILD)/tests/unit/check_%.o $(BUILD)/tests/unit/unit.o $(CORE_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# The mapper against a fake backend; the real one is covered end to end.
$(BUILD)/tests/unit/check_mapper: $(BUILD)/tests/unit/check_mapper.o $(BUILD)/tests/unit/unit.o $(CORE_OBJS) \
		$(MAPPER_OBJS) $(BUILD)/tests/unit/fake_nft.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# The helper's serving of requests, on the fake backend.
$(BUILD)/tests/unit/check_helper: $(BUILD)/tests/unit/check_helper.o $(BUILD)/tests/unit/unit.o \
		$(CORE_OBJS) $(BUILD)/lib/ifaddr.o $(BUILD)/priv/forwards.o $(BUILD)/nft/helper_serve.o \
		$(BUILD)/tests/unit/fake_nft.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# NAT-PMP's and PCP's decision tables, through the mapper on the fake backend.
$(BUILD)/tests/unit/check_answer: $(BUILD)/tests/unit/check_answer.o $(BUILD)/tests/unit/unit.o \
		$(CORE_OBJS) $(MAPPER_OBJS) $(BUILD)/daemon/pmp/natpmp_answer.o \
		$(BUILD)/daemon/pmp/pcp_answer.o $(BUILD)/tests/unit/fake_nft.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

$(BUILD)/tests/unit/check_igd: $(BUILD)/tests/unit/check_igd.o $(BUILD)/tests/unit/unit.o $(CORE_OBJS) \
		$(MAPPER_OBJS) $(BUILD)/daemon/upnp/igd.o $(BUILD)/daemon/upnp/igd_pinhole.o \
		$(BUILD)/tests/unit/fake_nft.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# on_event's environment, and its command run for real.
$(BUILD)/tests/unit/check_event_hook: $(BUILD)/tests/unit/check_event_hook.o \
		$(BUILD)/tests/unit/unit.o $(CORE_OBJS) $(BUILD)/daemon/event_hook.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# The sock_diag answer's reading, without the kernel.
$(BUILD)/tests/unit/check_router_ports: $(BUILD)/tests/unit/check_router_ports.o \
		$(BUILD)/tests/unit/unit.o $(CORE_OBJS) $(BUILD)/daemon/router_ports.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# The operator's forwarding rules read, on rules built by hand.
$(BUILD)/tests/unit/check_forwards: $(BUILD)/tests/unit/check_forwards.o \
		$(BUILD)/tests/unit/unit.o $(CORE_OBJS) $(BUILD)/priv/forwards.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# The notification parser, on hand-made messages.
$(BUILD)/tests/unit/check_nft_watch: $(BUILD)/tests/unit/check_nft_watch.o $(BUILD)/tests/unit/unit.o \
		$(CORE_OBJS) $(BUILD)/daemon/nft_watch.o $(BUILD)/priv/forwards.o $(BUILD)/lib/nl_listener.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

$(PROBE): $(BUILD)/tests/e2e/natpmp_probe.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^

$(PRIV_PROBE): $(BUILD)/tests/e2e/priv_probe.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^

$(LOADGEN): $(BUILD)/tests/bench/loadgen.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# Fuzzing with libFuzzer (clang), every target under ASan+UBSan, on the pure
# modules and nft_watch's parser. `make fuzz` runs each FUZZ_SECONDS and
# keeps what it finds in tests/fuzz/corpus; make check runs each a few
# seconds on a copy, so that a regression fails CI. libconfig itself leaks
# a scanner buffer on some malformed files (its bug, once per load of an
# operator's file), so fuzz_config does not hunt leaks.
FUZZ_TARGETS := natpmp pcp ssdp http soap control_point stun dhcp_option control leasefile device_names nft_watch priv config
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 4
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined -I. \
                -Itests/fuzz -DPORTLEASED_VERSION='"$(VERSION)"'
FUZZ_OBJS    := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(CORE_SRCS) daemon/nft_watch.c priv/forwards.c lib/nl_listener.c)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p tests/fuzz/corpus/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  case $$t in config) extra=-detect_leaks=0; leaks=0 ;; *) extra=; leaks=1 ;; esac; \
	  ASAN_OPTIONS=detect_leaks=$$leaks $(FUZZ_BUILD)/fuzz_$$t $$extra -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 \
	    -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- tests/fuzz/corpus/$$t; \
	done

fuzz-check: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_BUILD)/corpus/$$t; mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  cp tests/fuzz/corpus/$$t/* $(FUZZ_BUILD)/corpus/$$t/ 2>/dev/null || true; \
	  case $$t in config) extra=-detect_leaks=0; leaks=0 ;; *) extra=; leaks=1 ;; esac; \
	  ASAN_OPTIONS=detect_leaks=$$leaks $(FUZZ_BUILD)/fuzz_$$t $$extra -max_total_time=$(FUZZ_CHECK_SECONDS) -rss_limit_mb=1024 \
	    -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $(FUZZ_BUILD)/corpus/$$t 2> $(FUZZ_BUILD)/fuzz_$$t.log \
	    || { echo "not ok - fuzz_$$t found a crash:"; tail -n 40 $(FUZZ_BUILD)/fuzz_$$t.log; exit 1; }; \
	  echo "ok - fuzz_$$t: $$(grep -o 'Done [0-9]* runs' $(FUZZ_BUILD)/fuzz_$$t.log) in $(FUZZ_CHECK_SECONDS) s, no crash"; \
	done

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do CK_FORK=yes $$t; done

# --help and the man pages name the same options and commands.
docs-check: all
	sh tests/docs.sh $(BUILD)

# The same suites under AddressSanitizer and UndefinedBehaviorSanitizer; the
# e2e run also puts the daemon's netlink and socket code under them, and
# LeakSanitizer checks its shutdown path.
unit-asan:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN=1 unit

e2e-asan:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN=1 e2e

# The client libraries from npm that tests/e2e/scenarios/clients.sh runs, at the
# versions tests/clients/package-lock.json pins; Debian's Node.js and npm
# where the machine has none.
npm-deps:
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory deps DEB_ALL="nodejs npm"
	@[ -d tests/clients/node_modules ] || \
	  (cd tests/clients && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

e2e: all npm-deps
	sh tests/e2e/scenario.sh $(BUILD)

# portleased against Debian's miniupnpd, same network, same load, one run;
# QUICK=1 for a short one. Results: $(BUILD)/bench/results.md and plots.
QUICK ?= 0
bench:
	@$(MAKE) --no-print-directory deps DEB_ALL="$(DEB_ALL) $(DEB_BENCH)"
	@$(MAKE) --no-print-directory all
	sh tests/bench/bench.sh $(BUILD) $(BUILD)/bench $(QUICK)

# The Debian package (debian/): portleased and portleased-dbgsym, built with
# Debian's flags from a copy of the tree in $(BUILD)/deb/src (the packages
# land beside it, in $(BUILD)/deb), then lintian on them.
deb:
	@$(MAKE) --no-print-directory deps DEB_ALL="$(DEB_BUILD) check $(DEB_PKG)"
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	tar -cf - --exclude=./build --exclude=./$(BUILD) --exclude=./.git \
	  --exclude=./tests/clients/node_modules . | tar -xf - -C $(BUILD)/deb/src
	cd $(BUILD)/deb/src && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning --info $(BUILD)/deb/portleased_$(VERSION)_*.changes

# The package under a real systemd: a fresh Debian 12 root (debootstrap
# from the Debian mirror, cached in $(BUILD)/system) booted with
# systemd-nspawn; tests/system/run.sh.
check-system:
	@$(MAKE) --no-print-directory deps DEB_ALL="$(DEB_BUILD) check $(DEB_PKG) $(DEB_SYSTEM)"
	@$(MAKE) --no-print-directory deb
	sh tests/system/run.sh $(BUILD)

check:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory WERROR=1 unit
	@$(MAKE) --no-print-directory WERROR=1 docs-check
	@$(MAKE) --no-print-directory WERROR=1 build-check
	@$(MAKE) --no-print-directory check-system
	@$(MAKE) --no-print-directory WERROR=1 fuzz-check
	@$(MAKE) --no-print-directory WERROR=1 e2e
	@$(MAKE) --no-print-directory WERROR=1 unit-asan
	@$(MAKE) --no-print-directory WERROR=1 e2e-asan
	@echo "== make check: all passed"

# The build a distribution makes: Debian's flags (dpkg-buildflags on
# Debian 12, hardening=+all), the helper in a libexec directory; still
# without a warning.
PACKAGER_FLAGS := CPPFLAGS="-Wdate-time -D_FORTIFY_SOURCE=3" \
                  CFLAGS="-g -O2 -ffile-prefix-map=$(CURDIR)=. -fstack-protector-strong \
                          -fstack-clash-protection -fcf-protection -Wformat -Werror=format-security" \
                  LDFLAGS="-Wl,-z,relro -Wl,-z,now" HELPER_DIR=/usr/libexec/portleased
build-check:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/packager $(PACKAGER_FLAGS) \
	  $(BUILD)/packager/portleased $(BUILD)/packager/portleased-nft $(BUILD)/packager/portleasectl
	@sh tests/build.sh $(BUILD)/packager

demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	sh tests/e2e/demo.sh $(BUILD)

install: $(BUILD)/portleased $(BUILD)/portleased-nft $(BUILD)/portleasectl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/portleased $(DESTDIR)$(SBINDIR)/portleased
	install -d $(DESTDIR)$(or $(HELPER_DIR),$(SBINDIR))
	install -m 0755 $(BUILD)/portleased-nft $(DESTDIR)$(or $(HELPER_DIR),$(SBINDIR))/portleased-nft
	@# The user portleased becomes when started as root (config 'user').
	if [ -z "$(DESTDIR)" ] && ! id -u portleased >/dev/null 2>&1; then \
	  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin portleased; \
	fi
	install -m 0755 $(BUILD)/portleasectl $(DESTDIR)$(SBINDIR)/portleasectl
	[ -e $(DESTDIR)$(SYSCONFDIR)/portleased.conf ] || \
	  install -m 0644 config/portleased.conf $(DESTDIR)$(SYSCONFDIR)/portleased.conf
	sed 's|@SBINDIR@|$(SBINDIR)|; s|@SYSCONFDIR@|$(SYSCONFDIR)|' systemd/portleased.service.in \
	  > $(DESTDIR)$(UNITDIR)/portleased.service
	install -m 0644 docs/portleased.8 $(DESTDIR)$(MANDIR)/man8/portleased.8
	install -m 0644 docs/portleasectl.8 $(DESTDIR)$(MANDIR)/man8/portleasectl.8
	install -m 0644 docs/portleased.conf.5 $(DESTDIR)$(MANDIR)/man5/portleased.conf.5

# An enabled unit leaves a link behind in multi-user.target.wants: the
# link goes with the unit (systemctl disable where systemd runs).
uninstall:
	-[ -n "$(DESTDIR)" ] || ! [ -d /run/systemd/system ] || systemctl disable portleased.service 2>/dev/null
	rm -f $(DESTDIR)$(SYSCONFDIR)/systemd/system/multi-user.target.wants/portleased.service
	rm -f $(DESTDIR)$(SBINDIR)/portleased $(DESTDIR)$(or $(HELPER_DIR),$(SBINDIR))/portleased-nft \
	  $(DESTDIR)$(SBINDIR)/portleasectl \
	  $(DESTDIR)$(UNITDIR)/portleased.service \
	  $(DESTDIR)$(MANDIR)/man8/portleased.8 $(DESTDIR)$(MANDIR)/man8/portleasectl.8 \
	  $(DESTDIR)$(MANDIR)/man5/portleased.conf.5

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -path $(BUILD)/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
