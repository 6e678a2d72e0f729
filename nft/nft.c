#include "nft.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
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

#define SET_FWD4 "fwd4"
#define SET_ALLOW4 "allow4"
#define SET_PINHOLE6 "pinhole6"

/* nftables datatype ids (nftables' include/datatype.h); a concatenation's
 * type is its members' ids, 6 bits each, first member highest. */
#define TYPE_IPADDR 7
#define TYPE_IP6ADDR 8
#define TYPE_INET_PROTOCOL 12
#define TYPE_INET_SERVICE 13
#define TYPE_BITS 6
#define CONCAT2(a, b) (((a) << TYPE_BITS) | (b))
#define CONCAT3(a, b, c) ((((a) << TYPE_BITS | (b)) << TYPE_BITS) | (c))

/* Each member of a concatenation occupies whole 32-bit registers. */
#define FWD4_KEY_LEN 8    /* proto(4) . port(4) */
#define FWD4_DATA_LEN 8   /* addr(4) . port(4) */
#define ALLOW4_KEY_LEN 12 /* addr(4) . proto(4) . port(4) */
#define PIN6_KEY_LEN 24   /* addr(16) . proto(4) . port(4) */

/* Set ids link a lookup to a set created in the same batch. */
/* nft's named priorities "dstnat" and "filter" (netfilter_ipv4.h). */
#define PRIORITY_DSTNAT (-100)
#define PRIORITY_FILTER 0

enum { SET_ID_FWD4 = 1, SET_ID_ALLOW4, SET_ID_PINHOLE6 };

/* Twice the batch limit: libmnl lets the last message run past the limit. */
#define BATCH_LIMIT 16384
#define BATCH_BUF_SIZE (2 * BATCH_LIMIT)
#define BATCH_MAX_MSGS 32

struct nft {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char table[64];
};

struct batch {
	char buf[BATCH_BUF_SIZE];
	struct mnl_nlmsg_batch *b;
	uint32_t first_seq;  /* of the first message that asks for an ACK */
	unsigned nmsgs;
	bool overflow;
};

static void batch_start(struct nft *n, struct batch *bt)
{
	bt->b = mnl_nlmsg_batch_start(bt->buf, BATCH_LIMIT);
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), n->seq++);
	mnl_nlmsg_batch_next(bt->b);
	bt->first_seq = n->seq;
	bt->nmsgs = 0;
	bt->overflow = false;
}

static struct nlmsghdr *batch_msg(struct nft *n, struct batch *bt, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type,
						     NFPROTO_INET, flags | NLM_F_ACK, n->seq++);
	bt->nmsgs++;
	return nlh;
}

static void batch_next(struct batch *bt)
{
	if (!mnl_nlmsg_batch_next(bt->b) || bt->nmsgs >= BATCH_MAX_MSGS)
		bt->overflow = true;
}

/*
 * The kernel runs an nfnetlink batch to completion inside sendmsg(), so by
 * the time send returns every ACK is already queued on our socket: reading
 * them with MSG_DONTWAIT never waits, and an empty queue before the last ACK
 * means something is wrong, not slow. That keeps the event loop unblocked
 * without a state machine per batch.
 */
static int batch_commit(struct nft *n, struct batch *bt)
{
	char rbuf[16384];
	uint32_t last_seq;
	unsigned acked = 0;
	int first_error = 0;

	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), n->seq++);
	if (bt->overflow || !mnl_nlmsg_batch_next(bt->b)) {
		mnl_nlmsg_batch_stop(bt->b);
		return -EMSGSIZE;
	}
	last_seq = bt->first_seq + bt->nmsgs - 1;

	if (mnl_socket_sendto(n->nl, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b)) < 0) {
		int e = errno;
		mnl_nlmsg_batch_stop(bt->b);
		return -e;
	}
	mnl_nlmsg_batch_stop(bt->b);

	while (acked < bt->nmsgs) {
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
		     mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_seq < bt->first_seq || nlh->nlmsg_seq > last_seq)
				continue;  /* a late answer to an earlier batch */
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
				return -EPROTO;
			e = mnl_nlmsg_get_payload(nlh);
			acked++;
			if (e->error != 0 && first_error == 0)
				first_error = e->error;
		}
	}
	if (first_error)
		return first_error;
	return acked == bt->nmsgs ? 0 : -EPROTO;
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

static struct nftnl_expr *expr_payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	return e;
}

static struct nftnl_expr *expr_lookup(const char *set, uint32_t set_id, uint32_t sreg,
				      int dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
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

/* iifname $ext meta nfproto ipv4 dnat ip to meta l4proto . th dport map @fwd4 */
static struct nftnl_rule *rule_dnat(const char *table, const char *ext_ifname)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	char ifname[IFNAMSIZ] = { 0 };
	struct nftnl_expr *nat;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "prerouting");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);

	strncpy(ifname, ext_ifname, IFNAMSIZ - 1);
	add_expr(r, expr_meta(NFT_META_IIFNAME, NFT_REG_1));
	add_expr(r, expr_cmp(NFT_REG_1, NFT_CMP_EQ, ifname, IFNAMSIZ));
	rule_match_nfproto(r, NFPROTO_IPV4);
	rule_load_proto_port(r, NFT_REG32_00);
	add_expr(r, expr_lookup(SET_FWD4, SET_ID_FWD4, NFT_REG_1, NFT_REG_1));

	nat = nftnl_expr_alloc("nat");
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG32_00);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
	add_expr(r, nat);
	return r;
}

