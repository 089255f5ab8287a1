/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the harnesses of the operators' files (fuzz_layout.c, fuzz_roster.c, fuzz_keys.c,
 * fuzz_floor.c) share: the input as a file floord can open by its path, the checks every
 * refusal must pass, and line counting as getline() counts.
 *
 * The file is a memfd made once per process and rewritten for each input (no disk, no
 * unlink); its path /proc/self/fd/N opens it afresh at offset 0, as fopen() of any path does.
 * The floor file needs a directory of its own (its relative paths are taken from it):
 * fuzz_floor.c makes one.
 */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_check.h"

/* floord's error buffers are FC_CFG_ERR_MAX (512) bytes; this one is exact-size on the heap. */
#define FUZZ_ERR_LEN 512u

/* Writes all of p[0, n) at offset 0 of fd, which is then exactly n bytes long. */
static inline void
fuzz_write_all(int fd, const uint8_t *p, size_t n)
{
	size_t off = 0;

	CHECK(ftruncate(fd, 0) == 0);
	while (off < n) {
		ssize_t w = pwrite(fd, p + off, n - off, (off_t)off);

		CHECK(w > 0);
		off += (size_t)w;
	}
}

/* The path of a memfd holding data[0, size): the same memfd for every input of the process. */
static inline const char *
fuzz_memfd_path(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		CHECK(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	fuzz_write_all(fd, data, size);
	return path;
}

/* Lines of data[0, size) as getline() reads them: a last line without LF counts. */
static inline unsigned int
fuzz_count_lines(const uint8_t *data, size_t size)
{
	unsigned int n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size > 0 && data[size - 1] != '\n');
}

/*
 * A refusal: the error is NUL-terminated inside its buffer, non-empty and one line. If
 * want_line, it starts with "PATH:LINE: " and LINE is from lo to hi; else with "PATH: ". The
 * line is returned (0 without one).
 */
static inline unsigned int
fuzz_check_refusal(const char *err, size_t err_len, const char *path, bool want_line,
		   unsigned int lo, unsigned int hi)
{
	size_t plen = strlen(path);
	const char *p = err + plen;
	unsigned long line = 0;
	char *end;

	CHECK(memchr(err, '\0', err_len) != NULL);
	CHECK_MSG(err[0] != '\0', "empty error");
	CHECK_MSG(strchr(err, '\n') == NULL, "'%s'", err);
	CHECK_MSG(strncmp(err, path, plen) == 0 && *p == ':', "'%s' does not start with '%s:'", err,
		  path);
	if (!want_line) {
		CHECK_MSG(p[1] == ' ', "'%s'", err);
		return 0;
	}
	CHECK_MSG(p[1] >= '1' && p[1] <= '9', "'%s': no LINE after the path", err);
	line = strtoul(p + 1, &end, 10);
	CHECK_MSG(end[0] == ':' && end[1] == ' ' && end[2] != '\0', "'%s'", err);
	CHECK_MSG(line >= lo && line <= hi, "'%s': line %lu outside %u..%u", err, line, lo, hi);
	return (unsigned int)line;
}

/* A fresh error buffer of exactly FUZZ_ERR_LEN bytes, filled so that an unterminated one shows. */
static inline char *
fuzz_err_buf(void)
{
	char *err = malloc(FUZZ_ERR_LEN);

	CHECK(err != NULL);
	memset(err, 'X', FUZZ_ERR_LEN);
	return err;
}

/* A copy of data[0, size) with a NUL after it, for the parsers of C strings. */
static inline char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	CHECK(s != NULL);
	if (size != 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif /* FUZZ_FILE_H */
