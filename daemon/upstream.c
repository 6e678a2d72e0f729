/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/gateway.h"
#include "lib/log.h"
#include "daemon/pmp/natpmp.h"
#include "daemon/pmp/pcp.h"
#include "daemon/dhcp_option.h"
#include "daemon/state_secret.h"
#include "daemon/stun_probe.h"
#include "daemon/upstream_upnp.h"

#define ROUTE_TABLE "/proc/net/route"
#define ROUTE_TABLE_MAX (64 * 1024)
/* RFC 6887 §8.1.1: a PCP request is sent again after 3 s, then twice as
 * long each time; we give up after the third. */
#define PCP_FIRST_WAIT_MS 3000
#define PCP_TRIES 3
/* RFC 6886 §3.1: NAT-PMP's 250 ms, doubling; 9 tries when it is the
 * protocol the operator named, 4 after PCP went unanswered. */
#define NATPMP_FIRST_WAIT_MS 250
#define NATPMP_TRIES_PINNED 9
#define NATPMP_TRIES_AFTER_PCP 4
/* A mapping's request: PCP's 3 s first wait (RFC 6887 §8.1.1), NAT-PMP's
 * 250 ms doubling (RFC 6886 §3.1), each given up about 8 s after the first
 * send, so that a dead upstream holds a waiting client that long at most. */
static const unsigned pcp_map_waits_ms[] = { 3000, 5000 };
static const unsigned natpmp_map_waits_ms[] = { 250, 500, 1000, 2000, 4000 };
static const char looked_for_again[] = "the upstream is looked for again";

/* Requests in flight at once: more wait for the mapper's next sweep. */
#define MAPS_IN_FLIGHT 256
/* Once found, the upstream is asked this often for its epoch (and, over
 * NAT-PMP, our address): a restart that lost its mappings, or a new
 * address, is noticed within it even when no renewal is due. */
#define PROBE_MS 30000

/* Nothing answered, or nobody to ask, while our own address is private or
 * shared: asked again this much later, so an upstream that comes up later
 * is found. */
#define SEARCH_AGAIN_MS (5 * 60 * 1000)

enum step {
	STEP_NONE,
	STEP_PCP_ANNOUNCE,     /* is PCP there? */
	STEP_NATPMP_ADDRESS,   /* is NAT-PMP there, and what is our address? */
	STEP_UPNP,             /* is a UPnP IGD there (upstream_upnp.c asks)? */
};

/* A mapping asked of the upstream, until it answers or is given up. */
struct map_ask {
	bool used;
	uint8_t proto;
	uint16_t port;       /* ours: its internal port */
	uint16_t upstream_port;  /* the twin's port there, if one is held */
	uint32_t lifetime;   /* 0: delete */
	uint8_t nonce[PCP_NONCE_LEN];
	unsigned sent;       /* times sent */
	uint64_t next_ms;    /* when to send again, or give up */
};

struct upstream {
	struct event_base *base;
	const struct config *cfg;
	struct upstream_status st;
	int fd;
	struct event *readable;
	struct event *timer;
	enum step step;
	unsigned tries, max_tries, wait_ms;
	bool has_own;              /* our external address, as the search began */
	struct in_addr own;
	bool warned_unreachable;  /* said once that nothing maps ports upstream */
	bool pcp_answered;        /* this search: PCP is there (its ANNOUNCE answered) */
	/* Mappings asked for (FOUND): over the search's socket, kept open. */
	struct map_ask asks[MAPS_IN_FLIGHT];
	struct event *map_timer;
	uint8_t nonce_key[PCP_NONCE_LEN];  /* a mapping's nonce: this, its protocol and port */
	upstream_mapped_fn mapped;
	void *mapped_arg;
	void (*changed)(void *arg, bool lost);
	void *changed_arg;
	/* Its epoch as last heard, and when (RFC 6886 §3.6, RFC 6887 §8.5). */
	uint32_t epoch_seen;
	uint64_t epoch_seen_ms;
	struct event *probe_timer;
	/* The upstream's announcements (RFC 6886 §3.2.1, RFC 6887 §14.1.3):
	 * a restart or a new address heard at once, not at the next probe. */
	int announce_fd;
	struct event *announce_readable;
	struct upstream_upnp *upnp;  /* asks an IGD, when that is what answers */
	struct stun_probe *stun;     /* when none does, and upstream.stun is set */
	/* What STUN said last, across searches: warned once, not every 5 min. */
	bool stun_said;
	struct in_addr stun_said_public;
	enum stun_nat stun_said_nat;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void arm_probe(struct upstream *u)
{
	struct timeval tv = { PROBE_MS / 1000, 0 };

