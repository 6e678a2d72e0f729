/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/device_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/device_names.h"
#include "lib/log.h"

/* What a file looked like when it was last read: any change, even one
 * that keeps the size (a name changed in place), reads them all again. */
struct file_state {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int warned_errno;  /* the last error warned about: each is told once */
};

struct device_files {
	struct event *timer;
	struct device_names *names;
	char paths[CONFIG_MAX_DHCP_LEASE_FILES][CONFIG_DHCP_LEASE_FILE_MAX + 1];
	struct file_state state[CONFIG_MAX_DHCP_LEASE_FILES];
	size_t count;
};

static bool same_state(const struct file_state *a, const struct stat *st)
{
	return a->present && a->dev == st->st_dev && a->ino == st->st_ino &&
	       a->size == st->st_size && a->mtime.tv_sec == st->st_mtim.tv_sec &&
	       a->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* A problem with path, warned about once until it changes. A file that is
 * not there is no problem: a router runs one DHCP server, not four. */
static void trouble(struct file_state *s, const char *path, int err, const char *what)
{
	if (s->warned_errno == err)
		return;
	s->warned_errno = err;
	if (err == ENOENT)
		log_debug("device names: %s: not there", path);
	else
		log_warnx("device names: %s: %s", path, what ? what : strerror(err));
}

/* Reads path into the table (up to DEVICE_FILE_MAX_BYTES) and records its
 * state. Lease files are small, local and never a FIFO (checked), so a
 * read does not hold up the loop. */
static void read_file(struct device_files *f, size_t i)
{
	struct file_state *s = &f->state[i];
	const char *path = f->paths[i];
	struct stat st;
	char *text;
	size_t len = 0, cap;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	s->present = false;
	if (fd < 0) {
		trouble(s, path, errno, NULL);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		trouble(s, path, EINVAL, "not a regular file: not read");
		close(fd);
		return;
	}
	/* Anyone could write names into a world-writable file. */
	if (st.st_mode & S_IWOTH) {
		trouble(s, path, EPERM, "writable by anyone: not read");
		close(fd);
		return;
	}
	cap = st.st_size > (off_t)DEVICE_FILE_MAX_BYTES ? DEVICE_FILE_MAX_BYTES : (size_t)st.st_size;
	text = malloc(cap + 1);
	if (!text) {
		trouble(s, path, ENOMEM, NULL);
		close(fd);
		return;
	}
	while (len < cap) {
		ssize_t got = read(fd, text + len, cap - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	device_names_parse(f->names, text, len);
	free(text);
	if (st.st_size > (off_t)DEVICE_FILE_MAX_BYTES)
		trouble(s, path, EFBIG, "larger than 4 MiB: only its beginning is read");
	else
		s->warned_errno = 0;
	*s = (struct file_state){ .present = true, .dev = st.st_dev, .ino = st.st_ino,
				  .size = st.st_size, .mtime = st.st_mtim,
				  .warned_errno = s->warned_errno };
}

static void read_all(struct device_files *f)
{
	device_names_clear(f->names);
	for (size_t i = 0; i < f->count; i++)
		read_file(f, i);
	device_names_finish(f->names);
	log_debug("device names: %zu from %zu lease file(s)", device_names_count(f->names),
		  f->count);
}

static bool any_changed(struct device_files *f)
{
	for (size_t i = 0; i < f->count; i++) {
		struct stat st;

		if (stat(f->paths[i], &st) < 0) {
			if (f->state[i].present)
				return true;
			continue;
		}
		if (!same_state(&f->state[i], &st))
			return true;
	}
	return false;
}

static void check(evutil_socket_t fd, short what, void *arg)
{
	struct device_files *f = arg;
	struct timeval tv = { DEVICE_FILES_CHECK_MS / 1000, (DEVICE_FILES_CHECK_MS % 1000) * 1000 };

	(void)fd;
	(void)what;
	if (any_changed(f))
		read_all(f);
	evtimer_add(f->timer, &tv);
}

void device_files_configure(struct device_files *f, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->dhcp_lease_file_count; i++) {
		/* A file named again keeps what was said of it: a reload does not
		 * repeat a warning. */
		int warned = i < f->count && strcmp(f->paths[i], cfg->dhcp_lease_files[i]) == 0 ?
				     f->state[i].warned_errno : 0;

		snprintf(f->paths[i], sizeof(f->paths[i]), "%s", cfg->dhcp_lease_files[i]);
		f->state[i] = (struct file_state){ .warned_errno = warned };
	}
	f->count = cfg->dhcp_lease_file_count;
	read_all(f);
}

struct device_files *device_files_new(struct event_base *base, const struct config *cfg)
{
	struct device_files *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->names = device_names_new();
	f->timer = evtimer_new(base, check, f);
	if (!f->names || !f->timer) {
		device_files_free(f);
		return NULL;
	}
	device_files_configure(f, cfg);
	check(-1, 0, f);
	return f;
}

void device_files_free(struct device_files *f)
{
	if (!f)
		return;
	if (f->timer)
		event_free(f->timer);
	device_names_free(f->names);
	free(f);
}

const char *device_files_name(const struct device_files *f, const uint8_t *mac,
			      const struct in6_addr *addr)
{
	const char *name = NULL;

	if (!f)
		return NULL;
	if (mac)
		name = device_names_by_mac(f->names, mac);
	if (!name && addr)
		name = device_names_by_addr(f->names, addr);
	return name;
}
