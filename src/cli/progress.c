/*
 * A progress line on stderr (bytes, rate, time left), only when stderr is a
 * terminal, and only once a command has run for MREG_PROGRESS_DELAY seconds
 * (0.3 unless set; git's GIT_PROGRESS_DELAY does the same).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p, const char *label)
{
	p->enabled = !cli_quiet && isatty(STDERR_FILENO);
	p->label = label;
	p->start = p->last = now();
	p->shown = false;
	p->delay = 0.3;
	const char *env = getenv("MREG_PROGRESS_DELAY");
	if (env && *env) {
		char *end;
		double d = strtod(env, &end);
		if (!*end && d >= 0 && d <= 3600)
			p->delay = d;
	}
}

void cli_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	cli_progress *p = ctx;
	char a[32], b[32], r[32], left[32] = "";
	double t = now(), elapsed, rate;

	if (!p->enabled || (t - p->last < 0.1 && done < total) || t - p->start < p->delay)
		return;
	p->last = t;
	elapsed = t - p->start;
	rate = elapsed > 0 ? (double)done / elapsed : 0;
	cli_human_size(a, sizeof(a), done);
	cli_human_size(b, sizeof(b), total);
	cli_human_size(r, sizeof(r), (uint64_t)rate);
	if (rate > 0 && total > done) {
		unsigned s = (unsigned)((double)(total - done) / rate);
		snprintf(left, sizeof(left), "  %u:%02u left", s / 60, s % 60);
	}
	if (total == 0) /* not known (yet): a server that sends no length */
		fprintf(stderr, "\r\033[K%s %s  %s/s", p->label, a, r);
	else
		fprintf(stderr, "\r\033[K%s %s / %s  %s/s%s", p->label, a, b, r, left);
	fflush(stderr);
	p->shown = true;
}

void cli_progress_done(cli_progress *p)
{
	if (p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}