	evtimer_add(u->probe_timer, &tv);
}

static void close_socket(struct upstream *u)
{
	if (u->readable) {
		event_free(u->readable);
		u->readable = NULL;
	}
	if (u->fd >= 0) {
		close(u->fd);
		u->fd = -1;
	}
}

static void arm(struct upstream *u, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(u->timer, &tv);
}

/* Whether our external address is private or shared (RFC 1918, RFC 6598):
 * one the internet cannot reach, so a mapping of ours alone opens nothing. */
static bool external_unreachable(const struct upstream *u)
{
	return u->has_own && addr_v4_is_private_or_shared(u->own);
}

static void give_up(struct upstream *u, const char *why)
{
	char server[INET_ADDRSTRLEN] = "";

	close_socket(u);
	u->step = STEP_NONE;
	u->st.state = UPSTREAM_NONE;
	u->st.why = why;
	if (u->st.has_server)
		inet_ntop(AF_INET, &u->st.server, server, sizeof(server));
	/* With a public address of our own an upstream is a bonus: asked again
	 * only at a reload or an address change, not every few minutes. */
	if (!external_unreachable(u)) {
		log_info("upstream: %s%s%s", why, *server ? " at " : "", server);
		return;
	}
	if (!u->warned_unreachable)
		log_warnx("upstream: %s%s%s: mappings cannot be reached from the internet beyond "
			  "the NAT in front of this router", why, *server ? " at " : "", server);
	else
		log_info("upstream: %s%s%s; asking again in %d min", why, *server ? " at " : "",
			 server, SEARCH_AGAIN_MS / 60000);
	u->warned_unreachable = true;
	arm(u, SEARCH_AGAIN_MS);
	if (u->cfg->has_upstream_stun && u->st.stun == UPSTREAM_STUN_NONE) {
		u->st.stun_server = (struct stun_endpoint){ u->cfg->upstream_stun,
							    u->cfg->upstream_stun_port };
		if (stun_probe_start(u->stun, u->st.stun_server))
			u->st.stun = UPSTREAM_STUN_ASKING;
	}
}

/* What STUN says of the NAT in front, with no mapping service there. */
static void stun_told(void *arg, const struct stun_probe_result *r)
{
	struct upstream *u = arg;
	char server[INET_ADDRSTRLEN], public[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &u->st.stun_server.addr, server, sizeof(server));
	if (!r->answered) {
		u->st.stun = UPSTREAM_STUN_SILENT;
		log_info("upstream: STUN at %s:%u does not answer", server, u->st.stun_server.port);
		return;
	}
	u->st.stun = UPSTREAM_STUN_ANSWERED;
	u->st.stun_public = r->public_endpoint.addr;
	u->st.stun_nat = r->nat;
	inet_ntop(AF_INET, &u->st.stun_public, public, sizeof(public));
	if (u->stun_said && u->stun_said_nat == r->nat &&
	    u->stun_said_public.s_addr == r->public_endpoint.addr.s_addr) {
		log_info("upstream: STUN at %s: public address %s, NAT %s, as before", server,
			 public, stun_nat_name(r->nat));
		return;
	}
	u->stun_said = true;
	u->stun_said_nat = r->nat;
	u->stun_said_public = r->public_endpoint.addr;
	if (r->nat == STUN_NAT_SYMMETRIC)
		log_warnx("upstream: mappings cannot be reached from the internet: upstream NAT is "
			  "symmetric (STUN at %s: public address %s, a port per peer)", server, public);
	else
		log_warnx("upstream: STUN at %s: public address %s, the upstream NAT is %s; with no "
			  "mapping service there, mappings cannot be reached from the internet unless "
			  "it forwards them", server, public,
			  r->nat == STUN_NAT_INDEPENDENT ? "not symmetric" : "of an unknown kind");
}

static void found(struct upstream *u, enum upstream_protocol p)
{
	char server[INET_ADDRSTRLEN], ext[INET_ADDRSTRLEN] = "not told";

	evtimer_del(u->timer);
	u->step = STEP_NONE;
	u->st.state = UPSTREAM_FOUND;
	u->st.protocol = p;
	u->st.has_epoch = p != UPSTREAM_UPNP;
	u->st.why = NULL;
	u->warned_unreachable = false;
	inet_ntop(AF_INET, &u->st.server, server, sizeof(server));
	if (u->st.has_external)
		inet_ntop(AF_INET, &u->st.external, ext, sizeof(ext));
	log_info("upstream: %s at %s (%s), external address %s",
		 p == UPSTREAM_PCP ? "PCP" : p == UPSTREAM_NATPMP ? "NAT-PMP" : "UPnP IGD",
		 server, upstream_server_source(&u->st), ext);
	u->epoch_seen = u->st.epoch;
	u->epoch_seen_ms = now_ms();
	arm_probe(u);
	if (u->changed)
		u->changed(u->changed_arg, false);
}

/* The address we send from, as a PCP request's header names it (RFC 6887
 * §8.1). */
static struct in6_addr own_source(const struct upstream *u)
{
	struct sockaddr_in self;
	socklen_t self_len = sizeof(self);

