/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The game's journal (DESIGN.md section 3, invariant 7: an award is journaled before it is
 * announced): an append-only file of every award (with the fixes that decided it), score
 * change, round state change, operator command and downlink session start.
 *
 * Where it sits: the lcores that decide things (owners: awards; the control path: commands,
 * rounds; whoever keeps the scores) are producers. Each producer hands fixed-size slots to the
 * journal through its own single-producer/single-consumer ring (C11 atomics, no lock, no
 * syscall: the packet path never waits for the disk). One writer thread, off the packet path,
 * appends what the rings hold and makes it durable with group commit (one fdatasync for all
 * that was written since the previous one). After each fdatasync it publishes, per producer,
 * how many of that producer's records are durable. The TX lcore announces an event only once
 * its record is durable: fc_journal_durable_ticket(j, producer) >= the ticket the append gave.
 *
 * At open the file is scanned and the running game recovered: round, awards, scores, the next
 * cmd_seq, the last session id. A torn last record (a crash mid-write) is cut off; damage with
 * valid records after it is refused, since cutting there would drop durable awards.
 * docs/journal.md has the file format byte by byte and the recovery procedure.
 *
 * Nothing here needs the EAL. Functions returning int give 0 or -errno; the constructor
 * returns NULL with errno set and a one-line reason in err[0, err_len).
 */
#ifndef FC_JOURNAL_H
#define FC_JOURNAL_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_wire_types.h" /* enum fc_round_state, FC_CONT_F_*: the same words as the wire */

#define FC_JOURNAL_MAX_PRODUCERS 64u
#define FC_JOURNAL_SLOT          64u /* bytes per ring slot: one cache line */

/* Record types. Types are only ever added; a reader skips a type it does not know. */
enum fc_journal_type {
	FC_JOURNAL_AWARD = 1,   /* a decided claim, with every contender's qualifying fix */
	FC_JOURNAL_SCORE = 2,   /* a player's score changed */
	FC_JOURNAL_ROUND = 3,   /* the round's state changed */
	FC_JOURNAL_COMMAND = 4, /* an operator command, applied or not (its COMMAND_ECHO) */
	FC_JOURNAL_SESSION = 5, /* a downlink session started (its session_id) */
};

/* One contender's qualifying fix, as the arbiter ranked it: 48 bytes on disk. */
struct fc_journal_fix {
	uint16_t player;
	uint16_t flags;        /* FC_CONT_F_WINNER (first entry only), FC_CONT_F_TIE */
	uint32_t gateway_id;   /* the gateway whose frame carried the fix */
	uint64_t meas_time_ns; /* corrected measurement time: what the ranking used */
	uint64_t gw_time_ns;   /* the measurement time as the gateway stamped it */
	int32_t x_mm;
	int32_t y_mm;
	int32_t z_mm;
	uint32_t distance_mm; /* from the clue's centre */
	uint16_t err_mm;      /* 1-sigma, 0xFFFF unknown */
	uint8_t quality;
	uint8_t fix_flags; /* the uplink fix flags (technology, NO_Z) */
	uint32_t fix_seq;  /* the positioning engine's per-tag fix counter */
};

/* A decided claim. fixes[0] is the winner's; then the others in ranked order. */
struct fc_journal_award {
	uint32_t round_id;
	uint32_t clue_id; /* >= 1 */
	uint32_t points;
	uint16_t winner;
	uint16_t winner_team;
	uint64_t meas_time_ns;     /* the winner's corrected measurement time */
	uint64_t decided_ns;       /* floord's clock when the owner decided */
	uint16_t contenders_total; /* every player that qualified in the settle window */
	uint16_t n_fixes;          /* 1 .. contenders_total: the journal keeps the full list */
	uint32_t respawn; /* the clue's respawns in the round before this award: 0 the first */
	const struct fc_journal_fix *fixes;
};

/* A score change, with the totals as announced (docs/protocol.md SCORE). */
struct fc_journal_score {
	uint32_t round_id;
	uint32_t clue_id; /* the cause, 0 for none */
	uint16_t player;
	uint16_t team;
	int32_t delta;
	int32_t total;      /* the player's total after the change, as announced */
	int32_t team_total; /* the team's total after the change, as announced */
};

struct fc_journal_round {
	uint32_t round_id;
	uint8_t state;      /* enum fc_round_state */
	uint8_t end_reason; /* END_OF_ROUND reason when state is ENDED: 0 operator, 1, 2 */
	uint32_t round_time_ms;
	uint64_t cmd_seq; /* the command that caused it, 0 if none */
	uint64_t time_ns; /* floord's clock at the change */
};

#define FC_JOURNAL_TEXT_MAX 255u /* bytes of a command's text */

