/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals shared by the wire codec's files: loads and stores of wire structs at any address.
 *
 * The wire is little-endian and every supported floorcast target (x86_64, arm64) is too, so a
 * wire struct and its host struct are the same bytes and one memcpy is the whole conversion;
 * the compiler turns it into a couple of unaligned moves. A big-endian port would add the
 * byte swaps here and nowhere else.
 */
#ifndef FC_WIRE_PRIV_H
#define FC_WIRE_PRIV_H

#include <string.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	      "floorcast's wire codec assumes a little-endian host (see wire_priv.h)");

#define FC__LOAD(dst, src)  memcpy((dst), (src), sizeof(*(dst)))
#define FC__STORE(dst, src) memcpy((dst), (src), sizeof(*(src)))

#endif /* FC_WIRE_PRIV_H */
