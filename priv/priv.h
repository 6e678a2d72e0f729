/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Privilege separation (docs/security.md). portleased itself parses
 * everything LAN hosts send and holds no capability; every change to
 * nftables and conntrack is asked of portleased-nft, a small helper that
 * alone keeps CAP_NET_ADMIN. They speak over a SOCK_SEQPACKET socketpair:
 * one request per datagram, fixed-size but for a batch's count of items,
 * one fixed-size reply. The helper
 * takes nothing on trust: it checks that a request is well formed and
 * checks the policy of its own reading of the config file again before
 * touching the kernel.
 *
 * This module is the wire format and those checks (pure).
 */
#ifndef PORTLEASED_PRIV_H
#define PORTLEASED_PRIV_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "priv/conntrack.h"
#include "priv/filter.h"
#include "priv/forwards.h"
#include "priv/nft.h"
#include "priv/own_addr.h"

enum priv_op {
	PRIV_ADD = 1,     /* mapping */
	PRIV_REPLACE,     /* old by mapping (a refresh) */
	PRIV_DELETE,      /* mapping */
	PRIV_COUNTERS,    /* mapping: its counters */
	PRIV_LAST_USED,   /* mapping: its last new connection */
	PRIV_REBUILD,     /* our objects made anew */
	PRIV_HAIRPIN,     /* hairpin: the external address, or none */
	PRIV_PEER,        /* flow, lifetime: PCP PEER */
	PRIV_RELOAD,      /* read the config file again (SIGHUP) */
	PRIV_CLOSE,       /* remove: delete our objects; then exit */
	PRIV_INTACT,      /* are our objects all there? (rc 1 or 0) */
	PRIV_BATCH,       /* struct priv_batch: adds, deletes and renewals, in order */
	PRIV_RENEW,       /* in a batch only: mapping's elements again, with its timeout */
	PRIV_FORWARDED,   /* the ports other tables forward: struct priv_forwarded_reply */
	PRIV_LIMITED,     /* what the inbound limits turned away, in all: counters.limited */
};

/* struct nft_mapping without pointers. */
struct priv_mapping {
	uint8_t proto;
	uint8_t operator_static;
	uint8_t peer;
	/* Its inbound limit class (nft_mapping): the helper checks it against
	 * the policy on an add; a delete takes it as said, since a wrong one
	 * only fails to delete. */
	uint8_t limit_class;
	uint16_t external_port;
	uint16_t internal_port;
	uint16_t nremotes;
	struct in6_addr internal_addr;
	struct in6_addr client;
	uint64_t timeout_ms;
	struct remote_range remotes[FILTER_MAX_RANGES];
};

struct priv_request {
	uint32_t op;
	uint32_t remove;  /* PRIV_CLOSE */
	struct priv_mapping old, mapping;
	struct ct_flow flow;
	uint32_t lifetime;
	uint32_t has_hairpin;
	struct in_addr hairpin;
};

struct priv_reply {
	int32_t rc;  /* 0 or a negative errno */
	uint32_t padding;
	struct nft_counters counters;
	struct in6_addr external_addr;
	uint16_t external_port;
};

/* Adds, deletes and renewals the daemon queued (nft_batch_begin), sent as
 * one: the header and count items, no more. Each is checked on its own. */
#define PRIV_BATCH_MAX 64
struct priv_batch_item {
	uint32_t op;  /* PRIV_ADD, PRIV_DELETE or PRIV_RENEW */
	uint32_t padding;
	struct priv_mapping mapping;
};

struct priv_batch {
	uint32_t op;     /* PRIV_BATCH: where struct priv_request has its op */
	uint32_t count;  /* 1 to PRIV_BATCH_MAX */
	struct priv_batch_item items[PRIV_BATCH_MAX];
};

#define PRIV_BATCH_SIZE(count) \
	(offsetof(struct priv_batch, items) + (count) * sizeof(struct priv_batch_item))

struct priv_batch_reply {
	int32_t rc[PRIV_BATCH_MAX];  /* each item's 0 or negative errno */
	/* A PRIV_RENEW's: what the old elements had counted (read just
	 * before they went). */
	struct nft_counters counted[PRIV_BATCH_MAX];
};

/* A datagram must fit the kernel's default socket send buffer
 * (net.core.wmem_default, 212,992 bytes, less its own overhead). */
_Static_assert(sizeof(struct priv_batch) <= 200000, "a full batch must be one datagram");

/* PRIV_FORWARDED's answer: rc 0 and the ports, or a negative errno (the
 * ruleset could not be read). */
struct priv_forwarded_reply {
	int32_t rc;
	uint32_t padding;
	struct forwarded_ports ports;
};

/* The helper's first datagram: ready (rc 0) or why not. */
struct priv_hello {
	int32_t rc;
	uint32_t nft_portid;     /* our changes' notifications carry it */
	uint32_t has_conntrack;  /* PCP PEER can be served */
	char message[CONFIG_ERROR_MAX];
};

void priv_mapping_pack(struct priv_mapping *out, const struct nft_mapping *m);
/* The mapping back, its remotes pointing into w. */
struct nft_mapping priv_mapping_unpack(const struct priv_mapping *w);

/* Whether len bytes at buf are a well-formed request: exactly one, a known
 * operation, mappings and flows the kernel could hold (for a batch, its
 * size and count; its items are priv_batch_item_check's). 0 or -EINVAL,
 * and why in *why. */
int priv_request_check(const void *buf, size_t len, const char **why);
int priv_batch_item_check(const struct priv_batch_item *item, const char **why);

/*
 * Whether cfg and the router's addresses (own) let the helper do a
 * well-formed request: a mapping added or refreshed must not forward to
 * what own_addr_refusal refuses, and must be one the policy allows (for the
 * client it names, a third party's only by a rule that allows that), or,
 * for the operator's static mappings (they never expire), one that the
 * config's static_mappings or its static file names; its lifetime within
 * lifetime.max; a refresh keeps its
 * endpoints. PEER only on a flow of a LAN host (on a lan_interfaces
 * prefix) that the policy lets map something from that port. Hairpin only
 * to one of external_addresses. Deleting and reading are always allowed.
 * 0 or -EPERM, and why in *why.
 */
int priv_authorize(const struct config *cfg, const struct own_addresses *own,
		   const struct priv_request *r, const struct in_addr *external_addresses,
		   size_t n_external, const char **why);
/* How the checks learn a client's link-layer address, for policy rules
 * that name hosts by one (policy_uses_mac): the helper asks the kernel's
 * neighbour table itself rather than take the daemon's word. Without one
 * (the default), such rules match no client. */
typedef bool (*priv_mac_fn)(const struct config *cfg, const struct in6_addr *addr,
			    uint8_t mac[6]);
void priv_set_mac_lookup(priv_mac_fn lookup);

/* Whether m is a static mapping that cfg does not name: the helper reads
 * its config (and static file) again before refusing it, since portleasectl
 * add writes the file just before. */
bool priv_undeclared_static(const struct config *cfg, const struct priv_mapping *m);
/* The same for one item of a batch. */
int priv_authorize_item(const struct config *cfg, const struct own_addresses *own,
			const struct priv_batch_item *item, const char **why);

#endif
