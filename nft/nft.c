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
	   OBJ_HAIRPIN4, OBJ_SEEN4, OBJ_SEEN6, OBJ_PEER4, OBJ_SET_COUNT,
	   OBJ_PREROUTING = OBJ_SET_COUNT, OBJ_POSTROUTING, OBJ_FORWARD, OBJ_COUNT };
static const char *const obj_base_name[OBJ_COUNT] = {
	[OBJ_FWD4] = "fwd4", [OBJ_FWD4_FILTERED] = "fwd4_filtered", [OBJ_ALLOW4] = "allow4",
	[OBJ_PINHOLE6] = "pinhole6", [OBJ_PINHOLE6_FILTERED] = "pinhole6_filtered",
	[OBJ_HAIRPIN4] = "hairpin4", [OBJ_SEEN4] = "seen4", [OBJ_SEEN6] = "seen6",
	[OBJ_PEER4] = "peer4", [OBJ_PREROUTING] = "prerouting", [OBJ_POSTROUTING] = "postrouting",
	[OBJ_FORWARD] = "forward",
};
/* In a firewall's table, what tells ours from the firewall's own. */
#define INTEGRATED_PREFIX "portleased_"
#define OBJ_NAME_MAX 48
/* How long a mapping's last new connection is remembered: beyond it the
 * mapping reads as unused. */
#define SEEN_TIMEOUT_MS (7ull * 24 * 3600 * 1000)
#define SEEN_SIZE 65536

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
#define FWD4F_KEY_LEN 16  /* remote addr(4) . remote port(4) . proto(4) . port(4) */
#define PIN6F_KEY_LEN 44  /* remote addr(16) . remote port(4) . addr(16) . proto(4) .
			     port(4) */
#define PEER4_KEY_LEN 20  /* addr(4) . port(4) . remote addr(4) . proto(4) . remote port(4) */
#define PEER4_DATA_LEN 2  /* the external port: not a concatenation, so not padded */
#define MAX_KEY_LEN PIN6F_KEY_LEN
/* The range sets' fields, in bytes as the datatypes have them. */
static const uint8_t fwd4_filtered_fields[] = { 4, 2, 1, 2 };
static const uint8_t pinhole6_filtered_fields[] = { 16, 2, 16, 1, 2 };
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

static void batch_start(struct nft *n, struct batch *bt)
{
	bt->b = mnl_nlmsg_batch_start(bt->buf, BATCH_LIMIT);
	bt->begin_seq = n->seq;
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), n->seq++);
	mnl_nlmsg_batch_next(bt->b);
	bt->last = NULL;
	bt->overflow = false;
}

static struct nlmsghdr *batch_msg(struct nft *n, struct batch *bt, uint16_t type, uint16_t flags)
{
	bt->last = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type, NFPROTO_INET,
					 flags, n->seq++);
	return bt->last;
}

static void batch_next(struct batch *bt)
{
	if (!mnl_nlmsg_batch_next(bt->b))
		bt->overflow = true;
}

/*
 * The kernel runs an nfnetlink batch to completion inside sendmsg(), so by
 * the time send returns every answer is already queued on our socket:
 * reading them with MSG_DONTWAIT never waits, and an empty queue before the
 * last one means something is wrong, not slow. That keeps the event loop
 * unblocked without a state machine per batch.
 *
 * Only the last message asks for an ACK. The kernel reports an error for
 * every message that fails whether asked or not, and goes on to the end of
 * the batch before it rolls the whole batch back; so the last message's
 * ACK comes after every error, and one answer per batch is the usual cost
 * (one per message made the kernel build and us read hundreds for a batch
 * of many mappings).
 */
static int batch_commit(struct nft *n, struct batch *bt)
{
	char rbuf[16384];
	uint32_t last_seq;
	int first_error = 0;
	bool done = false;

	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), n->seq++);
	if (!bt->last || bt->overflow || !mnl_nlmsg_batch_next(bt->b)) {
		mnl_nlmsg_batch_stop(bt->b);
		return bt->last ? -EMSGSIZE : 0;
	}
	bt->last->nlmsg_flags |= NLM_F_ACK;
	last_seq = bt->last->nlmsg_seq;

	if (mnl_socket_sendto(n->nl, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b)) < 0) {
		int e = errno;
		mnl_nlmsg_batch_stop(bt->b);
		return -e;
	}
	mnl_nlmsg_batch_stop(bt->b);

	while (!done) {
		ssize_t len = recv(mnl_socket_get_fd(n->nl), rbuf, sizeof(rbuf), MSG_DONTWAIT);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		int remaining = (int)len;  /* libmnl counts in int */

		for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
		     nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_seq < bt->begin_seq || nlh->nlmsg_seq > last_seq)
				continue;  /* a late answer to an earlier batch */
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
				return -EPROTO;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error != 0 && first_error == 0)
				first_error = e->error;
			/* The last message's answer; or, out of memory, the
			 * kernel's one answer to the whole batch. */
			if (nlh->nlmsg_seq == last_seq || nlh->nlmsg_seq == bt->begin_seq)
				done = true;
		}
	}
	if (first_error)
		return first_error;
	return done ? 0 : -EPROTO;
}

/* --- building the table --- */

static void add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *expr_meta(uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	return e;
}

static struct nftnl_expr *expr_cmp(uint32_t sreg, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return e;
}

/* reg = (reg & mask) ^ xor, on 32 bits */
static struct nftnl_expr *expr_bitwise(uint32_t reg, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(mask));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, sizeof(xor));
	return e;
}

static struct nftnl_expr *expr_payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	return e;
}

static uint32_t set_id(enum obj set)
{
	return (uint32_t)set + 1;
}

static struct nftnl_expr *expr_lookup(const struct nft *n, enum obj set, uint32_t sreg, int dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, n->name[set]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id(set));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	return e;
}

static struct nftnl_expr *expr_accept(void)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	return e;
}

static void rule_match_nfproto(struct nftnl_rule *r, uint8_t nfproto)
{
	add_expr(r, expr_meta(NFT_META_NFPROTO, NFT_REG_1));
	add_expr(r, expr_cmp(NFT_REG_1, NFT_CMP_EQ, &nfproto, 1));
}

/* Loads "meta l4proto . th dport" into two consecutive 32-bit registers. */
static void rule_load_proto_port(struct nftnl_rule *r, uint32_t first_reg32)
{
	add_expr(r, expr_meta(NFT_META_L4PROTO, first_reg32));
	add_expr(r, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, first_reg32 + 1));
}

static void rule_load_source_port(struct nftnl_rule *r, uint32_t reg32)
{
	add_expr(r, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, reg32));
}

static struct nftnl_rule *new_rule_in(const struct nft *n, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

static struct nftnl_rule *new_rule(const struct nft *n, enum obj chain)
{
	return new_rule_in(n, n->name[chain]);
}

/* An interface name as the kernel compares it: the whole IFNAMSIZ bytes,
 * zero-padded. */
static void rule_match_ifname(struct nftnl_rule *r, uint32_t meta_key, uint32_t cmp_op,
			      const char *name)
{
	char ifname[IFNAMSIZ] = { 0 };

	snprintf(ifname, sizeof(ifname), "%s", name);
	add_expr(r, expr_meta(meta_key, NFT_REG_1));
	add_expr(r, expr_cmp(NFT_REG_1, cmp_op, ifname, IFNAMSIZ));
}

static void rule_match_iifname(struct nftnl_rule *r, const char *ext_ifname)
{
	rule_match_ifname(r, NFT_META_IIFNAME, NFT_CMP_EQ, ext_ifname);
}

/* A rule for packets of one family that came in on the external interface. */
static struct nftnl_rule *new_rule_from_wan(const struct nft *n, enum obj chain, uint8_t nfproto)
{
	struct nftnl_rule *r = new_rule(n, chain);

	rule_match_iifname(r, n->ext_ifname);
	rule_match_nfproto(r, nfproto);
	return r;
}

/* dnat ip to <the address . port the map gives for the key in NFT_REG_1> */
static void rule_dnat_from_map(const struct nft *n, struct nftnl_rule *r, enum obj map)
{
	struct nftnl_expr *nat;

	add_expr(r, expr_lookup(n, map, NFT_REG_1, NFT_REG_1));
	nat = nftnl_expr_alloc("nat");
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG32_00);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
	add_expr(r, nat);
}

