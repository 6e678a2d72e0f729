/* SPDX-License-Identifier: GPL-2.0-or-later */
/* portleased: arguments, start-up, signals and event-loop wiring. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/addr_watch.h"
#include "daemon/lease_store.h"
#include "daemon/nft_watch.h"
#include "priv/forwards.h"
#include "priv/own_addr.h"
#include "daemon/control_server.h"
#include "daemon/metrics_server.h"
#include "lib/ifaddr.h"
#include "lib/log.h"
#include "daemon/mapper.h"
#include "daemon/pmp/pmp_server.h"
#include "daemon/upnp/upnp_server.h"
#include "priv/conntrack.h"
#include "priv/nft.h"
#include "daemon/priv_client.h"
#include "daemon/neigh_watch.h"
#include "daemon/device_files.h"
#include "daemon/event_hook.h"
#include "lib/privdrop.h"
#include "daemon/router_ports.h"
#include "daemon/sd_notify.h"
#include "daemon/upstream.h"

#ifndef PORTLEASED_VERSION
#define PORTLEASED_VERSION "1.0.0"
#endif

/* How often the mappings are reviewed against the router's own services,
 * which may start after a mapping took their port (no kernel notice tells
 * of a new listening socket); portleasectl list reviews them too. */
#define CONFLICT_REVIEW_SECONDS 30
/* The service manager hears of a change in our STATUS= within this (and
 * WATCHDOG=1 at half the interval it asks for). */
#define STATUS_MS 1000

struct daemon {
	const char *config_path;
	struct config cfg;
	struct event_base *base;
	struct nft *nft;
	struct conntrack *conntrack;
	struct router_ports *router_ports;  /* NULL without sock_diag */
	struct mapper *mapper;
	struct pmp_server *pmp;
	struct upnp_server *upnp;  /* NULL when upnp.enable is false */
	struct control_server *control;
	struct metrics_server *metrics;  /* NULL without metrics.listen */
	struct addr_watch *addr_watch;
	struct neigh_watch *neigh_watch;  /* NULL: every address is an unresolved host */
	struct device_files *device_files;  /* NULL: no device names */
	struct event_hook *event_hook;      /* on_event; NULL when memory was short */
	struct upstream *upstream;          /* the mapping service beyond our NAT */
	bool has_told;                      /* the external address clients were last told */
	struct in_addr told;
	struct own_addresses own;  /* every interface's, kept current by addr_watch */
	struct lease_store *leases;  /* NULL without a lease_file */
	struct nft_watch *nft_watch;
	struct event *rebuild_timer;
	/* The ports other tables forward, as the helper last read them. */
	struct forwarded_ports forwarded;
	bool has_forwarded;
	struct event *forwards_timer;
	/* The ports the router's own services took at the last review of the
	 * mappings (a service started after a mapping was granted). */
	struct port_bits served_tcp, served_udp;
	struct event *conflicts_timer;
	struct event *notify_timer;  /* systemd's watchdog and STATUS= */
	unsigned watchdog_ticks;     /* of notify_timer per WATCHDOG=1; 0: none */
	unsigned ticks;
	char status[192];            /* the STATUS= line systemd has */
	struct event *on_term, *on_int, *on_hup;
	bool running;  /* the loop was entered */
};

static struct host_id host_of(void *arg, const struct in6_addr *addr)
{
	struct daemon *d = arg;

	return neigh_watch_host(d->neigh_watch, addr);
}

static void upstream_of(void *arg, struct upstream_status *out)
{
	struct daemon *d = arg;

	if (d->upstream)
		upstream_status(d->upstream, out);
}

/* Mappings chained to the mapping service beyond our NAT (mapper_chain). */
static bool chain_ready(void *arg, struct in_addr *external, bool *has_external)
{
	struct daemon *d = arg;
	struct upstream_status st;

	if (!d->upstream)
		return false;
	upstream_status(d->upstream, &st);
	*has_external = st.has_external;
	if (st.has_external)
		*external = st.external;
	return st.state == UPSTREAM_FOUND;
}

