/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The privileged helper's checks (priv/priv.c): what a compromised
 * unprivileged half could send, and what the helper must refuse. */
#include "unit.h"

#include <check.h>
#include <errno.h>
#include <string.h>

#include "priv/priv.h"

#define CONF "external_interface = \"wan0\";\nlan_interfaces = [ \"br-lan\" ];\n" \
	"lifetime = { min = 60; max = 3600; };\n" \
	"static_mappings = ( { protocol = \"tcp\"; external_port = 80; " \
	"internal_address = \"192.168.1.20\"; internal_port = 8080; } );\n" \
	"policy = (\n" \
	"  { action = \"deny\"; external_ports = \"1-1023\"; },\n" \
	"  { action = \"allow\"; clients = \"192.168.1.0/24\"; internal_ports = \"1024-65535\"; },\n" \
	"  { action = \"allow\"; clients = \"192.168.1.5\"; third_party = true; },\n" \
	"  { action = \"allow\"; clients = \"2001:db8:1::/64\"; internal_ports = \"1024-65535\"; }\n" \
	");\n"

static struct config cfg;
static struct priv_request r;
static struct own_addresses own;
static const char *why;

static void setup(void)
{
	char err[CONFIG_ERROR_MAX];

	ck_assert_int_eq(config_load_string(CONF, "test.conf", &cfg, err, sizeof(err)), 0);
	memset(&own, 0, sizeof(own));
	unit_own_address(&own, "br-lan", "192.168.1.1", 24);
	unit_own_address(&own, "br-lan", "2001:db8:1::1", 64);
	unit_own_address(&own, "wan0", "203.0.113.1", 24);
	memset(&r, 0, sizeof(r));
	r.op = PRIV_ADD;
	r.mapping = (struct priv_mapping){ .proto = IPPROTO_TCP, .external_port = 8080,
					   .internal_port = 8080, .timeout_ms = 600000 };
	r.mapping.internal_addr = unit_v4("192.168.1.10");
	r.mapping.client = unit_v4("192.168.1.10");
}

static int check(void)
{
	return priv_request_check(&r, sizeof(r), &why);
}

static int authorize(void)
{
	struct in_addr ext = { htonl(0xcb007101) };  /* 203.0.113.1 */

	return check() < 0 ? -EINVAL : priv_authorize(&cfg, &own, &r, &ext, 1, &why);
}

START_TEST(test_allowed)
{
	ck_assert_int_eq(authorize(), 0);
	r.op = PRIV_REPLACE;
	r.old = r.mapping;
	r.mapping.timeout_ms = 3600000;
	ck_assert_int_eq(authorize(), 0);
	/* an IPv6 pinhole */
	setup();
	r.mapping.internal_addr = r.mapping.client = unit_v6("2001:db8:1::10");
	r.mapping.external_port = 0;
	ck_assert_int_eq(authorize(), 0);
	/* the declared static mapping, though the policy denies port 80 */
	setup();
	r.mapping = (struct priv_mapping){ .proto = IPPROTO_TCP, .operator_static = 1,
					   .external_port = 80, .internal_port = 8080 };
	r.mapping.internal_addr = unit_v4("192.168.1.20");
	ck_assert_int_eq(authorize(), 0);
	/* reading and deleting need no permission */
	setup();
	r.mapping.external_port = 80;
	r.op = PRIV_DELETE;
	ck_assert_int_eq(authorize(), 0);
	r.op = PRIV_COUNTERS;
	ck_assert_int_eq(authorize(), 0);
}
END_TEST