/* iifname $ext meta nfproto ipv4
 *     dnat ip to meta l4proto . th dport map @fwd4 */
static struct nftnl_rule *rule_dnat(const struct nft *n)
{
	struct nftnl_rule *r = new_rule_from_wan(n, OBJ_PREROUTING, NFPROTO_IPV4);

	rule_load_proto_port(r, NFT_REG32_00);
	rule_dnat_from_map(n, r, OBJ_FWD4);
	return r;
}

/* iifname $ext meta nfproto ipv4
 *     dnat ip to ip saddr . th sport . meta l4proto . th dport map @fwd4_filtered */
static struct nftnl_rule *rule_dnat_filtered(const struct nft *n)
{
	struct nftnl_rule *r = new_rule_from_wan(n, OBJ_PREROUTING, NFPROTO_IPV4);

	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00));
	rule_load_source_port(r, NFT_REG32_01);
	rule_load_proto_port(r, NFT_REG32_02);
	rule_dnat_from_map(n, r, OBJ_FWD4_FILTERED);
	return r;
}

static void rule_match_not_iifname(struct nftnl_rule *r, const char *ext_ifname)
{
	rule_match_ifname(r, NFT_META_IIFNAME, NFT_CMP_NEQ, ext_ifname);
}

/* Hairpin: a LAN host asking for the external address and a mapped port
 * gets the mapping too.
 * iifname != $ext meta nfproto ipv4 ip daddr @hairpin4
 *     dnat ip to meta l4proto . th dport map @fwd4 */
static struct nftnl_rule *rule_hairpin_dnat(const struct nft *n)
{
	struct nftnl_rule *r = new_rule(n, OBJ_PREROUTING);

	rule_match_not_iifname(r, n->ext_ifname);
	rule_match_nfproto(r, NFPROTO_IPV4);
	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_00));
	add_expr(r, expr_lookup(n, OBJ_HAIRPIN4, NFT_REG_1, -1));
	rule_load_proto_port(r, NFT_REG32_00);
	rule_dnat_from_map(n, r, OBJ_FWD4);
	return r;
}

/* ...and its connection leaves with the router's address, so that the
 * answers come back through the router rather than straight to the host,
 * which would drop them.
 * iifname != $ext meta nfproto ipv4 ct original ip daddr @hairpin4 masquerade */
static struct nftnl_rule *rule_hairpin_masquerade(const struct nft *n)
{
	struct nftnl_rule *r = new_rule(n, OBJ_POSTROUTING);
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");

	rule_match_not_iifname(r, n->ext_ifname);
	rule_match_nfproto(r, NFPROTO_IPV4);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_DST_IP);
	nftnl_expr_set_u8(ct, NFTNL_EXPR_CT_DIR, IP_CT_DIR_ORIGINAL);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add_expr(r, ct);
	add_expr(r, expr_lookup(n, OBJ_HAIRPIN4, NFT_REG_1, -1));
	add_expr(r, nftnl_expr_alloc("masq"));
	return r;
}

static void rule_match_oifname(struct nftnl_rule *r, const char *ext_ifname)
{
	rule_match_ifname(r, NFT_META_OIFNAME, NFT_CMP_EQ, ext_ifname);
}

/* PCP PEER: a LAN host's flow to the remote it named leaves from the
 * external port it was told, from its first packet on.
 * oifname $ext meta nfproto ipv4
 *     masquerade to : ip saddr . th sport . ip daddr . meta l4proto . th dport map @peer4 */
static struct nftnl_rule *rule_peer_masquerade(const struct nft *n)
{
	struct nftnl_rule *r = new_rule(n, OBJ_POSTROUTING);
	struct nftnl_expr *masq = nftnl_expr_alloc("masq");

	rule_match_oifname(r, n->ext_ifname);
	rule_match_nfproto(r, NFPROTO_IPV4);
	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00));
	rule_load_source_port(r, NFT_REG32_01);
	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_02));
	rule_load_proto_port(r, NFT_REG32_03);
	add_expr(r, expr_lookup(n, OBJ_PEER4, NFT_REG_1, NFT_REG32_00));
	nftnl_expr_set_u32(masq, NFTNL_EXPR_MASQ_REG_PROTO_MIN, NFT_REG32_00);
	nftnl_expr_set_u32(masq, NFTNL_EXPR_MASQ_REG_PROTO_MAX, NFT_REG32_00);
	nftnl_expr_set_u32(masq, NFTNL_EXPR_MASQ_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
	add_expr(r, masq);
	return r;
}

/* A packet one of our IPv4 mappings let in:
 * ct status dnat meta nfproto ipv4 ip daddr . meta l4proto . th dport @allow4 */
static void rule_match_mapped4(const struct nft *n, struct nftnl_rule *r)
{
	uint32_t dnat_bit = IPS_DST_NAT, zero = 0;
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add_expr(r, ct);
	add_expr(r, expr_bitwise(NFT_REG_1, dnat_bit, zero));
	add_expr(r, expr_cmp(NFT_REG_1, NFT_CMP_NEQ, &zero, 4));
	rule_match_nfproto(r, NFPROTO_IPV4);
	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_00));
	rule_load_proto_port(r, NFT_REG32_01);
	add_expr(r, expr_lookup(n, OBJ_ALLOW4, NFT_REG_1, -1));
}

/* ct state new */
static void rule_match_ct_new(struct nftnl_rule *r)
{
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");
	uint32_t new_bit = NF_CT_STATE_BIT(IP_CT_NEW), zero = 0;

	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add_expr(r, ct);
	add_expr(r, expr_bitwise(NFT_REG_1, new_bit, zero));
	add_expr(r, expr_cmp(NFT_REG_1, NFT_CMP_NEQ, &zero, 4));
}

/* update @set { <the key in NFT_REG_1> }: the element's timeout starts
 * again, so what is left of it tells when this last happened. */
static struct nftnl_expr *expr_update(const struct nft *n, enum obj set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");

	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, n->name[set]);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set_id(set));
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, SEEN_TIMEOUT_MS);
	return e;
}

/* When a mapping was last used: its new connections only, so the cost is
 * per connection, not per packet.
 * ct state new ct status dnat meta nfproto ipv4
 *     ip daddr . meta l4proto . th dport @allow4
 *     update @seen4 { ip daddr . meta l4proto . th dport } */
static struct nftnl_rule *rule_seen4(const struct nft *n)
{
	struct nftnl_rule *r = new_rule(n, OBJ_FORWARD);

	rule_match_ct_new(r);
	rule_match_mapped4(n, r);
	add_expr(r, expr_update(n, OBJ_SEEN4));
	return r;
}

/* ct state new iifname $ext meta nfproto ipv6
 *     ip6 daddr . meta l4proto . th dport @pinhole6   (or the filtered set)
 *     update @seen6 { ip6 daddr . meta l4proto . th dport } */
