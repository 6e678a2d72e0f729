/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SOAP bodies of UPnP control requests (expat, no DTDs). */
#include "fuzz.h"
#include "daemon/upnp/soap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct soap_call call;

	if (soap_parse((const char *)data, size, &call) == SOAP_OK)
		(void)soap_action_matches(&call, "urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping");
	return 0;
}