START_TEST(test_out_of_policy)
{
	r.mapping.external_port = 80;  /* denied external port */
	ck_assert_int_eq(authorize(), -EPERM);
	ck_assert_str_eq(why, "the policy denies it");
	setup();
	r.mapping.client = r.mapping.internal_addr = unit_v4("10.0.0.7");  /* no rule's client */
	ck_assert_int_eq(authorize(), -EPERM);
	setup();
	r.mapping.internal_addr = unit_v4("192.168.1.11");  /* a third party, no such rule */
	ck_assert_int_eq(authorize(), -EPERM);
	r.mapping.client = unit_v4("192.168.1.5");  /* this client may */
	ck_assert_int_eq(authorize(), 0);
	setup();
	r.mapping.timeout_ms = 3600001;  /* beyond lifetime.max */
	ck_assert_int_eq(authorize(), -EPERM);
	r.mapping.timeout_ms = 0;  /* never expiring, and not static */
	ck_assert_int_eq(authorize(), -EPERM);
	setup();
	r.mapping.operator_static = 1;  /* "static", not declared, denied port */
	r.mapping.timeout_ms = 0;
	r.mapping.external_port = 443;
	ck_assert_int_eq(authorize(), -EPERM);
	ck_assert(priv_undeclared_static(&cfg, &r.mapping));
	/* nor one the policy would allow a client for a while: never
	 * expiring, it must be the operator's word (config or static file) */
	r.mapping.external_port = 8080;
	ck_assert_int_eq(authorize(), -EPERM);
	ck_assert_str_eq(why, "a permanent mapping that neither the config nor the static file names");
	r.mapping.operator_static = 0;
	r.mapping.timeout_ms = 60000;
	ck_assert_int_eq(authorize(), 0);
	/* a refresh is checked like an add */
	setup();
	r.op = PRIV_REPLACE;
	r.old = r.mapping;
	r.mapping.timeout_ms = 7200000;
	r.old.timeout_ms = 7200000;
	ck_assert_int_eq(authorize(), -EPERM);
	/* hairpin to anything but the external address */
	memset(&r, 0, sizeof(r));
	r.op = PRIV_HAIRPIN;
	r.has_hairpin = 1;
	r.hairpin.s_addr = htonl(0x08080808);
	ck_assert_int_eq(authorize(), -EPERM);
	r.hairpin.s_addr = htonl(0xcb007101);
	ck_assert_int_eq(authorize(), 0);
	/* PEER beyond lifetime.max */
	memset(&r, 0, sizeof(r));
	r.op = PRIV_PEER;
	r.flow.proto = IPPROTO_UDP;
	r.flow.internal_addr = unit_v4("192.168.1.10");
	r.flow.internal_port = 5000;
	r.lifetime = 7200;
	ck_assert_int_eq(authorize(), -EPERM);
}
END_TEST

/* What no LAN client could get through the daemon, asked of the helper
 * directly (issue 9): forwards to the router itself and to addresses no
 * host has, whoever the request says asked. */
START_TEST(test_not_a_host)
{
	static const char *const refused[] = { "192.168.1.1", "192.168.1.0", "192.168.1.255",
					       "203.0.113.1", "169.254.7.7" };

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		setup();
		/* a third party of the client the policy lets name any */
		r.mapping.client = unit_v4("192.168.1.5");
		r.mapping.internal_addr = unit_v4(refused[i]);
		ck_assert_int_eq(check() == 0 ? authorize() : -EPERM, -EPERM);
		/* not even as the operator's static mapping */
		r.mapping.operator_static = 1;
		r.mapping.timeout_ms = 0;
		ck_assert_int_eq(check() == 0 ? authorize() : -EPERM, -EPERM);
	}
	setup();
	r.mapping.internal_addr = r.mapping.client = unit_v6("2001:db8:1::1");
	r.mapping.external_port = 0;
	ck_assert_int_eq(authorize(), -EPERM);
	ck_assert_str_eq(why, "an address of the router (br-lan)");
	/* in a batch too */
	setup();
	struct priv_batch_item item = { .op = PRIV_ADD, .mapping = r.mapping };
	item.mapping.internal_addr = item.mapping.client = unit_v4("192.168.1.1");
	ck_assert_int_eq(priv_authorize_item(&cfg, &own, &item, &why), -EPERM);
	item.op = PRIV_RENEW;
	ck_assert_int_eq(priv_authorize_item(&cfg, &own, &item, &why), -EPERM);
	/* what cannot be read is not vouched for */
	setup();
	own_addr_counted(&own, -1);
	ck_assert_int_eq(authorize(), -EPERM);
}
END_TEST