static bool chain_map(void *arg, uint8_t proto, uint16_t port, uint16_t upstream_port,
		      uint32_t lifetime)
{
	struct daemon *d = arg;

	return d->upstream && upstream_map(d->upstream, proto, port, upstream_port, lifetime);
}

static void chain_answered(void *arg, const struct upstream_mapped *answer)
{
	struct daemon *d = arg;

	mapper_chain_answered(d->mapper, answer);
}

static void upstream_changed(void *arg, bool lost)
{
	struct daemon *d = arg;
	struct in_addr told;
	bool has_told = mapper_told_address(d->mapper, &told);

	mapper_chain_changed(d->mapper, lost);
	/* RFC 6886 §3.2.1: clients hear of the address they are told at
	 * once, the upstream's now. */
	if (has_told && (!d->has_told || d->told.s_addr != told.s_addr)) {
		d->has_told = true;
		d->told = told;
		if (d->pmp)
			pmp_server_announce(d->pmp);
		mapper_told_address_changed(d->mapper);
	}
}

/* The mapping service beyond our NAT is looked for again: our address
 * tells whether we need one. */
static void search_upstream(struct daemon *d)
{
	struct in_addr external;

	upstream_search(d->upstream, mapper_external_address(d->mapper, &external) ? &external :
										     NULL);
}

static const char *name_of(void *arg, const uint8_t *mac, const struct in6_addr *addr)
{
	struct daemon *d = arg;

	return device_files_name(d->device_files, mac, addr);
}

static int router_serves(void *arg, uint8_t proto, uint16_t port, const struct in_addr *external)
{
	struct daemon *d = arg;
	int rc;

	if (d->has_forwarded && forwarded_has(&d->forwarded, proto, port))
		return ROUTER_PORT_FORWARDED;
	if (!d->router_ports)
		return 0;
	/* Looked up each time: a PPP or VLAN interface may be recreated. */
	rc = router_ports_serves(d->router_ports, proto, port, external,
				 if_nametoindex(d->cfg.external_interface));
	return rc > 0 ? ROUTER_PORT_SERVED : rc;
}

/* Other tables' forwards, read again by the helper: at start, and after
 * another program changed rules or sets. */
static void read_forwarded(struct daemon *d)
{
	int rc = priv_forwarded_ports(d->nft, &d->forwarded);

	if (rc < 0) {
		if (d->has_forwarded)
			log_warnx("nftables: cannot read other tables' forwards (%s); their ports "
				  "are no longer kept from clients", strerror(-rc));
		d->has_forwarded = false;
		return;
	}
	if (d->forwarded.rules)
		log_info("nftables: %u rules of other tables forward ports from the WAN; those "
			 "ports are kept from clients", d->forwarded.rules);
	else
		log_debug("nftables: no rule of another table forwards ports from the WAN");
	d->has_forwarded = true;
}

static void forwards_fired(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	read_forwarded(d);
	mapper_review_conflicts(d->mapper);
}

static void mark_served(void *arg, uint8_t proto, uint16_t port)
{
	struct daemon *d = arg;
	struct port_bits *b = proto == IPPROTO_TCP ? &d->served_tcp : &d->served_udp;

	b->w[port / 64] |= 1ull << (port % 64);
}

static int read_served(void *arg)
{
	struct daemon *d = arg;
	struct in_addr external;

	memset(&d->served_tcp, 0, sizeof(d->served_tcp));
	memset(&d->served_udp, 0, sizeof(d->served_udp));
	if (!d->router_ports || !mapper_external_address(d->mapper, &external))
		return 0;
	return router_ports_each(d->router_ports, &external,
				 if_nametoindex(d->cfg.external_interface), mark_served, d);
}

