/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live output: each frame's UDP payload from one ordinary UDP socket, at its capture time
 * relative to the first frame (scaled by a speed factor), for tests where floord listens on a
 * real port in a network namespace (DESIGN.md section 7, "Live on one machine").
 *
 * Pacing uses absolute CLOCK_MONOTONIC deadlines with clock_nanosleep(TIMER_ABSTIME): sleeping
 * for relative intervals would add every wake-up's lateness to all the frames after it, and a
 * 10 s run at 8 000 frames a second would drift by whole milliseconds. A frame whose deadline
 * has passed (the generator or the scheduler was slow) goes at once; how late is reported.
 *
 * The socket is never connected: a connected UDP socket turns the ICMP port-unreachable a
 * kernel answers (floord's port is DPDK's, not the kernel's) into ECONNREFUSED on the next
 * send. It sends only to the address it was given.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gen_priv.h"

struct fc_gen_live {
	struct fc_gen_live_params p;
	struct sockaddr_in to;
	int fd;
	bool started;
	uint64_t first_ts_ns; /* the first frame's capture time */
	uint64_t t0_mono_ns;  /* and when it was sent */
	struct fc_gen_live_stats st;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
fc_gen_parse_hostport(const char *s, bool port_required, uint32_t *ip, uint16_t *port)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	size_t hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
	struct in_addr in;

	if (hl == 0 || hl >= sizeof(host) || (colon == NULL && port_required))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &in) != 1)
		return -EINVAL;
	*ip = ntohl(in.s_addr);
	*port = 0;
	if (colon != NULL) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || *end != '\0' || colon[1] == '-' ||
		    v > 65535 || (v == 0 && port_required))
			return -EINVAL;
		*port = (uint16_t)v;
	}
	return 0;
}

struct fc_gen_live *
fc_gen_live_open(const struct fc_gen_live_params *p, char *err, size_t err_len)
{
	struct fc_gen_live *lv;
	int rc;

	if (p->dst_ip == 0 || p->dst_port == 0 || !(p->speed >= 0 && p->speed <= 1000)) {
		snprintf(err, err_len, "live: a destination address and port, speed 0 .. 1000");
		errno = EINVAL;
		return NULL;
	}
	lv = calloc(1, sizeof(*lv));
	if (lv == NULL) {
		snprintf(err, err_len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	lv->p = *p;
	lv->to.sin_family = AF_INET;
	lv->to.sin_addr.s_addr = htonl(p->dst_ip);
	lv->to.sin_port = htons(p->dst_port);
	lv->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (lv->fd < 0) {
		rc = errno;
		snprintf(err, err_len, "live: socket: %s", strerror(rc));
		goto fail;
	}
	if (p->bind_ip != 0 || p->bind_port != 0) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(p->bind_ip),
					 .sin_port = htons(p->bind_port) };

		if (bind(lv->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			rc = errno;
			snprintf(err, err_len, "live: bind %u.%u.%u.%u:%u: %s", p->bind_ip >> 24,
				 (p->bind_ip >> 16) & 255, (p->bind_ip >> 8) & 255,
				 p->bind_ip & 255, p->bind_port, strerror(rc));
			goto fail;
		}
	}
	return lv;
fail:
	if (lv->fd >= 0)
		close(lv->fd);
	free(lv);
	errno = rc;
	return NULL;
}

int
fc_gen_live_sink(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len)
{
	struct fc_gen_live *lv = ctx;
	struct fc_pkt_info info;
	uint64_t now;
	ssize_t n;

	/* the generator hands a live sink only UDP datagrams to the uplink port (udp_only) */
	if (fc_pkt_classify(frame, len, 0, lv->p.frame_port, &info) != FC_PKT_OK)
		return -EPROTO;
	if (!lv->started) {
		lv->started = true;
		lv->first_ts_ns = ts_ns;
		lv->t0_mono_ns = mono_ns();
	} else if (lv->p.speed > 0) {
		uint64_t rel = ts_ns > lv->first_ts_ns ? ts_ns - lv->first_ts_ns : 0;
		uint64_t deadline = lv->t0_mono_ns + (uint64_t)((double)rel / lv->p.speed);
		struct timespec d = { .tv_sec = (time_t)(deadline / 1000000000u),
				      .tv_nsec = (long)(deadline % 1000000000u) };
		int rc;

		while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL)) == EINTR)
			;
		if (rc != 0)
			return -rc;
		now = mono_ns();
		if (now > deadline && now - deadline > lv->st.max_late_ns)
			lv->st.max_late_ns = now - deadline;
	}
	do {
		n = sendto(lv->fd, frame + info.payload_off, info.payload_len, 0,
			   (const struct sockaddr *)&lv->to, sizeof(lv->to));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		lv->st.errors++;
		lv->st.last_errno = errno;
		return -errno;
	}
	lv->st.sent++;
	lv->st.bytes += (uint64_t)n;
	lv->st.elapsed_ns = mono_ns() - lv->t0_mono_ns;
	return 0;
}

void
fc_gen_live_get_stats(const struct fc_gen_live *lv, struct fc_gen_live_stats *st)
{
	*st = lv->st;
}

const struct fc_gen_live_params *
fc_gen_live_params(const struct fc_gen_live *lv)
{
	return &lv->p;
}

void
fc_gen_live_close(struct fc_gen_live *lv)
{
	if (lv == NULL)
		return;
	close(lv->fd);
	free(lv);
}
