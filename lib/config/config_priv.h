/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals shared by the configuration's files: a table-driven reader of INI files on top of
 * rte_cfgfile (ini.c), used by the floor file (config.c) and the drivers-cfg profiles
 * (profile.c), and the one-line error messages of fc_config.h.
 *
 * Each file is described by a table of keys (section, name, kind, range, where the value goes);
 * the reader refuses what the table does not name, what it names twice, and values out of
 * range, and leaves defaults alone for keys the file does not give.
 */
#ifndef FC_CONFIG_PRIV_H
#define FC_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_cfgfile;

/*
 * Smallest MTU a profile may ask for: a downlink datagram (a UDP payload of at most 1400 bytes,
 * FC_WIRE_MAX_PAYLOAD in docs/protocol.md, never fragmented) plus its UDP and IPv4 headers.
 */
#define FC__CFG_MTU_MIN (1400u + 8u + 20u)

enum fc__ini_kind {
	FC__INI_UINT,     /* decimal, min..max (0 also if or_zero), into an integer of size bytes */
	FC__INI_MS_TO_NS, /* decimal milliseconds, min..max, stored as uint64_t nanoseconds */
	FC__INI_POW2,     /* a power of two, min..max, into an integer of size bytes */
	FC__INI_POW2_SHIFT, /* a power of two, min..max, stored as its log2 in a uint8_t */
	FC__INI_METRES,     /* decimal metres, at most 3 decimals, stored as uint32_t mm */
	FC__INI_IPV4,       /* dotted quad, unicast or 0.0.0.0, stored as uint32_t host order */
	FC__INI_IPV4_MCAST, /* dotted quad in 224.0.0.0/4, stored as uint32_t host order */
	FC__INI_LCORE,      /* one lcore id below RTE_MAX_LCORE, stored as uint32_t */
	FC__INI_LCORES,     /* 1..FC_CFG_MAX_LCORES ids, each once: uint32_t[], count at off_n */
	FC__INI_BOOL,       /* yes or no */
	FC__INI_NAME,       /* 1..size-1 characters, no control characters */
	FC__INI_IDENT,      /* 1..size-1 letters, digits or '_' */
	FC__INI_TEXT,       /* anything up to size-1 characters, may be empty */
	FC__INI_PATH,       /* a readable file; relative paths from the INI file's directory */
};

struct fc__ini_key {
	const char *section;
	const char *name;
	enum fc__ini_kind kind;
	bool required;
	bool or_zero; /* FC__INI_UINT: 0 is accepted besides min..max */
	bool create;  /* FC__INI_PATH: a file floord may create (its directory must exist) */
	size_t off;   /* where the value goes in the object */
	size_t size;  /* bytes of the integer, or capacity of the string */
	size_t off_n; /* FC__INI_LCORES: where the count goes (uint32_t) */
	uint64_t min; /* FC__INI_UINT, FC__INI_MS_TO_NS, FC__INI_POW2* */
	uint64_t max;
	const char *unit; /* named in the message, e.g. "ms" */
};

#define FC__INI_FIELD(type, f) .off = offsetof(type, f), .size = sizeof(((type *)0)->f)

/* One loaded INI file, for the checks its caller makes after the table's. */
struct fc__ini {
	const char *path; /* as given: messages name the file this way */
	struct rte_cfgfile *cf;
};

/*
 * Reads the INI file at path into obj as keys[0, n_keys) say. Returns 0 with ini->cf open
 * (close it with fc__ini_close()), or -errno with one line in err and nothing to close.
 */
int fc__ini_load(struct fc__ini *ini, const char *path, const struct fc__ini_key *keys,
		 size_t n_keys, void *obj, char *err, size_t err_len);

void fc__ini_close(struct fc__ini *ini);

/* The value the file gives to [section] key, or NULL if it gives none. */
const char *fc__ini_value(const struct fc__ini *ini, const char *section, const char *key);

/*
 * Writes "FILE: [section] key = 'VALUE': expected WHAT" to err, VALUE being the file's value or,
 * for a key the file does not give, dflt followed by " (default)". Returns rc.
 */
int fc__ini_fail(const struct fc__ini *ini, int rc, const char *section, const char *key,
		 const char *dflt, char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

/* snprintf into err (when err_len > 0) and return rc: the one exit of every error path. */
int fc__fail(char *err, size_t err_len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* FC_CONFIG_PRIV_H */
