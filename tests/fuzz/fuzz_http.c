/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP request heads to the UPnP and metrics servers, and the Host and
 * CALLBACK headers they check. */
#include "fuzz.h"
#include "daemon/upnp/gena.h"
#include "daemon/upnp/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	struct gena_callback cb;
	char *s;

	if (http_parse_head((const char *)data, size, &req) == 200) {
		(void)http_host_is(req.host, "192.168.1.1", 5000);
		(void)gena_parse_callback(req.callback, &cb);
	}
	s = fuzz_string(data, size);
	(void)gena_parse_callback(s, &cb);
	(void)http_host_is(s, "fe80::1", 5000);
	free(s);
	return 0;
}
