/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upstream_upnp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "daemon/upnp/control_point.h"

/* Mappings waiting or being asked, at most; what does not fit waits for
 * the mapper's next sweep. */
#define MAPS_MAX 256
/* Calls besides mappings: the description, the address, a probe. */
#define OTHER_CALLS_MAX 4
/* Connections to the IGD at once: routers serve a handful per host (ours
 * eight), and a dead one should cost few sockets. */
#define CALLS_AT_ONCE 4
/* A call's whole life, connection to answer: a dead or dribbling IGD
 * holds a mapping's client no longer than a silent PCP server would. */
#define CALL_DEADLINE_S 8
/* SSDP: a search every second, three times, answers asked within a second. */
#define SEARCH_ROUNDS 3
#define SEARCH_MX 1
/* IGD:2 caps a lease at a week (WANIPConnection:2, AddPortMapping). */
#define LEASE_MAX 604800
/* UPnP error 725: OnlyPermanentLeasesSupported (IGD:1 devices). */
#define UPNP_ONLY_PERMANENT 725

enum call_kind { CALL_DESCRIPTION, CALL_ADDRESS, CALL_PROBE, CALL_MAP, CALL_DELETE };

struct call {
	bool used, running;
	bool superseded;  /* a later request about its port waits: this one's answer is not told */
	bool permanent;   /* asked again with lease 0, after error 725 */
	enum call_kind kind;
	uint8_t proto;
	uint16_t port, upstream_port;
	uint32_t lifetime;
	uint64_t seq;     /* order of asking */
	struct bufferevent *bev;
	struct event *deadline;
	struct upstream_upnp *uu;
};

struct upstream_upnp {
	struct event_base *base;
	struct upstream_upnp_handlers h;
	struct in_addr server;
	unsigned ifindex;
	int ssdp_fd;
	struct event *ssdp_readable;
	struct event *search_timer;
	unsigned rounds;
	bool has_location, location_igd2;
	struct cp_url location;
	bool found;
	struct cp_service service;
	struct call calls[MAPS_MAX + OTHER_CALLS_MAX];
	unsigned running;
	uint64_t seq;
	struct event *kick;  /* starts waiting calls outside any callback */
};

static const char no_answer[] = "no answer";

static void close_ssdp(struct upstream_upnp *uu)
{
	if (uu->ssdp_readable) {
		event_free(uu->ssdp_readable);
		uu->ssdp_readable = NULL;
	}
	if (uu->ssdp_fd >= 0) {
		close(uu->ssdp_fd);
		uu->ssdp_fd = -1;
	}
	evtimer_del(uu->search_timer);
}

static void end_call(struct call *c)
{
	struct upstream_upnp *uu = c->uu;

	if (c->bev)
		bufferevent_free(c->bev);
	if (c->deadline)
		event_free(c->deadline);
	if (c->running)
		uu->running--;
	*c = (struct call){ .uu = uu };
	event_active(uu->kick, EV_TIMEOUT, 0);
}

static struct call *new_call(struct upstream_upnp *uu, enum call_kind kind)
{
	size_t first = kind == CALL_MAP || kind == CALL_DELETE ? 0 : MAPS_MAX;
	size_t last = kind == CALL_MAP || kind == CALL_DELETE ? MAPS_MAX :
								 MAPS_MAX + OTHER_CALLS_MAX;

	for (size_t i = first; i < last; i++)
		if (!uu->calls[i].used) {
			uu->calls[i] = (struct call){ .used = true, .kind = kind, .seq = ++uu->seq,
						      .uu = uu };
			event_active(uu->kick, EV_TIMEOUT, 0);
			return &uu->calls[i];
		}
	return NULL;
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "TCP" : "UDP";
}

