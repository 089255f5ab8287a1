/* SPDX-License-Identifier: BSD-3-Clause */
/* Frame classification and downlink headers; see fc_pkt.h. */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "fc_pkt.h"

static const char *const verdict_names[FC_PKT__COUNT] = {
	[FC_PKT_OK] = "ok",
	[FC_PKT_RUNT] = "runt",
	[FC_PKT_ARP] = "arp",
	[FC_PKT_IPV6] = "ipv6",
	[FC_PKT_OTHER_L2] = "other_l2",
	[FC_PKT_BAD_IPV4] = "bad_ipv4",
	[FC_PKT_FRAGMENT] = "fragment",
	[FC_PKT_NOT_UDP] = "not_udp",
	[FC_PKT_BAD_UDP] = "bad_udp",
	[FC_PKT_WRONG_DST] = "wrong_dst",
	[FC_PKT_WRONG_PORT] = "wrong_port",
};

const char *
fc_pkt_verdict_name(enum fc_pkt_verdict v)
{
	return (unsigned int)v < FC_PKT__COUNT ? verdict_names[v] : "unknown";
}

static inline uint16_t
load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

enum fc_pkt_verdict
fc_pkt_classify(const uint8_t *f, size_t len, uint32_t local_ip, uint16_t dst_port,
		struct fc_pkt_info *info)
{
	return fc_pkt_classify2(f, len, local_ip, dst_port, 0, info);
}

enum fc_pkt_verdict
fc_pkt_classify2(const uint8_t *f, size_t len, uint32_t local_ip, uint16_t dst_port,
		 uint16_t alt_port, struct fc_pkt_info *info)
{
	struct rte_ipv4_hdr ip;
	size_t off = RTE_ETHER_HDR_LEN;
	uint16_t type, tot_len, frag, udp_len;
	unsigned int ihl;

	if (len < RTE_ETHER_HDR_LEN)
		return FC_PKT_RUNT;
	type = load_be16(f + 12);
	info->vlan = 0;
	if (type == RTE_ETHER_TYPE_VLAN) {
		if (len < off + 4)
			return FC_PKT_RUNT;
		info->vlan = load_be16(f + off) & 0x0FFF;
		type = load_be16(f + off + 2);
		off += 4;
	}
	switch (type) {
	case RTE_ETHER_TYPE_IPV4:
		break;
	case RTE_ETHER_TYPE_ARP:
		return FC_PKT_ARP;
	case RTE_ETHER_TYPE_IPV6:
		return FC_PKT_IPV6;
	default:
		return FC_PKT_OTHER_L2; /* includes QinQ: one tag is all a floor network uses */
	}

	if (len < off + sizeof(ip))
		return FC_PKT_RUNT;
	memcpy(&ip, f + off, sizeof(ip));
	ihl = (ip.version_ihl & 0x0F) * 4u;
	tot_len = rte_be_to_cpu_16(ip.total_length);
	if ((ip.version_ihl >> 4) != 4 || ihl < sizeof(ip) || tot_len < ihl)
		return FC_PKT_BAD_IPV4;
	if (len < off + tot_len)
		return FC_PKT_RUNT; /* Ethernet padding may make len larger, never smaller */
	/* The checksum over the whole header (options included) folds to 0xFFFF when right. */
	if (rte_raw_cksum(f + off, ihl) != 0xFFFF)
		return FC_PKT_BAD_IPV4;
	frag = rte_be_to_cpu_16(ip.fragment_offset);
	if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return FC_PKT_FRAGMENT;
	if (ip.next_proto_id != IPPROTO_UDP)
		return FC_PKT_NOT_UDP;
	if (tot_len < ihl + sizeof(struct rte_udp_hdr))
		return FC_PKT_BAD_UDP;
	info->src_ip = rte_be_to_cpu_32(ip.src_addr);
	info->dst_ip = rte_be_to_cpu_32(ip.dst_addr);
	off += ihl;
	udp_len = load_be16(f + off + 4);
	if (udp_len < sizeof(struct rte_udp_hdr) || udp_len != tot_len - ihl)
		return FC_PKT_BAD_UDP;
	info->src_port = load_be16(f + off);
	info->dst_port = load_be16(f + off + 2);
	if (local_ip != 0 && info->dst_ip != local_ip)
		return FC_PKT_WRONG_DST;
	if (info->dst_port != dst_port && (alt_port == 0 || info->dst_port != alt_port))
		return FC_PKT_WRONG_PORT;
	info->payload_off = (uint16_t)(off + sizeof(struct rte_udp_hdr));
	info->payload_len = (uint16_t)(udp_len - sizeof(struct rte_udp_hdr));
	return FC_PKT_OK;
}

