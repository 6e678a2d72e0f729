/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upnp/ssdp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The next line of buf[*pos, len), CRLF or LF ended; false at the end. */
static bool next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *n)
{
	size_t start = *pos, end;

	if (start >= len)
		return false;
	end = start;
	while (end < len && buf[end] != '\n')
		end++;
	*pos = end < len ? end + 1 : end;
	if (end > start && buf[end - 1] == '\r')
		end--;
	*line = buf + start;
	*n = end - start;
	return true;
}

static bool header_is(const char *line, size_t n, const char *name, const char **value,
		      size_t *vlen)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return false;
	*value = line + k + 1;
	*vlen = n - k - 1;
	while (*vlen && (**value == ' ' || **value == '\t')) {
		(*value)++;
		(*vlen)--;
	}
	while (*vlen && ((*value)[*vlen - 1] == ' ' || (*value)[*vlen - 1] == '\t'))
		(*vlen)--;
	return true;
}

int ssdp_parse_search(const char *buf, size_t len, struct ssdp_search *s)
{
	static const char request_line[] = "M-SEARCH * HTTP/1.1";
	const char *line, *v;
	size_t pos = 0, n, vlen;
	bool discover = false, has_st = false;

	memset(s, 0, sizeof(*s));
	if (memchr(buf, '\0', len))
		return -1;
	if (!next_line(buf, len, &pos, &line, &n) || n != sizeof(request_line) - 1 ||
	    memcmp(line, request_line, n) != 0)
		return -1;
	while (next_line(buf, len, &pos, &line, &n) && n > 0) {
		if (header_is(line, n, "MAN", &v, &vlen)) {
			discover = vlen == 15 && memcmp(v, "\"ssdp:discover\"", 15) == 0;
		} else if (header_is(line, n, "ST", &v, &vlen)) {
			if (vlen == 0 || vlen > SSDP_ST_MAX)
				return -1;
			memcpy(s->st, v, vlen);
			s->st[vlen] = '\0';
			has_st = true;
		} else if (header_is(line, n, "MX", &v, &vlen)) {
			unsigned mx = 0;

			if (vlen == 0 || vlen > 3)
				return -1;
			for (size_t i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9')
					return -1;
				mx = mx * 10 + (unsigned)(v[i] - '0');
			}
			s->has_mx = true;
			s->mx = mx > SSDP_MX_MAX ? SSDP_MX_MAX : mx;
		}
	}
	return discover && has_st ? 0 : -1;
}

static void add(struct ssdp_target *out, size_t *n, const char *st, const char *uuid,
		const char *suffix)
{
	if (*n == SSDP_TARGETS_MAX)
		return;
	snprintf(out[*n].st, sizeof(out[*n].st), "%s", st);
	if (suffix)
		snprintf(out[*n].usn, sizeof(out[*n].usn), "uuid:%s::%s", uuid, suffix);
	else
		snprintf(out[*n].usn, sizeof(out[*n].usn), "uuid:%s", uuid);
	(*n)++;
}

size_t ssdp_targets(const struct igd_identity *id, const char *st, bool exact,
		    struct ssdp_target out[SSDP_TARGETS_MAX])
{
	bool all = strcmp(st, "ssdp:all") == 0;
	char type[UPNP_TYPE_MAX];
	size_t n = 0;
	unsigned asked;

	if (all || strcmp(st, "upnp:rootdevice") == 0)
		add(out, &n, "upnp:rootdevice", id->uuid[0], "upnp:rootdevice");
	for (unsigned d = 0; d < IGD_DEVICES; d++) {
		char uuid_st[5 + UPNP_UUID_STRLEN];

		snprintf(uuid_st, sizeof(uuid_st), "uuid:%s", id->uuid[d]);
		if (all || strcmp(st, uuid_st) == 0)
			add(out, &n, uuid_st, id->uuid[d], NULL);
		if (all) {
			igd_device_type(type, d, id->version);
			add(out, &n, type, id->uuid[d], type);
		} else if (igd_type_matches(st, "device", igd_device_name(d), id->version, &asked) &&
			   (!exact || asked == id->version)) {
			add(out, &n, st, id->uuid[d], st);
		}
	}
	for (size_t i = 0; i < igd_service_count(); i++) {
		const struct upnp_service *s = igd_service(i);
		unsigned version = igd_service_version(s, id->version);

		if (version == 0)
			continue;
		if (all) {
			igd_service_type(type, s, version);
			add(out, &n, type, id->uuid[s->device], type);
		} else if (igd_type_matches(st, "service", s->name, version, &asked) &&
			   (!exact || asked == version)) {
			add(out, &n, st, id->uuid[s->device], st);
		}
	}
	return n;
}

static size_t fitted(int n, size_t cap)
{
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t ssdp_format_response(char *buf, size_t cap, const struct ssdp_target *t,
			    const struct ssdp_announcement *a)
{
	return fitted(snprintf(buf, cap,
			       "HTTP/1.1 200 OK\r\n"
			       "CACHE-CONTROL: max-age=%u\r\n"
			       "EXT:\r\n"
			       "LOCATION: %s\r\n"
			       "SERVER: %s\r\n"
			       "ST: %s\r\n"
			       "USN: %s\r\n"
			       "BOOTID.UPNP.ORG: %u\r\n"
			       "CONFIGID.UPNP.ORG: %u\r\n"
			       "\r\n",
			       a->max_age, a->location, a->server, t->st, t->usn, a->boot_id,
			       a->config_id),
		      cap);
}

size_t ssdp_format_notify(char *buf, size_t cap, const struct ssdp_target *t,
			  const struct ssdp_announcement *a, bool alive)
{
	/* UDA 1.1 §1.1.2 writes the IPv6 group in capitals */
	const char *host = a->ipv6 ? "[FF02::C]:1900" : SSDP_GROUP_V4 ":1900";

	if (!alive)
		return fitted(snprintf(buf, cap,
				       "NOTIFY * HTTP/1.1\r\n"
				       "HOST: %s\r\n"
				       "NT: %s\r\n"
				       "NTS: ssdp:byebye\r\n"
				       "USN: %s\r\n"
				       "BOOTID.UPNP.ORG: %u\r\n"
				       "CONFIGID.UPNP.ORG: %u\r\n"
				       "\r\n",
				       host, t->st, t->usn, a->boot_id, a->config_id),
			      cap);
	return fitted(snprintf(buf, cap,
			       "NOTIFY * HTTP/1.1\r\n"
			       "HOST: %s\r\n"
			       "CACHE-CONTROL: max-age=%u\r\n"
			       "LOCATION: %s\r\n"
			       "NT: %s\r\n"
			       "NTS: ssdp:alive\r\n"
			       "SERVER: %s\r\n"
			       "USN: %s\r\n"
			       "BOOTID.UPNP.ORG: %u\r\n"
			       "CONFIGID.UPNP.ORG: %u\r\n"
			       "\r\n",
			       host, a->max_age, a->location, t->st, a->server, t->usn, a->boot_id,
			       a->config_id),
		      cap);
}
