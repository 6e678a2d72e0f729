/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/router_ports.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/nlmsg.h"

/* TCP states as sock_diag reports them (include/net/tcp_states.h). */
#define STATE_LISTEN 10
#define STATE_CLOSE 7  /* an unconnected UDP socket */

struct router_ports {
	struct mnl_socket *nl;
	uint32_t seq;
};

struct router_ports *router_ports_open(char *err, size_t errlen)
{
	struct router_ports *rp = calloc(1, sizeof(*rp));

	if (!rp || !(rp->nl = mnl_socket_open(NETLINK_SOCK_DIAG)) ||
	    mnl_socket_bind(rp->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "sock_diag: %s", strerror(errno));
		router_ports_close(rp);
		return NULL;
	}
	rp->seq = (uint32_t)time(NULL);
	return rp;
}

void router_ports_close(struct router_ports *rp)
{
	if (!rp)
		return;
	if (rp->nl)
		mnl_socket_close(rp->nl);
	free(rp);
}

bool router_ports_socket_takes(int family, const void *bound_addr, unsigned bound_ifindex,
			       bool v6only, const struct in_addr *external,
			       unsigned external_ifindex)
{
	static const uint8_t v4mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };
	struct in_addr v4;

	/* Bound to another interface, it never sees the WAN's packets. */
	if (bound_ifindex != 0 && bound_ifindex != external_ifindex)
		return false;
	if (family == AF_INET) {
		memcpy(&v4, bound_addr, sizeof(v4));
	} else {
		const uint8_t *a = bound_addr;

		if (memcmp(a, &in6addr_any, 16) == 0)
			return !v6only;
		if (memcmp(a, v4mapped_prefix, 12) != 0)
			return false;
		memcpy(&v4, a + 12, sizeof(v4));
	}
	return v4.s_addr == INADDR_ANY || v4.s_addr == external->s_addr;
}

struct query {
	const struct in_addr *external;
	unsigned external_ifindex;
	uint8_t proto;
	bool found;
	/* router_ports_each: told every port found */
	void (*served)(void *arg, uint8_t proto, uint16_t port);
	void *arg;
};

static int on_socket(const struct nlmsghdr *h, void *arg)
{
	struct query *q = arg;
	const struct inet_diag_msg *msg;
	const struct nlattr *attr;
	bool v6only = false;

	if (mnl_nlmsg_get_payload_len(h) < sizeof(*msg))
		return MNL_CB_OK;
	msg = mnl_nlmsg_get_payload(h);
	if (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6)
		return MNL_CB_OK;
	/* Sent for every IPv6 socket, unasked. */
	mnl_attr_for_each(attr, h, sizeof(*msg)) {
		if (mnl_attr_get_type(attr) == INET_DIAG_SKV6ONLY &&
		    mnl_attr_get_payload_len(attr) >= 1)
			v6only = *(const uint8_t *)mnl_attr_get_payload(attr) != 0;
	}
	if (router_ports_socket_takes(msg->idiag_family, msg->id.idiag_src, msg->id.idiag_if,
				      v6only, q->external, q->external_ifindex)) {
		q->found = true;
		if (q->served)
			q->served(q->arg, q->proto, ntohs(msg->id.idiag_sport));
	}
	return MNL_CB_OK;
}

/* One dump of family's proto sockets in states whose local port is port,
 * the port matched by the kernel (an INET_DIAG_BC_S_EQ filter); port 0:
 * every port. */
static int dump(struct router_ports *rp, int family, uint8_t proto, uint32_t states,
		uint16_t port, struct query *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;
	/* port == op[1].no: accepted (jump to the end); else past it. */
	struct inet_diag_bc_op filter[2] = {
		{ .code = INET_DIAG_BC_S_EQ, .yes = sizeof(filter), .no = sizeof(filter) + 4 },
		{ .no = port },
	};
	uint32_t seq = ++rp->seq, portid = mnl_socket_get_portid(rp->nl);
	ssize_t n;
	int rc;

	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(h, sizeof(*req));
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = proto;
	req->idiag_states = states;
	if (port)
		mnl_attr_put(h, INET_DIAG_REQ_BYTECODE, sizeof(filter), filter);
	if (mnl_socket_sendto(rp->nl, h, h->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(rp->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (!nlmsg_ok((const struct nlmsghdr *)buf, (int)n))
			return -EBADMSG;
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, on_socket, q);
		if (rc == MNL_CB_STOP)
			return 0;
		if (rc < 0)
			return -errno;
	}
}

/* Listening TCP sockets; unconnected UDP ones (a connected one takes only
 * its peer's packets). */
static uint32_t states_of(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 1u << STATE_LISTEN : 1u << STATE_CLOSE;
}

int router_ports_serves(struct router_ports *rp, uint8_t proto, uint16_t port,
			const struct in_addr *external, unsigned external_ifindex)
{
	struct query q = { .external = external, .external_ifindex = external_ifindex,
			   .proto = proto };
	static const int families[] = { AF_INET, AF_INET6 };
	int rc;

	if (port == 0)
		return 0;  /* nothing is served on port 0; and 0 means every port to dump() */
	for (size_t i = 0; i < 2 && !q.found; i++)
		if ((rc = dump(rp, families[i], proto, states_of(proto), port, &q)) < 0)
			return rc;
	return q.found;
}

int router_ports_each(struct router_ports *rp, const struct in_addr *external,
		      unsigned external_ifindex,
		      void (*served)(void *arg, uint8_t proto, uint16_t port), void *arg)
{
	static const int families[] = { AF_INET, AF_INET6 };
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	int rc;

	for (size_t p = 0; p < 2; p++) {
		for (size_t i = 0; i < 2; i++) {
			struct query q = { .external = external, .external_ifindex = external_ifindex,
					   .proto = protos[p], .served = served, .arg = arg };

			if ((rc = dump(rp, families[i], protos[p], states_of(protos[p]), 0, &q)) < 0)
				return rc;
		}
	}
	return 0;
}
