/* SPDX-License-Identifier: BSD-3-Clause */
/* Anti-replay window; see fc_replay_window.h and RFC 6479 section 2. */
#include <string.h>

#include "fc_replay_window.h"

void
fc_replay_window_init(struct fc_replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

static inline uint64_t *
block_of(struct fc_replay_window *w, uint64_t seq)
{
	return &w->bits[(seq >> 6) % FC_REPLAY_WINDOW_BLOCKS];
}

enum fc_replay_verdict
fc_replay_window_check(const struct fc_replay_window *w, uint64_t seq)
{
	if (!w->started || seq > w->top)
		return FC_REPLAY_NEW;
	if (w->top - seq >= FC_REPLAY_WINDOW_SIZE)
		return FC_REPLAY_TOO_OLD;
	if (w->bits[(seq >> 6) % FC_REPLAY_WINDOW_BLOCKS] & (UINT64_C(1) << (seq & 63)))
		return FC_REPLAY_DUPLICATE;
	return FC_REPLAY_NEW;
}

void
fc_replay_window_mark(struct fc_replay_window *w, uint64_t seq)
{
	if (!w->started) {
		memset(w->bits, 0, sizeof(w->bits));
		w->started = true;
		w->top = seq;
	} else if (seq > w->top) {
		/*
		 * Clear the blocks the top moves into: with one spare block, the oldest block
		 * still in the window is never one of them. A jump of a whole ring clears all.
		 */
		uint64_t from = w->top >> 6, to = seq >> 6;
		uint64_t n = to - from;

		if (n > FC_REPLAY_WINDOW_BLOCKS)
			n = FC_REPLAY_WINDOW_BLOCKS;
		for (uint64_t i = 1; i <= n; i++)
			w->bits[(from + i) % FC_REPLAY_WINDOW_BLOCKS] = 0;
		w->top = seq;
	} else if (w->top - seq >= FC_REPLAY_WINDOW_SIZE) {
		return;
	}
	*block_of(w, seq) |= UINT64_C(1) << (seq & 63);
}
