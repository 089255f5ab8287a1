/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every fuzz harness here shares: CHECK (a broken promise aborts, which libFuzzer reports
 * as a crash with the input saved) and consume(), which reads every byte of what a parser
 * handed out so that ASan sees a read past it and no load is optimised away.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__,     \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* As CHECK, with the refusal or the value that broke the promise printed too. */
#define CHECK_MSG(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: expectation failed: %s: ", __FILE__, __LINE__,     \
				#cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Written through a volatile so that no load of a parser's output can be optimised away. */
static volatile uint8_t sink;

/* Reads every byte of p[0, n). */
static inline void
consume(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc ^= b[i];
	sink ^= acc;
}

#endif /* FUZZ_CHECK_H */
