/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

/* Logging is process-wide by nature (syslog is too); this is the one piece of
 * module state that is not passed around in a context. */
static struct {
	enum log_output output;
	bool verbose;
	const char *ident;  /* which of portleased's processes */
} log_state = { .output = LOG_TO_TERMINAL, .verbose = false, .ident = "portleased" };

void log_init(const char *ident, enum log_output output, bool verbose)
{
	log_state.output = output;
	log_state.verbose = verbose;
	log_state.ident = ident;
	if (output == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_fini(void)
{
	if (log_state.output == LOG_TO_SYSLOG)
		closelog();
}

enum log_output log_stderr_output(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (stream && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		return LOG_TO_JOURNAL;
	return LOG_TO_TERMINAL;
}

int log_format(char *out, size_t len, enum log_output output, int priority, const char *ident,
	       const struct timespec *now, const char *msg, const char *errtext)
{
	static const char *const level[] = {
		[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	const char *sep = errtext ? ": " : "";
	struct tm tm;
	char stamp[16];

	if (!errtext)
		errtext = "";
	if (priority < LOG_ERR || priority > LOG_DEBUG)
		priority = LOG_ERR;
	if (output == LOG_TO_JOURNAL)
		return snprintf(out, len, "<%d>%s%s%s", priority, msg, sep, errtext);
	localtime_r(&now->tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	return snprintf(out, len, "%s.%03ld %s %s: %s%s%s", stamp, now->tv_nsec / 1000000, ident,
			level[priority], msg, sep, errtext);
}

static void log_vwrite(int priority, const char *errtext, const char *fmt, va_list ap)
{
	char msg[1024], line[1200];
	struct timespec now;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_state.output == LOG_TO_SYSLOG) {
		syslog(priority, "%s%s%s", msg, errtext ? ": " : "", errtext ? errtext : "");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	log_format(line, sizeof(line), log_state.output, priority, log_state.ident, &now, msg,
		   errtext);
	fprintf(stderr, "%s\n", line);
}

#define LOG_FUNCTION(name, priority)                   \
	void name(const char *fmt, ...)                \
	{                                              \
		va_list ap;                            \
                                                       \
		va_start(ap, fmt);                     \
		log_vwrite(priority, NULL, fmt, ap);   \
		va_end(ap);                            \
	}

LOG_FUNCTION(log_err, LOG_ERR)
LOG_FUNCTION(log_warnx, LOG_WARNING)
LOG_FUNCTION(log_notice, LOG_NOTICE)
LOG_FUNCTION(log_info, LOG_INFO)

void log_warn(const char *fmt, ...)
{
	const char *errtext = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, errtext, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_state.verbose)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}
