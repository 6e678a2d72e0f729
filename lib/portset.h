/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A set of ports (1..65535) with a free-port search in bounded time: a
 * 65,536-bit map plus a 1,024-bit summary of which 64-port words are full,
 * so finding the next free port reads at most a few dozen words, never the
 * whole port space. */
#ifndef PORTLEASED_PORTSET_H
#define PORTLEASED_PORTSET_H

#include <stdbool.h>
#include <stdint.h>

#define PORTSET_WORDS (65536 / 64)

struct portset {
	uint64_t used[PORTSET_WORDS];
	uint64_t full[PORTSET_WORDS / 64];  /* bit w set: used[w] is all ones */
};

void portset_init(struct portset *ps);
bool portset_test(const struct portset *ps, uint16_t port);
void portset_add(struct portset *ps, uint16_t port);
void portset_remove(struct portset *ps, uint16_t port);
/* Lowest port in [lo, hi] not in the set, or -1 if every one is. */
int portset_find_free(const struct portset *ps, uint16_t lo, uint16_t hi);

#endif
