/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The nftables backend's insides (nft.h is its interface), shared by its
 * four files: nft.c (netlink transactions and questions, opening,
 * closing), nft_ruleset.c (our sets, chains and rules), nft_firewall.c
 * (living in a firewall's table), nft_elements.c (a mapping's elements and
 * their counters). Nothing else includes it. */
#ifndef PORTLEASED_NFT_IMPL_H
#define PORTLEASED_NFT_IMPL_H

#include "priv/nft.h"
#include "lib/nlmsg.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Our sets and chains. Sets first: a set's id, which links a lookup to a
 * set created in the same batch, is its index + 1. */
enum obj { OBJ_FWD4, OBJ_FWD4_FILTERED, OBJ_ALLOW4, OBJ_PINHOLE6, OBJ_PINHOLE6_FILTERED,
	   OBJ_HAIRPIN4, OBJ_SEEN4, OBJ_SEEN6, OBJ_PEER4,
	   /* Inbound limits: which class's chain an endpoint jumps to, what
	    * each endpoint's limit turned away, and the rates' meters. */
	   OBJ_LIMIT4, OBJ_LIMIT6, OBJ_LIMITED4, OBJ_LIMITED6, OBJ_METER4_REMOTE,
	   OBJ_METER4_TOTAL, OBJ_METER6_REMOTE, OBJ_METER6_TOTAL, OBJ_SET_COUNT,
	   OBJ_PREROUTING = OBJ_SET_COUNT, OBJ_POSTROUTING, OBJ_FORWARD, OBJ_OVER_LIMIT,
	   /* One per limit class, made only for the classes there are. */
	   OBJ_LIMIT_CHAIN, OBJ_COUNT = OBJ_LIMIT_CHAIN + POLICY_MAX_LIMITS };
/* In a firewall's table, what tells ours from the firewall's own. */
#define INTEGRATED_PREFIX "portleased_"
#define OBJ_NAME_MAX 48
/* How long a mapping's last new connection is remembered: beyond it the
 * mapping reads as unused. */
#define SEEN_TIMEOUT_MS (7ull * 24 * 3600 * 1000)
#define SEEN_SIZE 65536
/* A meter forgets a remote (or an endpoint) this long after its last new
 * connection: by then its bucket has filled again. */
#define METER_TIMEOUT_MS (60ull * 1000)
#define METER_SIZE 65536

/* nftables datatype ids (nftables' include/datatype.h); a concatenation's
 * type is its members' ids, 6 bits each, first member highest. */
#define TYPE_IPADDR 7
#define TYPE_IP6ADDR 8
#define TYPE_INET_PROTOCOL 12
#define TYPE_INET_SERVICE 13
#define TYPE_BITS 6
#define CONCAT2(a, b) (((a) << TYPE_BITS) | (b))
#define CONCAT3(a, b, c) ((((a) << TYPE_BITS | (b)) << TYPE_BITS) | (c))
#define CONCAT4(a, b, c, d) ((CONCAT3(a, b, c) << TYPE_BITS) | (d))
#define CONCAT5(a, b, c, d, e) ((CONCAT4(a, b, c, d) << TYPE_BITS) | (e))

/* Each member of a concatenation occupies whole 32-bit registers. */
#define FWD4_KEY_LEN 8    /* proto(4) . port(4) */
#define FWD4_DATA_LEN 8   /* addr(4) . port(4) */
#define ALLOW4_KEY_LEN 12 /* addr(4) . proto(4) . port(4) */
#define PIN6_KEY_LEN 24   /* addr(16) . proto(4) . port(4) */
#define METER4_REMOTE_KEY_LEN 16  /* remote addr(4) . ALLOW4 */
#define METER6_REMOTE_KEY_LEN 40  /* remote addr(16) . PIN6 */
#define FWD4F_KEY_LEN 16  /* remote addr(4) . remote port(4) . proto(4) . port(4) */
#define PIN6F_KEY_LEN 44  /* remote addr(16) . remote port(4) . addr(16) . proto(4) .
			     port(4) */
#define PEER4_KEY_LEN 20  /* addr(4) . port(4) . remote addr(4) . proto(4) . remote port(4) */
#define PEER4_DATA_LEN 2  /* the external port: not a concatenation, so not padded */
#define MAX_KEY_LEN PIN6F_KEY_LEN
#define MAX_DATA_LEN FWD4_DATA_LEN