static int port_taken(void *arg, uint8_t proto, uint16_t port)
{
	struct daemon *d = arg;
	const struct port_bits *b = proto == IPPROTO_TCP ? &d->served_tcp : &d->served_udp;

	if ((b->w[port / 64] >> (port % 64)) & 1)
		return ROUTER_PORT_SERVED;
	if (d->has_forwarded && forwarded_has(&d->forwarded, proto, port))
		return ROUTER_PORT_FORWARDED;
	return 0;
}

static void conflicts_fired(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	int rc;

	(void)fd;
	(void)what;
	if ((rc = mapper_review_conflicts(d->mapper)) < 0)
		log_debug("sock_diag: cannot review the mappings against the router's services: %s",
			  strerror(-rc));
}

/* What no mapping may forward to follows every interface's addresses. */
static void read_own_addresses(struct daemon *d)
{
	int n = ifaddr_list_all(d->own.addrs, OWN_ADDR_MAX);

	own_addr_counted(&d->own, n);
	if (d->own.incomplete)
		log_warnx("cannot tell the router's own addresses (%d, room for %d): every mapping "
			  "is refused until it has fewer", n, OWN_ADDR_MAX);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: portleased [-d] [-v] [-f FILE] [--check-config] [--version]\n"
		"\n"
		"Port-mapping daemon: NAT-PMP, PCP and UPnP IGD requests from LAN hosts, checked\n"
		"against an allowlist policy, installed as expiring nftables map elements.\n"
		"\n"
		"  -f, --config FILE   configuration file (default %s)\n"
		"  -d, --foreground    stay in the foreground and log to stderr\n"
		"  -v, --verbose       log debug messages too\n"
		"  -n, --check-config  check the configuration file, print what is wrong, exit\n"
		"  -V, --version       print the version and exit\n"
		"  -h, --help          this help\n"
		"\n"
		"Signals: SIGTERM or SIGINT removes the nftables table and exits;\n"
		"SIGHUP rereads the configuration (a bad file keeps the running one).\n"
		"See portleased(8) and portleased.conf(5).\n",
		CONFIG_DEFAULT_PATH);
}

/* The configured address, or else the first IPv4 address of the external
 * interface. Returns whether it changed. */
static bool update_external_address(struct daemon *d)
{
	struct in_addr before = { 0 }, after = { 0 };
	bool had = mapper_external_address(d->mapper, &before), has;
	struct if_address addr;
	struct in6_addr mapped;
	char text[ADDR_STRLEN];

	if (d->cfg.has_external_address) {
		mapper_set_external_address(d->mapper, &d->cfg.external_address);
		mapped = addr_from_v4(d->cfg.external_address);
	} else if (ifaddr_list(d->cfg.external_interface, AF_INET, &addr, 1) > 0) {
		struct in_addr v4 = addr_to_v4(&addr.addr);
		mapper_set_external_address(d->mapper, &v4);
		mapped = addr.addr;
	} else {
		mapper_set_external_address(d->mapper, NULL);
		log_warnx("external interface %s has no IPv4 address: map requests get "
			  "NETWORK_FAILURE until it has one", d->cfg.external_interface);
		return had;
	}
	has = mapper_external_address(d->mapper, &after);
	if (!had || before.s_addr != after.s_addr)
		log_info("external address %s", addr_format(&mapped, text));
	return had != has || before.s_addr != after.s_addr;
}

/* Settings that need sockets or the table rebuilt only take effect on a
 * restart; a reload keeps the running values and says so. */