static struct nftnl_rule *rule_seen6(const struct nft *n, bool filtered)
{
	struct nftnl_rule *r = new_rule(n, OBJ_FORWARD);

	rule_match_ct_new(r);
	rule_match_iifname(r, n->ext_ifname);
	rule_match_nfproto(r, NFPROTO_IPV6);
	if (filtered) {
		add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG32_00));
		rule_load_source_port(r, NFT_REG32_04);
		add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG32_05));
		rule_load_proto_port(r, NFT_REG32_09);
		add_expr(r, expr_lookup(n, OBJ_PINHOLE6_FILTERED, NFT_REG_1, -1));
	}
	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG32_00));
	rule_load_proto_port(r, NFT_REG32_04);
	if (!filtered)
		add_expr(r, expr_lookup(n, OBJ_PINHOLE6, NFT_REG_1, -1));
	add_expr(r, expr_update(n, OBJ_SEEN6));
	return r;
}

/* ct status dnat ip daddr . meta l4proto . th dport @allow4 accept */
static struct nftnl_rule *rule_allow4(const struct nft *n)
{
	struct nftnl_rule *r = new_rule(n, OBJ_FORWARD);

	rule_match_mapped4(n, r);
	add_expr(r, expr_accept());
	return r;
}

/*
 * meta mark set meta mark | $mark accept
 *
 * An accept here does not stop another table's drop-policy forward chain
 * from dropping the packet; the mark lets that firewall admit it with one
 * rule ("meta mark & $mark == $mark accept"; docs/nftables.md).
 */
static void rule_mark_and_accept(struct nftnl_rule *r, uint32_t mark)
{
	if (mark) {
		uint32_t keep = ~mark;
		struct nftnl_expr *set;

		add_expr(r, expr_meta(NFT_META_MARK, NFT_REG_1));
		add_expr(r, expr_bitwise(NFT_REG_1, keep, mark));
		set = nftnl_expr_alloc("meta");
		nftnl_expr_set_u32(set, NFTNL_EXPR_META_KEY, NFT_META_MARK);
		nftnl_expr_set_u32(set, NFTNL_EXPR_META_SREG, NFT_REG_1);
		add_expr(r, set);
	}
	add_expr(r, expr_accept());
}

/* iifname $ext ip6 daddr . meta l4proto . th dport @pinhole6 (mark and) accept */
static struct nftnl_rule *rule_pinhole6(const struct nft *n)
{
	struct nftnl_rule *r = new_rule_from_wan(n, OBJ_FORWARD, NFPROTO_IPV6);

	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG32_00));
	rule_load_proto_port(r, NFT_REG32_04);
	add_expr(r, expr_lookup(n, OBJ_PINHOLE6, NFT_REG_1, -1));
	rule_mark_and_accept(r, n->pinhole_mark);
	return r;
}

/* iifname $ext
 *     ip6 saddr . th sport . ip6 daddr . meta l4proto . th dport @pinhole6_filtered
 *     (mark and) accept */
static struct nftnl_rule *rule_pinhole6_filtered(const struct nft *n)
{
	struct nftnl_rule *r = new_rule_from_wan(n, OBJ_FORWARD, NFPROTO_IPV6);

	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG32_00));
	rule_load_source_port(r, NFT_REG32_04);
	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG32_05));
	rule_load_proto_port(r, NFT_REG32_09);
	add_expr(r, expr_lookup(n, OBJ_PINHOLE6_FILTERED, NFT_REG_1, -1));
	rule_mark_and_accept(r, n->pinhole_mark);
	return r;
}

static struct nftnl_set *new_set(const struct nft *n, enum obj set, uint32_t key_type,
				 uint32_t key_len)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, n->name[set]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, set_id(set));
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	return s;
}

/*
 * A set whose keys are ranges in every field (a remote prefix and port
 * range next to exact values): the kernel's pipapo set type (Linux 5.6+),
 * which needs each field's length, zero-terminated.
 */
static struct nftnl_set *new_range_set(const struct nft *n, enum obj set, uint32_t key_type,
				       uint32_t key_len, const uint8_t *field_lengths,
				       size_t nfields)
{
	struct nftnl_set *s = new_set(n, set, key_type, key_len);
	uint8_t fields[NFT_REG32_COUNT] = { 0 };

	memcpy(fields, field_lengths, nfields);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, (uint32_t)sizeof(fields));
	return s;
}

/* Every element gets its own counter. */
static struct nftnl_set *counted(struct nftnl_set *s)
{
	nftnl_set_add_expr(s, nftnl_expr_alloc("counter"));
	return s;
}

/* Updated from the packet path, bounded, each element forgotten after
 * SEEN_TIMEOUT_MS without an update. */
static struct nftnl_set *seen_set(struct nftnl_set *s)
{
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, SEEN_TIMEOUT_MS);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, SEEN_SIZE);
	return s;
}

static void make_fwd4_map(struct nftnl_set *s)
{
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, nftnl_set_get_u32(s, NFTNL_SET_FLAGS) | NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, CONCAT2(TYPE_IPADDR, TYPE_INET_SERVICE));
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, FWD4_DATA_LEN);
	counted(s);
}

/* A chain only jumps lead to (no hook). */
static struct nftnl_chain *new_regular_chain(const struct nft *n, enum obj chain)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, n->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, n->name[chain]);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	return c;
}

static struct nftnl_chain *new_chain(const struct nft *n, enum obj chain, const char *type,
				     uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c = new_regular_chain(n, chain);

	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	return c;
}

static void put_table(struct nft *n, struct batch *bt, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, n->table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_nlmsg_build_payload(batch_msg(n, bt, type, flags), t);
	nftnl_table_free(t);
	batch_next(bt);
}

