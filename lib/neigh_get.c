/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/neigh_get.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/addr.h"
#include "lib/nlmsg.h"

struct found {
	bool ok;
	uint8_t mac[6];
};

static int take_attr(const struct nlattr *a, void *data)
{
	struct found *f = data;

	if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == sizeof(f->mac)) {
		memcpy(f->mac, mnl_attr_get_payload(a), sizeof(f->mac));
		f->ok = true;
	}
	return MNL_CB_OK;
}

/* The answer: one RTM_NEWNEIGH, or an error. */
static bool read_answer(const char *buf, int len, uint32_t seq, uint8_t mac[6])
{
	for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; nlmsg_ok(h, len);
	     len -= (int)NLMSG_ALIGN(h->nlmsg_len), h = (const struct nlmsghdr *)((const char *)h + NLMSG_ALIGN(h->nlmsg_len))) {
		const struct ndmsg *nd;
		struct found f = { false, { 0 } };

		if (h->nlmsg_seq != seq || h->nlmsg_type != RTM_NEWNEIGH ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*nd)))
			continue;
		nd = mnl_nlmsg_get_payload(h);
		if (!(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)))
			continue;
		mnl_attr_parse(h, sizeof(*nd), take_attr, &f);
		if (f.ok) {
			memcpy(mac, f.mac, sizeof(f.mac));
			return true;
		}
	}
	return false;
}

static bool ask(struct mnl_socket *nl, unsigned ifindex, const struct in6_addr *addr,
		uint8_t mac[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(h, sizeof(*nd));
	uint32_t seq = (uint32_t)time(NULL);
	bool v4 = addr_is_v4(addr);
	int len;

	h->nlmsg_type = RTM_GETNEIGH;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = seq;
	nd->ndm_family = v4 ? AF_INET : AF_INET6;
	nd->ndm_ifindex = (int)ifindex;
	if (v4)
		mnl_attr_put(h, NDA_DST, 4, &addr->s6_addr[12]);
	else
		mnl_attr_put(h, NDA_DST, 16, addr->s6_addr);
	if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0)
		return false;
	/* The kernel answers at once, from its table: this waits for no one. */
	do
		len = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
	while (len < 0 && errno == EINTR);
	return len > 0 && read_answer(buf, len, seq, mac);
}

bool neigh_get_mac(const char (*ifnames)[IF_NAMESIZE], size_t n, const struct in6_addr *addr,
		   uint8_t mac[6])
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	bool found = false;

	if (!nl)
		return false;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0)
		for (size_t i = 0; i < n && !found; i++) {
			unsigned ifindex = if_nametoindex(ifnames[i]);

			found = ifindex && ask(nl, ifindex, addr, mac);
		}
	mnl_socket_close(nl);
	return found;
}
