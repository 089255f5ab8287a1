/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The subscriber library around the recovery procedure: its event buffer (bounded, the highest
 * dropped when full), the constructor's limits, reading the state, the claims history, and the
 * socket helpers (a frame's UDP payload; a unicast feed and a retransmit service on loopback;
 * the multicast join where the host allows it).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_priv.h"
#include "srv.h"

static void
setup_default(void)
{
	tc_setup(NULL);
}

static int32_t
score_of(uint16_t player)
{
	uint32_t cur = 0;
	struct fc_client_score sc;

	while (fc_client_next_score(T.c, &cur, &sc))
		if (sc.player == player)
			return sc.total;
	return -1;
}

/* ---- the event buffer ----------------------------------------------------------------------- */

TestSuite(buffer);

static void
fill(uint8_t *m, uint16_t len, uint8_t v)
{
	memset(m, v, len);
}

Test(buffer, holds_events_by_seq_and_gives_them_back)
{
	struct fc__evbuf b;
	uint8_t m[200] = { 0 };
	uint64_t evicted = 0;
	uint16_t len;
	const uint8_t *p;

	cr_assert_eq(fc__evbuf_init(&b, 4096, 2000), 0);
	for (uint64_t s = 10; s < 20; s++) {
		fill(m, 150, (uint8_t)s);
		cr_assert_eq(fc__evbuf_put(&b, s, m, 150, &evicted), 0);
	}
	cr_assert_eq(fc__evbuf_put(&b, 12, m, 150, &evicted), -EEXIST);
	cr_assert_eq(b.count, 10);
	p = fc__evbuf_get(&b, 13, &len);
	cr_assert_not_null(p);
	cr_assert_eq(len, 150);
	cr_assert_eq(p[0], 13);
	cr_assert_eq(p[149], 13);
	cr_assert_null(fc__evbuf_get(&b, 20, &len));
	fc__evbuf_drop_below(&b, 15);
	cr_assert_eq(b.count, 5);
	cr_assert_not(fc__evbuf_has(&b, 14));
	cr_assert(fc__evbuf_has(&b, 15));
	fc__evbuf_fini(&b);
}

Test(buffer, holes_are_squeezed_out_when_the_arena_runs_out)
{
	struct fc__evbuf b;
	uint8_t m[200];
	uint64_t evicted = 0;
	uint16_t len;

	cr_assert_eq(fc__evbuf_init(&b, 4096, 2000), 0);
	for (uint64_t s = 0; s < 13; s++) { /* 13 x 150 = 1950 of 2000 */
		fill(m, 150, (uint8_t)s);
		cr_assert_eq(fc__evbuf_put(&b, s, m, 150, &evicted), 0);
	}
	for (uint64_t s = 0; s < 13; s += 2) /* free 7: holes */
		fc__evbuf_del(&b, s);
	for (uint64_t s = 100; s < 107; s++) { /* 7 more fit only after compaction */
		fill(m, 150, (uint8_t)s);
		cr_assert_eq(fc__evbuf_put(&b, s, m, 150, &evicted), 0);
	}
	cr_assert_eq(evicted, 0);
	cr_assert_eq(b.count, 13);
	for (uint64_t s = 1; s < 13; s += 2)
		cr_assert_eq(fc__evbuf_get(&b, s, &len)[0], s, "event %llu moved intact",
			     (unsigned long long)s);
	for (uint64_t s = 100; s < 107; s++)
		cr_assert_eq(fc__evbuf_get(&b, s, &len)[10], (uint8_t)s);
	fc__evbuf_fini(&b);
}

Test(buffer, when_full_the_highest_are_dropped)
{
	struct fc__evbuf b;
	uint8_t m[300] = { 0 };
	uint64_t evicted = 0;

	cr_assert_eq(fc__evbuf_init(&b, 4096, 1500), 0);
	for (uint64_t s = 10; s < 20; s++) /* 10 x 150 fill it */
		cr_assert_eq(fc__evbuf_put(&b, s, m, 150, &evicted), 0);
	cr_assert_eq(fc__evbuf_put(&b, 25, m, 150, &evicted), -ENOSPC, "the new one is highest");
	cr_assert_eq(fc__evbuf_put(&b, 5, m, 300, &evicted), 0, "a lower one pushes out two");
	cr_assert_eq(evicted, 2);
	cr_assert_not(fc__evbuf_has(&b, 19));
	cr_assert_not(fc__evbuf_has(&b, 18));
	cr_assert(fc__evbuf_has(&b, 17));
	/* two events a multiple of cap apart share a slot: the lower is kept */
	cr_assert_eq(fc__evbuf_put(&b, 17 + 4096, m, 8, &evicted), -ENOSPC);
	fc__evbuf_fini(&b);
}