/* nft's named priorities "dstnat" and "filter" (netfilter_ipv4.h). */
#define PRIORITY_DSTNAT (-100)
/* Before the firewall's own masquerade at "srcnat" (100): the first nat
 * chain that binds a connection's source wins, and PEER's must. */
#define PRIORITY_SRCNAT 90
/* Before the router firewall's own forward chain (usually "filter"), so
 * the pinhole mark is set by the time it looks. */
#define PRIORITY_FORWARD (-10)

/* A filtered mapping's replace carries up to 4 * FILTER_MAX_RANGES elements
 * of about 120 bytes; a transaction of nft_mappings_apply, TXN_MAX_ELEMENTS.
 * Twice the limit: libmnl lets the last message run past it. */
#define BATCH_LIMIT 65536
#define BATCH_BUF_SIZE (2 * BATCH_LIMIT)

struct nft {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char table[64];
	/* The firewall's forward chain, which jumps to ours; "": the table
	 * is our own. */
	char forward_chain[64];
	char name[OBJ_COUNT][OBJ_NAME_MAX];
	char ext_ifname[IFNAMSIZ];  /* what a rebuild needs again */
	unsigned rules_made[OBJ_COUNT];  /* in each of our chains, by the last build */
	/* The inbound limits the next build makes chains for, and how many
	 * the last one made. */
	struct inbound_limit limits[POLICY_MAX_LIMITS];
	size_t nlimits, nlimits_made;
	uint32_t pinhole_mark;
	bool has_hairpin_address;
	struct in_addr hairpin_address;
	/* Scratch space for one batch at a time, allocated once: a batch is
	 * built, sent and acknowledged before the next begins. */
	struct batch *batch;
	struct element *elements;  /* MAPPING_MAX_ELEMENTS */
};

struct batch {
	char buf[BATCH_BUF_SIZE];
	struct mnl_nlmsg_batch *b;
	uint32_t begin_seq;      /* of the batch's begin message */
	struct nlmsghdr *last;   /* the last message so far; it alone asks for an ACK */
	bool overflow;
};

#define JUMPS_MAX 8
#define DUMP_BUFFER_SIZE 65536

/* What of ours a firewall's table holds: left by an earlier run, or by a
 * firewall reload that flushed the rules but kept the chains. */
struct found {
	bool obj[OBJ_COUNT];
	bool forward_chain;        /* the firewall's, on the forward hook */
	bool forward_chain_other;  /* a chain of that name, on another hook or none */
	uint64_t jump_handles[JUMPS_MAX];
	size_t njumps;
	unsigned rules[OBJ_COUNT];  /* in each of our chains (nft_intact) */
};

struct element;

/* Between the four files (their comments are where they are defined). */
int nft_ask(struct nft *n, const struct nlmsghdr *request, char *buf, size_t buflen,
	    int (*each)(const struct nlmsghdr *answer, void *arg), void *arg);
int nft_dump(struct nft *n, uint16_t type, void (*build)(struct nlmsghdr *, const struct nft *),
	     int (*each)(const struct nlmsghdr *, const struct nft *, struct found *),
	     struct found *f);
void nft_txn_start(struct nft *n, struct batch *bt);
struct nlmsghdr *nft_txn_msg(struct nft *n, struct batch *bt, uint16_t type, uint16_t flags);
void nft_txn_next(struct batch *bt);
int nft_txn_commit(struct nft *n, struct batch *bt);
void nft_add_expr(struct nftnl_rule *r, struct nftnl_expr *e);
struct nftnl_chain *nft_new_regular_chain(const struct nft *n, enum obj chain);
struct nftnl_rule *nft_new_rule(const struct nft *n, enum obj chain);
struct nftnl_rule *nft_new_rule_in(const struct nft *n, const char *chain);
void nft_put_our_objects(struct nft *n, struct batch *bt);
void nft_put_table(struct nft *n, struct batch *bt, uint16_t type, uint16_t flags);
void nft_put_hairpin_address(struct nft *n, struct batch *bt, uint16_t type, struct in_addr a);
bool nft_integrated(const struct nft *n);
bool nft_obj_made(const struct nft *n, enum obj o);
struct element *nft_elements_alloc(void);
void nft_build_table_rule_dump(struct nlmsghdr *nlh, const struct nft *n);
int nft_count_rule(const struct nlmsghdr *nlh, const struct nft *n, struct found *f);
int nft_create_in_firewall_table(struct nft *n);
int nft_create_own_table(struct nft *n);
int nft_find_ours(struct nft *n, struct found *f);
void nft_put_delete_ours(struct nft *n, struct batch *bt, const struct found *f);

#endif
