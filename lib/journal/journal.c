/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal's control path and its writer thread. Open creates or recovers the file (with
 * recovery.c) and starts the writer; the writer drains the producers' rings into one buffer,
 * stamps each record's seq and crc in file order, write()s, and makes the batch durable with
 * one fdatasync (group commit) before it publishes the durable counters the TX side waits on.
 * The producers never wait for any of this: they see a ring with room, or -ENOBUFS.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal_priv.h"

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Writes all n bytes (a short write is continued; EINTR retried). 0 or -errno. */
static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsyncs the directory holding path, so a file just linked into it survives a crash. */
static int
sync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc = 0;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * Creates the journal with its header, atomically: the header is written and synced in a
 * temporary file that is then linked to path, so a crash never leaves a file at path with a
 * half-written header (which open would have to tell from a damaged one). link() fails if
 * path appeared meanwhile (another floord won the race): then that file is used.
 */
static int
create_journal(const char *path, char *err, size_t err_len)
{
	char tmp[PATH_MAX];
	uint8_t h[FC__J_HEADER_LEN];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		fc__journal_seterr(err, err_len, "journal %s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = -errno;
		fc__journal_seterr(err, err_len, "journal %s: cannot create %s: %s", path, tmp,
				   strerror(-rc));
		return rc;
	}
	fc__journal_header(h, real_ns());
	rc = write_all(fd, h, sizeof(h));
	if (rc == 0 && fdatasync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST)
		rc = -errno;
	unlink(tmp);
	if (rc == 0)
		rc = sync_dir_of(path);
	if (rc != 0)
		fc__journal_seterr(err, err_len, "journal %s: cannot create: %s", path,
				   strerror(-rc));
	return rc;
}

static int
resolve_opts(const struct fc_journal_opts *in, struct fc_journal_opts *o, char *err, size_t err_len)
{
	static const struct fc_journal_opts none;

	*o = in != NULL ? *in : none;
	if (o->producers == 0)
		o->producers = 1;
	if (o->ring_slots == 0)
		o->ring_slots = FC__J_DEF_RING_SLOTS;
	if (o->batch_max == 0)
		o->batch_max = FC__J_DEF_BATCH_MAX;
	if (o->max_delay_us == 0)
		o->max_delay_us = FC__J_DEF_DELAY_US;
	if (o->idle_us == 0)
		o->idle_us = FC__J_DEF_IDLE_US;
	if (o->max_clues == 0)
		o->max_clues = FC__J_DEF_MAX_CLUES;
	if (o->producers > FC_JOURNAL_MAX_PRODUCERS) {
		fc__journal_seterr(err, err_len, "journal: %u producers, at most %u", o->producers,
				   FC_JOURNAL_MAX_PRODUCERS);
		return -EINVAL;
	}
	if (o->ring_slots < FC__J_MIN_RING_SLOTS || o->ring_slots > FC__J_MAX_RING_SLOTS ||
	    (o->ring_slots & (o->ring_slots - 1)) != 0) {
		fc__journal_seterr(err, err_len,
				   "journal: ring_slots %u: a power of two in %u .. %u",
				   o->ring_slots, FC__J_MIN_RING_SLOTS, FC__J_MAX_RING_SLOTS);
		return -EINVAL;
	}
	if (o->max_clues > (1u << 30)) {
		fc__journal_seterr(err, err_len, "journal: max_clues %u above %u", o->max_clues,
				   1u << 30);
		return -EINVAL;
	}
	return 0;
}

