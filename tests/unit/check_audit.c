/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "daemon/audit.h"
#include "unit.h"

START_TEST(test_format_fields)
{
	struct audit_record r = {
		.event = "granted", .origin = "natpmp", .proto = IPPROTO_TCP,
		.client = unit_v4("192.168.1.10"), .internal_addr = unit_v4("192.168.1.10"),
		.internal_port = 8080, .has_external_port = true, .external_port = 18080,
		.lifetime = 600, .rule_line = 12, .result = "ok", .description = "web \"x\"\n",
	};
	char buf[AUDIT_LINE_MAX];
	size_t n = audit_format(buf, sizeof(buf), &r);

	ck_assert_uint_eq(n, strlen(buf));
	ck_assert_str_eq(buf, "audit event=granted origin=natpmp proto=tcp client=192.168.1.10 "
			      "internal=192.168.1.10:8080 external_port=18080 lifetime=600 "
			      "rule_line=12 result=\"ok\" description=\"web \\\"x\\\"\\x0a\"");

	/* The device, by its link-layer address and its DHCP name. */
	r.device = (struct lan_device){ .has_mac = true, .mac = { 2, 0, 0, 0, 0, 0x0a },
					.name = "nas" };
	r.description = NULL;
	audit_format(buf, sizeof(buf), &r);
	ck_assert_str_eq(buf, "audit event=granted origin=natpmp proto=tcp client=192.168.1.10 "
			      "internal=192.168.1.10:8080 external_port=18080 lifetime=600 "
			      "rule_line=12 result=\"ok\" mac=02:00:00:00:00:0a device=nas");

	/* An idle mapping's end. */
	r.event = "expired";
	r.result = NULL;
	r.lifetime = 0;
	r.reason = "idle";
	audit_format(buf, sizeof(buf), &r);
	ck_assert_str_eq(buf, "audit event=expired origin=natpmp proto=tcp client=192.168.1.10 "
			      "internal=192.168.1.10:8080 external_port=18080 rule_line=12 "
			      "reason=idle mac=02:00:00:00:00:0a device=nas");

	r = (struct audit_record){ .event = "refused", .origin = "pcp", .proto = IPPROTO_UDP,
				   .internal_port = 9000, .result = "no policy rule allows it" };
	inet_pton(AF_INET6, "2001:db8::10", &r.client);
	r.internal_addr = r.client;
	audit_format(buf, sizeof(buf), &r);
	ck_assert_str_eq(buf, "audit event=refused origin=pcp proto=udp client=2001:db8::10 "
			      "internal=[2001:db8::10]:9000 result=\"no policy rule allows it\"");

	/* A static mapping: the operator's, no client. */
	r = (struct audit_record){ .event = "granted", .origin = "static", .proto = IPPROTO_TCP,
				   .internal_addr = unit_v4("192.168.1.20"), .internal_port = 80,
				   .has_external_port = true, .external_port = 8080, .by = "operator" };
	audit_format(buf, sizeof(buf), &r);
	ck_assert_str_eq(buf, "audit event=granted origin=static proto=tcp internal=192.168.1.20:80 "
			      "external_port=8080 by=operator");

	/* A PEER: the remote peer after the external port. */
	r = (struct audit_record){ .event = "granted", .origin = "pcp", .proto = IPPROTO_UDP,
				   .client = unit_v4("192.168.1.10"),
				   .internal_addr = unit_v4("192.168.1.10"), .internal_port = 5060,
				   .has_external_port = true, .external_port = 45060, .has_peer = true,
				   .peer_addr = unit_v4("198.51.100.7"), .peer_port = 3478 };
	audit_format(buf, sizeof(buf), &r);
	ck_assert_str_eq(buf, "audit event=granted origin=pcp proto=udp client=192.168.1.10 "
			      "internal=192.168.1.10:5060 external_port=45060 "
			      "peer=198.51.100.7:3478");
}
END_TEST

