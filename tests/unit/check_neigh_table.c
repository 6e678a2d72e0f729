/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The neighbour table that tells addresses to hosts (daemon/neigh_table.c,
 * daemon/host.c). */
#include "unit.h"

#include <arpa/inet.h>
#include <check.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/host.h"
#include "daemon/neigh_table.h"

static struct neigh_table *table;
static char buf[1 << 16];
static size_t used;

static void setup(void)
{
	table = malloc(sizeof(*table));
	ck_assert_ptr_nonnull(table);
	neigh_table_init(table, 1234);
	used = 0;
}

static void teardown(void)
{
	free(table);
}

/* Appends one neighbour message to buf; mac NULL: none. */
static void put(uint16_t type, const char *addr, const uint8_t *mac, uint16_t state)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf + used);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(h, sizeof(*nd));
	unsigned char raw[16];
	bool v6 = strchr(addr, ':') != NULL;

	h->nlmsg_type = type;
	nd->ndm_family = v6 ? AF_INET6 : AF_INET;
	nd->ndm_state = state;
	ck_assert_int_eq(inet_pton(nd->ndm_family, addr, raw), 1);
	mnl_attr_put(h, NDA_DST, v6 ? 16 : 4, raw);
	if (mac)
		mnl_attr_put(h, NDA_LLADDR, 6, mac);
	used += h->nlmsg_len;
}

static void flush(void)
{
	neigh_table_apply(table, buf, used);
	used = 0;
}

static struct host_id host_of(const char *addr)
{
	struct in6_addr a = strchr(addr, ':') ? unit_v6(addr) : unit_v4(addr);

	return neigh_table_host(table, &a);
}

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a }, mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

START_TEST(test_addresses_of_one_host)
{
	struct host_id a = host_id_of_mac(mac_a), h;
	char text[HOST_ID_STRLEN];

	put(RTM_NEWNEIGH, "192.168.1.10", mac_a, NUD_REACHABLE);
	put(RTM_NEWNEIGH, "192.168.1.11", mac_a, NUD_STALE);
	put(RTM_NEWNEIGH, "2001:db8:1::10", mac_a, NUD_DELAY);
	put(RTM_NEWNEIGH, "192.168.1.20", mac_b, NUD_PERMANENT);
	flush();
	h = host_of("192.168.1.10");
	ck_assert(host_id_equal(&h, &a));
	h = host_of("192.168.1.11");
	ck_assert(host_id_equal(&h, &a));
	h = host_of("2001:db8:1::10");
	ck_assert(host_id_equal(&h, &a));
	h = host_of("192.168.1.20");
	ck_assert(!host_id_equal(&h, &a));
	ck_assert_str_eq(host_id_format(&h, text), "02:00:00:00:00:0b");
	ck_assert_uint_eq(table->count, 4);
}
END_TEST

START_TEST(test_unknown_addresses_share_a_host)
{
	struct host_id x = host_of("192.168.1.50"), y = host_of("192.168.1.51"),
		       z = host_of("2001:db8:1::50");
	char text[HOST_ID_STRLEN];

	ck_assert(host_id_equal(&x, &y));
	ck_assert(!host_id_equal(&x, &z));
	ck_assert_str_eq(host_id_format(&x, text), "unresolved-ipv4");
	ck_assert_str_eq(host_id_format(&z, text), "unresolved-ipv6");
}
END_TEST

START_TEST(test_failed_incomplete_and_deleted_are_dropped)
{
	struct host_id h;

	put(RTM_NEWNEIGH, "192.168.1.10", mac_a, NUD_REACHABLE);
	put(RTM_NEWNEIGH, "192.168.1.11", mac_a, NUD_REACHABLE);
	put(RTM_NEWNEIGH, "192.168.1.12", mac_a, NUD_REACHABLE);
	put(RTM_NEWNEIGH, "192.168.1.13", NULL, NUD_REACHABLE);  /* no lladdr */
	flush();
	ck_assert_uint_eq(table->count, 3);
	put(RTM_NEWNEIGH, "192.168.1.10", mac_a, NUD_FAILED);
	put(RTM_NEWNEIGH, "192.168.1.11", NULL, NUD_INCOMPLETE);
	put(RTM_DELNEIGH, "192.168.1.12", mac_a, NUD_STALE);
	flush();
	ck_assert_uint_eq(table->count, 0);
	h = host_of("192.168.1.10");
	ck_assert_uint_eq(h.kind, HOST_UNRESOLVED_V4);
}
END_TEST

