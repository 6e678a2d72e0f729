/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/pmp/pcp_answer.h"

#include <string.h>

#include "lib/log.h"
#include "daemon/pmp/pcp.h"

_Static_assert(PCP_MAX_FILTERS <= FILTER_MAX, "a lease holds every filter PCP accepts");

static enum pcp_result map_status_to_pcp(enum map_status s)
{
	switch (s) {
	case MAP_OK: return PCP_SUCCESS;
	case MAP_DENIED:
	case MAP_NOT_A_HOST:
	case MAP_NOT_OWNER:
	case MAP_UNSUPPORTED: return PCP_NOT_AUTHORIZED;
	case MAP_NO_EXTERNAL_ADDRESS: return PCP_NETWORK_FAILURE;
	case MAP_PORT_UNAVAILABLE:
	case MAP_ROUTER_SERVES:
	case MAP_FORWARDED_ELSEWHERE:
	case MAP_CONFLICT: return PCP_CANNOT_PROVIDE_EXTERNAL;
	case MAP_QUOTA_EXCEEDED:
	case MAP_RATE_LIMITED: return PCP_USER_EX_QUOTA;
	/* Short-lived: the client may retry once it has sent traffic. */
	case MAP_NO_FLOW: return PCP_NO_RESOURCES;
	case MAP_NO_FREE_PORT:
	case MAP_TABLE_FULL:
	case MAP_BACKEND_FAILED: return PCP_NO_RESOURCES;
	}
	return PCP_NO_RESOURCES;
}

/* ::ffff:0.0.0.0 and :: both mean "no preference" for the external address. */
static bool is_unspecified(const struct in6_addr *a)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;
	struct in6_addr any4 = addr_from_v4((struct in_addr){ 0 });

	return memcmp(a, &any6, sizeof(*a)) == 0 || memcmp(a, &any4, sizeof(*a)) == 0;
}

/* THIRD_PARTY (RFC 6887 §13.1) must name another host of the requester's
 * LAN link; whether the policy allows it is the mapper's question. */
static enum pcp_result check_third_party(const struct pcp_request *rq,
					 const struct in6_addr *source, const struct addr_prefix *lan)
{
	if (!rq->has_third_party)
		return PCP_SUCCESS;
	if (memcmp(&rq->third_party_addr, source, sizeof(*source)) == 0)
		return PCP_MALFORMED_OPTION;
	if (!addr_in_prefix(&rq->third_party_addr, lan))
		return PCP_NOT_AUTHORIZED;
	return PCP_SUCCESS;
}

/*
 * RFC 6887 §13.3: a filter's remote prefix must be of the mapping's address
 * family; a prefix length of 0 removes all filters, whatever else the
 * request lists. Host bits the client left set are cleared.
 */
static bool filters_from_request(const struct pcp_request *rq, const struct in6_addr *internal,
				 struct remote_filter *out, size_t *count)
{
	*count = 0;
	for (size_t i = 0; i < rq->filter_count; i++) {
		const struct pcp_filter *f = &rq->filters[i];

		if (f->prefix_len == 0) {
			*count = 0;
			return true;
		}
		if (addr_is_v4(&f->remote_addr) != addr_is_v4(internal))
			return false;
		out[*count] = (struct remote_filter){
			.remote = { .net = f->remote_addr, .len = f->prefix_len },
			.port = f->remote_port,
		};
		addr_mask(&out[*count].remote.net, f->prefix_len);
		(*count)++;
	}
	return true;
}

static void delete_mappings(struct mapper *mapper, const struct in6_addr *source,
			    const struct in6_addr *internal, const struct pcp_request *rq,
			    struct pcp_answer *ans)
{
	struct unmap_request ur = {
		.client = *source, .internal_addr = *internal, .proto = rq->protocol,
		.internal_port = rq->internal_port, .nonce = rq->nonce, .origin = LEASE_ORIGIN_PCP,
	};

