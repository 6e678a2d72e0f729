/* The configuration file: an operator's, but a typo must be an error
 * message, never a crash. */
#include "config.h"
#include "fuzz.h"

static struct config cfg;  /* large: off the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONFIG_ERROR_MAX], *text = fuzz_string(data, size);

	(void)config_load_string(text, "fuzz.conf", &cfg, err, sizeof(err));
	free(text);
	return 0;
}
