/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upnp/upnp_server_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "daemon/stream.h"
#include "daemon/upnp/gena_server.h"
#include "daemon/upnp/http.h"
#include "daemon/upnp/igd.h"
#include "daemon/upnp/igd_desc.h"
#include "daemon/upnp/soap.h"
#include "daemon/upnp/ssdp.h"
#include "lib/datagram.h"
#include "lib/ifaddr.h"
#include "lib/log.h"
#include "daemon/state_secret.h"
#include "lib/text.h"

/* The first line of path, up to len - 1 bytes; "" if there is none. */
static void read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");

	out[0] = '\0';
	if (!f)
		return;
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/*
 * Without a machine-id (a container, an embedded system that makes none):
 * a random identity made once and kept beside the lease file, the state
 * portleased keeps across restarts anyway. Without a lease file either,
 * it is new at every start (logged).
 */
static void stored_id(const struct config *cfg, char *id, size_t len)
{
	uint8_t random[16];

	if (!state_secret(cfg, "upnp-device-id", random, sizeof(random)) && !cfg->lease_file[0])
		log_warnx("UPnP: no /etc/machine-id and no lease_file: the device's UUID is new at "
			  "every start, and control points see a new router each time");
	id[0] = '\0';
	for (size_t i = 0; i < sizeof(random) && 2 * i + 2 < len; i++)
		snprintf(id + 2 * i, 3, "%02x", random[i]);
}

/* Stable across restarts, so control points keep recognising the router,
 * and not the machine-id itself. */
static void uuid_seed(const struct config *cfg, uint8_t seed[16])
{
	char id[64];
	uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
	char text[160];

	read_line("/etc/machine-id", id, sizeof(id));
	if (!id[0])
		stored_id(cfg, id, sizeof(id));
	snprintf(text, sizeof(text), "portleased-igd:%s:%s", id, cfg->external_interface);
	for (const char *p = text; *p; p++) {
		h[0] = (h[0] ^ (uint8_t)*p) * 0x100000001b3ULL;
		h[1] = (h[1] ^ (uint8_t)*p) * 0x100000001b3ULL + h[0];
	}
	memcpy(seed, h, 16);
}

/* Link-local IPv6 addresses are left out: a URL with one needs a zone,
 * which HTTP clients do not take. */
static void add_links(struct upnp_server *s, const char *ifname, int family)
{
	struct if_address addrs[ADDRESSES_PER_INTERFACE];
	int n = ifaddr_list(ifname, family, addrs, ADDRESSES_PER_INTERFACE);

	for (int k = 0; k < n && k < ADDRESSES_PER_INTERFACE && s->nlinks < LINKS_MAX; k++) {
		struct link *l = &s->links[s->nlinks];
		struct in_addr v4 = addr_to_v4(&addrs[k].addr);

		if (family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&addrs[k].addr))
			continue;
		s->nlinks++;
		l->server = s;
		l->family = family;
		l->local = addrs[k];
		if (family == AF_INET)
			inet_ntop(AF_INET, &v4, l->addr_text, sizeof(l->addr_text));
		else
			inet_ntop(AF_INET6, &addrs[k].addr, l->addr_text, sizeof(l->addr_text));
		for (size_t id = 0; id < s->nids; id++)
			snprintf(l->location[id], sizeof(l->location[id]),
				 "http://%s%s%s:%u%s/rootDesc.xml", family == AF_INET6 ? "[" : "",
				 l->addr_text, family == AF_INET6 ? "]" : "", s->cfg->upnp_http_port,
				 s->ids[id].prefix);
	}
}

void upnp_server_free(struct upnp_server *s)
{
	if (!s)
		return;
	if (s->notify_rounds > 0)
		upnp_ssdp_notify_all(s, false);
	if (s->igd.mapper)
		mapper_remove_chained_observer(s->igd.mapper, upnp_http_chained, s);
	if (s->gena) {
		mapper_set_observer(s->igd.mapper, NULL, NULL);
		gena_server_free(s->gena);
	}
	while (s->connections.head)
		upnp_http_connection_free((struct connection *)s->connections.head);
	if (s->burst)
		event_free(s->burst);
	for (size_t i = 0; i < PENDING_REPLIES_MAX; i++)
		if (s->pending[i].timer)
			event_free(s->pending[i].timer);
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].http)
			evconnlistener_free(s->links[i].http);
	if (s->notify_timer)
		event_free(s->notify_timer);
	if (s->ssdp_ev)
		event_free(s->ssdp_ev);
	if (s->ssdp6_ev)
		event_free(s->ssdp6_ev);
	if (s->ssdp_fd >= 0)
		close(s->ssdp_fd);
	if (s->ssdp6_fd >= 0)
		close(s->ssdp6_fd);
	free(s);
}

