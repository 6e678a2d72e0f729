/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/pmp/pmp_server.h"

#include <errno.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/datagram.h"
#include "lib/ifaddr.h"
#include "lib/log.h"
#include "daemon/approvals.h"
#include "daemon/pmp/natpmp.h"
#include "daemon/pmp/natpmp_answer.h"
#include "daemon/pmp/pcp.h"
#include "daemon/pmp/pcp_answer.h"

#define ADDRESSES_PER_INTERFACE 8
#define MAX_LISTENERS (CONFIG_MAX_LAN_INTERFACES * 2 * ADDRESSES_PER_INTERFACE)
/* Datagrams read per wake-up, so one busy socket cannot starve the others;
 * also how many changes the kernel gets in one transaction. */
#define READS_PER_EVENT 64
/* Room in each socket's receive queue for a burst: 256 requests in flight
 * from one client, and more from others, each small datagram costing a
 * couple of KiB of buffer in the kernel. The default (rmem_default, about
 * 208 KiB) drops part of such a burst, and its clients wait seconds to
 * retransmit. */
#define RECEIVE_BUFFER_BYTES (2 * 1024 * 1024)

struct listener {
	struct pmp_server *server;
	int fd;
	struct event *ev;
	int family;
	struct if_address local;  /* the address this socket is bound to, and its
				     on-link prefix: where clients may be */
	bool announces;           /* the one socket of its link and family that
				     sends the announcements */
	uint32_t dropped_seen;    /* the kernel's count of datagrams it dropped for
				     a full queue, as last read (SO_MEMINFO) */
};

/* RFC 6886 §3.2.1 and RFC 6887 §14.1.3: after a restart, or when the
 * external address changes, tell the LAN, ten times, 250 ms apart and
 * doubling, so that a lost datagram or two do not matter. */
#define ANNOUNCE_COUNT 10
#define ANNOUNCE_FIRST_INTERVAL_MS 250

/* One datagram of a burst, kept until the burst's answers go out. */
struct slot {
	uint8_t request[PCP_MAX_PACKET + 1];
	size_t len;
	struct sockaddr_storage src;
	socklen_t srclen;
	struct in6_addr client;
	bool natpmp;  /* answered as NAT-PMP, not PCP */
	uint8_t answer[PCP_MAX_PACKET];
	size_t answer_len;
	bool parked;  /* its answer waits for the upstream (chain_waiting) */
};

/* A request kept to be answered later, as if it had just come. */
#define KEPT_REQUEST_MAX 512

struct kept_request {
	size_t listener;  /* its index in the server's */
	uint8_t request[KEPT_REQUEST_MAX];
	size_t len;
	struct sockaddr_storage src;
	socklen_t srclen;
	struct in6_addr client;
};

/* A PCP MAP request an "ask" rule left pending: kept, so that the
 * operator's approval answers it at once (RFC 6887 §14.2: a server may
 * send a MAP response unsolicited, to the request's source address and
 * port). One per pending request, the device's last retry; requests
 * longer than KEPT_REQUEST_MAX (many options) wait for their client's
 * retry. */
#define WAITING_MAX APPROVALS_PENDING_MAX

struct waiting {
	uint32_t id;  /* the pending request's; 0: free */
	struct kept_request kept;
};

/* A request whose mapping is granted here and asked of the upstream (this
 * router behind another NAT): answered once the upstream has, with the
 * port and address the internet reaches (mapper_told). The client's
 * retransmissions replace it. */
#define CHAIN_WAITING_MAX 64

struct chain_waiting {
	bool used;
	uint8_t proto;
	uint16_t port;  /* our external port */
	bool natpmp;
	struct kept_request kept;
};

struct pmp_server {
	const struct config *cfg;  /* reread per datagram: a reload applies at once */
	struct slot slots[READS_PER_EVENT];
	struct waiting waiting[WAITING_MAX];
	size_t next_waiting;  /* the slot to reuse when all are taken */
	struct chain_waiting chain_waiting[CHAIN_WAITING_MAX];
	size_t next_chain_waiting;
	struct mapper *mapper;
	struct event *announce_timer;
	unsigned announcements_sent;
	struct listener listeners[MAX_LISTENERS];
	size_t count;
};

