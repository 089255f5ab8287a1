/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the journal's Criterion tests: a private directory per test (Criterion
 * runs each test in its own process), record builders, waiting for durability, and file
 * surgery for the torn-tail and damage cases.
 */
#ifndef FC_JOURNAL_TEST_H
#define FC_JOURNAL_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fc_journal.h"

#define JT_T0      1767225600000000000ull /* 2026-01-01T00:00:00Z */
#define JT_MAX_FIX 256u

struct jt_dir {
	char dir[64];
	char path[96]; /* dir/journal */
};

/* A private directory under base (/tmp: a disk here; /dev/shm: tmpfs). */
static inline void
jt_dir_make_in(struct jt_dir *d, const char *base)
{
	snprintf(d->dir, sizeof(d->dir), "%s/fc-journal-test-XXXXXX", base);
	cr_assert_not_null(mkdtemp(d->dir));
	snprintf(d->path, sizeof(d->path), "%s/journal", d->dir);
}

static inline void
jt_dir_make(struct jt_dir *d)
{
	jt_dir_make_in(d, "/tmp");
}

static inline void
jt_dir_remove(const struct jt_dir *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", d->dir);
}

static inline struct fc_journal *
jt_open(const char *path, const struct fc_journal_opts *o, struct fc_journal_recovered *rec)
{
	char err[512] = "";
	struct fc_journal *j = fc_journal_open(path, o, rec, err, sizeof(err));

	cr_assert_not_null(j, "open %s: %s (errno %d)", path, err, errno);
	return j;
}

/* An award of clue in round with n fixes (the winner first); fixes must hold n entries. */
static inline struct fc_journal_rec
jt_award(uint32_t round_id, uint32_t clue_id, uint16_t n, struct fc_journal_fix *fixes)
{
	struct fc_journal_rec r = { .type = FC_JOURNAL_AWARD };

	for (uint16_t i = 0; i < n; i++)
		fixes[i] = (struct fc_journal_fix){
			.player = (uint16_t)(clue_id * 7u + i * 13u),
			.flags = i == 0 ? FC_CONT_F_WINNER : 0,
			.gateway_id = 100u + i % 4u,
			.meas_time_ns = JT_T0 + clue_id * 1000000ull + i * 1000u,
			.gw_time_ns = JT_T0 + clue_id * 1000000ull + i * 1000u - 1500u,
			.x_mm = (int32_t)(clue_id * 10u + i),
			.y_mm = -(int32_t)i,
			.z_mm = 1100,
			.distance_mm = 5u + i,
			.err_mm = 20,
			.quality = 90,
			.fix_flags = 2,
			.fix_seq = clue_id + i,
		};
	r.award = (struct fc_journal_award){
		.round_id = round_id,
		.clue_id = clue_id,
		.points = 10u * clue_id,
		.winner = fixes[0].player,
		.winner_team = (uint16_t)(clue_id % 5u),
		.meas_time_ns = fixes[0].meas_time_ns,
		.decided_ns = fixes[0].meas_time_ns + 100000000u,
		.contenders_total = n,
		.n_fixes = n,
		.fixes = fixes,
	};
	return r;
}

static inline struct fc_journal_rec
jt_command(uint64_t cmd_seq, uint16_t command, uint32_t arg)
{
	return (struct fc_journal_rec){
		.type = FC_JOURNAL_COMMAND,
		.command = { .cmd_seq = cmd_seq,
			     .command = command,
			     .arg = arg,
			     .time_ns = JT_T0 + cmd_seq },
	};
}

static inline struct fc_journal_rec
jt_round(uint32_t round_id, uint8_t state, uint64_t cmd_seq)
{
	return (struct fc_journal_rec){
		.type = FC_JOURNAL_ROUND,
		.round = { .round_id = round_id,
			   .state = state,
			   .cmd_seq = cmd_seq,
			   .round_time_ms = 1000u * round_id,
			   .time_ns = JT_T0 + cmd_seq },
	};
}

