/* `vessel logs` over json-file logs written here by hand: order across
 * rotated files, the stream split (to two fds, or one in order), --tail,
 * --since/--until, --timestamps, torn and foreign lines, following across a
 * rotation and a cut, and Docker's spellings of --since times. Each test
 * works in its own mkdtemp directory, removed by the teardown. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/logs.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define S 1000000000ll
/* 2024-01-02T03:04:05Z, worked out by hand: 2024-01-01 is day 19723. */
#define T0 1704164645ll

struct fixture {
	char dir[64];
	char log[128];
	int out, err; /* files the output goes to */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-logs-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->log, sizeof(f->log), "%s/container.log", f->dir);
	char p[160];
	snprintf(p, sizeof(p), "%s/out", f->dir);
	f->out = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	snprintf(p, sizeof(p), "%s/err", f->dir);
	f->err = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	*state = f;
	return f->out < 0 || f->err < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->out);
	close(f->err);
	rm_rf_at(AT_FDCWD, f->dir);
	free(f);
	return 0;
}

static void put(const char *path, const char *content, bool append)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void put_n(struct fixture *f, int n, const char *content)
{
	char p[160];
	if (n == 0)
		snprintf(p, sizeof(p), "%s", f->log);
	else
		snprintf(p, sizeof(p), "%s.%d", f->log, n);
	put(p, content, false);
}

static char *slurp(int fd)
{
	static char buf[8192];
	off_t end = lseek(fd, 0, SEEK_CUR);
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0 && n == end);
	buf[n] = '\0';
	return buf;
}

#define LINE(text, stream, sec)                                                                              \
	"{\"log\":\"" text "\",\"stream\":\"" stream "\",\"time\":\"2024-01-02T03:04:" sec "Z\"}\n"

/* Three files, oldest .2, with both streams. */
static void three_files(struct fixture *f)
{
	put_n(f, 2, LINE("o1\\n", "stdout", "01.000000001") LINE("e1\\n", "stderr", "02.000000000"));
	put_n(f, 1,
	      LINE("o2\\n", "stdout", "03.000000000")
	          LINE("o3 \\\"q\\\" \\u00e9\\n", "stdout", "04.000000000"));
	put_n(f, 0, LINE("e2\\n", "stderr", "05.000000000") LINE("o4", "stdout", "06.000000000"));
}

static struct log_read_opts all(void)
{
	return (struct log_read_opts){.tail = -1, .stdout_ = true, .stderr_ = true};
}

static void test_rotated_files_in_order_and_streams(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	three_files(f);
	struct log_read_opts o = all();
	assert_int_equal(logs_read(f->log, &o, f->out, f->err, NULL, NULL, &err), 0);
	assert_string_equal(slurp(f->out), "o1\no2\no3 \"q\" \xc3\xa9\no4");
	assert_string_equal(slurp(f->err), "e1\ne2\n");
}

static void test_one_fd_keeps_order(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	three_files(f);
	struct log_read_opts o = all();
	assert_int_equal(logs_read(f->log, &o, f->out, f->out, NULL, NULL, &err), 0);
	assert_string_equal(slurp(f->out), "o1\ne1\no2\no3 \"q\" \xc3\xa9\ne2\no4");
}

static void test_stream_filter(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	three_files(f);
	struct log_read_opts o = all();
	o.stdout_ = false;
	assert_int_equal(logs_read(f->log, &o, f->out, f->err, NULL, NULL, &err), 0);
	assert_string_equal(slurp(f->out), "");
	assert_string_equal(slurp(f->err), "e1\ne2\n");
}

static void test_tail(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	three_files(f);
	struct log_read_opts o = all();
	o.tail = 3; /* across the boundary of .1 and the current file */
	assert_int_equal(logs_read(f->log, &o, f->out, f->out, NULL, NULL, &err), 0);
	assert_string_equal(slurp(f->out), "o3 \"q\" \xc3\xa9\ne2\no4");

	ftruncate(f->out, 0);
	lseek(f->out, 0, SEEK_SET);
	o.tail = 0;
	assert_int_equal(logs_read(f->log, &o, f->out, f->out, NULL, NULL, &err), 0);
	assert_string_equal(slurp(f->out), "");

	o.tail = 100;
	assert_int_equal(logs_read(f->log, &o, f->out, f->out, NULL, NULL, &err), 0);
	assert_string_equal(slurp(f->out), "o1\ne1\no2\no3 \"q\" \xc3\xa9\ne2\no4");
}

static void test_since_until_inclusive(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	three_files(f);
	struct log_read_opts o = all();
	o.since_ns = (T0 - 5 + 2) * S; /* 03:04:02 exactly: e1 is in */
	o.until_ns = (T0 - 5 + 5) * S; /* 03:04:05 exactly: e2 is in, o4 is out */
	assert_int_equal(logs_read(f->log, &o, f->out, f->out, NULL, NULL, &err), 0);
	assert_string_equal(slurp(f->out), "e1\no2\no3 \"q\" \xc3\xa9\ne2\n");
}

