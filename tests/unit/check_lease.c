/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/lease.h"
#include "unit.h"

static struct lease_table *t;

static struct lease make(const char *host, uint8_t proto, uint16_t iport, uint16_t eport,
			 uint64_t expires)
{
	struct lease l = { 0 };

	l.proto = proto;
	l.client = unit_v4(host);
	l.internal_addr = l.client;
	l.internal_port = iport;
	l.external_port = eport;
	l.expires_ms = expires;
	return l;
}

static void setup(void)
{
	t = lease_table_new(8, 42);
	ck_assert_ptr_nonnull(t);
}

static void teardown(void)
{
	lease_table_free(t);
}

/* The description and filters are the table's own copies: the caller's
 * buffers may change or go once the lease is in. */
START_TEST(test_description_and_filters_are_copied)
{
	struct lease f = make("192.168.1.10", IPPROTO_TCP, 80, 8080, 1000);
	char desc[LEASE_DESCRIPTION_MAX + 10];
	struct remote_filter filters[2] = { { .port = 1 }, { .port = 2 } };
	struct lease *l;

	memset(desc, 'a', sizeof(desc) - 1);
	desc[sizeof(desc) - 1] = '\0';
	f.description = desc;
	f.filters = filters;
	f.nfilters = 2;
	l = lease_insert(t, &f);
	ck_assert_ptr_nonnull(l);
	desc[0] = 'b';
	filters[0].port = 9;
	ck_assert_uint_eq(strlen(l->description), LEASE_DESCRIPTION_MAX);
	ck_assert_int_eq(l->description[0], 'a');
	ck_assert_uint_eq(l->nfilters, 2);
	ck_assert_uint_eq(l->filters[0].port, 1);
	ck_assert_int_eq(lease_set_description(l, "web"), 0);
	ck_assert_str_eq(l->description, "web");
	ck_assert_int_eq(lease_set_description(l, NULL), 0);
	ck_assert_str_eq(l->description, "");
	ck_assert_int_eq(lease_set_filters(l, filters, 1), 0);
	ck_assert_uint_eq(l->nfilters, 1);
	ck_assert_uint_eq(l->filters[0].port, 9);
	ck_assert_int_eq(lease_set_filters(l, NULL, 0), 0);
	ck_assert_uint_eq(l->nfilters, 0);
	/* none given: "" and no filters */
	f = make("192.168.1.11", IPPROTO_TCP, 81, 8081, 1000);
	l = lease_insert(t, &f);
	ck_assert_str_eq(l->description, "");
	ck_assert_ptr_null(l->filters);
	ck_assert_int_eq(lease_set_description(l, "x"), 0);
	lease_delete(t, l);  /* frees it; LeakSanitizer watches in unit-asan */
}
END_TEST

START_TEST(test_insert_and_lookup_both_ways)
{
	struct lease f = make("192.168.1.10", IPPROTO_TCP, 80, 8080, 1000);
	struct in6_addr a = unit_v4("192.168.1.10");
	struct lease *l = lease_insert(t, &f);

	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_eq(lease_by_external(t, IPPROTO_TCP, 8080), l);
	ck_assert_ptr_null(lease_by_external(t, IPPROTO_UDP, 8080));
	ck_assert_ptr_eq(lease_by_internal(t, &a, IPPROTO_TCP, 80), l);
	ck_assert_ptr_null(lease_by_internal(t, &a, IPPROTO_TCP, 81));
	ck_assert(!lease_external_free(t, IPPROTO_TCP, 8080));
	ck_assert(lease_external_free(t, IPPROTO_UDP, 8080));
	ck_assert_uint_eq(lease_count(t), 1);
}
END_TEST