/* PEER: only a LAN host's flow, from a port the policy lets it map. */
START_TEST(test_peer)
{
	memset(&r, 0, sizeof(r));
	r.op = PRIV_PEER;
	r.flow.proto = IPPROTO_UDP;
	r.flow.internal_addr = unit_v4("192.168.1.10");
	r.flow.internal_port = 5000;
	r.flow.remote_addr = unit_v4("198.51.100.7");
	r.flow.remote_port = 3478;
	r.lifetime = 600;
	ck_assert_int_eq(authorize(), 0);
	r.flow.internal_port = 53;  /* the policy allows 1024-65535 only */
	ck_assert_int_eq(authorize(), -EPERM);
	r.flow.internal_port = 5000;
	r.flow.internal_addr = unit_v4("192.168.1.1");  /* the router's own flow */
	ck_assert_int_eq(authorize(), -EPERM);
	r.flow.internal_addr = unit_v4("203.0.113.9");  /* on the WAN side */
	ck_assert_int_eq(authorize(), -EPERM);
	ck_assert_str_eq(why, "the flow's internal side is not on a LAN interface");
	r.flow.internal_addr = unit_v4("10.0.0.7");  /* nowhere the router has */
	ck_assert_int_eq(authorize(), -EPERM);
}
END_TEST

START_TEST(test_malformed)
{
	ck_assert_int_eq(priv_request_check(&r, sizeof(r) - 1, &why), -EINVAL);
	ck_assert_int_eq(priv_request_check(&r, 0, &why), -EINVAL);
	r.op = 0;
	ck_assert_int_eq(check(), -EINVAL);
	r.op = PRIV_INTACT + 1;
	ck_assert_int_eq(check(), -EINVAL);
	setup();
	r.mapping.proto = IPPROTO_ICMP;
	ck_assert_int_eq(check(), -EINVAL);
	setup();
	r.mapping.internal_port = 0;
	ck_assert_int_eq(check(), -EINVAL);
	setup();
	r.mapping.external_port = 0;
	ck_assert_int_eq(check(), -EINVAL);
	static const char *const not_hosts[] = { "0.0.0.0", "127.0.0.1", "224.0.0.1",
						 "255.255.255.255" };
	for (size_t i = 0; i < 4; i++) {
		setup();
		r.mapping.internal_addr = unit_v4(not_hosts[i]);
		ck_assert_int_eq(check(), -EINVAL);
	}
	setup();
	r.mapping.internal_addr = unit_v6("fe80::1");
	ck_assert_int_eq(check(), -EINVAL);
	setup();
	r.mapping.nremotes = FILTER_MAX_RANGES + 1;
	ck_assert_int_eq(check(), -EINVAL);
	setup();
	r.mapping.nremotes = 1;
	r.mapping.remotes[0].first = unit_v4("203.0.113.9");
	r.mapping.remotes[0].last = unit_v4("203.0.113.1");  /* backwards */
	r.mapping.remotes[0].port_last = 65535;
	ck_assert_int_eq(check(), -EINVAL);
	r.mapping.remotes[0].last = unit_v6("2001:db8::1");  /* another family */
	ck_assert_int_eq(check(), -EINVAL);
	r.mapping.remotes[0].last = unit_v4("203.0.113.9");
	ck_assert_int_eq(check(), 0);
	/* A PEER: IPv4, each remote one address and port. */
	setup();
	r.mapping.peer = 1;
	ck_assert_int_eq(check(), -EINVAL);  /* no remote */
	r.mapping.nremotes = 1;
	r.mapping.remotes[0].first = r.mapping.remotes[0].last = unit_v4("198.51.100.7");
	r.mapping.remotes[0].port_first = r.mapping.remotes[0].port_last = 3478;
	ck_assert_int_eq(check(), 0);
	r.mapping.remotes[0].last = unit_v4("198.51.100.8");
	ck_assert_int_eq(check(), -EINVAL);
	r.mapping.remotes[0].last = unit_v4("198.51.100.7");
	r.mapping.remotes[0].port_last = 3479;
	ck_assert_int_eq(check(), -EINVAL);
	r.mapping.remotes[0].port_last = 3478;
	r.mapping.peer = 2;
	ck_assert_int_eq(check(), -EINVAL);
	r.mapping.peer = 1;
	r.mapping.operator_static = 1;
	ck_assert_int_eq(check(), -EINVAL);
	setup();
	r.mapping.timeout_ms = 2592000001ull;
	ck_assert_int_eq(check(), -EINVAL);
	/* a "refresh" that moves the mapping */
	setup();
	r.op = PRIV_REPLACE;
	r.old = r.mapping;
	r.mapping.external_port = 9090;
	ck_assert_int_eq(check(), -EINVAL);
	ck_assert_str_eq(why, "a refresh must keep the mapping's endpoints");
	setup();
	r.op = PRIV_HAIRPIN;
	r.has_hairpin = 7;
	ck_assert_int_eq(check(), -EINVAL);
}
END_TEST

