/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operator's runtime static mappings: the file that `portleasectl add`
 * and `delete` edit (static_file in the config), which portleased and its
 * privileged helper both read beside the config's static_mappings. The
 * helper grants a mapping that never expires only when the config or this
 * file names it, and trusts the file only when root owns it and no one
 * else may write it: portleased, which runs as another user, cannot give
 * itself a permanent forward.
 *
 * One mapping per line, as portleasectl add takes it:
 *
 *   PROTO EXTERNAL_PORT INTERNAL_ADDRESS INTERNAL_PORT [owner=TEXT]
 *         [purpose=TEXT] [review_by=YYYY-MM-DD] [DESCRIPTION]
 *
 * ("tcp 8080 192.168.1.10 80 owner=alice web server"; TEXT percent-encoded,
 * so that it holds no space); an IPv6 one is a pinhole, its external port
 * its internal one. A description that itself starts with "owner=",
 * "purpose=" or "review_by=" cannot be written. Blank lines and lines starting with '#'
 * are skipped. */
#ifndef PORTLEASED_STATIC_FILE_H
#define PORTLEASED_STATIC_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

#define STATIC_FILE_LINE_MAX 1024

/* 1 and *out for a mapping, 0 for a blank or comment line, -1 and *why for
 * anything else (pure; line without its newline). */
int static_file_parse_line(const char *line, struct static_mapping *out, const char **why);
/* The line for sm, newline included, in buf; its length, or 0 if it does
 * not fit. */
size_t static_file_format_line(char *buf, size_t cap, const struct static_mapping *sm);

/* Whether a and b are the same mapping (protocol, ports, internal
 * address), whatever their descriptions. */
bool static_mappings_same(const struct static_mapping *a, const struct static_mapping *b);
/* Two static mappings cannot share an external port (IPv4) or an internal
 * endpoint. */
bool static_mappings_clash(const struct static_mapping *a, const struct static_mapping *b);

/* Reads path into out (room for max), each marked declared and from_file:
 * 0 with *n (0 when the file does not exist), or -1 with "path:line: why"
 * in err: a bad line, too many, two that clash, or a file that root does
 * not own or others may write. */
int static_file_read(const char *path, struct static_mapping *out, size_t max, size_t *n,
		     char *err, size_t errlen);
/* Replaces path with list (n of them), atomically (a new file renamed over
 * it), owned by whoever writes it, mode 0644. 0, or -1 with err. */
int static_file_write(const char *path, const struct static_mapping *list, size_t n, char *err,
		      size_t errlen);

#endif