	if (getsockname(u->fd, (struct sockaddr *)&self, &self_len) < 0)
		return in6addr_any;
	return addr_from_v4(self.sin_addr);
}

/* Is it there, and what is its epoch (and, over NAT-PMP, our address)?
 * PCP's ANNOUNCE, or NAT-PMP's external address request. A refusal (ICMP
 * port unreachable) shows on the next read. */
static void send_question(struct upstream *u, bool pcp)
{
	uint8_t buf[PCP_HEADER_LEN];
	size_t len = 2;

	if (pcp) {
		struct pcp_request req = { .opcode = PCP_OP_ANNOUNCE, .client_addr = own_source(u) };

		len = pcp_build_request(buf, sizeof(buf), &req);
	} else {
		buf[0] = NATPMP_VERSION;
		buf[1] = NATPMP_OP_EXTERNAL_ADDRESS;
	}
	if (len && send(u->fd, buf, len, 0) < 0 && errno != ECONNREFUSED && errno != EAGAIN)
		log_debug("upstream: send: %s", strerror(errno));
}

static void send_request(struct upstream *u)
{
	send_question(u, u->step == STEP_PCP_ANNOUNCE);
	u->tries++;
	arm(u, u->wait_ms);
	u->wait_ms *= 2;
}

static void begin_step(struct upstream *u, enum step step)
{
	u->step = step;
	u->tries = 0;
	if (step == STEP_PCP_ANNOUNCE) {
		u->max_tries = PCP_TRIES;
		u->wait_ms = PCP_FIRST_WAIT_MS;
	} else {
		u->max_tries = u->cfg->upstream == CONFIG_UPSTREAM_NATPMP ? NATPMP_TRIES_PINNED :
									     NATPMP_TRIES_AFTER_PCP;
		u->wait_ms = NATPMP_FIRST_WAIT_MS;
	}
	send_request(u);
}

static void begin_upnp(struct upstream *u)
{
	evtimer_del(u->timer);
	u->step = STEP_UPNP;
	if (!upstream_upnp_search(u->upnp, u->st.server,
				  if_nametoindex(u->cfg->external_interface)))
		give_up(u, "cannot open a socket for SSDP");
}

/* This step got no answer (or a refusal): the next, or nothing. */
static void step_failed(struct upstream *u)
{
	/* PCP is there, but tells our address only with a mapping. */
	if (u->pcp_answered)
		found(u, UPSTREAM_PCP);
	else if (u->step == STEP_PCP_ANNOUNCE && u->cfg->upstream == CONFIG_UPSTREAM_AUTO)
		begin_step(u, STEP_NATPMP_ADDRESS);
	else if (u->step == STEP_NATPMP_ADDRESS && u->cfg->upstream == CONFIG_UPSTREAM_AUTO)
		begin_upnp(u);
	else
		give_up(u, u->cfg->upstream == CONFIG_UPSTREAM_PCP ? "no PCP server answers" :
			   "no NAT-PMP server answers");
}

/* The IGD search's end (upstream_upnp.c). */
static void upnp_found(void *arg, bool ok, const struct in_addr *external, const char *why)
{
	struct upstream *u = arg;

	if (u->step != STEP_UPNP)
		return;
	if (!ok) {
		/* Asked after PCP and NAT-PMP went unanswered: all three. */
		give_up(u, u->cfg->upstream == CONFIG_UPSTREAM_UPNP ? why :
			   strcmp(why, "no UPnP IGD answers") == 0 ?
				     "no PCP, NAT-PMP or UPnP IGD server answers" : why);
		return;
	}
	u->st.has_external = external != NULL;
	if (external)
		u->st.external = *external;
	u->st.epoch = 0;
	found(u, UPSTREAM_UPNP);
}

/* A NAT-PMP answer to the external address request. */
static void natpmp_answered(struct upstream *u, const struct natpmp_response *r)
{
	if (r->opcode != NATPMP_OP_EXTERNAL_ADDRESS)
		return;
	if (r->result == NATPMP_SUCCESS) {
		u->st.has_external = true;
		u->st.external = r->external;
	}
	if (u->pcp_answered) {
		found(u, UPSTREAM_PCP);
	} else {
		u->st.epoch = r->epoch;
		found(u, UPSTREAM_NATPMP);
	}
}

/* The wait after the n-th send of a mapping's request, or 0: give up. */
static unsigned map_wait_ms(const struct upstream *u, unsigned sent)
{
	if (u->st.protocol == UPSTREAM_PCP)
		return sent - 1 < sizeof(pcp_map_waits_ms) / sizeof(pcp_map_waits_ms[0]) ?
			       pcp_map_waits_ms[sent - 1] : 0;
	return sent - 1 < sizeof(natpmp_map_waits_ms) / sizeof(natpmp_map_waits_ms[0]) ?
		       natpmp_map_waits_ms[sent - 1] : 0;
}

static void arm_maps(struct upstream *u)
{
	uint64_t next = UINT64_MAX, now = now_ms();

	for (size_t i = 0; i < MAPS_IN_FLIGHT; i++)
		if (u->asks[i].used && u->asks[i].next_ms < next)
			next = u->asks[i].next_ms;
	evtimer_del(u->map_timer);
	if (next != UINT64_MAX) {
		uint64_t ms = next > now ? next - now : 0;
		struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

		evtimer_add(u->map_timer, &tv);
	}
}

static void send_map(struct upstream *u, struct map_ask *a)
{
	uint8_t buf[PCP_HEADER_LEN + PCP_MAP_LEN];
	size_t len;

	if (u->st.protocol == UPSTREAM_PCP) {
		struct pcp_request req = { .opcode = PCP_OP_MAP, .lifetime = a->lifetime,
					   .client_addr = own_source(u), .protocol = a->proto,
					   .internal_port = a->port,
					   .suggested_external_port = a->upstream_port ? a->upstream_port :
											  a->port };

		memcpy(req.nonce, a->nonce, sizeof(req.nonce));
		if (u->st.has_external)
			req.suggested_external_addr = addr_from_v4(u->st.external);
		len = pcp_build_request(buf, sizeof(buf), &req);
	} else {
		len = natpmp_build_map_request(buf, sizeof(buf),
					       a->proto == IPPROTO_TCP ? NATPMP_OP_MAP_TCP :
									 NATPMP_OP_MAP_UDP,
					       a->port, a->upstream_port ? a->upstream_port : a->port,
					       a->lifetime);
	}
	if (len && send(u->fd, buf, len, 0) < 0 && errno != ECONNREFUSED && errno != EAGAIN)
		log_debug("upstream: send: %s", strerror(errno));
	a->sent++;
	a->next_ms = now_ms() + map_wait_ms(u, a->sent);
}

static void tell(struct upstream *u, const struct map_ask *a, bool ok, uint16_t external_port,
		 uint32_t lifetime, const char *why)
{
	struct upstream_mapped m = { .proto = a->proto, .port = a->port, .ok = ok,
				     .external_port = external_port, .lifetime = lifetime,
				     .why = why, .again = !ok && why == looked_for_again };

	/* A delete's answer matters to no one. */
	if (a->lifetime && u->mapped)
		u->mapped(u->mapped_arg, &m);
}

static struct map_ask *ask_of(struct upstream *u, uint8_t proto, uint16_t port)
{
	for (size_t i = 0; i < MAPS_IN_FLIGHT; i++)
		if (u->asks[i].used && u->asks[i].proto == proto && u->asks[i].port == port)
			return &u->asks[i];
	return NULL;
}

/* A PCP mapping's nonce: the same for every request about it (the server
 * lets only its holder renew or delete it), unguessable by others. */
static void nonce_of(const struct upstream *u, uint8_t proto, uint16_t port,
		     uint8_t nonce[PCP_NONCE_LEN])
{
	memcpy(nonce, u->nonce_key, PCP_NONCE_LEN);
	nonce[0] ^= proto;
	nonce[1] ^= (uint8_t)(port >> 8);
	nonce[2] ^= (uint8_t)port;
}

/* The upstream's epoch in an answer: one that went back lost its
 * mappings (it restarted), and every twin is asked for again. */
static void heard_epoch(struct upstream *u, uint32_t epoch)
{
	uint64_t now = now_ms(), elapsed = (now - u->epoch_seen_ms) / 1000;
	bool lost = (uint64_t)epoch + 2 < u->epoch_seen + elapsed * 7 / 8;

	if (lost)
		log_warnx("upstream: its epoch is %u s where %llu s were due: it lost its "
			  "mappings; each is asked for again", epoch,
			  (unsigned long long)(u->epoch_seen + elapsed));
	u->epoch_seen = epoch;
	u->epoch_seen_ms = now;
	u->st.epoch = epoch;
	if (lost && u->changed)
		u->changed(u->changed_arg, true);
}

/* The answer to a probe: its epoch, and (NAT-PMP) our address there. */
static void probe_answered(struct upstream *u, uint32_t epoch, const struct in_addr *external)
{
	char before[INET_ADDRSTRLEN], after[INET_ADDRSTRLEN];

	if (external && (!u->st.has_external || u->st.external.s_addr != external->s_addr)) {
		inet_ntop(AF_INET, &u->st.external, before, sizeof(before));
		inet_ntop(AF_INET, external, after, sizeof(after));
		log_warnx("upstream: it maps us to %s now (was %s); each mapping is asked for again",
			  after, u->st.has_external ? before : "not told");
		u->st.has_external = true;
		u->st.external = *external;
		u->epoch_seen = epoch;
		u->epoch_seen_ms = now_ms();
		u->st.epoch = epoch;
		if (u->changed)
			u->changed(u->changed_arg, true);
		return;
	}
	if (u->st.has_epoch)
		heard_epoch(u, epoch);
}

/* An answer to one of our mapping requests, or to a probe. */
static void map_answered(struct upstream *u, const uint8_t *buf, size_t len)
{
	struct pcp_response pr;
	struct natpmp_response nr;
	struct map_ask *a;
	uint8_t nonce[PCP_NONCE_LEN];

	if (natpmp_parse_response(buf, len, &nr) == 0 && nr.opcode == NATPMP_OP_EXTERNAL_ADDRESS) {
		probe_answered(u, nr.epoch, nr.result == NATPMP_SUCCESS ? &nr.external : NULL);
		return;
	}
	if (u->st.protocol == UPSTREAM_PCP) {
		if (pcp_parse_response(buf, len, &pr) == 0 && pr.opcode == PCP_OP_ANNOUNCE) {
			probe_answered(u, pr.epoch, NULL);
			return;
		}
		if (pcp_parse_response(buf, len, &pr) < 0 || pr.opcode != PCP_OP_MAP ||
		    !(a = ask_of(u, pr.protocol, pr.internal_port)))
			return;
		nonce_of(u, a->proto, a->port, nonce);
		if (memcmp(nonce, pr.nonce, sizeof(nonce)) != 0)
			return;
		a->used = false;
		if (pr.result == PCP_SUCCESS && addr_is_v4(&pr.assigned_external_addr)) {
			struct in_addr told = addr_to_v4(&pr.assigned_external_addr);

			/* A new address in a mapping's answer is a change like any. */
			probe_answered(u, pr.epoch, &told);
		} else {
			heard_epoch(u, pr.epoch);
		}
		tell(u, a, pr.result == PCP_SUCCESS, pr.assigned_external_port, pr.lifetime,
		     pcp_result_name(pr.result));
	} else {
		if (natpmp_parse_response(buf, len, &nr) < 0 ||
		    (nr.opcode != NATPMP_OP_MAP_TCP && nr.opcode != NATPMP_OP_MAP_UDP) ||
		    !(a = ask_of(u, nr.opcode == NATPMP_OP_MAP_TCP ? IPPROTO_TCP : IPPROTO_UDP,
				 nr.internal_port)))
			return;
		a->used = false;
		heard_epoch(u, nr.epoch);
		tell(u, a, nr.result == NATPMP_SUCCESS, nr.external_port, nr.lifetime,
		     natpmp_result_name(nr.result));
	}
	arm_maps(u);
}

static void on_map_timer(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *u = arg;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	for (size_t i = 0; i < MAPS_IN_FLIGHT; i++) {
		struct map_ask *a = &u->asks[i];

		if (!a->used || a->next_ms > now)
			continue;
		if (map_wait_ms(u, a->sent) == 0 || u->fd < 0) {
			a->used = false;
			tell(u, a, false, 0, 0, "no answer");
		} else {
			send_map(u, a);
		}
	}
	arm_maps(u);
}

static void on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *u = arg;

