/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upnp/igd_desc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ACTION(name, since, args) { name, since, args, N(args) }
#define NO_ARGS NULL, 0

static const char *const device_names[IGD_DEVICES] = {
	"InternetGatewayDevice", "WANDevice", "WANConnectionDevice",
};

/* WANIPConnection (v1 and v2) */

static const struct upnp_argument connection_type_args[] = {
	{ "NewConnectionType", ARG_OUT, "ConnectionType" },
	{ "NewPossibleConnectionTypes", ARG_OUT, "PossibleConnectionTypes" },
};
static const struct upnp_argument status_args[] = {
	{ "NewConnectionStatus", ARG_OUT, "ConnectionStatus" },
	{ "NewLastConnectionError", ARG_OUT, "LastConnectionError" },
	{ "NewUptime", ARG_OUT, "Uptime" },
};
static const struct upnp_argument nat_rsip_args[] = {
	{ "NewRSIPAvailable", ARG_OUT, "RSIPAvailable" },
	{ "NewNATEnabled", ARG_OUT, "NATEnabled" },
};
static const struct upnp_argument generic_entry_args[] = {
	{ "NewPortMappingIndex", ARG_IN, "PortMappingNumberOfEntries" },
	{ "NewRemoteHost", ARG_OUT, "RemoteHost" },
	{ "NewExternalPort", ARG_OUT, "ExternalPort" },
	{ "NewProtocol", ARG_OUT, "PortMappingProtocol" },
	{ "NewInternalPort", ARG_OUT, "InternalPort" },
	{ "NewInternalClient", ARG_OUT, "InternalClient" },
	{ "NewEnabled", ARG_OUT, "PortMappingEnabled" },
	{ "NewPortMappingDescription", ARG_OUT, "PortMappingDescription" },
	{ "NewLeaseDuration", ARG_OUT, "PortMappingLeaseDuration" },
};
static const struct upnp_argument specific_entry_args[] = {
	{ "NewRemoteHost", ARG_IN, "RemoteHost" },
	{ "NewExternalPort", ARG_IN, "ExternalPort" },
	{ "NewProtocol", ARG_IN, "PortMappingProtocol" },
	{ "NewInternalPort", ARG_OUT, "InternalPort" },
	{ "NewInternalClient", ARG_OUT, "InternalClient" },
	{ "NewEnabled", ARG_OUT, "PortMappingEnabled" },
	{ "NewPortMappingDescription", ARG_OUT, "PortMappingDescription" },
	{ "NewLeaseDuration", ARG_OUT, "PortMappingLeaseDuration" },
};
/* AddPortMapping's arguments, which AddAnyPortMapping shares. */
#define ADD_MAPPING_ARGS                                                         \
	{ "NewRemoteHost", ARG_IN, "RemoteHost" },                               \
	{ "NewExternalPort", ARG_IN, "ExternalPort" },                           \
	{ "NewProtocol", ARG_IN, "PortMappingProtocol" },                        \
	{ "NewInternalPort", ARG_IN, "InternalPort" },                           \
	{ "NewInternalClient", ARG_IN, "InternalClient" },                       \
	{ "NewEnabled", ARG_IN, "PortMappingEnabled" },                          \
	{ "NewPortMappingDescription", ARG_IN, "PortMappingDescription" },       \
	{ "NewLeaseDuration", ARG_IN, "PortMappingLeaseDuration" }
static const struct upnp_argument add_args[] = { ADD_MAPPING_ARGS };
static const struct upnp_argument add_any_args[] = {
	ADD_MAPPING_ARGS,
	{ "NewReservedPort", ARG_OUT, "ExternalPort" },
};
static const struct upnp_argument delete_args[] = {
	{ "NewRemoteHost", ARG_IN, "RemoteHost" },
	{ "NewExternalPort", ARG_IN, "ExternalPort" },
	{ "NewProtocol", ARG_IN, "PortMappingProtocol" },
};
static const struct upnp_argument delete_range_args[] = {
	{ "NewStartPort", ARG_IN, "ExternalPort" },
	{ "NewEndPort", ARG_IN, "ExternalPort" },
	{ "NewProtocol", ARG_IN, "PortMappingProtocol" },
	{ "NewManage", ARG_IN, "A_ARG_TYPE_Manage" },
};
static const struct upnp_argument external_address_args[] = {
	{ "NewExternalIPAddress", ARG_OUT, "ExternalIPAddress" },
};
static const struct upnp_argument list_args[] = {
	{ "NewStartPort", ARG_IN, "ExternalPort" },
	{ "NewEndPort", ARG_IN, "ExternalPort" },
	{ "NewProtocol", ARG_IN, "PortMappingProtocol" },
	{ "NewManage", ARG_IN, "A_ARG_TYPE_Manage" },
	{ "NewNumberOfPorts", ARG_IN, "PortMappingNumberOfEntries" },
	{ "NewPortListing", ARG_OUT, "A_ARG_TYPE_PortListing" },
};