START_TEST(test_a_host_moves)
{
	struct host_id b = host_id_of_mac(mac_b), h;

	put(RTM_NEWNEIGH, "192.168.1.10", mac_a, NUD_REACHABLE);
	put(RTM_NEWNEIGH, "192.168.1.10", mac_b, NUD_REACHABLE);
	flush();
	h = host_of("192.168.1.10");
	ck_assert(host_id_equal(&h, &b));
	ck_assert_uint_eq(table->count, 1);
}
END_TEST

/* Deleting from a full run keeps every other entry findable. */
START_TEST(test_many_in_and_out)
{
	char addr[32];
	uint8_t mac[6] = { 0x02 };
	size_t n = NEIGH_TABLE_MAX;

	for (size_t i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "10.%zu.%zu.%zu", i >> 16 & 255, i >> 8 & 255, i & 255);
		memcpy(&mac[2], &i, 4);
		put(RTM_NEWNEIGH, addr, mac, NUD_REACHABLE);
		if (used > sizeof(buf) - 128)
			flush();
	}
	flush();
	ck_assert_uint_eq(table->count, n);
	/* full: the next is not kept, and counted */
	put(RTM_NEWNEIGH, "192.168.9.9", mac_a, NUD_REACHABLE);
	flush();
	ck_assert_uint_eq(table->count, n);
	ck_assert_uint_eq(table->not_kept, 1);
	for (size_t i = 0; i < n; i += 2) {
		snprintf(addr, sizeof(addr), "10.%zu.%zu.%zu", i >> 16 & 255, i >> 8 & 255, i & 255);
		put(RTM_DELNEIGH, addr, NULL, 0);
		if (used > sizeof(buf) - 128)
			flush();
	}
	flush();
	ck_assert_uint_eq(table->count, n / 2);
	for (size_t i = 0; i < n; i++) {
		struct host_id h;

		snprintf(addr, sizeof(addr), "10.%zu.%zu.%zu", i >> 16 & 255, i >> 8 & 255, i & 255);
		h = host_of(addr);
		if (i % 2) {
			uint32_t got;

			ck_assert_uint_eq(h.kind, HOST_MAC);
			memcpy(&got, &h.mac[2], 4);
			ck_assert_uint_eq(got, i);
		} else {
			ck_assert_uint_eq(h.kind, HOST_UNRESOLVED_V4);
		}
	}
}
END_TEST

START_TEST(test_hostile_messages)
{
	struct nlmsghdr *h;
	struct nlattr *attr;

	/* an attribute longer than its message */
	put(RTM_NEWNEIGH, "192.168.1.10", mac_a, NUD_REACHABLE);
	h = (struct nlmsghdr *)buf;
	attr = (struct nlattr *)((char *)mnl_nlmsg_get_payload(h) + NLMSG_ALIGN(sizeof(struct ndmsg)));
	attr->nla_len = 2000;
	flush();
	ck_assert_uint_eq(table->count, 0);
	/* a wrong address length for the family, a short lladdr */
	put(RTM_NEWNEIGH, "2001:db8::1", mac_a, NUD_REACHABLE);
	((struct ndmsg *)mnl_nlmsg_get_payload((struct nlmsghdr *)buf))->ndm_family = AF_INET;
	flush();
	ck_assert_uint_eq(table->count, 0);
	/* a message shorter than its ndmsg, a length past the datagram */
	h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = RTM_NEWNEIGH;
	h->nlmsg_len = NLMSG_HDRLEN + 4;
	neigh_table_apply(table, buf, h->nlmsg_len);
	h->nlmsg_len = 0xfffffff0u;
	neigh_table_apply(table, buf, 64);
	ck_assert_uint_eq(table->count, 0);
	/* a dump's end is reported */
	h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = NLMSG_DONE;
	mnl_nlmsg_put_extra_header(h, sizeof(int));
	ck_assert_uint_eq(neigh_table_apply(table, buf, h->nlmsg_len), 1);
}
END_TEST

START_TEST(test_hash_depends_on_seed)
{
	struct host_id a = host_id_of_mac(mac_a);

	ck_assert_uint_ne(host_id_hash(&a, 1), host_id_hash(&a, 2));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("neigh_table");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_addresses_of_one_host);
	tcase_add_test(tc, test_unknown_addresses_share_a_host);
	tcase_add_test(tc, test_failed_incomplete_and_deleted_are_dropped);
	tcase_add_test(tc, test_a_host_moves);
	tcase_add_test(tc, test_many_in_and_out);
	tcase_add_test(tc, test_hostile_messages);
	tcase_add_test(tc, test_hash_depends_on_seed);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
