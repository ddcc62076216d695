/* util/pool: every item once, the sizes it picks, and the failure a serial loop would report. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/pool.h"
#include "tap.h"

#define ITEMS 10000

typedef struct {
	atomic_int seen[ITEMS];
	pthread_mutex_t mu;
	pool_fail fail;
	atomic_size_t threads_used;
} ctx;

static _Thread_local int counted;

static void each(void *arg, size_t i)
{
	ctx *c = arg;

	atomic_fetch_add(&c->seen[i], 1);
	if (!counted) {
		counted = 1;
		atomic_fetch_add(&c->threads_used, 1);
	}
	/* Items 7,000 and 3,000 fail, whichever thread and whichever comes first. */
	if (i == 7000 || i == 3000) {
		if (i == 7000)
			usleep(1000);
		mreg_seterr(MREG_EIO, "item %zu failed", i);
		pool_fail_note(&c->fail, &c->mu, i, MREG_EIO);
	}
}

int main(void)
{
	static ctx c = {.mu = PTHREAD_MUTEX_INITIALIZER, .fail = POOL_FAIL_INIT};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cpus > 0 ? 2 * (size_t)cpus : 2;
	bool once = true;

	if (want > POOL_THREADS_MAX)
		want = POOL_THREADS_MAX;
	tap_is_int(pool_threads(0, POOL_THREADS_MAX), 1, "no item: the calling thread alone");
	tap_is_int(pool_threads(1, POOL_THREADS_MAX), 1, "one item: one thread");
	tap_is_int(pool_threads(1000, POOL_THREADS_MAX), want, "many items: two per CPU, at most %d",
		   POOL_THREADS_MAX);
	tap_is_int(pool_threads(1000, 100), want, "a larger maximum is capped at %d", POOL_THREADS_MAX);
	tap_is_int(pool_threads(1000, 1), 1, "a maximum of one: one thread");

	pool_each(each, &c, ITEMS);
	for (size_t i = 0; i < ITEMS; i++)
		once &= atomic_load(&c.seen[i]) == 1;
	tap_ok(once, "pool_each: each of %d items exactly once", ITEMS);
	tap_ok(atomic_load(&c.threads_used) >= 1 && atomic_load(&c.threads_used) <= want,
	       "pool_each: on at most %zu threads (%zu used)", want, atomic_load(&c.threads_used));
	tap_is_int(c.fail.at, 3000, "the lowest failing item is kept, as a serial loop would report");
	tap_is_int(pool_fail_result(&c.fail), MREG_EIO, "its code is returned");
	tap_is_str(mreg_error_last(), "item 3000 failed", "and its message is the thread's error");

	pool_fail none = POOL_FAIL_INIT;
	tap_is_int(pool_fail_result(&none), 0, "nothing failed: 0");
	return tap_done();
}