/* ct status dnat ip daddr . meta l4proto . th dport @allow4 accept */
static struct nftnl_rule *rule_allow4(const char *table)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	uint32_t dnat_bit = IPS_DST_NAT, zero = 0;
	struct nftnl_expr *ct, *bw;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "forward");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);

	ct = nftnl_expr_alloc("ct");
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add_expr(r, ct);
	bw = nftnl_expr_alloc("bitwise");
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &dnat_bit, 4);
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	add_expr(r, bw);
	add_expr(r, expr_cmp(NFT_REG_1, NFT_CMP_NEQ, &zero, 4));

	rule_match_nfproto(r, NFPROTO_IPV4);
	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_00));
	rule_load_proto_port(r, NFT_REG32_01);
	add_expr(r, expr_lookup(SET_ALLOW4, SET_ID_ALLOW4, NFT_REG_1, -1));
	add_expr(r, expr_accept());
	return r;
}

/* ip6 daddr . meta l4proto . th dport @pinhole6 accept */
static struct nftnl_rule *rule_pinhole6(const char *table)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "forward");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	rule_match_nfproto(r, NFPROTO_IPV6);
	add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG32_00));
	rule_load_proto_port(r, NFT_REG32_04);
	add_expr(r, expr_lookup(SET_PINHOLE6, SET_ID_PINHOLE6, NFT_REG_1, -1));
	add_expr(r, expr_accept());
	return r;
}

static struct nftnl_set *new_set(const char *table, const char *name, uint32_t id,
				 uint32_t key_type, uint32_t key_len)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	return s;
}

static struct nftnl_chain *new_chain(const char *table, const char *name, const char *type,
				     uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
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

static int create_table(struct nft *n, const char *ext_ifname)
{
	struct batch *bt = malloc(sizeof(*bt));
	struct nftnl_set *fwd4;
	int rc;

	if (!bt)
		return -ENOMEM;
	batch_start(n, bt);
	/* Add-then-delete makes the delete succeed whether or not a stale
	 * table of ours exists; the batch is atomic, so no packet ever sees
	 * a half-built table. */
	put_table(n, bt, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_table(n, bt, NFT_MSG_DELTABLE, 0);
	put_table(n, bt, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);

	fwd4 = new_set(n->table, SET_FWD4, SET_ID_FWD4,
		       CONCAT2(TYPE_INET_PROTOCOL, TYPE_INET_SERVICE), FWD4_KEY_LEN);
	nftnl_set_set_u32(fwd4, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_MAP);
	nftnl_set_set_u32(fwd4, NFTNL_SET_DATA_TYPE, CONCAT2(TYPE_IPADDR, TYPE_INET_SERVICE));
	nftnl_set_set_u32(fwd4, NFTNL_SET_DATA_LEN, FWD4_DATA_LEN);
	nftnl_set_add_expr(fwd4, nftnl_expr_alloc("counter"));
	put_set(n, bt, fwd4);
	put_set(n, bt, new_set(n->table, SET_ALLOW4, SET_ID_ALLOW4,
			       CONCAT3(TYPE_IPADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE),
			       ALLOW4_KEY_LEN));
	put_set(n, bt, new_set(n->table, SET_PINHOLE6, SET_ID_PINHOLE6,
			       CONCAT3(TYPE_IP6ADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE),
			       PIN6_KEY_LEN));

	put_chain(n, bt, new_chain(n->table, "prerouting", "nat", NF_INET_PRE_ROUTING,
				   PRIORITY_DSTNAT));
	put_chain(n, bt, new_chain(n->table, "forward", "filter", NF_INET_FORWARD,
				   PRIORITY_FILTER));
	put_rule(n, bt, rule_dnat(n->table, ext_ifname));
	put_rule(n, bt, rule_allow4(n->table));
	put_rule(n, bt, rule_pinhole6(n->table));

	rc = batch_commit(n, bt);
	free(bt);
	return rc;
}

struct nft *nft_open(const char *table, const char *external_ifname, char *err, size_t errlen)
{
	struct nft *n = calloc(1, sizeof(*n));
	int one = 1, rc;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(n->table, sizeof(n->table), "%s", table);
	n->seq = 1;
	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	/* ACKs for failed messages then carry the header only, not a copy of
	 * the whole request. */
	mnl_socket_setsockopt(n->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	n->portid = mnl_socket_get_portid(n->nl);

	rc = create_table(n, external_ifname);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create nftables table inet %s: %s%s", table,
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
	free(n);
	return NULL;
}

void nft_close(struct nft *n, int remove_table)
{
	if (!n)
		return;
	if (remove_table) {
		struct batch *bt = malloc(sizeof(*bt));
		if (bt) {
			batch_start(n, bt);
			put_table(n, bt, NFT_MSG_DELTABLE, 0);
			batch_commit(n, bt);
			free(bt);
		}
	}
	mnl_socket_close(n->nl);
	free(n);
}

/* --- elements --- */

static void fwd4_key(const struct nft_forward *f, uint8_t key[FWD4_KEY_LEN])
{
	uint16_t port = htons(f->external_port);

	memset(key, 0, FWD4_KEY_LEN);
	key[0] = f->proto;
	memcpy(key + 4, &port, 2);
}

static void fwd4_data(const struct nft_forward *f, uint8_t data[FWD4_DATA_LEN])
{
	uint16_t port = htons(f->internal_port);

	memset(data, 0, FWD4_DATA_LEN);
	memcpy(data, &f->internal_addr.s_addr, 4);
	memcpy(data + 4, &port, 2);
}

static void allow4_key(const struct nft_forward *f, uint8_t key[ALLOW4_KEY_LEN])
{
	uint16_t port = htons(f->internal_port);

	memset(key, 0, ALLOW4_KEY_LEN);
	memcpy(key, &f->internal_addr.s_addr, 4);
	key[4] = f->proto;
	memcpy(key + 8, &port, 2);
}

enum elem_op { ELEM_ADD, ELEM_DELETE };

static void put_elem(struct nft *n, struct batch *bt, enum elem_op op, const char *set_name,
		     const void *key, uint32_t key_len, const void *data, uint32_t data_len,
		     uint64_t timeout_ms)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, key_len);
	if (op == ELEM_ADD) {
		if (data)
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, data_len);
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	}
	nftnl_set_elem_add(s, e);
	nftnl_set_elems_nlmsg_build_payload(
		batch_msg(n, bt, op == ELEM_ADD ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
			  op == ELEM_ADD ? NLM_F_CREATE : 0),
		s);
	nftnl_set_free(s);
	batch_next(bt);
}