static void test_timestamps(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	/* Docker's own files may carry an offset and a short fraction: printed in UTC, 9 digits. */
	put_n(f, 0,
	      "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T04:04:05.5+01:00\"}\n"
	      "{\"log\":\"b\\n\",\"stream\":\"stderr\",\"time\":\"2024-01-02T03:04:06.000000001Z\"}\n");
	struct log_read_opts o = all();
	o.timestamps = true;
	assert_int_equal(logs_read(f->log, &o, f->out, f->out, NULL, NULL, &err), 0);
	assert_string_equal(slurp(f->out), "2024-01-02T03:04:05.500000000Z a\n"
	                                   "2024-01-02T03:04:06.000000001Z b\n");
}

static void test_torn_and_foreign_lines(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	put_n(
	    f, 0,
	    "not json\n" LINE("ok\\n", "stdout", "01.0") "{\"log\":1,\"stream\":\"stdout\",\"time\":\"x\"}\n"
	                                                 "\n" LINE("nul\\u0000byte\\n", "stdout",
	                                                           "02.0") "{\"log\":\"torn, being writ");
	struct log_read_opts o = all();
	assert_int_equal(logs_read(f->log, &o, f->out, f->err, NULL, NULL, &err), 0);
	char *got = slurp(f->out);
	assert_memory_equal(got, "ok\nnul\0byte\n", 12);
	assert_int_equal(lseek(f->out, 0, SEEK_CUR), 12);
}

static void test_missing_log_is_empty(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	struct log_read_opts o = all();
	assert_int_equal(logs_read(f->log, &o, f->out, f->err, NULL, NULL, &err), 0);
	assert_string_equal(slurp(f->out), "");
}

static void test_closed_output_is_an_error(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	three_files(f);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	struct log_read_opts o = all();
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	assert_true(logs_read(f->log, &o, p[1], p[1], NULL, NULL, &err) < 0);
	signal(SIGPIPE, old);
	assert_int_equal(vsl_error_code(err), -EPIPE);
	close(p[1]);
}

static bool never(void *userdata)
{
	(void)userdata;
	return false;
}

