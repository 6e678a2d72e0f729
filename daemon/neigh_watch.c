/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/neigh_watch.h"

#include <errno.h>
#include <poll.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/addr.h"
#include "lib/log.h"
#include "daemon/neigh_table.h"
#include "lib/nl_listener.h"

/* A dump of a big table, or a burst of notices, is read in rounds. */
#define READS_PER_EVENT 32
#define READS_PER_MISS 4
/* At start, before the loop runs: mappings restored from the lease file
 * are counted for their hosts, so the table is read first. */
#define FIRST_DUMP_MS 1000

struct neigh_watch {
	struct nl_listener listener;
	struct neigh_table table;
	bool dumping;   /* a dump's answer is still coming */
	bool redump;    /* notices were lost while it was: dump again after it */
	uint32_t seq;
};

static void request_dump(struct neigh_watch *w)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;

	h->nlmsg_type = RTM_GETNEIGH;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = ++w->seq;
	nd = mnl_nlmsg_put_extra_header(h, sizeof(*nd));
	nd->ndm_family = AF_UNSPEC;
	if (mnl_socket_sendto(w->listener.nl, h, h->nlmsg_len) < 0) {
		log_warn("rtnetlink: cannot read the neighbour table");
		return;
	}
	w->dumping = true;
}

/* Reads at most rounds datagrams; false when none was waiting. */
static bool read_some(struct neigh_watch *w, int rounds)
{
	int fd = mnl_socket_get_fd(w->listener.nl);
	bool any = false;

	for (int i = 0; i < rounds; i++) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (len < 0 && errno == ENOBUFS) {
			/* Notices were lost: what the table holds may be stale.
			 * Read it whole again (after the dump under way). */
			if (w->dumping) {
				w->redump = true;
			} else {
				neigh_table_clear(&w->table);
				request_dump(w);
			}
			continue;
		}
		if (len < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("rtnetlink: recv");
			break;
		}
		any = true;
		if (neigh_table_apply(&w->table, buf, (size_t)len) && w->dumping) {
			w->dumping = false;
			if (w->redump) {
				w->redump = false;
				neigh_table_clear(&w->table);
				request_dump(w);
			}
		}
	}
	return any;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	read_some(arg, READS_PER_EVENT);
}

struct neigh_watch *neigh_watch_new(struct event_base *base, uint32_t seed, char *err,
				    size_t errlen)
{
	struct neigh_watch *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "rtnetlink: out of memory");
		return NULL;
	}
	/* calloc'd, so already empty: neigh_table_init would write all of its
	 * 192 KiB, where a LAN of a few hosts touches a few pages. */
	w->table.seed = seed;
	w->seq = (uint32_t)time(NULL);
	if (nl_listener_open(&w->listener, base, NETLINK_ROUTE, RTNLGRP_NEIGH, on_readable, w) < 0) {
		snprintf(err, errlen, "rtnetlink: cannot watch the neighbour table: %s",
			 strerror(errno));
		free(w);
		return NULL;
	}
	request_dump(w);
	for (int waited = 0; w->dumping && waited < FIRST_DUMP_MS; waited += 50) {
		struct pollfd p = { .fd = mnl_socket_get_fd(w->listener.nl), .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			read_some(w, READS_PER_EVENT);
	}
	return w;
}

void neigh_watch_free(struct neigh_watch *w)
{
	if (!w)
		return;
	nl_listener_close(&w->listener);
	free(w);
}

struct host_id neigh_watch_host(struct neigh_watch *w, const struct in6_addr *addr)
{
	uint8_t mac[6];

	if (w && (neigh_table_lookup(&w->table, addr, mac) ||
		  (read_some(w, READS_PER_MISS) && neigh_table_lookup(&w->table, addr, mac))))
		return host_id_of_mac(mac);
	return host_id_unresolved(addr_is_v4(addr));
}

size_t neigh_watch_count(const struct neigh_watch *w, uint64_t *not_kept)
{
	*not_kept = w ? w->table.not_kept : 0;
	return w ? w->table.count : 0;
}
