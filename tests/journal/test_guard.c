/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal as the last line of defence against awarding a clue twice (within a round,
 * across producers, across a restart), and the journal under concurrent producers: nothing
 * lost, nothing duplicated, each producer's order kept, durable counters that only go up.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "journal_test.h"

static struct jt_dir gd;

static void
gd_setup(void)
{
	jt_dir_make(&gd);
}

static void
gd_teardown(void)
{
	jt_dir_remove(&gd);
}

struct count_awards {
	unsigned int n;
	unsigned int by_clue[8192];
};

static int
count_awards_cb(const struct fc_journal_entry *e, void *arg)
{
	struct count_awards *c = arg;

	if (e->rec.type == FC_JOURNAL_AWARD) {
		c->n++;
		cr_assert_lt(e->rec.award.clue_id, 8192);
		c->by_clue[e->rec.award.clue_id]++;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* double_award                                                                                */
/* ------------------------------------------------------------------------------------------ */

TestSuite(double_award, .init = gd_setup, .fini = gd_teardown);

Test(double_award, a_second_award_of_a_clue_is_refused)
{
	static struct count_awards c;
	struct fc_journal_opts o = { .producers = 2 };
	struct fc_journal_fix fa[4], fb[4];
	struct fc_journal *j = jt_open(gd.path, &o, NULL);
	struct fc_journal_rec a = jt_award(1, 9, 2, fa), b = jt_award(1, 9, 3, fb);
	uint64_t t = 0;
	char err[256];

	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), 0);
	cr_assert_eq(fc_journal_append(j, 0, &b, &t), -EEXIST, "same producer");
	cr_assert_eq(t, 0);
	cr_assert_eq(fc_journal_append(j, 1, &b, NULL), -EEXIST, "another producer");
	cr_assert_eq(fc_journal_close(j), 0);
	cr_assert_eq(fc_journal_scan(gd.path, count_awards_cb, &c, err, sizeof(err)), 0);
	cr_assert_eq(c.n, 1);
}

