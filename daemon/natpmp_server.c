#include "natpmp_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ifaddr.h"
#include "log.h"
#include "natpmp.h"

#define MAX_LISTENERS (CONFIG_MAX_LAN_INTERFACES * 8)
/* Datagrams read per wake-up, so one busy socket cannot starve the others. */
#define READS_PER_EVENT 64

struct listener {
	struct natpmp_server *server;
	int fd;
	struct event *ev;
	struct if_ipv4 local;  /* the address this socket is bound to */
};

struct natpmp_server {
	struct mapper *mapper;
	struct listener listeners[MAX_LISTENERS];
	size_t count;
};

static uint8_t map_result_to_natpmp(enum map_status s)
{
	switch (s) {
	case MAP_OK: return NATPMP_SUCCESS;
	case MAP_DENIED: return NATPMP_NOT_AUTHORIZED;
	case MAP_UNSUPPORTED:
	case MAP_NOT_OWNER: return NATPMP_NOT_AUTHORIZED;
	case MAP_NO_EXTERNAL_ADDRESS: return NATPMP_NETWORK_FAILURE;
	case MAP_NO_FREE_PORT:
	case MAP_PORT_UNAVAILABLE:
	case MAP_TABLE_FULL:
	case MAP_BACKEND_FAILED: return NATPMP_OUT_OF_RESOURCES;
	}
	return NATPMP_OUT_OF_RESOURCES;
}

/*
 * Map requests, RFC 6886 §3.3 and §3.4:
 *   lifetime > 0, internal port > 0   create or refresh; the suggested
 *                                      external port is only a hint
 *   lifetime 0,   internal port > 0   delete this client's mapping of that
 *                                      port (success even if there is none)
 *   lifetime 0,   internal port 0     delete all of the client's mappings of
 *                                      this protocol
 *   lifetime > 0, internal port 0     meaningless: NOT_AUTHORIZED
 * Deletions answer external port 0 and lifetime 0.
 */
static size_t answer_map(struct mapper *mapper, const struct in6_addr *client,
			 const struct natpmp_request *rq, uint8_t *resp, size_t cap)
{
	uint8_t proto = rq->opcode == NATPMP_OP_MAP_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	uint32_t epoch = mapper_epoch(mapper);
	struct map_request mr;
	struct map_result res;

	if (rq->lifetime == 0) {
		struct unmap_request ur = { .client = *client, .internal_addr = *client,
					    .proto = proto, .internal_port = rq->internal_port };
		enum natpmp_result result = NATPMP_SUCCESS;
		if (rq->internal_port == 0)
			mapper_unmap_all(mapper, &ur);
		else if (mapper_unmap(mapper, &ur) != MAP_OK)
			result = NATPMP_NOT_AUTHORIZED;
		return natpmp_build_map(resp, cap, rq->opcode, result, epoch, rq->internal_port, 0, 0);
	}
	if (rq->internal_port == 0)
		return natpmp_build_map(resp, cap, rq->opcode, NATPMP_NOT_AUTHORIZED, epoch, 0, 0, 0);

	mr = (struct map_request){
		.proto = proto,
		.client = *client,
		.internal_addr = *client,
		.internal_port = rq->internal_port,
		.suggested_external_port = rq->suggested_external_port,
		.lifetime = rq->lifetime,
		.origin = LEASE_ORIGIN_NATPMP,
	};
	res = mapper_map(mapper, &mr);
	return natpmp_build_map(resp, cap, rq->opcode, map_result_to_natpmp(res.status), epoch,
				rq->internal_port, res.status == MAP_OK ? res.external_port : 0,
				res.status == MAP_OK ? res.lifetime : 0);
}

size_t natpmp_answer(struct mapper *mapper, const struct in6_addr *client, const uint8_t *req,
		     size_t len, uint8_t *resp, size_t cap)
{
	struct natpmp_request rq;
	struct in_addr external = { 0 };
	bool known;

	switch (natpmp_parse_request(req, len, &rq)) {
	case NATPMP_PARSE_IGNORE:
		return 0;
	case NATPMP_PARSE_UNSUPP_VERSION:
		return natpmp_build_error(resp, cap, rq.opcode, NATPMP_UNSUPP_VERSION,
					  mapper_epoch(mapper));
	case NATPMP_PARSE_UNSUPP_OPCODE:
		return natpmp_build_error(resp, cap, rq.opcode, NATPMP_UNSUPP_OPCODE,
					  mapper_epoch(mapper));
	case NATPMP_PARSE_OK:
		break;
	}
	if (rq.opcode != NATPMP_OP_EXTERNAL_ADDRESS)
		return answer_map(mapper, client, &rq, resp, cap);

	known = mapper_external_address(mapper, &external);
	return natpmp_build_external_address(resp, cap,
					     known ? NATPMP_SUCCESS : NATPMP_NETWORK_FAILURE,
					     mapper_epoch(mapper),
					     known ? external : (struct in_addr){ 0 });
}