START_TEST(test_duplicates_and_capacity_refused)
{
	struct lease f = make("192.168.1.10", IPPROTO_TCP, 80, 8080, 1000);

	ck_assert_ptr_nonnull(lease_insert(t, &f));
	ck_assert_ptr_null(lease_insert(t, &f));              /* same both ends */
	f.internal_port = 81;
	ck_assert_ptr_null(lease_insert(t, &f));              /* same external */
	f = make("192.168.1.10", IPPROTO_TCP, 80, 9090, 1000);
	ck_assert_ptr_null(lease_insert(t, &f));              /* same internal */
	f = make("192.168.1.10", IPPROTO_TCP, 81, 0, 1000);
	ck_assert_ptr_null(lease_insert(t, &f));              /* port 0 */

	for (uint16_t i = 1; i < 8; i++) {
		f = make("192.168.1.11", IPPROTO_UDP, i, (uint16_t)(1000 + i), 1000);
		ck_assert_ptr_nonnull(lease_insert(t, &f));
	}
	f = make("192.168.1.12", IPPROTO_UDP, 1, 2000, 1000);
	ck_assert_ptr_null(lease_insert(t, &f));              /* full */
	ck_assert_uint_eq(lease_count(t), 8);
}
END_TEST

START_TEST(test_heap_orders_expiries)
{
	static const uint64_t expiries[] = { 500, 100, 900, 300, 700, 200, 800, 600 };
	uint64_t last = 0;

	for (size_t i = 0; i < 8; i++) {
		struct lease f = make("192.168.1.10", IPPROTO_TCP, (uint16_t)(100 + i),
				      (uint16_t)(5000 + i), expiries[i]);
		ck_assert_ptr_nonnull(lease_insert(t, &f));
	}
	/* Move one to the front and one to the back. */
	lease_set_expiry(t, lease_by_external(t, IPPROTO_TCP, 5002), 50);
	lease_set_expiry(t, lease_by_external(t, IPPROTO_TCP, 5001), 1000);

	ck_assert_uint_eq(lease_soonest(t)->external_port, 5002);
	while (lease_soonest(t)) {
		struct lease *l = lease_soonest(t);
		ck_assert_uint_ge(l->expires_ms, last);
		last = l->expires_ms;
		lease_delete(t, l);
	}
	ck_assert_uint_eq(last, 1000);
	ck_assert_uint_eq(lease_count(t), 0);
}
END_TEST

START_TEST(test_delete_from_middle_keeps_indices)
{
	struct in6_addr a = unit_v4("192.168.1.10");

	for (uint16_t i = 0; i < 8; i++) {
		struct lease f = make("192.168.1.10", IPPROTO_TCP, (uint16_t)(100 + i),
				      (uint16_t)(5000 + i), 1000u - i * 10u);
		ck_assert_ptr_nonnull(lease_insert(t, &f));
	}
	lease_delete(t, lease_by_external(t, IPPROTO_TCP, 5003));
	ck_assert_ptr_null(lease_by_external(t, IPPROTO_TCP, 5003));
	ck_assert_ptr_null(lease_by_internal(t, &a, IPPROTO_TCP, 103));
	ck_assert(lease_external_free(t, IPPROTO_TCP, 5003));
	for (uint16_t i = 0; i < 8; i++) {
		if (i == 3)
			continue;
		ck_assert_ptr_nonnull(lease_by_external(t, IPPROTO_TCP, (uint16_t)(5000 + i)));
		ck_assert_ptr_nonnull(lease_by_internal(t, &a, IPPROTO_TCP, (uint16_t)(100 + i)));
	}
	ck_assert_uint_eq(lease_soonest(t)->expires_ms, 930);

	size_t n = 0;
	for (struct lease *l = lease_first(t); l; l = lease_next(l))
		n++;
	ck_assert_uint_eq(n, 7);
}
END_TEST

START_TEST(test_pick_prefers_suggested_then_next)
{
	struct port_range allowed[] = { { 1024, 2047 }, { 9000, 9001 } };
	struct lease f = make("192.168.1.10", IPPROTO_TCP, 80, 1500, 1000);

	ck_assert_int_eq(lease_pick_external(t, IPPROTO_TCP, 1500, allowed, 2), 1500);
	lease_insert(t, &f);
	ck_assert_int_eq(lease_pick_external(t, IPPROTO_TCP, 1500, allowed, 2), 1501);
	ck_assert_int_eq(lease_pick_external(t, IPPROTO_UDP, 1500, allowed, 2), 1500);
	/* Not allowed: the lowest allowed free port. */
	ck_assert_int_eq(lease_pick_external(t, IPPROTO_TCP, 80, allowed, 2), 1024);
	ck_assert_int_eq(lease_pick_external(t, IPPROTO_TCP, 9001, allowed, 2), 9001);
}
END_TEST

