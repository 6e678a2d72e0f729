/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE  /* struct in6_pktinfo */
#include "daemon/upnp/upnp_server_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "lib/datagram.h"
#include "lib/log.h"

/* The link a search came in on. Over IPv6 a host searches from its
 * link-local address, which is on every link of its interface: the first
 * global address there answers. */
static struct link *link_of(struct upnp_server *s, unsigned ifindex, const struct in6_addr *source)
{
	bool link_local = IN6_IS_ADDR_LINKLOCAL(source);

	for (size_t i = 0; i < s->nlinks; i++) {
		const struct link *l = &s->links[i];

		if (l->local.ifindex != ifindex)
			continue;
		if (link_local ? l->family == AF_INET6 : ifaddr_on_link(&l->local, source))
			return &s->links[i];
	}
	return NULL;
}

/* What IGD k says of itself on link l. */
static struct ssdp_announcement announcement(const struct upnp_server *s, const struct link *l,
					     size_t k)
{
	return (struct ssdp_announcement){ .location = l->location[k], .server = s->server_header,
					   .ipv6 = l->family == AF_INET6,
					   .max_age = MAX_AGE, .boot_id = s->boot_id,
					   .config_id = 1 };
}

/* Out of the link's interface; over IPv4 also from its address, so the
 * host sees the answer come from the address it will fetch the description
 * from. (Over IPv6 the kernel picks a source of the destination's scope:
 * link-local for a host that searched from one.) */
static void send_from(const struct upnp_server *s, const struct link *l, const void *to,
		      socklen_t tolen, const char *msg, size_t len)
{
	char control[CMSG_SPACE(sizeof(struct in6_pktinfo))] = { 0 };
	struct iovec iov = { .iov_base = (void *)(uintptr_t)msg, .iov_len = len };
	struct msghdr mh = { .msg_name = (void *)(uintptr_t)to, .msg_namelen = tolen,
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);  /* then shrunk to what it holds */
	int fd = s->ssdp_fd;

	if (l->family == AF_INET) {
		struct in_pktinfo pi = { .ipi_ifindex = (int)l->local.ifindex,
					 .ipi_spec_dst = addr_to_v4(&l->local.addr) };

		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_ifindex = l->local.ifindex };

		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		fd = s->ssdp6_fd;
	}
	if (sendmsg(fd, &mh, MSG_DONTWAIT) < 0 && errno != EAGAIN)
		log_debug("ssdp: sendmsg on %s: %s", l->local.ifname, strerror(errno));
}

/* Sends IGD k's answers of targets that are root devices (roots) or the
 * others, within p's budget; false once the budget is spent. */
static bool send_answers(struct upnp_server *s, struct pending_reply *p, size_t k,
			 const struct ssdp_target *targets, size_t n, bool roots, size_t *sent)
{
	struct ssdp_announcement a = announcement(s, p->link, k);
	char msg[SSDP_MESSAGE_MAX];

	for (size_t i = 0; i < n; i++) {
		size_t len;

		if ((strcmp(targets[i].st, "upnp:rootdevice") == 0) != roots)
			continue;
		len = ssdp_format_response(msg, sizeof(msg), &targets[i], &a);
		if (*sent + len > p->budget)
			return false;
		if (len)
			send_from(s, p->link, &p->to, p->tolen, msg, len);
		*sent += len;
	}
	return true;
}

void upnp_ssdp_reply_fired(evutil_socket_t fd, short what, void *arg)
{
	struct pending_reply *p = arg;
	struct upnp_server *s = p->server;
	struct ssdp_target targets[IGDS_MAX][SSDP_TARGETS_MAX];
	size_t n[IGDS_MAX], sent = 0;
	bool room = true;

	(void)fd;
	(void)what;
	for (size_t k = 0; k < s->nids; k++)
		n[k] = ssdp_targets(&s->ids[k], p->st, s->nids > 1, targets[k]);
	/* Each IGD's root device first, then the rest: within the budget, an
	 * ssdp:all finds every IGD. */
	for (size_t k = 0; k < s->nids && room; k++)
		room = send_answers(s, p, k, targets[k], n[k], true, &sent);
	for (size_t k = 0; k < s->nids && room; k++)
		room = send_answers(s, p, k, targets[k], n[k], false, &sent);
	log_debug("ssdp: %zu bytes of answers to a search for %s (at most %zu)", sent, p->st,
		  p->budget);
	p->used = false;
}