static const struct upnp_action ip_connection_actions[] = {
	ACTION("GetConnectionTypeInfo", 1, connection_type_args),
	ACTION("GetStatusInfo", 1, status_args),
	ACTION("GetNATRSIPStatus", 1, nat_rsip_args),
	ACTION("GetGenericPortMappingEntry", 1, generic_entry_args),
	ACTION("GetSpecificPortMappingEntry", 1, specific_entry_args),
	ACTION("AddPortMapping", 1, add_args),
	ACTION("AddAnyPortMapping", 2, add_any_args),
	ACTION("DeletePortMapping", 1, delete_args),
	ACTION("DeletePortMappingRange", 2, delete_range_args),
	ACTION("GetExternalIPAddress", 1, external_address_args),
	ACTION("GetListOfPortMappings", 2, list_args),
};

static const struct upnp_variable ip_connection_variables[] = {
	{ "ConnectionType", "string", false, NULL },
	{ "PossibleConnectionTypes", "string", true, "Unconfigured IP_Routed IP_Bridged" },
	{ "ConnectionStatus", "string", true,
	  "Unconfigured Connecting Connected PendingDisconnect Disconnecting Disconnected" },
	{ "Uptime", "ui4", false, NULL },
	{ "LastConnectionError", "string", false, "ERROR_NONE" },
	{ "RSIPAvailable", "boolean", false, NULL },
	{ "NATEnabled", "boolean", false, NULL },
	{ "ExternalIPAddress", "string", true, NULL },
	{ "PortMappingNumberOfEntries", "ui2", true, NULL },
	{ "PortMappingEnabled", "boolean", false, NULL },
	{ "PortMappingLeaseDuration", "ui4", false, NULL },
	{ "RemoteHost", "string", false, NULL },
	{ "ExternalPort", "ui2", false, NULL },
	{ "InternalPort", "ui2", false, NULL },
	{ "PortMappingProtocol", "string", false, "TCP UDP" },
	{ "InternalClient", "string", false, NULL },
	{ "PortMappingDescription", "string", false, NULL },
	{ "A_ARG_TYPE_Manage", "boolean", false, NULL },
	{ "A_ARG_TYPE_PortListing", "string", false, NULL },
};

/* WANCommonInterfaceConfig:1 */

static const struct upnp_argument link_properties_args[] = {
	{ "NewWANAccessType", ARG_OUT, "WANAccessType" },
	{ "NewLayer1UpstreamMaxBitRate", ARG_OUT, "Layer1UpstreamMaxBitRate" },
	{ "NewLayer1DownstreamMaxBitRate", ARG_OUT, "Layer1DownstreamMaxBitRate" },
	{ "NewPhysicalLinkStatus", ARG_OUT, "PhysicalLinkStatus" },
};
static const struct upnp_argument bytes_sent_args[] = {
	{ "NewTotalBytesSent", ARG_OUT, "TotalBytesSent" },
};
static const struct upnp_argument bytes_received_args[] = {
	{ "NewTotalBytesReceived", ARG_OUT, "TotalBytesReceived" },
};
static const struct upnp_argument packets_sent_args[] = {
	{ "NewTotalPacketsSent", ARG_OUT, "TotalPacketsSent" },
};
static const struct upnp_argument packets_received_args[] = {
	{ "NewTotalPacketsReceived", ARG_OUT, "TotalPacketsReceived" },
};

static const struct upnp_action common_config_actions[] = {
	ACTION("GetCommonLinkProperties", 1, link_properties_args),
	ACTION("GetTotalBytesSent", 1, bytes_sent_args),
	ACTION("GetTotalBytesReceived", 1, bytes_received_args),
	ACTION("GetTotalPacketsSent", 1, packets_sent_args),
	ACTION("GetTotalPacketsReceived", 1, packets_received_args),
};

static const struct upnp_variable common_config_variables[] = {
	{ "WANAccessType", "string", false, "DSL POTS Cable Ethernet" },
	{ "Layer1UpstreamMaxBitRate", "ui4", false, NULL },
	{ "Layer1DownstreamMaxBitRate", "ui4", false, NULL },
	{ "PhysicalLinkStatus", "string", true, "Up Down" },
	{ "TotalBytesSent", "ui4", false, NULL },
	{ "TotalBytesReceived", "ui4", false, NULL },
	{ "TotalPacketsSent", "ui4", false, NULL },
	{ "TotalPacketsReceived", "ui4", false, NULL },
};