static void
free_journal(struct fc_journal *j)
{
	if (j->rings != NULL) {
		for (unsigned int i = 0; i < j->n_rings; i++)
			free(j->rings[i].mem);
		free(j->rings);
	}
	free((void *)j->guard.keys);
	free((void *)j->guard.claims);
	free(j->buf);
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

static int
alloc_journal(struct fc_journal *j, const struct fc_journal_opts *o)
{
	size_t ring_bytes = (size_t)o->ring_slots * FC_JOURNAL_SLOT;
	uint64_t guard_slots = 1;

	/*
	 * Everything a producer touches is written here, at open: a page first touched by an
	 * append would fault on the packet path (calloc'd memory is mapped lazily).
	 */
	j->rings = aligned_alloc(64, o->producers * sizeof(*j->rings));
	if (j->rings == NULL)
		return -ENOMEM;
	memset(j->rings, 0, o->producers * sizeof(*j->rings));
	j->n_rings = o->producers;
	for (unsigned int i = 0; i < j->n_rings; i++) {
		j->rings[i].mem = aligned_alloc(64, ring_bytes);
		if (j->rings[i].mem == NULL)
			return -ENOMEM;
		memset(j->rings[i].mem, 0, ring_bytes);
		j->rings[i].nslots = o->ring_slots;
	}
	/* at most half full, so a probe for a free slot stays short */
	while (guard_slots < 2 * (uint64_t)o->max_clues)
		guard_slots <<= 1;
	j->guard.keys = malloc(guard_slots * sizeof(*j->guard.keys));
	j->guard.claims = malloc(guard_slots * sizeof(*j->guard.claims));
	if (j->guard.keys == NULL || j->guard.claims == NULL)
		return -ENOMEM;
	for (uint64_t i = 0; i < guard_slots; i++) {
		atomic_init(&j->guard.keys[i], 0);
		atomic_init(&j->guard.claims[i], 0);
	}
	j->guard.mask = guard_slots - 1;
	/* the buffer must take the largest record a ring can hold, and batches of small ones */
	j->buf_cap = ring_bytes > (1u << 20) ? ring_bytes : (1u << 20);
	j->buf = malloc(j->buf_cap);
	return j->buf == NULL ? -ENOMEM : 0;
}

/* The writer: sets the sticky error that stops every later append and every durable step. */
static void
fail(struct fc_journal *j, int rc)
{
	int none = 0;

	atomic_compare_exchange_strong(&j->error, &none, rc);
}

static int
flush_buf(struct fc_journal *j)
{
	int rc = write_all(j->fd, j->buf, j->buf_len);

	if (rc == 0) {
		atomic_fetch_add_explicit(&j->st_bytes, j->buf_len, memory_order_relaxed);
		j->buf_len = 0;
	}
	return rc;
}

/* Copies n bytes from the ring at byte position pos (unmasked), wrapping at the end. */
static void
ring_get(const struct fc__jring *r, uint64_t pos, uint8_t *dst, size_t n)
{
	size_t size = r->nslots * FC_JOURNAL_SLOT;
	size_t at = pos & (size - 1);
	size_t first = n < size - at ? n : size - at;

	memcpy(dst, r->mem + at, first);
	if (n > first)
		memcpy(dst + first, r->mem, n - first);
}

/*
 * Moves records from ring r into the write buffer, in the ring's order, giving each its seq
 * and crc, until the ring is empty or the batch is full or old enough (fc__jbatch). The
 * ring's slots are released as soon as a record is copied: the buffer holds it from then on.
 * Returns 0 or -errno from a write.
 */
struct fc__jbatch {
	uint64_t n;        /* records taken since the last fdatasync */
	uint64_t first_ns; /* when the first of them was taken */
	bool full;         /* batch_max records, or max_delay since the first */
};

static int
drain_ring(struct fc_journal *j, struct fc__jring *r, struct fc__jbatch *b)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	while (tail < head && !b->full) {
		uint8_t lenb[4];
		uint32_t len;
		uint8_t *rec;
		int rc;

		/* a record starts on a slot and its 24-byte header never straddles the wrap */
		ring_get(r, tail * FC_JOURNAL_SLOT + 4, lenb, 4);
		len = fc__get32(lenb);
		if (j->buf_len + len > j->buf_cap) {
			rc = flush_buf(j);
			if (rc != 0)
				return rc;
		}
		rec = j->buf + j->buf_len;
		ring_get(r, tail * FC_JOURNAL_SLOT, rec, len);
		fc__put64(rec + 8, j->next_seq++);
		fc__put32(rec, fc__journal_crc(rec, len));
		j->buf_len += len;
		tail += (len + FC_JOURNAL_SLOT - 1) / FC_JOURNAL_SLOT;
		atomic_store_explicit(&r->tail, tail, memory_order_release);
		r->taken++;
		if (b->n++ == 0)
			b->first_ns = mono_ns();
		/* reading the clock every 16 records bounds its cost and the overshoot */
		if (b->n >= j->batch_max ||
		    ((b->n & 15) == 0 && mono_ns() - b->first_ns >= j->max_delay_ns))
			b->full = true;
	}
	return 0;
}

/*
 * Writes what the buffer holds, syncs, and only then says it is durable: per producer (the
 * tickets taken so far) and as the last seq. 0 or -errno.
 */