struct fc_journal_command {
	uint64_t cmd_seq; /* >= 1, floord's arrival order */
	uint16_t command; /* docs/protocol.md COMMAND_ECHO codes */
	uint16_t status;  /* 0 applied, otherwise a positive errno */
	uint32_t arg;
	uint64_t time_ns;
	/*
	 * The command as floord took it, for those a restart replays (load layout FILE, roster
	 * add/remove: docs/control.md); text_len 0: none, the v1 record. Read back, text points
	 * into the scan's buffer (valid during the callback) and is not NUL-terminated.
	 */
	uint16_t text_len; /* 0 .. FC_JOURNAL_TEXT_MAX */
	const char *text;
};

struct fc_journal_session {
	uint32_t session_id;
	uint64_t started_ns;
};

/* One record, as appended and as read back. */
struct fc_journal_rec {
	enum fc_journal_type type;
	union {
		struct fc_journal_award award;
		struct fc_journal_score score;
		struct fc_journal_round round;
		struct fc_journal_command command;
		struct fc_journal_session session;
	};
};

/* A record read from the file. award.fixes is valid only during the callback. */
struct fc_journal_entry {
	uint64_t seq;      /* the journal's record sequence: from 1, +1 per record, never reused */
	uint64_t offset;   /* of the record in the file */
	uint16_t producer; /* which producer appended it */
	uint16_t version;  /* the record's layout version (1) */
	uint32_t length;   /* on disk, header included */
	struct fc_journal_rec rec; /* a type this reader does not know: only .type is set */
};

/* Every field 0 means its default. */
struct fc_journal_opts {
	unsigned int producers;    /* 1 .. FC_JOURNAL_MAX_PRODUCERS; default 1 */
	unsigned int ring_slots;   /* per producer, a power of two, 16 .. 1 << 20; default 4096 */
	unsigned int batch_max;    /* fdatasync after this many records even if more wait; 1024 */
	unsigned int max_delay_us; /* ... or once the oldest unsynced record is this old; 2000 */
	unsigned int idle_us;      /* the idle writer polls the rings this often; 200 */
	unsigned int max_clues;    /* distinct clues awarded per round the guard holds; 16384 */
	const cpu_set_t *writer_cpus; /* where the writer thread may run; NULL: the caller's */
};

/*
 * The running game as the journal recovered it. The round is the highest round_id in any
 * ROUND, AWARD or SCORE record; awards and scores are those of that round only. Scores are
 * the sums of the deltas journaled (per player, and per team), whatever order the producers'
 * records reached the file in.
 */
struct fc_journal_clue_award {
	uint64_t seq; /* of the AWARD record */
	uint32_t clue_id;
	uint32_t respawn;
	uint32_t points;
	uint16_t winner;
	uint16_t winner_team;
	uint16_t contenders_total;
	uint64_t meas_time_ns;
	uint64_t decided_ns;
};

struct fc_journal_player_score {
	uint16_t player;
	uint16_t team; /* as in the player's last SCORE record */
	int32_t total;
};

struct fc_journal_team_score {
	uint16_t team;
	int32_t total;
};

/* A command a restart replays: load layout, roster add/remove, and applied round starts. */
struct fc_journal_replay_cmd {
	uint64_t cmd_seq;
	uint16_t command;
	uint32_t arg;
	char text[FC_JOURNAL_TEXT_MAX + 1]; /* NUL-terminated; "" for a round start */
};

struct fc_journal_recovered {
	uint64_t records;         /* valid records in the file */
	uint64_t next_seq;        /* the seq the next record gets */
	uint64_t next_cmd_seq;    /* 1 + the highest cmd_seq in a COMMAND or ROUND record */
	uint32_t last_session_id; /* of the last SESSION record, 0 if none */
	uint32_t round_id;        /* the running round, 0 if none */
	uint8_t round_state;      /* enum fc_round_state */
	bool round_inferred; /* no ROUND record of round_id survived, only its awards or scores:
			      * round_state says RUNNING (they can only exist in a started round) */
	uint32_t round_time_ms;
	uint64_t round_cmd_seq;
	uint32_t n_awards;
	struct fc_journal_clue_award *awards; /* sorted by (clue_id, respawn) */
	uint32_t duplicate_awards; /* later awards of a (clue, respawn) already awarded: ignored */
	uint32_t n_players;
	struct fc_journal_player_score *players; /* sorted by player */
	uint32_t n_teams;
	struct fc_journal_team_score *teams; /* sorted by team */
	uint32_t n_replay; /* every applied COMMAND with a text, and every applied round start */
	struct fc_journal_replay_cmd *replay; /* in file order (one producer: TX's order) */
	uint64_t torn_offset;                 /* where a torn tail was cut off; 0 if none */
	uint64_t torn_bytes;                  /* how many bytes were cut off */
	char torn_reason[96];                 /* why the tail was judged torn */
};

struct fc_journal_stats {
	uint64_t records;     /* written since open */
	uint64_t bytes;       /* written since open */
	uint64_t syncs;       /* fdatasync calls since open */
	uint64_t max_batch;   /* most records one fdatasync made durable */
	uint64_t durable_seq; /* as fc_journal_durable_seq() */
	int error;            /* the writer's sticky error (-errno), 0 if none */
};

struct fc_journal;