/* WANIPv6FirewallControl:1 (IGD:2 only) */

static const struct upnp_argument firewall_status_args[] = {
	{ "FirewallEnabled", ARG_OUT, "FirewallEnabled" },
	{ "InboundPinholeAllowed", ARG_OUT, "InboundPinholeAllowed" },
};
static const struct upnp_argument outbound_timeout_args[] = {
	{ "RemoteHost", ARG_IN, "A_ARG_TYPE_IPv6Address" },
	{ "RemotePort", ARG_IN, "A_ARG_TYPE_Port" },
	{ "InternalClient", ARG_IN, "A_ARG_TYPE_IPv6Address" },
	{ "InternalPort", ARG_IN, "A_ARG_TYPE_Port" },
	{ "Protocol", ARG_IN, "A_ARG_TYPE_Protocol" },
	{ "OutboundPinholeTimeout", ARG_OUT, "A_ARG_TYPE_OutboundPinholeTimeout" },
};
static const struct upnp_argument add_pinhole_args[] = {
	{ "RemoteHost", ARG_IN, "A_ARG_TYPE_IPv6Address" },
	{ "RemotePort", ARG_IN, "A_ARG_TYPE_Port" },
	{ "InternalClient", ARG_IN, "A_ARG_TYPE_IPv6Address" },
	{ "InternalPort", ARG_IN, "A_ARG_TYPE_Port" },
	{ "Protocol", ARG_IN, "A_ARG_TYPE_Protocol" },
	{ "LeaseTime", ARG_IN, "A_ARG_TYPE_LeaseTime" },
	{ "UniqueID", ARG_OUT, "A_ARG_TYPE_UniqueID" },
};
static const struct upnp_argument update_pinhole_args[] = {
	{ "UniqueID", ARG_IN, "A_ARG_TYPE_UniqueID" },
	{ "NewLeaseTime", ARG_IN, "A_ARG_TYPE_LeaseTime" },
};
static const struct upnp_argument delete_pinhole_args[] = {
	{ "UniqueID", ARG_IN, "A_ARG_TYPE_UniqueID" },
};
static const struct upnp_argument pinhole_packets_args[] = {
	{ "UniqueID", ARG_IN, "A_ARG_TYPE_UniqueID" },
	{ "PinholePackets", ARG_OUT, "A_ARG_TYPE_PinholePackets" },
};
static const struct upnp_argument pinhole_working_args[] = {
	{ "UniqueID", ARG_IN, "A_ARG_TYPE_UniqueID" },
	{ "IsWorking", ARG_OUT, "A_ARG_TYPE_Boolean" },
};

static const struct upnp_action firewall_actions[] = {
	ACTION("GetFirewallStatus", 1, firewall_status_args),
	ACTION("GetOutboundPinholeTimeout", 1, outbound_timeout_args),
	ACTION("AddPinhole", 1, add_pinhole_args),
	ACTION("UpdatePinhole", 1, update_pinhole_args),
	ACTION("DeletePinhole", 1, delete_pinhole_args),
	ACTION("GetPinholePackets", 1, pinhole_packets_args),
	ACTION("CheckPinholeWorking", 1, pinhole_working_args),
};

static const struct upnp_variable firewall_variables[] = {
	{ "FirewallEnabled", "boolean", true, NULL },
	{ "InboundPinholeAllowed", "boolean", true, NULL },
	{ "SystemUpdateID", "ui4", true, NULL },
	{ "A_ARG_TYPE_IPv6Address", "string", false, NULL },
	{ "A_ARG_TYPE_Port", "ui2", false, NULL },
	{ "A_ARG_TYPE_Protocol", "ui2", false, NULL },
	{ "A_ARG_TYPE_LeaseTime", "ui4", false, NULL },
	{ "A_ARG_TYPE_UniqueID", "ui2", false, NULL },
	{ "A_ARG_TYPE_OutboundPinholeTimeout", "ui4", false, NULL },
	{ "A_ARG_TYPE_PinholePackets", "ui4", false, NULL },
	{ "A_ARG_TYPE_Boolean", "boolean", false, NULL },
};

