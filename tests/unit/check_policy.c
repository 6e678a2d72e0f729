/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config/policy.h"
#include "unit.h"

static void add_rule(struct policy *p, bool allow, const char *clients, uint8_t proto,
		     uint16_t ilo, uint16_t ihi, uint16_t elo, uint16_t ehi)
{
	struct policy_rule *r = &p->rules[p->count++];

	memset(r, 0, sizeof(*r));
	r->allow = allow;
	ck_assert(addr_parse_prefix(clients, &r->clients));
	r->proto = proto;
	r->internal_ports = (struct port_range){ ilo, ihi };
	r->external_ports = (struct port_range){ elo, ehi };
	r->line = (unsigned)p->count;
}

static struct policy_decision check(const struct policy *p, const char *client, uint8_t proto,
				    uint16_t iport, uint16_t eport)
{
	struct policy_query q = { .client = unit_v4(client), .proto = proto, .internal_port = iport,
				  .external_port = eport };
	return policy_check(p, &q);
}

static struct policy pol;

static void setup(void)
{
	memset(&pol, 0, sizeof(pol));
}

START_TEST(test_empty_policy_denies)
{
	struct policy_decision d = check(&pol, "192.168.1.10", IPPROTO_TCP, 8080, 8080);
	struct port_range out[4];

	ck_assert(!d.allow);
	ck_assert_int_eq(d.rule, -1);
	struct policy_query q = { .proto = IPPROTO_TCP, .internal_port = 8080 };
	ck_assert_uint_eq(policy_allowed_external(&pol, &q, out, NULL, 4), 0);
}
END_TEST

START_TEST(test_first_match_wins)
{
	add_rule(&pol, false, "192.168.1.66", POLICY_PROTO_ANY, 1, 65535, 1, 65535);
	add_rule(&pol, true, "192.168.1.0/24", POLICY_PROTO_ANY, 1024, 65535, 1024, 65535);
	add_rule(&pol, false, "0.0.0.0/0", POLICY_PROTO_ANY, 1, 65535, 1, 65535);

	struct policy_decision d = check(&pol, "192.168.1.10", IPPROTO_TCP, 8080, 8080);
	ck_assert(d.allow);
	ck_assert_int_eq(d.rule, 1);

	d = check(&pol, "192.168.1.66", IPPROTO_TCP, 8080, 8080);
	ck_assert(!d.allow);
	ck_assert_int_eq(d.rule, 0);

	d = check(&pol, "192.168.1.10", IPPROTO_TCP, 80, 8080);
	ck_assert(!d.allow);
	ck_assert_int_eq(d.rule, 2);
}
END_TEST

START_TEST(test_every_field_must_match)
{
	add_rule(&pol, true, "192.168.1.0/24", IPPROTO_UDP, 5000, 5010, 6000, 6010);

	ck_assert(check(&pol, "192.168.1.9", IPPROTO_UDP, 5000, 6000).allow);
	ck_assert(check(&pol, "192.168.1.9", IPPROTO_UDP, 5010, 6010).allow);
	ck_assert(!check(&pol, "192.168.2.9", IPPROTO_UDP, 5000, 6000).allow);  /* client */
	ck_assert(!check(&pol, "192.168.1.9", IPPROTO_TCP, 5000, 6000).allow);  /* protocol */
	ck_assert(!check(&pol, "192.168.1.9", IPPROTO_UDP, 4999, 6000).allow);  /* internal */
	ck_assert(!check(&pol, "192.168.1.9", IPPROTO_UDP, 5011, 6000).allow);
	ck_assert(!check(&pol, "192.168.1.9", IPPROTO_UDP, 5000, 5999).allow);  /* external */
	ck_assert(!check(&pol, "192.168.1.9", IPPROTO_UDP, 5000, 6011).allow);
}
END_TEST

START_TEST(test_allowed_external_carves_denies)
{
	struct port_range out[POLICY_MAX_RANGES];
	struct policy_query q = { .client = unit_v4("192.168.1.10"), .proto = IPPROTO_TCP,
				  .internal_port = 22 };
	size_t n;

	add_rule(&pol, false, "0.0.0.0/0", POLICY_PROTO_ANY, 1, 65535, 1, 1023);
	add_rule(&pol, false, "0.0.0.0/0", IPPROTO_TCP, 1, 65535, 8000, 8999);
	add_rule(&pol, true, "192.168.1.0/24", POLICY_PROTO_ANY, 1, 65535, 1, 65535);

	n = policy_allowed_external(&pol, &q, out, NULL, POLICY_MAX_RANGES);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(out[0].lo, 1024);
	ck_assert_uint_eq(out[0].hi, 7999);
	ck_assert_uint_eq(out[1].lo, 9000);
	ck_assert_uint_eq(out[1].hi, 65535);

	q.proto = IPPROTO_UDP;
	n = policy_allowed_external(&pol, &q, out, NULL, POLICY_MAX_RANGES);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(out[0].lo, 1024);
	ck_assert_uint_eq(out[0].hi, 65535);

	q.client = unit_v4("10.0.0.1");
	ck_assert_uint_eq(policy_allowed_external(&pol, &q, out, NULL, 8), 0);
}
END_TEST