/* NAT-PMP and PCP serve hosts on the LAN link only: the datagram must have
 * come in on this listener's interface, from another address of its
 * prefix. Anything else, the WAN side included, is dropped without an
 * answer. */
static bool from_lan(const struct listener *li, const struct in6_addr *source,
		     unsigned ifindex)
{
	return ifindex == li->local.ifindex && ifaddr_on_link(&li->local, source);
}

static void keep_request(struct kept_request *k, const struct pmp_server *s,
			 const struct listener *li, const struct slot *sl)
{
	k->listener = (size_t)(li - s->listeners);
	k->len = sl->len;
	k->src = sl->src;
	k->srclen = sl->srclen;
	k->client = sl->client;
	memcpy(k->request, sl->request, sl->len);
}

static void remember_waiting(struct pmp_server *s, const struct listener *li,
			     const struct slot *sl, uint32_t id)
{
	struct waiting *w = NULL;

	if (sl->natpmp || sl->len > KEPT_REQUEST_MAX || sl->len < PCP_HEADER_LEN ||
	    sl->request[1] != PCP_OP_MAP)
		return;
	for (size_t i = 0; i < WAITING_MAX && !w; i++)
		if (s->waiting[i].id == id)
			w = &s->waiting[i];
	for (size_t i = 0; i < WAITING_MAX && !w; i++)
		if (s->waiting[i].id == 0)
			w = &s->waiting[i];
	if (!w) {
		w = &s->waiting[s->next_waiting];
		s->next_waiting = (s->next_waiting + 1) % WAITING_MAX;
	}
	w->id = id;
	keep_request(&w->kept, s, li, sl);
}

static void park_for_upstream(struct pmp_server *s, const struct listener *li,
			      struct slot *sl, uint8_t proto, uint16_t port)
{
	struct chain_waiting *w = NULL;

	sl->parked = true;
	sl->answer_len = 0;
	if (sl->len > KEPT_REQUEST_MAX)
		return;  /* the client's retransmission is answered */
	for (size_t i = 0; i < CHAIN_WAITING_MAX && !w; i++) {
		struct chain_waiting *c = &s->chain_waiting[i];

		if (c->used && c->proto == proto && c->port == port &&
		    c->kept.srclen == sl->srclen && memcmp(&c->kept.src, &sl->src, sl->srclen) == 0)
			w = c;
	}
	for (size_t i = 0; i < CHAIN_WAITING_MAX && !w; i++)
		if (!s->chain_waiting[i].used)
			w = &s->chain_waiting[i];
	if (!w) {
		w = &s->chain_waiting[s->next_chain_waiting];
		s->next_chain_waiting = (s->next_chain_waiting + 1) % CHAIN_WAITING_MAX;
	}
	*w = (struct chain_waiting){ .used = true, .proto = proto, .port = port,
				     .natpmp = sl->natpmp };
	keep_request(&w->kept, s, li, sl);
}

/* The answer a request waiting for the upstream gets now. */
static size_t chained_answer(struct pmp_server *s, const struct chain_waiting *w, uint8_t *out,
			     size_t cap)
{
	uint32_t epoch = mapper_epoch(s->mapper);
	struct mapper_told t;

	mapper_told(s->mapper, w->proto, w->port, &t);
	if (w->natpmp) {
		struct natpmp_request rq;

		if (natpmp_parse_request(w->kept.request, w->kept.len, &rq) != NATPMP_PARSE_OK)
			return 0;
		return t.granted ? natpmp_build_map(out, cap, rq.opcode, NATPMP_SUCCESS, epoch,
						    rq.internal_port, t.external_port, t.lifetime) :
				   natpmp_build_map(out, cap, rq.opcode, NATPMP_NETWORK_FAILURE, epoch,
						    rq.internal_port, 0, 0);
	} else {
		struct pcp_request rq;
		struct pcp_answer ans = { .epoch = epoch };

		if (pcp_parse_request(w->kept.request, w->kept.len, &rq) != PCP_SUCCESS)
			return 0;
		if (t.granted) {
			ans.result = PCP_SUCCESS;
			ans.lifetime = t.lifetime;
			ans.assigned_external_port = t.external_port;
			ans.assigned_external_addr = addr_from_v4(t.address);
		} else {
			/* No answer upstream: the network; a refusal: resources. */
			ans.result = t.no_answer ? PCP_NETWORK_FAILURE : PCP_NO_RESOURCES;
			ans.lifetime = pcp_error_lifetime(ans.result);
			ans.assigned_external_port = rq.suggested_external_port;
			ans.assigned_external_addr = rq.suggested_external_addr;
		}
		return pcp_build_response(out, cap, w->kept.request, w->kept.len, &rq, &ans);
	}
}

