/* Worker threads over numbered items (pool.h). */
#include <stdio.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/pool.h"

size_t pool_threads(size_t items, size_t max)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus > 0 ? 2 * (size_t)cpus : 2;

	if (max > POOL_THREADS_MAX)
		max = POOL_THREADS_MAX;
	if (n > max)
		n = max;
	if (n > items)
		n = items;
	return n ? n : 1;
}

void pool_run(size_t threads, void *(*fn)(void *), void *arg)
{
	pthread_t t[POOL_THREADS_MAX];
	size_t started = 0;

	if (threads > POOL_THREADS_MAX)
		threads = POOL_THREADS_MAX;
	while (started + 1 < threads && pthread_create(&t[started], NULL, fn, arg) == 0)
		started++;
	fn(arg);
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
}

/* What pool_each() shares with its threads: the items are taken in turn. */
typedef struct {
	void (*each)(void *ctx, size_t i);
	void *ctx;
	size_t count;
	size_t next; /* taken under mu */
	pthread_mutex_t mu;
} each_pool;

static void *each_main(void *arg)
{
	each_pool *p = arg;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->count)
			return NULL;
		p->each(p->ctx, i);
	}
}

void pool_each(void (*each)(void *ctx, size_t i), void *ctx, size_t count)
{
	each_pool p = {.each = each, .ctx = ctx, .count = count, .mu = PTHREAD_MUTEX_INITIALIZER};

	pool_run(pool_threads(count, POOL_THREADS_MAX), each_main, &p);
	pthread_mutex_destroy(&p.mu);
}

void pool_fail_note(pool_fail *f, pthread_mutex_t *mu, size_t i, int rc)
{
	pthread_mutex_lock(mu);
	if (i < f->at) {
		f->at = i;
		f->rc = rc;
		snprintf(f->msg, sizeof(f->msg), "%s", mreg_error_last());
	}
	pthread_mutex_unlock(mu);
}

int pool_fail_result(const pool_fail *f)
{
	return f->at != SIZE_MAX ? mreg_seterr(f->rc, "%s", f->msg) : 0;
}
