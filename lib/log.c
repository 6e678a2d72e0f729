#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

/* Logging is process-wide by nature (syslog is too); this is the one piece of
 * module state that is not passed around in a context. */
static struct {
	bool to_stderr;
	bool verbose;
	const char *ident;  /* which of portleased's processes */
} log_state = { .to_stderr = true, .verbose = false, .ident = "portleased" };

void log_init(const char *ident, bool to_stderr, bool verbose)
{
	log_state.to_stderr = to_stderr;
	log_state.verbose = verbose;
	log_state.ident = ident;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_fini(void)
{
	if (!log_state.to_stderr)
		closelog();
}

static void log_vwrite(int priority, const char *errtext, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_state.to_stderr) {
		static const char *const level[] = {
			[LOG_WARNING] = "warning", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
		};
		struct timespec now;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &now);
		localtime_r(&now.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s %s: %s%s%s\n", stamp, now.tv_nsec / 1000000, log_state.ident,
			level[priority], msg, errtext ? ": " : "", errtext ? errtext : "");
	} else {
		syslog(priority, "%s%s%s", msg, errtext ? ": " : "", errtext ? errtext : "");
	}
}

void log_warn(const char *fmt, ...)
{
	const char *errtext = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, errtext, fmt, ap);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, NULL, fmt, ap);
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