static void test_follow_ends_when_reader_leaves(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	/* The reader takes the output, then goes away while the log is quiet. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[256];
		size_t got = 0;
		ssize_t n;
		close(p[1]);
		while (got < strlen("o1\ne1\n") && (n = read(p[0], buf + got, sizeof(buf) - got)) > 0)
			got += (size_t)n;
		_exit(got == strlen("o1\ne1\n") && memcmp(buf, "o1\ne1\n", got) == 0 ? 0 : 1);
	}
	close(p[0]);
	struct log_read_opts o = all();
	o.follow = true;
	put_n(f, 2, LINE("o1\\n", "stdout", "01.0") LINE("e1\\n", "stderr", "02.0"));
	put_n(f, 1, "");
	put_n(f, 0, "");
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	alarm(20); /* a follow that missed the reader leaving would wait for ever */
	int r = logs_read(f->log, &o, p[1], p[1], never, NULL, &err);
	alarm(0);
	signal(SIGPIPE, old);
	close(p[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(r < 0);
	assert_int_equal(vsl_error_code(err), -EPIPE);
}

/* Plays the monitor: each call writes more, rotates, or cuts the file. */
struct writer {
	struct fixture *f;
	int calls;
};

static bool write_more(void *userdata)
{
	struct writer *w = userdata;
	char rotated[160];
	snprintf(rotated, sizeof(rotated), "%s.1", w->f->log);
	switch (w->calls++) {
	case 0:
		/* the log did not exist when following began */
		put(w->f->log, LINE("a\\n", "stdout", "10.0"), true);
		return false;
	case 1:
		put(w->f->log, LINE("b\\n", "stdout", "11.0") "{\"log\":\"c", true);
		return false;
	case 2:
		/* the line is finished, then the file rotated at once */
		put(w->f->log, "\\n\",\"stream\":\"stderr\",\"time\":\"2024-01-02T03:04:12Z\"}\n", true);
		assert_int_equal(rename(w->f->log, rotated), 0);
		put(w->f->log, LINE("d\\n", "stdout", "13.0") LINE("d2\\n", "stdout", "13.5"), true);
		return false;
	case 3:
		/* max-file 1: the monitor cuts the only file (shorter than it was:
		 * a cut is seen by the size going back) */
		put(w->f->log, LINE("e\\n", "stdout", "14.0"), false);
		return false;
	default:
		/* written before the container stopped: still read */
		put(w->f->log, LINE("f\\n", "stdout", "15.0"), true);
		return true;
	}
}

static void test_follow_across_rotation(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	struct writer w = {.f = f};
	struct log_read_opts o = all();
	o.follow = true;
	assert_int_equal(logs_read(f->log, &o, f->out, f->out, write_more, &w, &err), 0);
	assert_int_equal(w.calls, 5);
	assert_string_equal(slurp(f->out), "a\nb\nc\nd\nd2\ne\nf\n");
}

static void test_follow_with_tail_starts_at_the_end(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	three_files(f);
	struct writer w = {.f = f, .calls = 4};
	struct log_read_opts o = all();
	o.follow = true;
	o.tail = 1;
	assert_int_equal(logs_read(f->log, &o, f->out, f->out, write_more, &w, &err), 0);
	/* the last line (o4 has no newline of its own), then what came after */
	assert_string_equal(slurp(f->out), "o4f\n");
}

static int64_t parsed(const char *s, time_t now)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	int64_t ns = -1;
	int r = logs_parse_time(s, now, &ns, &err);
	if (r < 0)
		fail_msg("'%s': %s", s, vsl_error_message(err));
	return ns;
}

static void test_parse_time(void **state)
{
	(void)state;
	time_t now = 1700000000;
	setenv("TZ", "UTC0", 1);
	tzset();
	assert_int_equal(parsed("2024-01-02T03:04:05Z", now), T0 * S);
	assert_int_equal(parsed("2024-01-02T03:04:05.123456789+01:00", now), (T0 - 3600) * S + 123456789);
	assert_int_equal(parsed("2024-01-02T03:04:05.5Z", now), T0 * S + 500000000);
	assert_int_equal(parsed("2024-01-02T03:04:05-02:30", now), (T0 + 9000) * S);
	assert_int_equal(parsed("2024-01-02T03:04Z", now), (T0 - 5) * S);
	assert_int_equal(parsed("2024-01-02T03Z", now), (T0 - 245) * S);
	assert_int_equal(parsed("2024-01-02Z", now), (T0 - 3 * 3600 - 245) * S);
	assert_int_equal(parsed("2024-02-29T00:00:00Z", now), (T0 - 3 * 3600 - 245 + 58 * 86400) * S);
	/* no zone: local time */
	assert_int_equal(parsed("2024-01-02T03:04:05", now), T0 * S);
	setenv("TZ", "EST5", 1);
	tzset();
	assert_int_equal(parsed("2024-01-02T03:04:05", now), (T0 + 5 * 3600) * S);
	assert_int_equal(parsed("2024-01-02", now), (T0 - 3 * 3600 - 245 + 5 * 3600) * S);
	assert_int_equal(parsed("2024-01-02T03:04:05Z", now), T0 * S);
	setenv("TZ", "UTC0", 1);
	tzset();
	/* unix time */
	assert_int_equal(parsed("1700000000", now), 1700000000 * S);
	assert_int_equal(parsed("1700000000.25", now), 1700000000 * S + 250000000);
	assert_int_equal(parsed("0", now), 0);
	/* durations before now, whole seconds */
	assert_int_equal(parsed("10m", now), (1700000000 - 600) * S);
	assert_int_equal(parsed("1h30m", now), (1700000000 - 5400) * S);
	assert_int_equal(parsed("1.5h", now), (1700000000 - 5400) * S);
	assert_int_equal(parsed("90s", now), (1700000000 - 90) * S);
	assert_int_equal(parsed("500ms", now), (1700000000 - 1) * S);
	assert_int_equal(parsed("-10m", now), (1700000000 + 600) * S);
}

static void test_parse_time_rejects(void **state)
{
	(void)state;
	const char *bad[] = {"",
	                     "yesterday",
	                     "10x",
	                     "m",
	                     "2024-13-01T00:00:00Z",
	                     "2024-02-30T00:00:00Z",
	                     "2023-02-29",
	                     "2024-01-02T24:00:00Z",
	                     "2024-01-02T03:04:05Zjunk",
	                     "2024-01-02T03:04:05.Z",
	                     "2024-1-2",
	                     "-5",
	                     "1700000000.",
	                     "17000x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_error_ struct vsl_error *err = NULL;
		int64_t ns = 42;
		if (logs_parse_time(bad[i], 1700000000, &ns, &err) >= 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(vsl_error_code(err), -EINVAL);
		assert_int_equal(ns, 42);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rotated_files_in_order_and_streams, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_fd_keeps_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_since_until_inclusive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_and_foreign_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_log_is_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_closed_output_is_an_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow_across_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow_with_tail_starts_at_the_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow_ends_when_reader_leaves, setup, teardown),
	    cmocka_unit_test(test_parse_time),
	    cmocka_unit_test(test_parse_time_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