/* The ranges must be exactly the ports policy_check allows, for every port,
 * over many random policies: the allocator relies on it. */
START_TEST(test_allowed_external_agrees_with_check)
{
	static const char *const clients[] = { "192.168.1.0/24", "192.168.1.10", "10.0.0.0/8",
						"0.0.0.0/0" };
	static const uint8_t protos[] = { POLICY_PROTO_ANY, IPPROTO_TCP, IPPROTO_UDP };
	static unsigned char allowed[65536];
	static int rule_of[65536];
	struct port_range out[POLICY_MAX_RANGES];
	int rules[POLICY_MAX_RANGES];
	uint32_t x = 99;

	for (int round = 0; round < 60; round++) {
		memset(&pol, 0, sizeof(pol));
		int nrules = 1 + round % 12;
		for (int i = 0; i < nrules; i++) {
			x = x * 1103515245u + 12345u;
			uint16_t elo = (uint16_t)(1 + (x >> 4) % 65535);
			uint16_t ehi = (uint16_t)(elo + (x >> 12) % 20000);
			if (ehi < elo)
				ehi = 65535;
			add_rule(&pol, (x >> 30) & 1, clients[(x >> 8) % 4], protos[(x >> 2) % 3],
				 (x & 1) ? 1 : 1024, 65535, elo, ehi);
		}
		for (int c = 0; c < 2; c++) {
			const char *client = c ? "192.168.1.10" : "10.1.2.3";
			struct policy_query q = { .client = unit_v4(client), .proto = IPPROTO_TCP,
						  .internal_port = 2000 };
			size_t n = policy_allowed_external(&pol, &q, out, rules, POLICY_MAX_RANGES);

			unsigned overlaps = 0, disagreements = 0, first_bad = 0;

			/* Plain comparisons in the loops: a Check assertion per port
			 * would cost a message to the parent process each. */
			memset(allowed, 0, sizeof(allowed));
			for (size_t i = 0; i < n; i++) {
				ck_assert_uint_le(out[i].lo, out[i].hi);
				for (unsigned p = out[i].lo; p <= out[i].hi; p++) {
					overlaps += allowed[p];
					allowed[p] = 1;
					rule_of[p] = rules[i];
				}
			}
			for (unsigned p = 1; p <= 65535; p++) {
				struct policy_decision d = check(&pol, client, IPPROTO_TCP, 2000,
								 (uint16_t)p);

				/* The range's rule is the one that decides. */
				if (allowed[p] != d.allow || (d.allow && rule_of[p] != d.rule)) {
					if (!disagreements++)
						first_bad = p;
				}
			}
			ck_assert_msg(overlaps == 0, "round %d: ranges overlap", round);
			ck_assert_msg(disagreements == 0, "round %d: %u ports disagree, first %u",
				      round, disagreements, first_bad);
		}
	}
}
END_TEST

START_TEST(test_ipv6_client_not_matched_by_v4_rule)
{
	struct policy_query q = { .proto = IPPROTO_TCP, .internal_port = 2000,
				  .external_port = 2000 };

	add_rule(&pol, true, "0.0.0.0/0", POLICY_PROTO_ANY, 1, 65535, 1, 65535);
	inet_pton(AF_INET6, "2001:db8::1", &q.client);
	ck_assert(!policy_check(&pol, &q).allow);
}
END_TEST

START_TEST(test_may_allow_ipv6)
{
	ck_assert(!policy_may_allow_ipv6(&pol));
	add_rule(&pol, true, "0.0.0.0/0", POLICY_PROTO_ANY, 1, 65535, 1, 65535);
	add_rule(&pol, false, "2001:db8::/32", POLICY_PROTO_ANY, 1, 65535, 1, 65535);
	ck_assert(!policy_may_allow_ipv6(&pol));
	add_rule(&pol, true, "2001:db8:1::/64", POLICY_PROTO_ANY, 1, 65535, 1, 65535);
	ck_assert(policy_may_allow_ipv6(&pol));
	memset(&pol, 0, sizeof(pol));
	add_rule(&pol, true, "::/0", POLICY_PROTO_ANY, 1, 65535, 1, 65535);
	ck_assert(policy_may_allow_ipv6(&pol));
}
END_TEST

/* A rule naming a host by link-layer address follows it to any of its
 * addresses, IPv4 or IPv6, and matches nothing when the host is unknown. */
