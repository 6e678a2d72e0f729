/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The answerers' decision tables (daemon/pmp/natpmp_answer.c,
 * daemon/pmp/pcp_answer.c): request bytes in, response bytes out, through
 * the real mapper on a fake kernel. The codecs have their own suites; this
 * one is about which result code each situation gets (RFC 6886 §3.5,
 * RFC 6887 §7.4, §11, §12). */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "config/config.h"
#include "daemon/mapper.h"
#include "daemon/pmp/natpmp.h"
#include "daemon/pmp/natpmp_answer.h"
#include "daemon/pmp/pcp.h"
#include "daemon/pmp/pcp_answer.h"
#include "fake_nft.h"
#include "lib/wire.h"
#include "unit.h"

static struct config cfg;
static struct event_base *base;
static struct mapper *m;
static struct addr_prefix lan;
static uint8_t resp[1100];

static void start(bool with_external_address)
{
	char err[CONFIG_ERROR_MAX];
	struct in_addr ext;

	memset(&fake_nft, 0, sizeof(fake_nft));
	ck_assert_int_eq(config_load_string(
		"external_interface = \"wan0\"; lan_interfaces = [ \"lan0\" ];\n"
		"lifetime = { min = 60; max = 3600; };\n"
		"policy = ( { action = \"deny\"; external_ports = \"1-1023\"; },\n"
		"  { action = \"allow\"; clients = \"192.168.1.0/24\"; internal_ports = \"1024-65535\";"
		"    third_party = true; } );\n",
		"answer.conf", &cfg, err, sizeof(err)), 0);
	base = event_base_new();
	m = mapper_new(base, &cfg, nft_open("t", NULL, "wan0", 0, NULL, 0, NULL, 0), 1);
	ck_assert_ptr_nonnull(m);
	inet_pton(AF_INET, "203.0.113.1", &ext);
	if (with_external_address)
		mapper_set_external_address(m, &ext);
	ck_assert(addr_parse_prefix("192.168.1.0/24", &lan));
}

static void setup(void)
{
	start(true);
}

static void teardown(void)
{
	mapper_free(m);
	event_base_free(base);
}

/* --- NAT-PMP --- */

static size_t natpmp(uint8_t version, uint8_t opcode, uint16_t iport, uint16_t eport,
		     uint32_t lifetime)
{
	uint8_t req[12] = { version, opcode };
	struct in6_addr client = unit_v4("192.168.1.10");

	wire_put16(req + 4, iport);
	wire_put16(req + 6, eport);
	wire_put32(req + 8, lifetime);
	return natpmp_answer(m, &client, req, opcode == 0 ? 2 : sizeof(req), resp, sizeof(resp));
}

static unsigned natpmp_result(void)
{
	return wire_get16(resp + 2);
}

START_TEST(test_natpmp_table)
{
	/* The external address. */
	ck_assert_uint_eq(natpmp(0, 0, 0, 0, 0), 12);
	ck_assert_uint_eq(resp[1], 128);
	ck_assert_uint_eq(natpmp_result(), NATPMP_SUCCESS);
	ck_assert_mem_eq(resp + 8, "\xcb\x00\x71\x01", 4);
	/* A mapping: granted, the suggestion kept, the lifetime clamped. */
	ck_assert_uint_eq(natpmp(0, 2, 8080, 8080, 7200), 16);
	ck_assert_uint_eq(resp[1], 130);
	ck_assert_uint_eq(natpmp_result(), NATPMP_SUCCESS);
	ck_assert_uint_eq(wire_get16(resp + 8), 8080);
	ck_assert_uint_eq(wire_get16(resp + 10), 8080);
	ck_assert_uint_eq(wire_get32(resp + 12), 3600);
	/* Denied by the policy: NOT_AUTHORIZED, no port. */
	natpmp(0, 1, 22, 22, 600);
	ck_assert_uint_eq(natpmp_result(), NATPMP_NOT_AUTHORIZED);
	ck_assert_uint_eq(wire_get16(resp + 10), 0);
	/* A lifetime for internal port 0 means nothing. */
	natpmp(0, 2, 0, 0, 600);
	ck_assert_uint_eq(natpmp_result(), NATPMP_NOT_AUTHORIZED);
	/* Lifetime 0, port 0: every TCP mapping of the client goes. */
	natpmp(0, 2, 8081, 8081, 600);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);
	natpmp(0, 2, 0, 0, 0);
	ck_assert_uint_eq(natpmp_result(), NATPMP_SUCCESS);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 0);
	/* Deleting what is not there succeeds, port 0, lifetime 0. */
	natpmp(0, 1, 9000, 0, 0);
	ck_assert_uint_eq(natpmp_result(), NATPMP_SUCCESS);
	ck_assert_uint_eq(wire_get16(resp + 10), 0);
	ck_assert_uint_eq(wire_get32(resp + 12), 0);
	/* Another version, another opcode. */
	natpmp(1, 0, 0, 0, 0);
	ck_assert_uint_eq(natpmp_result(), NATPMP_UNSUPP_VERSION);
	natpmp(0, 3, 0, 0, 0);
	ck_assert_uint_eq(natpmp_result(), NATPMP_UNSUPP_OPCODE);
	ck_assert_uint_eq(resp[1], 131);
	/* A response is never answered. */
	ck_assert_uint_eq(natpmp(0, 129, 0, 0, 0), 0);
}
END_TEST