/* A batch: the whole of it is its size and count; each item is checked
 * and authorized on its own, so one bad item does not sink the others. */
START_TEST(test_batch)
{
	static struct priv_batch b;

	memset(&b, 0, sizeof(b));
	b.op = PRIV_BATCH;
	b.count = 3;
	for (int i = 0; i < 3; i++)
		b.items[i] = (struct priv_batch_item){ .op = PRIV_ADD, .mapping = r.mapping };
	ck_assert_int_eq(priv_request_check(&b, PRIV_BATCH_SIZE(3), &why), 0);
	/* the size must be what the count says, and the count 1 to the max */
	ck_assert_int_eq(priv_request_check(&b, PRIV_BATCH_SIZE(2), &why), -EINVAL);
	ck_assert_int_eq(priv_request_check(&b, PRIV_BATCH_SIZE(3) + 1, &why), -EINVAL);
	ck_assert_int_eq(priv_request_check(&b, 6, &why), -EINVAL);
	b.count = 0;
	ck_assert_int_eq(priv_request_check(&b, PRIV_BATCH_SIZE(0), &why), -EINVAL);
	b.count = PRIV_BATCH_MAX + 1;
	ck_assert_int_eq(priv_request_check(&b, sizeof(b), &why), -EINVAL);

	/* items: adds, deletes and renewals only, well formed, an add or a
	 * renewal within policy */
	ck_assert_int_eq(priv_batch_item_check(&b.items[0], &why), 0);
	ck_assert_int_eq(priv_authorize_item(&cfg, &own, &b.items[0], &why), 0);
	b.items[1].op = PRIV_REPLACE;
	ck_assert_int_eq(priv_batch_item_check(&b.items[1], &why), -EINVAL);
	b.items[1].op = PRIV_COUNTERS;
	ck_assert_int_eq(priv_batch_item_check(&b.items[1], &why), -EINVAL);
	b.items[1].op = PRIV_RENEW;
	ck_assert_int_eq(priv_batch_item_check(&b.items[1], &why), 0);
	ck_assert_int_eq(priv_authorize_item(&cfg, &own, &b.items[1], &why), 0);
	b.items[1].mapping.timeout_ms = 0;  /* a renewal that never ends */
	ck_assert_int_eq(priv_batch_item_check(&b.items[1], &why), 0);
	ck_assert_int_eq(priv_authorize_item(&cfg, &own, &b.items[1], &why), -EPERM);
	b.items[1].mapping = r.mapping;
	b.items[1].op = PRIV_ADD;
	b.items[1].mapping.internal_port = 0;
	ck_assert_int_eq(priv_batch_item_check(&b.items[1], &why), -EINVAL);
	b.items[2].mapping.external_port = 80;
	ck_assert_int_eq(priv_batch_item_check(&b.items[2], &why), 0);
	ck_assert_int_eq(priv_authorize_item(&cfg, &own, &b.items[2], &why), -EPERM);
	b.items[2].op = PRIV_DELETE;
	ck_assert_int_eq(priv_authorize_item(&cfg, &own, &b.items[2], &why), 0);
}
END_TEST

