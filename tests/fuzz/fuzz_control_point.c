/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What an upstream IGD sends a control point: search answers, the
 * description, HTTP responses and SOAP answers. The first byte picks the
 * parser. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/upnp/control_point.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_search_answer s;
	struct cp_service svc;
	struct cp_http_response r;
	struct cp_answer a;
	struct cp_url from = { .port = 5000, .path = "/rootDesc.xml" };
	char *copy;

	if (size < 1)
		return 0;
	from.addr.s_addr = htonl(0x64400001);  /* 100.64.0.1 */
	/* A copy: the HTTP parser decodes chunks in place. */
	if (!(copy = malloc(size)))
		return 0;
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		(void)cp_parse_search_answer(copy, size - 1, &s);
		break;
	case 1:
		(void)cp_find_service(copy, size - 1, &from, &svc);
		break;
	case 2:
		if (cp_parse_http_response(copy, size - 1, data[0] & 4, &r) == CP_HTTP_COMPLETE)
			(void)cp_call_result(&r, &a);
		break;
	default:
		(void)cp_parse_url(copy, size - 1, &from);
		break;
	}
	free(copy);
	return 0;
}
