/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Netlink notices, as the kernel sends them (bounds-checked all the same):
 * nf_tables' and the neighbour table's. */
#include "fuzz.h"
#include "priv/forwards.h"
#include "daemon/neigh_table.h"
#include "daemon/nft_watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)nft_watch_concerns(data, size, "portleased", "", 4242);
	(void)nft_watch_concerns(data, size, "fw4", "forward", 4242);
	(void)forwards_changed_by_notice(data, size, 4242);
	{
		static struct neigh_table table;
		static bool ready;

		/* Each input starts from an empty table: only a used one is wiped. */
		if (!ready || table.count)
			neigh_table_init(&table, 7);
		ready = true;
		(void)neigh_table_apply(&table, data, size);
	}
	return 0;
}
