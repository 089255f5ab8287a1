/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hostile scenario: one frame of every kind floord must drop (docs/protocol.md section 3.8
 * and the net.* verdicts of lib/pkt), a fix of an unknown tag inside a valid frame, the same
 * fix reported by a second gateway, and a fix delivered 200 ms late. mkcapture.py's classes,
 * times and frames, so that a test written against one generator holds for the other.
 *
 * Frames floord must drop carry a "poison" fix: a real tag, a fix_seq never used and the
 * floor's corner, so that wrongly accepting one would show in the positions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "gen_priv.h"

#define STRANGER_PORT 40999u
#define POISON_SEQ    0xFFFFFF00u
#define ROGUE_GW_MIN  0xF00Du

/* A host on the floor network that is not a gateway: outside every gateway's addresses. */
static const uint8_t stranger_mac[6] = { 0x02, 0x00, 0x00, 0x01, 0x00, 0x01 };
#define STRANGER_IP 0xC613FFFEu /* 198.19.255.254 */

static const struct {
	const char *name;
	const char *counter;
} classes[FC_GEN_H__COUNT] = {
	[FC_GEN_H_RUNT] = { "runt", "uplink.runt" },
	[FC_GEN_H_BAD_MAGIC] = { "bad_magic", "uplink.bad_magic" },
	[FC_GEN_H_ARP] = { "arp", "net.arp" },
	[FC_GEN_H_BAD_VERSION] = { "bad_version", "uplink.bad_version" },
	[FC_GEN_H_BAD_MSG_TYPE] = { "bad_msg_type", "uplink.bad_msg_type" },
	[FC_GEN_H_IPV6_UDP] = { "ipv6_udp", "net.ipv6" },
	[FC_GEN_H_BAD_MAC_ALG] = { "bad_mac_alg", "uplink.bad_mac_alg" },
	[FC_GEN_H_BAD_RECORD_LEN] = { "bad_record_len", "uplink.bad_record_len" },
	[FC_GEN_H_ICMP_ECHO] = { "icmp_echo", "net.not_udp" },
	[FC_GEN_H_BAD_RECORD_COUNT] = { "bad_record_count", "uplink.bad_record_count" },
	[FC_GEN_H_BAD_LENGTH] = { "bad_length", "uplink.bad_length" },
	[FC_GEN_H_IPV4_FRAGMENT] = { "ipv4_fragment", "net.fragment" },
	[FC_GEN_H_UNKNOWN_GATEWAY] = { "unknown_gateway", "uplink.unknown_gateway" },
	[FC_GEN_H_UNKNOWN_KEY] = { "unknown_key", "uplink.unknown_key" },
	[FC_GEN_H_OTHER_PORT] = { "other_port", "net.wrong_port" },
	[FC_GEN_H_KEY_ALG_MISMATCH] = { "key_alg_mismatch", "uplink.key_alg_mismatch" },
	[FC_GEN_H_REPLAY_OLD] = { "replay_old", "uplink.replay_old" },
	[FC_GEN_H_ETH_RUNT] = { "eth_runt", "net.runt" },
	[FC_GEN_H_REPLAY_DUP] = { "replay_dup", "uplink.replay_dup" },
	[FC_GEN_H_BAD_MAC] = { "bad_mac", "uplink.bad_mac" },
	[FC_GEN_H_OTHER_ETHERTYPE] = { "other_ethertype", "net.other_l2" },
	[FC_GEN_H_CLOCK_SKEW] = { "clock_skew", "uplink.clock_skew" },
	[FC_GEN_H_BAD_IP_CHECKSUM] = { "bad_ip_checksum", "net.bad_ipv4" },
	[FC_GEN_H_UNKNOWN_TAG] = { "unknown_tag", "pipeline.unknown_tag" },
	[FC_GEN_H_BAD_UDP_LENGTH] = { "bad_udp_length", "net.bad_udp" },
	[FC_GEN_H_DUPLICATE_FIX] = { "duplicate_fix", "owners.duplicates" },
	[FC_GEN_H_OLDER_FIX] = { "older_fix", "owners.older" },
};