static int
commit(struct fc_journal *j, uint64_t batch)
{
	int rc = flush_buf(j);

	if (rc != 0)
		return rc;
	if (fdatasync(j->fd) != 0)
		return -errno;
	atomic_fetch_add_explicit(&j->st_syncs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&j->st_records, batch, memory_order_relaxed);
	if (batch > atomic_load_explicit(&j->st_max_batch, memory_order_relaxed))
		atomic_store_explicit(&j->st_max_batch, batch, memory_order_relaxed);
	/*
	 * The seq first: whoever sees its ticket durable (acquire) must also see a durable_seq
	 * that covers it, or a caller checking both can find its own record not yet durable.
	 */
	atomic_store_explicit(&j->durable_seq, j->next_seq - 1, memory_order_release);
	for (unsigned int i = 0; i < j->n_rings; i++)
		atomic_store_explicit(&j->rings[i].durable, j->rings[i].taken,
				      memory_order_release);
	return 0;
}

static void
idle(const struct fc_journal *j)
{
	struct timespec ts = { .tv_sec = (time_t)(j->idle_ns / 1000000000u),
			       .tv_nsec = (long)(j->idle_ns % 1000000000u) };

	nanosleep(&ts, NULL);
}

/*
 * The group commit policy: one pass copies records out of every ring (starting at a rotating
 * ring, so no producer always goes last) until the rings are empty, or batch_max records were
 * taken, or max_delay has passed since the first; then one write and one fdatasync make the
 * batch durable. So a lone award waits for nothing but its own write and sync, and while one
 * fdatasync runs the next batch gathers in the rings: the slower the disk, the bigger the
 * batches. With nothing to do the writer sleeps idle_us: the producers never make a syscall,
 * so they cannot wake it.
 */
static void *
writer_main(void *arg)
{
	struct fc_journal *j = arg;

	/* the default 50 us timer slack would stretch every poll by up to that much */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	for (;;) {
		/* read before draining: whatever was appended before close is then drained */
		bool stop = atomic_load_explicit(&j->stop, memory_order_acquire);
		struct fc__jbatch b = { 0 };
		int rc = 0;

		if (atomic_load_explicit(&j->error, memory_order_relaxed) == 0) {
			for (unsigned int k = 0; k < j->n_rings && !b.full && rc == 0; k++)
				rc = drain_ring(j, &j->rings[(j->next_ring + k) % j->n_rings], &b);
			j->next_ring = (j->next_ring + 1) % j->n_rings;
			if (rc == 0 && b.n > 0)
				rc = commit(j, b.n);
			if (rc != 0)
				fail(j, rc);
		}
		if (b.n > 0 && rc == 0)
			continue;
		if (stop)
			break;
		idle(j);
	}
	return NULL;
}

static int
start_writer(struct fc_journal *j, const struct fc_journal_opts *o)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int rc;

	rc = pthread_attr_init(&attr);
	if (rc != 0)
		return -rc;
	if (o->writer_cpus != NULL)
		rc = pthread_attr_setaffinity_np(&attr, sizeof(cpu_set_t), o->writer_cpus);
	/* signals (floord's SIGTERM drain) go to other threads, never interrupt a write */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc == 0)
		rc = pthread_create(&j->thread, &attr, writer_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -rc;
	pthread_setname_np(j->thread, "fc-journal");
	j->thread_started = true;
	return 0;
}