START_TEST(test_mac_rules)
{
	static const uint8_t nas[6] = { 2, 0x5e, 0x10, 0, 0, 0x0a };
	struct policy_rule *r = &pol.rules[pol.count++];

	memset(r, 0, sizeof(*r));
	r->allow = true;
	r->by_mac = true;
	memcpy(r->mac, nas, sizeof(nas));
	r->internal_ports = (struct port_range){ 1, 65535 };
	r->external_ports = (struct port_range){ 1, 65535 };
	add_rule(&pol, false, "::/0", POLICY_PROTO_ANY, 1, 65535, 1, 65535);
	ck_assert(policy_uses_mac(&pol));
	ck_assert(policy_may_allow_ipv6(&pol));

	struct policy_query q = { .client = unit_v4("192.168.1.10"), .proto = IPPROTO_TCP,
				  .internal_port = 22, .external_port = 2222, .has_mac = true };
	memcpy(q.mac, nas, sizeof(nas));
	ck_assert_int_eq(policy_check(&pol, &q).rule, 0);
	q.client = unit_v6("2001:db8::1234:5678");  /* a privacy address of the same host */
	ck_assert(policy_check(&pol, &q).allow);
	q.mac[5] = 0x0b;  /* another host */
	ck_assert_int_eq(policy_check(&pol, &q).rule, 1);
	q.mac[5] = 0x0a;
	q.has_mac = false;  /* the router does not know the host */
	ck_assert(!policy_check(&pol, &q).allow);

	struct port_range out[4];
	q.has_mac = true;
	ck_assert_uint_eq(policy_allowed_external(&pol, &q, out, NULL, 4), 1);
	q.has_mac = false;
	ck_assert_uint_eq(policy_allowed_external(&pol, &q, out, NULL, 4), 0);
	pol.rules[0].by_mac = false;
	ck_assert(!policy_uses_mac(&pol));
}
END_TEST

/* An "ask" rule allows only what the operator approved; the rest it
 * decides as pending, and no later rule gets a say. */
START_TEST(test_ask_rules)
{
	add_rule(&pol, false, "192.168.1.0/24", POLICY_PROTO_ANY, 8000, 8999, 8000, 8999);
	pol.rules[0].ask = true;
	add_rule(&pol, true, "192.168.1.0/24", POLICY_PROTO_ANY, 1024, 65535, 1024, 65535);
	ck_assert(policy_uses_ask(&pol));

	struct policy_query q = { .client = unit_v4("192.168.1.10"), .proto = IPPROTO_TCP,
				  .internal_port = 8080, .external_port = 8080 };
	struct policy_decision d = policy_check(&pol, &q);
	ck_assert(!d.allow && d.ask);
	ck_assert_int_eq(d.rule, 0);
	q.approved = true;
	d = policy_check(&pol, &q);
	ck_assert(d.allow && !d.ask);
	ck_assert_int_eq(d.rule, 0);

	/* The ports left to pick from: the ask rule's only once approved. */
	struct port_range out[4];
	q.approved = false;
	ck_assert_uint_eq(policy_allowed_external(&pol, &q, out, NULL, 4), 2);
	ck_assert_uint_eq(out[0].lo, 1024);
	ck_assert_uint_eq(out[0].hi, 7999);
	q.approved = true;
	ck_assert_uint_eq(policy_allowed_external(&pol, &q, out, NULL, 4), 3);
	ck_assert_uint_eq(out[0].lo, 8000);
	ck_assert_uint_eq(out[0].hi, 8999);
	/* Elsewhere the allow rule decides, approved or not. */
	q.internal_port = 9090;
	q.external_port = 9090;
	q.approved = false;
	d = policy_check(&pol, &q);
	ck_assert(d.allow && !d.ask);
	ck_assert_int_eq(d.rule, 1);
}
END_TEST

START_TEST(test_third_party_needs_permission)
{
	struct policy_query q = { .client = unit_v4("192.168.1.10"), .third_party = true,
				  .proto = IPPROTO_TCP, .internal_port = 8080, .external_port = 8080 };
	struct port_range out[4];

	add_rule(&pol, true, "192.168.1.0/24", POLICY_PROTO_ANY, 1, 65535, 1, 65535);
	ck_assert(!policy_check(&pol, &q).allow);
	ck_assert_uint_eq(policy_allowed_external(&pol, &q, out, NULL, 4), 0);

	pol.rules[0].third_party = true;
	ck_assert(policy_check(&pol, &q).allow);
	ck_assert_uint_eq(policy_allowed_external(&pol, &q, out, NULL, 4), 1);

	/* A deny rule in front still decides for third-party requests. */
	memset(&pol, 0, sizeof(pol));
	add_rule(&pol, false, "192.168.1.10", POLICY_PROTO_ANY, 1, 65535, 1, 65535);
	add_rule(&pol, true, "192.168.1.0/24", POLICY_PROTO_ANY, 1, 65535, 1, 65535);
	pol.rules[1].third_party = true;
	ck_assert_int_eq(policy_check(&pol, &q).rule, 0);
	q.third_party = false;
	ck_assert_int_eq(policy_check(&pol, &q).rule, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_empty_policy_denies);
	tcase_add_test(tc, test_first_match_wins);
	tcase_add_test(tc, test_every_field_must_match);
	tcase_add_test(tc, test_allowed_external_carves_denies);
	tcase_add_test(tc, test_allowed_external_agrees_with_check);
	tcase_add_test(tc, test_ipv6_client_not_matched_by_v4_rule);
	tcase_add_test(tc, test_third_party_needs_permission);
	tcase_add_test(tc, test_mac_rules);
	tcase_add_test(tc, test_ask_rules);
	tcase_add_test(tc, test_may_allow_ipv6);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
