/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "priv/conntrack.h"
#include "lib/nlmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

/* How far below a PEER's lifetime the flow's timeout may read back. */
#define PEER_TIMEOUT_SLACK_S 2

struct conntrack {
	struct mnl_socket *nl;
	uint32_t seq;
};

struct conntrack *conntrack_open(char *err, size_t errlen)
{
	struct conntrack *ct = calloc(1, sizeof(*ct));

	if (!ct) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ct->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!ct->nl || mnl_socket_bind(ct->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "conntrack netlink socket: %s", strerror(errno));
		if (ct->nl)
			mnl_socket_close(ct->nl);
		free(ct);
		return NULL;
	}
	ct->seq = (uint32_t)time(NULL);
	return ct;
}

void conntrack_close(struct conntrack *ct)
{
	if (!ct)
		return;
	mnl_socket_close(ct->nl);
	free(ct);
}

static bool is_v4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

static void put_addr(struct nlmsghdr *nlh, uint16_t v4_type, uint16_t v6_type,
		     const struct in6_addr *a)
{
	if (is_v4(a))
		mnl_attr_put(nlh, v4_type, 4, &a->s6_addr[12]);
	else
		mnl_attr_put(nlh, v6_type, 16, a->s6_addr);
}

static struct nlmsghdr *put_request(struct conntrack *ct, char *buf, uint16_t msg_type,
				    const struct ct_flow *f)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nlattr *tuple, *nest;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg_type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++ct->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = is_v4(&f->internal_addr) ? AF_INET : AF_INET6;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;

	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	put_addr(nlh, CTA_IP_V4_SRC, CTA_IP_V6_SRC, &f->internal_addr);
	put_addr(nlh, CTA_IP_V4_DST, CTA_IP_V6_DST, &f->remote_addr);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, f->proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(f->internal_port));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(f->remote_port));
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, tuple);
	return nlh;
}

/* The reply tuple's destination: where the remote peer sends to; and the
 * seconds the entry has left. */
struct reply_dst {
	bool found;
	struct in6_addr addr;
	uint16_t port;
	bool has_timeout;
	uint32_t timeout;
};

static const struct nlattr *nested(const struct nlattr *parent, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, parent)
		if (mnl_attr_get_type(a) == type && mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
			return a;
	return NULL;
}

static void read_reply_tuple(const struct nlmsghdr *nlh, struct reply_dst *out)
{
	const struct nlattr *a, *tuple = NULL, *ip, *proto;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == CTA_TUPLE_REPLY &&
		    mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
			tuple = a;
		if (mnl_attr_get_type(a) == CTA_TIMEOUT && mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
			out->timeout = ntohl(mnl_attr_get_u32(a));
			out->has_timeout = true;
		}
	}
	if (!tuple || !(ip = nested(tuple, CTA_TUPLE_IP)) || !(proto = nested(tuple, CTA_TUPLE_PROTO)))
		return;
	mnl_attr_for_each_nested(a, ip) {
		if (mnl_attr_get_type(a) == CTA_IP_V4_DST && mnl_attr_get_payload_len(a) == 4) {
			struct in_addr v4;
			memcpy(&v4, mnl_attr_get_payload(a), 4);
			memset(&out->addr, 0, sizeof(out->addr));
			out->addr.s6_addr[10] = out->addr.s6_addr[11] = 0xff;
			memcpy(&out->addr.s6_addr[12], &v4, 4);
			out->found = true;
		} else if (mnl_attr_get_type(a) == CTA_IP_V6_DST &&
			   mnl_attr_get_payload_len(a) == 16) {
			memcpy(out->addr.s6_addr, mnl_attr_get_payload(a), 16);
			out->found = true;
		}
	}
	mnl_attr_for_each_nested(a, proto)
		if (mnl_attr_get_type(a) == CTA_PROTO_DST_PORT && mnl_attr_get_payload_len(a) == 2)
			out->port = ntohs(mnl_attr_get_u16(a));
}

/*
 * Sends one request and reads its answers up to the ACK. The kernel runs a
 * ctnetlink request inside sendmsg(), so the answers are already queued:
 * MSG_DONTWAIT never waits.
 */
static int exchange(struct conntrack *ct, const struct nlmsghdr *req, struct reply_dst *reply)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t portid = mnl_socket_get_portid(ct->nl);

	if (mnl_socket_sendto(ct->nl, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(mnl_socket_get_fd(ct->nl), buf, sizeof(buf), MSG_DONTWAIT);
		int remaining;

		if (len < 0)
			return errno == EINTR ? -EINTR : -EPROTO;
		remaining = (int)len;
		for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		     nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
			if (nlh->nlmsg_seq != req->nlmsg_seq || nlh->nlmsg_pid != portid)
				continue;  /* a late answer to something else */
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
				if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
					return -EPROTO;
				return e->error;
			}
			if (reply && mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct nfgenmsg))
				read_reply_tuple(nlh, reply);
		}
	}
}

int conntrack_peer(struct conntrack *ct, const struct ct_flow *flow, uint32_t lifetime,
		   struct in6_addr *external_addr, uint16_t *external_port)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct reply_dst reply = { .found = false }, check;
	struct nlmsghdr *nlh;
	int rc;

	nlh = put_request(ct, buf, IPCTNL_MSG_CT_GET, flow);
	rc = exchange(ct, nlh, &reply);
	if (rc < 0)
		return rc;
	if (!reply.found || reply.port == 0)
		return -EPROTO;

	/* An update (no NLM_F_CREATE): only the timeout changes. */
	nlh = put_request(ct, buf, IPCTNL_MSG_CT_NEW, flow);
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(lifetime));
	rc = exchange(ct, nlh, NULL);
	if (rc < 0)
		return rc;
	/* What the client is told must be what the kernel keeps: read it
	 * back (a packet of the flow in between sets the protocol's own
	 * timeout again, but not by more than a second or two). */
	nlh = put_request(ct, buf, IPCTNL_MSG_CT_GET, flow);
	check = (struct reply_dst){ .found = false };
	rc = exchange(ct, nlh, &check);
	if (rc < 0)
		return rc;
	if (!check.has_timeout || check.timeout + PEER_TIMEOUT_SLACK_S < lifetime) {
		log_warnx("conntrack: the flow's timeout is %u s after setting it to %u s",
			  check.has_timeout ? check.timeout : 0, lifetime);
		return -EIO;
	}
	*external_addr = reply.addr;
	*external_port = reply.port;
	return 0;
}
