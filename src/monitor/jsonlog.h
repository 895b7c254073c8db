/* The monitor's writer of Docker's json-file log: output is cut into lines
 * (a line longer than JSONLOG_LINE_MAX, or unfinished at EOF, is written as
 * it is, as Docker does), each line becomes one JSON object a line, and the
 * file is rotated by size. libc only, and a fixed amount of memory.
 *
 *     static struct jsonlog log;
 *     static struct jsonlog_stream out = {.name = "stdout"};
 *     jsonlog_open(&log, path, max_size, max_file);
 *     jsonlog_feed(&log, &out, buf, n, &now);    (for each read)
 *     jsonlog_flush(&log);                       (before waiting again)
 *     jsonlog_end_stream(&log, &out, &err, &now); (at EOF: the partial line)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define JSONLOG_LINE_MAX (16 * 1024)

struct jsonlog_stream {
	const char *name; /* "stdout" or "stderr" */
	size_t len;
	struct timespec since; /* when the line's first byte came */
	char line[JSONLOG_LINE_MAX];
};

struct jsonlog {
	const char *path;
	int fd;
	int64_t size;     /* of the current file */
	int64_t max_size; /* 0: never rotate */
	int max_file;     /* files kept in all, the current one included */
	bool failed;      /* a write failed: said once on stderr */
	/* While counting, output is measured, not written: an entry is measured
	 * first so that rotation happens before it, never inside it. */
	bool counting;
	size_t count;
	size_t out_len;
	char out[8192];
};

/* Opens (appends to) path. Returns 0, or -errno. */
int jsonlog_open(struct jsonlog *l, const char *path, int64_t max_size, int max_file);
void jsonlog_feed(struct jsonlog *l, struct jsonlog_stream *s, const char *data, size_t len,
                  const struct timespec *now);
/* At s's EOF: writes its partial line, after other's (NULL: none) when that
 * one began first, so that the file keeps the order the bytes came in. */
void jsonlog_end_stream(struct jsonlog *l, struct jsonlog_stream *s, struct jsonlog_stream *other,
                        const struct timespec *now);
void jsonlog_flush(struct jsonlog *l);
void jsonlog_close(struct jsonlog *l);

/* "2024-01-02T03:04:05.123456789Z" (Docker's RFC3339NanoFixed, UTC) into
 * buf of at least JSONLOG_TIME_LEN + 1 bytes. */
#define JSONLOG_TIME_LEN 30
void jsonlog_format_time(const struct timespec *ts, char *buf, size_t size);
