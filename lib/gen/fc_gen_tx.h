/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorgen's DPDK TX output (tx_sink.c, library fc_gen_tx): the generator's frames, whole,
 * through an ethdev port at their capture times (docs/floorgen.md section 5). Starts the EAL:
 * once per process, and only for this output; the rest of lib/gen needs none.
 */
#ifndef FC_GEN_TX_H
#define FC_GEN_TX_H

#include <stddef.h>
#include <stdint.h>

struct fc_gen_tx_stats {
	uint64_t sent;  /* frames */
	uint64_t bytes; /* of frame */
	uint64_t errors;
	uint64_t max_late_ns; /* the latest a frame went after its deadline */
	uint64_t elapsed_ns;  /* from the first frame to the last */
};

/*
 * Starts the EAL with eal_argv (eal_argv[0] the program's name), then port with one TX queue
 * (and one RX queue, which some PMDs need to start), paced at speed (0: none, up to 1000).
 * Returns NULL with errno set and the reason in err: EINVAL (speed, or the EAL's arguments),
 * ENODEV (no such port), ENOMEM, or the port's error.
 */
struct fc_gen_tx *fc_gen_tx_open(int eal_argc, char **eal_argv, uint16_t port, double speed,
				 char *err, size_t err_len);

/* fc_gen_sink_fn for a struct fc_gen_tx *: waits for the frame's deadline, then sends it.
 * Returns 0, -ENOBUFS or -EIO (the port took nothing for a long while). */
int fc_gen_tx_sink(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len);

void fc_gen_tx_get_stats(const struct fc_gen_tx *tx, struct fc_gen_tx_stats *st);

/* Stops and closes the port, frees the pool, cleans the EAL up. NULL is accepted. */
void fc_gen_tx_close(struct fc_gen_tx *tx);

#endif /* FC_GEN_TX_H */