struct upnp_server *upnp_server_new(struct event_base *base, const struct config *cfg,
				    struct mapper *mapper, char *err, size_t errlen)
{
	struct upnp_server *s = calloc(1, sizeof(*s));
	struct utsname uts;
	uint8_t seed[16];

	if (!s) {
		snprintf(err, errlen, "UPnP: out of memory");
		return NULL;
	}
	s->cfg = cfg;
	s->base = base;
	s->ssdp_fd = -1;
	s->ssdp6_fd = -1;
	s->ready_tail = &s->ready;
	s->burst = event_new(base, -1, 0, upnp_http_burst, s);
	if (!s->burst) {
		snprintf(err, errlen, "UPnP: out of memory");
		goto fail;
	}
	/* Control requests name their service's version: one endpoint serves
	 * both IGDs, each call in the version it asks for. */
	s->igd = (struct igd){ .cfg = cfg, .mapper = mapper,
			       .version = cfg->upnp_igd_version & CONFIG_IGD_2 ? 2 : 1 };
	uuid_seed(cfg, seed);
	if (cfg->upnp_igd_version & CONFIG_IGD_2)
		igd_identity_init(&s->ids[s->nids++], 2, seed);
	if (cfg->upnp_igd_version & CONFIG_IGD_1) {
		struct igd_identity *id = &s->ids[s->nids];

		/* Beside an IGD:2, devices of their own (UDNs are unique), as
		 * stable across restarts as its. */
		if (s->nids)
			seed[0] ^= 0x5a;
		igd_identity_init(id, 1, seed);
		if (s->nids) {
			snprintf(id->prefix, sizeof(id->prefix), "%s", IGD1_PREFIX);
			id->with_v2_services = true;
		}
		s->nids++;
	}
	s->boot_id = (uint32_t)time(NULL) & 0x7fffffff;
	if (uname(&uts) < 0)
		snprintf(uts.release, sizeof(uts.release), "unknown");
	snprintf(s->server_header, sizeof(s->server_header), "Linux/%.40s UPnP/1.1 portleased/%s",
		 uts.release, PORTLEASED_VERSION);

	for (size_t i = 0; i < cfg->lan_interface_count; i++) {
		add_links(s, cfg->lan_interfaces[i], AF_INET);
		add_links(s, cfg->lan_interfaces[i], AF_INET6);
	}
	if (s->nlinks == 0) {
		snprintf(err, errlen, "UPnP: no LAN interface has an IPv4 or a global IPv6 address");
		goto fail;
	}
	for (size_t i = 0; i < s->nlinks; i++)
		if (upnp_http_open(s, &s->links[i], err, errlen) < 0)
			goto fail;
	if ((upnp_has_links(s, AF_INET) && upnp_ssdp_open(s, AF_INET, err, errlen) < 0) ||
	    (upnp_has_links(s, AF_INET6) && upnp_ssdp_open(s, AF_INET6, err, errlen) < 0))
		goto fail;
	s->gena = gena_server_new(base, &s->igd);
	if (!s->gena) {
		snprintf(err, errlen, "UPnP: out of memory");
		goto fail;
	}
	mapper_set_observer(mapper, gena_server_changed, s->gena);
	(void)mapper_add_chained_observer(mapper, upnp_http_chained, s);
	for (size_t i = 0; i < PENDING_REPLIES_MAX; i++) {
		s->pending[i].server = s;
		s->pending[i].timer = evtimer_new(base, upnp_ssdp_reply_fired, &s->pending[i]);
		if (!s->pending[i].timer) {
			snprintf(err, errlen, "UPnP: out of memory");
			goto fail;
		}
	}
	s->notify_timer = evtimer_new(base, upnp_ssdp_notify_fired, s);
	if (!s->notify_timer) {
		snprintf(err, errlen, "UPnP: out of memory");
		goto fail;
	}
	/* A restart: stale cache entries go first, then the fresh ones. */
	upnp_ssdp_notify_all(s, false);
	upnp_ssdp_notify_fired(-1, 0, s);
	for (size_t i = 0; i < s->nlinks; i++)
		for (size_t k = 0; k < s->nids; k++)
			log_info("UPnP IGD:%u on %s: %s", s->ids[k].version,
				 s->links[i].local.ifname, s->links[i].location[k]);
	return s;
fail:
	upnp_server_free(s);
	return NULL;
}
