/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The subscriber's sockets, plain POSIX and IPv4: the downlink group joined on one interface,
 * a unicast socket connected to floord's retransmit port (docs/protocol.md section 6), a
 * receive loop with a timeout that feeds a client; and the UDP payload of a captured frame, for
 * feeding a capture instead. The recovery logic (client.c) never calls any of this: a program
 * may use its own event loop and sockets and only call fc_client_feed().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fc_client.h"

/* Bursts of datagrams read per socket before the client is polled. */
#define SOCK_BURST  64
/*
 * The group socket's receive buffer: a snapshot pass of a few hundred players comes as a burst
 * of packets in one tick. The kernel caps the request at net.core.rmem_max.
 */
#define SOCK_RCVBUF (4 << 20)

uint64_t
fc_client_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
addr4(const char *s, struct in_addr *out)
{
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -EINVAL;
}

static int
fail(struct fc_client_sock *s)
{
	int rc = -errno;

	fc_client_sock_close(s);
	return rc;
}

int
fc_client_sock_open(struct fc_client_sock *s, const struct fc_client_sock_params *p)
{
	struct in_addr group, iface = { .s_addr = htonl(INADDR_ANY) }, server;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const int one = 1, rcvbuf = SOCK_RCVBUF;
	bool multicast;

	s->fd = -1;
	s->rt_fd = -1;
	if (p->group == NULL || addr4(p->group, &group) != 0 || p->port == 0 ||
	    (p->iface_addr != NULL && addr4(p->iface_addr, &iface) != 0) ||
	    (p->server != NULL && addr4(p->server, &server) != 0) ||
	    (p->server != NULL && p->rt_port == 0 && p->port == UINT16_MAX))
		return -EINVAL;
	multicast = IN_MULTICAST(ntohl(group.s_addr));

	/* Bound to the group's address, so only the group's datagrams arrive on this port. */
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		return fail(s);
	(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)); /* best effort */
	sa.sin_addr = group;
	sa.sin_port = htons(p->port);
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return fail(s);
	if (multicast) {
		struct ip_mreq mreq = { .imr_multiaddr = group, .imr_interface = iface };

		if (setsockopt(s->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0)
			return fail(s);
	}
	if (p->server == NULL)
		return 0;

	/* Requests leave from an ephemeral port; floord answers to it (section 6.2). connect()
	 * also keeps out datagrams from anyone but the retransmit port. */
	s->rt_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->rt_fd < 0)
		return fail(s);
	(void)setsockopt(s->rt_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sa.sin_addr = multicast ? iface : (struct in_addr){ .s_addr = htonl(INADDR_ANY) };
	sa.sin_port = 0;
	if (bind(s->rt_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return fail(s);
	sa.sin_addr = server;
	sa.sin_port = htons(p->rt_port != 0 ? p->rt_port : (uint16_t)(p->port + 1));
	if (connect(s->rt_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return fail(s);
	return 0;
}

void
fc_client_sock_close(struct fc_client_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->rt_fd >= 0)
		close(s->rt_fd);
	s->fd = -1;
	s->rt_fd = -1;
}

int
fc_client_sock_send_request(void *arg, const void *req, size_t len)
{
	struct fc_client_sock *s = arg;

	if (s->rt_fd < 0)
		return -ENOTCONN;
	if (send(s->rt_fd, req, len, 0) < 0)
		return -errno;
	return 0;
}

/* Feeds what fd holds, up to a burst; returns how many datagrams. */
static int
drain_fd(int fd, struct fc_client *c)
{
	/* Larger than any valid payload, so an oversized one is seen as such (bad_length). */
	uint8_t buf[2048];
	int n = 0;

	while (n < SOCK_BURST) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (len < 0)
			break; /* EAGAIN, or an ICMP error from a connected socket: nothing to feed */
		fc_client_feed(c, buf, (size_t)len, fc_client_now_ns());
		n++;
	}
	return n;
}

int
fc_client_sock_run(struct fc_client_sock *s, struct fc_client *c, int timeout_ms)
{
	struct pollfd pfd[2] = { { .fd = s->fd, .events = POLLIN },
				 { .fd = s->rt_fd, .events = POLLIN } };
	uint64_t now = fc_client_now_ns(), deadline = fc_client_next_deadline(c);
	int n = 0, rc;

	if (deadline != UINT64_MAX) { /* never sleep past the client's next deadline */
		uint64_t wait_ms = deadline > now ? (deadline - now + 999999u) / 1000000u : 0;

		if (timeout_ms < 0 || wait_ms < (uint64_t)timeout_ms)
			timeout_ms = wait_ms > INT_MAX ? INT_MAX : (int)wait_ms;
	}
	rc = poll(pfd, s->rt_fd >= 0 ? 2 : 1, timeout_ms);
	if (rc < 0)
		return -errno;
	for (unsigned int i = 0; i < 2 && rc > 0; i++)
		if (pfd[i].fd >= 0 && (pfd[i].revents & (POLLIN | POLLERR)) != 0)
			n += drain_fd(pfd[i].fd, c);
	fc_client_poll(c, fc_client_now_ns());
	return n;
}

/* ---- captures --------------------------------------------------------------------------- */

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
fc_client_udp_payload(const void *frame, size_t len, struct fc_client_udp *out)
{
	const uint8_t *f = frame;
	size_t off = 14, ihl, ip_len, udp_len;
	uint16_t type;

	if (len < off)
		return -EBADMSG;
	type = be16(f + 12);
	if (type == 0x8100) { /* one 802.1Q tag */
		if (len < off + 4)
			return -EBADMSG;
		type = be16(f + 16);
		off += 4;
	}
	if (type != 0x0800)
		return -ENOMSG;
	if (len < off + 20 || (f[off] >> 4) != 4)
		return -EBADMSG;
	ihl = (size_t)(f[off] & 0x0f) * 4;
	ip_len = be16(f + off + 2);
	if (ihl < 20 || ip_len < ihl || len < off + ip_len)
		return -EBADMSG;
	if (f[off + 9] != 17)
		return -ENOMSG;
	if ((be16(f + off + 6) & 0x3fff) != 0) /* MF set or an offset: a fragment */
		return -ENOMSG;
	out->src_ip = be32(f + off + 12);
	out->dst_ip = be32(f + off + 16);
	off += ihl;
	if (ip_len - ihl < 8)
		return -EBADMSG;
	udp_len = be16(f + off + 4);
	if (udp_len < 8 || udp_len > ip_len - ihl)
		return -EBADMSG;
	out->src_port = be16(f + off);
	out->dst_port = be16(f + off + 2);
	out->payload = f + off + 8;
	out->len = udp_len - 8;
	return 0;
}
