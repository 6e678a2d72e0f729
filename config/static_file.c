/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config/static_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/parse.h"

static const char header[] =
	"# Static mappings added at run time. Written by portleasectl add and delete;\n"
	"# portleased and its helper read it (static_file in portleased.conf(5)).\n"
	"# PROTO EXTERNAL_PORT INTERNAL_ADDRESS INTERNAL_PORT [owner=TEXT] [purpose=TEXT]\n"
	"#   [review_by=YYYY-MM-DD] [DESCRIPTION]   (TEXT percent-encoded: %20 a space)\n";

/* The next space-separated word of *p (at most cap - 1 bytes) into word. */
static bool next_word(const char **p, char *word, size_t cap)
{
	size_t len = 0;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	while (**p && **p != ' ' && **p != '\t') {
		if (len + 1 >= cap)
			return false;
		word[len++] = *(*p)++;
	}
	word[len] = '\0';
	return len > 0;
}

/* A percent-encoded token's text into out (at most max bytes); no
 * control character. */
static bool percent_decode(const char *in, char *out, size_t max)
{
	size_t n = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '%') {
			int hi = parse_hex_digit(in[1]), lo = hi < 0 ? -1 : parse_hex_digit(in[2]);

			if (lo < 0)
				return false;
			c = (unsigned char)(hi << 4 | lo);
			in += 2;
		}
		if (c < 0x20 || c == 0x7f || n == max)
			return false;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return true;
}

/* owner=, purpose= and review_by= tokens, before the description. */
static int parse_inventory(const char **p, struct static_mapping *out, const char **why)
{
	for (;;) {
		const char *start = *p;
		char word[3 * CONFIG_DESCRIPTION_MAX + 16];

		if (!next_word(p, word, sizeof(word))) {
			*p = start;
			return 0;
		}
		if (strncmp(word, "owner=", 6) == 0) {
			if (!percent_decode(word + 6, out->owner, CONFIG_OWNER_MAX))
				return *why = "owner= is percent-encoded text of at most 64 bytes", -1;
		} else if (strncmp(word, "purpose=", 8) == 0) {
			if (!percent_decode(word + 8, out->purpose, CONFIG_DESCRIPTION_MAX))
				return *why = "purpose= is percent-encoded text of at most 128 bytes", -1;
		} else if (strncmp(word, "review_by=", 10) == 0) {
			if (!parse_date(word + 10, &out->review_by))
				return *why = "review_by= is a date YYYY-MM-DD", -1;
		} else {
			*p = start;  /* the description */
			return 0;
		}
	}
}