static inline struct fc_journal_rec
jt_score(uint32_t round_id, uint16_t player, uint16_t team, int32_t delta)
{
	return (struct fc_journal_rec){
		.type = FC_JOURNAL_SCORE,
		.score = { .round_id = round_id, .player = player, .team = team, .delta = delta },
	};
}

/* Appends, retrying while the ring is full (as an arbiter would, on its next poll). */
static inline uint64_t
jt_append(struct fc_journal *j, unsigned int producer, const struct fc_journal_rec *r)
{
	uint64_t ticket = 0;
	int rc;

	while ((rc = fc_journal_append(j, producer, r, &ticket)) == -ENOBUFS)
		sched_yield();
	cr_assert_eq(rc, 0, "append type %d: %s", r->type, strerror(-rc));
	return ticket;
}

/* Waits (10 s at most) until the producer's ticket is durable. */
static inline void
jt_wait_durable(struct fc_journal *j, unsigned int producer, uint64_t ticket)
{
	for (int i = 0; i < 1000000 && fc_journal_durable_ticket(j, producer) < ticket; i++)
		usleep(10);
	cr_assert_geq(fc_journal_durable_ticket(j, producer), ticket, "ticket %lu not durable",
		      (unsigned long)ticket);
}

/*
 * Opens a fresh journal at path with a 16-slot ring and a writer that sleeps 500 ms when idle,
 * appends a (11 slots), then b (11 more): b must meet a full ring. If the writer happened to
 * drain a in between (a loaded machine can run its first look late), the journal is thrown
 * away and the attempt made again, so the test never depends on the scheduler.
 */
static inline struct fc_journal *
jt_open_full_ring(const char *path, const struct fc_journal_rec *a, const struct fc_journal_rec *b)
{
	struct fc_journal_opts o = { .ring_slots = 16, .idle_us = 500000 };

	for (int attempt = 0; attempt < 20; attempt++) {
		struct fc_journal *j;
		uint64_t ta = 0, tb = 0;
		int rc;

		unlink(path);
		j = jt_open(path, &o, NULL);
		usleep(20000); /* the writer has looked once, found nothing, and sleeps */
		cr_assert_eq(fc_journal_append(j, 0, a, &ta), 0);
		cr_assert_eq(ta, 1);
		rc = fc_journal_append(j, 0, b, &tb);
		if (rc == -ENOBUFS) {
			cr_assert_eq(tb, 0, "a refused append gives no ticket");
			return j;
		}
		cr_assert_eq(rc, 0);
		cr_assert_eq(fc_journal_close(j), 0);
	}
	cr_assert_fail("the writer drained the ring 20 times in a row");
	return NULL;
}

static inline uint64_t
jt_file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	return (uint64_t)st.st_size;
}

/* The whole file; free() it. */
static inline uint8_t *
jt_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	*len = (size_t)jt_file_size(path);
	buf = malloc(*len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

static inline void
jt_pwrite(const char *path, uint64_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static inline void
jt_flip_byte(const char *path, uint64_t off)
{
	size_t len;
	uint8_t *b = jt_read_file(path, &len);
	uint8_t v;

	cr_assert_lt(off, len);
	v = b[off] ^ 0x5A;
	jt_pwrite(path, off, &v, 1);
	free(b);
}

static inline void
jt_truncate(const char *path, uint64_t size)
{
	cr_assert_eq(truncate(path, (off_t)size), 0, "%s", strerror(errno));
}

/* Offsets of every record, from a scan. */
struct jt_offsets {
	uint64_t off[4096];
	uint64_t len[4096];
	unsigned int n;
};

static inline int
jt_offsets_cb(const struct fc_journal_entry *e, void *arg)
{
	struct jt_offsets *o = arg;

	if (o->n < 4096) {
		o->off[o->n] = e->offset;
		o->len[o->n] = e->length;
		o->n++;
	}
	return 0;
}

static inline void
jt_offsets(const char *path, struct jt_offsets *o)
{
	char err[512] = "";
	int rc;

	memset(o, 0, sizeof(*o));
	rc = fc_journal_scan(path, jt_offsets_cb, o, err, sizeof(err));
	cr_assert_eq(rc, 0, "scan: %s", err);
}

#endif /* FC_JOURNAL_TEST_H */