START_TEST(test_pack_round_trip)
{
	struct remote_range ranges[2] = {
		{ .first = unit_v4("203.0.113.0"), .last = unit_v4("203.0.113.255"),
		  .port_first = 0, .port_last = 65535 },
		{ .first = unit_v4("198.51.100.7"), .last = unit_v4("198.51.100.7"),
		  .port_first = 443, .port_last = 443 },
	};
	struct nft_mapping m = { .proto = IPPROTO_UDP, .external_port = 5000,
				 .internal_addr = unit_v4("192.168.1.10"), .internal_port = 5001,
				 .remotes = ranges, .nremotes = 2, .timeout_ms = 1234,
				 .client = unit_v4("192.168.1.10") }, back;
	struct priv_mapping w;

	priv_mapping_pack(&w, &m);
	back = priv_mapping_unpack(&w);
	ck_assert_uint_eq(back.proto, m.proto);
	ck_assert_uint_eq(back.external_port, 5000);
	ck_assert_uint_eq(back.internal_port, 5001);
	ck_assert_uint_eq(back.nremotes, 2);
	ck_assert_uint_eq(back.timeout_ms, 1234);
	ck_assert_mem_eq(back.remotes, ranges, sizeof(ranges));
	ck_assert_mem_eq(&back.client, &m.client, sizeof(m.client));
	ck_assert(!back.operator_static);
}
END_TEST

/* The kernel's neighbour table, as the helper would read it: only
 * 192.168.1.10 is the NAS. */
static bool fake_mac_of(const struct config *c, const struct in6_addr *addr, uint8_t mac[6])
{
	struct in6_addr nas = unit_v4("192.168.1.10");

	(void)c;
	if (addr_equal(addr, &nas)) {
		memcpy(mac, (uint8_t[6]){ 2, 0x5e, 0x10, 0, 0, 0x0a }, 6);
		return true;
	}
	return false;
}

/* A rule by MAC is checked against the helper's own lookup, not the
 * daemon's word: the request carries no MAC at all. */
START_TEST(test_mac_rule)
{
	char err[CONFIG_ERROR_MAX];

	ck_assert_int_eq(config_load_string("external_interface = \"wan0\";\n"
					    "lan_interfaces = [ \"br-lan\" ];\n"
					    "policy = ( { action = \"allow\"; clients = \"mac:02:5e:10:00:00:0a\"; } );\n",
					    "test.conf", &cfg, err, sizeof(err)), 0);
	ck_assert(cfg.policy.rules[0].by_mac && cfg.policy.rules[0].mac[5] == 0x0a);
	ck_assert_int_eq(authorize(), -EPERM);  /* no lookup: the rule matches no one */
	priv_set_mac_lookup(fake_mac_of);
	ck_assert_int_eq(authorize(), 0);
	r.mapping.client = r.mapping.internal_addr = unit_v4("192.168.1.11");
	ck_assert_int_eq(authorize(), -EPERM);
	priv_set_mac_lookup(NULL);
}
END_TEST

/* The class a mapping says its inbound limit is must be the policy's:
 * else a compromised daemon could lift a limit the operator set. */
START_TEST(test_limit_class)
{
	char err[CONFIG_ERROR_MAX];

	ck_assert_int_eq(config_load_string("external_interface = \"wan0\";\n"
					    "lan_interfaces = [ \"br-lan\" ];\n"
					    "policy = ( { action = \"allow\"; internal_ports = 8080;\n"
					    "  inbound_limit = { per_remote = 5; }; },\n"
					    "  { action = \"allow\"; } );\n",
					    "test.conf", &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(authorize(), -EPERM);  /* says none */
	ck_assert_str_eq(why, "its inbound limit is not the one the policy sets");
	r.mapping.limit_class = 1;
	ck_assert_int_eq(authorize(), 0);
	r.mapping.internal_port = 9000;  /* the second rule's: no limit */
	ck_assert_int_eq(authorize(), -EPERM);
	r.mapping.limit_class = 0;
	ck_assert_int_eq(authorize(), 0);
	/* beyond any policy's classes: malformed */
	r.mapping.limit_class = POLICY_MAX_LIMITS + 1;
	ck_assert_int_eq(check(), -EINVAL);
	/* deleting takes it as said */
	r.mapping.limit_class = 2;
	r.op = PRIV_DELETE;
	ck_assert_int_eq(authorize(), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("priv");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_allowed);
	tcase_add_test(tc, test_out_of_policy);
	tcase_add_test(tc, test_not_a_host);
	tcase_add_test(tc, test_peer);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_pack_round_trip);
	tcase_add_test(tc, test_mac_rule);
	tcase_add_test(tc, test_limit_class);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
