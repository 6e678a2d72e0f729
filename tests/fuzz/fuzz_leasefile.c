/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lines of the lease file, which a crash may have cut or a disk damaged. */
#include "fuzz.h"
#include "daemon/leasefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct leasefile_header h;
	struct leasefile_record r;
	char *line = fuzz_string(data, size), out[LEASEFILE_LINE_MAX];

	(void)leasefile_parse_header(line, &h);
	/* What is read must be written back the same way. */
	if (leasefile_parse(line, &r) == 0 && leasefile_format(out, sizeof(out), &r) == 0)
		abort();
	free(line);
	return 0;
}
