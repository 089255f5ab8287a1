/* SPDX-License-Identifier: BSD-3-Clause */
/* Proves the guard counts what it should: one malloc, one lock and one log from a watched
 * thread, nothing from an unwatched one. Run under LD_PRELOAD by tests/alloc/run_guard.py. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

void fc_alloc_guard_enter(void) __attribute__((weak));
void fc_alloc_guard_leave(void) __attribute__((weak));

int
main(void)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	void *p;

	if (fc_alloc_guard_enter == NULL)
		return 2; /* not preloaded */
	p = malloc(16);   /* unwatched: not counted */
	free(p);
	fc_alloc_guard_enter();
	p = malloc(32);
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	fprintf(stderr, "guard selftest: one log line\n");
	fc_alloc_guard_leave();
	free(p);
	return 0;
}