Test(buffer, the_client_recovers_the_events_it_could_not_hold)
{
	struct fc_client_params p = { .event_buffer_bytes = 2048 };
	unsigned int answered = 0;

	tc_setup(&p);
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1); /* 1: lost */
	srv_end(&T.s);
	for (int i = 0; i < 40; i++) { /* 2 .. 41: 96 bytes each, 21 fit in 2048 */
		srv_begin(&T.s, 0);
		srv_claim(&T.s, (uint32_t)(i + 1), 1, 0, 4, 1);
		cr_assert_eq(tc_feed(), 0);
	}
	cr_assert_gt(tc_stats().events_dropped, 0);
	srv_snap(&T.s, 1, 0, 1, 0, 1); /* as of event 1 */
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	cr_assert_eq(tc_feed(), 0);
	cr_assert(tc_info().synced);
	tc_answer_all(&answered);
	tc_answer_all(&answered);
	cr_assert_eq(tc_info().next_event_seq, 42);
	cr_assert_eq(tc_info().claims, 40);
	tc_teardown();
}

/* ---- the API -------------------------------------------------------------------------- */

TestSuite(api);

Test(api, create_refuses_sizes_out_of_range)
{
	struct fc_client_params p = { .max_players = 65536 };

	errno = 0;
	cr_assert_null(fc_client_create(&p));
	cr_assert_eq(errno, EINVAL);
	p = (struct fc_client_params){ .event_buffer = 100 };
	cr_assert_null(fc_client_create(&p));
	p = (struct fc_client_params){ .event_buffer_bytes = 1000 };
	cr_assert_null(fc_client_create(&p));
	fc_client_free(NULL);
}

Test(api, defaults_take_any_player_id_below_4096)
{
	struct fc_client *c = fc_client_create(NULL);
	struct fc_client_position pos;
	struct fc_client_info in;

	cr_assert_not_null(c);
	cr_assert_eq(fc_client_position(c, 4095, &pos), -ENOENT);
	cr_assert_eq(fc_client_position(c, 4096, &pos), -ERANGE);
	fc_client_get_info(c, &in);
	cr_assert_not(in.has_session);
	cr_assert_eq(fc_client_next_deadline(c), UINT64_MAX);
	fc_client_free(c);
}

Test(api, iterators_walk_in_id_order, .init = setup_default, .fini = tc_teardown)
{
	uint32_t cur = 0, n = 0, last = 0;
	struct fc_client_clue k;
	struct fc_client_position p;
	struct fc_client_score sc;
	struct fc_client_team tm;

	tc_join();
	srv_begin(&T.s, 0);
	srv_clue(&T.s, 30, 1, 1, FC_CLUE_OPEN, FC_PLAYER_NONE);
	srv_clue(&T.s, 10, 2, 2, FC_CLUE_OPEN, FC_PLAYER_NONE);
	srv_clue(&T.s, 20, 3, 3, FC_CLUE_HIDDEN, FC_PLAYER_NONE);
	srv_score(&T.s, 9, 3, 10, 10, 1);
	srv_score(&T.s, 2, 1, 20, 20, 1);
	srv_pos(&T.s, 7, 1, 1);
	srv_pos(&T.s, 3, 1, 1);
	cr_assert_eq(tc_feed(), 0);
	while (fc_client_next_clue(T.c, &cur, &k)) {
		cr_assert_gt(k.clue_id, last);
		last = k.clue_id;
		n++;
	}
	cr_assert_eq(n, 3);
	cur = 0;
	cr_assert(fc_client_next_position(T.c, &cur, &p));
	cr_assert_eq(p.player, 3);
	cr_assert(fc_client_next_position(T.c, &cur, &p));
	cr_assert_eq(p.player, 7);
	cr_assert_not(fc_client_next_position(T.c, &cur, &p));
	cur = 0;
	cr_assert(fc_client_next_score(T.c, &cur, &sc));
	cr_assert_eq(sc.player, 2);
	cr_assert_eq(sc.team, 1);
	cr_assert(fc_client_next_score(T.c, &cur, &sc));
	cr_assert_eq(sc.player, 9);
	cr_assert_not(fc_client_next_score(T.c, &cur, &sc));
	cur = 0;
	cr_assert(fc_client_next_team(T.c, &cur, &tm));
	cr_assert_eq(tm.team, 1);
	cr_assert(fc_client_next_team(T.c, &cur, &tm));
	cr_assert_eq(tm.team, 3);
	cr_assert_eq(fc_client_clue(T.c, 20, &k), 0);
	cr_assert_eq(k.state, FC_CLIENT_CLUE_HIDDEN);
	cr_assert_eq(fc_client_clue(T.c, 21, &k), -ENOENT);
}

