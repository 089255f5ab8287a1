/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The network headers around floorcast's payloads: what the RX lcore peels off a received
 * frame (Ethernet, an optional 802.1Q tag, IPv4, UDP) and what the TX lcore writes in front of
 * every downlink datagram (by hand: Ethernet with the 01:00:5e multicast mapping, IPv4 with its
 * checksum, UDP).
 *
 * Pure functions on bytes: no mbuf, no EAL, so the classification of every kind of frame the
 * NIC may hand us is unit-tested directly (tests/pkt). The checksums come from DPDK's rte_ip.h
 * (inline, no EAL needed).
 */
#ifndef FC_PKT_H
#define FC_PKT_H

#include <stddef.h>
#include <stdint.h>

struct rte_ipv4_hdr;

/* Why a received frame is not a gateway datagram for us. Each is a drop counter. */
enum fc_pkt_verdict {
	FC_PKT_OK = 0,
	FC_PKT_RUNT,       /* shorter than its headers say, or than an Ethernet header */
	FC_PKT_ARP,        /* ARP: the kernel-bypass port does not answer it */
	FC_PKT_IPV6,       /* IPv6, including MLD and neighbour discovery */
	FC_PKT_OTHER_L2,   /* any other ethertype, or stacked VLAN tags */
	FC_PKT_BAD_IPV4,   /* version, header length, total length or checksum wrong */
	FC_PKT_FRAGMENT,   /* an IPv4 fragment: the protocol never fragments */
	FC_PKT_NOT_UDP,    /* another IP protocol (ICMP, IGMP, TCP, ...) */
	FC_PKT_BAD_UDP,    /* UDP length inconsistent with the IP length */
	FC_PKT_WRONG_DST,  /* not our IPv4 address (when one is configured) */
	FC_PKT_WRONG_PORT, /* not our UDP port */
	FC_PKT__COUNT
};

/* A stable lower-case name for counters ("arp", "fragment", ...). */
const char *fc_pkt_verdict_name(enum fc_pkt_verdict v);

/* Where the UDP payload of an accepted frame is. */
struct fc_pkt_info {
	uint32_t src_ip; /* host order */
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t payload_off; /* from the start of the frame */
	uint16_t payload_len;
	uint16_t vlan; /* VLAN id, 0 if untagged */
};

/*
 * Classifies the frame f[0, len): FC_PKT_OK if it is an unfragmented IPv4/UDP datagram to
 * dst_port (and to local_ip, unless local_ip is 0), with *info describing it. The IPv4 header
 * checksum is verified. Never reads outside f[0, len).
 */
enum fc_pkt_verdict fc_pkt_classify(const uint8_t *f, size_t len, uint32_t local_ip,
				    uint16_t dst_port, struct fc_pkt_info *info);

/* The same, accepting a second UDP port too (0: none); info->dst_port says which it was. */
enum fc_pkt_verdict fc_pkt_classify2(const uint8_t *f, size_t len, uint32_t local_ip,
				     uint16_t dst_port, uint16_t alt_port,
				     struct fc_pkt_info *info);

/* The Ethernet/IPv4/UDP header length the TX lcore writes before a payload. */
#define FC_PKT_HDR_LEN 42u

/* What stays the same in every downlink datagram's headers. */
struct fc_pkt_tx_tmpl {
	uint8_t src_mac[6];
	uint32_t src_ip;   /* host order */
	uint32_t group_ip; /* host order, a multicast address */
	uint16_t src_port;
	uint16_t group_port;
	uint8_t ttl;
};

/*
 * The UDP checksum of the datagram udp[0, udp_len) under IPv4 header ip (whose total_length,
 * addresses and protocol are set), as rte_ipv4_udptcp_cksum() computes it, bit for bit, in
 * fewer instructions: 0 is sent as 0xFFFF.
 */
uint16_t fc_pkt_udp_cksum(const struct rte_ipv4_hdr *ip, const void *udp, uint16_t udp_len);

/* The multicast MAC of an IPv4 group: 01:00:5e and the group's low 23 bits (RFC 1112). */
void fc_pkt_mcast_mac(uint32_t group_ip, uint8_t mac[6]);

/*
 * Writes the 42 bytes of Ethernet, IPv4 (DF set, id 0, checksum) and UDP (checksum) headers
 * for a payload of payload_len bytes already at hdr + 42, sent to dst_ip:dst_port (the group,
 * or a unicast requester with dst_mac for retransmit replies; NULL dst_mac means the group's
 * multicast MAC).
 */
void fc_pkt_write_headers(uint8_t *hdr, const struct fc_pkt_tx_tmpl *t, const uint8_t *dst_mac,
			  uint32_t dst_ip, uint16_t dst_port, uint16_t payload_len);

#endif /* FC_PKT_H */
