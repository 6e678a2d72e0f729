/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/nft_watch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "priv/forwards.h"
#include "lib/log.h"
#include "lib/nl_listener.h"
#include "lib/nlmsg.h"

#define READS_PER_EVENT 16
#define TABLE_NAME_MAX 64

struct nft_watch {
	struct nl_listener listener;
	char table[TABLE_NAME_MAX];
	char forward_chain[TABLE_NAME_MAX];
	uint32_t own_portid;
	void (*damaged)(void *arg);
	void (*others)(void *arg);
	void *arg;
};

/* In every nf_tables object, attribute 1 is the table it belongs to; the
 * object's own name follows (NFTA_CHAIN_NAME is 3, after the handle). */
#define ATTR_TABLE 1
#define ATTR_SET_NAME 2    /* NFTA_SET_NAME */
#define ATTR_RULE_CHAIN 2  /* NFTA_RULE_CHAIN */
#define ATTR_CHAIN_NAME 3  /* NFTA_CHAIN_NAME */
/* What our objects are called in a firewall's table (nft.c). */
#define INTEGRATED_PREFIX "portleased_"

struct names {
	uint16_t name_attr;  /* 0: the table is all we need */
	const char *table, *name;
};

static int find_names(const struct nlattr *attr, void *data)
{
	struct names *n = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type != ATTR_TABLE && (n->name_attr == 0 || type != n->name_attr))
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_OK;
	if (type == ATTR_TABLE)
		n->table = mnl_attr_get_str(attr);
	else
		n->name = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

static bool is_ours(const char *name)
{
	return strncmp(name, INTEGRATED_PREFIX, strlen(INTEGRATED_PREFIX)) == 0;
}

bool nft_watch_concerns(const void *buf, size_t len, const char *table, const char *forward_chain,
			uint32_t own_portid)
{
	int left = (int)(len > INT32_MAX ? INT32_MAX : len);

	for (const struct nlmsghdr *h = buf; nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
		const struct nfgenmsg *g;
		struct names names = { 0 };
		uint16_t type = h->nlmsg_type;

		if (NFNL_SUBSYS_ID(type) != NFNL_SUBSYS_NFTABLES || h->nlmsg_pid == own_portid)
			continue;
		switch (NFNL_MSG_TYPE(type)) {
		case NFT_MSG_NEWTABLE:  /* back after a firewall stop */
		case NFT_MSG_DELTABLE:
			break;
		case NFT_MSG_DELCHAIN:
			names.name_attr = ATTR_CHAIN_NAME;
			break;
		case NFT_MSG_DELSET:
			names.name_attr = ATTR_SET_NAME;
			break;
		case NFT_MSG_DELRULE:
			names.name_attr = ATTR_RULE_CHAIN;
			break;
		default:
			continue;
		}
		if (mnl_nlmsg_get_payload_len(h) < sizeof(*g))
			continue;
		g = mnl_nlmsg_get_payload(h);
		if (g->nfgen_family != NFPROTO_INET)
			continue;
		if (mnl_attr_parse(h, sizeof(*g), find_names, &names) < 0 || !names.table ||
		    strcmp(names.table, table) != 0)
			continue;
		if (names.name_attr == 0 || !*forward_chain)
			return true;  /* the table, or anything in our own table */
		if (!names.name)
			continue;
		if (is_ours(names.name))
			return true;
		/* Our jump is a rule of the firewall's forward chain. */
		if (names.name_attr == ATTR_RULE_CHAIN && strcmp(names.name, forward_chain) == 0)
			return true;
	}
	return false;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct nft_watch *w = arg;
	bool damaged = false, others = false;

	(void)what;
	for (int i = 0; i < READS_PER_EVENT; i++) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (len < 0 && errno == ENOBUFS) {
			/* Notices were lost: look as if the worst happened. */
			damaged = others = true;
			continue;
		}
		if (len < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("nf_tables notifications: recv");
			break;
		}
		damaged |= nft_watch_concerns(buf, (size_t)len, w->table, w->forward_chain,
					      w->own_portid);
		others |= forwards_changed_by_notice(buf, (size_t)len, w->own_portid);
	}
	if (damaged)
		w->damaged(w->arg);
	if (others && w->others)
		w->others(w->arg);
}

struct nft_watch *nft_watch_new(struct event_base *base, const char *table,
				const char *forward_chain, uint32_t own_portid,
				void (*damaged)(void *arg), void *arg, char *err, size_t errlen)
{
	struct nft_watch *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "nf_tables notifications: out of memory");
		return NULL;
	}
	snprintf(w->table, sizeof(w->table), "%s", table);
	snprintf(w->forward_chain, sizeof(w->forward_chain), "%s", forward_chain);
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

void nft_watch_on_others(struct nft_watch *w, void (*others)(void *arg))
{
	w->others = others;
}

void nft_watch_free(struct nft_watch *w)
{
	if (!w)
		return;
	nl_listener_close(&w->listener);
	free(w);
}
