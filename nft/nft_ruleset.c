/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "nft/nft_impl.h"

/* The range sets' fields, in bytes as the datatypes have them. */
static const uint8_t fwd4_filtered_fields[] = { 4, 2, 1, 2 };
static const uint8_t pinhole6_filtered_fields[] = { 16, 2, 16, 1, 2 };

void nft_add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
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
	nft_add_expr(r, expr_meta(NFT_META_NFPROTO, NFT_REG_1));
	nft_add_expr(r, expr_cmp(NFT_REG_1, NFT_CMP_EQ, &nfproto, 1));
}

/* Loads "meta l4proto . th dport" into two consecutive 32-bit registers. */
static void rule_load_proto_port(struct nftnl_rule *r, uint32_t first_reg32)
{
	nft_add_expr(r, expr_meta(NFT_META_L4PROTO, first_reg32));
	nft_add_expr(r, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, first_reg32 + 1));
}

static void rule_load_source_port(struct nftnl_rule *r, uint32_t reg32)
{
	nft_add_expr(r, expr_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, reg32));
}

struct nftnl_rule *nft_new_rule_in(const struct nft *n, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, n->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

struct nftnl_rule *nft_new_rule(const struct nft *n, enum obj chain)
{
	return nft_new_rule_in(n, n->name[chain]);
}

/* An interface name as the kernel compares it: the whole IFNAMSIZ bytes,
 * zero-padded. */
static void rule_match_ifname(struct nftnl_rule *r, uint32_t meta_key, uint32_t cmp_op,
			      const char *name)
{
	char ifname[IFNAMSIZ] = { 0 };

	snprintf(ifname, sizeof(ifname), "%s", name);
	nft_add_expr(r, expr_meta(meta_key, NFT_REG_1));
	nft_add_expr(r, expr_cmp(NFT_REG_1, cmp_op, ifname, IFNAMSIZ));
}

static void rule_match_iifname(struct nftnl_rule *r, const char *ext_ifname)
{
	rule_match_ifname(r, NFT_META_IIFNAME, NFT_CMP_EQ, ext_ifname);
}

/* A rule for packets of one family that came in on the external interface. */
static struct nftnl_rule *new_rule_from_wan(const struct nft *n, enum obj chain, uint8_t nfproto)
{
	struct nftnl_rule *r = nft_new_rule(n, chain);

	rule_match_iifname(r, n->ext_ifname);
	rule_match_nfproto(r, nfproto);
	return r;
}

/* dnat ip to <the address . port the map gives for the key in NFT_REG_1> */
static void rule_dnat_from_map(const struct nft *n, struct nftnl_rule *r, enum obj map)
{
	struct nftnl_expr *nat;

	nft_add_expr(r, expr_lookup(n, map, NFT_REG_1, NFT_REG_1));
	nat = nftnl_expr_alloc("nat");
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG32_00);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
	nft_add_expr(r, nat);
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

	nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00));
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
	struct nftnl_rule *r = nft_new_rule(n, OBJ_PREROUTING);

	rule_match_not_iifname(r, n->ext_ifname);
	rule_match_nfproto(r, NFPROTO_IPV4);
	nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_00));
	nft_add_expr(r, expr_lookup(n, OBJ_HAIRPIN4, NFT_REG_1, -1));
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
	struct nftnl_rule *r = nft_new_rule(n, OBJ_POSTROUTING);
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");

	rule_match_not_iifname(r, n->ext_ifname);
	rule_match_nfproto(r, NFPROTO_IPV4);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_DST_IP);
	nftnl_expr_set_u8(ct, NFTNL_EXPR_CT_DIR, IP_CT_DIR_ORIGINAL);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nft_add_expr(r, ct);
	nft_add_expr(r, expr_lookup(n, OBJ_HAIRPIN4, NFT_REG_1, -1));
	nft_add_expr(r, nftnl_expr_alloc("masq"));
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
	struct nftnl_rule *r = nft_new_rule(n, OBJ_POSTROUTING);
	struct nftnl_expr *masq = nftnl_expr_alloc("masq");

	rule_match_oifname(r, n->ext_ifname);
	rule_match_nfproto(r, NFPROTO_IPV4);
	nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_00));
	rule_load_source_port(r, NFT_REG32_01);
	nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_02));
	rule_load_proto_port(r, NFT_REG32_03);
	nft_add_expr(r, expr_lookup(n, OBJ_PEER4, NFT_REG_1, NFT_REG32_00));
	nftnl_expr_set_u32(masq, NFTNL_EXPR_MASQ_REG_PROTO_MIN, NFT_REG32_00);
	nftnl_expr_set_u32(masq, NFTNL_EXPR_MASQ_REG_PROTO_MAX, NFT_REG32_00);
	nftnl_expr_set_u32(masq, NFTNL_EXPR_MASQ_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
	nft_add_expr(r, masq);
	return r;
}