const char *
fc_gen_hostile_name(enum fc_gen_hostile h)
{
	return (unsigned int)h < FC_GEN_H__COUNT ? classes[h].name : "unknown";
}

const char *
fc_gen_hostile_counter(enum fc_gen_hostile h)
{
	return (unsigned int)h < FC_GEN_H__COUNT ? classes[h].counter : "unknown";
}

static bool
from_stranger(enum fc_gen_hostile h)
{
	switch (h) {
	case FC_GEN_H_ARP:
	case FC_GEN_H_IPV6_UDP:
	case FC_GEN_H_ICMP_ECHO:
	case FC_GEN_H_IPV4_FRAGMENT:
	case FC_GEN_H_OTHER_PORT:
	case FC_GEN_H_ETH_RUNT:
	case FC_GEN_H_OTHER_ETHERTYPE:
	case FC_GEN_H_BAD_IP_CHECKSUM:
	case FC_GEN_H_BAD_UDP_LENGTH:
		return true;
	default:
		return false;
	}
}

/* --- the plan ----------------------------------------------------------------------------- */

static bool
in_roster(const struct fc_gen *g, uint64_t tag)
{
	for (uint32_t i = 0; i < g->p.n_roster; i++)
		if (g->p.roster[i].tag_id == tag)
			return true;
	return false;
}

/* older_fix: a fix of player 1 (or 0) in the middle of its life, held back and sent late. */
static int
plan_older(struct fc_gen *g, struct fc__gen_hostile *h, const struct fc__gen_fixbuf *fixes)
{
	/* Late enough that the player's next fix (one period on, sent within a frame period)
	 * is in first, whatever the rate; 200 ms at the usual rates. */
	uint64_t late = g->max_period_us + 2ull * FC_GEN_FRAME_PERIOD_US;

	if (late < 200000)
		late = 200000;
	/* its base time is the fix's: that far behind the capture clock, within the bound */
	if ((late + FC_GEN_FRAME_PERIOD_US + 1000) * 1000 > g->p.clock_bound_ns)
		return fc__gen_fail(g, -EINVAL, "at %g Hz the late fix would break the clock bound",
				    g->p.rate_hz);

	for (uint32_t i = 0; i + 1 < fixes->n; i++) {
		const struct fc__gen_fix *fx = &fixes->v[i];
		uint32_t ga;

		if (fx->t_us < h->send_us || fx->fix_seq < 3)
			continue;
		ga = fc__gen_zone(g, fx->x_mm, fx->y_mm);
		g->held_pidx = fx->pidx;
		g->held_seq = fx->fix_seq;
		h->gidx = ga;
		h->send_us = fc__gen_send_slot(g, ga, fx->t_us) + late;
		h->fix = *fx;
		return 0;
	}
	return fc__gen_fail(g, -EINVAL, "the capture is too short for the late fix");
}

/*
 * duplicate_fix: a fix of player 0 at or after the planned time whose duplicate (sent by the
 * next gateway 1 ms after the original frame) arrives before the player's next fix, so that
 * floord sees the same fix_seq twice in a row and counts a duplicate, not an older fix.
 */
static int
plan_duplicate(struct fc_gen *g, struct fc__gen_hostile *h, const struct fc__gen_fixbuf *fixes)
{
	for (uint32_t i = 0; i + 1 < fixes->n; i++) {
		const struct fc__gen_fix *fx = &fixes->v[i], *nx = &fixes->v[i + 1];
		uint32_t ga, gb, gn;
		uint64_t send;

		if (fx->t_us < h->send_us)
			continue;
		if ((fx->pidx == g->held_pidx && fx->fix_seq == g->held_seq) ||
		    (nx->pidx == g->held_pidx && nx->fix_seq == g->held_seq))
			continue;
		ga = fc__gen_zone(g, fx->x_mm, fx->y_mm);
		gb = (ga + 1) % g->n_gw;
		gn = fc__gen_zone(g, nx->x_mm, nx->y_mm);
		/* 1 ms after the original: more than any latency difference, so it comes second */
		send = fc__gen_send_slot(g, ga, fx->t_us) + 1000;
		if (fc__gen_send_slot(g, gn, nx->t_us) + g->gwi[gn].latency_us >
		    send + g->gwi[gb].latency_us) {
			h->gidx = gb;
			h->send_us = send;
			h->fix = *fx;
			g->dup_pidx = fx->pidx;
			g->dup_seq = fx->fix_seq;
			return 0;
		}
	}
	return fc__gen_fail(g, -EINVAL, "the capture is too short for the duplicate fix");
}