	if (rq->internal_port == 0)
		mapper_unmap_all(mapper, &ur);
	else if (mapper_unmap(mapper, &ur) != MAP_OK)
		ans->result = PCP_NOT_AUTHORIZED;
	ans->lifetime = ans->result == PCP_SUCCESS ? 0 : pcp_error_lifetime(ans->result);
}

/*
 * MAP, RFC 6887 §11 (IPv4: a port forward from the external address; IPv6:
 * a firewall pinhole to the internal address, RFC 6887 §11.1's "no NAT"):
 *   (THIRD_PARTY already checked: check_third_party)
 *   FILTER of the other address family             -> MALFORMED_OPTION
 *   protocol other than TCP/UDP (or 0 to create)  -> UNSUPP_PROTOCOL
 *   lifetime 0                                     -> delete: one port, or
 *                                                    all with port 0; the
 *                                                    nonce must match
 *   internal port 0 with a lifetime               -> MALFORMED_REQUEST
 *   another external address asked, PREFER_FAILURE -> CANNOT_PROVIDE_EXTERNAL
 *   otherwise                                      -> the mapper decides
 */
static void answer_map(struct mapper *mapper, const struct in6_addr *source,
		       const struct pcp_request *rq, struct pcp_answer *ans, bool *audited)
{
	const struct in6_addr *internal = rq->has_third_party ? &rq->third_party_addr : source;
	struct remote_filter filters[PCP_MAX_FILTERS];
	size_t nfilters;
	struct in_addr external;
	struct map_request mr;
	struct map_result res;

	if (!filters_from_request(rq, internal, filters, &nfilters)) {
		ans->result = PCP_MALFORMED_OPTION;
		return;
	}
	if (rq->protocol != IPPROTO_TCP && rq->protocol != IPPROTO_UDP &&
	    !(rq->protocol == 0 && rq->lifetime == 0)) {
		ans->result = PCP_UNSUPP_PROTOCOL;
		return;
	}
	if (rq->lifetime == 0) {
		/* Its one refusal (another's mapping) the mapper audits. */
		delete_mappings(mapper, source, internal, rq, ans);
		*audited = true;
		return;
	}
	if (rq->internal_port == 0) {
		ans->result = PCP_MALFORMED_REQUEST;
		return;
	}
	/* An IPv6 mapping is a pinhole: its external address is the
	 * internal one. */
	struct in6_addr ours = *internal;
	if (addr_is_v4(internal)) {
		if (!mapper_told_address(mapper, &external)) {
			ans->result = PCP_NETWORK_FAILURE;
			return;
		}
		ours = addr_from_v4(external);
	}
	if (rq->prefer_failure && !is_unspecified(&rq->suggested_external_addr) &&
	    memcmp(&rq->suggested_external_addr, &ours, sizeof(ours)) != 0) {
		ans->result = PCP_CANNOT_PROVIDE_EXTERNAL;
		return;
	}

	mr = (struct map_request){
		.proto = rq->protocol,
		.client = *source,
		.internal_addr = *internal,
		.internal_port = rq->internal_port,
		.suggested_external_port = rq->suggested_external_port,
		.lifetime = rq->lifetime,
		.origin = LEASE_ORIGIN_PCP,
		.nonce = rq->nonce,
		.exact_port = rq->prefer_failure,
		.description = rq->has_description ? rq->description : NULL,
		.replace_filters = true,
		.filters = filters,
		.nfilters = nfilters,
	};
	res = mapper_map(mapper, &mr);
	*audited = true;
	ans->result = map_status_to_pcp(res.status);
	if (res.status == MAP_OK) {
		ans->lifetime = res.lifetime;
		ans->assigned_external_port = res.external_port;
		ans->assigned_external_addr = res.has_told_address ? addr_from_v4(res.told_address) :
								      ours;
	}
}

