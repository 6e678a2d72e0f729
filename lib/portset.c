/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/portset.h"

#include <string.h>

#define SUMMARY_WORDS (PORTSET_WORDS / 64)

void portset_init(struct portset *ps)
{
	memset(ps, 0, sizeof(*ps));
	/* Port 0 is never a valid mapping. */
	portset_add(ps, 0);
}

bool portset_test(const struct portset *ps, uint16_t port)
{
	return ps->used[port >> 6] & (UINT64_C(1) << (port & 63));
}

void portset_add(struct portset *ps, uint16_t port)
{
	unsigned w = port >> 6;

	ps->used[w] |= UINT64_C(1) << (port & 63);
	if (ps->used[w] == UINT64_MAX)
		ps->full[w >> 6] |= UINT64_C(1) << (w & 63);
}

void portset_remove(struct portset *ps, uint16_t port)
{
	unsigned w = port >> 6;

	ps->used[w] &= ~(UINT64_C(1) << (port & 63));
	ps->full[w >> 6] &= ~(UINT64_C(1) << (w & 63));
}

/* First word index >= w whose summary bit says it has a free port, or
 * PORTSET_WORDS if none. */
static unsigned next_word_with_free(const struct portset *ps, unsigned w)
{
	unsigned s = w >> 6;
	uint64_t not_full = ~ps->full[s] & (UINT64_MAX << (w & 63));

	while (not_full == 0) {
		if (++s == SUMMARY_WORDS)
			return PORTSET_WORDS;
		not_full = ~ps->full[s];
	}
	return s * 64 + (unsigned)__builtin_ctzll(not_full);
}

int portset_find_free(const struct portset *ps, uint16_t lo, uint16_t hi)
{
	unsigned w = lo >> 6;
	uint64_t free_bits;

	if (lo > hi)
		return -1;
	free_bits = ~ps->used[w] & (UINT64_MAX << (lo & 63));
	if (free_bits == 0) {
		if (w + 1 >= PORTSET_WORDS)
			return -1;
		w = next_word_with_free(ps, w + 1);
		if (w >= PORTSET_WORDS)
			return -1;
		free_bits = ~ps->used[w];
	}
	unsigned port = w * 64 + (unsigned)__builtin_ctzll(free_bits);
	return port <= hi ? (int)port : -1;
}
