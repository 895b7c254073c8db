#include "engine/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define NS_PER_SEC 1000000000ll
/* How often a follower re-checks done() when the log is quiet. */
#define FOLLOW_RECHECK_MS 200
/* A log line longer than this is not the monitor's (it writes 16 KiB of
 * output a line at most, ~100 KiB escaped): it is skipped, not buffered. */
#define LINE_MAX_BYTES (1024 * 1024)
#define MAX_ROTATED    1000

/* ---- time ---- */

static bool parse_digits(const char **p, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 and the shortened forms Docker accepts for --since:
 * DATE [T HH [:MM [:SS [.FRAC]]]] [ZONE]; ZONE is Z or +hh:mm/-hh:mm.
 * Without a zone (allowed only if local_offset is given) the time is local
 * at that fixed offset. */
static bool parse_datetime(const char *s, const long *local_offset, int64_t *ret_ns)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	int64_t frac = 0;
	if (!parse_digits(&p, 4, &y) || *p++ != '-' || !parse_digits(&p, 2, &mo) || *p++ != '-' ||
	    !parse_digits(&p, 2, &d))
		return false;
	if (*p == 'T') {
		p++;
		if (!parse_digits(&p, 2, &h))
			return false;
		if (*p == ':') {
			p++;
			if (!parse_digits(&p, 2, &mi))
				return false;
			if (*p == ':') {
				p++;
				if (!parse_digits(&p, 2, &sec))
					return false;
				if (*p == '.') {
					p++;
					int n = 0;
					for (; *p >= '0' && *p <= '9'; p++, n++)
						if (n < 9)
							frac = frac * 10 + (*p - '0');
					if (n == 0)
						return false;
					for (; n < 9; n++)
						frac *= 10;
				}
			}
		}
	}
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h > 23 || mi > 59 ||
	    sec > 59)
		return false;

	long offset;
	if (*p == 'Z') {
		offset = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p++ == '-' ? -1 : 1;
		if (!parse_digits(&p, 2, &oh) || *p++ != ':' || !parse_digits(&p, 2, &om) || oh > 23 ||
		    om > 59)
			return false;
		offset = sign * (oh * 3600l + om * 60l);
	} else if (local_offset)
		offset = *local_offset;
	else
		return false;
	if (*p != '\0')
		return false;

	struct tm tm = {
	    .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
	int64_t t = (int64_t)timegm(&tm) - offset;
	*ret_ns = t * NS_PER_SEC + frac;
	return true;
}

/* Go's time.ParseDuration, in ns: [-+] then (number[.fraction] unit)+. */
static bool parse_go_duration(const char *s, int64_t *ret_ns)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {
	    {"ns", 1},       {"us", 1000},      {"\u00b5s", 1000},      {"\u03bcs", 1000},
	    {"ms", 1000000}, {"s", NS_PER_SEC}, {"m", 60 * NS_PER_SEC}, {"h", 3600 * NS_PER_SEC},
	};
	const char *p = s;
	bool neg = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*ret_ns = 0;
		return true;
	}
	if (*p == '\0')
		return false;
	double total = 0;
	while (*p) {
		double v = 0, scale = 1;
		bool digits = false;
		for (; *p >= '0' && *p <= '9'; p++, digits = true)
			v = v * 10 + (*p - '0');
		if (*p == '.') {
			p++;
			for (; *p >= '0' && *p <= '9'; p++, digits = true) {
				scale /= 10;
				v += (*p - '0') * scale;
			}
		}
		if (!digits)
			return false;
		size_t best = 0;
		int64_t unit = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t n = strlen(units[i].unit);
			if (n > best && strncmp(p, units[i].unit, n) == 0) {
				best = n;
				unit = units[i].ns;
			}
		}
		if (best == 0)
			return false;
		p += best;
		total += v * (double)unit;
		if (total > 9.2e18)
			return false;
	}
	*ret_ns = (int64_t)(neg ? -total : total);
	return true;
}

