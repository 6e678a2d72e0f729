/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/pmp/natpmp_answer.h"

#include "daemon/pmp/natpmp.h"

static uint8_t map_result_to_natpmp(enum map_status s)
{
	switch (s) {
	case MAP_OK: return NATPMP_SUCCESS;
	case MAP_DENIED:
	case MAP_NOT_A_HOST: return NATPMP_NOT_AUTHORIZED;
	case MAP_UNSUPPORTED:
	case MAP_NOT_OWNER: return NATPMP_NOT_AUTHORIZED;
	case MAP_NO_EXTERNAL_ADDRESS: return NATPMP_NETWORK_FAILURE;
	case MAP_NO_FREE_PORT:
	case MAP_PORT_UNAVAILABLE:
	case MAP_ROUTER_SERVES:
	case MAP_FORWARDED_ELSEWHERE:
	case MAP_CONFLICT:
	case MAP_TABLE_FULL:
	case MAP_QUOTA_EXCEEDED:
	case MAP_RATE_LIMITED:
	case MAP_NO_FLOW:
	case MAP_BACKEND_FAILED: return NATPMP_OUT_OF_RESOURCES;
	}
	return NATPMP_OUT_OF_RESOURCES;
}

/*
 * Map requests, RFC 6886 §3.3 and §3.4:
 *   lifetime > 0, internal port > 0   create or refresh; the suggested
 *                                      external port is only a hint
 *   lifetime 0,   internal port > 0   delete this client's mapping of that
 *                                      port (success even if there is none)
 *   lifetime 0,   internal port 0     delete all of the client's mappings of
 *                                      this protocol
 *   lifetime > 0, internal port 0     meaningless: NOT_AUTHORIZED
 * Deletions answer external port 0 and lifetime 0.
 */
static size_t answer_map(struct mapper *mapper, const struct in6_addr *client,
			 const struct natpmp_request *rq, uint8_t *resp, size_t cap)
{
	uint8_t proto = rq->opcode == NATPMP_OP_MAP_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	uint32_t epoch = mapper_epoch(mapper);
	struct map_request mr;
	struct map_result res;

	if (rq->lifetime == 0) {
		struct unmap_request ur = { .client = *client, .internal_addr = *client,
					    .proto = proto, .internal_port = rq->internal_port };
		enum natpmp_result result = NATPMP_SUCCESS;
		if (rq->internal_port == 0)
			mapper_unmap_all(mapper, &ur);
		else if (mapper_unmap(mapper, &ur) != MAP_OK)
			result = NATPMP_NOT_AUTHORIZED;
		return natpmp_build_map(resp, cap, rq->opcode, result, epoch, rq->internal_port, 0, 0);
	}
	if (rq->internal_port == 0)
		return natpmp_build_map(resp, cap, rq->opcode, NATPMP_NOT_AUTHORIZED, epoch, 0, 0, 0);

	mr = (struct map_request){
		.proto = proto,
		.client = *client,
		.internal_addr = *client,
		.internal_port = rq->internal_port,
		.suggested_external_port = rq->suggested_external_port,
		.lifetime = rq->lifetime,
		.origin = LEASE_ORIGIN_NATPMP,
	};
	res = mapper_map(mapper, &mr);
	return natpmp_build_map(resp, cap, rq->opcode, map_result_to_natpmp(res.status), epoch,
				rq->internal_port, res.status == MAP_OK ? res.external_port : 0,
				res.status == MAP_OK ? res.lifetime : 0);
}

size_t natpmp_answer(struct mapper *mapper, const struct in6_addr *client, const uint8_t *req,
		     size_t len, uint8_t *resp, size_t cap)
{
	struct natpmp_request rq;
	struct in_addr external = { 0 };
	bool known;

	switch (natpmp_parse_request(req, len, &rq)) {
	case NATPMP_PARSE_IGNORE:
		return 0;
	case NATPMP_PARSE_UNSUPP_VERSION:
		return natpmp_build_error(resp, cap, rq.opcode, NATPMP_UNSUPP_VERSION,
					  mapper_epoch(mapper));
	case NATPMP_PARSE_UNSUPP_OPCODE:
		return natpmp_build_error(resp, cap, rq.opcode, NATPMP_UNSUPP_OPCODE,
					  mapper_epoch(mapper));
	case NATPMP_PARSE_OK:
		break;
	}
	if (rq.opcode != NATPMP_OP_EXTERNAL_ADDRESS)
		return answer_map(mapper, client, &rq, resp, cap);

	/* Behind another NAT, the upstream's: what the internet reaches. */
	known = mapper_told_address(mapper, &external);
	return natpmp_build_external_address(resp, cap,
					     known ? NATPMP_SUCCESS : NATPMP_NETWORK_FAILURE,
					     mapper_epoch(mapper),
					     known ? external : (struct in_addr){ 0 });
}