	(void)fd;
	(void)what;
	if (u->st.state != UPSTREAM_FOUND)
		return;
	if (u->st.protocol == UPSTREAM_UPNP)
		upstream_upnp_probe(u->upnp);
	else if (u->fd >= 0)
		send_question(u, u->st.protocol == UPSTREAM_PCP);
	arm_probe(u);
}

bool upstream_map(struct upstream *u, uint8_t proto, uint16_t port, uint16_t upstream_port,
		  uint32_t lifetime)
{
	struct map_ask *a = ask_of(u, proto, port);

	if (u->st.state == UPSTREAM_FOUND && u->st.protocol == UPSTREAM_UPNP)
		return upstream_upnp_map(u->upnp, proto, port, upstream_port, lifetime);
	if (u->st.state != UPSTREAM_FOUND || u->fd < 0)
		return false;
	for (size_t i = 0; i < MAPS_IN_FLIGHT && !a; i++)
		if (!u->asks[i].used)
			a = &u->asks[i];
	if (!a)
		return false;
	*a = (struct map_ask){ .used = true, .proto = proto, .port = port,
			       .upstream_port = upstream_port, .lifetime = lifetime };
	nonce_of(u, proto, port, a->nonce);
	send_map(u, a);
	arm_maps(u);
	return true;
}

