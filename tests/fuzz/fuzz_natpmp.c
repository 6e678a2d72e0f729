/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NAT-PMP requests, as a LAN host sends them to UDP 5351. */
#include "fuzz.h"
#include "daemon/pmp/natpmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct natpmp_request req;

	(void)natpmp_parse_request(data, size, &req);
	return 0;
}