START_TEST(test_pick_wraps_and_exhausts)
{
	struct port_range allowed[] = { { 3000, 3002 } };
	struct lease f;

	f = make("192.168.1.10", IPPROTO_UDP, 1, 3002, 1);
	lease_insert(t, &f);
	ck_assert_int_eq(lease_pick_external(t, IPPROTO_UDP, 3002, allowed, 1), 3000);
	f = make("192.168.1.10", IPPROTO_UDP, 2, 3000, 1);
	lease_insert(t, &f);
	f = make("192.168.1.10", IPPROTO_UDP, 3, 3001, 1);
	lease_insert(t, &f);
	ck_assert_int_eq(lease_pick_external(t, IPPROTO_UDP, 3001, allowed, 1), -1);
	ck_assert_int_eq(lease_pick_external(t, IPPROTO_UDP, 3001, allowed, 0), -1);
}
END_TEST

START_TEST(test_many_leases_stress)
{
	struct lease_table *big = lease_table_new(20000, 7);
	struct in6_addr a = unit_v4("192.168.1.10");
	struct port_range all = { 1, 65535 };

	for (unsigned i = 0; i < 20000; i++) {
		struct lease f = make("192.168.1.10", IPPROTO_TCP, (uint16_t)(1 + i), 0,
				      (i * 7919u) % 20011u);
		int port = lease_pick_external(big, IPPROTO_TCP, 1, &all, 1);
		ck_assert_int_eq(port, (int)(1 + i));
		f.external_port = (uint16_t)port;
		if (!lease_insert(big, &f))
			ck_abort_msg("insert %u failed", i);
	}
	for (unsigned i = 0; i < 20000; i += 2)
		lease_delete(big, lease_by_internal(big, &a, IPPROTO_TCP, (uint16_t)(1 + i)));
	ck_assert_uint_eq(lease_count(big), 10000);
	uint64_t last = 0;
	unsigned bad = 0;
	while (lease_soonest(big)) {
		struct lease *l = lease_soonest(big);
		bad += l->expires_ms < last;
		last = l->expires_ms;
		lease_delete(big, l);
	}
	ck_assert_uint_eq(bad, 0);
	lease_table_free(big);
}
END_TEST

START_TEST(test_ipv6_pinholes_take_no_external_port)
{
	struct lease a = make("192.168.1.10", IPPROTO_TCP, 8080, 8080, 1000), b = a, v4;

	inet_pton(AF_INET6, "2001:db8::10", &a.internal_addr);
	a.client = a.internal_addr;
	inet_pton(AF_INET6, "2001:db8::11", &b.internal_addr);
	b.client = b.internal_addr;
	ck_assert_ptr_nonnull(lease_insert(t, &a));
	/* Another host's pinhole on the same port number: another endpoint. */
	ck_assert_ptr_nonnull(lease_insert(t, &b));
	ck_assert_ptr_null(lease_insert(t, &b));
	ck_assert_ptr_null(lease_by_external(t, IPPROTO_TCP, 8080));
	ck_assert(lease_external_free(t, IPPROTO_TCP, 8080));
	v4 = make("192.168.1.10", IPPROTO_TCP, 8080, 8080, 1000);
	ck_assert_ptr_nonnull(lease_insert(t, &v4));
	lease_delete(t, lease_by_internal(t, &a.internal_addr, IPPROTO_TCP, 8080));
	ck_assert_ptr_nonnull(lease_by_external(t, IPPROTO_TCP, 8080));
	ck_assert(!lease_external_free(t, IPPROTO_TCP, 8080));
	ck_assert_uint_eq(lease_count(t), 2);
}
END_TEST

static struct lease pinhole(unsigned host, uint16_t port)
{
	struct lease l = make("192.168.1.10", IPPROTO_UDP, port, port, 1000);
	char text[64];