int logs_parse_time(const char *s, time_t now, int64_t *ret_ns, struct vsl_error **err)
{
	int64_t v;
	/* The order is Docker's (GetTimestamp): a duration first, "0" aside. */
	if (strcmp(s, "0") != 0 && parse_go_duration(s, &v)) {
		int64_t t = (int64_t)now * NS_PER_SEC - v;
		int64_t secs = t / NS_PER_SEC - (t % NS_PER_SEC < 0);
		*ret_ns = secs * NS_PER_SEC;
		return 0;
	}
	/* A zone, or a date with a "-hh:mm" zone, means the value says where it is. */
	size_t dashes = 0;
	for (const char *p = s; *p; p++)
		dashes += *p == '-';
	bool zoned = strpbrk(s, "zZ+") != NULL || dashes == 3;
	struct tm lt;
	long local_offset = localtime_r(&now, &lt) ? lt.tm_gmtoff : 0;
	if (parse_datetime(s, zoned ? NULL : &local_offset, &v)) {
		*ret_ns = v;
		return 0;
	}
	if (strchr(s, '-') == NULL) {
		/* A unix time: seconds, then up to 9 digits of fraction. */
		const char *p = s;
		int64_t secs = 0, frac = 0;
		int n = 0;
		for (; *p >= '0' && *p <= '9'; p++, n++) {
			if (secs > (INT64_MAX / NS_PER_SEC - 9) / 10)
				goto bad;
			secs = secs * 10 + (*p - '0');
		}
		if (n == 0)
			goto bad;
		if (*p == '.') {
			p++;
			for (n = 0; *p >= '0' && *p <= '9' && n < 9; p++, n++)
				frac = frac * 10 + (*p - '0');
			if (n == 0)
				goto bad;
			for (; n < 9; n++)
				frac *= 10;
		}
		if (*p != '\0')
			goto bad;
		*ret_ns = secs * NS_PER_SEC + frac;
		return 0;
	}
bad:
	return vsl_error_set_code(err, EINVAL,
	                          "invalid time '%s' (use RFC 3339 like 2024-01-02T15:04:05Z, unix seconds "
	                          "or a duration like 10m)",
	                          s);
}

static void format_time(int64_t ns, char buf[64])
{
	time_t secs = (time_t)(ns / NS_PER_SEC - (ns % NS_PER_SEC < 0));
	long frac = (long)(ns - (int64_t)secs * NS_PER_SEC);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* ---- reading ---- */

struct reader {
	const struct log_read_opts *opts;
	int out_fd, err_fd;
	int64_t skip; /* lines left to pass over for --tail */
	/* One output buffer, flushed when the target fd changes, so that
	 * stdout and stderr lines keep their order when both are one terminal. */
	int buf_fd;
	size_t buf_len;
	char buf[64 * 1024];
	/* The unfinished last line of what was read (the monitor may be mid-write). */
	char *line;
	size_t line_len, line_cap;
	bool line_too_long;
};

static int out_flush(struct reader *r, struct vsl_error **err)
{
	if (r->buf_len > 0 && write_all(r->buf_fd, r->buf, r->buf_len) < 0)
		return vsl_error_errno(err, errno, "write log output");
	r->buf_len = 0;
	return 0;
}

static int out_write(struct reader *r, int fd, const char *p, size_t n, struct vsl_error **err)
{
	if (fd != r->buf_fd || r->buf_len + n > sizeof(r->buf)) {
		if (out_flush(r, err) < 0)
			return -1;
		r->buf_fd = fd;
	}
	if (n > sizeof(r->buf))
		return write_all(fd, p, n) < 0 ? vsl_error_errno(err, errno, "write log output") : 0;
	memcpy(r->buf + r->buf_len, p, n);
	r->buf_len += n;
	return 0;
}

static int handle_line(struct reader *r, const char *line, size_t len, struct vsl_error **err)
{
	if (r->skip > 0) {
		r->skip--;
		return 0;
	}
	json_error_t jerr;
	json_t *j = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	if (!j)
		return 0; /* a torn or foreign line: skipped as Docker's reader does not crash on it */
	const char *stream = json_string_value(json_object_get(j, "stream"));
	const char *tstr = json_string_value(json_object_get(j, "time"));
	json_t *log = json_object_get(j, "log");
	int64_t ns = 0;
	int rc = 0;
	if (!stream || !tstr || !json_is_string(log) || !parse_datetime(tstr, NULL, &ns))
		goto out;
	bool is_err = strcmp(stream, "stderr") == 0;
	if ((is_err && !r->opts->stderr_) || (!is_err && !r->opts->stdout_))
		goto out;
	if ((r->opts->since_ns && ns < r->opts->since_ns) || (r->opts->until_ns && ns > r->opts->until_ns))
		goto out;
	int fd = is_err ? r->err_fd : r->out_fd;
	if (r->opts->timestamps) {
		char ts[64];
		format_time(ns, ts);
		size_t n = strlen(ts);
		ts[n++] = ' ';
		if ((rc = out_write(r, fd, ts, n, err)) < 0)
			goto out;
	}
	rc = out_write(r, fd, json_string_value(log), json_string_length(log), err);
out:
	json_decref(j);
	return rc;
}

/* Reads fd to its end, handing each complete line on. */
static int read_lines(struct reader *r, int fd, struct vsl_error **err)
{
	char chunk[64 * 1024];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vsl_error_errno(err, errno, "read log");
		if (n == 0)
			return 0;
		const char *p = chunk, *end = chunk + n;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t take = nl ? (size_t)(nl - p) : (size_t)(end - p);
			if (r->line_len + take > LINE_MAX_BYTES)
				r->line_too_long = true;
			if (nl && r->line_len == 0 && !r->line_too_long) {
				if (handle_line(r, p, take, err) < 0)
					return -1;
			} else if (!r->line_too_long) {
				if (r->line_len + take > r->line_cap) {
					size_t cap = (r->line_len + take) * 2;
					char *b = realloc(r->line, cap);
					if (!b)
						return vsl_error_errno(err, ENOMEM, "read log");
					r->line = b;
					r->line_cap = cap;
				}
				memcpy(r->line + r->line_len, p, take);
				r->line_len += take;
				if (nl && handle_line(r, r->line, r->line_len, err) < 0)
					return -1;
			}
			if (nl) {
				r->line_len = 0;
				r->line_too_long = false;
			}
			p += take + (nl ? 1 : 0);
		}
	}
}

