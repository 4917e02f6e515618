/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Payload reader: a .livepatch file as Xen 4.17.7 reads it.
 *
 * xhp_payload_parse() checks what Xen checks at upload that can be checked
 * without the running hypervisor (ELF header, section table, symbols,
 * relocations, the three mandatory build-id notes, .livepatch.funcs, the
 * eight hook sections, alternatives, .modinfo, the "nothing to patch" rule)
 * and extracts what the planner and `info` need. It never trusts an offset,
 * never crashes, and on failure returns a negative errno (the one Xen would
 * return where Xen has one) and one line in err naming the section and the
 * reason, e.g.
 *   ".livepatch.depends: note type 1, expected NT_GNU_BUILD_ID (3)".
 *
 * xhp_payload_upload_check() is the same with the running hypervisor's side
 * supplied by the caller (struct xhp_hv_view: the simulated hypervisor), so
 * that every check of Xen 4.17.7's livepatch_upload() runs in Xen's order
 * and the first failing one gives its errno.
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
	uint64_t old_at;	/* where Xen patches: old_addr, or the resolved name
				 * (upload check); 0 when not known */
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
 * On failure *p is left zeroed and err says why. Names Xen resolves at upload
 * (undefined symbols, functions with old_addr 0) are assumed to resolve; new
 * symbols and the build-ids are not compared with anything loaded. */
int xhp_payload_parse(const void *buf, size_t len, struct xhp_payload *p,
		      struct xhp_err *err);

/* What the running hypervisor contributes to an upload's checks. */
struct xhp_hv_view {
	const struct xhp_build_id *xen_id;	/* the running Xen's build-id */
	void *ctx;
	/* Xen's symbol table, then the new symbols of every loaded payload
	 * (symbols_lookup_by_name, livepatch_symbols_lookup_by_name): 0 with
	 * *addr (0 when not known) and *where ("the hypervisor" or the
	 * payload's name), or -ENOENT. */
	int (*lookup)(void *ctx, const char *name, uint64_t *addr,
		      const char **where);
	/* Xen's own symbols are not known: a name lookup() does not find is
	 * taken to resolve (the reader's default without a view). */
	bool xen_symbols_unknown;
	/* The name of a loaded payload with this build-id, or NULL. */
	const char *(*id_loaded)(void *ctx, const struct xhp_build_id *id);
	/* Optional: n bytes of the hypervisor's code at addr (ENDBR64 before
	 * a patched function needs a longer old_size). 0 or -errno. */
	int (*read_code)(void *ctx, uint64_t addr, uint8_t *buf, size_t n);
};

/* xhp_payload_parse() plus the checks that need the hypervisor, in Xen's
 * order: undefined symbols and old functions resolve (-ENOENT), room for
 * the jump after an ENDBR64, jump distance (-EOVERFLOW), duplicate build-id
 * (-EEXIST), xen_depends is Xen's build-id (-EINVAL), duplicate new symbols
 * (-EEXIST). hv NULL is xhp_payload_parse(). */
int xhp_payload_upload_check(const void *buf, size_t len,
			     const struct xhp_hv_view *hv,
			     struct xhp_payload *p, struct xhp_err *err);

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