	snprintf(text, sizeof(text), "2001:db8::%x", host);
	inet_pton(AF_INET6, text, &l.internal_addr);
	l.client = l.internal_addr;
	return l;
}

START_TEST(test_pinhole_ids_unique_and_not_reused_at_once)
{
	struct lease a = pinhole(1, 5000), b = pinhole(2, 5000);
	struct lease v4 = make("192.168.1.10", IPPROTO_TCP, 80, 8080, 1000);
	struct lease *la = lease_insert(t, &a), *lb = lease_insert(t, &b), *lv4;
	uint16_t id_a;

	ck_assert_ptr_nonnull(la);
	ck_assert_ptr_nonnull(lb);
	ck_assert_uint_ne(la->pinhole_id, 0);
	ck_assert_uint_ne(la->pinhole_id, lb->pinhole_id);
	ck_assert_ptr_eq(lease_by_pinhole_id(t, la->pinhole_id), la);
	ck_assert_ptr_eq(lease_by_pinhole_id(t, lb->pinhole_id), lb);
	lv4 = lease_insert(t, &v4);
	ck_assert_uint_eq(lv4->pinhole_id, 0);
	ck_assert_ptr_null(lease_by_pinhole_id(t, 0));

	/* A client holding the id of a deleted pinhole does not reach the
	 * next one made. */
	id_a = la->pinhole_id;
	lease_delete(t, la);
	ck_assert_ptr_null(lease_by_pinhole_id(t, id_a));
	la = lease_insert(t, &a);
	ck_assert_uint_ne(la->pinhole_id, id_a);
	ck_assert_ptr_eq(lease_by_pinhole_id(t, lb->pinhole_id), lb);
}
END_TEST

/* 65535 ids: the 65536th pinhole is refused, and a freed id is found again
 * by skipping only the ones in use. */
START_TEST(test_pinhole_ids_exhaust_and_wrap)
{
	struct lease_table *big = lease_table_new(70000, 7);
	struct lease *freed = NULL, *l;
	uint16_t id;

	ck_assert_ptr_nonnull(big);
	for (unsigned i = 0; i < UINT16_MAX; i++) {
		struct lease p = pinhole(i / 1000 + 1, (uint16_t)(i % 1000 + 1));
		ck_assert_ptr_nonnull(l = lease_insert(big, &p));
		if (i == 12345)
			freed = l;
	}
	struct lease extra = pinhole(0xffff, 1);
	ck_assert_ptr_null(lease_insert(big, &extra));
	id = freed->pinhole_id;
	lease_delete(big, freed);
	ck_assert_ptr_nonnull(l = lease_insert(big, &extra));
	ck_assert_uint_eq(l->pinhole_id, id);
	lease_table_free(big);
}
END_TEST

/* The external ports of the client's leases, in iteration order, as
 * "5000 5002 ". */
static const char *ports_of_client(const char *host)
{
	static char out[128];
	struct in6_addr client = unit_v4(host);
	size_t len = 0;

	out[0] = '\0';
	for (const struct lease *l = lease_first_of_client(t, &client); l; l = lease_next_of_client(l))
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%u ", l->external_port);
	return out;
}

/* Every lease once, each client's together: what the global order must
 * keep for the per-client walk to be right. */
static void assert_runs_whole(size_t expected)
{
	struct in6_addr seen[8];
	size_t n = 0, nseen = 0;

	for (const struct lease *l = lease_first(t); l; l = lease_next(l), n++) {
		if (l == lease_first(t) || !addr_equal(&l->all_prev->client, &l->client)) {
			for (size_t i = 0; i < nseen; i++)
				ck_assert_msg(!addr_equal(&seen[i], &l->client), "a client's leases are split");
			seen[nseen++] = l->client;
		}
	}
	ck_assert_uint_eq(n, expected);
	ck_assert_uint_eq(n, lease_count(t));
}

