/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Text a client chose (a UPnP or PCP description, an HTTP header), made
 * harmless wherever it is shown or logged: the one place that decides
 * which characters may reach an operator's terminal or log as they are.
 * Pure. */
#ifndef PORTLEASED_TEXT_H
#define PORTLEASED_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the character at p if it may be shown as it is: printable
 * ASCII, or valid UTF-8 for a character that is neither a control (C0, DEL,
 * C1: U+009B is a terminal's CSI), a line or paragraph separator, nor a
 * bidirectional override or isolate. 0 if the byte at p must be escaped. */
size_t text_safe_char(const char *p);

/* in as one token: safe characters as they are, '"' and '\\' preceded by
 * '\\' if quote, every other byte as \xNN. Cut at a character's boundary to
 * fit cap (at least 1); returns the length written. */
size_t text_escape(char *out, size_t cap, const char *in, bool quote);

/* Room for a client's text of n bytes, every byte escaped, and the NUL. */
#define TEXT_ESCAPED_MAX(n) (4 * (n) + 1)

#endif