void upstream_set_changed_handler(struct upstream *u, void (*changed)(void *arg, bool lost),
				  void *arg)
{
	u->changed = changed;
	u->changed_arg = arg;
}

void upstream_set_mapped_handler(struct upstream *u, upstream_mapped_fn mapped, void *arg)
{
	u->mapped = mapped;
	u->mapped_arg = arg;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *u = arg;
	uint8_t buf[PCP_MAX_PACKET];
	struct pcp_response pr;
	struct natpmp_response nr;
	ssize_t n;

	(void)what;
	/* A connected socket: only the server's datagrams arrive. */
	while (u->fd == fd && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		if (n < 0) {
			if (errno == ECONNREFUSED &&  /* no one listens */
			    (u->step == STEP_PCP_ANNOUNCE || u->step == STEP_NATPMP_ADDRESS)) {
				evtimer_del(u->timer);
				step_failed(u);
			}
			if (errno == ECONNREFUSED)
				continue;  /* found, then gone: its requests time out */
			return;
		}
		if (u->step == STEP_NONE) {
			map_answered(u, buf, (size_t)n);
			continue;
		}
		if (u->step == STEP_UPNP)
			continue;
		if (u->step == STEP_PCP_ANNOUNCE &&
		    pcp_parse_response(buf, (size_t)n, &pr) == 0 && pr.opcode == PCP_OP_ANNOUNCE) {
			if (pr.result != PCP_SUCCESS) {
				evtimer_del(u->timer);
				step_failed(u);
				return;
			}
			/* PCP tells no address but in a mapping's answer: NAT-PMP's
			 * question, which PCP servers mostly answer too, tells it
			 * now. */
			u->st.epoch = pr.epoch;
			u->pcp_answered = true;
			evtimer_del(u->timer);
			begin_step(u, STEP_NATPMP_ADDRESS);
			return;
		}
		if (natpmp_parse_response(buf, (size_t)n, &nr) == 0) {
			evtimer_del(u->timer);
			/* RFC 6887 §9: a NAT-PMP server answers PCP so. */
			if (u->step == STEP_PCP_ANNOUNCE) {
				step_failed(u);
				return;
			}
			natpmp_answered(u, &nr);
			return;
		}
	}
}