START_TEST(test_iteration_by_client)
{
	static const struct { const char *host; uint16_t port; } order[] = {
		{ "192.168.1.10", 5000 }, { "192.168.1.11", 5001 }, { "192.168.1.10", 5002 },
		{ "192.168.1.12", 5003 }, { "192.168.1.11", 5004 }, { "192.168.1.10", 5005 },
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct lease f = make(order[i].host, IPPROTO_TCP, order[i].port, order[i].port, 100);
		ck_assert_ptr_nonnull(lease_insert(t, &f));
	}
	assert_runs_whole(6);
	ck_assert_str_eq(ports_of_client("192.168.1.10"), "5000 5002 5005 ");
	ck_assert_str_eq(ports_of_client("192.168.1.11"), "5001 5004 ");
	ck_assert_str_eq(ports_of_client("192.168.1.12"), "5003 ");
	ck_assert_str_eq(ports_of_client("192.168.1.13"), "");

	/* The first, the middle and the last of a run. */
	lease_delete(t, lease_by_external(t, IPPROTO_TCP, 5002));
	ck_assert_str_eq(ports_of_client("192.168.1.10"), "5000 5005 ");
	lease_delete(t, lease_by_external(t, IPPROTO_TCP, 5000));
	ck_assert_str_eq(ports_of_client("192.168.1.10"), "5005 ");
	lease_delete(t, lease_by_external(t, IPPROTO_TCP, 5004));
	ck_assert_str_eq(ports_of_client("192.168.1.11"), "5001 ");
	ck_assert_str_eq(ports_of_client("192.168.1.12"), "5003 ");
	assert_runs_whole(3);

	/* A client that held nothing starts a run again; one that still holds
	 * a lease grows its own. */
	lease_delete(t, lease_by_external(t, IPPROTO_TCP, 5003));
	struct lease again = make("192.168.1.12", IPPROTO_UDP, 7000, 7000, 100);
	struct lease more = make("192.168.1.11", IPPROTO_UDP, 7001, 7001, 100);
	ck_assert_ptr_nonnull(lease_insert(t, &again));
	ck_assert_ptr_nonnull(lease_insert(t, &more));
	ck_assert_str_eq(ports_of_client("192.168.1.12"), "7000 ");
	ck_assert_str_eq(ports_of_client("192.168.1.11"), "5001 7001 ");
	assert_runs_whole(4);

	/* Deleting while walking, the next fetched first. */
	struct in6_addr eleven = unit_v4("192.168.1.11");
	for (struct lease *l = lease_first_of_client(t, &eleven), *next; l; l = next) {
		next = lease_next_of_client(l);
		lease_delete(t, l);
	}
	ck_assert_str_eq(ports_of_client("192.168.1.11"), "");
	ck_assert_str_eq(ports_of_client("192.168.1.10"), "5005 ");
	assert_runs_whole(2);
}
END_TEST

START_TEST(test_counts_per_client)
{
	struct lease a = make("192.168.1.10", IPPROTO_TCP, 80, 8080, 1000);
	struct lease b = make("192.168.1.10", IPPROTO_UDP, 80, 8080, 1000);
	struct lease c = make("192.168.1.11", IPPROTO_TCP, 81, 8081, 1000);
	struct in6_addr ten = unit_v4("192.168.1.10"), eleven = unit_v4("192.168.1.11");

	/* A third-party lease counts for the host that asked. */
	c.client = ten;
	ck_assert_ptr_nonnull(lease_insert(t, &a));
	ck_assert_ptr_nonnull(lease_insert(t, &b));
	ck_assert_ptr_nonnull(lease_insert(t, &c));
	ck_assert_uint_eq(lease_count_of_client(t, &ten), 3);
	ck_assert_uint_eq(lease_count_of_client(t, &eleven), 0);
	lease_delete(t, lease_by_external(t, IPPROTO_UDP, 8080));
	ck_assert_uint_eq(lease_count_of_client(t, &ten), 2);
	lease_delete(t, lease_by_external(t, IPPROTO_TCP, 8080));
	lease_delete(t, lease_by_external(t, IPPROTO_TCP, 8081));
	ck_assert_uint_eq(lease_count_of_client(t, &ten), 0);

	/* Every slot comes back: a full table of distinct clients again. */
	for (int i = 0; i < 8; i++) {
		char host[32];
		snprintf(host, sizeof(host), "192.168.2.%d", i);
		struct lease l = make(host, IPPROTO_TCP, (uint16_t)(100 + i), (uint16_t)(100 + i), 5);
		ck_assert_ptr_nonnull(lease_insert(t, &l));
	}
	struct in6_addr h3 = unit_v4("192.168.2.3");
	ck_assert_uint_eq(lease_count_of_client(t, &h3), 1);
}
END_TEST

