/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An LD_PRELOAD shim that counts allocator calls, for the peer's side of perf/suite.sh: how many
 * times per second the hiredis client and redis-server call malloc, where floord's figure comes
 * from tests/alloc's guard (floord's own calls inside its lcore loops).
 *
 * Every call of malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign and valloc
 * (the "allocs" counter) and of free (the "frees" counter) in the whole process, every thread,
 * is counted and then passed on to the next definition (redis-server's jemalloc, or glibc's).
 * The counters live in a shared file, FC_ALLOC_COUNT_DIR/alloc.PID (two little-endian u64:
 * allocs, frees), so a reader samples them at any moment without stopping the process: the
 * suite reads them at the two marks of the steady state and divides by the time between.
 * Without FC_ALLOC_COUNT_DIR nothing is written and the calls are only passed on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct counts {
	uint64_t allocs;
	uint64_t frees;
};

static struct counts boot_counts;
static struct counts *counts = &boot_counts;

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);
static void *(*next_valloc)(size_t);

/* dlsym() may calloc before the real calloc is known: those few come from here, never freed. */
static _Alignas(16) unsigned char boot_heap[16384];
static size_t boot_used;
static int resolving;

static void *
boot_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (boot_used + n > sizeof(boot_heap))
		return NULL;
	p = boot_heap + boot_used;
	boot_used += n;
	return p;
}

static int
is_boot(const void *p)
{
	return (const unsigned char *)p >= boot_heap &&
	       (const unsigned char *)p < boot_heap + sizeof(boot_heap);
}

static void
resolve(void)
{
	if (next_malloc != NULL || resolving)
		return;
	resolving = 1;
	next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	next_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
	next_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
	next_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
	next_valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
	resolving = 0;
}

static inline void
count_alloc(void)
{
	__atomic_fetch_add(&counts->allocs, 1, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void
alloc_count_init(void)
{
	const char *dir = getenv("FC_ALLOC_COUNT_DIR");
	char path[4096];
	struct counts *m;
	int fd;

	resolve();
	if (dir == NULL || dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/alloc.%ld", dir, (long)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (ftruncate(fd, 4096) == 0) {
		m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED) {
			m->allocs = boot_counts.allocs;
			m->frees = boot_counts.frees;
			counts = m;
		}
	}
	close(fd);
}

void *
malloc(size_t n)
{
	resolve();
	if (next_malloc == NULL)
		return boot_alloc(n);
	count_alloc();
	return next_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	resolve();
	if (next_calloc == NULL) {
		void *p = b && a > SIZE_MAX / b ? NULL : boot_alloc(a * b);

		if (p != NULL)
			memset(p, 0, a * b);
		return p;
	}
	count_alloc();
	return next_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	resolve();
	if (is_boot(p)) {
		size_t avail = (size_t)(boot_heap + sizeof(boot_heap) - (unsigned char *)p);
		void *q = malloc(n);

		if (q != NULL)
			memcpy(q, p, n < avail ? n : avail); /* a boot block's size is not kept */
		return q;
	}
	count_alloc();
	return next_realloc(p, n);
}

void
free(void *p)
{
	if (p == NULL || is_boot(p))
		return;
	resolve();
	__atomic_fetch_add(&counts->frees, 1, __ATOMIC_RELAXED);
	next_free(p);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	resolve();
	count_alloc();
	return next_posix_memalign(out, align, n);
}

void *
aligned_alloc(size_t align, size_t n)
{
	resolve();
	count_alloc();
	return next_aligned_alloc(align, n);
}

void *
memalign(size_t align, size_t n)
{
	resolve();
	count_alloc();
	return next_memalign(align, n);
}

void *
valloc(size_t n)
{
	resolve();
	count_alloc();
	return next_valloc(n);
}
