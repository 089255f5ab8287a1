/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-gateway anti-replay window of the uplink: 1024 frames wide, RFC 6479 style (a ring
 * of 64-bit blocks with one spare block, so sliding clears whole blocks and never shifts).
 *
 * The receiver checks a frame's seq before the MAC (cheap drop of stale frames) and marks it
 * only after the MAC verified, so a forged frame can neither use nor burn a seq.
 * Not thread-safe: a window is owned by the one lcore that receives its gateway's frames.
 */
#ifndef FC_REPLAY_WINDOW_H
#define FC_REPLAY_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#define FC_REPLAY_WINDOW_SIZE   1024u
#define FC_REPLAY_WINDOW_BLOCKS (FC_REPLAY_WINDOW_SIZE / 64u + 1u)

enum fc_replay_verdict {
	FC_REPLAY_NEW = 0,   /* never seen and inside or ahead of the window */
	FC_REPLAY_TOO_OLD,   /* below the window: top - seq >= FC_REPLAY_WINDOW_SIZE */
	FC_REPLAY_DUPLICATE, /* inside the window and already marked */
};

struct fc_replay_window {
	uint64_t top; /* highest seq marked */
	bool started; /* false until the first frame is marked */
	uint64_t bits[FC_REPLAY_WINDOW_BLOCKS];
};

/* Empties the window: the next frame is accepted whatever its seq. */
void fc_replay_window_init(struct fc_replay_window *w);

/* Classifies seq without changing the window. */
enum fc_replay_verdict fc_replay_window_check(const struct fc_replay_window *w, uint64_t seq);

/*
 * Records seq as seen, sliding the window forward if seq is above top. Call only after
 * fc_replay_window_check() said FC_REPLAY_NEW (marking an old seq is a no-op).
 */
void fc_replay_window_mark(struct fc_replay_window *w, uint64_t seq);

#endif /* FC_REPLAY_WINDOW_H */
