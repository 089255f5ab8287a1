/* SPDX-License-Identifier: BSD-3-Clause */
/* The game tests' shared helpers (helpers.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

const char *
layout_file(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/fc-game-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

struct fc_game_layout *
layout_from(const char *text)
{
	struct fc_game_layout *l = NULL;
	const char *path = layout_file(text);
	char err[256] = "";
	int rc = fc_game_layout_load(path, &l, err, sizeof(err));

	unlink(path);
	cr_assert_eq(rc, 0, "refused: %s", err);
	cr_assert_not_null(l);
	return l;
}

int
layout_refused(const char *text, char *err, size_t err_len, const char **path)
{
	struct fc_game_layout *l = (struct fc_game_layout *)1;
	int rc;

	*path = layout_file(text);
	rc = fc_game_layout_load(*path, &l, err, err_len);
	unlink(*path);
	cr_assert_neq(rc, 0, "accepted:\n%s", text);
	cr_assert_null(l, "a refused load leaves *out NULL");
	return rc;
}

struct fc_arbiter *
arbiter_from(const char *text, uint32_t n_players)
{
	struct fc_game_layout *l = layout_from(text);
	struct fc_arbiter *a = NULL;

	cr_assert_eq(fc_arbiter_create(&a, l, n_players, T0), 0);
	fc_game_layout_free(l); /* the arbiter keeps its own copy */
	return a;
}

struct fc_game_fix
fix_at(uint16_t player, uint64_t meas_ns, int32_t x_mm, int32_t y_mm, uint16_t err_mm,
       uint32_t fix_seq)
{
	return (struct fc_game_fix){ .meas_ns = meas_ns,
				     .x_mm = x_mm,
				     .y_mm = y_mm,
				     .fix_seq = fix_seq,
				     .player = player,
				     .team = (uint16_t)(player % 4),
				     .err_mm = err_mm };
}

uint64_t
rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

uint32_t
rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)((rnd_next(s) >> 32) % n);
}

void
shuffle_u32(uint64_t *s, uint32_t *v, uint32_t n)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = rnd_below(s, i), t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}