static void put_chain(struct nft *n, struct batch *bt, struct nftnl_chain *c)
{
	nftnl_chain_nlmsg_build_payload(batch_msg(n, bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
	nftnl_chain_free(c);
	batch_next(bt);
}

static void put_set(struct nft *n, struct batch *bt, struct nftnl_set *s)
{
	nftnl_set_nlmsg_build_payload(batch_msg(n, bt, NFT_MSG_NEWSET, NLM_F_CREATE), s);
	nftnl_set_free(s);
	batch_next(bt);
}

static void put_rule(struct nft *n, struct batch *bt, struct nftnl_rule *r)
{
	nftnl_rule_nlmsg_build_payload(
		batch_msg(n, bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
	nftnl_rule_free(r);
	batch_next(bt);
}

static void put_our_rule(struct nft *n, struct batch *bt, enum obj chain, struct nftnl_rule *r)
{
	n->rules_made[chain]++;
	put_rule(n, bt, r);
}

/* The one element of hairpin4: the external address. */
static void put_hairpin_address(struct nft *n, struct batch *bt, uint16_t type, struct in_addr a)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, n->name[OBJ_HAIRPIN4]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, &a.s_addr, sizeof(a.s_addr));
	nftnl_set_elem_add(s, el);
	nftnl_set_elems_nlmsg_build_payload(
		batch_msg(n, bt, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0), s);
	nftnl_set_free(s);
	batch_next(bt);
}

/* ct state invalid return: the firewall's own rules decide what to do with
 * packets conntrack could not place; an accept of ours must not let them
 * past it. */
static struct nftnl_rule *rule_skip_invalid(const struct nft *n)
{
	struct nftnl_rule *r = new_rule(n, OBJ_FORWARD);
	struct nftnl_expr *ct = nftnl_expr_alloc("ct"), *ret = nftnl_expr_alloc("immediate");
	uint32_t invalid_bit = NF_CT_STATE_INVALID_BIT, zero = 0;

	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add_expr(r, ct);
	add_expr(r, expr_bitwise(NFT_REG_1, invalid_bit, zero));
	add_expr(r, expr_cmp(NFT_REG_1, NFT_CMP_NEQ, &zero, 4));
	nftnl_expr_set_u32(ret, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(ret, NFTNL_EXPR_IMM_VERDICT, NFT_RETURN);
	add_expr(r, ret);
	return r;
}

static bool integrated(const struct nft *n)
{
	return n->forward_chain[0] != '\0';
}

/* Our sets, chains and rules (docs/nftables.md). */
static void put_our_objects(struct nft *n, struct batch *bt)
{
	struct nftnl_set *fwd4, *hairpin4, *peer4;

	fwd4 = new_set(n, OBJ_FWD4, CONCAT2(TYPE_INET_PROTOCOL, TYPE_INET_SERVICE), FWD4_KEY_LEN);
	make_fwd4_map(fwd4);
	put_set(n, bt, fwd4);
	fwd4 = new_range_set(n, OBJ_FWD4_FILTERED,
			     CONCAT4(TYPE_IPADDR, TYPE_INET_SERVICE, TYPE_INET_PROTOCOL,
				     TYPE_INET_SERVICE),
			     FWD4F_KEY_LEN, fwd4_filtered_fields, sizeof(fwd4_filtered_fields));
	make_fwd4_map(fwd4);
	put_set(n, bt, fwd4);
	put_set(n, bt, counted(new_set(n, OBJ_ALLOW4,
				       CONCAT3(TYPE_IPADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE),
				       ALLOW4_KEY_LEN)));
	put_set(n, bt, counted(new_set(n, OBJ_PINHOLE6,
				       CONCAT3(TYPE_IP6ADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE),
				       PIN6_KEY_LEN)));
	put_set(n, bt, counted(new_range_set(n, OBJ_PINHOLE6_FILTERED,
					     CONCAT5(TYPE_IP6ADDR, TYPE_INET_SERVICE, TYPE_IP6ADDR,
						     TYPE_INET_PROTOCOL, TYPE_INET_SERVICE),
					     PIN6F_KEY_LEN, pinhole6_filtered_fields,
					     sizeof(pinhole6_filtered_fields))));

	put_set(n, bt, seen_set(new_set(n, OBJ_SEEN4,
					CONCAT3(TYPE_IPADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE),
					ALLOW4_KEY_LEN)));
	put_set(n, bt, seen_set(new_set(n, OBJ_SEEN6,
					CONCAT3(TYPE_IP6ADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE),
					PIN6_KEY_LEN)));
	hairpin4 = new_set(n, OBJ_HAIRPIN4, TYPE_IPADDR, 4);
	nftnl_set_set_u32(hairpin4, NFTNL_SET_FLAGS, 0);
	put_set(n, bt, hairpin4);
	if (n->has_hairpin_address)
		put_hairpin_address(n, bt, NFT_MSG_NEWSETELEM, n->hairpin_address);
	peer4 = new_set(n, OBJ_PEER4,
			CONCAT5(TYPE_IPADDR, TYPE_INET_SERVICE, TYPE_IPADDR, TYPE_INET_PROTOCOL,
				TYPE_INET_SERVICE),
			PEER4_KEY_LEN);
	nftnl_set_set_u32(peer4, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_MAP);
	nftnl_set_set_u32(peer4, NFTNL_SET_DATA_TYPE, TYPE_INET_SERVICE);
	nftnl_set_set_u32(peer4, NFTNL_SET_DATA_LEN, PEER4_DATA_LEN);
	put_set(n, bt, counted(peer4));

	put_chain(n, bt, new_chain(n, OBJ_PREROUTING, "nat", NF_INET_PRE_ROUTING, PRIORITY_DSTNAT));
	put_chain(n, bt, new_chain(n, OBJ_POSTROUTING, "nat", NF_INET_POST_ROUTING,
				   PRIORITY_SRCNAT));
	/* In a firewall's table, its forward chain jumps to ours, so that our
	 * accept is the firewall's verdict. */
	put_chain(n, bt, integrated(n) ? new_regular_chain(n, OBJ_FORWARD) :
					 new_chain(n, OBJ_FORWARD, "filter", NF_INET_FORWARD,
						   PRIORITY_FORWARD));
	memset(n->rules_made, 0, sizeof(n->rules_made));
	put_our_rule(n, bt, OBJ_PREROUTING, rule_dnat(n));
	put_our_rule(n, bt, OBJ_PREROUTING, rule_dnat_filtered(n));
	put_our_rule(n, bt, OBJ_PREROUTING, rule_hairpin_dnat(n));
	put_our_rule(n, bt, OBJ_POSTROUTING, rule_hairpin_masquerade(n));
	put_our_rule(n, bt, OBJ_POSTROUTING, rule_peer_masquerade(n));
	put_our_rule(n, bt, OBJ_FORWARD, rule_skip_invalid(n));
	/* Before the accepts, which end the chain. */
	put_our_rule(n, bt, OBJ_FORWARD, rule_seen4(n));
	put_our_rule(n, bt, OBJ_FORWARD, rule_seen6(n, false));
	put_our_rule(n, bt, OBJ_FORWARD, rule_seen6(n, true));
	put_our_rule(n, bt, OBJ_FORWARD, rule_allow4(n));
	put_our_rule(n, bt, OBJ_FORWARD, rule_pinhole6(n));
	put_our_rule(n, bt, OBJ_FORWARD, rule_pinhole6_filtered(n));
}

/* --- living in a firewall's table --- */

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

/*
 * Sends one request and hands each answer of ours to each(answer, arg),
 * up to the ACK or the end of a dump. Like a batch, a request is answered
 * inside sendmsg() (a dump's further parts inside recv()), so MSG_DONTWAIT
 * reads never wait. Returns 0 or the kernel's error, -ENOENT included:
 * what was asked for is not there.
 */
static int ask(struct nft *n, const struct nlmsghdr *request, char *buf, size_t buflen,
	       int (*each)(const struct nlmsghdr *answer, void *arg), void *arg)
{
	uint32_t seq = request->nlmsg_seq;

	if (mnl_socket_sendto(n->nl, request, request->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(mnl_socket_get_fd(n->nl), buf, buflen, MSG_DONTWAIT);
		int remaining = (int)len;

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return errno == EAGAIN ? -EPROTO : -errno;
		for (const struct nlmsghdr *r = (const struct nlmsghdr *)buf;
		     nlmsg_ok(r, remaining); r = mnl_nlmsg_next(r, &remaining)) {
			if (r->nlmsg_seq != seq)
				continue;  /* a late answer to something earlier */
			if (r->nlmsg_type == NLMSG_DONE)
				return 0;
			if (r->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(r);

				if (mnl_nlmsg_get_payload_len(r) < sizeof(*err))
					return -EPROTO;
				return err->error;
			}
			if (each(r, arg) < 0)
				return -ENOMEM;
		}
	}
}

struct dump_answers {
	struct nft *n;
	struct found *found;
	int (*each)(const struct nlmsghdr *, const struct nft *, struct found *);
};

static int dump_answer(const struct nlmsghdr *answer, void *arg)
{
	struct dump_answers *d = arg;

	return d->each(answer, d->n, d->found);
}

/* Dumps objects of one type (a nftnl object, in the form its build
 * function puts) and hands each to each(nlh, found). */
static int dump(struct nft *n, uint16_t type, void (*build)(struct nlmsghdr *, const struct nft *),
		int (*each)(const struct nlmsghdr *, const struct nft *, struct found *),
		struct found *f)
{
	/* The kernel sizes a dump's parts by the reader's buffer, up to 32 KiB
	 * and more: a smaller one would cut messages. One process, one dump
	 * at a time. */
	static char buf[DUMP_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, NLM_F_DUMP, n->seq++);
	struct dump_answers d = { .n = n, .found = f, .each = each };
	int rc;

	build(nlh, n);
	rc = ask(n, nlh, buf, sizeof(buf), dump_answer, &d);
	return rc == -ENOENT ? 0 : rc;
}

static void build_chain_dump(struct nlmsghdr *nlh, const struct nft *n)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, n->table);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
}

static void build_set_dump(struct nlmsghdr *nlh, const struct nft *n)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
}

static void build_rule_dump(struct nlmsghdr *nlh, const struct nft *n)
{
	struct nftnl_rule *r = new_rule_in(n, n->forward_chain);

	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
}

static void mark_ours(const struct nft *n, const char *name, enum obj first, enum obj end,
		      struct found *f)
{
	for (enum obj o = first; o < end; o++)
		if (strcmp(name, n->name[o]) == 0)
			f->obj[o] = true;
}

static int found_chain(const struct nlmsghdr *nlh, const struct nft *n, struct found *f)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *table, *name;

	if (!c)
		return -1;
	if (nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    (table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)) && strcmp(table, n->table) == 0 &&
	    (name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME))) {
		mark_ours(n, name, OBJ_SET_COUNT, OBJ_COUNT, f);
		if (strcmp(name, n->forward_chain) == 0) {
			bool forward_hook = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) &&
					    nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) ==
						    NF_INET_FORWARD;
			f->forward_chain |= forward_hook;
			f->forward_chain_other |= !forward_hook;
		}
	}
	nftnl_chain_free(c);
	return 0;
}

