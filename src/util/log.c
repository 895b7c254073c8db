#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"

static int log_fd = STDERR_FILENO;
static bool log_json;
static enum log_level log_max = LOG_WARN;

static const char *const level_names[] = {
    [LOG_ERROR] = "error",
    [LOG_WARN] = "warning",
    [LOG_INFO] = "info",
    [LOG_DEBUG] = "debug",
};

int log_open(const char *path, bool json, enum log_level level)
{
	log_json = json;
	log_max = level;
	if (path == NULL)
		return 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	log_fd = fd;
	return 0;
}

bool log_enabled(enum log_level level)
{
	return level <= log_max;
}

static void format_time(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06ldZ", (long)tv.tv_usec);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;

	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = NULL;
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;

	char when[64];
	format_time(when, sizeof(when));

	_cleanup_free_ char *line = NULL;
	if (log_json) {
		json_t *o =
		    json_pack("{s:s, s:s, s:s}", "level", level_names[level], "msg", msg, "time", when);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (s == NULL || asprintf(&line, "%s\n", s) < 0)
			line = NULL;
		free(s);
	} else if (log_fd == STDERR_FILENO) {
		if (asprintf(&line, "%s\n", msg) < 0)
			line = NULL;
	} else {
		if (asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"\n", when, level_names[level], msg) < 0)
			line = NULL;
	}
	if (line != NULL) {
		ssize_t w = write(log_fd, line, strlen(line));
		(void)w;
	}
	errno = saved;
}