/* A datagram to 224.0.0.1:5350 (or to us on 5350): only the upstream's
 * counts, and only once it is found over PCP or NAT-PMP. */
static void on_announce(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *u = arg;
	uint8_t buf[PCP_MAX_PACKET];
	struct sockaddr_in from;
	socklen_t from_len;
	ssize_t n;

	(void)what;
	for (unsigned i = 0; i < 16; i++) {
		from_len = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
		if (n < 0)
			return;
		if (u->st.state == UPSTREAM_FOUND && u->st.protocol != UPSTREAM_UPNP &&
		    from.sin_addr.s_addr == u->st.server.s_addr &&
		    from.sin_port == htons(PCP_SERVER_PORT))
			map_answered(u, buf, (size_t)n);
	}
}

/* Listens for announcements; without (the port is taken), the 30 s probe
 * still notices. */
static void open_announce(struct upstream *u)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(NATPMP_CLIENT_PORT) };
	int one = 1;

	if (u->announce_fd >= 0)
		return;
	u->announce_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->announce_fd < 0)
		return;
	if (setsockopt(u->announce_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(u->announce_fd, (struct sockaddr *)&any, sizeof(any)) < 0 ||
	    !(u->announce_readable = event_new(u->base, u->announce_fd, EV_READ | EV_PERSIST,
					       on_announce, u)) ||
	    event_add(u->announce_readable, NULL) < 0) {
		log_debug("upstream: cannot listen for announcements on port %d: %s",
			  NATPMP_CLIENT_PORT, strerror(errno));
		if (u->announce_readable)
			event_free(u->announce_readable);
		u->announce_readable = NULL;
		close(u->announce_fd);
		u->announce_fd = -1;
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *u = arg;

	(void)fd;
	(void)what;
	if (u->step == STEP_NONE || u->step == STEP_UPNP) {  /* the wait before asking again */
		upstream_search(u, u->has_own ? &u->own : NULL);
		return;
	}
	if (u->tries < u->max_tries) {
		send_request(u);
		return;
	}
	step_failed(u);
}

/* Reads at most cap bytes of a small local file (the kernel's routing
 * table); -1 when it cannot. */
static ssize_t read_small_file(const char *path, char *buf, size_t cap)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	while ((size_t)total < cap && (n = read(fd, buf + total, cap - (size_t)total)) > 0)
		total += n;
	close(fd);
	return total;
}

