/*
 * Worker threads over numbered items, the calling thread among them. What
 * create, import, pull, download, gc and fsck share: how many threads (two
 * per CPU: one may wait on the disk while the other hashes), running a
 * worker function on them, a whole "every item once" loop, and the failure
 * with the lowest item index, which is what a serial loop would have
 * reported (so a failure names the same file whatever the timing).
 */
#ifndef MREG_POOL_H
#define MREG_POOL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Threads a pool ever runs. */
#define POOL_THREADS_MAX 8

/* Threads for @items items: two per CPU, at most @max, no more than @items, at least 1. */
size_t pool_threads(size_t items, size_t max);

/*
 * @fn(@arg) on @threads threads, this one among them, all joined on return.
 * A thread that cannot be started is not waited for: with none, this one
 * runs @fn alone, so @fn must take work until none is left.
 */
void pool_run(size_t threads, void *(*fn)(void *), void *arg);

/* @each(@ctx, i) once for every i below @count, on pool_threads(@count, POOL_THREADS_MAX) threads. */
void pool_each(void (*each)(void *ctx, size_t i), void *ctx, size_t count);

/* The failure of the lowest item index among the workers. */
typedef struct {
	size_t at; /* SIZE_MAX: none */
	int rc;
	char msg[1024];
} pool_fail;

#define POOL_FAIL_INIT {.at = SIZE_MAX}

/* Note item @i's failure @rc (message: mreg_error_last()) under @mu, if it is the lowest yet. */
void pool_fail_note(pool_fail *f, pthread_mutex_t *mu, size_t i, int rc);

/* 0 when nothing failed, else the noted failure, set again as this thread's error. */
int pool_fail_result(const pool_fail *f);

#endif