/* The upstream settled our port's twin: its waiting clients are answered. */
static void on_chained(void *arg, uint8_t proto, uint16_t port)
{
	struct pmp_server *s = arg;
	uint8_t out[PCP_MAX_PACKET];

	for (size_t i = 0; i < CHAIN_WAITING_MAX; i++) {
		struct chain_waiting *w = &s->chain_waiting[i];
		const struct listener *li;
		size_t len;

		if (!w->used || w->proto != proto || w->port != port)
			continue;
		w->used = false;
		if (w->kept.listener >= s->count || !(len = chained_answer(s, w, out, sizeof(out))))
			continue;
		li = &s->listeners[w->kept.listener];
		/* Octets 2-3: NAT-PMP's result, or PCP's reserved octet and its. */
		metrics_count_request(mapper_metrics(s->mapper), w->natpmp ? METRICS_NATPMP : METRICS_PCP,
				      true, out[2] == 0 && out[3] == 0);
		if (sendto(li->fd, out, len, MSG_DONTWAIT, (const struct sockaddr *)&w->kept.src,
			   w->kept.srclen) < 0)
			log_warn("udp 5351: the answer after the upstream's");
	}
}

/* Answers one datagram into its slot; false for one not to answer. A PCP
 * MAP request left pending is remembered (remember_waiting); one whose
 * answer waits for the upstream is parked (park_for_upstream). */
static bool answer(const struct listener *li, struct slot *sl)
{
	struct pmp_server *s = li->server;
	uint32_t pending;
	uint8_t chain_proto;
	uint16_t chain_port;

	sl->parked = false;
	/* What another's request (UPnP's) left is not this one's. */
	(void)mapper_take_chain_wait(s->mapper, &chain_proto, &chain_port);
	if ((sl->len >= 1 && sl->request[0] == NATPMP_VERSION) || !s->cfg->enable_pcp) {
		/* NAT-PMP is IPv4 only (RFC 6886). With PCP off, PCP requests
		 * get NAT-PMP's UNSUPP_VERSION, as from a NAT-PMP-only
		 * server, and clients fall back. */
		if (li->family != AF_INET)
			return false;
		sl->natpmp = true;
		sl->answer_len = natpmp_answer(s->mapper, &sl->client, sl->request, sl->len,
					       sl->answer, sizeof(sl->answer));
		if (mapper_take_chain_wait(s->mapper, &chain_proto, &chain_port))
			park_for_upstream(s, li, sl, chain_proto, chain_port);
	} else {
		sl->natpmp = false;
		(void)mapper_take_pending(s->mapper);
		sl->answer_len = pcp_answer(s->mapper, &sl->client, &li->local.net, sl->request,
					    sl->len, sl->answer, sizeof(sl->answer));
		if ((pending = mapper_take_pending(s->mapper)))
			remember_waiting(s, li, sl, pending);
		if (mapper_take_chain_wait(s->mapper, &chain_proto, &chain_port))
			park_for_upstream(s, li, sl, chain_proto, chain_port);
	}
	return true;
}

/* The operator answered pending request id: if its client asked over PCP,
 * it hears at once what its retry would have (an approved request is
 * granted now); a rejected one is forgotten. */
static void on_decided(void *arg, uint32_t id, bool approved)
{
	struct pmp_server *s = arg;
	struct waiting *w = NULL;
	struct slot *sl = &s->slots[0];  /* free: we are not inside a burst */
	const struct listener *li;
	unsigned withdrawn[1];

	for (size_t i = 0; i < WAITING_MAX && !w; i++)
		if (s->waiting[i].id == id)
			w = &s->waiting[i];
	if (!w)
		return;
	w->id = 0;
	if (!approved || w->kept.listener >= s->count || !s->cfg->enable_pcp)
		return;
	li = &s->listeners[w->kept.listener];
	memcpy(sl->request, w->kept.request, w->kept.len);
	sl->len = w->kept.len;
	sl->src = w->kept.src;
	sl->srclen = w->kept.srclen;
	sl->client = w->kept.client;
	mapper_batch_begin(s->mapper);
	mapper_batch_request(s->mapper, 0);
	answer(li, sl);
	if (mapper_batch_end(s->mapper, withdrawn, 1) > 0)
		answer(li, sl);
	if (sl->answer_len > 0 && sendto(li->fd, sl->answer, sl->answer_len, MSG_DONTWAIT,
					 (const struct sockaddr *)&sl->src, sl->srclen) < 0)
		log_warn("udp 5351: the approved request's answer");
}