/* The PCP server the WAN's DHCP server names, from the DHCP client's
 * lease file (dhclient's for the external interface unless configured). */
static bool dhcp_server(const struct upstream *u, struct in_addr *out)
{
	static char leases[DHCP_LEASES_MAX];
	char path[CONFIG_DHCP_LEASE_FILE_MAX + 64];
	struct stat st;
	ssize_t n, total = 0;
	int fd;

	if (u->cfg->has_upstream_dhcp_leases)
		snprintf(path, sizeof(path), "%s", u->cfg->upstream_dhcp_leases);
	else
		snprintf(path, sizeof(path), "/var/lib/dhcp/dhclient.%s.leases",
			 u->cfg->external_interface);
	if (!*path || (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return false;
	/* dhclient appends each lease: the newest is at the end. */
	if (fstat(fd, &st) == 0 && st.st_size > DHCP_LEASES_MAX)
		(void)lseek(fd, -(off_t)DHCP_LEASES_MAX, SEEK_END);
	while ((size_t)total < sizeof(leases) &&
	       (n = read(fd, leases + total, sizeof(leases) - (size_t)total)) > 0)
		total += n;
	close(fd);
	return dhcp_pcp_server_from_leases(leases, (size_t)total, out);
}

/* The server to ask: the configured one, the one DHCP names, or the
 * default gateway of the external interface. */
static bool find_server(struct upstream *u)
{
	static char table[ROUTE_TABLE_MAX];
	ssize_t n;

	u->st.server_is_gateway = false;
	u->st.server_from_dhcp = false;
	if (u->cfg->has_upstream_server) {
		u->st.server = u->cfg->upstream_server;
		return true;
	}
	if (dhcp_server(u, &u->st.server)) {
		u->st.server_from_dhcp = true;
		return true;
	}
	u->st.server_is_gateway = true;
	n = read_small_file(ROUTE_TABLE, table, sizeof(table));
	return n > 0 && gateway_of(table, (size_t)n, u->cfg->external_interface, &u->st.server);
}

static bool open_socket(struct upstream *u)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PCP_SERVER_PORT),
				  .sin_addr = u->st.server };

	u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		return false;
	if (connect(u->fd, (const struct sockaddr *)&to, sizeof(to)) < 0 ||
	    !(u->readable = event_new(u->base, u->fd, EV_READ | EV_PERSIST, on_readable, u)) ||
	    event_add(u->readable, NULL) < 0) {
		close_socket(u);
		return false;
	}
	return true;
}

