/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the uplink decoder (suite fuzz). floord's uplink port takes datagrams
 * from anyone who can reach it, so fc_up_parse() and fc_up_accept() must survive any bytes:
 * this runs both on the input and reads every record of a frame that parses, with ASan and
 * UBSan watching.
 *
 * Random bytes almost never carry a valid MAC, which would leave everything behind the MAC
 * check (window mark, replay, clock bound) unreached; so a frame that parses for a known key
 * is also re-signed and sent through the replay window a few times with chosen seqs, and each
 * verdict is checked against the protocol (docs/protocol.md 3.8, 3.10).
 * A violated expectation aborts, which libFuzzer reports as a crash with the input saved.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_gateways.h"
#include "fc_mac.h"
#include "fc_uplink.h"

#include "fuzz_check.h"

/* The receiver of the test vectors (tests/wire/vectors.h), so the seed frames verify. */
#define GW_HMAC        7u
#define GW_HMAC_KEY_ID 1u
#define GW_SIP         8u
#define GW_SIP_KEY_ID  0u

/* The vectors' base time (V_BASE): their frames are inside the clock bound. */
#define NOW_NS   UINT64_C(1767225600000000000)
#define BOUND_NS UINT64_C(2000000000)

static struct fc_gw_table *table;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t hk[FC_MAC_HMAC_KEY_LEN], sk[FC_MAC_SIPHASH_KEY_LEN];
	int rc;

	(void)argc;
	(void)argv;
	for (unsigned int i = 0; i < sizeof(hk); i++)
		hk[i] = (uint8_t)i;
	for (unsigned int i = 0; i < sizeof(sk); i++)
		sk[i] = (uint8_t)i;
	table = fc_gw_table_create();
	CHECK(table != NULL);
	rc = fc_gw_table_add_key(table, GW_HMAC, GW_HMAC_KEY_ID, FC_MAC_HMAC_SHA256_128, hk,
				 sizeof(hk));
	CHECK(rc == 0);
	rc = fc_gw_table_add_key(table, GW_SIP, GW_SIP_KEY_ID, FC_MAC_SIPHASH24, sk, sizeof(sk));
	CHECK(rc == 0);
	return 0;
}

/* Every input starts from empty windows: libFuzzer needs the same input to do the same thing. */
static void
reset_windows(void)
{
	fc_replay_window_init(&fc_gw_table_lookup(table, GW_HMAC)->window);
	fc_replay_window_init(&fc_gw_table_lookup(table, GW_SIP)->window);
}

static void
read_records(const struct fc_up_view *v)
{
	switch (v->hdr.msg_type) {
	case FC_UP_FIX_BATCH:
		for (unsigned int i = 0; i < v->hdr.record_count; i++) {
			struct fc_up_fix f;
			uint64_t t;

			fc_up_fix_at(v, i, &f);
			consume(&f, sizeof(f));
			t = fc_up_fix_time_ns(v, &f);
			consume(&t, sizeof(t));
		}
		break;
	case FC_UP_GATEWAY_STATUS: {
		struct fc_up_status s;

		fc_up_status_get(v, &s);
		consume(&s, sizeof(s));
		break;
	}
	case FC_UP_GATEWAY_EVENT:
		for (unsigned int i = 0; i < v->hdr.record_count; i++) {
			struct fc_up_event e;

			fc_up_event_at(v, i, &e);
			consume(&e, sizeof(e));
		}
		break;
	default:
		CHECK(!"fc_up_parse accepted an unknown msg_type");
	}
	consume(v->tag, v->tag_len);
}

/* What fc_up_parse() promised about a frame it accepted (fc_uplink.h, docs/protocol.md). */
static void
check_view(const struct fc_up_view *v, const uint8_t *buf, size_t len)
{
	CHECK(len <= FC_WIRE_MAX_PAYLOAD);
	CHECK(v->frame == buf);
	CHECK(v->records == buf + sizeof(struct fc_up_hdr));
	CHECK(v->tag_len == fc_mac_tag_len(v->hdr.mac_alg) && v->tag_len != 0);
	CHECK((size_t)v->signed_len + v->tag_len == len);
	CHECK(v->tag == buf + v->signed_len);
	CHECK(v->signed_len ==
	      sizeof(struct fc_up_hdr) + (size_t)v->hdr.record_count * v->hdr.record_len);
	CHECK(v->hdr.record_len >= fc_up_record_size(v->hdr.msg_type));
	CHECK(v->hdr.record_len % 8 == 0);
	CHECK(v->hdr.msg_type != FC_UP_GATEWAY_STATUS || v->hdr.record_count == 1);
	CHECK(v->hdr.msg_type != FC_UP_GATEWAY_EVENT || v->hdr.record_count >= 1);
}

/* Sets the frame's seq and signs it again: a frame the gateway could have sent. */
static void
resign(uint8_t *frame, const struct fc_up_view *v, const struct fc_mac_key *key, uint64_t seq)
{
	uint8_t tag[FC_MAC_MAX_TAG_LEN];

	memcpy(frame + offsetof(struct fc_up_hdr, seq), &seq, sizeof(seq));
	fc_mac_compute(key, frame, v->signed_len, tag);
	memcpy(frame + v->signed_len, tag, v->tag_len);
}

