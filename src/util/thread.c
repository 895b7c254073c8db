#include "util/thread.h"

#include <signal.h>

int thread_start(pthread_t *ret, void *(*fn)(void *arg), void *arg)
{
	sigset_t all, saved;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	int r = pthread_create(ret, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return r;
}
