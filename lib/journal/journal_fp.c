/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The producer side of the journal: what an owner or the control path calls on its own
 * thread. fc_journal_append() encodes the record straight into the producer's ring in its
 * on-disk layout (the writer only stamps seq and crc), checks an award against the
 * double-award guard, and publishes it: no lock, no allocation, no syscall, so it is safe on
 * the packet path (invariant 1). The durable counters it reads are published by the writer.
 */
#include <errno.h>

#include "journal_priv.h"

/* Copies n bytes to the ring at byte position pos (unmasked), wrapping at the end. */
static inline void
ring_put(struct fc__jring *r, uint64_t pos, const void *src, size_t n)
{
	size_t size = r->nslots * FC_JOURNAL_SLOT;
	size_t at = pos & (size - 1);
	size_t first = n < size - at ? n : size - at;

	memcpy(r->mem + at, src, first);
	if (n > first)
		memcpy(r->mem, (const uint8_t *)src + first, n - first);
}

static void
encode_fix(uint8_t *b, const struct fc_journal_fix *f)
{
	fc__put16(b + 0, f->player);
	fc__put16(b + 2, f->flags);
	fc__put32(b + 4, f->gateway_id);
	fc__put64(b + 8, f->meas_time_ns);
	fc__put64(b + 16, f->gw_time_ns);
	fc__put32(b + 24, (uint32_t)f->x_mm);
	fc__put32(b + 28, (uint32_t)f->y_mm);
	fc__put32(b + 32, (uint32_t)f->z_mm);
	fc__put32(b + 36, f->distance_mm);
	fc__put16(b + 40, f->err_mm);
	b[42] = f->quality;
	b[43] = f->fix_flags;
	fc__put32(b + 44, f->fix_seq);
}

/*
 * Validates rec and writes its record header and fixed body into b (zeroed, FC__J_FIXED_MAX
 * bytes). Sets *fixed to the bytes written and returns the record's length, or 0 if invalid.
 * seq and crc stay 0: the writer stamps them when it puts the record in file order.
 */