/* "ip daddr . meta l4proto . th dport" (the internal endpoint, once
 * translated) into NFT_REG_1 */
static void rule_load_endpoint4(struct nftnl_rule *r)
{
	nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_00));
	rule_load_proto_port(r, NFT_REG32_01);
}

/* "ip6 daddr . meta l4proto . th dport" into NFT_REG_1 */
static void rule_load_endpoint6(struct nftnl_rule *r)
{
	nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG32_00));
	rule_load_proto_port(r, NFT_REG32_04);
}

/* A translated IPv4 packet's internal endpoint, in NFT_REG_1:
 * ct status dnat meta nfproto ipv4 ip daddr . meta l4proto . th dport */
static void rule_load_translated4(struct nftnl_rule *r)
{
	uint32_t dnat_bit = IPS_DST_NAT, zero = 0;
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nft_add_expr(r, ct);
	nft_add_expr(r, expr_bitwise(NFT_REG_1, dnat_bit, zero));
	nft_add_expr(r, expr_cmp(NFT_REG_1, NFT_CMP_NEQ, &zero, 4));
	rule_match_nfproto(r, NFPROTO_IPV4);
	rule_load_endpoint4(r);
}

/* A packet one of our IPv4 mappings let in:
 * ct status dnat meta nfproto ipv4 ip daddr . meta l4proto . th dport @allow4 */
static void rule_match_mapped4(const struct nft *n, struct nftnl_rule *r)
{
	rule_load_translated4(r);
	nft_add_expr(r, expr_lookup(n, OBJ_ALLOW4, NFT_REG_1, -1));
}

/* ct state new */
static void rule_match_ct_new(struct nftnl_rule *r)
{
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");
	uint32_t new_bit = NF_CT_STATE_BIT(IP_CT_NEW), zero = 0;

	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nft_add_expr(r, ct);
	nft_add_expr(r, expr_bitwise(NFT_REG_1, new_bit, zero));
	nft_add_expr(r, expr_cmp(NFT_REG_1, NFT_CMP_NEQ, &zero, 4));
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
	struct nftnl_rule *r = nft_new_rule(n, OBJ_FORWARD);

	rule_match_ct_new(r);
	rule_match_mapped4(n, r);
	nft_add_expr(r, expr_update(n, OBJ_SEEN4));
	return r;
}

/* ct state new iifname $ext meta nfproto ipv6
 *     ip6 daddr . meta l4proto . th dport @pinhole6   (or the filtered set)
 *     update @seen6 { ip6 daddr . meta l4proto . th dport } */
static struct nftnl_rule *rule_seen6(const struct nft *n, bool filtered)
{
	struct nftnl_rule *r = nft_new_rule(n, OBJ_FORWARD);

	rule_match_ct_new(r);
	rule_match_iifname(r, n->ext_ifname);
	rule_match_nfproto(r, NFPROTO_IPV6);
	if (filtered) {
		nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG32_00));
		rule_load_source_port(r, NFT_REG32_04);
		nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG32_05));
		rule_load_proto_port(r, NFT_REG32_09);
		nft_add_expr(r, expr_lookup(n, OBJ_PINHOLE6_FILTERED, NFT_REG_1, -1));
	}
	rule_load_endpoint6(r);
	if (!filtered)
		nft_add_expr(r, expr_lookup(n, OBJ_PINHOLE6, NFT_REG_1, -1));
	nft_add_expr(r, expr_update(n, OBJ_SEEN6));
	return r;
}

/* An immediate verdict: drop, or a jump or goto to one of our chains. */
static struct nftnl_expr *expr_verdict(const struct nft *n, int verdict, enum obj chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (verdict == NFT_JUMP || verdict == NFT_GOTO)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, n->name[chain]);
	return e;
}

/* The inbound limit of a new connection's mapping, if it has one: its
 * class's chain.
 * ct state new ct status dnat ip daddr . meta l4proto . th dport vmap @limit4
 * ct state new iifname $ext ip6 daddr . meta l4proto . th dport vmap @limit6 */
