/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Remote-peer filters of one mapping (PCP FILTER, RFC 6887 §13.3): only the
 * listed remote prefixes (and ports) may reach it. This module turns a
 * client's list, which may overlap, into the disjoint ranges that an
 * nftables interval set accepts. Pure: no I/O. */
#ifndef PORTLEASED_FILTER_H
#define PORTLEASED_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

/* Filters one mapping may carry; PCP asks for more get
 * EXCESSIVE_REMOTE_PEERS. */
#define FILTER_MAX 8
/* An any-port filter inside a wider one-port filter is cut around that
 * port: at most FILTER_MAX pieces for each of FILTER_MAX filters. */
#define FILTER_MAX_RANGES (FILTER_MAX * FILTER_MAX)

struct remote_filter {
	struct addr_prefix remote;  /* host bits zero */
	uint16_t port;              /* 0: every port */
};

struct remote_range {
	struct in6_addr first, last;
	uint16_t port_first, port_last;
};

/*
 * Drops the filters another one covers (duplicates too; the first stays),
 * in place. Returns how many remain. A filter list is a union, so this
 * changes nothing a filter admits.
 */
size_t filter_drop_covered(struct remote_filter *filters, size_t n);

/*
 * The disjoint ranges admitting exactly what the filters admit. The filters
 * must have been through filter_drop_covered. Writes at most
 * FILTER_MAX_RANGES to out; returns how many.
 */
size_t filter_ranges(const struct remote_filter *filters, size_t n, struct remote_range *out);

/* Whether a remote endpoint passes the filters (no filters: every one). */
bool filter_admits(const struct remote_filter *filters, size_t n, const struct in6_addr *addr,
		   uint16_t port);

#endif
