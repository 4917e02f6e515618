/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Payload reader: a .livepatch file as Xen 4.17.7 reads it.
 *
 * xhp_payload_parse() checks what Xen checks at upload that can be checked
 * without the running hypervisor (ELF header, section table, the three
 * mandatory build-id notes, .livepatch.funcs v1/v2, the eight hook sections,
 * .modinfo, the "nothing to patch" rule) and extracts what the planner and
 * `info` need. It never trusts an offset, never crashes, and on failure
 * returns a negative errno (the one Xen would return where Xen has one) and
 * one line in err naming the section and the reason, e.g.
 *   ".livepatch.depends: note type 1, expected NT_GNU_BUILD_ID (3)".
 */
#ifndef XHP_PAYLOAD_H
#define XHP_PAYLOAD_H

#include "xhp.h"

/* Hook sections, in the order of this enum (bit i of hooks_present). */
enum xhp_hook {
	XHP_HOOK_LOAD,		/* .livepatch.hooks.load (array) */
	XHP_HOOK_UNLOAD,	/* .livepatch.hooks.unload (array) */
	XHP_HOOK_PREAPPLY,	/* single pointers from here on */
	XHP_HOOK_APPLY,
	XHP_HOOK_POSTAPPLY,
	XHP_HOOK_PREREVERT,
	XHP_HOOK_REVERT,
	XHP_HOOK_POSTREVERT,
	XHP_HOOK_COUNT
};
extern const char *const xhp_hook_section[XHP_HOOK_COUNT]; /* ".livepatch.hooks.load", ... */
extern const char *const xhp_hook_label[XHP_HOOK_COUNT];   /* "load", ... */
/* Pre/post hooks: their presence makes REPLACE impossible (-EOPNOTSUPP). */
#define XHP_HOOKS_VETOING ((1u << XHP_HOOK_PREAPPLY) | (1u << XHP_HOOK_POSTAPPLY) | \
			   (1u << XHP_HOOK_PREREVERT) | (1u << XHP_HOOK_POSTREVERT))

struct xhp_func {
	char *name;		/* old function's name (from the relocated pointer), or NULL */
	uint64_t new_addr;	/* as stored (0 in an ET_REL unless absolute) */
	uint64_t old_addr;
	bool has_new;		/* new_addr relocated or non-zero: jump patch, else NOP patch */
	char *new_sym;		/* symbol new_addr is relocated against, or NULL */
	uint32_t new_size;
	uint32_t old_size;
	uint8_t version;	/* 1 or 2 as found; only 2 is accepted by 4.17 */
	bool expect_enabled;
	uint8_t expect_len;	/* 0..31 */
	uint8_t expect_rsv;	/* must be 0 */
	uint8_t expect_data[31];
};

struct xhp_modinfo {
	char *key;		/* "version" in "version=3"; whole string when no '=' */
	char *value;		/* "3"; NULL when no '=' */
};

struct xhp_payload {
	struct xhp_build_id id;		/* .note.gnu.build-id */
	struct xhp_build_id depends;	/* .livepatch.depends */
	struct xhp_build_id xen_depends; /* .livepatch.xen_depends */

	size_t nfuncs;
	struct xhp_func *funcs;
	unsigned funcs_version;		/* 1 (64-byte entries) or 2 (104-byte) */

	unsigned hooks_present;		/* bit per enum xhp_hook: section exists */
	unsigned hooks_enabled;		/* bit per enum xhp_hook: a non-NULL pointer */

	size_t nmodinfo;
	struct xhp_modinfo *modinfo;
	uint8_t *modinfo_raw;		/* raw .modinfo bytes, as LIST returns them */
	size_t modinfo_raw_len;

	/* Reapply-after-revert is allowed only if the payload has no non-empty
	 * RW section other than .livepatch.funcs (Xen's safe_to_reapply). */
	bool safe_to_reapply;

	/* Global/local symbols defined in ALLOC sections that are not the target
	 * of any function's new_addr: Xen refuses a second payload that defines
	 * one of these (-EEXIST). */
	size_t nnew_syms;
	char **new_syms;
	/* Undefined symbols: Xen resolves them against its own symbol table. */
	size_t nundef_syms;
	char **undef_syms;

	size_t size;			/* file size in bytes */
};

/* Parse len bytes at buf. On success fills *p (free with xhp_payload_free).
 * On failure *p is left zeroed and err says why. */
int xhp_payload_parse(const void *buf, size_t len, struct xhp_payload *p,
		      struct xhp_err *err);

/* Read and parse a file (opened with xhp_open_regular: a FIFO or a device
 * never blocks it). Refuses files over 2 MiB (-EFBIG) and anything but a
 * regular file (-EISDIR, -ENXIO). If data/len are non-NULL the file bytes
 * are returned too (malloc'd, caller frees) for upload. */
int xhp_payload_load(const char *path, struct xhp_payload *p, void **data,
		     size_t *len, struct xhp_err *err);
/* The same for an installed payload, with its checks made on the opened
 * descriptor (never by path before opening): not a symbolic link (-ELOOP),
 * owned by root or the running user and not writable by group or others
 * (-EPERM). */
int xhp_payload_load_installed(const char *path, struct xhp_payload *p, void **data,
			       size_t *len, struct xhp_err *err);

void xhp_payload_free(struct xhp_payload *p);

/* The value of a .modinfo key, or NULL. */
const char *xhp_payload_modinfo(const struct xhp_payload *p, const char *key);

#endif