static int found_set(const struct nlmsghdr *nlh, const struct nft *n, struct found *f)
{
	struct nftnl_set *s = nftnl_set_alloc();
	const char *table, *name;

	if (!s)
		return -1;
	if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    (table = nftnl_set_get_str(s, NFTNL_SET_TABLE)) && strcmp(table, n->table) == 0 &&
	    (name = nftnl_set_get_str(s, NFTNL_SET_NAME)))
		mark_ours(n, name, 0, OBJ_SET_COUNT, f);
	nftnl_set_free(s);
	return 0;
}

/* A jump (or goto) to our forward chain. */
struct jump_target {
	const char *chain;
	bool found;
};

static int is_jump_to_ours(struct nftnl_expr *e, void *data)
{
	struct jump_target *target = data;
	const char *chain;
	uint32_t verdict;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "immediate") != 0 ||
	    !nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT) ||
	    !nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
		return 0;
	verdict = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
	chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
	target->found |= (verdict == (uint32_t)NFT_JUMP || verdict == (uint32_t)NFT_GOTO) &&
			 strcmp(chain, target->chain) == 0;
	return 0;
}

static int found_rule(const struct nlmsghdr *nlh, const struct nft *n, struct found *f)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct jump_target ours = { .chain = n->name[OBJ_FORWARD], .found = false };
	const char *table, *chain;

	if (!r)
		return -1;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    (table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE)) && strcmp(table, n->table) == 0 &&
	    (chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)) &&
	    strcmp(chain, n->forward_chain) == 0 && f->njumps < JUMPS_MAX &&
	    nftnl_expr_foreach(r, is_jump_to_ours, &ours) == 0 && ours.found)
		f->jump_handles[f->njumps++] = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	nftnl_rule_free(r);
	return 0;
}

static void build_table_rule_dump(struct nlmsghdr *nlh, const struct nft *n)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->table);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
}

static int count_rule(const struct nlmsghdr *nlh, const struct nft *n, struct found *f)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *table, *chain;

	if (!r)
		return -1;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    (table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE)) && strcmp(table, n->table) == 0 &&
	    (chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)))
		for (enum obj o = OBJ_SET_COUNT; o < OBJ_COUNT; o++)
			if (strcmp(chain, n->name[o]) == 0)
				f->rules[o]++;
	nftnl_rule_free(r);
	return 0;
}

static int find_ours(struct nft *n, struct found *f)
{
	int rc;

	*f = (struct found){ .njumps = 0 };
	if ((rc = dump(n, NFT_MSG_GETCHAIN, build_chain_dump, found_chain, f)) < 0 ||
	    (rc = dump(n, NFT_MSG_GETSET, build_set_dump, found_set, f)) < 0)
		return rc;
	if (!f->forward_chain)
		return 0;
	return dump(n, NFT_MSG_GETRULE, build_rule_dump, found_rule, f);
}

/* Deletes what find_ours found: jumps first, then the rules that use our
 * sets, then the chains and sets themselves. */
static void put_delete_ours(struct nft *n, struct batch *bt, const struct found *f)
{
	for (size_t i = 0; i < f->njumps; i++) {
		struct nftnl_rule *r = new_rule_in(n, n->forward_chain);

		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, f->jump_handles[i]);
		nftnl_rule_nlmsg_build_payload(batch_msg(n, bt, NFT_MSG_DELRULE, 0), r);
		nftnl_rule_free(r);
		batch_next(bt);
	}
	for (enum obj o = OBJ_SET_COUNT; o < OBJ_COUNT; o++) {
		struct nftnl_rule *r;

		if (!f->obj[o])
			continue;
		r = new_rule(n, o);  /* no handle: every rule of the chain */
		nftnl_rule_nlmsg_build_payload(batch_msg(n, bt, NFT_MSG_DELRULE, 0), r);
		nftnl_rule_free(r);
		batch_next(bt);
	}
	for (enum obj o = OBJ_SET_COUNT; o < OBJ_COUNT; o++) {
		struct nftnl_chain *c;

		if (!f->obj[o])
			continue;
		c = new_regular_chain(n, o);
		nftnl_chain_nlmsg_build_payload(batch_msg(n, bt, NFT_MSG_DELCHAIN, 0), c);
		nftnl_chain_free(c);
		batch_next(bt);
	}
	for (enum obj o = 0; o < OBJ_SET_COUNT; o++) {
		struct nftnl_set *s;

		if (!f->obj[o])
			continue;
		s = nftnl_set_alloc();
		nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, n->name[o]);
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_nlmsg_build_payload(batch_msg(n, bt, NFT_MSG_DELSET, 0), s);
		nftnl_set_free(s);
		batch_next(bt);
	}
}

/* jump portleased_forward comment "portleased", first in the firewall's
 * forward chain: before its drops, and before anything that accepts on
 * its own terms. */
static void put_jump(struct nft *n, struct batch *bt)
{
	struct nftnl_rule *r = new_rule_in(n, n->forward_chain);
	struct nftnl_expr *jump = nftnl_expr_alloc("immediate");
	struct nftnl_udata_buf *comment = nftnl_udata_buf_alloc(64);

	nftnl_expr_set_u32(jump, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(jump, NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_JUMP);
	nftnl_expr_set_str(jump, NFTNL_EXPR_IMM_CHAIN, n->name[OBJ_FORWARD]);
	add_expr(r, jump);
	if (comment && nftnl_udata_put_strz(comment, NFTNL_UDATA_RULE_COMMENT, "portleased"))
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(comment),
				    nftnl_udata_buf_len(comment));
	nftnl_udata_buf_free(comment);
	/* No NLM_F_APPEND and no position: the head of the chain. */
	nftnl_rule_nlmsg_build_payload(batch_msg(n, bt, NFT_MSG_NEWRULE, NLM_F_CREATE), r);
	nftnl_rule_free(r);
	batch_next(bt);
}