/* The text of a call's request, into buf: 0 when it does not fit. */
static size_t request_of(struct call *c, char *buf, size_t cap)
{
	struct upstream_upnp *uu = c->uu;
	struct sockaddr_in self;
	socklen_t self_len = sizeof(self);
	char host[INET_ADDRSTRLEN], ext[8], in[8], lease[12], what[40];
	int n;

	switch (c->kind) {
	case CALL_DESCRIPTION:
		inet_ntop(AF_INET, &uu->location.addr, host, sizeof(host));
		n = snprintf(buf, cap, "GET %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n\r\n",
			     uu->location.path, host, uu->location.port);
		return n > 0 && (size_t)n < cap ? (size_t)n : 0;
	case CALL_ADDRESS:
	case CALL_PROBE:
		return cp_build_call(buf, cap, &uu->service.control, uu->service.type,
				     "GetExternalIPAddress", NULL, 0);
	case CALL_DELETE: {
		struct cp_arg args[] = { { "NewRemoteHost", "" }, { "NewExternalPort", ext },
					 { "NewProtocol", proto_name(c->proto) } };

		snprintf(ext, sizeof(ext), "%u", c->upstream_port ? c->upstream_port : c->port);
		return cp_build_call(buf, cap, &uu->service.control, uu->service.type,
				     "DeletePortMapping", args, 3);
	}
	case CALL_MAP: {
		/* The internal client is the address the IGD sees us from. */
		struct cp_arg args[] = { { "NewRemoteHost", "" }, { "NewExternalPort", ext },
					 { "NewProtocol", proto_name(c->proto) },
					 { "NewInternalPort", in }, { "NewInternalClient", host },
					 { "NewEnabled", "1" }, { "NewPortMappingDescription", what },
					 { "NewLeaseDuration", lease } };

		if (getsockname(bufferevent_getfd(c->bev), (struct sockaddr *)&self, &self_len) < 0)
			return 0;
		inet_ntop(AF_INET, &self.sin_addr, host, sizeof(host));
		snprintf(ext, sizeof(ext), "%u", c->upstream_port ? c->upstream_port : c->port);
		snprintf(in, sizeof(in), "%u", c->port);
		snprintf(lease, sizeof(lease), "%u", c->permanent ? 0 :
			 c->lifetime < LEASE_MAX ? c->lifetime : LEASE_MAX);
		snprintf(what, sizeof(what), "portleased %s %u", proto_name(c->proto), c->port);
		return cp_build_call(buf, cap, &uu->service.control, uu->service.type,
				     uu->service.v2 ? "AddAnyPortMapping" : "AddPortMapping", args, 8);
	}
	}
	return 0;
}

static void tell_mapped(struct call *c, bool ok, uint16_t external_port, const char *why)
{
	struct upstream_upnp *uu = c->uu;
	uint32_t lifetime = c->lifetime < LEASE_MAX ? c->lifetime : LEASE_MAX;

	if (c->kind == CALL_MAP && !c->superseded && uu->h.mapped)
		uu->h.mapped(uu->h.arg, c->proto, c->port, ok, external_port, lifetime, why);
}

/* A call that got no usable answer. */
static void call_failed(struct call *c, const char *why)
{
	struct upstream_upnp *uu = c->uu;
	enum call_kind kind = c->kind;

	if (kind == CALL_MAP)
		tell_mapped(c, false, 0, why);
	end_call(c);
	if (kind == CALL_DESCRIPTION || kind == CALL_ADDRESS) {
		uu->has_location = false;
		if (uu->h.found)
			uu->h.found(uu->h.arg, false, NULL,
				    kind == CALL_DESCRIPTION ? "the UPnP IGD's description cannot be read" :
							       "the UPnP IGD does not answer its control URL");
	} else if (kind == CALL_PROBE && uu->h.probed) {
		uu->h.probed(uu->h.arg, NULL);
	}
}

static bool address_of(const struct cp_answer *a, struct in_addr *out)
{
	const char *text = cp_answer_value(a, "NewExternalIPAddress");

	return text && inet_pton(AF_INET, text, out) == 1 && out->s_addr != 0;
}