static int
cmp_hostile(const void *a, const void *b)
{
	const struct fc__gen_hostile *x = a, *y = b;

	if (x->send_us != y->send_us)
		return x->send_us < y->send_us ? -1 : 1;
	return x->cls < y->cls ? -1 : x->cls > y->cls;
}

int
fc__gen_plan_hostile(struct fc_gen *g)
{
	const uint32_t n = FC_GEN_H__COUNT;
	struct fc__gen_fixbuf p0 = { 0 }, p1 = { 0 };
	uint32_t late_player = g->p.n_players > 1 ? 1 : 0;
	int rc;

	/* Players 0 and 1 are simulated ahead (their streams are their own), so that the fixes
	 * to repeat or delay are known before the run reaches them. */
	rc = fc__gen_simulate_player(g, 0, &p0);
	if (rc == 0)
		rc = fc__gen_simulate_player(g, late_player, &p1);
	if (rc != 0) {
		rc = fc__gen_fail(g, rc, "out of memory");
		goto out;
	}
	g->stranger_tag = FC_GEN_FIXTURE_TAG_BASE | 0xDEAD0000u;
	while (in_roster(g, g->stranger_tag))
		g->stranger_tag++;
	g->rogue_gw = ROGUE_GW_MIN;
	while (fc_gw_table_lookup(g->p.keys, g->rogue_gw) != NULL)
		g->rogue_gw++;

	g->n_hostile = 0;
	for (uint32_t k = 0; k < n; k++) {
		enum fc_gen_hostile cls = (enum fc_gen_hostile)k;
		uint64_t t = (uint64_t)((double)g->dur_us * (0.3 + 0.5 * k / n));
		struct fc__gen_hostile *h;

		if (cls == FC_GEN_H_UNKNOWN_TAG) {
			/* not a frame of its own: a record in the gateway's next frame with room */
			g->gw[k % g->n_gw].inject_unknown_tag = true;
			g->gw[k % g->n_gw].inject_after_us = t;
			continue;
		}
		h = &g->hostile[g->n_hostile++];
		*h = (struct fc__gen_hostile){
			.cls = cls,
			.send_us = t,
			.gidx = from_stranger(cls) ? g->n_gw : k % g->n_gw,
			.fix = { .t_us = t,
				 .tag_id = g->p.roster[0].tag_id,
				 .pidx = 0,
				 .fix_seq = POISON_SEQ + k },
		};
		if (cls == FC_GEN_H_OLDER_FIX)
			rc = plan_older(g, h, &p1);
		if (rc != 0)
			goto out;
	}
	/* after the late fix is chosen: the duplicate avoids it */
	for (uint32_t i = 0; i < g->n_hostile; i++)
		if (g->hostile[i].cls == FC_GEN_H_DUPLICATE_FIX)
			rc = plan_duplicate(g, &g->hostile[i], &p0);
	if (rc != 0)
		goto out;
	qsort(g->hostile, g->n_hostile, sizeof(g->hostile[0]), cmp_hostile);

	rc = fc_mac_key_init(&g->rogue_key, FC_MAC_HMAC_SHA256_128, 1,
			     (const uint8_t[FC_MAC_HMAC_KEY_LEN]){ 0 }, FC_MAC_HMAC_KEY_LEN);
	if (rc != 0)
		rc = fc__gen_fail(g, rc, "cannot prepare a key");
out:
	free(p0.v);
	free(p1.v);
	return rc;
}