Test(api, a_claimed_clue_never_described_is_not_located, .init = setup_default, .fini = tc_teardown)
{
	struct fc_client_clue k;

	tc_join();
	srv_begin(&T.s, 0);
	srv_claim(&T.s, 4, 8, 2, 1, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(fc_client_clue(T.c, 4, &k), 0);
	cr_assert_not(k.located);
	cr_assert_eq(k.state, FC_CLIENT_CLUE_CLAIMED);
	cr_assert_eq(k.winner, 8);
	cr_assert_eq(k.points, 50);
}

Test(api, the_claims_history_forgets_the_oldest, .fini = tc_teardown)
{
	struct fc_client_params p = { .max_claims = 2 };

	tc_setup(&p);
	tc_join();
	srv_begin(&T.s, 0);
	for (uint32_t i = 1; i <= 3; i++)
		srv_claim(&T.s, i, (uint16_t)i, 0, 1, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_info().claims, 2);
	cr_assert_eq(fc_client_claim_at(T.c, 0)->clue_id, 2);
	cr_assert_eq(fc_client_claim_at(T.c, 1)->clue_id, 3);
	cr_assert_eq(tc_stats().claims_forgotten, 1);
}

Test(api, a_clue_beyond_max_clues_is_counted, .fini = tc_teardown)
{
	struct fc_client_params p = { .max_clues = 2, .max_teams = 4 };

	tc_setup(&p);
	tc_join();
	srv_begin(&T.s, 0);
	for (uint32_t i = 1; i <= 3; i++)
		srv_clue(&T.s, i, 1, 1, FC_CLUE_OPEN, FC_PLAYER_NONE);
	srv_score(&T.s, 1, 4, 10, 10, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_info().clues, 2);
	cr_assert_eq(tc_stats().out_of_range, 2);
	cr_assert_eq(score_of(1), 10, "the player's score is kept, its team's is not");
}

Test(api, counter_names_are_the_protocol_s)
{
	cr_assert_str_eq(fc_client_malformed_name(FC_CLIENT_M_BAD_MAGIC), "bad_magic");
	cr_assert_str_eq(fc_client_malformed_name(FC_CLIENT_M_BAD_SNAPSHOT), "bad_snapshot");
	cr_assert_str_eq(fc_client_malformed_name(99), "unknown");
	cr_assert_str_eq(fc_client_recovery_name(FC_CLIENT_R_LATE_JOIN), "late_join");
	cr_assert_str_eq(fc_client_refused_name(1), "too_old");
	cr_assert_str_eq(fc_client_refused_name(5), "not_yet");
	cr_assert_str_eq(fc_client_refused_name(0), "unknown");
}

/* ---- sockets and frames -------------------------------------------------------------------- */

TestSuite(sock);

/* Ethernet (optionally 802.1Q) / IPv4 / UDP around payload; returns the frame's length. */
static size_t
frame(uint8_t *f, bool vlan, uint16_t frag, const void *payload, size_t len)
{
	size_t off = 12, ip;

	memset(f, 0, 64);
	if (vlan) {
		f[12] = 0x81;
		f[14] = 0x00;
		off = 16;
	}
	f[off] = 0x08;
	f[off + 1] = 0x00;
	ip = off + 2;
	f[ip] = 0x45;
	f[ip + 2] = (uint8_t)((20 + 8 + len) >> 8);
	f[ip + 3] = (uint8_t)(20 + 8 + len);
	f[ip + 6] = (uint8_t)(frag >> 8);
	f[ip + 7] = (uint8_t)frag;
	f[ip + 9] = 17;
	memcpy(f + ip + 12, (uint8_t[]){ 198, 18, 0, 1, 239, 192, 0, 1 }, 8);
	f[ip + 20] = 0xb9; /* 47481 */
	f[ip + 21] = 0x79;
	f[ip + 22] = 0xb9; /* 47480 */
	f[ip + 23] = 0x78;
	f[ip + 24] = (uint8_t)((8 + len) >> 8);
	f[ip + 25] = (uint8_t)(8 + len);
	memcpy(f + ip + 28, payload, len);
	return ip + 28 + len;
}

Test(sock, the_udp_payload_of_a_captured_frame)
{
	uint8_t f[256], pl[40] = { 'F', 'D' };
	struct fc_client_udp u;
	size_t n = frame(f, false, 0x4000 /* DF */, pl, sizeof(pl));

	cr_assert_eq(fc_client_udp_payload(f, n, &u), 0);
	cr_assert_eq(u.len, 40);
	cr_assert_eq(u.payload, f + 42);
	cr_assert_eq(u.dst_ip, 0xEFC00001u);
	cr_assert_eq(u.src_ip, 0xC6120001u);
	cr_assert_eq(u.dst_port, 47480);
	cr_assert_eq(u.src_port, 47481);
	n = frame(f, true, 0, pl, sizeof(pl));
	cr_assert_eq(fc_client_udp_payload(f, n, &u), 0, "one 802.1Q tag");
	cr_assert_eq(u.payload, f + 46);
	cr_assert_eq(fc_client_udp_payload(f, n - 1, &u), -EBADMSG, "truncated");
	n = frame(f, false, 0x2000 /* MF */, pl, sizeof(pl));
	cr_assert_eq(fc_client_udp_payload(f, n, &u), -ENOMSG, "a fragment");
	n = frame(f, false, 0, pl, sizeof(pl));
	f[12] = 0x86; /* IPv6 */
	f[13] = 0xdd;
	cr_assert_eq(fc_client_udp_payload(f, n, &u), -ENOMSG);
	n = frame(f, false, 0, pl, sizeof(pl));
	f[14 + 9] = 6; /* TCP */
	cr_assert_eq(fc_client_udp_payload(f, n, &u), -ENOMSG);
	n = frame(f, false, 0, pl, sizeof(pl));
	f[14 + 24] = 0;
	f[14 + 25] = 7; /* UDP length below its header */
	cr_assert_eq(fc_client_udp_payload(f, n, &u), -EBADMSG);
	cr_assert_eq(fc_client_udp_payload(f, 10, &u), -EBADMSG);
}

Test(sock, open_refuses_bad_addresses)
{
	struct fc_client_sock s;
	struct fc_client_sock_params p = { .group = "239.192.0.300", .port = 47480 };

	cr_assert_eq(fc_client_sock_open(&s, &p), -EINVAL);
	p.group = "239.192.0.1";
	p.port = 0;
	cr_assert_eq(fc_client_sock_open(&s, &p), -EINVAL);
	p.port = 47480;
	p.server = "floord";
	cr_assert_eq(fc_client_sock_open(&s, &p), -EINVAL);
	cr_assert_eq(fc_client_sock_send_request(&s, "x", 1), -ENOTCONN);
	fc_client_sock_close(&s);
}

/* A UDP socket on 127.0.0.1 and an ephemeral port; its port in *port. */
static int
udp_local(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
send_to(int fd, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(port) };

	cr_assert_eq(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
}

/* Runs the client's loop until cond() or about 2 s. */
static void
run_until(struct fc_client_sock *s, bool (*cond)(void))
{
	for (int i = 0; i < 200 && !cond(); i++)
		cr_assert_geq(fc_client_sock_run(s, T.c, 10), 0);
}

static bool
synced(void)
{
	return tc_info().synced;
}

static bool
has_event_3(void)
{
	return tc_info().next_event_seq >= 4;
}

Test(sock, a_unicast_feed_and_a_retransmit_service_on_loopback, .fini = tc_teardown)
{
	struct fc_client_params p = { .send_request = fc_client_sock_send_request };
	struct fc_client_sock s;
	struct fc_client_sock_params sp = { .group = "127.0.0.1", .server = "127.0.0.1" };
	uint16_t feed_port, rt_port;
	int feed = udp_local(&feed_port), rt = udp_local(&rt_port);
	uint8_t req[64], out[FC_WIRE_MAX_PAYLOAD];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct fc_rt_request r;
	struct pollfd pfd = { .fd = rt, .events = POLLIN };
	ssize_t n;
	size_t len;

	/* the group port: a free one, found by binding and letting go */
	close(udp_local(&sp.port));
	sp.rt_port = rt_port;
	tc_setup(&p);
	fc_client_free(T.c);
	p.send_arg = &s;
	T.c = fc_client_create(&p);
	cr_assert_not_null(T.c);
	cr_assert_eq(fc_client_sock_open(&s, &sp), 0);

	srv_snap(&T.s, 1, 0, 1, 0, 0);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	len = srv_end(&T.s);
	send_to(feed, sp.port, T.s.buf, len);
	run_until(&s, synced);
	cr_assert(tc_info().synced);

	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1);
	srv_score(&T.s, 2, 0, 2, 3, 1);
	srv_end(&T.s); /* lost */
	srv_begin(&T.s, 0);
	srv_score(&T.s, 3, 0, 3, 6, 1);
	len = srv_end(&T.s);
	send_to(feed, sp.port, T.s.buf, len);
	for (int i = 0; i < 50 && tc_stats().rt_asked == 0; i++)
		cr_assert_geq(fc_client_sock_run(&s, T.c, 10), 0);

	/* the retransmit service: the request arrives, the reply goes back to its source */
	cr_assert_eq(poll(&pfd, 1, 2000), 1);
	n = recvfrom(rt, req, sizeof(req), 0, (struct sockaddr *)&from, &fl);
	cr_assert_eq(n, 24);
	cr_assert_eq(fc_rt_request_decode(req, (size_t)n, &r), FC_DL_OK);
	cr_assert_eq(r.first_event_seq, 1);
	cr_assert_eq(r.count, 2);
	len = srv_reply(&T.s, r.first_event_seq, r.count, out);
	cr_assert_eq(sendto(rt, out, len, 0, (struct sockaddr *)&from, fl), (ssize_t)len);
	run_until(&s, has_event_3);
	cr_assert_eq(tc_info().next_event_seq, 4);
	cr_assert_eq(score_of(3), 3);
	cr_assert_eq(tc_stats().rt_answered, 1);

	fc_client_sock_close(&s);
	fc_client_sock_close(&s);
	close(feed);
	close(rt);
}

Test(sock, joins_the_group_where_the_host_has_multicast)
{
	struct fc_client_sock s;
	struct fc_client_sock_params sp = { .group = "239.255.70.67" };
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct pollfd pfd;
	uint8_t buf[64];
	int fd, rc;
	const unsigned char loop = 1;

	close(udp_local(&sp.port));
	rc = fc_client_sock_open(&s, &sp);
	if (rc == -ENODEV || rc == -EADDRNOTAVAIL || rc == -ENETUNREACH)
		cr_skip_test("no multicast route on this host (%s)", strerror(-rc));
	cr_assert_eq(rc, 0, "open: %s", strerror(-rc));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop));
	inet_pton(AF_INET, sp.group, &to.sin_addr);
	to.sin_port = htons(sp.port);
	if (sendto(fd, "FD", 2, 0, (struct sockaddr *)&to, sizeof(to)) != 2) {
		close(fd);
		fc_client_sock_close(&s);
		cr_skip_test("cannot send to a multicast group here");
	}
	pfd = (struct pollfd){ .fd = s.fd, .events = POLLIN };
	if (poll(&pfd, 1, 1000) != 1) {
		close(fd);
		fc_client_sock_close(&s);
		cr_skip_test("multicast is not looped back on this host");
	}
	cr_assert_eq(recv(s.fd, buf, sizeof(buf), 0), 2);
	close(fd);
	fc_client_sock_close(&s);
}
