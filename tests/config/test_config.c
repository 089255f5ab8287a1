/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration: every key's default, every refusal with the file, section, key and value
 * in its message, the INI syntax rte_cfgfile would let through, the roster, the drivers-cfg
 * profiles, and the shipped examples. No EAL: floord loads its files before rte_eal_init(),
 * and nothing here starts one.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_priv.h"
#include "fc_config.h"
#include "fc_gateways.h"
#include "fc_wire_types.h"

static_assert(FC__CFG_MTU_MIN == FC_WIRE_MAX_PAYLOAD + 8 + 20,
	      "the smallest MTU carries the largest downlink datagram");

#define HK "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static char dir[64];

/* dir/name, in one of a few rotating buffers so that a test can hold several. */
static const char *
in_dir(const char *name)
{
	static char buf[8][FC_CFG_PATH_MAX * 2];
	static unsigned int next;
	char *p = buf[next++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

static const char *
put(const char *name, const char *text)
{
	const char *p = in_dir(name);
	FILE *f = fopen(p, "w");

	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
	return p;
}

/* A temporary directory with a valid keys file, roster and profile for floor files to name. */
static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fc-cfg-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	put("keys.txt", "1 1 hmac-sha256-128 " HK "\n");
	put("roster.csv", "0x10,0,0,alice\n0x11,1,0,bob\n0x12,2,1\n");
	put("profile.ini", "[profile]\nname = test\npmd = net_ring\n");
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
teardown(void)
{
	if (dir[0] != '\0')
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

#define REQ_UPLINK "[uplink]\nkeys = keys.txt\n"
#define REQ_ROSTER "[roster]\nfile = roster.csv\n"
#define REQ_PORT   "[port]\nprofile = profile.ini\n"
#define REQUIRED   REQ_UPLINK REQ_ROSTER REQ_PORT

static int
load_text(struct fc_config *cfg, const char *text, char *err, size_t len)
{
	return fc_config_load(cfg, put("floor.ini", text), err, len);
}

/* A floor file with the required keys and [section] key = value added where it belongs. */
static const char *
floor_with(const char *section, const char *key, const char *value)
{
	static char text[1024];
	static const char *const req[][2] = {
		{ "uplink", "keys = keys.txt" },
		{ "roster", "file = roster.csv" },
		{ "port", "profile = profile.ini" },
	};
	size_t n = 0;
	bool placed = false;

	for (size_t i = 0; i < 3; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[%s]\n%s\n", req[i][0],
				      req[i][1]);
		if (strcmp(section, req[i][0]) == 0) {
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s = %s\n", key, value);
			placed = true;
		}
	}
	if (!placed)
		snprintf(text + n, sizeof(text) - n, "[%s]\n%s = %s\n", section, key, value);
	return text;
}

static void
assert_floor_refused(const char *text, int rc, const char *needle)
{
	struct fc_config cfg;
	char err[FC_CFG_ERR_MAX] = "";

	cr_assert_eq(load_text(&cfg, text, err, sizeof(err)), rc, "rc for:\n%s\ngot: %s", text,
		     err);
	cr_assert_not_null(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
	cr_assert_null(cfg.roster, "a failed load leaves nothing to free");
}

/* ---------------------------------------------------------------------------------------- */

TestSuite(floor_file, .init = setup, .fini = teardown);

Test(floor_file, absent_keys_take_the_documented_defaults)
{
	struct fc_config cfg;
	char err[FC_CFG_ERR_MAX] = "";

	cr_assert_eq(load_text(&cfg, REQUIRED, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.width_mm, 20000);
	cr_assert_eq(cfg.height_mm, 10000);
	cr_assert_eq(cfg.cell_shift, 8);
	cr_assert_eq(cfg.tick_ms, 50);
	cr_assert_eq(cfg.udp_port, 47474);
	cr_assert_eq(cfg.local_ip, 0);
	cr_assert_eq(cfg.clock_bound_ns, 2000000000ull);
	cr_assert_eq(cfg.group_ip, 0xefc00001u); /* 239.192.0.1 */
	cr_assert_eq(cfg.group_port, 47480);
	cr_assert_eq(cfg.src_port, 47481);
	cr_assert_eq(cfg.ttl, 1);
	cr_assert_eq(cfg.session_id, 0);
	cr_assert_eq(cfg.dead_band_mm, 50);
	cr_assert_eq(cfg.refresh_ms, 1000);
	cr_assert_eq(cfg.stale_ms, 2000);
	cr_assert_eq(cfg.snapshot_ms, 1000);
	cr_assert_eq(cfg.n_rx, 1);
	cr_assert_eq(cfg.rx_lcores[0], 0);
	cr_assert_eq(cfg.n_owners, 1);
	cr_assert_eq(cfg.owner_lcores[0], 0);
	cr_assert_eq(cfg.tx_lcore, 0);
	cr_assert_eq(cfg.ring_size, 4096);
	cr_assert_eq(fc_config_lcore_count(&cfg), 1);
	cr_assert_str_eq(cfg.path, in_dir("floor.ini"));
	cr_assert_str_eq(cfg.keys_file, in_dir("keys.txt"));
	cr_assert_str_eq(cfg.roster_file, in_dir("roster.csv"));
	cr_assert_str_eq(cfg.profile_file, in_dir("profile.ini"));
	cr_assert_str_eq(cfg.profile.pmd, "net_ring");
	cr_assert_eq(cfg.n_roster, 3);
	cr_assert_str_eq(cfg.roster[1].name, "bob");
	fc_config_free(&cfg);
	cr_assert_null(cfg.roster);
	fc_config_free(&cfg); /* twice is harmless */
}

Test(floor_file, every_key_is_stored_as_given)
{
	struct fc_config cfg;
	char err[FC_CFG_ERR_MAX] = "";
	const char *text = "[floor]\n"
			   "width_m = 12.5\n"
			   "height_m = 655.35\n"
			   "cell_mm = 64\n"
			   "tick_ms = 20\n"
			   "[uplink]\n"
			   "udp_port = 5000\n"
			   "local_ip = 198.18.0.1\n"
			   "clock_bound_ms = 0\n"
			   "keys = keys.txt\n"
			   "[downlink]\n"
			   "group = 239.255.0.7\n"
			   "port = 6000\n"
			   "src_port = 6001\n"
			   "ttl = 255\n"
			   "session_id = 4294967295\n"
			   "dead_band_mm = 0\n"
			   "refresh_ms = 500\n"
			   "stale_ms = 3000\n"
			   "snapshot_ms = 250\n"
			   "[roster]\n"
			   "file = roster.csv\n"
			   "[lcores]\n"
			   "rx = 1, 2,3\n"
			   "owners = 4,5\n"
			   "tx = 127\n"
			   "ring_size = 1048576\n"
			   "[port]\n"
			   "profile = profile.ini\n";

	cr_assert_eq(load_text(&cfg, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.width_mm, 12500);
	cr_assert_eq(cfg.height_mm, 655350);
	cr_assert_eq(cfg.cell_shift, 6);
	cr_assert_eq(cfg.tick_ms, 20);
	cr_assert_eq(cfg.udp_port, 5000);
	cr_assert_eq(cfg.local_ip, 0xc6120001u);
	cr_assert_eq(cfg.clock_bound_ns, 0);
	cr_assert_eq(cfg.group_ip, 0xefff0007u);
	cr_assert_eq(cfg.group_port, 6000);
	cr_assert_eq(cfg.src_port, 6001);
	cr_assert_eq(cfg.ttl, 255);
	cr_assert_eq(cfg.session_id, UINT32_MAX);
	cr_assert_eq(cfg.dead_band_mm, 0);
	cr_assert_eq(cfg.refresh_ms, 500);
	cr_assert_eq(cfg.stale_ms, 3000);
	cr_assert_eq(cfg.snapshot_ms, 250);
	cr_assert_eq(cfg.n_rx, 3);
	cr_assert_eq(cfg.rx_lcores[0], 1);
	cr_assert_eq(cfg.rx_lcores[1], 2);
	cr_assert_eq(cfg.rx_lcores[2], 3);
	cr_assert_eq(cfg.n_owners, 2);
	cr_assert_eq(cfg.owner_lcores[1], 5);
	cr_assert_eq(cfg.tx_lcore, 127);
	cr_assert_eq(cfg.ring_size, 1048576);
	cr_assert_eq(fc_config_lcore_count(&cfg), 6);
	fc_config_free(&cfg);
}

Test(floor_file, metres_and_cells_convert_exactly)
{
	static const struct {
		const char *metres;
		uint32_t mm;
	} m[] = { { "0.001", 1 },     { "1", 1000 },     { "20", 20000 },       { "20.5", 20500 },
		  { "20.05", 20050 }, { "7.125", 7125 }, { "0655.350", 655350 } };
	char err[FC_CFG_ERR_MAX] = "";
	struct fc_config cfg;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		cr_assert_eq(load_text(&cfg, floor_with("floor", "width_m", m[i].metres), err,
				       sizeof(err)),
			     0, "%s", err);
		cr_assert_eq(cfg.width_mm, m[i].mm, "%s m", m[i].metres);
		fc_config_free(&cfg);
	}
	for (unsigned int shift = 6; shift <= 16; shift++) {
		char v[16];

		snprintf(v, sizeof(v), "%u", 1u << shift);
		cr_assert_eq(load_text(&cfg, floor_with("floor", "cell_mm", v), err, sizeof(err)),
			     0, "%s", err);
		cr_assert_eq(cfg.cell_shift, shift);
		fc_config_free(&cfg);
	}
}

Test(floor_file, every_range_and_format_error_names_file_section_key_and_value)
{
	static const struct {
		const char *section, *key, *value, *expect;
	} bad[] = {
		{ "floor", "width_m", "0", "a length in metres from 0.001 to 655.35" },
		{ "floor", "width_m", "655.351", "a length in metres" },
		{ "floor", "width_m", "656", "a length in metres" },
		{ "floor", "width_m", "-1", "a length in metres" },
		{ "floor", "width_m", "20.1234",
		  "a length in metres from 0.001 to 655.35, at most 3 decimals" },
		{ "floor", "width_m", "20m", "a length in metres" },
		{ "floor", "width_m", "1e3", "a length in metres" },
		{ "floor", "width_m", ".5", "a length in metres" },
		{ "floor", "width_m", "20.", "a length in metres" },
		{ "floor", "width_m", "", "a length in metres" },
		{ "floor", "height_m", "0.0001", "a length in metres" },
		{ "floor", "cell_mm", "300", "a power of two from 64 to 65536 mm" },
		{ "floor", "cell_mm", "32", "a power of two from 64 to 65536" },
		{ "floor", "cell_mm", "131072", "a power of two from 64 to 65536" },
		{ "floor", "cell_mm", "0", "a power of two" },
		{ "floor", "tick_ms", "0", "a number from 1 to 10000 ms" },
		{ "floor", "tick_ms", "10001", "a number from 1 to 10000 ms" },
		{ "floor", "tick_ms", "5x", "a number from 1 to 10000" },
		{ "floor", "tick_ms", "+5", "a number from 1 to 10000" },
		{ "floor", "tick_ms", "99999999999999999999999", "a number from 1 to 10000" },
		{ "uplink", "udp_port", "0", "a number from 1 to 65535" },
		{ "uplink", "udp_port", "65536", "a number from 1 to 65535" },
		{ "uplink", "udp_port", "0x50", "a number from 1 to 65535" },
		{ "uplink", "local_ip", "239.1.1.1", "a unicast IPv4 address" },
		{ "uplink", "local_ip", "255.255.255.255", "a unicast IPv4 address" },
		{ "uplink", "local_ip", "10.0.0", "a unicast IPv4 address" },
		{ "uplink", "local_ip", "10.0.0.256", "a unicast IPv4 address" },
		{ "uplink", "local_ip", "localhost", "a unicast IPv4 address" },
		{ "uplink", "clock_bound_ms", "3600001", "a number from 0 to 3600000 ms" },
		{ "uplink", "clock_bound_ms", "-1", "a number from 0 to 3600000 ms" },
		{ "downlink", "group", "10.0.0.1", "an IPv4 multicast address" },
		{ "downlink", "group", "240.0.0.1", "an IPv4 multicast address" },
		{ "downlink", "group", "239.192.0", "an IPv4 multicast address" },
		{ "downlink", "port", "0", "a number from 1 to 65535" },
		{ "downlink", "src_port", "70000", "a number from 1 to 65535" },
		{ "downlink", "ttl", "0", "a number from 1 to 255" },
		{ "downlink", "ttl", "256", "a number from 1 to 255" },
		{ "downlink", "session_id", "4294967296", "a number from 0 to 4294967295" },
		{ "downlink", "dead_band_mm", "655351", "a number from 0 to 655350 mm" },
		{ "downlink", "refresh_ms", "0", "a number from 1 to 60000 ms" },
		{ "downlink", "stale_ms", "3600001", "a number from 1 to 3600000 ms" },
		{ "downlink", "snapshot_ms", "60001", "a number from 1 to 60000 ms" },
		{ "lcores", "rx", "", "a comma-separated list of 1 to 64 lcore ids from 0 to 127" },
		{ "lcores", "rx", "1,,2", "a comma-separated list" },
		{ "lcores", "rx", "1,", "a comma-separated list" },
		{ "lcores", "rx", "128", "a comma-separated list" },
		{ "lcores", "rx", "one", "a comma-separated list" },
		{ "lcores", "owners", "1-3", "a comma-separated list" },
		{ "lcores", "rx", "1,2,1", "each lcore once (lcore 1 is listed twice)" },
		{ "lcores", "owners", "3, 3", "each lcore once (lcore 3 is listed twice)" },
		{ "lcores", "tx", "128", "an lcore id from 0 to 127" },
		{ "lcores", "tx", "1,2", "an lcore id from 0 to 127" },
		{ "lcores", "ring_size", "4000", "a power of two from 64 to 1048576" },
		{ "lcores", "ring_size", "32", "a power of two from 64 to 1048576" },
		{ "lcores", "ring_size", "2097152", "a power of two from 64 to 1048576" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char needle[256];

		snprintf(needle, sizeof(needle), "/floor.ini: [%s] %s = '%s': expected %s",
			 bad[i].section, bad[i].key, bad[i].value, bad[i].expect);
		assert_floor_refused(floor_with(bad[i].section, bad[i].key, bad[i].value), -EINVAL,
				     needle);
	}
}

Test(floor_file, sixty_five_lcores_in_the_layout_are_refused)
{
	char text[2048], rx[512] = "", ow[512] = "";
	size_t a = 0, b = 0;

	/* 64 RX and 64 other owners: each list is legal, the layout of 128 lcores is not */
	for (unsigned int i = 0; i < 64; i++) {
		a += (size_t)snprintf(rx + a, sizeof(rx) - a, "%s%u", i ? "," : "", i);
		b += (size_t)snprintf(ow + b, sizeof(ow) - b, "%s%u", i ? "," : "", i + 64);
	}
	snprintf(text, sizeof(text), REQUIRED "[lcores]\nrx = %s\nowners = %s\n", rx, ow);
	assert_floor_refused(text, -EINVAL, "expected at most 64 distinct lcores");
	snprintf(text, sizeof(text), REQUIRED "[lcores]\nrx = %s\ntx = 64\n", rx);
	assert_floor_refused(text, -EINVAL,
			     "/floor.ini: [lcores] owners = '0' (default): expected at most 64 "
			     "distinct lcores in rx, owners and tx together");
	snprintf(text, sizeof(text), REQUIRED "[lcores]\nrx = %s,64\n", rx);
	assert_floor_refused(text, -EINVAL, "a comma-separated list of 1 to 64 lcore ids");
}

Test(floor_file, lcore_count_is_the_number_of_distinct_ids)
{
	struct fc_config c = { 0 };

	c.n_rx = 2;
	c.rx_lcores[0] = 1;
	c.rx_lcores[1] = 2;
	c.n_owners = 2;
	c.owner_lcores[0] = 2;
	c.owner_lcores[1] = 3;
	c.tx_lcore = 1;
	cr_assert_eq(fc_config_lcore_count(&c), 3);
	c.tx_lcore = 4;
	cr_assert_eq(fc_config_lcore_count(&c), 4);
	c.owner_lcores[0] = 1;
	c.owner_lcores[1] = 2;
	c.tx_lcore = 2;
	cr_assert_eq(fc_config_lcore_count(&c), 2);
	c.n_rx = 1;
	c.rx_lcores[0] = 7;
	c.n_owners = 1;
	c.owner_lcores[0] = 7;
	c.tx_lcore = 7;
	cr_assert_eq(fc_config_lcore_count(&c), 1);
}

Test(floor_file, game_layout_is_optional_and_resolved_relative)
{
	struct fc_config cfg;
	char err[FC_CFG_ERR_MAX] = "";

	put("clues.txt", "policy = distance\n1,100,100,20,10\n");
	cr_assert_eq(load_text(&cfg, floor_with("game", "layout", "clues.txt"), err, sizeof(err)),
		     0, "%s", err);
	cr_assert_not_null(strstr(cfg.layout_file, "/clues.txt"), "%s", cfg.layout_file);
	cr_assert_eq(cfg.layout_file[0], '/', "resolved against the floor file's directory");
	fc_config_free(&cfg);
	cr_assert_eq(load_text(&cfg, floor_with("floor", "tick_ms", "50"), err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(cfg.layout_file[0], '\0', "no layout: positions only");
	fc_config_free(&cfg);
}

Test(floor_file, unknown_keys_and_sections_are_refused)
{
	assert_floor_refused(REQUIRED "[floor]\nwidht_m = 20\n", -EINVAL,
			     "/floor.ini: [floor] widht_m = '20': unknown key; [floor] takes "
			     "width_m, height_m, cell_mm, tick_ms");
	assert_floor_refused(REQUIRED "[flor]\nwidth_m = 20\n", -EINVAL,
			     "/floor.ini: [flor]: unknown section; expected one of floor, uplink, "
			     "downlink, roster, game, control, lcores, port");
	assert_floor_refused(REQUIRED "[Floor]\n", -EINVAL, "[Floor]: unknown section");
	assert_floor_refused("[uplink]\nkeys = keys.txt\nkey = keys.txt\n" REQ_ROSTER REQ_PORT,
			     -EINVAL, "[uplink] key = 'keys.txt': unknown key");
	assert_floor_refused(REQUIRED "[eal]\nargs = x\n", -EINVAL, "[eal]: unknown section");
}

Test(floor_file, a_key_or_section_given_twice_is_refused)
{
	assert_floor_refused(REQUIRED "[floor]\ntick_ms = 50\ntick_ms = 40\n", -EINVAL,
			     "[floor] tick_ms = '40': expected once, already given as '50'");
	assert_floor_refused(REQUIRED "[floor]\ntick_ms = 50\n[floor]\nwidth_m = 5\n", -EINVAL,
			     "/floor.ini: [floor]: section given twice");
}

Test(floor_file, missing_required_keys_are_named)
{
	assert_floor_refused(REQ_ROSTER REQ_PORT, -EINVAL,
			     "/floor.ini: [uplink] keys: missing (required)");
	assert_floor_refused(REQ_UPLINK REQ_PORT, -EINVAL,
			     "/floor.ini: [roster] file: missing (required)");
	assert_floor_refused(REQ_UPLINK REQ_ROSTER "[port]\n", -EINVAL,
			     "/floor.ini: [port] profile: missing (required)");
	assert_floor_refused("", -EINVAL, "[uplink] keys: missing (required)");
}

Test(floor_file, relative_paths_are_resolved_against_the_floor_files_directory)
{
	struct fc_config cfg;
	char err[FC_CFG_ERR_MAX] = "", sub[FC_CFG_PATH_MAX];
	const char *abs_keys = in_dir("keys.txt");
	char text[1024];

	snprintf(sub, sizeof(sub), "%s/etc", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	put("etc/roster2.csv", "1,0,0\n");
	snprintf(text, sizeof(text),
		 "[uplink]\nkeys = %s\n[roster]\nfile = etc/roster2.csv\n"
		 "[port]\nprofile = ./etc/../profile.ini\n",
		 abs_keys);
	cr_assert_eq(load_text(&cfg, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.keys_file, abs_keys, "absolute paths are kept");
	cr_assert_str_eq(cfg.roster_file, in_dir("etc/roster2.csv"));
	cr_assert_str_eq(cfg.profile_file, in_dir("./etc/../profile.ini"));
	cr_assert_eq(cfg.n_roster, 1);
	fc_config_free(&cfg);

	/* from the floor file's directory, not the working directory */
	cr_assert_eq(chdir("/"), 0);
	put("etc/floor.ini", "[uplink]\nkeys = ../keys.txt\n[roster]\nfile = roster2.csv\n"
			     "[port]\nprofile = ../profile.ini\n");
	cr_assert_eq(fc_config_load(&cfg, in_dir("etc/floor.ini"), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.roster_file, in_dir("etc/roster2.csv"));
	fc_config_free(&cfg);

	/* a floor file named without a directory: paths stay relative to the same place */
	cr_assert_eq(chdir(sub), 0);
	cr_assert_eq(fc_config_load(&cfg, "floor.ini", err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.roster_file, "roster2.csv");
	cr_assert_str_eq(cfg.keys_file, "../keys.txt");
	fc_config_free(&cfg);
}

Test(floor_file, named_files_must_exist_and_be_readable)
{
	char long_name[300];

	assert_floor_refused("[uplink]\nkeys = nope.txt\n" REQ_ROSTER REQ_PORT, -ENOENT,
			     "[uplink] keys = 'nope.txt': expected a readable file (");
	assert_floor_refused("[uplink]\nkeys = nope.txt\n" REQ_ROSTER REQ_PORT, -ENOENT,
			     "/nope.txt: No such file or directory)");
	assert_floor_refused(REQ_UPLINK "[roster]\nfile = .\n" REQ_PORT, -EINVAL,
			     "[roster] file = '.': expected a readable file (");
	assert_floor_refused(REQ_UPLINK "[roster]\nfile = .\n" REQ_PORT, -EINVAL,
			     "not a regular file)");
	assert_floor_refused(REQ_UPLINK REQ_ROSTER "[port]\nprofile = \n", -EINVAL,
			     "[port] profile = '': expected a file name");
	memset(long_name, 'a', 250);
	strcpy(long_name + 250, ".ini");
	{
		char text[1024];

		snprintf(text, sizeof(text), REQ_UPLINK REQ_ROSTER "[port]\nprofile = %s\n",
			 long_name);
		assert_floor_refused(text, -ENAMETOOLONG,
				     "expected a path of at most 255 bytes once resolved against");
	}
	if (geteuid() != 0) { /* root reads anything: the mode test means nothing there */
		put("secret.txt", "x\n");
		cr_assert_eq(chmod(in_dir("secret.txt"), 0), 0);
		assert_floor_refused("[uplink]\nkeys = secret.txt\n" REQ_ROSTER REQ_PORT, -EACCES,
				     "Permission denied");
	}
}

Test(floor_file, errors_in_named_files_name_those_files)
{
	put("bad-roster.csv", "1,0,0\n2,0,1\n");
	assert_floor_refused(REQ_UPLINK "[roster]\nfile = bad-roster.csv\n" REQ_PORT, -EINVAL,
			     "/bad-roster.csv:2: player 0 already on line 1");
	put("bad.ini", "[profile]\nname = x\npmd = net_ring\n[queues]\nrx = 0\n");
	assert_floor_refused(REQ_UPLINK REQ_ROSTER "[port]\nprofile = bad.ini\n", -EINVAL,
			     "/bad.ini: [queues] rx = '0': expected a number from 1 to 1024");
	put("empty.csv", "# nobody yet\n");
	assert_floor_refused(REQ_UPLINK "[roster]\nfile = empty.csv\n" REQ_PORT, -EINVAL,
			     "/floor.ini: [roster] file = 'empty.csv': expected a roster of at "
			     "least one player");
}

Test(floor_file, a_missing_floor_file_is_enoent)
{
	struct fc_config cfg;
	char err[FC_CFG_ERR_MAX] = "";
	char long_path[400];

	cr_assert_eq(fc_config_load(&cfg, in_dir("none.ini"), err, sizeof(err)), -ENOENT);
	cr_assert_not_null(strstr(err, "/none.ini: cannot open: No such file or directory"), "%s",
			   err);
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	cr_assert_eq(fc_config_load(&cfg, long_path, err, sizeof(err)), -ENAMETOOLONG);
	cr_assert_eq(fc_config_load(&cfg, in_dir("none.ini"), NULL, 0), -ENOENT,
		     "no message buffer is fine");
}

/* ---------------------------------------------------------------------------------------- */

TestSuite(ini_syntax, .init = setup, .fini = teardown);

Test(ini_syntax, what_rte_cfgfile_would_skip_or_truncate_is_refused_with_its_line)
{
	char text[2048], big[400];

	assert_floor_refused(REQUIRED "[floor]\ntick_ms 40\n", -EINVAL,
			     "/floor.ini:8: expected '[section]' or 'key = value'");
	assert_floor_refused(REQUIRED "# a comment\n", -EINVAL,
			     "/floor.ini:7: comments start with ';', not '#'");
	assert_floor_refused(REQUIRED "[floor\n", -EINVAL,
			     "/floor.ini:7: expected ']' closing the section name");
	assert_floor_refused(REQUIRED "[floor] tick_ms = 5\n", -EINVAL,
			     "/floor.ini:7: expected nothing after ']'");
	assert_floor_refused(REQUIRED "[ ]\n", -EINVAL,
			     "/floor.ini:7: expected a section name of 1 to 63 characters");
	assert_floor_refused("tick_ms = 50\n" REQUIRED, -EINVAL,
			     "/floor.ini:1: 'key = value' before the first [section]");
	assert_floor_refused(REQUIRED "[floor]\n = 50\n", -EINVAL,
			     "/floor.ini:8: expected a key of 1 to 63 characters before '='");
	memset(big, 'k', 64);
	big[64] = '\0';
	snprintf(text, sizeof(text), REQUIRED "[floor]\n%s = 1\n", big);
	assert_floor_refused(text, -EINVAL, "/floor.ini:8: expected a key of 1 to 63");
	memset(big, 'v', 256);
	big[256] = '\0';
	snprintf(text, sizeof(text), REQUIRED "[floor]\nwidth_m = %s\n", big);
	assert_floor_refused(text, -EINVAL, "/floor.ini:8: value longer than 255 characters");
	memset(big, ' ', 323);
	big[323] = '\0';
	snprintf(text, sizeof(text), REQUIRED "[floor]%s\n", big);
	assert_floor_refused(text, -EINVAL, "/floor.ini:7: line longer than 322 bytes");
}

Test(ini_syntax, semicolon_comments_crlf_and_blank_lines_are_accepted)
{
	struct fc_config cfg;
	char err[FC_CFG_ERR_MAX] = "", text[512];

	snprintf(text, sizeof(text),
		 "; the floor of hall B\r\n"
		 "\r\n"
		 "  [ floor ]  ; trailing comment\r\n"
		 "\ttick_ms=40 ; ms\r\n"
		 "width_m =    30   \r\n"
		 "%s",
		 REQUIRED);
	cr_assert_eq(load_text(&cfg, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.tick_ms, 40);
	cr_assert_eq(cfg.width_mm, 30000);
	fc_config_free(&cfg);
}

Test(ini_syntax, a_backslash_semicolon_is_a_semicolon_in_a_value)
{
	struct fc_port_profile p;
	char err[FC_CFG_ERR_MAX] = "";
	const char *path = put("p.ini", "[profile]\nname = a\\;b\\;c\npmd = net_ring\n"
					"[eal]\nargs = --vdev=net_ring0 ; why\n");

	cr_assert_eq(fc_profile_load(&p, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(p.name, "a;b;c");
	cr_assert_str_eq(p.eal_args, "--vdev=net_ring0");
	/* rte_cfgfile would keep " ; comment" in the value */
	path = put("p.ini", "[profile]\nname = a\\;b ; comment\npmd = net_ring\n");
	cr_assert_eq(fc_profile_load(&p, path, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "/p.ini:2: a ';' comment cannot follow '\\;'"), "%s", err);
}

Test(ini_syntax, a_nul_byte_is_refused)
{
	struct fc_port_profile p;
	char err[FC_CFG_ERR_MAX] = "";
	const char *path = in_dir("nul.ini");
	FILE *f = fopen(path, "w");

	fwrite("[profile]\nna\0me = x\n", 1, 20, f);
	fclose(f);
	cr_assert_eq(fc_profile_load(&p, path, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "/nul.ini:2: NUL byte"), "%s", err);
}

/* ---------------------------------------------------------------------------------------- */

TestSuite(roster, .init = setup, .fini = teardown);

static void
assert_roster_refused(const char *text, int rc, const char *needle)
{
	struct fc_roster_entry *e = (void *)1;
	uint32_t n = 1;
	char err[FC_CFG_ERR_MAX] = "";
	const char *path = put("r.csv", text);

	cr_assert_eq(fc_roster_load(path, &e, &n, err, sizeof(err)), rc, "%s", err);
	cr_assert_null(e);
	cr_assert_eq(n, 0);
	cr_assert_not_null(strstr(err, path), "message names the file: %s", err);
	cr_assert_not_null(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
}

Test(roster, loads_tags_players_teams_and_names)
{
	struct fc_roster_entry *e;
	uint32_t n;
	char err[FC_CFG_ERR_MAX] = "";
	const char *path = put("r.csv", "tag_id,player,team,name\n"
					"# the red team\n"
					"\n"
					"0x0000A4C100000000, 0, 0, Ada\r\n"
					"  12345 ,1,0\n"
					"0xffffffffffffffff,65534,65534,abcdefghijklmnopqrstuvw\n"
					"18446744073709551614,7,3,  Grace Hopper  \n"
					"0XaB,8,3,\n");

	cr_assert_eq(fc_roster_load(path, &e, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 5);
	cr_assert_eq(e[0].tag_id, 0xa4c100000000ull);
	cr_assert_eq(e[0].player, 0);
	cr_assert_str_eq(e[0].name, "Ada");
	cr_assert_eq(e[1].tag_id, 12345);
	cr_assert_eq(e[1].player, 1);
	cr_assert_str_eq(e[1].name, "");
	cr_assert_eq(e[2].tag_id, UINT64_MAX);
	cr_assert_eq(e[2].player, 65534);
	cr_assert_eq(e[2].team, 65534);
	cr_assert_str_eq(e[2].name, "abcdefghijklmnopqrstuvw");
	cr_assert_eq(e[3].tag_id, UINT64_MAX - 1);
	cr_assert_str_eq(e[3].name, "Grace Hopper");
	cr_assert_eq(e[4].tag_id, 0xab);
	free(e);
}

Test(roster, an_empty_roster_loads_as_zero_entries)
{
	struct fc_roster_entry *e = (void *)1;
	uint32_t n = 1;
	char err[FC_CFG_ERR_MAX] = "";

	cr_assert_eq(fc_roster_load(put("r.csv", "tag_id,player,team\n# later\n\n"), &e, &n, err,
				    sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(n, 0);
	cr_assert_null(e);
}

Test(roster, duplicates_are_refused_with_both_lines)
{
	assert_roster_refused("1,0,0\n2,1,0\n# x\n0x1,2,0\n", -EINVAL,
			      ":4: tag_id 0x1 already on line 1");
	assert_roster_refused("5,0,0\n6,1,0\n7,2,0\n6,3,0\n5,4,0\n", -EINVAL,
			      ":4: tag_id 0x6 already on line 2");
	assert_roster_refused("1,0,0\n2,1,0\n3,1,1\n", -EINVAL, ":3: player 1 already on line 2");
}

Test(roster, bad_fields_are_refused_with_their_line)
{
	assert_roster_refused("1,0\n", -EINVAL, ":1: expected 'tag_id,player,team[,name]'");
	assert_roster_refused("\n1,0,0,a,b\n", -EINVAL, ":2: expected 'tag_id,player,team[,name]'");
	assert_roster_refused("0x10000000000000000,0,0\n", -EINVAL,
			      ":1: tag_id '0x10000000000000000': expected a number up to 64 bits");
	assert_roster_refused("18446744073709551616,0,0\n", -EINVAL, ":1: tag_id");
	assert_roster_refused("0x,0,0\n", -EINVAL, ":1: tag_id '0x'");
	assert_roster_refused("-1,0,0\n", -EINVAL, ":1: tag_id '-1'");
	assert_roster_refused(",0,0\n", -EINVAL, ":1: tag_id ''");
	assert_roster_refused("0xg1,0,0\n", -EINVAL, ":1: tag_id '0xg1'");
	assert_roster_refused("1,65535,0\n", -EINVAL,
			      ":1: player '65535': expected a number from 0 to 65534");
	assert_roster_refused("1,-1,0\n", -EINVAL, ":1: player '-1'");
	assert_roster_refused("1,1.5,0\n", -EINVAL, ":1: player '1.5'");
	assert_roster_refused("1,0x1,0\n", -EINVAL, ":1: player '0x1'");
	assert_roster_refused("1,0,65535\n", -EINVAL,
			      ":1: team '65535': expected a number from 0 to 65534");
	assert_roster_refused("1,0,99999999999\n", -EINVAL, ":1: team '99999999999'");
	assert_roster_refused(
		"1,0,0,abcdefghijklmnopqrstuvwx\n", -EINVAL,
		":1: name 'abcdefghijklmnopqrstuvwx': expected at most 23 characters");
	assert_roster_refused("1,0,0,\"Ada\"\n", -EINVAL, ":1: name '\"Ada\"'");
	assert_roster_refused("tag_id,player,team\ntag_id,player,team\n", -EINVAL,
			      ":2: tag_id 'tag_id'");
}

/* Found by tests/fuzz/fuzz_roster (regressions/roster/nul-byte-hides-the-rest-of-a-line). */
Test(roster, a_nul_byte_is_refused)
{
	static const char text[] = "1,0,0\n2,1,1\0,junk\n3,2,2\n";
	struct fc_roster_entry *e = (void *)1;
	uint32_t n = 1;
	char err[FC_CFG_ERR_MAX] = "";
	const char *path = in_dir("nul.csv");
	FILE *f = fopen(path, "w");

	/* the line would load as "2,1,1", what follows the NUL ignored unseen */
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
	fclose(f);
	cr_assert_eq(fc_roster_load(path, &e, &n, err, sizeof(err)), -EINVAL, "%s", err);
	cr_assert_null(e);
	cr_assert_eq(n, 0);
	cr_assert_not_null(strstr(err, "/nul.csv:2: NUL byte"), "%s", err);
}

Test(roster, capacity_defaults_to_the_highest_player_and_may_only_grow)
{
	struct fc_config cfg;
	char err[FC_CFG_ERR_MAX] = "";

	put("roster.csv", "1,0,0\n2,7,1\n");
	cr_assert_eq(fc_config_load(&cfg,
				    put("f.ini", "[uplink]\nkeys = keys.txt\n[roster]\n"
						 "file = roster.csv\n[port]\n"
						 "profile = profile.ini\n"),
				    err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(cfg.player_capacity, 8, "players 0 .. 7");
	fc_config_free(&cfg);
	cr_assert_eq(load_text(&cfg, floor_with("roster", "capacity", "400"), err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(cfg.player_capacity, 400);
	fc_config_free(&cfg);
	assert_floor_refused(floor_with("roster", "capacity", "7"), -EINVAL,
			     "[roster] capacity = '7': expected at least 8");
	assert_floor_refused(floor_with("roster", "capacity", "65536"), -EINVAL, "capacity");
}

Test(roster, a_commanded_entry_parses_as_a_line_of_the_file)
{
	struct fc_roster_entry e;
	char err[FC_CFG_ERR_MAX] = "";

	cr_assert_eq(fc_roster_parse_entry("roster add", "0xA4C1,12,3,Ada", &e, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(e.tag_id, 0xa4c1);
	cr_assert_eq(e.player, 12);
	cr_assert_eq(e.team, 3);
	cr_assert_str_eq(e.name, "Ada");
	cr_assert_eq(fc_roster_parse_entry("roster add", "7,65535,0", &e, err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "roster add: player '65535': expected a number from 0 to 65534");
	cr_assert_eq(fc_roster_parse_entry("roster add", "zz,1,0", &e, err, sizeof(err)), -EINVAL);
	cr_assert(strncmp(err, "roster add: tag_id 'zz'", 23) == 0, "%s", err);
}

Test(roster, an_added_entry_needs_a_free_tag_a_free_player_and_room)
{
	const struct fc_roster_entry r[] = { { .tag_id = 0x10, .player = 0, .team = 1 },
					     { .tag_id = 0x11, .player = 3, .team = 2 } };
	struct fc_roster_entry e = { .tag_id = 0x12, .player = 1, .team = 4 };
	char err[FC_CFG_ERR_MAX] = "";

	cr_assert_eq(fc_roster_check_add(r, 2, 4, &e, err, sizeof(err)), 0, "%s", err);
	e.tag_id = 0x11;
	cr_assert_eq(fc_roster_check_add(r, 2, 4, &e, err, sizeof(err)), -EEXIST);
	cr_assert_str_eq(err, "roster add: tag_id 0x11 is already player 3's");
	e.tag_id = 0x12;
	e.player = 3;
	cr_assert_eq(fc_roster_check_add(r, 2, 4, &e, err, sizeof(err)), -EEXIST);
	cr_assert_str_eq(err, "roster add: player 3 already wears tag_id 0x11");
	e.player = 4;
	cr_assert_eq(fc_roster_check_add(r, 2, 4, &e, err, sizeof(err)), -ERANGE);
	cr_assert(strstr(err, "below 4, the roster's capacity") != NULL, "%s", err);
	cr_assert_eq(fc_roster_find_tag(r, 2, 0x11), 1);
	cr_assert_eq(fc_roster_find_tag(r, 2, 0x12), -ENOENT);
}

Test(roster, more_than_65535_entries_are_refused)
{
	const char *path = in_dir("big.csv");
	struct fc_roster_entry *e;
	uint32_t n;
	char err[FC_CFG_ERR_MAX] = "";
	FILE *f = fopen(path, "w");

	for (uint32_t i = 0; i < FC_CFG_MAX_PLAYERS; i++)
		fprintf(f, "%u,%u,%u\n", i + 1000, i, i % 8);
	fclose(f);
	cr_assert_eq(fc_roster_load(path, &e, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, FC_CFG_MAX_PLAYERS);
	free(e);
	f = fopen(path, "a");
	fprintf(f, "1,0,0\n");
	fclose(f);
	cr_assert_eq(fc_roster_load(path, &e, &n, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, ":65536: more than 65535 entries"), "%s", err);
}

Test(roster, a_missing_file_is_enoent)
{
	struct fc_roster_entry *e;
	uint32_t n;
	char err[FC_CFG_ERR_MAX] = "";

	cr_assert_eq(fc_roster_load(in_dir("none.csv"), &e, &n, err, sizeof(err)), -ENOENT);
	cr_assert_not_null(strstr(err, "none.csv: cannot open"), "%s", err);
}

/* ---------------------------------------------------------------------------------------- */

TestSuite(profile, .init = setup, .fini = teardown);

#define PROFILE_HEAD "[profile]\nname = t\npmd = net_ring\n"

/* A profile with its required keys and [section] key = value. */
static const char *
profile_with(const char *section, const char *key, const char *value)
{
	static char text[1024];

	if (strcmp(section, "profile") == 0)
		snprintf(text, sizeof(text), PROFILE_HEAD "%s = %s\n", key, value);
	else
		snprintf(text, sizeof(text), PROFILE_HEAD "[%s]\n%s = %s\n", section, key, value);
	return text;
}

static void
assert_profile_refused(const char *text, int rc, const char *needle)
{
	struct fc_port_profile p;
	char err[FC_CFG_ERR_MAX] = "";
	const char *path = put("p.ini", text);

	cr_assert_eq(fc_profile_load(&p, path, err, sizeof(err)), rc, "%s\ngot: %s", text, err);
	cr_assert_not_null(strstr(err, path), "message names the file: %s", err);
	cr_assert_not_null(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
}

Test(profile, absent_keys_take_the_documented_defaults)
{
	struct fc_port_profile p;
	char err[FC_CFG_ERR_MAX] = "";

	cr_assert_eq(fc_profile_load(&p, put("p.ini", PROFILE_HEAD), err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_str_eq(p.name, "t");
	cr_assert_str_eq(p.pmd, "net_ring");
	cr_assert_eq(p.rx_queues, 1);
	cr_assert_eq(p.tx_queues, 1);
	cr_assert_eq(p.rx_desc, 1024);
	cr_assert_eq(p.tx_desc, 1024);
	cr_assert_eq(p.mbufs, 0);
	cr_assert_eq(p.mbuf_cache, 256);
	cr_assert(!p.rss);
	cr_assert(!p.rx_timestamp);
	cr_assert_eq(p.mtu, 0);
	cr_assert_str_eq(p.eal_args, "");
}

Test(profile, every_key_is_stored_as_given)
{
	struct fc_port_profile p;
	char err[FC_CFG_ERR_MAX] = "";
	const char *text = "[profile]\nname = ConnectX-6 Dx, 2 ports\npmd = mlx5_pci\n"
			   "[queues]\nrx = 1024\ntx = 2\nrx_desc = 16384\ntx_desc = 64\n"
			   "[mempool]\nmbufs = 67108864\ncache = 512\n"
			   "[offloads]\nrss = yes\nrx_timestamp = yes\n"
			   "[port]\nmtu = 9000\n"
			   "[eal]\nargs = -a 0000:3b:00.0,rxq_cqe_comp_en=1 --file-prefix=fc\n";

	cr_assert_eq(fc_profile_load(&p, put("p.ini", text), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(p.name, "ConnectX-6 Dx, 2 ports");
	cr_assert_str_eq(p.pmd, "mlx5_pci");
	cr_assert_eq(p.rx_queues, 1024);
	cr_assert_eq(p.tx_queues, 2);
	cr_assert_eq(p.rx_desc, 16384);
	cr_assert_eq(p.tx_desc, 64);
	cr_assert_eq(p.mbufs, 67108864);
	cr_assert_eq(p.mbuf_cache, 512);
	cr_assert(p.rss);
	cr_assert(p.rx_timestamp);
	cr_assert_eq(p.mtu, 9000);
	cr_assert_str_eq(p.eal_args, "-a 0000:3b:00.0,rxq_cqe_comp_en=1 --file-prefix=fc");
	cr_assert_eq(fc_profile_load(&p, put("p.ini", profile_with("port", "mtu", "0")), err,
				     sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(fc_profile_load(&p, put("p.ini", profile_with("port", "mtu", "1428")), err,
				     sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(p.mtu, 1428);
}

Test(profile, every_range_and_format_error_names_file_section_key_and_value)
{
	static const struct {
		const char *section, *key, *value, *expect;
	} bad[] = {
		{ "queues", "rx", "0", "a number from 1 to 1024" },
		{ "queues", "rx", "1025", "a number from 1 to 1024" },
		{ "queues", "tx", "0", "a number from 1 to 1024" },
		{ "queues", "rx_desc", "1000", "a power of two from 64 to 16384" },
		{ "queues", "rx_desc", "32", "a power of two from 64 to 16384" },
		{ "queues", "tx_desc", "32768", "a power of two from 64 to 16384" },
		{ "mempool", "mbufs", "67108865", "a number from 0 to 67108864" },
		{ "mempool", "cache", "513", "a number from 0 to 512" },
		{ "offloads", "rss", "true", "yes or no" },
		{ "offloads", "rx_timestamp", "1", "yes or no" },
		{ "offloads", "rss", "YES", "yes or no" },
		{ "port", "mtu", "1427", "0 or a number from 1428 to 65535" },
		{ "port", "mtu", "65536", "0 or a number from 1428 to 65535" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char needle[256];
		const char *text = profile_with(bad[i].section, bad[i].key, bad[i].value);

		snprintf(needle, sizeof(needle), "/p.ini: [%s] %s = '%s': expected %s",
			 bad[i].section, bad[i].key, bad[i].value, bad[i].expect);
		assert_profile_refused(text, -EINVAL, needle);
	}
	assert_profile_refused("[profile]\nname =\npmd = net_ring\n", -EINVAL,
			       "[profile] name = '': expected 1 to 63 printable characters");
	assert_profile_refused("[profile]\nname = a\tb\npmd = net_ring\n", -EINVAL,
			       "expected 1 to 63 printable characters");
	assert_profile_refused(
		"[profile]\nname = t\npmd = net pcap\n", -EINVAL,
		"[profile] pmd = 'net pcap': expected 1 to 31 letters, digits or '_'");
	assert_profile_refused("[profile]\nname = t\npmd = abcdefghijklmnopqrstuvwxyz012345\n",
			       -EINVAL, "expected 1 to 31 letters, digits or '_'");
}

Test(profile, required_unknown_and_repeated_keys_are_refused)
{
	assert_profile_refused("[profile]\nname = t\n", -EINVAL,
			       "[profile] pmd: missing (required)");
	assert_profile_refused("[profile]\npmd = net_ring\n", -EINVAL,
			       "[profile] name: missing (required)");
	assert_profile_refused(PROFILE_HEAD "[queues]\nrxq = 2\n", -EINVAL,
			       "[queues] rxq = '2': unknown key; [queues] takes rx, tx, rx_desc, "
			       "tx_desc");
	assert_profile_refused(PROFILE_HEAD "[offload]\nrss = yes\n", -EINVAL,
			       "[offload]: unknown section; expected one of profile, queues, "
			       "mempool, offloads, port, eal");
	assert_profile_refused(PROFILE_HEAD "[eal]\nargs = a\nargs = b\n", -EINVAL,
			       "[eal] args = 'b': expected once, already given as 'a'");
}

Test(profile, an_explicit_mempool_must_cover_the_descriptors)
{
	struct fc_port_profile p;
	char err[FC_CFG_ERR_MAX] = "";
	const char *q = "[queues]\nrx = 2\nrx_desc = 1024\ntx = 1\ntx_desc = 512\n";
	char text[512];

	snprintf(text, sizeof(text), PROFILE_HEAD "%s[mempool]\nmbufs = 2559\n", q);
	assert_profile_refused(text, -EINVAL,
			       "[mempool] mbufs = '2559': expected 0 (computed) or at least rx x "
			       "rx_desc + tx x tx_desc = 2560");
	snprintf(text, sizeof(text), PROFILE_HEAD "%s[mempool]\nmbufs = 2560\n", q);
	cr_assert_eq(fc_profile_load(&p, put("p.ini", text), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.mbufs, 2560);
}

/* ---------------------------------------------------------------------------------------- */

TestSuite(drivers_cfg);

Test(drivers_cfg, every_shipped_profile_loads)
{
	static const char *const expected[] = { "net_pcap.ini", "net_ring.ini", "net_af_packet.ini",
						"net_af_xdp.ini", "mlx5.ini" };
	bool found[sizeof(expected) / sizeof(expected[0])] = { false };
	DIR *d = opendir(FC_DRIVERS_CFG_DIR);
	struct dirent *de;
	unsigned int n = 0;

	cr_assert_not_null(d, "%s: %s", FC_DRIVERS_CFG_DIR, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		struct fc_port_profile p;
		char path[512], err[FC_CFG_ERR_MAX] = "";

		if (len < 4 || strcmp(de->d_name + len - 4, ".ini") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", FC_DRIVERS_CFG_DIR, de->d_name);
		cr_assert_eq(fc_profile_load(&p, path, err, sizeof(err)), 0, "%s", err);
		cr_assert_neq(p.eal_args[0], '\0', "%s: a profile says how to start the EAL", path);
		for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
			found[i] = found[i] || strcmp(de->d_name, expected[i]) == 0;
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 5);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		cr_assert(found[i], "drivers-cfg/%s is missing", expected[i]);
}

Test(drivers_cfg, the_replay_profile_is_single_queue_with_capture_timestamps)
{
	struct fc_port_profile p;
	char err[FC_CFG_ERR_MAX] = "";

	cr_assert_eq(fc_profile_load(&p, FC_DRIVERS_CFG_DIR "/net_pcap.ini", err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(p.pmd, "net_pcap");
	cr_assert(p.rx_timestamp);
	cr_assert(!p.rss);
	cr_assert_eq(p.rx_queues, 1);
	cr_assert_not_null(strstr(p.eal_args, "--no-huge -m 512 --no-pci "
					      "--vdev=net_pcap0,rx_pcap=IN,tx_pcap=OUT"));
}

/* ---------------------------------------------------------------------------------------- */

TestSuite(examples);

Test(examples, the_demo_floor_file_loads_with_its_400_players)
{
	struct fc_config cfg;
	char err[FC_CFG_ERR_MAX] = "";
	uint32_t per_team[8] = { 0 };

	cr_assert_eq(fc_config_load(&cfg, FC_EXAMPLES_DIR "/floor-demo.ini", err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(cfg.n_roster, 400);
	for (uint32_t i = 0; i < cfg.n_roster; i++) {
		const struct fc_roster_entry *e = &cfg.roster[i];

		cr_assert_eq(e->player, i);
		cr_assert_eq(e->tag_id, 0x0000a4c100000000ull + e->player);
		cr_assert_lt(e->team, 8);
		per_team[e->team]++;
	}
	for (unsigned int t = 0; t < 8; t++)
		cr_assert_eq(per_team[t], 50);
	cr_assert_str_eq(cfg.profile.pmd, "net_pcap");
	cr_assert_eq(cfg.width_mm, 20000);
	cr_assert_eq(cfg.height_mm, 10000);
	fc_config_free(&cfg);
}

Test(examples, the_demo_keys_file_loads_eight_gateways)
{
	struct fc_gw_table *t = fc_gw_table_create();
	char err[FC_CFG_ERR_MAX] = "";

	cr_assert_eq(fc_gw_table_load_keys(t, FC_EXAMPLES_DIR "/keys-demo.txt", err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(t->n, 8);
	for (uint32_t id = 1; id <= 8; id++) {
		const struct fc_gateway *g = fc_gw_table_lookup(t, id);

		cr_assert_not_null(g);
		cr_assert_eq(g->keys[0].alg, FC_MAC_HMAC_SHA256_128);
	}
	fc_gw_table_free(t);
}
