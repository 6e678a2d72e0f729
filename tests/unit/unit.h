/* Shared by the Check suites. */
#ifndef PORTLEASED_UNIT_H
#define PORTLEASED_UNIT_H

#include <check.h>

#include "addr.h"

/* "a.b.c.d" as the daemon holds it (IPv4-mapped). */
struct in6_addr unit_v4(const char *text);
/* An IPv6 address literal. */
struct in6_addr unit_v6(const char *text);

struct evbuffer;
/* What a writer put in b, as a string the test owns (free it); b is left
 * empty. */
char *unit_take_text(struct evbuffer *b);

/* Runs the suite and returns the process exit status. */
int unit_run(Suite *suite);

#endif
