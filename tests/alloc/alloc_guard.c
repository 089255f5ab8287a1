/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An LD_PRELOAD library that watches the packet path (DESIGN invariant 1: after start-up
 * nothing on it allocates, locks, logs or makes a syscall). floord's lcore loop calls the weak
 * hooks fc_alloc_guard_enter()/leave() around its polling; between them, on that thread, every
 * call of an allocator, a lock, a logger or a syscall wrapper made *from floord's own code*
 * (the caller's address is inside the executable) is counted. Calls the PMDs make inside a
 * burst are theirs (a replay PMD reads and writes files by design) and are not counted.
 *
 * At exit the counts go to the file named by FC_ALLOC_GUARD_OUT as "name count" lines, with
 * "entered N" saying how many lcore threads were watched, so a run that watched nothing fails.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum guard_kind { G_MALLOC, G_RTE_MALLOC, G_LOCK, G_LOG, G_SYSCALL, G__COUNT };
static const char *const kind_names[G__COUNT] = { "malloc", "rte_malloc", "lock", "log",
						  "syscall" };

static __thread int watching;
static uintptr_t text_lo, text_hi;
static unsigned long counts[G__COUNT];
static unsigned long entered;
static void *first_caller[G__COUNT];

static int
find_exe(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0')
		return 0; /* the executable comes first, with an empty name */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			text_lo = info->dlpi_addr + ph->p_vaddr;
			text_hi = text_lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

void fc_alloc_guard_enter(void);
void fc_alloc_guard_leave(void);

void
fc_alloc_guard_enter(void)
{
	if (text_hi == 0)
		dl_iterate_phdr(find_exe, NULL);
	__atomic_fetch_add(&entered, 1, __ATOMIC_RELAXED);
	watching = 1;
}

void
fc_alloc_guard_leave(void)
{
	watching = 0;
}

static inline void
note(enum guard_kind k, void *caller)
{
	uintptr_t c = (uintptr_t)caller;

	if (!watching || c < text_lo || c >= text_hi)
		return;
	if (__atomic_fetch_add(&counts[k], 1, __ATOMIC_RELAXED) == 0)
		first_caller[k] = caller;
}

#define CALLER __builtin_return_address(0)

/* ---- libc allocators: glibc's own entry points, no dlsym recursion ---------------------- */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

void *
malloc(size_t n)
{
	note(G_MALLOC, CALLER);
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	note(G_MALLOC, CALLER);
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	note(G_MALLOC, CALLER);
	return __libc_realloc(p, n);
}

int
posix_memalign(void **p, size_t align, size_t n)
{
	note(G_MALLOC, CALLER);
	*p = __libc_memalign(align, n);
	return *p == NULL ? 12 : 0;
}

/* ---- DPDK allocators, locks and logs: forwarded to the real ones ------------------------- */
#define FORWARD(ret, name, kind, params, args)                                                     \
	ret name params                                                                            \
	{                                                                                          \
		static ret(*real) params;                                                          \
		note(kind, CALLER);                                                                \
		if (real == NULL)                                                                  \
			real = (ret(*) params)dlsym(RTLD_NEXT, #name);                             \
		return real args;                                                                  \
	}

FORWARD(void *, rte_malloc, G_RTE_MALLOC, (const char *t, size_t n, unsigned int a), (t, n, a))
FORWARD(void *, rte_zmalloc, G_RTE_MALLOC, (const char *t, size_t n, unsigned int a), (t, n, a))
FORWARD(void *, rte_calloc, G_RTE_MALLOC, (const char *t, size_t k, size_t n, unsigned int a),
	(t, k, n, a))
FORWARD(void *, rte_realloc, G_RTE_MALLOC, (void *p, size_t n, unsigned int a), (p, n, a))
FORWARD(void *, rte_malloc_socket, G_RTE_MALLOC, (const char *t, size_t n, unsigned int a, int s),
	(t, n, a, s))
FORWARD(void *, rte_zmalloc_socket, G_RTE_MALLOC, (const char *t, size_t n, unsigned int a, int s),
	(t, n, a, s))
FORWARD(int, pthread_mutex_lock, G_LOCK, (pthread_mutex_t * m), (m))
FORWARD(int, pthread_spin_lock, G_LOCK, (pthread_spinlock_t * l), (l))
FORWARD(int, rte_vlog, G_LOG, (uint32_t l, uint32_t t, const char *f, va_list ap), (l, t, f, ap))
FORWARD(int, puts, G_LOG, (const char *s), (s))
FORWARD(int, fputs, G_LOG, (const char *s, FILE *f), (s, f))
FORWARD(size_t, fwrite, G_LOG, (const void *p, size_t s, size_t n, FILE *f), (p, s, n, f))
FORWARD(int, vfprintf, G_LOG, (FILE * f, const char *fmt, va_list ap), (f, fmt, ap))
FORWARD(ssize_t, write, G_SYSCALL, (int fd, const void *b, size_t n), (fd, b, n))
FORWARD(ssize_t, read, G_SYSCALL, (int fd, void *b, size_t n), (fd, b, n))
FORWARD(int, usleep, G_SYSCALL, (useconds_t u), (u))
FORWARD(int, sched_yield, G_SYSCALL, (void), ())
FORWARD(int, nanosleep, G_SYSCALL, (const struct timespec *a, struct timespec *b), (a, b))

int
rte_log(uint32_t level, uint32_t type, const char *fmt, ...)
{
	va_list ap;
	int rc;

	note(G_LOG, CALLER);
	va_start(ap, fmt);
	rc = rte_vlog(level, type, fmt, ap);
	va_end(ap);
	return rc;
}

int
printf(const char *fmt, ...)
{
	va_list ap;
	int rc;

	note(G_LOG, CALLER);
	va_start(ap, fmt);
	rc = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return rc;
}

int
fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int rc;

	note(G_LOG, CALLER);
	va_start(ap, fmt);
	rc = vfprintf(f, fmt, ap);
	va_end(ap);
	return rc;
}

__attribute__((destructor)) static void
report(void)
{
	const char *path = getenv("FC_ALLOC_GUARD_OUT");
	FILE *f;

	if (path == NULL)
		return;
	f = fopen(path, "w");
	if (f == NULL)
		return;
	fprintf(f, "entered %lu\n", entered);
	for (int k = 0; k < G__COUNT; k++)
		fprintf(f, "%s %lu %p\n", kind_names[k], counts[k], first_caller[k]);
	fclose(f);
}
