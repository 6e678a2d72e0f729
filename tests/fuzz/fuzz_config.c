/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration file and the static file's lines: an operator's, but a
 * typo must be an error message, never a crash. */
#include "config/config.h"
#include "fuzz.h"
#include "config/static_file.h"

static struct config cfg;  /* large: off the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONFIG_ERROR_MAX], *text = fuzz_string(data, size);
	struct static_mapping sm;
	const char *why;

	(void)config_load_string(text, "fuzz.conf", &cfg, err, sizeof(err));
	if (static_file_parse_line(text, &sm, &why) > 0) {
		char line[STATIC_FILE_LINE_MAX + 2];

		(void)static_file_format_line(line, sizeof(line), &sm);
	}
	free(text);
	return 0;
}
