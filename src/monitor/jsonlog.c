/* The json-file log of the monitor.
 *
 * The JSON here is written by hand: the monitor links against libc only (its
 * memory is paid once per container), which is the one place where vessel's
 * rule "JSON goes through the JSON library" yields. The document is one flat
 * object of three strings, and the only untrusted part, the container's
 * output, goes through json_string() below: quotes, backslashes and control
 * characters escaped, invalid UTF-8 replaced by U+FFFD as Docker does, so
 * that every line stays valid JSON whatever bytes the container writes. */
#include "monitor/jsonlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_out(struct jsonlog *l, const char *p, size_t n)
{
	while (n > 0 && l->fd >= 0) {
		ssize_t w = write(l->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* A full disk loses log lines, never the container: drop and go on. */
			if (!l->failed)
				fprintf(stderr, "vessel-monitor: write '%s': %s\n", l->path, strerror(errno));
			l->failed = true;
			return;
		}
		l->size += w;
		p += w;
		n -= (size_t)w;
	}
}

void jsonlog_flush(struct jsonlog *l)
{
	if (l->out_len > 0)
		write_out(l, l->out, l->out_len);
	l->out_len = 0;
}

static void emit(struct jsonlog *l, const char *p, size_t n)
{
	if (l->counting) {
		l->count += n;
		return;
	}
	while (n > 0) {
		if (l->out_len == sizeof(l->out))
			jsonlog_flush(l);
		size_t k = sizeof(l->out) - l->out_len;
		if (k > n)
			k = n;
		memcpy(l->out + l->out_len, p, k);
		l->out_len += k;
		p += k;
		n -= k;
	}
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_valid(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static void json_string(struct jsonlog *l, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0; /* bytes copied as they are, pending */
	emit(l, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		char esc[6];
		size_t esc_len = 0;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			esc_len = 2;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			esc_len = 2;
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			esc_len = 6;
		} else if (c >= 0x80) {
			size_t k = utf8_valid(p + i, n - i);
			if (k > 0) {
				run += k;
				i += k;
				continue;
			}
			memcpy(esc, "\\ufffd", 6);
			esc_len = 6;
		} else {
			run++;
			i++;
			continue;
		}
		emit(l, s + i - run, run);
		run = 0;
		emit(l, esc, esc_len);
		i++;
	}
	emit(l, s + n - run, run);
	emit(l, "\"", 1);
}

/* The proleptic Gregorian date of a day count since 1970-01-01 (the
 * era-based conversion of days_from_civil's inverse). By hand rather than
 * gmtime_r(): in a static glibc that pulls in the time zone file reader,
 * which is a tenth of the monitor's resident size. */
static void civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	*ret_y = (int64_t)yoe + era * 400 + (m <= 2);
	*ret_m = m;
	*ret_d = d;
}

void jsonlog_format_time(const struct timespec *ts, char *buf, size_t size)
{
	int64_t secs = ts->tv_sec, days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02u.%09ldZ", (long long)y, m, d,
	         (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), (long)ts->tv_nsec);
}

static void entry(struct jsonlog *l, const char *stream, const char *data, size_t len, const char *time)
{
	emit(l, "{\"log\":", 7);
	json_string(l, data, len);
	emit(l, ",\"stream\":\"", 11);
	emit(l, stream, strlen(stream));
	emit(l, "\",\"time\":\"", 10);
	emit(l, time, strlen(time));
	emit(l, "\"}\n", 3);
}

static int open_current(struct jsonlog *l, int flags)
{
	int fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | flags, 0640);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	l->fd = fd;
	l->size = st.st_size;
	return 0;
}

/* PATH.(n-1) -> PATH.n ... PATH -> PATH.1, then a new PATH: max_file files in all. */
static void rotate(struct jsonlog *l)
{
	char from[PATH_MAX], to[PATH_MAX];
	jsonlog_flush(l);
	close(l->fd);
	l->fd = -1;
	for (int i = l->max_file - 1; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", l->path);
		else
			snprintf(from, sizeof(from), "%s.%d", l->path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", l->path, i);
		if (rename(from, to) < 0 && errno != ENOENT)
			fprintf(stderr, "vessel-monitor: rotate '%s': %s\n", from, strerror(errno));
	}
	/* With max_file 1 the only file is cut to nothing, as Docker does. */
	int r = open_current(l, O_TRUNC);
	if (r < 0)
		fprintf(stderr, "vessel-monitor: open '%s': %s\n", l->path, strerror(-r));
}

static void write_entry(struct jsonlog *l, const char *stream, const char *data, size_t len,
                        const struct timespec *now)
{
	char time[JSONLOG_TIME_LEN + 1];
	jsonlog_format_time(now, time, sizeof(time));
	if (l->max_size > 0) {
		l->counting = true;
		l->count = 0;
		entry(l, stream, data, len, time);
		l->counting = false;
		int64_t pending = l->size + (int64_t)l->out_len;
		if (pending > 0 && pending + (int64_t)l->count > l->max_size)
			rotate(l);
	}
	entry(l, stream, data, len, time);
}

void jsonlog_feed(struct jsonlog *l, struct jsonlog_stream *s, const char *data, size_t len,
                  const struct timespec *now)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) + 1 : len;
		size_t room = sizeof(s->line) - s->len;
		if (take > room)
			take = room;
		/* A whole line in hand and nothing buffered: no copy. */
		if (s->len == 0 && nl && take == (size_t)(nl - data) + 1) {
			write_entry(l, s->name, data, take, now);
		} else {
			if (s->len == 0)
				s->since = *now;
			memcpy(s->line + s->len, data, take);
			s->len += take;
			if (s->line[s->len - 1] == '\n' || s->len == sizeof(s->line)) {
				write_entry(l, s->name, s->line, s->len, now);
				s->len = 0;
			}
		}
		data += take;
		len -= take;
	}
}

static bool began_before(const struct jsonlog_stream *a, const struct jsonlog_stream *b)
{
	return a->since.tv_sec < b->since.tv_sec ||
	       (a->since.tv_sec == b->since.tv_sec && a->since.tv_nsec < b->since.tv_nsec);
}

void jsonlog_end_stream(struct jsonlog *l, struct jsonlog_stream *s, struct jsonlog_stream *other,
                        const struct timespec *now)
{
	if (s->len == 0)
		return;
	if (other && other->len > 0 && began_before(other, s)) {
		write_entry(l, other->name, other->line, other->len, now);
		other->len = 0;
	}
	write_entry(l, s->name, s->line, s->len, now);
	s->len = 0;
}

int jsonlog_open(struct jsonlog *l, const char *path, int64_t max_size, int max_file)
{
	l->path = path;
	l->fd = -1;
	l->max_size = max_size;
	l->max_file = max_file < 1 ? 1 : max_file;
	l->out_len = 0;
	return open_current(l, 0);
}

void jsonlog_close(struct jsonlog *l)
{
	jsonlog_flush(l);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
