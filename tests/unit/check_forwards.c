/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading the operator's forwarding rules (priv/forwards.c), on rules built
 * the way nft(8) compiles them; the kernel's answers are covered end to
 * end (security.sh). */
#include "unit.h"

#include <check.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "priv/forwards.h"

static struct nftnl_rule *r;
static struct forward_rule got;

static void setup(void)
{
	r = nftnl_rule_alloc();
	ck_assert_ptr_nonnull(r);
}

static void teardown(void)
{
	nftnl_rule_free(r);
}

static void add(struct nftnl_expr *e)
{
	ck_assert_ptr_nonnull(e);
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *meta(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	return e;
}

static struct nftnl_expr *cmp(uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return e;
}

static void match_proto(uint8_t proto)
{
	add(meta(NFT_META_L4PROTO));
	add(cmp(NFT_CMP_EQ, &proto, 1));
}

static void load_dport(void)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	add(e);
}

static void match_dport(uint32_t op, uint16_t port)
{
	uint16_t be = htons(port);

	load_dport();
	add(cmp(op, &be, 2));
}

static void match_iifname(const char *name, uint32_t len)
{
	char data[16] = { 0 };

	memcpy(data, name, strlen(name));
	add(meta(NFT_META_IIFNAME));
	add(cmp(NFT_CMP_EQ, data, len));
}

static void nat(uint32_t type)
{
	struct nftnl_expr *e = nftnl_expr_alloc("nat");

	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	add(e);
}

static void read_rule(void)
{
	forwards_read_rule(r, "wan0", 7, &got);
}

/* fw4's port forward: meta nfproto ipv4 tcp dport 8080 dnat ip to ... */
START_TEST(test_port_forward)
{
	static struct forwarded_ports f;

	match_proto(IPPROTO_TCP);
	match_dport(NFT_CMP_EQ, 8080);
	nat(NFT_NAT_DNAT);
	read_rule();
	ck_assert(got.forwards);
	ck_assert(!got.not_from_wan);
	ck_assert(got.tcp);
	ck_assert(!got.udp);
	ck_assert_uint_eq(got.nranges, 1);
	ck_assert_uint_eq(got.ranges[0].lo, 8080);
	ck_assert_uint_eq(got.ranges[0].hi, 8080);
	memset(&f, 0, sizeof(f));
	forwards_mark(&f, &got);
	ck_assert(forwarded_has(&f, IPPROTO_TCP, 8080));
	ck_assert(!forwarded_has(&f, IPPROTO_UDP, 8080));
	ck_assert(!forwarded_has(&f, IPPROTO_TCP, 8081));
	ck_assert_uint_eq(f.rules, 1);
}
END_TEST

/* iifname "wan0" th dport 2000-2010 redirect: both protocols, a range */
START_TEST(test_range_from_wan)
{
	match_iifname("wan0", 16);
	match_dport(NFT_CMP_GTE, 2000);
	match_dport(NFT_CMP_LTE, 2010);
	add(nftnl_expr_alloc("redir"));
	read_rule();
	ck_assert(got.forwards && !got.not_from_wan && got.tcp && got.udp);
	ck_assert_uint_eq(got.nranges, 1);
	ck_assert_uint_eq(got.ranges[0].lo, 2000);
	ck_assert_uint_eq(got.ranges[0].hi, 2010);
}
END_TEST

/* The LAN's redirects (a DNS hijack, a transparent proxy) are not the
 * WAN's forwards; a prefix match ("wa*") that takes wan0 is. */
START_TEST(test_input_interface)
{
	match_iifname("br-lan", 16);
	match_proto(IPPROTO_UDP);
	match_dport(NFT_CMP_EQ, 53);
	add(nftnl_expr_alloc("redir"));
	read_rule();
	ck_assert(got.forwards && got.not_from_wan);
	teardown();
	setup();
	match_iifname("wa", 2);
	match_dport(NFT_CMP_EQ, 443);
	nat(NFT_NAT_DNAT);
	read_rule();
	ck_assert(got.forwards && !got.not_from_wan);
	teardown();
	setup();
	match_iifname("wan", 16);  /* another interface, not a prefix */
	match_dport(NFT_CMP_EQ, 443);
	nat(NFT_NAT_DNAT);
	read_rule();
	ck_assert(got.not_from_wan);
	teardown();
	setup();
	uint32_t other = 3;
	add(meta(NFT_META_IIF));
	add(cmp(NFT_CMP_EQ, &other, 4));
	match_dport(NFT_CMP_EQ, 443);
	nat(NFT_NAT_DNAT);
	read_rule();
	ck_assert(got.not_from_wan);
}
END_TEST

