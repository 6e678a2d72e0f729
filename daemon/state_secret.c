/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/state_secret.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/parse.h"

#define SECRET_MAX 64

/* The bytes of a line of 2n hexadecimal digits (and its newline). */
static bool read_hex(const char *path, uint8_t *out, size_t n)
{
	char line[2 * SECRET_MAX + 2];
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	line[strcspn(line, "\n")] = '\0';
	if (strlen(line) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = parse_hex_digit(line[2 * i]), lo = parse_hex_digit(line[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static void random_bytes(uint8_t *out, size_t n)
{
	if (getrandom(out, n, GRND_NONBLOCK) != (ssize_t)n) {
		/* Not yet seeded (early boot): unique, if not secret. */
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;

		for (size_t i = 0; i < n; i++)
			out[i] = (uint8_t)(t >> (8 * (i % 8)));
	}
}

bool state_secret(const struct config *cfg, const char *name, uint8_t *out, size_t n)
{
	char path[CONFIG_LEASE_FILE_MAX + 64], *slash;
	int fd;
	bool kept = true;

	if (n > SECRET_MAX)
		n = SECRET_MAX;
	if (!cfg->lease_file[0]) {
		random_bytes(out, n);
		return false;
	}
	snprintf(path, sizeof(path), "%s", cfg->lease_file);
	slash = strrchr(path, '/');
	snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "%s", name);
	if (read_hex(path, out, n))
		return true;
	random_bytes(out, n);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		kept = false;
	for (size_t i = 0; kept && i < n; i++)
		kept = dprintf(fd, "%02x", out[i]) == 2;
	if (kept)
		kept = dprintf(fd, "\n") == 1 && fsync(fd) == 0;
	if (!kept)
		log_warn("cannot keep %s; a new one is made at the next start", path);
	if (fd >= 0)
		close(fd);
	return kept;
}
