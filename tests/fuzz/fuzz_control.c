/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Request lines on the operators' control socket. */
#include "daemon/control.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req;
	char err[CONTROL_ERROR_MAX];
	char *line = fuzz_string(data, size);

	(void)control_parse(line, &req, err);
	free(line);
	return 0;
}
