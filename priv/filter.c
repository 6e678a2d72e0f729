/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "priv/filter.h"

static bool covers(const struct remote_filter *outer, const struct remote_filter *inner)
{
	return addr_prefix_contains(&outer->remote, &inner->remote) &&
	       (outer->port == 0 || outer->port == inner->port);
}

size_t filter_drop_covered(struct remote_filter *filters, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		bool covered = false;

		/* Covered by one already kept, or by a later one that is not its
		 * duplicate (a duplicate keeps the first copy). */
		for (size_t j = 0; j < kept && !covered; j++)
			covered = covers(&filters[j], &filters[i]);
		for (size_t j = i + 1; j < n && !covered; j++)
			covered = covers(&filters[j], &filters[i]) && !covers(&filters[i], &filters[j]);
		if (!covered)
			filters[kept++] = filters[i];
	}
	return kept;
}

static int compare_ports(uint16_t a, uint16_t b)
{
	return (a > b) - (a < b);
}

/*
 * With no filter covering another, two can only overlap as a narrower
 * every-port filter inside a wider one-port filter. The narrower one then
 * takes every port but those: the wider ones admit them already.
 */
size_t filter_ranges(const struct remote_filter *filters, size_t n, struct remote_range *out)
{
	size_t count = 0;

	for (size_t i = 0; i < n && i < FILTER_MAX; i++) {
		const struct remote_filter *f = &filters[i];
		struct remote_range r = {
			.first = f->remote.net, .last = addr_prefix_last(&f->remote),
			.port_first = f->port, .port_last = f->port,
		};
		uint16_t cut[FILTER_MAX];
		size_t ncut = 0;
		uint32_t next;

		if (f->port != 0) {
			out[count++] = r;
			continue;
		}
		for (size_t j = 0; j < n && j < FILTER_MAX; j++) {
			if (j == i || filters[j].port == 0 ||
			    !addr_prefix_contains(&filters[j].remote, &f->remote))
				continue;
			/* Insertion sort: at most FILTER_MAX ports. */
			size_t k = ncut++;
			while (k > 0 && compare_ports(cut[k - 1], filters[j].port) > 0) {
				cut[k] = cut[k - 1];
				k--;
			}
			cut[k] = filters[j].port;
		}
		next = 0;
		for (size_t k = 0; k <= ncut; k++) {
			uint32_t end = k < ncut ? (uint32_t)cut[k] - 1 : 65535;

			if (k < ncut && cut[k] == 0)
				continue;
			if (next <= end) {
				r.port_first = (uint16_t)next;
				r.port_last = (uint16_t)end;
				out[count++] = r;
			}
			if (k < ncut)
				next = (uint32_t)cut[k] + 1;
		}
	}
	return count;
}

bool filter_admits(const struct remote_filter *filters, size_t n, const struct in6_addr *addr,
		   uint16_t port)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (addr_in_prefix(addr, &filters[i].remote) &&
		    (filters[i].port == 0 || filters[i].port == port))
			return true;
	return false;
}
