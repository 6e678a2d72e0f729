/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE  /* setresuid */
#include "lib/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* glibc has no wrapper, and libcap is not worth a dependency for two calls. */
static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return (int)syscall(SYS_capget, &h, data);
}

static int caps_set(uint64_t keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = (uint32_t)keep, .permitted = (uint32_t)keep, .inheritable = 0 },
		{ .effective = (uint32_t)(keep >> 32), .permitted = (uint32_t)(keep >> 32),
		  .inheritable = 0 },
	};

	return (int)syscall(SYS_capset, &h, data);
}

static uint64_t mask(uint32_t lo, uint32_t hi)
{
	return (uint64_t)hi << 32 | lo;
}

int privdrop_target(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd *pw;

	if (getuid() != 0 && geteuid() != 0)
		return 0;
	if (!(pw = getpwnam(user))) {
		snprintf(err, errlen, "user '%s' (config 'user') does not exist: create it "
			 "(make install does) or name another", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user '%s' is root: name an unprivileged user", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 1;
}

int privdrop(const char *user, uint64_t keep, char *err, size_t errlen)
{
	struct __user_cap_data_struct now[2];
	uid_t uid = getuid();
	gid_t gid;
	int was_root = privdrop_target(user, &uid, &gid, err, errlen);

	if (was_root < 0)
		return -1;
	if (was_root) {
		/* Capabilities survive the change of user only if asked to. */
		if ((keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) || setgroups(0, NULL) < 0 ||
		    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
			snprintf(err, errlen, "cannot become user '%s': %s", user, strerror(errno));
			return -1;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		snprintf(err, errlen, "cannot clear ambient capabilities: %s", strerror(errno));
		return -1;
	}
	if (caps_set(keep) < 0) {
		snprintf(err, errlen, "cannot set capabilities: %s%s", strerror(errno),
			 errno == EPERM ? " (a capability to keep is not held: does the service "
					  "grant CAP_NET_ADMIN?)" : "");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	/* Trust nothing of the above: look. */
	if (caps_get(now) < 0 || mask(now[0].effective, now[1].effective) != keep ||
	    mask(now[0].permitted, now[1].permitted) != keep ||
	    mask(now[0].inheritable, now[1].inheritable) != 0) {
		snprintf(err, errlen, "capabilities are not as set");
		return -1;
	}
	if (was_root && (getuid() != uid || geteuid() != uid || setuid(0) == 0 || getegid() == 0)) {
		snprintf(err, errlen, "root could be had back");
		return -1;
	}
	return 0;
}