/*
 * The frame made genuine (right tag for the gateway's key) and replayed through the window,
 * starting empty. Any genuine frame that is new gets `fresh` (FC_UP_OK, or FC_UP_E_CLOCK_SKEW
 * exactly when its base time is outside the bound); then, with d the frame's flags (ignored by
 * receivers, so the input chooses any 0..65535 jump): seq s again is a duplicate; s + d is new
 * unless d is 0; after it, s is a duplicate while d < the window and too old from then on, and
 * s + d - 1 was never seen, so it is new.
 */
static void
accept_resigned(const struct fc_up_view *v, const uint8_t *data, size_t len,
		const struct fc_mac_key *key)
{
	uint64_t s = v->hdr.seq, d = v->hdr.flags, skew;
	uint8_t *copy = malloc(len);
	struct fc_gateway *gw;
	struct fc_up_view v2;
	enum fc_up_err fresh;

	CHECK(copy != NULL);
	memcpy(copy, data, len);
	skew = v->hdr.base_time_ns > NOW_NS ? v->hdr.base_time_ns - NOW_NS
					    : NOW_NS - v->hdr.base_time_ns;
	fresh = skew > BOUND_NS ? FC_UP_E_CLOCK_SKEW : FC_UP_OK;
	reset_windows();

	resign(copy, v, key, s);
	CHECK(fc_up_accept(table, copy, len, NOW_NS, BOUND_NS, &v2, &gw) == fresh);
	CHECK(gw != NULL && gw->id == v->hdr.gateway_id);
	read_records(&v2);
	CHECK(fc_up_accept(table, copy, len, NOW_NS, BOUND_NS, &v2, &gw) == FC_UP_E_REPLAY_DUP);
	if (s <= UINT64_MAX - d) {
		resign(copy, v, key, s + d);
		CHECK(fc_up_accept(table, copy, len, NOW_NS, BOUND_NS, &v2, &gw) ==
		      (d == 0 ? FC_UP_E_REPLAY_DUP : fresh));
		resign(copy, v, key, s);
		CHECK(fc_up_accept(table, copy, len, NOW_NS, BOUND_NS, &v2, &gw) ==
		      (d >= FC_REPLAY_WINDOW_SIZE ? FC_UP_E_REPLAY_OLD : FC_UP_E_REPLAY_DUP));
		if (d >= 2) {
			resign(copy, v, key, s + d - 1);
			CHECK(fc_up_accept(table, copy, len, NOW_NS, BOUND_NS, &v2, &gw) == fresh);
		}
	}
	free(copy);
}

/*
 * The verdict fc_up_accept() owes a frame that parses, on empty windows: the protocol's order
 * (gateway, key, algorithm, window, MAC, clock) with nothing in the window yet. *keyp is the
 * gateway's key for the frame, NULL if there is none.
 */
static enum fc_up_err
expected_verdict(const struct fc_up_view *v, const struct fc_mac_key **keyp)
{
	struct fc_gateway *g = fc_gw_table_lookup(table, v->hdr.gateway_id);
	const struct fc_mac_key *key;
	uint8_t tag[FC_MAC_MAX_TAG_LEN];
	uint64_t skew;

	*keyp = NULL;
	if (g == NULL)
		return FC_UP_E_UNKNOWN_GATEWAY;
	key = fc_gateway_key(g, v->hdr.key_id);
	if (key == NULL)
		return FC_UP_E_UNKNOWN_KEY;
	if (key->alg != v->hdr.mac_alg)
		return FC_UP_E_KEY_ALG_MISMATCH;
	*keyp = key;
	fc_mac_compute(key, v->frame, v->signed_len, tag);
	if (memcmp(tag, v->tag, v->tag_len) != 0)
		return FC_UP_E_BAD_MAC;
	skew = v->hdr.base_time_ns > NOW_NS ? v->hdr.base_time_ns - NOW_NS
					    : NOW_NS - v->hdr.base_time_ns;
	return skew > BOUND_NS ? FC_UP_E_CLOCK_SKEW : FC_UP_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact size: a read one byte past the datagram is an ASan report (malloc(0) too). */
	uint8_t *buf = malloc(size);
	const struct fc_mac_key *key;
	struct fc_up_view v, av;
	enum fc_up_err pe, ae;
	struct fc_gateway *gw;

	CHECK(buf != NULL);
	if (size != 0)
		memcpy(buf, data, size);

	pe = fc_up_parse(buf, size, &v);
	/* Structure only: parse never returns a verdict that needs the table. */
	CHECK(pe < FC_UP_E_UNKNOWN_GATEWAY);
	CHECK(strcmp(fc_up_err_name(pe), "unknown") != 0);
	if (pe == FC_UP_OK) {
		check_view(&v, buf, size);
		read_records(&v);
	}

	reset_windows();
	ae = fc_up_accept(table, buf, size, NOW_NS, BOUND_NS, &av, &gw);
	if (pe != FC_UP_OK) {
		/* fc_up_accept() starts with fc_up_parse(): same verdict, no gateway. */
		CHECK(ae == pe && gw == NULL);
	} else {
		CHECK(ae == expected_verdict(&v, &key));
		CHECK(gw == fc_gw_table_lookup(table, v.hdr.gateway_id));
		if (ae == FC_UP_OK || ae == FC_UP_E_CLOCK_SKEW)
			read_records(&av);
		if (key != NULL)
			accept_resigned(&v, buf, size, key);
	}
	free(buf);
	return 0;
}