/*
 * Opens the journal at path, creating it if it does not exist (atomically: a new file appears
 * with its header complete), recovers the game into *rec (NULL: not wanted), cuts a torn tail
 * off, makes the file durable, and starts the writer thread. The file is locked (flock) for
 * as long as it is open. Call it from the control path, before the producers start; the writer
 * thread blocks every signal (they go to the caller's threads) and runs on opts->writer_cpus,
 * or where the caller may run.
 * Returns NULL with errno: EINVAL (opts), ENOENT/EACCES/... (the file), EBUSY (another process
 * has it open), EBADMSG (not a journal, a damaged header, or damage in the middle: err says the
 * offset and what), ENOTSUP (a newer journal version), ENOMEM.
 * *rec is filled only on success; free it with fc_journal_recovered_free().
 */
struct fc_journal *fc_journal_open(const char *path, const struct fc_journal_opts *opts,
				   struct fc_journal_recovered *rec, char *err, size_t err_len);

/*
 * Hands a record to the journal; never blocks, never allocates, makes no syscall. One thread at
 * a time per producer id (each producer's ring is single-producer); different producers need
 * no coordination. On success *ticket (may be NULL) is this record's number among the
 * producer's records since open (1, 2, ...): it is durable once
 * fc_journal_durable_ticket(j, producer) >= *ticket.
 * An AWARD is checked against every award accepted in its round, by any producer and before a
 * restart: the last line of defence against awarding a clue twice. A clue that respawns is
 * awarded again with the next respawn number; the same or an older number is refused.
 * Returns 0, or
 *  -ENOBUFS  the producer's ring is full. Nothing was taken: keep the record and append it
 *            again later (an arbiter keeps the decision pending, unannounced, until accepted).
 *  -EEXIST   this clue was already awarded in this round with this or a later respawn number
 *            (this award is not journaled).
 *  -ESTALE   an award for a round older than the newest round journaled: that round is over.
 *  -ENOSPC   the guard holds opts.max_clues distinct clues of this round already.
 *  -EMSGSIZE the record is larger than the producer's ring (opts.ring_slots * 64 bytes).
 *  -EINVAL   bad producer id or record (unknown type, clue 0, no fixes, fixes[0] not the
 *            winner, n_fixes > contenders_total, respawn UINT32_MAX, round state > ENDED,
 *            cmd_seq 0).
 *  the writer's sticky error (-EIO, -ENOSPC, -EFBIG, ...): the journal failed; nothing more
 *            becomes durable, so nothing more may be announced.
 */
int fc_journal_append(struct fc_journal *j, unsigned int producer, const struct fc_journal_rec *rec,
		      uint64_t *ticket);

/*
 * How many of the producer's records (tickets 1..n) are durable; 0 for a producer id out of
 * range. Any thread, lock-free: one atomic load.
 */
uint64_t fc_journal_durable_ticket(const struct fc_journal *j, unsigned int producer);

/* The highest record seq durable on disk (records recovered at open count). Any thread. */
uint64_t fc_journal_durable_seq(const struct fc_journal *j);

/* Counters of the writer; any thread. */
void fc_journal_stats(const struct fc_journal *j, struct fc_journal_stats *s);

/*
 * Stops the journal: the writer writes and syncs everything the rings hold, then exits.
 * The producers must have stopped appending. Returns 0 or the writer's sticky error (then the
 * records not durable at the error are lost, and were never announced). j NULL: 0.
 */
int fc_journal_close(struct fc_journal *j);

/* Frees the arrays of a recovered state (not rec itself). */
void fc_journal_recovered_free(struct fc_journal_recovered *rec);

/*
 * The latest award (highest respawn) of clue_id in the recovered round, or NULL if the clue
 * was not awarded in it. With the layout's respawn time and its decided_ns, the arbiter knows
 * whether the clue is still decided; its next award carries respawn + 1.
 */
const struct fc_journal_clue_award *
fc_journal_recovered_award(const struct fc_journal_recovered *rec, uint32_t clue_id);

/* Called per record; a non-zero return stops the scan and is returned by it. */
typedef int (*fc_journal_scan_cb)(const struct fc_journal_entry *e, void *arg);

/*
 * Reads every valid record of the journal at path, in file order, without changing the file
 * and without the lock: it may run while floord writes (a record being written looks torn, and
 * the scan ends before it). A torn tail ends the scan quietly.
 * Returns 0, the callback's non-zero value, or -errno: ENOENT..., EBADMSG (not a journal, or
 * damage in the middle: err says where), ENOTSUP (newer version), ENOMEM.
 */
int fc_journal_scan(const char *path, fc_journal_scan_cb cb, void *arg, char *err, size_t err_len);

/*
 * The audit (floorctl audit CLUE): calls cb for every AWARD of clue_id in the journal, in every
 * round, in file order: who won, when, and every contender's qualifying fix. Returns as
 * fc_journal_scan().
 */
int fc_journal_audit(const char *path, uint32_t clue_id, fc_journal_scan_cb cb, void *arg,
		     char *err, size_t err_len);

#endif /* FC_JOURNAL_H */