static struct nftnl_rule *rule_limit(const struct nft *n, bool v6)
{
	struct nftnl_rule *r = nft_new_rule(n, OBJ_FORWARD);

	rule_match_ct_new(r);
	if (v6) {
		rule_match_iifname(r, n->ext_ifname);
		rule_match_nfproto(r, NFPROTO_IPV6);
		rule_load_endpoint6(r);
	} else {
		rule_load_translated4(r);
	}
	nft_add_expr(r, expr_lookup(n, v6 ? OBJ_LIMIT6 : OBJ_LIMIT4, NFT_REG_1, NFT_REG_VERDICT));
	return r;
}

/* limit rate over rate/second burst bucket packets: matches when over */
static struct nftnl_expr *expr_limit_over(uint32_t rate, uint32_t bucket)
{
	struct nftnl_expr *e = nftnl_expr_alloc("limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, bucket);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
	return e;
}

/*
 * One of a limit class's rules: a meter (a bucket per remote and endpoint,
 * or per endpoint) sends what is over the rate to over_limit.
 * meta nfproto ipv4 update @meter4_remote { ip saddr . ip daddr . meta l4proto . th dport
 *     limit rate over R/second burst B packets } goto over_limit
 * and the same per endpoint (meter4_total), and for IPv6.
 */
static struct nftnl_rule *rule_meter(const struct nft *n, enum obj chain, bool v6,
				     bool per_remote, uint32_t rate, uint32_t bucket)
{
	struct nftnl_rule *r = nft_new_rule(n, chain);
	struct nftnl_expr *update = nftnl_expr_alloc("dynset");
	enum obj meter = v6 ? (per_remote ? OBJ_METER6_REMOTE : OBJ_METER6_TOTAL) :
			      (per_remote ? OBJ_METER4_REMOTE : OBJ_METER4_TOTAL);
	uint32_t endpoint = NFT_REG32_00;

	rule_match_nfproto(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	if (per_remote) {
		nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4,
					     NFT_REG32_00));
		endpoint = v6 ? NFT_REG32_04 : NFT_REG32_01;
	}
	nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, v6 ? 16 : 4,
				     endpoint));
	rule_load_proto_port(r, endpoint + (v6 ? 4 : 1));
	nftnl_expr_set_str(update, NFTNL_EXPR_DYNSET_SET_NAME, n->name[meter]);
	nftnl_expr_set_u32(update, NFTNL_EXPR_DYNSET_SET_ID, set_id(meter));
	nftnl_expr_set_u32(update, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_u32(update, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u64(update, NFTNL_EXPR_DYNSET_TIMEOUT, METER_TIMEOUT_MS);
	nftnl_expr_add_expr(update, NFTNL_EXPR_DYNSET_EXPRESSIONS, expr_limit_over(rate, bucket));
	nft_add_expr(r, update);
	nft_add_expr(r, expr_verdict(n, NFT_GOTO, OBJ_OVER_LIMIT));
	return r;
}

/* What a limit turned away: counted for its endpoint (the lookup's element
 * counter), counted in all, dropped.
 * meta nfproto ipv4 ip daddr . meta l4proto . th dport @limited4
 * meta nfproto ipv6 ip6 daddr . meta l4proto . th dport @limited6
 * counter drop */
static struct nftnl_rule *rule_count_limited(const struct nft *n, bool v6)
{
	struct nftnl_rule *r = nft_new_rule(n, OBJ_OVER_LIMIT);

	rule_match_nfproto(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	if (v6)
		rule_load_endpoint6(r);
	else
		rule_load_endpoint4(r);
	nft_add_expr(r, expr_lookup(n, v6 ? OBJ_LIMITED6 : OBJ_LIMITED4, NFT_REG_1, -1));
	return r;
}

static struct nftnl_rule *rule_drop_limited(const struct nft *n)
{
	struct nftnl_rule *r = nft_new_rule(n, OBJ_OVER_LIMIT);

	nft_add_expr(r, nftnl_expr_alloc("counter"));
	nft_add_expr(r, expr_verdict(n, NF_DROP, OBJ_OVER_LIMIT));
	return r;
}

/* ct status dnat ip daddr . meta l4proto . th dport @allow4 accept */
static struct nftnl_rule *rule_allow4(const struct nft *n)
{
	struct nftnl_rule *r = nft_new_rule(n, OBJ_FORWARD);

	rule_match_mapped4(n, r);
	nft_add_expr(r, expr_accept());
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

		nft_add_expr(r, expr_meta(NFT_META_MARK, NFT_REG_1));
		nft_add_expr(r, expr_bitwise(NFT_REG_1, keep, mark));
		set = nftnl_expr_alloc("meta");
		nftnl_expr_set_u32(set, NFTNL_EXPR_META_KEY, NFT_META_MARK);
		nftnl_expr_set_u32(set, NFTNL_EXPR_META_SREG, NFT_REG_1);
		nft_add_expr(r, set);
	}
	nft_add_expr(r, expr_accept());
}

/* iifname $ext ip6 daddr . meta l4proto . th dport @pinhole6 (mark and) accept */
static struct nftnl_rule *rule_pinhole6(const struct nft *n)
{
	struct nftnl_rule *r = new_rule_from_wan(n, OBJ_FORWARD, NFPROTO_IPV6);

	rule_load_endpoint6(r);
	nft_add_expr(r, expr_lookup(n, OBJ_PINHOLE6, NFT_REG_1, -1));
	rule_mark_and_accept(r, n->pinhole_mark);
	return r;
}

/* iifname $ext
 *     ip6 saddr . th sport . ip6 daddr . meta l4proto . th dport @pinhole6_filtered
 *     (mark and) accept */
static struct nftnl_rule *rule_pinhole6_filtered(const struct nft *n)
{
	struct nftnl_rule *r = new_rule_from_wan(n, OBJ_FORWARD, NFPROTO_IPV6);

	nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG32_00));
	rule_load_source_port(r, NFT_REG32_04);
	nft_add_expr(r, expr_payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG32_05));
	rule_load_proto_port(r, NFT_REG32_09);
	nft_add_expr(r, expr_lookup(n, OBJ_PINHOLE6_FILTERED, NFT_REG_1, -1));
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
struct nftnl_chain *nft_new_regular_chain(const struct nft *n, enum obj chain)
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
	struct nftnl_chain *c = nft_new_regular_chain(n, chain);

	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	return c;
}