START_TEST(test_natpmp_without_external_address)
{
	teardown();
	start(false);
	natpmp(0, 0, 0, 0, 0);
	ck_assert_uint_eq(natpmp_result(), NATPMP_NETWORK_FAILURE);
	natpmp(0, 2, 8080, 8080, 600);
	ck_assert_uint_eq(natpmp_result(), NATPMP_NETWORK_FAILURE);
	ck_assert_uint_eq(fake_nft.adds, 0);
}
END_TEST

/* --- PCP --- */

struct pcp_msg {
	uint8_t b[1100];
	size_t len;
};

static const uint8_t nonce[PCP_NONCE_LEN] = { 7, 7, 7 };

/* A MAP or PEER from client (as the header says), body filled in. */
static struct pcp_msg pcp(uint8_t opcode, uint32_t lifetime, const char *client,
			  uint8_t proto, uint16_t iport, uint16_t eport)
{
	struct pcp_msg q = { .b = { 2, opcode } };
	struct in6_addr a = unit_v4(client);

	wire_put32(q.b + 4, lifetime);
	memcpy(q.b + 8, &a, 16);
	q.len = PCP_HEADER_LEN;
	if (opcode == PCP_OP_MAP || opcode == PCP_OP_PEER) {
		struct in6_addr any = unit_v4("0.0.0.0");

		memcpy(q.b + 24, nonce, PCP_NONCE_LEN);
		q.b[36] = proto;
		wire_put16(q.b + 40, iport);
		wire_put16(q.b + 42, eport);
		memcpy(q.b + 44, &any, 16);
		q.len = PCP_HEADER_LEN + (opcode == PCP_OP_MAP ? PCP_MAP_LEN : PCP_PEER_LEN);
	}
	return q;
}

static void pcp_peer_remote(struct pcp_msg *q, const char *addr, uint16_t port)
{
	struct in6_addr a = unit_v4(addr);

	wire_put16(q->b + 60, port);
	memcpy(q->b + 64, &a, 16);
}

static void pcp_option(struct pcp_msg *q, uint8_t code, const void *data, uint16_t len)
{
	q->b[q->len] = code;
	wire_put16(q->b + q->len + 2, len);
	if (len)
		memcpy(q->b + q->len + 4, data, len);
	q->len += 4 + ((len + 3u) & ~3u);
}

static size_t ask(const struct pcp_msg *q, const char *source)
{
	struct in6_addr src = unit_v4(source);

	return pcp_answer(m, &src, &lan, q->b, q->len, resp, sizeof(resp));
}

static unsigned pcp_result(void)
{
	return resp[3];
}

static uint32_t pcp_lifetime(void)
{
	return wire_get32(resp + 4);
}

