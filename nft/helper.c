/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portleased-nft: the privileged half of portleased (priv/priv.h). Started
 * by portleased with one end of a socketpair; keeps CAP_NET_ADMIN and
 * nothing else; owns the netlink sockets to nf_tables and conntrack; does
 * what the other half asks once the request is well formed and its own
 * reading of the config allows it. It ends when asked to, or when the
 * other half is gone (leaving the table, as a crash would).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "nft/helper_serve.h"
#include "priv/conntrack.h"
#include "priv/forwards.h"
#include "lib/ifaddr.h"
#include "lib/log.h"
#include "lib/neigh_get.h"
#include "priv/nft.h"
#include "priv/own_addr.h"
#include "priv/priv.h"
#include "lib/privdrop.h"

/* One request at a time, each answered before the next is read. */
static void serve(struct helper *h, int fd)
{
	static union helper_request u;

	for (;;) {
		ssize_t len = recv(fd, &u, sizeof(u), MSG_TRUNC);
		struct helper_answer a;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return;  /* the other half is gone: leave the kernel state */
		a = helper_answer(h, &u, (size_t)len);
		if (send(fd, a.reply, a.len, MSG_NOSIGNAL) < 0 || a.stop)
			return;
	}
}


static void hello(int fd, int rc, const struct helper *h, const char *message)
{
	struct priv_hello msg = { .rc = rc };

	if (h && h->nft)
		msg.nft_portid = nft_portid(h->nft);
	msg.has_conntrack = h && h->conntrack;
	snprintf(msg.message, sizeof(msg.message), "%s", message);
	send(fd, &msg, sizeof(msg), MSG_NOSIGNAL);
}

/* A client's link-layer address, from the kernel's neighbour table on the
 * LAN interfaces: what a MAC rule of the policy is checked against. */
static bool kernel_mac_of(const struct config *cfg, const struct in6_addr *addr, uint8_t mac[6])
{
	return neigh_get_mac(cfg->lan_interfaces, cfg->lan_interface_count, addr, mac);
}

int main(int argc, char **argv)
{
	static struct helper h;
	bool foreground = false, verbose = false;
	char err[CONFIG_ERROR_MAX], ct_err[CONFIG_ERROR_MAX], fw_err[CONFIG_ERROR_MAX];
	int opt, fd = -1;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("portleased-nft: the privileged helper of portleased(8).\n\n"
		       "portleased starts it over a socketpair, never a person: it keeps\n"
		       "CAP_NET_ADMIN and changes nftables only as portleased's configuration\n"
		       "allows, checking every request again. See PRIVILEGE SEPARATION in\n"
		       "portleased(8).\n");
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("portleased-nft %s\n", PORTLEASED_VERSION);
		return 0;
	}
	opterr = 0;  /* one line below says all there is to say */
	while ((opt = getopt(argc, argv, "s:f:dv")) != -1) {
		switch (opt) {
		case 's': fd = atoi(optarg); break;
		case 'f': h.config_path = optarg; break;
		case 'd': foreground = true; break;
		case 'v': verbose = true; break;
		default: break;
		}
	}
	if (fd < 0 || !h.config_path) {
		fprintf(stderr, "portleased-nft is started by portleased, not by hand (see --help)\n");
		return 2;
	}
	log_init("portleased-nft", foreground ? log_stderr_output() : LOG_TO_SYSLOG, verbose);
	/* The other half decides when to stop (a service manager's SIGTERM
	 * reaches both); nothing may read our memory. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	if (config_load(h.config_path, &h.cfg, err, sizeof(err)) < 0) {
		hello(fd, -EINVAL, NULL, err);
		return 1;
	}
	h.nft = nft_open(h.cfg.nft_table, h.cfg.forward_chain[0] ? h.cfg.forward_chain : NULL,
			 h.cfg.external_interface, h.cfg.pinhole_mark, h.cfg.policy.limits,
			 h.cfg.policy.limit_count, err, sizeof(err));
	if (!h.nft) {
		hello(fd, -EPERM, NULL, err);
		return 1;
	}
	h.conntrack = conntrack_open(ct_err, sizeof(ct_err));
	h.forwards = forwards_open(h.cfg.nft_table, h.cfg.forward_chain, h.cfg.external_interface,
				   nft_portid(h.nft), fw_err, sizeof(fw_err));
	if (!h.forwards)
		log_warnx("%s; ports other tables forward are not kept from clients", fw_err);
	if (privdrop(h.cfg.user, PRIVDROP_NET_ADMIN, err, sizeof(err)) < 0) {
		nft_close(h.nft, 1);
		h.nft = NULL;
		hello(fd, -EPERM, NULL, err);
		return 1;
	}
	priv_set_mac_lookup(kernel_mac_of);
	hello(fd, 0, &h, h.conntrack ? "" : ct_err);
	serve(&h, fd);
	conntrack_close(h.conntrack);
	forwards_close(h.forwards);
	if (h.nft)
		nft_close(h.nft, 0);
	log_fini();
	return 0;
}