/* A line never overflows, and is cut between fields, not inside one. */
START_TEST(test_format_bounded)
{
	struct audit_record r = { .event = "deleted", .origin = "upnp", .proto = IPPROTO_TCP,
				  .client = unit_v4("192.168.1.10"),
				  .internal_addr = unit_v4("192.168.1.10"), .internal_port = 1,
				  .by = "operator" };
	char description[200], small[64];

	memset(description, '\x1b', sizeof(description) - 1);
	description[sizeof(description) - 1] = '\0';
	r.description = description;
	ck_assert_uint_lt(audit_format(small, sizeof(small), &r), sizeof(small));
	ck_assert_str_eq(small, "audit event=deleted origin=upnp proto=tcp client=192.168.1.10");
	{
		char buf[AUDIT_LINE_MAX];
		audit_format(buf, sizeof(buf), &r);
		ck_assert_ptr_null(strchr(buf, '\x1b'));
		ck_assert_ptr_nonnull(strstr(buf, "by=operator description=\"\\x1b\\x1b"));
	}
}
END_TEST

/* A host of its own per address, as forged link-layer addresses would make. */
static struct host_id host_of(const struct in6_addr *a)
{
	uint8_t mac[6] = { 0x02, 0x00 };

	memcpy(&mac[2], &a->s6_addr[12], 4);
	return host_id_of_mac(mac);
}

struct reported {
	unsigned calls, count;
	struct in6_addr client;
	struct host_id host;
};

static void report(const struct audit_summary *summary, void *arg)
{
	struct reported *r = arg;

	r->calls++;
	r->count = summary->count;
	r->client = summary->client;
	r->host = summary->host;
}

START_TEST(test_refusals_summarised)
{
	struct audit_limiter l;
	struct audit_summary ended;
	struct in6_addr a = unit_v4("192.168.1.10"), b = unit_v4("192.168.1.11"),
			a2 = unit_v4("192.168.1.12");
	struct host_id ha = unit_host("192.168.1.10"), hb = unit_host("192.168.1.11");
	struct reported got = { 0 };

	audit_limiter_init(&l);
	ck_assert(audit_limiter_admit(&l, &ha, &a, 1000, &ended));
	ck_assert_uint_eq(ended.count, 0);
	for (int i = 0; i < 50; i++)
		ck_assert(!audit_limiter_admit(&l, &ha, &a, 1000 + (uint64_t)i * 100, &ended));
	/* another host is logged on its own; another address of a's is not */
	ck_assert(audit_limiter_admit(&l, &hb, &b, 2000, &ended));
	ck_assert(!audit_limiter_admit(&l, &ha, &a2, 2000, &ended));
	/* nothing due yet */
	audit_limiter_flush(&l, 10999, report, &got);
	ck_assert_uint_eq(got.calls, 0);
	/* a's interval is over: its next refusal is logged after the count */
	ck_assert(audit_limiter_admit(&l, &ha, &a, 11000, &ended));
	ck_assert_uint_eq(ended.count, 51);
	ck_assert(addr_equal(&ended.client, &a));
	ck_assert(host_id_equal(&ended.host, &ha));
	ck_assert(!audit_limiter_admit(&l, &ha, &a, 11001, &ended));
	/* a quiet client's count comes from the flush */
	{
		uint64_t due = 0;

		ck_assert(audit_limiter_next_due(&l, &due));
		ck_assert_uint_eq(due, 11000 + AUDIT_REFUSAL_INTERVAL_MS);
		/* a little early: nothing yet, and still due then */
		audit_limiter_flush(&l, due - 1, report, &got);
		ck_assert_uint_eq(got.calls, 0);
		ck_assert(audit_limiter_next_due(&l, &due));
	}
	audit_limiter_flush(&l, 21000, report, &got);
	{
		uint64_t due;

		ck_assert(!audit_limiter_next_due(&l, &due));
	}
	ck_assert_uint_eq(got.calls, 1);
	ck_assert_uint_eq(got.count, 1);
	ck_assert(addr_equal(&got.client, &a));
	ck_assert(host_id_equal(&got.host, &ha));
}
END_TEST

static void add_count(const struct audit_summary *summary, void *arg)
{
	*(unsigned *)arg += summary->count;
}

/* A flood from more addresses than there are slots: memory stays bounded,
 * and every refusal is either logged or counted in some summary. */
