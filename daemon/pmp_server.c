#include "pmp_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ifaddr.h"
#include "log.h"
#include "natpmp.h"
#include "natpmp_answer.h"
#include "pcp.h"
#include "pcp_answer.h"

#define MAX_LISTENERS (CONFIG_MAX_LAN_INTERFACES * 8)
/* Datagrams read per wake-up, so one busy socket cannot starve the others. */
#define READS_PER_EVENT 64

struct listener {
	struct pmp_server *server;
	int fd;
	struct event *ev;
	struct if_ipv4 local;     /* the address this socket is bound to */
	struct addr_prefix lan;   /* its subnet: where clients may be */
};

/* RFC 6886 §3.2.1 and RFC 6887 §14.1.3: after a restart, or when the
 * external address changes, tell the LAN, ten times, 250 ms apart and
 * doubling, so that a lost datagram or two do not matter. */
#define ANNOUNCE_COUNT 10
#define ANNOUNCE_FIRST_INTERVAL_MS 250

struct pmp_server {
	struct mapper *mapper;
	struct event *announce_timer;
	unsigned announcements_sent;
	struct listener listeners[MAX_LISTENERS];
	size_t count;
};

/* NAT-PMP and PCP serve hosts on the LAN link only: the datagram must have
 * come in on this listener's interface, from another address of its subnet.
 * Anything else, the WAN side included, is dropped without an answer. */
static bool from_lan(const struct listener *li, const struct sockaddr_in *src,
		     const struct in_pktinfo *pi)
{
	struct in6_addr source = addr_from_v4(src->sin_addr);

	return pi && pi->ipi_ifindex == (int)li->local.ifindex &&
	       addr_in_prefix(&source, &li->lan) &&
	       src->sin_addr.s_addr != li->local.addr.s_addr;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct listener *li = arg;

	(void)what;
	for (int i = 0; i < READS_PER_EVENT; i++) {
		uint8_t buf[PCP_MAX_PACKET + 1], resp[PCP_MAX_PACKET];
		char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct sockaddr_in src;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &src, .msg_namelen = sizeof(src),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		const struct in_pktinfo *pi = NULL;
		struct in6_addr client;
		ssize_t len;
		size_t rlen;

		len = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (len < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("udp 5351: recvmsg on %s", li->local.ifname);
			return;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				pi = (const struct in_pktinfo *)(const void *)CMSG_DATA(c);
		if (msg.msg_namelen != sizeof(src) || !from_lan(li, &src, pi)) {
			log_debug("udp 5351: ignoring a datagram from outside the LAN link of %s",
				  li->local.ifname);
			continue;
		}
		if ((size_t)len > PCP_MAX_PACKET || (msg.msg_flags & MSG_TRUNC)) {
			log_debug("udp 5351: ignoring a datagram over %d octets", PCP_MAX_PACKET);
			continue;
		}
		client = addr_from_v4(src.sin_addr);
		if (len >= 1 && buf[0] == NATPMP_VERSION)
			rlen = natpmp_answer(li->server->mapper, &client, buf, (size_t)len, resp,
					     sizeof(resp));
		else
			rlen = pcp_answer(li->server->mapper, &client, &li->lan, buf, (size_t)len,
					  resp, sizeof(resp));
		if (rlen > 0 && sendto(fd, resp, rlen, MSG_DONTWAIT, (struct sockaddr *)&src,
				       sizeof(src)) < 0)
			log_warn("udp 5351: sendto");
	}
}

static void send_to_all_hosts(const struct listener *li, const uint8_t *msg, size_t len)
{
	const struct sockaddr_in all_hosts = { .sin_family = AF_INET,
					       .sin_port = htons(NATPMP_CLIENT_PORT),
					       .sin_addr.s_addr = htonl(INADDR_ALLHOSTS_GROUP) };

	if (sendto(li->fd, msg, len, MSG_DONTWAIT, (const struct sockaddr *)&all_hosts,
		   sizeof(all_hosts)) < 0)
		log_warn("announce on %s", li->local.ifname);
}

static void announce_on(const struct listener *li, struct mapper *mapper)
{
	uint8_t msg[PCP_HEADER_LEN];
	struct in_addr external;

	send_to_all_hosts(li, msg, pcp_build_announce(msg, sizeof(msg), mapper_epoch(mapper)));
	if (mapper_external_address(mapper, &external))
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

static int open_listener(struct pmp_server *s, struct event_base *base,
			 const struct if_ipv4 *local, char *err, size_t errlen)
{
	struct listener *li = &s->listeners[s->count];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(NATPMP_PORT),
				  .sin_addr = local->addr };
	int one = 1, zero = 0;

	li->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (li->fd < 0 ||
	    setsockopt(li->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(li->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    /* Announcements leave through this LAN interface only. */
	    setsockopt(li->fd, IPPROTO_IP, IP_MULTICAST_IF, &local->addr, sizeof(local->addr)) < 0 ||
	    setsockopt(li->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
	    bind(li->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		char a[ADDR_STRLEN];
		struct in6_addr mapped = addr_from_v4(local->addr);
		snprintf(err, errlen, "cannot listen on %s:%d (%s): %s", addr_format(&mapped, a),
			 NATPMP_PORT, local->ifname, strerror(errno));
		if (li->fd >= 0)
			close(li->fd);
		return -1;
	}
	li->server = s;
	li->local = *local;
	li->lan.net = addr_from_v4((struct in_addr){ local->addr.s_addr & local->netmask.s_addr });
	li->lan.len = (uint8_t)(96 + __builtin_popcount(local->netmask.s_addr));
	li->ev = event_new(base, li->fd, EV_READ | EV_PERSIST, on_readable, li);
	if (!li->ev || event_add(li->ev, NULL) < 0) {
		snprintf(err, errlen, "cannot register a NAT-PMP socket with libevent");
		close(li->fd);
		return -1;
	}
	s->count++;
	return 0;
}

struct pmp_server *pmp_server_new(struct event_base *base, const struct config *cfg,
					struct mapper *mapper, char *err, size_t errlen)
{
	struct pmp_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->mapper = mapper;
	s->announce_timer = evtimer_new(base, announce_fired, s);
	if (!s->announce_timer) {
		snprintf(err, errlen, "cannot create the announcement timer");
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < cfg->lan_interface_count; i++) {
		struct if_ipv4 addrs[8];
		int n = ifaddr_ipv4(cfg->lan_interfaces[i], addrs, 8);

		if (n <= 0) {
			log_warnx("LAN interface %s has no IPv4 address; NAT-PMP and PCP are not served there",
				  cfg->lan_interfaces[i]);
			continue;
		}
		for (int j = 0; j < n && j < 8 && s->count < MAX_LISTENERS; j++) {
			char a[ADDR_STRLEN];
			struct in6_addr mapped = addr_from_v4(addrs[j].addr);

			if (open_listener(s, base, &addrs[j], err, errlen) < 0) {
				pmp_server_free(s);
				return NULL;
			}
			log_info("NAT-PMP and PCP listening on %s:%d (%s)", addr_format(&mapped, a), NATPMP_PORT,
				 addrs[j].ifname);
		}
	}
	if (s->count == 0) {
		snprintf(err, errlen, "no LAN interface has an IPv4 address to serve NAT-PMP and PCP on");
		pmp_server_free(s);
		return NULL;
	}
	return s;
}

void pmp_server_free(struct pmp_server *s)
{
	if (!s)
		return;
	if (s->announce_timer)
		event_free(s->announce_timer);
	for (size_t i = 0; i < s->count; i++) {
		event_free(s->listeners[i].ev);
		close(s->listeners[i].fd);
	}
	free(s);
}
