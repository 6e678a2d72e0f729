/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ports that the operator's own rules already forward from the WAN: a
 * `dnat`, `redirect` or `tproxy` in any table but ours, in a rule that
 * matches a TCP or UDP destination port (fw4's port forwards, a `dnat` in
 * nftables.conf). Such a port is never granted to a client, who would be
 * told it has the port while the traffic goes elsewhere.
 *
 * The helper reads them (a rule dump, and the element dumps of the sets
 * their rules look ports up in) at start and again after nf_tables says
 * another process changed a rule or a set; the daemon gets a copy through
 * the helper (PRIV_FORWARDED). A rule that matches an input interface
 * other than the external one is the LAN's (a DNS or proxy redirect) and
 * is not counted; one that matches no port (a "DMZ host") is not counted
 * either: it would take every port.
 */
#ifndef PORTLEASED_FORWARDS_H
#define PORTLEASED_FORWARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct port_bits {
	uint64_t w[65536 / 64];
};

struct forwarded_ports {
	struct port_bits tcp, udp;
	uint32_t rules;  /* forwarding rules counted */
};

static inline bool forwarded_has(const struct forwarded_ports *f, uint8_t proto, uint16_t port)
{
	const struct port_bits *b = proto == 6 ? &f->tcp : proto == 17 ? &f->udp : NULL;

	return b && (b->w[port / 64] >> (port % 64)) & 1;
}

/* What one rule says, once read (forwards_read_rule). */
#define FORWARD_RULE_RANGES 16
struct forward_rule {
	bool forwards;          /* dnat, redirect or tproxy */
	bool not_from_wan;      /* matches an input interface that is not the external one */
	bool tcp, udp;          /* the protocols it matches (both if it does not say) */
	size_t nranges;         /* destination ports it matches, inclusive */
	struct { uint16_t lo, hi; } ranges[FORWARD_RULE_RANGES];
	char set[64];           /* or: the set it looks destination ports up in */
};

/* Elements of one port set read: a set of ports has at most 65,536, an
 * interval set one more end. */
#define FORWARDS_ELEMENTS_MAX 65538

struct nftnl_rule;
/* Reads r's expressions (pure). */
void forwards_read_rule(const struct nftnl_rule *r, const char *ext_ifname, unsigned ext_ifindex,
			struct forward_rule *out);
/* Marks what rule forwards in f. */
void forwards_mark(struct forwarded_ports *f, const struct forward_rule *rule);
/* Marks ports of a set's elements (at most FORWARDS_ELEMENTS_MAX): keys in
 * host order, is_end[i] for an interval's end (its key one past the last
 * port), as a set dump gives them, in any order. */
void forwards_mark_elements(struct forwarded_ports *f, bool tcp, bool udp, uint16_t *keys,
			    bool *is_end, size_t n);

/* Whether a datagram of nf_tables notices says that a process other than
 * own_portid changed rules or sets, so that the forwarded ports may have
 * changed (pure; bounds-checked). */
bool forwards_changed_by_notice(const void *buf, size_t len, uint32_t own_portid);

struct forwards;
/* Opens the dump and notification sockets (needs CAP_NET_ADMIN to dump).
 * Rules of table `table` (inet) are ours, or with forward_chain set only
 * those of our "portleased_" chains in it. NULL and err on failure. */
struct forwards *forwards_open(const char *table, const char *forward_chain,
			       const char *ext_ifname, uint32_t own_portid, char *err,
			       size_t errlen);
/* The forwarded ports as they are now: read again if another process
 * changed rules or sets since the last read. NULL if they cannot be read. */
const struct forwarded_ports *forwards_current(struct forwards *fw);
void forwards_close(struct forwards *fw);

#endif