START_TEST(test_many_clients)
{
	struct audit_limiter l;
	struct audit_summary ended;
	unsigned logged = 0, summarised = 0, total = 0;

	audit_limiter_init(&l);
	for (unsigned round = 0; round < 3; round++)
		for (unsigned i = 0; i < 100; i++)
			for (unsigned k = 0; k < 3; k++) {
				struct in6_addr c =
					addr_from_v4((struct in_addr){ htonl(0xc0a80000u + i) });
				struct host_id h = host_of(&c);

				total++;
				if (audit_limiter_admit(&l, &h, &c, 1000 + round * 300 + i * 3 + k,
							&ended))
					logged++;
				summarised += ended.count;
			}
	audit_limiter_flush(&l, 1000000, add_count, &summarised);
	ck_assert_uint_eq(logged + summarised, total);
	ck_assert_uint_gt(summarised, 0);
	/* within one interval, only as many lines as there are slots */
	ck_assert_uint_eq(logged, AUDIT_CLIENTS_TRACKED);
}
END_TEST

struct lines {
	unsigned lines, others, counted;
};

static void count_lines(const struct audit_summary *summary, void *arg)
{
	struct lines *n = arg;

	n->lines++;
	n->counted += summary->count;
	if (summary->host.kind == HOST_NONE)
		n->others++;
}

/* 20,000 refusals from 20,000 addresses over a minute, as a host spoofing
 * its source would send them: the lines logged are bounded by the slots
 * per interval, however many addresses; the rest are counted. */
START_TEST(test_spoofed_flood_bounded)
{
	struct audit_limiter l;
	struct audit_summary ended;
	struct lines n = { 0 };
	uint64_t now = 5000, intervals = 60000 / AUDIT_REFUSAL_INTERVAL_MS + 1;

	audit_limiter_init(&l);
	for (unsigned i = 0; i < 20000; i++) {
		struct in6_addr c = addr_from_v4((struct in_addr){ htonl(0x0a000000u + i) });
		struct host_id h = host_of(&c);

		now = 5000 + (uint64_t)i * 3;
		if (audit_limiter_admit(&l, &h, &c, now, &ended))
			n.lines++;
		if (ended.count) {
			n.lines++;
			n.counted += ended.count;
		}
		audit_limiter_flush(&l, now, count_lines, &n);
	}
	audit_limiter_flush(&l, now + AUDIT_REFUSAL_INTERVAL_MS, count_lines, &n);
	ck_assert_uint_le(n.lines, intervals * (2 * AUDIT_CLIENTS_TRACKED + 1) + 1);
	ck_assert_uint_ge(n.others, intervals - 1);
	{
		uint64_t due;

		ck_assert(!audit_limiter_next_due(&l, &due));
	}
}
END_TEST

/* The same flood as the router sees it: forged sources have no neighbour
 * entry, so they are one unresolved host, a line and a summary per
 * interval. */
START_TEST(test_unresolved_flood_is_one_host)
{
	struct audit_limiter l;
	struct audit_summary ended;
	struct lines n = { 0 };
	struct host_id unresolved = host_id_unresolved(true);
	uint64_t now = 5000, intervals = 60000 / AUDIT_REFUSAL_INTERVAL_MS + 1;

	audit_limiter_init(&l);
	for (unsigned i = 0; i < 20000; i++) {
		struct in6_addr c = addr_from_v4((struct in_addr){ htonl(0x0a000000u + i) });

		now = 5000 + (uint64_t)i * 3;
		if (audit_limiter_admit(&l, &unresolved, &c, now, &ended))
			n.lines++;
		if (ended.count)
			n.lines++;
		audit_limiter_flush(&l, now, count_lines, &n);
	}
	audit_limiter_flush(&l, now + AUDIT_REFUSAL_INTERVAL_MS, count_lines, &n);
	ck_assert_uint_le(n.lines, 2 * intervals);
	ck_assert_uint_eq(n.others, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_format_fields);
	tcase_add_test(tc, test_format_bounded);
	tcase_add_test(tc, test_refusals_summarised);
	tcase_add_test(tc, test_many_clients);
	tcase_add_test(tc, test_spoofed_flood_bounded);
	tcase_add_test(tc, test_unresolved_flood_is_one_host);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