/* --- frames of gateways ------------------------------------------------------------------- */

/* A fix batch of the poison fix, signed with key (a gateway's, or not). */
static int
poison_batch(struct fc_gen *g, const struct fc__gen_hostile *h, uint32_t gw_id, uint64_t seq,
	     const struct fc_mac_key *key, int64_t skew_ns, uint8_t *payload)
{
	struct fc_up_hdr hdr = {
		.msg_type = FC_UP_FIX_BATCH,
		.gateway_id = gw_id,
		.seq = seq,
		.base_time_ns =
			(uint64_t)((int64_t)g->start_ns +
				   ((int64_t)h->send_us - FC_GEN_FRAME_PERIOD_US) * 1000 + skew_ns),
		.record_count = 1,
	};
	struct fc_up_fix fix = {
		.tag_id = h->fix.tag_id,
		.z_mm = FC__GEN_Z_MM,
		.dt_us = FC_GEN_FRAME_PERIOD_US,
		.err_mm = FC__GEN_ERR_MM,
		.quality = FC__GEN_QUALITY,
		.flags = FC__GEN_FLAGS,
		.fix_seq = h->fix.fix_seq,
	};

	return fc_up_build(payload, FC_WIRE_MAX_PAYLOAD, &hdr, &fix, key);
}

/* A gateway status frame with two records, where the type allows exactly one. */
static int
status_pair(struct fc_gen *g, uint32_t gidx, uint64_t seq, uint64_t send_us, uint8_t *payload)
{
	const struct fc_mac_key *key = g->gw[gidx].key;
	struct fc_up_hdr hdr = {
		.magic = FC_UP_MAGIC,
		.version = FC_UP_VERSION,
		.msg_type = FC_UP_GATEWAY_STATUS,
		.gateway_id = g->gwi[gidx].id,
		.seq = seq,
		.base_time_ns = g->start_ns + (send_us - FC_GEN_FRAME_PERIOD_US) * 1000,
		.record_count = 2,
		.record_len = sizeof(struct fc_up_status),
		.key_id = key->key_id,
		.mac_alg = key->alg,
	};
	struct fc_up_status st = {
		.uptime_s = 60,
		.tags_heard = g->p.n_players,
		.frames_sent = (uint32_t)seq,
		.cpu_pct = 10,
		.temp_c = 40,
		.clock_sync = FC_CLOCK_NTP,
		.clock_err_ns = 1000,
	};
	size_t len = sizeof(hdr);
	uint8_t tag[FC_MAC_MAX_TAG_LEN];

	memcpy(payload, &hdr, sizeof(hdr));
	for (int i = 0; i < 2; i++, len += sizeof(st))
		memcpy(payload + len, &st, sizeof(st));
	fc_mac_compute(key, payload, len, tag);
	memcpy(payload + len, tag, key->tag_len);
	return (int)(len + key->tag_len);
}

