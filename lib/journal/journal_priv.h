/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal's internals, shared by the producer side (journal_fp.c), the writer and open
 * (journal.c) and the reader (recovery.c). The on-disk layout (docs/journal.md) is written
 * and read byte by byte with the little-endian helpers below, never by casting a struct onto
 * the bytes, so it does not depend on the compiler's layout or the host's byte order.
 */
#ifndef FC_JOURNAL_PRIV_H
#define FC_JOURNAL_PRIV_H

#include <assert.h>
#include <endian.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fc_journal.h"

/* File header (docs/journal.md section 2). */
#define FC__J_MAGIC       "FCJOURNL"
#define FC__J_MAGIC_LEN   8u
#define FC__J_VERSION     1u
#define FC__J_HEADER_LEN  32u
#define FC__J_HEADER_MAX  4096u /* a later version's longer header must stay below this */
#define FC__J_REC_HDR     24u   /* record header (section 3) */
#define FC__J_REC_VERSION 1u
/*
 * Sanity bound for a record's length field: a v1 award with 65 535 fixes is 3 145 752 bytes;
 * room is left for longer fix entries. A larger length is damage, not a record.
 */
#define FC__J_REC_MAX     (16u << 20)

/* v1 body sizes (section 4); bodies only ever grow, and readers read the prefix they know. */
#define FC__J_AWARD_BODY   48u
#define FC__J_FIX_LEN      48u
#define FC__J_SCORE_BODY   24u
#define FC__J_ROUND_BODY   32u
#define FC__J_COMMAND_BODY 24u
#define FC__J_COMMAND_TEXT 32u /* where a COMMAND's text starts (its length at 24) */
#define FC__J_SESSION_BODY 16u
/* The largest fixed part (header + body without fixes): what a producer stages on its stack. */
#define FC__J_FIXED_MAX    (FC__J_REC_HDR + FC__J_AWARD_BODY)

/* Defaults of struct fc_journal_opts. */
#define FC__J_DEF_RING_SLOTS 4096u
#define FC__J_DEF_BATCH_MAX  1024u
#define FC__J_DEF_DELAY_US   2000u
#define FC__J_DEF_IDLE_US    200u
#define FC__J_DEF_MAX_CLUES  16384u
#define FC__J_MIN_RING_SLOTS 16u
#define FC__J_MAX_RING_SLOTS (1u << 20)

static inline void
fc__put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static inline void
fc__put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static inline void
fc__put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static inline uint16_t
fc__get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static inline uint32_t
fc__get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static inline uint64_t
fc__get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/*
 * One producer's SPSC ring of 64-byte slots. A record takes ceil(length / 64) consecutive
 * slots (modulo the ring), so an award with 64 contenders (3 144 bytes) is one append of 50 slots.
 * head and tail count slots since open and never wrap (2^64 slots is forever). Each side's
 * counter sits on its own cache line, so the producer and the writer do not false-share.
 */
struct fc__jring {
	/* read-only after open */
	uint8_t *mem;
	uint64_t nslots; /* a power of two */

	alignas(64) _Atomic uint64_t head; /* slots published: the producer stores (release) */
	uint64_t tail_cache;               /* the producer's last view of tail */
	uint64_t tickets;                  /* records appended: the producer's only */

	alignas(64) _Atomic uint64_t tail; /* slots consumed: the writer stores (release) */
	uint64_t taken;                    /* records consumed: the writer's only */

	alignas(64) _Atomic uint64_t durable; /* tickets durable: the writer stores (release) */
};

static_assert(offsetof(struct fc__jring, head) == 64 && offsetof(struct fc__jring, tail) == 128 &&
		      offsetof(struct fc__jring, durable) == 192 && sizeof(struct fc__jring) == 256,
	      "ring: each side's counters on their own cache line");

/*
 * The double-award guard: an open-addressing table shared by every producer, written with
 * compare-and-swap, never locked. keys[i] is a clue of a round (round_id << 32 | clue_id);
 * claims[i] what was awarded of it (round_id << 32 | 1 + the highest respawn accepted). A key
 * of a round older than the current one is dead and its slot reusable, so the table never
 * needs clearing between rounds; claims[i] names its round, so a reused slot's old claim is
 * recognisably stale. Awards are rare (people walk to clues): its cost is no concern.
 */
struct fc__jguard {
	_Atomic uint64_t *keys;
	_Atomic uint64_t *claims;
	uint64_t mask;
	_Atomic uint32_t round; /* the newest round journaled (ROUND or AWARD, or recovered) */
};

struct fc_journal {
	/* read by the producers */
	struct fc__jring *rings;
	unsigned int n_rings;
	struct fc__jguard guard;
	_Atomic int error; /* the writer's sticky error: set once */

	/* read by the TX side, written after every fdatasync */
	alignas(64) _Atomic uint64_t durable_seq;

	/* the writer's counters (relaxed: for reports) */
	alignas(64) _Atomic uint64_t st_records;
	_Atomic uint64_t st_bytes;
	_Atomic uint64_t st_syncs;
	_Atomic uint64_t st_max_batch;

	/* the writer's own */
	alignas(64) int fd;
	_Atomic bool stop;
	uint64_t next_seq;
	uint8_t *buf; /* records copied out of the rings, not yet written */
	size_t buf_len;
	size_t buf_cap; /* >= the largest record a ring holds */
	unsigned int batch_max;
	uint64_t max_delay_ns;
	uint64_t idle_ns;
	unsigned int next_ring; /* where the next drain starts: no producer always goes last */
	pthread_t thread;
	bool thread_started;
};

/* recovery.c: the reader shared by open, scan and audit. */
struct fc__jtail {
	uint64_t records;
	uint64_t last_seq; /* 0 if none */
	uint64_t end;      /* where the valid records end */
	uint64_t torn_bytes;
	char torn_reason[96];
};

/*
 * Checks the header and reads the records of a journal mapped at base (size bytes), calling
 * cb for each. A torn tail ends the scan (described in *tail); damage with a valid record
 * after it returns -EBADMSG with err saying where. Returns 0, the callback's value, or -errno.
 */
int fc__journal_read(const uint8_t *base, uint64_t size, const char *path, fc_journal_scan_cb cb,
		     void *arg, struct fc__jtail *tail, char *err, size_t err_len);

/* err[0, err_len) = the formatted reason (err may be NULL); _more appends to it. */
void fc__journal_seterr(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fc__journal_seterr_more(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes a fresh header of FC__J_HEADER_LEN bytes into h. */
void fc__journal_header(uint8_t *h, uint64_t created_ns);

/* zlib crc32 of a record's bytes [4, length): everything but the crc field itself. */
uint32_t fc__journal_crc(const uint8_t *rec, uint32_t length);

/* Recovery state: filled by fc__journal_recover_cb as records come, then finished. */
struct fc__jrecover;
struct fc__jrecover *fc__journal_recover_new(void);
int fc__journal_recover_cb(const struct fc_journal_entry *e, void *arg);
int fc__journal_recover_finish(struct fc__jrecover *r, const struct fc__jtail *tail,
			       struct fc_journal_recovered *out);
void fc__journal_recover_free(struct fc__jrecover *r);

/* journal_fp.c: seeds the guard with the recovered round and its awards. */
int fc__journal_guard_seed(struct fc_journal *j, const struct fc_journal_recovered *rec);

#endif /* FC_JOURNAL_PRIV_H */
