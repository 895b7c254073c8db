/* The json-file writer's partial lines at EOF: whichever stream ends first,
 * unfinished lines are written in the order their first bytes came. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "monitor/jsonlog.h"

static struct jsonlog log_;
static struct jsonlog_stream out = {.name = "stdout"}, err = {.name = "stderr"};

/* The file's lines with their "time" fields cut off, joined. */
static char *written(const char *path)
{
	static char text[4096];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	char *w = text;
	for (char *r = text; *r;) {
		char *cut = strstr(r, ",\"time\":");
		char *end = strchr(r, '\n');
		if (cut && end && cut < end) {
			memmove(w, r, (size_t)(cut - r));
			w += cut - r;
			*w++ = '}';
			*w++ = '\n';
			r = end + 1;
		} else {
			break;
		}
	}
	*w = '\0';
	return text;
}

static void run(bool stdout_first, bool stderr_ends_first, const char *expected)
{
	char path[] = "/tmp/vessel-test-jsonlog-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(jsonlog_open(&log_, path, 0, 1), 0);
	struct timespec t1 = {.tv_sec = 100, .tv_nsec = 5}, t2 = {.tv_sec = 100, .tv_nsec = 6};
	struct timespec end = {.tv_sec = 101};
	jsonlog_feed(&log_, &out, "no newline", 10, stdout_first ? &t1 : &t2);
	jsonlog_feed(&log_, &err, "e", 1, stdout_first ? &t2 : &t1);
	if (stderr_ends_first) {
		jsonlog_end_stream(&log_, &err, &out, &end);
		jsonlog_end_stream(&log_, &out, &err, &end);
	} else {
		jsonlog_end_stream(&log_, &out, &err, &end);
		jsonlog_end_stream(&log_, &err, &out, &end);
	}
	jsonlog_close(&log_);
	assert_string_equal(written(path), expected);
	unlink(path);
}

static const char stdout_then_stderr[] = "{\"log\":\"no newline\",\"stream\":\"stdout\"}\n"
                                         "{\"log\":\"e\",\"stream\":\"stderr\"}\n";
static const char stderr_then_stdout[] = "{\"log\":\"e\",\"stream\":\"stderr\"}\n"
                                         "{\"log\":\"no newline\",\"stream\":\"stdout\"}\n";

static void stdout_began_first(void **state)
{
	(void)state;
	run(true, true, stdout_then_stderr);
	run(true, false, stdout_then_stderr);
}

static void stderr_began_first(void **state)
{
	(void)state;
	run(false, true, stderr_then_stdout);
	run(false, false, stderr_then_stdout);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stdout_began_first),
	    cmocka_unit_test(stderr_began_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