static const struct upnp_service services[] = {
	{
		.name = "WANCommonInterfaceConfig", .version_v1 = 1, .version_v2 = 1, .device = 1,
		.service_id = "urn:upnp-org:serviceId:WANCommonIFC1",
		.scpd_path = "/WANCfg.xml", .control_path = "/ctl/CmnIfCfg",
		.event_path = "/evt/CmnIfCfg",
		.actions = common_config_actions, .nactions = N(common_config_actions),
		.variables = common_config_variables, .nvariables = N(common_config_variables),
	},
	{
		.name = "WANIPConnection", .version_v1 = 1, .version_v2 = 2, .device = 2,
		.service_id = "urn:upnp-org:serviceId:WANIPConn1",
		.scpd_path = "/WANIPCn.xml", .control_path = "/ctl/IPConn",
		.event_path = "/evt/IPConn",
		.actions = ip_connection_actions, .nactions = N(ip_connection_actions),
		.variables = ip_connection_variables, .nvariables = N(ip_connection_variables),
	},
	{
		.name = "WANIPv6FirewallControl", .version_v1 = 0, .version_v2 = 1, .device = 2,
		.service_id = "urn:upnp-org:serviceId:WANIPv6Firewall1",
		.scpd_path = "/WANIP6FwCtrl.xml", .control_path = "/ctl/IP6FCtl",
		.event_path = "/evt/IP6FCtl",
		.actions = firewall_actions, .nactions = N(firewall_actions),
		.variables = firewall_variables, .nvariables = N(firewall_variables),
	},
};