static void count_answer(const struct pmp_server *s, const struct slot *sl)
{
	size_t len = sl->answer_len;

	/* The result code: octets 2-3 of every NAT-PMP answer, octet 3 of
	 * every PCP one. */
	if (sl->natpmp)
		metrics_count_request(mapper_metrics(s->mapper), METRICS_NATPMP, len >= 4,
				      len >= 4 && sl->answer[2] == 0 && sl->answer[3] == 0);
	else
		metrics_count_request(mapper_metrics(s->mapper), METRICS_PCP, len >= 4,
				      len >= 4 && sl->answer[3] == 0);
}

/* Reads one datagram into sl: 1, or 0 for one to ignore, or -1 when there
 * is none left. */
/* The kernel's running count of datagrams this socket dropped for a full
 * queue (SO_MEMINFO): what is new since the last look goes to the
 * metrics. Asked once per burst read, so the count is current whenever
 * the queue has just been drained. */
static void count_drops(struct listener *li)
{
	uint32_t meminfo[SK_MEMINFO_VARS];
	socklen_t len = sizeof(meminfo);

	if (getsockopt(li->fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len) < 0 ||
	    len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
		return;
	mapper_metrics(li->server->mapper)->receive_dropped +=
		meminfo[SK_MEMINFO_DROPS] - li->dropped_seen;
	li->dropped_seen = meminfo[SK_MEMINFO_DROPS];
}

static int read_request(struct listener *li, struct slot *sl)
{
	char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct iovec iov = { .iov_base = sl->request, .iov_len = sizeof(sl->request) };
	struct msghdr msg = {
		.msg_name = &sl->src, .msg_namelen = sizeof(sl->src),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	unsigned ifindex = 0;
	ssize_t len = recvmsg(li->fd, &msg, MSG_DONTWAIT);

	if (len < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("udp 5351: recvmsg on %s", li->local.ifname);
		return -1;
	}
	if (!datagram_origin(&msg, &sl->client, &ifindex) || !from_lan(li, &sl->client, ifindex)) {
		log_debug("udp 5351: ignoring a datagram from outside the LAN link of %s",
			  li->local.ifname);
		return 0;
	}
	/* A PCP request over 1100 octets is read as its first 1101, and
	 * answered MALFORMED_REQUEST with the first 1100 (RFC 6887 §8.1);
	 * anything else that long is no request of ours. */
	if ((size_t)len > PCP_MAX_PACKET || (msg.msg_flags & MSG_TRUNC)) {
		if (sl->request[0] != PCP_VERSION || !li->server->cfg->enable_pcp) {
			log_debug("udp 5351: ignoring a datagram over %d octets", PCP_MAX_PACKET);
			return 0;
		}
		len = (ssize_t)sizeof(sl->request);
	}
	sl->len = (size_t)len;
	sl->srclen = msg.msg_namelen;
	return 1;
}

/*
 * A burst: every waiting datagram (up to READS_PER_EVENT) is answered
 * with the mapper batching, so that the kernel gets the burst's changes
 * in one transaction; the answers go out once it has. A request whose
 * grant the kernel refused after all is answered again, on its own.
 */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct listener *li = arg;
	struct pmp_server *s = li->server;
	unsigned withdrawn[READS_PER_EVENT];
	size_t count = 0, nwithdrawn;
	int rc;

	(void)what;
	mapper_batch_begin(s->mapper);
	for (int i = 0; i < READS_PER_EVENT; i++) {
		struct slot *sl = &s->slots[count];

		if ((rc = read_request(li, sl)) < 0)
			break;
		if (rc == 0)
			continue;
		mapper_batch_request(s->mapper, (unsigned)count);
		if (answer(li, sl))
			count++;
	}
	count_drops(li);
	nwithdrawn = mapper_batch_end(s->mapper, withdrawn, READS_PER_EVENT);
	for (size_t i = 0; i < nwithdrawn; i++)
		answer(li, &s->slots[withdrawn[i]]);
	for (size_t i = 0; i < count; i++) {
		const struct slot *sl = &s->slots[i];

		if (sl->parked)
			continue;  /* counted when answered */
		count_answer(s, sl);
		/* Answers to forged sources pile up unresolved and fill the
		 * buffer: a warning per client and interval, not per answer. */
		if (sl->answer_len > 0 && sendto(fd, sl->answer, sl->answer_len, MSG_DONTWAIT,
						  (const struct sockaddr *)&sl->src, sl->srclen) < 0 &&
		    mapper_log_admit(s->mapper, &sl->client))
			log_warn("udp 5351: sendto");
	}
}

/* 224.0.0.1 or ff02::1 on the listener's link, port 5350. */
static void send_to_all_hosts(const struct listener *li, const uint8_t *msg, size_t len)
{
	const struct sockaddr_in all_hosts = { .sin_family = AF_INET,
					       .sin_port = htons(NATPMP_CLIENT_PORT),
					       .sin_addr.s_addr = htonl(INADDR_ALLHOSTS_GROUP) };
	const struct sockaddr_in6 all_nodes = {
		.sin6_family = AF_INET6, .sin6_port = htons(NATPMP_CLIENT_PORT),
		.sin6_addr = { .s6_addr = { 0xff, 0x02, [15] = 0x01 } },  /* ff02::1 */
		.sin6_scope_id = li->local.ifindex,
	};
	const struct sockaddr *to = (const struct sockaddr *)&all_hosts;
	socklen_t tolen = sizeof(all_hosts);

	if (li->family == AF_INET6) {
		to = (const struct sockaddr *)&all_nodes;
		tolen = sizeof(all_nodes);
	}
	/* A full send buffer (answers to forged sources waiting for ARP) is
	 * passing, and announcements are repeated: not the operator's worry. */
	if (sendto(li->fd, msg, len, MSG_DONTWAIT, to, tolen) == (ssize_t)len)
		return;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		log_debug("announce on %s: the send buffer is full; the next one is sent",
			  li->local.ifname);
	else
		log_warn("announce on %s", li->local.ifname);
}

static void announce_on(const struct listener *li, struct mapper *mapper)
{
	uint8_t msg[PCP_HEADER_LEN];
	struct in_addr external;

	if (!li->announces)
		return;
	if (li->server->cfg->enable_pcp)
		send_to_all_hosts(li, msg,
				  pcp_build_announce(msg, sizeof(msg), mapper_epoch(mapper)));
	if (li->family == AF_INET && mapper_external_address(mapper, &external))
		send_to_all_hosts(li, msg,
				  natpmp_build_external_address(msg, sizeof(msg), NATPMP_SUCCESS,
								mapper_epoch(mapper), external));
}

static void announce_fired(evutil_socket_t fd, short what, void *arg)
{
	struct pmp_server *s = arg;
	unsigned interval_ms = ANNOUNCE_FIRST_INTERVAL_MS << s->announcements_sent;
	struct timeval tv = { .tv_sec = interval_ms / 1000,
			      .tv_usec = (suseconds_t)(interval_ms % 1000) * 1000 };

	(void)fd;
	(void)what;
	for (size_t i = 0; i < s->count; i++)
		announce_on(&s->listeners[i], s->mapper);
	if (++s->announcements_sent < ANNOUNCE_COUNT)
		evtimer_add(s->announce_timer, &tv);
}

void pmp_server_announce(struct pmp_server *s)
{
	static const struct timeval now = { 0, 0 };

	s->announcements_sent = 0;
	evtimer_add(s->announce_timer, &now);
}

/* RECEIVE_BUFFER_BYTES: past net.core.rmem_max where the process may
 * (CAP_NET_ADMIN: at start, before the privileges go), up to it otherwise. */
static void set_receive_buffer(int fd)
{
	int want = RECEIVE_BUFFER_BYTES;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) < 0)
		log_warn("udp 5351: cannot enlarge the receive buffer");
}