/* Opens (creating if need be) and locks the file. The fd, or -errno. */
static int
open_locked(const char *path, char *err, size_t err_len)
{
	int fd, rc;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		rc = create_journal(path, err, err_len);
		if (rc != 0)
			return rc;
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0) {
		rc = -errno;
		fc__journal_seterr(err, err_len, "journal %s: %s", path, strerror(-rc));
		return rc;
	}
	/* two floords appending to one journal would interleave and break its seq chain */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		fc__journal_seterr(err, err_len, "journal %s: %s", path,
				   rc == -EBUSY ? "in use by another process" : strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * Reads the file, recovers the game and cuts a torn tail off. Then syncs, even when nothing
 * was cut: records the crashed process wrote but never synced are in the page cache only, and
 * the game now builds on them (the guard, the scores), so they must reach the disk first.
 */
static int
recover_file(struct fc_journal *j, const char *path, struct fc_journal_recovered *out, char *err,
	     size_t err_len)
{
	struct fc__jtail tail = { 0 };
	struct fc__jrecover *r;
	struct stat st;
	void *base;
	int rc;

	if (fstat(j->fd, &st) != 0) {
		rc = -errno;
		fc__journal_seterr(err, err_len, "journal %s: %s", path, strerror(-rc));
		return rc;
	}
	if ((uint64_t)st.st_size < FC__J_HEADER_LEN) {
		fc__journal_seterr(err, err_len, "journal %s: %lld bytes, not a floorcast journal",
				   path, (long long)st.st_size);
		return -EBADMSG;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, j->fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		fc__journal_seterr(err, err_len, "journal %s: mmap: %s", path, strerror(-rc));
		return rc;
	}
	r = fc__journal_recover_new();
	if (r == NULL) {
		munmap(base, (size_t)st.st_size);
		return -ENOMEM;
	}
	rc = fc__journal_read(base, (uint64_t)st.st_size, path, fc__journal_recover_cb, r, &tail,
			      err, err_len);
	munmap(base, (size_t)st.st_size);
	if (rc == 0)
		rc = fc__journal_recover_finish(r, &tail, out);
	fc__journal_recover_free(r);
	if (rc != 0) {
		if (rc == -ENOMEM)
			fc__journal_seterr(err, err_len, "journal %s: out of memory", path);
		return rc;
	}
	if (tail.torn_bytes > 0 && ftruncate(j->fd, (off_t)tail.end) != 0) {
		rc = -errno;
		fc__journal_seterr(err, err_len, "journal %s: cannot cut the torn tail at %llu: %s",
				   path, (unsigned long long)tail.end, strerror(-rc));
		return rc;
	}
	if (fdatasync(j->fd) != 0 || lseek(j->fd, (off_t)tail.end, SEEK_SET) < 0) {
		rc = -errno;
		fc__journal_seterr(err, err_len, "journal %s: %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

struct fc_journal *
fc_journal_open(const char *path, const struct fc_journal_opts *opts,
		struct fc_journal_recovered *rec, char *err, size_t err_len)
{
	struct fc_journal_recovered got = { 0 };
	struct fc_journal_opts o;
	struct fc_journal *j;
	int rc;

	rc = resolve_opts(opts, &o, err, err_len);
	if (rc != 0) {
		errno = -rc;
		return NULL;
	}
	j = aligned_alloc(64, sizeof(*j));
	if (j == NULL) {
		fc__journal_seterr(err, err_len, "journal %s: out of memory", path);
		return NULL;
	}
	memset(j, 0, sizeof(*j));
	j->batch_max = o.batch_max;
	j->max_delay_ns = (uint64_t)o.max_delay_us * 1000u;
	j->idle_ns = (uint64_t)o.idle_us * 1000u;
	j->fd = open_locked(path, err, err_len);
	if (j->fd < 0) {
		rc = j->fd;
		goto fail;
	}
	rc = recover_file(j, path, &got, err, err_len);
	if (rc != 0)
		goto fail;
	rc = alloc_journal(j, &o);
	if (rc == 0)
		rc = fc__journal_guard_seed(j, &got);
	if (rc == -ENOSPC)
		fc__journal_seterr(err, err_len,
				   "journal %s: round %u awarded more clues than max_clues (%u)",
				   path, got.round_id, o.max_clues);
	else if (rc != 0)
		fc__journal_seterr(err, err_len, "journal %s: out of memory", path);
	if (rc != 0)
		goto fail;
	j->next_seq = got.next_seq;
	atomic_store(&j->durable_seq, got.next_seq - 1);
	rc = start_writer(j, &o);
	if (rc != 0) {
		fc__journal_seterr(err, err_len, "journal %s: writer thread: %s", path,
				   strerror(-rc));
		goto fail;
	}
	if (rec != NULL)
		*rec = got;
	else
		fc_journal_recovered_free(&got);
	return j;
fail:
	fc_journal_recovered_free(&got);
	free_journal(j);
	errno = -rc;
	return NULL;
}

int
fc_journal_close(struct fc_journal *j)
{
	int rc;

	if (j == NULL)
		return 0;
	atomic_store_explicit(&j->stop, true, memory_order_release);
	if (j->thread_started)
		pthread_join(j->thread, NULL);
	rc = atomic_load(&j->error);
	free_journal(j);
	return rc;
}

void
fc_journal_stats(const struct fc_journal *j, struct fc_journal_stats *s)
{
	s->records = atomic_load_explicit(&j->st_records, memory_order_relaxed);
	s->bytes = atomic_load_explicit(&j->st_bytes, memory_order_relaxed);
	s->syncs = atomic_load_explicit(&j->st_syncs, memory_order_relaxed);
	s->max_batch = atomic_load_explicit(&j->st_max_batch, memory_order_relaxed);
	s->durable_seq = fc_journal_durable_seq(j);
	s->error = atomic_load_explicit(&j->error, memory_order_relaxed);
}
