/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upnp/gena.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "daemon/upnp/soap.h"

bool gena_parse_callback(const char *header, struct gena_callback *cb)
{
	static const char scheme[] = "<http://";
	const char *p = header, *host_end, *url_end, *path;
	char host[INET_ADDRSTRLEN];
	unsigned long port = 80;
	size_t n;

	memset(cb, 0, sizeof(*cb));
	if (strncasecmp(p, scheme, sizeof(scheme) - 1) != 0)
		return false;
	p += sizeof(scheme) - 1;
	url_end = strchr(p, '>');
	if (!url_end)
		return false;
	host_end = p + strcspn(p, ":/>");
	n = (size_t)(host_end - p);
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, p, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &cb->addr) != 1)
		return false;
	path = host_end;
	if (*host_end == ':') {
		port = 0;
		for (path = host_end + 1; *path >= '0' && *path <= '9' && port <= 65535; path++)
			port = port * 10 + (unsigned long)(*path - '0');
		if (path == host_end + 1 || port == 0 || port > 65535 || (*path != '/' && *path != '>'))
			return false;
	}
	cb->port = (uint16_t)port;
	n = (size_t)(url_end - path);
	if (n == 0) {
		strcpy(cb->path, "/");
		return true;
	}
	if (n > GENA_PATH_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)path[i] <= 0x20 || (unsigned char)path[i] >= 0x7f)
			return false;
	memcpy(cb->path, path, n);
	cb->path[n] = '\0';
	return true;
}

unsigned gena_parse_timeout(const char *header)
{
	static const char prefix[] = "Second-";
	unsigned long v = 0;
	const char *p;

	if (!header || strncasecmp(header, prefix, sizeof(prefix) - 1) != 0)
		return GENA_TIMEOUT_DEFAULT;
	p = header + sizeof(prefix) - 1;
	if (*p < '0' || *p > '9')
		return GENA_TIMEOUT_DEFAULT;
	for (; *p >= '0' && *p <= '9'; p++)
		if (v < GENA_TIMEOUT_DEFAULT)
			v = v * 10 + (unsigned long)(*p - '0');
	if (*p != '\0')
		return GENA_TIMEOUT_DEFAULT;
	if (v < GENA_TIMEOUT_MIN)
		return GENA_TIMEOUT_MIN;
	return v > GENA_TIMEOUT_DEFAULT ? GENA_TIMEOUT_DEFAULT : (unsigned)v;
}

void gena_propertyset(struct evbuffer *out, const struct gena_property *props, size_t n)
{
	evbuffer_add_printf(out, "<?xml version=\"1.0\"?>\r\n"
				 "<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">");
	for (size_t i = 0; i < n; i++) {
		evbuffer_add_printf(out, "<e:property><%s>", props[i].name);
		xml_escape(out, props[i].value);
		evbuffer_add_printf(out, "</%s></e:property>", props[i].name);
	}
	evbuffer_add_printf(out, "</e:propertyset>\r\n");
}