void
fc_pkt_mcast_mac(uint32_t group_ip, uint8_t mac[6])
{
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((group_ip >> 16) & 0x7F);
	mac[4] = (uint8_t)(group_ip >> 8);
	mac[5] = (uint8_t)group_ip;
}

/*
 * The Internet checksum's one's-complement sum of buf[0, len), added to sum (already folded to
 * 16 bits or not: any value below 2^63), folded to 16 bits. The sum over 16-bit words is the
 * sum over 64-bit words with end-around carry (2^16 = 1 modulo 0xFFFF), taken 8 bytes a load
 * where rte_raw_cksum() takes 2: a full downlink datagram's UDP checksum costs about 3 600
 * instructions that way, some 700 this way, the same 16 bits (every sum here includes the
 * non-zero pseudo-header, so both return the one representative in 1 .. 0xFFFF).
 */
static inline uint16_t
cksum_fold(const uint8_t *buf, size_t len, uint64_t sum)
{
	unsigned __int128 acc = sum;
	uint64_t w[4], t;

	while (len >= sizeof(w)) {
		memcpy(w, buf, sizeof(w));
		acc += (unsigned __int128)w[0] + w[1] + w[2] + w[3];
		buf += sizeof(w);
		len -= sizeof(w);
	}
	while (len >= sizeof(t)) {
		memcpy(&t, buf, sizeof(t));
		acc += t;
		buf += sizeof(t);
		len -= sizeof(t);
	}
	if (len > 0) { /* the tail, zero-padded: as the last, odd byte is in rte_raw_cksum() */
		t = 0;
		memcpy(&t, buf, len);
		acc += t;
	}
	/* 128 -> 64 -> 32 -> 16 bits, end-around carry at each step. */
	t = (uint64_t)acc + (uint64_t)(acc >> 64);
	t += t < (uint64_t)acc;
	t = (t & 0xFFFFFFFFu) + (t >> 32);
	t = (t & 0xFFFFFFFFu) + (t >> 32);
	t = (t & 0xFFFFu) + (t >> 16);
	t = (t & 0xFFFFu) + (t >> 16);
	return (uint16_t)t;
}

uint16_t
fc_pkt_udp_cksum(const struct rte_ipv4_hdr *ip, const void *udp, uint16_t udp_len)
{
	uint16_t sum;

	/* The pseudo-header (RFC 768), in the same native-order words as the datagram's. */
	sum = cksum_fold(udp, udp_len, (uint64_t)rte_ipv4_phdr_cksum(ip, 0));
	sum = (uint16_t)~sum;
	return sum == 0 ? 0xFFFF : sum; /* a computed 0 is sent as all ones (RFC 768) */
}

void
fc_pkt_write_headers(uint8_t *hdr, const struct fc_pkt_tx_tmpl *t, const uint8_t *dst_mac,
		     uint32_t dst_ip, uint16_t dst_port, uint16_t payload_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)hdr;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(hdr + RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	if (dst_mac != NULL)
		memcpy(eth->dst_addr.addr_bytes, dst_mac, 6);
	else
		fc_pkt_mcast_mac(dst_ip, eth->dst_addr.addr_bytes);
	memcpy(eth->src_addr.addr_bytes, t->src_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + payload_len));
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = t->ttl;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(t->src_ip);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	udp->src_port = rte_cpu_to_be_16(t->src_port);
	udp->dst_port = rte_cpu_to_be_16(dst_port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + payload_len));
	udp->dgram_cksum = 0;
	udp->dgram_cksum = fc_pkt_udp_cksum(ip, udp, (uint16_t)(sizeof(*udp) + payload_len));
}
