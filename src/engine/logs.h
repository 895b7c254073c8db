/* `vessel logs`: reads a container's json-file log, as the monitor writes it
 * (src/monitor/protocol.h), and prints it as `docker logs` does.
 *
 *     struct log_read_opts o = {.tail = -1, .stdout_ = true, .stderr_ = true, .follow = true};
 *     logs_parse_time("10m", time(NULL), &o.since_ns, &err);
 *     logs_read(path, &o, STDOUT_FILENO, STDERR_FILENO, container_stopped, c, &err);
 *
 * The rotated files (PATH.<n> ... PATH.1, then PATH) are read in order. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct vsl_error;

struct log_read_opts {
	bool follow;
	bool timestamps; /* each line prefixed with "2024-01-02T03:04:05.123456789Z " */
	/* The last tail lines of the log, counted before the other filters as
	 * Docker counts them (so a stream filter may leave fewer); -1: all. */
	int64_t tail;
	int64_t since_ns, until_ns; /* since <= time <= until; 0: no bound */
	bool stdout_, stderr_;      /* the streams to print */
};

/* Writes the log's lines to out_fd (stdout) and err_fd (stderr), which may
 * be the same fd (order kept). A missing log is an empty one. follow: keeps
 * reading what is appended, across rotations, until done(userdata) returns
 * true (checked before each last read, so nothing written before it turned
 * true is missed; done NULL: until a write fails) or until_ns has passed.
 * A failed write (EPIPE: the reader went away) is an error. */
int logs_read(const char *log_path, const struct log_read_opts *opts, int out_fd, int err_fd,
              bool (*done)(void *), void *userdata, struct vsl_error **err);

/* A --since/--until value as Docker takes it, in ns since the epoch:
 * RFC 3339 with or without fraction and zone (no zone: local time, in the
 * zone in effect at now), a date, a unix time "1700000000[.123456789]", or
 * a Go duration before now ("10m", "1h30m", "1.5h"; relative times are whole
 * seconds, as Docker sends them). "0" is 0. */
int logs_parse_time(const char *s, time_t now, int64_t *ret_ns, struct vsl_error **err);
