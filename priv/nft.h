/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nftables backend: the only code that speaks netlink to nf_tables.
 * A narrow, data-only interface: nft.c implements it in the privileged
 * helper, daemon/priv_client.c in portleased by asking the helper. Every
 * verb is one netlink batch whose answers are all read before it returns
 * (but see nft_batch_begin). */
#ifndef PORTLEASED_NFT_H
#define PORTLEASED_NFT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/policy.h"
#include "priv/filter.h"

struct nft;

/*
 * One mapping. An IPv4 (IPv4-mapped) internal address is a port forward:
 * packets to external_port on the external interface are destination-NATed
 * to it. An IPv6 one is a pinhole: no NAT, packets to internal_addr:port
 * from the external interface are let through. With remotes, only those
 * remote addresses and ports may use the mapping (PCP FILTER).
 */
struct nft_mapping {
	uint8_t proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t external_port;  /* IPv4 only */
	struct in6_addr internal_addr;
	uint16_t internal_port;
	const struct remote_range *remotes;  /* disjoint (filter_ranges) */
	size_t nremotes;                     /* 0: every remote */
	uint64_t timeout_ms;  /* the kernel drops the elements by itself after this; 0: never */
	/* Who it is for, so that the privileged helper can check the policy
	 * again (priv/priv.h); the kernel backend ignores them. */
	struct in6_addr client;
	bool operator_static;  /* the operator's static mapping */
	/* PCP PEER (IPv4): the internal endpoint's flows to each remote (a
	 * single address and port each) also leave from external_port. */
	bool peer;
	/* The policy's inbound limit for it: 1 + an index into the limits
	 * nft_open or nft_set_limits was given; 0: none. */
	uint8_t limit_class;
};

/*
 * Opens netlink and (re)creates portleased's maps and sets
 * (docs/nftables.md), and the prerouting and forward chains, acting only on
 * packets arriving on external_ifname. Packets let through an IPv6 pinhole
 * get the bits of pinhole_mark set in their mark (none if 0).
 *
 * With forward_chain NULL, all of it is the inet table `table`, ours; one
 * of that name left behind by an earlier run is replaced in the same atomic
 * batch. With forward_chain, it lives in the firewall's inet table `table`
 * (which must exist), named with a "portleased_" prefix, and a rule at the
 * head of the firewall's forward_chain jumps to our forward chain; objects
 * of ours an earlier run left there are replaced in the same atomic batch.
 * Each of the nlimits limits is a chain that mappings of its class jump to.
 * Returns NULL and a message in err on failure.
 */
struct nft *nft_open(const char *table, const char *forward_chain, const char *external_ifname,
		     uint32_t pinhole_mark, const struct inbound_limit *limits, size_t nlimits,
		     char *err, size_t errlen);
/* The limits the next nft_rebuild makes chains for (the policy changed). */
void nft_set_limits(struct nft *n, const struct inbound_limit *limits, size_t nlimits);
/* New connections the inbound limits turned away since our objects were
 * made, in *dropped. 0 or a negative errno. */
int nft_limited_total(struct nft *n, uint64_t *dropped);

/* Deletes our table, or our objects in the firewall's (if remove_table),
 * and closes netlink. */
void nft_close(struct nft *n, int remove_table);
/* The address hairpinned connections are addressed to (the external one),
 * or NULL for no hairpin. 0 or a negative errno. */
int nft_set_hairpin_address(struct nft *n, const struct in_addr *addr);
/* Our objects made anew, empty, as nft_open made them (whatever is left of
 * them goes, in the same atomic batch). 0 or a negative errno: -ENOENT if
 * the firewall's forward chain is gone. */
int nft_rebuild(struct nft *n);
/* Whether every chain, set and rule of ours (and our jump, in a firewall's
 * table) is in place: 1, 0, or a negative errno. For when notifications
 * were lost and may or may not have told of damage. */
int nft_intact(struct nft *n);
/* The netlink port our changes come from (their notifications carry it). */
uint32_t nft_portid(const struct nft *n);
const char *nft_table_name(const struct nft *n);

/* All return 0 or a negative errno. */
int nft_mapping_add(struct nft *n, const struct nft_mapping *m);
/* Replaces old by m in one atomic batch: a refresh restarts the timeouts at
 * m->timeout_ms and may change the remotes. The external endpoint is the
 * same in both. */
int nft_mapping_replace(struct nft *n, const struct nft_mapping *old, const struct nft_mapping *m);
/* A refresh that keeps the remotes: m's elements again, their timeouts
 * restarted at m->timeout_ms (and their counters at 0). */
int nft_mapping_renew(struct nft *n, const struct nft_mapping *m);
/* Elements the kernel already expired count as deleted. */
int nft_mapping_delete(struct nft *n, const struct nft_mapping *m);

/*
 * Many adds and deletes at once (nft.c: the kernel backend's side). They
 * are applied in order, as few transactions as fit: the kernel's cost is
 * per transaction far more than per element. If it refuses a transaction
 * (atomic: nothing of it stays), each of its verbs is applied on its own,
 * so that only those it refuses fail. rc[i]: verbs[i]'s 0 or negative
 * errno.
 */
struct nft_verb {
	bool add;  /* or delete */
	struct nft_mapping m;
};
void nft_mappings_apply(struct nft *n, const struct nft_verb *verbs, size_t count, int *rc);

struct nft_counters {
	uint64_t packets, bytes;
	uint64_t limited;  /* new connections the inbound limit turned away */
	bool used;         /* a new connection came through this endpoint */
	uint64_t idle_ms;  /* used: since the last one */
};

/*
 * The daemon's side of that (daemon/priv_client.c). Between begin and end,
 * nft_mapping_add, nft_mapping_delete and nft_mapping_renew only queue
 * their verb and return 0; a full queue, or any other verb, sends what is
 * queued first, so order is kept. end sends the rest and tells told(arg,
 * outcome) of each queued verb the kernel refused and of each renewal, in
 * order, verbs counted since begin from 0.
 */
struct nft_outcome {
	size_t verb;
	int rc;      /* 0 or a negative errno */
	bool renew;  /* then counted: what the renewed elements had counted */
	struct nft_counters counted;
};
void nft_batch_begin(struct nft *n);
void nft_batch_end(struct nft *n, void (*told)(void *arg, const struct nft_outcome *outcome),
		   void *arg);

/* The packets (and bytes) the kernel let in through the mapping's forward
 * chain elements since they were added (a replace starts them from 0);
 * elements already expired count 0. Sets out->used false. */
int nft_mapping_counters(struct nft *n, const struct nft_mapping *m, struct nft_counters *out);
/* When the last new connection to the mapping's internal endpoint came, in
 * out->used and out->idle_ms (remembered a week, and also from before the
 * mapping: the caller weighs it against the mapping's age). */
int nft_mapping_last_used(struct nft *n, const struct nft_mapping *m, struct nft_counters *out);

#endif
