/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the INI files (suite fuzz): the floor file (fc_config_load()) and the
 * drivers-cfg profiles (fc_profile_load()), both read by lib/config/ini.c on top of DPDK's
 * rte_cfgfile (no EAL: floord reads them before rte_eal_init()). Each input is loaded as both.
 *
 * The floor file's relative paths are taken from its directory, so the input is written as
 * floor.ini in a directory of this process's own (made once, removed at exit), beside a valid
 * keys.txt, roster.csv (players 0 to 3), layout.txt and profile.ini for it to name; the seeds
 * name these (make_corpus.py).
 *
 * A loaded file must keep fc_config.h's and docs/configuration.md's ranges, the lcore lists
 * each id once and at most 64 distinct lcores, every path it names resolved to a readable
 * regular file (but the ones floord creates), a roster of at least one player below the
 * capacity, a profile whose pool fills its descriptors. A refused one says "FILE: ..." or
 * "FILE:LINE: ..." in one line, FILE being the floor file or the roster or profile it names.
 * A broken promise aborts; LeakSanitizer checks fc_config_free().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_config.h>
#include <rte_log.h>

#include "fc_config.h"
#include "fuzz_file.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char floor_path[96];
static int floor_fd = -1;

static const struct {
	const char *name, *text;
} companions[] = {
	{ "keys.txt", "7 1 hmac-sha256-128 "
		      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n" },
	{ "roster.csv", "tag_id,player,team,name\n0x10,0,0,alice\n0x11,1,0,bob\n0x12,2,1\n"
			"19,3,1,dave\n" },
	{ "layout.txt", "policy = distance\n1,1000,1000,,10\n" },
	{ "profile.ini", "[profile]\nname = fuzz\npmd = net_ring\n" },
};

static void
remove_dir(void)
{
	char p[160];

	close(floor_fd);
	for (size_t i = 0; i < sizeof(companions) / sizeof(companions[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, companions[i].name);
		unlink(p);
	}
	unlink(floor_path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char p[160];

	(void)argc;
	(void)argv;
	/* rte_cfgfile reports what it refuses to the DPDK log too: the messages are checked here */
	rte_log_set_global_level(RTE_LOG_EMERG);
	snprintf(dir, sizeof(dir), "%s/fuzz_floor-XXXXXX",
		 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	for (size_t i = 0; i < sizeof(companions) / sizeof(companions[0]); i++) {
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s", dir, companions[i].name);
		f = fopen(p, "w");
		CHECK(f != NULL);
		CHECK(fputs(companions[i].text, f) >= 0);
		CHECK(fclose(f) == 0);
	}
	snprintf(floor_path, sizeof(floor_path), "%s/floor.ini", dir);
	floor_fd = open(floor_path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(floor_fd >= 0);
	atexit(remove_dir);
	return 0;
}

static bool
is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* A path floord reads: set, NUL-terminated in its field, a readable regular file. */
static void
check_file(const char *p, bool may_be_empty, bool created)
{
	struct stat st;

	CHECK(memchr(p, '\0', FC_CFG_PATH_MAX) != NULL);
	if (p[0] == '\0') {
		CHECK(may_be_empty);
		return;
	}
	if (created && stat(p, &st) != 0)
		return; /* floord makes it */
	CHECK_MSG(stat(p, &st) == 0 && access(p, R_OK) == 0, "%s", p);
	CHECK_MSG(S_ISREG(st.st_mode) || (created && S_ISSOCK(st.st_mode)), "%s", p);
}

static void
check_lcores(const uint32_t *ids, uint32_t n)
{
	CHECK(n >= 1 && n <= FC_CFG_MAX_LCORES);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(ids[i] < RTE_MAX_LCORE);
		for (uint32_t j = 0; j < i; j++)
			CHECK_MSG(ids[i] != ids[j], "lcore %u twice", ids[i]);
	}
}

static void
check_profile(const struct fc_port_profile *p)
{
	size_t nl = strnlen(p->name, sizeof(p->name)), pl = strnlen(p->pmd, sizeof(p->pmd));
	uint64_t need = (uint64_t)p->rx_queues * p->rx_desc + (uint64_t)p->tx_queues * p->tx_desc;

	CHECK(nl >= 1 && nl < sizeof(p->name) && pl >= 1 && pl < sizeof(p->pmd));
	for (size_t i = 0; i < nl; i++)
		CHECK((unsigned char)p->name[i] >= 0x20 && p->name[i] != 0x7f);
	for (size_t i = 0; i < pl; i++)
		CHECK((p->pmd[i] >= 'a' && p->pmd[i] <= 'z') ||
		      (p->pmd[i] >= 'A' && p->pmd[i] <= 'Z') ||
		      (p->pmd[i] >= '0' && p->pmd[i] <= '9') || p->pmd[i] == '_');
	CHECK(p->rx_queues >= 1 && p->rx_queues <= RTE_MAX_QUEUES_PER_PORT);
	CHECK(p->tx_queues >= 1 && p->tx_queues <= RTE_MAX_QUEUES_PER_PORT);
	CHECK(is_pow2(p->rx_desc) && p->rx_desc >= 64 && p->rx_desc <= 16384);
	CHECK(is_pow2(p->tx_desc) && p->tx_desc >= 64 && p->tx_desc <= 16384);
	CHECK(p->mbufs == 0 || (p->mbufs >= need && p->mbufs <= (1u << 26)));
	CHECK(p->mbuf_cache <= RTE_MEMPOOL_CACHE_MAX_SIZE);
	CHECK(p->mtu == 0 || p->mtu >= 1400 + 8 + 20);
	CHECK(memchr(p->eal_args, '\0', sizeof(p->eal_args)) != NULL);
}

static void
check_config(const struct fc_config *c)
{
	uint32_t need = 0;

	CHECK(strcmp(c->path, floor_path) == 0);
	CHECK(c->width_mm >= 1 && c->width_mm <= 655350);
	CHECK(c->height_mm >= 1 && c->height_mm <= 655350);
	CHECK(c->cell_shift >= 6 && c->cell_shift <= 16);
	CHECK(c->tick_ms >= 1 && c->tick_ms <= 10000);
	CHECK(c->udp_port >= 1);
	CHECK(c->local_ip < 0xe0000000u);
	CHECK(c->clock_bound_ns <= 3600000ull * 1000000u && c->clock_bound_ns % 1000000u == 0);
	CHECK((c->group_ip >> 28) == 0xe);
	CHECK(c->group_port >= 1 && c->src_port >= 1 && c->ttl >= 1);
	CHECK(c->dead_band_mm <= 655350);
	CHECK(c->refresh_ms >= 1 && c->refresh_ms <= 60000);
	CHECK(c->stale_ms >= 1 && c->stale_ms <= 3600000);
	CHECK(c->snapshot_ms >= 1 && c->snapshot_ms <= 60000);
	check_file(c->keys_file, false, false);
	check_file(c->roster_file, false, false);
	check_file(c->profile_file, false, false);
	check_file(c->layout_file, true, false);
	check_file(c->journal_file, true, true);
	check_file(c->control_socket, true, true);
	check_lcores(c->rx_lcores, c->n_rx);
	check_lcores(c->owner_lcores, c->n_owners);
	CHECK(c->tx_lcore < RTE_MAX_LCORE);
	CHECK(fc_config_lcore_count(c) >= 1 && fc_config_lcore_count(c) <= FC_CFG_MAX_LCORES);
	CHECK(is_pow2(c->ring_size) && c->ring_size >= 64 && c->ring_size <= 1048576);
	CHECK(c->n_roster >= 1 && c->n_roster <= FC_CFG_MAX_PLAYERS && c->roster != NULL);
	for (uint32_t i = 0; i < c->n_roster; i++)
		if (c->roster[i].player + 1u > need)
			need = c->roster[i].player + 1u;
	CHECK(c->player_capacity >= need && c->player_capacity <= FC_CFG_MAX_PLAYERS);
	check_profile(&c->profile);
}

/* A refusal names the file it is about first: the floor file, or the roster or profile. */
static void
check_refused(const char *err, const char *const *files, size_t n_files, unsigned int nlines)
{
	size_t i;

	CHECK(memchr(err, '\0', FUZZ_ERR_LEN) != NULL);
	for (i = 0; i < n_files; i++) {
		size_t len = strlen(files[i]);

		if (len != 0 && strncmp(err, files[i], len) == 0 && err[len] == ':')
			break;
	}
	CHECK_MSG(i < n_files, "'%s' names none of the files", err);
	/* FILE:LINE for the INI syntax (the floor file's lines) and for roster lines */
	fuzz_check_refusal(err, FUZZ_ERR_LEN, files[i], err[strlen(files[i]) + 1] != ' ', 1,
			   i == 0 ? nlines : UINT32_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_config *cfg = malloc(sizeof(*cfg));
	struct fc_port_profile *prof = malloc(sizeof(*prof));
	char *err = fuzz_err_buf();
	unsigned int nlines = fuzz_count_lines(data, size);
	int rc;

	CHECK(cfg != NULL && prof != NULL);
	fuzz_write_all(floor_fd, data, size);

	rc = fc_config_load(cfg, floor_path, err, FUZZ_ERR_LEN);
	if (rc == 0) {
		check_config(cfg);
		fc_config_free(cfg);
		CHECK(cfg->roster == NULL && cfg->n_roster == 0);
	} else {
		const char *files[] = { floor_path, cfg->roster_file, cfg->profile_file };

		CHECK(cfg->roster == NULL);
		CHECK_MSG(rc < 0, "rc %d: '%s'", rc, err);
		check_refused(err, files, sizeof(files) / sizeof(files[0]), nlines);
	}

	/* the same input as a drivers-cfg profile */
	memset(err, 'X', FUZZ_ERR_LEN);
	rc = fc_profile_load(prof, floor_path, err, FUZZ_ERR_LEN);
	if (rc == 0) {
		check_profile(prof);
	} else {
		const char *files[] = { floor_path };

		CHECK_MSG(rc < 0, "rc %d: '%s'", rc, err);
		check_refused(err, files, 1, nlines);
	}
	free(cfg);
	free(prof);
	free(err);
	return 0;
}
