/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture file: classic pcap through libpcap, Ethernet link type. Microsecond timestamps
 * by default, because DPDK's net_pcap reads captures at that precision; the generator keeps
 * every time a whole microsecond, so nothing is lost either way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "gen_priv.h"

/* Frames are about 1.4 kB; a large stdio buffer saves a write(2) every three frames. */
#define PCAP_BUF (1u << 20)

struct fc_gen_pcap {
	pcap_t *pcap;
	pcap_dumper_t *dump;
	FILE *file;
	char *buf;
	bool nanosecond;
};

struct fc_gen_pcap *
fc_gen_pcap_open(const char *path, bool nanosecond, char *err, size_t err_len)
{
	struct fc_gen_pcap *pc = calloc(1, sizeof(*pc));
	int rc = ENOMEM;

	if (pc == NULL)
		goto fail;
	pc->nanosecond = nanosecond;
	pc->buf = malloc(PCAP_BUF);
	pc->pcap = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
							nanosecond ? PCAP_TSTAMP_PRECISION_NANO
								   : PCAP_TSTAMP_PRECISION_MICRO);
	if (pc->buf == NULL || pc->pcap == NULL)
		goto fail;
	pc->file = fopen(path, "wb");
	if (pc->file == NULL) {
		rc = errno;
		snprintf(err, err_len, "%s: %s", path, strerror(rc));
		goto fail;
	}
	setvbuf(pc->file, pc->buf, _IOFBF, PCAP_BUF);
	pc->dump = pcap_dump_fopen(pc->pcap, pc->file);
	if (pc->dump == NULL) {
		rc = EIO;
		snprintf(err, err_len, "%s: %s", path, pcap_geterr(pc->pcap));
		fclose(pc->file);
		goto fail;
	}
	return pc;
fail:
	if (rc == ENOMEM)
		snprintf(err, err_len, "out of memory");
	if (pc != NULL) {
		if (pc->pcap != NULL)
			pcap_close(pc->pcap);
		free(pc->buf);
		free(pc);
	}
	errno = rc;
	return NULL;
}

int
fc_gen_pcap_sink(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len)
{
	struct fc_gen_pcap *pc = ctx;
	struct pcap_pkthdr h = {
		.caplen = len,
		.len = len,
	};

	h.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
	/* a nanosecond pcap carries ns in tv_usec */
	h.ts.tv_usec =
		(suseconds_t)(pc->nanosecond ? ts_ns % 1000000000u : ts_ns % 1000000000u / 1000u);
	pcap_dump((u_char *)pc->dump, &h, frame);
	return ferror(pc->file) ? -EIO : 0;
}

int
fc_gen_pcap_close(struct fc_gen_pcap *pc)
{
	int rc = 0;

	if (pc == NULL)
		return 0;
	if (pcap_dump_flush(pc->dump) != 0 || ferror(pc->file))
		rc = -EIO;
	pcap_dump_close(pc->dump); /* closes the file */
	pcap_close(pc->pcap);
	free(pc->buf);
	free(pc);
	return rc;
}
