/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UPnP IGD control: one SOAP action from a LAN host, carried out through
 * the mapper like any NAT-PMP or PCP request, answered with a SOAP response
 * or a UPnPError fault. No sockets: the HTTP side hands it a parsed call. */
#ifndef PORTLEASED_IGD_H
#define PORTLEASED_IGD_H

#include <event2/buffer.h>

#include "lib/addr.h"
#include "config/config.h"
#include "daemon/upnp/igd_desc.h"
#include "daemon/mapper.h"
#include "daemon/upnp/soap.h"

/* Where a request came from. */
struct igd_context {
	struct in6_addr client;  /* the host that asked */
	struct in6_addr local;   /* the router's address it asked on */
	struct addr_prefix lan;  /* that link's on-link prefix */
};

struct igd {
	const struct config *cfg;
	struct mapper *mapper;
	unsigned version;  /* IGD:1 or IGD:2 */
};

/*
 * Runs call against service s and writes the SOAP response, or a fault,
 * into out. Returns the HTTP status: 200, or 500 with a fault.
 *
 * Secure mode, always: a mapping's internal client must be on the asking
 * host's link and not the router; a host other than the one asking only if
 * the policy allows it third-party mappings. Only a mapping's owner may
 * change or delete it.
 */
int igd_control(const struct igd *igd, const struct upnp_service *s,
		const struct igd_context *ctx, const struct soap_call *call, struct evbuffer *out);

/* An AddPortMapping or AddAnyPortMapping whose mapping waits for its twin
 * upstream (behind another NAT): its answer is made once the twin is
 * settled, so that the client learns whether the internet reaches it. */
struct igd_chain_wait {
	uint8_t proto;
	uint16_t port;  /* our external port: asked for, or (AddAnyPortMapping) given */
	bool any_port;
	char service_type[SOAP_TYPE_MAX + 1];
	char action[SOAP_NAME_MAX + 1];
};
/* Whether the call igd_control just ran waits for the upstream (*w filled);
 * its answer is then to be made by igd_chained_answer. */
bool igd_take_chain_wait(const struct igd *igd, const struct soap_call *call,
			 struct igd_chain_wait *w);
/* The waiting call's answer now: granted (200), its mapping refused or gone
 * (UPnP 501), or the twin at another port upstream, which the client did
 * not ask for (718 ConflictInMappingEntry, AddAnyPortMapping 728): that
 * mapping is taken back. */
int igd_chained_answer(const struct igd *igd, const struct igd_chain_wait *w,
		       struct evbuffer *out);

/* The IGD's PortMappingNumberOfEntries: the IPv4 port mappings. */
unsigned igd_mapping_count(const struct igd *igd);

#define IGD_EVENTED_MAX 8
#define IGD_VALUE_MAX 32

/* The current values of a service's evented state variables (those its
 * SCPD marks sendEvents="yes"), for GENA. */
struct igd_state {
	size_t n;
	struct {
		const char *name;
		char value[IGD_VALUE_MAX];
	} vars[IGD_EVENTED_MAX];
};

void igd_evented_state(const struct igd *igd, const struct upnp_service *s,
		       struct igd_state *out);

#endif
