/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-hotpatch: the small library behind the CLI.
 *
 * Conventions (see ../shared/DESIGN.md and README.md):
 *  - library functions return 0 / a count on success and a negative errno on
 *    failure; they never print. Where a failure needs words ("which section,
 *    why"), the caller passes a struct xhp_err that receives one line.
 *  - only the CLI (main.c, cmd-*.c) prints and chooses exit codes.
 */
#ifndef XHP_H
#define XHP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XHP_VERSION_STRING "0.1.0"

/* Exit codes of the xen-hotpatch CLI: stable, documented in README.md. */
enum {
	XHP_EXIT_OK = 0,
	XHP_EXIT_ERROR = 1,
	XHP_EXIT_BUSY = 2,	/* lock held / hypervisor busy past deadline: retry */
	XHP_EXIT_OUT_OF_SYNC = 3, /* status: installed != applied */
};

/* Xen limits (xen/include/public/sysctl.h, 4.17). */
#define XHP_NAME_MAX 127		/* XEN_LIVEPATCH_NAME_SIZE - 1 */
#define XHP_PAYLOAD_MAX_SIZE (2u << 20) /* LIVEPATCH_MAX_SIZE */
#define XHP_BUILD_ID_MAX 64		/* bytes; SHA-1 ids are 20 */

/* One line of explanation for a failure; empty when none. */
struct xhp_err {
	char msg[512];
};
void xhp_err_set(struct xhp_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- build-ids ---------------------------------------------------------- */
struct xhp_build_id {
	uint8_t len; /* 0 = absent */
	uint8_t b[XHP_BUILD_ID_MAX];
};
/* hex is 2*len+1 bytes at least; returns hex */
char *xhp_build_id_hex(const struct xhp_build_id *id, char *hex, size_t hexsz);
#define XHP_BUILD_ID_HEX_SIZE (2 * XHP_BUILD_ID_MAX + 1)
int xhp_build_id_from_hex(struct xhp_build_id *id, const char *hex);
bool xhp_build_id_eq(const struct xhp_build_id *a, const struct xhp_build_id *b);

/* ---- names -------------------------------------------------------------- */
/* A payload/file name: 1..XHP_NAME_MAX bytes of [A-Za-z0-9._-], not "." or
 * "..". Returns 0 or -EINVAL (too long: -ENAMETOOLONG). */
int xhp_name_check(const char *name);

#endif
