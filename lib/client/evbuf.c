/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The events a subscriber holds ahead of a gap, or while it waits for a snapshot
 * (docs/protocol.md section 7, `buf`): bounded in count and in bytes, allocated once.
 *
 * An event is a few dozen bytes except a CLUE_CLAIMED with many contenders (up to 1056), so
 * fixed-size slots would cost a kilobyte per event. The bytes go instead into an arena filled
 * from the start; holes left by applied events are squeezed out by copying what is held into
 * a twin arena, which happens only when the arena runs out, and never while it is empty (it
 * then starts over at 0). Slots are found by event_seq modulo cap: events held at once lie
 * within a few thousand numbers, so two rarely share a slot, and when they do the lower one is
 * kept, as when the bytes run out: the protocol drops the highest, to be recovered again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client_priv.h"

int
fc__evbuf_init(struct fc__evbuf *b, uint32_t cap, uint32_t bytes)
{
	memset(b, 0, sizeof(*b));
	b->slot = calloc(cap, sizeof(*b->slot));
	b->arena[0] = malloc(bytes);
	b->arena[1] = malloc(bytes);
	if (b->slot == NULL || b->arena[0] == NULL || b->arena[1] == NULL) {
		fc__evbuf_fini(b);
		return -ENOMEM;
	}
	b->cap = cap;
	b->size = bytes;
	return 0;
}

void
fc__evbuf_fini(struct fc__evbuf *b)
{
	free(b->slot);
	free(b->arena[0]);
	free(b->arena[1]);
	memset(b, 0, sizeof(*b));
}

void
fc__evbuf_clear(struct fc__evbuf *b)
{
	if (b->count != 0)
		memset(b->slot, 0, (size_t)b->cap * sizeof(*b->slot));
	b->count = 0;
	b->used = 0;
	b->live = 0;
}

static struct fc__evslot *
slot_of(const struct fc__evbuf *b, uint64_t seq)
{
	return &b->slot[seq % b->cap];
}

bool
fc__evbuf_has(const struct fc__evbuf *b, uint64_t seq)
{
	const struct fc__evslot *s = slot_of(b, seq);

	return s->used && s->seq == seq;
}

const uint8_t *
fc__evbuf_get(const struct fc__evbuf *b, uint64_t seq, uint16_t *len)
{
	const struct fc__evslot *s = slot_of(b, seq);

	if (!s->used || s->seq != seq)
		return NULL;
	*len = s->len;
	return b->arena[b->cur] + s->off;
}

static void
slot_free(struct fc__evbuf *b, struct fc__evslot *s)
{
	s->used = false;
	b->live -= s->len;
	if (--b->count == 0) {
		b->used = 0; /* empty: the arena starts over */
		b->live = 0;
	}
}

void
fc__evbuf_del(struct fc__evbuf *b, uint64_t seq)
{
	struct fc__evslot *s = slot_of(b, seq);

	if (s->used && s->seq == seq)
		slot_free(b, s);
}

void
fc__evbuf_drop_below(struct fc__evbuf *b, uint64_t seq)
{
	for (uint32_t i = 0; i < b->cap && b->count != 0; i++)
		if (b->slot[i].used && b->slot[i].seq < seq)
			slot_free(b, &b->slot[i]);
}

/* Copies what is held into the twin arena, back to back. */
static void
compact(struct fc__evbuf *b)
{
	const uint8_t *src = b->arena[b->cur];
	uint8_t *dst = b->arena[b->cur ^ 1u];
	uint32_t off = 0;

	for (uint32_t i = 0; i < b->cap; i++) {
		struct fc__evslot *s = &b->slot[i];

		if (!s->used)
			continue;
		memcpy(dst + off, src + s->off, s->len);
		s->off = off;
		off += s->len;
	}
	b->cur ^= 1u;
	b->used = off;
}

static struct fc__evslot *
highest(struct fc__evbuf *b)
{
	struct fc__evslot *h = NULL;

	for (uint32_t i = 0; i < b->cap; i++)
		if (b->slot[i].used && (h == NULL || b->slot[i].seq > h->seq))
			h = &b->slot[i];
	return h;
}

int
fc__evbuf_put(struct fc__evbuf *b, uint64_t seq, const void *msg, uint16_t len, uint64_t *evicted)
{
	struct fc__evslot *s = slot_of(b, seq);

	if (s->used) {
		if (s->seq == seq)
			return -EEXIST;
		if (s->seq < seq)
			return -ENOSPC;
		slot_free(b, s);
		(*evicted)++;
	}
	if (len > b->size)
		return -ENOSPC;
	while (b->live + len > b->size) {
		struct fc__evslot *h = highest(b);

		if (h->seq < seq)
			return -ENOSPC;
		slot_free(b, h);
		(*evicted)++;
	}
	if (b->used + len > b->size)
		compact(b);
	memcpy(b->arena[b->cur] + b->used, msg, len);
	s->seq = seq;
	s->off = b->used;
	s->len = len;
	s->used = true;
	b->used += len;
	b->live += len;
	b->count++;
	return 0;
}
