/* SPDX-License-Identifier: BSD-3-Clause */
/* Frame classification on RX and the downlink headers TX writes: every kind of frame a floor
 * network carries gets its own verdict, and what TX writes is what RX (and a kernel) accepts. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include <rte_ip.h>

#include "fc_pkt.h"

#define LOCAL 0xC6120001u /* 198.18.0.1 */
#define PORT  47474

static const struct fc_pkt_tx_tmpl T = {
	.src_mac = { 0x02, 0, 0, 0, 1, 7 },
	.src_ip = 0xC6120107u,
	.group_ip = LOCAL,
	.src_port = 40007,
	.group_port = PORT,
	.ttl = 64,
};

/* A valid gateway datagram of payload_len bytes (unicast to LOCAL:PORT). */
static size_t
good(uint8_t *f, uint16_t payload_len)
{
	static const uint8_t dst[6] = { 0x02, 0x70, 0x63, 0x61, 0x70, 0x00 };

	memset(f + FC_PKT_HDR_LEN, 0xAB, payload_len);
	fc_pkt_write_headers(f, &T, dst, LOCAL, PORT, payload_len);
	return FC_PKT_HDR_LEN + payload_len;
}

static enum fc_pkt_verdict
classify(const uint8_t *f, size_t len, struct fc_pkt_info *i)
{
	return fc_pkt_classify(f, len, LOCAL, PORT, i);
}

static void
fix_ip_csum(uint8_t *f, size_t ip_off)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + ip_off);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

Test(pkt, accepts_a_gateway_datagram)
{
	uint8_t f[256];
	struct fc_pkt_info i;
	size_t len = good(f, 100);

	cr_assert_eq(classify(f, len, &i), FC_PKT_OK);
	cr_assert_eq(i.payload_off, 42);
	cr_assert_eq(i.payload_len, 100);
	cr_assert_eq(i.src_ip, T.src_ip);
	cr_assert_eq(i.src_port, 40007);
	cr_assert_eq(i.vlan, 0);
	/* Ethernet padding after the datagram is ignored. */
	cr_assert_eq(classify(f, len + 10, &i), FC_PKT_OK);
	cr_assert_eq(i.payload_len, 100);
}

Test(pkt, accepts_one_vlan_tag)
{
	uint8_t f[256], t[260];
	struct fc_pkt_info i;
	size_t len = good(f, 64);

	memcpy(t, f, 12);
	t[12] = 0x81;
	t[13] = 0x00;
	t[14] = 0x20; /* PCP 1, VID 0x005 */
	t[15] = 0x05;
	memcpy(t + 16, f + 12, len - 12);
	cr_assert_eq(classify(t, len + 4, &i), FC_PKT_OK);
	cr_assert_eq(i.vlan, 5);
	cr_assert_eq(i.payload_off, 46);
	cr_assert_eq(classify(t, 16, &i), FC_PKT_RUNT);
}

Test(pkt, counts_each_other_kind_of_frame)
{
	uint8_t f[256];
	struct fc_pkt_info i;
	size_t len;

	len = good(f, 64);
	f[12] = 0x08;
	f[13] = 0x06;
	cr_assert_eq(classify(f, len, &i), FC_PKT_ARP);
	f[12] = 0x86;
	f[13] = 0xDD;
	cr_assert_eq(classify(f, len, &i), FC_PKT_IPV6);
	f[12] = 0x88;
	f[13] = 0xCC; /* LLDP */
	cr_assert_eq(classify(f, len, &i), FC_PKT_OTHER_L2);
	f[12] = 0x81;
	f[13] = 0x00;
	f[16] = 0x81; /* QinQ: a second tag */
	f[17] = 0x00;
	cr_assert_eq(classify(f, len, &i), FC_PKT_OTHER_L2);
	for (size_t n = 0; n < 14; n++)
		cr_assert_eq(classify(f, n, &i), FC_PKT_RUNT);
}

Test(pkt, rejects_bad_ipv4_headers)
{
	uint8_t f[256];
	struct fc_pkt_info i;
	size_t len = good(f, 64);

	f[14 + 10] ^= 0xFF; /* checksum */
	cr_assert_eq(classify(f, len, &i), FC_PKT_BAD_IPV4);
	len = good(f, 64);
	f[14] = 0x65; /* version 6 in an IPv4 ethertype */
	fix_ip_csum(f, 14);
	cr_assert_eq(classify(f, len, &i), FC_PKT_BAD_IPV4);
	len = good(f, 64);
	f[14] = 0x44; /* IHL 4 */
	cr_assert_eq(classify(f, len, &i), FC_PKT_BAD_IPV4);
	len = good(f, 64);
	f[16] = 0xFF; /* total length beyond the frame */
	fix_ip_csum(f, 14);
	cr_assert_eq(classify(f, len, &i), FC_PKT_RUNT);
	cr_assert_eq(classify(f, 30, &i), FC_PKT_RUNT);
}

Test(pkt, drops_fragments_first_and_later)
{
	uint8_t f[256];
	struct fc_pkt_info i;
	size_t len = good(f, 64);

	f[14 + 6] = 0x20; /* MF */
	f[14 + 7] = 0x00;
	fix_ip_csum(f, 14);
	cr_assert_eq(classify(f, len, &i), FC_PKT_FRAGMENT);
	f[14 + 6] = 0x00; /* offset 8 */
	f[14 + 7] = 0x01;
	fix_ip_csum(f, 14);
	cr_assert_eq(classify(f, len, &i), FC_PKT_FRAGMENT);
}

