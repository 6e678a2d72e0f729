/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the Check suites. */
#ifndef PORTLEASED_UNIT_H
#define PORTLEASED_UNIT_H

#include <check.h>

#include "lib/addr.h"
#include "daemon/host.h"
#include "priv/own_addr.h"

/* "a.b.c.d" as the daemon holds it (IPv4-mapped). */
struct in6_addr unit_v4(const char *text);
/* An IPv6 address literal. */
struct in6_addr unit_v6(const char *text);
/* A host of its own for each IPv4 address text: its link-layer address
 * made of the address. */
struct host_id unit_host(const char *v4);

/* One address of the router's, addr/len on ifname (len in its family's
 * bits), appended to own. */
struct own_addresses;
void unit_own_address(struct own_addresses *own, const char *ifname, const char *addr,
		      unsigned len);

struct evbuffer;
/* What a writer put in b, as a string the test owns (free it); b is left
 * empty. */
char *unit_take_text(struct evbuffer *b);

/* Runs the suite and returns the process exit status. */
int unit_run(Suite *suite);

#endif
