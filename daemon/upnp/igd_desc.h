/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the Internet Gateway Device is: its devices, services, actions and
 * state variables, as one set of tables. They are written out as the root
 * description and the SCPD documents, give SSDP the types to answer for,
 * and tell the control code which arguments an action must have. Pure. */
#ifndef PORTLEASED_IGD_DESC_H
#define PORTLEASED_IGD_DESC_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPNP_UUID_STRLEN 37  /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" and NUL */
#define IGD_DEVICES 3        /* InternetGatewayDevice, WANDevice, WANConnectionDevice */
#define UPNP_TYPE_MAX 80

enum upnp_arg_dir { ARG_IN, ARG_OUT };

struct upnp_argument {
	const char *name;
	enum upnp_arg_dir dir;
	const char *variable;  /* relatedStateVariable */
};

struct upnp_action {
	const char *name;
	unsigned since;  /* the first service version with it */
	const struct upnp_argument *args;
	size_t nargs;
};

struct upnp_variable {
	const char *name;
	const char *type;
	bool events;
	const char *allowed;  /* space-separated allowedValueList, or NULL */
};

struct upnp_service {
	const char *name;           /* "WANIPConnection" */
	unsigned version_v1, version_v2;  /* its version in IGD:1 and IGD:2; 0: absent */
	unsigned device;            /* index of the device it belongs to */
	const char *service_id;     /* "urn:upnp-org:serviceId:WANIPConn1" */
	const char *scpd_path, *control_path, *event_path;
	const struct upnp_action *actions;
	size_t nactions;
	const struct upnp_variable *variables;
	size_t nvariables;
};

/* Which IGD, and who it is. */
struct igd_identity {
	unsigned version;  /* 1 or 2 */
	char uuid[IGD_DEVICES][UPNP_UUID_STRLEN];
	/* Before its description's and SCPDs' paths: "" or, for the IGD:1
	 * served beside an IGD:2, "/igd1". Control and event URLs are shared. */
	char prefix[8];
	/* An IGD:1 that also offers the services only IGD:2 has (its IPv6
	 * firewall control): the one beside an IGD:2, since clients that
	 * search for IGD:1 first and take what they find (miniupnpc, and so
	 * upnpc) would otherwise lose IPv6 pinholes. */
	bool with_v2_services;
};

/* 16 bytes as an RFC 4122 version 4 UUID (version and variant bits set). */
void upnp_uuid_format(char out[UPNP_UUID_STRLEN], const uint8_t bytes[16]);

/* Device i's UUID from a 16-byte seed: RFC 4122 layout, version 4 bits. */
void igd_identity_init(struct igd_identity *id, unsigned version, const uint8_t seed[16]);

size_t igd_service_count(void);
const struct upnp_service *igd_service(size_t i);
/* The service's version in this IGD, 0 if the IGD does not have it. */
unsigned igd_service_version(const struct upnp_service *s, unsigned igd_version);
/* The version of s that identity id offers; 0: none. */
unsigned igd_offered_version(const struct upnp_service *s, const struct igd_identity *id);

/* "WANDevice" */
const char *igd_device_name(unsigned device);
/* "urn:schemas-upnp-org:device:WANDevice:2" */
void igd_device_type(char out[UPNP_TYPE_MAX], unsigned device, unsigned igd_version);
/* "urn:schemas-upnp-org:service:WANIPConnection:2" */
void igd_service_type(char out[UPNP_TYPE_MAX], const struct upnp_service *s, unsigned version);

/*
 * Whether type (from a request) names the service at a version this IGD
 * serves: "urn:schemas-upnp-org:service:NAME:N" with 1 <= N <= its version
 * (newer versions answer for older ones, UDA 1.1 §1.2.2). *asked gets N.
 */
bool igd_type_matches(const char *type, const char *kind, const char *name, unsigned version,
		      unsigned *asked);

/* The action of that service version by that name, or NULL. */
const struct upnp_action *igd_find_action(const struct upnp_service *s, unsigned service_version,
					  const char *name);

void igd_root_description(struct evbuffer *out, const struct igd_identity *id);
void igd_scpd(struct evbuffer *out, const struct upnp_service *s, unsigned service_version);

#endif