static void answered(struct call *c, const struct cp_http_response *r)
{
	struct upstream_upnp *uu = c->uu;
	static struct cp_answer a;  /* 4 KB: not on the stack of every answer */
	static char why[48];
	struct in_addr ext;
	const char *reserved;
	unsigned long port;
	int result;

	if (c->kind == CALL_DESCRIPTION) {
		if (r->status != 200 ||
		    cp_find_service(r->body, r->body_len, &uu->location, &uu->service) < 0) {
			call_failed(c, no_answer);
			return;
		}
		end_call(c);
		if (!new_call(uu, CALL_ADDRESS) && uu->h.found)
			uu->h.found(uu->h.arg, false, NULL, "too many calls");
		return;
	}
	result = cp_call_result(r, &a);
	snprintf(why, sizeof(why), "UPnP error %d", result);
	switch (c->kind) {
	case CALL_ADDRESS:
		if (result < 0) {
			call_failed(c, no_answer);
			return;
		}
		end_call(c);
		uu->found = true;
		if (uu->h.found)
			uu->h.found(uu->h.arg, true, result == 0 && address_of(&a, &ext) ? &ext : NULL,
				    NULL);
		return;
	case CALL_PROBE:
		end_call(c);
		if (uu->h.probed)
			uu->h.probed(uu->h.arg, result == 0 && address_of(&a, &ext) ? &ext : NULL);
		return;
	case CALL_MAP:
		if (result == UPNP_ONLY_PERMANENT && !c->permanent) {
			/* An IGD:1 that keeps mappings only forever: we delete ours. */
			struct call was = *c;
			struct call *again;

			end_call(c);
			if (!(again = new_call(uu, CALL_MAP))) {
				tell_mapped(&was, false, 0, why);
				return;
			}
			again->permanent = true;
			again->superseded = was.superseded;
			again->proto = was.proto;
			again->port = was.port;
			again->upstream_port = was.upstream_port;
			again->lifetime = was.lifetime;
			return;
		}
		if (result != 0) {
			call_failed(c, result > 0 ? why : no_answer);
			return;
		}
		port = c->upstream_port ? c->upstream_port : c->port;
		if (uu->service.v2) {
			reserved = cp_answer_value(&a, "NewReservedPort");
			port = reserved ? strtoul(reserved, NULL, 10) : 0;
		}
		if (port == 0 || port > 65535) {
			call_failed(c, "no reserved port in the IGD's answer");
			return;
		}
		tell_mapped(c, true, (uint16_t)port, NULL);
		end_call(c);
		return;
	case CALL_DELETE:
	case CALL_DESCRIPTION:
		end_call(c);
		return;
	}
}

/* What came so far; eof: the IGD closed the connection. */
static void read_answer(struct call *c, bool eof)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	struct cp_http_response r;
	char *buf;
	int rc;

	if (len > CP_HEAD_MAX + CP_RESPONSE_MAX) {
		call_failed(c, "the IGD's answer is too long");
		return;
	}
	if (!len) {
		if (eof)
			call_failed(c, no_answer);
		return;
	}
	buf = (char *)evbuffer_pullup(in, -1);
	rc = buf ? cp_parse_http_response(buf, len, eof, &r) : -1;
	if (rc == CP_HTTP_INCOMPLETE)
		return;
	if (rc < 0) {
		call_failed(c, "the IGD's answer is no HTTP response");
		return;
	}
	answered(c, &r);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	read_answer(arg, false);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct call *c = arg;
	char buf[4096];
	size_t n;

	if (what & BEV_EVENT_CONNECTED) {
		if (!(n = request_of(c, buf, sizeof(buf))) || bufferevent_write(bev, buf, n) < 0 ||
		    bufferevent_enable(bev, EV_READ) < 0)
			call_failed(c, "cannot write the request");
		return;
	}
	if (what & BEV_EVENT_EOF) {
		read_answer(c, true);
		return;
	}
	call_failed(c, no_answer);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	call_failed(arg, no_answer);
}