static bool same_endpoint(const struct sockaddr_storage *a, const void *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = b;

	if (a->ss_family != ((const struct sockaddr *)b)->sa_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* UDA 1.1 §1.3.3: answer after a random delay within MX, so that many
 * devices do not all answer at once. */
static void schedule_reply(struct upnp_server *s, struct link *l, const struct msghdr *search_msg,
			   const struct in6_addr *from, const struct ssdp_search *search,
			   size_t search_len)
{
	struct pending_reply *p = NULL;
	struct host_id host = mapper_host_of(s->igd.mapper, from);
	size_t of_host = 0;
	uint32_t r = 0;
	struct timeval delay = { 0, 0 };
	char text[ADDR_STRLEN];

	/* One answer at a time per source (address and port) and target: a
	 * search repeated within MX (clients send two or three) draws it once;
	 * another program of the same host, on its own port, still gets its
	 * own. */
	for (size_t i = 0; i < PENDING_REPLIES_MAX; i++) {
		if (s->pending[i].used && same_endpoint(&s->pending[i].to, search_msg->msg_name) &&
		    strcmp(s->pending[i].st, search->st) == 0) {
			log_debug("ssdp: search from %s dropped: an answer to it is pending",
				  addr_format(from, text));
			return;
		}
		of_host += s->pending[i].used && host_id_equal(&s->pending[i].host, &host);
	}
	/* A host searching from many addresses or ports waits its turn. */
	if (of_host >= PENDING_REPLIES_PER_HOST) {
		log_debug("ssdp: search from %s dropped: its host has %zu replies pending",
			  addr_format(from, text), of_host);
		return;
	}
	for (size_t i = 0; i < PENDING_REPLIES_MAX && !p; i++)
		if (!s->pending[i].used)
			p = &s->pending[i];
	if (!p) {
		log_debug("ssdp: search from %s dropped: %d replies already pending",
			  addr_format(from, text), PENDING_REPLIES_MAX);
		return;
	}
	if (search->has_mx && search->mx > 0) {
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (uint32_t)rand();
		uint32_t ms = r % (search->mx * 1000);

		delay.tv_sec = ms / 1000;
		delay.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	}
	p->used = true;
	memcpy(&p->to, search_msg->msg_name, search_msg->msg_namelen);
	p->tolen = search_msg->msg_namelen;
	p->link = l;
	p->host = host;
	memcpy(p->st, search->st, sizeof(p->st));
	p->budget = search_len * ANSWER_BYTES_PER_SEARCH_BYTE;
	evtimer_add(p->timer, &delay);
}

static bool answered_here(const struct upnp_server *s, const char *st,
			  struct ssdp_target targets[SSDP_TARGETS_MAX]);

static void on_ssdp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct upnp_server *s = arg;

	(void)what;
	for (int i = 0; i < READS_PER_EVENT; i++) {
		char buf[1500];
		char control[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct sockaddr_storage from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = control, .msg_controllen = sizeof(control) };
		struct ssdp_target targets[SSDP_TARGETS_MAX];
		struct ssdp_search search;
		unsigned ifindex = 0;
		struct in6_addr source;
		struct link *l;
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (n < 0)
			return;
		if (!datagram_origin(&mh, &source, &ifindex) || (mh.msg_flags & MSG_TRUNC))
			continue;
		if (!(l = link_of(s, ifindex, &source)))
			continue;  /* not from a LAN host: no answer */
		if (ssdp_parse_search(buf, (size_t)n, &search) < 0)
			continue;
		if (!answered_here(s, search.st, targets))
			continue;
		schedule_reply(s, l, &mh, &source, &search, (size_t)n);
	}
}

/* Whether an IGD here answers st. */
static bool answered_here(const struct upnp_server *s, const char *st,
			  struct ssdp_target targets[SSDP_TARGETS_MAX])
{
	for (size_t k = 0; k < s->nids; k++)
		if (ssdp_targets(&s->ids[k], st, s->nids > 1, targets))
			return true;
	return false;
}

/* Every NOTIFY of IGD igd, on every link. */
static void notify_igd(struct upnp_server *s, size_t igd, bool alive)
{
	struct ssdp_target targets[SSDP_TARGETS_MAX];
	size_t n = ssdp_targets(&s->ids[igd], "ssdp:all", false, targets);
	struct sockaddr_in group = { .sin_family = AF_INET, .sin_port = htons(SSDP_PORT) };
	struct sockaddr_in6 group6 = { .sin6_family = AF_INET6, .sin6_port = htons(SSDP_PORT) };
	char msg[SSDP_MESSAGE_MAX];

	inet_pton(AF_INET, SSDP_GROUP_V4, &group.sin_addr);
	inet_pton(AF_INET6, SSDP_GROUP_V6_LINK, &group6.sin6_addr);
	for (size_t i = 0; i < s->nlinks; i++) {
		const struct link *l = &s->links[i];
		struct ssdp_announcement a = announcement(s, l, igd);

		group6.sin6_scope_id = l->local.ifindex;
		for (size_t k = 0; k < n; k++) {
			size_t len = ssdp_format_notify(msg, sizeof(msg), &targets[k], &a, alive);

			if (!len)
				continue;
			if (l->family == AF_INET)
				send_from(s, l, &group, sizeof(group), msg, len);
			else
				send_from(s, l, &group6, sizeof(group6), msg, len);
		}
	}
}

void upnp_ssdp_notify_all(struct upnp_server *s, bool alive)
{
	for (size_t k = 0; k < s->nids; k++)
		notify_igd(s, k, alive);
}

void upnp_ssdp_notify_fired(evutil_socket_t fd, short what, void *arg)
{
	struct upnp_server *s = arg;
	struct timeval next = { s->notify_rounds + 1 < NOTIFY_START_ROUNDS ? 1 : NOTIFY_INTERVAL, 0 };

	(void)fd;
	(void)what;
	upnp_ssdp_notify_all(s, true);
	s->notify_rounds++;
	evtimer_add(s->notify_timer, &next);
}

bool upnp_has_links(const struct upnp_server *s, int family)
{
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].family == family)
			return true;
	return false;
}