static void percent_encode(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; *in && n + 4 <= cap; in++) {
		unsigned char c = (unsigned char)*in;

		if (c <= 0x20 || c == '%' || c >= 0x7f)
			n += (size_t)snprintf(out + n, cap - n, "%%%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

int static_file_parse_line(const char *line, struct static_mapping *out, const char **why)
{
	char proto[8], ext[8], addr[INET6_ADDRSTRLEN], port[8];
	const char *p = line;
	size_t len;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	memset(out, 0, sizeof(*out));
	if (!next_word(&p, proto, sizeof(proto)) || !next_word(&p, ext, sizeof(ext)) ||
	    !next_word(&p, addr, sizeof(addr)) || !next_word(&p, port, sizeof(port)))
		return *why = "want PROTO EXTERNAL_PORT INTERNAL_ADDRESS INTERNAL_PORT [DESCRIPTION]", -1;
	if (!parse_proto(proto, &out->proto))
		return *why = "the protocol is tcp or udp", -1;
	if (!parse_port(ext, &out->external_port) || !parse_port(port, &out->internal_port))
		return *why = "a port is 1 to 65535", -1;
	if (!parse_address(addr, &out->internal_addr))
		return *why = "the internal address is an IPv4 or IPv6 address", -1;
	if (!addr_is_v4(&out->internal_addr) && out->external_port != out->internal_port)
		return *why = "an IPv6 mapping is a pinhole: its external port is its internal port", -1;
	if (parse_inventory(&p, out, why) < 0)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	len = strlen(p);
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len > CONFIG_DESCRIPTION_MAX)
		return *why = "the description is longer than 128 bytes", -1;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return *why = "the description holds a control character", -1;
	memcpy(out->description, p, len);
	out->description[len] = '\0';
	out->declared = true;
	out->from_file = true;
	return 1;
}

size_t static_file_format_line(char *buf, size_t cap, const struct static_mapping *sm)
{
	char addr[ADDR_STRLEN], owner[3 * CONFIG_OWNER_MAX + 1];
	char purpose[3 * CONFIG_DESCRIPTION_MAX + 1], review[24] = "";
	int n;

	percent_encode(owner, sizeof(owner), sm->owner);
	percent_encode(purpose, sizeof(purpose), sm->purpose);
	if (sm->review_by) {
		time_t t = (time_t)sm->review_by;
		struct tm tm;

		if (gmtime_r(&t, &tm))
			strftime(review, sizeof(review), " review_by=%Y-%m-%d", &tm);
	}
	n = snprintf(buf, cap, "%s %u %s %u%s%s%s%s%s%s%s\n",
		     sm->proto == IPPROTO_TCP ? "tcp" : "udp", sm->external_port,
		     addr_format(&sm->internal_addr, addr), sm->internal_port,
		     owner[0] ? " owner=" : "", owner, purpose[0] ? " purpose=" : "", purpose,
		     review, sm->description[0] ? " " : "", sm->description);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

bool static_mappings_same(const struct static_mapping *a, const struct static_mapping *b)
{
	return a->proto == b->proto && a->external_port == b->external_port &&
	       a->internal_port == b->internal_port && addr_equal(&a->internal_addr, &b->internal_addr);
}

bool static_mappings_clash(const struct static_mapping *a, const struct static_mapping *b)
{
	if (a->proto != b->proto)
		return false;
	if (addr_is_v4(&a->internal_addr) && addr_is_v4(&b->internal_addr) &&
	    a->external_port == b->external_port)
		return true;
	return a->internal_port == b->internal_port && addr_equal(&a->internal_addr, &b->internal_addr);
}

int static_file_read(const char *path, struct static_mapping *out, size_t max, size_t *n,
		     char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char line[STATIC_FILE_LINE_MAX + 2];
	unsigned lineno = 0;
	struct stat st;
	FILE *f;
	int rc = 0;

	*n = 0;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Its mappings never expire and pass no policy: only root may say so. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s: must be a regular file that root owns and root alone may "
			 "write (its mappings are permanent forwards)", path);
		close(fd);
		return -1;
	}
	if (!(f = fdopen(fd, "r"))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		struct static_mapping sm;
		const char *why = NULL;
		int got;

		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			snprintf(err, errlen, "%s:%u: longer than %d bytes", path, lineno,
				 STATIC_FILE_LINE_MAX);
			rc = -1;
			break;
		}
		if ((got = static_file_parse_line(line, &sm, &why)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			rc = -1;
		} else if (got > 0 && *n == max) {
			snprintf(err, errlen, "%s:%u: more than %zu static mappings", path, lineno, max);
			rc = -1;
		} else if (got > 0) {
			for (size_t i = 0; i < *n && rc == 0; i++)
				if (static_mappings_clash(&out[i], &sm)) {
					snprintf(err, errlen, "%s:%u: takes the port or internal endpoint "
						 "of an earlier line's mapping", path, lineno);
					rc = -1;
				}
			if (rc == 0)
				out[(*n)++] = sm;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	return rc;
}

int static_file_write(const char *path, const struct static_mapping *list, size_t n, char *err,
		      size_t errlen)
{
	char tmp[CONFIG_PATH_MAX + 16], line[STATIC_FILE_LINE_MAX + 2];
	int fd;
	FILE *f;
	bool ok;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: the path is too long", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "%s: cannot create %s: %s", path, tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	ok = fputs(header, f) >= 0;
	for (size_t i = 0; i < n && ok; i++) {
		size_t len = static_file_format_line(line, sizeof(line), &list[i]);

		ok = len && fwrite(line, 1, len, f) == len;
	}
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: cannot write it: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