static uint32_t
encode_fixed(uint8_t *b, const struct fc_journal_rec *rec, unsigned int producer, uint32_t *fixed)
{
	uint8_t *body = b + FC__J_REC_HDR;
	uint32_t body_len;

	switch (rec->type) {
	case FC_JOURNAL_AWARD: {
		const struct fc_journal_award *a = &rec->award;

		if (a->clue_id == 0 || a->n_fixes == 0 || a->fixes == NULL ||
		    a->n_fixes > a->contenders_total || a->fixes[0].player != a->winner ||
		    a->respawn == UINT32_MAX)
			return 0;
		fc__put32(body + 0, a->round_id);
		fc__put32(body + 4, a->clue_id);
		fc__put32(body + 8, a->points);
		fc__put16(body + 12, a->winner);
		fc__put16(body + 14, a->winner_team);
		fc__put64(body + 16, a->meas_time_ns);
		fc__put64(body + 24, a->decided_ns);
		fc__put16(body + 32, a->contenders_total);
		fc__put16(body + 34, a->n_fixes);
		fc__put16(body + 36, FC__J_FIX_LEN);
		fc__put16(body + 38, FC__J_AWARD_BODY); /* where the fixes start */
		fc__put32(body + 40, a->respawn);
		*fixed = FC__J_REC_HDR + FC__J_AWARD_BODY;
		body_len = FC__J_AWARD_BODY + (uint32_t)a->n_fixes * FC__J_FIX_LEN;
		break;
	}
	case FC_JOURNAL_SCORE: {
		const struct fc_journal_score *s = &rec->score;

		fc__put32(body + 0, s->round_id);
		fc__put32(body + 4, s->clue_id);
		fc__put16(body + 8, s->player);
		fc__put16(body + 10, s->team);
		fc__put32(body + 12, (uint32_t)s->delta);
		fc__put32(body + 16, (uint32_t)s->total);
		fc__put32(body + 20, (uint32_t)s->team_total);
		body_len = FC__J_SCORE_BODY;
		break;
	}
	case FC_JOURNAL_ROUND: {
		const struct fc_journal_round *r = &rec->round;

		if (r->state > FC_ROUND_ENDED)
			return 0;
		fc__put32(body + 0, r->round_id);
		body[4] = r->state;
		body[5] = r->end_reason;
		fc__put32(body + 8, r->round_time_ms);
		fc__put64(body + 16, r->cmd_seq);
		fc__put64(body + 24, r->time_ns);
		body_len = FC__J_ROUND_BODY;
		break;
	}
	case FC_JOURNAL_COMMAND: {
		const struct fc_journal_command *c = &rec->command;

		if (c->cmd_seq == 0 || c->text_len > FC_JOURNAL_TEXT_MAX ||
		    (c->text_len > 0 && c->text == NULL))
			return 0;
		fc__put64(body + 0, c->cmd_seq);
		fc__put16(body + 8, c->command);
		fc__put16(body + 10, c->status);
		fc__put32(body + 12, c->arg);
		fc__put64(body + 16, c->time_ns);
		body_len = FC__J_COMMAND_BODY;
		if (c->text_len > 0) {
			/* grown at its end (section 7): the text's length, then the text, padded */
			fc__put16(body + 24, c->text_len);
			body_len = FC__J_COMMAND_TEXT + ((c->text_len + 7u) & ~7u);
		}
		break;
	}
	case FC_JOURNAL_SESSION:
		fc__put32(body + 0, rec->session.session_id);
		fc__put64(body + 8, rec->session.started_ns);
		body_len = FC__J_SESSION_BODY;
		break;
	default:
		return 0;
	}
	if (rec->type == FC_JOURNAL_COMMAND && rec->command.text_len > 0)
		*fixed = FC__J_REC_HDR + FC__J_COMMAND_TEXT; /* the text follows */
	else if (rec->type != FC_JOURNAL_AWARD)
		*fixed = FC__J_REC_HDR + body_len;
	/* every v1 body is a multiple of 8 long, so no padding is ever needed */
	fc__put32(b + 4, FC__J_REC_HDR + body_len);
	fc__put16(b + 16, (uint16_t)rec->type);
	fc__put16(b + 18, FC__J_REC_VERSION);
	fc__put16(b + 20, (uint16_t)producer);
	return FC__J_REC_HDR + body_len;
}

static inline uint64_t
guard_hash(uint64_t key)
{
	/* Fibonacci hashing: clue ids are small and dense, the multiply spreads them */
	return (key * 0x9E3779B97F4A7C15ull) >> 17;
}

/* Raises the guard's round to at least round_id (a CAS loop: rounds only go forward). */
static void
guard_advance(struct fc__jguard *g, uint32_t round_id)
{
	uint32_t cur = atomic_load(&g->round);

	while (cur < round_id && !atomic_compare_exchange_weak(&g->round, &cur, round_id))
		;
}

/*
 * Claims (round_id, clue_id, respawn) in the guard. The probe takes the first free or dead
 * slot of the key's chain; a slot lost to a concurrent CAS is looked at again, so two producers
 * claiming the same clue meet on the same slot. There the claim word decides: it moves only
 * forward, by CAS, so of two awards with the same respawn number one sees -EEXIST. A claim
 * counts only if the round did not move while it ran: otherwise a slot this probe passed as
 * live may have been reused, and the claim's round is over anyway.
 */
static int
guard_claim(struct fc__jguard *g, uint32_t round_id, uint32_t clue_id, uint32_t respawn)
{
	uint64_t key = (uint64_t)round_id << 32 | clue_id;
	uint64_t want = (uint64_t)round_id << 32 | (respawn + 1u);
	uint64_t i = guard_hash(key) & g->mask, probes, c;
	uint32_t cur;

	guard_advance(g, round_id);
	cur = atomic_load(&g->round);
	if (round_id < cur)
		return -ESTALE;
	for (probes = 0; probes <= g->mask; probes++, i = (i + 1) & g->mask) {
		uint64_t k = atomic_load(&g->keys[i]);

		while (k != key && (k == 0 || (uint32_t)(k >> 32) < cur)) {
			/* free or dead: take it, or see who did */
			if (atomic_compare_exchange_strong(&g->keys[i], &k, key))
				k = key;
		}
		if (k == key)
			break;
	}
	if (probes > g->mask)
		return -ENOSPC;
	c = atomic_load(&g->claims[i]);
	for (;;) {
		uint32_t c_round = (uint32_t)(c >> 32);

		if (c_round > round_id)
			return -ESTALE; /* the slot went on to a newer round's clue */
		if (c_round == round_id && (uint32_t)c > respawn)
			return -EEXIST;
		/* an older round's claim is a previous tenant's: this clue has none yet */
		if (atomic_compare_exchange_strong(&g->claims[i], &c, want))
			break;
	}
	return atomic_load(&g->round) == cur ? 0 : -ESTALE;
}

