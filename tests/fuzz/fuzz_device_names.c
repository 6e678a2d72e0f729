/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DHCP servers' lease files, whose host names the LAN's hosts chose. */
#include "fuzz.h"
#include "daemon/device_names.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct device_names *t = device_names_new();
	struct in6_addr any = IN6ADDR_ANY_INIT;
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };

	if (!t)
		return 0;
	device_names_parse(t, (const char *)data, size);
	device_names_finish(t);
	/* What is kept is only ever a host name. */
	const char *name = device_names_by_mac(t, mac);
	if (name && !device_name_valid(name))
		abort();
	name = device_names_by_addr(t, &any);
	if (name && !device_name_valid(name))
		abort();
	device_names_free(t);
	return 0;
}
