/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configure-time probe of tests/fuzz/meson.build: links only if this clang has the libFuzzer
 * and sanitizer runtimes (Debian ships them apart from clang, in libclang-rt-*-dev). Without
 * them the fuzz suite is skipped at configure time instead of failing the build.
 */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