int
fc__journal_guard_seed(struct fc_journal *j, const struct fc_journal_recovered *rec)
{
	atomic_store(&j->guard.round, rec->round_id);
	/* sorted by (clue, respawn): each clue's claims go forward */
	for (uint32_t i = 0; i < rec->n_awards; i++) {
		const struct fc_journal_clue_award *a = &rec->awards[i];
		int rc = guard_claim(&j->guard, rec->round_id, a->clue_id, a->respawn);

		if (rc != 0)
			return rc;
	}
	return 0;
}

int
fc_journal_append(struct fc_journal *j, unsigned int producer, const struct fc_journal_rec *rec,
		  uint64_t *ticket)
{
	uint8_t fixed[FC__J_FIXED_MAX] = { 0 };
	struct fc__jring *r;
	uint32_t len, fixed_len = 0;
	uint64_t head, need, pos;
	int rc;

	rc = atomic_load_explicit(&j->error, memory_order_relaxed);
	if (rc != 0)
		return rc;
	if (producer >= j->n_rings)
		return -EINVAL;
	len = encode_fixed(fixed, rec, producer, &fixed_len);
	if (len == 0)
		return -EINVAL;
	r = &j->rings[producer];
	need = (len + FC_JOURNAL_SLOT - 1) / FC_JOURNAL_SLOT;
	if (need > r->nslots)
		return -EMSGSIZE;
	head = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (head + need - r->tail_cache > r->nslots) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head + need - r->tail_cache > r->nslots)
			return -ENOBUFS;
	}
	/*
	 * Past this point nothing can fail but the guard, and the space is ours (one producer per
	 * ring): so a record refused for a full ring never takes a guard slot, and its retry is
	 * not mistaken for a second award.
	 */
	if (rec->type == FC_JOURNAL_AWARD) {
		rc = guard_claim(&j->guard, rec->award.round_id, rec->award.clue_id,
				 rec->award.respawn);
		if (rc != 0)
			return rc;
	} else if (rec->type == FC_JOURNAL_ROUND) {
		guard_advance(&j->guard, rec->round.round_id);
	}
	pos = head * FC_JOURNAL_SLOT;
	ring_put(r, pos, fixed, fixed_len);
	if (rec->type == FC_JOURNAL_COMMAND && rec->command.text_len > 0) {
		uint8_t text[FC_JOURNAL_TEXT_MAX + 8] = { 0 }; /* zero padding to a multiple of 8 */

		memcpy(text, rec->command.text, rec->command.text_len);
		ring_put(r, pos + fixed_len, text, (rec->command.text_len + 7u) & ~7u);
	}
	if (rec->type == FC_JOURNAL_AWARD) {
		uint8_t fb[FC__J_FIX_LEN];

		for (uint32_t i = 0; i < rec->award.n_fixes; i++) {
			encode_fix(fb, &rec->award.fixes[i]);
			ring_put(r, pos + fixed_len + (uint64_t)i * FC__J_FIX_LEN, fb, sizeof(fb));
		}
	}
	atomic_store_explicit(&r->head, head + need, memory_order_release);
	r->tickets++;
	if (ticket != NULL)
		*ticket = r->tickets;
	return 0;
}

uint64_t
fc_journal_durable_ticket(const struct fc_journal *j, unsigned int producer)
{
	if (producer >= j->n_rings)
		return 0;
	return atomic_load_explicit(&j->rings[producer].durable, memory_order_acquire);
}

uint64_t
fc_journal_durable_seq(const struct fc_journal *j)
{
	return atomic_load_explicit(&j->durable_seq, memory_order_acquire);
}