static int create_in_firewall_table(struct nft *n)
{
	struct found f;
	int rc = find_ours(n, &f);

	if (rc < 0)
		return rc;
	if (!f.forward_chain)
		return f.forward_chain_other ? -ENOTDIR : -ENOENT;
	batch_start(n, n->batch);
	put_delete_ours(n, n->batch, &f);
	put_our_objects(n, n->batch);
	put_jump(n, n->batch);
	return batch_commit(n, n->batch);
}

static int create_own_table(struct nft *n)
{
	struct batch *bt = n->batch;

	batch_start(n, bt);
	/* Add-then-delete makes the delete succeed whether or not a stale
	 * table of ours exists; the batch is atomic, so no packet ever sees
	 * a half-built table. */
	put_table(n, bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_table(n, bt, NFT_MSG_DELTABLE, 0);
	put_table(n, bt, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	put_our_objects(n, bt);
	return batch_commit(n, bt);
}

static int create_table(struct nft *n)
{
	return integrated(n) ? create_in_firewall_table(n) : create_own_table(n);
}

static struct element *elements_alloc(void);

struct nft *nft_open(const char *table, const char *forward_chain, const char *external_ifname,
		     uint32_t pinhole_mark, char *err, size_t errlen)
{
	struct nft *n = calloc(1, sizeof(*n));
	int one = 1, rc;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (forward_chain && strncmp(forward_chain, INTEGRATED_PREFIX,
				     strlen(INTEGRATED_PREFIX)) == 0) {
		snprintf(err, errlen, "chain %s is one of portleased's own; name the firewall's "
			 "forward chain", forward_chain);
		free(n);
		return NULL;
	}
	snprintf(n->table, sizeof(n->table), "%s", table);
	snprintf(n->forward_chain, sizeof(n->forward_chain), "%s", forward_chain ? forward_chain : "");
	for (enum obj o = 0; o < OBJ_COUNT; o++)
		snprintf(n->name[o], sizeof(n->name[o]), "%s%s",
			 integrated(n) ? INTEGRATED_PREFIX : "", obj_base_name[o]);
	snprintf(n->ext_ifname, sizeof(n->ext_ifname), "%s", external_ifname);
	n->pinhole_mark = pinhole_mark;
	n->seq = 1;
	n->batch = malloc(sizeof(*n->batch));
	n->elements = elements_alloc();
	if (!n->batch || !n->elements) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	/* ACKs for failed messages then carry the header only, not a copy of
	 * the whole request. */
	mnl_socket_setsockopt(n->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	n->portid = mnl_socket_get_portid(n->nl);

	rc = create_table(n);
	if (rc < 0 && integrated(n) && (rc == -ENOENT || rc == -ENOTDIR)) {
		snprintf(err, errlen, "firewall_integration: table inet %s has no chain %s on the "
			 "forward hook%s", table, forward_chain,
			 rc == -ENOENT ? " (is the firewall running? does `nft list chains inet` "
					 "show it?)" : " (the chain of that name is not a base "
					 "chain on the forward hook)");
		goto fail;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot create portleased's nftables %s inet %s: %s%s",
			 integrated(n) ? "chains and sets in table" : "table", table,
			 strerror(-rc),
			 rc == -EPERM ? " (portleased needs CAP_NET_ADMIN)" :
			 rc == -ENOENT || rc == -EOPNOTSUPP ?
				 " (is the kernel built with nf_tables, nft_nat and nft_ct?)" : "");
		goto fail;
	}
	return n;
fail:
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n->batch);
	free(n->elements);
	free(n);
	return NULL;
}

int nft_set_hairpin_address(struct nft *n, const struct in_addr *addr)
{
	int rc;

	if (n->has_hairpin_address == (addr != NULL) &&
	    (!addr || n->hairpin_address.s_addr == addr->s_addr))
		return 0;
	batch_start(n, n->batch);
	if (n->has_hairpin_address)
		put_hairpin_address(n, n->batch, NFT_MSG_DELSETELEM, n->hairpin_address);
	if (addr)
		put_hairpin_address(n, n->batch, NFT_MSG_NEWSETELEM, *addr);
	rc = batch_commit(n, n->batch);
	if (rc == 0) {
		n->has_hairpin_address = addr != NULL;
		if (addr)
			n->hairpin_address = *addr;
	}
	return rc;
}

int nft_rebuild(struct nft *n)
{
	return create_table(n);
}

int nft_intact(struct nft *n)
{
	struct found f;
	int rc;

	if ((rc = find_ours(n, &f)) < 0)
		return rc;
	if (integrated(n) && f.njumps != 1)
		return 0;
	if ((rc = dump(n, NFT_MSG_GETRULE, build_table_rule_dump, count_rule, &f)) < 0)
		return rc;
	for (enum obj o = 0; o < OBJ_COUNT; o++)
		if (!f.obj[o] || (o >= OBJ_SET_COUNT && f.rules[o] != n->rules_made[o]))
			return 0;
	return 1;
}

uint32_t nft_portid(const struct nft *n)
{
	return n->portid;
}

const char *nft_table_name(const struct nft *n)
{
	return n->table;
}

void nft_close(struct nft *n, int remove_table)
{
	if (!n)
		return;
	if (remove_table && integrated(n)) {
		struct found f;

		if (find_ours(n, &f) == 0) {
			batch_start(n, n->batch);
			put_delete_ours(n, n->batch, &f);
			batch_commit(n, n->batch);
		}
	} else if (remove_table) {
		batch_start(n, n->batch);
		put_table(n, n->batch, NFT_MSG_DELTABLE, 0);
		batch_commit(n, n->batch);
	}
	mnl_socket_close(n->nl);
	free(n->batch);
	free(n->elements);
	free(n);
}

/* --- elements --- */

/*
 * Keys and data as the kernel compares them: each member of a concatenation
 * in whole 32-bit registers, zero-padded, in network byte order.
 */
struct key {
	uint8_t bytes[MAX_KEY_LEN];
	uint32_t len;
};

static void key_put(struct key *k, const void *bytes, uint32_t len)
{
	memcpy(k->bytes + k->len, bytes, len);
	k->len += (len + 3) & ~3u;
}

static void key_put_port(struct key *k, uint16_t port)
{
	uint16_t be = htons(port);
	key_put(k, &be, 2);
}

static void key_put_v4(struct key *k, const struct in6_addr *a)
{
	key_put(k, &a->s6_addr[12], 4);
}

static void key_put_v6(struct key *k, const struct in6_addr *a)
{
	key_put(k, a->s6_addr, 16);
}

enum elem_op { ELEM_ADD, ELEM_DELETE };

/* One set element of a mapping. */
struct element {
	enum obj set;
	struct key key, key_end, data;  /* key_end, data: len 0 when absent */
	uint64_t timeout_ms;            /* an add's; 0: none (static) */
};

/* Remote ranges, a PEER's outbound ones, plus allow4. */
#define MAPPING_MAX_ELEMENTS (FILTER_MAX_RANGES + FILTER_MAX + 1)
/* What one transaction of nft_mappings_apply holds at most: about 130
 * bytes each, well inside BATCH_LIMIT. */
#define TXN_MAX_ELEMENTS 256
/* A transaction's elements, and room for one more mapping's that may not
 * fit; then the same again to group them by set. */
#define SCRATCH_ELEMENTS (TXN_MAX_ELEMENTS + MAPPING_MAX_ELEMENTS)

static struct element *elements_alloc(void)
{
	return malloc(2 * SCRATCH_ELEMENTS * sizeof(struct element));
}

static bool is_forward(const struct nft_mapping *m)
{
	return IN6_IS_ADDR_V4MAPPED(&m->internal_addr);
}

/* The internal endpoint: allow4's key, pinhole6's, and the tail of
 * pinhole6_filtered's. */
static void key_put_internal(struct key *k, const struct nft_mapping *m)
{
	uint8_t proto = m->proto;

	if (is_forward(m))
		key_put_v4(k, &m->internal_addr);
	else
		key_put_v6(k, &m->internal_addr);
	key_put(k, &proto, 1);
	key_put_port(k, m->internal_port);
}

/* The remote range's first (or last) point, then the mapping's own fields. */
static void key_put_remote(struct key *k, const struct nft_mapping *m,
			   const struct remote_range *r, bool last)
{
	uint8_t proto = m->proto;

	if (is_forward(m)) {
		key_put_v4(k, last ? &r->last : &r->first);
		key_put_port(k, last ? r->port_last : r->port_first);
		key_put(k, &proto, 1);
		key_put_port(k, m->external_port);
	} else {
		key_put_v6(k, last ? &r->last : &r->first);
		key_put_port(k, last ? r->port_last : r->port_first);
		key_put_internal(k, m);
	}
}

/* A PEER's flows out: one peer4 element per remote (each a single address
 * and port), whose data is the external port they leave from. */
static size_t peer_elements(const struct nft_mapping *m, size_t nremotes, struct element *out)
{
	uint16_t external_be = htons(m->external_port);
	uint8_t proto = m->proto;
	size_t count = 0;

	for (size_t i = 0; i < nremotes && count < FILTER_MAX; i++) {
		const struct remote_range *r = &m->remotes[i];
		struct element *e = &out[count++];

		*e = (struct element){ .set = OBJ_PEER4, .timeout_ms = m->timeout_ms };
		key_put_v4(&e->key, &m->internal_addr);
		key_put_port(&e->key, m->internal_port);
		key_put_v4(&e->key, &r->first);
		key_put(&e->key, &proto, 1);
		key_put_port(&e->key, r->port_first);
		memcpy(e->data.bytes, &external_be, sizeof(external_be));
		e->data.len = sizeof(external_be);
	}
	return count;
}

/*
 * A forward: its DNAT element (fwd4, or one fwd4_filtered element per remote
 * range) and allow4 for the forward chain, and a PEER's peer4 elements. A
 * pinhole: pinhole6, or one pinhole6_filtered element per remote range.
 * Returns how many.
 */
static size_t mapping_elements(const struct nft_mapping *m, struct element *out)
{
	size_t count = 0, nremotes = m->nremotes < FILTER_MAX_RANGES ? m->nremotes :
								  FILTER_MAX_RANGES;
	struct key dnat_target = { .len = 0 };
	uint8_t proto = m->proto;

	if (is_forward(m)) {
		key_put_v4(&dnat_target, &m->internal_addr);
		key_put_port(&dnat_target, m->internal_port);
	}
	for (size_t i = 0; i < nremotes; i++) {
		struct element *e = &out[count++];
		*e = (struct element){ .set = is_forward(m) ? OBJ_FWD4_FILTERED :
							      OBJ_PINHOLE6_FILTERED,
				       .data = dnat_target, .timeout_ms = m->timeout_ms };
		key_put_remote(&e->key, m, &m->remotes[i], false);
		key_put_remote(&e->key_end, m, &m->remotes[i], true);
	}
	if (!is_forward(m)) {
		if (nremotes == 0) {
			struct element *e = &out[count++];
			*e = (struct element){ .set = OBJ_PINHOLE6, .timeout_ms = m->timeout_ms };
			key_put_internal(&e->key, m);
		}
		return count;
	}
	if (nremotes == 0) {
		struct element *e = &out[count++];
		*e = (struct element){ .set = OBJ_FWD4, .data = dnat_target,
				       .timeout_ms = m->timeout_ms };
		key_put(&e->key, &proto, 1);
		key_put_port(&e->key, m->external_port);
	}
	out[count] = (struct element){ .set = OBJ_ALLOW4, .timeout_ms = m->timeout_ms };
	key_put_internal(&out[count++].key, m);
	if (m->peer)
		count += peer_elements(m, nremotes, &out[count]);
	return count;
}

/* Consecutive elements of the same set go in one message. An add refuses
 * a key that is there already (NLM_F_EXCL): without it the kernel keeps
 * the element it has, whatever that points at, and reports success, so a
 * client would be told of a mapping that leads elsewhere. */
static void put_elements(struct nft *n, struct batch *bt, enum elem_op op,
			 const struct element *elems, size_t count)
{
	for (size_t i = 0; i < count;) {
		struct nftnl_set *s = nftnl_set_alloc();
		enum obj set = elems[i].set;

		nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, n->name[set]);
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		for (; i < count && elems[i].set == set; i++) {
			const struct element *e = &elems[i];
			struct nftnl_set_elem *el = nftnl_set_elem_alloc();

			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key.bytes, e->key.len);
			if (e->key_end.len)
				nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, e->key_end.bytes,
						   e->key_end.len);
			if (op == ELEM_ADD) {
				if (e->data.len)
					nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, e->data.bytes,
							   e->data.len);
				/* None: the element stays until deleted (static). */
				if (e->timeout_ms)
					nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_TIMEOUT,
							       e->timeout_ms);
			}
			nftnl_set_elem_add(s, el);
		}
		nftnl_set_elems_nlmsg_build_payload(
			batch_msg(n, bt, op == ELEM_ADD ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
				  op == ELEM_ADD ? NLM_F_CREATE | NLM_F_EXCL : 0),
			s);
		nftnl_set_free(s);
		batch_next(bt);
	}
}