static void keep_restart_only_settings(const struct config *running, struct config *next)
{
	if (strcmp(running->external_interface, next->external_interface) != 0 ||
	    running->lan_interface_count != next->lan_interface_count ||
	    memcmp(running->lan_interfaces, next->lan_interfaces, sizeof(next->lan_interfaces)) != 0 ||
	    strcmp(running->nft_table, next->nft_table) != 0 ||
	    strcmp(running->forward_chain, next->forward_chain) != 0 ||
	    running->max_leases != next->max_leases || running->pinhole_mark != next->pinhole_mark ||
	    running->upnp_enable != next->upnp_enable ||
	    running->upnp_http_port != next->upnp_http_port ||
	    running->upnp_igd_version != next->upnp_igd_version ||
	    strcmp(running->control_socket, next->control_socket) != 0 ||
	    strcmp(running->control_group, next->control_group) != 0 ||
	    running->metrics_listen != next->metrics_listen ||
	    !addr_equal(&running->metrics_address, &next->metrics_address) ||
	    running->metrics_port != next->metrics_port ||
	    strcmp(running->lease_file, next->lease_file) != 0 ||
	    strcmp(running->user, next->user) != 0)
		log_warnx("reload: interfaces, nft_table, firewall_integration, max_leases, "
			  "pinhole_mark, upnp, control, metrics, lease_file and user change only "
			  "on restart; keeping the running values");
	memcpy(next->external_interface, running->external_interface,
	       sizeof(next->external_interface));
	memcpy(next->lan_interfaces, running->lan_interfaces, sizeof(next->lan_interfaces));
	next->lan_interface_count = running->lan_interface_count;
	memcpy(next->nft_table, running->nft_table, sizeof(next->nft_table));
	memcpy(next->forward_chain, running->forward_chain, sizeof(next->forward_chain));
	next->max_leases = running->max_leases;
	next->pinhole_mark = running->pinhole_mark;
	next->upnp_enable = running->upnp_enable;
	next->upnp_http_port = running->upnp_http_port;
	next->upnp_igd_version = running->upnp_igd_version;
	memcpy(next->control_socket, running->control_socket, sizeof(next->control_socket));
	memcpy(next->control_group, running->control_group, sizeof(next->control_group));
	next->metrics_listen = running->metrics_listen;
	next->metrics_address = running->metrics_address;
	next->metrics_port = running->metrics_port;
	memcpy(next->lease_file, running->lease_file, sizeof(next->lease_file));
	memcpy(next->user, running->user, sizeof(next->user));
}

/* The service manager's STATUS= line (systemctl status shows it), sent
 * when it changed. */
static void tell_status(struct daemon *d)
{
	struct daemon_status st;
	char text[sizeof(d->status)], addr[ADDR_STRLEN] = "none";
	size_t hosts;
	struct in_addr ext;

	if (!sd_notify_wanted())
		return;
	mapper_status(d->mapper, &st);
	if (mapper_external_address(d->mapper, &ext))
		inet_ntop(AF_INET, &ext, addr, sizeof(addr));
	hosts = lease_host_count(mapper_leases(d->mapper));
	snprintf(text, sizeof(text), "STATUS=%zu mapping%s (%zu IPv6 pinhole%s) for %zu host%s; "
		 "external address %s", st.leases, st.leases == 1 ? "" : "s", st.pinholes,
		 st.pinholes == 1 ? "" : "s", hosts, hosts == 1 ? "" : "s", addr);
	if (strcmp(text, d->status) == 0)
		return;
	sd_notify_state(text);
	snprintf(d->status, sizeof(d->status), "%s", text);
}

/* WATCHDOG=1 from the loop itself, so that a loop that stalls (a helper
 * that no longer answers stalls it too) gets the service restarted. */
static void notify_fired(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (d->watchdog_ticks && ++d->ticks >= d->watchdog_ticks) {
		sd_notify_state("WATCHDOG=1");
		d->ticks = 0;
	}
	tell_status(d);
}

/*
 * Rereads the configuration file; SIGHUP and portleasectl reload both come
 * here. Returns 0 with what changed in msg, or -1 with why the running
 * configuration stays (a bad file changes nothing).
 */
