/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SSDP M-SEARCH datagrams on UDP 1900. */
#include "fuzz.h"
#include "daemon/upnp/ssdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssdp_search s;

	(void)ssdp_parse_search((const char *)data, size, &s);
	return 0;
}