void nft_put_table(struct nft *n, struct batch *bt, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, n->table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_nlmsg_build_payload(nft_txn_msg(n, bt, type, flags), t);
	nftnl_table_free(t);
	nft_txn_next(bt);
}

static void put_chain(struct nft *n, struct batch *bt, struct nftnl_chain *c)
{
	nftnl_chain_nlmsg_build_payload(nft_txn_msg(n, bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
	nftnl_chain_free(c);
	nft_txn_next(bt);
}

static void put_set(struct nft *n, struct batch *bt, struct nftnl_set *s)
{
	nftnl_set_nlmsg_build_payload(nft_txn_msg(n, bt, NFT_MSG_NEWSET, NLM_F_CREATE), s);
	nftnl_set_free(s);
	nft_txn_next(bt);
}

static void put_rule(struct nft *n, struct batch *bt, struct nftnl_rule *r)
{
	nftnl_rule_nlmsg_build_payload(
		nft_txn_msg(n, bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
	nftnl_rule_free(r);
	nft_txn_next(bt);
}

static void put_our_rule(struct nft *n, struct batch *bt, enum obj chain, struct nftnl_rule *r)
{
	n->rules_made[chain]++;
	put_rule(n, bt, r);
}

/* The one element of hairpin4: the external address. */
void nft_put_hairpin_address(struct nft *n, struct batch *bt, uint16_t type, struct in_addr a)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, n->name[OBJ_HAIRPIN4]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, &a.s_addr, sizeof(a.s_addr));
	nftnl_set_elem_add(s, el);
	nftnl_set_elems_nlmsg_build_payload(
		nft_txn_msg(n, bt, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0), s);
	nftnl_set_free(s);
	nft_txn_next(bt);
}

/* ct state invalid return: the firewall's own rules decide what to do with
 * packets conntrack could not place; an accept of ours must not let them
 * past it. */
static struct nftnl_rule *rule_skip_invalid(const struct nft *n)
{
	struct nftnl_rule *r = nft_new_rule(n, OBJ_FORWARD);
	struct nftnl_expr *ct = nftnl_expr_alloc("ct"), *ret = nftnl_expr_alloc("immediate");
	uint32_t invalid_bit = NF_CT_STATE_INVALID_BIT, zero = 0;

	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nft_add_expr(r, ct);
	nft_add_expr(r, expr_bitwise(NFT_REG_1, invalid_bit, zero));
	nft_add_expr(r, expr_cmp(NFT_REG_1, NFT_CMP_NEQ, &zero, 4));
	nftnl_expr_set_u32(ret, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(ret, NFTNL_EXPR_IMM_VERDICT, NFT_RETURN);
	nft_add_expr(r, ret);
	return r;
}

bool nft_integrated(const struct nft *n)
{
	return n->forward_chain[0] != '\0';
}

/* A meter: a bucket per key, made by the packet path, forgotten a while
 * after its last use; bounded (a full meter limits no new key: the
 * per-endpoint meter still holds then). */
static struct nftnl_set *meter_set(struct nftnl_set *s)
{
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, METER_TIMEOUT_MS);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, METER_SIZE);
	return s;
}

static void put_limit_sets(struct nft *n, struct batch *bt)
{
	const uint32_t endpoint4 = CONCAT3(TYPE_IPADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE),
		       endpoint6 = CONCAT3(TYPE_IP6ADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE);

	for (int v6 = 0; v6 <= 1; v6++) {
		uint32_t type = v6 ? endpoint6 : endpoint4, len = v6 ? PIN6_KEY_LEN : ALLOW4_KEY_LEN;
		struct nftnl_set *vmap = new_set(n, v6 ? OBJ_LIMIT6 : OBJ_LIMIT4, type, len);

		nftnl_set_set_u32(vmap, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_MAP);
		nftnl_set_set_u32(vmap, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		put_set(n, bt, vmap);
		put_set(n, bt, counted(new_set(n, v6 ? OBJ_LIMITED6 : OBJ_LIMITED4, type, len)));
	}
	put_set(n, bt, meter_set(new_set(n, OBJ_METER4_REMOTE,
					 CONCAT4(TYPE_IPADDR, TYPE_IPADDR, TYPE_INET_PROTOCOL,
						 TYPE_INET_SERVICE),
					 METER4_REMOTE_KEY_LEN)));
	put_set(n, bt, meter_set(new_set(n, OBJ_METER4_TOTAL, endpoint4, ALLOW4_KEY_LEN)));
	put_set(n, bt, meter_set(new_set(n, OBJ_METER6_REMOTE,
					 CONCAT4(TYPE_IP6ADDR, TYPE_IP6ADDR, TYPE_INET_PROTOCOL,
						 TYPE_INET_SERVICE),
					 METER6_REMOTE_KEY_LEN)));
	put_set(n, bt, meter_set(new_set(n, OBJ_METER6_TOTAL, endpoint6, PIN6_KEY_LEN)));
}

/* A limit class's chain: its meters, for both families. A burst of 0 is a
 * second's worth of the rate. */
static void put_limit_rules(struct nft *n, struct batch *bt, enum obj chain,
			    const struct inbound_limit *l)
{
	for (int v6 = 0; v6 <= 1; v6++) {
		if (l->per_remote)
			put_our_rule(n, bt, chain,
				     rule_meter(n, chain, v6, true, l->per_remote,
						l->burst ? l->burst : l->per_remote));
		if (l->total)
			put_our_rule(n, bt, chain,
				     rule_meter(n, chain, v6, false, l->total,
						l->burst ? l->burst : l->total));
	}
}

/* Our sets, chains and rules (docs/nftables.md). */
void nft_put_our_objects(struct nft *n, struct batch *bt)
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
		nft_put_hairpin_address(n, bt, NFT_MSG_NEWSETELEM, n->hairpin_address);
	peer4 = new_set(n, OBJ_PEER4,
			CONCAT5(TYPE_IPADDR, TYPE_INET_SERVICE, TYPE_IPADDR, TYPE_INET_PROTOCOL,
				TYPE_INET_SERVICE),
			PEER4_KEY_LEN);
	nftnl_set_set_u32(peer4, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_MAP);
	nftnl_set_set_u32(peer4, NFTNL_SET_DATA_TYPE, TYPE_INET_SERVICE);
	nftnl_set_set_u32(peer4, NFTNL_SET_DATA_LEN, PEER4_DATA_LEN);
	put_set(n, bt, counted(peer4));
	put_limit_sets(n, bt);

	put_chain(n, bt, new_chain(n, OBJ_PREROUTING, "nat", NF_INET_PRE_ROUTING, PRIORITY_DSTNAT));
	put_chain(n, bt, new_chain(n, OBJ_POSTROUTING, "nat", NF_INET_POST_ROUTING,
				   PRIORITY_SRCNAT));
	/* In a firewall's table, its forward chain jumps to ours, so that our
	 * accept is the firewall's verdict. */
	put_chain(n, bt, nft_integrated(n) ? nft_new_regular_chain(n, OBJ_FORWARD) :
					 new_chain(n, OBJ_FORWARD, "filter", NF_INET_FORWARD,
						   PRIORITY_FORWARD));
	put_chain(n, bt, nft_new_regular_chain(n, OBJ_OVER_LIMIT));
	n->nlimits_made = n->nlimits;
	for (size_t i = 0; i < n->nlimits_made; i++)
		put_chain(n, bt, nft_new_regular_chain(n, (enum obj)(OBJ_LIMIT_CHAIN + i)));
	memset(n->rules_made, 0, sizeof(n->rules_made));
	put_our_rule(n, bt, OBJ_PREROUTING, rule_dnat(n));
	put_our_rule(n, bt, OBJ_PREROUTING, rule_dnat_filtered(n));
	put_our_rule(n, bt, OBJ_PREROUTING, rule_hairpin_dnat(n));
	put_our_rule(n, bt, OBJ_POSTROUTING, rule_hairpin_masquerade(n));
	put_our_rule(n, bt, OBJ_POSTROUTING, rule_peer_masquerade(n));
	put_our_rule(n, bt, OBJ_FORWARD, rule_skip_invalid(n));
	/* First what is over its limit goes; then, before the accepts, which
	 * end the chain, when each mapping was last used. */
	put_our_rule(n, bt, OBJ_FORWARD, rule_limit(n, false));
	put_our_rule(n, bt, OBJ_FORWARD, rule_limit(n, true));
	put_our_rule(n, bt, OBJ_FORWARD, rule_seen4(n));
	put_our_rule(n, bt, OBJ_FORWARD, rule_seen6(n, false));
	put_our_rule(n, bt, OBJ_FORWARD, rule_seen6(n, true));
	put_our_rule(n, bt, OBJ_FORWARD, rule_allow4(n));
	put_our_rule(n, bt, OBJ_FORWARD, rule_pinhole6(n));
	put_our_rule(n, bt, OBJ_FORWARD, rule_pinhole6_filtered(n));
	put_our_rule(n, bt, OBJ_OVER_LIMIT, rule_count_limited(n, false));
	put_our_rule(n, bt, OBJ_OVER_LIMIT, rule_count_limited(n, true));
	put_our_rule(n, bt, OBJ_OVER_LIMIT, rule_drop_limited(n));
	for (size_t i = 0; i < n->nlimits_made; i++)
		put_limit_rules(n, bt, (enum obj)(OBJ_LIMIT_CHAIN + i), &n->limits[i]);
}

bool nft_obj_made(const struct nft *n, enum obj o)
{
	return o < OBJ_LIMIT_CHAIN || (size_t)(o - OBJ_LIMIT_CHAIN) < n->nlimits_made;
}

void nft_set_limits(struct nft *n, const struct inbound_limit *limits, size_t nlimits)
{
	n->nlimits = nlimits < POLICY_MAX_LIMITS ? nlimits : POLICY_MAX_LIMITS;
	memcpy(n->limits, limits, n->nlimits * sizeof(*limits));
}

/* over_limit's last rule's counter: what every limit turned away. */
static int add_rule_counter(const struct nlmsghdr *answer, void *arg)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	uint64_t *dropped = arg;
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;

	if (!r)
		return -1;
	if (nftnl_rule_nlmsg_parse(answer, r) == 0 && (it = nftnl_expr_iter_create(r))) {
		while ((e = nftnl_expr_iter_next(it)))
			if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0)
				*dropped += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		nftnl_expr_iter_destroy(it);
	}
	nftnl_rule_free(r);
	return 0;
}

int nft_limited_total(struct nft *n, uint64_t *dropped)
{
	static char buf[DUMP_BUFFER_SIZE];
	struct nftnl_rule *r = nft_new_rule(n, OBJ_OVER_LIMIT);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
						     NLM_F_DUMP, n->seq++);

	*dropped = 0;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return nft_ask(n, nlh, buf, sizeof(buf), add_rule_counter, dropped);
}