static int reload(struct daemon *d, char *msg, size_t len)
{
	struct config *next = malloc(sizeof(*next));
	char err[CONFIG_ERROR_MAX];
	size_t removed;

	if (!next) {
		mapper_metrics(d->mapper)->reloads[1]++;
		snprintf(msg, len, "out of memory; keeping the running configuration");
		log_warnx("reload: %s", msg);
		return -1;
	}
	if (config_load(d->config_path, next, err, sizeof(err)) < 0) {
		mapper_metrics(d->mapper)->reloads[1]++;
		snprintf(msg, len, "%s", err);
		log_warnx("reload failed, keeping the running configuration: %s", err);
		free(next);
		return -1;
	}
	keep_restart_only_settings(&d->cfg, next);
	sd_notify_state("RELOADING=1");
	/* The helper checks what we ask against its own reading of the file:
	 * it reads it first, so that it never lags behind us. */
	priv_reload(d->nft);
	d->cfg = *next;
	free(next);
	/* RFC 6886 §3.2.1: clients hear of a new external address at once. */
	read_own_addresses(d);
	if (update_external_address(d))
		pmp_server_announce(d->pmp);
	search_upstream(d);
	if (d->device_files)
		device_files_configure(d->device_files, &d->cfg);
	event_hook_configure(d->event_hook, &d->cfg);
	mapper_sync_static(d->mapper, &d->cfg);
	removed = mapper_apply_policy(d->mapper);
	mapper_metrics(d->mapper)->reloads[0]++;
	snprintf(msg, len, "configuration reloaded from %s (%zu policy rules, %zu static "
		 "mappings; %zu mappings the new policy denies removed)",
		 d->config_path, d->cfg.policy.count, d->cfg.static_count, removed);
	log_info("%s", msg);
	sd_notify_state("READY=1");
	tell_status(d);
	return 0;
}

static int reload_asked(void *arg, char *msg, size_t len)
{
	return reload(arg, msg, len);
}

static void on_reload(evutil_socket_t sig, short what, void *arg)
{
	char msg[CONFIG_ERROR_MAX + 128];

	(void)sig;
	(void)what;
	(void)reload(arg, msg, sizeof(msg));
}

/* An interface's addresses changed (DHCP, PPP, renumbering): clients
 * hear of a new external address at once (RFC 6886 §3.2.1). */
static void on_addresses_changed(void *arg)
{
	struct daemon *d = arg;

	read_own_addresses(d);
	if (update_external_address(d)) {
		pmp_server_announce(d->pmp);
		search_upstream(d);
	}
}

/* A flush deletes rules, chains, sets, then the table, in one burst of
 * notices: the rebuild waits for the burst to end. */
#define REBUILD_DELAY_MS 50

static void table_damaged(void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { 0, REBUILD_DELAY_MS * 1000 };

	if (!evtimer_pending(d->rebuild_timer, NULL))
		evtimer_add(d->rebuild_timer, &tv);
}

/* A firewall reload is a burst of notices too: read once it ends. */
static void others_changed(void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { 0, REBUILD_DELAY_MS * 1000 };

	if (!evtimer_pending(d->forwards_timer, NULL))
		evtimer_add(d->forwards_timer, &tv);
}

static void rebuild_fired(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	size_t reinstalled;
	int rc;

	(void)fd;
	(void)what;
	/* Lost notices (a burst of our own changes can overflow the socket)
	 * look like damage until we look: rebuilding for nothing would cost
	 * every mapping a moment, and make more notices. */
	if (nft_intact(d->nft) == 1) {
		log_debug("nftables: our table is whole; nothing to rebuild");
		return;
	}
	rc = mapper_reinstall(d->mapper, &reinstalled);
	if (rc == -ENOENT && d->cfg.forward_chain[0])
		log_warnx("nftables: the firewall's chain inet %s %s is gone (firewall stopped?); "
			  "mappings come back when it does", d->cfg.nft_table, d->cfg.forward_chain);
	else if (rc < 0)
		log_warnx("nftables: table inet %s was changed by another program and cannot be "
			  "rebuilt: %s", d->cfg.nft_table, strerror(-rc));
	else
		log_warnx("nftables: table inet %s was changed by another program; rebuilt with "
			  "%zu mappings", d->cfg.nft_table, reinstalled);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	log_info("%s: stopping", strsignal(sig));
	event_base_loopbreak(d->base);
}