/* Deletes the elements of del (if any), then adds those of add (if any), in
 * one atomic batch. */
static int run_mapping_ops(struct nft *n, const struct nft_mapping *del,
			   const struct nft_mapping *add)
{
	struct element *elems = n->elements;

	batch_start(n, n->batch);
	if (del)
		put_elements(n, n->batch, ELEM_DELETE, elems, mapping_elements(del, elems));
	if (add)
		put_elements(n, n->batch, ELEM_ADD, elems, mapping_elements(add, elems));
	return batch_commit(n, n->batch);
}

int nft_mapping_add(struct nft *n, const struct nft_mapping *m)
{
	return run_mapping_ops(n, NULL, m);
}

/*
 * Kernels before 6.10 keep an existing element's timeout on a plain add, so a
 * refresh is delete + add in one atomic batch. If the kernel expired some of
 * the old elements a moment before us, the delete fails with ENOENT and the
 * whole batch is rolled back: then delete what is left, and add.
 */
int nft_mapping_replace(struct nft *n, const struct nft_mapping *old, const struct nft_mapping *m)
{
	int rc = run_mapping_ops(n, old, m);

	if (rc == -ENOENT) {
		rc = nft_mapping_delete(n, old);
		if (rc == 0)
			rc = nft_mapping_add(n, m);
	}
	return rc;
}

int nft_mapping_renew(struct nft *n, const struct nft_mapping *m)
{
	return nft_mapping_replace(n, m, m);
}

/* One batch per element, so that one the kernel already expired does not
 * keep the others in place. */
static int delete_each_ignoring_absent(struct nft *n, const struct nft_mapping *m)
{
	size_t count = mapping_elements(m, n->elements);
	int first_error = 0;

	for (size_t i = 0; i < count; i++) {
		int rc;

		batch_start(n, n->batch);
		put_elements(n, n->batch, ELEM_DELETE, &n->elements[i], 1);
		rc = batch_commit(n, n->batch);
		if (rc < 0 && rc != -ENOENT && first_error == 0)
			first_error = rc;
	}
	return first_error;
}

