#include "nft_watch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "nl_listener.h"
#include "nlmsg.h"

#define READS_PER_EVENT 16
#define TABLE_NAME_MAX 64

struct nft_watch {
	struct nl_listener listener;
	char table[TABLE_NAME_MAX];
	uint32_t own_portid;
	void (*damaged)(void *arg);
	void *arg;
};

/* NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_SET_TABLE and NFTA_RULE_TABLE
 * are all attribute 1: the table an object belongs to. */
#define ATTR_TABLE 1

static int find_table(const struct nlattr *attr, void *data)
{
	const char **name = data;

	if (mnl_attr_get_type(attr) == ATTR_TABLE && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		*name = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

bool nft_watch_concerns(const void *buf, size_t len, const char *table, uint32_t own_portid)
{
	int left = (int)(len > INT32_MAX ? INT32_MAX : len);

	for (const struct nlmsghdr *h = buf; nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
		const struct nfgenmsg *g;
		const char *name = NULL;
		uint16_t type = h->nlmsg_type;

		if (NFNL_SUBSYS_ID(type) != NFNL_SUBSYS_NFTABLES || h->nlmsg_pid == own_portid)
			continue;
		switch (NFNL_MSG_TYPE(type)) {
		case NFT_MSG_DELTABLE:
		case NFT_MSG_DELCHAIN:
		case NFT_MSG_DELSET:
		case NFT_MSG_DELRULE:
			break;
		default:
			continue;
		}
		if (mnl_nlmsg_get_payload_len(h) < sizeof(*g))
			continue;
		g = mnl_nlmsg_get_payload(h);
		if (g->nfgen_family != NFPROTO_INET)
			continue;
		if (mnl_attr_parse(h, sizeof(*g), find_table, &name) < 0 || !name)
			continue;
		if (strcmp(name, table) == 0)
			return true;
	}
	return false;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct nft_watch *w = arg;
	bool damaged = false;

	(void)what;
	for (int i = 0; i < READS_PER_EVENT; i++) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (len < 0 && errno == ENOBUFS) {
			/* Notices were lost: look as if the worst happened. */
			damaged = true;
			continue;
		}
		if (len < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("nf_tables notifications: recv");
			break;
		}
		damaged |= nft_watch_concerns(buf, (size_t)len, w->table, w->own_portid);
	}
	if (damaged)
		w->damaged(w->arg);
}

struct nft_watch *nft_watch_new(struct event_base *base, const char *table, uint32_t own_portid,
				void (*damaged)(void *arg), void *arg, char *err, size_t errlen)
{
	struct nft_watch *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "nf_tables notifications: out of memory");
		return NULL;
	}
	snprintf(w->table, sizeof(w->table), "%s", table);
	w->own_portid = own_portid;
	w->damaged = damaged;
	w->arg = arg;
	if (nl_listener_open(&w->listener, base, NETLINK_NETFILTER, NFNLGRP_NFTABLES, on_readable,
			     w) < 0) {
		snprintf(err, errlen, "nf_tables notifications: %s", strerror(errno));
		free(w);
		return NULL;
	}
	return w;
}

void nft_watch_free(struct nft_watch *w)
{
	if (!w)
		return;
	nl_listener_close(&w->listener);
	free(w);
}