/* NAT-PMP serves hosts on the LAN link only: the datagram must have come in
 * on this listener's interface, from an address of its subnet. Anything
 * else, the WAN side included, is dropped without an answer. */
static bool from_lan(const struct listener *li, const struct sockaddr_in *src,
		     const struct in_pktinfo *pi)
{
	uint32_t mask = li->local.netmask.s_addr;

	return pi && pi->ipi_ifindex == (int)li->local.ifindex &&
	       (src->sin_addr.s_addr & mask) == (li->local.addr.s_addr & mask) &&
	       src->sin_addr.s_addr != li->local.addr.s_addr;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct listener *li = arg;

	(void)what;
	for (int i = 0; i < READS_PER_EVENT; i++) {
		uint8_t buf[NATPMP_MAX_REQUEST + 1], resp[64];
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
				log_warn("natpmp: recvmsg on %s", li->local.ifname);
			return;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				pi = (const struct in_pktinfo *)(const void *)CMSG_DATA(c);
		if (msg.msg_namelen != sizeof(src) || !from_lan(li, &src, pi)) {
			log_debug("natpmp: ignoring a datagram from outside the LAN link of %s",
				  li->local.ifname);
			continue;
		}
		if ((size_t)len > NATPMP_MAX_REQUEST || (msg.msg_flags & MSG_TRUNC)) {
			log_debug("natpmp: ignoring an oversized datagram");
			continue;
		}
		client = addr_from_v4(src.sin_addr);
		rlen = natpmp_answer(li->server->mapper, &client, buf, (size_t)len, resp,
				     sizeof(resp));
		if (rlen > 0 && sendto(fd, resp, rlen, MSG_DONTWAIT, (struct sockaddr *)&src,
				       sizeof(src)) < 0)
			log_warn("natpmp: sendto");
	}
}

static int open_listener(struct natpmp_server *s, struct event_base *base,
			 const struct if_ipv4 *local, char *err, size_t errlen)
{
	struct listener *li = &s->listeners[s->count];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(NATPMP_PORT),
				  .sin_addr = local->addr };
	int one = 1;

	li->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (li->fd < 0 ||
	    setsockopt(li->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(li->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
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
	li->ev = event_new(base, li->fd, EV_READ | EV_PERSIST, on_readable, li);
	if (!li->ev || event_add(li->ev, NULL) < 0) {
		snprintf(err, errlen, "cannot register a NAT-PMP socket with libevent");
		close(li->fd);
		return -1;
	}
	s->count++;
	return 0;
}

struct natpmp_server *natpmp_server_new(struct event_base *base, const struct config *cfg,
					struct mapper *mapper, char *err, size_t errlen)
{
	struct natpmp_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->mapper = mapper;
	for (size_t i = 0; i < cfg->lan_interface_count; i++) {
		struct if_ipv4 addrs[8];
		int n = ifaddr_ipv4(cfg->lan_interfaces[i], addrs, 8);

		if (n <= 0) {
			log_warnx("LAN interface %s has no IPv4 address; NAT-PMP is not served there",
				  cfg->lan_interfaces[i]);
			continue;
		}
		for (int j = 0; j < n && j < 8 && s->count < MAX_LISTENERS; j++) {
			char a[ADDR_STRLEN];
			struct in6_addr mapped = addr_from_v4(addrs[j].addr);

			if (open_listener(s, base, &addrs[j], err, errlen) < 0) {
				natpmp_server_free(s);
				return NULL;
			}
			log_info("NAT-PMP listening on %s:%d (%s)", addr_format(&mapped, a), NATPMP_PORT,
				 addrs[j].ifname);
		}
	}
	if (s->count == 0) {
		snprintf(err, errlen, "no LAN interface has an IPv4 address to serve NAT-PMP on");
		natpmp_server_free(s);
		return NULL;
	}
	return s;
}

void natpmp_server_free(struct natpmp_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++) {
		event_free(s->listeners[i].ev);
		close(s->listeners[i].fd);
	}
	free(s);
}