static bool start_call(struct call *c)
{
	struct upstream_upnp *uu = c->uu;
	const struct cp_url *to = c->kind == CALL_DESCRIPTION ? &uu->location : &uu->service.control;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(to->port),
				  .sin_addr = to->addr };
	struct timeval deadline = { CALL_DEADLINE_S, 0 };

	c->running = true;
	uu->running++;
	if (!(c->bev = bufferevent_socket_new(uu->base, -1, BEV_OPT_CLOSE_ON_FREE)) ||
	    !(c->deadline = evtimer_new(uu->base, on_deadline, c)) ||
	    evtimer_add(c->deadline, &deadline) < 0)
		return false;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	return bufferevent_socket_connect(c->bev, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

/* Whether a call about c's port is being asked now. */
static bool port_busy(const struct upstream_upnp *uu, const struct call *c)
{
	if (c->kind != CALL_MAP && c->kind != CALL_DELETE)
		return false;
	for (size_t i = 0; i < MAPS_MAX; i++) {
		const struct call *o = &uu->calls[i];

		if (o->used && o->running && o->proto == c->proto && o->port == c->port)
			return true;
	}
	return false;
}

/* Starts the oldest waiting calls, up to CALLS_AT_ONCE running. */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_upnp *uu = arg;

	(void)fd;
	(void)what;
	while (uu->running < CALLS_AT_ONCE) {
		struct call *next = NULL;

		for (size_t i = 0; i < MAPS_MAX + OTHER_CALLS_MAX; i++) {
			struct call *c = &uu->calls[i];

			if (c->used && !c->running && (!next || c->seq < next->seq) && !port_busy(uu, c))
				next = c;
		}
		if (!next)
			return;
		if (!start_call(next))
			call_failed(next, "cannot open a connection");
	}
}

static void fetch_description(struct upstream_upnp *uu)
{
	close_ssdp(uu);
	if (!new_call(uu, CALL_DESCRIPTION) && uu->h.found)
		uu->h.found(uu->h.arg, false, NULL, "too many calls");
}

static void send_search(struct upstream_upnp *uu)
{
	static const char *const targets[] = { CP_ST_IGD2, CP_ST_IGD1 };
	struct sockaddr_in group = { .sin_family = AF_INET, .sin_port = htons(1900) };
	struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons(1900),
				      .sin_addr = uu->server };
	char buf[256];
	size_t n;

	inet_pton(AF_INET, "239.255.255.250", &group.sin_addr);
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		if (!(n = cp_build_search(buf, sizeof(buf), targets[i], SEARCH_MX)))
			continue;
		/* On the link, and to the server itself (UDA 1.1 unicast
		 * search), should it not be on the link. */
		if (sendto(uu->ssdp_fd, buf, n, 0, (struct sockaddr *)&group, sizeof(group)) < 0 ||
		    sendto(uu->ssdp_fd, buf, n, 0, (struct sockaddr *)&server, sizeof(server)) < 0)
			log_debug("upstream: SSDP search: %s", strerror(errno));
	}
}

static void on_search_timer(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_upnp *uu = arg;
	struct timeval round = { SEARCH_MX, 0 };

	(void)fd;
	(void)what;
	if (uu->has_location) {  /* an IGD:1 answered; no IGD:2 did */
		fetch_description(uu);
		return;
	}
	if (uu->rounds++ < SEARCH_ROUNDS) {
		send_search(uu);
		evtimer_add(uu->search_timer, &round);
		return;
	}
	close_ssdp(uu);
	if (uu->h.found)
		uu->h.found(uu->h.arg, false, NULL, "no UPnP IGD answers");
}

static void on_ssdp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct upstream_upnp *uu = arg;
	struct cp_search_answer s;
	struct sockaddr_in from;
	socklen_t from_len;
	char buf[2048];
	ssize_t n;

	(void)what;
	for (unsigned i = 0; i < 64 && uu->ssdp_fd == fd; i++) {
		from_len = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
		if (n < 0)
			return;
		/* Only the server asked for: others on the WAN link are not our
		 * gateway, and its description must be on its own host. */
		if (from.sin_addr.s_addr != uu->server.s_addr ||
		    cp_parse_search_answer(buf, (size_t)n, &s) < 0 ||
		    s.location.addr.s_addr != uu->server.s_addr)
			continue;
		if (!uu->has_location || (s.igd2 && !uu->location_igd2)) {
			uu->has_location = true;
			uu->location_igd2 = s.igd2;
			uu->location = s.location;
		}
		if (s.igd2) {
			fetch_description(uu);
			return;
		}
	}
}

