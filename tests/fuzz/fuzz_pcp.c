/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCP requests with their options, the responses built to them (which echo
 * parts of the request), and for portleasectl, responses. */
#include "fuzz.h"
#include "daemon/pmp/pcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcp_request req;
	struct pcp_response resp;
	struct pcp_answer ans = { .lifetime = 30, .epoch = 1 };
	uint8_t out[PCP_MAX_PACKET];

	ans.result = pcp_parse_request(data, size, &req);
	(void)pcp_build_response(out, sizeof(out), data, size, &req, &ans);
	(void)pcp_parse_response(data, size, &resp);
	return 0;
}