/* tcp dport @forwarded dnat ...; meta l4proto { tcp, udp } */
START_TEST(test_sets)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	add(meta(NFT_META_L4PROTO));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__set0");
	add(e);
	load_dport();
	e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "game_ports");
	add(e);
	nat(NFT_NAT_DNAT);
	read_rule();
	ck_assert(got.forwards && got.tcp && got.udp);
	ck_assert_str_eq(got.set, "game_ports");
	ck_assert_uint_eq(got.nranges, 0);
}
END_TEST

/* Not counted: masquerade and snat, and a "DMZ host" that takes every
 * port (no port to keep from clients). */
START_TEST(test_not_forwards)
{
	static struct forwarded_ports f;

	match_dport(NFT_CMP_EQ, 8080);
	nat(NFT_NAT_SNAT);
	add(nftnl_expr_alloc("masq"));
	read_rule();
	ck_assert(!got.forwards);
	teardown();
	setup();
	match_iifname("wan0", 16);
	nat(NFT_NAT_DNAT);
	read_rule();
	ck_assert(got.forwards);
	memset(&f, 0, sizeof(f));
	forwards_mark(&f, &got);
	ck_assert_uint_eq(f.rules, 0);
	ck_assert(!forwarded_has(&f, IPPROTO_TCP, 8080));
	/* a dport compared after a bitwise is no longer the port */
	teardown();
	setup();
	load_dport();
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	uint16_t mask = 0xff00, x = 0;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 2);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 2);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &x, 2);
	add(e);
	add(cmp(NFT_CMP_EQ, &x, 2));
	nat(NFT_NAT_DNAT);
	read_rule();
	ck_assert_uint_eq(got.nranges, 0);
}
END_TEST

/* A set's elements: single ports, or intervals as the kernel dumps them
 * (an end's key one past the interval, the gap before the first one an
 * end at 0), in any order. */
START_TEST(test_elements)
{
	static struct forwarded_ports f;
	uint16_t singles[] = { 27015, 3074 };
	bool no_ends[] = { false, false };
	uint16_t intervals[] = { 6000, 5001, 0, 5000, 60000 };
	bool ends[] = { true, true, true, false, false };

	memset(&f, 0, sizeof(f));
	forwards_mark_elements(&f, false, true, singles, no_ends, 2);
	ck_assert(forwarded_has(&f, IPPROTO_UDP, 27015) && forwarded_has(&f, IPPROTO_UDP, 3074));
	ck_assert(!forwarded_has(&f, IPPROTO_TCP, 27015) && !forwarded_has(&f, IPPROTO_UDP, 27016));
	memset(&f, 0, sizeof(f));
	/* { 5000, 60000-65535 } and a stray end: 5000 alone, then the open tail */
	forwards_mark_elements(&f, true, false, intervals, ends, 5);
	ck_assert(forwarded_has(&f, IPPROTO_TCP, 5000));
	ck_assert(!forwarded_has(&f, IPPROTO_TCP, 5001));
	ck_assert(!forwarded_has(&f, IPPROTO_TCP, 5999));
	ck_assert(!forwarded_has(&f, IPPROTO_TCP, 59999));
	ck_assert(forwarded_has(&f, IPPROTO_TCP, 60000) && forwarded_has(&f, IPPROTO_TCP, 65535));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("forwards");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_port_forward);
	tcase_add_test(tc, test_range_from_wan);
	tcase_add_test(tc, test_input_interface);
	tcase_add_test(tc, test_sets);
	tcase_add_test(tc, test_not_forwards);
	tcase_add_test(tc, test_elements);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
