/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/text.h"

#include <stdint.h>
#include <stdio.h>

/* The code point of the valid UTF-8 sequence at s and its length; 0 if
 * there is none (also at the NUL). */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return s[0] ? 1 : 0;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		*cp = s[0] & 0x1fu;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		*cp = s[0] & 0x0fu;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		*cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;  /* also stops at the NUL */
		*cp = (*cp << 6) | (s[i] & 0x3fu);
	}
	/* overlong forms, surrogates and what lies beyond Unicode */
	if ((len == 2 && *cp < 0x80) || (len == 3 && *cp < 0x800) || (len == 4 && *cp < 0x10000) ||
	    (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
		return 0;
	return len;
}

static bool shown_as_is(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return false;  /* C0, DEL, C1 */
	if (cp == 0x2028 || cp == 0x2029)
		return false;  /* a new line to a log reader */
	/* Text that reorders what follows it on the screen (Trojan Source). */
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x200e || cp == 0x200f || cp == 0x061c)
		return false;
	return true;
}

size_t text_safe_char(const char *p)
{
	uint32_t cp;
	size_t len = utf8_decode((const unsigned char *)p, &cp);

	return len && shown_as_is(cp) ? len : 0;
}

size_t text_escape(char *out, size_t cap, const char *in, bool quote)
{
	size_t n = 0;

	if (cap == 0)
		return 0;
	for (const char *p = in; *p;) {
		size_t len = text_safe_char(p);

		if (len == 1 && quote && (*p == '"' || *p == '\\')) {
			if (n + 2 >= cap)
				break;
			out[n++] = '\\';
			out[n++] = *p++;
		} else if (len > 0) {
			if (n + len >= cap)
				break;
			for (size_t i = 0; i < len; i++)
				out[n++] = *p++;
		} else {
			if (n + 4 >= cap)
				break;
			snprintf(out + n, cap - n, "\\x%02x", (unsigned char)*p++);
			n += 4;
		}
	}
	out[n] = '\0';
	return n;
}