/* The SSDP groups of one family, joined once on each interface that has a
 * link of that family. */
static int join_groups(struct upnp_server *s, int fd, int family, char *err, size_t errlen)
{
	static const char *const groups6[] = { SSDP_GROUP_V6_LINK, SSDP_GROUP_V6_SITE };
	unsigned joined[LINKS_MAX];
	size_t njoined = 0;

	for (size_t i = 0; i < s->nlinks; i++) {
		const struct link *l = &s->links[i];
		bool done = false;
		int rc = 0;

		for (size_t k = 0; k < njoined; k++)
			done |= joined[k] == l->local.ifindex;
		if (done || l->family != family)
			continue;
		if (family == AF_INET) {
			struct ip_mreqn mreq = { .imr_ifindex = (int)l->local.ifindex };

			inet_pton(AF_INET, SSDP_GROUP_V4, &mreq.imr_multiaddr);
			rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq));
		} else {
			for (size_t g = 0; g < 2 && rc == 0; g++) {
				struct ipv6_mreq mreq = { .ipv6mr_interface = l->local.ifindex };

				inet_pton(AF_INET6, groups6[g], &mreq.ipv6mr_multiaddr);
				rc = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof(mreq));
			}
		}
		if (rc < 0) {
			snprintf(err, errlen, "SSDP: cannot join the %s groups on %s: %s",
				 family == AF_INET ? "IPv4" : "IPv6", l->local.ifname, strerror(errno));
			return -1;
		}
		joined[njoined++] = l->local.ifindex;
	}
	return 0;
}

int upnp_ssdp_open(struct upnp_server *s, int family, char *err, size_t errlen)
{
	int one = 1, zero = 0, hops = MULTICAST_TTL;
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(SSDP_PORT) };
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_port = htons(SSDP_PORT),
				     .sin6_addr = IN6ADDR_ANY_INIT };
	bool v6 = family == AF_INET6;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct event *ev;

	*(v6 ? &s->ssdp6_fd : &s->ssdp_fd) = fd;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
			  setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
			  setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
			  setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
			  bind(fd, (struct sockaddr *)&any6, sizeof(any6)) < 0
		: setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
			  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
			  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof(hops)) < 0 ||
			  bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)) {
		snprintf(err, errlen, "SSDP: cannot open UDP port %d (%s): %s", SSDP_PORT,
			 v6 ? "IPv6" : "IPv4", strerror(errno));
		return -1;
	}
	if (join_groups(s, fd, family, err, errlen) < 0)
		return -1;
	ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_ssdp_readable, s);
	*(v6 ? &s->ssdp6_ev : &s->ssdp_ev) = ev;
	if (!ev || event_add(ev, NULL) < 0) {
		snprintf(err, errlen, "SSDP: cannot watch the socket");
		return -1;
	}
	return 0;
}
