/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the downlink decoder (suite fuzz): what a subscriber (floorwatch, the
 * game clients) does with a multicast packet, and what floord does with a retransmit request,
 * both of which anyone on the network can forge.
 *
 * fc_dl_parse() promises that after FC_DL_OK every accessor stays inside the packet, so the
 * harness walks every message with them over an exact-size copy (ASan reports a read one byte
 * past it) and checks the framing the iterator hands out against the header. A broken promise
 * aborts, which libFuzzer reports as a crash with the input saved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_downlink.h"

#include "fuzz_check.h"

/* Bigger than any version-1 template (SNAPSHOT_PART, 40 bytes), as a receiver's union would be. */
#define MSG_BUF_LEN 64u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
read_entries(const struct fc_dl_msg *m)
{
	if (m->template_id == FC_DL_T_POSITIONS) {
		unsigned int n = fc_dl_positions_count(m);

		for (unsigned int i = 0; i < n; i++) {
			struct fc_dl_position p;

			fc_dl_position_at(m, i, &p);
			consume(&p, sizeof(p));
		}
	} else if (m->template_id == FC_DL_T_CLUE_CLAIMED) {
		struct fc_dl_clue_claimed c;

		fc_dl_msg_get(m, &c, sizeof(c));
		CHECK(c.contenders_listed <= c.contenders_total);
		for (unsigned int i = 0; i < c.contenders_listed; i++) {
			struct fc_dl_contender k;

			fc_dl_contender_at(m, i, &k);
			consume(&k, sizeof(k));
		}
	}
}

static void
walk(const struct fc_dl_view *v, const uint8_t *buf, size_t len)
{
	unsigned int n = 0, want = fc_dl_is_end_of_session(v) ? 0 : v->hdr.msg_count;
	size_t off = sizeof(struct fc_dl_hdr);
	struct fc_dl_iter it;
	struct fc_dl_msg m;

	CHECK(v->pkt == buf && v->len == len && len <= FC_WIRE_MAX_PAYLOAD);
	CHECK(v->hdr.event_count <= want);
	CHECK(v->hdr.channel_id == FC_DL_CHAN_INCREMENTAL ||
	      v->hdr.channel_id == FC_DL_CHAN_SNAPSHOT);
	CHECK(v->hdr.channel_id != FC_DL_CHAN_SNAPSHOT || v->hdr.event_count == 0);
	CHECK(want != 0 || len == sizeof(struct fc_dl_hdr));
	fc_dl_iter_init(&it, v);
	while (fc_dl_iter_next(&it, &m)) {
		uint8_t out[MSG_BUF_LEN];

		CHECK(n < want);
		CHECK(m.p == buf + off);
		CHECK(m.length >= 8 && m.length % 8 == 0 && m.version != 0);
		CHECK(m.length <= len - off);
		CHECK(m.is_event == (n < v->hdr.event_count));
		CHECK(!m.is_event || m.event_seq == v->hdr.first_event_seq + n);
		consume(m.p, m.length);
		fc_dl_msg_get(&m, out, sizeof(out));
		consume(out, sizeof(out));
		read_entries(&m);
		off += m.length;
		n++;
	}
	/* The messages tile the packet exactly: nothing unread, nothing left over. */
	CHECK(n == want);
	CHECK(off == len);
}

/* A decoded request re-encodes to its first 24 bytes (a newer version may be longer). */
static void
check_request(const struct fc_rt_request *r, const uint8_t *buf, size_t len)
{
	struct fc_rt_request copy = *r;
	uint8_t enc[sizeof(*r)];

	CHECK(len >= sizeof(*r) && len <= FC_WIRE_MAX_PAYLOAD);
	/* count 0 is malformed; above FC_RT_MAX_COUNT decodes (the service refuses it). */
	CHECK(r->count >= 1);
	CHECK(fc_rt_request_encode(enc, sizeof(enc), &copy) == (int)sizeof(enc));
	CHECK(memcmp(enc, buf, sizeof(enc)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact size: a read one byte past the datagram is an ASan report (malloc(0) too). */
	uint8_t *buf = malloc(size);
	struct fc_rt_request r;
	struct fc_dl_view v;
	enum fc_dl_err e;

	CHECK(buf != NULL);
	if (size != 0)
		memcpy(buf, data, size);

	e = fc_dl_parse(buf, size, &v);
	CHECK((unsigned int)e < FC_DL_E__COUNT);
	CHECK(strcmp(fc_dl_err_name(e), "unknown") != 0);
	if (e == FC_DL_OK)
		walk(&v, buf, size);

	e = fc_rt_request_decode(buf, size, &r);
	CHECK((unsigned int)e < FC_DL_E__COUNT);
	if (e == FC_DL_OK)
		check_request(&r, buf, size);
	free(buf);
	return 0;
}