static bool open_ssdp(struct upstream_upnp *uu)
{
	struct ip_mreqn via = { .imr_ifindex = (int)uu->ifindex };
	unsigned char ttl = 2, loop = 0;

	uu->ssdp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (uu->ssdp_fd < 0)
		return false;
	if ((uu->ifindex &&
	     setsockopt(uu->ssdp_fd, IPPROTO_IP, IP_MULTICAST_IF, &via, sizeof(via)) < 0) ||
	    setsockopt(uu->ssdp_fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
	    setsockopt(uu->ssdp_fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0 ||
	    !(uu->ssdp_readable = event_new(uu->base, uu->ssdp_fd, EV_READ | EV_PERSIST,
					    on_ssdp_readable, uu)) ||
	    event_add(uu->ssdp_readable, NULL) < 0) {
		close_ssdp(uu);
		return false;
	}
	return true;
}

void upstream_upnp_stop(struct upstream_upnp *uu, const char *why)
{
	close_ssdp(uu);
	for (size_t i = 0; i < MAPS_MAX + OTHER_CALLS_MAX; i++) {
		struct call *c = &uu->calls[i];

		if (!c->used)
			continue;
		tell_mapped(c, false, 0, why);
		end_call(c);
	}
	uu->found = false;
	uu->has_location = false;
}

bool upstream_upnp_search(struct upstream_upnp *uu, struct in_addr server, unsigned ifindex)
{
	upstream_upnp_stop(uu, no_answer);
	uu->server = server;
	uu->ifindex = ifindex;
	uu->rounds = 0;
	if (!open_ssdp(uu))
		return false;
	on_search_timer(-1, 0, uu);
	return true;
}

bool upstream_upnp_map(struct upstream_upnp *uu, uint8_t proto, uint16_t port,
		       uint16_t upstream_port, uint32_t lifetime)
{
	struct call *c = NULL;

	if (!uu->found)
		return false;
	for (size_t i = 0; i < MAPS_MAX; i++) {
		struct call *o = &uu->calls[i];

		if (!o->used || o->proto != proto || o->port != port)
			continue;
		if (o->running)
			o->superseded = true;
		else
			c = o;  /* still waiting: asked as the later request says */
	}
	if (!c && !(c = new_call(uu, lifetime ? CALL_MAP : CALL_DELETE)))
		return false;
	c->kind = lifetime ? CALL_MAP : CALL_DELETE;
	c->permanent = false;
	c->proto = proto;
	c->port = port;
	c->upstream_port = upstream_port;
	c->lifetime = lifetime;
	return true;
}

void upstream_upnp_probe(struct upstream_upnp *uu)
{
	if (uu->found && !new_call(uu, CALL_PROBE) && uu->h.probed)
		uu->h.probed(uu->h.arg, NULL);
}

struct upstream_upnp *upstream_upnp_new(struct event_base *base,
					const struct upstream_upnp_handlers *h)
{
	struct upstream_upnp *uu = calloc(1, sizeof(*uu));

	if (!uu)
		return NULL;
	uu->base = base;
	uu->h = *h;
	uu->ssdp_fd = -1;
	for (size_t i = 0; i < MAPS_MAX + OTHER_CALLS_MAX; i++)
		uu->calls[i].uu = uu;
	if (!(uu->search_timer = evtimer_new(base, on_search_timer, uu)) ||
	    !(uu->kick = event_new(base, -1, 0, on_kick, uu))) {
		if (uu->search_timer)
			event_free(uu->search_timer);
		free(uu);
		return NULL;
	}
	return uu;
}

void upstream_upnp_free(struct upstream_upnp *uu)
{
	if (!uu)
		return;
	uu->h = (struct upstream_upnp_handlers){ 0 };
	upstream_upnp_stop(uu, no_answer);
	event_free(uu->search_timer);
	event_free(uu->kick);
	free(uu);
}