static int start(struct daemon *d, bool foreground, bool verbose)
{
	char err[CONFIG_ERROR_MAX], ct_err[CONFIG_ERROR_MAX];
	uint32_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint32_t)getpid() ^ (uint32_t)time(NULL);

	d->base = event_base_new();
	if (!d->base) {
		log_err("cannot create the event loop");
		return -1;
	}
	/* The nftables side runs in a helper process of its own: it alone
	 * keeps CAP_NET_ADMIN (docs/security.md). */
	d->nft = priv_start(d->config_path, foreground, verbose, &d->conntrack, ct_err,
			    sizeof(ct_err), err, sizeof(err));
	if (!d->nft) {
		log_err("%s", err);
		return -1;
	}
	if (d->cfg.forward_chain[0])
		log_info("nftables: chains and sets ready in the firewall's table inet %s, its "
			 "chain %s jumps to ours (DNAT on %s)", d->cfg.nft_table,
			 d->cfg.forward_chain, d->cfg.external_interface);
	else
		log_info("nftables table inet %s ready (DNAT on %s)", d->cfg.nft_table,
			 d->cfg.external_interface);
	d->mapper = mapper_new(d->base, &d->cfg, d->nft, seed);
	if (!d->mapper) {
		log_err("cannot allocate the lease table (max_leases %u)", d->cfg.max_leases);
		return -1;
	}
	read_own_addresses(d);
	mapper_set_own_addresses(d->mapper, &d->own);
	d->rebuild_timer = evtimer_new(d->base, rebuild_fired, d);
	d->forwards_timer = evtimer_new(d->base, forwards_fired, d);
	if (!d->rebuild_timer || !d->forwards_timer) {
		log_err("out of memory");
		return -1;
	}
	d->nft_watch = nft_watch_new(d->base, d->cfg.nft_table, d->cfg.forward_chain,
				     nft_portid(d->nft), table_damaged, d, err, sizeof(err));
	if (!d->nft_watch)
		log_warnx("%s; a flushed ruleset will not be restored until a restart, and "
			  "other tables' forwards are read at start only", err);
	else
		nft_watch_on_others(d->nft_watch, others_changed);
	read_forwarded(d);
	d->router_ports = router_ports_open(err, sizeof(err));
	if (!d->router_ports)
		log_warnx("%s; ports the router itself serves are not kept from mappings", err);
	mapper_set_router_serves(d->mapper, router_serves, d);
	mapper_set_conflict_source(d->mapper, &(struct mapper_conflict_source){
		.refresh = read_served, .conflict = port_taken, .arg = d });
	d->conflicts_timer = event_new(d->base, -1, EV_PERSIST, conflicts_fired, d);
	if (!d->conflicts_timer ||
	    event_add(d->conflicts_timer, &(struct timeval){ .tv_sec = CONFLICT_REVIEW_SECONDS }) < 0) {
		log_err("out of memory");
		return -1;
	}
	if (d->conntrack)
		mapper_set_conntrack(d->mapper, d->conntrack);
	else
		log_warnx("%s; PCP PEER requests are answered NOT_AUTHORIZED", ct_err);
	/* Shares are per host, and restored mappings are counted for theirs. */
	d->neigh_watch = neigh_watch_new(d->base, seed, err, sizeof(err));
	if (!d->neigh_watch)
		log_warnx("%s; every LAN address counts as the same host", err);
	mapper_set_host_lookup(d->mapper, host_of, d);
	d->device_files = device_files_new(d->base, &d->cfg);
	if (!d->device_files)
		log_warnx("out of memory for device names; mappings show addresses only");
	mapper_set_name_lookup(d->mapper, name_of, d);
	d->event_hook = event_hook_new(d->base, &d->cfg, mapper_metrics(d->mapper));
	if (!d->event_hook || mapper_add_event_observer(event_hook_on_event, d->event_hook) < 0) {
		log_err("out of memory");
		return -1;
	}
	/* Also with a configured address: a reload may remove it. */
	d->addr_watch = addr_watch_new(d->base, on_addresses_changed, d, err, sizeof(err));
	if (!d->addr_watch)
		log_warnx("%s; the router's addresses are reread on SIGHUP only", err);
	if (d->cfg.lease_file[0]) {
		struct lease_owner owner = { .name = d->cfg.user };
		int dropping = privdrop_target(d->cfg.user, &owner.uid, &owner.gid, err,
					       sizeof(err));

		if (dropping < 0) {
			log_err("%s", err);
			return -1;
		}
		d->leases = lease_store_open(d->base, d->cfg.lease_file, d->mapper,
					     dropping ? &owner : NULL, err, sizeof(err));
		if (!d->leases) {
			log_err("%s", err);
			return -1;
		}
		/* The policy may have changed while we were down. */
		mapper_apply_policy(d->mapper);
	}
	update_external_address(d);
	d->upstream = upstream_new(d->base, &d->cfg);
	if (!d->upstream) {
		log_err("out of memory");
		return -1;
	}
	mapper_set_upstream_lookup(d->mapper, upstream_of, d);
	upstream_set_mapped_handler(d->upstream, chain_answered, d);
	upstream_set_changed_handler(d->upstream, upstream_changed, d);
	mapper_set_chain(d->mapper, &(struct mapper_chain){ .ready = chain_ready, .map = chain_map,
							    .arg = d });
	search_upstream(d);
	mapper_sync_static(d->mapper, &d->cfg);
	d->pmp = pmp_server_new(d->base, &d->cfg, d->mapper, err, sizeof(err));
	if (!d->pmp) {
		log_err("%s", err);
		return -1;
	}
	/* A new epoch (clients must learn that their mappings may be gone),
	 * or one carried on from a clean stop, which they see is unbroken. */
	pmp_server_announce(d->pmp);
	if (d->cfg.upnp_enable) {
		d->upnp = upnp_server_new(d->base, &d->cfg, d->mapper, err, sizeof(err));
		if (!d->upnp) {
			log_err("%s", err);
			return -1;
		}
	}
	d->control = control_server_new(d->base, &d->cfg, d->mapper, err, sizeof(err));
	if (!d->control) {
		log_err("%s", err);
		return -1;
	}
	control_server_set_reload(d->control, reload_asked, d);
	if (d->cfg.metrics_listen) {
		d->metrics = metrics_server_new(d->base, &d->cfg, d->mapper, err, sizeof(err));
		if (!d->metrics) {
			log_err("%s", err);
			return -1;
		}
	}
	d->on_term = evsignal_new(d->base, SIGTERM, on_stop, d);
	d->on_int = evsignal_new(d->base, SIGINT, on_stop, d);
	d->on_hup = evsignal_new(d->base, SIGHUP, on_reload, d);
	if (!d->on_term || !d->on_int || !d->on_hup || evsignal_add(d->on_term, NULL) < 0 ||
	    evsignal_add(d->on_int, NULL) < 0 || evsignal_add(d->on_hup, NULL) < 0) {
		log_err("cannot register signal handlers");
		return -1;
	}
	if (sd_notify_wanted()) {
		/* A tick every STATUS_MS (or half the watchdog interval, if
		 * shorter): the status if it changed, WATCHDOG=1 every so many. */
		uint64_t half = sd_watchdog_usec() / 2, tick = (uint64_t)STATUS_MS * 1000;
		struct timeval every;

		if (half && half < tick)
			tick = half;
		d->watchdog_ticks = half ? (unsigned)(half / tick) : 0;
		every = (struct timeval){ .tv_sec = (time_t)(tick / 1000000),
					  .tv_usec = (suseconds_t)(tick % 1000000) };
		d->notify_timer = event_new(d->base, -1, EV_PERSIST, notify_fired, d);
		if (!d->notify_timer || event_add(d->notify_timer, &every) < 0) {
			log_err("out of memory");
			return -1;
		}
	}
	return 0;
}

