/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A DHCP client's lease file, whose option 158 the carrier's DHCP server
 * (or anyone answering on the WAN link) filled. */
#include "fuzz.h"
#include "daemon/dhcp_option.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in_addr a;

	(void)dhcp_pcp_server_from_leases((const char *)data, size, &a);
	(void)dhcp_pcp_server_decode(data, size, &a);
	return 0;
}