/* A host is its link-layer address, whichever address it asks from; the
 * operator's leases (HOST_NONE) count for nobody. */
START_TEST(test_counts_per_host)
{
	static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0xa }, mac_b[6] = { 2, 0, 0, 0, 0, 0xb };
	struct host_id a = host_id_of_mac(mac_a), b = host_id_of_mac(mac_b),
		       none = { .kind = HOST_NONE };
	struct lease l1 = make("192.168.1.10", IPPROTO_TCP, 100, 100, 5),
		     l2 = make("192.168.1.11", IPPROTO_TCP, 101, 101, 5),
		     l3 = make("192.168.1.12", IPPROTO_UDP, 102, 102, 5),
		     op = make("192.168.1.13", IPPROTO_UDP, 103, 103, 5);

	l1.host = a;
	l2.host = a;
	l3.host = b;
	ck_assert_ptr_nonnull(lease_insert(t, &l1));
	ck_assert_ptr_nonnull(lease_insert(t, &l2));
	ck_assert_ptr_nonnull(lease_insert(t, &l3));
	ck_assert_ptr_nonnull(lease_insert(t, &op));
	ck_assert_uint_eq(lease_count_of_host(t, &a), 2);
	ck_assert_uint_eq(lease_count_of_host(t, &b), 1);
	ck_assert_uint_eq(lease_count_of_host(t, &none), 0);
	ck_assert_uint_eq(lease_host_count(t), 2);
	lease_delete(t, lease_by_external(t, IPPROTO_TCP, 100));
	ck_assert_uint_eq(lease_count_of_host(t, &a), 1);
	ck_assert_uint_eq(lease_host_count(t), 2);
	lease_delete(t, lease_by_external(t, IPPROTO_TCP, 101));
	lease_delete(t, lease_by_external(t, IPPROTO_UDP, 102));
	ck_assert_uint_eq(lease_count_of_host(t, &a), 0);
	ck_assert_uint_eq(lease_count_of_host(t, &b), 0);
	ck_assert_uint_eq(lease_host_count(t), 0);
	/* the slots come back */
	for (uint16_t i = 0; i < 7; i++) {
		struct lease l = make("192.168.2.1", IPPROTO_TCP, (uint16_t)(200 + i),
				      (uint16_t)(200 + i), 5);

		l.host = i % 2 ? a : b;
		ck_assert_ptr_nonnull(lease_insert(t, &l));
	}
	ck_assert_uint_eq(lease_count_of_host(t, &a), 3);
	ck_assert_uint_eq(lease_count_of_host(t, &b), 4);
	ck_assert_uint_eq(lease_host_count(t), 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lease");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_insert_and_lookup_both_ways);
	tcase_add_test(tc, test_description_and_filters_are_copied);
	tcase_add_test(tc, test_duplicates_and_capacity_refused);
	tcase_add_test(tc, test_heap_orders_expiries);
	tcase_add_test(tc, test_delete_from_middle_keeps_indices);
	tcase_add_test(tc, test_pick_prefers_suggested_then_next);
	tcase_add_test(tc, test_pick_wraps_and_exhausts);
	tcase_add_test(tc, test_many_leases_stress);
	tcase_add_test(tc, test_ipv6_pinholes_take_no_external_port);
	tcase_add_test(tc, test_pinhole_ids_unique_and_not_reused_at_once);
	tcase_add_test(tc, test_pinhole_ids_exhaust_and_wrap);
	tcase_add_test(tc, test_counts_per_client);
	tcase_add_test(tc, test_counts_per_host);
	tcase_add_test(tc, test_iteration_by_client);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