static int64_t count_lines(int fd)
{
	char chunk[64 * 1024];
	int64_t n = 0;
	ssize_t k;
	while ((k = read(fd, chunk, sizeof(chunk))) > 0 || (k < 0 && errno == EINTR))
		for (const char *p = chunk, *end = chunk + (k > 0 ? k : 0);
		     (p = memchr(p, '\n', (size_t)(end - p))); p++)
			n++;
	lseek(fd, 0, SEEK_SET);
	return n;
}

static int open_log(const char *path, struct vsl_error **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno != ENOENT)
		return vsl_error_errno(err, errno, "open '%s'", path);
	return fd < 0 ? -ENOENT : fd;
}

struct log_files {
	int fds[MAX_ROTATED + 1]; /* oldest first; the last is PATH itself, or -1 */
	size_t n;
};

static void log_files_close(struct log_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->fds[i] >= 0)
			close(f->fds[i]);
	f->n = 0;
}

/* Opens PATH.<k> ... PATH.1, PATH at once, so that a rotation while we read
 * them does not show a file twice. */
static int log_files_open(const char *path, struct log_files *f, struct vsl_error **err)
{
	size_t rotated = 0;
	for (; rotated < MAX_ROTATED; rotated++) {
		_cleanup_free_ char *p = NULL;
		if (asprintf(&p, "%s.%zu", path, rotated + 1) < 0)
			return vsl_error_errno(err, ENOMEM, "read log");
		if (access(p, F_OK) < 0)
			break;
	}
	f->n = 0;
	for (size_t k = rotated; k >= 1; k--) {
		_cleanup_free_ char *p = NULL;
		if (asprintf(&p, "%s.%zu", path, k) < 0)
			return vsl_error_errno(err, ENOMEM, "read log");
		int fd = open_log(p, err);
		if (fd == -ENOENT)
			continue; /* rotated away meanwhile */
		if (fd < 0)
			return -1;
		f->fds[f->n++] = fd;
	}
	int fd = open_log(path, err);
	if (fd < 0 && fd != -ENOENT)
		return -1;
	f->fds[f->n++] = fd < 0 ? -1 : fd;
	return 0;
}