static int
encode_gateway(struct fc_gen *g, const struct fc__gen_hostile *h, struct fc__gen_frame *f)
{
	struct fc__gen_gw *gw = &g->gw[h->gidx];
	const struct fc_mac_key *key = gw->key;
	uint8_t *payload = f->data + FC_PKT_HDR_LEN;
	uint32_t gw_id = g->gwi[h->gidx].id;
	struct fc_mac_key other;
	uint64_t seq = 0;
	int len;

	switch (h->cls) {
	case FC_GEN_H_REPLAY_DUP: /* the last valid frame again, seq and all */
		if (gw->last_valid_len == 0)
			return fc__gen_fail(g, -EINVAL,
					    "replay_dup: gateway %" PRIu32 " has sent nothing yet",
					    gw_id);
		memcpy(payload, gw->last_valid, gw->last_valid_len);
		fc__gen_put_headers(g, gw_id, f, gw->last_valid_len);
		f->gidx = h->gidx;
		f->ts_us = h->send_us + g->gwi[h->gidx].latency_us;
		g->gwi[h->gidx].frames++;
		return 0;
	case FC_GEN_H_REPLAY_OLD:
		seq = 7; /* epoch 0: a frame from an earlier boot, far below the window */
		break;
	default:
		seq = FC_UP_SEQ(1, ++gw->counter);
		break;
	}
	switch (h->cls) {
	case FC_GEN_H_DUPLICATE_FIX:
	case FC_GEN_H_OLDER_FIX:
		return fc__gen_encode_fixes(g, h->gidx, h->send_us, seq, &h->fix, 1, f);
	case FC_GEN_H_BAD_RECORD_COUNT:
		len = status_pair(g, h->gidx, seq, h->send_us, payload);
		break;
	case FC_GEN_H_UNKNOWN_GATEWAY:
		gw_id = g->rogue_gw;
		len = poison_batch(g, h, gw_id, seq, &g->rogue_key, 0, payload);
		break;
	case FC_GEN_H_UNKNOWN_KEY: {
		/* the gateway's key under a key_id it does not have */
		const struct fc_gateway *src = fc_gw_table_lookup(g->p.keys, gw_id);
		unsigned int id = 0;

		while (id < 255 && fc_gateway_key(src, id) != NULL)
			id++;
		other = *key;
		other.key_id = (uint8_t)id;
		len = poison_batch(g, h, gw_id, seq, &other, 0, payload);
		break;
	}
	case FC_GEN_H_KEY_ALG_MISMATCH: {
		/* the gateway's key_id, signed with the other algorithm (a downgrade attempt) */
		unsigned int alg = key->alg == FC_MAC_HMAC_SHA256_128 ? FC_MAC_SIPHASH24
								      : FC_MAC_HMAC_SHA256_128;
		uint8_t zero[FC_MAC_MAX_KEY_LEN] = { 0 };

		if (fc_mac_key_init(&other, alg, key->key_id, zero, fc_mac_key_len(alg)) != 0)
			return fc__gen_fail(g, -ENOMEM, "cannot prepare a key");
		len = poison_batch(g, h, gw_id, seq, &other, 0, payload);
		break;
	}
	case FC_GEN_H_CLOCK_SKEW:
		len = poison_batch(g, h, gw_id, seq, key, 10000000000ll, payload); /* 10 s ahead */
		break;
	default:
		len = poison_batch(g, h, gw_id, seq, key, 0, payload);
		break;
	}
	if (len < 0)
		return fc__gen_fail(g, len, "%s: cannot build the frame", classes[h->cls].name);
	switch (h->cls) {
	case FC_GEN_H_RUNT:
		len = 16;
		break;
	case FC_GEN_H_BAD_MAGIC: /* a downlink packet sent uplink */
		payload[0] = FC_DL_MAGIC & 0xFF;
		payload[1] = FC_DL_MAGIC >> 8;
		break;
	case FC_GEN_H_BAD_VERSION:
		payload[2] = 2;
		break;
	case FC_GEN_H_BAD_MSG_TYPE:
		payload[3] = 9;
		break;
	case FC_GEN_H_BAD_MAC_ALG:
		payload[29] = 3;
		break;
	case FC_GEN_H_BAD_RECORD_LEN: /* shorter than a v1 fix record */
		payload[26] = 24;
		payload[27] = 0;
		break;
	case FC_GEN_H_BAD_LENGTH: /* 8 bytes after the tag */
		memset(payload + len, 0, 8);
		len += 8;
		break;
	case FC_GEN_H_BAD_MAC: /* x_mm of the record, tampered with in transit */
		payload[sizeof(struct fc_up_hdr) + 8] ^= 0x01;
		break;
	default:
		break;
	}
	fc__gen_put_headers(g, gw_id, f, (uint32_t)len);
	f->gidx = h->gidx;
	f->ts_us = h->send_us + g->gwi[h->gidx].latency_us;
	f->seq = seq; /* clock_skew's is authentic: floord marks it in the window */
	f->base_ns = (int64_t)(g->start_ns + (h->send_us - FC_GEN_FRAME_PERIOD_US) * 1000);
	g->gwi[h->gidx].frames++;
	return 0;
}