static void put_forward(struct nft *n, struct batch *bt, enum elem_op op,
			const struct nft_forward *f)
{
	uint8_t key[FWD4_KEY_LEN], data[FWD4_DATA_LEN], akey[ALLOW4_KEY_LEN];

	fwd4_key(f, key);
	fwd4_data(f, data);
	allow4_key(f, akey);
	put_elem(n, bt, op, SET_FWD4, key, sizeof(key), data, sizeof(data), f->timeout_ms);
	put_elem(n, bt, op, SET_ALLOW4, akey, sizeof(akey), NULL, 0, f->timeout_ms);
}

static int run_forward_ops(struct nft *n, const enum elem_op *ops, size_t nops,
			   const struct nft_forward *f)
{
	struct batch *bt = malloc(sizeof(*bt));
	int rc;

	if (!bt)
		return -ENOMEM;
	batch_start(n, bt);
	for (size_t i = 0; i < nops; i++)
		put_forward(n, bt, ops[i], f);
	rc = batch_commit(n, bt);
	free(bt);
	return rc;
}

int nft_forward_add(struct nft *n, const struct nft_forward *f)
{
	static const enum elem_op ops[] = { ELEM_ADD };
	return run_forward_ops(n, ops, 1, f);
}

/*
 * Kernels before 6.10 keep an existing element's timeout on a plain add, so a
 * refresh is delete + add in one atomic batch. If the kernel expired the
 * elements a moment before us the delete fails with ENOENT, the whole batch
 * is rolled back, and a plain add puts them back.
 */
int nft_forward_refresh(struct nft *n, const struct nft_forward *f)
{
	static const enum elem_op ops[] = { ELEM_DELETE, ELEM_ADD };
	int rc = run_forward_ops(n, ops, 2, f);

	if (rc == -ENOENT)
		rc = nft_forward_add(n, f);
	return rc;
}

static int delete_one_ignoring_absent(struct nft *n, const char *set_name, const void *key,
				      uint32_t key_len)
{
	struct batch *bt = malloc(sizeof(*bt));
	int rc;

	if (!bt)
		return -ENOMEM;
	batch_start(n, bt);
	put_elem(n, bt, ELEM_DELETE, set_name, key, key_len, NULL, 0, 0);
	rc = batch_commit(n, bt);
	free(bt);
	return rc == -ENOENT ? 0 : rc;
}

int nft_forward_delete(struct nft *n, const struct nft_forward *f)
{
	static const enum elem_op ops[] = { ELEM_DELETE };
	uint8_t key[FWD4_KEY_LEN], akey[ALLOW4_KEY_LEN];
	int rc = run_forward_ops(n, ops, 1, f);

	if (rc != -ENOENT)
		return rc;
	/* One of the two elements already timed out: delete each alone. */
	fwd4_key(f, key);
	allow4_key(f, akey);
	rc = delete_one_ignoring_absent(n, SET_FWD4, key, sizeof(key));
	int rc2 = delete_one_ignoring_absent(n, SET_ALLOW4, akey, sizeof(akey));
	return rc ? rc : rc2;
}
