/* SPDX-License-Identifier: GPL-2.0-or-later */
/* STUN answers from the server upstream.stun names (or anyone forging it). */
#include "fuzz.h"
#include "daemon/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_answer a;

	/* The transaction ID the answer carries, so that parsing goes on. */
	if (size >= STUN_HEADER_LEN)
		(void)stun_parse_answer(data, size, data + 8, &a);
	return 0;
}