Test(pkt, sorts_other_protocols_ports_and_addresses)
{
	uint8_t f[256];
	struct fc_pkt_info i;
	size_t len = good(f, 64);

	f[14 + 9] = IPPROTO_ICMP;
	fix_ip_csum(f, 14);
	cr_assert_eq(classify(f, len, &i), FC_PKT_NOT_UDP);
	len = good(f, 64);
	f[36] = 0x00; /* destination port 80 */
	f[37] = 80;
	cr_assert_eq(classify(f, len, &i), FC_PKT_WRONG_PORT);
	len = good(f, 64);
	f[14 + 19] = 9; /* 198.18.0.9 */
	fix_ip_csum(f, 14);
	cr_assert_eq(classify(f, len, &i), FC_PKT_WRONG_DST);
	cr_assert_eq(fc_pkt_classify(f, len, 0, PORT, &i), FC_PKT_OK, "local_ip 0 takes any");
	len = good(f, 64);
	f[38] = 0x00; /* UDP length 7 */
	f[39] = 7;
	cr_assert_eq(classify(f, len, &i), FC_PKT_BAD_UDP);
	f[39] = 60; /* UDP length disagrees with the IP length */
	cr_assert_eq(classify(f, len, &i), FC_PKT_BAD_UDP);
}

Test(pkt, multicast_mac_maps_the_low_23_bits)
{
	uint8_t mac[6];
	const uint8_t want[6] = { 0x01, 0x00, 0x5e, 0x40, 0x00, 0x01 };

	fc_pkt_mcast_mac(0xEFC00001u, mac); /* 239.192.0.1 */
	cr_assert_arr_eq(mac, want, 6);
	fc_pkt_mcast_mac(0xE0FF0203u, mac); /* 224.255.2.3: the 24th bit is dropped */
	cr_assert_eq(mac[3], 0x7F);
	cr_assert_eq(mac[4], 0x02);
	cr_assert_eq(mac[5], 0x03);
}

Test(pkt, downlink_headers_are_valid_ipv4_udp_multicast)
{
	uint8_t f[256];
	struct fc_pkt_tx_tmpl t = T;
	struct fc_pkt_info i;
	uint16_t udp_sum;

	t.group_ip = 0xEFC00001u;
	t.ttl = 1;
	memset(f + 42, 0x5A, 57); /* odd length: the UDP checksum pads */
	fc_pkt_write_headers(f, &t, NULL, t.group_ip, 47480, 57);
	cr_assert_eq(f[0], 0x01);
	cr_assert_eq(f[2], 0x5e);
	cr_assert_eq(f[14 + 8], 1, "TTL");
	cr_assert_eq(f[14 + 6] & 0x40, 0x40, "DF");
	cr_assert_eq(rte_raw_cksum(f + 14, 20), 0xFFFF, "IPv4 header checksum");
	memcpy(&udp_sum, f + 40, 2);
	cr_assert_neq(udp_sum, 0);
	cr_assert_eq(rte_ipv4_udptcp_cksum_verify((const struct rte_ipv4_hdr *)(f + 14), f + 34),
		     0);
	cr_assert_eq(fc_pkt_classify(f, 42 + 57, t.group_ip, 47480, &i), FC_PKT_OK);
	cr_assert_eq(i.payload_len, 57);
}

/* The fast UDP checksum gives DPDK's 16 bits for every length and content a datagram has. */
Test(pkt, udp_checksum_is_dpdks_bit_for_bit)
{
	static uint8_t f[FC_PKT_HDR_LEN + 1400];
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + 14);
	uint64_t x = 0x9E3779B97F4A7C15u;
	unsigned int ones = 0;

	for (unsigned int len = 0; len <= 1400; len++) {
		for (unsigned int k = 0; k < 4; k++) {
			uint16_t want, got;

			/* Random bytes, all 0xFF (sums of negative zero), all 0x00, or random
			 * but for a last word that makes the sum 0xFFFF: a checksum of 0, sent as
			 * 0xFFFF (RFC 768). */
			for (unsigned int i = 0; i < len; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				f[FC_PKT_HDR_LEN + i] = k == 1 ? 0xFF : k == 2 ? 0x00 : (uint8_t)x;
			}
			if (k == 3 && len >= 2 && len % 2 == 0) {
				uint16_t w = 0, c0;

				memcpy(f + FC_PKT_HDR_LEN + len - 2, &w, 2);
				fc_pkt_write_headers(f, &T, NULL, 0xEFC00001u + k,
						     (uint16_t)(47480 + len), (uint16_t)len);
				f[40] = f[41] = 0;
				c0 = rte_ipv4_udptcp_cksum(ip, f + 34); /* ~fold(sum without w) */
				w = c0 == 0xFFFF ? 0 : c0;              /* fold(sum + w) = 0xFFFF */
				memcpy(f + FC_PKT_HDR_LEN + len - 2, &w, 2);
			}
			fc_pkt_write_headers(f, &T, NULL, 0xEFC00001u + k, (uint16_t)(47480 + len),
					     (uint16_t)len);
			memcpy(&got, f + 40, 2);
			f[40] = f[41] = 0;
			want = rte_ipv4_udptcp_cksum(ip, f + 34);
			cr_assert_eq(got, want, "len %u, pattern %u: %04x, DPDK %04x", len, k, got,
				     want);
			ones += got == 0xFFFF;
		}
	}
	cr_log_info("%u checksums were 0xFFFF", ones);
}

Test(pkt, verdict_names_are_distinct)
{
	for (int a = 0; a < FC_PKT__COUNT; a++)
		for (int b = a + 1; b < FC_PKT__COUNT; b++)
			cr_assert_str_neq(fc_pkt_verdict_name(a), fc_pkt_verdict_name(b));
}
