/* Shared by the Check suites. */
#ifndef PORTLEASED_UNIT_H
#define PORTLEASED_UNIT_H

#include <check.h>

#include "addr.h"

/* "a.b.c.d" as the daemon holds it (IPv4-mapped). */
struct in6_addr unit_v4(const char *text);

/* Runs the suite and returns the process exit status. */
int unit_run(Suite *suite);

#endif
