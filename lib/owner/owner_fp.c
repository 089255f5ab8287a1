/* SPDX-License-Identifier: BSD-3-Clause */
/* The shard-owner loop; see fc_owner.h. */
#include <rte_cycles.h>

#include "fc_owner.h"

bool
fc_owner_poll(struct fc_owner *o)
{
	struct fc_fix_rec recs[FC_OWNER_BURST];
	bool busy = false;
	uint64_t done = FC_TICK_NONE;

	for (uint32_t r = 0; r < o->n_rings; r++) {
		/*
		 * Drain up to FC_OWNER_MAX_POLL records a ring, in bursts: an RX burst of 32 full
		 * frames is 1344 records, and an owner sharing its lcore with that RX must keep up
		 * with it in one turn of the loop, or the ring fills.
		 */
		for (unsigned int k = 0; k < FC_OWNER_MAX_POLL / FC_OWNER_BURST; k++) {
			unsigned int n = rte_ring_dequeue_burst_elem(
				o->ring[r], recs, sizeof(recs[0]), FC_OWNER_BURST, NULL);
			uint64_t now;

			if (n == 0)
				break;
			busy = true;
			now = rte_rdtsc();
			for (unsigned int i = 0; i < n; i++) {
				const struct fc_fix_rec *rec = &recs[i];

				if (rec->kind == FC_REC_WATERMARK) {
					o->wm[r] = rec->tick;
					o->st.watermarks++;
					continue;
				}
				o->st.records++;
				switch (fc_owner_apply(&o->state, rec)) {
				case FC_APPLY_NEWER:
					o->st.applied++;
					break;
				case FC_APPLY_OLDER:
					o->st.older++;
					break;
				case FC_APPLY_DUPLICATE:
					o->st.duplicates++;
					break;
				}
				fc_hist_add(&o->st.lat_tsc, now - rec->rx_tsc);
			}
			if (n < FC_OWNER_BURST)
				break;
		}
		if (o->wm[r] < done)
			done = o->wm[r];
	}
	if (done != o->done) {
		o->done = done;
		fc_tick_store(&o->sync->owner[o->index].done, done);
	}
	return busy;
}