/* Requests in flight when the upstream is looked for again fail: the
 * mapper asks again once one is found. */
static void drop_asks(struct upstream *u)
{
	for (size_t i = 0; i < MAPS_IN_FLIGHT; i++)
		if (u->asks[i].used) {
			u->asks[i].used = false;
			tell(u, &u->asks[i], false, 0, 0, looked_for_again);
		}
	evtimer_del(u->map_timer);
	upstream_upnp_stop(u->upnp, looked_for_again);
}

void upstream_search(struct upstream *u, const struct in_addr *external)
{
	if (external) {
		u->has_own = true;
		u->own = *external;
	} else {
		u->has_own = false;
	}
	evtimer_del(u->timer);
	evtimer_del(u->probe_timer);
	drop_asks(u);
	close_socket(u);
	stun_probe_stop(u->stun);
	u->step = STEP_NONE;
	u->pcp_answered = false;
	u->st = (struct upstream_status){ .state = UPSTREAM_OFF };
	if (u->cfg->upstream == CONFIG_UPSTREAM_OFF)
		return;
	open_announce(u);
	if (!find_server(u)) {
		give_up(u, "no default gateway on the external interface");
		return;
	}
	u->st.has_server = true;
	if (!open_socket(u)) {
		give_up(u, "cannot open a socket towards it");
		return;
	}
	u->st.state = UPSTREAM_SEARCHING;
	if (u->cfg->upstream == CONFIG_UPSTREAM_UPNP)
		begin_upnp(u);
	else
		begin_step(u, u->cfg->upstream == CONFIG_UPSTREAM_NATPMP ? STEP_NATPMP_ADDRESS :
									   STEP_PCP_ANNOUNCE);
}

/* A twin's answer from the IGD. */
static void upnp_mapped(void *arg, uint8_t proto, uint16_t port, bool ok, uint16_t external_port,
			uint32_t lifetime, const char *why)
{
	struct upstream *u = arg;
	struct map_ask a = { .proto = proto, .port = port, .lifetime = lifetime ? lifetime : 1 };

	tell(u, &a, ok, external_port, lifetime, why);
}

/* A probe's answer from the IGD: our address there (UPnP has no epoch). */
static void upnp_probed(void *arg, const struct in_addr *external)
{
	struct upstream *u = arg;

	if (external && u->st.state == UPSTREAM_FOUND && u->st.protocol == UPSTREAM_UPNP)
		probe_answered(u, 0, external);
	else if (!external)
		log_debug("upstream: the UPnP IGD did not answer a probe");
}

struct upstream *upstream_new(struct event_base *base, const struct config *cfg)
{
	struct upstream *u = calloc(1, sizeof(*u));
	const struct upstream_upnp_handlers upnp_handlers = {
		.found = upnp_found, .mapped = upnp_mapped, .probed = upnp_probed, .arg = u
	};

	if (!u)
		return NULL;
	u->base = base;
	u->cfg = cfg;
	u->fd = -1;
	u->announce_fd = -1;
	if (!(u->timer = evtimer_new(base, on_timer, u)) ||
	    !(u->map_timer = evtimer_new(base, on_map_timer, u)) ||
	    !(u->probe_timer = evtimer_new(base, on_probe, u)) ||
	    !(u->upnp = upstream_upnp_new(base, &upnp_handlers)) ||
	    !(u->stun = stun_probe_new(base, stun_told, u))) {
		if (u->timer)
			event_free(u->timer);
		if (u->map_timer)
			event_free(u->map_timer);
		if (u->probe_timer)
			event_free(u->probe_timer);
		upstream_upnp_free(u->upnp);
		free(u);
		return NULL;
	}
	/* Kept across restarts: the twins a PCP upstream holds are renewed
	 * by whoever has their nonces. */
	(void)state_secret(cfg, "upstream-nonce-key", u->nonce_key, sizeof(u->nonce_key));
	return u;
}

void upstream_free(struct upstream *u)
{
	if (!u)
		return;
	close_socket(u);
	if (u->announce_readable)
		event_free(u->announce_readable);
	if (u->announce_fd >= 0)
		close(u->announce_fd);
	upstream_upnp_free(u->upnp);
	stun_probe_free(u->stun);
	event_free(u->timer);
	event_free(u->map_timer);
	event_free(u->probe_timer);
	free(u);
}

void upstream_status(const struct upstream *u, struct upstream_status *st)
{
	*st = u->st;
}