/*
 * PEER, RFC 6887 §12 (mapper_peer): a flow the router tracks already is
 * reported where its source NAT put it; otherwise a PEER mapping is made,
 * so that the host's first packet leaves from the port it is told.
 *   (THIRD_PARTY already checked: check_third_party)
 *   protocol other than TCP/UDP                -> UNSUPP_PROTOCOL
 *   a port 0, or a remote of the other family  -> MALFORMED_REQUEST
 *   lifetime 0                                  -> the PEER mapping with that
 *                                                  remote deleted (SUCCESS
 *                                                  also if there was none)
 *   the internal endpoint has a MAP mapping,
 *   and no such flow                            -> NO_RESOURCES (30 s)
 */
static void answer_peer(struct mapper *mapper, const struct in6_addr *source,
			const struct pcp_request *rq, struct pcp_answer *ans, bool *audited)
{
	const struct in6_addr *internal = rq->has_third_party ? &rq->third_party_addr : source;
	struct peer_request pr;
	struct map_result res;

	if (rq->protocol != IPPROTO_TCP && rq->protocol != IPPROTO_UDP) {
		ans->result = PCP_UNSUPP_PROTOCOL;
		return;
	}
	if (rq->internal_port == 0 || rq->remote_port == 0 ||
	    addr_is_v4(&rq->remote_addr) != addr_is_v4(internal)) {
		ans->result = PCP_MALFORMED_REQUEST;
		return;
	}
	pr = (struct peer_request){
		.proto = rq->protocol, .client = *source, .internal_addr = *internal,
		.internal_port = rq->internal_port, .remote_addr = rq->remote_addr,
		.remote_port = rq->remote_port,
		.suggested_external_port = rq->suggested_external_port,
		.lifetime = rq->lifetime, .nonce = rq->nonce,
	};
	res = mapper_peer(mapper, &pr, &ans->assigned_external_addr);
	*audited = true;
	ans->result = map_status_to_pcp(res.status);
	if (res.status == MAP_OK) {
		ans->lifetime = res.lifetime;
		ans->assigned_external_port = res.external_port;
	} else {
		ans->assigned_external_addr = rq->suggested_external_addr;
	}
}

size_t pcp_answer(struct mapper *mapper, const struct in6_addr *source,
		  const struct addr_prefix *lan, const uint8_t *req, size_t len, uint8_t *resp,
		  size_t cap)
{
	struct pcp_request rq;
	struct pcp_answer ans = { .epoch = mapper_epoch(mapper) };
	bool audited = false;  /* the mapper logged its decision */

	ans.result = pcp_parse_request(req, len, &rq);
	if (ans.result == PCP_DROP)
		return 0;
	if (ans.result == PCP_SUCCESS && memcmp(&rq.client_addr, source, sizeof(*source)) != 0)
		ans.result = PCP_ADDRESS_MISMATCH;  /* a NAT between client and us */

	if (ans.result == PCP_SUCCESS) {
		switch (rq.opcode) {
		case PCP_OP_ANNOUNCE:
			break;
		case PCP_OP_MAP:
		case PCP_OP_PEER:
			/* Errors echo the suggestion (RFC 6887 §11.4, §12.3). */
			ans.assigned_external_port = rq.suggested_external_port;
			ans.assigned_external_addr = rq.suggested_external_addr;
			ans.result = check_third_party(&rq, source, lan);
			if (ans.result != PCP_SUCCESS)
				break;
			if (rq.opcode == PCP_OP_MAP)
				answer_map(mapper, source, &rq, &ans, &audited);
			else
				answer_peer(mapper, source, &rq, &ans, &audited);
			break;
		default:
			ans.result = PCP_UNSUPP_OPCODE;
			break;
		}
	}
	if (ans.result != PCP_SUCCESS) {
		char text[ADDR_STRLEN];
		ans.lifetime = pcp_error_lifetime(ans.result);
		/* Malformed and unauthorized ones too, as the mapper's
		 * refusals are: no host floods the log. */
		if (!audited && mapper_log_admit(mapper, source))
			log_info("pcp: %s from %s (opcode %u)", pcp_result_name(ans.result),
				 addr_format(source, text), rq.opcode);
	}
	return pcp_build_response(resp, cap, req, len, &rq, &ans);
}
