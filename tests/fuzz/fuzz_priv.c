/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the privileged helper reads from the unprivileged half (priv/priv.h):
 * any bytes, as a compromised portleased could send them. The input fills
 * a request from its start, so that the field checks and the policy check
 * see arbitrary contents at the one length that passes; and a batch, at
 * the length its count asks for. */
#include "fuzz.h"
#include "priv/priv.h"

static const char conf[] =
	"external_interface = \"wan0\";\nlan_interfaces = [ \"br-lan\" ];\n"
	"static_mappings = ( { protocol = \"tcp\"; external_port = 80; "
	"internal_address = \"192.168.1.20\"; internal_port = 8080; } );\n"
	"policy = ( { action = \"allow\"; clients = \"192.168.1.0/24\"; "
	"internal_ports = \"1024-65535\"; third_party = true; } );\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	/* the router: 192.168.1.1/24 on br-lan */
	static struct own_addresses own = {
		.addrs = { { .ifname = "br-lan",
			     .addr = { .s6_addr = { [10] = 0xff, [11] = 0xff, 192, 168, 1, 1 } },
			     .net = { .net = { .s6_addr = { [10] = 0xff, [11] = 0xff, 192, 168, 1 } },
				      .len = 120 } } },
		.count = 1,
	};
	static bool loaded;
	static struct priv_request r;
	static struct priv_batch b;
	struct in_addr ext = { htonl(0xcb007101) };
	const char *why;
	char err[CONFIG_ERROR_MAX];

	if (!loaded) {
		if (config_load_string(conf, "fuzz.conf", &cfg, err, sizeof(err)) < 0)
			abort();
		loaded = true;
	}
	(void)priv_request_check(data, size, &why);
	memset(&r, 0, sizeof(r));
	memcpy(&r, data, size < sizeof(r) ? size : sizeof(r));
	if (priv_request_check(&r, sizeof(r), &why) == 0)
		(void)priv_authorize(&cfg, &own, &r, &ext, 1, &why);

	memset(&b, 0, sizeof(b));
	memcpy(&b, data, size < sizeof(b) ? size : sizeof(b));
	b.op = PRIV_BATCH;
	if (b.count <= PRIV_BATCH_MAX &&
	    priv_request_check(&b, PRIV_BATCH_SIZE(b.count), &why) == 0)
		for (size_t i = 0; i < b.count; i++)
			if (priv_batch_item_check(&b.items[i], &why) == 0)
				(void)priv_authorize_item(&cfg, &own, &b.items[i], &why);
	return 0;
}
