/* SPDX-License-Identifier: BSD-3-Clause */
/* The 1024-frame anti-replay window: edges, slides, jumps, wrap of the frame counter. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "fc_replay_window.h"
#include "fc_wire_types.h"

static struct fc_replay_window w;

static void
setup(void)
{
	fc_replay_window_init(&w);
}

TestSuite(replay_window, .init = setup);

/* check-then-mark, as the receiver does after a good MAC */
static enum fc_replay_verdict
take(uint64_t seq)
{
	enum fc_replay_verdict r = fc_replay_window_check(&w, seq);

	if (r == FC_REPLAY_NEW)
		fc_replay_window_mark(&w, seq);
	return r;
}

Test(replay_window, accepts_any_first_seq)
{
	cr_assert_eq(take(UINT64_C(0xDEADBEEF00000007)), FC_REPLAY_NEW);
	cr_assert_eq(w.top, UINT64_C(0xDEADBEEF00000007));
}

Test(replay_window, accepts_seq_zero_first)
{
	cr_assert_eq(take(0), FC_REPLAY_NEW);
	cr_assert_eq(take(0), FC_REPLAY_DUPLICATE);
}

Test(replay_window, rejects_duplicate)
{
	cr_assert_eq(take(100), FC_REPLAY_NEW);
	cr_assert_eq(take(100), FC_REPLAY_DUPLICATE);
	cr_assert_eq(take(101), FC_REPLAY_NEW);
	cr_assert_eq(take(100), FC_REPLAY_DUPLICATE);
}

Test(replay_window, accepts_reordered_inside_window_once)
{
	cr_assert_eq(take(2000), FC_REPLAY_NEW);
	for (uint64_t s = 2000 - 1023; s < 2000; s++)
		cr_assert_eq(take(s), FC_REPLAY_NEW, "seq %lu", (unsigned long)s);
	for (uint64_t s = 2000 - 1023; s <= 2000; s++)
		cr_assert_eq(take(s), FC_REPLAY_DUPLICATE, "seq %lu", (unsigned long)s);
}

Test(replay_window, rejects_seq_below_window)
{
	cr_assert_eq(take(5000), FC_REPLAY_NEW);
	cr_assert_eq(fc_replay_window_check(&w, 5000 - 1023), FC_REPLAY_NEW);
	cr_assert_eq(fc_replay_window_check(&w, 5000 - 1024), FC_REPLAY_TOO_OLD);
	cr_assert_eq(fc_replay_window_check(&w, 0), FC_REPLAY_TOO_OLD);
}

Test(replay_window, slides_one_at_a_time_without_false_duplicates)
{
	/* Crosses many block boundaries: every new seq is new, every old one a duplicate. */
	for (uint64_t s = 1; s < 5000; s++) {
		cr_assert_eq(take(s), FC_REPLAY_NEW, "seq %lu", (unsigned long)s);
		if (s > 1)
			cr_assert_eq(take(s - 1), FC_REPLAY_DUPLICATE);
		if (s > 1023)
			cr_assert_eq(take(s - 1023), FC_REPLAY_DUPLICATE);
		if (s > 1024)
			cr_assert_eq(take(s - 1024), FC_REPLAY_TOO_OLD);
	}
}

Test(replay_window, far_jump_ahead_clears_the_window)
{
	cr_assert_eq(take(10), FC_REPLAY_NEW);
	cr_assert_eq(take(11), FC_REPLAY_NEW);
	cr_assert_eq(take(10 + 100000), FC_REPLAY_NEW);
	/* Seqs that were marked long ago are now below the window... */
	cr_assert_eq(take(11), FC_REPLAY_TOO_OLD);
	/* ...and the ones in the new window whose bits lived in reused blocks are fresh. */
	for (uint64_t s = 100010 - 1023; s < 100010; s++)
		cr_assert_eq(take(s), FC_REPLAY_NEW, "seq %lu", (unsigned long)s);
}

Test(replay_window, jump_of_exactly_the_window)
{
	cr_assert_eq(take(64), FC_REPLAY_NEW);
	cr_assert_eq(take(64 + 1024), FC_REPLAY_NEW);
	cr_assert_eq(take(64), FC_REPLAY_TOO_OLD);
	cr_assert_eq(take(65), FC_REPLAY_NEW);
	cr_assert_eq(take(65), FC_REPLAY_DUPLICATE);
}

Test(replay_window, new_boot_epoch_moves_past_the_old_epoch)
{
	cr_assert_eq(take(FC_UP_SEQ(7, 123456)), FC_REPLAY_NEW);
	cr_assert_eq(take(FC_UP_SEQ(8, 0)), FC_REPLAY_NEW);
	/* The old epoch's frames, replayed after the reboot, are too old. */
	cr_assert_eq(take(FC_UP_SEQ(7, 123457)), FC_REPLAY_TOO_OLD);
}

Test(replay_window, frame_counter_wrap_into_the_next_epoch)
{
	cr_assert_eq(take(FC_UP_SEQ(3, 0xFFFFFFFEu)), FC_REPLAY_NEW);
	cr_assert_eq(take(FC_UP_SEQ(3, 0xFFFFFFFFu)), FC_REPLAY_NEW);
	/* The counter wraps by carrying into the epoch: one step up, inside the window. */
	cr_assert_eq(take(FC_UP_SEQ(4, 0)), FC_REPLAY_NEW);
	cr_assert_eq(take(FC_UP_SEQ(3, 0xFFFFFFFFu)), FC_REPLAY_DUPLICATE);
	/* A gateway that wraps its counter without the epoch goes backwards: too old. */
	cr_assert_eq(take(FC_UP_SEQ(4, 0) - 0x100000000u), FC_REPLAY_TOO_OLD);
}

Test(replay_window, top_of_the_seq_space)
{
	cr_assert_eq(take(UINT64_MAX - 1), FC_REPLAY_NEW);
	cr_assert_eq(take(UINT64_MAX), FC_REPLAY_NEW);
	cr_assert_eq(take(UINT64_MAX), FC_REPLAY_DUPLICATE);
	cr_assert_eq(take(UINT64_MAX - 1023), FC_REPLAY_NEW);
	cr_assert_eq(take(UINT64_MAX - 1024), FC_REPLAY_TOO_OLD);
}

/* Model check: random steps against a plain set of everything ever accepted. */
Test(replay_window, agrees_with_a_reference_model)
{
	static uint8_t seen[1 << 16];
	uint64_t top = 0;
	bool started = false;

	srand(12345);
	for (int i = 0; i < 200000; i++) {
		uint64_t seq;
		int r = rand() % 100;

		if (!started || r < 60)
			seq = top + (uint64_t)(rand() % 40);
		else if (r < 95)
			seq = top - (uint64_t)(rand() % 1100);
		else
			seq = top + (uint64_t)(rand() % 3000);
		if (seq >= sizeof(seen) || seq > top + 40000)
			continue;

		enum fc_replay_verdict want;
		if (started && seq <= top && top - seq >= 1024)
			want = FC_REPLAY_TOO_OLD;
		else if (seen[seq])
			want = FC_REPLAY_DUPLICATE;
		else
			want = FC_REPLAY_NEW;
		cr_assert_eq(take(seq), want, "step %d seq %lu top %lu", i, (unsigned long)seq,
			     (unsigned long)top);
		if (want == FC_REPLAY_NEW) {
			seen[seq] = 1;
			if (!started || seq > top)
				top = seq;
			started = true;
		}
	}
}
