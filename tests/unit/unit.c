/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "unit.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct in6_addr unit_v6(const char *text)
{
	struct in6_addr a;

	ck_assert_int_eq(inet_pton(AF_INET6, text, &a), 1);
	return a;
}

struct in6_addr unit_v4(const char *text)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, text, &a), 1);
	return addr_from_v4(a);
}

struct host_id unit_host(const char *v4)
{
	struct in6_addr a = unit_v4(v4);
	uint8_t mac[6] = { 0x02, 0x00 };

	memcpy(&mac[2], &a.s6_addr[12], 4);
	return host_id_of_mac(mac);
}

void unit_own_address(struct own_addresses *own, const char *ifname, const char *addr,
		      unsigned len)
{
	struct if_address *a = &own->addrs[own->count++];
	bool v6 = strchr(addr, ':') != NULL;

	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	a->addr = v6 ? unit_v6(addr) : unit_v4(addr);
	a->net.net = a->addr;
	a->net.len = (uint8_t)(v6 ? len : len + 96);
	addr_mask(&a->net.net, a->net.len);
}

char *unit_take_text(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *text = calloc(1, n + 1);

	ck_assert_ptr_nonnull(text);
	evbuffer_remove(b, text, n);
	return text;
}

int unit_run(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