/* --- frames of other hosts ---------------------------------------------------------------- */

static uint8_t *
put_eth(uint8_t *p, const uint8_t dst[6], uint16_t type)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, stranger_mac, 6);
	p[12] = (uint8_t)(type >> 8);
	p[13] = (uint8_t)type;
	return p + RTE_ETHER_HDR_LEN;
}

/* An IPv4 header without options for len bytes of payload; checksum set. */
static struct rte_ipv4_hdr *
put_ipv4(uint8_t *p, uint32_t dst, uint8_t proto, uint16_t len, uint16_t frag, uint16_t id)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + len));
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->time_to_live = FC__GEN_TTL;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(STRANGER_IP);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return ip;
}

/* A well-formed Ethernet/IPv4/UDP frame from the stranger; returns its length. */
static uint32_t
put_udp_frame(const struct fc_gen *g, uint8_t *p, uint16_t dport, const uint8_t *body, uint16_t len)
{
	struct fc_pkt_tx_tmpl t = { .src_ip = STRANGER_IP,
				    .src_port = STRANGER_PORT,
				    .ttl = FC__GEN_TTL };
	uint8_t *dst = FC_PKT_HDR_LEN + p;

	memcpy(t.src_mac, stranger_mac, 6);
	memcpy(dst, body, len);
	fc_pkt_write_headers(p, &t, fc__gen_dst_mac, g->p.dst_ip, dport, len);
	return FC_PKT_HDR_LEN + len;
}