static bool same_file(int fd, const struct stat *st)
{
	struct stat cur;
	return fd >= 0 && fstat(fd, &cur) == 0 && cur.st_dev == st->st_dev && cur.st_ino == st->st_ino;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* Follows PATH from fd (its current file, or -1 when there is none yet). */
static int follow(struct reader *r, const char *path, int *fd, bool (*done)(void *), void *userdata,
                  struct vsl_error **err)
{
	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return vsl_error_errno(err, ENOMEM, "follow log");
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		dir[0] = '.', dir[1] = '\0';
	/* Notifications only shorten the wait; the periodic re-check is what
	 * makes it correct, so a failure to watch is not an error. */
	_cleanup_close_ int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ino >= 0)
		inotify_add_watch(ino, dir,
		                  IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE);

	for (;;) {
		/* Checked before the last read: what was written before the
		 * container stopped is read after done() said so. */
		bool finished =
		    (done && done(userdata)) || (r->opts->until_ns && now_ns() > r->opts->until_ns);
		for (;;) {
			if (*fd >= 0) {
				struct stat st;
				/* The monitor cut the only file (max-file 1): start over. */
				if (fstat(*fd, &st) == 0 && st.st_size < lseek(*fd, 0, SEEK_CUR)) {
					lseek(*fd, 0, SEEK_SET);
					r->line_len = 0;
				}
				if (read_lines(r, *fd, err) < 0)
					return -1;
			}
			struct stat st;
			if (stat(path, &st) < 0 || same_file(*fd, &st))
				break;
			/* Rotated: the old file is complete once renamed; finish it, then
			 * go on with the new PATH from its start. */
			if (*fd >= 0 && read_lines(r, *fd, err) < 0)
				return -1;
			int nfd = open_log(path, err);
			if (nfd == -ENOENT)
				break;
			if (nfd < 0)
				return -1;
			if (*fd >= 0)
				close(*fd);
			*fd = nfd;
			r->line_len = 0;
			r->line_too_long = false;
		}
		if (out_flush(r, err) < 0)
			return -1;
		if (finished)
			return 0;
		/* The readers are watched too: one that went away (a closed pipe or
		 * socket, a hung-up terminal) ends a quiet follow instead of leaving
		 * it waiting for a line that would only then fail to be written. */
		struct pollfd p[] = {
		    {.fd = ino, .events = POLLIN},
		    {.fd = r->out_fd, .events = 0},
		    {.fd = r->err_fd, .events = 0},
		};
		if (poll(p, ARRAY_SIZE(p), FOLLOW_RECHECK_MS) > 0) {
			char ev[4096];
			if ((p[1].revents | p[2].revents) & (POLLERR | POLLHUP))
				return vsl_error_errno(err, EPIPE, "write log output");
			while (read(ino, ev, sizeof(ev)) > 0)
				;
		}
	}
}

int logs_read(const char *log_path, const struct log_read_opts *opts, int out_fd, int err_fd,
              bool (*done)(void *), void *userdata, struct vsl_error **err)
{
	_cleanup_free_ struct reader *r = calloc(1, sizeof(*r));
	_cleanup_free_ struct log_files *files = calloc(1, sizeof(*files));
	if (!r || !files)
		return vsl_error_errno(err, ENOMEM, "read log '%s'", log_path);
	r->opts = opts;
	r->out_fd = out_fd;
	r->err_fd = err_fd;
	r->buf_fd = out_fd;

	int ret = log_files_open(log_path, files, err);
	if (ret < 0)
		goto out;
	if (opts->tail >= 0) {
		int64_t total = 0;
		for (size_t i = 0; i < files->n; i++)
			if (files->fds[i] >= 0)
				total += count_lines(files->fds[i]);
		r->skip = total > opts->tail ? total - opts->tail : 0;
	}
	for (size_t i = 0; i < files->n; i++) {
		if (files->fds[i] < 0)
			continue;
		/* A torn line at the end of a rotated file belongs to no one. */
		r->line_len = 0;
		r->line_too_long = false;
		if ((ret = read_lines(r, files->fds[i], err)) < 0)
			goto out;
	}
	r->skip = 0;
	if (opts->follow) {
		int *cur = &files->fds[files->n - 1];
		if ((ret = follow(r, log_path, cur, done, userdata, err)) < 0)
			goto out;
	}
	ret = out_flush(r, err);
out:
	log_files_close(files);
	free(r->line);
	if (ret < 0)
		return vsl_error_prefix(err, "read log '%s'", log_path);
	return 0;
}