static void stop(struct daemon *d)
{
	/* The twins upstream go with our table; kept, they keep working. */
	if (d->mapper && d->running && !d->cfg.keep_state_on_stop)
		mapper_chain_release(d->mapper);
	/* No command is started for what a stop does. */
	if (d->event_hook) {
		mapper_remove_event_observer(event_hook_on_event, d->event_hook);
		event_hook_free(d->event_hook);
		d->event_hook = NULL;
	}
	if (d->on_term)
		event_free(d->on_term);
	if (d->on_int)
		event_free(d->on_int);
	if (d->on_hup)
		event_free(d->on_hup);
	metrics_server_free(d->metrics);
	upstream_free(d->upstream);
	d->upstream = NULL;
	addr_watch_free(d->addr_watch);
	/* The lease file's last write still asks for hosts and names. */
	neigh_watch_free(d->neigh_watch);
	d->neigh_watch = NULL;
	device_files_free(d->device_files);
	d->device_files = NULL;
	nft_watch_free(d->nft_watch);
	if (d->forwards_timer)
		event_free(d->forwards_timer);
	if (d->conflicts_timer)
		event_free(d->conflicts_timer);
	if (d->notify_timer)
		event_free(d->notify_timer);
	if (d->rebuild_timer)
		event_free(d->rebuild_timer);
	/* Clean only if the loop ran: a failed start has lost nothing, but
	 * has not restored everything either. */
	lease_store_close(d->leases, d->running);
	control_server_free(d->control);
	upnp_server_free(d->upnp);
	pmp_server_free(d->pmp);
	mapper_free(d->mapper);
	/* Our table goes with us, unless the operator asked to keep the
	 * mappings working across a planned restart. */
	conntrack_close(d->conntrack);
	router_ports_close(d->router_ports);
	nft_close(d->nft, !d->cfg.keep_state_on_stop);
	if (d->base)
		event_base_free(d->base);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "foreground", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct daemon d;  /* large (the policy): keep it off the stack */
	bool foreground = false, verbose = false, check_only = false;
	char err[CONFIG_ERROR_MAX];
	int opt, rc;

	d.config_path = CONFIG_DEFAULT_PATH;
	while ((opt = getopt_long(argc, argv, "f:dvnVh", options, NULL)) != -1) {
		switch (opt) {
		case 'f': d.config_path = optarg; break;
		case 'd': foreground = true; break;
		case 'v': verbose = true; break;
		case 'n': check_only = true; break;
		case 'V': printf("portleased %s\n", PORTLEASED_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "portleased: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	log_init("portleased", log_stderr_output(), verbose);
	if (config_load(d.config_path, &d.cfg, err, sizeof(err)) < 0) {
		if (check_only)
			fprintf(stderr, "portleased: %s\n", err);
		else
			log_err("%s", err);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration OK (%zu policy rules)\n", d.config_path,
		       d.cfg.policy.count);
		return 0;
	}

	if (start(&d, foreground, verbose) < 0) {
		stop(&d);
		return 1;
	}
	if (!foreground) {
		if (daemon(0, 0) < 0) {
			log_err("cannot become a daemon: %s", strerror(errno));
			stop(&d);
			return 1;
		}
		log_init("portleased", LOG_TO_SYSLOG, verbose);
		event_reinit(d.base);
	}
	/* Every socket is open: from here on nothing needs a privilege, and a
	 * parser bug must not find one (fail closed if any is left). */
	snprintf(err, sizeof(err), "cannot watch the helper");
	if (priv_watch(d.nft, d.base) < 0 || privdrop(d.cfg.user, 0, err, sizeof(err)) < 0) {
		log_err("cannot drop privileges: %s", err);
		stop(&d);
		return 1;
	}
	log_info("portleased %s running", PORTLEASED_VERSION);
	sd_notify_state("READY=1");
	tell_status(&d);
	d.running = true;
	rc = event_base_dispatch(d.base) < 0 ? 1 : 0;
	sd_notify_state("STOPPING=1");
	stop(&d);
	log_fini();
	return rc;
}