static uint32_t
encode_stranger(struct fc_gen *g, const struct fc__gen_hostile *h, uint8_t *f)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t all_nodes6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t lldp[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e };
	uint8_t body[64];
	uint16_t blen = (uint16_t)snprintf((char *)body, sizeof(body), "not a gateway frame %d",
					   (int)h->cls);
	uint8_t *p;
	uint32_t len;

	switch (h->cls) {
	case FC_GEN_H_ARP: { /* who-has floord, from the stranger; padded to 60 bytes */
		static const uint8_t req[8] = { 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01 };
		uint32_t sip = rte_cpu_to_be_32(STRANGER_IP), dip = rte_cpu_to_be_32(g->p.dst_ip);

		memset(f, 0, 60);
		p = put_eth(f, bcast, RTE_ETHER_TYPE_ARP);
		memcpy(p, req, 8);
		memcpy(p + 8, stranger_mac, 6);
		memcpy(p + 14, &sip, 4);
		memcpy(p + 24, &dip, 4);
		return 60;
	}
	case FC_GEN_H_IPV6_UDP: { /* UDP to the uplink port over IPv6: fd00::201 -> fd00::1 */
		uint16_t ulen = (uint16_t)(8 + blen);

		p = put_eth(f, all_nodes6, RTE_ETHER_TYPE_IPV6);
		memset(p, 0, 40);
		p[0] = 0x60;
		p[4] = (uint8_t)(ulen >> 8);
		p[5] = (uint8_t)ulen;
		p[6] = IPPROTO_UDP;
		p[7] = 64;
		p[8] = p[24] = 0xfd;
		p[22] = 0x02;
		p[23] = 0x01;
		p[39] = 0x01;
		p += 40;
		p[0] = STRANGER_PORT >> 8;
		p[1] = STRANGER_PORT & 0xFF;
		p[2] = (uint8_t)(g->p.dst_port >> 8);
		p[3] = (uint8_t)g->p.dst_port;
		p[4] = (uint8_t)(ulen >> 8);
		p[5] = (uint8_t)ulen;
		p[6] = p[7] = 0; /* no checksum: the receiver never gets that far */
		memcpy(p + 8, body, blen);
		return (uint32_t)(p + 8 + blen - f);
	}
	case FC_GEN_H_ICMP_ECHO: { /* a ping to floord */
		uint16_t ilen = (uint16_t)(8 + blen), ck;

		p = put_eth(f, fc__gen_dst_mac, RTE_ETHER_TYPE_IPV4);
		put_ipv4(p, g->p.dst_ip, IPPROTO_ICMP, ilen, RTE_IPV4_HDR_DF_FLAG, 0);
		p += sizeof(struct rte_ipv4_hdr);
		memset(p, 0, 8);
		p[0] = 8; /* echo request */
		p[4] = 0x12;
		p[5] = 0x34;
		p[7] = (uint8_t)h->cls;
		memcpy(p + 8, body, blen);
		/* the one's complement sum of native words is already in network order */
		ck = (uint16_t)~rte_raw_cksum(p, ilen);
		memcpy(p + 2, &ck, 2);
		return (uint32_t)(p + ilen - f);
	}
	case FC_GEN_H_IPV4_FRAGMENT: { /* the first 1000 bytes of a 2008-byte UDP datagram */
		p = put_eth(f, fc__gen_dst_mac, RTE_ETHER_TYPE_IPV4);
		put_ipv4(p, g->p.dst_ip, IPPROTO_UDP, 1000, RTE_IPV4_HDR_MF_FLAG, 0x4242);
		p += sizeof(struct rte_ipv4_hdr);
		memset(p, 0, 1000);
		p[0] = STRANGER_PORT >> 8;
		p[1] = STRANGER_PORT & 0xFF;
		p[2] = (uint8_t)(g->p.dst_port >> 8);
		p[3] = (uint8_t)g->p.dst_port;
		p[4] = 2008 >> 8;
		p[5] = 2008 & 0xFF;
		return (uint32_t)(p + 1000 - f);
	}
	case FC_GEN_H_OTHER_PORT:
		return put_udp_frame(g, f, (uint16_t)(g->p.dst_port + 1), body, blen);
	case FC_GEN_H_ETH_RUNT: /* 12 bytes: the addresses and nothing else */
		memcpy(f, fc__gen_dst_mac, 6);
		memcpy(f + 6, stranger_mac, 6);
		return 12;
	case FC_GEN_H_OTHER_ETHERTYPE: /* an LLDP frame (0x88cc) to the nearest-bridge group */
		p = put_eth(f, lldp, 0x88CC);
		memset(p, 0, 46);
		p[0] = 0x02;
		p[1] = 0x07;
		p[2] = 0x04;
		return RTE_ETHER_HDR_LEN + 46;
	case FC_GEN_H_BAD_IP_CHECKSUM: {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);

		len = put_udp_frame(g, f, g->p.dst_port, body, blen);
		ip->hdr_checksum ^= 0x0101;
		return len;
	}
	case FC_GEN_H_BAD_UDP_LENGTH: { /* says 8 bytes more than IP carries */
		uint8_t *udp = f + RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr);
		uint16_t ulen = (uint16_t)(8 + blen + 8);

		len = put_udp_frame(g, f, g->p.dst_port, body, blen);
		udp[4] = (uint8_t)(ulen >> 8);
		udp[5] = (uint8_t)ulen;
		return len;
	}
	default:
		return 0;
	}
}

int
fc__gen_encode_hostile(struct fc_gen *g, const struct fc__gen_hostile *h, struct fc__gen_frame *f)
{
	f->n_rec = 0;
	if (h->gidx < g->n_gw) {
		int rc = encode_gateway(g, h, f);

		/* only the classes floord accepts keep their record for the tally */
		if (h->cls != FC_GEN_H_DUPLICATE_FIX && h->cls != FC_GEN_H_OLDER_FIX)
			f->n_rec = 0;
		return rc;
	}
	f->len = encode_stranger(g, h, f->data);
	if (f->len == 0)
		return fc__gen_fail(g, -EINVAL, "%s is not a stranger's frame",
				    classes[h->cls].name);
	f->gidx = g->n_gw;
	f->ts_us = h->send_us; /* on the floor network: no gateway latency */
	return 0;
}