Test(double_award, the_same_clue_in_the_next_round_is_accepted)
{
	struct fc_journal_fix fx[4];
	struct fc_journal *j = jt_open(gd.path, NULL, NULL);
	struct fc_journal_rec a = jt_award(1, 9, 2, fx), r = jt_round(2, FC_ROUND_RUNNING, 1);

	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), 0);
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), 0);
	a.award.round_id = 2;
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), 0);
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), -EEXIST);
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(double_award, an_award_of_a_finished_round_is_stale)
{
	struct fc_journal_fix fx[4];
	struct fc_journal *j = jt_open(gd.path, NULL, NULL);
	struct fc_journal_rec a = jt_award(1, 3, 2, fx), r = jt_round(2, FC_ROUND_RUNNING, 1);

	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), 0);
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), -ESTALE);
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(double_award, still_refused_after_a_restart)
{
	struct fc_journal_fix fx[4];
	struct fc_journal_recovered rec;
	struct fc_journal *j = jt_open(gd.path, NULL, NULL);
	struct fc_journal_rec r = jt_round(1, FC_ROUND_RUNNING, 1), a;

	jt_append(j, 0, &r);
	for (uint32_t clue = 1; clue <= 10; clue += 3) {
		a = jt_award(1, clue, 2, fx);
		jt_append(j, 0, &a);
	}
	cr_assert_eq(fc_journal_close(j), 0);

	j = jt_open(gd.path, NULL, &rec);
	for (uint32_t clue = 1; clue <= 11; clue++) {
		bool awarded = clue % 3 == 1;

		a = jt_award(1, clue, 2, fx);
		cr_assert_eq(fc_journal_recovered_award(&rec, clue) != NULL, awarded, "clue %u",
			     clue);
		cr_assert_eq(fc_journal_append(j, 0, &a, NULL), awarded ? -EEXIST : 0, "clue %u",
			     clue);
	}
	fc_journal_recovered_free(&rec);
	a = jt_award(0, 2, 2, fx);
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), -ESTALE, "round 0 is over");
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(double_award, a_respawned_clue_is_awarded_once_per_respawn)
{
	struct fc_journal_fix fx[4];
	struct fc_journal_recovered rec;
	const struct fc_journal_clue_award *last;
	struct fc_journal *j = jt_open(gd.path, NULL, NULL);
	struct fc_journal_rec a = jt_award(1, 4, 2, fx);

	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), 0);
	a.award.respawn = 1; /* the clue reopened and was claimed again */
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), 0);
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), -EEXIST, "respawn 1 again");
	a.award.respawn = 0;
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), -EEXIST, "an older respawn");
	cr_assert_eq(fc_journal_close(j), 0);

	j = jt_open(gd.path, NULL, &rec);
	cr_assert_eq(rec.n_awards, 2);
	cr_assert_eq(rec.awards[0].respawn, 0);
	cr_assert_eq(rec.awards[1].respawn, 1);
	last = fc_journal_recovered_award(&rec, 4);
	cr_assert_not_null(last);
	cr_assert_eq(last->respawn, 1, "the latest award of the clue");
	fc_journal_recovered_free(&rec);
	a.award.respawn = 1;
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), -EEXIST, "after a restart too");
	a.award.respawn = 2;
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), 0);
	a.award.respawn = UINT32_MAX;
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), -EINVAL);
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(double_award, a_reused_guard_slot_forgets_the_old_round)
{
	struct fc_journal_opts o = { .max_clues = 1 }; /* two slots: rounds must share them */
	struct fc_journal_fix fx[4];
	struct fc_journal *j = jt_open(gd.path, &o, NULL);
	struct fc_journal_rec a;

	for (uint32_t round = 1; round <= 50; round++) {
		struct fc_journal_rec r = jt_round(round, FC_ROUND_RUNNING, round);

		cr_assert_eq(fc_journal_append(j, 0, &r, NULL), 0);
		for (uint32_t clue = 1; clue <= 2; clue++) {
			a = jt_award(round, clue, 2, fx);
			a.award.respawn = round % 3; /* below the old tenant's claim, sometimes */
			jt_append(j, 0, &a);
			cr_assert_eq(fc_journal_append(j, 0, &a, NULL), -EEXIST, "round %u", round);
		}
	}
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(double_award, a_retry_after_enobufs_is_not_a_second_award)
{
	struct fc_journal_fix fa[16], fb[16];
	struct fc_journal_rec a = jt_award(1, 1, 12, fa), b = jt_award(1, 2, 12, fb);
	struct fc_journal *j = jt_open_full_ring(gd.path, &a, &b);

	jt_wait_durable(j, 0, 1);
	cr_assert_eq(fc_journal_append(j, 0, &b, NULL), 0, "the refusal did not claim clue 2");
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(double_award, a_full_guard_is_enospc_until_the_next_round)
{
	struct fc_journal_opts o = { .max_clues = 4 };
	struct fc_journal_fix fx[4];
	struct fc_journal *j = jt_open(gd.path, &o, NULL);
	struct fc_journal_rec a, r = jt_round(2, FC_ROUND_RUNNING, 1);
	uint32_t clue = 1;
	int rc;

	do {
		a = jt_award(1, clue++, 2, fx);
		rc = fc_journal_append(j, 0, &a, NULL);
	} while (rc == 0 && clue < 100);
	cr_assert_eq(rc, -ENOSPC);
	cr_assert_gt(clue, 5, "at least max_clues fit");
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), 0);
	a = jt_award(2, 1, 2, fx);
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), 0, "round 1's claims are dead now");
	cr_assert_eq(fc_journal_close(j), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* concurrency                                                                                 */
/* ------------------------------------------------------------------------------------------ */

TestSuite(concurrency, .init = gd_setup, .fini = gd_teardown);

#define PER_PRODUCER 100000u

struct producer_arg {
	struct fc_journal *j;
	unsigned int id;
	uint64_t full; /* -ENOBUFS seen */
};

static void *
produce_commands(void *arg)
{
	struct producer_arg *p = arg;

	for (uint64_t i = 0; i < PER_PRODUCER; i++) {
		/* cmd_seq: the producer in the high bits, its own counter below */
		struct fc_journal_rec r = jt_command((uint64_t)(p->id + 1) << 40 | i, 1, p->id);
		int rc;

		while ((rc = fc_journal_append(p->j, p->id, &r, NULL)) == -ENOBUFS) {
			p->full++;
			sched_yield();
		}
		cr_assert_eq(rc, 0);
	}
	return NULL;
}

struct per_producer_order {
	uint64_t next[2];
	uint64_t total;
};

static int
order_cb(const struct fc_journal_entry *e, void *arg)
{
	struct per_producer_order *o = arg;
	uint64_t who = (e->rec.command.cmd_seq >> 40) - 1;
	uint64_t i = e->rec.command.cmd_seq & ((1ull << 40) - 1);

	cr_assert_eq(e->rec.type, FC_JOURNAL_COMMAND);
	cr_assert_lt(who, 2);
	cr_assert_eq(e->producer, who, "the record names its producer");
	cr_assert_eq(i, o->next[who], "producer %lu: %lu after %lu", (unsigned long)who,
		     (unsigned long)i, (unsigned long)o->next[who]);
	o->next[who]++;
	o->total++;
	return 0;
}

Test(concurrency, two_producers_lose_nothing_and_keep_their_order, .timeout = 120)
{
	/* 64 slots: the rings fill all the time, so the -ENOBUFS path is exercised too */
	struct fc_journal_opts o = { .producers = 2, .ring_slots = 64 };
	struct fc_journal *j = jt_open(gd.path, &o, NULL);
	struct producer_arg a[2] = { { .j = j, .id = 0 }, { .j = j, .id = 1 } };
	struct per_producer_order ord = { { 0, 0 }, 0 };
	pthread_t t[2];
	char err[256];

	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, produce_commands, &a[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	jt_wait_durable(j, 0, PER_PRODUCER);
	jt_wait_durable(j, 1, PER_PRODUCER);
	cr_assert_eq(fc_journal_durable_ticket(j, 0), PER_PRODUCER);
	cr_assert_eq(fc_journal_durable_seq(j), 2 * PER_PRODUCER);
	cr_log_info("ring full %lu and %lu times", (unsigned long)a[0].full,
		    (unsigned long)a[1].full);
	cr_assert_eq(fc_journal_close(j), 0);
	cr_assert_eq(fc_journal_scan(gd.path, order_cb, &ord, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ord.total, 2 * PER_PRODUCER);
	cr_assert_eq(ord.next[0], PER_PRODUCER);
	cr_assert_eq(ord.next[1], PER_PRODUCER);
}

#define RACE_CLUES    5000u
#define RACE_PRODUCER 4u

struct racer {
	struct fc_journal *j;
	unsigned int id;
	unsigned int won, lost;
	atomic_uint *go;
};

static void *
race_awards(void *arg)
{
	struct racer *r = arg;
	struct fc_journal_fix fx[4];

	while (atomic_load(r->go) == 0)
		;
	/* every racer claims every clue, each from a different starting point */
	for (uint32_t k = 0; k < RACE_CLUES; k++) {
		uint32_t clue = 1 + (k + r->id * 997u) % RACE_CLUES;
		struct fc_journal_rec a = jt_award(1, clue, 2, fx);
		int rc;

		a.award.winner = fx[0].player = (uint16_t)r->id; /* who won, to tell them apart */
		while ((rc = fc_journal_append(r->j, r->id, &a, NULL)) == -ENOBUFS)
			sched_yield();
		if (rc == 0)
			r->won++;
		else if (rc == -EEXIST)
			r->lost++;
		else
			cr_assert_fail("racer %u clue %u: %d", r->id, clue, rc);
	}
	return NULL;
}

Test(concurrency, racing_producers_award_each_clue_once, .timeout = 120)
{
	static struct count_awards c;
	struct fc_journal_opts o = { .producers = RACE_PRODUCER, .ring_slots = 256 };
	struct fc_journal *j = jt_open(gd.path, &o, NULL);
	struct racer r[RACE_PRODUCER];
	pthread_t t[RACE_PRODUCER];
	atomic_uint go = 0;
	unsigned int won = 0;
	char err[256];

	for (unsigned int i = 0; i < RACE_PRODUCER; i++) {
		r[i] = (struct racer){ .j = j, .id = i, .go = &go };
		cr_assert_eq(pthread_create(&t[i], NULL, race_awards, &r[i]), 0);
	}
	atomic_store(&go, 1);
	for (unsigned int i = 0; i < RACE_PRODUCER; i++) {
		pthread_join(t[i], NULL);
		won += r[i].won;
		cr_assert_eq(r[i].won + r[i].lost, RACE_CLUES);
	}
	cr_assert_eq(won, RACE_CLUES, "exactly one award per clue");
	cr_assert_eq(fc_journal_close(j), 0);
	cr_assert_eq(fc_journal_scan(gd.path, count_awards_cb, &c, err, sizeof(err)), 0);
	cr_assert_eq(c.n, RACE_CLUES);
	for (uint32_t clue = 1; clue <= RACE_CLUES; clue++)
		cr_assert_eq(c.by_clue[clue], 1, "clue %u in the file %u times", clue,
			     c.by_clue[clue]);
}

struct watcher {
	struct fc_journal *j;
	atomic_bool *done;
	atomic_uint_fast64_t *appended;
	bool went_back, ran_ahead;
};

static void *
watch_durable(void *arg)
{
	struct watcher *w = arg;
	uint64_t last = 0, last_seq = 0;

	while (!atomic_load(w->done)) {
		/* read the producer's count first: a durable ticket can only be below it */
		uint64_t appended = atomic_load(w->appended);
		uint64_t d = fc_journal_durable_ticket(w->j, 0), s = fc_journal_durable_seq(w->j);

		if (d < last || s < last_seq)
			w->went_back = true;
		if (d > appended && d > atomic_load(w->appended))
			w->ran_ahead = true;
		last = d;
		last_seq = s;
	}
	return NULL;
}

Test(concurrency, durable_counters_only_go_up_and_never_run_ahead, .timeout = 120)
{
	struct fc_journal *j = jt_open(gd.path, NULL, NULL);
	atomic_uint_fast64_t appended = 0;
	atomic_bool done = false;
	struct watcher w = { .j = j, .done = &done, .appended = &appended };
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, watch_durable, &w), 0);
	for (uint32_t i = 1; i <= 20000; i++) {
		struct fc_journal_rec r = jt_command(i, 1, i);

		/* Published before the append: the writer may make record i durable before
		 * jt_append() even returns, so "appended" must already bound it. */
		atomic_store(&appended, i);
		jt_append(j, 0, &r);
	}
	jt_wait_durable(j, 0, 20000);
	atomic_store(&done, true);
	pthread_join(t, NULL);
	cr_assert_not(w.went_back);
	cr_assert_not(w.ran_ahead);
	cr_assert_eq(fc_journal_close(j), 0);
}
