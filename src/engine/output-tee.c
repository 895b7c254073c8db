#include "engine/output-tee.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "monitor/jsonlog.h"
#include "util/error.h"
#include "util/fs.h"

struct output_tee {
	int saved[2];    /* the original stdout, stderr */
	int read_end[2]; /* of the pipes the container writes */
	struct jsonlog log;
	struct jsonlog_stream streams[2];
	pthread_t thread;
	bool started;
};

int output_tee_prepare(const char *log_path, struct output_tee **ret, struct vsl_error **err)
{
	struct output_tee *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return vsl_error_errno(err, ENOMEM, "log output");
	t->streams[0].name = "stdout";
	t->streams[1].name = "stderr";
	t->saved[0] = t->saved[1] = t->read_end[0] = t->read_end[1] = -1;
	int r = jsonlog_open(&t->log, log_path, 0, 1);
	if (r < 0) {
		free(t);
		return vsl_error_errno(err, -r, "open '%s'", log_path);
	}
	for (int i = 0; i < 2; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0 || (t->saved[i] = fcntl(1 + i, F_DUPFD_CLOEXEC, 3)) < 0) {
			r = vsl_error_errno(err, errno, "log output");
			output_tee_finish(t);
			return r;
		}
		t->read_end[i] = p[0];
		/* dup2 clears O_CLOEXEC: the container inherits fd 1 and 2. */
		dup2(p[1], 1 + i);
		close(p[1]);
	}
	*ret = t;
	return 0;
}

static void *pump(void *arg)
{
	struct output_tee *t = arg;
	bool open[2] = {true, true};
	char buf[16384];
	while (open[0] || open[1]) {
		struct pollfd p[2] = {{.fd = open[0] ? t->read_end[0] : -1, .events = POLLIN},
		                      {.fd = open[1] ? t->read_end[1] : -1, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(t->read_end[i], buf, sizeof(buf));
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				open[i] = false;
				jsonlog_end_stream(&t->log, &t->streams[i], &t->streams[1 - i], &now);
				continue;
			}
			write_all(t->saved[i], buf, (size_t)n);
			jsonlog_feed(&t->log, &t->streams[i], buf, (size_t)n, &now);
		}
		jsonlog_flush(&t->log);
	}
	jsonlog_flush(&t->log);
	return NULL;
}

void output_tee_start(struct output_tee *t)
{
	if (t && !t->started)
		t->started = pthread_create(&t->thread, NULL, pump, t) == 0;
}

void output_tee_finish(struct output_tee *t)
{
	if (t == NULL)
		return;
	/* Our copies of the write ends go; the pump sees EOF once the container's do. */
	for (int i = 0; i < 2; i++)
		if (t->saved[i] >= 0)
			dup2(t->saved[i], 1 + i);
	if (!t->started)
		output_tee_start(t);
	if (t->started)
		pthread_join(t->thread, NULL);
	for (int i = 0; i < 2; i++) {
		if (t->saved[i] >= 0)
			close(t->saved[i]);
		if (t->read_end[i] >= 0)
			close(t->read_end[i]);
	}
	jsonlog_close(&t->log);
	free(t);
}
