/* nf_tables notifications, as the kernel sends them (bounds-checked all the
 * same). */
#include "fuzz.h"
#include "forwards.h"
#include "nft_watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)nft_watch_concerns(data, size, "portleased", "", 4242);
	(void)nft_watch_concerns(data, size, "fw4", "forward", 4242);
	(void)forwards_changed_by_notice(data, size, 4242);
	return 0;
}