START_TEST(test_pcp_map_table)
{
	struct pcp_msg q = pcp(PCP_OP_MAP, 600, "192.168.1.10", IPPROTO_TCP, 8080, 8080);
	struct in6_addr ours = unit_v4("203.0.113.1"), elsewhere = unit_v4("198.51.100.1");

	ck_assert_uint_eq(ask(&q, "192.168.1.10"), PCP_HEADER_LEN + PCP_MAP_LEN);
	ck_assert_uint_eq(resp[1], 0x80 | PCP_OP_MAP);
	ck_assert_uint_eq(pcp_result(), PCP_SUCCESS);
	ck_assert_uint_eq(pcp_lifetime(), 600);
	ck_assert_mem_eq(resp + 24, nonce, PCP_NONCE_LEN);
	ck_assert_uint_eq(wire_get16(resp + 42), 8080);
	ck_assert_mem_eq(resp + 44, &ours, 16);
	/* The header's client address is not the source: a NAT in between. */
	ask(&q, "192.168.1.11");
	ck_assert_uint_eq(pcp_result(), PCP_ADDRESS_MISMATCH);
	/* Denied: NOT_AUTHORIZED, for the long error lifetime. */
	q = pcp(PCP_OP_MAP, 600, "192.168.1.10", IPPROTO_TCP, 22, 22);
	ask(&q, "192.168.1.10");
	ck_assert_uint_eq(pcp_result(), PCP_NOT_AUTHORIZED);
	ck_assert_uint_eq(pcp_lifetime(), pcp_error_lifetime(PCP_NOT_AUTHORIZED));
	/* Another protocol than TCP and UDP. */
	q = pcp(PCP_OP_MAP, 600, "192.168.1.10", IPPROTO_SCTP, 9000, 9000);
	ask(&q, "192.168.1.10");
	ck_assert_uint_eq(pcp_result(), PCP_UNSUPP_PROTOCOL);
	/* PREFER_FAILURE for an external address that is not ours. */
	q = pcp(PCP_OP_MAP, 600, "192.168.1.10", IPPROTO_UDP, 9000, 9000);
	memcpy(q.b + 44, &elsewhere, 16);
	pcp_option(&q, PCP_OPTION_PREFER_FAILURE, NULL, 0);
	ask(&q, "192.168.1.10");
	ck_assert_uint_eq(pcp_result(), PCP_CANNOT_PROVIDE_EXTERNAL);
	ck_assert_uint_eq(pcp_lifetime(), pcp_error_lifetime(PCP_CANNOT_PROVIDE_EXTERNAL));
	/* A third party on the LAN, and one off it. */
	struct in6_addr other = unit_v4("192.168.1.20"), off = unit_v4("10.0.0.5");
	q = pcp(PCP_OP_MAP, 600, "192.168.1.10", IPPROTO_UDP, 9001, 9001);
	pcp_option(&q, PCP_OPTION_THIRD_PARTY, &other, 16);
	ask(&q, "192.168.1.10");
	ck_assert_uint_eq(pcp_result(), PCP_SUCCESS);
	ck_assert_ptr_nonnull(lease_by_internal(mapper_leases(m), &other, IPPROTO_UDP, 9001));
	q = pcp(PCP_OP_MAP, 600, "192.168.1.10", IPPROTO_UDP, 9002, 9002);
	pcp_option(&q, PCP_OPTION_THIRD_PARTY, &off, 16);
	ask(&q, "192.168.1.10");
	ck_assert_uint_eq(pcp_result(), PCP_NOT_AUTHORIZED);
	/* Deleting with another nonce: the mapping is not the asker's. */
	q = pcp(PCP_OP_MAP, 0, "192.168.1.10", IPPROTO_TCP, 8080, 0);
	q.b[24] = 9;
	ask(&q, "192.168.1.10");
	ck_assert_uint_eq(pcp_result(), PCP_NOT_AUTHORIZED);
	q.b[24] = 7;
	ask(&q, "192.168.1.10");
	ck_assert_uint_eq(pcp_result(), PCP_SUCCESS);
	ck_assert_uint_eq(pcp_lifetime(), 0);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080));
}
END_TEST

START_TEST(test_pcp_other_opcodes)
{
	struct pcp_msg q = pcp(PCP_OP_ANNOUNCE, 0, "192.168.1.10", 0, 0, 0);

	ck_assert_uint_eq(ask(&q, "192.168.1.10"), PCP_HEADER_LEN);
	ck_assert_uint_eq(pcp_result(), PCP_SUCCESS);
	ck_assert_uint_eq(resp[1], 0x80 | PCP_OP_ANNOUNCE);
	q = pcp(3, 0, "192.168.1.10", 0, 0, 0);
	ask(&q, "192.168.1.10");
	ck_assert_uint_eq(pcp_result(), PCP_UNSUPP_OPCODE);
	/* PEER with no flow: a PEER mapping, on the suggested port. */
	q = pcp(PCP_OP_PEER, 600, "192.168.1.10", IPPROTO_UDP, 5060, 45060);
	pcp_peer_remote(&q, "198.51.100.7", 3478);
	ck_assert_uint_eq(ask(&q, "192.168.1.10"), PCP_HEADER_LEN + PCP_PEER_LEN);
	ck_assert_uint_eq(pcp_result(), PCP_SUCCESS);
	ck_assert_uint_eq(wire_get16(resp + 42), 45060);
	ck_assert(fake_nft.last_add.m.peer);
	/* Remote port 0 is malformed. */
	pcp_peer_remote(&q, "198.51.100.7", 0);
	ask(&q, "192.168.1.10");
	ck_assert_uint_eq(pcp_result(), PCP_MALFORMED_REQUEST);
	/* Lifetime 0 deletes it. */
	q = pcp(PCP_OP_PEER, 0, "192.168.1.10", IPPROTO_UDP, 5060, 0);
	pcp_peer_remote(&q, "198.51.100.7", 3478);
	ask(&q, "192.168.1.10");
	ck_assert_uint_eq(pcp_result(), PCP_SUCCESS);
	ck_assert_uint_eq(pcp_lifetime(), 0);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("answer");
	TCase *tc = tcase_create("natpmp");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_natpmp_table);
	tcase_add_test(tc, test_natpmp_without_external_address);
	suite_add_tcase(s, tc);
	tc = tcase_create("pcp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pcp_map_table);
	tcase_add_test(tc, test_pcp_other_opcodes);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