static int open_socket(const struct if_address *local, int family)
{
	int one = 1, zero = 0, fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
					    IPPROTO_UDP);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	set_receive_buffer(fd);
	if (family == AF_INET) {
		struct in_addr v4 = addr_to_v4(&local->addr);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(NATPMP_PORT),
					  .sin_addr = v4 };
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
		    /* Announcements leave through this LAN interface only. */
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &v4, sizeof(v4)) < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	} else {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(NATPMP_PORT),
					   .sin6_addr = local->addr };
		int ifindex = (int)local->ifindex;

		if (IN6_IS_ADDR_LINKLOCAL(&local->addr))
			sa.sin6_scope_id = local->ifindex;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
		    /* An address still in duplicate address detection binds too. */
		    setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int open_listener(struct pmp_server *s, struct event_base *base,
			 const struct if_address *local, int family, bool announces, char *err,
			 size_t errlen)
{
	struct listener *li = &s->listeners[s->count];
	char a[ADDR_STRLEN];

	li->fd = open_socket(local, family);
	if (li->fd < 0) {
		snprintf(err, errlen, "cannot listen on %s port %d (%s): %s",
			 addr_format(&local->addr, a), NATPMP_PORT, local->ifname, strerror(errno));
		return -1;
	}
	li->server = s;
	li->local = *local;
	li->family = family;
	li->announces = announces;
	li->ev = event_new(base, li->fd, EV_READ | EV_PERSIST, on_readable, li);
	if (!li->ev || event_add(li->ev, NULL) < 0) {
		snprintf(err, errlen, "cannot register a NAT-PMP socket with libevent");
		close(li->fd);
		return -1;
	}
	s->count++;
	log_info("%s listening on %s port %d (%s)", family == AF_INET ? "NAT-PMP and PCP" : "PCP",
		 addr_format(&local->addr, a), NATPMP_PORT, local->ifname);
	return 0;
}

