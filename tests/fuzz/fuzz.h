/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the libFuzzer targets: one per parser of untrusted bytes. */
#ifndef PORTLEASED_FUZZ_H
#define PORTLEASED_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (parsers of lines and headers);
 * the caller frees it. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