void upnp_uuid_format(char out[UPNP_UUID_STRLEN], const uint8_t bytes[16])
{
	uint8_t u[16];

	memcpy(u, bytes, sizeof(u));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);  /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);  /* RFC 4122 variant */
	snprintf(out, UPNP_UUID_STRLEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

void igd_identity_init(struct igd_identity *id, unsigned version, const uint8_t seed[16])
{
	id->version = version;
	id->prefix[0] = '\0';
	id->with_v2_services = false;
	for (unsigned d = 0; d < IGD_DEVICES; d++) {
		uint8_t u[16];

		memcpy(u, seed, sizeof(u));
		u[15] = (uint8_t)(u[15] ^ d);
		upnp_uuid_format(id->uuid[d], u);
	}
}

size_t igd_service_count(void)
{
	return N(services);
}

const struct upnp_service *igd_service(size_t i)
{
	return i < N(services) ? &services[i] : NULL;
}

unsigned igd_service_version(const struct upnp_service *s, unsigned igd_version)
{
	return igd_version >= 2 ? s->version_v2 : s->version_v1;
}

const char *igd_device_name(unsigned device)
{
	return device < IGD_DEVICES ? device_names[device] : "";
}

void igd_device_type(char out[UPNP_TYPE_MAX], unsigned device, unsigned igd_version)
{
	snprintf(out, UPNP_TYPE_MAX, "urn:schemas-upnp-org:device:%s:%u", device_names[device],
		 igd_version);
}

void igd_service_type(char out[UPNP_TYPE_MAX], const struct upnp_service *s, unsigned version)
{
	snprintf(out, UPNP_TYPE_MAX, "urn:schemas-upnp-org:service:%s:%u", s->name, version);
}

bool igd_type_matches(const char *type, const char *kind, const char *name, unsigned version,
		      unsigned *asked)
{
	static const char prefix[] = "urn:schemas-upnp-org:";
	size_t klen = strlen(kind), nlen = strlen(name);
	const char *p = type;
	unsigned long v;
	char *end;

	if (strncmp(p, prefix, sizeof(prefix) - 1) != 0)
		return false;
	p += sizeof(prefix) - 1;
	if (strncmp(p, kind, klen) != 0 || p[klen] != ':')
		return false;
	p += klen + 1;
	if (strncmp(p, name, nlen) != 0 || p[nlen] != ':')
		return false;
	p += nlen + 1;
	if (*p < '1' || *p > '9')
		return false;
	v = strtoul(p, &end, 10);
	if (*end != '\0' || v > version)
		return false;
	if (asked)
		*asked = (unsigned)v;
	return true;
}

const struct upnp_action *igd_find_action(const struct upnp_service *s, unsigned service_version,
					  const char *name)
{
	for (size_t i = 0; i < s->nactions; i++)
		if (s->actions[i].since <= service_version && strcmp(s->actions[i].name, name) == 0)
			return &s->actions[i];
	return NULL;
}

unsigned igd_offered_version(const struct upnp_service *s, const struct igd_identity *id)
{
	unsigned v = igd_service_version(s, id->version);

	return v || !id->with_v2_services ? v : s->version_v2;
}

static void service_list(struct evbuffer *out, unsigned device, const struct igd_identity *id)
{	char type[UPNP_TYPE_MAX];
	bool any = false;

	for (size_t i = 0; i < N(services); i++) {
		unsigned v = igd_offered_version(&services[i], id);

		if (services[i].device != device || v == 0)
			continue;
		if (!any)
			evbuffer_add_printf(out, "<serviceList>");
		any = true;
		igd_service_type(type, &services[i], v);
		evbuffer_add_printf(out,
				    "<service><serviceType>%s</serviceType><serviceId>%s</serviceId>"
				    "<SCPDURL>%s%s</SCPDURL><controlURL>%s</controlURL>"
				    "<eventSubURL>%s</eventSubURL></service>",
				    type, services[i].service_id, id->prefix, services[i].scpd_path,
				    services[i].control_path, services[i].event_path);
	}
	if (any)
		evbuffer_add_printf(out, "</serviceList>");
}

static void device(struct evbuffer *out, const struct igd_identity *id, unsigned d)
{
	static const char *const friendly[IGD_DEVICES] = {
		"portleased", "WAN device", "WAN connection device",
	};
	char type[UPNP_TYPE_MAX];

	igd_device_type(type, d, id->version);
	evbuffer_add_printf(out,
			    "<device><deviceType>%s</deviceType><friendlyName>%s</friendlyName>"
			    "<manufacturer>portleased</manufacturer>"
			    "<modelDescription>policy-checked port mapping</modelDescription>"
			    "<modelName>portleased</modelName><modelNumber>%s</modelNumber>"
			    "<UDN>uuid:%s</UDN>",
			    type, friendly[d], PORTLEASED_VERSION, id->uuid[d]);
	service_list(out, d, id);
	if (d + 1 < IGD_DEVICES) {
		evbuffer_add_printf(out, "<deviceList>");
		device(out, id, d + 1);
		evbuffer_add_printf(out, "</deviceList>");
	}
	evbuffer_add_printf(out, "</device>");
}

void igd_root_description(struct evbuffer *out, const struct igd_identity *id)
{
	evbuffer_add_printf(out,
			    "<?xml version=\"1.0\"?>\r\n"
			    "<root xmlns=\"urn:schemas-upnp-org:device-1-0\" configId=\"1\">"
			    "<specVersion><major>1</major><minor>%u</minor></specVersion>",
			    id->version >= 2 ? 1 : 0);
	device(out, id, 0);
	evbuffer_add_printf(out, "</root>\r\n");
}

void igd_scpd(struct evbuffer *out, const struct upnp_service *s, unsigned service_version)
{
	evbuffer_add_printf(out,
			    "<?xml version=\"1.0\"?>\r\n"
			    "<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">"
			    "<specVersion><major>1</major><minor>0</minor></specVersion><actionList>");
	for (size_t i = 0; i < s->nactions; i++) {
		const struct upnp_action *a = &s->actions[i];

		if (a->since > service_version)
			continue;
		evbuffer_add_printf(out, "<action><name>%s</name>", a->name);
		if (a->nargs)
			evbuffer_add_printf(out, "<argumentList>");
		for (size_t k = 0; k < a->nargs; k++)
			evbuffer_add_printf(out,
					    "<argument><name>%s</name><direction>%s</direction>"
					    "<relatedStateVariable>%s</relatedStateVariable></argument>",
					    a->args[k].name, a->args[k].dir == ARG_IN ? "in" : "out",
					    a->args[k].variable);
		if (a->nargs)
			evbuffer_add_printf(out, "</argumentList>");
		evbuffer_add_printf(out, "</action>");
	}
	evbuffer_add_printf(out, "</actionList><serviceStateTable>");
	for (size_t i = 0; i < s->nvariables; i++) {
		const struct upnp_variable *v = &s->variables[i];

		evbuffer_add_printf(out,
				    "<stateVariable sendEvents=\"%s\"><name>%s</name>"
				    "<dataType>%s</dataType>",
				    v->events ? "yes" : "no", v->name, v->type);
		if (v->allowed) {
			const char *p = v->allowed;

			evbuffer_add_printf(out, "<allowedValueList>");
			while (*p) {
				size_t n = strcspn(p, " ");

				evbuffer_add_printf(out, "<allowedValue>%.*s</allowedValue>", (int)n, p);
				p += n;
				p += strspn(p, " ");
			}
			evbuffer_add_printf(out, "</allowedValueList>");
		}
		evbuffer_add_printf(out, "</stateVariable>");
	}
	evbuffer_add_printf(out, "</serviceStateTable></scpd>\r\n");
}