/* Every address of one family on one LAN interface; the first announces. */
static int open_family(struct pmp_server *s, struct event_base *base, const char *ifname,
		       int family, char *err, size_t errlen)
{
	struct if_address addrs[ADDRESSES_PER_INTERFACE];
	int n = ifaddr_list(ifname, family, addrs, ADDRESSES_PER_INTERFACE);

	for (int j = 0; j < n && j < ADDRESSES_PER_INTERFACE && s->count < MAX_LISTENERS; j++)
		if (open_listener(s, base, &addrs[j], family, j == 0, err, errlen) < 0)
			return -1;
	return n;
}

struct pmp_server *pmp_server_new(struct event_base *base, const struct config *cfg,
					struct mapper *mapper, char *err, size_t errlen)
{
	struct pmp_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = cfg;
	s->mapper = mapper;
	s->announce_timer = evtimer_new(base, announce_fired, s);
	if (!s->announce_timer) {
		snprintf(err, errlen, "cannot create the announcement timer");
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < cfg->lan_interface_count; i++) {
		const char *ifname = cfg->lan_interfaces[i];
		int n4 = open_family(s, base, ifname, AF_INET, err, errlen), n6;

		if (n4 < 0)
			goto fail;
		if (n4 == 0)
			log_warnx("LAN interface %s has no IPv4 address; NAT-PMP is not served there",
				  ifname);
		n6 = open_family(s, base, ifname, AF_INET6, err, errlen);
		if (n6 < 0)
			goto fail;
	}
	if (s->count == 0) {
		snprintf(err, errlen, "no LAN interface has an address to serve NAT-PMP and PCP on");
		goto fail;
	}
	mapper_set_decided_observer(mapper, on_decided, s);
	(void)mapper_add_chained_observer(mapper, on_chained, s);
	return s;
fail:
	pmp_server_free(s);
	return NULL;
}

void pmp_server_free(struct pmp_server *s)
{
	if (!s)
		return;
	mapper_set_decided_observer(s->mapper, NULL, NULL);
	mapper_remove_chained_observer(s->mapper, on_chained, s);
	if (s->announce_timer)
		event_free(s->announce_timer);
	for (size_t i = 0; i < s->count; i++) {
		event_free(s->listeners[i].ev);
		close(s->listeners[i].fd);
	}
	free(s);
}