static int read_element(struct nft *n, const struct element *e,
			int (*each)(struct nftnl_set_elem *el, void *data), struct nft_counters *sum);

/*
 * Asks first which elements the kernel still holds, and deletes those in
 * one transaction. A transaction the kernel refuses costs it milliseconds
 * of rollback (measured: 8 to 16 ms each on Linux 6.18), a question
 * microseconds; and when a lease ends, the kernel has usually expired
 * every element already, so nothing is left to delete.
 */
int nft_mapping_delete(struct nft *n, const struct nft_mapping *m)
{
	struct element *elems = n->elements;
	size_t count = mapping_elements(m, elems), held = 0;
	int rc;

	for (size_t i = 0; i < count; i++) {
		if ((rc = read_element(n, &elems[i], NULL, NULL)) < 0)
			return rc;
		if (rc == 1)
			elems[held++] = elems[i];
	}
	if (held == 0)
		return 0;
	batch_start(n, n->batch);
	put_elements(n, n->batch, ELEM_DELETE, elems, held);
	rc = batch_commit(n, n->batch);
	/* One expired between the question and the transaction. */
	return rc == -ENOENT ? delete_each_ignoring_absent(n, m) : rc;
}

/* count elements of one verb, grouped by set (in order within each), so
 * that each set gets one message: a run of adds or of deletes touches
 * distinct keys, so their order does not matter. */
static void put_grouped(struct nft *n, enum elem_op op, const struct element *elems,
			size_t count, struct element *sorted)
{
	size_t start[OBJ_SET_COUNT + 1] = { 0 };

	for (size_t i = 0; i < count; i++)
		start[elems[i].set + 1]++;
	for (size_t s = 1; s <= OBJ_SET_COUNT; s++)
		start[s] += start[s - 1];
	for (size_t i = 0; i < count; i++)
		sorted[start[elems[i].set]++] = elems[i];
	put_elements(n, n->batch, op, sorted, count);
}

/*
 * Verbs from verbs[first] on that fit one transaction (at least one), put
 * in the batch: each run of adds or deletes as one message per set.
 * Returns where the next transaction starts.
 */
static size_t put_transaction(struct nft *n, const struct nft_verb *verbs, size_t first,
			      size_t count)
{
	struct element *elems = n->elements, *sorted = n->elements + SCRATCH_ELEMENTS;
	size_t next = first, total = 0;

	while (next < count) {
		bool add = verbs[next].add;
		size_t run = 0, end = next;

		for (; end < count && verbs[end].add == add; end++) {
			size_t k = mapping_elements(&verbs[end].m, elems + run);

			if (total + run + k > TXN_MAX_ELEMENTS && end > first)
				break;
			run += k;
		}
		if (end == next)
			break;
		put_grouped(n, add ? ELEM_ADD : ELEM_DELETE, elems, run, sorted);
		total += run;
		next = end;
		if (end < count && verbs[end].add == add)
			break;  /* full */
	}
	return next;
}

void nft_mappings_apply(struct nft *n, const struct nft_verb *verbs, size_t count, int *rc)
{
	for (size_t first = 0; first < count;) {
		size_t next;
		int txn;

		batch_start(n, n->batch);
		next = put_transaction(n, verbs, first, count);
		txn = batch_commit(n, n->batch);
		/* The kernel rolled all of it back: each on its own, so that
		 * only what it refuses fails (a delete of what it expired
		 * meanwhile does not). */
		for (size_t i = first; i < next; i++)
			rc[i] = txn == 0 ? 0 : verbs[i].add ? nft_mapping_add(n, &verbs[i].m) :
							      nft_mapping_delete(n, &verbs[i].m);
		first = next;
	}
}

/* --- counters --- */

static int add_counter(struct nftnl_expr *e, void *data)
{
	struct nft_counters *sum = data;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
		sum->packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		sum->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static int add_element_counters(struct nftnl_set_elem *el, void *data)
{
	return nftnl_set_elem_expr_foreach(el, add_counter, data);
}

/* A seen4/seen6 element: its timeout restarted at the last new
 * connection, so the time it has run is the time since. */
static int add_element_seen(struct nftnl_set_elem *el, void *data)
{
	struct nft_counters *c = data;
	uint64_t timeout, left;

	if (!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_EXPIRATION))
		return 0;
	/* An element with the set's own timeout does not repeat it. */
	timeout = nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_TIMEOUT) ?
			  nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_TIMEOUT) : SEEN_TIMEOUT_MS;
	left = nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_EXPIRATION);
	c->used = true;
	c->idle_ms = timeout > left ? timeout - left : 0;
	return 0;
}

struct element_answer {
	int (*each)(struct nftnl_set_elem *el, void *data);
	struct nft_counters *sum;
	bool parsed;
};

static int element_answer(const struct nlmsghdr *answer, void *arg)
{
	struct element_answer *a = arg;
	struct nftnl_set *s;

	if (NFNL_MSG_TYPE(answer->nlmsg_type) != NFT_MSG_NEWSETELEM)
		return 0;
	if (!(s = nftnl_set_alloc()))
		return -1;
	if (nftnl_set_elems_nlmsg_parse(answer, s) == 0) {
		if (a->each)
			nftnl_set_elem_foreach(s, a->each, a->sum);
		a->parsed = true;
	}
	nftnl_set_free(s);
	return 0;
}

/* Asks for one element and hands it to each(el, sum) (if each is set): 1 if
 * the kernel holds it, 0 if not (an element it expired answers ENOENT), or
 * a negative errno. */
static int read_element(struct nft *n, const struct element *e,
			int (*each)(struct nftnl_set_elem *el, void *data), struct nft_counters *sum)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	struct element_answer answer = { .each = each, .sum = sum, .parsed = false };
	struct nlmsghdr *nlh;
	int rc;

	if (!s || !el) {
		nftnl_set_free(s);
		nftnl_set_elem_free(el);
		return -ENOMEM;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, n->name[e->set]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key.bytes, e->key.len);
	if (e->key_end.len)
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, e->key_end.bytes, e->key_end.len);
	nftnl_set_elem_add(s, el);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_ACK, n->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	rc = ask(n, nlh, buf, sizeof(buf), element_answer, &answer);
	if (rc == -ENOENT)
		return 0;
	return rc < 0 ? rc : answer.parsed ? 1 : -EPROTO;
}

int nft_mapping_counters(struct nft *n, const struct nft_mapping *m, struct nft_counters *out)
{
	size_t count = mapping_elements(m, n->elements);

	*out = (struct nft_counters){ 0 };
	for (size_t i = 0; i < count; i++) {
		int rc;

		/* The NAT chains see a connection's first packet only: fwd4's
		 * and peer4's counters count connections. allow4's, in the
		 * forward chain, count every packet let in. */
		if (n->elements[i].set == OBJ_FWD4 || n->elements[i].set == OBJ_FWD4_FILTERED ||
		    n->elements[i].set == OBJ_PEER4)
			continue;
		rc = read_element(n, &n->elements[i], add_element_counters, out);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int nft_mapping_last_used(struct nft *n, const struct nft_mapping *m, struct nft_counters *out)
{
	struct element seen = { .set = is_forward(m) ? OBJ_SEEN4 : OBJ_SEEN6 };
	int rc;

	out->used = false;
	key_put_internal(&seen.key, m);
	rc = read_element(n, &seen, add_element_seen, out);
	return rc < 0 ? rc : 0;
}
