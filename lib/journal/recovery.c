/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading the journal back: the record reader shared by recovery (fc_journal_open), the dump
 * (fc_journal_scan) and the audit (fc_journal_audit), and the recovery of the running game
 * from the records. docs/journal.md section 5 is this file's procedure in prose.
 *
 * The one judgement a reader makes is torn tail or damage. A process killed mid-write, or a
 * machine that lost power before its fdatasync, leaves a partial or garbled suffix after the
 * last complete record, and nothing valid after it: that suffix was never durable, so nothing
 * announced is in it, and recovery cuts it off. A bad record with a valid one after it is
 * different: the records after it were written, maybe synced and announced, so cutting there
 * would lose awards. That is refused, with the offset, for a human to look at.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "journal_priv.h"

#define N_IDS 65536u /* players and teams are u16 */

void
fc__journal_seterr(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

void
fc__journal_seterr_more(char *err, size_t err_len, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (err == NULL || err_len == 0)
		return;
	used = strnlen(err, err_len);
	if (used + 1 >= err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err + used, err_len - used, fmt, ap);
	va_end(ap);
}

uint32_t
fc__journal_crc(const uint8_t *rec, uint32_t length)
{
	return (uint32_t)crc32_z(0, rec + 4, length - 4);
}

void
fc__journal_header(uint8_t *h, uint64_t created_ns)
{
	memset(h, 0, FC__J_HEADER_LEN);
	memcpy(h, FC__J_MAGIC, FC__J_MAGIC_LEN);
	fc__put16(h + 8, FC__J_VERSION);
	fc__put16(h + 10, FC__J_HEADER_LEN);
	fc__put64(h + 16, created_ns);
	fc__put32(h + 28, (uint32_t)crc32_z(0, h, FC__J_HEADER_LEN - 4));
}

/* Checks the file header; sets *hlen to where the records start. 0 or -errno. */
static int
check_header(const uint8_t *base, uint64_t size, const char *path, uint32_t *hlen, char *err,
	     size_t err_len)
{
	uint16_t version, len;

	if (size < FC__J_HEADER_LEN || memcmp(base, FC__J_MAGIC, FC__J_MAGIC_LEN) != 0) {
		fc__journal_seterr(err, err_len,
				   "journal %s: not a floorcast journal (no FCJOURNL header)",
				   path);
		return -EBADMSG;
	}
	version = fc__get16(base + 8);
	len = fc__get16(base + 10);
	if (version > FC__J_VERSION) {
		fc__journal_seterr(err, err_len,
				   "journal %s: version %u, newer than this floorcast (%u)", path,
				   version, FC__J_VERSION);
		return -ENOTSUP;
	}
	if (version == 0 || len < FC__J_HEADER_LEN || len % 8 != 0 || len > FC__J_HEADER_MAX ||
	    len > size) {
		fc__journal_seterr(err, err_len,
				   "journal %s: damaged header (version %u, length %u)", path,
				   version, len);
		return -EBADMSG;
	}
	/* the header's crc is its last 4 bytes, whatever its length */
	if (fc__get32(base + len - 4) != (uint32_t)crc32_z(0, base, len - 4u)) {
		fc__journal_seterr(err, err_len, "journal %s: damaged header (checksum mismatch)",
				   path);
		return -EBADMSG;
	}
	*hlen = len;
	return 0;
}

/* Grows the reader's fix array to n entries. */
static int
fixes_reserve(struct fc_journal_fix **fixes, size_t *cap, size_t n)
{
	struct fc_journal_fix *f;

	if (n <= *cap)
		return 0;
	f = realloc(*fixes, n * sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	*fixes = f;
	*cap = n;
	return 0;
}

static void
decode_fix(const uint8_t *b, struct fc_journal_fix *f)
{
	f->player = fc__get16(b + 0);
	f->flags = fc__get16(b + 2);
	f->gateway_id = fc__get32(b + 4);
	f->meas_time_ns = fc__get64(b + 8);
	f->gw_time_ns = fc__get64(b + 16);
	f->x_mm = (int32_t)fc__get32(b + 24);
	f->y_mm = (int32_t)fc__get32(b + 28);
	f->z_mm = (int32_t)fc__get32(b + 32);
	f->distance_mm = fc__get32(b + 36);
	f->err_mm = fc__get16(b + 40);
	f->quality = b[42];
	f->fix_flags = b[43];
	f->fix_seq = fc__get32(b + 44);
}

/*
 * Decodes a record that passed its crc. A known type whose body is shorter than its layout
 * says is damage written by a bug, not a tear: what says so. 0, -EBADMSG or -ENOMEM.
 */
static int
decode(const uint8_t *p, uint32_t len, struct fc_journal_entry *e, struct fc_journal_fix **fixes,
       size_t *cap, char *what, size_t what_len)
{
	const uint8_t *b = p + FC__J_REC_HDR;
	uint32_t body = len - FC__J_REC_HDR;
	static const uint32_t need[] = {
		[FC_JOURNAL_AWARD] = FC__J_AWARD_BODY,
		[FC_JOURNAL_SCORE] = FC__J_SCORE_BODY,
		[FC_JOURNAL_ROUND] = FC__J_ROUND_BODY,
		[FC_JOURNAL_COMMAND] = FC__J_COMMAND_BODY,
		[FC_JOURNAL_SESSION] = FC__J_SESSION_BODY,
	};
	uint16_t type = fc__get16(p + 16);

	memset(&e->rec, 0, sizeof(e->rec));
	e->rec.type = (enum fc_journal_type)type;
	e->length = len;
	e->seq = fc__get64(p + 8);
	e->version = fc__get16(p + 18);
	e->producer = fc__get16(p + 20);
	if (type == 0 || type >= sizeof(need) / sizeof(need[0]))
		return 0; /* a later type: the caller skips it */
	if (body < need[type]) {
		snprintf(what, what_len, "type %u body of %u bytes, at least %u", type, body,
			 need[type]);
		return -EBADMSG;
	}
	switch (type) {
	case FC_JOURNAL_AWARD: {
		struct fc_journal_award *a = &e->rec.award;
		uint16_t fix_len = fc__get16(b + 36), fix_off = fc__get16(b + 38);
		int rc;

		a->round_id = fc__get32(b + 0);
		a->clue_id = fc__get32(b + 4);
		a->points = fc__get32(b + 8);
		a->winner = fc__get16(b + 12);
		a->winner_team = fc__get16(b + 14);
		a->meas_time_ns = fc__get64(b + 16);
		a->decided_ns = fc__get64(b + 24);
		a->contenders_total = fc__get16(b + 32);
		a->n_fixes = fc__get16(b + 34);
		a->respawn = fc__get32(b + 40);
		if (fix_len < FC__J_FIX_LEN || fix_off < FC__J_AWARD_BODY || fix_off % 8 != 0 ||
		    fix_off + (uint64_t)a->n_fixes * fix_len > body) {
			snprintf(
				what, what_len,
				"award of %u fixes of %u bytes at %u does not fit its %u-byte body",
				a->n_fixes, fix_len, fix_off, body);
			return -EBADMSG;
		}
		rc = fixes_reserve(fixes, cap, a->n_fixes);
		if (rc != 0)
			return rc;
		for (uint32_t i = 0; i < a->n_fixes; i++)
			decode_fix(b + fix_off + i * fix_len, &(*fixes)[i]);
		a->fixes = *fixes;
		break;
	}
	case FC_JOURNAL_SCORE: {
		struct fc_journal_score *s = &e->rec.score;

		s->round_id = fc__get32(b + 0);
		s->clue_id = fc__get32(b + 4);
		s->player = fc__get16(b + 8);
		s->team = fc__get16(b + 10);
		s->delta = (int32_t)fc__get32(b + 12);
		s->total = (int32_t)fc__get32(b + 16);
		s->team_total = (int32_t)fc__get32(b + 20);
		break;
	}
	case FC_JOURNAL_ROUND: {
		struct fc_journal_round *r = &e->rec.round;

		r->round_id = fc__get32(b + 0);
		r->state = b[4];
		r->end_reason = b[5];
		r->round_time_ms = fc__get32(b + 8);
		r->cmd_seq = fc__get64(b + 16);
		r->time_ns = fc__get64(b + 24);
		break;
	}
	case FC_JOURNAL_COMMAND: {
		struct fc_journal_command *c = &e->rec.command;

		c->cmd_seq = fc__get64(b + 0);
		c->command = fc__get16(b + 8);
		c->status = fc__get16(b + 10);
		c->arg = fc__get32(b + 12);
		c->time_ns = fc__get64(b + 16);
		if (body >= FC__J_COMMAND_TEXT) {
			c->text_len = fc__get16(b + 24);
			if (c->text_len > FC_JOURNAL_TEXT_MAX ||
			    FC__J_COMMAND_TEXT + (uint32_t)c->text_len > body) {
				snprintf(what, what_len,
					 "command text of %u bytes does not fit its %u-byte body",
					 c->text_len, body);
				return -EBADMSG;
			}
			c->text = (const char *)(b + FC__J_COMMAND_TEXT);
		}
		break;
	}
	case FC_JOURNAL_SESSION:
		e->rec.session.session_id = fc__get32(b + 0);
		e->rec.session.started_ns = fc__get64(b + 8);
		break;
	}
	return 0;
}

/*
 * Is there a valid record anywhere after the bad one at off? A record starts on an 8-byte
 * boundary, has a plausible length that fits the file, a seq beyond the last good one, and its
 * crc. Returns its offset, or 0 if none: then the bad record starts a torn tail.
 */
static uint64_t
valid_record_after(const uint8_t *base, uint64_t size, uint64_t off, uint64_t last_seq,
		   uint64_t *seq)
{
	for (uint64_t p = off + 8; p + FC__J_REC_HDR <= size; p += 8) {
		uint32_t len = fc__get32(base + p + 4);

		if (len < FC__J_REC_HDR || len % 8 != 0 || len > FC__J_REC_MAX || len > size - p)
			continue;
		*seq = fc__get64(base + p + 8);
		if (*seq <= last_seq)
			continue;
		if (fc__get32(base + p) == fc__journal_crc(base + p, len))
			return p;
	}
	return 0;
}

int
fc__journal_read(const uint8_t *base, uint64_t size, const char *path, fc_journal_scan_cb cb,
		 void *arg, struct fc__jtail *tail, char *err, size_t err_len)
{
	struct fc_journal_fix *fixes = NULL;
	struct fc_journal_entry e;
	size_t cap = 0;
	uint32_t hlen;
	uint64_t off;
	int rc;

	memset(tail, 0, sizeof(*tail));
	rc = check_header(base, size, path, &hlen, err, err_len);
	if (rc != 0)
		return rc;
	off = hlen;
	while (off < size) {
		char what[96] = "";
		uint64_t left = size - off, seq = 0;
		uint32_t len = 0;
		bool complete = false; /* a whole record with a good crc: never a tear */

		if (left < FC__J_REC_HDR) {
			snprintf(what, sizeof(what), "partial record header (%llu bytes)",
				 (unsigned long long)left);
		} else if (len = fc__get32(base + off + 4),
			   len < FC__J_REC_HDR || len % 8 != 0 || len > FC__J_REC_MAX) {
			snprintf(what, sizeof(what), "bad record length %u", len);
		} else if (len > left) {
			snprintf(what, sizeof(what), "record of %u bytes, %llu left in the file",
				 len, (unsigned long long)left);
		} else if (fc__get32(base + off) != fc__journal_crc(base + off, len)) {
			snprintf(what, sizeof(what), "checksum mismatch");
		} else if (complete = true, seq = fc__get64(base + off + 8),
			   seq == 0 || (tail->last_seq != 0 && seq != tail->last_seq + 1)) {
			snprintf(what, sizeof(what), "seq %llu, expected %llu",
				 (unsigned long long)seq, (unsigned long long)tail->last_seq + 1);
		} else {
			rc = decode(base + off, len, &e, &fixes, &cap, what, sizeof(what));
			if (rc == -ENOMEM)
				break;
			rc = 0;
		}
		if (what[0] != '\0') {
			uint64_t vseq = 0,
				 v = valid_record_after(base, size, off, tail->last_seq, &vseq);

			if (complete || v != 0) {
				fc__journal_seterr(
					err, err_len,
					"journal %s: damaged record at offset %llu (after "
					"seq %llu): %s; %s",
					path, (unsigned long long)off,
					(unsigned long long)tail->last_seq, what,
					complete ? "the record is complete, so this is not "
						   "a torn tail"
						 : "valid records follow, so this is "
						   "not a torn tail");
				if (v != 0 && !complete)
					fc__journal_seterr_more(
						err, err_len, " (seq %llu at offset %llu)",
						(unsigned long long)vseq, (unsigned long long)v);
				rc = -EBADMSG;
				break;
			}
			tail->torn_bytes = size - off;
			snprintf(tail->torn_reason, sizeof(tail->torn_reason), "%s", what);
			break;
		}
		e.offset = off;
		rc = cb(&e, arg);
		if (rc != 0)
			break;
		tail->records++;
		tail->last_seq = e.seq;
		off += len;
	}
	tail->end = off;
	free(fixes);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Recovery of the running game                                                               */
/* ------------------------------------------------------------------------------------------ */

struct fc__jrecover {
	uint32_t round;     /* the highest round seen */
	bool round_rec;     /* a ROUND record of it was seen */
	uint8_t state;      /* its state */
	uint32_t time_ms;   /* from its last ROUND record */
	uint64_t round_cmd; /* idem */
	uint64_t max_cmd_seq;
	struct fc_journal_replay_cmd *replay; /* applied commands a restart replays */
	uint32_t n_replay, cap_replay;
	uint32_t session;
	struct fc_journal_clue_award *awards; /* of the round, in file order */
	uint32_t n_awards, cap_awards;
	int64_t *ptotal; /* by player, sums of deltas */
	uint16_t *pteam;
	uint8_t *pseen;
	int64_t *ttotal; /* by team */
	uint8_t *tseen;
};

struct fc__jrecover *
fc__journal_recover_new(void)
{
	struct fc__jrecover *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->ptotal = calloc(N_IDS, sizeof(*r->ptotal));
	r->pteam = calloc(N_IDS, sizeof(*r->pteam));
	r->pseen = calloc(N_IDS, sizeof(*r->pseen));
	r->ttotal = calloc(N_IDS, sizeof(*r->ttotal));
	r->tseen = calloc(N_IDS, sizeof(*r->tseen));
	if (r->ptotal == NULL || r->pteam == NULL || r->pseen == NULL || r->ttotal == NULL ||
	    r->tseen == NULL) {
		fc__journal_recover_free(r);
		return NULL;
	}
	r->state = FC_ROUND_IDLE;
	return r;
}

void
fc__journal_recover_free(struct fc__jrecover *r)
{
	if (r == NULL)
		return;
	free(r->awards);
	free(r->replay);
	free(r->ptotal);
	free(r->pteam);
	free(r->pseen);
	free(r->ttotal);
	free(r->tseen);
	free(r);
}

/*
 * Whether a record of round_id belongs to the running round, moving the running round forward
 * when round_id is newer. The round is chosen by id, not by file order: the writer merges the
 * producers' rings, so an owner's award of round 5 can reach the file before the control
 * path's ROUND record that started round 5. A newer round starts with nothing awarded and
 * every score 0 (docs/protocol.md section 4.7), and is RUNNING until its ROUND record says
 * otherwise.
 */
static bool
in_round(struct fc__jrecover *r, uint32_t round_id)
{
	if (round_id < r->round)
		return false;
	if (round_id > r->round) {
		r->round = round_id;
		r->round_rec = false;
		r->state = FC_ROUND_RUNNING;
		r->time_ms = 0;
		r->round_cmd = 0;
		r->n_awards = 0;
		memset(r->ptotal, 0, N_IDS * sizeof(*r->ptotal));
		memset(r->pseen, 0, N_IDS * sizeof(*r->pseen));
		memset(r->ttotal, 0, N_IDS * sizeof(*r->ttotal));
		memset(r->tseen, 0, N_IDS * sizeof(*r->tseen));
	}
	return true;
}

int
fc__journal_recover_cb(const struct fc_journal_entry *e, void *arg)
{
	struct fc__jrecover *r = arg;

	switch (e->rec.type) {
	case FC_JOURNAL_AWARD: {
		const struct fc_journal_award *a = &e->rec.award;
		struct fc_journal_clue_award *c;

		if (!in_round(r, a->round_id))
			break;
		if (r->n_awards == r->cap_awards) {
			uint32_t cap = r->cap_awards ? 2 * r->cap_awards : 64;
			void *p = realloc(r->awards, cap * sizeof(*r->awards));

			if (p == NULL)
				return -ENOMEM;
			r->awards = p;
			r->cap_awards = cap;
		}
		c = &r->awards[r->n_awards++];
		c->seq = e->seq;
		c->clue_id = a->clue_id;
		c->respawn = a->respawn;
		c->points = a->points;
		c->winner = a->winner;
		c->winner_team = a->winner_team;
		c->contenders_total = a->contenders_total;
		c->meas_time_ns = a->meas_time_ns;
		c->decided_ns = a->decided_ns;
		break;
	}
	case FC_JOURNAL_SCORE: {
		const struct fc_journal_score *s = &e->rec.score;

		if (!in_round(r, s->round_id))
			break;
		r->ptotal[s->player] += s->delta;
		r->pteam[s->player] = s->team;
		r->pseen[s->player] = 1;
		r->ttotal[s->team] += s->delta;
		r->tseen[s->team] = 1;
		break;
	}
	case FC_JOURNAL_ROUND: {
		const struct fc_journal_round *rd = &e->rec.round;

		if (rd->cmd_seq > r->max_cmd_seq)
			r->max_cmd_seq = rd->cmd_seq;
		if (!in_round(r, rd->round_id))
			break;
		r->round_rec = true;
		r->state = rd->state;
		r->time_ms = rd->round_time_ms;
		r->round_cmd = rd->cmd_seq;
		break;
	}
	case FC_JOURNAL_COMMAND: {
		const struct fc_journal_command *c = &e->rec.command;

		if (c->cmd_seq > r->max_cmd_seq)
			r->max_cmd_seq = c->cmd_seq;
		/* what a restart replays: applied commands with a text, and round starts */
		if (c->status != 0 || (c->text_len == 0 && c->command != 1))
			break;
		if (r->n_replay == r->cap_replay) {
			uint32_t cap = r->cap_replay ? 2 * r->cap_replay : 16;
			void *p = realloc(r->replay, cap * sizeof(*r->replay));

			if (p == NULL)
				return -ENOMEM;
			r->replay = p;
			r->cap_replay = cap;
		}
		r->replay[r->n_replay] = (struct fc_journal_replay_cmd){ .cmd_seq = c->cmd_seq,
									 .command = c->command,
									 .arg = c->arg };
		if (c->text_len > 0)
			memcpy(r->replay[r->n_replay].text, c->text, c->text_len);
		r->replay[r->n_replay].text[c->text_len] = '\0';
		r->n_replay++;
		break;
	}
	case FC_JOURNAL_SESSION:
		r->session = e->rec.session.session_id;
		break;
	}
	return 0;
}

static int
cmp_award(const void *a, const void *b)
{
	const struct fc_journal_clue_award *x = a, *y = b;

	if (x->clue_id != y->clue_id)
		return x->clue_id < y->clue_id ? -1 : 1;
	if (x->respawn != y->respawn)
		return x->respawn < y->respawn ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
fc__journal_recover_finish(struct fc__jrecover *r, const struct fc__jtail *tail,
			   struct fc_journal_recovered *out)
{
	uint32_t n = 0, np = 0, nt = 0;

	memset(out, 0, sizeof(*out));
	out->records = tail->records;
	out->next_seq = tail->last_seq + 1;
	out->next_cmd_seq = r->max_cmd_seq + 1;
	out->last_session_id = r->session;
	out->round_id = r->round;
	out->round_state = r->state;
	out->round_inferred = r->round != 0 && !r->round_rec;
	out->round_time_ms = r->time_ms;
	out->round_cmd_seq = r->round_cmd;
	out->n_replay = r->n_replay;
	out->replay = r->replay;
	r->replay = NULL;
	if (tail->torn_bytes > 0) {
		out->torn_offset = tail->end;
		out->torn_bytes = tail->torn_bytes;
		snprintf(out->torn_reason, sizeof(out->torn_reason), "%s", tail->torn_reason);
	}

	/*
	 * One award per (clue, respawn): the first journaled. The guard refuses a second at
	 * append, so one here came around it (a bug, or a journal written without the guard):
	 * it is counted, never recovered.
	 */
	if (r->n_awards > 1) /* qsort(NULL, 0, ...) is undefined: no awards, no array */
		qsort(r->awards, r->n_awards, sizeof(*r->awards), cmp_award);
	for (uint32_t i = 0; i < r->n_awards; i++) {
		if (n > 0 && r->awards[i].clue_id == r->awards[n - 1].clue_id &&
		    r->awards[i].respawn == r->awards[n - 1].respawn) {
			out->duplicate_awards++;
			continue;
		}
		r->awards[n++] = r->awards[i];
	}
	out->n_awards = n;
	out->awards = r->awards;
	r->awards = NULL;

	for (uint32_t i = 0; i < N_IDS; i++) {
		np += r->pseen[i];
		nt += r->tseen[i];
	}
	out->players = calloc(np ? np : 1, sizeof(*out->players));
	out->teams = calloc(nt ? nt : 1, sizeof(*out->teams));
	if (out->players == NULL || out->teams == NULL) {
		fc_journal_recovered_free(out);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < N_IDS; i++) {
		if (r->pseen[i])
			out->players[out->n_players++] = (struct fc_journal_player_score){
				.player = (uint16_t)i,
				.team = r->pteam[i],
				.total = (int32_t)r->ptotal[i],
			};
		if (r->tseen[i])
			out->teams[out->n_teams++] = (struct fc_journal_team_score){
				.team = (uint16_t)i,
				.total = (int32_t)r->ttotal[i],
			};
	}
	return 0;
}

void
fc_journal_recovered_free(struct fc_journal_recovered *rec)
{
	if (rec == NULL)
		return;
	free(rec->awards);
	free(rec->players);
	free(rec->teams);
	free(rec->replay);
	rec->replay = NULL;
	rec->n_replay = 0;
	rec->awards = NULL;
	rec->players = NULL;
	rec->teams = NULL;
	rec->n_awards = rec->n_players = rec->n_teams = 0;
}

const struct fc_journal_clue_award *
fc_journal_recovered_award(const struct fc_journal_recovered *rec, uint32_t clue_id)
{
	uint32_t lo = 0, hi = rec->n_awards;

	/* the first award past clue_id's, then one back: its highest respawn */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (rec->awards[mid].clue_id <= clue_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || rec->awards[lo - 1].clue_id != clue_id)
		return NULL;
	return &rec->awards[lo - 1];
}

/* ------------------------------------------------------------------------------------------ */
/* Read-only readers: the dump and the audit                                                  */
/* ------------------------------------------------------------------------------------------ */

int
fc_journal_scan(const char *path, fc_journal_scan_cb cb, void *arg, char *err, size_t err_len)
{
	struct fc__jtail tail;
	struct stat st;
	void *base;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		fc__journal_seterr(err, err_len, "journal %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		fc__journal_seterr(err, err_len, "journal %s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	if ((uint64_t)st.st_size < FC__J_HEADER_LEN) {
		fc__journal_seterr(err, err_len, "journal %s: %lld bytes, not a floorcast journal",
				   path, (long long)st.st_size);
		close(fd);
		return -EBADMSG;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED) {
		rc = -errno;
		fc__journal_seterr(err, err_len, "journal %s: mmap: %s", path, strerror(-rc));
		return rc;
	}
	rc = fc__journal_read(base, (uint64_t)st.st_size, path, cb, arg, &tail, err, err_len);
	if (rc == -ENOMEM)
		fc__journal_seterr(err, err_len, "journal %s: out of memory", path);
	munmap(base, (size_t)st.st_size);
	return rc;
}

struct audit_ctx {
	uint32_t clue_id;
	fc_journal_scan_cb cb;
	void *arg;
};

static int
audit_filter(const struct fc_journal_entry *e, void *arg)
{
	const struct audit_ctx *a = arg;

	if (e->rec.type != FC_JOURNAL_AWARD || e->rec.award.clue_id != a->clue_id)
		return 0;
	return a->cb(e, a->arg);
}

int
fc_journal_audit(const char *path, uint32_t clue_id, fc_journal_scan_cb cb, void *arg, char *err,
		 size_t err_len)
{
	struct audit_ctx a = { .clue_id = clue_id, .cb = cb, .arg = arg };

	return fc_journal_scan(path, audit_filter, &a, err, err_len);
}
