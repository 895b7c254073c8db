/* Helper threads of a vessel process (network wiring, directory removal):
 * started with every signal blocked, so that signals go to the main thread,
 * which forwards them to the container. */
#pragma once

#include <pthread.h>

/* pthread_create(); returns 0 or the error number. */
int thread_start(pthread_t *ret, void *(*fn)(void *arg), void *arg);
